"""flodym's published stock and lifetime tests ported to mfa, and mfa against flodym 1.1.0.

Ported from pik-piam/flodym ``tests/test_stocks.py`` (expected values hard-coded there):
``test_stocks`` (inflow -> stock -> inflow round trip, LogNormal(60, 25)) and
``test_lifetime_quadrature`` (stationary stocks with ``inflow_at`` start/middle/end and 2 or 6
points per year, for long and short lifetimes). Its ``test_unequal_time_steps`` has no
counterpart: mfa needs consecutive years (gaps are a clear error, tested in test_stocks.py). The
copy tests concern flodym's object API. flodym's expected values are all right (its LogNormal
was fixed in January 2025).

The second half compares the new options with flodym 1.1.0 itself (installed with the test
extra) element by element.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from mfa.core.lifetimes import Fixed, FoldedNormal, LogNormal, Normal, Weibull
from mfa.core.stocks import inflow_driven, stock_driven

YEARS = np.arange(1900, 2101)
PRODUCTS = ["automotive", "construction"]


def flow(values, years=YEARS, units="t/yr"):
    values = np.asarray(values, dtype=float)
    coords = {"time": years} if values.ndim == 1 else {"time": years, "product": PRODUCTS}
    return xr.DataArray(values, dims=tuple(coords), coords=coords, attrs={"units": units})


# --- ported: tests/test_stocks.py -------------------------------------------------------------

def test_stocks():
    inflow_values = np.exp(-(np.linspace(-2, 2, 201) ** 2))
    inflow = flow(np.stack([inflow_values, inflow_values]).T)
    lifetime = LogNormal(mean=60, sd=25)
    stock = inflow_driven(inflow, lifetime).stock
    back = stock_driven(stock, lifetime)  # flodym: solver "manual" and "lapack"
    assert np.allclose(inflow.values, back.inflow.values)


def stocks_by_quadrature(mean, sd):
    inflow = flow(np.ones((YEARS.size, 2)))
    models = {
        "ltm_start": LogNormal(mean=mean, sd=sd, inflow_at="start"),
        "ltm_end": LogNormal(mean=mean, sd=sd, inflow_at="end"),
        "ltm_middle": LogNormal(mean=mean, sd=sd, inflow_at="middle"),
        "ltm_2": LogNormal(mean=mean, sd=sd, points_per_year=2),
        "ltm_6": LogNormal(mean=mean, sd=sd, points_per_year=6),
    }
    return {name: inflow_driven(inflow, lt).stock for name, lt in models.items()}


def test_lifetime_quadrature():
    # Long lifetimes: inflow at the start/end of the year under/overestimate the stock by half a
    # year, the others work well.
    targets = {"ltm_start": 29.5, "ltm_end": 30.5, "ltm_middle": 30, "ltm_2": 30, "ltm_6": 30}
    eps = 0.01
    for name, stock in stocks_by_quadrature(mean=30, sd=10).items():
        assert np.abs(stock.sel(product="automotive").values[-1] - targets[name]) < eps, name
    # Short lifetimes: only high-order quadrature works well.
    for name, stock in stocks_by_quadrature(mean=0.3, sd=0.1).items():
        last = stock.sel(product="automotive").values[-1]
        if name == "ltm_6":
            assert np.abs(last - 0.3) < eps
        else:
            assert np.abs(last - 0.3) > eps, name


# --- against flodym 1.1.0 ----------------------------------------------------------------------

T = 60
FD_YEARS = np.arange(1990, 1990 + T)
REGIONS = ["r1", "r2"]
PRODS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def fd():
    return pytest.importorskip("flodym")


def fd_dims(fd):
    return fd.DimensionSet(dim_list=[
        fd.Dimension(name="time", letter="t", items=[int(y) for y in FD_YEARS]),
        fd.Dimension(name="region", letter="r", items=REGIONS),
        fd.Dimension(name="product", letter="p", items=PRODS),
    ])


def inflow3(seed=0):
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 10.0, (T, 2, 3))
    return xr.DataArray(values, dims=("time", "region", "product"),
                        coords={"time": FD_YEARS, "region": REGIONS, "product": PRODS},
                        attrs={"units": "t/yr"})


def by_product(values, units="yr"):
    return xr.DataArray(np.asarray(values, dtype=float), dims="product", coords={"product": PRODS},
                        attrs={"units": units})


MEAN = np.array([12.0, 3.0, 25.0])


def pair(fd, kind, **options):
    """(mfa lifetime, flodym lifetime) with the same parameters and options."""
    dims = fd_dims(fd)
    p = lambda v: fd.FlodymArray(dims=dims[("p",)], values=np.asarray(v, dtype=float))  # noqa: E731
    fd_opts = dict(options)
    mfa_opts = dict(options)
    if "points_per_year" in mfa_opts:
        fd_opts["n_pts_per_interval"] = fd_opts.pop("points_per_year")
    if "factor_by_year" in mfa_opts:
        f = mfa_opts["factor_by_year"]
        fd_opts["lt_factor_by_year"] = fd.FlodymArray(dims=dims[("t",)], values=f.values)
        fd_opts.pop("factor_by_year")
    if kind == "normal":
        return (Normal(mean=by_product(MEAN), sd=by_product(0.3 * MEAN), **mfa_opts),
                fd.NormalLifetime(dims=dims, mean=p(MEAN), std=p(0.3 * MEAN), **fd_opts))
    if kind == "lognormal":
        return (LogNormal(mean=by_product(MEAN), sd=by_product(0.6 * MEAN), **mfa_opts),
                fd.LogNormalLifetime(dims=dims, mean=p(MEAN), std=p(0.6 * MEAN), **fd_opts))
    if kind == "foldednormal":
        return (FoldedNormal(mean=by_product(MEAN), sd=by_product(0.8 * MEAN), **mfa_opts),
                fd.FoldedNormalLifetime(dims=dims, mean=p(MEAN), std=p(0.8 * MEAN), **fd_opts))
    if kind == "weibull":
        shape = [1.5, 2.0, 3.0]
        return (Weibull(shape=by_product(shape, "1"), scale=by_product(MEAN), **mfa_opts),
                fd.WeibullLifetime(dims=dims, weibull_shape=p(shape), weibull_scale=p(MEAN), **fd_opts))
    return (Fixed(mean=by_product(MEAN + 0.25), **mfa_opts),
            fd.FixedLifetime(dims=dims, mean=p(MEAN + 0.25), **fd_opts))


def compare(fd, lt, flt, x, rtol=1e-12, atol=0.0, stock_driven_too=True):
    dims = fd_dims(fd)
    dsm = fd.InflowDrivenDSM(dims=dims, lifetime_model=flt)
    dsm.inflow[...] = x.values
    dsm.compute()
    ds = inflow_driven(x, lt)
    np.testing.assert_allclose(ds.stock.values, dsm.stock.values, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ds.outflow.values, dsm.outflow.values, rtol=rtol, atol=atol)
    if stock_driven_too:
        sdsm = fd.StockDrivenDSM(dims=dims, lifetime_model=flt)
        sdsm.stock[...] = dsm.stock.values
        sdsm.compute()
        sd = stock_driven(ds.stock, lt)
        np.testing.assert_allclose(sd.inflow.values, sdsm.inflow.values, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(sd.outflow.values, sdsm.outflow.values, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("inflow_at", ["start", "middle", "end"])
@pytest.mark.parametrize("kind", ["normal", "lognormal", "foldednormal", "weibull", "fixed"])
def test_inflow_at_equals_flodym(fd, kind, inflow_at):
    lt, flt = pair(fd, kind, inflow_at=inflow_at)
    compare(fd, lt, flt, inflow3(1), stock_driven_too=kind != "fixed" or inflow_at != "start")


@pytest.mark.parametrize("n", [2, 3, 6, 10])
@pytest.mark.parametrize("kind", ["normal", "lognormal", "weibull"])
def test_points_per_year_equal_flodym(fd, kind, n):
    # flodym computes the ages of the points from float years (~2e-13 absolute): 1e-11 relative;
    # first-year outflows of short lifetimes are 1 - s[0] (cancellation): 1e-14 of the inflow
    lt, flt = pair(fd, kind, points_per_year=n)
    compare(fd, lt, flt, inflow3(2), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("kind", ["normal", "lognormal", "weibull", "fixed"])
@pytest.mark.parametrize("inflow_at", ["middle", "end"])
def test_factor_by_year_equals_flodym(fd, kind, inflow_at):
    factor = xr.DataArray(np.where(FD_YEARS < 2010, 1.0, np.linspace(1.0, 1.6, T)), dims="time",
                          coords={"time": FD_YEARS})
    lt, flt = pair(fd, kind, inflow_at=inflow_at, factor_by_year=factor)
    compare(fd, lt, flt, inflow3(3), rtol=1e-12, stock_driven_too=kind != "fixed")


def test_factor_by_year_with_quadrature_equals_flodym(fd):
    factor = xr.DataArray(np.linspace(0.7, 1.4, T), dims="time", coords={"time": FD_YEARS})
    lt, flt = pair(fd, "lognormal", points_per_year=4, factor_by_year=factor)
    compare(fd, lt, flt, inflow3(4), rtol=1e-11, atol=1e-13)


def test_cohort_varying_and_factor_by_year_equal_flodym(fd):
    dims = fd_dims(fd)
    mean = np.linspace(5.0, 20.0, T)
    factor = np.linspace(1.0, 0.8, T)
    flt = fd.NormalLifetime(dims=dims, mean=fd.FlodymArray(dims=dims[("t",)], values=mean),
                            std=fd.FlodymArray(dims=dims[("t",)], values=0.25 * mean),
                            lt_factor_by_year=fd.FlodymArray(dims=dims[("t",)], values=factor))
    by_cohort = lambda v: xr.DataArray(v, dims="cohort", coords={"cohort": FD_YEARS}, attrs={"units": "yr"})  # noqa: E731
    lt = Normal(mean=by_cohort(mean), sd=by_cohort(0.25 * mean),
                factor_by_year=xr.DataArray(factor, dims="time", coords={"time": FD_YEARS}))
    compare(fd, lt, flt, inflow3(5))
