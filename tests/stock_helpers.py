"""Shared inputs of the dynamic stock model tests (test_stocks, test_i13_stocks)."""

from __future__ import annotations

import numpy as np
import xarray as xr

YEARS = np.arange(2000, 2030)
REGIONS = ["China", "Europe"]
PRODUCTS = ["ev_bev", "wind_onshore", "electronics"]


def flow(values, years=YEARS, units="t/yr", **dims) -> xr.DataArray:
    """A DataArray over ``time`` (= ``years``) and the given labelled dims, units in attrs."""
    coords = {"time": np.asarray(years), **dims}
    return xr.DataArray(np.asarray(values, dtype=float), dims=tuple(coords), coords=coords,
                        attrs={"units": units})
