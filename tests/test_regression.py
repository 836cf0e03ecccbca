"""Regression: every result variable of every shipped scenario equals a stored snapshot.

The snapshots in ``tests/data/regression/`` were written before a change that must not alter
any number (the layered-package move of issue 9). A change that alters results *on purpose*
(new data, new equations) rewrites them deliberately, and says so in its commit::

    python tests/test_regression.py --write

Mass-balance diagnostics (``mass_balance_residual*``: rounding noise; ``process_throughput*``:
the scale of the check, which counts gross trade since issue 8) are not stored; every run
checks the balance itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

SNAPSHOTS = Path(__file__).parent / "data" / "regression"
DIAGNOSTICS = ("mass_balance_residual", "process_throughput")
SCENARIOS = ("baseline", "no-recycling", "high-recycling", "net-zero", "net-zero-circular",
             "diversified-supply")
RTOL = 1e-12


def _run(scenario: str):
    from mfa.models.neodymium import run

    return run(scenario)


def _load(scenario: str) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    with np.load(SNAPSHOTS / f"{scenario}.npz") as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, json.loads(str(arrays.pop("__meta__")))


def write_snapshots() -> None:
    """Rewrite the snapshots from the current code and data (a deliberate act)."""
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for scenario in SCENARIOS:
        ds = _run(scenario)
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, dict] = {}
        for name, da in ds.data_vars.items():
            if str(name).startswith(DIAGNOSTICS):
                continue
            arrays[str(name)] = np.asarray(da.values, dtype=float)
            meta[str(name)] = {"dims": list(da.dims), "units": str(da.attrs.get("units", ""))}
        for c in ds.coords:
            values = np.asarray(ds[c].values)
            arrays[f"coord:{c}"] = values.astype(str) if values.dtype.kind in "OUS" else values
        arrays["__meta__"] = np.array(json.dumps(meta))
        np.savez_compressed(SNAPSHOTS / f"{scenario}.npz", **arrays)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_results_equal_snapshot(scenario: str) -> None:
    arrays, meta = _load(scenario)
    ds = _run(scenario)
    missing = [v for v in meta if v not in ds.data_vars]
    assert not missing, f"{scenario}: variables gone: {missing}"
    for name, info in meta.items():
        da = ds[name]
        assert list(da.dims) == info["dims"], f"{scenario}/{name}: dims {da.dims} != {info['dims']}"
        assert str(da.attrs.get("units", "")) == info["units"], f"{scenario}/{name}: units"
        for d in da.dims:
            if f"coord:{d}" in arrays:
                got = np.asarray(ds[d].values)
                got = got.astype(str) if got.dtype.kind in "OUS" else got
                np.testing.assert_array_equal(got, arrays[f"coord:{d}"], err_msg=f"{name}: {d}")
        want = arrays[name]
        got = np.asarray(da.values, dtype=float)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{scenario}/{name}: NaN")
        scale = np.nanmax(np.abs(want)) if np.isfinite(want).any() else 0.0
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * scale, equal_nan=True,
                                   err_msg=f"{scenario}/{name}")


if __name__ == "__main__":  # pragma: no cover - a deliberate maintenance command
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_regression.py --write   (rewrites the snapshots)")
    write_snapshots()
    print(f"wrote {len(SCENARIOS)} snapshots to {SNAPSHOTS}")
