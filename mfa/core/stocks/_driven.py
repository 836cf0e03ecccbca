"""The dynamic stock models on labelled arrays: inflow-driven, stock-driven (with type split), historic inflow."""

from __future__ import annotations

from typing import Any

import numpy as np
import pint
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.lifetimes import LifetimeModel
from mfa.core.lifetimes._arrays import _dim_coords, _expand
from mfa.core.stocks._arrays import _describe, _solve_again
from mfa.core.stocks._kernels import NOISE, _by_cohort, _convolve, _solve, _Structures
from mfa.core.stocks._layout import (
    _check_time,
    _dataset,
    _Hist,
    _initial_ages,
    _Layout,
    _prepare,
    _Units,
    _with_history,
)
from mfa.core.stocks._negative import (
    NegativeInflowRule,
    _check_alive,
    _check_rule,
    _negative_inflow,
)
from mfa.core.units import to_canonical


def inflow_driven(
    inflow: xr.DataArray,
    lifetime: LifetimeModel,
    *,
    initial_stock_by_age: xr.DataArray | None = None,
    by_cohort: bool = False,
    method: str = "auto",
    ensemble_dims: tuple[str, ...] = ("sample",),
) -> xr.Dataset:
    """Inflow-driven dynamic stock model.

    Parameters
    ----------
    inflow : xarray.DataArray
        Dims ``time`` (consecutive integer years, ascending) plus any others; a mass-flow unit
        (``attrs["units"]`` or pint data, e.g. ``"kt/yr"``). Must be finite and >= 0 (negative
        rounding noise is read as 0, see the module docstring).
    lifetime : mfa.core.lifetimes.LifetimeModel
        Parameters over any subset of the inflow's other dims, ``cohort`` (covering all model
        years), ``factor_by_year``, and dims listed in ``ensemble_dims``.
    initial_stock_by_age : xarray.DataArray, optional
        Stock at the start of the first year by ``age`` [mass] (module docstring).
    by_cohort : bool
        Also return ``stock_by_cohort`` [t] and ``outflow_by_cohort`` [t/yr] with dims
        ``(time, cohort, ...)`` (memory T x C x elements).
    method : {"auto", "blas", "lags"}
        Algorithm; all give the same result to rounding ("lags" only for lifetimes that vary
        neither by cohort nor by year; "toeplitz", the former name of "blas", is accepted).
    ensemble_dims : tuple of str
        Dims the lifetime may have and the inflow not, over which the model is run once per
        entry (alternative runs such as Monte Carlo ``sample``). Any other such dim is an error
        (it would multiply the mass).

    Returns
    -------
    xarray.Dataset
        ``stock`` [t] (end of year), ``outflow`` [t/yr], ``inflow`` [t/yr] (echoed, broadcast);
        with an initial stock also ``initial_stock`` [t] (the stock before the first year) and
        ``historic_inflow`` [t/yr] by ``age``. Pint in, pint out (module docstring).

    Raises
    ------
    mfa.core.units.UnitError
        Missing units or not a mass flow.
    mfa.core.errors.ParameterError
        NaN, negative values, unsorted or gappy time, incompatible lifetime parameters, a
        lifetime dim the inflow lacks (not in ``ensemble_dims``).
    """
    da, years = _prepare(inflow, "inflow", "t/yr", noise=True)
    units = _Units(inflow, "flow")
    A = 0 if initial_stock_by_age is None else _initial_ages(initial_stock_by_age)
    lay = _Layout(da, lifetime, years, "inflow", n_hist=A, ensemble_dims=ensemble_dims,
                  func="inflow_driven")
    X = lay.initial(initial_stock_by_age)
    hist = None if X is None else _Hist(lay, X, lay.group, by_cohort)
    stock, outflow = _convolve(lay.x, lay.structs, lay.group, method, out=(lay.spare(1), lay.spare(2)))
    arrays = {"inflow": lay.x, "stock": stock, "outflow": outflow}
    if hist is not None:
        stock += hist.rem
        outflow += hist.out
        arrays.update(initial_stock=X.sum(axis=1), historic_inflow=hist.inflow)
    if by_cohort:
        sbc, obc = _by_cohort(lay.x, lay.structs, lay.group)
        arrays["stock_by_cohort"] = _with_history(sbc, hist and hist.rem_a)
        arrays["outflow_by_cohort"] = _with_history(obc, hist and hist.out_a)
    return units.wrap(_dataset(lay, arrays))


def historic_inflow(
    initial_stock_by_age: xr.DataArray, lifetime: LifetimeModel, first_year: int
) -> xr.DataArray:
    """The inflows that left an initial stock by age (ODYM's ``compute_i_from_s``).

    Parameters
    ----------
    initial_stock_by_age : xarray.DataArray
        Stock [mass] at the start of ``first_year`` by ``age`` (age ``a`` = cohort
        ``first_year - 1 - a``) and any other dims.
    lifetime : mfa.core.lifetimes.LifetimeModel
        Lifetime of those cohorts (its ``inflow_at`` convention applies; a cohort-varying
        lifetime must cover the cohorts).
    first_year : int
        First model year (the stock is counted at the end of ``first_year - 1``).

    Returns
    -------
    xarray.DataArray
        ``stock / S[first_year - 1, c]`` [t/yr] with the dims of the stock (and of the
        lifetime) and a ``cohort`` coordinate along ``age``.

    Raises
    ------
    mfa.core.errors.ParameterError
        If a cohort holds stock although its survival is already 0.
    """
    A = _initial_ages(initial_stock_by_age)
    first_year = int(first_year)
    # The historic cohorts are the "model years" first_year - A .. first_year - 1 here.
    others = [d for d in initial_stock_by_age.dims if d != "age"]
    template = initial_stock_by_age.isel(age=0, drop=True)
    zeros = xr.zeros_like(template, dtype=float).expand_dims(time=[first_year - 1])
    zeros = zeros.transpose("time", *others).assign_attrs(units="t/yr")
    lay = _Layout(zeros, lifetime, np.array([first_year - 1]), "initial_stock_by_age",
                  n_hist=A - 1, ensemble_dims=tuple(lifetime.dims), func="historic_inflow")
    lay.A = A
    X = lay.initial(initial_stock_by_age)
    alive = np.empty((lay.disc.n_structures, A))
    for k in range(lay.disc.n_structures):
        F = lay.disc.matrices(np.array([k]))[0]
        alive[k] = F[A - 1, A - 1 - np.arange(A)]
    alive = alive[lay.group]
    _check_alive(X, alive, lay.describe)
    values = np.where(alive > 0, X / np.where(alive > 0, alive, 1.0), 0.0)
    out = xr.DataArray(
        values.reshape(*lay.shape, A),
        dims=(*lay.dims, "age"),
        coords={d: lay.coords[d] for d in lay.dims if d in lay.coords},
        attrs={"units": "t/yr", "long_name": "inflow of the historic cohort of each age"},
    )
    out = out.transpose(*initial_stock_by_age.dims, ...)
    return out.assign_coords(age=np.arange(A), cohort=("age", first_year - 1 - np.arange(A)))


def stock_driven(
    stock: xr.DataArray,
    lifetime: LifetimeModel,
    initial_stock_by_age: xr.DataArray | None = None,
    *,
    negative_inflow: NegativeInflowRule = "raise",
    type_shares: xr.DataArray | None = None,
    by_cohort: bool = False,
    method: str = "auto",
    ensemble_dims: tuple[str, ...] = ("sample",),
) -> xr.Dataset:
    """Stock-driven dynamic stock model: the inflow that keeps the stock on its path.

    Parameters
    ----------
    stock : xarray.DataArray
        Target stock at the end of each year, dims ``time`` (consecutive integer years) plus
        any others; a mass unit. Finite and >= 0.
    lifetime : mfa.core.lifetimes.LifetimeModel
        As in :func:`inflow_driven`. The survival at the end of the year of inflow must be > 0.
        With ``type_shares`` it has the type dim (one lifetime per type).
    initial_stock_by_age : xarray.DataArray, optional
        Stock at the start of the first year by ``age`` [mass]; new cohorts make up the rest.
        With ``type_shares`` it has the type dim.
    negative_inflow : {"raise", "warn", "clip", "retire"}
        What to do where the stock falls faster than its cohorts leave (module docstring).
    type_shares : xarray.DataArray, optional
        Type split (module docstring): shares [1] of the inflow of each year (dim ``time``,
        covering the model years) by one type dim that the stock lacks and the lifetime has;
        >= 0, summing to 1 over the types; optionally other dims of the stock.
    by_cohort : bool
        Also return ``stock_by_cohort`` and ``outflow_by_cohort`` (by type with a split).
    method : {"auto", "blas", "lags"}
        Algorithm for the outflow.
    ensemble_dims : tuple of str
        As in :func:`inflow_driven`.

    Returns
    -------
    xarray.Dataset
        ``inflow`` [t/yr], ``outflow`` [t/yr], ``stock`` [t] (the target, or with "clip" the
        stock actually reached); with "clip" also ``stock_target`` [t], ``stock_excess`` [t]
        and ``inflow_clipped`` [t/yr]; with "retire" ``retired_early`` [t/yr]; with an initial
        stock ``initial_stock`` [t] and ``historic_inflow`` [t/yr]; with a type split
        ``inflow_by_type``, ``stock_by_type`` and ``outflow_by_type``.

    Raises
    ------
    NegativeInflowError
        With ``negative_inflow="raise"``, naming the year and the element.
    mfa.core.units.UnitError, mfa.core.errors.ParameterError
        For bad units or values, as :func:`inflow_driven`.
    """
    _check_rule(negative_inflow)
    da, years = _prepare(stock, "stock", "t", noise=False)
    units = _Units(stock, "mass")
    A = 0 if initial_stock_by_age is None else _initial_ages(initial_stock_by_age)
    split = _split_dim(type_shares, da, lifetime)
    lay = _Layout(da, lifetime, years, "stock", n_hist=A, ensemble_dims=ensemble_dims,
                  split_dim=split, func="stock_driven")
    X = lay.initial(initial_stock_by_age)
    if split:
        arrays = _stock_driven_split(lay, type_shares, X, negative_inflow, by_cohort, method)
        return units.wrap(_dataset(lay, arrays))
    hist = None if X is None else _Hist(lay, X, lay.group, by_cohort)
    target = lay.x if hist is None else lay.x - hist.rem
    noise = NOISE * np.max(np.abs(lay.x), axis=1, keepdims=True)
    outflow = lay.spare(2)
    inflow = _solve(target, lay.structs, lay.group, lay.describe, years, out=lay.spare(1),
                    outflow=outflow if method != "lags" else None, noise=noise)
    redo = _negative_inflow(inflow, lay.x, negative_inflow, lay.describe, years)
    clip = negative_inflow == "clip"
    reached = None
    if clip or method == "lags":
        reached, outflow = _convolve(inflow, lay.structs, lay.group, method, stock=clip)
    if hist is not None:
        outflow += hist.out
        if clip:
            reached += hist.rem
    arrays = {"inflow": inflow, "stock": reached if clip else lay.x, "outflow": outflow}
    if by_cohort:
        sbc, obc = _by_cohort(inflow, lay.structs, lay.group)
        arrays["stock_by_cohort"] = _with_history(sbc, hist and hist.rem_a)
        arrays["outflow_by_cohort"] = _with_history(obc, hist and hist.out_a)
    _redo_negative(lay, arrays, redo, hist, negative_inflow, by_cohort)
    if hist is not None:
        arrays.update(initial_stock=X.sum(axis=1), historic_inflow=hist.inflow)
    return units.wrap(_dataset(lay, arrays))



def _redo_negative(lay: _Layout, arrays: dict[str, np.ndarray], redo: np.ndarray, hist: _Hist | None,
                   rule: str, by_cohort: bool) -> None:
    """Solve the elements ``redo`` (negative inflow under "clip" or "retire") again year by
    year, in place in ``arrays``, and add the rule's outputs (``stock_target``,
    ``stock_excess``, ``inflow_clipped``; or ``retired_early``)."""
    clip = rule == "clip"
    extra = np.zeros_like(lay.x) if rule in ("clip", "retire") else None
    if redo.size:
        hist_arg = None if hist is None else ([hist.survival], hist.X[:, :, None])
        solved = _solve_again(lay.x, redo, lay.structs, lay.group, None, hist_arg,
                              rule, by_cohort)
        arrays["inflow"][redo] = solved["inflow"]
        arrays["outflow"][redo] = solved["outflow"][..., 0]
        if clip:
            arrays["stock"][redo] = solved["stock"][..., 0]
        extra[redo] = solved["clipped" if clip else "retired"]
        if by_cohort:
            arrays["stock_by_cohort"][redo] = solved["stock_bc"][..., 0]
            arrays["outflow_by_cohort"][redo] = solved["outflow_bc"][..., 0]
    if clip:
        arrays.update(stock_target=lay.x.copy(),
                      stock_excess=np.maximum(arrays["stock"] - lay.x, 0.0), inflow_clipped=extra)
    elif rule == "retire":
        arrays["retired_early"] = extra


# --- type split -------------------------------------------------------------------------------


def _split_dim(shares: Any, stock: xr.DataArray, lifetime: LifetimeModel) -> str | None:
    if shares is None:
        return None
    if not isinstance(shares, xr.DataArray) or "time" not in shares.dims:
        raise ParameterError("type_shares: expected an xarray.DataArray with a 'time' dim and a type dim")
    dims = [d for d in shares.dims if d != "time" and d not in stock.dims]
    if len(dims) != 1:
        raise ParameterError(
            f"type_shares: needs exactly one type dim that the stock lacks, got {dims} (dims "
            f"{shares.dims}, stock dims {stock.dims})"
        )
    if not isinstance(lifetime, LifetimeModel) or dims[0] not in lifetime.dims:
        raise ParameterError(
            f"type_shares: the lifetime has no {dims[0]!r} dim; give one lifetime per type"
        )
    return dims[0]


def _split_shares(lay: _Layout, shares: xr.DataArray) -> np.ndarray:
    """Validated type shares laid out as (E, T, J)."""
    name = "type_shares"
    split = lay.split_dim
    years = _check_time(shares, name) if "time" in shares.coords else None
    if years is None or np.setdiff1d(lay.years, years).size:
        raise ParameterError(f"{name}: must cover the model years {int(lay.years[0])}..{int(lay.years[-1])}")
    shares = shares.sel(time=lay.years)
    if isinstance(shares.data, pint.Quantity) or "units" in shares.attrs:
        shares = to_canonical(shares, "1", name=name)
    for d, v in _dim_coords(shares).items():
        if d in lay.coords and d != "time" and not np.array_equal(lay.coords[d], v):
            raise ParameterError(f"{name}: coordinate {d!r} differs from the model's: {v[:6].tolist()}")
    values = np.asarray(shares.values, dtype=float)
    if not np.all(np.isfinite(values)) or values.min() < 0:
        raise ParameterError(f"{name}: shares must be finite and >= 0")
    total = shares.sum(split)
    off = np.abs(np.asarray(total.values) - 1.0) > 1e-9
    if off.any():
        i = int(np.flatnonzero(off.ravel())[0])
        where = _describe(total.dims, _dim_coords(total), total.shape)(i)
        raise ParameterError(
            f"{name}: shares must sum to 1 over {split!r}; they sum to "
            f"{float(np.asarray(total.values).ravel()[i]):.6g} at {where}"
        )
    sh = _expand(values, shares.dims, (*lay.dims, "time", split))
    J = shares.sizes[split]
    return np.ascontiguousarray(np.broadcast_to(sh, (*lay.shape, lay.T, J))).reshape(lay.E, lay.T, J)


def _mixture(lay: _Layout, shares: np.ndarray) -> tuple[_Structures, np.ndarray]:
    """Survival of the total inflow, ``sum_j shares[c, j] S_j[t, c]``, per distinct combination."""
    J, T = lay.group.shape[1], lay.T
    keys = np.concatenate([lay.group.astype(float), shares.reshape(lay.E, -1)], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)

    def build(ks: np.ndarray) -> np.ndarray:
        out = np.zeros((ks.size, T, T))
        for i, k in enumerate(ks):
            sh = unique[k, J:].reshape(T, J)
            for j in range(J):
                out[i] += sh[None, :, j] * lay.structs.survival(int(unique[k, j]))
        return out

    return _Structures(T, unique.shape[0], build=build), np.asarray(inverse).reshape(-1)


def _stock_driven_split(
    lay: _Layout, type_shares: xr.DataArray, X: np.ndarray | None, rule: str, by_cohort: bool,
    method: str,
) -> dict[str, np.ndarray]:
    """Stock-driven model with a type split: result arrays (module docstring, Type split)."""
    E, T = lay.E, lay.T
    shares = _split_shares(lay, type_shares)  # (E, T, J)
    J = shares.shape[2]
    groups = [np.ascontiguousarray(lay.group[:, j]) for j in range(J)]
    hists = None if X is None else [_Hist(lay, X[:, j], groups[j], by_cohort) for j in range(J)]
    target = lay.x if hists is None else lay.x - sum(h.rem for h in hists)
    mix, mix_group = _mixture(lay, shares)
    inflow = _solve(target, mix, mix_group, lay.describe, lay.years)
    redo = _negative_inflow(inflow, lay.x, rule, lay.describe, lay.years)
    typed = inflow[:, None, :] * np.moveaxis(shares, 2, 1)  # (E, J, T)
    stock_j, out_j = np.empty((E, J, T)), np.empty((E, J, T))
    sbc_j, obc_j = [], []
    for j in range(J):
        xj = np.ascontiguousarray(typed[:, j])
        stock_j[:, j], out_j[:, j] = _convolve(xj, lay.structs, groups[j], method)
        if hists is not None:
            stock_j[:, j] += hists[j].rem
            out_j[:, j] += hists[j].out
        if by_cohort:
            sbc, obc = _by_cohort(xj, lay.structs, groups[j])
            sbc_j.append(_with_history(sbc, hists and hists[j].rem_a))
            obc_j.append(_with_history(obc, hists and hists[j].out_a))
    arrays = {"inflow": inflow}
    if by_cohort:
        arrays["stock_by_cohort"] = np.stack(sbc_j, axis=-1)
        arrays["outflow_by_cohort"] = np.stack(obc_j, axis=-1)
    extra = np.zeros((E, T))
    if redo.size:
        hist_arg = None if X is None else ([h.survival for h in hists], np.moveaxis(X, 1, 2))
        solved = _solve_again(lay.x, redo, [lay.structs] * J, groups, shares, hist_arg, rule, by_cohort)
        inflow[redo] = solved["inflow"]
        typed[redo] = inflow[redo][:, None, :] * np.moveaxis(shares[redo], 2, 1)
        stock_j[redo] = np.moveaxis(solved["stock"], 2, 1)
        out_j[redo] = np.moveaxis(solved["outflow"], 2, 1)
        extra[redo] = solved["clipped" if rule == "clip" else "retired"]
        if by_cohort:
            arrays["stock_by_cohort"][redo] = solved["stock_bc"]
            arrays["outflow_by_cohort"][redo] = solved["outflow_bc"]
    stock = stock_j.sum(axis=1)
    arrays.update(stock=stock if rule == "clip" else lay.x, outflow=out_j.sum(axis=1),
                  inflow_by_type=typed, stock_by_type=stock_j, outflow_by_type=out_j)
    if rule == "clip":
        arrays.update(stock_target=lay.x.copy(), stock_excess=np.maximum(stock - lay.x, 0.0),
                      inflow_clipped=extra)
    elif rule == "retire":
        arrays["retired_early"] = extra
    if X is not None:
        arrays.update(initial_stock=X.sum(axis=(1, 2)),
                      historic_inflow=np.stack([h.inflow for h in hists], axis=1))
    return arrays
