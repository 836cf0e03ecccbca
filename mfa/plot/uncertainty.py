"""Figures of Monte Carlo and sensitivity results: Sobol ranking, fan charts of every result."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from mfa.analysis.uncertainty import UncertaintyError
from mfa.io.outputs import OutputSet, checkpoint, joined, safe_file_name, write_bytes

__all__ = ["plot_fan_charts", "plot_sensitivity"]


def plot_sensitivity(si: xr.Dataset, *, index: str = "ST", top: int | None = 15):
    """Tornado-style bar chart of Sobol indices, one panel per output and year.

    Bars: total effect ``ST`` (with its confidence interval) and first-order ``S1``, parameters
    sorted by ``index`` in each panel.

    Parameters
    ----------
    si : xarray.Dataset
        From :func:`sensitivity` (dims output, year, parameter) or :func:`sobol_indices`.
    index : {"ST", "S1"}
        Sort key.
    top : int, optional
        Show the ``top`` most important parameters per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    if index not in ("ST", "S1"):
        raise UncertaintyError(f"index must be 'ST' or 'S1', got {index!r}")
    matplotlib.use(matplotlib.get_backend())
    import matplotlib.pyplot as plt

    panels = []
    outs = [str(o) for o in si["output"].values]
    years = [int(y) for y in si["year"].values] if "year" in si.dims else [None]
    for o in outs:
        for y in years:
            sel = {"output": o} | ({"year": y} if y is not None else {})
            panels.append((o, y, si.sel(sel)))
    ncol = len(years)
    nrow = len(outs)
    npar = si.sizes["parameter"] if top is None else min(top, si.sizes["parameter"])
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.0 * ncol, 0.35 * npar * nrow + 1.5),
                             squeeze=False, constrained_layout=True)
    for k, (o, y, s) in enumerate(panels):
        ax = axes[k // ncol][k % ncol]
        key = np.nan_to_num(np.asarray(s[index].values, dtype=float), nan=-1.0)
        order = np.argsort(-key, kind="stable")[:npar][::-1]
        labels = [str(p) for p in s["parameter"].values[order]]
        pos = np.arange(len(order))
        st = np.asarray(s["ST"].values)[order]
        s1 = np.asarray(s["S1"].values)[order]
        ax.barh(pos + 0.2, st, height=0.4, xerr=np.asarray(s["ST_conf"].values)[order],
                color="tab:blue", label="total effect ST", capsize=2)
        ax.barh(pos - 0.2, s1, height=0.4, xerr=np.asarray(s["S1_conf"].values)[order],
                color="tab:orange", label="first order S1", capsize=2)
        ax.set_yticks(pos, labels)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_xlabel("Sobol index [1]")
        ax.set_title(f"{o}" + (f", {y}" if y is not None else ""))
        if k == 0:
            ax.legend(loc="lower right", fontsize="small")
    fig.suptitle(f"Global sensitivity ({si.attrs.get('scenario', '')})".replace(" ()", ""))
    return fig


def plot_fan_charts(summary: xr.Dataset, directory: str | os.PathLike,
                    variables: Sequence[str] | None = None, formats: Sequence[str] = ("png",),
                    *, outputs: OutputSet | None = None) -> list[Path]:
    """Fan charts (quantile bands over time) of the world totals, one file per variable.

    Drawn with :func:`mfa.plot.fan_chart`; written all or none (:mod:`mfa.io.outputs`).

    Parameters
    ----------
    summary : xarray.Dataset
        From :func:`monte_carlo`.
    directory : path-like
        Output directory (created).
    variables : sequence of str, optional
        Default: all ``world_*`` variables.
    formats : sequence of str
        File formats.
    outputs : mfa.io.outputs.OutputSet, optional
        Join this set of outputs: the files go into place only when the set commits.

    Returns
    -------
    list of pathlib.Path
        ``fan_<variable>.<format>`` (characters unsafe in file names become ``_``).
    """
    from mfa.plot import fan_chart

    names = list(variables) if variables is not None else [
        str(v) for v in summary.data_vars if str(v).startswith("world_")]
    missing = [v for v in names if v not in summary]
    if missing:
        raise UncertaintyError(f"no variable(s) {missing} in the Monte Carlo summary")
    files = [f"fan_{safe_file_name(v)}.{fmt}" for v in names for fmt in formats]

    def draw(tmp: Path) -> None:
        for v in names:
            fig = fan_chart(summary, v)
            for fmt in formats:
                buffer = io.BytesIO()
                fig.savefig(buffer, format=fmt, dpi=120)
                write_bytes(tmp / f"fan_{safe_file_name(v)}.{fmt}", buffer.getvalue())
                checkpoint("plots")

    with joined(outputs) as outs:
        outs.write(outs.directory(directory), draw)
    return [Path(directory) / f for f in files]


# =============================================================================================
# Command line
# =============================================================================================
