"""Stock-driven EV car fleets and installed wind capacity: sales and gross additions from stocks.

Scenarios state electric mobility and wind power as stocks (IEA GEVO: electric cars on the road;
IEA WEO, GWEC, IRENA: installed GW). The inflow that keeps a stock on its path is::

    inflow[t] = stock[t] - stock[t-1] + retirements[t]

with the retirements of a dynamic stock model (Müller 2006, doi:10.1016/j.ecolecon.2005.09.025)
with the normal product lifetime of ``params/lifetimes.csv`` (``lifetime_mean``, ``lifetime_sd``
of ``ev_bev``, ``ev_phev``, ``wind_onshore``, ``wind_offshore``: the lifetime of the vehicle or
turbine is the lifetime of its magnets): the stock-driven model of
:func:`mfa.core.stocks.stock_driven_array` (solved here by forward substitution without scipy,
tested equal); retirements = inflow - stock change.

Switch rule
-----------
* **EV cars** (``ev_bev``, ``ev_phev``): sales are *observed* (``ev_sales``, IEA GEVO 2025 data)
  through :data:`OBSERVED_SALES_UNTIL` (2024): inflow-driven through that year, stock-driven
  after. The stock-driven part follows the *changes* of the fleet parameter ``ev_fleet``: its
  target is ``ev_fleet[t] + (modelled stock - ev_fleet)`` in the switch year, a constant offset
  (the modelled stock is built from observed sales and the model lifetime; IEA counts its stock
  by its own methods: the two differ by a few per cent). So sales keep the data's level at the
  switch: the first stock-driven year sells ``Δev_fleet + retirements``, not a catch-up of the
  offset. ``ev_car_stock`` reports the stock reached (fleet plus offset).
* **Wind** (``wind_onshore``, ``wind_offshore``): the data are installed capacity (IRENA, then
  scenario trajectories), so gross additions are stock-driven in every year. Retirements are
  decommissioning; a repowered site counts as a retirement plus a gross addition.

Negative implied inflow
-----------------------
A stock that falls faster than its cohorts retire would need negative sales. The model uses the
core's ``negative_inflow="clip"`` policy: sales are 0 in those years and the stock stays *above*
its target (its cohorts retire at their normal rate) until the target catches up; no vehicle or
turbine is scrapped early. Mass balance stays exact; the results report the stock reached.

Everything is plain float arrays over (region, product[, sample]) x time: no loop over regions
or products; a Monte Carlo ``sample`` dim on the fleet or lifetime parameters broadcasts.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.lifetimes import Normal
from mfa.models.neodymium._variables import shared_coords, union_sizes, wrap

__all__ = ["CAR_PRODUCTS", "OBSERVED_SALES_UNTIL", "WIND_FLEET_PRODUCTS", "fleet_flows"]

#: Last year of observed EV car sales (IEA GEVO 2025 data): inflow-driven through it.
OBSERVED_SALES_UNTIL: int = 2024
#: Products whose new units come from a fleet (EV cars) or capacity (wind) parameter.
CAR_PRODUCTS: tuple[str, ...] = ("ev_bev", "ev_phev")
WIND_FLEET_PRODUCTS: tuple[str, ...] = ("wind_onshore", "wind_offshore")


def _survival(lifetime_mean: xr.DataArray, lifetime_sd: xr.DataArray, lead: list[str],
              T: int) -> np.ndarray:
    """Survival curves (..., T) over ``lead`` (size-1 axes where the lifetime does not vary)."""
    for name, da in (("lifetime_mean", lifetime_mean), ("lifetime_sd", lifetime_sd)):
        extra = [d for d in da.dims if d not in lead]
        if extra:
            raise ParameterError(f"fleets: {name} has dims {extra} that the fleet lacks "
                                 "(a lifetime varying by year is not supported here)")
    yr = {"units": "yr"}  # plain numbers in yr (the model's units); given units are kept
    surv = Normal(mean=lifetime_mean.assign_attrs({**yr, **lifetime_mean.attrs}),
                  sd=lifetime_sd.assign_attrs({**yr, **lifetime_sd.attrs})).survival(T)
    order = [d for d in lead if d in surv.dims]
    arr = surv.transpose(*order, "age").values
    shape = [surv.sizes[d] if d in surv.dims else 1 for d in lead] + [T]
    return arr.reshape(shape)


def fleet_flows(stock: xr.DataArray, lifetime_mean: xr.DataArray, lifetime_sd: xr.DataArray,
                *, observed_inflow: xr.DataArray | None = None,
                observed_until: int | None = None) -> dict[str, xr.DataArray]:
    """Inflow (sales, gross additions), retirements and stock reached of a product fleet.

    Parameters
    ----------
    stock : xarray.DataArray
        Target stock at the end of each year [units, e.g. vehicle or MW], dims ``time``
        (consecutive years) and any others (region, product, sample); finite, >= 0.
    lifetime_mean, lifetime_sd : xarray.DataArray
        Normal lifetime [yr] over a subset of the stock's dims (e.g. product, sample).
    observed_inflow : xarray.DataArray, optional
        Observed inflow [units/yr] on the stock's dims: used through ``observed_until``.
    observed_until : int, optional
        Last year of ``observed_inflow`` (module docstring, "Switch rule"). Years after it are
        stock-driven on the changes of ``stock``.

    Returns
    -------
    dict of xarray.DataArray
        ``stock`` [units] (reached: the target plus the switch-year offset; above it where sales
        were clipped), ``inflow`` [units/yr] and ``retirements`` [units/yr], dims as ``stock``
        with ``time`` first.

    Raises
    ------
    ParameterError
        NaN or negative stock or observed inflow (naming the element), or a lifetime with dims
        the stock lacks.
    """
    arrays = [stock] if observed_inflow is None else [stock, observed_inflow]
    coords = shared_coords([*arrays, lifetime_mean, lifetime_sd], "fleets")
    # the dims of the stock, then the observed inflow's others, then the lifetimes' (broadcast)
    sizes = union_sizes([*arrays, lifetime_mean, lifetime_sd])
    lead = list(dict.fromkeys([*(d for d in union_sizes(arrays) if d != "time"),
                               *lifetime_mean.dims, *lifetime_sd.dims]))
    dims = (*lead, "time")
    template = wrap(_broadcast(stock.variable, sizes, dims), coords)
    years = template["time"].values
    T = years.size
    target = template.values.copy()
    surv = _survival(lifetime_mean, lifetime_sd, lead, T)
    _check_finite(target, "stock", template)
    k = 0  # years [:k] are inflow-driven (observed)
    obs = None
    if observed_inflow is not None and observed_until is not None and years[0] <= observed_until:
        k = int(np.searchsorted(years, observed_until, side="right"))
        obs = _broadcast(observed_inflow.variable, sizes, dims).values[..., :k]
        _check_finite(obs, "observed inflow", template)
    inflow, reached = _forward(target, surv, obs)
    # retirements = inflow - stock change (the mass balance of the stock, exact by construction)
    outflow = inflow - np.diff(reached, axis=-1, prepend=0.0)
    out = {}
    for name, a in (("stock", reached), ("inflow", inflow), ("retirements", outflow)):
        out[name] = wrap(xr.Variable(template.dims, a), coords).transpose("time", ...)
    return out


def _broadcast(var: xr.Variable, sizes: dict[str, int], dims: tuple[str, ...]) -> xr.Variable:
    """``var`` broadcast to ``dims`` (sizes from ``sizes``), in that order (a view)."""
    return var.set_dims({d: sizes[d] for d in dims}).transpose(*dims)


def _forward(target: np.ndarray, surv: np.ndarray, observed: np.ndarray | None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Inflow and stock reached (..., T): observed inflow for the first years, then the inflow
    that meets ``target`` plus the switch-year offset, clipped at 0.

    The stock-driven model of :func:`mfa.core.stocks.stock_driven_array` with
    ``negative_inflow="clip"`` (same equations and rule, tested equal), by forward substitution
    over the years, each year one array operation over all elements (region, product, sample):
    the core's triangular solve needs scipy's BLAS, which would add ~0.1 s to the start-up of
    every ``mfa run``, and builds a T x T matrix per Monte Carlo lifetime. With
    ``left[t] = sum_{c<t} inflow[c] s[t - c]`` (earlier cohorts still in use)::

        inflow[t] = observed[t]                                    (t < k)
        inflow[t] = max(target[t] + offset - left[t], 0) / s[0]    (t >= k)
        stock[t]  = left[t] + inflow[t] s[0],   offset = stock[k-1] - target[k-1]
    """
    shape = np.broadcast_shapes(target.shape, surv.shape)
    T = shape[-1]
    if np.any(surv[..., 0] <= 0):
        raise ParameterError("fleets: the lifetime leaves nothing in use at the end of the year "
                             "of inflow (survival s[0] = 0); no inflow can build the stock")
    tgt = np.moveaxis(np.broadcast_to(target, shape), -1, 0)  # time first: (T, ...)
    rev = np.ascontiguousarray(np.moveaxis(surv[..., :T], -1, 0)[::-1])  # rev[T-1-a] = s[a]
    s0 = rev[T - 1]
    k = 0 if observed is None else observed.shape[-1]
    obs = None if observed is None else np.moveaxis(np.broadcast_to(observed, (*shape[:-1], k)), -1, 0)
    noise = 1e-12 * np.max(np.abs(tgt), axis=0)
    x = np.zeros((T, *shape[:-1]))
    stock = np.zeros_like(x)
    offset = 0.0
    # Cohorts before ``first`` are +0.0 everywhere: with finite survival, terms that change no
    # sum, skipped (a -0.0 among them stops the skipping, whatever numpy starts a sum with).
    # numpy adds the cohorts one after the other (axis 0, several elements); with a single
    # element it sums them pairwise instead, where skipping would change the grouping.
    first, skip = 0, x[0].size > 1 and bool(np.isfinite(rev).all())
    for t in range(T):
        left = (x[first:t] * rev[T - 1 - t + first:T - 1]).sum(axis=0) if t > first else 0.0
        if t < k:
            x[t] = obs[t]
        else:
            if t == k and k:
                offset = stock[k - 1] - tgt[k - 1]
            need = np.maximum(tgt[t] + offset, 0.0) - left
            x[t] = np.where(need > noise, need, 0.0) / s0
        stock[t] = left + x[t] * s0
        if skip and first == t:
            if np.signbit(x[t]).any():
                first, skip = 0, False
            elif not x[t].any():
                first = t + 1
    return np.moveaxis(x, 0, -1), np.moveaxis(stock, 0, -1)


def _check_finite(a: np.ndarray, what: str, template: xr.DataArray) -> None:
    """ParameterError naming the first element of ``a`` that is NaN or negative."""
    bad = ~np.isfinite(a) | (a < 0)
    if bad.any():
        idx = np.unravel_index(int(np.argmax(bad)), a.shape)
        where = ", ".join(f"{d}={template[d].values[i].item()!r}" if d in template.coords
                          else f"{d}={i}" for d, i in zip(template.dims, idx, strict=True))
        raise ParameterError(f"fleets: {what} is NaN or negative at {where}: {float(a[idx])}")
