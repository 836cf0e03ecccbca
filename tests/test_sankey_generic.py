"""Tests of the generic Sankey diagram (mfa.plot.sankey) on a made-up copper-like system with a
recycling loop, and of the neodymium layout on real results.

What is drawn is checked from ``fig.plotted_data`` (numbers, band widths, node heights and
centres), ``fig.sankey_ports`` (band widths entering and leaving each node) and the text boxes
of the rendered figure (no two overlap, none leaves the figure).
"""

from __future__ import annotations

import itertools
import json
import re
import warnings

import matplotlib
import numpy as np
import pytest
import xarray as xr

matplotlib.use("Agg")

from matplotlib.text import Text

import mfa.plot
from mfa.core.errors import MfaError
from mfa.core.system import Flow, ProcessSystem, Stock

_PACKAGE_SANKEY = mfa.plot.sankey
from mfa.plot.sankey import (  # noqa: E402
    DisplayFlow,
    NodeStyle,
    SankeyLayout,
    default_layout,
    sankey,
    sankey_html,
    sankey_values,
)

# Importing the submodule binds the name mfa.plot.sankey to it; while mfa/plot/__init__.py
# still defines its own sankey function (rather than re-exporting this one), put it back.
if not isinstance(_PACKAGE_SANKEY, type(mfa)):
    mfa.plot.sankey = _PACKAGE_SANKEY

YEARS = np.arange(2000, 2011)
REGIONS = ["North", "South"]
PROCESSES = ["mining", "smelting", "fabrication", "use", "collection", "recycling", "market"]
FLOWS = [  # name, source, target
    ("ore", "environment", "mining"),
    ("tailings", "mining", "environment"),
    ("concentrate", "mining", "smelting"),
    ("slag", "smelting", "environment"),
    ("cathode", "smelting", "fabrication"),
    ("cathode_net_export", "smelting", "market"),
    ("new_scrap", "fabrication", "recycling"),
    ("products", "fabrication", "use"),
    ("discards", "use", "collection"),
    ("landfill", "collection", "environment"),
    ("collected", "collection", "recycling"),
    ("secondary", "recycling", "smelting"),
    ("recycling_losses", "recycling", "environment"),
]
UPSTREAM = np.array([0.8, 0.2])  # regional shares of mining and smelting
DOWNSTREAM = np.array([0.4, 0.6])  # of fabrication, use, collection and recycling


def copper_like(*, decline: bool = False) -> xr.Dataset:
    """A made-up copper-like system (t, t/yr) with a loop and a pooled cathode market.

    World: products grow 10 t/yr a year, discards are 40 % of products, 10 % of cathode
    becomes new scrap, 60 % of discards are collected, recycling recovers 90 %, smelting loses
    5 % of concentrate as slag and mining 20 % of ore. With ``decline`` the products of the
    last year drop below the discards (the in-use stock shrinks) and nothing is collected.
    """
    t = YEARS - YEARS[0]
    products = 100.0 + 10.0 * t
    discards = 0.4 * (100.0 + 10.0 * t)
    collected = 0.6 * discards
    if decline:
        products[-1], collected[-1] = 60.0, 0.0
    new_scrap = products / 9.0
    cathode = products + new_scrap
    secondary = 0.9 * (collected + new_scrap)
    world = {"products": products, "discards": discards, "new_scrap": new_scrap,
             "cathode": cathode, "collected": collected, "landfill": discards - collected,
             "secondary": secondary, "recycling_losses": (collected + new_scrap) - secondary}
    reg = {k: v[:, None] * DOWNSTREAM for k, v in world.items()}
    produced = cathode[:, None] * UPSTREAM
    reg["cathode_net_export"] = produced - reg["cathode"]
    reg["concentrate"] = (produced - reg["secondary"]) / 0.95
    reg["slag"] = 0.05 * reg["concentrate"]
    reg["ore"] = reg["concentrate"] / 0.8
    reg["tailings"] = reg["ore"] - reg["concentrate"]
    reg["in_use"] = np.cumsum(reg["products"] - reg["discards"], axis=0)
    dims = ("time", "region")
    system = ProcessSystem("copper-like", PROCESSES, [Flow(n, s, t, dims, signed=n.endswith("_net_export"))
                                                          for n, s, t in FLOWS],
                           [Stock("in_use", "use", dims)], pooled=("market",))
    coords = {"time": YEARS, "region": REGIONS}
    ds = system.to_dataset({k: xr.DataArray(v, coords=coords, dims=dims,
                                            attrs={"units": "t" if k == "in_use" else "t/yr"})
                            for k, v in reg.items()})
    system.check_balance(ds)
    ds.attrs.update(material="Cu", model="copper-like", scenario="test")
    return ds


@pytest.fixture(scope="module")
def copper() -> xr.Dataset:
    return copper_like()


@pytest.fixture(scope="module")
def nd() -> xr.Dataset:
    from mfa.models.neodymium import run

    return run("baseline")


@pytest.fixture(scope="module")
def nd_layout() -> SankeyLayout:
    from mfa.models.neodymium.sankey_layout import LAYOUT

    return LAYOUT


# ---- helpers -------------------------------------------------------------------------------
def assert_texts_clear(fig) -> None:
    """No two text boxes of the rendered figure overlap and none leaves the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    assert len(boxes) > 5
    page = fig.bbox
    for text, box in boxes:
        assert (box.x0 >= page.x0 - 0.5 and box.y0 >= page.y0 - 0.5
                and box.x1 <= page.x1 + 0.5 and box.y1 <= page.y1 + 0.5), f"clipped: {text!r}"
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), f"texts overlap: {ta!r} and {tb!r}"


def assert_widths_and_balance(fig) -> None:
    """``width/<band> == scale * <band>`` and every node balances (1e-9 of the largest)."""
    d = fig.plotted_data
    widths = {k.removeprefix("width/"): v for k, v in d.items() if k.startswith("width/")}
    assert widths
    for key, w in widths.items():
        assert w > 0
        np.testing.assert_allclose(w, d["scale"] * d[key], rtol=1e-12, err_msg=key)
    top = max(float(v) for k, v in d.items() if k.startswith("node/"))
    for node, sides in fig.sankey_ports.items():
        into, out = sum(sides["in"].values()), sum(sides["out"].values())
        assert all(w >= 0 for w in [*sides["in"].values(), *sides["out"].values()])
        np.testing.assert_allclose(float(d[f"node/{node}"]), max(into, out), atol=1e-12)
        if sides["in"] and sides["out"]:  # a process (stock nodes and the sink only receive)
            assert abs(into - out) <= 1e-9 * top, (node, into, out)


def _world(ds: xr.Dataset, year: int) -> xr.Dataset:
    return ds.sel(time=year).sum("region")


# ---- the generic system ----------------------------------------------------------------------
def test_values_are_the_results(copper: xr.Dataset) -> None:
    v = sankey_values(copper, 2005)
    w = _world(copper, 2005)
    for name, _, _ in FLOWS:
        np.testing.assert_allclose(v[name], float(w[name]), rtol=1e-12)
    stock = copper["in_use"].sum("region")
    np.testing.assert_allclose(v["stock_change/use"],
                               float(stock.sel(time=2005) - stock.sel(time=2004)), rtol=1e-12)
    south = sankey_values(copper, 2005, "South", flows=["ore", "cathode_net_export"])
    assert set(south) == {"ore", "cathode_net_export", "stock_change/use"}
    assert south["cathode_net_export"] < 0  # South imports cathode
    # first year: the stock minus an initial stock of 0
    first = sankey_values(copper, 2000)["stock_change/use"]
    np.testing.assert_allclose(first, float(stock.sel(time=2000)))


def test_default_layout_finds_chain_and_loop(copper: xr.Dataset) -> None:
    lay = default_layout(copper)
    col = {n: s.column for n, s in lay.nodes.items()}
    assert col == {"mining": 0, "smelting": 1, "fabrication": 2, "use": 3, "collection": 4,
                   "recycling": pytest.approx(1.625)}
    assert set(lay.loop) == {"new_scrap", "collected", "secondary"}
    assert [n for n, s in lay.nodes.items() if s.loop] == ["recycling"]
    assert "market" not in lay.nodes  # pooled: not drawn


def test_generic_world(copper: xr.Dataset, tmp_path) -> None:
    fig = sankey(copper, 2005)
    fig.savefig(tmp_path / "cu.png", dpi=60)
    d = fig.plotted_data
    w = _world(copper, 2005)
    for name in ("ore", "secondary", "new_scrap", "collected", "landfill"):
        np.testing.assert_allclose(d[name], float(w[name]), rtol=1e-12)  # t/yr shown
    assert fig.plotted_units["ore"] == "t/yr" and fig.plotted_units["width/ore"] == "axis"
    assert_widths_and_balance(fig)
    # the loop is drawn, below the chain; the market nets out worldwide: no stubs
    for name in ("new_scrap", "collected", "secondary"):
        assert d[f"width/{name}"] > 0
    chain_bottom = min(d[f"pos/{n}"][1] - d[f"node/{n}"] / 2
                       for n in ("mining", "smelting", "fabrication", "use", "collection"))
    assert d["pos/recycling"][1] + d["node/recycling"] / 2 < chain_bottom
    assert not any(k.startswith(("width/net_", "width/imbalance")) for k in d)
    losses = sum(float(w[n]) for n in ("tailings", "slag", "landfill", "recycling_losses"))
    np.testing.assert_allclose(d["node/losses"], d["scale"] * losses, rtol=1e-12)
    np.testing.assert_allclose(d["stock_change/use"], float(w["products"] - w["discards"]))
    assert d["width/stock_change/use"] > 0
    title = fig.texts[0].get_text()
    assert title == "Cu flows, world, 2005 [t/yr]"
    assert_texts_clear(fig)


def test_generic_region_has_trade_stubs(copper: xr.Dataset) -> None:
    fig = sankey(copper, 2005, region="South")
    d = fig.plotted_data
    south = copper.sel(time=2005, region="South")
    np.testing.assert_allclose(d["net_import/smelting"], -float(south["cathode_net_export"]))
    assert "width/cathode_net_export" not in d  # flows to the pooled market are not bands
    north = sankey(copper, 2005, region="North").plotted_data
    np.testing.assert_allclose(north["net_export/smelting"],
                               float(copper.sel(time=2005, region="North")["cathode_net_export"]))
    assert_widths_and_balance(fig)
    assert_texts_clear(fig)


def test_stock_release_is_drawn_into_the_process() -> None:
    fig = sankey(copper_like(decline=True), 2010)
    d = fig.plotted_data
    assert d["stock_change/use"] < 0
    np.testing.assert_allclose(d["stock_release/use"], -d["stock_change/use"])
    assert "stock_release/use" in fig.sankey_ports["use"]["in"]
    assert_widths_and_balance(fig)


def test_layout_merges_nodes_and_draws_stubs(copper: xr.Dataset) -> None:
    lay = SankeyLayout(merge={"collection": "recycling"}, stubs={"slag": "to the slag heap"},
                       nodes={"recycling": NodeStyle("Waste management")})
    fig = sankey(copper, 2005, layout=lay)
    d, ports = fig.plotted_data, fig.sankey_ports
    assert "collection" not in ports and "width/collected" not in d  # inside one node
    assert "discards" in ports["recycling"]["in"] and "landfill" in ports["recycling"]["out"]
    assert "slag" in ports["smelting"]["out"] and "slag" not in ports["losses"]["in"]
    assert any(t.get_text().startswith("to the slag heap") for t in fig.axes[0].texts)
    assert any(t.get_text().startswith("Waste management") for t in fig.axes[0].texts)
    assert_widths_and_balance(fig)
    assert_texts_clear(fig)


def test_draws_into_given_axes(copper: xr.Dataset) -> None:
    import matplotlib.pyplot as plt

    pfig, ax = plt.subplots(figsize=(9, 6))
    try:
        fig = sankey(copper, 2003, ax=ax)
        assert fig is pfig
        assert ax.get_title().startswith("Cu flows, world, 2003")
        assert_widths_and_balance(fig)
    finally:
        plt.close(pfig)


def test_figsize_is_kept(copper: xr.Dataset) -> None:
    fig = sankey(copper, 2005, figsize=(10.0, 7.0))
    np.testing.assert_allclose(fig.get_size_inches(), (10.0, 7.0))
    assert_texts_clear(fig)


# ---- errors ----------------------------------------------------------------------------------
def test_year_and_region_errors(copper: xr.Dataset) -> None:
    with pytest.raises(MfaError, match=r"year 1700 is not in the results.*2000-2010"):
        sankey(copper, 1700)
    with pytest.raises(MfaError, match=r"year 2005\.5"):
        sankey_values(copper, 2005.5)
    with pytest.raises(MfaError, match="region 'Atlantis' is not in the results"):
        sankey(copper, 2005, region="Atlantis")


def test_results_without_flow_attrs(copper: xr.Dataset) -> None:
    bare = copper.copy()
    for name in bare.data_vars:
        bare[name].attrs.pop("source", None)
        bare[name].attrs.pop("target", None)
    with pytest.raises(MfaError, match=r"no flow variables.*'source' and 'target'"):
        sankey(bare, 2005)
    with pytest.raises(MfaError, match=r"expected the results xarray\.Dataset"):
        sankey_values(bare["ore"], 2005)


def test_negative_flow_and_missing_units(copper: xr.Dataset) -> None:
    bad = copper.copy()
    bad["slag"] = -bad["slag"]
    with pytest.raises(MfaError, match=r"flow 'slag' \(smelting -> environment\) is negative"):
        sankey(bad, 2005)
    bad = copper.copy()
    bad["ore"].attrs.pop("units")
    with pytest.raises(MfaError, match="'ore' has no units"):
        sankey_values(bad, 2005)


def test_layout_errors(copper: xr.Dataset) -> None:
    with pytest.raises(MfaError, match="hidden flow 'nope'"):
        sankey(copper, 2005, layout=SankeyLayout(hide=("nope",)))
    with pytest.raises(MfaError, match="needs flow\\(s\\) nope"):
        sankey(copper, 2005, layout=SankeyLayout(
            flows={"x": DisplayFlow("mining", "smelting", {"nope": 1.0})}))
    with pytest.raises(MfaError, match="loop flow\\(s\\) nope"):
        sankey(copper, 2005, layout=SankeyLayout(loop=("nope",)))


# ---- the neodymium layout --------------------------------------------------------------------
def test_nd_world(nd: xr.Dataset, nd_layout: SankeyLayout, tmp_path) -> None:
    fig = sankey(nd, 2040, layout=nd_layout)
    fig.savefig(tmp_path / "nd.png", dpi=60)
    d, u = fig.plotted_data, fig.plotted_units
    w = _world(nd, 2040)

    def shown(key: str) -> float:  # back to t/yr
        assert u[key] == "kt/yr"
        return float(d[key]) * 1e3

    np.testing.assert_allclose(shown("flow_primary_oxide"),
                               float(w["flow_concentrate"] - w["flow_separation_losses"]))
    np.testing.assert_allclose(shown("flow_secondary_oxide"),
                               float(w["flow_recycled_new_scrap"] + w["flow_recycled_eol"]))
    np.testing.assert_allclose(shown("stock_change/use"),
                               float(w["flow_products_to_use"] - w["flow_eol"]), rtol=1e-9)
    assert_widths_and_balance(fig)
    s = d["scale"]
    np.testing.assert_allclose(d["node/oxide"], s * (d["flow_oxide_to_metal"]
                                                     + d["flow_oxide_to_manufacturing"]
                                                     + d["flow_stockpile"]), rtol=1e-9)
    for name in ("flow_new_scrap", "flow_collected", "flow_secondary_oxide"):
        assert d[f"width/{name}"] > 0
    assert not any(k.startswith("width/flow_recycled_") for k in d)  # hidden: summed
    assert not any(k.startswith(("width/net_", "width/flow_net_export")) for k in d)
    assert d["pos/recycling"][1] < min(d[f"pos/{n}"][1] for n in ("oxide", "metal", "magnet"))
    xs = [d[f"pos/{n}"][0] for n in ("mining", "separation", "oxide", "metal", "magnet",
                                     "manufacturing", "use", "collection")]
    assert xs == sorted(xs)  # the chain runs left to right
    assert fig.texts[0].get_text() == "Neodymium flows, world, 2040 [kt/yr of Nd]"
    assert "recycling loop" in fig.texts[1].get_text()
    assert_texts_clear(fig)


def test_nd_region_trade_stubs(nd: xr.Dataset, nd_layout: SankeyLayout) -> None:
    fig = sankey(nd, 2040, region="China", layout=nd_layout)
    d = fig.plotted_data
    china = nd.sel(time=2040, region="China")
    stubs = {k for k in d if k.startswith(("net_import/", "net_export/"))}
    assert stubs
    for node, flow in [("mining", "concentrate"), ("oxide", "oxide"), ("metal", "alloy"),
                       ("magnet", "magnet"), ("manufacturing", "products")]:
        net = float(china[f"flow_net_export_{flow}"]) / 1e3
        if abs(net) > 1e-6:
            key = f"net_export/{node}" if net > 0 else f"net_import/{node}"
            np.testing.assert_allclose(d[key], abs(net), rtol=1e-9)
    assert "width/flow_net_export_oxide" not in d
    assert_widths_and_balance(fig)
    assert_texts_clear(fig)


@pytest.mark.parametrize("case", [("baseline", 1990, None), ("baseline", 2050, "Japan"),
                                  ("high-recycling", 2050, None)])
def test_nd_other_years_and_scenarios(nd: xr.Dataset, nd_layout: SankeyLayout,
                                      case: tuple) -> None:
    from mfa.models.neodymium import run

    scenario, year, region = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # surplus secondary Nd is stockpiled
        ds = nd if scenario == "baseline" else run(scenario)
    fig = sankey(ds, year, region=region, layout=nd_layout)
    assert_widths_and_balance(fig)
    assert_texts_clear(fig)


def test_nd_default_layout_draws_too(nd: xr.Dataset) -> None:
    """Without the Nd layout the generic diagram still balances (trade pooled, loop found)."""
    lay = default_layout(nd)
    assert "trade" not in lay.nodes and lay.nodes["recycling"].loop
    fig = sankey(nd, 2040, region="Europe", layout=SankeyLayout(stocks={"in_use_stock": "use"}))
    assert_widths_and_balance(fig)


# ---- plotly ------------------------------------------------------------------------------------
def _slider_steps(html: str) -> list[dict]:
    spec = json.loads(re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*(\{.*\}),"
                                r"\s*\{", html, re.S).group(2))
    return spec["sliders"][0]["steps"]


def _trace(html: str) -> dict:
    return json.loads(re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*(\{.*\}),"
                                r"\s*\{", html, re.S).group(1))[0]


def test_html_all_years_small_with_slider(nd: xr.Dataset, nd_layout: SankeyLayout,
                                          tmp_path) -> None:
    pytest.importorskip("plotly")
    html = sankey_html(nd, layout=nd_layout, include_plotlyjs=False)
    assert len(html.encode()) < 80_000  # was 4.8 MB for one year with plotly.js
    assert '"arrangement":"fixed"' in html.replace(" ", "")
    steps = _slider_steps(html)
    assert [s["label"] for s in steps] == [str(int(t)) for t in nd["time"].values]
    for step in steps:
        values = step["args"][0]["link.value"][0]
        assert min(values) > 0  # bands never negative (zero bands are left out)
        assert all(float(f"{v:.4g}") == v for v in values)  # 4 significant digits
    path = sankey_html(nd, 2040, layout=nd_layout, path=tmp_path / "s.html",
                       include_plotlyjs=True)
    text = path.read_text()
    assert text.count("plotly.js v") <= 2 and len(text) > 3_000_000  # plotly.js once
    assert "sliders" not in text.split("Plotly.newPlot")[-1]
    assert not list(tmp_path.glob(".*.tmp"))


def test_html_positions_are_the_static_layout(nd: xr.Dataset, nd_layout: SankeyLayout) -> None:
    pytest.importorskip("plotly")
    html = sankey_html(nd, layout=nd_layout, region="China", include_plotlyjs=False)
    step = next(s for s in _slider_steps(html) if s["label"] == "2040")["args"][0]
    keys = [k for k, _ in _trace(html)["node"]["customdata"]]  # once; a step restyles x, y
    assert "node.customdata" not in step and "link.color" not in step
    xs, ys = step["node.x"][0], step["node.y"][0]
    d = sankey(nd, 2040, region="China", layout=nd_layout).plotted_data
    pos = {k: d[f"pos/{k}"] for k in keys if f"pos/{k}" in d}
    assert {"mining", "oxide", "recycling", "stock/use"} <= set(pos)
    static = np.array([pos[k] for k in pos])
    html_xy = np.array([(x, y) for k, x, y in zip(keys, xs, ys, strict=True) if k in pos])
    for axis, sign in ((0, 1.0), (1, -1.0)):  # plotly's y runs down
        slope, offset = np.polyfit(static[:, axis], html_xy[:, axis], 1)
        assert np.sign(slope) == sign
        np.testing.assert_allclose(slope * static[:, axis] + offset, html_xy[:, axis],
                                   atol=1e-4)
    assert all(0 < v < 1 for v in [*xs, *ys])  # plotly ignores a position of exactly 0


def test_html_losses_sink_next_to_their_process(nd: xr.Dataset, nd_layout: SankeyLayout) -> None:
    """Each loss ends in its own sink right of its process, so no loss band crosses the chain
    (plotly draws a band as one curve): above a chain process, below a loop process."""
    pytest.importorskip("plotly")
    html = sankey_html(nd, 2050, layout=nd_layout, include_plotlyjs=False)
    node, link = _trace(html)["node"], _trace(html)["link"]
    keys = [k for k, _ in node["customdata"]]
    at = {k: (x, y) for k, x, y in zip(keys, node["x"], node["y"], strict=True)}
    sinks = [k for k in keys if k.endswith("@loss")]
    assert "losses" not in keys and len(sinks) >= 6
    for s, t in zip(link["source"], link["target"], strict=True):
        if keys[t].endswith("@loss"):
            src = keys[s]
            assert at[keys[t]][0] > at[src][0]  # to the right
            above = at[keys[t]][1] < at[src][1]  # plotly's y runs down
            assert above == (src != "recycling"), (src, keys[t])
    assert len({at[k] for k in sinks}) == len(sinks)  # never two on one spot


def test_html_errors(nd: xr.Dataset) -> None:
    pytest.importorskip("plotly")
    with pytest.raises(MfaError, match="year 1700"):
        sankey_html(nd, 1700)
