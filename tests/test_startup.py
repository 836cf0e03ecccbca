"""Start-up of the command line (issue 9): `mfa run` imports no optional heavy library it does
not use, and deferring dask in xarray keeps dask arrays working once dask is imported."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("dask", "dask.array", "distributed", "scipy.stats", "scipy.special", "scipy.linalg",
         "matplotlib")


def test_mfa_run_imports_no_optional_heavy_module(tmp_path):
    code = ("import sys; from mfa.cli import main; "
            f"assert main(['run', '--out', {str(tmp_path / 'r.nc')!r}]) == 0; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_dask_arrays_still_work_after_deferring():
    code = """
from mfa.cli.startup import defer_dask_in_xarray, import_pint_without_dask
import xarray as xr, numpy as np, sys
assert import_pint_without_dask()
import pint
assert "dask" not in sys.modules and pint.UnitRegistry()("3 kg").to("g").magnitude == 3000
patched = defer_dask_in_xarray()
ds = xr.Dataset({"a": ("t", np.arange(3.0))}) + 1
assert "dask.array" not in sys.modules
import dask.array as da
from xarray.namedarray.pycompat import is_duck_dask_array
x = xr.DataArray(da.ones(4, chunks=2), dims="t")
assert is_duck_dask_array(x.data) and float((x + 1).sum()) == 8.0
print(patched)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_mc_on_dask_threads_imports_neither_distributed_nor_dask_arrays(tmp_path):
    # dask looks for a distributed client (importing it, ~0.4 s) when given a scheduler's
    # name; a local scheduler is given dask's own function instead
    code = ("import sys; from mfa.cli import main; "
            "assert main(['mc', '--samples', '4', '--chunk', '2', '--scheduler', 'threads', "
            f"'--no-progress', '-q', '--out', {str(tmp_path / 'mc.nc')!r}]) == 0; "
            "print('dask' in sys.modules, "
            "sorted(m for m in ('distributed', 'dask.array') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "True []"
