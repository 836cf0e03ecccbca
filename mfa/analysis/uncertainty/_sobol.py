"""Global sensitivity: Sobol first-order and total indices (Saltelli 2010 / Jansen 1999 estimators)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from mfa.analysis.options import DEFAULT_RTOL, UncertaintyError
from mfa.analysis.uncertainty._ensemble import _prepare, _template, _validate
from mfa.analysis.uncertainty._sampling import CORRELATION, _check_seed
from mfa.analysis.uncertainty._scheduling import _executor, _Payload, _run_chunks, _scheduler_label
from mfa.analysis.uncertainty._storage import _Store
from mfa.core.model import get as get_model


# =============================================================================================
# Sensitivity
# =============================================================================================
def _sobol_estimates(fA: np.ndarray, fB: np.ndarray, fAB: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S1 (Saltelli 2010) and ST (Jansen 1999) by :func:`scipy.stats.sobol_indices`.

    ``fA``, ``fB`` (..., n, K), ``fAB`` (..., n, D, K): the outputs on the A, B and AB_i rows of
    our design (evaluated in chunks by the caller and handed to scipy as a dict). scipy first
    centres each output on the mean of f(A) and f(B) (Sobol' & Levitan 1999), so that S1 does
    not depend on a constant added to the output (the same estimators on uncentred outputs,
    this package's own code before, gave S1 = 0.60 instead of 0.02 for x3 of the Ishigami
    function + 100 at n = 256; the true value is 0). On centred outputs scipy's indices and
    that code agree bit for bit. Returns (..., D, K) each; NaN where the output does not vary
    (scipy returns 0 there, which would read as "no influence").
    """
    from scipy.stats import sobol_indices as scipy_sobol_indices

    lead, (n, K), D = fA.shape[:-2], fA.shape[-2:], fAB.shape[-2]
    # scipy's layout: f_A, f_B (s, n) and f_AB (D, s, n); s = all outputs (leading dims x K)
    res = scipy_sobol_indices(func={
        "f_A": np.moveaxis(fA, -2, -1).reshape(-1, n),
        "f_B": np.moveaxis(fB, -2, -1).reshape(-1, n),
        "f_AB": np.moveaxis(fAB, (-3, -2), (-1, 0)).reshape(D, -1, n),
    }, n=n)
    s1 = np.swapaxes(np.reshape(res.first_order, (*lead, K, D)), -1, -2)
    st = np.swapaxes(np.reshape(res.total_order, (*lead, K, D)), -1, -2)
    constant = ~(np.var(np.concatenate([fA, fB], axis=-2), axis=-2) > 0)[..., None, :]
    return np.where(constant, np.nan, s1), np.where(constant, np.nan, st)


def sobol_indices(
    func: Callable[[np.ndarray], np.ndarray],
    names: Sequence[str],
    n: int = 256,
    *,
    seed: int = 0,
    n_bootstrap: int = 200,
    conf_level: float = 0.95,
    output_names: Sequence[str] | None = None,
) -> xr.Dataset:
    """First-order and total Sobol indices of ``func`` over independent uniform inputs.

    Parameters
    ----------
    func : callable
        ``func(U)`` with ``U`` of shape (rows, D) in [0, 1) returns (rows,) or (rows, K).
        Transform ``U`` to the input distributions inside ``func``.
    names : sequence of str
        Names of the D inputs.
    n : int
        Base sample size (rounded up to a power of 2); ``func`` is evaluated on
        ``n * (D + 2)`` rows.
    seed : int
        Seed of the scrambled Sobol' sequence and of the bootstrap.
    n_bootstrap : int
        Bootstrap resamples for the confidence intervals.
    conf_level : float
        Confidence level of ``S1_conf``/``ST_conf`` (half widths, normal approximation).
    output_names : sequence of str, optional
        Labels of the K outputs.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` with dims (output, parameter); ``mean`` and
        ``std`` of each output; attrs n_base, n_evaluations, seed, method.
    """
    from scipy.stats import norm

    seed = _check_seed(seed)
    names = list(names)
    D = len(names)
    if D < 1:
        raise UncertaintyError("sensitivity analysis needs at least one uncertain input")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise UncertaintyError(f"base sample size must be an integer >= 2, got {n!r}")
    U, nb = _design(D, int(n), seed)
    Y = np.asarray(func(U), dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != U.shape[0]:
        raise UncertaintyError(f"func returned {Y.shape[0]} rows for {U.shape[0]} inputs")
    K = Y.shape[1]
    fA, fB = Y[:nb], Y[nb:2 * nb]
    fAB = Y[2 * nb:].reshape(D, nb, K).transpose(1, 0, 2)  # (n, D, K)
    s1, st = _sobol_estimates(fA, fB, fAB)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, nb, size=(int(n_bootstrap), nb))
    b1, bt = _sobol_estimates(fA[idx], fB[idx], fAB[idx])
    z = norm.ppf(0.5 + conf_level / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        c1 = z * np.nanstd(b1, axis=0, ddof=1)
        ct = z * np.nanstd(bt, axis=0, ddof=1)
    outs = list(output_names) if output_names is not None else [f"y{k}" for k in range(K)]
    ds = _indices_dataset((s1, c1, st, ct), Y[: 2 * nb], outs, names, conf_level)
    ds.attrs.update({
        "n_base": nb, "n_evaluations": int(U.shape[0]), "seed": seed,
        "method": "Saltelli (2010) first-order and Jansen (1999) total-effect estimators on "
                  "outputs centred on their mean (scipy.stats.sobol_indices), on a scrambled "
                  "Sobol' sequence (scipy.stats.qmc.Sobol), radial A/B/AB_i design; "
                  f"bootstrap ({n_bootstrap} resamples) confidence intervals",
    })
    return ds


def _design(D: int, n: int, seed: int) -> tuple[np.ndarray, int]:
    """Rows A, B, AB_1..AB_D (each n_base x D, in [0, 1)) stacked, and n_base (n rounded up to
    a power of 2): A and B from one scrambled Sobol' sequence of dimension 2D; AB_i is A with
    column i from B."""
    from scipy.stats import qmc

    m = math.ceil(math.log2(n))
    nb = 2**m
    base = qmc.Sobol(d=2 * D, scramble=True, seed=seed).random_base2(m)
    A, B = base[:, :D], base[:, D:]
    AB = np.repeat(A[None, :, :], D, axis=0)  # (D, n, D)
    for i in range(D):
        AB[i, :, i] = B[:, i]
    return np.concatenate([A, B, AB.reshape(D * nb, D)], axis=0), nb


def _indices_dataset(indices: tuple[np.ndarray, ...], Y: np.ndarray, outs: list[str],
                     names: list[str], conf_level: float) -> xr.Dataset:
    """S1, S1_conf, ST, ST_conf (each (D, K)) as (output, parameter) variables, with the mean
    and standard deviation of the outputs ``Y`` (rows of A and B)."""
    s1, c1, st, ct = indices
    dims = ("output", "parameter")
    return xr.Dataset(
        {
            "S1": (dims, s1.T, {"units": "1", "long_name": "first-order Sobol index"}),
            "S1_conf": (dims, c1.T, {"units": "1", "long_name": f"{conf_level:.0%} confidence half-width of S1"}),
            "ST": (dims, st.T, {"units": "1", "long_name": "total-effect Sobol index"}),
            "ST_conf": (dims, ct.T, {"units": "1", "long_name": f"{conf_level:.0%} confidence half-width of ST"}),
            "mean": (("output",), Y.mean(axis=0), {"long_name": "mean of the output"}),
            "std": (("output",), Y.std(axis=0), {"long_name": "standard deviation of the output"}),
        },
        coords={"output": outs, "parameter": names},
    )


def sensitivity(
    model: Any,
    params: Any = None,
    n: int = 256,
    *,
    scenario: Any = "baseline",
    seed: int = 0,
    outputs: Sequence[str] | None = None,
    years: Sequence[int] = (2030, 2050),
    factors: Sequence[str] | None = None,
    distribution: str = "triangular",
    chunk: int | None = None,
    scheduler: Any = "auto",
    n_bootstrap: int = 200,
    progress: bool = False,
) -> xr.Dataset:
    """Sobol indices of a model's world outputs with respect to the uncertain parameters.

    Each uncertain parameter is one factor (one quantile for all its elements, as in
    :func:`monte_carlo`). The model runs on ``n * (D + 2)`` parameter sets, chunked and
    vectorised like the Monte Carlo ensembles; each chunk keeps only the outputs.

    Parameters
    ----------
    model, params, scenario
        As in :func:`monte_carlo`.
    n : int
        Base sample size, a power of 2 (2, 4, 8, ...).
    seed : int
    outputs : sequence of str, optional
        Result variables; their world totals (sum over all dims but time) are analysed
        (default: the model's ``headline``).
    years : sequence of int
        Years analysed.
    factors, distribution, chunk, scheduler, progress
        As in :func:`monte_carlo`.
    n_bootstrap : int
        Bootstrap resamples for the confidence intervals.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` with dims (output, year, parameter); ``mean``
        and ``std`` (output, year); provenance attrs.
    """
    from mfa.io import provenance_attrs

    model = get_model(model)
    seed = _check_seed(seed)
    _check_base_samples(n)
    p = _prepare(model, scenario, params)
    if chunk is None:  # the model's own default (e.g. magnet_rees: 100), else 250
        chunk = getattr(model, "mc_chunk", None)
    _, chunk, names = _validate(2**31, chunk, factors, p, distribution, need_range=True)
    template = _template(model, p, None, True)
    outputs, years = _check_outputs(template, list(model.headline) if outputs is None else outputs,
                                    years)
    label = {}

    def evaluate(U: np.ndarray) -> np.ndarray:
        rows = U.shape[0]
        payload = _Payload(model, p, names, distribution, None, [], {}, True, DEFAULT_RTOL, u=U,
                           outputs=outputs, years=years)
        st = _Store(rows, {"outputs": (len(outputs) * len(years),)}, on_disk=False)
        with _executor(scheduler) as (kind, handle):
            label["s"] = _scheduler_label(kind, handle)
            _run_chunks(payload, rows, min(chunk, rows), st, kind, handle, progress,
                        unit="model run")
        return st.read("outputs")

    flat = [f"{o}@{y}" for o in outputs for y in years]
    si = sobol_indices(evaluate, names, n, seed=seed, n_bootstrap=n_bootstrap, output_names=flat)
    out = _by_output_and_year(si, outputs, years, names)
    scen_name = p.scenario or (str(scenario) if scenario is not None else "defaults")
    out.attrs.update(provenance_attrs(scen_name, dict(getattr(p, "files", {}) or {}), {
        "title": f"Sobol sensitivity of the model {model.name} ({model.material}), "
                 f"scenario {scen_name}",
        "model": model.name,
        "material": model.material,
        **{k: v for k, v in si.attrs.items()},
        "outputs": "world totals (sum over all dims but time) of the output variables",
        "mc_distribution": distribution,
        "mc_correlation": CORRELATION,
        "mc_scheduler": label.get("s", ""),
    }))
    return out


def _check_outputs(template: xr.Dataset, outputs: Sequence[str],
                   years: Sequence[int]) -> tuple[list[str], list[int]]:
    """The outputs analysed (result variables with a time dim whose world sum means something)
    and the years (model years)."""
    years = [int(y) for y in years]
    model_years = set(template["time"].values.tolist())
    bad = [y for y in years if y not in model_years]
    if bad or not years:
        raise UncertaintyError(f"years {bad or years} are not model years "
                               f"({min(model_years)}..{max(model_years)})")
    outputs = list(outputs)
    for o in outputs:
        if o not in template.data_vars:
            raise UncertaintyError(f"unknown output {o!r}; known: {list(template.data_vars)}")
        t = template[o]
        if "time" not in t.dims:
            raise UncertaintyError(f"output {o!r} has no time dim")
        if t.attrs.get("units") == "1" and t.ndim > 1:
            raise UncertaintyError(f"output {o!r} is a share by {[d for d in t.dims if d != 'time']}; "
                                   "its world sum is meaningless")
    return outputs, years


def _by_output_and_year(si: xr.Dataset, outputs: list[str], years: list[int],
                        names: list[str]) -> xr.Dataset:
    """The indices of the flat outputs ``output@year`` with dims (output, year, parameter)."""
    out = xr.Dataset(coords={"output": outputs, "year": years, "parameter": names})
    for v in ("S1", "S1_conf", "ST", "ST_conf"):
        out[v] = xr.DataArray(si[v].values.reshape(len(outputs), len(years), len(names)),
                              dims=("output", "year", "parameter"), attrs=si[v].attrs)
    for v in ("mean", "std"):
        out[v] = xr.DataArray(si[v].values.reshape(len(outputs), len(years)),
                              dims=("output", "year"), attrs={**si[v].attrs, "units": "t/yr"})
    return out


def _check_base_samples(n: Any) -> int:
    """The base sample size of :func:`sensitivity`: a power of 2 from 2 (no silent rounding)."""
    if (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2
            or int(n) & (int(n) - 1)):
        raise UncertaintyError(f"base sample size must be a power of 2 (2, 4, 8, ..., 256, 512, "
                               f"...), got {n!r}")
    return int(n)
