"""Drawing primitives of the Sankey diagrams (:mod:`mfa.plot.sankey`): bands and labels.

Bands are polygons in axis (data) units: classic Sankey S-bands of constant vertical width,
orthogonal routes with rounded corners (offset from a centreline, so nested bands stay
parallel) and short stubs. Labels are placed by :func:`place_labels`, which tries each label's
candidate positions in priority order and keeps the first whose text box overlaps no text
already placed (nor, where it can, a node or another band); optional labels that fit nowhere
are left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.path import Path
from matplotlib.transforms import Bbox

__all__ = ["Label", "arc_path", "fmt", "offset_band", "place_labels", "route_band",
           "s_band", "stub"]


def fmt(value: float) -> str:
    """A value for a label: 3 significant digits, no scientific notation above 0.01."""
    value = float(f"{value:.3g}")  # round first: 9.996 is "10.0", not "10.00"
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


def _clean(points: Sequence[tuple[float, float]]) -> tuple[np.ndarray, list[int]]:
    """Waypoints without repeats or points inside a straight run, and their original indices."""
    p = np.asarray(points, dtype=float)
    keep = [0]
    for i in range(1, len(p)):
        if np.hypot(*(p[i] - p[keep[-1]])) > 1e-12:
            keep.append(i)
    out = [keep[0]]
    for a, b in itertools.pairwise(keep[1:]):
        d1, d2 = p[a] - p[out[-1]], p[b] - p[a]
        if abs(d1[0] * d2[1] - d1[1] * d2[0]) > 1e-12 or float(d1 @ d2) < 0:
            out.append(a)
    out.append(keep[-1])
    return p[out], out


def arc_path(points: Sequence[tuple[float, float]], radii: Sequence[float] | float,
             n_arc: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Centreline through orthogonal waypoints with rounded corners.

    ``radii[i]`` is the corner radius at ``points[i + 1]`` (a scalar: the same at every
    corner); each radius is shrunk to fit the straight runs next to its corner.

    Returns
    -------
    (points, tangents) : tuple of (n, 2) arrays
    """
    p, idx = _clean(points)
    n = len(p)
    full = np.broadcast_to(np.asarray(radii, dtype=float), (max(len(points) - 2, 1),))
    r = np.array([full[j - 1] for j in idx[1:-1]])
    seg = np.hypot(*np.diff(p, axis=0).T)
    for i in range(n - 2):  # the corner at p[i + 1] shares its runs with its neighbours
        r[i] = min(r[i], seg[i] * (0.5 if i > 0 else 1.0),
                   seg[i + 1] * (0.5 if i < n - 3 else 1.0))
    pts, tans = [p[0]], [(p[1] - p[0]) / seg[0]]
    theta = np.linspace(0.0, np.pi / 2, n_arc)[:, None]
    for i in range(1, n - 1):
        d_in = (p[i] - p[i - 1]) / seg[i - 1]
        d_out = (p[i + 1] - p[i]) / seg[i]
        centre = p[i] - d_in * r[i - 1] + d_out * r[i - 1]
        pts.extend(centre - d_out * r[i - 1] * np.cos(theta) + d_in * r[i - 1] * np.sin(theta))
        tans.extend(d_out * np.sin(theta) + d_in * np.cos(theta))
    pts.append(p[-1])
    tans.append((p[-1] - p[-2]) / seg[-1])
    return np.array(pts), np.array(tans)


def offset_band(path: tuple[np.ndarray, np.ndarray], a: float, b: float) -> np.ndarray:
    """Polygon between the lateral offsets ``a`` and ``b`` (left of travel positive)."""
    pts, tans = path
    normal = np.column_stack([-tans[:, 1], tans[:, 0]])
    return np.vstack([pts + a * normal, (pts + b * normal)[::-1]])


def route_band(points: Sequence[tuple[float, float]], width: float,
               radii: Sequence[float] | float) -> np.ndarray:
    """Band of constant ``width`` centred on an orthogonal route with rounded corners."""
    return offset_band(arc_path(points, radii), -width / 2, width / 2)


def s_band(x0: float, top0: float, x1: float, top1: float, width: float, *,
           flat_to: float | None = None, n: int = 40) -> np.ndarray:
    """Classic Sankey band of constant vertical ``width`` from ``(x0, top0)`` to ``(x1, top1)``.

    The band runs flat from ``x0`` to ``flat_to`` (default ``x0``), then bends along a smooth
    S (flat at both ends) to ``x1``. ``top*`` are the y of the band's upper edge.
    """
    xs = x0 if flat_to is None else flat_to
    t = np.linspace(0.0, 1.0, n)
    x = xs + (x1 - xs) * t
    y = top0 + (top1 - top0) * (3 * t**2 - 2 * t**3)
    if xs != x0:
        x = np.concatenate([[x0], x])
        y = np.concatenate([[top0], y])
    return np.vstack([np.column_stack([x, y]), np.column_stack([x, y - width])[::-1]])


def stub(x0: float, top: float, width: float, direction: float, length: float,
         notch: bool) -> np.ndarray:
    """A short band leaving a node edge at ``x0`` (``direction`` +1 right, -1 left).

    With ``notch`` the far end has a notch (a tail: something flowing in), otherwise a point
    (something flowing out).
    """
    x1 = x0 + direction * length
    tip = 0.1 * direction * (-1.0 if notch else 1.0)
    mid = top - width / 2
    return np.array([[x0, top], [x1, top], [x1 + tip, mid], [x1, top - width], [x0, top - width]])


# ------------------------------------------------------------------------------------ labels
@dataclass
class Label:
    """A text with candidate anchors ``(x, y, ha, va)`` in data units, best first.

    ``priority``: lower is placed first. ``optional`` labels that fit nowhere are left out.
    ``owner``: index of the band the label belongs to (it may overlap that band).
    """

    text: str
    candidates: list[tuple[float, float, str, str]]
    style: dict[str, Any] = field(default_factory=dict)
    priority: int = 5
    optional: bool = True
    owner: int | None = None
    key: str = ""


_HA = {"left": 0.0, "center": 0.5, "right": 1.0}
_VA = {"bottom": 0.0, "center": 0.5, "top": 1.0, "baseline": 0.0}


#: Extra room left and right of a label [fraction of its width]: a text's width differs by
#: up to about 13 % between resolutions (hinting of small fonts), its height much less.
_WIDTH_SLACK = 0.05


def _box(size: tuple[float, float], anchor: np.ndarray, ha: str, va: str, pad: float) -> Bbox:
    """The box a label of ``size`` at ``anchor`` keeps free (display units)."""
    w, h = size
    x0 = anchor[0] - _HA[ha] * w
    y0 = anchor[1] - _VA[va] * h
    dx = pad + _WIDTH_SLACK * w
    return Bbox([[x0 - dx, y0 - pad], [x0 + w + dx, y0 + h + pad]])


def _free(box: Bbox, boxes: Sequence[Bbox]) -> bool:
    return not any(box.overlaps(b) for b in boxes)


def place_labels(ax: Any, labels: Sequence[Label], renderer: Any, *,
                 nodes: Sequence[Bbox] = (), bands: Sequence[tuple[np.ndarray, int]] = (),
                 pad: float = 2.0, font_scale: float = 1.0) -> tuple[list[Any], list[Label]]:
    """Draw ``labels`` on ``ax`` where they overlap nothing already placed.

    ``font_scale`` multiplies every label's font size (a diagram drawn smaller than its
    natural size gets proportionally smaller labels, so they fit as they do at full size).

    ``bands`` are polygons (data units) with the index of the band they draw, matched
    against :attr:`Label.owner`. For each label (by priority) the candidates are tried
    three times, with fewer
    constraints each time: (1) no overlap with placed texts, node boxes (display units) or
    bands other than the label's own; (2) texts and nodes; (3) texts only. A label that
    fits nowhere is removed if optional, else left at its first candidate.

    Returns
    -------
    (texts, omitted) : the matplotlib Text objects drawn, and the labels left out
    """
    trans = ax.transData
    paths = [(Path(trans.transform(p)), owner) for p, owner in bands]
    placed: list[Bbox] = []
    texts, omitted = [], []
    for lab in sorted(labels, key=lambda lb: lb.priority):
        x, y, ha, va = lab.candidates[0]
        style = {**lab.style, "fontsize": lab.style.get("fontsize", 10.0) * font_scale}
        t = ax.text(x, y, lab.text, ha=ha, va=va, zorder=5, **style)
        ext = t.get_window_extent(renderer)
        size = (ext.width, ext.height)
        anchors = trans.transform([(c[0], c[1]) for c in lab.candidates])
        boxes = [_box(size, a, c[2], c[3], pad) for a, c in zip(anchors, lab.candidates,
                                                               strict=True)]
        others = [p for p, owner in paths if owner != lab.owner]

        def clear_of_bands(b: Bbox, others: list[Path] = others) -> bool:
            return not any(p.intersects_bbox(b, filled=True) for p in others)

        tests = [lambda b: _free(b, placed) and _free(b, nodes) and clear_of_bands(b),
                 lambda b: _free(b, placed) and _free(b, nodes),
                 lambda b: _free(b, placed)]
        choice = next((i for test in tests for i, b in enumerate(boxes) if test(b)), None)
        if choice is None and lab.optional:
            t.remove()
            omitted.append(lab)
            continue
        choice = choice or 0
        cx, cy, cha, cva = lab.candidates[choice]
        t.set_position((cx, cy))
        t.set_ha(cha)
        t.set_va(cva)
        placed.append(_box(size, trans.transform((cx, cy)), cha, cva, pad))
        texts.append(t)
    return texts, omitted
