"""Monte Carlo ensembles and global sensitivity analysis of any model (:mod:`mfa.core.model`).

Projections to 2050 rest on uncertain numbers. Every parameter row in ``params/`` may give a range
(``low``/``high``); this module draws ensembles of parameter sets from those ranges along a
``sample`` dimension, runs the whole model once per chunk of samples (fully vectorised: the stock
models, the supply chain and the indicators broadcast over ``sample``), and reduces the ensemble
to quantiles, exceedance probabilities and Sobol sensitivity indices.

Sampling design
---------------
Uncertain parameters (factors)
    Every parameter of role ``model`` with ``high > low`` somewhere is one factor (or those named
    in ``factors=``). Parameters without a range keep their value and no ``sample`` dim.
One quantile per factor and sample (correlation structure)
    For sample ``i`` each factor ``p`` gets ONE uniform quantile ``u[i, p]`` in (0, 1), applied to
    every element of the parameter (all years, regions, products, stages): the elements of one
    parameter are fully (rank-)correlated, the factors are independent of each other. A range in
    the data usually says "this number is uncertain by so much" (e.g. the magnet mass of an EV,
    or a lifetime), not "each year and region scatters independently"; independent draws per
    element would average the uncertainty away in every total and make hundreds of Sobol
    factors. With one quantile per parameter each parameter is one Sobol factor and its whole
    range reaches the totals.
Distribution (default ``"triangular"``)
    ``triangular(low, mode=value, high)`` element by element, by its inverse CDF at ``u``:
    ``x = low + sqrt(u (high - low)(value - low))`` for ``u < (value - low)/(high - low)``,
    else ``x = high - sqrt((1 - u)(high - low)(high - value))``. It uses all three numbers the
    data give, stays inside the range, puts most weight near the best estimate and allows
    asymmetric ranges. ``"uniform"`` (``x = low + u (high - low)``) is available for a flat
    "anything in the range" reading. Where ``low == high`` the value is returned unchanged
    (bit for bit), so an ensemble with all ranges collapsed equals the deterministic run.
Shares that must sum to 1 (registry ``sum_to_one_over``, e.g. ``production_share`` over regions)
    After sampling, the elements *without* a range are rescaled to take up the rest
    ``1 - sum(sampled elements with a range)``; if nothing without a range is left to take it
    up (all elements have ranges, or the ranged ones alone exceed 1) all elements are divided
    by their sum. So a range on China's mining share moves China's share and scales the other
    regions proportionally; the sums stay 1 to rounding.
Lifetimes
    ``lifetime_mean``/``lifetime_sd`` are factors like any other: every sample has its own
    lifetime, and :func:`mfa.core.stocks.inflow_driven` uses its convolution form (cohort-independent
    lifetimes, O(T) memory per distinct curve; no ``T x T x sample`` arrays).

Random numbers (reproducible and chunk-invariant)
-------------------------------------------------
``u[i, p]`` is a counter-based draw: the Philox generator keyed by
``SeedSequence([seed, crc32(p)])`` and positioned at sample index ``i`` (:func:`draw_quantiles`).
So the draws depend only on ``(seed, parameter name, sample index)``: not on the chunk size, the
scheduler, the number of workers, nor on which other parameters are uncertain. Each chunk draws
its own samples inside its task; nothing is built in one big array and shipped.

Execution
---------
The ensemble is computed in chunks of ``chunk`` samples. ``scheduler`` selects how:
``"numpy"`` (a plain loop over chunks, no dask needed; what ``"auto"`` means: one chunk in
memory, and dask threads gain little on this GIL-bound work), ``"threads"`` (dask's threaded
scheduler), ``"sync"`` (dask, one thread; for debugging),
``"processes"`` (a dask.distributed LocalCluster of worker processes for the run; a script must
start it under ``if __name__ == "__main__":``, else a plain error says so), or a
dask.distributed scheduler address (``"tcp://host:8786"``) / a ``distributed.Client``.
The chunk results are written into a store as they come, samples last (each result cell's
samples contiguous): in memory for small ensembles, else raw files in a temporary directory
(``tmpdir``; by default shared memory, ``/dev/shm``, when they take at most a quarter of the
available memory, else the system's temporary directory:
:func:`mfa.analysis.budget.store_directory`). On disk they are allocated in full before the
first chunk (a disk too small fails at once); they are unlinked as soon as they are open, so
that nothing is left behind. The chunk tasks also reduce what the summary needs per
sample (the world totals of the headline variables, the largest mass-balance residual). The
quantiles are then computed from the store a block of result cells at a time (32 MiB of
samples), exactly: numpy's default ``linear`` method, over the samples where a value is
defined, bit for bit :func:`numpy.quantile`, by selection (numpy's partition at the order
statistics it needs, in place on each cell's contiguous samples). Memory stays at
the chunks being computed plus one block: flat in the number of samples. With a distributed
cluster the workers return chunk results to the client, which writes them (no shared
filesystem needed); see the documentation page "Monte Carlo on several cores and on a cluster".

Mass balance is checked per sample (residual against ``rtol`` times that sample's largest
total demand), raising :class:`mfa.core.errors.MassBalanceError` naming the sample.

Output of :func:`monte_carlo`
-----------------------------
* every result variable of the model with a leading ``quantile`` dim (same name and units);
* ``world_<name>`` (quantile, time): quantiles of the world totals of the headline variables
  (exact, from the per-sample totals, not sums of regional quantiles);
* ``sample_world_<name>`` (sample, time): the per-sample world totals themselves;
* ``exceedance_probability`` (threshold, time): P(world total of the first headline variable > threshold);
* ``factor_quantile`` (sample, parameter): the quantile ``u`` drawn for each factor;
* attributes: seed, number of samples, distribution, correlation design, factors, scenario,
  parameter-file hashes and the rest of :func:`mfa.io.provenance_attrs`.

Sensitivity
-----------
:func:`sobol_indices` estimates first-order (``S1``) and total (``ST``) Sobol indices from a
scrambled Sobol' sequence (:class:`scipy.stats.qmc.Sobol`, ``2^m`` base samples, Saltelli's
radial design ``A, B, AB_i``) with the Saltelli (2010) first-order and Jansen (1999) total-effect
estimators of :func:`scipy.stats.sobol_indices`, which centres the outputs on their mean first
(Sobol' & Levitan 1999; without it S1 depends on a constant added to the output), fed with the
model runs of our design, and bootstrap confidence intervals (normal approximation, seeded:
scipy's own bootstrap takes no seed); no extra package is needed. :func:`sensitivity` applies it to a model (the world totals of its headline
variables in chosen years by default); :func:`mfa.plot.uncertainty.plot_sensitivity` draws the ranking.
Both take ``groups`` (group name -> parameters, checked by :func:`check_groups`: every factor in
exactly one group) for grouped factors: the parameters stay independent and a group's columns
of the design are swapped together, so ``S1`` is the share of the variance the group explains
on its own and ``ST`` its total effect; ``groups="model"`` takes the model's default grouping
(:func:`model_groups`, e.g. :mod:`mfa.models.neodymium.sensitivity`).
"""

from __future__ import annotations

from mfa.analysis.options import DEFAULT_QUANTILES, DISTRIBUTIONS, UncertaintyError
from mfa.analysis.options import MEMORY_STORE_MAX_BYTES as MEMORY_STORE_MAX_BYTES
from mfa.analysis.uncertainty._ensemble import ensemble, monte_carlo
from mfa.analysis.uncertainty._sampling import CORRELATION as CORRELATION
from mfa.analysis.uncertainty._sampling import (
    draw_quantiles,
    sample_values,
    simulate_samples,
    uncertain_parameters,
)
from mfa.analysis.uncertainty._sobol import _check_base_samples as _check_base_samples
from mfa.analysis.uncertainty._sobol import check_groups, model_groups, sensitivity, sobol_indices
from mfa.analysis.uncertainty._storage import _Store as _Store  # tests/test_i8_cli_outputs.py
from mfa.analysis.uncertainty._summary import exceedance_probability, summarize

__all__ = [
    "DEFAULT_QUANTILES",
    "DISTRIBUTIONS",
    "UncertaintyError",
    "uncertain_parameters",
    "draw_quantiles",
    "sample_values",
    "simulate_samples",
    "ensemble",
    "summarize",
    "exceedance_probability",
    "monte_carlo",
    "sobol_indices",
    "sensitivity",
    "check_groups",
    "model_groups",
]
