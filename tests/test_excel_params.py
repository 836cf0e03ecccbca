"""Parameter workbooks: ``mfa params export FILE.xlsx`` and ``mfa run --params FILE.xlsx``.

The default data go out to a workbook and come back identical (values, ranges, units,
sources, the registry, the table), a run on the workbook gives the same results as the run on
the CSV files, and every mistake made in Excel names the workbook, the sheet, the Excel row and
the column, with exit status 2 and one ``mfa: error:`` line from the command line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
import xarray as xr

from mfa.cli import main
from mfa.core.errors import ParameterError, ScenarioError
from mfa.data import load_parameters, load_scenario
from mfa.data.excel import parameter_workbook, workbook_scenarios
from mfa.data.params import default_params_dir


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("book") / "params.xlsx"
    assert main(["params", "export", str(path)]) == 0
    return path


@pytest.fixture()
def book(exported: Path, tmp_path: Path) -> Path:
    """A fresh copy of the exported default data, to edit."""
    return Path(shutil.copy(exported, tmp_path / "book.xlsx"))


def _find_row(ws, parameter: str, **cells: object) -> int:
    """The Excel row of the first data row of ``parameter`` with these cell values."""
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        values = dict(zip(header, (c.value for c in row), strict=False))
        if values["parameter"] == parameter and all(values[k] == v for k, v in cells.items()):
            return row[0].row
    raise AssertionError(f"no row of {parameter} with {cells}")


def _edit(path: Path, sheet: str, parameter: str, match: dict, **changes: object) -> int:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    row = _find_row(ws, parameter, **match)
    header = [c.value for c in ws[1]]
    for col, value in changes.items():
        ws.cell(row=row, column=header.index(col) + 1, value=value)
    wb.save(path)
    return row


def _cli_error(capsys: pytest.CaptureFixture, args: list[str]) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("mfa: error: ") and err.count("mfa: error:") == 1
    assert "Traceback" not in err
    return err


# ----------------------------------------------------------------------------- round trip
def test_round_trip_gives_identical_parameters(exported: Path) -> None:
    csv, book = load_parameters(), load_parameters(exported)
    for what in ("values", "low", "high"):
        a, b = getattr(csv, what), getattr(book, what)
        assert a.drop_attrs().identical(b.drop_attrs()), what  # values, exactly
        for name in a.data_vars:
            assert a[name].attrs == b[name].attrs  # units, description, sources
    assert book.registry == csv.registry
    assert book.sources == csv.sources
    assert book.coords == csv.coords and book.model_name == csv.model_name
    columns = [c for c in csv.table.columns if c not in ("file", "line")]
    assert book.table[columns].equals(csv.table[columns])
    # the table points at the sheet and its Excel row (the header is row 1)
    first = book.table.iloc[0]
    ws = openpyxl.load_workbook(exported, read_only=True)[first["file"]]
    assert ws.cell(row=int(first["line"]), column=1).value == first["parameter"]
    assert book.path == exported and list(book.files) == [exported.name]


def _letter(book: Path, sheet: str, name: str) -> str:
    """The column letter of header ``name`` in a sheet (the sheets carry every dim column)."""
    from openpyxl.utils import get_column_letter

    ws = openpyxl.load_workbook(book, read_only=True)[sheet]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    return get_column_letter(header.index(name) + 1)


def test_workbook_layout(exported: Path) -> None:
    wb = openpyxl.load_workbook(exported)
    data = sorted(p.stem for p in default_params_dir().glob("*.csv") if p.stem != "sources")
    scenarios = sorted(p.stem for p in (default_params_dir() / "scenarios").glob("*.toml"))
    assert wb.sheetnames == ["README", *data, "sources", "model.toml", "registry.toml",
                             *(f"scenario {s}" for s in scenarios)]
    ws = wb["drivers"]
    # every sheet has the same header: all of the model's dims, then the data columns
    header = [c.value for c in ws[1]]
    assert header == ["parameter", *load_parameters().dims, "year", "value", "unit", "low",
                      "high", "source", "note"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    row = _find_row(ws, "ev_sales", region="China", product="ev_bev", year=2010)
    col = {name: j + 1 for j, name in enumerate(header)}
    assert ws.cell(row=row, column=col["value"]).value == 1100  # a number, not text
    assert ws.cell(row=row, column=col["unit"]).value == "vehicle/yr"
    assert ws.cell(row=row, column=col["source"]).value == "iea-gevo2025-data"
    note = openpyxl.utils.get_column_letter(col["note"])
    assert ws.column_dimensions[note].width >= 30  # the notes are readable
    readme = [c.value for row in wb["README"].iter_rows() for c in row if c.value]
    assert "ev_sales" in readme and "vehicle/yr" in readme  # every parameter, its unit
    # the TOML text: line N in row N
    toml = (default_params_dir() / "model.toml").read_text().splitlines()
    assert wb["model.toml"].cell(row=6, column=1).value == toml[5]


def test_run_on_the_workbook_equals_the_run_on_the_csv_files(exported: Path,
                                                             tmp_path: Path) -> None:
    a, b = tmp_path / "csv.nc", tmp_path / "book.nc"
    assert main(["run", "--out", str(a)]) == 0
    assert main(["run", "--params", str(exported), "--out", str(b)]) == 0
    with xr.open_dataset(a) as ra, xr.open_dataset(b) as rb:
        assert ra.drop_attrs().identical(rb.drop_attrs())
        assert ra.attrs["scenario"] == rb.attrs["scenario"] == "baseline"
        assert exported.name in rb.attrs["parameter_files"]


def test_scenarios_come_from_the_workbook(exported: Path) -> None:
    for name in ("net-zero", "high-recycling", "net-zero-circular", "no-recycling"):
        a, b = load_scenario(name), load_scenario(name, exported)
        assert [s.name for s in a.chain()] == [s.name for s in b.chain()]
        assert [s.overrides for s in a.chain()] == [s.overrides for s in b.chain()]
        assert a.sha256 == b.sha256  # the same text, byte for byte
    # every scenario file of params/scenarios, no more, no less
    assert [s.name for s in workbook_scenarios(exported)] == sorted(
        p.stem for p in (default_params_dir() / "scenarios").glob("*.toml"))
    with pytest.raises(ScenarioError, match=r"unknown scenario 'net-zer' \(did you mean "
                       r"'net-zero'\?\); available in .*book.*'scenario NAME'"):
        load_scenario("net-zer", exported)


def test_every_row_is_read_whatever_used_range_the_file_declares(exported: Path,
                                                                  tmp_path: Path) -> None:
    """Some programs write a wrong ``<dimension>`` (the used range) into a sheet; a reader that
    trusted it would drop rows silently."""
    import re
    import zipfile

    path = tmp_path / "small-dimension.xlsx"
    with zipfile.ZipFile(exported) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', data)
            dst.writestr(item, data)
    got, want = load_parameters(path), load_parameters()
    assert got.values.drop_attrs().identical(want.values.drop_attrs())
    assert len(got.table) == len(want.table)


def test_comment_rows_and_spaces_are_read_as_in_a_csv_file(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    ws = wb["technology"]
    ws.insert_rows(2)
    ws["A2"] = "# pm_share: checked against ERMA 2021 on 1 Dec"  # a comment row
    row = _find_row(ws, "pm_share", product="ev_phev")
    header = [c.value for c in ws[1]]
    ws.cell(row=row, column=header.index("unit") + 1, value=" 1 ")  # the unit, with spaces
    ws.cell(row=row, column=len(header) + 1, value="   ")  # beyond the header: only spaces
    wb.save(book)
    got, want = load_parameters(book), load_parameters()
    assert got.values.drop_attrs().identical(want.values.drop_attrs())


# ----------------------------------------------------------------------------- mistakes
def test_wrong_unit_names_sheet_row_and_column(book: Path, capsys) -> None:
    row = _edit(book, "drivers", "ev_sales", {"region": "China", "product": "ev_bev",
                                              "year": 2010}, unit="kg/yr")
    err = _cli_error(capsys, ["run", "--params", str(book), "--out", str(book.parent / "r.nc")])
    assert f"{book}, sheet 'drivers', row {row}, column {_letter(book, 'drivers', 'unit')} (unit): " in err
    assert "'kg/yr' has dimensionality [mass] / [time], expected a unit like 'vehicle/yr'" in err
    assert not (book.parent / "r.nc").exists()


def test_bad_year_names_sheet_row_and_column(book: Path) -> None:
    row = _edit(book, "drivers", "ev_sales", {"region": "China", "product": "ev_bev",
                                              "year": 2010}, year=2102)
    with pytest.raises(ParameterError) as info:
        load_parameters(book)
    assert str(info.value).startswith(
        f"{book}, sheet 'drivers', row {row}, column {_letter(book, 'drivers', 'year')} (year): "
        f"year 2102 of parameter "
        f"'ev_sales' is outside the model years 1980-2050")


def test_non_numeric_cell_names_sheet_row_and_column(book: Path) -> None:
    row = _edit(book, "technology", "pm_share", {"product": "ev_phev"}, value="0,95", low=True)
    with pytest.raises(ParameterError) as info:
        load_parameters(book)
    value, low = (_letter(book, "technology", c) for c in ("value", "low"))
    assert str(info.value) == (
        f"2 problems in the parameter files:\n"
        f"  - {book}, sheet 'technology', row {row}, column {value} (value): value '0,95' is not "
        f"a finite number\n"
        f"  - {book}, sheet 'technology', row {row}, column {low} (low): low 'TRUE' is not a "
        f"finite number (leave it empty for no range)")


def test_missing_sheets(book: Path, capsys) -> None:
    wb = openpyxl.load_workbook(book)
    del wb["sources"]
    wb.save(book)
    err = _cli_error(capsys, ["run", "--params", str(book), "--out", str(book.parent / "r.nc")])
    assert f"mfa: error: {book}: no sheet 'sources' (the bibliography); sheets: " in err
    wb = openpyxl.load_workbook(book)
    wb.create_sheet("sources")  # back, empty; and a data sheet gone
    del wb["lifetimes"]
    wb.save(book)
    with pytest.raises(ParameterError, match=r"sheet 'sources': empty sheet, expected the "
                                             r"header row key, citation"):
        load_parameters(book)


def test_a_deleted_data_sheet_names_the_parameters_left_without_data(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    del wb["lifetimes"]
    wb.save(book)
    with pytest.raises(ParameterError, match=(
            rf"{book}, sheet 'registry.toml', \[parameters.lifetime_mean\]: no data rows for "
            rf"this parameter in any data file \('calibration', 'drivers'")):
        load_parameters(book)


def test_header_and_toml_mistakes(book: Path) -> None:
    value = _letter(book, "drivers", "value")
    wb = openpyxl.load_workbook(book)
    wb["drivers"][f"{value}1"] = "valeu"
    wb.save(book)
    with pytest.raises(ParameterError, match=(
            rf"^{book}, sheet 'drivers', row 1 \(header\): missing columns 'value'; "
            rf"unexpected columns 'valeu'")):
        load_parameters(book)
    wb["drivers"][f"{value}1"] = "value"
    wb["model.toml"]["A6"] = "start = 198O"
    wb.save(book)
    with pytest.raises(ParameterError, match=(
            rf"^{book}, sheet 'model.toml': not valid TOML: .*\(at line 6, column 12\)")):
        load_parameters(book)


def test_a_formula_without_a_stored_result_is_an_error(book: Path) -> None:
    row = _edit(book, "technology", "pm_share", {"product": "ev_phev"}, value="=0.9+0.05")
    with pytest.raises(ParameterError, match=(
            rf"^{book}, sheet 'technology', row {row}, column {_letter(book, 'technology', 'value')}: "
            rf"the formula '=0.9\+0.05' has "
            rf"no stored result")):
        load_parameters(book)


def test_not_a_workbook(tmp_path: Path, capsys) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_text("parameter,value\n")
    err = _cli_error(capsys, ["run", "--params", str(fake), "--out", str(tmp_path / "r.nc")])
    assert f"{fake}: not an Excel workbook (.xlsx) that can be read" in err


def test_export_protects_its_inputs(exported: Path, tmp_path: Path, capsys) -> None:
    params = tmp_path / "params"
    shutil.copytree(default_params_dir(), params)
    err = _cli_error(capsys, ["params", "export", str(params / "x.xlsx"), "--params",
                              str(params)])
    assert "lies inside the parameter directory" in err
    assert not (params / "x.xlsx").exists()
    err = _cli_error(capsys, ["params", "export", str(tmp_path / "x.csv")])
    assert err == (f"mfa: error: {tmp_path / 'x.csv'}: a parameter workbook is an Excel file "
                   f"ending in .xlsx\n")
    assert not (tmp_path / "x.csv").exists()
    # a workbook given to a run is an input: no output may replace it
    err = _cli_error(capsys, ["run", "--params", str(exported), "--out", str(tmp_path / "r.nc"),
                              "--excel", str(exported)])
    assert "it is an input of this run" in err


def test_export_of_an_edited_directory_is_what_the_directory_says(tmp_path: Path) -> None:
    params = tmp_path / "params"
    shutil.copytree(default_params_dir(), params)
    text = (params / "technology.csv").read_text()
    edited = text.replace("pm_share,,ev_bev,,2018,0.93,1,0.75,0.95", "pm_share,,ev_bev,,2018,0.8,1,0.75,0.95")
    assert edited != text
    (params / "technology.csv").write_text(edited)
    path = tmp_path / "edited.xlsx"
    path.write_bytes(parameter_workbook(params))
    got = load_parameters(path)["pm_share"].sel(product="ev_bev")
    assert float(got.isel(region=0, time=0)) == 0.8
    assert got.attrs["units"] == "1"
