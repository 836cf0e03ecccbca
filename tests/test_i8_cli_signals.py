"""Issue 8, items 10 and 8: SIGINT and SIGTERM at every stage of ``mfa run`` and ``mfa mc``.

The test-only hook ``MFA_TEST_PAUSE_AT=<stage>`` (:func:`mfa.io.outputs.checkpoint`) makes the
command write ``mfa-test: paused at <stage>`` to stderr and wait there; the test then sends the
signal, so it lands at exactly that point. Afterwards: exit status 128 + signal number (130 for
SIGINT, 143 for SIGTERM), one line ``mfa: interrupted ...`` and no traceback, earlier outputs
unchanged and nothing new anywhere in the workspace (no temporary file or directory, no
Monte Carlo store left in ``--tmpdir`` or in ``$TMPDIR``). A signal during the final moves
(stage ``commit``) is held back until the set is complete: every output is then new.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mfa.data.params import default_params_dir

OLD = {
    "out/old.nc": b"an earlier netCDF result",
    "out/book.xlsx": b"an earlier workbook",
    "out/tables/iamc.csv": b"an earlier IAMC table",
    "out/figs/sankey_2050.png": b"an earlier figure",
    "out/fans/fan_world_primary_demand.png": b"an earlier fan chart",
}
RUN_ALL = ["run", "--params", "p", "--out", "out/old.nc", "--csv", "out/tables", "--excel",
           "out/book.xlsx", "--plots", "out/figs"]
MC = ["mc", "--params", "p", "--samples", "6", "--chunk", "3", "--factors",
      "lifetime_mean,collection_rate", "--no-progress", "--store", "disk", "--tmpdir", "scratch",
      "--out", "out/old.nc", "--plots", "out/fans"]


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(default_params_dir(), ws / "p")
    for name, content in OLD.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_bytes(content)
    (ws / "scratch").mkdir()
    (ws / "tmp").mkdir()
    return ws


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            out[str(p.relative_to(root))] = ("dir" if p.is_dir()
                                             else hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def _interrupt(ws: Path, argv: list[str], stage: str, signum: int) -> tuple[int, str]:
    """Run ``python -m mfa argv`` paused at ``stage``, send ``signum`` there; (status, stderr)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg", MFA_TEST_PAUSE_AT=stage,
               TMPDIR=str(ws / "tmp"))
    proc = subprocess.Popen([sys.executable, "-m", "mfa", *argv], cwd=ws, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen = []
    try:
        while True:
            line = lines.get(timeout=120)
            if line is None:
                pytest.fail(f"the command ended (status {proc.wait()}) without pausing at "
                            f"{stage}: {''.join(seen)[-2000:]}")
            seen.append(line)
            if line.strip() == f"mfa-test: paused at {stage}":
                break
        proc.send_signal(signum)
        status = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    while (line := lines.get(timeout=10)) is not None:
        seen.append(line)
    return status, "".join(seen)


def _check_interrupted(status: int, err: str, signum: int) -> None:
    assert status == 128 + signum, (status, err)
    assert "Traceback" not in err, err
    lines = [x for x in err.splitlines() if not x.startswith(("mfa-test:", "mfa: estimate:"))]
    assert lines == [f"mfa: interrupted ({signal.Signals(signum).name}); temporary files "
                     "removed"], err


SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM")]


STAGES = [
    pytest.param(RUN_ALL, "startup", id="run-startup-before-imports"),
    pytest.param(RUN_ALL, "load", id="run-load"),
    pytest.param(RUN_ALL, "compute", id="run-compute"),
    pytest.param(RUN_ALL, "netcdf", id="run-netcdf-written"),
    pytest.param(RUN_ALL, "csv", id="run-csv-half-written"),
    pytest.param(RUN_ALL, "excel", id="run-excel-written"),
    pytest.param(RUN_ALL, "plots", id="run-first-figure-written"),
    pytest.param([*MC, "--scheduler", "numpy"], "mc-chunk", id="mc-numpy-store-exists"),
    pytest.param([*MC, "--scheduler", "threads"], "mc-chunk", id="mc-threads-store-exists"),
    pytest.param([*MC, "--scheduler", "auto"], "mc-chunk", id="mc-auto-store-exists"),
    pytest.param([*MC, "--scheduler", "numpy"], "netcdf", id="mc-netcdf-written"),
    pytest.param([*MC, "--scheduler", "numpy"], "plots", id="mc-first-fan-chart-written"),
]
#: SIGTERM at every stage; SIGINT (the same handler once started) where it differs most:
#: before the imports, half-way through a set, in the threads of an ensemble.
CASES = [pytest.param(*p.values, signal.SIGTERM, id=f"{p.id}-SIGTERM") for p in STAGES] + [
    pytest.param(*p.values, signal.SIGINT, id=f"{p.id}-SIGINT") for p in STAGES
    if p.id in ("run-startup-before-imports", "run-csv-half-written", "mc-threads-store-exists",
                "mc-auto-store-exists")]


@pytest.mark.parametrize(("argv", "stage", "signum"), CASES)
def test_signal_leaves_nothing_behind(tmp_path: Path, argv: list[str], stage: str,
                                      signum: int) -> None:
    ws = _workspace(tmp_path)
    before = _snapshot(ws)
    status, err = _interrupt(ws, argv, stage, signum)
    _check_interrupted(status, err, signum)
    assert _snapshot(ws) == before  # earlier outputs intact; no temporaries, no store


@pytest.mark.parametrize("signum", SIGNALS)
def test_signal_during_the_final_moves_completes_the_set(tmp_path: Path, signum: int) -> None:
    ws = _workspace(tmp_path)
    before = _snapshot(ws)
    status, err = _interrupt(ws, RUN_ALL, "commit", signum)
    _check_interrupted(status, err, signum)
    after = _snapshot(ws)
    for name in OLD:  # every output is the new one: the set went into place as a whole
        if not name.startswith("out/fans/"):  # not an output of mfa run
            assert after[name] != before[name], name
    assert (ws / "out/old.nc").read_bytes()[:4] == b"\x89HDF"
    assert (ws / "out/book.xlsx").read_bytes()[:2] == b"PK"
    new = sorted(set(after) - set(before))
    assert not [n for n in new if ".tmp" in n or "mfa-" in n], new  # no temporaries
    assert {Path(n).parent.name for n in new} <= {"tables", "figs"}, new
