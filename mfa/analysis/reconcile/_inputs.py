"""The reconciliation's inputs: the system's variables and balance matrix, the data read and checked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pint
import xarray as xr

from mfa.core.errors import MfaError
from mfa.core.system import ProcessSystem
from mfa.core.units import parse_unit, to_canonical

#: Unit of every reconciled value (flows and stock changes).
FLOW_UNIT = "t/yr"
_META = ("kind", "source", "target", "process")  # coordinates along `variable`


# ------------------------------------------------------------------------------ structure
def _variables(system: ProcessSystem) -> tuple[list[str], list[str], tuple[str, ...]]:
    """Names and kinds of all variables (flows, then stock changes) and their common dims."""
    decl = [(f.name, "flow", f.dims) for f in system.flows]
    decl += [(s.name, "stock", s.dims) for s in system.stocks]
    ref_name, _, ref_dims = decl[0]
    for name, kind, dims in decl[1:]:
        if set(dims) != set(ref_dims):
            raise MfaError(
                f"reconcile: system {system.name!r}: {kind} {name!r} has dims {dims}, flow "
                f"{ref_name!r} has {ref_dims}; reconciliation needs every flow and stock on "
                f"the same dims (time plus dims reconciled cell by cell, e.g. region)"
            )
    pooled = [p for p in system.processes if not system.regional[p]]
    if "region" in ref_dims and pooled:
        raise MfaError(
            f"reconcile: system {system.name!r}: process(es) {', '.join(map(repr, pooled))} "
            f"are balanced over the sum of all regions (pooled); reconciliation balances each "
            f"region on its own and does not support pooled processes"
        )
    dims = ("time", *(d for d in ref_dims if d != "time"))
    clash = sorted(set(dims) & {"variable", "variable_2", *_META})
    if clash:
        raise MfaError(
            f"reconcile: system {system.name!r}: dim {clash[0]!r} is used by the results; "
            f"rename it"
        )
    kinds = ["flow" if k == "flow" else "stock_change" for _, k, _ in decl]
    return [n for n, _, _ in decl], kinds, dims


def _balance_matrix(system: ProcessSystem, names: list[str]) -> np.ndarray:
    """(process, variable) matrix A of the balances: inputs - outputs - stock changes."""
    col = {n: j for j, n in enumerate(names)}
    a = np.zeros((len(system.processes), len(names)))
    row = {p: i for i, p in enumerate(system.processes)}
    for f in system.flows:
        if f.target in row:
            a[row[f.target], col[f.name]] += 1.0
        if f.source in row:
            a[row[f.source], col[f.name]] -= 1.0
    for s in system.stocks:
        if s.process in row:
            a[row[s.process], col[s.name]] -= 1.0
    return a


# ------------------------------------------------------------------------------ input
def _items(obj: Any, what: str) -> dict[str, xr.DataArray]:
    if isinstance(obj, xr.Dataset):
        return {str(k): obj[k] for k in obj.data_vars}
    if not isinstance(obj, Mapping):
        raise MfaError(
            f"reconcile: {what} must be a Dataset or a mapping of name -> DataArray, "
            f"got {type(obj).__name__}"
        )
    for k, v in obj.items():
        if not isinstance(v, xr.DataArray):
            raise MfaError(
                f"reconcile: {what} {k!r} must be an xarray.DataArray, got {type(v).__name__}"
            )
    return {str(k): v for k, v in obj.items()}


def _is_relative(da: xr.DataArray, name: str) -> bool:
    """True for an sd given in a dimensionless unit (relative to the measured value)."""
    unit = da.data.units if isinstance(da.data, pint.Quantity) else da.attrs.get("units")
    return unit is not None and parse_unit(unit, name).dimensionless


def _read(
    system: ProcessSystem, names: list[str], kinds: list[str], dims: tuple[str, ...],
    measured: Any, sd: Any,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Measured values and sds as (cell, variable) arrays in t/yr, and the cell coordinates."""
    values, sds = _items(measured, "measured"), _items(sd, "sd")
    label = {n: "flow" if k == "flow" else "stock change" for n, k in zip(names, kinds,
                                                                            strict=True)}
    for what, keys in (("measured", values), ("sd", sds)):
        unknown = [k for k in keys if k not in label]
        if unknown:
            raise MfaError(
                f"reconcile: {what} {unknown[0]!r} is not a flow or stock of system "
                f"{system.name!r}; flows and stocks: {', '.join(names)}"
            )
    if not values:
        raise MfaError("reconcile: no measured values given")
    for a, b, msg in ((values, sds, "has no sd"), (sds, values, "has an sd but no value")):
        missing = [k for k in a if k not in b]
        if missing:
            raise MfaError(f"reconcile: {label[missing[0]]} {missing[0]!r} {msg}")
    ref_key, ref = None, None
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key in values:
        name = f"{label[key]} {key!r}"
        pair = []
        for what, da in (("measured", values[key]), ("sd", sds[key])):
            if set(da.dims) != set(dims) or da.ndim != len(dims):
                raise MfaError(
                    f"reconcile: {what} {name} has dims {tuple(da.dims)}, expected {dims} "
                    f"(the dims of the system's flows and stocks)"
                )
            if "time" not in da.coords:
                raise MfaError(f"reconcile: {what} {name}: dim 'time' has no coordinate")
            if ref is None:
                ref_key, ref = f"{what} {name}", da
            _same_coords(da, ref, f"{what} {name}", ref_key, dims)
            if what == "sd" and _is_relative(da, f"sd of {name}"):
                rel = to_canonical(da, "1", name=f"sd of {name}").transpose(*dims).values
                pair.append(rel * np.abs(pair[0]))
                continue
            hint = " (the change per year, not the stock level)" if "stock" in name else ""
            da = to_canonical(da, FLOW_UNIT, name=f"{what} {name}{hint}")
            pair.append(da.transpose(*dims).values.astype(float))
        arrays[key] = (pair[0], pair[1])
    coords = {d: (np.asarray(ref[d].values) if d in ref.coords else np.arange(ref.sizes[d]))
              for d in dims}
    n_cells = int(np.prod([len(c) for c in coords.values()]))
    y = np.full((n_cells, len(names)), np.nan)
    s = np.full((n_cells, len(names)), np.nan)
    for key, (val, dev) in arrays.items():
        j = names.index(key)
        val, dev = val.reshape(-1), dev.reshape(-1)
        _check_values(key, label[key], val, dev, coords)
        y[:, j] = val
        s[:, j] = np.where(np.isnan(val), np.nan, dev)
    return y, s, coords


def _same_coords(da: xr.DataArray, ref: xr.DataArray, name: str, ref_name: str,
                 dims: tuple[str, ...]) -> None:
    for d in dims:
        same = da.sizes[d] == ref.sizes[d]
        if same and d in da.coords and d in ref.coords:
            same = np.array_equal(np.asarray(da[d].values), np.asarray(ref[d].values))
        if not same:
            raise MfaError(
                f"reconcile: {name}: coordinate {d!r} differs from that of {ref_name} "
                f"({_labels(da, d)} vs {_labels(ref, d)}); reindex to the same labels, with "
                f"NaN where a value is not measured"
            )


def _labels(da: xr.DataArray, d: str) -> str:
    if d not in da.coords:
        return f"size {da.sizes[d]}"
    v = [_str(x) for x in np.asarray(da[d].values)]
    return "[" + ", ".join(v[:4]) + (", ..." if len(v) > 4 else "") + f"] (size {len(v)})"


def _check_values(key: str, kind: str, val: np.ndarray, dev: np.ndarray,
                  coords: dict[str, np.ndarray]) -> None:
    measured = ~np.isnan(val)
    checks = [
        (np.isinf(val), "measured value is infinite (use NaN for 'not measured')"),
        (measured & ~np.isfinite(dev), "has no sd (NaN or infinite) where a value is measured"),
        (measured & np.isfinite(dev) & (dev <= 0), "sd must be > 0"),
    ]
    if kind == "flow":
        checks.append((measured & (val < 0), "measured flow is negative"))
    for bad, msg in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            more = f" (and {int(bad.sum()) - 1} other cell(s))" if bad.sum() > 1 else ""
            raise MfaError(
                f"reconcile: {kind} {key!r}: {msg}: {_where(i, coords)}, value {val[i]:.6g} "
                f"t/yr, sd {dev[i]:.6g} t/yr{more}"
            )


def _str(x: Any) -> str:
    return str(x.item() if isinstance(x, np.generic) else x)


def _where(i: int, coords: dict[str, np.ndarray]) -> str:
    idx = np.unravel_index(i, tuple(len(c) for c in coords.values()))
    parts = [f"{'year' if d == 'time' else d} {_str(c[j])}"
             for (d, c), j in zip(coords.items(), idx, strict=True)]
    return ", ".join(parts)
