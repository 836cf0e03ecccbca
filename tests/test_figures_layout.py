"""Layout, pyplot state, ``ax=`` and scenario colours of every figure (mfa.plot, Nd figures).

Text layout is checked on the rendered figure: every Text that is actually drawn (titles,
labels, tick labels, legend entries, captions, Sankey labels; found by recording
``Text.draw`` during an Agg draw) must lie inside the figure and overlap no other text, at
the screen resolution and at the resolution ``mfa plot`` saves at.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from matplotlib.colors import to_hex
from matplotlib.text import Text

from mfa.core.errors import MfaError
from mfa.models.neodymium import figures as F
from mfa.models.neodymium import run
from mfa.plot import fan_chart
from mfa.plot.style import SCENARIO_COLOURS, scenario_colour
from mfa.plot.uncertainty import plot_fan_charts, plot_sensitivity

SAVE_DPI = 200  # the resolution of mfa plot (save_all)


# ---- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def results() -> xr.Dataset:
    return run("baseline")


@pytest.fixture(scope="module")
def scenarios(results: xr.Dataset) -> dict[str, xr.Dataset]:
    return {"baseline": results, "high-recycling": run("high-recycling"),
            "no-recycling": run("no-recycling")}


@pytest.fixture(scope="module")
def mc() -> xr.Dataset:
    """A small Monte Carlo summary of the Nd model (quantiles of the world totals)."""
    from mfa.analysis.uncertainty import monte_carlo

    return monte_carlo("neodymium", n=16, scenario="high-recycling", seed=3, scheduler="numpy",
                       progress=False)


def _sobol() -> xr.Dataset:
    """Sobol indices of two outputs in two years (made-up values, long parameter names)."""
    rng = np.random.default_rng(0)
    names = [f"lifetime_of_industrial_motors_{i}" for i in range(8)]
    shape = (2, 2, len(names))
    data = {k: (("output", "year", "parameter"), rng.uniform(0, 0.5, shape))
            for k in ("S1", "S1_conf", "ST", "ST_conf")}
    return xr.Dataset(data, coords={"output": ["primary_demand", "secondary_supply"],
                                    "year": [2030, 2050], "parameter": names},
                      attrs={"scenario": "baseline"})


# ---- helpers ----------------------------------------------------------------------------------
def drawn_texts(fig) -> list[tuple[str, object]]:
    """(text, window extent) of every Text drawn when the figure is rendered with Agg."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    drawn: dict[int, Text] = {}
    original = Text.draw

    def record(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn[id(self)] = self
        return original(self, renderer)

    Text.draw = record
    try:
        canvas.draw()
    finally:
        Text.draw = original
    renderer = canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer)) for t in drawn.values()]


def assert_text_clear(fig, dpi: float | None = None, min_texts: int = 5) -> None:
    """No drawn text leaves the figure and no two drawn texts overlap (at ``dpi``)."""
    if dpi is not None:
        fig.set_dpi(dpi)
    boxes = drawn_texts(fig)
    assert len(boxes) >= min_texts
    page = fig.bbox
    for text, b in boxes:
        assert (b.x0 >= page.x0 - 0.5 and b.y0 >= page.y0 - 0.5 and b.x1 <= page.x1 + 0.5
                and b.y1 <= page.y1 + 0.5), f"clipped at {fig.dpi} dpi: {text!r}"
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), f"texts overlap at {fig.dpi} dpi: {ta!r} and {tb!r}"


def assert_clear_at_both_dpi(fig) -> None:
    assert_text_clear(fig, 100)
    assert_text_clear(fig, SAVE_DPI)


def _kinds(results: xr.Dataset, scenarios: dict) -> dict[str, Callable]:
    year = int(results["time"].values[-1])
    return {
        "sankey": lambda: F.sankey(results, year),
        "demand": lambda: F.demand_by_product(results),
        "supply": lambda: F.primary_vs_secondary(results),
        "stock-by-product": lambda: F.in_use_stock(results, by="product"),
        "stock-by-region": lambda: F.in_use_stock(results, by="region"),
        "concentration": lambda: F.supply_concentration(results),
        "comparison": lambda: F.scenario_comparison(scenarios),
    }


# ---- text layout ------------------------------------------------------------------------------
def test_the_layout_tests_cover_every_figure_kind(results, scenarios) -> None:
    assert set(_kinds(results, scenarios)) == set(F.FIGURE_KINDS)


@pytest.mark.parametrize("kind", F.FIGURE_KINDS)
def test_text_of_every_mfa_plot_figure_is_clear(results, scenarios, kind: str) -> None:
    assert_clear_at_both_dpi(_kinds(results, scenarios)[kind]())


def test_text_of_the_fan_charts_is_clear(mc: xr.Dataset) -> None:
    names = [str(v) for v in mc.data_vars if str(v).startswith("world_")]
    assert len(names) >= 4
    for name in names:
        fig = fan_chart(mc, name)
        assert_clear_at_both_dpi(fig)
        caption = next(t.get_text() for t in fig.texts if "model:" in t.get_text())
        assert "scenario high-recycling; 16 Monte Carlo samples." in caption.replace("\n", " ")
        plt.close(fig)


def test_fan_chart_with_a_long_name_and_values_near_zero() -> None:
    """Long names wrap (title and y label); flows start at 0, so no negative tick crowds 'Year'."""
    time = np.arange(1980, 2051)
    q = np.array([0.05, 0.5, 0.95])
    base = np.maximum(0.0, 50.0 * (time - 1990))
    da = xr.DataArray(base[None, :] * (1 + (q[:, None] - 0.5)), dims=("quantile", "time"),
                      coords={"quantile": q, "time": time},
                      attrs={"units": "t/yr", "long_name": "Nd in products reaching end of life "
                             "in every region and product, summed over all cohorts and "
                             "hibernating stocks: quantiles of the world total"})
    fig = fan_chart(xr.Dataset({"eol": da}, attrs={"scenario": "a-very-long-scenario-name",
                                                   "samples": 1000}), "eol")
    assert fig.axes[0].get_ylim()[0] == 0
    assert "\n" in fig.axes[0].get_ylabel() and "[kt/yr]" in fig.axes[0].get_ylabel()
    assert_clear_at_both_dpi(fig)


def test_text_of_the_sensitivity_figure_is_clear() -> None:
    assert_clear_at_both_dpi(plot_sensitivity(_sobol(), top=6))


@pytest.mark.parametrize("year", [2000, 2050])
def test_text_of_every_regional_sankey_is_clear(results: xr.Dataset, year: int) -> None:
    for i, region in enumerate([None, *map(str, results["region"].values)]):
        fig = F.sankey(results, year, region)
        assert_text_clear(fig, (100, SAVE_DPI)[(i + year) % 2])  # each dpi in one of the years
        plt.close(fig)


@pytest.mark.parametrize("case", [(2025, "Japan", (10.0, 6.0)), (2000, "China", (10.0, 6.0)),
                                  (2020, None, (8.0, 5.0)), (2050, "China", (8.0, 5.0))])
def test_sankey_text_is_clear_in_a_given_size_or_axes(results: xr.Dataset, case) -> None:
    """A fixed size shrinks the diagram: its labels shrink with it instead of colliding."""
    year, region, size = case
    assert_clear_at_both_dpi(F.sankey(results, year, region, figsize=size))
    fig, ax = plt.subplots(figsize=size)
    assert F.sankey(results, year, region, ax=ax) is fig
    assert_clear_at_both_dpi(fig)


# ---- pyplot-managed figures, ax= ----------------------------------------------------------
def _makers(results: xr.Dataset, scenarios: dict, mc: xr.Dataset) -> dict[str, Callable]:
    """Figure functions by name, each taking ``ax=``."""
    return {
        "sankey": lambda ax=None: F.sankey(results, 2040, "Europe", ax=ax),
        "demand": lambda ax=None: F.demand_by_product(results, ax=ax),
        "supply": lambda ax=None: F.primary_vs_secondary(results, ax=ax),
        "stock": lambda ax=None: F.in_use_stock(results, by="region", ax=ax),
        "comparison": lambda ax=None: F.scenario_comparison(scenarios, ax=ax),
        "fan": lambda ax=None: fan_chart(mc, "world_primary_demand", ax=ax),
    }


def test_figures_are_managed_by_pyplot(results, scenarios, mc) -> None:
    makers = {**_makers(results, scenarios, mc),
              "concentration": lambda: F.supply_concentration(results),
              "sensitivity": lambda: plot_sensitivity(_sobol())}
    for name, make in makers.items():
        fig = make()
        assert fig.number in plt.get_fignums() and plt.gcf() is fig, name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Agg: "cannot be shown"
            fig.show()  # raised AttributeError for figures made without pyplot
        plt.close(fig)
    assert plt.get_fignums() == []


def test_ax_draws_into_the_given_axes(results, scenarios, mc) -> None:
    for name, make in _makers(results, scenarios, mc).items():
        fig, ax = plt.subplots(figsize=(12, 7), layout="constrained")
        assert make(ax=ax) is fig, name
        assert plt.get_fignums() == [fig.number], f"{name}: opened a figure of its own"
        assert fig.axes == [ax] and (ax.patches or ax.lines or ax.collections), name
        assert ax.get_title() and not fig.texts, name  # title on the Axes, no caption
        assert_text_clear(fig, 100)
        plt.close(fig)


def test_ax_of_the_two_panel_and_grid_figures(results: xr.Dataset) -> None:
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 7), layout="constrained")
    assert F.supply_concentration(results, ax=(a1, a2)) is fig
    assert a1.lines and a2.lines and "share" in a1.get_ylabel() and "HHI" not in a2.get_title()
    si = _sobol()
    fig2, grid = plt.subplots(2, 2, figsize=(12, 8), layout="constrained")
    assert plot_sensitivity(si, ax=grid) is fig2
    assert [a.get_title() for a in grid.ravel()] == [
        "primary_demand, 2030", "primary_demand, 2050", "secondary_supply, 2030",
        "secondary_supply, 2050"]


def test_bad_ax_is_a_clear_error(results: xr.Dataset) -> None:
    with pytest.raises(MfaError, match=r"demand_by_product: ax= must be a matplotlib Axes, "
                                       r"got str"):
        F.demand_by_product(results, ax="left")
    _, ax = plt.subplots()
    with pytest.raises(MfaError, match=r"supply_concentration: ax= must be a sequence of 2 "
                                       r"matplotlib Axes, got Axes"):
        F.supply_concentration(results, ax=ax)
    _, a = plt.subplots()
    _, b = plt.subplots()
    with pytest.raises(MfaError, match="must belong to one figure"):
        F.supply_concentration(results, ax=[a, b])


def test_a_figure_that_fails_is_closed(results: xr.Dataset, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(F, "_stacked", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        F.demand_by_product(results)
    assert plt.get_fignums() == []


def test_saving_closes_every_figure(results, scenarios, mc, tmp_path: Path) -> None:
    """mfa plot / save_all and the fan charts of mfa mc leave no figure open."""
    files = F.save_all(results, tmp_path / "figs", formats=("png", "svg"), dpi=50,
                       kinds=("sankey", "concentration", "comparison"),
                       compare={"a": results, "b": scenarios["high-recycling"]})
    assert len(files) == 6
    assert plt.get_fignums() == []
    fans = plot_fan_charts(mc, tmp_path / "fans", variables=["world_primary_demand"])
    assert [f.name for f in fans] == ["fan_world_primary_demand.png"] and fans[0].exists()
    assert plt.get_fignums() == []


# ---- one colour per scenario --------------------------------------------------------------
def test_scenario_colours_are_fixed_distinct_and_stable() -> None:
    assert scenario_colour("baseline") == SCENARIO_COLOURS["baseline"] == "#0072B2"
    assert len(set(SCENARIO_COLOURS.values())) == len(SCENARIO_COLOURS)
    shipped = Path(__file__).resolve().parents[1] / "params" / "scenarios"
    scenarios = sorted(p.stem for p in shipped.glob("*.toml"))
    assert scenarios
    assert set(scenarios) <= set(SCENARIO_COLOURS)  # every shipped scenario has its colour
    # others: from the name only (a digest, not Python's salted hash), the same in every run
    assert scenario_colour("my-policy") == "#5F25B1"
    assert scenario_colour("my-policy-2") != scenario_colour("my-policy")
    for name in ("x", "my-policy", "2050 targets"):
        assert scenario_colour(name) not in SCENARIO_COLOURS.values()


def _line_colours(fig) -> dict[str, str]:
    return {line.get_label(): to_hex(line.get_color()) for line in fig.axes[0].lines
            if not line.get_label().startswith("_")}


def test_a_scenario_has_one_colour_in_every_figure(scenarios, mc) -> None:
    names = list(scenarios)
    forward = _line_colours(F.scenario_comparison(scenarios))
    backward = _line_colours(F.scenario_comparison({n: scenarios[n] for n in names[::-1]}))
    subset = _line_colours(F.scenario_comparison({"high-recycling":
                                                  scenarios["high-recycling"]}))
    for n in names:
        key = f"{n}: primary demand"
        assert forward[key] == backward[key] == scenario_colour(n).lower()
    assert subset["high-recycling: primary demand"] == forward["high-recycling: primary demand"]
    assert mc.attrs["scenario"] == "high-recycling"
    fan = fan_chart(mc, "world_primary_demand")
    assert _line_colours(fan)["Median"] == scenario_colour("high-recycling").lower()


def test_save_figure_returns_the_files_and_closes_the_figure() -> None:
    from mfa.plot.style import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    files = save_figure(fig, ["png", "svg"], dpi=40, metadata={"Title": "t"})
    assert files["png"][:8] == b"\x89PNG\r\n\x1a\n" and b"<svg" in files["svg"][:2000]
    assert plt.get_fignums() == []
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="bmp"):
        save_figure(fig, ["bmp"])
    assert plt.get_fignums() == []  # closed although saving failed
