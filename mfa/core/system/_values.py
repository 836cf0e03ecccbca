"""Checks of the values handed to a process system: names, dims, units, coordinates, initial stocks.

Functions of a :class:`~mfa.core.system.ProcessSystem` (``system``), called by its
:meth:`~mfa.core.system.ProcessSystem.to_dataset`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pint
import xarray as xr

from mfa.core._fastpath import like
from mfa.core.errors import MfaError
from mfa.core.system._parts import FLOW_UNIT, STOCK_UNIT, Flow, Stock, _reduce, _short
from mfa.core.units import to_canonical, unit_string

if TYPE_CHECKING:
    from mfa.core.system._process_system import ProcessSystem


def _broadcast_kept(system: ProcessSystem, values: Mapping[str, xr.DataArray]) -> dict[str, xr.DataArray]:
    """Broadcast values lacking a kept dim (e.g. ``sample``) over it, attrs kept.

    A flow computed only from parameters without a ``sample`` dim is the same in every
    sample; the labels of the kept dim come from the values that have it.
    """
    out = dict(values)
    if not system.kept_dims:
        return out
    have = {d: next((da[d] for da in values.values() if d in da.dims), None)
            for d in system.kept_dims}
    for key, da in values.items():
        lacking = [d for d in system.kept_dims if d not in da.dims and have[d] is not None]
        if lacking:
            shape = [have[d].size for d in lacking]
            ones = xr.DataArray(np.ones(shape), dims=lacking,
                                coords={d: have[d].values for d in lacking if d in have[d].coords})
            out[key] = (da * ones).assign_attrs(da.attrs)
            out[key].name = da.name
    return out


def _declared(system: ProcessSystem, values: Any) -> dict[str, tuple[Flow | Stock, str]]:
    """Flow and stock declarations by name, with their unit; ``values`` must name them all."""
    if not isinstance(values, Mapping):
        raise MfaError(
            f"system {system.name!r}: values must be a mapping of name -> DataArray, "
            f"got {type(values).__name__}"
        )
    declared: dict[str, tuple[Flow | Stock, str]] = {f.name: (f, FLOW_UNIT) for f in system.flows}
    declared.update({s.name: (s, STOCK_UNIT) for s in system.stocks})
    given = [str(k) for k in values]
    unknown = [k for k in given if k not in declared]
    missing = [k for k in declared if k not in values]
    if unknown:
        raise MfaError(
            f"system {system.name!r}: unknown flow/stock name(s) {', '.join(map(repr, unknown))}; "
            f"declared: {', '.join(declared)}"
            + (f" (missing: {', '.join(missing)})" if missing else "")
        )
    if missing:
        raise MfaError(
            f"system {system.name!r}: no values for declared flow/stock(s) "
            f"{', '.join(map(repr, missing))}"
        )
    for key, (decl, _) in declared.items():
        if not isinstance(values[key], xr.DataArray):
            kind = "flow" if isinstance(decl, Flow) else "stock"
            raise MfaError(
                f"system {system.name!r}: {kind} {key!r} must be an xarray.DataArray with "
                f"units, got {type(values[key]).__name__}"
            )
    return declared


def _check_coords(system: ProcessSystem, kind: str, key: str, da: xr.DataArray, dims: tuple,
                  coords: dict[str, tuple[str, np.ndarray | None, int]]) -> None:
    """Check the labels of ``da`` along ``dims`` against those seen so far (updates ``coords``:
    dim -> (owner, labels, size))."""
    for dim in dims:
        coord = da.coords.variables.get(dim)  # the Variable: no DataArray made per dim
        labels = None if coord is None else np.asarray(coord.values)
        if dim in ("time", system.region_dim) and labels is None:
            raise MfaError(
                f"system {system.name!r}: {kind} {key!r}: dim {dim!r} has no coordinate labels"
            )
        seen = coords.get(dim)
        if seen is None:
            coords[dim] = (key, labels, da.sizes[dim])
            continue
        owner, ref, size = seen
        same = size == da.sizes[dim] and (
            ref is None or labels is None or np.array_equal(ref, labels)
        )
        if not same:
            raise MfaError(
                f"system {system.name!r}: {kind} {key!r}: coordinate {dim!r} "
                f"{_short(labels, da.sizes[dim])} differs from that of {owner!r} "
                f"{_short(ref, size)}"
            )
        if ref is None and labels is not None:
            coords[dim] = (key, labels, size)


def _check_years(system: ProcessSystem, time: np.ndarray | None) -> None:
    """The time labels are not empty, and consecutive when there are stocks."""
    if time is not None and time.size == 0:
        raise MfaError(f"system {system.name!r}: the time coordinate is empty")
    if time is not None and system.stocks and time.size > 1:
        steps = np.diff(time.astype(float))
        if not np.all(steps == 1.0):
            raise MfaError(
                f"system {system.name!r}: years must be consecutive (step 1) to compute stock "
                f"changes; got {_short(time, time.size)}"
            )


@functools.lru_cache(maxsize=8)
def _written(unit: str) -> str:
    return unit_string(unit)


def _canonical(da: xr.DataArray, unit: str, name: str, dims: tuple[str, ...]) -> xr.DataArray:
    """:func:`~mfa.core.units.to_canonical`, transposed to ``dims``, without parsing a unit
    that is already the canonical one (the arrays of a model run and of every Monte Carlo
    chunk): then one shallow copy (its own attrs), not three."""
    if (not isinstance(da.data, pint.Quantity) and da.dtype == np.float64
            and da.attrs.get("units") in (unit, _written(unit))):
        if da.dims == tuple(dims):  # a new DataArray and Variable (own attrs) on the same
            # coordinate objects (so that :func:`dataset` finds them identical): no transpose
            out = like(da, da.variable.copy(deep=False))
        else:
            out = da.transpose(*dims)  # a new DataArray and Variable (attrs copied)
        out.attrs["units"] = _written(unit)
        return out
    return to_canonical(da, unit, name=name).transpose(*dims)


def validate(system: ProcessSystem, values: Mapping[str, Any]) -> dict[str, xr.DataArray]:
    """Check names, dims and units of ``values``; return canonical float arrays."""
    declared = _declared(system, values)
    values = _broadcast_kept(system, values)
    out: dict[str, xr.DataArray] = {}
    coords: dict[str, tuple[str, np.ndarray | None, int]] = {}  # dim -> (owner, labels, size)
    for key, (decl, unit) in declared.items():
        kind = "flow" if isinstance(decl, Flow) else "stock"
        da = values[key]
        if set(da.dims) != set(decl.dims) or len(da.dims) != len(decl.dims):
            raise MfaError(
                f"system {system.name!r}: {kind} {key!r} has dims {tuple(da.dims)}, "
                f"declared {decl.dims}"
            )
        da = _canonical(da, unit, f"{kind} {key!r}", decl.dims)
        da.name = key
        _check_coords(system, kind, key, da, decl.dims, coords)
        out[key] = da
    _check_years(system, coords["time"][1] if "time" in coords else None)
    return out


def _initial_array(system: ProcessSystem, s: Stock, value: Any,
                   template: xr.DataArray) -> np.ndarray:
    """One initial stock reduced to (region, kept dims) [t]."""
    dims = tuple(d for d in s.dims if d != "time")
    label = f"initial stock {s.name!r}"
    if isinstance(value, pint.Quantity) and np.ndim(value.magnitude) == 0:
        value = xr.DataArray(value.magnitude, attrs={"units": str(value.units)})
    if not isinstance(value, xr.DataArray):
        raise MfaError(
            f"system {system.name!r}: {label} must be a DataArray with units or a pint "
            f"Quantity, got {type(value).__name__}"
        )
    if not set(value.dims) <= set(dims):
        raise MfaError(
            f"system {system.name!r}: {label} has dims {tuple(value.dims)}, expected a "
            f"subset of {dims}"
        )
    value = to_canonical(value, STOCK_UNIT, name=label)
    try:
        xr.align(value, template, join="exact")
    except ValueError as exc:
        raise MfaError(
            f"system {system.name!r}: {label}: coordinates differ ({exc})"
        ) from None
    value = value.broadcast_like(template).transpose(*template.dims)
    return _reduce(value.values, dims, keep=(system._rd, *system.kept_dims))


def initial_stocks(
    system: ProcessSystem, initial_stocks: Mapping[str, Any] | None, arrays: dict[str, xr.DataArray]
) -> dict[str, np.ndarray]:
    """Initial stocks reduced to (region,) or () float arrays in t; default 0."""
    initial_stocks = dict(initial_stocks or {})
    names = {s.name for s in system.stocks}
    unknown = [k for k in initial_stocks if k not in names]
    if unknown:
        raise MfaError(
            f"system {system.name!r}: initial stock given for unknown stock(s) "
            f"{', '.join(map(repr, unknown))}; stocks: {', '.join(sorted(names)) or 'none'}"
        )
    return {
        s.name: _initial_array(system, s, initial_stocks[s.name],
                               arrays[s.name].isel(time=0, drop=True))
        for s in system.stocks if initial_stocks.get(s.name) is not None
    }


def dataset(arrays: dict[str, xr.DataArray]) -> xr.Dataset:
    """The arrays (whose labels :func:`validate` has checked to agree) as one Dataset, built
    from their variables and one coordinate per name: without the alignment of adding them as
    DataArrays (~40 % of :meth:`~mfa.core.system.ProcessSystem.to_dataset`). Raises if two
    arrays still differ in a coordinate."""
    coords: dict[str, xr.Variable] = {}
    for key, da in arrays.items():
        for name, coord in da.coords.variables.items():
            known = coords.get(name)
            if known is None:
                coords[name] = coord
            elif known is not coord and not known.equals(coord):
                raise MfaError(f"{key!r}: coordinate {name!r} differs from that of the other "
                               "flows and stocks")
    return xr.Dataset({key: da.variable for key, da in arrays.items()}, coords=coords)
