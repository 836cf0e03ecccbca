"""The convolution of many distinct Toeplitz curves in batches (``_convolve_batches``) gives
the numbers of the loop over structures, one BLAS product per run, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from mfa.core.stocks import _kernels as K


def _loop(x: np.ndarray, structs: K._Structures, group: np.ndarray) -> tuple[np.ndarray, ...]:
    """The loop of ``_convolve`` before batching: one pair of matrices and products per run."""
    order, runs = K._runs(group, structs.n)
    xs = x if order is None else x[order]
    st, ou = np.empty_like(xs), np.empty_like(xs)
    for k, a, b in runs:
        U, V = structs.pair(k)
        st[a:b] = xs[a:b]
        K._trmm(U, st[a:b])
        ou[a:b] = xs[a:b]
        K._trmm(V, ou[a:b])
    return K._unsort(st, order), K._unsort(ou, order)


@pytest.mark.parametrize("layout", ["sorted runs", "interleaved", "uneven runs"])
@pytest.mark.parametrize("batch_bytes", [1, 200_000, 2 << 20])
def test_batched_convolution_equals_the_loop_bit_for_bit(layout, batch_bytes, monkeypatch):
    rng = np.random.default_rng(5)
    T, n = 37, 300
    curves = np.cumprod(rng.uniform(0.7, 1.0, (n, T)), axis=1)
    curves[:, -3:] = 1e-300  # flushed to 0 as in the model
    if layout == "sorted runs":
        group = np.repeat(np.arange(n), 6)
    elif layout == "interleaved":  # sorted by the kernel first
        group = np.tile(np.arange(n), 6)
    else:
        group = np.repeat(np.arange(n), rng.integers(1, 5, n))
    x = rng.uniform(0.0, 10.0, (group.size, T))
    structs = K._Structures(T, n, curves=curves)
    monkeypatch.setattr(K, "_BATCH_BYTES", batch_bytes)
    stock, outflow = K._convolve(x, structs, group, "blas")
    ref_stock, ref_outflow = _loop(x, structs, group)
    np.testing.assert_array_equal(stock, ref_stock)
    np.testing.assert_array_equal(outflow, ref_outflow)
    only_outflow = K._convolve(x, structs, group, "blas", stock=False)
    assert only_outflow[0] is None
    np.testing.assert_array_equal(only_outflow[1], ref_outflow)


def _greedy(runs: list[tuple[int, int, int]], size: int) -> list[tuple[list[int], int, int, int]]:
    """The batches by a loop over the runs: from each run on, the following runs of the same
    length that start where the last stopped, up to ``size``."""
    out, i = [], 0
    while i < len(runs):
        k, a, b = runs[i]
        ks, stop = [k], b
        while (i + len(ks) < len(runs) and len(ks) < size and runs[i + len(ks)][1] == stop
               and runs[i + len(ks)][2] - stop == b - a):
            ks.append(runs[i + len(ks)][0])
            stop += b - a
        out.append((ks, a, stop, b - a))
        i += len(ks)
    return out


def _batches(runs: list[tuple[int, int, int]], size: int) -> list[tuple[list[int], int, int, int]]:
    arrays = tuple(np.array([r[j] for r in runs], dtype=np.intp) for j in range(3))
    return [(ks.tolist(), a, b, n) for ks, a, b, n in K._batches(arrays, size)]


def test_batches_group_consecutive_runs_of_equal_length():
    runs = [(0, 0, 2), (1, 2, 4), (2, 4, 6), (3, 6, 7), (4, 7, 8), (5, 8, 10)]
    assert _batches(runs, 2) == [([0, 1], 0, 4, 2), ([2], 4, 6, 2), ([3, 4], 6, 8, 1),
                                 ([5], 8, 10, 2)]
    assert _batches([], 3) == []
    rng = np.random.default_rng(2)
    for size in (1, 2, 3, 7, 50):
        lengths = rng.choice([1, 2, 6], 300, p=[0.2, 0.2, 0.6])
        stops = np.cumsum(lengths)
        starts = stops - lengths
        starts[100:] += 1  # a gap: a batch never spans it
        stops[100:] += 1
        runs = list(zip(rng.permutation(300).tolist(), starts.tolist(), stops.tolist(),
                        strict=True))
        assert _batches(runs, size) == _greedy(runs, size)
