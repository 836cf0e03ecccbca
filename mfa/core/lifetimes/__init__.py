"""Lifetime distributions and their yearly survival curves.

A lifetime model gives, for a product put into use, the probability that it is still in use at
a given age. Eight models are available, each parametrised as a user would read it in a source:

=======================  =========================  ============================================
class                    parameters                 survival function ``sf(x)`` at age ``x`` [yr]
=======================  =========================  ============================================
:class:`Fixed`           ``mean`` [yr] (may be 0)   ``1 if x < mean else 0``
:class:`Normal`          ``mean``, ``sd`` [yr]      ``1 - Phi((x - mean) / sd)``
:class:`FoldedNormal`    ``mean``, ``sd`` [yr]      ``P(|X| > x)`` for ``X ~ Normal(mean, sd)``
                                                    (the parameters *before* folding)
:class:`LogNormal`       ``mean``, ``sd`` [yr]      lognormal whose *lifetime* (not its log) has
                                                    this mean and standard deviation
:class:`Weibull`         ``shape`` [1], ``scale``   ``exp(-(x / scale) ** shape)``
:class:`Gamma`           ``shape`` [1], ``scale``   regularised upper incomplete gamma
:class:`Exponential`     ``mean`` [yr]              ``exp(-x / mean)``
:class:`SurvivalTable`   ``table`` [1]              given: by ``age``, or by ``(time, cohort)``
=======================  =========================  ============================================

The survival functions use closed forms, a numpy port of Cephes' ``ndtr`` for the normal tail
(``mfa.core._special``) and :func:`scipy.special.gammaincc` for the gamma distribution
(imported on first use); they equal :mod:`scipy.stats` to rounding (tested) without importing
it (0.4 s at start-up) or, unless a gamma lifetime is used, scipy at all.

Yearly discretisation: when does the inflow enter?
--------------------------------------------------
Time runs in whole years; stocks are counted at the *end* of each year. The inflow of year ``c``
(the *cohort*) enters at a point of that year chosen by ``inflow_at`` (flodym's option, same name
and meaning). The share of cohort ``c`` still in use at the end of year ``t >= c`` is
``S[t, c] = s[t - c]`` with the discretised survival curve ``s[k] = sf(k + 1 - p)``:

=========================  =====  ===============  ============================================
``inflow_at``              ``p``  ``s[k]``         same results as
=========================  =====  ===============  ============================================
``"start"``                0      ``sf(k + 1)``    flodym ``inflow_at="start"``
``"middle"`` (default)     0.5    ``sf(k + 0.5)``  flodym's default ``inflow_at="middle"``
``"end"``                  1      ``sf(k)``        ODYM (``sf(m - n)``), flodym ``inflow_at="end"``
=========================  =====  ===============  ============================================

The mid-year rule is the default: with it a constant inflow ``I`` builds a stock of about
``I x mean`` (the other two are half a year off). ODYM's classic results (survival at age
``t - c``) come out exactly with ``inflow_at="end"``. Consequences of the mid-year rule:

* ``s[0] = sf(0.5) < 1`` in general: lifetimes shorter than half a year leave in the year of
  inflow. For :class:`Fixed` with an integer ``mean = L`` the cohort is complete until the end of
  year ``c + L - 1`` and leaves entirely in year ``c + L``: ``outflow[t] = inflow[t - L]`` (the
  same with ``"end"``).
* Negative lifetimes (the :class:`Normal` tail below zero). The normal distribution is *not*
  truncated or renormalised (flodym and ODYM do the same): the probability of a lifetime below
  ``1 - p`` years, including the physically impossible negative part, leaves in the year of
  inflow. Mass is conserved; for ``sd <= mean / 3`` the negative part is below 0.14 %. Use
  :class:`FoldedNormal`, :class:`LogNormal`, :class:`Weibull` or :class:`Gamma` if that matters.

Short lifetimes: inflow spread over the year
--------------------------------------------
A single inflow point per year is poor for lifetimes near or below a year: LogNormal(mean 0.3,
sd 0.1) with the mid-year rule gives a mean residence of 0.04 yr instead of 0.3. With
``points_per_year = n > 1`` (flodym's ``n_pts_per_interval``) the inflow is spread evenly over
the year and the survival is integrated over the year of inflow with the ``n``-point
Gauss-Lobatto rule: ``s[k] = sum_q w_q sf(k + 1 - p_q)`` with points ``p_q`` in ``[0, 1]``
(both ends included) and weights ``w_q`` summing to 1. For that lognormal six points give
0.291 yr and ten 0.2997 yr. ``inflow_at`` does not apply then (leave it at its default).

Lifetime changes for products already in use
--------------------------------------------
``factor_by_year`` (flodym's ``lt_factor_by_year``; the "nurture" approach of Krych et al. 2024,
https://doi.org/10.1111/jiec.13586) is a DataArray over ``time`` (and optionally other dims): in
year ``t`` every cohort in use survives as if all time-like parameters (``mean``, ``sd``,
``scale``) were multiplied by ``factor[t]``. The survival of cohort ``c`` then follows the
hazard of the stretched distribution year by year::

    S[c, c] = sf_t(age at the end of c)                        (parameters x factor[c])
    S[t, c] = S[t - 1, c] * sf_t(age at end of t) / sf_t(age at end of t - 1)   (x factor[t])

(0 where ``sf_t`` at the end of ``t - 1`` is 0), exactly as flodym 1.1.0. A factor of 1.2 in
2030 stretches the remaining life of every cohort in use in 2030; cohort-dependent parameters
(a ``cohort`` dim, the "nature" approach) change the lifetime of new products only. Both may be
combined. Only the model years of the factor are used; before the first model year the factor
is 1 (this matters only for an initial stock by age).

Lifetime parameters
-------------------
Parameters are plain numbers (read as years; shapes are dimensionless), pint quantities, or
:class:`xarray.DataArray` over any named dims (``region``, ``product``, ``sample``, ...). A
DataArray with a time-like parameter must carry units (``attrs["units"]`` or pint data) of
dimension time; it is converted to years with :mod:`mfa.core.units`. A parameter with a ``cohort``
dim (integer years of inflow) makes the lifetime *cohort-varying*: then ``S[t, c]`` is not a
function of ``t - c`` alone, and :meth:`LifetimeModel.survival_matrix` builds it.

Distinct curves
---------------
Survival curves are computed once per *distinct* parameter set: all parameter arrays are
broadcast, stacked and reduced with :func:`numpy.unique`; the curves are computed in one
vectorised call on the unique rows and mapped back by index
(:meth:`LifetimeModel.survival_curves`). Twenty products in fifty regions with one lifetime per
product cost twenty curves, not a thousand.
"""

from __future__ import annotations

from mfa.core.lifetimes import _arrays, _distributions
from mfa.core.lifetimes._arrays import MAX_POINTS_PER_YEAR as MAX_POINTS_PER_YEAR
from mfa.core.lifetimes._arrays import Discretised as Discretised
from mfa.core.lifetimes._arrays import InflowAt as InflowAt
from mfa.core.lifetimes._arrays import inflow_points
from mfa.core.lifetimes._base import LifetimeModel
from mfa.core.lifetimes._distributions import (
    Exponential,
    Fixed,
    FoldedNormal,
    Gamma,
    LogNormal,
    Normal,
    Weibull,
    make_lifetime,
)
from mfa.core.lifetimes._table import SurvivalTable

#: Position ``p`` of the inflow within its year for each ``inflow_at`` (0 = start, 1 = end).
INFLOW_AT = _arrays.INFLOW_AT

#: Lifetime model classes by name (as written in parameter files).
LIFETIME_MODELS = _distributions.LIFETIME_MODELS

__all__ = [
    "INFLOW_AT",
    "LIFETIME_MODELS",
    "Exponential",
    "Fixed",
    "FoldedNormal",
    "Gamma",
    "LifetimeModel",
    "LogNormal",
    "Normal",
    "SurvivalTable",
    "Weibull",
    "inflow_points",
    "make_lifetime",
]
