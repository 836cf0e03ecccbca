"""Sankey diagrams of any model's results, drawn from the flows' ``source``/``target`` attrs.

Every flow variable of a results Dataset (made by
:meth:`mfa.core.system.ProcessSystem.to_dataset`) names the processes it leaves and enters in
``attrs["source"]`` and ``attrs["target"]``; stocks name their process in ``attrs["process"]``.
That is all :func:`sankey` needs: processes become nodes placed in columns by the longest path
from the system's inputs, flows that close a cycle (found by a depth-first search) are drawn as
a loop below the chain, flows to the boundary (``environment``) rise into one losses sink on
the right, the net addition to each stock is its own band, and processes balanced only over
all regions (e.g. a ``trade`` pool, from the results' ``mass_balance_residual``) are not drawn:
for one region, what each process receives and delivers does not balance, and the difference
is drawn as net import/export stubs.

A model may supply a :class:`SankeyLayout` (columns, labels, colours, which flows form the
loop, display flows derived from result flows, ...) to give its figure a fixed look; anything
it leaves out is filled in as by :func:`default_layout`.

Plotted-data convention (as the other figures of :mod:`mfa.plot`): ``fig.plotted_data`` holds
every flow value and stock change (displayed unit), ``width/<band>`` for each band drawn, and
``node/<node>`` node heights and ``pos/<node>`` node centres [axis units], and ``scale`` (axis
units per displayed unit) so that ``width/<band> == scale * <band>``; ``fig.plotted_units``
their units. ``fig.sankey_ports`` lists the band widths entering and leaving every node.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle
from matplotlib.transforms import Bbox

from mfa.core.units import conversion_factor
from mfa.plot import _sankey_geometry as geo
from mfa.plot import _sankey_graph as graph
from mfa.plot._bands import Label, fmt, place_labels

__all__ = ["DisplayFlow", "NodeStyle", "SankeyLayout", "default_layout", "sankey",
           "sankey_html", "sankey_plotly", "sankey_values"]

INCH_PER_UNIT = 0.8  # size of one axis unit on the figure when its size is not given [inch]
_PAD = 0.12  # figure margin [inch]
_LABEL_PAD = 2.5  # least room around a label [pt] (text extents differ a little by dpi)

_LEGEND = {"main": "blue: flows between processes", "loop": "green: flows back up the chain",
           "loss": "grey: losses", "input": "orange arrows: inputs from outside",
           "stock": "orange: net addition to stocks", "release": "orange stubs: taken from stocks",
           "stub": "orange stubs: set aside", "trade": "purple: net trade of the region",
           "imbalance": "red: imbalance of the results"}


@dataclass(frozen=True)
class NodeStyle:
    """How one node is drawn; ``None`` fields are filled in from the flow graph.

    ``column``: position left to right (1 = one column); ``row``: order within a column
    (smaller is higher); ``loop``: draw in the row below the chain (default: nodes whose flows
    all belong to the loop).
    """

    label: str | None = None
    column: float | None = None
    row: float | None = None
    colour: str | None = None
    loop: bool | None = None


@dataclass(frozen=True)
class DisplayFlow:
    """A band between display nodes: a result flow re-routed, or a sum of result flows.

    ``terms`` maps result flow names to coefficients (e.g. ``{"a": 1, "b": -1}`` for a - b);
    ``None`` takes the result flow of the same name.
    """

    source: str
    target: str
    terms: Mapping[str, float] | None = None


@dataclass(frozen=True)
class SankeyLayout:
    """Optional, declarative look of a model's Sankey diagram.

    Parameters
    ----------
    nodes : mapping of str to NodeStyle
        Per display node: label, column, row, colour, loop.
    flows : mapping of str to DisplayFlow
        Display flows: result flows re-routed to other display nodes (e.g. out of an
        ``oxide`` node that shows the output side of ``separation``) or derived from result
        flows (``terms``). They replace result flows of the same name.
    hide : tuple of str
        Result flows not drawn (e.g. summed into a display flow).
    merge : mapping of str to str
        Process -> display node it is drawn in (flows inside one display node vanish).
    loop : tuple of str, optional
        Flows drawn as the loop; default: the flows closing a cycle (depth-first search from
        the inputs) and the flows into processes that only feed them.
    labels : mapping of str to str
        Flow -> label drawn with its value.
    stubs : mapping of str to str
        Flows to the boundary drawn as a labelled stub on their source, not into the sink.
    stocks : mapping of str to str
        Stock variable -> process, for stocks whose attrs lack ``process``.
    stock_labels : mapping of str to str
        Process -> label of its stock node (default ``"Added to stock"``).
    pooled, boundary : tuple of str, optional
        Processes not drawn (their flows become stubs) and processes outside the system;
        default from the results' ``mass_balance_residual`` (``regions_summed``, and the
        flow ends that are not balanced processes), else none and ``("environment",)``.
    material : str, optional
        Name of the material when ``ds.attrs["material"]`` is missing.
    title : str
        Template with ``{material}``, ``{where}``, ``{year}`` and ``{unit}``.
    legend : mapping of str to str
        Caption text per kind of band (main, loop, loss, input, stock, release, stub, trade,
        imbalance), e.g. ``{"loop": "green: recycling loop"}``.
    """

    nodes: Mapping[str, NodeStyle] = field(default_factory=dict)
    flows: Mapping[str, DisplayFlow] = field(default_factory=dict)
    hide: tuple[str, ...] = ()
    merge: Mapping[str, str] = field(default_factory=dict)
    loop: tuple[str, ...] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    stubs: Mapping[str, str] = field(default_factory=dict)
    stocks: Mapping[str, str] = field(default_factory=dict)
    stock_labels: Mapping[str, str] = field(default_factory=dict)
    pooled: tuple[str, ...] | None = None
    boundary: tuple[str, ...] | None = None
    material: str | None = None
    title: str = "{material} flows, {where}, {year} [{unit}]"
    legend: Mapping[str, str] = field(default_factory=dict)


def sankey_values(ds: xr.Dataset, year: int, region: str | None = None, *,
                  flows: Sequence[str] | None = None,
                  stocks: Mapping[str, str] | None = None) -> dict[str, float]:
    """Flow values and stock changes of one year, for the world or one region [t/yr].

    Parameters
    ----------
    ds : xarray.Dataset
        Results whose flows carry ``attrs["source"]``/``["target"]`` and units (mass per
        time); stocks carry ``attrs["process"]`` and units (mass).
    year : int
        A year of the ``time`` coordinate.
    region : str, optional
        One region; ``None`` sums over regions. Other dims (product, ...) are summed.
    flows : sequence of str, optional
        Only these flows (default: all).
    stocks : mapping of str to str, optional
        Stock variable -> process, for stocks whose attrs lack ``process``.

    Returns
    -------
    dict of str to float
        Flow name -> value [t/yr], and ``"stock_change/<process>"`` -> stock at the end of
        ``year`` minus the year before, per year [t/yr] (for the first year, minus an initial
        stock of 0, as ProcessSystem.to_dataset assumes), summed over the stocks of a process.

    Raises
    ------
    MfaError
        No flow variables, unknown flows, a year or region not in the results, a flow
        without units or with a ``sample`` dim.
    """
    y = graph.check_year(ds, year)
    i = [int(t) for t in ds["time"].values].index(y)
    return {k: float(v[i]) for k, v in graph.series(ds, region, flows, stocks).items()}



def default_layout(ds: xr.Dataset) -> SankeyLayout:
    """The layout :func:`sankey` uses when none is given, made explicit.

    Columns are the longest path from the processes fed from outside the system, along the
    flows that close no cycle; the flows closing a cycle (depth-first search from those
    processes) form the loop, with the flows into processes that only feed the loop; such
    processes are drawn below the chain, between their targets and sources.

    Parameters
    ----------
    ds : xarray.Dataset
        Results with flows described by ``attrs["source"]``/``["target"]``.

    Returns
    -------
    SankeyLayout
        With a :class:`NodeStyle` (label, column, loop) for every drawn process and ``loop``.
    """
    ends = graph.flow_ends(ds)
    g = graph.build(ds, dict.fromkeys(ends, 0.0), SankeyLayout(), "")
    col, loop_nodes, loop = graph.structure(g, SankeyLayout())
    nodes = {n: NodeStyle(label=n.replace("_", " ").capitalize(), column=col[n],
                          loop=n in loop_nodes) for n in g.nodes}
    return SankeyLayout(nodes=nodes, loop=tuple(sorted(loop)))


# ------------------------------------------------------------------------------- figure
def _display_unit(values: Mapping[str, float]) -> tuple[float, str]:
    big = max((abs(v) for v in values.values()), default=0.0) >= 1e3
    unit = "kt/yr" if big else "t/yr"
    return conversion_factor("t/yr", unit, "sankey"), unit


def _diagram(ds: xr.Dataset, values: Mapping[str, float], layout: SankeyLayout, year: int,
             region: str | None, factor: float, unit: str) -> tuple[geo.Diagram, set[str]]:
    where = f"in {year}" + (f", region {region}" if region else ", world")
    g = graph.build(ds, values, layout, where)
    specs, kinds = graph.specs(g, layout)
    diagram = geo.Diagram(specs, g.bands, None, lambda v: f"{fmt(v * factor)} {unit}",
                          _node_label_width)
    return diagram.build(), kinds


@functools.lru_cache(maxsize=256)
def _node_label_width(text: str) -> float:
    """Width of a node label on the figure [axis units] (a little more than the glyphs)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=geo.NODE_FONT_SIZE, weight="bold")
    points = max(text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0]
                 for line in text.split("\n"))
    return 1.08 * points / 72 / INCH_PER_UNIT


def _caption(ds: xr.Dataset, layout: SankeyLayout, kinds: set[str]) -> str:
    from mfa import __version__

    legend = {**_LEGEND, **layout.legend}
    parts = [legend[k] for k in ("main", "loop", "loss", "input", "stock", "release", "stub",
                                 "trade", "imbalance") if k in kinds]
    text = "; ".join(parts)
    a = ds.attrs
    model = (f"Model: {a.get('model', 'mfa')} {a.get('model_version', __version__)}, "
             f"scenario {a.get('scenario', 'unnamed')}.")
    return f"Band widths proportional to flows. {text[:1].upper()}{text[1:]}. {model}"


def _renderer(fig: Figure) -> Any:
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if get is not None else fig._get_renderer()


def _inches(fig: Figure, text: Any) -> tuple[float, float]:
    e = text.get_window_extent(_renderer(fig))
    return e.width / fig.dpi, e.height / fig.dpi


def _extent(d: geo.Diagram) -> Bbox:
    pts = [p for p, *_ in d.patches]
    pts += [np.array([[x, top - h], [x + geo.NW, top]]) for x, top, h, _ in d.rects.values()]
    return Bbox.union([Bbox([a.min(axis=0), a.max(axis=0)]) for a in pts])


def _fit(fig: Figure, ax: Any, ext: Bbox, heads: tuple[Any, Any, str],
         figsize: tuple[float, float] | None) -> None:
    """Size the figure (or fit into ``figsize``): axes for ``ext``, title above, caption below."""
    title, cap, caption = heads
    tw, th = _inches(fig, title)
    if figsize is None:
        scale = INCH_PER_UNIT
        width = max(ext.width * scale, 1.06 * tw) + 2 * _PAD
    else:
        width = figsize[0]
    cap.set_text(caption)
    cw = _inches(fig, cap)[0]
    avail = width - 2 * _PAD
    chars = len(caption)
    while cw > 0.94 * avail and chars > 20:  # slack: text is wider at a lower dpi
        chars = int(chars * min(avail / cw, 0.97))
        cap.set_text(textwrap.fill(caption, chars))
        cw = _inches(fig, cap)[0]
    ch = _inches(fig, cap)[1]
    if figsize is None:
        height = ext.height * scale + th + ch + 4 * _PAD
    else:
        height = figsize[1]
        scale = min(avail / ext.width, (height - th - ch - 4 * _PAD) / ext.height)
    fig.set_size_inches(width, height)
    aw, ah = ext.width * scale, ext.height * scale
    room = height - th - ch - 4 * _PAD
    ax.set_position(((width - aw) / 2 / width, (ch + 2 * _PAD + (room - ah) / 2) / height,
                     aw / width, ah / height))
    ax.set_xlim(ext.x0, ext.x1)
    ax.set_ylim(ext.y0, ext.y1)
    title.set_position((0.5, 1 - _PAD / height))
    cap.set_position((_PAD / width, _PAD / height))


def _shrink(fig: Figure, ax: Any, ext: Bbox) -> float:
    """The diagram's size on the figure relative to its natural size (at most 1)."""
    pos = ax.get_position(original=True)
    width, height = fig.get_size_inches()
    scale = min(pos.width * width / ext.width, pos.height * height / ext.height)
    return min(1.0, scale / INCH_PER_UNIT)


def _draw(d: geo.Diagram, title: str, caption: str, ax: Any,
          figsize: tuple[float, float] | None) -> tuple[Figure, list[str]]:
    """Draw the diagram, place its labels and size the figure; returns the labels left out."""
    heads = None
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize or (8.0, 6.0))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        heads = (fig.text(0.5, 0.98, title, ha="center", va="top", fontsize=12),
                 fig.text(0.01, 0.01, caption, ha="left", va="bottom", fontsize=9,
                          color="#333333"), caption)
    else:
        fig = ax.figure
        ax.set_title(title, fontsize=12)
    for poly, colour, alpha, _ in d.patches:
        ax.add_patch(Polygon(poly, closed=True, fc=colour, ec="none", alpha=alpha, zorder=2))
    for x, top, h, colour in d.rects.values():
        ax.add_patch(Rectangle((x, top - h), geo.NW, h, fc=colour, ec="none", zorder=3))
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, [lab.key for lab in _layout_labels(fig, ax, d, heads, figsize)]


def _layout_labels(fig: Figure, ax: Any, d: geo.Diagram, heads: tuple | None,
                   figsize: tuple[float, float] | None) -> list[Label]:
    """Place the labels and set the view to take them in; returns the labels left out.

    With the figure's size free (a new figure, no ``figsize``), one axis unit is
    :data:`INCH_PER_UNIT` inch: growing the view to take the labels in only moves them.
    Otherwise the scale follows the view: the labels are placed again, their fonts shrunk
    with the diagram (the geometry leaves room for labels at full size), until the view
    holds them all at the scale they were placed at.
    """
    free = heads is not None and figsize is None
    ext = _extent(d).padded(0.1)
    texts: list[Any] = []
    for _ in range(5):
        _set_view(fig, ax, ext, heads, figsize)
        for t in texts:
            t.remove()
        texts, left_out = _place(fig, ax, d, 1.0 if free else _shrink(fig, ax, ext))
        inv = ax.transData.inverted()
        boxes = [Bbox(inv.transform(t.get_window_extent(_renderer(fig)))) for t in texts]
        need = Bbox.union([_extent(d), *boxes]).padded(0.08)
        if free:
            _set_view(fig, ax, need, heads, figsize)
            break
        if (need.x0 >= ext.x0 and need.y0 >= ext.y0 and need.x1 <= ext.x1
                and need.y1 <= ext.y1):
            break
        ext = Bbox.union([ext, need])
    return left_out


def _set_view(fig: Figure, ax: Any, ext: Bbox, heads: tuple | None,
              figsize: tuple[float, float] | None) -> None:
    if heads is not None:
        _fit(fig, ax, ext, heads, figsize)
    else:
        ax.set_xlim(ext.x0, ext.x1)
        ax.set_ylim(ext.y0, ext.y1)
    ax.apply_aspect()


def _place(fig: Figure, ax: Any, d: geo.Diagram, font_scale: float) -> tuple[list, list]:
    """Labels placed clear of each other, the nodes and, where possible, other bands."""
    nodes = [Bbox(ax.transData.transform([(x, top - h), (x + geo.NW, top)]))
             for x, top, h, _ in d.rects.values()]
    return place_labels(ax, d.labels, _renderer(fig), nodes=nodes,
                        bands=[(p, i) for p, _, _, i in d.patches], font_scale=font_scale,
                        pad=_LABEL_PAD * fig.dpi / 72)


def sankey(ds: xr.Dataset, year: int, region: str | None = None, *,
           layout: SankeyLayout | None = None, ax: Any = None,
           figsize: tuple[float, float] | None = None) -> Figure:
    """Sankey diagram of one year's flows, drawn from the results' flow attrs.

    Parameters
    ----------
    ds : xarray.Dataset
        Results whose flows carry ``attrs["source"]``/``["target"]`` and units [mass/time],
        stocks ``attrs["process"]`` [mass] (see :func:`sankey_values`).
    year : int
        A year of the results.
    region : str, optional
        Region where the processes run; ``None`` (default) sums over regions (world).
    layout : SankeyLayout, optional
        The model's look; missing parts as :func:`default_layout`.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (the title goes on the Axes, there is no caption; returns its
        figure). Default: a new pyplot figure (``plt.show()`` shows it, ``plt.close(fig)``
        frees it), sized so that one axis unit is :data:`INCH_PER_UNIT` inch, or fitted into
        ``figsize``.
    figsize : tuple of float, optional
        Figure size [inch] of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        ``plotted_data``: every flow and ``stock_change/<process>`` (displayed unit), each
        band drawn (derived display flows, ``stock_change/<node>``, ``stock_release/<node>``,
        ``net_import/<node>``, ``net_export/<node>``, ``imbalance/<node>``) with
        ``width/<band>`` [axis units], ``node/<node>`` heights and ``pos/<node>`` centres
        [axis units], ``scale`` (axis units per displayed unit). ``sankey_ports``: node ->
        ``{"in": {band: width}, "out": {band: width}}``; ``omitted_labels``: bands whose
        value label found no free place.
    """
    layout = layout or SankeyLayout()
    values = sankey_values(ds, year, region, stocks=layout.stocks)
    factor, unit = _display_unit(values)
    d, kinds = _diagram(ds, values, layout, int(year), region, factor, unit)
    title = _title(ds, layout, int(year), region, unit)
    fig, omitted = _draw(d, title, _caption(ds, layout, kinds), ax, figsize)
    fig.plotted_data, fig.plotted_units = _plotted(d, values, factor, unit)
    fig.sankey_ports = _ports(d)
    fig.omitted_labels = omitted
    return fig


def _title(ds: xr.Dataset, layout: SankeyLayout, year: int, region: str | None,
           unit: str) -> str:
    material = ds.attrs.get("material") or layout.material or "Material"
    return layout.title.format(material=material, where=region or "world", year=year,
                               unit=unit)


def _plotted(d: geo.Diagram, values: Mapping[str, float], factor: float,
             unit: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The numbers drawn (displayed unit) and the geometry (axis units), with their units."""
    data: dict[str, Any] = {k: v * factor for k, v in values.items()}
    units = dict.fromkeys(data, unit)
    for b in d.bands:
        data[b.key], units[b.key] = b.value * factor, unit
        if b.width > 0:
            data[f"width/{b.key}"], units[f"width/{b.key}"] = b.width, "axis"
    for n, (_, _, h, _) in d.rects.items():
        data[f"node/{n}"], units[f"node/{n}"] = h, "axis"
        data[f"pos/{n}"], units[f"pos/{n}"] = np.array(d.anchors[n]), "axis"
    data["scale"], units["scale"] = d.k / factor, f"axis per {unit}"
    return {k: np.asarray(v, dtype=float) for k, v in data.items()}, units


def _ports(d: geo.Diagram) -> dict[str, dict[str, dict[str, float]]]:
    out = {n: {"in": {d.bands[i].key: d.bands[i].width for i in d.ins[n]},
               "out": {d.bands[i].key: d.bands[i].width for i in d.outs[n]}} for n in d.nodes}
    out["losses"] = {"in": {b.key: b.width for b in d.bands if b.kind == "loss"}, "out": {}}
    return out


# ------------------------------------------------------------------------------- HTML


# The interactive (plotly) Sankey, drawn from the same diagram: mfa.plot._sankey_plotly.
from mfa.plot._sankey_plotly import sankey_html, sankey_plotly  # noqa: E402
