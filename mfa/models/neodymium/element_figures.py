"""Figures of the element model (``magnet_rees``) with an element selector: world demand,
primary demand and China's share of mining by element and for the NdPr and magnet-REE groups.

:func:`element_indicators` draws one figure; :func:`save_all`, :func:`selected_kinds` and
:func:`check_results` are the figure-set interface ``mfa plot`` uses (``mfa plot rees.nc
[--element Dy --element NdPr]``), as in :mod:`mfa.models.neodymium.figure_set`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from mfa.core.errors import MfaError
from mfa.core.units import check_dimensionality, conversion_factor
from mfa.io.outputs import OutputSet, checkpoint, joined, write_bytes
from mfa.models.neodymium.element_indicators import with_groups
from mfa.models.neodymium.elements import GROUPS
from mfa.plot.style import (
    OKABE_ITO,
    _canvas,
    _finish,
    _frame,
    _grid,
    _model_text,
    _require,
    _units,
    save_figure,
)

__all__ = ["FIGURE_KINDS", "check_results", "element_indicators", "save_all", "selected_kinds"]

#: Figure kinds of :func:`save_all` (``mfa --model magnet_rees plot --kind``).
FIGURE_KINDS = ("elements",)
#: Variables the figures read and a unit of the dimensionality they must have.
_VARIABLES = {"total_demand": "t/yr", "primary_demand": "t/yr", "mine_output": "t/yr",
              "mine_production_share": "1"}
_PALETTE = list(OKABE_ITO.values())
#: Default selection: the four elements and the two groups.
DEFAULT_SELECTION = ("Nd", "Pr", "Dy", "Tb", "NdPr", "Magnet REE")


def _selection(ds: xr.Dataset, elements: Sequence[str] | None) -> list[str]:
    """The labels to draw: ``elements`` (elements or groups, checked) or all of them."""
    known = [str(x) for x in ds["element"].values]
    known += [g for g, members in GROUPS.items() if set(members) <= set(known) and g not in known]
    if elements is None:
        return [e for e in DEFAULT_SELECTION if e in known]
    chosen = [str(e) for e in elements]
    unknown = [e for e in chosen if e not in known]
    if unknown or not chosen:
        raise MfaError(f"element selector: unknown element(s) or group(s) {unknown}; expected "
                       f"some of {known}")
    return list(dict.fromkeys(chosen))


def element_indicators(ds: xr.Dataset, *, elements: Sequence[str] | None = None,
                       region: str = "China", ax: Any = None) -> Figure:
    """World demand, primary demand and ``region``'s share of mining, by element and group.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of the element model (:func:`.elements.simulate_elements`, ``mfa --model
        magnet_rees run``) with ``total_demand`` (element, time) [t/yr], ``primary_demand``
        (element, time, region) [t/yr], ``mine_output`` and ``mine_production_share``
        (time, region, mined_element) [t/yr, 1]; groups are added here (:func:`.element_indicators.with_groups`).
    elements : sequence of str, optional
        The element selector: elements and groups to draw (``Nd``, ``Pr``, ``Dy``, ``Tb``,
        ``NdPr``, ``Magnet REE``); default all.
    region : str
        Region whose share of mine output is drawn (default China).
    ax : sequence of three matplotlib.axes.Axes, optional
        Draw into these; default a new figure with three panels.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels (demand and primary demand on a log scale [t/yr], share [%]).
        ``plotted_data``: ``"time"``, ``"demand/<label>"``, ``"primary/<label>"`` [t/yr] and
        ``"share/<label>"`` [%].

    Raises
    ------
    MfaError
        Missing variables, a label that is neither an element nor a group, an unknown region.
    """
    _require(ds, list(_VARIABLES), "element_indicators")
    if "element" not in ds.dims:
        raise MfaError("element_indicators: the results have no 'element' dim (results of "
                       "`mfa --model magnet_rees run`)")
    labels = _selection(ds, elements)
    grouped = with_groups(ds)
    regions = [str(r) for r in grouped["region"].values]
    if region not in regions:
        raise MfaError(f"element_indicators: unknown region {region!r}; expected one of {regions}")
    demand = grouped["total_demand"] * conversion_factor(
        _units(grouped["total_demand"], "t/yr"), "t/yr", "total_demand")
    primary = grouped["primary_demand"].sum("region") * conversion_factor(
        _units(grouped["primary_demand"], "t/yr"), "t/yr", "primary_demand")
    share = grouped["mine_production_share"].sel(region=region) * conversion_factor(
        _units(grouped["mine_production_share"], "1"), "percent", "mine_production_share")
    time = grouped["time"].values
    data: dict[str, np.ndarray] = {"time": time}
    units = {"time": "yr"}
    with _canvas(ax, what="element_indicators", figsize=(8.0, 9.0), nrows=3, sharex=True,
                 height_ratios=(3, 3, 2)) as (fig, axes, own):
        for i, label in enumerate(labels):
            colour = _PALETTE[i % len(_PALETTE)]
            style = "--" if label in ("NdPr", "Magnet REE") else "-"
            for key, da, axis, unit in (
                    ("demand", demand.sel(element=label), axes[0], "t/yr"),
                    ("primary", primary.sel(element=label), axes[1], "t/yr"),
                    ("share", share.sel(mined_element=label), axes[2], "%")):
                v = np.asarray(da.transpose("time").values, dtype=float)
                axis.plot(time, v, color=colour, linestyle=style, linewidth=1.8, label=label)
                data[f"{key}/{label}"], units[f"{key}/{label}"] = v, unit
        for axis in axes[:2]:
            axis.set_yscale("log")
            axis.set_ylim(bottom=1.0)  # 1 t/yr: the decades that matter
        axes[2].set_ylim(0, 100)
        for axis in axes:
            axis.set_xlim(time[0], time[-1])
            _grid(axis)
        axes[2].set_xlabel("Year")
        _frame(fig, list(axes), own, legend=axes[0], reverse=False,
               title=f"Magnet rare earths by element: demand, primary demand and "
                     f"{region}'s share of mining",
               ylabels=["World demand [t/yr]", "World primary demand [t/yr]",
                        f"{region}'s share of mine output [%]"],
               caption="Element mass (not oxide); groups add their elements, shares are "
                       f"recomputed from the group's mine output; {_model_text(ds)}.")
    return _finish(fig, data, units)


def selected_kinds(kinds: Sequence[str] | None, *, compare: bool) -> list[str]:
    """The figure kinds :func:`save_all` draws (:data:`FIGURE_KINDS`).

    Raises
    ------
    MfaError
        Unknown kinds (listing the known ones), or several scenarios (no comparison figure).
    """
    unknown = sorted(set(kinds or ()) - set(FIGURE_KINDS))
    if unknown:
        raise MfaError(f"save_all: unknown figure kind(s) {unknown} of the element model; "
                       f"expected some of {list(FIGURE_KINDS)}")
    if compare:
        raise MfaError("the element model (magnet_rees) has no scenario-comparison figure: "
                       "give one results file")
    return [k for k in FIGURE_KINDS if not kinds or k in kinds]


def check_results(ds: xr.Dataset, kinds: Sequence[str] = FIGURE_KINDS, *,
                  what: str = "results") -> None:
    """Check that ``ds`` holds what the figures draw, before anything is drawn.

    Raises
    ------
    MfaError
        Not a dataset; a Monte Carlo result; no ``element`` dim; a variable missing or with a
        unit of the wrong dimensionality (naming it).
    """
    if not isinstance(ds, xr.Dataset):
        raise MfaError(f"{what}: expected the results xarray.Dataset, got {type(ds).__name__}")
    ensemble = [d for d in ("sample", "quantile") if d in ds.dims]
    if ensemble:
        raise MfaError(f"{what}: a Monte Carlo result (dims {', '.join(ensemble)}); figures of "
                       "single runs only: draw fan charts with `mfa mc --plots DIR`")
    if "element" not in ds.dims:
        raise MfaError(f"{what}: no 'element' dim; expected the results of "
                       "`mfa --model magnet_rees run`")
    _require(ds, list(_VARIABLES), what)
    for name, unit in _VARIABLES.items():
        check_dimensionality(_units(ds[name], unit), unit, f"{what}: {name}")


def save_all(ds: xr.Dataset, out_dir: str | Path, *, kinds: Sequence[str] | None = None,
             compare: Mapping[str, xr.Dataset] | None = None,
             formats: Sequence[str] = ("png",), dpi: int = 200,
             elements: Sequence[str] | None = None, region: str | None = None,
             year: int | None = None, outputs: OutputSet | None = None) -> list[Path]:
    """Write the element figures of one run to ``out_dir`` (``element_indicators.<fmt>``),
    all or none (:class:`mfa.io.outputs.OutputSet`).

    ``elements`` is the element selector (:func:`element_indicators`); ``region`` the region
    whose share of mining is drawn (default China); ``year`` is not used (no Sankey diagram).
    """
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise MfaError(f"save_all: figure format(s) {bad} not available for the element "
                       "figures; expected some of ['pdf', 'png', 'svg']")
    selected = selected_kinds(kinds, compare=bool(compare))
    check_results(ds, selected)
    _selection(ds, elements)  # a wrong label: before drawing
    files: list[str] = []

    def draw_all(directory: Path) -> None:
        for _kind in selected:
            fig = element_indicators(ds, elements=elements, region=region or "China")
            saved = save_figure(fig, list(formats), dpi=dpi,
                                metadata={"Title": f"element_indicators ({_model_text(ds)})"})
            for fmt, content in saved.items():
                write_bytes(directory / f"element_indicators.{fmt}", content)
                files.append(f"element_indicators.{fmt}")
                checkpoint("plots")

    with joined(outputs) as outs:
        outs.write(outs.directory(out_dir), draw_all)
    return [Path(out_dir) / f for f in files]
