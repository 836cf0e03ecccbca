"""Derive the rows of ``car_nes`` and of the remainder ``other_magnet_uses`` in params/end_uses.csv.

Both are direct end uses [t Nd/yr] measured against the world NdFeB output of the industry data
years (docs/model/data.md, "Direct end uses"):

- ``car_nes``: conventional cars (HEVs included) take 37.5 % of the 2018 world demand for
  high-performance NdFeB of 60-70 kt (atechmagnet-2018, S) = 24.4 kt (22.5-26.3) = 18.1 %
  (16.7-19.4 %) of the 2018 world finished magnets of 135 kt (180 kt blanks interpolated between
  the 2017 and 2020 points x 0.75, calc). That share of the finished-magnet Nd of each industry
  year (applied to all years: assumption, as for ``industrial_nes``) minus the car magnets counted
  bottom-up (``car_small_motors``, ``hev``), never below 0 nor above what the industry figure
  leaves.
- ``other_magnet_uses``: finished-magnet Nd of the industry year minus every named magnet end use
  (EVs and wind of a baseline run included); between 1987 and 2000 its *share* of magnet Nd is
  interpolated (one row per year). Range +-50 % (assumption).

Run from the repository root after changing any magnet end use, then rewrite the derived data
(``python -m mfa.models.neodymium.history --write``, ``python -m mfa.models.neodymium.supply``,
``python tests/test_regression.py --write``)::

    python research/history/derive_remainder.py           # print the rows
    python research/history/derive_remainder.py --write   # replace them in params/end_uses.csv
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
END_USES_CSV = ROOT / "params" / "end_uses.csv"
CALIBRATION_CSV = ROOT / "params" / "calibration.csv"
FINISHED = 0.75  # finished magnets / blanks (swarf 25-30 %, Argus, Roskill)
ND = 0.23  # Nd share of NdFeB (the model's value)
#: World NdFeB output [t/yr], source key, text (the industry data years).
INDUSTRY = {
    1987: (285, "micro-magnet-2000", "world sintered NdFeB 0.285 kt (vendor page, S)"),
    2000: (13_940, "micro-magnet-2000", "world sintered NdFeB 13.94 kt (vendor page, S)"),
    2005: (42_300, "meank-2005", "world sintered NdFeB 42.3 kt (S)"),
    2010: (98_200, "china-org-2013", "world sintered NdFeB blanks 98.2 kt (S)"),
    2017: (170_000, "magneticsmag-2017", "world RE permanent magnets '>170 kt' (S)"),
    2020: (200_000, "rizinia-2023", "world NdFeB '>200 kt' (S)"),
    2023: (270_000, "metalnomist-2023",
           "world permanent magnets 270 kt (U; China RE PM ~240 kt, SMM; IEA-implied alloy 300 kt)"),
}
#: Shares of world finished magnets (central, low, high): consumer electronics (Heim & Vander
#: Wal 2023, "almost 30 %"; range assumption), industrial applications and conventional cars
#: (atechmagnet-2018: 10.9 % and 37.5 % of 60-70 kt high-performance NdFeB in 2018, over 135 kt
#: finished magnets in 2018).
CE_SHARE = (0.30, 0.20, 0.35)
INDUSTRIAL_SHARE = (0.0525, 0.035, 0.07)
CAR_SHARE = (0.375 * 65_000 / 135_000, 0.375 * 60_000 / 135_000, 0.375 * 70_000 / 135_000)
GROWTH = (0.03, 0.015, 0.05)  # after 2023 (assumption-nd-other-growth)
UNEXPLAINED = ("low-end NdFeB (magnetic separation and holding, toys, bags and buckles, "
               "speakers beyond the consumer-electronics share), MRI, defence, "
               "e-scooters/motorcycles, motors exported in goods (no world activity data or "
               "share found)")


def _model_end_uses() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """End uses [t/yr] by name, world Nd in new magnet products of a baseline run, years."""
    from mfa.data.params import load_parameters
    from mfa.models.neodymium import run
    from mfa.models.neodymium.demand import end_use_demand
    from mfa.models.neodymium.simulation import PARAMETER_UNITS, _in_model_units
    from mfa.models.neodymium.structure import MAGNET_PRODUCTS

    params = load_parameters()
    results = run("baseline", params=params)
    eu = end_use_demand(_in_model_units(params.values, list(PARAMETER_UNITS), "derive"))
    years = eu["time"].values
    magnets = results["nd_in_new_products"].sel(product=list(MAGNET_PRODUCTS)).sum(
        ("region", "product")).sel(time=years).values
    return ({str(e): eu.sel(end_use=e).values for e in eu["end_use"].values}, magnets, years)


def _row(end_use: str, year: int, value: float, low: float, high: float, source: str,
         note: str) -> list[str]:
    return ["end_use_nd_direct", "", "", end_use, "", str(year), f"{value:.0f}", "t/yr",
            f"{low:.0f}", f"{high:.0f}", source, note]


def _industry() -> dict[int, tuple[float, str, str]]:
    """World NdFeB output [t/yr], source key and text by year: the ``ndfeb_production_world``
    rows of params/calibration.csv (the points the reconciliation uses) and the 2020 point."""
    rows = csv.DictReader(line for line in CALIBRATION_CSV.read_text().splitlines()
                          if not line.startswith("#"))
    out = {int(r["year"]): (float(r["value"]), r["source"],
                            f"world NdFeB {float(r['value']) / 1000:,.1f} kt ({r['source']})")
           for r in rows if r["parameter"] == "ndfeb_production_world"}
    out.update({y: v for y, v in INDUSTRY.items() if y in out or y == 2020})
    return dict(sorted(out.items()))


def _share_rows(end_use: str, year: int, finished: float, counted: float, shares, room: float,
                source: str, what: str, counted_text: str) -> tuple[float, list[str]]:
    """A share-based end use: share x finished-magnet Nd minus the same uses counted bottom-up,
    within [0, room]; central, low and high from the (central, low, high) shares."""
    v = [min(max(s * finished - counted, 0.0), room) for s in shares]
    note = (f"(calc) {what} = {shares[0]:.1%} ({shares[1]:.1%}-{shares[2]:.1%}) of Nd in "
            f"finished magnets {finished:,.0f} t (industry output of the year x 0.75 "
            f"finished/blanks x 0.23 Nd; applied to all years: assumption), minus "
            f"{counted_text} counted bottom-up ({counted:,.0f} t)")
    if v[0] == room and room < shares[0] * finished - counted:
        note += "; capped by what the industry figure leaves after the named end uses"
    return v[0], _row(end_use, year, *v, source, note)


def derive_rows() -> list[list[str]]:
    """The rows of the share-based direct end uses and of the remainder (module docstring)."""
    eu, magnets, years = _model_end_uses()
    at = {int(y): i for i, y in enumerate(years)}
    derived = ("consumer_electronics_nes", "industrial_nes", "car_nes", "other_magnet_uses")
    # magnet Nd of EVs, wind and the activity end uses (the run's drivers included)
    activity = magnets - sum(eu[e] for e in derived)
    electronics = eu["hdd"] + eu["smartphone"] + eu["pc_other"]
    cars = eu["car_small_motors"] + eu["hev"]
    rows: list[list[str]] = []
    share: dict[int, float] = {}
    value: dict[str, dict[int, float]] = {e: {} for e in derived}
    industry = _industry()
    for year, (ndfeb, key, text) in industry.items():
        i = at[year]
        finished = ndfeb * FINISHED * ND
        room = max(finished - activity[i], 0.0)
        for end_use, counted, shares, source, what, counted_text in (
                ("consumer_electronics_nes", electronics[i], CE_SHARE, "heim-2023",
                 "consumer electronics ('almost 30% of NdFeB demand', Heim & Vander Wal 2023, "
                 "c.2022)", "HDDs, smartphones and non-HDD PC magnets"),
                ("industrial_nes", eu["industrial_robot"][i], INDUSTRIAL_SHARE,
                 "atechmagnet-2018",
                 "industrial applications other than robots (10.9% of 2018 high-performance "
                 "NdFeB of 60-70 kt = 7.1 kt = 5.25% of 2018 finished magnets 135 kt, "
                 "atechmagnet, S)", "industrial robots"),
                ("car_nes", cars[i], CAR_SHARE, "atechmagnet-2018",
                 "conventional cars, HEVs included (37.5% of 2018 high-performance NdFeB of "
                 "60-70 kt = 24.4 kt = 18.1% of 2018 finished magnets 135 kt, atechmagnet, S)",
                 "car small motors and HEVs")):
            v, row = _share_rows(end_use, year, finished, counted, shares, room, source, what,
                                 counted_text)
            room -= v
            value[end_use][year] = v
            rows.append(row)
        rem = room
        share[year] = rem / finished if finished else 0.0
        named = finished - rem
        value["other_magnet_uses"][year] = rem
        rows.append(_row(
            "other_magnet_uses", year, rem, 0.5 * rem, 1.5 * rem, key,
            f"(calc) remainder: Nd in finished magnets {finished:,.0f} t = {text} x 0.75 "
            f"finished/blanks (Argus/Roskill swarf 25-30%) x 0.23 Nd, minus the named magnet end "
            f"uses (EVs and wind of a baseline run, activity end uses, consumer electronics, "
            f"industrial and cars n.e.s.: {named:,.0f} t) = {rem:,.0f} t ({share[year]:.0%} of "
            f"magnet Nd): {UNEXPLAINED}; range +-50% (assumption)"))
    # between the industry years the remainder's *share* of magnet Nd is interpolated
    anchors = sorted(industry)
    for year in range(anchors[0] + 1, anchors[-1]):
        if year in industry:
            continue
        i = at[year]
        y0 = max(a for a in anchors if a < year)
        y1 = min(a for a in anchors if a > year)
        s = float(np.interp(year, [y0, y1], [share[y0], share[y1]]))
        named = activity[i] + sum(
            float(np.interp(year, [y0, y1], [value[e][y0], value[e][y1]]))
            for e in derived[:3])
        rem = s * named / (1 - s)
        rows.append(_row(
            "other_magnet_uses", year, rem, 0.5 * rem, 1.5 * rem, industry[y0][1],
            f"(calc) between the industry years {y0} and {y1} the remainder's share of Nd in "
            f"magnets is interpolated linearly ({share[y0]:.1%} to {share[y1]:.1%}), not its "
            f"tonnage (assumption: the named end uses grow unevenly, so linear tonnage distorts "
            f"the share): share {s:.3f} x named magnet end uses {named:,.0f} t / (1 - share); "
            f"range +-50% (assumption)"))
    for end_use in derived:
        v2023 = value[end_use][2023]
        rows.append(_row(
            end_use, 2050, *(v2023 * (1 + g) ** 27 for g in GROWTH), "assumption-nd-other-growth",
            "2023 value grown 3.0%/yr (range 1.5-5.0%/yr): growth of conventional magnet uses "
            "(assumption); constant after 2050"))
    return sorted(rows, key=lambda r: (derived.index(r[3]), int(r[5])))


def _format(rows: list[list[str]]) -> list[str]:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().splitlines()


def main(argv: list[str]) -> int:
    new = _format(derive_rows())
    if "--write" not in argv:
        print("\n".join(new))
        return 0
    lines = END_USES_CSV.read_text().splitlines()
    derived = tuple(f"end_use_nd_direct,,,{e},," for e in (
        "consumer_electronics_nes", "industrial_nes", "car_nes", "other_magnet_uses"))
    first = next(i for i, line in enumerate(lines) if line.startswith(derived))
    kept = [line for line in lines if not line.startswith(derived)]
    kept[first:first] = new
    END_USES_CSV.write_text("\n".join(kept) + "\n")
    print(f"wrote {len(new)} rows to {END_USES_CSV}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
