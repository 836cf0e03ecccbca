"""The relations of the neodymium model, one per function, each with its source.

All quantities are Nd element mass: flows in t/yr, stocks in t. Arguments are plain-number
xarray objects already in the units the relation assumes (:data:`~.structure.PARAMETER_UNITS`;
:func:`~.simulation.simulate` converts parameters first); they broadcast over any dim, so one
call covers every year, region, product and Monte Carlo sample. Source keys refer to
``params/sources.csv``; the data behind each parameter are described in ``docs/model/data.md``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from mfa.core.lifetimes import Normal
from mfa.core.stocks import inflow_driven

__all__ = [
    "SCRAP_QUANTITIES",
    "alloy_for_magnets",
    "collected_end_of_life",
    "concentrate_for_oxide",
    "in_use_and_end_of_life",
    "in_use_hibernating_and_end_of_life",
    "nd_in_products",
    "new_scrap",
    "ore_for_concentrate",
    "oxide_for_metal",
    "primary_oxide",
    "recovered_from_end_of_life",
    "recovered_from_new_scrap",
    "recycle_with_capacity",
    "secondary_surplus",
]


def nd_in_products(*factors: xr.DataArray, unit_factor: float = 1.0) -> xr.DataArray:
    """Nd in new products [t/yr] as the product of activity and intensity factors.

    EVs: ``sales [vehicle/yr] × PM-motor share [1] × NdFeB per vehicle [kg/vehicle] × Nd share
    of NdFeB [1]`` (sales: IEA Global EV Outlook 2025 data, ``iea-gevo2025-data``; PM share:
    ERMA 2021; magnet mass and Nd share: Yang et al. 2017, doi:10.1007/s40831-016-0090-4).
    Wind: ``additions [MW/yr] × PM-generator share × NdFeB per MW [kg/MW] × Nd share`` (IRENA
    2024 via OWID; Heim & Vander Wal 2023, doi:10.3390/min13101274). Other uses: world Nd in
    new products [t/yr] × regional use share [1] (``assumption-nd-other-demand``).

    Parameters
    ----------
    *factors : xarray.DataArray
        The factors, multiplied in the order given (broadcast by dim name).
    unit_factor : float
        Conversion of the product of the factors' units to t/yr (e.g. kg → t: 1e-3).
    """
    out = factors[0]
    for f in factors[1:]:
        out = out * f
    return out * unit_factor


def in_use_and_end_of_life(
    nd_in_new_products: xr.DataArray, lifetime_mean: xr.DataArray, lifetime_sd: xr.DataArray
) -> tuple[xr.DataArray, xr.DataArray]:
    """In-use stock [t] and end-of-life outflow [t/yr] of products put into use.

    An inflow-driven dynamic stock model (Müller 2006, doi:10.1016/j.ecolecon.2005.09.025;
    flodym's discretisation: inflow at mid-year) with a normal lifetime per product (lifetimes:
    ``pmbusch-dmfa`` for EVs, ``cawindmfa`` for wind, ``yang-2017`` for electronics).

    Returns
    -------
    stock, outflow : xarray.DataArray
        ``in_use_stock`` [t] at the end of each year and ``eol_outflow`` [t/yr].
    """
    dsm = inflow_driven(nd_in_new_products, Normal(mean=lifetime_mean, sd=lifetime_sd))
    return dsm["stock"], dsm["outflow"]


def in_use_hibernating_and_end_of_life(
    nd_in_new_products: xr.DataArray, lifetime_mean: xr.DataArray, lifetime_sd: xr.DataArray,
    hibernation_time: xr.DataArray,
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """In-use stock [t], hibernating stock [t] and end-of-life outflow [t/yr].

    Products leave use after their lifetime (normal, ``lifetime_mean`` ± ``lifetime_sd``) and
    are then kept for ``hibernation_time`` [yr] (old phones and drives in drawers) before they
    are discarded: the discard follows the lifetime shifted by the hibernation time. Hibernation
    of mobile phones: 3 yr on average for the two thirds of phones kept (Wilson et al. 2017,
    Waste Management 60:521, doi:10.1016/j.wasman.2016.12.023, ``wilson-2017``).

    Returns
    -------
    in_use, hibernating, outflow : xarray.DataArray
        Stocks at the end of each year [t] and the end-of-life outflow [t/yr].
    """
    use, outflow = in_use_and_end_of_life(nd_in_new_products, lifetime_mean, lifetime_sd)
    mean_total = lifetime_mean + hibernation_time
    if "product" not in mean_total.dims:
        total, outflow = in_use_and_end_of_life(nd_in_new_products, mean_total, lifetime_sd)
        return use, total - use, outflow
    # products without a hibernation stage (time 0 in every cell) leave use at end of life:
    # the second stock model runs only for the others (the same numbers, a fraction of the work)
    hib = hibernation_time != 0
    others = [d for d in hib.dims if d != "product"]
    by_product = (hib.any(others) if others else hib).reindex(product=use["product"],
                                                              fill_value=False)
    products = use["product"].values[by_product.values]
    hibernating = xr.zeros_like(use)
    if products.size:
        pick = {"product": products}
        sd = lifetime_sd.sel(pick) if "product" in lifetime_sd.dims else lifetime_sd
        total, out = in_use_and_end_of_life(nd_in_new_products.sel(pick), mean_total.sel(pick), sd)
        hibernating.loc[pick] = (total - use.sel(pick)).transpose(*use.dims)
        outflow = outflow.copy()
        outflow.loc[pick] = out.transpose(*outflow.dims)
    return use, hibernating, outflow


def alloy_for_magnets(magnets: xr.DataArray, scrap_rate: xr.DataArray) -> xr.DataArray:
    """Nd in alloy entering magnet making [t/yr]: ``magnets / (1 - scrap_rate)``.

    A share ``scrap_rate`` of the alloy becomes new (manufacturing) scrap: swarf and rejects are
    20-30 % of sintered NdFeB feedstock (Roskill, ``roskill-swarf``; Argus 2025: 25-30 % of
    China's magnet output, ``argus-2025-recycling``). Finished magnets go into products
    without further loss (assumption).
    """
    return magnets / (1.0 - scrap_rate)


def new_scrap(alloy: xr.DataArray, scrap_rate: xr.DataArray) -> xr.DataArray:
    """Nd in new scrap from magnet making [t/yr]: ``alloy × scrap_rate`` (as above)."""
    return alloy * scrap_rate


def oxide_for_metal(alloy: xr.DataArray, yield_metal: xr.DataArray) -> xr.DataArray:
    """Nd oxide reduced to metal and alloy [t/yr]: ``alloy / yield_metal``.

    About 20 % of the Nd is lost from oxide to metal (Heim & Vander Wal 2023, ``heim-2023``).
    """
    return alloy / yield_metal


def recovered_from_new_scrap(
    scrap: xr.DataArray, recycling_rate: xr.DataArray, recovery_yield: xr.DataArray
) -> xr.DataArray:
    """Nd recovered as oxide from new scrap [t/yr]: ``scrap × rate × yield``.

    Most new scrap is recycled in China (Argus 2025: 31,730 t PrNd oxide from NdFeB scrap in
    2023, ``argus-2025-recycling``); rate and yield are assumptions with ranges.
    """
    return scrap * (recycling_rate * recovery_yield)


def collected_end_of_life(eol: xr.DataArray, collection_rate: xr.DataArray) -> xr.DataArray:
    """Nd in end-of-life products collected for recovery [t/yr]: ``eol × collection_rate``.

    End-of-life recycling of rare earths is below 1 % (UNEP 2011, ``unep-2011``).
    """
    return eol * collection_rate


def recovered_from_end_of_life(collected: xr.DataArray, recycling_yield: xr.DataArray
                               ) -> xr.DataArray:
    """Nd recovered as oxide from collected end-of-life products [t/yr]: ``collected × yield``."""
    return collected * recycling_yield


def primary_oxide(demand: xr.DataArray, secondary: xr.DataArray) -> xr.DataArray:
    """Separated oxide that must come from ore [t/yr]: ``max(demand - secondary, 0)``.

    Secondary Nd displaces primary oxide one to one at the oxide stage (it re-enters as oxide
    after hydrometallurgical recovery); secondary supply beyond demand is stockpiled
    (:func:`secondary_surplus`).
    """
    return np.maximum(demand - secondary, 0.0)


def secondary_surplus(demand: xr.DataArray, secondary: xr.DataArray) -> xr.DataArray:
    """Secondary Nd in excess of demand, stockpiled [t/yr]: ``max(secondary - demand, 0)``."""
    return np.maximum(secondary - demand, 0.0)


def concentrate_for_oxide(oxide: xr.DataArray, yield_separation: xr.DataArray) -> xr.DataArray:
    """Nd in concentrate consumed by separation [t/yr]: ``oxide / yield_separation``.

    Separation and refining recover 85-97 % of the Nd (assumption with range).
    """
    return oxide / yield_separation


def ore_for_concentrate(concentrate: xr.DataArray, yield_mining: xr.DataArray) -> xr.DataArray:
    """Nd in ore mined [t/yr]: ``concentrate / yield_mining``.

    Beneficiation recovers 50-85 % of the Nd in ore into concentrate (assumption with range).
    """
    return concentrate / yield_mining


#: Quantities carried through scrap trade and storage, in this order on the first axis of the
#: arrays of :func:`recycle_with_capacity`: the Nd in end-of-life scrap that processing recovers
#: and the part it loses, the same for new scrap. Their sum is the scrap mass; kept as parts
#: (not as mass and recoverable) so that no loss is a difference that rounding could make < 0.
SCRAP_QUANTITIES: tuple[str, ...] = ("eol_recovered", "eol_lost", "new_scrap_recovered",
                                     "new_scrap_lost")


#: Array size [elements] of a block of years computed at once by :func:`recycle_with_capacity`
#: (much larger blocks leave the CPU cache). 2**16 (512 KiB per array): the baseline's
#: recycling in a Monte Carlo chunk of 238 samples took 23 ms against 31 ms with 2**14, in a
#: chunk of 476 46 ms against 63 ms (11 and 5 years at once instead of 2 and 1).
_BLOCK_SIZE = 2**16


def recycle_with_capacity(scrap: np.ndarray, export_share: np.ndarray,
                          import_share: np.ndarray, capacity: np.ndarray) -> dict[str, np.ndarray]:
    """Scrap traded, recycled within capacity, and stored [t/yr, t], year by year.

    Each year ``t`` and region ``r`` (every array broadcasts over any further axes, e.g.
    Monte Carlo samples):

    1. Trade: a share ``export_share[t, r]`` of the scrap sent to recycling in ``r`` is
       exported; the exports of all regions are pooled and recycled where ``import_share[t]``
       (sums to 1 over regions) says (research §8, §10.8: most exported magnet scrap goes to
       China).
    2. Capacity: a region processes its scrap after trade plus its stored scrap up to its
       ``capacity[t, r]`` of scrap input [t Nd/yr] (NaN or inf: unlimited). What is above the
       capacity goes to regions with spare capacity, in proportion to their ``import_share``
       and never beyond their spare capacity (filled up in at most one round per region);
       what finds no spare capacity is stored in the region and processed in later years
       (first in the capacity: a stored and a new tonne are processed pro rata).

    Every quantity of :data:`SCRAP_QUANTITIES` follows the scrap mass (their sum) pro rata (a
    region's scrap is well mixed), so recovered Nd keeps the yield of the scrap where it arose.

    Years are linked only by stored scrap: years that start with none are computed together
    (in blocks that fit the CPU cache), only those that start with stored scrap one by one;
    the numbers are those of a loop over all years (tests/test_recycling_policy.py), in
    ~0.2 ms instead of ~3.5 ms for the baseline.

    Parameters
    ----------
    scrap : numpy.ndarray
        (4, time, region, ...) the :data:`SCRAP_QUANTITIES` by region where the scrap arises
        [t/yr]; >= 0.
    export_share, import_share : numpy.ndarray
        (time, region, ...) [1], in [0, 1]; ``import_share`` sums to 1 over regions.
    capacity : numpy.ndarray
        (time, region, ...) recycling capacity [t Nd in scrap/yr]; NaN or inf: unlimited.

    Returns
    -------
    dict of numpy.ndarray
        ``exported``, ``imported`` (time, region, ...) scrap mass leaving and entering the
        region for recycling (first trade and excess over capacity together) [t/yr];
        ``processed`` (4, time, region, ...) quantities recycled in the region [t/yr];
        ``stored`` (4, time, region, ...) quantities awaiting recycling at the end of the year [t].
    """
    scrap = np.asarray(scrap, dtype=float)
    shape = np.broadcast_shapes(scrap.shape[1:], np.shape(export_share), np.shape(import_share),
                                np.shape(capacity))
    scrap = np.broadcast_to(scrap, (scrap.shape[0], *shape))
    exp_share = np.broadcast_to(export_share, shape)
    imp_share = np.broadcast_to(import_share, shape)
    cap = np.broadcast_to(np.where(np.isnan(capacity), np.inf, capacity), shape)
    # the first trade is not path dependent: all years at once
    out1 = scrap * exp_share
    in1 = out1.sum(axis=2, keepdims=True) * imp_share
    fresh = scrap - out1
    fresh += in1                                            # (quantity, time, region, ...)
    # the quantities processed are written over the fresh scrap of each year once it is read
    # (years in order; the loop below reads a year only before it writes it)
    processed = fresh
    stored = np.zeros(scrap.shape)  # its pages are zero until written (calloc)
    exported = out1.sum(axis=0)
    imported = in1.sum(axis=0)
    mass = fresh.sum(axis=0)                                # (time, region, ...)
    over = (mass > cap).reshape(shape[0], -1).any(axis=1)
    if not over.any():  # capacity never binds: nothing is stored or traded for capacity
        return {"exported": exported, "imported": imported, "processed": processed,
                "stored": stored}
    # From the first year capacity binds, a year depends on earlier ones only through the
    # stored scrap. While none is stored the years are independent and computed at once (axis 0
    # of the year arrays is time), up to the next year that may store: one whose excess over
    # capacity exceeds the spare capacity of the regions that take scrap (a screen; the exact
    # step decides). Years that start with stored scrap are computed one by one.
    may_store = _may_store(mass, cap, imp_share)
    held = np.zeros_like(scrap[:, 0])
    years_per_block = max(1, _BLOCK_SIZE // held.size)  # blocks of years that stay in cache
    t = int(np.argmax(over))
    while t < shape[0]:
        if held.any():  # path dependent: this year with the scrap held from the last
            this_year, held, out2, in2 = _recycle_year(fresh[:, t] + held, cap[t], imp_share[t],
                                                       region_axis=0)
            processed[:, t], stored[:, t] = this_year, held
            exported[t] += out2
            imported[t] += in2
            t += 1
            continue
        # nothing held: the years up to (and with) the next one that may store, at once
        later = np.flatnonzero(may_store[t:])
        end = min(t + int(later[0]) + 1 if later.size else shape[0], t + years_per_block)
        this_year, held_by_year, out2, in2 = _recycle_year(fresh[:, t:end], cap[t:end],
                                                           imp_share[t:end], region_axis=1)
        stores = (held_by_year > 0).any(axis=0).reshape(end - t, -1).any(axis=1)
        if stores.any():  # the screen missed a year that stores (rounding): stop there
            end = t + int(np.argmax(stores)) + 1
        n = end - t
        processed[:, t:end], stored[:, t:end] = this_year[:, :n], held_by_year[:, :n]
        exported[t:end] += out2[:n]
        imported[t:end] += in2[:n]
        held = stored[:, end - 1]
        t = end
    return {"exported": exported, "imported": imported, "processed": processed, "stored": stored}



def _may_store(mass: np.ndarray, cap: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(time,) whether scrap may have to be stored in a year that starts with none: the excess
    of ``mass`` over ``cap`` (time, region, ...) [t/yr] exceeds (up to rounding) the spare
    capacity of the regions that take scrap (``weight`` > 0). A screen: the exact step decides."""
    with np.errstate(invalid="ignore"):
        short = np.maximum(mass - cap, 0.0).sum(axis=1)
        spare = np.where(weight > 0, np.maximum(cap - mass, 0.0), 0.0).sum(axis=1)
    return (short > spare * (1 - 1e-9)).reshape(mass.shape[0], -1).any(axis=1)


def _recycle_year(arrived: np.ndarray, cap: np.ndarray, weight: np.ndarray, region_axis: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Capacity step of :func:`recycle_with_capacity` for the scrap ``arrived`` (quantity, ...)
    in a region [t/yr] (after the first trade, with what was stored), the capacity ``cap``
    [t/yr] and the ``weight`` (import shares) of each region, region on axis ``region_axis`` of
    ``cap`` and ``weight`` (``region_axis + 1`` of ``arrived``); one year or, with a time axis
    before the region axis, several independent ones.

    Returns the quantities processed and held (stored) [t/yr, t] and the scrap mass sent away
    and received for lack of capacity [t/yr]."""
    ax = region_axis
    total = arrived.sum(axis=0)                         # scrap mass
    done = np.minimum(total, cap)
    excess = total - done
    with np.errstate(invalid="ignore", divide="ignore"):
        share_of = np.where(total > 0, 1.0 / total, 0.0)
    placed = np.zeros_like(total)
    sent = np.zeros_like(total)
    if np.any(excess > 0):
        excess_all = excess.sum(axis=ax, keepdims=True)
        placed = _fill_spare(excess_all, cap - done, weight, ax)
        with np.errstate(invalid="ignore", divide="ignore"):
            sent_frac = np.where(excess_all > 0,
                                 np.minimum(placed.sum(axis=ax, keepdims=True) / excess_all, 1.0),
                                 0.0)
        sent = excess * sent_frac
    kept = excess - sent
    out2 = arrived * (sent * share_of)
    pool2 = out2.sum(axis=ax + 1, keepdims=True)
    placed_all = placed.sum(axis=ax, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        in2 = pool2 * np.where(placed_all > 0, placed / placed_all, 0.0)
    held = arrived * (kept * share_of)
    return arrived * (done * share_of) + in2, held, out2.sum(axis=0), in2.sum(axis=0)


def _fill_spare(amount: np.ndarray, spare: np.ndarray, weight: np.ndarray, axis: int
                ) -> np.ndarray:
    """``amount`` (length 1 on ``axis``) placed over regions (``axis`` of ``spare`` and
    ``weight``) in proportion to ``weight`` among regions with spare capacity, none beyond its
    ``spare``; returns what each region takes. Water filling: each round fills at least one
    region or places all."""
    placed = np.zeros_like(spare)
    for _ in range(spare.shape[axis]):
        room = spare - placed
        w = np.where(room > 0, weight, 0.0)
        wsum = w.sum(axis=axis, keepdims=True)
        left = amount - placed.sum(axis=axis, keepdims=True)
        if not np.any((left > 0) & (wsum > 0)):
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            give = np.where(wsum > 0, np.maximum(left, 0.0) * w / wsum, 0.0)
        placed = np.where(give >= room, spare, placed + give)
    return placed
