"""Results as IAMC tables (the wide format of pyam and the IAMC scenario databases).

Two tables, each with the columns ``Model, Scenario, Region, Variable, Unit`` and one column
per year:

- the **data** table (:func:`to_iamc`): the variables a model names for scenario data, in
  ``attrs["iamc_variable"]`` (e.g. ``"Stock|In Use"``), under the prefix ``ds.attrs["material"]``
  (``Nd|Stock|In Use``). A variable's other dims become deeper levels
  (``Nd|Stock|In Use|ev_bev``). For masses and mass flows every parent equals the sum of its
  children (the rule of :meth:`pyam.IamDataFrame.check_aggregate`), and region ``World``
  equals the sum of the model regions (:meth:`~pyam.IamDataFrame.check_aggregate_region`).
  Shares and indices get neither;
- the **diagnostics** table (:func:`iamc_diagnostics`): every other variable by year (mass
  balance residuals, process throughput, concentration indices, flows not named for IAMC...),
  named ``<prefix>|Diagnostics|<variable>|<labels>``, as they are, without totals.

:func:`write_iamc` writes either table to CSV, or to Excel with the sheets ``data`` and
``meta`` that :class:`pyam.IamDataFrame` reads.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mfa.core.errors import MfaError
from mfa.core.units import parse_unit, ureg
from mfa.io.outputs import OutputSet, checkpoint, joined, write_bytes

__all__ = ["IAMC_COLUMNS", "iamc_diagnostics", "to_iamc", "write_iamc"]

#: Leading columns of an IAMC wide table; one column per year follows.
IAMC_COLUMNS = ["Model", "Scenario", "Region", "Variable", "Unit"]
#: Region of the totals over the model's regions.
WORLD = "World"


def _is_additive(name: str, attrs: Mapping[str, Any]) -> bool:
    """Whether summing over labels makes sense: masses and mass flows (not shares)."""
    rule = attrs.get("iamc_aggregate")
    if rule is not None:
        if rule not in ("sum", "none"):
            raise MfaError(f"variable {name!r}: attrs['iamc_aggregate'] must be 'sum' or 'none'")
        return rule == "sum"
    unit = attrs.get("units")
    if unit is None:
        return False
    try:
        dim = parse_unit(unit, name).dimensionality
    except ValueError:
        return False
    mass = ureg.kilogram.dimensionality
    return dim in (mass, mass / ureg.year.dimensionality)


def _check(da: xr.DataArray, name: str) -> None:
    if "sample" in da.dims:
        raise MfaError(
            f"variable {name!r} has a 'sample' dim: summarise the ensemble first "
            "(e.g. ds.median('sample') or ds.quantile([0.05, 0.5, 0.95], 'sample'))"
        )
    if "time" not in da.dims:
        raise MfaError(f"variable {name!r} has no 'time' dim: IAMC tables are by year")


def _frame(da: xr.DataArray, base: str, unit: str, other: Sequence[str]) -> pd.DataFrame:
    """Rows of ``da`` (dims region, *other, time): Variable ``base|label|...``."""
    da = da.transpose("region", *other, "time")
    years = [int(y) for y in da["time"].values]
    values = np.asarray(da.values, dtype=float).reshape(-1, len(years))
    index = pd.MultiIndex.from_product([[str(v) for v in da[d].values] for d in ("region", *other)])
    variable = ["|".join((base, *labels[1:])) for labels in index]
    frame = pd.DataFrame(values, columns=years)
    frame.insert(0, "Region", index.get_level_values(0))
    frame.insert(1, "Variable", variable)
    frame.insert(2, "Unit", unit)
    return frame


def _rows(da: xr.DataArray, name: str, base: str, *, totals: bool) -> pd.DataFrame:
    """IAMC rows of one variable; with ``totals``, World and parent sums for additive ones."""
    _check(da, name)
    unit = str(da.attrs.get("units", ""))
    additive = totals and _is_additive(name, da.attrs)
    if "region" not in da.dims:
        da = da.expand_dims(region=[WORLD])
    elif additive and WORLD not in [str(r) for r in da["region"].values]:
        world = da.sum("region", skipna=True, min_count=1).expand_dims(region=[WORLD])
        da = xr.concat([da, world], dim="region", coords="minimal", compat="override")
    other = [str(d) for d in da.dims if d not in ("time", "region")]
    levels = range(len(other) + 1) if additive else [len(other)]
    frames = [
        _frame(da.sum(other[k:], skipna=True, min_count=1), base, unit, other[:k])
        for k in levels
    ]
    table = pd.concat(frames, ignore_index=True)
    years = [c for c in table.columns if c not in IAMC_COLUMNS]
    return table[~table[years].isna().all(axis=1)]


def _table(ds: xr.Dataset, names: Sequence[str], bases: Mapping[str, str], *, model: str | None,
           scenario: str | None, totals: set[str]) -> pd.DataFrame:
    """The IAMC table of ``names`` (``totals``: those that get World and parent totals)."""
    scenario = str(scenario if scenario is not None else ds.attrs.get("scenario", "default"))
    model = str(model if model is not None else ds.attrs.get("model", "mfa"))
    frames = [_rows(ds[n], n, bases[n], totals=n in totals) for n in names]
    if not frames:
        return pd.DataFrame(columns=IAMC_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "Model", model)
    table.insert(1, "Scenario", scenario)
    years = sorted(c for c in table.columns if c not in IAMC_COLUMNS)
    return table[IAMC_COLUMNS + years]


def _by_year(ds: xr.Dataset) -> list[str]:
    return [str(n) for n, v in ds.data_vars.items() if "time" in v.dims and "sample" not in v.dims]


def _data_variables(ds: xr.Dataset) -> list[str]:
    """Variables of the data table: those with ``attrs["iamc_variable"]``, or all by year when
    the model names none."""
    by_year = _by_year(ds)
    named = [n for n in by_year if ds[n].attrs.get("iamc_variable")]
    return named if any(ds[n].attrs.get("iamc_variable") for n in ds.data_vars) else by_year


def _prefixed(prefix: str, base: str) -> str:
    return f"{prefix}|{base}" if prefix else base


def _prefix(ds: xr.Dataset, prefix: str | None) -> str:
    return str(ds.attrs.get("material") or "") if prefix is None else str(prefix)


def to_iamc(
    ds: xr.Dataset,
    *,
    model: str | None = None,
    scenario: str | None = None,
    variables: Sequence[str] | None = None,
    prefix: str | None = None,
) -> pd.DataFrame:
    """Scenario data as an IAMC wide table, with parent and World totals.

    Parameters
    ----------
    ds : xarray.Dataset
        Results with a ``time`` dim (int years) and ``attrs["units"]`` on each variable.
    model : str, optional
        ``Model`` column; default ``ds.attrs["model"]`` (the model that made the results).
    scenario : str, optional
        ``Scenario`` column; default ``ds.attrs["scenario"]`` or ``"default"``.
    variables : sequence of str, optional
        Variables to include; default those with ``attrs["iamc_variable"]`` (every variable
        with a ``time`` dim and no ``sample`` dim if the model names none).
    prefix : str, optional
        First element of each IAMC variable path; default ``ds.attrs["material"]`` (e.g.
        ``"Nd"``); ``""`` for none.

    Returns
    -------
    pandas.DataFrame
        Columns ``Model, Scenario, Region, Variable, Unit`` then one column per year (int).
        ``Variable`` is ``<prefix>|<name>`` and, one level per dim other than ``time`` and
        ``region``, ``<prefix>|<name>|<label>|...``; ``<name>`` is ``attrs["iamc_variable"]``,
        else the variable name with spaces. Variables without ``region`` are in region
        ``World``. Masses and mass flows of the data table (override with
        ``attrs["iamc_aggregate"] = "sum" | "none"``) also get each parent level as the sum
        of its children and a ``World`` row as the sum over regions (NaN ignored); other
        variables (also those asked for by name that the model does not name for IAMC) get
        only their own rows. Rows that are NaN in every year are dropped.

    Raises
    ------
    MfaError
        Unknown variable names, variables without ``time``, or with a ``sample`` dim.
    """
    if variables is None:
        names = _data_variables(ds)
    else:
        names = [str(n) for n in variables]
        unknown = [n for n in names if n not in ds.data_vars]
        if unknown:
            raise MfaError(
                f"to_iamc: unknown variable(s) {', '.join(map(repr, unknown))}; "
                f"available: {', '.join(map(str, ds.data_vars))}"
            )
    pre = _prefix(ds, prefix)
    bases = {}
    for n in names:
        base = ds[n].attrs.get("iamc_variable") or n.replace("_", " ").capitalize()
        bases[n] = _prefixed(pre, str(base))
    data = set(_data_variables(ds))
    totals = {n for n in names if n in data or ds[n].attrs.get("iamc_aggregate") == "sum"}
    return _table(ds, names, bases, model=model, scenario=scenario, totals=totals)


def iamc_diagnostics(
    ds: xr.Dataset,
    *,
    model: str | None = None,
    scenario: str | None = None,
    prefix: str | None = None,
) -> pd.DataFrame:
    """Everything by year that is not scenario data (:func:`to_iamc`), as an IAMC wide table.

    Parameters
    ----------
    ds : xarray.Dataset
        Results.
    model, scenario, prefix : str, optional
        As in :func:`to_iamc`.

    Returns
    -------
    pandas.DataFrame
        The IAMC columns; ``Variable`` is ``<prefix>|Diagnostics|<variable name>|<label>|...``,
        the values as they are (no World or parent totals: residuals, shares and indices do
        not add up). Empty when every variable by year is scenario data. Variables with a
        ``sample`` dim are left out.
    """
    data = set(_data_variables(ds))
    names = [n for n in _by_year(ds) if n not in data]
    pre = _prefixed(_prefix(ds, prefix), "Diagnostics")
    bases = {n: f"{pre}|{n}" for n in names}
    return _table(ds, names, bases, model=model, scenario=scenario, totals=set())


def _meta(ds: xr.Dataset, table: pd.DataFrame) -> pd.DataFrame:
    """The ``meta`` sheet: one row per model and scenario (``exclude`` and provenance)."""
    keys = ("model_version", "git_commit", "created", "scenario_sha256", "scenario_description")
    pairs = table[["Model", "Scenario"]].drop_duplicates()
    meta = pd.DataFrame({"model": pairs["Model"].to_numpy(), "scenario": pairs["Scenario"].to_numpy(),
                         "exclude": False})
    for key in keys:
        if key in ds.attrs:
            value = ds.attrs[key]
            meta[key] = value if isinstance(value, str | int | float) else json.dumps(value)
    return meta


def write_iamc(
    ds: xr.Dataset,
    path: str | os.PathLike[str],
    *,
    diagnostics: bool = False,
    model: str | None = None,
    scenario: str | None = None,
    outputs: OutputSet | None = None,
) -> Path:
    """Write the IAMC data (or diagnostics) table to CSV or Excel, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        Results.
    path : path-like
        ``.csv``: the table. ``.xlsx``: sheets ``data`` (the table) and ``meta`` (``model``,
        ``scenario``, ``exclude`` and the provenance attributes), read by
        ``pyam.IamDataFrame(path)``; needs the ``excel`` extra.
    diagnostics : bool
        Write :func:`iamc_diagnostics` instead of :func:`to_iamc`.
    model, scenario : str, optional
        As in :func:`to_iamc`.
    outputs : mfa.io.outputs.OutputSet, optional
        Join this set of outputs: the file goes into place only when the set commits.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MfaError
        Another suffix than ``.csv`` or ``.xlsx``; Excel without openpyxl; a file that cannot
        be written.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise MfaError(f"{path}: an IAMC table is written as .csv or .xlsx, not {suffix!r}")
    make = iamc_diagnostics if diagnostics else to_iamc
    table = make(ds, model=model, scenario=scenario)
    buffer = io.BytesIO()
    if suffix == ".csv":
        buffer.write(table.to_csv(index=False).encode("utf-8"))
    else:
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise MfaError('writing Excel files needs openpyxl: pip install "nd-mfa[excel]"') from None
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            table.to_excel(writer, sheet_name="data", index=False)
            _meta(ds, table).to_excel(writer, sheet_name="meta", index=False)
    with joined(outputs) as outs:
        outs.write(outs.file(path), lambda tmp: write_bytes(tmp, buffer.getvalue()))
        checkpoint("iamc")
    return Path(path)
