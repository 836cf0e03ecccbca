"""The mass balance of a process system: residuals, throughputs and the checks that raise.

Functions of a :class:`~mfa.core.system.ProcessSystem` (``system``) and its validated arrays;
the class's methods :meth:`~mfa.core.system.ProcessSystem.to_dataset` and
:meth:`~mfa.core.system.ProcessSystem.check_balance` call them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from mfa.core._fastpath import on_coordinates
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
class _Sums:
    """Running sums per balanced process, one pass over the flows and stocks.

    Each flow and stock is reduced once to ``(time[, region], *kept)`` and added to the
    process it enters or leaves, in declaration order (the same order of additions as a
    product with a 0/1 incidence matrix, so the same numbers). A flow's positive and negative
    parts (a negative outflow is an inflow) are only formed when it has negative values.
    Arrays are (time, process, ...): the layout of the results, so nothing is transposed.

    The gross sums (into a process: positive inflows and negative outflows; out of it: the
    reverse) equal the net sums, bit for bit, until a negative part reaches the process: a
    process's gross sum is kept apart only from then on (a copy of its net sum so far), so
    most flows are added twice, not four times.
    """

    def __init__(self, n_p: int, shape: tuple[int, ...]) -> None:
        self.shape = shape
        full = (shape[0], n_p, *shape[1:])
        self.inflow = np.zeros(full)
        self.outflow = np.zeros(full)
        #: process -> the change of its stocks (only processes with a stock)
        self.change: dict[int, np.ndarray] = {}
        #: process -> its gross sum in (out), where it differs from the net inflow (outflow)
        self.gross_in: dict[int, np.ndarray] = {}
        self.gross_out: dict[int, np.ndarray] = {}

    def flow(self, a: np.ndarray, source: int | None, target: int | None) -> None:
        negative = bool((a < 0.0).any())
        pos = np.maximum(a, 0.0) if negative else a
        neg = np.maximum(-a, 0.0) if negative else None
        self.add(a, pos, neg, source, target)

    @staticmethod
    def _apart(gross: dict[int, np.ndarray], net: np.ndarray, p: int) -> np.ndarray:
        """The gross sum of process ``p``: from now on apart from its net sum ``net[:, p]``."""
        if p not in gross:
            gross[p] = net[:, p].copy()
        return gross[p]

    def add(self, net: np.ndarray, pos: np.ndarray, neg: np.ndarray | None,
            source: int | None, target: int | None) -> None:
        """Add a flow's net value and its positive and negative parts (None: no negative
        values) to its source's outflow and its target's inflow."""
        if target is not None:
            gross = (self._apart(self.gross_in, self.inflow, target)
                     if neg is not None or target in self.gross_in else None)
            self.inflow[:, target] += net
            if gross is not None:
                gross += pos
            if neg is not None:
                self._apart(self.gross_out, self.outflow, target)[...] += neg
        if source is not None:
            gross = (self._apart(self.gross_out, self.outflow, source)
                     if neg is not None or source in self.gross_out else None)
            self.outflow[:, source] += net
            if gross is not None:
                gross += pos
            if neg is not None:
                self._apart(self.gross_in, self.inflow, source)[...] += neg

    def add_change(self, change: np.ndarray, p: int) -> None:
        """Add the change of a stock of process ``p`` [t/yr]."""
        if p in self.change:
            self.change[p] += change
        else:
            self.change[p] = np.add(0.0, change)  # its own array, as 0 + change (-0.0 -> 0.0)

    def residual_and_throughput(self) -> tuple[np.ndarray, np.ndarray]:
        """Residual and throughput (time, process, ...); NaN where a touching flow or stock
        is not finite. Computed in the sums' own buffers and one more (the sums are consumed).

        Processes without a stock skip the terms of its change (0): the same numbers, as no
        sum here is -0.0 (each starts at +0.0, and x + 0.0 == x, x - 0.0 == x otherwise)."""
        gross_out = self.outflow.copy()  # the third full array (the sums are two)
        res = np.subtract(self.inflow, self.outflow, out=self.outflow)
        gross_in = self.inflow  # the net sums where no negative part reached a process
        for gross, parts in ((gross_in, self.gross_in), (gross_out, self.gross_out)):
            for p, part in parts.items():
                gross[:, p] = part
        for p, ch in self.change.items():
            res[:, p] -= ch
            rise = np.maximum(ch, 0.0)                   # stock growth: an output
            gross_out[:, p] += rise
            rise -= ch                                   # = max(-change, 0): an input
            gross_in[:, p] += rise
        thr = np.maximum(gross_in, gross_out, out=gross_in)
        if not np.isfinite(thr).all():
            bad = ~np.isfinite(thr)
            res[bad] = np.nan
            thr[bad] = np.nan
        return res, thr


def _stock_change(a: np.ndarray, a0: np.ndarray | None) -> np.ndarray:
    """Change of a stock in each year [t/yr] (time first), from ``a0`` (default 0)."""
    if a0 is None:
        a0 = np.zeros(a.shape[1:])
    return np.diff(a, axis=0, prepend=a0[np.newaxis, ...])


def balance(
    system: ProcessSystem, arrays: dict[str, xr.DataArray], initial: dict[str, np.ndarray]
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray, xr.DataArray]:
    """Residuals and throughputs [t/yr]: by region (where balanced so) and summed over regions.

    ``arrays`` are the validated flows and stocks (t/yr, t), ``initial`` the initial stocks
    reduced to (region, kept dims). Returns the four result variables of
    :meth:`~mfa.core.system.ProcessSystem.to_dataset`. One vectorised pass over plain arrays:
    each flow is added to its two processes (no loop over regions or other labels).
    """
    first = arrays[system.flows[0].name]
    rd, kept = system._rd, system.kept_dims
    regions = next((da[rd] for da in arrays.values() if rd in da.dims), None)
    n_r = 0 if regions is None else regions.size
    shape = (first["time"].size, *(first.sizes[d] for d in kept))
    keep = ("time", rd, *kept)

    procs = list(system.processes)
    reg_p = [p for p in procs if system.regional[p]]
    glob_p = [p for p in procs if not system.regional[p]]
    # regional sums are indexed by the process's place in `procs` (its row of the results)
    reg_i, glob_i = {p: procs.index(p) for p in reg_p}, {p: i for i, p in enumerate(glob_p)}
    regional = _Sums(len(procs), (shape[0], n_r, *shape[1:])) if reg_p else None
    world = _Sums(len(glob_p), shape) if glob_p else None
    for f in system.flows:
        a = _reduce(arrays[f.name].values, f.dims, keep=keep)
        if regional is not None and (f.source in reg_i or f.target in reg_i):
            regional.flow(a, reg_i.get(f.source), reg_i.get(f.target))
        if world is not None and (f.source in glob_i or f.target in glob_i):
            if rd in f.dims:  # each part summed over regions only after the split
                _flow_over_regions(world, a, glob_i.get(f.source), glob_i.get(f.target))
            else:
                world.flow(a, glob_i.get(f.source), glob_i.get(f.target))
    for s in system.stocks:
        if s.process not in reg_i and s.process not in glob_i:
            continue
        change = _stock_change(_reduce(arrays[s.name].values, s.dims, keep=keep), initial.get(s.name))
        if s.process in reg_i:
            regional.add_change(change, reg_i[s.process])
        else:
            world.add_change(change.sum(axis=1) if rd in s.dims else change, glob_i[s.process])

    kept_coords = {d: first[d].values for d in kept if d in first.coords}
    total_coords = {"time": first["time"].values, "process": procs, **kept_coords}
    total_dims = ("time", "process", *kept)
    idx_g = [procs.index(p) for p in glob_p]
    if regional is not None:
        res, thr = regional.residual_and_throughput()   # (time, process, region, *kept)
        if idx_g:
            res[:, idx_g] = np.nan
            thr[:, idx_g] = np.nan
        total, thr_total = res.sum(axis=2), thr.sum(axis=2)
        dims: tuple[str, ...] = ("time", "process", rd, *kept)
        coords = {"time": first["time"].values, "process": procs, rd: regions.values,
                  **kept_coords}
    else:
        total = np.zeros((shape[0], len(procs), *shape[1:]))
        thr_total = np.zeros_like(total)
    if world is not None:
        total[:, idx_g], thr_total[:, idx_g] = world.residual_and_throughput()
    if regional is None:
        res, thr, dims, coords = total, thr_total, total_dims, total_coords
    return _balance_arrays(res, total, thr, thr_total, (dims, coords), (total_dims, total_coords),
                           ",".join(glob_p))


def _flow_over_regions(sums: _Sums, a: np.ndarray, source: int | None, target: int | None) -> None:
    """Add a regional flow (time, region, ...) to processes balanced over all regions: the
    flow and its positive and negative parts, each summed over regions (the gross trade of a
    pool whose net flows cancel)."""
    negative = bool((a < 0.0).any())
    total = a.sum(axis=1)
    pos = np.maximum(a, 0.0).sum(axis=1) if negative else total
    neg = np.maximum(-a, 0.0).sum(axis=1) if negative else None
    sums.add(total, pos, neg, source, target)


def _balance_arrays(res: np.ndarray, total: np.ndarray, thr: np.ndarray, thr_total: np.ndarray,
                    frame: tuple[tuple[str, ...], dict[str, Any]],
                    total_frame: tuple[tuple[str, ...], dict[str, Any]],
                    regions_summed: str) -> tuple[xr.DataArray, ...]:
    """The four result DataArrays, with units and long names."""
    attrs = {"units": unit_string(FLOW_UNIT)}
    (dims, coords), (total_dims, total_coords) = frame, total_frame
    coords = xr.Coordinates(coords)  # the indexes made once for each pair of arrays
    total_coords = coords if total_coords is frame[1] else xr.Coordinates(total_coords)

    def wrap(data: np.ndarray, dims: tuple[str, ...], frame: xr.Coordinates, name: str,
             long_name: str, **more: str) -> xr.DataArray:
        """One result array with units and long name."""
        return on_coordinates(xr.Variable(dims, data, {**attrs, "long_name": long_name, **more}),
                              frame, name)

    return (
        wrap(res, dims, coords, RESIDUAL, "mass balance residual: inputs - outputs - stock "
             "change", regions_summed=regions_summed),
        wrap(total, total_dims, total_coords, RESIDUAL_TOTAL,
             "mass balance residual summed over regions"),
        wrap(thr, dims, coords, THROUGHPUT, "process throughput: max(inputs, outputs) incl. "
             "stock change"),
        wrap(thr_total, total_dims, total_coords, THROUGHPUT_TOTAL,
             "process throughput summed over regions"),
    )


# ---------------------------------------------------------------------------------------------
# The balance check
# ---------------------------------------------------------------------------------------------
def _cells_to_check(system: ProcessSystem, ds: xr.Dataset,
                    kept: list[str]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]]:
    """(residual, throughput, process indices, by region) per group of cells to check.

    Processes balanced by region are checked per region, the others on their totals.
    Arrays are (time, process[, region], *kept), every process (views of the results): only
    the processes of the indices are checked.
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
    parts = [(res.transpose(*by_region).values, thr.transpose(*by_region).values,
              np.flatnonzero(mask), True)]
    if not mask.all():
        parts.append((ds[RESIDUAL_TOTAL].transpose(*order).values,
                      ds[THROUGHPUT_TOTAL].transpose(*order).values, np.flatnonzero(~mask), False))
    return parts


def _worst_cell(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]], *, rtol: float,
                atol: float) -> tuple[_Cell | None, int]:
    """The cell with the largest ``|residual| / (atol + rtol * throughput)`` above 1, and the
    number of failing cells (NaN residuals fail)."""
    candidates: list[_Cell] = []
    n_fail = 0
    for r, t, pidx, by_region in parts:
        if pidx.size == 0 or r.size == 0:
            continue
        if atol > 0 and _all_within(r, t, pidx, rtol=rtol, atol=atol):
            continue
        r, t = r[:, pidx], t[:, pidx]
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


#: Cells of the residual checked at once by :func:`_all_within` (small temporaries).
_CHECK_BLOCK = 2**16


def _all_within(r: np.ndarray, t: np.ndarray, pidx: np.ndarray, *, rtol: float,
                atol: float) -> bool:
    """Whether every ``|r| <= atol + rtol * |t|`` (False for NaN) for the processes ``pidx``
    (axis 1): the cheap test that spares the scores of a balanced system (``atol > 0``, so
    the limit is positive), a few years at a time."""
    years = max(1, _CHECK_BLOCK // max(1, r[:1].size))
    every = pidx.size == r.shape[1]
    for t0 in range(0, r.shape[0], years):
        rb, tb = r[t0:t0 + years], t[t0:t0 + years]
        if not every:
            rb, tb = rb[:, pidx], tb[:, pidx]
        limit = np.abs(tb)
        limit *= rtol
        limit += atol
        if not (np.abs(rb) <= limit).all():
            return False
    return True


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
        if f.signed or not bool((values.values < -atol).any()):
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
