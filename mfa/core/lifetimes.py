"""Lifetime distributions and their yearly survival curves.

A lifetime model gives, for a product put into use, the probability that it is still in use at
a given age. Eight models are available, each parametrised as a user would read it in a source:

=======================  =========================  ============================================
class                    parameters                 survival function ``sf(x)`` at age ``x`` [yr]
=======================  =========================  ============================================
:class:`Fixed`           ``mean`` [yr] (may be 0)   ``1 if x < mean else 0``
:class:`Normal`          ``mean``, ``sd`` [yr]      ``1 - Phi((x - mean) / sd)``
:class:`FoldedNormal`    ``mean``, ``sd`` [yr]      ``P(|X| > x)`` for ``X ~ Normal(mean, sd)``
                                                    (the parameters *before* folding)
:class:`LogNormal`       ``mean``, ``sd`` [yr]      lognormal whose *lifetime* (not its log) has
                                                    this mean and standard deviation
:class:`Weibull`         ``shape`` [1], ``scale``   ``exp(-(x / scale) ** shape)``
:class:`Gamma`           ``shape`` [1], ``scale``   regularised upper incomplete gamma
:class:`Exponential`     ``mean`` [yr]              ``exp(-x / mean)``
:class:`SurvivalTable`   ``table`` [1]              given: by ``age``, or by ``(time, cohort)``
=======================  =========================  ============================================

The survival functions use :mod:`scipy.special` (``ndtr``, ``gammaincc``) and closed forms; they
equal :mod:`scipy.stats` to rounding (tested) without importing it (0.4 s at start-up).

Yearly discretisation: when does the inflow enter?
--------------------------------------------------
Time runs in whole years; stocks are counted at the *end* of each year. The inflow of year ``c``
(the *cohort*) enters at a point of that year chosen by ``inflow_at`` (flodym's option, same name
and meaning). The share of cohort ``c`` still in use at the end of year ``t >= c`` is
``S[t, c] = s[t - c]`` with the discretised survival curve ``s[k] = sf(k + 1 - p)``:

=========================  =====  ===============  ============================================
``inflow_at``              ``p``  ``s[k]``         same results as
=========================  =====  ===============  ============================================
``"start"``                0      ``sf(k + 1)``    flodym ``inflow_at="start"``
``"middle"`` (default)     0.5    ``sf(k + 0.5)``  flodym's default ``inflow_at="middle"``
``"end"``                  1      ``sf(k)``        ODYM (``sf(m - n)``), flodym ``inflow_at="end"``
=========================  =====  ===============  ============================================

The mid-year rule is the default: with it a constant inflow ``I`` builds a stock of about
``I x mean`` (the other two are half a year off). ODYM's classic results (survival at age
``t - c``) come out exactly with ``inflow_at="end"``. Consequences of the mid-year rule:

* ``s[0] = sf(0.5) < 1`` in general: lifetimes shorter than half a year leave in the year of
  inflow. For :class:`Fixed` with an integer ``mean = L`` the cohort is complete until the end of
  year ``c + L - 1`` and leaves entirely in year ``c + L``: ``outflow[t] = inflow[t - L]`` (the
  same with ``"end"``).
* Negative lifetimes (the :class:`Normal` tail below zero). The normal distribution is *not*
  truncated or renormalised (flodym and ODYM do the same): the probability of a lifetime below
  ``1 - p`` years, including the physically impossible negative part, leaves in the year of
  inflow. Mass is conserved; for ``sd <= mean / 3`` the negative part is below 0.14 %. Use
  :class:`FoldedNormal`, :class:`LogNormal`, :class:`Weibull` or :class:`Gamma` if that matters.

Short lifetimes: inflow spread over the year
--------------------------------------------
A single inflow point per year is poor for lifetimes near or below a year: LogNormal(mean 0.3,
sd 0.1) with the mid-year rule gives a mean residence of 0.04 yr instead of 0.3. With
``points_per_year = n > 1`` (flodym's ``n_pts_per_interval``) the inflow is spread evenly over
the year and the survival is integrated over the year of inflow with the ``n``-point
Gauss-Lobatto rule: ``s[k] = sum_q w_q sf(k + 1 - p_q)`` with points ``p_q`` in ``[0, 1]``
(both ends included) and weights ``w_q`` summing to 1. For that lognormal six points give
0.291 yr and ten 0.2997 yr. ``inflow_at`` does not apply then (leave it at its default).

Lifetime changes for products already in use
--------------------------------------------
``factor_by_year`` (flodym's ``lt_factor_by_year``; the "nurture" approach of Krych et al. 2024,
https://doi.org/10.1111/jiec.13586) is a DataArray over ``time`` (and optionally other dims): in
year ``t`` every cohort in use survives as if all time-like parameters (``mean``, ``sd``,
``scale``) were multiplied by ``factor[t]``. The survival of cohort ``c`` then follows the
hazard of the stretched distribution year by year::

    S[c, c] = sf_t(age at the end of c)                        (parameters x factor[c])
    S[t, c] = S[t - 1, c] * sf_t(age at end of t) / sf_t(age at end of t - 1)   (x factor[t])

(0 where ``sf_t`` at the end of ``t - 1`` is 0), exactly as flodym 1.1.0. A factor of 1.2 in
2030 stretches the remaining life of every cohort in use in 2030; cohort-dependent parameters
(a ``cohort`` dim, the "nature" approach) change the lifetime of new products only. Both may be
combined. Only the model years of the factor are used; before the first model year the factor
is 1 (this matters only for an initial stock by age).

Lifetime parameters
-------------------
Parameters are plain numbers (read as years; shapes are dimensionless), pint quantities, or
:class:`xarray.DataArray` over any named dims (``region``, ``product``, ``sample``, ...). A
DataArray with a time-like parameter must carry units (``attrs["units"]`` or pint data) of
dimension time; it is converted to years with :mod:`mfa.core.units`. A parameter with a ``cohort``
dim (integer years of inflow) makes the lifetime *cohort-varying*: then ``S[t, c]`` is not a
function of ``t - c`` alone, and :meth:`LifetimeModel.survival_matrix` builds it.

Distinct curves
---------------
Survival curves are computed once per *distinct* parameter set: all parameter arrays are
broadcast, stacked and reduced with :func:`numpy.unique`; the curves are computed in one
vectorised call on the unique rows and mapped back by index
(:meth:`LifetimeModel.survival_curves`). Twenty products in fifty regions with one lifetime per
product cost twenty curves, not a thousand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

import numpy as np
import pint
import xarray as xr
from scipy.special import gammaincc, ndtr

from mfa.core.errors import ParameterError
from mfa.core.units import (
    check_dimensionality,
    conversion_factor,
    parse_unit,
    to_canonical,
    unit_string,
)

__all__ = [
    "INFLOW_AT",
    "LIFETIME_MODELS",
    "Exponential",
    "Fixed",
    "FoldedNormal",
    "Gamma",
    "LifetimeModel",
    "LogNormal",
    "Normal",
    "SurvivalTable",
    "Weibull",
    "inflow_points",
    "make_lifetime",
]

InflowAt = Literal["start", "middle", "end"]

#: Position ``p`` of the inflow within its year for each ``inflow_at`` (0 = start, 1 = end).
INFLOW_AT: dict[str, float] = {"start": 0.0, "middle": 0.5, "end": 1.0}

#: Largest ``points_per_year`` (as flodym's ``n_pts_per_interval``).
MAX_POINTS_PER_YEAR = 10

#: Dims a lifetime parameter may not have (``cohort`` is allowed and means cohort-varying).
_FORBIDDEN_DIMS = ("time", "age")

#: Rounding allowed when checking that a survival table does not increase with age.
_TABLE_TOL = 1e-12


def inflow_points(n: int, inflow_at: str = "middle") -> tuple[np.ndarray, np.ndarray]:
    """Points in the year of inflow and their weights.

    Parameters
    ----------
    n : int
        Number of points (``points_per_year``). 1: the single point given by ``inflow_at``;
        ``n >= 2``: the Gauss-Lobatto rule on ``[0, 1]`` (both ends included).
    inflow_at : {"start", "middle", "end"}
        Where a single inflow point lies (``n = 1`` only).

    Returns
    -------
    points : numpy.ndarray
        Positions ``p`` in ``[0, 1]`` (0 = start of the year) [1].
    weights : numpy.ndarray
        Weights [1], summing to 1.
    """
    if n == 1:
        return np.array([INFLOW_AT[inflow_at]]), np.array([1.0])
    legendre = np.polynomial.legendre
    coef = np.zeros(n)
    coef[-1] = 1.0  # P_{n-1}
    inner = np.sort(legendre.legroots(legendre.legder(coef))) if n > 2 else np.empty(0)
    x = np.concatenate([[-1.0], inner, [1.0]])
    x = 0.5 * (x - x[::-1])  # exactly symmetric
    w = 2.0 / (n * (n - 1) * legendre.legval(x, coef) ** 2)
    return (x + 1.0) / 2.0, w / 2.0


def _describe_location(da: xr.DataArray, flat_index: int) -> str:
    """Label of one element of a DataArray, e.g. ``region='Europe', product='ev_bev'``."""
    if da.ndim == 0:
        return "(scalar)"
    pos = np.unravel_index(flat_index, da.shape)
    parts = []
    for dim, i in zip(da.dims, pos, strict=True):
        label = da[dim].values[i] if dim in da.coords else i
        if isinstance(label, np.generic):
            label = label.item()
        parts.append(f"{dim}={label!r}")
    return ", ".join(parts)


def _integer_coord(da: xr.DataArray, dim: str, label: str) -> np.ndarray:
    """The integer-year coordinate ``dim`` of ``da``, or a clear error."""
    values = _dim_coords(da).get(dim)
    if values is None or not np.issubdtype(values.dtype, np.number) or np.any(
        values != np.round(values)
    ):
        raise ParameterError(f"{label}: coordinate {dim!r} must be integer years")
    return values.astype(np.int64)


def _dim_coords(da: xr.DataArray) -> dict[str, np.ndarray]:
    """Dim coordinates of a DataArray as numpy arrays (read from its indexes: fast)."""
    indexes = da.indexes
    return {d: np.asarray(indexes[d].values) for d in da.dims if d in indexes}


def _canonical(value: xr.DataArray, target: str, label: str) -> xr.DataArray:
    """:func:`mfa.core.units.to_canonical`, with a fast path for ``attrs["units"]`` (the coordinates
    are reused, not rebuilt)."""
    unit = value.attrs.get("units")
    if isinstance(value.data, pint.Quantity) or unit is None:
        return to_canonical(value, target, name=label)
    factor = conversion_factor(unit, target, label)
    values = np.asarray(value.values, dtype=float)
    if factor != 1.0:
        values = values * factor
    out = value.copy(deep=False, data=values)
    out.attrs["units"] = unit_string(target)
    return out


def _expand(values: np.ndarray, dims: tuple[str, ...], target: tuple[str, ...]) -> np.ndarray:
    """Reorder ``values`` (with ``dims``) to ``target`` order, adding length-1 axes for missing dims."""
    present = [d for d in target if d in dims]
    arr = np.transpose(values, [dims.index(d) for d in present])
    shape = [arr.shape[present.index(d)] if d in dims else 1 for d in target]
    return arr.reshape(shape)


def _broadcast(arrays: list[xr.DataArray]) -> tuple[list[np.ndarray], tuple[str, ...], dict[str, np.ndarray]]:
    """Broadcast DataArrays with numpy: (values, union of dims in order of appearance, coords)."""
    sizes: dict[str, int] = {}
    coords: dict[str, np.ndarray] = {}
    for a in arrays:
        for d, n in zip(a.dims, a.shape, strict=True):
            sizes.setdefault(d, n)
        for d, v in _dim_coords(a).items():
            coords.setdefault(d, v)
    dims = tuple(sizes)
    shape = tuple(sizes[d] for d in dims)
    values = [np.broadcast_to(_expand(np.asarray(a.values, dtype=float), a.dims, dims), shape)
              for a in arrays]
    return values, dims, coords


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a 2-d array and the index of each row's distinct row."""
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    return unique, np.asarray(inverse).reshape(-1)


def _toeplitz(curves: np.ndarray) -> np.ndarray:
    """``S[j, t, c] = curves[j, t - c]`` for ``t >= c``, else 0; curves (J, N) -> (J, N, N)."""
    J, N = curves.shape
    w = np.zeros((J, 2 * N - 1))
    w[:, N - 1 :] = curves
    s0, s1 = w.strides
    view = np.lib.stride_tricks.as_strided(
        w[:, N - 1 :], shape=(J, N, N), strides=(s0, s1, -s1), writeable=False
    )
    return np.ascontiguousarray(view)


class Discretised:
    """Discretised survival of a lifetime model on consecutive years (used by :mod:`mfa.core.stocks`).

    Elements (combinations of the lifetime's dims) that share a survival *structure* share one
    survival matrix ``S[t, c]`` over :attr:`years` (cohorts and times alike; zero above the
    diagonal). For a lifetime that does not vary with cohort or year the structure is a curve
    and ``S`` is Toeplitz: ``S[t, c] = curves[k, t - c]``.

    Attributes
    ----------
    years : numpy.ndarray of int
        All years, from the oldest historic cohort to the last model year.
    dims, coords, ids
        The lifetime's dims (without ``cohort``), their coordinates, and the structure id of
        each element (an int array over ``dims``); :attr:`index` is the same as a DataArray.
    n_structures : int
        Number of distinct structures.
    curves : numpy.ndarray or None
        ``(n_structures, len(years))`` survival curves when ``S`` is Toeplitz, else None.
    """

    def __init__(
        self,
        years: np.ndarray,
        dims: tuple[str, ...],
        coords: dict[str, np.ndarray],
        ids: np.ndarray,
        n_structures: int,
        curves: np.ndarray | None = None,
        builder: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self.years, self.dims, self.coords, self.ids = years, tuple(dims), coords, np.asarray(ids)
        self.n_structures = n_structures
        self.curves = curves
        self._builder = builder

    @property
    def index(self) -> xr.DataArray:
        """Structure id of each element as a DataArray over :attr:`dims`."""
        return xr.DataArray(self.ids, dims=self.dims,
                            coords={d: v for d, v in self.coords.items() if d in self.dims},
                            name="structure_index")

    def matrices(self, structures: np.ndarray) -> np.ndarray:
        """Survival matrices ``S[j, t, c]`` of the given structure ids, shape (J, N, N)."""
        structures = np.asarray(structures, dtype=np.int64)
        if self.curves is not None:
            return _toeplitz(self.curves[structures])
        return self._builder(structures)


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
        return xr.DataArray(
            values,
            dims=(*index.dims, "age"),
            coords={**dict(index.coords), "age": np.arange(n_ages)},
            attrs={"units": "1", "long_name": "share of a cohort still in use at the end of year c + age"},
        )

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


def _discretised(years: np.ndarray, template: xr.DataArray, ids: np.ndarray, n: int,
                  build: Callable[[np.ndarray], np.ndarray]) -> Discretised:
    """A :class:`Discretised` of matrix structures with the element dims of ``template``."""
    return Discretised(years, template.dims, _dim_coords(template), ids.reshape(template.shape), n,
                       builder=build)


def _check_same_coords(arrays: list[xr.DataArray], what: str, skip: tuple[str, ...] = ()) -> None:
    """Shared dims must have identical coordinates (and lengths)."""
    seen: dict[str, tuple[int, np.ndarray | None]] = {}
    for a in arrays:
        coords = _dim_coords(a)
        for d, n in zip(a.dims, a.shape, strict=True):
            if d in skip:
                continue
            v = coords.get(d)
            if d in seen:
                n0, v0 = seen[d]
                same = n == n0 and (v is None or v0 is None or np.array_equal(v, v0))
                if not same:
                    raise ParameterError(
                        f"{what}: parameters have different {d!r} coordinates "
                        f"({[] if v0 is None else v0[:6].tolist()} vs {[] if v is None else v[:6].tolist()}; "
                        "they must be identical)"
                    )
            else:
                seen[d] = (n, v)


def _cohorts(da: xr.DataArray, all_years: np.ndarray, first_model_year: int, what: str) -> xr.DataArray:
    """Select the cohorts ``all_years`` of a cohort-varying parameter, with clear errors.

    Model years must all be present. Historic cohorts (before ``first_model_year``) must be all
    present or all absent; if all are absent they take the first model year's parameters.
    """
    if "cohort" not in da.dims:
        return da.expand_dims(cohort=all_years)
    have = np.asarray(da["cohort"].values)
    model = all_years[all_years >= first_model_year]
    hist = all_years[all_years < first_model_year]
    missing = np.setdiff1d(model, have)
    if missing.size:
        raise ParameterError(
            f"{what} lifetime: cohort-varying parameters lack cohorts {missing[:5].tolist()}"
            f"{' ...' if missing.size > 5 else ''}; they must cover all model years "
            f"{int(model[0])}..{int(model[-1])}"
        )
    missing_hist = np.setdiff1d(hist, have)
    if missing_hist.size and missing_hist.size < hist.size:
        raise ParameterError(
            f"{what} lifetime: cohort-varying parameters cover some historic cohorts of the "
            f"initial stock but lack {missing_hist[:5].tolist()}"
            f"{' ...' if missing_hist.size > 5 else ''}; give all cohorts "
            f"{int(hist[0])}..{int(hist[-1])} or none (then the first model year's are used)"
        )
    if missing_hist.size:
        first = da.sel(cohort=[first_model_year] * hist.size).assign_coords(cohort=hist)
        return xr.concat([first, da.sel(cohort=model)], dim="cohort")
    return da.sel(cohort=all_years)


class Fixed(LifetimeModel):
    """Every item leaves at exactly ``mean`` years (flodym ``FixedLifetime``, ODYM ``Fixed``).

    ``sf(x) = 1 if x < mean else 0``; ``mean = 0`` is allowed (everything leaves in the year of
    inflow). With ``inflow_at`` "middle" or "end" an integer lifetime ``L`` gives
    ``outflow[t] = inflow[t - L]``.
    """

    param_names = ("mean",)
    time_params = ("mean",)
    zero_allowed = ("mean",)
    kind = "fixed"

    def __init__(self, mean: Any, **options: Any) -> None:
        super().__init__(mean=mean, **options)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray) -> np.ndarray:
        return (ages < mean).astype(float)


class Normal(LifetimeModel):
    """Normal lifetime with ``mean`` and standard deviation ``sd`` [yr] (flodym ``NormalLifetime``).

    Not truncated at zero: the share of lifetimes below the first year-end age (negative ones
    included) leaves in the year of inflow, exactly as in flodym 1.1.0 and ODYM. Mass is
    conserved. ``sf(x) = ndtr((mean - x) / sd)`` (bit-identical to ``scipy.stats.norm.sf``).
    """

    param_names = ("mean", "sd")
    time_params = ("mean", "sd")
    kind = "normal"

    def __init__(self, mean: Any, sd: Any, **options: Any) -> None:
        super().__init__(mean=mean, sd=sd, **options)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        return ndtr(-((ages - mean) / sd))


class FoldedNormal(LifetimeModel):
    """Folded normal lifetime: ``|X|`` for ``X ~ Normal(mean, sd)`` (ODYM and flodym ``FoldedNormal``).

    ``mean`` and ``sd`` [yr] are those of the normal *before* folding (the folded lifetime has a
    larger mean). No negative lifetimes: ``sf(0) = 1``.
    """

    param_names = ("mean", "sd")
    time_params = ("mean", "sd")
    kind = "foldednormal"

    def __init__(self, mean: Any, sd: Any, **options: Any) -> None:
        super().__init__(mean=mean, sd=sd, **options)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        x = ages / sd
        c = mean / sd
        return np.where(x > 0, ndtr(-(x - c)) + ndtr(-(x + c)), 1.0)


class LogNormal(LifetimeModel):
    """Lognormal lifetime given by the ``mean`` and ``sd`` [yr] of the lifetime itself.

    The underlying normal has ``sigma^2 = ln(1 + sd^2 / mean^2)`` and
    ``mu = ln(mean^2 / sqrt(mean^2 + sd^2))`` (as flodym ``LogNormalLifetime`` since January
    2025). ODYM's ``LogNormal`` swaps the ratio (``ln(1 + mean^2 / sd^2)``), so its results
    differ unless ``sd == mean``.
    """

    param_names = ("mean", "sd")
    time_params = ("mean", "sd")
    kind = "lognormal"

    def __init__(self, mean: Any, sd: Any, **options: Any) -> None:
        super().__init__(mean=mean, sd=sd, **options)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        mean_sq = mean * mean
        sd_sq = sd * sd
        mu = np.log(mean_sq / np.sqrt(mean_sq + sd_sq))
        sigma = np.sqrt(np.log(1 + sd_sq / mean_sq))
        with np.errstate(divide="ignore"):
            return np.where(ages > 0, ndtr(-(np.log(ages / np.exp(mu)) / sigma)), 1.0)


class Weibull(LifetimeModel):
    """Weibull lifetime with ``shape`` [1] and ``scale`` [yr]: ``sf(x) = exp(-(x/scale)^shape)``."""

    param_names = ("shape", "scale")
    time_params = ("scale",)
    kind = "weibull"

    def __init__(self, shape: Any, scale: Any, **options: Any) -> None:
        super().__init__(shape=shape, scale=scale, **options)

    def _sf(self, ages: np.ndarray, *, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return np.where(ages > 0, np.exp(-np.power(np.maximum(ages, 0.0) / scale, shape)), 1.0)


class Gamma(LifetimeModel):
    """Gamma lifetime with ``shape`` [1] and ``scale`` [yr] (mean = shape * scale)."""

    param_names = ("shape", "scale")
    time_params = ("scale",)
    kind = "gamma"

    def __init__(self, shape: Any, scale: Any, **options: Any) -> None:
        super().__init__(shape=shape, scale=scale, **options)

    def _sf(self, ages: np.ndarray, *, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return np.where(ages > 0, gammaincc(shape, np.maximum(ages, 0.0) / scale), 1.0)


class Exponential(LifetimeModel):
    """Exponential lifetime with ``mean`` [yr]: ``sf(x) = exp(-x / mean)``.

    Discretised with the mid-year inflow: ``s[k] = exp(-(k + 0.5) / mean)``.
    """

    param_names = ("mean",)
    time_params = ("mean",)
    kind = "exponential"

    def __init__(self, mean: Any, **options: Any) -> None:
        super().__init__(mean=mean, **options)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray) -> np.ndarray:
        return np.exp(-ages / mean)


class SurvivalTable(LifetimeModel):
    """A user-supplied, already discretised survival table.

    Parameters
    ----------
    table : xarray.DataArray
        Shares [1] in ``[0, 1]`` (units ``"1"``, or none), either

        * by ``age`` (whole years 0, 1, 2, ...; optionally also by ``cohort`` and other dims):
          ``table[age=k]`` is the share of an inflow still in use at the end of year
          ``c + k`` (the ``s[k]`` of the module docstring). It may not increase with age.
          Beyond its last age the survival is 0 if the last value is 0; if it is not, a model
          needing more ages is an error.
        * by ``time`` and ``cohort`` (integer years; optionally other dims): ``table[t, c]`` is
          the share of cohort ``c`` in use at the end of year ``t`` (used for ``t >= c``; it
          may not increase with ``t``). It must cover the model years (and, with an initial
          stock by age, the historic cohorts and the year before the model).

    The inflow conventions do not apply (the table is already discretised).
    """

    kind = "table"

    def __init__(self, table: xr.DataArray) -> None:
        label = "SurvivalTable"
        if not isinstance(table, xr.DataArray):
            raise ParameterError(f"{label}: expected an xarray.DataArray, got {type(table).__name__}")
        by_age = "age" in table.dims
        by_time = "time" in table.dims and "cohort" in table.dims
        if by_age == by_time:
            raise ParameterError(
                f"{label}: needs either an 'age' dim, or 'time' and 'cohort' dims (not both); "
                f"got dims {table.dims}"
            )
        if by_age and "age" not in table.coords:
            table = table.assign_coords(age=np.arange(table.sizes["age"]))
        if isinstance(table.data, pint.Quantity) or "units" in table.attrs:
            da = _canonical(table, "1", label)
        else:
            da = table.astype(float, copy=True)
            da.attrs["units"] = "1"
        values = np.asarray(da.values, dtype=float)
        for dim in ("age", "time", "cohort"):
            if dim in da.dims:
                coord = _integer_coord(da, dim, label)
                if np.any(np.diff(coord) != 1):
                    raise ParameterError(f"{label}: coordinate {dim!r} must be consecutive whole years")
        if by_age:
            ages = da["age"].values
            if ages[0] != 0:
                raise ParameterError(f"{label}: ages must start at 0, got {int(ages[0])}")
            da = da.transpose(..., "age")
            used = np.ones(da.shape, dtype=bool)
            along = -1
        else:
            da = da.transpose(..., "time", "cohort")
            t = da["time"].values[:, None]
            c = da["cohort"].values[None, :]
            used = np.broadcast_to(t >= c, da.shape)
            along = -2
        values = np.asarray(da.values, dtype=float)
        bad = used & ~((values >= 0) & (values <= 1))
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise ParameterError(
                f"{label}: shares must be finite and within [0, 1], got "
                f"{float(values.ravel()[i])!r} at {_describe_location(da, i)}"
            )
        n = values.shape[along]
        both = np.take(used, range(1, n), axis=along) & np.take(used, range(n - 1), axis=along)
        rising = (np.diff(values, axis=along) > _TABLE_TOL) & both
        if rising.any():
            i = int(np.flatnonzero(rising.ravel())[0])
            pos = np.unravel_index(i, rising.shape)
            where = _describe_location(da, int(np.ravel_multi_index(pos, da.shape)))
            raise ParameterError(
                f"{label}: survival may not increase with {'age' if by_age else 'time'}; it "
                f"does after {where}"
            )
        self.table = da
        self.by_age = by_age
        self.inflow_at = "end"
        self.points_per_year = 1
        self.factor_by_year = None
        self.params = {"table": da}

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(d for d in self.table.dims if d not in ("age", "time"))

    def __repr__(self) -> str:
        return f"SurvivalTable(<{dict(self.table.sizes)}>)"

    def sf(self, ages: Any) -> xr.DataArray:
        raise ParameterError("SurvivalTable: a table has no continuous survival function; use survival()")

    def _table_by_age(self, n_ages: int, table: xr.DataArray) -> np.ndarray:
        """Table rows (..., n_ages), zero-extended past the last age where that is known."""
        values = np.asarray(table.values, dtype=float)
        A = values.shape[-1]
        if n_ages <= A:
            return values[..., :n_ages]
        last = values[..., -1]
        if np.any(last > 0):
            i = int(np.flatnonzero(last.ravel() > 0)[0])
            where = _describe_location(table.isel(age=-1), i)
            raise ParameterError(
                f"SurvivalTable: covers ages 0..{A - 1} but the model needs ages up to "
                f"{n_ages - 1}, and the share at age {A - 1} is {float(last.ravel()[i])!r} "
                f"(not 0) at {where}: extend the table"
            )
        pad = np.zeros((*values.shape[:-1], n_ages - A))
        return np.concatenate([values, pad], axis=-1)

    def survival_curves(self, n_ages: int, *, select: dict | None = None) -> tuple[np.ndarray, xr.DataArray]:
        if not self.by_age:
            raise ParameterError(
                "SurvivalTable: a table by (time, cohort) has no survival curve by age; use "
                "survival_matrix(time)"
            )
        table = self.table
        if select:
            table = table.sel({k: v for k, v in select.items() if k in table.dims})
        rows = self._table_by_age(n_ages, table)
        curves, inverse = _unique_rows(rows.reshape(-1, n_ages))
        template = table.isel(age=0, drop=True)
        index = xr.DataArray(inverse.reshape(template.shape), dims=template.dims,
                             coords=_dim_coords(template), name="curve_index")
        return np.ascontiguousarray(curves), index

    def discretise(self, years: Any, n_hist: int = 0) -> Discretised:
        years = np.asarray(years, dtype=np.int64)
        all_years = np.arange(years[0] - n_hist, years[-1] + 1)
        N = all_years.size
        if self.by_age and not self.cohort_varying:
            curves, index = self.survival_curves(N)
            return Discretised(all_years, index.dims, _dim_coords(index), index.values,
                               curves.shape[0], curves=curves)
        if self.by_age:
            table = _cohorts(self.table, all_years, int(years[0]), "SurvivalTable")
            table = table.transpose(..., "cohort", "age")
            rows = self._table_by_age(N, table)  # (..., cohort, age)
            template = table.isel(cohort=0, age=0, drop=True)
            flat = rows.reshape(-1, N, N)  # (elements, cohort, lag)
            lag = np.arange(N)[:, None] - np.arange(N)[None, :]
            lower = lag >= 0
            mats = np.where(
                lower, flat[:, np.arange(N)[None, :], np.where(lower, lag, 0)], 0.0
            )  # (elements, t, c)
        else:
            need_t = all_years if n_hist == 0 else np.arange(years[0] - 1, years[-1] + 1)
            table = self.table
            for dim, need in (("time", need_t), ("cohort", all_years)):
                miss = np.setdiff1d(need, _dim_coords(table)[dim])
                if miss.size:
                    raise ParameterError(
                        f"SurvivalTable: lacks {dim} {miss[:5].tolist()}"
                        f"{' ...' if miss.size > 5 else ''}; it must cover {int(need[0])}..{int(need[-1])}"
                    )
            table = table.reindex(time=all_years, fill_value=0.0).sel(cohort=all_years)
            if n_hist:
                # the year before the model is needed for historic cohorts only
                table = table.where(table["time"] >= years[0] - 1, 0.0)
            template = table.isel(time=0, cohort=0, drop=True)
            lower = all_years[:, None] >= all_years[None, :]
            mats = np.where(lower, np.asarray(table.values, dtype=float), 0.0).reshape(-1, N, N)
        unique, inverse = _unique_rows(mats.reshape(mats.shape[0], -1))
        unique = unique.reshape(-1, N, N)

        def build(ks: np.ndarray) -> np.ndarray:
            return unique[ks]

        return _discretised(all_years, template, inverse, unique.shape[0], build)


#: Lifetime model classes by name (as written in parameter files).
LIFETIME_MODELS: dict[str, type[LifetimeModel]] = {
    cls.kind: cls for cls in (Fixed, Normal, FoldedNormal, LogNormal, Weibull, Gamma, Exponential)
}

_OPTIONS = ("inflow_at", "points_per_year", "factor_by_year")


def make_lifetime(kind: str, **params: Any) -> LifetimeModel:
    """Build a lifetime model by name (``"fixed"``, ``"normal"``, ``"foldednormal"``,
    ``"lognormal"``, ``"weibull"``, ``"gamma"``, ``"exponential"``; case-insensitive).

    ``params`` are the model's parameters and optionally ``inflow_at``, ``points_per_year`` and
    ``factor_by_year`` (see :class:`LifetimeModel`).

    Raises
    ------
    ParameterError
        For an unknown name or wrong parameters.
    """
    cls = LIFETIME_MODELS.get(str(kind).strip().lower())
    if cls is None:
        raise ParameterError(
            f"unknown lifetime distribution {kind!r}; expected one of {sorted(LIFETIME_MODELS)}"
        )
    missing = [p for p in cls.param_names if p not in params]
    unknown = [p for p in params if p not in cls.param_names and p not in _OPTIONS]
    if missing or unknown:
        raise ParameterError(
            f"{cls.__name__} lifetime: expected parameters {list(cls.param_names)}, "
            f"missing {missing}, unknown {unknown}"
        )
    return cls(**params)
