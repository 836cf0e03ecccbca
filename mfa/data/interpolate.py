"""Interpolation of many year series at once onto the model years (shared with scenarios)."""

from __future__ import annotations

import numpy as np

__all__ = ["interpolate_points"]


def interpolate_points(
    points: np.ndarray,
    given_years: np.ndarray,
    model_years: np.ndarray,
    interpolation: str = "linear",
    before: str = "constant",
    after: str = "constant",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolate many series at once onto model years.

    Parameters
    ----------
    points : numpy.ndarray, shape (n_series, n_given, k)
        Values at the given years; NaN where a series has no point in that year. The last axis
        holds ``k`` quantities interpolated together (e.g. value, low, high).
    given_years : numpy.ndarray of int, shape (n_given,)
        Sorted, unique years of the columns of ``points``.
    model_years : numpy.ndarray of int, shape (n_time,)
        Target years.
    interpolation : {"linear", "step"}
    before : {"constant", "zero", "error"}
    after : {"constant", "error"}

    Returns
    -------
    out : numpy.ndarray, shape (n_series, n_time, k)
        Interpolated values (NaN where ``before``/``after`` is ``"error"`` and the year lies
        outside the given years).
    too_early, too_late : numpy.ndarray of bool, shape (n_series,)
        Series that needed a year before their first / after their last given year while the rule
        is ``"error"``.
    """
    n, g, _ = points.shape
    valid = np.isfinite(points[:, :, 0])
    cols = np.arange(g)
    # last valid column at or before column c, first valid column at or after column c
    prev_col = np.maximum.accumulate(np.where(valid, cols, -1), axis=1)
    next_col = np.minimum.accumulate(np.where(valid, cols, g)[:, ::-1], axis=1)[:, ::-1]
    le = np.searchsorted(given_years, model_years, side="right") - 1  # last column <= year
    ge = np.searchsorted(given_years, model_years, side="left")  # first column >= year
    prev = np.where(le[None, :] >= 0, prev_col[:, np.clip(le, 0, g - 1)], -1)  # (n, T)
    nxt = np.where(ge[None, :] < g, next_col[:, np.clip(ge, 0, g - 1)], g)
    has_prev = prev >= 0
    has_next = nxt < g
    rows = np.arange(n)[:, None]
    pc, nc = np.clip(prev, 0, g - 1), np.clip(nxt, 0, g - 1)
    pv, nv = points[rows, pc], points[rows, nc]  # (n, T, k)
    py, ny = given_years[pc].astype(float), given_years[nc].astype(float)
    if interpolation == "linear":
        yrs = model_years.astype(float)[None, :]
        w = np.where(ny > py, (yrs - py) / np.where(ny > py, ny - py, 1.0), 0.0)
        mid = pv + (nv - pv) * w[:, :, None]
    else:
        mid = pv
    out = np.where((has_prev & has_next)[:, :, None], mid, np.nan)
    early = ~has_prev & has_next  # before the first given year
    late = has_prev & ~has_next  # after the last given year
    if before == "constant":
        out = np.where(early[:, :, None], nv, out)
    elif before == "zero":
        out = np.where(early[:, :, None], 0.0, out)
    if after == "constant":
        out = np.where(late[:, :, None], pv, out)
    too_early = early.any(axis=1) if before == "error" else np.zeros(n, dtype=bool)
    too_late = late.any(axis=1) if after == "error" else np.zeros(n, dtype=bool)
    return out, too_early, too_late

