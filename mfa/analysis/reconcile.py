"""Data reconciliation: best estimates of flows from conflicting measurements.

Historical data on a material cycle come from many sources (production statistics, trade
data, surveys, expert estimates) and rarely satisfy the mass balance of every process.
:func:`reconcile` finds the values that satisfy every balance while moving each measurement
as little as its uncertainty allows: weighted least squares under linear equality
constraints, as in the MFA software STAN (Cencic & Rechberger 2008) and in process data
reconciliation (Narasimhan & Jordache 2000, ch. 3). It also says which unknowns the data
determine, whether the data agree with the balances (chi-square test) and which
measurements conflict most (normalised residuals).

The problem, for one year and one cell of the other dims (e.g. one region)
--------------------------------------------------------------------------
``x`` holds every flow and every stock change of a :class:`~mfa.core.system.ProcessSystem`
[t/yr]. Each balanced process ``p`` gives one linear constraint, the balance of
:mod:`mfa.core.system`; boundary processes give none::

    (A x)_p = sum(flows into p) - sum(flows out of p) - sum(stock changes in p) = 0

Some variables are measured: values ``y`` with standard deviations ``sd``, taken as
independent normal errors, ``S = diag(sd**2)``. The others, ``z``, are unknown. With
``A x = A_y y + A_z z``, the estimate minimises ``(y - y_hat)' S^-1 (y - y_hat)`` subject to
``A_y y_hat + A_z z_hat = 0``. The unknowns are eliminated by projection (Crowe et al. 1983):
the rows of ``P`` span the left null space of ``A_z`` (``P A_z = 0``, from an SVD), and
``B`` is an orthonormal basis of the rows of ``P A_y``: the constraints on the measurements
alone. Then::

    y_hat   = y - S B' (B S B')^-1 B y            reconciled measurements
    V       = S B' (B S B')^-1 B S                covariance of the adjustments y - y_hat
    cov     = S - V                               covariance of y_hat
    z_hat   = -pinv(A_z) A_y y_hat                unknowns, covariance G cov G', G = pinv(A_z) A_y
    chi2    = (B y)' (B S B')^-1 (B y),  dof = rank(B),  p = P(chi2_dof > chi2)
    r_i     = (y_i - y_hat_i) / sqrt(V_ii)        normalised residual (measurement test)

Classification (Narasimhan & Jordache 2000, ch. 3): an unknown is *observable* when the
balances and the measurements determine it (it is orthogonal to the null space of ``A_z``);
unobservable unknowns are reported as NaN, never invented. A measurement is *redundant* when
the balances and the other measurements also determine it (its column of ``B`` is not zero);
only redundant measurements are adjusted. A measurement that is not redundant is kept as
given, with its own standard deviation. ``dof`` is the number of independent checks.

Consistency and gross errors
----------------------------
Without gross errors ``chi2`` follows a chi-square distribution with ``dof`` degrees of
freedom: the data are flagged inconsistent when ``p < alpha`` (the global test). Each
normalised residual is standard normal; a measurement is flagged *suspect* when ``|r_i|``
exceeds the two-sided critical value at the Sidak-corrected level
``1 - (1 - alpha)**(1/n)`` over the ``n`` redundant measurements of the cell (the measurement
test with the correction of Mah & Tamhane 1982, as in Narasimhan & Jordache 2000, ch. 7).
The measurement with the largest ``|r_i|`` is the most likely single gross error. Measurements
that enter the balances only together (e.g. two flows in series through one process) have
equal ``|r_i|``: the data cannot tell them apart.

What STAN does, and what this module does not
---------------------------------------------
STAN (www.stan2web.net) reconciles the flows, stocks and transfer coefficients of one period
by the same weighted least squares; with concentrations and transfer coefficients the
constraints are nonlinear and STAN iterates on a linearisation (Cencic 2016). Here the
constraints are the linear mass balances only, solved exactly in one step; measurement
errors are independent (no covariances between measurements) and normal, and values are not
bounded below: a reconciled flow below zero is reported (or raised), never clipped.

Data layout
-----------
Every flow and stock of the system must have the same dims: ``time`` plus *batch dims*
(e.g. ``region``, ``sample``) whose cells are reconciled independently. A stock's entry is
its **change per year** [mass/time], not its level. Years (and cells) with a NaN
measurement treat that variable as unmeasured. All cells with the same measurement pattern
are solved in one batched numpy call; there is no loop over years.

References
----------
- Cencic, O., Rechberger, H. (2008). Material flow analysis with software STAN.
  Journal of Environmental Engineering and Management 18(1), 3-7.
- Cencic, O. (2016). Nonlinear data reconciliation in material flow analysis with software
  STAN. Sustainable Environment Research 26(6), 291-298.
- Crowe, C. M., Garcia Campos, Y. A., Hrymak, A. (1983). Reconciliation of process flow
  rates by matrix projection. Part I: linear case. AIChE Journal 29(6), 881-888.
- Mah, R. S. H., Tamhane, A. C. (1982). Detection of gross errors in process data.
  AIChE Journal 28(5), 828-830.
- Narasimhan, S., Jordache, C. (2000). Data Reconciliation and Gross Error Detection: An
  Intelligent Use of Process Data. Gulf Publishing, Houston.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pint
import xarray as xr

from mfa.core.errors import MfaError
from mfa.core.system import ProcessSystem
from mfa.core.units import parse_unit, to_canonical, unit_string

__all__ = ["Reconciliation", "reconcile"]

#: Unit of every reconciled value (flows and stock changes).
FLOW_UNIT = "t/yr"
_TOL = 1e-9  # rank and zero tolerance on orthonormal bases of 0/±1 incidence matrices
_PER_VARIABLE = (
    "measured", "measured_sd", "estimate", "sd", "normalised_residual",
    "redundant", "observable", "suspect", "negative",
)
_PER_CELL = ("chi2", "dof", "p_value", "consistent", "critical_value")
_META = ("kind", "source", "target", "process")  # coordinates along `variable`


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


# ------------------------------------------------------------------------------ structure
def _variables(system: ProcessSystem) -> tuple[list[str], list[str], tuple[str, ...]]:
    """Names and kinds of all variables (flows, then stock changes) and their common dims."""
    decl = [(f.name, "flow", f.dims) for f in system.flows]
    decl += [(s.name, "stock", s.dims) for s in system.stocks]
    ref_name, _, ref_dims = decl[0]
    for name, kind, dims in decl[1:]:
        if set(dims) != set(ref_dims):
            raise MfaError(
                f"reconcile: system {system.name!r}: {kind} {name!r} has dims {dims}, flow "
                f"{ref_name!r} has {ref_dims}; reconciliation needs every flow and stock on "
                f"the same dims (time plus dims reconciled cell by cell, e.g. region)"
            )
    pooled = [p for p in system.processes if not system.regional[p]]
    if "region" in ref_dims and pooled:
        raise MfaError(
            f"reconcile: system {system.name!r}: process(es) {', '.join(map(repr, pooled))} "
            f"are balanced over the sum of all regions (pooled); reconciliation balances each "
            f"region on its own and does not support pooled processes"
        )
    dims = ("time", *(d for d in ref_dims if d != "time"))
    clash = sorted(set(dims) & {"variable", "variable_2", *_META})
    if clash:
        raise MfaError(
            f"reconcile: system {system.name!r}: dim {clash[0]!r} is used by the results; "
            f"rename it"
        )
    kinds = ["flow" if k == "flow" else "stock_change" for _, k, _ in decl]
    return [n for n, _, _ in decl], kinds, dims


def _balance_matrix(system: ProcessSystem, names: list[str]) -> np.ndarray:
    """(process, variable) matrix A of the balances: inputs - outputs - stock changes."""
    col = {n: j for j, n in enumerate(names)}
    a = np.zeros((len(system.processes), len(names)))
    row = {p: i for i, p in enumerate(system.processes)}
    for f in system.flows:
        if f.target in row:
            a[row[f.target], col[f.name]] += 1.0
        if f.source in row:
            a[row[f.source], col[f.name]] -= 1.0
    for s in system.stocks:
        if s.process in row:
            a[row[s.process], col[s.name]] -= 1.0
    return a


# ------------------------------------------------------------------------------ input
def _items(obj: Any, what: str) -> dict[str, xr.DataArray]:
    if isinstance(obj, xr.Dataset):
        return {str(k): obj[k] for k in obj.data_vars}
    if not isinstance(obj, Mapping):
        raise MfaError(
            f"reconcile: {what} must be a Dataset or a mapping of name -> DataArray, "
            f"got {type(obj).__name__}"
        )
    for k, v in obj.items():
        if not isinstance(v, xr.DataArray):
            raise MfaError(
                f"reconcile: {what} {k!r} must be an xarray.DataArray, got {type(v).__name__}"
            )
    return {str(k): v for k, v in obj.items()}


def _is_relative(da: xr.DataArray, name: str) -> bool:
    """True for an sd given in a dimensionless unit (relative to the measured value)."""
    unit = da.data.units if isinstance(da.data, pint.Quantity) else da.attrs.get("units")
    return unit is not None and parse_unit(unit, name).dimensionless


def _read(
    system: ProcessSystem, names: list[str], kinds: list[str], dims: tuple[str, ...],
    measured: Any, sd: Any,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Measured values and sds as (cell, variable) arrays in t/yr, and the cell coordinates."""
    values, sds = _items(measured, "measured"), _items(sd, "sd")
    label = {n: "flow" if k == "flow" else "stock change" for n, k in zip(names, kinds,
                                                                            strict=True)}
    for what, keys in (("measured", values), ("sd", sds)):
        unknown = [k for k in keys if k not in label]
        if unknown:
            raise MfaError(
                f"reconcile: {what} {unknown[0]!r} is not a flow or stock of system "
                f"{system.name!r}; flows and stocks: {', '.join(names)}"
            )
    if not values:
        raise MfaError("reconcile: no measured values given")
    for a, b, msg in ((values, sds, "has no sd"), (sds, values, "has an sd but no value")):
        missing = [k for k in a if k not in b]
        if missing:
            raise MfaError(f"reconcile: {label[missing[0]]} {missing[0]!r} {msg}")
    ref_key, ref = None, None
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key in values:
        name = f"{label[key]} {key!r}"
        pair = []
        for what, da in (("measured", values[key]), ("sd", sds[key])):
            if set(da.dims) != set(dims) or da.ndim != len(dims):
                raise MfaError(
                    f"reconcile: {what} {name} has dims {tuple(da.dims)}, expected {dims} "
                    f"(the dims of the system's flows and stocks)"
                )
            if "time" not in da.coords:
                raise MfaError(f"reconcile: {what} {name}: dim 'time' has no coordinate")
            if ref is None:
                ref_key, ref = f"{what} {name}", da
            _same_coords(da, ref, f"{what} {name}", ref_key, dims)
            if what == "sd" and _is_relative(da, f"sd of {name}"):
                rel = to_canonical(da, "1", name=f"sd of {name}").transpose(*dims).values
                pair.append(rel * np.abs(pair[0]))
                continue
            hint = " (the change per year, not the stock level)" if "stock" in name else ""
            da = to_canonical(da, FLOW_UNIT, name=f"{what} {name}{hint}")
            pair.append(da.transpose(*dims).values.astype(float))
        arrays[key] = (pair[0], pair[1])
    coords = {d: (np.asarray(ref[d].values) if d in ref.coords else np.arange(ref.sizes[d]))
              for d in dims}
    n_cells = int(np.prod([len(c) for c in coords.values()]))
    y = np.full((n_cells, len(names)), np.nan)
    s = np.full((n_cells, len(names)), np.nan)
    for key, (val, dev) in arrays.items():
        j = names.index(key)
        val, dev = val.reshape(-1), dev.reshape(-1)
        _check_values(key, label[key], val, dev, coords)
        y[:, j] = val
        s[:, j] = np.where(np.isnan(val), np.nan, dev)
    return y, s, coords


def _same_coords(da: xr.DataArray, ref: xr.DataArray, name: str, ref_name: str,
                 dims: tuple[str, ...]) -> None:
    for d in dims:
        same = da.sizes[d] == ref.sizes[d]
        if same and d in da.coords and d in ref.coords:
            same = np.array_equal(np.asarray(da[d].values), np.asarray(ref[d].values))
        if not same:
            raise MfaError(
                f"reconcile: {name}: coordinate {d!r} differs from that of {ref_name} "
                f"({_labels(da, d)} vs {_labels(ref, d)}); reindex to the same labels, with "
                f"NaN where a value is not measured"
            )


def _labels(da: xr.DataArray, d: str) -> str:
    if d not in da.coords:
        return f"size {da.sizes[d]}"
    v = [_str(x) for x in np.asarray(da[d].values)]
    return "[" + ", ".join(v[:4]) + (", ..." if len(v) > 4 else "") + f"] (size {len(v)})"


def _check_values(key: str, kind: str, val: np.ndarray, dev: np.ndarray,
                  coords: dict[str, np.ndarray]) -> None:
    measured = ~np.isnan(val)
    checks = [
        (np.isinf(val), "measured value is infinite (use NaN for 'not measured')"),
        (measured & ~np.isfinite(dev), "has no sd (NaN or infinite) where a value is measured"),
        (measured & np.isfinite(dev) & (dev <= 0), "sd must be > 0"),
    ]
    if kind == "flow":
        checks.append((measured & (val < 0), "measured flow is negative"))
    for bad, msg in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            more = f" (and {int(bad.sum()) - 1} other cell(s))" if bad.sum() > 1 else ""
            raise MfaError(
                f"reconcile: {kind} {key!r}: {msg}: {_where(i, coords)}, value {val[i]:.6g} "
                f"t/yr, sd {dev[i]:.6g} t/yr{more}"
            )


# ------------------------------------------------------------------------------ algebra
def _structure(a: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Projection and classification for one measurement pattern (Crowe et al. 1983).

    Returns ``B`` (dof, n_measured) with orthonormal rows spanning the constraints on the
    measurements alone, ``G = pinv(A_z) A_y`` (n_unknown, n_measured), and the boolean
    ``redundant`` (per measured) and ``observable`` (per unknown).
    """
    a_y, a_z = a[:, mask], a[:, ~mask]
    m, n_u = a_z.shape
    if n_u and m:
        u, sv, vt = np.linalg.svd(a_z)
        rank = int((sv > _TOL * sv[0]).sum()) if sv.size and sv[0] > 0 else 0
        projected = u[:, rank:].T @ a_y
        observable = np.linalg.norm(vt[rank:], axis=0) < 1e-8
        g = np.linalg.pinv(a_z, rcond=_TOL) @ a_y
    else:
        projected = a_y
        observable = np.zeros(n_u, dtype=bool)
        g = np.zeros((n_u, a_y.shape[1]))
    if projected.size:
        _, sv, vt = np.linalg.svd(projected)
        dof = int((sv > _TOL * max(sv[0], 1.0)).sum()) if sv.size else 0
        b = vt[:dof]
    else:
        b = np.zeros((0, a_y.shape[1]))
    redundant = np.linalg.norm(b, axis=0) > 1e-8
    b[:, ~redundant] = 0.0  # exactly: measurements that are not redundant stay as given
    return {"b": b, "g": g, "redundant": redundant, "observable": observable}


def _solve(st: dict[str, np.ndarray], y: np.ndarray, var: np.ndarray, want_cov: bool) -> dict:
    """Reconcile cells sharing one pattern: ``y``, ``var`` are (cell, measured) arrays."""
    b, g = st["b"], st["g"]
    c, n_m = y.shape
    k = b.shape[0]
    if k:
        bs = b[None, :, :] * var[:, None, :]                      # B S      (c, k, m)
        w = np.einsum("kn,cln->ckl", b, bs)                     # B S B'   (c, k, k)
        r = y @ b.T                                               # B y      (c, k)
        lam = np.linalg.solve(w, r[..., None])[..., 0]
        w_inv_bs = np.linalg.solve(w, bs)                        # W^-1 B S (c, k, m)
        y_hat = y - np.einsum("ckn,ck->cn", bs, lam)
        chi2 = np.maximum(np.einsum("ck,ck->c", r, lam), 0.0)
        v_diag = np.einsum("ckn,ckn->cn", bs, w_inv_bs)
        h = np.einsum("ckn,un->cku", bs, g)                     # B S G'   (c, k, u)
        z_var = var @ (g**2).T - np.einsum("cku,cku->cu", h, np.linalg.solve(w, h))
    else:
        y_hat, chi2, v_diag = y.copy(), np.zeros(c), np.zeros_like(y)
        z_var = var @ (g**2).T
    out = {"y_hat": y_hat, "chi2": chi2, "v_diag": v_diag, "z": -(y_hat @ g.T),
           "z_var": np.maximum(z_var, 0.0), "y_var": np.maximum(var - v_diag, 0.0)}
    if want_cov:
        cov_y = var[:, :, None] * np.eye(n_m)[None]
        if k:
            cov_y = cov_y - np.einsum("ckn,ckm->cnm", bs, w_inv_bs)
        cov_zy = -np.einsum("un,cnm->cum", g, cov_y)
        out["cov"] = (cov_y, cov_zy, -np.einsum("cum,vm->cuv", cov_zy, g))
    return out


def _solve_all(a: np.ndarray, y: np.ndarray, s: np.ndarray, want_cov: bool) -> tuple:
    """Reconcile every cell: one batched solve per distinct measurement pattern."""
    n_cells, n = y.shape
    est, sd = np.full((n_cells, n), np.nan), np.full((n_cells, n), np.nan)
    nres = np.full((n_cells, n), np.nan)
    red, obs = np.zeros((n_cells, n), bool), np.zeros((n_cells, n), bool)
    chi2, dof = np.zeros(n_cells), np.zeros(n_cells, dtype=int)
    cov = np.full((n_cells, n, n), np.nan) if want_cov else None
    patterns, inverse = np.unique(~np.isnan(y), axis=0, return_inverse=True)
    for p, mask in enumerate(patterns):
        cells = np.flatnonzero(inverse.reshape(-1) == p)
        m_idx, u_idx = np.flatnonzero(mask), np.flatnonzero(~mask)
        st = _structure(a, mask)
        res = _solve(st, y[np.ix_(cells, m_idx)], s[np.ix_(cells, m_idx)] ** 2, want_cov)
        o = st["observable"]
        est[np.ix_(cells, m_idx)] = res["y_hat"]
        sd[np.ix_(cells, m_idx)] = np.sqrt(res["y_var"])
        est[np.ix_(cells, u_idx[o])] = res["z"][:, o]
        sd[np.ix_(cells, u_idx[o])] = np.sqrt(res["z_var"][:, o])
        rd = st["redundant"]
        with np.errstate(invalid="ignore", divide="ignore"):
            nr = (y[np.ix_(cells, m_idx)] - res["y_hat"]) / np.sqrt(res["v_diag"])
        nres[np.ix_(cells, m_idx[rd])] = nr[:, rd]
        red[np.ix_(cells, m_idx)] = rd
        obs[np.ix_(cells, m_idx)] = True
        obs[np.ix_(cells, u_idx)] = o
        chi2[cells], dof[cells] = res["chi2"], st["b"].shape[0]
        if want_cov:
            cov_y, cov_zy, cov_zz = res["cov"]
            cov_zy, cov_zz = cov_zy[:, o], cov_zz[:, o][:, :, o]
            uo = u_idx[o]
            cov[np.ix_(cells, m_idx, m_idx)] = cov_y
            cov[np.ix_(cells, uo, m_idx)] = cov_zy
            cov[np.ix_(cells, m_idx, uo)] = np.swapaxes(cov_zy, 1, 2)
            cov[np.ix_(cells, uo, uo)] = cov_zz
    return est, sd, nres, red, obs, cov, chi2, dof


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


def _str(x: Any) -> str:
    return str(x.item() if isinstance(x, np.generic) else x)


def _where(i: int, coords: dict[str, np.ndarray]) -> str:
    idx = np.unravel_index(i, tuple(len(c) for c in coords.values()))
    parts = [f"{'year' if d == 'time' else d} {_str(c[j])}"
             for (d, c), j in zip(coords.items(), idx, strict=True)]
    return ", ".join(parts)


def _years(values: list[Any]) -> str:
    """Compact list of years: ``2000-2004, 2007``."""
    try:
        years = sorted({int(v) for v in values})
    except (TypeError, ValueError):
        return ", ".join(_str(v) for v in values)
    runs: list[list[int]] = []
    for y in years:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _cells_of(flag: xr.DataArray) -> list[str]:
    """For a bool (variable, time, *batch) array: ``"name: years"`` per variable and cell."""
    batch = [d for d in flag.dims if d not in ("variable", "time")]
    arr = flag.transpose("variable", "time", *batch).values.astype(bool)
    years = np.asarray(flag["time"].values)
    batch_labels = [np.asarray(flag[d].values) if d in flag.coords else
                    np.arange(flag.sizes[d]) for d in batch]
    sizes = tuple(len(b) for b in batch_labels)
    arr = arr.reshape(arr.shape[0], arr.shape[1], -1)
    out = []
    for v, name in enumerate(flag["variable"].values):
        for cell in np.flatnonzero(arr[v].any(axis=0)):
            where = ""
            if batch:
                idx = np.unravel_index(cell, sizes)
                where = " (" + ", ".join(f"{d} {_str(lab[i])}" for d, lab, i in
                                         zip(batch, batch_labels, idx, strict=True)) + ")"
            out.append(f"{name}{where}: {_years(list(years[arr[v, :, cell]]))}")
    return out


def _ranked(result: Reconciliation) -> Any:
    df = result.to_dataframe().reset_index()
    df = df[df["normalised_residual"].notna()]
    order = df["normalised_residual"].abs().sort_values(ascending=False, kind="stable").index
    return df.loc[order]


def _row_where(row: Any, batch: list[str]) -> str:
    return ", ".join([f"year {_str(row['time'])}", *(f"{d} {_str(row[d])}" for d in batch)])


def _conflict_table(ranked: Any, batch: list[str]) -> list[str]:
    header = ["", "variable", "year", *batch, "measured", "sd", "reconciled",
              "normalised residual"]
    rows = [header]
    for _, row in ranked.iterrows():
        rows.append([
            "*" if row["suspect"] else "", str(row["variable"]), _str(row["time"]),
            *(_str(row[d]) for d in batch), f"{row['measured']:.6g}",
            f"{row['measured_sd']:.3g}", f"{row['estimate']:.6g}",
            f"{row['normalised_residual']:+.3f}",
        ])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in rows]


def _report(result: Reconciliation, top: int) -> str:
    ds = result.dataset
    batch = [d for d in ds["chi2"].dims if d != "time"]
    n_years, n_cells = ds.sizes["time"], int(ds["chi2"].size)
    n_flows = int((ds["kind"].values == "flow").sum())
    cells = f" x {n_cells // n_years} cells ({', '.join(batch)})" if batch else ""
    lines = [
        f"Reconciliation of system {result.system!r}: {ds.sizes['variable']} variables "
        f"({n_flows} flows, {ds.sizes['variable'] - n_flows} stock changes), "
        f"{n_years} year(s){cells}; values in {unit_string(FLOW_UNIT)}."
    ]
    chi2, dof, p = (ds[k].values.reshape(-1) for k in ("chi2", "dof", "p_value"))
    bad = np.flatnonzero(p < result.alpha)
    untested = int((dof == 0).sum())
    lines.append(
        f"Chi-square test at alpha = {result.alpha:g}: data inconsistent with the balances in "
        f"{bad.size} of {n_cells - untested} tested year(s)/cell(s)"
        + (f"; {untested} without redundancy (nothing to test)" if untested else "") + "."
    )
    coords = {d: np.asarray(ds[d].values) for d in ds["chi2"].dims}
    for i in sorted(bad, key=lambda i: (p[i], -chi2[i]))[:5]:
        lines.append(f"  {_where(i, coords)}: chi2 = {chi2[i]:.4g}, dof {dof[i]}, p = {p[i]:.3g}")
    ranked = _ranked(result)
    if len(ranked):
        lines.append(
            "Measurements that conflict most (largest |normalised residual|; '*' marks "
            "|r| above the Sidak-corrected critical value of the measurement test):"
        )
        lines += _conflict_table(ranked.head(top), batch)
        if bad.size:
            lines.append(
                "A gross error also pulls the residuals of its neighbours: set the first "
                "suspect to NaN in that year and reconcile again to see whether it alone "
                "explains the conflict (serial elimination)."
            )
    else:
        lines.append("No redundant measurement: nothing could be adjusted or tested.")
    measured = ~np.isnan(ds["measured"])
    sections = [
        ("Unobservable unknowns (not determined by the data; left NaN)",
         ~measured & ~ds["observable"]),
        ("Measurements that are not redundant (cannot be checked; kept as given)",
         measured & ~ds["redundant"]),
        ("NEGATIVE reconciled flows (flows cannot be negative: a gross error or a wrong system)",
         ds["negative"]),
    ]
    for title, flag in sections:
        entries = _cells_of(flag)
        if entries:
            lines.append(f"{title}:")
            lines += [f"  {e}" for e in entries]
    return "\n".join(lines)


def _negative_message(result: Reconciliation) -> str:
    ds = result.dataset
    entries = _cells_of(ds["negative"])
    ranked = _ranked(result)
    worst = ""
    if len(ranked):
        row = ranked.iloc[0]
        batch = [d for d in ds["chi2"].dims if d != "time"]
        worst = (f"; the measurement that conflicts most is {row['variable']!s} in "
                 f"{_row_where(row, batch)} (normalised residual "
                 f"{row['normalised_residual']:+.3g})")
    return (
        f"reconcile: system {result.system!r}: reconciled flow(s) below zero: "
        f"{'; '.join(entries[:5])}{' ...' if len(entries) > 5 else ''}{worst}; check the "
        f"data and the system, or pass negative='report' to inspect the full report"
    )
