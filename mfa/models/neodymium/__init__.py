"""The neodymium model: mine to magnet to EV/wind to end of life to recycling.

All quantities are neodymium *element* mass: stocks in t, flows in t/yr.

Equations (world totals ``W`` per year; regional shares ``σ_s[r]`` per stage ``s``)
-----------------------------------------------------------------------------------
Nd in new products, by region of use ``r`` and product ``p`` [t/yr]::

    EVs    N[r,p] = ev_sales × pm_share × magnet_per_vehicle × nd_share_in_magnet
    wind   N[r,p] = wind_additions × pm_share × magnet_per_mw × nd_share_in_magnet
    other  N[r,p] = nd_other_demand[p] × use_region_share[r,p]

In-use stock and end-of-life outflow: an inflow-driven dynamic stock model with a normal
lifetime (``lifetime_mean``, ``lifetime_sd``) per product (:func:`mfa.core.stocks.inflow_driven`).

The supply chain, world totals (``s`` = magnet_scrap_rate)::

    magnets            M   = Σ N over magnet products           (manufacturing yield 1: assumption)
    alloy to magnets   A   = M / (1 - s);   new scrap = s A
    oxide to metal     O_m = A / yield_metal
    non-magnet oxide   O_n = Σ N over non_magnet
    total demand       D   = O_m + O_n                            (Nd entering the oxide/metal stage)
    secondary          R   = s A × new_scrap_recycling_rate × new_scrap_recovery_yield
                           + Σ eol × collection_rate × recycling_yield
    primary oxide      P   = max(D - R, 0)    (R > D would go to a stockpile, with a warning)
    concentrate        C   = P / yield_separation
    mined              X   = C / yield_mining

Each stage's output is split over regions by ``production_share[stage]``; secondary Nd
arises where it is recycled (end-of-life: region of use; new scrap: region of magnet making).
Trade is what production and consumption leave unbalanced in a region: for each stage,
``net_export[r] = production[r] - consumption[r]`` where consumption is the downstream stage's
input in ``r``. Net exports sum to zero over regions; the mass-balance check verifies it.

Indicators: ``production_share`` of each stage's output, ``hhi`` (Herfindahl-Hirschman index
over the six model regions, as a fraction in [1/6, 1]; it is a lower bound of the country-level
HHI), ``import_reliance`` = max(consumption - production, 0) / consumption (NaN where a region
consumes nothing), ``recycling_input_rate`` = R / D, and ``primary_demand_avoided`` = mined Nd
of the same scenario with all recycling switched off (collection and new-scrap recycling = 0)
minus mined Nd of the scenario.
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from mfa.analysis import indicators
from mfa.core.errors import MfaError, ParameterError, ScenarioError, SecondaryExceedsDemandWarning
from mfa.core.lifetimes import Normal
from mfa.core.stocks import inflow_driven
from mfa.core.system import Flow, ProcessSystem, Stock
from mfa.core.units import UnitError, conversion_factor, define_units, parse_unit
from mfa.data.params import ParameterSet
from mfa.io import provenance_attrs

#: Counting units of the Nd drivers, each its own dimension so that they never mix silently
#: (``kg/MW * vehicle/yr`` is not a mass flow). The default data declare them too
#: (``[units]`` in ``params/model.toml``).
UNITS: tuple[str, ...] = (
    "vehicle = [vehicle] = vehicle = veh",
    "unit = [item] = unit = units",
    "turbine = [turbine] = turbine",
)
define_units(UNITS, source="model 'neodymium'")

__all__ = [
    "EV_PRODUCTS",
    "WIND_PRODUCTS",
    "OTHER_PRODUCTS",
    "MAGNET_PRODUCTS",
    "STAGES",
    "PROCESSES",
    "FLOWS",
    "SIGNED_FLOWS",
    "PARAMETER_UNITS",
    "process_system",
    "RESULT_VARIABLES",
    "nd_in_new_products",
    "simulate",
    "run",
]

EV_PRODUCTS = ("ev_bev", "ev_phev", "e_two_wheeler")
WIND_PRODUCTS = ("wind_onshore", "wind_offshore")
OTHER_PRODUCTS = ("electronics", "industrial_motors", "other_magnets", "non_magnet")
NON_MAGNET = "non_magnet"
MAGNET_PRODUCTS = EV_PRODUCTS + WIND_PRODUCTS + ("electronics", "industrial_motors", "other_magnets")
STAGES = ("mining", "separation", "metal", "magnet", "manufacturing")
PROCESSES = ("mining", "separation", "metal", "magnet", "manufacturing", "use", "collection",
             "recycling", "trade")

#: Result variables: name -> (units, long name). Every run returns at least these.
RESULT_VARIABLES: dict[str, tuple[str, str]] = {
    "nd_in_new_products": ("t/yr", "Nd in new products put into use, by region of use"),
    "in_use_stock": ("t", "Nd in products in use (end of year)"),
    "eol_outflow": ("t/yr", "Nd in products reaching end of life"),
    "total_demand": ("t/yr", "Nd entering the oxide/metal stage from all sources"),
    "primary_demand": ("t/yr", "Nd that must be mined (in ore), by mining region"),
    "secondary_supply": ("t/yr", "Recycled Nd returned to the oxide stage, by source"),
    "primary_demand_no_recycling": ("t/yr", "Mined Nd of the same scenario with all recycling off"),
    "primary_demand_avoided": ("t/yr", "Mined Nd avoided by recycling (no-recycling minus this)"),
    "recycling_input_rate": ("1", "Secondary Nd / (primary + secondary) at the oxide stage"),
    "production": ("t/yr", "Nd output of each stage by region where it is produced"),
    "consumption": ("t/yr", "Nd input of each stage's product by region where it is used"),
    "production_share": ("1", "Share of each stage's output produced in a region"),
    "hhi": ("1", "Herfindahl-Hirschman index of each stage over the model regions"),
    "import_reliance": ("1", "Net imports / consumption of each stage's product by region"),
    "secondary_stockpile_addition": ("t/yr", "Secondary Nd in excess of demand, stockpiled"),
    "mass_balance_residual": ("t/yr", "Inputs - outputs - stock change, by process and region"),
    "mass_balance_residual_total": ("t/yr", "Inputs - outputs - stock change, summed over regions"),
}

# name: (source process, target process, long name)
FLOWS: dict[str, tuple[str, str, str]] = {
    "flow_mined": ("environment", "mining", "Nd in ore mined"),
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
    "wind_additions": "MW/yr",
    "pm_share": "1",
    "magnet_per_vehicle": "kg/vehicle",
    "magnet_per_mw": "kg/MW",
    "nd_share_in_magnet": "1",
    "nd_other_demand": "t/yr",
    "use_region_share": "1",
    "lifetime_mean": "yr",
    "lifetime_sd": "yr",
    "yield_mining": "1",
    "yield_separation": "1",
    "yield_metal": "1",
    "magnet_scrap_rate": "1",
    "new_scrap_recycling_rate": "1",
    "new_scrap_recovery_yield": "1",
    "collection_rate": "1",
    "recycling_yield": "1",
    "production_share": "1",
}

#: Parameters multiplied to give Nd in new products [t/yr], by end-use group, and the products.
_NEW_PRODUCT_TERMS: tuple[tuple[list[str], tuple[str, ...]], ...] = (
    (["ev_sales", "pm_share", "magnet_per_vehicle", "nd_share_in_magnet"], EV_PRODUCTS),
    (["wind_additions", "pm_share", "magnet_per_mw", "nd_share_in_magnet"], WIND_PRODUCTS),
    (["nd_other_demand", "use_region_share"], OTHER_PRODUCTS),
)


def _product_factor(names: list[str], target: str = "t/yr") -> float:
    """Conversion factor to ``target`` of the product of ``names`` in :data:`PARAMETER_UNITS`."""
    unit = parse_unit("1")
    for n in names:
        unit = unit * parse_unit(PARAMETER_UNITS[n], n)
    return conversion_factor(unit, target, " × ".join(names))


def _in_model_units(values: xr.Dataset, names: list[str], what: str) -> xr.Dataset:
    """``values`` with the parameters ``names`` converted to :data:`PARAMETER_UNITS`.

    Raises
    ------
    ParameterError
        If ``values`` is not a Dataset or lacks some of ``names`` (all are listed).
    mfa.core.units.UnitError
        Naming the parameter, if its units are missing or of the wrong dimensionality.
    """
    if not isinstance(values, xr.Dataset):
        hint = " (ParameterSet.values)" if isinstance(values, ParameterSet) else ""
        raise ParameterError(
            f"{what}: values must be an xarray.Dataset of parameter values{hint}, "
            f"got {type(values).__name__}"
        )
    missing = [n for n in names if n not in values.data_vars]
    if missing:
        raise ParameterError(f"{what}: values lack parameters {missing}")
    out = values.copy()
    for n in names:
        unit = values[n].attrs.get("units")
        if unit is None:
            raise UnitError(f"{what}: parameter {n!r} has no units (set attrs['units'], "
                            f"e.g. {PARAMETER_UNITS[n]!r})")
        factor = conversion_factor(unit, PARAMETER_UNITS[n], f"{what}: parameter {n!r}")
        if factor != 1.0:
            out[n] = (values[n] * factor).assign_attrs(values[n].attrs)
        out[n].attrs["units"] = PARAMETER_UNITS[n]
    return out


def nd_in_new_products(values: xr.Dataset) -> xr.DataArray:
    """Nd in new products put into use, by time, region (of use) and product [t/yr].

    Parameters
    ----------
    values : xarray.Dataset
        Parameter values (``ParameterSet.values``) with units in ``attrs`` (any unit of the
        dimensionality of :data:`PARAMETER_UNITS`).

    Returns
    -------
    xarray.DataArray
        ``nd_in_new_products`` (time, region, product[, sample]) in t/yr.

    Raises
    ------
    ParameterError
        Missing parameters or values.
    mfa.core.units.UnitError
        A parameter without units or in units of the wrong dimensionality.
    """
    names = list(dict.fromkeys(n for group, _ in _NEW_PRODUCT_TERMS for n in group))
    values = _in_model_units(values, names, "nd_in_new_products")
    ev, wind, other = (_product_of(values, group, products) * _product_factor(group)
                       for group, products in _NEW_PRODUCT_TERMS)
    out = xr.concat([ev, wind, other], dim="product", coords="minimal", compat="override")
    out = out.reindex(product=values["product"].values)
    out = out.transpose("time", "region", "product", ...)
    if bool(out.isnull().any()):
        bad = out.isnull().any([d for d in out.dims if d != "product"])
        raise ParameterError(
            "nd_in_new_products: missing parameter values for products "
            f"{list(out['product'].values[bad.values])}"
        )
    out.name = "nd_in_new_products"
    out.attrs = {"units": "t/yr", "long_name": RESULT_VARIABLES["nd_in_new_products"][1]}
    return out


def _product_of(values: xr.Dataset, names: list[str], products: tuple[str, ...]) -> xr.DataArray:
    """Product of the parameters ``names`` on ``products`` (plain numbers, units dropped)."""
    out = None
    for n in names:
        da = values[n]
        if "product" in da.dims:
            da = da.sel(product=list(products))
        da = da.drop_attrs() if hasattr(da, "drop_attrs") else da
        out = da if out is None else out * da
    return out


def _chain(values: xr.Dataset, new: xr.DataArray, eol: xr.DataArray, recycling: bool) -> dict:
    """Supply-chain flows for given demand and end-of-life flows. Returns plain DataArrays."""
    share = values["production_share"]  # (time, region, stage)
    # The loader accepts sums within 1e-6 of 1; normalise so that trade cancels exactly.
    share = share / share.sum("region")
    sig = {s: share.sel(stage=s, drop=True) for s in STAGES}
    scrap_rate = values["magnet_scrap_rate"]
    y_metal = values["yield_metal"]
    y_sep = values["yield_separation"]
    y_mine = values["yield_mining"]

    magnet_use = new.sel(product=list(MAGNET_PRODUCTS)).sum("product")  # (time, region)
    non_magnet_use = new.sel(product=NON_MAGNET, drop=True)  # (time, region)
    M = magnet_use.sum("region")
    N_w = non_magnet_use.sum("region")
    A = M / (1.0 - scrap_rate)
    scrap = A * scrap_rate
    O_m = A / y_metal
    demand = O_m + N_w

    if recycling:
        ns_rate = values["new_scrap_recycling_rate"] * values["new_scrap_recovery_yield"]
        collected = eol * values["collection_rate"]
        recovered_eol_rp = collected * values["recycling_yield"]
    else:
        ns_rate = xr.zeros_like(scrap_rate)
        collected = xr.zeros_like(eol)
        recovered_eol_rp = xr.zeros_like(eol)
    rec_ns_w = scrap * ns_rate
    rec_ns = rec_ns_w * sig["magnet"]                     # where magnets are made
    rec_eol = recovered_eol_rp.sum("product")            # where products are used
    secondary = rec_ns + rec_eol                          # (time, region)
    R = secondary.sum("region")

    P = np.maximum(demand - R, 0.0)
    surplus = np.maximum(R - demand, 0.0)
    C = P / y_sep
    X = C / y_mine

    # Regional flows (region = where the process runs).
    f: dict[str, xr.DataArray] = {}
    f["flow_mined"] = X * sig["mining"]
    f["flow_concentrate"] = C * sig["separation"]        # consumed by separation in r
    conc_prod = C * sig["mining"]
    f["flow_mining_losses"] = f["flow_mined"] - conc_prod
    f["flow_net_export_concentrate"] = conc_prod - f["flow_concentrate"]
    f["flow_separation_losses"] = (C - P) * sig["separation"]
    # surplus secondary is stockpiled where it arises, in proportion to secondary supply
    with np.errstate(invalid="ignore", divide="ignore"):
        sec_frac = (secondary / R).fillna(0.0)
    f["flow_stockpile"] = surplus * sec_frac
    oxide_prod = P * sig["separation"] + secondary - f["flow_stockpile"]
    f["flow_oxide_to_metal"] = O_m * sig["metal"]
    f["flow_oxide_to_manufacturing"] = N_w * sig["manufacturing"]
    f["flow_net_export_oxide"] = oxide_prod - f["flow_oxide_to_metal"] - f["flow_oxide_to_manufacturing"]
    alloy_prod = A * sig["metal"]
    f["flow_metal_losses"] = f["flow_oxide_to_metal"] - alloy_prod
    f["flow_alloy_to_magnet"] = A * sig["magnet"]
    f["flow_net_export_alloy"] = alloy_prod - f["flow_alloy_to_magnet"]
    f["flow_new_scrap"] = scrap * sig["magnet"]
    magnet_prod = M * sig["magnet"]
    f["flow_magnet_to_manufacturing"] = M * sig["manufacturing"]
    f["flow_net_export_magnet"] = magnet_prod - f["flow_magnet_to_manufacturing"]
    products_prod = (M + N_w) * sig["manufacturing"]
    f["flow_products_to_use"] = new.sum("product")
    f["flow_net_export_products"] = products_prod - f["flow_products_to_use"]
    f["flow_eol"] = eol.sum("product")
    f["flow_collected"] = collected.sum("product")
    f["flow_eol_losses"] = f["flow_eol"] - f["flow_collected"]
    f["flow_recycled_new_scrap"] = rec_ns
    f["flow_recycled_eol"] = rec_eol
    f["flow_new_scrap_losses"] = f["flow_new_scrap"] - rec_ns
    f["flow_recycling_losses"] = f["flow_collected"] - rec_eol

    production = xr.concat(
        xr.broadcast(conc_prod, oxide_prod, alloy_prod, magnet_prod, products_prod), dim="stage"
    ).assign_coords(stage=list(STAGES))
    consumption = xr.concat(
        xr.broadcast(
            f["flow_concentrate"],
            f["flow_oxide_to_metal"] + f["flow_oxide_to_manufacturing"],
            f["flow_alloy_to_magnet"],
            f["flow_magnet_to_manufacturing"],
            f["flow_products_to_use"],
        ),
        dim="stage",
    ).assign_coords(stage=list(STAGES))
    return {
        "flows": f,
        "demand": demand,
        "secondary_new_scrap": rec_ns_w,
        "secondary_eol": rec_eol.sum("region"),
        "surplus": surplus,
        "production": production,
        "consumption": consumption,
    }


def _check_options(what: str, check: object, rtol: object = 0.0) -> None:
    """``check`` must be a bool and ``rtol`` a finite number >= 0 (MfaError otherwise)."""
    if not isinstance(check, (bool, np.bool_)):
        raise MfaError(f"{what}: check must be True or False, got {check!r}")
    if (isinstance(rtol, (bool, np.bool_)) or not isinstance(rtol, (int, float, np.number))
            or not np.isfinite(rtol) or rtol < 0):
        raise MfaError(f"{what}: rtol must be a number >= 0, got {rtol!r}")


def _check_coords(values: xr.Dataset, what: str) -> None:
    """The dims the equations index by label must be there, with the labels they use."""
    needed = {"time": (), "region": (), "product": EV_PRODUCTS + WIND_PRODUCTS + OTHER_PRODUCTS,
              "stage": STAGES}
    for dim, labels in needed.items():
        if dim not in values.coords:
            raise ParameterError(f"{what}: values lack the coordinate {dim!r}")
        lacking = [x for x in labels if x not in set(values[dim].values.tolist())]
        if lacking:
            raise ParameterError(f"{what}: the {dim!r} labels of values lack {lacking}")


@functools.lru_cache(maxsize=8)
def process_system(extra_dims: tuple[str, ...] = ()) -> ProcessSystem:
    """The Nd process system: every flow of ``FLOWS`` by (time, region) and the in-use stock.

    Regional processes balance per region; ``trade`` receives each region's net exports of every
    stage's product and balances over the sum of regions (net exports cancel worldwide). The
    net exports are the only flows that may be negative (:data:`SIGNED_FLOWS`).

    Parameters
    ----------
    extra_dims : tuple of str
        Further dims every flow and stock carries (e.g. ``("sample",)`` for Monte Carlo); the
        mass balance is checked for each of their labels separately.
    """
    return ProcessSystem(
        "neodymium",
        processes=list(PROCESSES),
        flows=[Flow(name, src, dst, ("time", "region", *extra_dims), signed=name in SIGNED_FLOWS)
               for name, (src, dst, _) in FLOWS.items()],
        stocks=[Stock("in_use_stock", "use", ("time", "region", "product", *extra_dims))],
        boundary=("environment",),
        pooled=("trade",),
        kept_dims=extra_dims,
    )


def simulate(values: xr.Dataset, *, check: bool = True, rtol: float = 1e-9) -> xr.Dataset:
    """Run the Nd model on parameter values.

    Parameters
    ----------
    values : xarray.Dataset
        Interpolated parameter values (``ParameterSet.values``): every parameter of
        :data:`PARAMETER_UNITS`, with units in ``attrs["units"]`` (any unit of the same
        dimensionality; converted to :data:`PARAMETER_UNITS` first), coordinates ``time``,
        ``region``, ``product`` and ``stage``. Any parameter may carry an extra ``sample``
        dimension (Monte Carlo); the whole computation broadcasts over it.
    check : bool
        Check the mass balance of every process and that no flow but the net exports
        (:data:`SIGNED_FLOWS`) is negative (raises :class:`mfa.core.errors.MassBalanceError`).
    rtol : float
        Relative tolerance of the mass-balance check, against each process's throughput
        (plus an absolute 1e-6 t/yr).

    Returns
    -------
    xarray.Dataset
        The result variables of :data:`RESULT_VARIABLES` and the flows of ``FLOWS``.

    Raises
    ------
    ParameterError
        ``values`` is not a Dataset, lacks parameters, coordinates or labels.
    mfa.core.units.UnitError
        A parameter without units or with units of the wrong dimensionality.
    MfaError
        ``check`` is not a bool or ``rtol`` not a number >= 0.
    MassBalanceError
        A process does not balance or a flow is negative (only with ``check=True``).

    Warns
    -----
    SecondaryExceedsDemandWarning
        Secondary Nd exceeds total demand in some year: the excess is stockpiled.
    """
    _check_options("simulate", check, rtol)
    values = _in_model_units(values, list(PARAMETER_UNITS), "simulate")
    _check_coords(values, "simulate")
    new = nd_in_new_products(values)
    lifetime = Normal(mean=values["lifetime_mean"], sd=values["lifetime_sd"])
    dsm = inflow_driven(new, lifetime)
    stock = dsm["stock"]
    eol = dsm["outflow"]

    chain = _chain(values, new, eol, recycling=True)
    ref = _chain(values, new, eol, recycling=False)
    if bool((chain["surplus"] > 0).any()):
        years = chain["surplus"]["time"].values[(chain["surplus"] > 0).any(
            [d for d in chain["surplus"].dims if d != "time"]).values]
        warnings.warn(
            f"secondary Nd exceeds total demand in {years.tolist()}: the excess is stockpiled "
            "(flow_stockpile)",
            SecondaryExceedsDemandWarning,
            stacklevel=2,
        )
    flows = chain["flows"]
    ds = xr.Dataset()
    ds["nd_in_new_products"] = new
    ds["in_use_stock"] = stock
    ds["eol_outflow"] = eol
    ds["total_demand"] = chain["demand"]
    ds["primary_demand"] = chain["flows"]["flow_mined"]
    ds["secondary_supply"] = xr.concat(
        xr.broadcast(chain["secondary_new_scrap"], chain["secondary_eol"]), dim="source"
    ).assign_coords(source=["new_scrap", "end_of_life"])
    primary_w = chain["flows"]["flow_mined"].sum("region").assign_attrs(units="t/yr")
    ds["primary_demand_no_recycling"] = ref["flows"]["flow_mined"].sum("region").assign_attrs(units="t/yr")
    ds["primary_demand_avoided"] = indicators.avoided(ds["primary_demand_no_recycling"], primary_w)
    ds["recycling_input_rate"] = indicators.recycling_input_rate(
        ds["secondary_supply"].sum("source").assign_attrs(units="t/yr"),
        chain["demand"].assign_attrs(units="t/yr"))
    prod = chain["production"].assign_attrs(units="t/yr")
    cons = chain["consumption"].assign_attrs(units="t/yr")
    ds["production"] = prod
    ds["consumption"] = cons
    ds["production_share"] = indicators.production_share(prod)
    ds["hhi"] = indicators.hhi(ds["production_share"])
    ds["import_reliance"] = indicators.import_reliance(prod, cons)
    ds["secondary_stockpile_addition"] = chain["surplus"]
    system_values = {name: da.assign_attrs(units="t/yr") for name, da in flows.items()}
    system_values["in_use_stock"] = stock
    extra = tuple(sorted({d for da in system_values.values() for d in da.dims}
                         - {"time", "region", "product"}))
    if extra:  # every flow carries the extra dims (e.g. sample) so the system can check them
        holders = {d: next(da for da in system_values.values() if d in da.dims) for d in extra}
        zero = xr.DataArray(np.zeros([holders[d].sizes[d] for d in extra]), dims=extra,
                            coords={d: holders[d][d] for d in extra if d in holders[d].coords})
        system_values = {n: (da + zero).assign_attrs(da.attrs) for n, da in system_values.items()}
    system = process_system(extra)
    system_ds = system.to_dataset(system_values)
    if check:
        system.check_balance(system_ds, rtol=rtol)
    ds = ds.merge(system_ds, compat="override")

    for name, (units, long_name) in RESULT_VARIABLES.items():
        ds[name].attrs.update({"units": units, "long_name": long_name})
    for name, (_, _, long_name) in FLOWS.items():
        ds[name].attrs["long_name"] = long_name
    ds = ds.transpose("time", ...)
    ds["time"] = ds["time"].astype("int64")
    ds.attrs["max_abs_mass_balance_residual"] = system_ds.attrs["max_abs_mass_balance_residual"]
    ds.attrs["mass_balance_rtol"] = rtol
    return ds


ND_PER_ND2O3 = 2 * 144.242 / (2 * 144.242 + 3 * 15.999)
"""Mass fraction of Nd in Nd2O3 (standard atomic weights: Nd 144.242, O 15.999), ≈ 0.857."""


def calibration(results: xr.Dataset, params: ParameterSet) -> pd.DataFrame:
    """Compare modelled Nd in mine concentrate with USGS world rare-earth mine production.

    USGS reports mine production as the rare-earth-oxide (REO) content of concentrates. The
    Nd it implies is ``world_ree_mine_production × nd_share_of_reo × 0.857``, with the Nd2O3
    share of REO weighted by the model's mining shares of the regions. The model's
    counterpart is ``flow_concentrate`` (Nd in concentrate, before separation losses).

    Parameters
    ----------
    results : xarray.Dataset
        Results of :func:`run` or :func:`simulate` (single run, no ``sample`` dim).
    params : ParameterSet
        The parameters with the calibration targets ``world_ree_mine_production`` [t/yr REO]
        and ``nd_share_of_reo`` [1].

    Returns
    -------
    pandas.DataFrame
        Indexed by year (years with USGS data): ``usgs_reo`` [t/yr REO], ``nd_share_of_reo``
        [1], ``usgs_nd`` [t/yr Nd], ``model_nd_concentrate`` [t/yr Nd], ``ratio`` [1].
    """
    v = params.values
    reo = v["world_ree_mine_production"] * conversion_factor(
        v["world_ree_mine_production"].attrs["units"], "t/yr", "world_ree_mine_production")
    nd_share = v["nd_share_of_reo"] * conversion_factor(
        v["nd_share_of_reo"].attrs["units"], "1", "nd_share_of_reo")
    mining = results["production_share"].sel(stage="mining", drop=True)
    share = (nd_share * mining).sum("region")
    usgs_nd = reo * share * ND_PER_ND2O3
    model = results["flow_concentrate"].sum("region")
    table = xr.Dataset({"usgs_reo": reo, "nd_share_of_reo": share, "usgs_nd": usgs_nd,
                        "model_nd_concentrate": model, "ratio": model / usgs_nd}).to_dataframe()
    rows = params.table[params.table["parameter"] == "world_ree_mine_production"]
    years = sorted({int(y) for y in rows["year"].dropna()})
    table = table.loc[[y for y in years if y in table.index and table.loc[y, "usgs_reo"] > 0]]
    table.index.name = "year"
    return table


def run(
    scenario: str | Path = "baseline",
    params: ParameterSet | str | Path | None = None,
    *,
    check: bool = True,
) -> xr.Dataset:
    """Run the neodymium model for one scenario.

    Parameters
    ----------
    scenario : str or path-like
        Scenario name (a file in ``params/scenarios``) or path to a scenario TOML file.
    params : ParameterSet, str, path-like or None
        Parameter set or parameter directory; ``None`` uses the default data shipped with the
        package.
    check : bool
        Check the mass balance of every process and stock.

    Returns
    -------
    xarray.Dataset
        Results with units in ``attrs`` and provenance in the dataset attributes.

    Raises
    ------
    ScenarioError
        ``scenario`` is not a name or path, or the scenario is unknown or wrong.
    ParameterError
        ``params`` is not a ParameterSet, directory or None, or the parameters are wrong.
    MfaError
        ``check`` is not a bool; and the errors of :func:`simulate`.
    """
    from mfa.data.params import load_parameters
    from mfa.data.scenarios import apply_scenario, load_scenario

    _check_options("run", check)
    if isinstance(scenario, bool) or not isinstance(scenario, (str, os.PathLike)):
        raise ScenarioError(f"run: scenario must be a scenario name or the path of a scenario "
                            f"TOML file, got {type(scenario).__name__} {scenario!r}")
    if params is not None and not isinstance(params, (ParameterSet, str, os.PathLike)):
        raise ParameterError(f"run: params must be a ParameterSet, a parameter directory or "
                             f"None, got {type(params).__name__} {params!r}")
    params_dir = getattr(params, "path", None)
    if not isinstance(params, ParameterSet):
        params_dir = params
        params = load_parameters(params)
    scen = load_scenario(scenario, params_dir=params_dir)
    scenario_params = apply_scenario(params, scen)
    ds = simulate(scenario_params.values, check=check)
    ds.attrs.update(
        provenance_attrs(
            scen.name,
            params.files,
            extra={
                "title": f"Neodymium dynamic MFA, scenario {scen.name}",
                "model": "nd-mfa",
                "scenario_description": scen.description,
                "scenario_sha256": scen.sha256 or "",
                "scenario_files": json.dumps(dict(sorted(scen.files.items()))),
                "conventions": "units in attrs['units'] (pint-readable); Nd element mass",
            },
        )
    )
    return ds


class NeodymiumModel:
    """The neodymium model as a :class:`mfa.core.model.Model` (registered as ``"neodymium"``)."""

    name = "neodymium"
    material = "Nd"
    #: Result variables summarised by default (world totals in Monte Carlo, Sobol outputs).
    headline: tuple[str, ...] = ("primary_demand", "primary_demand_avoided", "total_demand",
                                 "secondary_supply", "in_use_stock", "eol_outflow")

    @property
    def default_params(self) -> Path:
        """The packaged default data (``params/`` in the repository)."""
        from mfa.data.params import default_params_dir

        return default_params_dir()

    def system(self, extra_dims: tuple[str, ...] = ()) -> ProcessSystem:
        """The Nd process system (:func:`process_system`)."""
        return process_system(tuple(extra_dims))

    def simulate(self, values: xr.Dataset, *, check: bool = True) -> xr.Dataset:
        """Results of the Nd model for parameter values (:func:`simulate`)."""
        ds = simulate(values, check=check)
        ds.attrs.update(model=self.name, material=self.material)
        return ds

    def __repr__(self) -> str:
        return "<model 'neodymium' (Nd)>"


#: The model object found by ``mfa.models.get("neodymium")`` (entry point ``mfa.models``).
MODEL = NeodymiumModel()
