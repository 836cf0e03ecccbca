"""Element-specific processing of the element model: yields by element and Dy/Tb diffusion sources.

Data: ``params/elements/processing.csv`` (:func:`.element_data.load_element_data`).

**Yields by element.** A loss ratio ``k_e`` (``separation_loss_ratio`` and the others of
:data:`.element_data.LOSS_RATIOS`) scales the loss of a process of the Nd model for element
``e``: ``yield_e = 1 - (1 - yield) × k_e``. Nd keeps the Nd model's yield (its slice stays the
Nd model's result), and so does every element without a row (``k = 1``: no element-specific
data found). The default data carry the separation loss of Dy and Tb (lower than Nd's: most Dy
and Tb come from ionic clays, whose minimum separation recovery in the MIIT 2016 norms is 94%
against 92% × 96% for the light ores).

**Grain-boundary diffusion (GBD) sources.** A share ``g`` (``gbd_share``, by application and
year) of a magnet's Dy and Tb is not alloyed but diffused into the finished (machined) magnet
from a diffusion source made at the metal stage (metal, hydride, fluoride, alloy), of which a
share ``u`` (``diffusion_utilisation``) ends in the magnet and the rest is lost. With ``M``
the element in magnets made (world, by product ``p``), ``s`` the magnet scrap rate, ``r`` the
new-scrap recycling rate::

    M_g = Σ_p g_p M_p                        diffused into the magnets
    A_b = (M - M_g) / (1 - s),  S_b = s A_b  alloy and its new scrap (machining swarf)
    D   = M_g / u                            diffusion source (flow_diffusion_source)
    L   = D - M_g                            diffusion source lost (flow_diffusion_losses)

The Nd chain (:func:`mfa.models.neodymium.simulate`) makes ``A = M / (1 - s)`` alloy and
``s A`` new scrap, of which ``r`` is recycled. Run with an effective scrap rate
``s' = 1 - M / (A_b + D)`` and recycling rate ``r' = r S_b / (S_b + L)``, it makes exactly
``A_b + D`` metal-stage output for magnets, ``S_b + L`` "new scrap" of which ``r S_b`` is
recycled and ``S_b (1 - r) + L`` lost, so that everything upstream (oxide, primary demand,
ore, co-production) is right; :func:`split_diffusion_flows` then moves ``D`` out of
``flow_alloy_to_magnet`` into ``flow_diffusion_source`` and ``L`` out of ``flow_new_scrap`` and
``flow_new_scrap_losses`` into ``flow_diffusion_losses`` (each by region where magnets are
made). The Nd chain's balance is checked for every element before the split, and that of the
metal, magnet and recycling processes with the new flows after it (:func:`split_check_system`,
part of :func:`element_process_system`, the Nd system with the two flows, which
``MagnetReesModel.system`` returns). Elements and years without GBD keep ``s`` and
``r`` themselves (Nd, Pr: always). Assumptions (stated, no data found: research/elements
README §4): the share of GBD in each application's Dy and Tb, the utilisation, that the
unused source is lost, and that end uses inside a product take the product's application
(``PRODUCT_APPLICATION``; HEVs are inside ``other_magnets``).
"""

from __future__ import annotations

import functools

import numpy as np
import xarray as xr

from mfa.core.errors import ParameterError
from mfa.core.system import Flow, ProcessSystem, Stock
from mfa.core.units import UnitError, conversion_factor
from mfa.models.neodymium.element_data import GBD_ELEMENTS, LOSS_RATIOS, ElementData
from mfa.models.neodymium.structure import (
    FLOWS,
    MAGNET_PRODUCTS,
    SIGNED_FLOWS,
    process_system,
)

__all__ = ["DIFFUSION_FLOWS", "PROCESSING_FACTORS", "SPLIT_PROCESSES", "diffusion_parameters",
           "diffusion_utilisation", "element_process_system", "element_yields",
           "gbd_share_by_product", "split_check_system", "split_diffusion_flows",
           "with_diffusion_flows"]

#: Flows of the diffusion sources, each with its source process, target process and long name.
DIFFUSION_FLOWS: dict[str, tuple[str, str, str]] = {
    "flow_diffusion_source": ("metal", "magnet",
                              "Element (Dy, Tb) made into grain-boundary diffusion sources and "
                              "applied to magnets"),
    "flow_diffusion_losses": ("magnet", "environment",
                              "Diffusion source that does not end in the magnet (lost)"),
}


def element_process_system(extra_dims: tuple[str, ...] = ("element",)) -> ProcessSystem:
    """The Nd process system (:func:`.structure.process_system`) with the
    :data:`DIFFUSION_FLOWS`, every flow and stock carrying ``extra_dims`` (``element`` and
    e.g. ``sample``), balanced for each of their labels."""
    return process_system(extra_dims, "magnet_rees",
                          tuple((f, src, dst) for f, (src, dst, _) in DIFFUSION_FLOWS.items()))


def _as_fraction(values: xr.Dataset, name: str) -> xr.DataArray:
    """Parameter ``name`` of ``values`` in units of 1 (as :func:`.simulate` converts it)."""
    unit = values[name].attrs.get("units")
    if unit is None:
        raise UnitError(f"element processing: parameter {name!r} has no units")
    factor = conversion_factor(unit, "1", f"element processing: parameter {name!r}")
    da = values[name] * factor if factor != 1.0 else values[name]
    return da.assign_attrs(values[name].attrs, units="1")


def element_yields(values: xr.Dataset, data: ElementData) -> xr.Dataset:
    """``values`` with each yield of :data:`.element_data.LOSS_RATIOS` by element:
    ``1 - (1 - yield) × k_e``; elements with ``k_e = 1`` (Nd always) keep the yield itself.

    Raises
    ------
    ParameterError
        A yield of some element would fall below 0 (naming the parameter and element).
    """
    ratios = data.loss_ratio.sel(bound="value", drop=True)
    out = values.copy()
    for param, name in LOSS_RATIOS.items():
        k = ratios.sel(parameter=param, drop=True)
        if bool((k == 1.0).all()):
            continue
        y = _as_fraction(values, name)
        scaled = 1.0 - (1.0 - y) * k
        if bool((scaled < 0).any()):
            bad = [str(e) for e in k["element"].values
                   if bool((scaled.sel(element=e) < 0).any())]
            raise ParameterError(f"processing.csv: {param} makes {name} of {bad} negative "
                                 f"(1 - (1 - {name}) × ratio < 0)")
        out[name] = xr.where(k == 1.0, y, scaled).assign_attrs(y.attrs)
    return out


#: Monte Carlo factors of the processing data (:func:`.magnet_rees.composition_parameters`):
#: the GBD share of Dy and Tb (application, time) and their diffusion utilisation (time) [1].
PROCESSING_FACTORS: dict[str, tuple[str, str]] = {
    "gbd_share_dy": ("gbd_share", "Dy"), "gbd_share_tb": ("gbd_share", "Tb"),
    "diffusion_utilisation_dy": ("diffusion_utilisation", "Dy"),
    "diffusion_utilisation_tb": ("diffusion_utilisation", "Tb")}


def gbd_share_by_product(data: ElementData, time: np.ndarray, elements: tuple[str, ...],
                         products: list[str], product_application: dict[str, str | None],
                         values: xr.Dataset | None = None) -> xr.DataArray:
    """Share of each element's magnet content applied by diffusion (element, product, time[,
    extra dims]) [1]: ``gbd_share`` of the product's application, linear between anchor years
    and held outside them; 0 for elements other than Dy and Tb and for products without
    magnets. ``values`` holding ``gbd_share_dy``/``gbd_share_tb`` (:data:`PROCESSING_FACTORS`,
    e.g. sampled) replace the data of that element."""
    from mfa.models.neodymium.elements import interpolate_composition

    table = interpolate_composition(data.gbd_share, time)  # (application, element, time)
    parts = []
    for e in GBD_ELEMENTS:
        var = f"gbd_share_{e.lower()}"
        part = table.sel(element=e, drop=True)
        if values is not None and var in values:
            part = values[var].reset_coords(drop=True).transpose("application", "time", ...)
            part = part.sel(application=table["application"].values).assign_coords(time=time)
        parts.append(part)
    table = xr.concat(xr.broadcast(*parts), dim="element", join="override").assign_coords(
        element=list(GBD_ELEMENTS))
    apps = [product_application.get(p) for p in products]
    missing = sorted({a for a in apps if a is not None} - set(table["application"].values))
    if missing:
        raise ParameterError(f"processing.csv: no gbd_share for applications {missing}")
    first = str(table["application"].values[0])
    picked = table.sel(application=[a or first for a in apps]).rename(
        application="product").assign_coords(product=products)
    magnet = xr.DataArray([a is not None for a in apps], dims="product",
                          coords={"product": products})
    return picked.where(magnet, 0.0).reindex(element=list(elements), fill_value=0.0).transpose(
        "element", "product", "time", ...)


def diffusion_utilisation(data: ElementData, values: xr.Dataset | None = None
                          ) -> xr.DataArray:
    """Share of the diffusion source that ends in the magnet (element: Dy, Tb[, time, extra
    dims]) [1]: the data, or ``diffusion_utilisation_dy``/``_tb`` of ``values``
    (:data:`PROCESSING_FACTORS`, e.g. sampled) where present."""
    parts = []
    for e in GBD_ELEMENTS:
        var = f"diffusion_utilisation_{e.lower()}"
        parts.append(values[var].reset_coords(drop=True) if values is not None and var in values
                     else data.diffusion_utilisation.sel(element=e, drop=True))
    return xr.concat(xr.broadcast(*parts), dim="element").assign_coords(
        element=list(GBD_ELEMENTS))


def diffusion_parameters(values: xr.Dataset, gbd: xr.DataArray, utilisation: xr.DataArray,
                         new: xr.DataArray) -> tuple[xr.Dataset, dict[str, xr.DataArray]]:
    """Effective ``magnet_scrap_rate`` and ``new_scrap_recycling_rate`` by element that make
    the Nd chain carry the diffusion sources (module docstring).

    Parameters
    ----------
    values : xarray.Dataset
        Parameter values with the ``element`` dim on the Nd-content terms
        (:func:`.elements.element_values`).
    gbd : xarray.DataArray
        :func:`gbd_share_by_product` (element, product, time) [1].
    utilisation : xarray.DataArray
        Share of the diffusion source that ends in the magnet (element: Dy, Tb) [1].
    new : xarray.DataArray
        Element in new products [t/yr] (time, region, product, element, ...) of ``values``
        (:func:`.simulation.nd_in_new_products`).

    Returns
    -------
    tuple
        The values with the two rates by element (units 1), and the world diffusion source
        ``D`` and its loss ``L`` (element, time[, extra dims]) [t/yr].
    """
    magnets = new.sel(product=[p for p in new["product"].values if p in MAGNET_PRODUCTS])
    m_p = magnets.sum("region")
    m = m_p.sum("product")
    m_g = (m_p * gbd.sel(product=m_p["product"].values)).sum("product")
    u = utilisation.reindex(element=m["element"].values, fill_value=1.0)
    s = _as_fraction(values, "magnet_scrap_rate")
    r = _as_fraction(values, "new_scrap_recycling_rate")
    alloy = (m - m_g) / (1.0 - s)
    bulk_scrap = alloy * s
    source = m_g / u
    lost = source - m_g
    has = m_g > 0
    total = (alloy + source).where(has, 1.0)
    sent = (bulk_scrap + lost).where(has, 1.0)
    out = values.copy()
    out["magnet_scrap_rate"] = xr.where(has, 1.0 - m / total, s).assign_attrs(s.attrs)
    out["new_scrap_recycling_rate"] = xr.where(has, r * bulk_scrap / sent, r).assign_attrs(
        r.attrs)
    zero = xr.zeros_like(m)
    return out, {"source": source.where(has, zero), "lost": lost.where(has, zero)}


def split_diffusion_flows(ds: xr.Dataset, values: xr.Dataset,
                          world: dict[str, xr.DataArray]) -> xr.Dataset:
    """The diffusion flows of ``world`` (:func:`diffusion_parameters`) split out of the Nd
    chain's flows of ``ds``, by region where magnets are made (``production_share`` of the
    ``magnet`` stage); flows that must stay >= 0 are clipped at 0 against rounding."""
    share = values["production_share"]
    share = (share / share.sum("region")).sel(stage="magnet", drop=True)
    source = world["source"] * share
    lost = world["lost"] * share
    order = ds["flow_alloy_to_magnet"].dims
    source, lost = (x.transpose(*order) for x in (source, lost))
    out = ds.copy()
    out["flow_alloy_to_magnet"] = (ds["flow_alloy_to_magnet"] - source).clip(min=0.0)
    out["flow_new_scrap"] = (ds["flow_new_scrap"] - lost).clip(min=0.0)
    out["flow_new_scrap_losses"] = (ds["flow_new_scrap_losses"] - lost).clip(min=0.0)
    for name, da in (("flow_diffusion_source", source), ("flow_diffusion_losses", lost)):
        src, dst, long_name = DIFFUSION_FLOWS[name]
        out[name] = da.assign_attrs(units="t/yr", long_name=long_name, source=src, target=dst)
    for name in ("flow_alloy_to_magnet", "flow_new_scrap", "flow_new_scrap_losses"):
        out[name].attrs = ds[name].attrs
    return out


#: Processes whose flows :func:`split_diffusion_flows` changes.
SPLIT_PROCESSES: tuple[str, ...] = ("metal", "magnet", "recycling")


@functools.lru_cache(maxsize=8)
def split_check_system(extra_dims: tuple[str, ...] = ("element",)) -> ProcessSystem:
    """The processes of :data:`SPLIT_PROCESSES` with every flow and stock that touches them
    (the other processes as boundary), by ``extra_dims``: the part of
    :func:`element_process_system` whose balance the split can change, cheaper to check (no
    stocks in use)."""
    flows = {n: v for n, v in {**FLOWS, **DIFFUSION_FLOWS}.items()
             if v[0] in SPLIT_PROCESSES or v[1] in SPLIT_PROCESSES}
    others = sorted({p for v in flows.values() for p in v[:2]} - set(SPLIT_PROCESSES))
    return ProcessSystem(
        "magnet_rees (metal, magnet, recycling)",
        processes=list(SPLIT_PROCESSES),
        flows=[Flow(name, src, dst, ("time", "region", *extra_dims),
                    signed=name in SIGNED_FLOWS) for name, (src, dst, _) in flows.items()],
        stocks=[Stock("scrap_awaiting_recycling", "recycling",
                      ("time", "region", *extra_dims))],
        boundary=tuple(others),
        kept_dims=extra_dims,
    )


def with_diffusion_flows(ds: xr.Dataset, values: xr.Dataset,
                         diffusion: dict[str, xr.DataArray], *, check: bool,
                         rtol: float) -> xr.Dataset:
    """``ds`` (the Nd chain run by element, its balance checked) with the diffusion flows
    split out (:func:`split_diffusion_flows`); if ``check``, the balance of the processes the
    split changes is checked again with the new flows (:func:`split_check_system`, raising
    :class:`~mfa.core.errors.MassBalanceError`). The split moves mass between flows of the
    same process, so the residuals of ``ds`` stay those of :func:`element_process_system`."""
    ds = split_diffusion_flows(ds, values, diffusion)
    if check:
        system = split_check_system(("element", *_extra_dims(ds)))
        names = [f.name for f in system.flows] + [s.name for s in system.stocks]
        system.check_balance({n: ds[n] for n in names}, rtol=rtol)
    return ds


def _extra_dims(ds: xr.Dataset) -> tuple[str, ...]:
    """Dims of the flows beyond time, region and element (e.g. ``sample``), sorted."""
    return tuple(sorted(set(ds["flow_alloy_to_magnet"].dims) - {"time", "region", "element"}))
