"""The mass balance of a process system: residuals, throughputs and the checks that raise.

Functions of a :class:`~mfa.core.system.ProcessSystem` (``system``) and its validated arrays;
the class's methods :meth:`~mfa.core.system.ProcessSystem.to_dataset` and
:meth:`~mfa.core.system.ProcessSystem.check_balance` call them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from mfa.core.errors import MassBalanceError
from mfa.core.system._parts import (
    FLOW_UNIT,
    RESIDUAL,
    RESIDUAL_TOTAL,
    THROUGHPUT,
    THROUGHPUT_TOTAL,
    Flow,
    _label,
    _reduce,
)
from mfa.core.units import unit_string

if TYPE_CHECKING:
    from mfa.core.system._process_system import ProcessSystem

#: A cell that fails the balance: (score, (year, process, region or None, kept indices),
#: residual [t/yr], throughput [t/yr]).
_Cell = tuple[float, tuple[int, int, int | None, tuple[int, ...]], float, float]


# ---------------------------------------------------------------------------------------------
# Residuals and throughputs
# ---------------------------------------------------------------------------------------------
def _reduced_flows(system: ProcessSystem, arrays: dict[str, xr.DataArray], keep: tuple,
                   shape: tuple[int, ...], n_r: int) -> tuple[np.ndarray, np.ndarray]:
    """Every flow reduced to (T, R, ...) [regional] and (T, ...) [total].

    Index 0: the flow, 1: its positive part, 2: its negative part (as a positive number),
    each summed over regions only after the split (the throughput of a trade pool).
    """
    n_t, *extra_shape = shape
    rd = system._rd
    f_total = np.zeros((3, len(system.flows), n_t, *extra_shape))
    f_reg = np.zeros((3, len(system.flows), n_t, max(n_r, 0), *extra_shape))
    for k, f in enumerate(system.flows):
        a = _reduce(arrays[f.name].values, f.dims, keep=keep)
        parts = (a, np.maximum(a, 0.0), np.maximum(-a, 0.0))
        for i, part in enumerate(parts):
            if rd in f.dims:
                f_reg[i, k] = part
                f_total[i, k] = part.sum(axis=1)
            else:
                f_total[i, k] = part
    return f_total, f_reg


def _reduced_stock_changes(system: ProcessSystem, arrays: dict[str, xr.DataArray],
                           initial: dict[str, np.ndarray], keep: tuple, shape: tuple[int, ...],
                           n_r: int) -> tuple[np.ndarray, np.ndarray]:
    """Every stock's change in each year [t/yr], (S, T, R, ...) [regional] and (S, T, ...)."""
    n_t, *extra_shape = shape
    rd = system._rd
    s_total = np.zeros((len(system.stocks), n_t, *extra_shape))
    s_reg = np.zeros((len(system.stocks), n_t, max(n_r, 0), *extra_shape))
    for k, s in enumerate(system.stocks):
        a = _reduce(arrays[s.name].values, s.dims, keep=keep)
        a0 = initial.get(s.name, np.zeros(a.shape[1:]))
        change = np.diff(a, axis=0, prepend=a0[np.newaxis, ...])
        if rd in s.dims:
            s_reg[k] = change
            s_total[k] = change.sum(axis=1)
        else:
            s_total[k] = change
    return s_total, s_reg


def _incidence(system: ProcessSystem, plist: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P, F) into / out-of matrices and (P, S) stock matrix for processes ``plist``."""
    n_p, n_f, n_s = len(plist), len(system.flows), len(system.stocks)
    a_in = np.array([[f.target == p for f in system.flows] for p in plist], float)
    a_out = np.array([[f.source == p for f in system.flows] for p in plist], float)
    a_st = np.array([[s.process == p for s in system.stocks] for p in plist], float)
    return a_in.reshape(n_p, n_f), a_out.reshape(n_p, n_f), a_st.reshape(n_p, n_s)


def _residual_and_throughput(a_in: np.ndarray, a_out: np.ndarray, a_st: np.ndarray,
                             flows: np.ndarray, changes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residual and throughput (T, P, ...); NaN only where a touching flow/stock has it.

    ``flows`` is (3, F, T, ...): flows, their positive and their negative parts;
    ``changes`` (S, T, ...); incidence matrices are applied with ``tensordot`` (BLAS)
    and the process axis is moved behind time.
    """

    def apply(a, x):
        return np.moveaxis(np.tensordot(a, x, axes=(1, 0)), 0, 1)

    bad_f, bad_s = ~np.isfinite(flows[0]), ~np.isfinite(changes)
    any_bad = bool(bad_f.any() or bad_s.any())
    if any_bad:
        flows, changes = np.where(bad_f, 0.0, flows), np.where(bad_s, 0.0, changes)
    inflow = apply(a_in, flows[0])
    outflow = apply(a_out, flows[0])
    change = apply(a_st, changes)
    res = inflow - outflow - change
    # a negative outflow is an inflow and vice versa (signed flows)
    gross_in = apply(a_in, flows[1]) + apply(a_out, flows[2])
    gross_out = apply(a_out, flows[1]) + apply(a_in, flows[2])
    thr = np.maximum(gross_in + np.maximum(-change, 0.0),
                     gross_out + np.maximum(change, 0.0))
    if any_bad:
        bad = (apply(a_in + a_out, bad_f.astype(float))
               + apply(a_st, bad_s.astype(float))) > 0
        res[bad] = np.nan
        thr[bad] = np.nan
    return res, thr


def balance(
    system: ProcessSystem, arrays: dict[str, xr.DataArray], initial: dict[str, np.ndarray]
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray, xr.DataArray]:
    """Residuals and throughputs [t/yr]: by region (where balanced so) and summed over regions.

    ``arrays`` are the validated flows and stocks (t/yr, t), ``initial`` the initial stocks
    reduced to (region, kept dims). Returns the four result variables of
    :meth:`~mfa.core.system.ProcessSystem.to_dataset`.
    """
    first = arrays[system.flows[0].name]
    rd, kept = system._rd, system.kept_dims
    regions = next((da[rd] for da in arrays.values() if rd in da.dims), None)
    n_r = 0 if regions is None else regions.size
    shape = (first["time"].size, *(first.sizes[d] for d in kept))
    keep = ("time", rd, *kept)
    f_total, f_reg = _reduced_flows(system, arrays, keep, shape, n_r)
    s_total, s_reg = _reduced_stock_changes(system, arrays, initial, keep, shape, n_r)

    procs = list(system.processes)
    reg_p = [p for p in procs if system.regional[p]]
    glob_p = [p for p in procs if not system.regional[p]]
    total = np.zeros((shape[0], len(procs), *shape[1:]))
    thr_total = np.zeros_like(total)
    if glob_p:
        idx_g = [procs.index(p) for p in glob_p]
        total[:, idx_g], thr_total[:, idx_g] = _residual_and_throughput(
            *_incidence(system, glob_p), f_total, s_total)
    kept_coords = {d: first[d].values for d in kept if d in first.coords}
    total_coords = {"time": first["time"].values, "process": procs, **kept_coords}
    total_dims = ("time", "process", *kept)
    if reg_p:
        idx_r = [procs.index(p) for p in reg_p]
        res = np.full((shape[0], len(procs), n_r, *shape[1:]), np.nan)
        thr = np.full_like(res, np.nan)
        res[:, idx_r], thr[:, idx_r] = _residual_and_throughput(
            *_incidence(system, reg_p), f_reg, s_reg)
        total[:, idx_r] = res[:, idx_r].sum(axis=2)
        thr_total[:, idx_r] = thr[:, idx_r].sum(axis=2)
        dims: tuple[str, ...] = ("time", "process", rd, *kept)
        coords = {"time": first["time"].values, "process": procs, rd: regions.values,
                  **kept_coords}
    else:
        res, thr, dims, coords = total, thr_total, total_dims, total_coords
    return _balance_arrays(res, total, thr, thr_total, (dims, coords), (total_dims, total_coords),
                           ",".join(glob_p))


def _balance_arrays(res: np.ndarray, total: np.ndarray, thr: np.ndarray, thr_total: np.ndarray,
                    frame: tuple[tuple[str, ...], dict[str, Any]],
                    total_frame: tuple[tuple[str, ...], dict[str, Any]],
                    regions_summed: str) -> tuple[xr.DataArray, ...]:
    """The four result DataArrays, with units and long names."""
    attrs = {"units": unit_string(FLOW_UNIT)}
    (dims, coords), (total_dims, total_coords) = frame, total_frame
    residual = xr.DataArray(
        res, coords=coords, dims=dims, name=RESIDUAL,
        attrs={**attrs, "long_name": "mass balance residual: inputs - outputs - stock change",
               "regions_summed": regions_summed},
    )
    total_da = xr.DataArray(
        total, coords=total_coords, dims=total_dims, name=RESIDUAL_TOTAL,
        attrs={**attrs, "long_name": "mass balance residual summed over regions"},
    )
    throughput = xr.DataArray(
        thr, coords=coords, dims=dims, name=THROUGHPUT,
        attrs={**attrs, "long_name": "process throughput: max(inputs, outputs) incl. stock change"},
    )
    throughput_total = xr.DataArray(
        thr_total, coords=total_coords, dims=total_dims, name=THROUGHPUT_TOTAL,
        attrs={**attrs, "long_name": "process throughput summed over regions"},
    )
    return residual, total_da, throughput, throughput_total


# ---------------------------------------------------------------------------------------------
# The balance check
# ---------------------------------------------------------------------------------------------
def _cells_to_check(system: ProcessSystem, ds: xr.Dataset,
                    kept: list[str]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]]:
    """(residual, throughput, process indices, by region) per group of cells to check.

    Processes balanced by region are checked per region, the others on their totals.
    Arrays are (time, process[, region], *kept).
    """
    res, thr = ds[RESIDUAL], ds[THROUGHPUT]
    rd = system._rd
    order = ("time", "process", *kept)
    if rd not in res.dims:
        return [(res.transpose(*order).values, thr.transpose(*order).values,
                 np.arange(res["process"].size), False)]
    procs = [str(p) for p in res["process"].values]
    mask = np.array([system.regional.get(p, False) for p in procs], dtype=bool)
    by_region = ("time", "process", rd, *kept)
    parts = [(res.transpose(*by_region).values[:, mask], thr.transpose(*by_region).values[:, mask],
              np.flatnonzero(mask), True)]
    if not mask.all():
        parts.append((ds[RESIDUAL_TOTAL].transpose(*order).values[:, ~mask],
                      ds[THROUGHPUT_TOTAL].transpose(*order).values[:, ~mask],
                      np.flatnonzero(~mask), False))
    return parts


def _worst_cell(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]], *, rtol: float,
                atol: float) -> tuple[_Cell | None, int]:
    """The cell with the largest ``|residual| / (atol + rtol * throughput)`` above 1, and the
    number of failing cells (NaN residuals fail)."""
    candidates: list[_Cell] = []
    n_fail = 0
    for r, t, pidx, by_region in parts:
        if r.size == 0:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.abs(r) / (atol + rtol * np.abs(t))
        score = np.where(np.isnan(score), np.inf, score)
        failing = score > 1.0
        n_fail += int(failing.sum())
        if not failing.any():
            continue
        pos = np.unravel_index(int(np.argmax(score)), score.shape)
        n_lead = 3 if by_region else 2
        cell = (int(pos[0]), int(pidx[pos[1]]), int(pos[2]) if by_region else None,
                tuple(int(i) for i in pos[n_lead:]))
        candidates.append((float(score[pos]), cell, float(r[pos]), float(t[pos])))
    return (max(candidates, key=lambda c: c[0]) if candidates else None), n_fail


def _gap(value: float, through: float) -> str:
    """The residual of a failing cell in words."""
    if np.isnan(value):
        return "residual is NaN (a flow or stock touching it has missing values)"
    if through > 0:
        rel = f"{abs(value) / through:.3g} of throughput {through:.6g} t/yr"
    else:
        rel = "throughput 0 t/yr"
    direction = "more in than out" if value > 0 else "more out than in"
    return f"inputs - outputs - stock change = {value:.6g} t/yr ({direction}; {rel})"


def check_balance(system: ProcessSystem, ds: xr.Dataset, *, rtol: float, atol: float) -> None:
    """Raise :class:`MassBalanceError` for a negative flow or a cell out of balance.

    ``ds`` is a Dataset made by :meth:`~mfa.core.system.ProcessSystem.to_dataset`; the
    rules are those of :meth:`~mfa.core.system.ProcessSystem.check_balance`.
    """
    check_non_negative(system, ds, rtol=rtol, atol=atol)
    res = ds[RESIDUAL]
    kept = [d for d in system.kept_dims if d in res.dims]
    worst, n_fail = _worst_cell(_cells_to_check(system, ds, kept), rtol=rtol, atol=atol)
    if worst is None:
        return
    _, (it, ip, ir, ik), value, through = worst
    rd = system._rd
    region = system._all_places if ir is None else f"{rd} {_label(res[rd].values[ir])!r}"
    for d, i in zip(kept, ik, strict=True):
        label = res[d].values[i] if d in res.coords else i
        region += f", {d} {_label(label)}"
    others = f"; {n_fail - 1} other cell(s) also fail" if n_fail > 1 else ""
    raise MassBalanceError(
        f"mass balance of system {system.name!r} fails: process "
        f"{str(res['process'].values[ip])!r}, year {_label(res['time'].values[it])}, {region}: "
        f"{_gap(value, through)}; tolerance rtol={rtol:g}, atol={atol:g} t/yr{others}"
    )


# ---------------------------------------------------------------------------------------------
# Flows are never negative
# ---------------------------------------------------------------------------------------------
def _flow_scale(system: ProcessSystem, ds: xr.Dataset, flow: Flow) -> xr.DataArray | float:
    """Larger throughput of the balanced processes at either end of ``flow`` [t/yr]."""
    scales = []
    for p in (flow.source, flow.target):
        if p not in system.processes:
            continue
        by_region = system.regional[p] and system._rd in ds[THROUGHPUT].dims
        scales.append(ds[THROUGHPUT if by_region else THROUGHPUT_TOTAL].sel(process=p, drop=True))
    if not scales:
        return 0.0
    return scales[0] if len(scales) == 1 else np.fmax(scales[0], scales[1])


def check_non_negative(system: ProcessSystem, ds: xr.Dataset, *, rtol: float, atol: float) -> None:
    """Raise MassBalanceError for the most negative flow not declared ``signed``."""
    worst: tuple[float, Flow, xr.DataArray, tuple[int, ...]] | None = None
    n_fail = 0
    for f in system.flows:
        values = ds[f.name]
        if f.signed or not bool((values < -atol).any()):
            continue
        scale = xr.DataArray(_flow_scale(system, ds, f)).fillna(0.0)
        score = (-values / (atol + rtol * np.abs(scale))).transpose(*values.dims)
        failing = score.values > 1.0
        n_fail += int(failing.sum())
        if not failing.any():
            continue
        pos = np.unravel_index(int(np.argmax(np.where(failing, score.values, -np.inf))),
                               failing.shape)
        if worst is None or score.values[pos] > worst[0]:
            worst = (float(score.values[pos]), f, values, tuple(int(i) for i in pos))
    if worst is None:
        return
    _, f, values, pos = worst
    where = []
    for d, i in zip(values.dims, pos, strict=True):
        label = _label(values[d].values[i] if d in values.coords else i)
        if d == "time":
            where.append(f"year {label}")
        else:
            where.append(f"{d} {label!r}" if d == system._rd else f"{d} {label}")
    others = f"; {n_fail - 1} other cell(s) of negative flows" if n_fail > 1 else ""
    raise MassBalanceError(
        f"system {system.name!r}: flow {f.name!r} ({f.source} -> {f.target}) is negative in "
        f"{', '.join(where)}: {float(values.values[pos]):.6g} t/yr; flows must be >= 0 "
        f"(tolerance rtol={rtol:g} of throughput, atol={atol:g} t/yr; only flows declared "
        f"signed may be negative){others}"
    )
