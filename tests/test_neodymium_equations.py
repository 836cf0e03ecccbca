"""The Nd model's equations on a small hand-checkable parameter set (no data files)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from mfa.core.errors import MassBalanceError
from mfa.models.neodymium import FLOWS, RESULT_VARIABLES, simulate
from tests.nd_values import make_values


@pytest.fixture(scope="module")
def values():
    return make_values()


@pytest.fixture(scope="module")
def res(values):
    return simulate(values)


def test_nd_in_new_products_by_hand(res):
    new = res["nd_in_new_products"].isel(time=0)
    # 1000 vehicles/yr x 0.9 PM x 2 kg/vehicle x 0.25 Nd = 450 kg = 0.45 t/yr per region
    np.testing.assert_allclose(new.sel(product="ev_bev"), 0.45, rtol=1e-12)
    # 10 MW/yr x 0.25 PM x 600 kg/MW x 0.25 = 375 kg = 0.375 t/yr
    np.testing.assert_allclose(new.sel(product="wind_offshore"), 0.375, rtol=1e-12)
    # 6 t/yr world spread over 6 regions
    np.testing.assert_allclose(new.sel(product="electronics"), 1.0, rtol=1e-12)
    assert res["nd_in_new_products"].attrs["units"] == "t/yr"


def test_chain_by_hand_first_year(res):
    """First year: no end-of-life flow yet except what the lifetimes release in year one."""
    r = res.isel(time=0)
    new = r["nd_in_new_products"]
    magnets = float(new.drop_sel(product="non_magnet").sum())
    non_magnet = float(new.sel(product="non_magnet").sum())
    alloy = magnets / 0.75
    demand = alloy / 0.8 + non_magnet
    np.testing.assert_allclose(float(r["total_demand"]), demand, rtol=1e-12)
    new_scrap_rec = alloy * 0.25 * 0.5 * 0.9
    eol_rec = float((r["eol_outflow"] * 0.1 * 0.8).sum())
    np.testing.assert_allclose(float(r["secondary_supply"].sel(source="new_scrap")), new_scrap_rec,
                               rtol=1e-12)
    np.testing.assert_allclose(float(r["secondary_supply"].sel(source="end_of_life")), eol_rec,
                               rtol=1e-12)
    mined = (demand - new_scrap_rec - eol_rec) / 0.9 / 0.6
    np.testing.assert_allclose(float(r["primary_demand"].sum()), mined, rtol=1e-12)
    np.testing.assert_allclose(float(r["primary_demand"].sel(region="China")), 0.5 * mined, rtol=1e-12)
    no_rec = demand / 0.9 / 0.6
    np.testing.assert_allclose(float(r["primary_demand_no_recycling"]), no_rec, rtol=1e-12)
    np.testing.assert_allclose(float(r["primary_demand_avoided"]), no_rec - mined, rtol=1e-12)
    np.testing.assert_allclose(float(r["recycling_input_rate"]),
                               (new_scrap_rec + eol_rec) / demand, rtol=1e-12)


def test_stock_is_cumulative_inflow_minus_outflow(res):
    stock = res["in_use_stock"]
    expected = (res["nd_in_new_products"] - res["eol_outflow"]).cumsum("time")
    np.testing.assert_allclose(stock, expected, rtol=1e-9, atol=1e-12)


def test_mass_balance_holds_everywhere(res):
    assert res.attrs["max_abs_mass_balance_residual"] < 1e-9
    assert float(abs(res["mass_balance_residual_total"]).max()) < 1e-9
    assert set(res["mass_balance_residual"]["process"].values) >= {
        "mining", "separation", "metal", "magnet", "manufacturing", "use", "collection",
        "recycling", "trade"}


def test_every_variable_has_units(res):
    for name in list(RESULT_VARIABLES) + list(FLOWS):
        assert "units" in res[name].attrs, name
    assert res["time"].dtype.kind == "i"


def test_indicators(res):
    share = res["production_share"]
    np.testing.assert_allclose(share.sum("region"), 1.0, rtol=1e-12)
    # shares 0.5 + 5 x 0.1 -> HHI 0.25 + 5 x 0.01 = 0.30 for stages without secondary input
    np.testing.assert_allclose(res["hhi"].sel(stage="mining"), 0.30, rtol=1e-12)
    ir = res["import_reliance"]
    assert float(ir.min()) >= 0.0 and float(ir.max()) <= 1.0
    # China mines and refines 50% and uses 1/6 of the products: it imports no mining product
    assert float(ir.sel(region="China", stage="mining").max()) == 0.0


def test_no_recycling_means_nothing_avoided(values):
    zero = xr.zeros_like(values["collection_rate"])
    zero.attrs = {"units": "1"}
    v = values.copy()
    v["collection_rate"] = zero
    v["new_scrap_recycling_rate"] = xr.zeros_like(values["new_scrap_recycling_rate"]).assign_attrs(units="1")
    r = simulate(v)
    np.testing.assert_allclose(r["primary_demand_avoided"], 0.0, atol=1e-12)
    np.testing.assert_allclose(r["secondary_supply"], 0.0, atol=1e-12)


def test_leak_in_a_flow_is_caught(values, monkeypatch):
    import mfa.models.neodymium as nd

    original = nd._chain

    def leaky(*args, **kwargs):
        out = original(*args, **kwargs)
        f = out["flows"]["flow_metal_losses"]
        out["flows"]["flow_metal_losses"] = f.where(
            ~((f["time"] == 2010) & (f["region"] == "Japan")), f * 0.5)
        return out

    monkeypatch.setattr(nd, "_chain", leaky)
    with pytest.raises(MassBalanceError, match=r"process 'metal', year 2010, region 'Japan'.* t/yr"):
        nd.simulate(values)


def test_units_of_parameters_are_used(values):
    """kg/vehicle given as g/vehicle (x1000 numbers) gives the same result."""
    v = values.copy()
    v["magnet_per_vehicle"] = (values["magnet_per_vehicle"] * 1000).assign_attrs(units="g/vehicle")
    r1 = simulate(values)
    r2 = simulate(v)
    np.testing.assert_allclose(r1["nd_in_new_products"], r2["nd_in_new_products"], rtol=1e-12)


def test_wrong_unit_is_an_error(values):
    from mfa.core.units import UnitError

    v = values.copy()
    v["magnet_per_vehicle"] = values["magnet_per_vehicle"].assign_attrs(units="kg/MW")
    with pytest.raises(UnitError, match="magnet_per_vehicle"):
        simulate(v)


def test_sample_dimension_broadcasts(values):
    v = values.copy()
    v["magnet_per_vehicle"] = xr.concat(
        [values["magnet_per_vehicle"], values["magnet_per_vehicle"] * 2], dim="sample"
    ).assign_attrs(units="kg/vehicle")
    r = simulate(v)
    assert r.sizes["sample"] == 2
    ev = r["nd_in_new_products"].sel(product="ev_bev")
    np.testing.assert_allclose(ev.isel(sample=1), 2 * ev.isel(sample=0), rtol=1e-12)
    single = simulate(values)
    np.testing.assert_allclose(r["primary_demand"].isel(sample=0).transpose(*single["primary_demand"].dims),
                               single["primary_demand"], rtol=1e-12)
