"""Standalone calibration check of the default Nd data set (no nd-mfa import needed).

Computes, from params/*.csv alone, the world Nd chain of the model with end-of-life recycling
ignored (it is < 1 % today) and compares the implied Nd in mine output with USGS rare-earth
mine production x Nd2O3 share of REO x 0.857 (Nd per Nd2O3).

Chain (world, t Nd/yr):
  M        = Nd in new magnet products = EVs + wind + electronics + industrial_motors + other_magnets
  A        = M / (1 - magnet_scrap_rate)                       (input to magnet making)
  S_new    = A * magnet_scrap_rate * new_scrap_recycling_rate * new_scrap_recovery_yield
  oxide    = A / yield_metal + non_magnet
  primary  = oxide - S_new
  conc     = primary / yield_separation                        (Nd in concentrate)
  mined    = conc / yield_mining                               (Nd in ore)

Run:  python docs/model/calibration_check.py [params_dir]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ND_PER_ND2O3 = 2 * 144.242 / (2 * 144.242 + 3 * 15.999)  # 0.857
REGIONS = ["China", "Japan", "Rest of Asia", "Europe", "North America", "Rest of World"]
YEARS = np.arange(1980, 2051)
UNIT_FACTOR = {"kg/vehicle": 1e-3, "kg/MW": 1e-3, "t/yr": 1.0, "kt/yr": 1e3, "vehicle/yr": 1.0, "MW/yr": 1.0, "GW/yr": 1e3, "1": 1.0, "t REO/yr": 1.0, "t/yr REO": 1.0, "yr": 1.0}


def load(params_dir: Path) -> pd.DataFrame:
    frames = []
    for f in sorted(params_dir.glob("*.csv")):
        if f.name == "sources.csv":
            continue
        frames.append(pd.read_csv(f, comment="#", dtype=str, keep_default_na=False))
    df = pd.concat(frames, ignore_index=True)
    df["value"] = df["value"].astype(float) * df["unit"].map(lambda u: UNIT_FACTOR.get(u, np.nan))
    return df


def series(df, name, region="", product="", stage="", before="constant"):
    sel = df[df.parameter == name]
    sel = sel[sel.region.isin([region, ""]) & sel["product"].isin([product, ""]) & sel.stage.isin([stage, ""])]
    if sel.empty:
        raise KeyError(f"{name} {region} {product} {stage}")
    spec = (sel.region != "").astype(int) + (sel["product"] != "").astype(int) + (sel.stage != "").astype(int)
    sel = sel[spec == spec.max()]
    if (sel.year == "").all():
        return np.full(YEARS.shape, sel.value.iloc[0])
    pts = sel[sel.year != ""].assign(year=lambda d: d.year.astype(int)).sort_values("year")
    out = np.interp(YEARS, pts.year, pts.value)
    if before == "zero":
        out[YEARS < pts.year.iloc[0]] = 0.0
    return out


def chain(df):
    ev = np.zeros(YEARS.shape)
    for p in ("ev_bev", "ev_phev", "e_two_wheeler"):
        k = series(df, "magnet_per_vehicle", product=p) * series(df, "nd_share_in_magnet", product=p)
        for r in REGIONS:
            ev += series(df, "ev_sales", r, p, before="zero") * series(df, "pm_share", r, p) * k
    wind = np.zeros(YEARS.shape)
    for p in ("wind_onshore", "wind_offshore"):
        k = series(df, "magnet_per_mw", product=p) * series(df, "nd_share_in_magnet", product=p)
        for r in REGIONS:
            wind += series(df, "wind_additions", r, p, before="zero") * series(df, "pm_share", r, p) * k
    other = {p: series(df, "nd_other_demand", product=p) for p in ("electronics", "industrial_motors", "other_magnets", "non_magnet")}
    M = ev + wind + other["electronics"] + other["industrial_motors"] + other["other_magnets"]
    s = series(df, "magnet_scrap_rate")
    A = M / (1 - s)
    s_new = A * s * series(df, "new_scrap_recycling_rate") * series(df, "new_scrap_recovery_yield")
    oxide = A / series(df, "yield_metal") + other["non_magnet"]
    primary = oxide - s_new
    conc = primary / series(df, "yield_separation")
    mined = conc / series(df, "yield_mining")
    return pd.DataFrame({"ev": ev, "wind": wind, **other, "M": M, "A": A, "new_scrap_recycled": s_new,
                         "oxide": oxide, "primary": primary, "conc": conc, "mined": mined}, index=YEARS)


def usgs_nd(df):
    world = series(df, "world_ree_mine_production")
    share = np.zeros(YEARS.shape)
    for r in REGIONS:
        share += series(df, "production_share", r, stage="mining") * series(df, "nd_share_of_reo", r)
    return pd.DataFrame({"usgs_reo": world, "nd2o3_share": share, "usgs_nd": world * share * ND_PER_ND2O3}, index=YEARS)


def main(params_dir="params"):
    df = load(Path(params_dir))
    c = chain(df).join(usgs_nd(df))
    c["conc/usgs"] = c.conc / c.usgs_nd
    c["mined/usgs"] = c.mined / c.usgs_nd
    yrs = [1990, 2000, 2005, 2010, 2015, 2018, 2020, 2022, 2023, 2024]
    cols = ["ev", "wind", "electronics", "industrial_motors", "other_magnets", "non_magnet", "M", "new_scrap_recycled",
            "primary", "conc", "mined", "usgs_reo", "nd2o3_share", "usgs_nd", "conc/usgs", "mined/usgs"]
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(c.loc[yrs, cols].round(3).to_string())
    return c


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[2] / "params"))
