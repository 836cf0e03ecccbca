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
    primary = demand - new_scrap_rec - eol_rec          # separated oxide from ore
    mined = primary / 0.9 / 0.6
    np.testing.assert_allclose(float(r["primary_demand"].sum()), primary, rtol=1e-12)
    np.testing.assert_allclose(float(r["primary_demand"].sel(region="China")), 0.5 * primary,
                               rtol=1e-12)
    np.testing.assert_allclose(float(r["primary_demand_ore"].sum()), mined, rtol=1e-12)
    np.testing.assert_allclose(float(r["primary_demand_ore"].sel(region="China")), 0.5 * mined,
                               rtol=1e-12)
    # the counterfactual switches end-of-life recycling off and keeps new-scrap recycling
    no_eol = demand - new_scrap_rec
    np.testing.assert_allclose(float(r["primary_demand_no_eol_recycling"]), no_eol, rtol=1e-12)
    np.testing.assert_allclose(float(r["primary_demand_avoided"]), eol_rec, rtol=1e-12)
    np.testing.assert_allclose(float(r["new_scrap_recycled"]), new_scrap_rec, rtol=1e-12)
    rir = r["recycling_input_rate"]
    np.testing.assert_allclose(float(rir.sel(source="new_scrap")), new_scrap_rec / demand,
                               rtol=1e-12)
    np.testing.assert_allclose(float(rir.sel(source="end_of_life")), eol_rec / demand,
                               rtol=1e-12)
    # EOL-RR = collection rate x recycling yield where both are uniform
    np.testing.assert_allclose(float(r["eol_recycling_rate"]), 0.1 * 0.8, rtol=1e-12)


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
    import mfa.models.neodymium.simulation as chain

    original = chain.supply_chain

    def leaky(*args, **kwargs):
        out = original(*args, **kwargs)
        f = out["flows"]["flow_metal_losses"]
        out["flows"]["flow_metal_losses"] = f.where(
            ~((f["time"] == 2010) & (f["region"] == "Japan")), f * 0.5)
        return out

    monkeypatch.setattr(chain, "supply_chain", leaky)
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


# --------------------------------------------------------------------------------------------
# Issue 8: units reach the equations, no negative flows, clear API errors, warning classes
# --------------------------------------------------------------------------------------------
def _in_percent(da):
    return (da * 100).assign_attrs({**da.attrs, "units": "%"})


def test_yield_in_percent_gives_the_same_result(values, res):
    """A yield given in % (70, not 0.7) reaches the equations as 0.7 (was: divided by 70)."""
    v = values.copy()
    for name in ["yield_mining", "yield_separation", "collection_rate", "production_share"]:
        v[name] = _in_percent(values[name])
    r = simulate(v)
    for name in [*FLOWS, "primary_demand", "total_demand", "secondary_supply"]:
        np.testing.assert_allclose(r[name], res[name], rtol=1e-12, atol=1e-12, err_msg=name)
    assert float(r["flow_mining_losses"].min()) >= 0


def test_every_parameter_unit_is_converted(values, res):
    """Each parameter in another unit of the same dimensionality gives the same result."""
    from mfa.models.neodymium import PARAMETER_UNITS

    other = {"1": ("%", 100.0), "yr": ("month", 12.0), "vehicle/yr": ("kvehicle/yr", 1e-3),
             "MW/yr": ("GW/yr", 1e-3), "kg/vehicle": ("g/vehicle", 1e3), "kg/MW": ("t/GW", 1.0),
             "t/yr": ("kt/yr", 1e-3), "unit/yr": ("kunit/yr", 1e-3), "kg/unit": ("g/unit", 1e3),
             "vehicle": ("kvehicle", 1e-3), "MW": ("GW", 1e-3)}
    v = values.copy()
    for name, unit in PARAMETER_UNITS.items():
        new_unit, factor = other[unit]
        v[name] = (values[name] * factor).assign_attrs({**values[name].attrs, "units": new_unit})
    r = simulate(v)
    for name in ["nd_in_new_products", "in_use_stock", "primary_demand", *FLOWS]:
        np.testing.assert_allclose(r[name], res[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_parameter_units_are_declared_for_every_model_parameter():
    from mfa.core.units import check_dimensionality
    from mfa.data.params import load_parameters
    from mfa.models.neodymium import PARAMETER_UNITS

    params = load_parameters()
    model = {n for n, e in params.registry.items() if e.get("role", "model") == "model"}
    assert set(PARAMETER_UNITS) == model
    for name, unit in PARAMETER_UNITS.items():
        check_dimensionality(params.unit(name), unit, name)


@pytest.mark.parametrize(("name", "unit", "message"), [
    ("yield_mining", "kg", r"simulate: parameter 'yield_mining': unit 'kg'.*expected a unit like '1'"),
    ("lifetime_mean", "t", r"simulate: parameter 'lifetime_mean': unit 't'.*like 'yr'"),
    ("ev_sales", "MW/yr", r"simulate: parameter 'ev_sales': unit 'MW/yr'.*'vehicle/yr'"),
])
def test_wrong_parameter_unit_names_the_parameter(values, name, unit, message):
    from mfa.core.units import UnitError

    v = values.copy()
    v[name] = values[name].assign_attrs(units=unit)
    with pytest.raises(UnitError, match=message):
        simulate(v)


def test_missing_units_name_the_parameter(values):
    from mfa.core.units import UnitError

    v = values.copy()
    v["yield_metal"] = xr.DataArray(values["yield_metal"].values, coords=values["yield_metal"].coords)
    with pytest.raises(UnitError, match=r"simulate: parameter 'yield_metal' has no units .*'1'"):
        simulate(v)


def test_yield_above_one_gives_a_negative_flow_error(values):
    """Out-of-bounds numbers that make a loss flow negative are an error, not a result."""
    v = values.copy()
    v["yield_mining"] = values["yield_mining"].copy(data=np.full(values.sizes["time"], 1.5))
    with pytest.raises(MassBalanceError,
                       match=r"flow 'flow_mining_losses' \(mining -> environment\) is negative "
                             r"in year 2000, region 'China': -\d"):
        simulate(v)
    simulate(v, check=False)  # the check is what catches it


def test_net_exports_are_the_only_signed_flows(res):
    from mfa.models.neodymium import SIGNED_FLOWS, process_system

    assert SIGNED_FLOWS == {n for n in FLOWS if n.startswith("flow_net_export_")}
    assert {f.name for f in process_system().flows if f.signed} == SIGNED_FLOWS
    assert float(res["flow_net_export_products"].min()) < 0  # net importers exist here
    for name in set(FLOWS) - SIGNED_FLOWS:
        assert float(res[name].min()) >= 0, name


def test_random_trade_patterns_pass_the_balance_check(values):
    """The pooled trade process: net exports cancel over regions, so its net throughput is ~0;
    its tolerance is relative to the gross trade (before: 'throughput 0 t/yr', atol 1e-6 t/yr,
    which rounding exceeds once flows are large)."""
    rng = np.random.default_rng(8)
    share = values["production_share"]
    for scale in [1e9, 1e11, 1.0, 1e6]:  # rounding of flows of 1e10 t/yr exceeds 1e-6 t/yr
        x = rng.uniform(0, 1, share.shape) * 10.0 ** rng.integers(-3, 3, share.shape)
        v = values.copy()
        v["production_share"] = share.copy(data=x / x.sum(axis=share.dims.index("region"),
                                                       keepdims=True))
        for name in ["ev_sales", "ev_fleet", "wind_capacity", "end_use_activity",
                     "end_use_nd_direct"]:
            v[name] = (values[name] * scale * rng.uniform(0.5, 2)).assign_attrs(values[name].attrs)
        r = simulate(v)
        gross = r["process_throughput_total"].sel(process="trade")
        assert float(gross.min()) > 0
        assert (abs(r["mass_balance_residual_total"].sel(process="trade")) <= 1e-9 * gross).all()


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: simulate(xr.Dataset()), "ParameterError",
     r"simulate: values lack parameters \['ev_sales', 'ev_fleet', 'wind_capacity', .*'production_share'.*\]"),
    (lambda: simulate({}), "ParameterError",
     r"simulate: values must be an xarray.Dataset of parameter values, got dict"),
    (lambda: simulate(None), "ParameterError", r"got NoneType"),
    (lambda: simulate(make_values(), check="no"), "MfaError",
     r"simulate: check must be True or False, got 'no'"),
    (lambda: simulate(make_values(), rtol="tiny"), "MfaError",
     r"simulate: rtol must be a number >= 0, got 'tiny'"),
    (lambda: simulate(make_values().drop_vars("stage")), "ParameterError",
     r"simulate: values lack the coordinate 'stage'"),
    (lambda: simulate(make_values().isel(product=slice(1, None))), "ParameterError",
     r"simulate: the 'product' labels of values lack \['ev_bev'\]"),
])
def test_bad_simulate_arguments_are_clear_errors(call, error, message):
    import mfa.core.errors

    with pytest.raises(getattr(mfa.core.errors, error), match=message):
        call()


def test_parameter_set_instead_of_values_gets_a_hint():
    from mfa.core.errors import ParameterError
    from mfa.data.params import load_parameters

    with pytest.raises(ParameterError, match=r"\(ParameterSet.values\), got ParameterSet"):
        simulate(load_parameters())


def test_secondary_surplus_warns_with_its_own_class(values):
    from mfa.core.errors import MfaWarning
    from mfa.models.neodymium import SecondaryExceedsDemandWarning

    v = values.copy()
    # demand stops in 2015 while products keep reaching end of life, all of it recycled
    v["ev_sales"] = values["ev_sales"].where(values["time"] <= 2015, 0.0)
    v["ev_sales"].attrs = values["ev_sales"].attrs
    v["ev_fleet"] = (values["ev_fleet"] * 0).assign_attrs(values["ev_fleet"].attrs)
    for name in ["wind_capacity", "end_use_activity", "end_use_nd_direct"]:
        v[name] = (values[name] * 0).assign_attrs(values[name].attrs)
    v["collection_rate"] = (values["collection_rate"] * 0 + 1).assign_attrs(units="1")
    with pytest.warns(SecondaryExceedsDemandWarning, match="secondary Nd exceeds total demand") as w:
        r = simulate(v)
    assert issubclass(w[0].category, MfaWarning) and issubclass(w[0].category, UserWarning)
    assert float(r["flow_stockpile"].sum()) > 0


def test_hibernation_only_where_some_product_hibernates():
    """The second stock model runs only for products with a hibernation time; the result is
    the full two-model formula (in use + hibernating = stock of the lifetime shifted by the
    hibernation time) for every product, bit for bit, with a sample dim and mixed times."""
    from mfa.models.neodymium.equations import (
        in_use_and_end_of_life,
        in_use_hibernating_and_end_of_life,
    )

    rng = np.random.default_rng(3)
    t, p, s = np.arange(2000, 2030), ["a", "b", "c", "d"], np.arange(5)
    new = xr.DataArray(rng.uniform(0, 10, (t.size, 4, 5)), dims=("time", "product", "sample"),
                       coords={"time": t, "product": p, "sample": s}, attrs={"units": "t/yr"})
    yr = {"units": "yr"}
    mean = xr.DataArray(rng.uniform(4, 12, (4, 5)), dims=("product", "sample"),
                        coords={"product": p, "sample": s}, attrs=yr)
    sd = xr.DataArray([1.0, 2.0, 3.0, 1.5], dims="product", coords={"product": p}, attrs=yr)
    hib = xr.DataArray([[0.0] * 5, rng.uniform(1, 3, 5), [0.0] * 5, [0, 0, 2.0, 0, 0]],
                       dims=("product", "sample"), coords={"product": p, "sample": s}, attrs=yr)
    use, hibernating, outflow = in_use_hibernating_and_end_of_life(new, mean, sd, hib)
    use0, _ = in_use_and_end_of_life(new, mean, sd)
    total0, outflow0 = in_use_and_end_of_life(new, mean + hib, sd)
    xr.testing.assert_equal(use, use0)
    np.testing.assert_array_equal(outflow.transpose(*outflow0.dims).values, outflow0.values)
    np.testing.assert_array_equal(hibernating.transpose(*use.dims).values,
                                  (total0 - use0).transpose(*use.dims).values)
    assert (hibernating.sel(product=["a", "c"]) == 0).all()
    assert (hibernating.sel(product="b").isel(time=-1) > 0).all()


def test_wrap_gives_the_dataarray_of_the_slow_path_with_one_index_per_coordinate():
    from mfa.models.neodymium import _variables as V

    coords = {"time": xr.Variable("time", np.arange(2000, 2003), {"units": "yr"}),
              "region": xr.Variable("region", ["a", "b"])}
    var = xr.Variable(("region", "time", "sample"), np.arange(12.0).reshape(2, 3, 2))
    fast, slow = V.wrap(var, coords), xr.DataArray(var, coords=coords)
    xr.testing.assert_identical(fast, slow)
    assert fast.indexes["time"].equals(slow.indexes["time"]) and "sample" not in fast.coords
    xr.testing.assert_identical(fast * fast.sel(region="b"), slow * slow.sel(region="b"))
    again = V.wrap(var.isel(time=[0]), coords)
    assert again.xindexes["region"] is fast.xindexes["region"]  # made once per coordinate
    other = {"region": xr.Variable("region", ["c", "d"])}  # another coordinate: its own labels
    assert V.wrap(var, other)["region"].values.tolist() == ["c", "d"]
    for i in range(300):  # the cache stays bounded
        V.wrap(var.isel(time=0), {"region": xr.Variable("region", [f"x{i}", "y"])})
    assert len(V._INDEXED) <= 256


def test_shared_coords_checks_labels_by_value_and_names_a_mismatch():
    from mfa.core.errors import ParameterError
    from mfa.models.neodymium import _variables as V

    a = xr.DataArray(np.zeros((2, 3)), dims=("region", "time"),
                     coords={"region": ["x", "y"], "time": [1, 2, 3]}, name="a")
    b = xr.DataArray(np.ones(2), dims="region", coords={"region": ["x", "y"]}, name="b")
    coords = V.shared_coords([a, b, a * 2], "test")  # equal labels, other objects: fine
    assert list(coords) == ["region", "time"] and coords["time"].values.tolist() == [1, 2, 3]
    c = xr.DataArray(np.ones(2), dims="region", coords={"region": ["y", "x"]}, name="c")
    with pytest.raises(ParameterError, match=r"test: the 'region' labels of c differ from the "
                       r"others' \(\['y', 'x'\] against \['x', 'y'\]\)"):
        V.shared_coords({"a": a, "c": c}, "test")
    base = xr.Dataset(coords={"region": ["y", "x"]})
    with pytest.raises(ParameterError, match="labels of a differ"):
        V.shared_coords([a], "test", base)


@pytest.mark.parametrize("case", ["as is", "NaN end of life", "-0.0 end of life",
                                  "yield above 1", "sampled"])
def test_the_counterfactual_without_collection_is_zero_collection_bit_for_bit(values, case):
    from mfa.models.neodymium.chain import primary_separated_world, supply_chain
    from mfa.models.neodymium.equations import in_use_hibernating_and_end_of_life
    from mfa.models.neodymium.simulation import (
        new_products_and_fleets,
        without_end_of_life_recycling,
    )

    vals = values.copy()
    if case == "yield above 1":  # flows turn negative later; the numbers must still agree
        vals["recycling_yield"] = vals["recycling_yield"].copy(data=np.where(
            vals["product"] == vals["product"][0], 1.2, vals["recycling_yield"]))
    if case == "sampled":
        rate = vals["collection_rate"]
        vals["collection_rate"] = (rate * xr.DataArray([0.5, 1.0, 1.5], dims="sample")
                                   ).assign_attrs(rate.attrs)
    new, _ = new_products_and_fleets(vals)
    _, _, eol = in_use_hibernating_and_end_of_life(
        new, vals["lifetime_mean"], vals["lifetime_sd"], vals["hibernation_time"])
    if case == "NaN end of life":
        eol = eol.where(eol["time"] != 2020)
    if case == "-0.0 end of life":
        eol = eol.where(eol["time"] != 2000, -0.0)
        assert np.signbit(eol.values).any()
    chain = supply_chain(vals, new, eol)
    fast = primary_separated_world(vals, new, eol, reuse=chain, without_collection=True)
    slow = primary_separated_world(without_end_of_life_recycling(vals), new, eol, reuse=chain)
    assert fast.dims == slow.dims and fast.shape == slow.shape
    np.testing.assert_array_equal(fast.values.view(np.uint64), slow.values.view(np.uint64))
