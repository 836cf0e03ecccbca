"""Bottom-up demand: Nd in new products of the end uses other than EVs and wind.

Each end use of :data:`~.structure.END_USES` is either *activity-based*
(:data:`~.structure.ACTIVITY_END_USES`: units sold or produced per year × NdFeB per unit ×
share of units with NdFeB × Nd share of the NdFeB) or *direct* (:data:`~.structure.DIRECT_END_USES`:
Nd in new products given in t/yr where no activity data were found). The end uses of a product
are summed and split over the regions of use by ``use_region_share``. The data and their
sources are in ``params/end_uses.csv`` and ``docs/model/data.md``.
"""

from __future__ import annotations

import xarray as xr

from mfa.models.neodymium.structure import (
    ACTIVITY_END_USES,
    DIRECT_END_USES,
    END_USE_PRODUCTS,
    END_USES,
)

__all__ = ["end_use_demand", "end_use_products"]


def _plain(da: xr.DataArray) -> xr.DataArray:
    return da.drop_attrs() if hasattr(da, "drop_attrs") else da


def end_use_demand(values: xr.Dataset) -> xr.DataArray:
    """World Nd in new products by end use [t/yr], dims (time, end_use[, sample]).

    Activity-based end uses: ``end_use_activity [unit/yr] × end_use_ndfeb_per_unit [kg/unit]
    × end_use_pm_share [1] × end_use_nd_share [1] × 1e-3 t/kg``. Direct end uses:
    ``end_use_nd_direct [t/yr]``. ``values`` must hold these parameters in the units of
    :data:`~.structure.PARAMETER_UNITS` (:func:`~.simulation.simulate` converts them).
    """
    act = list(ACTIVITY_END_USES)
    a = (_plain(values["end_use_activity"]).sel(end_use=act)
         * _plain(values["end_use_ndfeb_per_unit"]).sel(end_use=act)
         * _plain(values["end_use_pm_share"]).sel(end_use=act)
         * _plain(values["end_use_nd_share"]).sel(end_use=act)) * 1e-3
    d = _plain(values["end_use_nd_direct"]).sel(end_use=list(DIRECT_END_USES))
    out = xr.concat([a, d], dim="end_use", coords="minimal", compat="override",
                    join="outer")
    out = out.reindex(end_use=list(END_USES)).transpose("time", "end_use", ...)
    out.name = "nd_in_new_products_by_end_use"
    out.attrs = {"units": "t/yr",
                 "long_name": "World Nd in new products by end use (bottom-up demand)"}
    return out


def end_use_products(by_end_use: xr.DataArray, use_region_share: xr.DataArray
                     ) -> xr.DataArray:
    """Nd in new products of :data:`~.structure.END_USE_PRODUCTS` by region [t/yr].

    Sums the end uses of each product and splits
    the world total over regions by ``use_region_share`` [1] (region, product, time).
    """
    products = list(END_USE_PRODUCTS)
    # one sum per product (five), each vectorised over time and any sample dim; skipna=False
    # so that a missing value names its own product only
    world = xr.concat(
        [by_end_use.sel(end_use=[e for e in END_USES if END_USES[e] == p]).sum(
            "end_use", skipna=False) for p in products],
        dim="product").assign_coords(product=products)
    share = _plain(use_region_share).sel(product=products)
    return world * share
