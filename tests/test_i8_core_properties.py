"""Property test of the Nd model (issue 8): 200 random parameter sets inside every bound.

Each parameter element (every year, region, product, stage) is drawn on its own, uniformly
within its ``[low, high]`` where the data give a range, else within the registry bounds
``[min, max]`` (or, without a registry maximum, within ``[value / 2, 2 value]`` clipped to the
minimum); one element in ten sits on the lower end and one in ten on the upper end, so that
yields of 1, shares of 0 and scrap rates of 0.99 occur. Shares that must sum to one over a dim
(registry ``sum_to_one_over``) are divided by their sum. The 200 sets run in four calls of
:func:`mfa.models.neodymium.simulate` along a ``sample`` dim (seeds 0-3), and every set must:

* run without error (the model's own mass-balance and negative-flow check included);
* have no negative flow, except the net exports (:data:`mfa.models.neodymium.SIGNED_FLOWS`);
* balance every process within 1e-9 of its throughput (plus its stock level, for ``use``,
  whose residual is a difference of stock levels); the pooled ``trade`` process against its
  gross throughput, the sum over regions of the exports.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from mfa.data.params import load_parameters
from mfa.models.neodymium import FLOWS, PARAMETER_UNITS, SIGNED_FLOWS, simulate
from mfa.models.neodymium.structure import SecondaryExceedsDemandWarning

N_SETS = 50  # per call
SEEDS = (0, 1, 2, 3)  # 4 x 50 = 200 parameter sets
END_SHARE = 0.1  # share of elements drawn on each end of their interval


@pytest.fixture(scope="module")
def params():
    return load_parameters()


def _interval(params, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper end of the interval each element of ``name`` is drawn from."""
    value = np.asarray(params.values[name].values, dtype=float)
    low = np.asarray(params.low[name].transpose(*params.values[name].dims).values, dtype=float)
    high = np.asarray(params.high[name].transpose(*params.values[name].dims).values, dtype=float)
    entry = params.registry[name]
    lo_bound = -np.inf if entry.get("min") is None else float(entry["min"])
    hi_bound = np.inf if entry.get("max") is None else float(entry["max"])
    with np.errstate(invalid="ignore"):
        ranged = high > low
    if np.isfinite(hi_bound):
        around_lo, around_hi = np.full_like(value, lo_bound), np.full_like(value, hi_bound)
    else:
        around_lo, around_hi = np.maximum(value / 2, lo_bound), value * 2
    lo = np.clip(np.where(ranged, low, around_lo), lo_bound, hi_bound)
    hi = np.clip(np.where(ranged, high, around_hi), lo_bound, hi_bound)
    return lo, hi


def draw_values(params, seed: int, n: int = N_SETS) -> xr.Dataset:
    """``params.values`` with every model parameter drawn ``n`` times along ``sample``."""
    rng = np.random.default_rng(seed)
    out = params.values.copy()
    for name in PARAMETER_UNITS:
        base = params.values[name]
        lo, hi = (x[..., None] for x in _interval(params, name))
        shape = (*base.shape, n)
        u = rng.uniform(0.0, 1.0, shape)
        end = rng.uniform(0.0, 1.0, shape)
        u = np.where(end < END_SHARE, 0.0, np.where(end > 1 - END_SHARE, 1.0, u))
        x = lo + u * (hi - lo)  # NaN stays NaN (products a parameter does not apply to)
        dim = params.registry[name].get("sum_to_one_over")
        if dim:
            axis = base.dims.index(dim)
            total = np.nansum(x, axis=axis, keepdims=True)
            keep = np.broadcast_to(base.values[..., None], shape)
            x = np.where(total > 0, x / np.where(total > 0, total, 1.0), keep)
        out[name] = xr.DataArray(x, dims=(*base.dims, "sample"),
                                 coords={**dict(base.coords), "sample": np.arange(n)},
                                 attrs=dict(base.attrs))
    return out


def test_draws_stay_inside_every_bound(params):
    values = draw_values(params, seed=0, n=20)
    for name in PARAMETER_UNITS:
        entry = params.registry[name]
        x = values[name].values
        if entry.get("min") is not None:
            assert np.nanmin(x) >= entry["min"], name
        if entry.get("max") is not None:
            assert np.nanmax(x) <= entry["max"] * (1 + 1e-12), name
        if entry.get("sum_to_one_over"):
            sums = values[name].sum(entry["sum_to_one_over"], min_count=1)
            np.testing.assert_allclose(sums.values[np.isfinite(sums.values)], 1.0, rtol=1e-12)
    # a ranged element stays inside its [low, high]
    lo, hi = params.low["yield_mining"].values, params.high["yield_mining"].values
    x = values["yield_mining"].values
    assert (x >= lo[:, None]).all() and (x <= hi[:, None]).all()
    assert (x == lo[:, None]).any() and (x == hi[:, None]).any()  # the ends occur


@pytest.mark.parametrize("seed", SEEDS)
def test_random_parameter_sets_conserve_mass_and_flows_stay_positive(params, seed):
    values = draw_values(params, seed)
    with warnings.catch_warnings():
        # surplus secondary Nd is a legitimate outcome (stockpiled, and balanced)
        warnings.simplefilter("ignore", SecondaryExceedsDemandWarning)
        ds = simulate(values)  # checks balance and signs itself: must not raise
    assert ds.sizes["sample"] == N_SETS

    for name in set(FLOWS) - SIGNED_FLOWS:
        flow = ds[name].values
        assert np.isfinite(flow).all(), name
        assert flow.min() >= 0.0, (name, float(flow.min()))

    res, thr = ds["mass_balance_residual"], ds["process_throughput"]
    regional = [p for p in res["process"].values if np.isfinite(res.sel(process=p)).all()]
    pooled = [p for p in res["process"].values if p not in regional]
    assert pooled == ["trade", "scrap_trade"]
    # the residual of a process with a stock is computed from the stock levels, so it is
    # rounded relative to them: a large stock with tiny flows in and out has a residual of
    # ~1e-16 of the stock, which may exceed 1e-9 of the flows (e.g. 2.5e-16 t/yr for a stock
    # of 1.4 t and a throughput of 1.7e-7 t/yr)
    stock = ds["in_use_stock"].sum("product")
    level = np.maximum(stock, stock.shift(time=1, fill_value=0.0))
    scale = thr.sel(process=regional) + level.expand_dims(process=["use"]).reindex(
        process=regional, fill_value=0.0)
    r = res.sel(process=regional)
    assert (abs(r) <= 1e-9 * scale).all(), float((abs(r) / scale).max())
    r = ds["mass_balance_residual_total"].sel(process=pooled)
    t = ds["process_throughput_total"].sel(process=pooled)
    assert (t > 0).all()
    assert (abs(r) <= 1e-9 * t).all(), float((abs(r) / t).max())
