"""Structure of the neodymium model, declared once: products, stages, processes, flows, units.

Everything that draws or checks the topology (the process system and its mass balance, the
Sankey layout, the docs diagram, the results schema) reads it from here.
"""

from __future__ import annotations

import functools

from mfa.core.errors import MfaWarning
from mfa.core.system import Flow, ProcessSystem, Stock
from mfa.core.units import define_units

__all__ = [
    "BASIS",
    "ACTIVITY_END_USES",
    "DIRECT_END_USES",
    "END_USES",
    "END_USE_PRODUCTS",
    "EV_PRODUCTS",
    "FLOWS",
    "HEADLINE",
    "IAMC_NAMES",
    "MAGNET_PRODUCTS",
    "NON_MAGNET",
    "OTHER_PRODUCTS",
    "PARAMETER_UNITS",
    "PROCESSES",
    "RESULT_VARIABLES",
    "SIGNED_FLOWS",
    "STAGES",
    "SecondaryExceedsDemandWarning",
    "UNITS",
    "WIND_PRODUCTS",
    "process_system",
]

class SecondaryExceedsDemandWarning(MfaWarning, RuntimeWarning):
    """Secondary (recycled) Nd exceeds total demand in some year; the excess is stockpiled.

    Also a :class:`RuntimeWarning`, the class this warning had before it got its own, so that
    filters written for it keep working; filter on this class instead.
    """


#: Counting units of the Nd drivers, each its own dimension so that they never mix silently
#: (``kg/MW * vehicle/yr`` is not a mass flow). The default data declare them too
#: (``[units]`` in ``params/model.toml``).
UNITS: tuple[str, ...] = (
    "vehicle = [vehicle] = vehicle = veh",
    "unit = [item] = unit = units",
    "turbine = [turbine] = turbine",
)
define_units(UNITS, source="model 'neodymium'")

EV_PRODUCTS = ("ev_bev", "ev_phev", "e_two_wheeler")
WIND_PRODUCTS = ("wind_onshore", "wind_offshore")
OTHER_PRODUCTS = ("electronics", "industrial_motors", "other_magnets", "non_magnet")
NON_MAGNET = "non_magnet"
MAGNET_PRODUCTS = EV_PRODUCTS + WIND_PRODUCTS + ("electronics", "industrial_motors", "other_magnets")
#: Regions without undocumented mining in the reconciled history (:mod:`.history`).
REGIONS_WITHOUT_UNDOCUMENTED_MINING: tuple[str, ...] = (
    "Japan", "Rest of Asia", "Europe", "North America", "Rest of World")
#: End uses of the bottom-up demand (:mod:`mfa.models.neodymium.demand`) and the product each belongs to. Products
#: group end uses of similar lifetime and place of use; EVs and wind have their own drivers.
END_USES: dict[str, str] = {
    "hdd": "electronics",
    "smartphone": "electronics",
    "pc_other": "electronics",
    "consumer_electronics_nes": "electronics",
    "e_bike": "e_two_wheeler",
    "air_conditioner": "industrial_motors",
    "industrial_robot": "industrial_motors",
    "elevator": "industrial_motors",
    "industrial_nes": "industrial_motors",
    "hev": "other_magnets",
    "car_small_motors": "other_magnets",
    "car_nes": "other_magnets",
    "other_magnet_uses": "other_magnets",
    "non_magnet_uses": "non_magnet",
}
#: End uses computed as activity x NdFeB per unit x PM share x Nd share of NdFeB.
ACTIVITY_END_USES: tuple[str, ...] = ("hdd", "smartphone", "e_bike", "air_conditioner",
                                      "industrial_robot", "elevator", "hev", "car_small_motors",
                                      "pc_other")
#: End uses given directly as Nd in new products [t/yr] (no activity data found).
DIRECT_END_USES: tuple[str, ...] = ("consumer_electronics_nes", "industrial_nes", "car_nes",
                                    "other_magnet_uses", "non_magnet_uses")
#: Products whose Nd in new products comes (also) from end uses, split over regions by
#: ``use_region_share``.
END_USE_PRODUCTS: tuple[str, ...] = tuple(dict.fromkeys(END_USES.values()))
STAGES = ("mining", "separation", "metal", "magnet", "manufacturing")
PROCESSES = ("mining", "separation", "metal", "magnet", "manufacturing", "use", "collection",
             "recycling", "trade", "scrap_trade")

#: Result variables: name -> (units, long name). Every run returns at least these.
RESULT_VARIABLES: dict[str, tuple[str, str]] = {
    "nd_in_new_products": ("t/yr", "Nd in new products put into use, by region of use"),
    "in_use_stock": ("t", "Nd in products in use (end of year)"),
    "hibernating_stock": ("t", "Nd in products kept after use, before discard (end of year)"),
    "eol_outflow": ("t/yr", "Nd in products reaching end of life"),
    "total_demand": ("t/yr", "Nd entering the oxide/metal stage from all sources"),
    "primary_demand": ("t/yr", "Primary Nd demand, separated-oxide basis: Nd in separated "
                       "products made from ore (not recycled), by region of separation"),
    "primary_demand_ore": ("t/yr", "Primary Nd demand, ore basis: Nd in ore mined (before "
                           "beneficiation and separation losses), by mining region"),
    "secondary_supply": ("t/yr", "Recycled Nd returned to the oxide stage, by source (old "
                         "scrap: end_of_life; new scrap: new_scrap)"),
    "new_scrap_recycled": ("t/yr", "Nd recovered from new (magnet-making) scrap; reported, "
                           "not counted as primary demand avoided"),
    "primary_demand_no_eol_recycling": ("t/yr", "Primary Nd demand (separated oxide) of the "
                                        "same scenario without end-of-life recycling "
                                        "(new-scrap recycling on)"),
    "primary_demand_avoided": ("t/yr", "Primary Nd demand (separated oxide) avoided by "
                               "end-of-life recycling: without it minus with it"),
    "eol_recycling_rate": ("1", "End-of-life recycling rate (UNEP 2011 EOL-RR): Nd recovered "
                           "from end-of-life products / Nd in end-of-life products"),
    "recycling_input_rate": ("1", "Recycling input rate (UNEP 2011 recycled content, RC): "
                             "recycled Nd / all Nd entering the oxide stage, by scrap source; "
                             "the sum over source is the total"),
    "scrap_awaiting_recycling": ("t", "Nd in collected end-of-life and new scrap stored "
                                 "because recycling capacity was full (end of year), by region"),
    "production": ("t/yr", "Nd output of each stage by region where it is produced"),
    "consumption": ("t/yr", "Nd input of each stage's product by region where it is used"),
    "production_share": ("1", "Share of each stage's output produced in a region"),
    "hhi": ("1", "Herfindahl-Hirschman index of each stage over the model regions"),
    "import_reliance": ("1", "Net imports / consumption of each stage's product by region"),
    "secondary_stockpile_addition": ("t/yr", "Secondary Nd in excess of demand, stockpiled"),
    "mass_balance_residual": ("t/yr", "Inputs - outputs - stock change, by process and region"),
    "mass_balance_residual_total": ("t/yr", "Inputs - outputs - stock change, summed over regions"),
    # counts of vehicles in "1" (a count; CF/UDUNITS know no vehicle unit): the long name says so
    "ev_car_stock": ("1", "Electric cars on the road (end of year), number of vehicles: "
                     "ev_fleet plus the constant offset to the stock built from observed sales "
                     "in 2024"),
    "ev_car_sales": ("1/yr", "Electric car sales, vehicles per year: observed (IEA) through "
                     "2024, then stock change plus retirements of ev_fleet"),
    "ev_car_retirements": ("1/yr", "Electric cars leaving use, vehicles per year (normal "
                           "lifetime)"),
    "wind_capacity_installed": ("MW", "Installed wind capacity (end of year), wind_capacity"),
    "wind_gross_additions": ("MW/yr", "Wind capacity installed per year, gross: capacity change "
                             "plus retirements (repowering counts as retirement plus addition)"),
    "wind_retirements": ("MW/yr", "Wind capacity decommissioned or repowered (normal lifetime)"),
}

#: Basis of the Nd result variables that count Nd at a stage of the chain (``attrs["basis"]``):
#: quantities on different bases are never added or compared (the figures check it).
BASIS: dict[str, str] = {
    "total_demand": "separated oxide",
    "primary_demand": "separated oxide",
    "primary_demand_ore": "ore",
    "secondary_supply": "separated oxide",
    "new_scrap_recycled": "separated oxide",
    "primary_demand_no_eol_recycling": "separated oxide",
    "primary_demand_avoided": "separated oxide",
}

#: IAMC names of the result variables that are scenario data (``attrs["iamc_variable"]``), under
#: the prefix ``Nd``; other dims become deeper levels (``Nd|Stock|In Use|ev_bev``) and mass
#: flows and stocks get parent and World totals (:func:`mfa.io.to_iamc`). No name is the
#: child of another unless it adds up (primary and secondary supply overlap new scrap, ore and
#: oxide bases differ: they are siblings).
#: Variables not named here go to the IAMC diagnostics table (:func:`mfa.io.iamc_diagnostics`).
IAMC_NAMES: dict[str, str] = {
    "total_demand": "Demand",
    "primary_demand": "Primary Demand",
    "primary_demand_ore": "Primary Demand (Ore Basis)",
    "primary_demand_no_eol_recycling": "Primary Demand Without End-of-Life Recycling",
    "primary_demand_avoided": "Primary Demand Avoided by End-of-Life Recycling",
    "secondary_supply": "Secondary Supply",
    "new_scrap_recycled": "Secondary Supply From New Scrap",
    "secondary_stockpile_addition": "Secondary Supply Stockpiled",
    "recycling_input_rate": "Recycling Input Rate",
    "eol_recycling_rate": "End-of-Life Recycling Rate",
    "nd_in_new_products": "Inflow to Use",
    "in_use_stock": "Stock|In Use",
    "eol_outflow": "Outflow from Use|End of Life",
    # drivers (not Nd: vehicles and MW), IAMC template names, the type as the last level
    "ev_car_stock": "Driver|Stock|Transportation|LDV|Electric",
    "ev_car_sales": "Driver|Sales|Transportation|LDV|Electric",
    "ev_car_retirements": "Driver|Retirements|Transportation|LDV|Electric",
    "wind_capacity_installed": "Driver|Capacity|Electricity|Wind",
    "wind_gross_additions": "Driver|Capacity Additions|Electricity|Wind",
    "wind_retirements": "Driver|Capacity Retirements|Electricity|Wind",
}

#: Result variables summarised by default (Monte Carlo world totals, Sobol outputs).
HEADLINE: tuple[str, ...] = ("primary_demand", "primary_demand_avoided", "primary_demand_ore",
                             "total_demand", "secondary_supply", "in_use_stock", "eol_outflow")

# name: (source process, target process, long name)
FLOWS: dict[str, tuple[str, str, str]] = {
    "flow_mined": ("environment", "mining", "Nd in ore mined (documented mining)"),
    "flow_mined_undocumented": ("environment", "mining",
                                "Nd in ore from undocumented (illegal) mining"),
    "flow_mining_losses": ("mining", "environment", "Nd lost in mining and beneficiation (tailings)"),
    "flow_concentrate": ("mining", "separation", "Nd in concentrate (consumed by separation)"),
    "flow_separation_losses": ("separation", "environment", "Nd lost in separation/refining"),
    "flow_oxide_to_metal": ("separation", "metal", "Nd oxide to metal and alloy making"),
    "flow_oxide_to_manufacturing": ("separation", "manufacturing", "Nd oxide to non-magnet uses"),
    "flow_metal_losses": ("metal", "environment", "Nd lost in oxide-to-metal reduction"),
    "flow_alloy_to_magnet": ("metal", "magnet", "Nd in alloy to magnet making"),
    "flow_new_scrap": ("magnet", "recycling", "Nd in new (manufacturing) scrap"),
    "flow_magnet_to_manufacturing": ("magnet", "manufacturing", "Nd in magnets to product making"),
    "flow_products_to_use": ("manufacturing", "use", "Nd in new products put into use"),
    "flow_eol": ("use", "collection", "Nd in end-of-life products"),
    "flow_collected": ("collection", "recycling", "Nd in end-of-life products collected for recovery"),
    "flow_eol_losses": ("collection", "environment", "Nd in end-of-life products not collected"),
    "flow_scrap_export": ("recycling", "scrap_trade",
                          "Nd in scrap sent to recycling in another region (gross export)"),
    "flow_scrap_import": ("scrap_trade", "recycling",
                          "Nd in scrap recycled here that arose in another region (gross import)"),
    "flow_recycled_new_scrap": ("recycling", "separation", "Nd recovered from new scrap"),
    "flow_recycled_eol": ("recycling", "separation", "Nd recovered from end-of-life products"),
    "flow_new_scrap_losses": ("recycling", "environment", "New-scrap Nd not recovered"),
    "flow_recycling_losses": ("recycling", "environment", "Collected end-of-life Nd not recovered"),
    "flow_stockpile": ("separation", "environment", "Secondary Nd in excess of demand (stockpiled)"),
    "flow_net_export_concentrate": ("mining", "trade", "Net export of concentrate"),
    "flow_net_export_oxide": ("separation", "trade", "Net export of oxide"),
    "flow_net_export_alloy": ("metal", "trade", "Net export of metal/alloy"),
    "flow_net_export_magnet": ("magnet", "trade", "Net export of magnets"),
    "flow_net_export_products": ("manufacturing", "trade", "Net export of Nd in products"),
}

#: Flows that may be negative: a region's net export of a stage's product to the pooled
#: ``trade`` process is negative where the region is a net importer. Every other flow is >= 0.
SIGNED_FLOWS: frozenset[str] = frozenset(n for n in FLOWS if n.startswith("flow_net_export_"))

#: The unit each equation assumes for each parameter it reads. :func:`simulate` converts the
#: values it is given (``attrs["units"]``) to these units first, so a yield written in % or a
#: magnet mass in g/vehicle gives the same result as in 1 or kg/vehicle.
PARAMETER_UNITS: dict[str, str] = {
    "ev_sales": "vehicle/yr",
    "ev_fleet": "vehicle",
    "wind_capacity": "MW",
    "pm_share": "1",
    "magnet_per_vehicle": "kg/vehicle",
    "magnet_per_mw": "kg/MW",
    "nd_share_in_magnet": "1",
    "end_use_activity": "unit/yr",
    "end_use_ndfeb_per_unit": "kg/unit",
    "end_use_pm_share": "1",
    "end_use_nd_share": "1",
    "end_use_nd_direct": "t/yr",
    "use_region_share": "1",
    "lifetime_mean": "yr",
    "lifetime_sd": "yr",
    "hibernation_time": "yr",
    "undocumented_mining_share": "1",
    "yield_mining": "1",
    "yield_separation": "1",
    "yield_metal": "1",
    "magnet_scrap_rate": "1",
    "new_scrap_recycling_rate": "1",
    "new_scrap_recovery_yield": "1",
    "collection_rate": "1",
    "recycling_yield": "1",
    "production_share": "1",
    "recycling_capacity": "t/yr",
    "scrap_export_share": "1",
    "scrap_import_share": "1",
}

@functools.lru_cache(maxsize=8)
def process_system(extra_dims: tuple[str, ...] = (), name: str = "neodymium",
                   extra_flows: tuple[tuple[str, str, str], ...] = ()) -> ProcessSystem:
    """The Nd process system: every flow of ``FLOWS`` by (time, region), the stocks of the
    use process (in use and hibernating, by product) and of the recycling process (scrap
    awaiting recycling while capacity is full).

    Regional processes balance per region; ``trade`` receives each region's net exports of every
    stage's product and balances over the sum of regions (net exports cancel worldwide);
    ``scrap_trade`` likewise pools the gross exports and imports of scrap for recycling. The
    net exports are the only flows that may be negative (:data:`SIGNED_FLOWS`).

    Parameters
    ----------
    extra_dims : tuple of str
        Further dims every flow and stock carries (e.g. ``("sample",)`` for Monte Carlo); the
        mass balance is checked for each of their labels separately.
    name : str
        The system's name (in its balance errors).
    extra_flows : tuple of tuple of str
        Flows beyond ``FLOWS``, each ``(name, source process, target process)``, by (time,
        region) (e.g. the element model's diffusion sources).
    """
    flows = [*((f, src, dst) for f, (src, dst, _) in FLOWS.items()), *extra_flows]
    return ProcessSystem(
        name,
        processes=list(PROCESSES),
        flows=[Flow(f, src, dst, ("time", "region", *extra_dims), signed=f in SIGNED_FLOWS)
               for f, src, dst in flows],
        stocks=[*(Stock(name, "use", ("time", "region", "product", *extra_dims))
                  for name in ("in_use_stock", "hibernating_stock")),
                Stock("scrap_awaiting_recycling", "recycling", ("time", "region", *extra_dims))],
        boundary=("environment",),
        pooled=("trade", "scrap_trade"),
        kept_dims=extra_dims,
    )
