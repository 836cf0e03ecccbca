"""Writing a parameter directory as a workbook (:func:`parameter_workbook`)."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from mfa.core.errors import ParameterError
from mfa.data.excel.sheets import (
    BAD_SHEET_CHARS,
    MAX_SHEET_NAME,
    MODEL_SHEET,
    NOT_DATA,
    NUMBER_COLUMNS,
    README_SHEET,
    REGISTRY_SHEET,
    SCENARIO_PREFIX,
    SOURCES_SHEET,
    openpyxl_module,
)
from mfa.data.files import default_params_dir, list_data_files, read_csv, read_input_file
from mfa.data.parameter_set import ParameterSet
from mfa.data.registry import SOURCE_COLUMNS
from mfa.data.tables import data_columns

__all__ = ["parameter_workbook"]


def parameter_workbook(params_dir: str | Path | None = None) -> bytes:
    """A parameter directory as an ``.xlsx`` workbook (the bytes of the file).

    The directory is loaded (and so validated) first: only valid data are exported. Data and
    sources become formatted sheets with the columns of the CSV files (numbers as numbers,
    the rest as text); ``model.toml``, ``registry.toml`` and every ``scenarios/*.toml`` are
    kept as text, one line per row. :func:`~mfa.data.excel.read.read_parameter_workbook` reads the result back into
    the same :class:`~mfa.data.parameter_set.ParameterSet`.

    Parameters
    ----------
    params_dir : str or pathlib.Path, optional
        Parameter directory (default: the packaged default data).

    Returns
    -------
    bytes
        The workbook; write it with :func:`mfa.io.outputs.write_bytes` or an ``OutputSet``.

    Raises
    ------
    ParameterError
        If the directory is not valid, a file name cannot be a sheet name, or openpyxl is
        missing.
    """
    from mfa.data.params import load_parameters
    from mfa.data.scenario_files import load_scenario

    root = Path(params_dir) if params_dir is not None else default_params_dir()
    params = load_parameters(root)
    openpyxl = openpyxl_module()
    data_files = list_data_files(root)
    scenario_files = sorted((root / "scenarios").glob("*.toml"), key=lambda p: p.stem)
    names = {p: p.stem for p in data_files}
    names.update({p: SCENARIO_PREFIX + p.stem for p in scenario_files})
    _check_sheet_names(names)
    book = openpyxl.Workbook()
    readme = book.active
    readme.title = README_SHEET
    columns = data_columns(params.dims)
    about: dict[str, str] = {}
    for path in data_files:
        comments, lines, cols = _read_data_file(path, columns, root)
        about[names[path]] = comments
        _table_sheet(book.create_sheet(names[path]), columns, cols, len(lines))
    _, cols = read_csv(root / "sources.csv", SOURCE_COLUMNS, {}, root)
    _table_sheet(book.create_sheet(SOURCES_SHEET), SOURCE_COLUMNS, cols, len(cols["key"]))
    for sheet, path in ((MODEL_SHEET, root / "model.toml"),
                        (REGISTRY_SHEET, root / "registry.toml"),
                        *((names[p], p) for p in scenario_files)):
        _text_sheet(book.create_sheet(sheet), read_input_file(path).decode("utf-8-sig"))
    described = [(names[p], load_scenario(p, root).description) for p in scenario_files]
    _readme(readme, params, about, described)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _check_sheet_names(names: dict[Path, str]) -> None:
    seen: dict[str, Path] = {n.lower(): Path(n) for n in NOT_DATA}
    for path, name in names.items():
        if len(name) > MAX_SHEET_NAME or BAD_SHEET_CHARS.search(name):
            raise ParameterError(f"{path}: the sheet name {name!r} is not allowed in Excel (at "
                                 f"most {MAX_SHEET_NAME} characters, none of []:*?/\\); "
                                 f"rename the file to export it")
        if name.lower() in seen:
            raise ParameterError(f"{path}: the sheet name {name!r} is taken (by "
                                 f"{seen[name.lower()]}; Excel ignores letter case); rename "
                                 f"the file to export it")
        seen[name.lower()] = path


def _read_data_file(path: Path, columns: tuple[str, ...], root: Path
                    ) -> tuple[str, np.ndarray, dict[str, np.ndarray]]:
    """The ``#`` comment lines (joined), line numbers and columns of one data file."""
    text = read_input_file(path).decode("utf-8-sig")
    comments = " ".join(s.strip().lstrip("#").strip() for s in text.splitlines()
                        if s.strip().startswith("#"))
    lines, cols = read_csv(path, columns, {}, root, optional=columns[1:-7])
    return comments, lines, cols


def _number(text: str) -> int | float | str:
    """A number cell for a numeric text (an int stays an int), else the text."""
    try:
        x = float(text)
    except ValueError:
        return text
    if not math.isfinite(x):
        return text
    if re.fullmatch(r"[+-]?\d+", text.strip()):
        return int(text)
    return x


def _put(ws: Any, row: int, col: int, value: Any) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, not a formula


def _table_sheet(ws: Any, header: tuple[str, ...], cols: dict[str, np.ndarray], n: int) -> None:
    """A formatted table: bold frozen header with a filter, numbers as numbers, fitted widths."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    for j, name in enumerate(header, start=1):
        _put(ws, 1, j, name)
        numeric = name in (*NUMBER_COLUMNS, "year")
        for i, text in enumerate(cols[name][:n], start=2):
            if text != "":
                _put(ws, i, j, _number(text) if numeric else text)
        width = max([len(name), *(len(t) for t in cols[name][:200])]) + 2
        ws.column_dimensions[get_column_letter(j)].width = min(max(width, 8), 60)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(n + 1, 2)}"


def _text_sheet(ws: Any, text: str) -> None:
    """A text file, one line per row in column A (monospace)."""
    from openpyxl.styles import Font

    font = Font(name="Consolas")
    for i, line in enumerate(text.splitlines(), start=1):
        if line:
            _put(ws, i, 1, line)
            ws.cell(row=i, column=1).font = font
    ws.column_dimensions["A"].width = 120


_README = [
    "Parameter data of an nd-mfa model, as an Excel workbook (written by 'mfa params export').",
    "",
    "How to edit",
    "- Edit the data sheets and 'sources'; then run: mfa run --params THIS_FILE.xlsx",
    "- One value per row. Keep the header row (row 1) and the column names as they are.",
    "- An empty dim cell (region, product, ...) means all labels; an empty year means all years.",
    "- Every value needs a unit in its 'unit' column (e.g. t/yr, kg/vehicle, '1' for a share). "
    "Any unit of the right kind is converted (kt/yr for t/yr); a unit of the wrong kind is an "
    "error. Write t, kt, Mt for tonnes: 'ton' (a US short ton to pint) is refused.",
    "- Every value needs a source: a key of the 'sources' sheet (add a row there for a new "
    "source; an assumption has its own key and a note saying why).",
    "- low/high give the uncertainty range (leave empty for none).",
    "- model.toml, registry.toml and the 'scenario ...' sheets hold the text of these files, one "
    "line per row: edit the text (TOML) in column A. The registry gives each parameter's "
    "canonical unit and bounds.",
    "- Numbers are read as typed or as computed by a formula (save the file in Excel or "
    "LibreOffice so that the results of formulas are stored).",
    "- This README sheet is not read. Any other sheet is read as a data sheet. A row whose "
    "first cell begins with # is a comment, as in the CSV files.",
    "- A mistake is an error naming the sheet, the row and the column; nothing is guessed.",
    "",
]


def _readme(ws: Any, params: ParameterSet, about: dict[str, str],
            scenarios: list[tuple[str, str]]) -> None:
    from openpyxl.styles import Font

    bold = Font(bold=True)
    row = 1
    for line in _README:
        ws.cell(row=row, column=1, value=line or None)
        if line and not line.startswith(("-", "Parameter data")):
            ws.cell(row=row, column=1).font = bold
        row += 1
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheets = [(s, about[s] or "data") for s in about]
    sheets += [(SOURCES_SHEET, "the bibliography: every source key used in the data"),
               (MODEL_SHEET, "model years, dimension labels and counting units (TOML text)"),
               (REGISTRY_SHEET, "one entry per parameter: dims, unit, bounds, interpolation "
                                "(TOML text)")]
    sheets += [(s, f"scenario (TOML text): {text}") for s, text in scenarios]
    row = _readme_table(ws, row, "Sheets", ("sheet", "what it holds"), sheets, bold)
    by_sheet = params.table.groupby("parameter", sort=False)["file"].agg(
        lambda f: ", ".join(dict.fromkeys(Path(x).stem for x in f)))
    entries = [(p, by_sheet.get(p, ""), params.unit(p), ", ".join(e["dims"]), e["description"])
               for p, e in params.registry.items()]
    _readme_table(ws, row + 1, "Parameters", ("parameter", "sheet", "canonical unit", "dims",
                                               "description"), entries, bold)
    for col, width in zip("ABCDE", (28, 60, 16, 26, 80), strict=True):
        ws.column_dimensions[col].width = width


def _readme_table(ws: Any, row: int, title: str, header: tuple[str, ...],
                  rows: list[tuple], bold: Any) -> int:
    ws.cell(row=row, column=1, value=title).font = bold
    row += 1
    for j, h in enumerate(header, start=1):
        ws.cell(row=row, column=j, value=h).font = bold
    for values in rows:
        row += 1
        for j, v in enumerate(values, start=1):
            _put(ws, row, j, v)
    return row + 1
