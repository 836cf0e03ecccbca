"""The ``mfa`` command: run scenarios, list and compare them, draw figures.

Conventions of every subcommand (a new subcommand follows them)
-----------------------------------------------------------------
Outputs: ``--out`` is what the command writes
    ``--out FILE`` always names the one file a command writes (``mfa run --out r.nc``,
    ``mfa mc --out mc.nc``, ``mfa sensitivity --out si.nc``, ``mfa report --out r.html``).
    A command whose output is a set of files takes ``--out-dir DIR`` instead (``mfa plot
    --out-dir figures``). Further outputs of a command are named for what they hold, and their
    metavar says file or directory: ``--excel FILE.xlsx``, ``--figure FILE.png``, ``--csv DIR``,
    ``--plots DIR``. A command whose only job is to write one file may take it as its
    positional argument (``mfa params export FILE.xlsx``). Old spellings keep working for one
    release, with one line ``mfa: warning: ... is deprecated ...`` on stderr (:func:`deprecated`):
    ``mfa plot --out DIR`` (now ``--out-dir DIR``), ``mfa sensitivity --figure DIR`` (now
    ``--figure DIR/sensitivity.png``).
What goes where (:mod:`mfa.cli.console`)
    Results (summary tables, ``mfa compare``, ``mfa scenarios``, ``mfa models``, the tables of
    ``mfa mc`` and ``mfa sensitivity``) go to stdout (:func:`~mfa.cli.console.result`); status
    lines (what was written where, timings) to stderr (:func:`~mfa.cli.console.status`),
    silenced by ``-q/--quiet``; ``-v/--verbose`` adds details on stderr
    (:func:`~mfa.cli.console.detail`, e.g. the estimated memory, disk and time, every file
    written). Warnings (``mfa: warning: ...``) and errors are never silenced.
Progress
    A long command reports on the one progress bar, :func:`mfa.cli.console.progress_bar`
    (tqdm with the ``progress`` extra, a plain bar otherwise). It draws only when stderr is a
    terminal (a redirected run writes no progress updates), never with ``-q`` or
    ``--no-progress``.
Options every subcommand has
    ``--params DIR``, ``--model NAME``, ``-q``, ``-v``, before or after the subcommand name:
    :func:`build_parser` adds them to every subparser registered on its ``sub`` object, so a
    new subcommand only adds its own options (in its own ``add_parser`` block or function).
    ``mfa --version`` prints the version of the package (and its git commit in a checkout).

Errors
------
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

from mfa.cli.console import files_written, result, status

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

    note = budget.check(estimate, force=args.force, verbose=getattr(args, "verbose", False))
    if note and report:
        status(args, f"mfa: {note}")


def deprecated(old: str, new: str) -> None:
    """One warning line: the spelling ``old`` still works in this release; use ``new``."""
    print(f"mfa: warning: {old} is deprecated and will be removed in the next release; "
          f"use {new}", file=sys.stderr, flush=True)


def _scenario_first(args: argparse.Namespace, model: Any = None) -> Any:
    """The scenario of a command, read before any work (it names the default output and its
    files are inputs); for a broken parameter directory the loader's message comes first.
    A model with its own ``load_scenario`` (e.g. ``magnet_rees``) reads it."""
    from mfa.core.errors import MfaError
    from mfa.data.params import load_parameters
    from mfa.data.scenarios import load_scenario

    loader = getattr(model, "load_scenario", None) or load_scenario
    try:
        return loader(args.scenario, params_dir=args.params)
    except MfaError:
        load_parameters(args.params)  # raises if the parameter files are what is wrong
        raise


def _cmd_run(args: argparse.Namespace) -> int:
    from mfa.analysis import budget
    from mfa.io.outputs import OutputSet, checkpoint, protected_inputs, safe_file_name

    model = _model(args)
    scen = _scenario_first(args, model)
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
            from mfa.cli.plot import save_figures

            figures = getattr(model, "figures", None)  # the model's own figure set
            if figures is None:
                from mfa.models.neodymium import figures
            paths = save_figures(figures, ds, args.plots, args, outs)
    result(summary_table(ds, model=model))
    status(args, f"Results written to {out}")
    if args.csv is not None:
        status(args, f"CSV tables (IAMC wide format and one per variable) written to {args.csv} "
               f"({len(files)} files)")
        files_written(args, files)
    if args.excel is not None:
        status(args, f"Excel workbook written to {args.excel}")
    if args.plots is not None:
        status(args, f"{len(paths)} figures written to {args.plots}")
        files_written(args, paths)
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
    if scenarios:
        result("\n".join(f"{s.name:<{width}}  {s.description}"
                          + (f" [base: {s.base}]" if s.base else "") for s in scenarios))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from mfa.analysis.run import run_scenario
    from mfa.cli.summary import compare_table

    model = _model(args)
    a = run_scenario(model, args.a, args.params)
    b = run_scenario(model, args.b, args.params)
    result(compare_table(a, b, model=model))
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from mfa.core.model import available, get

    lines = []
    for name in available():
        model = get(name)
        lines.append(f"{name}  material {model.material}; headline: "
                     f"{', '.join(model.headline)}; data: {model.default_params}")
    if lines:
        result("\n".join(lines))
    return 0


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line ``mfa: error: ...`` (status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"mfa: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mfa`` command."""
    from mfa.cli.mc import add_budget_options, add_cli
    from mfa.cli.plot import add_cli as add_plot

    parser = _Parser(
        prog="mfa",
        description="Dynamic material-flow analysis (default model: neodymium): run scenarios, "
        "compare them, draw figures, Monte Carlo and Sobol analyses.",
    )
    parser.add_argument("--params", metavar="DIR", default=None,
                        help="parameter directory (default: the model's own data)")
    parser.add_argument("--model", metavar="NAME", default=None,
                        help=f"material model (default {DEFAULT_MODEL}; 'mfa models' lists them)")
    parser.add_argument("--version", action=_VersionAction, nargs=0,
                        help="print the version (and git commit) and exit")
    _add_verbosity(parser, argparse.SUPPRESS)
    parser.set_defaults(quiet=False, verbose=False)
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

    add_plot(sub)  # `plot` (figures from results files)

    add_cli(sub)  # `mc` (Monte Carlo ensembles) and `sensitivity` (Sobol indices)
    from mfa.cli.params import add_cli as add_params
    from mfa.cli.report import add_cli as add_report

    add_params(sub)  # `params export FILE.xlsx`
    add_report(sub)  # `report` (one self-contained HTML page)
    for sp in sub.choices.values():  # `mfa run --params DIR` works as well as `mfa --params DIR run`
        sp.add_argument("--params", metavar="DIR", default=argparse.SUPPRESS,
                        help="parameter directory (default: the model's own data)")
        sp.add_argument("--model", metavar="NAME", default=argparse.SUPPRESS,
                        help=f"material model (default {DEFAULT_MODEL})")
        _add_verbosity(sp, argparse.SUPPRESS)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser, default: Any) -> None:
    """``-q/--quiet`` and ``-v/--verbose`` (conventions in the module docstring)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="print results only: no status lines, no progress bar")
    group.add_argument("-v", "--verbose", action="store_true", default=default,
                       help="more detail on stderr (estimated memory, disk and time; every "
                            "file written)")


def version_text() -> str:
    """``mfa (nd-mfa) VERSION``, and ``, git COMMIT`` (``-dirty`` with uncommitted changes) when
    the package runs from a git checkout."""
    from mfa import __version__

    text = f"mfa (nd-mfa) {__version__}"
    from mfa.io._git import git_commit  # standard library only: no numpy for --version

    commit = git_commit()
    if not commit:
        return text
    return f"{text}, git {commit[:12]}{'-dirty' if commit.endswith('-dirty') else ''}"


class _VersionAction(argparse.Action):
    """``--version``: computed only when asked (git runs only then)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(version_text())
        parser.exit(0)


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
    if args.quiet and args.verbose:  # one before the subcommand, one after it
        parser.error("argument -q/--quiet: not allowed with argument -v/--verbose")
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
