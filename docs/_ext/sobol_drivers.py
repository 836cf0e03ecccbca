"""What drives the 2050 numbers (docs/scenarios/drivers.md): presentation of the grouped Sobol
indices of the Nd model.

The analysis is the library's: :func:`mfa.analysis.uncertainty.sensitivity` with
``groups="model"`` (the default grouping of :mod:`mfa.models.neodymium.sensitivity`; grouped
Saltelli design, estimators of :func:`scipy.stats.sobol_indices`). This module only runs it for
the page, adds the convergence check (the same design cut to its first ``n / 2`` rows) and
draws the table and the bar chart. The same numbers from the command line:
``mfa sensitivity --groups model --years 2050 --outputs primary_demand,secondary_supply,in_use_stock``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

#: Output variables (world totals) analysed, with their labels.
OUTPUTS = {"primary_demand": "primary demand", "secondary_supply": "secondary supply",
           "in_use_stock": "in-use stock"}


def grouped_sobol(scenario: str = "baseline", *, year: int = 2050, n: int = 256, seed: int = 0,
                  n_bootstrap: int = 200) -> xr.Dataset:
    """Grouped Sobol indices of the world outputs :data:`OUTPUTS` of the Nd model in ``year``
    (:func:`mfa.analysis.uncertainty.sensitivity`, ``groups="model"``), dims (output, group).

    Parameters
    ----------
    scenario : str
        Scenario whose parameters (values and ranges) are analysed.
    year : int
        Model year of the outputs.
    n : int
        Base sample size, a power of 2 >= 4; the model runs on ``n (G + 2)`` parameter sets,
        and on ``n / 2 (G + 2)`` more for the convergence check.
    seed : int
        Seed of the scrambled Sobol' sequence and of the bootstrap.
    n_bootstrap : int
        Bootstrap resamples of the 95 % confidence half-widths.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``ST``, their 95 % half-widths ``S1_conf``, ``ST_conf`` and the estimates
        ``S1_half``, ``ST_half`` from the first ``n / 2`` rows of the same design (the scrambled
        Sobol' sequence of the same seed starts with the same points), dims (output, group),
        coordinate ``members`` (group); ``mean``, ``std`` (output, in t/yr or t); attrs n, seed,
        year, scenario, evaluations, n_bootstrap.
    """
    from mfa.analysis.uncertainty import sensitivity
    from mfa.models.neodymium import MODEL

    kw = {"scenario": scenario, "seed": seed, "outputs": list(OUTPUTS), "years": [year],
          "groups": "model"}
    full = sensitivity(MODEL, None, n, n_bootstrap=n_bootstrap, **kw).sel(year=year, drop=True)
    half = sensitivity(MODEL, None, n // 2, n_bootstrap=2, **kw).sel(year=year, drop=True)
    ds = full[["S1", "ST", "S1_conf", "ST_conf"]].rename(parameter="group")
    ds["S1_half"], ds["ST_half"] = (half[v].rename(parameter="group") for v in ("S1", "ST"))
    ds["mean"], ds["std"] = full["mean"], full["std"]
    ds.attrs = {"n": n, "seed": seed, "year": year, "scenario": scenario,
                "evaluations": int(full.attrs["n_evaluations"]), "n_bootstrap": n_bootstrap}
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
