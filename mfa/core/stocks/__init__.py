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

from mfa.core.stocks import _kernels
from mfa.core.stocks._arrays import inflow_driven_array, stock_driven_array
from mfa.core.stocks._driven import historic_inflow, inflow_driven, stock_driven
from mfa.core.stocks._kernels import outflow_kernel
from mfa.core.stocks._negative import NegativeInflowError, NegativeInflowWarning
from mfa.core.stocks._negative import NegativeInflowRule as NegativeInflowRule

#: Relative size [1] below which a negative value is rounding noise (read as 0).
NOISE = _kernels.NOISE

#: Survival shares below this are set to 0 inside the kernels. Far tails of the distributions
#: (e.g. a normal lifetime 40 sd past its mean) reach the subnormal range below 2.2e-308, where
#: x86 arithmetic is ~100 times slower; that doubled the run time of the 50 x 20 benchmark. A
#: term below 1e-280 of its inflow changes no result above ~1e-265 of the inflow by more than
#: rounding.
FLUSH = _kernels.FLUSH

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
