"""The element model (Nd, Pr, Dy, Tb): oxide factors, composition, the element dim through the
chain, co-production at the mine and the balance problem, groups, IAMC, scenarios, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from mfa.analysis.run import prepare
from mfa.core.errors import ParameterError, ScenarioError
from mfa.core.units import UnitError
from mfa.models.neodymium import MODEL, simulate
from mfa.models.neodymium.element_data import (
    default_elements_dir,
    load_element_data,
    load_element_scenario,
)
from mfa.models.neodymium.element_indicators import elements_iamc, indicator_table, with_groups
from mfa.models.neodymium.elements import (
    composition_by_year,
    coproduction,
    oxide_factor,
    run_elements,
    simulate_elements,
    to_oxide,
)


@pytest.fixture(scope="module")
def data():
    return load_element_data()


@pytest.fixture(scope="module")
def values():
    return prepare(MODEL, "baseline")[1].values


@pytest.fixture(scope="module")
def results(values, data):
    return simulate_elements(values, data)


# -- 1. oxide conversion -----------------------------------------------------------------------

@pytest.mark.parametrize(("element", "n", "m", "fraction"), [
    # element mass fraction of the trade oxide, by hand from CIAAW 2021 (research README §1)
    ("Nd", 2, 3, 0.85736), ("Pr", 6, 11, 0.82770), ("Dy", 2, 3, 0.87132),
    ("Tb", 4, 7, 0.85022), ("La", 2, 3, 0.85268), ("Ce", 1, 2, 0.81409)])
def test_oxide_factor_matches_hand_values(data, element, n, m, fraction):
    factor = oxide_factor(element, data)
    assert 1 / factor == pytest.approx(fraction, abs=5e-6)
    ar = data.atomic_weight[element]
    assert factor == pytest.approx((n * ar + m * 15.999) / (n * ar), rel=1e-12)


def test_nd2o3_by_hand(data):
    assert oxide_factor("Nd", data) == pytest.approx((2 * 144.242 + 3 * 15.999) / (2 * 144.242))


def test_to_oxide_scales_each_element(results, data):
    da = results["primary_demand"].sum("region")
    ox = to_oxide(da, data)
    for e in ("Nd", "Pr", "Dy", "Tb"):
        np.testing.assert_allclose(ox.sel(element=e), da.sel(element=e) * oxide_factor(e, data))
    assert "oxide" in ox.attrs["basis"]
    with pytest.raises(UnitError, match="must be a mass or mass flow, got '1'"):
        to_oxide(results["eol_recycling_rate"], data)


# -- 2. composition ----------------------------------------------------------------------------

def test_composition_linear_between_anchors_and_held_outside(data):
    comp = composition_by_year(data, np.arange(2000, 2051))
    ev_dy = comp.sel(application="ev_traction", element="Dy")
    assert float(ev_dy.sel(time=2015)) == pytest.approx((0.075 + 0.030) / 2)
    assert float(ev_dy.sel(time=2000)) == pytest.approx(0.075)
    assert float(ev_dy.sel(time=2050)) == pytest.approx(0.020)
    # an application with one anchor year (measured e-bike magnets, 2025) is constant
    assert np.allclose(comp.sel(application="e_two_wheeler", element="Pr"), 0.049)


def test_element_inflow_is_nd_times_content_ratio(results):
    new = results["nd_in_new_products"].sum("region").sel(product="ev_bev", time=2020)
    # EV traction 2020: Nd 22.0, Pr 5.5, Dy 3.0, Tb 0.5 wt%
    for e, w in (("Pr", 5.5), ("Dy", 3.0), ("Tb", 0.5)):
        assert float(new.sel(element=e)) == pytest.approx(float(new.sel(element="Nd")) * w / 22.0)
    # non-magnet uses carry Nd only
    nm = results["nd_in_new_products"].sel(product="non_magnet").sum(["region", "time"])
    assert float(nm.sel(element="Nd")) > 0
    assert float(abs(nm.sel(element=["Pr", "Dy", "Tb"])).sum()) == 0.0


# -- the Nd slice is the Nd model --------------------------------------------------------------

def test_nd_slice_equals_nd_model(values, results):
    nd = simulate(values)
    for name in nd.data_vars:
        if nd[name].dtype.kind != "f":
            continue
        got = results[name]
        if "element" in got.dims:  # vehicle and turbine counts carry no element dim
            got = got.sel(element="Nd", drop=True)
        got = got.transpose(*nd[name].dims)
        if name.startswith(("mass_balance_residual", "process_throughput")):
            np.testing.assert_allclose(got, nd[name], atol=1e-9, err_msg=name)
        else:
            np.testing.assert_array_equal(got.values, nd[name].values, err_msg=name)


def test_every_element_balances(results):
    assert "element" in results["mass_balance_residual"].dims
    throughput = results["process_throughput"].max()
    assert float(abs(results["mass_balance_residual"]).max()) <= 1e-9 * float(throughput) + 1e-6


# -- 3. co-production --------------------------------------------------------------------------

def test_2024_mine_mix_reproduces_hand_calculation(data):
    """research/elements README §6: 2024 mined supply (t REO) by element, by hand."""
    from mfa.models.neodymium.elements import mine_contents, oxide_factors

    output = data.mine_output.sel(year=2024)
    contents = mine_contents(data) * oxide_factors(data, dim="mined_element")  # t REO / t TREO
    reo = (output * contents).sum("mine")
    hand = {"La": 99_500, "Ce": 166_900, "Pr": 21_100, "Nd": 65_300, "Dy": 2_170, "Tb": 650}
    for e, v in hand.items():
        assert float(reo.sel(mined_element=e)) == pytest.approx(v, rel=0.015), e


def test_coproduction_two_mines_by_hand():
    contents = xr.DataArray([[0.5, 0.2, 0.0], [0.1, 0.1, 0.1]], dims=("mine", "mined_element"),
                            coords={"mine": ["light", "heavy"],
                                    "mined_element": ["Ce", "Nd", "Dy"]})
    shares = xr.DataArray([[0.5, 0.5]], dims=("time", "mine"),
                          coords={"time": [2030], "mine": ["light", "heavy"]}).T
    demand = xr.DataArray([[30.0], [10.0]], dims=("element", "time"),
                          coords={"element": ["Nd", "Dy"], "time": [2030]})
    out = coproduction(demand, shares, contents, {"light": "China", "heavy": "Rest of Asia"},
                       ["China", "Rest of Asia", "Europe"])
    # blend per t TREO: Ce 0.3, Nd 0.15, Dy 0.05 -> Nd needs 200 t, Dy 200 t... Dy 10/0.05 = 200
    np.testing.assert_allclose(out["treo_required"].sel(time=2030), [200.0, 200.0])
    demand[1] = 20.0  # Dy 20 -> 400 t TREO: Dy binds
    out = coproduction(demand, shares, contents, {"light": "China", "heavy": "Rest of Asia"},
                       ["China", "Rest of Asia", "Europe"])
    assert str(out["binding_element"].sel(time=2030).values) == "Dy"
    assert float(out["ore_mined_treo"].sel(time=2030)) == pytest.approx(400.0)
    surplus = out["flow_coproduct_surplus"].sel(time=2030)
    np.testing.assert_allclose(surplus.sel(mined_element=["Ce", "Nd", "Dy"]), [120.0, 30.0, 0.0])
    mined = out["mine_output"].sel(time=2030)
    assert float(mined.sel(region="Europe").sum()) == 0.0
    assert float(mined.sel(region="Rest of Asia", mined_element="Dy")) == pytest.approx(20.0)
    assert float(out["mine_production_share"].sel(time=2030, region="Rest of Asia",
                                                  mined_element="Dy")) == 1.0


def test_coproduction_needs_a_mine_for_each_element():
    contents = xr.DataArray([[0.2, 0.0]], dims=("mine", "mined_element"),
                            coords={"mine": ["a"], "mined_element": ["Nd", "Dy"]})
    shares = xr.DataArray([[1.0]], dims=("mine", "time"), coords={"mine": ["a"], "time": [1]})
    demand = xr.DataArray([[1.0], [1.0]], dims=("element", "time"),
                          coords={"element": ["Nd", "Dy"], "time": [1]})
    with pytest.raises(ParameterError, match=r"no mine produces \['Dy'\]"):
        coproduction(demand, shares, contents, {"a": "China"})


def test_coproduction_balances_in_the_run(results):
    mined, used, surplus = (results[n] for n in ("flow_coproduced", "flow_coproduct_to_chain",
                                                 "flow_coproduct_surplus"))
    np.testing.assert_allclose(mined, (used + surplus).transpose(*mined.dims), rtol=1e-12)
    assert float(surplus.min()) >= 0.0
    ore = results["primary_demand_ore"].sum("region")
    np.testing.assert_allclose(used.sel(mined_element=["Nd", "Pr", "Dy", "Tb"]),
                               ore.rename(element="mined_element").transpose(*used.dims),
                               rtol=1e-12)
    # La and Ce: nothing used by the magnet chain, all surplus
    assert float(used.sel(mined_element=["La", "Ce"]).sum()) == 0.0
    # the binding element leaves no surplus
    for year in (2000, 2024, 2050):
        b = str(results["binding_element"].sel(time=year).values)
        assert float(surplus.sel(time=year, mined_element=b)) == pytest.approx(0.0, abs=1e-6)


# -- 4. indicators, groups, IAMC ---------------------------------------------------------------

def test_groups_add_masses_and_recompute_rates(results):
    g = with_groups(results)
    assert list(g["element"].values) == ["Nd", "Pr", "Dy", "Tb", "NdPr", "Magnet REE"]
    np.testing.assert_allclose(g["total_demand"].sel(element="NdPr"),
                               g["total_demand"].sel(element=["Nd", "Pr"]).sum("element"))
    rec = g["flow_recycled_eol"].sum("region").sel(element="Magnet REE")
    eol = g["flow_eol"].sum("region").sel(element="Magnet REE")
    rate = g["eol_recycling_rate"].sel(element="Magnet REE")
    ok = eol > 0
    np.testing.assert_allclose(rate.where(ok, drop=True), (rec / eol).where(ok, drop=True))
    share = g["mine_production_share"].sel(mined_element="NdPr").sum("region")
    np.testing.assert_allclose(share, 1.0)


def test_indicator_table_rows(results):
    table = indicator_table(results, 2024)
    assert list(table.index) == ["Nd", "Pr", "Dy", "Tb", "NdPr", "Magnet REE"]
    assert table.loc["NdPr", "demand"] == pytest.approx(table.loc["Nd", "demand"]
                                                        + table.loc["Pr", "demand"])
    assert 0 < table.loc["Dy", "China_share_mining"] < 1
    with pytest.raises(Exception, match="year 1900"):
        indicator_table(results, 1900)


def test_iamc_by_element_and_group(results):
    df = elements_iamc(results, scenario="baseline").set_index(["Region", "Variable"])
    world = df.xs("World", level="Region")
    for var in ("Dy|Primary Demand", "Tb|Demand", "NdPr|Demand", "Magnet REE|Secondary Supply",
                "La|Mining|Surplus (Stockpiled or Unsold)", "Dy|Mining|Production",
                "Rare Earths|Mining|Ore Mined (TREO)"):
        assert var in world.index, var
    total = sum(world.loc[f"{e}|Demand", 2030] for e in ("Nd", "Pr", "Dy", "Tb"))
    assert world.loc["Magnet REE|Demand", 2030] == pytest.approx(total)


# -- 5. scenarios ------------------------------------------------------------------------------

def test_hre_free_scenario_removes_dy_from_ev_magnets_and_keeps_nd(values, data, results):
    scen = load_element_scenario("hre-free-magnets")
    ds = simulate_elements(values, data, scen)
    comp = ds["magnet_composition"].sel(application="ev_traction")
    assert float(comp.sel(element="Dy", time=2036)) == 0.0
    assert float(comp.sel(element="Dy", time=2024)) == float(
        results["magnet_composition"].sel(application="ev_traction", element="Dy", time=2024))
    np.testing.assert_array_equal(ds["total_demand"].sel(element="Nd"),
                                  results["total_demand"].sel(element="Nd"))
    assert float(ds["total_demand"].sel(element="Dy", time=2040)) < float(
        results["total_demand"].sel(element="Dy", time=2040))


def test_ionic_clay_shock_needs_more_ore_for_the_same_demand(values, data, results):
    ds = simulate_elements(values, data, load_element_scenario("ionic-clay-shock"))
    np.testing.assert_array_equal(ds["total_demand"], results["total_demand"])
    before, after = (r["ore_mined_treo"].sel(time=2030) for r in (results, ds))
    assert str(ds["binding_element"].sel(time=2030).values) == "Dy"
    assert float(after) > float(before)
    assert float(ds["mine_production_share"].sel(time=2030, region="Rest of Asia",
                                                 mined_element="Dy")) < float(
        results["mine_production_share"].sel(time=2030, region="Rest of Asia",
                                             mined_element="Dy"))


def test_run_elements_names_scenarios():
    ds = run_elements("net-zero")
    assert ds.attrs["scenario"] == "net-zero" and ds.attrs["nd_scenario"] == "net-zero"
    assert ds.attrs["model"] == "magnet_rees"
    assert set(json.loads(ds.attrs["element_files"])) == {"elements.csv", "composition.csv",
                                                          "deposits.csv", "mines.csv",
                                                          "processing.csv", "net-zero.toml"}


# -- bad input ---------------------------------------------------------------------------------

@pytest.fixture
def copy_dir(tmp_path):
    target = tmp_path / "params"
    target.mkdir()
    shutil.copy(default_elements_dir().parent / "sources.csv", target / "sources.csv")
    shutil.copytree(default_elements_dir(), target / "elements")
    return target / "elements"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_wrong_unit_names_file_and_line(copy_dir):
    _edit(copy_dir / "composition.csv", ",wt%,", ",kg/t,")
    with pytest.raises(ParameterError, match=r"composition.csv, line 2: unit must be 'wt%'"):
        load_element_data(copy_dir)


def test_unknown_source_key(copy_dir):
    _edit(copy_dir / "deposits.csv", ",usgs-myb2022-t2,", ",no-such-source,")
    with pytest.raises(ParameterError, match=r"deposits.csv: source keys \['no-such-source'\]"):
        load_element_data(copy_dir)


def test_unknown_deposit_of_a_mine(copy_dir):
    _edit(copy_dir / "mines.csv", ",bayan_obo,", ",bayan_oboo,")
    with pytest.raises(ParameterError, match=r"mines.csv, line 2: column 'deposit' must be"):
        load_element_data(copy_dir)


def test_scenario_unknown_key_and_unknown_mine(copy_dir, values):
    path = copy_dir / "scenarios" / "bad.toml"
    path.write_text('nd_scenario = "baseline"\n[[mine_output]]\nmines = ["x"]\nstart = 2025\n'
                    'end = 2030\nfactor = 0.5\nfactr = 1\n')
    with pytest.raises(ScenarioError, match=r"bad.toml: \[\[mine_output\]\] #1: unknown keys "
                                            r"\['factr'\]"):
        load_element_scenario("bad", copy_dir)
    path.write_text('nd_scenario = "baseline"\n[[mine_output]]\nmines = ["x"]\nstart = 2025\n'
                    'end = 2030\nfactor = 0.5\n')
    scen = load_element_scenario("bad", copy_dir)
    with pytest.raises(ParameterError, match=r"unknown mines \['x'\]"):
        simulate_elements(values, load_element_data(copy_dir), scen)
    with pytest.raises(ScenarioError, match="unknown element scenario 'nope'"):
        load_element_scenario("nope", copy_dir)


def test_sample_dim_broadcasts_through_elements_and_coproduction(values, data, results):
    factor = xr.DataArray([0.5, 1.0], dims="sample", coords={"sample": [0, 1]})
    sampled = values.copy()
    sampled["magnet_per_vehicle"] = (values["magnet_per_vehicle"] * factor).assign_attrs(
        values["magnet_per_vehicle"].attrs)
    ds = simulate_elements(sampled, data)
    assert {"sample", "element"} <= set(ds["total_demand"].dims)
    assert "sample" in ds["binding_element"].dims
    np.testing.assert_allclose(ds["total_demand"].sel(sample=1).transpose(
        *results["total_demand"].dims), results["total_demand"], rtol=1e-12)
    assert float(ds["ore_mined_treo"].sel(sample=0, time=2040)) < float(
        results["ore_mined_treo"].sel(time=2040))


def test_netcdf_round_trip(tmp_path):
    from mfa.io.netcdf import read_results, write_netcdf

    ds = run_elements("ionic-clay-shock")
    back = read_results(write_netcdf(ds, tmp_path / "elements.nc"))
    np.testing.assert_allclose(back["flow_coproduct_surplus"], ds["flow_coproduct_surplus"])
    assert back["binding_element"].values.tolist() == ds["binding_element"].values.tolist()
    assert back.attrs["element_scenario"] == "ionic-clay-shock"


def test_surplus_warning_names_the_element(values, data):
    from mfa.models.neodymium import SecondaryExceedsDemandWarning

    high = values.copy()
    for name in ("collection_rate", "recycling_yield"):
        high[name] = (values[name] * 0 + 1.0).assign_attrs(values[name].attrs)
    scen = load_element_scenario("hre-free-magnets")
    with pytest.warns(SecondaryExceedsDemandWarning, match=r"exceeds total demand for (Dy|Tb)\b.* in \[20"):
        simulate_elements(high, data, scen)


def test_magnet_rees_model_runs_from_the_command_line(tmp_path, capsys):
    import tomllib

    import mfa.models
    from mfa.cli import main
    from mfa.io.netcdf import read_results
    from mfa.models.neodymium.magnet_rees import MODEL as MAGNET_REES

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    entry = pyproject["project"]["entry-points"]["mfa.models"]["magnet_rees"]
    assert entry == "mfa.models.neodymium.magnet_rees:MODEL"
    if "magnet_rees" not in mfa.models.available():  # an install older than the entry point
        mfa.models.register(MAGNET_REES)
    out = tmp_path / "rees.nc"
    assert main(["--model", "magnet_rees", "run", "--scenario", "net-zero", "--out",
                 str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Dy primary demand [t/yr]" in printed and "China's share of Dy mined [%]" in printed
    ds = read_results(out)
    assert list(ds["element"].values) == ["Nd", "Pr", "Dy", "Tb"]
    assert ds.attrs["model"] == "magnet_rees"


def test_magnet_rees_binding_element_as_cf_flags(values, results):
    from mfa.models.neodymium.magnet_rees import MODEL as MAGNET_REES

    ds = MAGNET_REES.simulate(values)
    flags = ds["binding_element"]
    meanings = flags.attrs["flag_meanings"].split()
    assert meanings == ["none", "Nd", "Pr", "Dy", "Tb"]
    decoded = [meanings[int(c)] for c in flags.values]
    assert decoded == [str(x) or "none" for x in results["binding_element"].values]
