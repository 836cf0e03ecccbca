"""Bottom-up demand: Nd in new products of the end uses other than EVs and wind.

Each end use of :data:`~.structure.END_USES` is either *activity-based*
(:data:`~.structure.ACTIVITY_END_USES`: units sold or produced per year × NdFeB per unit ×
share of units with NdFeB × Nd share of the NdFeB) or *direct* (:data:`~.structure.DIRECT_END_USES`:
Nd in new products given in t/yr where no activity data were found). The end uses of a product
are summed and split over the regions of use by ``use_region_share``. The data and their
sources are in ``params/end_uses.csv`` and ``docs/model/data.md``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from mfa.models.neodymium.structure import (
    ACTIVITY_END_USES,
    DIRECT_END_USES,
    END_USE_PRODUCTS,
    END_USES,
)

__all__ = ["end_use_demand", "end_use_products"]


def _plain(da: xr.DataArray) -> xr.DataArray:
    """``da`` without its attributes (a shallow copy: xarray's ``drop_attrs`` copies deeply)."""
    out = da.copy(deep=False)
    out.attrs = {}
    return out


def end_use_demand(values: xr.Dataset) -> xr.DataArray:
    """World Nd in new products by end use [t/yr], dims (time, end_use[, sample]).

    Activity-based end uses: ``end_use_activity [unit/yr] × end_use_ndfeb_per_unit [kg/unit]
    × end_use_pm_share [1] × end_use_nd_share [1] × 1e-3 t/kg``. Direct end uses:
    ``end_use_nd_direct [t/yr]``. ``values`` must hold these parameters in the units of
    :data:`~.structure.PARAMETER_UNITS` (:func:`~.simulation.simulate` converts them).
    """
    end_uses = values["end_use"].values
    activity = (_plain(values["end_use_activity"]) * _plain(values["end_use_ndfeb_per_unit"])
                * _plain(values["end_use_pm_share"]) * _plain(values["end_use_nd_share"])) * 1e-3
    is_activity = xr.DataArray(np.isin(end_uses, ACTIVITY_END_USES), dims="end_use",
                               coords={"end_use": end_uses})
    is_direct = xr.DataArray(np.isin(end_uses, DIRECT_END_USES), dims="end_use",
                             coords={"end_use": end_uses})
    # each end use from its own form; NaN (an error downstream) where its value is missing
    out = xr.where(is_activity, activity, xr.where(is_direct, _plain(values["end_use_nd_direct"]),
                                                   np.nan))
    out = out.transpose("time", "end_use", ...)
    out.name = "nd_in_new_products_by_end_use"
    out.attrs = {"units": "t/yr",
                 "long_name": "World Nd in new products by end use (bottom-up demand)"}
    return out


def end_use_products(by_end_use: xr.DataArray, use_region_share: xr.DataArray
                     ) -> xr.DataArray:
    """Nd in new products of :data:`~.structure.END_USE_PRODUCTS` by region [t/yr].

    Sums the end uses of each product (a 0/1 mapping matrix) and splits
    the world total over regions by ``use_region_share`` [1] (region, product, time).
    """
    products = list(END_USE_PRODUCTS)
    end_uses = by_end_use["end_use"].values
    mapping = xr.DataArray(
        np.array([[1.0 if END_USES.get(e) == p else 0.0 for p in products] for e in end_uses]),
        dims=("end_use", "product"), coords={"end_use": end_uses, "product": products})
    # one matrix product; a missing end-use value makes its own product NaN (an error later)
    world = xr.dot(by_end_use.fillna(0.0), mapping, dim="end_use")
    missing = xr.dot(by_end_use.isnull().astype(float), mapping, dim="end_use") > 0
    world = world.where(~missing)
    share = _plain(use_region_share).sel(product=products)
    return world * share
