"""Helpers shared by the benchmark scripts (they run as scripts, ``python benchmarks/x.py``,
so this directory is on ``sys.path``)."""

from __future__ import annotations

import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def peak_rss() -> Iterator[list[int]]:
    """Peak resident memory of this process [bytes] over the ``with`` block.

    Yields a one-item list, set when the block ends to the larger of ``ru_maxrss``
    (``resource.getrusage``; the whole process so far) and the RSS sampled by ``psutil`` every
    20 ms while the block runs (when psutil is installed).
    """
    sampled = [0]
    stop = threading.Event()
    try:
        import psutil

        proc = psutil.Process()

        def watch() -> None:
            while not stop.is_set():
                sampled[0] = max(sampled[0], proc.memory_info().rss)
                stop.wait(0.02)

        threading.Thread(target=watch, daemon=True).start()
    except ImportError:
        pass
    result = [0]
    try:
        yield result
    finally:
        stop.set()
        ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        result[0] = max(ru, sampled[0])


@contextmanager
def tree_memory(pid: int) -> Iterator[dict[str, int]]:
    """Peak memory of process ``pid`` and all its descendants [bytes], watched from outside.

    Samples from a thread of *this* process (a thread inside the measured process would change
    what it does: the Monte Carlo forks its workers only from a process with no other thread)
    the sum over the process tree of

    * ``rss`` (every 20 ms): resident set sizes (an upper bound: pages a forked worker shares
      with its parent count once per process);
    * ``pss`` (every 100 ms): proportional set sizes (shared pages split between the processes
      sharing them: the sum is the physical memory of the run).

    Yields a dict filled in when the block ends (zeros without psutil).
    """
    result = {"rss": 0, "pss": 0}
    stop = threading.Event()
    try:
        import psutil
    except ImportError:
        psutil = None

    def sample(full: bool) -> None:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        rss = pss = 0
        for proc in procs:
            try:
                info = proc.memory_full_info() if full else proc.memory_info()
            except psutil.Error:  # ended meanwhile
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        result["rss"] = max(result["rss"], rss)
        if full:
            result["pss"] = max(result["pss"], pss)

    def watch() -> None:
        # RSS (from /proc/PID/statm: cheap) every 20 ms, PSS every 100 ms: reading
        # /proc/PID/smaps_rollup walks the page tables of the process under its memory-map
        # lock, and every 20 ms it slowed a 10,000-sample run by ~10 %
        tick = 0
        while not stop.wait(0.02):
            sample(full=tick % 5 == 0)
            tick += 1

    thread = threading.Thread(target=watch, daemon=True) if psutil else None
    if thread:
        thread.start()
    try:
        yield result
    finally:
        stop.set()
        if thread:
            thread.join()
