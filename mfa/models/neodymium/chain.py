"""The Nd supply chain of one scenario: world totals back from the products to the ore
(:mod:`mfa.models.neodymium.equations`), then the flows by region and each stage's
production and consumption."""

from __future__ import annotations

import numpy as np
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.models.neodymium.equations import (
    SCRAP_QUANTITIES,
    alloy_for_magnets,
    collected_end_of_life,
    concentrate_for_oxide,
    new_scrap,
    ore_for_concentrate,
    oxide_for_metal,
    primary_oxide,
    recovered_from_end_of_life,
    recovered_from_new_scrap,
    recycle_with_capacity,
    secondary_surplus,
)
from mfa.models.neodymium.structure import MAGNET_PRODUCTS, NON_MAGNET, STAGES

__all__ = ["primary_separated_world", "supply_chain"]


def supply_chain(values: xr.Dataset, new: xr.DataArray, eol: xr.DataArray) -> dict:
    """Supply-chain flows for Nd in new products ``new`` and end-of-life flows ``eol``.

    World totals follow the relations of :mod:`.equations`; each stage's output is then split
    over regions by ``production_share`` (where the stage runs), and each region's net export
    of a stage's product is its production minus its consumption. Scrap arises where products
    reach end of life (collected) and where magnets are made (new scrap); it is traded, recycled
    within each region's ``recycling_capacity`` or stored (:func:`.equations.recycle_with_capacity`),
    and secondary Nd arises where it is recycled.

    Returns
    -------
    dict
        ``flows`` (name -> DataArray, t/yr, by region), ``stocks`` (name -> DataArray, t, by
        region: ``scrap_awaiting_recycling``), ``demand``, ``secondary_new_scrap``,
        ``secondary_eol``, ``surplus`` (world, t/yr), ``production`` and ``consumption``
        (stage, region; t/yr); ``world``: the stage shares and world totals, which
        :func:`primary_separated_world` may reuse.
    """
    sig = _stage_shares(values)
    w = _world_chain(values, new, eol, sig)
    f = _regional_flows(values, new, eol, sig, w)
    production, consumption = _by_stage(f, w)
    return {
        "world": (sig, w),
        "flows": f,
        "stocks": {"scrap_awaiting_recycling": w["scrap_stored"]},
        "demand": w["demand"],
        "secondary_new_scrap": w["rec_ns_w"],
        "secondary_eol": w["rec_eol"].sum("region", skipna=False),
        "surplus": w["surplus"],
        "production": production,
        "consumption": consumption,
    }


def primary_separated_world(values: xr.Dataset, new: xr.DataArray, eol: xr.DataArray,
                            *, reuse: dict | None = None) -> xr.DataArray:
    """World Nd in separated products made from ore [t/yr] (time, and any extra dim): the
    ``flow_concentrate - flow_separation_losses`` of :func:`supply_chain` summed over regions,
    computed as there (bit for bit) but without the regional flows, which a counterfactual run
    does not need.

    ``reuse``: the :func:`supply_chain` of the same ``new`` and of ``values`` that differ at
    most in ``collection_rate`` (the no-recycling counterfactual): its stage shares and the
    world totals that do not depend on collection (``_BEFORE_COLLECTION``) are taken from
    it instead of computed again (the same numbers)."""
    if reuse is None:
        sig = _stage_shares(values)
        w = _world_chain(values, new, eol, sig)
    else:
        sig, done = reuse["world"]
        w = _world_chain(values, new, eol, sig, {k: done[k] for k in _BEFORE_COLLECTION})
    separated = w["C"] * sig["separation"] - (w["C"] - w["P"]) * sig["separation"]
    return separated.sum("region", skipna=False)


def _stage_shares(values: xr.Dataset) -> dict[str, xr.DataArray]:
    """Each stage's production shares by region (time, region), normalised to sum to 1."""
    share = values["production_share"]  # (time, region, stage)
    # The loader accepts sums within 1e-6 of 1; normalise so that trade cancels exactly.
    share = share / share.sum("region", skipna=False)
    return {s: share.sel(stage=s, drop=True) for s in STAGES}


#: World totals of :func:`_world_chain` that do not depend on end-of-life collection.
_BEFORE_COLLECTION = ("M", "N_w", "A", "scrap", "O_m", "demand", "scrap_r", "ns_not_sent",
                      "ns_recovered", "ns_lost")


def _before_collection(values: xr.Dataset, new: xr.DataArray,
                       sig: dict[str, xr.DataArray]) -> dict[str, xr.DataArray]:
    """The world totals of ``_BEFORE_COLLECTION``: magnets, alloy, new scrap, demand."""
    scrap_rate = values["magnet_scrap_rate"]
    w: dict[str, xr.DataArray] = {}
    w["M"] = M = new.sel(product=list(MAGNET_PRODUCTS)).sum("product", skipna=False).sum("region", skipna=False)
    w["N_w"] = N_w = new.sel(product=NON_MAGNET, drop=True).sum("region", skipna=False)
    w["A"] = A = alloy_for_magnets(M, scrap_rate)
    w["scrap"] = scrap = new_scrap(A, scrap_rate)
    w["O_m"] = O_m = oxide_for_metal(A, values["yield_metal"])
    w["demand"] = O_m + N_w
    w["scrap_r"] = scrap_r = scrap * sig["magnet"]                # where magnets are made
    rate, ns_yield = values["new_scrap_recycling_rate"], values["new_scrap_recovery_yield"]
    w["ns_not_sent"] = scrap_r * (1.0 - rate)
    w["ns_recovered"] = recovered_from_new_scrap(scrap_r, rate, ns_yield)
    w["ns_lost"] = recovered_from_new_scrap(scrap_r, rate, 1.0 - ns_yield)
    return w


def _world_chain(values: xr.Dataset, new: xr.DataArray, eol: xr.DataArray,
                 sig: dict[str, xr.DataArray], before: dict[str, xr.DataArray] | None = None
                 ) -> dict[str, xr.DataArray]:
    """World totals of the chain (:mod:`.equations`), back from the products to the ore;
    secondary Nd by region (it arises where it is recycled). ``before``: the totals of
    :func:`_before_collection`, if already computed."""
    w = dict(before) if before is not None else _before_collection(values, new, sig)
    demand = w["demand"]
    w["collected"] = collected = collected_end_of_life(eol, values["collection_rate"])
    parts = (recovered_from_end_of_life(collected, values["recycling_yield"]).sum("product", skipna=False),
             recovered_from_end_of_life(collected, 1.0 - values["recycling_yield"]).sum("product", skipna=False),
             w["ns_recovered"], w["ns_lost"])
    w.update(_traded_and_recycled(values, parts))
    w["rec_ns"] = rec_ns = w["processed_new_scrap_recovered"]      # where it is recycled
    w["rec_eol"] = rec_eol = w["processed_eol_recovered"]
    w["rec_ns_w"] = rec_ns.sum("region", skipna=False)
    w["secondary"] = secondary = rec_ns + rec_eol                   # (time, region)
    w["R"] = R = secondary.sum("region", skipna=False)
    w["P"] = P = primary_oxide(demand, R)
    w["surplus"] = secondary_surplus(demand, R)
    w["C"] = C = concentrate_for_oxide(P, values["yield_separation"])
    w["X"] = ore_for_concentrate(C, values["yield_mining"])
    return w


def _regional_flows(values: xr.Dataset, new: xr.DataArray, eol: xr.DataArray,
                    sig: dict[str, xr.DataArray], w: dict[str, xr.DataArray]
                    ) -> dict[str, xr.DataArray]:
    """The flows by region: each stage's output split by its production shares, net exports
    the difference between production and consumption (stage outputs kept as ``_prod``)."""
    f: dict[str, xr.DataArray] = {}
    mined = w["X"] * sig["mining"]
    # a share of the ore mined in a region is undocumented (reconciled history, :mod:`.history`)
    f["flow_mined_undocumented"] = mined * values["undocumented_mining_share"]
    f["flow_mined"] = mined - f["flow_mined_undocumented"]
    f["flow_concentrate"] = w["C"] * sig["separation"]        # consumed by separation in r
    w["conc_prod"] = conc_prod = w["C"] * sig["mining"]
    f["flow_mining_losses"] = mined - conc_prod
    f["flow_net_export_concentrate"] = conc_prod - f["flow_concentrate"]
    f["flow_separation_losses"] = (w["C"] - w["P"]) * sig["separation"]
    # surplus secondary is stockpiled where it arises, in proportion to secondary supply
    with np.errstate(invalid="ignore", divide="ignore"):
        sec_frac = (w["secondary"] / w["R"]).fillna(0.0)
    f["flow_stockpile"] = w["surplus"] * sec_frac
    w["oxide_prod"] = oxide_prod = w["P"] * sig["separation"] + w["secondary"] - f["flow_stockpile"]
    f["flow_oxide_to_metal"] = w["O_m"] * sig["metal"]
    f["flow_oxide_to_manufacturing"] = w["N_w"] * sig["manufacturing"]
    f["flow_net_export_oxide"] = oxide_prod - f["flow_oxide_to_metal"] - f["flow_oxide_to_manufacturing"]
    w["alloy_prod"] = alloy_prod = w["A"] * sig["metal"]
    f["flow_metal_losses"] = f["flow_oxide_to_metal"] - alloy_prod
    f["flow_alloy_to_magnet"] = w["A"] * sig["magnet"]
    f["flow_net_export_alloy"] = alloy_prod - f["flow_alloy_to_magnet"]
    f["flow_new_scrap"] = w["scrap"] * sig["magnet"]
    w["magnet_prod"] = magnet_prod = w["M"] * sig["magnet"]
    f["flow_magnet_to_manufacturing"] = w["M"] * sig["manufacturing"]
    f["flow_net_export_magnet"] = magnet_prod - f["flow_magnet_to_manufacturing"]
    w["products_prod"] = products_prod = (w["M"] + w["N_w"]) * sig["manufacturing"]
    f["flow_products_to_use"] = new.sum("product", skipna=False)
    f["flow_net_export_products"] = products_prod - f["flow_products_to_use"]
    f["flow_eol"] = eol.sum("product", skipna=False)
    f["flow_collected"] = w["collected"].sum("product", skipna=False)
    f["flow_eol_losses"] = f["flow_eol"] - f["flow_collected"]
    f["flow_scrap_export"] = w["scrap_exported"]
    f["flow_scrap_import"] = w["scrap_imported"]
    f["flow_recycled_new_scrap"] = w["rec_ns"]
    f["flow_recycled_eol"] = w["rec_eol"]
    # new scrap not sent to recycling where it arises, plus what processing does not recover
    f["flow_new_scrap_losses"] = w["ns_not_sent"] + w["processed_new_scrap_lost"]
    f["flow_recycling_losses"] = w["processed_eol_lost"]
    return f


def _check_recycling_parameters(values: xr.Dataset) -> None:
    """Shares of scrap trade in [0, 1], recycling capacity >= 0 (NaN: unlimited), some import
    share in every year: otherwise flows would turn negative (ParameterError naming it)."""
    for name, low, high in (("scrap_export_share", 0.0, 1.0), ("scrap_import_share", 0.0, 1.0),
                            ("recycling_capacity", 0.0, np.inf)):
        v = values[name].values
        bad = (v < low) | (v > high) | (np.isnan(v) if name != "recycling_capacity" else False)
        if np.any(bad):
            raise ParameterError(
                f"{name} must lie in [{low:g}, {high:g}]"
                f"{' (NaN: unlimited)' if name == 'recycling_capacity' else ''}, got "
                f"{float(v[bad].flat[0])!r} ({int(bad.sum())} cell(s))")
    if np.any(values["scrap_import_share"].sum("region", skipna=False).values <= 0):
        raise ParameterError("scrap_import_share must sum to 1 over regions in every year "
                             "(some region must recycle exported scrap), got 0")


def _traded_and_recycled(values: xr.Dataset, parts: tuple[xr.DataArray, ...]
                         ) -> dict[str, xr.DataArray]:
    """Scrap sent to recycling (``parts``: the :data:`.equations.SCRAP_QUANTITIES` [t/yr], by
    region where it arises) traded, recycled within capacity and stored
    (:func:`.equations.recycle_with_capacity`), on plain numpy arrays.

    Returns ``scrap_exported``, ``scrap_imported`` [t/yr], ``scrap_stored`` [t] and
    ``processed_<q>`` [t/yr] for each ``q`` of :data:`.equations.SCRAP_QUANTITIES`, each
    (time, region, ...extra dims)."""
    _check_recycling_parameters(values)
    import_share = values["scrap_import_share"]
    import_share = import_share / import_share.sum("region", skipna=False)
    inputs = [*parts, values["scrap_export_share"], import_share, values["recycling_capacity"]]
    dims = ("time", "region",
            *sorted({d for da in inputs for d in da.dims} - {"time", "region"}))
    # plain arrays on the same dims (xr.broadcast costs ~50 ms here); labels must agree
    coords = {}
    for d in dims:
        having = [da for da in inputs if d in da.dims and d in da.coords]
        coords[d] = having[0][d].values if having else np.arange(
            next(da.sizes[d] for da in inputs if d in da.dims))
        if any(not np.array_equal(da[d].values, coords[d]) for da in having[1:]):
            raise ParameterError(f"recycling: the {d!r} labels of the scrap flows and of "
                                 "the recycling parameters differ")
    shape = tuple(len(coords[d]) for d in dims)
    arrays = [_on_dims(da, dims) for da in inputs]
    scrap = np.stack([np.broadcast_to(a, shape) for a in arrays[:4]])
    out = recycle_with_capacity(scrap, *arrays[4:])
    template = xr.DataArray(np.empty(shape), dims=dims, coords=coords)

    def wrap(a: np.ndarray) -> xr.DataArray:
        return template.copy(data=a)

    res = {"scrap_exported": wrap(out["exported"]), "scrap_imported": wrap(out["imported"]),
           "scrap_stored": wrap(out["stored"].sum(axis=0))}
    for i, q in enumerate(SCRAP_QUANTITIES):
        res[f"processed_{q}"] = wrap(out["processed"][i])
    return res


def _on_dims(da: xr.DataArray, dims: tuple[str, ...]) -> np.ndarray:
    """The values of ``da`` with its dims in the order of ``dims`` and a length-1 axis for
    each dim of ``dims`` it lacks (numpy broadcasting then does the rest)."""
    present = [d for d in dims if d in da.dims]
    a = da.variable.transpose(*present).values
    return a.reshape([a.shape[present.index(d)] if d in present else 1 for d in dims])


def _by_stage(f: dict[str, xr.DataArray], w: dict[str, xr.DataArray]
              ) -> tuple[xr.DataArray, xr.DataArray]:
    """Production and consumption of each stage's product by region (stage, time, region)."""
    production = _stack_stages([w["conc_prod"], w["oxide_prod"], w["alloy_prod"],
                                w["magnet_prod"], w["products_prod"]])
    consumption = _stack_stages([
        f["flow_concentrate"],
        f["flow_oxide_to_metal"] + f["flow_oxide_to_manufacturing"],
        f["flow_alloy_to_magnet"],
        f["flow_magnet_to_manufacturing"],
        f["flow_products_to_use"],
    ])
    return production, consumption


def _stack_stages(arrays: list[xr.DataArray]) -> xr.DataArray:
    """One array per stage (:data:`.structure.STAGES`) stacked on a new first dim ``stage``,
    each broadcast to the union of their dims (in order of appearance; the labels of a model
    run agree, so nothing is aligned): ``xr.concat(xr.broadcast(...))`` without its cost."""
    sizes: dict[str, int] = {}
    coords: dict[str, xr.DataArray] = {}
    for da in arrays:
        for d in da.dims:
            sizes.setdefault(d, da.sizes[d])
            if d in da.coords and d not in coords:
                coords[d] = da[d].variable
    data = np.stack([da.variable.set_dims(sizes).values for da in arrays])
    return xr.DataArray(data, dims=("stage", *sizes), coords={**coords, "stage": list(STAGES)})
