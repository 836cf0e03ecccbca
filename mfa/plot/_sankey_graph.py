"""The flow graph of a Sankey diagram (used by :mod:`mfa.plot.sankey`).

From the results: the flows (variables whose attrs name their ``source`` and ``target``
processes) and stock changes of one region or the world, then the display graph a layout asks
for (re-routed, derived, hidden and merged flows; pooled processes left out, their net flows
becoming stubs), then its structure: the loop (flows closing a cycle, by depth-first search
from the system's inputs), the processes drawn below the chain and the columns (longest path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from mfa.core.errors import MfaError
from mfa.core.system import RESIDUAL
from mfa.core.units import conversion_factor
from mfa.plot import _sankey_geometry as geo

if TYPE_CHECKING:  # pragma: no cover
    from mfa.plot.sankey import SankeyLayout


def style(layout: SankeyLayout, node: str, attr: str) -> Any:
    """``layout.nodes[node].<attr>``, or None."""
    st = layout.nodes.get(node)
    return None if st is None else getattr(st, attr)


def palette() -> dict[str, str]:
    from mfa.plot import OKABE_ITO  # here, not at import: mfa.plot may be importing us

    c = OKABE_ITO
    return {"main": c["blue"], "loop": c["bluish_green"], "loss": c["grey"],
            "stock": c["orange"], "input": c["orange"], "trade": c["reddish_purple"],
            "imbalance": c["vermillion"], "stub": c["orange"], "release": c["orange"]}



def flow_ends(ds: xr.Dataset, flows: Sequence[str] | None = None) -> dict[str, tuple[str, str]]:
    if not isinstance(ds, xr.Dataset):
        raise MfaError(f"sankey: expected the results xarray.Dataset, got {type(ds).__name__}")
    attrs = {str(n): ds.variables[n].attrs for n in ds.data_vars}
    ends = {n: (str(a["source"]), str(a["target"])) for n, a in attrs.items()
            if "source" in a and "target" in a}
    if not ends:
        raise MfaError("sankey: the results have no flow variables (variables whose attrs "
                       "name their 'source' and 'target' processes, as ProcessSystem."
                       "to_dataset writes them)")
    if flows is not None:
        unknown = [f for f in flows if f not in ends]
        if unknown:
            raise MfaError(f"sankey: {', '.join(map(repr, unknown))} not among the flows of the "
                           f"results ({', '.join(ends)})")
        ends = {f: ends[f] for f in flows}
    return ends


def check_year(ds: xr.Dataset, year: Any) -> int:
    years = [int(t) for t in ds["time"].values]
    ok = isinstance(year, int | np.integer) or (isinstance(year, float) and year.is_integer())
    if not ok or int(year) not in years:
        raise MfaError(f"sankey: year {year!r} is not in the results; expected an integer year "
                       f"of the time coordinate ({years[0]}-{years[-1]})")
    return int(year)


def _cell(da: xr.DataArray, region: str | None, name: str) -> xr.DataArray:
    """``da`` for one region (or summed over regions) with every dim but time summed."""
    if "sample" in da.dims:
        raise MfaError(f"sankey: {name!r} has a 'sample' dim; select one sample or a statistic "
                       "first")
    if region is not None:
        if "region" not in da.dims:
            raise MfaError(f"sankey: {name!r} has no 'region' dim, so it cannot be shown for "
                           f"region {region!r}")
        labels = [str(r) for r in da["region"].values]
        if region not in labels:
            raise MfaError(f"sankey: region {region!r} is not in the results; expected one of "
                           f"{', '.join(labels)} (or None for the world)")
        da = da.sel(region=region)
    return da.sum([d for d in da.dims if d != "time"])


def _factor(da: xr.DataArray, unit: str, name: str) -> float:
    if "units" not in da.attrs:
        raise MfaError(f"sankey: {name!r} has no units attribute; expected a unit of {unit}")
    return conversion_factor(str(da.attrs["units"]), unit, name)



def series(ds: xr.Dataset, region: str | None, flows: Sequence[str] | None = None,
            stocks: Mapping[str, str] | None = None) -> dict[str, np.ndarray]:
    """:func:`sankey_values` for every year at once (arrays along ``time``)."""
    ends = flow_ends(ds, flows)
    years = np.asarray(ds["time"].values, dtype=float)
    out: dict[str, np.ndarray] = {}

    def along_time(name: str, unit: str) -> np.ndarray:
        da = ds[name]
        if "time" not in da.dims:
            raise MfaError(f"sankey: {name!r} has no 'time' dim")
        cell = _cell(da, region, name).transpose("time").reindex(time=ds["time"])
        return cell.values * _factor(da, unit, name)

    for name in ends:
        out[name] = along_time(name, "t/yr")
    held = {str(n): str(ds.variables[n].attrs["process"]) for n in ds.data_vars
            if "process" in ds.variables[n].attrs}
    for name, proc in (stocks or {}).items():
        if name not in ds.data_vars:
            raise MfaError(f"sankey: stock {name!r} (of process {proc!r}) is not in the results")
        held.setdefault(name, proc)
    for name, proc in held.items():
        stock = along_time(name, "t")
        change = np.diff(stock, prepend=0.0) / np.diff(years, prepend=years[0] - 1.0)
        key = f"stock_change/{proc}"
        out[key] = out.get(key, 0.0) + change
    return out



def _boundary_pooled(ds: xr.Dataset, layout: SankeyLayout,
                     ends: Mapping[str, tuple[str, str]]) -> tuple[set[str], set[str]]:
    res = ds[RESIDUAL] if RESIDUAL in ds else None
    if layout.boundary is not None:
        boundary = set(layout.boundary)
    elif res is not None and "process" in res.dims:
        procs = {str(p) for p in res["process"].values}
        boundary = {e for st in ends.values() for e in st} - procs
    else:
        boundary = {"environment"}
    if layout.pooled is not None:
        pooled = set(layout.pooled)
    elif res is not None and "region" in res.dims:
        pooled = {p for p in str(res.attrs.get("regions_summed", "")).split(",") if p}
    else:
        pooled = set()
    return boundary, pooled


def _display_flows(values: Mapping[str, float], layout: SankeyLayout,
                   ends: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str, float]]:
    flows = {n: (s, t, values[n]) for n, (s, t) in ends.items()}
    for name, df in layout.flows.items():
        if df.terms is None:
            if name not in flows:
                raise MfaError(f"sankey layout: display flow {name!r} re-routes a flow the "
                               "results lack")
            flows[name] = (df.source, df.target, flows[name][2])
            continue
        missing = [t for t in df.terms if t not in values]
        if missing:
            raise MfaError(f"sankey layout: display flow {name!r} needs flow(s) "
                           f"{', '.join(missing)}, which the results lack")
        flows[name] = (df.source, df.target, sum(c * values[t] for t, c in df.terms.items()))
    for name in layout.hide:
        if flows.pop(name, None) is None:
            raise MfaError(f"sankey layout: hidden flow {name!r} is not in the results")
    return flows


def label(name: str) -> str:
    return name.removeprefix("flow_").replace("_", " ")


@dataclass
class Graph:
    nodes: list[str]
    bands: list[geo.BandSpec]
    trading: set[str]


def build(ds: xr.Dataset, values: Mapping[str, float], layout: SankeyLayout,
           where: str) -> Graph:
    """Display nodes and bands (colours and routes come later), with stocks and stubs."""
    ends = flow_ends(ds)
    boundary, pooled = _boundary_pooled(ds, layout, ends)
    tol = 1e-9 * max([abs(v) for v in values.values()] + [1e-300])
    nodes: list[str] = []
    bands: list[geo.BandSpec] = []
    trading: set[str] = set()
    for key, (s, t, v) in _display_flows(values, layout, ends).items():
        s, t = layout.merge.get(s, s), layout.merge.get(t, t)
        if s in pooled or t in pooled:
            trading.update(x for x in (s, t) if x not in pooled | boundary)
            continue
        if s == t or (s in boundary and t in boundary):
            continue
        if v < -tol:
            raise MfaError(f"sankey: flow {key!r} ({s} -> {t}) is negative ({v:.6g} t/yr) "
                           f"{where}; a band cannot be negative")
        nodes += [x for x in (s, t) if x not in boundary and x not in nodes]
        kind = ("input" if s in boundary else
                ("stub_out" if key in layout.stubs else "loss") if t in boundary else "flow")
        text = layout.stubs.get(key) or layout.labels.get(key)
        bands.append(geo.BandSpec(key, None if s in boundary else s,
                                  None if t in boundary else t, max(v, 0.0), kind, "", text))
    for key, v in values.items():
        if not key.startswith("stock_change/"):
            continue
        proc = key.removeprefix("stock_change/")
        n = layout.merge.get(proc, proc)
        if n not in nodes:
            nodes.append(n)
        if v > tol:
            bands.append(geo.BandSpec(f"stock_change/{n}", n, f"stock/{n}", v, "stock", "",
                                      None))
        elif v < -tol:
            bands.append(geo.BandSpec(f"stock_release/{n}", None, n, -v, "stub_in", "",
                                      "from stock"))
    for n in nodes:
        gap = sum(b.value for b in bands if b.target == n) - sum(
            b.value for b in bands if b.source == n)
        trade = n in trading
        if gap > tol:
            key, text = ("net_export", "net export") if trade else ("imbalance", "imbalance")
            bands.append(geo.BandSpec(f"{key}/{n}", n, None, gap, "stub_out", "", text))
        elif gap < -tol:
            key, text = ("net_import", "net import") if trade else ("imbalance", "imbalance")
            bands.append(geo.BandSpec(f"{key}/{n}", None, n, -gap, "stub_in", "", text))
    return Graph(nodes, bands, trading)


def _back_edges(nodes: Sequence[str], flows: Sequence[geo.BandSpec],
                roots: Sequence[str]) -> set[str]:
    """Flows closing a cycle in a depth-first search from ``roots`` (then the other nodes)."""
    adj: dict[str, list[tuple[str, str]]] = {n: [] for n in nodes}
    for b in flows:
        adj[b.source].append((b.target, b.key))
    state: dict[str, int] = {}
    back: set[str] = set()

    def visit(n: str) -> None:
        state[n] = 1
        for t, key in adj[n]:
            if state.get(t) == 1:
                back.add(key)
            elif t not in state:
                visit(t)
        state[n] = 2

    for n in [*roots, *nodes]:
        if n not in state:
            visit(n)
    return back


def structure(graph: Graph, layout: SankeyLayout) -> tuple[dict[str, float], set[str],
                                                              set[str]]:
    """Columns of the nodes, the loop nodes and the loop flows."""
    flows = [b for b in graph.bands if b.kind == "flow"]
    roots = [b.target for b in graph.bands if b.kind == "input"]
    nodes = graph.nodes
    if layout.loop is not None:
        unknown = sorted(set(layout.loop) - {b.key for b in flows})
        if unknown:
            raise MfaError(f"sankey layout: loop flow(s) {', '.join(unknown)} are not flows "
                           "between drawn processes")
        loop = set(layout.loop)
    else:
        back = _back_edges(nodes, flows, roots)
        loop = set(back)
        for n in nodes:  # processes that only close cycles belong to it, with their inputs
            outs = [b.key for b in flows if b.source == n]
            if outs and set(outs) <= back:
                loop |= {b.key for b in flows if b.target == n}
    loop_nodes = set()
    for n in nodes:
        touching = [b.key for b in flows if n in (b.source, b.target)]
        auto = bool(touching) and set(touching) <= loop
        if auto if style(layout, n, "loop") is None else style(layout, n, "loop"):
            loop_nodes.add(n)
    chain = [n for n in nodes if n not in loop_nodes]
    forward = [b for b in flows if b.key not in loop and b.source in chain and b.target in chain]
    cycles = _back_edges(chain, forward, roots)
    forward = [b for b in forward if b.key not in cycles]
    col: dict[str, float] = {}

    def column(n: str) -> float:
        if n not in col:
            fixed = style(layout, n, "column")
            col[n] = fixed if fixed is not None else max(
                (column(b.source) + 1 for b in forward if b.target == n), default=0.0)
        return col[n]

    for n in chain:
        column(n)
    for n in sorted(loop_nodes):
        fixed = style(layout, n, "column")
        lo = max((col[b.target] for b in flows if b.source == n and b.target in col), default=0)
        hi = min((col[b.source] for b in flows if b.target == n and b.source in col),
                 default=lo + 1)
        col[n] = fixed if fixed is not None else (lo + 0.625 * (hi - lo) if hi > lo else lo + 0.5)
    return col, loop_nodes, loop | cycles


def specs(graph: Graph, layout: SankeyLayout) -> tuple[dict[str, geo.NodeSpec],
                                                          set[str]]:
    """Node specs (stock nodes included) and band colours/labels; returns the kinds drawn."""
    col, loop_nodes, loop = structure(graph, layout)
    pal = palette()
    specs: dict[str, geo.NodeSpec] = {}
    for n in graph.nodes:
        is_loop = n in loop_nodes
        specs[n] = geo.NodeSpec(
            style(layout, n, "label") or n.replace("_", " ").capitalize(), col[n],
            style(layout, n, "colour") or (pal["loop"] if is_loop else "#333333"),
            "#00614A" if is_loop else "black", is_loop, style(layout, n, "row") or 0.0)
    kinds: set[str] = set()
    for b in graph.bands:
        if b.kind == "stock" and b.source in loop_nodes:  # no room for a stock node below
            b.kind, b.target, b.text = "stub_out", None, "added to stock"
        elif b.kind == "stock":
            specs[b.target] = geo.NodeSpec(layout.stock_labels.get(b.source, "Added to stock"),
                                           col[b.source] + 1, pal["stock"], "#8A5A00",
                                           row=-1.0, stock_of=b.source)
        kind = {"loss": "loss", "input": "input", "stock": "stock"}.get(b.kind)
        if b.kind == "flow":
            kind = "loop" if b.key in loop else "main"
            if kind == "loop" or b.source in loop_nodes or b.target in loop_nodes:
                b.text = b.text or label(b.key)
        elif b.kind in ("loss", "input"):
            b.text = b.text or label(b.key)
        elif b.key.startswith(("net_", "imbalance")):
            kind = "trade" if b.key.startswith("net_") else "imbalance"
        elif b.kind in ("stub_in", "stub_out"):
            kind = "stub" if b.key in layout.stubs else "release"
        b.colour = pal[kind]
        if b.value > 0:
            kinds.add(kind)
    return specs, kinds

