"""The dynamic stock models on plain float64 arrays (elements x time)."""

from __future__ import annotations

import numpy as np

from mfa.core.stocks._kernels import _SEQUENTIAL_BYTES, _convolve, _solve, _Structures
from mfa.core.stocks._negative import (
    NegativeInflowRule,
    _check_rule,
    _Historic,
    _negative_inflow,
    _sequential,
)

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
