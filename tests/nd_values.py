"""A small, hand-checkable parameter Dataset for the Nd model (no files, no loader)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from mfa.models.neodymium import EV_PRODUCTS, OTHER_PRODUCTS, STAGES, WIND_PRODUCTS
from mfa.models.neodymium.structure import ACTIVITY_END_USES, DIRECT_END_USES, END_USES

REGIONS = ["China", "Japan", "Rest of Asia", "Europe", "North America", "Rest of World"]
PRODUCTS = list(EV_PRODUCTS + WIND_PRODUCTS + OTHER_PRODUCTS)


def _da(value, dims, coords, units):
    shape = [len(coords[d]) for d in dims]
    data = np.broadcast_to(np.asarray(value, dtype=float), shape).copy()
    return xr.DataArray(data, dims=dims, coords={d: coords[d] for d in dims}, attrs={"units": units})


def _stock_of(inflow: float, mean: list, sd: list, years) -> np.ndarray:
    """Stock (time, 1, product) of a constant ``inflow`` from the first year (normal lifetimes):
    the fleet whose stock-driven inflow is ``inflow`` again."""
    from mfa.core.lifetimes import Normal
    from mfa.core.stocks import inflow_driven_array

    T = len(years)
    surv = Normal(mean=xr.DataArray(np.array(mean, float), dims="p", attrs={"units": "yr"}),
                  sd=xr.DataArray(np.array(sd, float), dims="p", attrs={"units": "yr"})).survival(T)
    stock, _ = inflow_driven_array(np.full((len(mean), T), inflow), surv.values)
    return stock.T[:, None, :]


def make_values(years=range(2000, 2031), **overrides) -> xr.Dataset:
    """Parameter values as ``ParameterSet.values`` would hold them (canonical units).

    Everything constant over time; 1000 EVs/yr of each kind and 10 MW/yr of wind in every
    region (the cars after 2024 and wind from the fleets ``ev_fleet`` and ``wind_capacity`` that
    these inflows build: the stock-driven model gives them back); other uses 6 t/yr each, spread evenly (electronics, other magnets and non-magnet
    uses from their direct end use; industrial motors from 2 x 10,000 units/yr x 1.2 kg NdFeB
    x Nd share 0.25; no activity in the other end uses). ``overrides`` replace whole variables.
    """
    c = {"time": np.array(list(years), dtype="int64"), "region": REGIONS, "product": PRODUCTS,
         "stage": list(STAGES), "end_use": list(END_USES)}
    act = np.array([1.0 if e in ACTIVITY_END_USES else np.nan for e in END_USES])
    # car_nes is a second direct end use of other_magnets: 0 keeps other magnets at 6 t/yr
    direct = np.array([(0.0 if e == "car_nes" else 6.0) if e in DIRECT_END_USES else np.nan
                       for e in END_USES])
    motors = np.array([1.0 if e in ("air_conditioner", "industrial_robot") else 0.0 for e in END_USES])
    te = ("time", "end_use")
    nan_except = lambda keep: np.array([1.0 if p in keep else np.nan for p in PRODUCTS])  # noqa: E731
    ev = nan_except(EV_PRODUCTS)
    wind = nan_except(WIND_PRODUCTS)
    other = nan_except(OTHER_PRODUCTS)
    trp = ("time", "region", "product")
    c2 = {**c, "product": list(EV_PRODUCTS[:2])}
    cw = {**c, "product": list(WIND_PRODUCTS)}
    v = xr.Dataset(
        {
            "ev_sales": _da(1000.0 * ev, trp, c, "vehicle/yr"),
            "ev_fleet": _da(_stock_of(1000.0, [12, 12], [3, 3], c["time"]) * ev[:2], trp, c2, "vehicle"),
            "wind_capacity": _da(_stock_of(10.0, [20, 20], [5, 5], c["time"]) * wind[3:5], trp, cw, "MW"),
            "pm_share": _da(np.where(ev == 1, 0.9, np.where(wind == 1, 0.25, np.nan)), trp, c, "1"),
            "magnet_per_vehicle": _da(2.0 * ev, ("time", "product"), c, "kg/vehicle"),
            "magnet_per_mw": _da(600.0 * wind, ("time", "product"), c, "kg/MW"),
            "nd_share_in_magnet": _da(0.25 * np.where(np.isnan(ev) & np.isnan(wind), np.nan, 1.0),
                                      ("time", "product"), c, "1"),
            "end_use_activity": _da(10000.0 * act * motors, te, c, "unit/yr"),
            "end_use_ndfeb_per_unit": _da(1.2 * act, te, c, "kg/unit"),
            "end_use_pm_share": _da(1.0 * act, te, c, "1"),
            "end_use_nd_share": _da(0.25 * act, ("end_use",), c, "1"),
            "end_use_nd_direct": _da(direct, te, c, "t/yr"),
            "use_region_share": _da(np.where(np.array(PRODUCTS) == "e_two_wheeler", 1.0, other) / 6.0,
                                    trp, c, "1"),
            "lifetime_mean": _da([12, 12, 8, 20, 20, 5, 15, 10, 3], ("product",), c, "yr"),
            "lifetime_sd": _da([3, 3, 2, 5, 5, 1.5, 4, 3, 1], ("product",), c, "yr"),
            "undocumented_mining_share": _da(0.0, ("time", "region"), c, "1"),
            "hibernation_time": _da(0.0, ("product",), c, "yr"),
            "yield_mining": _da(0.6, ("time",), c, "1"),
            "yield_separation": _da(0.9, ("time",), c, "1"),
            "yield_metal": _da(0.8, ("time",), c, "1"),
            "magnet_scrap_rate": _da(0.25, ("time",), c, "1"),
            "new_scrap_recycling_rate": _da(0.5, ("time",), c, "1"),
            "new_scrap_recovery_yield": _da(0.9, ("time",), c, "1"),
            "collection_rate": _da(0.1, trp, c, "1"),
            "recycling_yield": _da(0.8, ("time", "product"), c, "1"),
            "production_share": _da(
                np.array([0.5, 0.1, 0.1, 0.1, 0.1, 0.1])[:, None] * np.ones(len(STAGES)),
                ("time", "region", "stage"), c, "1"),
            # no scrap trade, unlimited recycling capacity (NaN: not constrained)
            "recycling_capacity": _da(np.nan, ("time", "region"), c, "t/yr"),
            "scrap_export_share": _da(0.0, ("time", "region"), c, "1"),
            "scrap_import_share": _da(np.array([1.0, 0, 0, 0, 0, 0]), ("time", "region"), c, "1"),
        }
    )
    v = v.reindex(product=PRODUCTS)  # the declared order (the fleets cover some products)
    for k, val in overrides.items():
        v[k] = val
    return v
