"""Chunks of an ensemble in forked worker processes (the default scheduler on Linux, issue 15):
the loop's numbers bit for bit, errors and interruptions that leave no process and no file."""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from mfa.analysis import uncertainty as U
from mfa.analysis.uncertainty import _forked, _scheduling
from mfa.data.params import load_parameters
from mfa.data.scenarios import apply_scenario

FACTORS = ["magnet_per_vehicle", "lifetime_mean", "collection_rate", "yield_mining"]
KW = dict(scenario=None, seed=3, chunk=4, factors=FACTORS)


@pytest.fixture(scope="module")
def params():
    return apply_scenario(load_parameters(), "baseline")


@pytest.fixture
def forkable(monkeypatch):
    """Fork although the test process may run threads (dask's idle pool after other tests):
    the check is tested on its own below."""
    monkeypatch.setattr(_forked, "fork_usable", lambda: None)
    monkeypatch.setattr(_scheduling, "fork_usable", lambda: None)
    monkeypatch.setattr(_scheduling, "_usable_cores", lambda: 2)


def _no_worker_left() -> None:
    assert mp.active_children() == []


@pytest.mark.parametrize("store", ["memory", "disk"])
def test_forked_workers_give_the_loops_numbers(params, forkable, tmp_path, store):
    """Same quantiles, world totals and attributes as the plain loop, bit for bit, whether the
    workers write the store on disk or send their arrays back; the parent's warning filters
    are as before."""
    filters = list(warnings.filters)
    forked = U.monte_carlo("neodymium", params, 14, scheduler="auto", store=store,
                           tmpdir=tmp_path, **KW)
    assert warnings.filters == filters
    loop = U.monte_carlo("neodymium", params, 14, scheduler="numpy", **KW)
    assert forked.attrs["mc_scheduler"] == "processes (2, forked, standard library)"
    for v in loop.data_vars:
        np.testing.assert_array_equal(forked[v].values, loop[v].values, err_msg=v)
    _no_worker_left()
    assert list(tmp_path.iterdir()) == []


def test_forked_ensemble_and_sensitivity_are_the_loops(params, forkable):
    kw = dict(seed=2, chunk=3, factors=FACTORS)
    forked = U.ensemble("neodymium", params, 8, scheduler="fork", **kw)
    loop = U.ensemble("neodymium", params, 8, scheduler="numpy", **kw)
    for v in loop.data_vars:
        np.testing.assert_array_equal(forked[v].values, loop[v].values, err_msg=v)
    si = [U.sensitivity("neodymium", params, 4, scenario=None, factors=FACTORS[:2], chunk=5,
                        scheduler=s, n_bootstrap=10) for s in ("fork", "numpy")]
    for v in si[1].data_vars:
        np.testing.assert_array_equal(si[0][v].values, si[1][v].values, err_msg=v)
    _no_worker_left()


_FAULTS_SCRIPT = """
import resource, sys
import numpy as np
from mfa.analysis.uncertainty._forked import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
def rounds():  # a chunk's pattern: many large arrays made, then all freed
    for _ in range(5):
        arrays = [np.ones(2**19) for _ in range(20)]  # 20 x 4 MiB
        del arrays
rounds()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds()
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_workers_keep_their_freed_memory(params, forkable, monkeypatch, tmp_path):
    """With :func:`keep_freed_memory`, freed arrays are reused without a page fault (a fresh
    process each, so that this one's allocator is untouched); every worker sets it, and
    inherits the parent's objects frozen (its collector does not copy their pages)."""
    import platform

    faults = {}
    for mode in ("default", "keep"):
        out = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT, mode], capture_output=True,
                             text=True, check=True).stdout.split()
        faults[mode] = (out[0], int(out[1]))
    if platform.libc_ver()[0] == "glibc":
        assert faults["keep"][0] == "True"
        assert faults["default"][1] > 20_000  # each round maps 80 MiB afresh
        assert faults["keep"][1] < 500
    else:  # pragma: no cover - e.g. musl: nothing changed, and said so
        assert faults["keep"][0] == "False"

    marks = tmp_path / "marks"
    marks.mkdir()  # each worker: its pid and how many objects it inherited frozen
    monkeypatch.setattr(_forked, "keep_freed_memory",
                        lambda: (marks / str(os.getpid())).write_text(str(gc.get_freeze_count())))
    U.monte_carlo("neodymium", params, 8, scheduler="fork", **KW)
    frozen = {int(p.name): int(p.read_text()) for p in marks.iterdir()}
    assert len(frozen) == 2 and os.getpid() not in frozen
    assert min(frozen.values()) > 10_000  # the parent's objects, left to the parent
    assert gc.get_freeze_count() == 0  # unfrozen in the parent after the run
    _no_worker_left()


_TRIM_SCRIPT = """
import os, sys
import numpy as np
from mfa.analysis.uncertainty._forked import return_freed_memory
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
arrays = [np.ones(2**13) for _ in range(4000)]  # 4000 x 64 KiB from the heap, not mapped
last = np.ones(2**13)  # above them: their memory is not at the top of the heap when freed
del arrays
before = rss()
done = return_freed_memory() if sys.argv[1] == "trim" else None
print(done, before - rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_the_memory_the_chunks_freed_goes_back_before_the_summary():
    """:func:`return_freed_memory` (called after the chunks of a run) gives the memory freed
    in the middle of the heap back to the system (a fresh process each)."""
    import platform

    got = {}
    for mode in ("keep", "trim"):
        out = subprocess.run([sys.executable, "-c", _TRIM_SCRIPT, mode], capture_output=True,
                             text=True, check=True).stdout.split()
        got[mode] = (out[0], int(out[1]))
    assert got["keep"][1] < 2**24  # freed, but still held by the C library
    if platform.libc_ver()[0] == "glibc":
        assert got["trim"] == ("True", got["trim"][1]) and got["trim"][1] > 2**27  # > 128 MiB
    else:  # pragma: no cover - e.g. musl: nothing done, and said so
        assert got["trim"][0] == "False"


@pytest.mark.parametrize("at, n, failure, match", [
    (8, 40, "raise", r"^chunk 8 failed$"),
    (4, 16, "exit", r"ended without a result \(exit code 7\)"),
])
def test_a_failing_worker_reaches_the_caller_and_leaves_nothing(params, forkable, monkeypatch,
                                                                tmp_path, at, n, failure, match):
    """The worker's own error (type and message), or, for a worker that dies without a word
    (killed, out of memory), a plain error naming its exit code; the other worker is stopped;
    no process, no temporary file."""
    real = _scheduling._chunk_arrays

    def failing(payload, start, stop, quiet=True):
        if start == at:
            if failure == "raise":
                raise U.UncertaintyError(f"chunk {at} failed")
            os._exit(7)  # as if killed: no word to the parent
        return real(payload, start, stop, quiet)

    monkeypatch.setattr(_scheduling, "_chunk_arrays", failing)
    with pytest.raises(U.UncertaintyError, match=match):
        U.monte_carlo("neodymium", params, n, scheduler="fork", store="disk", tmpdir=tmp_path,
                      **KW)
    _no_worker_left()
    assert list(tmp_path.iterdir()) == []


def test_an_unpicklable_error_keeps_its_message(params, forkable, monkeypatch):
    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__(f"odd {a} {b}")

    def odd(payload, start, stop, quiet=True):
        raise Odd(1, 2)

    monkeypatch.setattr(_scheduling, "_chunk_arrays", odd)
    with pytest.raises(U.UncertaintyError, match=r"^Odd: odd 1 2$"):
        U.monte_carlo("neodymium", params, 8, scheduler="fork", **KW)
    _no_worker_left()


def test_an_interruption_stops_the_workers_and_removes_the_store(params, forkable,
                                                                 monkeypatch, tmp_path):
    """KeyboardInterrupt (the CLI's SIGINT and SIGTERM) in the parent while the workers run:
    both are terminated and joined, the temporary store is removed."""
    calls = []
    real = _scheduling._chunk_arrays
    started = tmp_path / "started"
    started.mkdir()
    store = tmp_path / "store"
    store.mkdir()

    def counted(payload, start, stop, quiet=True):
        (started / str(start)).touch()  # in the worker process
        return real(payload, start, stop, quiet)

    def interrupt(stage, until=None):
        calls.append(stage)
        raise KeyboardInterrupt

    monkeypatch.setattr(_scheduling, "_chunk_arrays", counted)
    monkeypatch.setattr(_forked, "checkpoint", interrupt)
    with pytest.raises(KeyboardInterrupt):
        U.monte_carlo("neodymium", params, 400, scheduler="fork", store="disk",
                      tmpdir=store, **KW)
    assert calls == ["mc-chunk"]
    assert len(list(started.iterdir())) < 10  # terminated: 100 chunks not run to the end
    _no_worker_left()
    assert list(store.iterdir()) == []


def test_no_fork_from_a_process_with_threads(params, monkeypatch):
    """With another thread running, 'fork' is refused with a plain message and 'auto' runs
    on threads instead (forking a multi-threaded process can deadlock the child)."""
    monkeypatch.setattr(_scheduling, "_usable_cores", lambda: 2)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert "threads" in _forked.fork_usable()
        with pytest.raises(U.UncertaintyError, match=r"scheduler 'fork': this process runs \d+ "
                                                     r"threads .*use 'auto' or 'numpy'"):
            U.monte_carlo("neodymium", params, 4, scheduler="fork", **KW)
        mc = U.monte_carlo("neodymium", params, 4, scheduler="auto", **KW)
        assert mc.attrs["mc_scheduler"] == "threads (2, standard library)"
    finally:
        stop.set()
        thread.join()


def test_fork_is_linux_only(monkeypatch):
    monkeypatch.setattr(_forked.sys, "platform", "darwin")
    assert _forked.fork_usable() == ("forked worker processes are used on Linux only "
                                     "(this is darwin)")


def test_auto_forks_in_a_clean_process_even_with_a_progress_bar(tmp_path):
    """In a fresh process (no other thread), "auto" forks, and a progress bar that starts a
    thread (as tqdm does) is made only after the workers are forked; every chunk reported;
    output pending in the parent's buffers is not written again by the workers."""
    script = tmp_path / "run.py"
    script.write_text(
        "import threading\n"
        "from mfa.analysis import uncertainty as U\n"
        "from mfa.analysis.uncertainty import _scheduling\n"
        "seen = []\n"
        "class Bar:\n"
        "    def __init__(self, total, unit='sample', enabled=True):\n"
        "        self.stop = threading.Event()\n"
        "        threading.Thread(target=self.stop.wait, daemon=True).start()\n"
        "    def update(self, k):\n"
        "        seen.append(k)\n"
        "    def close(self):\n"
        "        self.stop.set()\n"
        "_scheduling.ProgressBar = Bar\n"
        "print('before', end=' ')  # pending in the buffer of a pipe when the workers fork\n"
        "_scheduling._usable_cores = lambda: 2\n"
        "mc = U.monte_carlo('neodymium', n=10, chunk=4, factors=['lifetime_mean'], progress=True)\n"
        "print(mc.attrs['mc_scheduler'], sorted(seen))\n")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env, check=False, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "before processes (2, forked, standard library) [2, 4, 4]"


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_workers_stop_when_the_parent_is_killed(tmp_path):
    """SIGKILL leaves no handler to stop the workers: each stops before its next chunk."""
    marks = tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "run.py"
    script.write_text(
        "import os, pathlib\n"
        "from mfa.analysis import uncertainty as U\n"
        "from mfa.analysis.uncertainty import _scheduling\n"
        "real = _scheduling._chunk_arrays\n"
        "def marked(payload, start, stop, quiet=True):\n"
        f"    pathlib.Path({str(marks)!r}, f'{{os.getpid()}}-{{start}}').touch()\n"
        "    return real(payload, start, stop, quiet)\n"
        "_scheduling._chunk_arrays = marked\n"
        "_scheduling._usable_cores = lambda: 2\n"
        "U.monte_carlo('neodymium', n=20000, chunk=2, factors=['lifetime_mean'],\n"
        "              variables=['total_demand'],  # a small store: SIGKILL leaves it\n"
        f"              store='disk', tmpdir={str(tmp_path)!r})\n")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    try:
        deadline = time.monotonic() + 120
        while len({m.name.split("-")[0] for m in marks.iterdir()}) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "no two workers"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    workers = {int(m.name.split("-")[0]) for m in marks.iterdir()}
    deadline = time.monotonic() + 60
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)
    assert len(list(marks.iterdir())) < 2000  # they stopped long before the 10,000 chunks


def test_no_fork_without_shared_locks(params, monkeypatch):
    """A container without /dev/shm cannot make the workers' shared counter: 'auto' runs on
    threads, 'fork' says why."""
    monkeypatch.setattr(_scheduling, "_usable_cores", lambda: 2)
    monkeypatch.setattr(_forked, "_shared_lock_problem", lambda: "no shm")
    monkeypatch.setattr(_forked.threading, "active_count", lambda: 1)  # dask's idle pool
    assert _forked.fork_usable() == "no shm"
    with pytest.raises(U.UncertaintyError, match=r"^scheduler 'fork': no shm; use 'auto'"):
        U.monte_carlo("neodymium", params, 4, scheduler="fork", **KW)
    mc = U.monte_carlo("neodymium", params, 4, scheduler="auto", **KW)
    assert mc.attrs["mc_scheduler"] == "threads (2, standard library)"
