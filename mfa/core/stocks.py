"""Dynamic stock models: inflow-driven and stock-driven, with an optional initial stock by age.

Conventions (see :mod:`mfa.core.lifetimes`): years are whole; ``stock[t]`` is the stock at the end of
year ``t``; ``S[t, c]`` is the share of the inflow of year ``c`` (cohort ``c``) still in use at
the end of year ``t`` (its ``inflow_at`` convention belongs to the lifetime model; the default is
the mid-year inflow, ``S[t, c] = sf(t - c + 0.5)``). Then::

    stock[t]   = sum_{c <= t} inflow[c] * S[t, c]                          [t]
    outflow[t] = sum_{c <= t} inflow[c] * (S[t-1, c] - S[t, c])            [t/yr]  (S[c-1, c] = 1)
               = inflow[t] - (stock[t] - stock[t-1])                       (stock[first-1] = initial)

Both sums are evaluated directly (each is a sum of non-negative terms, so accurate to rounding
element by element, as flodym does); the mass balance then holds to ~1e-15 of the stock.

Speed
-----
Inside, everything is plain float64 numpy over an ``(elements, time)`` array, where *elements* are
all other dims flattened (region x product x sample ...), ordered so that elements sharing a
survival structure are adjacent. Survival is computed once per distinct structure
(:meth:`mfa.core.lifetimes.LifetimeModel.discretise`): a curve when the lifetime varies neither by
cohort nor by year (then ``S`` is Toeplitz and the stock is a convolution), a lower-triangular
matrix otherwise. For each structure, one at a time (memory O(T^2), never T x T x elements):

* inflow-driven: two triangular matrix products (BLAS ``dtrmm``) over all its elements at once,
  for the stock and the outflow;
* stock-driven: one triangular solve (BLAS ``dtrsm``), then the outflow product.

With thousands of distinct curves (Monte Carlo, a lifetime per sample) ``method="auto"`` uses a
loop over the T lags instead, each step an array operation over all elements. FFT convolution is
not used: its rounding error is relative to the largest value, not to each element, and breaks
the 1e-12 element-wise agreement with flodym for small early values. Survival shares below
:data:`FLUSH` are set to 0 in the kernels (subnormal numbers are ~100x slower to compute with);
see benchmarks/README.md for the measurements.

Dims
----
The outputs have the input's dims and those of the lifetime. A lifetime dim the input lacks
would repeat the input along it and multiply its mass, so it is an error unless it is listed in
``ensemble_dims`` (alternative runs, ``("sample",)`` by default, as in :mod:`mfa.analysis.uncertainty`).

Negative inflow in stock-driven models
--------------------------------------
If the stock falls faster than its cohorts leave, the inflow needed to meet it is negative. The
caller chooses (``negative_inflow=``):

* ``"raise"`` (default): :class:`NegativeInflowError` naming the first year and element.
* ``"warn"``: keep the negative inflows (the stock is met exactly) and emit a
  :class:`NegativeInflowWarning` with the count, first year and element, and the minimum.
* ``"clip"``: set the inflow to 0 in those years. The cohorts then keep their normal outflow, so
  the stock stays *above* its target until the target catches up; later years solve for the
  target again from the actual cohorts. Mass balance stays exact (the returned ``stock`` is the
  actual stock); the result also holds ``stock_target`` (the input), ``stock_excess`` =
  stock - target [t] and ``inflow_clipped`` = the negative inflow that was removed [t/yr, >= 0].
* ``"retire"``: ODYM's ``NegativeInflowCorrect``: set the inflow to 0 and retire the cohorts in
  use early, all by the same fraction, so that the stock meets its target exactly; the retired
  fraction stays out of use in later years. The mass retired early is part of ``outflow`` and is
  also returned as ``retired_early`` [t/yr, >= 0].

Values within ``1e-12 x max|stock|`` of zero (per element) count as rounding noise, not as
negative inflow, and are set to 0. Likewise an *inflow* may hold negative values within
``1e-12 x max|inflow|`` of its series (e.g. the inflow of a stock-driven model fed back): they
are read as 0; larger negative values are an error.

Initial stock by age
--------------------
``initial_stock_by_age`` (dims ``age`` plus the other dims of the model, ensemble dims
optional, mass units) is the stock in use at the *start* of the first model year ``t0`` (= end of ``t0 - 1``): age ``a`` is the
cohort that entered in year ``t0 - 1 - a``. Its share left at the end of year ``t`` is
``S[t, c] / S[t0 - 1, c]`` (conditional survival with that cohort's own lifetime: a cohort-
varying lifetime that covers the historic cohorts uses their parameters, one that covers none of
them uses the first model year's). A positive stock of a cohort that the lifetime has already
retired entirely (``S[t0 - 1, c] = 0``, e.g. older than a fixed lifetime) is an error. Its
outflow is included in ``outflow``; the mass balance uses ``stock[t0 - 1]`` = the initial total,
returned as ``initial_stock``. The result also holds ``historic_inflow``: the inflow of each
historic cohort that left this stock, ``initial_stock / S[t0 - 1, c]`` [t/yr] (ODYM's
``compute_i_from_s``; also :func:`historic_inflow`).

Type split
----------
``stock_driven(..., type_shares=shares)`` meets one stock with several product types: the inflow
of year ``c`` is split into types ``j`` by ``shares[c, j]`` (summing to 1 over the type dim),
and each type has its own lifetime (the lifetime model has the type dim). The total inflow
solves ``sum_j sum_c inflow[c] shares[c, j] S_j[t, c] = stock[t]``; the result also holds
``inflow_by_type``, ``stock_by_type`` and ``outflow_by_type``. ODYM's type-split model splits
the stock added in the year of inflow instead of the inflow; both agree when the types share the
first-year survival.

Units
-----
Inputs carry units in ``attrs["units"]`` or as pint data. With ``attrs`` the outputs are plain
arrays in t and t/yr with ``attrs["units"]``; with pint data (a pint Quantity inside the
DataArray) the outputs are pint-backed too, in the input's unit family (``kt/yr`` in gives
``kt`` stocks and ``kt/yr`` flows).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pint
import xarray as xr
from scipy.linalg import blas as _blas

from mfa.core.errors import MfaError, ParameterError
from mfa.core.lifetimes import (
    Discretised,
    LifetimeModel,
    _canonical,
    _dim_coords,
    _expand,
    _toeplitz,
)
from mfa.core.units import to_canonical

__all__ = [
    "FLUSH",
    "NOISE",
    "NegativeInflowError",
    "NegativeInflowWarning",
    "historic_inflow",
    "inflow_driven",
    "inflow_driven_array",
    "outflow_kernel",
    "stock_driven",
    "stock_driven_array",
]

NegativeInflowRule = Literal["raise", "warn", "clip", "retire"]
_RULES = ("raise", "warn", "clip", "retire")

#: Relative size [1] below which a negative value is rounding noise (read as 0).
NOISE = 1e-12

#: Memory [bytes] for the dense per-element arrays of the year-by-year solver ("clip", "retire").
_SEQUENTIAL_BYTES = 32 * 2**20

#: Survival shares below this are set to 0 inside the kernels. Far tails of the distributions
#: (e.g. a normal lifetime 40 sd past its mean) reach the subnormal range below 2.2e-308, where
#: x86 arithmetic is ~100 times slower; that doubled the run time of the 50 x 20 benchmark. A
#: term below 1e-280 of its inflow changes no result above ~1e-265 of the inflow by more than
#: rounding.
FLUSH = 1e-280


class NegativeInflowError(MfaError):
    """A stock-driven model needs a negative inflow (the stock falls faster than cohorts leave)."""


class NegativeInflowWarning(UserWarning):
    """Negative inflows were kept in a stock-driven model (``negative_inflow="warn"``)."""


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


def _runs(group: np.ndarray, n: int) -> tuple[np.ndarray | None, list[tuple[int, int, int]]]:
    """Runs of equal structure id: (order, [(k, start, stop), ...]).

    ``order`` is None when the elements come in at most ``2 n + 8`` runs (use them in place);
    otherwise the permutation that sorts them by structure (gather inputs with it).
    """
    def runs_of(g: np.ndarray) -> list[tuple[int, int, int]]:
        change = np.flatnonzero(g[1:] != g[:-1]) + 1
        starts = np.concatenate([[0], change])
        stops = np.concatenate([change, [g.size]])
        return [(int(g[a]), int(a), int(b)) for a, b in zip(starts, stops, strict=True)]

    if group.size == 0:
        return None, []
    runs = runs_of(group)
    if len(runs) <= 2 * n + 8:
        return None, runs
    order = np.argsort(group, kind="stable")
    return order, runs_of(group[order])


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
    """In place: ``rows[e, t] = sum_c U[c, t] rows[e, c]`` for upper-triangular ``U = S.T``."""
    a, lower, trans = _blas_operand(U)
    r = _blas.dtrmm(1.0, a, rows.T, side=0, lower=lower, trans_a=trans, overwrite_b=1)
    if not np.shares_memory(r, rows):  # pragma: no cover - f2py copied
        rows[...] = r.T


def _trsm(U: np.ndarray, rows: np.ndarray) -> None:
    """In place: solve ``sum_c U[c, t] x[e, c] = rows[e, t]`` for x (upper-triangular ``U``)."""
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
    order, runs = _runs(group, structs.n)
    if method == "auto":
        # thousands of short runs of distinct curves: the lag loop is as fast and builds no matrix
        method = "lags" if structs.curves is not None and len(runs) > max(64, E // 4) else "blas"
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
    buf = np.empty((2, T, T)) if structs.curves is not None else None
    for k, a, b in runs:
        U, V = structs.pair(k, buf)  # survival and outflow shares, transposed
        if stock:
            st[a:b] = xs[a:b]
            _trmm(U, st[a:b])
        ou[a:b] = xs[a:b]
        _trmm(V, ou[a:b])
    return (_unsort(st, order) if stock else None), _unsort(ou, order)


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


# --- the historic cohorts of an initial stock by age ------------------------------------------


class _Historic:
    """Survival of the historic cohorts of an initial stock (A ages before the model years)."""

    def __init__(self, disc: Discretised, A: int, T: int) -> None:
        self.disc, self.A, self.T = disc, A, T

    def tables(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ratio (T, A), leave (T, A), alive (A,)) of structure ``k``.

        ``ratio[t, a]``: share of the age-``a`` stock still in use at the end of model year
        ``t``; ``leave[t, a]``: share leaving in year ``t``; ``alive[a]``: survival of that
        cohort at the end of the year before the model (0: retired already).
        """
        A, T = self.A, self.T
        ages = np.arange(A)
        if self.disc.curves is not None:
            c = self.disc.curves[k]
            alive = c[:A]
            cur = c[ages[None, :] + 1 + np.arange(T)[:, None]]
            prev = c[ages[None, :] + np.arange(T)[:, None]]
        else:
            F = self.disc.matrices(np.array([k]))[0]
            cols = A - 1 - ages
            alive = F[A - 1, cols]
            cur = F[A:, cols]
            prev = F[A - 1 : -1, cols]
        ok = alive > 0
        safe = np.where(ok, alive, 1.0)
        ratio = np.where(ok, cur / safe, 0.0)
        leave = np.where(ok, (prev - cur) / safe, 0.0)
        return ratio, leave, alive

    def flows(
        self, X: np.ndarray, group: np.ndarray, describe: Callable[[int], str], by_cohort: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Remaining stock and outflow (E, T) of the initial stock ``X`` (E, A), its historic
        inflow (E, A), and with ``by_cohort`` the (E, T, A) stock and outflow by age."""
        E = X.shape[0]
        rem, out, hist_in = np.empty((E, self.T)), np.empty((E, self.T)), np.empty_like(X)
        rem_a = np.empty((E, self.T, self.A)) if by_cohort else None
        out_a = np.empty((E, self.T, self.A)) if by_cohort else None
        order, runs = _runs(group, self.disc.n_structures)
        idx = np.arange(E) if order is None else order
        for k, a, b in runs:
            rows = idx[a:b]
            ratio, leave, alive = self.tables(k)
            Xk = X[rows]
            dead = (alive[None, :] <= 0) & (Xk > 0)
            if dead.any():
                e, age = np.argwhere(dead)[0]
                raise ParameterError(
                    f"initial_stock_by_age: age {int(age)} holds {Xk[e, age]:.6g} t for "
                    f"{describe(int(rows[e]))}, but the lifetime leaves nothing of that cohort in "
                    "use at the start of the first model year (survival 0): the initial stock "
                    "and the lifetime contradict each other"
                )
            rem[rows] = Xk @ ratio.T
            out[rows] = Xk @ leave.T
            hist_in[rows] = np.where(alive > 0, Xk / np.where(alive > 0, alive, 1.0), 0.0)
            if by_cohort:
                rem_a[rows] = Xk[:, None, :] * ratio[None]
                out_a[rows] = Xk[:, None, :] * leave[None]
        return rem, out, hist_in, rem_a, out_a


# --- year-by-year solver for "clip" and "retire" ----------------------------------------------


def _sequential(
    target: np.ndarray,
    S: np.ndarray,
    D: np.ndarray,
    shares: np.ndarray,
    base_hist: np.ndarray,
    rule: str,
    by_cohort: bool,
) -> dict[str, np.ndarray]:
    """Stock-driven solve year by year for a block of B elements with dense survival.

    Columns are cohorts in year order (A historic, then T model cohorts), each split into J
    types. ``S``/``D`` (B, T, A + T, J): survival / outflow share of column ``(c, j)`` in model
    year ``t`` (historic ones conditional on the initial stock); ``shares`` (B, T, J): inflow
    split of the model cohorts; ``base_hist`` (B, A, J): initial stock. Returns inflow (B, T),
    stock, outflow (B, T, J), clipped, retired (B, T) and, with ``by_cohort``, stock_bc and
    outflow_bc (B, T, A + T, J).
    """
    B, T, C, J = S.shape
    A = C - T
    tol = NOISE * np.max(np.abs(target), axis=1)
    base = np.zeros((B, C, J))
    base[:, :A] = base_hist
    mult = np.ones((B, C))
    res = {name: np.zeros((B, T)) for name in ("inflow", "clipped", "retired")}
    res["stock"] = np.zeros((B, T, J))
    res["outflow"] = np.zeros((B, T, J))
    if by_cohort:
        res["stock_bc"] = np.zeros((B, T, C, J))
        res["outflow_bc"] = np.zeros((B, T, C, J))
    for t in range(T):
        n = A + t  # columns in use before the new cohort
        alive = base[:, :n] * mult[:, :n, None] * S[:, t, :n]  # (B, n, J)
        regular = base[:, :n] * mult[:, :n, None] * D[:, t, :n]
        surv = alive.sum(axis=(1, 2))
        gap = target[:, t] - surv
        s_new = (shares[:, t] * S[:, t, n]).sum(axis=1)
        new = gap / s_new
        neg = new < -tol
        frac = np.zeros(B)
        if rule == "clip":
            res["clipped"][:, t] = np.where(neg, -new, 0.0)
        elif rule == "retire":
            frac = np.where(neg, -gap / np.where(surv > 0, surv, 1.0), 0.0)
            res["retired"][:, t] = np.where(neg, -gap, 0.0)
        new = np.where(new < 0, 0.0, new)  # clipped, retired or rounding noise
        res["inflow"][:, t] = new
        base[:, n] = new[:, None] * shares[:, t]
        retired = alive * frac[:, None, None]
        res["stock"][:, t] = (alive - retired).sum(axis=1) + base[:, n] * S[:, t, n]
        res["outflow"][:, t] = (regular + retired).sum(axis=1) + base[:, n] * D[:, t, n]
        mult[:, :n] *= 1.0 - frac[:, None]
        if by_cohort:
            res["stock_bc"][:, t, :n] = alive - retired
            res["stock_bc"][:, t, n] = base[:, n] * S[:, t, n]
            res["outflow_bc"][:, t, :n] = regular + retired
            res["outflow_bc"][:, t, n] = base[:, n] * D[:, t, n]
    return res


def _check_rule(rule: str) -> None:
    if rule not in _RULES:
        raise ParameterError(
            f"negative_inflow must be 'raise', 'warn', 'clip' or 'retire', got {rule!r}"
        )


def _negative_inflow(
    inflow: np.ndarray, target: np.ndarray, rule: str, describe: Callable[[int], str], years: np.ndarray
) -> np.ndarray:
    """Zero the rounding noise in ``inflow`` (in place); raise or warn for real negative inflow.

    Returns the elements with real negative inflow (to be solved again year by year for
    "clip" and "retire").
    """
    tol = NOISE * np.max(np.abs(target), axis=1, keepdims=True)
    neg = inflow < -tol
    noise = (inflow < 0) & ~neg
    inflow[noise] = 0.0
    if not neg.any():
        return np.empty(0, dtype=np.int64)
    years_neg = np.flatnonzero(neg.any(axis=0))
    t_first = int(years_neg[0])
    e_first = int(np.flatnonzero(neg[:, t_first])[0])
    if rule == "raise":
        raise NegativeInflowError(
            f"stock_driven: the stock falls faster than its cohorts leave, so the inflow "
            f"would be negative ({inflow[e_first, t_first]:.6g} t/yr) in year {years[t_first]} for "
            f"{describe(e_first)} ({int(neg[:, t_first].sum())} element(s) that year). Choose "
            "negative_inflow='warn' to keep negative inflows, 'clip' to set them to 0 (the "
            "stock then exceeds its target) or 'retire' to retire cohorts early."
        )
    if rule == "warn":
        warnings.warn(
            f"stock_driven: negative inflow kept in {years_neg.size} year(s), first in year "
            f"{years[t_first]} for {describe(e_first)}; minimum {inflow[neg].min():.6g} t/yr",
            NegativeInflowWarning,
            stacklevel=3,
        )
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(neg.any(axis=1))


# --- plain-array API --------------------------------------------------------------------------


def _flatten_survival(survival: np.ndarray, lead_shape: tuple[int, ...], T: int) -> tuple[np.ndarray, np.ndarray]:
    """Survival (..., >=T) broadcastable to ``lead_shape`` -> distinct curves and group (E,)."""
    surv = np.asarray(survival, dtype=float)
    if surv.shape[-1] < T:
        raise ValueError(f"survival has {surv.shape[-1]} ages, needs at least {T} (the time axis)")
    lead = surv.shape[:-1]
    try:
        full = np.broadcast_shapes(lead, lead_shape)
    except ValueError:
        raise ValueError(
            f"survival shape {surv.shape} does not broadcast to the inflow shape {(*lead_shape, T)}"
        ) from None
    if full != tuple(lead_shape):
        raise ValueError(f"survival shape {surv.shape} would enlarge the inflow shape {lead_shape}")
    rows = surv[..., :T].reshape(-1, T)
    curves, inv = np.unique(rows, axis=0, return_inverse=True)
    ids = np.asarray(inv).reshape(lead) if lead else np.asarray(inv).reshape(())
    group = np.broadcast_to(ids, lead_shape).reshape(-1)
    return np.ascontiguousarray(curves), np.ascontiguousarray(group)


def inflow_driven_array(
    inflow: np.ndarray, survival: np.ndarray, *, method: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """Inflow-driven dynamic stock model on plain arrays (time on the LAST axis).

    Parameters
    ----------
    inflow : numpy.ndarray, shape (..., T)
        Inflow per year [t/yr] (any mass-flow unit; outputs are in the matching units).
    survival : numpy.ndarray, shape broadcastable to (..., T_s), T_s >= T
        Discretised survival curves ``s[..., k]`` = share of a cohort still in use at the end of
        year ``c + k`` (``LifetimeModel.survival(T).values``). Leading dims of size 1 are shared:
        each distinct curve is applied to all its elements at once.
    method : {"auto", "blas", "lags"}
        Algorithm (same results); "auto" picks by the number of distinct curves.

    Returns
    -------
    stock : numpy.ndarray, shape (..., T)
        Stock at the end of each year [t].
    outflow : numpy.ndarray, shape (..., T)
        Outflow per year [t/yr]; ``outflow = inflow - diff(stock, prepend=0)``.
    """
    x = np.asarray(inflow, dtype=float)
    lead, T = x.shape[:-1], x.shape[-1]
    curves, group = _flatten_survival(survival, lead, T)
    structs = _Structures(T, curves.shape[0], curves=curves)
    stock, outflow = _convolve(np.ascontiguousarray(x.reshape(-1, T)), structs, group, method)
    return stock.reshape(x.shape), outflow.reshape(x.shape)


def stock_driven_array(
    stock: np.ndarray,
    survival: np.ndarray,
    *,
    negative_inflow: NegativeInflowRule = "raise",
    method: str = "auto",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stock-driven dynamic stock model on plain arrays (time on the LAST axis).

    Parameters
    ----------
    stock : numpy.ndarray, shape (..., T)
        Target stock at the end of each year [t].
    survival : numpy.ndarray, broadcastable to (..., T_s), T_s >= T
        Discretised survival curves as in :func:`inflow_driven_array`.
    negative_inflow : {"raise", "warn", "clip", "retire"}
        Rule for years where the stock falls faster than its cohorts leave (module docstring).
    method : {"auto", "blas", "lags"}
        Algorithm for the outflow.

    Returns
    -------
    inflow, outflow, stock : numpy.ndarray, shape (..., T)
        Inflow and outflow [t/yr], and the stock actually reached [t] (equal to the target
        unless ``negative_inflow="clip"`` clipped something).
    """
    _check_rule(negative_inflow)
    tgt = np.asarray(stock, dtype=float)
    lead, T = tgt.shape[:-1], tgt.shape[-1]
    curves, group = _flatten_survival(survival, lead, T)
    structs = _Structures(T, curves.shape[0], curves=curves)
    shape = lead if lead else (1,)

    def describe(e: int) -> str:
        return f"element {tuple(int(i) for i in np.unravel_index(e, shape))}"

    flat = np.ascontiguousarray(tgt.reshape(-1, T))
    years = np.arange(T)
    inflow = _solve(flat, structs, group, describe, years)
    redo = _negative_inflow(inflow, flat, negative_inflow, describe, years)
    actual, outflow = _convolve(inflow, structs, group, method, stock=redo.size > 0)
    if redo.size:
        solved = _solve_again(flat, redo, structs, group, None, None, negative_inflow, False)
        inflow[redo] = solved["inflow"]
        actual[redo] = solved["stock"][..., 0]
        outflow[redo] = solved["outflow"][..., 0]
    else:
        actual = flat
    return inflow.reshape(tgt.shape), outflow.reshape(tgt.shape), actual.reshape(tgt.shape)


def _dense_columns(
    rows: np.ndarray, structs: list[_Structures], groups: list[np.ndarray],
    hist: list[_Historic] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Dense (B, T, A + T, J) survival and outflow shares of the elements ``rows`` by type."""
    T = structs[0].T
    A = hist[0].A if hist else 0
    J = len(structs)
    S = np.zeros((rows.size, T, A + T, J))
    D = np.zeros_like(S)
    for j in range(J):
        cache: dict[int, tuple[np.ndarray, ...]] = {}
        for i, e in enumerate(rows):
            k = int(groups[j][e])
            if k not in cache:
                Um, Vm = structs[j].pair(k)
                cache[k] = (Um.T, Vm.T, *(hist[j].tables(k)[:2] if hist else ()))
            S[i, :, A:, j], D[i, :, A:, j] = cache[k][:2]
            if hist:
                S[i, :, :A, j] = cache[k][2][:, ::-1]
                D[i, :, :A, j] = cache[k][3][:, ::-1]
    return S, D


def _solve_again(
    target: np.ndarray,
    rows: np.ndarray,
    structs: _Structures | list[_Structures],
    group: np.ndarray | list[np.ndarray],
    shares: np.ndarray | None,
    hist: tuple | None,
    rule: str,
    by_cohort: bool,
) -> dict[str, np.ndarray]:
    """Year-by-year solve (:func:`_sequential`) of the elements ``rows``, in memory-bounded blocks.

    ``structs``/``group`` are per type for a type split (lists), ``shares`` (E, T, J) the split;
    ``hist`` is (list of _Historic, X (E, A, J)) for an initial stock.
    """
    structs = structs if isinstance(structs, list) else [structs]
    groups = group if isinstance(group, list) else [group]
    T, J = structs[0].T, len(structs)
    A = hist[0][0].A if hist else 0
    per_row = 2 * T * (A + T) * J * 8 * (2 if by_cohort else 1)
    block = max(1, _SEQUENTIAL_BYTES // per_row)
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, rows.size, block):
        sub = rows[start : start + block]
        S, D = _dense_columns(sub, structs, groups, hist[0] if hist else None)
        sh = np.ones((sub.size, T, 1)) if shares is None else shares[sub]
        base_hist = hist[1][sub][:, ::-1] if hist else np.zeros((sub.size, 0, J))
        parts.append(_sequential(target[sub], S, D, sh, base_hist, rule, by_cohort))
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


# ---------------------------------------------------------------------------------------------
# xarray layer: validation, units, broadcasting, labels.
# ---------------------------------------------------------------------------------------------


def _describe(dims: tuple[str, ...], coords: dict[str, np.ndarray], shape: tuple[int, ...]):
    def describe(e: int) -> str:
        if not dims:
            return "the (only) element"
        pos = np.unravel_index(e, shape)
        parts = []
        for d, i in zip(dims, pos, strict=True):
            label = coords[d][i] if d in coords else i
            if isinstance(label, np.generic):
                label = label.item()
            parts.append(f"{d}={label!r}")
        return ", ".join(parts)

    return describe


def _check_time(da: xr.DataArray, name: str) -> np.ndarray:
    if "time" not in da.dims:
        raise ParameterError(f"{name}: needs a 'time' dimension (integer years); dims are {da.dims}")
    years = _dim_coords(da).get("time")
    if years is None:
        raise ParameterError(f"{name}: the 'time' dimension needs a coordinate of integer years")
    if not np.issubdtype(years.dtype, np.number) or np.any(years != np.round(years)):
        raise ParameterError(f"{name}: time coordinate must be integer years, got {years[:5]!r}")
    years = years.astype(np.int64)
    if years.size == 0:
        raise ParameterError(f"{name}: the time coordinate is empty")
    step = np.diff(years)
    if np.any(step <= 0):
        i = int(np.flatnonzero(step <= 0)[0])
        raise ParameterError(
            f"{name}: time must be sorted ascending without repeats; year {years[i + 1]} comes "
            f"after {years[i]} (use .sortby('time'))"
        )
    if np.any(step != 1):
        i = int(np.flatnonzero(step != 1)[0])
        raise ParameterError(
            f"{name}: time has a gap: {years[i + 1]} follows {years[i]}; years must be "
            "consecutive (interpolate the missing years first)"
        )
    return years


def _check_values(values: np.ndarray, da: xr.DataArray, name: str, noise_dim: str | None = None) -> np.ndarray:
    """Finite and >= 0; negative values within NOISE of the series' largest |value| along
    ``noise_dim`` (if given) are rounding noise and returned as 0. Returns the values."""
    def label(i: int) -> str:
        return _describe(da.dims, _dim_coords(da), da.shape)(i)

    finite = np.isfinite(values)
    if not finite.all():
        bad = ~finite
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ParameterError(f"{name}: NaN or infinite value at {label(i)} ({int(bad.sum())} in all)")
    if values.size and values.min() < 0:
        neg = values < 0
        if noise_dim is not None:
            axis = da.dims.index(noise_dim)
            tol = NOISE * np.max(np.abs(values), axis=axis, keepdims=True)
            neg = values < -tol
        if neg.any():
            i = int(np.flatnonzero(neg.ravel())[0])
            raise ParameterError(
                f"{name}: negative value {values.ravel()[i]:.6g} at {label(i)} "
                f"({int(neg.sum())} in all); must be >= 0"
            )
        values = np.maximum(values, 0.0)  # rounding noise only
    return values


def _merge_coords(
    a: tuple[tuple[str, ...], tuple[int, ...], dict], b: tuple[tuple[str, ...], tuple[int, ...], dict],
    what_a: str, what_b: str,
) -> dict[str, np.ndarray]:
    """Union of the dim coordinates of ``a`` and ``b`` (each ``(dims, shape, coords)``); shared
    dims must have the same length and identical coordinates."""
    coords = dict(a[2])
    for d, v in b[2].items():
        if d in coords and (coords[d].shape != v.shape or not np.array_equal(coords[d], v)):
            raise ParameterError(
                f"{what_a} and {what_b} have different {d!r} coordinates: "
                f"{coords[d][:6].tolist()} vs {v[:6].tolist()} (they must be identical)"
            )
        coords.setdefault(d, v)
    sizes_a = dict(zip(a[0], a[1], strict=True))
    for d, n in zip(b[0], b[1], strict=True):
        if d in sizes_a and sizes_a[d] != n:
            raise ParameterError(f"{what_a} and {what_b} have different lengths along {d!r}")
    return coords


class _Units:
    """Units of the outputs: attrs (t, t/yr) or pint, in the input's unit family."""

    def __init__(self, da: xr.DataArray, kind: str) -> None:
        self.pint = isinstance(da.data, pint.Quantity)
        if not self.pint:
            return
        unit = da.data.units
        reg = unit._REGISTRY
        flow, mass = (unit, unit * reg.year) if kind == "flow" else (unit / reg.year, unit)
        if any("[time]" in str(reg.get_dimensionality(n)) for n in mass._units):
            flow, mass = reg.Unit("t") / reg.year, reg.Unit("t")  # e.g. kg/s: back to t and t/yr
        self.reg, self.units = reg, {"t": mass, "t/yr": flow}

    def wrap(self, ds: xr.Dataset) -> xr.Dataset:
        if not self.pint:
            return ds
        for name, var in ds.data_vars.items():
            unit = var.attrs.get("units")
            if unit in self.units:
                attrs = {k: v for k, v in var.attrs.items() if k != "units"}
                q = self.reg.Quantity(np.asarray(var.data), unit.replace("yr", "year")).to(self.units[unit])
                ds[name] = xr.DataArray(q, dims=var.dims, coords=var.coords, attrs=attrs)
        return ds


class _Layout:
    """Lay out an input (time + dims) and a lifetime model as (elements, time) numpy arrays.

    Elements are ordered with the lifetime's dims first, so that elements sharing a survival
    structure are adjacent; outputs keep the input's dim order (transposed views, no copies).
    With ``split_dim`` (type split) the lifetime's structure is per (element, type).
    """

    def __init__(
        self, da: xr.DataArray, lifetime: LifetimeModel, years: np.ndarray, name: str, *,
        n_hist: int = 0, ensemble_dims: tuple[str, ...] = ("sample",), split_dim: str | None = None,
        func: str = "",
    ) -> None:
        if not isinstance(lifetime, LifetimeModel):
            raise ParameterError(
                f"lifetime must be an mfa.core.lifetimes.LifetimeModel (e.g. Normal(mean=10, sd=3)), "
                f"got {type(lifetime).__name__}"
            )
        self.years, self.T, self.A = years, years.size, n_hist
        self.da, self.ensemble_dims = da, tuple(ensemble_dims)
        disc = self.disc = lifetime.discretise(years, n_hist)
        life_sizes = dict(zip(disc.dims, disc.ids.shape, strict=True))
        data_dims = tuple(d for d in da.dims if d != "time")
        if split_dim is not None and split_dim in data_dims:
            raise ParameterError(f"{name}: has the type dim {split_dim!r}; give the total only")
        extra = [d for d in disc.dims if d not in data_dims and d != split_dim]
        typos = [d for d in extra if d not in tuple(ensemble_dims)]
        if typos:
            d = typos[0]
            n = life_sizes[d]
            effect = f"its mass multiplied by {n}" if n > 1 else "every output given this dim"
            raise ParameterError(
                f"{func}: the lifetime has dim {d!r} ({n} entries) that the {name} "
                f"lacks (its dims: {', '.join(da.dims)}); the {name} would be repeated along "
                f"{d!r} and {effect}. Rename the dim if it is a typo, or list it in "
                f"ensemble_dims (now {tuple(ensemble_dims)}) if it indexes alternative runs "
                "such as Monte Carlo samples"
            )
        what = f"{type(lifetime).__name__} lifetime parameters"
        self.coords = _merge_coords((da.dims, da.shape, _dim_coords(da)),
                                    (disc.dims, disc.ids.shape, disc.coords), name, what)
        self.extra_coords = {d: self.coords[d] for d in disc.dims if d not in da.dims and d in self.coords}
        life = tuple(d for d in disc.dims if d != split_dim)
        self.dims = life + tuple(d for d in data_dims if d not in life)
        sizes = {**life_sizes, **dict(zip(da.dims, da.shape, strict=True))}
        self.shape = tuple(sizes[d] for d in self.dims)
        self.E = int(np.prod(self.shape)) if self.shape else 1
        x = _expand(np.asarray(da.values, dtype=float), da.dims, (*self.dims, "time"))
        # One buffer for the input and the two arrays computed from it: numpy asks the kernel
        # for huge pages from 4 MiB on, which saves most page faults (3x faster to fill here).
        self._buffer = np.empty((3, self.E, self.T))
        self.x = self._buffer[0]
        np.copyto(self.x.reshape(*self.shape, self.T), x)
        gdims = (*self.dims, split_dim) if split_dim else self.dims
        g = _expand(disc.ids, disc.dims, gdims)
        gshape = (*self.shape, life_sizes[split_dim]) if split_dim else self.shape
        self.group = np.ascontiguousarray(np.broadcast_to(g, gshape)).reshape(self.E, -1)
        if not split_dim:
            self.group = self.group[:, 0]
        self.split_dim = split_dim
        # Output dims: the input's own order, then dims only the lifetime has.
        self.out_dims = tuple(da.dims) + tuple(extra)
        self._perm = [(*self.dims, "time").index(d) for d in self.out_dims]
        self.describe = _describe(self.dims, self.coords, self.shape)
        self.structs = _Structures.model_part(disc, n_hist)

    def spare(self, i: int) -> np.ndarray:
        """Uninitialised (E, T) array ``i`` (1 or 2) of the layout's buffer."""
        return self._buffer[i]

    def var(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E, T) array, in the output dim order (a view)."""
        data = arr.reshape((*self.shape, self.T)).transpose(self._perm)
        return (self.out_dims, data, {"units": units, "long_name": long_name})

    def var_typed(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E, J, T) array (type split): the type dim last."""
        J = arr.shape[1]
        data = arr.reshape((*self.shape, J, self.T))
        order = [(*self.dims, self.split_dim, "time").index(d) for d in (*self.out_dims, self.split_dim)]
        return ((*self.out_dims, self.split_dim), data.transpose(order), {"units": units, "long_name": long_name})

    def var_cohort(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E, T time, C cohort[, J]) array: dims (time, cohort, ...)."""
        data = arr.reshape((*self.shape, *arr.shape[1:]))
        inner = (*self.dims, "time", "cohort") + ((self.split_dim,) if arr.ndim == 4 else ())
        dims = ("time", "cohort", *(d for d in self.out_dims if d != "time"))
        dims = dims + ((self.split_dim,) if arr.ndim == 4 else ())
        return (dims, data.transpose([inner.index(d) for d in dims]),
                {"units": units, "long_name": long_name})

    def var_static(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E,) array: the output dims without time."""
        dims = tuple(d for d in self.out_dims if d != "time")
        data = arr.reshape(self.shape).transpose([self.dims.index(d) for d in dims])
        return (dims, data, {"units": units, "long_name": long_name})

    def var_age(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E[, J], A) array: dims (age[, type], ...)."""
        split = (self.split_dim,) if arr.ndim == 3 else ()
        inner = (*self.dims, *split, "age")
        dims = ("age", *split, *(d for d in self.out_dims if d != "time"))
        data = arr.reshape((*self.shape, *arr.shape[1:]))
        return (dims, data.transpose([inner.index(d) for d in dims]), {"units": units, "long_name": long_name})

    def initial(self, init: Any, name: str = "initial_stock_by_age") -> np.ndarray | None:
        """Validate and lay out an initial stock by age -> X (E, A) or (E, A, J) with a split."""
        if init is None:
            return None
        dims = (*self.dims, self.split_dim) if self.split_dim else self.dims
        extra = [d for d in init.dims if d != "age" and d not in dims]
        if extra:
            raise ParameterError(f"{name}: dims {extra} are not dims of the stock model {dims}")
        if self.split_dim and self.split_dim not in init.dims:
            raise ParameterError(
                f"{name}: needs the type dim {self.split_dim!r} (each type has its own lifetime)"
            )
        lacking = [d for d in self.dims if d not in init.dims and d not in self.ensemble_dims]
        if lacking:
            raise ParameterError(
                f"{name}: lacks dim {lacking[0]!r} of the stock model; it would be repeated along "
                f"{lacking[0]!r} and its mass multiplied (give it by {lacking[0]!r}, or list the "
                f"dim in ensemble_dims if it indexes alternative runs)"
            )
        for d, v in _dim_coords(init).items():
            if d != "age" and d in self.coords and not np.array_equal(self.coords[d], v):
                raise ParameterError(f"{name}: coordinate {d!r} differs from the model's: {v[:6].tolist()}")
        X = _expand(_initial_values(init, name), init.dims, (*dims, "age"))
        full = (*self.shape, *([X.shape[-2]] if self.split_dim else []), self.A)
        X = np.ascontiguousarray(np.broadcast_to(X, full)).reshape(self.E, *full[len(self.shape):])
        return X


def _initial_ages(init: Any, name: str = "initial_stock_by_age") -> int:
    """Number of ages of an initial stock (validating its type and age coordinate)."""
    if not isinstance(init, xr.DataArray):
        raise ParameterError(
            f"{name}: expected an xarray.DataArray with dim 'age', got {type(init).__name__}"
        )
    if "age" not in init.dims:
        raise ParameterError(
            f"{name}: needs an 'age' dimension (whole years; age 0 = entered in the year "
            "before the first model year)"
        )
    A = init.sizes["age"]
    ages = np.asarray(init["age"].values) if "age" in init.coords else np.arange(A)
    if not np.issubdtype(ages.dtype, np.number) or not np.array_equal(ages, np.arange(A)):
        raise ParameterError(f"{name}: age coordinate must be 0, 1, 2, ... (consecutive whole years)")
    return A


def _initial_values(init: xr.DataArray, name: str) -> np.ndarray:
    da = to_canonical(init, "t", name=name)
    return _check_values(np.asarray(da.values, dtype=float), da, name)


def _prepare(da: Any, name: str, target_unit: str, noise: bool) -> tuple[xr.DataArray, np.ndarray]:
    if not isinstance(da, xr.DataArray):
        raise ParameterError(
            f"{name}: expected an xarray.DataArray with a 'time' dim, got {type(da).__name__}"
        )
    years = _check_time(da, name)
    canon = _canonical(da, target_unit, name)
    raw = np.asarray(canon.values, dtype=float)
    values = _check_values(raw, canon, name, "time" if noise else None)
    return (canon if values is raw else canon.copy(deep=False, data=values)), years




# --- results: (E, T) arrays -> Dataset ----------------------------------------------------------

#: Result variables: name -> (units, layout, long name). Layouts: "time" (E, T); "typed"
#: (E, J, T); "cohort" (E, T, C[, J]); "static" (E,); "age" (E[, J], A).
_VARIABLES: dict[str, tuple[str, str, str]] = {
    "inflow": ("t/yr", "time", "inflow to use"),
    "stock": ("t", "time", "stock in use at the end of the year"),
    "outflow": ("t/yr", "time", "outflow from use"),
    "stock_target": ("t", "time", "target stock (input)"),
    "stock_excess": ("t", "time", "stock above its target after clipping negative inflow"),
    "inflow_clipped": ("t/yr", "time", "negative inflow set to zero (negative_inflow='clip')"),
    "retired_early": ("t/yr", "time", "stock retired early to meet a falling stock (in outflow)"),
    "inflow_by_type": ("t/yr", "typed", "inflow to use by type"),
    "stock_by_type": ("t", "typed", "stock in use at the end of the year by type"),
    "outflow_by_type": ("t/yr", "typed", "outflow from use by type"),
    "initial_stock": ("t", "static", "stock in use at the start of the first year"),
    "historic_inflow": ("t/yr", "age", "inflow of the historic cohort of each age (year t0 - 1 - age)"),
    "stock_by_cohort": ("t", "cohort", "stock in use by cohort (year of inflow)"),
    "outflow_by_cohort": ("t/yr", "cohort", "outflow by cohort (year of inflow)"),
}


def _dataset(lay: _Layout, arrays: dict[str, np.ndarray]) -> xr.Dataset:
    variables = {}
    for name, arr in arrays.items():
        units, layout, long_name = _VARIABLES[name]
        if layout == "time":
            variables[name] = lay.var(arr, units, long_name)
        elif layout == "typed":
            variables[name] = lay.var_typed(arr, units, long_name)
        elif layout == "cohort":
            variables[name] = lay.var_cohort(arr, units, long_name)
        elif layout == "static":
            variables[name] = lay.var_static(arr, units, long_name)
        else:
            variables[name] = lay.var_age(arr, units, long_name)
    ds = xr.Dataset(variables, coords=lay.da.coords)  # the input's coordinates, reused
    extra = dict(lay.extra_coords)
    if "stock_by_cohort" in arrays:
        extra["cohort"] = np.arange(lay.years[0] - lay.A, lay.years[-1] + 1)
    return ds.assign_coords(extra) if extra else ds


class _Hist:
    """An initial stock X (E, A) and what becomes of it: remaining stock and outflow (E, T),
    historic inflow (E, A), by-age stock and outflow (E, T, A) with ``by_cohort``."""

    def __init__(self, lay: _Layout, X: np.ndarray, group: np.ndarray, by_cohort: bool) -> None:
        self.X = X
        self.survival = _Historic(lay.disc, lay.A, lay.T)
        self.rem, self.out, self.inflow, self.rem_a, self.out_a = self.survival.flows(
            X, group, lay.describe, by_cohort)


def _with_history(bc: np.ndarray, hist_a: np.ndarray | None) -> np.ndarray:
    """Prepend historic cohorts (E, T, A by age) to a by-cohort array (E, T, T): oldest first."""
    return bc if hist_a is None else np.concatenate([hist_a[:, :, ::-1], bc], axis=2)


def inflow_driven(
    inflow: xr.DataArray,
    lifetime: LifetimeModel,
    *,
    initial_stock_by_age: xr.DataArray | None = None,
    by_cohort: bool = False,
    method: str = "auto",
    ensemble_dims: tuple[str, ...] = ("sample",),
) -> xr.Dataset:
    """Inflow-driven dynamic stock model.

    Parameters
    ----------
    inflow : xarray.DataArray
        Dims ``time`` (consecutive integer years, ascending) plus any others; a mass-flow unit
        (``attrs["units"]`` or pint data, e.g. ``"kt/yr"``). Must be finite and >= 0 (negative
        rounding noise is read as 0, see the module docstring).
    lifetime : mfa.core.lifetimes.LifetimeModel
        Parameters over any subset of the inflow's other dims, ``cohort`` (covering all model
        years), ``factor_by_year``, and dims listed in ``ensemble_dims``.
    initial_stock_by_age : xarray.DataArray, optional
        Stock at the start of the first year by ``age`` [mass] (module docstring).
    by_cohort : bool
        Also return ``stock_by_cohort`` [t] and ``outflow_by_cohort`` [t/yr] with dims
        ``(time, cohort, ...)`` (memory T x C x elements).
    method : {"auto", "blas", "lags"}
        Algorithm; all give the same result to rounding ("lags" only for lifetimes that vary
        neither by cohort nor by year; "toeplitz", the former name of "blas", is accepted).
    ensemble_dims : tuple of str
        Dims the lifetime may have and the inflow not, over which the model is run once per
        entry (alternative runs such as Monte Carlo ``sample``). Any other such dim is an error
        (it would multiply the mass).

    Returns
    -------
    xarray.Dataset
        ``stock`` [t] (end of year), ``outflow`` [t/yr], ``inflow`` [t/yr] (echoed, broadcast);
        with an initial stock also ``initial_stock`` [t] (the stock before the first year) and
        ``historic_inflow`` [t/yr] by ``age``. Pint in, pint out (module docstring).

    Raises
    ------
    mfa.core.units.UnitError
        Missing units or not a mass flow.
    mfa.core.errors.ParameterError
        NaN, negative values, unsorted or gappy time, incompatible lifetime parameters, a
        lifetime dim the inflow lacks (not in ``ensemble_dims``).
    """
    da, years = _prepare(inflow, "inflow", "t/yr", noise=True)
    units = _Units(inflow, "flow")
    A = 0 if initial_stock_by_age is None else _initial_ages(initial_stock_by_age)
    lay = _Layout(da, lifetime, years, "inflow", n_hist=A, ensemble_dims=ensemble_dims,
                  func="inflow_driven")
    X = lay.initial(initial_stock_by_age)
    hist = None if X is None else _Hist(lay, X, lay.group, by_cohort)
    stock, outflow = _convolve(lay.x, lay.structs, lay.group, method, out=(lay.spare(1), lay.spare(2)))
    arrays = {"inflow": lay.x, "stock": stock, "outflow": outflow}
    if hist is not None:
        stock += hist.rem
        outflow += hist.out
        arrays.update(initial_stock=X.sum(axis=1), historic_inflow=hist.inflow)
    if by_cohort:
        sbc, obc = _by_cohort(lay.x, lay.structs, lay.group)
        arrays["stock_by_cohort"] = _with_history(sbc, hist and hist.rem_a)
        arrays["outflow_by_cohort"] = _with_history(obc, hist and hist.out_a)
    return units.wrap(_dataset(lay, arrays))


def historic_inflow(
    initial_stock_by_age: xr.DataArray, lifetime: LifetimeModel, first_year: int
) -> xr.DataArray:
    """The inflows that left an initial stock by age (ODYM's ``compute_i_from_s``).

    Parameters
    ----------
    initial_stock_by_age : xarray.DataArray
        Stock [mass] at the start of ``first_year`` by ``age`` (age ``a`` = cohort
        ``first_year - 1 - a``) and any other dims.
    lifetime : mfa.core.lifetimes.LifetimeModel
        Lifetime of those cohorts (its ``inflow_at`` convention applies; a cohort-varying
        lifetime must cover the cohorts).
    first_year : int
        First model year (the stock is counted at the end of ``first_year - 1``).

    Returns
    -------
    xarray.DataArray
        ``stock / S[first_year - 1, c]`` [t/yr] with the dims of the stock (and of the
        lifetime) and a ``cohort`` coordinate along ``age``.

    Raises
    ------
    mfa.core.errors.ParameterError
        If a cohort holds stock although its survival is already 0.
    """
    A = _initial_ages(initial_stock_by_age)
    first_year = int(first_year)
    # The historic cohorts are the "model years" first_year - A .. first_year - 1 here.
    others = [d for d in initial_stock_by_age.dims if d != "age"]
    template = initial_stock_by_age.isel(age=0, drop=True)
    zeros = xr.zeros_like(template, dtype=float).expand_dims(time=[first_year - 1])
    zeros = zeros.transpose("time", *others).assign_attrs(units="t/yr")
    lay = _Layout(zeros, lifetime, np.array([first_year - 1]), "initial_stock_by_age",
                  n_hist=A - 1, ensemble_dims=tuple(lifetime.dims), func="historic_inflow")
    lay.A = A
    X = lay.initial(initial_stock_by_age)
    alive = np.empty((lay.disc.n_structures, A))
    for k in range(lay.disc.n_structures):
        F = lay.disc.matrices(np.array([k]))[0]
        alive[k] = F[A - 1, A - 1 - np.arange(A)]
    alive = alive[lay.group]
    dead = (alive <= 0) & (X > 0)
    if dead.any():
        e, age = np.argwhere(dead)[0]
        raise ParameterError(
            f"initial_stock_by_age: age {int(age)} holds {X[e, age]:.6g} t for "
            f"{lay.describe(int(e))}, but the lifetime leaves nothing of that cohort in use at the "
            "start of the first model year (survival 0)"
        )
    values = np.where(alive > 0, X / np.where(alive > 0, alive, 1.0), 0.0)
    out = xr.DataArray(
        values.reshape(*lay.shape, A),
        dims=(*lay.dims, "age"),
        coords={d: lay.coords[d] for d in lay.dims if d in lay.coords},
        attrs={"units": "t/yr", "long_name": "inflow of the historic cohort of each age"},
    )
    out = out.transpose(*initial_stock_by_age.dims, ...)
    return out.assign_coords(age=np.arange(A), cohort=("age", first_year - 1 - np.arange(A)))


def stock_driven(
    stock: xr.DataArray,
    lifetime: LifetimeModel,
    initial_stock_by_age: xr.DataArray | None = None,
    *,
    negative_inflow: NegativeInflowRule = "raise",
    type_shares: xr.DataArray | None = None,
    by_cohort: bool = False,
    method: str = "auto",
    ensemble_dims: tuple[str, ...] = ("sample",),
) -> xr.Dataset:
    """Stock-driven dynamic stock model: the inflow that keeps the stock on its path.

    Parameters
    ----------
    stock : xarray.DataArray
        Target stock at the end of each year, dims ``time`` (consecutive integer years) plus
        any others; a mass unit. Finite and >= 0.
    lifetime : mfa.core.lifetimes.LifetimeModel
        As in :func:`inflow_driven`. The survival at the end of the year of inflow must be > 0.
        With ``type_shares`` it has the type dim (one lifetime per type).
    initial_stock_by_age : xarray.DataArray, optional
        Stock at the start of the first year by ``age`` [mass]; new cohorts make up the rest.
        With ``type_shares`` it has the type dim.
    negative_inflow : {"raise", "warn", "clip", "retire"}
        What to do where the stock falls faster than its cohorts leave (module docstring).
    type_shares : xarray.DataArray, optional
        Type split (module docstring): shares [1] of the inflow of each year (dim ``time``,
        covering the model years) by one type dim that the stock lacks and the lifetime has;
        >= 0, summing to 1 over the types; optionally other dims of the stock.
    by_cohort : bool
        Also return ``stock_by_cohort`` and ``outflow_by_cohort`` (by type with a split).
    method : {"auto", "blas", "lags"}
        Algorithm for the outflow.
    ensemble_dims : tuple of str
        As in :func:`inflow_driven`.

    Returns
    -------
    xarray.Dataset
        ``inflow`` [t/yr], ``outflow`` [t/yr], ``stock`` [t] (the target, or with "clip" the
        stock actually reached); with "clip" also ``stock_target`` [t], ``stock_excess`` [t]
        and ``inflow_clipped`` [t/yr]; with "retire" ``retired_early`` [t/yr]; with an initial
        stock ``initial_stock`` [t] and ``historic_inflow`` [t/yr]; with a type split
        ``inflow_by_type``, ``stock_by_type`` and ``outflow_by_type``.

    Raises
    ------
    NegativeInflowError
        With ``negative_inflow="raise"``, naming the year and the element.
    mfa.core.units.UnitError, mfa.core.errors.ParameterError
        For bad units or values, as :func:`inflow_driven`.
    """
    _check_rule(negative_inflow)
    da, years = _prepare(stock, "stock", "t", noise=False)
    units = _Units(stock, "mass")
    A = 0 if initial_stock_by_age is None else _initial_ages(initial_stock_by_age)
    split = _split_dim(type_shares, da, lifetime)
    lay = _Layout(da, lifetime, years, "stock", n_hist=A, ensemble_dims=ensemble_dims,
                  split_dim=split, func="stock_driven")
    X = lay.initial(initial_stock_by_age)
    if split:
        arrays = _stock_driven_split(lay, type_shares, X, negative_inflow, by_cohort, method)
        return units.wrap(_dataset(lay, arrays))
    hist = None if X is None else _Hist(lay, X, lay.group, by_cohort)
    target = lay.x if hist is None else lay.x - hist.rem
    noise = NOISE * np.max(np.abs(lay.x), axis=1, keepdims=True)
    outflow = lay.spare(2)
    inflow = _solve(target, lay.structs, lay.group, lay.describe, years, out=lay.spare(1),
                    outflow=outflow if method != "lags" else None, noise=noise)
    redo = _negative_inflow(inflow, lay.x, negative_inflow, lay.describe, years)
    clip = negative_inflow == "clip"
    reached = None
    if clip or method == "lags":
        reached, outflow = _convolve(inflow, lay.structs, lay.group, method, stock=clip)
    if hist is not None:
        outflow += hist.out
        if clip:
            reached += hist.rem
    arrays = {"inflow": inflow, "stock": reached if clip else lay.x, "outflow": outflow}
    if by_cohort:
        sbc, obc = _by_cohort(inflow, lay.structs, lay.group)
        arrays["stock_by_cohort"] = _with_history(sbc, hist and hist.rem_a)
        arrays["outflow_by_cohort"] = _with_history(obc, hist and hist.out_a)
    extra = np.zeros_like(lay.x) if negative_inflow in ("clip", "retire") else None
    if redo.size:
        hist_arg = None if hist is None else ([hist.survival], hist.X[:, :, None])
        solved = _solve_again(lay.x, redo, lay.structs, lay.group, None, hist_arg,
                              negative_inflow, by_cohort)
        inflow[redo] = solved["inflow"]
        outflow[redo] = solved["outflow"][..., 0]
        if clip:
            reached[redo] = solved["stock"][..., 0]
        extra[redo] = solved["clipped" if clip else "retired"]
        if by_cohort:
            arrays["stock_by_cohort"][redo] = solved["stock_bc"][..., 0]
            arrays["outflow_by_cohort"][redo] = solved["outflow_bc"][..., 0]
    if clip:
        arrays.update(stock_target=lay.x.copy(), stock_excess=np.maximum(reached - lay.x, 0.0),
                      inflow_clipped=extra)
    elif negative_inflow == "retire":
        arrays["retired_early"] = extra
    if hist is not None:
        arrays.update(initial_stock=X.sum(axis=1), historic_inflow=hist.inflow)
    return units.wrap(_dataset(lay, arrays))


# --- type split -------------------------------------------------------------------------------


def _split_dim(shares: Any, stock: xr.DataArray, lifetime: LifetimeModel) -> str | None:
    if shares is None:
        return None
    if not isinstance(shares, xr.DataArray) or "time" not in shares.dims:
        raise ParameterError("type_shares: expected an xarray.DataArray with a 'time' dim and a type dim")
    dims = [d for d in shares.dims if d != "time" and d not in stock.dims]
    if len(dims) != 1:
        raise ParameterError(
            f"type_shares: needs exactly one type dim that the stock lacks, got {dims} (dims "
            f"{shares.dims}, stock dims {stock.dims})"
        )
    if not isinstance(lifetime, LifetimeModel) or dims[0] not in lifetime.dims:
        raise ParameterError(
            f"type_shares: the lifetime has no {dims[0]!r} dim; give one lifetime per type"
        )
    return dims[0]


def _split_shares(lay: _Layout, shares: xr.DataArray) -> np.ndarray:
    """Validated type shares laid out as (E, T, J)."""
    name = "type_shares"
    split = lay.split_dim
    years = _check_time(shares, name) if "time" in shares.coords else None
    if years is None or np.setdiff1d(lay.years, years).size:
        raise ParameterError(f"{name}: must cover the model years {int(lay.years[0])}..{int(lay.years[-1])}")
    shares = shares.sel(time=lay.years)
    if isinstance(shares.data, pint.Quantity) or "units" in shares.attrs:
        shares = to_canonical(shares, "1", name=name)
    for d, v in _dim_coords(shares).items():
        if d in lay.coords and d != "time" and not np.array_equal(lay.coords[d], v):
            raise ParameterError(f"{name}: coordinate {d!r} differs from the model's: {v[:6].tolist()}")
    values = np.asarray(shares.values, dtype=float)
    if not np.all(np.isfinite(values)) or values.min() < 0:
        raise ParameterError(f"{name}: shares must be finite and >= 0")
    total = shares.sum(split)
    off = np.abs(np.asarray(total.values) - 1.0) > 1e-9
    if off.any():
        i = int(np.flatnonzero(off.ravel())[0])
        where = _describe(total.dims, _dim_coords(total), total.shape)(i)
        raise ParameterError(
            f"{name}: shares must sum to 1 over {split!r}; they sum to "
            f"{float(np.asarray(total.values).ravel()[i]):.6g} at {where}"
        )
    sh = _expand(values, shares.dims, (*lay.dims, "time", split))
    J = shares.sizes[split]
    return np.ascontiguousarray(np.broadcast_to(sh, (*lay.shape, lay.T, J))).reshape(lay.E, lay.T, J)


def _mixture(lay: _Layout, shares: np.ndarray) -> tuple[_Structures, np.ndarray]:
    """Survival of the total inflow, ``sum_j shares[c, j] S_j[t, c]``, per distinct combination."""
    J, T = lay.group.shape[1], lay.T
    keys = np.concatenate([lay.group.astype(float), shares.reshape(lay.E, -1)], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)

    def build(ks: np.ndarray) -> np.ndarray:
        out = np.zeros((ks.size, T, T))
        for i, k in enumerate(ks):
            sh = unique[k, J:].reshape(T, J)
            for j in range(J):
                out[i] += sh[None, :, j] * lay.structs.survival(int(unique[k, j]))
        return out

    return _Structures(T, unique.shape[0], build=build), np.asarray(inverse).reshape(-1)


def _stock_driven_split(
    lay: _Layout, type_shares: xr.DataArray, X: np.ndarray | None, rule: str, by_cohort: bool,
    method: str,
) -> dict[str, np.ndarray]:
    """Stock-driven model with a type split: result arrays (module docstring, Type split)."""
    E, T = lay.E, lay.T
    shares = _split_shares(lay, type_shares)  # (E, T, J)
    J = shares.shape[2]
    groups = [np.ascontiguousarray(lay.group[:, j]) for j in range(J)]
    hists = None if X is None else [_Hist(lay, X[:, j], groups[j], by_cohort) for j in range(J)]
    target = lay.x if hists is None else lay.x - sum(h.rem for h in hists)
    mix, mix_group = _mixture(lay, shares)
    inflow = _solve(target, mix, mix_group, lay.describe, lay.years)
    redo = _negative_inflow(inflow, lay.x, rule, lay.describe, lay.years)
    typed = inflow[:, None, :] * np.moveaxis(shares, 2, 1)  # (E, J, T)
    stock_j, out_j = np.empty((E, J, T)), np.empty((E, J, T))
    sbc_j, obc_j = [], []
    for j in range(J):
        xj = np.ascontiguousarray(typed[:, j])
        stock_j[:, j], out_j[:, j] = _convolve(xj, lay.structs, groups[j], method)
        if hists is not None:
            stock_j[:, j] += hists[j].rem
            out_j[:, j] += hists[j].out
        if by_cohort:
            sbc, obc = _by_cohort(xj, lay.structs, groups[j])
            sbc_j.append(_with_history(sbc, hists and hists[j].rem_a))
            obc_j.append(_with_history(obc, hists and hists[j].out_a))
    arrays = {"inflow": inflow}
    if by_cohort:
        arrays["stock_by_cohort"] = np.stack(sbc_j, axis=-1)
        arrays["outflow_by_cohort"] = np.stack(obc_j, axis=-1)
    extra = np.zeros((E, T))
    if redo.size:
        hist_arg = None if X is None else ([h.survival for h in hists], np.moveaxis(X, 1, 2))
        solved = _solve_again(lay.x, redo, [lay.structs] * J, groups, shares, hist_arg, rule, by_cohort)
        inflow[redo] = solved["inflow"]
        typed[redo] = inflow[redo][:, None, :] * np.moveaxis(shares[redo], 2, 1)
        stock_j[redo] = np.moveaxis(solved["stock"], 2, 1)
        out_j[redo] = np.moveaxis(solved["outflow"], 2, 1)
        extra[redo] = solved["clipped" if rule == "clip" else "retired"]
        if by_cohort:
            arrays["stock_by_cohort"][redo] = solved["stock_bc"]
            arrays["outflow_by_cohort"][redo] = solved["outflow_bc"]
    stock = stock_j.sum(axis=1)
    arrays.update(stock=stock if rule == "clip" else lay.x, outflow=out_j.sum(axis=1),
                  inflow_by_type=typed, stock_by_type=stock_j, outflow_by_type=out_j)
    if rule == "clip":
        arrays.update(stock_target=lay.x.copy(), stock_excess=np.maximum(stock - lay.x, 0.0),
                      inflow_clipped=extra)
    elif rule == "retire":
        arrays["retired_early"] = extra
    if X is not None:
        arrays.update(initial_stock=X.sum(axis=(1, 2)),
                      historic_inflow=np.stack([h.inflow for h in hists], axis=1))
    return arrays
