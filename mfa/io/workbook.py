"""The results workbook for people: a formatted summary, then one sheet per variable.

:func:`write_excel` (``mfa run --excel FILE.xlsx``) writes

``Summary``
    The headline indicators of the run, one row each, years across the columns, the unit of
    every row in its own column, numbers formatted (thousands separators, one decimal for %).
    The rows are given by the caller (the CLI passes the model's own summary rows); without
    them, the world totals of every mass variable (``t``, ``t/yr``) over time.
``variables``
    One row per variable: its sheet, long name, unit and dims.
one sheet per variable
    A title row with the long name and the unit, then a table: one column per dim other than
    ``time``, the unit, and the years across the columns (a variable without ``time`` has one
    ``value`` column). Header frozen, columns fitted.
``metadata``
    The dataset's attributes (provenance).

The module is generic: it knows no material and no model. openpyxl (extra ``excel``) is imported
only when a workbook is written.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mfa.core.errors import MfaError
from mfa.io.outputs import OutputSet, checkpoint, joined, write_bytes

__all__ = ["SummaryRow", "sheet_names", "workbook_bytes", "write_excel"]

#: A summary row: ``(label, series over time, format)``; ``format`` is ``"t"`` (whole
#: numbers with thousands separators) or ``"%"`` (one decimal), as printed by ``mfa run``.
SummaryRow = tuple[str, xr.DataArray, str]

_EXCEL_MAX_ROWS = 1_048_576
_EXCEL_MAX_COLUMNS = 16_384
_RESERVED = ("Summary", "variables", "metadata")
_FORMATS = {"t": "#,##0", "%": "0.0"}


def sheet_names(names: Sequence[str]) -> dict[str, str]:
    """Unique Excel sheet names (31 characters, none of ``[]:*?/\\``) for variable names.

    Names are cut to 31 characters and made unique (Excel ignores letter case) with ``~2``,
    ``~3``...; the names of the fixed sheets (``Summary``, ``variables``, ``metadata``) are
    never taken.
    """
    used = {s.lower() for s in _RESERVED}
    out = {}
    for n in names:
        base = "".join("_" if c in "[]:*?/\\" else c for c in n)[:31] or "variable"
        sheet, k = base, 1
        while sheet.lower() in used:
            k += 1
            sheet = f"{base[: 31 - len(str(k)) - 1]}~{k}"
        used.add(sheet.lower())
        out[n] = sheet
    return out


def _default_summary(ds: xr.Dataset) -> list[SummaryRow]:
    """World totals of the mass variables over time."""
    rows = []
    for v in ds.data_vars:
        da = ds[v]
        if "time" in da.dims and da.attrs.get("units") in ("t/yr", "t"):
            rows.append((f"{v} (world) [{da.attrs['units']}]",
                         da.sum([d for d in da.dims if d != "time"]), "t"))
    return rows


def _styles() -> dict[str, Any]:
    from openpyxl.styles import Alignment, Font, PatternFill

    return {"bold": Font(bold=True), "title": Font(bold=True, size=14),
            "fill": PatternFill("solid", fgColor="DDEBF7"),
            "wrap": Alignment(wrap_text=True, vertical="top")}


def _header(ws: Any, row: int, values: Sequence[Any], st: dict[str, Any]) -> None:
    for j, v in enumerate(values, start=1):
        cell = ws.cell(row=row, column=j, value=v)
        cell.font, cell.fill = st["bold"], st["fill"]


def _summary_sheet(ws: Any, ds: xr.Dataset, rows: list[SummaryRow], st: dict[str, Any]) -> None:
    from openpyxl.utils import get_column_letter

    years = [int(t) for t in ds["time"].values]
    title = f"{ds.attrs.get('material', '')} results, scenario {ds.attrs.get('scenario', '?')}"
    ws.cell(row=1, column=1, value=title.strip()).font = st["title"]
    ws.cell(row=2, column=1, value=f"model {ds.attrs.get('model', '?')}; created "
                                   f"{ds.attrs.get('created', '?')}; values per year")
    _header(ws, 4, ["indicator", "unit", *years], st)
    for i, (label, series, kind) in enumerate(rows, start=5):
        unit = label[label.rfind("[") + 1:-1] if label.endswith("]") else ""
        ws.cell(row=i, column=1, value=label)
        ws.cell(row=i, column=2, value=unit)
        values = series.sel(time=years).values if "time" in series.dims else None
        if values is None or values.ndim != 1:
            raise MfaError(f"summary row {label!r}: expected a series over time, got dims "
                           f"{tuple(series.dims)}")
        for j, x in enumerate(values, start=3):
            if np.isfinite(x):
                ws.cell(row=i, column=j, value=float(x)).number_format = _FORMATS.get(kind, "General")
    ws.column_dimensions["A"].width = max([12, *(len(r[0]) + 2 for r in rows)])
    ws.column_dimensions["B"].width = 8
    for j in range(3, len(years) + 3):
        ws.column_dimensions[get_column_letter(j)].width = 11
    ws.freeze_panes = "C5"


def _number_format(unit: str, values: np.ndarray) -> str:
    finite = np.abs(values[np.isfinite(values)])
    if unit in ("1", "", "dimensionless"):
        return "0.0000"
    return "#,##0" if finite.size and finite.max() >= 100 else "#,##0.00"


def _variable_sheet(ws: Any, name: str, da: xr.DataArray, st: dict[str, Any]) -> None:
    from openpyxl.utils import get_column_letter

    unit = str(da.attrs.get("units", ""))
    long_name = str(da.attrs.get("long_name", ""))
    ws.cell(row=1, column=1, value=f"{name}: {long_name} [{unit}]" if long_name
            else f"{name} [{unit}]").font = st["title"]
    label_dims = [d for d in da.dims if d != "time"]
    if "time" in da.dims:
        years = [int(t) for t in da["time"].values]
        table = da.transpose(*label_dims, "time").values.reshape(-1, len(years))
    else:
        years = []
        table = da.values.reshape(-1, 1)
    _header(ws, 3, [*label_dims, "unit", *(years or [f"value [{unit}]"])], st)
    labels = np.array(np.meshgrid(*[da[d].values for d in label_dims], indexing="ij")
                      ).reshape(len(label_dims), -1) if label_dims else np.empty((0, 1))
    fmt = _number_format(unit, table)
    first = len(label_dims) + 2
    for i in range(table.shape[0]):
        r = i + 4
        for k in range(len(label_dims)):
            ws.cell(row=r, column=k + 1, value=_plain(labels[k, i]))
        ws.cell(row=r, column=first - 1, value=unit)
        for j, x in enumerate(table[i], start=first):
            if np.isfinite(x):
                ws.cell(row=r, column=j, value=float(x)).number_format = fmt
    for k, d in enumerate(label_dims, start=1):
        width = max([len(str(d)), *(len(str(x)) for x in da[d].values)]) + 2
        ws.column_dimensions[get_column_letter(k)].width = min(width, 40)
    ws.column_dimensions[get_column_letter(first - 1)].width = max(6, len(unit) + 2)
    for j in range(first, first + table.shape[1]):
        ws.column_dimensions[get_column_letter(j)].width = 11
    ws.freeze_panes = ws.cell(row=4, column=first).coordinate


def _plain(x: Any) -> Any:
    x = x.item() if hasattr(x, "item") else x
    return x if isinstance(x, int | float | str) else str(x)


def _check_size(ds: xr.Dataset, names: list[str]) -> None:
    for n in names:
        da = ds[n]
        cols = da.sizes.get("time", 1) + len(da.dims) + 1
        rows = int(np.prod([s for d, s in da.sizes.items() if d != "time"])) + 3
        if rows > _EXCEL_MAX_ROWS or cols > _EXCEL_MAX_COLUMNS:
            raise MfaError(f"variable {n!r} needs {rows} rows and {cols} columns, more than an "
                           f"Excel sheet holds; use write_csv_tables or write_netcdf")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return json.dumps(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, int | float | str) else str(value)


def workbook_bytes(ds: xr.Dataset, summary: list[SummaryRow] | None = None) -> bytes:
    """The results workbook of :func:`write_excel`, in memory."""
    try:
        import openpyxl
    except ImportError:
        raise MfaError('writing Excel files needs openpyxl: pip install "nd-mfa[excel]"') from None
    names = [str(n) for n in ds.data_vars]
    _check_size(ds, names)
    sheets = sheet_names(names)
    st = _styles()
    book = openpyxl.Workbook()
    _summary_sheet(book.active, ds, _default_summary(ds) if summary is None else summary, st)
    book.active.title = "Summary"
    index = book.create_sheet("variables")
    _header(index, 1, ["variable", "sheet", "long name", "unit", "dims"], st)
    for i, n in enumerate(names, start=2):
        for j, v in enumerate((n, sheets[n], str(ds[n].attrs.get("long_name", "")),
                               str(ds[n].attrs.get("units", "")), ", ".join(map(str, ds[n].dims))),
                              start=1):
            index.cell(row=i, column=j, value=v)
    for col, width in zip("ABCDE", (32, 32, 70, 10, 30), strict=True):
        index.column_dimensions[col].width = width
    index.freeze_panes = "A2"
    for n in names:
        _variable_sheet(book.create_sheet(sheets[n]), n, ds[n], st)
    meta = book.create_sheet("metadata")
    _header(meta, 1, ["key", "value"], st)
    for i, (k, v) in enumerate(ds.attrs.items(), start=2):
        meta.cell(row=i, column=1, value=str(k))
        meta.cell(row=i, column=2, value=_jsonable(v))
    meta.column_dimensions["A"].width, meta.column_dimensions["B"].width = 30, 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_excel(
    ds: xr.Dataset,
    path: str | os.PathLike[str],
    *,
    summary: list[SummaryRow] | None = None,
    outputs: OutputSet | None = None,
) -> Path:
    """Write results to a formatted Excel workbook, atomically (needs the ``excel`` extra).

    Sheets ``Summary``, ``variables``, one per variable (years across the columns, units in
    the title and the ``unit`` column) and ``metadata``; see :mod:`mfa.io.workbook`.

    Parameters
    ----------
    ds : xarray.Dataset
        Results (every variable with ``attrs["units"]``; ``long_name`` is shown when given).
    path : path-like
        Target ``.xlsx`` file; replaced only when the new one is complete.
    summary : list of (str, xarray.DataArray, str), optional
        The rows of the Summary sheet: label (ending in ``[unit]``), a series over ``time``,
        and ``"t"`` or ``"%"`` for the number format; e.g. ``model.summary_rows(ds)``.
        Default: the world totals of the mass variables.
    outputs : mfa.io.outputs.OutputSet, optional
        Join this set of outputs: the file goes into place only when the set commits.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MfaError
        If openpyxl is not installed (``pip install "nd-mfa[excel]"``), a variable does not fit
        in a sheet, or the file cannot be written.
    """
    data = workbook_bytes(ds, summary)
    with joined(outputs) as outs:
        outs.write(outs.file(path), lambda tmp: write_bytes(tmp, data))
        checkpoint("excel")
    return Path(path)
