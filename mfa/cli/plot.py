"""``mfa plot``: figures from results files (a model's own figure set, or the Sankey diagram
every model gets), written as a set into ``--out-dir`` on the one progress bar."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mfa.cli import DEFAULT_MODEL, deprecated
from mfa.cli.console import files_written, progress_bar, status

__all__ = ["add_cli", "cmd_plot", "save_figures"]


def _figures_of(ds: Any) -> Any:
    """The figures module of the model that made ``ds`` (``attrs["model"]``), or None.

    Results that name no registered model (older files) are taken as the default model's."""
    from mfa.core.model import ModelError, get

    try:
        model = get(str(ds.attrs.get("model") or DEFAULT_MODEL))
    except ModelError:
        model = get(DEFAULT_MODEL)
    return getattr(model, "figures", None)


def _generic_figures(ds: Any, args: argparse.Namespace, target: Any, out_dir: str) -> list[Path]:
    """The figures every model gets: the Sankey diagram drawn from its flows' attributes."""
    from mfa.core.errors import MfaError
    from mfa.io.outputs import safe_file_name, write_bytes
    from mfa.plot import sankey, sankey_html
    from mfa.plot.style import save_figure

    if args.element:
        raise MfaError(f"--element: the model {ds.attrs.get('model')!r} has no figures with an "
                       "element selector")
    kinds = set(args.kind or ["sankey"])
    if kinds != {"sankey"}:
        raise MfaError(f"--kind: the model {ds.attrs.get('model')!r} has no figures of its own; "
                       f"kinds available: sankey (got {', '.join(sorted(kinds))})")
    year = int(args.year if args.year is not None else ds["time"].values[-1])
    name = f"sankey_{year}" + (f"_{safe_file_name(args.region)}" if args.region else "")
    paths = []
    formats = args.format or ["png"]
    with progress_bar(args, len(formats), "Figures", "figure") as bar:
        for fmt in formats:
            file = f"{name}.{fmt}"
            if fmt == "html":
                data = sankey_html(ds, None, args.region, include_plotlyjs=True).encode("utf-8")
            else:  # saved, then closed: memory stays flat
                data = save_figure(sankey(ds, year, args.region), [fmt], dpi=150)[fmt]
            write_bytes(target.tmp / file, data)
            paths.append(Path(out_dir) / file)
            bar.update()
    return paths


def _plot_out_dir(args: argparse.Namespace) -> tuple[str, str]:
    """The output directory of ``mfa plot`` and the option that named it (``--out-dir``, or
    ``--out``, its spelling before 0.2, with a deprecation warning)."""
    from mfa.core.errors import MfaError

    if args.out is None:
        return ("figures" if args.out_dir is None else args.out_dir), "--out-dir"
    if args.out_dir is not None:
        raise MfaError(f"--out {args.out} and --out-dir {args.out_dir}: give only --out-dir DIR "
                       f"(--out DIR is its deprecated spelling)")
    deprecated(f"'mfa plot --out {args.out}' (a directory)", f"--out-dir {args.out}")
    return args.out, "--out"


def cmd_plot(args: argparse.Namespace) -> int:
    """``mfa plot RESULTS.nc... [--kind K] [--out-dir DIR]``: write the figures; exit status."""
    from mfa.io.outputs import OutputSet, protected_inputs

    out_dir, option = _plot_out_dir(args)
    with OutputSet(protected_inputs(args.params, files=args.results)) as outs:
        target = outs.directory(out_dir, option)
        from mfa.io import read_results

        results = [read_results(p) for p in args.results]
        figures = _figures_of(results[0])
        if figures is None:
            paths = _generic_figures(results[0], args, target, out_dir)
        else:
            paths = _model_figures(figures, results, args, outs, out_dir)
    status(args, f"{len(paths)} figure{'s' if len(paths) != 1 else ''} written to {out_dir}")
    files_written(args, paths)
    return 0


def _model_figures(figures: Any, results: list, args: argparse.Namespace, outs: Any,
                   out_dir: str) -> list:
    """The model's own figure set (e.g. the Nd figures), with a scenario comparison."""
    import inspect

    from mfa.core.errors import MfaError

    kinds = figures.selected_kinds(args.kind, compare=len(args.results) > 1)
    figures.check_results(results[0], [k for k in kinds if k != "comparison"],
                          what=args.results[0])
    compare = None
    if len(results) > 1:
        compare = {}
        for path, ds in zip(args.results, results, strict=True):
            figures.check_results(ds, ["comparison"], what=path)
            name = str(ds.attrs.get("scenario", Path(path).stem))
            compare[name if name not in compare else f"{name} ({path})"] = ds
    selector = {"elements": args.element} if args.element else {}
    if selector and "elements" not in inspect.signature(figures.save_all).parameters:
        raise MfaError(f"--element: the figures of model {results[0].attrs.get('model')!r} "
                       "have no element selector (the element model's do: --model magnet_rees)")
    return save_figures(figures, results[0], out_dir, args, outs, kinds=args.kind,
                         year=args.year, region=args.region,
                         formats=tuple(args.format or ["png"]), compare=compare, **selector)


def save_figures(figures: Any, ds: Any, out_dir: str, args: argparse.Namespace, outs: Any, *,
                  kinds: Sequence[str] | None = None, compare: Any = None,
                  **options: Any) -> list[Path]:
    """``figures.save_all`` (a model's figure set) one kind at a time, on the progress bar;
    all figures join ``outs``, so they are still written all or none."""
    selected = figures.selected_kinds(kinds, compare=bool(compare))
    paths: list[Path] = []
    with progress_bar(args, len(selected), "Figures", "figure") as bar:
        for kind in selected:
            paths += figures.save_all(ds, out_dir, kinds=[kind], compare=compare, outputs=outs,
                                      **options)
            bar.update()
    return paths


def add_cli(sub: Any) -> None:
    """Register ``mfa plot RESULTS.nc ... [--out-dir DIR]``."""
    p = sub.add_parser("plot", help="draw figures from results files")
    p.add_argument("results", nargs="+", metavar="RESULTS.nc",
                   help="results written by 'mfa run'; several files add a scenario comparison")
    # Kinds are checked by the model's selected_kinds (its error lists them): importing it
    # here would load matplotlib on every command.
    p.add_argument("--kind", action="append",
                   help="figure kind: sankey, demand, supply, stock-by-product, stock-by-region, "
                   "concentration, comparison (repeatable; default: all)")
    p.add_argument("--year", type=int, help="year of the Sankey diagram (default: last year)")
    p.add_argument("--region", help="region of the Sankey diagram (default: world)")
    p.add_argument("--element", action="append", metavar="NAME",
                   help="element or group to draw (element model: Nd, Pr, Dy, Tb, NdPr, "
                   "'Magnet REE'; repeatable; default all)")
    p.add_argument("--out-dir", metavar="DIR", help="output directory (default figures)")
    p.add_argument("--out", metavar="DIR", help="deprecated spelling of --out-dir DIR (removed "
                   "in the next release; --out names one file in every command)")
    p.add_argument("--format", action="append", choices=("png", "svg", "pdf", "html"),
                   help="file format (repeatable; default png); html: interactive Sankey "
                   "(extra plotly)")
    p.set_defaults(func=cmd_plot)
