"""Start-up of the command line: keep optional heavy libraries out of runs that do not use them.

xarray asks "is this a dask array?" when it builds any variable, and "which dask scheduler is
active?" when it writes netCDF. With dask installed (the ``dist`` and ``test`` extras) both
questions import dask, and the second also dask.distributed: about 0.4 s of every ``mfa run``,
although a plain run never makes a dask array. Before ``dask.array`` is imported no dask array can exist,
so both answers are known without importing it (pint imports ``dask.base`` when dask is
installed; a dask array needs ``dask.array``). :func:`defer_dask_in_xarray` gives xarray those
answers until dask is imported by someone (a Monte Carlo with ``--scheduler threads``, user
code); from then on xarray's own code answers as usual. Nothing changes if dask is already
imported, or if a future xarray moves these internals (the patch is then skipped).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["defer_dask_in_xarray"]


def _dask_imported() -> bool:
    # pint imports dask.base when dask is installed; dask arrays need dask.array.
    return "dask.array" in sys.modules


class _DeferredDaskModule:
    """Stands in for xarray's cached ``DuckArrayModule("dask")`` until dask is imported."""

    def __init__(self, pycompat: Any, cache: dict) -> None:
        self._pycompat = pycompat
        self._cache = cache

    def __getattr__(self, name: str) -> Any:
        if _dask_imported():  # dask arrays may exist now: let xarray look dask up for real
            real = self._pycompat.DuckArrayModule("dask")
            self._cache["dask"] = real
            return getattr(real, name)
        from packaging.version import Version

        absent = {"module": None, "type": (), "available": False, "version": Version("0.0.0")}
        if name not in absent:
            raise AttributeError(name)
        return absent[name]


def defer_dask_in_xarray() -> bool:
    """Make xarray import dask only once something else has imported it.

    Returns
    -------
    bool
        True if xarray was patched, False if not needed (dask imported or not installed) or
        not possible (unknown xarray internals).
    """
    if _dask_imported():
        return False
    try:
        from xarray.backends import locks
        from xarray.namedarray import pycompat
    except ImportError:  # pragma: no cover - other xarray versions
        return False
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    get_scheduler = getattr(locks, "get_dask_scheduler", None)
    if not isinstance(cache, dict) or "dask" in cache or get_scheduler is None:
        return False
    cache["dask"] = _DeferredDaskModule(pycompat, cache)

    def get_dask_scheduler(get: Any = None, collection: Any = None) -> str | None:
        if not _dask_imported():
            return None  # xarray's own answer when dask is absent
        return get_scheduler(get, collection)

    locks.get_dask_scheduler = get_dask_scheduler
    for mod in ("xarray.backends.api", "xarray.backends.writers"):
        m = sys.modules.get(mod)
        if m is not None and getattr(m, "get_dask_scheduler", None) is get_scheduler:
            m.get_dask_scheduler = get_dask_scheduler
    return True
