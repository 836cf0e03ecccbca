"""``mfa mc`` and ``mfa sensitivity``: Monte Carlo ensembles and Sobol indices from the command line."""

from __future__ import annotations

import argparse
import json
import os
import time as _time
from pathlib import Path
from typing import Any

from mfa.analysis import budget
from mfa.analysis.options import (
    DEFAULT_QUANTILES,
    DISTRIBUTIONS,
    MAX_SEED,
    UncertaintyError,
)
from mfa.cli.console import detail, is_verbose, result, show_progress, status
from mfa.io.outputs import OutputSet, write_bytes

__all__ = ["add_cli", "add_budget_options"]


def add_budget_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--force`` (read by :func:`mfa.analysis.budget.check`, with ``-v/--verbose``, which
    every subcommand has)."""
    parser.add_argument("--force", action="store_true",
                        help="start even if the estimated memory, disk or time exceeds the "
                             "limits")


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.replace(";", ",").split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _variables(text: str) -> list[str] | str:
    """``--variables``: ``all`` or comma-separated result variable names."""
    if text.strip() == "all":
        return "all"
    names = _names(text)
    if not names:
        raise argparse.ArgumentTypeError(f"expected result variable names or 'all', got {text!r}")
    return names


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {v}")
    return v


def _seed_arg(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if not 0 <= v <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"seed must be a whole number from 0 to {MAX_SEED} "
                                         f"(2**63 - 1), got {v}")
    return v


def _power_of_two(text: str) -> int:
    from mfa.analysis.uncertainty import _check_base_samples

    v = _positive_int(text)
    try:
        return _check_base_samples(v)
    except UncertaintyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _figure_path(text: str) -> Path:
    """``--figure``: a file with a figure suffix, or a directory for ``sensitivity.png``."""
    from matplotlib.backend_bases import FigureCanvasBase

    if not text.strip():
        raise UncertaintyError("--figure: empty path; give a file name like sobol.png or a "
                               "directory")
    p = Path(text)
    if text.endswith(("/", os.sep)) or p.is_dir() or not p.suffix:
        from mfa.cli import deprecated

        deprecated(f"'--figure {text}' (a directory)",
                   f"--figure {p / 'sensitivity.png'}")
        return p / "sensitivity.png"  # a directory: the figure goes inside it
    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    if p.suffix[1:].lower() not in formats:
        raise UncertaintyError(f"--figure {p}: unknown figure format {p.suffix!r}; expected a "
                               f"file ending in .{', .'.join(formats)}, or a directory")
    return p


def _check_budget(args: argparse.Namespace, size: tuple[int, int] | None, samples: int,
                  evaluations: int | None, n_factors: int, out_dir: str | None, *,
                  report: bool = True) -> None:
    """Refuse an ensemble beyond the memory, disk or time limits (:mod:`mfa.analysis.budget`); print
    the estimate when asked (``-v``) or large, if ``report``."""
    if size is None:  # model.toml unreadable: the loader says why
        return
    from mfa.cli import _model
    workers = 1 if args.scheduler in ("numpy", "sync") else (os.cpu_count() or 1)
    est = budget.estimate_ensemble(
        *size, samples if evaluations is None else 0,
        chunk=args.chunk or getattr(_model(args), "mc_chunk", None), workers=workers,
        store_dir=getattr(args, "tmpdir", None), out_dir=out_dir,
        n_factors=n_factors, evaluations=evaluations)
    note = budget.check(est, force=args.force, verbose=is_verbose(args))
    if note and report:
        status(args, f"mfa: {note}")


def _cmd_mc(args: argparse.Namespace) -> int:
    from mfa.analysis.uncertainty import monte_carlo
    from mfa.cli import _model
    from mfa.data.params import load_parameters
    from mfa.io import write_netcdf
    from mfa.io.outputs import protected_inputs, scratch_directory
    from mfa.plot.uncertainty import plot_fan_charts  # matplotlib: only when a command runs

    model = _model(args)
    inputs = protected_inputs(args.params, args.scenario)
    out = Path(args.out)
    with OutputSet(inputs) as outs:  # every path checked before any work
        outs.file(args.out, "--out")
        if args.plots is not None:
            outs.directory(args.plots, "--plots")
        if args.tmpdir is not None:
            scratch_directory(args.tmpdir, inputs, "--tmpdir")
        _check_budget(args, budget.problem_size(args.params), args.samples, None,
                      len(args.factors or ()), str(out.parent))
        params = load_parameters(args.params)
        t0 = _time.perf_counter()
        summary = monte_carlo(
            model, params, args.samples, scenario=args.scenario, seed=args.seed, chunk=args.chunk,
            scheduler=args.scheduler, quantiles=args.quantiles,
            thresholds=args.threshold or (), factors=args.factors,
            distribution=args.distribution, progress=show_progress(args),
            store=args.store, tmpdir=args.tmpdir, variables=args.variables,
        )
        write_netcdf(summary, out, outputs=outs)
        if args.plots is not None:
            paths = plot_fan_charts(summary, args.plots, outputs=outs)
    elapsed = _time.perf_counter() - t0
    names = json.loads(summary.attrs["mc_factors"])
    status(args, f"Monte Carlo: scenario {summary.attrs['scenario']}, {args.samples} samples, "
           f"seed {args.seed}, {len(names)} uncertain parameters, "
           f"{summary.attrs['mc_scheduler']}, {elapsed:.1f} s")
    years = [y for y in (2030, 2040, 2050) if y in set(summary["time"].values.tolist())]
    q = summary["quantile"].values
    head = f"{'world total [t/yr]':<34}{'year':>6}" + "".join(f"{f'q{100 * x:g}':>14}" for x in q)
    lines = [head, "-" * len(head)]
    for v in ("total_demand", "primary_demand", "primary_demand_avoided"):
        name = f"world_{v}"
        if name not in summary:
            continue
        for y in years:
            vals = summary[name].sel(time=y).values
            lines.append(f"{v:<34}{y:>6}" + "".join(f"{x:>14,.0f}" for x in vals))
    if "exceedance_probability" in summary:
        p = summary["exceedance_probability"]
        for thr in p["threshold"].values:
            cells = ", ".join(f"{y}: {float(p.sel(threshold=thr, time=y)):.0%}" for y in years)
            lines.append(f"P(world primary demand > {thr:,.0f} t/yr): {cells}")
    result("\n".join(lines))
    detail(args, f"uncertain parameters: {', '.join(names)}")
    if args.plots is not None:
        status(args, f"{len(paths)} fan charts written to {args.plots}")
        for path in paths:
            detail(args, f"  {path}")
    status(args, f"Results written to {out}")
    return 0


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from mfa.analysis.uncertainty import sensitivity, uncertain_parameters
    from mfa.cli import _model
    from mfa.data.params import load_parameters
    from mfa.io import write_netcdf
    from mfa.io.outputs import protected_inputs
    from mfa.plot.style import save_figure
    from mfa.plot.uncertainty import plot_sensitivity  # matplotlib: only when a command runs

    model = _model(args)
    inputs = protected_inputs(args.params, args.scenario)
    with OutputSet(inputs) as outs:  # every path checked before any work
        if args.out is not None:
            outs.file(args.out, "--out")
        figure = _figure_path(args.figure) if args.figure is not None else None
        if figure is not None:
            fig_target = outs.file(figure, "--figure")
        size = budget.problem_size(args.params)
        out_dir = str(Path(args.out).parent) if args.out else None
        # before loading (a huge span loads slowly) with the factors given or none, a lower
        # bound; after loading with the real number of factors
        _check_budget(args, size, 0, args.samples * (len(args.factors or ()) + 2), 0, out_dir,
                      report=False)
        params = load_parameters(args.params)
        n_factors = len(args.factors) if args.factors else len(uncertain_parameters(params))
        groups = None if args.groups is None else _groups(args, model, params)
        if groups is not None:
            n_factors = len(groups)
        _check_budget(args, size, 0, args.samples * (n_factors + 2), n_factors, out_dir)
        si = sensitivity(
            model, params, args.samples, scenario=args.scenario, seed=args.seed,
            outputs=args.outputs or None, years=args.years, factors=args.factors,
            distribution=args.distribution, chunk=args.chunk, scheduler=args.scheduler,
            progress=show_progress(args), groups=groups,
        )
        if args.out is not None:
            write_netcdf(si, Path(args.out), outputs=outs)
        if figure is not None:
            fmt = figure.suffix[1:].lower()
            data = save_figure(plot_sensitivity(si), [fmt], dpi=120)[fmt]  # saved, closed
            outs.write(fig_target, lambda tmp: write_bytes(tmp, data))
    status(args, f"Sobol sensitivity: scenario {si.attrs['scenario']}, "
           f"{si.attrs['n_evaluations']} model runs ({si.attrs['n_base']} base samples x "
           f"({si.sizes['parameter']} {'groups' if groups else 'parameters'} + 2))")
    result(_sobol_table(si))
    if args.out is not None:
        status(args, f"Indices written to {args.out}")
    if figure is not None:
        status(args, f"Figure written to {figure}")
    return 0


def _groups(args: argparse.Namespace, model: Any, params: Any) -> dict[str, list[str]]:
    """``--groups``: ``model`` (the model's default grouping) or a TOML file with one line
    ``group = ["parameter", ...]`` per group, checked against the factors of the scenario
    (every one in exactly one group); a mistake is an UncertaintyError naming the file."""
    import tomllib

    from mfa.analysis.run import prepare
    from mfa.analysis.uncertainty import check_groups, model_groups, uncertain_parameters

    names = args.factors or uncertain_parameters(prepare(model, args.scenario, params)[1])
    if args.groups == "model":
        return model_groups(model, names)
    path = Path(args.groups)
    if not path.is_file():
        raise UncertaintyError(f"--groups {args.groups}: no such file (expected 'model' or a "
                               "TOML file with lines group = [\"parameter\", ...])")
    try:
        with path.open("rb") as f:
            table = tomllib.load(f)
        return check_groups(table, names)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UncertaintyError(f"--groups {path}: not valid TOML: {exc}") from None
    except UncertaintyError as exc:
        raise UncertaintyError(f"--groups {path}: {exc}") from None


def _sobol_table(si: Any) -> str:
    """The indices as text: one block per output and year, factors by total index; with
    grouped factors the header says ``group`` and a last block lists the members."""
    import numpy as np

    head = "group" if "members" in si.coords else "parameter"
    blocks = []
    for o in si["output"].values:
        for y in si["year"].values:
            s = si.sel(output=o, year=y)
            unit = str(s["output_units"].values) if "output_units" in s.coords else "t/yr"
            order = np.argsort(-np.nan_to_num(s["ST"].values, nan=-1.0), kind="stable")
            lines = [f"{o} {int(y)} (world total; mean {float(s['mean']):,.0f}, sd "
                     f"{float(s['std']):,.0f} {unit})",
                     f"  {head:<30}{'ST':>8}{'±':>7}{'S1':>8}{'±':>7}"]
            lines += [f"  {s['parameter'].values[i]!s:<30}{float(s['ST'][i]):>8.3f}"
                      f"{float(s['ST_conf'][i]):>7.3f}{float(s['S1'][i]):>8.3f}"
                      f"{float(s['S1_conf'][i]):>7.3f}" for i in order]
            blocks.append("\n".join(lines))
    if "members" in si.coords:
        blocks.append("\n".join(["groups:"] + [
            f"  {g}: {m}" for g, m in zip(si["parameter"].values, si["members"].values,
                                          strict=True)]))
    return "\n\n".join(blocks)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="baseline", help="scenario name or TOML file (baseline)")
    p.add_argument("--seed", type=_seed_arg, default=0, help="random seed (default 0)")
    p.add_argument("--chunk", type=_positive_int, default=None,
                   help="samples per task (default: the model's, else as many as make about "
                        "96 MiB of results: 238 for the Nd baseline, twice that for the numpy "
                        "loop, which holds one chunk); results do not depend on it")
    p.add_argument("--scheduler", default="auto", metavar="ADDR",
                   help="'auto' (default: two forked worker processes on Linux, else two "
                        "threads, where two or more cores are usable; else 'numpy'), 'fork', "
                        "'numpy' (a plain loop), 'threads' (dask), 'sync', "
                        "'processes' (local dask workers) or a dask.distributed scheduler "
                        "address, e.g. tcp://10.0.0.1:8786")
    p.add_argument("--factors", type=_names, default=None, metavar="P1,P2",
                   help="parameters to sample (default: all with a low/high range)")
    p.add_argument("--distribution", choices=DISTRIBUTIONS, default="triangular",
                   help="distribution over [low, high] (triangular with mode = value)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is drawn only on a terminal, and never with -q)")
    add_budget_options(p)


def add_cli(subparsers: Any) -> None:
    """Register the ``mc`` and ``sensitivity`` subcommands on the ``mfa`` argument parser.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers`` in :mod:`mfa.cli`; the
        handlers are set as ``func`` and read ``args.params`` (the global ``--params``).
    """
    p = subparsers.add_parser(
        "mc", help="Monte Carlo ensemble: quantiles of every result, exceedance probabilities",
        description="Sample the parameters with low/high ranges (one quantile per parameter and "
                    "sample, triangular(low, value, high)), run the model for every sample, "
                    "write quantiles and world totals per sample to a netCDF file.",
    )
    _common(p)
    p.add_argument("--samples", type=_positive_int, default=1000, metavar="N",
                   help="number of samples (default 1000)")
    p.add_argument("--quantiles", type=_floats, default=list(DEFAULT_QUANTILES), metavar="Q1,Q2",
                   help="quantiles to report (default 0.05,0.5,0.95)")
    p.add_argument("--threshold", type=float, action="append", metavar="T",
                   help="world primary demand threshold [t/yr] for the exceedance probability "
                        "(repeatable)")
    p.add_argument("--tmpdir", metavar="DIR", help="directory for the temporary ensemble files "
                   "(must exist; default: /dev/shm if they take at most a quarter of the "
                   "available memory, else the system's temporary directory)")
    p.add_argument("--store", choices=("auto", "memory", "disk"), default="auto",
                   help="where the ensemble waits for its quantiles: memory, temporary files "
                        "(in --tmpdir), or auto (files above 128 MiB)")
    p.add_argument("--variables", type=_variables, default=None, metavar="V1,V2",
                   help="result variables to keep, or 'all' (default: the model's selection, "
                        "e.g. the headline variables of magnet_rees; else all)")
    p.add_argument("--plots", metavar="DIR", help="also write fan charts to DIR")
    p.add_argument("--out", required=True, metavar="FILE.nc", help="netCDF output")
    p.set_defaults(func=_cmd_mc)

    p = subparsers.add_parser(
        "sensitivity", help="global (Sobol) sensitivity of primary demand and demand avoided",
        description="Sobol indices (first order and total) of world outputs in given years "
                    "with respect to every parameter with a low/high range.",
    )
    _common(p)
    p.add_argument("--samples", type=_power_of_two, default=256, metavar="N",
                   help="base sample size, a power of 2 (default 256; N x (parameters + 2) runs)")
    p.add_argument("--years", type=lambda s: [int(x) for x in _floats(s)], default=[2030, 2050],
                   metavar="Y1,Y2", help="years (default 2030,2050)")
    p.add_argument("--outputs", type=_names, default=None, metavar="V1,V2",
                   help="result variables (world totals; default primary_demand,"
                        "primary_demand_avoided)")
    p.add_argument("--groups", metavar="model|FILE.toml",
                   help="grouped factors: 'model' (the model's default groups of parameters) "
                        "or a TOML file with lines group = [\"parameter\", ...], every "
                        "uncertain parameter in exactly one group (default: one factor per "
                        "parameter)")
    p.add_argument("--out", metavar="FILE.nc", help="write the indices to netCDF")
    p.add_argument("--figure", metavar="FILE.png", help="write the bar chart to FILE.png (.svg, "
                   ".pdf); a directory DIR is deprecated (DIR/sensitivity.png)")
    p.set_defaults(func=_cmd_sensitivity)
