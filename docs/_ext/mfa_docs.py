"""Sphinx extension of the nd-mfa docs: tables and references generated from the code.

Directives (all take their content from the package at build time, so the pages cannot drift
from the code or the data):

``mfa-parameter-table``
    Every parameter of the default data (``mfa.data.params.load_parameters()``): name, description,
    unit, dims, products, value range (over regions, products, stages and model years, and the
    low/high uncertainty range) and the source keys of its rows, linked to the bibliography.
``mfa-sources-table``
    The bibliography ``params/sources.csv``: key, citation (linked), licence, tag.
``mfa-results-schema``
    Every result variable of the Nd model (``mfa.models.neodymium.RESULT_VARIABLES`` and ``FLOWS``)
    with its dims (read from a baseline run), units and meaning.
``mfa-cli-help``
    ``--help`` of the ``mfa`` command and of every subcommand, from ``mfa.cli.build_parser()``.

Any failure (missing module, bad data) is reported as a Sphinx warning at the directive, which
fails the ``-W`` build.

The extension also marks every page outdated on each build, so that an incremental build
re-reads and re-executes every notebook (myst-nb only executes pages it reads).
"""

from __future__ import annotations

import math
import os
import re
import traceback
from collections.abc import Sequence
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

Cell = str | nodes.Node | list[nodes.Node]


# -- small docutils helpers --------------------------------------------------------------------


def _para(content: Cell) -> nodes.Node:
    if isinstance(content, nodes.Node):
        return content if isinstance(content, nodes.paragraph) else nodes.paragraph("", "", content)
    if isinstance(content, list):
        return nodes.paragraph("", "", *content)
    return nodes.paragraph(text=str(content))


def _literal(text: str) -> nodes.literal:
    return nodes.literal(text=text)


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    widths: Sequence[int] | None = None,
    classes: Sequence[str] = (),
    ids: Sequence[str] | None = None,
) -> nodes.table:
    """A docutils table; cells are text or nodes. ``ids[i]`` becomes an anchor of row i."""
    table = nodes.table(classes=["mfa-table", *classes])
    tgroup = nodes.tgroup(cols=len(headers))
    table += tgroup
    widths = widths or [1] * len(headers)
    for w in widths:
        tgroup += nodes.colspec(colwidth=w)
    thead = nodes.thead()
    tgroup += thead
    hrow = nodes.row()
    for h in headers:
        hrow += nodes.entry("", nodes.paragraph(text=h))
    thead += hrow
    tbody = nodes.tbody()
    tgroup += tbody
    for i, cells in enumerate(rows):
        row = nodes.row()
        if ids and ids[i]:
            row["ids"].append(ids[i])
        for c in cells:
            row += nodes.entry("", _para(c))
        tbody += row
    return table


def _fmt(x: float) -> str:
    """A number for a table: 4 significant digits, thousands separators, no '-0'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e6 or abs(x) < 1e-3:
        return f"{x:.3g}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _slug(key: str) -> str:
    return nodes.make_id(f"source-{key}")


class _MfaDirective(SphinxDirective):
    """Runs :meth:`make`; turns any exception into a warning at the directive (fails -W)."""

    has_content = False

    def make(self) -> list[nodes.Node]:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        # The page depends on the data and the code it is generated from.
        for dep in self.dependencies():
            self.env.note_dependency(dep)
        try:
            return self.make()
        except Exception as exc:
            tb = traceback.format_exc(limit=6)
            logger.warning(
                "%s: cannot generate content: %s: %s\n%s",
                self.name,
                type(exc).__name__,
                exc,
                tb,
                location=self.get_location(),
            )
            return [nodes.warning("", nodes.paragraph(text=f"{self.name} failed: {exc}"))]

    def dependencies(self) -> list[str]:
        return []


# -- parameters and sources ----------------------------------------------------------------------


def _load_params():
    from mfa.data.params import load_parameters

    return load_parameters()


def _params_dir() -> str:
    from mfa.data.params import default_params_dir

    return str(default_params_dir())


def _param_dependencies() -> list[str]:
    try:
        d = _params_dir()
    except Exception:
        return []
    out = []
    for root, _, files in os.walk(d):
        out += [os.path.join(root, f) for f in files if f.endswith((".csv", ".toml"))]
    return out


def _value_range(ps, name: str) -> tuple[float, float, float, float]:
    """min/max of the values and of the low/high range of parameter ``name`` (NaN ignored)."""
    import numpy as np

    def mm(ds) -> tuple[float, float]:
        if name not in ds:
            return (math.nan, math.nan)
        v = np.asarray(ds[name].values, dtype=float)
        v = v[np.isfinite(v)]
        return (float(v.min()), float(v.max())) if v.size else (math.nan, math.nan)

    vmin, vmax = mm(ps.values)
    lo, _ = mm(ps.low)
    _, hi = mm(ps.high)
    return vmin, vmax, lo, hi


def _source_keys(table, name: str) -> list[str]:
    rows = table[table["parameter"] == name]
    keys: list[str] = []
    for cell in rows["source"].astype(str):
        for k in cell.replace(";", ",").split(","):
            k = k.strip()
            if k and k not in keys and k.lower() != "nan":
                keys.append(k)
    return keys


def _source_links(keys: Sequence[str], known: dict) -> list[nodes.Node]:
    out: list[nodes.Node] = []
    for i, k in enumerate(keys):
        if i:
            out.append(nodes.Text(", "))
        if k in known:
            out.append(nodes.reference("", "", _literal(k), refid=_slug(k), internal=True))
        else:
            out.append(_literal(k))
    return out


class ParameterTable(_MfaDirective):
    """Table of every parameter of the default data with units, dims, ranges and sources.

    Built from :meth:`mfa.data.params.ParameterSet.parameter_table` (one row per registry entry),
    the registry (products, bounds) and the low/high datasets (uncertainty range).
    """

    option_spec = {"role": directives.unchanged}  # noqa: RUF012 (Sphinx API)

    def dependencies(self) -> list[str]:
        return _param_dependencies()

    def make(self) -> list[nodes.Node]:
        ps = _load_params()
        role = self.options.get("role")
        summary = ps.parameter_table()
        missing = sorted(set(ps.registry) - set(summary["parameter"]))
        if missing:
            raise ValueError(f"parameter_table() misses registry parameters {missing}")
        rows = []
        for rec in summary.to_dict("records"):
            name = rec["parameter"]
            spec = ps.registry[name]
            this = rec.get("role") or "model"
            # ``:role: model`` takes every role but "calibration", so that the two tables on the
            # parameters page list every parameter of the registry between them.
            if role and not (this == role or (role == "model" and this != "calibration")):
                continue
            vmin, vmax = float(rec["min"]), float(rec["max"])
            _, _, lo, hi = _value_range(ps, name)
            value = _fmt(vmin) if vmin == vmax else f"{_fmt(vmin)} … {_fmt(vmax)}"
            has_range = not (math.isnan(lo) or math.isnan(hi)) and (lo < vmin or hi > vmax)
            rng = f"{_fmt(lo)} … {_fmt(hi)}" if has_range else "—"
            desc: list[nodes.Node] = [nodes.Text(str(rec["description"]))]
            products = spec.get("products")
            if products:
                desc.append(nodes.Text(f" Products: {', '.join(products)}."))
            bounds = []
            if spec.get("min") is not None:
                bounds.append(f"≥ {_fmt(spec['min'])}")
            if spec.get("max") is not None:
                bounds.append(f"≤ {_fmt(spec['max'])}")
            if spec.get("sum_to_one_over"):
                bounds.append(f"sums to 1 over {spec['sum_to_one_over']}")
            if bounds:
                desc.append(nodes.Text(f" Allowed: {', '.join(bounds)}."))
            if rec.get("interpolation"):
                desc.append(nodes.Text(f" Between given years: {rec['interpolation']}."))
            keys = [k.strip() for k in str(rec.get("sources") or "").split(",") if k.strip()]
            unit = str(rec["unit"]) or "1"
            rows.append(
                [
                    _literal(name),
                    desc,
                    _literal(unit),
                    str(rec["dims"]) or "—",
                    value,
                    rng,
                    _source_links(keys, ps.sources) or "—",
                ]
            )
        if not rows:
            raise ValueError(f"no parameters{' with role ' + role if role else ''}")
        return [
            _table(
                ["Parameter", "Description", "Unit", "Dims", "Values (all labels, model years)",
                 "Uncertainty range (low … high)", "Sources"],
                rows,
                widths=[14, 30, 9, 12, 14, 14, 14],
                classes=["mfa-parameters"],
            )
        ]


class SourcesTable(_MfaDirective):
    """The bibliography (params/sources.csv), one anchored row per key."""

    def dependencies(self) -> list[str]:
        return _param_dependencies()

    def make(self) -> list[nodes.Node]:
        ps = _load_params()
        used: dict[str, list[str]] = {}
        for name in ps.registry:
            for k in _source_keys(ps.table, name):
                used.setdefault(k, []).append(name)
        rows, ids = [], []
        for key, src in ps.sources.items():
            citation: list[nodes.Node] = [nodes.Text(str(src.get("citation", "")))]
            url = str(src.get("url") or "").strip()
            if url and url.lower() != "nan":
                citation += [nodes.Text(" "), nodes.reference(url, url, refuri=url)]
            note = str(src.get("note") or "").strip()
            if note and note.lower() != "nan":
                citation += [nodes.Text(f" — {note}")]
            params = used.get(key, [])
            rows.append(
                [
                    _literal(key),
                    citation,
                    str(src.get("licence", "") or "—"),
                    str(src.get("tag", "") or "—"),
                    [n for i, p in enumerate(params) for n in ([nodes.Text(", ")] if i else []) + [_literal(p)]]
                    or "—",
                ]
            )
            ids.append(_slug(key))
        unknown = sorted(set(used) - set(ps.sources))
        if unknown:
            raise ValueError(f"source keys used in the data but missing from sources.csv: {unknown}")
        return [
            _table(
                ["Key", "Citation", "Licence", "Tag", "Used by"],
                rows,
                widths=[12, 50, 10, 6, 22],
                classes=["mfa-sources"],
                ids=ids,
            )
        ]


# -- results schema ------------------------------------------------------------------------------

_BASELINE: dict[str, Any] = {}


def _baseline():
    """The baseline results (run once per build)."""
    if "ds" not in _BASELINE:
        import warnings

        from mfa.models.neodymium import run

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _BASELINE["ds"] = run("baseline")
    return _BASELINE["ds"]


class ResultsSchema(_MfaDirective):
    """Variables of the Nd model results: name, dims, units, meaning (and flow direction)."""

    option_spec = {"kind": directives.unchanged}  # noqa: RUF012 (Sphinx API)

    def dependencies(self) -> list[str]:
        return _param_dependencies()

    def make(self) -> list[nodes.Node]:
        from mfa.models import neodymium as nd

        kind = self.options.get("kind", "variables")
        ds = _baseline()
        if kind == "variables":
            rows = []
            for name, (units, long_name) in nd.RESULT_VARIABLES.items():
                if name not in ds:
                    raise ValueError(f"result variable {name!r} is declared but not in a baseline run")
                rows.append([_literal(name), ", ".join(ds[name].dims), _literal(units), long_name])
            return [_table(["Variable", "Dims", "Units", "Meaning"], rows, widths=[22, 22, 8, 48])]
        if kind == "flows":
            rows = []
            for name, (src, dst, long_name) in nd.FLOWS.items():
                if name not in ds:
                    raise ValueError(f"flow {name!r} is declared but not in a baseline run")
                units = ds[name].attrs.get("units", "t/yr")
                rows.append(
                    [_literal(name), f"{src} → {dst}", ", ".join(ds[name].dims), _literal(units), long_name]
                )
            return [
                _table(["Flow", "From → to", "Dims", "Units", "Meaning"], rows, widths=[24, 22, 14, 8, 32])
            ]
        if kind == "coords":
            rows = []
            for dim in ds.dims:
                vals = [str(v) for v in ds[dim].values.tolist()] if dim in ds.coords else []
                if dim == "time" and vals:
                    shown = f"{vals[0]} … {vals[-1]} (integer years, {len(vals)} values)"
                else:
                    shown = ", ".join(vals)
                rows.append([_literal(str(dim)), shown])
            return [_table(["Dim", "Labels (baseline)"], rows, widths=[15, 85])]
        if kind == "attrs":
            rows = [[_literal(str(k)), str(v)[:160] + ("…" if len(str(v)) > 160 else "")]
                    for k, v in ds.attrs.items()]
            return [_table(["Attribute", "Value (baseline run of this build)"], rows, widths=[25, 75])]
        raise ValueError(f"unknown :kind: {kind!r} (variables, flows, coords, attrs)")


# -- CLI ----------------------------------------------------------------------------------------


def _help_texts() -> list[tuple[str, str, str]]:
    """(command, one-line help, full --help text) for ``mfa`` and each subcommand."""
    import argparse

    from mfa.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"
    try:
        parser = build_parser()
        out = [("mfa", parser.description or "", parser.format_help())]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help or "" for a in action._choices_actions}
                for name, sub in action.choices.items():
                    out.append((f"mfa {name}", helps.get(name, ""), sub.format_help()))
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return out


class CliHelp(_MfaDirective):
    """One section per command with its ``--help`` text."""

    def make(self) -> list[nodes.Node]:
        result: list[nodes.Node] = []
        for command, short, text in _help_texts():
            section = nodes.section(ids=[nodes.make_id(f"cli-{command}")])
            section += nodes.title("", "", _literal(command))
            if short and command != "mfa":
                short = short.rstrip(".")
                section += nodes.paragraph(text=short[0].upper() + short[1:] + ".")
            block = nodes.literal_block(text.rstrip(), text.rstrip())
            block["language"] = "text"
            section += block
            result.append(section)
        return result


# -- setup ----------------------------------------------------------------------------------------


def _all_outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Re-read every page on every build: notebooks are executed only when read."""
    return sorted(env.found_docs - set(added) - set(changed) - set(removed))


_FIGURE_REPR = re.compile(r"^<(matplotlib\.figure\.)?Figure size [0-9.]+x[0-9.]+ with \d+ Axes>$")


def _check_figures(app: Sphinx, doctree: nodes.document) -> None:
    """Warn where a notebook shows a figure as text (``<Figure size ...>``) instead of an image.

    That happens when the inline backend is not active in the kernel (e.g. ``MPLBACKEND=Agg``
    in the environment, or a pyplot-free figure shown before anything imported pyplot).
    """
    for node in doctree.findall(nodes.literal_block):
        text = node.astext().strip()
        if not any(_FIGURE_REPR.match(line.strip()) for line in text.splitlines()):
            continue
        # myst-nb keeps every mime type of an output until the builder picks one: the text is
        # fine when an image of the same output sits next to it.
        parent, bundle = node, None
        while parent is not None:
            if parent.get("mime_type") if isinstance(parent, nodes.Element) else None:
                bundle = parent.parent
                break
            parent = parent.parent
        siblings = bundle.children if bundle is not None else []
        if not any(str(c.get("mime_type", "")).startswith("image/") for c in siblings
                   if isinstance(c, nodes.Element)):
            logger.warning(
                "a figure was rendered as text (%r), not as an image: use %%matplotlib inline "
                "in the notebook", text[:60], location=node,
            )


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("mfa-parameter-table", ParameterTable)
    app.add_directive("mfa-sources-table", SourcesTable)
    app.add_directive("mfa-results-schema", ResultsSchema)
    app.add_directive("mfa-cli-help", CliHelp)
    app.connect("env-get-outdated", _all_outdated)
    app.connect("doctree-read", _check_figures)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}

