"""Tests for mfa.core.system: declarations, validation, units and the mass-balance check."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from mfa.core.errors import MassBalanceError, MfaError
from mfa.core.system import (
    RESIDUAL,
    RESIDUAL_TOTAL,
    THROUGHPUT,
    THROUGHPUT_TOTAL,
    Flow,
    ProcessSystem,
    Stock,
)
from mfa.core.units import UnitError, ureg

YEARS = np.arange(2000, 2006)
REGIONS = ["China", "Japan", "Europe"]
PRODUCTS = ["ev_bev", "wind_onshore"]


def chain() -> ProcessSystem:
    """environment -> mining -> manufacturing -> use (stock) -> environment, by region."""
    return ProcessSystem(
        "chain",
        processes=["mining", "manufacturing", "use"],
        flows=[
            Flow("mined", "environment", "mining", ("time", "region")),
            Flow("concentrate", "mining", "manufacturing", ("time", "region")),
            Flow("mining_losses", "mining", "environment", ("time", "region")),
            Flow("products", "manufacturing", "use", ("time", "region", "product")),
            Flow("eol", "use", "environment", ("time", "region", "product")),
        ],
        stocks=[Stock("in_use", "use", ("region", "product", "time"))],
    )


def da(values, dims, unit) -> xr.DataArray:
    coords = {"time": YEARS, "region": REGIONS, "product": PRODUCTS}
    return xr.DataArray(
        values, dims=dims, coords={d: coords[d] for d in dims}, attrs={"units": unit}
    )


def chain_values() -> dict[str, xr.DataArray]:
    """Balanced values: products in t/yr, a stock that accumulates inflow minus outflow."""
    rng = np.random.default_rng(1)
    nt, nr, npr = len(YEARS), len(REGIONS), len(PRODUCTS)
    products = rng.uniform(10, 100, (nt, nr, npr))
    eol = products * rng.uniform(0.1, 0.5, (nt, nr, npr))
    stock = np.cumsum(products - eol, axis=0)  # initial stock 0
    concentrate = products.sum(axis=2)
    losses = 0.1 * concentrate
    return {
        "mined": da(concentrate + losses, ("time", "region"), "t/yr"),
        "concentrate": da(concentrate, ("time", "region"), "t/yr"),
        "mining_losses": da(losses, ("time", "region"), "t/yr"),
        "products": da(products, ("time", "region", "product"), "t/yr"),
        "eol": da(eol, ("time", "region", "product"), "t/yr"),
        # declared order is (region, product, time): give it in another order on purpose
        "in_use": da(stock, ("time", "region", "product"), "t"),
    }


def test_balanced_chain_has_zero_residual():
    system = chain()
    ds = system.to_dataset(chain_values())
    res = ds[RESIDUAL]
    assert res.dims == ("time", "process", "region")
    assert list(res["process"].values) == ["mining", "manufacturing", "use"]
    np.testing.assert_allclose(res.values, 0.0, atol=1e-9)
    np.testing.assert_allclose(ds[RESIDUAL_TOTAL].values, 0.0, atol=1e-9)
    assert ds[RESIDUAL].attrs["units"] == "t/yr"
    assert ds["in_use"].attrs["units"] == "t"
    assert ds["in_use"].dims == ("region", "product", "time")  # declared order
    assert ds["products"].attrs["source"] == "manufacturing"
    assert ds["in_use"].attrs["process"] == "use"
    assert ds.attrs["max_abs_mass_balance_residual"] < 1e-9
    # throughput of use = products in (>= eol out + stock addition)
    expected = chain_values()["products"].sum("product").values
    np.testing.assert_allclose(ds[THROUGHPUT].sel(process="use").values, expected)
    system.check_balance(ds)  # no error
    system.check_balance(chain_values())  # from values too
    xr.testing.assert_equal(system.residuals(chain_values()), ds[RESIDUAL])


def test_leak_is_located_exactly():
    system = chain()
    values = chain_values()
    prod = values["products"].copy()
    prod.loc[{"time": 2003, "region": "Japan", "product": "wind_onshore"}] += 2.5
    values["products"] = prod
    with pytest.raises(MassBalanceError) as info:
        system.check_balance(values)
    msg = str(info.value)
    # manufacturing sends 2.5 t/yr more than it gets and use gets 2.5 t/yr more than it holds;
    # both have the same throughput (up to rounding): either may be named.
    assert "process 'manufacturing'" in msg or "process 'use'" in msg
    assert "year 2003" in msg
    assert "region 'Japan'" in msg
    assert "2.5 t/yr" in msg
    assert "1 other cell(s) also fail" in msg
    ds = system.to_dataset(values)
    res = ds[RESIDUAL]
    bad = np.argwhere(np.abs(res.values) > 1e-9)
    assert len(bad) == 2
    assert res.sel(time=2003, region="Japan", process="manufacturing") == pytest.approx(-2.5)
    assert res.sel(time=2003, region="Japan", process="use") == pytest.approx(2.5)


def test_single_leak_message_names_process_year_region_and_gap():
    system = chain()
    values = chain_values()
    losses = values["mining_losses"].copy()
    losses.loc[{"time": 2001, "region": "Europe"}] -= 0.75  # mining keeps 0.75 t/yr
    values["mining_losses"] = losses
    with pytest.raises(MassBalanceError) as info:
        system.check_balance(values)
    msg = str(info.value)
    assert "process 'mining'" in msg
    assert "year 2001" in msg
    assert "region 'Europe'" in msg
    assert "0.75 t/yr" in msg
    assert "more in than out" in msg
    throughput = float(values["mined"].sel(time=2001, region="Europe"))
    assert f"{0.75 / throughput:.3g} of throughput" in msg
    assert "other cell" not in msg


def test_relative_tolerance():
    system = chain()
    values = chain_values()
    mined = values["mined"].copy()
    mined.loc[{"time": 2000, "region": "China"}] *= 1 + 1e-7
    values["mined"] = mined
    with pytest.raises(MassBalanceError):
        system.check_balance(values)
    system.check_balance(values, rtol=1e-6)


def test_initial_stock():
    system = chain()
    values = chain_values()
    initial = xr.DataArray([1.0, 2.0, 3.0], dims="region", coords={"region": REGIONS})
    initial.attrs["units"] = "kt"
    values["in_use"] = values["in_use"] + initial * 1000  # arithmetic drops attrs
    values["in_use"].attrs["units"] = "t"
    with pytest.raises(MassBalanceError, match="process 'use', year 2000, region 'Europe'"):
        system.check_balance(values)
    system.check_balance(values, initial_stocks={"in_use": initial})
    with pytest.raises(MfaError, match="unknown stock"):
        system.check_balance(values, initial_stocks={"stock_x": initial})
    with pytest.raises(UnitError):
        system.check_balance(values, initial_stocks={"in_use": initial.assign_attrs(units="t/yr")})
    # a scalar pint quantity applies to every region and product
    ds = system.to_dataset(chain_values(), initial_stocks={"in_use": 0.0 * ureg.kg})
    np.testing.assert_allclose(ds[RESIDUAL].values, 0.0, atol=1e-9)


def test_global_flows_balance_over_all_regions():
    system = ProcessSystem(
        "market",
        processes=["mining", "market", "use"],
        flows=[
            Flow("mined", "environment", "mining", ("time", "region")),
            Flow("exports", "mining", "market", ("time", "region")),
            Flow("supply", "market", "use", ("time",)),  # global: no region
            Flow("eol", "use", "environment", ("time",)),
        ],
        stocks=[Stock("stock", "use", ("time",))],
    )
    assert system.regional == {"mining": True, "market": False, "use": False}
    mined = np.tile([1.0, 2.0, 3.0], (len(YEARS), 1))
    values = {
        "mined": da(mined, ("time", "region"), "t/yr"),
        "exports": da(mined, ("time", "region"), "t/yr"),
        "supply": da(np.full(len(YEARS), 6.0), ("time",), "t/yr"),
        "eol": da(np.full(len(YEARS), 4.0), ("time",), "t/yr"),
        "stock": da(2.0 * np.arange(1, len(YEARS) + 1), ("time",), "t"),
    }
    ds = system.to_dataset(values)
    assert ds[RESIDUAL].dims == ("time", "process", "region")
    assert np.isnan(ds[RESIDUAL].sel(process="market").values).all()
    np.testing.assert_allclose(ds[RESIDUAL].sel(process="mining").values, 0.0)
    np.testing.assert_allclose(ds[RESIDUAL_TOTAL].values, 0.0)
    np.testing.assert_allclose(ds[THROUGHPUT_TOTAL].sel(process="market").values, 6.0)
    system.check_balance(ds)

    values["supply"] = da(np.r_[6.0, 6.0, 6.0, 5.5, 6.0, 6.0], ("time",), "t/yr")
    with pytest.raises(MassBalanceError) as info:
        system.check_balance(values)
    msg = str(info.value)
    # market keeps 0.5 of 6 t/yr, use is short 0.5 of 6 (4 out + 2 into stock): a tie,
    # the first process in declaration order is named
    assert "process 'market', year 2003, all regions" in msg
    assert "= 0.5 t/yr" in msg and "0.0833 of throughput 6 t/yr" in msg
    assert "1 other cell(s) also fail" in msg


def test_no_region_anywhere():
    system = ProcessSystem(
        "simple",
        processes=["a"],
        flows=[Flow("in", "environment", "a"), Flow("out", "a", "environment")],
    )
    one = xr.DataArray(np.ones(3), dims="time", coords={"time": [1, 2, 3]})
    ds = system.to_dataset(
        {"in": one.assign_attrs(units="t/yr"), "out": one.assign_attrs(units="t/yr")}
    )
    assert ds[RESIDUAL].dims == ("time", "process")
    system.check_balance(ds)


def test_units_are_converted():
    system = chain()
    values = chain_values()
    kt = {k: (v / 1000).assign_attrs(units="kt/yr") for k, v in values.items() if k != "in_use"}
    kt["in_use"] = (values["in_use"] * 1000).assign_attrs(units="kg")
    ds = system.to_dataset(kt)
    np.testing.assert_allclose(ds["mined"].values, values["mined"].values)
    np.testing.assert_allclose(ds["in_use"].values, values["in_use"].transpose(*ds["in_use"].dims))
    assert ds["mined"].attrs["units"] == "t/yr"
    np.testing.assert_allclose(ds[RESIDUAL].values, 0.0, atol=1e-9)
    # pint-backed data is accepted too: 1 kt/yr -> 1000 t/yr
    q = values["mined"].copy(data=ureg.Quantity(values["mined"].values / 1000, "kt/yr"))
    q.attrs = {}
    ds = system.to_dataset({**values, "mined": q})
    np.testing.assert_allclose(ds["mined"].values, values["mined"].values)


def test_wrong_units():
    values = chain_values()
    values["eol"] = values["eol"].assign_attrs(units="t")  # a mass, not a flow
    with pytest.raises(UnitError, match="flow 'eol'"):
        chain().to_dataset(values)
    values = chain_values()
    values["in_use"] = values["in_use"].assign_attrs(units="kg/yr")
    with pytest.raises(UnitError, match="stock 'in_use'"):
        chain().to_dataset(values)
    values = chain_values()
    del values["mined"].attrs["units"]
    with pytest.raises(UnitError, match="no units"):
        chain().to_dataset(values)


def test_missing_and_unknown_names():
    values = chain_values()
    del values["eol"]
    with pytest.raises(MfaError, match="no values for declared flow/stock\\(s\\) 'eol'"):
        chain().to_dataset(values)
    values = chain_values()
    values["eoll"] = values.pop("eol")
    with pytest.raises(MfaError, match=r"unknown flow/stock name\(s\) 'eoll'.*missing: eol"):
        chain().to_dataset(values)


def test_wrong_dims_and_coords():
    values = chain_values()
    values["products"] = values["products"].sum("product").assign_attrs(units="t/yr")
    with pytest.raises(MfaError, match="flow 'products' has dims \\('time', 'region'\\)"):
        chain().to_dataset(values)
    values = chain_values()
    values["eol"] = values["eol"].assign_coords(region=["China", "Japan", "India"])
    with pytest.raises(MfaError, match=r"coordinate 'region'.*differs from that of 'mined'"):
        chain().to_dataset(values)
    values = chain_values()
    values = {k: v.isel(time=[0, 1, 3]) for k, v in values.items()}
    with pytest.raises(MfaError, match="consecutive"):
        chain().to_dataset(values)
    values = chain_values()
    values["mined"] = values["mined"].drop_vars("region")
    with pytest.raises(MfaError, match="'region' has no coordinate labels"):
        chain().to_dataset(values)
    with pytest.raises(MfaError, match="mapping"):
        chain().to_dataset([1, 2])  # type: ignore[arg-type]
    values = chain_values()
    values["mined"] = values["mined"].values  # type: ignore[assignment]
    with pytest.raises(MfaError, match=r"must be an xarray\.DataArray"):
        chain().to_dataset(values)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"processes": ["a", "a"]}, "process declared twice: 'a'"),
        (
            {"flows": [Flow("f", "environment", "a"), Flow("f", "a", "environment")]},
            "flow/stock name used twice: 'f'",
        ),
        ({"flows": [Flow("f", "environment", "b")]}, "flow 'f' .* names unknown process 'b'"),
        ({"stocks": [Stock("s", "b")]}, "stock 's' is in unknown process 'b'"),
        ({"processes": ["a", "lonely"]}, "no flow enters or leaves process\\(es\\) lonely"),
        ({"flows": []}, "at least one flow"),
        ({"stocks": [Stock(RESIDUAL, "a")]}, "reserved"),
        ({"processes": "a"}, "sequences of names"),
    ],
)
def test_bad_declarations(kwargs, message):
    args = {
        "processes": ["a"],
        "flows": [Flow("in", "environment", "a"), Flow("out", "a", "environment")],
        "stocks": (),
    }
    args.update(kwargs)
    with pytest.raises(MfaError, match=message):
        ProcessSystem("bad", **args)


def test_bad_flow_and_stock_declarations():
    with pytest.raises(MfaError, match="must include 'time'"):
        Flow("f", "a", "b", ("region",))
    with pytest.raises(MfaError, match="source and target are both 'a'"):
        Flow("f", "a", "a")
    with pytest.raises(MfaError, match="repeated dim"):
        Stock("s", "a", ("time", "time"))
    with pytest.raises(MfaError, match="reserved"):
        Flow("f", "a", "b", ("time", "process"))
    with pytest.raises(MfaError, match="non-empty string"):
        Flow("", "a", "b")
    assert Flow("f", "a", "b", ["time", "region"]).dims == ("time", "region")  # type: ignore[arg-type]
    assert Flow("f", "a", "b", "time").dims == ("time",)  # type: ignore[arg-type]


def test_nan_residual_is_reported():
    values = chain_values()
    eol = values["eol"].copy()
    eol.loc[{"time": 2004, "region": "China", "product": "ev_bev"}] = np.nan
    values["eol"] = eol
    with pytest.raises(
        MassBalanceError, match=r"process 'use', year 2004, region 'China'.*NaN"
    ) as info:
        chain().check_balance(values)
    assert "other cell" not in str(info.value)  # NaN does not spread to other processes


def test_describe_and_graph():
    system = chain()
    text = system.describe()
    assert "Process system 'chain': 3 processes, 5 flows, 1 stocks" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("use "))
    assert "products (<- manufacturing)" in line and "eol (-> environment)" in line
    assert "in_use" in line and "by region" in line
    assert any(ln.startswith("environment (boundary)") for ln in text.splitlines())
    assert system.to_graph()[0] == ("environment", "mining", "mined")
    assert len(system.to_graph()) == 5
    assert "3 processes" in repr(system)


def test_boundary_listed_as_process_is_not_balanced():
    system = ProcessSystem(
        "s",
        processes=["environment", "a"],
        flows=[Flow("in", "environment", "a"), Flow("out", "a", "environment")],
    )
    assert system.processes == ("a",)


def test_large_system_is_vectorised():
    """50 regions x 20 products x 201 years: one call, quick, exact."""
    years = np.arange(1900, 2101)
    regions = [f"r{i}" for i in range(50)]
    products = [f"p{i}" for i in range(20)]
    rng = np.random.default_rng(0)
    inflow = rng.uniform(0, 1, (201, 50, 20))
    out = 0.5 * inflow
    coords = {"time": years, "region": regions, "product": products}
    dims = ("time", "region", "product")
    system = ProcessSystem(
        "big",
        ["use"],
        [Flow("i", "environment", "use", dims), Flow("o", "use", "environment", dims)],
        [Stock("s", "use", dims)],
    )
    ds = system.to_dataset(
        {
            "i": xr.DataArray(inflow, coords, dims, attrs={"units": "t/yr"}),
            "o": xr.DataArray(out, coords, dims, attrs={"units": "t/yr"}),
            "s": xr.DataArray(np.cumsum(inflow - out, 0), coords, dims, attrs={"units": "t"}),
        }
    )
    system.check_balance(ds)
    assert ds[RESIDUAL].shape == (201, 1, 50)


def test_kept_dim_is_checked_per_label():
    """With kept_dims=("sample",) a leak in one sample is found and named, not summed away."""
    system = ProcessSystem(
        "mc", processes=["use"],
        flows=[Flow("inflow", "environment", "use", ("time", "sample")),
               Flow("outflow", "use", "environment", ("time", "sample"))],
        kept_dims=("sample",),
    )
    coords = {"time": [2000, 2001], "sample": [0, 1, 2]}
    inflow = xr.DataArray(np.ones((2, 3)), coords=coords, dims=("time", "sample"),
                          attrs={"units": "t/yr"})
    outflow = inflow.copy()
    outflow[1, 1] = 0.5   # sample 1 leaks in 2001 ...
    outflow[1, 2] = 1.5   # ... and sample 2 has the opposite gap: a sum would cancel them
    ds = system.to_dataset({"inflow": inflow, "outflow": outflow})
    assert ds["mass_balance_residual"].dims == ("time", "process", "sample")
    with pytest.raises(MassBalanceError, match=r"process 'use', year 2001, all regions, sample [12]"):
        system.check_balance(ds)


def test_kept_dim_must_be_on_every_flow():
    with pytest.raises(MfaError, match="lacks kept dim"):
        ProcessSystem("x", ["use"], [Flow("a", "environment", "use", ("time",))],
                      kept_dims=("sample",))


# --------------------------------------------------------------------------------------------
# Negative flows (issue 8) and the tolerance of pooled processes (issue 8, item 13)
# --------------------------------------------------------------------------------------------
def traded() -> ProcessSystem:
    """mining -> use by region; each region's net export goes to a pooled trade process."""
    dims = ("time", "region", "sample")
    return ProcessSystem(
        "traded",
        processes=["mining", "use", "trade"],
        flows=[
            Flow("mined", "environment", "mining", dims),
            Flow("local", "mining", "use", dims),  # what region r uses, wherever mined
            Flow("net_export", "mining", "trade", dims, signed=True),
            Flow("losses", "use", "environment", dims),
        ],
        pooled=("trade",),
        kept_dims=("sample",),
    )


def traded_values(scale: float = 1.0, n_sample: int = 2) -> dict[str, xr.DataArray]:
    """China mines for all (100), Japan uses 30 and Europe 60: net exports +90, -30, -60."""
    use = np.array([10.0, 30.0, 60.0])[None, :, None] * np.ones((len(YEARS), 1, n_sample))
    use = use * scale
    mined = np.zeros_like(use)
    mined[:, 0] = use.sum(axis=1)
    coords = {"time": YEARS, "region": REGIONS, "sample": np.arange(n_sample)}

    def arr(x):
        return xr.DataArray(x, coords=coords, dims=("time", "region", "sample"),
                            attrs={"units": "t/yr"})

    return {"mined": arr(mined), "local": arr(use), "net_export": arr(mined - use),
            "losses": arr(use)}


def _shift(values, name, cell, amount):
    values[name] = values[name].copy()
    values[name][cell] += amount


def test_pooled_process_has_the_gross_throughput():
    system = traded()
    ds = system.to_dataset(traded_values())
    system.check_balance(ds)
    # trade: China exports 90 t/yr, Japan and Europe import 30 + 60: the gross trade is
    # 90 t/yr, not the net sum 0
    np.testing.assert_allclose(ds[THROUGHPUT_TOTAL].sel(process="trade").values, 90.0)
    np.testing.assert_allclose(ds[RESIDUAL_TOTAL].sel(process="trade").values, 0.0)
    # Japan mines nothing but passes 30 t/yr of imports on: its throughput counts them
    np.testing.assert_allclose(ds[THROUGHPUT].sel(process="mining", region="Japan").values, 30.0)
    np.testing.assert_allclose(ds[THROUGHPUT].sel(process="mining", region="China").values, 100.0)


def test_pooled_process_tolerance_is_relative_to_gross_flows():
    """A gap far above atol but below 1e-9 of the gross trade passes; a real gap fails and is
    reported against the gross trade."""
    system = traded()
    values = traded_values(scale=1e7)  # gross trade 9e8 t/yr
    _shift(values, "mined", (2, 1, 0), 0.4)  # Japan mines 0.4 t/yr more and exports it ...
    _shift(values, "net_export", (2, 1, 0), 0.4)  # ... but no one imports it: 4.4e-10 of 9e8
    system.check_balance(values)  # failed before: throughput 0.4 t/yr, atol 1e-6 t/yr
    _shift(values, "mined", (3, 2, 1), 5.0)
    _shift(values, "net_export", (3, 2, 1), 5.0)
    with pytest.raises(MassBalanceError) as info:
        system.check_balance(values)
    msg = str(info.value)
    assert "process 'trade', year 2003, all regions, sample 1: inputs - outputs - stock " \
           "change = 5 t/yr (more in than out; 5.56e-09 of throughput 9e+08 t/yr)" in msg


def test_negative_flow_is_rejected_naming_flow_year_region_sample():
    """Japan 'mines' -7.5 t/yr and China 7.5 more: every process balances, a flow is < 0."""
    system = traded()
    values = traded_values()
    _shift(values, "mined", (4, 1, 1), -7.5)
    _shift(values, "net_export", (4, 1, 1), -7.5)
    _shift(values, "mined", (4, 0, 1), 7.5)
    _shift(values, "net_export", (4, 0, 1), 7.5)
    ds = system.to_dataset(values)  # building the dataset is fine, and it balances
    assert float(abs(ds[RESIDUAL_TOTAL]).max()) < 1e-12
    with pytest.raises(MassBalanceError) as info:
        system.check_balance(values)
    assert str(info.value) == (
        "system 'traded': flow 'mined' (environment -> mining) is negative in year 2004, region "
        "'Japan', sample 1: -7.5 t/yr; flows must be >= 0 (tolerance rtol=1e-09 of throughput, "
        "atol=1e-06 t/yr; only flows declared signed may be negative)")


def test_negative_flow_within_rounding_passes_and_signed_flows_are_exempt():
    system = traded()
    values = traded_values()
    _shift(values, "mined", (0, 1, 0), -1e-12)  # rounding of a zero flow
    _shift(values, "net_export", (0, 1, 0), -1e-12)
    system.check_balance(values)
    # the net exports of two regions of three are negative, and signed: no error
    assert float(values["net_export"].min()) == -60.0
    system.check_balance(system.to_dataset(traded_values()))


def test_negative_flow_with_other_dims_names_the_label():
    values = chain_values()
    eol = values["eol"].copy()
    eol.loc[{"time": 2002, "region": "China", "product": "wind_onshore"}] *= -1
    values["eol"] = eol
    stock = values["in_use"].copy()  # keep the balance: the stock takes what eol gave back
    diff = 2 * values["eol"].sel(time=2002, region="China", product="wind_onshore")
    stock.loc[{"time": slice(2002, None), "region": "China", "product": "wind_onshore"}] -= diff
    values["in_use"] = stock
    with pytest.raises(MassBalanceError,
                       match=r"flow 'eol' \(use -> environment\) is negative in year 2002, "
                             r"region 'China', product wind_onshore: -\d"):
        chain().check_balance(values)


def test_signed_must_be_a_bool():
    with pytest.raises(MfaError, match="signed must be True or False"):
        Flow("f", "a", "b", signed="yes")  # type: ignore[arg-type]
    assert Flow("f", "a", "b", signed=True).signed and not Flow("f", "a", "b").signed


# ------------------------------------------------------------------------------------------
# Generic place dim and kept-dim broadcasting (issue 9: no dim name special-cased)
# ------------------------------------------------------------------------------------------
def _two_country_values(leak: float = 0.0, sample: bool = False):
    c = {"time": [2000, 2001], "country": ["A", "B"]}
    inflow = xr.DataArray([[2.0, 1.0], [2.0, 1.0]], coords=c, dims=("time", "country"),
                          attrs={"units": "t/yr"})
    out = (inflow - xr.DataArray([[0.0, leak], [0.0, 0.0]], coords=c, dims=("time", "country"))
           ).assign_attrs(units="t/yr")
    if sample:
        out = (out * xr.DataArray([1.0, 1.0, 1.0], coords={"sample": [0, 1, 2]}, dims="sample")
               ).assign_attrs(units="t/yr")
    return {"in": inflow, "out": out}


def _country_system(region_dim, kept=()):
    dims = ("time", "country", *kept)
    return ProcessSystem("countries", ["plant"],
                         [Flow("in", "environment", "plant", dims),
                          Flow("out", "plant", "environment", dims)],
                         region_dim=region_dim, kept_dims=kept)


def test_place_dim_is_a_parameter():
    system = _country_system("country")
    assert system.regional == {"plant": True}
    ds = system.to_dataset(_two_country_values())
    assert ds["mass_balance_residual"].dims == ("time", "process", "country")
    with pytest.raises(MassBalanceError, match=r"process 'plant', year 2000, country 'B':"):
        system.check_balance(_two_country_values(leak=0.5))


def test_without_place_dim_processes_balance_in_total():
    system = _country_system(None)
    assert system.regional == {"plant": False}
    with pytest.raises(MassBalanceError, match=r"process 'plant', year 2000, whole system:"):
        system.check_balance(_two_country_values(leak=0.5))


def test_kept_dims_are_broadcast_by_the_system():
    system = _country_system("country", kept=("sample",))
    values = _two_country_values(sample=True)  # `in` has no sample dim: same in every sample
    ds = system.to_dataset(values)
    assert ds["in"].dims == ("time", "country", "sample")
    np.testing.assert_array_equal(ds["in"].isel(sample=2).values, values["in"].values)
    system.check_balance(ds)
    with pytest.raises(MassBalanceError, match=r"country 'B', sample \d"):
        system.check_balance(_two_country_values(leak=0.5, sample=True))


def test_bad_place_dim_is_refused():
    with pytest.raises(MfaError, match="region_dim must be a dim name or None"):
        _country_system("")


def test_results_dataset_is_built_without_aligning_but_refuses_differing_coords():
    """The Dataset of to_dataset is built from variables (no alignment); a coordinate that
    still differs between two arrays is an error naming it, not a silent pick."""
    from mfa.core.system import _values

    t = {"time": [2020, 2021]}
    a = xr.DataArray([1.0, 2.0], dims="time", coords={**t, "stage": "mining"})
    b = xr.DataArray([3.0, 4.0], dims="time", coords={**t, "stage": "mining"})
    ds = _values.dataset({"a": a, "b": b})
    assert list(ds.data_vars) == ["a", "b"] and ds["stage"].item() == "mining"
    np.testing.assert_array_equal(ds["b"].values, [3.0, 4.0])
    c = b.assign_coords(stage="metal")
    with pytest.raises(MfaError, match="'c': coordinate 'stage' differs"):
        _values.dataset({"a": a, "c": c})
