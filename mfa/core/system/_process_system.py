"""The declared process system: its checks at construction, its description, its results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pint
import xarray as xr

from mfa.core.errors import MfaError
from mfa.core.system import _balance, _values
from mfa.core.system._parts import (
    _RESERVED_NAMES,
    RESIDUAL,
    RESIDUAL_TOTAL,
    THROUGHPUT,
    THROUGHPUT_TOTAL,
    Flow,
    Stock,
    _duplicates,
    _nanmax_abs,
)


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
        procs = self._check_parts(processes, region_dim)
        #: The dim of places along which processes are balanced (or None).
        self.region_dim: str | None = region_dim
        self.kept_dims: tuple[str, ...] = tuple(kept_dims)
        bad_kept = [d for d in self.kept_dims if d in ("time", region_dim or "region")]
        if bad_kept:
            raise MfaError(f"system {name!r}: {bad_kept[0]!r} cannot be a kept dim (always kept)")
        #: Balanced processes, in declaration order.
        self.processes: tuple[str, ...] = tuple(p for p in procs if p not in self.boundary)
        self._check_names(region_dim or "region")
        self._check_ends()
        #: Per balanced process: True when it is balanced place by place.
        self.regional: dict[str, bool] = self._balanced_by_place(region_dim, pooled)

    def _check_parts(self, processes: Sequence[str], region_dim: str | None) -> list[str]:
        """Flows and stocks are Flow and Stock objects, process names unique non-empty strings,
        ``region_dim`` a name or None; returns the processes as a list."""
        name = self.name
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
        return procs

    def _check_names(self, rd: str) -> None:
        """Flow and stock names are unique and not reserved for results."""
        variables = [f.name for f in self.flows] + [s.name for s in self.stocks]
        dup = _duplicates(variables)
        if dup:
            raise MfaError(
                f"system {self.name!r}: flow/stock name used twice: {', '.join(map(repr, dup))}"
            )
        reserved = sorted(set(variables) & (_RESERVED_NAMES | {"time", rd, "process"}))
        if reserved:
            raise MfaError(f"system {self.name!r}: name {reserved[0]!r} is reserved for results")

    def _check_ends(self) -> None:
        """Flows and stocks name declared processes and carry the kept dims; every balanced
        process is touched by a flow."""
        name = self.name
        known = set(self.processes) | set(self.boundary)
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

    def _balanced_by_place(self, region_dim: str | None, pooled: Sequence[str]) -> dict[str, bool]:
        """A process is balanced by place when every flow and stock touching it has
        ``region_dim`` and it is not pooled."""
        regional: dict[str, bool] = {}
        for p in self.processes:
            dims = [f.dims for f in self.flows if p in (f.source, f.target)]
            dims += [s.dims for s in self.stocks if s.process == p]
            regional[p] = (region_dim is not None and p not in pooled
                           and all(region_dim in d for d in dims))
        unknown_pooled = sorted(set(pooled) - set(self.processes))
        if unknown_pooled:
            raise MfaError(
                f"system {self.name!r}: pooled process(es) {', '.join(unknown_pooled)} not declared"
            )
        return regional

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
        arrays = _values.validate(self, values)
        initial = _values.initial_stocks(self, initial_stocks, arrays)
        residual, total, throughput, throughput_total = _balance.balance(self, arrays, initial)
        for f in self.flows:
            arrays[f.name].attrs.update(source=f.source, target=f.target)
            arrays[f.name].attrs.setdefault("long_name", f"flow {f.source} -> {f.target}")
        for s in self.stocks:
            arrays[s.name].attrs.update(process=s.process)
            arrays[s.name].attrs.setdefault("long_name", f"stock in {s.process}")
        names = [f.name for f in self.flows] + [s.name for s in self.stocks]
        ds = _values.dataset({**{k: arrays[k] for k in names}, RESIDUAL: residual,
                              RESIDUAL_TOTAL: total, THROUGHPUT: throughput,
                              THROUGHPUT_TOTAL: throughput_total})
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
        _balance.check_balance(self, ds, rtol=rtol, atol=atol)
