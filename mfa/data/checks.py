"""Checks of parameter values against their registry entry, shared by the loader,
:meth:`ParameterSet.with_values <mfa.data.params.ParameterSet.with_values>` and scenarios, and
the messages they share."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from mfa.core.units import unit_string

__all__ = [
    "SUM_TOLERANCE",
    "ambiguous_unit_message",
    "applicable",
    "applicable_mask",
    "bounds",
    "check_parameter_values",
    "check_values",
    "describe",
    "implausible_message",
    "with_unit",
    "year_outside_message",
    "year_span",
]

#: Allowed distance of a ``sum_to_one_over`` sum from 1.
SUM_TOLERANCE = 1e-6


def with_unit(value: float, unit: str) -> str:
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
        side = f"above the plausible maximum {with_unit(hi, unit)}"
    else:
        side = f"below the plausible minimum {with_unit(lo, unit)}"
    return (f"{what} {with_unit(value, unit)} of parameter {name!r} is {side} (registry.toml "
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


def applicable(entry: dict, dims: tuple | list, labels: Mapping[str, Any]) -> np.ndarray | None:
    """Boolean array (broadcastable to ``dims``) of the cells the parameter applies to.

    ``labels[d]`` are the labels along dim ``d``; None means every cell (no registry
    ``labels``).
    """
    mask = None
    for d, chosen in (entry.get("labels") or {}).items():
        if d not in dims:
            continue
        shape = [1] * len(dims)
        shape[list(dims).index(d)] = -1
        flags = np.isin(np.asarray(labels[d], dtype=object), chosen).reshape(shape)
        mask = flags if mask is None else mask & flags
    return mask


def applicable_mask(entry: dict, coords: Mapping[str, list], da: xr.DataArray) -> xr.DataArray | None:
    """:func:`applicable` as a DataArray over the restricted dims of ``da`` (None: all)."""
    restricted = [d for d in (entry.get("labels") or {}) if d in da.dims]
    if not restricted:
        return None
    flags = applicable(entry, restricted, coords)
    return xr.DataArray(flags, dims=restricted, coords={d: da[d].values for d in restricted})


def describe(dims: list, labels: Mapping[str, Any], flags: np.ndarray, limit: int = 3) -> list[str]:
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
    return describe(list(da.dims), labels, flags, limit)


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


def bounds(entry: dict) -> tuple[float | None, float | None]:
    """Hard bounds (``min``, ``max``); ``[0, 1]`` within them for a ``sum_to_one_over`` share."""
    lo, hi = entry.get("min"), entry.get("max")
    if entry.get("sum_to_one_over"):
        lo = 0.0 if lo is None else max(lo, 0.0)
        hi = 1.0 if hi is None else min(hi, 1.0)
    return lo, hi


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
    return check_values(name, entry, values, low, high)


def check_values(
    name: str,
    entry: dict,
    values: xr.DataArray,
    low: xr.DataArray | None = None,
    high: xr.DataArray | None = None,
    rows_at: Callable[[dict], str] | None = None,
) -> list[str]:
    """:func:`check_parameter_values`; ``rows_at`` names the rows of a cell whose sum fails."""
    problems: list[str] = []
    arrays = {"value": values}
    if low is not None:
        arrays["low"] = low
    if high is not None:
        arrays["high"] = high
    for what, da in arrays.items():
        problems += _check_array(name, entry, what, da, plausible=not problems)
    if not problems:
        problems += _check_range(name, values, low, high)
    if not problems:
        msg = _sum_to_one_problem(name, entry, values, rows_at)
        if msg:
            problems.append(msg)
    return problems


def _check_array(name: str, entry: dict, what: str, da: xr.DataArray,
                 plausible: bool = True) -> list[str]:
    """Finite values within the bounds, then (if ``plausible``) the plausibility bounds, where
    the parameter applies."""
    data = np.asarray(da.values, dtype=float)
    app = applicable(entry, da.dims, {d: da[d].values for d in da.dims if d in da.coords})
    app = np.ones(data.shape, dtype=bool) if app is None else np.broadcast_to(app, data.shape)
    bad = app & ~np.isfinite(data)
    if bad.any():
        return [f"parameter {name!r}: {what} is not a finite number at "
                f"{'; '.join(_where(da, bad))}"
                + (f" (and {int(bad.sum()) - 3} more)" if bad.sum() > 3 else "")]
    problems = []
    lo_b, hi_b = bounds(entry)
    unit = entry["unit"]
    limits = (("min", lo_b, "below the minimum", False), ("max", hi_b, "above the maximum", False))
    soft = (("min", entry.get("plausible_min"), "below the plausible minimum", True),
            ("max", entry.get("plausible_max"), "above the plausible maximum", True))
    for group in (limits, soft) if plausible else (limits,):
        for side, bound, text, with_units in group:
            if bound is None:
                continue
            with np.errstate(invalid="ignore"):
                bad = app & ((data < bound) if side == "min" else (data > bound))
            if not bad.any():
                continue
            found = data[bad].min() if side == "min" else data[bad].max()
            if with_units:
                problems.append(
                    f"parameter {name!r}: {what} {with_unit(found, unit)} {text} "
                    f"{with_unit(bound, unit)} (registry.toml plausible_{side}) at "
                    f"{'; '.join(_where(da, bad))}")
            else:
                problems.append(f"parameter {name!r}: {what} {found:g} {text} {bound:g} at "
                                f"{'; '.join(_where(da, bad))}")
        if problems:
            break
    return problems


def _check_range(name: str, values: xr.DataArray, low: xr.DataArray | None,
                 high: xr.DataArray | None) -> list[str]:
    """``low <= value <= high``."""
    problems = []
    for what, other in (("low", low), ("high", high)):
        if other is None:
            continue
        dims, v, o, labels = _broadcast_pair(values, other)
        with np.errstate(invalid="ignore"):
            gap = (o - v) if what == "low" else (v - o)
            flags = gap > 1e-12 * np.abs(v) + 1e-300
        if flags.any():
            rel = "above" if what == "low" else "below"
            problems.append(f"parameter {name!r}: {what} {rel} value at "
                            f"{'; '.join(describe(dims, labels, flags))}")
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
    locs = describe(rest, labels, bad)
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
