"""Monte Carlo benchmark: the baseline (1980-2050, all regions and products), end to end.

Targets (issue 15): 10,000 samples in under 10 s with plain numpy, dask threads no slower than
plain numpy, and a peak resident memory (RSS) under 0.6 GiB at 10,000 and at 50,000 samples
(memory flat in the number of samples). The quantiles must not change: every case prints the
world primary demand quantiles, and cases of the same size must agree exactly.

Every case runs in a fresh Python process. Its memory is watched from this process (psutil,
every 20 ms; the case's own ``ru_maxrss`` too), over the case and the worker processes it forks:
"peak PSS" is the peak of the summed proportional set sizes (pages a forked worker shares with
its parent counted once: the physical memory of the run; the target), "peak RSS" that of the
summed resident sizes (shared pages counted once per process: an upper bound). The timing
covers :func:`mfa.analysis.uncertainty.monte_carlo` end to end: loading the parameters, drawing
the samples inside each chunk, the model, the per-sample mass-balance check, the temporary
ensemble file and the quantiles of every result variable. BLAS is pinned to one thread. The
imports are not timed; xarray's lookup of dask is deferred as in ``mfa mc`` (a library
caller's first array in a process with dask installed imports ``dask.array``, 0.6 s, once).

The machine may be shared: each case can be repeated (``--repeat``) and the table gives the
median wall time, the median CPU time of the case and its worker processes (user + system;
steadier than the wall time when other processes compete for the cores), its system part (page
faults on new memory, the store's writes) and the largest peaks. The header gives the cost of
new memory when the benchmark starts (``first_touch_cost``): on the development machine, a
virtual machine that hands freed memory back to its host, it varies ~5x from run to run and
explains much of the difference between days (``benchmarks/README.md``).

Run:  python benchmarks/bench_mc.py [--samples 1000,10000,50000] [--schedulers auto,numpy,threads]
                                    [--chunk N] [--repeat 3] [--one-array 1000] [--end 2100]
Exit status 1 if a target is missed. The threads case needs the optional extra ``dist`` (dask).
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import cpu_seconds, first_touch_cost_elsewhere, run_watched, system_seconds

TARGET_SECONDS_PER_10K = 10.0
TARGET_RSS_BYTES = int(0.6 * 2**30)


def _child(scheduler: str, n: int, chunk: int, store: str, seed: int, params: str | None) -> dict:
    """One case, measured inside this (fresh) process."""
    from mfa.cli.startup import defer_dask

    # as ``mfa mc`` does: xarray would import dask.array (0.6 s) on its first array only to
    # ask whether it is a dask array; the threads case imports dask itself, inside the timing
    defer_dask()
    from mfa.analysis import uncertainty as U
    from mfa.models import get

    t0 = time.perf_counter()
    c0, s0 = cpu_seconds(), system_seconds()
    out = U.monte_carlo(get("neodymium"), params, n, scenario="baseline", seed=seed,
                        chunk=chunk or None, scheduler=scheduler, store=store,
                        thresholds=[1.5e5])
    elapsed = time.perf_counter() - t0
    cpu, system = cpu_seconds() - c0, system_seconds() - s0
    pd = out["world_primary_demand"].sel(time=[2030, 2050])
    return {"years": int(out.sizes["time"]),
        "scheduler": scheduler, "samples": n, "chunk": int(out.attrs["mc_chunk"]), "store": store,
        "seconds": elapsed, "cpu_seconds": cpu, "sys_seconds": system, "label": out.attrs["mc_scheduler"],
        "rss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "factors": len(json.loads(out.attrs["mc_factors"])),
        "variables": sum(1 for v in out.data_vars if "quantile" in out[v].dims),
        "world_primary_demand_q": pd.values.tolist(),
    }


def _run(scheduler: str, n: int, chunk: int, store: str, seed: int, params: str) -> dict:
    """One case in a fresh process, its memory watched from here (the whole process tree)."""
    cmd = [sys.executable, __file__, "--child", scheduler, str(n), str(chunk), store, str(seed),
           params]
    out, mem = run_watched(cmd)
    res = json.loads(out.strip().splitlines()[-1])
    res["rss_peak"] = max(mem["rss"], res.pop("rss_self"))
    res["pss_peak"] = mem["pss"] or res["rss_peak"]
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", default="10000", help="comma-separated sample counts")
    ap.add_argument("--schedulers", default="auto,numpy,threads", help="comma-separated schedulers")
    ap.add_argument("--chunk", type=int, default=0,
                    help="samples per chunk (default: the library's, 238 for the baseline)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="runs per case (median reported)")
    ap.add_argument("--one-array", type=int, default=0, metavar="N",
                    help="also run N samples as one chunk in memory (plain numpy, one big array)")
    ap.add_argument("--end", type=int, default=0, metavar="YEAR",
                    help="last model year (a copy of the default data with this end in "
                         "model.toml; default: as shipped, 2050)")
    ap.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        sched, n, chunk, store, seed, params = args.child
        print(json.dumps(_child(sched, int(n), int(chunk), store, int(seed), params or None)))
        return 0
    if args.end:
        with tempfile.TemporaryDirectory() as tmp:
            return _cases(args, _params_ending(Path(tmp), args.end))
    return _cases(args, "")


def _params_ending(tmp: Path, end: int) -> str:
    """A copy of the default parameter directory whose model ends in ``end``."""
    from mfa.data.params import default_params_dir

    params = tmp / "params"
    shutil.copytree(default_params_dir(), params)
    text = (params / "model.toml").read_text()
    lines = [f"end = {end}" if line.startswith("end =") else line for line in text.splitlines()]
    (params / "model.toml").write_text("\n".join(lines) + "\n")
    return str(params)


def _cases(args: argparse.Namespace, params: str) -> int:
    """Run and report every case; exit status."""

    sizes = [int(x) for x in args.samples.split(",")]
    schedulers = args.schedulers.split(",")
    cases = [(s, n, args.chunk, "auto") for n in sizes for s in schedulers]
    if args.one_array:
        cases.append(("numpy", args.one_array, args.one_array, "memory"))
    span = f"1980-{args.end}" if args.end else "1980-2050"
    print(f"Monte Carlo benchmark: baseline {span}, all regions and products, seed {args.seed}, "
          f"{os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS=1, {args.repeat} run(s) per case "
          f"(medians; memory: largest)")
    cold, again = first_touch_cost_elsewhere(2**30)
    print(f"first write to 1 GiB of new memory now: {cold:.2f} ns/byte; to the pages just freed: "
          f"{again:.2f} ns/byte (see benchmarks/README.md, 'the machine's memory')")
    print(f"{'scheduler':<10}{'samples':>9}{'chunk':>7}{'seconds':>10}{'cpu s':>9}{'sys s':>8}{'ms/sample':>11}"
          f"{'peak PSS MiB':>14}{'peak RSS MiB':>14}  runs on")
    results = []
    for sched, n, chunk, store in cases:
        runs = [_run(sched, n, chunk, store, args.seed, params) for _ in range(args.repeat)]
        r = dict(runs[0])
        r["seconds"] = statistics.median(x["seconds"] for x in runs)
        r["cpu_seconds"] = statistics.median(x["cpu_seconds"] for x in runs)
        r["sys_seconds"] = statistics.median(x["sys_seconds"] for x in runs)
        r["rss_peak"] = max(x["rss_peak"] for x in runs)
        r["pss_peak"] = max(x["pss_peak"] for x in runs)
        results.append(r)
        print(f"{sched:<10}{n:>9}{r['chunk']:>7}{r['seconds']:>10.1f}{r['cpu_seconds']:>9.1f}{r['sys_seconds']:>8.1f}"
              f"{1000 * r['seconds'] / n:>11.2f}{r['pss_peak'] / 2**20:>14.0f}"
              f"{r['rss_peak'] / 2**20:>14.0f}  {r['label']}", flush=True)
    first = results[0]
    print(f"{first['years']} years; {first['factors']} uncertain parameters; quantiles of "
          f"{first['variables']} result variables")
    ok = True
    for n in sizes:
        same_n = [r for r in results if r["samples"] == n and r["store"] == "auto"]
        q = same_n[0]["world_primary_demand_q"]
        agree = all(r["world_primary_demand_q"] == q for r in same_n)
        print(f"n={n}: world primary demand 2030 q5/q50/q95 [t/yr]: {q[0][0]:,.0f} / "
              f"{q[1][0]:,.0f} / {q[2][0]:,.0f}; 2050: {q[0][1]:,.0f} / {q[1][1]:,.0f} / "
              f"{q[2][1]:,.0f}; identical across schedulers: {agree}")
        ok &= agree
        by = {r["scheduler"]: r for r in same_n}
        if "numpy" in by and "threads" in by:
            print(f"n={n}: dask threads / plain numpy time: "
                  f"{by['threads']['seconds'] / by['numpy']['seconds']:.2f}")
        if "numpy" in by:
            target = TARGET_SECONDS_PER_10K * n / 10_000
            met = by["numpy"]["seconds"] < target
            ok &= met
            print(f"n={n}: numpy target < {target:.1f} s: {'met' if met else 'NOT met'}")
        for r in same_n:
            met = r["pss_peak"] < TARGET_RSS_BYTES
            ok &= met
            print(f"n={n} {r['scheduler']}: peak memory (PSS) < 0.6 GiB: "
                  f"{'met' if met else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
