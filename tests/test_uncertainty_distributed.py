"""Monte Carlo on dask.distributed: the documented cluster recipe against a LocalCluster, and
the main-guard message for worker processes started from a script (issue 15 item 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("distributed")

FACTORS = ["magnet_per_vehicle", "lifetime_mean", "collection_rate"]
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def _run(tmp_path, code: str) -> subprocess.CompletedProcess:
    script = tmp_path / "run_mc.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=ENV, cwd=tmp_path, timeout=240, check=False)


def test_cluster_recipe_gives_the_numpy_result(tmp_path):
    """docs/distributed.md: a scheduler address; the payload goes to the workers once, each
    task draws its own samples, the chunk results come back to the client. And
    scheduler="processes" (a LocalCluster of our own) from a guarded script."""
    res = _run(tmp_path, f"""
        import json
        import numpy as np
        from distributed import LocalCluster
        from mfa.analysis.uncertainty import monte_carlo

        def main():
            kw = dict(n=12, scenario="baseline", seed=4, chunk=5, factors={FACTORS!r})
            with LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                              dashboard_address=None) as cluster:
                dist = monte_carlo("neodymium", scheduler=cluster.scheduler_address, **kw)
            ref = monte_carlo("neodymium", scheduler="numpy", **kw)
            procs = monte_carlo("neodymium", scheduler="processes", **kw)  # guarded: allowed
            same = all(np.array_equal(dist[v].values, ref[v].values, equal_nan=True)
                       and np.array_equal(procs[v].values, ref[v].values, equal_nan=True)
                       for v in ref.data_vars)
            print(json.dumps({{"same": same, "scheduler": dist.attrs["mc_scheduler"]}}))

        if '__main__' == __name__:
            main()
        """)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["same"] is True
    assert out["scheduler"].startswith("dask.distributed (tcp://127.0.0.1:")


def test_worker_processes_from_an_unguarded_script_get_a_clear_message(tmp_path):
    res = _run(tmp_path, f"""
        from mfa.analysis.uncertainty import monte_carlo

        monte_carlo("neodymium", n=4, scenario="baseline", seed=1, chunk=2,
                    factors={FACTORS!r}, scheduler="processes")
        """)
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert "scheduler 'processes' starts worker processes that import the script" in last
    assert "line 4 runs the ensemble at the script's top level: put that code under " \
           "`if __name__ == \"__main__\":`" in last
    assert "bootstrapping phase" not in res.stderr  # multiprocessing's own error never reached
