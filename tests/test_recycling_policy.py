"""Recycling capacity, stored scrap and scrap trade (issue 11 items 4 and 5): the relation
:func:`recycle_with_capacity` against analytic solutions, and the model run with traded and
stored scrap (mass balance per region, UNEP 2011 indicators, units, Monte Carlo samples)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from mfa.core.errors import MassBalanceError, ParameterError
from mfa.core.units import UnitError
from mfa.models.neodymium import equations, simulate
from mfa.models.neodymium.equations import recycle_with_capacity
from mfa.models.neodymium.structure import FLOWS, process_system
from tests.nd_values import REGIONS, make_values

CHINA_ONLY = np.array([1.0, 0, 0, 0, 0, 0])


def _one_source(eol, years, regions):
    """(4, time, region) scrap: end-of-life Nd ``eol`` (time, region), 80 % recoverable."""
    s = np.zeros((4, years, regions))
    s[0] = 0.8 * np.asarray(eol)
    s[1] = 0.2 * np.asarray(eol)
    return s


def _mass(a):
    """Scrap mass: the sum of the quantities (axis 0)."""
    return a.sum(axis=0)


# ---------------------------------------------------------------------------------------------
# the relation, analytic
# ---------------------------------------------------------------------------------------------

def test_capacity_not_binding_recycles_everything_where_it_arises():
    rng = np.random.default_rng(1)
    scrap = rng.uniform(0, 10, (4, 5, 3))
    cap = np.full((5, 3), 1e9)
    out = recycle_with_capacity(scrap, np.zeros((5, 3)), np.array([1.0, 0, 0]), cap)
    np.testing.assert_allclose(out["processed"], scrap)
    assert not out["stored"].any() and not out["exported"].any() and not out["imported"].any()


def test_capacity_binding_stores_the_excess_and_draws_it_down_later():
    # one region, 10 t/yr of scrap; capacity 6, 6, 6, then 30: stored 4, 8, 12, then all processed
    scrap = _one_source(np.full((4, 1), 10.0), 4, 1)
    cap = np.array([[6.0], [6.0], [6.0], [30.0]])
    out = recycle_with_capacity(scrap, np.zeros((4, 1)), np.ones((4, 1)), cap)
    np.testing.assert_allclose(_mass(out["processed"])[:, 0], [6, 6, 6, 22])
    np.testing.assert_allclose(out["processed"][0, :, 0], 0.8 * np.array([6, 6, 6, 22]))
    np.testing.assert_allclose(_mass(out["stored"])[:, 0], [4, 8, 12, 0], atol=1e-12)
    # over the years everything that arose is processed once
    assert out["processed"].sum() == pytest.approx(scrap.sum())


def test_capacity_that_binds_only_later_leaves_the_first_years_alone():
    # capacity 20, 20, 6, 6, 6: 10 t/yr processed, then 6 with 4, 8, 12 t stored
    scrap = _one_source(np.full((5, 1), 10.0), 5, 1)
    cap = np.array([[20.0], [20.0], [6.0], [6.0], [6.0]])
    out = recycle_with_capacity(scrap, np.zeros((5, 1)), np.ones((5, 1)), cap)
    np.testing.assert_allclose(_mass(out["processed"])[:, 0], [10, 10, 6, 6, 6])
    np.testing.assert_allclose(_mass(out["stored"])[:, 0], [0, 0, 4, 8, 12])


def test_excess_goes_to_regions_with_spare_capacity_by_import_share():
    # A: 10 t, capacity 4 -> 6 t excess; B spare 2 and C unlimited, equal weights:
    # round 1 gives 3 and 3, B takes only 2; round 2 gives C the last 1 t
    scrap = _one_source(np.array([[10.0, 0.0, 0.0]]), 1, 3)
    cap = np.array([[4.0, 2.0, np.nan]])
    out = recycle_with_capacity(scrap, np.zeros((1, 3)), np.array([0.0, 0.5, 0.5]), cap)
    np.testing.assert_allclose(_mass(out["processed"])[0], [4, 2, 4])
    np.testing.assert_allclose(out["exported"][0], [6, 0, 0])
    np.testing.assert_allclose(out["imported"][0], [0, 2, 4])
    assert not out["stored"].any()


def test_excess_without_spare_capacity_is_stored_where_it_is():
    # the only importer (weight 1) is full itself: A's excess stays in A
    scrap = _one_source(np.array([[10.0, 10.0]]), 1, 2)
    cap = np.array([[4.0, 10.0]])
    out = recycle_with_capacity(scrap, np.zeros((1, 2)), np.array([0.0, 1.0]), cap)
    np.testing.assert_allclose(_mass(out["stored"])[0], [6, 0])
    np.testing.assert_allclose(_mass(out["processed"])[0], [4, 10])


def test_trade_conserves_mass_and_keeps_each_quantity_pro_rata():
    rng = np.random.default_rng(7)
    years, regions, samples = 6, 4, 3
    scrap = rng.uniform(0, 10, (4, years, regions, samples))
    scrap[1] = scrap[0] * 0.3 / 0.7  # recovered 70 % of end-of-life, 90 % of new scrap
    scrap[3] = scrap[2] * 0.1 / 0.9
    exp_share = rng.uniform(0, 1, (years, regions, samples))
    imp = rng.uniform(0, 1, (years, regions, samples))
    imp /= imp.sum(axis=1, keepdims=True)
    cap = rng.uniform(5, 25, (years, regions, samples))
    out = recycle_with_capacity(scrap, exp_share, imp, cap)
    np.testing.assert_allclose(out["exported"].sum(axis=1), out["imported"].sum(axis=1))
    stored_before = np.concatenate([np.zeros_like(out["stored"][:, :1]), out["stored"][:, :-1]], 1)
    # world: what arises plus what was stored = processed plus stored now, per quantity
    np.testing.assert_allclose((scrap + stored_before).sum(axis=2),
                               (out["processed"] + out["stored"]).sum(axis=2))
    # per region (scrap mass): arising + imports + stored before = processed + exports + stored
    mass = _mass(scrap)
    lhs = mass + out["imported"] + _mass(stored_before)
    rhs = _mass(out["processed"]) + out["exported"] + _mass(out["stored"])
    np.testing.assert_allclose(lhs, rhs)
    assert (_mass(out["processed"]) <= cap * (1 + 1e-12)).all()
    # a pooled mix: recoverable parts stay at the yields of their scrap
    np.testing.assert_allclose(out["processed"][0], 0.7 * out["processed"][:2].sum(axis=0))
    np.testing.assert_allclose(out["processed"][2], 0.9 * out["processed"][2:].sum(axis=0))
    for a in out.values():
        assert (a >= 0).all()


# ---------------------------------------------------------------------------------------------
# the model run
# ---------------------------------------------------------------------------------------------

def _run(values):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate(values)


def _region_time(values, data, units):
    c = {"time": values["time"], "region": values["region"]}
    return xr.DataArray(np.broadcast_to(np.asarray(data, float), (c["time"].size, len(REGIONS))).copy(),
                        dims=("time", "region"), coords=c, attrs={"units": units})


@pytest.fixture(scope="module")
def base():
    return make_values()


@pytest.fixture(scope="module")
def free(base):
    return _run(base)


def _capped(base, until=2030, cap=1.0):
    """Every region's capacity ``cap`` t/yr until ``until``, unlimited after; China imports."""
    years = base["time"].values
    data = np.where((years <= until)[:, None], cap, np.nan) * np.ones(len(REGIONS))
    return base.assign(recycling_capacity=_region_time(base, data, "t/yr"))


def test_binding_capacity_stores_scrap_and_balances_per_region(base, free):
    ds = _run(_capped(base, until=2015, cap=2.0))
    stock = ds["scrap_awaiting_recycling"]
    assert float(stock.sel(time=2015).sum()) > 0 and float(stock.sel(time=2016).sum()) == 0
    processed = (ds["flow_recycled_eol"] / 0.8 + ds["flow_recycled_new_scrap"] / 0.9)
    # China's scrap fills its 2 t/yr; the other regions' (under 2 t/yr) is all recycled
    np.testing.assert_allclose(processed.sel(time=slice(2000, 2015), region="China"), 2.0)
    others = [r for r in REGIONS if r != "China"]
    np.testing.assert_allclose(ds["flow_recycled_eol"].sel(region=others),
                               free["flow_recycled_eol"].sel(region=others), rtol=1e-12)
    # per region and process (the recycling stock included), in and out balance
    res = ds["mass_balance_residual"]
    assert float(abs(res).max()) < 1e-6
    exp, imp = ds["flow_scrap_export"].sum("region"), ds["flow_scrap_import"].sum("region")
    np.testing.assert_allclose(exp, imp)
    # the stored scrap is drawn down in 2016: over all years as much Nd is recovered as without
    # the capacity limit (constant yields)
    for f in ("flow_recycled_eol", "flow_recycled_new_scrap"):
        assert float(ds[f].sum()) == pytest.approx(float(free[f].sum()), rel=1e-12)
    assert float(ds["flow_recycled_eol"].sel(time=2016).sum()) > float(
        free["flow_recycled_eol"].sel(time=2016).sum())


def test_trade_moves_secondary_nd_to_where_it_is_recycled(base, free):
    share = np.array([0.0, 1, 1, 1, 1, 1])
    ds = _run(base.assign(scrap_export_share=_region_time(base, share, "1")))
    others = [r for r in REGIONS if r != "China"]
    for f in ("flow_recycled_eol", "flow_recycled_new_scrap", "flow_recycling_losses"):
        assert float(abs(ds[f].sel(region=others)).max()) == 0
        np.testing.assert_allclose(ds[f].sum("region"), free[f].sum("region"), rtol=1e-12)
    # gross exports are the scrap sent to recycling outside China; China imports them all
    sent = (ds["flow_collected"] + 0.5 * ds["flow_new_scrap"]).sel(region=others)
    np.testing.assert_allclose(ds["flow_scrap_export"].sel(region=others), sent, rtol=1e-12)
    np.testing.assert_allclose(ds["flow_scrap_import"].sel(region="China"), sent.sum("region"))
    # indicators of the world do not change with where scrap is recycled
    for v in ("eol_recycling_rate", "recycling_input_rate", "primary_demand_avoided"):
        np.testing.assert_allclose(ds[v], free[v], rtol=1e-12)
    assert float(abs(ds["mass_balance_residual"]).max()) < 1e-6


def test_indicators_with_traded_and_stored_scrap(base, free):
    values = _capped(base, until=2020, cap=2.0).assign(
        scrap_export_share=_region_time(base, [0.0, 0.5, 0.5, 0.5, 0.5, 0.5], "1"))
    ds = _run(values)
    assert float(ds["scrap_awaiting_recycling"].sum()) > 0
    assert float(ds["flow_scrap_export"].sum()) > 0
    # EOL-RR: end-of-life Nd recovered (wherever, whenever) / end-of-life Nd arising this year
    eol_rr = ds["flow_recycled_eol"].sum("region") / ds["flow_eol"].sum("region")
    np.testing.assert_allclose(ds["eol_recycling_rate"], eol_rr, rtol=1e-12)
    assert (ds["eol_recycling_rate"].sel(time=slice(2000, 2020))
            < free["eol_recycling_rate"].sel(time=slice(2000, 2020))).all()
    # RIR: secondary Nd / all Nd entering the oxide stage, by source
    primary = ds["primary_demand"].sum("region")
    secondary = ds["secondary_supply"]
    np.testing.assert_allclose(ds["recycling_input_rate"],
                               secondary / (primary + secondary.sum("source")), rtol=1e-12)
    np.testing.assert_allclose(secondary.sel(source="end_of_life"),
                               ds["flow_recycled_eol"].sum("region"), rtol=1e-12)
    # avoided: against the same values without end-of-life collection. Where capacity binds,
    # end-of-life scrap displaces new scrap from the full plants, so less is avoided than recovered
    np.testing.assert_allclose(ds["primary_demand_avoided"],
                               ds["primary_demand_no_eol_recycling"] - primary, rtol=1e-9)
    bound = slice(2001, 2020)
    assert (ds["primary_demand_avoided"].sel(time=bound)
            < secondary.sel(source="end_of_life", time=bound) - 1e-9).all()
    late = slice(2026, 2030)  # capacity unlimited, stock drawn down: no displacement
    np.testing.assert_allclose(ds["primary_demand_avoided"].sel(time=late),
                               secondary.sel(source="end_of_life", time=late), rtol=1e-9)


def test_recycling_capacity_units_are_converted_and_checked(base):
    ds_t = _run(_capped(base, cap=2000.0))
    kt = _capped(base, cap=2.0)
    kt["recycling_capacity"].attrs["units"] = "kt/yr"
    ds_kt = _run(kt)
    np.testing.assert_allclose(ds_kt["flow_recycled_eol"], ds_t["flow_recycled_eol"], rtol=1e-12)
    bad = _capped(base).copy()
    bad["recycling_capacity"] = bad["recycling_capacity"].assign_attrs(units="1")
    with pytest.raises(UnitError, match="recycling_capacity"):
        simulate(bad)


@pytest.mark.parametrize("name, value, message", [
    ("scrap_export_share", 1.5, r"scrap_export_share must lie in \[0, 1\], got 1.5 \(186 cell"),
    ("scrap_import_share", -0.1, r"scrap_import_share must lie in \[0, 1\], got -0.1"),
    ("recycling_capacity", -5.0, r"recycling_capacity must lie in \[0, inf\] \(NaN: unlimited\), got -5.0"),
    ("scrap_import_share", 0.0, "scrap_import_share must sum to 1 over regions in every year"),
])
def test_trade_shares_and_capacity_that_would_make_flows_negative_are_refused(
        base, name, value, message):
    # without the guard an export share of 1.5 exports more than arises: negative flows
    # that the mass balance reports only as an unbalanced recycling process
    values = base.assign({name: _region_time(base, value, base[name].attrs["units"])})
    with pytest.raises(ParameterError, match=message):
        simulate(values)


def test_negative_flows_of_the_recycling_loop_are_caught_by_the_mass_balance(base):
    # the guard of last resort: a recycling yield above 1 makes the recycling losses negative
    values = base.assign(recycling_yield=base["recycling_yield"] * 1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(MassBalanceError, match=r"flow 'flow_recycling_losses'.* negative"):
            simulate(values)


def test_monte_carlo_sample_dim_runs_each_sample_as_alone(base):
    binding = _capped(base, until=2020, cap=2.0)["recycling_capacity"]
    free_cap = base["recycling_capacity"]
    cap = xr.concat([binding, free_cap], dim="sample").assign_coords(sample=[0, 1])
    ds = _run(base.assign(recycling_capacity=cap.assign_attrs(units="t/yr")))
    assert "sample" in ds["scrap_awaiting_recycling"].dims
    for i, values in enumerate((_capped(base, until=2020, cap=2.0), base)):
        one = _run(values)
        for v in ("scrap_awaiting_recycling", "flow_recycled_eol", "primary_demand_avoided"):
            np.testing.assert_allclose(ds[v].sel(sample=i).transpose(*one[v].dims), one[v],
                                       rtol=1e-12, atol=1e-12)


def test_new_flows_and_stock_are_in_the_process_system():
    system = process_system(())
    names = {f.name for f in system.flows}
    assert {"flow_scrap_export", "flow_scrap_import"} <= names
    assert FLOWS["flow_scrap_export"][:2] == ("recycling", "scrap_trade")
    assert FLOWS["flow_scrap_import"][:2] == ("scrap_trade", "recycling")
    assert any(s.name == "scrap_awaiting_recycling" and s.process == "recycling"
               for s in system.stocks)


# ---------------------------------------------------------------------------------------------
# the fast path (years at once while nothing is stored) against the year-by-year loop
# ---------------------------------------------------------------------------------------------

def _reference_recycle(scrap, export_share, import_share, capacity):
    """:func:`recycle_with_capacity` as a plain loop over the years from the first one in which
    capacity binds (the implementation before the fast path), the reference of the tests."""
    scrap = np.asarray(scrap, dtype=float)
    shape = np.broadcast_shapes(scrap.shape[1:], np.shape(export_share), np.shape(import_share),
                                np.shape(capacity))
    scrap = np.broadcast_to(scrap, (scrap.shape[0], *shape))
    exp_share = np.broadcast_to(export_share, shape)
    imp_share = np.broadcast_to(import_share, shape)
    cap = np.broadcast_to(np.where(np.isnan(capacity), np.inf, capacity), shape)
    out1 = scrap * exp_share
    in1 = out1.sum(axis=2, keepdims=True) * imp_share
    fresh = scrap - out1 + in1
    processed = fresh.copy()
    stored = np.zeros_like(scrap)
    exported = out1.sum(axis=0)
    imported = in1.sum(axis=0)
    over = fresh.sum(axis=0) > cap
    if not over.any():
        return {"exported": exported, "imported": imported, "processed": processed,
                "stored": stored}
    held = np.zeros_like(scrap[:, 0])
    for t in range(int(np.argmax(over.reshape(shape[0], -1).any(axis=1))), shape[0]):
        arrived = fresh[:, t] + held
        total = arrived.sum(axis=0)
        done = np.minimum(total, cap[t])
        excess = total - done
        with np.errstate(invalid="ignore", divide="ignore"):
            share_of = np.where(total > 0, 1.0 / total, 0.0)
        placed = np.zeros_like(total)
        sent = np.zeros_like(total)
        if np.any(excess > 0):
            placed = _reference_fill_spare(excess.sum(axis=0), cap[t] - done, imp_share[t])
            with np.errstate(invalid="ignore", divide="ignore"):
                sent_frac = np.where(excess.sum(axis=0) > 0,
                                     np.minimum(placed.sum(axis=0) / excess.sum(axis=0), 1.0), 0.0)
            sent = excess * sent_frac
        kept = excess - sent
        out2 = arrived * (sent * share_of)
        pool2 = out2.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            in2 = pool2 * np.where(placed.sum(axis=0) > 0, placed / placed.sum(axis=0), 0.0)
        held = arrived * (kept * share_of)
        processed[:, t] = arrived * (done * share_of) + in2
        stored[:, t] = held
        exported[t] += out2.sum(axis=0)
        imported[t] += in2.sum(axis=0)
    return {"exported": exported, "imported": imported, "processed": processed, "stored": stored}


def _reference_fill_spare(amount, spare, weight):
    placed = np.zeros_like(spare)
    for _ in range(spare.shape[0]):
        room = spare - placed
        w = np.where(room > 0, weight, 0.0)
        wsum = w.sum(axis=0)
        left = amount - placed.sum(axis=0)
        if not np.any((left > 0) & (wsum > 0)):
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            give = np.where(wsum > 0, np.maximum(left, 0.0) * w / wsum, 0.0)
        placed = np.where(give >= room, spare, placed + give)
    return placed


def _random_case(seed, years, regions, samples=()):
    """Scrap (4 quantities), shares and a capacity 3-15 t/yr per region against 0-10 t/yr of
    scrap; region 0 unlimited (NaN) and region 1 without capacity and without scrap."""
    rng = np.random.default_rng(seed)
    dims = (years, regions, *samples)
    scrap = rng.uniform(0, 10, (4, *dims)) * rng.uniform(0.2, 1.0, (4, 1, regions, *samples))
    scrap[:, :, 1] = 0.0
    exp_share = rng.uniform(0, 0.5, dims)
    imp = rng.uniform(0, 1, dims)
    imp /= imp.sum(axis=1, keepdims=True)
    cap = rng.uniform(3, 15, dims)
    cap[:, 1] = 0.0
    return scrap, exp_share, imp, cap


def _first_stored_year(out):
    """The first year in which some scrap is stored (any region, quantity, sample), or None."""
    per_year = (out["stored"] > 0).swapaxes(0, 1).reshape(out["stored"].shape[1], -1).any(axis=1)
    return int(np.argmax(per_year)) if per_year.any() else None


def _capacity_case(case, seed, years=20, regions=9):
    """Inputs of :func:`recycle_with_capacity` where scrap is stored ``case``: "never", from
    the "start", from the "middle" (year 7), "twice" (years 4-6 and from 13), in "samples"
    from years 7, 3 and 7, or at "random" (world capacity 0.5-2 times a random one)."""
    samples = (3,) if case == "samples" else ()
    scrap, exp_share, imp, cap = _random_case(seed, years, regions, samples)
    if case == "random":
        cap = cap * np.random.default_rng(seed).uniform(0.5, 2.0, (years, 1))
    t = np.arange(years)[:, None]
    tight = {"never": t < 0, "start": t >= 0, "random": t < 0, "middle": t >= 7,
             "twice": ((t >= 4) & (t < 7)) | (t >= 13),
             "samples": t >= np.array([7, 3, 7])}[case].reshape(years, *samples)
    # tight years: capacity 80 % of all scrap, storage must arise; other years region 0
    # is unlimited and takes every excess
    world = 0.8 * scrap.sum(axis=(0, 2)) / cap.sum(axis=1)   # (time[, sample])
    loose = cap.copy()
    if case != "random":
        loose[:, 0] = np.nan if case == "never" else np.inf
    return scrap, exp_share, imp, np.where(tight[:, None], cap * world[:, None], loose)


def _assert_same(out, ref, scale, msg):
    for key, value in ref.items():  # bit-identical in practice; summation order may vary
        np.testing.assert_allclose(out[key], value, rtol=1e-12, atol=1e-12 * scale,
                                   err_msg=f"{key}, {msg}")


@pytest.mark.parametrize(("case", "first_stored"), [
    ("never", None),          # region 0 takes every excess
    ("start", 0),             # no spare capacity anywhere from the first year
    ("middle", 7),            # spare capacity in region 0 until year 7
    ("twice", 4),             # stored in years 4-6, drawn down, stored again from year 13
    ("samples", 3),           # a sample dim; samples start storing in different years
    ("random", "any"),        # storage comes and goes
])
def test_fast_path_equals_the_year_by_year_loop(case, first_stored):
    onsets = 0
    for seed in range(20):
        scrap, exp_share, imp, cap = _capacity_case(case, seed)
        out = recycle_with_capacity(scrap, exp_share, imp, cap)
        ref = _reference_recycle(scrap, exp_share, imp, cap)
        if case == "random":
            storing = (ref["stored"] > 0).any(axis=(0, 2))
            onsets += int(storing[0]) + int((storing[1:] & ~storing[:-1]).sum())
        else:
            assert _first_stored_year(ref) == first_stored
        if case == "twice":  # drawn down in year 7, stored again from year 13
            stored_by_year = ref["stored"].sum(axis=(0, 2))
            assert (stored_by_year[4:7] > 0).all() and (stored_by_year[13:] > 0).all()
            assert (stored_by_year[7:13] == 0).all()
        if case == "samples":
            firsts = [_first_stored_year({"stored": ref["stored"][..., s]}) for s in range(3)]
            assert firsts == [7, 3, 7]
        _assert_same(out, ref, scrap.max(), f"seed {seed}")
    if case == "random":
        assert onsets > 20  # scrap is stored again after stores ran empty


@pytest.mark.parametrize(("block_size", "screen"), [(1, True), (100, True), (500, True),
                                                   (10**6, False), (100, False)])
def test_fast_path_in_blocks_of_years_equals_the_loop(monkeypatch, block_size, screen):
    # many samples compute a few years at a time (cache): 1, 2-3 or 4-13 years per block here;
    # without the screen of years that may store, the exact step alone must find them
    monkeypatch.setattr(equations, "_BLOCK_SIZE", block_size)
    if not screen:
        monkeypatch.setattr(equations, "_may_store",
                            lambda mass, cap, weight: np.zeros(mass.shape[0], bool))
    for case in ("twice", "samples", "random"):
        for seed in range(5):
            scrap, exp_share, imp, cap = _capacity_case(case, seed)
            _assert_same(recycle_with_capacity(scrap, exp_share, imp, cap),
                         _reference_recycle(scrap, exp_share, imp, cap), scrap.max(),
                         f"{case}, seed {seed}")
