"""ODYM's published dynamic-stock-model tests, ported to mfa's public API.

Source: IndEcol/ODYM ``tests/test_dynamic_stock_model.py`` (commit 0da9fcb); its input and
expected arrays are in ``tests/data/odym_dsm_known_results.json`` (copied verbatim), compared at
ODYM's own number of decimals. ODYM evaluates the survival at age ``t - c``, which is
``inflow_at="end"`` here.

Differences from ODYM, each tested below:

* ODYM's ``LogNormal`` swaps the sd/mean ratio (``sigma^2 = ln(1 + mean^2/sd^2)``; flodym fixed
  the same bug on 2025-01-24). Its type-split cases use LogNormal(6, 3), so their published
  values are wrong: mfa's LogNormal gives the corrected values (``*_corrected``, ODYM's code with
  only that formula fixed), and ODYM's published values come out exactly when ODYM's swapped
  survival is given as a :class:`~mfa.core.lifetimes.SurvivalTable`.
* ODYM's ``Normal`` with mean 0 is a special case (nothing survives); here a normal lifetime needs
  ``mean > 0`` (clear error) and ``Fixed(mean=0)`` is the zero lifetime.
* ODYM returns historic years and cohorts in the same arrays as the model years; here the model
  starts at ODYM's ``SwitchTime`` with an ``initial_stock_by_age``, and the historic inflows come
  out as ``historic_inflow`` by age.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.lifetimes import Fixed, FoldedNormal, LogNormal, Normal, SurvivalTable, Weibull
from mfa.core.stocks import NegativeInflowWarning, historic_inflow, inflow_driven, stock_driven

KNOWN = json.loads((Path(__file__).parent / "data" / "odym_dsm_known_results.json").read_text())


def known(name: str) -> np.ndarray:
    return np.asarray(KNOWN[name], dtype=float)


def series(values, years, units, dims=None):
    values = np.asarray(values, dtype=float)
    coords = {"time": np.asarray(years)}
    if dims:
        coords.update(dims)
    return xr.DataArray(values, dims=tuple(coords), coords=coords, attrs={"units": units})


def by_age(initial_by_cohort, other=None):
    """ODYM's initial stock by cohort (oldest first) as a stock by age (youngest first)."""
    values = np.asarray(initial_by_cohort, dtype=float)[::-1]
    dims = ("age",) if other is None else ("age", *other)
    coords = {"age": np.arange(values.shape[0])}
    return xr.DataArray(values, dims=dims, coords=coords, attrs={"units": "t"})


def odym_lognormal_table(mean, sd, n):
    """ODYM's LogNormal survival (with its swapped ratio) at ages 0..n-1, as a SurvivalTable."""
    lt_ln = np.log(mean / np.sqrt(1 + mean * mean / (sd * sd)))
    sg_ln = np.sqrt(np.log(1 + mean * mean / (sd * sd)))
    sf = scipy.stats.lognorm.sf(np.arange(n), s=sg_ln, loc=0, scale=np.exp(lt_ln))
    return sf


def balance(ds, initial=0.0):
    """inflow - outflow - stock change, with the stock before the first year ``initial``."""
    stock = ds["stock"].values
    first = np.broadcast_to(np.asarray(initial, dtype=float), stock.shape[1:])[None]
    prev = np.concatenate([first, stock[:-1]])
    return ds["inflow"].values - ds["outflow"].values - (stock - prev)


T10 = known("Time_T_FixedLT").astype(int)
INFLOW10 = known("Inflow_T_FixedLT")


# --- inflow- and stock-driven, fixed lifetime ---------------------------------------------------

def test_inflow_driven_model_fixedLifetime_0():
    ds = inflow_driven(series(INFLOW10, T10, "t/yr"), Fixed(mean=0, inflow_at="end"), by_cohort=True)
    np.testing.assert_array_equal(ds.stock_by_cohort.values, np.zeros((10, 10)))
    np.testing.assert_array_equal(ds.stock.values, np.zeros(10))
    np.testing.assert_array_equal(ds.outflow.values, INFLOW10)
    np.testing.assert_array_equal(balance(ds), known("Bal"))


def test_inflow_driven_model_fixedLifetime():
    ds = inflow_driven(series(INFLOW10, T10, "t/yr"), Fixed(mean=5, inflow_at="end"), by_cohort=True)
    np.testing.assert_array_equal(ds.stock_by_cohort.values, known("Stock_TC_FixedLT"))
    np.testing.assert_array_equal(ds.stock.values, known("Stock_T_FixedLT"))
    np.testing.assert_array_equal(ds.outflow_by_cohort.values, known("Outflow_TC_FixedLT"))
    np.testing.assert_array_equal(ds.outflow.values, known("Outflow_T_FixedLT"))
    np.testing.assert_array_equal(np.diff(ds.stock.values, prepend=0), known("StockChange_T_FixedLT"))
    np.testing.assert_array_equal(balance(ds), known("Bal"))


def test_stock_driven_model_fixedLifetime():
    ds = stock_driven(series(known("Stock_T_FixedLT"), T10, "t"), Fixed(mean=5, inflow_at="end"),
                      by_cohort=True)
    np.testing.assert_array_equal(ds.stock_by_cohort.values, known("Stock_TC_FixedLT"))
    np.testing.assert_array_equal(ds.outflow_by_cohort.values, known("Outflow_TC_FixedLT"))
    np.testing.assert_array_equal(ds.inflow.values, INFLOW10)
    np.testing.assert_array_equal(ds.outflow.values, known("Outflow_T_FixedLT"))
    np.testing.assert_array_equal(np.diff(ds.stock.values, prepend=0), known("StockChange_T_FixedLT"))
    np.testing.assert_array_equal(balance(ds), known("Bal"))


def test_inflow_driven_model_normallyDistrLifetime_0():
    # ODYM: a normal lifetime with mean 0 is special-cased to "nothing survives". Here a normal
    # lifetime needs mean > 0; the zero lifetime is Fixed(mean=0) (tested above).
    with pytest.raises(ParameterError, match=r"Normal lifetime parameter 'mean': must be > 0, got 0.0"):
        Normal(mean=0, sd=1.5, inflow_at="end")


# --- normal lifetime ---------------------------------------------------------------------------

NORMAL5 = Normal(mean=5, sd=1.5, inflow_at="end")


def test_inflow_driven_model_normallyDistLifetime():
    ds = inflow_driven(series(INFLOW10, T10, "t/yr"), NORMAL5, by_cohort=True)
    np.testing.assert_array_almost_equal(ds.stock_by_cohort.values, known("Stock_TC_NormLT"), 8)
    np.testing.assert_array_almost_equal(ds.stock.values, known("Stock_T_NormLT"), 8)
    np.testing.assert_array_almost_equal(ds.outflow_by_cohort.values, known("Outflow_TC_NormLT"), 8)
    np.testing.assert_array_almost_equal(ds.outflow.values, known("Outflow_T_NormLT"), 8)
    np.testing.assert_array_almost_equal(np.diff(ds.stock.values, prepend=0),
                                         known("StockChange_T_NormLT"), 8)
    np.testing.assert_array_almost_equal(balance(ds), known("Bal"), 12)


@pytest.mark.parametrize("rule", ["raise", "retire"])
def test_stock_driven_model_normallyDistLifetime(rule):
    # "retire" is ODYM's NegativeInflowCorrect=True; here no negative inflow occurs
    ds = stock_driven(series(known("Stock_T_NormLT"), T10, "t"), NORMAL5, by_cohort=True,
                      negative_inflow=rule)
    np.testing.assert_array_almost_equal(ds.stock_by_cohort.values, known("Stock_TC_NormLT"), 8)
    np.testing.assert_array_almost_equal(ds.outflow_by_cohort.values, known("Outflow_TC_NormLT"), 8)
    np.testing.assert_array_almost_equal(ds.inflow.values, INFLOW10, 8)
    np.testing.assert_array_almost_equal(ds.outflow.values, known("Outflow_T_NormLT"), 8)
    np.testing.assert_array_almost_equal(np.diff(ds.stock.values, prepend=0),
                                         known("StockChange_T_NormLT"), 8)
    np.testing.assert_array_almost_equal(balance(ds), known("Bal"), 12)
    if rule == "retire":
        assert np.all(ds.retired_early.values == 0)


def test_stock_driven_model_normallyDistLifetime_NegInflow():
    years = known("Time_T_30").astype(int)
    stock = series(known("Stock_SDM_NegInflow_NormLT"), years, "t")
    lifetime = Normal(mean=8, sd=3, inflow_at="end")
    with pytest.warns(NegativeInflowWarning, match="negative inflow kept in 2 year"):
        kept = stock_driven(stock, lifetime, negative_inflow="warn")
    np.testing.assert_array_almost_equal(kept.inflow.values, known("InflowNeg_NoCorr"), 12)
    retired = stock_driven(stock, lifetime, negative_inflow="retire")
    np.testing.assert_array_almost_equal(retired.inflow.values, known("InflowNeg_WithCorr"), 12)
    np.testing.assert_array_almost_equal(np.diff(retired.stock.values, prepend=0),
                                         known("StockChange_WithCorr"), 12)
    np.testing.assert_array_almost_equal(balance(retired), known("Bal30"), 12)
    # what was retired early: exactly the negative inflow ODYM would have needed, times s[0]
    gap = -known("InflowNeg_NoCorr")[[9, 20]] * float(lifetime.survival(1).values[0])
    assert np.flatnonzero(retired.retired_early.values).tolist() == [9, 20]
    assert retired.retired_early.values[9] == pytest.approx(gap[0], rel=1e-12)


# --- stock-driven with an initial stock --------------------------------------------------------

def _initial_stock_case(stock_name, rule, expected_name):
    """ODYM's compute_stock_driven_model_initialstock with InitialStock_8 and SwitchTime=9."""
    years = known("Time_T_30").astype(int)
    switch = 8  # index of the first model year (ODYM's SwitchTime - 1)
    stock = series(known(stock_name)[switch:], years[switch:], "t")
    expected = known(expected_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegativeInflowWarning)
        ds = stock_driven(stock, Normal(mean=8, sd=3, inflow_at="end"),
                          by_age(known("InitialStock_8")), negative_inflow=rule)
    np.testing.assert_array_almost_equal(ds.inflow.values, expected[switch:], 12)
    np.testing.assert_array_almost_equal(ds.historic_inflow.values[::-1], expected[:switch], 12)
    np.testing.assert_array_almost_equal(balance(ds, ds.initial_stock.values), known("Bal30")[switch:], 12)
    return ds


def test_stock_driven_model_Initialstock_NegInflow():
    ds = _initial_stock_case("Stock_SDM_NegInflow_NormLTNeg", "warn", "InitialStockInflowNegNoCorrect")
    assert ds.inflow.values.min() < -1


def test_stock_driven_model_Initialstock_NegInflowNotUsed():
    _initial_stock_case("Stock_SDM_PosInflow_NormLTNeg", "raise", "InitialStockInflowNoNegCorrect")


def test_stock_driven_model_Initialstock_NegInflowFixed():
    ds = _initial_stock_case("Stock_SDM_NegInflow_NormLTNeg", "retire", "InitialStockInflowNegCorrect")
    np.testing.assert_allclose(ds.stock.values, known("Stock_SDM_NegInflow_NormLTNeg")[8:], rtol=1e-12)
    assert (ds.retired_early.values > 0).sum() == 3


def test_compute_stock_driven_model_initialstock():
    years = known("Time_T_FixedLT_2").astype(int)  # 1..9; SwitchTime 5: model from year 5
    lifetime = Normal(mean=5, sd=1.5, inflow_at="end")
    ds = stock_driven(series(known("FutureStock_2")[4:], years[4:], "t"), lifetime,
                      by_age(known("InitialStock_2")), by_cohort=True)
    ref_inflow = known("I_InitialStock_2_Ref")
    np.testing.assert_array_almost_equal(ds.inflow.values, ref_inflow[4:], 8)
    np.testing.assert_array_almost_equal(ds.historic_inflow.values[::-1], ref_inflow[:4], 8)
    np.testing.assert_array_almost_equal(ds.stock_by_cohort.values, known("Sc_InitialStock_2_Ref")[4:], 8)
    np.testing.assert_array_almost_equal(ds.stock.values, known("Sc_InitialStock_2_Ref_Sum")[4:], 8)
    np.testing.assert_array_almost_equal(ds.outflow_by_cohort.values, known("Oc_InitialStock_2_Ref")[4:], 8)
    # ODYM's historic years: the inflow-driven model on the historic inflows
    past = inflow_driven(series(ref_inflow[:4], years[:4], "t/yr"), lifetime, by_cohort=True)
    np.testing.assert_array_almost_equal(past.stock_by_cohort.values,
                                         known("Sc_InitialStock_2_Ref")[:4, :4], 8)
    np.testing.assert_array_almost_equal(past.outflow_by_cohort.values,
                                         known("Oc_InitialStock_2_Ref")[:4, :4], 8)
    # and the whole run, inflow-driven, is the same model
    whole = inflow_driven(series(ref_inflow, years, "t/yr"), lifetime, by_cohort=True)
    np.testing.assert_array_almost_equal(whole.stock_by_cohort.values, known("Sc_InitialStock_2_Ref"), 8)


# --- type split (ODYM's lognormal cases: published vs corrected) -------------------------------

TYPES = ["type1", "type2"]


def _typed(values, dim_values=None):
    return xr.DataArray(np.asarray(values, dtype=float), dims="type", coords={"type": TYPES})


def _typesplit_lifetime(odym_swap: bool, n: int):
    if odym_swap:
        table = odym_lognormal_table(6.0, 3.0, n)
        return SurvivalTable(xr.DataArray(np.tile(table, (2, 1)), dims=("type", "age"),
                                          coords={"type": TYPES, "age": np.arange(n)}))
    return LogNormal(mean=_typed([6.0, 6.0]).assign_attrs(units="yr"),
                     sd=_typed([3.0, 3.0]).assign_attrs(units="yr"), inflow_at="end")


def _typesplit_inputs(shares_name, first):
    years = known("Time_T_FixedLT_2").astype(int)  # 1..9
    shares = known(shares_name)[-(9 - first):]
    share_da = xr.DataArray(shares, dims=("time", "type"), coords={"time": years[first:], "type": TYPES},
                            attrs={"units": "1"})
    init = known("InitialStock1")[:first]  # (cohorts, type), oldest first
    init_da = xr.DataArray(init[::-1], dims=("age", "type"), coords={"age": np.arange(first), "type": TYPES},
                           attrs={"units": "t"})
    return years, share_da, init_da


@pytest.mark.parametrize("odym_swap", [False, True], ids=["corrected", "odym-published"])
def test_stock_driven_model_Initialstock_TypeSplit(odym_swap):
    years, shares, init = _typesplit_inputs("TypeSplit1", 3)
    stock = series(known("FutureStock1"), years[3:], "t")
    ds = stock_driven(stock, _typesplit_lifetime(odym_swap, 9), init, type_shares=shares, by_cohort=True)
    suffix = "" if odym_swap else "_corrected"
    at = ds.stock_by_cohort.sel(time=years[7]).transpose("cohort", "type").values  # ODYM's [4, :, g]
    np.testing.assert_array_almost_equal(at[:, 0], known("TypeSplitStockCheckType1" + suffix), 12)
    np.testing.assert_array_almost_equal(at[:, 1], known("TypeSplitStockCheckType2" + suffix), 12)
    inflow = known("TypeSplitInflowCheckType" + suffix)  # historic cohorts, then model years
    np.testing.assert_array_almost_equal(ds.historic_inflow.transpose("age", "type").values[::-1],
                                         inflow[:3], 12)
    np.testing.assert_array_almost_equal(ds.inflow_by_type.transpose("time", "type").values, inflow[3:], 12)
    np.testing.assert_array_almost_equal(balance(ds, ds.initial_stock.values), np.zeros(6), 12)
    np.testing.assert_allclose(ds.stock_by_type.sum("type").values, stock.values, rtol=1e-13)


@pytest.mark.parametrize("odym_swap", [False, True], ids=["corrected", "odym-published"])
@pytest.mark.parametrize(
    ("case", "stock_name", "rule"),
    [(1, "FutureStock1a", "retire"), (2, "FutureStock2a", "warn"), (3, "FutureStock2a", "retire")],
    ids=["NotUsed", "NoCorr", "Corr"],
)
def test_stock_driven_model_Initialstock_NegInflow_TypeSplit(case, stock_name, rule, odym_swap):
    years, shares, init = _typesplit_inputs("TypeSplit1a", 3)
    stock = series(known(stock_name)[3:], years[3:], "t")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegativeInflowWarning)
        ds = stock_driven(stock, _typesplit_lifetime(odym_swap, 9), init, type_shares=shares,
                          negative_inflow=rule, by_cohort=True)
    suffix = "" if odym_swap else "_corrected"
    expected = known(f"TypeSplitInitialStockInflowCorrect{case}StockCheck{suffix}")  # [:, cohort 2, :]
    oldest_model = ds.stock_by_cohort.sel(cohort=years[2]).transpose("time", "type").values
    np.testing.assert_array_almost_equal(oldest_model, expected[3:], 12)
    np.testing.assert_array_almost_equal(init.sel(age=0).values, expected[2], 12)
    np.testing.assert_array_almost_equal(balance(ds, ds.initial_stock.values), known("Bal9")[3:], 12)


@pytest.mark.parametrize(
    ("stock_name", "rule"),
    [("Stock_SDM_PosInflow_NormLTNeg", "retire"), ("Stock_SDM_NegInflow_NormLTNeg", "warn"),
     ("Stock_SDM_NegInflow_NormLTNeg", "retire")],
    ids=["NotUsed_NormalLT", "NoCorr_NormalLT", "Corr_NormalLT"],
)
def test_stock_driven_model_Initialstock_NegInflow_TypeSplit_NormalLT(stock_name, rule):
    # ODYM checks only the mass balance of these cases (SwitchTime 8, InitialStock2, TypeSplit2a)
    years = known("Time_T_FixedLT_3").astype(int)  # 0..29
    first = 8
    shares = xr.DataArray(known("TypeSplit2a")[first:], dims=("time", "type"),
                          coords={"time": years[first:], "type": TYPES})
    init = xr.DataArray(known("InitialStock2")[:first][::-1], dims=("age", "type"),
                        coords={"type": TYPES}, attrs={"units": "t"})
    lifetime = Normal(mean=_typed([7.0, 7.0]).assign_attrs(units="yr"),
                      sd=_typed([2.0, 2.0]).assign_attrs(units="yr"), inflow_at="end")
    stock = series(known(stock_name)[first:], years[first:], "t")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegativeInflowWarning)
        ds = stock_driven(stock, lifetime, init, type_shares=shares, negative_inflow=rule)
    np.testing.assert_array_almost_equal(balance(ds, ds.initial_stock.values), known("Bal30")[first:], 12)
    np.testing.assert_allclose(ds.stock_by_type.sum("type").values, stock.values, rtol=1e-12, atol=1e-12)
    if rule == "retire":
        assert np.all(ds.inflow.values >= 0)


# --- Weibull -----------------------------------------------------------------------------------

WEIBULL = Weibull(shape=1.2, scale=1.0, inflow_at="end")


def test_inflow_driven_model_WeibullDistLifetime():
    ds = inflow_driven(series(INFLOW10, T10, "t/yr"), WEIBULL, by_cohort=True)
    np.testing.assert_array_almost_equal(ds.stock_by_cohort.values, known("Stock_TC_WeibullLT"), 9)
    np.testing.assert_array_almost_equal(ds.stock.values, known("Stock_T_WeibullLT"), 8)
    np.testing.assert_array_almost_equal(ds.outflow_by_cohort.values, known("Outflow_TC_WeibullLT"), 9)
    np.testing.assert_array_almost_equal(ds.outflow.values, known("Outflow_T_WeibullLT"), 9)
    np.testing.assert_array_almost_equal(np.diff(ds.stock.values, prepend=0),
                                         known("StockChange_T_WeibullLT"), 9)
    np.testing.assert_array_almost_equal(balance(ds), known("Bal"), 12)


def test_stock_driven_model_WeibullDistLifetime():
    stock = inflow_driven(series(INFLOW10, T10, "t/yr"), WEIBULL).stock
    ds = stock_driven(stock, WEIBULL, by_cohort=True)
    np.testing.assert_array_almost_equal(ds.stock_by_cohort.values, known("Stock_TC_WeibullLT"), 8)
    np.testing.assert_array_almost_equal(ds.outflow_by_cohort.values, known("Outflow_TC_WeibullLT"), 8)
    np.testing.assert_array_almost_equal(ds.inflow.values, INFLOW10, 8)
    np.testing.assert_array_almost_equal(ds.outflow.values, known("Outflow_T_WeibullLT"), 9)
    np.testing.assert_array_almost_equal(np.diff(ds.stock.values, prepend=0),
                                         known("StockChange_T_WeibullLT"), 8)
    np.testing.assert_array_almost_equal(balance(ds), known("Bal"), 12)


# --- inflow from an initial stock (compute_i_from_s) --------------------------------------------

@pytest.mark.parametrize(
    ("years_name", "lifetime", "stock_name", "inflow_name", "decimals", "stock_decimals"),
    [
        ("Time_T_FixedLT_X", Fixed(mean=5, inflow_at="end"), "InitialStock_X", "Inflow_X", None, None),
        ("Time_T_FixedLT_XX", Normal(mean=5, sd=1.5, inflow_at="end"), "InitialStock_XX", "Inflow_XX", 8, 9),
        ("Time_T_FixedLT_XX", WEIBULL, "InitialStock_XX", "Inflow_WB", 6, 8),
    ],
    ids=["fixedLifetime", "normallyDistLifetime", "WeibullDistLifetime"],
)
def test_inflow_from_stock(years_name, lifetime, stock_name, inflow_name, decimals, stock_decimals):
    years = known(years_name).astype(int)
    initial = known(stock_name)  # at the end of the last year, by cohort
    got = historic_inflow(by_age(initial), lifetime, first_year=int(years[-1]) + 1)
    assert got.cohort.values.tolist() == years[::-1].tolist()
    back = inflow_driven(series(got.values[::-1], years, "t/yr"), lifetime, by_cohort=True)
    last = back.stock_by_cohort.isel(time=-1).values
    if decimals is None:
        np.testing.assert_array_equal(got.values[::-1], known(inflow_name))
        np.testing.assert_array_equal(last, initial)
    else:
        np.testing.assert_array_almost_equal(got.values[::-1], known(inflow_name), decimals)
        np.testing.assert_array_almost_equal(last, initial, stock_decimals)


# --- lognormal and folded normal -----------------------------------------------------------------

def test_stock_from_inflow_LogNormalDistLifetime():
    # ODYM's lognormal swaps sd/mean, which does not matter for sd == mean (20, 20): its value holds
    years = known("Time_T_LN").astype(int)
    ds = inflow_driven(series(known("Inflow_LN"), years, "t/yr"), LogNormal(mean=20, sd=20, inflow_at="end"))
    np.testing.assert_array_almost_equal(known("LN_Stock_Reference_2060"), ds.stock.values[60], 9)


def test_stock_from_inflow_FoldedNormalDistLifetime():
    years = known("Time_T_FN").astype(int)
    ds = inflow_driven(series(known("Inflow_FN"), years, "t/yr"), FoldedNormal(mean=20, sd=20, inflow_at="end"))
    np.testing.assert_array_almost_equal(known("FN_Stock_Reference_2060"), ds.stock.values[60], 12)


def test_compute_outflow_pdf():
    inflow = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 2 + [1, 2, 3, 4, 5], dtype=float)
    years = np.arange(25)
    lifetime = Normal(mean=8, sd=3, inflow_at="end")
    ds = inflow_driven(series(inflow, years, "t/yr"), lifetime, by_cohort=True)
    S = lifetime.survival_matrix(years).values
    pdf = np.zeros_like(S)
    pdf[np.diag_indices(25)] = 1 - np.diag(S)
    for m in range(25):
        pdf[m + 1 :, m] = -np.diff(S[m:, m])
    alternative = np.einsum("c,tc->tc", inflow, pdf)
    np.testing.assert_array_almost_equal(ds.outflow_by_cohort.values, alternative, 14)
    assert np.abs(ds.outflow_by_cohort.values - alternative).sum() < 1e-12


# --- beyond ODYM's test file: cohort-varying lifetimes, as ODYM computes them ------------------

def test_cohort_varying_lifetimes_with_initial_stock_and_by_cohort_as_odym():
    # ODYM's compute_sf with a lifetime per cohort: sf[t, c] = norm.sf(t - c, Mean[c], StdDev[c]);
    # compute_stock_driven_model_initialstock: historic inflow = InitialStock[c] / sf[t0 - 1, c].
    years = np.arange(1990, 2020)
    first = 2000
    mean = np.linspace(4.0, 12.0, years.size)
    sd = 0.3 * mean
    S = np.tril(scipy.stats.norm.sf(years[:, None] - years[None, :], loc=mean[None, :], scale=sd[None, :]))
    hist = years < first
    init = np.linspace(1.0, 3.0, hist.sum())  # by cohort, oldest first
    hist_inflow = init / S[hist.sum() - 1, hist]
    target = 40.0 + np.arange(years.size - hist.sum(), dtype=float)
    rest = target - S[~hist][:, hist] @ hist_inflow
    inflow = np.linalg.solve(S[np.ix_(~hist, ~hist)], rest)
    by_cohort = S[~hist] * np.concatenate([hist_inflow, inflow])[None, :]

    cohort = lambda v: xr.DataArray(v, dims="cohort", coords={"cohort": years}, attrs={"units": "yr"})  # noqa: E731
    lifetime = Normal(mean=cohort(mean), sd=cohort(sd), inflow_at="end")
    ds = stock_driven(series(target, years[~hist], "t"), lifetime, by_age(init), by_cohort=True)
    np.testing.assert_allclose(ds.inflow.values, inflow, rtol=1e-11)
    np.testing.assert_allclose(ds.historic_inflow.values[::-1], hist_inflow, rtol=1e-13)
    np.testing.assert_allclose(ds.stock_by_cohort.values, by_cohort, rtol=1e-11, atol=1e-13)
    back = inflow_driven(series(np.concatenate([hist_inflow, inflow]), years, "t/yr"), lifetime, by_cohort=True)
    np.testing.assert_allclose(back.stock.values[~hist], target, rtol=1e-12)
