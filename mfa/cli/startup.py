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

pint imports ``dask.base`` (about 0.1 s with its configuration and widgets) only to let a
quantity wrap a dask array. The command line never makes one: :func:`import_pint_without_dask`
imports pint with dask hidden from it, so that a plain run imports no dask at all. Library users
are not affected: this runs only in the ``mfa`` command.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["defer_dask", "defer_dask_in_xarray", "import_pint_without_dask"]


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


def import_pint_without_dask() -> bool:
    """Import pint with dask hidden, so that pint does not import ``dask.base``.

    Quantities wrapping dask arrays (which the command line never makes) then lack dask's
    collection methods; everything else in pint is unchanged.

    Returns
    -------
    bool
        True if pint was imported here, False if pint or dask was already imported.
    """
    if "pint" in sys.modules or "dask" in sys.modules:
        return False
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        if name == "dask" or name.startswith("dask."):
            return None
        return real(name, package)

    importlib.util.find_spec = find_spec  # pint.compat asks find_spec("dask") on import
    try:
        import pint.compat  # noqa: F401
    finally:
        importlib.util.find_spec = real
    return True


def defer_dask() -> None:
    """Everything this module defers: pint's and xarray's imports of dask."""
    import_pint_without_dask()
    defer_dask_in_xarray()


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
    _defer_is_dask_collection()
    for mod in ("xarray.backends.api", "xarray.backends.writers"):
        m = sys.modules.get(mod)
        if m is not None and getattr(m, "get_dask_scheduler", None) is get_scheduler:
            m.get_dask_scheduler = get_dask_scheduler
    return True


def _defer_is_dask_collection() -> None:
    """xarray's ``is_dask_collection`` imports ``dask.base``; no dask collection exists before
    dask itself is imported, so answer False until then."""
    try:
        from xarray.namedarray import utils
    except ImportError:  # pragma: no cover - other xarray versions
        return
    real = getattr(utils, "is_dask_collection", None)
    if real is None:  # pragma: no cover
        return

    def is_dask_collection(x: Any) -> bool:
        return "dask" in sys.modules and real(x)

    for mod in ("xarray.namedarray.utils", "xarray.core.utils"):
        m = sys.modules.get(mod)
        if m is not None and getattr(m, "is_dask_collection", None) is real:
            m.is_dask_collection = is_dask_collection
