"""Helpers shared by the benchmark scripts (they run as scripts, ``python benchmarks/x.py``,
so this directory is on ``sys.path``)."""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def cpu_seconds() -> float:
    """CPU time [s] (user + system) of this process and of its ended (joined) children, such
    as the worker processes a Monte Carlo forks."""
    own, done = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + done.ru_utime + done.ru_stime


def run_watched(cmd: list[str]) -> tuple[str, dict[str, int]]:
    """Run ``cmd`` (a benchmark case in a fresh process) to its end, its memory and that of
    its worker processes watched from here (:func:`tree_memory`); its stdout and the peaks
    [bytes]. Its stderr is shown and SystemExit raised if it fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        with tree_memory(proc.pid) as mem:
            status = proc.wait()
        out.seek(0)
        err.seek(0)
        if status != 0:
            sys.stderr.write(err.read())
            raise SystemExit(f"benchmark case failed (exit status {status}): {' '.join(cmd)}")
        return out.read(), mem


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
