"""What drives the 2050 numbers: grouped Sobol indices of the Nd model (docs/scenarios/drivers.md).

The factors of :func:`mfa.analysis.uncertainty.sensitivity` are single parameters (one uniform
quantile per parameter, applied to all its elements). Twenty-odd parameters make a bar chart
nobody reads, and several of them act together (the magnet mass per vehicle and per MW and the
Nd share of the magnet are one "magnet intensity"). So the parameters are grouped
(:func:`group_of`), and the indices are those of the groups: with ``A``, ``B`` two independent
quantile matrices (one column per parameter, the parameters independent as in the Monte Carlo)
and ``AB_g`` = ``A`` with the columns of group ``g`` taken from ``B``, the Saltelli (2010)
first-order and Jansen (1999) total-effect estimators of :func:`scipy.stats.sobol_indices` give
the closed first-order index of the group (the share of the variance its parameters explain
together) and its total effect. The model runs on ``n (G + 2)`` parameter sets, vectorised
along ``sample`` by :func:`mfa.analysis.uncertainty.simulate_samples`, with the same
triangular distributions as ``mfa mc``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

#: Output variables (world totals) analysed, with their labels.
OUTPUTS = {"primary_demand": "primary demand", "secondary_supply": "secondary supply",
           "in_use_stock": "in-use stock"}

#: Groups of parameters, first match wins: (group, test on the parameter name).
_RULES: tuple[tuple[str, Any], ...] = (
    ("recycling", lambda n: any(k in n for k in ("recycl", "collection", "scrap_trade",
                                                  "new_scrap"))),
    ("lifetimes", lambda n: "lifetime" in n or "hibernation" in n or "retire" in n),
    ("EV and wind deployment", lambda n: n.startswith(("ev_", "wind_")) or "fleet" in n
     or n in ("installed_capacity", "wind_capacity")),
    ("motor and generator technology", lambda n: n == "pm_share"),
    ("magnet intensity", lambda n: n.startswith("magnet_per_") or n == "nd_share_in_magnet"),
    ("other end uses", lambda n: n.startswith(("end_use_", "use_region_share"))),
    ("supply-chain yields and losses", lambda n: n.startswith("yield_")
     or n in ("magnet_scrap_rate", "undocumented_mining_share")),
)


def group_of(name: str) -> str:
    """The group of parameter ``name``; a parameter no rule knows is a group of its own (so a
    new uncertain parameter is never dropped, it shows up under its own name)."""
    for group, test in _RULES:
        if test(name):
            return group
    return name


def groups(names: Sequence[str]) -> dict[str, list[str]]:
    """Group -> parameters, groups in order of first appearance in ``names``."""
    out: dict[str, list[str]] = {}
    for n in names:
        out.setdefault(group_of(n), []).append(n)
    return out


def _design(members: Sequence[Sequence[int]], D: int, n: int, seed: int) -> np.ndarray:
    """Rows A, B, AB_1 .. AB_G (n x D each) from one scrambled Sobol' sequence of dim 2D."""
    from scipy.stats import qmc

    base = qmc.Sobol(d=2 * D, scramble=True, seed=seed).random_base2(int(math.log2(n)))
    A, B = base[:, :D], base[:, D:]
    blocks = [A, B]
    for cols in members:
        AB = A.copy()
        AB[:, list(cols)] = B[:, list(cols)]
        blocks.append(AB)
    return np.concatenate(blocks, axis=0)


def _evaluate(params: Any, U: np.ndarray, names: list[str], year: int,
              chunk: int = 256) -> np.ndarray:
    """World totals of :data:`OUTPUTS` in ``year`` for each row of quantiles ``U`` -> (rows, K)."""
    from mfa.analysis.uncertainty import simulate_samples
    from mfa.models.neodymium import MODEL

    out = np.empty((U.shape[0], len(OUTPUTS)))
    for s in range(0, U.shape[0], chunk):
        ds = simulate_samples(MODEL, params, U[s:s + chunk], names)
        for k, v in enumerate(OUTPUTS):
            da = ds[v].sel(time=year)
            da = da.sum([d for d in da.dims if d != "sample"])
            out[s:s + chunk, k] = np.broadcast_to(da.values, (min(chunk, U.shape[0] - s),))
    return out


def _indices(fA: np.ndarray, fB: np.ndarray, fAB: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S1, ST (..., G, K) from outputs fA, fB (..., n, K) and fAB (..., G, n, K)."""
    from scipy.stats import sobol_indices

    *lead, n, K = fA.shape
    G = fAB.shape[-3]
    if G == 1 and not lead and K == 1:  # scipy returns a bare number for one index: pad
        s1, st = _indices(np.repeat(fA, 2, -1), np.repeat(fB, 2, -1), np.repeat(fAB, 2, -1))
        return s1[..., :1], st[..., :1]
    res = sobol_indices(func={
        "f_A": np.moveaxis(fA, -2, -1).reshape(-1, n),
        "f_B": np.moveaxis(fB, -2, -1).reshape(-1, n),
        "f_AB": np.moveaxis(np.moveaxis(fAB, -3, 0), -2, -1).reshape(G, -1, n),
    }, n=n)
    s1 = np.swapaxes(res.first_order.reshape(*lead, K, G), -1, -2)
    st = np.swapaxes(res.total_order.reshape(*lead, K, G), -1, -2)
    return s1, st


def grouped_indices(func: Any, D: int, members: Sequence[Sequence[int]], n: int, seed: int = 0,
                    n_bootstrap: int = 200) -> dict[str, np.ndarray]:
    """Grouped first-order and total Sobol indices of ``func`` over D independent uniforms.

    Parameters
    ----------
    func : callable
        ``func(U)``, ``U`` of shape (rows, D) in [0, 1), returns (rows, K).
    D : int
        Number of inputs.
    members : sequence of sequence of int
        The input columns of each of the G groups.
    n : int
        Base sample size, a power of 2 >= 4; ``func`` sees ``n (G + 2)`` rows.
    seed : int
        Seed of the scrambled Sobol' sequence and of the bootstrap.
    n_bootstrap : int
        Bootstrap resamples of the 95 % half-widths.

    Returns
    -------
    dict of numpy.ndarray
        ``S1``, ``ST``, ``S1_conf``, ``ST_conf``, ``S1_half``, ``ST_half`` (G, K) (``_half``:
        from the first n / 2 rows of the same design), ``Y`` (rows, K) the outputs.
    """
    if n < 4 or n & (n - 1):
        raise ValueError(f"n must be a power of 2 >= 4, got {n}")
    members = [list(m) for m in members]
    G = len(members)
    U = _design(members, D, n, seed)
    Y = np.asarray(func(U), dtype=float).reshape(U.shape[0], -1)
    fA, fB = Y[:n], Y[n:2 * n]
    fAB = Y[2 * n:].reshape(G, n, -1)
    s1, st = _indices(fA, fB, fAB)
    h = n // 2
    s1h, sth = _indices(fA[:h], fB[:h], fAB[:, :h])
    idx = np.random.default_rng(seed).integers(0, n, size=(n_bootstrap, n))
    b1, bt = _indices(fA[idx], fB[idx], np.moveaxis(fAB[:, idx], 0, 1))
    z = 1.959963984540054  # 95 % normal quantile
    return {"S1": s1, "ST": st, "S1_conf": z * b1.std(axis=0, ddof=1),
            "ST_conf": z * bt.std(axis=0, ddof=1), "S1_half": s1h, "ST_half": sth, "Y": Y}


def grouped_sobol(scenario: str = "baseline", *, year: int = 2050, n: int = 256, seed: int = 0,
                  n_bootstrap: int = 200) -> xr.Dataset:
    """Grouped Sobol indices (:func:`grouped_indices`, groups of :func:`groups`) of the world
    outputs :data:`OUTPUTS` of the Nd model in ``year``, over the uncertain parameters of
    ``scenario`` (their triangular distributions, as in ``mfa mc``).

    Parameters
    ----------
    scenario : str
        Scenario whose parameters (values and ranges) are analysed.
    year : int
        Model year of the outputs.
    n : int
        Base sample size, a power of 2; the model runs on ``n (G + 2)`` parameter sets.
    seed : int
        Seed of the scrambled Sobol' sequence and of the bootstrap.
    n_bootstrap : int
        Bootstrap resamples of the 95 % confidence half-widths.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``ST``, their 95 % half-widths ``S1_conf``, ``ST_conf`` and the estimates
        ``S1_half``, ``ST_half`` from the first ``n / 2`` rows of the same design (a convergence
        check), dims (output, group); ``mean``, ``std`` (output, in t/yr or t); attrs n, seed,
        year, scenario, evaluations and the members of each group.
    """
    from mfa.analysis.uncertainty import uncertain_parameters
    from mfa.data.params import load_parameters
    from mfa.data.scenarios import apply_scenario

    params = apply_scenario(load_parameters(), scenario)
    names = uncertain_parameters(params)
    grp = groups(names)
    members = [[names.index(p) for p in ps] for ps in grp.values()]
    r = grouped_indices(lambda U: _evaluate(params, U, names, year), len(names), members, n,
                        seed, n_bootstrap)
    dims = ("output", "group")
    Y = r.pop("Y")
    ds = xr.Dataset({k: (dims, v.T) for k, v in r.items()},
                    coords={"output": list(OUTPUTS), "group": list(grp)})
    ds["mean"] = ("output", Y[:2 * n].mean(axis=0))
    ds["std"] = ("output", Y[:2 * n].std(axis=0))
    ds.attrs.update({"n": n, "seed": seed, "year": year, "scenario": scenario,
                     "evaluations": int(Y.shape[0]), "n_bootstrap": n_bootstrap,
                     **{f"members: {g}": ", ".join(ps) for g, ps in grp.items()}})
    return ds


def table(si: xr.Dataset) -> pd.DataFrame:
    """S1 and ST with their 95 % half-widths, by group (rows) and output (columns)."""
    cols = {}
    for o in si["output"].values:
        for v in ("S1", "ST"):
            est, conf = si[v].sel(output=o).values, si[f"{v}_conf"].sel(output=o).values
            cols[(OUTPUTS[str(o)], v)] = [f"{a:.2f} ± {c:.2f}" for a, c in zip(est, conf, strict=True)]
    out = pd.DataFrame(cols, index=pd.Index([str(g) for g in si["group"].values], name="group"))
    order = si["ST"].sel(output="primary_demand").values.argsort()[::-1]
    return out.iloc[order]


def bar_chart(si: xr.Dataset) -> Any:
    """One panel per output: S1 and ST of each group with their 95 % intervals."""
    import matplotlib.pyplot as plt

    K = si.sizes["output"]
    fig, axes = plt.subplots(1, K, figsize=(4.2 * K, 3.6), sharey=True, squeeze=False)
    order = si["ST"].sel(output="primary_demand").values.argsort()
    y = np.arange(si.sizes["group"])
    labels = [str(g) for g in si["group"].values[order]]
    for ax, o in zip(axes.flat, si["output"].values, strict=True):
        s = si.sel(output=o)
        ax.barh(y + 0.2, s["ST"].values[order], 0.4, xerr=s["ST_conf"].values[order],
                color="tab:blue", label="total effect ST", capsize=2)
        ax.barh(y - 0.2, s["S1"].values[order], 0.4, xerr=s["S1_conf"].values[order],
                color="tab:orange", label="first order S1", capsize=2)
        ax.set_title(f"world {OUTPUTS[str(o)]}, {si.attrs['year']}", fontsize=9)
        ax.set_xlim(0, 1)
        ax.grid(axis="x", alpha=0.3)
    axes.flat[0].set_yticks(y, labels, fontsize=8)
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def ranking(si: xr.Dataset, output: str) -> list[tuple[str, float, float]]:
    """Groups of ``output`` by decreasing total effect: (group, ST, S1)."""
    s = si.sel(output=output)
    order = s["ST"].values.argsort()[::-1]
    g = si["group"].values
    return [(str(g[i]), float(s["ST"].values[i]), float(s["S1"].values[i])) for i in order]
