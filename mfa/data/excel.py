"""A parameter directory as one Excel workbook, for people who edit data in a spreadsheet.

:func:`parameter_workbook` (``mfa params export FILE.xlsx``) writes a valid parameter directory
as a workbook; :func:`read_parameter_workbook` (what :func:`~mfa.data.params.load_parameters`
and ``mfa run --params FILE.xlsx`` call for a ``.xlsx`` path) reads it back with the same checks
as the CSV files. Sheets:

``README``
    What each sheet is, how to edit, the units rule, every parameter with its unit (not read).
one sheet per data file (``drivers``, ``technology``...)
    The columns of the CSV file (``parameter, <dims>, year, value, unit, low, high, source,
    note``), header in row 1, one value per row.
``sources``
    ``sources.csv``: the bibliography.
``model.toml``, ``registry.toml``, ``scenario NAME``
    The text of these files (``scenario NAME``: ``scenarios/NAME.toml``), one line per row in
    column A, so that an error "at line N" is in row N.

Errors name the workbook, the sheet, the Excel row and, for a cell, the column
(``book.xlsx, sheet 'drivers', row 12, column H (value): ...``). openpyxl (extra ``excel``) is
imported only when a workbook is written or read.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from mfa.core.errors import ParameterError, ScenarioError
from mfa.data.files import (
    check_header,
    decode_toml,
    default_params_dir,
    list_data_files,
    read_csv,
    read_input_file,
    sha256,
)
from mfa.data.model_file import ModelFile, parse_model
from mfa.data.parameter_set import ParameterSet
from mfa.data.problems import fmt_list, suggest
from mfa.data.registry import SOURCE_COLUMNS, parse_registry, parse_sources
from mfa.data.tables import Rows, data_columns

__all__ = [
    "MODEL_SHEET",
    "README_SHEET",
    "REGISTRY_SHEET",
    "SCENARIO_PREFIX",
    "SOURCES_SHEET",
    "parameter_workbook",
    "read_parameter_workbook",
    "workbook_scenario",
    "workbook_scenarios",
]

README_SHEET = "README"
SOURCES_SHEET = "sources"
MODEL_SHEET = "model.toml"
REGISTRY_SHEET = "registry.toml"
#: A scenario ``scenarios/NAME.toml`` is the sheet ``"scenario NAME"``.
SCENARIO_PREFIX = "scenario "
_NOT_DATA = (README_SHEET, SOURCES_SHEET, MODEL_SHEET, REGISTRY_SHEET)
_NUMBER_COLUMNS = ("value", "low", "high")
_MAX_SHEET_NAME = 31  # Excel's limit
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_MAX_BASE_DEPTH = 50


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError:
        raise ParameterError('Excel workbooks need openpyxl: pip install "nd-mfa[excel]"') from None
    return openpyxl


# --------------------------------------------------------------------------------- writing
def parameter_workbook(params_dir: str | Path | None = None) -> bytes:
    """A parameter directory as an ``.xlsx`` workbook (the bytes of the file).

    The directory is loaded (and so validated) first: only valid data are exported. Data and
    sources become formatted sheets with the columns of the CSV files (numbers as numbers,
    the rest as text); ``model.toml``, ``registry.toml`` and every ``scenarios/*.toml`` are
    kept as text, one line per row. :func:`read_parameter_workbook` reads the result back into
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

    root = Path(params_dir) if params_dir is not None else default_params_dir()
    params = load_parameters(root)
    openpyxl = _openpyxl()
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
    _readme(readme, params, about, [names[p] for p in scenario_files])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _check_sheet_names(names: dict[Path, str]) -> None:
    seen: dict[str, Path] = {n.lower(): Path(n) for n in _NOT_DATA}
    for path, name in names.items():
        if len(name) > _MAX_SHEET_NAME or _BAD_SHEET_CHARS.search(name):
            raise ParameterError(f"{path}: the sheet name {name!r} is not allowed in Excel (at "
                                 f"most {_MAX_SHEET_NAME} characters, none of []:*?/\\); "
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
        numeric = name in (*_NUMBER_COLUMNS, "year")
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
    "- This README sheet is not read. Any other sheet is read as a data sheet.",
    "- A mistake is an error naming the sheet, the row and the column; nothing is guessed.",
    "",
]


def _readme(ws: Any, params: ParameterSet, about: dict[str, str], scenarios: list[str]) -> None:
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
    sheets += [(s, "scenario overrides (TOML text)") for s in scenarios]
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


# --------------------------------------------------------------------------------- reading
class _Book:
    """The cells of a workbook as text, by sheet: ``{sheet: [(excel row, [cell texts])]}``."""

    def __init__(self, path: Path) -> None:
        openpyxl = _openpyxl()
        self.path = path
        self.raw = read_input_file(path, what="parameter workbook")
        self._openpyxl = openpyxl
        book = self._load(data_only=False)
        self._values: Any = None  # the stored results of formulas, loaded when needed
        self.sheets: dict[str, list[tuple[int, list[str]]]] = {}
        try:
            for ws in book.worksheets:
                ws.reset_dimensions()  # read every cell, whatever used range the file declares
                self.sheets[ws.title] = self._rows(ws)
        finally:
            book.close()
            if self._values is not None:
                self._values.close()

    def _load(self, data_only: bool) -> Any:
        from zipfile import BadZipFile

        try:
            return self._openpyxl.load_workbook(io.BytesIO(self.raw), read_only=True,
                                                data_only=data_only)
        except (BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
            raise ParameterError(f"{self.path}: not an Excel workbook (.xlsx) that can be read: "
                                 f"{str(exc) or type(exc).__name__}") from None

    def where(self, sheet: str) -> str:
        return f"{self.path}, sheet {sheet!r}"

    def _rows(self, ws: Any) -> list[tuple[int, list[str]]]:
        out = []
        for cells in ws.iter_rows():
            texts, row = [], None
            for c in cells:
                if getattr(c, "row", None) is not None:
                    row = c.row
                texts.append(self._text(ws.title, c))
            while texts and texts[-1] == "":
                texts.pop()
            if texts and row is not None:
                out.append((row, texts))
        return out

    def _text(self, sheet: str, cell: Any) -> str:
        """A cell as the text a CSV file would hold."""
        value = cell.value
        if getattr(cell, "data_type", None) == "f":
            value = self._formula_value(sheet, cell)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float):
            return repr(value) if isinstance(value, float) else str(value)
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return str(value).strip()

    def _formula_value(self, sheet: str, cell: Any) -> Any:
        if self._values is None:
            self._values = self._load(data_only=True)
        value = self._values[sheet][cell.coordinate].value
        if value is None:
            raise ParameterError(
                f"{self.where(sheet)}, row {cell.row}, column {cell.column_letter}: the formula "
                f"{cell.value!r} has no stored result (the file was not saved by a spreadsheet "
                f"program); open and save it in Excel or LibreOffice, or type the number")
        return value

    def need(self, sheet: str, what: str) -> list[tuple[int, list[str]]]:
        if sheet not in self.sheets:
            raise ParameterError(
                f"{self.path}: no sheet {sheet!r} ({what}); sheets: {fmt_list(self.sheets)}"
                f"{suggest(sheet, list(self.sheets))} (a workbook written by 'mfa params "
                f"export' has it)")
        return self.sheets[sheet]

    def toml(self, sheet: str, what: str, error: type[Exception] = ParameterError
             ) -> tuple[bytes, dict]:
        """The text of a TOML sheet (column A, row N = line N) and its parsed document."""
        rows = self.need(sheet, what)
        last = rows[-1][0] if rows else 0
        lines = [""] * last
        for r, texts in rows:
            if any(texts[1:]):
                raise error(f"{self.where(sheet)}, row {r}: text beyond column A; the TOML "
                            f"text is in column A, one line per row")
            lines[r - 1] = texts[0] if texts else ""
        raw = ("\n".join(lines) + "\n").encode("utf-8")  # as the file was, with its last newline
        return raw, decode_toml(raw, Path(self.where(sheet)), error)

    def table(self, sheet: str, expected: tuple[str, ...], optional: tuple[str, ...] = ()
              ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, str]]:
        """Excel rows, columns by header name and column letters of a table sheet."""
        from openpyxl.utils import get_column_letter

        rows = self.sheets[sheet]
        where = self.where(sheet)
        if not rows:
            raise ParameterError(f"{where}: empty sheet, expected the header row "
                                 f"{', '.join(expected)}")
        head_row, header = rows[0]
        width = len(header)
        for r, texts in rows[1:]:
            if len(texts) > width:
                raise ParameterError(
                    f"{where}, row {r}, column {get_column_letter(width + 1)}: a value beyond "
                    f"the last column of the header ({header[-1]!r}); delete it or name its "
                    f"column")
        check_header(where, head_row, header, expected, optional, line_word="row")
        body = [t + [""] * (width - len(t)) for _, t in rows[1:]]
        cols = {h: np.array([t[j] for t in body], dtype=object) for j, h in enumerate(header)}
        for c in expected:
            cols.setdefault(c, np.full(len(body), "", dtype=object))
        letters = {h: get_column_letter(j) for j, h in enumerate(header, start=1)}
        return np.array([r for r, _ in rows[1:]], dtype=np.int64), cols, letters


def read_parameter_workbook(path: str | Path) -> ParameterSet:
    """Read and validate a parameter workbook written by :func:`parameter_workbook`.

    The same checks as for a parameter directory (:func:`mfa.data.params.load_parameters`,
    which calls this for an ``.xlsx`` path); a number typed in a cell is read as the CSV text
    of that number, so the values are the same as from the CSV files.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.xlsx`` file.

    Returns
    -------
    ParameterSet
        ``path`` is the workbook; ``table["file"]`` is the sheet and ``table["line"]`` the
        Excel row of every data row.

    Raises
    ------
    ParameterError
        Naming the workbook, the sheet, the row and the column (or the registry entry).
    """
    from mfa.core.units import UnitError, define_units
    from mfa.data.params import validated_set

    path = Path(path)
    book = _Book(path)
    files = {path.name: sha256(book.raw)}
    model = parse_model(book.toml(MODEL_SHEET, "model years and dimensions")[1],
                        book.where(MODEL_SHEET))
    try:
        define_units(list(model.units), source=book.where(MODEL_SHEET))
    except UnitError as exc:
        raise ParameterError(f"{book.where(MODEL_SHEET)}, [units]: {exc}") from None
    registry = parse_registry(book.toml(REGISTRY_SHEET, "the parameter registry")[1], model,
                              book.where(REGISTRY_SHEET))
    book.need(SOURCES_SHEET, "the bibliography")
    lines, cols, _ = book.table(SOURCES_SHEET, SOURCE_COLUMNS)
    sources = parse_sources(lines, cols, book.where(SOURCES_SHEET), line_word="row")
    data = [s for s in book.sheets if s not in _NOT_DATA and not s.startswith(SCENARIO_PREFIX)]
    if not data:
        raise ParameterError(f"{path}: no data sheets (sheets other than "
                             f"{fmt_list(_NOT_DATA)} and 'scenario ...')")
    rows = _data_rows(book, data, model)
    return validated_set(rows, model, registry, sources, files, path, [Path(s) for s in data],
                         book.where(REGISTRY_SHEET))


def _data_rows(book: _Book, sheets: list[str], model: ModelFile) -> Rows:
    expected = data_columns(model.dims)
    parts: dict[str, list[np.ndarray]] = {c: [] for c in expected}
    lines, fidx, letters = [], [], []
    for k, sheet in enumerate(sheets):
        line, cols, where = book.table(sheet, expected, optional=model.dims)
        for c in expected:
            parts[c].append(cols[c])
        lines.append(line)
        fidx.append(np.full(len(line), k, dtype=np.int64))
        letters.append(where)
    names = [book.where(s) for s in sheets]

    def locate(k: int, row: int, column: str | None) -> str:
        cell = f", column {letters[k][column]} ({column})" if column in letters[k] else ""
        return f"{names[k]}, row {row}{cell}"

    return Rows(names, np.concatenate(fidx), np.concatenate(lines),
                {c: np.concatenate(v) for c, v in parts.items()}, locate=locate)


# ------------------------------------------------------------------------------- scenarios
def _scenario_docs(book: _Book) -> dict[str, tuple[Path, bytes]]:
    """``{stem: (place for messages, TOML bytes)}`` of the scenario sheets."""
    out = {}
    for sheet in book.sheets:
        if sheet.startswith(SCENARIO_PREFIX):
            raw, _ = book.toml(sheet, "a scenario", ScenarioError)
            out[sheet[len(SCENARIO_PREFIX):]] = (Path(book.where(sheet)), raw)
    return out


def _dims(book: _Book) -> tuple[str, ...] | None:
    try:
        dims = book.toml(MODEL_SHEET, "model years and dimensions")[1].get("dimensions")
    except ParameterError:  # reported by read_parameter_workbook
        return None
    return tuple(dims) if isinstance(dims, dict) else None


def workbook_scenario(name: str, path: str | Path, _book: _Book | None = None) -> Any:
    """The scenario ``name`` of a parameter workbook (sheet ``"scenario NAME"``), with its
    ``base`` chain resolved among the workbook's scenario sheets.

    Returns
    -------
    mfa.data.scenarios.Scenario

    Raises
    ------
    ScenarioError
        Unknown name (the message lists the workbook's scenarios), a broken sheet, a base cycle.
    """
    from mfa.data.scenario_files import Scenario, _read_file

    book = _book or _Book(Path(path))
    docs, dims = _scenario_docs(book), _dims(book)
    owns: list[dict] = []
    current: str | None = name
    while current is not None:
        stem = _find(current, docs, book.path, owns)
        if any(o["stem"] == stem for o in owns):
            cycle = " -> ".join([*(o["stem"] for o in owns), stem])
            raise ScenarioError(f"{owns[0]['path']}: base cycle: {cycle}")
        if len(owns) == _MAX_BASE_DEPTH:
            raise ScenarioError(f"{owns[0]['path']}: the base chain is longer than "
                                f"{_MAX_BASE_DEPTH} scenarios; shorten it")
        own = _read_file(docs[stem][0], dims, docs[stem][1])
        owns.append({**own, "stem": stem})
        current = own["base"]
    scenario = None
    for own in reversed(owns):
        own.pop("stem")
        scenario = Scenario(**own, base_scenario=scenario)
    return scenario


def _find(name: str, docs: dict[str, tuple[Path, bytes]], path: Path, owns: list[dict]) -> str:
    if name in docs:
        return name
    for stem, (_, raw) in docs.items():
        try:
            if decode_toml(raw, path, ScenarioError).get("name") == name:
                return stem
        except ScenarioError:
            continue
    avail = sorted(docs)
    msg = (f"unknown scenario {name!r}{suggest(name, avail)}; available in {path} (sheets "
           f"'{SCENARIO_PREFIX}NAME'): {fmt_list(avail) if avail else '(none)'}")
    if owns:
        msg = f"{owns[-1]['path']}: base {name!r}: {msg}"
    raise ScenarioError(msg)


def workbook_scenarios(path: str | Path) -> list:
    """All scenarios of a parameter workbook, sorted by name (list of ``Scenario``)."""
    book = _Book(Path(path))
    return sorted((workbook_scenario(stem, path, book) for stem in _scenario_docs(book)),
                  key=lambda s: s.name)
