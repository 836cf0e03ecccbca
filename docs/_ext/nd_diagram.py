"""The process diagram of the Nd model, drawn with matplotlib only (no graphviz).

Used by ``docs/model/description.md``. The edges are checked against ``mfa.models.neodymium.FLOWS`` so
the picture cannot silently drift from the model: every flow between two drawn processes must be
drawn, and every drawn arrow must be a flow of the model.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

# process -> (x, y) centre
POS = {
    "mining": (0.0, 2.0),
    "separation": (2.6, 2.0),
    "metal": (5.2, 2.0),
    "magnet": (7.8, 2.0),
    "manufacturing": (10.4, 2.0),
    "use": (13.0, 2.0),
    "collection": (13.0, 0.0),
    "recycling": (3.9, 0.0),
}
LABEL = {
    "mining": "mining &\nbeneficiation",
    "separation": "separation\n(oxide)",
    "metal": "metal &\nalloy making",
    "magnet": "magnet\nmaking",
    "manufacturing": "product\nmanufacturing",
    "use": "use\n(in-use stock)",
    "collection": "end-of-life\ncollection",
    "recycling": "recycling",
}
W, H = 1.55, 0.8

# flow name -> (label, connection style)
DRAWN = {
    "flow_concentrate": ("concentrate", "arc3"),
    "flow_oxide_to_metal": ("oxide", "arc3"),
    "flow_alloy_to_magnet": ("alloy", "arc3"),
    "flow_magnet_to_manufacturing": ("magnets", "arc3"),
    "flow_oxide_to_manufacturing": ("oxide, non-magnet uses", "arc3,rad=-0.22"),
    "flow_products_to_use": ("products", "arc3"),
    "flow_eol": ("end of life", "arc3"),
    "flow_collected": ("collected", "arc3"),
    "flow_new_scrap": ("new scrap", "arc3"),
    "flow_recycled_new_scrap": ("secondary Nd", "arc3,rad=0.0"),
    "flow_recycled_eol": (None, "arc3,rad=0.0"),
}


def check_against_model() -> None:
    """Raise if the drawing and ``mfa.models.neodymium.FLOWS`` disagree."""
    from mfa.models.neodymium import FLOWS

    for name in DRAWN:
        if name not in FLOWS:
            raise ValueError(f"diagram draws {name!r}, which is not a flow of the model")
    for name, (src, dst, _) in FLOWS.items():
        if src in POS and dst in POS and name not in DRAWN:
            raise ValueError(f"flow {name!r} ({src} -> {dst}) of the model is not drawn")


def draw(ax: plt.Axes | None = None) -> plt.Figure:
    """Draw the system: processes, the flows between them, losses and the system boundary."""
    from mfa.models.neodymium import FLOWS

    check_against_model()
    if ax is None:
        fig, ax = plt.subplots(figsize=(12, 4.4))
    else:
        fig = ax.figure
    for p, (x, y) in POS.items():
        colour = "#dbe9f6" if p != "use" else "#fde6c8"
        ax.add_patch(
            FancyBboxPatch((x - W / 2, y - H / 2), W, H, boxstyle="round,pad=0.04,rounding_size=0.12",
                           fc=colour, ec="#34495e", lw=1.2, zorder=2)
        )
        ax.text(x, y, LABEL[p], ha="center", va="center", fontsize=9, zorder=3)

    def edge(src, dst, label, style, colour="#2c3e50", lw=1.6, offset=(0.0, 0.0), text_dy=0.14):
        (x0, y0), (x1, y1) = POS[src], POS[dst]
        # attach at box borders
        if y0 == y1:
            a = (x0 + W / 2 * (1 if x1 > x0 else -1), y0)
            b = (x1 - W / 2 * (1 if x1 > x0 else -1), y1)
            if "rad" in style and not style.endswith("rad=0.0"):
                a, b = (x0, y0 + H / 2), (x1, y1 + H / 2)
        elif x0 == x1:
            a = (x0, y0 - H / 2 * (1 if y0 > y1 else -1))
            b = (x1, y1 + H / 2 * (1 if y0 > y1 else -1))
        else:
            a = (x0 + (W / 4 if x1 > x0 else -W / 4), y0 + (-H / 2 if y1 < y0 else H / 2))
            b = (x1 + (-W / 4 if x1 > x0 else W / 4), y1 + (H / 2 if y1 < y0 else -H / 2))
        a = (a[0] + offset[0], a[1] + offset[1])
        b = (b[0] + offset[0], b[1] + offset[1])
        ax.add_patch(FancyArrowPatch(a, b, connectionstyle=style, arrowstyle="-|>", mutation_scale=13,
                                     lw=lw, color=colour, zorder=1))
        if label:
            mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
            if "rad=-0.22" in style:
                my += 0.95
            if y0 != y1 and x0 != x1:  # diagonal: label beside the arrow
                ax.text(mx + 0.12, my, label, ha="left", va="center", fontsize=8, color=colour)
            elif x0 == x1:
                ax.text(mx + 0.1, my, label, ha="left", va="center", fontsize=8, color=colour)
            else:
                ax.text(mx, my + 0.06, label, ha="center", va="bottom", fontsize=7, color=colour)

    for name, (label, style) in DRAWN.items():
        src, dst, _ = FLOWS[name]
        if name == "flow_recycled_new_scrap":
            edge("recycling", "separation", None, style, colour="#1e8449", lw=2.2)
            ax.text(2.75, 0.75, "secondary Nd\n(new scrap +\nend of life)", fontsize=8,
                    color="#1e8449", ha="right", va="center")
            continue
        if name == "flow_recycled_eol":
            continue
        colour = "#1e8449" if dst in ("recycling", "collection") else "#2c3e50"
        edge(src, dst, label, style, colour=colour)
    # ore in, losses out (the system boundary is the environment)
    x, y = POS["mining"]
    ax.add_patch(FancyArrowPatch((x - 1.9, y), (x - W / 2, y), arrowstyle="-|>", mutation_scale=13,
                                 lw=1.6, color="#7f8c8d"))
    ax.text(x - 2.0, y + 0.1, "ore\n(mined Nd)", fontsize=8, color="#7f8c8d", va="bottom")
    losses = {"mining": "tailings", "separation": "losses", "metal": "losses",
              "collection": "not collected", "recycling": "losses"}
    for p, label in losses.items():
        x, y = POS[p]
        dx = -0.45 if p == "separation" else 0.45
        start = (x + dx, y - H / 2)
        end = (start[0], start[1] - 0.55)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=1.1,
                                     color="#a04000", ls="--"))
        ax.text(end[0] + 0.06, end[1] + 0.05, label, fontsize=7.5, color="#a04000", va="bottom")
    ax.text(6.2, -1.15, "dashed: losses to the environment (system boundary);  green: recycling loop;"
            "  each stage also trades with the other regions (net exports, not drawn)",
            ha="center", fontsize=8, color="#555555")
    ax.set_xlim(-2.2, 14.0)
    ax.set_ylim(-1.35, 3.55)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig
