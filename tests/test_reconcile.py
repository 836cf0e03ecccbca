"""Data reconciliation (mfa.analysis.reconcile): textbook answers, closed forms, properties,
gross-error detection, classification of variables and error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from mfa.analysis.reconcile import reconcile
from mfa.core.errors import MfaError
from mfa.core.system import Flow, ProcessSystem, Stock
from mfa.core.units import UnitError, ureg

E = "environment"
YEARS = np.arange(2001, 2051)  # 50 years


def da(values, unit="t/yr", years=None, dims=("time",), coords=None) -> xr.DataArray:
    values = np.atleast_1d(np.asarray(values, dtype=float))
    coords = dict(coords or {})
    coords.setdefault("time", 2001 + np.arange(values.shape[0]) if years is None else years)
    return xr.DataArray(values, dims=dims, coords={d: coords[d] for d in dims},
                        attrs={"units": unit})


def one_process() -> ProcessSystem:
    """One process with one inflow ``a`` and two outflows ``b``, ``c``: a - b - c = 0."""
    return ProcessSystem("one", ["p"], [Flow("a", E, "p"), Flow("b", "p", E), Flow("c", "p", E)])


def heat_exchanger() -> ProcessSystem:
    """Narasimhan & Jordache (2000), ch. 1: heat exchanger with bypass, streams 1-6.

    Stream 1 is split into 2 (through the exchanger, leaving as 4) and 3 (through the bypass
    valve, leaving as 5); 4 and 5 mix into stream 6.
    """
    return ProcessSystem(
        "hx", ["splitter", "exchanger", "valve", "mixer"],
        [Flow("f1", E, "splitter"), Flow("f2", "splitter", "exchanger"),
         Flow("f3", "splitter", "valve"), Flow("f4", "exchanger", "mixer"),
         Flow("f5", "valve", "mixer"), Flow("f6", "mixer", E)],
    )


NDFLOWS = [
    ("ore", E, "mining"), ("tailings", "mining", E), ("concentrate", "mining", "separation"),
    ("separation_losses", "separation", E), ("oxide", "separation", "metal"),
    ("metal", "metal", "magnet"), ("metal_losses", "metal", E), ("magnets", "magnet", "use"),
    ("new_scrap", "magnet", "recycling"), ("eol", "use", "collection"),
    ("collected", "collection", "recycling"), ("uncollected", "collection", E),
    ("recycled", "recycling", "metal"), ("recycling_losses", "recycling", E),
]
NDPROCESSES = ["mining", "separation", "metal", "magnet", "use", "collection", "recycling"]


def chain(dims=("time",)) -> ProcessSystem:
    """A cycle like Nd's: mining to magnets in use (a stock), collection and recycling."""
    return ProcessSystem("chain", NDPROCESSES, [Flow(*f, dims) for f in NDFLOWS],
                         [Stock("in_use", "use", dims)])


def chain_truth(n_years: int, seed: int = 3) -> dict[str, np.ndarray]:
    """Exactly balanced values of :func:`chain` [t/yr]; ``in_use`` is the stock change."""
    rng = np.random.default_rng(seed)
    v = {k: rng.uniform(lo, hi, n_years) for k, lo, hi in [
        ("concentrate", 80, 120), ("tailings", 15, 25), ("separation_losses", 3, 7),
        ("metal_losses", 2, 6), ("new_scrap", 8, 12), ("eol", 25, 35), ("uncollected", 10, 15),
        ("recycling_yield", 0.7, 0.9)]}
    v["collected"] = v["eol"] - v["uncollected"]
    v["recycled"] = v.pop("recycling_yield") * (v["new_scrap"] + v["collected"])
    v["ore"] = v["concentrate"] + v["tailings"]
    v["oxide"] = v["concentrate"] - v["separation_losses"]
    v["metal"] = v["oxide"] + v["recycled"] - v["metal_losses"]
    v["magnets"] = v["metal"] - v["new_scrap"]
    v["in_use"] = v["magnets"] - v["eol"]
    v["recycling_losses"] = v["new_scrap"] + v["collected"] - v["recycled"]
    assert min(x.min() for x in v.values()) > 0
    return v


def measure(values: dict[str, np.ndarray], rel_sd=0.05, seed=11, skip=()):
    """Noisy measurements (normal, sd = rel_sd * true value) and their sds, as DataArrays."""
    rng = np.random.default_rng(seed)
    y, s = {}, {}
    for k, v in values.items():
        if k in skip:
            continue
        sd = rel_sd * np.abs(v)
        y[k], s[k] = da(v + rng.normal(0.0, 1.0, v.shape) * sd), da(sd)
    return y, s


def balance_gap(system: ProcessSystem, result) -> float:
    """Largest |residual| / throughput of every process, by mfa.core.system's own balance code.

    Stock levels are the cumulated reconciled stock changes (initial stock 0).
    """
    values = {k: v for k, v in result.flows.items()}
    for name, change in result.stock_changes.items():
        values[name] = change.cumsum("time").assign_attrs(units="t")
    ds = system.to_dataset(values)
    rel = np.abs(ds["mass_balance_residual"]) / ds["process_throughput"]
    return float(rel.max())


# ------------------------------------------------------------------------------ known answers
def test_textbook_heat_exchanger_with_bypass():
    """Narasimhan & Jordache (2000), ch. 1, flow reconciliation of the heat exchanger with
    bypass: all six streams measured with equal variances; published reconciled values."""
    measured = [101.91, 64.45, 34.65, 64.20, 36.44, 98.88]
    published = [100.22, 64.50, 35.72, 64.50, 35.72, 100.22]
    names = [f"f{i}" for i in range(1, 7)]
    r = reconcile(heat_exchanger(), {n: da(v) for n, v in zip(names, measured, strict=True)},
                  {n: da(1.0) for n in names})
    got = [float(r.flows[n][0]) for n in names]
    np.testing.assert_allclose(got, published, atol=0.005)
    assert int(r.dof[0]) == 4 - 0  # four balances, no unknowns
    adjustments = np.array(measured) - np.array(got)
    assert float(r.chi2[0]) == pytest.approx(float((adjustments**2).sum()), rel=1e-12)
    assert bool(r.redundant.all())


def test_one_process_equal_sds_split_the_gap_equally():
    """a - b - c = 0, all sd = s, gap d = a - b - c.

    Minimising sum((y - y_hat)^2) / s^2 under the constraint (Lagrange) moves each value by
    d/3 towards balance: a_hat = a - d/3, b_hat = b + d/3, c_hat = c + d/3. The covariance
    of the estimates is s^2 (I - A'A/3), so each sd is s*sqrt(2/3). chi2 = d^2 / (3 s^2) with
    1 dof; each adjustment has variance s^2/3, so every |normalised residual| is
    d / (s sqrt(3)) = sqrt(chi2).
    """
    a, b, c, s = 100.0, 60.0, 31.0, 2.0
    d = a - b - c
    r = reconcile(one_process(), {"a": da(a), "b": da(b), "c": da(c)},
                  {k: da(s) for k in "abc"})
    est = {k: float(r.flows[k][0]) for k in "abc"}
    assert est == pytest.approx({"a": a - d / 3, "b": b + d / 3, "c": c + d / 3}, rel=1e-13)
    np.testing.assert_allclose(r.sd.values.ravel(), s * math.sqrt(2 / 3), rtol=1e-12)
    chi2 = d**2 / (3 * s**2)
    assert float(r.chi2[0]) == pytest.approx(chi2, rel=1e-12)
    assert int(r.dof[0]) == 1
    assert float(r.p_value[0]) == pytest.approx(math.erfc(math.sqrt(chi2 / 2)), rel=1e-10)
    np.testing.assert_allclose(r.normalised_residual.sel(variable=["a", "b", "c"]).values.ravel(),
                               [math.sqrt(chi2), -math.sqrt(chi2), -math.sqrt(chi2)], rtol=1e-12)


def test_one_process_weighted_split_follows_the_variances():
    """Unequal sds s_i: the Lagrange solution moves y_i by -(dA_i/dx) s_i^2 d / sum(s_j^2),
    i.e. a_hat = a - s_a^2 d / S, b_hat = b + s_b^2 d / S, c_hat = c + s_c^2 d / S with
    S = s_a^2 + s_b^2 + s_c^2: the least certain value absorbs most of the gap."""
    a, b, c = 100.0, 60.0, 31.0
    sa, sb, sc = 1.0, 2.0, 4.0
    d, total = a - b - c, sa**2 + sb**2 + sc**2
    r = reconcile(one_process(), {"a": da(a), "b": da(b), "c": da(c)},
                  {"a": da(sa), "b": da(sb), "c": da(sc)})
    want = [a - sa**2 * d / total, b + sb**2 * d / total, c + sc**2 * d / total]
    np.testing.assert_allclose([float(r.flows[k][0]) for k in "abc"], want, rtol=1e-13)
    # var(a_hat) = s_a^2 - s_a^4 / S
    assert float(r.sd.sel(variable="a")[0]) ** 2 == pytest.approx(sa**2 - sa**4 / total)
    assert float(r.chi2[0]) == pytest.approx(d**2 / total, rel=1e-12)


def test_unmeasured_flow_is_computed_with_propagated_sd():
    """a measured, b measured, c unknown: no redundancy, c = a - b, var(c) = s_a^2 + s_b^2."""
    r = reconcile(one_process(), {"a": da(100.0), "b": da(60.0)}, {"a": da(3.0), "b": da(4.0)})
    assert float(r.flows["c"][0]) == pytest.approx(40.0)
    assert float(r.sd.sel(variable="c")[0]) == pytest.approx(5.0)
    assert int(r.dof[0]) == 0 and np.isnan(float(r.p_value[0])) and bool(r.consistent[0])
    assert not bool(r.redundant.any())
    assert "No redundant measurement" in r.report()


# ------------------------------------------------------------------------------ properties
def test_balances_hold_and_vectorised_equals_year_by_year():
    system = chain()
    truth = chain_truth(len(YEARS))
    y, s = measure(truth)
    # Different measurement patterns over the years: NaN = not measured that year.
    rng = np.random.default_rng(5)
    for k in ("oxide", "eol", "magnets", "in_use", "concentrate"):
        gone = rng.random(len(YEARS)) < 0.3
        y[k] = y[k].where(~xr.DataArray(gone, dims="time", coords={"time": YEARS}))
    r = reconcile(system, y, s, covariance=True, negative="report")
    assert balance_gap(system, r) < 1e-12
    assert bool(r.observable.all())
    for i in range(len(YEARS)):
        one = reconcile(system, {k: v.isel(time=[i]) for k, v in y.items()},
                        {k: v.isel(time=[i]) for k, v in s.items()}, covariance=True,
                        negative="report")
        for key in ("estimate", "sd", "normalised_residual", "chi2", "p_value"):
            np.testing.assert_allclose(one.dataset[key].values,
                                       r.dataset[key].isel(time=[i]).values,
                                       rtol=1e-10, atol=1e-12, err_msg=key)
        np.testing.assert_allclose(one.covariance.values, r.covariance.isel(time=[i]).values,
                                   rtol=1e-9, atol=1e-12)


def test_batch_dims_are_reconciled_cell_by_cell():
    regions = ["China", "Europe", "Japan"]
    system = chain(("time", "region"))
    cells = [chain_truth(10, seed=k) for k in range(3)]
    per_region, y, s = [], {}, {}
    for k in range(3):
        yk, sk = measure(cells[k], seed=20 + k, skip=("oxide",))
        per_region.append(reconcile(chain(), yk, sk))
        for n in yk:
            y.setdefault(n, []).append(yk[n])
            s.setdefault(n, []).append(sk[n])
    coord = xr.DataArray(regions, dims="region")
    y = {n: xr.concat(v, dim=coord).transpose("region", "time") for n, v in y.items()}
    s = {n: xr.concat(v, dim=coord) for n, v in s.items()}
    r = reconcile(system, y, s)
    for k, reg in enumerate(regions):
        np.testing.assert_allclose(r.estimate.sel(region=reg).values,
                                   per_region[k].estimate.values, rtol=1e-12)
        np.testing.assert_allclose(r.chi2.sel(region=reg).values, per_region[k].chi2.values,
                                   rtol=1e-12)
    assert balance_gap(system, r) < 1e-12
    assert r.flows["oxide"].dims == ("time", "region")
    assert "region" in r.report()


def test_consistent_data_are_unchanged_with_zero_chi2():
    truth = chain_truth(len(YEARS))
    y = {k: da(v) for k, v in truth.items()}
    s = {k: da(0.05 * v) for k, v in truth.items()}
    r = reconcile(chain(), y, s)
    for k, v in truth.items():
        np.testing.assert_allclose(r.estimate.sel(variable=k).values, v, rtol=1e-13)
    assert float(r.chi2.max()) < 1e-20
    assert bool(r.consistent.all())
    np.testing.assert_allclose(r.normalised_residual.values, 0.0, atol=1e-9)


def test_statistics_are_calibrated_without_gross_errors():
    """2000 years of pure measurement noise: the chi-square test rejects about alpha of them,
    normalised residuals have unit variance, and the stated sds match the actual errors of
    the estimates (measured and computed alike)."""
    n = 2000
    truth = chain_truth(n, seed=8)
    y, s = measure({k: v for k, v in truth.items()}, seed=9, skip=("oxide", "collected"))
    years = 2001 + np.arange(n)
    r = reconcile(chain(), y, s, negative="report")
    assert 0.035 < float((~r.consistent).mean()) < 0.065
    nr = r.normalised_residual.where(r.redundant)
    np.testing.assert_allclose((nr**2).mean("time").dropna("variable"), 1.0, atol=0.1)
    truth_da = xr.DataArray(np.stack([truth[k] for k in r.dataset["variable"].values]),
                            dims=("variable", "time"), coords={"time": years})
    z = (r.estimate - truth_da) / r.sd
    np.testing.assert_allclose((z**2).mean("time"), 1.0, atol=0.1)
    assert float(r.sd.sel(variable="oxide").mean()) > 0  # computed, with an sd


def test_a_measurement_with_a_tiny_sd_is_kept():
    y = {"a": da(100.0), "b": da(60.0), "c": da(31.0)}
    r = reconcile(one_process(), y, {"a": da(1e-6), "b": da(2.0), "c": da(2.0)})
    assert float(r.flows["a"][0]) == pytest.approx(100.0, abs=1e-9)
    assert float(r.flows["b"][0]) == pytest.approx(64.5, rel=1e-9)


def test_covariance_is_symmetric_positive_semidefinite_and_matches_sd():
    y, s = measure(chain_truth(len(YEARS)), skip=("oxide", "collected"))
    r = reconcile(chain(), y, s, covariance=True)
    cov = r.covariance.transpose("time", "variable", "variable_2").values
    np.testing.assert_allclose(cov, np.swapaxes(cov, 1, 2), rtol=1e-12, atol=1e-12)
    eig = np.linalg.eigvalsh(cov)
    assert eig.min() > -1e-9 * eig.max()
    np.testing.assert_allclose(np.sqrt(np.diagonal(cov, axis1=1, axis2=2)),
                               r.sd.transpose("time", "variable").values, rtol=1e-9)
    assert ureg.Unit(r.covariance.attrs["units"]) == ureg.Unit("t**2/yr**2")


def test_units_are_converted_and_relative_sds_accepted():
    truth = chain_truth(3)
    y = {k: da(v / 1e3, "kt/yr") for k, v in truth.items()}
    y["eol"] = xr.DataArray(ureg.Quantity(truth["eol"] * 1e3, "kg/yr"), dims="time",
                            coords={"time": YEARS[:3]})
    s = {k: da(np.full(3, 5.0), "%") for k in truth}
    r = reconcile(chain(), y, s)
    np.testing.assert_allclose(r.measured_sd.sel(variable="ore").values, 0.05 * truth["ore"])
    for k, v in truth.items():  # balanced data, so unchanged
        np.testing.assert_allclose(r.flows[k].values if k != "in_use" else
                                   r.stock_changes[k].values, v, rtol=1e-12)
    attrs = r.flows["ore"].attrs
    assert (attrs["units"], attrs["source"], attrs["target"]) == ("t/yr", E, "mining")
    assert r.stock_changes["in_use"].attrs["process"] == "use"


# ------------------------------------------------------------------------------ gross errors
def test_planted_gross_error_is_rejected_and_named_first():
    """oxide 50% too high in 2010 (sd 5%: about 9 sigma) in a redundant chain with noise."""
    truth = chain_truth(len(YEARS))
    y, s = measure(truth)
    year = 2010
    y["oxide"] = y["oxide"].where(y["oxide"]["time"] != year, y["oxide"] * 1.5)
    r = reconcile(chain(), y, s)
    assert not bool(r.consistent.sel(time=year))
    assert float(r.p_value.sel(time=year)) < 1e-6
    nr = r.normalised_residual.sel(time=year)
    assert str(abs(nr).idxmax("variable").values) == "oxide"
    assert bool(r.suspect.sel(variable="oxide", time=year))
    report = r.report(top=3)
    first_row = report.splitlines()[report.splitlines().index(
        next(line for line in report.splitlines() if line.startswith("Measurements"))) + 2]
    assert first_row.split()[:3] == ["*", "oxide", str(year)]
    assert f"year {year}: chi2 = " in report
    df = r.to_dataframe()
    assert df.loc[("oxide", year), "suspect"]


def test_flows_that_enter_the_balances_together_cannot_be_told_apart():
    """ore and tailings each enter only the mining balance: equal |normalised residual|."""
    y, s = measure(chain_truth(5))
    y["ore"] = y["ore"] * 1.5
    r = reconcile(chain(), y, s)
    nr = abs(r.normalised_residual)
    np.testing.assert_allclose(nr.sel(variable="ore"), nr.sel(variable="tailings"), rtol=1e-9)


# ------------------------------------------------------------------------------ classification
def test_unobservable_unknowns_are_reported_not_invented():
    """b1 and b2 both go from p to q and are unmeasured: only their sum is known."""
    system = ProcessSystem("par", ["p", "q"], [
        Flow("a", E, "p"), Flow("b1", "p", "q"), Flow("b2", "p", "q"), Flow("c", "q", E),
        Flow("d", "p", E)])
    y = {"a": da([100.0, 100.0]), "c": da([60.0, 58.0]), "d": da([41.0, np.nan])}
    s = {k: da([2.0, 2.0]) for k in y}
    r = reconcile(system, y, s)
    assert np.isnan(r.flows["b1"].values).all() and np.isnan(r.flows["b2"].values).all()
    assert not bool(r.observable.sel(variable=["b1", "b2"]).any())
    # 2001: a, c, d measured, 1 dof; 2002: d unknown and observable, no dof.
    assert r.dof.values.tolist() == [1, 0]
    assert float(r.flows["d"][1]) == pytest.approx(42.0)
    assert "Unobservable unknowns" in r.report()
    assert "b1: 2001-2002" in r.report() and "b2: 2001-2002" in r.report()


def test_non_redundant_measurements_are_left_unchanged():
    """The loss flow d of p is measured but the other flow out of p is not: d is not
    redundant; a and c are checked through the balance of the whole system."""
    system = ProcessSystem("nr", ["p", "q"], [
        Flow("a", E, "p"), Flow("b", "p", "q"), Flow("d", "p", E), Flow("c", "q", E)])
    y = {"a": da(100.0), "c": da(50.0), "d": da(45.0)}
    s = {"a": da(2.0), "c": da(2.0), "d": da(3.0)}
    r = reconcile(system, y, s)
    # b eliminated: a - d - c = 0 checks all three, which move: gap 5 split as 4 : 9 : 4.
    assert bool(r.redundant.sel(variable=["a", "c", "d"]).all())
    assert float(r.flows["d"][0]) == pytest.approx(45.0 + 5.0 * 9.0 / 17.0)
    # Without c: nothing checks a or d; both are kept as given and b = c = a - d.
    r = reconcile(system, {"a": y["a"], "d": y["d"]}, {"a": s["a"], "d": s["d"]})
    assert float(r.flows["a"][0]) == 100.0 and float(r.flows["d"][0]) == 45.0
    assert float(r.sd.sel(variable="d")[0]) == pytest.approx(3.0)
    assert not bool(r.redundant.any())
    assert np.isnan(r.normalised_residual.sel(variable=["a", "d"]).values).all()
    assert float(r.flows["b"][0]) == pytest.approx(55.0)
    assert float(r.flows["c"][0]) == pytest.approx(55.0)
    assert "not redundant" in r.report() and "a: 2001" in r.report()


def test_a_measurement_that_is_not_redundant_is_exactly_kept_next_to_redundant_ones():
    system = ProcessSystem("two", ["p", "q"], [
        Flow("a", E, "p"), Flow("b", "p", E), Flow("c", "p", E), Flow("d", E, "q"),
        Flow("e", "q", E)])
    y = {"a": da(100.0), "b": da(60.0), "c": da(31.0), "d": da(7.123456789)}
    s = {"a": da(2.0), "b": da(2.0), "c": da(2.0), "d": da(0.7)}
    r = reconcile(system, y, s)
    assert float(r.flows["d"][0]) == 7.123456789  # bit for bit
    assert float(r.flows["e"][0]) == pytest.approx(7.123456789, rel=1e-14)
    assert float(r.sd.sel(variable="d")[0]) == pytest.approx(0.7, rel=1e-14)
    assert float(r.flows["a"][0]) == pytest.approx(97.0)
    assert r.redundant.sel(variable=["a", "b", "c", "d"]).values.ravel().tolist() == [
        True, True, True, False]
    # Coupled balances: with tailings unknown, nothing checks ore; the rest is adjusted.
    y, s = measure(chain_truth(len(YEARS)), skip=("tailings",))
    r = reconcile(chain(), y, s, negative="report")
    assert not bool(r.redundant.sel(variable="ore").any())
    np.testing.assert_array_equal(r.flows["ore"].values, y["ore"].values)
    assert float(abs(r.flows["oxide"] - y["oxide"]).min()) > 0


def test_boundary_stock_is_unconstrained():
    system = ProcessSystem("b", ["p"], [Flow("a", E, "p"), Flow("b", "p", E)],
                           stocks=[Stock("landfill", E)])
    r = reconcile(system, {"a": da(10.0), "b": da(9.0), "landfill": da(1.0)},
                  {"a": da(1.0), "b": da(1.0), "landfill": da(0.5)})
    assert float(r.stock_changes["landfill"][0]) == 1.0
    assert not bool(r.redundant.sel(variable="landfill"))
    assert float(r.flows["a"][0]) == pytest.approx(9.5)


# ------------------------------------------------------------------------------ negative flows
def test_negative_reconciled_flow_raises_or_is_reported():
    # gap a - b - c = -12, absorbed by c (largest sd): c_hat = 2 - 12 * 400 / 400.5 < 0
    y = {"a": da(50.0), "b": da(60.0), "c": da(2.0)}
    s = {"a": da(0.5), "b": da(0.5), "c": da(20.0)}
    with pytest.raises(MfaError, match=r"reconciled flow\(s\) below zero: c: 2001; the "
                                       r"measurement that conflicts most is"):
        reconcile(one_process(), y, s)
    r = reconcile(one_process(), y, s, negative="report")
    assert float(r.flows["c"][0]) < 0  # not clipped
    assert bool(r.negative.sel(variable="c")[0])
    assert "NEGATIVE reconciled flows" in r.report() and "  c: 2001" in r.report()


def test_negative_stock_changes_are_allowed():
    system = ProcessSystem("s", ["use"], [Flow("a", E, "use"), Flow("b", "use", E)],
                           stocks=[Stock("in_use", "use")])
    r = reconcile(system, {"a": da(5.0), "b": da(9.0), "in_use": da(-4.0)},
                  {"a": da(1.0), "b": da(1.0), "in_use": da(1.0)})
    assert float(r.stock_changes["in_use"][0]) == pytest.approx(-4.0)
    assert not bool(r.negative.any())


# ------------------------------------------------------------------------------ errors
def _ok():
    return {"a": da(100.0), "b": da(60.0)}, {"a": da(1.0), "b": da(1.0)}


@pytest.mark.parametrize("change, error, message", [
    (lambda y, s: y.update(x=da(1.0)), MfaError,
     r"measured 'x' is not a flow or stock of system 'one'; flows and stocks: a, b, c"),
    (lambda y, s: s.update(x=da(1.0)), MfaError, r"sd 'x' is not a flow or stock"),
    (lambda y, s: s.pop("b"), MfaError, r"flow 'b' has no sd$"),
    (lambda y, s: s.update(c=da(1.0)), MfaError, r"flow 'c' has an sd but no value"),
    (lambda y, s: s.update(b=da(0.0)), MfaError,
     r"flow 'b': sd must be > 0: year 2001, value 60 t/yr, sd 0 t/yr"),
    (lambda y, s: s.update(b=da(-1.0)), MfaError, r"flow 'b': sd must be > 0"),
    (lambda y, s: s.update(b=da(np.nan)), MfaError,
     r"flow 'b': has no sd \(NaN or infinite\) where a value is measured: year 2001"),
    (lambda y, s: y.update(b=da(-60.0)), MfaError, r"flow 'b': measured flow is negative"),
    (lambda y, s: y.update(b=da(np.inf)), MfaError, r"flow 'b': measured value is infinite"),
    (lambda y, s: y.update(b=da(60.0, "kg")), UnitError,
     r"measured flow 'b': unit 'kg' has dimensionality \[mass\]"),
    (lambda y, s: s.update(b=da(1.0, "t")), UnitError, r"sd flow 'b': unit 't'"),
    (lambda y, s: y.update(b=da(60.0).assign_attrs(units=None)), UnitError,
     r"measured flow 'b': no units"),
    (lambda y, s: y.update(b=da([60.0, 61.0])), MfaError,
     r"measured flow 'b': coordinate 'time' differs from that of measured flow 'a' "
     r"\(\[2001, 2002\] \(size 2\) vs \[2001\] \(size 1\)\)"),
    (lambda y, s: y.update(b=da([[60.0]], dims=("time", "region"),
                                coords={"region": ["X"]})), MfaError,
     r"measured flow 'b' has dims \('time', 'region'\), expected \('time',\)"),
    (lambda y, s: y.update(b=xr.DataArray([60.0], dims="time", attrs={"units": "t/yr"})),
     MfaError, r"measured flow 'b': dim 'time' has no coordinate"),
    (lambda y, s: y.update(b=[60.0]), MfaError, r"measured 'b' must be an xarray.DataArray"),
])
def test_bad_input_gives_a_clear_error(change, error, message):
    y, s = _ok()
    change(y, s)
    with pytest.raises(error, match=message):
        reconcile(one_process(), y, s)


def test_stock_level_instead_of_change_is_a_unit_error():
    system = ProcessSystem("s", ["use"], [Flow("a", E, "use")], stocks=[Stock("in_use", "use")])
    with pytest.raises(UnitError, match=r"measured stock change 'in_use' \(the change per "
                                        r"year, not the stock level\): unit 't'"):
        reconcile(system, {"in_use": da(5.0, "t")}, {"in_use": da(1.0, "t/yr")})


def test_unsupported_systems_and_arguments_are_refused():
    mixed = ProcessSystem("m", ["p"], [Flow("a", E, "p", ("time", "region")),
                                       Flow("b", "p", E)])
    with pytest.raises(MfaError, match=r"flow 'b' has dims \('time',\), flow 'a' has "
                                       r"\('time', 'region'\); reconciliation needs"):
        reconcile(mixed, *_ok())
    pooled = ProcessSystem("pool", ["trade"], [Flow("a", E, "trade", ("time", "region")),
                                                Flow("b", "trade", E, ("time", "region"))],
                           pooled=["trade"])
    with pytest.raises(MfaError, match=r"process\(es\) 'trade' are balanced over the sum of "
                                       r"all regions \(pooled\)"):
        reconcile(pooled, *_ok())
    clash = ProcessSystem("k", ["p"], [Flow("a", E, "p", ("time", "kind"))])
    with pytest.raises(MfaError, match=r"dim 'kind' is used by the results; rename it"):
        reconcile(clash, *_ok())
    with pytest.raises(MfaError, match=r"alpha must be in \(0, 1\), got 1.5"):
        reconcile(one_process(), *_ok(), alpha=1.5)
    with pytest.raises(MfaError, match=r"negative must be 'raise' or 'report', got 'clip'"):
        reconcile(one_process(), *_ok(), negative="clip")
    with pytest.raises(MfaError, match=r"no measured values given"):
        reconcile(one_process(), {}, {})
    with pytest.raises(MfaError, match=r"measured must be a Dataset or a mapping"):
        reconcile(one_process(), [1.0], {})
    with pytest.raises(MfaError, match=r"expected a ProcessSystem, got dict"):
        reconcile({}, *_ok())


def test_dataset_input_and_report_layout():
    y, s = _ok()
    r = reconcile(one_process(), xr.Dataset(y), xr.Dataset(s))
    assert float(r.flows["c"][0]) == pytest.approx(40.0)
    text = r.report()
    assert text.splitlines()[0] == ("Reconciliation of system 'one': 3 variables (3 flows, "
                                    "0 stock changes), 1 year(s); values in t/yr.")
