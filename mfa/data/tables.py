"""The data files: rows in long format, one value per row, read, checked and converted.

Header: ``parameter, <declared dims, any order, each optional>, year, value, unit, low, high,
source, note``. :func:`read_rows` reads every data file into one set of columns,
:func:`check_rows` checks every row (names, labels, numbers, years, sources, units, bounds,
duplicates) and converts the numbers to the canonical units; every problem names the file and
the line. Building the arrays from the rows (wildcards, precedence, interpolation) is in
:mod:`mfa.data.build`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mfa.core.units import UnitError, conversion_factor, unit_string
from mfa.data.checks import (
    ambiguous_unit_message,
    bounds,
    implausible_message,
    with_unit,
    year_outside_message,
    year_span,
)
from mfa.data.files import read_csv
from mfa.data.model_file import ModelFile
from mfa.data.problems import Problems, fmt_list, suggest

__all__ = ["ALL_YEARS", "DATA_COLUMNS", "Rows", "check_rows", "data_columns", "read_rows",
           "rows_table"]

#: Columns of a data file besides the dims, before (``parameter``) and after them.
_BEFORE_DIMS = ("parameter",)
_AFTER_DIMS = ("year", "value", "unit", "low", "high", "source", "note")
#: Year key of an empty-year (constant) row.
ALL_YEARS = np.iinfo(np.int64).min


def data_columns(dims: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The header of a data file for a model with the label dims ``dims``."""
    return (*_BEFORE_DIMS, *dims, *_AFTER_DIMS)


#: Header of the data files of the default (neodymium) data, dims ``region, product, stage``.
DATA_COLUMNS: tuple[str, ...] = data_columns(("region", "product", "stage"))


@dataclass
class Rows:
    """All data rows as columns, with what the checks found out about them.

    ``lab[d]`` is the label index of every row along dim ``d`` (-1: empty, -2: unknown);
    ``pidx`` the parameter index (-1: unknown); ``value``/``low``/``high`` are in the canonical
    unit (``low``/``high`` equal the value where the row gives no range).
    """

    fnames: list[str]
    fidx: np.ndarray
    line: np.ndarray
    cols: dict[str, np.ndarray]
    problems: Problems = field(default_factory=Problems)
    names: list[str] = field(default_factory=list)
    pidx: np.ndarray | None = None
    lab: dict[str, np.ndarray] = field(default_factory=dict)
    year_given: np.ndarray | None = None
    year: np.ndarray | None = None
    value: np.ndarray | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    #: ``(file index, line, column or None) -> place`` for messages; None: ``"FILE, line N"``
    #: (a workbook names its sheet, row and column, :mod:`mfa.data.excel`).
    locate: Callable[[int, int, str | None], str] | None = None

    @property
    def n(self) -> int:
        return len(self.line)

    def at(self, r: int, column: str | None = None) -> str:
        """``"FILE, line N"`` of row ``r`` (``column``: the column the message is about)."""
        if self.locate is not None:
            return self.locate(int(self.fidx[r]), int(self.line[r]), column)
        return f"{self.fnames[self.fidx[r]]}, line {self.line[r]}"

    def add(self, r: int, msg: str, column: str | None = None) -> None:
        """Record a problem of row ``r`` (in ``column``, if it is about one cell)."""
        self.problems.add(f"{self.at(r, column)}: {msg}", int(self.fidx[r]), int(self.line[r]))

    def add_rows(self, mask: np.ndarray, make: Callable[[int], str],
                 column: str | None = None) -> None:
        """Record ``make(r)`` for every row ``r`` where ``mask`` is True."""
        for i in np.nonzero(mask)[0]:
            self.add(int(i), make(i), column)


def read_rows(data_files: list[Path], dims: tuple[str, ...], files: dict[str, str],
              root: Path) -> Rows:
    """Read every data file; a dim column may be absent (empty cells), others are errors."""
    expected = data_columns(dims)
    parts: dict[str, list[np.ndarray]] = {c: [] for c in expected}
    line_parts, file_parts = [], []
    for k, fpath in enumerate(data_files):
        lines, cols = read_csv(fpath, expected, files, root, optional=dims)
        for c in expected:
            parts[c].append(cols[c])
        line_parts.append(lines)
        file_parts.append(np.full(len(lines), k, dtype=np.int64))
    cols = {c: np.concatenate(v) if v else np.array([], dtype=object) for c, v in parts.items()}
    return Rows([str(p) for p in data_files], np.concatenate(file_parts),
                np.concatenate(line_parts), cols)


def _to_float(col: np.ndarray) -> np.ndarray:
    """Strings -> float (NaN for empty or text)."""
    return pd.to_numeric(pd.Series(col, dtype=object), errors="coerce").to_numpy(dtype=float)


def check_rows(rows: Rows, registry: dict[str, dict], model: ModelFile,
               sources: dict[str, dict]) -> None:
    """Check and convert every row; problems are collected in ``rows.problems``."""
    rows.names = list(registry)
    _parameters(rows, registry)
    for d in model.dims:
        _labels(rows, registry, d, model.coords[d])
    raw = _numbers(rows, registry, model)
    _sources(rows, sources)
    factor = _unit_factors(rows, registry)
    value, low_raw, high_raw = raw
    with np.errstate(over="ignore"):  # an overflow to inf is reported below
        rows.value = value * factor
        rows.low = np.where(np.isfinite(low_raw), low_raw, value) * factor
        rows.high = np.where(np.isfinite(high_raw), high_raw, value) * factor
    _row_bounds(rows, registry)
    _duplicates(rows, model.dims)


def _parameters(rows: Rows, registry: dict[str, dict]) -> None:
    names, cols, n = rows.names, rows.cols, rows.n
    pnames, pinv = np.unique(cols["parameter"], return_inverse=True)
    pmap = np.array([names.index(p) if p in registry else -1 for p in pnames], dtype=np.int64)
    rows.pidx = pmap[pinv] if n else np.zeros(0, dtype=np.int64)
    rows.add_rows(rows.pidx < 0, lambda i: (
        "empty parameter name" if not cols["parameter"][i] else
        f"unknown parameter {cols['parameter'][i]!r}{suggest(cols['parameter'][i], names)} "
        f"(not in registry.toml)"), "parameter")


def _has_dim(rows: Rows, registry: dict[str, dict], d: str) -> np.ndarray:
    """Per row: whether its parameter has dim ``d`` (False for unknown parameters)."""
    flags = np.array([d in registry[p]["dims"] for p in rows.names] + [False])
    return flags[np.where(rows.pidx >= 0, rows.pidx, len(rows.names))]


def _labels(rows: Rows, registry: dict[str, dict], d: str, labels: list[str]) -> None:
    cols, known = rows.cols, rows.pidx >= 0
    col = cols[d]
    u, inv = np.unique(col, return_inverse=True)
    umap = np.array([-1 if x == "" else (labels.index(x) if x in labels else -2) for x in u],
                    dtype=np.int64)
    li = umap[inv] if rows.n else np.zeros(0, dtype=np.int64)
    rows.lab[d] = li
    not_dim = known & (li != -1) & ~_has_dim(rows, registry, d)
    rows.add_rows(not_dim, lambda i: (
        f"{d} {col[i]!r} given, but parameter {cols['parameter'][i]!r} has no {d} dim "
        f"(dims {registry[cols['parameter'][i]]['dims']}); leave the {d} cell empty"), d)
    rows.add_rows(known & (li == -2) & ~not_dim, lambda i: (
        f"unknown {d} {col[i]!r}{suggest(col[i], labels)}; allowed: {fmt_list(labels)}"), d)
    ok = np.ones(rows.n, dtype=bool)
    for j, p in enumerate(rows.names):
        chosen = registry[p]["labels"].get(d)
        if chosen is None:
            continue
        allowed = np.isin(np.asarray(labels, dtype=object), chosen)
        sel = (rows.pidx == j) & (li >= 0)
        ok[sel] = allowed[li[sel]]
    rows.add_rows(known & ~ok, lambda i: (
        f"{d} {col[i]!r} is not one of the {d} labels of parameter {cols['parameter'][i]!r}: "
        f"{fmt_list(registry[cols['parameter'][i]]['labels'][d])} (registry.toml labels)"), d)


def _numbers(rows: Rows, registry: dict[str, dict],
             model: ModelFile) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, ranges and years as numbers; sets ``rows.year_given``, ``rows.year``."""
    cols, known, names = rows.cols, rows.pidx >= 0, rows.names
    value, low_raw, high_raw = (_to_float(cols[c]) for c in ("value", "low", "high"))
    year_f = _to_float(cols["year"])
    rows.add_rows(known & ~np.isfinite(value), lambda i: (
        "empty value; expected a number" if not cols["value"][i] else
        f"value {cols['value'][i]!r} is not a finite number"), "value")
    for c, arr in (("low", low_raw), ("high", high_raw)):
        rows.add_rows(known & (cols[c] != "") & ~np.isfinite(arr), lambda i, c=c: (
            f"{c} {cols[c][i]!r} is not a finite number (leave it empty for no range)"), c)
    year_given = cols["year"] != ""
    bad_year = year_given & ~(np.isfinite(year_f) & (np.round(year_f) == year_f))
    rows.add_rows(known & bad_year, lambda i: (
        f"year {cols['year'][i]!r} is not an integer year (leave it empty for all years)"), "year")
    no_time = known & year_given & ~_has_dim(rows, registry, "time")
    rows.add_rows(no_time & ~bad_year, lambda i: (
        f"year {cols['year'][i]} given, but parameter {cols['parameter'][i]!r} has no time dim "
        f"(dims {registry[cols['parameter'][i]]['dims']}); leave the year cell empty"), "year")
    year_ok = year_given & ~bad_year
    rows.year_given = year_given
    rows.year = np.where(year_ok & (np.abs(year_f) < 1e9), np.nan_to_num(year_f),
                         0).astype(np.int64)
    # data years outside the model years: a typo (2102 for 2012) unless the registry allows them
    spans = np.array([year_span(registry[p], model.coords) for p in names] + [(0, 0)])
    pk = np.where(known, rows.pidx, len(names))
    outside = known & year_ok & ~no_time & ((year_f < spans[pk, 0]) | (year_f > spans[pk, 1]))
    rows.add_rows(outside, lambda i: year_outside_message(
        cols["year"][i], names[rows.pidx[i]], registry[names[rows.pidx[i]]], model.coords), "year")
    return value, low_raw, high_raw


def _sources(rows: Rows, sources: dict[str, dict]) -> None:
    src, known = rows.cols["source"], rows.pidx >= 0
    rows.add_rows(known & (src == ""), lambda i: (
        "empty source; every value needs a key from sources.csv (an assumption has a key such "
        "as 'assumption' and a note saying why)"), "source")
    src_known = np.isin(src, list(sources)) if rows.n else np.zeros(0, dtype=bool)
    rows.add_rows(known & (src != "") & ~src_known, lambda i: (
        f"source {src[i]!r}{suggest(src[i], list(sources))} is not a key in sources.csv"), "source")


def _unit_factors(rows: Rows, registry: dict[str, dict]) -> np.ndarray:
    """Conversion factor of every row to its parameter's unit (NaN where it has none)."""
    factor = np.full(rows.n, np.nan)
    if not rows.n:
        return factor
    ucol, names = rows.cols["unit"], rows.names
    key = np.char.add(np.char.add(rows.cols["parameter"].astype(str), "\x00"), ucol.astype(str))
    _, first, uinv = np.unique(key, return_index=True, return_inverse=True)
    for i, r in enumerate(first):
        j = rows.pidx[r]
        if j < 0:
            continue
        same = np.nonzero(uinv == i)[0]
        more = len(same) - 1
        p, unit = names[j], ucol[r]
        if unit == "":
            rows.add(r, f"empty unit for parameter {p!r}; every value needs a unit (e.g. "
                        f"{unit_string(registry[p]['unit'])!r}; '1' for a share)"
                        + (f" (same on {more} more rows)" if more else ""), "unit")
            continue
        msg = ambiguous_unit_message(unit)
        if msg is None:
            try:
                factor[same] = conversion_factor(unit, registry[p]["unit"],
                                                 f"unit of parameter {p!r}")
            except UnitError as exc:
                msg = str(exc)
        if msg is not None:
            rows.add(r, msg + (f" (same unit on {more} more rows)" if more else ""), "unit")
    return factor


def _row_bounds(rows: Rows, registry: dict[str, dict]) -> None:
    """Overflow, ``low <= value <= high``, bounds and plausibility bounds of every row."""
    cols, names, pidx = rows.cols, rows.names, rows.pidx
    v, lo, hi = rows.value, rows.low, rows.high
    ok = (pidx >= 0) & ~np.isnan(v) & ~np.isnan(lo) & ~np.isnan(hi)
    overflow = ok & ~(np.isfinite(v) & np.isfinite(lo) & np.isfinite(hi))
    rows.add_rows(overflow, lambda i: (
        f"value {cols['value'][i]} {cols['unit'][i]} (or its low/high) is too large: not a "
        f"finite number in {unit_string(registry[names[pidx[i]]]['unit'])}"), "value")
    ok &= ~overflow
    rows.add_rows(ok & (lo > v), lambda i: (
        f"low {cols['low'][i]} is larger than value {cols['value'][i]}"), "low")
    rows.add_rows(ok & (hi < v), lambda i: (
        f"high {cols['high'][i]} is smaller than value {cols['value'][i]}"), "high")

    def per_param(get: Callable[[dict], float | None]) -> np.ndarray:
        table = np.array([np.nan if get(registry[p]) is None else get(registry[p]) for p in names]
                         + [np.nan])
        return table[np.where(pidx >= 0, pidx, len(names))]

    bmin, bmax = per_param(lambda e: bounds(e)[0]), per_param(lambda e: bounds(e)[1])
    pmin, pmax = per_param(lambda e: e["plausible_min"]), per_param(lambda e: e["plausible_max"])
    for what, arr in (("value", v), ("low", lo), ("high", hi)):
        # an empty low/high cell equals the value: report the value only
        given = ok if what == "value" else ok & (cols[what] != "")
        with np.errstate(invalid="ignore"):
            below, above = given & (arr < bmin), given & (arr > bmax)
            implausible = given & ((~below & (arr < pmin)) | (~above & (arr > pmax)))

        def text(i: int, what: str = what, arr: np.ndarray = arr) -> str:
            p = names[pidx[i]]
            return f"{what} {with_unit(arr[i], registry[p]['unit'])} of parameter {p!r}"

        rows.add_rows(below, lambda i, t=text: f"{t(i)} is below its minimum {bmin[i]:g}", what)
        rows.add_rows(above, lambda i, t=text: f"{t(i)} is above its maximum {bmax[i]:g}", what)
        rows.add_rows(implausible, lambda i, what=what, arr=arr: implausible_message(
            what, arr[i], names[pidx[i]], registry[names[pidx[i]]]), what)


def _labels_text(rows: Rows, dims: tuple[str, ...], i: int) -> str:
    parts = [f"{d}={rows.cols[d][i]}" for d in dims if rows.cols[d][i]]
    return ", ".join(parts) if parts else "all labels"


def _duplicates(rows: Rows, dims: tuple[str, ...]) -> None:
    """Two rows for the same parameter, labels and year."""
    if not rows.n:
        return
    ykey = np.where(rows.year_given, rows.year, ALL_YEARS)
    label_keys = [rows.lab[d] for d in dims]
    order = np.lexsort((rows.line, rows.fidx, ykey, *label_keys[::-1], rows.pidx))
    keys = np.stack([rows.pidx, *label_keys, ykey])[:, order]
    same = np.all(keys[:, 1:] == keys[:, :-1], axis=0) & (rows.pidx >= 0)[order][1:]
    for k in np.nonzero(same)[0]:
        a, b = order[k], order[k + 1]
        yr = "all years" if not rows.year_given[b] else f"year {rows.year[b]}"
        rows.add(b, f"duplicate row for parameter {rows.cols['parameter'][b]!r} "
                    f"({_labels_text(rows, dims, b)}, {yr}); first given in {rows.at(a)}")


def rows_table(rows: Rows, registry: dict[str, dict], dims: tuple[str, ...],
               data_files: list[Path]) -> pd.DataFrame:
    """The validated long table: the data columns in canonical units, plus ``file``, ``line``."""
    names, cols = rows.names, rows.cols
    low_given = np.isfinite(_to_float(cols["low"]))
    high_given = np.isfinite(_to_float(cols["high"]))
    table = pd.DataFrame({
        "parameter": cols["parameter"],
        **{d: cols[d] for d in dims},
        "year": pd.array(np.where(rows.year_given, rows.year, 0), dtype="Int64"),
        "value": rows.value,
        "unit": np.array([unit_string(registry[p]["unit"]) for p in names],
                         dtype=object)[rows.pidx],
        "low": np.where(low_given, rows.low, np.nan),
        "high": np.where(high_given, rows.high, np.nan),
        "source": cols["source"],
        "note": cols["note"],
        "file": [data_files[k].name for k in rows.fidx],
        "line": rows.line,
    })
    table.loc[~rows.year_given, "year"] = pd.NA
    return table
