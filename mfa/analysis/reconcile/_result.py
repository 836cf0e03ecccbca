"""The result of a reconciliation: estimates, their uncertainty and the consistency tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from mfa.analysis.reconcile._inputs import _META, FLOW_UNIT
from mfa.analysis.reconcile._reporting import _report
from mfa.core.system import ProcessSystem
from mfa.core.units import unit_string

_PER_VARIABLE = (
    "measured", "measured_sd", "estimate", "sd", "normalised_residual",
    "redundant", "observable", "suspect", "negative",
)
_PER_CELL = ("chi2", "dof", "p_value", "consistent", "critical_value")


def _field(name: str, doc: str) -> property:
    return property(lambda self: self.dataset[name], doc=doc)


# ------------------------------------------------------------------------------ result
@dataclass(frozen=True, eq=False)
class Reconciliation:
    """Result of :func:`reconcile`.

    Attributes
    ----------
    dataset : xarray.Dataset
        Everything, on dims ``(variable, time, *batch)`` for per-variable results and
        ``(time, *batch)`` for per-cell results. ``variable`` lists every flow then every
        stock (its change per year), with a ``kind`` coordinate (``"flow"`` or
        ``"stock_change"``). Values in t/yr. Per variable: ``measured`` and ``measured_sd``
        (the input, NaN where not measured), ``estimate`` and ``sd`` (best estimate and its
        standard deviation; NaN where unobservable), ``normalised_residual`` (NaN where not
        measured or not redundant), ``redundant``, ``observable``, ``suspect`` and
        ``negative`` (bool). Per cell: ``chi2``, ``dof``, ``p_value`` (NaN when ``dof`` is
        0), ``consistent`` (``p_value >= alpha``, True when nothing can be tested) and
        ``critical_value`` of the measurement test.
    covariance : xarray.DataArray or None
        Covariance of all estimates per cell, dims ``(variable, variable_2, time, *batch)``
        [(t/yr)^2], NaN for unobservable variables; only with ``covariance=True``.
    alpha : float
        Significance level of the tests.
    system : str
        Name of the reconciled system.
    """

    dataset: xr.Dataset
    covariance: xr.DataArray | None
    alpha: float
    system: str

    measured = _field("measured", "Measured values [t/yr], NaN where not measured.")
    measured_sd = _field("measured_sd", "Standard deviations of the measurements [t/yr].")
    estimate = _field("estimate", "Best estimates [t/yr] of every variable; NaN if unobservable.")
    sd = _field("sd", "Standard deviations of the estimates [t/yr]; NaN if unobservable.")
    normalised_residual = _field(
        "normalised_residual",
        "(measured - estimate) / sd of the adjustment [1]; NaN if not measured or not redundant.",
    )
    redundant = _field("redundant", "True for measurements the balances can check and adjust.")
    observable = _field("observable", "True where the value is determined (measured or computed).")
    suspect = _field("suspect", "True where abs(normalised residual) > critical value.")
    negative = _field("negative", "True for reconciled flows below zero.")
    chi2 = _field("chi2", "Chi-square statistic per year and cell [1].")
    dof = _field("dof", "Degrees of freedom (independent balance checks) per year and cell.")
    p_value = _field("p_value", "P-value of the chi-square test; NaN when dof is 0.")
    consistent = _field("consistent", "False where the chi-square test rejects at alpha.")
    critical_value = _field(
        "critical_value", "Critical abs(normalised residual) of the measurement test, per cell."
    )

    def _of_kind(self, kind: str) -> xr.Dataset:
        est = self.dataset["estimate"]
        out = xr.Dataset()
        for name in est["variable"].values[est["kind"].values == kind]:
            one = est.sel(variable=name)
            attrs = {"units": unit_string(FLOW_UNIT)}
            for key in ("source", "target", "process"):
                if str(one[key].values):
                    attrs[key] = str(one[key].values)
            out[str(name)] = one.drop_vars(["variable", *_META]).assign_attrs(attrs)
        return out

    @property
    def flows(self) -> xr.Dataset:
        """Best estimate of every flow [t/yr]: one variable per flow, NaN where unobservable."""
        return self._of_kind("flow")

    @property
    def stock_changes(self) -> xr.Dataset:
        """Best estimate of every stock change [t/yr]: one variable per stock."""
        return self._of_kind("stock_change")

    def to_dataframe(self) -> Any:
        """All per-variable results as a pandas DataFrame, one row per variable and cell.

        Index ``(variable, time, *batch)``; columns ``measured``, ``measured_sd``,
        ``estimate``, ``sd`` (t/yr), ``normalised_residual``, ``redundant``, ``observable``,
        ``suspect``, ``negative``, and the variable's ``kind``, ``source``, ``target`` (flows)
        and ``process`` (stock changes).
        """
        return self.dataset[list(_PER_VARIABLE)].to_dataframe()

    def report(self, top: int = 10) -> str:
        """A plain-text report: the chi-square test, the measurements that conflict most,
        unobservable unknowns, measurements that cannot be adjusted, negative flows.

        Parameters
        ----------
        top : int
            Number of measurements listed, by decreasing ``|normalised residual|``.
        """
        return _report(self, top)


# ------------------------------------------------------------------------------ output
def _dataset(system: ProcessSystem, names: list[str], kinds: list[str], dims: tuple[str, ...],
             coords: dict[str, np.ndarray], shape: tuple[int, ...], per_var: dict,
             per_cell: dict, alpha: float) -> xr.Dataset:
    unit = unit_string(FLOW_UNIT)
    long = {
        "measured": "measured value", "measured_sd": "standard deviation of the measurement",
        "estimate": "reconciled best estimate", "sd": "standard deviation of the estimate",
        "normalised_residual": "(measured - estimate) / sd of the adjustment",
        "redundant": "measurement determined also by the balances and other measurements",
        "observable": "value determined (measured, or computed from the balances)",
        "suspect": "|normalised residual| above the critical value (measurement test)",
        "negative": "reconciled flow below zero",
        "chi2": "chi-square statistic of the balance residuals",
        "dof": "degrees of freedom (independent balance checks)",
        "p_value": "probability of a chi-square at least this large without gross errors",
        "consistent": f"chi-square test not rejected at alpha = {alpha:g}",
        "critical_value": "critical |normalised residual| (Sidak-corrected)",
    }
    unitful = {"measured", "measured_sd", "estimate", "sd"}
    src = {f.name: (f.source, f.target, "") for f in system.flows}
    src.update({st.name: ("", "", st.process) for st in system.stocks})
    meta = {"kind": kinds, "source": [src[n][0] for n in names],
            "target": [src[n][1] for n in names], "process": [src[n][2] for n in names]}
    all_coords = {"variable": names, **{k: ("variable", v) for k, v in meta.items()}, **coords}
    data = {}
    for key, arr in per_var.items():
        arr = np.moveaxis(arr.reshape(*shape, len(names)), -1, 0)
        attrs = {"long_name": long[key], **({"units": unit} if key in unitful else {})}
        data[key] = xr.DataArray(arr, dims=("variable", *dims), attrs=attrs)
    for key, arr in per_cell.items():
        data[key] = xr.DataArray(arr.reshape(shape), dims=dims, attrs={"long_name": long[key]})
    return xr.Dataset(data, coords=all_coords, attrs={"system": system.name, "alpha": alpha})
