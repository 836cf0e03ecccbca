"""nd-mfa: a unit-aware dynamic material-flow analysis framework, with a model of neodymium.

The package is layered (``mfa.core`` <- ``mfa.data`` <- ``mfa.analysis`` / ``mfa.io`` /
``mfa.plot`` <- ``mfa.models`` <- ``mfa.cli``); this namespace gathers the public API, imported
on first use (PEP 562), so ``import mfa`` is cheap::

    import mfa

    ds = mfa.run_scenario("neodymium", "baseline")          # any registered model
    mc = mfa.monte_carlo("neodymium", n=1000, seed=1)        # quantiles of every result
    stock = mfa.inflow_driven(inflow, mfa.Normal(mean=12, sd=4))
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mfa.core.lazy import lazy_getattr

try:
    __version__ = version("nd-mfa")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

#: Public name -> module that defines it.
_API: dict[str, str] = {
    # core: units, lifetimes, stock models, process systems, models
    "ureg": "mfa.core.units",
    "Quantity": "mfa.core.units",
    "define_units": "mfa.core.units",
    "Fixed": "mfa.core.lifetimes",
    "Normal": "mfa.core.lifetimes",
    "LogNormal": "mfa.core.lifetimes",
    "Weibull": "mfa.core.lifetimes",
    "Gamma": "mfa.core.lifetimes",
    "Exponential": "mfa.core.lifetimes",
    "make_lifetime": "mfa.core.lifetimes",
    "inflow_driven": "mfa.core.stocks",
    "stock_driven": "mfa.core.stocks",
    "Flow": "mfa.core.system",
    "Stock": "mfa.core.system",
    "ProcessSystem": "mfa.core.system",
    "Model": "mfa.core.model",
    "MfaError": "mfa.core.errors",
    "ParameterError": "mfa.core.errors",
    "ScenarioError": "mfa.core.errors",
    "MassBalanceError": "mfa.core.errors",
    "UnitError": "mfa.core.errors",
    "MfaWarning": "mfa.core.errors",
    # data
    "load_parameters": "mfa.data.params",
    "ParameterSet": "mfa.data.params",
    "load_scenario": "mfa.data.scenarios",
    "apply_scenario": "mfa.data.scenarios",
    "list_scenarios": "mfa.data.scenarios",
    # analysis
    "run_scenario": "mfa.analysis.run",
    "reconcile": "mfa.analysis.reconcile",
    # io
    "write_netcdf": "mfa.io",
    "read_results": "mfa.io",
    "to_iamc": "mfa.io",
}
#: Aliases: public name -> (module, name there).
_ALIASES: dict[str, tuple[str, str]] = {
    "get_model": ("mfa.core.model", "get"),
    "register_model": ("mfa.core.model", "register"),
    "available_models": ("mfa.core.model", "available"),
}

__all__ = ["__version__", *_API, *_ALIASES]


_lazy = lazy_getattr("mfa", {**_API, **_ALIASES})


def __getattr__(name: str) -> Any:
    value = _lazy(name)
    globals()[name] = value  # cache: the next access does not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
