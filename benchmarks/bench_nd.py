"""Time one scenario of the Nd model, 1980-2050, all regions and products (after import).

Target (issue 3): under 0.5 s for `mfa.models.neodymium.run` on this 2-core machine. BLAS is pinned to
one thread (two OpenBLAS pools on 2 cores made BLAS calls ~60x slower here).

Run:  python benchmarks/bench_nd.py [--repeat N]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import statistics
import time
import tracemalloc

from mfa.data.params import load_parameters
from mfa.data.scenarios import apply_scenario, load_scenario
from mfa.models.neodymium import run, simulate


def timed(fn, repeat):
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out), min(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--scenario", default="baseline")
    args = ap.parse_args()
    run(args.scenario)  # warm-up (first-call imports, caches)
    params = load_parameters()
    values = apply_scenario(params, load_scenario(args.scenario)).values
    rows = [
        ("load_parameters (read + validate + interpolate)", lambda: load_parameters()),
        ("apply_scenario", lambda: apply_scenario(params, load_scenario(args.scenario))),
        ("simulate (model + stocks + mass balance)", lambda: simulate(values)),
        ("run (all of the above)", lambda: run(args.scenario)),
    ]
    print(f"scenario {args.scenario}, {values.sizes['time']} years, "
          f"{values.sizes['region']} regions, {values.sizes['product']} products; "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; median of {args.repeat}")
    for label, fn in rows:
        med, best = timed(fn, args.repeat)
        print(f"  {label:<50} {1000 * med:8.1f} ms (best {1000 * best:.1f} ms)")
    tracemalloc.start()
    run(args.scenario)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    med, _ = timed(lambda: run(args.scenario), args.repeat)
    print(f"  peak traced memory of one run: {peak / 2**20:.1f} MiB")
    print(f"target < 500 ms: {'met' if med < 0.5 else 'NOT met'} ({1000 * med:.0f} ms)")


if __name__ == "__main__":
    main()
