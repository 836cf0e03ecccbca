"""Exact quantiles over the samples by selection, row by row of a sample-last block.

:func:`numpy.quantile` (method ``linear``) on a ``(samples, columns)`` array partitions each
column at once at every order statistic it needs (the two neighbours of every quantile, plus
the first and the last), copying each strided column into a buffer first. Here the block is
``(columns, samples)`` (each column's samples contiguous, as the ensemble store keeps them) and
is partitioned in place row by row with the same ``kth`` (numpy's own selection, the same
arrangement of each column's values), and the linear interpolation is numpy's own arithmetic
(``_lerp``, with numpy's indices and weights), so the result is bit for bit that of
:func:`numpy.quantile` (tested), NaN handling included: a column with a NaN gets
:func:`numpy.nanquantile` of it (quantiles over the samples where the value is defined), as
before.
"""

from __future__ import annotations

import numpy as np


def _indexes(n: int, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's ``linear`` method: (previous, next) indexes in 0..n-1 and the weights ``gamma``.

    The same steps as numpy's ``_get_indexes`` and ``_get_gamma``: indexes at or beyond the
    last sample become -1 (the maximum) *before* gamma is taken, as numpy does.
    """
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    nxt = prev + 1
    above = virtual >= n - 1
    prev[above] = -1
    nxt[above] = -1
    below = virtual < 0
    prev[below] = 0
    nxt[below] = 0
    gamma = np.asarray(virtual - prev, dtype=virtual.dtype)
    prev_i, next_i = prev.astype(np.intp), nxt.astype(np.intp)
    return np.where(prev_i < 0, n + prev_i, prev_i), np.where(next_i < 0, n + next_i, next_i), gamma


def quantiles_by_row(block: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles of each row of ``block`` (columns, samples) -> (len(q), columns).

    Bit-identical to ``np.quantile(block.T, q, axis=0)`` for rows without NaN and to
    ``np.nanquantile`` for rows with one. ``block`` is reordered in place (its rows keep
    their values).

    Parameters
    ----------
    block : numpy.ndarray, shape (m, n), float64, C-contiguous
        ``m`` result cells, ``n`` samples each.
    q : numpy.ndarray, shape (k,)
        Quantiles in [0, 1].

    Returns
    -------
    numpy.ndarray, shape (k, m)
    """
    q = np.asarray(q, dtype=float)
    m, n = block.shape
    out = np.empty((q.size, m))
    if m == 0:
        return out
    prev, nxt, gamma = _indexes(n, q)
    kth = sorted({0, n - 1, *(int(k) for k in prev), *(int(k) for k in nxt)})  # numpy's
    block.partition(kth, axis=1)
    # NaN sorts last: a row holds one if its last order statistic is NaN (numpy's own test)
    nan_rows = np.flatnonzero(np.isnan(block[:, n - 1])) if n else np.arange(0)
    out = _lerp(block[:, prev].T, block[:, nxt].T, gamma)  # (k, m)
    if nan_rows.size:  # all-NaN rows: NaN, as nanquantile gives (without its warning, and
        # without catch_warnings, which is not thread-safe: blocks may run in threads)
        empty = np.isnan(block[nan_rows]).all(axis=1)
        out[:, nan_rows[empty]] = np.nan
        some = nan_rows[~empty]
        if some.size:
            out[:, some] = np.nanquantile(block[some], q, axis=1)
    return out


def _lerp(below: np.ndarray, above: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """numpy's linear interpolation (``_lerp``) between the order statistics (k, m) with the
    weights ``gamma`` (k,)."""
    g = gamma.reshape(-1, 1)
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, as in numpy
        diff = above - below
        out = np.add(below, diff * g)
        np.subtract(above, diff * (1 - g), out=out, where=g >= 0.5, casting="unsafe", dtype=float)
    return out


def constant_quantiles(values: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
    """Quantiles (len(q), m) of ``m`` cells that hold ``values`` in each of their ``n``
    samples: those of :func:`quantiles_by_row` (numpy's interpolation between a value and
    itself; NaN for NaN), without selecting anything."""
    q = np.asarray(q, dtype=float)
    value = np.broadcast_to(np.asarray(values, dtype=float), (q.size, len(values)))
    out = _lerp(value, value, _indexes(n, q)[2])
    out[:, np.isnan(values)] = np.nan  # as an all-NaN row gets it (not the value's payload)
    return out
