"""``mfa report``: one self-contained HTML report of a run or a comparison of scenarios."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["add_cli"]


def _model_of(results: dict[str, Any], requested: str | None) -> Any:
    """The model named by the results (``attrs["model"]``; the default model if none), which
    must be ``--model`` if that is given."""
    from mfa.cli import DEFAULT_MODEL
    from mfa.core.errors import MfaError
    from mfa.core.model import get

    names = {p: str(ds.attrs.get("model") or DEFAULT_MODEL) for p, ds in results.items()}
    listed = ", ".join(f"{p} ({m})" for p, m in names.items())
    if len(set(names.values())) > 1:
        raise MfaError(f"the results come from different models: {listed}; a report "
                       "compares scenarios of one model")
    name = next(iter(names.values()))
    if requested is not None and requested != name:
        raise MfaError(f"--model {requested}: the results come from model {name}: {listed}")
    return get(name)


def _bibliography(args: argparse.Namespace, model: Any, results: dict[str, Any]
                  ) -> tuple[dict[str, Any], str]:
    """The sources of the parameter directory (``--params`` or the model's data), and a note
    saying where they come from; a warning if the results were made with another one."""
    import warnings

    from mfa.data.params import load_parameters

    where = args.params if args.params is not None else model.default_params
    params = load_parameters(where)
    mine = params.files.get("sources.csv")
    differ = []
    for path, ds in results.items():
        try:
            used = json.loads(ds.attrs.get("parameter_files", "{}")).get("sources.csv")
        except ValueError:
            used = None
        if used is not None and mine is not None and used != mine:
            differ.append(path)
    note = f"Bibliography of the parameter directory {where} (sources.csv)."
    if differ:
        text = (f"the bibliography of {where} differs from the one the results "
                f"{', '.join(differ)} were made with (sources.csv sha256); give the parameter "
                "directory of the run with --params")
        warnings.warn(text, stacklevel=1)
        note += " Warning: " + text + "."
    return params.sources, note


def _cmd_report(args: argparse.Namespace) -> int:
    from mfa.core.errors import MfaError
    from mfa.io.outputs import OutputSet, protected_inputs

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise MfaError(f"--out {out}: expected a file name ending in .html (the report is "
                       "one HTML page)")
    if len(set(args.results)) < len(args.results):
        raise MfaError(f"a results file is given twice: {' '.join(args.results)}")
    files = [*args.results, *([args.mc] if args.mc is not None else [])]
    with OutputSet(protected_inputs(args.params, files=files)) as outs:
        outs.file(out, "--out")
        from mfa.cli.summary import summary_rows
        from mfa.io import read_results
        from mfa.io.report import write_report

        results = {p: read_results(p) for p in args.results}
        mc = read_results(args.mc) if args.mc is not None else None
        model = _model_of(results, getattr(args, "model", None))
        sources, note = _bibliography(args, model, results)
        write_report(results, out, outputs=outs, mc=mc, mc_label=args.mc,
                     summary_rows=lambda ds: summary_rows(ds, model),
                     figures=getattr(model, "figures", None), sources=sources,
                     sources_note=note, title=args.title)
    print(f"Report written to {out}")
    return 0


def add_cli(subparsers: Any) -> None:
    """Register the ``report`` subcommand on the ``mfa`` argument parser."""
    p = subparsers.add_parser(
        "report", help="write one self-contained HTML report of results (offline)",
        description="One HTML file for readers who do not code: headline table, interactive "
                    "Sankey diagram with a year slider, demand/supply/stock and concentration "
                    "figures, uncertainty bands (--mc), glossary, data sources and provenance. "
                    "One results file makes a run report, several a scenario comparison.")
    p.add_argument("results", nargs="+", metavar="RESULTS.nc",
                   help="results written by 'mfa run'; several files compare scenarios")
    p.add_argument("--mc", metavar="SUMMARY.nc",
                   help="Monte Carlo summary of one of the scenarios ('mfa mc --out'): adds "
                        "uncertainty bands")
    p.add_argument("--out", default="report.html", metavar="FILE.html",
                   help="the HTML file (default report.html)")
    p.add_argument("--title", help="page title (default from the material and scenarios)")
    p.set_defaults(func=_cmd_report)
