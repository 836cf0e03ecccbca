"""Tests for mfa.io: netCDF round trip, atomic writes, IAMC/CSV/Excel tables, provenance."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import mfa
from mfa.core.errors import MfaError
from mfa.core.system import Flow, ProcessSystem
from mfa.core.units import ureg
from mfa.io import netcdf
from mfa.io import results as io

YEARS = np.arange(2020, 2025)
REGIONS = ["China", "Japan", "Europe"]
PRODUCTS = ["ev_bev", "wind_onshore"]


def results() -> xr.Dataset:
    rng = np.random.default_rng(3)
    stock = rng.uniform(0, 10, (len(YEARS), len(REGIONS), len(PRODUCTS)))
    share = np.full((len(YEARS), len(REGIONS)), 1 / 3)
    ds = xr.Dataset(
        {
            "in_use_stock": (("time", "region", "product"), stock, {"units": "t"}),
            "production_share": (("time", "region"), share, {"units": "1"}),
            "total_demand": (("time",), np.arange(len(YEARS)) + 1.0, {"units": "t/yr"}),
        },
        coords={"time": YEARS, "region": REGIONS, "product": PRODUCTS},
    )
    ds["in_use_stock"].attrs["long_name"] = "in-use stock"
    # what a model puts on its results: IAMC names, and its name and material
    ds["in_use_stock"].attrs["iamc_variable"] = "In-use stock"
    ds["total_demand"].attrs["iamc_variable"] = "Demand"
    ds.attrs.update(io.provenance_attrs("baseline", {"a.csv": "ab" * 32, "b.csv": "cd" * 32}))
    ds.attrs.update(model="neodymium", material="Nd")
    ds.attrs["options"] = {"recycling": True, "rate": 0.5}  # dict -> JSON
    ds.attrs["monte_carlo"] = False  # bool -> int
    return ds


def leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------- netCDF
def test_netcdf_round_trip(tmp_path):
    ds = results()
    path = io.write_netcdf(ds, tmp_path / "sub" / "baseline.nc")
    assert path == tmp_path / "sub" / "baseline.nc"
    back = io.read_results(path)
    for name in ds.data_vars:
        xr.testing.assert_allclose(back[name], ds[name])
        assert back[name].dims == ds[name].dims
        assert back[name].attrs["units"] == ds[name].attrs["units"]
    assert back["time"].dtype.kind == "i"
    assert list(back["region"].values) == REGIONS
    assert back["in_use_stock"].attrs["long_name"] == "in-use stock"
    assert back.attrs["scenario"] == "baseline"
    assert back.attrs["model_version"] == mfa.__version__
    assert json.loads(back.attrs["parameter_files"]) == {"a.csv": "ab" * 32, "b.csv": "cd" * 32}
    assert json.loads(back.attrs["options"]) == {"rate": 0.5, "recycling": True}
    assert back.attrs["monte_carlo"] == 0
    assert leftovers(path.parent) == []
    # the input is not modified by the writer
    assert ds.attrs["options"] == {"recycling": True, "rate": 0.5}
    assert ds.attrs["monte_carlo"] is False
    # what was read can be written again (encodings from the file do not get in the way)
    again = io.read_results(io.write_netcdf(back, tmp_path / "again.nc"))
    assert again.attrs.pop("history").split("\n")[0] == back.attrs.pop("history")  # CF: appended
    xr.testing.assert_identical(again, back)


def test_netcdf_pint_data_becomes_magnitude_with_units(tmp_path):
    ds = xr.Dataset(
        {"flow": ("time", ureg.Quantity(np.array([1.0, 2.0]), "kt/yr"))},
        coords={"time": [2000, 2001]},
    )
    back = io.read_results(io.write_netcdf(ds, tmp_path / "q.nc"))
    np.testing.assert_allclose(back["flow"].values, [1.0, 2.0])
    assert back["flow"].attrs["units"] == "kt/yr"


def test_failed_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.nc"
    bad = results()
    bad["junk"] = ("time", np.array([{"a": 1}] * len(YEARS), dtype=object))
    with pytest.raises(ValueError, match="serialize"):
        io.write_netcdf(bad, target)
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_failed_write_keeps_existing_file(tmp_path, monkeypatch):
    target = io.write_netcdf(results(), tmp_path / "out.nc")
    before = target.read_bytes()

    def half_write(path, data):  # the disk fills up half-way
        with open(path, "wb") as fh:
            fh.write(bytes(data)[:100])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(netcdf, "write_bytes", half_write)
    with pytest.raises(MfaError, match=f"cannot write {target}: No space left on device$"):
        io.write_netcdf(results() * 2, target)
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_write_into_directory_path_is_an_error(tmp_path):
    (tmp_path / "d.nc").mkdir()
    with pytest.raises(MfaError, match="is a directory"):
        io.write_netcdf(results(), tmp_path / "d.nc")


def test_read_results_errors(tmp_path):
    with pytest.raises(MfaError, match="results file not found"):
        io.read_results(tmp_path / "missing.nc")
    text = tmp_path / "notes.nc"
    text.write_text("not netCDF at all")
    with pytest.raises(MfaError, match="not a netCDF results file"):
        io.read_results(text)
    empty = io.write_netcdf(xr.Dataset(coords={"time": [1, 2]}), tmp_path / "empty.nc")
    with pytest.raises(MfaError, match="no data variables"):
        io.read_results(empty)


def test_system_results_round_trip_and_still_balance(tmp_path):
    system = ProcessSystem(
        "s",
        ["use"],
        [
            Flow("inflow", "environment", "use", ("time", "region")),
            Flow("outflow", "use", "environment", ("time", "region")),
        ],
    )
    one = xr.DataArray(
        np.ones((len(YEARS), len(REGIONS))),
        coords={"time": YEARS, "region": REGIONS},
        dims=("time", "region"),
        attrs={"units": "kt/yr"},
    )
    ds = system.to_dataset({"inflow": one, "outflow": one})
    back = io.read_results(io.write_netcdf(ds, tmp_path / "s.nc"))
    system.check_balance(back)
    assert back["inflow"].attrs["source"] == "environment"
    assert float(back["inflow"].max()) == 1000.0


# ---------------------------------------------------------------------------- IAMC
def test_iamc_table():
    ds = results()
    table = io.to_iamc(ds, variables=["in_use_stock", "production_share", "total_demand"])
    assert list(table.columns) == [*io.IAMC_COLUMNS, *map(int, YEARS)]
    assert set(table["Model"]) == {"neodymium"}  # the model that made the results
    assert set(table["Scenario"]) == {"baseline"}  # from attrs
    stock = table[table["Variable"] == "Nd|In-use stock|ev_bev"].set_index("Region")
    assert list(stock.index) == [*REGIONS, "World"]
    assert set(stock["Unit"]) == {"t"}
    np.testing.assert_allclose(
        stock.loc["World", list(map(int, YEARS))].to_numpy(dtype=float),
        ds["in_use_stock"].sel(product="ev_bev").sum("region").values,
    )
    np.testing.assert_allclose(
        stock.loc["Japan", 2022],
        ds["in_use_stock"].sel(product="ev_bev", region="Japan", time=2022),
    )
    share = table[table["Variable"] == "Nd|Production share"]
    assert list(share["Region"]) == REGIONS  # shares are not summed
    assert set(share["Unit"]) == {"1"}
    demand = table[table["Variable"] == "Nd|Demand"]
    assert list(demand["Region"]) == ["World"]
    assert list(demand[2024]) == [5.0]
    # each product, and their sum (the parent), in each region and the World
    assert len(table) == (len(PRODUCTS) + 1) * (len(REGIONS) + 1) + len(REGIONS) + 1


def test_iamc_options_and_errors():
    ds = results()
    ds["production_share"].attrs["iamc_aggregate"] = "sum"
    ds["total_demand"].attrs["iamc_variable"] = "Demand|Total"
    table = io.to_iamc(
        ds, model="m", scenario="s", variables=["production_share", "total_demand"], prefix=""
    )
    assert set(table["Variable"]) == {"Production share", "Demand|Total"}
    assert "World" in set(table.loc[table["Variable"] == "Production share", "Region"])
    assert set(table["Model"]) == {"m"} and set(table["Scenario"]) == {"s"}
    with pytest.raises(MfaError, match="unknown variable\\(s\\) 'nope'"):
        io.to_iamc(ds, variables=["nope"])
    with pytest.raises(MfaError, match="'sample' dim"):
        io.to_iamc(ds.expand_dims(sample=2), variables=["total_demand"])
    # all-NaN rows are dropped; a NaN region does not make the World total NaN
    ds["in_use_stock"].loc[{"region": "Japan"}] = np.nan
    table = io.to_iamc(ds, variables=["in_use_stock"])
    assert "Japan" not in set(table["Region"])
    assert not table[table["Region"] == "World"][list(map(int, YEARS))].isna().any().any()


# ---------------------------------------------------------------------------- CSV
def test_csv_tables(tmp_path):
    ds = results()
    files = io.write_csv_tables(ds, tmp_path / "tables", scenario="alt")
    names = [f.name for f in files]
    assert names == [
        "iamc.csv",
        "iamc_diagnostics.csv",
        "metadata.json",
        "in_use_stock.csv",
        "production_share.csv",
        "total_demand.csv",
    ]
    assert all(f.is_file() for f in files)
    iamc = pd.read_csv(tmp_path / "tables" / "iamc.csv")
    assert list(iamc.columns) == [*io.IAMC_COLUMNS, *map(str, YEARS)]
    assert set(iamc["Scenario"]) == {"alt"}
    stock = pd.read_csv(tmp_path / "tables" / "in_use_stock.csv")
    assert list(stock.columns) == ["time", "region", "product", "value", "unit"]
    assert len(stock) == ds["in_use_stock"].size
    row = stock[(stock.time == 2021) & (stock.region == "Europe") & (stock["product"] == "ev_bev")]
    assert float(row["value"].iloc[0]) == pytest.approx(
        float(ds["in_use_stock"].sel(time=2021, region="Europe", product="ev_bev"))
    )
    assert set(stock["unit"]) == {"t"}
    meta = json.loads((tmp_path / "tables" / "metadata.json").read_text())
    assert meta["attributes"]["scenario"] == "baseline"
    assert meta["variables"]["in_use_stock"]["dims"] == ["time", "region", "product"]
    assert meta["variables"]["total_demand"]["units"] == "t/yr"
    assert leftovers(tmp_path) == []


def test_csv_tables_are_atomic(tmp_path, monkeypatch):
    target = tmp_path / "tables"
    io.write_csv_tables(results(), target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    calls = []
    real = io._tidy

    def failing(da, name):
        calls.append(name)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return real(da, name)

    monkeypatch.setattr(io, "_tidy", failing)
    with xr.set_options(keep_attrs=True):
        changed = results() * 2
    with pytest.raises(RuntimeError, match="boom"):
        io.write_csv_tables(changed, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert leftovers(tmp_path) == []
    calls.clear()
    with pytest.raises(RuntimeError, match="boom"):
        io.write_csv_tables(changed, tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert leftovers(tmp_path) == []


def test_csv_tables_of_an_ensemble(tmp_path):
    ds = results().expand_dims(sample=2)
    ds["total_demand"] = ds["total_demand"].isel(sample=0, drop=True)
    files = io.write_csv_tables(ds, tmp_path / "ens")
    iamc = pd.read_csv(files[0])
    assert set(iamc["Variable"]) == {"Nd|Demand"}  # ensemble variables are not in IAMC
    stock = pd.read_csv(tmp_path / "ens" / "in_use_stock.csv")
    assert list(stock.columns) == ["sample", "time", "region", "product", "value", "unit"]


def test_csv_tables_name_clash(tmp_path):
    ds = results()
    ds["iamc"] = ds["total_demand"]
    with pytest.raises(MfaError, match="clashes with the table 'iamc'"):
        io.write_csv_tables(ds, tmp_path / "t")
    assert not (tmp_path / "t").exists()


# ---------------------------------------------------------------------------- Excel
# The results workbook: tests/test_excel_results.py


# ---------------------------------------------------------------------------- provenance
def test_provenance_attrs():
    attrs = io.provenance_attrs(
        "high-recycling",
        {"b.csv": "2", "a.csv": "1"},
        extra={"scenario_sha256": "ff", "flag": True, "n": np.int64(3)},
    )
    assert attrs["scenario"] == "high-recycling"
    assert attrs["model_version"] == mfa.__version__
    assert attrs["parameter_files"] == '{"a.csv": "1", "b.csv": "2"}'
    created = dt.datetime.fromisoformat(attrs["created"].replace("Z", "+00:00"))
    assert created.tzinfo is not None
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 60
    assert attrs["python_version"].count(".") == 2
    libs = json.loads(attrs["library_versions"])
    assert {"numpy", "xarray", "pint", "pandas"} <= set(libs)
    assert attrs["scenario_sha256"] == "ff"
    assert attrs["flag"] == 1 and attrs["n"] == 3
    assert all(isinstance(v, str | int | float) for v in attrs.values())
