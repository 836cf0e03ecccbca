"""Analysis layer: indicators, reconciliation, sampling, ensembles and Sobol sensitivity.

Works on any model (:mod:`mfa.core.model`); never imports :mod:`mfa.models` or :mod:`mfa.cli`.
"""

from importlib import import_module as _import_module
from typing import Any as _Any

#: Public name -> module (imported on first use: ``import mfa.analysis`` stays cheap).
_API = {
    "run_scenario": "mfa.analysis.run",
    "prepare": "mfa.analysis.run",
    "monte_carlo": "mfa.analysis.uncertainty",
    "ensemble": "mfa.analysis.uncertainty",
    "sensitivity": "mfa.analysis.uncertainty",
    "sobol_indices": "mfa.analysis.uncertainty",
    "summarize": "mfa.analysis.uncertainty",
    "sample_values": "mfa.analysis.uncertainty",
    "draw_quantiles": "mfa.analysis.uncertainty",
    "uncertain_parameters": "mfa.analysis.uncertainty",
    "reconcile": "mfa.analysis.reconcile",
}
__all__ = sorted(_API)


def __getattr__(name: str) -> _Any:
    if name not in _API:
        raise AttributeError(f"module 'mfa.analysis' has no attribute {name!r}")
    return getattr(_import_module(_API[name]), name)
