"""Global sensitivity: Sobol first-order and total indices (Saltelli 2010 / Jansen 1999 estimators)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from mfa.analysis.options import DEFAULT_RTOL, UncertaintyError
from mfa.analysis.uncertainty._ensemble import _chunk_size, _prepare, _template, _validate
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
    if D == 1 and K == 1 and math.prod(lead) == 1:  # scipy returns a bare float for one index
        s1, st = _sobol_estimates(*(np.repeat(f, 2, axis=-1) for f in (fA, fB, fAB)))
        return s1[..., :1], st[..., :1]
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
    groups: Mapping[str, Sequence[str]] | None = None,
) -> xr.Dataset:
    """First-order and total Sobol indices of ``func`` over independent uniform inputs.

    With ``groups`` the factors are groups of inputs (grouped Saltelli design): the inputs
    stay independent, and row block ``AB_g`` is ``A`` with the columns of all inputs of group
    ``g`` taken from ``B``. ``S1`` of a group is then its closed first-order index (the share
    of the variance its inputs explain together, interactions among them included) and ``ST``
    its total effect (Jansen 1999). Without ``groups`` each input is its own group.

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
    groups : mapping of str to sequence of str, optional
        Group name -> names of its inputs; every input in exactly one group (order of the
        groups kept). ``func`` is then evaluated on ``n * (G + 2)`` rows for G groups.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (dimensionless) with dims (output,
        parameter), ``parameter`` holding the input names (or the group names, with a
        coordinate ``members``: the inputs of each group joined by ``", "``, and the attribute
        ``groups``: the mapping as JSON); ``mean`` and ``std`` of each output (units of the
        output); attrs n_base, n_evaluations, seed, method.

    Raises
    ------
    UncertaintyError
        No input, a bad ``n``, ``func`` returning the wrong number of rows, or ``groups``
        naming an unknown input, an input twice, an empty group, or leaving an input out.
    """
    from scipy.stats import norm

    seed = _check_seed(seed)
    names = list(names)
    D = len(names)
    if D < 1:
        raise UncertaintyError("sensitivity analysis needs at least one uncertain input")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise UncertaintyError(f"base sample size must be an integer >= 2, got {n!r}")
    grouped = groups is not None
    groups = check_groups(groups, names) if grouped else {p: [p] for p in names}
    members = [[names.index(p) for p in ps] for ps in groups.values()]
    G = len(members)
    U, nb = _design(D, int(n), seed, members)
    Y = np.asarray(func(U), dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != U.shape[0]:
        raise UncertaintyError(f"func returned {Y.shape[0]} rows for {U.shape[0]} inputs")
    K = Y.shape[1]
    fA, fB = Y[:nb], Y[nb:2 * nb]
    fAB = Y[2 * nb:].reshape(G, nb, K).transpose(1, 0, 2)  # (n, G, K)
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
    ds = _indices_dataset((s1, c1, st, ct), Y[: 2 * nb], outs, list(groups), conf_level)
    if grouped:
        ds = _with_members(ds, groups)
    ds.attrs.update({
        "n_base": nb, "n_evaluations": int(U.shape[0]), "seed": seed,
        "method": "Saltelli (2010) first-order and Jansen (1999) total-effect estimators on "
                  "outputs centred on their mean (scipy.stats.sobol_indices), on a scrambled "
                  "Sobol' sequence (scipy.stats.qmc.Sobol), radial A/B/AB_i design"
                  + (" with grouped factors (the columns of a group swapped together)"
                     if grouped else "") + "; "
                  f"bootstrap ({n_bootstrap} resamples) confidence intervals",
    })
    return ds


def _design(D: int, n: int, seed: int,
            members: Sequence[Sequence[int]]) -> tuple[np.ndarray, int]:
    """Rows A, B, AB_1..AB_G (each n_base x D, in [0, 1)) stacked, and n_base (n rounded up to
    a power of 2): A and B from one scrambled Sobol' sequence of dimension 2D; AB_g is A with
    the columns ``members[g]`` from B (one column per group: the ungrouped design)."""
    from scipy.stats import qmc

    m = math.ceil(math.log2(n))
    nb = 2**m
    base = qmc.Sobol(d=2 * D, scramble=True, seed=seed).random_base2(m)
    A, B = base[:, :D], base[:, D:]
    G = len(members)
    AB = np.repeat(A[None, :, :], G, axis=0)  # (G, n, D)
    for g, cols in enumerate(members):
        AB[g][:, list(cols)] = B[:, list(cols)]
    return np.concatenate([A, B, AB.reshape(G * nb, D)], axis=0), nb


def check_groups(groups: Mapping[str, Sequence[str]], names: Sequence[str]
                 ) -> dict[str, list[str]]:
    """``groups`` checked against the factor ``names``: every factor in exactly one group.

    Parameters
    ----------
    groups : mapping of str to sequence of str
        Group name -> names of its factors (parameters).
    names : sequence of str
        The factors (e.g. the uncertain parameters, :func:`uncertain_parameters`).

    Returns
    -------
    dict of str to list of str
        The groups, in the order given, each with its factors in the order given.

    Raises
    ------
    UncertaintyError
        A group that is empty or not a list of names, a name that is no factor, a factor in
        two groups or in none; the message names them all.
    """
    if not isinstance(groups, Mapping) or not groups:
        raise UncertaintyError(f"groups must be a non-empty mapping group -> parameter names, "
                               f"got {groups!r}")
    out: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    twice: list[str] = []
    for g, ps in groups.items():
        if (not isinstance(g, str) or isinstance(ps, str) or not isinstance(ps, Sequence)
                or not ps or not all(isinstance(p, str) for p in ps)):
            raise UncertaintyError(f"group {g!r} must be a non-empty list of parameter names, "
                                   f"got {ps!r}")
        for p in ps:
            if p in seen:
                twice.append(f"{p!r} (in {seen[p]!r} and {g!r})")
            seen.setdefault(p, g)
        out[g] = list(dict.fromkeys(ps))
    known = set(names)
    problems = []
    unknown = [p for p in seen if p not in known]
    if unknown:
        problems.append(f"not uncertain parameters (no low/high range, or not among the "
                        f"factors): {', '.join(map(repr, unknown))}")
    if twice:
        problems.append(f"in more than one group: {', '.join(twice)}")
    missing = [p for p in names if p not in seen]
    if missing:
        problems.append(f"in no group: {', '.join(map(repr, missing))}")
    if problems:
        raise UncertaintyError("bad sensitivity groups: " + "; ".join(problems))
    return out


def _with_members(ds: xr.Dataset, groups: Mapping[str, Sequence[str]]) -> xr.Dataset:
    """``ds`` with the coordinate ``members`` (parameter) and the attribute ``groups`` (JSON)."""
    import json

    ds = ds.assign_coords(members=("parameter", [", ".join(ps) for ps in groups.values()]))
    ds.attrs["groups"] = json.dumps({g: list(ps) for g, ps in groups.items()})
    return ds


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
    groups: Mapping[str, Sequence[str]] | str | None = None,
) -> xr.Dataset:
    """Sobol indices of a model's world outputs with respect to the uncertain parameters.

    Each uncertain parameter is one factor (one quantile for all its elements, as in
    :func:`monte_carlo`), or, with ``groups``, each group of parameters is one factor (grouped
    design of :func:`sobol_indices`: the parameters stay independent, a group's quantiles are
    swapped together). The model runs on ``n * (D + 2)`` parameter sets (``n * (G + 2)`` for G
    groups), chunked and vectorised like the Monte Carlo ensembles; each chunk keeps only the
    outputs.

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
    groups : mapping of str to sequence of str, or "model", optional
        Group name -> parameter names, every uncertain parameter (every name of ``factors``)
        in exactly one group; or ``"model"``: the model's default grouping, its method
        ``sensitivity_groups(names)`` (e.g.
        :func:`mfa.models.neodymium.sensitivity.sensitivity_groups`). Default: no groups.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (dimensionless) with dims (output, year,
        parameter); ``mean`` and ``std`` (output, year) of the world totals; provenance
        attrs. With ``groups``, ``parameter`` holds the group names, the coordinate
        ``members`` (parameter) the parameters of each group joined by ``", "`` and the
        attribute ``groups`` the mapping as JSON.

    Raises
    ------
    UncertaintyError
        Bad options; ``groups`` naming a parameter that is not uncertain, one twice, or
        leaving one out; ``"model"`` for a model without a default grouping.
    """
    from mfa.io import provenance_attrs

    model = get_model(model)
    seed = _check_seed(seed)
    _check_base_samples(n)
    p = _prepare(model, scenario, params)
    _, chunk, names = _validate(2**31, chunk, factors, p, distribution, need_range=True)
    template, _ = _template(model, p, None, True)
    chunk = _chunk_size(chunk, model, template, 2**31)
    outputs, years = _check_outputs(template, list(model.headline) if outputs is None else outputs,
                                    years)
    groups = _resolve_groups(model, names, groups)
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
    si = sobol_indices(evaluate, names, n, seed=seed, n_bootstrap=n_bootstrap, output_names=flat,
                       groups=groups)
    out = _by_output_and_year(si, outputs, years, template)
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


def _resolve_groups(model: Any, names: Sequence[str], groups: Any) -> dict | None:
    """``groups`` of :func:`sensitivity` checked: None, ``"model"`` or a mapping."""
    if groups is None:
        return None
    return model_groups(model, names, groups) if isinstance(groups, str) else check_groups(
        groups, names)


def model_groups(model: Any, names: Sequence[str], which: str = "model") -> dict[str, list[str]]:
    """The default sensitivity groups of ``model`` for the factors ``names``, checked.

    Parameters
    ----------
    model
        A model (:mod:`mfa.core.model`); its optional method ``sensitivity_groups(names)``
        returns group name -> parameter names.
    names : sequence of str
        The factors (uncertain parameters).
    which : str
        Only ``"model"`` is known.

    Returns
    -------
    dict of str to list of str
        The groups, checked by :func:`check_groups`.

    Raises
    ------
    UncertaintyError
        ``which`` is not ``"model"``, the model has no default grouping, or its grouping does
        not put every factor in exactly one group.
    """
    if which != "model":
        raise UncertaintyError(f"groups must be a mapping group -> parameters or 'model', "
                               f"got {which!r}")
    rule = getattr(model, "sensitivity_groups", None)
    if rule is None:
        raise UncertaintyError(f"model {getattr(model, 'name', model)!r} has no default "
                               "sensitivity groups (method sensitivity_groups); give the groups")
    return check_groups(rule(list(names)), names)


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
                        template: xr.Dataset) -> xr.Dataset:
    """The indices of the flat outputs ``output@year`` with dims (output, year, parameter);
    the units of each output (from ``template``, a model result) in coordinate
    ``output_units``, and as the units of ``mean`` and ``std`` when all outputs share them
    (e.g. t/yr for flows, t for stocks)."""
    units = [str(template[o].attrs.get("units", "")) for o in outputs]
    names = si["parameter"].values.tolist()
    out = xr.Dataset(coords={"output": outputs, "year": years, "parameter": names,
                             "output_units": ("output", units)})
    if "members" in si.coords:
        out = out.assign_coords(members=("parameter", si["members"].values.tolist()))
    for v in ("S1", "S1_conf", "ST", "ST_conf"):
        out[v] = xr.DataArray(si[v].values.reshape(len(outputs), len(years), len(names)),
                              dims=("output", "year", "parameter"), attrs=si[v].attrs)
    common = {"units": units[0]} if len(set(units)) == 1 else {}
    for v in ("mean", "std"):
        attrs = {k: x for k, x in si[v].attrs.items() if k != "units"}
        out[v] = xr.DataArray(si[v].values.reshape(len(outputs), len(years)),
                              dims=("output", "year"),
                              attrs={**attrs, **common, "units_by_output": "output_units"})
    return out


def _check_base_samples(n: Any) -> int:
    """The base sample size of :func:`sensitivity`: a power of 2 from 2 (no silent rounding)."""
    if (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2
            or int(n) & (int(n) - 1)):
        raise UncertaintyError(f"base sample size must be a power of 2 (2, 4, 8, ..., 256, 512, "
                               f"...), got {n!r}")
    return int(n)
