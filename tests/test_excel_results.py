"""The results workbook (:mod:`mfa.io.workbook`): a formatted Summary sheet with the years
across the columns, one sheet per variable with the units in its headers, written atomically."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xarray as xr

from mfa.cli import main
from mfa.core.errors import MfaError
from mfa.io.outputs import OutputSet
from mfa.io.results import read_results
from mfa.io.workbook import sheet_names, write_excel

YEARS = np.arange(2020, 2025)
REGIONS = ["China", "Japan", "Europe"]
PRODUCTS = ["ev_bev", "wind_onshore"]


def results() -> xr.Dataset:
    rng = np.random.default_rng(3)
    stock = rng.uniform(0, 1e4, (len(YEARS), len(REGIONS), len(PRODUCTS)))
    ds = xr.Dataset(
        {
            "in_use_stock": (("time", "region", "product"), stock,
                             {"units": "t", "long_name": "in-use stock"}),
            "production_share": (("time", "region"), np.full((5, 3), 1 / 3), {"units": "1"}),
            "total_demand": (("time",), np.arange(5) * 1000.0 + 0.5, {"units": "t/yr"}),
            "lifetime": (("product",), [15.0, 25.0], {"units": "yr"}),
        },
        coords={"time": YEARS, "region": REGIONS, "product": PRODUCTS},
        attrs={"scenario": "baseline", "material": "Cu", "model": "copper",
               "created": "2026-12-01T00:00:00Z", "files": np.array([1, 2])},
    )
    return ds


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def _rows(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_summary_and_variable_sheets(tmp_path: Path) -> None:
    ds = results()
    share = 100 * ds["production_share"].sel(region="China")
    summary = [("Total demand [t/yr]", ds["total_demand"], "t"), ("China share [%]", share, "%")]
    path = write_excel(ds, tmp_path / "r.xlsx", summary=summary)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "variables", "in_use_stock", "production_share",
                             "total_demand", "lifetime", "metadata"]
    ws = wb["Summary"]
    assert ws["A1"].value == "Cu results, scenario baseline" and ws["A1"].font.bold
    assert _rows(ws)[3] == ["indicator", "unit", *YEARS.tolist()]  # years across the columns
    assert _rows(ws)[4] == ["Total demand [t/yr]", "t/yr", *ds["total_demand"].values.tolist()]
    assert ws["C5"].number_format == "#,##0" and ws["C6"].number_format == "0.0"
    assert ws["C6"].value == pytest.approx(100 / 3)
    assert ws.freeze_panes == "C5"
    stock = wb["in_use_stock"]
    assert stock["A1"].value == "in_use_stock: in-use stock [t]"  # the unit in the title
    assert _rows(stock)[2] == ["region", "product", "unit", *YEARS.tolist()]
    row = _rows(stock)[3]
    assert row[:3] == ["China", "ev_bev", "t"]
    np.testing.assert_array_equal(row[3:], ds["in_use_stock"].sel(region="China",
                                                                  product="ev_bev").values)
    assert len(_rows(stock)) == 3 + len(REGIONS) * len(PRODUCTS)
    assert _rows(wb["total_demand"])[3][:2] == ["t/yr", 0.5]
    assert _rows(wb["lifetime"])[2] == ["product", "unit", "value [yr]"]  # no time dim
    assert _rows(wb["lifetime"])[4] == ["wind_onshore", "yr", 25.0]
    assert _rows(wb["variables"])[1] == ["in_use_stock", "in_use_stock", "in-use stock", "t",
                                         "time, region, product"]
    meta = dict(_rows(wb["metadata"])[1:])
    assert meta["scenario"] == "baseline" and meta["files"] == "[1, 2]"
    assert leftovers(tmp_path) == []


def test_default_summary_is_the_world_totals_of_mass_variables(tmp_path: Path) -> None:
    ds = results()
    wb = openpyxl.load_workbook(write_excel(ds, tmp_path / "r.xlsx"))
    rows = _rows(wb["Summary"])[4:]
    assert [r[:2] for r in rows] == [["in_use_stock (world) [t]", "t"],
                                     ["total_demand (world) [t/yr]", "t/yr"]]
    np.testing.assert_allclose(rows[0][2:], ds["in_use_stock"].sum(("region", "product")))


def test_summary_row_that_is_not_a_series_is_an_error(tmp_path: Path) -> None:
    ds = results()
    with pytest.raises(MfaError, match=r"summary row 'Stock \[t\]': expected a series over "
                                       r"time, got dims \('time', 'region', 'product'\)"):
        write_excel(ds, tmp_path / "r.xlsx", summary=[("Stock [t]", ds["in_use_stock"], "t")])
    assert not (tmp_path / "r.xlsx").exists() and leftovers(tmp_path) == []


def test_written_with_its_output_set_only(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), OutputSet() as outs:
        write_excel(results(), tmp_path / "r.xlsx", outputs=outs)
        assert not (tmp_path / "r.xlsx").exists()
        raise RuntimeError("a later output failed")
    assert list(tmp_path.iterdir()) == []


def test_without_openpyxl(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(MfaError, match='pip install "nd-mfa\\[excel\\]"'):
        write_excel(results(), tmp_path / "r.xlsx")
    assert not (tmp_path / "r.xlsx").exists()


def test_sheet_names_are_valid_and_unique() -> None:
    names = sheet_names(["a" * 40, "a" * 40 + "b", "x/y", "summary", "Metadata"])
    assert all(len(s) <= 31 for s in names.values())
    assert len({s.lower() for s in names.values()}) == 5
    assert names["x/y"] == "x_y"
    assert names["summary"].lower() != "summary" and names["Metadata"].lower() != "metadata"


def test_mfa_run_excel_summary_is_the_printed_summary(tmp_path: Path, capsys) -> None:
    out, book = tmp_path / "r.nc", tmp_path / "r.xlsx"
    assert main(["run", "--out", str(out), "--excel", str(book)]) == 0
    printed = capsys.readouterr().out.splitlines()
    wb = openpyxl.load_workbook(book, read_only=True)
    rows = [r for r in wb["Summary"].iter_rows(min_row=5, values_only=True)]
    labels = [r[0] for r in rows]
    assert labels and all(any(line.startswith(label) for line in printed) for label in labels)
    header = next(wb["Summary"].iter_rows(min_row=4, max_row=4, values_only=True))
    with read_results(out) as ds:
        assert list(header[2:]) == ds["time"].values.tolist()
        k = header.index(2050)
        assert rows[0][k] == pytest.approx(float(ds["total_demand"].sel(time=2050)))
    line = next(line for line in printed if line.startswith(labels[0]))
    assert f"{rows[0][k]:,.0f}" in line
