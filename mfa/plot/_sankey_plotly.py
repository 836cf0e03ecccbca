"""The interactive Sankey diagram (plotly), drawn from the geometry of :func:`mfa.plot.sankey`.

Re-exported by :mod:`mfa.plot.sankey` (``sankey_html``, ``sankey_plotly``); the static
figure's helpers (diagram, title, caption, display unit) are read from that module at call
time, so either module may be imported first.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from mfa.core.errors import MfaError
from mfa.plot import _sankey_geometry as geo
from mfa.plot import _sankey_graph as graph

if TYPE_CHECKING:
    from mfa.plot.sankey import SankeyLayout

__all__ = ["sankey_html", "sankey_plotly"]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def _plotly_data(d: geo.Diagram, factor: float) -> tuple[dict[str, tuple], dict[tuple, tuple]]:
    """Nodes and links of one year's diagram for a plotly Sankey trace.

    Nodes sit where :func:`mfa.plot.sankey.sankey` draws them (axis units). A loss goes into a small sink of
    its own just right of its process (above the chain, or below a loop node), not into one
    sink on the right, so that no loss band crosses the chain: plotly draws every band as one
    curve from its source's right side to its target's left side. Net import/export stubs
    end half-way to the previous/next column, below the labels of the nodes they touch.

    Returns
    -------
    nodes : dict
        Node key -> (name, colour, x, y [axis units, y up], whether the name is drawn).
        Net import/export stubs show their name on hover only: drawn, it would run into the
        labels of the processes around.
    links : dict
        (source key, target key, band key) -> (value [displayed unit], colour, label).
    """
    nodes: dict[str, tuple] = {n: (s.label, d.rects[n][3], *d.anchors[n], True)
                               for n, s in d.nodes.items()}
    links: dict[tuple, tuple] = {}
    sinks: dict[str, int] = {}  # losses of a process so far: their sinks are stacked
    chain_top = max((top for n, (_, top, _, _) in d.rects.items()
                     if n in d.nodes and not d.nodes[n].loop), default=0.0)
    for b in d.bands:
        if b.width <= 0:
            continue
        text = b.text or graph.label(b.key)
        if b.route in ("riser", "bottom"):
            x, top, h, _ = d.rects[b.source]
            j = sinks[b.source] = sinks.get(b.source, -1) + 1
            anchor = f"{b.key}@loss"
            y = (top - h - (0.3 + 0.35 * j) if b.route == "bottom" else
                 chain_top + geo.LH + 0.2 + 0.35 * j)
            nodes[anchor] = (text, "#888888", x + 0.55 * geo.DX, y, True)
            ends = (b.source, anchor)
        elif b.route in ("input", "stub_in", "stub_out"):
            node = b.target if b.route != "stub_out" else b.source
            anchor = f"{b.key}@{node}"
            x, y = d.anchors[anchor]
            # half-way to the next (previous) column, below the node's label
            if b.route == "stub_out":
                x, y = d.rects[node][0] + 0.5 * geo.DX, y - 0.3
            else:
                # an input (from the environment) sits further left: its name, drawn to the
                # right of it, must clear the label of the process it feeds
                x = d.rects[node][0] - (0.5 if b.route == "stub_in" else 0.9) * geo.DX
                y = y - (0.3 if b.route == "stub_in" else 0)
            nodes[anchor] = (text, b.colour, x, y, b.route == "input")
            ends = (b.source, anchor) if b.route == "stub_out" else (anchor, b.target)
        else:
            ends = (b.source, b.target)
        links[(*ends, b.key)] = (float(f"{b.value * factor:.4g}"), _rgba(b.colour, 0.5), text)
    return nodes, links


def _unit_square(xy: np.ndarray) -> np.ndarray:
    """Axis coordinates (y up) -> plotly's node positions in (0, 1) (y down; 0 is ignored)."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    norm = 0.03 + 0.94 * (xy - lo) / np.where(hi > lo, hi - lo, 1.0)
    return np.round(np.column_stack([norm[:, 0], 1.0 - norm[:, 1]]), 4)


#: Value of a band absent in a year: nodes keep their index (plotly drops unlinked nodes).
_ABSENT = 1e-9


def _plotly_figure(go: Any, steps: list[tuple[int, tuple[dict, dict], str]], unit: str) -> Any:
    """One plotly Sankey for all steps; a slider restyles only values and positions.

    Every year has the same nodes and links (the union over the years, a band absent in a
    year has a negligible value and its node no label), so a year costs its link values and
    node positions only: the labels and colours are written once.
    """
    node_keys: dict[str, tuple] = {}
    link_keys: dict[tuple, tuple] = {}
    for _, (nodes, links), _ in steps:
        for k, v in nodes.items():
            node_keys.setdefault(k, v)
        for k, v in links.items():
            link_keys.setdefault(k, v)
    linked = {n for k in link_keys for n in k[:2]}  # plotly drops unlinked nodes, and the
    node_keys = {k: v for k, v in node_keys.items() if k in linked}  # positions would shift
    index = {k: i for i, k in enumerate(node_keys)}

    def year_arrays(nodes: dict, links: dict) -> dict[str, list]:
        xy = np.array([nodes[k][2:4] for k in nodes], dtype=float)
        where = dict(zip(nodes, _unit_square(xy).tolist(), strict=True))
        fallback = [0.5, 0.5]
        pos = [where.get(k, fallback) for k in node_keys]
        return {"link.value": [links[k][0] if k in links else _ABSENT for k in link_keys],
                "node.x": [p[0] for p in pos], "node.y": [p[1] for p in pos],
                "node.label": [v[0] if k in nodes and v[4] else "" for k, v in node_keys.items()]}

    arrays = [(y, year_arrays(*data), title) for y, data, title in steps]
    _, last, title = arrays[-1]
    node = {"label": last["node.label"], "color": [v[1] for v in node_keys.values()],
            "customdata": [[k, v[0]] for k, v in node_keys.items()],
            "x": last["node.x"], "y": last["node.y"], "pad": 6, "thickness": 10,
            "line": {"width": 0}, "hovertemplate": "%{customdata[1]}: %{value}<extra></extra>"}
    link = {"source": [index[k[0]] for k in link_keys],
            "target": [index[k[1]] for k in link_keys],
            "value": last["link.value"], "color": [v[1] for v in link_keys.values()],
            "label": [v[2] for v in link_keys.values()], "customdata": [k[2] for k in link_keys],
            "hovertemplate": "%{label}: %{value}<extra></extra>"}
    fig = go.Figure(go.Sankey(arrangement="fixed", valueformat=".4~g", valuesuffix=f" {unit}",
                              node=node, link=link))
    fig.update_layout(title={"text": title, "x": 0.02}, font={"size": 12}, height=640,
                      margin={"l": 20, "r": 20, "t": 50, "b": 20})
    if len(steps) > 1:
        if all(a["node.label"] == last["node.label"] for _, a, _ in arrays):
            for _, a, _ in arrays:  # the same in every year: written once, in the trace
                del a["node.label"]
        fig.update_layout(margin={"b": 90}, height=700, sliders=[{
            "active": len(steps) - 1, "currentvalue": {"prefix": "Year: "}, "pad": {"t": 10},
            "steps": [{"method": "update", "label": str(y),
                       "args": [{k: [v] for k, v in a.items()}, {"title.text": t}]}
                      for y, a, t in arrays]}])
    return fig


def sankey_plotly(ds: xr.Dataset, year: int | None = None, region: str | None = None, *,
                  layout: SankeyLayout | None = None) -> Any:
    """The plotly figure of :func:`sankey_html` (e.g. to embed in a page of one's own).

    Parameters and raises as :func:`sankey_html`.

    Returns
    -------
    plotly.graph_objects.Figure
        One Sankey trace; with ``year=None`` a slider through every year.
        ``fig.layout.meta["caption"]`` says what the colours mean (as :func:`mfa.plot.sankey.sankey`).
    """
    try:
        import plotly.graph_objects as go
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MfaError("sankey_html needs plotly, an optional extra: pip install "
                       "'nd-mfa[plotly]' (or pip install plotly)") from exc
    # the module, not the function mfa.plot re-exports under the same name
    static = importlib.import_module("mfa.plot.sankey")
    layout = layout or static.SankeyLayout()
    graph.flow_ends(ds)
    years = ([graph.check_year(ds, year)] if year is not None else
             [int(t) for t in ds["time"].values])
    series = graph.series(ds, region, stocks=layout.stocks)
    index = {int(t): i for i, t in enumerate(ds["time"].values)}
    values = {y: {k: float(v[index[y]]) for k, v in series.items()} for y in years}
    factor, unit = static._display_unit({str(y): max(map(abs, v.values())) for y, v in values.items()})
    steps = []
    kinds: set[str] = set()
    for y in years:
        d, drawn = static._diagram(ds, values[y], layout, y, region, factor, unit)
        kinds |= drawn
        steps.append((y, _plotly_data(d, factor), static._title(ds, layout, y, region, unit)))
    fig = _plotly_figure(go, steps, unit)
    fig.update_layout(meta={"caption": static._caption(ds, layout, kinds) + " Hover a band or a "
                            "node for its name and value."})
    return fig


def sankey_html(ds: xr.Dataset, year: int | None = None, region: str | None = None, *,
                layout: SankeyLayout | None = None, path: str | Path | None = None,
                include_plotlyjs: bool | str = "cdn", outputs: Any = None) -> str | Path:
    """Interactive Sankey diagram (plotly) with the static figure's node positions.

    Needs the optional extra ``plotly``. Nodes sit where :func:`mfa.plot.sankey.sankey` draws them
    (normalised to the unit square, ``arrangement="fixed"``); each loss goes into a small sink
    of its own right of its process (plotly draws every band as one curve, so a band into one
    sink on the right would cross the chain); values are rounded to 4 significant digits.
    With ``year=None`` one figure has a slider through every year of the results: a year
    restyles only the band values and node positions (under 1 kB a year; labels and colours
    are written once).

    Parameters
    ----------
    ds : xarray.Dataset
        Results as for :func:`mfa.plot.sankey.sankey`.
    year : int, optional
        One year; ``None`` (default) all years, with a slider (starting at the last year).
    region : str, optional
        Region; ``None`` sums over regions (world).
    layout : SankeyLayout, optional
        As for :func:`mfa.plot.sankey.sankey`.
    path : str or pathlib.Path, optional
        Write the HTML there (atomically) and return the path; default return the HTML text.
    include_plotlyjs : bool or str
        As plotly's ``to_html``: ``"cdn"`` (default: a small file that loads plotly.js from
        the internet), ``True`` (self-contained, about 4.8 MB more) or ``False`` (the page
        must provide plotly.js).

    Returns
    -------
    str or pathlib.Path
        The HTML text, or the file written.
    """
    fig = sankey_plotly(ds, year, region, layout=layout)
    html = fig.to_html(include_plotlyjs=include_plotlyjs, full_html=True)
    if path is None:
        return html
    from mfa.io.outputs import joined, write_bytes

    out = Path(path)
    with joined(outputs) as outs:  # all or nothing, never onto an input (mfa.io.outputs)
        target = outs.file(out, "sankey_html")
        outs.write(target, lambda tmp: write_bytes(tmp, html.encode("utf-8")))
    return out
