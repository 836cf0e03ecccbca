"""Conventions of the ``mfa`` command (issue 12, item 7): ``--version``, ``-q``/``-v``, results
on stdout and status on stderr, one progress bar drawn only on a terminal, ``--out`` always
a file and ``--out-dir`` a directory."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

import mfa
from mfa.analysis.progress import ProgressBar
from mfa.cli import build_parser, main

ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
#: ``python -m mfa`` with tqdm hidden: the plain progress bar.
NO_TQDM = "import sys; sys.modules['tqdm'] = None\nfrom mfa.cli import main\nsys.exit(main())"
MC = ["mc", "--samples", "8", "--chunk", "2", "--factors", "lifetime_mean", "--seed", "1"]


def _python_m_mfa(*args: str) -> list[str]:
    return [sys.executable, "-m", "mfa", *args]


def _run_with_terminal(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``argv`` with stderr on a pseudo-terminal (100 columns) and stdout on a pipe."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, cwd=cwd, env=ENV) as proc:
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        out = proc.stdout.read()
        proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode()


def _updates(text: str) -> int:
    """Carriage returns that redraw a line (a terminal writes ``\\r\\n`` for every newline)."""
    return len(re.findall(r"\r(?!\n)", text))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# ------------------------------------------------------------------------------ the bar itself
def test_plain_bar_draws_on_a_terminal_only(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the fallback
    term = _Terminal()
    with ProgressBar(4, "Figures", "figure", stream=term) as bar:
        for _ in range(4):
            bar.update()
    text = term.getvalue()
    assert text.startswith("\rFigures: [") and text.endswith("\n")
    assert "100% 4/4 figures" in text.splitlines()[-1]
    assert text.count("100%") == 1  # the final state once, not again at close

    for stream, enabled in ((io.StringIO(), True), (_Terminal(), False)):
        with ProgressBar(4, "x", stream=stream, enabled=enabled) as bar:
            bar.update(4)
        assert stream.getvalue() == ""
        assert bar.count == 4 and not bar.active


def test_tqdm_bar_draws_on_a_terminal_only():
    pytest.importorskip("tqdm")
    term, pipe = _Terminal(), io.StringIO()
    for stream in (term, pipe):
        with ProgressBar(3, unit="sample", stream=stream) as bar:
            bar.update(3)
    assert "3/3" in term.getvalue() and "\r" in term.getvalue()
    assert pipe.getvalue() == ""


# ------------------------------------------------------------------------------ the options
def test_every_subcommand_has_the_common_options():
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices
    for name, sp in sub.items():
        options = {o for a in sp._actions for o in a.option_strings}
        assert {"-q", "--quiet", "-v", "--verbose", "--params", "--model"} <= options, name
        assert "--out" not in options or name != "plot" or "--out-dir" in options
    assert parser.parse_args(["-q", "scenarios"]).quiet
    assert parser.parse_args(["scenarios", "-q"]).quiet
    assert parser.parse_args(["run", "-v"]).verbose and not parser.parse_args(["run"]).quiet


def test_version():
    r = subprocess.run(_python_m_mfa("--version"), capture_output=True, text=True, env=ENV,
                       timeout=60)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith(f"mfa (nd-mfa) {mfa.__version__}")
    root = Path(mfa.__file__).resolve().parents[1]
    if (root / ".git").exists() and shutil.which("git"):
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        assert re.search(rf", git {head}(-dirty)?$", r.stdout.strip()), r.stdout


def test_quiet_and_verbose_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["-q", "scenarios", "-v"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mfa: error: ") and "-q/--quiet" in err


def test_results_on_stdout_status_on_stderr(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--out", "r.nc"]) == 0
    cap = capsys.readouterr()
    assert "Primary demand, separated oxide" in cap.out and "written" not in cap.out
    assert cap.err == "Results written to r.nc\n"

    assert main(["run", "-q", "--out", "q.nc", "--csv", "tables"]) == 0
    cap = capsys.readouterr()
    assert "Primary demand, separated oxide" in cap.out and cap.err == ""

    assert main(["-v", "run", "--out", "v.nc", "--csv", "tables2"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("mfa: estimate: ") and "Results written to v.nc" in err
    assert "  tables2/iamc.csv" in err.splitlines()  # -v: every file written

    assert main(["plot", "r.nc", "--kind", "sankey"]) == 0  # --out-dir defaults to figures/
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err == "1 figure written to figures\n"
    assert (tmp_path / "figures" / "sankey_2050.png").stat().st_size > 10_000


# ------------------------------------------------------------------------------ progress
def test_redirected_monte_carlo_writes_no_progress(tmp_path):
    """Issue 12: a redirected run wrote 115 progress updates into its log."""
    pytest.importorskip("dask")
    r = subprocess.run(_python_m_mfa(*MC, "--scheduler", "threads", "--out", "mc.nc"),
                       capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stderr and "%" not in r.stderr, r.stderr
    assert r.stderr.splitlines()[-1] == "Results written to mc.nc"
    assert "primary_demand" in r.stdout


def test_progress_on_a_terminal_and_never_with_quiet(tmp_path):
    pytest.importorskip("dask")
    status, out, err = _run_with_terminal(
        _python_m_mfa(*MC, "--scheduler", "threads", "--out", "a.nc"), tmp_path)
    assert status == 0, err
    assert _updates(err) >= 2 and "8/8" in err  # dask's tasks reach the one bar
    assert "primary_demand" in out and "\r" not in out

    status, out, err = _run_with_terminal(
        _python_m_mfa(*MC, "--scheduler", "numpy", "-q", "--out", "b.nc"), tmp_path)
    assert status == 0, err
    assert err == "" and "primary_demand" in out


def test_plot_draws_the_plain_bar_without_tqdm(tmp_path):
    assert main(["run", "-q", "--out", str(tmp_path / "r.nc")]) == 0
    status, out, err = _run_with_terminal(
        [sys.executable, "-c", NO_TQDM, "plot", "r.nc", "--kind", "sankey", "--kind", "demand",
         "--out-dir", "figs"], tmp_path)
    assert status == 0, err
    assert "\rFigures: [" in err and "100% 2/2 figures" in err
    assert err.endswith("2 figures written to figs\r\n") and out == ""


def test_compare_differences_in_whole_tonnes_and_no_negative_zero():
    import xarray as xr

    from mfa.cli.summary import compare_table

    def run(values, name):
        return xr.Dataset({"flow": ("time", values, {"units": "t/yr"})},
                          coords={"time": [2030, 2040]}, attrs={"scenario": name})

    text = compare_table(run([1000.4, 2000.6], "a"), run([1000.4 - 1e-9, 2100.0], "b"),
                         years=(2030, 2040))
    rows = [line.split() for line in text.splitlines()[1:]]
    assert [r[-2:] for r in rows] == [["+0", "+0.0"], ["+99", "+5.0"]]  # B - A, change %
