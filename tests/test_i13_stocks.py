"""Issue 13: new behaviour of the dynamic stock models (mfa.core.stocks).

Round trips with rounding noise, early retirement, type split, lifetime changes by year,
historic cohorts with their own lifetimes, inflow spread over the year, survival tables, a
lifetime dim the inflow lacks, and units in and out.
"""

from __future__ import annotations

import warnings

import numpy as np
import pint
import pytest
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.lifetimes import (
    Exponential,
    Fixed,
    FoldedNormal,
    Gamma,
    LogNormal,
    Normal,
    SurvivalTable,
    Weibull,
)
from mfa.core.stocks import (
    NegativeInflowError,
    historic_inflow,
    inflow_driven,
    stock_driven,
    stock_driven_array,
)
from mfa.core.units import ureg
from tests.stock_helpers import PRODUCTS, REGIONS, YEARS, flow


def by_product(values, units="yr"):
    return xr.DataArray(np.asarray(values, dtype=float), dims="product",
                        coords={"product": PRODUCTS}, attrs={"units": units})


def previous(ds, initial=0.0):
    stock = ds["stock"].values
    first = np.broadcast_to(np.asarray(initial, dtype=float), stock.shape[1:])[None]
    return np.concatenate([first, stock[:-1]])


def assert_balanced(ds, initial=0.0, atol=1e-9):
    gap = ds["inflow"].values - ds["outflow"].values - (ds["stock"].values - previous(ds, initial))
    np.testing.assert_allclose(gap, 0.0, atol=atol)


# --- round trip: rounding noise is never an error (item 2) ----------------------------------------

LIFETIMES = [
    Normal(mean=8.0, sd=3.0), LogNormal(mean=12.0, sd=6.0), Weibull(shape=1.5, scale=10.0),
    Gamma(shape=3.0, scale=3.0), Exponential(mean=7.0), Fixed(mean=6), FoldedNormal(mean=5.0, sd=4.0),
    Normal(mean=8.0, sd=3.0, inflow_at="end"), LogNormal(mean=2.0, sd=1.0, points_per_year=4),
]


def test_300_random_round_trips_stock_inflow_stock():
    # Before the fix 291 of 300 failed: stock_driven returned -8.9e-16 where the inflow was 0 and
    # inflow_driven rejected it as a negative value.
    rng = np.random.default_rng(13)
    for i in range(300):
        T = int(rng.integers(5, 40))
        years = np.arange(1990, 1990 + T)
        x = rng.uniform(0.0, 100.0, T) * (rng.uniform(size=T) < 0.6)
        lifetime = LIFETIMES[i % len(LIFETIMES)]
        stock = inflow_driven(flow(x, years), lifetime).stock
        back = stock_driven(stock, lifetime)
        assert back.inflow.values.min() >= 0.0  # noise is zeroed, never kept negative
        again = inflow_driven(back.inflow, lifetime)
        np.testing.assert_allclose(again.stock.values, stock.values, rtol=1e-9, atol=1e-9)


def test_noise_is_read_as_zero_but_real_negative_inflow_is_an_error():
    x = np.ones(YEARS.size) * 50.0
    x[3] = -2e-14  # 4e-16 of the largest inflow: rounding noise
    ds = inflow_driven(flow(x), Normal(mean=5.0, sd=1.0))
    assert ds.inflow.values[3] == 0.0
    x[3] = -1e-6
    with pytest.raises(ParameterError, match=r"inflow: negative value -1e-06 at time=2003"):
        inflow_driven(flow(x), Normal(mean=5.0, sd=1.0))


# --- early retirement (ODYM's NegativeInflowCorrect) ---------------------------------------------

def falling_stock():
    values = np.array([[10.0, 20.0, 30.0, 40.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]] * 2).T
    return flow(values, years=np.arange(2020, 2030), units="t", region=REGIONS)


def test_retire_meets_the_stock_by_retiring_all_cohorts_by_the_same_share():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = stock_driven(falling_stock(), Fixed(mean=10), negative_inflow="retire", by_cohort=True)
    china = ds.sel(region="China")
    np.testing.assert_allclose(china.stock.values, falling_stock().sel(region="China").values)
    # 40 t in use, target 10: 30 t (three quarters of every cohort) leave early in 2024
    np.testing.assert_allclose(china.inflow.values, [10, 10, 10, 10, 0, 2, 2, 2, 2, 2])
    np.testing.assert_allclose(china.retired_early.values, [0, 0, 0, 0, 30, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(china.outflow.values, china.retired_early.values)  # fixed 10 yr
    np.testing.assert_allclose(china.stock_by_cohort.sel(time=2029, cohort=[2020, 2023, 2025]).values,
                               [2.5, 2.5, 2.0])
    np.testing.assert_allclose(ds.stock_by_cohort.sum("cohort").values, ds.stock.values, atol=1e-12)
    np.testing.assert_allclose(ds.outflow_by_cohort.sum("cohort").values, ds.outflow.values, atol=1e-12)
    assert_balanced(ds, atol=1e-12)


def test_retire_with_an_initial_stock_retires_historic_cohorts_too():
    years = np.arange(2020, 2035)
    target = flow(np.r_[np.full(5, 50.0), np.full(10, 20.0)], years=years, units="t")
    init = xr.DataArray([10.0, 10.0, 10.0, 10.0, 10.0], dims="age", attrs={"units": "t"})
    lifetime = Normal(mean=15.0, sd=4.0)
    with pytest.raises(NegativeInflowError, match=r"in year 2025.*'retire'"):
        stock_driven(target, lifetime, init)
    ds = stock_driven(target, lifetime, init, negative_inflow="retire", by_cohort=True)
    np.testing.assert_allclose(ds.stock.values, target.values, rtol=1e-12)
    assert np.all(ds.inflow.values >= 0) and ds.retired_early.values[5] > 25
    share_left = ds.stock_by_cohort.sel(time=2025) / ds.stock_by_cohort.sel(time=2024)
    np.testing.assert_allclose(share_left.sel(cohort=[2015, 2019]).values,
                               share_left.sel(cohort=2021).values, rtol=0.05)  # same retirement share
    assert_balanced(ds, ds.initial_stock.values, atol=1e-10)


def test_array_api_retire_and_clip():
    surv = Fixed(mean=10).survival(10).values
    stock = falling_stock().values.T  # (2, T)
    inflow, outflow, reached = stock_driven_array(stock, surv, negative_inflow="retire")
    np.testing.assert_allclose(reached, stock)
    np.testing.assert_allclose(inflow[0], [10, 10, 10, 10, 0, 2, 2, 2, 2, 2])
    np.testing.assert_allclose(outflow[0], [0, 0, 0, 0, 30, 0, 0, 0, 0, 0])
    _, _, reached = stock_driven_array(stock, surv, negative_inflow="clip")
    np.testing.assert_allclose(reached[0], [10, 20, 30, 40, 40, 40, 40, 40, 40, 40])


# --- type split -----------------------------------------------------------------------------

TYPES = ["nmc", "lfp"]


def typed(values, units="yr"):
    return xr.DataArray(np.asarray(values, dtype=float), dims="type", coords={"type": TYPES},
                        attrs={"units": units})


def test_type_split_with_own_lifetimes_matches_the_dense_solution():
    years = np.arange(2010, 2040)
    T = years.size
    target = flow(2000.0 / (1 + np.exp(-(years - 2025) / 4.0)), years=years, units="t")
    share_lfp = np.clip((years - 2015) / 20.0, 0.0, 1.0)
    shares = xr.DataArray(np.stack([1 - share_lfp, share_lfp], axis=1), dims=("time", "type"),
                          coords={"time": years, "type": TYPES})
    lifetime = Normal(mean=typed([8.0, 15.0]), sd=typed([2.0, 4.0]))
    ds = stock_driven(target, lifetime, type_shares=shares, by_cohort=True)
    # dense reference: S_mix[t, c] = sum_j shares[c, j] S_j[t, c]
    S = lifetime.survival_matrix(years).transpose("type", "time", "cohort").values
    S_mix = np.einsum("cj,jtc->tc", shares.values, S)
    x = np.linalg.solve(S_mix, target.values)
    np.testing.assert_allclose(ds.inflow.values, x, rtol=1e-10)
    np.testing.assert_allclose(ds.inflow_by_type.values, x[:, None] * shares.values, rtol=1e-10)
    stock_j = np.einsum("jtc,cj->tj", S, x[:, None] * shares.values)
    np.testing.assert_allclose(ds.stock_by_type.values, stock_j, rtol=1e-10)
    np.testing.assert_allclose(ds.stock.values, target.values, rtol=1e-12)
    np.testing.assert_allclose(ds.stock_by_cohort.sum("cohort").values, stock_j, rtol=1e-10)
    np.testing.assert_allclose(ds.outflow_by_type.sum("type").values, ds.outflow.values, rtol=1e-12)
    assert_balanced(ds)
    assert ds.stock_by_type.dims == ("time", "type") and T == ds.sizes["time"]


def test_type_split_errors():
    years = np.arange(2010, 2015)
    target = flow(np.ones(5), years=years, units="t")
    lifetime = Normal(mean=typed([8.0, 15.0]), sd=typed([2.0, 4.0]))
    half = xr.DataArray(np.full((5, 2), 0.5), dims=("time", "type"), coords={"time": years, "type": TYPES})
    with pytest.raises(ParameterError, match=r"type_shares: shares must sum to 1 over 'type'; they sum to 1.2 at time=2012"):
        stock_driven(target, lifetime, type_shares=half.where(half.time != 2012, 0.6))
    with pytest.raises(ParameterError, match=r"type_shares: the lifetime has no 'type' dim"):
        stock_driven(target, Normal(mean=8.0, sd=2.0), type_shares=half)
    with pytest.raises(ParameterError, match=r"must cover the model years 2010..2014"):
        stock_driven(target, lifetime, type_shares=half.isel(time=slice(1, None)))
    with pytest.raises(ParameterError, match=r"the lifetime has dim 'type'.*multiplied by 2"):
        stock_driven(target, lifetime)


# --- historic cohorts with their own lifetimes (item 6) --------------------------------------------

def test_initial_stock_uses_the_historic_cohorts_own_lifetimes():
    rng = np.random.default_rng(6)
    years = np.arange(1980, 2030)
    x = flow(rng.uniform(0, 5, (years.size, 3)), years=years, product=PRODUCTS)
    mean = xr.DataArray(np.linspace(4.0, 20.0, years.size), dims="cohort", coords={"cohort": years},
                        attrs={"units": "yr"})
    lifetime = LogNormal(mean=mean, sd=0.4 * mean)
    full = inflow_driven(x, lifetime, by_cohort=True)
    start = 2000
    at = full.stock_by_cohort.sel(time=start - 1, cohort=slice(None, start - 1))
    init = at.assign_coords(age=("cohort", start - 1 - at.cohort.values)).swap_dims(
        cohort="age").drop_vars(["cohort", "time"]).sortby("age").assign_attrs(units="t")
    part = inflow_driven(x.sel(time=slice(start, None)), lifetime, initial_stock_by_age=init)
    ref = full.sel(time=slice(start, None))
    # before: the historic cohorts took the 2000 cohort's lifetime (stock off by ~20 %)
    np.testing.assert_allclose(part.stock.values, ref.stock.values, rtol=1e-12)
    np.testing.assert_allclose(part.outflow.values, ref.outflow.values, rtol=1e-12)
    # the historic inflows behind the initial stock are the inflows of the full run
    hist = part.historic_inflow.sel(age=np.arange(20)).transpose("age", "product").values[::-1]
    np.testing.assert_allclose(hist, x.sel(time=slice(1980, 1999)).values, rtol=1e-12)
    standalone = historic_inflow(init, lifetime, first_year=start)
    np.testing.assert_allclose(standalone.transpose("age", "product").values,
                               part.historic_inflow.transpose("age", "product").values, rtol=1e-15)
    assert standalone.cohort.values[0] == 1999
    back = stock_driven(ref.stock, lifetime, init)
    np.testing.assert_allclose(back.inflow.values, x.sel(time=slice(start, None)).values, rtol=1e-9, atol=1e-9)


def test_historic_cohorts_partly_covered_is_an_error():
    years = np.arange(2000, 2010)
    mean = xr.DataArray(np.full(12, 10.0), dims="cohort", coords={"cohort": np.arange(1998, 2010)},
                        attrs={"units": "yr"})
    init = xr.DataArray(np.ones(4), dims="age", attrs={"units": "t"})  # cohorts 1996-1999
    with pytest.raises(ParameterError, match=r"cover some historic cohorts.*lack \[1996, 1997\]"):
        inflow_driven(flow(np.ones(10), years=years), Normal(mean=mean, sd=2.0), initial_stock_by_age=init)


def test_initial_stock_older_than_a_fixed_lifetime_is_an_error():
    init = xr.DataArray([1.0, 1.0, 1.0, 2.0], dims="age", attrs={"units": "t"})
    with pytest.raises(ParameterError, match=r"age 3 holds 2 t for the \(only\) element.*survival 0"):
        inflow_driven(flow(np.ones(5), years=np.arange(2000, 2005)), Fixed(mean=3), initial_stock_by_age=init)


def test_factor_by_year_acts_on_historic_cohorts_from_the_first_model_year():
    years = np.arange(2000, 2020)
    factor = xr.DataArray(np.full(years.size, 2.0), dims="time", coords={"time": years})
    init = xr.DataArray([5.0, 5.0, 5.0], dims="age", attrs={"units": "t"})
    stretched = inflow_driven(flow(np.zeros(20), years=years), Exponential(mean=4.0, factor_by_year=factor),
                              initial_stock_by_age=init)
    # exponential: memoryless, so the stretched hazard halves the yearly loss of every cohort
    expected = 15.0 * np.exp(-np.arange(1, 21) / 8.0)
    np.testing.assert_allclose(stretched.stock.values, expected, rtol=1e-12)


# --- short lifetimes: inflow spread over the year ----------------------------------------------

def test_points_per_year_give_the_mean_residence_of_short_lifetimes():
    years = np.arange(1900, 2001)
    constant = flow(np.ones(years.size), years=years)
    mid = inflow_driven(constant, LogNormal(mean=0.3, sd=0.1)).stock.values[-1]
    assert mid == pytest.approx(0.041, abs=1e-3)  # the mid-year rule: far off
    six = inflow_driven(constant, LogNormal(mean=0.3, sd=0.1, points_per_year=6)).stock.values[-1]
    assert six == pytest.approx(0.3, abs=0.01)
    ten = inflow_driven(constant, LogNormal(mean=0.3, sd=0.1, points_per_year=10)).stock.values[-1]
    assert ten == pytest.approx(0.3, abs=1e-3)
    long = inflow_driven(constant, Normal(mean=20.0, sd=5.0, points_per_year=3)).stock.values[-1]
    assert long == pytest.approx(20.0, abs=1e-4)


# --- survival tables in the stock models -------------------------------------------------------

def test_survival_tables_give_the_results_of_the_models_they_came_from():
    x = flow(np.random.default_rng(3).uniform(0, 5, (YEARS.size, 3)), product=PRODUCTS)
    model = Weibull(shape=by_product([1.5, 2.5, 4.0], "1"), scale=by_product([6.0, 9.0, 20.0]))
    by_age = SurvivalTable(model.survival(YEARS.size))
    np.testing.assert_allclose(inflow_driven(x, by_age).stock.values, inflow_driven(x, model).stock.values,
                               rtol=1e-14)
    mean = xr.DataArray(np.linspace(5.0, 12.0, YEARS.size), dims="cohort", coords={"cohort": YEARS},
                        attrs={"units": "yr"})
    varying = Normal(mean=mean, sd=2.0)
    matrix = SurvivalTable(varying.survival_matrix(YEARS))
    a = stock_driven(inflow_driven(x, varying).stock, matrix)
    np.testing.assert_allclose(a.inflow.values, x.values, rtol=1e-9, atol=1e-9)
    with pytest.raises(ParameterError, match=r"SurvivalTable: lacks time \[2030\]; it must cover 2000..2030"):
        inflow_driven(flow(np.ones(31), years=np.arange(2000, 2031)), matrix)


# --- a lifetime dim the inflow lacks (issue 8, item 7) -----------------------------------------

def test_lifetime_dim_missing_from_the_inflow_is_an_error_not_a_doubling():
    # Before: a typo 'products' vs 'product' broadcast the inflow: 22 t in, 44 t out.
    inflow = flow([11.0, 11.0], years=[2020, 2021])
    typo = xr.DataArray([5.0, 8.0], dims="products", coords={"products": ["a", "b"]},
                        attrs={"units": "yr"})
    with pytest.raises(ParameterError, match=r"inflow_driven: the lifetime has dim 'products' \(2 entries\) "
                                             r"that the inflow lacks.*multiplied by 2"):
        inflow_driven(inflow, Fixed(mean=typo))
    with pytest.raises(ParameterError, match=r"stock_driven: the lifetime has dim 'products'"):
        stock_driven(flow([1.0, 1.0], years=[2020, 2021], units="t"), Fixed(mean=typo))
    # declared ensemble dims broadcast: Monte Carlo samples by default, others on request
    samples = typo.rename(products="sample")
    assert inflow_driven(inflow, Fixed(mean=samples)).stock.dims == ("time", "sample")
    assert inflow_driven(inflow, Fixed(mean=typo), ensemble_dims=("products",)).stock.sizes["products"] == 2


# --- units in and out (issue 9) ----------------------------------------------------------------

def test_pint_in_pint_out_in_the_inputs_unit_family():
    x = xr.DataArray(ureg.Quantity(np.full(YEARS.size, 2.0), "kt/yr"), dims="time", coords={"time": YEARS})
    ds = inflow_driven(x, Fixed(mean=3))
    for name, unit in [("stock", "kilotonne"), ("outflow", "kilotonne / year"), ("inflow", "kilotonne / year")]:
        assert isinstance(ds[name].data, pint.Quantity) and str(ds[name].data.units) == unit
        assert "units" not in ds[name].attrs
    assert ds.stock.data.magnitude[5] == pytest.approx(6.0)
    s = xr.DataArray(ureg.Quantity(np.full(YEARS.size, 3.0), "Mt"), dims="time", coords={"time": YEARS})
    sd = stock_driven(s, Fixed(mean=3))
    assert str(sd.inflow.data.units) == "megatonne / year" and sd.inflow.data.magnitude[0] == pytest.approx(3.0)
    # another registry (stock pint): outputs in that registry's units
    other = pint.UnitRegistry()
    y = xr.DataArray(other.Quantity(np.ones(YEARS.size), "kg/year"), dims="time", coords={"time": YEARS})
    out = inflow_driven(y, Fixed(mean=2)).stock.data
    assert out._REGISTRY is other and out.to("kg").magnitude[4] == pytest.approx(2.0)


def test_attrs_units_in_canonical_attrs_out():
    ds = inflow_driven(flow(np.full(YEARS.size, 2.0), units="kt/yr"), Fixed(mean=3))
    assert {n: ds[n].attrs["units"] for n in ("stock", "outflow", "inflow")} == {
        "stock": "t", "outflow": "t/yr", "inflow": "t/yr"}
    assert not isinstance(ds.stock.data, pint.Quantity) and ds.stock.values[5] == 6000.0


def test_initial_stock_lacking_a_model_dim_is_an_error_not_a_copy_per_region():
    x = flow(np.ones((5, 2)), years=np.arange(2000, 2005), region=REGIONS)
    init = xr.DataArray([4.0, 2.0], dims="age", attrs={"units": "t"})
    with pytest.raises(ParameterError, match=r"initial_stock_by_age: lacks dim 'region'.*mass multiplied"):
        inflow_driven(x, Normal(mean=8.0, sd=2.0), initial_stock_by_age=init)
    by_region = init.expand_dims(region=REGIONS).assign_attrs(units="t")
    ds = inflow_driven(x, Normal(mean=8.0, sd=2.0), initial_stock_by_age=by_region)
    np.testing.assert_allclose(ds.initial_stock.values, [6.0, 6.0])


def test_scattered_structures_give_the_dense_results():
    # 12 regions x 3 products, lifetime by (region, product) but only 3 distinct values spread
    # over the elements: the elements are sorted by structure, solved, and put back
    rng = np.random.default_rng(8)
    regions = [f"r{i}" for i in range(12)]
    x = flow(rng.uniform(0, 10, (YEARS.size, 12, 3)), region=regions, product=PRODUCTS)
    mean = xr.DataArray(rng.choice([4.0, 9.0, 15.0], (12, 3)), dims=("region", "product"),
                        coords={"region": regions, "product": PRODUCTS}, attrs={"units": "yr"})
    lifetime = Normal(mean=mean, sd=0.3 * mean)
    ds = inflow_driven(x, lifetime)
    S = lifetime.survival_matrix(YEARS).transpose("time", "cohort", "region", "product").values
    np.testing.assert_allclose(ds.stock.values, np.einsum("tcrp,crp->trp", S, x.values), rtol=1e-13)
    back = stock_driven(ds.stock, lifetime)
    np.testing.assert_allclose(back.inflow.values, x.values, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(back.outflow.values, ds.outflow.values, rtol=1e-9, atol=1e-9)


def test_clip_and_retire_with_initial_stock_type_split_and_by_cohort_balance():
    years = np.arange(2020, 2035)
    target = flow(np.r_[np.full(5, 50.0), np.full(5, 20.0), np.full(5, 35.0)], years=years, units="t")
    init = xr.DataArray(np.full((4, 2), 5.0), dims=("age", "type"), coords={"type": TYPES},
                        attrs={"units": "t"})
    shares = xr.DataArray(np.full((years.size, 2), 0.5), dims=("time", "type"),
                          coords={"time": years, "type": TYPES})
    lifetime = Normal(mean=typed([8.0, 15.0]), sd=typed([2.0, 4.0]))
    for rule in ("clip", "retire"):
        ds = stock_driven(target, lifetime, init, type_shares=shares, negative_inflow=rule, by_cohort=True)
        assert_balanced(ds, ds.initial_stock.values, atol=1e-10)
        assert np.all(ds.inflow.values >= 0)
        np.testing.assert_allclose(ds.stock_by_cohort.sum(["cohort", "type"]).values, ds.stock.values,
                                   rtol=1e-12)
        np.testing.assert_allclose(ds.outflow_by_cohort.sum(["cohort", "type"]).values, ds.outflow.values,
                                   rtol=1e-12, atol=1e-12)
        if rule == "retire":
            np.testing.assert_allclose(ds.stock.values, target.values, rtol=1e-12)
            assert ds.retired_early.values[5] > 0
        else:
            assert ds.stock_excess.values[5] > 0 and ds.inflow_clipped.values[5] > 0


def test_monte_carlo_samples_with_retire_and_pint_stock():
    samples = np.arange(4)
    years = np.arange(2020, 2030)
    values = np.array([10.0, 20.0, 30.0, 40.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0])
    target = xr.DataArray(ureg.Quantity(values, "kt"), dims="time", coords={"time": years})
    mean = xr.DataArray([6.0, 8.0, 10.0, 12.0], dims="sample", coords={"sample": samples},
                        attrs={"units": "yr"})
    ds = stock_driven(target, Normal(mean=mean, sd=2.0), negative_inflow="retire")
    assert ds.inflow.dims == ("time", "sample") and str(ds.retired_early.data.units) == "kilotonne / year"
    np.testing.assert_allclose(ds.stock.data.magnitude, np.broadcast_to(values[:, None], (10, 4)), rtol=1e-12)
    assert (ds.retired_early.data.magnitude[4] > 0).all()
