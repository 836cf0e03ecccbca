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
    FoldedNormal,
    Gamma,
    LogNormal,
    Normal,
    SurvivalTable,
    Weibull,
    inflow_points,
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


# --- scipy.special instead of scipy.stats (start-up time) ----------------------------------------

AGES = np.concatenate([[0.0, 1e-9, 0.25, 0.5, 1.0], np.arange(1.5, 120.0, 0.75), [300.0, 1e4]])


@pytest.mark.parametrize(
    ("model", "reference"),
    [
        (Normal(mean=10.0, sd=3.0), lambda x: scipy.stats.norm.sf(x, loc=10.0, scale=3.0)),
        (Normal(mean=0.4, sd=2.0), lambda x: scipy.stats.norm.sf(x, loc=0.4, scale=2.0)),
        (LogNormal(mean=10.0, sd=4.0), None),
        (LogNormal(mean=0.3, sd=0.1), None),
        (FoldedNormal(mean=20.0, sd=20.0), lambda x: scipy.stats.foldnorm.sf(x, 1.0, 0, scale=20.0)),
        (FoldedNormal(mean=3.0, sd=1.0), lambda x: scipy.stats.foldnorm.sf(x, 3.0, 0, scale=1.0)),
        (Weibull(shape=1.2, scale=1.0), lambda x: scipy.stats.weibull_min.sf(x, c=1.2, scale=1.0)),
        (Weibull(shape=3.5, scale=15.0), lambda x: scipy.stats.weibull_min.sf(x, c=3.5, scale=15.0)),
        (Gamma(shape=3.0, scale=4.0), lambda x: scipy.stats.gamma.sf(x, a=3.0, scale=4.0)),
        (Gamma(shape=0.7, scale=20.0), lambda x: scipy.stats.gamma.sf(x, a=0.7, scale=20.0)),
        (Exponential(mean=8.0), lambda x: scipy.stats.expon.sf(x, scale=8.0)),
    ],
    ids=lambda m: repr(m) if not callable(m) else "",
)
def test_survival_functions_equal_scipy_stats(model, reference):
    if reference is None:  # lognormal by the moments of the lifetime
        mean, sd = float(model.params["mean"]), float(model.params["sd"])
        sigma = np.sqrt(np.log(1 + sd**2 / mean**2))
        mu = np.log(mean**2 / np.sqrt(mean**2 + sd**2))
        reference = lambda x: scipy.stats.lognorm.sf(x, s=sigma, loc=0, scale=np.exp(mu))  # noqa: E731
    got = model.sf(AGES).values
    want = reference(AGES)
    np.testing.assert_allclose(got, want, rtol=4e-15, atol=1e-300)  # numpy Cephes ndtr: few ulp


def test_importing_the_lifetimes_does_not_import_scipy_stats():
    import subprocess
    import sys

    code = ("import sys, mfa.core.lifetimes, mfa.core.stocks; "
            "print('scipy.stats' in sys.modules, 'scipy.special' in sys.modules "
            "or 'scipy.linalg' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


# --- inflow conventions ---------------------------------------------------------------------

@pytest.mark.parametrize(("inflow_at", "offset"), [("start", 1.0), ("middle", 0.5), ("end", 0.0)])
def test_inflow_at_sets_the_age_at_the_first_year_end(inflow_at, offset):
    model = Normal(mean=6.0, sd=2.0, inflow_at=inflow_at)
    np.testing.assert_allclose(model.survival(20).values,
                               scipy.stats.norm.sf(np.arange(20) + offset, loc=6.0, scale=2.0),
                               rtol=4e-15)
    S = model.survival_matrix(np.arange(2000, 2005)).values
    assert S[3, 1] == pytest.approx(scipy.stats.norm.sf(2 + offset, loc=6.0, scale=2.0), rel=4e-15)
    assert model.inflow_at == inflow_at and (inflow_at == "middle") == ("inflow_at" not in repr(model))


def test_fixed_lifetime_may_be_zero_and_leaves_in_the_year_of_inflow():
    for inflow_at in ("start", "middle", "end"):
        assert Fixed(mean=0, inflow_at=inflow_at).survival(3).values.tolist() == [0, 0, 0]
    # an integer lifetime L is L whole years with the mid-year and end-of-year rules
    assert Fixed(mean=3, inflow_at="end").survival(5).values.tolist() == [1, 1, 1, 0, 0]
    assert Fixed(mean=3, inflow_at="start").survival(5).values.tolist() == [1, 1, 0, 0, 0]
    with pytest.raises(ParameterError, match=r"'mean': must be >= 0, got -1.0"):
        Fixed(mean=-1)


def test_inflow_points_are_gauss_lobatto_on_the_year():
    points, weights = inflow_points(1, "start")
    assert points.tolist() == [0.0] and weights.tolist() == [1.0]
    for n in range(2, 11):
        p, w = inflow_points(n)
        assert p[0] == 0.0 and p[-1] == 1.0 and w.sum() == pytest.approx(1.0, abs=1e-15)
        np.testing.assert_allclose(p + p[::-1], 1.0, atol=1e-15)
        # exact for polynomials up to degree 2n - 3
        for k in range(2 * n - 2):
            assert (w * p**k).sum() == pytest.approx(1 / (k + 1), rel=1e-13)


def test_points_per_year_integrate_the_survival_over_the_year_of_inflow():
    model = Weibull(shape=2.0, scale=3.0, points_per_year=6)
    p, w = inflow_points(6)
    ages = np.arange(12)[:, None] + 1 - p[None, :]
    np.testing.assert_allclose(model.survival(12).values,
                               (np.exp(-((ages / 3.0) ** 2)) * w).sum(axis=1), rtol=1e-14)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"inflow_at": "begin"}, r"inflow_at must be 'start', 'middle' or 'end', got 'begin'"),
        ({"points_per_year": 0}, r"points_per_year must be an integer from 1 to 10, got 0"),
        ({"points_per_year": 2.5}, r"points_per_year must be an integer"),
        ({"points_per_year": 11}, r"from 1 to 10, got 11"),
        ({"points_per_year": 4, "inflow_at": "end"}, r"inflow_at='end' does not apply"),
        ({"factor_by_year": 1.2}, r"factor_by_year: expected an xarray.DataArray with a 'time' dim"),
        ({"factor_by_year": xr.DataArray([1.0, 0.0], dims="time", coords={"time": [2000, 2001]})},
         r"factor_by_year: must be a finite number > 0, got 0.0 at time=2001"),
        ({"factor_by_year": xr.DataArray([1.0], dims="cohort", coords={"cohort": [2000]})},
         r"expected an xarray.DataArray with a 'time' dim"),
        ({"factor_by_year": xr.DataArray([1.0, 1.0], dims="time", coords={"time": [2000.5, 2001.5]})},
         r"coordinate 'time' must be integer years"),
    ],
)
def test_bad_options_raise_clear_errors(options, match):
    with pytest.raises(ParameterError, match=match):
        Normal(mean=10.0, sd=3.0, **options)


def test_make_lifetime_passes_options():
    model = make_lifetime("FoldedNormal", mean=5.0, sd=2.0, inflow_at="end")
    assert isinstance(model, FoldedNormal) and model.inflow_at == "end"
    assert repr(model) == "FoldedNormal(mean=5, sd=2, inflow_at='end')"


# --- lifetime changes by year (factor_by_year) --------------------------------------------------

YEARS = np.arange(2000, 2031)


def test_constant_factor_by_year_equals_scaled_parameters():
    # sf_f(x) = sf(x / f): with the same factor in every year the hazard ratios telescope
    factor = xr.DataArray(np.full(YEARS.size, 1.3), dims="time", coords={"time": YEARS})
    stretched = LogNormal(mean=8.0, sd=3.0, factor_by_year=factor).survival_matrix(YEARS)
    scaled = LogNormal(mean=8.0 * 1.3, sd=3.0 * 1.3).survival_matrix(YEARS)
    np.testing.assert_allclose(stretched.values, scaled.values, rtol=1e-12, atol=1e-300)
    one = xr.DataArray(np.ones(YEARS.size), dims="time", coords={"time": YEARS})
    np.testing.assert_allclose(Normal(mean=8.0, sd=3.0, factor_by_year=one).survival_matrix(YEARS).values,
                               Normal(mean=8.0, sd=3.0).survival_matrix(YEARS).values, rtol=1e-14)


def test_factor_by_year_changes_the_remaining_life_of_cohorts_in_use():
    factor = xr.DataArray(np.where(YEARS < 2015, 1.0, 1.5), dims="time", coords={"time": YEARS})
    S = Normal(mean=10.0, sd=2.0, factor_by_year=factor).survival_matrix(YEARS)
    plain = Normal(mean=10.0, sd=2.0).survival_matrix(YEARS)
    before = S.sel(time=slice(None, 2014))
    np.testing.assert_array_equal(before.values, plain.sel(time=slice(None, 2014)).values)
    # a cohort of 2005 in use in 2015 survives longer from then on
    assert float(S.sel(time=2020, cohort=2005)) > float(plain.sel(time=2020, cohort=2005))
    # survival never increases with time
    assert np.all(np.diff(S.values, axis=0)[np.tril_indices(YEARS.size - 1)] <= 1e-15)
    with pytest.raises(ParameterError, match=r"survival_curves is not defined with factor_by_year"):
        Normal(mean=10.0, sd=2.0, factor_by_year=factor).survival(10)
    short = factor.sel(time=slice(2000, 2020))
    with pytest.raises(ParameterError, match=r"factor_by_year: lacks years \[2021, 2022"):
        Normal(mean=10.0, sd=2.0, factor_by_year=short).survival_matrix(YEARS)


# --- survival tables ----------------------------------------------------------------------------

def test_survival_table_by_age_equals_the_model_it_was_made_from():
    model = Gamma(shape=4.0, scale=2.5, inflow_at="end")
    table = SurvivalTable(model.survival(60))
    np.testing.assert_array_equal(table.survival(60).values, model.survival(60).values)
    np.testing.assert_array_equal(table.survival_matrix(YEARS).values, model.survival_matrix(YEARS).values)
    assert repr(table) == "SurvivalTable(<{'age': 60}>)"


def test_survival_table_by_time_and_cohort_equals_a_cohort_varying_model():
    mean = xr.DataArray(np.linspace(4.0, 12.0, YEARS.size), dims="cohort", coords={"cohort": YEARS},
                        attrs={"units": "yr"})
    model = Weibull(shape=2.0, scale=mean)
    S = model.survival_matrix(YEARS)
    table = SurvivalTable(S)
    np.testing.assert_array_equal(table.survival_matrix(YEARS).values, S.values)
    with pytest.raises(ParameterError, match=r"a table by \(time, cohort\) has no survival curve"):
        table.survival(5)


def test_short_survival_table_extends_with_zero_only_if_it_ends_at_zero():
    ends = SurvivalTable(xr.DataArray([1.0, 0.5, 0.0], dims="age"))
    assert ends.survival(5).values.tolist() == [1.0, 0.5, 0.0, 0.0, 0.0]
    open_end = SurvivalTable(xr.DataArray([1.0, 0.5, 0.2], dims="age"))
    with pytest.raises(ParameterError, match=r"covers ages 0..2 but the model needs ages up to 4.*0.2"):
        open_end.survival(5)


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (xr.DataArray([1.0, 1.2], dims="age"), r"within \[0, 1\], got 1.2 at age=1"),
        (xr.DataArray([0.9, 0.95], dims="age"), r"may not increase with age; it does after age=0"),
        (xr.DataArray([1.0, np.nan], dims="age"), r"within \[0, 1\], got nan"),
        (xr.DataArray([1.0, 0.5], dims="age", coords={"age": [1, 2]}), r"ages must start at 0"),
        (xr.DataArray([1.0, 0.5], dims="years"), r"needs either an 'age' dim"),
        (xr.DataArray([1.0, 0.5], dims="age", attrs={"units": "yr"}), r"expected a unit like '1'"),
    ],
)
def test_bad_survival_tables_raise_clear_errors(table, match):
    with pytest.raises((ParameterError, UnitError), match=match):
        SurvivalTable(table)


def test_survival_arrays_reuse_the_parameters_indexes_and_equal_those_built_from_labels():
    """``survival`` and ``survival_curves`` reuse the parameters' indexes (no index built per
    call) and give the DataArrays that their labels give: same values, dims, coords (without the
    parameters' coordinate attrs) and attrs; also with ``select``, for a scalar lifetime and with
    a cohort dim."""
    mean = xr.DataArray([[10.0, 12.0, 14.0], [8.0, 9.0, 10.0]], dims=("product", "sample"),
                        coords={"product": ["a", "b"], "sample": [0, 1, 2]},
                        attrs={"units": "yr"})
    mean.coords["sample"].attrs["note"] = "a coordinate attribute, not carried"
    sd = xr.DataArray([3.0, 2.0], dims="product", coords={"product": ["a", "b"]},
                      attrs={"units": "yr"})
    cohort = xr.DataArray([9.0, 11.0], dims="cohort", coords={"cohort": [2000, 2001]},
                          attrs={"units": "yr"})
    for model, select in ((Normal(mean=mean, sd=sd), None), (Normal(mean=mean, sd=sd),
                                                             {"product": "b"}),
                          (Normal(mean=12.0, sd=3.0), None), (Weibull(shape=2.0, scale=cohort), None)):
        curves, ids, dims, coords = model._curves(6, select)
        index = xr.DataArray(ids, dims=dims, name="curve_index",
                             coords={d: v for d, v in coords.items() if d in dims})
        got_curves, got_index = model.survival_curves(6, select=select)
        np.testing.assert_array_equal(got_curves, curves)
        xr.testing.assert_identical(got_index, index)
        if select is None:
            want = xr.DataArray(
                curves[ids.ravel()].reshape((*ids.shape, 6)), dims=(*dims, "age"),
                coords={**dict(index.coords), "age": np.arange(6)},
                attrs={"units": "1",
                       "long_name": "share of a cohort still in use at the end of year c + age"})
            xr.testing.assert_identical(model.survival(6), want)
    assert "note" not in Normal(mean=mean, sd=sd).survival(3)["sample"].attrs
