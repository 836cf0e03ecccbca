"""The parametric lifetime distributions and the factory by name."""

from __future__ import annotations

from typing import Any

import numpy as np

from mfa.core._special import ndtr
from mfa.core.errors import ParameterError
from mfa.core.lifetimes._base import LifetimeModel


class Fixed(LifetimeModel):
    """Every item leaves at exactly ``mean`` years (flodym ``FixedLifetime``, ODYM ``Fixed``).

    ``sf(x) = 1 if x < mean else 0``; ``mean = 0`` is allowed (everything leaves in the year of
    inflow). With ``inflow_at`` "middle" or "end" an integer lifetime ``L`` gives
    ``outflow[t] = inflow[t - L]``.
    """

    param_names = ("mean",)
    time_params = ("mean",)
    zero_allowed = ("mean",)
    kind = "fixed"

    def __init__(self, mean: Any, **options: Any) -> None:
        super().__init__(mean=mean, **options)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray) -> np.ndarray:
        return (ages < mean).astype(float)


class Normal(LifetimeModel):
    """Normal lifetime with ``mean`` and standard deviation ``sd`` [yr] (flodym ``NormalLifetime``).

    Not truncated at zero: the share of lifetimes below the first year-end age (negative ones
    included) leaves in the year of inflow, exactly as in flodym 1.1.0 and ODYM. Mass is
    conserved. ``sf(x) = ndtr((mean - x) / sd)`` (``scipy.stats.norm.sf`` to a few ulp: the same Cephes algorithm, in numpy).
    """

    param_names = ("mean", "sd")
    time_params = ("mean", "sd")
    kind = "normal"

    def __init__(self, mean: Any, sd: Any, **options: Any) -> None:
        super().__init__(mean=mean, sd=sd, **options)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        return ndtr(-((ages - mean) / sd))


class FoldedNormal(LifetimeModel):
    """Folded normal lifetime: ``|X|`` for ``X ~ Normal(mean, sd)`` (ODYM and flodym ``FoldedNormal``).

    ``mean`` and ``sd`` [yr] are those of the normal *before* folding (the folded lifetime has a
    larger mean). No negative lifetimes: ``sf(0) = 1``.
    """

    param_names = ("mean", "sd")
    time_params = ("mean", "sd")
    kind = "foldednormal"

    def __init__(self, mean: Any, sd: Any, **options: Any) -> None:
        super().__init__(mean=mean, sd=sd, **options)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        x = ages / sd
        c = mean / sd
        return np.where(x > 0, ndtr(-(x - c)) + ndtr(-(x + c)), 1.0)


class LogNormal(LifetimeModel):
    """Lognormal lifetime given by the ``mean`` and ``sd`` [yr] of the lifetime itself.

    The underlying normal has ``sigma^2 = ln(1 + sd^2 / mean^2)`` and
    ``mu = ln(mean^2 / sqrt(mean^2 + sd^2))`` (as flodym ``LogNormalLifetime`` since January
    2025). ODYM's ``LogNormal`` swaps the ratio (``ln(1 + mean^2 / sd^2)``), so its results
    differ unless ``sd == mean``.
    """

    param_names = ("mean", "sd")
    time_params = ("mean", "sd")
    kind = "lognormal"

    def __init__(self, mean: Any, sd: Any, **options: Any) -> None:
        super().__init__(mean=mean, sd=sd, **options)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
        mean_sq = mean * mean
        sd_sq = sd * sd
        mu = np.log(mean_sq / np.sqrt(mean_sq + sd_sq))
        sigma = np.sqrt(np.log(1 + sd_sq / mean_sq))
        with np.errstate(divide="ignore"):
            return np.where(ages > 0, ndtr(-(np.log(ages / np.exp(mu)) / sigma)), 1.0)


class Weibull(LifetimeModel):
    """Weibull lifetime with ``shape`` [1] and ``scale`` [yr]: ``sf(x) = exp(-(x/scale)^shape)``."""

    param_names = ("shape", "scale")
    time_params = ("scale",)
    kind = "weibull"

    def __init__(self, shape: Any, scale: Any, **options: Any) -> None:
        super().__init__(shape=shape, scale=scale, **options)

    def _sf(self, ages: np.ndarray, *, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return np.where(ages > 0, np.exp(-np.power(np.maximum(ages, 0.0) / scale, shape)), 1.0)


class Gamma(LifetimeModel):
    """Gamma lifetime with ``shape`` [1] and ``scale`` [yr] (mean = shape * scale)."""

    param_names = ("shape", "scale")
    time_params = ("scale",)
    kind = "gamma"

    def __init__(self, shape: Any, scale: Any, **options: Any) -> None:
        super().__init__(shape=shape, scale=scale, **options)

    def _sf(self, ages: np.ndarray, *, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
        from scipy.special import gammaincc  # only here: scipy costs 0.1 s at start-up

        return np.where(ages > 0, gammaincc(shape, np.maximum(ages, 0.0) / scale), 1.0)


class Exponential(LifetimeModel):
    """Exponential lifetime with ``mean`` [yr]: ``sf(x) = exp(-x / mean)``.

    Discretised with the mid-year inflow: ``s[k] = exp(-(k + 0.5) / mean)``.
    """

    param_names = ("mean",)
    time_params = ("mean",)
    kind = "exponential"

    def __init__(self, mean: Any, **options: Any) -> None:
        super().__init__(mean=mean, **options)

    def _sf(self, ages: np.ndarray, *, mean: np.ndarray) -> np.ndarray:
        return np.exp(-ages / mean)


# Lifetime model classes by name (as written in parameter files).
LIFETIME_MODELS: dict[str, type[LifetimeModel]] = {
    cls.kind: cls for cls in (Fixed, Normal, FoldedNormal, LogNormal, Weibull, Gamma, Exponential)
}

_OPTIONS = ("inflow_at", "points_per_year", "factor_by_year")


def make_lifetime(kind: str, **params: Any) -> LifetimeModel:
    """Build a lifetime model by name (``"fixed"``, ``"normal"``, ``"foldednormal"``,
    ``"lognormal"``, ``"weibull"``, ``"gamma"``, ``"exponential"``; case-insensitive).

    ``params`` are the model's parameters and optionally ``inflow_at``, ``points_per_year`` and
    ``factor_by_year`` (see :class:`LifetimeModel`).

    Raises
    ------
    ParameterError
        For an unknown name or wrong parameters.
    """
    cls = LIFETIME_MODELS.get(str(kind).strip().lower())
    if cls is None:
        raise ParameterError(
            f"unknown lifetime distribution {kind!r}; expected one of {sorted(LIFETIME_MODELS)}"
        )
    missing = [p for p in cls.param_names if p not in params]
    unknown = [p for p in params if p not in cls.param_names and p not in _OPTIONS]
    if missing or unknown:
        raise ParameterError(
            f"{cls.__name__} lifetime: expected parameters {list(cls.param_names)}, "
            f"missing {missing}, unknown {unknown}"
        )
    return cls(**params)
