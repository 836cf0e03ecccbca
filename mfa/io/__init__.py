"""Results to and from files: netCDF, CSV and IAMC tables, Excel, provenance (:mod:`mfa.io.results`),
and output sets written all or none (:mod:`mfa.io.outputs`)."""

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
