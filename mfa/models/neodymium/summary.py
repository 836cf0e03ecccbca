"""The rows of the Nd summary tables printed by ``mfa run`` and ``mfa compare``.

Recycling indicators as UNEP (2011), *Recycling Rates of Metals: A Status Report* (Graedel et
al.) defines them; the labels say which basis and definition each row uses.
"""

from __future__ import annotations

import xarray as xr

__all__ = ["summary_rows"]


def summary_rows(ds: xr.Dataset, reference: xr.Dataset | None = None
                 ) -> list[tuple[str, xr.DataArray, str]]:
    """Headline series of one run: ``(label, series over time, format)``.

    Total demand; primary demand on the separated-oxide basis and on the ore basis; secondary
    supply from end-of-life products (old scrap) and from new scrap; the recycling input rate
    (UNEP 2011 recycled content) and the end-of-life recycling rate (UNEP 2011 EOL-RR); primary
    demand avoided by end-of-life recycling (t/yr and % of the same scenario without it); with
    ``reference``, primary demand avoided against that run; the in-use stock; China's share of
    mining and magnet making. ``format`` is ``"t"`` (tonnes, thousands separator) or ``"%"``.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of the Nd model.
    reference : xarray.Dataset, optional
        The run ``ds`` is compared against (``mfa compare A B``: A for both rows of A and B).
    """
    from mfa.models.neodymium.simulation import primary_demand_avoided_vs

    ref = ds["primary_demand_no_eol_recycling"]
    avoided = ds["primary_demand_avoided"]
    secondary = ds["secondary_supply"]
    rir = ds["recycling_input_rate"]
    share = ds["production_share"].sel(region="China")
    rows = [
        ("Total demand (oxide/metal stage) [t/yr]", ds["total_demand"], "t"),
        ("Primary demand, separated oxide [t/yr]", ds["primary_demand"].sum("region"), "t"),
        ("Primary demand, ore (mined) [t/yr]", ds["primary_demand_ore"].sum("region"), "t"),
        ("Secondary supply, end of life [t/yr]", secondary.sel(source="end_of_life"), "t"),
        ("Secondary supply, new scrap [t/yr]", secondary.sel(source="new_scrap"), "t"),
        ("Recycling input rate, all scrap [%]", 100 * rir.sum("source"), "%"),
        ("Recycling input rate, end of life [%]", 100 * rir.sel(source="end_of_life"), "%"),
        ("End-of-life recycling rate [%]", 100 * ds["eol_recycling_rate"], "%"),
        ("Primary demand avoided by EoL recycling [t/yr]", avoided, "t"),
        ("Primary demand avoided by EoL recycling [%]", 100 * avoided / ref.where(ref != 0), "%"),
    ]
    if reference is not None:
        name = reference.attrs.get("scenario", "reference")
        rows.append((f"Primary demand avoided vs {name} [t/yr]",
                     primary_demand_avoided_vs(ds, reference), "t"))
    rows += [
        ("In-use stock [t]", ds["in_use_stock"].sum(("region", "product")), "t"),
        ("China share of mining [%]", 100 * share.sel(stage="mining"), "%"),
        ("China share of magnet making [%]", 100 * share.sel(stage="magnet"), "%"),
    ]
    return rows
