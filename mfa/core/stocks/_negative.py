"""Negative inflow of stock-driven models: the rules, the year-by-year solver and the initial stock's cohorts."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Literal

import numpy as np

from mfa.core.errors import MfaError, ParameterError
from mfa.core.lifetimes import Discretised
from mfa.core.stocks._kernels import NOISE, _runs

NegativeInflowRule = Literal["raise", "warn", "clip", "retire"]
_RULES = ("raise", "warn", "clip", "retire")


class NegativeInflowError(MfaError):
    """A stock-driven model needs a negative inflow (the stock falls faster than cohorts leave)."""


class NegativeInflowWarning(UserWarning):
    """Negative inflows were kept in a stock-driven model (``negative_inflow="warn"``)."""


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
            _check_alive(Xk, alive[None, :], lambda e, rows=rows: describe(int(rows[e])))
            rem[rows] = Xk @ ratio.T
            out[rows] = Xk @ leave.T
            hist_in[rows] = np.where(alive > 0, Xk / np.where(alive > 0, alive, 1.0), 0.0)
            if by_cohort:
                rem_a[rows] = Xk[:, None, :] * ratio[None]
                out_a[rows] = Xk[:, None, :] * leave[None]
        return rem, out, hist_in, rem_a, out_a


# --- year-by-year solver for "clip" and "retire" ----------------------------------------------


def _check_alive(X: np.ndarray, alive: np.ndarray, describe: Callable[[int], str]) -> None:
    """ParameterError for the first initial stock ``X`` (E, A) [t] of a cohort the lifetime
    has already retired (``alive``, broadcast to X, is the survival at the start of the first
    model year)."""
    dead = (alive <= 0) & (X > 0)
    if dead.any():
        e, age = np.argwhere(dead)[0]
        raise ParameterError(
            f"initial_stock_by_age: age {int(age)} holds {X[e, age]:.6g} t for "
            f"{describe(int(e))}, but the lifetime leaves nothing of that cohort in use at the "
            "start of the first model year (survival 0): the initial stock and the lifetime "
            "contradict each other"
        )


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
