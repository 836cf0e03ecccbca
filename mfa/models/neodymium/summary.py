"""The rows of the Nd summary tables printed by ``mfa run`` and ``mfa compare``."""

from __future__ import annotations

import xarray as xr

__all__ = ["summary_rows"]


def summary_rows(ds: xr.Dataset) -> list[tuple[str, xr.DataArray, str]]:
    """Headline series of one run: ``(label, series over time, format)``.

    Total demand, primary demand, secondary supply, primary demand avoided (t/yr and % of the
    no-recycling counterfactual), the in-use stock, and China's share of mining and magnet
    making (%). ``format`` is ``"t"`` (tonnes, thousands separator) or ``"%"``.
    """
    ref = ds["primary_demand_no_recycling"]
    avoided = ds["primary_demand_avoided"]
    share = ds["production_share"].sel(region="China")
    return [
        ("Total demand (oxide/metal stage) [t/yr]", ds["total_demand"], "t"),
        ("Primary (mined) demand [t/yr]", ds["primary_demand"].sum("region"), "t"),
        ("Secondary supply [t/yr]", ds["secondary_supply"].sum("source"), "t"),
        ("Primary demand avoided [t/yr]", avoided, "t"),
        ("Primary demand avoided [%]", 100 * avoided / ref.where(ref != 0), "%"),
        ("In-use stock [t]", ds["in_use_stock"].sum(("region", "product")), "t"),
        ("China share of mining [%]", 100 * share.sel(stage="mining"), "%"),
        ("China share of magnet making [%]", 100 * share.sel(stage="magnet"), "%"),
    ]
