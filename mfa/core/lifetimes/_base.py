"""The lifetime model base class: parameters with dims, survival curves, discretisation by cohort and year."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import numpy as np
import pint
import xarray as xr

from mfa.core._fastpath import from_indexes
from mfa.core.errors import ParameterError
from mfa.core.lifetimes._arrays import (
    _FORBIDDEN_DIMS,
    INFLOW_AT,
    MAX_POINTS_PER_YEAR,
    Discretised,
    InflowAt,
    _broadcast,
    _canonical,
    _check_same_coords,
    _cohorts,
    _describe_location,
    _discretised,
    _integer_coord,
    _unique_rows,
    inflow_points,
)
from mfa.core.units import check_dimensionality, parse_unit


class LifetimeModel:
    """Base class of the lifetime models (see the module docstring for the conventions).

    Subclasses declare ``param_names`` (constructor keywords, in order), ``time_params`` (those
    measured in years) and implement :meth:`_sf`.

    Parameters
    ----------
    inflow_at : {"start", "middle", "end"}
        Where in its year the inflow enters (module docstring). Default ``"middle"``.
    points_per_year : int
        Number of inflow points per year (1-10); above 1 the inflow is spread over the year
        (Gauss-Lobatto quadrature) and ``inflow_at`` must stay ``"middle"``.
    factor_by_year : xarray.DataArray, optional
        Dims ``time`` (integer years covering the model years) and optionally some of the other
        dims; dimensionless, > 0. Stretches (> 1) or shortens (< 1) the remaining life of every
        cohort in use in that year.

    Attributes
    ----------
    params : dict of str to xarray.DataArray
        Validated parameters, time-like ones in years (``attrs["units"] == "yr"``).
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    time_params: ClassVar[tuple[str, ...]] = ()
    zero_allowed: ClassVar[tuple[str, ...]] = ()
    kind: ClassVar[str] = ""

    def __init__(
        self,
        *,
        inflow_at: InflowAt = "middle",
        points_per_year: int = 1,
        factor_by_year: xr.DataArray | None = None,
        **params: Any,
    ) -> None:
        name = type(self).__name__
        missing = [p for p in self.param_names if p not in params]
        unknown = [p for p in params if p not in self.param_names]
        if missing or unknown:
            raise ParameterError(
                f"{name} lifetime: expected parameters {list(self.param_names)}, "
                f"missing {missing}, unknown {unknown}"
            )
        if inflow_at not in INFLOW_AT:
            raise ParameterError(
                f"{name} lifetime: inflow_at must be 'start', 'middle' or 'end', got {inflow_at!r}"
            )
        if (
            isinstance(points_per_year, bool)
            or not isinstance(points_per_year, (int, np.integer))
            or not 1 <= points_per_year <= MAX_POINTS_PER_YEAR
        ):
            raise ParameterError(
                f"{name} lifetime: points_per_year must be an integer from 1 to "
                f"{MAX_POINTS_PER_YEAR}, got {points_per_year!r}"
            )
        if points_per_year > 1 and inflow_at != "middle":
            raise ParameterError(
                f"{name} lifetime: with points_per_year={points_per_year} the inflow is spread "
                f"over the whole year, so inflow_at={inflow_at!r} does not apply (leave it out)"
            )
        self.inflow_at: str = inflow_at
        self.points_per_year = int(points_per_year)
        self.params: dict[str, xr.DataArray] = {
            p: self._validate(p, params[p]) for p in self.param_names
        }
        self.factor_by_year = (
            None if factor_by_year is None else self._validate_factor(factor_by_year)
        )
        # Shared coordinates must agree (xarray would otherwise silently align by intersection).
        arrays = list(self.params.values())
        if self.factor_by_year is not None:
            arrays.append(self.factor_by_year)
        _check_same_coords(arrays, f"{name} lifetime", skip=("time",))

    # -- validation ------------------------------------------------------------------------
    def _validate(self, name: str, value: Any) -> xr.DataArray:
        label = f"{type(self).__name__} lifetime parameter {name!r}"
        is_time = name in self.time_params
        if isinstance(value, xr.DataArray):
            for dim in _FORBIDDEN_DIMS:
                if dim in value.dims:
                    raise ParameterError(
                        f"{label}: has dim {dim!r}; lifetimes may vary by cohort (dim 'cohort') "
                        "and any other dims, not by time or age (use factor_by_year for a "
                        "change by year)"
                    )
            if is_time:
                da = _canonical(value, "yr", label)
            elif isinstance(value.data, pint.Quantity) or "units" in value.attrs:
                da = _canonical(value, "1", label)
            else:
                da = value.astype(float, copy=True)
                da.attrs["units"] = "1"
            if "cohort" in da.dims:
                _integer_coord(da, "cohort", label)
        elif isinstance(value, pint.Quantity):
            if np.ndim(value.magnitude) != 0:
                raise ParameterError(f"{label}: give arrays as xarray.DataArray with named dims")
            unit = parse_unit(value.units, label)
            target = "yr" if is_time else "1"
            check_dimensionality(unit, target, label)
            da = xr.DataArray(float(value.to(target).magnitude), attrs={"units": target})
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            da = xr.DataArray(float(value), attrs={"units": "yr" if is_time else "1"})
        else:
            raise ParameterError(
                f"{label}: expected a number, a pint Quantity or an xarray.DataArray with named "
                f"dims, got {type(value).__name__}"
            )
        values = np.asarray(da.values, dtype=float)
        bad = ~np.isfinite(values)
        lowest = ">= 0" if name in self.zero_allowed else "> 0"
        if bad.any():
            where = _describe_location(da, int(np.flatnonzero(bad.ravel())[0]))
            raise ParameterError(
                f"{label}: value is NaN or infinite at {where} (must be a finite number {lowest})"
            )
        nonpos = values < 0 if name in self.zero_allowed else values <= 0
        if nonpos.any():
            i = int(np.flatnonzero(nonpos.ravel())[0])
            where = _describe_location(da, i)
            raise ParameterError(f"{label}: must be {lowest}, got {float(values.ravel()[i])!r} at {where}")
        da.name = name
        return da

    def _validate_factor(self, value: Any) -> xr.DataArray:
        label = f"{type(self).__name__} lifetime: factor_by_year"
        if not isinstance(value, xr.DataArray) or "time" not in value.dims:
            raise ParameterError(
                f"{label}: expected an xarray.DataArray with a 'time' dim (integer years), got "
                f"{type(value).__name__}" + (f" with dims {value.dims}" if isinstance(value, xr.DataArray) else "")
            )
        for dim in ("cohort", "age"):
            if dim in value.dims:
                raise ParameterError(f"{label}: may not have dim {dim!r} (it applies by year)")
        if isinstance(value.data, pint.Quantity) or "units" in value.attrs:
            da = _canonical(value, "1", label)
        else:
            da = value.astype(float, copy=True)
            da.attrs["units"] = "1"
        years = _integer_coord(da, "time", label)
        if np.unique(years).size != years.size:
            raise ParameterError(f"{label}: repeated years in the 'time' coordinate")
        values = np.asarray(da.values, dtype=float)
        bad = ~np.isfinite(values) | (values <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise ParameterError(
                f"{label}: must be a finite number > 0, got {float(values.ravel()[i])!r} at "
                f"{_describe_location(da, i)}"
            )
        da = da.assign_coords(time=years)
        da.name = "factor_by_year"
        return da

    # -- structure -------------------------------------------------------------------------
    @property
    def dims(self) -> tuple[str, ...]:
        """Union of the parameter dims (``cohort`` included if present, ``time`` never)."""
        out: list[str] = []
        arrays = list(self.params.values())
        if self.factor_by_year is not None:
            arrays.append(self.factor_by_year)
        for da in arrays:
            out.extend(d for d in da.dims if d not in out and d != "time")
        return tuple(out)

    @property
    def cohort_varying(self) -> bool:
        """True if any parameter varies with the cohort (year of inflow)."""
        return "cohort" in self.dims

    @property
    def year_varying(self) -> bool:
        """True if the survival of products in use changes by year (``factor_by_year``)."""
        return self.factor_by_year is not None

    def _options_repr(self) -> list[str]:
        parts = []
        if self.inflow_at != "middle":
            parts.append(f"inflow_at={self.inflow_at!r}")
        if self.points_per_year != 1:
            parts.append(f"points_per_year={self.points_per_year}")
        if self.factor_by_year is not None:
            parts.append(f"factor_by_year=<{dict(self.factor_by_year.sizes)}>")
        return parts

    def __repr__(self) -> str:
        parts = []
        for name, da in self.params.items():
            parts.append(f"{name}={float(da):g}" if da.ndim == 0 else f"{name}=<{dict(da.sizes)}>")
        return f"{type(self).__name__}({', '.join(parts + self._options_repr())})"

    # -- survival functions ----------------------------------------------------------------
    def _sf(self, ages: np.ndarray, **params: np.ndarray) -> np.ndarray:  # pragma: no cover
        """Continuous survival function, vectorised (ages and parameters broadcast) [1]."""
        raise NotImplementedError

    def _discrete(self, lags: np.ndarray, **params: np.ndarray) -> np.ndarray:
        """Survival at the end of year ``c + lag`` of the inflow of year ``c`` (broadcasting)."""
        points, weights = inflow_points(self.points_per_year, self.inflow_at)
        if points.size == 1:
            return self._sf(lags + (1.0 - points[0]), **params)
        total = 0.0
        for p, w in zip(points, weights, strict=True):
            total = total + w * self._sf(lags + (1.0 - p), **params)
        return total

    def _unique_params(self, arrays: list[xr.DataArray]) -> tuple[np.ndarray, np.ndarray]:
        stacked = np.stack([np.asarray(a.values, dtype=float).ravel() for a in arrays], axis=1)
        return _unique_rows(stacked)

    def _check_not_year_varying(self, what: str) -> None:
        if self.year_varying:
            raise ParameterError(
                f"{type(self).__name__} lifetime: {what} is not defined with factor_by_year "
                "(the survival then depends on the year, not only on the age); use "
                "survival_matrix(time)"
            )

    def _curves(self, n_ages: int, select: dict | None = None) -> tuple[np.ndarray, np.ndarray, tuple, dict]:
        """(curves (K, n_ages), curve id per element, dims, coords) without building DataArrays."""
        self._check_not_year_varying("survival_curves")
        params = list(self.params.values())
        if select:
            params = [a.sel({k: v for k, v in select.items() if k in a.dims}) for a in params]
        values, dims, coords = _broadcast(params)
        stacked = np.stack([v.ravel() for v in values], axis=1)
        unique, inverse = _unique_rows(stacked)
        lags = np.arange(n_ages, dtype=float)[None, :]
        prms = {name: unique[:, j : j + 1] for j, name in enumerate(self.param_names)}
        curves = np.asarray(self._discrete(lags, **prms), dtype=float)
        curves = np.ascontiguousarray(np.broadcast_to(curves, (unique.shape[0], n_ages)))
        shape = values[0].shape
        return curves, inverse.reshape(shape), dims, coords

    def survival_curves(self, n_ages: int, *, select: dict | None = None) -> tuple[np.ndarray, xr.DataArray]:
        """Distinct discretised survival curves and the map from parameter elements to them.

        Parameters
        ----------
        n_ages : int
            Number of integer ages ``k = 0 .. n_ages - 1``.
        select : dict, optional
            Passed to ``DataArray.sel`` on every parameter first (e.g. ``{"cohort": 2020}``).

        Returns
        -------
        curves : numpy.ndarray, shape (K, n_ages)
            ``curves[j, k]`` = share [1] of an inflow still in use at the end of year ``c + k``,
            for the j-th distinct parameter set (with this model's ``inflow_at`` and
            ``points_per_year``).
        index : xarray.DataArray of int
            Over :attr:`dims`; ``index`` at an element gives the row of ``curves`` to use.
        """
        curves, ids, dims, coords = self._curves(n_ages, select)
        if select is None:  # the parameters' own indexes, not new ones from their labels
            return curves, from_indexes(xr.Variable(dims, ids), *_frame(self.params.values()),
                                        name="curve_index")
        index = xr.DataArray(ids, dims=dims, coords={d: v for d, v in coords.items() if d in dims},
                             name="curve_index")
        return curves, index

    def sf(self, ages: Any) -> xr.DataArray:
        """Continuous survival function at arbitrary ages (``factor_by_year`` not applied).

        Parameters
        ----------
        ages : array-like [yr]
            Ages in years (1-d).

        Returns
        -------
        xarray.DataArray
            Dims ``(*dims, "age")``, share [1] still in use at each age.
        """
        ages = np.atleast_1d(np.asarray(ages, dtype=float))
        values, dims, coords = _broadcast(list(self.params.values()))
        unique, inverse = _unique_rows(np.stack([v.ravel() for v in values], axis=1))
        prms = {name: unique[:, j : j + 1] for j, name in enumerate(self.param_names)}
        curves = np.broadcast_to(self._sf(ages[None, :], **prms), (unique.shape[0], ages.size))
        out = curves[inverse].reshape((*values[0].shape, ages.size))
        return xr.DataArray(
            out,
            dims=(*dims, "age"),
            coords={**{d: v for d, v in coords.items() if d in dims}, "age": ages},
            attrs={"units": "1", "long_name": "share still in use"},
        )

    def survival(self, n_ages: int) -> xr.DataArray:
        """Discretised survival curve ``s[k]`` for ``k = 0 .. n_ages - 1``.

        ``s[k]`` is the share of an inflow of year ``c`` still in use at the end of year
        ``c + k`` (``sf(k + 0.5)`` with the default mid-year inflow). Computed once per distinct
        parameter set.

        Returns
        -------
        xarray.DataArray
            Dims ``(*dims, "age")`` with integer ``age`` coordinate, units ``1``.
        """
        curves, index = self.survival_curves(n_ages)
        values = curves[index.values.ravel()].reshape((*index.shape, n_ages))
        age_var, age_index = _age_coordinate(n_ages)
        return from_indexes(
            xr.Variable((*index.dims, "age"), values,
                        {"units": "1", "long_name": "share of a cohort still in use at the end of year c + age"}),
            {**index.coords.variables, "age": age_var}, {**index.xindexes, "age": age_index})

    def survival_matrix(self, time: Any) -> xr.DataArray:
        """Survival matrix ``S[t, c]``: share of cohort ``c`` in use at the end of year ``t``.

        Lower triangular in ``(t, c)``. For a lifetime that varies neither with the cohort nor
        by year ``S[t, c] = s[t - c]`` and :meth:`survival` is enough (O(T) instead of O(T^2)).

        Parameters
        ----------
        time : sequence of int
            Model years (consecutive). Cohort-varying parameters and ``factor_by_year`` must
            cover all of them.

        Returns
        -------
        xarray.DataArray
            Dims ``("time", "cohort", *other dims)``, units ``1``.
        """
        years = np.asarray(time).astype(np.int64)
        if years.size == 0 or np.any(np.diff(years) != 1):
            raise ParameterError(f"survival_matrix: time must be consecutive years, got {years[:5]}")
        disc = self.discretise(years)
        mats = disc.matrices(np.arange(disc.n_structures))  # (K, T, T)
        values = np.moveaxis(mats[disc.ids], (-2, -1), (0, 1))
        return xr.DataArray(
            values,
            dims=("time", "cohort", *disc.dims),
            coords={**{d: v for d, v in disc.coords.items() if d in disc.dims}, "time": years, "cohort": years},
            attrs={"units": "1", "long_name": "share of cohort c still in use at the end of year t"},
        )

    # -- discretisation for the stock models -------------------------------------------------
    def discretise(self, years: Any, n_hist: int = 0) -> Discretised:
        """Survival structures on the model years and ``n_hist`` historic cohorts before them.

        Parameters
        ----------
        years : sequence of int
            Consecutive model years.
        n_hist : int
            Number of historic cohorts (ages of an initial stock) before the first model year.
            A cohort-varying lifetime uses the parameters of those cohorts if it has them, and
            the first model year's parameters for all of them if it has none.

        Returns
        -------
        Discretised
        """
        years = np.asarray(years, dtype=np.int64)
        all_years = np.arange(years[0] - n_hist, years[-1] + 1)
        N = all_years.size
        if not self.cohort_varying and not self.year_varying:
            curves, ids, dims, coords = self._curves(N)
            return Discretised(all_years, dims, coords, ids, curves.shape[0], curves=curves)
        arrays = list(xr.broadcast(*self.params.values()))
        if self.cohort_varying:
            arrays = [_cohorts(a, all_years, years[0], type(self).__name__) for a in arrays]
        if not self.year_varying:
            return self._discretise_cohorts(arrays, all_years)
        return self._discretise_factor(arrays, all_years, years)

    def _discretise_cohorts(self, arrays: list[xr.DataArray], all_years: np.ndarray) -> Discretised:
        N = all_years.size
        arrays = [a.transpose(..., "cohort") for a in arrays]
        unique, inverse = self._unique_params(arrays)  # parameter sets over (elements x cohorts)
        lags = np.arange(N, dtype=float)[None, :]
        prms = {name: unique[:, j : j + 1] for j, name in enumerate(self.param_names)}
        curves = np.ascontiguousarray(
            np.broadcast_to(np.asarray(self._discrete(lags, **prms), dtype=float), (unique.shape[0], N))
        )
        template = arrays[0].isel(cohort=0, drop=True)
        per_cohort = inverse.reshape(-1, N)  # (elements, cohorts) -> curve id
        structures, index = _unique_rows(per_cohort)

        def build(ks: np.ndarray) -> np.ndarray:
            lag = np.arange(N)[:, None] - np.arange(N)[None, :]
            lower = lag >= 0
            ids = structures[ks][:, None, :]  # (J, 1, N cohort)
            return np.where(lower, curves[ids, np.where(lower, lag, 0)[None]], 0.0)

        return _discretised(all_years, template, index, structures.shape[0], build)

    def _discretise_factor(
        self, arrays: list[xr.DataArray], all_years: np.ndarray, years: np.ndarray
    ) -> Discretised:
        N = all_years.size
        label = f"{type(self).__name__} lifetime: factor_by_year"
        factor = self.factor_by_year
        have = factor["time"].values
        missing = np.setdiff1d(years, have)
        if missing.size:
            raise ParameterError(
                f"{label}: lacks years {missing[:5].tolist()}{' ...' if missing.size > 5 else ''}; "
                f"it must cover all model years {int(years[0])}..{int(years[-1])}"
            )
        factor = factor.sel(time=years).reindex(time=all_years, fill_value=1.0)
        if "cohort" not in arrays[0].dims:
            arrays = [a.expand_dims(cohort=all_years) for a in arrays]
        # broadcast over the element dims only (not cohort against time)
        template = xr.broadcast(arrays[0].isel(cohort=0, drop=True), factor.isel(time=0, drop=True))[0]
        arrays = [a.broadcast_like(template).transpose(*template.dims, "cohort") for a in arrays]
        factor = factor.broadcast_like(template).transpose(*template.dims, "time")
        keys = np.concatenate(
            [np.asarray(a.values, dtype=float).reshape(-1, N) for a in arrays]
            + [np.asarray(factor.values, dtype=float).reshape(-1, N)],
            axis=1,
        )
        structures, index = _unique_rows(keys)
        P = len(self.param_names)

        def build(ks: np.ndarray) -> np.ndarray:
            rows = structures[ks]  # (J, (P + 1) * N)
            prm = rows[:, : P * N].reshape(-1, P, N)
            f = rows[:, P * N :]
            return np.stack([self._nurture(prm[j], f[j]) for j in range(rows.shape[0])])

        return _discretised(all_years, template, index, structures.shape[0], build)

    def _nurture(self, prm: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """Survival matrix (N, N) for parameters by cohort ``prm`` (P, N) and a factor by year."""
        N = factor.size
        lag = (np.arange(N)[:, None] - np.arange(N)[None, :]).astype(float)  # [t, c]
        scaled = {}
        for j, name in enumerate(self.param_names):
            value = np.broadcast_to(prm[j][None, :], (N, N))
            scaled[name] = value * factor[:, None] if name in self.time_params else value
        lower = lag >= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            at_end = self._discrete(np.where(lower, lag, 0.0), **scaled)  # end of year t
            before = self._discrete(np.where(lag >= 1, lag - 1.0, 0.0), **scaled)  # end of t-1
            ratio = np.divide(at_end, before, out=np.zeros((N, N)), where=before > 0)
        ratio = np.where(lag >= 1, ratio, np.where(lag == 0, at_end, 1.0))
        return np.where(lower, np.cumprod(ratio, axis=0), 0.0)


def _frame(arrays: Any) -> tuple[dict[str, xr.Variable], dict[str, xr.Index]]:
    """The dim coordinates of ``arrays`` (the first array with each dim), as new coordinate
    Variables (no attrs, as from their labels) and their existing indexes."""
    variables: dict[str, xr.Variable] = {}
    indexes: dict[str, xr.Index] = {}
    for a in arrays:
        for d, index in a.xindexes.items():
            if d in a.dims and d not in indexes:
                indexes[d] = index
                variables[d] = index.create_variables()[d]
    return variables, indexes


@functools.lru_cache(maxsize=16)
def _age_coordinate(n_ages: int) -> tuple[xr.Variable, xr.Index]:
    """The ``age`` coordinate ``0 .. n_ages - 1`` and its index, made once per length."""
    made = xr.Coordinates({"age": np.arange(n_ages)})
    return made.variables["age"], made.xindexes["age"]
