"""Figures of Monte Carlo and sensitivity results: Sobol ranking, fan charts of every result."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from mfa.analysis.uncertainty import UncertaintyError
from mfa.io.outputs import OutputSet, checkpoint, joined, safe_file_name, write_bytes
from mfa.plot.style import OKABE_ITO, _canvas, save_figure

__all__ = ["plot_fan_charts", "plot_sensitivity"]


def plot_sensitivity(si: xr.Dataset, *, index: str = "ST", top: int | None = 15,
                     ax: Any = None) -> Figure:
    """Tornado-style bar chart of Sobol indices, one panel per output and year.

    Bars: total effect ``ST`` (with its confidence interval) and first-order ``S1``, parameters
    sorted by ``index`` in each panel.

    Parameters
    ----------
    si : xarray.Dataset
        From :func:`~mfa.analysis.uncertainty.sensitivity` (dims output, year, parameter) or :func:`sobol_indices`.
    index : {"ST", "S1"}
        Sort key.
    top : int, optional
        Show the ``top`` most important parameters per panel.
    ax : matplotlib.axes.Axes or sequence of matplotlib.axes.Axes, optional
        One Axes per panel (outputs by rows, years by columns, row by row); default a new
        pyplot figure with a grid of panels.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into.
    """
    if index not in ("ST", "S1"):
        raise UncertaintyError(f"index must be 'ST' or 'S1', got {index!r}")
    outs = [str(o) for o in si["output"].values]
    years = [int(y) for y in si["year"].values] if "year" in si.dims else [None]
    panels = [(o, y) for o in outs for y in years]
    npar = si.sizes["parameter"] if top is None else min(top, si.sizes["parameter"])
    size = (5.5 * len(years), 0.35 * npar * len(outs) + 1.5)
    with _canvas(ax, what="plot_sensitivity", figsize=size, nrows=len(outs),
                 ncols=len(years)) as (fig, axes, own):
        for k, (o, y) in enumerate(panels):
            sel = {"output": o} | ({"year": y} if y is not None else {})
            _sobol_panel(axes[k], si.sel(sel), index, npar,
                         f"{o}" + (f", {y}" if y is not None else ""))
        axes[0].legend(loc="lower right", fontsize="small")
        title = f"Global sensitivity ({si.attrs.get('scenario', '')})".replace(" ()", "")
        if own:
            fig.suptitle(title)
    return fig


def _sobol_panel(ax: Any, s: xr.Dataset, index: str, npar: int, title: str) -> None:
    """Bars of ST and S1 of one output and year, the ``npar`` largest by ``index`` on top."""
    key = np.nan_to_num(np.asarray(s[index].values, dtype=float), nan=-1.0)
    order = np.argsort(-key, kind="stable")[:npar][::-1]
    pos = np.arange(len(order))
    ax.barh(pos + 0.2, np.asarray(s["ST"].values)[order], height=0.4,
            xerr=np.asarray(s["ST_conf"].values)[order], color=OKABE_ITO["blue"],
            label="total effect ST", capsize=2)
    ax.barh(pos - 0.2, np.asarray(s["S1"].values)[order], height=0.4,
            xerr=np.asarray(s["S1_conf"].values)[order], color=OKABE_ITO["orange"],
            label="first order S1", capsize=2)
    ax.set_yticks(pos, [str(p) for p in s["parameter"].values[order]])
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("Sobol index [1]")
    ax.set_title(title)


def plot_fan_charts(summary: xr.Dataset, directory: str | os.PathLike,
                    variables: Sequence[str] | None = None, formats: Sequence[str] = ("png",),
                    *, outputs: OutputSet | None = None) -> list[Path]:
    """Fan charts (quantile bands over time) of the world totals, one file per variable.

    Drawn with :func:`mfa.plot.fan_chart`; written all or none (:mod:`mfa.io.outputs`); each
    figure is closed once saved, so memory stays flat.

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
        for v in names:  # each figure closed once saved: memory stays flat
            for fmt, content in save_figure(fan_chart(summary, v), formats, dpi=120).items():
                write_bytes(tmp / f"fan_{safe_file_name(v)}.{fmt}", content)
                checkpoint("plots")

    with joined(outputs) as outs:
        outs.write(outs.directory(directory), draw)
    return [Path(directory) / f for f in files]


# =============================================================================================
# Command line
# =============================================================================================
