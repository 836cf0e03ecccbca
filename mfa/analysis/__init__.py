"""Analysis layer: indicators, reconciliation, sampling, ensembles and Sobol sensitivity.

Works on any model (:mod:`mfa.core.model`); never imports :mod:`mfa.models` or :mod:`mfa.cli`.
"""

from mfa.core.lazy import lazy_getattr

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


__getattr__ = lazy_getattr("mfa.analysis", _API)
