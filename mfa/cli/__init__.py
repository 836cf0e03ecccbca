"""The ``mfa`` command: run scenarios, list and compare them, draw figures.

A mistake in the input (a parameter or scenario file, an argument) ends with one message on
stderr and exit status 2, without a traceback. Outputs are written atomically.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from mfa.core.errors import MfaError
from mfa.core.units import UnitError

SUMMARY_YEARS = (2030, 2040, 2050)


def _fmt_t(x: float) -> str:
    """Tonnes with a thousands separator (t/yr)."""
    return f"{x:,.0f}" if np.isfinite(x) else "n/a"


def summary_table(ds: xr.Dataset, years: Sequence[int] = SUMMARY_YEARS) -> str:
    """Text table of the headline results for ``years`` (those within the run).

    Rows: total demand, primary demand, secondary supply, primary demand avoided (t/yr and %),
    China's share of mining and of magnet making.
    """
    years = [y for y in years if y in set(ds["time"].values.tolist())]
    if not years:
        years = [int(ds["time"].values[-1])]
    sel = ds.sel(time=years)
    primary = sel["primary_demand"].sum("region")
    avoided = sel["primary_demand_avoided"]
    ref = sel["primary_demand_no_recycling"]
    with np.errstate(invalid="ignore", divide="ignore"):
        avoided_pct = (100 * avoided / ref).values
    rows = [
        ("Total demand (oxide/metal stage) [t/yr]", [_fmt_t(v) for v in sel["total_demand"].values]),
        ("Primary (mined) demand [t/yr]", [_fmt_t(v) for v in primary.values]),
        ("Secondary supply [t/yr]",
         [_fmt_t(v) for v in sel["secondary_supply"].sum("source").values]),
        ("Primary demand avoided [t/yr]", [_fmt_t(v) for v in avoided.values]),
        ("Primary demand avoided [%]", [f"{v:.1f}" for v in avoided_pct]),
        ("China share of mining [%]",
         [f"{100 * v:.1f}" for v in sel["production_share"].sel(region="China", stage="mining").values]),
        ("China share of magnet making [%]",
         [f"{100 * v:.1f}" for v in sel["production_share"].sel(region="China", stage="magnet").values]),
    ]
    w0 = max(len(r[0]) for r in rows)
    w = max(12, *(len(c) for _, cells in rows for c in cells))
    head = f"{'Nd, scenario ' + str(ds.attrs.get('scenario', '?')):<{w0}}" + "".join(
        f"{y:>{w + 2}}" for y in years
    )
    lines = [head, "-" * len(head)]
    for label, cells in rows:
        lines.append(f"{label:<{w0}}" + "".join(f"{c:>{w + 2}}" for c in cells))
    return "\n".join(lines)


def _cmd_run(args: argparse.Namespace) -> int:
    from mfa.io import write_csv_tables, write_excel, write_netcdf
    from mfa.models.neodymium import run

    ds = run(args.scenario, params=args.params)
    name = str(ds.attrs["scenario"])
    out = Path(args.out) if args.out else Path("results") / f"{name}.nc"
    write_netcdf(ds, out)
    print(summary_table(ds))
    print(f"\nResults written to {out}")
    if args.csv:
        files = write_csv_tables(ds, args.csv, scenario=name)
        print(f"CSV tables (IAMC wide format and one per variable) written to {args.csv} "
              f"({len(files)} files)")
    if args.excel:
        write_excel(ds, args.excel)
        print(f"Excel workbook written to {args.excel}")
    if getattr(args, "plots", None):
        from mfa.plot import save_all

        paths = save_all(ds, args.plots)
        print(f"{len(paths)} figures written to {args.plots}")
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from mfa.data.scenarios import list_scenarios

    scenarios = list_scenarios(args.params)
    width = max((len(s.name) for s in scenarios), default=0)
    for s in scenarios:
        base = f" [base: {s.base}]" if s.base else ""
        print(f"{s.name:<{width}}  {s.description}{base}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from mfa.models.neodymium import run

    a = run(args.a, params=args.params)
    b = run(args.b, params=args.params)
    years = [y for y in SUMMARY_YEARS if y in set(a["time"].values.tolist())]
    na, nb = a.attrs["scenario"], b.attrs["scenario"]
    rows = [
        ("Total demand [t/yr]", a["total_demand"], b["total_demand"]),
        ("Primary demand [t/yr]", a["primary_demand"].sum("region"), b["primary_demand"].sum("region")),
        ("Secondary supply [t/yr]", a["secondary_supply"].sum("source"),
         b["secondary_supply"].sum("source")),
        ("Primary demand avoided [t/yr]", a["primary_demand_avoided"], b["primary_demand_avoided"]),
        ("In-use stock [t]", a["in_use_stock"].sum(("region", "product")),
         b["in_use_stock"].sum(("region", "product"))),
        ("China share of mining [%]", 100 * a["production_share"].sel(region="China", stage="mining"),
         100 * b["production_share"].sel(region="China", stage="mining")),
        ("China share of magnets [%]", 100 * a["production_share"].sel(region="China", stage="magnet"),
         100 * b["production_share"].sel(region="China", stage="magnet")),
    ]
    w = max(16, len(na) + 5, len(nb) + 5)
    print(f"{'':<32}{'year':>6}{'A: ' + na:>{w}}{'B: ' + nb:>{w}}{'B - A':>16}{'change %':>10}")
    for label, va, vb in rows:
        for y in years:
            x, z = float(va.sel(time=y)), float(vb.sel(time=y))
            pct = f"{100 * (z - x) / x:+.1f}" if x else "n/a"
            print(f"{label:<32}{y:>6}{x:>{w},.1f}{z:>{w},.1f}{z - x:>+16,.1f}{pct:>10}")
    cum_a = float(a["primary_demand"].sum())
    cum_b = float(b["primary_demand"].sum())
    t0, t1 = int(a["time"][0]), int(a["time"][-1])
    print(f"\nCumulative primary demand {t0}-{t1} [t]: {na} {cum_a:,.0f}; {nb} {cum_b:,.0f}; "
          f"difference {cum_b - cum_a:+,.0f}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from mfa.io import read_results
    from mfa.plot import save_all

    results = [read_results(p) for p in args.results]
    compare = None
    if len(results) > 1:
        compare = {str(ds.attrs.get("scenario", f"run {i + 1}")): ds for i, ds in enumerate(results)}
    paths = save_all(results[0], args.out, year=args.year, region=args.region, kinds=args.kind,
                     formats=tuple(args.format or ["png"]), compare=compare)
    for p in paths:
        print(p)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mfa`` command."""
    parser = argparse.ArgumentParser(
        prog="mfa",
        description="Dynamic material-flow analysis of neodymium: run scenarios, compare them, "
        "draw figures.",
    )
    parser.add_argument("--params", metavar="DIR", default=None,
                        help="parameter directory (default: the data shipped with the package)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run one scenario, write netCDF (and CSV), print a summary")
    p.add_argument("--scenario", default="baseline", help="scenario name or TOML file (baseline)")
    p.add_argument("--out", metavar="FILE.nc", help="netCDF output (default results/NAME.nc)")
    p.add_argument("--csv", metavar="DIR", help="also write CSV tables (IAMC wide + tidy)")
    p.add_argument("--excel", metavar="FILE.xlsx", help="also write an Excel workbook")
    p.add_argument("--plots", metavar="DIR", help="also write all figures to DIR")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("scenarios", help="list the scenarios, one line each")
    p.set_defaults(func=_cmd_scenarios)

    p = sub.add_parser("compare", help="print the differences between two scenarios")
    p.add_argument("a", help="scenario A (name or TOML file)")
    p.add_argument("b", help="scenario B (name or TOML file)")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("plot", help="draw figures from results files")
    p.add_argument("results", nargs="+", metavar="RESULTS.nc",
                   help="results written by 'mfa run'; several files add a scenario comparison")
    # Kinds are checked by mfa.plot.save_all (its error lists them): importing mfa.plot here
    # would load matplotlib on every command.
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

    from mfa.analysis.uncertainty import add_cli

    add_cli(sub)  # `mc` (Monte Carlo ensembles) and `sensitivity` (Sobol indices)
    for sp in sub.choices.values():  # `mfa run --params DIR` works as well as `mfa --params DIR run`
        sp.add_argument("--params", metavar="DIR", default=argparse.SUPPRESS,
                        help="parameter directory (default: the data shipped with the package)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mfa`` command. Returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return args.func(args)
    except (MfaError, UnitError) as exc:
        print(f"mfa: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"mfa: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:  # pragma: no cover
        print("mfa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
