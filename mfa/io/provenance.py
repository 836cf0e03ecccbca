"""Where a result came from: versions, input hashes, the git commit, as netCDF-safe attributes."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any

import numpy as np
import pint

from mfa.io._git import git_commit

__all__ = ["git_commit", "provenance_attrs", "safe_attrs"]

#: Libraries whose versions go into the provenance attributes.
_LIBRARIES = ("numpy", "scipy", "xarray", "pandas", "pint", "netCDF4")


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
    if isinstance(value, os.PathLike | pint.Unit):
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


def safe_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """netCDF-safe copy of an attribute mapping: dicts, lists of text and None become JSON
    strings, bools become ints, numpy scalars become Python numbers, paths and units text."""
    return {str(k): _safe_attr(v) for k, v in attrs.items()}


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
        ``2025-01-31T12:00:00Z``), ``python_version``, ``library_versions`` (JSON object
        of numpy, scipy, xarray, pandas, pint, netCDF4 versions) and, when the package runs
        from a git checkout, ``git_commit`` (:func:`git_commit`).
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
    commit = git_commit()
    if commit:
        attrs["git_commit"] = commit
    attrs.update(safe_attrs(extra or {}))
    return attrs
