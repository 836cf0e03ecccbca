"""netCDF results follow CF-1.10 and ACDD-1.3 (issue 12, item 1), read by netCDF4, cf-xarray and
the CF checker; every variable carries the long_name and units of the results schema."""

from __future__ import annotations

import json
import subprocess

import netCDF4
import numpy as np
import pytest
import xarray as xr

import mfa
from mfa.io import _git, netcdf, provenance
from mfa.io.netcdf import read_results, write_netcdf
from mfa.models import neodymium as nd
from mfa.models.neodymium.structure import FLOWS, RESULT_VARIABLES

#: Attributes a result variable may carry (the schema's, the system's, the IAMC name).
RESULT_ATTRS = {"units", "long_name", "source", "target", "process", "regions_summed",
                "iamc_variable", "basis", "iamc_aggregate"}


@pytest.fixture(scope="module")
def baseline() -> xr.Dataset:
    return nd.run()


@pytest.fixture(scope="module")
def baseline_file(baseline, tmp_path_factory):
    return write_netcdf(baseline, tmp_path_factory.mktemp("nc") / "baseline.nc")


# ---------------------------------------------------------------------------- schema
def test_every_variable_has_the_long_name_and_units_of_the_schema(baseline_file):
    with netCDF4.Dataset(baseline_file) as f:
        variables = {n: {a: f[n].getncattr(a) for a in f[n].ncattrs()} for n in f.variables}
        data = [n for n in f.variables if n not in f.dimensions and n != "time_bnds"]
    for name, (units, long_name) in RESULT_VARIABLES.items():
        assert (variables[name]["units"], variables[name]["long_name"]) == (units, long_name), name
    for name, (source, target, long_name) in FLOWS.items():
        attrs = variables[name]
        assert (attrs["units"], attrs["long_name"]) == ("t/yr", long_name), name
        assert (attrs["source"], attrs["target"]) == (source, target), name
    assert variables["in_use_stock"]["process"] == "use"
    assert len(data) >= len(RESULT_VARIABLES) + len(FLOWS)
    for name in data:
        attrs = variables[name]
        assert attrs.get("long_name") and "units" in attrs, name
        # nothing inherited from the parameters a result was computed from
        extra = set(attrs) - RESULT_ATTRS - {"coordinates", "_FillValue"}
        assert not extra, (name, extra)


def test_results_in_memory_carry_no_parameter_attributes(baseline):
    # xarray keeps a parameter's attrs on what is computed from it; the model sets its own
    for name, var in baseline.data_vars.items():
        assert set(var.attrs) <= RESULT_ATTRS, (name, set(var.attrs) - RESULT_ATTRS)
        assert "description" not in var.attrs
    assert baseline["primary_demand"].attrs["long_name"] == RESULT_VARIABLES["primary_demand"][1]
    assert "source" not in baseline["primary_demand"].attrs  # was the parameters' source keys


# ---------------------------------------------------------------------------- CF time, strings
def test_netcdf4_reads_a_cf_time_axis_with_year_bounds(baseline, baseline_file):
    years = baseline["time"].values
    with netCDF4.Dataset(baseline_file) as f:
        assert f.Conventions == "CF-1.10, ACDD-1.3"
        time = f["time"]
        assert (time.standard_name, time.axis, time.calendar) == ("time", "T", "proleptic_gregorian")
        assert time.units == "days since 1970-01-01 00:00:00" and time.bounds == "time_bnds"
        middle = netCDF4.num2date(time[:], time.units, time.calendar)
        bounds = netCDF4.num2date(f["time_bnds"][:], time.units, time.calendar)
        assert [d.year for d in middle] == list(years)
        assert [(b[0].year, b[0].month, b[0].day) for b in bounds] == [(y, 1, 1) for y in years]
        assert [(b[1].year, b[1].month, b[1].day) for b in bounds] == [(y + 1, 1, 1) for y in years]
        # text labels are character arrays, named as labels of the variables along them
        assert f["region"].dtype == np.dtype("S1") and f["region"].dimensions[0] == "region"
        assert f["in_use_stock"].coordinates == "region product"
        assert list(f["region"][:]) == list(baseline["region"].values)  # decoded by netCDF4


def test_cf_xarray_finds_the_time_axis(baseline, baseline_file):
    import cf_xarray  # noqa: F401  (registers the .cf accessor)

    with xr.open_dataset(baseline_file) as opened:
        assert opened.cf.axes["T"] == ["time"]
        assert opened.cf["T"].name == "time"
        np.testing.assert_array_equal(opened.cf["T"].dt.year, baseline["time"].values)
        assert list(opened["region"].values) == list(baseline["region"].values)


def _cf_tables(directory):
    """The CF checker's three tables, reduced to what results use, for an offline check.

    The checker downloads the CF standard-name, area-type and region tables; the only standard
    name in results is ``time`` (canonical units ``s`` in the CF standard name table), and no
    area types or regions are used, so tables with just that entry check the same rules."""
    paths = {}
    for key, text in {
        "standard_names": '<standard_name_table><version_number>0</version_number>'
                          '<last_modified>offline</last_modified>'
                          '<entry id="time"><canonical_units>s</canonical_units></entry>'
                          '</standard_name_table>',
        "area_types": "<area_type_table><version_number>0</version_number>"
                      "<date>offline</date></area_type_table>",
        "region_names": "<standardized_region_list><version_number>0</version_number>"
                        "<date>offline</date></standardized_region_list>",
    }.items():
        paths[key] = directory / f"{key}.xml"
        paths[key].write_text(f'<?xml version="1.0"?>\n{text}\n', encoding="utf-8")
    return paths


def _cf_check(path, tmp_path, monkeypatch) -> dict[str, list[str]]:
    from cfchecker import cfchecks

    # cfchecker 4.1 (the newest on PyPI) knows the rules up to CF-1.8: check against those and
    # let it recognise the file's "CF-1.10" (1.9 and 1.10 add features results do not use).
    monkeypatch.setattr(cfchecks, "cfVersions", [*cfchecks.cfVersions, cfchecks.CFVersion((1, 10))])
    tables = _cf_tables(tmp_path)
    checker = cfchecks.CFChecker(
        cfStandardNamesXML=str(tables["standard_names"]), cfAreaTypesXML=str(tables["area_types"]),
        cfRegionNamesXML=str(tables["region_names"]), version=cfchecks.CFVersion((1, 8)),
        silent=True,
    )
    results = checker.checker(str(path))
    found: dict[str, list[str]] = {"FATAL": [], "ERROR": [], "WARN": []}
    for where, res in [("global", results["global"]), *results["variables"].items()]:
        for category, messages in found.items():
            messages += [f"{where}: {m}" for m in res[category]]
    return found


def test_cfchecker_finds_no_error(baseline_file, tmp_path, monkeypatch):
    found = _cf_check(baseline_file, tmp_path, monkeypatch)
    assert found["FATAL"] == [] and found["ERROR"] == []
    # the one warning: the checker's rules are CF-1.8, the file says CF-1.10
    assert len(found["WARN"]) == 1 and "CF-1.10" in found["WARN"][0]


def test_cfchecker_reports_a_unit_udunits_does_not_know(baseline, tmp_path, monkeypatch):
    bad = baseline[["primary_demand"]].copy(deep=True)
    bad["primary_demand"].attrs["units"] = "tonnes of Nd per year"
    found = _cf_check(write_netcdf(bad, tmp_path / "bad.nc"), tmp_path, monkeypatch)
    assert found["ERROR"] == ["primary_demand: (3.1): Invalid units: tonnes of Nd per year"]


# ---------------------------------------------------------------------------- ACDD, provenance
def test_acdd_global_attributes(baseline_file):
    with netCDF4.Dataset(baseline_file) as f:
        attrs = {a: f.getncattr(a) for a in f.ncattrs()}
    for key in ("title", "summary", "keywords", "creator_name", "license", "date_created",
                "history", "source", "time_coverage_start", "time_coverage_end"):
        assert isinstance(attrs.get(key), str) and attrs[key], key
    assert "Nd" in attrs["title"] and "baseline" in attrs["summary"]
    assert "Nd" in attrs["keywords"].split(", ")
    assert attrs["date_created"] == attrs["created"]
    assert attrs["time_coverage_start"] == "1980-01-01" and attrs["time_coverage_end"] == "2051-01-01"
    assert f"nd-mfa {mfa.__version__}" in attrs["history"]
    assert "conventions" not in attrs  # the lower-case free text moved to comment
    assert "pint-readable" in attrs["comment"]


def test_values_given_win_and_history_grows(tmp_path):
    ds = xr.Dataset({"stock": (("time",), [1.0, 2.0], {"units": "t", "long_name": "stock"})},
                    coords={"time": [2000, 2001]},
                    attrs={"title": "My run", "creator_name": "A. Researcher",
                           "history": "2020-01-01 made by hand"})
    back = read_results(write_netcdf(ds, tmp_path / "a.nc"))
    assert back.attrs["title"] == "My run" and back.attrs["creator_name"] == "A. Researcher"
    assert back.attrs["history"].startswith("2020-01-01 made by hand\n")
    assert back.attrs["Conventions"] == "CF-1.10, ACDD-1.3"
    assert ds.attrs["history"] == "2020-01-01 made by hand"  # the input is not modified
    assert "Conventions" not in ds.attrs and "units" not in ds["time"].attrs


def test_round_trip_gives_back_the_in_memory_form(baseline, baseline_file):
    back = read_results(baseline_file)
    assert back["time"].dtype == np.int64 and "time_bnds" not in back
    assert back["time"].attrs == {}
    for name in baseline.coords:
        assert list(back[name].values) == list(baseline[name].values), name
        assert all(isinstance(v, str) for v in back[name].values.tolist()) or name == "time"
    for name in baseline.data_vars:
        xr.testing.assert_allclose(back[name], baseline[name])


def test_files_of_earlier_versions_still_read(tmp_path):
    ds = xr.Dataset({"stock": (("time", "region"), np.ones((2, 2)), {"units": "t"})},
                    coords={"time": [2000, 2001], "region": ["a", "b"]})
    ds.to_netcdf(tmp_path / "old.nc", engine="netcdf4")  # int years, variable-length strings
    back = read_results(tmp_path / "old.nc")
    assert list(back["time"].values) == [2000, 2001] and list(back["region"].values) == ["a", "b"]


def test_git_commit_in_provenance_when_run_from_a_checkout():
    provenance.git_commit.cache_clear()
    root = _git.Path(_git.__file__).resolve().parents[2]
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    commit = provenance.git_commit()
    assert commit is not None and commit.removesuffix("-dirty") == head
    assert provenance.provenance_attrs("s", {})["git_commit"] == commit


def test_no_git_commit_outside_a_checkout(monkeypatch):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(_git.subprocess, "run", no_git)
    provenance.git_commit.cache_clear()
    try:
        assert provenance.git_commit() is None
        assert "git_commit" not in provenance.provenance_attrs("s", {})
    finally:
        provenance.git_commit.cache_clear()

    def other_repository(args, **kwargs):  # the package sits inside someone else's repository
        return subprocess.CompletedProcess(args, 0, stdout="/somewhere/else\n", stderr="")

    monkeypatch.setattr(_git.subprocess, "run", other_repository)
    try:
        assert provenance.git_commit() is None
    finally:
        provenance.git_commit.cache_clear()


def test_metadata_json_survives(baseline_file):
    back = read_results(baseline_file)
    assert json.loads(back.attrs["parameter_files"])  # provenance kept as JSON
    assert netcdf.CONVENTIONS == back.attrs["Conventions"]
