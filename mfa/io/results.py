"""Results to and from files: netCDF, CSV tables, IAMC tables and Excel, with provenance.

Every writer is atomic (:mod:`mfa.io.outputs`): it writes to a temporary file (or directory)
next to the target, flushes it to disk and only then moves it into place with
:func:`os.replace`. A run that fails half-way therefore leaves no partial file and never
clobbers an earlier result; several writers can join one :class:`~mfa.io.outputs.OutputSet`
(``outputs=``) so that a whole set of outputs goes into place together or not at all. (A
process killed hard, with SIGKILL, can leave a hidden ``.mfa-XXXXXXXX.tmp`` next to the
target; the target itself is intact.)

Tables are derived from the results Dataset only: each variable keeps its unit in
``attrs["units"]``, which becomes the ``Unit`` column of IAMC tables and the ``unit`` column
of the tidy CSV files.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import io
import json
import math
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pint
import xarray as xr

from mfa.core.errors import MfaError
from mfa.core.units import parse_unit, unit_string, ureg
from mfa.io.outputs import OutputSet, checkpoint, joined, plain_error, write_bytes

__all__ = [
    "IAMC_COLUMNS",
    "provenance_attrs",
    "read_results",
    "to_iamc",
    "write_csv_tables",
    "write_excel",
    "write_netcdf",
]

#: Leading columns of an IAMC wide table; one column per year follows.
IAMC_COLUMNS = ["Model", "Scenario", "Region", "Variable", "Unit"]

#: Libraries whose versions go into the provenance attributes.
_LIBRARIES = ("numpy", "scipy", "xarray", "pandas", "pint", "h5netcdf")



# ---------------------------------------------------------------------------- attributes
def _safe_attr(value: Any) -> Any:
    """One attribute value in a form netCDF stores (str, number or 1-D numeric array)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str | int | float):
        return value
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, Path | pint.Unit):
        return str(value)
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iuf":
        return value
    if (
        isinstance(value, list | tuple)
        and value
        and all(
            isinstance(v, int | float | np.integer | np.floating)
            and not isinstance(v, bool | np.bool_)
            for v in value
        )
    ):
        return np.asarray(value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return json.dumps(value, sort_keys=True, default=str)


def _safe_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """netCDF-safe copy of an attribute mapping: dicts, lists of text and None become JSON
    strings, bools become ints, numpy scalars become Python numbers."""
    return {str(k): _safe_attr(v) for k, v in attrs.items()}


def _netcdf_ready(ds: xr.Dataset) -> xr.Dataset:
    """Copy of ``ds`` with pint data stripped to magnitudes (unit in attrs) and safe attrs."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"expected an xarray.Dataset, got {type(ds).__name__}")
    out = ds.copy(deep=False)
    for name in list(out.data_vars):
        data = out[name].data
        if isinstance(data, pint.Quantity):
            attrs = {**out[name].attrs, "units": unit_string(data.units)}
            out[name] = out[name].copy(data=np.asarray(data.magnitude))
            out[name].attrs = attrs
    for var in out.variables.values():
        var.attrs = _safe_attrs(var.attrs)
    out.attrs = _safe_attrs(ds.attrs)
    return out


def provenance_attrs(
    scenario: str, files: Mapping[str, str], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Attributes that say where a result came from (netCDF-safe).

    Parameters
    ----------
    scenario : str
        Scenario name.
    files : mapping of str to str
        Parameter file name -> SHA-256 hex digest of its content.
    extra : mapping, optional
        More attributes (e.g. ``scenario_sha256``); made netCDF-safe and added last, so they
        win on a name clash.

    Returns
    -------
    dict
        ``scenario``, ``model_version`` (``mfa.__version__``), ``parameter_files`` (JSON
        object name -> sha256, sorted by name), ``created`` (ISO 8601 UTC, seconds, e.g.
        ``2025-01-31T12:00:00Z``), ``python_version`` and ``library_versions`` (JSON object
        of numpy, scipy, xarray, pandas, pint, h5netcdf versions).
    """
    from mfa import __version__

    libraries = {}
    for lib in _LIBRARIES:
        try:
            libraries[lib] = _dist_version(lib)
        except PackageNotFoundError:
            continue
    created = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
    attrs: dict[str, Any] = {
        "scenario": str(scenario),
        "model_version": __version__,
        "parameter_files": json.dumps({str(k): str(v) for k, v in sorted(files.items())}),
        "created": created.replace("+00:00", "Z"),
        "python_version": platform.python_version(),
        "library_versions": json.dumps(libraries, sort_keys=True),
    }
    attrs.update(_safe_attrs(extra or {}))
    return attrs


# ---------------------------------------------------------------------------- netCDF
def _netcdf_engine() -> str:
    """h5netcdf when it can run (it needs h5py since h5netcdf 1.8), else netCDF4."""
    if importlib.util.find_spec("h5netcdf") and importlib.util.find_spec("h5py"):
        return "h5netcdf"
    if importlib.util.find_spec("netCDF4"):
        return "netcdf4"
    raise MfaError("reading and writing netCDF needs h5netcdf with h5py: pip install h5netcdf h5py")


def _netcdf_bytes(ds: xr.Dataset) -> bytes:
    """The netCDF-4 file of ``ds``, built in memory (so HDF5 never sees a full disk)."""
    ready = _netcdf_ready(ds)
    encoding = {
        name: {"zlib": True, "complevel": 4}
        for name, var in ready.data_vars.items()
        if var.dtype.kind == "f" and var.ndim > 0 and not var.encoding.get("compression")
    }
    buffer = io.BytesIO()
    ready.to_netcdf(buffer, engine=_netcdf_engine(), encoding=encoding)
    return buffer.getvalue()


def write_netcdf(
    ds: xr.Dataset, path: str | os.PathLike[str], *, outputs: OutputSet | None = None
) -> Path:
    """Write results to a netCDF-4 file, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        Results; units in each variable's ``attrs["units"]`` (pint-backed data is converted
        to magnitudes with the unit in attrs).
    path : path-like
        Target file; parent directories are created. An existing file is replaced only when
        the new one is complete.
    outputs : mfa.io.outputs.OutputSet, optional
        Join this set of outputs: the file goes into place only when the set commits.

    Returns
    -------
    pathlib.Path
        The path written.

    Notes
    -----
    Engine h5netcdf with h5py (no netCDF-C library needed); if h5py is missing and netCDF4
    is installed, netCDF4 writes the same format. Float variables are zlib-compressed.
    Attributes are made netCDF-safe: dicts, lists of text and None become JSON strings,
    bools become 0/1. The file is built in memory and then written and flushed to disk, so
    a full disk is a plain error ("No space left on device"), never a crash inside HDF5.

    Raises
    ------
    MfaError
        If the file cannot be written (directory, permissions, disk).
    """
    data = _netcdf_bytes(ds)
    with joined(outputs) as outs:
        outs.write(outs.file(path), lambda tmp: write_bytes(tmp, data))
        checkpoint("netcdf")
    return Path(path)


def read_results(path: str | os.PathLike[str]) -> xr.Dataset:
    """Read a results file written by :func:`write_netcdf` into memory.

    Parameters
    ----------
    path : path-like
        A netCDF-4 file.

    Returns
    -------
    xarray.Dataset
        Loaded (the file is closed). Attributes that were dicts come back as JSON strings
        (``json.loads`` them), bools as 0/1.

    Raises
    ------
    MfaError
        If the file does not exist, is not netCDF, or holds no data variables.
    """
    path = Path(path)
    if not path.is_file():
        raise MfaError(f"results file not found: {path}")
    try:
        with xr.open_dataset(path, engine=_netcdf_engine(), decode_timedelta=False) as opened:
            ds = opened.load()
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise MfaError(f"{path}: not a netCDF results file ({plain_error(exc)})") from None
    if not ds.data_vars:
        raise MfaError(f"{path}: the netCDF file holds no data variables: not a results file")
    return ds


# ---------------------------------------------------------------------------- IAMC
def _iamc_base(name: str, attrs: Mapping[str, Any], prefix: str | None) -> str:
    base = attrs.get("iamc_variable")
    if not base:
        if name.startswith("flow_"):
            base = "Flow|" + name.removeprefix("flow_")
        else:
            text = name.replace("_", " ")
            base = text[:1].upper() + text[1:]
    return f"{prefix}|{base}" if prefix else str(base)


def _is_additive(name: str, attrs: Mapping[str, Any]) -> bool:
    """Whether summing over regions makes sense: masses and mass flows (not shares)."""
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


def _iamc_rows(
    da: xr.DataArray, name: str, *, model: str, scenario: str, prefix: str | None
) -> pd.DataFrame:
    if "sample" in da.dims:
        raise MfaError(
            f"variable {name!r} has a 'sample' dim: summarise the ensemble first "
            "(e.g. ds.median('sample') or ds.quantile([0.05, 0.5, 0.95], 'sample'))"
        )
    if "time" not in da.dims:
        raise MfaError(f"variable {name!r} has no 'time' dim: IAMC tables are by year")
    attrs = da.attrs
    if "region" in da.dims:
        labels = [str(r) for r in da["region"].values]
        if _is_additive(name, attrs) and "World" not in labels:
            world = da.sum("region", skipna=True, min_count=1).expand_dims(region=["World"])
            da = xr.concat([da, world], dim="region", coords="minimal", compat="override")
    else:
        da = da.expand_dims(region=["World"])
    other = [d for d in da.dims if d not in ("time", "region")]
    da = da.transpose("region", *other, "time")
    years = [int(y) for y in da["time"].values]
    values = np.asarray(da.values, dtype=float).reshape(-1, len(years))
    index = pd.MultiIndex.from_product([[str(v) for v in da[d].values] for d in ("region", *other)])
    base = _iamc_base(name, attrs, prefix)
    if other:
        variable = [base + "|" + "|".join(labels[1:]) for labels in index]
    else:
        variable = [base] * len(index)
    frame = pd.DataFrame(values, columns=years)
    frame.insert(0, "Model", model)
    frame.insert(1, "Scenario", scenario)
    frame.insert(2, "Region", index.get_level_values(0))
    frame.insert(3, "Variable", variable)
    frame.insert(4, "Unit", str(attrs.get("units", "")))
    return frame[~np.all(np.isnan(values), axis=1)]


def to_iamc(
    ds: xr.Dataset,
    *,
    model: str | None = None,
    scenario: str | None = None,
    variables: Sequence[str] | None = None,
    prefix: str | None = None,
) -> pd.DataFrame:
    """Results as an IAMC wide table.

    Parameters
    ----------
    ds : xarray.Dataset
        Results with a ``time`` dim (int years) and ``attrs["units"]`` on each variable.
    model : str, optional
        ``Model`` column; default ``ds.attrs["model"]`` (the model that made the results).
    scenario : str, optional
        ``Scenario`` column; default ``ds.attrs["scenario"]`` or ``"default"``.
    variables : sequence of str, optional
        Variables to include; default every data variable with a ``time`` dim.
    prefix : str, optional
        First element of each IAMC variable path; default ``ds.attrs["material"]`` (e.g.
        ``"Nd"``); ``""`` for none.

    Returns
    -------
    pandas.DataFrame
        Columns ``Model, Scenario, Region, Variable, Unit`` then one column per year (int).
        ``Variable`` is ``<prefix>|<name>|<label>|...`` with one label per dim other than
        ``time`` and ``region`` (e.g. ``Nd|In-use stock|ev_bev``); ``<name>`` is
        ``attrs["iamc_variable"]`` if set (a model names its results there), else the
        variable name with spaces. ``Region`` is ``"World"`` for variables without
        ``region``; variables with ``region`` also get a ``World`` row (sum over regions,
        NaN ignored) when they are masses or mass flows (override with
        ``attrs["iamc_aggregate"] = "sum" | "none"``). Rows that are NaN in every year are
        dropped.

    Raises
    ------
    MfaError
        Unknown variable names, variables without ``time``, or with a ``sample`` dim.
    """
    scenario = str(scenario if scenario is not None else ds.attrs.get("scenario", "default"))
    model = str(model if model is not None else ds.attrs.get("model", "mfa"))
    if prefix is None:
        prefix = str(ds.attrs.get("material") or "")
    if variables is None:
        names = [str(n) for n, v in ds.data_vars.items() if "time" in v.dims]
    else:
        names = [str(n) for n in variables]
        unknown = [n for n in names if n not in ds.data_vars]
        if unknown:
            raise MfaError(
                f"to_iamc: unknown variable(s) {', '.join(map(repr, unknown))}; "
                f"available: {', '.join(map(str, ds.data_vars))}"
            )
    frames = [_iamc_rows(ds[n], n, model=model, scenario=scenario, prefix=prefix) for n in names]
    if not frames:
        return pd.DataFrame(columns=IAMC_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    years = sorted(c for c in table.columns if c not in IAMC_COLUMNS)
    return table[IAMC_COLUMNS + years]


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


_TABLE_RESERVED = ("iamc", "metadata")


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


def _write_tables(ds: xr.Dataset, directory: Path, iamc: pd.DataFrame, names: list[str]) -> None:
    """Write the table files of :func:`write_csv_tables` into the (temporary) ``directory``."""
    _write_text(directory / "iamc.csv", lambda fh: iamc.to_csv(fh, index=False))
    checkpoint("csv")
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

    - ``iamc.csv``: :func:`to_iamc` (wide, one column per year) of the variables with a
      ``time`` dim and no ``sample`` dim;
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
        Files written: ``iamc.csv``, ``metadata.json``, then the variables in Dataset order.

    Notes
    -----
    All files are first written into a temporary directory (:class:`mfa.io.outputs.OutputSet`).
    If that fails nothing is left behind and existing files are untouched. A new directory
    is then renamed into place in one step; into an existing directory each file is moved
    with :func:`os.replace` (other files already there are left alone).

    Raises
    ------
    MfaError
        A variable name that cannot be a file name or clashes with ``iamc``/``metadata``;
        a directory that cannot be written.
    """
    names = [str(n) for n in ds.data_vars]
    _check_table_names(names)
    iamc = to_iamc(ds, model=model, scenario=scenario, variables=_iamc_variables(ds))
    with joined(outputs) as outs:
        target = outs.directory(directory)
        outs.write(target, lambda tmp: _write_tables(ds, tmp, iamc, names))
    files = ["iamc.csv", "metadata.json"] + [f"{n}.csv" for n in names]
    return [Path(directory) / f for f in files]


# ---------------------------------------------------------------------------- Excel
# The results workbook (formatted summary, one sheet per variable) is mfa.io.workbook.
from mfa.io.workbook import write_excel  # noqa: E402
