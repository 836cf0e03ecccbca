"""Production shares after the last observed year, from supply capacity (``params/supply/capacity.csv``).

The rule, for each stage (mining, separation, metal, magnet) with base year :math:`Y_0` (the year of
the stage's ``world_output`` row), base shares :math:`b_r` (the last observed ``production_share`` row
at or before :math:`Y_0`) and world output :math:`W_0`:

.. math::

    C_{China}(t) = b_{China} W_0 (1 + g)^{\\min(t, H) - Y_0}, \\qquad
    C_r(t) = b_r W_0 + \\sum_{p \\in r,\\ s_p < \\min(t, H)} w_{status(p)} K_p, \\qquad
    share_r(t) = C_r(t) / \\sum_r C_r(t)

with :math:`g` the growth of China's capacity (its quotas), :math:`K_p` the capacity of a plant
outside China that starts in year :math:`s_p` (counted from the year after), :math:`w` a weight per
plant status (operating, under construction, announced) and :math:`H` the hold year: the year after
the last announced start year. From :math:`H` on every region's capacity is assumed to grow at the
same rate, so the shares stay at their year-:math:`H` values (a stated rule, not a silent freeze).
Metal making has no capacity data of its own and follows the magnet plants (its own base shares).

``python -m mfa.models.neodymium.supply`` rewrites the derived rows of ``production_shares.csv``
(source ``assumption-supply-capacity``) and the generated overrides of ``diversified-supply.toml``.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

__all__ = ["RULE_SOURCE", "capacity_shares", "read_capacity", "scenario_shares"]

#: Source key of the rows the rule writes into ``production_shares.csv``.
RULE_SOURCE = "assumption-supply-capacity"
#: Stages the rule covers, and the stage whose capacities each one follows.
STAGES = {"mining": "mining", "separation": "separation", "metal": "magnet", "magnet": "magnet"}
REGIONS = ("China", "Japan", "Rest of Asia", "Europe", "North America", "Rest of World")


def read_capacity(path: Path) -> list[dict[str, str]]:
    """Rows of ``capacity.csv`` (comment lines starting with ``#`` skipped)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def capacity_shares(base_share: np.ndarray, world_output: float, china_growth: float,
                    plant_region: np.ndarray, plant_start: np.ndarray, plant_capacity: np.ndarray,
                    base_year: int, hold_year: int, years: np.ndarray) -> np.ndarray:
    """Regional shares of one stage in ``years`` by the capacity rule (module docstring).

    Parameters
    ----------
    base_share : numpy.ndarray, shape (n_region,)
        Shares in the base year [1], China first; they sum to 1.
    world_output : float
        World output of the stage in the base year [t/yr, the stage's unit].
    china_growth : float
        Growth of China's capacity [1/yr].
    plant_region, plant_start, plant_capacity : numpy.ndarray, shape (n_plant,)
        Region index (never 0, China), start year and weighted capacity [t/yr] of each plant.
    base_year, hold_year : int
        Base year and the year from which the shares are held.
    years : numpy.ndarray of int, shape (n_year,)

    Returns
    -------
    numpy.ndarray, shape (n_year, n_region)
        Shares [1]; every row sums to 1.
    """
    t = np.minimum(years, hold_year)
    cap = np.broadcast_to(base_share * world_output, (len(years), len(base_share))).copy()
    cap[:, 0] *= (1.0 + china_growth) ** (t - base_year)
    counted = plant_start[None, :] < t[:, None]  # (n_year, n_plant): from the year after start
    onehot = plant_region[:, None] == np.arange(len(base_share))[None, :]  # (n_plant, n_region)
    cap += (counted * plant_capacity[None, :]) @ onehot
    return cap / cap.sum(axis=1, keepdims=True)


def _last_shares(rows: list[dict[str, str]], stage: str, year: int) -> tuple[int, np.ndarray]:
    observed = [r for r in rows if r["stage"] == stage and r["source"] != RULE_SOURCE
                and int(r["year"]) <= year]
    last = max(int(r["year"]) for r in observed)
    by_region = {r["region"]: float(r["value"]) for r in observed if int(r["year"]) == last}
    return last, np.array([by_region[r] for r in REGIONS])


def scenario_shares(capacity: list[dict[str, str]], share_rows: list[dict[str, str]],
                    variant: str = "value", china: str = "value", end: int | None = None
                    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Shares by stage from the capacity rows.

    ``variant`` picks the column of the status weights and plant capacities (``value``, ``low`` or
    ``high``; an empty cell falls back to ``value``), ``china`` the column of China's growth.
    Returns ``{stage: (years, shares (n_year, n_region))}`` for the base year up to the hold year
    (or ``end``); in the base year the shares are the last observed ones.
    """
    def pick(row: dict[str, str], col: str) -> float:
        return float(row[col] or row["value"])

    weight = {r["status"]: pick(r, variant) for r in capacity if r["kind"] == "weight"}
    plants = [r for r in capacity if r["kind"] == "plant"]
    hold = max(int(r["start_year"]) for r in plants) + 1
    out = {}
    for stage, source_stage in STAGES.items():
        world = next(r for r in capacity if r["kind"] == "world_output" and r["stage"] == source_stage)
        growth = next(r for r in capacity if r["kind"] == "china_growth" and r["stage"] == source_stage)
        base_year = int(world["start_year"])
        _, base = _last_shares(share_rows, stage, base_year)
        mine = [p for p in plants if p["stage"] == source_stage]
        years = np.arange(base_year, (end or hold) + 1)
        shares = capacity_shares(
            base, float(world["value"]), pick(growth, china),
            np.array([REGIONS.index(p["region"]) for p in mine]),
            np.array([int(p["start_year"]) for p in mine]),
            np.array([pick(p, variant) * weight[p["status"]] for p in mine]),
            base_year, hold, years)
        out[stage] = (years, shares)
    return out


def _share_rows(shares: dict[str, tuple[np.ndarray, np.ndarray]],
                observed: list[dict[str, str]]) -> list[dict[str, str]]:
    seen = {(r["stage"], int(r["year"])) for r in observed}
    rows = []
    for stage, (years, values) in shares.items():
        for i, year in enumerate(years):
            if (stage, int(year)) in seen:
                continue
            for j, region in enumerate(REGIONS):
                rows.append({"parameter": "production_share", "region": region, "product": "",
                             "stage": stage, "year": str(year), "value": f"{values[i, j]:.6g}",
                             "unit": "1", "low": "", "high": "", "source": RULE_SOURCE,
                             "note": "derived: capacity rule (mfa.models.neodymium.supply, "
                                     "params/supply/capacity.csv); base year: last observed "
                                     "shares; held after the last year"})
    return rows


_MARK = "# ---- overrides below are generated by python -m mfa.models.neodymium.supply ----\n"


def _overrides(shares: dict[str, tuple[np.ndarray, np.ndarray]]) -> str:
    blocks = []
    for stage, (years, values) in shares.items():
        for j, region in enumerate(REGIONS):
            traj = ", ".join(f"{y} = {v:.6g}" for y, v in zip(years, values[:, j], strict=True))
            blocks.append(f'[[override]]\nparameter = "production_share"\nregion = "{region}"\n'
                          f'stage = "{stage}"\nunit = "1"\ntrajectory = {{ {traj} }}\n'
                          f'source = "{RULE_SOURCE}"\n')
    return "\n".join(blocks)


def write(params: Path) -> None:
    """Rewrite the derived rows of ``production_shares.csv`` and the diversified overrides."""
    capacity = read_capacity(params / "supply" / "capacity.csv")
    path = params / "production_shares.csv"
    with open(path, newline="", encoding="utf-8") as f:
        comment = f.readline()
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, [r for r in reader if r["source"] != RULE_SOURCE]
    rows += _share_rows(scenario_shares(capacity, rows), rows)
    order = {s: i for i, s in enumerate(dict.fromkeys(r["stage"] for r in rows))}
    rows.sort(key=lambda r: (order[r["stage"]], int(r["year"]), REGIONS.index(r["region"])))
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(comment)
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    toml = params / "scenarios" / "diversified-supply.toml"
    head = toml.read_text(encoding="utf-8").split(_MARK)[0]
    toml.write_text(head + _MARK + "\n" + _overrides(
        scenario_shares(capacity, rows, variant="high", china="low")), encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("params"))
