"""Results to and from files: netCDF following CF and ACDD (:mod:`mfa.io.netcdf`), IAMC tables
(:mod:`mfa.io.iamc`), provenance (:mod:`mfa.io.provenance`), CSV file sets and Excel
(:mod:`mfa.io.results`), and output sets written all or none (:mod:`mfa.io.outputs`)."""

from mfa.core.lazy import lazy_getattr

#: Public name -> module (imported on first use: ``mfa.io.outputs`` stays light, it is imported
#: by the command line before numpy, pandas and h5py).
_API = {
    "IAMC_COLUMNS": "mfa.io.iamc",
    "git_commit": "mfa.io.provenance",
    "iamc_diagnostics": "mfa.io.iamc",
    "provenance_attrs": "mfa.io.provenance",
    "read_results": "mfa.io.netcdf",
    "to_iamc": "mfa.io.iamc",
    "write_csv_tables": "mfa.io.results",
    "write_excel": "mfa.io.results",
    "write_iamc": "mfa.io.iamc",
    "write_netcdf": "mfa.io.netcdf",
}
__all__ = sorted(_API)


__getattr__ = lazy_getattr("mfa.io", _API)
