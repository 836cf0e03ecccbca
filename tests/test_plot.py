"""Tests of the figures (mfa.plot): files are written, and the numbers drawn are the results'.

Every figure exposes what it drew in ``fig.plotted_data`` (displayed units in
``fig.plotted_units``); the tests compare those with the result variables.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest
import xarray as xr

matplotlib.use("Agg")

from mfa.core.errors import MfaError
from mfa.core.units import conversion_factor
from mfa.models.neodymium import figures as plot
from mfa.models.neodymium import run
from mfa.plot import fan_chart

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results() -> xr.Dataset:
    """Baseline results of the default data."""
    return run("baseline")


@pytest.fixture(scope="module")
def year(results: xr.Dataset) -> int:
    years = [int(t) for t in results["time"].values]
    return 2030 if 2030 in years else years[len(years) // 2]


def _to(fig, key: str, unit: str) -> np.ndarray:
    """A plotted series converted back to ``unit``."""
    return fig.plotted_data[key] * conversion_factor(fig.plotted_units[key], unit, key)


def _check_png(path: Path, min_kb: float = 15.0) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > min_kb * 1024


def _texts(fig) -> list:
    out = list(fig.texts)
    for ax in fig.axes:
        out += [*ax.texts, ax.title, ax.xaxis.label, ax.yaxis.label]
        out += list(ax.get_xticklabels()) + list(ax.get_yticklabels())
        if ax.get_legend() is not None:
            out += list(ax.get_legend().get_texts())
    return [t for t in out if t.get_text()]


def _check_style(fig, scenario: str | None) -> None:
    for t in _texts(fig):
        assert t.get_fontsize() >= 9, (t.get_text(), t.get_fontsize())
    for ax in fig.axes:
        if ax.axison and ax.get_ylabel():
            assert "[" in ax.get_ylabel() and "]" in ax.get_ylabel(), ax.get_ylabel()
    if scenario is not None:
        assert any(f"scenario {scenario}" in t.get_text() for t in fig.texts)


# ---- Sankey: the generic Sankey with the Nd layout is tested in test_sankey_generic.py ----
def test_nd_sankey_uses_the_nd_layout(results: xr.Dataset, tmp_path: Path) -> None:
    year = int(results["time"][-1])
    fig = plot.sankey(results, year)
    d = fig.plotted_data
    assert ("node/losses" in d and "node/Recycling" in d) or any(k.startswith("node/") for k in d)
    assert d["width/flow_mined"] == pytest.approx(d["scale"] * d["flow_mined"], rel=1e-9)
    mined = _to(fig, "flow_mined", "t/yr")
    assert mined == pytest.approx(float(results["flow_mined"].sel(time=year).sum()), rel=1e-9)
    fig.savefig(tmp_path / "s.png")
    _check_png(tmp_path / "s.png")


def test_demand_by_product(results: xr.Dataset, tmp_path: Path) -> None:
    fig = plot.demand_by_product(results)
    fig.savefig(tmp_path / "d.png")
    _check_png(tmp_path / "d.png")
    world = results["nd_in_new_products"].sum("region")
    np.testing.assert_allclose(_to(fig, "total", "t/yr"), world.sum("product").values)
    for p in results["product"].values:
        np.testing.assert_allclose(_to(fig, str(p), "t/yr"), world.sel(product=p).values)
    assert fig.plotted_units["total"] == "kt/yr"
    assert "[kt/yr]" in fig.axes[0].get_ylabel()
    _check_style(fig, results.attrs["scenario"])
    assert any("Inputs:" in t.get_text() for t in fig.texts)


def test_primary_vs_secondary(results: xr.Dataset, tmp_path: Path) -> None:
    fig = plot.primary_vs_secondary(results)
    fig.savefig(tmp_path / "p.png")
    _check_png(tmp_path / "p.png")
    prim = results["primary_demand"].sum("region").values
    np.testing.assert_allclose(_to(fig, "primary", "t/yr"), prim)
    sec = results["secondary_supply"]
    for s in sec["source"].values:
        np.testing.assert_allclose(_to(fig, f"secondary/{s}", "t/yr"), sec.sel(source=s).values)
    np.testing.assert_allclose(_to(fig, "total", "t/yr"), prim + sec.sum("source").values)
    np.testing.assert_allclose(_to(fig, "primary_no_eol_recycling", "t/yr"),
                               results["primary_demand_no_eol_recycling"].values)
    _check_style(fig, results.attrs["scenario"])


def test_primary_vs_secondary_stacks_one_basis(results: xr.Dataset) -> None:
    """Issue 12: the stack is the Nd input to the oxide stage (primary and secondary both on the
    separated-oxide basis), not mined ore plus oxide; Nd on different bases is refused."""
    fig = plot.primary_vs_secondary(results)
    stockpiled = results["secondary_stockpile_addition"].values
    np.testing.assert_allclose(_to(fig, "total", "t/yr"),
                               results["total_demand"].values + stockpiled, rtol=1e-9)
    assert "separated oxide" in fig.axes[0].get_ylabel()
    mixed = results.copy()
    mixed["primary_demand"] = results["primary_demand_ore"]
    with pytest.raises(MfaError, match=r"different bases.*primary_demand on 'ore'"):
        plot.primary_vs_secondary(mixed)
    unstated = results.copy()
    unstated["secondary_supply"] = results["secondary_supply"].copy()
    del unstated["secondary_supply"].attrs["basis"]
    with pytest.raises(MfaError, match="secondary_supply state no basis"):
        plot.primary_vs_secondary(unstated)


@pytest.mark.parametrize("by", ["product", "region"])
def test_in_use_stock(results: xr.Dataset, by: str, tmp_path: Path) -> None:
    fig = plot.in_use_stock(results, by=by)
    fig.savefig(tmp_path / "s.png")
    _check_png(tmp_path / "s.png")
    other = "region" if by == "product" else "product"
    stock = results["in_use_stock"].sum(other)
    np.testing.assert_allclose(_to(fig, "total", "t"), stock.sum(by).values)
    for k in stock[by].values:
        np.testing.assert_allclose(_to(fig, str(k), "t"), stock.sel({by: k}).values)
    _check_style(fig, results.attrs["scenario"])


def test_in_use_stock_bad_dim(results: xr.Dataset) -> None:
    with pytest.raises(MfaError, match="by='cohort'"):
        plot.in_use_stock(results, by="cohort")


def test_supply_concentration(results: xr.Dataset, tmp_path: Path) -> None:
    fig = plot.supply_concentration(results)
    fig.savefig(tmp_path / "c.png")
    _check_png(tmp_path / "c.png")
    share = results["production_share"].sel(region="China")
    for s in results["stage"].values:
        np.testing.assert_allclose(_to(fig, f"share/{s}", "1"), share.sel(stage=s).values)
        np.testing.assert_allclose(fig.plotted_data[f"hhi/{s}"],
                                   results["hhi"].sel(stage=s).values)
    assert len(fig.axes) == 2
    _check_style(fig, results.attrs["scenario"])


def test_scenario_comparison(tmp_path: Path) -> None:
    runs = {name: run(name) for name in ("baseline", "high-recycling", "no-recycling")}
    fig = plot.scenario_comparison(runs)
    fig.savefig(tmp_path / "cmp.png")
    _check_png(tmp_path / "cmp.png")
    for name, ds in runs.items():
        prim = ds["primary_demand"].sum("region").values
        np.testing.assert_allclose(_to(fig, f"{name}/primary", "t/yr"), prim)
        np.testing.assert_allclose(_to(fig, f"{name}/avoided", "t/yr"),
                                   ds["primary_demand_avoided"].values, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(fig.plotted_data["no-recycling/avoided"], 0.0, atol=1e-9)
    _check_style(fig, None)
    ref = plot.scenario_comparison(runs, reference="no-recycling")
    np.testing.assert_allclose(
        _to(ref, "high-recycling/avoided", "t/yr"),
        runs["no-recycling"]["primary_demand"].sum("region").values
        - runs["high-recycling"]["primary_demand"].sum("region").values)
    with pytest.raises(MfaError, match="reference"):
        plot.scenario_comparison(runs, reference="nope")
    with pytest.raises(MfaError):
        plot.scenario_comparison({})


def test_fan_chart(tmp_path: Path) -> None:
    time = np.arange(2020, 2041)
    q = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    base = 1000.0 + 200.0 * (time - 2020)
    vals = base[None, :] * (1 + (q[:, None] - 0.5) * 0.8)
    da = xr.DataArray(vals, dims=("quantile", "time"), coords={"quantile": q, "time": time},
                      attrs={"units": "t/yr", "long_name": "Primary Nd demand"})
    ds = xr.Dataset({"primary": da}, attrs={"scenario": "mc", "model_version": "0.1.0"})
    fig = fan_chart(ds, "primary")
    fig.savefig(tmp_path / "fan.png")
    _check_png(tmp_path / "fan.png")
    for qq, v in zip(q, vals, strict=True):
        np.testing.assert_allclose(_to(fig, f"q{qq:g}", "t/yr"), v)
    assert len(fig.axes[0].collections) == 2  # two shaded bands
    _check_style(fig, "mc")
    with pytest.raises(MfaError, match="extra dims"):
        fan_chart(da.expand_dims(region=["China"]))
    with pytest.raises(MfaError, match="quantile"):
        fan_chart(da.rename(quantile="q"))


# ---- all figures, palettes ------------------------------------------------------------------
def test_save_all_formats(results: xr.Dataset, tmp_path: Path) -> None:
    files = plot.save_all(results, tmp_path / "fig", formats=("png", "svg", "pdf"),
                          compare={"a": results, "b": run("high-recycling")})
    assert len(files) == 7 * 3
    for f in files:
        assert f.exists() and f.stat().st_size > 5000
        if f.suffix == ".png":
            _check_png(f, 10)
        elif f.suffix == ".pdf":
            assert f.read_bytes()[:5] == b"%PDF-"
        else:
            assert b"<svg" in f.read_bytes()[:2000]
    assert (tmp_path / "fig" / f"sankey_{int(results['time'][-1])}.png") in files
    with pytest.raises(MfaError, match="format"):
        plot.save_all(results, tmp_path, formats=("bmp",))


def test_product_colours_are_distinct_and_complete(results: xr.Dataset) -> None:
    products = [str(p) for p in results["product"].values]
    assert set(products) <= set(plot.PRODUCT_COLOURS)
    assert len(set(plot.PRODUCT_COLOURS.values())) == len(plot.PRODUCT_COLOURS)
    fig1 = plot.demand_by_product(results)
    fig2 = plot.in_use_stock(results, by="product")
    c1 = [tuple(c.get_facecolor()[0]) for c in fig1.axes[0].collections]
    c2 = [tuple(c.get_facecolor()[0]) for c in fig2.axes[0].collections]
    assert c1 == c2  # one colour per product in every figure
