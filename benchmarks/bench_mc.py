"""Monte Carlo benchmark: 10,000 samples of the baseline (1980-2050, all regions and products).

Targets (issue "uncertainty"): the dask threaded run under 60 s on this 2-core machine with a
peak resident memory (RSS) under 2 GiB. Also reports the same ensemble computed by the plain
numpy loop (same chunks, one thread) and the ratio of the two, and optionally the "one big
array" variant (all samples in one chunk, in memory) at a smaller sample count.

Every case runs in a fresh Python process (so each RSS peak is its own; measured both with
``resource.getrusage`` and by sampling ``psutil`` every 20 ms when available). The timing
covers :func:`mfa.analysis.uncertainty.monte_carlo` end to end: loading the parameters, drawing the
samples inside each chunk, the model, the per-sample mass-balance check, the temporary
ensemble file and the quantiles of every result variable. BLAS is pinned to one thread.

Run:  python benchmarks/bench_mc.py [--samples 10000] [--chunk 250] [--one-array 1000]
Exit status 1 if a target is missed. Needs the optional extra ``dist`` (dask).
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import subprocess
import sys
import threading
import time

TARGET_SECONDS = 60.0
TARGET_RSS_BYTES = 2 * 2**30


def _child(scheduler: str, n: int, chunk: int, store: str, seed: int) -> dict:
    """One case, measured inside this (fresh) process."""
    import resource

    peak = [0]
    stop = threading.Event()
    try:
        import psutil

        proc = psutil.Process()

        def watch() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], proc.memory_info().rss)
                stop.wait(0.02)

        threading.Thread(target=watch, daemon=True).start()
    except ImportError:
        psutil = None

    from mfa.analysis import uncertainty as U
    from mfa.models import get

    t0 = time.perf_counter()
    out = U.monte_carlo(get("neodymium"), None, n, scenario="baseline", seed=seed, chunk=chunk,
                        scheduler=scheduler, store=store, thresholds=[1.5e5])
    elapsed = time.perf_counter() - t0
    stop.set()
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    pd = out["world_primary_demand"].sel(time=[2030, 2050])
    return {
        "scheduler": scheduler, "samples": n, "chunk": chunk, "store": store,
        "seconds": elapsed, "rss_peak": max(ru, peak[0]),
        "factors": len(json.loads(out.attrs["mc_factors"])),
        "variables": sum(1 for v in out.data_vars if "quantile" in out[v].dims),
        "world_primary_demand_q": pd.values.tolist(),
    }


def _run(scheduler: str, n: int, chunk: int, store: str, seed: int) -> dict:
    cmd = [sys.executable, __file__, "--child", scheduler, str(n), str(chunk), store, str(seed)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise SystemExit(f"case {scheduler} n={n} failed")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--chunk", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--one-array", type=int, default=0, metavar="N",
                    help="also run N samples as one chunk in memory (plain numpy, one big array)")
    ap.add_argument("--skip-numpy", action="store_true", help="only the dask threaded run")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        sched, n, chunk, store, seed = args.child
        print(json.dumps(_child(sched, int(n), int(chunk), store, int(seed))))
        return 0

    cases = [("threads", args.samples, args.chunk, "auto")]
    if not args.skip_numpy:
        cases.append(("numpy", args.samples, args.chunk, "auto"))
    if args.one_array:
        cases.append(("numpy", args.one_array, args.one_array, "memory"))
    print(f"Monte Carlo benchmark: baseline 1980-2050, all regions and products, seed {args.seed}, "
          f"{os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS=1")
    print(f"{'scheduler':<10}{'samples':>9}{'chunk':>7}{'seconds':>10}{'ms/sample':>11}"
          f"{'peak RSS MiB':>14}")
    results = []
    for sched, n, chunk, store in cases:
        r = _run(sched, n, chunk, store, args.seed)
        results.append(r)
        print(f"{sched:<10}{n:>9}{chunk:>7}{r['seconds']:>10.1f}{1000 * r['seconds'] / n:>11.2f}"
              f"{r['rss_peak'] / 2**20:>14.0f}", flush=True)
    main_run = results[0]
    print(f"{main_run['factors']} uncertain parameters; quantiles of {main_run['variables']} "
          "result variables")
    q = main_run["world_primary_demand_q"]
    print(f"world primary demand 2030 q5/q50/q95 [t/yr]: {q[0][0]:,.0f} / {q[1][0]:,.0f} / "
          f"{q[2][0]:,.0f}; 2050: {q[0][1]:,.0f} / {q[1][1]:,.0f} / {q[2][1]:,.0f}")
    if not args.skip_numpy:
        numpy_run = results[1]
        print(f"dask threaded / plain numpy time ratio: "
              f"{main_run['seconds'] / numpy_run['seconds']:.2f} "
              f"(speed-up {numpy_run['seconds'] / main_run['seconds']:.2f}x); identical results: "
              f"{main_run['world_primary_demand_q'] == numpy_run['world_primary_demand_q']}")
    ok_t = main_run["seconds"] < TARGET_SECONDS
    ok_m = main_run["rss_peak"] < TARGET_RSS_BYTES
    print(f"target < {TARGET_SECONDS:.0f} s: {'met' if ok_t else 'NOT met'}; "
          f"target peak RSS < 2 GiB: {'met' if ok_m else 'NOT met'}")
    return 0 if ok_t and ok_m else 1


if __name__ == "__main__":
    sys.exit(main())
