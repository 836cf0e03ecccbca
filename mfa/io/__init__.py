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

from importlib import import_module as _import_module
from typing import Any as _Any

#: Public name -> module (imported on first use: ``mfa.io.outputs`` stays light, it is imported
#: by the command line before numpy, pandas and h5py).
_API = {
    "IAMC_COLUMNS": "mfa.io.results",
    "provenance_attrs": "mfa.io.results",
    "read_results": "mfa.io.results",
    "to_iamc": "mfa.io.results",
    "write_csv_tables": "mfa.io.results",
    "write_excel": "mfa.io.results",
    "write_netcdf": "mfa.io.results",
}
__all__ = sorted(_API)


def __getattr__(name: str) -> _Any:
    if name not in _API:
        raise AttributeError(f"module 'mfa.io' has no attribute {name!r}")
    return getattr(_import_module(_API[name]), name)
