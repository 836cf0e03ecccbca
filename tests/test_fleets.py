"""Stock-driven EV car fleets and wind capacity (issue 11 item 1): mfa.models.neodymium.fleets."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from mfa.core.lifetimes import Normal
from mfa.core.stocks import inflow_driven_array
from mfa.models.neodymium.fleets import fleet_flows
from mfa.models.neodymium.simulation import nd_in_new_products, simulate
from tests.nd_values import make_values

YEARS = np.arange(1950, 2051)


def _lifetime(mean=17.0, sd=4.0, dims=("product",), products=("ev_bev", "ev_phev")):
    def da(v):
        return xr.DataArray(np.full(len(products), v), dims=dims,
                            coords={"product": list(products)}, attrs={"units": "yr"})
    return da(mean), da(sd)


def _stock(values, products=("ev_bev", "ev_phev"), years=YEARS):
    values = np.broadcast_to(np.asarray(values, float)[:, None], (len(years), len(products)))
    return xr.DataArray(values.copy(), dims=("time", "product"),
                        coords={"time": years, "product": list(products)})


def test_constant_stock_in_steady_state_sells_stock_over_lifetime():
    """Analytic: a constant stock S with lifetime L (normal, sd << L) needs S / L a year once
    the first cohorts have gone (steady state), and retirements equal sales."""
    mean, sd = _lifetime(17.0, 4.0)
    years = np.arange(1800, 2051)  # the first cohorts' echo dies out over a few lifetimes
    out = fleet_flows(_stock(np.full(len(years), 1e6), years=years), mean, sd)
    late = dict(time=slice(2030, 2050))
    np.testing.assert_allclose(out["inflow"].sel(late), 1e6 / 17.0, rtol=2e-3)
    np.testing.assert_allclose(out["retirements"].sel(late), out["inflow"].sel(late), rtol=2e-3)
    np.testing.assert_allclose(out["stock"], 1e6, rtol=1e-12)


def test_round_trip_sales_rebuild_the_input_fleet():
    """The sales derived from a fleet, put through the inflow-driven model with the same
    lifetime, give the fleet back (a growing and then falling-growth stock)."""
    mean, sd = _lifetime(15.0, 5.0)
    fleet = 1e7 / (1 + np.exp(-(YEARS - 2030) / 6.0))
    out = fleet_flows(_stock(fleet), mean, sd)
    surv = Normal(mean=mean, sd=sd).survival(len(YEARS)).values
    stock, outflow = inflow_driven_array(out["inflow"].transpose("product", "time").values, surv)
    np.testing.assert_allclose(stock.T, _stock(fleet).values, rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(outflow.T, out["retirements"].values, rtol=1e-9, atol=1e-3)
    # sales = change of stock + retirements, every year
    np.testing.assert_allclose(out["inflow"][1:], np.diff(out["stock"], axis=0)
                               + out["retirements"][1:], rtol=1e-9, atol=1e-3)


def test_observed_sales_are_kept_and_the_switch_year_does_not_jump():
    """Inflow-driven through the last observed year: the observed sales come back exactly.
    After it, sales follow the fleet's change (plus retirements), not the gap between the
    fleet data and the stock the observed sales built: here the fleet data lie 20 % above
    that stock, and the first stock-driven year still sells what the fleet's growth needs."""
    mean, sd = _lifetime(17.0, 4.0)
    sales = np.where(YEARS <= 2024, 100.0 * np.maximum(YEARS - 2009, 0) ** 2, np.nan)
    observed = _stock(np.nan_to_num(sales))
    surv = Normal(mean=mean, sd=sd).survival(len(YEARS)).values
    built, _ = inflow_driven_array(observed.transpose("product", "time").values, surv)
    built = built.T
    growth = 3e5  # vehicles a year after 2024
    fleet = np.where(YEARS[:, None] <= 2024, 1.2 * built,
                     1.2 * built[YEARS == 2024] + growth * (YEARS[:, None] - 2024))
    fleet = _stock(fleet[:, 0])
    out = fleet_flows(fleet, mean, sd, observed_inflow=observed, observed_until=2024)
    np.testing.assert_allclose(out["inflow"].sel(time=slice(None, 2024)),
                               observed.sel(time=slice(None, 2024)), rtol=1e-9, atol=1e-6)
    s2024, s2025 = (float(out["inflow"].sel(time=y, product="ev_bev")) for y in (2024, 2025))
    ret2025 = float(out["retirements"].sel(time=2025, product="ev_bev"))
    assert s2025 == pytest.approx(growth + ret2025, rel=1e-9)
    assert s2024 == pytest.approx(22500.0)  # 100 x 15^2
    assert abs(s2025 - s2024) < growth  # no catch-up of the 20 % gap (that would be ~7e4 + ...)
    # the stock reached is the fleet plus the constant switch-year offset
    offset = float(out["stock"].sel(time=2024, product="ev_bev") - fleet.sel(time=2024, product="ev_bev"))
    np.testing.assert_allclose(out["stock"].sel(time=slice(2025, None)),
                               fleet.sel(time=slice(2025, None)) + offset, rtol=1e-9)


def test_falling_fleet_clips_sales_at_zero_and_keeps_the_stock_above_target():
    """Negative implied sales (a stock falling faster than it retires): policy 'clip'."""
    mean, sd = _lifetime(17.0, 4.0)
    fleet = np.where(YEARS < 2030, 1e6, 2e5)
    out = fleet_flows(_stock(fleet), mean, sd)
    assert float(out["inflow"].min()) >= 0
    assert float(out["inflow"].sel(time=2030).max()) == 0
    assert bool((out["stock"].sel(time=2030) > 2e5).all())
    np.testing.assert_allclose(out["inflow"][1:], np.diff(out["stock"], axis=0)
                               + out["retirements"][1:], rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_equals_the_core_stock_driven_model_with_clip(seed):
    """The forward substitution equals mfa.core.stocks.stock_driven_array(negative_inflow="clip")
    on stocks that rise and fall (clipped years included)."""
    from mfa.core.stocks import stock_driven_array

    rng = np.random.default_rng(seed)
    mean, sd = _lifetime(12.0, 4.0)
    walk = np.cumsum(rng.normal(0.0, 1.0, (len(YEARS), 2)), axis=0)
    fleet = _stock(np.zeros(len(YEARS))).copy(data=1e5 * np.abs(walk) + 1e3)
    out = fleet_flows(fleet, mean, sd)
    surv = Normal(mean=mean, sd=sd).survival(len(YEARS)).values
    inflow, outflow, stock = stock_driven_array(fleet.values.T, surv, negative_inflow="clip")
    assert (inflow == 0).any()  # some years clipped
    np.testing.assert_allclose(out["inflow"].values, inflow.T, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(out["retirements"].values, outflow.T, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(out["stock"].values, stock.T, rtol=1e-9, atol=1e-6)


def test_run_path_does_not_import_scipy():
    """The stock-driven fleets keep scipy.linalg (BLAS triangular solve) out of `mfa run`."""
    import subprocess
    import sys

    code = ("import sys; from mfa.models.neodymium.simulation import simulate; "
            "from tests.nd_values import make_values; simulate(make_values()); "
            "print([m for m in ('scipy.linalg', 'scipy.stats') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sample_dim_broadcasts():
    """Monte Carlo: a sample dim on the fleet and on the lifetime broadcasts, each sample the
    same as its own deterministic run."""
    mean, sd = _lifetime(17.0, 4.0)
    means = xr.concat([mean, mean * 0 + 12.0], dim="sample").assign_attrs(units="yr")
    sds = xr.concat([sd, sd * 0 + 3.0], dim="sample").assign_attrs(units="yr")
    fleet = xr.concat([_stock(np.linspace(0, 1e6, len(YEARS))),
                       _stock(np.linspace(0, 2e6, len(YEARS)))], dim="sample")
    out = fleet_flows(fleet, means, sds)  # both lifetime parameters sampled
    assert out["inflow"].sizes["sample"] == 2
    one = fleet_flows(fleet.isel(sample=1), means.isel(sample=1).assign_attrs(units="yr"),
                      sds.isel(sample=1).assign_attrs(units="yr"))
    np.testing.assert_allclose(out["inflow"].isel(sample=1).transpose(*one["inflow"].dims),
                               one["inflow"], rtol=1e-12)


def test_bad_fleet_values_are_clear_errors():
    from mfa.core.errors import ParameterError

    mean, sd = _lifetime()
    fleet = _stock(np.full(len(YEARS), 1e6))
    fleet[5, 1] = np.nan
    with pytest.raises(ParameterError, match=r"fleets: stock is NaN or negative at "
                                             r"product='ev_phev', time=1955: nan"):
        fleet_flows(fleet, mean, sd)


@pytest.mark.parametrize(("name", "unit", "message"), [
    ("ev_fleet", "vehicle/yr", r"parameter 'ev_fleet'.*'vehicle'"),
    ("wind_capacity", "MW/yr", r"parameter 'wind_capacity'.*'MW'"),
    ("wind_capacity", "t", r"parameter 'wind_capacity'.*'MW'"),
])
def test_fleet_unit_errors(name, unit, message):
    from mfa.core.units import UnitError

    v = make_values()
    v[name] = v[name].assign_attrs(units=unit)
    with pytest.raises(UnitError, match=message):
        simulate(v)


def test_fleet_in_other_units_gives_the_same_result():
    v = make_values()
    w = v.copy()
    w["wind_capacity"] = (v["wind_capacity"] / 1000).assign_attrs(units="GW")
    w["ev_fleet"] = (v["ev_fleet"] / 1000).assign_attrs(units="kilovehicle")
    xr.testing.assert_allclose(nd_in_new_products(v), nd_in_new_products(w))


def test_a_larger_fleet_after_2024_raises_demand_only_after_2024():
    """A scenario that overrides a fleet trajectory changes demand (at run time)."""
    v = make_values()
    w = v.copy()
    w["ev_fleet"] = v["ev_fleet"] * xr.where(v["time"] >= 2026, 1.5, 1.0)
    w["ev_fleet"].attrs = v["ev_fleet"].attrs
    w["wind_capacity"] = v["wind_capacity"] * xr.where(v["time"] >= 2028, 2.0, 1.0)
    w["wind_capacity"].attrs = v["wind_capacity"].attrs
    a, b = simulate(v), simulate(w)
    d = (b["nd_in_new_products"] - a["nd_in_new_products"]).sum("region")
    assert float(abs(d.sel(time=slice(None, 2025))).max()) < 1e-9
    assert float(d.sel(time=2026, product="ev_bev")) > 0
    assert float(d.sel(time=2028, product="wind_onshore")) > 0
    # the fleet results show it: 1.5 x the fleet is on the road from 2026
    ratio = b["ev_car_stock"].sel(time=2030) / a["ev_car_stock"].sel(time=2030)
    np.testing.assert_allclose(ratio, 1.5, rtol=0.02)


def test_scenario_file_fleet_override_changes_demand(tmp_path):
    from mfa.data.params import load_parameters
    from mfa.data.scenarios import apply_scenario, load_scenario

    ps = load_parameters()
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "more-wind.toml").write_text(
        'name = "more-wind"\n[[override]]\nparameter = "wind_capacity"\nregion = "Europe"\n'
        'product = "wind_offshore"\nunit = "GW"\ntrajectory = { 2024 = 43.4068, 2050 = 600 }\n')
    scen = apply_scenario(ps, load_scenario("more-wind", tmp_path))
    a, b = simulate(ps.values), simulate(scen.values)
    cap = b["wind_capacity_installed"].sel(time=2050, region="Europe", wind_type="wind_offshore")
    assert float(cap) == pytest.approx(600e3, rel=1e-6)
    da = a["nd_in_new_products"].sel(region="Europe", product="wind_offshore", time=2040)
    db = b["nd_in_new_products"].sel(region="Europe", product="wind_offshore", time=2040)
    assert float(db) > 1.5 * float(da)


def test_mc_sample_dim_through_simulate():
    v = make_values()
    mean = xr.concat([v["lifetime_mean"], v["lifetime_mean"] + 3], dim="sample")
    v["lifetime_mean"] = mean.assign_attrs(units="yr")
    r = simulate(v)
    assert r["ev_car_sales"].sizes["sample"] == 2
    assert r["wind_gross_additions"].sizes["sample"] == 2
    # the same fleet with longer lives needs fewer sales
    s = r["wind_gross_additions"].sel(time=2030).sum(["region", "wind_type"])
    assert float(s.isel(sample=1)) < float(s.isel(sample=0))


def test_fleet_results_have_units_long_names_and_iamc_names():
    from mfa.io import to_iamc

    r = simulate(make_values())
    assert r["ev_car_stock"].attrs["units"] == "1"  # a count (CF: no vehicle unit)
    assert "number of vehicles" in r["ev_car_stock"].attrs["long_name"]
    assert r["wind_gross_additions"].attrs["units"] == "MW/yr"
    assert r["wind_retirements"].dims == ("time", "region", "wind_type")
    assert "repowering" in r["wind_gross_additions"].attrs["long_name"]
    r.attrs.update(material="Nd", model="nd-mfa", scenario="test")
    table = to_iamc(r, variables=["ev_car_stock", "wind_capacity_installed"])
    names = set(table["Variable"])
    assert "Nd|Driver|Stock|Transportation|LDV|Electric|ev_bev" in names
    assert "Nd|Driver|Capacity|Electricity|Wind" in names  # parent, sum of the types
    world = table[(table["Region"] == "World")
                  & (table["Variable"] == "Nd|Driver|Capacity|Electricity|Wind")]
    assert float(world[2030].iloc[0]) == pytest.approx(
        float(r["wind_capacity_installed"].sel(time=2030).sum()))


def test_default_data_no_jump_at_the_switch_and_sources_match():
    """Default data: 2024 sales are IEA's (17.3 M electric cars, GEVO 2025 data, to its
    rounding) and 2025 sales from the fleet stay within what the data show; wind capacity meets IRENA/GWEC in 2024 (1,136 GW GWEC) and the 2050 WEO STEPS
    capacity (4,310 GW)."""
    from mfa.data.params import load_parameters

    r = simulate(load_parameters().values)
    sales = r["ev_car_sales"].sum(["region", "vehicle_type"])
    assert float(sales.sel(time=2024)) == pytest.approx(17.5e6, rel=0.03)
    assert 0.9 < float(sales.sel(time=2025)) / float(sales.sel(time=2024)) < 1.3
    # and in each big market (IEA 2024 -> 2025 growth: China and Europe +20-30 %): the fleet
    # between data years starts with the observed 2024 stock change, so 2025 continues 2024
    by_region = r["ev_car_sales"].sum("vehicle_type")
    for region in ("China", "Europe", "North America"):
        ratio = float(by_region.sel(time=2025, region=region) / by_region.sel(time=2024, region=region))
        assert 0.9 < ratio < 1.35, (region, ratio)
    cap = r["wind_capacity_installed"].sum(["region", "wind_type"])
    assert float(cap.sel(time=2024)) == pytest.approx(1_136e3, rel=0.01)
    assert float(cap.sel(time=2050)) == pytest.approx(4_310e3, rel=0.001)
    add = r["wind_gross_additions"].sum(["region", "wind_type"])
    ret = r["wind_retirements"].sum(["region", "wind_type"])
    np.testing.assert_allclose(add.sel(time=slice(1981, None)),
                               cap.diff("time") + ret.sel(time=slice(1981, None)), rtol=1e-9)


def _forward_every_cohort(target, surv, observed):
    """The forward substitution summing over every earlier cohort (the loop before the
    leading zero cohorts were skipped)."""
    shape = np.broadcast_shapes(target.shape, surv.shape)
    T = shape[-1]
    tgt = np.moveaxis(np.broadcast_to(target, shape), -1, 0)
    rev = np.ascontiguousarray(np.moveaxis(surv[..., :T], -1, 0)[::-1])
    s0, k = rev[T - 1], 0 if observed is None else observed.shape[-1]
    noise = 1e-12 * np.max(np.abs(tgt), axis=0)
    x, stock, offset = np.zeros((T, *shape[:-1])), np.zeros((T, *shape[:-1])), 0.0
    for t in range(T):
        left = (x[:t] * rev[T - 1 - t:T - 1]).sum(axis=0) if t else 0.0
        if t < k:
            x[t] = np.moveaxis(np.broadcast_to(observed, (*shape[:-1], k)), -1, 0)[t]
        else:
            if t == k and k:
                offset = stock[k - 1] - tgt[k - 1]
            need = np.maximum(tgt[t] + offset, 0.0) - left
            x[t] = np.where(need > noise, need, 0.0) / s0
        stock[t] = left + x[t] * s0
    return np.moveaxis(x, 0, -1), np.moveaxis(stock, 0, -1)


@pytest.mark.parametrize("seed", range(6))
def test_skipping_leading_zero_cohorts_changes_no_bit(seed):
    from mfa.models.neodymium.fleets import _forward

    rng = np.random.default_rng(seed)
    T, lead, k = 40, 12, 20
    for m in (1, 2, 30):
        target = np.cumsum(rng.random((m, T)), axis=1)
        target[:, :lead] = 0.0
        surv = Normal(mean=float(rng.uniform(8, 20)), sd=3.0).survival(T).values[None]
        observed = rng.random((m, k)) * (rng.random((m, k)) > 0.4)
        observed[:, :lead] = 0.0
        cases = [(target, surv, None), (target, surv, observed)]
        nan_surv = surv.copy()
        nan_surv[0, -1] = np.nan  # 0 x NaN is NaN: no cohort may be skipped
        cases.append((target, nan_surv, observed))
        for tgt, s, obs in cases:
            for got, want in zip(_forward(tgt, s, obs), _forward_every_cohort(tgt, s, obs),
                                 strict=True):
                np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
