"""Tests of the dynamic stock models (mfa.core.stocks)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from mfa.core.errors import ParameterError
from mfa.core.lifetimes import Exponential, Fixed, Gamma, LogNormal, Normal, Weibull
from mfa.core.stocks import (
    NegativeInflowError,
    NegativeInflowWarning,
    inflow_driven,
    inflow_driven_array,
    stock_driven,
    stock_driven_array,
)
from mfa.core.units import UnitError, ureg
from tests.stock_helpers import PRODUCTS, REGIONS, YEARS, flow


def example_inflow(seed=0):
    rng = np.random.default_rng(seed)
    return flow(rng.uniform(0.0, 10.0, (YEARS.size, 2, 3)), region=REGIONS, product=PRODUCTS)


def product_lifetime():
    mean = xr.DataArray([12.0, 20.0, 5.0], dims="product", coords={"product": PRODUCTS},
                        attrs={"units": "yr"})
    return Normal(mean=mean, sd=0.3 * mean)


def reference_stock(x, lifetime_matrix):
    """stock[t] = sum_c S[t, c] x[c] with the dense survival matrix (the definition)."""
    return np.einsum("tc...,c...->t...", lifetime_matrix, x)


# --- analytic cases ---------------------------------------------------------------------------

def test_fixed_lifetime_outflow_is_lagged_inflow():
    x = np.random.default_rng(1).uniform(1, 5, YEARS.size)
    ds = inflow_driven(flow(x), Fixed(mean=6))
    expected = np.concatenate([np.zeros(6), x[:-6]])
    np.testing.assert_allclose(ds.outflow.values, expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ds.stock.values[10], x[5:11].sum(), rtol=1e-13)
    assert ds.stock.attrs["units"] == "t" and ds.outflow.attrs["units"] == "t/yr"


def test_exponential_lifetime_closed_form():
    # constant inflow i from year 0; s[k] = q**(k + 1/2), q = exp(-1/tau)
    # stock[t] = i q**0.5 (1 - q**(t+1)) / (1 - q);  outflow[t] = i (1 - q**(t + 1/2))
    tau, i = 7.0, 3.0
    t = np.arange(YEARS.size)
    q = np.exp(-1 / tau)
    ds = inflow_driven(flow(np.full(YEARS.size, i)), Exponential(mean=tau))
    np.testing.assert_allclose(ds.stock.values, i * q**0.5 * (1 - q ** (t + 1)) / (1 - q), rtol=1e-13)
    np.testing.assert_allclose(ds.outflow.values, i * (1 - q ** (t + 0.5)), rtol=1e-13)


def test_units_are_converted_at_the_edge():
    x = flow(np.ones(YEARS.size), units="kt/yr")
    ds = inflow_driven(x, Fixed(mean=3))
    assert ds.inflow.values[0] == 1000.0
    assert ds.stock.values[5] == pytest.approx(3000.0)
    pint_x = xr.DataArray(ureg.Quantity(np.ones(YEARS.size), "kg/yr"), dims="time",
                          coords={"time": YEARS})
    pint_stock = inflow_driven(pint_x, Fixed(mean=3)).stock.data  # pint in, pint out (in kg)
    assert str(pint_stock.units) == "kilogram" and pint_stock.magnitude[5] == pytest.approx(3.0)
    s = stock_driven(flow(np.full(YEARS.size, 2.0), units="kt"), Fixed(mean=2))
    assert s.stock.attrs["units"] == "t" and s.stock.values[0] == 2000.0


# --- agreement between paths ---------------------------------------------------------------

@pytest.mark.parametrize("method", ["toeplitz", "lags"])
def test_convolution_paths_equal_matrix_path(method):
    x = example_inflow()
    lt = product_lifetime()
    ds = inflow_driven(x, lt, method=method)
    S = lt.survival_matrix(YEARS).transpose("time", "cohort", "product").values  # (T, C, P)
    ref = np.einsum("tcp,crp->trp", S, x.values)
    np.testing.assert_allclose(ds.stock.transpose("time", "region", "product").values, ref,
                               rtol=1e-13)
    auto = inflow_driven(x, lt)
    np.testing.assert_allclose(ds.outflow.values, auto.outflow.values, rtol=1e-13, atol=1e-15)


def test_cohort_varying_lifetime_matches_dense_matrix():
    mean = xr.DataArray(np.linspace(5, 15, YEARS.size), dims="cohort", coords={"cohort": YEARS},
                        attrs={"units": "yr"})
    lt = LogNormal(mean=mean, sd=3.0)
    x = example_inflow(2)
    ds = inflow_driven(x, lt, by_cohort=True)
    S = lt.survival_matrix(YEARS).values  # (T, C)
    ref = np.einsum("tc,crp->trp", S, x.values)
    np.testing.assert_allclose(ds.stock.values, ref, rtol=1e-13)
    np.testing.assert_allclose(ds.stock_by_cohort.sum("cohort").values, ds.stock.values, rtol=1e-13)
    np.testing.assert_allclose(ds.outflow_by_cohort.sum("cohort").values, ds.outflow.values,
                               rtol=1e-12, atol=1e-12)
    back = stock_driven(ds.stock, lt)
    np.testing.assert_allclose(back.inflow.values, x.values, rtol=1e-9, atol=1e-9)


def test_extra_lifetime_dims_broadcast_like_monte_carlo_samples():
    rng = np.random.default_rng(3)
    mean = xr.DataArray(rng.uniform(5, 25, 64), dims="sample", coords={"sample": np.arange(64)},
                        attrs={"units": "yr"})
    lt = Weibull(shape=2.5, scale=mean)
    x = flow(rng.uniform(0, 3, YEARS.size))
    ds_t = inflow_driven(x, lt, method="toeplitz")
    ds_l = inflow_driven(x, lt, method="lags")
    assert ds_t.stock.dims == ("time", "sample")
    np.testing.assert_allclose(ds_t.stock.values, ds_l.stock.values, rtol=1e-13)
    one = inflow_driven(x, Weibull(shape=2.5, scale=float(mean[7])))
    np.testing.assert_allclose(ds_t.stock.isel(sample=7).values, one.stock.values, rtol=1e-13)


def test_low_level_array_api_shapes():
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, (5, 4, 30))  # (..., T) with time last
    surv = Normal(mean=8.0, sd=2.0).survival(30).values  # (T,), shared by all
    stock, outflow = inflow_driven_array(x, surv)
    assert stock.shape == x.shape
    np.testing.assert_allclose(np.diff(stock, axis=-1, prepend=0), x - outflow, atol=1e-12)
    inflow, out2, _reached = stock_driven_array(stock, surv[None, None, :])
    np.testing.assert_allclose(inflow, x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out2, outflow, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="needs at least 30"):
        inflow_driven_array(x, surv[:10])


# --- flodym -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["normal", "lognormal", "weibull", "fixed"])
def test_equal_to_flodym(kind):
    fd = pytest.importorskip("flodym")
    x = example_inflow(5)
    dims = fd.DimensionSet(dim_list=[
        fd.Dimension(name="time", letter="t", items=[int(y) for y in YEARS]),
        fd.Dimension(name="region", letter="r", items=REGIONS),
        fd.Dimension(name="product", letter="p", items=PRODUCTS),
    ])
    mean = np.array([12.0, 20.0, 5.0])
    p_da = lambda v, u="yr": xr.DataArray(v, dims="product", coords={"product": PRODUCTS},  # noqa: E731
                                         attrs={"units": u})
    p_fd = lambda v: fd.FlodymArray(dims=dims[("p",)], values=v)  # noqa: E731
    if kind == "normal":
        lt, flt = Normal(mean=p_da(mean), sd=p_da(0.3 * mean)), fd.NormalLifetime(
            dims=dims, mean=p_fd(mean), std=p_fd(0.3 * mean))
    elif kind == "lognormal":
        lt, flt = LogNormal(mean=p_da(mean), sd=p_da(0.5 * mean)), fd.LogNormalLifetime(
            dims=dims, mean=p_fd(mean), std=p_fd(0.5 * mean))
    elif kind == "weibull":
        lt, flt = Weibull(shape=p_da([1.5, 2.0, 3.0], "1"), scale=p_da(mean)), fd.WeibullLifetime(
            dims=dims, weibull_shape=p_fd(np.array([1.5, 2.0, 3.0])), weibull_scale=p_fd(mean))
    else:
        lt, flt = Fixed(mean=p_da(mean)), fd.FixedLifetime(dims=dims, mean=p_fd(mean))
    dsm = fd.InflowDrivenDSM(dims=dims, lifetime_model=flt)
    dsm.inflow[...] = x.values
    dsm.compute()
    ds = inflow_driven(x, lt)
    np.testing.assert_allclose(ds.stock.values, dsm.stock.values, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ds.outflow.values, dsm.outflow.values, rtol=1e-12, atol=0)
    sdsm = fd.StockDrivenDSM(dims=dims, lifetime_model=flt)
    sdsm.stock[...] = dsm.stock.values
    sdsm.compute()
    sd = stock_driven(ds.stock, lt)
    np.testing.assert_allclose(sd.inflow.values, sdsm.inflow.values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sd.outflow.values, sdsm.outflow.values, rtol=1e-12, atol=1e-12)


# --- properties -----------------------------------------------------------------------------

lifetimes = st.one_of(
    st.builds(Fixed, mean=st.integers(1, 40)),
    st.builds(lambda m, r: Normal(mean=m, sd=r * m), st.floats(1, 30), st.floats(0.1, 0.5)),
    st.builds(lambda m, r: LogNormal(mean=m, sd=r * m), st.floats(1, 30), st.floats(0.1, 1.0)),
    st.builds(Weibull, shape=st.floats(1, 5), scale=st.floats(2, 30)),
    st.builds(Gamma, shape=st.floats(1, 10), scale=st.floats(0.5, 5)),
    st.builds(Exponential, mean=st.floats(1, 30)),
)


@st.composite
def inflows(draw):
    T = draw(st.integers(1, 40))
    values = draw(st.lists(st.floats(0, 1e3), min_size=T, max_size=T))
    return flow(values, years=np.arange(1990, 1990 + T))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(x=inflows(), lt=lifetimes)
def test_mass_balance_and_stock_driven_recovers_inflow(x, lt):
    ds = inflow_driven(x, lt)
    stock = ds.stock.values
    scale = max(1.0, float(np.abs(stock).max()), float(x.values.max()))
    balance = np.cumsum(x.values) - np.cumsum(ds.outflow.values)
    np.testing.assert_allclose(stock, balance, rtol=1e-9, atol=1e-9 * scale)
    assert np.all(ds.outflow.values >= -1e-12 * scale)
    back = stock_driven(ds.stock, lt)
    np.testing.assert_allclose(back.inflow.values, x.values, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(back.outflow.values, ds.outflow.values, rtol=1e-9, atol=1e-9 * scale)


# --- initial stock by age ---------------------------------------------------------------------

def test_initial_stock_by_age_continues_a_longer_run():
    rng = np.random.default_rng(6)
    years = np.arange(1980, 2030)
    x = flow(rng.uniform(0, 5, (years.size, 3)), years=years, product=PRODUCTS)
    lt = product_lifetime()
    full = inflow_driven(x, lt, by_cohort=True)
    start = 2000
    at = full.stock_by_cohort.sel(time=start - 1, cohort=slice(None, start - 1))
    init = at.assign_coords(age=("cohort", start - 1 - at.cohort.values)).swap_dims(
        cohort="age").drop_vars(["cohort", "time"]).sortby("age")
    init.attrs["units"] = "t"
    part = inflow_driven(x.sel(time=slice(start, None)), lt, initial_stock_by_age=init,
                         by_cohort=True)
    ref = full.sel(time=slice(start, None))
    np.testing.assert_allclose(part.stock.values, ref.stock.values, rtol=1e-12)
    np.testing.assert_allclose(part.outflow.values, ref.outflow.values, rtol=1e-12)
    np.testing.assert_allclose(part.initial_stock.values, init.sum("age").values, rtol=1e-12)
    np.testing.assert_allclose(part.stock_by_cohort.sum("cohort").values, part.stock.values,
                               rtol=1e-12)
    # mass balance with the initial stock as the stock before the first year
    prev = np.concatenate([part.initial_stock.values[None], part.stock.values[:-1]])
    np.testing.assert_allclose(part.inflow.values - part.outflow.values, part.stock.values - prev,
                               atol=1e-12 * part.stock.values.max())
    # stock-driven with the same initial stock recovers the inflow
    back = stock_driven(ref.stock, lt, init)
    np.testing.assert_allclose(back.inflow.values, x.sel(time=slice(start, None)).values,
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(back.outflow.values, ref.outflow.values, rtol=1e-9, atol=1e-9)


# --- negative inflow rules --------------------------------------------------------------------

def falling_stock():
    values = np.array([[10.0, 20.0, 30.0, 40.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]] * 2).T
    return flow(values, years=np.arange(2020, 2030), units="t", region=REGIONS)


def test_negative_inflow_raise_names_year_and_element():
    with pytest.raises(NegativeInflowError, match=r"year 2024 for region='China'.*'clip'"):
        stock_driven(falling_stock(), Fixed(mean=10))


def test_negative_inflow_warn_keeps_negatives_and_meets_stock():
    with pytest.warns(NegativeInflowWarning, match="first in year 2024 for region='China'"):
        ds = stock_driven(falling_stock(), Fixed(mean=10), negative_inflow="warn")
    assert ds.inflow.sel(time=2024).values.tolist() == [-30.0, -30.0]
    np.testing.assert_allclose(ds.stock.values, falling_stock().values)


def test_negative_inflow_clip_keeps_mass_balance_and_reports():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = stock_driven(falling_stock(), Fixed(mean=10), negative_inflow="clip")
    assert np.all(ds.inflow.values >= 0)
    # fixed lifetime 10 yr: nothing leaves, so the stock stays at 40 until the target exceeds it
    np.testing.assert_allclose(ds.stock.sel(region="China").values,
                               [10, 20, 30, 40, 40, 40, 40, 40, 40, 40])
    np.testing.assert_allclose(ds.stock_excess.sel(region="China").values,
                               [0, 0, 0, 0, 30, 28, 26, 24, 22, 20])
    np.testing.assert_allclose(ds.inflow_clipped.sel(region="China").values,
                               [0, 0, 0, 0, 30, 28, 26, 24, 22, 20])
    prev = np.concatenate([np.zeros((1, 2)), ds.stock.values[:-1]])
    np.testing.assert_allclose(ds.inflow.values - ds.outflow.values, ds.stock.values - prev,
                               atol=1e-12)
    assert ds.stock_target.equals(falling_stock().assign_attrs(
        units="t", long_name="target stock (input)"))


def test_clip_resumes_when_target_catches_up():
    values = np.array([10.0, 10.0, 2.0, 2.0, 30.0, 30.0])
    ds = stock_driven(flow(values, years=np.arange(6), units="t"), Exponential(mean=3.0),
                      negative_inflow="clip")
    assert ds.inflow_clipped.values[2] > 0 and ds.inflow_clipped.values[4] == 0
    np.testing.assert_allclose(ds.stock.values[4:], [30.0, 30.0], rtol=1e-12)


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: flow([1.0, np.nan, 2.0], years=[2000, 2001, 2002]), ParameterError,
         r"inflow: NaN or infinite value at time=2001"),
        (lambda: flow([1.0, -2.0, 2.0], years=[2000, 2001, 2002]), ParameterError,
         r"inflow: negative value -2 at time=2001"),
        (lambda: flow([1.0, 2.0, 2.0], years=[2000, 2002, 2001]), ParameterError,
         r"sorted ascending.*2001 comes after 2002"),
        (lambda: flow([1.0, 2.0, 2.0], years=[2000, 2001, 2003]), ParameterError,
         r"gap: 2003 follows 2001"),
        (lambda: flow([1.0, 2.0], years=[2000.5, 2001.5]), ParameterError, r"integer years"),
        (lambda: flow([1.0, 2.0], years=[2000, 2001]).drop_attrs(), UnitError, r"inflow: no units"),
        (lambda: flow([1.0, 2.0], years=[2000, 2001], units="m^3/yr"), UnitError,
         r"inflow: unit 'm\^3/yr'.*expected a unit like 't/yr'"),
        (lambda: xr.DataArray([1.0, 2.0], dims="year", attrs={"units": "t/yr"}), ParameterError,
         r"needs a 'time' dimension"),
    ],
)
def test_bad_inflow_raises_clear_error(make, error, match):
    with pytest.raises(error, match=match):
        inflow_driven(make(), Normal(mean=10.0, sd=3.0))


def test_bad_stock_and_options():
    with pytest.raises(ParameterError, match=r"stock: negative value"):
        stock_driven(flow([1.0, -1.0], years=[2000, 2001], units="t"), Fixed(mean=3))
    with pytest.raises(UnitError, match=r"stock: unit 't/yr'"):
        stock_driven(flow([1.0, 1.0], years=[2000, 2001]), Fixed(mean=3))
    with pytest.raises(ParameterError, match="negative_inflow must be"):
        stock_driven(flow([1.0, 1.0], years=[2000, 2001], units="t"), Fixed(mean=3),
                     negative_inflow="ignore")
    with pytest.raises(ParameterError, match=r"s\[0\] = 0"):
        stock_driven(flow([1.0, 1.0], years=[2000, 2001], units="t"), Fixed(mean=0.3))
    with pytest.raises(ParameterError, match=r"must be an mfa\.core\.lifetimes\.LifetimeModel"):
        inflow_driven(flow([1.0], years=[2000]), 10.0)
    other = xr.DataArray([5.0, 6.0], dims="product", coords={"product": ["x", "y"]},
                         attrs={"units": "yr"})
    with pytest.raises(ParameterError, match="different 'product' coordinates"):
        inflow_driven(example_inflow(), Fixed(mean=other))
    mean = xr.DataArray([5.0], dims="cohort", coords={"cohort": [2000]}, attrs={"units": "yr"})
    with pytest.raises(ParameterError, match="lack cohorts"):
        inflow_driven(flow([1.0, 1.0], years=[2000, 2001]), Fixed(mean=mean))
