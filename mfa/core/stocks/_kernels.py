"""numpy kernels of the dynamic stock models. Shapes: x (E, T) elements x time; group (E,) structure id."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise

import numpy as np

from mfa.core.errors import ParameterError
from mfa.core.lifetimes import Discretised
from mfa.core.lifetimes._arrays import _toeplitz

# Relative size [1] below which a negative value is rounding noise (read as 0).
NOISE = 1e-12

#: Memory [bytes] for the dense per-element arrays of the year-by-year solver ("clip", "retire").
_SEQUENTIAL_BYTES = 32 * 2**20

# Survival shares below this are set to 0 inside the kernels. Far tails of the distributions
# (e.g. a normal lifetime 40 sd past its mean) reach the subnormal range below 2.2e-308, where
# x86 arithmetic is ~100 times slower; that doubled the run time of the 50 x 20 benchmark. A
# term below 1e-280 of its inflow changes no result above ~1e-265 of the inflow by more than
# rounding.
FLUSH = 1e-280
#: Survival and outflow matrices built at once by :func:`_convolve_batches` (bytes, cache-sized).
_BATCH_BYTES = 2 << 20


# ---------------------------------------------------------------------------------------------
# numpy kernels. Shapes: x (E, T) elements x time; group (E,) structure id of each element.
# ---------------------------------------------------------------------------------------------


def outflow_kernel(survival: np.ndarray) -> np.ndarray:
    """Discrete outflow density from a survival curve along the last axis.

    ``d[0] = 1 - s[0]`` and ``d[k] = s[k-1] - s[k]``: the share of a cohort leaving ``k`` years
    after its year of inflow.
    """
    s = np.asarray(survival, dtype=float)
    d = np.empty_like(s)
    d[..., 0] = 1.0 - s[..., 0]
    d[..., 1:] = s[..., :-1] - s[..., 1:]
    return d


def _outflow_matrix(S: np.ndarray) -> np.ndarray:
    """``D[t, c] = S[t-1, c] - S[t, c]`` with ``S[c-1, c] = 1`` (lower triangular, last 2 axes)."""
    T = S.shape[-1]
    prev = np.zeros_like(S)
    prev[..., 1:, :] = S[..., :-1, :]
    prev[..., np.arange(T), np.arange(T)] = 1.0
    return prev - S


def _toeplitz_upper(curves: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``U[j, c, t] = curves[j, t - c]`` for ``t >= c``, else 0: the transposed Toeplitz survival
    matrices, C-contiguous (copied row by row from a zero-padded view; rows read forwards).
    ``out`` (J, T, T) is filled if given (no allocation in loops)."""
    J, T = curves.shape
    w = np.zeros((J, 2 * T - 1))
    w[:, T - 1 :] = curves
    s0, s1 = w.strides
    view = np.lib.stride_tricks.as_strided(
        w[:, T - 1 :], shape=(J, T, T), strides=(s0, -s1, s1), writeable=False
    )
    if out is None:
        return np.ascontiguousarray(view)
    np.copyto(out, view)
    return out


class _Structures:
    """Survival ``S_k[t, c]`` of the model cohorts (T x T, lower triangular) by structure ``k``.

    Either Toeplitz curves (``curves[k, t - c]``) or a function building matrices. Matrices are
    handed to the kernels transposed, ``U = S.T`` (``U[c, t]``), the form BLAS reads fastest.
    """

    def __init__(self, T: int, n: int, curves: np.ndarray | None = None,
                 build: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.T, self.n = T, n
        self.curves = None if curves is None else np.where(curves < FLUSH, 0.0, curves)
        self._build = None if build is None else (lambda ks: _flushed(build(ks)))

    @classmethod
    def model_part(cls, disc: Discretised, n_hist: int) -> _Structures:
        """The model cohorts (after ``n_hist`` historic ones) of a discretised lifetime."""
        T = disc.years.size - n_hist
        if disc.curves is not None:
            return cls(T, disc.n_structures, curves=np.ascontiguousarray(disc.curves[:, :T]))
        return cls(T, disc.n_structures,
                   build=lambda ks: np.ascontiguousarray(disc.matrices(ks)[:, n_hist:, n_hist:]))

    def survival(self, k: int) -> np.ndarray:
        """``S[t, c]`` of structure ``k``."""
        if self.curves is not None:
            return _toeplitz(self.curves[[k]])[0]
        return self._build(np.array([k]))[0]

    def upper(self, k: int) -> np.ndarray:
        """``U = S.T`` of structure ``k`` (``U[c, t]``)."""
        if self.curves is not None:
            return _toeplitz_upper(self.curves[[k]])[0]
        return self.survival(k).T

    def pair(self, k: int, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Transposed survival and outflow matrices ``(S.T, D.T)`` of structure ``k``.

        For Toeplitz structures ``out`` (2, T, T) may be given and is filled (and returned).
        """
        if self.curves is not None:
            s = self.curves[k]
            both = _toeplitz_upper(np.stack([s, outflow_kernel(s)]), out)
            return both[0], both[1]
        S = self.survival(k)
        return S.T, _outflow_matrix(S).T


def _flushed(a: np.ndarray) -> np.ndarray:
    """``a`` with values below :data:`FLUSH` set to 0 (in place)."""
    a[a < FLUSH] = 0.0
    return a


def _run_arrays(group: np.ndarray, n: int
                ) -> tuple[np.ndarray | None, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Runs of equal structure id: (order, (ids, starts, stops)) as arrays.

    ``order`` is None when the elements come in at most ``2 n + 8`` runs (use them in place);
    otherwise the permutation that sorts them by structure (gather inputs with it).
    """
    def runs_of(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        change = np.flatnonzero(g[1:] != g[:-1]) + 1
        starts = np.concatenate([[0], change]).astype(np.intp)
        stops = np.concatenate([change, [g.size]]).astype(np.intp)
        return g[starts].astype(np.intp), starts, stops

    if group.size == 0:
        empty = np.zeros(0, dtype=np.intp)
        return None, (empty, empty, empty)
    runs = runs_of(group)
    if runs[0].size <= 2 * n + 8:
        return None, runs
    order = np.argsort(group, kind="stable")
    return order, runs_of(group[order])


def _runs(group: np.ndarray, n: int) -> tuple[np.ndarray | None, list[tuple[int, int, int]]]:
    """:func:`_run_arrays` as a list of ``(k, start, stop)``."""
    order, runs = _run_arrays(group, n)
    return order, list(zip(*(a.tolist() for a in runs), strict=True))


def _unsort(arr: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    if order is None:
        return arr
    out = np.empty_like(arr)
    out[order] = arr
    return out


def _blas_operand(U: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(a, lower, trans_a) such that BLAS's op(a) is ``U.T`` (= S), without copying ``U``."""
    if U.flags.c_contiguous:
        return U.T, 1, 0  # U.T is Fortran-ordered S, lower triangular
    return U, 0, 1  # Fortran-ordered U (upper), transposed by BLAS


def _trmm(U: np.ndarray, rows: np.ndarray) -> None:
    """In place: ``rows[e, t] = sum_c U[c, t] rows[e, c]`` for upper-triangular ``U = S.T``.

    numpy's matmul (BLAS dgemm): the inflow-driven run then needs no scipy (0.1 s at start-up);
    dgemm does twice the flops of a triangular product, a few ms even for a Monte Carlo chunk.
    """
    rows[...] = rows @ U


def _trsm(U: np.ndarray, rows: np.ndarray) -> None:
    """In place: solve ``sum_c U[c, t] x[e, c] = rows[e, t]`` for x (upper-triangular ``U``)."""
    from scipy.linalg import blas as _blas  # stock-driven models only: keeps scipy out of runs

    a, lower, trans = _blas_operand(U)
    r = _blas.dtrsm(1.0, a, rows.T, side=0, lower=lower, trans_a=trans, overwrite_b=1)
    if not np.shares_memory(r, rows):  # pragma: no cover - f2py copied
        rows[...] = r.T


def _conv_lags(x: np.ndarray, curves: np.ndarray, group: np.ndarray, stock: bool) -> tuple:
    """Stock and outflow by a loop over lags (Toeplitz structures), vectorised over elements."""
    E, T = x.shape
    s = curves[:, :T]
    kernels = [s, outflow_kernel(s)] if stock else [outflow_kernel(s)]
    xt = np.ascontiguousarray(x.T)  # (T, E)
    ys = []
    tmp = np.empty((T, E))
    for kern in kernels:
        coef = np.ascontiguousarray(kern[group].T)  # (T lag, E)
        y = np.zeros((T, E))
        for k in range(T):
            np.multiply(xt[: T - k], coef[k], out=tmp[: T - k])
            y[k:] += tmp[: T - k]
        ys.append(y.T)
    return (ys[0], ys[1]) if stock else (None, ys[0])


def _convolve(
    x: np.ndarray, structs: _Structures, group: np.ndarray, method: str = "auto", stock: bool = True,
    out: tuple[np.ndarray | None, np.ndarray] | None = None,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Stock and outflow (E, T) of inflow ``x`` (E, T); with ``stock=False`` only the outflow.

    ``out`` = (stock, outflow) arrays to fill (when the elements need no sorting).
    """
    E, T = x.shape
    order, runs = _run_arrays(group, structs.n)
    if method == "auto":
        # thousands of short runs of distinct curves: the lag loop is as fast and builds no matrix
        method = "lags" if structs.curves is not None and runs[0].size > max(64, E // 4) else "blas"
    if method == "lags":
        if structs.curves is None:
            raise ValueError("method='lags' needs a lifetime that varies neither by cohort nor by year")
        return _conv_lags(x, structs.curves, group, stock)
    if method not in ("blas", "toeplitz"):
        raise ValueError(f"method must be 'auto', 'blas' or 'lags', got {method!r}")
    xs = x if order is None else x[order]
    if out is None or order is not None:
        out = (np.empty((E, T)) if stock else None, np.empty((E, T)))
    st, ou = out
    if structs.curves is not None and all(a.flags.c_contiguous for a in (xs, *out) if a is not None):
        _convolve_batches(xs, structs.curves, runs, st, ou)
        return (_unsort(st, order) if stock else None), _unsort(ou, order)
    buf = np.empty((2, T, T)) if structs.curves is not None else None
    for k, a, b in zip(*(r.tolist() for r in runs), strict=True):
        U, V = structs.pair(k, buf)  # survival and outflow shares, transposed
        if stock:
            st[a:b] = xs[a:b]
            _trmm(U, st[a:b])
        ou[a:b] = xs[a:b]
        _trmm(V, ou[a:b])
    return (_unsort(st, order) if stock else None), _unsort(ou, order)


def _batches(runs: tuple[np.ndarray, np.ndarray, np.ndarray], size: int
             ) -> Iterator[tuple[np.ndarray, int, int, int]]:
    """Consecutive runs (ids, starts, stops) of equal length, at most ``size`` at a time, each
    batch starting where the last ended or where the run length changes: (structure ids,
    start, stop, run length)."""
    ks, starts, stops = runs
    if ks.size == 0:
        return
    length = stops - starts
    new = np.ones(ks.size, dtype=bool)
    new[1:] = (length[1:] != length[:-1]) | (starts[1:] != stops[:-1])
    first = np.flatnonzero(new)                                  # where each group starts
    pos = np.arange(ks.size) - first[np.cumsum(new) - 1]         # position in its group
    edges = [*np.flatnonzero(new | (pos % size == 0)).tolist(), ks.size]
    for i, j in pairwise(edges):
        yield ks[i:j], int(starts[i]), int(stops[j - 1]), int(length[i])


def _convolve_batches(xs: np.ndarray, curves: np.ndarray,
                      runs: tuple[np.ndarray, np.ndarray, np.ndarray],
                      st: np.ndarray | None, ou: np.ndarray) -> None:
    """The per-structure products of :func:`_convolve` (Toeplitz structures), for batches of
    runs of equal length at once: the same matrices and the same BLAS product per run as
    :func:`_trmm` (numpy's stacked matmul calls it run by run), without a Python step per run
    (Monte Carlo: thousands of distinct curves with a few elements each)."""
    T = xs.shape[1]
    size = max(1, _BATCH_BYTES // (2 * T * T * 8))
    for ks, a, b, n in _batches(runs, size):
        s = curves[ks]
        x3 = xs[a:b].reshape(len(ks), n, T)
        if st is not None:
            np.matmul(x3, _toeplitz_upper(s), out=st[a:b].reshape(len(ks), n, T))
        np.matmul(x3, _toeplitz_upper(outflow_kernel(s)), out=ou[a:b].reshape(len(ks), n, T))


def _solve(
    target: np.ndarray, structs: _Structures, group: np.ndarray, describe: Callable[[int], str],
    years: np.ndarray, out: np.ndarray | None = None, outflow: np.ndarray | None = None,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Inflow (E, T) with ``sum_c S[t, c] inflow[c] = target[t]``: one triangular solve per structure.

    ``out`` is filled with the inflow when the elements need no sorting. With ``outflow`` (E, T)
    the outflow of that inflow is computed in the same pass (while the structure's matrices are
    at hand), after setting inflows in ``[-noise, 0)`` (``noise`` (E, 1): rounding-noise
    tolerance per element) to 0.
    """
    order, runs = _runs(group, structs.n)
    if out is not None and order is None:
        x = out
        np.copyto(x, target)
    else:
        x = np.array(target if order is None else target[order], dtype=float, order="C")
    fused = outflow is not None and order is None
    buf = np.empty((2, structs.T, structs.T)) if structs.curves is not None else None
    for k, a, b in runs:
        U, V = structs.pair(k, buf) if fused else (structs.upper(k), None)
        diag = np.diagonal(U)
        if np.any(diag <= 0):
            e = a if order is None else order[a]
            raise ParameterError(
                "stock_driven: the lifetime leaves nothing in use at the end of the year of inflow "
                f"(survival s[0] = 0, e.g. a fixed lifetime shorter than the first year-end age) "
                f"for {describe(int(e))}, cohort {years[int(np.flatnonzero(diag <= 0)[0])]}; no "
                "inflow can build the stock"
            )
        _trsm(U, x[a:b])
        if fused:
            rows = x[a:b]
            rows[(rows < 0) & (rows >= -noise[a:b])] = 0.0
            outflow[a:b] = rows
            _trmm(V, outflow[a:b])
    if outflow is not None and not fused:
        x = _unsort(x, order)
        zero = (x < 0) & (x >= -noise)
        x[zero] = 0.0
        outflow[...] = _convolve(x, structs, group, stock=False)[1]
        return x
    return _unsort(x, order)


def _by_cohort(x: np.ndarray, structs: _Structures, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stock and outflow by cohort, arrays (E, T time, T cohort)."""
    E, T = x.shape
    sbc = np.empty((E, T, T))
    obc = np.empty((E, T, T))
    order, runs = _runs(group, structs.n)
    xs = x if order is None else x[order]
    for k, a, b in runs:
        U, V = structs.pair(k)
        np.multiply(xs[a:b, None, :], U.T[None], out=sbc[a:b])
        np.multiply(xs[a:b, None, :], V.T[None], out=obc[a:b])
    return _unsort(sbc, order), _unsort(obc, order)
