"""The data of the magnet rare-earth (Nd, Pr, Dy, Tb) model: files in ``params/elements/``.

Four long tables, one value per row, each with a ``source`` key of ``params/sources.csv``:

``elements.csv``
    ``element, atomic_weight, oxide, re_atoms, o_atoms``: CIAAW 2021 standard atomic weights and
    the trade oxide ``RE_nO_m`` of each element (and ``O``), for the oxide conversions.
``composition.csv``
    ``application, element, year, value, low, high, unit``: Nd, Pr, Dy and Tb content of the
    NdFeB magnets of each application [wt%] at anchor years (linear between them, held outside).
``deposits.csv``
    ``deposit, element, value, unit``: element distribution of each ore [% of TREO, oxide basis].
``mines.csv``
    ``mine, region, deposit, year, value, unit``: mine output [t/yr of TREO] of each mine group,
    in a model region, with the distribution of one deposit.
``processing.csv``
    ``parameter, element, application, year, value, low, high, unit``: element-specific
    processing [1]. ``gbd_share`` (Dy, Tb; by application and anchor year): share of the
    element's magnet content applied by grain-boundary diffusion; ``diffusion_utilisation``
    (Dy, Tb): share of the diffusion source that ends in the magnet; the loss ratios of
    :data:`LOSS_RATIOS` (Pr, Dy, Tb): the element's loss in a process relative to Nd's, which
    keeps the Nd model's yield (an element without a row: 1, the same yield as Nd).

Scenarios of the element model (TOML, ``params/elements/scenarios/``) name the Nd scenario they
build on and ramp element contents or mine outputs (:func:`load_element_scenario`).
Files are read and checked here; the computations (pure functions) are in :mod:`.elements`.
"""

from __future__ import annotations

import csv
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from mfa.core.errors import ParameterError, ScenarioError

__all__ = ["GBD_ELEMENTS", "LOSS_RATIOS", "ElementData", "ElementScenario", "Ramp",
           "default_elements_dir", "load_element_data", "load_element_scenario"]

#: Elements of the magnet chain and elements reported at the mining stage (balance problem).
MAGNET_ELEMENTS: tuple[str, ...] = ("Nd", "Pr", "Dy", "Tb")
MINED_ELEMENTS: tuple[str, ...] = ("La", "Ce", "Pr", "Nd", "Dy", "Tb")
_UNITS = {"composition.csv": "wt%", "deposits.csv": "% of TREO", "mines.csv": "t/yr",
          "processing.csv": "1"}
#: Elements applied as grain-boundary diffusion sources (``gbd_share``, ``diffusion_utilisation``).
GBD_ELEMENTS: tuple[str, ...] = ("Dy", "Tb")
#: Loss ratios of ``processing.csv`` and the Nd model's yield each scales: the element's yield
#: is ``1 - (1 - yield) × ratio`` (Nd keeps the yield itself).
LOSS_RATIOS: dict[str, str] = {"separation_loss_ratio": "yield_separation",
                               "metal_loss_ratio": "yield_metal",
                               "recycling_loss_ratio": "recycling_yield",
                               "new_scrap_loss_ratio": "new_scrap_recovery_yield"}


@dataclass(frozen=True)
class ElementData:
    """The element model's data (:func:`load_element_data`), plain floats in the units below."""

    #: Standard atomic weight [1] of each element and of O.
    atomic_weight: dict[str, float]
    #: Trade oxide of each element: (formula, RE atoms, O atoms).
    oxide: dict[str, tuple[str, int, int]]
    #: Magnet composition (application, element, year) [mass fraction, 1]; ``low``/``high`` too.
    composition: xr.DataArray
    composition_low: xr.DataArray
    composition_high: xr.DataArray
    #: Element distribution of each deposit (deposit, mined_element) [fraction of TREO, 1].
    deposits: xr.DataArray
    #: Mine output (mine, year) [t/yr of TREO]; ``mine_region``/``mine_deposit`` by mine.
    mine_output: xr.DataArray
    mine_region: dict[str, str]
    mine_deposit: dict[str, str]
    #: Source keys used, by file.
    sources: dict[str, set[str]] = field(default_factory=dict)
    #: Share of the Dy and Tb magnet content applied by grain-boundary diffusion
    #: (application, element, year) [1]; ``low``/``high`` too (``processing.csv``).
    gbd_share: xr.DataArray | None = None
    gbd_share_low: xr.DataArray | None = None
    gbd_share_high: xr.DataArray | None = None
    #: Share of the diffusion source that ends in the magnet, by element (Dy, Tb) [1].
    diffusion_utilisation: xr.DataArray | None = None
    #: The same with its range, along ``bound`` (value, low, high) [1].
    diffusion_utilisation_range: xr.DataArray | None = None
    #: Loss ratios by ``bound`` (value, low, high), ``parameter`` and element (Nd, Pr, Dy,
    #: Tb) [1], 1 where no row.
    loss_ratio: xr.DataArray | None = None


def default_elements_dir() -> Path:
    """``params/elements`` of the packaged default data."""
    from mfa.data.params import default_params_dir

    return Path(default_params_dir()) / "elements"


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows (line number, row) of a CSV file with at least ``columns``."""
    if not path.is_file():
        raise ParameterError(f"{path}: element data file not found")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ParameterError(f"{path}: missing columns {missing} (expected {list(columns)})")
        return [(i, row) for i, row in enumerate(reader, start=2)]


def _number(path: Path, line: int, row: dict[str, str], column: str, *,
            lo: float = 0.0, hi: float = math.inf, blank: float | None = None) -> float:
    text = (row.get(column) or "").strip()
    if not text and blank is not None:
        return blank
    try:
        value = float(text)
    except ValueError:
        raise ParameterError(f"{path}, line {line}: column {column!r} must be a number, got "
                             f"{text!r}") from None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ParameterError(f"{path}, line {line}: column {column!r} must be in [{lo}, {hi}], "
                             f"got {value}")
    return value


def _label(path: Path, line: int, row: dict[str, str], column: str,
           allowed: tuple[str, ...] | None = None) -> str:
    text = (row.get(column) or "").strip()
    if not text or (allowed is not None and text not in allowed):
        expected = f"one of {list(allowed)}" if allowed else "a label"
        raise ParameterError(f"{path}, line {line}: column {column!r} must be {expected}, "
                             f"got {text!r}")
    return text


def _unit(path: Path, line: int, row: dict[str, str]) -> None:
    want = _UNITS[path.name]
    if (row.get("unit") or "").strip() != want:
        raise ParameterError(f"{path}, line {line}: unit must be {want!r}, got "
                             f"{row.get('unit')!r}")


def _unique(path: Path, line: int, seen: set, key: tuple) -> None:
    if key in seen:
        raise ParameterError(f"{path}, line {line}: duplicate row for {key}")
    seen.add(key)


def _table(cells: dict[tuple, float], dims: tuple[str, str, str] | tuple[str, str],
           path: Path) -> xr.DataArray:
    """A dense DataArray from ``cells``; every combination of labels must be there."""
    labels = [sorted({k[i] for k in cells}, key=str) for i in range(len(dims))]
    out = np.full([len(x) for x in labels], np.nan)
    index = [{v: j for j, v in enumerate(x)} for x in labels]
    for key, value in cells.items():
        out[tuple(index[i][k] for i, k in enumerate(key))] = value
    if np.isnan(out).any():
        where = np.argwhere(np.isnan(out))[0]
        missing = tuple(labels[i][j] for i, j in enumerate(where))
        raise ParameterError(f"{path}: no value for {dict(zip(dims, missing, strict=True))}")
    return xr.DataArray(out, dims=dims, coords=dict(zip(dims, labels, strict=True)))


def _series_table(cells: dict[tuple, float], path: Path) -> xr.DataArray:
    """(application, element, year) on the union of the anchor years: each application and
    element's own series, linear between its years and held outside them (the interpolation
    :func:`.elements.composition_by_year` applies, so the result is the same)."""
    years = sorted({k[2] for k in cells})
    filled: dict[tuple, float] = {}
    for app, el in {k[:2] for k in cells}:
        own = sorted((y, v) for (a, e, y), v in cells.items() if (a, e) == (app, el))
        for y, v in zip(years, np.interp(years, [x for x, _ in own], [v for _, v in own]),
                        strict=True):
            filled[(app, el, y)] = float(v)
    return _table(filled, ("application", "element", "year"), path)


def _check_sources(directory: Path, used: dict[str, set[str]]) -> None:
    sources = directory.parent / "sources.csv"
    known = {row["key"] for _, row in _rows(sources, ("key",))}
    for name, keys in used.items():
        unknown = sorted(keys - known)
        if unknown:
            raise ParameterError(f"{directory / name}: source keys {unknown} are not in {sources}")


def _read_elements(d: Path, used: dict[str, set[str]]) -> tuple[dict, dict]:
    """``elements.csv``: atomic weights and trade oxides."""
    path = d / "elements.csv"
    weight: dict[str, float] = {}
    oxide: dict[str, tuple[str, int, int]] = {}
    for line, row in _rows(path, ("element", "atomic_weight", "oxide", "re_atoms", "o_atoms",
                                  "source")):
        el = _label(path, line, row, "element", (*MINED_ELEMENTS, "O"))
        weight[el] = _number(path, line, row, "atomic_weight", lo=1.0, hi=300.0)
        if el != "O":
            oxide[el] = (_label(path, line, row, "oxide"),
                         int(_number(path, line, row, "re_atoms", lo=1, hi=20)),
                         int(_number(path, line, row, "o_atoms", lo=1, hi=40)))
        used.setdefault(path.name, set()).add(_label(path, line, row, "source"))
    lacking = [e for e in (*MINED_ELEMENTS, "O") if e not in weight]
    if lacking:
        raise ParameterError(f"{path}: no row for elements {lacking}")
    return weight, oxide


def _read_composition(d: Path, used: dict[str, set[str]]) -> dict[str, xr.DataArray]:
    """``composition.csv``: value, low and high (application, element, year) [1]."""
    path = d / "composition.csv"
    comp: dict[str, dict[tuple, float]] = {"value": {}, "low": {}, "high": {}}
    seen: set = set()
    for line, row in _rows(path, ("application", "element", "year", "value", "low", "high",
                                  "unit", "source")):
        key = (_label(path, line, row, "application"),
               _label(path, line, row, "element", MAGNET_ELEMENTS),
               int(_number(path, line, row, "year", lo=1900, hi=2100)))
        _unique(path, line, seen, key)
        _unit(path, line, row)
        value = _number(path, line, row, "value", hi=100.0)
        comp["value"][key] = value / 100.0
        for bound in ("low", "high"):
            comp[bound][key] = _number(path, line, row, bound, hi=100.0, blank=value) / 100.0
        if not comp["low"][key] <= value / 100.0 <= comp["high"][key]:
            raise ParameterError(f"{path}, line {line}: low <= value <= high is violated")
        used.setdefault(path.name, set()).add(_label(path, line, row, "source"))
    tables = {k: _series_table(v, path) for k, v in comp.items()}
    no_nd = tables["value"].sel(element="Nd").min("year")
    if bool((no_nd <= 0).any()):
        raise ParameterError(f"{path}: applications {no_nd['application'].values[no_nd.values <= 0].tolist()} "
                             "need an Nd content > 0 (the other elements are scaled to Nd)")
    return tables


def _read_deposits(d: Path, used: dict[str, set[str]]) -> xr.DataArray:
    """``deposits.csv``: (deposit, mined_element) [fraction of TREO]."""
    path = d / "deposits.csv"
    dep: dict[tuple, float] = {}
    seen = set()
    for line, row in _rows(path, ("deposit", "element", "value", "unit", "source")):
        key = (_label(path, line, row, "deposit"),
               _label(path, line, row, "element", MINED_ELEMENTS))
        _unique(path, line, seen, key)
        _unit(path, line, row)
        dep[key] = _number(path, line, row, "value", hi=100.0) / 100.0
        used.setdefault(path.name, set()).add(_label(path, line, row, "source"))
    deposits = _table(dep, ("deposit", "mined_element"), path)
    deposits = deposits.sel(mined_element=list(MINED_ELEMENTS))
    over = deposits.sum("mined_element") > 1.0 + 1e-9
    if bool(over.any()):
        raise ParameterError(f"{path}: element shares of deposits "
                             f"{deposits['deposit'].values[over.values].tolist()} exceed 100%")
    return deposits


def _read_mines(d: Path, used: dict[str, set[str]], deposits: xr.DataArray
                ) -> tuple[xr.DataArray, dict[str, str], dict[str, str]]:
    """``mines.csv``: output (mine, year) [t/yr TREO], region and deposit of each mine."""
    path = d / "mines.csv"
    out: dict[tuple, float] = {}
    region: dict[str, str] = {}
    deposit: dict[str, str] = {}
    seen = set()
    for line, row in _rows(path, ("mine", "region", "deposit", "year", "value", "unit",
                                  "source")):
        mine = _label(path, line, row, "mine")
        key = (mine, int(_number(path, line, row, "year", lo=1900, hi=2100)))
        _unique(path, line, seen, key)
        _unit(path, line, row)
        reg = _label(path, line, row, "region")
        dep_name = _label(path, line, row, "deposit", tuple(deposits["deposit"].values))
        if region.setdefault(mine, reg) != reg or deposit.setdefault(mine, dep_name) != dep_name:
            raise ParameterError(f"{path}, line {line}: mine {mine!r} changes its region or "
                                 "deposit between rows")
        out[key] = _number(path, line, row, "value")
        used.setdefault(path.name, set()).add(_label(path, line, row, "source"))
    mine_output = _table(out, ("mine", "year"), path)
    if bool((mine_output.sum("mine") <= 0).any()):
        raise ParameterError(f"{path}: every year needs some mine output > 0")
    return mine_output, region, deposit


def _processing_row(path: Path, line: int, row: dict[str, str], applications: tuple[str, ...]
                    ) -> tuple[str, tuple, tuple[float, float, float]]:
    """One row of ``processing.csv``: (parameter, key, (value, low, high))."""
    names = ("gbd_share", "diffusion_utilisation", *LOSS_RATIOS)
    param = _label(path, line, row, "parameter", names)
    _unit(path, line, row)
    ratio = param in LOSS_RATIOS
    element = _label(path, line, row, "element",
                     ("Pr", "Dy", "Tb") if ratio else GBD_ELEMENTS)
    hi = math.inf if ratio else 1.0
    value = _number(path, line, row, "value", hi=hi)
    low = _number(path, line, row, "low", hi=hi, blank=value)
    high = _number(path, line, row, "high", hi=hi, blank=value)
    if not low <= value <= high:
        raise ParameterError(f"{path}, line {line}: low <= value <= high is violated")
    if param == "gbd_share":
        key = (_label(path, line, row, "application", applications), element,
               int(_number(path, line, row, "year", lo=1900, hi=2100)))
        return param, key, (value, low, high)
    for column in ("application", "year"):
        if (row.get(column) or "").strip():
            raise ParameterError(f"{path}, line {line}: {param} has no {column} (leave it "
                                 "empty)")
    if param == "diffusion_utilisation" and low <= 0:
        raise ParameterError(f"{path}, line {line}: diffusion_utilisation must be > 0")
    return param, (element,), (value, low, high)


def _read_processing(d: Path, used: dict[str, set[str]], applications: tuple[str, ...]
                     ) -> dict[str, xr.DataArray]:
    """``processing.csv``: GBD shares (application, element, year), diffusion utilisation
    (bound, element) and loss ratios (bound, parameter, element) [1]."""
    path = d / "processing.csv"
    gbd: dict[str, dict[tuple, float]] = {"value": {}, "low": {}, "high": {}}
    other: dict[tuple, tuple[float, float, float]] = {}
    seen: set = set()
    for line, row in _rows(path, ("parameter", "element", "application", "year", "value",
                                  "low", "high", "unit", "source")):
        param, key, bounds = _processing_row(path, line, row, applications)
        _unique(path, line, seen, (param, *key))
        used.setdefault(path.name, set()).add(_label(path, line, row, "source"))
        if param == "gbd_share":
            for name, v in zip(("value", "low", "high"), bounds, strict=True):
                gbd[name][key] = v
        else:
            other[(param, *key)] = bounds
    lacking = sorted({(a, e) for a in applications for e in GBD_ELEMENTS}
                     - {k[:2] for k in gbd["value"]})
    if lacking:
        raise ParameterError(f"{path}: no gbd_share row for (application, element) {lacking}")
    lacking_u = [e for e in GBD_ELEMENTS if ("diffusion_utilisation", e) not in other]
    if lacking_u:
        raise ParameterError(f"{path}: no diffusion_utilisation row for elements {lacking_u}")
    bound = {"bound": ["value", "low", "high"]}
    util = xr.DataArray([[other[("diffusion_utilisation", e)][i] for e in GBD_ELEMENTS]
                         for i in range(3)], dims=("bound", "element"),
                        coords={**bound, "element": list(GBD_ELEMENTS)})
    ratio = xr.DataArray(
        [[[other.get((p, e), (1.0, 1.0, 1.0))[i] if e != "Nd" else 1.0
           for e in MAGNET_ELEMENTS] for p in LOSS_RATIOS] for i in range(3)],
        dims=("bound", "parameter", "element"),
        coords={**bound, "parameter": list(LOSS_RATIOS), "element": list(MAGNET_ELEMENTS)})
    return {"gbd_" + k: _series_table(v, path) for k, v in gbd.items()} | {
        "utilisation": util, "loss_ratio": ratio}


def load_element_data(directory: str | os.PathLike | None = None) -> ElementData:
    """Read and check the element data (the five files of this module's docstring).

    Parameters
    ----------
    directory : path-like, optional
        The ``elements`` directory (its parent holds ``sources.csv``); default the packaged one.

    Raises
    ------
    ParameterError
        A missing file or column, a value that is not a number or out of range, a wrong unit,
        a duplicate or missing row, an unknown element, deposit or source key (naming the file
        and line), or an application without Nd (element contents are scaled to Nd).
    """
    d = Path(directory) if directory is not None else default_elements_dir()
    used: dict[str, set[str]] = {}
    weight, oxide = _read_elements(d, used)
    tables = _read_composition(d, used)
    deposits = _read_deposits(d, used)
    mine_output, region, deposit = _read_mines(d, used, deposits)
    applications = tuple(str(a) for a in tables["value"]["application"].values)
    proc = _read_processing(d, used, applications)
    _check_sources(d, used)
    return ElementData(weight, oxide, tables["value"], tables["low"], tables["high"],
                       deposits, mine_output, region, deposit, used,
                       proc["gbd_value"], proc["gbd_low"], proc["gbd_high"],
                       proc["utilisation"].sel(bound="value", drop=True),
                       proc["utilisation"], proc["loss_ratio"])


@dataclass(frozen=True)
class Ramp:
    """A multiplier 1 up to ``start``, linear to ``factor`` at ``end``, ``factor`` after."""

    labels: tuple[str, ...]
    start: int
    end: int
    factor: float
    elements: tuple[str, ...] = ()

    def multiplier(self, time: np.ndarray) -> np.ndarray:
        """The multiplier [1] in each year of ``time``."""
        t = np.asarray(time, dtype=float)
        frac = np.clip((t - self.start) / max(self.end - self.start, 1e-12), 0.0, 1.0)
        return 1.0 + (self.factor - 1.0) * frac


@dataclass(frozen=True)
class ElementScenario:
    """An element-model scenario (:func:`load_element_scenario`)."""

    name: str
    description: str
    #: The Nd-model scenario it builds on (a name in ``params/scenarios`` or a path).
    nd_scenario: str
    #: Ramps of the magnet content of ``elements`` in applications ``labels`` (all if empty).
    composition: tuple[Ramp, ...] = ()
    #: Ramps of the output of the mines ``labels``.
    mine_output: tuple[Ramp, ...] = ()


_TOP_KEYS = {"description", "nd_scenario", "composition", "mine_output"}
_RAMP_KEYS = {"composition": {"elements", "applications", "start", "end", "factor", "note"},
              "mine_output": {"mines", "start", "end", "factor", "note"}}


def _ramp(path: Path, table: str, i: int, item: object) -> Ramp:
    where = f"{path}: [[{table}]] #{i + 1}"
    if not isinstance(item, dict):
        raise ScenarioError(f"{where} must be a table")
    unknown = sorted(set(item) - _RAMP_KEYS[table])
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {unknown} (allowed: "
                            f"{sorted(_RAMP_KEYS[table])})")
    for key in ("start", "end", "factor"):
        if key not in item or isinstance(item[key], bool) or not isinstance(item[key],
                                                                           (int, float)):
            raise ScenarioError(f"{where}: {key!r} must be a number")
    if not (isinstance(item["start"], int) and isinstance(item["end"], int)
            and item["start"] <= item["end"]):
        raise ScenarioError(f"{where}: 'start' and 'end' must be years with start <= end")
    if not (math.isfinite(item["factor"]) and item["factor"] >= 0):
        raise ScenarioError(f"{where}: 'factor' must be a number >= 0")
    labels_key = "applications" if table == "composition" else "mines"
    labels = item.get(labels_key, [])
    elements = item.get("elements", [])
    for key, vals in ((labels_key, labels), ("elements", elements)):
        if not isinstance(vals, list) or not all(isinstance(v, str) for v in vals):
            raise ScenarioError(f"{where}: {key!r} must be a list of names")
    if table == "composition":
        bad = [e for e in elements if e not in MAGNET_ELEMENTS]
        if not elements or bad:
            raise ScenarioError(f"{where}: 'elements' must name some of {list(MAGNET_ELEMENTS)}"
                                f"{f', got {bad}' if bad else ''}")
    elif not labels:
        raise ScenarioError(f"{where}: 'mines' must name some mines")
    return Ramp(tuple(labels), int(item["start"]), int(item["end"]), float(item["factor"]),
                tuple(elements))


def load_element_scenario(scenario: str | os.PathLike,
                          directory: str | os.PathLike | None = None) -> ElementScenario:
    """Read an element scenario: a name in ``<directory>/scenarios`` or a TOML path.

    The file has ``description``, ``nd_scenario`` (the Nd scenario it builds on) and any number
    of ``[[composition]]`` (``elements``, optional ``applications``) and ``[[mine_output]]``
    (``mines``) tables, each a :class:`Ramp` (``start``, ``end``, ``factor``).

    Raises
    ------
    ScenarioError
        Unknown scenario or key, a value of the wrong type (naming the file and table).
    """
    d = Path(directory) if directory is not None else default_elements_dir()
    path = Path(scenario)
    if path.suffix != ".toml":
        path = d / "scenarios" / f"{scenario}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in (d / "scenarios").glob("*.toml"))
        raise ScenarioError(f"unknown element scenario {str(scenario)!r} ({path} not found; "
                            f"known: {known})")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML: {e}") from None
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise ScenarioError(f"{path}: unknown keys {unknown} (allowed: {sorted(_TOP_KEYS)})")
    if not isinstance(doc.get("nd_scenario"), str):
        raise ScenarioError(f"{path}: 'nd_scenario' must name the Nd scenario it builds on")
    ramps = {}
    for table in ("composition", "mine_output"):
        items = doc.get(table, [])
        if not isinstance(items, list):
            raise ScenarioError(f"{path}: {table!r} must be an array of tables [[{table}]]")
        ramps[table] = tuple(_ramp(path, table, i, x) for i, x in enumerate(items))
    return ElementScenario(path.stem, str(doc.get("description", "")), doc["nd_scenario"],
                           ramps["composition"], ramps["mine_output"])
