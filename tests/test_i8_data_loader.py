"""Loader rules added for issue 8: years, names, files, plausibility, sums, BOMs (API level).

The command-line side of each rule (exit status 2, one message, nothing written) is in
``test_i8_data_catalogue.py``; here the rules themselves, the cases that must keep working,
and the numbers.
"""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from mfa.core.errors import ParameterError, ScenarioError
from mfa.data.params import default_params_dir, load_parameters
from mfa.data.scenarios import (
    MAX_BASE_DEPTH,
    apply_scenario,
    check_scenario_name,
    list_scenarios,
    load_scenario,
)

FIXTURE = Path(__file__).parent / "data" / "params_small"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    d = tmp_path / "params"
    shutil.copytree(FIXTURE, d)
    return d


@pytest.fixture
def full(tmp_path: Path) -> Path:
    d = tmp_path / "p"
    shutil.copytree(default_params_dir(), d, ignore=shutil.ignore_patterns("__pycache__"))
    return d


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def load_error(d: Path) -> str:
    with pytest.raises(ParameterError) as info:
        load_parameters(d)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Byte-order marks
# ---------------------------------------------------------------------------------------------
def test_byte_order_mark_accepted_in_toml_and_csv(full):
    reference = load_parameters(default_params_dir())
    for name in ("model.toml", "registry.toml", "sources.csv", "drivers.csv",
                 "scenarios/high-recycling.toml"):
        path = full / name
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    ps = load_parameters(full)
    xr.testing.assert_identical(ps.values.drop_attrs(), reference.values.drop_attrs())
    scen = load_scenario("high-recycling", full)
    assert scen.name == "high-recycling" and len(scen.overrides) > 0
    a = apply_scenario(ps, scen).values
    b = apply_scenario(reference, load_scenario("high-recycling")).values
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())


# ---------------------------------------------------------------------------------------------
# Years
# ---------------------------------------------------------------------------------------------
def test_data_year_outside_model_years(small):
    with open(small / "drivers.csv", "a") as f:
        f.write("other_demand,,,,2100,2500,t/yr,,,usgs,typo for 2010\n")
    msg = load_error(small)
    assert "drivers.csv, line 13: year 2100 of parameter 'other_demand' is outside the model " \
           "years 2000-2010 (model.toml [time])" in msg
    assert "allow_years = [first, last]" in msg


def test_allow_years_admits_points_beyond_the_model_years(small):
    edit(small / "registry.toml", "max_gap = 10\n", "max_gap = 10\nallow_years = [1990, 2020]\n")
    with open(small / "drivers.csv", "a") as f:
        f.write("ev_sales,China,ev_bev,,2016,900,vehicle/yr,,,iea,after the model years\n")
    ev = load_parameters(small).values["ev_sales"].sel(region="China", product="ev_bev")
    # 2006 = 500, 2016 = 900: linear in between, the model ends in 2010
    np.testing.assert_allclose(ev.sel(time=[2006, 2008, 2010]).values, [500, 580, 660])
    with open(small / "drivers.csv", "a") as f:
        f.write("ev_sales,China,ev_bev,,2021,900,vehicle/yr,,,iea,beyond allow_years\n")
    msg = load_error(small)
    assert "year 2021 of parameter 'ev_sales'" in msg and "allow_years [1990, 2020]" in msg


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("allow_years = [2020, 1990]", "'allow_years' must be [first, last]"),
        ("allow_years = [1990]", "'allow_years' must be [first, last]"),
        ("allow_years = [1990.0, 2020]", "'allow_years' must be [first, last]"),
    ],
)
def test_allow_years_registry_errors(small, entry, expected):
    edit(small / "registry.toml", "max_gap = 10\n", f"max_gap = 10\n{entry}\n")
    assert f"[parameters.ev_sales]: {expected}" in load_error(small)


def test_allow_years_needs_a_time_dim(small):
    edit(small / "registry.toml", 'unit = "kg/vehicle"\n', 'unit = "kg/vehicle"\nallow_years = [1990, 2020]\n')
    assert "[parameters.nd_intensity]: 'allow_years' given but 'time' is not in 'dims'" in \
        load_error(small)


@pytest.mark.parametrize(("start", "end"), [(0, 2010), (2000, 20100), (2000, 3500)])
def test_model_years_must_be_calendar_years(small, start, end):
    edit(small / "model.toml", "start = 2000\nend = 2010", f"start = {start}\nend = {end}")
    assert "model.toml, [time]:" in load_error(small)


def _scenario(pdir: Path, body: str, name: str = "s") -> str:
    (pdir / "scenarios" / f"{name}.toml").write_text(body)
    return name


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("trajectory = { 2005 = 0.2, 20100 = 0.9 }", "'trajectory': year 20100"),
        ("ramp = { from_year = 2002, to_year = 20100, to_value = 0.6 }", "ramp 'to_year': year 20100"),
        ("value = 0.5\nfrom_year = 1999", "'from_year': year 1999"),
    ],
)
def test_scenario_years_outside_model_years(small, override, key):
    ps = load_parameters(small)
    name = _scenario(small, f'[[override]]\nparameter = "collection_rate"\nunit = "1"\n{override}\n')
    with pytest.raises(ScenarioError) as info:
        apply_scenario(ps, load_scenario(name, small))
    msg = str(info.value)
    assert "s.toml, override #1 (parameter 'collection_rate'): " + key in msg
    assert "outside the model years 2000-2010" in msg


def test_scenario_years_beyond_the_model_years_with_allow_years(small):
    edit(small / "registry.toml", "max_gap = 10\n", "max_gap = 10\nallow_years = [1990, 2020]\n")
    ps = load_parameters(small)
    name = _scenario(small, '[[override]]\nparameter = "ev_sales"\nunit = "vehicle/yr"\n'
                            "trajectory = { 2006 = 100, 2016 = 1100 }\n")
    ev = apply_scenario(ps, load_scenario(name, small)).values["ev_sales"]
    np.testing.assert_allclose(ev.sel(region="Europe", product="ev_bev", time=[2006, 2010]),
                               [100, 500])


# ---------------------------------------------------------------------------------------------
# Scenario names and chains
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["baseline", "net-zero", "My scenario (v2)", "höhere_Quote", "x" * 100])
def test_plain_scenario_names(name):
    check_scenario_name(name, "here")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "it is empty"),
        ("x" * 101, "101 characters"),
        ("../../escaped", "'/'"),
        ("/tmp/abs", "'/'"),
        ("..", "begins with '.' or contains '..'"),
        (".hidden", "begins with '.'"),
        ("a\\b", "'\\\\'"),
        ("C:x", "':'"),
        ("a\x00b", "control character"),
        ("a\tb", "control character"),
        ("a\u202eb", "control character"),  # right-to-left override
        (" padded", "begins or ends with a space"),
    ],
)
def test_scenario_names_that_are_not_labels(name, reason):
    with pytest.raises(ScenarioError) as info:
        check_scenario_name(name, "f.toml, key 'name'")
    msg = str(info.value)
    assert msg.startswith("f.toml, key 'name': scenario name ") and reason in msg


def test_scenario_name_from_the_file_name_is_checked_too(tmp_path):
    p = tmp_path / ".hidden.toml"
    p.write_text('base = "baseline"\n')
    with pytest.raises(ScenarioError, match=r"\.hidden\.toml \(no key 'name': the file name is"):
        load_scenario(p)


def test_shipped_names_belong_to_the_shipped_files(full, tmp_path):
    # the file in scenarios/ that has the name: fine by name and by path
    assert load_scenario("baseline", full).path == full / "scenarios" / "baseline.toml"
    assert load_scenario(full / "scenarios" / "baseline.toml", full).name == "baseline"
    # a copy elsewhere, or a new file with the same name: refused
    copy = tmp_path / "elsewhere" / "baseline.toml"
    copy.parent.mkdir()
    shutil.copy(full / "scenarios" / "baseline.toml", copy)
    with pytest.raises(ScenarioError) as info:
        load_scenario(copy, full)
    assert str(info.value) == (
        f"{copy}: name 'baseline' is already used by the scenario in "
        f"{full / 'scenarios' / 'baseline.toml'}; choose another name (key 'name', or the file "
        "name)")
    # the default scenario directory when no params_dir is given
    other = tmp_path / "elsewhere" / "mine.toml"
    other.write_text('name = "net-zero"\nbase = "baseline"\n')
    with pytest.raises(ScenarioError, match="name 'net-zero' is already used"):
        load_scenario(other)
    # another name is fine, with a shipped base
    other.write_text('name = "net-zero-2"\nbase = "net-zero"\n')
    assert [s.name for s in load_scenario(other, full).chain()] == ["baseline", "net-zero",
                                                                    "net-zero-2"]


def test_two_files_in_scenarios_with_one_name(full):
    (full / "scenarios" / "copy.toml").write_text('name = "baseline"\n')
    with pytest.raises(ScenarioError, match=r"copy\.toml: name 'baseline' is already used"):
        list_scenarios(full)
    assert load_scenario("baseline", full).path.name == "baseline.toml"


def test_nul_in_a_scenario_name_or_path():
    for bad in ("base\x00line", "a/b\x00.toml", Path("x\x00.toml")):
        with pytest.raises(ScenarioError, match="NUL"):
            load_scenario(bad)


def _chain(d: Path, n: int) -> Path:
    d.mkdir(exist_ok=True)
    for i in range(n):
        base = f'base = "c{i - 1}"\n' if i else ""
        (d / f"c{i}.toml").write_text(f'name = "c{i}"\n{base}')
    return d / f"c{n - 1}.toml"


def test_base_chain_depth_limit(tmp_path):
    top = _chain(tmp_path / "ok", MAX_BASE_DEPTH)
    assert len(load_scenario(top).chain()) == MAX_BASE_DEPTH
    top = _chain(tmp_path / "deep", 1100)  # was a RecursionError
    with pytest.raises(ScenarioError) as info:
        load_scenario(top)
    msg = str(info.value)
    assert msg.startswith(f"{top}: the base chain is longer than {MAX_BASE_DEPTH} scenarios: "
                          "c1099.toml -> c1098.toml -> c1097.toml -> ... -> ")
    assert msg.endswith("c1049.toml; shorten it")


# ---------------------------------------------------------------------------------------------
# Files that are not regular or cannot be read
# ---------------------------------------------------------------------------------------------
def test_fifo_in_scenarios_does_not_hang_the_listing(full, tmp_path):
    os.mkfifo(full / "scenarios" / "pipe.toml")
    proc = subprocess.run([sys.executable, "-m", "mfa", "--params", str(full), "scenarios"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (f"mfa: error: {full / 'scenarios' / 'pipe.toml'}: is a FIFO (named "
                           "pipe), expected a scenario file (a regular file)\n")


def test_header_only_data_file_is_harmless(full):
    (full / "extra.csv").write_text("parameter,region,product,stage,year,value,unit,low,high,"
                                    "source,note\n# nothing yet\n")
    ps = load_parameters(full)
    assert "extra.csv" in ps.files
    xr.testing.assert_identical(ps.values.drop_attrs(),
                                load_parameters(default_params_dir()).values.drop_attrs())


# ---------------------------------------------------------------------------------------------
# Plausibility bounds, sums, calibration parameters
# ---------------------------------------------------------------------------------------------
def test_plausibility_bounds_in_registry(small):
    edit(small / "registry.toml", 'unit = "vehicle/yr"\nmin = 0.0\n',
         'unit = "vehicle/yr"\nmin = 0.0\nplausible_min = 5.0\nplausible_max = 1e9\n')
    edit(small / "drivers.csv", "ev_sales,China,ev_bev,,2002,100,vehicle/yr,80,120",
         "ev_sales,China,ev_bev,,2002,100,vehicle/yr,2,120")
    msg = load_error(small)
    assert msg == (f"{small / 'drivers.csv'}, line 3: low 2 vehicle/yr of parameter 'ev_sales' "
                   "is below the plausible minimum 5 vehicle/yr (registry.toml plausible_min/"
                   "plausible_max, reasons in params/README.md); check the number and its unit")
    edit(small / "registry.toml", "plausible_min = 5.0", "plausible_min = 5e9")
    assert "'plausible_min' 5000000000.0 is larger than 'plausible_max' 1000000000.0" in \
        load_error(small)


def test_plausibility_bounds_in_with_values():
    ps = load_parameters(default_params_dir())
    with pytest.raises(ParameterError, match=r"above the plausible maximum 1e\+09 vehicle/yr"):
        ps.with_values("ev_sales", ps.values["ev_sales"] * 1e4)


def test_default_values_within_plausibility_bounds():
    ps = load_parameters(default_params_dir())
    bounded = [n for n, e in ps.registry.items() if e["plausible_max"] is not None]
    assert {"ev_sales", "ev_fleet", "wind_capacity", "magnet_per_vehicle", "magnet_per_mw",
            "nd_share_in_magnet", "end_use_nd_direct", "lifetime_mean"} <= set(bounded)
    for scen in list_scenarios(default_params_dir()):  # every shipped scenario stays inside
        apply_scenario(ps, scen)


def test_sum_to_one_message_names_the_rows(small):
    edit(small / "supply.csv", "Rest of World,,mining,2010,0.4", "Rest of World,,mining,2010,0.3")
    msg = load_error(small)
    assert msg == (
        "after interpolation onto the model years 2000-2010: parameter 'production_share': "
        "values must sum to 1 (±1e-06) over region, but at stage=mining, year=2001: sum 0.99 "
        f"(rows: {small / 'supply.csv'}, lines 2-6); stage=mining, year=2002: sum 0.98; "
        "stage=mining, year=2003: sum 0.97 (and 7 more)")


def test_sum_to_one_rows_across_files(small):
    # the Europe mining row moves to its own file: both files are named
    edit(small / "supply.csv", "production_share,Europe,,mining,,0.0,1,,,usgs,\n", "")
    (small / "supply2.csv").write_text(
        "parameter,region,product,stage,year,value,unit,low,high,source,note\n"
        "production_share,Europe,,mining,,0.1,1,,,usgs,\n")
    # in 2000 (a given year) the 2000 points of China and Rest of World and Europe's constant
    assert (f"stage=mining, year=2000: sum 1.1 (rows: {small / 'supply.csv'}, lines 2, 4; "
            f"{small / 'supply2.csv'}, line 2); stage=mining, year=2001: sum 1.1") in load_error(small)


def test_calibration_parameter_cannot_be_overridden(full):
    ps = load_parameters(full)
    (full / "scenarios" / "s.toml").write_text(
        'base = "baseline"\n[[override]]\nparameter = "nd_share_of_reo"\nunit = "1"\nvalue = 0.2\n')
    with pytest.raises(ScenarioError) as info:
        apply_scenario(ps, load_scenario("s", full))
    assert str(info.value) == (
        f"{full / 'scenarios' / 's.toml'}, override #1 (parameter 'nd_share_of_reo'): parameter "
        "'nd_share_of_reo' has role = 'calibration' in registry.toml (a calibration target, not "
        "a model input): a scenario cannot change it")


def test_ambiguous_ton_in_registry(small):
    edit(small / "registry.toml", 'unit = "t/yr"', 'unit = "ton/yr"')
    assert "[parameters.other_demand]: 'unit': unit 'ton/yr': 'ton' is ambiguous" in load_error(small)
