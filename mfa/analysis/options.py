"""Defaults and limits of the ensemble options (light: read when the command line is built)."""

from __future__ import annotations

from mfa.core.errors import MfaError

__all__ = ["CHUNK_RESULT_BYTES", "DEFAULT_QUANTILES", "DEFAULT_RTOL", "DISTRIBUTIONS", "MAX_SEED", "MEMORY_STORE_MAX_BYTES",
           "UncertaintyError", "default_chunk"]

#: Quantiles reported by default.
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.5, 0.95)
#: Sampling distributions over ``[low, high]``.
DISTRIBUTIONS: tuple[str, ...] = ("triangular", "uniform")
#: Default tolerance of the per-sample mass-balance check, relative to throughput [1].
DEFAULT_RTOL = 1e-9
#: Results of one chunk [bytes] when its size is not given (nor the model's ``mc_chunk``): the
#: default chunk is this over the model's results per sample (:func:`default_chunk`), so that
#: a chunk's memory (about twice its results) does not grow with the horizon or the regions.
#: The Nd baseline (1980-2050, 412 KiB a sample) gets 238 samples: its 10,000-sample Monte
#: Carlo then peaks at about 0.51 GiB with two forked workers (target 0.6 GiB; 198 samples:
#: 0.45 GiB and ~6 % more time, a chunk's fixed cost spread over fewer samples). The plain
#: loop holds one chunk, not two: its default chunk is twice as large (476 samples, 0.47 GiB).
CHUNK_RESULT_BYTES = 96 * 2**20
#: Largest seed: seeds are stored as 64-bit signed integers (netCDF attribute ``mc_seed``).
MAX_SEED = 2**63 - 1
#: Ensembles larger than this many bytes go to a temporary file, not memory (store="auto").
#: 128 MiB (about 400 samples of the Nd baseline) keeps peak memory flat in the sample count
#: from there on: the summary reads the file in column blocks (issue 15).
MEMORY_STORE_MAX_BYTES = 128 * 2**20


class UncertaintyError(MfaError):
    """A Monte Carlo or sensitivity option is wrong (sample count, seed, quantiles, names...)."""


def default_chunk(result_bytes_per_sample: float, chunks_alive: int = 2) -> int:
    """Samples per chunk whose results take about :data:`CHUNK_RESULT_BYTES` (at least 1),
    sized for two chunks in memory at once: twice as many for a scheduler that holds one
    (``chunks_alive`` = 1, the plain loop), in the same memory.

    Parameters
    ----------
    result_bytes_per_sample : float
        Bytes of one sample's results (every result variable, float64) [bytes].
    chunks_alive : int
        Chunks the scheduler holds in memory at once (1 or 2).
    """
    chunk = max(1, int(CHUNK_RESULT_BYTES // max(float(result_bytes_per_sample), 1.0)))
    return chunk * 2 // max(int(chunks_alive), 1)
