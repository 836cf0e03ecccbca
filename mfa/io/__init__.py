"""Results to and from files: netCDF, CSV and IAMC tables, Excel, provenance (:mod:`mfa.io.results`),
and output sets written all or none (:mod:`mfa.io.outputs`)."""

from mfa.core.lazy import lazy_getattr

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


__getattr__ = lazy_getattr("mfa.io", _API)
