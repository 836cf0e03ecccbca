"""The reconciled Nd history 1990-2024: undocumented mining from conflicting data.

The model's demand is bottom-up (:mod:`.demand`); its supply side needs more Nd than USGS
documents. Which share of the gap is undocumented (illegal) Chinese mining, and how the other
data conflict, is decided by weighted least squares under the mass balances
(:func:`mfa.analysis.reconcile.reconcile`, as STAN: Cencic & Rechberger 2008), year by year,
on the world system of :func:`history_system`:

=========================  ==========================  =========================================
flow                       source -> target            measured by (1 sd)
=========================  ==========================  =========================================
documented_mining          environment -> separation   USGS REO x Nd2O3 share x 0.857 (10 %)
undocumented_mining        environment -> separation   ``undocumented_mining_prior`` (its range)
separation_losses          separation -> environment   model (50 %: yield 0.85-0.97)
recycled_new_scrap         scrap_recycling -> sep.     Argus/SMM (range) else the model (30 %)
non_magnet_uses            separation -> environment   bottom-up demand (30 %)
oxide_to_metal             separation -> metal         unknown
metal_losses               metal -> environment        model (60 %: yield 0.75-0.95)
alloy_to_magnet            metal -> magnet             industry NdFeB output x 0.23 (15 % at
                                                       points, 25 % between, from 1987 on) and
                                                       IEA (range)
new_scrap                  magnet -> scrap_recycling   model (20 %: scrap rate 0.20-0.30)
new_scrap_losses           scrap_recycling -> env.     model (50 %)
identified_magnet_uses     magnet -> environment       named magnet end uses: EVs, wind, activity
                                                       end uses, consumer electronics and
                                                       industrial n.e.s. (cited shares) (25 %)
other_magnet_uses          magnet -> environment       the remainder ``other_magnet_uses`` (50 %)
oxide stockpile (stock)    separation                  0 +- 1 kt/yr (before 2005: 0 +- 5 kt/yr,
                                                       unused co-product Nd); 2014: SRB purchases
=========================  ==========================  =========================================

The derived series ``undocumented_mining_share`` (``params/undocumented_mining.csv``: the
reconciled estimate -+ 1 sd as a share of the Nd mined in China) is what a run uses; it is written by ``python -m
mfa.models.neodymium.history --write`` and a test checks it matches a fresh derivation. A
committed file rather than a reconciliation in every run: the run stays fast and the Monte
Carlo samples the series from its range like any other parameter.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import xarray as xr

from mfa.core.system import Flow, ProcessSystem, Stock
from mfa.data.params import ParameterSet

__all__ = ["HISTORY_YEARS", "history_measurements", "history_system", "reconcile_history",
           "undocumented_mining_rows"]

#: First and last year of the reconciled history.
HISTORY_YEARS = (1990, 2024)
_ND_SHARE_OF_NDFEB = 0.23  # Nd share of NdFeB (Yang 2017; the model's EV value)
#: Magnet end uses given by cited shares of magnet demand (not activity data), measured with
#: the named magnet uses.
_SHARE_END_USES = ("consumer_electronics_nes", "industrial_nes", "car_nes")

_FLOWS = (
    ("documented_mining", "environment", "separation"),
    ("undocumented_mining", "environment", "separation"),
    ("separation_losses", "separation", "environment"),
    ("recycled_new_scrap", "scrap_recycling", "separation"),
    ("non_magnet_uses", "separation", "environment"),
    ("oxide_to_metal", "separation", "metal"),
    ("metal_losses", "metal", "environment"),
    ("alloy_to_magnet", "metal", "magnet"),
    ("new_scrap", "magnet", "scrap_recycling"),
    ("new_scrap_losses", "scrap_recycling", "environment"),
    ("identified_magnet_uses", "magnet", "environment"),
    ("other_magnet_uses", "magnet", "environment"),
)


def history_system() -> ProcessSystem:
    """The world Nd system of the reconciliation (dims: ``time`` only)."""
    return ProcessSystem(
        "neodymium-history",
        processes=["separation", "metal", "magnet", "scrap_recycling"],
        flows=[Flow(n, s, t, ("time",)) for n, s, t in _FLOWS],
        stocks=[Stock("oxide_stockpile", "separation", ("time",))],
        boundary=("environment",),
    )


def _points(params: ParameterSet, name: str, years: np.ndarray) -> tuple[np.ndarray, ...]:
    """Value, low, high of ``name`` at the years given in the data (NaN elsewhere)."""
    rows = params.table[params.table["parameter"] == name].dropna(subset=["year"])
    val, low, high = (np.full(len(years), np.nan) for _ in range(3))
    for _, r in rows.iterrows():
        i = np.searchsorted(years, int(r["year"]))
        if i < len(years) and years[i] == int(r["year"]):
            val[i], low[i], high[i] = r["value"], r["low"], r["high"]
    return val, low, high


def _identified_magnet_uses(results: xr.Dataset, params: ParameterSet,
                            years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nd in new magnet products [t/yr]: (named, remainder). Named: EVs and wind (the drivers),
    the activity end uses of :func:`~mfa.models.neodymium.demand.end_use_demand` and the end uses
    given by cited shares; remainder: ``other_magnet_uses``."""
    from mfa.models.neodymium.demand import end_use_demand
    from mfa.models.neodymium.simulation import PARAMETER_UNITS, _in_model_units
    from mfa.models.neodymium.structure import ACTIVITY_END_USES

    new = results["nd_in_new_products"].sum("region").sel(time=years)
    drivers = new.sel(product=["ev_bev", "ev_phev", "e_two_wheeler", "wind_onshore",
                               "wind_offshore"]).sum("product").values
    eu = end_use_demand(_in_model_units(params.values, list(PARAMETER_UNITS), "history"))
    # e-bikes are inside e_two_wheeler already (drivers); count the other activity end uses and
    # the end uses given by cited shares (consumer electronics, industrial and car n.e.s.)
    others = [e for e in ACTIVITY_END_USES if e != "e_bike"] + list(_SHARE_END_USES)
    return (drivers + eu.sel(end_use=others, time=years).sum("end_use").values,
            eu.sel(end_use="other_magnet_uses", time=years).values)


def _alloy_to_magnet(params: ParameterSet, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nd in alloy to magnet making and its sd [t/yr]: industry magnet output (blanks ~ alloy
    input) at its points, interpolated between them, combined with the IEA points by their
    inverse-variance mean."""
    ndfeb, _, _ = _points(params, "ndfeb_production_world", years)
    known = np.isfinite(ndfeb)
    # interpolate between all data points, also those before the first history year (1987):
    # only the points inside the history would hold the 2000 figure back to 1990
    rows = params.table[params.table["parameter"] == "ndfeb_production_world"]
    pts = rows[["year", "value"]].dropna().astype(float).sort_values("year").to_numpy()
    alloy = np.interp(years, pts[:, 0], pts[:, 1]) * _ND_SHARE_OF_NDFEB
    alloy_sd = alloy * np.where(known, 0.15, 0.25)
    iea, iea_lo, iea_hi = _points(params, "nd_into_magnet_making_iea", years)
    has = np.isfinite(iea)
    iea_sd = (iea_hi - iea_lo) / 2
    w1, w2 = 1 / alloy_sd**2, np.where(has, 1 / np.where(has, iea_sd, 1.0)**2, 0.0)
    return (w1 * alloy + w2 * np.nan_to_num(iea)) / (w1 + w2), 1 / np.sqrt(w1 + w2)


def _rel(v: np.ndarray, r: float) -> np.ndarray:
    """A relative sd ``r * v`` with a 1 t/yr floor (sd > 0 where a flow is zero)."""
    return np.maximum(r * v, 1.0)


def history_measurements(results: xr.Dataset, params: ParameterSet
                         ) -> tuple[dict[str, xr.DataArray], dict[str, xr.DataArray]]:
    """Measured values and standard deviations [t/yr] of :func:`history_system`, 1990-2024.

    ``results`` is a baseline run (single, no ``sample`` dim) of the same ``params``.
    """
    from mfa.models.neodymium.calibration import calibration

    years = np.arange(HISTORY_YEARS[0], HISTORY_YEARS[1] + 1)
    world = {n: results[n].sum("region").sel(time=years).values for n in (
        "flow_separation_losses", "flow_metal_losses", "flow_new_scrap",
        "flow_new_scrap_losses", "flow_recycled_new_scrap", "flow_oxide_to_manufacturing")}
    identified, remainder = _identified_magnet_uses(results, params, years)
    usgs = calibration(results, params)["usgs_nd"].reindex(years).to_numpy()
    prior, p_lo, p_hi = (getattr(params, k)["undocumented_mining_prior"].sel(
        region="China", time=years).values for k in ("values", "low", "high"))
    alloy, alloy_sd = _alloy_to_magnet(params, years)
    scrap, s_lo, s_hi = _points(params, "nd_from_new_scrap_china", years)
    rec = np.where(np.isfinite(scrap), scrap, world["flow_recycled_new_scrap"])
    rec_sd = np.where(np.isfinite(scrap), (s_hi - s_lo) / 2, 0.3 * rec)
    stock, st_lo, st_hi = _points(params, "stockpile_addition_china", years)
    # before 2005 mining was driven by La/Ce and part of the Nd was not used (stocked or left
    # in residues): a wide 0 +- 5 kt/yr (assumption); later 0 +- 1 kt/yr except documented buys
    stock_sd = np.where(np.isfinite(stock), (st_hi - st_lo) / 2,
                        np.where(years < 2005, 5000.0, 1000.0))
    values = {
        "documented_mining": (usgs, _rel(usgs, 0.10)),
        "undocumented_mining": (prior, np.maximum((p_hi - p_lo) / 2, 1.0)),
        "separation_losses": (world["flow_separation_losses"],
                              _rel(world["flow_separation_losses"], 0.5)),
        "recycled_new_scrap": (rec, np.maximum(rec_sd, 1.0)),
        "non_magnet_uses": (world["flow_oxide_to_manufacturing"],
                            _rel(world["flow_oxide_to_manufacturing"], 0.3)),
        "metal_losses": (world["flow_metal_losses"], _rel(world["flow_metal_losses"], 0.6)),
        "alloy_to_magnet": (alloy, np.maximum(alloy_sd, 1.0)),
        "new_scrap": (world["flow_new_scrap"], _rel(world["flow_new_scrap"], 0.2)),
        "new_scrap_losses": (world["flow_new_scrap_losses"],
                             _rel(world["flow_new_scrap_losses"], 0.5)),
        "identified_magnet_uses": (identified, _rel(identified, 0.25)),
        "other_magnet_uses": (remainder, _rel(remainder, 0.5)),
        "oxide_stockpile": (np.nan_to_num(stock), stock_sd),
    }
    coords, units = {"time": years}, {"units": "t/yr"}
    measured = {n: xr.DataArray(v, dims="time", coords=coords, attrs=units)
                for n, (v, _) in values.items()}
    sd = {n: xr.DataArray(e, dims="time", coords=coords, attrs=units)
          for n, (_, e) in values.items()}
    return measured, sd


def reconcile_history(params: ParameterSet | None = None, results: xr.Dataset | None = None):
    """Reconcile the Nd history 1990-2024 (:class:`mfa.analysis.reconcile.Reconciliation`).

    ``params`` default to the packaged data; ``results`` to their baseline run.
    """
    from mfa.analysis.reconcile import reconcile
    from mfa.data.params import load_parameters

    if params is None:
        params = load_parameters()
    if results is None:
        from mfa.models.neodymium import run

        results = run("baseline", params=params)
    measured, sd = history_measurements(results, params)
    return reconcile(history_system(), measured, sd, negative="report", covariance=True)


def undocumented_mining_rows(rec, results: xr.Dataset) -> str:
    """``params/undocumented_mining.csv``: the reconciled undocumented mining as a share of
    the Nd in concentrate mined in China in the run ``results`` (share -+ 1 sd, clipped to
    [0, 1]: a negative reconciled value is reported by the reconciliation), 0 in the other
    regions. A share, not tonnes, so that documented mining (the rest) stays >= 0 in every
    Monte Carlo sample."""
    from mfa.models.neodymium.structure import REGIONS_WITHOUT_UNDOCUMENTED_MINING as others

    est = rec.estimate.sel(variable="undocumented_mining")
    sd = rec.sd.sel(variable="undocumented_mining")
    years = est["time"].values
    china = (results["flow_concentrate"].sum("region")
             * results["production_share"].sel(stage="mining", region="China")).sel(time=years)
    lines = [
        "# Derived file: do not edit. Written by `python -m mfa.models.neodymium.history --write`",
        "# from the reconciliation of the Nd history (docs/model/reconciliation.md).",
        "parameter,region,product,end_use,stage,year,value,unit,low,high,source,note",
    ]
    for y, v, s, c in zip(years, est.values, sd.values, china.values, strict=True):
        share, dev = min(max(float(v) / c, 0.0), 1.0), float(s) / c
        lines.append(
            f"undocumented_mining_share,China,,,,{int(y)},{share:.4f},1,"
            f"{max(share - dev, 0.0):.4f},{min(share + dev, 1.0):.4f},reconciliation-nd-history,"
            f"reconciled undocumented mining {max(float(v), 0.0):.0f} +- {float(s):.0f} t Nd in "
            f"concentrate / {c:.0f} t mined in China in the baseline run; constant after 2024")
        lines += [f"undocumented_mining_share,{r},,,,{int(y)},0,1,,,reconciliation-nd-history,"
                  "no undocumented mining estimated outside China" for r in others]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``--write``: write ``params/undocumented_mining.csv``; otherwise print the report."""
    from mfa.data.params import default_params_dir

    argv = sys.argv[1:] if argv is None else argv
    from mfa.data.params import load_parameters
    from mfa.models.neodymium import run

    params = load_parameters()
    results = run("baseline", params=params)
    rec = reconcile_history(params, results)
    if argv == ["--write"]:
        path = Path(default_params_dir()) / "undocumented_mining.csv"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(undocumented_mining_rows(rec, results), encoding="utf-8")
        tmp.replace(path)
        print(f"wrote {path}")
    else:
        print(rec.report())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
