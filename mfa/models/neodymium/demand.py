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

from mfa.models.neodymium._variables import positions, wrap
from mfa.models.neodymium.structure import (
    ACTIVITY_END_USES,
    DIRECT_END_USES,
    END_USE_PRODUCTS,
    END_USES,
)

__all__ = ["end_use_demand", "end_use_products"]


def end_use_demand(values: xr.Dataset) -> xr.DataArray:
    """World Nd in new products by end use [t/yr], dims (time, end_use[, sample]).

    Activity-based end uses: ``end_use_activity [unit/yr] × end_use_ndfeb_per_unit [kg/unit]
    × end_use_pm_share [1] × end_use_nd_share [1] × 1e-3 t/kg``. Direct end uses:
    ``end_use_nd_direct [t/yr]``. ``values`` must hold these parameters in the units of
    :data:`~.structure.PARAMETER_UNITS` (:func:`~.simulation.simulate` converts them).
    """
    # on Variables (the labels are values' throughout): the operations and layouts of the
    # DataArrays, without aligning them at each step
    var = values.variables
    end_uses = values["end_use"].values
    activity = (var["end_use_activity"] * var["end_use_ndfeb_per_unit"]
                * var["end_use_pm_share"] * var["end_use_nd_share"]) * 1e-3
    is_activity = xr.Variable("end_use", np.isin(end_uses, ACTIVITY_END_USES))
    is_direct = xr.Variable("end_use", np.isin(end_uses, DIRECT_END_USES))
    # each end use from its own form; NaN (an error downstream) where its value is missing
    out = xr.where(is_activity, activity, xr.where(is_direct, var["end_use_nd_direct"], np.nan))
    out = wrap(out.transpose("time", "end_use", ...), dict(values.coords.variables))
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
    end_uses = by_end_use["end_use"].values.tolist()
    mapping = np.array([[1.0 if END_USES.get(e) == p else 0.0 for p in products]
                        for e in end_uses])
    # the matrix product over end uses, term by term in their order (as numpy's einsum adds
    # them); a missing end-use value makes its own product NaN (an error later)
    x = by_end_use.variable
    axis = x.get_axis_num("end_use")
    isnan = np.isnan(x.values)
    filled = np.moveaxis(np.where(isnan, 0.0, x.values), axis, 0)
    nan = np.moveaxis(isnan, axis, 0)
    world = np.zeros((*filled.shape[1:], len(products)))
    missing = np.zeros(world.shape, dtype=bool)
    with np.errstate(invalid="ignore"):  # inf x 0 is NaN, as in the matrix product
        for e in range(len(end_uses)):
            world += filled[e][..., None] * mapping[e]
            missing |= nan[e][..., None] & (mapping[e] > 0)
    dims = (*(d for d in x.dims if d != "end_use"), "product")
    world = xr.Variable(dims, np.where(missing, np.nan, world))
    share = use_region_share.variable.isel(
        product=positions(use_region_share["product"].values.tolist(), products))
    coords = {**{str(k): v for k, v in by_end_use.coords.variables.items() if k != "end_use"},
              **{str(k): v for k, v in use_region_share.coords.variables.items()
                 if k != "product"},
              "product": xr.Variable("product", np.array(products, dtype=object))}
    out = world * share
    out.attrs = dict(by_end_use.attrs)  # t/yr, as the end uses it sums
    return wrap(out, coords)
