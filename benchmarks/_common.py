"""Helpers shared by the benchmark scripts (they run as scripts, ``python benchmarks/x.py``,
so this directory is on ``sys.path``)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _user_and_system_seconds() -> tuple[float, float]:
    """User and system CPU time [s] of this process and of its ended (joined) children, such
    as the worker processes a Monte Carlo forks."""
    own, done = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + done.ru_utime, own.ru_stime + done.ru_stime


def cpu_seconds() -> float:
    """CPU time [s] (user + system) of this process and of its ended (joined) children."""
    user, system = _user_and_system_seconds()
    return user + system


def system_seconds() -> float:
    """The system (kernel) part [s] of :func:`cpu_seconds`: mostly page faults on new memory
    and the writes of the temporary store."""
    return _user_and_system_seconds()[1]


def first_touch_cost(nbytes: int = 256 * 2**20) -> tuple[float, float]:
    """Cost [ns per byte] of the first write to ``nbytes`` of new memory, then of the same
    again at once.

    On an ordinary machine both are ~0.1 ns per byte (a page fault and zeroing per 4 KiB page).
    On a virtual machine whose guest reports its free pages to the host (virtio-balloon free
    page reporting, as on the development machine: a nested Firecracker VM), memory freed for
    more than a few seconds goes back to the host, and the next first write to it waits for
    the host: ~3 ns per byte measured there (~12 us per page). The second figure uses the
    pages just freed (still backed). Every new page a benchmark case touches (its arrays, the
    temporary store's file pages) pays the first figure, so the table depends on it.
    """
    import mmap
    import time

    import numpy as np

    def touch() -> float:
        m = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        try:
            pages = np.frombuffer(m, dtype=np.uint8)
            t = time.perf_counter()
            pages[::mmap.PAGESIZE] = 1
            seconds = time.perf_counter() - t
            del pages
        finally:
            m.close()
        return 1e9 * seconds / nbytes

    return touch(), touch()


def first_touch_cost_elsewhere(nbytes: int = 2**30) -> tuple[float, float]:
    """:func:`first_touch_cost` measured in a process of its own: a process's peak resident
    size (``ru_maxrss``) is inherited by the processes it starts, so measuring here would
    show ``nbytes`` in the peak of every case started afterwards."""
    from pathlib import Path

    code = ("import json, _common; "
            f"print(json.dumps(_common.first_touch_cost({int(nbytes)})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent,
                         capture_output=True, text=True, check=True).stdout
    cold, again = json.loads(out)
    return cold, again


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
