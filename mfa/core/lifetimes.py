"""Lifetime distributions and their yearly survival curves.

A lifetime model gives, for a product put into use, the probability that it is still in use at
a given age. Six models are available, each parametrised as a user would read it in a source:

====================  =========================  ===============================================
class                 parameters                 survival function ``sf(x)`` at age ``x`` [yr]
====================  =========================  ===============================================
:class:`Fixed`        ``mean`` [yr]              ``1 if x < mean else 0``
:class:`Normal`       ``mean``, ``sd`` [yr]      ``1 - Phi((x - mean) / sd)``
:class:`LogNormal`    ``mean``, ``sd`` [yr]      lognormal whose *lifetime* (not its log) has this
                                                 mean and standard deviation
:class:`Weibull`      ``shape`` [1], ``scale``   ``exp(-(x / scale) ** shape)``
:class:`Gamma`        ``shape`` [1], ``scale``   regularised upper incomplete gamma
:class:`Exponential`  ``mean`` [yr]              ``exp(-x / mean)``
====================  =========================  ===============================================

Yearly discretisation (the ODYM / flodym convention)
----------------------------------------------------
Time runs in whole years. The inflow of year ``c`` (the *cohort*) enters in the middle of year
``c``; stocks are reported at the end of each year. The share of cohort ``c`` still in use at the
end of year ``t >= c`` is therefore::

    S[t, c] = sf(t - c + 0.5)

and the discretised survival curve used by :mod:`mfa.core.stocks` is ``s[k] = sf(k + 0.5)`` for integer
ages ``k = t - c = 0, 1, 2, ...`` (``k = 0`` is the year of inflow). This is exactly what flodym
1.1.0 computes with its default ``inflow_at="middle"`` and ``n_pts_per_interval=1`` (its time
bounds are the mid-points between years, so its ages are ``t - c + 0.5``); results agree with
flodym to rounding (tested). Consequences:

* ``s[0] = sf(0.5) < 1`` in general: lifetimes shorter than half a year leave in the year of
  inflow. For :class:`Fixed` with an integer ``mean = L`` the cohort is complete until the end of
  year ``c + L - 1`` and leaves entirely in year ``c + L``: ``outflow[t] = inflow[t - L]``.
* Negative lifetimes (the :class:`Normal` tail below zero). The normal distribution is *not*
  truncated or renormalised (flodym does the same): the probability of a lifetime below 0.5 yr,
  including the physically impossible negative part, leaves in the year of inflow. Mass is
  conserved; for ``sd <= mean / 3`` the affected share is below 0.14 %. Use :class:`LogNormal`,
  :class:`Weibull` or :class:`Gamma` if that matters.

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

from typing import Any, ClassVar

import numpy as np
import pint
import scipy.stats
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.units import UnitError, check_dimensionality, parse_unit, to_canonical

__all__ = [
    "LIFETIME_MODELS",
    "Exponential",
    "Fixed",
    "Gamma",
    "LifetimeModel",
    "LogNormal",
    "Normal",
    "Weibull",
    "make_lifetime",
]

#: Dims a lifetime parameter may not have (``cohort`` is allowed and means cohort-varying).
_FORBIDDEN_DIMS = ("time", "age")


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


class LifetimeModel:
    """Base class of the lifetime models (see the module docstring for the conventions).

    Subclasses declare ``param_names`` (constructor keywords, in order), ``time_params`` (those
    measured in years) and implement :meth:`_sf`.

    Attributes
    ----------
    params : dict of str to xarray.DataArray
        Validated parameters, time-like ones in years (``attrs["units"] == "yr"``).
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    time_params: ClassVar[tuple[str, ...]] = ()
    kind: ClassVar[str] = ""

    def __init__(self, **params: Any) -> None:
        missing = [p for p in self.param_names if p not in params]
        unknown = [p for p in params if p not in self.param_names]
        if missing or unknown:
            raise ParameterError(
                f"{type(self).__name__} lifetime: expected parameters {list(self.param_names)}, "
                f"missing {missing}, unknown {unknown}"
            )
        self.params: dict[str, xr.DataArray] = {
            name: self._validate(name, params[name]) for name in self.param_names
        }
        # Shared coordinates must agree (xarray would otherwise silently align by intersection).
        try:
            xr.align(*self.params.values(), join="exact")
        except ValueError as exc:
            raise ParameterError(
                f"{type(self).__name__} lifetime: parameters have different coordinates ({exc})"
            ) from None

    # -- validation ------------------------------------------------------------------------
    def _validate(self, name: str, value: Any) -> xr.DataArray:
        label = f"{type(self).__name__} lifetime parameter {name!r}"
        is_time = name in self.time_params
        if isinstance(value, xr.DataArray):
            for dim in _FORBIDDEN_DIMS:
                if dim in value.dims:
                    raise ParameterError(
                        f"{label}: has dim {dim!r}; lifetimes may vary by cohort (dim 'cohort') "
                        "and any other dims, not by time or age"
                    )
            if is_time:
                da = to_canonical(value, "yr", name=label)
            elif isinstance(value.data, pint.Quantity) or "units" in value.attrs:
                da = to_canonical(value, "1", name=label)
            else:
                da = value.astype(float, copy=True)
                da.attrs["units"] = "1"
            if "cohort" in da.dims:
                coh = da["cohort"].values if "cohort" in da.coords else None
                if coh is None or not np.issubdtype(np.asarray(coh).dtype, np.number) or np.any(
                    np.asarray(coh) != np.round(np.asarray(coh))
                ):
                    raise ParameterError(f"{label}: coordinate 'cohort' must be integer years")
        elif isinstance(value, pint.Quantity):
            if np.ndim(value.magnitude) != 0:
                raise ParameterError(f"{label}: give arrays as xarray.DataArray with named dims")
            unit = parse_unit(value.units, label)
            target = "yr" if is_time else "1"
            try:
                check_dimensionality(unit, target, label)
            except UnitError:
                raise
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
        if bad.any():
            where = _describe_location(da, int(np.flatnonzero(bad.ravel())[0]))
            raise ParameterError(f"{label}: value is NaN or infinite at {where} (must be a finite number > 0)")
        nonpos = values <= 0
        if nonpos.any():
            i = int(np.flatnonzero(nonpos.ravel())[0])
            where = _describe_location(da, i)
            raise ParameterError(
                f"{label}: must be > 0, got {float(values.ravel()[i])!r} at {where}"
            )
        da.name = name
        return da

    # -- structure -------------------------------------------------------------------------
    @property
    def dims(self) -> tuple[str, ...]:
        """Union of the parameter dims (``cohort`` included if present)."""
        out: list[str] = []
        for da in self.params.values():
            out.extend(d for d in da.dims if d not in out)
        return tuple(out)

    @property
    def cohort_varying(self) -> bool:
        """True if any parameter varies with the cohort (year of inflow)."""
        return "cohort" in self.dims

    def __repr__(self) -> str:
        parts = []
        for name, da in self.params.items():
            parts.append(f"{name}={float(da):g}" if da.ndim == 0 else f"{name}=<{dict(da.sizes)}>")
        return f"{type(self).__name__}({', '.join(parts)})"

    # -- survival functions ----------------------------------------------------------------
    def _sf(self, ages: np.ndarray, **params: np.ndarray) -> np.ndarray:  # pragma: no cover
        """Continuous survival function, vectorised.

        ``ages`` has shape ``(1, n)`` [yr], each parameter shape ``(K, 1)``; returns ``(K, n)``.
        """
        raise NotImplementedError

    def _broadcast_params(self) -> list[xr.DataArray]:
        return list(xr.broadcast(*self.params.values()))

    def survival_curves(
        self, n_ages: int, *, offset: float = 0.5, select: dict | None = None
    ) -> tuple[np.ndarray, xr.DataArray]:
        """Distinct discretised survival curves and the map from parameter elements to them.

        Parameters
        ----------
        n_ages : int
            Number of integer ages ``k = 0 .. n_ages - 1``.
        offset : float
            Evaluate ``sf(k + offset)``; 0.5 is the mid-year inflow convention.
        select : dict, optional
            Passed to ``DataArray.sel`` on every parameter first (e.g. ``{"cohort": 2020}``).

        Returns
        -------
        curves : numpy.ndarray, shape (K, n_ages)
            ``curves[j, k]`` = share [1] of an inflow still in use ``k`` whole years after the
            year of inflow, for the j-th distinct parameter set.
        index : xarray.DataArray of int
            Over :attr:`dims`; ``index`` at an element gives the row of ``curves`` to use.
        """
        arrays = self._broadcast_params()
        if select:
            arrays = [a.sel({k: v for k, v in select.items() if k in a.dims}) for a in arrays]
        template = arrays[0]
        stacked = np.stack([np.asarray(a.values, dtype=float).ravel() for a in arrays], axis=1)
        unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
        ages = (np.arange(n_ages, dtype=float) + offset)[None, :]
        prms = {name: unique[:, j : j + 1] for j, name in enumerate(self.param_names)}
        curves = np.asarray(self._sf(ages, **prms), dtype=float)
        curves = np.ascontiguousarray(np.broadcast_to(curves, (unique.shape[0], n_ages)))
        index = xr.DataArray(
            np.asarray(inverse).reshape(template.shape),
            dims=template.dims,
            coords={k: v for k, v in template.coords.items() if k in template.dims},
            name="curve_index",
        )
        return curves, index

    def sf(self, ages: Any) -> xr.DataArray:
        """Continuous survival function at arbitrary ages.

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
        arrays = self._broadcast_params()
        stacked = np.stack([np.asarray(a.values, dtype=float).ravel() for a in arrays], axis=1)
        unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
        prms = {name: unique[:, j : j + 1] for j, name in enumerate(self.param_names)}
        curves = np.broadcast_to(self._sf(ages[None, :], **prms), (unique.shape[0], ages.size))
        t = arrays[0]
        values = curves[np.asarray(inverse).ravel()].reshape((*t.shape, ages.size))
        return xr.DataArray(
            values,
            dims=(*t.dims, "age"),
            coords={**{k: v for k, v in t.coords.items() if k in t.dims}, "age": ages},
            attrs={"units": "1", "long_name": "share still in use"},
        )

    def survival(self, n_ages: int) -> xr.DataArray:
        """Discretised survival curve ``s[k] = sf(k + 0.5)`` for ``k = 0 .. n_ages - 1``.

        ``s[k]`` is the share of an inflow of year ``c`` still in use at the end of year
        ``c + k``. Computed once per distinct parameter set.

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
        """Survival matrix ``S[t, c] = sf_c(t - c + 0.5)`` (lower triangular in ``t, c``).

        Only needed when the lifetime is cohort-varying; otherwise ``S[t, c] = s[t - c]`` and
        :meth:`survival` is enough (and O(T) instead of O(T^2)).

        Parameters
        ----------
        time : sequence of int
            Model years (consecutive). Cohort-varying parameters must cover all of them.

        Returns
        -------
        xarray.DataArray
            Dims ``("time", "cohort", *other dims)``, units ``1``.
        """
        years = np.asarray(time)
        T = years.size
        curves, index = self.survival_curves(T)
        lag = years[:, None] - years[None, :]
        lower = lag >= 0
        lag_c = np.where(lower, lag, 0)
        if "cohort" in index.dims:
            index = _select_cohorts(index, years, type(self).__name__)
            index = index.transpose("cohort", ...)
            idx = index.values  # (T, *other)
            extra = idx.ndim - 1
            lag_b = lag_c.reshape(lag_c.shape + (1,) * extra)
            values = curves[idx[None, ...], lag_b]
            other_dims = index.dims[1:]
            coords = {k: v for k, v in index.coords.items() if k != "cohort"}
        else:
            idx = index.values
            values = curves[idx[None, None, ...], lag_c.reshape(lag_c.shape + (1,) * idx.ndim)]
            other_dims = index.dims
            coords = dict(index.coords)
        values = np.where(lower.reshape(lower.shape + (1,) * (values.ndim - 2)), values, 0.0)
        return xr.DataArray(
            values,
            dims=("time", "cohort", *other_dims),
            coords={**coords, "time": years, "cohort": years},
            attrs={"units": "1", "long_name": "share of cohort c still in use at the end of year t"},
        )


def _select_cohorts(da: xr.DataArray, years: np.ndarray, what: str) -> xr.DataArray:
    """Select ``cohort = years`` from a cohort-varying array, with a clear error if some miss."""
    have = np.asarray(da["cohort"].values)
    missing = np.setdiff1d(years, have)
    if missing.size:
        raise ParameterError(
            f"{what} lifetime: cohort-varying parameters lack cohorts {missing[:5].tolist()}"
            f"{' ...' if missing.size > 5 else ''}; they must cover all model years "
            f"{int(years[0])}..{int(years[-1])}"
        )
    return da.sel(cohort=years)


class Fixed(LifetimeModel):
    """Every item leaves at exactly ``mean`` years (flodym ``FixedLifetime``).

    ``sf(x) = 1 if x < mean else 0``. With the mid-year convention an integer lifetime ``L``
    gives ``outflow[t] = inflow[t - L]``; a lifetime below 0.5 yr leaves in the year of inflow.
    """

    param_names = ("mean",)
    time_params = ("mean",)
    kind = "fixed"

    def __init__(self, mean: Any) -> None:
        super().__init__(mean=mean)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray) -> np.ndarray:
        return (ages < mean).astype(float)


class Normal(LifetimeModel):
    """Normal lifetime with ``mean`` and standard deviation ``sd`` [yr] (flodym ``NormalLifetime``).

    Not truncated at zero: the share of lifetimes below 0.5 yr (negative ones included) leaves
    in the year of inflow, exactly as in flodym 1.1.0. Mass is conserved.
    """

    param_names = ("mean", "sd")
    time_params = ("mean", "sd")
    kind = "normal"

    def __init__(self, mean: Any, sd: Any) -> None:
        super().__init__(mean=mean, sd=sd)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        return scipy.stats.norm.sf(ages, loc=mean, scale=sd)


class LogNormal(LifetimeModel):
    """Lognormal lifetime given by the ``mean`` and ``sd`` [yr] of the lifetime itself.

    The underlying normal has ``sigma^2 = ln(1 + sd^2 / mean^2)`` and
    ``mu = ln(mean^2 / sqrt(mean^2 + sd^2))`` (as flodym ``LogNormalLifetime``).
    """

    param_names = ("mean", "sd")
    time_params = ("mean", "sd")
    kind = "lognormal"

    def __init__(self, mean: Any, sd: Any) -> None:
        super().__init__(mean=mean, sd=sd)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        mean_sq = mean * mean
        sd_sq = sd * sd
        mu = np.log(mean_sq / np.sqrt(mean_sq + sd_sq))
        sigma = np.sqrt(np.log(1 + sd_sq / mean_sq))
        return scipy.stats.lognorm.sf(ages, s=sigma, loc=0, scale=np.exp(mu))


class Weibull(LifetimeModel):
    """Weibull lifetime with ``shape`` [1] and ``scale`` [yr]: ``sf(x) = exp(-(x/scale)^shape)``."""

    param_names = ("shape", "scale")
    time_params = ("scale",)
    kind = "weibull"

    def __init__(self, shape: Any, scale: Any) -> None:
        super().__init__(shape=shape, scale=scale)

    def _sf(self, ages: np.ndarray, *, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return scipy.stats.weibull_min.sf(ages, c=shape, loc=0, scale=scale)


class Gamma(LifetimeModel):
    """Gamma lifetime with ``shape`` [1] and ``scale`` [yr] (mean = shape * scale)."""

    param_names = ("shape", "scale")
    time_params = ("scale",)
    kind = "gamma"

    def __init__(self, shape: Any, scale: Any) -> None:
        super().__init__(shape=shape, scale=scale)

    def _sf(self, ages: np.ndarray, *, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return scipy.stats.gamma.sf(ages, a=shape, loc=0, scale=scale)


class Exponential(LifetimeModel):
    """Exponential lifetime with ``mean`` [yr]: ``sf(x) = exp(-x / mean)``.

    Discretised: ``s[k] = exp(-(k + 0.5) / mean)``.
    """

    param_names = ("mean",)
    time_params = ("mean",)
    kind = "exponential"

    def __init__(self, mean: Any) -> None:
        super().__init__(mean=mean)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray) -> np.ndarray:
        return np.exp(-ages / mean)


#: Lifetime model classes by name (as written in parameter files).
LIFETIME_MODELS: dict[str, type[LifetimeModel]] = {
    cls.kind: cls for cls in (Fixed, Normal, LogNormal, Weibull, Gamma, Exponential)
}


def make_lifetime(kind: str, **params: Any) -> LifetimeModel:
    """Build a lifetime model by name (``"fixed"``, ``"normal"``, ``"lognormal"``, ``"weibull"``,
    ``"gamma"``, ``"exponential"``; case-insensitive).

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
    unknown = [p for p in params if p not in cls.param_names]
    if missing or unknown:
        raise ParameterError(
            f"{cls.__name__} lifetime: expected parameters {list(cls.param_names)}, "
            f"missing {missing}, unknown {unknown}"
        )
    return cls(**params)
