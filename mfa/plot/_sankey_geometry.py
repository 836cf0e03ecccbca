"""Placement and routing of a Sankey diagram with a loop (used by :mod:`mfa.plot.sankey`).

Coordinates are axis units: columns are ``DX`` apart, the largest node is about ``H_MAX``
high. Process nodes form a *chain* (left to right by column) or sit in the *loop* row below
it. Every band has a route:

``fwd``        chain -> chain to the right: an S-band (flat over skipped columns);
``back``       chain -> chain to the left: right, down below everything, left, up, right;
``to_loop``    chain -> loop node: right, down, left into the loop node's right side;
``from_loop``  loop node -> chain: left, up, right into the target's left side;
``loop_loop``  loop node -> loop node: an S-band drawn right to left;
``riser``      chain -> boundary (a loss): right, up over the chain, right, down into the sink;
``bottom``     loop node -> boundary: left, down, right along the bottom, up into the sink;
``stock``      chain -> its stock node (next column, at the top);
``input``      boundary -> node: a notched stub; ``stub_in``/``stub_out``: short stubs.

Ports are stacked on each side so that nested routes stay parallel and never cross
(losses leave at the top, loop bands at the bottom). Each node's label has room above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mfa.plot._bands import Label, arc_path, offset_band, route_band, s_band, stub

DX = 1.5  # column spacing
NW = 0.09  # node width
R0 = 0.07  # smallest inner corner radius
LH = 0.45  # room above a node for its two-line label
GAP = 0.08  # vertical gap between stacked things
RISER = 0.62  # a loss rises this far right of its node (room for the node's label)
STUB = 0.35  # length of a stub
INPUT = 0.45  # length of an input arrow
LOSS_ROOM = 0.6  # room between the node labels and the loss lanes (for the loss labels)
H_MAX = 1.7  # height of the largest node

_BAND_TEXT = {"fontsize": 9, "bbox": {"boxstyle": "round,pad=0.15", "fc": "white",
                                      "ec": "none", "alpha": 0.75}}
NODE_FONT_SIZE = 9.5
_NODE_TEXT = {"fontsize": NODE_FONT_SIZE, "weight": "bold",
              "bbox": {"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6}}


@dataclass
class BandSpec:
    """A band to draw: ``source``/``target`` are node names (None: outside the system)."""

    key: str
    source: str | None
    target: str | None
    value: float  # t/yr, >= 0
    kind: str  # flow, loss, input, stock, stub_in, stub_out
    colour: str
    text: str | None  # label drawn with the value (None: the value alone)
    route: str = ""
    width: float = 0.0


@dataclass
class NodeSpec:
    """A node to draw: label, colours and where it goes (``loop``: in the row below)."""

    label: str
    column: float
    colour: str = "#333333"
    text_colour: str = "black"
    loop: bool = False
    row: float = 0.0
    stock_of: str | None = None


@dataclass
class Diagram:
    """Geometry of one Sankey diagram; call :meth:`build`, then read the attributes."""

    nodes: dict[str, NodeSpec]
    bands: list[BandSpec]
    k: float | None  # axis units per t/yr; None: the largest node is H_MAX high
    value_text: Callable[[float], str]  # t/yr -> "12.3 kt/yr"
    text_width: Callable[[str], float] = lambda text: 0.0  # node label -> width [axis units]
    patches: list[tuple[np.ndarray, str, float, int]] = field(default_factory=list)
    rects: dict[str, tuple[float, float, float, str]] = field(default_factory=dict)
    labels: list[Label] = field(default_factory=list)
    anchors: dict[str, tuple[float, float]] = field(default_factory=dict)

    # ------------------------------------------------------------------ set-up
    def build(self) -> Diagram:
        self.x: dict[str, float] = {n: s.column * DX for n, s in self.nodes.items()}
        self.top: dict[str, float] = {}
        self.turn: dict[tuple[str, int], float] = {}
        for b in self.bands:
            b.route = self._route(b)
        self.throughput = {n: max(sum(b.value for b in self.bands if b.target == n),
                                  sum(b.value for b in self.bands if b.source == n))
                           for n in self.nodes}
        # Losses rise right of the node's label
        label = {n: f"{s.label}\n{self.value_text(self.throughput[n])}"
                 for n, s in self.nodes.items()}
        self.riser0 = {n: max(RISER, self.text_width(label[n]) / 2 - NW / 2 + 0.08)
                       for n in self.nodes}
        self.k = self.k or self._scale()
        for b in self.bands:
            b.width = b.value * self.k
        self._ports()
        self._place_chain()
        self._place_loop()
        self._turns()
        self._draw_nodes()
        self._draw_bands()
        self._draw_losses()
        return self

    def _is_loop(self, n: str | None) -> bool:
        return n is not None and self.nodes[n].loop

    def _route(self, b: BandSpec) -> str:
        s, t = b.source, b.target
        if b.kind in ("input", "stub_in", "stub_out"):
            return b.kind
        if b.kind == "loss":
            return "bottom" if self._is_loop(s) else "riser"
        if b.kind == "stock":
            return "stub_out" if self._is_loop(s) else "stock"
        if self._is_loop(s):
            return "loop_loop" if self._is_loop(t) else "from_loop"
        if self._is_loop(t):
            return "to_loop"
        return "fwd" if self.nodes[t].column > self.nodes[s].column else "back"

    def _scale(self) -> float:
        """Axis units per t/yr: the largest node H_MAX high, turns fitting in a column gap."""
        top = max(self.throughput.values(), default=0.0)
        if top <= 0:
            return 1.0
        k = H_MAX / top
        turning = [b.value for b in self.bands
                   if b.route in ("to_loop", "from_loop", "back", "riser", "bottom")]
        if max(turning, default=0.0) > 0:
            k = min(k, 0.8 * (DX - NW - 2 * R0 - 0.05) / max(turning))
        for n in self._chain():
            up = sum(b.value for b in self.bands if b.source == n and b.route == "riser")
            if up > 0:
                k = min(k, (DX - NW - self.riser0[n] - R0 - 0.1) / up)
        return k

    def _ports(self) -> None:
        """Order the bands on each side of each node, top to bottom."""
        ins: dict[str, list[int]] = {n: [] for n in self.nodes}
        outs: dict[str, list[int]] = {n: [] for n in self.nodes}
        for i, b in enumerate(self.bands):
            if b.target is not None:
                ins[b.target].append(i)
            if b.source is not None:
                outs[b.source].append(i)
        loops = sorted((n for n in self.nodes if self._is_loop(n)),
                       key=lambda n: -self.nodes[n].column)
        self.rank: dict[int, tuple] = {}
        for li, n in enumerate(loops):  # loop nodes first: the chain's loop ports follow them
            ins[n].sort(key=lambda i: self._in_key(n, i))
            outs[n].sort(key=lambda i: self._out_key(n, i))
            for j, i in enumerate(ins[n] + outs[n]):
                self.rank[i] = (li, j)
        for i, b in enumerate(self.bands):
            if b.route == "back":
                span = abs(self.nodes[b.target].column - self.nodes[b.source].column)
                self.rank[i] = (len(loops), span, i)
        for n in self.nodes:
            if not self._is_loop(n):
                ins[n].sort(key=lambda i, n=n: self._in_key(n, i))
                outs[n].sort(key=lambda i, n=n: self._out_key(n, i))
        self.ins, self.outs = ins, outs
        self.h = {n: max(sum(self.bands[i].width for i in ins[n]),
                         sum(self.bands[i].width for i in outs[n])) for n in self.nodes}

    def _below(self, i: int) -> tuple:
        """Sort key of a band turning below a chain node: the lowest lane gets the top port."""
        return tuple(-x for x in self.rank.get(i, ()))

    def _in_key(self, n: str, i: int) -> tuple:
        b = self.bands[i]
        if self._is_loop(n):
            group = {"to_loop": 0, "loop_loop": 1, "input": 2}.get(b.route, 3)
            return (group, self.nodes[b.source].column if group == 0 else 0)
        group = {"fwd": 0, "input": 1, "stub_in": 2}.get(b.route, 3)
        if group == 0:
            return (0, self.nodes[b.source].row, self.nodes[b.source].column)
        return (group, *self._below(i))

    def _out_key(self, n: str, i: int) -> tuple:
        b = self.bands[i]
        if self._is_loop(n):
            return ({"from_loop": 0, "loop_loop": 1, "stub_out": 2}.get(b.route, 3),)
        group = {"riser": 0, "stock": 1, "fwd": 2, "stub_out": 3}.get(b.route, 4)
        if group == 2:
            return (2, self.nodes[b.target].row, -self.nodes[b.target].column)
        return (group, *self._below(i))

    def offset(self, n: str, side: str, i: int) -> float:
        """Distance from the top of node ``n`` to the top of band ``i`` on ``side``."""
        lst = self.ins[n] if side == "in" else self.outs[n]
        return sum(self.bands[j].width for j in lst[: lst.index(i)])

    def port(self, n: str, side: str, i: int) -> float:
        """y of the centre of band ``i`` where it meets node ``n``."""
        return self.top[n] - self.offset(n, side, i) - self.bands[i].width / 2

    def right(self, n: str) -> float:
        return self.x[n] + NW

    # ------------------------------------------------------------------ placement
    def _chain(self) -> list[str]:
        return [n for n in self.nodes if not self._is_loop(n)]

    def _desired(self, n: str) -> float:
        spec = self.nodes[n]
        if spec.stock_of is not None:
            i = self.ins[n][0]
            return self.port(spec.stock_of, "out", i) + self.bands[i].width / 2
        for i in self.ins[n]:
            b = self.bands[i]
            if b.route == "fwd" and b.source in self.top:
                return self.port(b.source, "out", i) + b.width / 2 + self.offset(n, "in", i)
        return 0.0

    def _ceiling(self, c: float) -> float:
        """Lowest bottom edge of the bands flying over column ``c``, less room for a label."""
        out = np.inf
        for i, b in enumerate(self.bands):
            if b.route == "fwd" and b.width > 0 and b.source in self.top and \
                    self.nodes[b.source].column < c < self.nodes[b.target].column:
                out = min(out, self.port(b.source, "out", i) - b.width / 2 - LH - GAP)
        return out

    def _place_chain(self) -> None:
        chain = self._chain()
        for c in sorted({self.nodes[n].column for n in chain}):
            members = [n for n in chain if self.nodes[n].column == c]
            desired = {n: self._desired(n) for n in members}
            ceiling = self._ceiling(c)
            for n in sorted(members, key=lambda m: (self.nodes[m].row, -desired[m])):
                self.top[n] = min(desired[n], ceiling)
                ceiling = self.top[n] - self.h[n] - LH - GAP
        self.chain_floor = min((self.top[n] - self.h[n] for n in chain), default=0.0)

    def _place_loop(self) -> None:
        placed: list[str] = []
        for n in sorted((m for m in self.nodes if self._is_loop(m)),
                        key=lambda m: -self.nodes[m].column):
            cap = self.chain_floor - LH - GAP
            for i in self.ins[n] + self.outs[n]:
                b = self.bands[i]
                other, side = ((b.source, "out") if b.route == "to_loop" else
                               (b.target, "in") if b.route == "from_loop" else (None, ""))
                if other is None:
                    continue
                mine = self.offset(n, "in" if b.route == "to_loop" else "out", i)
                cap = min(cap, self.port(other, side, i) - 2 * R0 - b.width / 2 + mine)
            for m in placed:
                if abs(self.x[m] - self.x[n]) < 1.3:
                    cap = min(cap, self.top[m] - self.h[m] - LH - GAP)
            self.top[n] = cap
            placed.append(n)
        floor = min([self.chain_floor] + [self.top[n] - self.h[n] for n in placed])
        self.floor = floor - GAP

    def _turns(self) -> None:
        """x of the vertical run of every band that turns next to a chain node."""
        for n in self._chain():
            acc = R0
            for i in reversed(self.outs[n]):
                b = self.bands[i]
                if b.route in ("to_loop", "back"):
                    self.turn[(n, i)] = self.right(n) + acc + b.width / 2
                    acc += b.width + 0.02
            acc = R0
            for i in reversed(self.ins[n]):
                b = self.bands[i]
                if b.route in ("from_loop", "back"):
                    self.turn[(n, i)] = self.x[n] - acc - b.width / 2
                    acc += b.width + 0.02
            acc = self.riser0[n]
            for i in self.outs[n]:
                b = self.bands[i]
                if b.route == "riser":
                    self.turn[(n, i)] = self.right(n) + acc + b.width / 2
                    acc += b.width + 0.02

    # ------------------------------------------------------------------ drawing
    def _patch(self, poly: np.ndarray, colour: str, i: int | None, alpha: float = 0.55) -> None:
        self.patches.append((poly, colour, alpha, -1 if i is None else i))

    def _text(self, text: str, cands: list, *, priority: int, owner: int | None = None,
              optional: bool = True, key: str = "", **style) -> None:
        self.labels.append(Label(text, cands, {**_BAND_TEXT, **style}, priority, optional,
                                 owner, key))

    def _draw_nodes(self) -> None:
        for n, spec in self.nodes.items():
            x, top, h = self.x[n], self.top[n], self.h[n]
            self.rects[n] = (x, top, h, spec.colour)
            self.anchors[n] = (x + NW / 2, top - h / 2)
            value = self.value_text(h / self.k) if self.k > 0 else "0"
            sign = "+" if spec.stock_of is not None else ""
            cx = x + NW / 2
            cands = [(cx, top + 0.04, "center", "bottom"), (x, top + 0.04, "right", "bottom"),
                     (x + NW, top + 0.04, "left", "bottom"), (cx, top + 0.25, "center", "bottom"),
                     (x + NW, top + 0.25, "left", "bottom"), (cx, top + 0.46, "center", "bottom")]
            self._text(f"{spec.label}\n{sign}{value}", cands, priority=0, optional=False,
                       key=f"node/{n}", **{**_NODE_TEXT, "color": spec.text_colour})

    def _draw_bands(self) -> None:
        order = sorted(range(len(self.bands)), key=lambda i: (self.bands[i].route == "back",
                                                              self.rank.get(i, ())))
        for i in order:
            b = self.bands[i]
            if b.width > 0 and b.route not in ("riser", "bottom"):
                getattr(self, f"_draw_{b.route}")(i, b)

    def _label(self, b: BandSpec, sep: str = "\n") -> str:
        v = self.value_text(b.value)
        return v if b.text is None else f"{b.text}{sep}{v}"

    def _along(self, i: int, b: BandSpec, x0: float, x1: float, y: Callable, w: float,
               priority: int = 6, sep: str = "\n") -> None:
        """Label candidates along a band: on it, then just above or below it."""
        fractions = (0.5, 0.3, 0.7, 0.15, 0.85)
        cands = [(x0 + f * (x1 - x0), y(x0 + f * (x1 - x0)), "center", "center")
                 for f in fractions]
        for lift in (0.03, 0.25):
            for f in fractions:
                xm = x0 + f * (x1 - x0)
                cands += [(xm, y(xm) + w / 2 + lift, "center", "bottom"),
                          (xm, y(xm) - w / 2 - lift, "center", "top")]
        self._text(self._label(b, sep), cands, priority=priority, owner=i, key=b.key)

    def _draw_fwd(self, i: int, b: BandSpec) -> None:
        s, t = b.source, b.target
        x0, x1 = self.right(s), self.x[t]
        y0 = self.port(s, "out", i) + b.width / 2
        y1 = self.port(t, "in", i) + b.width / 2
        skipped = [self.right(m) for m in self._chain()
                   if self.nodes[s].column < self.nodes[m].column < self.nodes[t].column]
        flat = max(skipped, default=x0)
        self._patch(s_band(x0, y0, x1, y1, b.width, flat_to=flat), b.colour, i)

        def centre(x: float) -> float:
            u = np.clip((x - flat) / max(x1 - flat, 1e-9), 0.0, 1.0)
            return y0 + (y1 - y0) * (3 * u**2 - 2 * u**3) - b.width / 2

        self._along(i, b, x0, x1, centre, b.width)

    def _draw_stock(self, i: int, b: BandSpec) -> None:
        s, t = b.source, b.target
        y0 = self.port(s, "out", i) + b.width / 2
        y1 = self.port(t, "in", i) + b.width / 2
        self._patch(s_band(self.right(s), y0, self.x[t], y1, b.width), b.colour, i, 0.6)

    def _draw_to_loop(self, i: int, b: BandSpec) -> None:
        s, n = b.source, b.target
        ys, yl, xt = self.port(s, "out", i), self.port(n, "in", i), self.turn[(s, i)]
        r = R0 + b.width / 2
        pts = [(self.right(s), ys), (xt, ys), (xt, yl), (self.right(n), yl)]
        self._patch(route_band(pts, b.width, r), b.colour, i)
        self._along(i, b, self.right(n) + 0.1, xt - r, lambda x: yl, b.width, sep=" ")

    def _draw_from_loop(self, i: int, b: BandSpec) -> None:
        n, t = b.source, b.target
        yl, yt, xt = self.port(n, "out", i), self.port(t, "in", i), self.turn[(t, i)]
        r = R0 + b.width / 2
        self._patch(route_band([(self.x[n], yl), (xt, yl), (xt, yt), (self.x[t], yt)],
                               b.width, r), b.colour, i)
        xa = xt - b.width / 2 - 0.05
        cands = [(xa, yl + f * (yt - yl), "right", "center") for f in (0.5, 0.3, 0.7)]
        cands += [(xt + f * (self.x[n] - xt), yl, "center", "center") for f in (0.5, 0.3, 0.7)]
        self._text(self._label(b), cands, priority=5, owner=i, key=b.key)

    def _draw_back(self, i: int, b: BandSpec) -> None:
        s, t = b.source, b.target
        ys, yt = self.port(s, "out", i), self.port(t, "in", i)
        xs, xt = self.turn[(s, i)], self.turn[(t, i)]
        r = R0 + b.width / 2
        lane = min(self.floor - b.width / 2, ys - 2 * r, yt - 2 * r)
        self.floor = lane - b.width / 2 - GAP
        pts = [(self.right(s), ys), (xs, ys), (xs, lane), (xt, lane), (xt, yt), (self.x[t], yt)]
        self._patch(route_band(pts, b.width, r), b.colour, i)
        self._along(i, b, xt + r, xs - r, lambda x: lane, b.width, sep=" ")

    def _draw_loop_loop(self, i: int, b: BandSpec) -> None:
        s, t = b.source, b.target
        y0 = self.port(s, "out", i) + b.width / 2
        y1 = self.port(t, "in", i) + b.width / 2
        self._patch(s_band(self.x[s], y0, self.right(t), y1, b.width), b.colour, i)

    def _stub_at(self, i: int, b: BandSpec, node: str, side: str, length: float) -> None:
        """A stub on ``side`` of ``node``; chain nodes take inputs on the left, loop nodes
        on the right."""
        leftwards = (side == "in") != self._is_loop(node)
        x0 = self.x[node] if leftwards else self.right(node)
        d = -1.0 if leftwards else 1.0
        top = self.port(node, side, i) + b.width / 2
        self._patch(stub(x0, top, b.width, d, length, notch=side == "in"), b.colour, i,
                    0.6 if b.route == "input" else 0.45)
        tip = x0 + d * (length + 0.12)
        ha = "right" if d < 0 else "left"
        yc = top - b.width / 2
        self.anchors[f"{b.key}@{node}"] = (x0 + d * length, yc)
        cands = [(tip, yc, ha, "center"), (tip, top + 0.03, ha, "bottom"),
                 (tip, top - b.width - 0.03, ha, "top")]
        for dy in (0.3, 0.6):
            cands += [(tip, top + dy, ha, "bottom"), (tip, top - b.width - dy, ha, "top")]
        cands += [(x0 + d * length / 2, top + 0.03, "center", "bottom"),
                  (x0 + d * length / 2, top - b.width - 0.03, "center", "top")]
        colour = ("#333333" if b.route == "input" else "#7A3A66" if b.key.startswith("net_")
                  else "#A33A00" if b.key.startswith("imbalance") else "#8A5A00")
        self._text(self._label(b), cands, priority=2, owner=i, key=b.key, color=colour)

    def _draw_input(self, i: int, b: BandSpec) -> None:
        self._stub_at(i, b, b.target, "in", INPUT)

    def _draw_stub_in(self, i: int, b: BandSpec) -> None:
        self._stub_at(i, b, b.target, "in", STUB)

    def _draw_stub_out(self, i: int, b: BandSpec) -> None:
        self._stub_at(i, b, b.source, "out", STUB)

    # ------------------------------------------------------------------ losses
    def _draw_losses(self) -> None:
        risers = [i for i, b in enumerate(self.bands) if b.route == "riser" and b.width > 0]
        bottoms = [i for i, b in enumerate(self.bands) if b.route == "bottom" and b.width > 0]
        if not risers and not bottoms:
            return
        col = {n: s.column for n, s in self.nodes.items()}
        risers.sort(key=lambda i: (col[self.bands[i].source],
                                   -self.outs[self.bands[i].source].index(i)))
        w_up = sum(self.bands[i].width for i in risers)
        groups: dict[str, list[int]] = {}
        for i in bottoms:
            groups.setdefault(self.bands[i].source, []).append(i)
        loops = sorted(groups, key=lambda n: -col[n])
        w_low = sum(self.bands[i].width for i in bottoms)
        x_right = self._right_edge()
        sink_left = x_right + GAP + max(R0 + w_up, 2 * R0 + 2 * w_low) + 0.05
        chain = self._chain()
        sink_left = max(sink_left, max(self.right(n) for n in chain) + 0.6 * DX)
        lane_top = max(self.top[n] for n in chain) + LH + LOSS_ROOM + w_up
        last = max(col[n] for n in chain)
        sink_top = max(self.top[n] for n in chain if col[n] == last) - 0.1
        if risers:
            sink_top = min(sink_top, lane_top - w_up - 2 * R0 - w_up - 0.05)
        self.sink = (sink_left, sink_top, w_up + w_low)
        cum = 0.0
        for i in risers:
            self._riser(i, cum, w_up, lane_top, sink_left, sink_top)
            cum += self.bands[i].width
        for j, n in enumerate(loops):
            later = sum(self.bands[i].width for m in loops[j + 1:] for i in groups[m])
            self._bottom(groups[n], sink_left, sink_top - cum, later)
            cum += sum(self.bands[i].width for i in groups[n])
        self._sink(risers + [i for n in loops for i in groups[n]], sink_left, sink_top, cum)

    def _sink(self, losses: list[int], left: float, top: float, h: float) -> None:
        self.rects["losses"] = (left, top, h, "#666666")
        self.anchors["losses"] = (left + NW / 2, top - h / 2)
        total = sum(self.bands[i].value for i in losses)
        lines = [f"Losses\n{self.value_text(total)}"]
        lines += [f"{self.bands[i].text}: {self.value_text(self.bands[i].value)}"
                  for i in losses]
        x = left + NW + 0.08
        self._text("\n".join(lines), [(x, top, "left", "top"), (x, top - h / 2, "left", "center")],
                   priority=1, optional=False, key="node/losses", fontsize=9, bbox=None)

    def _right_edge(self) -> float:
        xs = [self.right(n) for n in self.nodes]
        xs += [x + self.bands[i].width / 2 for (_, i), x in self.turn.items()]
        xs += [self.right(n) + STUB + 0.1 for n in self.nodes if any(
            self.bands[i].route == "stub_out" for i in self.outs[n])]
        return max(xs)

    def _riser(self, i: int, cum: float, w_up: float, lane_top: float, sink_left: float,
               sink_top: float) -> None:
        b = self.bands[i]
        s, w = b.source, b.width
        y, xr = self.port(s, "out", i), self.turn[(s, i)]
        lane = lane_top - cum - w / 2
        x_down = sink_left - R0 - cum - w / 2
        entry = sink_top - cum - w / 2
        r3 = R0 + (w_up - cum - w / 2)
        r4 = R0 + cum + w / 2
        pts = [(self.right(s), y), (xr, y), (xr, lane), (x_down, lane), (x_down, entry),
               (sink_left, entry)]
        self._patch(route_band(pts, w, [R0 + w / 2, R0 + w / 2, r3, r4]), b.colour, i)
        lo, hi = self.top[s] + LH + 0.05, lane - w / 2 - 0.05
        cands = []
        for f in (0.5, 0.25, 0.75, 0.05, 0.95):
            yy = lo + f * (hi - lo)
            cands += [(xr + w / 2 + 0.05, yy, "left", "center"),
                      (xr - w / 2 - 0.05, yy, "right", "center")]
        self._text(self._label(b), cands, priority=4, owner=i, key=b.key, color="#555555",
                   bbox=None)

    def _bottom(self, group: list[int], sink_left: float, entry_top: float,
                later: float) -> None:
        """Losses of one loop node, bundled: left, down, right along the bottom, up, right."""
        n = self.bands[group[0]].source
        wb = sum(self.bands[i].width for i in group)
        yc = self.top[n] - self.offset(n, "out", group[0]) - wb / 2
        r = R0 + wb / 2
        lane = min(self.floor - wb / 2, yc - 2 * r)
        self.floor = lane - wb / 2 - GAP
        x_up = sink_left - R0 - later - wb / 2
        entry = entry_top - wb / 2
        pts = [(self.x[n], yc), (self.x[n] - r, yc), (self.x[n] - r, lane), (x_up, lane),
               (x_up, entry), (sink_left, entry)]
        path_r = [r, r, r, R0 + later + wb / 2]
        centre = arc_path(pts, path_r)
        a = -wb / 2
        for i in group:
            b = self.bands[i]
            self._patch(offset_band(centre, a, a + b.width), b.colour, i)
            a += b.width
            cands = [(self.x[n] + f * (x_up - self.x[n]), lane - wb / 2 - 0.04, "center", "top")
                     for f in (0.5, 0.3, 0.7, 0.15, 0.85)]
            self._text(self._label(b, " "), cands, priority=7, owner=i, key=b.key,
                       color="#555555", bbox=None)
