"""Reading a parameter workbook (:func:`read_parameter_workbook`) and its scenarios."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from mfa.core.errors import ParameterError, ScenarioError
from mfa.data.excel.sheets import (
    MAX_BASE_DEPTH,
    MODEL_SHEET,
    NOT_DATA,
    REGISTRY_SHEET,
    SCENARIO_PREFIX,
    SOURCES_SHEET,
    openpyxl_module,
)
from mfa.data.files import check_header, decode_toml, read_input_file, sha256
from mfa.data.model_file import ModelFile, parse_model
from mfa.data.parameter_set import ParameterSet
from mfa.data.problems import fmt_list, suggest
from mfa.data.registry import SOURCE_COLUMNS, parse_registry, parse_sources
from mfa.data.tables import Rows, data_columns

__all__ = ["read_parameter_workbook", "workbook_scenario", "workbook_scenarios"]


#: The cells of the workbooks read last, by the sha256 of the file: a command reads its
#: workbook more than once (scenario, inputs, parameters), parsing it costs ~0.5 s.
_PARSED: dict[str, dict[str, list[tuple[int, list[str]]]]] = {}
_PARSED_MAX = 4


class _Book:
    """The cells of a workbook as text, by sheet: ``{sheet: [(excel row, [cell texts])]}``."""

    def __init__(self, path: Path) -> None:
        openpyxl = openpyxl_module()
        self.path = path
        self.raw = read_input_file(path, what="parameter workbook")
        self.sha256 = sha256(self.raw)
        cached = _PARSED.pop(self.sha256, None)  # the same bytes: the same cells
        if cached is None:
            self._openpyxl = openpyxl
            cached = self._parse()
        _PARSED[self.sha256] = cached
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        self.sheets: dict[str, list[tuple[int, list[str]]]] = cached

    def _parse(self) -> dict[str, list[tuple[int, list[str]]]]:
        book = self._load(data_only=False)
        self._values: Any = None  # the stored results of formulas, loaded when needed
        sheets = {}
        try:
            for ws in book.worksheets:
                ws.reset_dimensions()  # read every cell, whatever used range the file declares
                sheets[ws.title] = self._rows(ws)
        finally:
            book.close()
            if self._values is not None:
                self._values.close()
        return sheets

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
        return str(value)

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

        rows = []
        for r, texts in self.sheets[sheet]:  # cells stripped, as in a CSV file
            texts = [t.strip() for t in texts]
            while texts and texts[-1] == "":
                texts.pop()
            if texts and not texts[0].startswith("#"):  # "#" in column A: a comment row
                rows.append((r, texts))
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
    files = {path.name: book.sha256}
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
    data = [s for s in book.sheets if s not in NOT_DATA and not s.startswith(SCENARIO_PREFIX)]
    if not data:
        raise ParameterError(f"{path}: no data sheets (sheets other than "
                             f"{fmt_list(NOT_DATA)} and 'scenario ...')")
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
        if len(owns) == MAX_BASE_DEPTH:
            raise ScenarioError(f"{owns[0]['path']}: the base chain is longer than "
                                f"{MAX_BASE_DEPTH} scenarios; shorten it")
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
