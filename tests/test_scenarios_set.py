"""The scenario set shipped in params/scenarios (issue 11 items 6 and 7): every file tells its
storyline and cites its trajectories, runs with a balanced mass balance, the new scenarios move
the numbers the way their storylines say, and the docs helpers of the scenario pages (families,
grouped Sobol indices) are right."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from mfa.data.params import load_parameters
from mfa.data.scenarios import apply_scenario, list_scenarios
from mfa.models.neodymium import run

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "docs" / "_ext"
if not (ROOT / "params" / "registry.toml").is_file():  # an installed package without params/
    pytest.skip("params/ not in this tree", allow_module_level=True)

SCENARIOS = [s.name for s in list_scenarios()]
EV = ["ev_bev", "ev_phev"]


@pytest.fixture(scope="module")
def params():
    return load_parameters()


@pytest.fixture(scope="module")
def runs(params):
    return {}


def result(runs, params, name):
    if name not in runs:
        runs[name] = run(name, params=params)
    return runs[name]


def docs_module(name: str):
    sys.path.insert(0, str(EXT))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(EXT))


# ---------------------------------------------------------------------------------------------
# Storylines and sources
# ---------------------------------------------------------------------------------------------
def test_required_scenarios_exist():
    assert {"baseline", "no-recycling", "high-recycling", "net-zero", "net-zero-circular",
            "diversified-supply", "re-free-motors", "lifetime-extension"} <= set(SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_storyline_and_sources(params, name):
    """Each file explains its storyline (description, rationale) and cites its trajectories:
    its sources and the source of every override are keys of params/sources.csv, and every
    override's source is among the file's own sources."""
    sc = next(s for s in list_scenarios() if s.name == name)
    assert sc.path.stem == name
    assert len(sc.description) >= 40, f"{name}: description too short"
    assert len(sc.rationale) >= 200, f"{name}: rationale too short to explain the drivers"
    assert sc.sources, f"{name}: no sources"
    keys = set(params.sources)
    unknown = [k for k in sc.sources if k not in keys]
    assert not unknown, f"{name}: sources not in sources.csv: {unknown}"
    for i, o in enumerate(sc.overrides, 1):
        if "source" in o:
            assert o["source"] in keys, f"{name} override #{i}: {o['source']!r} unknown"
            assert o["source"] in sc.sources, (
                f"{name} override #{i}: source {o['source']!r} not cited in 'sources'")


def test_every_scenario_is_on_a_docs_page():
    """A new scenario file needs a place on the scenario pages (docs/scenarios/)."""
    sp = docs_module("scenario_pages")
    documented = {n for names in sp.FAMILIES.values() for n in names}
    assert set(SCENARIOS) <= documented, f"not on a scenario page: {set(SCENARIOS) - documented}"


# ---------------------------------------------------------------------------------------------
# Every scenario runs
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_runs_balanced(runs, params, name):
    ds = result(runs, params, name)
    assert ds.attrs["scenario"] == name
    scale = float(ds["total_demand"].max())
    assert ds.attrs["max_abs_mass_balance_residual"] <= 1e-9 * scale
    for v in ["in_use_stock", "eol_outflow", "nd_in_new_products", "primary_demand",
              "secondary_supply"]:
        values = ds[v].values
        assert np.isfinite(values).all() and (values >= -1e-9).all(), f"{name}: {v}"


# ---------------------------------------------------------------------------------------------
# The new scenarios move the numbers the expected way
# ---------------------------------------------------------------------------------------------
def test_re_free_motors_lower_ev_demand_in_proportion_to_the_pm_share(runs, params):
    base, ref = (result(runs, params, n) for n in ("baseline", "re-free-motors"))
    nd_b = base["nd_in_new_products"].sel(time=2040)
    nd_r = ref["nd_in_new_products"].sel(time=2040)
    assert float(nd_r.sel(product=EV).sum()) < 0.8 * float(nd_b.sel(product=EV).sum())
    # Nd per new car = sales x PM share x magnet mass x Nd share: only the PM share changes
    pm_b = apply_scenario(params, "baseline").values["pm_share"].sel(time=2040, product=EV)
    pm_r = apply_scenario(params, "re-free-motors").values["pm_share"].sel(time=2040, product=EV)
    np.testing.assert_allclose(nd_r.sel(product=EV), (nd_b.sel(product=EV) * pm_r / pm_b)
                               .transpose(*nd_r.sel(product=EV).dims), rtol=1e-12)
    others = [p for p in base["product"].values if p not in EV]
    np.testing.assert_array_equal(nd_r.sel(product=others), nd_b.sel(product=others))
    # the trajectory of the storyline: 0.90 (2024) -> 0.70 (2035) -> 0.50 (2050), with ranges
    p = apply_scenario(params, "re-free-motors")
    share = p.values["pm_share"].sel(product="ev_bev", region="Europe")
    np.testing.assert_allclose(share.sel(time=[2024, 2035, 2050]), [0.90, 0.70, 0.50])
    np.testing.assert_allclose(p.low["pm_share"].sel(product="ev_bev", region="Europe",
                                                     time=[2035, 2050]), [0.55, 0.40])
    np.testing.assert_allclose(p.high["pm_share"].sel(product="ev_bev", region="Europe",
                                                      time=[2035, 2050]), [0.85, 0.70])


def test_lifetime_extension_lowers_end_of_life_flows(runs, params):
    base, ext = (result(runs, params, n) for n in ("baseline", "lifetime-extension"))
    longer = ["ev_bev", "ev_phev", "e_two_wheeler", "wind_onshore", "wind_offshore",
              "electronics", "industrial_motors", "other_magnets"]
    lt_b = apply_scenario(params, "baseline").values["lifetime_mean"].sel(product=longer)
    lt_e = apply_scenario(params, "lifetime-extension").values["lifetime_mean"].sel(product=longer)
    assert (lt_e > lt_b).all()
    eol_b = base["eol_outflow"].sel(time=2040).sum("region")
    eol_e = ext["eol_outflow"].sel(time=2040).sum("region")
    assert (eol_e.sel(product=longer) < eol_b.sel(product=longer)).all()
    assert float(eol_e.sum()) < 0.9 * float(eol_b.sum())
    assert float(ext["in_use_stock"].sel(time=2040).sum()) > float(
        base["in_use_stock"].sel(time=2040).sum())
    # keeping products longer never needs more Nd in new products (equal where sales drive
    # demand, lower where a fleet or capacity does), and returns less scrap to recycling
    assert float(ext["total_demand"].sel(time=2040)) <= float(
        base["total_demand"].sel(time=2040)) * (1 + 1e-12)
    assert float(ext["secondary_supply"].sel(time=2040).sum()) < float(
        base["secondary_supply"].sel(time=2040).sum())


def test_iea_projections_read_for_the_demand_page():
    """The IEA CMDE rows the demand page compares with: both end uses, four scenarios,
    kt Nd/yr, cited (the values as in research/projections/README.md section 9)."""
    sp = docs_module("scenario_pages")
    iea = sp.iea_nd_demand()
    assert set(iea["product"]) == {"ev_all_road", "wind_total"}
    assert {"historical", "STEPS", "APS", "NZE"} <= set(iea["scenario"])
    assert set(iea["source"]) == {"iea-cmde-2025"}
    steps_2050 = iea[(iea["scenario"] == "STEPS") & (iea["year"] == 2050)].set_index("product")
    assert steps_2050.loc["ev_all_road", "value"] == pytest.approx(31.1)
    assert steps_2050.loc["wind_total", "value"] == pytest.approx(6.93)
