"""The reconciled Nd history (issue 10, item 2): undocumented mining as its own flow."""

from __future__ import annotations

import numpy as np
import pytest

from mfa.data.params import default_params_dir, load_parameters
from mfa.models.neodymium import FLOWS, run
from mfa.models.neodymium.history import (
    history_system,
    reconcile_history,
    undocumented_mining_rows,
)


@pytest.fixture(scope="module")
def params():
    return load_parameters()


@pytest.fixture(scope="module")
def base(params):
    return run("baseline", params=params)


@pytest.fixture(scope="module")
def rec(params, base):
    return reconcile_history(params, base)


def test_committed_undocumented_mining_is_the_fresh_reconciliation(rec, base):
    """params/undocumented_mining.csv is what `python -m mfa.models.neodymium.history
    --write` writes now: the derived file cannot go stale."""
    committed = (default_params_dir() / "undocumented_mining.csv").read_text(encoding="utf-8")
    assert undocumented_mining_rows(rec, base) == committed


def test_reconciled_2016_within_geng(rec):
    """Geng J. et al. 2021: 12.3-17.0 kt of primary Nd from illegal mining in China in 2016."""
    est = float(rec.estimate.sel(variable="undocumented_mining", time=2016))
    assert 12_300 <= est <= 17_000


def test_reconciliation_is_mostly_consistent_and_names_its_conflicts(rec):
    consistent = rec.consistent.sel(time=slice(1990, 2024))
    assert int(consistent.sum()) >= 30, consistent.to_series().to_dict()
    assert "Measurements that conflict most" in rec.report()
    assert rec.covariance is not None


def test_every_balance_holds_in_the_reconciled_history(rec):
    est = rec.estimate.fillna(0.0)
    a = history_system()
    for process in a.processes:
        ins = [f.name for f in a.flows if f.target == process]
        outs = [f.name for f in a.flows if f.source == process]
        stock = [s.name for s in a.stocks if s.process == process]
        gap = (est.sel(variable=ins).sum("variable") - est.sel(variable=outs).sum("variable")
               - est.sel(variable=stock).sum("variable"))
        np.testing.assert_allclose(gap, 0.0, atol=1e-6 * float(abs(est).max()), err_msg=process)


def test_undocumented_mining_is_its_own_flow(base, params):
    assert FLOWS["flow_mined_undocumented"][:2] == ("environment", "mining")
    da = base["flow_mined_undocumented"]
    assert da.attrs["source"] == "environment" and da.attrs["target"] == "mining"
    share = params.values["undocumented_mining_share"].sel(time=2016)
    mined = (base["flow_mined"] + da).sel(time=2016)
    np.testing.assert_allclose(da.sel(time=2016), share * mined, rtol=1e-12)
    assert (base["flow_mined"] >= 0).all()
    assert float(da.sel(time=2016).drop_sel(region="China").sum()) == 0.0


def test_run_carries_the_reconciled_undocumented_mining(rec, base):
    """In the baseline, the undocumented Nd in concentrate is the reconciled estimate."""
    from mfa.models.neodymium import calibration

    table = calibration(base, load_parameters())
    est = rec.estimate.sel(variable="undocumented_mining").clip(min=0.0)
    got = table.loc[1990:2024, "model_nd_undocumented"].to_numpy()
    np.testing.assert_allclose(got, est.values, rtol=1e-3, atol=1.0)
    assert 12_300 <= table.loc[2016, "model_nd_undocumented"] <= 17_000
    # primary demand (ore) counts both kinds of mining
    np.testing.assert_allclose(
        base["primary_demand_ore"], base["flow_mined"] + base["flow_mined_undocumented"],
        rtol=1e-12)


@pytest.mark.parametrize("year", [2010, 2015, 2020, 2023])
def test_reconciled_magnet_making_is_in_the_industry_range_and_the_run_follows_it(rec, base,
                                                                                year):
    """Issue 10: the reconciled Nd into magnet making (alloy_to_magnet) lies inside the
    industry/IEA range of the year, and the run's Nd into magnet making lies within two
    standard deviations of the reconciled value (no residual is tuned: the named end uses and
    the remainder are measurements of the reconciliation)."""
    from tests.test_neodymium_demand import ALLOY_RANGES

    low, high = ALLOY_RANGES[year]
    est = float(rec.estimate.sel(variable="alloy_to_magnet", time=year))
    sd = float(rec.sd.sel(variable="alloy_to_magnet", time=year))
    model = float(base["flow_alloy_to_magnet"].sum("region").sel(time=year))
    assert low <= est <= high, (year, round(est), (low, high))
    assert abs(model - est) <= 2 * sd, (year, round(model), round(est), round(sd))


def test_magnet_making_data_of_the_1990s_lie_between_the_1987_and_2000_points(rec):
    """World NdFeB output: 285 t (1987) and 13.94 kt (2000), x 0.23 Nd. The measurement of the
    1990s is interpolated between them; it was the 2000 figure held back to 1990."""
    measured = rec.measured.sel(variable="alloy_to_magnet", time=slice(1990, 2000)).values
    assert np.all(np.diff(measured) > 0), measured.round()
    np.testing.assert_allclose(measured[0], (285 + 3 / 13 * (13_940 - 285)) * 0.23, rtol=1e-9)
    np.testing.assert_allclose(measured[-1], 13_940 * 0.23, rtol=1e-9)
