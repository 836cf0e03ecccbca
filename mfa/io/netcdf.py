"""Results to and from netCDF-4 files that follow the CF (1.10) and ACDD (1.3) conventions.

In memory a result has an integer ``time`` coordinate (calendar years) and text labels. In the
file (:func:`write_netcdf`):

- ``time`` is a CF time coordinate: the middle of each calendar year in ``days since
  1970-01-01`` (proleptic Gregorian calendar), with ``time_bnds`` giving the year as the
  interval [1 January, 1 January of the next year). Flows are totals over that year (t/yr);
  stocks are what remains at its end (each variable's ``long_name`` says which);
- text coordinates (``region``, ``product``, ...) are character arrays, the form every netCDF
  reader and CF checker accepts;
- every variable keeps ``units`` and ``long_name``; flows ``source`` and ``target`` (the
  processes they leave and enter), stocks ``process``;
- global attributes: ``Conventions = "CF-1.10, ACDD-1.3"``, the ACDD discovery attributes
  (``title``, ``summary``, ``keywords``, ``creator_name``, ``license``, ``date_created``,
  ``history``, ``time_coverage_*``, ...) and the provenance of :func:`~mfa.io.provenance_attrs`.

:func:`read_results` turns all of this back into the in-memory form (integer years).
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pint
import xarray as xr

from mfa.core.errors import MfaError
from mfa.core.units import unit_string
from mfa.io.outputs import OutputSet, checkpoint, joined, plain_error, write_bytes
from mfa.io.provenance import safe_attrs

__all__ = ["CONVENTIONS", "TIME_UNITS", "read_results", "write_netcdf"]

#: Value of the global ``Conventions`` attribute.
CONVENTIONS = "CF-1.10, ACDD-1.3"
#: Units of the ``time`` coordinate in files (the calendar is ``proleptic_gregorian``).
TIME_UNITS = "days since 1970-01-01 00:00:00"
_EPOCH = np.datetime64("1970-01-01", "D")
#: Attributes of ``time`` in files that :func:`read_results` removes again.
_TIME_ATTRS = ("standard_name", "long_name", "axis", "units", "calendar", "bounds", "comment")


# ---------------------------------------------------------------------------- CF encoding
def _cf_time(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with integer years on ``time`` replaced by a CF time coordinate and bounds."""
    if "time" not in ds.coords or ds["time"].ndim != 1 or ds["time"].dtype.kind not in "iu":
        return ds
    years = np.asarray(ds["time"].values, dtype="int64")
    if years.size == 0 or years.min() < 1 or years.max() > 9998:
        return ds
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype("int64")
    end = (years - 1969).astype("datetime64[Y]").astype("datetime64[D]").astype("int64")
    middle = (start + end) / 2.0
    attrs = {
        "standard_name": "time",
        "long_name": "time (middle of the calendar year)",
        "axis": "T",
        "units": TIME_UNITS,
        "calendar": "proleptic_gregorian",
        "bounds": "time_bnds",
        "comment": "each step is one calendar year, the interval time_bnds: flows are totals "
                   "over the year, stocks are at its end",
    }
    out = ds.assign_coords(time=xr.Variable("time", middle, attrs))
    out["time_bnds"] = xr.Variable(("time", "nv"), np.stack([start, end], axis=1).astype(float))
    return out


def _cf_strings(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    """Encoding that writes text coordinates as character arrays (with a ``long_name``), named
    in the ``coordinates`` attribute of each variable along them (CF 6.1 labels)."""
    encoding = {}
    for name, coord in ds.coords.items():
        if coord.dtype.kind in "UO" and coord.ndim == 1:
            encoding[str(name)] = {"dtype": "S1"}
            coord.attrs.setdefault("long_name", str(name).replace("_", " "))
    for name, var in ds.data_vars.items():
        labels = [str(d) for d in var.dims if d in encoding]
        if labels:
            ds[name].encoding = {**var.encoding, "coordinates": " ".join(labels)}
    return encoding


def _global_attrs(ds: xr.Dataset, attrs: dict[str, Any]) -> dict[str, Any]:
    """``attrs`` with the CF and ACDD global attributes added (a value already given wins)."""
    from mfa import __version__

    out = dict(attrs)
    material = str(out.get("material", "")).strip()
    model = str(out.get("model", "")).strip()
    scenario = str(out.get("scenario", "")).strip()
    created = str(out.get("created") or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    what = f"{material} " if material else ""  # "Nd dynamic ...", else "dynamic ..."
    if "conventions" in out:  # free text from older versions: CF reserves the capitalised name
        note = out.pop("conventions")
        out.setdefault("comment", note)
    summary = (f"Flows and stocks of {what}from a dynamic material-flow analysis"
               f"{f' (model {model})' if model else ''}"
               f"{f', scenario {scenario}' if scenario else ''}.")
    if out.get("scenario_description"):
        summary += f" Scenario: {out['scenario_description']}"
    keywords = ["material flow analysis", "dynamic stock model", "stocks and flows"]
    if material:
        keywords.append(material)
    cf: dict[str, Any] = {
        "Conventions": CONVENTIONS,
        "title": f"{what}dynamic material-flow analysis",
        "summary": summary,
        "keywords": ", ".join(keywords),
        "creator_name": "nd-mfa contributors",
        "creator_type": "group",
        "license": "Model output of nd-mfa (BSD-3-Clause); the input data keep the terms of "
                   "their sources (see parameter_files and the sources of the data)",
        "source": f"nd-mfa {__version__}" + (f", model {model}" if model else ""),
        "product_version": str(out.get("model_version", __version__)),
        "date_created": created,
    }
    if "time" in ds.coords and ds["time"].dtype.kind in "iu" and ds["time"].size:
        first, last = int(ds["time"].min()), int(ds["time"].max())
        cf.update(time_coverage_start=f"{first:04d}-01-01", time_coverage_end=f"{last + 1:04d}-01-01",
                  time_coverage_resolution="P1Y")
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    history = f"{now} written by nd-mfa {__version__}"
    if out.get("history"):
        history = f"{out['history']}\n{history}"
    out["history"] = history
    for key, value in cf.items():
        out.setdefault(key, value)
    out["Conventions"] = CONVENTIONS
    return out


def _netcdf_ready(ds: xr.Dataset) -> tuple[xr.Dataset, dict[str, dict[str, Any]]]:
    """CF copy of ``ds`` (pint data stripped to magnitudes, units in attrs, safe attrs) and the
    encoding to write it with."""
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
        var.attrs = safe_attrs(var.attrs)
    out.attrs = _global_attrs(ds, safe_attrs(ds.attrs))
    out = _cf_time(out)
    encoding = _cf_strings(out)
    for name, var in out.data_vars.items():
        if var.dtype.kind == "f" and var.ndim > 0 and not var.encoding.get("compression"):
            encoding[str(name)] = {"zlib": True, "complevel": 4}
    if "time_bnds" in out:  # coordinates and their bounds have no missing values (CF 7.1)
        encoding["time_bnds"] = {"_FillValue": None}
        encoding["time"] = {"_FillValue": None}
    return out, encoding


# ---------------------------------------------------------------------------- files
def _netcdf_engine() -> str:
    """netCDF4 (the netCDF-C library: about 5x faster to write the results than h5netcdf),
    else h5netcdf with h5py."""
    if importlib.util.find_spec("netCDF4"):
        return "netcdf4"
    if importlib.util.find_spec("h5netcdf") and importlib.util.find_spec("h5py"):
        return "h5netcdf"
    raise MfaError("reading and writing netCDF needs netCDF4: pip install netCDF4")


def _netcdf_bytes(ds: xr.Dataset) -> bytes:
    """The netCDF-4 file of ``ds``, built in memory (so HDF5 never sees a full disk)."""
    ready, encoding = _netcdf_ready(ds)
    engine = _netcdf_engine()
    if engine == "netcdf4":  # netCDF-C builds the file in memory and hands back its bytes
        return bytes(ready.to_netcdf(None, engine=engine, encoding=encoding))
    buffer = io.BytesIO()
    ready.to_netcdf(buffer, engine=engine, encoding=encoding)
    return buffer.getvalue()


def write_netcdf(
    ds: xr.Dataset, path: str | os.PathLike[str], *, outputs: OutputSet | None = None
) -> Path:
    """Write results to a netCDF-4 file that follows CF-1.10 and ACDD-1.3, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        Results; units in each variable's ``attrs["units"]`` (pint-backed data is converted
        to magnitudes with the unit in attrs). An integer ``time`` coordinate is read as
        calendar years.
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
    The file's layout is described in :mod:`mfa.io.netcdf`: a CF time axis with year bounds,
    text coordinates as character arrays, CF/ACDD global attributes (a value given in
    ``ds.attrs``, e.g. ``creator_name`` or ``license``, wins over the default). ``ds`` itself
    is not modified. Engine netCDF4 (the netCDF-C library); if it is missing and h5netcdf
    with h5py is installed, h5netcdf writes the same format. Float variables are
    zlib-compressed. Attributes are made netCDF-safe: dicts, lists of text and None become
    JSON strings, bools become 0/1. The file is built in memory and then written and flushed
    to disk, so a full disk is a plain error ("No space left on device"), never a crash
    inside HDF5.

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


def _years_from_cf(ds: xr.Dataset) -> xr.Dataset:
    """Integer calendar years back on ``time`` (a file of :func:`write_netcdf`)."""
    if "time" not in ds.coords or ds["time"].attrs.get("units") != TIME_UNITS:
        return ds
    days = np.floor(np.asarray(ds["time"].values, dtype=float)).astype("int64")
    years = (_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[Y]").astype("int64") + 1970
    out = ds.drop_vars("time_bnds", errors="ignore")
    attrs = {k: v for k, v in ds["time"].attrs.items() if k not in _TIME_ATTRS}
    return out.assign_coords(time=xr.Variable("time", years, attrs))


def read_results(path: str | os.PathLike[str]) -> xr.Dataset:
    """Read a results file written by :func:`write_netcdf` into memory.

    Parameters
    ----------
    path : path-like
        A netCDF-4 file.

    Returns
    -------
    xarray.Dataset
        Loaded (the file is closed), in the in-memory form: integer years on ``time`` (no
        ``time_bnds``), text coordinates as str. Attributes that were dicts come back as
        JSON strings (``json.loads`` them), bools as 0/1.

    Raises
    ------
    MfaError
        If the file does not exist, is not netCDF, or holds no data variables.
    """
    path = Path(path)
    if not path.is_file():
        raise MfaError(f"results file not found: {path}")
    try:
        with xr.open_dataset(path, engine=_netcdf_engine(), decode_times=False,
                             decode_timedelta=False) as opened:
            ds = opened.load()
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise MfaError(f"{path}: not a netCDF results file ({plain_error(exc)})") from None
    ds = _years_from_cf(ds)
    text = {n: c.values.astype(str) for n, c in ds.coords.items()
            if c.ndim == 1 and c.dtype.kind in "OS"}
    ds = ds.assign_coords({n: xr.Variable(ds[n].dims, v, ds[n].attrs) for n, v in text.items()})
    if not ds.data_vars:
        raise MfaError(f"{path}: the netCDF file holds no data variables: not a results file")
    return ds
