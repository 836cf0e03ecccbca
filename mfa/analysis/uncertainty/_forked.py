"""Chunks of an ensemble in forked worker processes of the standard library (Linux).

Two threads share one interpreter lock, held in xarray's bookkeeping (about a quarter of a
chunk); two forked processes do not. A forked worker starts as a copy of the parent, the
payload included (nothing is pickled, no script is imported again: no ``__main__`` guard is
needed), draws and computes its chunks and writes them straight into the store's temporary
files (the file descriptors are shared). Only ``(start, stop)`` travels back through a pipe;
with a store in memory (small ensembles) the chunk's arrays do, and the parent writes them.

Workers take the next chunk from a shared counter (a slow worker does not hold the others up),
ignore SIGINT (the terminal sends it to the whole process group; the parent decides), die on
SIGTERM, and stop before their next chunk if the parent has died without stopping them
(killed with SIGKILL, say). They keep the memory they free for the next chunk
(:func:`keep_freed_memory`). The parent, on a worker's error, an interruption or any other
exception, terminates and joins every worker before it returns, so no process and, once the
caller has closed the store, no temporary file is left behind. The results do not depend on the number
of workers nor on which worker computed which chunk (each chunk draws its own samples).

Fork is used only where it is safe: on Linux, from a process with no other thread (forking a
multi-threaded process can deadlock the child on a lock another thread held; Jupyter kernels,
for one, run several threads), with the ``fork`` start method available and where a lock
shared between processes can be made.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

from mfa.analysis.options import UncertaintyError
from mfa.analysis.progress import ProgressBar
from mfa.analysis.uncertainty._storage import _Store
from mfa.core.errors import MfaWarning
from mfa.io.outputs import checkpoint


def fork_usable() -> str | None:
    """None if chunks may run in forked processes here, else the reason why not."""
    if not sys.platform.startswith("linux"):
        return f"forked worker processes are used on Linux only (this is {sys.platform})"
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():  # pragma: no cover - Linux always has it
        return "the 'fork' start method is not available"
    if threading.active_count() > 1:
        return (f"this process runs {threading.active_count()} threads (forking it could "
                "deadlock a worker)")
    return _shared_lock_problem()


@functools.lru_cache(maxsize=1)
def _shared_lock_problem() -> str | None:
    """None if a lock shared between processes can be made (the workers' chunk counter needs
    one; some containers have no ``/dev/shm`` for it), else why not."""
    import multiprocessing as mp

    try:
        mp.get_context("fork").Lock()
    except (OSError, ImportError) as exc:
        return f"no lock shared between processes can be made here ({exc})"
    return None


#: glibc's ``mallopt`` parameters (``malloc.h``) and the values a worker sets: blocks up to
#: 32 MiB (the largest threshold glibc accepts on 64-bit) come from the heap, and freed memory
#: stays there instead of being returned to the system.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_WORKER_MALLOC = ((_M_MMAP_THRESHOLD, 32 * 2**20), (_M_TRIM_THRESHOLD, 2**30))


def _glibc_function(name: str) -> Any:
    """The function ``name`` of the C library if it is glibc (ctypes), else None."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):  # pragma: no cover - glibc always has them
        return None


def keep_freed_memory() -> bool:
    """Make glibc's allocator keep freed memory for reuse in this process; whether it could.

    A chunk allocates and frees the same large arrays every time. By default glibc maps each
    block over its threshold afresh and returns freed memory to the system, so every chunk
    faults in (and the kernel zeroes) new pages: about 20,000 page faults, 12 % of a chunk's
    time, on the reference machine. A worker process reuses its pages instead; it is the
    right trade in a process that ends with the run (its memory is returned then), not in the
    caller's. False (nothing changed) where the C library is not glibc.
    """
    mallopt = _glibc_function("mallopt")
    return mallopt is not None and all([mallopt(param, value) == 1
                                        for param, value in _WORKER_MALLOC])


def return_freed_memory() -> bool:
    """Return the memory this process has freed to the system (glibc's ``malloc_trim``);
    whether it could.

    The C library keeps freed memory for reuse. After the chunks of a run in this process (the
    plain loop, threads) it holds what they freed, ~0.4 GiB for the Nd baseline with dask's
    threads, and the summary's blocks would come on top of it (0.59 GiB in all, against
    0.13 GiB + the summary once returned, in 25 ms). False (nothing done) where the C library
    is not glibc.
    """
    trim = _glibc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True


def _worker(conn: Any, counter: Any, spans: list[tuple[int, int]], payload: Any,
            store: _Store, parent: int) -> None:
    """Body of a forked worker: chunks from ``counter`` until none is left or the process
    ``parent`` is gone; reports on ``conn`` ``("done", start, stop, arrays or None, layout of
    the chunk in the store or None)``, then
    ``("end",)`` or ``("error", exc)``."""
    from mfa.analysis.uncertainty._scheduling import _chunk_arrays

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        keep_freed_memory()
        warnings.filterwarnings("ignore", category=MfaWarning)
        while os.getppid() == parent:  # else the parent was killed: stop, orphaned
            with counter.get_lock():
                i = counter.value
                counter.value += 1
            if i >= len(spans):
                break
            start, stop = spans[i]
            arrays, layout = _chunk_arrays(payload, start, stop, quiet=False), None
            if store.on_disk:
                layout = store.put(start, stop, arrays)
                arrays = None
            conn.send(("done", start, stop, arrays, layout))
        conn.send(("end",))
    except BaseException as exc:  # reported to the parent, which raises it
        with contextlib.suppress(OSError):  # unless it is gone
            conn.send(("error", _picklable(exc)))
    finally:
        conn.close()


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else an :class:`UncertaintyError` with its message."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return UncertaintyError(f"{type(exc).__name__}: {exc}")


def run_forked(payload: Any, spans: list[tuple[int, int]], store: _Store, workers: int,
               new_bar: Callable[[], ProgressBar]) -> None:
    """Compute ``spans`` in ``workers`` forked processes, recording each chunk in ``store``;
    progress on the bar ``new_bar()`` made once the workers run (a tqdm bar starts a thread).

    Raises the first error a worker reports (the others are terminated); a worker that dies
    without a word (killed, out of memory) is an :class:`UncertaintyError` naming its exit code.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    why = fork_usable()
    if why is not None:
        raise UncertaintyError(f"scheduler 'fork': {why}; use 'auto' or 'numpy'")
    ctx = mp.get_context("fork")
    counter = ctx.Value("q", 0)
    procs, conns = [], {}
    bar = None
    # the collector of a worker would write to the header of every object it inherited and so
    # copy the parent's pages: frozen objects it leaves alone (~20 MiB less per worker)
    gc.freeze()
    try:
        for _ in range(max(1, min(workers, len(spans)))):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, name="mfa-chunk", daemon=True,
                               args=(send, counter, spans, payload, store, os.getpid()))
            proc.start()
            send.close()
            procs.append(proc)
            conns[recv] = proc
        bar = new_bar()
        while conns:
            for conn in wait(list(conns)):
                try:
                    msg = conn.recv()
                except EOFError:
                    proc = conns[conn]
                    proc.join()
                    raise UncertaintyError(f"a worker process of the ensemble ended without a "
                                           f"result (exit code {proc.exitcode})") from None
                if msg[0] == "error":
                    raise msg[1]
                if msg[0] == "end":
                    del conns[conn]
                    conn.close()
                    continue
                _, start, stop, arrays, layout = msg
                if arrays is not None:
                    layout = store.put(start, stop, arrays)
                bar.update(store.record(start, stop, layout))
                checkpoint("mc-chunk", until=store.closed)
    finally:
        gc.unfreeze()
        if bar is not None:
            bar.close()
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join()
        for conn in conns:
            conn.close()
