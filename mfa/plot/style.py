"""Style of the figures: colour-blind-safe palettes, units in labels, captions, plotted data.

Every figure function draws into a new figure made with :mod:`matplotlib.pyplot` (so
``plt.show()`` shows it and ``fig.show()`` works), or into the Axes given as ``ax=``, and returns
the :class:`matplotlib.figure.Figure`. The figure carries ``fig.plotted_data`` (the numbers
drawn, in the units shown) and ``fig.plotted_units``, so that tests and users can check what was
drawn without reading pixels. A new figure has its title above, its legend right of the axes
and a caption (model, scenario, sources) below them, all wrapped so that no text is clipped or
runs into another; given Axes get the title on the axes and the legend inside, no caption.

Colours: ``OKABE_ITO``, and one colour per scenario in every figure
(:func:`scenario_colour`).
"""

from __future__ import annotations

import colorsys
import contextlib
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import matplotlib
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
#: Fixed colours of the scenarios shipped with the package (Okabe-Ito); other scenario names
#: get a colour from their name (:func:`scenario_colour`).
SCENARIO_COLOURS = {
    "baseline": OKABE_ITO["blue"],
    "high-recycling": OKABE_ITO["bluish_green"],
    "no-recycling": OKABE_ITO["vermillion"],
    "net-zero": OKABE_ITO["orange"],
    "net-zero-circular": OKABE_ITO["reddish_purple"],
    "diversified-supply": OKABE_ITO["sky_blue"],
    "re-free-motors": OKABE_ITO["black"],
    "lifetime-extension": OKABE_ITO["grey"],
}
_FALLBACK = ["#BBBBBB", "#777777", "#DDDDDD", "#555555"]

#: rcParams of every figure.
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
_TITLE_SIZE = 11.0  # [pt]
_LABEL_SIZE = 10.0  # [pt]
_CAPTION_SIZE = 9.0  # [pt]
_PAD = 0.08  # margin of the caption [inch]


def scenario_colour(name: str) -> str:
    """The colour of a scenario, the same in every figure.

    Parameters
    ----------
    name : str
        Scenario name.

    Returns
    -------
    str
        ``"#rrggbb"``: the fixed colour of a known scenario (:data:`SCENARIO_COLOURS`), else a
        colour that depends only on the name (hue from its SHA-256 digest, fixed lightness and
        saturation, so that it reads on white), the same in every run and process.
    """
    name = str(name)
    if name in SCENARIO_COLOURS:
        return SCENARIO_COLOURS[name]
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    hue = int.from_bytes(digest[:4], "big") / 2**32
    r, g, b = colorsys.hls_to_rgb(hue, 0.42, 0.65)
    return "#{:02X}{:02X}{:02X}".format(*(round(255 * c) for c in (r, g, b)))


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


# ------------------------------------------------------------------------------ text fitting
def _text_width(line: str, size: float, weight: str = "normal") -> float:
    """Width of one line of text [inch] (font metrics; no renderer needed)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=size, weight=weight)
    return text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0] / 72.0


def _wrap(text: str, width: float, size: float) -> str:
    """``text`` broken between words into lines at most ``width`` inch wide (5 % slack)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if line and _text_width(trial, size) > 0.95 * width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return "\n".join(lines)


def _lines_height(text: str, size: float) -> float:
    """Height of a block of text [inch], with matplotlib's line spacing (1.2) and room."""
    return (text.count("\n") + 1) * 1.2 * size / 72.0 + 0.04


# ------------------------------------------------------------------------------ figure frame
@contextlib.contextmanager
def _canvas(ax: Any = None, *, what: str, figsize: tuple[float, float] = (8.0, 5.0),
            nrows: int = 1, ncols: int = 1, sharex: bool = False,
            height_ratios: Sequence[float] | None = None) -> Iterator[tuple[Figure, list, bool]]:
    """The figure and axes to draw into, in the figures' style: ``(fig, axes, own)``.

    ``ax`` None: a new pyplot figure with a grid of ``nrows`` by ``ncols`` Axes (``own``;
    closed again if drawing fails), else the given Axes (one Axes, or a sequence of
    ``nrows * ncols`` Axes of one figure), row by row.
    """
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(_STYLE):
        if ax is not None:
            axes = _given_axes(ax, nrows * ncols, what)
            yield axes[0].figure, axes, False
            return
        fig, grid = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained",
                                 sharex=sharex, squeeze=False,
                                 gridspec_kw={"height_ratios": height_ratios}
                                 if height_ratios else None)
        try:
            yield fig, list(grid.ravel()), True
        except BaseException:
            plt.close(fig)
            raise


def _given_axes(ax: Any, n: int, what: str) -> list:
    from matplotlib.axes import Axes

    axes = [ax] if isinstance(ax, Axes) else list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != n or not all(isinstance(a, Axes) for a in axes):
        expected = "a matplotlib Axes" if n == 1 else f"a sequence of {n} matplotlib Axes"
        raise MfaError(f"{what}: ax= must be {expected}, got {type(ax).__name__}"
                       + (f" of {len(axes)}" if len(axes) != 1 or n != 1 else ""))
    if len({id(a.figure) for a in axes}) > 1:
        raise MfaError(f"{what}: the Axes given as ax= must belong to one figure")
    return axes


def _frame(fig: Figure, axes: Sequence[Any], own: bool, *, title: str, caption: str,
           ylabels: Sequence[str] = (), legend: Any = None, reverse: bool = True) -> None:
    """Title, y labels (wrapped to fit), legend and caption of a figure.

    On a new figure (``own``): the title above all axes, the legend right of ``legend`` (an
    Axes), the caption below, with room kept for it. On given Axes: the title on the first
    one, the legend inside ``legend``, no caption.
    """
    width, height = fig.get_size_inches()
    cap = _wrap(caption, width - 2 * _PAD, _CAPTION_SIZE) if own else ""
    bottom = (_lines_height(cap, _CAPTION_SIZE) + 2 * _PAD) / height if own else 0.0
    if own:
        fig.get_layout_engine().set(rect=(0.0, bottom, 1.0, 1.0 - bottom))
        fig.text(_PAD / width, _PAD / height, cap, ha="left", va="bottom",
                 fontsize=_CAPTION_SIZE, color="#333333")
        fig.suptitle(_wrap(title, width - 2 * _PAD, _TITLE_SIZE), fontsize=_TITLE_SIZE)
        title_h = _lines_height(fig._suptitle.get_text(), _TITLE_SIZE)
    else:
        a = axes[0]
        a.set_title(_wrap(title, a.get_position().width * width, _TITLE_SIZE))
        title_h = 0.0
    ratios = axes[0].get_subplotspec().get_gridspec().get_height_ratios() if own else None
    for i, (a, text) in enumerate(zip(axes, ylabels, strict=False)):
        if own:  # room for the x tick labels and label, the gaps between panels
            share = ratios[i] / sum(ratios) if ratios else 1.0 / len(axes)
            room = (height * (1 - bottom) - title_h - 0.65 - 0.2 * (len(axes) - 1)) * share
        else:
            room = a.get_position().height * height
        a.set_ylabel(_wrap(text, max(room, 1.0), _LABEL_SIZE))
    if legend is not None:
        handles, labels = legend.get_legend_handles_labels()
        if reverse:
            handles, labels = handles[::-1], labels[::-1]
        if own:
            legend.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                          frameon=False)
        else:
            legend.legend(handles, labels, loc="best", frameon=False)


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
    _grid(ax)
    return total


def _grid(ax: Any) -> None:
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)


def save_figure(fig: Figure, formats: Sequence[str], *, dpi: float = 200,
                metadata: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """The figure as files' bytes, one per format; then the figure is closed.

    Closing makes pyplot forget the figure, so that writing many figures (``mfa plot``,
    :func:`mfa.models.neodymium.figures.save_all`) keeps memory flat.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure of :mod:`mfa.plot` (or any figure).
    formats : sequence of str
        File formats matplotlib writes (``"png"``, ``"svg"``, ``"pdf"``).
    dpi : float
        Resolution of raster formats [dots per inch].
    metadata : mapping of str to str, optional
        File metadata (e.g. ``{"Title": ...}``).

    Returns
    -------
    dict of str to bytes
        Format -> file contents.
    """
    import io

    import matplotlib.pyplot as plt

    out = {}
    try:
        for fmt in formats:
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=dpi, metadata=dict(metadata or {}) or None)
            out[fmt] = buffer.getvalue()
    finally:
        plt.close(fig)
    return out
