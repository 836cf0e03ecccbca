"""The ``mfa`` command: run scenarios, list and compare them, draw figures.

A mistake in the input (a parameter or scenario file, an argument, an output path) ends with
one message on stderr and exit status 2, without a traceback; a warning is one line
``mfa: warning: ...``. Every output path is checked before the computation starts (never onto
an input, never inside the parameter directory), and the outputs of one command are written
as a set, all or none (:mod:`mfa.io.outputs`). A computation too large for the machine is refused
before it starts unless ``--force`` (:mod:`mfa.analysis.budget`).

SIGINT (Ctrl-C) and SIGTERM (``timeout``, SLURM, ``docker stop``) end the command with exit
status 130 or 143 and one line on stderr, after removing everything temporary; earlier outputs
are left as they were. This module imports only the standard library at start-up, so an
interrupt while the scientific libraries load is handled too.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

#: Model used when ``--model`` is not given.
DEFAULT_MODEL = "neodymium"


def summary_table(ds: Any, years: Sequence[int] = (2030, 2040, 2050)) -> str:
    """Text table of the headline results of one run (:func:`mfa.cli.summary.summary_table`),
    with the rows of the model named in ``ds.attrs["model"]``."""
    from mfa.cli.summary import summary_table as table
    from mfa.core.model import get

    name = ds.attrs.get("model")
    return table(ds, years, model=get(name) if name else None)


def _model(args: argparse.Namespace) -> Any:
    """The model of a command (``--model``), and ``args.params`` set to its data if not given."""
    from mfa.core.model import get

    model = get(getattr(args, "model", None) or DEFAULT_MODEL)
    if args.params is None:
        args.params = str(model.default_params)
    return model


def guard(estimate: Any, args: argparse.Namespace, *, report: bool = True) -> None:
    """:func:`mfa.analysis.budget.check` with the command's ``--force`` and ``--verbose``;
    print its note (one line ``mfa: estimate: ...`` on stderr) if ``report``."""
    from mfa.analysis import budget

    note = budget.check(estimate, force=args.force, verbose=args.verbose)
    if note and report:
        print(f"mfa: {note}", file=sys.stderr)


def _scenario_first(args: argparse.Namespace) -> Any:
    """The scenario of a command, read before any work (it names the default output and its
    files are inputs); for a broken parameter directory the loader's message comes first."""
    from mfa.core.errors import MfaError
    from mfa.data.params import load_parameters
    from mfa.data.scenarios import load_scenario

    try:
        return load_scenario(args.scenario, params_dir=args.params)
    except MfaError:
        load_parameters(args.params)  # raises if the parameter files are what is wrong
        raise


def _cmd_run(args: argparse.Namespace) -> int:
    from mfa.analysis import budget
    from mfa.io.outputs import OutputSet, checkpoint, protected_inputs, safe_file_name

    model = _model(args)
    scen = _scenario_first(args)
    out = args.out if args.out is not None else f"results/{safe_file_name(scen.name)}.nc"
    with OutputSet(protected_inputs(args.params, scen)) as outs:
        outs.file(out, "--out")
        if args.csv is not None:
            outs.directory(args.csv, "--csv")
        if args.excel is not None:
            outs.file(args.excel, "--excel")
        if args.plots is not None:
            outs.directory(args.plots, "--plots")
        size = budget.problem_size(args.params)  # before loading: a huge span loads slowly
        if size is not None:
            text = budget.text_factor()  # output directory -> size relative to the results
            sizes = {str(Path(out).parent): 1.0}
            for where in (args.csv, args.excel and str(Path(args.excel).parent)):
                if where:
                    sizes[where] = sizes.get(where, 0.0) + text
            guard(budget.estimate_run(*size, outputs=sizes), args)
        from mfa.analysis.run import run_scenario
        from mfa.cli.summary import summary_table
        from mfa.data.params import load_parameters
        from mfa.io import write_csv_tables, write_netcdf

        checkpoint("load")
        params = load_parameters(args.params)
        checkpoint("compute")
        ds = run_scenario(model, scen, params)
        name = str(ds.attrs["scenario"])
        write_netcdf(ds, out, outputs=outs)
        if args.csv is not None:
            files = write_csv_tables(ds, args.csv, scenario=name, outputs=outs)
        if args.excel is not None:
            _write_results_workbook(ds, args.excel, model, outs)
        if args.plots is not None:
            from mfa.models.neodymium.figures import save_all

            paths = save_all(ds, args.plots, outputs=outs)
    print(summary_table(ds, model=model))
    print(f"\nResults written to {out}")
    if args.csv is not None:
        print(f"CSV tables (IAMC wide format and one per variable) written to {args.csv} "
              f"({len(files)} files)")
    if args.excel is not None:
        print(f"Excel workbook written to {args.excel}")
    if args.plots is not None:
        print(f"{len(paths)} figures written to {args.plots}")
    return 0


def _write_results_workbook(ds: Any, path: str, model: Any, outs: Any) -> None:
    """``--excel``: the results workbook, its Summary sheet the rows ``mfa run`` prints."""
    from mfa.cli.summary import summary_rows
    from mfa.io.workbook import write_excel

    write_excel(ds, path, summary=summary_rows(ds, model), outputs=outs)


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from mfa.data.scenarios import list_scenarios

    if args.params is None:
        _model(args)
    scenarios = list_scenarios(args.params)
    width = max((len(s.name) for s in scenarios), default=0)
    for s in scenarios:
        base = f" [base: {s.base}]" if s.base else ""
        print(f"{s.name:<{width}}  {s.description}{base}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from mfa.analysis.run import run_scenario
    from mfa.cli.summary import compare_table

    model = _model(args)
    a = run_scenario(model, args.a, args.params)
    b = run_scenario(model, args.b, args.params)
    print(compare_table(a, b, model=model))
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from mfa.core.model import available, get

    for name in available():
        model = get(name)
        print(f"{name}  material {model.material}; headline: {', '.join(model.headline)}; "
              f"data: {model.default_params}")
    return 0


def _figures_of(ds: Any) -> Any:
    """The figures module of the model that made ``ds`` (``attrs["model"]``), or None.

    Results that name no registered model (older files) are taken as the default model's."""
    from mfa.core.model import ModelError, get

    try:
        model = get(str(ds.attrs.get("model") or DEFAULT_MODEL))
    except ModelError:
        model = get(DEFAULT_MODEL)
    return getattr(model, "figures", None)


def _generic_figures(ds: Any, args: argparse.Namespace, target: Any) -> list[Path]:
    """The figures every model gets: the Sankey diagram drawn from its flows' attributes."""
    from mfa.core.errors import MfaError
    from mfa.io.outputs import safe_file_name, write_bytes
    from mfa.plot import sankey, sankey_html
    from mfa.plot.style import save_figure

    kinds = set(args.kind or ["sankey"])
    if kinds != {"sankey"}:
        raise MfaError(f"--kind: the model {ds.attrs.get('model')!r} has no figures of its own; "
                       f"kinds available: sankey (got {', '.join(sorted(kinds))})")
    year = int(args.year if args.year is not None else ds["time"].values[-1])
    name = f"sankey_{year}" + (f"_{safe_file_name(args.region)}" if args.region else "")
    paths = []
    for fmt in args.format or ["png"]:
        file = f"{name}.{fmt}"
        if fmt == "html":
            data = sankey_html(ds, None, args.region, include_plotlyjs=True).encode("utf-8")
        else:  # saved, then closed: memory stays flat
            data = save_figure(sankey(ds, year, args.region), [fmt], dpi=150)[fmt]
        write_bytes(target.tmp / file, data)
        paths.append(Path(args.out) / file)
    return paths


def _cmd_plot(args: argparse.Namespace) -> int:
    from mfa.io.outputs import OutputSet, protected_inputs

    with OutputSet(protected_inputs(args.params, files=args.results)) as outs:
        target = outs.directory(args.out, "--out")
        from mfa.io import read_results

        results = [read_results(p) for p in args.results]
        figures = _figures_of(results[0])
        if figures is None:
            paths = _generic_figures(results[0], args, target)
        else:
            paths = _model_figures(figures, results, args, outs)
    for p in paths:
        print(p)
    return 0


def _model_figures(figures: Any, results: list, args: argparse.Namespace, outs: Any) -> list:
    """The model's own figure set (e.g. the Nd figures), with a scenario comparison."""
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
    return figures.save_all(results[0], args.out, year=args.year, region=args.region,
                            kinds=args.kind, formats=tuple(args.format or ["png"]),
                            compare=compare, outputs=outs)


def _cmd_params_export(args: argparse.Namespace) -> int:
    """``mfa params export FILE.xlsx``: the parameter data as a workbook people can edit."""
    from mfa.core.errors import MfaError
    from mfa.io.outputs import OutputSet, protected_inputs, write_bytes

    if not args.file.lower().endswith(".xlsx"):
        raise MfaError(f"{args.file}: a parameter workbook is an Excel file ending in .xlsx")
    _model(args)
    with OutputSet(protected_inputs(args.params)) as outs:
        target = outs.file(args.file, "FILE.xlsx")
        from mfa.data.excel import parameter_workbook

        data = parameter_workbook(args.params)
        outs.write(target, lambda tmp: write_bytes(tmp, data))
    print(f"Parameter workbook written to {args.file} (edit it, then: mfa run --params "
          f"{args.file})", file=sys.stderr)
    return 0


def _add_params_cli(sub: Any) -> None:
    """``mfa params export FILE.xlsx``."""
    p = sub.add_parser("params", help="export the parameter data (Excel workbook)")
    actions = p.add_subparsers(dest="params_command", required=True)
    e = actions.add_parser("export", help="write the parameter data (default: the model's own) "
                           "as an Excel workbook; 'mfa run --params FILE.xlsx' reads it back")
    e.add_argument("file", metavar="FILE.xlsx", help="the workbook to write")
    e.add_argument("--params", metavar="DIR", default=argparse.SUPPRESS,
                   help="parameter directory or workbook to export (default: the model's own data)")
    e.add_argument("--model", metavar="NAME", default=argparse.SUPPRESS,
                   help=f"material model (default {DEFAULT_MODEL})")
    e.set_defaults(func=_cmd_params_export)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line ``mfa: error: ...`` (status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"mfa: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mfa`` command."""
    from mfa.cli.mc import add_budget_options, add_cli

    parser = _Parser(
        prog="mfa",
        description="Dynamic material-flow analysis (default model: neodymium): run scenarios, "
        "compare them, draw figures, Monte Carlo and Sobol analyses.",
    )
    parser.add_argument("--params", metavar="DIR", default=None,
                        help="parameter directory (default: the model's own data)")
    parser.add_argument("--model", metavar="NAME", default=None,
                        help=f"material model (default {DEFAULT_MODEL}; 'mfa models' lists them)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run one scenario, write netCDF (and CSV), print a summary")
    p.add_argument("--scenario", default="baseline", help="scenario name or TOML file (baseline)")
    p.add_argument("--out", metavar="FILE.nc", help="netCDF output (default results/NAME.nc)")
    p.add_argument("--csv", metavar="DIR", help="also write CSV tables (IAMC wide + tidy)")
    p.add_argument("--excel", metavar="FILE.xlsx", help="also write an Excel workbook")
    p.add_argument("--plots", metavar="DIR", help="also write all figures to DIR")
    add_budget_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("scenarios", help="list the scenarios, one line each")
    p.set_defaults(func=_cmd_scenarios)

    p = sub.add_parser("models", help="list the material models, one line each")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("compare", help="print the differences between two scenarios")
    p.add_argument("a", help="scenario A (name or TOML file)")
    p.add_argument("b", help="scenario B (name or TOML file)")
    p.set_defaults(func=_cmd_compare)

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
    p.add_argument("--out", default="figures", metavar="DIR", help="output directory (figures)")
    p.add_argument("--format", action="append", choices=("png", "svg", "pdf", "html"),
                   help="file format (repeatable; default png); html: interactive Sankey "
                   "(extra plotly)")
    p.set_defaults(func=_cmd_plot)

    add_cli(sub)  # `mc` (Monte Carlo ensembles) and `sensitivity` (Sobol indices)
    _add_params_cli(sub)
    from mfa.cli.report import add_cli as add_report

    add_report(sub)  # `report` (one self-contained HTML page)
    for sp in sub.choices.values():  # `mfa run --params DIR` works as well as `mfa --params DIR run`
        sp.add_argument("--params", metavar="DIR", default=argparse.SUPPRESS,
                        help="parameter directory (default: the model's own data)")
        sp.add_argument("--model", metavar="NAME", default=argparse.SUPPRESS,
                        help=f"material model (default {DEFAULT_MODEL})")
    return parser


class Interrupted(KeyboardInterrupt):
    """A signal (SIGTERM, SIGINT) stops the command: it unwinds like Ctrl-C, so every
    ``finally`` runs and every temporary is removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Any warning as one line ``mfa: warning: <message>`` (no source line)."""
    text = " ".join(str(message).split())
    print(f"mfa: warning: {text}", file=sys.stderr)


def _is_user_error(exc: BaseException) -> bool:
    """An input mistake: MfaError, or mfa.core.units.UnitError (only if units were ever loaded)."""
    from mfa.core.errors import MfaError

    units = sys.modules.get("mfa.core.units")  # not imported for it: pint is slow to load
    return isinstance(exc, MfaError) or (units is not None and isinstance(exc, units.UnitError))


def _argument_with_nul(args: argparse.Namespace) -> str | None:
    """``--option 'value'`` of the first argument value that contains a NUL, or None."""
    for key, value in vars(args).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, (str, os.PathLike)) and "\x00" in os.fspath(v):
                option = f"--{key.replace('_', '-')}" if key != "files" else key
                return f"{option} {os.fspath(v)!r}"
    return None


def _run_command(argv: Sequence[str] | None) -> int:
    from mfa.io.outputs import plain_error

    parser = build_parser()
    args = parser.parse_args(argv)
    nul = _argument_with_nul(args)
    if nul is not None:  # no path or name may hold one; the OS would refuse it with a traceback
        print(f"mfa: error: argument {nul} contains a NUL character", file=sys.stderr)
        return 2
    from mfa.cli.startup import defer_dask

    defer_dask()  # a plain run makes no dask array: do not import dask for it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            return args.func(args)
    except ValueError as exc:
        if not _is_user_error(exc):
            raise
        print(f"mfa: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"mfa: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:  # permissions, a full disk, ...: name the file, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"mfa: error: {where}{plain_error(exc)}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mfa`` command. Returns the exit status.

    SIGTERM is handled like SIGINT from the very start (before the scientific libraries are
    imported): exit status 128 + signal number (130, 143), one line on stderr.
    """
    previous = {}
    try:
        for s in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[s] = signal.signal(s, _interrupt)
            except ValueError:  # not the main thread (e.g. called from a worker): keep them
                pass
        from mfa.io.outputs import checkpoint  # standard library only: still before numpy & co.

        checkpoint("startup")
        return _run_command(argv)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        print(f"mfa: interrupted ({signal.Signals(signum).name}); temporary files removed",
              file=sys.stderr)
        return 128 + signum
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
