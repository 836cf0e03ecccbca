"""A lifetime given as a table of survival shares by age."""

from __future__ import annotations

from typing import Any

import numpy as np
import pint
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.lifetimes._arrays import (
    Discretised,
    _canonical,
    _cohorts,
    _describe_location,
    _dim_coords,
    _discretised,
    _integer_coord,
    _unique_rows,
)
from mfa.core.lifetimes._base import LifetimeModel

#: Rounding allowed when checking that a survival table does not increase with age.
_TABLE_TOL = 1e-12


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
        da, by_age = _table_layout(table)
        _check_shares(da, by_age)
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


def _table_layout(table: Any) -> tuple[xr.DataArray, bool]:
    """The table as shares [1] with ``age`` (or ``time``, ``cohort``) last and consecutive whole
    years; and whether it is by age."""
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
    for dim in ("age", "time", "cohort"):
        if dim in da.dims:
            coord = _integer_coord(da, dim, label)
            if np.any(np.diff(coord) != 1):
                raise ParameterError(f"{label}: coordinate {dim!r} must be consecutive whole years")
    if by_age:
        ages = da["age"].values
        if ages[0] != 0:
            raise ParameterError(f"{label}: ages must start at 0, got {int(ages[0])}")
        return da.transpose(..., "age"), True
    return da.transpose(..., "time", "cohort"), False


def _check_shares(da: xr.DataArray, by_age: bool) -> None:
    """Shares within [0, 1], not increasing with age (or time), where used (t >= cohort)."""
    label = "SurvivalTable"
    if by_age:
        used = np.ones(da.shape, dtype=bool)
        along = -1
    else:
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
