"""Time-series figures of any model's results: fan charts of Monte Carlo quantiles."""

from __future__ import annotations

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from mfa.core.errors import MfaError
from mfa.plot.style import (
    _STYLE,
    OKABE_ITO,
    _caption,
    _display_unit,
    _finish,
    _legend_outside,
    _model_text,
    _new_figure,
    _units,
)

__all__ = ["fan_chart"]


def fan_chart(quantiles_ds: xr.Dataset | xr.DataArray, var: str | None = None, *,
              quantile_dim: str = "quantile", ylabel: str | None = None,
              title: str | None = None) -> Figure:
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

    Returns
    -------
    matplotlib.figure.Figure
        ``plotted_data``: ``"time"`` and ``"q<q>"`` for each quantile (e.g. ``"q0.05"``), in the
        displayed unit; the band between ``q[i]`` and ``q[-1-i]`` is shaded.
    """
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
    da = da.sortby(quantile_dim)
    qs = np.asarray(da[quantile_dim].values, dtype=float)
    time = da["time"].values
    factor, unit = _display_unit(da.values, _units(da, "1"))
    values = da.transpose(quantile_dim, "time").values * factor
    data: dict[str, np.ndarray] = {"time": time}
    for q, v in zip(qs, values, strict=True):
        data[f"q{q:g}"] = v
    colour = OKABE_ITO["blue"]
    with matplotlib.rc_context(_STYLE):
        fig, (ax,) = _new_figure()
        n = len(qs)
        for i in range(n // 2):
            lo, hi = qs[i], qs[n - 1 - i]
            ax.fill_between(time, values[i], values[n - 1 - i], color=colour,
                            alpha=0.18 + 0.17 * i, linewidth=0,
                            label=f"{lo * 100:g}-{hi * 100:g} % range")
        mid = int(np.argmin(np.abs(qs - 0.5)))
        ax.plot(time, values[mid], color=colour, linewidth=2.0,
                label=f"{'Median' if np.isclose(qs[mid], 0.5) else f'q{qs[mid]:g}'}")
        ax.set_xlim(time[0], time[-1])
        ax.set_xlabel("Year")
        ax.set_ylabel(ylabel or f"{da.attrs.get('long_name', var)} [{unit}]")
        ax.set_title(title or f"{da.attrs.get('long_name', var)}: Monte Carlo quantiles")
        ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
        _legend_outside(ax, reverse=False)
        samples = quantiles_ds.attrs.get("samples")
        _caption(fig, f"{_model_text(quantiles_ds)}"
                 + (f"; {samples} Monte Carlo samples" if samples else "") + ".")
    return _finish(fig, data, {k: ("yr" if k == "time" else unit) for k in data})


