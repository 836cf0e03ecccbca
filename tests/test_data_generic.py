"""The data layer is generic (issue 9): any dims declared in model.toml, registry ``labels`` for
any dim, units declared by the data, the model name, and scenario selectors on any dim.

The copper-like data set below has the dims ``region`` and ``sector`` (no ``product``, no
``stage``): the loader rejected it before, since it fixed the dims to region/product/stage.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mfa.core.errors import ParameterError, ScenarioError
from mfa.data import ParameterSet, apply_scenario, load_parameters, load_scenario

FIXTURE = Path(__file__).parent / "data" / "params_small"

MODEL_TOML = """\
[model]
name = "copper-like"

[time]
start = 2000
end = 2010

[dimensions]
region = ["North", "South"]
sector = ["buildings", "grid", "transport"]

[units]
definitions = ["vehicle = [vehicle] = vehicle = veh"]
"""
# the same definition as the default data and the neodymium model (accepted again); a test that
# defines a new unit runs in a fresh process, since the unit registry is the process's own
NEW_UNIT = "cable_drum = [cable_drum] = cable_drum = drum"

REGISTRY_TOML = """\
[parameters.demand]
description = "Copper put into use"
dims = ["region", "sector", "time"]
unit = "t/yr"
min = 0.0

[parameters.copper_per_vehicle]
description = "Copper per vehicle (only grid and transport vehicles)"
dims = ["sector"]
labels = {sector = ["grid", "transport"]}
unit = "kg/vehicle"
min = 0.0

[parameters.vehicles_sold]
description = "Service vehicles sold per year"
dims = ["region", "time"]
unit = "vehicle/yr"
min = 0.0

[parameters.mining_share]
description = "Share of each region in copper mining"
dims = ["region", "time"]
unit = "1"
sum_to_one_over = "region"
"""

SOURCES_CSV = """\
key,citation,url,licence,tag,note
example,Illustrative numbers for a test,,,assumption,not data
"""

# columns in another order than the declared dims; dim columns absent where not needed
DEMAND_CSV = """\
parameter,sector,region,year,value,unit,low,high,source,note
demand,,North,2000,100,kt/yr,,,example,
demand,,North,2010,200,kt/yr,,,example,
demand,grid,South,,50,kt/yr,,,example,
demand,buildings,South,,30,kt/yr,,,example,
demand,transport,South,,20,kt/yr,,,example,
"""

OTHER_CSV = """\
parameter,region,year,value,unit,low,high,source,note
mining_share,North,,0.7,1,,,example,
mining_share,South,,0.3,1,,,example,
vehicles_sold,,,2,kilovehicle/yr,,,example,prefix on a unit the data define
"""

SECTOR_CSV = """\
parameter,sector,year,value,unit,low,high,source,note
copper_per_vehicle,,,250,kg/veh,,,example,
"""

SCENARIO_TOML = """\
name = "grid-boom"
description = "Twice the grid demand"

[[override]]
parameter = "demand"
sector = "grid"
scale = 2.0
from_year = 2005
"""


def write_copper(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in (("model.toml", MODEL_TOML), ("registry.toml", REGISTRY_TOML),
                       ("sources.csv", SOURCES_CSV), ("demand.csv", DEMAND_CSV),
                       ("other.csv", OTHER_CSV), ("sector.csv", SECTOR_CSV),
                       ("scenarios/grid-boom.toml", SCENARIO_TOML)):
        (d / name).parent.mkdir(exist_ok=True)
        (d / name).write_text(text)
    return d


def load_error(d: Path) -> str:
    with pytest.raises(ParameterError) as info:
        load_parameters(d)
    return str(info.value)


@pytest.fixture(scope="module")
def copper(tmp_path_factory) -> ParameterSet:
    return load_parameters(write_copper(tmp_path_factory.mktemp("cu") / "params"))


def test_copper_dims_labels_and_values(copper):
    assert copper.dims == ("region", "sector")
    assert copper.model_name == "copper-like"
    assert list(copper.values.coords) == ["time", "region", "sector"]
    assert copper.coords["sector"] == ["buildings", "grid", "transport"]
    demand = copper["demand"]
    assert demand.dims == ("region", "sector", "time") and demand.attrs["units"] == "t/yr"
    # an empty sector cell is every sector; linear between 2000 and 2010, in t/yr
    np.testing.assert_allclose(demand.sel(region="North", time=2005).values, [150e3] * 3)
    np.testing.assert_allclose(demand.sel(region="South", time=2003).values, [30e3, 50e3, 20e3])
    # labels: the parameter applies to grid and transport only (NaN for buildings)
    per_vehicle = copper["copper_per_vehicle"]
    assert np.isnan(per_vehicle.sel(sector="buildings"))
    assert float(per_vehicle.sel(sector="grid")) == 250
    # the table has the declared dims as columns, in declared order
    assert list(copper.table.columns[:4]) == ["parameter", "region", "sector", "year"]


def test_units_declared_by_the_data(copper):
    # 2 kilovehicle/yr, converted to the canonical vehicle/yr
    np.testing.assert_allclose(copper["vehicles_sold"].values, 2000.0)


def test_new_unit_declared_by_the_data(tmp_path):
    """A unit only the data define, used with a prefix and an alias (in a fresh process)."""
    d = write_copper(tmp_path / "p")
    for name, old, new in (("model.toml", '"vehicle = [vehicle] = vehicle = veh"', repr(NEW_UNIT)),
                           ("registry.toml", '"kg/vehicle"', '"kg/cable_drum"'),
                           ("registry.toml", '"vehicle/yr"', '"cable_drum/yr"'),
                           ("other.csv", "kilovehicle", "kilocable_drum"),
                           ("sector.csv", "kg/veh", "kg/drum")):
        (d / name).write_text((d / name).read_text().replace(old, new))
    code = ("import sys\n"
            "from mfa.data import load_parameters\n"
            "from mfa.core.units import conversion_factor\n"
            f"ps = load_parameters({str(d)!r})\n"
            "assert ps['vehicles_sold'].attrs['units'] == 'cable_drum/yr'\n"
            "assert (ps['vehicles_sold'].values == 2000.0).all()\n"
            "assert float(ps['copper_per_vehicle'].sel(sector='grid')) == 250.0\n"
            "assert conversion_factor('kilocable_drum', 'drum') == 1000.0\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, timeout=120,
                         check=False)
    assert res.returncode == 0, res.stderr


def test_sum_to_one_over_a_declared_dim(tmp_path):
    d = write_copper(tmp_path / "p")
    (d / "other.csv").write_text(OTHER_CSV.replace("South,,0.3", "South,,0.4"))
    msg = load_error(d)
    assert "values must sum to 1" in msg and "over region" in msg
    assert "other.csv, lines 2-3" in msg


def test_labels_restrict_the_rows(tmp_path):
    d = write_copper(tmp_path / "p")
    (d / "sector.csv").write_text(SECTOR_CSV + "copper_per_vehicle,buildings,,9,kg/veh,,,example,\n")
    msg = load_error(d)
    assert ("sector.csv, line 3: sector 'buildings' is not one of the sector labels of "
            "parameter 'copper_per_vehicle': 'grid', 'transport' (registry.toml labels)") in msg


def test_scenario_selects_any_declared_dim(copper):
    sc = load_scenario("grid-boom", copper.path)
    out = apply_scenario(copper, sc)
    before, after = copper["demand"], out["demand"]
    np.testing.assert_allclose(after.sel(sector="grid", time=2006), 2 * before.sel(sector="grid",
                                                                                   time=2006))
    np.testing.assert_allclose(after.sel(sector="grid", time=2004), before.sel(sector="grid",
                                                                               time=2004))
    np.testing.assert_allclose(after.sel(sector="buildings"), before.sel(sector="buildings"))


def test_scenario_selector_typo_and_unknown_label(copper, tmp_path):
    scenario = SCENARIO_TOML.replace('name = "grid-boom"\n', "")
    bad = tmp_path / "typo.toml"
    bad.write_text(scenario.replace('sector = "grid"', 'sectr = "grid"'))
    with pytest.raises(ScenarioError, match=r"override #1 \(parameter 'demand'\): unknown key "
                                            r"'sectr' \(did you mean 'sector'\?\)"):
        load_scenario(bad, copper.path)
    label = tmp_path / "label.toml"
    label.write_text(scenario.replace('sector = "grid"', 'sector = "gird"'))
    with pytest.raises(ScenarioError, match="unknown sector 'gird' \\(did you mean 'grid'\\?\\)"):
        apply_scenario(copper, load_scenario(label, copper.path))
    # a selector outside the parameter's registry labels
    outside = tmp_path / "outside.toml"
    outside.write_text(scenario.replace('"demand"', '"copper_per_vehicle"').replace(
        'sector = "grid"', 'sector = "buildings"').replace("from_year = 2005\n", ""))
    with pytest.raises(ScenarioError, match=r"unknown sector 'buildings'.*allowed: 'grid', "
                                            r"'transport'"):
        apply_scenario(copper, load_scenario(outside, copper.path))


def test_unknown_csv_column(tmp_path):
    d = write_copper(tmp_path / "p")
    (d / "other.csv").write_text(OTHER_CSV.replace("parameter,region,", "parameter,product,"))
    msg = load_error(d)
    assert f"{d / 'other.csv'}, line 1 (header): unexpected columns 'product'" in msg
    assert ("allowed columns: 'parameter', 'region', 'sector', 'year', 'value', 'unit', 'low', "
            "'high', 'source', 'note'") in msg


def test_registry_dim_not_declared(tmp_path):
    d = write_copper(tmp_path / "p")
    (d / "registry.toml").write_text(REGISTRY_TOML.replace('dims = ["sector"]',
                                                           'dims = ["sectors"]'))
    msg = load_error(d)
    assert "[parameters.copper_per_vehicle]: 'dims' has unknown dims 'sectors' (did you mean " \
           "'sector'?); allowed: 'region', 'sector', 'time'" in msg


def test_conflicting_unit_definition_names_model_toml(copper, tmp_path):
    # the copper data (fixture) defined vehicle; another meaning of the name is refused
    d = write_copper(tmp_path / "p")
    (d / "model.toml").write_text(MODEL_TOML.replace(
        "vehicle = [vehicle] = vehicle = veh", "vehicle = [car] = vehicle"))
    msg = load_error(d)
    assert msg.startswith(f"{d / 'model.toml'}, [units]: ")
    assert ("unit 'vehicle' is already defined as 'vehicle = [vehicle] = vehicle = veh'" in msg
            and "choose another name" in msg)


def test_bad_units_and_model_tables(tmp_path):
    d = write_copper(tmp_path / "p")
    (d / "model.toml").write_text(MODEL_TOML.replace('definitions = [', 'defs = [').replace(
        'name = "copper-like"', 'name = ""'))
    msg = load_error(d)
    assert "model.toml, [units]: unknown key 'defs' (allowed: 'definitions')" in msg
    assert "model.toml, [model]: 'name' must be the model's name" in msg


def test_model_name_is_optional(tmp_path):
    d = write_copper(tmp_path / "p")
    (d / "model.toml").write_text(MODEL_TOML.replace('[model]\nname = "copper-like"\n', ""))
    assert load_parameters(d).model_name is None


def test_default_data_name_their_model():
    ps = load_parameters()
    assert ps.model_name == "neodymium" and ps.dims == ("region", "product", "end_use", "stage")


def test_products_is_a_deprecated_alias_of_labels(tmp_path):
    d = tmp_path / "old"
    shutil.copytree(FIXTURE, d)
    reg = d / "registry.toml"
    text = reg.read_text()
    assert 'labels = {product = ["ev_bev", "ev_phev"]}' in text
    reg.write_text(text.replace('labels = {product = ["ev_bev", "ev_phev"]}',
                                'products = ["ev_bev", "ev_phev"]'))
    with pytest.warns(DeprecationWarning, match="'products = \\[...\\]' .*'ev_sales'.* is "
                                                "deprecated; write labels = \\{product"):
        old = load_parameters(d)
    new = load_parameters(FIXTURE)
    assert old.registry["ev_sales"]["labels"] == {"product": ["ev_bev", "ev_phev"]}
    for name in new.names:
        np.testing.assert_array_equal(old[name].values, new[name].values)


def test_default_data_load_without_the_model_code():
    """The default data declare their units: no need to import mfa.models first."""
    code = ("import sys\n"
            "from mfa.data import load_parameters\n"
            "ps = load_parameters()\n"
            "assert ps['ev_sales'].attrs['units'] == 'vehicle/yr'\n"
            "assert not [m for m in sys.modules if m.startswith(('mfa.models', 'mfa.analysis', "
            "'mfa.io', 'mfa.plot', 'mfa.cli'))], sorted(sys.modules)\n")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=False)
    assert res.returncode == 0, res.stderr
