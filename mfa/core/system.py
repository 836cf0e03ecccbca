"""Process systems: processes, flows between them, stocks, and the mass-balance check.

This is the end of the generic core: it knows nothing about neodymium. A model declares its
processes, the flows between them (each with its dims) and the stocks held in processes, then
hands the computed values to :meth:`ProcessSystem.to_dataset`, which checks names, dims and
units, converts everything to the model units (flows in ``t/yr``, stocks in ``t``) and adds
the mass-balance residual of every process.

Mass balance
------------
For every process ``p`` that is not on the system boundary, year ``t`` and (where resolved)
region ``r``::

    residual[t, p, r] = sum(flows into p) - sum(flows out of p) - (stock[t] - stock[t-1])

summed over all stocks of ``p``. For the first model year the stock change is
``stock[t0] - initial_stock`` where ``initial_stock`` is 0 unless given
(``initial_stocks=`` argument). Years must therefore be consecutive when there are stocks.

The check (:meth:`ProcessSystem.check_balance`) compares each residual with
``atol + rtol * throughput``, where the *throughput* of a process is
``max(inputs + stock release, outputs + stock addition)`` and a negative flow counts on the
other side (a negative outflow is an inflow). For a process balanced over all regions (below)
the throughput is taken from the regional flows before they are summed: a trade pool that
receives every region's net exports has a residual near 0 because the net exports cancel, and
its scale is the gross trade (total exports), not their sum (0).

Flows are never negative, except flows declared ``signed=True`` (e.g. a region's net export
to a trade pool, negative for a net importer): the check also rejects any other flow below
``-(atol + rtol * throughput)`` of its source and target processes.

A process is *balanced by region* when every flow and stock touching it has a ``region`` dim;
its residual keeps ``time`` and ``region``. Otherwise (e.g. global trade, a world market) its
residual is computed for the sum over all regions. All other dims (product, source, ...) are
summed. Boundary processes (by default ``"environment"``) are sources and sinks of the system
and are not balanced.

Example
-------
>>> import numpy as np, xarray as xr
>>> from mfa.core.system import Flow, Stock, ProcessSystem
>>> system = ProcessSystem(
...     "toy",
...     processes=["use"],
...     flows=[Flow("inflow", "environment", "use", ("time",)),
...            Flow("outflow", "use", "environment", ("time",))],
...     stocks=[Stock("in_use", "use", ("time",))],
... )
>>> t = {"time": [2000, 2001]}
>>> ds = system.to_dataset({
...     "inflow": xr.DataArray([3.0, 3.0], coords=t, dims="time", attrs={"units": "t/yr"}),
...     "outflow": xr.DataArray([1.0, 2.0], coords=t, dims="time", attrs={"units": "t/yr"}),
...     "in_use": xr.DataArray([2.0, 3.0], coords=t, dims="time", attrs={"units": "t"}),
... })
>>> float(abs(ds["mass_balance_residual"]).max())
0.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pint
import xarray as xr

from mfa.core.errors import MassBalanceError, MfaError
from mfa.core.units import to_canonical, unit_string

__all__ = [
    "RESIDUAL",
    "RESIDUAL_TOTAL",
    "THROUGHPUT",
    "THROUGHPUT_TOTAL",
    "Flow",
    "ProcessSystem",
    "Stock",
]

#: Dataset variable: residual per (time, process[, region]) [t/yr].
RESIDUAL = "mass_balance_residual"
#: Dataset variable: residual per (time, process), summed over regions [t/yr].
RESIDUAL_TOTAL = "mass_balance_residual_total"
#: Dataset variable: process throughput per (time, process[, region]) [t/yr].
THROUGHPUT = "process_throughput"
#: Dataset variable: process throughput per (time, process), summed over regions [t/yr].
THROUGHPUT_TOTAL = "process_throughput_total"

FLOW_UNIT = "t/yr"
STOCK_UNIT = "t"
_RESERVED_NAMES = frozenset({RESIDUAL, RESIDUAL_TOTAL, THROUGHPUT, THROUGHPUT_TOTAL})
_RESERVED_DIMS = frozenset({"process"})


def _check_dims(kind: str, name: str, dims: Any) -> tuple[str, ...]:
    if isinstance(dims, str):
        dims = (dims,)
    dims = tuple(dims)
    if not all(isinstance(d, str) and d for d in dims):
        raise MfaError(f"{kind} {name!r}: dims must be non-empty strings, got {dims!r}")
    if "time" not in dims:
        raise MfaError(f"{kind} {name!r}: dims {dims!r} must include 'time'")
    if len(set(dims)) != len(dims):
        raise MfaError(f"{kind} {name!r}: repeated dim in {dims!r}")
    bad = _RESERVED_DIMS.intersection(dims)
    if bad:
        raise MfaError(f"{kind} {name!r}: dim name {sorted(bad)[0]!r} is reserved for results")
    return dims


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise MfaError(f"{kind}: name must be a non-empty string, got {name!r}")
    if "/" in name:
        raise MfaError(f"{kind} {name!r}: name must not contain '/' (netCDF variable names)")


@dataclass(frozen=True)
class Flow:
    """A flow of material from one process to another.

    Parameters
    ----------
    name : str
        Variable name of the flow in values and results (e.g. ``"flow_mined"``).
    source, target : str
        Names of the processes the flow leaves and enters.
    dims : tuple of str
        Dims of the flow values; must include ``"time"``, e.g. ``("time", "region")``.
        Values are in a mass per time unit and are stored in ``t/yr``.
    signed : bool
        Whether values may be negative, meaning material moving from ``target`` to ``source``.
        Only for net flows, e.g. a region's net export to a trade pool (negative for a net
        importer). Default ``False``: :meth:`ProcessSystem.check_balance` rejects negative
        values, since a negative flow is almost always a wrong number (a yield above 1, a
        unit read wrongly).
    """

    name: str
    source: str
    target: str
    dims: tuple[str, ...] = ("time",)
    signed: bool = False

    def __post_init__(self) -> None:
        _check_name("flow", self.name)
        if not isinstance(self.signed, (bool, np.bool_)):
            raise MfaError(f"flow {self.name!r}: signed must be True or False, got {self.signed!r}")
        for end in (self.source, self.target):
            if not isinstance(end, str) or not end:
                raise MfaError(f"flow {self.name!r}: source and target must be process names")
        if self.source == self.target:
            raise MfaError(f"flow {self.name!r}: source and target are both {self.source!r}")
        object.__setattr__(self, "dims", _check_dims("flow", self.name, self.dims))


@dataclass(frozen=True)
class Stock:
    """A stock of material held in a process.

    Parameters
    ----------
    name : str
        Variable name of the stock in values and results (e.g. ``"in_use_stock"``).
    process : str
        Process that holds the stock.
    dims : tuple of str
        Dims of the stock values; must include ``"time"``. Values are a mass at the end of
        each year, stored in ``t``.
    """

    name: str
    process: str
    dims: tuple[str, ...] = ("time",)

    def __post_init__(self) -> None:
        _check_name("stock", self.name)
        if not isinstance(self.process, str) or not self.process:
            raise MfaError(f"stock {self.name!r}: process must be a process name")
        object.__setattr__(self, "dims", _check_dims("stock", self.name, self.dims))


def _duplicates(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for n in names:
        if n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    return dup


class ProcessSystem:
    """A declared system of processes, flows and stocks.

    Parameters
    ----------
    name : str
        Name of the system (used in messages and in the results' ``attrs["system"]``).
    processes : sequence of str
        Processes to balance. Names listed in ``boundary`` may also appear here; they are
        still not balanced.
    flows : sequence of Flow
        Flows between processes (or between a process and the boundary).
    stocks : sequence of Stock, optional
        Stocks held in processes.
    boundary : sequence of str, optional
        Processes outside the system (sources and sinks): not balanced. Default
        ``("environment",)``.
    pooled : sequence of str, optional
        Processes balanced over the sum of all regions even though their flows carry
        ``region``: e.g. a trade pool, whose regional net exports must cancel worldwide.
    kept_dims : sequence of str, optional
        Further dims kept in the residuals and checked cell by cell instead of summed, e.g.
        ``("sample",)`` for a Monte Carlo ensemble. Every flow and stock must carry them; a
        flow or stock computed without them (a parameter without a ``sample`` dim) is broadcast
        over them by :meth:`to_dataset`.
    region_dim : str or None, optional
        The dim of places (default ``"region"``): a process whose flows and stocks all carry it
        is balanced place by place; the others (and ``pooled`` ones) over the sum of places.
        ``None``: every process is balanced over all its dims summed.

    Raises
    ------
    MfaError
        For duplicate names, flows or stocks naming an unknown process, and processes that
        no flow touches.
    """

    def __init__(
        self,
        name: str,
        processes: Sequence[str],
        flows: Sequence[Flow],
        stocks: Sequence[Stock] = (),
        boundary: Sequence[str] = ("environment",),
        pooled: Sequence[str] = (),
        kept_dims: Sequence[str] = (),
        region_dim: str | None = "region",
    ) -> None:
        if isinstance(processes, str) or isinstance(boundary, str):
            raise MfaError(f"system {name!r}: processes and boundary must be sequences of names")
        self.name = str(name)
        self.flows: tuple[Flow, ...] = tuple(flows)
        self.stocks: tuple[Stock, ...] = tuple(stocks)
        self.boundary: tuple[str, ...] = tuple(boundary)
        for obj, cls in [(f, Flow) for f in self.flows] + [(s, Stock) for s in self.stocks]:
            if not isinstance(obj, cls):
                raise MfaError(f"system {name!r}: expected a {cls.__name__}, got {obj!r}")
        procs = list(processes)
        for p in procs + list(self.boundary):
            if not isinstance(p, str) or not p:
                raise MfaError(f"system {name!r}: process names must be non-empty strings")
        dup = _duplicates(procs) + _duplicates(list(self.boundary))
        if dup:
            raise MfaError(f"system {name!r}: process declared twice: {', '.join(map(repr, dup))}")
        if region_dim is not None and (not isinstance(region_dim, str) or not region_dim):
            raise MfaError(f"system {name!r}: region_dim must be a dim name or None, got "
                           f"{region_dim!r}")
        #: The dim of places along which processes are balanced (or None).
        self.region_dim: str | None = region_dim
        rd = region_dim or "region"
        self.kept_dims: tuple[str, ...] = tuple(kept_dims)
        bad_kept = [d for d in self.kept_dims if d in ("time", rd)]
        if bad_kept:
            raise MfaError(f"system {name!r}: {bad_kept[0]!r} cannot be a kept dim (always kept)")
        #: Balanced processes, in declaration order.
        self.processes: tuple[str, ...] = tuple(p for p in procs if p not in self.boundary)
        known = set(self.processes) | set(self.boundary)

        variables = [f.name for f in self.flows] + [s.name for s in self.stocks]
        dup = _duplicates(variables)
        if dup:
            raise MfaError(
                f"system {name!r}: flow/stock name used twice: {', '.join(map(repr, dup))}"
            )
        reserved = sorted(set(variables) & (_RESERVED_NAMES | {"time", rd, "process"}))
        if reserved:
            raise MfaError(f"system {name!r}: name {reserved[0]!r} is reserved for results")
        for f in self.flows:
            for end in (f.source, f.target):
                if end not in known:
                    raise MfaError(
                        f"system {name!r}: flow {f.name!r} ({f.source} -> {f.target}) names "
                        f"unknown process {end!r}; declared: {', '.join(sorted(known))}"
                    )
        for s in self.stocks:
            if s.process not in known:
                raise MfaError(
                    f"system {name!r}: stock {s.name!r} is in unknown process {s.process!r}; "
                    f"declared: {', '.join(sorted(known))}"
                )
        if not self.flows:
            raise MfaError(f"system {name!r}: declare at least one flow")
        for obj in self.flows + self.stocks:
            missing_kept = [d for d in self.kept_dims if d not in obj.dims]
            if missing_kept:
                raise MfaError(
                    f"system {name!r}: {obj.name!r} lacks kept dim(s) {', '.join(missing_kept)}"
                )
        touched = {f.source for f in self.flows} | {f.target for f in self.flows}
        lonely = [p for p in self.processes if p not in touched]
        if lonely:
            raise MfaError(
                f"system {name!r}: no flow enters or leaves process(es) {', '.join(lonely)}"
            )
        # A process is balanced by place when every flow and stock touching it has region_dim.
        self.regional: dict[str, bool] = {}
        for p in self.processes:
            dims = [f.dims for f in self.flows if p in (f.source, f.target)]
            dims += [s.dims for s in self.stocks if s.process == p]
            self.regional[p] = (region_dim is not None and p not in pooled
                                and all(region_dim in d for d in dims))
        unknown_pooled = sorted(set(pooled) - set(self.processes))
        if unknown_pooled:
            raise MfaError(
                f"system {name!r}: pooled process(es) {', '.join(unknown_pooled)} not declared"
            )

    @property
    def _rd(self) -> str:
        """The region dim's name (a name no flow can carry when ``region_dim`` is None)."""
        return self.region_dim if self.region_dim is not None else "\0no region dim"

    @property
    def _all_places(self) -> str:
        if self.region_dim is None:
            return "whole system"
        return "all regions" if self.region_dim == "region" else f"all {self.region_dim} labels"

    # ------------------------------------------------------------------ description
    def __repr__(self) -> str:
        return (
            f"ProcessSystem({self.name!r}, {len(self.processes)} processes, "
            f"{len(self.flows)} flows, {len(self.stocks)} stocks)"
        )

    def to_graph(self) -> list[tuple[str, str, str]]:
        """Edges of the system for drawing (e.g. a Sankey diagram).

        Returns
        -------
        list of (source, target, flow name)
            One edge per flow, in declaration order.
        """
        return [(f.source, f.target, f.name) for f in self.flows]

    def describe(self) -> str:
        """A short plain-text table of processes with their inflows, outflows and stocks.

        Returns
        -------
        str
            One line per process (boundary processes last, marked ``(boundary)``); flows are
            written ``name (<- source)`` and ``name (-> target)``; the last column says whether
            the balance is resolved by region.
        """
        rows = [("process", "inflows", "outflows", "stocks", "balance")]
        boundary = [p for p in self.boundary if any(p in (f.source, f.target) for f in self.flows)]
        for p in list(self.processes) + boundary:
            ins = ", ".join(f"{f.name} (<- {f.source})" for f in self.flows if f.target == p)
            outs = ", ".join(f"{f.name} (-> {f.target})" for f in self.flows if f.source == p)
            stocks = ", ".join(s.name for s in self.stocks if s.process == p)
            if p in self.boundary:
                label, balance = f"{p} (boundary)", "-"
            else:
                label = p
                balance = f"by {self.region_dim}" if self.regional[p] else self._all_places
            rows.append((label, ins or "-", outs or "-", stocks or "-", balance))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [
            f"Process system {self.name!r}: {len(self.processes)} processes, "
            f"{len(self.flows)} flows, {len(self.stocks)} stocks"
        ]
        for k, r in enumerate(rows):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    # ------------------------------------------------------------------ validation
    def _broadcast_kept(self, values: Mapping[str, xr.DataArray]) -> dict[str, xr.DataArray]:
        """Broadcast values lacking a kept dim (e.g. ``sample``) over it, attrs kept.

        A flow computed only from parameters without a ``sample`` dim is the same in every
        sample; the labels of the kept dim come from the values that have it.
        """
        out = dict(values)
        if not self.kept_dims:
            return out
        have = {d: next((da[d] for da in values.values() if d in da.dims), None)
                for d in self.kept_dims}
        for key, da in values.items():
            lacking = [d for d in self.kept_dims if d not in da.dims and have[d] is not None]
            if lacking:
                shape = [have[d].size for d in lacking]
                ones = xr.DataArray(np.ones(shape), dims=lacking,
                                    coords={d: have[d].values for d in lacking if d in have[d].coords})
                out[key] = (da * ones).assign_attrs(da.attrs)
                out[key].name = da.name
        return out

    # ------------------------------------------------------------------ validation
    def _validate(self, values: Mapping[str, Any]) -> dict[str, xr.DataArray]:
        """Check names, dims and units of ``values``; return canonical float arrays."""
        if not isinstance(values, Mapping):
            raise MfaError(
                f"system {self.name!r}: values must be a mapping of name -> DataArray, "
                f"got {type(values).__name__}"
            )
        declared = {f.name: (f, FLOW_UNIT) for f in self.flows}
        declared.update({s.name: (s, STOCK_UNIT) for s in self.stocks})
        given = [str(k) for k in values]
        unknown = [k for k in given if k not in declared]
        missing = [k for k in declared if k not in values]
        if unknown:
            raise MfaError(
                f"system {self.name!r}: unknown flow/stock name(s) {', '.join(map(repr, unknown))}; "
                f"declared: {', '.join(declared)}"
                + (f" (missing: {', '.join(missing)})" if missing else "")
            )
        if missing:
            raise MfaError(
                f"system {self.name!r}: no values for declared flow/stock(s) "
                f"{', '.join(map(repr, missing))}"
            )
        out: dict[str, xr.DataArray] = {}
        coords: dict[str, tuple[str, np.ndarray | None, int]] = {}  # dim -> (owner, labels, size)
        for key, (decl, _) in declared.items():
            if not isinstance(values[key], xr.DataArray):
                kind = "flow" if isinstance(decl, Flow) else "stock"
                raise MfaError(
                    f"system {self.name!r}: {kind} {key!r} must be an xarray.DataArray with "
                    f"units, got {type(values[key]).__name__}"
                )
        values = self._broadcast_kept(values)
        for key, (decl, unit) in declared.items():
            kind = "flow" if isinstance(decl, Flow) else "stock"
            da = values[key]
            if set(da.dims) != set(decl.dims) or len(da.dims) != len(decl.dims):
                raise MfaError(
                    f"system {self.name!r}: {kind} {key!r} has dims {tuple(da.dims)}, "
                    f"declared {decl.dims}"
                )
            da = to_canonical(da, unit, name=f"{kind} {key!r}").transpose(*decl.dims)
            da.name = key
            for dim in decl.dims:
                labels = np.asarray(da[dim].values) if dim in da.coords else None
                if dim in ("time", self.region_dim) and labels is None:
                    raise MfaError(
                        f"system {self.name!r}: {kind} {key!r}: dim {dim!r} has no coordinate labels"
                    )
                seen = coords.get(dim)
                if seen is None:
                    coords[dim] = (key, labels, da.sizes[dim])
                    continue
                owner, ref, size = seen
                same = size == da.sizes[dim] and (
                    ref is None or labels is None or np.array_equal(ref, labels)
                )
                if not same:
                    raise MfaError(
                        f"system {self.name!r}: {kind} {key!r}: coordinate {dim!r} "
                        f"{_short(labels, da.sizes[dim])} differs from that of {owner!r} "
                        f"{_short(ref, size)}"
                    )
                if ref is None and labels is not None:
                    coords[dim] = (key, labels, size)
            out[key] = da
        time = coords["time"][1] if "time" in coords else None
        if time is not None and time.size == 0:
            raise MfaError(f"system {self.name!r}: the time coordinate is empty")
        if time is not None and self.stocks and time.size > 1:
            steps = np.diff(time.astype(float))
            if not np.all(steps == 1.0):
                raise MfaError(
                    f"system {self.name!r}: years must be consecutive (step 1) to compute stock "
                    f"changes; got {_short(time, time.size)}"
                )
        return out

    def _initial(
        self, initial_stocks: Mapping[str, Any] | None, arrays: dict[str, xr.DataArray]
    ) -> dict[str, np.ndarray]:
        """Initial stocks reduced to (region,) or () float arrays in t; default 0."""
        initial_stocks = dict(initial_stocks or {})
        names = {s.name for s in self.stocks}
        unknown = [k for k in initial_stocks if k not in names]
        if unknown:
            raise MfaError(
                f"system {self.name!r}: initial stock given for unknown stock(s) "
                f"{', '.join(map(repr, unknown))}; stocks: {', '.join(sorted(names)) or 'none'}"
            )
        out: dict[str, np.ndarray] = {}
        for s in self.stocks:
            value = initial_stocks.get(s.name)
            dims = tuple(d for d in s.dims if d != "time")
            if value is None:
                continue
            label = f"initial stock {s.name!r}"
            if isinstance(value, pint.Quantity) and np.ndim(value.magnitude) == 0:
                value = xr.DataArray(value.magnitude, attrs={"units": str(value.units)})
            if not isinstance(value, xr.DataArray):
                raise MfaError(
                    f"system {self.name!r}: {label} must be a DataArray with units or a pint "
                    f"Quantity, got {type(value).__name__}"
                )
            if not set(value.dims) <= set(dims):
                raise MfaError(
                    f"system {self.name!r}: {label} has dims {tuple(value.dims)}, expected a "
                    f"subset of {dims}"
                )
            value = to_canonical(value, STOCK_UNIT, name=label)
            template = arrays[s.name].isel(time=0, drop=True)
            try:
                xr.align(value, template, join="exact")
            except ValueError as exc:
                raise MfaError(
                    f"system {self.name!r}: {label}: coordinates differ ({exc})"
                ) from None
            value = value.broadcast_like(template).transpose(*template.dims)
            out[s.name] = _reduce(value.values, dims, keep=(self._rd, *self.kept_dims))
        return out

    # ------------------------------------------------------------------ balance
    def to_dataset(
        self,
        values: Mapping[str, xr.DataArray],
        *,
        initial_stocks: Mapping[str, xr.DataArray | pint.Quantity] | None = None,
    ) -> xr.Dataset:
        """Validate flow and stock values and return them with the mass balance.

        Parameters
        ----------
        values : mapping of str to xarray.DataArray
            One array per declared flow and stock, with exactly the declared dims (any order)
            and units (pint-backed data or ``attrs["units"]``): flows a mass per time
            (e.g. ``kt/yr``), stocks a mass (e.g. ``kg``). Shared dims must have identical
            coordinates; ``time`` and ``region`` must have coordinate labels.
        initial_stocks : mapping of str to DataArray or pint.Quantity, optional
            Stock at the end of the year before the first model year, per stock name [mass];
            dims a subset of the stock's dims without ``time``. Default 0 for every stock.

        Returns
        -------
        xarray.Dataset
            Every flow [t/yr] and stock [t] in its declared dim order (flow attrs ``source``,
            ``target``; stock attrs ``process``), plus

            - ``mass_balance_residual`` (time, process[, region]) [t/yr]: inputs - outputs -
              stock change. ``region`` is present when some process is balanced by region;
              processes balanced only over all regions are NaN there.
            - ``mass_balance_residual_total`` (time, process) [t/yr]: the residual summed
              over regions (for every process).
            - ``process_throughput`` (same dims as the residual) [t/yr]:
              ``max(inputs + stock release, outputs + stock addition)``, a negative flow
              counted on the other side.
            - ``process_throughput_total`` (time, process) [t/yr]: summed over regions; for
              processes balanced over all regions, from the regional flows (gross, before
              net flows cancel over regions).

            ``attrs``: ``system`` and ``max_abs_mass_balance_residual`` [t/yr].

        Raises
        ------
        MfaError
            Unknown or missing names, wrong dims, mismatched coordinates, non-consecutive
            years with stocks.
        mfa.core.units.UnitError
            Missing units or units of the wrong dimensionality.
        """
        arrays = self._validate(values)
        initial = self._initial(initial_stocks, arrays)
        residual, total, throughput, throughput_total = self._balance(arrays, initial)
        ds = xr.Dataset(
            {k: arrays[k] for k in [f.name for f in self.flows] + [s.name for s in self.stocks]}
        )
        for f in self.flows:
            ds[f.name].attrs.update(source=f.source, target=f.target)
            ds[f.name].attrs.setdefault("long_name", f"flow {f.source} -> {f.target}")
        for s in self.stocks:
            ds[s.name].attrs.update(process=s.process)
            ds[s.name].attrs.setdefault("long_name", f"stock in {s.process}")
        ds[RESIDUAL] = residual
        ds[RESIDUAL_TOTAL] = total
        ds[THROUGHPUT] = throughput
        ds[THROUGHPUT_TOTAL] = throughput_total
        ds.attrs["system"] = self.name
        ds.attrs["max_abs_mass_balance_residual"] = _nanmax_abs(total.values, residual.values)
        return ds

    def residuals(
        self,
        values: Mapping[str, xr.DataArray],
        *,
        initial_stocks: Mapping[str, xr.DataArray | pint.Quantity] | None = None,
    ) -> xr.DataArray:
        """Mass-balance residual per process: inputs - outputs - stock change [t/yr].

        Same arguments as :meth:`to_dataset`; returns its ``mass_balance_residual``.
        """
        return self.to_dataset(values, initial_stocks=initial_stocks)[RESIDUAL]

    def _balance(
        self, arrays: dict[str, xr.DataArray], initial: dict[str, np.ndarray]
    ) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray, xr.DataArray]:
        first = arrays[self.flows[0].name]
        time = first["time"]
        n_t = time.size
        rd = self._rd
        regions = None
        for da in arrays.values():
            if rd in da.dims:
                regions = da[rd]
                break
        n_r = 0 if regions is None else regions.size
        kept = self.kept_dims
        extra_shape = tuple(first.sizes[d] for d in kept)
        keep = ("time", rd, *kept)
        procs = list(self.processes)
        reg_p = [p for p in procs if self.regional[p]]
        glob_p = [p for p in procs if not self.regional[p]]

        # Reduce every flow to (T, R) [regional] and (T,) [total]; stock changes likewise.
        # Index 0: the flow, 1: its positive part, 2: its negative part (as a positive number),
        # each summed over regions only after the split (the throughput of a trade pool).
        f_total = np.zeros((3, len(self.flows), n_t, *extra_shape))
        f_reg = np.zeros((3, len(self.flows), n_t, max(n_r, 0), *extra_shape))
        for k, f in enumerate(self.flows):
            a = _reduce(arrays[f.name].values, f.dims, keep=keep)
            parts = (a, np.maximum(a, 0.0), np.maximum(-a, 0.0))
            for i, part in enumerate(parts):
                if rd in f.dims:
                    f_reg[i, k] = part
                    f_total[i, k] = part.sum(axis=1)
                else:
                    f_total[i, k] = part
        s_total = np.zeros((len(self.stocks), n_t, *extra_shape))
        s_reg = np.zeros((len(self.stocks), n_t, max(n_r, 0), *extra_shape))
        for k, s in enumerate(self.stocks):
            a = _reduce(arrays[s.name].values, s.dims, keep=keep)
            a0 = initial.get(s.name, np.zeros(a.shape[1:]))
            change = np.diff(a, axis=0, prepend=a0[np.newaxis, ...])
            if rd in s.dims:
                s_reg[k] = change
                s_total[k] = change.sum(axis=1)
            else:
                s_total[k] = change

        def incidence(plist: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            """(P, F) into / out-of matrices and (P, S) stock matrix for processes ``plist``."""
            n_p, n_f, n_s = len(plist), len(self.flows), len(self.stocks)
            a_in = np.array([[f.target == p for f in self.flows] for p in plist], float)
            a_out = np.array([[f.source == p for f in self.flows] for p in plist], float)
            a_st = np.array([[s.process == p for s in self.stocks] for p in plist], float)
            return a_in.reshape(n_p, n_f), a_out.reshape(n_p, n_f), a_st.reshape(n_p, n_s)

        def balance(a_in, a_out, a_st, flows, changes):
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

        n_p = len(procs)
        total = np.zeros((n_t, n_p, *extra_shape))
        thr_total = np.zeros((n_t, n_p, *extra_shape))
        idx_g = [procs.index(p) for p in glob_p]
        idx_r = [procs.index(p) for p in reg_p]
        if glob_p:
            r, t = balance(*incidence(glob_p), f_total, s_total)
            total[:, idx_g] = r
            thr_total[:, idx_g] = t
        attrs = {"units": unit_string(FLOW_UNIT)}
        coords: dict[str, Any] = {"time": time.values, "process": procs}
        kept_coords = {d: first[d].values for d in kept if d in first.coords}
        total_coords = {**coords, **kept_coords}
        total_dims = ("time", "process", *kept)
        if reg_p:
            res = np.full((n_t, n_p, n_r, *extra_shape), np.nan)
            thr = np.full((n_t, n_p, n_r, *extra_shape), np.nan)
            r, t = balance(*incidence(reg_p), f_reg, s_reg)
            res[:, idx_r] = r
            thr[:, idx_r] = t
            total[:, idx_r] = r.sum(axis=2)
            thr_total[:, idx_r] = t.sum(axis=2)
            dims: tuple[str, ...] = ("time", "process", rd, *kept)
            coords[rd] = regions.values
            coords.update(kept_coords)
        else:
            res, thr, dims, coords = total, thr_total, total_dims, total_coords
        residual = xr.DataArray(
            res,
            coords=coords,
            dims=dims,
            name=RESIDUAL,
            attrs={
                **attrs,
                "long_name": "mass balance residual: inputs - outputs - stock change",
                "regions_summed": ",".join(glob_p),
            },
        )
        total_da = xr.DataArray(
            total,
            coords=total_coords,
            dims=total_dims,
            name=RESIDUAL_TOTAL,
            attrs={**attrs, "long_name": "mass balance residual summed over regions"},
        )
        throughput = xr.DataArray(
            thr,
            coords=coords,
            dims=dims,
            name=THROUGHPUT,
            attrs={
                **attrs,
                "long_name": "process throughput: max(inputs, outputs) incl. stock change",
            },
        )
        throughput_total = xr.DataArray(
            thr_total,
            coords=total_coords,
            dims=total_dims,
            name=THROUGHPUT_TOTAL,
            attrs={**attrs, "long_name": "process throughput summed over regions"},
        )
        return residual, total_da, throughput, throughput_total

    def check_balance(
        self,
        data: Mapping[str, xr.DataArray] | xr.Dataset,
        *,
        initial_stocks: Mapping[str, xr.DataArray | pint.Quantity] | None = None,
        rtol: float = 1e-9,
        atol: float = 1e-6,
    ) -> None:
        """Raise if any process does not balance or any flow not declared signed is negative.

        A cell (process, year[, region]) fails when
        ``|residual| > atol + rtol * throughput`` or when the residual is NaN. A flow cell
        fails when the flow is below ``-(atol + rtol * throughput)``, the throughput being the
        larger of those of its source and target processes (flows declared ``signed=True``
        are exempt). Processes balanced over all regions are checked against their gross
        throughput (module docstring), so net flows that cancel over regions do not make the
        tolerance vanish.

        Parameters
        ----------
        data : xarray.Dataset or mapping of str to DataArray
            A Dataset made by :meth:`to_dataset` (its stored residuals and throughputs are
            checked, not recomputed), or flow/stock values as for :meth:`to_dataset`.
        initial_stocks : mapping, optional
            As for :meth:`to_dataset` (only used when ``data`` holds values).
        rtol : float
            Tolerance relative to the process throughput [1].
        atol : float
            Absolute tolerance [t/yr]; default 1e-6 t/yr (one gram per year).

        Raises
        ------
        MassBalanceError
            For a negative flow: the flow, the worst cell (year, region, other labels) and its
            value in t/yr. Else for the balance: the worst cell (largest
            ``|residual| / (atol + rtol * throughput)``): its process, year and region
            (``all regions`` for processes balanced over the sum of regions), the residual in
            t/yr and relative to the throughput, and how many other cells fail.
        """
        stored = (RESIDUAL, RESIDUAL_TOTAL, THROUGHPUT, THROUGHPUT_TOTAL)
        if isinstance(data, xr.Dataset) and all(v in data for v in stored):
            ds = data
        else:
            ds = self.to_dataset(data, initial_stocks=initial_stocks)
        self._check_non_negative(ds, rtol=rtol, atol=atol)
        res, thr = ds[RESIDUAL], ds[THROUGHPUT]
        years = res["time"].values
        procs = [str(p) for p in res["process"].values]
        kept = [d for d in self.kept_dims if d in res.dims]
        # Cells to check: processes balanced by region per region, the others on their totals.
        # Arrays are (time, process[, region], *kept).
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]] = []
        rd = self._rd
        if rd in res.dims:
            mask = np.array([self.regional.get(p, False) for p in procs], dtype=bool)
            order = ("time", "process", rd, *kept)
            parts.append(
                (
                    res.transpose(*order).values[:, mask],
                    thr.transpose(*order).values[:, mask],
                    np.flatnonzero(mask),
                    True,
                )
            )
            if not mask.all():
                order = ("time", "process", *kept)
                parts.append(
                    (
                        ds[RESIDUAL_TOTAL].transpose(*order).values[:, ~mask],
                        ds[THROUGHPUT_TOTAL].transpose(*order).values[:, ~mask],
                        np.flatnonzero(~mask),
                        False,
                    )
                )
        else:
            order = ("time", "process", *kept)
            parts.append(
                (
                    res.transpose(*order).values,
                    thr.transpose(*order).values,
                    np.arange(len(procs)),
                    False,
                )
            )
        candidates: list[tuple[float, tuple[int, int, int | None, tuple[int, ...]], float, float]]
        candidates = []
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
        if not candidates:
            return
        _, (it, ip, ir, ik), value, through = max(candidates, key=lambda c: c[0])
        region = self._all_places if ir is None else f"{rd} {_label(res[rd].values[ir])!r}"
        for d, i in zip(kept, ik, strict=True):
            label = res[d].values[i] if d in res.coords else i
            region += f", {d} {_label(label)}"
        if np.isnan(value):
            gap = "residual is NaN (a flow or stock touching it has missing values)"
        else:
            if through > 0:
                rel = f"{abs(value) / through:.3g} of throughput {through:.6g} t/yr"
            else:
                rel = "throughput 0 t/yr"
            direction = "more in than out" if value > 0 else "more out than in"
            gap = f"inputs - outputs - stock change = {value:.6g} t/yr ({direction}; {rel})"
        others = f"; {n_fail - 1} other cell(s) also fail" if n_fail > 1 else ""
        raise MassBalanceError(
            f"mass balance of system {self.name!r} fails: process {procs[ip]!r}, year "
            f"{_label(years[it])}, {region}: {gap}; tolerance rtol={rtol:g}, atol={atol:g} t/yr"
            f"{others}"
        )


    def _flow_scale(self, ds: xr.Dataset, flow: Flow) -> xr.DataArray | float:
        """Larger throughput of the balanced processes at either end of ``flow`` [t/yr]."""
        scales = []
        for p in (flow.source, flow.target):
            if p not in self.processes:
                continue
            by_region = self.regional[p] and self._rd in ds[THROUGHPUT].dims
            scales.append(ds[THROUGHPUT if by_region else THROUGHPUT_TOTAL].sel(process=p, drop=True))
        if not scales:
            return 0.0
        return scales[0] if len(scales) == 1 else np.fmax(scales[0], scales[1])

    def _check_non_negative(self, ds: xr.Dataset, *, rtol: float, atol: float) -> None:
        """Raise MassBalanceError for the most negative flow not declared ``signed``."""
        worst: tuple[float, Flow, xr.DataArray, tuple[int, ...]] | None = None
        n_fail = 0
        for f in self.flows:
            values = ds[f.name]
            if f.signed or not bool((values < -atol).any()):
                continue
            scale = xr.DataArray(self._flow_scale(ds, f)).fillna(0.0)
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
                where.append(f"{d} {label!r}" if d == self._rd else f"{d} {label}")
        others = f"; {n_fail - 1} other cell(s) of negative flows" if n_fail > 1 else ""
        raise MassBalanceError(
            f"system {self.name!r}: flow {f.name!r} ({f.source} -> {f.target}) is negative in "
            f"{', '.join(where)}: {float(values.values[pos]):.6g} t/yr; flows must be >= 0 "
            f"(tolerance rtol={rtol:g} of throughput, atol={atol:g} t/yr; only flows declared "
            f"signed may be negative){others}"
        )


def _reduce(values: np.ndarray, dims: Sequence[str], *, keep: Sequence[str]) -> np.ndarray:
    """Sum all axes except those in ``keep`` (present in ``dims``), returned in ``keep`` order."""
    kept = [d for d in keep if d in dims]
    order = [dims.index(d) for d in kept] + [i for i, d in enumerate(dims) if d not in kept]
    arr = np.transpose(np.asarray(values, dtype=float), order)
    shape = arr.shape[: len(kept)]
    return arr.reshape((*shape, -1)).sum(axis=-1)


def _nanmax_abs(*arrays: np.ndarray) -> float:
    vals = [np.abs(a[~np.isnan(a)]) for a in arrays]
    vals = [v for v in vals if v.size]
    return float(max(v.max() for v in vals)) if vals else 0.0


def _label(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _short(labels: np.ndarray | None, size: int) -> str:
    if labels is None:
        return f"(size {size}, no labels)"
    items = [_label(v) for v in labels[:4]]
    more = ", ..." if size > 4 else ""
    return f"[{', '.join(items)}{more}] (size {size})"
