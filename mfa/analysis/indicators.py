"""Derived indicators: supply concentration, import reliance, recycling rates.

Pure functions over xarray objects; units are checked at the edge and the results carry
``attrs["units"]``. They know nothing about neodymium.

The recycling indicators follow UNEP (2011), *Recycling Rates of Metals: A Status Report*
(Graedel T.E., Allwood J., Birat J.-P., Reck B.K., Sibley S.F., Sonnemann G., Buchert M.,
Hagelüken C.; Working Group on the Global Metal Flows, International Resource Panel; ISBN
978-92-807-3161-3), which distinguishes old scrap (metal in end-of-life products) from new scrap
(metal discarded while making products) and defines the end-of-life recycling rate (EOL-RR:
the share of the metal in end-of-life products that is functionally recycled) and the recycled
content (RC, also called recycling input rate, RIR: the share of scrap, old and new, in the
metal input to production).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from mfa.core.units import check_dimensionality

__all__ = ["avoided", "end_of_life_recycling_rate", "hhi", "import_reliance", "production_share",
           "recycling_input_rate"]


def _flow_units(da: xr.DataArray, name: str) -> str:
    units = da.attrs.get("units", "t/yr")
    check_dimensionality(units, "t/yr", name)
    return units


def production_share(production: xr.DataArray, dim: str = "region") -> xr.DataArray:
    """Share of each producer in total production.

    Parameters
    ----------
    production : xarray.DataArray
        Production [mass/time] with dimension ``dim``.
    dim : str
        The producer dimension.

    Returns
    -------
    xarray.DataArray
        Shares [1], summing to 1 over ``dim``; NaN where total production is zero or any
        producer's production is NaN (not skipped).
    """
    _flow_units(production, "production")
    total = production.sum(dim, skipna=False)
    out = (production / total).where(total > 0)
    return out.assign_attrs(units="1", long_name=f"share of production by {dim}")


def hhi(share: xr.DataArray, dim: str = "region") -> xr.DataArray:
    """Herfindahl-Hirschman index of concentration, as a fraction.

    ``HHI = Σ_i s_i²`` with market shares ``s_i`` as fractions, between 1/n and 1 (the usual
    0-10,000 scale is this value × 10,000; U.S. DOJ & FTC, *Horizontal Merger Guidelines*,
    2010, §5.3). Computed over the producers along ``dim``; with aggregated regions it is a
    lower bound of the country-level index.

    Parameters
    ----------
    share : xarray.DataArray
        Shares [1] summing to 1 over ``dim``.
    dim : str
        Producer dimension.

    Returns
    -------
    xarray.DataArray
        HHI [1]; NaN where any share is NaN.
    """
    check_dimensionality(share.attrs.get("units", "1"), "1", "share")
    out = (share**2).sum(dim, skipna=False)
    return out.assign_attrs(units="1", long_name="Herfindahl-Hirschman index (fraction)")


def import_reliance(production: xr.DataArray, consumption: xr.DataArray) -> xr.DataArray:
    """Net import reliance: net imports as a share of consumption.

    ``max(consumption - production, 0) / consumption``, following the USGS definition of net
    import reliance as a share of apparent consumption (USGS Mineral Commodity Summaries,
    "Appendix"). A net exporter has 0.

    Parameters
    ----------
    production, consumption : xarray.DataArray
        Production and consumption of the same commodity [mass/time], same units.

    Returns
    -------
    xarray.DataArray
        Import reliance [1] in [0, 1]; NaN where consumption is zero.
    """
    u_p = _flow_units(production, "production")
    u_c = _flow_units(consumption, "consumption")
    if u_p != u_c:
        raise ValueError(f"import_reliance: production in {u_p!r} but consumption in {u_c!r}")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (np.maximum(consumption - production, 0.0) / consumption).where(consumption > 0)
    return out.assign_attrs(units="1", long_name="net import reliance")


def recycling_input_rate(secondary: xr.DataArray, total: xr.DataArray) -> xr.DataArray:
    """Recycling input rate (UNEP 2011 recycled content, RC): scrap input / total input.

    ``RIR = secondary / (primary + secondary)`` at the stage where scrap re-enters. UNEP (2011)
    counts old and new scrap alike; give ``secondary`` a ``source`` dim (e.g. ``end_of_life``,
    ``new_scrap``) to report each share separately, their sum being the total rate.

    Parameters
    ----------
    secondary : xarray.DataArray
        Secondary (recycled) input [mass/time], by source or in total.
    total : xarray.DataArray
        Total input, primary plus secondary [mass/time], same units.

    Returns
    -------
    xarray.DataArray
        Rate [1], in [0, 1]; 0 where the total is zero.

    Raises
    ------
    ValueError
        If the two inputs are in different units.
    """
    u_s = _flow_units(secondary, "secondary")
    u_t = _flow_units(total, "total")
    if u_s != u_t:
        raise ValueError(f"recycling_input_rate: secondary in {u_s!r} but total in {u_t!r}")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (secondary / total).where(total > 0, 0.0)
    return out.assign_attrs(units="1", long_name="recycling input rate (UNEP 2011 recycled content)")


def end_of_life_recycling_rate(recycled: xr.DataArray, end_of_life: xr.DataArray) -> xr.DataArray:
    """End-of-life recycling rate (UNEP 2011 EOL-RR): functionally recycled / end-of-life metal.

    The share of the metal in end-of-life products (old scrap generated) that returns as
    secondary material, after collection and recovery losses. New (manufacturing) scrap is not
    part of it.

    Parameters
    ----------
    recycled : xarray.DataArray
        Metal recovered from end-of-life products [mass/time].
    end_of_life : xarray.DataArray
        Metal in end-of-life products [mass/time], same units.

    Returns
    -------
    xarray.DataArray
        Rate [1]; NaN where no metal reaches end of life.

    Raises
    ------
    ValueError
        If the two inputs are in different units.
    """
    u_r = _flow_units(recycled, "recycled")
    u_e = _flow_units(end_of_life, "end_of_life")
    if u_r != u_e:
        raise ValueError(f"end_of_life_recycling_rate: recycled in {u_r!r} but end of life in "
                         f"{u_e!r}")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (recycled / end_of_life).where(end_of_life > 0)
    return out.assign_attrs(units="1", long_name="end-of-life recycling rate (UNEP 2011 EOL-RR)")


def avoided(reference: xr.DataArray, scenario: xr.DataArray) -> xr.DataArray:
    """What a measure avoids: ``reference - scenario``, e.g. primary demand avoided.

    Parameters
    ----------
    reference, scenario : xarray.DataArray
        The same quantity without and with the measure, in the same units and, where either
        states one, on the same basis (``attrs["basis"]``, e.g. ``"separated oxide"``).

    Returns
    -------
    xarray.DataArray
        The difference, in the units (and basis) of the inputs.

    Raises
    ------
    ValueError
        If the units or the bases differ.
    """
    units = reference.attrs.get("units")
    if units != scenario.attrs.get("units", units):
        raise ValueError(f"avoided: reference in {units!r} but scenario in "
                         f"{scenario.attrs.get('units')!r}")
    basis = reference.attrs.get("basis")
    if basis != scenario.attrs.get("basis"):
        raise ValueError(f"avoided: reference on basis {basis!r} but scenario on basis "
                         f"{scenario.attrs.get('basis')!r}")
    out = (reference - scenario).assign_attrs(units=units)
    if basis is not None:
        out.attrs["basis"] = basis
    return out
