"""Time one multi-element run (Nd, Pr, Dy, Tb, and La/Ce at the mine) after import.

Target (issue 14): one multi-element run under 0.5 s after import on this 2-core machine, i.e.
the element dim must not multiply the cost of the Nd run by four. Prints the Nd run alongside.

Run:  python benchmarks/bench_elements.py [--repeat N] [--scenario NAME]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import statistics
import time
import tracemalloc

from mfa.analysis.run import prepare
from mfa.models.neodymium import MODEL, simulate
from mfa.models.neodymium.element_data import load_element_data, load_element_scenario
from mfa.models.neodymium.elements import run_elements, simulate_elements


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
    ap.add_argument("--scenario", default="ionic-clay-shock", help="an element scenario")
    args = ap.parse_args()
    scen = load_element_scenario(args.scenario)
    run_elements(args.scenario)  # warm-up (first-call imports, caches)
    values = prepare(MODEL, scen.nd_scenario)[1].values
    data = load_element_data()
    rows = [
        ("load_element_data (read + check)", load_element_data),
        ("simulate, Nd only", lambda: simulate(values)),
        ("simulate_elements (4 elements + co-production)",
         lambda: simulate_elements(values, data, scen)),
        ("run_elements (load Nd and element data + run)", lambda: run_elements(args.scenario)),
    ]
    print(f"element scenario {args.scenario} (Nd scenario {scen.nd_scenario}); "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; median of {args.repeat}")
    results = {}
    for label, fn in rows:
        results[label] = med, best = timed(fn, args.repeat)
        print(f"  {label:<50} {1000 * med:8.1f} ms (best {1000 * best:.1f} ms)")
    tracemalloc.start()
    simulate_elements(values, data, scen)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak traced memory of one element run: {peak / 2**20:.1f} MiB")
    med = results["simulate_elements (4 elements + co-production)"][0]
    nd = results["simulate, Nd only"][0]
    print(f"element run / Nd run: {med / nd:.2f}x")
    print(f"target < 500 ms: {'met' if med < 0.5 else 'NOT met'} ({1000 * med:.0f} ms)")


if __name__ == "__main__":
    main()
