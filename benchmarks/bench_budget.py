"""Measure the per-element costs behind mfa.analysis.budget (the size guard of the command line).

usage: python benchmarks/bench_budget.py [--quick]

Runs the default scenario on copies of the default data with longer time spans (``end`` in
model.toml), each in a fresh process, and a small Monte Carlo ensemble; reports CPU seconds,
peak memory (max RSS) and the size of the results, per element (year x region x product), and
compares them with the constants in mfa/budget.py. Exit status 1 if a constant is below what
was measured (the guard must not underestimate).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from mfa.analysis import budget
from mfa.data.params import default_params_dir

CHILD = r"""
import json, resource, sys, time
from mfa.data.params import load_parameters
from mfa.models.neodymium import run
p = load_parameters(sys.argv[1])
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t0 = time.process_time()
if sys.argv[2] == "run":
    ds = run("baseline", params=p)
    nbytes = ds.nbytes
else:
    from mfa.analysis.uncertainty import monte_carlo
    n = int(sys.argv[2])
    monte_carlo("baseline", p, n, chunk=n, scheduler="numpy", store="memory")
    nbytes = 0
cpu = time.process_time() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
cells = len(p.coords["time"]) * len(p.coords["region"]) * len(p.coords["product"])
print(json.dumps({"T": len(p.coords["time"]), "cells": cells, "cpu": cpu, "rss0": rss0,
                  "rss": rss, "nbytes": nbytes}))
"""


def measure(params: Path, end: int, what: str) -> dict:
    text = (params / "model.toml").read_text()
    lines = [f"end = {end}" if line.startswith("end =") else line for line in text.splitlines()]
    (params / "model.toml").write_text("\n".join(lines) + "\n")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", CHILD, str(params), what], capture_output=True,
                         text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    quick = "--quick" in sys.argv
    ends = [2050, 3000, 6000] if quick else [2050, 3000, 6000, 10000, 15000]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        params = Path(tmp) / "p"
        shutil.copytree(default_params_dir(), params)
        rows = [measure(params, e, "run") for e in ends]
        print(f"{'years':>6}{'cells':>10}{'cpu s':>9}{'est s':>9}{'result B/cell':>15}"
              f"{'work B/cell':>13}")
        for r in rows:
            est = budget._run_seconds(r["T"], r["cells"] // r["T"])
            work = (r["rss"] - r["rss0"]) / r["cells"]
            print(f"{r['T']:>6}{r['cells']:>10}{r['cpu']:>9.2f}{est:>9.2f}"
                  f"{r['nbytes'] / r['cells']:>15.1f}{work:>13.0f}")
            ok &= est >= r["cpu"] or r["cpu"] < 0.5
            ok &= budget.RESULT_BYTES_PER_ELEMENT >= r["nbytes"] / r["cells"]
            ok &= budget.WORK_BYTES_PER_ELEMENT >= work or r["cells"] < 1e5
        # least-squares fit cpu = c2 T^2 E + c1 T E over the larger runs
        big = [r for r in rows if r["cpu"] > 0.5]
        if len(big) >= 2:
            a = np.array([[r["T"] * r["cells"], r["cells"]] for r in big], dtype=float)
            c = np.linalg.lstsq(a, np.array([r["cpu"] for r in big]), rcond=None)[0]
            print(f"fit: {c[0]:.3g} s per element-year^2, {c[1]:.3g} s per element "
                  f"(constants: {budget.SECONDS_PER_ELEMENT_YEAR2:.3g}, "
                  f"{budget.SECONDS_PER_ELEMENT:.3g})")
        measure(params, 2050, "run")
        for n in (50, 200):
            r = measure(params, 2050, str(n))
            per = r["cpu"] / n
            est = budget._run_seconds(r["T"], r["cells"] // r["T"])
            work = (r["rss"] - r["rss0"]) / n / r["cells"]
            print(f"Monte Carlo, {n} samples in one chunk: {per * 1e3:.1f} ms CPU per sample "
                  f"(estimate {est * 1e3:.1f} ms), {work:.0f} B per element and sample "
                  f"(estimate {budget.WORK_BYTES_PER_ELEMENT + budget.RESULT_BYTES_PER_ELEMENT:.0f})")
            ok &= est >= per
            ok &= budget.WORK_BYTES_PER_ELEMENT + 2 * budget.RESULT_BYTES_PER_ELEMENT >= work
    print("constants cover the measurements" if ok else "A CONSTANT IS BELOW A MEASUREMENT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
