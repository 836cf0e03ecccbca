"""Monte Carlo ensembles of a model: the checks of a request, the ensemble, its summary."""

from __future__ import annotations

import json
import math
import os
import time as _time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from mfa.analysis.options import (
    DEFAULT_QUANTILES,
    DEFAULT_RTOL,
    DISTRIBUTIONS,
    MEMORY_STORE_MAX_BYTES,
    UncertaintyError,
    default_chunk,
)
from mfa.analysis.run import prepare
from mfa.analysis.uncertainty._forked import return_freed_memory
from mfa.analysis.uncertainty._sampling import (
    CORRELATION,
    _check_seed,
    _simulate,
    draw_quantiles,
    uncertain_parameters,
)
from mfa.analysis.uncertainty._scheduling import (
    _executor,
    _Payload,
    _run_chunks,
    _scheduler_label,
    _summary_workers,
    chunks_alive,
)
from mfa.analysis.uncertainty._storage import _Store
from mfa.analysis.uncertainty._summary import MAX_ABS_KEY, WORLD_KEY, _check_quantiles, summarize
from mfa.core.errors import MfaWarning
from mfa.core.model import get as get_model


# =============================================================================================
# Ensembles and their summaries
# =============================================================================================
def _prepare(model: Any, scenario: Any, params: Any) -> Any:
    """ParameterSet for ``scenario`` (name, path, Scenario, or None = params as they are)."""
    return prepare(model, scenario, params)[1]


def _validate(n: int, chunk: int | None, names: Sequence[str] | None, params: Any,
              distribution: str, *, need_range: bool = False) -> tuple[int, int, list[str]]:
    """Check the options; return ``(n, chunk, factors)``.

    Factors must be parameters of role ``model`` (a calibration-only parameter changes no
    result); with ``need_range`` each must have a range somewhere and there must be at least
    one (an ensemble or sensitivity analysis over zero-width ranges reports no uncertainty).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UncertaintyError(f"number of samples must be an integer >= 1, got {n!r}")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer))
                              or chunk < 1):
        raise UncertaintyError(f"chunk size must be an integer >= 1, got {chunk!r}")
    if distribution not in DISTRIBUTIONS:
        raise UncertaintyError(f"unknown distribution {distribution!r}; expected one of {list(DISTRIBUTIONS)}")
    available = list(params.values.data_vars)
    ranged = uncertain_parameters(params)
    valid = f"parameters with a low/high range: {', '.join(ranged) or '(none)'}"
    if names is None:
        names = ranged
    else:
        names = list(dict.fromkeys(names))
        if not names:
            raise UncertaintyError(f"no factors given (an empty list); {valid}")
        unknown = [x for x in names if x not in available]
        if unknown:
            raise UncertaintyError(f"unknown parameter(s) {unknown} in factors; {valid}")
        registry = getattr(params, "registry", {}) or {}
        other = [x for x in names if registry.get(x, {}).get("role", "model") != "model"]
        if other:
            roles = sorted({registry[x]["role"] for x in other})
            raise UncertaintyError(f"factor(s) {other} are {'/'.join(roles)} parameters, not "
                                   f"model inputs: sampling them changes no result; {valid}")
        flat = [x for x in names if x not in ranged]
        if need_range and flat:
            raise UncertaintyError(f"factor(s) {flat} have no uncertainty range (low == high "
                                   f"everywhere): they would add zero-width uncertainty; {valid}")
    if need_range and not names:
        raise UncertaintyError("no uncertain parameters: give low/high ranges in the parameter "
                               "files or choose factors")
    return int(n), None if chunk is None else int(min(chunk, n)), list(names)


def _chunk_size(chunk: int | None, model: Any, template: xr.Dataset, n: int,
                alive: int = 2) -> int:
    """``chunk`` if given, else the model's ``mc_chunk``, else :func:`default_chunk` of the
    results of one sample (``template``: every result variable) for a scheduler that holds
    ``alive`` chunks at once (:func:`chunks_alive`: the plain loop's one chunk is twice as
    large, in the same memory, its ~80 ms fixed cost for the Nd baseline spread over twice the
    samples); at most ``n``."""
    if chunk is None:
        chunk = getattr(model, "mc_chunk", None)
    if chunk is None:
        chunk = default_chunk(8 * sum(v.size for v in template.data_vars.values()), alive)
    return int(min(chunk, n))


def _default_variables(model: Any, variables: Sequence[str] | str | None
                       ) -> list[str] | None:
    """The result variables a Monte Carlo keeps: ``variables``; None: the model's
    ``mc_variables`` (if any, else all); ``"all"``: all (None)."""
    if isinstance(variables, str):
        if variables != "all":
            raise UncertaintyError(f"variables must be a sequence of result variable names or "
                                   f"'all', got {variables!r}")
        return None
    if variables is None:
        default = getattr(model, "mc_variables", None)
        return list(default) if default is not None else None
    return list(variables)


def _template(model: Any, params: Any, variables: Sequence[str] | None,
              check: bool, rtol: float = DEFAULT_RTOL) -> tuple[xr.Dataset, xr.Dataset]:
    """Deterministic run (checks the inputs early; gives dims, coords and attrs): the kept
    ``variables`` (all if None) and all results (what a chunk computes)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=MfaWarning)
        det = _simulate(model, params.values, check=check, rtol=rtol)
    if variables is None:
        return det, det
    unknown = [v for v in variables if v not in det.data_vars]
    if unknown:
        raise UncertaintyError(f"unknown result variable(s) {unknown}; known: {list(det.data_vars)}")
    return det[list(variables)], det


def _compute_ensemble(model: Any, params: Any, n: int, seed: int | None, chunk: int, scheduler: Any,
                      names: list[str], distribution: str, template: xr.Dataset, *,
                      check: bool, rtol: float, progress: bool, store: str,
                      tmpdir: Any, u: np.ndarray | None = None,
                      world: Sequence[str] = ()) -> tuple[_Store, str, int]:
    """Compute the chunks into a new store; ``(store, scheduler label, summary threads)``."""
    variables = [str(v) for v in template.data_vars]
    dims = {v: tuple(template[v].dims) for v in variables}
    shapes = {v: tuple(template[v].shape) for v in variables}
    payload = _Payload(model, params, names, distribution, seed, variables, dims, check, rtol,
                       u=u, world=list(world))
    for v in payload.world:  # per-sample reductions the chunk tasks add for the summary
        shapes[WORLD_KEY.format(v)] = (template["time"].size,)
    if "mass_balance_residual" in shapes:
        shapes[MAX_ABS_KEY.format("mass_balance_residual")] = (1,)
    nbytes = n * sum(int(np.prod(s)) for s in shapes.values()) * 8
    if store not in ("auto", "memory", "disk"):
        raise UncertaintyError(f"store must be 'auto', 'memory' or 'disk', got {store!r}")
    on_disk = store == "disk" or (store == "auto" and nbytes > MEMORY_STORE_MAX_BYTES)
    st = _Store(n, shapes, on_disk=on_disk, tmpdir=tmpdir)
    try:
        with _executor(scheduler) as (kind, handle):
            label = _scheduler_label(kind, handle)
            _run_chunks(payload, n, chunk, st, kind, handle, progress)
    except BaseException:
        st.close()
        raise
    return_freed_memory()  # what the chunks freed here, before the summary's blocks
    return st, label, _summary_workers(kind, handle)


def _wrap(template: xr.Dataset, v: str, data: np.ndarray, n: int) -> xr.DataArray:
    t = template[v]
    coords = {k: c for k, c in t.coords.items() if set(c.dims) <= set(t.dims)}
    coords["sample"] = np.arange(n)
    return xr.DataArray(data, dims=("sample", *t.dims), coords=coords, attrs=dict(t.attrs), name=v)


def ensemble(
    model: Any,
    params: Any,
    n: int,
    *,
    seed: int = 0,
    chunk: int | None = None,
    scheduler: Any = "numpy",
    factors: Sequence[str] | None = None,
    distribution: str = "triangular",
    variables: Sequence[str] | None = None,
    check: bool = True,
    rtol: float = DEFAULT_RTOL,
    progress: bool = False,
) -> xr.Dataset:
    """The full ensemble in memory: every result variable with a leading ``sample`` dim.

    For small ``n`` (tests, notebooks). Large ensembles: :func:`monte_carlo`, which reduces
    them to quantiles without holding them in memory.

    Parameters
    ----------
    model : Model or str
        The model (:mod:`mfa.core.model`) or its registered name.
    params : ParameterSet
        Parameters (after a scenario).
    n : int
        Number of samples.
    seed : int
        Seed (same seed, same ensemble, whatever the chunk size and scheduler).
    chunk : int, optional
        Samples per task (default as in :func:`monte_carlo`).
    scheduler : str or distributed.Client
        "numpy", "auto", "fork", "threads", "sync", a dask.distributed address or client (as
        in :func:`monte_carlo`).
    factors : sequence of str, optional
        Parameters to sample (default: all with a range).
    distribution : {"triangular", "uniform"}
    variables : sequence of str, optional
        Result variables to keep (default all).
    check, rtol
        Per-sample mass-balance check.
    progress : bool
        Show a progress bar on stderr (only when it is a terminal: :mod:`mfa.analysis.progress`).

    Returns
    -------
    xarray.Dataset
        Dims ``(sample, ...)``; ``factor_quantile`` (sample, parameter) holds the draws;
        ``attrs`` seed, distribution, factors.
    """
    model = get_model(model)
    seed = _check_seed(seed)
    n, chunk, names = _validate(n, chunk, factors, params, distribution)
    template, results = _template(model, params, variables, check, rtol)
    chunk = _chunk_size(chunk, model, results, n, chunks_alive(scheduler))
    st, label, _ = _compute_ensemble(model, params, n, seed, chunk, scheduler, names,
                                     distribution, template, check=check, rtol=rtol,
                                     progress=progress, store="memory", tmpdir=None)
    with st:
        ds = xr.Dataset({v: _wrap(template, v, st.read(v), n) for v in template.data_vars})
    ds["factor_quantile"] = _factor_da(seed, names, n)
    ds.attrs.update(_mc_attrs(seed, n, names, distribution, label))
    ds.attrs.update(model=model.name, material=model.material)
    return ds


def _factor_da(seed: int, names: list[str], n: int) -> xr.DataArray:
    return xr.DataArray(
        draw_quantiles(seed, names, 0, n), dims=("sample", "parameter"),
        coords={"sample": np.arange(n), "parameter": list(names)},
        attrs={"units": "1", "long_name": "uniform quantile drawn for each uncertain parameter"},
    )


def _mc_attrs(seed: int, n: int, names: list[str], distribution: str, label: str) -> dict:
    return {
        "mc_seed": seed,
        "mc_samples": n,
        "mc_distribution": distribution + ("(low, mode=value, high)" if distribution == "triangular"
                                           else "(low, high)"),
        "mc_correlation": CORRELATION,
        "mc_factors": json.dumps(list(names)),
        "mc_rng": "Philox keyed by SeedSequence([seed, crc32(parameter)]), counter = sample index",
        "mc_scheduler": label,
    }


def monte_carlo(
    model: Any,
    params: Any = None,
    n: int = 1000,
    *,
    scenario: Any = "baseline",
    seed: int = 0,
    chunk: int | None = None,
    scheduler: Any = "auto",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    thresholds: Sequence[float] = (),
    factors: Sequence[str] | None = None,
    distribution: str = "triangular",
    variables: Sequence[str] | str | None = None,
    check: bool = True,
    rtol: float = DEFAULT_RTOL,
    progress: bool = False,
    store: str = "auto",
    tmpdir: str | os.PathLike | None = None,
) -> xr.Dataset:
    """Monte Carlo ensemble of a scenario, reduced to quantiles and world-total samples.

    Parameters
    ----------
    model : Model or str
        The model (:mod:`mfa.core.model`) or its registered name.
    params : ParameterSet, path-like or None
        Parameters or parameter directory (None: the model's default data).
    scenario : str, path-like, Scenario or None
        Scenario applied to ``params`` (None: use ``params`` as given).
    n : int
        Number of samples.
    seed : int
        Seed; the result does not depend on ``chunk`` nor on the scheduler.
    chunk : int, optional
        Samples per task (default: the model's ``mc_chunk`` if it has one, else as many as
        make about 96 MiB of results, ``mfa.analysis.options.default_chunk``: 238 for the
        Nd baseline; a task's memory is about twice its results; twice as many for the
        plain loop, which holds one chunk where the others hold two: 476).
    scheduler : str or distributed.Client
        "auto" (where two or more cores are usable: two forked worker processes on Linux from
        a process with no other thread, else two threads of the standard library; two chunks
        in memory; else "numpy"), "fork" (two forked processes or an error saying why not),
        "numpy" (a plain loop, one chunk in memory), "threads" (dask, one thread per core),
        "sync",
        "processes" (a LocalCluster of worker processes for the run), a dask.distributed
        address ("tcp://host:8786") or a ``distributed.Client``.
    quantiles : sequence of float
        Quantiles to report (default 5 %, 50 %, 95 %).
    thresholds : sequence of float
        Thresholds [t/yr] of the world total of the model's first headline variable for
        ``exceedance_probability``.
    factors : sequence of str, optional
        Parameters to sample (default: all with a range).
    distribution : {"triangular", "uniform"}
    variables : sequence of str or "all", optional
        Result variables to keep (fewer is faster). Default: the model's ``mc_variables`` if
        it has them (e.g. the element model's headline variables), else all; ``"all"``: all.
    check, rtol
        Per-sample mass-balance check.
    progress : bool
        Progress bar on stderr (only when it is a terminal: :mod:`mfa.analysis.progress`).
    store : {"auto", "memory", "disk"}
        Where the ensemble waits for the quantiles (auto: disk above
        ``mfa.analysis.options.MEMORY_STORE_MAX_BYTES``, 128 MiB).
    tmpdir : path-like, optional
        Directory of the temporary files (default: :func:`mfa.analysis.budget.store_directory`).

    Returns
    -------
    xarray.Dataset
        Quantiles of every result variable, ``world_*`` quantiles, ``sample_world_*``,
        ``exceedance_probability`` (if thresholds), ``factor_quantile``; provenance attrs.
    """
    from mfa.io import git_commit, provenance_attrs

    git_commit()  # now, while this process is small: git runs in a child process (cached)
    model = get_model(model)
    seed = _check_seed(seed)
    q = _check_quantiles(quantiles)
    p = _prepare(model, scenario, params)
    variables = _default_variables(model, variables)
    n, chunk, names = _validate(n, chunk, factors, p, distribution, need_range=True)
    thresholds = [float(x) for x in thresholds]
    if any(not math.isfinite(x) for x in thresholds):
        raise UncertaintyError(f"thresholds must be finite numbers, got {thresholds}")
    t0 = _time.perf_counter()
    template, results = _template(model, p, variables, check, rtol)
    chunk = _chunk_size(chunk, model, results, n, chunks_alive(scheduler))
    world = [v for v in model.headline if v in template.data_vars]
    st, label, workers = _compute_ensemble(model, p, n, seed, chunk, scheduler, names,
                                           distribution, template, check=check, rtol=rtol,
                                           progress=progress, store=store, tmpdir=tmpdir,
                                           world=world)
    with st:
        out = summarize(st, template, quantiles=q, thresholds=thresholds, world=world,
                        workers=workers)
    out["factor_quantile"] = _factor_da(seed, names, n)
    scen_name = p.scenario or (str(scenario) if scenario is not None else "defaults")
    files = dict(getattr(p, "files", {}) or {})
    extra = {
        "title": f"{model.material} dynamic MFA (model {model.name}), Monte Carlo ensemble "
                 f"of scenario {scen_name}",
        "model": model.name,
        "material": model.material,
        "scenario_sha256": json.dumps(dict(getattr(p, "scenario_files", {}) or {})),
        **_mc_attrs(seed, n, names, distribution, label),
        "mc_chunk": chunk,
        "mc_elapsed_seconds": round(_time.perf_counter() - t0, 3),
        "mc_quantile_method": "numpy linear (type 7), over the samples where defined",
        "conventions": f"units in attrs['units'] (pint-readable); {model.material} mass",
    }
    out.attrs.update(provenance_attrs(scen_name, files, extra))
    return out
