"""The reconciliation report: the ranked conflicts in words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from mfa.analysis.reconcile._inputs import FLOW_UNIT, _str, _where
from mfa.core.units import unit_string

if TYPE_CHECKING:
    from mfa.analysis.reconcile._result import Reconciliation



def _years(values: list[Any]) -> str:
    """Compact list of years: ``2000-2004, 2007``."""
    try:
        years = sorted({int(v) for v in values})
    except (TypeError, ValueError):
        return ", ".join(_str(v) for v in values)
    runs: list[list[int]] = []
    for y in years:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _cells_of(flag: xr.DataArray) -> list[str]:
    """For a bool (variable, time, *batch) array: ``"name: years"`` per variable and cell."""
    batch = [d for d in flag.dims if d not in ("variable", "time")]
    arr = flag.transpose("variable", "time", *batch).values.astype(bool)
    years = np.asarray(flag["time"].values)
    batch_labels = [np.asarray(flag[d].values) if d in flag.coords else
                    np.arange(flag.sizes[d]) for d in batch]
    sizes = tuple(len(b) for b in batch_labels)
    arr = arr.reshape(arr.shape[0], arr.shape[1], -1)
    out = []
    for v, name in enumerate(flag["variable"].values):
        for cell in np.flatnonzero(arr[v].any(axis=0)):
            where = ""
            if batch:
                idx = np.unravel_index(cell, sizes)
                where = " (" + ", ".join(f"{d} {_str(lab[i])}" for d, lab, i in
                                         zip(batch, batch_labels, idx, strict=True)) + ")"
            out.append(f"{name}{where}: {_years(list(years[arr[v, :, cell]]))}")
    return out


def _ranked(result: Reconciliation) -> Any:
    df = result.to_dataframe().reset_index()
    df = df[df["normalised_residual"].notna()]
    order = df["normalised_residual"].abs().sort_values(ascending=False, kind="stable").index
    return df.loc[order]


def _row_where(row: Any, batch: list[str]) -> str:
    return ", ".join([f"year {_str(row['time'])}", *(f"{d} {_str(row[d])}" for d in batch)])


def _conflict_table(ranked: Any, batch: list[str]) -> list[str]:
    header = ["", "variable", "year", *batch, "measured", "sd", "reconciled",
              "normalised residual"]
    rows = [header]
    for _, row in ranked.iterrows():
        rows.append([
            "*" if row["suspect"] else "", str(row["variable"]), _str(row["time"]),
            *(_str(row[d]) for d in batch), f"{row['measured']:.6g}",
            f"{row['measured_sd']:.3g}", f"{row['estimate']:.6g}",
            f"{row['normalised_residual']:+.3f}",
        ])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in rows]


def _report(result: Reconciliation, top: int) -> str:
    ds = result.dataset
    batch = [d for d in ds["chi2"].dims if d != "time"]
    n_years, n_cells = ds.sizes["time"], int(ds["chi2"].size)
    n_flows = int((ds["kind"].values == "flow").sum())
    cells = f" x {n_cells // n_years} cells ({', '.join(batch)})" if batch else ""
    lines = [
        f"Reconciliation of system {result.system!r}: {ds.sizes['variable']} variables "
        f"({n_flows} flows, {ds.sizes['variable'] - n_flows} stock changes), "
        f"{n_years} year(s){cells}; values in {unit_string(FLOW_UNIT)}."
    ]
    chi2, dof, p = (ds[k].values.reshape(-1) for k in ("chi2", "dof", "p_value"))
    bad = np.flatnonzero(p < result.alpha)
    untested = int((dof == 0).sum())
    lines.append(
        f"Chi-square test at alpha = {result.alpha:g}: data inconsistent with the balances in "
        f"{bad.size} of {n_cells - untested} tested year(s)/cell(s)"
        + (f"; {untested} without redundancy (nothing to test)" if untested else "") + "."
    )
    coords = {d: np.asarray(ds[d].values) for d in ds["chi2"].dims}
    for i in sorted(bad, key=lambda i: (p[i], -chi2[i]))[:5]:
        lines.append(f"  {_where(i, coords)}: chi2 = {chi2[i]:.4g}, dof {dof[i]}, p = {p[i]:.3g}")
    ranked = _ranked(result)
    if len(ranked):
        lines.append(
            "Measurements that conflict most (largest |normalised residual|; '*' marks "
            "|r| above the Sidak-corrected critical value of the measurement test):"
        )
        lines += _conflict_table(ranked.head(top), batch)
        if bad.size:
            lines.append(
                "A gross error also pulls the residuals of its neighbours: set the first "
                "suspect to NaN in that year and reconcile again to see whether it alone "
                "explains the conflict (serial elimination)."
            )
    else:
        lines.append("No redundant measurement: nothing could be adjusted or tested.")
    measured = ~np.isnan(ds["measured"])
    sections = [
        ("Unobservable unknowns (not determined by the data; left NaN)",
         ~measured & ~ds["observable"]),
        ("Measurements that are not redundant (cannot be checked; kept as given)",
         measured & ~ds["redundant"]),
        ("NEGATIVE reconciled flows (flows cannot be negative: a gross error or a wrong system)",
         ds["negative"]),
    ]
    for title, flag in sections:
        entries = _cells_of(flag)
        if entries:
            lines.append(f"{title}:")
            lines += [f"  {e}" for e in entries]
    return "\n".join(lines)


def _negative_message(result: Reconciliation) -> str:
    ds = result.dataset
    entries = _cells_of(ds["negative"])
    ranked = _ranked(result)
    worst = ""
    if len(ranked):
        row = ranked.iloc[0]
        batch = [d for d in ds["chi2"].dims if d != "time"]
        worst = (f"; the measurement that conflicts most is {row['variable']!s} in "
                 f"{_row_where(row, batch)} (normalised residual "
                 f"{row['normalised_residual']:+.3g})")
    return (
        f"reconcile: system {result.system!r}: reconciled flow(s) below zero: "
        f"{'; '.join(entries[:5])}{' ...' if len(entries) > 5 else ''}{worst}; check the "
        f"data and the system, or pass negative='report' to inspect the full report"
    )
