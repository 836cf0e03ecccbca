"""Production shares after the last observed year follow capacity (issue 11 item 3)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from mfa.data.params import load_parameters
from mfa.data.scenarios import apply_scenario
from mfa.models.neodymium import supply

PARAMS = Path(__file__).resolve().parents[1] / "params"
RULE_STAGES = ("mining", "separation", "metal", "magnet")


@pytest.fixture(scope="module")
def shares():
    ps = load_parameters()
    return {"baseline": ps.values["production_share"],
            "diversified-supply": apply_scenario(ps, "diversified-supply").values["production_share"]}


def test_capacity_shares_by_hand():
    # base 100 t/yr: China 0.8, region 1 0.2; China +10 %/yr; a 30 t plant in region 1 starts 2025
    out = supply.capacity_shares(np.array([0.8, 0.2]), 100.0, 0.1, np.array([1]), np.array([2025]),
                                 np.array([30.0]), 2024, 2027, np.arange(2024, 2030))
    china = 80.0 * 1.1 ** np.array([0, 1, 2, 3, 3, 3])
    other = np.array([20.0, 20.0, 50.0, 50.0, 50.0, 50.0])  # plant counted from 2026 (year after start)
    np.testing.assert_allclose(out[:, 0], china / (china + other), rtol=1e-14)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-14)


def test_committed_rows_are_what_the_rule_writes(tmp_path):
    copy = tmp_path / "params"
    shutil.copytree(PARAMS, copy)
    supply.write(copy)
    for name in ("production_shares.csv", "scenarios/diversified-supply.toml"):
        assert (copy / name).read_text() == (PARAMS / name).read_text(), (
            f"{name} differs from its generated rows: run python -m mfa.models.neodymium.supply")


@pytest.mark.parametrize("scenario", ["baseline", "diversified-supply"])
def test_shares_sum_to_one_every_stage_and_year(shares, scenario):
    total = shares[scenario].sum("region")
    np.testing.assert_allclose(total.values, 1.0, atol=5e-6)


@pytest.mark.parametrize("scenario", ["baseline", "diversified-supply"])
def test_shares_change_after_the_last_observed_year(shares, scenario):
    s = shares[scenario]
    last_observed = {"mining": 2024, "separation": 2023, "metal": 2021, "magnet": 2021}
    for stage, year in last_observed.items():
        china = s.sel(stage=stage, region="China")
        # capacity outside China grows (Eneabba, MP 10X, Vulcan, Nolans, ...): China's share moves
        assert abs(float(china.sel(time=2030)) - float(china.sel(time=year))) > 0.005, stage
        # North America's magnet and metal capacity (MP, Vulcan, USA Rare Earth) raises its share
    for stage in ("metal", "magnet", "separation"):
        na = s.sel(stage=stage, region="North America")
        assert float(na.sel(time=2030)) > 2 * float(na.sel(time=2024)), stage


def test_shares_held_from_the_stated_hold_year(shares):
    s = shares["baseline"].sel(stage=list(RULE_STAGES))
    hold = max(int(r["start_year"]) for r in supply.read_capacity(PARAMS / "supply" / "capacity.csv")
               if r["kind"] == "plant") + 1
    assert hold == 2030
    np.testing.assert_array_equal(s.sel(time=2050).values, s.sel(time=hold).values)
    assert not np.array_equal(s.sel(time=hold - 1).values, s.sel(time=hold).values)


def test_diversified_goes_further_than_baseline(shares):
    for stage in RULE_STAGES:
        base = float(shares["baseline"].sel(stage=stage, region="China", time=2030))
        div = float(shares["diversified-supply"].sel(stage=stage, region="China", time=2030))
        assert div < base - 0.02, stage


def test_baseline_china_2030_against_iea():
    # documented in docs/model/data.md: above the IEA GCMO 2024 (54 % mining, 77 % refining)
    s = load_parameters().values["production_share"].sel(region="China", time=2030)
    assert float(s.sel(stage="mining")) == pytest.approx(0.728, abs=0.001)
    assert float(s.sel(stage="separation")) == pytest.approx(0.823, abs=0.001)


def test_capacity_file_is_cited_and_consistent():
    rows = supply.read_capacity(PARAMS / "supply" / "capacity.csv")
    with open(PARAMS / "sources.csv", newline="", encoding="utf-8") as f:
        keys = {r["key"] for r in csv.DictReader(f)}
    weights = {r["status"] for r in rows if r["kind"] == "weight"}
    for r in rows:
        assert r["source"] in keys, r
        if r["kind"] == "plant":
            assert r["region"] in supply.REGIONS[1:], r
            assert r["status"] in weights, r
            assert float(r["value"]) > 0, r
        if r["low"] and r["high"]:
            assert float(r["low"]) <= float(r["value"]) <= float(r["high"]), r
