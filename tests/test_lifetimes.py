"""Tests of the lifetime models and their discretised survival curves (mfa.core.lifetimes)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.lifetimes import (
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Normal,
    Weibull,
    make_lifetime,
)
from mfa.core.units import UnitError, ureg

PRODUCTS = ["a", "b", "c"]


def yr(values, dims="product", coords=None, units="yr"):
    coords = coords if coords is not None else {"product": PRODUCTS}
    return xr.DataArray(np.asarray(values, dtype=float), dims=dims, coords=coords,
                        attrs={"units": units})


ALL_MODELS = [
    Fixed(mean=7.0),
    Normal(mean=10.0, sd=3.0),
    LogNormal(mean=10.0, sd=4.0),
    Weibull(shape=2.0, scale=12.0),
    Gamma(shape=3.0, scale=4.0),
    Exponential(mean=8.0),
]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: type(m).__name__)
def test_survival_is_monotone_and_starts_at_sf_half(model):
    s = model.survival(80).values
    assert s.shape == (80,)
    assert np.all(np.diff(s) <= 0)
    assert np.all((s >= 0) & (s <= 1))
    assert s[0] == pytest.approx(float(model.sf([0.5]).values[0]), rel=1e-15)
    assert s[0] > 0.9  # almost nothing leaves in the first half year for these lifetimes
    assert s[-1] < 1e-3


def test_fixed_integer_lifetime_survives_exactly_L_years():
    s = Fixed(mean=4).survival(8).values
    np.testing.assert_array_equal(s, [1, 1, 1, 1, 0, 0, 0, 0])
    # below half a year everything leaves in the year of inflow
    assert Fixed(mean=0.4).survival(3).values.tolist() == [0, 0, 0]


def test_exponential_closed_form():
    s = Exponential(mean=5.0).survival(30).values
    np.testing.assert_allclose(s, np.exp(-(np.arange(30) + 0.5) / 5.0), rtol=1e-15)


def test_lognormal_is_parametrised_by_the_lifetime_moments():
    model = LogNormal(mean=12.0, sd=5.0)
    sigma = np.sqrt(np.log(1 + (5 / 12) ** 2))
    mu = np.log(12.0) - sigma**2 / 2
    dist = scipy.stats.lognorm(s=sigma, scale=np.exp(mu))
    assert dist.mean() == pytest.approx(12.0, rel=1e-12)
    assert dist.std() == pytest.approx(5.0, rel=1e-12)
    ages = np.arange(40) + 0.5
    np.testing.assert_allclose(model.sf(ages).values, dist.sf(ages), rtol=1e-12, atol=1e-300)


def test_weibull_and_gamma_closed_forms():
    ages = np.arange(30) + 0.5
    np.testing.assert_allclose(Weibull(shape=1.7, scale=9.0).survival(30).values,
                               np.exp(-((ages / 9.0) ** 1.7)), rtol=1e-13)
    # gamma with shape 1 is exponential with mean = scale
    np.testing.assert_allclose(Gamma(shape=1.0, scale=6.0).survival(30).values,
                               np.exp(-ages / 6.0), rtol=1e-13)


def test_normal_negative_lifetimes_leave_in_first_year_like_flodym():
    model = Normal(mean=2.0, sd=2.0)
    s = model.survival(10).values
    # the whole probability below 0.5 yr (including negative lifetimes) leaves in year 0
    assert 1 - s[0] == pytest.approx(scipy.stats.norm.cdf(0.5, 2.0, 2.0), rel=1e-14)
    # not renormalised: the outflow shares sum to one over all ages
    d = np.concatenate([[1 - s[0]], -np.diff(s)])
    assert d.sum() + s[-1] == pytest.approx(1.0, abs=1e-15)


def test_parameters_over_dims_and_units_are_converted():
    mean = xr.DataArray([120.0, 240.0], dims="product", coords={"product": ["a", "b"]},
                        attrs={"units": "month"})
    sd = yr([3.0, 6.0], coords={"product": ["a", "b"]})
    model = Normal(mean=mean, sd=sd)
    assert model.params["mean"].attrs["units"] == "yr"
    np.testing.assert_allclose(model.params["mean"].values, [10.0, 20.0], rtol=1e-12)
    s = model.survival(5)
    assert s.dims == ("product", "age")
    np.testing.assert_allclose(s.sel(product="b").values,
                               scipy.stats.norm.sf(np.arange(5) + 0.5, 20.0, 6.0), rtol=1e-14)
    # pint scalars work too
    assert float(Exponential(mean=ureg.Quantity(24, "month")).params["mean"]) == pytest.approx(2.0)


def test_curves_computed_once_per_distinct_parameter_set(monkeypatch):
    rows = []
    original = Normal._sf

    def counting(self, ages, **prms):
        rows.append(prms["mean"].shape[0])
        return original(self, ages, **prms)

    monkeypatch.setattr(Normal, "_sf", counting)
    regions = [f"r{i}" for i in range(40)]
    # mean varies by product only, sd is the same everywhere, broadcast over 40 regions
    mean = xr.DataArray(np.tile([5.0, 10.0, 5.0], (40, 1)), dims=("region", "product"),
                        coords={"region": regions, "product": PRODUCTS}, attrs={"units": "yr"})
    model = Normal(mean=mean, sd=2.0)
    curves, index = model.survival_curves(50)
    assert rows == [2]  # one vectorised call on the 2 distinct (mean, sd) pairs
    assert curves.shape == (2, 50)
    assert index.shape == (40, 3)
    np.testing.assert_array_equal(index.sel(product="a").values, index.sel(product="c").values)
    s = model.survival(50)
    np.testing.assert_array_equal(s.sel(region="r3", product="b").values, curves[index.values[3, 1]])


def test_survival_matrix_cohort_varying():
    cohorts = np.arange(2000, 2006)
    mean = xr.DataArray([2.0, 2.0, 3.0, 3.0, 4.0, 4.0], dims="cohort", coords={"cohort": cohorts},
                        attrs={"units": "yr"})
    model = Fixed(mean=mean)
    assert model.cohort_varying
    S = model.survival_matrix(cohorts)
    assert S.dims == ("time", "cohort")
    # cohort 2000 (L=2) present at end of 2000, 2001; gone in 2002
    assert S.sel(cohort=2000).values.tolist() == [1, 1, 0, 0, 0, 0]
    assert S.sel(cohort=2004).values.tolist() == [0, 0, 0, 0, 1, 1]
    assert np.all(np.triu(S.values, 1) == 0)
    with pytest.raises(ParameterError, match=r"lack cohorts \[2006\]"):
        model.survival_matrix(np.arange(2000, 2007))


def test_survival_matrix_without_cohort_is_toeplitz():
    S = Normal(mean=yr([5.0, 9.0, 5.0]), sd=2.0).survival_matrix(np.arange(1990, 2000)).values
    s = Normal(mean=9.0, sd=2.0).survival(10).values
    for t in range(10):
        for c in range(t + 1):
            assert S[t, c, 1] == s[t - c]


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: Normal(mean=10.0, sd=0.0), r"'sd': must be > 0, got 0.0"),
        (lambda: Normal(mean=10.0, sd=-1.0), r"'sd': must be > 0"),
        (lambda: Normal(mean=yr([10.0, np.nan, 3.0]), sd=1.0), r"'mean': value is NaN.*product='b'"),
        (lambda: LogNormal(mean=-3.0, sd=1.0), r"'mean': must be > 0"),
        (lambda: Weibull(shape=0.0, scale=3.0), r"'shape': must be > 0"),
        (lambda: Gamma(shape=2.0, scale=yr([1.0, 0.0, 2.0])), r"'scale': must be > 0.*product='b'"),
        (lambda: Exponential(mean=float("inf")), r"NaN or infinite"),
        (lambda: Fixed(mean=np.array([1.0, 2.0])), r"xarray.DataArray with named dims"),
        (lambda: Normal(mean=xr.DataArray([1.0], dims="time", attrs={"units": "yr"}), sd=1.0),
         r"has dim 'time'"),
        (lambda: make_lifetime("triangular", mean=3.0), r"unknown lifetime distribution 'triangular'"),
        (lambda: make_lifetime("normal", mean=3.0), r"missing \['sd'\]"),
    ],
)
def test_bad_parameters_raise_clear_errors(factory, match):
    with pytest.raises(ParameterError, match=match):
        factory()


def test_dataarray_parameters_need_time_units():
    with pytest.raises(UnitError, match="no units"):
        Normal(mean=xr.DataArray([5.0], dims="product"), sd=1.0)
    with pytest.raises(UnitError, match="expected a unit like 'yr'"):
        Normal(mean=yr([5.0, 6.0, 7.0], units="t"), sd=1.0)


def test_make_lifetime_by_name():
    model = make_lifetime("Weibull", shape=2.0, scale=10.0)
    assert isinstance(model, Weibull)
    assert "Weibull(shape=2, scale=10)" == repr(model)
