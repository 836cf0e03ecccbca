"""Reduction of an ensemble: quantiles (in blocks, memory flat) and exceedance probabilities."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from mfa.analysis.options import DEFAULT_QUANTILES, UncertaintyError
from mfa.analysis.uncertainty._quantiles import constant_quantiles, quantiles_by_row
from mfa.core.model import get as get_model

#: Bytes of cells (all samples) read from the store at a time for the quantiles, over all the
#: summary's threads (each holds one block of this size over the number of threads).
BLOCK_BYTES = 32 * 2**20
#: Store keys of what the chunk tasks reduce for the summary (not result variables: a
#: variable name cannot contain "/").
WORLD_KEY = "world/{}"
MAX_ABS_KEY = "max_abs/{}"


def _quantiles(arr: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles over axis 0 of (n, ...) (NaN samples ignored per element): ``np.quantile``
    bit for bit (:func:`quantiles_by_row`)."""
    n = arr.shape[0]
    rows = np.ascontiguousarray(arr.reshape(n, -1).T, dtype=float)
    return quantiles_by_row(rows, q).reshape((q.size, *arr.shape[1:]))


def _all_block_quantiles(read_varying: Callable[..., tuple[np.ndarray, np.ndarray]],
                         cells: dict[str, int], n: int, q: np.ndarray, workers: int = 1,
                         block_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Quantiles (len(q), cells[v]) of every variable ``v``, read ``block_bytes`` (default
    :data:`BLOCK_BYTES`) of cells at a time; ``workers`` > 1: that many blocks of
    ``block_bytes / workers`` at once, in threads (the same memory; reading and selecting
    release the interpreter lock; each block is one task, so the result does not depend on
    them).

    ``read_varying(v, j0, j1, block)`` (:meth:`_Store.read_varying`) puts the samples of the
    cells ``j0 .. j1 - 1`` of ``v`` that vary in the first rows of ``block`` ((j1 - j0, n))
    and returns their indices and every cell's first value (the constant cells' quantiles).
    Each thread reuses one block: a new block of this size is mapped afresh by the C library,
    and touching fresh pages cost a fifth of the summary's time on the reference machine.
    """
    out = {v: np.empty((q.size, m)) for v, m in cells.items()}
    step = max(1, (BLOCK_BYTES if block_bytes is None else block_bytes) // max(workers, 1)
               // max(8 * n, 1))
    blocks = [(v, j0, min(j0 + step, m)) for v, m in cells.items() for j0 in range(0, m, step)]
    buffers = threading.local()

    def one(block: tuple[str, int, int]) -> None:
        v, j0, j1 = block
        if not hasattr(buffers, "block"):
            buffers.block = np.empty((min(step, max(cells.values())), n))
        vary, first = read_varying(v, j0, j1, buffers.block[:j1 - j0])
        res = out[v][:, j0:j1]
        if vary.size < j1 - j0:
            res[...] = constant_quantiles(first, q, n)
        res[:, vary] = quantiles_by_row(buffers.block[:vary.size], q)

    if workers <= 1 or len(blocks) <= 1:
        for block in blocks:
            one(block)
        return out
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers, "mfa-quantiles") as pool:
        for _ in pool.map(one, blocks):
            pass
    return out


def world_total(data: np.ndarray, dims: Sequence[str]) -> np.ndarray:
    """World total per sample and time of ``data`` (k, *dims) -> (k, T): the sum over every
    dim but time (of the contiguous per-sample arrays, in the same order whatever ``k``)."""
    axes = tuple(1 + i for i, d in enumerate(dims) if d != "time")
    data = np.ascontiguousarray(data, dtype=float)
    return data.sum(axis=axes) if axes else data


def max_abs(data: np.ndarray) -> np.ndarray:
    """Largest ``|value|`` of each sample of ``data`` (k, ...), NaN ignored -> (k, 1)."""
    flat = np.abs(np.asarray(data, dtype=float).reshape(data.shape[0], -1))
    if flat.shape[1] == 0:
        return np.zeros((flat.shape[0], 1))
    return np.fmax.reduce(flat, axis=1).reshape(-1, 1)


def exceedance_probability(samples: xr.DataArray, thresholds: Sequence[float]) -> xr.DataArray:
    """Probability that ``samples`` exceed each threshold: the share of samples above it.

    Parameters
    ----------
    samples : xarray.DataArray
        Dims ``sample`` plus any (e.g. ``time``); units in attrs.
    thresholds : sequence of float
        In the units of ``samples``.

    Returns
    -------
    xarray.DataArray
        Dims ``(threshold, *other dims)`` [1].
    """
    thr = np.asarray(list(thresholds), dtype=float)
    if thr.ndim != 1 or not np.isfinite(thr).all():
        raise UncertaintyError(f"thresholds must be finite numbers, got {list(thresholds)}")
    t = xr.DataArray(thr, dims="threshold", coords={"threshold": thr},
                     attrs={"units": samples.attrs.get("units", "")})
    p = (samples > t).mean("sample")
    p = p.transpose("threshold", ...)
    p.attrs = {"units": "1", "long_name": f"probability that {samples.name or 'the value'} "
               "exceeds the threshold (share of samples)"}
    p["threshold"].attrs = {"units": samples.attrs.get("units", "")}
    return p


def summarize(
    store_or_ensemble: Any,
    template: xr.Dataset | None = None,
    *,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    thresholds: Sequence[float] = (),
    world: Sequence[str] | None = None,
    workers: int = 1,
) -> xr.Dataset:
    """Quantiles of every result variable, world totals, exceedance probabilities.

    Parameters
    ----------
    store_or_ensemble : xarray.Dataset
        An ensemble from :func:`ensemble` (dims ``(sample, ...)``); internally also a chunk
        store with its ``template``.
    template : xarray.Dataset, optional
        Internal.
    quantiles : sequence of float
        In [0, 1].
    thresholds : sequence of float
        Thresholds [t/yr] of the world total of the first ``world`` variable for
        ``exceedance_probability``.
    world : sequence of str, optional
        Variables whose world totals (sum over every dim but time) are reported per sample and
        as quantiles (default: the ``headline`` of the model named in the ensemble's
        ``attrs["model"]``, else every variable with a mass unit).
    workers : int
        Threads computing the quantiles, one block of cells each (the result is the same).

    Returns
    -------
    xarray.Dataset
        See the module docstring ("Output of monte_carlo").
    """
    q = _check_quantiles(quantiles)
    if isinstance(store_or_ensemble, xr.Dataset):
        template, n, read_columns = _ensemble_reader(store_or_ensemble)
        read_varying = _every_cell(read_columns)
        stored: Any = {}
    else:
        st = store_or_ensemble
        n, read_columns, stored = st.n, st.read_columns, st.shapes
        read_varying = st.read_varying
    # the output is built once from Variables (adding DataArrays one by one aligns each:
    # ~0.2 s of a run); the coordinates are the template's own
    coords: dict[str, xr.Variable] = {"quantile": xr.Variable(
        "quantile", q, {"units": "1", "long_name": "quantile over the Monte Carlo samples "
                        "(numpy 'linear' method)"})}
    data: dict[str, xr.Variable] = {}
    totals: dict[str, np.ndarray] = {}
    if world is None and isinstance(store_or_ensemble, xr.Dataset) \
            and "model" in store_or_ensemble.attrs:
        world = list(get_model(str(store_or_ensemble.attrs["model"])).headline)
    if world is None:
        world = [str(v) for v in template.data_vars
                 if template[v].attrs.get("units") in ("t/yr", "t") and "time" in template[v].dims]
    worst_residual = 0.0
    every = _all_block_quantiles(read_varying, {str(v): int(np.prod(template[v].shape))
                                                for v in template.data_vars}, n, q, workers)
    for v in template.data_vars:
        t = template.variables[v]
        cells = int(np.prod(t.shape))
        res = every.pop(str(v)).reshape((q.size, *t.shape))
        for k, c in template.coords.variables.items():
            if set(c.dims) <= set(t.dims):
                coords.setdefault(str(k), c)
        data[str(v)] = xr.Variable(("quantile", *t.dims), res, attrs=dict(t.attrs))
        if v in world and "time" in t.dims:
            totals[v] = _stored_or_computed(read_columns, stored, WORLD_KEY.format(v), str(v), n,
                                            lambda a, d=t.dims: world_total(a, d), t.shape)
        if v == "mass_balance_residual" and cells:
            per_sample = _stored_or_computed(read_columns, stored, MAX_ABS_KEY.format(v), str(v), n,
                                             max_abs, t.shape)
            worst_residual = float(np.nanmax(per_sample))
    _add_world_totals(data, coords, template, totals, n, q)
    out = xr.Dataset(data, coords=coords)
    _add_exceedance(out, world, totals, thresholds)
    out.attrs["mc_max_abs_mass_balance_residual"] = worst_residual
    return out



def _ensemble_reader(ens: xr.Dataset) -> tuple[xr.Dataset, int, Callable[..., np.ndarray]]:
    """An ensemble in memory as the summary reads a store: ``(template, n, read_columns)``."""
    template = ens.drop_vars(["factor_quantile"], errors="ignore").isel(sample=0, drop=True)
    n = ens.sizes["sample"]
    flat = {v: np.asarray(ens[v].transpose("sample", *template[v].dims).values).reshape(n, -1)
            for v in template.data_vars}

    def read_columns(v: str, j0: int, j1: int, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return np.ascontiguousarray(flat[v][:, j0:j1].T)
        out[...] = flat[v][:, j0:j1].T
        return out

    return template, n, read_columns


def _every_cell(read_columns: Callable[..., np.ndarray]
                ) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``read_varying`` for a reader that knows no constant cells: every cell is read."""
    def read_varying(v: str, j0: int, j1: int, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        read_columns(v, j0, j1, out)
        return np.arange(j1 - j0), out[:, 0].copy()

    return read_varying


def _add_world_totals(data: dict[str, xr.Variable], coords: dict[str, xr.Variable],
                      template: xr.Dataset, totals: dict[str, np.ndarray], n: int,
                      q: np.ndarray) -> None:
    """Add each world total per sample (``sample_world_<v>``) and its quantiles (``world_<v>``)
    to ``data`` (and the ``sample`` and ``time`` coordinates to ``coords``)."""
    if totals:
        coords.setdefault("time", template.variables["time"])
        coords.setdefault("sample", xr.Variable("sample", np.arange(n)))
    for v, w in totals.items():
        units = template[v].attrs.get("units", "")
        long = template[v].attrs.get("long_name", v)
        data[f"sample_world_{v}"] = xr.Variable(
            ("sample", "time"), w, {"units": units, "long_name": f"{long}: world total per sample"})
        data[f"world_{v}"] = xr.Variable(
            ("quantile", "time"), _quantiles(w, q),
            {"units": units, "long_name": f"{long}: quantiles of the world total"})


def _add_exceedance(out: xr.Dataset, world: Sequence[str], totals: dict[str, np.ndarray],
                    thresholds: Sequence[float]) -> None:
    """Add the probability that the first world total exceeds each threshold (if any)."""
    if not len(thresholds):
        return
    first = next((v for v in world if v in totals), None)
    if first is None:
        raise UncertaintyError("exceedance thresholds need a world variable with a time dim")
    p = exceedance_probability(out[f"sample_world_{first}"], thresholds)
    p.attrs["long_name"] = f"probability that the world total of {first} exceeds the threshold"
    p.attrs["variable"] = first
    out["exceedance_probability"] = p

def _check_quantiles(quantiles: Sequence[float]) -> np.ndarray:
    q = np.asarray(list(quantiles), dtype=float)
    if q.ndim != 1 or q.size == 0 or not np.all((q >= 0) & (q <= 1)):
        raise UncertaintyError(f"quantiles must be numbers in [0, 1], got {list(quantiles)}")
    return q


def _stored_or_computed(read_columns: Callable[[str, int, int], np.ndarray], stored: Any, key: str,
                        v: str, n: int, reduce: Callable[[np.ndarray], np.ndarray],
                        shape: tuple[int, ...]) -> np.ndarray:
    """A per-sample reduction (n, m): as the chunk tasks stored it under ``key``, else
    computed here from the whole of ``v`` (an ensemble in memory)."""
    if key in stored:
        return np.ascontiguousarray(read_columns(key, 0, int(np.prod(stored[key]))).T)
    cells = int(np.prod(shape))
    return reduce(np.ascontiguousarray(read_columns(v, 0, cells).T).reshape((n, *shape)))
