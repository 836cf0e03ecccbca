"""Figures of the neodymium model's results (matplotlib).

Every function takes the results :class:`xarray.Dataset` of :func:`mfa.models.neodymium.run` (variable
names and units as documented for the results) and returns a :class:`matplotlib.figure.Figure`:
a new figure made with :mod:`matplotlib.pyplot` (``plt.show()`` shows it, ``fig.show()`` works;
``plt.close(fig)`` frees it), or, with ``ax=``, the figure of the Axes it drew into (title on
the Axes, legend inside, no caption). :func:`~mfa.models.neodymium.figure_set.save_all` (and ``mfa plot``) writes the standard
set of figures to files and closes each figure once saved, so memory stays flat.

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
one colour per product in every figure (:data:`PRODUCT_COLOURS`) and per scenario
(:func:`mfa.plot.style.scenario_colour`), units in every axis label, and a caption naming the
model version, the scenario and, where input data are shown, their sources; no text is clipped
or overlaps another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from mfa.core.errors import MfaError
from mfa.core.units import conversion_factor
from mfa.models.neodymium.sankey_layout import LAYOUT as SANKEY_LAYOUT
from mfa.plot.sankey import sankey as _generic_sankey
from mfa.plot.sankey import sankey_html as _generic_sankey_html
from mfa.plot.style import (
    OKABE_ITO,
    _canvas,
    _colour,
    _display_unit,
    _finish,
    _frame,
    _grid,
    _model_text,
    _require,
    _stacked,
    _units,
    _world,
    scenario_colour,
)

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
INPUT_SOURCES = "IEA Global EV Outlook 2025, IRENA 2024 and the sources in params/sources.csv"
#: Default text naming the sources behind the supply-chain shares.
SUPPLY_SOURCES = "USGS Mineral Commodity Summaries 2025 and the sources in params/sources.csv"


def sankey(ds: xr.Dataset, year: int, region: str | None = None, **kwargs: Any) -> Figure:
    """Sankey diagram of the Nd flows with the Nd layout (:data:`SANKEY_LAYOUT`): the chain
    left to right, the recycling loop below it, losses into one sink (:func:`mfa.plot.sankey`)."""
    return _generic_sankey(ds, year, region, layout=SANKEY_LAYOUT, **kwargs)


def _sankey_html_text(ds: xr.Dataset, year: int | None, region: str | None, *,
                      include_plotlyjs: bool | str = True) -> str:
    return _generic_sankey_html(ds, year, region, layout=SANKEY_LAYOUT,
                                include_plotlyjs=include_plotlyjs)


# --------------------------------------------------------------------------------------------
# Time-series figures
# --------------------------------------------------------------------------------------------
def demand_by_product(ds: xr.Dataset, *, region: str | None = None,
                      sources: str | None = None, ax: Any = None) -> Figure:
    """Stacked areas of Nd in new products by product.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results with ``nd_in_new_products`` (time, region, product) [t/yr].
    region : str, optional
        One region; ``None`` (default) sums over all regions (world).
    sources : str, optional
        Text naming the input-data sources for the caption (default :data:`INPUT_SOURCES`).
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new pyplot figure.

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
                           sources=sources, ax=ax, what="demand_by_product")


def _basis(ds: xr.Dataset, names: Sequence[str], what: str) -> str:
    """The common ``attrs["basis"]`` of the variables ``names`` (MfaError if one lacks it or
    they differ: stacking Nd counted at different stages of the chain has no meaning)."""
    bases = {n: ds[n].attrs.get("basis") for n in names}
    missing = [n for n, b in bases.items() if not b]
    if missing:
        raise MfaError(f"{what}: {', '.join(missing)} state no basis (attrs['basis']); results "
                       "written before nd-mfa states it must be run again")
    if len(set(bases.values())) > 1:
        raise MfaError(f"{what}: variables on different bases cannot be stacked: "
                       + ", ".join(f"{n} on {b!r}" for n, b in bases.items()))
    return next(iter(bases.values()))


def primary_vs_secondary(ds: xr.Dataset, *, sources: str | None = None,
                         ax: Any = None) -> Figure:
    """Supply of Nd to the oxide stage: primary (world) and secondary by source, stacked.

    Both on the same basis (``attrs["basis"]``, "separated oxide" for the Nd model): primary
    Nd in separated products made from ore, and recycled Nd returned as oxide; their sum is the
    Nd input to the oxide stage.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results with ``primary_demand`` (time, region) [t/yr], ``secondary_supply``
        (time, source) [t/yr] and, if present, ``primary_demand_no_eol_recycling`` (time)
        [t/yr] (drawn as a dashed line), all with the same ``attrs["basis"]``.
    sources : str, optional
        Text naming the input-data sources for the caption.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new pyplot figure.

    Returns
    -------
    matplotlib.figure.Figure
        ``plotted_data``: ``"time"``, ``"primary"`` (sum over region), ``"secondary/<source>"``,
        ``"total"`` (top of the stack) and, if available, ``"primary_no_eol_recycling"``.

    Raises
    ------
    MfaError
        A variable is missing, lacks ``attrs["basis"]``, or the bases differ.
    """
    _require(ds, ["primary_demand", "secondary_supply"], "primary_vs_secondary")
    optional = ["primary_demand_no_eol_recycling"] if "primary_demand_no_eol_recycling" in ds else []
    basis = _basis(ds, ["primary_demand", "secondary_supply", *optional], "primary_vs_secondary")
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
    labels = {"primary": "Primary (from ore)",
              **{f"secondary/{s}": SOURCE_LABELS.get(str(s), f"Secondary: {s}")
                 for s in secondary["source"].values}}
    data: dict[str, np.ndarray] = {"time": time}
    with _canvas(ax, what="primary_vs_secondary") as (fig, (ax,), own):
        total = _stacked(ax, time, series, colours, labels)
        if optional:
            nr = ds["primary_demand_no_eol_recycling"]
            nr_v = _world(nr, None, "primary_vs_secondary").values * conversion_factor(
                _units(nr, "t/yr"), unit, "primary_demand_no_eol_recycling")
            ax.plot(time, nr_v, color="black", linestyle="--", linewidth=1.4,
                    label="Primary without end-of-life recycling")
            data["primary_no_eol_recycling"] = nr_v
        _frame(fig, [ax], own, title="Primary and secondary Nd supply, world",
               ylabels=[f"Nd supply, {basis} [{unit}]"], legend=ax,
               caption=f"Inputs: {sources or ds.attrs.get('input_sources', INPUT_SOURCES)}; "
               f"{_model_text(ds)}. Nd element mass, {basis} basis.")
    data.update(series)
    data["total"] = total
    return _finish(fig, data, {k: ("yr" if k == "time" else unit) for k in data})


def in_use_stock(ds: xr.Dataset, by: str = "product", *, sources: str | None = None,
                 ax: Any = None) -> Figure:
    """Stacked areas of the Nd in-use stock by product or by region.

    Parameters
    ----------
    ds : xarray.Dataset
        Model results with ``in_use_stock`` (time, region, product) [t].
    by : {"product", "region"}
        Dimension to stack; the other one is summed.
    sources : str, optional
        Text naming the input-data sources for the caption.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new pyplot figure.

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
                           title=f"Nd in the in-use stock by {by}, world", sources=sources,
                           ax=ax, what="in_use_stock")


def _stacked_figure(ds: xr.Dataset, da: xr.DataArray, by: str, default_unit: str, *,
                    ylabel: str, title: str, sources: str | None, ax: Any,
                    what: str) -> Figure:
    """Stacked areas of ``da`` (time, ``by``) with legend, caption and ``plotted_data``."""
    time = da["time"].values
    factor, unit = _display_unit(da.sum(by).values, _units(da, default_unit))
    series = {str(k): da.sel({by: k}).values * factor for k in da[by].values}
    colours = PRODUCT_COLOURS if by == "product" else REGION_COLOURS
    labels = PRODUCT_LABELS if by == "product" else {}
    with _canvas(ax, what=what) as (fig, (axis,), own):
        total = _stacked(axis, time, series, colours, labels)
        _frame(fig, [axis], own, title=title, ylabels=[f"{ylabel} [{unit}]"], legend=axis,
               caption=f"Inputs: {sources or ds.attrs.get('input_sources', INPUT_SOURCES)}; "
               f"{_model_text(ds)}. Nd element mass.")
    data = {"time": time, **series, "total": total}
    return _finish(fig, data, {k: ("yr" if k == "time" else unit) for k in data})


def supply_concentration(ds: xr.Dataset, *, region: str = "China",
                         sources: str | None = None, ax: Any = None) -> Figure:
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
    ax : sequence of two matplotlib.axes.Axes, optional
        Draw the shares into ``ax[0]`` and the HHI into ``ax[1]``; default a new pyplot
        figure with the two panels.

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
    with _canvas(ax, what="supply_concentration", figsize=(8.0, 6.0), nrows=2, sharex=True,
                 height_ratios=(3, 2)) as (fig, (ax1, ax2), own):
        for key, da, axis, unit in (("share", share, ax1, "%"), ("hhi", hhi, ax2, "1")):
            for i, s in enumerate(da["stage"].values):
                v = da.sel(stage=s).values
                axis.plot(time, v, color=_colour(str(s), STAGE_COLOURS, i), linewidth=1.8,
                          label=str(s).capitalize())
                data[f"{key}/{s}"], units[f"{key}/{s}"] = v, unit
            axis.set_xlim(time[0], time[-1])
            _grid(axis)
        ax1.set_ylim(0, 100)
        ax2.set_ylim(0, 1)
        ax2.axhline(0.25, color="#777777", linewidth=0.8, linestyle=":")
        ax2.text(time[0], 0.26, "highly concentrated (HHI > 0.25)", fontsize=9,
                 color="#555555", va="bottom")
        ax2.set_xlabel("Year")
        _frame(fig, [ax1, ax2], own, legend=ax1, reverse=False,
               title=f"Supply concentration of Nd by stage: {region}'s share and HHI",
               ylabels=[f"{region}'s share of production [%]",
                        "Herfindahl-Hirschman index [1]"],
               caption=f"Inputs: {sources or ds.attrs.get('supply_sources', SUPPLY_SOURCES)}; "
               f"{_model_text(ds)}.")
    return _finish(fig, data, units)


def scenario_comparison(results: Mapping[str, xr.Dataset], *, reference: str | None = None,
                        ax: Any = None) -> Figure:
    """Primary Nd demand, world, for several scenarios, with the part avoided by recycling.

    Parameters
    ----------
    results : Mapping[str, xarray.Dataset]
        Scenario name -> results (with ``primary_demand`` (time, region) [t/yr] and, unless
        ``reference`` is given, ``primary_demand_no_eol_recycling`` (time) [t/yr]).
    reference : str, optional
        Name of a reference scenario (e.g. the baseline or one without recycling). If given,
        the shaded band of every other scenario lies between the reference's primary demand
        and its own; otherwise between each scenario's ``primary_demand_no_eol_recycling``
        (the same scenario without end-of-life recycling) and its ``primary_demand``.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new pyplot figure.

    Returns
    -------
    matplotlib.figure.Figure
        Each scenario in its colour (:func:`mfa.plot.style.scenario_colour`). ``plotted_data``:
        ``"time"``, ``"<name>/primary"``, ``"<name>/without_recycling"`` (the upper edge of the
        shaded band) and ``"<name>/avoided"`` (their difference).
    """
    if not isinstance(results, Mapping) or not results:
        raise MfaError("scenario_comparison: expected a non-empty mapping scenario name -> "
                       "results Dataset")
    if reference is not None and reference not in results:
        raise MfaError(f"scenario_comparison: reference scenario {reference!r} is not among "
                       f"{', '.join(results)}")
    for name, ds in results.items():
        need = ["primary_demand"] + ([] if reference else ["primary_demand_no_eol_recycling"])
        _require(ds, need, f"scenario_comparison (scenario {name!r})")
    bases = {n: _basis(ds, ["primary_demand"] + ([] if reference else
                                                  ["primary_demand_no_eol_recycling"]),
                       f"scenario_comparison (scenario {n!r})") for n, ds in results.items()}
    if len(set(bases.values())) > 1:
        raise MfaError("scenario_comparison: primary demand on different bases: "
                       + ", ".join(f"{n}: {b!r}" for n, b in bases.items()))
    basis = next(iter(bases.values()))
    prim = {n: _world(ds["primary_demand"], None, "scenario_comparison")
            for n, ds in results.items()}
    allv = np.concatenate([p.values.ravel() for p in prim.values()])
    _, unit = _display_unit(allv, _units(next(iter(prim.values())), "t/yr"))
    data: dict[str, np.ndarray] = {}
    with _canvas(ax, what="scenario_comparison") as (fig, (axis,), own):
        for name, ds in results.items():
            pv, ref_v = _primary_and_reference(ds, prim, name, reference, unit)
            _draw_scenario(axis, prim[name]["time"].values, pv, ref_v, name,
                           band=name != reference, reference=reference)
            data[f"{name}/primary"], data[f"{name}/without_recycling"] = pv, ref_v
            data[f"{name}/avoided"] = ref_v - pv
            data.setdefault("time", prim[name]["time"].values)
        axis.set_xlim(data["time"][0], data["time"][-1])
        axis.set_ylim(bottom=0)
        axis.set_xlabel("Year")
        _grid(axis)
        how = (f"shading: difference to scenario {reference!r}" if reference else
               "dashed: same scenario without end-of-life recycling; shading: avoided by "
               "end-of-life recycling")
        versions = sorted({str(ds.attrs.get("model_version", "?")) for ds in results.values()})
        _frame(fig, [axis], own, title="Primary Nd demand by scenario, world",
               ylabels=[f"Primary Nd demand, {basis} [{unit}]"], legend=axis, reverse=False,
               caption=f"{how}; model: nd-mfa {', '.join(versions)}, scenarios "
               f"{', '.join(results)}.")
    return _finish(fig, data, {k: "yr" if k == "time" else unit for k in data})


def _primary_and_reference(ds: xr.Dataset, prim: Mapping[str, xr.DataArray], name: str,
                           reference: str | None, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """World primary demand of scenario ``name`` and the upper edge of its band [unit]."""
    p = prim[name]
    time = p["time"].values
    pv = p.values * conversion_factor(_units(p, "t/yr"), unit, f"primary_demand ({name})")
    if reference is not None:
        ref = prim[reference]
        return pv, ref.sel(time=time).values * conversion_factor(
            _units(ref, "t/yr"), unit, f"primary_demand ({reference})")
    nr = ds["primary_demand_no_eol_recycling"]
    return pv, _world(nr, None, "scenario_comparison").sel(time=time).values * (
        conversion_factor(_units(nr, "t/yr"), unit, "primary_demand_no_eol_recycling"))


def _draw_scenario(ax: Any, time: np.ndarray, primary: np.ndarray, upper: np.ndarray,
                   name: str, *, band: bool, reference: str | None) -> None:
    """One scenario in its colour: primary demand, the band avoided, the dashed upper edge."""
    c = scenario_colour(name)
    if band:
        ax.fill_between(time, primary, upper, color=c, alpha=0.18, linewidth=0,
                        label=(f"{name}: avoided vs {reference}" if reference else
                               f"{name}: avoided by end-of-life recycling"))
    ax.plot(time, primary, color=c, linewidth=2.0, label=f"{name}: primary demand")
    if reference is None:
        ax.plot(time, upper, color=c, linewidth=1.0, linestyle="--")


# All figures at once (kinds, checks, save_all): mfa.models.neodymium.figure_set.
from mfa.models.neodymium.figure_set import (  # noqa: E402  (it imports the figures above)
    FIGURE_KINDS as FIGURE_KINDS,
)
from mfa.models.neodymium.figure_set import check_results as check_results  # noqa: E402
from mfa.models.neodymium.figure_set import save_all as save_all  # noqa: E402
from mfa.models.neodymium.figure_set import selected_kinds as selected_kinds  # noqa: E402
