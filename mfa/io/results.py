"""Results to and from files: netCDF, CSV tables, IAMC tables and Excel, with provenance.

Every writer is atomic (:mod:`mfa.io.outputs`): it writes to a temporary file (or directory)
next to the target, flushes it to disk and only then moves it into place with
:func:`os.replace`. A run that fails half-way therefore leaves no partial file and never
clobbers an earlier result; several writers can join one :class:`~mfa.io.outputs.OutputSet`
(``outputs=``) so that a whole set of outputs goes into place together or not at all. (A
process killed hard, with SIGKILL, can leave a hidden ``.mfa-XXXXXXXX.tmp`` next to the
target; the target itself is intact.)

netCDF is in :mod:`mfa.io.netcdf`, IAMC tables in :mod:`mfa.io.iamc`, provenance in
:mod:`mfa.io.provenance`; this module writes the CSV file sets and the Excel workbook and
re-exports the rest. Tables are derived from the results Dataset only: each variable keeps
its unit in ``attrs["units"]``, which becomes the ``Unit`` column of IAMC tables and the
``unit`` column of the tidy CSV files.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mfa.core.errors import MfaError
from mfa.io.iamc import IAMC_COLUMNS, iamc_diagnostics, to_iamc, write_iamc  # noqa: F401
from mfa.io.netcdf import read_results, write_netcdf  # noqa: F401
from mfa.io.outputs import OutputSet, checkpoint, joined
from mfa.io.provenance import provenance_attrs  # noqa: F401
from mfa.io.provenance import safe_attrs as _safe_attrs

#: The netCDF, IAMC and provenance functions are re-exported here for older imports;
#: they are documented in their own modules.
__all__ = ["write_csv_tables", "write_excel"]


# ---------------------------------------------------------------------------- tidy tables
def _iamc_variables(ds: xr.Dataset) -> list[str]:
    """Variables that go into the IAMC table of a file set: by year, not by sample."""
    return [str(n) for n, v in ds.data_vars.items() if "time" in v.dims and "sample" not in v.dims]


def _tidy(da: xr.DataArray, name: str) -> pd.DataFrame:
    """Long table of one variable: one column per dim, then value and unit."""
    if da.ndim == 0:
        frame = pd.DataFrame({"value": [da.values.item()]})
    else:
        series = da.reset_coords(drop=True).to_series()
        series.name = "value"
        frame = series.reset_index()
    frame["unit"] = str(da.attrs.get("units", ""))
    return frame


def _metadata(ds: xr.Dataset) -> dict[str, Any]:
    return {
        "attributes": {k: _jsonable(v) for k, v in _safe_attrs(ds.attrs).items()},
        "variables": {
            str(n): {
                "dims": list(map(str, v.dims)),
                **{k: _jsonable(a) for k, a in _safe_attrs(v.attrs).items()},
            }
            for n, v in ds.data_vars.items()
        },
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


_TABLE_RESERVED = ("iamc", "iamc_diagnostics", "metadata")


def _check_table_names(names: Iterable[str]) -> None:
    for n in names:
        if n.lower() in _TABLE_RESERVED:
            raise MfaError(f"variable name {n!r} clashes with the table {n.lower()!r}; rename it")
        if not n or n.startswith(".") or any(c in n for c in '/\\:*?"<>|'):
            raise MfaError(f"variable name {n!r} cannot be a file name; rename it")


def _write_text(path: Path, write: Any) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


def _write_tables(ds: xr.Dataset, directory: Path, iamc: pd.DataFrame, diagnostics: pd.DataFrame,
                  names: list[str]) -> None:
    """Write the table files of :func:`write_csv_tables` into the (temporary) ``directory``."""
    _write_text(directory / "iamc.csv", lambda fh: iamc.to_csv(fh, index=False))
    checkpoint("csv")
    _write_text(directory / "iamc_diagnostics.csv", lambda fh: diagnostics.to_csv(fh, index=False))
    meta = _metadata(ds)
    _write_text(directory / "metadata.json",
                lambda fh: json.dump(meta, fh, indent=2, sort_keys=True))
    for n in names:
        frame = _tidy(ds[n], n)
        _write_text(directory / f"{n}.csv", lambda fh, f=frame: f.to_csv(fh, index=False))


def write_csv_tables(
    ds: xr.Dataset,
    directory: str | os.PathLike[str],
    *,
    scenario: str | None = None,
    model: str | None = None,
    outputs: OutputSet | None = None,
) -> list[Path]:
    """Write results as CSV tables into a directory, atomically.

    Files:

    - ``iamc.csv``: :func:`~mfa.io.iamc.to_iamc`, the scenario data as an IAMC wide table
      (one column per year, parent and World totals);
    - ``iamc_diagnostics.csv``: :func:`~mfa.io.iamc.iamc_diagnostics`, every other variable
      by year (mass-balance residuals, indices, ...) in the same format;
    - ``metadata.json``: dataset attributes (provenance) and each variable's dims and attrs;
    - ``<variable>.csv`` for every data variable: tidy long table with one column per dim,
      then ``value`` and ``unit``.

    Parameters
    ----------
    ds : xarray.Dataset
        Results.
    directory : path-like
        Target directory (created if missing).
    scenario, model : str, optional
        Passed to :func:`to_iamc`.
    outputs : mfa.io.outputs.OutputSet, optional
        Join this set of outputs: the files go into place only when the set commits.

    Returns
    -------
    list of pathlib.Path
        Files written: ``iamc.csv``, ``iamc_diagnostics.csv``, ``metadata.json``, then the
        variables in Dataset order.

    Notes
    -----
    All files are first written into a temporary directory (:class:`mfa.io.outputs.OutputSet`).
    If that fails nothing is left behind and existing files are untouched. A new directory
    is then renamed into place in one step; into an existing directory each file is moved
    with :func:`os.replace` (other files already there are left alone).

    Raises
    ------
    MfaError
        A variable name that cannot be a file name or clashes with ``iamc``, ``iamc_diagnostics`` or ``metadata``;
        a directory that cannot be written.
    """
    names = [str(n) for n in ds.data_vars]
    _check_table_names(names)
    iamc = to_iamc(ds, model=model, scenario=scenario)
    diagnostics = iamc_diagnostics(ds, model=model, scenario=scenario)
    with joined(outputs) as outs:
        target = outs.directory(directory)
        outs.write(target, lambda tmp: _write_tables(ds, tmp, iamc, diagnostics, names))
    files = ["iamc.csv", "iamc_diagnostics.csv", "metadata.json"] + [f"{n}.csv" for n in names]
    return [Path(directory) / f for f in files]


# ---------------------------------------------------------------------------- Excel
# The results workbook (formatted summary, one sheet per variable) is mfa.io.workbook.
from mfa.io.workbook import write_excel  # noqa: E402
