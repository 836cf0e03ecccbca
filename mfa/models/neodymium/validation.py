"""Compare the Nd model with published Nd material-flow results (the docs' validation page).

A comparison table (``docs/model/validation_data.csv``) lists published numbers, one per row:
``study, source_key, citation, quantity, region, year, base_year, value, low, high, unit,
factor, measure, scope, comment`` (``source_key``: the key of the study in
``research/history/sources.csv``). ``value × factor`` is the published number on the model's basis (Nd
element mass; ``factor`` converts, e.g., oxide or several rare earths to Nd, as the row's
comment says). ``measure`` names the model quantity it is compared with (:data:`MEASURES`);
rows without one are listed with their scope difference and no model number.
:func:`compare_with_published` reads the model's number for each row from a results Dataset,
so the comparison follows the model's data wherever they change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from mfa.core.errors import MfaError
from mfa.core.units import conversion_factor
from mfa.models.neodymium.structure import EV_PRODUCTS, MAGNET_PRODUCTS, NON_MAGNET, WIND_PRODUCTS

__all__ = ["COLUMNS", "MEASURES", "compare_with_published", "read_comparison_table"]

#: Columns of a comparison table, in order.
COLUMNS: tuple[str, ...] = ("study", "source_key", "citation", "quantity", "region", "year",
                            "base_year", "value", "low", "high", "unit", "factor", "measure",
                            "scope", "comment")

_Series = Callable[[xr.Dataset], xr.DataArray]


def _products(var: str, products: tuple[str, ...] | str | None = None) -> _Series:
    def f(ds: xr.Dataset) -> xr.DataArray:
        da = ds[var]
        if products is not None:
            da = da.sel(product=list(products) if isinstance(products, tuple) else [products])
        return da.sum("product")
    return f


def _share(num: _Series, den: _Series) -> _Series:
    return lambda ds: num(ds).sum("region") / den(ds).sum("region")


_MAGNETS = _products("nd_in_new_products", MAGNET_PRODUCTS)

#: Model quantities a published number can be compared with: name -> (unit, description,
#: function of the results giving a (time[, region]) series; with a region dim, "World" sums it).
MEASURES: dict[str, tuple[str, str, _Series]] = {
    "in_use_stock_magnets": ("t", "Nd in magnet products in use",
                             _products("in_use_stock", MAGNET_PRODUCTS)),
    "nd_in_new_products_magnets": ("t/yr", "Nd in new magnet products put into use", _MAGNETS),
    "nd_in_new_products_non_magnet": ("t/yr", "Nd in new non-magnet products put into use",
                                      _products("nd_in_new_products", NON_MAGNET)),
    "nd_in_new_products_clean_tech": ("t/yr", "Nd in new EVs and wind turbines put into use",
                                      _products("nd_in_new_products",
                                                EV_PRODUCTS + WIND_PRODUCTS)),
    "eol_outflow": ("t/yr", "Nd in end-of-life products", _products("eol_outflow")),
    "eol_outflow_magnets": ("t/yr", "Nd in end-of-life magnet products",
                            _products("eol_outflow", MAGNET_PRODUCTS)),
    "eol_recycling_rate": ("1", "End-of-life recycling rate (UNEP 2011 EOL-RR), world",
                           lambda ds: ds["eol_recycling_rate"]),
    "secondary_supply": ("t/yr", "Recycled Nd (new scrap and end of life) by region recycled",
                         lambda ds: ds["flow_recycled_new_scrap"] + ds["flow_recycled_eol"]),
    "separation_output": ("t/yr", "Separated Nd oxide produced (from ore and recycled)",
                          lambda ds: ds["production"].sel(stage="separation", drop=True)),
    "oxide_to_metal": ("t/yr", "Nd oxide to metal and alloy making (magnet demand)",
                       lambda ds: ds["flow_oxide_to_metal"]),
    "clean_tech_share_of_magnets": ("1", "EV and wind share of Nd in new magnet products",
                                    _share(_products("nd_in_new_products",
                                                     EV_PRODUCTS + WIND_PRODUCTS), _MAGNETS)),
    "electronics_share_of_magnets": ("1", "Electronics share of Nd in new magnet products",
                                     _share(_products("nd_in_new_products", "electronics"),
                                            _MAGNETS)),
    "magnet_share_of_demand": ("1", "Share of total demand going to metal and alloy (magnets)",
                               lambda ds: ds["flow_oxide_to_metal"].sum("region")
                               / ds["total_demand"]),
    "growth_nd_in_new_products": ("1", "Nd in new products, year / base year",
                                  _products("nd_in_new_products")),
    "growth_primary_demand_ore": ("1", "Nd mined (ore basis), year / base year",
                                  lambda ds: ds["primary_demand_ore"]),
}


def read_comparison_table(path: str | Path) -> pd.DataFrame:
    """Read and check a comparison table (columns :data:`COLUMNS`).

    Raises
    ------
    MfaError
        Naming the file and row: missing or unknown columns, an unknown ``measure``, a
        non-numeric ``value``/``factor``/``year``, or a growth measure without ``base_year``.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"measure": str, "unit": str})
    except (OSError, ValueError) as e:
        raise MfaError(f"{path}: cannot read the comparison table: {e}") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    extra = [c for c in table.columns if c not in COLUMNS]
    if missing or extra:
        raise MfaError(f"{path}: expected columns {', '.join(COLUMNS)}; missing {missing}, "
                       f"unknown {extra}")
    for i, row in table.iterrows():
        where = f"{path}, row {int(i) + 2} ({row['study']}, {row['quantity']})"
        measure = row["measure"]
        if isinstance(measure, str) and measure not in MEASURES:
            raise MfaError(f"{where}: unknown measure {measure!r}; expected one of "
                           f"{', '.join(MEASURES)}")
        for col in ("year", "value", "factor"):
            if not isinstance(measure, str) and col == "value":
                continue
            if not _is_number(row[col]):
                raise MfaError(f"{where}: {col} must be a number, got {row[col]!r}")
        if isinstance(measure, str) and measure.startswith("growth_") and not _is_number(
                row["base_year"]):
            raise MfaError(f"{where}: measure {measure!r} needs a base_year")
    return table


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, np.number)) and math.isfinite(float(x))


def _model_value(ds: xr.Dataset, measure: str, region: str, year: int,
                 base_year: float, where: str) -> float:
    _, _, series = MEASURES[measure]
    da = series(ds)
    if "region" in da.dims:
        if region == "World":
            da = da.sum("region")
        elif region in set(ds["region"].values.tolist()):
            da = da.sel(region=region)
        else:
            raise MfaError(f"{where}: region {region!r} is neither 'World' nor a model region "
                           f"({', '.join(map(str, ds['region'].values))})")
    elif region != "World":
        raise MfaError(f"{where}: the model's {measure!r} is a world total; region {region!r}")
    have = set(ds["time"].values.tolist())
    years = [year] + ([int(base_year)] if measure.startswith("growth_") else [])
    lacking = [y for y in years if y not in have]
    if lacking:
        raise MfaError(f"{where}: the results do not cover {lacking}")
    value = float(da.sel(time=year))
    if measure.startswith("growth_"):
        value /= float(da.sel(time=int(base_year)))
    return value


def compare_with_published(results: xr.Dataset, table: pd.DataFrame | str | Path
                           ) -> pd.DataFrame:
    """The model's number for each published one, with the ratio model / published.

    Parameters
    ----------
    results : xarray.Dataset
        Results of the Nd model (:func:`mfa.models.neodymium.run`).
    table : pandas.DataFrame or path-like
        A comparison table (:func:`read_comparison_table`).

    Returns
    -------
    pandas.DataFrame
        One row per published number: ``study``, ``quantity``, ``region``, ``year``,
        ``published`` (``value × factor``, in ``unit``), ``low`` and ``high`` (same basis),
        ``model`` (in ``unit``; NaN where no model quantity matches), ``unit``, ``ratio``
        (model / published; NaN where either is missing or published is 0), ``in_range``
        (model within [low, high] where the study gives a range; else None), ``scope`` and
        ``comment``.

    Raises
    ------
    MfaError
        A bad table (naming the row), a region or year the results lack, or a row unit of
        another dimensionality than the model quantity.
    """
    if not isinstance(table, pd.DataFrame):
        table = read_comparison_table(table)
    rows = []
    for i, row in table.iterrows():
        where = f"comparison row {int(i) + 2} ({row['study']}, {row['quantity']})"
        measure = row["measure"]
        factor = float(row["factor"]) if _is_number(row["factor"]) else 1.0
        published, low, high = (float(row[c]) * factor if _is_number(row[c]) else math.nan
                                for c in ("value", "low", "high"))
        model = math.nan
        if isinstance(measure, str):
            unit = MEASURES[measure][0]
            model = _model_value(results, measure, str(row["region"]), int(row["year"]),
                                 row["base_year"], where)
            model *= conversion_factor(unit, str(row["unit"]), where)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = model / published if published else math.nan
        in_range = None
        if not math.isnan(model) and not (math.isnan(low) and math.isnan(high)):
            in_range = bool((math.isnan(low) or model >= low)
                            and (math.isnan(high) or model <= high))
        rows.append({"study": row["study"], "quantity": row["quantity"],
                     "region": row["region"], "year": int(row["year"]),
                     "published": published, "low": low, "high": high, "model": model,
                     "unit": row["unit"], "ratio": ratio, "in_range": in_range,
                     "scope": row["scope"], "comment": row["comment"]})
    return pd.DataFrame(rows)
