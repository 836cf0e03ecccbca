"""The `mfa` command: output, exit statuses, atomic writes, clear errors without traceback."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys

import pytest
import xarray as xr

from mfa.cli import build_parser, main
from mfa.data.params import default_params_dir


def mfa(*args, cwd=None):
    """Run the command in a subprocess, as a user would (python -m mfa)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "mfa", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


@pytest.fixture()
def params_copy(tmp_path):
    d = tmp_path / "params"
    shutil.copytree(default_params_dir(), d)
    return d


def test_run_writes_netcdf_and_prints_summary(tmp_path, capsys):
    out = tmp_path / "base.nc"
    assert main(["run", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for label in ["Total demand", "Primary demand, separated oxide", "Primary demand, ore",
                  "Secondary supply, end of life", "Secondary supply, new scrap",
                  "End-of-life recycling rate [%]", "Recycling input rate, all scrap [%]",
                  "Primary demand avoided by EoL recycling [t/yr]",
                  "Primary demand avoided by EoL recycling [%]",
                  "China share of mining", "China share of magnet making", "2030", "2040", "2050"]:
        assert label in text
    ds = xr.open_dataset(out)
    assert ds.attrs["scenario"] == "baseline"
    assert ds["primary_demand"].attrs["units"] == "t/yr"
    ds.close()


def test_run_writes_csv_tables(tmp_path):
    out = tmp_path / "r.nc"
    csv = tmp_path / "tables"
    assert main(["run", "--scenario", "high-recycling", "--out", str(out), "--csv", str(csv)]) == 0
    iamc = (csv / "iamc.csv").read_text().splitlines()
    assert iamc[0].startswith("Model,Scenario,Region,Variable,Unit,")
    assert any("high-recycling" in line for line in iamc[1:])


def test_python_dash_m_and_scenarios_listing():
    r = mfa("scenarios")
    assert r.returncode == 0, r.stderr
    names = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    assert {"baseline", "no-recycling", "high-recycling", "net-zero", "net-zero-circular",
            "diversified-supply"} <= set(names)


def test_compare(capsys):
    assert main(["compare", "baseline", "high-recycling"]) == 0
    text = capsys.readouterr().out
    assert "Primary demand, separated oxide [t/yr]" in text and "B - A" in text
    # primary demand avoided by B against A: 0 for A, A's primary demand minus B's for B
    rows = [line.split() for line in text.splitlines()
            if line.startswith("Primary demand avoided vs baseline [t/yr]") and " 2050 " in line]
    assert len(rows) == 1 and rows[0][-4] == "0"
    import mfa.models.neodymium as nd

    base, high = nd.run("baseline"), nd.run("high-recycling")
    expect = float((base["primary_demand"] - high["primary_demand"]).sum("region").sel(time=2050))
    assert rows[0][-3] == f"{expect:,.0f}"
    assert "-0.0" not in text  # no negative zeros (issue 12)


def _assert_user_error(r, *fragments):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    for f in fragments:
        assert f in r.stderr, (f, r.stderr)


def test_unknown_scenario_is_a_clear_error(tmp_path):
    r = mfa("run", "--scenario", "baseline-typo", "--out", str(tmp_path / "x.nc"))
    _assert_user_error(r, "baseline-typo")
    assert not (tmp_path / "x.nc").exists()


def test_wrong_unit_in_a_parameter_file(tmp_path, params_copy):
    path = next(p for p in params_copy.glob("*.csv") if "\nmagnet_per_vehicle," in p.read_text())
    text = path.read_text()
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("magnet_per_vehicle,"))
    lines[i] = lines[i].replace("kg/vehicle", "kg/MW")
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "x.nc"
    r = mfa("--params", str(params_copy), "run", "--out", str(out))
    _assert_user_error(r, path.name, str(i + 1), "kg/MW")
    assert not out.exists()


def test_failed_run_does_not_clobber_earlier_result(tmp_path, params_copy):
    out = tmp_path / "keep.nc"
    assert mfa("--params", str(params_copy), "run", "--out", str(out)).returncode == 0
    before = out.read_bytes()
    bad = params_copy / "scenarios" / "broken.toml"
    bad.write_text('name = "broken"\ndescription = "typo"\nbase = "baseline"\ncolour = 3\n')
    r = mfa("--params", str(params_copy), "run", "--scenario", "broken", "--out", str(out))
    _assert_user_error(r, "broken.toml", "colour")
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("keep")] == ["keep.nc"]


def test_text_in_a_number_column(tmp_path, params_copy):
    path = params_copy / "drivers.csv"
    lines = path.read_text().splitlines()
    h = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    k = next(i for i, line in enumerate(lines) if i > h and line.startswith("ev_sales,"))
    row = next(csv.reader([lines[k]]))
    row[next(csv.reader([lines[h]])).index("value")] = "twelve"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    lines[k] = buf.getvalue()
    path.write_text("\n".join(lines) + "\n")
    r = mfa("--params", str(params_copy), "run", "--out", str(tmp_path / "x.nc"))
    _assert_user_error(r, "drivers.csv", str(k + 1), "twelve")


def test_missing_params_dir(tmp_path):
    r = mfa("--params", str(tmp_path / "nowhere"), "run", "--out", str(tmp_path / "x.nc"))
    _assert_user_error(r, "nowhere")


def test_plot_command_writes_figures(tmp_path):
    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    assert main(["run", "--out", str(a)]) == 0
    assert main(["run", "--scenario", "no-recycling", "--out", str(b)]) == 0
    out = tmp_path / "figs"
    assert main(["plot", str(a), str(b), "--kind", "sankey", "--kind", "comparison",
                 "--year", "2040", "--out-dir", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["sankey_2040.png", "scenario_comparison.png"]
    assert all((out / n).stat().st_size > 10_000 for n in names)


def test_plot_bad_year_is_a_user_error(tmp_path):
    a = tmp_path / "a.nc"
    assert main(["run", "--out", str(a)]) == 0
    r = mfa("plot", str(a), "--kind", "sankey", "--year", "1900", "--out-dir",
            str(tmp_path / "f"))
    _assert_user_error(r, "1900")


def test_interactive_sankey_and_excel(tmp_path):
    pytest.importorskip("plotly")
    pytest.importorskip("openpyxl")
    a = tmp_path / "a.nc"
    xlsx = tmp_path / "a.xlsx"
    assert main(["run", "--out", str(a), "--excel", str(xlsx)]) == 0
    assert xlsx.stat().st_size > 10_000
    out = tmp_path / "figs"
    assert main(["plot", str(a), "--kind", "sankey", "--format", "html", "--year", "2030",
                 "--out-dir", str(out)]) == 0
    html = (out / "sankey_2030.html").read_text()
    assert "plotly" in html.lower() and "Recycling" in html


def test_plot_kinds_in_help_and_unknown_kind(tmp_path, capsys):
    from mfa.models.neodymium.figures import FIGURE_KINDS

    build_parser().parse_args(["plot", "x.nc"])  # builds without importing matplotlib's figures
    sub = build_parser()._subparsers._group_actions[0].choices["plot"]
    kind_help = next(a.help for a in sub._actions if "--kind" in a.option_strings)
    assert all(k in kind_help for k in FIGURE_KINDS)
    a = tmp_path / "a.nc"
    assert main(["run", "--out", str(a)]) == 0
    capsys.readouterr()
    assert main(["plot", str(a), "--kind", "sankee", "--out-dir", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "sankee" in err and "concentration" in err
