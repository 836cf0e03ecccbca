"""From checked data rows to the arrays of one parameter on the model years.

Each row covers a set of cells (one label per dim; an empty cell stands for every label the
parameter applies to). For every cell and year the row that names the most dims wins; equal
specificity is an error. A cell's constant (empty-year) row and dated rows do not mix: the more
specific kind wins for the whole cell. Dated points are interpolated onto the model years by
the registry's rule (:func:`mfa.data.interpolate.interpolate_points`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from mfa.data.interpolate import interpolate_points
from mfa.data.problems import MAX_MESSAGES
from mfa.data.tables import ALL_YEARS, Rows

__all__ = ["Provenance", "build_parameter"]


@dataclass
class Provenance:
    """Which data row gives each (cell, year) point of one parameter after precedence.

    Cells are raveled over ``ldims`` (the parameter's label dims, declared order) with sizes
    ``full``; a constant row has the year ``ALL_YEARS``.
    """

    ldims: list[str]
    full: list[int]
    cell: np.ndarray
    year: np.ndarray
    row: np.ndarray

    def rows_of(self, cell: int, year: int | None) -> list[int]:
        """Rows that give the value of ``cell`` in ``year`` (bracketing points, or a constant)."""
        sel = self.cell == cell
        years, rows = self.year[sel], self.row[sel]
        if years.size == 0:
            return []
        if year is None or (years == ALL_YEARS).any():
            return [int(r) for r in rows[years == ALL_YEARS][:1]] or [int(rows[0])]
        before, after = years <= year, years >= year
        out = []
        if before.any():
            out.append(int(rows[before][np.argmax(years[before])]))
        if after.any():
            out.append(int(rows[after][np.argmin(years[after])]))
        return sorted(set(out))

    def rows_text(self, dim: str, rows: Rows, time: np.ndarray) -> Callable[[dict], str]:
        """``position -> "rows: FILE lines a, b; FILE2 line c"`` for the cells summed over ``dim``."""

        def text(position: dict) -> str:
            year = int(time[position["time"]]) if "time" in position else None
            found: list[int] = []
            k_dim = self.ldims.index(dim)
            for k in range(self.full[k_dim]):
                idx = [k if d == dim else position[d] for d in self.ldims]
                found += self.rows_of(int(np.ravel_multi_index(idx, self.full)), year)
            by_file: dict[str, list[int]] = {}
            for r in sorted(set(found), key=lambda r: (rows.fidx[r], rows.line[r])):
                by_file.setdefault(rows.fnames[rows.fidx[r]], []).append(int(rows.line[r]))
            return "rows: " + "; ".join(
                f"{f}, line{'s' if len(ls) > 1 else ''} {_ranges(ls)}" for f, ls in by_file.items())

        return text


def _ranges(numbers: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"`` (sorted input)."""
    out: list[str] = []
    start = prev = numbers[0]
    for x in [*numbers[1:], None]:
        if x is not None and x == prev + 1:
            prev = x
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if x is not None:
            start = prev = x
    return ", ".join(out)


@dataclass
class _Param:
    """One parameter being built: its name, entry, rows and cell layout."""

    name: str
    entry: dict
    rows: np.ndarray  # its row numbers in ``Rows``
    ldims: list[str]
    full: list[int]
    allowed: list[np.ndarray]  # label indices it applies to, per label dim
    coords: dict[str, list]

    @property
    def ncell(self) -> int:
        return int(np.prod(self.full)) if self.ldims else 1

    def cell_text(self, cell: int) -> str:
        if not self.ldims:
            return "(no dims)"
        idx = np.unravel_index(int(cell), self.full)
        return ", ".join(f"{d}={self.coords[d][i]}" for d, i in zip(self.ldims, idx, strict=True))


def build_parameter(
    name: str, entry: dict, rows_idx: np.ndarray, rows: Rows, coords: dict[str, list]
) -> tuple[xr.Variable, xr.Variable, xr.Variable, Provenance] | None:
    """Expand wildcards, resolve precedence, interpolate one parameter onto the model years.

    Returns value, low, high (dims as declared) and the provenance of every point, or None if
    a problem was recorded in ``rows.problems``.
    """
    dims = list(entry["dims"])
    ldims = [d for d in dims if d != "time"]
    allowed = []
    for d in ldims:
        chosen = entry["labels"].get(d)
        allowed.append(np.arange(len(coords[d])) if chosen is None
                       else np.array([coords[d].index(x) for x in chosen]))
    par = _Param(name, entry, rows_idx, ldims, [len(coords[d]) for d in ldims], allowed, coords)
    cell, r_glob, e_spec = _expand(par, rows)
    e_year = np.where(rows.year_given[r_glob], rows.year[r_glob], ALL_YEARS)
    won = _precedence(par, rows, cell, e_year, e_spec, r_glob)
    if won is None or _missing(par, rows, won[0]):
        return None
    w_cell, w_year, w_row = won
    out = _cell_values(par, rows, w_cell, w_year, w_row, np.asarray(coords["time"]))
    if out is None:
        return None
    has_time = "time" in dims
    nt = out.shape[1]
    arr = out.reshape(*par.full, nt, 3) if ldims else out.reshape(nt, 3)
    if not has_time:
        arr = arr[..., 0, :]
    adims = [*ldims, "time"] if has_time else ldims
    result = [xr.Variable(adims, arr[..., k]).transpose(*dims) for k in range(3)]
    return (result[0], result[1], result[2],
            Provenance(ldims, par.full, w_cell, w_year, w_row))


def _expand(par: _Param, rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wildcard rows -> one entry per cell (vectorised mixed-radix expansion).

    Returns the cell, the row and the specificity (number of named dims) of every entry.
    """
    idx = par.rows
    nr = len(idx)
    lab = {d: rows.lab[d][idx] for d in par.ldims}
    counts = np.ones((len(par.ldims), nr), dtype=np.int64)
    for k, d in enumerate(par.ldims):
        counts[k] = np.where(lab[d] == -1, len(par.allowed[k]), 1)
    rep = counts.prod(axis=0) if par.ldims else np.ones(nr, dtype=np.int64)
    src_row = np.repeat(np.arange(nr), rep)
    local = np.arange(src_row.size) - np.repeat(np.cumsum(rep) - rep, rep)
    cell_labels = []
    stride = np.ones(nr, dtype=np.int64)
    for k in range(len(par.ldims) - 1, -1, -1):
        d = par.ldims[k]
        pos = (local // stride[src_row]) % counts[k][src_row]
        li = lab[d][src_row]
        cell_labels.append(np.where(li == -1, par.allowed[k][pos], li))
        stride = stride * counts[k]
    cell = (np.ravel_multi_index(cell_labels[::-1], par.full) if par.ldims
            else np.zeros(src_row.size, dtype=np.int64))
    spec = np.zeros(nr, dtype=np.int64)
    for d in par.ldims:
        spec += lab[d] >= 0
    return cell, idx[src_row], spec[src_row]


def _precedence(par: _Param, rows: Rows, cell: np.ndarray, e_year: np.ndarray,
                e_spec: np.ndarray, r_glob: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per (cell, year) the most specific row; then constant versus dated rows per cell."""
    order = np.lexsort((-e_spec, e_year, cell))
    c_s, y_s, s_s, r_s = cell[order], e_year[order], e_spec[order], r_glob[order]
    new_group = np.ones(c_s.size, dtype=bool)
    new_group[1:] = (c_s[1:] != c_s[:-1]) | (y_s[1:] != y_s[:-1])
    tie = ~new_group & np.r_[False, s_s[1:] == s_s[:-1]]
    reported = set()
    for k in np.nonzero(tie)[0]:
        a, b = r_s[k - 1], r_s[k]
        if (a, b) in reported:
            continue
        reported.add((a, b))
        first, second = sorted((a, b), key=lambda r: (rows.fidx[r], rows.line[r]))
        yr = "all years" if y_s[k] == ALL_YEARS else f"year {y_s[k]}"
        rows.add(second, f"ambiguous rows for parameter {par.name!r}: this row and "
                         f"{rows.at(first)} both set {par.cell_text(c_s[k])}, {yr}, with the "
                         f"same number of named dims; name the cell explicitly in one row")
    if tie.any():
        return None
    w_cell, w_year, w_spec, w_row = c_s[new_group], y_s[new_group], s_s[new_group], r_s[new_group]
    is_const = w_year == ALL_YEARS
    const_spec = np.full(par.ncell, -1, dtype=np.int64)
    const_row = np.full(par.ncell, -1, dtype=np.int64)
    const_spec[w_cell[is_const]] = w_spec[is_const]
    const_row[w_cell[is_const]] = w_row[is_const]
    dated_spec = np.full(par.ncell, -1, dtype=np.int64)
    np.maximum.at(dated_spec, w_cell[~is_const], w_spec[~is_const])
    both_equal = (const_spec >= 0) & (const_spec == dated_spec)
    for c in np.nonzero(both_equal)[0][:3]:
        dated_rows = w_row[(w_cell == c) & ~is_const & (w_spec == dated_spec[c])]
        rows.add(const_row[c], f"parameter {par.name!r}, {par.cell_text(c)}: this row has no "
                               f"year (a constant) but {rows.at(dated_rows[0])} gives a year "
                               f"for the same cell; give years in all rows or none")
    if both_equal.any():
        return None
    use_const = const_spec > dated_spec  # also True if only a constant row exists
    keep = np.where(is_const, use_const[w_cell], ~use_const[w_cell])
    return w_cell[keep], w_year[keep], w_row[keep]


def _missing(par: _Param, rows: Rows, w_cell: np.ndarray) -> bool:
    """Record cells the parameter applies to but no row covers; True if there are any."""
    needed = np.zeros(par.full if par.ldims else (), dtype=bool)
    if par.ldims:
        needed[np.ix_(*par.allowed)] = True
    covered = np.zeros(par.ncell, dtype=bool)
    covered[w_cell] = True
    missing = np.nonzero(needed.ravel() & ~covered)[0]
    if not missing.size:
        return False
    shown = "; ".join(par.cell_text(c) for c in missing[:5])
    more = f" (and {missing.size - 5} more)" if missing.size > 5 else ""
    first = par.rows[np.argmin(rows.fidx[par.rows] * 10**9 + rows.line[par.rows])]
    rows.problems.add(
        f"parameter {par.name!r} (dims {list(par.entry['dims'])}): no data for {shown}{more}; "
        f"add rows for these combinations or a wildcard row (empty {'/'.join(par.ldims)} "
        f"cell); first row of this parameter: {rows.at(first)}",
        int(rows.fidx[first]), int(rows.line[first]))
    return True


def _cell_values(par: _Param, rows: Rows, w_cell: np.ndarray, w_year: np.ndarray,
                 w_row: np.ndarray, time: np.ndarray) -> np.ndarray | None:
    """(cell, time, value/low/high) on the model years (time length 1 without a time dim)."""
    has_time = "time" in par.entry["dims"]
    out = np.full((par.ncell, len(time) if has_time else 1, 3), np.nan)
    triple = np.stack([rows.value[w_row], rows.low[w_row], rows.high[w_row]], axis=-1)
    const = w_year == ALL_YEARS
    out[w_cell[const]] = triple[const][:, None, :]
    dated = ~const
    if not dated.any():
        return out
    d_cells, d_inv = np.unique(w_cell[dated], return_inverse=True)
    g_years, g_inv = np.unique(w_year[dated], return_inverse=True)
    pts = np.full((d_cells.size, g_years.size, 3), np.nan)
    pts[d_inv, g_inv] = triple[dated]
    if _gaps(par, rows, w_cell[dated], w_year[dated], w_row[dated]):
        return None
    entry = par.entry
    res, early, late = interpolate_points(
        pts, g_years, time, entry["interpolation"], entry["before"], entry["after"])
    for flags, side in ((early, "before"), (late, "after")):
        for c in np.nonzero(flags)[0][:3]:
            cell_rows = w_row[dated][d_inv == c]
            yrs = w_year[dated][d_inv == c]
            k = np.argmin(yrs) if side == "before" else np.argmax(yrs)
            edge = time[0] if side == "before" else time[-1]
            rows.add(cell_rows[k], (
                f"parameter {par.name!r}, {par.cell_text(d_cells[c])}: the "
                f"{'first' if side == 'before' else 'last'} given year is {yrs[k]} but the "
                f"model {'starts' if side == 'before' else 'ends'} in {edge}, and "
                f"registry.toml says {side} = 'error' for this parameter; add data "
                f"{'back to' if side == 'before' else 'up to'} {edge}"))
    if early.any() or late.any():
        return None
    out[d_cells] = res
    return out


def _gaps(par: _Param, rows: Rows, cell: np.ndarray, year: np.ndarray, row: np.ndarray) -> bool:
    """Record gaps between given years longer than ``max_gap``; True if there are any."""
    max_gap = par.entry["max_gap"]
    if max_gap is None:
        return False
    o = np.lexsort((year, cell))
    cc, yy, rr = cell[o], year[o], row[o]
    gap = np.diff(yy)
    bad = (cc[1:] == cc[:-1]) & (gap > max_gap)
    for k in np.nonzero(bad)[0][:MAX_MESSAGES]:
        rows.add(rr[k + 1], f"parameter {par.name!r}, {par.cell_text(cc[k])}: gap of {gap[k]} "
                            f"years between {yy[k]} and {yy[k + 1]} (previous point "
                            f"{rows.at(rr[k])}); registry max_gap is {max_gap} years")
    return bool(bad.any())
