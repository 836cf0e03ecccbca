"""``mfa report`` (issue 12, item 4): one self-contained, offline HTML report, checked in its
text and in a real browser (Debian's chromium, driven by Playwright; ``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import xarray as xr

from mfa.cli import main
from mfa.core.errors import MfaError
from mfa.data.params import load_parameters
from mfa.io import read_results
from mfa.io.report import write_report

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PLOTLY_BANNER = re.compile(r"\* plotly\.js v\d")


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """Results of two scenarios, a small Monte Carlo summary, and the two reports."""
    d = tmp_path_factory.mktemp("report")
    files = {"base": d / "baseline.nc", "high": d / "high.nc", "mc": d / "mc.nc",
             "run_report": d / "run.html", "comparison": d / "comparison.html"}
    assert main(["run", "--out", str(files["base"])]) == 0
    assert main(["run", "--scenario", "high-recycling", "--out", str(files["high"])]) == 0
    assert main(["mc", "--samples", "16", "--scheduler", "numpy", "--no-progress",
                 "--out", str(files["mc"])]) == 0
    assert main(["report", str(files["base"]), "--mc", str(files["mc"]),
                 "--out", str(files["run_report"])]) == 0
    assert main(["report", str(files["base"]), str(files["high"]),
                 "--out", str(files["comparison"])]) == 0
    return files


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _cell(x: float) -> str:
    return f"{round(x) + 0:,.0f}"


# ------------------------------------------------------------------------------ contents
def test_run_report_is_self_contained_with_plotly_once(made):
    html = _text(made["run_report"])
    assert len(PLOTLY_BANNER.findall(html)) == 1  # plotly.js inlined once, in the head
    assert html.count("<script") == 2  # plotly.js and the one Sankey
    assert not re.search(r"""<(script|img|link|iframe)[^>]+(src|href)=["']?(https?:)?//""", html)
    assert len(html.encode()) < 4_900_000 + 1_500_000  # plotly.js + figures and one Sankey
    assert html.count('class="plotly-graph-div"') == 1
    # headline table: the model's rows, the summary years
    ds = read_results(made["base"])
    avoided = float(ds["primary_demand_avoided"].sel(time=2050))
    row = re.search(r"<tr><td>Primary demand avoided by EoL recycling \[t/yr\]</td>(.*?)</tr>", html).group(1)
    assert re.findall(r'class="n">([^<]*)<', row)[-1] == _cell(avoided)
    # demand, supply, stock and concentration figures, all decodable PNG
    world = [v for v in read_results(made["mc"]).data_vars if str(v).startswith("world_")]
    assert len(world) >= 3
    assert html.count('<img alt="') == 5 + len(world)  # 5 figures, a fan chart per total
    assert html.count('<img alt="fan chart of world_') == len(world)


def test_run_report_glossary_sources_and_provenance(made):
    html = _text(made["run_report"])
    ds = read_results(made["base"])
    glossary = html.split("id='glossary'")[1].split("id='sources'")[0]
    for v in ds.data_vars:
        assert f"<code>{v}</code>" in glossary, v
        if ds[v].attrs.get("long_name"):
            assert ds[v].attrs["long_name"].replace("'", "&#x27;") in glossary, v
    sources = load_parameters().sources
    block = html.split("id='sources'")[1]
    assert all(f"<code>{key}</code>" in block for key in sources)
    prov = html.split("id='provenance'")[1]
    for key in ("model_version", "created", "scenario_sha256", "parameter_files"):
        assert f"<th>{key}</th>" in prov
    assert json.loads(ds.attrs["scenario_files"])["baseline.toml"] in prov


def test_run_report_uncertainty_table(made):
    html = _text(made["run_report"])
    mc = read_results(made["mc"])
    part = html.split("id='uncertainty'")[1].split("id='glossary'")[0]
    row = re.search(r"<tr><td>primary_demand \[t/yr\]</td><td>2050</td>(.*?)</tr>", part)
    expected = [_cell(float(x)) for x in mc["world_primary_demand"].sel(time=2050).values]
    assert re.findall(r'class="n">([^<]*)<', row.group(1)) == expected
    assert "16 samples" in part


def test_comparison_report(made):
    html = _text(made["comparison"])
    assert len(PLOTLY_BANNER.findall(html)) == 1
    assert html.count('class="plotly-graph-div"') == 2  # one Sankey per scenario
    assert "comparison of baseline, high-recycling" in html
    rows = re.findall(r"<tr><td>Primary demand avoided by EoL recycling \[t/yr\]</td><td>([^<]*)</td>", html)
    assert rows == ["baseline", "high-recycling"]
    assert html.count('<img alt="') == 2 * 5 + 1  # and the comparison, first
    figures = html.split("id='figures'")[1]
    assert figures.index("<h3>Scenarios compared</h3>") < figures.index(
        '<img alt="scenario comparison"') < figures.index("<h3>baseline</h3>")
    assert "id='uncertainty'" not in html


# ------------------------------------------------------------------------------ errors
def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mfa: error: "), err
    return lines[0]


@pytest.mark.parametrize("case, expected", [
    ("out_is_input", "refused: it is an input of this run"),
    ("not_html", "expected a file name ending in .html"),
    ("mc_as_results", "a Monte Carlo result (dims sample, quantile); give it with --mc"),
    ("results_as_mc", "not a Monte Carlo summary"),
    ("twice", "a results file is given twice"),
    ("missing", "results file not found"),
    ("other_model", "--model other: the results come from model neodymium"),
])
def test_user_mistakes_exit_2_with_one_line(made, tmp_path, capsys, case, expected):
    base, mc = str(made["base"]), str(made["mc"])
    link = tmp_path / "link.html"
    link.symlink_to(base)
    out = str(tmp_path / "r.html")
    argv = {"out_is_input": [base, "--out", str(link)],
            "not_html": [base, "--out", str(tmp_path / "r.nc")],
            "mc_as_results": [mc, "--out", out],
            "results_as_mc": [base, "--mc", base, "--out", out],
            "twice": [base, base, "--out", out],
            "missing": [str(tmp_path / "nope.nc"), "--out", out],
            "other_model": [base, "--model", "other", "--out", out]}[case]
    before = made["base"].read_bytes()
    assert main(["report", *argv]) == 2
    assert expected in _one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.html"]  # nothing written
    assert made["base"].read_bytes() == before


def test_monte_carlo_of_another_scenario_is_refused(made, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(made["high"]), "--mc", str(made["mc"]), "--out", str(out)]) == 2
    assert "a Monte Carlo summary of scenario 'baseline', but the results are of " \
           "high-recycling" in _one_error_line(capsys)
    assert not out.exists()


def test_a_failing_figure_leaves_the_old_report_and_no_temporary(made, tmp_path):
    class Broken:
        FIGURE_KINDS = ("demand",)

        def save_all(self, *args, **kwargs):
            raise MfaError("figure failed")

    out = tmp_path / "r.html"
    out.write_text("old report")
    with pytest.raises(MfaError, match="figure failed"):
        write_report({"b": read_results(made["base"])}, out, figures=Broken())
    assert out.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_results_without_flows_are_refused(tmp_path):
    ds = xr.Dataset({"x": ("time", [1.0, 2.0], {"units": "t"})}, coords={"time": [2020, 2021]})
    with pytest.raises(MfaError, match="sankey"):
        write_report({"x.nc": ds}, tmp_path / "r.html")
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------ browser
def _open(page, path: Path) -> tuple[list[str], list[str]]:
    """Open ``path``; returns the console errors and the requests that left the file."""
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: outside.append(f"failed: {r.url}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:"))
            else outside.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .sankey-node').length > 0")
    return errors, outside


def _sankey_state(page) -> dict:
    return page.evaluate("""() => {
        const div = document.querySelector('.js-plotly-plot');
        const box = e => { const r = e.getBoundingClientRect();
                           return [e.textContent, r.left, r.top, r.right, r.bottom]; };
        return {title: div.querySelector('.gtitle').textContent,
                links: Array.from(div.querySelectorAll('.sankey-link')).map(p => p.getAttribute('d')),
                nodes: Array.from(div.querySelectorAll('.sankey-node')).map(
                    n => n.getAttribute('transform')),
                labels: Array.from(div.querySelectorAll('.sankey-node .node-label')).map(box)
                    .filter(b => b[0] !== '')};
    }""")


def _overlapping(boxes: list) -> list[tuple[str, str]]:
    """Pairs of labels whose boxes overlap by more than half a pixel."""
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5 and a[2] < b[4] - 0.5 and b[2] < a[4] - 0.5:
                out.append((a[0], b[0]))
    return out


def test_report_in_a_real_browser(made, tmp_path):
    from playwright.sync_api import sync_playwright  # the test extra; never skipped

    assert Path(CHROMIUM).exists(), \
        f"{CHROMIUM} missing: install Debian's chromium (apt-get install chromium; .ci/run does)"
    shot = tmp_path / "report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors, outside = _open(page, made["run_report"])
            # every figure rendered: each plotly div has its SVG with nodes and bands, each
            # image decoded
            divs = page.evaluate("""() => Array.from(document.querySelectorAll(
                '.plotly-graph-div')).map(d => [d.querySelectorAll('svg.main-svg').length,
                d.querySelectorAll('.sankey-node').length,
                d.querySelectorAll('.sankey-link').length])""")
            assert len(divs) == 1 and all(s > 0 and n >= 9 and k >= 9 for s, n, k in divs)
            images = page.evaluate("""() => Array.from(document.images).map(
                i => [i.complete, i.naturalWidth, i.alt])""")
            assert len(images) == _text(made["run_report"]).count("<img ") >= 8
            assert all(ok and w > 0 for ok, w, _ in images), images
            before = _sankey_state(page)
            assert "2050" in before["title"]
            assert len(before["labels"]) >= 9 and _overlapping(before["labels"]) == []
            slider = page.locator(".slider-rail-touch-rect").first
            slider.scroll_into_view_if_needed()
            rail = slider.bounding_box()
            page.mouse.click(rail["x"] + 5, rail["y"] + rail["height"] / 2)  # the first year
            page.wait_for_function("!document.querySelector('.gtitle').textContent"
                                   ".includes('2050')")
            page.wait_for_timeout(1500)  # plotly animates the change of year
            after = _sankey_state(page)
            assert "1980" in after["title"]
            assert after["links"] != before["links"] and after["nodes"] != before["nodes"]
            assert _overlapping(after["labels"]) == []
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    print(f"screenshot: {shot}")
    assert errors == [] and outside == []
    assert shot.stat().st_size > 10_000


def test_a_model_without_figures_gets_the_sankey_and_generic_rows(tmp_path):
    """The report knows no model: results with flow attrs and no figures or summary rows of
    their own get the Sankey, world totals of their mass variables, glossary and provenance."""
    from tests.test_sankey_generic import copper_like

    ds = copper_like()
    out = write_report({"cu.nc": ds}, tmp_path / "cu.html")
    html = _text(out)
    assert len(PLOTLY_BANNER.findall(html)) == 1 and html.count('class="plotly-graph-div"') == 1
    assert "<img " not in html and "id='figures'" not in html
    assert "Cu material-flow report: scenario test" in html
    products = float(ds["products"].sum("region").sel(time=2010))
    row = re.search(r"<tr><td>products \(world\) \[t/yr\]</td>(.*?)</tr>", html).group(1)
    assert re.findall(r'class="n">([^<]*)<', row) == [_cell(products)]  # last year only
    assert "No bibliography was given." in html
    assert "mass_balance_residual (world)" not in html  # diagnostics are not headlines
    assert [p.name for p in tmp_path.iterdir()] == ["cu.html"]


def test_a_bibliography_other_than_the_runs_is_said(made, tmp_path):
    """The sources come from --params; when its sources.csv is not the one the results were
    made with, a warning says so and the report's note too (never a silent mismatch)."""
    import argparse
    import shutil
    import warnings

    from mfa.cli.report import _bibliography
    from mfa.core.model import get
    from mfa.data.params import default_params_dir

    params = tmp_path / "params"
    shutil.copytree(default_params_dir(), params)
    results = {str(made["base"]): read_results(made["base"])}
    model = get("neodymium")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sources, note = _bibliography(argparse.Namespace(params=str(params)), model, results)
    assert "Warning" not in note and sources == load_parameters().sources
    with (params / "sources.csv").open("a") as fh:
        fh.write('extra-2026,"A. Author (2026) Extra source",,,S,\n')
    with pytest.warns(UserWarning, match="differs from the one the results .* were made with"):
        sources, note = _bibliography(argparse.Namespace(params=str(params)), model, results)
    assert "extra-2026" in sources and "Warning: the bibliography of" in note
