"""Conventions, discretised survival structures and the array helpers of the lifetime models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pint
import xarray as xr

from mfa.core._fastpath import like
from mfa.core.errors import ParameterError
from mfa.core.units import conversion_factor, to_canonical, unit_string

InflowAt = Literal["start", "middle", "end"]

# Position ``p`` of the inflow within its year for each ``inflow_at`` (0 = start, 1 = end).
INFLOW_AT: dict[str, float] = {"start": 0.0, "middle": 0.5, "end": 1.0}

#: Largest ``points_per_year`` (as flodym's ``n_pts_per_interval``).
MAX_POINTS_PER_YEAR = 10

#: Dims a lifetime parameter may not have (``cohort`` is allowed and means cohort-varying).
_FORBIDDEN_DIMS = ("time", "age")


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
    return like(value, xr.Variable(value.dims, values, {**value.attrs,
                                                         "units": unit_string(target)}))


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
