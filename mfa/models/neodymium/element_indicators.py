"""Indicators of the element model by element and for the NdPr and magnet-REE groups, and its
IAMC table (``Nd|...``, ``Pr|...``, ``Dy|...``, ``Tb|...``, ``NdPr|...``, ``Magnet REE|...``).

Groups add the masses of their elements; rates are recomputed from the group's flows (never
averaged): EOL-RR = Σ recovered / Σ end-of-life, recycled content = Σ secondary / Σ (primary +
secondary), production shares, HHI and import reliance from the group's production and
consumption (UNEP 2011 definitions as in :mod:`mfa.models.neodymium`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from mfa.analysis import indicators
from mfa.core.errors import MfaError
from mfa.models.neodymium.elements import GROUPS

__all__ = ["elements_iamc", "indicator_table", "with_groups"]

_MASS_UNITS = ("t", "t/yr")
#: IAMC names of the co-production results (per mined element and group).
COPRODUCTION_IAMC: dict[str, str] = {
    "flow_coproduced": "Mining|Co-produced",
    "flow_coproduct_to_chain": "Mining|Used by Magnet Chain",
    "flow_coproduct_surplus": "Mining|Surplus (Stockpiled or Unsold)",
    "mine_output": "Mining|Production",
}


def _grouped(da: xr.DataArray, dim: str, labels: list[str]) -> xr.DataArray:
    """``da`` with the group sums appended along ``dim`` (groups whose elements are all there)."""
    parts = [da]
    names = []
    for group, members in GROUPS.items():
        if set(members) <= set(labels):
            parts.append(da.sel({dim: list(members)}).sum(dim).expand_dims({dim: [group]}))
            names.append(group)
    out = xr.concat(parts, dim=dim) if names else da
    return out.assign_attrs(da.attrs)


def with_groups(ds: xr.Dataset) -> xr.Dataset:
    """Element results (:func:`.elements.simulate_elements`) with the groups of
    :data:`.elements.GROUPS` appended on the ``element`` and ``mined_element`` dims.

    Masses and mass flows (units t, t/yr) and the magnet composition are summed; rates and
    concentration indices recomputed from the group's flows; other variables (oxide factors,
    TREO needed per element) are NaN for groups.
    """
    if "element" not in ds.dims:
        raise MfaError("with_groups: the results have no 'element' dim (run simulate_elements)")
    out = xr.Dataset(attrs=ds.attrs)
    for dim in ("element", "mined_element"):
        if dim not in ds.dims:
            continue
        labels = [str(x) for x in ds[dim].values]
        for name, da in ds.data_vars.items():
            if dim not in da.dims:
                continue
            if da.attrs.get("units") in _MASS_UNITS or name == "magnet_composition":
                out[name] = _grouped(da, dim, labels)
    out = out.merge(ds.drop_vars([n for n in out.data_vars]), join="outer")
    order = {dim: [str(x) for x in out[dim].values] for dim in ("element", "mined_element")
             if dim in out.dims}
    out = out.reindex({dim: [x for x in ds[dim].values] + [g for g in GROUPS if g in labels]
                       for dim, labels in order.items()})
    for name in out.data_vars:
        if name in ds.data_vars:
            out[name].attrs = ds[name].attrs
    t_yr = {"units": "t/yr"}
    if "flow_eol" in out:
        out["eol_recycling_rate"] = indicators.end_of_life_recycling_rate(
            out["flow_recycled_eol"].sum("region").assign_attrs(t_yr),
            out["flow_eol"].sum("region").assign_attrs(t_yr)).assign_attrs(
            ds["eol_recycling_rate"].attrs)
        secondary = out["secondary_supply"].assign_attrs(t_yr)
        primary = out["primary_demand"].sum("region")
        out["recycling_input_rate"] = indicators.recycling_input_rate(
            secondary, (primary + secondary.sum("source")).assign_attrs(t_yr)).assign_attrs(
            ds["recycling_input_rate"].attrs)
        prod, cons = out["production"], out["consumption"]
        out["production_share"] = indicators.production_share(prod.assign_attrs(t_yr))
        out["hhi"] = indicators.hhi(out["production_share"])
        out["import_reliance"] = indicators.import_reliance(prod.assign_attrs(t_yr),
                                                            cons.assign_attrs(t_yr))
        for n in ("production_share", "hhi", "import_reliance"):
            out[n].attrs = ds[n].attrs
    if "mine_output" in out:
        out["mine_production_share"] = indicators.production_share(
            out["mine_output"].assign_attrs(t_yr)).assign_attrs(
            ds["mine_production_share"].attrs)
        out["mine_hhi"] = indicators.hhi(out["mine_production_share"]).assign_attrs(
            ds["mine_hhi"].attrs)
    return out


def indicator_table(ds: xr.Dataset, year: int, region: str = "China") -> pd.DataFrame:
    """Headline indicators of one year, one row per element and group.

    Columns: ``demand``, ``primary_demand``, ``secondary_supply`` [t/yr, separated oxide
    stage, element mass], ``eol_recycling_rate`` [1], ``mined``, ``mining_surplus`` [t/yr,
    ore], ``<region>_share_mining`` (share of the element mined in ``region``, from the deposit
    mix), ``hhi_mining`` [1], ``<region>_share_separation`` and ``<region>_import_reliance_magnet``
    [1] (chain shares, those of Nd for every element: no element-specific data).
    """
    g = with_groups(ds)
    if year not in g["time"].values:
        raise MfaError(f"indicator_table: year {year} is not in the results")
    g = g.sel(time=year)
    labels = [str(x) for x in g["element"].values]
    mined = g.sel(mined_element=labels)

    def col(da: xr.DataArray) -> np.ndarray:
        return np.asarray(da.values, dtype=float)

    return pd.DataFrame({
        "demand": col(g["total_demand"]),
        "primary_demand": col(g["primary_demand"].sum("region")),
        "secondary_supply": col(g["secondary_supply"].sum("source")),
        "eol_recycling_rate": col(g["eol_recycling_rate"]),
        "mined": col(mined["flow_coproduced"]),
        "mining_surplus": col(mined["flow_coproduct_surplus"]),
        f"{region}_share_mining": col(mined["mine_production_share"].sel(region=region)),
        "hhi_mining": col(mined["mine_hhi"]),
        f"{region}_share_separation": col(g["production_share"].sel(region=region,
                                                                    stage="separation")),
        f"{region}_import_reliance_magnet": col(g["import_reliance"].sel(region=region,
                                                                         stage="magnet")),
    }, index=pd.Index(labels, name="element"))


def elements_iamc(ds: xr.Dataset, *, model: str | None = None,
                  scenario: str | None = None) -> pd.DataFrame:
    """The IAMC data table of an element run: every IAMC variable of the Nd model under the
    prefix of each element and group (``Dy|Primary Demand``, ``NdPr|Demand``,
    ``Magnet REE|Secondary Supply``...), the co-production per mined element and group
    (``La|Mining|Surplus (Stockpiled or Unsold)``, ``Dy|Mining|Production``) and
    ``Rare Earths|Mining|Ore Mined (TREO)`` (:func:`mfa.io.to_iamc` conventions)."""
    from mfa.io import to_iamc

    g = with_groups(ds)
    chain = [n for n in g.data_vars if "iamc_variable" in g[n].attrs and "element" in g[n].dims]
    frames = [to_iamc(g[chain].sel(element=e, drop=True), model=model, scenario=scenario,
                      prefix=str(e)) for e in g["element"].values]
    cop = g[list(COPRODUCTION_IAMC)]
    for name, iamc in COPRODUCTION_IAMC.items():
        cop[name].attrs["iamc_variable"] = iamc
    frames += [to_iamc(cop.sel(mined_element=e, drop=True), model=model, scenario=scenario,
                       prefix=str(e)) for e in g["mined_element"].values]
    ore = g[["ore_mined_treo"]]
    ore["ore_mined_treo"].attrs["iamc_variable"] = "Mining|Ore Mined (TREO)"
    frames.append(to_iamc(ore, model=model, scenario=scenario, prefix="Rare Earths"))
    return pd.concat(frames, ignore_index=True)
