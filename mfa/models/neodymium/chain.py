"""The Nd supply chain of one scenario: world totals back from the products to the ore
(:mod:`mfa.models.neodymium.equations`), then the flows by region and each stage's
production and consumption.

The arithmetic runs on :class:`xarray.Variable` objects (``_variables``: the labels are
checked once, no operation aligns them again; the same numbers, bit for bit); the results are
DataArrays again.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.models.neodymium._variables import positions, shared_coords, union_sizes, wrap
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
        (stage, region; t/yr); ``world``: the stage shares and world totals (Variables), which
        :func:`primary_separated_world` may reuse.
    """
    coords = shared_coords([new, eol], "supply chain", values)
    sig = _stage_shares(values)
    w = _world_chain(values, new.variable, eol.variable, sig, coords)
    f = _regional_flows(values, new.variable, eol.variable, sig, w)
    production, consumption = _by_stage(f, w)
    stages = {"stage": xr.Variable("stage", list(STAGES))}
    return {
        "world": (sig, w),
        "flows": {k: wrap(v, coords) for k, v in f.items()},
        "stocks": {"scrap_awaiting_recycling": wrap(w["scrap_stored"], coords)},
        "demand": wrap(w["demand"], coords),
        "secondary_new_scrap": wrap(w["rec_ns_w"], coords),
        "secondary_eol": wrap(w["rec_eol"].sum("region", skipna=False), coords),
        "surplus": wrap(w["surplus"], coords),
        "production": wrap(production, {**coords, **stages}),
        "consumption": wrap(consumption, {**coords, **stages}),
    }


def primary_separated_world(values: xr.Dataset, new: xr.DataArray, eol: xr.DataArray,
                            *, reuse: dict | None = None,
                            without_collection: bool = False) -> xr.DataArray:
    """World Nd in separated products made from ore [t/yr] (time, and any extra dim): the
    ``flow_concentrate - flow_separation_losses`` of :func:`supply_chain` summed over regions,
    computed as there (bit for bit) but without the regional flows, which a counterfactual run
    does not need.

    ``reuse``: the :func:`supply_chain` of the same ``new`` and of ``values`` that differ at
    most in ``collection_rate`` (the no-recycling counterfactual): its stage shares and the
    world totals that do not depend on collection (``_BEFORE_COLLECTION``) are taken from
    it instead of computed again (the same numbers). ``without_collection``: as if
    ``collection_rate`` were 0 everywhere (:func:`.simulation.without_end_of_life_recycling`,
    the same numbers), without making those values."""
    coords = shared_coords([new, eol], "supply chain", values)
    parts = _uncollected(values, eol.variable) if without_collection else None
    if reuse is None:
        sig = _stage_shares(values)
        w = _world_chain(values, new.variable, eol.variable, sig, coords, eol_parts=parts)
    else:
        sig, done = reuse["world"]
        w = _world_chain(values, new.variable, eol.variable, sig, coords,
                         {k: done[k] for k in _BEFORE_COLLECTION}, eol_parts=parts)
    separated = w["C"] * sig["separation"] - (w["C"] - w["P"]) * sig["separation"]
    return wrap(separated.sum("region", skipna=False), coords)


def _param(values: xr.Dataset, name: str) -> xr.Variable:
    """Parameter ``name`` of ``values`` as a Variable (no DataArray made)."""
    return values.variables[name]


def _stage_shares(values: xr.Dataset) -> dict[str, xr.Variable]:
    """Each stage's production shares by region (time, region), normalised to sum to 1."""
    share = _param(values, "production_share")  # (time, region, stage)
    # The loader accepts sums within 1e-6 of 1; normalise so that trade cancels exactly.
    share = share / share.sum("region", skipna=False)
    index = values.indexes["stage"]
    missing = [s for s in STAGES if s not in index]
    if missing:
        raise ParameterError(f"production_share lacks the stage(s) {missing}")
    return {s: share.isel(stage=index.get_loc(s)) for s in STAGES}


#: World totals of :func:`_world_chain` that do not depend on end-of-life collection.
_BEFORE_COLLECTION = ("M", "N_w", "A", "scrap", "O_m", "demand", "scrap_r", "ns_not_sent",
                      "ns_recovered", "ns_lost")


def _before_collection(values: xr.Dataset, new: xr.Variable, sig: dict[str, xr.Variable],
                       coords: dict[str, xr.Variable]) -> dict[str, xr.Variable]:
    """The world totals of ``_BEFORE_COLLECTION``: magnets, alloy, new scrap, demand."""
    scrap_rate = _param(values, "magnet_scrap_rate")
    w: dict[str, xr.Variable] = {}
    labels = list(coords["product"].values)
    magnets = new.isel(product=positions(labels, MAGNET_PRODUCTS))
    w["M"] = M = magnets.sum("product", skipna=False).sum("region", skipna=False)
    w["N_w"] = N_w = new.isel(product=positions(labels, [NON_MAGNET])[0]).sum("region",
                                                                              skipna=False)
    w["A"] = A = alloy_for_magnets(M, scrap_rate)
    w["scrap"] = scrap = new_scrap(A, scrap_rate)
    w["O_m"] = O_m = oxide_for_metal(A, _param(values, "yield_metal"))
    w["demand"] = O_m + N_w
    w["scrap_r"] = scrap_r = scrap * sig["magnet"]                # where magnets are made
    rate = _param(values, "new_scrap_recycling_rate")
    ns_yield = _param(values, "new_scrap_recovery_yield")
    w["ns_not_sent"] = scrap_r * (1.0 - rate)
    w["ns_recovered"] = recovered_from_new_scrap(scrap_r, rate, ns_yield)
    w["ns_lost"] = recovered_from_new_scrap(scrap_r, rate, 1.0 - ns_yield)
    return w


def _world_chain(values: xr.Dataset, new: xr.Variable, eol: xr.Variable,
                 sig: dict[str, xr.Variable], coords: dict[str, xr.Variable],
                 before: dict[str, xr.Variable] | None = None, *,
                 eol_parts: tuple[xr.Variable, xr.Variable] | None = None
                 ) -> dict[str, xr.Variable]:
    """World totals of the chain (:mod:`.equations`), back from the products to the ore;
    secondary Nd by region (it arises where it is recycled). ``before``: the totals of
    :func:`_before_collection`, if already computed; ``eol_parts``: the end-of-life scrap
    recovered and lost by region, if already known (then ``collected`` is not computed)."""
    w = dict(before) if before is not None else _before_collection(values, new, sig, coords)
    demand = w["demand"]
    if eol_parts is None:
        w["collected"] = collected_end_of_life(eol, _param(values, "collection_rate"))
        eol_parts = _recovered_parts(values, w["collected"])
    parts = (*eol_parts, w["ns_recovered"], w["ns_lost"])
    w.update(_traded_and_recycled(values, parts))
    w["rec_ns"] = rec_ns = w["processed_new_scrap_recovered"]      # where it is recycled
    w["rec_eol"] = rec_eol = w["processed_eol_recovered"]
    w["rec_ns_w"] = rec_ns.sum("region", skipna=False)
    w["secondary"] = secondary = rec_ns + rec_eol                   # (time, region)
    w["R"] = R = secondary.sum("region", skipna=False)
    w["P"] = P = primary_oxide(demand, R)
    w["surplus"] = secondary_surplus(demand, R)
    w["C"] = C = concentrate_for_oxide(P, _param(values, "yield_separation"))
    w["X"] = ore_for_concentrate(C, _param(values, "yield_mining"))
    return w


def _recovered_parts(values: xr.Dataset, collected: xr.Variable
                     ) -> tuple[xr.Variable, xr.Variable]:
    """The collected end-of-life Nd recovered and lost in recycling, summed over products, by
    region [t/yr]."""
    recycling_yield = _param(values, "recycling_yield")
    return (recovered_from_end_of_life(collected, recycling_yield).sum("product", skipna=False),
            recovered_from_end_of_life(collected, 1.0 - recycling_yield).sum("product",
                                                                              skipna=False))


def _uncollected(values: xr.Dataset, eol: xr.Variable) -> tuple[xr.Variable, xr.Variable]:
    """:func:`_recovered_parts` with ``collection_rate`` 0 everywhere.

    Where the end-of-life flows are finite and not negative (no -0.0) and the recycling yield
    lies in [0, 1], every product in those sums is +0.0: the sums are zeros, made as such (no
    pass over the (time, region, product) arrays). Otherwise (NaN, a yield above 1) they are
    computed with a zero rate, NaN and signed zeros as they come."""
    rate = _param(values, "collection_rate")
    recycling_yield = _param(values, "recycling_yield")
    eol_values, y = eol.values, recycling_yield.values
    if (np.isfinite(eol_values).all() and not np.signbit(eol_values).any()
            and np.all((y >= 0.0) & (y <= 1.0))):
        sizes = union_sizes([eol, rate, recycling_yield], skip="product")
        zeros = xr.Variable(tuple(sizes), np.zeros(tuple(sizes.values())))
        return zeros, zeros
    zero_rate = xr.Variable(rate.dims, np.zeros(rate.shape))
    return _recovered_parts(values, collected_end_of_life(eol, zero_rate))


def _regional_flows(values: xr.Dataset, new: xr.Variable, eol: xr.Variable,
                    sig: dict[str, xr.Variable], w: dict[str, xr.Variable]
                    ) -> dict[str, xr.Variable]:
    """The flows by region: each stage's output split by its production shares, net exports
    the difference between production and consumption (stage outputs kept as ``_prod``)."""
    f: dict[str, xr.Variable] = {}
    mined = w["X"] * sig["mining"]
    # a share of the ore mined in a region is undocumented (reconciled history, :mod:`.history`)
    f["flow_mined_undocumented"] = mined * _param(values, "undocumented_mining_share")
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
        v = _param(values, name).values
        bad = (v < low) | (v > high) | (np.isnan(v) if name != "recycling_capacity" else False)
        if np.any(bad):
            raise ParameterError(
                f"{name} must lie in [{low:g}, {high:g}]"
                f"{' (NaN: unlimited)' if name == 'recycling_capacity' else ''}, got "
                f"{float(v[bad].flat[0])!r} ({int(bad.sum())} cell(s))")
    if np.any(_param(values, "scrap_import_share").sum("region", skipna=False).values <= 0):
        raise ParameterError("scrap_import_share must sum to 1 over regions in every year "
                             "(some region must recycle exported scrap), got 0")


def _traded_and_recycled(values: xr.Dataset, parts: tuple[xr.Variable, ...]
                         ) -> dict[str, xr.Variable]:
    """Scrap sent to recycling (``parts``: the :data:`.equations.SCRAP_QUANTITIES` [t/yr], by
    region where it arises) traded, recycled within capacity and stored
    (:func:`.equations.recycle_with_capacity`), on plain numpy arrays.

    Returns ``scrap_exported``, ``scrap_imported`` [t/yr], ``scrap_stored`` [t] and
    ``processed_<q>`` [t/yr] for each ``q`` of :data:`.equations.SCRAP_QUANTITIES`, each
    (time, region, ...extra dims)."""
    _check_recycling_parameters(values)
    import_share = _param(values, "scrap_import_share")
    import_share = import_share / import_share.sum("region", skipna=False)
    inputs = [*parts, _param(values, "scrap_export_share"), import_share,
              _param(values, "recycling_capacity")]
    dims = ("time", "region",
            *sorted({d for v in inputs for d in v.dims} - {"time", "region"}))
    sizes: dict[str, int] = {}
    for v in inputs:  # the labels agree (the run's); the sizes must too
        for d, size in v.sizes.items():
            if sizes.setdefault(d, size) != size:
                raise ParameterError(f"recycling: the {d!r} sizes of the scrap flows and of "
                                     f"the recycling parameters differ ({sizes[d]}, {size})")
    shape = tuple(sizes[d] for d in dims)
    arrays = [_on_dims(v, dims) for v in inputs]
    scrap = np.stack([np.broadcast_to(a, shape) for a in arrays[:4]])
    out = recycle_with_capacity(scrap, *arrays[4:])
    res = {"scrap_exported": xr.Variable(dims, out["exported"]),
           "scrap_imported": xr.Variable(dims, out["imported"]),
           "scrap_stored": xr.Variable(dims, out["stored"].sum(axis=0))}
    for i, q in enumerate(SCRAP_QUANTITIES):
        res[f"processed_{q}"] = xr.Variable(dims, out["processed"][i])
    return res


def _on_dims(var: xr.Variable, dims: tuple[str, ...]) -> np.ndarray:
    """The values of ``var`` with its dims in the order of ``dims`` and a length-1 axis for
    each dim of ``dims`` it lacks (numpy broadcasting then does the rest)."""
    present = [d for d in dims if d in var.dims]
    a = var.transpose(*present).values
    return a.reshape([a.shape[present.index(d)] if d in present else 1 for d in dims])


def _by_stage(f: dict[str, xr.Variable], w: dict[str, xr.Variable]
              ) -> tuple[xr.Variable, xr.Variable]:
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


def _stack_stages(arrays: list[xr.Variable]) -> xr.Variable:
    """One array per stage (:data:`.structure.STAGES`) stacked on a new first dim ``stage``,
    each broadcast to the union of their dims (in order of appearance):
    ``xr.concat(xr.broadcast(...))`` without its cost."""
    sizes = union_sizes(arrays)
    data = np.stack([v.set_dims(sizes).values for v in arrays])
    return xr.Variable(("stage", *sizes), data)
