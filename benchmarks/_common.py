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
