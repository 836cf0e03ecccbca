"""Monte Carlo ensembles and global sensitivity analysis of any model (:mod:`mfa.core.model`).

Projections to 2050 rest on uncertain numbers. Every parameter row in ``params/`` may give a range
(``low``/``high``); this module draws ensembles of parameter sets from those ranges along a
``sample`` dimension, runs the whole model once per chunk of samples (fully vectorised: the stock
models, the supply chain and the indicators broadcast over ``sample``), and reduces the ensemble
to quantiles, exceedance probabilities and Sobol sensitivity indices.

Sampling design
---------------
Uncertain parameters (factors)
    Every parameter of role ``model`` with ``high > low`` somewhere is one factor (or those named
    in ``factors=``). Parameters without a range keep their value and no ``sample`` dim.
One quantile per factor and sample (correlation structure)
    For sample ``i`` each factor ``p`` gets ONE uniform quantile ``u[i, p]`` in (0, 1), applied to
    every element of the parameter (all years, regions, products, stages): the elements of one
    parameter are fully (rank-)correlated, the factors are independent of each other. A range in
    the data usually says "this number is uncertain by so much" (e.g. the magnet mass of an EV,
    or a lifetime), not "each year and region scatters independently"; independent draws per
    element would average the uncertainty away in every total and make hundreds of Sobol
    factors. With one quantile per parameter each parameter is one Sobol factor and its whole
    range reaches the totals.
Distribution (default ``"triangular"``)
    ``triangular(low, mode=value, high)`` element by element, by its inverse CDF at ``u``:
    ``x = low + sqrt(u (high - low)(value - low))`` for ``u < (value - low)/(high - low)``,
    else ``x = high - sqrt((1 - u)(high - low)(high - value))``. It uses all three numbers the
    data give, stays inside the range, puts most weight near the best estimate and allows
    asymmetric ranges. ``"uniform"`` (``x = low + u (high - low)``) is available for a flat
    "anything in the range" reading. Where ``low == high`` the value is returned unchanged
    (bit for bit), so an ensemble with all ranges collapsed equals the deterministic run.
Shares that must sum to 1 (registry ``sum_to_one_over``, e.g. ``production_share`` over regions)
    After sampling, the elements *without* a range are rescaled to take up the rest
    ``1 - sum(sampled elements with a range)``; if nothing without a range is left to take it
    up (all elements have ranges, or the ranged ones alone exceed 1) all elements are divided
    by their sum. So a range on China's mining share moves China's share and scales the other
    regions proportionally; the sums stay 1 to rounding.
Lifetimes
    ``lifetime_mean``/``lifetime_sd`` are factors like any other: every sample has its own
    lifetime, and :func:`mfa.core.stocks.inflow_driven` uses its convolution form (cohort-independent
    lifetimes, O(T) memory per distinct curve; no ``T x T x sample`` arrays).

Random numbers (reproducible and chunk-invariant)
-------------------------------------------------
``u[i, p]`` is a counter-based draw: the Philox generator keyed by
``SeedSequence([seed, crc32(p)])`` and positioned at sample index ``i`` (:func:`draw_quantiles`).
So the draws depend only on ``(seed, parameter name, sample index)``: not on the chunk size, the
scheduler, the number of workers, nor on which other parameters are uncertain. Each chunk draws
its own samples inside its task; nothing is built in one big array and shipped.

Execution
---------
The ensemble is computed in chunks of ``chunk`` samples. ``scheduler`` selects how:
``"numpy"`` (a plain loop over chunks, no dask needed), ``"threads"`` (dask's threaded
scheduler, the default when dask is installed), ``"sync"`` (dask, one thread; for debugging),
or a dask.distributed scheduler address (``"tcp://host:8786"``) / a ``distributed.Client``.
The chunk results are written into a store as they come: in memory for small ensembles, else
raw files in a temporary directory (``tmpdir``), allocated in full before the first chunk (a
disk too small fails at once) and removed on any error or interruption; the quantiles are then
computed variable by variable from it,
exactly (numpy's default ``linear`` method, over the samples where a value is defined). Memory
stays at a few chunks plus one variable of the ensemble (about 300 MB for
10,000 samples x 71 years x 6 regions x 9 products). With a distributed cluster the workers
return chunk results to the client, which writes them (no shared filesystem needed).

Mass balance is checked per sample (residual against ``rtol`` times that sample's largest
total demand), raising :class:`mfa.core.errors.MassBalanceError` naming the sample.

Output of :func:`monte_carlo`
-----------------------------
* every result variable of the model with a leading ``quantile`` dim (same name and units);
* ``world_<name>`` (quantile, time): quantiles of the world totals of the headline variables
  (exact, from the per-sample totals, not sums of regional quantiles);
* ``sample_world_<name>`` (sample, time): the per-sample world totals themselves;
* ``exceedance_probability`` (threshold, time): P(world total of the first headline variable > threshold);
* ``factor_quantile`` (sample, parameter): the quantile ``u`` drawn for each factor;
* attributes: seed, number of samples, distribution, correlation design, factors, scenario,
  parameter-file hashes and the rest of :func:`mfa.io.provenance_attrs`.

Sensitivity
-----------
:func:`sobol_indices` estimates first-order (``S1``) and total (``ST``) Sobol indices from a
scrambled Sobol' sequence (:class:`scipy.stats.qmc.Sobol`, ``2^m`` base samples, Saltelli's
radial design ``A, B, AB_i``) with the Saltelli (2010) first-order and Jansen (1999) total-effect
estimators, as SALib's ``sobol.analyze`` does, and bootstrap confidence intervals; no extra
package is needed. :func:`sensitivity` applies it to a model (the world totals of its headline
variables in chosen years by default); :func:`mfa.plot.uncertainty.plot_sensitivity` draws the ranking.
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import json
import math
import os
import shutil
import tempfile
import threading
import time as _time
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mfa.analysis.options import (
    DEFAULT_CHUNK,
    DEFAULT_QUANTILES,
    DEFAULT_RTOL,
    DISTRIBUTIONS,
    MAX_SEED,
    UncertaintyError,
)
from mfa.analysis.progress import ProgressBar
from mfa.analysis.run import prepare
from mfa.core.errors import MfaWarning
from mfa.core.model import get as get_model
from mfa.io.outputs import checkpoint, plain_error

__all__ = [
    "DEFAULT_QUANTILES",
    "DISTRIBUTIONS",
    "UncertaintyError",
    "uncertain_parameters",
    "draw_quantiles",
    "sample_values",
    "simulate_samples",
    "ensemble",
    "summarize",
    "exceedance_probability",
    "monte_carlo",
    "sobol_indices",
    "sensitivity",
]

#: Ensembles larger than this many bytes go to a temporary file, not memory (store="auto").
MEMORY_STORE_MAX_BYTES = 512 * 2**20
_LOCAL_SCHEDULERS = {"threads": "threads", "threaded": "threads", "sync": "sync",
                     "synchronous": "sync", "single-threaded": "sync"}
CORRELATION = ("one uniform quantile per parameter and sample, applied to all its elements "
               "(fully correlated over time, regions, products, stages); parameters independent")


# =============================================================================================
# Sampling
# =============================================================================================
def uncertain_parameters(params: Any) -> list[str]:
    """Names of the parameters that have a range (``high > low`` somewhere), registry order.

    Parameters
    ----------
    params : ParameterSet
        Parameters (after a scenario, if any); only parameters of role ``model`` count.

    Returns
    -------
    list of str
    """
    names = []
    registry = getattr(params, "registry", {}) or {}
    for name in params.values.data_vars:
        if registry.get(name, {}).get("role", "model") != "model":
            continue
        lo = np.asarray(params.low[name].values, dtype=float)
        hi = np.asarray(params.high[name].values, dtype=float)
        with np.errstate(invalid="ignore"):
            if bool(np.any(hi > lo)):
                names.append(str(name))
    order = list(registry) if registry else list(params.values.data_vars)
    return sorted(names, key=lambda n: order.index(n) if n in order else len(order))




def _check_seed(seed: Any) -> int:
    if (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
            or not 0 <= int(seed) <= MAX_SEED):
        raise UncertaintyError(f"seed must be a whole number from 0 to {MAX_SEED} (2**63 - 1), "
                               f"got {seed!r}")
    return int(seed)


def draw_quantiles(seed: int, names: Sequence[str], start: int, stop: int) -> np.ndarray:
    """Uniform quantiles ``u`` in (0, 1) for samples ``start .. stop - 1``, one per factor.

    Counter-based: ``u[i, p]`` depends only on ``(seed, names[p], i)``; any split of the
    sample range into chunks gives the same numbers.

    Parameters
    ----------
    seed : int
        Non-negative seed.
    names : sequence of str
        Factor (parameter) names.
    start, stop : int
        Sample index range (``0 <= start <= stop``).

    Returns
    -------
    numpy.ndarray, shape (stop - start, len(names))
    """
    seed = _check_seed(seed)
    start, stop = int(start), int(stop)
    if start < 0 or stop < start:
        raise UncertaintyError(f"sample range must satisfy 0 <= start <= stop, got {start}, {stop}")
    out = np.empty((stop - start, len(names)))
    skip = start % 4  # Philox yields 4 x 64 bit per counter step
    for j, name in enumerate(names):
        key = np.random.SeedSequence([seed, zlib.crc32(str(name).encode())]).generate_state(
            2, np.uint64
        )
        bg = np.random.Philox(key=key)
        bg.advance(start // 4)
        raw = np.asarray(bg.random_raw(stop - start + skip), dtype=np.uint64)[skip:]
        out[:, j] = ((raw >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53
    return out


def _ppf(value: np.ndarray, low: np.ndarray, high: np.ndarray, u: np.ndarray,
         distribution: str) -> np.ndarray:
    """Inverse CDF over [low, high] at quantiles ``u`` (k,) -> shape value.shape + (k,)."""
    v = value[..., None]
    lo = low[..., None]
    hi = high[..., None]
    width = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        if distribution == "triangular":
            frac = (v - lo) / width
            left = lo + np.sqrt(u * width * (v - lo))
            right = hi - np.sqrt((1.0 - u) * width * (hi - v))
            x = np.where(u < frac, left, right)
        else:
            x = lo + u * width
        return np.where(width > 0, x, v)


def _renormalise_share(x: np.ndarray, value: np.ndarray, ranged: np.ndarray, axis: int) -> np.ndarray:
    """Make sampled shares ``x`` (..., sample) sum to 1 over ``axis`` (module docstring)."""
    rng = np.broadcast_to(ranged[..., None], x.shape)
    v = np.broadcast_to(value[..., None], x.shape)
    fixed = np.where(rng, 0.0, np.nan_to_num(v))
    sampled_sum = np.nansum(np.where(rng, x, 0.0), axis=axis, keepdims=True)
    rest = fixed.sum(axis=axis, keepdims=True)
    total = np.nansum(x, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        take_up = (rest > 0) & (sampled_sum <= 1.0)
        scaled_rest = np.where(rng, x, v * (1.0 - sampled_sum) / np.where(rest > 0, rest, 1.0))
        normalised = x / np.where(total > 0, total, 1.0)
    return np.where(take_up, scaled_rest, normalised)


def sample_values(
    params: Any,
    u: np.ndarray,
    names: Sequence[str] | None = None,
    distribution: str = "triangular",
    sample: Sequence[int] | None = None,
) -> xr.Dataset:
    """Parameter values with a ``sample`` dim on the factors, for given quantiles ``u``.

    Parameters
    ----------
    params : ParameterSet
        Values and ranges (``values``, ``low``, ``high``, ``registry``).
    u : numpy.ndarray, shape (n, len(names))
        Quantiles in [0, 1], one per sample and factor (see :func:`draw_quantiles`).
    names : sequence of str, optional
        Factors (default :func:`uncertain_parameters`).
    distribution : {"triangular", "uniform"}
        Distribution over ``[low, high]`` (module docstring).
    sample : sequence of int, optional
        ``sample`` coordinate (default ``0 .. n - 1``).

    Returns
    -------
    xarray.Dataset
        ``params.values`` with the factors replaced by arrays of dims ``(*dims, "sample")``,
        units in attrs unchanged; other parameters unchanged (no ``sample`` dim).
    """
    names = uncertain_parameters(params) if names is None else list(names)
    if distribution not in DISTRIBUTIONS:
        raise UncertaintyError(f"unknown distribution {distribution!r}; expected one of {list(DISTRIBUTIONS)}")
    u = np.asarray(u, dtype=float)
    if u.ndim != 2 or u.shape[1] != len(names):
        raise UncertaintyError(f"quantiles u must have shape (n, {len(names)}), got {u.shape}")
    if u.size and (np.nanmin(u) < 0 or np.nanmax(u) > 1 or not np.isfinite(u).all()):
        raise UncertaintyError("quantiles u must be finite numbers in [0, 1]")
    coord = np.arange(u.shape[0]) if sample is None else np.asarray(sample)
    registry = getattr(params, "registry", {}) or {}
    out = params.values.copy()
    for j, name in enumerate(names):
        base = params.values[name]
        value = np.asarray(base.values, dtype=float)
        low = np.asarray(params.low[name].transpose(*base.dims).values, dtype=float)
        high = np.asarray(params.high[name].transpose(*base.dims).values, dtype=float)
        x = _ppf(value, low, high, u[:, j], distribution)
        dim = registry.get(name, {}).get("sum_to_one_over")
        if dim and dim in base.dims:
            with np.errstate(invalid="ignore"):
                ranged = high > low
            x = _renormalise_share(x, value, ranged, base.dims.index(dim))
        out[name] = xr.DataArray(
            x, dims=(*base.dims, "sample"),
            coords={**{k: c for k, c in base.coords.items()}, "sample": coord},
            attrs=dict(base.attrs), name=name,
        )
    return out


def simulate_samples(
    model: Any,
    params: Any,
    u: np.ndarray,
    names: Sequence[str] | None = None,
    distribution: str = "triangular",
    *,
    sample: Sequence[int] | None = None,
    check: bool = True,
    rtol: float = DEFAULT_RTOL,
) -> xr.Dataset:
    """Run ``model`` for a block of samples at once (vectorised over ``sample``).

    Parameters
    ----------
    model : Model or str
        The model (:mod:`mfa.core.model`) or its registered name.
    params : ParameterSet
        Values and ranges.
    u : numpy.ndarray, shape (n, len(names))
        Quantiles (see :func:`sample_values`).
    names, distribution, sample
        As in :func:`sample_values`.
    check : bool
        Check the mass balance of every sample (:class:`mfa.core.errors.MassBalanceError`).
    rtol : float
        Relative tolerance of the check (against the sample's largest total demand).

    Returns
    -------
    xarray.Dataset
        The model's results; variables depending on a factor carry a ``sample`` dim. The
        model's warnings (:class:`~mfa.core.errors.MfaWarning`) are not repeated per block: the
        quantiles of the results show what they would report.
    """
    model = get_model(model)
    vals = sample_values(params, u, names, distribution, sample=sample)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=MfaWarning)
        # the process system keeps `sample` and checks every sample's balance separately
        return _simulate(model, vals, check=check, rtol=rtol)


def _simulate(model: Any, values: xr.Dataset, *, check: bool, rtol: float) -> xr.Dataset:
    """``model.simulate``, with ``rtol`` for a model whose ``simulate`` takes it.

    The model protocol's ``simulate`` takes only ``check``; a tolerance other than the default
    for a model without an ``rtol`` option is an error, not silently ignored.
    """
    if "rtol" in inspect.signature(model.simulate).parameters:
        return model.simulate(values, check=check, rtol=rtol)
    if rtol != DEFAULT_RTOL:
        raise UncertaintyError(f"rtol: the model {model.name!r} takes no balance tolerance "
                               f"(its simulate has no 'rtol'); leave the default {DEFAULT_RTOL:g}")
    return model.simulate(values, check=check)


# =============================================================================================
# Chunk tasks (module-level functions: picklable for dask.distributed)
# =============================================================================================
class _Payload:
    """What every chunk task needs: the parameters and the options (small, picklable)."""

    def __init__(self, model: Any, params: Any, names: list[str], distribution: str,
                 seed: int | None,
                 variables: list[str], template: Mapping[str, tuple[str, ...]],
                 check: bool, rtol: float, u: np.ndarray | None = None,
                 outputs: list[str] | None = None, years: list[int] | None = None) -> None:
        # a minimal stand-in for the ParameterSet (only what sampling needs)
        self.model = model
        self.values = params.values
        self.low = params.low[names] if names else xr.Dataset()
        self.high = params.high[names] if names else xr.Dataset()
        self.registry = {n: {"sum_to_one_over": (getattr(params, "registry", {}) or {})
                             .get(n, {}).get("sum_to_one_over")} for n in names}
        self.names = names
        self.distribution = distribution
        self.seed = seed
        self.variables = variables
        self.template = dict(template)
        self.check = check
        self.rtol = rtol
        self.u = u
        self.outputs = outputs
        self.years = years


def _chunk_u(payload: _Payload, start: int, stop: int) -> np.ndarray:
    if payload.u is not None:
        return payload.u[start:stop]
    return draw_quantiles(payload.seed, payload.names, start, stop)


def _chunk_arrays(payload: _Payload, start: int, stop: int) -> dict[str, np.ndarray]:
    """Simulate samples ``start .. stop - 1``; arrays (k, *dims) per kept variable."""
    u = _chunk_u(payload, start, stop)
    sample = np.arange(start, stop)
    ds = simulate_samples(payload.model, payload, u, payload.names, payload.distribution,
                          sample=sample,
                          check=payload.check, rtol=payload.rtol)
    k = stop - start
    if payload.outputs is not None:
        return {"outputs": _world_outputs(ds, payload.outputs, payload.years, k)}
    out = {}
    for v in payload.variables:
        da = ds[v]
        dims = payload.template[v]
        if "sample" in da.dims:
            arr = da.transpose("sample", *dims).values
        else:
            arr = np.broadcast_to(da.transpose(*dims).values, (k, *da.shape))
        out[v] = np.ascontiguousarray(arr, dtype=float)
    return out


def _world_outputs(ds: xr.Dataset, outputs: list[str], years: list[int], k: int) -> np.ndarray:
    """World totals of ``outputs`` in ``years`` -> (k, len(outputs) * len(years))."""
    cols = []
    for name in outputs:
        da = ds[name].sel(time=years)
        da = da.sum([d for d in da.dims if d not in ("time", "sample")])
        if "sample" not in da.dims:
            da = da.expand_dims(sample=k)
        cols.append(da.transpose("sample", "time").values)
    return np.concatenate(cols, axis=1)


class _Store:
    """Destination of the chunk results: numpy arrays in memory, or one raw float64 file per
    variable in a temporary directory.

    The files are allocated in full when the store opens (``posix_fallocate``), so a disk too
    small fails at once, before any sample is computed, with a plain message; chunks are
    written with ``pwrite`` (no HDF5 library, which crashes on a full disk). ``close`` (also on
    an error or an interruption) removes the directory; writes that arrive afterwards (from
    chunks still running in other threads) are refused.
    """

    def __init__(self, n: int, shapes: Mapping[str, tuple[int, ...]], *, on_disk: bool,
                 tmpdir: str | os.PathLike | None = None) -> None:
        self.n = n
        self.shapes = dict(shapes)
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.done = 0
        self._dir: str | None = None
        self._fds: dict[str, int] = {}
        if on_disk:
            if tmpdir is not None and not Path(tmpdir).is_dir():
                raise UncertaintyError(f"temporary directory {tmpdir} does not exist")
            try:
                self._dir = tempfile.mkdtemp(prefix="mfa-mc-", dir=tmpdir)
                for i, (v, shape) in enumerate(self.shapes.items()):
                    fd = os.open(Path(self._dir) / f"{i}.f8", os.O_RDWR | os.O_CREAT, 0o600)
                    self._fds[v] = fd
                    _allocate(fd, n * int(np.prod(shape)) * 8)
            except OSError as exc:
                where = self._dir or tmpdir or tempfile.gettempdir()
                self.close()
                raise UncertaintyError(f"cannot create the temporary ensemble store in {where}: "
                                       f"{plain_error(exc)}") from None
            self.data: dict[str, np.ndarray] = {}
        else:
            self.data = {v: np.empty((n, *s)) for v, s in self.shapes.items()}

    def write(self, start: int, stop: int, arrays: Mapping[str, np.ndarray]) -> int:
        with self.lock:
            if self.closed.is_set():
                raise UncertaintyError("the ensemble store is closed (run cancelled)")
            for v, arr in arrays.items():
                if not self._fds:
                    self.data[v][start:stop] = arr
                    continue
                row = int(np.prod(self.shapes[v])) * 8
                block = np.ascontiguousarray(arr, dtype="<f8")
                try:
                    _pwrite_all(self._fds[v], memoryview(block).cast("B"), start * row)
                except OSError as exc:
                    raise UncertaintyError(f"cannot write the temporary ensemble store in "
                                           f"{self._dir}: {plain_error(exc)}") from None
            self.done += stop - start
        return stop - start

    def read(self, v: str) -> np.ndarray:
        if not self._fds:
            return self.data[v]
        out = np.empty((self.n, *self.shapes[v]), dtype="<f8")
        view = memoryview(out).cast("B")
        pos = 0
        while pos < len(view):
            k = os.preadv(self._fds[v], [view[pos:]], pos)
            if k == 0:
                raise UncertaintyError(f"the temporary ensemble store in {self._dir} is short")
            pos += k
        return out

    def close(self) -> None:
        with self.lock:
            self.closed.set()
            for fd in self._fds.values():
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._fds = {}
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    def __enter__(self) -> _Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _allocate(fd: int, size: int) -> None:
    """Reserve ``size`` bytes on disk for ``fd`` (ENOSPC now rather than half-way)."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:  # not supported by this file system: a sparse file then
        if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            raise
        os.ftruncate(fd, size)
    except AttributeError:  # pragma: no cover - no posix_fallocate (macOS)
        os.ftruncate(fd, size)


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        k = os.pwrite(fd, data, offset)
        data, offset = data[k:], offset + k


def _chunk_to_store(payload: _Payload, start: int, stop: int, store: _Store) -> int:
    """Task for in-process schedulers: compute one chunk and write it into the store."""
    if store.closed.is_set():  # cancelled: do not start
        return 0
    k = store.write(start, stop, _chunk_arrays(payload, start, stop))
    checkpoint("mc-chunk", until=store.closed)
    return k


# =============================================================================================
# Schedulers
# =============================================================================================
def _require_dask(what: str = "dask") -> None:
    try:
        import dask  # noqa: F401
    except ImportError:
        raise UncertaintyError(
            f"{what} needs the optional dependency dask: pip install 'nd-mfa[dist]' "
            "(or use scheduler='numpy')"
        ) from None


def _default_scheduler() -> str:
    try:
        import dask  # noqa: F401
    except ImportError:
        return "numpy"
    return "threads"


@contextlib.contextmanager
def _executor(scheduler: Any) -> Iterator[tuple[str, Any]]:
    """Yield ``(kind, handle)``: ("numpy", None), ("local", name) or ("distributed", client)."""
    if scheduler is None or scheduler == "auto":
        scheduler = _default_scheduler()
    if isinstance(scheduler, str) and scheduler.lower() == "numpy":
        yield "numpy", None
        return
    if isinstance(scheduler, str) and scheduler.lower() in _LOCAL_SCHEDULERS:
        _require_dask(f"scheduler {scheduler!r}")
        yield "local", _LOCAL_SCHEDULERS[scheduler.lower()]
        return
    try:
        from distributed import Client
    except ImportError:
        Client = None
    if Client is not None and isinstance(scheduler, Client):
        yield "distributed", scheduler
        return
    if not isinstance(scheduler, str) or not (
        "://" in scheduler or (":" in scheduler and scheduler.rsplit(":", 1)[1].isdigit())
    ):
        raise UncertaintyError(
            f"unknown scheduler {scheduler!r}; expected 'numpy', 'threads', 'sync' or a "
            "dask.distributed scheduler address such as 'tcp://host:8786'"
        )
    if Client is None:
        raise UncertaintyError(
            f"scheduler address {scheduler!r} needs dask.distributed: pip install 'nd-mfa[dist]'"
        )
    try:
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise UncertaintyError(f"cannot connect to the dask scheduler at {scheduler}: {exc}") from None
    try:
        yield "distributed", client
    finally:
        client.close()


def _scheduler_label(kind: str, handle: Any) -> str:
    if kind == "numpy":
        return "numpy"
    if kind == "local":
        return f"dask-{handle}"
    return f"dask.distributed ({getattr(handle.scheduler, 'address', '?')})"


def _chunks(n: int, chunk: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk, n)) for s in range(0, n, chunk)]


def _run_chunks(payload: _Payload, n: int, chunk: int, store: _Store, kind: str, handle: Any,
                progress: bool, unit: str = "sample") -> None:
    """Compute all chunks and write them into ``store`` (the only place the executors differ);
    ``progress``: report on the one progress bar (:mod:`mfa.analysis.progress`)."""
    spans = _chunks(n, chunk)
    bar = ProgressBar(n, unit=unit, enabled=progress)
    if kind == "numpy":
        try:
            for s, e in spans:
                bar.update(_chunk_to_store(payload, s, e, store))
        finally:
            bar.close()
    elif kind == "local":
        import dask

        # Each task computes its chunk (drawing its own samples) and writes it into the store,
        # so at most one chunk per thread is alive at a time.
        pay = dask.delayed(payload, traverse=False)
        tasks = [dask.delayed(_chunk_to_store, pure=False)(pay, s, e, store) for s, e in spans]
        ctx: Any = contextlib.nullcontext()
        if bar.active:
            from dask.callbacks import Callback

            chunk_keys = {t.key for t in tasks}

            def done(key: Any, result: Any, *_: Any) -> None:  # the scheduler's thread
                if key in chunk_keys:
                    bar.update(result)

            ctx = Callback(posttask=done)
        try:
            with ctx:
                dask.compute(*tasks, scheduler=handle)
        finally:
            bar.close()
    else:
        from distributed import as_completed

        client = handle
        try:
            pay = client.scatter(payload, broadcast=True, hash=False)
            try:
                nthreads = max(1, sum(client.nthreads().values()))
            except Exception:  # pragma: no cover - defensive
                nthreads = 2
            window = 2 * nthreads  # chunks in flight: bounds the client's memory
            pending = iter(spans)
            futures = {}
            for s, e in pending:
                futures[client.submit(_chunk_arrays, pay, s, e, pure=False)] = (s, e)
                if len(futures) >= window:
                    break
            queue = as_completed(list(futures), loop=client.loop)
            for fut in queue:
                s, e = futures.pop(fut)
                result = fut.result()
                fut.release()
                bar.update(store.write(s, e, result))
                checkpoint("mc-chunk")
                del result
                nxt = next(pending, None)
                if nxt is not None:
                    f2 = client.submit(_chunk_arrays, pay, nxt[0], nxt[1], pure=False)
                    futures[f2] = nxt
                    queue.add(f2)
        finally:
            bar.close()


# =============================================================================================
# Ensembles and their summaries
# =============================================================================================
def _prepare(model: Any, scenario: Any, params: Any) -> Any:
    """ParameterSet for ``scenario`` (name, path, Scenario, or None = params as they are)."""
    return prepare(model, scenario, params)[1]


def _validate(n: int, chunk: int | None, names: Sequence[str] | None, params: Any,
              distribution: str, *, need_range: bool = False) -> tuple[int, int, list[str]]:
    """Check the options; return ``(n, chunk, factors)``.

    Factors must be parameters of role ``model`` (a calibration-only parameter changes no
    result); with ``need_range`` each must have a range somewhere and there must be at least
    one (an ensemble or sensitivity analysis over zero-width ranges reports no uncertainty).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UncertaintyError(f"number of samples must be an integer >= 1, got {n!r}")
    if chunk is None:
        chunk = DEFAULT_CHUNK
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise UncertaintyError(f"chunk size must be an integer >= 1, got {chunk!r}")
    if distribution not in DISTRIBUTIONS:
        raise UncertaintyError(f"unknown distribution {distribution!r}; expected one of {list(DISTRIBUTIONS)}")
    available = list(params.values.data_vars)
    ranged = uncertain_parameters(params)
    valid = f"parameters with a low/high range: {', '.join(ranged) or '(none)'}"
    if names is None:
        names = ranged
    else:
        names = list(dict.fromkeys(names))
        if not names:
            raise UncertaintyError(f"no factors given (an empty list); {valid}")
        unknown = [x for x in names if x not in available]
        if unknown:
            raise UncertaintyError(f"unknown parameter(s) {unknown} in factors; {valid}")
        registry = getattr(params, "registry", {}) or {}
        other = [x for x in names if registry.get(x, {}).get("role", "model") != "model"]
        if other:
            roles = sorted({registry[x]["role"] for x in other})
            raise UncertaintyError(f"factor(s) {other} are {'/'.join(roles)} parameters, not "
                                   f"model inputs: sampling them changes no result; {valid}")
        flat = [x for x in names if x not in ranged]
        if need_range and flat:
            raise UncertaintyError(f"factor(s) {flat} have no uncertainty range (low == high "
                                   f"everywhere): they would add zero-width uncertainty; {valid}")
    if need_range and not names:
        raise UncertaintyError("no uncertain parameters: give low/high ranges in the parameter "
                               "files or choose factors")
    return int(n), int(min(chunk, n)), list(names)


def _template(model: Any, params: Any, variables: Sequence[str] | None,
              check: bool, rtol: float = DEFAULT_RTOL) -> xr.Dataset:
    """Deterministic run (checks the inputs early; gives dims, coords and attrs)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=MfaWarning)
        det = _simulate(model, params.values, check=check, rtol=rtol)
    if variables is not None:
        unknown = [v for v in variables if v not in det.data_vars]
        if unknown:
            raise UncertaintyError(f"unknown result variable(s) {unknown}; known: {list(det.data_vars)}")
        det = det[list(variables)]
    return det


def _compute_ensemble(model: Any, params: Any, n: int, seed: int | None, chunk: int, scheduler: Any,
                      names: list[str], distribution: str, template: xr.Dataset, *,
                      check: bool, rtol: float, progress: bool, store: str,
                      tmpdir: Any, u: np.ndarray | None = None) -> tuple[_Store, str]:
    variables = [str(v) for v in template.data_vars]
    dims = {v: tuple(template[v].dims) for v in variables}
    shapes = {v: tuple(template[v].shape) for v in variables}
    payload = _Payload(model, params, names, distribution, seed, variables, dims, check, rtol,
                       u=u)
    nbytes = n * sum(int(np.prod(s)) for s in shapes.values()) * 8
    if store not in ("auto", "memory", "disk"):
        raise UncertaintyError(f"store must be 'auto', 'memory' or 'disk', got {store!r}")
    on_disk = store == "disk" or (store == "auto" and nbytes > MEMORY_STORE_MAX_BYTES)
    st = _Store(n, shapes, on_disk=on_disk, tmpdir=tmpdir)
    try:
        with _executor(scheduler) as (kind, handle):
            label = _scheduler_label(kind, handle)
            _run_chunks(payload, n, chunk, st, kind, handle, progress)
    except BaseException:
        st.close()
        raise
    return st, label


def _wrap(template: xr.Dataset, v: str, data: np.ndarray, n: int) -> xr.DataArray:
    t = template[v]
    coords = {k: c for k, c in t.coords.items() if set(c.dims) <= set(t.dims)}
    coords["sample"] = np.arange(n)
    return xr.DataArray(data, dims=("sample", *t.dims), coords=coords, attrs=dict(t.attrs), name=v)


def ensemble(
    model: Any,
    params: Any,
    n: int,
    *,
    seed: int = 0,
    chunk: int | None = None,
    scheduler: Any = "numpy",
    factors: Sequence[str] | None = None,
    distribution: str = "triangular",
    variables: Sequence[str] | None = None,
    check: bool = True,
    rtol: float = DEFAULT_RTOL,
    progress: bool = False,
) -> xr.Dataset:
    """The full ensemble in memory: every result variable with a leading ``sample`` dim.

    For small ``n`` (tests, notebooks). Large ensembles: :func:`monte_carlo`, which reduces
    them to quantiles without holding them in memory.

    Parameters
    ----------
    model : Model or str
        The model (:mod:`mfa.core.model`) or its registered name.
    params : ParameterSet
        Parameters (after a scenario).
    n : int
        Number of samples.
    seed : int
        Seed (same seed, same ensemble, whatever the chunk size and scheduler).
    chunk : int, optional
        Samples per task (default 250).
    scheduler : str or distributed.Client
        "numpy", "threads", "sync", a dask.distributed address or client.
    factors : sequence of str, optional
        Parameters to sample (default: all with a range).
    distribution : {"triangular", "uniform"}
    variables : sequence of str, optional
        Result variables to keep (default all).
    check, rtol
        Per-sample mass-balance check.
    progress : bool
        Show a progress bar on stderr (only when it is a terminal: :mod:`mfa.analysis.progress`).

    Returns
    -------
    xarray.Dataset
        Dims ``(sample, ...)``; ``factor_quantile`` (sample, parameter) holds the draws;
        ``attrs`` seed, distribution, factors.
    """
    model = get_model(model)
    seed = _check_seed(seed)
    n, chunk, names = _validate(n, chunk, factors, params, distribution)
    template = _template(model, params, variables, check, rtol)
    st, label = _compute_ensemble(model, params, n, seed, chunk, scheduler, names, distribution,
                                  template, check=check, rtol=rtol, progress=progress,
                                  store="memory", tmpdir=None)
    with st:
        ds = xr.Dataset({v: _wrap(template, v, st.read(v), n) for v in template.data_vars})
    ds["factor_quantile"] = _factor_da(seed, names, n)
    ds.attrs.update(_mc_attrs(seed, n, names, distribution, label))
    ds.attrs.update(model=model.name, material=model.material)
    return ds


def _factor_da(seed: int, names: list[str], n: int) -> xr.DataArray:
    return xr.DataArray(
        draw_quantiles(seed, names, 0, n), dims=("sample", "parameter"),
        coords={"sample": np.arange(n), "parameter": list(names)},
        attrs={"units": "1", "long_name": "uniform quantile drawn for each uncertain parameter"},
    )


def _mc_attrs(seed: int, n: int, names: list[str], distribution: str, label: str) -> dict:
    return {
        "mc_seed": seed,
        "mc_samples": n,
        "mc_distribution": distribution + ("(low, mode=value, high)" if distribution == "triangular"
                                           else "(low, high)"),
        "mc_correlation": CORRELATION,
        "mc_factors": json.dumps(list(names)),
        "mc_rng": "Philox keyed by SeedSequence([seed, crc32(parameter)]), counter = sample index",
        "mc_scheduler": label,
    }


def _quantiles(arr: np.ndarray, q: np.ndarray, block_bytes: int = 64 * 2**20) -> np.ndarray:
    """Quantiles over axis 0 of (n, ...) in column blocks; NaN samples ignored per element."""
    n = arr.shape[0]
    flat = arr.reshape(n, -1)
    m = flat.shape[1]
    out = np.empty((q.size, m))
    step = max(1, block_bytes // max(8 * n, 1))
    for j0 in range(0, m, step):
        block = flat[:, j0:j0 + step]
        res = np.quantile(block, q, axis=0)
        nan_cols = np.flatnonzero(np.isnan(block).any(axis=0))
        if nan_cols.size:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res[:, nan_cols] = np.nanquantile(block[:, nan_cols], q, axis=0)
        out[:, j0:j0 + step] = res
    return out.reshape((q.size, *arr.shape[1:]))


def exceedance_probability(samples: xr.DataArray, thresholds: Sequence[float]) -> xr.DataArray:
    """Probability that ``samples`` exceed each threshold: the share of samples above it.

    Parameters
    ----------
    samples : xarray.DataArray
        Dims ``sample`` plus any (e.g. ``time``); units in attrs.
    thresholds : sequence of float
        In the units of ``samples``.

    Returns
    -------
    xarray.DataArray
        Dims ``(threshold, *other dims)`` [1].
    """
    thr = np.asarray(list(thresholds), dtype=float)
    if thr.ndim != 1 or not np.isfinite(thr).all():
        raise UncertaintyError(f"thresholds must be finite numbers, got {list(thresholds)}")
    t = xr.DataArray(thr, dims="threshold", coords={"threshold": thr},
                     attrs={"units": samples.attrs.get("units", "")})
    p = (samples > t).mean("sample")
    p = p.transpose("threshold", ...)
    p.attrs = {"units": "1", "long_name": f"probability that {samples.name or 'the value'} "
               "exceeds the threshold (share of samples)"}
    p["threshold"].attrs = {"units": samples.attrs.get("units", "")}
    return p


def _world(template: xr.Dataset, v: str, data: np.ndarray) -> np.ndarray:
    """World total per sample and time of variable ``v`` (n, T)."""
    dims = template[v].dims
    axes = tuple(1 + i for i, d in enumerate(dims) if d != "time")
    return data.sum(axis=axes) if axes else data


def summarize(
    store_or_ensemble: Any,
    template: xr.Dataset | None = None,
    *,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    thresholds: Sequence[float] = (),
    world: Sequence[str] | None = None,
) -> xr.Dataset:
    """Quantiles of every result variable, world totals, exceedance probabilities.

    Parameters
    ----------
    store_or_ensemble : xarray.Dataset
        An ensemble from :func:`ensemble` (dims ``(sample, ...)``); internally also a chunk
        store with its ``template``.
    template : xarray.Dataset, optional
        Internal.
    quantiles : sequence of float
        In [0, 1].
    thresholds : sequence of float
        Thresholds [t/yr] of the world total of the first ``world`` variable for
        ``exceedance_probability``.
    world : sequence of str, optional
        Variables whose world totals (sum over every dim but time) are reported per sample and
        as quantiles (default: the ``headline`` of the model named in the ensemble's
        ``attrs["model"]``, else every variable with a mass unit).

    Returns
    -------
    xarray.Dataset
        See the module docstring ("Output of monte_carlo").
    """
    q = _check_quantiles(quantiles)
    if isinstance(store_or_ensemble, xr.Dataset):
        ens = store_or_ensemble
        template = ens.drop_vars(["factor_quantile"], errors="ignore").isel(sample=0, drop=True)
        n = ens.sizes["sample"]
        read = lambda v: np.asarray(ens[v].transpose("sample", *template[v].dims).values)  # noqa: E731
    else:
        st = store_or_ensemble
        n = st.n
        read = st.read
    qcoord = {"quantile": q}
    out = xr.Dataset(coords=qcoord)
    out["quantile"].attrs = {"units": "1", "long_name": "quantile over the Monte Carlo samples "
                             "(numpy 'linear' method)"}
    totals: dict[str, np.ndarray] = {}
    if world is None and isinstance(store_or_ensemble, xr.Dataset) \
            and "model" in store_or_ensemble.attrs:
        world = list(get_model(str(store_or_ensemble.attrs["model"])).headline)
    if world is None:
        world = [str(v) for v in template.data_vars
                 if template[v].attrs.get("units") in ("t/yr", "t") and "time" in template[v].dims]
    worst_residual = 0.0
    for v in template.data_vars:
        t = template[v]
        data = read(v)
        res = _quantiles(data, q)
        coords = {k: c for k, c in t.coords.items() if set(c.dims) <= set(t.dims)}
        out[v] = xr.DataArray(res, dims=("quantile", *t.dims), coords={**coords, **qcoord},
                              attrs=dict(t.attrs))
        if v in world and "time" in t.dims:
            totals[v] = _world(template, v, data)
        if v == "mass_balance_residual":
            worst_residual = float(np.nanmax(np.abs(data))) if data.size else 0.0
        del data
    time = template["time"].values
    for v, w in totals.items():
        units = template[v].attrs.get("units", "")
        long = template[v].attrs.get("long_name", v)
        out[f"sample_world_{v}"] = xr.DataArray(
            w, dims=("sample", "time"), coords={"sample": np.arange(n), "time": time},
            attrs={"units": units, "long_name": f"{long}: world total per sample"})
        out[f"world_{v}"] = xr.DataArray(
            _quantiles(w, q), dims=("quantile", "time"), coords={**qcoord, "time": time},
            attrs={"units": units, "long_name": f"{long}: quantiles of the world total"})
    if len(thresholds):
        first = next((v for v in world if v in totals), None)
        if first is None:
            raise UncertaintyError("exceedance thresholds need a world variable with a time dim")
        p = exceedance_probability(out[f"sample_world_{first}"], thresholds)
        p.attrs["long_name"] = f"probability that the world total of {first} exceeds the threshold"
        p.attrs["variable"] = first
        out["exceedance_probability"] = p
    out.attrs["mc_max_abs_mass_balance_residual"] = worst_residual
    return out


def _check_quantiles(quantiles: Sequence[float]) -> np.ndarray:
    q = np.asarray(list(quantiles), dtype=float)
    if q.ndim != 1 or q.size == 0 or not np.all((q >= 0) & (q <= 1)):
        raise UncertaintyError(f"quantiles must be numbers in [0, 1], got {list(quantiles)}")
    return q


def monte_carlo(
    model: Any,
    params: Any = None,
    n: int = 1000,
    *,
    scenario: Any = "baseline",
    seed: int = 0,
    chunk: int | None = None,
    scheduler: Any = "auto",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    thresholds: Sequence[float] = (),
    factors: Sequence[str] | None = None,
    distribution: str = "triangular",
    variables: Sequence[str] | None = None,
    check: bool = True,
    rtol: float = DEFAULT_RTOL,
    progress: bool = False,
    store: str = "auto",
    tmpdir: str | os.PathLike | None = None,
) -> xr.Dataset:
    """Monte Carlo ensemble of a scenario, reduced to quantiles and world-total samples.

    Parameters
    ----------
    model : Model or str
        The model (:mod:`mfa.core.model`) or its registered name.
    params : ParameterSet, path-like or None
        Parameters or parameter directory (None: the model's default data).
    scenario : str, path-like, Scenario or None
        Scenario applied to ``params`` (None: use ``params`` as given).
    n : int
        Number of samples.
    seed : int
        Seed; the result does not depend on ``chunk`` nor on the scheduler.
    chunk : int, optional
        Samples per task (default 250; memory per task ~ 1.5 MB per sample).
    scheduler : str or distributed.Client
        "auto" (dask threads if installed, else numpy), "numpy", "threads", "sync", a
        dask.distributed address ("tcp://host:8786") or a ``distributed.Client``.
    quantiles : sequence of float
        Quantiles to report (default 5 %, 50 %, 95 %).
    thresholds : sequence of float
        Thresholds [t/yr] of the world total of the model's first headline variable for
        ``exceedance_probability``.
    factors : sequence of str, optional
        Parameters to sample (default: all with a range).
    distribution : {"triangular", "uniform"}
    variables : sequence of str, optional
        Result variables to keep (default all; fewer is faster).
    check, rtol
        Per-sample mass-balance check.
    progress : bool
        Progress bar on stderr (only when it is a terminal: :mod:`mfa.analysis.progress`).
    store : {"auto", "memory", "disk"}
        Where the ensemble waits for the quantiles (auto: disk above 512 MiB).
    tmpdir : path-like, optional
        Directory of the temporary file.

    Returns
    -------
    xarray.Dataset
        Quantiles of every result variable, ``world_*`` quantiles, ``sample_world_*``,
        ``exceedance_probability`` (if thresholds), ``factor_quantile``; provenance attrs.
    """
    from mfa.io import provenance_attrs

    model = get_model(model)
    seed = _check_seed(seed)
    q = _check_quantiles(quantiles)
    p = _prepare(model, scenario, params)
    n, chunk, names = _validate(n, chunk, factors, p, distribution, need_range=True)
    thresholds = [float(x) for x in thresholds]
    if any(not math.isfinite(x) for x in thresholds):
        raise UncertaintyError(f"thresholds must be finite numbers, got {thresholds}")
    t0 = _time.perf_counter()
    template = _template(model, p, variables, check, rtol)
    st, label = _compute_ensemble(model, p, n, seed, chunk, scheduler, names, distribution,
                                  template, check=check, rtol=rtol, progress=progress,
                                  store=store, tmpdir=tmpdir)
    with st:
        out = summarize(st, template, quantiles=q, thresholds=thresholds,
                        world=[v for v in model.headline if v in template.data_vars])
    out["factor_quantile"] = _factor_da(seed, names, n)
    scen_name = p.scenario or (str(scenario) if scenario is not None else "defaults")
    files = dict(getattr(p, "files", {}) or {})
    extra = {
        "title": f"{model.material} dynamic MFA (model {model.name}), Monte Carlo ensemble "
                 f"of scenario {scen_name}",
        "model": model.name,
        "material": model.material,
        "scenario_sha256": json.dumps(dict(getattr(p, "scenario_files", {}) or {})),
        **_mc_attrs(seed, n, names, distribution, label),
        "mc_chunk": chunk,
        "mc_elapsed_seconds": round(_time.perf_counter() - t0, 3),
        "mc_quantile_method": "numpy linear (type 7), over the samples where defined",
        "conventions": f"units in attrs['units'] (pint-readable); {model.material} mass",
    }
    out.attrs.update(provenance_attrs(scen_name, files, extra))
    return out


# =============================================================================================
# Sensitivity
# =============================================================================================
def _sobol_estimates(fA: np.ndarray, fB: np.ndarray, fAB: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S1 (Saltelli 2010) and ST (Jansen 1999); fA, fB (..., n, K), fAB (..., n, D, K)."""
    var = np.var(np.concatenate([fA, fB], axis=-2), axis=-2)  # (..., K)
    with np.errstate(invalid="ignore", divide="ignore"):
        s1 = np.mean(fB[..., None, :] * (fAB - fA[..., None, :]), axis=-3) / var[..., None, :]
        st = 0.5 * np.mean((fA[..., None, :] - fAB) ** 2, axis=-3) / var[..., None, :]
    zero = var[..., None, :] <= 0
    return np.where(zero, np.nan, s1), np.where(zero, np.nan, st)  # (..., D, K)


def sobol_indices(
    func: Callable[[np.ndarray], np.ndarray],
    names: Sequence[str],
    n: int = 256,
    *,
    seed: int = 0,
    n_bootstrap: int = 200,
    conf_level: float = 0.95,
    output_names: Sequence[str] | None = None,
) -> xr.Dataset:
    """First-order and total Sobol indices of ``func`` over independent uniform inputs.

    Parameters
    ----------
    func : callable
        ``func(U)`` with ``U`` of shape (rows, D) in [0, 1) returns (rows,) or (rows, K).
        Transform ``U`` to the input distributions inside ``func``.
    names : sequence of str
        Names of the D inputs.
    n : int
        Base sample size (rounded up to a power of 2); ``func`` is evaluated on
        ``n * (D + 2)`` rows.
    seed : int
        Seed of the scrambled Sobol' sequence and of the bootstrap.
    n_bootstrap : int
        Bootstrap resamples for the confidence intervals.
    conf_level : float
        Confidence level of ``S1_conf``/``ST_conf`` (half widths, normal approximation).
    output_names : sequence of str, optional
        Labels of the K outputs.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` with dims (output, parameter); ``mean`` and
        ``std`` of each output; attrs n_base, n_evaluations, seed, method.
    """
    from scipy.stats import norm, qmc

    seed = _check_seed(seed)
    names = list(names)
    D = len(names)
    if D < 1:
        raise UncertaintyError("sensitivity analysis needs at least one uncertain input")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise UncertaintyError(f"base sample size must be an integer >= 2, got {n!r}")
    m = math.ceil(math.log2(int(n)))
    nb = 2**m
    base = qmc.Sobol(d=2 * D, scramble=True, seed=seed).random_base2(m)
    A, B = base[:, :D], base[:, D:]
    AB = np.repeat(A[None, :, :], D, axis=0)  # (D, n, D)
    for i in range(D):
        AB[i, :, i] = B[:, i]
    U = np.concatenate([A, B, AB.reshape(D * nb, D)], axis=0)
    Y = np.asarray(func(U), dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != U.shape[0]:
        raise UncertaintyError(f"func returned {Y.shape[0]} rows for {U.shape[0]} inputs")
    K = Y.shape[1]
    fA, fB = Y[:nb], Y[nb:2 * nb]
    fAB = Y[2 * nb:].reshape(D, nb, K).transpose(1, 0, 2)  # (n, D, K)
    s1, st = _sobol_estimates(fA, fB, fAB)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, nb, size=(int(n_bootstrap), nb))
    b1, bt = _sobol_estimates(fA[idx], fB[idx], fAB[idx])
    z = norm.ppf(0.5 + conf_level / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        c1 = z * np.nanstd(b1, axis=0, ddof=1)
        ct = z * np.nanstd(bt, axis=0, ddof=1)
    outs = list(output_names) if output_names is not None else [f"y{k}" for k in range(K)]
    coords = {"output": outs, "parameter": names}
    dims = ("output", "parameter")
    ds = xr.Dataset(
        {
            "S1": (dims, s1.T, {"units": "1", "long_name": "first-order Sobol index"}),
            "S1_conf": (dims, c1.T, {"units": "1", "long_name": f"{conf_level:.0%} confidence half-width of S1"}),
            "ST": (dims, st.T, {"units": "1", "long_name": "total-effect Sobol index"}),
            "ST_conf": (dims, ct.T, {"units": "1", "long_name": f"{conf_level:.0%} confidence half-width of ST"}),
            "mean": (("output",), Y[: 2 * nb].mean(axis=0), {"long_name": "mean of the output"}),
            "std": (("output",), Y[: 2 * nb].std(axis=0), {"long_name": "standard deviation of the output"}),
        },
        coords=coords,
    )
    ds.attrs.update({
        "n_base": nb, "n_evaluations": int(U.shape[0]), "seed": seed,
        "method": "Saltelli (2010) first-order and Jansen (1999) total-effect estimators on a "
                  "scrambled Sobol' sequence (scipy.stats.qmc.Sobol), radial A/B/AB_i design; "
                  f"bootstrap ({n_bootstrap} resamples) confidence intervals",
    })
    return ds


def sensitivity(
    model: Any,
    params: Any = None,
    n: int = 256,
    *,
    scenario: Any = "baseline",
    seed: int = 0,
    outputs: Sequence[str] | None = None,
    years: Sequence[int] = (2030, 2050),
    factors: Sequence[str] | None = None,
    distribution: str = "triangular",
    chunk: int | None = None,
    scheduler: Any = "auto",
    n_bootstrap: int = 200,
    progress: bool = False,
) -> xr.Dataset:
    """Sobol indices of a model's world outputs with respect to the uncertain parameters.

    Each uncertain parameter is one factor (one quantile for all its elements, as in
    :func:`monte_carlo`). The model runs on ``n * (D + 2)`` parameter sets, chunked and
    vectorised like the Monte Carlo ensembles; each chunk keeps only the outputs.

    Parameters
    ----------
    model, params, scenario
        As in :func:`monte_carlo`.
    n : int
        Base sample size, a power of 2 (2, 4, 8, ...).
    seed : int
    outputs : sequence of str, optional
        Result variables; their world totals (sum over all dims but time) are analysed
        (default: the model's ``headline``).
    years : sequence of int
        Years analysed.
    factors, distribution, chunk, scheduler, progress
        As in :func:`monte_carlo`.
    n_bootstrap : int
        Bootstrap resamples for the confidence intervals.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` with dims (output, year, parameter); ``mean``
        and ``std`` (output, year); provenance attrs.
    """
    from mfa.io import provenance_attrs

    model = get_model(model)
    seed = _check_seed(seed)
    _check_base_samples(n)
    p = _prepare(model, scenario, params)
    _, chunk, names = _validate(2**31, chunk, factors, p, distribution, need_range=True)
    template = _template(model, p, None, True)
    if outputs is None:
        outputs = list(model.headline)
    years = [int(y) for y in years]
    model_years = set(template["time"].values.tolist())
    bad = [y for y in years if y not in model_years]
    if bad or not years:
        raise UncertaintyError(f"years {bad or years} are not model years "
                               f"({min(model_years)}..{max(model_years)})")
    outputs = list(outputs)
    for o in outputs:
        if o not in template.data_vars:
            raise UncertaintyError(f"unknown output {o!r}; known: {list(template.data_vars)}")
        t = template[o]
        if "time" not in t.dims:
            raise UncertaintyError(f"output {o!r} has no time dim")
        if t.attrs.get("units") == "1" and t.ndim > 1:
            raise UncertaintyError(f"output {o!r} is a share by {[d for d in t.dims if d != 'time']}; "
                                   "its world sum is meaningless")
    label = {}

    def evaluate(U: np.ndarray) -> np.ndarray:
        rows = U.shape[0]
        payload = _Payload(model, p, names, distribution, None, [], {}, True, DEFAULT_RTOL, u=U,
                           outputs=outputs, years=years)
        st = _Store(rows, {"outputs": (len(outputs) * len(years),)}, on_disk=False)
        with _executor(scheduler) as (kind, handle):
            label["s"] = _scheduler_label(kind, handle)
            _run_chunks(payload, rows, min(chunk, rows), st, kind, handle, progress,
                        unit="model run")
        return st.read("outputs")

    flat = [f"{o}@{y}" for o in outputs for y in years]
    si = sobol_indices(evaluate, names, n, seed=seed, n_bootstrap=n_bootstrap, output_names=flat)
    out = xr.Dataset(coords={"output": outputs, "year": years, "parameter": names})
    for v in ("S1", "S1_conf", "ST", "ST_conf"):
        out[v] = xr.DataArray(si[v].values.reshape(len(outputs), len(years), len(names)),
                              dims=("output", "year", "parameter"), attrs=si[v].attrs)
    for v in ("mean", "std"):
        out[v] = xr.DataArray(si[v].values.reshape(len(outputs), len(years)),
                              dims=("output", "year"), attrs={**si[v].attrs, "units": "t/yr"})
    scen_name = p.scenario or (str(scenario) if scenario is not None else "defaults")
    out.attrs.update(provenance_attrs(scen_name, dict(getattr(p, "files", {}) or {}), {
        "title": f"Sobol sensitivity of the model {model.name} ({model.material}), "
                 f"scenario {scen_name}",
        "model": model.name,
        "material": model.material,
        **{k: v for k, v in si.attrs.items()},
        "outputs": "world totals (sum over all dims but time) of the output variables",
        "mc_distribution": distribution,
        "mc_correlation": CORRELATION,
        "mc_scheduler": label.get("s", ""),
    }))
    return out


def _check_base_samples(n: Any) -> int:
    """The base sample size of :func:`sensitivity`: a power of 2 from 2 (no silent rounding)."""
    if (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2
            or int(n) & (int(n) - 1)):
        raise UncertaintyError(f"base sample size must be a power of 2 (2, 4, 8, ..., 256, 512, "
                               f"...), got {n!r}")
    return int(n)
