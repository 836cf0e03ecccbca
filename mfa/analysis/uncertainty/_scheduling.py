"""Execution of an ensemble in chunks of samples: the work of one chunk, schedulers (dask or in-process), progress."""

from __future__ import annotations

import ast
import contextlib
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mfa.analysis.options import UncertaintyError
from mfa.analysis.progress import ProgressBar
from mfa.analysis.uncertainty._forked import fork_usable, run_forked
from mfa.analysis.uncertainty._sampling import draw_quantiles, factor_ranges, simulate_samples
from mfa.analysis.uncertainty._storage import _Store, to_sample_last
from mfa.analysis.uncertainty._summary import MAX_ABS_KEY, WORLD_KEY, max_abs, world_total
from mfa.core.errors import MfaWarning
from mfa.io.outputs import checkpoint

_LOCAL_SCHEDULERS = {"threads": "threads", "threaded": "threads", "sync": "sync",
                     "synchronous": "sync", "single-threaded": "sync"}


# =============================================================================================
# Chunk tasks (module-level functions: picklable for dask.distributed)
# =============================================================================================
class _Payload:
    """What every chunk task needs: the parameters and the options (small, picklable)."""

    def __init__(self, model: Any, params: Any, names: list[str], distribution: str,
                 seed: int | None,
                 variables: list[str], template: Mapping[str, tuple[str, ...]],
                 check: bool, rtol: float, u: np.ndarray | None = None,
                 outputs: list[str] | None = None, years: list[int] | None = None,
                 world: list[str] | None = None) -> None:
        # a minimal stand-in for the ParameterSet (only what sampling needs)
        self.model = model
        self.values = params.values
        self.low = params.low[names] if names else xr.Dataset()
        self.high = params.high[names] if names else xr.Dataset()
        self.registry = {n: {"sum_to_one_over": (getattr(params, "registry", {}) or {})
                             .get(n, {}).get("sum_to_one_over")} for n in names}
        self.names = names
        #: the factors' ranges, prepared once for every chunk (:func:`factor_ranges`)
        self.factor_ranges = factor_ranges(self, names)
        self.distribution = distribution
        self.seed = seed
        self.variables = variables
        self.template = dict(template)
        self.check = check
        self.rtol = rtol
        self.u = u
        self.outputs = outputs
        self.years = years
        #: variables whose per-sample world totals the tasks add (for the summary)
        self.world = [v for v in (world or []) if "time" in self.template.get(v, ())]


def _chunk_u(payload: _Payload, start: int, stop: int) -> np.ndarray:
    if payload.u is not None:
        return payload.u[start:stop]
    return draw_quantiles(payload.seed, payload.names, start, stop)


def _chunk_arrays(payload: _Payload, start: int, stop: int, quiet: bool = True
                  ) -> dict[str, np.ndarray]:
    """Simulate samples ``start .. stop - 1``; per kept variable its ``(cells, k)`` array in
    the store's sample-last layout (:func:`to_sample_last`), plus the per-sample reductions
    the summary needs (world totals, largest residual), so the summary never holds a whole
    variable of the ensemble. ``quiet``: as in :func:`simulate_samples`."""
    u = _chunk_u(payload, start, stop)
    sample = np.arange(start, stop)
    ds = simulate_samples(payload.model, payload, u, payload.names, payload.distribution,
                          sample=sample, check=payload.check, rtol=payload.rtol, quiet=quiet)
    k = stop - start
    if payload.outputs is not None:
        return {"outputs": to_sample_last(_world_outputs(ds, payload.outputs, payload.years, k))}
    out = {}
    for v in payload.variables:
        var = ds.variables[v]  # no DataArray made per variable
        dims = payload.template[v]
        if "sample" in var.dims:  # the model's results are sample-last: mostly a view
            cols = var.transpose(*dims, "sample").values
        else:
            cols = np.broadcast_to(var.transpose(*dims).values[..., None], (*var.shape, k))
        shape = cols.shape[:-1]
        flat = np.ascontiguousarray(cols, dtype=float).reshape(-1, k)
        if v in payload.world:
            per_sample = np.moveaxis(flat.reshape((*shape, k)), -1, 0)
            out[WORLD_KEY.format(v)] = to_sample_last(world_total(per_sample, dims))
        if v == "mass_balance_residual":
            out[MAX_ABS_KEY.format(v)] = to_sample_last(max_abs(np.moveaxis(flat, -1, 0)))
        out[v] = flat
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


def _chunk_to_store(payload: _Payload, start: int, stop: int, store: _Store,
                    quiet: bool = True) -> int:
    """Task for in-process schedulers: compute one chunk and write it into the store."""
    if store.closed.is_set():  # cancelled: do not start
        return 0
    k = store.write(start, stop, _chunk_arrays(payload, start, stop, quiet), sample_last=True)
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


#: Workers (processes or threads) of the default scheduler (``"auto"``) where two or more
#: cores are usable.
AUTO_WORKERS = 2


def _usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _default_scheduler() -> str:
    """The scheduler of ``"auto"``: where two or more cores are usable, :data:`AUTO_WORKERS`
    forked worker processes (``"fork"``, :mod:`._forked`) where forking is safe (Linux, a
    process with no other thread), else as many threads of the standard library
    (``"pool"``); on one core the plain numpy loop.

    Processes overlap all of two chunks; threads only their numpy work, since the interpreter
    lock is held in xarray's bookkeeping. On the 2-core development machine
    (``benchmarks/bench_mc.py``, 10,000 samples) forked processes were 1.3x the speed of two
    threads and 1.7x that of the loop. Each worker holds one chunk; more workers than cores
    would hold more chunks for nothing.
    """
    if _usable_cores() < 2:
        return "numpy"
    return "fork" if fork_usable() is None else "pool"


def chunks_alive(scheduler: Any) -> int:
    """Chunks that ``scheduler`` holds in memory at once, as the default chunk counts them: one
    in the plain numpy loop (``"numpy"``, or ``"auto"`` on one core) and in dask's ``"sync"``
    scheduler, else :data:`AUTO_WORKERS` (the default chunk is sized for two chunks alive)."""
    if scheduler is None or scheduler == "auto":
        scheduler = _default_scheduler()
    if isinstance(scheduler, str) and (scheduler.lower() == "numpy"
                                       or _LOCAL_SCHEDULERS.get(scheduler.lower()) == "sync"):
        return 1
    return AUTO_WORKERS


def _summary_workers(kind: str, handle: Any = None) -> int:
    """Threads for the quantiles after chunks computed by ``kind`` (``handle``: the local dask
    scheduler's name): :data:`AUTO_WORKERS` after the schedulers that ran chunks in parallel in
    this process or its forks (two blocks of cells in memory), else one (the plain loop, dask's
    ``"sync"``; a cluster's workers are elsewhere)."""
    parallel = kind in ("fork", "pool") or (kind == "local" and handle == "threads")
    return AUTO_WORKERS if parallel else 1


@contextlib.contextmanager
def _executor(scheduler: Any) -> Iterator[tuple[str, Any]]:
    """Yield ``(kind, handle)``: ("numpy", None), ("fork", processes), ("pool", threads),
    ("local", name) or ("distributed", client)."""
    if scheduler is None or scheduler == "auto":
        scheduler = _default_scheduler()
    if scheduler == "pool":
        yield "pool", AUTO_WORKERS
        return
    if isinstance(scheduler, str) and scheduler.lower() == "fork":
        why = fork_usable()
        if why is not None:
            raise UncertaintyError(f"scheduler 'fork': {why}; use 'auto' or 'numpy'")
        yield "fork", AUTO_WORKERS
        return
    if isinstance(scheduler, str) and scheduler.lower() == "numpy":
        yield "numpy", None
        return
    if isinstance(scheduler, str) and scheduler.lower() in _LOCAL_SCHEDULERS:
        _require_dask(f"scheduler {scheduler!r}")
        yield "local", _LOCAL_SCHEDULERS[scheduler.lower()]
        return
    if isinstance(scheduler, str) and scheduler.lower() == "processes":
        with _local_cluster() as client:
            yield "distributed", client
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
            f"unknown scheduler {scheduler!r}; expected 'auto', 'numpy', 'fork', 'threads', "
            "'sync', 'processes' "
            "or a dask.distributed scheduler address such as 'tcp://host:8786'"
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


@contextlib.contextmanager
def _local_cluster() -> Iterator[Any]:
    """A dask.distributed LocalCluster for one run: one single-threaded worker process per
    core (no GIL shared between chunks), closed afterwards."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UncertaintyError("scheduler 'processes' needs dask.distributed: pip install "
                               "'nd-mfa[dist]' (or use scheduler='threads')") from None
    _check_main_guard()
    with LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


def _check_main_guard() -> None:
    """Refuse to start worker processes from a script's unguarded top-level code.

    Worker processes are started by *spawning* Python, which imports the main script again;
    a script that runs the ensemble at its top level would then start it again in every
    worker. Raise a plain message saying what to add, instead of the cascade of errors that
    multiprocessing gives. Interactive sessions, ``python -c`` and notebooks (no script file),
    ``python -m package`` (``python -m mfa mc``) and runs under ``if __name__ == "__main__":``
    pass.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or not os.path.isfile(path):
        return
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name.endswith("__main__"):  # python -m package: never
        return  # re-imported by spawned processes (multiprocessing skips package __main__)
    frame = sys._getframe()
    while frame is not None and not (frame.f_code.co_name == "<module>"
                                     and frame.f_globals.get("__name__") == "__main__"):
        frame = frame.f_back
    if frame is None:
        return
    line = frame.f_lineno
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return
    if any(_is_main_guard(node) and node.lineno <= line <= (node.end_lineno or node.lineno)
           for node in tree.body):
        return
    raise UncertaintyError(
        f"scheduler 'processes' starts worker processes that import the script {path} again, "
        f"and line {line} runs the ensemble at the script's top level: put that code under "
        "`if __name__ == \"__main__\":` (or use scheduler='threads', which needs no guard)")


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either side)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [x.id for x in sides if isinstance(x, ast.Name)]
    values = [x.value for x in sides if isinstance(x, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]


def _scheduler_label(kind: str, handle: Any) -> str:
    if kind == "numpy":
        return "numpy"
    if kind == "pool":
        return f"threads ({handle}, standard library)"
    if kind == "fork":
        return f"processes ({handle}, forked, standard library)"
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
    if kind == "fork":  # the workers are forked before the bar exists (tqdm starts a thread)
        run_forked(payload, spans, store, handle,
                   lambda: ProgressBar(n, unit=unit, enabled=progress))
        return
    bar = ProgressBar(n, unit=unit, enabled=progress)
    try:
        if kind == "numpy":
            for s, e in spans:
                bar.update(_chunk_to_store(payload, s, e, store))
        elif kind == "pool":
            _run_pool(payload, spans, store, handle, bar)
        elif kind == "local":
            _run_local(payload, spans, store, handle, bar)
        else:
            _run_distributed(payload, spans, store, handle, bar)
    finally:
        bar.close()


def _run_pool(payload: _Payload, spans: list[tuple[int, int]], store: _Store, threads: int,
              bar: ProgressBar) -> None:
    """The chunks on ``threads`` threads of the standard library (:func:`_default_scheduler`):
    at most one chunk per thread alive. A failing chunk or an interrupt cancels the chunks not
    yet started and closes the store at once (a running chunk then stops at its next write,
    instead of finishing while the caller waits). The model's warnings are silenced here, once
    for all threads."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with warnings.catch_warnings(), ThreadPoolExecutor(threads, "mfa-chunk") as pool:
        warnings.filterwarnings("ignore", category=MfaWarning)
        futures = [pool.submit(_chunk_to_store, payload, s, e, store, False) for s, e in spans]
        try:
            for fut in as_completed(futures):
                bar.update(fut.result())
        except BaseException:
            for fut in futures:
                fut.cancel()
            store.close()
            raise


def _run_local(payload: _Payload, spans: list[tuple[int, int]], store: _Store, scheduler: Any,
               bar: ProgressBar) -> None:
    """The chunks as dask tasks on a local scheduler (threads, sync)."""
    import dask
    from dask.base import named_schedulers

    # Each task computes its chunk (drawing its own samples) and writes it into the store,
    # so at most one chunk per thread is alive at a time; the model's warnings are silenced
    # once around the threads (warnings.catch_warnings is not thread-safe).
    pay = dask.delayed(payload, traverse=False)
    tasks = [dask.delayed(_chunk_to_store, pure=False)(pay, s, e, store, False)
             for s, e in spans]
    ctx: Any = contextlib.nullcontext()
    if bar.active:
        from dask.callbacks import Callback

        chunk_keys = {t.key for t in tasks}

        def done(key: Any, result: Any, *_: Any) -> None:  # the scheduler's thread
            if key in chunk_keys:
                bar.update(result)

        ctx = Callback(posttask=done)
    with ctx, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=MfaWarning)
        # the function dask's name stands for, not the name: given a name, dask imports
        # distributed (~0.4 s) to look for a client, which a local scheduler does not use
        dask.compute(*tasks, scheduler=named_schedulers[scheduler])


def _run_distributed(payload: _Payload, spans: list[tuple[int, int]], store: _Store,
                     client: Any, bar: ProgressBar) -> None:
    """The chunks on a dask.distributed cluster, a bounded window in flight; each result is
    written into ``store`` here, in the client."""
    from distributed import as_completed

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
        bar.update(store.write(s, e, result, sample_last=True))
        checkpoint("mc-chunk")
        del result
        nxt = next(pending, None)
        if nxt is not None:
            f2 = client.submit(_chunk_arrays, pay, nxt[0], nxt[1], pure=False)
            futures[f2] = nxt
            queue.add(f2)
