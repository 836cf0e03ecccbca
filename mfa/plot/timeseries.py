"""Time-series figures of any model's results: fan charts of Monte Carlo quantiles."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from mfa.core.errors import MfaError
from mfa.plot.style import (
    OKABE_ITO,
    _canvas,
    _display_unit,
    _finish,
    _frame,
    _grid,
    _model_text,
    _units,
    scenario_colour,
)

__all__ = ["fan_chart"]


def fan_chart(quantiles_ds: xr.Dataset | xr.DataArray, var: str | None = None, *,
              quantile_dim: str = "quantile", ylabel: str | None = None,
              title: str | None = None, ax: Any = None) -> Figure:
    """Fan chart of Monte Carlo quantiles: shaded bands between symmetric quantiles and a median.

    Parameters
    ----------
    quantiles_ds : xarray.Dataset or xarray.DataArray
        Quantiles along ``quantile_dim`` (values in [0, 1], e.g. 0.05, 0.5, 0.95) and ``time``;
        other dims must already be selected or summed (quantiles of a sum are not the sum of
        quantiles, so this function does not sum them).
    var : str, optional
        Variable to draw when ``quantiles_ds`` is a Dataset.
    quantile_dim : str
        Name of the quantile dimension.
    ylabel, title : str, optional
        Axis label (default: long_name and unit of the variable) and title.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes (title on it, legend inside, no caption). Default: a new pyplot
        figure with a caption naming the model, scenario and number of samples (attrs
        ``scenario`` and ``mc_samples`` of :func:`mfa.analysis.uncertainty.monte_carlo`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into. ``plotted_data``: ``"time"`` and ``"q<q>"`` for each quantile
        (e.g. ``"q0.05"``), in the displayed unit; the band between ``q[i]`` and ``q[-1-i]``
        is shaded, in the colour of the scenario (:func:`mfa.plot.style.scenario_colour`).
    """
    da, var = _quantiles(quantiles_ds, var, quantile_dim)
    qs = np.asarray(da[quantile_dim].values, dtype=float)
    time = da["time"].values
    factor, unit = _display_unit(da.values, _units(da, "1"))
    values = da.transpose(quantile_dim, "time").values * factor
    data: dict[str, np.ndarray] = {"time": time}
    for q, v in zip(qs, values, strict=True):
        data[f"q{q:g}"] = v
    scenario = quantiles_ds.attrs.get("scenario")
    colour = scenario_colour(scenario) if scenario else OKABE_ITO["blue"]
    long_name = str(da.attrs.get("long_name", var))
    with _canvas(ax, what="fan_chart") as (fig, (axis,), own):
        _bands(axis, time, qs, values, colour)
        axis.set_xlim(time[0], time[-1])
        if np.nanmin(values) >= 0:
            axis.set_ylim(bottom=0)
        axis.set_xlabel("Year")
        _grid(axis)
        samples = quantiles_ds.attrs.get("mc_samples", quantiles_ds.attrs.get("samples"))
        _frame(fig, [axis], own, title=title or _fan_title(long_name),
               ylabels=[ylabel or f"{long_name.split(':')[0]} [{unit}]"],
               caption=f"{_model_text(quantiles_ds)}"
               + (f"; {samples} Monte Carlo samples" if samples else "") + ".",
               legend=axis, reverse=False)
    return _finish(fig, data, {k: ("yr" if k == "time" else unit) for k in data})


def _quantiles(quantiles_ds: xr.Dataset | xr.DataArray, var: str | None,
               quantile_dim: str) -> tuple[xr.DataArray, str]:
    """The quantiles to draw (sorted), checked: dims (quantile_dim, time) only."""
    if isinstance(quantiles_ds, xr.Dataset):
        if var is None or var not in quantiles_ds:
            raise MfaError(f"fan_chart: variable {var!r} not in the Dataset; expected one of "
                           f"{', '.join(map(str, quantiles_ds.data_vars))}")
        da = quantiles_ds[var]
    elif isinstance(quantiles_ds, xr.DataArray):
        da = quantiles_ds
        var = var or str(da.name)
    else:
        raise MfaError("fan_chart: expected an xarray Dataset or DataArray of quantiles")
    if quantile_dim not in da.dims or "time" not in da.dims:
        raise MfaError(f"fan_chart: {var!r} needs dims ({quantile_dim!r}, 'time'); it has "
                       f"{da.dims}")
    extra = [d for d in da.dims if d not in (quantile_dim, "time")]
    if extra:
        raise MfaError(f"fan_chart: {var!r} has extra dims {extra}; select one label of each "
                       "(quantiles of a sum are not sums of quantiles)")
    return da.sortby(quantile_dim), str(var)


def _fan_title(long_name: str) -> str:
    return long_name if "quantile" in long_name else f"{long_name}: Monte Carlo quantiles"


def _bands(ax: Any, time: np.ndarray, qs: np.ndarray, values: np.ndarray, colour: str) -> None:
    """Shaded bands between symmetric quantiles (darker inside) and the median line."""
    n = len(qs)
    for i in range(n // 2):
        lo, hi = qs[i], qs[n - 1 - i]
        ax.fill_between(time, values[i], values[n - 1 - i], color=colour,
                        alpha=0.18 + 0.17 * i, linewidth=0,
                        label=f"{lo * 100:g}-{hi * 100:g} % range")
    mid = int(np.argmin(np.abs(qs - 0.5)))
    ax.plot(time, values[mid], color=colour, linewidth=2.0,
            label="Median" if np.isclose(qs[mid], 0.5) else f"q{qs[mid]:g}")
