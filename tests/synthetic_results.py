"""A small synthetic results Dataset that follows the "Nd model results" schema.

Used by the figure tests until (and besides) the real model :func:`mfa.neodymium.run`. The
numbers are invented but mass-consistent at world level: flows are derived from the demand
for Nd in new products with fixed process yields, so every world process balances and the
Sankey diagram can be drawn. Regional flows split the world flows by stage production shares
(where the process runs), so regions do not balance on their own: the gap is trade.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["REGIONS", "PRODUCTS", "STAGES", "synthetic_results"]

REGIONS = ["China", "Japan", "Rest of Asia", "Europe", "North America", "Rest of World"]
PRODUCTS = [
    "ev_bev",
    "ev_phev",
    "e_two_wheeler",
    "wind_onshore",
    "wind_offshore",
    "electronics",
    "industrial_motors",
    "other_magnets",
    "non_magnet",
]
STAGES = ["mining", "separation", "metal", "magnet", "manufacturing"]
PROCESSES = ["mining", "separation", "oxide", "metal", "magnet", "manufacturing", "use",
             "collection", "recycling"]

# Nd in new products in the first year [t/yr] and yearly growth, by product.
_BASE = np.array([300.0, 120.0, 400.0, 900.0, 150.0, 2500.0, 1800.0, 1500.0, 4000.0])
_GROWTH = np.array([0.14, 0.10, 0.05, 0.06, 0.10, 0.02, 0.03, 0.03, 0.01])
_LIFETIME = np.array([15.0, 15.0, 8.0, 25.0, 25.0, 6.0, 15.0, 10.0, 3.0])  # mean, years
_REGION_USE = np.array([0.45, 0.08, 0.12, 0.15, 0.12, 0.08])  # share of use by region
# China's share of production by stage at the start and end; the rest is split by fixed weights.
_CHINA_START = np.array([0.90, 0.95, 0.92, 0.85, 0.55])
_CHINA_END = np.array([0.55, 0.75, 0.80, 0.75, 0.45])
_OTHER_WEIGHTS = np.array([0.15, 0.25, 0.15, 0.20, 0.25])  # Japan .. Rest of World

YIELD = {"mining": 0.80, "separation": 0.92, "metal": 0.97, "magnet": 0.75, "recycling": 0.90,
         "new_scrap_recycling": 0.80}


def _da(values: np.ndarray, dims: tuple[str, ...], coords: dict, units: str, long_name: str
        ) -> xr.DataArray:
    return xr.DataArray(values, dims=dims, coords={d: coords[d] for d in dims},
                        attrs={"units": units, "long_name": long_name})


def synthetic_results(
    scenario: str = "synthetic",
    *,
    start: int = 2000,
    end: int = 2050,
    collection_end: float = 0.45,
    new_scrap_recycling: float = YIELD["new_scrap_recycling"],
    demand_factor: float = 1.0,
) -> xr.Dataset:
    """Build a synthetic results Dataset with every variable of the results schema.

    Parameters
    ----------
    scenario : str
        Written to ``attrs["scenario"]``.
    start, end : int
        First and last year (inclusive) of the ``time`` coordinate [yr].
    collection_end : float
        End-of-life collection rate reached in ``end`` (linear from 0.01 in ``start``) [1].
        ``0`` together with ``new_scrap_recycling=0`` gives a no-recycling scenario.
    new_scrap_recycling : float
        Share of new (magnet-making) scrap that is recycled [1].
    demand_factor : float
        Multiplier on the demand for Nd in new products [1].

    Returns
    -------
    xarray.Dataset
        Variables and attributes as listed in ``dev/SPEC.md`` ("Nd model results"); all
        masses in t of Nd, flows in t/yr.
    """
    time = np.arange(start, end + 1)
    nt = time.size
    coords = {"time": time, "region": REGIONS, "product": PRODUCTS, "stage": STAGES,
              "source": ["new_scrap", "end_of_life"], "process": PROCESSES}
    years = (time - start)[:, None]
    world_by_product = demand_factor * _BASE * (1.0 + _GROWTH) ** years  # (t, p)
    inflow = world_by_product[:, None, :] * _REGION_USE[None, :, None]  # (t, r, p)

    # Dynamic stock: discretised normal lifetime (sd = 30 % of the mean), one pdf per product.
    age = np.arange(nt)[:, None]
    sd = 0.3 * _LIFETIME
    pdf = np.exp(-0.5 * ((age - _LIFETIME) / sd) ** 2)
    pdf /= pdf.sum(axis=0) + np.exp(-0.5 * ((nt - _LIFETIME) / sd) ** 2)  # mass past horizon
    lag = time[:, None] - time[None, :]  # (t, cohort)
    kernel = np.where(lag >= 0, pdf[np.clip(lag, 0, nt - 1)].transpose(2, 0, 1), 0.0)  # (p, t, c)
    eol = np.einsum("ptc,crp->trp", kernel, inflow)
    stock = np.cumsum(inflow - eol, axis=0)

    # World chain with fixed yields.
    frac = (time - start) / max(end - start, 1)
    collection = 0.01 + (collection_end - 0.01) * frac
    if collection_end == 0.0:
        collection = np.zeros(nt)
    prod_use_r = inflow.sum(axis=2)  # (t, r)
    eol_r = eol.sum(axis=2)
    collected_r = eol_r * collection[:, None]
    recycled_eol_r = collected_r * YIELD["recycling"]
    oxm = inflow[:, :, -1].sum(axis=1)  # non-magnet, world (t,)
    mm = inflow[:, :, :-1].sum(axis=(1, 2))
    am = mm / YIELD["magnet"]
    ns = am - mm
    rns = ns * new_scrap_recycling
    otm = am / YIELD["metal"]
    oxide_demand = otm + oxm
    secondary = rns + recycled_eol_r.sum(axis=1)
    po = oxide_demand - secondary
    conc = po / YIELD["separation"]
    mined = conc / YIELD["mining"]
    mined_norec = oxide_demand / YIELD["separation"] / YIELD["mining"]

    china = _CHINA_START + (_CHINA_END - _CHINA_START) * frac[:, None]  # (t, stage)
    share = np.empty((nt, len(REGIONS), len(STAGES)))
    share[:, 0, :] = china
    share[:, 1:, :] = (1.0 - china)[:, None, :] * _OTHER_WEIGHTS[None, :, None]
    st = {s: share[:, :, i] for i, s in enumerate(STAGES)}

    def by(stage: str, world: np.ndarray) -> np.ndarray:
        return world[:, None] * st[stage]

    flows = {
        "flow_mined": by("mining", mined),
        "flow_mining_losses": by("mining", mined - conc),
        "flow_concentrate": by("mining", conc),
        "flow_separation_losses": by("separation", conc - po),
        "flow_primary_oxide": by("separation", po),
        "flow_oxide_to_metal": by("metal", otm),
        "flow_oxide_to_manufacturing": by("manufacturing", oxm),
        "flow_metal_losses": by("metal", otm - am),
        "flow_alloy_to_magnet": by("metal", am),
        "flow_new_scrap": by("magnet", ns),
        "flow_magnet_to_manufacturing": by("magnet", mm),
        "flow_recycled_new_scrap": by("magnet", rns),
        "flow_new_scrap_losses": by("magnet", ns - rns),
        "flow_products_to_use": prod_use_r,
        "flow_eol": eol_r,
        "flow_collected": collected_r,
        "flow_eol_losses": eol_r - collected_r,
        "flow_recycled_eol": recycled_eol_r,
        "flow_recycling_losses": collected_r - recycled_eol_r,
    }
    flows["flow_secondary_oxide"] = flows["flow_recycled_new_scrap"] + flows["flow_recycled_eol"]

    stage_world = {"mining": mined, "separation": po, "metal": am, "magnet": mm,
                   "manufacturing": prod_use_r.sum(axis=1)}
    production = np.stack([by(s, stage_world[s]) for s in STAGES], axis=2)
    use_share = prod_use_r / prod_use_r.sum(axis=1, keepdims=True)
    import_reliance = np.clip(1.0 - share / use_share[:, :, None], 0.0, 1.0)

    tr = ("time", "region")
    data = {
        "in_use_stock": _da(stock, ("time", "region", "product"), coords, "t", "Nd in use stock"),
        "eol_outflow": _da(eol, ("time", "region", "product"), coords, "t/yr",
                           "Nd in end-of-life products"),
        "nd_in_new_products": _da(inflow, ("time", "region", "product"), coords, "t/yr",
                                  "Nd in new products"),
        "total_demand": _da(inflow.sum(axis=(1, 2)), ("time",), coords, "t/yr",
                            "Total Nd demand"),
        "primary_demand": _da(flows["flow_mined"], tr, coords, "t/yr", "Primary (mined) Nd"),
        "secondary_supply": _da(np.stack([rns, recycled_eol_r.sum(axis=1)], axis=1),
                                ("time", "source"), coords, "t/yr", "Secondary Nd supply"),
        "primary_demand_no_recycling": _da(mined_norec, ("time",), coords, "t/yr",
                                           "Primary Nd demand without recycling"),
        "primary_demand_avoided": _da(mined_norec - mined, ("time",), coords, "t/yr",
                                      "Primary Nd demand avoided by recycling"),
        "recycling_input_rate": _da(secondary / oxide_demand, ("time",), coords, "1",
                                    "Recycling input rate"),
        "production": _da(production, ("time", "region", "stage"), coords, "t/yr",
                          "Production by stage"),
        "production_share": _da(share, ("time", "region", "stage"), coords, "1",
                                "Share of production by stage"),
        "hhi": _da((share**2).sum(axis=1), ("time", "stage"), coords, "1",
                   "Herfindahl-Hirschman index"),
        "import_reliance": _da(import_reliance, ("time", "region", "stage"), coords, "1",
                               "Import reliance"),
        "mass_balance_residual": _da(np.zeros((nt, len(PROCESSES))), ("time", "process"),
                                     coords, "t/yr", "Mass-balance residual"),
    }
    for name, values in flows.items():
        data[name] = _da(values, tr, coords, "t/yr", name.removeprefix("flow_").replace("_", " "))
    return xr.Dataset(
        data,
        attrs={"scenario": scenario, "model_version": "0.1.0", "parameter_files": "{}",
               "scenario_sha256": "", "max_abs_mass_balance_residual": 0.0},
    )
