"""Time one multi-element run (Nd, Pr, Dy, Tb, and La/Ce at the mine) after import.

Targets (issue 14): one multi-element run under 0.5 s after import on this 2-core machine, i.e.
the element dim must not multiply the cost of the Nd run by four (prints the Nd run alongside);
10,000 Monte Carlo samples of the element model (``--mc 10000``: ``mfa --model magnet_rees mc``,
the Nd model's uncertain parameters and the Pr, Dy, Tb magnet contents) under 60 s and under
2 GiB peak memory. The Monte Carlo case runs in a fresh Python process, its memory watched from
this one over the process and the workers it forks (``_common.tree_memory``: proportional set
sizes summed, the target, and resident sizes summed) and is timed end to end (:func:`mfa.analysis.uncertainty.monte_carlo`: parameters, samples, model, balance check,
ensemble store, quantiles). BLAS is pinned to one thread. The machine load (1-minute load
average) is printed with each result: the machine is shared.

Run:  python benchmarks/bench_elements.py [--repeat N] [--scenario NAME]
      python benchmarks/bench_elements.py --mc 10000 [--chunk N] [--scheduler auto]
                                          [--variables default|all|headline]
``--chunk`` (default: the model's ``mc_chunk``, 200) and ``--variables`` (default: the model's
``mc_variables``, its five headline variables, as ``mfa --model magnet_rees mc``; ``all``: every
result variable). Wall time, CPU time (user + system of the case and its workers) and the
memory peaks are printed.
Exit status 1 if a Monte Carlo target is missed.

Measured on the final code of 2026-12-02 (history and earlier rounds: benchmarks/README.md):
10,000 samples with the model's defaults (headline variables, chunk 200, ``"auto"``: two
forked worker processes) took 34.6-39.8 s wall, 62.6-70.0 s CPU, 1.32-1.34 GiB peak memory
(PSS summed over the processes; RSS summed 1.45-1.47 GiB): both targets met. One run
(``simulate_elements``): 245 ms after import (target < 0.5 s).
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import resource
import statistics
import sys
import time
import tracemalloc

from _common import cpu_seconds, run_watched

from mfa.analysis.run import prepare
from mfa.models.neodymium import MODEL, simulate
from mfa.models.neodymium.element_data import load_element_data, load_element_scenario
from mfa.models.neodymium.elements import run_elements, simulate_elements

MC_TARGET_SECONDS = 60.0
MC_TARGET_RSS_BYTES = 2 * 2**30


def timed(fn, repeat):
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out), min(out)


def _mc_child(n: int, chunk: int, scheduler: str, scenario: str, seed: int,
              variables: str) -> dict:
    """The Monte Carlo case, measured inside this (fresh) process (``variables``: ``all`` or
    ``headline``, the model's headline variables only)."""
    from mfa.analysis.uncertainty import monte_carlo
    from mfa.models.neodymium.magnet_rees import MODEL as MAGNET_REES

    kept = {"all": "all", "headline": list(MAGNET_REES.headline), "default": None}[variables]
    t0 = time.perf_counter()
    cpu0 = cpu_seconds()
    out = monte_carlo(MAGNET_REES, None, n, scenario=scenario, seed=seed,
                      chunk=chunk or None, scheduler=scheduler, variables=kept)
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    return {"samples": n, "chunk": out.attrs["mc_chunk"], "scheduler": out.attrs["mc_scheduler"],
            "factors": len(json.loads(out.attrs["mc_factors"])), "seconds": seconds,
            "cpu_seconds": cpu,
            "variables": variables,
            "rss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "load_before": os.getloadavg()[0]}


def run_mc(args: argparse.Namespace) -> int:
    """``--mc N``: the Monte Carlo case in a fresh process; exit status 1 if a target is missed."""
    load = os.getloadavg()
    cmd = [sys.executable, __file__, "--mc-child", str(args.mc), str(args.chunk), args.scheduler,
           args.scenario, str(args.seed), args.variables]
    out, mem = run_watched(cmd)
    r = json.loads(out.strip().splitlines()[-1])
    rss = max(mem["rss"], r["rss_self"])
    pss = mem["pss"] or rss
    after = os.getloadavg()
    ok_t = r["seconds"] < MC_TARGET_SECONDS
    ok_m = pss < MC_TARGET_RSS_BYTES
    print(f"magnet_rees Monte Carlo, scenario {args.scenario}: {r['samples']} samples, chunk "
          f"{r['chunk']}, {r['scheduler']}, {r['factors']} uncertain parameters, "
          f"{r['variables']} result variables kept, OPENBLAS_NUM_THREADS=1")
    print(f"  time {r['seconds']:.1f} s, CPU {r['cpu_seconds']:.1f} s (target < {MC_TARGET_SECONDS:.0f} s: "
          f"{'met' if ok_t else 'NOT met'}); peak memory {pss / 2**30:.2f} GiB (PSS summed "
          f"over the processes; target < 2 GiB: {'met' if ok_m else 'NOT met'}; RSS summed "
          f"{rss / 2**30:.2f} GiB)")
    print(f"  load average (1 min) before {load[0]:.2f}, after {after[0]:.2f} on "
          f"{os.cpu_count()} cores (shared machine)")
    return 0 if ok_t and ok_m else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--scenario", default="ionic-clay-shock", help="an element scenario")
    ap.add_argument("--mc", type=int, metavar="N", help="time N Monte Carlo samples instead")
    ap.add_argument("--chunk", type=int, default=0,
                    help="Monte Carlo chunk (samples; default 0: the model's mc_chunk)")
    ap.add_argument("--scheduler", default="auto", help="Monte Carlo scheduler (default: "
                    "as mfa mc)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variables", choices=("default", "all", "headline"), default="default",
                    help="Monte Carlo: keep the model's mc_variables (as `mfa mc`), every "
                    "result variable (--variables all) or the model's headline ones")
    ap.add_argument("--mc-child", nargs=6, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mc_child:
        n, chunk, scheduler, scenario, seed, variables = args.mc_child
        print(json.dumps(_mc_child(int(n), int(chunk), scheduler, scenario, int(seed),
                                   variables)))
        return
    if args.mc:
        raise SystemExit(run_mc(args))
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
