"""How much memory, disk and time a command needs, estimated before it starts.

A mistyped ``--samples 1000000000`` or ``end = 100000`` in ``model.toml`` should not start a
computation that cannot finish: the command line estimates the cost from the size of the
problem (time steps x regions x products x samples) with the per-element costs below, prints
the estimate (always with ``-v``; otherwise when it is large) and refuses to start beyond
:data:`MEMORY_FRACTION` of the available memory, :data:`DISK_FRACTION` of the free disk, or
a computing time of :data:`MAX_SECONDS_RUN` for one scenario (a thousand times the design
target of well under a second: surely a mistake, such as a span of 100,000 years) or
:data:`MAX_SECONDS_ENSEMBLE` for an ensemble, unless ``--force`` is given.

The costs were measured with ``benchmarks/bench_budget.py`` on a 2-core machine (numpy,
OpenBLAS on one thread; see ``benchmarks/README.md``). They are deliberately round and on the
high side: the estimate is a guard against mistakes of orders of magnitude, not a forecast.
The run time grows with the square of the number of years (the stock model's convolution
over cohorts), the memory and the files linearly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

from mfa.analysis.options import MEMORY_STORE_MAX_BYTES, default_chunk
from mfa.core.errors import MfaError
from mfa.io.outputs import existing_ancestor

__all__ = [
    "DISK_FRACTION",
    "MAX_SECONDS_ENSEMBLE",
    "MAX_SECONDS_RUN",
    "MEMORY_FRACTION",
    "MEMORY_TMPDIR",
    "MEMORY_TMPDIR_FRACTION",
    "Estimate",
    "check",
    "estimate_ensemble",
    "estimate_run",
    "problem_size",
    "store_directory",
]

#: Refuse beyond this share of the available memory (MemAvailable) ...
MEMORY_FRACTION = 0.5
#: ... of the free space on the file system of an output or the temporary store ...
DISK_FRACTION = 0.5
#: ... or this many seconds of computing: one scenario (10 min), an ensemble (4 h).
MAX_SECONDS_RUN = 600.0
MAX_SECONDS_ENSEMBLE = 4 * 3600.0
#: A directory held in memory (Linux's shared memory, a tmpfs) for the temporary Monte Carlo
#: store, used when no directory is given and the store takes at most
#: :data:`MEMORY_TMPDIR_FRACTION` of the available memory and of that directory's free space.
MEMORY_TMPDIR = "/dev/shm"
#: Largest share of the available memory and of :data:`MEMORY_TMPDIR`'s free space that a
#: temporary store may take there (:func:`store_directory`).
MEMORY_TMPDIR_FRACTION = 0.25
#: Print the estimate without ``-v`` from these sizes on (1 minute, 10 % of memory or disk).
NOTE_SECONDS, NOTE_FRACTION = 60.0, 0.1

# Measured per-element costs (benchmarks/bench_budget.py); an "element" is one
# (year, region, product) cell of one sample, E = regions x products.
#: Seconds per element and per year squared (stock model convolution): t = C2 * T^2 * E.
SECONDS_PER_ELEMENT_YEAR2 = 2.5e-9
#: Seconds per element (everything linear in the size).
SECONDS_PER_ELEMENT = 2.5e-6
#: Fixed cost of one model run [s] (set-up, checks).
SECONDS_PER_RUN = 0.5
#: Bytes of the results Dataset per element (all result variables, float64).
RESULT_BYTES_PER_ELEMENT = 90.0
#: Peak working memory of the model per element (intermediate arrays, checks).
WORK_BYTES_PER_ELEMENT = 400.0
#: Memory of the process before the model runs (Python, numpy, xarray, pint, parameters).
BASE_BYTES = 250e6
#: Text (CSV, Excel) bytes per result value (8 bytes in memory).
TEXT_BYTES_PER_VALUE = 30.0


@dataclass(frozen=True)
class Estimate:
    """What a command needs (bytes, seconds) and where its files go.

    Attributes
    ----------
    what : str
        The command, e.g. ``"mfa mc: 1000 samples x 71 years x 54 elements"``.
    memory : float
        Peak memory [byte].
    seconds : float
        Computing time [s].
    disk : dict of str to float
        Bytes to write by directory (outputs, temporary store).
    max_seconds : float
        The time limit of this kind of computation.
    """

    what: str
    memory: float
    seconds: float
    disk: dict[str, float]
    max_seconds: float

    def text(self) -> str:
        """One line: memory, disk and time."""
        disk = ", ".join(f"{_bytes(b)} in {d}" for d, b in self.disk.items() if b > 0)
        return (f"{self.what}: about {_bytes(self.memory)} of memory, "
                f"{disk or 'no disk'}, {_duration(self.seconds)}")


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2g} s"
    if seconds < 3600:
        return f"{seconds / 60:.2g} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.2g} h"
    if seconds < 86400 * 365 * 2:
        return f"{seconds / 86400:.3g} days"
    return f"{seconds / (86400 * 365):.3g} years"


def problem_size(params_dir: str | os.PathLike[str] | None) -> tuple[int, int] | None:
    """Years and region x product elements declared in ``model.toml``, read without loading.

    Parameters
    ----------
    params_dir : path-like or None
        Parameter directory (None: the packaged default data).

    Returns
    -------
    tuple of int or None
        ``(n_time, n_elements)``; None when ``model.toml`` cannot be read this simply (the
        loader then reports what is wrong with it).
    """
    import tomllib
    from pathlib import Path

    from mfa.data.params import default_params_dir

    root = Path(params_dir) if params_dir is not None else default_params_dir()
    try:
        doc = tomllib.loads((root / "model.toml").read_text(encoding="utf-8"))
        n_time = int(doc["time"]["end"]) - int(doc["time"]["start"]) + 1
        dims = doc.get("dimensions", {})
        n_elements = max(1, len(dims.get("region", []))) * max(1, len(dims.get("product", [])))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, tomllib.TOMLDecodeError):
        return None
    return (n_time, n_elements) if n_time > 0 else None


def _run_seconds(n_time: int, n_elements: int) -> float:
    """Computing time of one sample [s]."""
    cells = float(n_time) * n_elements
    return SECONDS_PER_ELEMENT_YEAR2 * n_time * cells + SECONDS_PER_ELEMENT * cells


def estimate_run(n_time: int, n_elements: int, *, outputs: dict[str, float] | None = None
                 ) -> Estimate:
    """Cost of one scenario run (``mfa run``).

    Parameters
    ----------
    n_time : int
        Model years.
    n_elements : int
        Regions x products.
    outputs : dict of str to float, optional
        Output directory -> file size in units of the results Dataset (1 for netCDF, about 4
        for CSV tables or Excel, see :func:`text_factor`).

    Returns
    -------
    Estimate
    """
    cells = float(n_time) * n_elements
    result = RESULT_BYTES_PER_ELEMENT * cells
    disk: dict[str, float] = {}
    for d, factor in (outputs or {}).items():
        disk[d] = disk.get(d, 0.0) + factor * result
    return Estimate(
        f"{n_time} years x {n_elements} region-product elements",
        memory=BASE_BYTES + WORK_BYTES_PER_ELEMENT * cells + result,
        seconds=SECONDS_PER_RUN + _run_seconds(n_time, n_elements),
        disk=disk,
        max_seconds=MAX_SECONDS_RUN,
    )


def text_factor() -> float:
    """Size of the CSV tables (or Excel workbook) relative to the results in memory."""
    return TEXT_BYTES_PER_VALUE / 8.0


def estimate_ensemble(n_time: int, n_elements: int, samples: int, *, chunk: int | None,
                      workers: int, store_dir: str | None = None, out_dir: str | None = None,
                      n_factors: int = 0, evaluations: int | None = None) -> Estimate:
    """Cost of a Monte Carlo ensemble (``mfa mc``) or a Sobol analysis (``mfa sensitivity``).

    Parameters
    ----------
    n_time, n_elements : int
        Model years; regions x products.
    samples : int
        Samples kept in the store (Monte Carlo) or 0 (sensitivity keeps only world totals).
    chunk : int or None
        Samples per task (None: ``mfa.analysis.options.default_chunk`` of the estimated
        results per sample, twice that for one worker, as a scheduler that holds one chunk at a
        time takes).
    workers : int
        Tasks running at once (threads).
    store_dir : str, optional
        Directory of the temporary store (Monte Carlo above 128 MiB); None: the one
        :func:`store_directory` chooses (counted as memory if it is :data:`MEMORY_TMPDIR`).
    out_dir : str, optional
        Directory of the netCDF output.
    n_factors : int
        Uncertain parameters (size of ``factor_quantile``).
    evaluations : int, optional
        Model runs (default ``samples``).

    Returns
    -------
    Estimate
    """
    runs = samples if evaluations is None else evaluations
    cells = float(n_time) * n_elements
    per_sample = RESULT_BYTES_PER_ELEMENT * cells
    if chunk is None:  # one worker holds one chunk at a time, the others two
        chunk = default_chunk(per_sample, 1 if workers <= 1 else 2)
    in_flight = min(chunk * max(workers, 1), max(runs, 1))  # samples computed at once
    memory = BASE_BYTES + (WORK_BYTES_PER_ELEMENT * cells + per_sample) * (in_flight + 1)
    store = samples * per_sample
    disk: dict[str, float] = {}
    where, in_memory = (store_directory(store, store_dir) if store > MEMORY_STORE_MAX_BYTES
                        else (None, True))
    if in_memory:
        memory += store
    else:
        disk[str(where)] = store
        memory += samples * 8.0 * cells  # one variable of the ensemble at a time (quantiles)
    if out_dir is not None:
        # quantiles (3) of every variable + world totals per sample (5 x T) + factor quantiles
        disk[out_dir] = disk.get(out_dir, 0.0) + 3 * per_sample + samples * 8.0 * (
            5 * n_time + n_factors)
    seconds = runs * _run_seconds(n_time, n_elements) / max(workers, 1) + SECONDS_PER_RUN
    label = (f"{samples} samples" if evaluations is None else f"{runs} model runs")
    return Estimate(f"{label} x {n_time} years x {n_elements} region-product elements",
                    memory=memory, seconds=seconds, disk=disk,
                    max_seconds=MAX_SECONDS_ENSEMBLE)


def available_memory() -> float:
    """Memory available to a new computation [byte] (``MemAvailable``, else free pages)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def store_directory(nbytes: float, tmpdir: str | os.PathLike[str] | None = None
                    ) -> tuple[str, bool]:
    """Directory for a temporary Monte Carlo store of ``nbytes`` bytes: ``(directory, in memory)``.

    ``tmpdir`` if given (not in memory). Otherwise :data:`MEMORY_TMPDIR` if it is a writable
    directory and the store takes at most :data:`MEMORY_TMPDIR_FRACTION` of the available memory
    and of its free space (joblib puts its memory maps there by the same rule): writing into new
    pages there cost 2-4x less CPU than into the page cache of a file on disk on the 2-core test
    machine (``benchmarks/README.md``). Otherwise the system's temporary directory
    (:func:`tempfile.gettempdir`, ``$TMPDIR``).
    """
    if tmpdir is not None:
        return os.fspath(tmpdir), False
    shm = MEMORY_TMPDIR
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        room = min(available_memory(), free_disk(shm))
        if nbytes <= MEMORY_TMPDIR_FRACTION * room:
            return shm, True
    return tempfile.gettempdir(), False


def free_disk(directory: str | os.PathLike[str]) -> float:
    """Free bytes on the file system of ``directory`` (or of its nearest existing parent)."""
    try:
        return float(shutil.disk_usage(existing_ancestor(directory)).free)
    except OSError:
        return float("inf")


def check(estimate: Estimate, *, force: bool = False, verbose: bool = False) -> str | None:
    """Refuse an estimate beyond the limits; return a note to print, or None.

    Parameters
    ----------
    estimate : Estimate
    force : bool
        Go ahead beyond the limits (the note then says so).
    verbose : bool
        Return the note even for a small estimate.

    Returns
    -------
    str or None
        ``"estimate: ..."`` when ``verbose`` or the estimate is large.

    Raises
    ------
    MfaError
        Beyond a limit without ``force``: the message gives the estimate and the limit.
    """
    memory = available_memory()
    over: list[str] = []
    large = estimate.seconds > NOTE_SECONDS or estimate.memory > NOTE_FRACTION * memory
    if estimate.memory > MEMORY_FRACTION * memory:
        over.append(f"memory {_bytes(estimate.memory)} > {MEMORY_FRACTION:.0%} of the "
                    f"{_bytes(memory)} available")
    for d, need in estimate.disk.items():
        free = free_disk(d)
        large = large or need > NOTE_FRACTION * free
        if need > DISK_FRACTION * free:
            over.append(f"disk {_bytes(need)} in {d} > {DISK_FRACTION:.0%} of the "
                        f"{_bytes(free)} free")
    if estimate.seconds > estimate.max_seconds:
        over.append(f"time {_duration(estimate.seconds)} > {_duration(estimate.max_seconds)}")
    if over and not force:
        raise MfaError(f"too large to start: {estimate.text()}; limit: {'; '.join(over)}. "
                       "Reduce the samples or the years, or pass --force to start anyway")
    if over:
        return f"estimate: {estimate.text()} (beyond the limits: {'; '.join(over)}; --force)"
    if verbose or large:
        return f"estimate: {estimate.text()}"
    return None
