"""All the Nd figures at once: the kinds ``mfa plot`` knows, the check that results hold what
they need, and :func:`save_all` (re-exported by :mod:`mfa.models.neodymium.figures`, which
imports this module at its end: import that one, not this)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from mfa.core.errors import MfaError
from mfa.core.units import check_dimensionality
from mfa.io.outputs import OutputSet, checkpoint, joined, safe_file_name, write_bytes
from mfa.models.neodymium.figures import (
    _sankey_html_text,
    demand_by_product,
    in_use_stock,
    primary_vs_secondary,
    sankey,
    scenario_comparison,
    supply_concentration,
)
from mfa.models.neodymium.structure import FLOWS
from mfa.plot.style import (
    _model_text,
    _require,
    _units,
    save_figure,
)

# --------------------------------------------------------------------------------------------
# All figures
# --------------------------------------------------------------------------------------------
#: Figure kinds of :func:`save_all` (and ``mfa plot --kind``).
FIGURE_KINDS = ("sankey", "demand", "supply", "stock-by-product", "stock-by-region",
                "concentration", "comparison")


def _kind_variables(kind: str) -> dict[str, str]:
    """Variables a figure kind reads (name -> a unit of the dimensionality they must have)."""
    if kind == "sankey":
        return {n: "t/yr" for n in FLOWS}
    return _KIND_VARIABLES[kind]


_KIND_VARIABLES: dict[str, dict[str, str]] = {
    "demand": {"nd_in_new_products": "t/yr"},
    "supply": {"primary_demand": "t/yr", "secondary_supply": "t/yr"},
    "stock-by-product": {"in_use_stock": "t"},
    "stock-by-region": {"in_use_stock": "t"},
    "concentration": {"production_share": "1", "hhi": "1"},
    "comparison": {"primary_demand": "t/yr", "primary_demand_no_eol_recycling": "t/yr"},
}
#: Variables drawn when present (same unit rule).
_OPTIONAL_VARIABLES = {"primary_demand_no_eol_recycling": "t/yr"}


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
        Results of one run (:func:`mfa.models.neodymium.run`, or read with
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
    outputs : mfa.io.outputs.OutputSet, optional
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
    (:class:`mfa.io.outputs.OutputSet`), so a failure leaves no partial set behind.
    Each figure is closed once saved (:func:`mfa.plot.style.save_figure`): pyplot keeps
    none of them, and memory stays flat however many figures are written.
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
            saved = save_figure(make(), static, dpi=dpi,  # and closed: memory stays flat
                                metadata={"Title": f"{name} ({_model_text(ds)})"})
            for fmt, content in saved.items():
                write_bytes(directory / f"{name}.{fmt}", content)
                files.append(f"{name}.{fmt}")
                checkpoint("plots")

    with joined(outputs) as outs:
        outs.write(outs.directory(out_dir), draw_all)
    return [Path(out_dir) / f for f in files]
