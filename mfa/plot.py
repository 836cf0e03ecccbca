"""Figures of Nd model results (matplotlib; no display needed).

Every function takes the results :class:`xarray.Dataset` of :func:`mfa.neodymium.run` (variable
names and units as documented for the results) and returns a :class:`matplotlib.figure.Figure`
built without :mod:`matplotlib.pyplot`, so it works with any backend (Agg included) and leaves
no global figure state behind. :func:`save_all` writes the standard set of figures to files.

Plotted-data convention
-----------------------
Each returned figure carries two extra attributes so that tests (and users) can check what was
drawn without reading pixels:

``fig.plotted_data : dict[str, numpy.ndarray]``
    The numbers drawn, in the units shown on the figure (for example the top of each stacked
    area in kt/yr). Keys are documented in each function (e.g. ``"ev_bev"``, ``"total"``,
    ``"china_share/mining"``); time series share the axis in ``plotted_data["time"]``.
``fig.plotted_units : dict[str, str]``
    The unit of each entry of ``plotted_data`` (``"kt/yr"``, ``"t"``, ``"%"``, ``"1"``...).

Conventions: colour-blind-safe palettes (Paul Tol "muted" for products, Okabe-Ito elsewhere),
one colour per product in every figure (:data:`PRODUCT_COLOURS`), units in every axis label,
and a caption naming the model version, the scenario and, where input data are shown, their
sources.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from mfa.errors import MfaError
from mfa.outputs import OutputSet, checkpoint, joined, safe_file_name, write_bytes
from mfa.units import check_dimensionality, conversion_factor

__all__ = [
    "OKABE_ITO",
    "PRODUCT_COLOURS",
    "PRODUCT_LABELS",
    "REGION_COLOURS",
    "STAGE_COLOURS",
    "SANKEY_FLOWS",
    "check_results",
    "demand_by_product",
    "fan_chart",
    "in_use_stock",
    "primary_vs_secondary",
    "sankey",
    "sankey_flows",
    "sankey_html",
    "save_all",
    "scenario_comparison",
    "selected_kinds",
    "supply_concentration",
]

# --------------------------------------------------------------------------------------------
# Palettes and labels
# --------------------------------------------------------------------------------------------
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
PRODUCT_COLOURS = {
    "ev_bev": "#332288",
    "ev_phev": "#88CCEE",
    "e_two_wheeler": "#44AA99",
    "wind_onshore": "#117733",
    "wind_offshore": "#999933",
    "electronics": "#DDCC77",
    "industrial_motors": "#CC6677",
    "other_magnets": "#882255",
    "non_magnet": "#AA4499",
}
PRODUCT_LABELS = {
    "ev_bev": "Battery-electric cars",
    "ev_phev": "Plug-in hybrid cars",
    "e_two_wheeler": "Electric two/three-wheelers",
    "wind_onshore": "Wind, onshore",
    "wind_offshore": "Wind, offshore",
    "electronics": "Electronics",
    "industrial_motors": "Industrial motors",
    "other_magnets": "Other magnet uses",
    "non_magnet": "Non-magnet uses",
}
REGION_COLOURS = {
    "China": OKABE_ITO["vermillion"],
    "Japan": OKABE_ITO["blue"],
    "Rest of Asia": OKABE_ITO["orange"],
    "Europe": OKABE_ITO["bluish_green"],
    "North America": OKABE_ITO["sky_blue"],
    "Rest of World": OKABE_ITO["reddish_purple"],
}
STAGE_COLOURS = {
    "mining": OKABE_ITO["orange"],
    "separation": OKABE_ITO["sky_blue"],
    "metal": OKABE_ITO["bluish_green"],
    "magnet": OKABE_ITO["blue"],
    "manufacturing": OKABE_ITO["reddish_purple"],
}
SOURCE_COLOURS = {
    "primary": OKABE_ITO["blue"],
    "new_scrap": OKABE_ITO["orange"],
    "end_of_life": OKABE_ITO["bluish_green"],
}
SOURCE_LABELS = {"new_scrap": "Secondary: new scrap", "end_of_life": "Secondary: end of life"}
_CYCLE = [OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "reddish_purple",
                                  "orange", "sky_blue", "black", "yellow")]
_FALLBACK = ["#BBBBBB", "#777777", "#DDDDDD", "#555555"]

#: Default text naming the sources of the input data shown in demand and stock figures.
INPUT_SOURCES = "IEA Global EV Outlook 2025, IRENA 2024 and the sources in params/sources.csv"
#: Default text naming the sources behind the supply-chain shares.
SUPPLY_SOURCES = "USGS Mineral Commodity Summaries 2025 and the sources in params/sources.csv"

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
SANKEY_FLOWS = (
    "flow_mined",
    "flow_mining_losses",
    "flow_concentrate",
    "flow_separation_losses",
    "flow_primary_oxide",
    "flow_secondary_oxide",
    "flow_oxide_to_metal",
    "flow_oxide_to_manufacturing",
    "flow_metal_losses",
    "flow_alloy_to_magnet",
    "flow_new_scrap",
    "flow_magnet_to_manufacturing",
    "flow_products_to_use",
    "flow_eol",
    "flow_collected",
    "flow_eol_losses",
    "flow_recycling_losses",
    "flow_recycled_new_scrap",
    "flow_recycled_eol",
    "flow_new_scrap_losses",
    "flow_stockpile",
)
_DERIVED = {
    "flow_primary_oxide": (("flow_concentrate", 1.0), ("flow_separation_losses", -1.0)),
    "flow_secondary_oxide": (("flow_recycled_new_scrap", 1.0), ("flow_recycled_eol", 1.0)),
    "flow_stockpile": (),
}


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------
def _require(ds: xr.Dataset, names: Iterable[str], what: str) -> None:
    if not isinstance(ds, xr.Dataset):
        raise MfaError(f"{what}: expected the results xarray.Dataset, got {type(ds).__name__}")
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise MfaError(
            f"{what}: the results Dataset lacks variable(s) {', '.join(missing)} "
            "(expected the results of mfa.neodymium.run)"
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


def _fmt(value: float) -> str:
    """Round a value for a label: 3 significant digits, no scientific notation."""
    a = abs(value)
    if a == 0:
        return "0"
    if a >= 100:
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 1:
        return f"{value:.2f}"
    if a >= 0.01:
        return f"{value:.3f}".rstrip("0")
    return f"{value:.1e}"


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


# --------------------------------------------------------------------------------------------
# Time-series figures
# --------------------------------------------------------------------------------------------
def demand_by_product(ds: xr.Dataset, *, region: str | None = None,
                      sources: str | None = None) -> Figure:
    """Stacked areas of Nd in new products by product.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results with ``nd_in_new_products`` (time, region, product) [t/yr].
    region : str, optional
        One region; ``None`` (default) sums over all regions (world).
    sources : str, optional
        Text naming the input-data sources for the caption (default :data:`INPUT_SOURCES`).

    Returns
    -------
    matplotlib.figure.Figure
        ``plotted_data``: ``"time"`` [yr], one entry per product and ``"total"`` (top of the
        stack), in the displayed unit (t/yr or kt/yr).
    """
    _require(ds, ["nd_in_new_products"], "demand_by_product")
    da = _world(ds["nd_in_new_products"], region, "demand_by_product")
    return _stacked_figure(ds, da, "product", "t/yr", ylabel="Nd in new products",
                           title=f"Nd in new products by end use, {region or 'world'}",
                           sources=sources)


def primary_vs_secondary(ds: xr.Dataset, *, sources: str | None = None) -> Figure:
    """Supply of Nd to the oxide stage: primary (mined, world) and secondary by source, stacked.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results with ``primary_demand`` (time, region) [t/yr], ``secondary_supply``
        (time, source) [t/yr] and, if present, ``primary_demand_no_recycling`` (time) [t/yr]
        (drawn as a dashed line).
    sources : str, optional
        Text naming the input-data sources for the caption.

    Returns
    -------
    matplotlib.figure.Figure
        ``plotted_data``: ``"time"``, ``"primary"`` (sum over region), ``"secondary/<source>"``,
        ``"total"`` (top of the stack) and, if available, ``"primary_no_recycling"``.
    """
    _require(ds, ["primary_demand", "secondary_supply"], "primary_vs_secondary")
    primary = _world(ds["primary_demand"], None, "primary_vs_secondary")
    secondary = ds["secondary_supply"]
    time = primary["time"].values
    factor, unit = _display_unit(primary.values + secondary.sum("source").values,
                                 _units(primary, "t/yr"))
    sec_factor = conversion_factor(_units(secondary, "t/yr"), unit, "secondary_supply")
    series = {"primary": primary.values * factor}
    for s in secondary["source"].values:
        series[f"secondary/{s}"] = secondary.sel(source=s).values * sec_factor
    colours = {k: SOURCE_COLOURS.get(k.removeprefix("secondary/"), "#999999") for k in series}
    labels = {"primary": "Primary (mined)",
              **{f"secondary/{s}": SOURCE_LABELS.get(str(s), f"Secondary: {s}")
                 for s in secondary["source"].values}}
    data: dict[str, np.ndarray] = {"time": time}
    with matplotlib.rc_context(_STYLE):
        fig, (ax,) = _new_figure()
        total = _stacked(ax, time, series, colours, labels)
        if "primary_demand_no_recycling" in ds:
            nr = ds["primary_demand_no_recycling"]
            nr_v = _world(nr, None, "primary_vs_secondary").values * conversion_factor(
                _units(nr, "t/yr"), unit, "primary_demand_no_recycling")
            ax.plot(time, nr_v, color="black", linestyle="--", linewidth=1.4,
                    label="Primary demand without recycling")
            data["primary_no_recycling"] = nr_v
        ax.set_ylabel(f"Nd supply [{unit}]")
        ax.set_title("Primary and secondary Nd supply, world")
        _legend_outside(ax)
        _caption(fig, f"Inputs: {sources or ds.attrs.get('input_sources', INPUT_SOURCES)}; "
                 f"{_model_text(ds)}. Nd element mass.")
    data.update(series)
    data["total"] = total
    return _finish(fig, data, {k: ("yr" if k == "time" else unit) for k in data})


def in_use_stock(ds: xr.Dataset, by: str = "product", *, sources: str | None = None) -> Figure:
    """Stacked areas of the Nd in-use stock by product or by region.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results with ``in_use_stock`` (time, region, product) [t].
    by : {"product", "region"}
        Dimension to stack; the other one is summed.
    sources : str, optional
        Text naming the input-data sources for the caption.

    Returns
    -------
    matplotlib.figure.Figure
        ``plotted_data``: ``"time"``, one entry per product (or region) and ``"total"``, in the
        displayed unit (t or kt).
    """
    if by not in ("product", "region"):
        raise MfaError(f"in_use_stock: by={by!r}; expected 'product' or 'region'")
    _require(ds, ["in_use_stock"], "in_use_stock")
    da = ds["in_use_stock"]
    other = "region" if by == "product" else "product"
    da = da.sum(other) if other in da.dims else da
    return _stacked_figure(ds, da, by, "t", ylabel="Nd in use stock",
                           title=f"Nd in the in-use stock by {by}, world", sources=sources)


def _stacked_figure(ds: xr.Dataset, da: xr.DataArray, by: str, default_unit: str, *,
                    ylabel: str, title: str, sources: str | None) -> Figure:
    """Stacked areas of ``da`` (time, ``by``) with legend, caption and ``plotted_data``."""
    time = da["time"].values
    factor, unit = _display_unit(da.sum(by).values, _units(da, default_unit))
    series = {str(k): da.sel({by: k}).values * factor for k in da[by].values}
    colours = PRODUCT_COLOURS if by == "product" else REGION_COLOURS
    labels = PRODUCT_LABELS if by == "product" else {}
    with matplotlib.rc_context(_STYLE):
        fig, (ax,) = _new_figure()
        total = _stacked(ax, time, series, colours, labels)
        ax.set_ylabel(f"{ylabel} [{unit}]")
        ax.set_title(title)
        _legend_outside(ax)
        _caption(fig, f"Inputs: {sources or ds.attrs.get('input_sources', INPUT_SOURCES)}; "
                 f"{_model_text(ds)}. Nd element mass.")
    data = {"time": time, **series, "total": total}
    return _finish(fig, data, {k: ("yr" if k == "time" else unit) for k in data})


def supply_concentration(ds: xr.Dataset, *, region: str = "China",
                         sources: str | None = None) -> Figure:
    """Supply concentration by stage: one region's share of production and the HHI.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results with ``production_share`` (time, region, stage) [1] and ``hhi``
        (time, stage) [1].
    region : str
        Region whose share is drawn (default China).
    sources : str, optional
        Text naming the input-data sources for the caption (default :data:`SUPPLY_SOURCES`).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels. ``plotted_data``: ``"time"``, ``"share/<stage>"`` [%] and
        ``"hhi/<stage>"`` [1] (0 = many equal producers, 1 = one producer).
    """
    _require(ds, ["production_share", "hhi"], "supply_concentration")
    share = _world(ds["production_share"], region, "supply_concentration")
    share = share * conversion_factor(_units(share, "1"), "percent", "production_share")
    hhi = ds["hhi"] * conversion_factor(_units(ds["hhi"], "1"), "1", "hhi")
    time = share["time"].values
    data: dict[str, np.ndarray] = {"time": time}
    units = {"time": "yr"}
    with matplotlib.rc_context(_STYLE):
        fig, (ax1, ax2) = _new_figure((8.0, 6.0), nrows=2, sharex=True, height_ratios=(3, 2))
        for i, s in enumerate(share["stage"].values):
            c = _colour(str(s), STAGE_COLOURS, i)
            v = share.sel(stage=s).values
            ax1.plot(time, v, color=c, linewidth=1.8, label=str(s).capitalize())
            data[f"share/{s}"] = v
            units[f"share/{s}"] = "%"
        for i, s in enumerate(hhi["stage"].values):
            c = _colour(str(s), STAGE_COLOURS, i)
            v = hhi.sel(stage=s).values
            ax2.plot(time, v, color=c, linewidth=1.8, label=str(s).capitalize())
            data[f"hhi/{s}"] = v
            units[f"hhi/{s}"] = "1"
        ax1.set_ylim(0, 100)
        ax1.set_ylabel(f"{region}'s share of production [%]")
        ax1.set_title(f"Supply concentration of Nd by stage: {region}'s share and HHI")
        ax2.set_ylim(0, 1)
        ax2.axhline(0.25, color="#777777", linewidth=0.8, linestyle=":")
        ax2.text(time[0], 0.26, "highly concentrated (HHI > 0.25)", fontsize=9, color="#555555",
                 va="bottom")
        ax2.set_ylabel("Herfindahl-Hirschman index [1]")
        ax2.set_xlabel("Year")
        ax2.set_xlim(time[0], time[-1])
        for ax in (ax1, ax2):
            ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
        ax1.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="Stage")
        _caption(fig, f"Inputs: {sources or ds.attrs.get('supply_sources', SUPPLY_SOURCES)}; "
                 f"{_model_text(ds)}.")
    return _finish(fig, data, units)


def scenario_comparison(results: Mapping[str, xr.Dataset], *,
                        reference: str | None = None) -> Figure:
    """Primary (mined) Nd demand, world, for several scenarios, with the part avoided by recycling.

    Parameters
    ----------
    results : Mapping[str, xarray.Dataset]
        Scenario name -> results (with ``primary_demand`` (time, region) [t/yr] and, unless
        ``reference`` is given, ``primary_demand_no_recycling`` (time) [t/yr]).
    reference : str, optional
        Name of a scenario without recycling. If given, the shaded band of every other scenario
        lies between the reference's primary demand and its own; otherwise between each
        scenario's ``primary_demand_no_recycling`` and its ``primary_demand``.

    Returns
    -------
    matplotlib.figure.Figure
        ``plotted_data``: ``"time"``, ``"<name>/primary"``, ``"<name>/without_recycling"``
        (the upper edge of the shaded band) and ``"<name>/avoided"`` (their difference).
    """
    if not isinstance(results, Mapping) or not results:
        raise MfaError("scenario_comparison: expected a non-empty mapping scenario name -> "
                       "results Dataset")
    if reference is not None and reference not in results:
        raise MfaError(f"scenario_comparison: reference scenario {reference!r} is not among "
                       f"{', '.join(results)}")
    for name, ds in results.items():
        need = ["primary_demand"] + ([] if reference else ["primary_demand_no_recycling"])
        _require(ds, need, f"scenario_comparison (scenario {name!r})")
    prim = {n: _world(ds["primary_demand"], None, "scenario_comparison")
            for n, ds in results.items()}
    allv = np.concatenate([p.values.ravel() for p in prim.values()])
    first = next(iter(prim.values()))
    _, unit = _display_unit(allv, _units(first, "t/yr"))
    data: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    with matplotlib.rc_context(_STYLE):
        fig, (ax,) = _new_figure()
        for i, (name, ds) in enumerate(results.items()):
            p = prim[name]
            time = p["time"].values
            f = conversion_factor(_units(p, "t/yr"), unit, f"primary_demand ({name})")
            pv = p.values * f
            c = _CYCLE[i % len(_CYCLE)]
            if reference is not None:
                ref = prim[reference]
                ref_v = ref.sel(time=time).values * conversion_factor(
                    _units(ref, "t/yr"), unit, f"primary_demand ({reference})")
            else:
                nr = ds["primary_demand_no_recycling"]
                ref_v = _world(nr, None, "scenario_comparison").sel(time=time).values * (
                    conversion_factor(_units(nr, "t/yr"), unit, "primary_demand_no_recycling"))
            if name != reference:
                ax.fill_between(time, pv, ref_v, color=c, alpha=0.18, linewidth=0,
                                label=f"{name}: avoided by recycling")
            ax.plot(time, pv, color=c, linewidth=2.0, label=f"{name}: primary demand")
            if reference is None:
                ax.plot(time, ref_v, color=c, linewidth=1.0, linestyle="--")
            data[f"{name}/primary"] = pv
            data[f"{name}/without_recycling"] = ref_v
            data[f"{name}/avoided"] = ref_v - pv
            for k in ("primary", "without_recycling", "avoided"):
                units[f"{name}/{k}"] = unit
            data.setdefault("time", time)
        units["time"] = "yr"
        ax.set_xlim(data["time"][0], data["time"][-1])
        ax.set_ylim(bottom=0)
        ax.set_xlabel("Year")
        ax.set_ylabel(f"Primary (mined) Nd demand [{unit}]")
        ax.set_title("Primary Nd demand by scenario, world")
        ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
        _legend_outside(ax, reverse=False)
        how = (f"shading: difference to scenario {reference!r}" if reference else
               "dashed: same scenario without recycling; shading: avoided by recycling")
        versions = sorted({str(ds.attrs.get("model_version", "?")) for ds in results.values()})
        _caption(fig, f"{how}; model: nd-mfa {', '.join(versions)}, scenarios "
                 f"{', '.join(results)}.")
    return _finish(fig, data, units)


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


# --------------------------------------------------------------------------------------------
# Sankey
# --------------------------------------------------------------------------------------------
def sankey_flows(ds: xr.Dataset, year: int, region: str | None = None) -> dict[str, float]:
    """The Sankey flows of one year, summed over regions (``region=None``) or for one region.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results with the ``flow_*`` variables (time, region) [t/yr].
    year : int
        Year to show (must be on the ``time`` coordinate).
    region : str, optional
        Region where the processes run; ``None`` sums over regions (world).

    Returns
    -------
    dict[str, float]
        Flow name -> value [t/yr] for every name in :data:`SANKEY_FLOWS`, with
        ``"stock_accumulation"`` = ``flow_products_to_use - flow_eol`` (net addition to the
        in-use stock) added. Where the results lack them, ``flow_primary_oxide`` =
        ``flow_concentrate - flow_separation_losses``, ``flow_secondary_oxide`` =
        ``flow_recycled_new_scrap + flow_recycled_eol`` and ``flow_stockpile`` = 0.
    """
    _require(ds, [n for n in SANKEY_FLOWS if n not in _DERIVED], "sankey")
    years = [int(t) for t in ds["time"].values]
    if int(year) not in years or year != int(year):
        raise MfaError(f"sankey: year {year!r} is not in the results; expected an integer "
                       f"between {years[0]} and {years[-1]}")
    present = [n for n in SANKEY_FLOWS if n in ds.data_vars]
    sub = ds[present].sel(time=int(year))
    out: dict[str, float] = {}
    for name in present:
        da = _world(sub[name], region, "sankey")
        f = conversion_factor(_units(ds[name], "t/yr"), "t/yr", name)
        out[name] = float(da.values) * f
    for name, terms in _DERIVED.items():
        if name not in out:
            out[name] = sum(sign * out[term] for term, sign in terms)
    out["stock_accumulation"] = out["flow_products_to_use"] - out["flow_eol"]
    return out


_C_MAIN = OKABE_ITO["blue"]
_C_LOSS = OKABE_ITO["grey"]
_C_LOOP = OKABE_ITO["bluish_green"]
_C_STOCK = OKABE_ITO["orange"]
_C_TRADE = OKABE_ITO["reddish_purple"]
_C_NODE = "#333333"


def _arc_path(points: Sequence[tuple[float, float]], radii: Sequence[float],
              n_arc: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Centerline through orthogonal waypoints with rounded corners; returns (points, tangents).

    ``radii[i]`` is the corner radius at ``points[i + 1]`` (one per interior waypoint).
    """
    p = np.asarray(points, dtype=float)
    pts: list[np.ndarray] = []
    tans: list[np.ndarray] = []
    d_prev = p[1] - p[0]
    d_prev /= np.linalg.norm(d_prev)
    pts.append(p[0])
    tans.append(d_prev)
    theta = np.linspace(0.0, np.pi / 2, n_arc)
    for i in range(1, len(p) - 1):
        d_in = p[i] - p[i - 1]
        d_in /= np.linalg.norm(d_in)
        d_out = p[i + 1] - p[i]
        d_out /= np.linalg.norm(d_out)
        r = radii[i - 1]
        start = p[i] - d_in * r
        centre = start + d_out * r
        arc = centre[None, :] - d_out[None, :] * r * np.cos(theta)[:, None] + \
            d_in[None, :] * r * np.sin(theta)[:, None]
        tan = d_out[None, :] * np.sin(theta)[:, None] + d_in[None, :] * np.cos(theta)[:, None]
        pts.extend(arc)
        tans.extend(tan)
    d_last = p[-1] - p[-2]
    pts.append(p[-1])
    tans.append(d_last / np.linalg.norm(d_last))
    return np.array(pts), np.array(tans)


def _offset_band(path: tuple[np.ndarray, np.ndarray], a: float, b: float) -> np.ndarray:
    """Polygon between the lateral offsets ``a`` and ``b`` (left positive) of a centerline."""
    pts, tans = path
    normal = np.column_stack([-tans[:, 1], tans[:, 0]])
    return np.vstack([pts + a * normal, (pts + b * normal)[::-1]])


def _s_band(x0: float, top0: float, x1: float, top1: float, w: float, n: int = 40
            ) -> np.ndarray:
    """Classic Sankey band (cubic Bezier edges, constant vertical width ``w``)."""
    t = np.linspace(0.0, 1.0, n)
    xm = 0.5 * (x0 + x1)
    x = (1 - t) ** 3 * x0 + 3 * (1 - t) ** 2 * t * xm + 3 * (1 - t) * t**2 * xm + t**3 * x1
    s = 3 * t**2 - 2 * t**3  # Bezier with flat ends, in y
    y = top0 + (top1 - top0) * s
    return np.vstack([np.column_stack([x, y]), np.column_stack([x, y - w])[::-1]])


class _Sankey:
    """Layout and drawing of the Nd Sankey diagram with its recycling loop (one year)."""

    DX = 1.5  # column spacing
    NW = 0.09  # node width
    R0 = 0.07  # smallest inner corner radius
    LABEL_H = 0.42  # vertical room for a two-line node label
    H = 1.7  # height of the largest node
    RISER = 0.62  # a loss band rises this far right of its node (room for the node label)

    def __init__(self, v: dict[str, float], factor: float, unit: str) -> None:
        self.v = {k: max(x, 0.0) for k, x in v.items()}
        self.raw_accumulation = v["stock_accumulation"]
        self.neg_stock = v["stock_accumulation"] < 0
        self.factor = factor
        self.unit = unit
        g = self.v
        node_tp = [g["flow_mined"], g["flow_concentrate"], g["flow_primary_oxide"]
                   + g["flow_secondary_oxide"], g["flow_oxide_to_metal"],
                   g["flow_alloy_to_magnet"], g["flow_products_to_use"], g["flow_eol"],
                   g["flow_new_scrap"] + g["flow_collected"]]
        fmax = max(max(node_tp), 1e-12)
        k = self.H / fmax
        # A U-turn or riser must fit in a column gap: limit the scale if one flow is large.
        gap = self.DX - self.NW - 2 * self.R0 - 0.05
        big = max(g["flow_secondary_oxide"], g["flow_new_scrap"], g["flow_collected"],
                  g["flow_mining_losses"], g["flow_separation_losses"], g["flow_metal_losses"],
                  g["flow_eol_losses"], 1e-12)
        self.k = min(k, 0.8 * gap / big)  # data units per t/yr
        self.w = {n: x * self.k for n, x in self.v.items()}
        self.patches: list[tuple[np.ndarray, str, float]] = []
        self.texts: list[tuple[float, float, str, dict]] = []
        self.widths: dict[str, float] = {}
        self.nodes: dict[str, tuple[float, float, float, float]] = {}  # x, top, h, (w)

    # ---- bookkeeping --------------------------------------------------------------------
    def lab(self, value_t: float) -> str:
        return f"{_fmt(value_t * self.factor)} {self.unit}"

    def band(self, poly: np.ndarray, colour: str, flow: str | None, alpha: float = 0.55
             ) -> None:
        self.patches.append((poly, colour, alpha))
        if flow is not None:
            self.widths[flow] = self.w[flow]

    def text(self, x: float, y: float, s: str, **kw: Any) -> None:
        self.texts.append((x, y, s, kw))

    # ---- layout -------------------------------------------------------------------------
    def layout(self) -> None:  # one fixed diagram, written out in order
        w = self.w
        DX, NW, R0, LH = self.DX, self.NW, self.R0, self.LABEL_H
        acc = w["stock_accumulation"] if not self.neg_stock else 0.0
        release = -self.raw_accumulation * self.k if self.neg_stock else 0.0
        # Ports: node -> (left/in list, right/out list) of (flow key, width).
        ports: dict[str, tuple[list, list]] = {
            "mining": ([("ore", w["flow_mined"])],
                       [("flow_mining_losses", w["flow_mining_losses"]),
                        ("flow_concentrate", w["flow_concentrate"])]),
            "separation": ([("flow_concentrate", w["flow_concentrate"])],
                           [("flow_separation_losses", w["flow_separation_losses"]),
                            ("flow_primary_oxide", w["flow_primary_oxide"])]),
            "oxide": ([("flow_primary_oxide", w["flow_primary_oxide"]),
                       ("flow_secondary_oxide", w["flow_secondary_oxide"])],
                      [("flow_oxide_to_manufacturing", w["flow_oxide_to_manufacturing"]),
                       ("flow_oxide_to_metal", w["flow_oxide_to_metal"])]
                      + ([("flow_stockpile", w["flow_stockpile"])]
                         if w["flow_stockpile"] > 0 else [])),
            "metal": ([("flow_oxide_to_metal", w["flow_oxide_to_metal"])],
                      [("flow_metal_losses", w["flow_metal_losses"]),
                       ("flow_alloy_to_magnet", w["flow_alloy_to_magnet"])]),
            "magnet": ([("flow_alloy_to_magnet", w["flow_alloy_to_magnet"])],
                       [("flow_magnet_to_manufacturing", w["flow_magnet_to_manufacturing"]),
                        ("flow_new_scrap", w["flow_new_scrap"])]),
            "manufacturing": ([("flow_oxide_to_manufacturing", w["flow_oxide_to_manufacturing"]),
                               ("flow_magnet_to_manufacturing",
                                w["flow_magnet_to_manufacturing"])],
                              [("flow_products_to_use", w["flow_products_to_use"])]),
            "use": ([("flow_products_to_use", w["flow_products_to_use"])]
                    + ([("stock_release", release)] if self.neg_stock else []),
                    ([("stock_accumulation", acc)] if not self.neg_stock else [])
                    + [("flow_eol", w["flow_eol"])]),
            "eol": ([("flow_eol", w["flow_eol"])],
                    [("flow_eol_losses", w["flow_eol_losses"]),
                     ("flow_collected", w["flow_collected"])]),
            "recycling": ([("flow_new_scrap", w["flow_new_scrap"]),
                           ("flow_collected", w["flow_collected"])],
                          [("flow_secondary_oxide", w["flow_secondary_oxide"]),
                           ("flow_new_scrap_losses", w["flow_new_scrap_losses"]),
                           ("flow_recycling_losses", w["flow_recycling_losses"])]),
        }
        # Imbalance (trade for one region; numerical noise for the world) as stubs.
        tol = 1e-4 * self.H
        self.stubs: list[tuple[str, str, float]] = []
        for name, (lp, rp) in ports.items():
            diff = sum(x for _, x in rp) - sum(x for _, x in lp)
            if diff > tol:
                lp.append(("import", diff))
                self.stubs.append((name, "in", diff))
            elif diff < -tol:
                rp.append(("export", -diff))
                self.stubs.append((name, "out", -diff))
        self.ports = ports

        def off(node: str, side: int, key: str) -> float:
            o = 0.0
            for kk, x in ports[node][side]:
                if kk == key:
                    return o
                o += x
            raise KeyError(key)

        def height(node: str) -> float:
            return max(sum(x for _, x in ports[node][0]), sum(x for _, x in ports[node][1]))

        def align(src: str, dst: str, key: str) -> float:
            return top[src] - off(src, 1, key) + off(dst, 0, key)

        col = {"mining": 0, "separation": 1, "oxide": 2, "metal": 3, "magnet": 4,
               "manufacturing": 5, "use": 6, "eol": 7}
        x = {n: c * DX for n, c in col.items()}
        top: dict[str, float] = {"mining": 0.0}
        top["separation"] = align("mining", "separation", "flow_concentrate")
        top["oxide"] = align("separation", "oxide", "flow_primary_oxide")
        top["metal"] = align("oxide", "metal", "flow_oxide_to_metal") - LH
        top["magnet"] = align("metal", "magnet", "flow_alloy_to_magnet")
        top["manufacturing"] = top["oxide"]
        top["use"] = align("manufacturing", "use", "flow_products_to_use")
        top["eol"] = align("use", "eol", "flow_eol") - (LH + 0.05 if acc > 0 else 0.0)
        self.x, self.top, self.port_off, self.height = x, top, off, height
        h = {n: height(n) for n in ports}
        self.h = h
        right = {n: x[n] + NW for n in x}

        # ---- nodes of the main chain ----------------------------------------------------
        names = {"mining": "Mining", "separation": "Separation", "oxide": "Oxide",
                 "metal": "Metal & alloy", "magnet": "Magnet making",
                 "manufacturing": "Manufacturing", "use": "In use", "eol": "End of life"}
        for n in col:
            self.nodes[n] = (x[n], top[n], h[n])
            self.text(x[n] + NW / 2, top[n] + 0.04, f"{names[n]}\n{self.lab(h[n] / self.k)}",
                      ha="center", va="bottom", weight="bold")
        if acc > 0:
            self.nodes["stock"] = (x["eol"], top["use"], acc)
            self.text(x["eol"] + NW / 2, top["use"] + 0.04,
                      f"Added to stock\n+{self.lab(self.v['stock_accumulation'])}",
                      ha="center", va="bottom", weight="bold", color="#8A5A00")

        # ---- forward bands ---------------------------------------------------------------
        def fwd(src: str, dst: str, key: str, colour: str = _C_MAIN, label: bool = True,
                dst_x: float | None = None, dst_top: float | None = None) -> None:
            wd = w[key]
            if wd <= 0:
                return
            y0 = top[src] - off(src, 1, key)
            y1 = (top[dst] - off(dst, 0, key)) if dst_top is None else dst_top
            x1 = x[dst] if dst_x is None else dst_x
            self.band(_s_band(right[src], y0, x1, y1, wd), colour, key)
            if label:
                xm = 0.5 * (right[src] + x1)
                ym = 0.5 * (y0 + y1) - wd / 2
                self.text(xm, ym, self.lab(self.v[key]), ha="center", va="center", fontsize=9,
                          bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                "alpha": 0.75})

        fwd("mining", "separation", "flow_concentrate")
        fwd("separation", "oxide", "flow_primary_oxide")
        fwd("oxide", "metal", "flow_oxide_to_metal")
        fwd("metal", "magnet", "flow_alloy_to_magnet")
        fwd("magnet", "manufacturing", "flow_magnet_to_manufacturing")
        fwd("manufacturing", "use", "flow_products_to_use")
        fwd("use", "eol", "flow_eol")
        # Non-magnet uses bypass metal and magnet making, above them.
        key = "flow_oxide_to_manufacturing"
        if w[key] > 0:
            y0 = top["oxide"] - off("oxide", 1, key)
            self.band(_s_band(right["oxide"], y0, x["manufacturing"], top["manufacturing"]
                              - off("manufacturing", 0, key), w[key]), _C_MAIN, key)
            self.text(x["magnet"] - 0.1, y0 + 0.03,
                      f"to non-magnet uses\n{self.lab(self.v[key])}", ha="center",
                      va="bottom", fontsize=9)
        if acc > 0:
            y0 = top["use"] - off("use", 1, "stock_accumulation")
            self.band(_s_band(right["use"], y0, x["eol"], y0, acc), _C_STOCK,
                      "stock_accumulation", alpha=0.6)

        # ---- mined input -------------------------------------------------------------------
        wm = w["flow_mined"]
        if wm > 0:
            self.band(np.array([[-0.45, 0.0], [x["mining"], 0.0], [x["mining"], -wm],
                                [-0.45, -wm], [-0.3, -wm / 2]]), OKABE_ITO["orange"],
                      "flow_mined", alpha=0.6)
            self.text(-0.5, -wm / 2, "mined", ha="right", va="center", fontsize=9)

        # ---- vertical extent of the chain --------------------------------------------------
        chain_top = max(top[n] for n in col) + LH + 0.55
        chain_bottom = min(top[n] - h[n] for n in col)

        # ---- loop: recycling node below the chain, flows right-to-left ---------------------
        w_ns, w_col = w["flow_new_scrap"], w["flow_collected"]
        w_so = w["flow_secondary_oxide"]
        w_nsl, w_rs = w["flow_new_scrap_losses"], w["flow_recycling_losses"]
        rec_x = x["metal"] + 0.25 * DX
        rec_right = rec_x + NW
        y_ns_port = top["magnet"] - off("magnet", 1, "flow_new_scrap") - w_ns / 2
        y_col_port = top["eol"] - off("eol", 1, "flow_collected") - w_col / 2
        rec_top = min(chain_bottom - LH - 0.1,
                      y_ns_port - 2 * R0 - w_ns - 0.05 + w_ns / 2 + w_ns / 2,
                      y_col_port - 2 * R0 - w_col - 0.05 + w_ns + w_col / 2 + w_col / 2)
        self.nodes["recycling"] = (rec_x, rec_top, h["recycling"])
        top["recycling"] = rec_top
        self.text(rec_x + NW / 2, rec_top + 0.04,
                  f"Recycling\n{self.lab(h['recycling'] / self.k)}", ha="center", va="bottom",
                  weight="bold", color="#00614A")
        # new scrap: Magnet -> right, down, left -> Recycling (right side, top port)
        if w_ns > 0:
            y_lane = rec_top - w_ns / 2
            r = R0 + w_ns / 2
            xr = right["magnet"] + r
            path = _arc_path([(right["magnet"], y_ns_port), (xr, y_ns_port), (xr, y_lane),
                              (rec_right, y_lane)], [r, r])
            self.band(_offset_band(path, -w_ns / 2, w_ns / 2), _C_LOOP, "flow_new_scrap")
            self.text(0.5 * (rec_right + xr), y_lane, f"new scrap {self.lab(self.v['flow_new_scrap'])}",
                      ha="center", va="center", fontsize=9,
                      bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                            "alpha": 0.75})
        # collected end-of-life: EoL -> right, down, left (below new scrap) -> Recycling
        x_col_turn = right["eol"] + R0 + w_col / 2
        if w_col > 0:
            y_lane = rec_top - w_ns - w_col / 2
            r = R0 + w_col / 2
            path = _arc_path([(right["eol"], y_col_port), (x_col_turn, y_col_port),
                              (x_col_turn, y_lane), (rec_right, y_lane)], [r, r])
            self.band(_offset_band(path, -w_col / 2, w_col / 2), _C_LOOP, "flow_collected")
            self.text(x["use"] + NW / 2, y_lane,
                      f"collected end-of-life {self.lab(self.v['flow_collected'])}",
                      ha="center", va="center", fontsize=9,
                      bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                            "alpha": 0.75})
        # secondary oxide: Recycling (left side, top) -> left, up, right -> Oxide (left side)
        if w_so > 0:
            y0 = rec_top - w_so / 2
            y1 = top["oxide"] - off("oxide", 0, "flow_secondary_oxide") - w_so / 2
            r = R0 + w_so / 2
            xv = x["oxide"] - r
            path = _arc_path([(rec_x, y0), (xv, y0), (xv, y1), (x["oxide"], y1)], [r, r])
            self.band(_offset_band(path, -w_so / 2, w_so / 2), _C_LOOP, "flow_secondary_oxide")
            self.text(xv - w_so / 2 - 0.05, 0.5 * (y0 + y1),
                      f"secondary\noxide\n{self.lab(self.v['flow_secondary_oxide'])}",
                      ha="right", va="center", fontsize=9, color="#00614A")
        rec_bottom = rec_top - h["recycling"]
        # ---- losses sink ----------------------------------------------------------------
        main_losses = [("flow_mining_losses", "mining", "mining"),
                       ("flow_separation_losses", "separation", "separation"),
                       ("flow_metal_losses", "metal", "metal"),
                       ("flow_eol_losses", "eol", "not collected")]
        rec_losses = [("flow_recycling_losses", "recycling"),
                      ("flow_new_scrap_losses", "new scrap")]
        w_main = sum(w[k] for k, _, _ in main_losses)
        w_rec = w_nsl + w_rs
        r_main = R0 + w_main / 2
        r_rec = R0 + w_rec / 2
        x_el_riser = right["eol"] + max(R0, self.RISER) + w["flow_eol_losses"] / 2
        x_d = max(x_el_riser + R0 + w["flow_eol_losses"] / 2 + 0.1 + r_main + w_main / 2,
                  x_col_turn + w_col / 2 + 0.15 + w_rec / 2,
                  right["eol"] + 0.6 * DX)
        sink_left = x_d + max(r_main, r_rec) + 0.05
        sink_top = top["use"] - 0.1
        y_e = sink_top - w_main / 2
        y_lane_c = chain_top + 0.1 + w_main / 2
        # main losses: rise from each node, run right on stacked lanes, drop into the sink
        d = w_main / 2
        for key, node, _ in main_losses:
            wl = w[key]
            d_i = d - wl / 2
            d -= wl
            if wl <= 0:
                continue
            y_p = top[node] - off(node, 1, key) - wl / 2
            r = R0 + wl / 2
            xr = right[node] + max(R0, self.RISER) + wl / 2
            pts = [(right[node], y_p), (xr, y_p), (xr, y_lane_c + d_i),
                   (x_d + d_i, y_lane_c + d_i), (x_d + d_i, y_e + d_i), (sink_left, y_e + d_i)]
            path = _arc_path(pts, [r, r, r_main + d_i, r_main - d_i])
            self.band(_offset_band(path, -wl / 2, wl / 2), _C_LOSS, key)
            left_side = node == "eol"
            if left_side:  # above the labels of the use and stock nodes
                ym = top["use"] + LH + 0.08
            else:
                ym = 0.5 * (top[node] + LH + y_lane_c - w_main / 2) - 0.17
            self.text(xr + (-1 if left_side else 1) * (wl / 2 + 0.04), ym,
                      f"losses\n{self.lab(self.v[key])}", ha="right" if left_side else "left",
                      va="bottom", fontsize=9, color="#555555")
        # recycling losses: leave Recycling's left side, turn down, run right at the bottom, up
        if w_rec > 0:
            y_b = rec_top - w_so - w_rec / 2
            xu = rec_x - r_rec
            y_bl = min(rec_bottom, rec_top - w_ns - w_col) - 0.12 - w_rec / 2
            y_bl = min(y_bl, y_b - 2 * r_rec)
            y_er = sink_top - w_main - w_rec / 2
            pts = [(rec_x, y_b), (xu, y_b), (xu, y_bl), (x_d, y_bl), (x_d, y_er),
                   (sink_left, y_er)]
            path = _arc_path(pts, [r_rec] * 4)
            # Travelling left, the left-hand side is down: new-scrap losses (upper) get -.
            self.band(_offset_band(path, -w_rec / 2, -w_rec / 2 + w_nsl), _C_LOSS,
                      "flow_new_scrap_losses")
            self.band(_offset_band(path, -w_rec / 2 + w_nsl, w_rec / 2), _C_LOSS,
                      "flow_recycling_losses")
            self.text(x["use"], y_bl - w_rec / 2 - 0.04,
                      f"recycling losses {self.lab(self.v['flow_recycling_losses'])}, new scrap "
                      f"not recycled {self.lab(self.v['flow_new_scrap_losses'])}",
                      ha="center", va="top", fontsize=9, color="#555555")
            self.bottom = y_bl - w_rec / 2 - 0.3
        else:
            self.bottom = rec_bottom - 0.3
        w_sink = w_main + w_rec
        self.nodes["losses"] = (sink_left, sink_top, w_sink)
        total = sum(self.v[k] for k, _, _ in main_losses) + sum(self.v[k] for k, _ in rec_losses)
        lines = [f"Losses\n{self.lab(total)}"]
        lines += [f"{lbl}: {_fmt(self.v[k] * self.factor)}" for k, _, lbl in main_losses]
        lines += [f"{lbl}: {_fmt(self.v[k] * self.factor)}" for k, lbl in rec_losses]
        self.text(sink_left + NW + 0.08, sink_top, "\n".join(lines), ha="left", va="top",
                  fontsize=9)
        self.xlim = (-1.0, sink_left + NW + 1.55)
        self.top_y = y_lane_c + w_main / 2 + 0.1

        # ---- trade / imbalance stubs ---------------------------------------------------------
        self.ylim = (self.bottom, self.top_y)
        if w["flow_stockpile"] > 0:
            self.stubs.append(("oxide", "stockpile", w["flow_stockpile"]))
        for node, side, wd in self.stubs:
            xs, tp, _hh = self.nodes[node][:3]
            reverse = node == "recycling"
            colour = _C_TRADE
            if side == "stockpile":
                yb = tp - off(node, 1, "flow_stockpile")
                x0, sgn, lbl, colour = xs + NW, 1.0, "stockpiled", _C_STOCK
            elif side == "in":
                yb = tp - sum(xx for kk, xx in ports[node][0] if kk != "import")
                x0 = xs + NW if reverse else xs
                sgn = 1.0 if reverse else -1.0
                lbl = "net import"
            else:
                yb = tp - sum(xx for kk, xx in ports[node][1] if kk != "export")
                x0 = xs if reverse else xs + NW
                sgn = -1.0 if reverse else 1.0
                lbl = "net export"
            x1 = x0 + sgn * 0.35
            poly = np.array([[x0, yb], [x1, yb], [x1 + sgn * 0.08, yb - wd / 2], [x1, yb - wd],
                             [x0, yb - wd]])
            self.band(poly, colour, None, alpha=0.45)
            key = "flow_stockpile" if side == "stockpile" else f"{lbl.replace(' ', '_')}/{node}"
            self.widths[key] = wd
            self.text(x1 + sgn * 0.1, yb - wd / 2, f"{lbl}\n{self.lab(wd / self.k)}",
                      ha="left" if sgn > 0 else "right", va="center", fontsize=9,
                      color="#7A3A66", bbox={"boxstyle": "round,pad=0.1", "fc": "white",
                                             "ec": "none", "alpha": 0.7})

    # ---- drawing -----------------------------------------------------------------------
    def draw(self, ax: Any) -> None:
        for poly, colour, alpha in self.patches:
            ax.add_patch(Polygon(poly, closed=True, fc=colour, ec="none", alpha=alpha))
        for name, (xx, tp, hh) in self.nodes.items():
            fc = {"losses": "#666666", "stock": _C_STOCK, "recycling": _C_LOOP}.get(name, _C_NODE)
            ax.add_patch(Rectangle((xx, tp - hh), self.NW, hh, fc=fc, ec="none", zorder=3))
        for xx, yy, s, kw in self.texts:
            kw = {"fontsize": 9.5, "bbox": {"boxstyle": "round,pad=0.1", "fc": "white",
                                            "ec": "none", "alpha": 0.6}, **kw}
            ax.text(xx, yy, s, zorder=4, **kw)
        ax.set_xlim(*self.xlim)
        ax.set_ylim(*self.ylim)
        ax.set_aspect("equal")
        ax.axis("off")


def sankey(ds: xr.Dataset, year: int, region: str | None = None, *,
           figsize: tuple[float, float] | None = None) -> Figure:
    """Sankey diagram of the Nd flows in one year, with the recycling loop drawn.

    The chain runs left to right (mining, separation, oxide, metal & alloy, magnet making,
    manufacturing, use, end of life); the recycling flows (new scrap and collected end-of-life
    products) run back right to left below it, through recycling, into the oxide stage.
    Losses rise above the chain (recycling losses run along the bottom) into one losses sink;
    the net addition to the in-use stock leaves the use node as its own band. Band widths are
    proportional to the flows [t/yr]. For one region, what its processes receive and deliver
    do not balance (trade): the difference is drawn as "net import"/"net export" stubs.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results with the ``flow_*`` variables (time, region) [t/yr].
    year : int
        Year to show.
    region : str, optional
        Region where the processes run; ``None`` (default) sums over regions (world).
    figsize : tuple of float, optional
        Figure size [inch]; default 13 inch wide and as high as the diagram needs.

    Returns
    -------
    matplotlib.figure.Figure
        ``plotted_data``: each flow of :data:`SANKEY_FLOWS` and ``"stock_accumulation"``
        (displayed unit), ``"width/<flow>"`` for each band drawn [axis units],
        ``"node/<node>"`` node heights [axis units] and ``"scale"`` (axis units per displayed
        unit), so that ``width/<flow> == scale * <flow>``.
    """
    v = sankey_flows(ds, year, region)
    factor, unit = _display_unit(np.array(list(v.values())), "t/yr")
    sk = _Sankey(v, factor, unit)
    sk.layout()
    with matplotlib.rc_context(_STYLE):
        if figsize is None:
            xr = sk.xlim[1] - sk.xlim[0]
            yr = sk.ylim[1] - sk.ylim[0]
            figsize = (13.0, float(np.clip(13.0 * 0.98 * yr / (0.86 * xr), 5.0, 11.0)))
        fig = Figure(figsize=figsize)
        ax = fig.add_axes((0.01, 0.07, 0.98, 0.86))
        sk.draw(ax)
        where = region or "world"
        fig.suptitle(f"Neodymium flows, {where}, {int(year)} [{unit} of Nd]", fontsize=12,
                     y=0.985)
        _caption(fig, "Band widths proportional to flows. Blue: primary chain; green: "
                 "recycling loop; grey: losses; orange: net addition to the in-use stock"
                 + ("; purple: net trade of the region" if region else "")
                 + f". {_model_text(ds).capitalize()}.")
    data: dict[str, np.ndarray] = {k: np.asarray(x * factor) for k, x in v.items()}
    units = {k: unit for k in data}
    for k, wd in sk.widths.items():
        data[f"width/{k}"] = np.asarray(wd)
        units[f"width/{k}"] = "axis"
    for n, (_, _, hh) in sk.nodes.items():
        data[f"node/{n}"] = np.asarray(hh)
        units[f"node/{n}"] = "axis"
    data["scale"] = np.asarray(sk.k / factor)
    units["scale"] = f"axis per {unit}"
    return _finish(fig, data, units)


def sankey_html(ds: xr.Dataset, year: int, region: str | None = None,
                path: str | Path = "sankey.html", *,
                include_plotlyjs: bool | str = "cdn") -> Path:
    """Interactive Sankey diagram (plotly) of one year's Nd flows, written as HTML.

    The file is written atomically (:mod:`mfa.outputs`).

    Needs the optional extra ``plotly`` (``pip install nd-mfa[plotly]``). No image export (no
    kaleido): the file is HTML only.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results with the ``flow_*`` variables (time, region) [t/yr].
    year : int
        Year to show.
    region : str, optional
        Region; ``None`` sums over regions (world).
    path : str or pathlib.Path
        Output HTML file.
    include_plotlyjs : bool or str
        Passed to plotly's ``write_html``: ``"cdn"`` (small file, needs internet to view) or
        ``True`` (self-contained, about 4 MB).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    html = _sankey_html_text(ds, year, region, include_plotlyjs)
    with joined(None) as outs:
        outs.write(outs.file(path),
                   lambda tmp: write_bytes(tmp, html.encode("utf-8")))
    return Path(path)


def _sankey_html_text(ds: xr.Dataset, year: int, region: str | None,
                      include_plotlyjs: bool | str) -> str:
    """The HTML page of :func:`sankey_html`."""
    try:
        import plotly.graph_objects as go
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MfaError("sankey_html needs plotly, an optional extra: pip install "
                       "'nd-mfa[plotly]' (or pip install plotly)") from exc
    v = sankey_flows(ds, year, region)
    factor, unit = _display_unit(np.array(list(v.values())), "t/yr")
    nodes = ["Mining", "Separation", "Oxide", "Metal & alloy", "Magnet making",
             "Manufacturing", "In use", "End of life", "Recycling", "Losses",
             "Stock accumulation", "Ore"]
    idx = {n: i for i, n in enumerate(nodes)}
    links = [
        ("Ore", "Mining", "flow_mined"),
        ("Mining", "Separation", "flow_concentrate"),
        ("Mining", "Losses", "flow_mining_losses"),
        ("Separation", "Oxide", "flow_primary_oxide"),
        ("Separation", "Losses", "flow_separation_losses"),
        ("Oxide", "Metal & alloy", "flow_oxide_to_metal"),
        ("Oxide", "Manufacturing", "flow_oxide_to_manufacturing"),
        ("Metal & alloy", "Magnet making", "flow_alloy_to_magnet"),
        ("Metal & alloy", "Losses", "flow_metal_losses"),
        ("Magnet making", "Manufacturing", "flow_magnet_to_manufacturing"),
        ("Magnet making", "Recycling", "flow_new_scrap"),
        ("Manufacturing", "In use", "flow_products_to_use"),
        ("In use", "End of life", "flow_eol"),
        ("In use", "Stock accumulation", "stock_accumulation"),
        ("End of life", "Recycling", "flow_collected"),
        ("End of life", "Losses", "flow_eol_losses"),
        ("Recycling", "Oxide", "flow_secondary_oxide"),
        ("Recycling", "Losses", "flow_recycling_losses"),
        ("Recycling", "Losses", "flow_new_scrap_losses"),
    ]

    def rgba(hex_colour: str, a: float) -> str:
        h = hex_colour.lstrip("#")
        return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{a})"

    src, tgt, val, lab, col = [], [], [], [], []
    for s, t, key in links:
        x = v[key] * factor
        if key == "stock_accumulation" and x < 0:
            s, t, x = t, s, -x
        if x <= 0:
            continue
        src.append(idx[s])
        tgt.append(idx[t])
        val.append(x)
        lab.append(key.removeprefix("flow_").replace("_", " "))
        colour = (_C_LOSS if t == "Losses" else _C_LOOP if "Recycling" in (s, t)
                  else _C_STOCK if "Stock" in t else _C_MAIN)
        col.append(rgba(colour, 0.5))
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=".3~g", valuesuffix=f" {unit}",
        node={"label": nodes, "pad": 18, "thickness": 14, "color": "#444444"},
        link={"source": src, "target": tgt, "value": val, "label": lab, "color": col},
    ))
    fig.update_layout(title=f"Neodymium flows, {region or 'world'}, {int(year)} [{unit}] - "
                            f"{_model_text(ds)}", font_size=12)
    return fig.to_html(include_plotlyjs=include_plotlyjs)


# --------------------------------------------------------------------------------------------
# All figures
# --------------------------------------------------------------------------------------------
#: Figure kinds of :func:`save_all` (and ``mfa plot --kind``).
FIGURE_KINDS = ("sankey", "demand", "supply", "stock-by-product", "stock-by-region",
                "concentration", "comparison")


def _kind_variables(kind: str) -> dict[str, str]:
    """Variables a figure kind reads (name -> a unit of the dimensionality they must have)."""
    if kind == "sankey":
        return {n: "t/yr" for n in SANKEY_FLOWS if n not in _DERIVED}
    return _KIND_VARIABLES[kind]


_KIND_VARIABLES: dict[str, dict[str, str]] = {
    "demand": {"nd_in_new_products": "t/yr"},
    "supply": {"primary_demand": "t/yr", "secondary_supply": "t/yr"},
    "stock-by-product": {"in_use_stock": "t"},
    "stock-by-region": {"in_use_stock": "t"},
    "concentration": {"production_share": "1", "hhi": "1"},
    "comparison": {"primary_demand": "t/yr", "primary_demand_no_recycling": "t/yr"},
}
#: Variables drawn when present (same unit rule).
_OPTIONAL_VARIABLES = {"primary_demand_no_recycling": "t/yr",
                       **{n: "t/yr" for n in _DERIVED}}


def selected_kinds(kinds: Sequence[str] | None, *, compare: bool) -> list[str]:
    """The figure kinds :func:`save_all` draws, in :data:`FIGURE_KINDS` order.

    Parameters
    ----------
    kinds : sequence of str or None
        Requested kinds; None: all (``comparison`` only with several scenarios).
    compare : bool
        Whether several scenarios are given.

    Raises
    ------
    MfaError
        Unknown kinds (the message lists the known ones); ``comparison`` without scenarios.
    """
    unknown = sorted(set(kinds or ()) - set(FIGURE_KINDS))
    if unknown:
        raise MfaError(f"save_all: unknown figure kind(s) {unknown}; expected some of "
                       f"{list(FIGURE_KINDS)}")
    if kinds and "comparison" in kinds and not compare:
        raise MfaError("save_all: the 'comparison' figure needs several scenarios (compare=)")
    return [k for k in FIGURE_KINDS if (k != "comparison" or compare)
            and (not kinds or k in kinds)]


def check_results(ds: xr.Dataset, kinds: Sequence[str] = FIGURE_KINDS, *,
                  what: str = "results") -> None:
    """Check that ``ds`` holds what the figure ``kinds`` draw, before anything is drawn.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of one run (:func:`mfa.neodymium.run`, or read with
        :func:`mfa.io.read_results`).
    kinds : sequence of str
        Figure kinds (:data:`FIGURE_KINDS`).
    what : str
        Name of the results in messages (e.g. the file name).

    Raises
    ------
    MfaError
        No ``time`` coordinate of whole years; a Monte Carlo result (``sample`` or
        ``quantile`` dim); a variable a figure needs is missing, holds only NaN, or has a unit
        of the wrong dimensionality (the message names the variable).
    """
    if not isinstance(ds, xr.Dataset):
        raise MfaError(f"{what}: expected the results xarray.Dataset, got {type(ds).__name__}")
    ensemble = [d for d in ("sample", "quantile") if d in ds.dims]
    if ensemble:
        raise MfaError(f"{what}: a Monte Carlo result (dims {', '.join(ensemble)}); figures of "
                       "single runs only: draw fan charts with `mfa mc --plots DIR`")
    if "time" not in ds.coords or ds["time"].ndim != 1:
        raise MfaError(f"{what}: no 'time' coordinate (years); expected the results of "
                       "`mfa run`")
    years = ds["time"].values
    whole = years.dtype.kind in "iu" or (
        years.dtype.kind == "f" and bool(np.all(np.isfinite(years) & (years == np.round(years)))))
    if not whole or years.size == 0:
        sample = years[0] if years.size else "none"
        raise MfaError(f"{what}: the 'time' coordinate must hold whole years; found "
                       f"{years.dtype} values such as {sample!r}")
    needed: dict[str, str] = {}
    for kind in kinds:
        needed.update(_kind_variables(kind))
    _require(ds, needed, what)
    needed.update({n: u for n, u in _OPTIONAL_VARIABLES.items() if n in ds.data_vars})
    for name, unit in needed.items():
        da = ds[name]
        check_dimensionality(_units(da, unit), unit, f"{what}: {name}")
        if da.dtype.kind not in "iuf" or not np.any(np.isfinite(np.asarray(da.values, float))):
            raise MfaError(f"{what}: variable {name} holds no numbers (all NaN or not numeric)")


def save_all(ds: xr.Dataset, out_dir: str | Path, *, year: int | None = None,
             region: str | None = None, formats: Sequence[str] = ("png",),
             compare: Mapping[str, xr.Dataset] | None = None, dpi: int = 200,
             kinds: Sequence[str] | None = None, outputs: OutputSet | None = None) -> list[Path]:
    """Write the standard figures of one run to ``out_dir``, all or none.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results.
    out_dir : str or pathlib.Path
        Directory (created if missing).
    year : int, optional
        Year of the Sankey diagram; default the last year of the results.
    region : str, optional
        Region of the Sankey diagram; ``None`` = world.
    formats : sequence of str
        File formats matplotlib writes (``"png"``, ``"svg"``, ``"pdf"``), and ``"html"`` for an
        interactive, self-contained Sankey diagram (:func:`sankey_html`, extra ``plotly``;
        the other figures have no HTML form).
    compare : Mapping[str, xarray.Dataset], optional
        Scenarios for :func:`scenario_comparison` (written as ``scenario_comparison.*``).
    dpi : int
        Resolution of raster formats [dots per inch].
    kinds : sequence of str, optional
        Which figures (see :data:`FIGURE_KINDS`); default all (``comparison`` only with
        ``compare``).
    outputs : mfa.outputs.OutputSet, optional
        Join this set of outputs: the figures go into place only when the set commits.

    Returns
    -------
    list of pathlib.Path
        Files written: ``sankey_<year>[_<region>]``, ``demand_by_product``,
        ``primary_vs_secondary``, ``in_use_stock_by_product``, ``in_use_stock_by_region``,
        ``supply_concentration`` (and ``scenario_comparison``), one per format. Characters
        other than letters, digits, ``.``, ``_``, ``+`` and ``-`` in the region become ``_``.

    Notes
    -----
    The results are checked first (:func:`check_results`); the figures are drawn into a
    temporary directory and moved into place only when all of them were written
    (:class:`mfa.outputs.OutputSet`), so a failure leaves no partial set behind.
    """
    allowed = {"png", "svg", "pdf", "html"}
    bad = [f for f in formats if f not in allowed]
    if bad:
        raise MfaError(f"save_all: unknown figure format(s) {bad}; expected some of "
                       f"{sorted(allowed)}")
    selected = selected_kinds(kinds, compare=bool(compare))
    check_results(ds, [k for k in selected if k != "comparison"])
    if "comparison" in selected:
        for name, other in (compare or {}).items():
            check_results(other, ["comparison"], what=f"scenario {name!r}")
    if year is None:
        year = int(ds["time"].values[-1])
    tag = f"_{safe_file_name(region)}" if region else ""
    makers: dict[str, tuple[str, Callable[[], Figure]]] = {
        "sankey": (f"sankey_{int(year)}{tag}", lambda: sankey(ds, year, region)),
        "demand": ("demand_by_product", lambda: demand_by_product(ds)),
        "supply": ("primary_vs_secondary", lambda: primary_vs_secondary(ds)),
        "stock-by-product": ("in_use_stock_by_product", lambda: in_use_stock(ds, by="product")),
        "stock-by-region": ("in_use_stock_by_region", lambda: in_use_stock(ds, by="region")),
        "concentration": ("supply_concentration", lambda: supply_concentration(ds)),
        "comparison": ("scenario_comparison", lambda: scenario_comparison(compare or {})),
    }
    static = [f for f in formats if f != "html"]
    files: list[str] = []

    def draw_all(directory: Path) -> None:
        for kind in selected:
            name, make = makers[kind]
            if "html" in formats and kind == "sankey":
                html = _sankey_html_text(ds, year, region, include_plotlyjs=True)
                write_bytes(directory / f"{name}.html", html.encode("utf-8"))
                files.append(f"{name}.html")
            if not static:
                continue
            fig = make()
            for fmt in static:
                buffer = io.BytesIO()
                fig.savefig(buffer, format=fmt, dpi=dpi,
                            metadata={"Title": f"{name} ({_model_text(ds)})"})
                write_bytes(directory / f"{name}.{fmt}", buffer.getvalue())
                files.append(f"{name}.{fmt}")
                checkpoint("plots")

    with joined(outputs) as outs:
        outs.write(outs.directory(out_dir), draw_all)
    return [Path(out_dir) / f for f in files]
