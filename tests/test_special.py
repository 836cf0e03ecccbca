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
