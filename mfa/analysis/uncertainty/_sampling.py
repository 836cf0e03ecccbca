"""Sampling: the uncertain parameters, one uniform quantile per factor and sample, the parameter values they give."""

from __future__ import annotations

import inspect
import warnings
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from mfa.analysis.options import DEFAULT_RTOL, DISTRIBUTIONS, MAX_SEED, UncertaintyError
from mfa.core.errors import MfaWarning
from mfa.core.model import get as get_model

CORRELATION = ("one uniform quantile per parameter and sample, applied to all its elements "
               "(fully correlated over time, regions, products, stages); parameters independent")


# =============================================================================================
# Sampling
# =============================================================================================
def uncertain_parameters(params: Any) -> list[str]:
    """Names of the parameters that have a range (``high > low`` somewhere), registry order.

    Parameters
    ----------
    params : ParameterSet
        Parameters (after a scenario, if any); only parameters of role ``model`` count.

    Returns
    -------
    list of str
    """
    names = []
    registry = getattr(params, "registry", {}) or {}
    for name in params.values.data_vars:
        if registry.get(name, {}).get("role", "model") != "model":
            continue
        lo = np.asarray(params.low[name].values, dtype=float)
        hi = np.asarray(params.high[name].values, dtype=float)
        with np.errstate(invalid="ignore"):
            if bool(np.any(hi > lo)):
                names.append(str(name))
    order = list(registry) if registry else list(params.values.data_vars)
    return sorted(names, key=lambda n: order.index(n) if n in order else len(order))




def _check_seed(seed: Any) -> int:
    if (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
            or not 0 <= int(seed) <= MAX_SEED):
        raise UncertaintyError(f"seed must be a whole number from 0 to {MAX_SEED} (2**63 - 1), "
                               f"got {seed!r}")
    return int(seed)


def draw_quantiles(seed: int, names: Sequence[str], start: int, stop: int) -> np.ndarray:
    """Uniform quantiles ``u`` in (0, 1) for samples ``start .. stop - 1``, one per factor.

    Counter-based: ``u[i, p]`` depends only on ``(seed, names[p], i)``; any split of the
    sample range into chunks gives the same numbers.

    Parameters
    ----------
    seed : int
        Non-negative seed.
    names : sequence of str
        Factor (parameter) names.
    start, stop : int
        Sample index range (``0 <= start <= stop``).

    Returns
    -------
    numpy.ndarray, shape (stop - start, len(names))
    """
    seed = _check_seed(seed)
    start, stop = int(start), int(stop)
    if start < 0 or stop < start:
        raise UncertaintyError(f"sample range must satisfy 0 <= start <= stop, got {start}, {stop}")
    out = np.empty((stop - start, len(names)))
    skip = start % 4  # Philox yields 4 x 64 bit per counter step
    for j, name in enumerate(names):
        key = np.random.SeedSequence([seed, zlib.crc32(str(name).encode())]).generate_state(
            2, np.uint64
        )
        bg = np.random.Philox(key=key)
        bg.advance(start // 4)
        raw = np.asarray(bg.random_raw(stop - start + skip), dtype=np.uint64)[skip:]
        out[:, j] = ((raw >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53
    return out


class _Range:
    """The part of the inverse CDF of one parameter that does not depend on the quantiles:
    which elements have a range (``high > low``), and the distinct rows ``(value, low, high)``
    of the parameter (bit for bit; ``value`` alone where there is no range) with their bounds
    as columns. Elements with the same row get the same number in every sample, so each row's
    inverse CDF is computed once and gathered to its elements (the baseline's 9,573 ranged
    elements have 1,466 rows: a parameter's range is often the same over years or products).
    Made once per run (:func:`factor_ranges`), not once per chunk."""

    def __init__(self, value: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
        self.value = value
        with np.errstate(invalid="ignore"):
            self.ranged = (high - low) > 0
        self.any = bool(self.ranged.any())
        # rows by their bytes: -0.0 and 0.0, or two NaN payloads, are different rows
        zero = np.zeros(value.shape)
        key = np.stack([value, np.where(self.ranged, low, zero), np.where(self.ranged, high, zero)],
                       axis=-1).reshape(-1, 3)
        _, first, rows = np.unique(np.ascontiguousarray(key).view(np.dtype((np.void, 24))),
                                   return_index=True, return_inverse=True)
        self.rows = rows.reshape(-1)                        # element -> its row
        ranged = self.ranged.reshape(-1)[first]             # which rows have a range
        self.row_ranged = np.flatnonzero(ranged)
        self.row_fixed = np.flatnonzero(~ranged)
        row_value = value.reshape(-1)[first]
        self.row_value = row_value[self.row_fixed].reshape(-1, 1)
        v = row_value[self.row_ranged].reshape(-1, 1)
        self.lo = low.reshape(-1)[first][self.row_ranged].reshape(-1, 1)
        self.hi = high.reshape(-1)[first][self.row_ranged].reshape(-1, 1)
        self.width = self.hi - self.lo
        self.below = v - self.lo
        self.above = self.hi - v
        with np.errstate(invalid="ignore", divide="ignore"):
            self.frac = self.below / self.width

    def ppf(self, u: np.ndarray, distribution: str) -> np.ndarray:
        """Inverse CDF over [low, high] at quantiles ``u`` (k,) -> shape ``value.shape + (k,)``:
        computed once per row with a range; the other elements keep their value in every
        sample."""
        shape = (*self.value.shape, u.size)
        if not self.any:
            return np.broadcast_to(self.value[..., None], shape).copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            if distribution == "triangular":  # in place, the same operations as the formula
                left = u * self.width
                left *= self.below
                np.sqrt(left, out=left)
                left += self.lo
                right = (1.0 - u) * self.width
                right *= self.above
                np.sqrt(right, out=right)
                np.subtract(self.hi, right, out=right)
                np.copyto(right, left, where=u < self.frac)
                x = right
            else:
                x = self.lo + u * self.width
        table = np.empty((self.row_ranged.size + self.row_fixed.size, u.size))
        table[self.row_ranged] = x
        table[self.row_fixed] = self.row_value
        return table.take(self.rows, axis=0).reshape(shape)


class _Factor:
    """One factor as :func:`sample_values` needs it: dims, attrs, values and :class:`_Range`,
    and the dim its shares sum to one over (None if not a share)."""

    def __init__(self, params: Any, name: str) -> None:
        base = params.values[name]
        self.variable = base.variable
        self.dims = base.dims
        value = np.asarray(base.values, dtype=float)
        low = np.asarray(params.low[name].transpose(*base.dims).values, dtype=float)
        high = np.asarray(params.high[name].transpose(*base.dims).values, dtype=float)
        self.range = _Range(value, low, high)
        registry = getattr(params, "registry", {}) or {}
        dim = registry.get(name, {}).get("sum_to_one_over")
        self.share_axis = base.dims.index(dim) if dim and dim in base.dims else None
        with np.errstate(invalid="ignore"):
            self.share_ranged = high > low if self.share_axis is not None else None


def factor_ranges(params: Any, names: Sequence[str]) -> dict[str, _Factor]:
    """The factors ``names`` of ``params`` prepared for :func:`sample_values` (a run's chunks
    share them: ``params.factor_ranges``)."""
    return {name: _Factor(params, name) for name in names}


def _renormalise_share(x: np.ndarray, value: np.ndarray, ranged: np.ndarray, axis: int) -> np.ndarray:
    """Make sampled shares ``x`` (..., sample) sum to 1 over ``axis`` (module docstring)."""
    rng = np.broadcast_to(ranged[..., None], x.shape)
    v = np.broadcast_to(value[..., None], x.shape)
    fixed = np.where(rng, 0.0, np.nan_to_num(v))
    sampled_sum = np.nansum(np.where(rng, x, 0.0), axis=axis, keepdims=True)
    rest = fixed.sum(axis=axis, keepdims=True)
    total = np.nansum(x, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        take_up = (rest > 0) & (sampled_sum <= 1.0)
        scaled_rest = np.where(rng, x, v * (1.0 - sampled_sum) / np.where(rest > 0, rest, 1.0))
        normalised = x / np.where(total > 0, total, 1.0)
    return np.where(take_up, scaled_rest, normalised)


def sample_values(
    params: Any,
    u: np.ndarray,
    names: Sequence[str] | None = None,
    distribution: str = "triangular",
    sample: Sequence[int] | None = None,
) -> xr.Dataset:
    """Parameter values with a ``sample`` dim on the factors, for given quantiles ``u``.

    Parameters
    ----------
    params : ParameterSet
        Values and ranges (``values``, ``low``, ``high``, ``registry``).
    u : numpy.ndarray, shape (n, len(names))
        Quantiles in [0, 1], one per sample and factor (see :func:`draw_quantiles`).
    names : sequence of str, optional
        Factors (default :func:`uncertain_parameters`).
    distribution : {"triangular", "uniform"}
        Distribution over ``[low, high]`` (module docstring).
    sample : sequence of int, optional
        ``sample`` coordinate (default ``0 .. n - 1``).

    Returns
    -------
    xarray.Dataset
        ``params.values`` with the factors replaced by arrays of dims ``(*dims, "sample")``,
        units in attrs unchanged; other parameters unchanged (no ``sample`` dim).
    """
    names = uncertain_parameters(params) if names is None else list(names)
    if distribution not in DISTRIBUTIONS:
        raise UncertaintyError(f"unknown distribution {distribution!r}; expected one of {list(DISTRIBUTIONS)}")
    u = np.asarray(u, dtype=float)
    if u.ndim != 2 or u.shape[1] != len(names):
        raise UncertaintyError(f"quantiles u must have shape (n, {len(names)}), got {u.shape}")
    if u.size and (np.nanmin(u) < 0 or np.nanmax(u) > 1 or not np.isfinite(u).all()):
        raise UncertaintyError("quantiles u must be finite numbers in [0, 1]")
    coord = np.arange(u.shape[0]) if sample is None else np.asarray(sample)
    prepared = getattr(params, "factor_ranges", None) or {}
    ds = params.values
    sampled: dict[str, xr.Variable] = {}
    for j, name in enumerate(names):
        factor = prepared.get(name)
        if factor is None or factor.variable is not ds.variables[name]:
            factor = _Factor(params, name)
        x = factor.range.ppf(u[:, j], distribution)
        if factor.share_axis is not None:
            x = _renormalise_share(x, factor.range.value, factor.share_ranged, factor.share_axis)
        sampled[name] = xr.Variable((*factor.dims, "sample"), x, attrs=dict(factor.variable.attrs))
    # one Dataset built from variables (the labels are those of params.values: nothing to
    # align), the factors in their places; ~3x cheaper than DataArrays and an update
    ds = params.values
    data = {k: sampled.get(k, ds.variables[k]) for k in ds.data_vars}
    coords = {k: ds.variables[k] for k in ds.coords}
    return xr.Dataset(data, coords={**coords, "sample": coord}, attrs=ds.attrs)


def simulate_samples(
    model: Any,
    params: Any,
    u: np.ndarray,
    names: Sequence[str] | None = None,
    distribution: str = "triangular",
    *,
    sample: Sequence[int] | None = None,
    check: bool = True,
    rtol: float = DEFAULT_RTOL,
    quiet: bool = True,
) -> xr.Dataset:
    """Run ``model`` for a block of samples at once (vectorised over ``sample``).

    Parameters
    ----------
    model : Model or str
        The model (:mod:`mfa.core.model`) or its registered name.
    params : ParameterSet
        Values and ranges.
    u : numpy.ndarray, shape (n, len(names))
        Quantiles (see :func:`sample_values`).
    names, distribution, sample
        As in :func:`sample_values`.
    check : bool
        Check the mass balance of every sample (:class:`mfa.core.errors.MassBalanceError`).
    rtol : float
        Relative tolerance of the check (against the sample's largest total demand).
    quiet : bool
        Silence the model's warnings (:class:`~mfa.core.errors.MfaWarning`) here: they are
        not repeated per block (the quantiles of the results show what they would report).
        False for a caller that silences them around several threads
        (``warnings.catch_warnings`` is not thread-safe).

    Returns
    -------
    xarray.Dataset
        The model's results; variables depending on a factor carry a ``sample`` dim.
    """
    model = get_model(model)
    vals = sample_values(params, u, names, distribution, sample=sample)
    # the process system keeps `sample` and checks every sample's balance separately
    if not quiet:
        return _simulate(model, vals, check=check, rtol=rtol)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=MfaWarning)
        return _simulate(model, vals, check=check, rtol=rtol)


def _simulate(model: Any, values: xr.Dataset, *, check: bool, rtol: float) -> xr.Dataset:
    """``model.simulate``, with ``rtol`` for a model whose ``simulate`` takes it.

    The model protocol's ``simulate`` takes only ``check``; a tolerance other than the default
    for a model without an ``rtol`` option is an error, not silently ignored.
    """
    if "rtol" in inspect.signature(model.simulate).parameters:
        return model.simulate(values, check=check, rtol=rtol)
    if rtol != DEFAULT_RTOL:
        raise UncertaintyError(f"rtol: the model {model.name!r} takes no balance tolerance "
                               f"(its simulate has no 'rtol'); leave the default {DEFAULT_RTOL:g}")
    return model.simulate(values, check=check)
