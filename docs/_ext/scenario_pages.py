"""Helpers of the scenario pages (docs/scenarios/*.md): storylines, drivers against their
sources, headline results, all computed at build time from the scenario files and params/.

Nothing here is written for one set of numbers: the driver figures plot whatever parameters
the scenarios of a family override (so a scenario restated on other drivers, e.g. fleets
instead of sales, is plotted on those), the data rows come from the parameter files with their
``source`` keys, and the commentary of the pages is formatted from the results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

#: Scenario families of the docs: page -> scenarios (those that exist are shown, in this order).
FAMILIES = {
    "demand": ("baseline", "net-zero", "re-free-motors"),
    "circularity": ("baseline", "no-recycling", "high-recycling", "net-zero",
                    "net-zero-circular", "lifetime-extension"),
    "supply": ("baseline", "diversified-supply"),
}

#: World totals shown as headline results: variable -> (label, unit shown, factor from t or t/yr).
HEADLINE = {
    "primary_demand": ("Primary demand", "kt/yr", 1e-3),
    "secondary_supply": ("Secondary supply", "kt/yr", 1e-3),
    "eol_outflow": ("End-of-life outflow", "kt/yr", 1e-3),
    "in_use_stock": ("In-use stock", "kt", 1e-3),
}
YEARS = (2024, 2030, 2040, 2050)

_MARKERS = "osD^vP*Xh<>p"


def colour(name: str) -> str:
    """Plot colour of scenario ``name``: the package's, the same in every figure."""
    from mfa.plot.style import scenario_colour

    return scenario_colour(name)


# ---------------------------------------------------------------------------------------------
# Scenarios, parameters, runs (cached: each page computes each scenario once)
# ---------------------------------------------------------------------------------------------
@cache
def default_params() -> Any:
    """The default parameter set (``params/``)."""
    from mfa.data.params import load_parameters

    return load_parameters()


def existing(names: Iterable[str]) -> list[str]:
    """The scenarios of ``names`` that exist in params/scenarios, in that order."""
    from mfa.data.scenarios import list_scenarios

    known = {s.name for s in list_scenarios()}
    return [n for n in names if n in known]


def family(name: str) -> list[str]:
    """The existing scenarios of the family ``name`` (:data:`FAMILIES`)."""
    return existing(FAMILIES[name])


@cache
def scenario(name: str) -> Any:
    """The loaded scenario file ``name``."""
    from mfa.data.scenarios import load_scenario

    return load_scenario(name)


@cache
def scenario_params(name: str) -> Any:
    """The parameter set of scenario ``name`` (its overrides applied to the defaults)."""
    from mfa.data.scenarios import apply_scenario

    return apply_scenario(default_params(), scenario(name))


@cache
def result(name: str) -> xr.Dataset:
    """The results of scenario ``name`` (mass balance checked)."""
    from mfa.models.neodymium import run

    return run(name, params=default_params())


def overrides(names: Iterable[str]) -> dict[str, list[tuple[str, dict]]]:
    """Parameters overridden by the scenarios ``names`` (their whole base chains): parameter ->
    [(scenario file, override), ...], in the order they first appear."""
    out: dict[str, list[tuple[str, dict]]] = {}
    seen = set()
    for n in names:
        for sc in scenario(n).chain():
            for i, o in enumerate(sc.overrides):
                if (sc.name, i) in seen:
                    continue
                seen.add((sc.name, i))
                out.setdefault(o["parameter"], []).append((sc.name, o))
    return out


def override_sources(name: str, parameter: str) -> list[str]:
    """Source keys of the overrides of ``parameter`` in scenario ``name``'s chain."""
    keys = []
    for sc in scenario(name).chain():
        for o in sc.overrides:
            if o["parameter"] == parameter and o.get("source") and o["source"] not in keys:
                keys.append(o["source"])
    return keys


# ---------------------------------------------------------------------------------------------
# Storylines and sources
# ---------------------------------------------------------------------------------------------
def storylines(names: Sequence[str]) -> str:
    """Markdown: each scenario's description and rationale, as written in its file."""
    parts = []
    for n in names:
        sc = scenario(n)
        base = f" (base: `{sc.base}`)" if sc.base else ""
        keys = ", ".join(f"`{k}`" for k in sc.sources) or "none"
        parts.append(f"**`{n}`**{base}: {sc.description}\n\n{sc.rationale}\n\n"
                     f"*Sources*: {keys}.")
    return "\n\n".join(parts)


def sources_table(names: Sequence[str]) -> pd.DataFrame:
    """The bibliography entries of the scenarios ``names`` (their ``sources`` and the sources
    of their overrides): key, tag, citation."""
    bib = default_params().sources
    keys: list[str] = []
    for n in names:
        for sc in scenario(n).chain():
            for k in [*sc.sources, *(o.get("source") for o in sc.overrides)]:
                if k and k not in keys:
                    keys.append(k)
    rows = []
    for k in keys:
        entry = bib.get(k, {}) if isinstance(bib, Mapping) else {}
        rows.append({"key": k, "tag": entry.get("tag", ""), "citation": entry.get("citation", "")})
    return pd.DataFrame(rows).set_index("key")


# ---------------------------------------------------------------------------------------------
# Drivers against their sources
# ---------------------------------------------------------------------------------------------
def _is_share(parameter: str) -> bool:
    return default_params().unit(parameter) in ("1", "")


def _selected(parameter: str, names: Sequence[str]) -> dict[str, list[str]]:
    """Labels the overrides of ``parameter`` select, by dim (all selected labels together)."""
    dims = [d for d in default_params().values[parameter].dims if d != "time"]
    sel: dict[str, list[str]] = {}
    for _, o in overrides(names).get(parameter, []):
        for d in dims:
            if d in o:
                labels = [o[d]] if isinstance(o[d], str) else list(o[d])
                sel.setdefault(d, [])
                sel[d] += [x for x in labels if x not in sel[d]]
    return sel


def _reduce(da: xr.DataArray, share: bool) -> tuple[xr.DataArray, str]:
    """``da`` over its dims but time: the sum of an amount; of a share, the value if it is the
    same everywhere, else the mean (said in the label)."""
    other = [d for d in da.dims if d != "time"]
    if not other:
        return da, ""
    if not share:
        return da.sum(other), "sum over " + ", ".join(other)
    first = da.isel({d: 0 for d in other})
    if bool(np.allclose(da, first, equal_nan=True)):
        return first, ""
    return da.mean(other), "mean over " + ", ".join(other)


def _rows(parameter: str, sel: Mapping[str, str], share: bool) -> pd.DataFrame:
    """Data rows of ``parameter`` in params/*.csv for the labels ``sel``, in its canonical unit:
    columns year, value, low, high, source. Amounts are summed per year and source over the
    dims not in ``sel``, where the rows of that year and source cover all labels of those dims
    (a row with an empty cell covers all); a year a source covers only in part is left out."""
    from mfa.core.units import conversion_factor

    p = default_params()
    t = p.table
    t = t[t["parameter"] == parameter]
    if not share:
        t = t[t["year"].notna()]
    t = t.assign(year=t["year"].astype(float))
    for d, label in sel.items():
        exact = t[t[d] == label]
        wild = t[t[d] == ""]
        if exact["year"].isna().any():  # a row for all years overrides every wildcard row
            wild = wild.iloc[:0]
        else:  # a row naming the label overrides the wildcard rows of its year
            wild = wild[~wild["year"].isin(exact["year"])]
        t = pd.concat([exact, wild])
    cols = ["year", "value", "low", "high", "source"]
    if t.empty:
        return pd.DataFrame(columns=cols)
    target = p.unit(parameter)
    f = np.array([conversion_factor(u, target) for u in t["unit"]])
    t = t.assign(value=t["value"] * f, low=t["low"] * f, high=t["high"] * f)
    summed = [d for d in p.values[parameter].dims if d not in ("time", *sel)]
    if share or not summed:
        return t[cols]
    labels = {d: {str(x) for x in p.values[parameter][d].values} for d in summed}

    def complete(g: pd.DataFrame) -> bool:
        return all("" in set(g[d]) or labels[d] <= set(g[d]) for d in summed)

    groups = [g for _, g in t.groupby(["year", "source"], sort=True) if complete(g)]
    if not groups:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame([{"year": g["year"].iloc[0], "source": g["source"].iloc[0],
                          "value": g["value"].sum(), "low": g["low"].sum(min_count=len(g)),
                          "high": g["high"].sum(min_count=len(g))} for g in groups])[cols]


def plot_driver(ax: Any, parameter: str, names: Sequence[str], sel: Mapping[str, str],
                *, start: int = 2010, end: int | None = None) -> None:
    """One panel: ``parameter`` (at the labels ``sel``) in each scenario of ``names`` as lines,
    labelled with the sources of the scenario's overrides (a scenario equal to the first one
    is named in the legend, not drawn), and the data rows of params/ as markers with their
    low-high range, one marker per source key (a row for all years: a marker every decade)."""
    p = default_params()
    share = _is_share(parameter)
    how, first, same = "", None, []
    for k, n in enumerate(names):
        da = scenario_params(n).values[parameter].sel(dict(sel))
        da, how = _reduce(da, share)
        da = da.sel(time=slice(start, end))
        if first is not None and bool(np.allclose(da, first, equal_nan=True)):
            same.append(n)
            continue
        first = da if first is None else first
        keys = override_sources(n, parameter)
        label = n + (f" ({', '.join(keys)})" if keys else "")
        ax.plot(da["time"], da, color=colour(n), lw=2.4 - 0.3 * min(k, 4), label=label,
                ls=("-", "--", "-.", ":", (0, (5, 1)))[min(k, 4)])
    if same:
        ax.plot([], [], " ", label=f"as {names[0]}: " + ", ".join(same))
    rows = _rows(parameter, sel, share)
    t0, t1 = start, end or int(default_params().values["time"].max())
    decades = np.arange(-(-t0 // 10) * 10, t1 + 1, 10, dtype=float)
    for k, (src, g) in enumerate(rows.groupby("source", sort=False)):
        const = g[g["year"].isna()]
        g = pd.concat([g[g["year"] >= start]] + [const.assign(year=y) for y in decades])
        err = np.vstack([g["value"] - g["low"], g["high"] - g["value"]])
        err = np.where(np.isfinite(err), np.maximum(err, 0), 0)
        label = f"data: {src}" + (" (all years)" if len(const) else "")
        ax.errorbar(g["year"], g["value"], yerr=err, fmt=_MARKERS[k % len(_MARKERS)], ms=4,
                    color="0.35", mfc="white", capsize=2, lw=0, elinewidth=0.8, label=label)
    what = ", ".join(sel.values())
    ax.set_title(f"{parameter}" + (f" — {what}" if what else "") + (f" ({how})" if how else ""),
                 fontsize=9)
    ax.set_ylabel(p.unit(parameter))
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)


def driver_panels(names: Sequence[str], parameter: str, *, split: str | None = None,
                  fix: Mapping[str, str] | None = None,
                  keep: Sequence[str] | None = None) -> list[dict[str, str]]:
    """The panels (label selections) of ``parameter``: one per label of the dim ``split`` that
    the overrides select (or the first dim with selected labels; only those in ``keep`` if
    given), ``fix`` added to each."""
    sel = _selected(parameter, names)
    fix = dict(fix or {})
    if split not in default_params().values[parameter].dims:
        split = None
    if split is None:
        split = next((d for d in sel if d not in fix), None)
    if split is None:
        return [fix]
    labels = sel.get(split) or [str(x) for x in default_params().values[parameter][split].values]
    if keep is not None:
        labels = [x for x in labels if x in keep]
    return [{**fix, split: lab} for lab in labels]


def drivers_figure(names: Sequence[str], parameters: Sequence[str] | None = None, *,
                   split: Mapping[str, str] | None = None,
                   fix: Mapping[str, Mapping[str, str]] | None = None,
                   keep: Mapping[str, Sequence[str]] | None = None,
                   start: int = 2010, ncols: int = 2) -> Any:
    """Every time-dependent driver the scenarios ``names`` override (or ``parameters``), one
    panel per selected label (options of :func:`driver_panels` by parameter), against the
    data rows of params/."""
    import matplotlib.pyplot as plt

    params = [q for q in (parameters or overrides(names))
              if "time" in default_params().values[q].dims]
    panels = [(q, s) for q in params
              for s in driver_panels(names, q, split=(split or {}).get(q),
                                     fix=(fix or {}).get(q), keep=(keep or {}).get(q))]
    nrows = max(1, -(-len(panels) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.4 * nrows), squeeze=False)
    for ax, (q, s) in zip(axes.flat, panels, strict=False):
        plot_driver(ax, q, names, s, start=start)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def timeless_table(names: Sequence[str], parameter: str) -> pd.DataFrame:
    """A driver without a time dim (e.g. ``lifetime_mean``): value (low-high) per label and
    scenario, with the source keys of the data rows."""
    p = default_params()
    cols = {}
    for n in names:
        q = scenario_params(n)
        v, lo, hi = (q.values[parameter], q.low[parameter], q.high[parameter])
        cols[n] = [f"{a:g} ({b:g}-{c:g})" for a, b, c in
                   zip(v.values.ravel(), lo.values.ravel(), hi.values.ravel(),
                                 strict=True)]
    index = pd.Index([str(x) for x in p.values[parameter][p.values[parameter].dims[0]].values],
                     name=p.values[parameter].dims[0])
    out = pd.DataFrame(cols, index=index)
    t = p.table[p.table["parameter"] == parameter]
    dim = index.name
    out["data source"] = [", ".join(dict.fromkeys(t.loc[t[dim] == lab, "source"])) for lab in index]
    out.columns.name = f"{parameter} [{p.unit(parameter)}]"
    return out


# ---------------------------------------------------------------------------------------------
# Headline results
# ---------------------------------------------------------------------------------------------
def world(name: str, variable: str, products: Sequence[str] | None = None) -> xr.DataArray:
    """World total of ``variable`` of scenario ``name`` by year (t or t/yr)."""
    da = result(name)[variable]
    if products is not None:
        da = da.sel(product=list(products))
    return da.sum([d for d in da.dims if d != "time"])


def headline_table(names: Sequence[str], years: Sequence[int] = YEARS) -> pd.DataFrame:
    """World totals of :data:`HEADLINE` by scenario and year, in kt or kt/yr."""
    rows = {}
    for n in names:
        for v, (label, unit, f) in HEADLINE.items():
            w = world(n, v)
            rows[(f"{label} [{unit}]", n)] = [f * float(w.sel(time=y)) for y in years]
    out = pd.DataFrame(rows, index=pd.Index(list(years), name="year")).T
    out.index.names = ["", "scenario"]
    return out.round(1)


def headline_figure(names: Sequence[str], variables: Sequence[str] = tuple(HEADLINE),
                    *, start: int = 2000) -> Any:
    """World totals of ``variables`` over time, one line per scenario."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(variables), figsize=(3.6 * len(variables), 3.2),
                             squeeze=False)
    for ax, v in zip(axes.flat, variables, strict=True):
        label, unit, f = HEADLINE[v]
        for n in names:
            w = f * world(n, v).sel(time=slice(start, None))
            ax.plot(w["time"], w, color=colour(n), lw=1.6, label=n,
                    ls="-" if n == "baseline" else "--")
        ax.set_title(label, fontsize=9)
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def change(name: str, reference: str, variable: str, year: int,
           products: Sequence[str] | None = None) -> tuple[float, float, float]:
    """World ``variable`` in ``year``: (scenario, reference, relative change in %)."""
    a = float(world(name, variable, products).sel(time=year))
    b = float(world(reference, variable, products).sel(time=year))
    return a, b, 100.0 * (a - b) / b if b else float("nan")


# ---------------------------------------------------------------------------------------------
# Published projections to compare with
# ---------------------------------------------------------------------------------------------
#: research/projections/drivers.csv: cited projection data (research/projections/README.md).
RESEARCH_DRIVERS = (Path(__file__).resolve().parents[2] / "research" / "projections"
                    / "drivers.csv")
#: Model products behind the IEA CMDE end uses (IEA "EVs" = all electric road vehicles, so
#: cars and two/three-wheelers here; the model has no electric buses or trucks).
IEA_PRODUCTS = {"ev_all_road": ("ev_bev", "ev_phev", "e_two_wheeler"),
                "wind_total": ("wind_onshore", "wind_offshore")}


def iea_nd_demand() -> pd.DataFrame:
    """IEA Critical Minerals Data Explorer (2025) Nd demand of EVs and wind by scenario and year
    (``nd_demand`` rows of :data:`RESEARCH_DRIVERS`), in kt/yr: columns product, scenario,
    year, value, source."""
    t = pd.read_csv(RESEARCH_DRIVERS, comment="#")
    t = t[(t["item"] == "nd_demand") & t["product"].isin(list(IEA_PRODUCTS))]
    if set(t["unit"]) - {"kt Nd/yr"}:
        raise ValueError(f"{RESEARCH_DRIVERS}: nd_demand in {set(t['unit'])}, expected kt Nd/yr")
    return t.rename(columns={"source_key": "source"})[
        ["product", "scenario", "year", "value", "source"]]


def iea_comparison_figure(names: Sequence[str], *, start: int = 2015) -> Any:
    """Nd in new EVs and new wind turbines of the scenarios ``names`` (lines) against the IEA
    CMDE 2025 projections (markers by IEA scenario), kt/yr."""
    import matplotlib.pyplot as plt

    iea = iea_nd_demand()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    markers = {"historical": "o", "STEPS": "s", "APS": "^", "NZE": "D"}
    for ax, (item, products) in zip(axes, IEA_PRODUCTS.items(), strict=True):
        for k, n in enumerate(names):
            w = world(n, "nd_in_new_products", products).sel(time=slice(start, None)) / 1e3
            ax.plot(w["time"], w, color=colour(n), lw=2.0 - 0.3 * min(k, 3), label=n,
                    ls=("-", "--", "-.", ":")[min(k, 3)])
        for sc, g in iea[iea["product"] == item].groupby("scenario", sort=False):
            ax.plot(g["year"], g["value"], markers.get(sc, "x"), color="0.3", mfc="white",
                    label=f"IEA {sc} ({g['source'].iloc[0]})")
        ax.set_title({"ev_all_road": "Nd in new EVs (IEA: all road EVs)",
                      "wind_total": "Nd in new wind turbines"}[item], fontsize=9)
        ax.set_ylabel("kt/yr")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
