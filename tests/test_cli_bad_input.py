"""Every kind of mistake in a parameter or scenario file: one clear message, exit status 2.

Each case edits a copy of the default data the way a spreadsheet user might, runs
``mfa --params COPY run``, and checks the status, that the message names the file and the row or
key and what was expected, that no traceback is printed and that no output file is left.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from mfa.cli import main
from mfa.data.params import default_params_dir

HEADER = ["parameter", "region", "product", "stage", "year", "value", "unit", "low", "high",
          "source", "note"]


@pytest.fixture()
def params_copy(tmp_path: Path) -> Path:
    d = tmp_path / "params"
    shutil.copytree(default_params_dir(), d)
    return d


def _rows(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _edit_row(path: Path, startswith: str, **changes: str) -> int:
    """Change cells of the first row starting with ``startswith``; return its line number."""
    lines = _rows(path)
    k = next(i for i, line in enumerate(lines) if line.startswith(startswith))
    row = next(csv.reader([lines[k]]))
    for col, value in changes.items():
        row[HEADER.index(col)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    lines[k] = buf.getvalue()
    path.write_text("\n".join(lines) + "\n")
    return k + 1


def _run(params: Path, tmp_path: Path, capsys, *extra: str) -> str:
    out = tmp_path / "out.nc"
    status = main(["--params", str(params), "run", "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    assert err.startswith("mfa: error: ")
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.nc")]
    return err


def test_unknown_parameter(params_copy, tmp_path, capsys):
    line = _edit_row(params_copy / "drivers.csv", "ev_sales,", parameter="ev_sale")
    err = _run(params_copy, tmp_path, capsys)
    assert "drivers.csv" in err and f"line {line}" in err and "ev_sale" in err


def test_unknown_region(params_copy, tmp_path, capsys):
    line = _edit_row(params_copy / "drivers.csv", "ev_sales,China,", region="Chine")
    err = _run(params_copy, tmp_path, capsys)
    assert "drivers.csv" in err and f"line {line}" in err and "Chine" in err and "China" in err


def test_unknown_product(params_copy, tmp_path, capsys):
    line = _edit_row(params_copy / "drivers.csv", "ev_sales,China,ev_bev,", product="ev_bevv")
    err = _run(params_copy, tmp_path, capsys)
    assert "drivers.csv" in err and f"line {line}" in err and "ev_bevv" in err


def test_unit_of_the_wrong_dimension(params_copy, tmp_path, capsys):
    line = _edit_row(params_copy / "fleets.csv", "wind_capacity,", unit="MW/yr")
    err = _run(params_copy, tmp_path, capsys)
    assert "fleets.csv" in err and f"line {line}" in err and "MW" in err and "MW/yr" in err


def test_share_outside_0_1(params_copy, tmp_path, capsys):
    line = _edit_row(params_copy / "processing.csv", "collection_rate,", value="1.5", high="1.6")
    err = _run(params_copy, tmp_path, capsys)
    assert "processing.csv" in err and f"line {line}" in err and "1.5" in err
    assert "maximum 1" in err


def test_shares_that_do_not_sum_to_one(params_copy, tmp_path, capsys):
    _edit_row(params_copy / "production_shares.csv", "production_share,China,,mining,2018",
              value="0.9")
    err = _run(params_copy, tmp_path, capsys)
    assert "production_share" in err and "sum" in err and "mining" in err and "2018" in err


def test_year_gap_too_large(params_copy, tmp_path, capsys):
    path = params_copy / "drivers.csv"
    lines = [line for line in _rows(path)
             if not (line.startswith("ev_sales,China,ev_bev,,20") and
                     2011 <= int(line.split(",")[4]) <= 2023)]
    path.write_text("\n".join(lines) + "\n")
    err = _run(params_copy, tmp_path, capsys)
    assert "drivers.csv" in err and "ev_sales" in err and "gap" in err
    assert "2010" in err and "2024" in err


@pytest.mark.parametrize("bad", ["NaN", "twelve", ""])
def test_nan_or_text_in_a_number_column(params_copy, tmp_path, capsys, bad):
    line = _edit_row(params_copy / "technology.csv", "magnet_per_vehicle,", value=bad)
    err = _run(params_copy, tmp_path, capsys)
    assert "technology.csv" in err and f"line {line}" in err and "value" in err


def test_unknown_source_key(params_copy, tmp_path, capsys):
    line = _edit_row(params_copy / "lifetimes.csv", "lifetime_mean,", source="nobody-2024")
    err = _run(params_copy, tmp_path, capsys)
    assert "lifetimes.csv" in err and f"line {line}" in err and "nobody-2024" in err


def _scenario(params: Path, text: str) -> Path:
    path = params / "scenarios" / "mine.toml"
    path.write_text(text)
    return path


def test_unknown_scenario_key(params_copy, tmp_path, capsys):
    _scenario(params_copy, 'name = "mine"\ndescription = "x"\nbase = "baseline"\n\n'
                           '[[override]]\nparameter = "collection_rate"\nunit = "1"\n'
                           'value = 0.2\nproduct = "ev_bev"\nfrom_yeer = 2030\n')
    err = _run(params_copy, tmp_path, capsys, "--scenario", "mine")
    assert "mine.toml" in err and "from_yeer" in err


def test_scenario_override_of_an_unknown_region(params_copy, tmp_path, capsys):
    _scenario(params_copy, 'name = "mine"\ndescription = "x"\n\n'
                           '[[override]]\nparameter = "collection_rate"\nunit = "1"\n'
                           'value = 0.2\nregion = "Atlantis"\n')
    err = _run(params_copy, tmp_path, capsys, "--scenario", "mine")
    assert "mine.toml" in err and "Atlantis" in err


def test_scenario_unit_of_the_wrong_dimension(params_copy, tmp_path, capsys):
    _scenario(params_copy, 'name = "mine"\ndescription = "x"\n\n'
                           '[[override]]\nparameter = "magnet_per_vehicle"\nunit = "kg/MW"\n'
                           'value = 2.0\n')
    err = _run(params_copy, tmp_path, capsys, "--scenario", "mine")
    assert "mine.toml" in err and "kg/MW" in err and "kg/vehicle" in err


def test_scenario_breaking_a_share_sum(params_copy, tmp_path, capsys):
    _scenario(params_copy, 'name = "mine"\ndescription = "x"\n\n'
                           '[[override]]\nparameter = "production_share"\nstage = "magnet"\n'
                           'region = "Europe"\nunit = "1"\nvalue = 0.5\n')
    err = _run(params_copy, tmp_path, capsys, "--scenario", "mine")
    assert "mine.toml" in err and "production_share" in err and "sum" in err


def test_scenario_file_that_is_not_toml(params_copy, tmp_path, capsys):
    path = tmp_path / "broken.toml"
    path.write_text('name = "broken\n')
    err = _run(params_copy, tmp_path, capsys, "--scenario", str(path))
    assert "broken.toml" in err
