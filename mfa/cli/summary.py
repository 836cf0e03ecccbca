"""Text tables of the headline results of any model, for ``mfa run`` and ``mfa compare``."""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["SUMMARY_YEARS", "compare_table", "summary_rows", "summary_table"]

#: Years shown by default (those within the run; else its last year).
SUMMARY_YEARS = (2030, 2040, 2050)


def summary_rows(ds: Any, model: Any = None, reference: Any = None) -> list[tuple[str, Any, str]]:
    """``(label, series over time, format)`` rows: the model's own (``model.summary_rows``,
    given the ``reference`` run of a comparison if it takes one) or the world totals of its
    headline variables (every mass variable if no model is known)."""
    if model is not None and hasattr(model, "summary_rows"):
        if reference is not None and "reference" in inspect.signature(model.summary_rows).parameters:
            return model.summary_rows(ds, reference=reference)
        return model.summary_rows(ds)
    names = list(getattr(model, "headline", ()) or [
        v for v in ds.data_vars if ds[v].attrs.get("units") in ("t/yr", "t")])
    rows = []
    for v in names:
        if v in ds and "time" in ds[v].dims:
            da = ds[v].sum([d for d in ds[v].dims if d != "time"])
            rows.append((f"{v} (world) [{ds[v].attrs.get('units', '?')}]", da, "t"))
    return rows


def _fmt(x: float, kind: str) -> str:
    if not math.isfinite(x):
        return "n/a"
    x = round(x, 0 if kind == "t" else 1) + 0.0  # no "-0"
    return f"{x:,.0f}" if kind == "t" else f"{x:.1f}"


def _signed(v: float, kind: str = "%") -> str:
    """``+1,234`` for a mass (``kind`` ``"t"``, whole tonnes like the columns beside it), else
    ``+1.2``; a value that rounds to zero is ``+0``/``+0.0``, never ``-0``."""
    if not math.isfinite(v):
        return "n/a"
    digits = 0 if kind == "t" else 1
    v = round(v, digits) + 0.0
    return f"{v:+,.{digits}f}"


def _years(ds: Any, years: Sequence[int]) -> list[int]:
    have = set(int(t) for t in ds["time"].values)
    chosen = [int(y) for y in years if int(y) in have]
    return chosen or [int(ds["time"].values[-1])]


def summary_table(ds: Any, years: Sequence[int] = SUMMARY_YEARS, *, model: Any = None) -> str:
    """Text table of the headline results of one run for ``years`` (those within the run)."""
    years = _years(ds, years)
    rows = [(label, [_fmt(float(da.sel(time=y)), kind) for y in years])
            for label, da, kind in summary_rows(ds, model)]
    material = ds.attrs.get("material", getattr(model, "material", ""))
    title = f"{material}, scenario {ds.attrs.get('scenario', '?')}".strip(", ")
    w0 = max([len(title), *(len(r[0]) for r in rows)])
    w = max([12, *(len(c) for _, cells in rows for c in cells)])
    head = f"{title:<{w0}}" + "".join(f"{y:>{w + 2}}" for y in years)
    lines = [head, "-" * len(head)]
    lines += [f"{label:<{w0}}" + "".join(f"{c:>{w + 2}}" for c in cells) for label, cells in rows]
    return "\n".join(lines)


def compare_table(a: Any, b: Any, *, model: Any = None,
                  years: Sequence[int] = SUMMARY_YEARS) -> str:
    """Rows of both runs side by side with the difference B - A and the change in %; a model's
    rows may compare each run with A (e.g. the Nd model's primary demand avoided vs A)."""
    years = _years(a, years)
    na, nb = str(a.attrs.get("scenario", "A")), str(b.attrs.get("scenario", "B"))
    rows_a, rows_b = summary_rows(a, model, a), summary_rows(b, model, a)
    w0 = max(len(r[0]) for r in rows_a) + 2
    w = max(16, len(na) + 5, len(nb) + 5)
    lines = [f"{'':<{w0}}{'year':>6}{'A: ' + na:>{w}}{'B: ' + nb:>{w}}{'B - A':>16}{'change %':>10}"]
    for (label, da, kind), (_, db, _) in zip(rows_a, rows_b, strict=True):
        for y in years:
            x, z = float(da.sel(time=y)), float(db.sel(time=y))
            pct = _signed(100 * (z - x) / x) if x else "n/a"
            lines.append(f"{label:<{w0}}{y:>6}{_fmt(x, kind):>{w}}{_fmt(z, kind):>{w}}"
                         f"{_signed(z - x, kind):>16}{pct:>10}")
    return "\n".join(lines)
