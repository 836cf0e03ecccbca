"""Issue 8 (command line and outputs), in-process: output sets, signals held back, the size
guard, the Monte Carlo store on a full disk, and the option checks of the Python API."""

from __future__ import annotations

import errno
import os
import signal
import tempfile
from pathlib import Path

import numpy as np
import pytest

from mfa.analysis import budget
from mfa.analysis import uncertainty as U
from mfa.core.errors import MfaError
from mfa.data.params import default_params_dir, load_parameters
from mfa.io.outputs import (
    Inputs,
    OutputSet,
    deferred_signals,
    plain_error,
    protected_inputs,
    safe_file_name,
    write_bytes,
)


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ------------------------------------------------------------------------------ output sets
def test_a_failed_set_leaves_nothing_and_removes_the_directories_it_made(tmp_path):
    (tmp_path / "old.nc").write_bytes(b"old")
    with pytest.raises(RuntimeError, match="model failed"), OutputSet() as outs:
        a = outs.file(tmp_path / "old.nc", "--out")
        b = outs.directory(tmp_path / "new" / "deep" / "tables", "--csv")
        write_bytes(a.tmp, b"new")
        write_bytes(b.tmp / "iamc.csv", b"x")
        raise RuntimeError("model failed")
    assert _files(tmp_path) == ["old.nc"]
    assert (tmp_path / "old.nc").read_bytes() == b"old"


def test_a_set_commits_all_files_and_keeps_other_files_of_a_directory(tmp_path):
    figs = tmp_path / "figs"
    figs.mkdir()
    (figs / "mine.txt").write_text("keep me")
    (figs / "a.png").write_bytes(b"old a")
    with OutputSet() as outs:
        d = outs.directory(figs, "--plots")
        f = outs.file(tmp_path / "r.nc", "--out")
        write_bytes(d.tmp / "a.png", b"new a")
        write_bytes(d.tmp / "b.png", b"new b")
        write_bytes(f.tmp, b"result")
        assert outs.file(tmp_path / "r.nc") is f  # a writer joins the reservation
    assert _files(tmp_path) == ["figs", "figs/a.png", "figs/b.png", "figs/mine.txt", "r.nc"]
    assert (figs / "a.png").read_bytes() == b"new a"
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "r.nc").stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600


def test_two_options_may_share_a_directory_but_not_a_file_name(tmp_path):
    with OutputSet() as outs:
        a = outs.directory(tmp_path / "res", "--csv")
        b = outs.directory(tmp_path / "res", "--plots")
        write_bytes(a.tmp / "iamc.csv", b"table")
        write_bytes(b.tmp / "sankey.png", b"figure")
    assert _files(tmp_path) == ["res", "res/iamc.csv", "res/sankey.png"]
    with pytest.raises(MfaError, match="would both write"), OutputSet() as outs:
        a = outs.directory(tmp_path / "new", "--csv")
        b = outs.directory(tmp_path / "new", "--plots")
        write_bytes(a.tmp / "x", b"1")
        write_bytes(b.tmp / "x", b"2")
    assert _files(tmp_path) == ["res", "res/iamc.csv", "res/sankey.png"]


def test_paths_given_twice_or_refused(tmp_path):
    params = tmp_path / "p"
    params.mkdir()
    (params / "data.csv").write_text("x")
    (tmp_path / "s.toml").write_text("x")
    os.link(params / "data.csv", tmp_path / "hard.nc")
    inputs = Inputs(files=[tmp_path / "s.toml"], directories=[(params, "the parameter directory")])
    with OutputSet(inputs) as outs:
        outs.file(tmp_path / "x.nc", "--out")
        with pytest.raises(MfaError, match=r"--excel .*x\.nc: also given as --out"):
            outs.file(tmp_path / "x.nc", "--excel")
        with pytest.raises(MfaError, match=r"s\.toml: refused: it is an input of this run"):
            outs.file(tmp_path / "s.toml", "--out")
        with pytest.raises(MfaError, match="inside the parameter directory"):
            outs.directory(params / "tables", "--csv")
        with pytest.raises(MfaError, match="hard link"):
            outs.file(tmp_path / "hard.nc", "--out")
        with pytest.raises(MfaError, match="--out: empty path"):
            outs.file("", "--out")
        with pytest.raises(MfaError, match="bytes long; at most"):
            outs.file(tmp_path / ("x" * 300), "--out")
        outs.discard()
    assert _files(tmp_path) == ["hard.nc", "p", "p/data.csv", "s.toml"]


def test_protected_inputs_follow_the_scenario_base_chain(tmp_path):
    (tmp_path / "b.toml").write_text('name = "b"\nbase = "baseline"\ndescription = "x"\n')
    (tmp_path / "s.toml").write_text('name = "s"\nbase = "b"\ndescription = "x"\n')
    inputs = protected_inputs(None, tmp_path / "s.toml")
    for name in ("s.toml", "b.toml"):
        assert "input of this run" in inputs.why_refused(tmp_path / name)
    assert "parameter directory" in inputs.why_refused(default_params_dir() / "x.nc")
    assert inputs.why_refused(tmp_path / "out.nc") is None


def test_signals_are_held_back_until_the_block_ends():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_signals():
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("after the signal")
    assert reached == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize(("message", "plain"), [
    ("Unable to synchronously create file (unable to open file: name = '/x/.r.nc.tmp', "
     "errno = 28, error message = 'No space left on device', flags = 13)",
     "No space left on device"),
    ("Can't write data (file write failed: time = Tue, errno = 28, buf = 0x1)",
     "No space left on device"),
    ("Unable to synchronously open file (file signature not found)",
     "not an HDF5 (netCDF-4) file"),
])
def test_hdf5_messages_become_plain(message, plain):
    assert plain_error(OSError(message)) == plain
    assert plain_error(OSError(errno.EACCES, "Permission denied")) == "Permission denied"


def test_safe_file_names():
    assert safe_file_name("Rest of Asia") == "Rest_of_Asia"
    assert safe_file_name("Asia/Pacific") == "Asia_Pacific"
    assert safe_file_name("../etc") == "_._etc"


# ------------------------------------------------------------------------------ size guard
def test_the_size_guard():
    small = budget.estimate_run(71, 54)
    assert budget.check(small) is None
    assert budget.check(small, verbose=True).startswith("estimate: 71 years x 54")
    span = budget.estimate_run(98021, 54)  # end = 100000 in model.toml
    assert span.seconds > budget.MAX_SECONDS_RUN
    with pytest.raises(MfaError, match=r"too large to start: .*time .* > 10 min.*--force"):
        budget.check(span)
    assert "beyond the limits" in budget.check(span, force=True)
    huge = budget.estimate_ensemble(71, 54, 10**9, chunk=250, workers=2, store_dir="/tmp",
                                    out_dir=".")
    with pytest.raises(MfaError, match=r"memory .* > 50% of the .* available"):
        budget.check(huge)
    assert budget.problem_size(default_params_dir()) == (71, 54)


def _shared_memory(monkeypatch, tmp_path, available):
    shm = tmp_path / "shm"
    shm.mkdir()
    monkeypatch.setattr(budget, "MEMORY_TMPDIR", str(shm))
    monkeypatch.setattr(budget, "available_memory", lambda: available)
    return shm


def test_the_store_goes_to_shared_memory_only_with_room_to_spare(tmp_path, monkeypatch):
    shm = _shared_memory(monkeypatch, tmp_path, 4000.0)
    assert budget.store_directory(1000) == (str(shm), True)  # a quarter of the memory
    assert budget.store_directory(1001)[1] is False
    assert budget.store_directory(1001)[0] == tempfile.gettempdir()
    assert budget.store_directory(10, tmp_path) == (str(tmp_path), False)  # given: kept
    monkeypatch.setattr(budget, "free_disk", lambda d: 400.0 if d == str(shm) else 1e12)
    assert budget.store_directory(100) == (str(shm), True)  # a quarter of its free space
    assert budget.store_directory(101)[1] is False
    monkeypatch.setattr(budget, "MEMORY_TMPDIR", str(tmp_path / "absent"))
    assert budget.store_directory(1)[1] is False


def test_the_size_guard_counts_a_store_in_shared_memory_as_memory(tmp_path, monkeypatch):
    args = (71, 54, 10_000)
    kw = {"chunk": 250, "workers": 2, "out_dir": str(tmp_path)}
    store = 10_000 * budget.RESULT_BYTES_PER_ELEMENT * 71 * 54
    _shared_memory(monkeypatch, tmp_path, 4 * store)
    in_memory = budget.estimate_ensemble(*args, store_dir=None, **kw)
    assert set(in_memory.disk) == {str(tmp_path)}
    monkeypatch.setattr(budget, "available_memory", lambda: 4 * store - 8)
    on_disk = budget.estimate_ensemble(*args, store_dir=None, **kw)
    assert on_disk.disk[tempfile.gettempdir()] == store
    assert in_memory.memory - on_disk.memory == pytest.approx(store - 10_000 * 8 * 71 * 54)


def test_problem_size_of_a_broken_model_file_is_left_to_the_loader(tmp_path):
    (tmp_path / "model.toml").write_text("[time]\nstart = 'x'\n")
    assert budget.problem_size(tmp_path) is None


# ------------------------------------------------------------------------------ uncertainty
@pytest.fixture(scope="module")
def params():
    return load_parameters()


def test_the_ensemble_store_on_a_full_disk(tmp_path, monkeypatch):
    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(MfaError, match=f"store in {tmp_path}.*: No space left on device"):
        U._Store(4, {"a": (3, 2)}, on_disk=True, tmpdir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_ensemble_store_on_disk_round_trips_and_is_removed(tmp_path):
    store = U._Store(5, {"a": (3, 2), "b": (4,)}, on_disk=True, tmpdir=tmp_path)
    a = np.arange(30.0).reshape(5, 3, 2)
    store.write(0, 2, {"a": a[:2], "b": np.ones((2, 4))})
    store.write(2, 5, {"a": a[2:], "b": np.zeros((3, 4))})
    np.testing.assert_array_equal(store.read("a"), a)
    assert store.read("b").sum() == 8
    store.close()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(MfaError, match="closed"):
        store.write(0, 1, {"a": a[:1]})


def test_the_ensemble_store_in_shared_memory_is_unlinked_at_once(tmp_path, monkeypatch):
    shm = _shared_memory(monkeypatch, tmp_path, 1e12)

    def refused(fd, offset, length):  # in memory the fit was checked: nothing is reserved
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", refused)
    a = np.arange(30.0).reshape(5, 3, 2)
    with U._Store(5, {"a": (3, 2)}, on_disk=True) as store:
        assert store.on_disk and store.where == str(shm)
        assert list(shm.iterdir()) == []  # nothing a killed run could leave behind
        store.write(0, 5, {"a": a})
        np.testing.assert_array_equal(store.read("a"), a)
    with pytest.raises(MfaError, match=f"store in {tmp_path}"):  # a given directory: reserved
        U._Store(5, {"a": (3, 2)}, on_disk=True, tmpdir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shm"]


def test_a_closed_store_frees_its_files_in_the_background_and_the_next_store_waits(
        tmp_path, monkeypatch):
    import threading
    import time

    from mfa.analysis.uncertainty import _storage

    slow_close = _storage._close_all

    def slow(fds):
        time.sleep(0.3)
        slow_close(fds)

    monkeypatch.setattr(_storage, "_close_all", slow)
    store = U._Store(3, {"a": (2,)}, on_disk=True, tmpdir=tmp_path)
    fds = list(store._fds.values())
    store.close()  # returns before the files are closed
    assert any(t.name == "mfa-store-close" for t in threading.enumerate())
    with pytest.raises(MfaError, match="closed"):
        store.write(0, 1, {"a": np.ones((1, 2))})
    with U._Store(1, {"a": (1,)}, on_disk=False):  # a new store waits for them
        assert not any(t.name == "mfa-store-close" for t in threading.enumerate())
        for fd in fds:
            with pytest.raises(OSError):
                os.fstat(fd)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"factors": []}, r"no factors given .*lifetime_mean"),
    ({"factors": ["world_ree_mine_production"]}, r"calibration parameters.*lifetime_mean"),
    ({"factors": ["ev_sales"]}, r"\['ev_sales'\] have no uncertainty range.*lifetime_mean"),
    ({"seed": 2**63}, r"seed must be a whole number from 0 to 9223372036854775807"),
])
def test_monte_carlo_option_errors(params, kwargs, match):
    with pytest.raises(MfaError, match=match):
        U.monte_carlo("neodymium", params, scenario=None, **({"n": 2, "scheduler": "numpy"} | kwargs))


def test_sensitivity_sample_size_is_a_power_of_two(params):
    with pytest.raises(MfaError, match=r"power of 2 .*got 3"):
        U.sensitivity("neodymium", params, 3, scenario=None, factors=["lifetime_mean"], scheduler="numpy")
