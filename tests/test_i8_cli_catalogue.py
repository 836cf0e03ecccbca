"""Issue 8, command line and outputs: every bad or extreme case through ``python -m mfa``.

Each case runs the command in a fresh process, in a workspace holding a copy of the default
parameters (``p/``), a scenario outside them (``s.toml``, based on ``b.toml``, based on
``baseline``), results files for ``mfa plot`` (``res/``) and earlier outputs with known content
(``out/``). A failing case must exit with status 2, print ONE line ``mfa: error: ...`` that names
the path or key, no traceback, and leave the workspace exactly as it was: earlier outputs
unchanged, the parameter directory unchanged, no new file or directory anywhere (no
temporaries). A case expected to succeed must write exactly the files it names.

The numbers in the case ids are the items of the issue (1 outputs onto inputs, 8 atomic output
sets, 9 full disk, 11 size guard, 12 tracebacks instead of exit 2, 14 smaller defects). A full
disk is simulated by making ``os.fsync`` fail with ENOSPC for files under one directory (a
prelude run before the command), and for real on a 64 kB tmpfs where ``mount`` is permitted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from mfa.data.params import default_params_dir

ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")

#: Runs the command like ``python -m mfa``, after making ``os.fsync`` fail with ENOSPC for the
#: files under $MFA_CATALOGUE_ENOSPC (after $MFA_CATALOGUE_ENOSPC_AFTER successful ones).
ENOSPC_PRELUDE = r"""
import errno, os, sys
root = os.environ["MFA_CATALOGUE_ENOSPC"].rstrip(os.sep) + os.sep
after = int(os.environ.get("MFA_CATALOGUE_ENOSPC_AFTER", "0"))
real_fsync, seen = os.fsync, [0]
def fsync(fd):
    try:
        path = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        path = ""
    if path.startswith(root) and os.path.isfile(path):
        seen[0] += 1
        if seen[0] > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_fsync(fd)
os.fsync = fsync
from mfa.cli import main
sys.exit(main(sys.argv[1:]))
"""

SCENARIO = """name = "mine"
base = "b"
description = "a scenario outside the parameter directory"

[[override]]
parameter = "collection_rate"
unit = "1"
value = 0.3
from_year = 2030
"""
BASE = """name = "b"
base = "baseline"
description = "its base, next to it"

[[override]]
parameter = "recycling_yield"
unit = "1"
value = 0.9
from_year = 2030
"""
#: Total collection and no demand from 2045: secondary Nd exceeds demand (a model warning).
GLUT = """name = "glut"
base = "baseline"
description = "demand collapses in 2045 while collection is total"

[[override]]
parameter = "collection_rate"
unit = "1"
value = 1.0
from_year = 2030

[[override]]
parameter = "ev_sales"
scale = 0.0
from_year = 2045

[[override]]
parameter = "ev_fleet"
scale = 0.0
from_year = 2045

[[override]]
parameter = "wind_capacity"
scale = 0.0
from_year = 2045

[[override]]
parameter = "end_use_nd_direct"
scale = 0.0
from_year = 2045
"""

OLD = {  # earlier outputs with known content
    "out/old.nc": b"an earlier netCDF result",
    "out/book.xlsx": b"an earlier workbook",
    "out/tables/iamc.csv": b"an earlier IAMC table",
    "out/figs/sankey_2050.png": b"an earlier figure",
    "out/fans/fan_world_primary_demand.png": b"an earlier fan chart",
}


@dataclasses.dataclass
class Case:
    """One catalogue case: the command (``{p}`` = parameter directory, ``{full}`` = a directory
    on a full file system), what it must say, and what it may write."""

    id: str
    argv: list[str]
    err: tuple[str, ...] = ()
    status: int = 2
    absent: tuple[str, ...] = ("Traceback",)
    setup: Callable[[Path], None] | None = None
    enospc: str | None = None  # workspace-relative directory where fsync fails
    enospc_after: int = 0
    writes: tuple[str, ...] = ()  # files a successful case writes (workspace-relative)
    tmpfs: bool = False


def _link(src: str, dst: str, hard: bool = False) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        if hard:
            os.link(ws / src, ws / dst)
        else:
            os.symlink(ws / src, ws / dst)
    return setup


def _model_end(end: int) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        path = ws / "p" / "model.toml"
        text = path.read_text().replace("end = 2050", f"end = {end}")
        assert f"end = {end}" in text
        path.write_text(text)
    return setup


def _write(name: str, text: str) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        (ws / name).write_text(text)
    return setup


RUN = ["run", "--params", "{p}"]
MC = ["mc", "--params", "{p}", "--samples", "2", "--scheduler", "numpy", "--no-progress"]
SENS = ["sensitivity", "--params", "{p}", "--samples", "2", "--factors", "lifetime_mean",
        "--years", "2050", "--scheduler", "numpy", "--no-progress"]
LONG = "x" * 252  # + ".nc" = 255 bytes, the longest file name

CASES = [
    # ---- 1: outputs never overwrite inputs (files read, the parameter directory) ----
    Case("1-run-out-onto-data-csv", [*RUN, "--out", "{p}/drivers.csv"],
         ("--out", "drivers.csv", "parameter directory")),
    Case("1-run-out-onto-registry", [*RUN, "--out", "{p}/registry.toml"],
         ("--out", "registry.toml", "parameter directory")),
    Case("1-run-out-onto-scenario-file", [*RUN, "--scenario", "s.toml", "--out", "s.toml"],
         ("--out", "s.toml", "input")),
    Case("1-run-out-onto-base-scenario", [*RUN, "--scenario", "s.toml", "--out", "b.toml"],
         ("--out", "b.toml", "input")),
    Case("1-run-excel-onto-input", [*RUN, "--out", "out/new.nc", "--excel", "{p}/sources.csv"],
         ("--excel", "sources.csv", "parameter directory")),
    Case("1-run-csv-into-params", [*RUN, "--out", "out/new.nc", "--csv", "{p}"],
         ("--csv", "parameter directory")),
    Case("1-run-csv-into-params-subdir", [*RUN, "--out", "out/new.nc", "--csv", "{p}/tables"],
         ("--csv", "parameter directory")),
    Case("1-run-plots-into-params", [*RUN, "--out", "out/new.nc", "--plots", "{p}/figs"],
         ("--plots", "parameter directory")),
    Case("1-run-out-symlink-to-input", [*RUN, "--out", "link.nc"], ("--out", "link.nc"),
         setup=_link("p/model.toml", "link.nc")),
    Case("1-run-out-hard-link-to-input", [*RUN, "--out", "hard.nc"],
         ("--out", "hard.nc", "hard link"), setup=_link("p/sources.csv", "hard.nc", hard=True)),
    Case("1-run-out-through-symlinked-dir", [*RUN, "--out", "plink/x.nc"],
         ("--out", "plink/x.nc", "parameter directory"), setup=_link("p", "plink")),
    Case("1-mc-out-onto-scenario-file", [*MC, "--scenario", "s.toml", "--out", "s.toml"],
         ("--out", "s.toml", "input")),
    Case("1-mc-out-into-params", [*MC, "--out", "{p}/mc.nc"], ("--out", "parameter directory")),
    Case("1-mc-plots-into-params", [*MC, "--out", "out/new.nc", "--plots", "{p}"],
         ("--plots", "parameter directory")),
    Case("1-mc-tmpdir-in-params", [*MC, "--out", "out/new.nc", "--tmpdir", "{p}"],
         ("--tmpdir", "parameter directory")),
    Case("1-sensitivity-out-into-params", [*SENS, "--out", "{p}/si.nc"],
         ("--out", "parameter directory")),
    Case("1-sensitivity-figure-into-params", [*SENS, "--figure", "{p}/si.png"],
         ("--figure", "parameter directory")),
    Case("1-plot-out-into-params",
         ["plot", "--params", "{p}", "res/r.nc", "--out-dir", "{p}/figs"],
         ("--out-dir", "parameter directory")),
    # ---- 8: every output checked before computing; a set is written all or none ----
    Case("8-run-csv-unwritable", [*RUN, "--out", "out/old.nc", "--csv", "/proc/mfa-tables"],
         ("--csv", "/proc")),
    Case("8-run-excel-unwritable", [*RUN, "--out", "out/old.nc", "--excel", "/proc/x.xlsx"],
         ("--excel", "/proc")),
    Case("8-run-plots-unwritable", [*RUN, "--out", "out/old.nc", "--plots", "/proc/figs"],
         ("--plots", "/proc")),
    Case("8-run-out-unwritable", [*RUN, "--out", "/proc/r.nc", "--csv", "out/tables"],
         ("--out", "/proc")),
    Case("8-run-out-is-a-directory", [*RUN, "--out", "out/tables"],
         ("--out", "out/tables", "is a directory")),
    Case("8-run-excel-is-a-directory", [*RUN, "--out", "out/old.nc", "--excel", "out/figs"],
         ("--excel", "out/figs", "is a directory")),
    Case("8-run-same-path-twice", [*RUN, "--out", "out/new.nc", "--excel", "out/new.nc"],
         ("--excel", "out/new.nc")),
    Case("8-run-name-too-long", [*RUN, "--out", f"out/{LONG}xyzw.nc"], ("--out", "bytes")),
    Case("8-mc-out-is-a-directory", [*MC, "--out", "out/tables"], ("--out", "is a directory")),
    # ---- 9: a full disk is one plain message, nothing left behind ----
    Case("9-run-netcdf-disk-full", [*RUN, "--out", "out/old.nc"],
         ("out/old.nc", "No space left on device"), enospc="out"),
    Case("9-run-csv-disk-full", [*RUN, "--out", "new/r.nc", "--csv", "out/tables"],
         ("out/tables", "No space left on device"), enospc="out/tables"),
    Case("9-run-excel-disk-full", [*RUN, "--out", "new/r.nc", "--excel", "out/book.xlsx"],
         ("out/book.xlsx", "No space left on device"), enospc="out"),
    Case("9-run-plots-disk-full", [*RUN, "--out", "new/r.nc", "--plots", "out/figs"],
         ("out/figs", "No space left on device"), enospc="out/figs"),
    Case("9-run-plots-disk-full-at-third-figure",
         [*RUN, "--out", "out/old.nc", "--plots", "out/figs"],
         ("out/figs", "No space left on device"), enospc="out/figs", enospc_after=2),
    Case("9-mc-disk-full", [*MC, "--out", "out/old.nc"],
         ("out/old.nc", "No space left on device"), enospc="out"),
    Case("9-mc-fan-charts-disk-full", [*MC, "--out", "out/old.nc", "--plots", "out/fans"],
         ("out/fans", "No space left on device"), enospc="out/fans"),
    Case("9-plot-disk-full", ["plot", "res/r.nc", "--out-dir", "out/figs"],
         ("out/figs", "No space left on device"), enospc="out/figs", enospc_after=1),
    # on a real 64 kB file system; --force passes the disk-space guard (case below) so that
    # the writers themselves meet the full disk
    Case("9-tmpfs-run-netcdf", [*RUN, "--force", "--out", "{full}/old.nc"],
         ("old.nc", "No space left on device"), absent=("Traceback", "HDF5", "h5py"),
         tmpfs=True),
    Case("9-tmpfs-run-csv", [*RUN, "--force", "--out", "out/new.nc", "--csv", "{full}/tables"],
         ("tables", "No space left on device"), tmpfs=True),
    Case("9-tmpfs-run-excel",
         [*RUN, "--force", "--out", "out/new.nc", "--excel", "{full}/book.xlsx"],
         ("book.xlsx", "No space left on device"), tmpfs=True),
    Case("9-tmpfs-run-plots", [*RUN, "--force", "--out", "out/new.nc", "--plots", "{full}/figs"],
         ("figs", "No space left on device"), tmpfs=True),
    Case("9-tmpfs-mc-store",
         [*MC, "--force", "--store", "disk", "--tmpdir", "{full}", "--out", "out/new.nc"],
         ("No space left on device",), absent=("Traceback", "h5py", "HDF5", "errno ="),
         tmpfs=True),
    Case("9-tmpfs-guard", [*RUN, "--out", "{full}/old.nc"], ("too large", "disk", "free"),
         tmpfs=True),
    # ---- 11: refuse what cannot finish, before starting ----
    Case("11-mc-a-billion-samples", [*MC[:3], "--samples", "1000000000", "--out", "out/new.nc"],
         ("too large", "1000000000 samples", "--force")),
    Case("11-model-end-100000", [*RUN, "--out", "out/new.nc"],
         ("too large", "98021 years", "--force"), setup=_model_end(100000)),
    Case("11-sensitivity-2-to-the-30", [*SENS[:3], "--samples", str(2**30), "--out", "out/s.nc"],
         ("too large", "--force")),
    # ---- 12: one message instead of a traceback ----
    Case("12-run-csv-onto-existing-file", [*RUN, "--out", "out/new.nc", "--csv", "out/old.nc"],
         ("--csv", "out/old.nc", "existing file")),
    Case("12-plot-out-onto-existing-file", ["plot", "res/r.nc", "--out-dir", "out/old.nc"],
         ("--out-dir", "out/old.nc", "existing file")),
    Case("12-plot-file-of-another-tool", ["plot", "res/other.nc", "--out-dir", "out/f"],
         ("other.nc", "time")),
    Case("12-plot-float-time", ["plot", "res/float_time.nc", "--out-dir", "out/f"],
         ("float_time.nc", "whole years")),
    Case("12-plot-string-time", ["plot", "res/string_time.nc", "--out-dir", "out/f"],
         ("string_time.nc", "whole years")),
    Case("12-plot-monte-carlo-output", ["plot", "res/mc.nc", "--out-dir", "out/f"],
         ("mc.nc", "Monte Carlo")),
    Case("12-plot-run-and-monte-carlo",
         ["plot", "res/r.nc", "res/mc.nc", "--out-dir", "out/f"],
         ("mc.nc", "Monte Carlo")),
    Case("12-mc-seed-2-to-the-63", [*MC, "--seed", str(2**63), "--out", "out/new.nc"],
         ("--seed", str(2**63))),
    Case("12-mc-seed-2-to-the-64", [*MC, "--seed", str(2**64), "--out", "out/new.nc"],
         ("--seed", str(2**64))),
    Case("12-sensitivity-figure-md", [*SENS, "--figure", "out/si.md"], ("--figure", ".md")),
    Case("12-sensitivity-figure-dir", [*SENS, "--figure", "out/sfig"],
         ("mfa: warning: '--figure out/sfig' (a directory) is deprecated",
          "use --figure out/sfig/sensitivity.png"), status=0,
         writes=("out/sfig/sensitivity.png",)),
    # ---- 14 ----
    Case("14-warning-on-one-line", [*RUN, "--scenario", "glut.toml", "--out", "out/g.nc"],
         ("mfa: warning: secondary Nd exceeds total demand",),
         absent=("Traceback", "warnings.warn", "Warning:"), status=0, writes=("out/g.nc",),
         setup=_write("glut.toml", GLUT)),
    Case("14-output-dir-cannot-be-created", [*RUN, "--out", "out/old.nc/sub/r.nc"],
         ("cannot create directory", "out/old.nc")),
    Case("14-plot-region-label-with-slash",
         ["plot", "res/slash.nc", "--kind", "sankey", "--region", "Asia/Pacific", "--out-dir",
          "out/figs"], status=0, writes=("out/figs/sankey_2050_Asia_Pacific.png",)),
    Case("14-plot-wrong-unit-names-the-variable",
         ["plot", "res/bad_unit.nc", "--out-dir", "out/f"],
         ("primary_demand", "kg/MW"), absent=("Traceback", "secondary_supply")),
    Case("14-plot-wrong-unit-leaves-no-partial-set",
         ["plot", "res/bad_hhi.nc", "--out-dir", "out/figs"], ("hhi", "kg")),
    Case("14-plot-all-nan", ["plot", "res/nan.nc", "--out-dir", "out/f"], ("nan.nc", "NaN")),
    Case("14-plot-not-hdf5", ["plot", "res/text.nc", "--out-dir", "out/f"],
         ("text.nc", "not a netCDF results file"),
         absent=("Traceback", "synchronously", "signature")),
    Case("14-plot-truncated-hdf5", ["plot", "res/truncated.nc", "--out-dir", "out/f"],
         ("truncated.nc", "not a netCDF results file"),
         absent=("Traceback", "synchronously", "eof =", "addr =")),
    Case("14-run-out-empty", [*RUN, "--out", ""], ("--out", "empty")),
    Case("14-run-csv-empty", [*RUN, "--out", "out/new.nc", "--csv", ""], ("--csv", "empty")),
    Case("14-plot-out-empty", ["plot", "res/r.nc", "--out-dir", ""], ("--out-dir", "empty")),
    Case("14-mc-out-empty", [*MC, "--out", ""], ("--out", "empty")),
    # ---- issue 12: --out names one file; a set of files goes to --out-dir ----
    Case("12-plot-out-deprecated-spelling", ["plot", "res/r.nc", "--kind", "sankey", "--out",
                                             "out/new"],
         ("mfa: warning: 'mfa plot --out out/new' (a directory) is deprecated",
          "use --out-dir out/new"), status=0, writes=("out/new/sankey_2050.png",)),
    Case("12-plot-out-deprecated-onto-existing-file",
         ["plot", "res/r.nc", "--out", "out/old.nc"],
         ("--out", "out/old.nc", "existing file")),
    Case("12-plot-out-and-out-dir", ["plot", "res/r.nc", "--out", "a", "--out-dir", "b"],
         ("--out a", "--out-dir b", "give only --out-dir")),
    Case("14-run-long-file-name-255-bytes", [*RUN, "--out", f"out/{LONG}.nc"], status=0,
         writes=(f"out/{LONG}.nc",)),
    Case("14-mc-factors-comma", [*MC, "--factors", ",", "--out", "out/new.nc"],
         ("factors", "lifetime_mean")),
    Case("14-mc-factor-calibration-only",
         [*MC, "--factors", "world_ree_mine_production", "--out", "out/new.nc"],
         ("world_ree_mine_production", "calibration", "lifetime_mean")),
    Case("14-mc-factor-without-range", [*MC, "--factors", "ev_sales", "--out", "out/new.nc"],
         ("ev_sales", "range", "lifetime_mean")),
    Case("14-sensitivity-factors-comma", [*SENS[:5], "--factors", ",", *SENS[7:]],
         ("factors", "lifetime_mean")),
    Case("14-mc-tmpdir-missing", [*MC, "--tmpdir", "out/nowhere", "--out", "out/new.nc"],
         ("--tmpdir", "out/nowhere")),
    Case("14-mc-tmpdir-is-a-file", [*MC, "--tmpdir", "out/old.nc", "--out", "out/new.nc"],
         ("--tmpdir", "out/old.nc", "not a directory")),
    Case("14-mc-tmpdir-unwritable", [*MC, "--tmpdir", "/proc", "--out", "out/new.nc"],
         ("--tmpdir", "/proc")),
    Case("14-sensitivity-samples-3", [*SENS[:3], "--samples", "3"], ("--samples", "power of 2")),
]


# ------------------------------------------------------------------------------ fixtures
def _mfa(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mfa", *args], capture_output=True, text=True,
                          cwd=cwd, env=env or ENV, timeout=300)


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Results files for ``mfa plot``: a run, a Monte Carlo summary and broken variants."""
    d = tmp_path_factory.mktemp("res")
    r = _mfa("run", "--out", str(d / "r.nc"), cwd=d)
    assert r.returncode == 0, r.stderr
    r = _mfa("mc", "--samples", "4", "--scheduler", "numpy", "--no-progress", "--out",
             str(d / "mc.nc"), "--factors", "lifetime_mean", cwd=d)
    assert r.returncode == 0, r.stderr
    from mfa.io import read_results

    ds = read_results(d / "r.nc")  # integer years (xarray alone decodes the CF time to dates)
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(d / "other.nc", engine="netcdf4")
    ds.assign_coords(time=ds["time"] + 0.5).to_netcdf(d / "float_time.nc", engine="netcdf4")
    ds.assign_coords(time=ds["time"].astype(str)).to_netcdf(d / "string_time.nc",
                                                            engine="netcdf4")
    bad = ds.copy()
    bad["primary_demand"].attrs["units"] = "kg/MW"
    bad.to_netcdf(d / "bad_unit.nc", engine="netcdf4")
    bad = ds.copy()
    bad["hhi"].attrs["units"] = "kg"  # drawn last: nothing may be written before the check
    bad.to_netcdf(d / "bad_hhi.nc", engine="netcdf4")
    (ds * np.nan).assign_attrs(ds.attrs).to_netcdf(d / "nan.nc", engine="netcdf4")
    regions = [("Asia/Pacific" if r == "Rest of Asia" else r) for r in ds["region"].values]
    ds.assign_coords(region=regions).to_netcdf(d / "slash.nc", engine="netcdf4")
    (d / "text.nc").write_text("not a netCDF file\n")
    (d / "truncated.nc").write_bytes((d / "r.nc").read_bytes()[:2000])
    return d


@pytest.fixture(scope="module")
def full_fs(tmp_path_factory: pytest.TempPathFactory):
    """A 64 kB tmpfs (root only); None where mount is not permitted."""
    mnt = tmp_path_factory.mktemp("full")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        yield None
        return
    try:
        yield mnt
    finally:
        for extra in ([], ["-l"]):  # -l: detach if busy
            if os.path.ismount(mnt):
                subprocess.run(["umount", *extra, str(mnt)], capture_output=True)


def _snapshot(*roots: Path) -> dict[str, str]:
    """Every file (content hash), directory and link under ``roots``."""
    out = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = Path(dirpath, name)
                key = str(p)
                if p.is_symlink():
                    out[key] = "link -> " + os.readlink(p)
                elif p.is_dir():
                    out[key] = "dir"
                else:
                    out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _workspace(root: Path, results: Path) -> Path:
    ws = root / "ws"
    shutil.copytree(default_params_dir(), ws / "p")
    (ws / "s.toml").write_text(SCENARIO)
    (ws / "b.toml").write_text(BASE)
    shutil.copytree(results, ws / "res")
    for name, content in OLD.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_bytes(content)
    return ws


# ------------------------------------------------------------------------------ the catalogue
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_catalogue(case: Case, tmp_path: Path, results_dir: Path, full_fs: Path | None) -> None:
    ws = _workspace(tmp_path, results_dir)
    full = None
    if case.tmpfs:
        if full_fs is None or not os.path.ismount(full_fs):
            pytest.skip("mounting a small tmpfs is not permitted here")
        full = full_fs / case.id
        full.mkdir()
        (full / "old.nc").write_bytes(b"an earlier result on the full disk")
    if case.setup:
        case.setup(ws)
    roots = [ws] + ([full] if full else [])
    before = _snapshot(*roots)
    argv = [a.format(p=ws / "p", full=full) for a in case.argv]
    if case.enospc:
        env = dict(ENV, MFA_CATALOGUE_ENOSPC=str(ws / case.enospc),
                   MFA_CATALOGUE_ENOSPC_AFTER=str(case.enospc_after))
        r = subprocess.run([sys.executable, "-c", ENOSPC_PRELUDE, *argv], capture_output=True,
                           text=True, cwd=ws, env=env, timeout=300)
    else:
        r = _mfa(*argv, cwd=ws)
    try:
        assert r.returncode == case.status, (r.returncode, r.stderr[-3000:])
        for text in case.absent:
            assert text not in r.stderr, (text, r.stderr[-3000:])
        after = _snapshot(*roots)
        if case.status == 2:
            lines = r.stderr.strip().splitlines()  # one error line (after notes, if any)
            assert lines and lines[-1].startswith("mfa: error: "), r.stderr[-3000:]
            assert all(line.startswith(("mfa: estimate: ", "mfa: warning: "))
                       for line in lines[:-1]), r.stderr[-3000:]
            for text in case.err:
                assert text in lines[-1], (text, lines[-1])
            assert after == before  # earlier outputs intact, nothing new (no temporaries)
        else:
            for text in case.err:
                assert text in r.stderr, (text, r.stderr)
            new = {k for k in after if k not in before}
            expected = {str(ws / w) for w in case.writes}
            assert expected <= new, (expected - new, new)
            parents = {str(p) for w in case.writes for p in (ws / w).parents}
            assert new - expected <= parents, new - expected - parents  # no temporaries
            assert {k: after[k] for k in before} == before  # nothing else changed
    finally:
        if full is not None:
            shutil.rmtree(full, ignore_errors=True)
