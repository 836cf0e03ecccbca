"""Style of the figures: colour-blind-safe palettes, units in labels, captions, plotted data.

Every figure function returns a :class:`matplotlib.figure.Figure` that carries
``fig.plotted_data`` (the numbers drawn, in the units shown) and ``fig.plotted_units``, so that
tests and users can check what was drawn without reading pixels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from mfa.core.errors import MfaError
from mfa.core.units import conversion_factor

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}
#: One colour per product in every figure (Paul Tol's colour-blind-safe "muted" scheme).
_CYCLE = [OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "reddish_purple",
                                  "orange", "sky_blue", "black", "yellow")]
_FALLBACK = ["#BBBBBB", "#777777", "#DDDDDD", "#555555"]

#: Default text naming the sources of the input data shown in demand and stock figures.
_STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

#: Flows of the Sankey diagram (all (time, region) in t/yr). ``flow_primary_oxide`` and
#: ``flow_secondary_oxide`` are derived when the results lack them (see :func:`sankey_flows`);
#: ``flow_stockpile`` (surplus secondary Nd set aside) is optional and 0 when absent.
def _require(ds: xr.Dataset, names: Iterable[str], what: str) -> None:
    if not isinstance(ds, xr.Dataset):
        raise MfaError(f"{what}: expected the results xarray.Dataset, got {type(ds).__name__}")
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise MfaError(
            f"{what}: the results Dataset lacks variable(s) {', '.join(missing)} "
            "(expected the results of mfa.models.neodymium.run)"
        )


def _units(da: xr.DataArray, default: str) -> str:
    return str(da.attrs.get("units", default))


def _display_unit(values: np.ndarray, unit: str) -> tuple[float, str]:
    """Pick t or kt (keeping any '/yr') for mass-based units; return (factor, unit)."""
    unit = unit.strip()
    if unit.split("/")[0].strip() not in ("t", "tonne"):
        return 1.0, unit
    per = "/yr" if "/" in unit else ""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    big = finite.size and float(finite.max()) >= 1e3
    target = ("kt" if big else "t") + per
    return conversion_factor(unit, target, "plotted values"), target


def _model_text(ds: xr.Dataset | xr.DataArray | None) -> str:
    attrs: Mapping[str, Any] = ds.attrs if ds is not None else {}
    from mfa import __version__

    version = attrs.get("model_version", __version__)
    scenario = attrs.get("scenario", "unnamed")
    return f"model: nd-mfa {version}, scenario {scenario}"


def _caption(fig: Figure, text: str) -> None:
    fig.text(0.01, 0.012, text, ha="left", va="bottom", fontsize=9, color="#333333", wrap=True)


def _new_figure(figsize: tuple[float, float] = (8.0, 5.0), nrows: int = 1,
                sharex: bool = False, height_ratios: Sequence[float] | None = None) -> tuple:
    fig = Figure(figsize=figsize, layout="constrained")
    fig.get_layout_engine().set(rect=(0.0, 0.06, 1.0, 0.94))
    axes = fig.subplots(nrows, 1, sharex=sharex, squeeze=False,
                        gridspec_kw={"height_ratios": height_ratios} if height_ratios else None)
    return fig, [a for a in axes[:, 0]]


def _finish(fig: Figure, data: dict[str, np.ndarray], units: dict[str, str]) -> Figure:
    fig.plotted_data = {k: np.asarray(v, dtype=float) for k, v in data.items()}
    fig.plotted_units = dict(units)
    return fig


def _colour(name: str, palette: Mapping[str, str], i: int) -> str:
    return palette.get(name, _FALLBACK[i % len(_FALLBACK)])


def _world(da: xr.DataArray, region: str | None, what: str) -> xr.DataArray:
    if "region" not in da.dims:
        return da
    if region is None:
        return da.sum("region")
    labels = [str(r) for r in da["region"].values]
    if region not in labels:
        raise MfaError(f"{what}: region {region!r} is not in the results; expected one of "
                       f"{', '.join(labels)} (or None for the world)")
    return da.sel(region=region)


def _legend_outside(ax: Any, reverse: bool = True) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if reverse:
        handles, labels = handles[::-1], labels[::-1]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _stacked(ax: Any, time: np.ndarray, series: dict[str, np.ndarray],
             colours: Mapping[str, str], labels: Mapping[str, str]) -> np.ndarray:
    names = list(series)
    ys = np.vstack([series[n] for n in names]) if names else np.zeros((0, time.size))
    ax.stackplot(time, ys, labels=[labels.get(n, n) for n in names],
                 colors=[_colour(n, colours, i) for i, n in enumerate(names)],
                 edgecolor="white", linewidth=0.4)
    total = ys.sum(axis=0)
    ax.set_xlim(time[0], time[-1])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Year")
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    return total


