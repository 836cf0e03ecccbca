"""Calibration of the neodymium model against USGS world rare-earth mine production."""

from __future__ import annotations

import pandas as pd
import xarray as xr

from mfa.core.units import conversion_factor
from mfa.data.params import ParameterSet

__all__ = ["ND_PER_ND2O3", "calibration"]

ND_PER_ND2O3 = 2 * 144.242 / (2 * 144.242 + 3 * 15.999)
"""Mass fraction of Nd in Nd2O3 (standard atomic weights: Nd 144.242, O 15.999), ≈ 0.857."""


def calibration(results: xr.Dataset, params: ParameterSet) -> pd.DataFrame:
    """Compare modelled Nd in mine concentrate with USGS world rare-earth mine production.

    USGS reports mine production as the rare-earth-oxide (REO) content of concentrates. The
    Nd it implies is ``world_ree_mine_production × nd_share_of_reo × 0.857``, with the Nd2O3
    share of REO weighted by the model's mining shares of the regions. The model's
    counterpart is ``flow_concentrate`` (Nd in concentrate, before separation losses), of which
    the undocumented mining of the reconciled history (``flow_mined_undocumented``) is not in
    USGS figures.

    Parameters
    ----------
    results : xarray.Dataset
        Results of :func:`run` or :func:`simulate` (single run, no ``sample`` dim).
    params : ParameterSet
        The parameters with the calibration targets ``world_ree_mine_production`` [t/yr REO]
        and ``nd_share_of_reo`` [1].

    Returns
    -------
    pandas.DataFrame
        Indexed by year (years with USGS data): ``usgs_reo`` [t/yr REO], ``nd_share_of_reo``
        [1], ``usgs_nd`` [t/yr Nd], ``model_nd_concentrate`` [t/yr Nd], ``ratio`` [1] (model
        / USGS), ``model_nd_undocumented`` [t/yr Nd] and ``ratio_documented`` [1] (model
        concentrate less undocumented mining, / USGS).
    """
    v = params.values
    reo = v["world_ree_mine_production"] * conversion_factor(
        v["world_ree_mine_production"].attrs["units"], "t/yr", "world_ree_mine_production")
    nd_share = v["nd_share_of_reo"] * conversion_factor(
        v["nd_share_of_reo"].attrs["units"], "1", "nd_share_of_reo")
    mining = results["production_share"].sel(stage="mining", drop=True)
    share = (nd_share * mining).sum("region")
    usgs_nd = reo * share * ND_PER_ND2O3
    model = results["flow_concentrate"].sum("region")
    # the same share of ore and of concentrate is undocumented (one mining yield per year)
    frac = (results["flow_mined_undocumented"].sum("region")
            / (results["flow_mined"] + results["flow_mined_undocumented"]).sum("region"))
    undocumented = model * frac.fillna(0.0)
    table = xr.Dataset({"usgs_reo": reo, "nd_share_of_reo": share, "usgs_nd": usgs_nd,
                        "model_nd_concentrate": model, "ratio": model / usgs_nd,
                        "model_nd_undocumented": undocumented,
                        "ratio_documented": (model - undocumented) / usgs_nd}).to_dataframe()
    rows = params.table[params.table["parameter"] == "world_ree_mine_production"]
    years = sorted({int(y) for y in rows["year"].dropna()})
    table = table.loc[[y for y in years if y in table.index and table.loc[y, "usgs_reo"] > 0]]
    table.index.name = "year"
    return table
