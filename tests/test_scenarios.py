"""Tests of mfa.data.scenarios: reading scenario files and applying overrides.

Uses the fixture ``tests/data/params_small`` (years 2000-2010). Numbers are checked by hand
against the fixture data: China collection rate 0.01 (all years), Europe 0.05 -> 0.5 (ev_bev),
production share of China in mining 0.9 -> 0.6.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mfa.core.errors import ScenarioError
from mfa.data.params import load_parameters
from mfa.data.scenarios import Scenario, apply_scenario, list_scenarios, load_scenario

FIXTURE = Path(__file__).parent / "data" / "params_small"
REPO_PARAMS = Path(__file__).resolve().parents[1] / "params"
YEARS = np.arange(2000, 2011)


@pytest.fixture(scope="module")
def ps():
    return load_parameters(FIXTURE)


@pytest.fixture
def pdir(tmp_path):
    d = tmp_path / "params"
    shutil.copytree(FIXTURE, d)
    return d


def write(pdir: Path, name: str, text: str) -> Path:
    p = pdir / "scenarios" / f"{name}.toml"
    p.write_text(text)
    return p


def apply_text(ps, pdir: Path, text: str, name: str = "test"):
    write(pdir, name, text)
    return apply_scenario(ps, load_scenario(name, pdir))


def apply_error(ps, pdir: Path, text: str, name: str = "test") -> str:
    with pytest.raises(ScenarioError) as info:
        apply_text(ps, pdir, text, name)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Loading and listing
# ---------------------------------------------------------------------------------------------
def test_list_scenarios():
    names = [s.name for s in list_scenarios(FIXTURE)]
    assert names == ["baseline", "high-recycling"]


def test_load_by_name_and_by_path():
    s = load_scenario("high-recycling", FIXTURE)
    assert isinstance(s, Scenario)
    assert s.base == "baseline" and s.base_scenario.name == "baseline"
    assert [c.name for c in s.chain()] == ["baseline", "high-recycling"]
    assert list(s.files) == ["baseline.toml", "high-recycling.toml"]
    assert len(s.sha256) == 64
    assert s.sources == ["assumption"]
    assert s.description.startswith("Collection rates")
    t = load_scenario(FIXTURE / "scenarios" / "high-recycling.toml", FIXTURE)
    assert t.sha256 == s.sha256 and t.overrides == s.overrides


def test_unknown_scenario_lists_available():
    with pytest.raises(ScenarioError) as info:
        load_scenario("high-recyling", FIXTURE)
    msg = str(info.value)
    assert "unknown scenario 'high-recyling'" in msg
    assert "did you mean 'high-recycling'" in msg
    assert "'baseline', 'high-recycling'" in msg


def test_missing_path():
    with pytest.raises(ScenarioError, match=r"nowhere\.toml: scenario file not found"):
        load_scenario("/tmp/nowhere.toml")


def test_base_cycle(pdir):
    write(pdir, "a", 'base = "b"\n')
    write(pdir, "b", 'base = "c"\n')
    write(pdir, "c", 'base = "a"\n')
    with pytest.raises(ScenarioError, match=r"base cycle: a.toml -> b.toml -> c.toml -> a.toml"):
        load_scenario("a", pdir)


def test_unknown_base(pdir):
    write(pdir, "a", 'base = "baselin"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario("a", pdir)
    msg = str(info.value)
    assert "a.toml: base 'baselin'" in msg and "did you mean 'baseline'" in msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('nmae = "x"\n', "unknown key 'nmae' (did you mean 'name'?)"),
        ('[[overide]]\nparameter = "x"\n', "unknown key 'overide' (did you mean 'override'?)"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\nvaule = 0.5\n',
         "override #1 (parameter 'collection_rate'): unknown key 'vaule' (did you mean 'value'?)"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\n'
         'ramp = { from_year = 2002, to_yaer = 2006, to_value = 0.5 }\n',
         "unknown key 'to_yaer' in 'ramp' (did you mean 'to_year'?)"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\n',
         "give exactly one of 'value', 'trajectory', 'ramp', 'scale'; found none"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\nvalue = 0.5\nscale = 2\n',
         "give exactly one of 'value', 'trajectory', 'ramp', 'scale'; found 'value', 'scale'"),
        ('[[override]]\nparameter = "collection_rate"\nvalue = 0.5\n',
         "missing key 'unit' (required with 'value'"),
        ('[[override]]\nunit = "1"\nvalue = 0.5\n', "override #1: missing key 'parameter'"),
        ('[override]\nparameter = "collection_rate"\nunit = "1"\nvalue = 0.5\n',
         "write each override as [[override]]"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\nvalue = "half"\n',
         "'value' must be a number, got 'half'"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\ntrajectory = { 20x0 = 0.5 }\n',
         "trajectory key '20x0' is not an integer year"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\nvalue = 0.5\nvalue = 0.6\n',
         "not valid TOML"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\ntrajectory = { "y2030" = 0.5 }\n',
         "trajectory key 'y2030' is not an integer year"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\n'
         'ramp = { from_year = 2006, to_year = 2002, to_value = 0.5 }\n',
         "ramp to_year 2002 must be after from_year 2006"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\nscale = 2\nlow = 1\n',
         "'low'/'high' are only allowed with 'value'"),
        ('[[override]]\nparameter = "collection_rate"\nunit = "1"\n'
         'trajectory = { 2004 = 0.2 }\nfrom_year = 2003\n', "'from_year' is only allowed with"),
        ('[[override]]\nparameter = "collection_rate"\nregion = 3\nunit = "1"\nvalue = 0.5\n',
         "selector 'region' must be a label or a non-empty list"),
        ('sources = "iea"\n', "'sources' must be a list"),
    ],
)
def test_file_errors(pdir, text, expected):
    write(pdir, "bad", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario("bad", pdir)
    msg = str(info.value)
    assert "bad.toml" in msg
    assert expected in msg


# ---------------------------------------------------------------------------------------------
# Override kinds, checked by hand
# ---------------------------------------------------------------------------------------------
def test_value_override_with_selectors(ps, pdir):
    out = apply_text(ps, pdir, """
[[override]]
parameter = "collection_rate"
region = "Europe"
product = ["ev_bev", "ev_phev"]
unit = "1"
value = 0.5
""")
    cr = out.values["collection_rate"]
    assert (cr.sel(region="Europe", product=["ev_bev", "ev_phev"]) == 0.5).all()
    # fixed by the scenario: no range
    assert (out.low["collection_rate"].sel(region="Europe", product="ev_bev") == 0.5).all()
    assert (out.high["collection_rate"].sel(region="Europe", product="ev_bev") == 0.5).all()
    # not selected: unchanged
    np.testing.assert_array_equal(cr.sel(region="Europe", product="wind_onshore"),
                                  ps.values["collection_rate"].sel(region="Europe", product="wind_onshore"))
    assert (cr.sel(region="China") == 0.01).all()
    # the input set is not modified
    assert float(ps.values["collection_rate"].sel(region="Europe", product="ev_bev", time=2000)) == 0.05
    assert out.values["collection_rate"].attrs["units"] == "1"
    assert out.scenario == "test" and list(out.scenario_files) == ["test.toml"]


def test_value_override_from_year_units_and_range(ps, pdir):
    out = apply_text(ps, pdir, """
[[override]]
parameter = "other_demand"
unit = "kt/yr"
value = 3
low = 2
high = 4
from_year = 2008
""")
    od = out.values["other_demand"]
    np.testing.assert_allclose(od.sel(time=slice(2008, 2010)), 3000.0)
    np.testing.assert_allclose(od.sel(time=2007), 2200.0)  # unchanged before from_year
    np.testing.assert_allclose(out.low["other_demand"].sel(time=2009), 2000.0)
    np.testing.assert_allclose(out.high["other_demand"].sel(time=2009), 4000.0)


def test_value_override_without_time_dim(ps, pdir):
    out = apply_text(ps, pdir, """
[[override]]
parameter = "nd_intensity"
product = "ev_bev"
unit = "g/vehicle"
value = 800
""")
    np.testing.assert_allclose(out.values["nd_intensity"].values[:2], [0.8, 0.5])
    assert np.isnan(out.values["nd_intensity"].sel(product="wind_onshore"))


def test_trajectory_override(ps, pdir):
    out = apply_text(ps, pdir, """
[[override]]
parameter = "collection_rate"
region = "China"
unit = "%"
trajectory = { 2004 = 20, 2008 = 60 }
""")
    cr = out.values["collection_rate"].sel(region="China", product="ev_bev")
    # before 2004: data (0.01); 2004-2008 linear 0.2 -> 0.6; after 2008: constant (after rule)
    expected = [0.01] * 4 + [0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.6]
    np.testing.assert_allclose(cr.values, expected)
    np.testing.assert_allclose(out.low["collection_rate"].sel(region="China", product="ev_bev").values,
                               expected)


def test_trajectory_uses_step_rule(ps, pdir):
    out = apply_text(ps, pdir, """
[[override]]
parameter = "wind_additions"
region = "Europe"
unit = "GW/yr"
trajectory = { 2006 = 1, 2009 = 2 }
""")
    w = out.values["wind_additions"].sel(region="Europe")
    np.testing.assert_allclose(w.values, [0, 0, 0, 100, 100, 100, 1000, 1000, 1000, 2000, 2000])


def test_ramp_override(ps, pdir):
    out = apply_text(ps, pdir, """
[[override]]
parameter = "collection_rate"
region = ["China", "Europe"]
product = "ev_bev"
unit = "1"
ramp = { from_year = 2002, to_year = 2006, to_value = 0.5 }
""")
    cr = out.values["collection_rate"]
    # China: 0.01 in 2002 -> 0.5 in 2006, steps of 0.1225
    china = [0.01, 0.01, 0.01, 0.1325, 0.255, 0.3775, 0.5, 0.5, 0.5, 0.5, 0.5]
    np.testing.assert_allclose(cr.sel(region="China", product="ev_bev").values, china)
    # Europe: 0.14 in 2002 (0.05 + 2 * 0.045) -> 0.5 in 2006
    europe = [0.05, 0.095, 0.14, 0.23, 0.32, 0.41, 0.5, 0.5, 0.5, 0.5, 0.5]
    np.testing.assert_allclose(cr.sel(region="Europe", product="ev_bev").values, europe)
    np.testing.assert_allclose(cr.sel(region="Rest of World", product="ev_bev").values, 0.01)
    np.testing.assert_allclose(cr.sel(region="China", product="ev_phev").values, 0.01)


def test_ramp_transforms_low_high(ps, pdir):
    out = apply_text(ps, pdir, """
[[override]]
parameter = "other_demand"
unit = "t/yr"
ramp = { from_year = 2000, to_year = 2010, to_value = 500, to_low = 400, to_high = 700 }
""")
    # value 1500 -> 500; low 1000 -> 400; high 2000 -> 700 (linear over 2000-2010)
    np.testing.assert_allclose(out.values["other_demand"].values, np.linspace(1500, 500, 11))
    np.testing.assert_allclose(out.low["other_demand"].values, np.linspace(1000, 400, 11))
    np.testing.assert_allclose(out.high["other_demand"].values, np.linspace(2000, 700, 11))
    out2 = apply_text(ps, pdir, """
[[override]]
parameter = "other_demand"
unit = "t/yr"
ramp = { from_year = 2000, to_year = 2010, to_value = 500 }
""", name="test2")
    np.testing.assert_allclose(out2.low["other_demand"].values, np.linspace(1000, 500, 11))


def test_scale_override(ps, pdir):
    out = apply_text(ps, pdir, """
[[override]]
parameter = "ev_sales"
region = "China"
product = "ev_bev"
scale = 120
unit = "%"
from_year = 2002
""")
    ev = out.values["ev_sales"].sel(region="China", product="ev_bev")
    np.testing.assert_allclose(ev.values, [0, 0, 120, 84, 48, 12, 600, 600, 600, 600, 600])
    np.testing.assert_allclose(out.low["ev_sales"].sel(region="China", product="ev_bev", time=2002), 96)
    np.testing.assert_allclose(out.high["ev_sales"].sel(region="China", product="ev_bev", time=2002), 144)
    assert float(out.values["ev_sales"].sel(region="Europe", product="ev_bev", time=2006)) == 10
    assert np.isnan(out.values["ev_sales"].sel(product="wind_onshore")).all()


def test_base_chain_order(ps, pdir):
    write(pdir, "parent", """
description = "parent"
[[override]]
parameter = "other_demand"
unit = "t/yr"
value = 1000
""")
    out = apply_text(ps, pdir, """
base = "parent"
[[override]]
parameter = "other_demand"
scale = 1.5
""")
    # the parent's value first, then the child's scale
    np.testing.assert_allclose(out.values["other_demand"].values, 1500.0)
    assert list(out.scenario_files) == ["parent.toml", "test.toml"]


def test_fixture_scenario_high_recycling(ps):
    out = apply_scenario(ps, "high-recycling")  # name looked up next to the parameters
    np.testing.assert_allclose(
        out.values["collection_rate"].sel(region="Rest of World", product="wind_onshore").values,
        [0.01, 0.01, 0.01, 0.1325, 0.255, 0.3775, 0.5, 0.5, 0.5, 0.5, 0.5])
    assert float(out.values["ev_sales"].sel(region="China", product="ev_bev", time=2006)) == 600
    assert float(out.values["ev_sales"].sel(region="China", product="ev_bev", time=2005)) == 10
    assert out.values.attrs["scenario"] == "high-recycling"


def test_baseline_changes_nothing(ps):
    out = apply_scenario(ps, load_scenario("baseline", FIXTURE))
    for name in ps.names:
        np.testing.assert_array_equal(out.values[name].values, ps.values[name].values)


# ---------------------------------------------------------------------------------------------
# Errors when applying
# ---------------------------------------------------------------------------------------------
def test_wrong_unit_dimension(ps, pdir):
    msg = apply_error(ps, pdir, """
[[override]]
parameter = "other_demand"
unit = "t/yr"
value = 1

[[override]]
parameter = "nd_intensity"
unit = "kg/MW"
value = 1
""")
    assert "test.toml, override #2 (parameter 'nd_intensity')" in msg
    assert "'kg/MW'" in msg and "kg/vehicle" in msg


def test_scale_with_unit_must_be_dimensionless(ps, pdir):
    msg = apply_error(ps, pdir, '[[override]]\nparameter = "ev_sales"\nunit = "t"\nscale = 2\n')
    assert "override #1" in msg and "dimensionless" in msg


def test_sum_to_one_broken(ps, pdir):
    msg = apply_error(ps, pdir, """
[[override]]
parameter = "production_share"
region = "China"
stage = "mining"
unit = "1"
value = 0.95
""")
    assert "test.toml" in msg and "override(s) #1" in msg
    assert "sum to 1" in msg and "stage=mining, year=2000: sum 1.05" in msg


def test_sum_to_one_kept(ps, pdir):
    out = apply_text(ps, pdir, """
[[override]]
parameter = "production_share"
region = "China"
stage = "magnet"
unit = "1"
value = 0.8

[[override]]
parameter = "production_share"
region = "Europe"
stage = "magnet"
unit = "1"
value = 0.15
""")
    assert float(out.values["production_share"].sel(stage="magnet", time=2005).sum()) == pytest.approx(1)


def test_bounds_broken(ps, pdir):
    msg = apply_error(ps, pdir, '[[override]]\nparameter = "collection_rate"\nscale = 200\n')
    assert "test.toml" in msg and "above the maximum 1" in msg


def test_value_low_high_order(ps, pdir):
    msg = apply_error(ps, pdir, '[[override]]\nparameter = "other_demand"\nunit = "t"\n'
                                'value = 5\nlow = 6\n')
    assert "override #1" in msg  # unit error first: t is not t/yr
    msg = apply_error(ps, pdir, '[[override]]\nparameter = "other_demand"\nunit = "t/yr"\n'
                                'value = 5\nlow = 6\n')
    assert "need low <= value <= high" in msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('parameter = "colection_rate"\nunit = "1"\nvalue = 0.5',
         "unknown parameter 'colection_rate' (did you mean 'collection_rate'?)"),
        ('parameter = "collection_rate"\nregion = "Eurpoe"\nunit = "1"\nvalue = 0.5',
         "unknown region 'Eurpoe' (did you mean 'Europe'?); allowed: 'China', 'Europe', 'Rest of World'"),
        ('parameter = "ev_sales"\nproduct = "wind_onshore"\nscale = 2',
         "unknown product 'wind_onshore'"),
        ('parameter = "collection_rate"\nstage = "magnet"\nunit = "1"\nvalue = 0.5',
         "selector 'stage' given but the parameter has no stage dim"),
        ('parameter = "nd_intensity"\nunit = "kg/vehicle"\ntrajectory = { 2004 = 1 }',
         "a trajectory needs a parameter with a time dim"),
        ('parameter = "nd_intensity"\nunit = "kg/vehicle"\nvalue = 1\nfrom_year = 2004',
         "'from_year' needs a parameter with a time dim"),
        ('parameter = "collection_rate"\nunit = "1"\nramp = { from_year = 1990, to_year = 2006, to_value = 0.5 }',
         "ramp from_year 1990 is outside the model years 2000-2010"),
        ('parameter = "collection_rate"\nunit = "1"\nvalue = 0.5\nfrom_year = 2030',
         "'from_year': year 2030 of parameter 'collection_rate' is outside the model years "
         "2000-2010"),
        ('parameter = "collection_rate"\nunit = "1"\nvalue = 0.5\nsource = "nope"',
         "source 'nope' is not a key in sources.csv"),
    ],
)
def test_apply_errors(ps, pdir, text, expected):
    msg = apply_error(ps, pdir, "[[override]]\n" + text + "\n")
    assert "test.toml, override #1" in msg
    assert expected in msg


def test_scenario_source_unknown(ps, pdir):
    msg = apply_error(ps, pdir, 'sources = ["iea", "ieaa"]\n')
    assert "test.toml: source 'ieaa'" in msg and "sources.csv" in msg


def test_trajectory_after_error_rule(ps, pdir):
    reg = pdir / "registry.toml"
    reg.write_text(reg.read_text().replace('min = 0.0\nafter = "constant"', 'min = 0.0\nafter = "error"'))
    ps2 = load_parameters(pdir)
    msg = apply_error(ps2, pdir, '[[override]]\nparameter = "other_demand"\nunit = "t/yr"\n'
                                 'trajectory = { 2003 = 1, 2008 = 2 }\n')
    assert "trajectory ends in 2008" in msg and "after = 'error'" in msg


# ---------------------------------------------------------------------------------------------
# The default data and scenarios shipped with the package
# ---------------------------------------------------------------------------------------------
@pytest.mark.skipif(not (REPO_PARAMS / "registry.toml").is_file(),
                    reason="params/registry.toml not written yet")
def test_all_default_scenarios_apply():
    params = load_parameters()
    scenarios = list_scenarios()
    assert scenarios, "no scenarios in params/scenarios"
    for sc in scenarios:
        out = apply_scenario(params, sc)
        assert out.scenario == sc.name
        assert set(out.values.data_vars) == set(params.values.data_vars)
