"""Catalogue of bad and extreme inputs to the loaders, each run through ``mfa run`` (issue 8).

Every case breaks one thing in a fresh copy of the default data (or writes a scenario file) and
runs ``mfa --params COPY run ...``. It must end with exit status 2, exactly one line
``mfa: error: ...`` on stderr that names the file and the row or key, no traceback, and no file
written or changed anywhere in the case's directory (a pre-existing output file left intact,
no temporary files). Cases that need a fault injected (permission denied: tests run as root) or
a value the command line cannot carry (a NUL) call :func:`mfa.cli.main` in this process; cases
that hung the old loader (FIFOs) run ``python -m mfa`` in a subprocess with a timeout.
"""

from __future__ import annotations

import builtins
import csv
import errno
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mfa.cli import main
from mfa.data.params import default_params_dir

HEADER = ["parameter", "region", "product", "stage", "year", "value", "unit", "low", "high",
          "source", "note"]
OLD_OUTPUT = b"results of an earlier run"


# ---------------------------------------------------------------------------------------------
# Helpers to break a copy of the data
# ---------------------------------------------------------------------------------------------
def edit_row(path: Path, startswith: str, **changes: str) -> int:
    """Change cells of the first row starting with ``startswith``; return its line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith(startswith))
    row = next(csv.reader([lines[k]]))
    header = next(csv.reader([next(x for x in lines if not x.startswith("#"))]))
    for col, value in changes.items():
        row[header.index(col)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    lines[k] = buf.getvalue()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return k + 1


def set_value(path: Path, startswith: str, value: str, **more: str) -> int:
    """Set the value of a row and clear its range (so that only the value is at fault)."""
    return edit_row(path, startswith, value=value, low="", high="", **more)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def scenario(t: Path, body: str, name: str = "mine", header: str | None = None) -> Path:
    """A scenario file outside the parameter directory, on top of the baseline."""
    d = t / "s"
    d.mkdir(exist_ok=True)
    p = d / f"{name}.toml"
    if header is None:
        header = f'name = "{name}"\nbase = "baseline"\n'
    p.write_text(header + body, encoding="utf-8", errors="surrogateescape")  # "\udce9": 0xE9
    return p


def override(parameter: str, text: str, unit: str = "1") -> str:
    return f'\n[[override]]\nparameter = "{parameter}"\nunit = "{unit}"\n{text}\n'


def inject_oserror(monkeypatch: pytest.MonkeyPatch, func: str, target: Path,
                   err: int = errno.EACCES) -> None:
    """Make ``os.<func>(target)`` fail with ``err`` (chmod does not stop root).

    ``"open"`` also patches the built-in ``open`` (what ``Path.read_bytes`` calls).
    """
    modules = [(os, func)] + ([(builtins, "open"), (io, "open")] if func == "open" else [])
    for module, name in modules:
        real = getattr(module, name)

        def fake(path, *args, real=real, **kwargs):
            if isinstance(path, str | os.PathLike) and os.fspath(path) == os.fspath(target):
                raise OSError(err, os.strerror(err), os.fspath(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(module, name, fake)


# ---------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------
@dataclass
class Case:
    """One bad input: ``setup(t, p)`` breaks the copy ``p`` and returns extra CLI arguments and
    the strings the message must contain; ``inject(monkeypatch, t, p)`` patches faults in."""

    id: str
    setup: Callable[[Path, Path], tuple[list[str], list[str]]]
    inject: Callable[[pytest.MonkeyPatch, Path, Path], None] | None = None
    subprocess: bool = False  # run `python -m mfa` (the old loader hung on these)
    default_out: bool = False  # no --out: the default results/<name>.nc in the working dir
    multi: bool = False  # several problems: "mfa: error: N problems ..." and one "  - " line each
    marks: list = field(default_factory=list)


def after(_effects: object, result: tuple[list[str], list[str]]) -> tuple[list[str], list[str]]:
    """``result``, once the side effects in the first argument have been done."""
    return result


def _line(path: Path, startswith: str, **changes: str) -> str:
    return f"line {edit_row(path, startswith, **changes)}"


CASES: list[Case] = [
    # -- item 1: years outside the model years (1980-2050) ------------------------------------
    Case("year-data-2102", lambda t, p: ([], [
        "technology.csv", _line(p / "technology.csv", "pm_share,,wind_onshore,,2012", year="2102"),
        "year 2102", "outside the model years 1980-2050"])),
    Case("year-data-1890", lambda t, p: ([], [
        "drivers.csv", _line(p / "drivers.csv", "ev_sales,China,ev_bev,,2009", year="1890"),
        "year 1890"])),
    Case("year-data-1e12", lambda t, p: ([], [
        "drivers.csv", _line(p / "drivers.csv", "ev_sales,China,ev_bev,,2009", year="1e12"),
        "year 1e12"])),
    Case("year-ramp-to-20500", lambda t, p: (
        ["--scenario", str(scenario(t, override(
            "collection_rate", "ramp = { from_year = 2025, to_year = 20500, to_value = 0.6 }")))],
        ["mine.toml", "override #1", "ramp 'to_year'", "year 20500"])),
    Case("year-trajectory-20500", lambda t, p: (
        ["--scenario", str(scenario(t, override(
            "collection_rate", "trajectory = { 2030 = 0.2, 20500 = 0.9 }")))],
        ["mine.toml", "override #1", "'trajectory'", "year 20500"])),
    Case("year-trajectory-30-digits", lambda t, p: (  # was an OverflowError
        ["--scenario", str(scenario(t, override(
            "collection_rate", "trajectory = { 2030 = 0.2, 999999999999999999999999999999 = 0.9 }")))],
        ["mine.toml", "override #1", "'trajectory'", "year 999999999999999999999999999999"])),
    Case("year-from-year-2105", lambda t, p: (
        ["--scenario", str(scenario(t, override(
            "collection_rate", "value = 0.5\nfrom_year = 2105")))],
        ["mine.toml", "override #1", "'from_year'", "year 2105"])),
    Case("year-model-end-20500", lambda t, p: after(
        replace(p / "model.toml", "end = 2050", "end = 20500"),
        ([], ["model.toml", "[time]", "20500"]))),
    Case("year-model-5000", lambda t, p: after(
        replace(p / "model.toml", "end = 2050", "end = 5000"),
        ([], ["model.toml", "[time]", "at most 1000"]))),
    # -- item 2: scenario names ---------------------------------------------------------------
    Case("name-dotdot", lambda t, p: (
        ["--scenario", str(scenario(t, "", header='name = "../../escaped"\nbase = "baseline"\n'))],
        ["mine.toml", "key 'name'", "'../../escaped'", "not a plain label"]), default_out=True),
    Case("name-absolute", lambda t, p: (
        ["--scenario", str(scenario(t, "", header=f'name = "{t / "abs"}"\nbase = "baseline"\n'))],
        ["mine.toml", "key 'name'", "not a plain label"]), default_out=True),
    Case("name-backslash", lambda t, p: (
        ["--scenario", str(scenario(t, "", header='name = "..\\\\..\\\\x"\n'))],
        ["mine.toml", "key 'name'", "not a plain label"]), default_out=True),
    Case("name-empty", lambda t, p: (
        ["--scenario", str(scenario(t, "", header='name = ""\n'))],
        ["mine.toml", "key 'name'", "it is empty"]), default_out=True),
    Case("name-nul", lambda t, p: (
        ["--scenario", str(scenario(t, "", header='name = "a\\u0000b"\n'))],
        ["mine.toml", "key 'name'", "control character"]), default_out=True),
    Case("name-newline", lambda t, p: (
        ["--scenario", str(scenario(t, "", header='name = "a\\nb"\n'))],
        ["mine.toml", "key 'name'", "control character"]), default_out=True),
    Case("name-too-long", lambda t, p: (
        ["--scenario", str(scenario(t, "", header=f'name = "{"x" * 101}"\n'))],
        ["mine.toml", "key 'name'", "101 characters"]), default_out=True),
    Case("name-of-shipped-scenario", lambda t, p: (
        ["--scenario", str(scenario(t, override("collection_rate", "value = 0.5"),
                                    header='name = "baseline"\n'))],
        ["mine.toml", "name 'baseline' is already used by the scenario in",
         str(p / "scenarios" / "baseline.toml"), "choose another name"]), default_out=True),
    Case("stem-of-shipped-scenario", lambda t, p: (
        ["--scenario", str(scenario(t, override("collection_rate", "value = 0.5"),
                                    name="high-recycling", header=""))],
        ["s/high-recycling.toml", "name 'high-recycling' is already used",
         str(p / "scenarios" / "high-recycling.toml")]), default_out=True),
    Case("name-taken-inside-scenarios-dir", lambda t, p: after(
        (p / "scenarios" / "copy.toml").write_text('name = "high-recycling"\nbase = "baseline"\n'),
        (["--scenario", "copy"], ["copy.toml", "name 'high-recycling' is already used"])),
        default_out=True),
    Case("name-nul-on-command-line", lambda t, p: (
        ["--scenario", "base\x00line"], ["'base\\x00line'", "NUL"])),
    Case("params-nul-on-command-line", lambda t, p: (
        ["--params", f"{p}\x00x"], ["NUL"])),
    # -- item 3: files that are not regular, unreadable, deep chains ---------------------------
    Case("permission-data-file", lambda t, p: ([], [
        str(p / "drivers.csv"), "cannot read the file: Permission denied"]),
        inject=lambda mp, t, p: inject_oserror(mp, "open", p / "drivers.csv")),
    Case("permission-model-toml", lambda t, p: ([], [
        str(p / "model.toml"), "cannot read the file: Permission denied"]),
        inject=lambda mp, t, p: inject_oserror(mp, "open", p / "model.toml")),
    Case("permission-params-dir", lambda t, p: ([], [
        str(p), "cannot read the parameter directory: Permission denied"]),
        inject=lambda mp, t, p: inject_oserror(mp, "scandir", p)),
    Case("permission-scenario-file", lambda t, p: (
        ["--scenario", str(scenario(t, ""))],
        [str(t / "s" / "mine.toml"), "cannot read the scenario file: Permission denied"]),
        inject=lambda mp, t, p: inject_oserror(mp, "open", t / "s" / "mine.toml")),
    Case("permission-scenarios-dir", lambda t, p: (
        ["--scenario", str(scenario(t, ""))],
        [str(p / "scenarios"), "cannot read the scenario directory: Permission denied"]),
        inject=lambda mp, t, p: inject_oserror(mp, "scandir", p / "scenarios")),
    Case("eio-data-file", lambda t, p: ([], [str(p / "technology.csv"), "Input/output error"]),
         inject=lambda mp, t, p: inject_oserror(mp, "open", p / "technology.csv", errno.EIO)),
    Case("directory-named-csv", lambda t, p: after(
        (p / "x.csv").mkdir(), ([], [str(p / "x.csv"), "is a directory"]))),
    Case("directory-named-model-toml", lambda t, p: after(
        ((p / "model.toml").unlink(), (p / "model.toml").mkdir()),
        ([], [str(p / "model.toml"), "is a directory"]))),
    Case("directory-named-sources-csv", lambda t, p: after(
        ((p / "sources.csv").unlink(), (p / "sources.csv").mkdir()),
        ([], [str(p / "sources.csv"), "is a directory"]))),
    Case("directory-named-scenario", lambda t, p: after(
        (p / "scenarios" / "x.toml").mkdir(),
        (["--scenario", "x"], [str(p / "scenarios" / "x.toml"), "is a directory"]))),
    Case("fifo-named-csv", lambda t, p: after(
        os.mkfifo(p / "x.csv"), ([], [str(p / "x.csv"), "is a FIFO"])), subprocess=True),
    Case("fifo-named-registry", lambda t, p: after(
        ((p / "registry.toml").unlink(), os.mkfifo(p / "registry.toml")),
        ([], [str(p / "registry.toml"), "is a FIFO"])), subprocess=True),
    Case("fifo-named-scenario", lambda t, p: after(
        os.mkfifo(p / "scenarios" / "pipe.toml"),
        (["--scenario", "pipe"], [str(p / "scenarios" / "pipe.toml"), "is a FIFO"])),
        subprocess=True),
    Case("symlink-loop-csv", lambda t, p: after(
        os.symlink("loop.csv", p / "loop.csv"),
        ([], [str(p / "loop.csv"), "cannot read the file"]))),
    Case("broken-symlink-csv", lambda t, p: after(
        os.symlink(t / "nowhere.csv", p / "gone.csv"),
        ([], [str(p / "gone.csv"), "file not found"]))),
    Case("params-is-a-file", lambda t, p: after(
        (t / "file").write_text("x"),
        (["--params", str(t / "file")], [str(t / "file"), "not a directory"]))),
    Case("base-chain-1100-deep", lambda t, p: after(
        _deep_chain(t, 1100),
        (["--scenario", str(t / "s" / "c1099.toml")],
         ["c1099.toml", "base chain is longer than 50 scenarios", "c1099.toml -> c1098.toml"]))),
    # -- item 4: implausible values -----------------------------------------------------------
    Case("plausible-ev-sales-1e20", lambda t, p: ([], [
        "drivers.csv", _line(p / "drivers.csv", "ev_sales,China,ev_bev,,2010", value="1e20"),
        "1e+20 vehicle/yr", "plausible maximum 1e+09 vehicle/yr"])),
    Case("plausible-wind-5e7", lambda t, p: ([], [
        "fleets.csv", _line(p / "fleets.csv", "wind_capacity,", value="5e8", low="", high=""),
        "plausible maximum"])),
    Case("plausible-magnet-per-vehicle-1500", lambda t, p: ([], [
        "technology.csv", f"line {set_value(p / 'technology.csv', 'magnet_per_vehicle,,ev_bev', '1500')}",
        "1500 kg/vehicle", "plausible maximum 100 kg/vehicle"])),
    Case("plausible-magnet-per-mw-6e5", lambda t, p: ([], [
        "technology.csv", f"line {set_value(p / 'technology.csv', 'magnet_per_mw,,wind_onshore', '6e5')}",
        "plausible maximum 5000 kg/MW"])),
    Case("plausible-nd-share-0.6", lambda t, p: ([], [
        "technology.csv", f"line {set_value(p / 'technology.csv', 'nd_share_in_magnet,,ev_bev', '0.6')}",
        "plausible maximum 0.4"])),
    Case("plausible-lifetime-1000", lambda t, p: ([], [
        "lifetimes.csv", f"line {set_value(p / 'lifetimes.csv', 'lifetime_mean,,ev_bev', '1000')}",
        "1000 yr", "plausible maximum 200 yr"])),
    Case("plausible-lifetime-0.05", lambda t, p: ([], [
        "lifetimes.csv", f"line {set_value(p / 'lifetimes.csv', 'lifetime_mean,,ev_bev', '0.05')}",
        "plausible minimum 0.1 yr"])),
    Case("plausible-other-demand-kt", lambda t, p: ([], [
        "end_uses.csv",
        f"line {set_value(p / 'end_uses.csv', 'end_use_nd_direct,,,non_magnet_uses,,1980', '5000', unit='kt/yr')}",
        "plausible maximum 1e+06 t/yr"])),
    Case("plausible-calibration-kt", lambda t, p: ([], [
        "calibration.csv",
        _line(p / "calibration.csv", "world_ree_mine_production,,,,1985", unit="kt/yr"),
        "plausible maximum 1e+07 t/yr"])),
    Case("plausible-override-value", lambda t, p: (
        ["--scenario", str(scenario(t, override("ev_sales", "value = 1e20", "vehicle/yr")))],
        ["mine.toml", "override(s) #1", "ev_sales", "plausible maximum"])),
    Case("plausible-override-scale", lambda t, p: (
        ["--scenario", str(scenario(t, '\n[[override]]\nparameter = "wind_capacity"\nscale = 1e6\n'))],
        ["mine.toml", "override(s) #1", "wind_capacity", "plausible maximum"])),
    Case("plausible-override-trajectory", lambda t, p: (
        ["--scenario", str(scenario(t, override("magnet_per_vehicle", "trajectory = { 2030 = 1500 }",
                                                "kg/vehicle")))],
        ["mine.toml", "override(s) #1", "magnet_per_vehicle", "plausible maximum"])),
    # -- item 5: sums, calibration parameters in scenarios ------------------------------------
    Case("sum-to-one-rows", lambda t, p: ([], [
        "production_share", "must sum to 1", "stage=mining, year=1991: sum 0.99",
        _sum_rows(p)])),
    Case("override-of-calibration-parameter", lambda t, p: (
        ["--scenario", str(scenario(t, override("world_ree_mine_production", "value = 5e5", "t/yr")))],
        ["mine.toml", "override #1", "world_ree_mine_production", "role = 'calibration'"])),
    # -- item 6: more mistakes of a demanding user --------------------------------------------
    Case("empty-unit", lambda t, p: ([], [
        "processing.csv", _line(p / "processing.csv", "collection_rate,", unit=""), "empty unit"])),
    Case("ambiguous-ton", lambda t, p: ([], [
        "end_uses.csv", _line(p / "end_uses.csv", "end_use_nd_direct,", unit="ton/yr"),
        "'ton' is ambiguous"])),
    Case("ambiguous-ton-override", lambda t, p: (
        ["--scenario", str(scenario(t, override("end_use_nd_direct", "value = 100", "tons/yr")))],
        ["mine.toml", "override #1", "'tons' is ambiguous"])),
    Case("upper-case-CSV-suffix", lambda t, p: after(  # was silently ignored
        (p / "more.CSV").write_text(",".join(HEADER) + "\n"
                                    + (p / "lifetimes.csv").read_text().splitlines()[2] + "\n"),
        ([], ["more.CSV, line 2", "duplicate row"]))),
    Case("spreadsheet-in-params", lambda t, p: after(  # its edits were silently ignored
        (p / "drivers.xlsx").write_bytes(b"PK\x03\x04"),
        ([], [str(p / "drivers.xlsx"), "is not read", "save the sheet as CSV"]))),
    Case("value-overflow", lambda t, p: ([], [
        "end_uses.csv",
        f"line {set_value(p / 'end_uses.csv', 'end_use_nd_direct,,,non_magnet_uses,,1980', '1e308', unit='Mt/yr')}",
        "too large"])),
    Case("year-2030.5", lambda t, p: ([], [
        "drivers.csv", _line(p / "drivers.csv", "ev_sales,China,ev_bev,,2010", year="2030.5"),
        "not an integer year"])),
    Case("duplicate-row", lambda t, p: after(
        _append(p / "lifetimes.csv", (p / "lifetimes.csv").read_text().splitlines()[2]),
        ([], ["lifetimes.csv", "duplicate row", "first given in"]))),
    Case("empty-data-file", lambda t, p: after(
        (p / "technology.csv").write_text(""), ([], ["technology.csv", "empty file"]))),
    Case("header-only-data-file", lambda t, p: after(
        (p / "technology.csv").write_text(",".join(HEADER) + "\n"),
        ([], ["registry.toml", "no data rows", "pm_share"])), multi=True),
    Case("non-utf8-csv", lambda t, p: after(
        (p / "lifetimes.csv").write_bytes((p / "lifetimes.csv").read_bytes() + b"\xff\xfe\n"),
        ([], ["lifetimes.csv", "not UTF-8"]))),
    Case("non-utf8-toml", lambda t, p: after(
        (p / "model.toml").write_bytes(b"# caf\xe9\n" + (p / "model.toml").read_bytes()),
        ([], ["model.toml", "not UTF-8"]))),
    Case("non-utf8-scenario", lambda t, p: (
        ["--scenario", str(scenario(t, "# caf\udce9\n"))], ["mine.toml", "not UTF-8"])),
    Case("very-long-field", lambda t, p: ([], [
        "lifetimes.csv", _line(p / "lifetimes.csv", "lifetime_mean,,ev_bev", note="x" * 200_000)])),
    Case("nul-byte-in-csv", lambda t, p: ([], [
        "lifetimes.csv", _line(p / "lifetimes.csv", "lifetime_mean,,ev_bev", value="1\x007")])),
    Case("allow-years-malformed", lambda t, p: after(
        replace(p / "registry.toml", 'role = "model"\n', 'role = "model"\nallow_years = 1950\n'),
        ([], ["registry.toml", "[parameters.ev_sales]", "'allow_years'"]))),
    Case("plausible-bound-not-a-number", lambda t, p: after(
        replace(p / "registry.toml", "plausible_max = 1e9", 'plausible_max = "1e9"'),
        ([], ["registry.toml", "[parameters.ev_sales]", "'plausible_max' must be a number"]))),
]


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def _deep_chain(t: Path, n: int) -> None:
    d = t / "s"
    d.mkdir(exist_ok=True)
    for i in range(n):
        base = "baseline" if i == 0 else f"c{i - 1}"
        (d / f"c{i}.toml").write_text(f'name = "c{i}"\nbase = "{base}"\n')


def _sum_rows(p: Path) -> str:
    """Break the 2000 mining shares (China 0.9 -> 0.8); return the text naming the rows."""
    edit_row(p / "production_shares.csv", "production_share,China,,mining,2000", value="0.8")
    return f"rows: {p / 'production_shares.csv'}, lines 3-14"


# ---------------------------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------------------------
def _snapshot(t: Path) -> dict[str, bytes | None]:
    """Every path under ``t`` with the content of regular files (None for others)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(t):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            is_file = path.is_file() and not path.is_symlink()
            out[str(path.relative_to(t))] = path.read_bytes() if is_file else None
    return out


def run_case(case: Case, t: Path, monkeypatch: pytest.MonkeyPatch, capsys,
             existing_output: bool) -> tuple[int, str]:
    """Set the case up in ``t``, run it; return (exit status, stderr)."""
    p = t / "p"
    shutil.copytree(default_params_dir(), p, ignore=shutil.ignore_patterns("__pycache__"))
    args, expected = case.setup(t, p)
    work = t / "work" / "dir"  # the default output results/<name>.nc goes below here
    work.mkdir(parents=True)
    out_dir = t / "out"
    out_dir.mkdir()
    out = out_dir / "out.nc"
    if existing_output:
        out.write_bytes(OLD_OUTPUT)
    cli = [*([] if "--params" in args else ["--params", str(p)]), "run"]
    cli += [a for a in args]
    if not case.default_out:
        cli += ["--out", str(out)]
    before = _snapshot(t)
    if case.inject is not None:
        case.inject(monkeypatch, t, p)
    if case.subprocess:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
        try:
            proc = subprocess.run([sys.executable, "-m", "mfa", *cli], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{case.id}: `mfa run` hung (60 s)")
        status, err = proc.returncode, proc.stderr
    else:
        monkeypatch.chdir(work)
        status = main(cli)
        err = capsys.readouterr().err
        monkeypatch.undo()  # before the snapshot: injected faults would hit os.scandir/open
    after = _snapshot(t)
    assert status == 2, f"exit status {status}; stderr: {err}"
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0].startswith("mfa: error: ") and err.count("mfa: error:") == 1, err
    if case.multi:
        assert all(line.startswith("  - ") for line in lines[1:]), err
    else:
        assert len(lines) == 1, err
    for text in expected:
        assert text in err, f"{text!r} not in {err!r}"
    assert after == before, f"files changed: {sorted(set(after) ^ set(before))}"
    if existing_output:
        assert out.read_bytes() == OLD_OUTPUT
    return status, err


RUNS = [pytest.param(c, False, id=f"{c.id}-no-output") for c in CASES] + [
    pytest.param(c, True, id=f"{c.id}-old-output") for c in CASES if not c.subprocess
]  # subprocess cases run once (slow)


@pytest.mark.parametrize(("case", "existing_output"), RUNS)
def test_bad_input_catalogue(case: Case, existing_output: bool, tmp_path, monkeypatch, capsys):
    run_case(case, tmp_path, monkeypatch, capsys, existing_output)
