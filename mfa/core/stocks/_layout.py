"""The xarray edge of the stock models: checks of the inputs, units, element layout, output dataset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pint
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.lifetimes import LifetimeModel
from mfa.core.lifetimes._arrays import _canonical, _dim_coords, _expand
from mfa.core.stocks._arrays import _describe
from mfa.core.stocks._kernels import NOISE, _Structures
from mfa.core.stocks._negative import _Historic
from mfa.core.units import to_canonical


def _check_time(da: xr.DataArray, name: str) -> np.ndarray:
    if "time" not in da.dims:
        raise ParameterError(f"{name}: needs a 'time' dimension (integer years); dims are {da.dims}")
    years = _dim_coords(da).get("time")
    if years is None:
        raise ParameterError(f"{name}: the 'time' dimension needs a coordinate of integer years")
    if not np.issubdtype(years.dtype, np.number) or np.any(years != np.round(years)):
        raise ParameterError(f"{name}: time coordinate must be integer years, got {years[:5]!r}")
    years = years.astype(np.int64)
    if years.size == 0:
        raise ParameterError(f"{name}: the time coordinate is empty")
    step = np.diff(years)
    if np.any(step <= 0):
        i = int(np.flatnonzero(step <= 0)[0])
        raise ParameterError(
            f"{name}: time must be sorted ascending without repeats; year {years[i + 1]} comes "
            f"after {years[i]} (use .sortby('time'))"
        )
    if np.any(step != 1):
        i = int(np.flatnonzero(step != 1)[0])
        raise ParameterError(
            f"{name}: time has a gap: {years[i + 1]} follows {years[i]}; years must be "
            "consecutive (interpolate the missing years first)"
        )
    return years


def _check_values(values: np.ndarray, da: xr.DataArray, name: str, noise_dim: str | None = None) -> np.ndarray:
    """Finite and >= 0; negative values within NOISE of the series' largest |value| along
    ``noise_dim`` (if given) are rounding noise and returned as 0. Returns the values."""
    def label(i: int) -> str:
        return _describe(da.dims, _dim_coords(da), da.shape)(i)

    finite = np.isfinite(values)
    if not finite.all():
        bad = ~finite
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ParameterError(f"{name}: NaN or infinite value at {label(i)} ({int(bad.sum())} in all)")
    if values.size and values.min() < 0:
        neg = values < 0
        if noise_dim is not None:
            axis = da.dims.index(noise_dim)
            tol = NOISE * np.max(np.abs(values), axis=axis, keepdims=True)
            neg = values < -tol
        if neg.any():
            i = int(np.flatnonzero(neg.ravel())[0])
            raise ParameterError(
                f"{name}: negative value {values.ravel()[i]:.6g} at {label(i)} "
                f"({int(neg.sum())} in all); must be >= 0"
            )
        values = np.maximum(values, 0.0)  # rounding noise only
    return values


def _merge_coords(
    a: tuple[tuple[str, ...], tuple[int, ...], dict], b: tuple[tuple[str, ...], tuple[int, ...], dict],
    what_a: str, what_b: str,
) -> dict[str, np.ndarray]:
    """Union of the dim coordinates of ``a`` and ``b`` (each ``(dims, shape, coords)``); shared
    dims must have the same length and identical coordinates."""
    coords = dict(a[2])
    for d, v in b[2].items():
        if d in coords and (coords[d].shape != v.shape or not np.array_equal(coords[d], v)):
            raise ParameterError(
                f"{what_a} and {what_b} have different {d!r} coordinates: "
                f"{coords[d][:6].tolist()} vs {v[:6].tolist()} (they must be identical)"
            )
        coords.setdefault(d, v)
    sizes_a = dict(zip(a[0], a[1], strict=True))
    for d, n in zip(b[0], b[1], strict=True):
        if d in sizes_a and sizes_a[d] != n:
            raise ParameterError(f"{what_a} and {what_b} have different lengths along {d!r}")
    return coords


class _Units:
    """Units of the outputs: attrs (t, t/yr) or pint, in the input's unit family."""

    def __init__(self, da: xr.DataArray, kind: str) -> None:
        self.pint = isinstance(da.data, pint.Quantity)
        if not self.pint:
            return
        unit = da.data.units
        reg = unit._REGISTRY
        flow, mass = (unit, unit * reg.year) if kind == "flow" else (unit / reg.year, unit)
        if any("[time]" in str(reg.get_dimensionality(n)) for n in mass._units):
            flow, mass = reg.Unit("t") / reg.year, reg.Unit("t")  # e.g. kg/s: back to t and t/yr
        self.reg, self.units = reg, {"t": mass, "t/yr": flow}

    def wrap(self, ds: xr.Dataset) -> xr.Dataset:
        if not self.pint:
            return ds
        for name, var in ds.data_vars.items():
            unit = var.attrs.get("units")
            if unit in self.units:
                attrs = {k: v for k, v in var.attrs.items() if k != "units"}
                q = self.reg.Quantity(np.asarray(var.data), unit.replace("yr", "year")).to(self.units[unit])
                ds[name] = xr.DataArray(q, dims=var.dims, coords=var.coords, attrs=attrs)
        return ds


class _Layout:
    """Lay out an input (time + dims) and a lifetime model as (elements, time) numpy arrays.

    Elements are ordered with the lifetime's dims first, so that elements sharing a survival
    structure are adjacent; outputs keep the input's dim order (transposed views, no copies).
    With ``split_dim`` (type split) the lifetime's structure is per (element, type).
    """

    def __init__(
        self, da: xr.DataArray, lifetime: LifetimeModel, years: np.ndarray, name: str, *,
        n_hist: int = 0, ensemble_dims: tuple[str, ...] = ("sample",), split_dim: str | None = None,
        func: str = "",
    ) -> None:
        if not isinstance(lifetime, LifetimeModel):
            raise ParameterError(
                f"lifetime must be an mfa.core.lifetimes.LifetimeModel (e.g. Normal(mean=10, sd=3)), "
                f"got {type(lifetime).__name__}"
            )
        self.years, self.T, self.A = years, years.size, n_hist
        self.da, self.ensemble_dims = da, tuple(ensemble_dims)
        disc = self.disc = lifetime.discretise(years, n_hist)
        life_sizes = dict(zip(disc.dims, disc.ids.shape, strict=True))
        data_dims = tuple(d for d in da.dims if d != "time")
        if split_dim is not None and split_dim in data_dims:
            raise ParameterError(f"{name}: has the type dim {split_dim!r}; give the total only")
        extra = [d for d in disc.dims if d not in data_dims and d != split_dim]
        typos = [d for d in extra if d not in tuple(ensemble_dims)]
        if typos:
            d = typos[0]
            n = life_sizes[d]
            effect = f"its mass multiplied by {n}" if n > 1 else "every output given this dim"
            raise ParameterError(
                f"{func}: the lifetime has dim {d!r} ({n} entries) that the {name} "
                f"lacks (its dims: {', '.join(da.dims)}); the {name} would be repeated along "
                f"{d!r} and {effect}. Rename the dim if it is a typo, or list it in "
                f"ensemble_dims (now {tuple(ensemble_dims)}) if it indexes alternative runs "
                "such as Monte Carlo samples"
            )
        what = f"{type(lifetime).__name__} lifetime parameters"
        self.coords = _merge_coords((da.dims, da.shape, _dim_coords(da)),
                                    (disc.dims, disc.ids.shape, disc.coords), name, what)
        self.extra_coords = {d: self.coords[d] for d in disc.dims if d not in da.dims and d in self.coords}
        life = tuple(d for d in disc.dims if d != split_dim)
        self.dims = life + tuple(d for d in data_dims if d not in life)
        sizes = {**life_sizes, **dict(zip(da.dims, da.shape, strict=True))}
        self.shape = tuple(sizes[d] for d in self.dims)
        self.E = int(np.prod(self.shape)) if self.shape else 1
        x = _expand(np.asarray(da.values, dtype=float), da.dims, (*self.dims, "time"))
        # One buffer for the input and the two arrays computed from it: numpy asks the kernel
        # for huge pages from 4 MiB on, which saves most page faults (3x faster to fill here).
        self._buffer = np.empty((3, self.E, self.T))
        self.x = self._buffer[0]
        np.copyto(self.x.reshape(*self.shape, self.T), x)
        gdims = (*self.dims, split_dim) if split_dim else self.dims
        g = _expand(disc.ids, disc.dims, gdims)
        gshape = (*self.shape, life_sizes[split_dim]) if split_dim else self.shape
        self.group = np.ascontiguousarray(np.broadcast_to(g, gshape)).reshape(self.E, -1)
        if not split_dim:
            self.group = self.group[:, 0]
        self.split_dim = split_dim
        # Output dims: the input's own order, then dims only the lifetime has.
        self.out_dims = tuple(da.dims) + tuple(extra)
        self._perm = [(*self.dims, "time").index(d) for d in self.out_dims]
        self.describe = _describe(self.dims, self.coords, self.shape)
        self.structs = _Structures.model_part(disc, n_hist)

    def spare(self, i: int) -> np.ndarray:
        """Uninitialised (E, T) array ``i`` (1 or 2) of the layout's buffer."""
        return self._buffer[i]

    def var(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E, T) array, in the output dim order (a view)."""
        data = arr.reshape((*self.shape, self.T)).transpose(self._perm)
        return (self.out_dims, data, {"units": units, "long_name": long_name})

    def var_typed(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E, J, T) array (type split): the type dim last."""
        J = arr.shape[1]
        data = arr.reshape((*self.shape, J, self.T))
        order = [(*self.dims, self.split_dim, "time").index(d) for d in (*self.out_dims, self.split_dim)]
        return ((*self.out_dims, self.split_dim), data.transpose(order), {"units": units, "long_name": long_name})

    def var_cohort(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E, T time, C cohort[, J]) array: dims (time, cohort, ...)."""
        data = arr.reshape((*self.shape, *arr.shape[1:]))
        inner = (*self.dims, "time", "cohort") + ((self.split_dim,) if arr.ndim == 4 else ())
        dims = ("time", "cohort", *(d for d in self.out_dims if d != "time"))
        dims = dims + ((self.split_dim,) if arr.ndim == 4 else ())
        return (dims, data.transpose([inner.index(d) for d in dims]),
                {"units": units, "long_name": long_name})

    def var_static(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E,) array: the output dims without time."""
        dims = tuple(d for d in self.out_dims if d != "time")
        data = arr.reshape(self.shape).transpose([self.dims.index(d) for d in dims])
        return (dims, data, {"units": units, "long_name": long_name})

    def var_age(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E[, J], A) array: dims (age[, type], ...)."""
        split = (self.split_dim,) if arr.ndim == 3 else ()
        inner = (*self.dims, *split, "age")
        dims = ("age", *split, *(d for d in self.out_dims if d != "time"))
        data = arr.reshape((*self.shape, *arr.shape[1:]))
        return (dims, data.transpose([inner.index(d) for d in dims]), {"units": units, "long_name": long_name})

    def initial(self, init: Any, name: str = "initial_stock_by_age") -> np.ndarray | None:
        """Validate and lay out an initial stock by age -> X (E, A) or (E, A, J) with a split."""
        if init is None:
            return None
        dims = (*self.dims, self.split_dim) if self.split_dim else self.dims
        extra = [d for d in init.dims if d != "age" and d not in dims]
        if extra:
            raise ParameterError(f"{name}: dims {extra} are not dims of the stock model {dims}")
        if self.split_dim and self.split_dim not in init.dims:
            raise ParameterError(
                f"{name}: needs the type dim {self.split_dim!r} (each type has its own lifetime)"
            )
        lacking = [d for d in self.dims if d not in init.dims and d not in self.ensemble_dims]
        if lacking:
            raise ParameterError(
                f"{name}: lacks dim {lacking[0]!r} of the stock model; it would be repeated along "
                f"{lacking[0]!r} and its mass multiplied (give it by {lacking[0]!r}, or list the "
                f"dim in ensemble_dims if it indexes alternative runs)"
            )
        for d, v in _dim_coords(init).items():
            if d != "age" and d in self.coords and not np.array_equal(self.coords[d], v):
                raise ParameterError(f"{name}: coordinate {d!r} differs from the model's: {v[:6].tolist()}")
        X = _expand(_initial_values(init, name), init.dims, (*dims, "age"))
        full = (*self.shape, *([X.shape[-2]] if self.split_dim else []), self.A)
        X = np.ascontiguousarray(np.broadcast_to(X, full)).reshape(self.E, *full[len(self.shape):])
        return X


def _initial_ages(init: Any, name: str = "initial_stock_by_age") -> int:
    """Number of ages of an initial stock (validating its type and age coordinate)."""
    if not isinstance(init, xr.DataArray):
        raise ParameterError(
            f"{name}: expected an xarray.DataArray with dim 'age', got {type(init).__name__}"
        )
    if "age" not in init.dims:
        raise ParameterError(
            f"{name}: needs an 'age' dimension (whole years; age 0 = entered in the year "
            "before the first model year)"
        )
    A = init.sizes["age"]
    ages = np.asarray(init["age"].values) if "age" in init.coords else np.arange(A)
    if not np.issubdtype(ages.dtype, np.number) or not np.array_equal(ages, np.arange(A)):
        raise ParameterError(f"{name}: age coordinate must be 0, 1, 2, ... (consecutive whole years)")
    return A


def _initial_values(init: xr.DataArray, name: str) -> np.ndarray:
    da = to_canonical(init, "t", name=name)
    return _check_values(np.asarray(da.values, dtype=float), da, name)


def _prepare(da: Any, name: str, target_unit: str, noise: bool) -> tuple[xr.DataArray, np.ndarray]:
    if not isinstance(da, xr.DataArray):
        raise ParameterError(
            f"{name}: expected an xarray.DataArray with a 'time' dim, got {type(da).__name__}"
        )
    years = _check_time(da, name)
    canon = _canonical(da, target_unit, name)
    raw = np.asarray(canon.values, dtype=float)
    values = _check_values(raw, canon, name, "time" if noise else None)
    return (canon if values is raw else canon.copy(deep=False, data=values)), years




# --- results: (E, T) arrays -> Dataset ----------------------------------------------------------

#: Result variables: name -> (units, layout, long name). Layouts: "time" (E, T); "typed"
#: (E, J, T); "cohort" (E, T, C[, J]); "static" (E,); "age" (E[, J], A).
_VARIABLES: dict[str, tuple[str, str, str]] = {
    "inflow": ("t/yr", "time", "inflow to use"),
    "stock": ("t", "time", "stock in use at the end of the year"),
    "outflow": ("t/yr", "time", "outflow from use"),
    "stock_target": ("t", "time", "target stock (input)"),
    "stock_excess": ("t", "time", "stock above its target after clipping negative inflow"),
    "inflow_clipped": ("t/yr", "time", "negative inflow set to zero (negative_inflow='clip')"),
    "retired_early": ("t/yr", "time", "stock retired early to meet a falling stock (in outflow)"),
    "inflow_by_type": ("t/yr", "typed", "inflow to use by type"),
    "stock_by_type": ("t", "typed", "stock in use at the end of the year by type"),
    "outflow_by_type": ("t/yr", "typed", "outflow from use by type"),
    "initial_stock": ("t", "static", "stock in use at the start of the first year"),
    "historic_inflow": ("t/yr", "age", "inflow of the historic cohort of each age (year t0 - 1 - age)"),
    "stock_by_cohort": ("t", "cohort", "stock in use by cohort (year of inflow)"),
    "outflow_by_cohort": ("t/yr", "cohort", "outflow by cohort (year of inflow)"),
}


def _dataset(lay: _Layout, arrays: dict[str, np.ndarray]) -> xr.Dataset:
    variables = {}
    for name, arr in arrays.items():
        units, layout, long_name = _VARIABLES[name]
        if layout == "time":
            variables[name] = lay.var(arr, units, long_name)
        elif layout == "typed":
            variables[name] = lay.var_typed(arr, units, long_name)
        elif layout == "cohort":
            variables[name] = lay.var_cohort(arr, units, long_name)
        elif layout == "static":
            variables[name] = lay.var_static(arr, units, long_name)
        else:
            variables[name] = lay.var_age(arr, units, long_name)
    ds = xr.Dataset(variables, coords=lay.da.coords)  # the input's coordinates, reused
    extra = dict(lay.extra_coords)
    if "stock_by_cohort" in arrays:
        extra["cohort"] = np.arange(lay.years[0] - lay.A, lay.years[-1] + 1)
    return ds.assign_coords(extra) if extra else ds


class _Hist:
    """An initial stock X (E, A) and what becomes of it: remaining stock and outflow (E, T),
    historic inflow (E, A), by-age stock and outflow (E, T, A) with ``by_cohort``."""

    def __init__(self, lay: _Layout, X: np.ndarray, group: np.ndarray, by_cohort: bool) -> None:
        self.X = X
        self.survival = _Historic(lay.disc, lay.A, lay.T)
        self.rem, self.out, self.inflow, self.rem_a, self.out_a = self.survival.flows(
            X, group, lay.describe, by_cohort)


def _with_history(bc: np.ndarray, hist_a: np.ndarray | None) -> np.ndarray:
    """Prepend historic cohorts (E, T, A by age) to a by-cohort array (E, T, T): oldest first."""
    return bc if hist_a is None else np.concatenate([hist_a[:, :, ::-1], bc], axis=2)
