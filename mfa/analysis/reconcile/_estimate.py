"""The reconciliation of flow and stock-change data against a process system."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import xarray as xr

from mfa.analysis.reconcile._inputs import _balance_matrix, _read, _variables
from mfa.analysis.reconcile._reporting import _negative_message
from mfa.analysis.reconcile._result import Reconciliation, _dataset
from mfa.analysis.reconcile._solver import _TOL, _solve_all
from mfa.core.errors import MfaError
from mfa.core.system import ProcessSystem


# ------------------------------------------------------------------------------ public API
def reconcile(
    system: ProcessSystem,
    measured: Mapping[str, xr.DataArray] | xr.Dataset,
    sd: Mapping[str, xr.DataArray] | xr.Dataset,
    *,
    alpha: float = 0.05,
    negative: Literal["raise", "report"] = "raise",
    covariance: bool = False,
) -> Reconciliation:
    """Reconcile measured flows and stock changes with the mass balances of ``system``.

    Weighted least squares under the balance constraints, unknowns eliminated by matrix
    projection (Crowe et al. 1983), as in STAN (Cencic & Rechberger 2008); see the module
    docstring for the equations, the classification of variables and the tests.

    Parameters
    ----------
    system : ProcessSystem
        The processes, flows and stocks. Every flow and stock must have the same dims:
        ``time`` plus batch dims reconciled cell by cell. Processes balanced over the sum of
        regions (``pooled``) are not supported when ``region`` is a batch dim.
    measured : mapping of str to DataArray, or Dataset
        Measured values by flow name, and by stock name for the **change** of that stock per
        year. Dims exactly those of the flow or stock (any order), with identical
        coordinates across variables; units of mass per time (attrs ``"units"`` or pint data,
        e.g. ``kt/yr``); converted to t/yr. NaN = not measured in that year/cell. Flows must
        not be negative; stock changes may be.
    sd : mapping of str to DataArray, or Dataset
        Standard deviation of each measurement, same names, dims and coordinates as
        ``measured``: in mass per time, or dimensionless (e.g. ``"%"`` or ``"1"``) for an sd
        relative to the measured value. Must be finite and > 0 wherever a value is measured.
    alpha : float
        Significance level of the chi-square test and the measurement test, in (0, 1).
    negative : {"raise", "report"}
        What to do when a reconciled flow is negative (flows are never negative in a mass
        balance, so it points at a gross error or a wrong system): raise
        :class:`~mfa.core.errors.MfaError` naming the flows, years and the worst conflicting
        measurement, or mark it in ``negative`` and in the report.
    covariance : bool
        Also return the full covariance of the estimates per cell (n x n per year and cell).

    Returns
    -------
    Reconciliation

    Raises
    ------
    MfaError
        Names that are not flows or stocks of ``system``, a measured variable without sd (or
        sd without value), sd not finite or <= 0 where a value is measured, negative or
        infinite measured flows, dims or coordinates that do not match, unsupported systems,
        negative reconciled flows with ``negative="raise"``.
    mfa.core.units.UnitError
        Missing units, or units that are not a mass per time (sd: nor dimensionless).

    Examples
    --------
    One process, inflow measured 100 +- 5 t/yr, outflow 90 +- 5 t/yr: each moves by 5.

    >>> import xarray as xr
    >>> from mfa.core.system import Flow, ProcessSystem
    >>> system = ProcessSystem("one", ["p"], [Flow("a", "environment", "p"),
    ...                                       Flow("b", "p", "environment")])
    >>> def da(v):
    ...     return xr.DataArray([v], coords={"time": [2020]}, dims="time",
    ...                         attrs={"units": "t/yr"})
    >>> r = reconcile(system, {"a": da(100.0), "b": da(90.0)}, {"a": da(5.0), "b": da(5.0)})
    >>> [round(float(r.flows[f][0]), 6) for f in ("a", "b")]
    [95.0, 95.0]
    """
    if not isinstance(system, ProcessSystem):
        raise MfaError(f"reconcile: expected a ProcessSystem, got {type(system).__name__}")
    if not 0.0 < float(alpha) < 1.0:
        raise MfaError(f"reconcile: alpha must be in (0, 1), got {alpha!r}")
    if negative not in ("raise", "report"):
        raise MfaError(f"reconcile: negative must be 'raise' or 'report', got {negative!r}")
    names, kinds, dims = _variables(system)
    a_matrix = _balance_matrix(system, names)
    y, s, coords = _read(system, names, kinds, dims, measured, sd)
    shape = tuple(len(c) for c in coords.values())
    est, out_sd, nres, red, obs, cov, chi2, dof = _solve_all(a_matrix, y, s, covariance)

    from scipy.special import chdtrc, ndtri  # lazily: scipy.special costs 0.1 s to import

    with np.errstate(invalid="ignore", divide="ignore"):
        p_value = np.where(dof > 0, chdtrc(np.maximum(dof, 1), chi2), np.nan)
        n_red = red.sum(axis=1)
        beta = 1.0 - (1.0 - alpha) ** (1.0 / np.maximum(n_red, 1))
        critical = np.where(n_red > 0, ndtri(1.0 - beta / 2.0), np.nan)
        suspect = np.abs(nres) > critical[:, None]
    consistent = ~(p_value < alpha)
    flows = np.array([k == "flow" for k in kinds])
    scale = np.nanmax(np.abs(np.where(np.isfinite(est), est, 0.0)), axis=1, keepdims=True)
    neg = (est < -_TOL * np.maximum(scale, 1.0)) & flows[None, :]

    per_var = {
        "measured": y, "measured_sd": s, "estimate": est, "sd": out_sd,
        "normalised_residual": nres, "redundant": red, "observable": obs,
        "suspect": suspect, "negative": neg,
    }
    per_cell = {"chi2": chi2, "dof": dof, "p_value": p_value, "consistent": consistent,
                "critical_value": critical}
    ds = _dataset(system, names, kinds, dims, coords, shape, per_var, per_cell, alpha)
    cov_da = None
    if covariance:
        cov = np.moveaxis(cov.reshape(*shape, len(names), len(names)), (-2, -1), (0, 1))
        cov_da = xr.DataArray(
            cov, dims=("variable", "variable_2", *dims),
            coords={"variable": names, "variable_2": names, **coords},
            attrs={"units": "t^2/yr^2",
                   "long_name": "covariance of the reconciled estimates"},
        )
    result = Reconciliation(ds, cov_da, float(alpha), system.name)
    if negative == "raise" and neg.any():
        raise MfaError(_negative_message(result))
    return result
