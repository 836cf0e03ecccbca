"""Dynamic stock models: inflow-driven and stock-driven, with an optional initial stock by age.

Conventions (see :mod:`mfa.core.lifetimes`): years are whole; the inflow of year ``c`` enters in the
middle of the year; ``stock[t]`` is the stock at the end of year ``t``; the share of cohort ``c``
in use at the end of year ``t`` is ``S[t, c] = sf(t - c + 0.5)``, or ``s[t - c]`` for a lifetime
that does not vary with the cohort. Then::

    stock[t]   = sum_{c <= t} inflow[c] * S[t, c]                          [t]
    outflow[t] = sum_{c <= t} inflow[c] * (S[t-1, c] - S[t, c])            [t/yr]  (S[c-1, c] = 1)
               = inflow[t] - (stock[t] - stock[t-1])                       (stock[first-1] = initial)

Both sums are evaluated directly (each is a sum of non-negative terms, so accurate to rounding
element by element, as flodym does); the mass balance then holds to ~1e-15 of the stock.

Speed
-----
Inside, everything is plain float64 numpy over an ``(elements, time)`` array, where *elements* are
all other dims flattened (region x product x sample ...). Survival curves are computed once per
distinct lifetime parameter set (:meth:`mfa.core.lifetimes.LifetimeModel.survival_curves`). For a
lifetime that does not vary with cohort, ``S`` is Toeplitz and the stock is a convolution:

* few distinct curves (``K * T * T`` small): one lower-triangular Toeplitz matrix per distinct
  curve, all elements sharing it in one batched matrix product (``method="toeplitz"``);
* many distinct curves (Monte Carlo, a lifetime per sample): a loop over the ``T`` lags, each an
  array operation over all elements (``method="lags"``); memory O(T x elements), no T x T.
  FFT convolution was not used: its rounding error is relative to the largest value, not to
  each element, and breaks the 1e-12 element-wise agreement with flodym for small early values.

Cohort-varying lifetimes use the lag loop with a gathered coefficient per (element, cohort), so
``T x T x elements`` is never built unless ``by_cohort=True`` asks for it.

Stock-driven models solve the lower-triangular system by forward substitution over time
(T steps, each vectorised over all elements).

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

Values within ``1e-12 x max|stock|`` of zero (per element) count as rounding noise, not as
negative inflow, and are left unchanged.

Initial stock by age
--------------------
``initial_stock_by_age`` (dims ``age`` plus any subset of the other dims, mass units) is the
stock in use at the *start* of the first model year ``t0`` (= end of ``t0 - 1``): age ``a`` is the
cohort that entered in year ``t0 - 1 - a``. Its share left at the end of year ``t`` is
``s[t - c] / s[a]`` (conditional survival with the lifetime of the first model cohort if the
lifetime is cohort-varying); a cohort with ``s[a] = 0`` leaves entirely in ``t0``. Its outflow is
included in ``outflow``; the mass balance uses ``stock[t0 - 1]`` = the initial total, which is
returned as ``initial_stock``.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import xarray as xr

from mfa.core.errors import MfaError, ParameterError
from mfa.core.lifetimes import LifetimeModel, _select_cohorts
from mfa.core.units import to_canonical

__all__ = [
    "TOEPLITZ_MAX_BYTES",
    "NegativeInflowError",
    "NegativeInflowWarning",
    "inflow_driven",
    "inflow_driven_array",
    "outflow_kernel",
    "stock_driven",
    "stock_driven_array",
]

#: Largest total size [bytes] of the Toeplitz matrices built by ``method="auto"``; above it the
#: lag loop is used (measured crossover: see benchmarks/README.md).
TOEPLITZ_MAX_BYTES = 48 * 2**20

NegativeInflowRule = Literal["raise", "warn", "clip"]


class NegativeInflowError(MfaError):
    """A stock-driven model needs a negative inflow (the stock falls faster than cohorts leave)."""


class NegativeInflowWarning(UserWarning):
    """Negative inflows were kept in a stock-driven model (``negative_inflow="warn"``)."""


# ---------------------------------------------------------------------------------------------
# numpy kernels. Shapes: x (E, T) elements x time; curves (K, n >= T); group (E,) int for
# cohort-independent lifetimes, (E, T) int (element, cohort) for cohort-varying ones.
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


def _toeplitz_stack(kernels: np.ndarray) -> np.ndarray:
    """``B[g, c, j*T + t] = kernels[j, g, t - c]`` for ``t >= c``, else 0; shape (K, T, J*T).

    Built from a strided view of the zero-padded kernels (no index arrays), one copy.
    """
    J, K, T = kernels.shape
    w = np.zeros((K, J, 2 * T - 1))
    w[:, :, T - 1 :] = kernels.transpose(1, 0, 2)
    s0, s1, s2 = w.strides
    view = np.lib.stride_tricks.as_strided(
        w[:, :, T - 1 :], shape=(K, T, J, T), strides=(s0, -s2, s1, s2), writeable=False
    )
    return np.ascontiguousarray(view).reshape(K, T, J * T)


def _conv_toeplitz(x: np.ndarray, kernels: np.ndarray, group: np.ndarray) -> np.ndarray:
    """y[j, e, t] = sum_{c<=t} kernels[j, group[e], t - c] * x[e, c] by batched Toeplitz matmul."""
    J, K, _ = kernels.shape
    E, T = x.shape
    B = _toeplitz_stack(kernels)  # (K, T, J*T)
    if K == 1:
        y = x @ B[0]
    else:
        counts = np.bincount(group, minlength=K)
        m = int(counts.max())
        order = np.argsort(group, kind="stable")
        gs = group[order]
        starts = np.cumsum(counts) - counts
        pos = np.arange(E) - starts[gs]
        y = np.empty((E, J * T))
        if K * m <= 2 * E + K:  # little padding: one batched matmul
            xp = np.zeros((K, m, T))
            xp[gs, pos] = x[order]
            y[order] = np.matmul(xp, B)[gs, pos]
        else:  # very uneven groups: one matmul per distinct curve
            bounds = np.concatenate([starts, [E]])
            for g in np.flatnonzero(counts):
                rows = order[bounds[g] : bounds[g + 1]]
                y[rows] = x[rows] @ B[g]
    return y.reshape(E, J, T).transpose(1, 0, 2)


def _conv_lags(x: np.ndarray, kernels: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Same as :func:`_conv_toeplitz` by a loop over lags; ``group`` may be (E,) or (E, T)."""
    J = kernels.shape[0]
    E, T = x.shape
    xt = np.ascontiguousarray(x.T)  # (T, E)
    y = np.zeros((J, T, E))
    tmp = np.empty((T, E))
    if group.ndim == 1:
        coef = np.ascontiguousarray(kernels[:, group, :T].transpose(0, 2, 1))  # (J, T lag, E)
        for k in range(T):
            for j in range(J):
                np.multiply(xt[: T - k], coef[j, k], out=tmp[: T - k])
                y[j, k:] += tmp[: T - k]
    else:
        gt = np.ascontiguousarray(group.T)  # (T cohort, E)
        for k in range(T):
            for j in range(J):
                np.multiply(xt[: T - k], kernels[j, gt[: T - k], k], out=tmp[: T - k])
                y[j, k:] += tmp[: T - k]
    return y.transpose(0, 2, 1)


def _convolve(
    x: np.ndarray, curves: np.ndarray, group: np.ndarray, method: str = "auto", stock: bool = True
) -> tuple[np.ndarray | None, np.ndarray]:
    """Stock and outflow of inflow ``x`` (E, T) for survival ``curves`` (K, >=T) by ``group``.

    With ``stock=False`` only the outflow is computed (the stock is returned as None).
    """
    T = x.shape[1]
    s = curves[:, :T]
    kernels = np.stack([s, outflow_kernel(s)] if stock else [outflow_kernel(s)])  # (J, K, T)
    if method == "auto":
        toeplitz_ok = group.ndim == 1 and 2 * kernels.shape[1] * T * T * 8 <= TOEPLITZ_MAX_BYTES
        method = "toeplitz" if toeplitz_ok else "lags"
    if method == "toeplitz":
        if group.ndim != 1:
            raise ValueError("method='toeplitz' needs a cohort-independent lifetime")
        y = _conv_toeplitz(x, kernels, group)
    elif method == "lags":
        y = _conv_lags(x, kernels, group)
    else:
        raise ValueError(f"method must be 'auto', 'toeplitz' or 'lags', got {method!r}")
    return (y[0], y[1]) if stock else (None, y[0])


def _initial_stock(
    init: np.ndarray, curves: np.ndarray, group: np.ndarray, T: int, by_cohort: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Remaining stock and outflow (E, T) of an initial stock by age ``init`` (E, A).

    ``curves`` (K, >= A + T) and ``group`` (E,) give the survival of the historic cohorts. With
    ``by_cohort`` also returns (E, A, T) arrays of the remaining stock and the outflow per age.
    """
    E, A = init.shape
    rem = np.zeros((E, T))
    out = np.zeros((E, T))
    rem_a = np.zeros((E, A, T)) if by_cohort else None
    out_a = np.zeros((E, A, T)) if by_cohort else None
    for a in range(A):
        sa = curves[:, a : a + 1]  # (K, 1)
        alive = sa > 0
        safe = np.where(alive, sa, 1.0)
        ratio = np.where(alive, curves[:, a + 1 : a + 1 + T] / safe, 0.0)  # (K, T)
        leave = np.where(alive, (curves[:, a : a + T] - curves[:, a + 1 : a + 1 + T]) / safe, 0.0)
        leave[:, 0] = np.where(alive[:, 0], leave[:, 0], 1.0)
        r = init[:, a : a + 1] * ratio[group]
        o = init[:, a : a + 1] * leave[group]
        rem += r
        out += o
        if by_cohort:
            rem_a[:, a] = r
            out_a[:, a] = o
    return rem, out, rem_a, out_a


def _by_cohort(
    x: np.ndarray, curves: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Stock and outflow by cohort, arrays (E, T time, T cohort)."""
    T = x.shape[1]
    lag = np.arange(T)[:, None] - np.arange(T)[None, :]  # [t, c]
    lower = lag >= 0
    lag0 = np.where(lower, lag, 0)
    s = curves[:, :T]
    d = outflow_kernel(s)
    if group.ndim == 1:
        g = group[:, None, None]
    else:
        g = group[:, None, :]  # (E, 1, T cohort)
    sbc = s[g, lag0[None]] * lower * x[:, None, :]
    obc = d[g, lag0[None]] * lower * x[:, None, :]
    return sbc, obc


def _flatten_survival(survival: np.ndarray, lead_shape: tuple[int, ...], T: int) -> tuple[np.ndarray, np.ndarray]:
    """Survival (..., >=T) broadcastable to ``lead_shape`` -> distinct curves and group (E,)."""
    surv = np.asarray(survival, dtype=float)
    if surv.shape[-1] < T:
        raise ValueError(f"survival has {surv.shape[-1]} ages, needs at least {T} (the time axis)")
    lead = surv.shape[:-1]
    try:
        np.broadcast_shapes(lead, lead_shape)
    except ValueError:
        raise ValueError(
            f"survival shape {surv.shape} does not broadcast to the inflow shape {(*lead_shape, T)}"
        ) from None
    if np.broadcast_shapes(lead, lead_shape) != tuple(lead_shape):
        raise ValueError(f"survival shape {surv.shape} would enlarge the inflow shape {lead_shape}")
    rows = surv.reshape(-1, surv.shape[-1])
    curves, inv = np.unique(rows, axis=0, return_inverse=True)
    ids = np.asarray(inv).reshape(-1).reshape(lead) if lead else np.asarray(inv).reshape(())
    group = np.broadcast_to(ids, lead_shape).reshape(-1)
    return curves, np.ascontiguousarray(group)


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
    method : {"auto", "toeplitz", "lags"}
        Convolution algorithm (same results); "auto" picks by the number of distinct curves.

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
    stock, outflow = _convolve(x.reshape(-1, T), curves, group, method)
    return stock.reshape(x.shape), outflow.reshape(x.shape)


def _forward_substitution(
    target: np.ndarray,
    curves: np.ndarray,
    group: np.ndarray,
    rule: str,
    describe: Any = None,
    years: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``sum_c inflow[c] S[t, c] = target[t]`` (E, T) for the inflow, year by year.

    Returns (inflow, clipped) with ``clipped`` >= 0 the negative inflow removed (rule "clip").
    """
    E, T = target.shape
    years = np.arange(T) if years is None else years
    describe = describe or (lambda e: f"element {np.unravel_index(e, (E,))}")
    tgt = np.ascontiguousarray(target.T)  # (T, E)
    inflow = np.zeros((T, E))
    clipped = np.zeros((T, E))
    tol = 1e-12 * np.max(np.abs(tgt), axis=0)
    cohort_varying = group.ndim == 2
    if cohort_varying:
        gt = np.ascontiguousarray(group.T)  # (T cohort, E)
        s0 = curves[gt, 0]  # (T, E): diagonal S[t, t]
    else:
        s_rev = np.ascontiguousarray(curves[group, :T][:, ::-1].T)  # (T, E): row T-1-k = lag k
        s0 = np.broadcast_to(s_rev[T - 1], (T, E))
    if np.any(s0 <= 0):
        t_bad, e_bad = np.argwhere(s0 <= 0)[0]
        raise ParameterError(
            "stock_driven: the lifetime leaves nothing in use at the end of the year of inflow "
            f"(survival s[0] = 0, e.g. a fixed lifetime below 0.5 yr) for {describe(e_bad)}, "
            f"cohort {years[t_bad]}; no inflow can build the stock"
        )
    warned: list[tuple[int, int, float]] = []
    for t in range(T):
        if t == 0:
            survivors = 0.0
        elif cohort_varying:
            coef = curves[gt[:t], t - np.arange(t)[:, None]]  # (t, E)
            survivors = np.einsum("ce,ce->e", coef, inflow[:t])
        else:
            survivors = np.einsum("ce,ce->e", s_rev[T - 1 - t : T - 1], inflow[:t])
        x = (tgt[t] - survivors) / s0[t]
        neg = x < -tol
        if neg.any():
            e_first = int(np.flatnonzero(neg)[0])
            if rule == "raise":
                raise NegativeInflowError(
                    f"stock_driven: the stock falls faster than its cohorts leave, so the inflow "
                    f"would be negative ({x[e_first]:.6g} t/yr) in year {years[t]} for "
                    f"{describe(e_first)} ({int(neg.sum())} element(s) that year). Choose "
                    "negative_inflow='warn' to keep negative inflows or 'clip' to set them to 0 "
                    "(the stock then exceeds its target)."
                )
            if rule == "clip":
                clipped[t] = np.where(neg, -x, 0.0)
                x = np.where(neg, 0.0, x)
            else:
                warned.append((t, e_first, float(x[neg].min())))
        inflow[t] = x
    if warned:
        t0, e0, _ = warned[0]
        worst = min(w[2] for w in warned)
        warnings.warn(
            f"stock_driven: negative inflow kept in {len(warned)} year(s), first in year "
            f"{years[t0]} for {describe(e0)}; minimum {worst:.6g} t/yr",
            NegativeInflowWarning,
            stacklevel=3,
        )
    return inflow.T, clipped.T


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
    negative_inflow : {"raise", "warn", "clip"}
        Rule for years where the stock falls faster than its cohorts leave (module docstring).

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
    shape = lead if lead else (1,)

    def describe(e: int) -> str:
        return f"element {tuple(int(i) for i in np.unravel_index(e, shape))}"

    inflow, _ = _forward_substitution(tgt.reshape(-1, T), curves, group, negative_inflow, describe)
    clip = negative_inflow == "clip"
    actual, outflow = _convolve(inflow, curves, group, method, stock=clip)
    if not clip:
        actual = tgt.reshape(-1, T)
    return inflow.reshape(tgt.shape), outflow.reshape(tgt.shape), actual.reshape(tgt.shape)


def _check_rule(rule: str) -> None:
    if rule not in ("raise", "warn", "clip"):
        raise ParameterError(
            f"negative_inflow must be 'raise', 'warn' or 'clip', got {rule!r}"
        )


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
    if "time" not in da.coords:
        raise ParameterError(f"{name}: the 'time' dimension needs a coordinate of integer years")
    years = np.asarray(da["time"].values)
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


def _check_values(values: np.ndarray, da: xr.DataArray, name: str, nonneg: bool = True) -> None:
    bad = ~np.isfinite(values)
    label = _describe(da.dims, {d: da[d].values for d in da.dims if d in da.coords}, da.shape)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ParameterError(f"{name}: NaN or infinite value at {label(i)} ({int(bad.sum())} in all)")
    if nonneg:
        neg = values < 0
        if neg.any():
            i = int(np.flatnonzero(neg.ravel())[0])
            raise ParameterError(
                f"{name}: negative value {values.ravel()[i]:.6g} at {label(i)} "
                f"({int(neg.sum())} in all); must be >= 0"
            )


def _expand(values: np.ndarray, dims: tuple[str, ...], target: tuple[str, ...]) -> np.ndarray:
    """Reorder ``values`` (with ``dims``) to ``target`` order, adding length-1 axes for missing dims."""
    present = [d for d in target if d in dims]
    arr = np.transpose(values, [dims.index(d) for d in present])
    shape = [arr.shape[present.index(d)] if d in dims else 1 for d in target]
    return arr.reshape(shape)


def _coord_values(da: xr.DataArray) -> dict[str, np.ndarray]:
    return {d: np.asarray(da[d].values) for d in da.dims if d in da.coords}


def _merge_coords(
    a: xr.DataArray, b: xr.DataArray, what_a: str, what_b: str, skip: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """Union of the dim coordinates of ``a`` and ``b``; shared dims must match exactly."""
    coords = _coord_values(a)
    for d, v in _coord_values(b).items():
        if d in skip:
            continue
        if d in coords and (coords[d].shape != v.shape or not np.array_equal(coords[d], v)):
            raise ParameterError(
                f"{what_a} and {what_b} have different {d!r} coordinates: "
                f"{coords[d][:6].tolist()} vs {v[:6].tolist()} (they must be identical)"
            )
        coords.setdefault(d, v)
    for d in set(a.dims) & set(b.dims) - set(skip):
        if a.sizes[d] != b.sizes[d]:
            raise ParameterError(f"{what_a} and {what_b} have different lengths along {d!r}")
    return coords


class _Layout:
    """Lay out an input (time + dims) and a lifetime model as (elements, time) numpy arrays."""

    def __init__(self, da: xr.DataArray, lifetime: LifetimeModel, years: np.ndarray, name: str):
        if not isinstance(lifetime, LifetimeModel):
            raise ParameterError(
                f"lifetime must be an mfa.core.lifetimes.LifetimeModel (e.g. Normal(mean=10, sd=3)), "
                f"got {type(lifetime).__name__}"
            )
        self.years = years
        self.T = T = years.size
        self.lifetime = lifetime
        self.cohort_varying = lifetime.cohort_varying
        self.curves, index = lifetime.survival_curves(T)
        what = f"{type(lifetime).__name__} lifetime parameters"
        if self.cohort_varying:
            index = _select_cohorts(index, years, type(lifetime).__name__)
        idx_dims = tuple(d for d in index.dims if d != "cohort")
        da_other = tuple(d for d in da.dims if d != "time")
        self.other_dims = da_other + tuple(d for d in idx_dims if d not in da_other)
        self.coords = _merge_coords(da, index, name, what, skip=("cohort",))
        self.coords.pop("cohort", None)
        sizes = {**dict(index.sizes), **dict(da.sizes)}
        self.shape = tuple(sizes[d] for d in self.other_dims)
        self.E = int(np.prod(self.shape)) if self.shape else 1
        x = _expand(np.asarray(da.values, dtype=float), da.dims, (*self.other_dims, "time"))
        self.x = np.ascontiguousarray(np.broadcast_to(x, (*self.shape, T))).reshape(self.E, T)
        if self.cohort_varying:
            g = _expand(index.values, index.dims, (*self.other_dims, "cohort"))
            self.group = np.ascontiguousarray(np.broadcast_to(g, (*self.shape, T))).reshape(self.E, T)
        else:
            g = _expand(index.values, index.dims, self.other_dims)
            self.group = np.ascontiguousarray(np.broadcast_to(g, self.shape)).reshape(self.E)
        # Output dims: the input's own order, then dims only the lifetime has.
        self.out_dims = tuple(da.dims) + tuple(d for d in self.other_dims if d not in da_other)
        self.time_pos = self.out_dims.index("time")
        self.describe = _describe(self.other_dims, self.coords, self.shape)

    def var(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E, T) array, in the output dim order."""
        data = np.moveaxis(arr.reshape((*self.shape, self.T)), -1, self.time_pos)
        return (self.out_dims, data, {"units": units, "long_name": long_name})

    def var_cohort(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        """(dims, data, attrs) for an (E, T time, C cohort) array: dims (time, cohort, ...)."""
        data = arr.reshape((*self.shape, *arr.shape[1:]))
        data = np.moveaxis(data, (-2, -1), (0, 1))
        return (("time", "cohort", *self.other_dims), data, {"units": units, "long_name": long_name})

    def var_static(self, arr: np.ndarray, units: str, long_name: str) -> tuple:
        return (self.other_dims, arr.reshape(self.shape), {"units": units, "long_name": long_name})

    def dataset(self, variables: dict[str, tuple], cohorts: np.ndarray | None = None) -> xr.Dataset:
        coords: dict[str, Any] = {**self.coords, "time": self.years}
        if cohorts is not None:
            coords["cohort"] = cohorts
        return xr.Dataset(variables, coords=coords)

    def initial(self, init: Any, name: str = "initial_stock_by_age"):
        """Validate and lay out an initial stock by age -> (X (E, A), ages, curves, group)."""
        if init is None:
            return None
        if not isinstance(init, xr.DataArray):
            raise ParameterError(
                f"{name}: expected an xarray.DataArray with dim 'age', got {type(init).__name__}"
            )
        if "age" not in init.dims:
            raise ParameterError(
                f"{name}: needs an 'age' dimension (whole years; age 0 = entered in the year "
                "before the first model year)"
            )
        extra = [d for d in init.dims if d != "age" and d not in self.other_dims]
        if extra:
            raise ParameterError(f"{name}: dims {extra} are not dims of the stock model {self.other_dims}")
        init = to_canonical(init, "t", name=name)
        A = init.sizes["age"]
        ages = np.asarray(init["age"].values) if "age" in init.coords else np.arange(A)
        if not np.issubdtype(ages.dtype, np.number) or not np.array_equal(ages, np.arange(A)):
            raise ParameterError(f"{name}: age coordinate must be 0, 1, 2, ... (consecutive whole years)")
        values = np.asarray(init.values, dtype=float)
        _check_values(values, init, name)
        for d, v in _coord_values(init).items():
            if d != "age" and d in self.coords and not np.array_equal(self.coords[d], v):
                raise ParameterError(f"{name}: coordinate {d!r} differs from the model's: {v[:6].tolist()}")
        X = _expand(values, init.dims, (*self.other_dims, "age"))
        X = np.ascontiguousarray(np.broadcast_to(X, (*self.shape, A))).reshape(self.E, A)
        # Survival of historic cohorts: the first model cohort's parameters if cohort-varying.
        select = {"cohort": int(self.years[0])} if self.cohort_varying else None
        curves, index = self.lifetime.survival_curves(A + self.T, select=select)
        g = _expand(index.values, index.dims, self.other_dims)
        group = np.ascontiguousarray(np.broadcast_to(g, self.shape)).reshape(self.E)
        return X, ages, curves, group


def _prepare(da: Any, name: str, target_unit: str) -> tuple[xr.DataArray, np.ndarray]:
    if not isinstance(da, xr.DataArray):
        raise ParameterError(
            f"{name}: expected an xarray.DataArray with a 'time' dim, got {type(da).__name__}"
        )
    years = _check_time(da, name)
    da = to_canonical(da, target_unit, name=name)
    _check_values(np.asarray(da.values, dtype=float), da, name)
    return da, years


def inflow_driven(
    inflow: xr.DataArray,
    lifetime: LifetimeModel,
    *,
    initial_stock_by_age: xr.DataArray | None = None,
    by_cohort: bool = False,
    method: str = "auto",
) -> xr.Dataset:
    """Inflow-driven dynamic stock model.

    Parameters
    ----------
    inflow : xarray.DataArray
        Dims ``time`` (consecutive integer years, ascending) plus any others; a mass-flow unit
        (``attrs["units"]`` or pint data, e.g. ``"kt/yr"``), converted to t/yr. Must be finite
        and >= 0.
    lifetime : mfa.core.lifetimes.LifetimeModel
        Parameters over any subset of the inflow's other dims, ``cohort`` (covering all model
        years) and/or extra dims such as ``sample`` (the result is broadcast over them).
    initial_stock_by_age : xarray.DataArray, optional
        Stock at the start of the first year by ``age`` [mass] (module docstring).
    by_cohort : bool
        Also return ``stock_by_cohort`` [t] and ``outflow_by_cohort`` [t/yr] with dims
        ``(time, cohort, ...)`` (memory T x C x elements).
    method : {"auto", "toeplitz", "lags"}
        Convolution algorithm; all give the same result.

    Returns
    -------
    xarray.Dataset
        ``stock`` [t] (end of year), ``outflow`` [t/yr], ``inflow`` [t/yr] (echoed, broadcast);
        with an initial stock also ``initial_stock`` [t] (the stock before the first year).

    Raises
    ------
    mfa.core.units.UnitError
        Missing units or not a mass flow.
    mfa.core.errors.ParameterError
        NaN, negative values, unsorted or gappy time, incompatible lifetime parameters.
    """
    da, years = _prepare(inflow, "inflow", "t/yr")
    lay = _Layout(da, lifetime, years, "inflow")
    init = lay.initial(initial_stock_by_age)
    stock, outflow = _convolve(lay.x, lay.curves, lay.group, method)
    variables = {"inflow": lay.var(lay.x, "t/yr", "inflow to use")}
    cohorts = _add_initial(variables, lay, init, lay.x, stock, outflow, by_cohort)
    return lay.dataset(variables, cohorts)


def _add_initial(
    variables: dict, lay: _Layout, init, x: np.ndarray, stock: np.ndarray, outflow: np.ndarray,
    by_cohort: bool,
) -> np.ndarray | None:
    """Add stock and outflow (with the initial stock's part) and by-cohort arrays to ``variables``."""
    cohorts = lay.years
    hist_rem_a = hist_out_a = None
    if init is not None:
        X, ages, curves_h, group_h = init
        rem, out, hist_rem_a, hist_out_a = _initial_stock(X, curves_h, group_h, lay.T, by_cohort)
        stock = stock + rem
        outflow = outflow + out
        variables["initial_stock"] = lay.var_static(
            X.sum(axis=1), "t", "stock in use at the start of the first year"
        )
        cohorts = np.concatenate([lay.years[0] - 1 - ages[::-1], lay.years])
    variables["stock"] = lay.var(stock, "t", "stock in use at the end of the year")
    variables["outflow"] = lay.var(outflow, "t/yr", "outflow from use")
    if not by_cohort:
        return None
    sbc, obc = _by_cohort(x, lay.curves, lay.group)  # (E, T time, T cohort)
    if hist_rem_a is not None:
        # historic (E, A, T) with age a -> cohort t0-1-a; oldest first on the cohort axis.
        sbc = np.concatenate([hist_rem_a[:, ::-1].transpose(0, 2, 1), sbc], axis=2)
        obc = np.concatenate([hist_out_a[:, ::-1].transpose(0, 2, 1), obc], axis=2)
    variables["stock_by_cohort"] = lay.var_cohort(sbc, "t", "stock in use by cohort (year of inflow)")
    variables["outflow_by_cohort"] = lay.var_cohort(obc, "t/yr", "outflow by cohort (year of inflow)")
    return cohorts


def stock_driven(
    stock: xr.DataArray,
    lifetime: LifetimeModel,
    initial_stock_by_age: xr.DataArray | None = None,
    *,
    negative_inflow: NegativeInflowRule = "raise",
    by_cohort: bool = False,
    method: str = "auto",
) -> xr.Dataset:
    """Stock-driven dynamic stock model: the inflow that keeps the stock on its path.

    Parameters
    ----------
    stock : xarray.DataArray
        Target stock at the end of each year, dims ``time`` (consecutive integer years) plus
        any others; a mass unit (converted to t). Finite and >= 0.
    lifetime : mfa.core.lifetimes.LifetimeModel
        As in :func:`inflow_driven`. ``s[0] = sf(0.5)`` must be > 0.
    initial_stock_by_age : xarray.DataArray, optional
        Stock at the start of the first year by ``age`` [mass]; new cohorts make up the rest.
    negative_inflow : {"raise", "warn", "clip"}
        What to do where the stock falls faster than its cohorts leave (module docstring).
    by_cohort : bool
        Also return ``stock_by_cohort`` and ``outflow_by_cohort``.
    method : {"auto", "toeplitz", "lags"}
        Algorithm for the outflow convolution.

    Returns
    -------
    xarray.Dataset
        ``inflow`` [t/yr], ``outflow`` [t/yr], ``stock`` [t] (the target, or with "clip" the
        stock actually reached); with "clip" also ``stock_target`` [t], ``stock_excess`` [t]
        and ``inflow_clipped`` [t/yr]; with an initial stock also ``initial_stock`` [t].

    Raises
    ------
    NegativeInflowError
        With ``negative_inflow="raise"``, naming the year and the element.
    mfa.core.units.UnitError, mfa.core.errors.ParameterError
        For bad units or values, as :func:`inflow_driven`.
    """
    _check_rule(negative_inflow)
    da, years = _prepare(stock, "stock", "t")
    lay = _Layout(da, lifetime, years, "stock")
    init = lay.initial(initial_stock_by_age)
    target = lay.x
    hist_rem = 0.0
    if init is not None:
        X, _, curves_h, group_h = init
        hist_rem, _, _, _ = _initial_stock(X, curves_h, group_h, lay.T)
        target = target - hist_rem
    inflow, clipped = _forward_substitution(
        target, lay.curves, lay.group, negative_inflow, lay.describe, years
    )
    clip = negative_inflow == "clip"
    new_stock, outflow = _convolve(inflow, lay.curves, lay.group, method, stock=clip)
    if not clip:
        new_stock = target  # met exactly (to rounding)
    variables = {"inflow": lay.var(inflow, "t/yr", "inflow to use")}
    cohorts = _add_initial(variables, lay, init, inflow, new_stock, outflow, by_cohort)
    if clip:
        actual = variables["stock"][1]
        target_out = lay.var(lay.x, "t", "target stock (input)")
        variables["stock_target"] = target_out
        excess = np.maximum(np.asarray(actual) - target_out[1], 0.0)
        variables["stock_excess"] = (lay.out_dims, excess, {
            "units": "t", "long_name": "stock above its target after clipping negative inflow"})
        variables["inflow_clipped"] = lay.var(
            clipped, "t/yr", "negative inflow set to zero (negative_inflow='clip')")
    else:
        variables["stock"] = lay.var(lay.x, "t", "stock in use at the end of the year")
    return lay.dataset(variables, cohorts)
