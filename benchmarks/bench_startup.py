"""Whole-process time of the README's ``mfa run`` (and of ``mfa --help``), over several runs.

Measures what a user waits for: interpreter start, imports, loading the data, the run and the
netCDF write. Run on a quiet machine::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_startup.py [--runs 10]

Prints the median, minimum and maximum wall time of each command, and which optional heavy
modules (dask.array, distributed, scipy.stats, matplotlib) the run imported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {
    "mfa run": ["-m", "mfa", "run", "--out", "{tmp}/r.nc"],
    "mfa --help": ["-m", "mfa", "--help"],
}
PROBE = ("import sys; from mfa.cli import main; main(['run', '--out', {out!r}]); "
         "print('HEAVY:' + ','.join(x for x in ('dask', 'distributed', 'scipy.stats', "
         "'scipy.special', 'scipy.linalg', 'matplotlib') if x in sys.modules))")


def _time(args: list[str], runs: int, env: dict[str, str]) -> list[float]:
    out = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, *(a.format(tmp=tmp) for a in args)]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=tmp)
            out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    for name, cmd in COMMANDS.items():
        _time(cmd, 1, env)  # warm the file cache and pint's definition cache
        times = _time(cmd, args.runs, env)
        print(f"{name:12s} median {statistics.median(times):.3f} s  min {min(times):.3f} s  "
              f"max {max(times):.3f} s  ({args.runs} runs)")
    with tempfile.TemporaryDirectory() as tmp:
        probe = PROBE.format(out=f"{tmp}/r.nc")
        res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             env=env, cwd=tmp)
        heavy = next((line.removeprefix("HEAVY:") for line in res.stdout.splitlines()
                      if line.startswith("HEAVY:")), "?")
        print(f"optional heavy modules imported by `mfa run`: {heavy or 'none'}")


if __name__ == "__main__":
    main()
