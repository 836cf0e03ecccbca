"""A self-contained HTML report of one run, or a comparison of scenarios (``mfa report``).

One file for readers who do not code: headline table, the interactive Sankey diagram (a year
slider) with the recycling loop, the model's figures (demand, supply, stocks, concentration by
stage), uncertainty bands when a Monte Carlo summary is given, a glossary of every indicator
(from the variables' ``long_name`` and ``units``), the data sources and the provenance.

Everything is inside the file: plotly.js once (in the head), figures as PNG data URIs, no
link to the network, so it opens offline. The model supplies its parts through duck-typed
hooks (this layer knows no model): ``summary_rows(ds)`` -> ``[(label, series over time,
"t" | "%"), ...]`` and a ``figures`` namespace with ``save_all`` (and optionally
``FIGURE_KINDS``, ``SANKEY_LAYOUT``), as :mod:`mfa.models.neodymium.figures`.
"""

from __future__ import annotations

import base64
import html
import json
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from mfa.core.errors import MfaError
from mfa.io.outputs import OutputSet, joined, write_bytes

__all__ = ["REPORT_YEARS", "check_report_inputs", "report_html", "write_report"]

#: Years of the headline table (those within the run; else its last year).
REPORT_YEARS = (2030, 2040, 2050)
#: Figure kinds of the model's ``save_all`` drawn in the report (the Sankey is interactive).
_STATIC_KINDS = ("demand", "supply", "stock-by-product", "stock-by-region", "concentration")
_DPI = 96

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1180px;padding:0 1.2em 3em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin:.8em 0 .2em}h2{border-bottom:1px solid #ccc;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border-bottom:1px solid #e2e2e2;padding:.25em .6em;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
figure{margin:1em 0}figure img{max-width:100%;height:auto}
figcaption,.note{color:#555;font-size:.9em}nav a{margin-right:1em}
code{font-size:.92em;background:#f4f4f4;padding:0 .2em}
"""


# ------------------------------------------------------------------------------ checks
def check_report_inputs(results: Mapping[str, xr.Dataset], mc: xr.Dataset | None = None,
                        mc_label: str = "--mc") -> None:
    """Check that every result is one run and ``mc`` a Monte Carlo summary of one of them.

    Raises
    ------
    MfaError
        Naming the file (the mapping's key): a Monte Carlo result given as a run, a result
        without whole years, a Monte Carlo summary without quantiles or of another scenario.
    """
    if not results:
        raise MfaError("report: no results given")
    for name, ds in results.items():
        ensemble = [d for d in ("sample", "quantile") if d in ds.dims]
        if ensemble:
            raise MfaError(f"{name}: a Monte Carlo result (dims {', '.join(ensemble)}); give "
                           "it with --mc, and the results of `mfa run` as RESULTS")
        if "time" not in ds.coords or ds["time"].ndim != 1 or ds["time"].dtype.kind not in "iu":
            raise MfaError(f"{name}: no 'time' coordinate of whole years; expected the "
                           "results of `mfa run`")
    if mc is None:
        return
    what = mc_label
    world = [v for v in mc.data_vars if str(v).startswith("world_")]
    if "quantile" not in mc.dims or not world:
        raise MfaError(f"{what}: not a Monte Carlo summary (no 'quantile' dim and world_* "
                       "variables); expected the output of `mfa mc`")
    scenarios = {str(ds.attrs.get("scenario")) for ds in results.values()}
    if str(mc.attrs.get("scenario")) not in scenarios:
        raise MfaError(f"{what}: a Monte Carlo summary of scenario "
                       f"{mc.attrs.get('scenario')!r}, but the results are of "
                       f"{', '.join(sorted(scenarios))}; give the summary of one of them")


# ------------------------------------------------------------------------------ pieces
def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _png(fig: Any) -> str:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(data_b64: str, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return (f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data_b64}">'
            f"{cap}</figure>")


def _years(ds: xr.Dataset, years: Sequence[int]) -> list[int]:
    have = {int(t) for t in ds["time"].values}
    return [int(y) for y in years if int(y) in have] or [int(ds["time"].values[-1])]


def _cell(x: float, kind: str) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{round(x) + 0:,.0f}" if kind == "t" else f"{round(x, 1) + 0.0:.1f}"


def _headline(results: Mapping[str, xr.Dataset], rows: Callable[[xr.Dataset], list],
              years: Sequence[int]) -> str:
    first = next(iter(results.values()))
    ys = _years(first, years)
    several = len(results) > 1
    head = "<tr><th>Indicator</th>" + ("<th>Scenario</th>" if several else "") + "".join(
        f'<th class="n">{y}</th>' for y in ys) + "</tr>"
    per = {name: rows(ds) for name, ds in results.items()}
    body = []
    for i, (label, _, _) in enumerate(per[next(iter(per))]):
        for name, r in per.items():
            _, da, kind = r[i]
            cells = "".join(f'<td class="n">{_cell(float(da.sel(time=y)), kind)}</td>'
                            if y in da["time"] else '<td class="n">n/a</td>' for y in ys)
            scen = f"<td>{_e(name)}</td>" if several else ""
            body.append(f"<tr><td>{_e(label)}</td>{scen}{cells}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _generic_rows(ds: xr.Dataset) -> list[tuple[str, xr.DataArray, str]]:
    """World totals of every mass variable but the balance diagnostics, named as in the
    glossary (for a model without ``summary_rows``)."""
    out = []
    for v in ds.data_vars:
        da = ds[v]
        if da.attrs.get("units") in ("t/yr", "t") and "time" in da.dims and not \
                str(v).startswith(("mass_balance_", "process_throughput")):
            out.append((f"{v} (world) [{da.attrs['units']}]",
                        da.sum([d for d in da.dims if d != "time"]), "t"))
    return out


def _sankey_div(ds: xr.Dataset, layout: Any, div_id: str) -> str:
    from mfa.plot.sankey import sankey_plotly

    fig = sankey_plotly(ds, layout=layout)
    div = fig.to_html(include_plotlyjs=False, full_html=False, div_id=div_id,
                      config={"displaylogo": False, "responsive": True})
    return f"<figure>{div}<figcaption>{_e(fig.layout.meta['caption'])}</figcaption></figure>"


def _model_figures(figures: Any, ds: xr.Dataset, compare: Mapping[str, xr.Dataset] | None
                   ) -> list[tuple[str, str]]:
    """(file stem, PNG base64) of the model's static figures, drawn by its ``save_all``:
    those of one run, or with ``compare`` only the comparison of the scenarios."""
    known = getattr(figures, "FIGURE_KINDS", (*_STATIC_KINDS, "comparison"))
    kinds = ["comparison"] if compare else [k for k in _STATIC_KINDS if k in known]
    if not set(kinds) <= set(known):
        return []
    with tempfile.TemporaryDirectory(prefix="mfa-report-") as tmp:
        paths = figures.save_all(ds, Path(tmp) / "figures", formats=("png",), dpi=_DPI,
                                 kinds=kinds, compare=compare)
        return [(Path(p).stem, base64.b64encode(Path(p).read_bytes()).decode("ascii"))
                for p in paths]


def _uncertainty(mc: xr.Dataset, years: Sequence[int]) -> str:
    from mfa.plot import fan_chart

    world = [str(v) for v in mc.data_vars if str(v).startswith("world_")
             and set(mc[v].dims) == {"quantile", "time"}]
    q = [float(x) for x in mc["quantile"].values]
    ys = _years(mc, years)
    head = "<tr><th>World total</th><th>Year</th>" + "".join(
        f'<th class="n">q{100 * x:g}</th>' for x in q) + "</tr>"
    rows = []
    for v in world:
        unit = mc[v].attrs.get("units", "")
        for y in ys:
            cells = "".join(f'<td class="n">{_cell(float(x), "t")}</td>'
                            for x in mc[v].sel(time=y).values)
            rows.append(f"<tr><td>{_e(v.removeprefix('world_'))} [{_e(unit)}]</td>"
                        f"<td>{y}</td>{cells}</tr>")
    a = mc.attrs
    intro = (f"<p>Monte Carlo ensemble of scenario <b>{_e(a.get('scenario', '?'))}</b>: "
             f"{_e(a.get('mc_samples', '?'))} samples, seed {_e(a.get('mc_seed', '?'))}, "
             f"{_e(a.get('mc_distribution', ''))}. Bands: quantiles "
             f"{', '.join(f'{x:g}' for x in q)} over the samples. "
             f"{_e(a.get('mc_correlation', ''))}.</p>")
    figs = []
    for v in world:
        fig = fan_chart(mc, v)
        figs.append(_img(_png(fig), f"fan chart of {v}"))
        fig.clear()
    return intro + f"<table>{head}{''.join(rows)}</table>" + "".join(figs)


def _glossary(datasets: Sequence[xr.Dataset]) -> str:
    seen: dict[str, tuple[str, str, str]] = {}
    for ds in datasets:
        for v in ds.data_vars:
            a = ds[v].attrs
            if str(v) not in seen and not str(v).startswith("sample_"):
                dims = ", ".join(str(d) for d in ds[v].dims if d not in ("quantile",))
                seen[str(v)] = (a.get("long_name", ""), a.get("units", ""), dims)
    rows = "".join(f"<tr><td><code>{_e(k)}</code></td><td>{_e(n or '(no description)')}</td>"
                   f"<td>{_e(u)}</td><td>{_e(d)}</td></tr>" for k, (n, u, d) in seen.items())
    return ("<table><tr><th>Variable</th><th>Meaning</th><th>Unit</th><th>By</th></tr>"
            f"{rows}</table>")


def _json_attr(value: Any) -> dict | None:
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _sources(sources: Mapping[str, Mapping[str, str]] | None, note: str) -> str:
    if not sources:
        return f'<p class="note">{_e(note or "No bibliography was given.")}</p>'
    rows = []
    for key, rec in sources.items():
        url = rec.get("url", "")
        link = f'<br><span class="note">{_e(url)}</span>' if url else ""
        rows.append(f"<tr><td><code>{_e(key)}</code></td><td>{_e(rec.get('citation', ''))}"
                    f"{link}</td><td>{_e(rec.get('licence', ''))}</td></tr>")
    text = f'<p class="note">{_e(note)}</p>' if note else ""
    return (f"{text}<table><tr><th>Key</th><th>Source</th><th>Licence</th></tr>"
            f"{''.join(rows)}</table>")


def _provenance(results: Mapping[str, xr.Dataset], mc: xr.Dataset | None) -> str:
    out = []
    items = list(results.items()) + ([("Monte Carlo summary", mc)] if mc is not None else [])
    for name, ds in items:
        rows = []
        for k, v in ds.attrs.items():
            parsed = _json_attr(v)
            if parsed is not None:
                v = "; ".join(f"{a}: {b}" for a, b in parsed.items())
            rows.append(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>")
        out.append(f"<h3>{_e(name)}</h3><table>{''.join(rows)}</table>")
    return "".join(out)


# ------------------------------------------------------------------------------ report
def report_html(results: Mapping[str, xr.Dataset], *, mc: xr.Dataset | None = None,
                mc_label: str = "--mc",
                summary_rows: Callable[[xr.Dataset], list] | None = None,
                figures: Any = None, sources: Mapping[str, Mapping[str, str]] | None = None,
                sources_note: str = "", years: Sequence[int] = REPORT_YEARS,
                title: str | None = None) -> str:
    """The HTML text of a report of one run or a comparison of several.

    Parameters
    ----------
    results : mapping of str to xarray.Dataset
        Label (e.g. the file name) -> results of one run (:func:`mfa.io.read_results`);
        several make a scenario comparison. Flows carry ``source``/``target`` attrs, masses
        their ``units`` [t, t/yr].
    mc : xarray.Dataset, optional
        Monte Carlo summary (``mfa mc``) of one of the scenarios: quantile tables and fan
        charts of its ``world_*`` variables [their units].
    mc_label : str
        Name of ``mc`` in messages (e.g. its file).
    summary_rows : callable, optional
        ``ds -> [(label, series over time, "t" | "%"), ...]``: the headline rows (default:
        world totals of every mass variable).
    figures : module-like, optional
        The model's figures: ``save_all(ds, dir, formats=, dpi=, kinds=, compare=)`` and
        optionally ``FIGURE_KINDS`` and ``SANKEY_LAYOUT``; None: the Sankey only.
    sources : mapping, optional
        Bibliography: key -> {"citation", "url", "licence"}.
    sources_note : str
        Where the bibliography comes from (shown above it).
    years : sequence of int
        Years of the headline tables (those within the run).
    title : str, optional
        Page title (default from the material and scenarios).

    Returns
    -------
    str
        A complete HTML document with plotly.js inlined once.

    Raises
    ------
    MfaError
        See :func:`check_report_inputs`.
    """
    check_report_inputs(results, mc, mc_label)
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MfaError("mfa report needs plotly, an optional extra: pip install "
                       "'nd-mfa[plotly]' (or pip install plotly)") from exc
    rows = summary_rows or _generic_rows
    first = next(iter(results.values()))
    names = {label: str(ds.attrs.get("scenario", label)) for label, ds in results.items()}
    scen = dict(zip(names.values(), results.values(), strict=True))
    if len(scen) < len(results):  # two files of one scenario: tell them apart by file
        scen = {f"{names[k]} ({k})": ds for k, ds in results.items()}
    material = first.attrs.get("material", "")
    title = title or (f"{material} material-flow report: " +
                      (f"scenario {next(iter(scen))}" if len(scen) == 1 else
                       f"comparison of {', '.join(scen)}")).strip()
    layout = getattr(figures, "SANKEY_LAYOUT", None)
    parts = [f"<h2 id='headline'>Headline results</h2>"
             f"<p class='note'>World totals of {_e(material or 'the material')} "
             "(shares in %).</p>"
             f"{_headline(scen, rows, years)}", "<h2 id='sankey'>Flows (Sankey diagram)</h2>"
             "<p class='note'>Move the slider to change the year.</p>"]
    for i, (name, ds) in enumerate(scen.items()):
        if len(scen) > 1:
            parts.append(f"<h3>{_e(name)}</h3>")
        parts.append(_sankey_div(ds, layout, f"sankey-{i}"))
    if figures is not None:
        parts.append("<h2 id='figures'>Demand, supply, stocks and supply concentration</h2>")
        if len(scen) > 1:
            parts.append("<h3>Scenarios compared</h3>")
            parts += [_img(data, stem.replace("_", " "))
                      for stem, data in _model_figures(figures, first, scen)]
        for name, ds in scen.items():
            if len(scen) > 1:
                parts.append(f"<h3>{_e(name)}</h3>")
            parts += [_img(data, stem.replace("_", " "))
                      for stem, data in _model_figures(figures, ds, None)]
    if mc is not None:
        parts.append(f"<h2 id='uncertainty'>Uncertainty</h2>{_uncertainty(mc, years)}")
    parts.append("<h2 id='glossary'>Glossary of indicators</h2>"
                 + _glossary([*scen.values(), *([mc] if mc is not None else [])]))
    parts.append(f"<h2 id='sources'>Data sources</h2>{_sources(sources, sources_note)}")
    parts.append(f"<h2 id='provenance'>Provenance</h2>{_provenance(results, mc)}")
    nav = "".join(f"<a href='#{a}'>{t}</a>" for a, t in (
        ("headline", "Headline"), ("sankey", "Sankey"), ("figures", "Figures"),
        ("uncertainty", "Uncertainty"), ("glossary", "Glossary"), ("sources", "Sources"),
        ("provenance", "Provenance"))
        if a not in ("figures", "uncertainty") or (a == "figures" and figures is not None)
        or (a == "uncertainty" and mc is not None))
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{_e(title)}</title><style>{_CSS}</style>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
            f"<h1>{_e(title)}</h1><nav>{nav}</nav>{''.join(parts)}</body></html>\n")


def write_report(results: Mapping[str, xr.Dataset], path: str | Path, *,
                 outputs: OutputSet | None = None, **kwargs: Any) -> Path:
    """Write :func:`report_html` to ``path`` atomically (:mod:`mfa.io.outputs`).

    Parameters
    ----------
    results, **kwargs
        As :func:`report_html`.
    path : str or pathlib.Path
        The HTML file.
    outputs : mfa.io.outputs.OutputSet, optional
        Join this set (it commits); default a set of its own.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    out = Path(path)
    with joined(outputs) as outs:
        target = outs.file(out)
        text = report_html(results, **kwargs)
        outs.write(target, lambda tmp: write_bytes(tmp, text.encode("utf-8")))
    return out

