"""The neodymium model chain: parameters -> Nd in new products -> stocks -> supply chain.

:func:`simulate` chains the relations of :mod:`.equations` (as pvlib's ModelChain does) and
returns every flow, stock and indicator with units, after checking the mass balance of every
process.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from mfa.analysis import indicators
from mfa.core.errors import MfaError, ParameterError
from mfa.core.units import UnitError, conversion_factor, parse_unit
from mfa.data.params import ParameterSet
from mfa.models.neodymium._variables import (
    concat,
    on_labels,
    positions,
    results_dataset,
    without_attrs,
    wrap,
)
from mfa.models.neodymium.chain import primary_separated_world, supply_chain
from mfa.models.neodymium.demand import end_use_demand, end_use_products
from mfa.models.neodymium.equations import (
    in_use_hibernating_and_end_of_life,
    nd_in_products,
)
from mfa.models.neodymium.fleets import (
    CAR_PRODUCTS,
    OBSERVED_SALES_UNTIL,
    WIND_FLEET_PRODUCTS,
    fleet_flows,
)
from mfa.models.neodymium.structure import (
    BASIS,
    END_USES,
    EV_PRODUCTS,
    FLOWS,
    IAMC_NAMES,
    OTHER_PRODUCTS,
    PARAMETER_UNITS,
    RESULT_VARIABLES,
    STAGES,
    WIND_PRODUCTS,
    SecondaryExceedsDemandWarning,
    process_system,
)

__all__ = ["nd_in_new_products", "new_products_and_fleets", "primary_demand_avoided_vs",
           "simulate", "supply_chain", "without_end_of_life_recycling"]

#: Nd in new products [t/yr] of EVs and wind: activity (unit) x the intensity parameters. The
#: activities are EV sales (``ev_sales`` for two-wheelers and observed car sales; cars after
#: :data:`OBSERVED_SALES_UNTIL` from ``ev_fleet``) and wind gross additions (from
#: ``wind_capacity``), both from :func:`.fleets.fleet_flows`.
_NEW_PRODUCT_TERMS: tuple[tuple[str, list[str], tuple[str, ...]], ...] = (
    ("vehicle/yr", ["pm_share", "magnet_per_vehicle", "nd_share_in_magnet"], EV_PRODUCTS),
    ("MW/yr", ["pm_share", "magnet_per_mw", "nd_share_in_magnet"], WIND_PRODUCTS),
)
#: Parameters of the fleet and capacity model (:mod:`.fleets`).
_FLEET_PARAMETERS: list[str] = ["ev_sales", "ev_fleet", "wind_capacity", "lifetime_mean",
                                "lifetime_sd"]
#: Parameters of the bottom-up end uses (:mod:`.demand`).
_END_USE_PARAMETERS: list[str] = ["end_use_activity", "end_use_ndfeb_per_unit",
                                  "end_use_pm_share", "end_use_nd_share", "end_use_nd_direct",
                                  "use_region_share"]


def _product_factor(activity: str, names: list[str], target: str = "t/yr") -> float:
    """Conversion factor to ``target`` of ``activity`` times the units of ``names``
    (:data:`PARAMETER_UNITS`)."""
    unit = parse_unit(activity)
    for n in names:
        unit = unit * parse_unit(PARAMETER_UNITS[n], n)
    return conversion_factor(unit, target, " × ".join([activity, *names]))


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
    return new_products_and_fleets(values)[0]


def new_products_and_fleets(values: xr.Dataset) -> tuple[xr.DataArray, dict[str, xr.DataArray]]:
    """:func:`nd_in_new_products` [t/yr] and the fleet results (``ev_car_*`` [vehicle,
    vehicle/yr], ``wind_*`` [MW, MW/yr]) that :func:`simulate` reports, from the same values.
    A caller that needs them before the run passes them to :func:`simulate` (``products``)."""
    names = list(dict.fromkeys(n for _, group, _ in _NEW_PRODUCT_TERMS for n in group))
    values = _in_model_units(values, names + _FLEET_PARAMETERS + _END_USE_PARAMETERS,
                             "nd_in_new_products")
    _check_coords(values, "nd_in_new_products")
    return _new_products_and_fleets(values)


def _new_products_and_fleets(values: xr.Dataset
                             ) -> tuple[xr.DataArray, dict[str, xr.DataArray]]:
    """:func:`new_products_and_fleets` of values already in :data:`PARAMETER_UNITS`, with
    their coordinates checked (as :func:`simulate` has them)."""
    cars, wind = _fleets(values)
    # on Variables (the labels are values' throughout): the same operations as with
    # DataArrays, in the same layouts, without aligning at each step (~15 ms per call)
    products = list(values.indexes["product"])
    car_inflow = cars["inflow"]
    sales = concat([values.variables["ev_sales"].isel(product=positions(products,
                                                                       ["e_two_wheeler"])),
                     car_inflow.variable], "product")
    sold = ["e_two_wheeler", *car_inflow["product"].values.tolist()]
    wind_labels = wind["inflow"]["product"].values.tolist()
    activity = {EV_PRODUCTS: sales.isel(product=positions(sold, EV_PRODUCTS)),
                WIND_PRODUCTS: wind["inflow"].variable.isel(
                    product=positions(wind_labels, WIND_PRODUCTS))}
    ev, wind_nd = (nd_in_products(activity[group_products],
                                  *_factors(values, group, group_products, products),
                                  unit_factor=_product_factor(unit, group))
                   for unit, group, group_products in _NEW_PRODUCT_TERMS)
    by_end_use = end_use_demand(values)
    uses = end_use_products(by_end_use, values["use_region_share"])
    # each part is 0 outside its own products and NaN (an error below) where a value is missing
    # inside them; end uses add to EV products (e-bikes beyond the IEA series)
    drivers = on_labels(concat([ev, wind_nd], "product"), "product",
                        EV_PRODUCTS + WIND_PRODUCTS, products)
    use_labels = uses["product"].values.tolist()
    uses = uses.variable
    if set(uses.dims) == set(drivers.dims):  # in the drivers' layout: a sum of two contiguous
        uses = uses.transpose(*drivers.dims)  # arrays (the same numbers, the same layout)
    uses = on_labels(uses, "product", use_labels, products)
    out = wrap(drivers + uses, dict(values.coords.variables))
    out = out.transpose("time", "region", "product", ...)
    if bool(out.isnull().any()):
        bad = out.isnull().any([d for d in out.dims if d != "product"])
        raise ParameterError(
            "nd_in_new_products: missing parameter values for products "
            f"{out['product'].values[bad.values].tolist()}"
        )
    out.name = "nd_in_new_products"
    out.attrs = {"units": "t/yr", "long_name": RESULT_VARIABLES["nd_in_new_products"][1]}
    return out, _fleet_results(cars, wind)


def _fleets(values: xr.Dataset) -> tuple[dict[str, xr.DataArray], dict[str, xr.DataArray]]:
    """Stock, inflow and retirements of EV cars [vehicle, vehicle/yr] and wind [MW, MW/yr]."""
    labels = list(values.indexes["product"])

    def sel(name: str, products: tuple[str, ...]) -> xr.DataArray:
        da = without_attrs(values[name])  # by position: the labels are values' (checked)
        return da.isel(product=positions(labels, products)) if "product" in da.dims else da

    cars = fleet_flows(sel("ev_fleet", CAR_PRODUCTS), sel("lifetime_mean", CAR_PRODUCTS),
                       sel("lifetime_sd", CAR_PRODUCTS),
                       observed_inflow=sel("ev_sales", CAR_PRODUCTS),
                       observed_until=OBSERVED_SALES_UNTIL)
    wind = fleet_flows(sel("wind_capacity", WIND_FLEET_PRODUCTS),
                       sel("lifetime_mean", WIND_FLEET_PRODUCTS),
                       sel("lifetime_sd", WIND_FLEET_PRODUCTS))
    return cars, wind


#: Fleet result variables: name -> (fleet, quantity of :func:`.fleets.fleet_flows`, dim name).
#: The product dim is renamed (same labels): the variables cover only the fleet products, and a
#: ``product`` dim would be reindexed to every product (NaN) in the results.
_FLEET_VARIABLES: dict[str, tuple[str, str, str]] = {
    "ev_car_stock": ("cars", "stock", "vehicle_type"),
    "ev_car_sales": ("cars", "inflow", "vehicle_type"),
    "ev_car_retirements": ("cars", "retirements", "vehicle_type"),
    "wind_capacity_installed": ("wind", "stock", "wind_type"),
    "wind_gross_additions": ("wind", "inflow", "wind_type"),
    "wind_retirements": ("wind", "retirements", "wind_type"),
}


def _fleet_results(cars: dict[str, xr.DataArray], wind: dict[str, xr.DataArray]
                  ) -> dict[str, xr.DataArray]:
    """The fleet result variables (:data:`_FLEET_VARIABLES`) from :func:`.fleets.fleet_flows`
    of the EV cars (vehicle, vehicle/yr) and wind (MW, MW/yr)."""
    fleets = {"cars": cars, "wind": wind}
    out = {}
    for name, (fleet, key, dim) in _FLEET_VARIABLES.items():
        units, long_name = RESULT_VARIABLES[name]
        out[name] = fleets[fleet][key].rename(product=dim).assign_attrs(
            units=units, long_name=long_name, iamc_aggregate="sum")
    return out


def _factors(values: xr.Dataset, names: list[str], products: tuple[str, ...],
             labels: list[str]) -> list[xr.Variable]:
    """The parameters ``names`` on ``products`` (plain numbers: Variables, no attrs in the
    products of :func:`nd_in_products`); ``labels``: the product labels of ``values``."""
    out = []
    for n in names:
        var = values.variables[n]
        if "product" in var.dims:
            var = var.isel(product=positions(labels, products))
        out.append(var)
    return out


def without_end_of_life_recycling(values: xr.Dataset) -> xr.Dataset:
    """Scenario transform: the same values with end-of-life recycling switched off.

    ``collection_rate`` is set to 0; new-scrap recycling (``new_scrap_recycling_rate``) and
    everything else are unchanged, since recycling magnet-making scrap is what industry already
    does and not a measure whose benefit is to be credited. The counterfactual behind
    ``primary_demand_no_eol_recycling`` and ``primary_demand_avoided`` (primary demand avoided
    by end-of-life recycling, the old-scrap loop of UNEP 2011, *Recycling Rates of Metals*).
    """
    out = values.copy()
    out["collection_rate"] = xr.zeros_like(values["collection_rate"]).assign_attrs(
        values["collection_rate"].attrs)
    return out


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
              "stage": STAGES, "end_use": tuple(END_USES)}
    for dim, labels in needed.items():
        if dim not in values.coords:
            raise ParameterError(f"{what}: values lack the coordinate {dim!r}")
        lacking = [x for x in labels if x not in set(values[dim].values.tolist())]
        if lacking:
            raise ParameterError(f"{what}: the {dim!r} labels of values lack {lacking}")


def _warn_surplus(surplus: xr.DataArray) -> None:
    """SecondaryExceedsDemandWarning naming the years where secondary Nd exceeds demand."""
    if bool((surplus > 0).any()):
        years = surplus["time"].values[(surplus > 0).any(
            [d for d in surplus.dims if d != "time"]).values]
        warnings.warn(
            f"secondary Nd exceeds total demand in {years.tolist()}: the excess is stockpiled "
            "(flow_stockpile)",
            SecondaryExceedsDemandWarning,
            stacklevel=3,
        )


def _set_attrs(ds: xr.Dataset, system_ds: xr.Dataset) -> None:
    """The results' attributes, in place, from the model's schema and the process system.

    Set here, not inherited: xarray keeps a parameter's attrs (its description and source
    keys) on whatever is computed from it, which would mislabel results."""
    system_keys = ("units", "long_name", "source", "target", "process", "regions_summed")
    out, system = ds.variables, system_ds.variables  # no DataArray made per variable
    for name in ds.data_vars:  # flows: source/target; stocks: process; residuals: regions_summed
        kept = system[name].attrs if name in system_ds.data_vars else {}
        out[name].attrs = {k: v for k, v in kept.items() if k in system_keys}
    for name, (units, long_name) in RESULT_VARIABLES.items():
        out[name].attrs.update({"units": units, "long_name": long_name})
    for name, basis in BASIS.items():
        out[name].attrs["basis"] = basis
    for name, iamc in IAMC_NAMES.items():
        out[name].attrs["iamc_variable"] = iamc
    for name, (_, _, long_name) in FLOWS.items():
        out[name].attrs["long_name"] = long_name


def simulate(values: xr.Dataset, *, check: bool = True, rtol: float = 1e-9,
             products: tuple[xr.DataArray, dict[str, xr.DataArray]] | None = None
             ) -> xr.Dataset:
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
    products : tuple, optional
        :func:`new_products_and_fleets` of these ``values`` (or of values that differ only
        downstream of the products), if the caller has computed them already (the element
        model does); computed here if None.

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
    new, fleets = _new_products_and_fleets(values) if products is None else products
    stock, hibernating, eol = in_use_hibernating_and_end_of_life(
        new, values["lifetime_mean"], values["lifetime_sd"], values["hibernation_time"])

    chain = supply_chain(values, new, eol)
    # the counterfactual needs only its world primary demand, not its regional flows
    primary_no_eol = primary_separated_world(values, new, eol, reuse=chain,
                                             without_collection=True)
    _warn_surplus(chain["surplus"])
    flows = chain["flows"]
    res: dict[str, xr.DataArray] = {"nd_in_new_products": new, "in_use_stock": stock,
                                    "hibernating_stock": hibernating, "eol_outflow": eol,
                                    "total_demand": chain["demand"]}
    res.update(_recycling_indicators(chain, primary_no_eol))
    res["production"] = prod = chain["production"].assign_attrs(units="t/yr")
    res["consumption"] = cons = chain["consumption"].assign_attrs(units="t/yr")
    res["production_share"] = indicators.production_share(prod)
    res["hhi"] = indicators.hhi(res["production_share"])
    res["import_reliance"] = indicators.import_reliance(prod, cons)
    res["secondary_stockpile_addition"] = chain["surplus"]
    system_values = {name: da.assign_attrs(units="t/yr") for name, da in flows.items()}
    system_values["in_use_stock"] = stock
    system_values["hibernating_stock"] = hibernating
    system_values.update({name: da.assign_attrs(units="t")
                          for name, da in chain["stocks"].items()})
    # extra dims (e.g. sample) are kept and checked cell by cell; the system broadcasts them
    extra = tuple(sorted({d for da in system_values.values() for d in da.dims}
                         - {"time", "region", "product"}))
    system = process_system(extra)
    system_ds = system.to_dataset(system_values)
    if check:
        system.check_balance(system_ds, rtol=rtol)
    for name in system_ds.data_vars:  # the system's flows, stocks and balance after the results
        res.setdefault(str(name), system_ds[name])
    res.update(fleets)
    ds = results_dataset(res, "simulate")
    _set_attrs(ds, system_ds)
    for name in fleets:  # vehicles and MW add up over regions and types (IAMC World rows)
        ds[name].attrs["iamc_aggregate"] = "sum"
    ds.attrs["max_abs_mass_balance_residual"] = system_ds.attrs["max_abs_mass_balance_residual"]
    ds.attrs["mass_balance_rtol"] = rtol
    return ds


def _primary_separated(flows: dict[str, xr.DataArray]) -> xr.DataArray:
    """Nd in separated products made from ore, by region of separation [t/yr]: the Nd in
    concentrate consumed by separation less the separation losses."""
    return flows["flow_concentrate"] - flows["flow_separation_losses"]


def _recycling_indicators(chain: dict, primary_no_eol: xr.DataArray) -> dict[str, xr.DataArray]:
    """Primary demand on both bases, secondary supply and the UNEP (2011) recycling indicators.

    ``chain`` is the scenario's :func:`supply_chain`, ``primary_no_eol`` the world primary
    demand (separated oxide) of the same values without end-of-life recycling
    (:func:`without_end_of_life_recycling`, :func:`.chain.primary_separated_world`). Definitions: UNEP (2011),
    *Recycling Rates of Metals: A Status Report* (Graedel et al.): old scrap = Nd in end-of-life
    products, new scrap = Nd discarded in magnet making; EOL-RR = old scrap recycled / old scrap
    generated; recycled content (recycling input rate) = scrap input / (primary + scrap) input
    at the oxide stage, where recycled Nd re-enters.
    """
    t_yr = {"units": "t/yr"}
    f = chain["flows"]
    out: dict[str, xr.DataArray] = {}
    out["primary_demand"] = _primary_separated(f)
    out["primary_demand_ore"] = f["flow_mined"] + f["flow_mined_undocumented"]
    out["secondary_supply"] = xr.concat(
        xr.broadcast(chain["secondary_new_scrap"], chain["secondary_eol"]), dim="source"
    ).assign_coords(source=["new_scrap", "end_of_life"])
    out["new_scrap_recycled"] = chain["secondary_new_scrap"]
    basis = {"units": "t/yr", "basis": BASIS["primary_demand"]}
    primary_w = out["primary_demand"].sum("region", skipna=False).assign_attrs(basis)
    out["primary_demand_no_eol_recycling"] = primary_no_eol.assign_attrs(basis)
    out["primary_demand_avoided"] = indicators.avoided(out["primary_demand_no_eol_recycling"],
                                                       primary_w)
    out["eol_recycling_rate"] = indicators.end_of_life_recycling_rate(
        f["flow_recycled_eol"].sum("region", skipna=False).assign_attrs(t_yr),
        f["flow_eol"].sum("region", skipna=False).assign_attrs(t_yr))
    secondary = out["secondary_supply"].assign_attrs(t_yr)
    out["recycling_input_rate"] = indicators.recycling_input_rate(
        secondary, (primary_w + secondary.sum("source", skipna=False)).assign_attrs(t_yr))
    return out


def primary_demand_avoided_vs(results: xr.Dataset, reference: xr.Dataset) -> xr.DataArray:
    """World primary Nd demand (separated oxide) avoided by a scenario against a reference run.

    ``reference - results`` of world ``primary_demand``, e.g. against the baseline: unlike
    ``primary_demand_avoided`` (end-of-life recycling alone, same scenario), this credits every
    difference between the two scenarios (demand, lifetimes, recycling of both scrap kinds).
    ``mfa compare A B`` prints it for B against A.

    Parameters
    ----------
    results, reference : xarray.Dataset
        Results of :func:`simulate` (``primary_demand`` (time, region) [t/yr] on the
        separated-oxide basis); compared on the years both cover.

    Returns
    -------
    xarray.DataArray
        (time) [t/yr], named ``primary_demand_avoided_vs_<reference scenario>``.

    Raises
    ------
    MfaError
        Either lacks ``primary_demand``, the runs share no year, or their units or bases differ.
    """
    for what, ds in (("results", results), ("reference", reference)):
        if not isinstance(ds, xr.Dataset) or "primary_demand" not in ds:
            raise MfaError(f"primary_demand_avoided_vs: {what} must be model results with "
                           "'primary_demand'")
    scen, ref = (ds["primary_demand"].sum("region", skipna=False, keep_attrs=True)
                 for ds in (results, reference))
    scen, ref = xr.align(scen, ref, join="inner")
    if scen.sizes["time"] == 0:
        raise MfaError("primary_demand_avoided_vs: the two runs share no year")
    try:
        out = indicators.avoided(ref, scen)
    except ValueError as e:
        raise MfaError(f"primary_demand_avoided_vs: {e}") from None
    name = reference.attrs.get("scenario", "reference")
    out.name = f"primary_demand_avoided_vs_{name}"
    out.attrs["long_name"] = (f"Primary Nd demand (separated oxide) avoided against scenario "
                              f"{name!r}: its primary demand minus this one's")
    return out
