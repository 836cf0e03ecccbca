"""The Nd model on the default data: schema, provenance, calibration, scenarios."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mfa.data.params import load_parameters
from mfa.data.scenarios import list_scenarios
from mfa.models.neodymium import FLOWS, RESULT_VARIABLES, run

REQUIRED_SCENARIOS = {"baseline", "no-recycling", "high-recycling", "net-zero", "net-zero-circular",
                      "diversified-supply"}


@pytest.fixture(scope="module")
def params():
    return load_parameters()


@pytest.fixture(scope="module")
def baseline(params):
    return run("baseline", params=params)


@pytest.fixture(scope="module")
def all_runs(params):
    return {s.name: run(s.name, params=params) for s in list_scenarios()}


def test_schema(baseline):
    ds = baseline
    assert ds["time"].dtype.kind == "i"
    assert int(ds["time"][0]) == 1980 and int(ds["time"][-1]) == 2050
    expect_dims = {
        "in_use_stock": {"time", "region", "product"},
        "eol_outflow": {"time", "region", "product"},
        "nd_in_new_products": {"time", "region", "product"},
        "total_demand": {"time"},
        "primary_demand": {"time", "region"},
        "primary_demand_ore": {"time", "region"},
        "secondary_supply": {"time", "source"},
        "new_scrap_recycled": {"time"},
        "primary_demand_no_eol_recycling": {"time"},
        "primary_demand_avoided": {"time"},
        "eol_recycling_rate": {"time"},
        "recycling_input_rate": {"time", "source"},
        "production_share": {"time", "region", "stage"},
        "hhi": {"time", "stage"},
        "import_reliance": {"time", "region", "stage"},
    }
    for name, dims in expect_dims.items():
        assert set(ds[name].dims) == dims, name
    for name in list(RESULT_VARIABLES) + list(FLOWS):
        assert ds[name].attrs.get("units"), name
    assert ds["in_use_stock"].attrs["units"] == "t"
    assert set(ds["region"].values) == {"China", "Japan", "Rest of Asia", "Europe",
                                        "North America", "Rest of World"}
    assert set(ds["secondary_supply"]["source"].values) == {"new_scrap", "end_of_life"}


def test_provenance(baseline, params):
    attrs = baseline.attrs
    assert attrs["scenario"] == "baseline"
    files = json.loads(attrs["parameter_files"])
    assert files == dict(sorted(params.files.items()))
    assert all(len(h) == 64 for h in files.values())
    assert attrs["model_version"]


def test_mass_balance_near_zero(all_runs):
    for name, ds in all_runs.items():
        scale = float(ds["total_demand"].max())
        assert ds.attrs["max_abs_mass_balance_residual"] <= 1e-9 * scale, name


def test_required_scenarios_exist(all_runs):
    assert REQUIRED_SCENARIOS <= set(all_runs)


def test_values_are_finite_and_non_negative(baseline):
    for name in ["in_use_stock", "eol_outflow", "nd_in_new_products", "total_demand",
                 "primary_demand", "secondary_supply"]:
        v = baseline[name].values
        assert np.isfinite(v).all(), name
        assert (v >= -1e-9).all(), name


def test_no_recycling_avoids_nothing(all_runs):
    ds = all_runs["no-recycling"]
    np.testing.assert_allclose(ds["secondary_supply"], 0.0, atol=1e-9)
    np.testing.assert_allclose(ds["primary_demand_avoided"], 0.0, atol=1e-9)
    # ...and its primary demand is the baseline's plus all the baseline recycles (old and new
    # scrap), one to one on the separated-oxide basis
    base = all_runs["baseline"]
    np.testing.assert_allclose(ds["primary_demand"].sum("region"),
                               base["primary_demand"].sum("region")
                               + base["secondary_supply"].sum("source"), rtol=1e-12)


def test_recycling_scenarios_rank(all_runs):
    """More recycling, less mining; net-zero needs more Nd than stated policies."""
    y = 2050
    prim = {k: float(v["primary_demand"].sum("region").sel(time=y)) for k, v in all_runs.items()}
    assert prim["high-recycling"] < prim["baseline"] < prim["no-recycling"]
    assert prim["net-zero-circular"] < prim["net-zero"]
    assert prim["net-zero"] > prim["baseline"]
    rate = {k: float(v["recycling_input_rate"].sel(time=y).sum("source"))
            for k, v in all_runs.items()}
    assert rate["baseline"] < rate["high-recycling"]
    # end-of-life recycling lags: its 2030 contribution is smaller than its 2050 one
    hr = all_runs["high-recycling"]["secondary_supply"].sel(source="end_of_life")
    assert float(hr.sel(time=2050)) > float(hr.sel(time=2030))


def test_diversified_supply_lowers_china_share(all_runs):
    base = all_runs["baseline"]["production_share"].sel(region="China", time=2040)
    div = all_runs["diversified-supply"]["production_share"].sel(region="China", time=2040)
    for stage in ["mining", "separation", "magnet"]:
        assert float(div.sel(stage=stage)) < float(base.sel(stage=stage)), stage
    assert (all_runs["diversified-supply"]["hhi"].sel(time=2040)
            <= all_runs["baseline"]["hhi"].sel(time=2040) + 1e-12).all()


def test_stocks_follow_sales(baseline):
    """The EV in-use stock in 2024 holds most Nd put into EVs since 2010 (lifetimes ~15 yr)."""
    ev = ["ev_bev", "ev_phev"]
    inflow = float(baseline["nd_in_new_products"].sel(product=ev, time=slice(2010, 2024)).sum())
    stock = float(baseline["in_use_stock"].sel(product=ev, time=2024).sum())
    assert 0.8 * inflow < stock <= inflow


def test_extending_to_2100_by_parameters_alone(tmp_path, params):
    import shutil

    from mfa.data.params import default_params_dir

    d = tmp_path / "params"
    shutil.copytree(default_params_dir(), d)
    text = (d / "model.toml").read_text()
    text = text.replace("end = 2050", "end = 2100")
    (d / "model.toml").write_text(text)
    ds = run("baseline", params=d)
    assert int(ds["time"][-1]) == 2100
    base = run("baseline", params=params)
    np.testing.assert_allclose(ds["primary_demand"].sel(time=slice(1980, 2050)),
                               base["primary_demand"], rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Issue 8: a parameter declared in % in the registry; bad arguments to run()
# --------------------------------------------------------------------------------------------
def _yield_mining_in_percent(directory):
    """Declare yield_mining in % in registry.toml and write its row as 70 % (was 0.7, 1)."""
    reg = directory / "registry.toml"
    text = reg.read_text()
    block = text[text.index("[parameters.yield_mining]"):]
    block = block[:block.index("\n\n")]
    assert 'unit = "1"\nmin = 0.01\nmax = 1.0' in block
    reg.write_text(text.replace(block, block.replace('unit = "1"\nmin = 0.01\nmax = 1.0',
                                                     'unit = "%"\nmin = 1\nmax = 100')))
    csv = directory / "processing.csv"
    text = csv.read_text()
    assert "\nyield_mining,,,,,0.7,1,0.5,0.85," in text
    csv.write_text(text.replace("\nyield_mining,,,,,0.7,1,0.5,0.85,",
                                "\nyield_mining,,,,,70,%,50,85,"))


def test_parameter_declared_in_percent_gives_the_default_results(tmp_path, params, baseline):
    """Before: the chain divided by 70 instead of 0.7 and a loss flow went to -95 kt/yr."""
    import shutil

    from mfa.data.params import default_params_dir

    d = tmp_path / "params"
    shutil.copytree(default_params_dir(), d)
    _yield_mining_in_percent(d)
    percent = load_parameters(d)
    assert float(percent.values["yield_mining"].isel(time=0)) == 70.0
    assert percent.values["yield_mining"].attrs["units"] == "%"
    ds = run("baseline", params=d)
    for name in [*FLOWS, *RESULT_VARIABLES, "process_throughput"]:
        np.testing.assert_allclose(ds[name], baseline[name], rtol=1e-12, atol=1e-9, err_msg=name)
    assert float(ds["flow_mining_losses"].min()) >= 0


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"scenario": 123}, "ScenarioError",
     r"^scenario must be a scenario name, the path of a scenario TOML file or None, got int 123$"),
    ({"scenario": True}, "ScenarioError", r"got bool True"),
    ({"params": {}}, "ParameterError",
     r"^params must be a ParameterSet, a parameter directory or None, got dict \{\}$"),
    ({"params": 123}, "ParameterError", r"got int 123"),
    ({"check": "no"}, "MfaError", r"^check must be True or False, got 'no'$"),
    ({"check": 0}, "MfaError", r"^check must be True or False, got 0$"),
])
def test_bad_run_arguments_are_clear_errors(kwargs, error, message):
    import mfa.core.errors

    with pytest.raises(getattr(mfa.core.errors, error), match=message):
        run(**kwargs)


def test_run_takes_the_arguments_of_run_scenario(params):
    # run() checks nothing itself: it is mfa.analysis.run.run_scenario for this model
    ds = run(None, params=params)
    assert ds.attrs["scenario"] == "data as given"
    assert ds.attrs["model"] == "neodymium"


def test_run_check_false_skips_the_check(params):
    ds = run("baseline", params=params, check=False)
    assert "mass_balance_residual" in ds  # residuals are still reported


def test_results_follow_the_model_protocol():
    """Flows carry their ends, stocks their process, the dataset its model (issue 9)."""
    from mfa.models.neodymium import FLOWS, MODEL, run

    ds = run("baseline")
    assert ds.attrs["model"] == MODEL.name == "neodymium" and ds.attrs["material"] == "Nd"
    for name, (source, target, _) in FLOWS.items():
        assert (ds[name].attrs["source"], ds[name].attrs["target"]) == (source, target), name
    assert ds["in_use_stock"].attrs["process"] == "use"
    assert ds["in_use_stock"].attrs["units"] == "t"
