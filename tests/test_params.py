"""Tests of mfa.data.params: reading, validating and interpolating parameter files.

The fixture ``tests/data/params_small`` is a small, complete parameter directory (years
2000-2010, three regions, four products, two stages). Error tests copy it to ``tmp_path``, break
one thing and check that the message names the file, the line and what was expected.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mfa.core.errors import MfaError, ParameterError
from mfa.data.params import DATA_COLUMNS, ParameterSet, default_params_dir, load_parameters

FIXTURE = Path(__file__).parent / "data" / "params_small"
REPO_PARAMS = Path(__file__).resolve().parents[1] / "params"


@pytest.fixture(scope="module")
def ps() -> ParameterSet:
    return load_parameters(FIXTURE)


def copy_fixture(tmp_path: Path) -> Path:
    d = tmp_path / "params"
    shutil.copytree(FIXTURE, d)
    return d


def edit(d: Path, name: str, old: str, new: str) -> None:
    p = d / name
    text = p.read_text()
    assert old in text, f"fixture text {old!r} not in {name}"
    p.write_text(text.replace(old, new, 1))


def append(d: Path, name: str, *lines: str) -> None:
    p = d / name
    p.write_text(p.read_text() + "".join(line + "\n" for line in lines))


def n_lines(d: Path, name: str) -> int:
    return len((d / name).read_text().splitlines())


def load_error(d: Path) -> str:
    with pytest.raises(ParameterError) as info:
        load_parameters(d)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Loading: structure, units, attrs
# ---------------------------------------------------------------------------------------------
def test_loads_fixture_structure(ps):
    assert ps.coords["time"] == list(range(2000, 2011))
    assert ps.coords["region"] == ["China", "Europe", "Rest of World"]
    assert set(ps.values.data_vars) == set(ps.registry)
    assert ps.values["ev_sales"].dims == ("region", "product", "time")
    assert ps.values["wind_additions"].dims == ("time", "region")  # declared order
    assert ps.values["nd_intensity"].dims == ("product",)
    assert ps.values["time"].dtype.kind == "i"
    for name in ps.names:
        for ds in (ps.values, ps.low, ps.high):
            assert ds[name].shape == ps.values[name].shape
            assert ds[name].attrs["units"] == ps.unit(name)
            assert ds[name].attrs["description"] == ps.registry[name]["description"]
    assert ps.values["ev_sales"].attrs["units"] == "vehicle/yr"
    assert ps.values["other_demand"].attrs["units"] == "t/yr"
    assert ps.values["collection_rate"].attrs["units"] == "1"
    assert ps.values["ev_sales"].attrs["source"] == "iea"
    assert ps.path == FIXTURE
    assert isinstance(ps["ev_sales"], xr.DataArray)
    assert "ev_sales" in ps and "nope" not in ps


def test_products_outside_parameter_are_nan(ps):
    ev = ps.values["ev_sales"]
    assert np.isnan(ev.sel(product=["wind_onshore", "other_magnets"])).all()
    assert np.isfinite(ev.sel(product=["ev_bev", "ev_phev"])).all()
    assert np.isnan(ps.low["nd_intensity"].sel(product="wind_onshore"))


def test_kt_per_year_converted_to_t_per_year(ps):
    od = ps.values["other_demand"]
    # 1.5 kt/yr in 2000 and 2500 t/yr in 2010, linear in between
    assert od.sel(time=2000) == pytest.approx(1500.0)
    assert od.sel(time=2005) == pytest.approx(2000.0)
    assert od.sel(time=2010) == pytest.approx(2500.0)
    # low/high 1 and 2 kt/yr in 2000; no range in 2010 (= value)
    assert ps.low["other_demand"].sel(time=2000) == pytest.approx(1000.0)
    assert ps.high["other_demand"].sel(time=2000) == pytest.approx(2000.0)
    assert ps.low["other_demand"].sel(time=2010) == pytest.approx(2500.0)
    assert ps.low["other_demand"].sel(time=2005) == pytest.approx(1750.0)


def test_other_unit_conversions(ps):
    # 1000 g/vehicle -> 1 kg/vehicle; 1 GW/yr -> 1000 MW/yr; 0.25 % -> 0.0025
    assert ps.values["nd_intensity"].sel(product="ev_bev") == pytest.approx(1.0)
    assert ps.values["wind_additions"].sel(region="China", time=2001) == pytest.approx(1000.0)
    assert ps.values["collection_rate"].sel(
        region="Europe", product="ev_phev", time=2010
    ) == pytest.approx(0.0025)


def test_linear_interpolation_by_hand(ps):
    ev = ps.values["ev_sales"].sel(region="China", product="ev_bev")
    # points: 2002 = 100 (China), 2005 = 10 (wildcard row), 2006 = 500 (China)
    # before = "zero", after = "constant"
    expected = [0, 0, 100, 70, 40, 10, 500, 500, 500, 500, 500]
    np.testing.assert_allclose(ev.values, expected)
    share = ps.values["production_share"].sel(region="China", stage="mining")
    np.testing.assert_allclose(share.values, 0.9 - 0.03 * np.arange(11))
    # low/high given only in 2002 (80/120): they equal the value at the other points
    lo = ps.low["ev_sales"].sel(region="China", product="ev_bev")
    np.testing.assert_allclose(lo.values, [0, 0, 80, 80 - 70 / 3, 80 - 140 / 3, 10, 500, 500, 500, 500, 500])


def test_step_interpolation_by_hand(ps):
    wind = ps.values["wind_additions"]
    # China: 2001 = 1 GW/yr, 2003 = 100 MW/yr (wildcard), 2005 = 3000 MW/yr; before = "zero"
    expected = [0, 1000, 1000, 100, 100, 3000, 3000, 3000, 3000, 3000, 3000]
    np.testing.assert_allclose(wind.sel(region="China").values, expected)
    np.testing.assert_allclose(wind.sel(region="Europe").values, [0, 0, 0] + [100] * 8)


def test_wildcards_and_specific_rows(ps):
    ev = ps.values["ev_sales"]
    # the wildcard row (2005 = 10) holds everywhere, except Europe/ev_phev (2005 = 20)
    assert ev.sel(region="Europe", product="ev_phev", time=2007) == 20
    assert ev.sel(region="Europe", product="ev_bev", time=2007) == 10
    assert ev.sel(region="Rest of World", product="ev_phev", time=2010) == 10
    life = ps.values["lifetime_mean"]
    np.testing.assert_allclose(life.values, [12, 12, 25, 12])
    np.testing.assert_allclose(ps.low["lifetime_mean"].values, [10, 10, 25, 10])
    cr = ps.values["collection_rate"]
    # constant wildcard 0.01; Europe dated rows (more specific) replace it for Europe
    assert float(cr.sel(region="China", product="wind_onshore", time=2004)) == 0.01
    np.testing.assert_allclose(
        cr.sel(region="Europe", product="ev_bev").values, np.linspace(0.05, 0.5, 11)
    )
    np.testing.assert_allclose(
        cr.sel(region="Europe", product="wind_onshore").values, np.linspace(0.05, 0.0025, 11)
    )


def test_before_after_rules_with_longer_model_years(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "model.toml", "start = 2000\nend = 2010", "start = 1995\nend = 2020")
    ps = load_parameters(d)
    assert ps.coords["time"][0] == 1995 and ps.coords["time"][-1] == 2020
    # before = "constant" (default): the first value holds
    assert ps.values["other_demand"].sel(time=1995) == pytest.approx(1500.0)
    # after = "constant": the last value holds
    assert ps.values["other_demand"].sel(time=2020) == pytest.approx(2500.0)
    # before = "zero"
    assert ps.values["ev_sales"].sel(region="China", product="ev_bev", time=1995) == 0
    assert ps.values["wind_additions"].sel(region="China", time=1999) == 0
    assert ps.values["wind_additions"].sel(region="China", time=2020) == 3000


def test_before_error(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "registry.toml", 'unit = "t/yr"\nmin = 0.0\nafter', 'unit = "t/yr"\nmin = 0.0\nbefore = "error"\nafter')
    assert load_parameters(d).values["other_demand"].sel(time=2000) == 1500  # data start 2000
    edit(d, "model.toml", "start = 2000", "start = 1999")
    msg = load_error(d)
    assert "drivers.csv, line 11" in msg
    assert "first given year is 2000" in msg and "starts in 1999" in msg
    assert "before = 'error'" in msg


def test_after_error(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "registry.toml", 'min = 0.0\nafter = "constant"', 'min = 0.0\nafter = "error"')
    edit(d, "model.toml", "end = 2010", "end = 2011")
    msg = load_error(d)
    assert "drivers.csv, line 12" in msg and "last given year is 2010" in msg
    assert "ends in 2011" in msg and "after = 'error'" in msg


def test_files_hashes(ps):
    assert set(ps.files) == {
        "model.toml", "registry.toml", "sources.csv", "drivers.csv", "products.csv", "supply.csv"
    }
    for name, sha in ps.files.items():
        assert sha == hashlib.sha256((FIXTURE / name).read_bytes()).hexdigest()


def test_sources(ps):
    assert ps.sources["usgs"]["licence"] == "public domain"
    assert ps.sources["assumption"]["tag"] == "assumption"


# ---------------------------------------------------------------------------------------------
# Table, parameter table, round trip
# ---------------------------------------------------------------------------------------------
def test_table_and_round_trip(ps, tmp_path):
    t = ps.table
    assert list(t.columns[: len(DATA_COLUMNS)]) == list(DATA_COLUMNS)
    row = t[(t.parameter == "other_demand") & (t.year == 2000)].iloc[0]
    assert row.value == 1500 and row.unit == "t/yr" and row.low == 1000
    assert row.file == "drivers.csv" and row.line == 11
    # write the validated table back (canonical units) and read it again: same numbers
    d = tmp_path / "rt"
    d.mkdir()
    for name in ("model.toml", "registry.toml", "sources.csv"):
        shutil.copy(FIXTURE / name, d / name)
    t[list(DATA_COLUMNS)].to_csv(d / "all.csv", index=False)
    again = load_parameters(d)
    xr.testing.assert_allclose(again.values, ps.values)
    xr.testing.assert_allclose(again.low, ps.low)
    xr.testing.assert_allclose(again.high, ps.high)


def test_parameter_table(ps):
    pt = ps.parameter_table()
    assert isinstance(pt, pd.DataFrame)
    assert list(pt.parameter) == ps.names
    row = pt.set_index("parameter").loc["other_demand"]
    assert row["unit"] == "t/yr" and row["min"] == 1500 and row["max"] == 2500
    assert row["sources"] == "usgs" and row["n_rows"] == 2 and row["dims"] == "time"
    assert pt.set_index("parameter").loc["collection_rate", "n_rows"] == 4


# ---------------------------------------------------------------------------------------------
# with_values
# ---------------------------------------------------------------------------------------------
def test_with_values_converts_units_and_keeps_original(ps):
    new = xr.DataArray(np.full(11, 3.0), dims=["time"], coords={"time": ps.coords["time"]},
                       attrs={"units": "kt/yr"})
    out = ps.with_values("other_demand", new)
    np.testing.assert_allclose(out.values["other_demand"].values, 3000.0)
    assert out.values["other_demand"].attrs["units"] == "t/yr"
    assert ps.values["other_demand"].sel(time=2000) == 1500  # original unchanged
    # without units: canonical units assumed; low/high given
    plain = xr.DataArray(np.full(11, 3.0), dims=["time"], coords={"time": ps.coords["time"]})
    assert "units" not in plain.attrs
    out2 = ps.with_values("other_demand", plain * 1000, low=plain * 900, high=plain * 1100)
    np.testing.assert_allclose(out2.low["other_demand"].values, 2700.0)


def test_with_values_sample_dim_and_nan_outside_products(ps):
    base = ps.values["ev_sales"].fillna(0.0)
    samples = xr.concat([base * f for f in (0.5, 1.0, 2.0)], dim="sample")
    out = ps.with_values("ev_sales", samples)
    v = out.values["ev_sales"]
    assert v.dims == ("region", "product", "time", "sample")
    assert np.isnan(v.sel(product="wind_onshore")).all()
    assert float(v.sel(region="China", product="ev_bev", time=2006, sample=2)) == 1000


def test_with_values_errors(ps):
    t = ps.coords["time"]
    bad_unit = xr.DataArray(np.ones(11), dims=["time"], coords={"time": t}, attrs={"units": "kg"})
    with pytest.raises(ParameterError, match=r"other_demand.*dimensionality"):
        ps.with_values("other_demand", bad_unit)
    with pytest.raises(ParameterError, match="dims"):
        ps.with_values("other_demand", xr.DataArray(np.ones(3), dims=["region"]))
    share = ps.values["production_share"] * 2
    with pytest.raises(ParameterError, match="above the maximum 1"):
        ps.with_values("production_share", share)
    with pytest.raises(ParameterError, match=r"unknown parameter 'ev_sale'.*ev_sales"):
        ps.with_values("ev_sale", share)


# ---------------------------------------------------------------------------------------------
# Error messages: data files
# ---------------------------------------------------------------------------------------------
def test_error_is_mfa_error(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "drivers.csv", "ev_sale,China,ev_bev,,2003,5,vehicle/yr,,,iea,")
    with pytest.raises(MfaError):
        load_parameters(d)


def test_unknown_parameter(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "drivers.csv", "ev_sale,China,ev_bev,,2003,5,vehicle/yr,,,iea,")
    msg = load_error(d)
    assert "drivers.csv, line 13:" in msg
    assert "unknown parameter 'ev_sale'" in msg and "did you mean 'ev_sales'" in msg
    assert "registry.toml" in msg


def test_unknown_region_lists_allowed(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "supply.csv", "Europe,,mining", "Eurpoe,,mining")
    msg = load_error(d)
    assert "supply.csv, line 4:" in msg
    assert "unknown region 'Eurpoe'" in msg
    assert "'China', 'Europe', 'Rest of World'" in msg


def test_unknown_product_and_stage(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "products.csv", "lifetime_mean,,wind_onshore", "lifetime_mean,,wind_onshor")
    edit(d, "supply.csv", "China,,magnet", "China,,magnets")
    msg = load_error(d)
    assert "2 problems" in msg
    assert "products.csv, line 5: unknown product 'wind_onshor'" in msg
    assert "supply.csv, line 7: unknown stage 'magnets'" in msg and "'mining', 'magnet'" in msg


def test_product_outside_parameter_products(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "drivers.csv", "ev_sales,China,wind_onshore,,2003,5,vehicle/yr,,,iea,")
    msg = load_error(d)
    assert "drivers.csv, line 13:" in msg
    assert "product 'wind_onshore' is not one of the product labels of parameter 'ev_sales'" in msg
    assert "'ev_bev', 'ev_phev'" in msg


def test_dim_value_for_missing_dim(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "drivers.csv", "other_demand,China,,,2005,1,t/yr,,,usgs,")
    append(d, "products.csv", "nd_intensity,,ev_bev,,2005,1,kg/vehicle,,,assumption,",
           "collection_rate,China,ev_bev,magnet,2005,0.1,1,,,assumption,")
    msg = load_error(d)
    assert "drivers.csv, line 13: region 'China' given, but parameter 'other_demand' has no region dim" in msg
    assert "products.csv, line 10: year 2005 given, but parameter 'nd_intensity' has no time dim" in msg
    assert "products.csv, line 11: stage 'magnet' given" in msg and "leave the stage cell empty" in msg


def test_unit_unreadable(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "products.csv", "0.5,kg/vehicle", "0.5,kg/vehicel")
    msg = load_error(d)
    assert "products.csv, line 3:" in msg and "cannot read unit 'kg/vehicel'" in msg


def test_unit_wrong_dimensionality(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "products.csv", "0.5,kg/vehicle", "0.5,kg/MW")
    msg = load_error(d)
    assert "products.csv, line 3:" in msg
    assert "'kg/MW'" in msg and "nd_intensity" in msg and "kg/vehicle" in msg


def test_unit_wrong_dimensionality_counts_rows(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "supply.csv", "mining,2000,0.9,1", "mining,2000,0.9,t")
    edit(d, "supply.csv", "mining,2010,0.6,1", "mining,2010,0.6,t")
    msg = load_error(d)
    assert "supply.csv, line 2:" in msg and "same unit on 1 more rows" in msg


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (",2002,100,", ",2002,nan,", "value 'nan' is not a finite number"),
        (",2002,100,", ",2002,,", "empty value; expected a number"),
        (",2002,100,", ",2002,lots,", "value 'lots' is not a finite number"),
        (",2002,100,", ",2002,inf,", "value 'inf' is not a finite number"),
        ("vehicle/yr,80,120", "vehicle/yr,eighty,120", "low 'eighty' is not a finite number"),
        ("vehicle/yr,80,120", "vehicle/yr,80,NaN", "high 'NaN' is not a finite number"),
        (",2002,100,", ",20x2,100,", "year '20x2' is not an integer year"),
        (",2002,100,", ",2002.5,100,", "year '2002.5' is not an integer year"),
        ("vehicle/yr,80,120", "vehicle/yr,110,120", "low 110 is larger than value 100"),
        ("vehicle/yr,80,120", "vehicle/yr,80,90", "high 90 is smaller than value 100"),
        (",2002,100,", ",2002,-100,", "value -100 vehicle/yr of parameter 'ev_sales' is below its minimum 0"),
    ],
)
def test_bad_numbers(tmp_path, old, new, expected):
    d = copy_fixture(tmp_path)
    edit(d, "drivers.csv", old, new)
    msg = load_error(d)
    assert "drivers.csv, line 3:" in msg
    assert expected in msg


def test_share_outside_0_1(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "products.csv", "ev_bev,,2010,0.5,1", "ev_bev,,2010,1.5,1")
    msg = load_error(d)
    assert "products.csv, line 9:" in msg
    assert "value 1.5 of parameter 'collection_rate' is above its maximum 1" in msg


def test_sum_to_one_share_implies_bounds(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "registry.toml", 'unit = "1"\nmin = 0.0\nmax = 1.0\nsum_to_one_over', 'unit = "1"\nsum_to_one_over')
    edit(d, "supply.csv", "Europe,,mining,,0.0", "Europe,,mining,,-0.1")
    msg = load_error(d)
    assert "supply.csv, line 4:" in msg and "below its minimum 0" in msg


def test_sum_to_one_violated(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "supply.csv", "Rest of World,,mining,2010,0.4", "Rest of World,,mining,2010,0.3")
    msg = load_error(d)
    assert "production_share" in msg and "sum to 1" in msg and "over region" in msg
    # first bad year 2001: 0.87 + 0 + 0.12 = 0.99
    assert "stage=mining, year=2001: sum 0.99" in msg
    assert "(and 7 more)" in msg  # 2001-2010 = 10 bad years, 3 shown


def test_sum_to_one_checked_after_interpolation(tmp_path):
    # each given year sums to one, but Rest of World stops in 2005 (constant after) while
    # China keeps falling: in 2005 China 0.75 + RoW 0.4 = 1.15
    d = copy_fixture(tmp_path)
    edit(d, "supply.csv", "Rest of World,,mining,2010,0.4", "Rest of World,,mining,2005,0.4")
    msg = load_error(d)
    assert "after interpolation" in msg
    assert "stage=mining, year=2001: sum 1.03" in msg


def test_max_gap(tmp_path):
    d = copy_fixture(tmp_path)
    # a point after the model years (2000-2010) must be allowed by the registry first
    edit(d, "registry.toml", "max_gap = 10\n", "max_gap = 10\nallow_years = [2000, 2020]\n")
    append(d, "drivers.csv", "ev_sales,China,ev_bev,,2020,900,vehicle/yr,,,iea,")
    msg = load_error(d)
    assert "drivers.csv, line 13:" in msg
    assert "gap of 14 years between 2006 and 2020" in msg and "max_gap is 10" in msg
    assert "region=China, product=ev_bev" in msg


def test_missing_combination(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "supply.csv", "production_share,Europe,,magnet,,0.05,1,,,usgs,\n", "")
    msg = load_error(d)
    assert "parameter 'production_share'" in msg
    assert "no data for region=Europe, stage=magnet" in msg
    assert "wildcard" in msg and "supply.csv, line 2" in msg


def test_registry_parameter_without_rows(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "registry.toml", "[parameters.extra]", 'description = "x"', 'dims = ["time"]',
           'unit = "t"')
    msg = load_error(d)
    assert "registry.toml, [parameters.extra]: no data rows" in msg


def test_duplicate_rows(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "supply.csv", "production_share,China,,magnet,,0.9,1,,,usgs,again")
    msg = load_error(d)
    assert "supply.csv, line 10: duplicate row" in msg
    assert "region=China, stage=magnet, all years" in msg
    assert "first given in" in msg and "supply.csv, line 7" in msg


def test_duplicate_rows_across_files(tmp_path):
    d = copy_fixture(tmp_path)
    (d / "zz_more.csv").write_text(
        ",".join(DATA_COLUMNS) + "\n# comment\nother_demand,,,,2010,2.5,kt/yr,,,usgs,\n"
    )
    msg = load_error(d)
    assert "zz_more.csv, line 3: duplicate row" in msg and "drivers.csv, line 12" in msg


def test_ambiguous_rows(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "products.csv", "collection_rate,China,,,2005,0.1,1,,,assumption,",
           "collection_rate,,ev_bev,,2005,0.2,1,,,assumption,")
    msg = load_error(d)
    assert "products.csv, line 11: ambiguous rows" in msg and "products.csv, line 10" in msg
    assert "region=China, product=ev_bev, year 2005" in msg


def test_constant_and_dated_rows_same_cell(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "drivers.csv", "other_demand,,,,,2,kt/yr,,,usgs,")
    msg = load_error(d)
    assert "drivers.csv, line 13:" in msg and "has no year (a constant)" in msg


def test_source_errors(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "supply.csv", "China,,magnet,,0.9,1,,,usgs,", "China,,magnet,,0.9,1,,,usgss,")
    edit(d, "supply.csv", "Europe,,magnet,,0.05,1,,,usgs,", "Europe,,magnet,,0.05,1,,,,")
    msg = load_error(d)
    assert "supply.csv, line 7: source 'usgss'" in msg and "did you mean 'usgs'" in msg
    assert "not a key in sources.csv" in msg
    assert "supply.csv, line 8: empty source" in msg


def test_header_missing_and_unexpected_columns(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "supply.csv", "low,high,source,note", "lo,high,source,note,extra")
    msg = load_error(d)
    assert "supply.csv, line 1 (header)" in msg
    assert "missing columns 'low'" in msg and "unexpected columns 'lo', 'extra'" in msg
    assert "parameter,region,product,stage,year,value,unit,low,high,source,note" in msg


def test_wrong_number_of_fields(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "supply.csv", "production_share,China,,magnet,,0.9,1,,usgs,")
    msg = load_error(d)
    assert "supply.csv, line 10: 10 fields, expected 11" in msg


def test_several_errors_listed_in_file_order(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "supply.csv", "Europe,,mining", "Eurpoe,,mining")
    append(d, "drivers.csv", "ev_sale,China,ev_bev,,2003,5,vehicle/yr,,,iea,")
    msg = load_error(d)
    lines = msg.splitlines()
    assert lines[0] == "2 problems in the parameter files:"
    assert "drivers.csv, line 13" in lines[1] and "supply.csv, line 4" in lines[2]


def test_empty_rows_are_skipped(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "supply.csv", ",,,,,,,,,,", "  ")
    ps = load_parameters(d)
    assert len(ps.table) == len(load_parameters(FIXTURE).table)


def test_comment_lines_count_in_line_numbers(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "supply.csv", "production_share,China,,magnet", "# a comment\n\nproduction_share,China,,magnet")
    edit(d, "supply.csv", "Europe,,magnet,,0.05,1,,,usgs", "Europe,,magnet,,0.05,1,,,usgz")
    msg = load_error(d)
    assert "supply.csv, line 10: source 'usgz'" in msg  # the row moved from line 8 to 10


# ---------------------------------------------------------------------------------------------
# Error messages: sources.csv, registry.toml, model.toml
# ---------------------------------------------------------------------------------------------
def test_sources_csv_errors(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "sources.csv", "usgs,again,,,P,", ",no key,,,P,", "x,bad tag,,,Z,")
    msg = load_error(d)
    assert "sources.csv, line 6: duplicate key 'usgs' (first on line 3)" in msg
    assert "sources.csv, line 7: empty key" in msg
    assert "sources.csv, line 8: tag 'Z'" in msg


def test_registry_unknown_key(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "registry.toml", 'unit = "kg/vehicle"', 'unti = "kg/vehicle"')
    msg = load_error(d)
    assert "registry.toml, [parameters.nd_intensity]: unknown key 'unti'" in msg
    assert "did you mean 'unit'" in msg
    assert "missing key 'unit'" in msg


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('dims = ["product"]\nlabels', 'dims = ["prodcut"]\nlabels', "unknown dims 'prodcut' (did you mean 'product'?)"),
        ('unit = "kg/vehicle"', 'unit = "kg/vehicel"', "cannot read unit 'kg/vehicel'"),
        ('interpolation = "step"', 'interpolation = "cubic"', "'interpolation' must be one of 'linear', 'step', got 'cubic'"),
        ('before = "zero"\n\n[parameters.production_share]', 'before = "never"\n\n[parameters.production_share]', "'before' must be one of"),
        ('sum_to_one_over = "region"', 'sum_to_one_over = "product"', "'sum_to_one_over' = 'product' is not one of the parameter's dims"),
        ('max_gap = 10', 'max_gap = -1', "'max_gap' must be a positive integer"),
        ('min = 0.5', 'min = 0.5\nmax = 0.1', "'min' 0.5 is larger than 'max' 0.1"),
        ('role = "model"', 'role = "target"', "'role' must be one of 'model', 'calibration'"),
        ('labels = {product = ["ev_bev", "ev_phev"]}\nunit = "kg', 'labels = {product = ["ev_bev", "ev_car"]}\nunit = "kg', "labels.product has unknown labels 'ev_car'"),
        ('labels = {product = ["ev_bev", "ev_phev"]}\nunit = "kg', 'labels = {prodcut = ["ev_bev"]}\nunit = "kg', "labels.prodcut: 'prodcut' is not a dim declared in model.toml (did you mean 'product'?)"),
        ('sum_to_one_over = "region"', 'sum_to_one_over = "regoin"', "'sum_to_one_over' must be one of the dims 'region', 'product', 'stage' declared in model.toml, got 'regoin'"),
    ],
)
def test_registry_errors(tmp_path, old, new, expected):
    d = copy_fixture(tmp_path)
    edit(d, "registry.toml", old, new)
    msg = load_error(d)
    assert "registry.toml, [parameters." in msg
    assert expected in msg


def test_registry_products_without_product_dim(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "registry.toml", 'dims = ["time", "region"]', 'dims = ["time", "region"]\nproducts = ["ev_bev"]')
    with pytest.warns(DeprecationWarning, match="'products = \\[...\\]'"):
        msg = load_error(d)
    assert "[parameters.wind_additions]: 'products' given but 'product' is not in 'dims'" in msg


def test_registry_not_toml(tmp_path):
    d = copy_fixture(tmp_path)
    append(d, "registry.toml", "[parameters.x")
    msg = load_error(d)
    assert "registry.toml: not valid TOML" in msg


def test_model_toml_errors(tmp_path):
    d = copy_fixture(tmp_path)
    edit(d, "model.toml", "start = 2000", "start = 2020\nstep = 1")
    edit(d, "model.toml", "[dimensions]", "[dimensions]\ntime = ['x']\n'2nd' = ['y']")
    edit(d, "model.toml", "[units]", "[unit]")
    msg = load_error(d)
    assert "model.toml, [time]: unknown key 'step'" in msg
    assert ("model.toml, [dimensions]: 'time' cannot be the name of a dim: it is reserved (the "
            "model years come from [time])") in msg
    assert "model.toml, [dimensions]: dim name '2nd' must begin with a letter" in msg
    assert "model.toml: unknown table or key 'unit' (did you mean 'units'?)" in msg
    d2 = copy_fixture(tmp_path / "b")
    edit(d2, "model.toml", "start = 2000", "start = 2020")
    assert "model.toml, [time]: start 2020 is after end 2010" in load_error(d2)


def test_missing_files(tmp_path):
    d = copy_fixture(tmp_path)
    (d / "sources.csv").unlink()
    assert "sources.csv: file not found" in load_error(d)
    assert "parameter directory not found" in load_error(tmp_path / "nowhere")


# ---------------------------------------------------------------------------------------------
# The default data shipped with the package
# ---------------------------------------------------------------------------------------------
def test_default_params_dir_found():
    d = default_params_dir()
    assert d.is_dir()


@pytest.mark.skipif(not (REPO_PARAMS / "registry.toml").is_file(),
                    reason="params/registry.toml not written yet")
def test_default_data_loads():
    ps = load_parameters()
    assert ps.coords["time"][0] <= 2000 and ps.coords["time"][-1] >= 2050
    for name in ps.names:
        assert "units" in ps.values[name].attrs
