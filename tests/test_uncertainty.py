"""Monte Carlo ensembles and Sobol sensitivity (mfa.analysis.uncertainty)."""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np
import pytest
import scipy.stats
import xarray as xr

from mfa.analysis import uncertainty as U
from mfa.analysis.uncertainty._sampling import _Range, _renormalise_share
from mfa.core.errors import MassBalanceError, MfaError
from mfa.data.params import load_parameters
from mfa.data.scenarios import apply_scenario
from mfa.models.neodymium import simulate
from mfa.plot.uncertainty import plot_sensitivity

# A few factors keep the tests fast; the full set is exercised by the CLI test and the benchmark.
FACTORS = ["magnet_per_vehicle", "lifetime_mean", "lifetime_sd", "collection_rate", "yield_mining"]


@pytest.fixture(scope="module")
def params():
    return apply_scenario(load_parameters(), "baseline")


@pytest.fixture(scope="module")
def deterministic(params):
    with np.errstate(all="ignore"):
        return simulate(params.values)


@pytest.fixture(scope="module")
def ens(params):
    return U.ensemble("neodymium", params, 24, seed=7, chunk=10, factors=FACTORS)


def _assert_same(a: xr.Dataset, b: xr.Dataset, *, exact: bool = True, rtol: float = 1e-12) -> None:
    assert set(a.data_vars) == set(b.data_vars)
    for v in a.data_vars:
        x, y = a[v].transpose(*b[v].dims).values, b[v].values
        if exact:
            np.testing.assert_array_equal(x, y, err_msg=v)
        else:
            np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-9, err_msg=v)


# ------------------------------------------------------------------------------ random numbers
def test_draws_are_counter_based_and_chunk_invariant():
    names = ["a", "b", "c"]
    full = U.draw_quantiles(3, names, 0, 103)
    assert full.shape == (103, 3)
    assert (full > 0).all() and (full < 1).all()
    for k in (1, 5, 7, 64):
        pieces = np.concatenate([U.draw_quantiles(3, names, s, min(s + k, 103))
                                 for s in range(0, 103, k)])
        np.testing.assert_array_equal(pieces, full)
    for s, e in [(1, 2), (4, 9), (13, 50), (99, 103)]:
        np.testing.assert_array_equal(U.draw_quantiles(3, names, s, e), full[s:e])
    # keyed by name, not by position; seeds differ
    np.testing.assert_array_equal(U.draw_quantiles(3, ["c", "a"], 0, 103), full[:, [2, 0]])
    assert not np.allclose(U.draw_quantiles(4, names, 0, 103), full)
    # roughly uniform
    big = U.draw_quantiles(0, ["x"], 0, 20000)[:, 0]
    assert scipy.stats.kstest(big, "uniform").pvalue > 1e-3


def test_triangular_and_uniform_transforms():
    u = np.linspace(0.0, 1.0, 101)
    value, low, high = np.array([2.0, 5.0, 3.0]), np.array([1.0, 5.0, 3.0]), np.array([4.0, 5.0, 3.0])
    x = _Range(value, low, high).ppf(u, "triangular")
    ref = scipy.stats.triang.ppf(u, c=(2.0 - 1.0) / 3.0, loc=1.0, scale=3.0)
    np.testing.assert_allclose(x[0], ref, rtol=1e-12)
    assert (x[1] == 5.0).all() and (x[2] == 3.0).all()  # collapsed ranges: the value, bit for bit
    xu = _Range(value, low, high).ppf(u, "uniform")
    np.testing.assert_allclose(xu[0], 1.0 + 3.0 * u)
    assert (xu[1] == 5.0).all()
    # NaN (parameter does not apply) stays NaN
    assert np.isnan(_Range(np.array([np.nan]), np.array([np.nan]), np.array([np.nan])).ppf(u, "triangular")).all()


def test_shares_still_sum_to_one():
    value = np.array([0.6, 0.2, 0.2])
    ranged = np.array([True, False, False])
    x = np.stack([np.array([0.7, 0.2, 0.2]), np.array([0.5, 0.2, 0.2])], axis=-1)  # (region, sample)
    out = _renormalise_share(x, value, ranged, axis=0)
    np.testing.assert_allclose(out.sum(axis=0), 1.0, rtol=1e-15)
    np.testing.assert_allclose(out[:, 0], [0.7, 0.15, 0.15])  # the others take up the rest
    np.testing.assert_allclose(out[:, 1], [0.5, 0.25, 0.25])
    # every element ranged: divided by the sum
    out = _renormalise_share(np.array([[0.8], [0.4]]), np.array([0.6, 0.4]),
                               np.array([True, True]), axis=0)
    np.testing.assert_allclose(out[:, 0], [2 / 3, 1 / 3])


def test_sampled_share_parameter_in_the_model(params):
    ps = params.values["production_share"]
    low = params.low["production_share"].copy()
    high = params.high["production_share"].copy()
    china_mining = dict(region="China", stage="mining")
    low.loc[china_mining] = ps.sel(china_mining) - 0.1
    high.loc[china_mining] = np.minimum(ps.sel(china_mining) + 0.1, 1.0)
    p2 = dataclasses.replace(params, low=params.low.assign(production_share=low),
                             high=params.high.assign(production_share=high))
    u = np.array([[0.02], [0.5], [0.98]])
    vals = U.sample_values(p2, u, ["production_share"])
    s = vals["production_share"]
    np.testing.assert_allclose(s.sum("region"), 1.0, rtol=1e-12)
    c = s.sel(region="China", stage="mining", time=2040).values
    assert c[0] < ps.sel(region="China", stage="mining", time=2040) < c[2]
    res = U.simulate_samples("neodymium", p2, u, ["production_share"])
    share = res["production_share"].sel(region="China", stage="mining", time=2040).values
    assert share[0] < share[1] < share[2]


# ------------------------------------------------------------------------------ ensembles
def test_collapsed_ranges_equal_the_deterministic_run(params, deterministic):
    flat = dataclasses.replace(params, low=params.values.copy(), high=params.values.copy())
    assert U.uncertain_parameters(flat) == []
    e = U.ensemble("neodymium", flat, 4, seed=1, chunk=3)
    assert e.sizes["sample"] == 4
    for v in deterministic.data_vars:
        for i in range(4):
            np.testing.assert_array_equal(e[v].isel(sample=i).values, deterministic[v].values,
                                          err_msg=v)
    # forcing the (collapsed) factors through the sampler: still the deterministic values
    forced = U.ensemble("neodymium", flat, 3, seed=1, chunk=2, factors=FACTORS)
    for v in deterministic.data_vars:
        np.testing.assert_allclose(forced[v].isel(sample=2).values, deterministic[v].values,
                                   rtol=1e-12, atol=1e-9, err_msg=v)
    vals = U.sample_values(flat, np.full((2, len(FACTORS)), 0.3), FACTORS)
    for name in FACTORS:
        np.testing.assert_array_equal(vals[name].isel(sample=1).values, params.values[name].values)


def test_ensemble_shape_spread_and_per_sample_balance(ens, deterministic):
    assert ens.sizes["sample"] == 24
    assert ens["primary_demand"].dims == ("sample", "time", "region")
    assert ens["mass_balance_residual"].dims == ("sample", "time", "process", "region")
    assert ens["in_use_stock"].attrs["units"] == "t"
    pd2050 = ens["primary_demand"].sel(time=2050).sum("region")
    assert float(pd2050.std()) > 0.01 * float(pd2050.mean())
    # every sample has its own lifetimes: the stock differs between samples with the same inflow
    assert np.unique(ens["in_use_stock"].sel(time=2040).sum(("region", "product")).values).size == 24
    # per-sample residuals are tiny and NaN only for the pooled process (trade, per region)
    res = ens["mass_balance_residual"].drop_sel(process="trade")
    assert float(np.abs(res).max()) < 1e-6
    assert float(np.abs(ens["mass_balance_residual_total"]).max()) < 1e-6
    assert json.loads(ens.attrs["mc_factors"]) == FACTORS
    np.testing.assert_array_equal(ens["factor_quantile"].values, U.draw_quantiles(7, FACTORS, 0, 24))


def test_same_seed_same_result_and_chunk_invariance(params, ens):
    again = U.ensemble("neodymium", params, 24, seed=7, chunk=10, factors=FACTORS)
    _assert_same(again, ens)
    other_chunks = U.ensemble("neodymium", params, 24, seed=7, chunk=24, factors=FACTORS)
    _assert_same(other_chunks, ens, exact=False)
    first = U.ensemble("neodymium", params, 5, seed=7, chunk=2, factors=FACTORS)
    _assert_same(first, ens.isel(sample=slice(0, 5)).drop_vars("factor_quantile").assign(
        factor_quantile=first["factor_quantile"]), exact=False)
    different = U.ensemble("neodymium", params, 24, seed=8, chunk=10, factors=FACTORS, variables=["total_demand"])
    assert not np.allclose(different["total_demand"].values, ens["total_demand"].values)


def test_dask_threaded_and_distributed_equal_numpy(params, ens):
    pytest.importorskip("dask")
    threaded = U.ensemble("neodymium", params, 24, seed=7, chunk=10, factors=FACTORS, scheduler="threads")
    _assert_same(threaded, ens)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        dist = U.ensemble("neodymium", params, 24, seed=7, chunk=10, factors=FACTORS,
                          scheduler=cluster.scheduler_address)
    _assert_same(dist, ens)


def test_per_sample_mass_balance_check_names_the_sample(params, monkeypatch):
    import mfa.models.neodymium.simulation as nd

    u = U.draw_quantiles(0, FACTORS, 0, 3)
    vals = U.sample_values(params, u, FACTORS, sample=[10, 11, 12])
    with np.errstate(all="ignore"):
        ok = simulate(vals)
    assert ok["mass_balance_residual"].sizes["sample"] == 3
    original = nd.supply_chain

    def leaky(*args, **kwargs):
        out = original(*args, **kwargs)
        f = out["flows"]["flow_mining_losses"]
        hit = (f["sample"] == 11) & (f["time"] == 2030) & (f["region"] == "China")
        out["flows"]["flow_mining_losses"] = f + 5.0 * hit
        return out

    monkeypatch.setattr(nd, "supply_chain", leaky)
    with pytest.raises(MassBalanceError,
                       match=r"process 'mining', year 2030, region 'China', sample 11:"):
        simulate(vals)


# ------------------------------------------------------------------------------ summaries
def test_summary_quantiles_world_totals_and_exceedance(ens):
    s = U.summarize(ens, quantiles=(0.05, 0.5, 0.95), thresholds=[1e5, 2e5])
    assert s["quantile"].attrs["units"] == "1"  # a share, as documented (was once dropped)
    np.testing.assert_allclose(
        s["primary_demand"].values,
        np.quantile(ens["primary_demand"].values, [0.05, 0.5, 0.95], axis=0))
    world = ens["primary_demand"].sum("region")
    np.testing.assert_allclose(s["sample_world_primary_demand"].values, world.values)
    np.testing.assert_allclose(s["world_primary_demand"].values,
                               np.quantile(world.values, [0.05, 0.5, 0.95], axis=0))
    p = s["exceedance_probability"]
    assert p.dims == ("threshold", "time")
    np.testing.assert_allclose(p.sel(threshold=1e5).values, (world > 1e5).mean("sample").values)
    # quantiles of shares are taken over the samples where they are defined
    ir = s["import_reliance"]
    assert set(ir.dims) == {"quantile", "time", "region", "stage"}
    assert s["world_in_use_stock"].attrs["units"] == "t"


def test_monte_carlo_disk_store_equals_memory_and_scheduler(params, tmp_path):
    kw = dict(n=20, seed=3, chunk=6, factors=FACTORS, thresholds=[1.5e5])
    mem = U.monte_carlo("neodymium", params, scenario=None, store="memory", scheduler="numpy", **kw)
    disk = U.monte_carlo("neodymium", params, scenario=None, store="disk", tmpdir=tmp_path, scheduler="threads"
                         if _has_dask() else "numpy", **kw)
    for v in mem.data_vars:
        np.testing.assert_array_equal(mem[v].values, disk[v].values, err_msg=v)
    assert list(tmp_path.iterdir()) == []  # temporary file removed
    assert mem.attrs["mc_seed"] == 3 and mem.attrs["mc_samples"] == 20
    assert mem.attrs["scenario"] == "baseline"
    assert json.loads(mem.attrs["parameter_files"])
    assert mem["factor_quantile"].dims == ("sample", "parameter")


def _has_dask() -> bool:
    try:
        import dask  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "number of samples"),
        ({"seed": -1}, "seed"),
        ({"chunk": 0}, "chunk size"),
        ({"factors": ["no_such_parameter"]}, "unknown parameter"),
        ({"quantiles": [1.5]}, "quantiles"),
        ({"distribution": "normal"}, "distribution"),
        ({"scheduler": "bogus"}, "unknown scheduler"),
        ({"variables": ["nope"]}, "unknown result variable"),
        ({"thresholds": [float("nan")]}, "thresholds"),
    ],
)
def test_user_errors(params, kwargs, match):
    args = {"n": 2, "scheduler": "numpy"} | kwargs
    with pytest.raises(MfaError, match=match):
        U.monte_carlo("neodymium", params, scenario=None, **args)


# ------------------------------------------------------------------------------ sensitivity
def test_sobol_ishigami():
    a, b = 7.0, 0.1

    def ishigami(u):
        x = -np.pi + 2 * np.pi * u
        return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])

    si = U.sobol_indices(ishigami, ["x1", "x2", "x3"], 2048, seed=1)
    var = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    s1 = np.array([0.5 * (1 + b * np.pi**4 / 5) ** 2, a**2 / 8, 0.0]) / var
    st = np.array([0.5 * (1 + b * np.pi**4 / 5) ** 2 + 8 * b**2 * np.pi**8 / 225, a**2 / 8,
                   8 * b**2 * np.pi**8 / 225]) / var
    np.testing.assert_allclose(si["S1"].values[0], s1, atol=0.03)
    np.testing.assert_allclose(si["ST"].values[0], st, atol=0.03)
    assert list(si["parameter"].values[np.argsort(-si["ST"].values[0])]) == ["x1", "x2", "x3"]
    assert (si["ST_conf"].values > 0).all()


def _ishigami(u, shift=0.0):
    x = -np.pi + 2 * np.pi * u
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0]) + shift


def test_sobol_first_order_does_not_depend_on_a_constant_added_to_the_output():
    # Uncentred Saltelli (2010) S1 gave 0.60 for x3 of Ishigami + 100 at n = 256 (true value 0)
    plain = U.sobol_indices(_ishigami, ["x1", "x2", "x3"], 256, seed=1, n_bootstrap=10)
    shifted = U.sobol_indices(lambda u: _ishigami(u, 100.0), ["x1", "x2", "x3"], 256, seed=1,
                              n_bootstrap=10)
    np.testing.assert_allclose(shifted["S1"].values, plain["S1"].values, atol=1e-9)
    np.testing.assert_allclose(shifted["ST"].values, plain["ST"].values, atol=1e-9)
    assert abs(float(shifted["S1"].sel(parameter="x3").item())) < 0.05


def test_sobol_indices_are_scipys_on_our_design():
    # the same A, B, AB_i rows handed to scipy.stats.sobol_indices give the same indices
    from scipy.stats import qmc
    from scipy.stats import sobol_indices as scipy_sobol_indices

    n, d = 128, 3
    base = qmc.Sobol(d=2 * d, scramble=True, seed=4).random_base2(7)
    a, b = base[:, :d], base[:, d:]
    ab = np.repeat(a[None], d, axis=0)
    for i in range(d):
        ab[i, :, i] = b[:, i]
    ref = scipy_sobol_indices(func={"f_A": _ishigami(a)[None], "f_B": _ishigami(b)[None],
                                    "f_AB": np.stack([_ishigami(x) for x in ab])[:, None]}, n=n)
    si = U.sobol_indices(_ishigami, ["x1", "x2", "x3"], n, seed=4, n_bootstrap=10)
    np.testing.assert_allclose(si["S1"].values[0], ref.first_order, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(si["ST"].values[0], ref.total_order, rtol=1e-12, atol=1e-15)


def test_sobol_indices_of_a_constant_output_are_nan_not_zero():
    si = U.sobol_indices(lambda u: np.stack([u[:, 0], np.ones(len(u))], axis=1), ["a", "b"], 64,
                         seed=0, n_bootstrap=10, output_names=["varies", "constant"])
    assert np.isnan(si["S1"].sel(output="constant").values).all()
    assert np.isnan(si["ST"].sel(output="constant").values).all()
    np.testing.assert_allclose(si["ST"].sel(output="varies").values, [1.0, 0.0], atol=0.02)


def test_sobol_linear_model_known_weights():
    w = np.array([4.0, 2.0, 1.0, 0.0])
    si = U.sobol_indices(lambda u: u @ w, ["a", "b", "c", "d"], 512, seed=0,
                         output_names=["y"])
    expect = w**2 / (w**2).sum()
    np.testing.assert_allclose(si["S1"].sel(output="y").values, expect, atol=0.02)
    np.testing.assert_allclose(si["ST"].sel(output="y").values, expect, atol=0.02)
    assert si.attrs["n_evaluations"] == 512 * 6


def test_model_sensitivity_ranks_inputs(params, tmp_path):
    # magnet mass per EV with a wide range dominates; a near-constant yield does not
    low = params.low.copy()
    high = params.high.copy()
    mpv = params.values["magnet_per_vehicle"]
    low["magnet_per_vehicle"], high["magnet_per_vehicle"] = 0.5 * mpv, 1.5 * mpv
    ym = params.values["yield_metal"]
    low["yield_metal"], high["yield_metal"] = 0.999 * ym, np.minimum(1.001 * ym, 1.0)
    p2 = dataclasses.replace(params, low=low, high=high)
    si = U.sensitivity("neodymium", p2, 16, scenario=None, seed=0, factors=["yield_metal", "magnet_per_vehicle",
                                                       "collection_rate"],
                       years=[2050], scheduler="numpy", n_bootstrap=20)
    assert si["ST"].dims == ("output", "year", "parameter")
    st = si["ST"].sel(output="primary_demand", year=2050)
    assert float(st.sel(parameter="magnet_per_vehicle")) > 5 * float(st.sel(parameter="yield_metal"))
    fig = plot_sensitivity(si)
    fig.savefig(tmp_path / "sobol.png")
    assert (tmp_path / "sobol.png").stat().st_size > 1000
    with pytest.raises(MfaError, match="not model years"):
        U.sensitivity("neodymium", p2, 4, scenario=None, years=[1900], factors=["yield_metal"], scheduler="numpy")


# ------------------------------------------------------------------------------ command line
def _parser() -> argparse.ArgumentParser:
    from mfa.cli.mc import add_cli

    parser = argparse.ArgumentParser(prog="mfa")
    parser.add_argument("--params", default=None)
    parser.add_argument("--model", default=None)
    add_cli(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_mc_and_sensitivity(tmp_path, capsys):
    out = tmp_path / "mc.nc"
    args = _parser().parse_args(
        ["mc", "--samples", "12", "--seed", "5", "--chunk", "5", "--scheduler", "numpy",
         "--threshold", "150000", "--no-progress", "--plots", str(tmp_path / "fig"),
         "--out", str(out)])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "primary_demand" in text and "P(world primary demand > 150,000" in text
    ds = xr.open_dataset(out)
    try:
        assert ds.sizes["quantile"] == 3 and ds.sizes["sample"] == 12
        assert ds.attrs["mc_seed"] == 5
        assert "exceedance_probability" in ds and "world_primary_demand" in ds
        assert len(json.loads(ds.attrs["mc_factors"])) >= 5
    finally:
        ds.close()
    assert list((tmp_path / "fig").glob("fan_world_primary_demand.png"))

    args = _parser().parse_args(
        ["sensitivity", "--samples", "4", "--scheduler", "numpy", "--years", "2050",
         "--factors", "magnet_per_vehicle,yield_mining", "--no-progress",
         "--out", str(tmp_path / "si.nc"), "--figure", str(tmp_path / "si.png")])
    assert args.func(args) == 0
    assert "magnet_per_vehicle" in capsys.readouterr().out
    assert (tmp_path / "si.png").exists() and (tmp_path / "si.nc").exists()


def test_cli_argument_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["mc", "--samples", "0", "--out", "x.nc"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["mc", "--seed", "-3", "--out", "x.nc"])
    args = _parser().parse_args(["mc", "--samples", "2", "--scheduler", "nowhere",
                                 "--out", str(tmp_path / "x.nc")])
    with pytest.raises(MfaError, match="unknown scheduler"):
        args.func(args)
    assert not (tmp_path / "x.nc").exists()


def test_rtol_reaches_the_model(params, monkeypatch):
    """The per-sample balance tolerance is passed to a model whose simulate takes one."""
    import mfa.models.neodymium.simulation as chain

    seen = []
    original = chain.simulate

    def spy(values, *, check=True, rtol=1e-9):
        seen.append(rtol)
        return original(values, check=check, rtol=rtol)

    monkeypatch.setattr("mfa.models.neodymium.simulate", spy)
    U.ensemble("neodymium", params, 2, seed=1, factors=FACTORS, rtol=1e-7, scheduler="numpy")
    assert seen and set(seen) == {1e-7}
