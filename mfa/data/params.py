"""Read, validate and interpolate the parameter files in ``params/``.

A parameter directory holds

* ``model.toml`` -- the model years (``[time] start, end``) and the labels of the dimensions
  ``region``, ``product`` and ``stage`` (``[dimensions]``);
* ``registry.toml`` -- one ``[parameters.NAME]`` table per parameter: its dims, canonical unit,
  bounds, interpolation rule and so on;
* ``sources.csv`` -- the bibliography (``key,citation,url,licence,tag,note``);
* any number of data files ``*.csv`` in long format, one value per row, with the header
  ``parameter,region,product,stage,year,value,unit,low,high,source,note``.

:func:`load_parameters` reads all of it, checks every row (labels, units, numbers, bounds, sources,
duplicates, gaps, missing combinations, sums) and returns a :class:`ParameterSet`: one
``xarray`` variable per parameter in its canonical unit, interpolated onto the model years.
Every user mistake raises one :class:`~mfa.core.errors.ParameterError` that names the file, the line
(the header is line 1; comment lines count) or the registry key, and what was expected.

Rules (see also ``params/README.md``)
-------------------------------------
Wildcards
    An empty ``region``/``product``/``stage`` cell, for a parameter that has that dim, means "all
    labels" (for ``product``: all labels in the parameter's ``products``). An empty ``year`` means
    "all years" (a constant).
Precedence
    Each row covers a set of cells (one label per dim). For every cell and year the row that names
    the most dims wins (a specific row overrides a wildcard row for the same year); two rows of
    equal specificity for the same cell and year are an error (duplicate or ambiguous rows).
    A cell's dated points are merged year by year this way. If a cell has both a constant
    (empty-year) row and dated rows, the more specific of the two kinds wins for the whole cell;
    equal specificity is an error.
Interpolation
    Between given years: ``"linear"`` or ``"step"`` (the last given value holds until the next
    given year). Before the first given year: ``before = "constant" | "zero" | "error"``; after
    the last: ``after = "constant" | "error"``. ``max_gap`` limits the distance between given
    years. ``low``/``high`` are interpolated the same way; where a row gives no range they equal
    the value.
Years
    A data year outside the model years is an error (a typo such as 2102 for 2012), unless the
    registry's ``allow_years = [first, last]`` admits it for that parameter.
Bounds
    ``min``/``max`` are hard limits; ``plausible_min``/``plausible_max`` are order-of-magnitude
    limits against typos and unit mix-ups (reasons in ``params/README.md``). Both are checked on
    every row and again on the values after interpolation or a scenario.
Files
    Only regular files are read (a FIFO or directory named ``x.csv`` is refused, never waited
    on); UTF-8 with or without a byte-order mark; data files are ``*.csv`` in any letter case.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import hashlib
import importlib
import math
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.units import UnitError, conversion_factor, parse_unit, to_canonical, unit_string

__all__ = [
    "DATA_COLUMNS",
    "ambiguous_unit_message",
    "LABEL_DIMS",
    "SOURCE_COLUMNS",
    "ParameterSet",
    "check_parameter_values",
    "decode_toml",
    "default_params_dir",
    "implausible_message",
    "interpolate_points",
    "load_parameters",
    "read_input_file",
    "year_outside_message",
    "year_span",
]

#: Header of every data CSV file (order free, but exactly these columns).
DATA_COLUMNS: tuple[str, ...] = (
    "parameter", "region", "product", "stage", "year", "value", "unit", "low", "high", "source",
    "note",
)
#: Header of ``sources.csv``.
SOURCE_COLUMNS: tuple[str, ...] = ("key", "citation", "url", "licence", "tag", "note")
#: Dimensions with labels from ``model.toml`` (``time`` is the fourth possible dim).
LABEL_DIMS: tuple[str, ...] = ("region", "product", "stage")
#: Provenance tags allowed in ``sources.csv``.
SOURCE_TAGS: tuple[str, ...] = ("P", "A", "S", "U", "assumption")

SUM_TOLERANCE = 1e-6
MAX_MESSAGES = 10
#: Model years (``model.toml`` ``[time]``) and data years must be calendar years in this range.
YEAR_RANGE: tuple[int, int] = (1000, 9999)
#: Longest model run in years (the stock models hold (years x years) survival matrices).
MAX_MODEL_YEARS = 1000

_REGISTRY_KEYS = {
    "description", "dims", "products", "unit", "min", "max", "plausible_min", "plausible_max",
    "sum_to_one_over", "interpolation", "before", "after", "max_gap", "role", "allow_years",
}
_REQUIRED_REGISTRY_KEYS = ("description", "dims", "unit")
_INTERPOLATION = ("linear", "step")
_BEFORE = ("constant", "zero", "error")
_AFTER = ("constant", "error")
_ROLES = ("model", "calibration")
_ALL_YEARS = np.iinfo(np.int64).min  # year key of an empty-year (constant) row
_SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")  # refused: their edits would be ignored


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
class _Problems:
    """Collects error messages sorted by (file order, line) and raises one ParameterError."""

    def __init__(self, exc: type[Exception] = ParameterError) -> None:
        self.items: list[tuple[int, int, str]] = []
        self.exc = exc

    def add(self, message: str, order: int = 0, line: int = 0) -> None:
        self.items.append((order, line, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        items = sorted(self.items, key=lambda x: (x[0], x[1]))
        if len(items) == 1:
            raise self.exc(items[0][2])
        shown = [f"  - {m}" for _, _, m in items[:MAX_MESSAGES]]
        more = len(items) - MAX_MESSAGES
        if more > 0:
            shown.append(f"  ... and {more} more")
        raise self.exc(f"{len(items)} problems in the parameter files:\n" + "\n".join(shown))


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _fmt_list(items: Any) -> str:
    return ", ".join(repr(str(i)) for i in items)


# --------------------------------------------------------------------------------------------
# ParameterSet
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParameterSet:
    """Validated model parameters on the model years, in canonical units.

    Attributes
    ----------
    values : xarray.Dataset
        One variable per parameter with the dims declared in the registry (in that order),
        interpolated onto the model years (coordinate ``time``), full coordinates on ``region``,
        ``product``, ``stage``; NaN where the parameter does not apply (products outside its
        ``products``). ``attrs["units"]`` is the canonical unit (e.g. ``"t / yr"``), plus
        ``description`` and ``source`` (the source keys used).
    low, high : xarray.Dataset
        Lower and upper ends of the range, same shapes and units; equal to ``values`` where no
        range was given.
    table : pandas.DataFrame
        The validated long table: the data-file columns with ``value``/``low``/``high`` converted
        to the canonical ``unit``, plus ``file`` and ``line``.
    sources : dict of str to dict
        The bibliography from ``sources.csv``, by key.
    registry : dict of str to dict
        The registry entries with defaults filled in, by parameter name.
    files : dict of str to str
        File name (relative to the params directory) -> sha256 of every file read.
    coords : dict of str to list
        ``time`` (int years), ``region``, ``product``, ``stage`` labels.
    path : pathlib.Path or None
        The parameter directory read (scenario names are looked up in ``path / "scenarios"``).
    scenario : str or None
        Name of the scenario applied by :func:`mfa.data.scenarios.apply_scenario` (None: defaults).
    scenario_files : dict of str to str
        Scenario file name -> sha256 for the scenario and its bases.
    """

    values: xr.Dataset
    low: xr.Dataset
    high: xr.Dataset
    table: pd.DataFrame
    sources: dict[str, dict]
    registry: dict[str, dict]
    files: dict[str, str]
    coords: dict[str, list]
    path: Path | None = None
    scenario: str | None = None
    scenario_files: dict[str, str] = field(default_factory=dict)

    # -- convenience -----------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Parameter names in registry order."""
        return list(self.registry)

    def __getitem__(self, name: str) -> xr.DataArray:
        """The values of parameter ``name`` (canonical units in ``attrs["units"]``)."""
        self._entry(name)
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.registry

    def unit(self, name: str) -> str:
        """Canonical unit of parameter ``name`` as written in ``attrs["units"]``."""
        return unit_string(self._entry(name)["unit"])

    def _entry(self, name: str) -> dict:
        try:
            return self.registry[name]
        except KeyError:
            raise ParameterError(
                f"unknown parameter {name!r}{_suggest(name, list(self.registry))}; "
                f"known parameters: {_fmt_list(self.registry)}"
            ) from None

    # -- replacing values ------------------------------------------------------------------
    def with_values(
        self,
        name: str,
        new_values: xr.DataArray,
        *,
        low: xr.DataArray | None = None,
        high: xr.DataArray | None = None,
        validate: bool = True,
    ) -> ParameterSet:
        """Return a copy with the values (and optionally the range) of one parameter replaced.

        Used by scenarios and Monte Carlo sampling.

        Parameters
        ----------
        name : str
            Parameter name (must be in the registry).
        new_values : xarray.DataArray
            New values with the parameter's dims (any order) and the same labels; an extra
            ``sample`` dim is allowed. Units from a pint-backed array or ``attrs["units"]`` are
            converted to the canonical unit; an array without units is taken to be in the
            canonical unit already (``ParameterSet.unit(name)``).
        low, high : xarray.DataArray, optional
            New range, same rules. If not given the range is kept as it is.
        validate : bool
            Check bounds and ``sum_to_one_over`` of the new values, and ``low <= value <= high``
            where a new ``low``/``high`` is given (default True). Values outside the kept range
            are allowed: Monte Carlo samples may fall outside ``[low, high]``.

        Returns
        -------
        ParameterSet
            A new set; ``table`` (the file data) is unchanged.

        Raises
        ------
        ParameterError
            Unknown name, wrong dims, labels or units, or values that fail the checks.
        """
        entry = self._entry(name)
        vals = self._conform(name, entry, new_values, "new_values")
        lo = self._conform(name, entry, low, "low") if low is not None else self.low[name]
        hi = self._conform(name, entry, high, "high") if high is not None else self.high[name]
        if validate:
            # the range is checked against the new values only where a new range is given
            problems = check_parameter_values(
                name, entry, vals, lo if low is not None else None, hi if high is not None else None
            )
            if problems:
                raise ParameterError(
                    f"with_values({name!r}): " + "; ".join(problems[:MAX_MESSAGES])
                )
        return self._replace(name, vals, lo, hi)

    def _conform(self, name: str, entry: dict, da: xr.DataArray, what: str) -> xr.DataArray:
        """Check dims/labels/units of a replacement array and bring it into canonical form."""
        if not isinstance(da, xr.DataArray):
            raise ParameterError(
                f"with_values({name!r}): {what} must be an xarray.DataArray, got "
                f"{type(da).__name__}"
            )
        dims = list(entry["dims"])
        extra = [d for d in da.dims if d not in dims]
        missing = [d for d in dims if d not in da.dims]
        if missing or any(d != "sample" for d in extra):
            raise ParameterError(
                f"with_values({name!r}): {what} has dims {tuple(da.dims)}, expected "
                f"{tuple(dims)} (plus optionally 'sample')"
            )
        has_units = "units" in da.attrs or hasattr(da.data, "units")
        if has_units:
            try:
                da = to_canonical(da, entry["unit"], name=f"{name} ({what})")
            except UnitError as exc:
                raise ParameterError(f"with_values({name!r}): {exc}") from None
        else:
            da = da.astype(float)
        for d in dims:
            want = self.coords[d]
            if d in da.coords:
                got = [v.item() if hasattr(v, "item") else v for v in da[d].values]
                if list(got) != list(want):
                    if sorted(map(str, got)) != sorted(map(str, want)):
                        raise ParameterError(
                            f"with_values({name!r}): {what} has {d} labels {got}, "
                            f"expected {want}"
                        )
                    da = da.reindex({d: want})
            elif da.sizes[d] != len(want):
                raise ParameterError(
                    f"with_values({name!r}): {what} has {da.sizes[d]} {d} entries, "
                    f"expected {len(want)}"
                )
            else:
                da = da.assign_coords({d: want})
        da = da.transpose(*dims, ...)
        mask = _applicable_mask(entry, self.coords, da)
        if mask is not None:
            da = da.where(mask)
        old = self.values[name]
        da = da.copy()
        da.attrs = dict(old.attrs)
        da.name = name
        return da

    def _replace(
        self, name: str, values: xr.DataArray, low: xr.DataArray, high: xr.DataArray, **changes
    ) -> ParameterSet:
        """Replace one parameter without any checks (internal)."""
        attrs = dict(self.values[name].attrs)
        values = values.copy()
        low = low.copy()
        high = high.copy()
        for da in (values, low, high):
            da.attrs = dict(attrs)
            da.name = name
        return dataclasses.replace(
            self,
            values=self.values.assign({name: values}),
            low=self.low.assign({name: low}),
            high=self.high.assign({name: high}),
            **changes,
        )

    # -- documentation ---------------------------------------------------------------------
    def parameter_table(self) -> pd.DataFrame:
        """One row per parameter, for the documentation.

        Returns
        -------
        pandas.DataFrame
            Columns ``parameter, description, dims, unit, min, max, n_rows, sources, role,
            interpolation``: ``min``/``max`` summarise the values on the model years (canonical
            unit), ``n_rows`` counts the data rows, ``sources`` the source keys used.
        """
        rows = []
        counts = self.table.groupby("parameter").size() if len(self.table) else pd.Series()
        srcs = (
            self.table.groupby("parameter")["source"].agg(lambda s: ", ".join(sorted(set(s))))
            if len(self.table)
            else pd.Series()
        )
        for name, entry in self.registry.items():
            data = np.asarray(self.values[name].values, dtype=float)
            finite = data[np.isfinite(data)]
            rows.append(
                {
                    "parameter": name,
                    "description": entry["description"],
                    "dims": ", ".join(entry["dims"]),
                    "unit": unit_string(entry["unit"]),
                    "min": float(finite.min()) if finite.size else math.nan,
                    "max": float(finite.max()) if finite.size else math.nan,
                    "n_rows": int(counts.get(name, 0)),
                    "sources": srcs.get(name, ""),
                    "role": entry["role"],
                    "interpolation": entry["interpolation"] if "time" in entry["dims"] else "",
                }
            )
        return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Value checks shared by the loader, with_values and scenarios
# --------------------------------------------------------------------------------------------
def _applicable_mask(entry: dict, coords: Mapping[str, list], da: xr.DataArray) -> xr.DataArray | None:
    """Boolean mask of the cells the parameter applies to (None: all)."""
    products = entry.get("products")
    if products is None or "product" not in da.dims:
        return None
    return xr.DataArray(
        np.isin(np.asarray(coords["product"], dtype=object), products),
        dims=["product"],
        coords={"product": da["product"].values},
    )


def _describe(dims: list, labels: Mapping[str, Any], flags: np.ndarray, limit: int = 3) -> list[str]:
    """Describe up to ``limit`` positions where ``flags`` is True, e.g. ``region=China, year=2030``."""
    out = []
    for pos in np.argwhere(flags)[:limit]:
        parts = []
        for d, i in zip(dims, pos, strict=True):
            label = labels[d][i] if d in labels else i
            parts.append(f"{'year' if d == 'time' else d}={_plain(label)}")
        out.append(", ".join(parts) if parts else "(scalar)")
    return out


def _where(da: xr.DataArray, flags: np.ndarray, limit: int = 3) -> list[str]:
    """Describe positions of ``flags`` (same shape as ``da``)."""
    labels = {d: da[d].values for d in da.dims if d in da.coords}
    return _describe(list(da.dims), labels, flags, limit)


def _broadcast_pair(
    values: xr.DataArray, other: xr.DataArray
) -> tuple[list, np.ndarray, np.ndarray, dict[str, Any]]:
    """Both arrays as numpy arrays of one shape (fast path when ``other``'s dims are a subset)."""
    if set(other.dims) <= set(values.dims):
        sub = [d for d in values.dims if d in other.dims]
        o = np.asarray(other.transpose(*sub).values, dtype=float)
        o = o[tuple(slice(None) if d in other.dims else None for d in values.dims)]
        v = np.asarray(values.values, dtype=float)
        ref = values
        o = np.broadcast_to(o, v.shape)
    else:
        a, b = xr.broadcast(values, other)
        b = b.transpose(*a.dims)
        v, o, ref = np.asarray(a.values, dtype=float), np.asarray(b.values, dtype=float), a
    dims = list(ref.dims)
    return dims, v, o, {d: ref[d].values for d in dims if d in ref.coords}


def _plain(x: Any) -> Any:
    return x.item() if hasattr(x, "item") else x


def check_parameter_values(
    name: str,
    entry: dict,
    values: xr.DataArray,
    low: xr.DataArray | None = None,
    high: xr.DataArray | None = None,
) -> list[str]:
    """Check one parameter's arrays against its registry entry.

    Parameters
    ----------
    name : str
        Parameter name (for messages).
    entry : dict
        Its registry entry (with defaults filled in).
    values, low, high : xarray.DataArray
        Arrays in the canonical unit; NaN only where the parameter does not apply.

    Returns
    -------
    list of str
        Problems found (empty if all is well): non-finite values, bounds (``min``/``max``;
        ``[0, 1]`` for shares), plausibility bounds (``plausible_min``/``plausible_max``),
        ``low <= value <= high``, ``sum_to_one_over``.
    """
    return _check_values(name, entry, values, low, high)


def _check_values(
    name: str,
    entry: dict,
    values: xr.DataArray,
    low: xr.DataArray | None = None,
    high: xr.DataArray | None = None,
    rows_at: Callable[[dict], str] | None = None,
) -> list[str]:
    """:func:`check_parameter_values`; ``rows_at`` names the rows of a cell whose sum fails."""
    problems: list[str] = []
    products = entry.get("products")
    arrays = {"value": values}
    if low is not None:
        arrays["low"] = low
    if high is not None:
        arrays["high"] = high
    applicable = None
    if products is not None and "product" in values.dims:
        prod_labels = np.asarray(values["product"].values, dtype=object)
        applicable = np.isin(prod_labels, products)
    lo_b, hi_b = _bounds(entry)
    for what, da in arrays.items():
        data = np.asarray(da.values, dtype=float)
        if applicable is not None:
            axis = da.dims.index("product")
            shape = [1] * data.ndim
            shape[axis] = -1
            app = np.broadcast_to(applicable.reshape(shape), data.shape)
        else:
            app = np.ones(data.shape, dtype=bool)
        bad = app & ~np.isfinite(data)
        if bad.any():
            problems.append(
                f"parameter {name!r}: {what} is not a finite number at {'; '.join(_where(da, bad))}"
                + (f" (and {int(bad.sum()) - 3} more)" if bad.sum() > 3 else "")
            )
            continue
        with np.errstate(invalid="ignore"):
            if lo_b is not None:
                bad = app & (data < lo_b)
                if bad.any():
                    found = data[bad].min()
                    problems.append(
                        f"parameter {name!r}: {what} {found:g} below the minimum {lo_b:g} at "
                        f"{'; '.join(_where(da, bad))}"
                    )
            if hi_b is not None:
                bad = app & (data > hi_b)
                if bad.any():
                    found = data[bad].max()
                    problems.append(
                        f"parameter {name!r}: {what} {found:g} above the maximum {hi_b:g} at "
                        f"{'; '.join(_where(da, bad))}"
                    )
            if problems:
                continue
            for side, bound in (("min", entry.get("plausible_min")),
                                ("max", entry.get("plausible_max"))):
                if bound is None:
                    continue
                bad = app & ((data < bound) if side == "min" else (data > bound))
                if bad.any():
                    found = data[bad].min() if side == "min" else data[bad].max()
                    problems.append(
                        f"parameter {name!r}: {what} {_with_unit(found, entry['unit'])} "
                        f"{'below' if side == 'min' else 'above'} the plausible "
                        f"{'minimum' if side == 'min' else 'maximum'} "
                        f"{_with_unit(bound, entry['unit'])} (registry.toml plausible_{side}) "
                        f"at {'; '.join(_where(da, bad))}"
                    )
    if not problems:
        for what, other in (("low", low), ("high", high)):
            if other is None:
                continue
            dims, v, o, labels = _broadcast_pair(values, other)
            with np.errstate(invalid="ignore"):
                gap = (o - v) if what == "low" else (v - o)
                flags = gap > 1e-12 * np.abs(v) + 1e-300
            if flags.any():
                rel = "above" if what == "low" else "below"
                problems.append(
                    f"parameter {name!r}: {what} {rel} value at "
                    f"{'; '.join(_describe(dims, labels, flags))}"
                )
    if not problems:
        msg = _sum_to_one_problem(name, entry, values, rows_at)
        if msg:
            problems.append(msg)
    return problems


def _sum_to_one_problem(
    name: str, entry: dict, values: xr.DataArray, rows_at: Callable[[dict], str] | None = None
) -> str | None:
    """Check ``sum_to_one_over``; ``rows_at(position)`` names the data rows of a failing cell.

    ``position`` maps every dim of ``values`` except the summed one to a label index.
    """
    dim = entry.get("sum_to_one_over")
    if not dim or dim not in values.dims:
        return None
    dims = list(values.dims)
    axis = dims.index(dim)
    data = np.asarray(values.values, dtype=float)
    count = np.isfinite(data).sum(axis=axis)
    sdata = np.where(count > 0, np.nansum(data, axis=axis), np.nan)
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(sdata) & (np.abs(sdata - 1.0) > SUM_TOLERANCE)
    if not bad.any():
        return None
    rest = [d for d in dims if d != dim]
    labels = {d: values[d].values for d in rest if d in values.coords}
    locs = _describe(rest, labels, bad)
    found = sdata[bad][: len(locs)]
    parts = []
    for loc, f, pos in zip(locs, found, np.argwhere(bad)[: len(locs)], strict=True):
        part = f"{loc}: sum {f:.6g}"
        if rows_at is not None and not parts:  # the rows of the first failing cell
            part += f" ({rows_at(dict(zip(rest, (int(i) for i in pos), strict=True)))})"
        parts.append(part)
    n = int(bad.sum())
    return (
        f"parameter {name!r}: values must sum to 1 (±{SUM_TOLERANCE:g}) over {dim}, "
        f"but at {'; '.join(parts)}" + (f" (and {n - len(locs)} more)" if n > len(locs) else "")
    )


def _bounds(entry: dict) -> tuple[float | None, float | None]:
    lo, hi = entry.get("min"), entry.get("max")
    if entry.get("sum_to_one_over"):
        lo = 0.0 if lo is None else max(lo, 0.0)
        hi = 1.0 if hi is None else min(hi, 1.0)
    return lo, hi


# --------------------------------------------------------------------------------------------
# Interpolation (shared with scenarios)
# --------------------------------------------------------------------------------------------
def interpolate_points(
    points: np.ndarray,
    given_years: np.ndarray,
    model_years: np.ndarray,
    interpolation: str = "linear",
    before: str = "constant",
    after: str = "constant",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolate many series at once onto model years.

    Parameters
    ----------
    points : numpy.ndarray, shape (n_series, n_given, k)
        Values at the given years; NaN where a series has no point in that year. The last axis
        holds ``k`` quantities interpolated together (e.g. value, low, high).
    given_years : numpy.ndarray of int, shape (n_given,)
        Sorted, unique years of the columns of ``points``.
    model_years : numpy.ndarray of int, shape (n_time,)
        Target years.
    interpolation : {"linear", "step"}
    before : {"constant", "zero", "error"}
    after : {"constant", "error"}

    Returns
    -------
    out : numpy.ndarray, shape (n_series, n_time, k)
        Interpolated values (NaN where ``before``/``after`` is ``"error"`` and the year lies
        outside the given years).
    too_early, too_late : numpy.ndarray of bool, shape (n_series,)
        Series that needed a year before their first / after their last given year while the rule
        is ``"error"``.
    """
    n, g, _ = points.shape
    valid = np.isfinite(points[:, :, 0])
    cols = np.arange(g)
    # last valid column at or before column c, first valid column at or after column c
    prev_col = np.maximum.accumulate(np.where(valid, cols, -1), axis=1)
    next_col = np.minimum.accumulate(np.where(valid, cols, g)[:, ::-1], axis=1)[:, ::-1]
    le = np.searchsorted(given_years, model_years, side="right") - 1  # last column <= year
    ge = np.searchsorted(given_years, model_years, side="left")  # first column >= year
    prev = np.where(le[None, :] >= 0, prev_col[:, np.clip(le, 0, g - 1)], -1)  # (n, T)
    nxt = np.where(ge[None, :] < g, next_col[:, np.clip(ge, 0, g - 1)], g)
    has_prev = prev >= 0
    has_next = nxt < g
    rows = np.arange(n)[:, None]
    pc, nc = np.clip(prev, 0, g - 1), np.clip(nxt, 0, g - 1)
    pv, nv = points[rows, pc], points[rows, nc]  # (n, T, k)
    py, ny = given_years[pc].astype(float), given_years[nc].astype(float)
    if interpolation == "linear":
        yrs = model_years.astype(float)[None, :]
        w = np.where(ny > py, (yrs - py) / np.where(ny > py, ny - py, 1.0), 0.0)
        mid = pv + (nv - pv) * w[:, :, None]
    else:
        mid = pv
    out = np.where((has_prev & has_next)[:, :, None], mid, np.nan)
    early = ~has_prev & has_next  # before the first given year
    late = has_prev & ~has_next  # after the last given year
    if before == "constant":
        out = np.where(early[:, :, None], nv, out)
    elif before == "zero":
        out = np.where(early[:, :, None], 0.0, out)
    if after == "constant":
        out = np.where(late[:, :, None], pv, out)
    too_early = early.any(axis=1) if before == "error" else np.zeros(n, dtype=bool)
    too_late = late.any(axis=1) if after == "error" else np.zeros(n, dtype=bool)
    return out, too_early, too_late


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------
def default_params_dir() -> Path:
    """The packaged default parameter directory (``params/`` in the repository).

    Found through ``importlib.resources`` as the package ``mfa._params``; from a source tree
    without an installed package, ``params/`` next to the ``mfa`` package.

    Returns
    -------
    pathlib.Path
    """
    candidates: list[Path] = []
    try:
        mod = importlib.import_module("mfa._params")
        candidates += [Path(p) for p in getattr(mod, "__path__", [])]
    except ImportError:
        pass
    package = Path(__file__).resolve().parents[1]  # the mfa/ directory
    candidates += [package / "_params", package.parent / "params"]
    for c in candidates:
        if (c / "registry.toml").is_file():
            return c
    for c in candidates:
        if c.is_dir():
            return c
    raise ParameterError(
        "cannot find the default parameter directory (package mfa._params or params/ in the "
        "source tree); pass a path to load_parameters()"
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _kind_of(mode: int) -> str:
    """A file type for messages: ``"a directory"``, ``"a FIFO (named pipe)"``, ..."""
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a regular file"


def read_input_file(path: str | Path, error: type[Exception] = ParameterError,
                    what: str = "file", hint: str = "") -> bytes:
    """Read an input file that must be a regular file, without ever blocking.

    A FIFO, device, socket or directory with the name of an input file is refused (reading a
    FIFO would wait forever for a writer); unreadable files give a clear message instead of an
    ``OSError``.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    error : type of Exception
        Raised for every problem (``ParameterError``, or ``ScenarioError`` for scenarios).
    what : str
        What the file is, for the messages (e.g. ``"scenario file"``).
    hint : str
        Added to the "not found" message (e.g. ``" (every parameter directory needs it)"``).

    Returns
    -------
    bytes
        The whole file.

    Raises
    ------
    error
        ``"<path>: file not found"``, ``"<path>: is a directory, expected a <what>"``,
        ``"<path>: cannot read: Permission denied"`` and the like.
    """
    path = Path(path)
    if "\0" in str(path):
        raise error(f"{str(path)!r}: a file name cannot contain a NUL character")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found{hint}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, expected a {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{path}: is {_kind_of(mode)}, expected a {what} (a regular file)")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def decode_toml(raw: bytes, path: Path, error: type[Exception] = ParameterError) -> dict:
    """Parse TOML bytes (UTF-8, a leading byte-order mark is accepted) or raise ``error``."""
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def _read_toml(path: Path, files: dict[str, str], root: Path) -> dict:
    data = read_input_file(path, hint=" (every parameter directory needs it)")
    files[_relname(path, root)] = _sha256(data)
    return decode_toml(data, path)


def _relname(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _read_csv(
    path: Path, expected: tuple[str, ...], files: dict[str, str], root: Path, hint: str = ""
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Read a CSV file with ``#`` comment lines.

    Returns the line number of each record (header = line of the header, usually 1) and the
    columns (stripped strings) by header name.
    """
    raw = read_input_file(path, what="file", hint=hint)
    files[_relname(path, root)] = _sha256(raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not UTF-8 text ({exc})") from None
    lines = text.splitlines()
    numbers: list[int] = []

    def data_lines() -> Iterator[str]:
        for i, line in enumerate(lines, start=1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            numbers.append(i)
            yield line

    records: list[list[str]] = []
    starts: list[int] = []
    consumed = 0
    try:
        for rec in csv.reader(data_lines()):
            start = numbers[consumed]
            consumed = len(numbers)
            if records and not any(c.strip() for c in rec):
                continue  # a row of empty cells (spreadsheet export): skipped
            starts.append(start)
            records.append(rec)
    except csv.Error as exc:
        raise ParameterError(f"{path}, line {numbers[-1] if numbers else 1}: {exc}") from None
    if not records:
        raise ParameterError(
            f"{path}: empty file, expected the header line {','.join(expected)}"
        )
    header = [h.strip() for h in records[0]]
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    dups = sorted({c for c in header if header.count(c) > 1})
    if missing or unexpected or dups:
        parts = []
        if missing:
            parts.append(f"missing columns {_fmt_list(missing)}")
        if unexpected:
            parts.append(f"unexpected columns {_fmt_list(unexpected)}")
        if dups:
            parts.append(f"duplicate columns {_fmt_list(dups)}")
        raise ParameterError(
            f"{path}, line {starts[0]} (header): {'; '.join(parts)}; expected the header "
            f"{','.join(expected)}"
        )
    body = records[1:]
    line_no = np.asarray(starts[1:], dtype=np.int64)
    width = len(header)
    bad = [i for i, r in enumerate(body) if len(r) != width]
    if bad:
        problems = _Problems()
        for i in bad[:MAX_MESSAGES]:
            problems.add(
                f"{path}, line {line_no[i]}: {len(body[i])} fields, expected {width} "
                f"({','.join(header)})",
                line=int(line_no[i]),
            )
        problems.raise_if_any()
    if body:
        cols = [np.array([c.strip() for c in col], dtype=object) for col in zip(*body, strict=True)]
    else:
        cols = [np.array([], dtype=object) for _ in header]
    return line_no, dict(zip(header, cols, strict=True))


# --------------------------------------------------------------------------------------------
# model.toml, registry.toml, sources.csv
# --------------------------------------------------------------------------------------------
def _read_model(path: Path, files: dict[str, str], root: Path) -> dict[str, list]:
    doc = _read_toml(path, files, root)
    problems = _Problems()
    for key in doc:
        if key not in ("time", "dimensions"):
            problems.add(f"{path}: unknown table or key {key!r}{_suggest(key, ['time', 'dimensions'])}"
                         " (allowed: 'time', 'dimensions')")
    time = doc.get("time")
    coords: dict[str, list] = {}
    if not isinstance(time, dict):
        problems.add(f"{path}: missing table [time] with integer keys 'start' and 'end'")
    else:
        for key in time:
            if key not in ("start", "end"):
                problems.add(f"{path}, [time]: unknown key {key!r} (allowed: 'start', 'end')")
        start, end = time.get("start"), time.get("end")
        if not (type(start) is int and type(end) is int):
            problems.add(f"{path}, [time]: 'start' and 'end' must be integer years, got "
                         f"start={start!r}, end={end!r}")
        elif start > end:
            problems.add(f"{path}, [time]: start {start} is after end {end}")
        elif not (YEAR_RANGE[0] <= start and end <= YEAR_RANGE[1]):
            problems.add(f"{path}, [time]: start {start} and end {end} must be calendar years "
                         f"between {YEAR_RANGE[0]} and {YEAR_RANGE[1]} (a typo such as 20500?)")
        elif end - start + 1 > MAX_MODEL_YEARS:
            problems.add(f"{path}, [time]: {end - start + 1} model years from {start} to {end}; "
                         f"at most {MAX_MODEL_YEARS} are supported")
        else:
            coords["time"] = list(range(start, end + 1))
    dims = doc.get("dimensions")
    if not isinstance(dims, dict):
        problems.add(f"{path}: missing table [dimensions] with lists 'region', 'product', 'stage'")
    else:
        for key in dims:
            if key not in LABEL_DIMS:
                problems.add(f"{path}, [dimensions]: unknown key {key!r}"
                             f"{_suggest(key, LABEL_DIMS)} (allowed: {_fmt_list(LABEL_DIMS)})")
        for d in LABEL_DIMS:
            labels = dims.get(d)
            if not (isinstance(labels, list) and labels
                    and all(isinstance(x, str) and x.strip() == x and x for x in labels)):
                problems.add(f"{path}, [dimensions]: {d!r} must be a non-empty list of labels "
                             "(strings without surrounding spaces)")
            elif len(set(labels)) != len(labels):
                dup = sorted({x for x in labels if labels.count(x) > 1})
                problems.add(f"{path}, [dimensions]: duplicate {d} labels {_fmt_list(dup)}")
            else:
                coords[d] = list(labels)
    problems.raise_if_any()
    return coords


def _read_registry(
    path: Path, coords: dict[str, list], files: dict[str, str], root: Path
) -> dict[str, dict]:
    doc = _read_toml(path, files, root)
    problems = _Problems()
    for key in doc:
        if key != "parameters":
            problems.add(f"{path}: unknown table or key {key!r} (allowed: 'parameters')")
    params = doc.get("parameters")
    if not isinstance(params, dict) or not params:
        problems.add(f"{path}: no [parameters.NAME] tables")
        problems.raise_if_any()
    registry: dict[str, dict] = {}
    all_dims = (*LABEL_DIMS, "time")
    for name, entry in params.items():
        where = f"{path}, [parameters.{name}]"
        if not isinstance(entry, dict):
            problems.add(f"{where}: must be a table")
            continue
        ok = True

        def bad(msg: str, where: str = where) -> None:
            nonlocal ok
            ok = False
            problems.add(f"{where}: {msg}")

        for key in entry:
            if key not in _REGISTRY_KEYS:
                bad(f"unknown key {key!r}{_suggest(key, sorted(_REGISTRY_KEYS))} "
                    f"(allowed: {_fmt_list(sorted(_REGISTRY_KEYS))})")
        for key in _REQUIRED_REGISTRY_KEYS:
            if key not in entry:
                bad(f"missing key {key!r}")
        if not ok:
            continue
        e: dict[str, Any] = {
            "description": entry["description"],
            "dims": entry["dims"],
            "products": entry.get("products"),
            "unit": entry["unit"],
            "min": entry.get("min"),
            "max": entry.get("max"),
            "sum_to_one_over": entry.get("sum_to_one_over"),
            "interpolation": entry.get("interpolation", "linear"),
            "before": entry.get("before", "constant"),
            "after": entry.get("after", "constant"),
            "max_gap": entry.get("max_gap"),
            "role": entry.get("role", "model"),
            "plausible_min": entry.get("plausible_min"),
            "plausible_max": entry.get("plausible_max"),
            "allow_years": entry.get("allow_years"),
        }
        if not isinstance(e["description"], str):
            bad("'description' must be a string")
        dims = e["dims"]
        if not (isinstance(dims, list) and all(isinstance(d, str) for d in dims)):
            bad(f"'dims' must be a list of dim names from {_fmt_list(all_dims)}")
        else:
            unknown = [d for d in dims if d not in all_dims]
            if unknown:
                bad(f"'dims' has unknown dims {_fmt_list(unknown)}; allowed: {_fmt_list(all_dims)}")
            if len(set(dims)) != len(dims):
                bad(f"'dims' repeats a dim: {dims}")
        if not isinstance(e["unit"], str):
            bad("'unit' must be a string such as 't/yr' or '1'")
        elif ambiguous_unit_message(e["unit"]):
            bad(f"'unit': {ambiguous_unit_message(e['unit'])}")
        else:
            try:
                parse_unit(e["unit"], f"{where} unit")
            except UnitError as exc:
                bad(f"'unit': {exc}")
        if e["products"] is not None:
            prods = e["products"]
            if not (isinstance(prods, list) and prods and all(isinstance(p, str) for p in prods)):
                bad("'products' must be a non-empty list of product labels")
            else:
                unknown = [p for p in prods if p not in coords["product"]]
                if unknown:
                    bad(f"'products' has unknown labels {_fmt_list(unknown)}; allowed (model.toml): "
                        f"{_fmt_list(coords['product'])}")
                if isinstance(dims, list) and "product" not in dims:
                    bad("'products' given but 'product' is not in 'dims'")
                e["products"] = [p for p in coords["product"] if p in prods]
        for key in ("min", "max", "plausible_min", "plausible_max"):
            v = e[key]
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                                  or not math.isfinite(v)):
                bad(f"{key!r} must be a number, got {v!r}")
        for lo_key, hi_key in (("min", "max"), ("plausible_min", "plausible_max")):
            if (isinstance(e[lo_key], int | float) and isinstance(e[hi_key], int | float)
                    and e[lo_key] > e[hi_key]):
                bad(f"{lo_key!r} {e[lo_key]} is larger than {hi_key!r} {e[hi_key]}")
        ay = e["allow_years"]
        if ay is not None:
            if not (isinstance(ay, list) and len(ay) == 2 and all(type(y) is int for y in ay)
                    and ay[0] <= ay[1] and YEAR_RANGE[0] <= ay[0] and ay[1] <= YEAR_RANGE[1]):
                bad(f"'allow_years' must be [first, last], two calendar years with first <= "
                    f"last, got {ay!r}")
            elif isinstance(dims, list) and "time" not in dims:
                bad("'allow_years' given but 'time' is not in 'dims'")
        s1 = e["sum_to_one_over"]
        if s1 is not None:
            if not isinstance(s1, str) or s1 not in LABEL_DIMS:
                bad(f"'sum_to_one_over' must be one of {_fmt_list(LABEL_DIMS)}, got {s1!r}")
            elif isinstance(dims, list) and s1 not in dims:
                bad(f"'sum_to_one_over' = {s1!r} is not one of the parameter's dims {dims}")
        for key, allowed in (("interpolation", _INTERPOLATION), ("before", _BEFORE),
                             ("after", _AFTER), ("role", _ROLES)):
            if e[key] not in allowed:
                bad(f"{key!r} must be one of {_fmt_list(allowed)}, got {e[key]!r}")
        mg = e["max_gap"]
        if mg is not None and (type(mg) is not int or mg < 1):
            bad(f"'max_gap' must be a positive integer number of years, got {mg!r}")
        if ok:
            for key in ("min", "max", "plausible_min", "plausible_max"):
                e[key] = None if e[key] is None else float(e[key])
            registry[name] = e
    problems.raise_if_any()
    return registry


def _read_sources(path: Path, files: dict[str, str], root: Path) -> dict[str, dict]:
    lines, cols = _read_csv(path, SOURCE_COLUMNS, files, root,
                            hint=f" (the bibliography; header {','.join(SOURCE_COLUMNS)})")
    problems = _Problems()
    sources: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    tags_lower = {t.lower(): t for t in SOURCE_TAGS}
    for i, line in enumerate(lines):
        key = cols["key"][i]
        if not key:
            problems.add(f"{path}, line {line}: empty key", line=int(line))
            continue
        if key in sources:
            problems.add(f"{path}, line {line}: duplicate key {key!r} (first on line "
                         f"{first_line[key]})", line=int(line))
            continue
        tag = cols["tag"][i]
        if tag.strip("[]").lower() not in tags_lower:
            problems.add(f"{path}, line {line}: tag {tag!r} for {key!r}; expected one of "
                         f"{_fmt_list(SOURCE_TAGS)}", line=int(line))
            continue
        first_line[key] = int(line)
        rec = {c: cols[c][i] for c in SOURCE_COLUMNS if c != "key"}
        rec["tag"] = tags_lower[tag.strip("[]").lower()]
        sources[key] = rec
    problems.raise_if_any()
    return sources


# --------------------------------------------------------------------------------------------
# Data files
# --------------------------------------------------------------------------------------------
def _to_float(col: np.ndarray) -> np.ndarray:
    """Strings -> float (NaN for empty or text)."""
    return pd.to_numeric(pd.Series(col, dtype=object), errors="coerce").to_numpy(dtype=float)


def _list_data_files(root: Path) -> list[Path]:
    """The data files ``*.csv`` (any case of the suffix) of a parameter directory, by name.

    Raises
    ------
    ParameterError
        If ``root`` is missing, not a directory or cannot be listed.
    """
    if "\0" in str(root):
        raise ParameterError(f"{str(root)!r}: a directory name cannot contain a NUL character")
    try:
        with os.scandir(root) as it:
            names = [e.name for e in it]
    except FileNotFoundError:
        raise ParameterError(f"{root}: parameter directory not found") from None
    except NotADirectoryError:
        raise ParameterError(f"{root}: not a directory (expected a parameter directory)") from None
    except OSError as exc:
        raise ParameterError(f"{root}: cannot read the parameter directory: "
                             f"{exc.strerror or exc}") from None
    sheets = sorted(n for n in names if n.lower().endswith(_SPREADSHEETS))
    if sheets:
        raise ParameterError(
            f"{root / sheets[0]}: a spreadsheet in the parameter directory is not read (only "
            f"*.csv files are): edits made in it would be ignored; save the sheet as CSV "
            f"(UTF-8) or move the workbook out of {root}")
    return [root / n for n in sorted(names)
            if n.lower().endswith(".csv") and n.lower() != "sources.csv"]


def load_parameters(path: str | Path | None = None) -> ParameterSet:
    """Read and validate a parameter directory.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Directory with ``model.toml``, ``registry.toml``, ``sources.csv`` and data ``*.csv``
        files. ``None`` (default) reads the packaged default data (:func:`default_params_dir`).

    Returns
    -------
    ParameterSet
        Values in canonical units (``registry.toml`` ``unit``), on the model years.

    Raises
    ------
    ParameterError
        For any problem in the files; the message names the file, the line (header = line 1,
        comment lines counted) or registry key, and what was expected. Up to ten problems are
        listed at once.
    """
    root = Path(path) if path is not None else default_params_dir()
    data_files = _list_data_files(root)
    files: dict[str, str] = {}
    coords = _read_model(root / "model.toml", files, root)
    registry = _read_registry(root / "registry.toml", coords, files, root)
    sources = _read_sources(root / "sources.csv", files, root)
    if not data_files:
        raise ParameterError(f"{root}: no data files (*.csv other than sources.csv)")

    # ---- read all rows into columns ---------------------------------------------------------
    col_parts: dict[str, list[np.ndarray]] = {c: [] for c in DATA_COLUMNS}
    line_parts, file_parts = [], []
    for k, fpath in enumerate(data_files):
        lines, cols = _read_csv(fpath, DATA_COLUMNS, files, root)
        for c in DATA_COLUMNS:
            col_parts[c].append(cols[c])
        line_parts.append(lines)
        file_parts.append(np.full(len(lines), k, dtype=np.int64))
    cols = {c: np.concatenate(v) if v else np.array([], dtype=object) for c, v in col_parts.items()}
    line = np.concatenate(line_parts)
    fidx = np.concatenate(file_parts)
    fnames = [str(p) for p in data_files]
    n = len(line)
    problems = _Problems()

    def add_rows(mask: np.ndarray, make: Any) -> None:
        for i in np.nonzero(mask)[0]:
            problems.add(f"{fnames[fidx[i]]}, line {line[i]}: {make(i)}", int(fidx[i]), int(line[i]))

    # ---- parameter names --------------------------------------------------------------------
    names = list(registry)
    pnames, pinv = np.unique(cols["parameter"], return_inverse=True)
    pmap = np.array([names.index(p) if p in registry else -1 for p in pnames], dtype=np.int64)
    pidx = pmap[pinv] if n else np.zeros(0, dtype=np.int64)
    known = pidx >= 0
    add_rows(
        ~known,
        lambda i: (
            "empty parameter name" if not cols["parameter"][i] else
            f"unknown parameter {cols['parameter'][i]!r}"
            f"{_suggest(cols['parameter'][i], names)} (not in registry.toml)"
        ),
    )
    has_dim = {d: np.array([d in registry[p]["dims"] for p in names]) for d in (*LABEL_DIMS, "time")}

    # ---- labels -----------------------------------------------------------------------------
    lab: dict[str, np.ndarray] = {}
    for d in LABEL_DIMS:
        labels = coords[d]
        col = cols[d]
        u, inv = np.unique(col, return_inverse=True)
        umap = np.array([-1 if x == "" else (labels.index(x) if x in labels else -2) for x in u],
                        dtype=np.int64)
        li = umap[inv] if n else np.zeros(0, dtype=np.int64)
        lab[d] = li
        given = li != -1
        not_dim = known & given & ~has_dim[d][np.maximum(pidx, 0)]
        add_rows(not_dim, lambda i, d=d: (
            f"{d} {cols[d][i]!r} given, but parameter {cols['parameter'][i]!r} has no {d} dim "
            f"(dims {registry[cols['parameter'][i]]['dims']}); leave the {d} cell empty"))
        unknown = known & (li == -2) & ~not_dim
        add_rows(unknown, lambda i, d=d, labels=labels: (
            f"unknown {d} {cols[d][i]!r}{_suggest(cols[d][i], labels)}; allowed: "
            f"{_fmt_list(labels)}"))
        if d == "product":
            prod_ok = np.ones(n, dtype=bool)
            for j, p in enumerate(names):
                prods = registry[p]["products"]
                if prods is None:
                    continue
                allowed = np.isin(np.arange(len(labels)), [labels.index(x) for x in prods])
                sel = (pidx == j) & (li >= 0)
                prod_ok[sel] = allowed[li[sel]]
            add_rows(known & ~prod_ok, lambda i: (
                f"product {cols['product'][i]!r} is not one of the products of parameter "
                f"{cols['parameter'][i]!r}: {_fmt_list(registry[cols['parameter'][i]]['products'])}"))
    # ---- numbers ----------------------------------------------------------------------------
    value = _to_float(cols["value"])
    low_raw = _to_float(cols["low"])
    high_raw = _to_float(cols["high"])
    year_f = _to_float(cols["year"])
    bad_value = ~np.isfinite(value)
    add_rows(known & bad_value, lambda i: (
        "empty value; expected a number" if not cols["value"][i] else
        f"value {cols['value'][i]!r} is not a finite number"))
    for c, arr in (("low", low_raw), ("high", high_raw)):
        bad = (cols[c] != "") & ~np.isfinite(arr)
        add_rows(known & bad, lambda i, c=c: (
            f"{c} {cols[c][i]!r} is not a finite number (leave it empty for no range)"))
    year_given = cols["year"] != ""
    bad_year = year_given & ~(np.isfinite(year_f) & (np.round(year_f) == year_f))
    add_rows(known & bad_year, lambda i: (
        f"year {cols['year'][i]!r} is not an integer year (leave it empty for all years)"))
    no_time = known & year_given & ~has_dim["time"][np.maximum(pidx, 0)]
    add_rows(no_time & ~bad_year, lambda i: (
        f"year {cols['year'][i]} given, but parameter {cols['parameter'][i]!r} has no time dim "
        f"(dims {registry[cols['parameter'][i]]['dims']}); leave the year cell empty"))
    year_ok = year_given & ~bad_year
    year = np.where(year_ok & (np.abs(year_f) < 1e9), np.nan_to_num(year_f), 0).astype(np.int64)
    # data years outside the model years: a typo (2102 for 2012) unless the registry allows them
    span_lo = np.array([year_span(registry[p], coords)[0] for p in names] + [0])
    span_hi = np.array([year_span(registry[p], coords)[1] for p in names] + [0])
    pk = np.where(known, pidx, len(names))
    outside = known & year_ok & ~no_time & ((year_f < span_lo[pk]) | (year_f > span_hi[pk]))
    add_rows(outside, lambda i: year_outside_message(
        cols["year"][i], names[pidx[i]], registry[names[pidx[i]]], coords))
    # ---- sources ----------------------------------------------------------------------------
    src = cols["source"]
    add_rows(known & (src == ""), lambda i: (
        "empty source; every value needs a key from sources.csv (an assumption has a key such "
        "as 'assumption' and a note saying why)"))
    src_known = np.isin(src, list(sources)) if n else np.zeros(0, dtype=bool)
    add_rows(known & (src != "") & ~src_known, lambda i: (
        f"source {src[i]!r}{_suggest(src[i], list(sources))} is not a key in sources.csv"))
    # ---- units ------------------------------------------------------------------------------
    factor = np.full(n, np.nan)
    if n:
        ucol = cols["unit"]
        key = np.char.add(np.char.add(cols["parameter"].astype(str), "\x00"), ucol.astype(str))
        uk, uinv = np.unique(key, return_inverse=True)
        first = np.full(len(uk), -1)
        for i in range(len(uk)):
            rows_i = np.nonzero(uinv == i)[0]
            first[i] = rows_i[0]
            j = pidx[rows_i[0]]
            if j < 0:
                continue
            if ucol[rows_i[0]] == "":
                r = rows_i[0]
                more = len(rows_i) - 1
                problems.add(
                    f"{fnames[fidx[r]]}, line {line[r]}: empty unit for parameter "
                    f"{names[j]!r}; every value needs a unit (e.g. "
                    f"{unit_string(registry[names[j]]['unit'])!r}; '1' for a share)"
                    + (f" (same on {more} more rows)" if more else ""),
                    int(fidx[r]), int(line[r]))
                continue
            p = names[j]
            target = registry[p]["unit"]
            ambiguous = ambiguous_unit_message(ucol[rows_i[0]])
            if ambiguous:
                r = rows_i[0]
                more = len(rows_i) - 1
                problems.add(f"{fnames[fidx[r]]}, line {line[r]}: {ambiguous}"
                             + (f" (same unit on {more} more rows)" if more else ""),
                             int(fidx[r]), int(line[r]))
                continue
            try:
                factor[rows_i] = conversion_factor(ucol[rows_i[0]], target,
                                                   f"unit of parameter {p!r}")
            except UnitError as exc:
                more = len(rows_i) - 1
                msg = str(exc)
                for r in rows_i[:1]:
                    problems.add(
                        f"{fnames[fidx[r]]}, line {line[r]}: {msg}"
                        + (f" (same unit on {more} more rows)" if more else ""),
                        int(fidx[r]), int(line[r]))
    with np.errstate(over="ignore"):  # an overflow to inf is reported below
        value_c = value * factor
        low_c = np.where(np.isfinite(low_raw), low_raw, value) * factor
        high_c = np.where(np.isfinite(high_raw), high_raw, value) * factor
    # ---- bounds and ranges (row level) ------------------------------------------------------
    ok_num = known & ~np.isnan(value_c) & ~np.isnan(low_c) & ~np.isnan(high_c)
    overflow = ok_num & ~(np.isfinite(value_c) & np.isfinite(low_c) & np.isfinite(high_c))
    add_rows(overflow, lambda i: (
        f"value {cols['value'][i]} {cols['unit'][i]} (or its low/high) is too large: not a finite "
        f"number in {unit_string(registry[names[pidx[i]]]['unit'])}"))
    ok_num &= ~overflow
    add_rows(ok_num & (low_c > value_c), lambda i: (
        f"low {cols['low'][i]} is larger than value {cols['value'][i]}"))
    add_rows(ok_num & (high_c < value_c), lambda i: (
        f"high {cols['high'][i]} is smaller than value {cols['value'][i]}"))
    bmin = np.array([_nan_if_none(_bounds(registry[p])[0]) for p in names] + [np.nan])
    bmax = np.array([_nan_if_none(_bounds(registry[p])[1]) for p in names] + [np.nan])
    pj = np.where(known, pidx, len(names))
    for what, arr in (("value", value_c), ("low", low_c), ("high", high_c)):
        # an empty low/high cell equals the value: report the value only
        given = np.ones(n, dtype=bool) if what == "value" else cols[what] != ""
        with np.errstate(invalid="ignore"):
            below = ok_num & given & (arr < bmin[pj])
            above = ok_num & given & (arr > bmax[pj])
        add_rows(below, lambda i, what=what, arr=arr: (
            f"{what} {_with_unit(arr[i], registry[names[pidx[i]]]['unit'])} of parameter "
            f"{names[pidx[i]]!r} is below its minimum {bmin[pidx[i]]:g}"))
        add_rows(above, lambda i, what=what, arr=arr: (
            f"{what} {_with_unit(arr[i], registry[names[pidx[i]]]['unit'])} of parameter "
            f"{names[pidx[i]]!r} is above its maximum {bmax[pidx[i]]:g}"))
        pmin = np.array([_nan_if_none(registry[p]["plausible_min"]) for p in names] + [np.nan])
        pmax = np.array([_nan_if_none(registry[p]["plausible_max"]) for p in names] + [np.nan])
        with np.errstate(invalid="ignore"):
            low_p = ok_num & given & ~below & (arr < pmin[pj])
            high_p = ok_num & given & ~above & (arr > pmax[pj])
        add_rows(low_p | high_p, lambda i, what=what, arr=arr: implausible_message(
            what, arr[i], names[pidx[i]], registry[names[pidx[i]]]))
    # ---- duplicate rows ---------------------------------------------------------------------
    ykey = np.where(year_given, year, _ALL_YEARS)
    if n:
        order = np.lexsort((line, fidx, ykey, lab["stage"], lab["product"], lab["region"], pidx))
        keys = np.stack([pidx, lab["region"], lab["product"], lab["stage"], ykey])[:, order]
        same = np.all(keys[:, 1:] == keys[:, :-1], axis=0) & known[order][1:]
        for k in np.nonzero(same)[0]:
            a, b = order[k], order[k + 1]
            yr = "all years" if not year_given[b] else f"year {year[b]}"
            problems.add(
                f"{fnames[fidx[b]]}, line {line[b]}: duplicate row for parameter "
                f"{cols['parameter'][b]!r} ({_labels_text(cols, b)}, {yr}); first given in "
                f"{fnames[fidx[a]]}, line {line[a]}", int(fidx[b]), int(line[b]))
    problems.raise_if_any()

    # ---- registry parameters without data ---------------------------------------------------
    present = np.zeros(len(names), dtype=bool)
    present[np.unique(pidx)] = True
    for j in np.nonzero(~present)[0]:
        problems.add(f"{root / 'registry.toml'}, [parameters.{names[j]}]: no data rows for this "
                     f"parameter in any data file ({_fmt_list(p.name for p in data_files)})")
    problems.raise_if_any()

    # ---- per parameter: resolve wildcards, interpolate --------------------------------------
    time = np.asarray(coords["time"], dtype=np.int64)
    order_all = np.argsort(pidx, kind="stable")
    bounds_idx = np.searchsorted(pidx[order_all], np.arange(len(names) + 1))
    vals_ds: dict[str, xr.Variable] = {}
    low_ds: dict[str, xr.Variable] = {}
    high_ds: dict[str, xr.Variable] = {}
    ctx = _Context(fnames, fidx, line, cols, problems, coords, time)
    provenance: dict[str, _Provenance] = {}
    for j, p in enumerate(names):
        rows = order_all[bounds_idx[j]:bounds_idx[j + 1]]
        entry = registry[p]
        built = _build_parameter(p, entry, rows, lab, year_given, year, value_c, low_c, high_c, ctx)
        if built is None:
            continue
        v, lo, hi, provenance[p] = built
        used = sorted(set(src[rows]))
        attrs = {
            "units": unit_string(entry["unit"]),
            "description": entry["description"],
            "long_name": entry["description"],
            "source": ", ".join(used),
            "role": entry["role"],
        }
        for da in (v, lo, hi):
            da.attrs.update(attrs)
        vals_ds[p], low_ds[p], high_ds[p] = v, lo, hi
    problems.raise_if_any()
    ds_coords = {
        "time": time,
        "region": np.asarray(coords["region"], dtype=object),
        "product": np.asarray(coords["product"], dtype=object),
        "stage": np.asarray(coords["stage"], dtype=object),
    }
    ds_attrs = {"params_dir": str(root)}
    values_ds = xr.Dataset(vals_ds, coords=ds_coords, attrs=ds_attrs)
    low_dset = xr.Dataset(low_ds, coords=ds_coords, attrs=ds_attrs)
    high_dset = xr.Dataset(high_ds, coords=ds_coords, attrs=ds_attrs)
    # ---- checks after interpolation ---------------------------------------------------------
    for p in names:
        entry = registry[p]
        rows_at = None
        if entry["sum_to_one_over"]:
            rows_at = provenance[p].rows_text(entry["sum_to_one_over"], ctx)
        for msg in _check_values(p, entry, values_ds[p], low_dset[p], high_dset[p], rows_at):
            problems.add(f"after interpolation onto the model years "
                         f"{coords['time'][0]}-{coords['time'][-1]}: {msg}")
    problems.raise_if_any()

    table = pd.DataFrame({
        "parameter": cols["parameter"],
        "region": cols["region"],
        "product": cols["product"],
        "stage": cols["stage"],
        "year": pd.array(np.where(year_given, year, 0), dtype="Int64"),
        "value": value_c,
        "unit": np.array([unit_string(registry[p]["unit"]) for p in names], dtype=object)[pidx],
        "low": np.where(np.isfinite(low_raw), low_c, np.nan),
        "high": np.where(np.isfinite(high_raw), high_c, np.nan),
        "source": src,
        "note": cols["note"],
        "file": [data_files[k].name for k in fidx],
        "line": line,
    })
    table.loc[~year_given, "year"] = pd.NA
    return ParameterSet(
        values=values_ds,
        low=low_dset,
        high=high_dset,
        table=table,
        sources=sources,
        registry=registry,
        files=dict(sorted(files.items())),
        coords={k: list(v) for k, v in coords.items()},
        path=root,
    )


def _with_unit(value: float, unit: str) -> str:
    """``"1.5 t/yr"``, or just ``"1.5"`` for a dimensionless (share) parameter."""
    u = unit_string(unit)
    return f"{value:g}" if u == "1" else f"{value:g} {u}"


def year_span(entry: dict, coords: Mapping[str, list]) -> tuple[int, int]:
    """First and last year a data row or scenario point of this parameter may name.

    The model years (``model.toml`` ``[time]``), widened by the registry's ``allow_years``.
    """
    lo, hi = coords["time"][0], coords["time"][-1]
    allow = entry.get("allow_years")
    if allow:
        lo, hi = min(lo, allow[0]), max(hi, allow[1])
    return lo, hi


def year_outside_message(year: Any, name: str, entry: dict, coords: Mapping[str, list]) -> str:
    """Message for a data or scenario year outside the years allowed for parameter ``name``."""
    lo, hi = coords["time"][0], coords["time"][-1]
    allow = entry.get("allow_years")
    extra = f" or its registry allow_years {list(allow)}" if allow else ""
    return (f"year {year} of parameter {name!r} is outside the model years {lo}-{hi} "
            f"(model.toml [time]){extra}; a typo? If points beyond the model years are meant "
            f"(for interpolation), declare allow_years = [first, last] for {name!r} in "
            f"registry.toml")



def implausible_message(what: str, value: float, name: str, entry: dict) -> str:
    """Message for a value outside the registry's ``plausible_min``/``plausible_max``."""
    lo, hi = entry.get("plausible_min"), entry.get("plausible_max")
    unit = entry["unit"]
    if hi is not None and value > hi:
        side = f"above the plausible maximum {_with_unit(hi, unit)}"
    else:
        side = f"below the plausible minimum {_with_unit(lo, unit)}"
    return (f"{what} {_with_unit(value, unit)} of parameter {name!r} is {side} (registry.toml "
            f"plausible_min/plausible_max, reasons in params/README.md); check the number and "
            f"its unit")



_AMBIGUOUS_TON = re.compile(r"(?<![A-Za-z_])((?:kilo|mega|giga|k|M|G)?tons?)(?![A-Za-z_])")


def ambiguous_unit_message(unit: str) -> str | None:
    """Why ``unit`` is ambiguous, or None.

    pint reads ``ton`` (and ``kton``, ``megaton``...) as the US short ton of 907.18 kg, while a
    data table written in tonnes often says "ton": refused, so that ``t`` (tonne), ``short_ton``
    or ``long_ton`` must be written out.
    """
    m = _AMBIGUOUS_TON.search(unit)
    if m is None:
        return None
    return (f"unit {unit!r}: {m.group(1)!r} is ambiguous (pint reads it as the US short ton "
            f"of 907.18 kg); write 't' (or 'kt', 'Mt') for metric tonnes, or 'short_ton' / "
            f"'long_ton'")


def _nan_if_none(x: float | None) -> float:
    return math.nan if x is None else x


def _labels_text(cols: dict[str, np.ndarray], i: int) -> str:
    parts = [f"{d}={cols[d][i] or '*'}" for d in LABEL_DIMS if cols[d][i]]
    return ", ".join(parts) if parts else "all labels"


@dataclass
class _Context:
    fnames: list[str]
    fidx: np.ndarray
    line: np.ndarray
    cols: dict[str, np.ndarray]
    problems: _Problems
    coords: dict[str, list]
    time: np.ndarray

    def at(self, r: int) -> str:
        return f"{self.fnames[self.fidx[r]]}, line {self.line[r]}"

    def add(self, r: int, msg: str) -> None:
        self.problems.add(f"{self.at(r)}: {msg}", int(self.fidx[r]), int(self.line[r]))


@dataclass
class _Provenance:
    """Which data row gives each (cell, year) point of one parameter after precedence.

    Cells are raveled over ``ldims`` (the parameter's label dims, declared order) with sizes
    ``full``; a constant row has the year ``_ALL_YEARS``.
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
        if year is None or (years == _ALL_YEARS).any():
            return [int(r) for r in rows[years == _ALL_YEARS][:1]] or [int(rows[0])]
        before, after = years <= year, years >= year
        out = []
        if before.any():
            out.append(int(rows[before][np.argmax(years[before])]))
        if after.any():
            out.append(int(rows[after][np.argmin(years[after])]))
        return sorted(set(out))

    def rows_text(self, dim: str, ctx: _Context) -> Callable[[dict], str]:
        """``position -> "rows: FILE lines a, b; FILE2 line c"`` for the cells summed over ``dim``."""

        def text(position: dict) -> str:
            year = int(ctx.time[position["time"]]) if "time" in position else None
            rows: list[int] = []
            k_dim = self.ldims.index(dim)
            for k in range(self.full[k_dim]):
                idx = [k if d == dim else position[d] for d in self.ldims]
                rows += self.rows_of(int(np.ravel_multi_index(idx, self.full)), year)
            by_file: dict[str, list[int]] = {}
            for r in sorted(set(rows), key=lambda r: (ctx.fidx[r], ctx.line[r])):
                by_file.setdefault(ctx.fnames[ctx.fidx[r]], []).append(int(ctx.line[r]))
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


def _build_parameter(
    name: str,
    entry: dict,
    rows: np.ndarray,
    lab: dict[str, np.ndarray],
    year_given: np.ndarray,
    year: np.ndarray,
    value: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    ctx: _Context,
) -> tuple[xr.Variable, xr.Variable, xr.Variable, _Provenance] | None:
    """Expand wildcards, resolve precedence, interpolate one parameter onto the model years."""
    coords = ctx.coords
    dims = list(entry["dims"])
    ldims = [d for d in dims if d != "time"]
    has_time = "time" in dims
    full = [len(coords[d]) for d in ldims]
    allowed = []
    for d in ldims:
        if d == "product" and entry["products"] is not None:
            allowed.append(np.array([coords["product"].index(p) for p in entry["products"]]))
        else:
            allowed.append(np.arange(len(coords[d])))
    # -- expand wildcard rows into cells (vectorised mixed-radix expansion)
    nr = len(rows)
    counts = np.ones((len(ldims), nr), dtype=np.int64)
    for k, d in enumerate(ldims):
        counts[k] = np.where(lab[d][rows] == -1, len(allowed[k]), 1)
    rep = counts.prod(axis=0) if ldims else np.ones(nr, dtype=np.int64)
    src_row = np.repeat(np.arange(nr), rep)
    offsets = np.repeat(np.cumsum(rep) - rep, rep)
    local = np.arange(src_row.size) - offsets
    cell_labels = []
    stride = np.ones(nr, dtype=np.int64)
    for k in range(len(ldims) - 1, -1, -1):
        d = ldims[k]
        c = counts[k][src_row]
        pos = (local // stride[src_row]) % c
        li = lab[d][rows][src_row]
        cell_labels.append(np.where(li == -1, allowed[k][pos], li))
        stride = stride * counts[k]
    cell_labels = cell_labels[::-1]
    cell = (np.ravel_multi_index(cell_labels, full) if ldims
            else np.zeros(src_row.size, dtype=np.int64))
    spec = np.zeros(nr, dtype=np.int64)
    for d in ldims:
        spec += lab[d][rows] >= 0
    r_glob = rows[src_row]
    e_spec = spec[src_row]
    e_year = np.where(year_given[r_glob], year[r_glob], _ALL_YEARS)
    # -- precedence: per (cell, year) the most specific row wins
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
        first, second = sorted((a, b), key=lambda r: (ctx.fidx[r], ctx.line[r]))
        yr = "all years" if y_s[k] == _ALL_YEARS else f"year {y_s[k]}"
        ctx.add(second, f"ambiguous rows for parameter {name!r}: this row and {ctx.at(first)} "
                        f"both set {_cell_text(ldims, coords, c_s[k], full)}, {yr}, with the "
                        f"same number of named dims; name the cell explicitly in one row")
    if tie.any():
        return None
    w_cell, w_year, w_spec, w_row = c_s[new_group], y_s[new_group], s_s[new_group], r_s[new_group]
    # -- constant rows versus dated rows in the same cell
    ncell = int(np.prod(full)) if ldims else 1
    is_const = w_year == _ALL_YEARS
    const_spec = np.full(ncell, -1, dtype=np.int64)
    const_row = np.full(ncell, -1, dtype=np.int64)
    const_spec[w_cell[is_const]] = w_spec[is_const]
    const_row[w_cell[is_const]] = w_row[is_const]
    dated_spec = np.full(ncell, -1, dtype=np.int64)
    np.maximum.at(dated_spec, w_cell[~is_const], w_spec[~is_const])
    both_equal = (const_spec >= 0) & (const_spec == dated_spec)
    for c in np.nonzero(both_equal)[0][:3]:
        dated_rows = w_row[(w_cell == c) & ~is_const & (w_spec == dated_spec[c])]
        ctx.add(const_row[c], f"parameter {name!r}, {_cell_text(ldims, coords, c, full)}: this "
                              f"row has no year (a constant) but {ctx.at(dated_rows[0])} gives "
                              f"a year for the same cell; give years in all rows or none")
    if both_equal.any():
        return None
    use_const = const_spec > dated_spec  # also True if only a constant row exists
    keep = np.where(is_const, use_const[w_cell], ~use_const[w_cell])
    w_cell, w_year, w_row = w_cell[keep], w_year[keep], w_row[keep]
    # -- missing combinations
    needed = np.zeros(full if ldims else (), dtype=bool)
    if ldims:
        needed[np.ix_(*allowed)] = True
    needed = needed.ravel()
    covered = np.zeros(ncell, dtype=bool)
    covered[w_cell] = True
    missing = np.nonzero(needed & ~covered)[0]
    if missing.size:
        shown = "; ".join(_cell_text(ldims, coords, c, full) for c in missing[:5])
        more = f" (and {missing.size - 5} more)" if missing.size > 5 else ""
        first_row = rows[np.argmin(ctx.fidx[rows] * 10**9 + ctx.line[rows])]
        ctx.problems.add(
            f"parameter {name!r} (dims {dims}): no data for {shown}{more}; add rows for these "
            f"combinations or a wildcard row (empty {'/'.join(ldims)} cell); first row of this "
            f"parameter: {ctx.at(first_row)}", int(ctx.fidx[first_row]), int(ctx.line[first_row]))
        return None
    # -- values per cell
    nt = len(ctx.time)
    out = np.full((ncell, nt if has_time else 1, 3), np.nan)
    triple = np.stack([value[w_row], low[w_row], high[w_row]], axis=-1)
    const = w_year == _ALL_YEARS
    out[w_cell[const]] = triple[const][:, None, :]
    dated = ~const
    if dated.any():
        d_cells, d_inv = np.unique(w_cell[dated], return_inverse=True)
        g_years, g_inv = np.unique(w_year[dated], return_inverse=True)
        pts = np.full((d_cells.size, g_years.size, 3), np.nan)
        pts[d_inv, g_inv] = triple[dated]
        # max gap between given years
        if entry["max_gap"] is not None:
            o = np.lexsort((w_year[dated], w_cell[dated]))
            cc, yy, rr = w_cell[dated][o], w_year[dated][o], w_row[dated][o]
            gap = np.diff(yy)
            bad = (cc[1:] == cc[:-1]) & (gap > entry["max_gap"])
            for k in np.nonzero(bad)[0][:MAX_MESSAGES]:
                ctx.add(rr[k + 1], f"parameter {name!r}, {_cell_text(ldims, coords, cc[k], full)}: "
                                   f"gap of {gap[k]} years between {yy[k]} and {yy[k + 1]} "
                                   f"(previous point {ctx.at(rr[k])}); registry max_gap is "
                                   f"{entry['max_gap']} years")
            if bad.any():
                return None
        res, early, late = interpolate_points(
            pts, g_years, ctx.time, entry["interpolation"], entry["before"], entry["after"])
        for flags, side in ((early, "before"), (late, "after")):
            for c in np.nonzero(flags)[0][:3]:
                cell_rows = w_row[dated][d_inv == c]
                yrs = w_year[dated][d_inv == c]
                k = np.argmin(yrs) if side == "before" else np.argmax(yrs)
                model_edge = ctx.time[0] if side == "before" else ctx.time[-1]
                ctx.add(cell_rows[k], (
                    f"parameter {name!r}, {_cell_text(ldims, coords, d_cells[c], full)}: the "
                    f"{'first' if side == 'before' else 'last'} given year is {yrs[k]} but the "
                    f"model {'starts' if side == 'before' else 'ends'} in {model_edge}, and "
                    f"registry.toml says {side} = 'error' for this parameter; add data "
                    f"{'back to' if side == 'before' else 'up to'} {model_edge}"))
        if early.any() or late.any():
            return None
        out[d_cells] = res
    # -- assemble (ldims..., time) then transpose to the declared order
    shape = [*full, nt] if has_time else full
    arr = out.reshape(*full, out.shape[1], 3) if ldims else out.reshape(out.shape[1], 3)
    if not has_time:
        arr = arr[..., 0, :]
    arr = arr.reshape(*shape, 3)
    adims = [*ldims, "time"] if has_time else ldims
    result = [xr.Variable(adims, arr[..., k]).transpose(*dims) for k in range(3)]
    return result[0], result[1], result[2], _Provenance(ldims, full, w_cell, w_year, w_row)


def _cell_text(ldims: list[str], coords: dict[str, list], cell: int, full: list[int]) -> str:
    if not ldims:
        return "(no dims)"
    idx = np.unravel_index(int(cell), full)
    return ", ".join(f"{d}={coords[d][i]}" for d, i in zip(ldims, idx, strict=True))
