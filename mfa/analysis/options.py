"""Defaults and limits of the ensemble options (light: read when the command line is built)."""

from __future__ import annotations

from mfa.core.errors import MfaError

__all__ = ["DEFAULT_CHUNK", "DEFAULT_QUANTILES", "DEFAULT_RTOL", "DISTRIBUTIONS", "MAX_SEED", "MEMORY_STORE_MAX_BYTES",
           "UncertaintyError"]

#: Quantiles reported by default.
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.5, 0.95)
#: Sampling distributions over ``[low, high]``.
DISTRIBUTIONS: tuple[str, ...] = ("triangular", "uniform")
#: Default tolerance of the per-sample mass-balance check, relative to throughput [1].
DEFAULT_RTOL = 1e-9
#: Default chunk size (samples per task): with the default two workers (two chunks alive) the
#: Nd model's 10,000-sample Monte Carlo peaks at 552 MiB forked (PSS), 473 MiB on threads
#: (chunk 250 on threads: 579 MiB; target 0.6 GiB).
DEFAULT_CHUNK = 200
#: Largest seed: seeds are stored as 64-bit signed integers (netCDF attribute ``mc_seed``).
MAX_SEED = 2**63 - 1
#: Ensembles larger than this many bytes go to a temporary file, not memory (store="auto").
#: 128 MiB (about 400 samples of the Nd baseline) keeps peak memory flat in the sample count
#: from there on: the summary reads the file in column blocks (issue 15).
MEMORY_STORE_MAX_BYTES = 128 * 2**20


class UncertaintyError(MfaError):
    """A Monte Carlo or sensitivity option is wrong (sample count, seed, quantiles, names...)."""
