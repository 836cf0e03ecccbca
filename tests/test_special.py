"""The numpy normal tail (mfa.core._special.ndtr) against scipy.special.ndtr, which it replaces
at start-up: the same Cephes algorithm, so equal to a few units in the last place."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

from mfa.core._special import ndtr


def test_ndtr_matches_scipy_to_a_few_ulp_over_the_whole_range():
    x = np.concatenate([np.linspace(-40.0, 40.0, 400_001),
                        np.random.default_rng(7).normal(0.0, 5.0, 100_000),
                        [-0.7071067811865476, 0.7071067811865476, -1.0, 1.0, -1.4142135623730951,
                         1.4142135623730951, -11.313708498984761, 11.313708498984761]])
    ours, theirs = ndtr(x), scipy.special.ndtr(x)
    assert np.array_equal(ours == 0.0, theirs == 0.0)
    ulps = np.abs(ours - theirs) / np.spacing(np.maximum(theirs, np.finfo(float).tiny))
    assert ulps.max() <= 8


@pytest.mark.parametrize(("a", "expected"), [
    (0.0, 0.5), (np.inf, 1.0), (-np.inf, 0.0), (-40.0, 0.0), (40.0, 1.0),
    (1.959963984540054, 0.975), (-1.959963984540054, 0.025)])
def test_ndtr_known_values(a, expected):
    assert ndtr(a) == pytest.approx(expected, rel=1e-15, abs=0)


def test_ndtr_keeps_shape_and_nan():
    x = np.array([[np.nan, 0.0], [1.0, -1.0]])
    y = ndtr(x)
    assert y.shape == (2, 2) and np.isnan(y[0, 0]) and y[0, 1] == 0.5
    assert y[1, 0] + y[1, 1] == pytest.approx(1.0, rel=1e-15)


def _ndtr_every_branch(a: np.ndarray) -> np.ndarray:
    """The formula evaluated everywhere, each branch then picked (as before it was computed
    branch by branch): the reference bits."""
    from mfa.core._special import _MAXLOG, _P, _Q, _R, _S, _SQRTH, _erf_small, _p1evl, _polevl

    x = a * _SQRTH
    z = np.abs(x)
    inner, mid = z < _SQRTH, (z >= _SQRTH) & (z < 1.0)
    with np.errstate(all="ignore"):
        w = np.where(inner | mid, 1.0, z)
        small = w < 8.0
        p = np.where(small, _polevl(w, _P), _polevl(w, _R))
        q = np.where(small, _p1evl(w, _Q), _p1evl(w, _S))
        large = np.where(-w * w < -_MAXLOG, 0.0, np.exp(-w * w) * p / q)
        tail = 0.5 * np.where(mid, 1.0 - _erf_small(np.where(mid, z, 0.0)), large)
        outer = np.where(x > 0, 1.0 - tail, tail)
    return np.where(inner, 0.5 + 0.5 * _erf_small(np.where(inner, x, 0.0)), outer)


def test_ndtr_branch_by_branch_is_the_formula_everywhere_bit_for_bit():
    edges = np.array([0.7071067811865476, 1.0, 1.4142135623730951, 11.313708498984761,
                      37.7, 38.6, 1e-300, 0.0])
    x = np.concatenate([np.random.default_rng(8).normal(0.0, 8.0, 200_000), edges, -edges,
                        np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf),
                        [np.nan, np.inf, -np.inf, -0.0]])
    np.testing.assert_array_equal(ndtr(x).view(np.uint64), _ndtr_every_branch(x).view(np.uint64))
