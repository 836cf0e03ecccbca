"""Derived indicators: supply concentration, import reliance, recycling rates.

Pure functions over xarray objects; units are checked at the edge and the results carry
``attrs["units"]``. They know nothing about neodymium.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from mfa.core.units import check_dimensionality

__all__ = ["production_share", "hhi", "import_reliance", "recycling_input_rate", "avoided"]


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
        Shares [1], summing to 1 over ``dim``; NaN where total production is zero.
    """
    _flow_units(production, "production")
    total = production.sum(dim)
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
    """Recycling input rate: secondary / (primary + secondary) input.

    Parameters
    ----------
    secondary : xarray.DataArray
        Secondary (recycled) input [mass/time].
    total : xarray.DataArray
        Total input, primary plus secondary [mass/time], same units.

    Returns
    -------
    xarray.DataArray
        Rate [1]; 0 where the total is zero. (UNEP IRP 2011, *Recycling Rates of Metals*,
        "recycled content".)
    """
    _flow_units(secondary, "secondary")
    _flow_units(total, "total")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (secondary / total).where(total > 0, 0.0)
    return out.assign_attrs(units="1", long_name="recycling input rate")


def avoided(reference: xr.DataArray, scenario: xr.DataArray) -> xr.DataArray:
    """What a measure avoids: ``reference - scenario`` (same units), e.g. primary demand avoided.

    Parameters
    ----------
    reference, scenario : xarray.DataArray
        The same quantity without and with the measure.
    """
    units = reference.attrs.get("units")
    if units != scenario.attrs.get("units", units):
        raise ValueError("avoided: reference and scenario have different units")
    return (reference - scenario).assign_attrs(units=units)
