"""Scenario files: overrides of the default parameters, written in TOML.

A scenario lives in ``params/scenarios/NAME.toml``::

    name = "high-recycling"
    base = "baseline"            # optional: the base's overrides are applied first
    description = "one line"
    rationale = \"\"\"why, with sources\"\"\"
    sources = ["key1", "key2"]   # keys into params/sources.csv

    [[override]]
    parameter = "collection_rate"
    region = "Europe"            # optional selectors: any dim of model.toml (string or list)
    product = ["ev_bev", "ev_phev"]
    unit = "1"                   # required for value, trajectory and ramp
    value = 0.5                  # exactly one of value / trajectory / ramp / scale
    from_year = 2030             # optional with value and scale
    source = "key1"              # optional
    note = "free text"           # optional

Override kinds (``t`` = model year, ``v`` = current value of the parameter):

``value = x``
    ``v = x`` for all years (or for ``t >= from_year``). Optional ``low``/``high`` give the
    range of the new value; without them the scenario fixes the value: ``low = high = x``.
``trajectory = {2030 = a, 2050 = b}``
    From the first point on, the points replace the data, interpolated by the parameter's rule
    (``interpolation``, and ``after`` beyond the last point); ``low = high =`` the new values.
``ramp = {from_year = y0, to_year = y1, to_value = x}``
    Linear from the current value in ``y0`` to ``x`` in ``y1``, ``x`` after ``y1``; years before
    ``y0`` keep their values. ``low`` and ``high`` ramp the same way from their values in ``y0``
    to ``to_low``/``to_high`` (both default to ``to_value``, so the range closes at the target).
``scale = f``
    Multiply value, low and high by the dimensionless ``f`` (optional ``unit``, e.g. ``"%"``),
    for all years or for ``t >= from_year``.

The ``name`` is a plain label (it names the default output ``results/<name>.nc``): see
:func:`check_scenario_name`. A file outside the scenario directory cannot take the name of a
scenario inside it. A ``base`` chain is at most ``MAX_BASE_DEPTH`` files long. Every year in an
override lies within the model years (or the parameter's registry ``allow_years``), and
calibration-only parameters (registry ``role = "calibration"``) cannot be overridden.

Selectors restrict an override to some labels: every dim declared in ``model.toml``
``[dimensions]`` (e.g. ``region = "China"`` or ``sector = ["grid"]``) is a selector key. A
selector for a dim the parameter does not have, or a label outside the model's labels (or the
parameter's registry ``labels``) is an error. After the
overrides of a file are applied, the bounds, ``low <= value <= high`` and ``sum_to_one_over`` of
the parameters it touched are checked again. Unknown keys anywhere are errors: typos matter.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from mfa.core.errors import ScenarioError
from mfa.core.units import UnitError, conversion_factor
from mfa.data.checks import (
    ambiguous_unit_message,
    applicable,
    check_parameter_values,
    year_outside_message,
    year_span,
)
from mfa.data.interpolate import interpolate_points
from mfa.data.parameter_set import ParameterSet
from mfa.data.problems import fmt_list, suggest
from mfa.data.scenario_files import (
    MAX_BASE_DEPTH,
    MAX_NAME_LENGTH,
    Scenario,
    check_scenario_name,
    check_selector_keys,
    list_scenarios,
    load_scenario,
    override_where,
)

__all__ = ["MAX_BASE_DEPTH", "MAX_NAME_LENGTH", "Scenario", "apply_scenario",
           "check_scenario_name", "list_scenarios", "load_scenario"]

# --------------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------------
def apply_scenario(params: ParameterSet, scenario: Scenario | str | Path) -> ParameterSet:
    """Apply a scenario (and its bases, root first) to a parameter set.

    Parameters
    ----------
    params : ParameterSet
        Usually the defaults from :func:`mfa.data.params.load_parameters`.
    scenario : Scenario, str or pathlib.Path
        A loaded scenario, or a name / path passed to :func:`load_scenario` (names are looked up
        in the directory the parameters were read from).

    Returns
    -------
    ParameterSet
        New values (canonical units), ``low``/``high`` set as described in the module docs;
        ``scenario`` and ``scenario_files`` record what was applied.

    Raises
    ------
    ScenarioError
        Naming the scenario file, the override number and parameter: unknown parameter, labels or
        selectors, wrong unit dimensionality, years outside the model, bounds or sums broken
        after applying.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, params.path)
    work = _Work(params)
    for sc in scenario.chain():
        _apply_one(work, sc)
    return _with_meta(work.result(), scenario.name, scenario.files)


class _Work:
    """Plain numpy copies of the parameters touched so far (value, low, high)."""

    def __init__(self, params: ParameterSet) -> None:
        self.params = params
        self.arrays: dict[str, list[np.ndarray]] = {}

    def get(self, name: str) -> list[np.ndarray]:
        if name not in self.arrays:
            self.arrays[name] = [
                np.array(ds[name].values, dtype=float)
                for ds in (self.params.values, self.params.low, self.params.high)
            ]
        return self.arrays[name]

    def dataarrays(self, name: str) -> list[xr.DataArray]:
        ref = self.params.values[name]
        return [ref.copy(data=a) for a in self.get(name)]

    def result(self) -> ParameterSet:
        ps = self.params
        if not self.arrays:
            return ps
        out = []
        for k, ds in enumerate((ps.values, ps.low, ps.high)):
            variables = {}
            for name in ds.data_vars:
                var = ds.variables[name]
                if name in self.arrays:
                    var = xr.Variable(var.dims, self.arrays[name][k], dict(var.attrs))
                variables[name] = var
            out.append(xr.Dataset(variables, coords=ds.coords, attrs=dict(ds.attrs)))
        return dataclasses.replace(ps, values=out[0], low=out[1], high=out[2])


def _with_meta(ps: ParameterSet, name: str, files: dict[str, str]) -> ParameterSet:
    values = ps.values.copy()
    values.attrs["scenario"] = name
    return dataclasses.replace(ps, values=values, scenario=name, scenario_files=dict(files))


def _apply_one(work: _Work, sc: Scenario) -> None:
    params = work.params
    path = sc.path if sc.path is not None else Path(f"<scenario {sc.name}>")
    for key in sc.sources:
        if key not in params.sources:
            raise ScenarioError(f"{path}: source {key!r}{suggest(key, params.sources)} is not a "
                                "key in sources.csv")
    touched: dict[str, list[int]] = {}
    for i, o in enumerate(sc.overrides, start=1):
        _apply_override(work, path, i, o)
        touched.setdefault(o["parameter"], []).append(i)
    for name, idx in touched.items():
        entry = params.registry[name]
        problems = check_parameter_values(name, entry, *work.dataarrays(name))
        if problems:
            raise ScenarioError(
                f"{path}: after applying override(s) #{', #'.join(map(str, idx))}: "
                + "; ".join(problems[:5])
            )


def _along(dims: tuple, dim: str, vec: np.ndarray) -> np.ndarray:
    """``vec`` (1-D along ``dim``) shaped to broadcast against an array with ``dims``."""
    shape = [1] * len(dims)
    shape[dims.index(dim)] = -1
    return np.asarray(vec).reshape(shape)


def _selection(params: ParameterSet, entry: dict, where: str, o: dict, dims: tuple,
               shape: tuple) -> np.ndarray:
    """Cells selected by the override's selectors, within the parameter's registry labels."""
    check_selector_keys(where, o, params.dims)
    mask = np.ones(shape, dtype=bool)
    for d in params.dims:
        if d not in o:
            continue
        sel = [o[d]] if isinstance(o[d], str) else list(o[d])
        if d not in dims:
            raise ScenarioError(f"{where}: selector {d!r} given but the parameter has no {d} dim "
                                f"(dims {list(entry['dims'])})")
        allowed = entry["labels"].get(d, params.coords[d])
        bad = [s for s in sel if s not in allowed]
        if bad:
            raise ScenarioError(f"{where}: unknown {d} {fmt_list(bad)}{suggest(bad[0], allowed)}; "
                                f"allowed: {fmt_list(allowed)}")
        mask &= _along(dims, d, np.isin(np.asarray(params.coords[d], dtype=object), sel))
    app = applicable(entry, dims, params.coords)
    return mask if app is None else mask & app


@dataclass
class _Override:
    """One override being applied: where it is, its parameter and that parameter's layout."""

    where: str
    name: str
    entry: dict
    dims: tuple
    shape: tuple
    time: np.ndarray
    coords: dict

    def need_time(self, what: str) -> None:
        if "time" not in self.dims:
            raise ScenarioError(f"{self.where}: {what} needs a parameter with a time dim; "
                                f"{self.name!r} has dims {list(self.entry['dims'])}")

    def check_year(self, year: int, key: str) -> None:
        lo, hi = year_span(self.entry, self.coords)
        if not lo <= year <= hi:
            raise ScenarioError(f"{self.where}: {key}: "
                                + year_outside_message(year, self.name, self.entry, self.coords))

    def from_year(self, year: int) -> np.ndarray:
        """Mask of the years from ``year`` on, shaped along ``time``."""
        return _along(self.dims, "time", self.time >= year)


def _apply_override(work: _Work, path: Path, i: int, o: dict) -> None:
    params = work.params
    where = override_where(path, i, o)
    name = o["parameter"]
    if name not in params.registry:
        raise ScenarioError(f"{where}: unknown parameter {name!r}{suggest(name, params.registry)}"
                            f"; known parameters: {fmt_list(params.registry)}")
    entry = params.registry[name]
    if entry.get("role", "model") != "model":
        raise ScenarioError(f"{where}: parameter {name!r} has role = {entry['role']!r} in "
                            "registry.toml (a calibration target, not a model input): a scenario "
                            "cannot change it")
    if "source" in o and o["source"] not in params.sources:
        raise ScenarioError(f"{where}: source {o['source']!r}{suggest(o['source'], params.sources)}"
                            " is not a key in sources.csv")
    da = params.values[name]
    ov = _Override(where, name, entry, tuple(da.dims), da.shape,
                   np.asarray(params.coords["time"]), params.coords)
    mask = _selection(params, entry, where, o, ov.dims, ov.shape)
    if "from_year" in o:
        ov.need_time("'from_year'")
        ov.check_year(o["from_year"], "'from_year'")
        mask &= ov.from_year(o["from_year"])
    factor = _unit_factor(ov, o)
    if "value" in o:
        new = _new_value(ov, o, factor)
    elif "scale" in o:
        f = o["scale"] * factor
        val, low, high = work.get(name)
        a, b = low * f, high * f
        new = [val * f, np.minimum(a, b), np.maximum(a, b)]
    elif "trajectory" in o:
        new, first = _new_trajectory(ov, o, factor)
        mask &= ov.from_year(first)
    else:
        new = _new_ramp(ov, o, factor, work.get(name))
        mask &= ov.from_year(o["ramp"]["from_year"])
    if not mask.any():
        raise ScenarioError(f"{where}: the selectors select no values")
    arrays = work.get(name)
    for k in range(3):
        arrays[k] = np.where(mask, new[k], arrays[k])


def _unit_factor(ov: _Override, o: dict) -> float:
    """Factor from the override's ``unit`` to the canonical unit (``"1"`` for a scale)."""
    if "unit" not in o:
        return 1.0
    target = "1" if "scale" in o else ov.entry["unit"]
    ambiguous = ambiguous_unit_message(o["unit"])
    if ambiguous:
        raise ScenarioError(f"{ov.where}: {ambiguous}")
    try:
        return conversion_factor(o["unit"], target, f"unit of {ov.name!r}")
    except UnitError as exc:
        what = "scale factors are dimensionless: " if "scale" in o else ""
        raise ScenarioError(f"{ov.where}: {what}{exc}") from None


def _new_value(ov: _Override, o: dict, factor: float) -> list[np.ndarray]:
    v = o["value"] * factor
    lo = o.get("low", o["value"]) * factor
    hi = o.get("high", o["value"]) * factor
    if not lo <= v <= hi:
        raise ScenarioError(f"{ov.where}: need low <= value <= high, got low={o.get('low')}, "
                            f"value={o['value']}, high={o.get('high')}")
    return [np.full(ov.shape, x) for x in (v, lo, hi)]


def _new_trajectory(ov: _Override, o: dict, factor: float) -> tuple[list[np.ndarray], int]:
    """Value, low and high of a trajectory, and its first year."""
    ov.need_time("a trajectory")
    where, time = ov.where, ov.time
    pts = sorted((int(y), float(x) * factor) for y, x in o["trajectory"].items())
    for y, _ in pts:  # before numpy: a year of 30 digits does not fit an int64
        ov.check_year(y, "'trajectory'")
    years = np.array([y for y, _ in pts], dtype=np.int64)
    if len(set(years.tolist())) != len(years):
        raise ScenarioError(f"{where}: trajectory repeats a year")
    if years[0] > time[-1]:
        raise ScenarioError(f"{where}: trajectory starts in {years[0]}, after the last model "
                            f"year {time[-1]}")
    series, _, too_late = interpolate_points(
        np.array([[x for _, x in pts]])[:, :, None], years, time,
        ov.entry["interpolation"], "constant", ov.entry["after"])
    if too_late.any():
        raise ScenarioError(f"{where}: trajectory ends in {years[-1]} but the model runs to "
                            f"{time[-1]} and registry.toml says after = 'error' for {ov.name!r}")
    traj = np.broadcast_to(_along(ov.dims, "time", series[0, :, 0]), ov.shape)
    return [traj, traj, traj], int(years[0])


def _new_ramp(ov: _Override, o: dict, factor: float,
              old: list[np.ndarray]) -> list[np.ndarray]:
    ov.need_time("a ramp")
    where, time, r = ov.where, ov.time, o["ramp"]
    y0, y1 = r["from_year"], r["to_year"]
    if not time[0] <= y0 <= time[-1]:
        raise ScenarioError(f"{where}: ramp from_year {y0} is outside the model years "
                            f"{time[0]}-{time[-1]} (model.toml)")
    ov.check_year(y1, "ramp 'to_year'")
    targets = (r["to_value"], r.get("to_low", r["to_value"]), r.get("to_high", r["to_value"]))
    if not targets[1] <= targets[0] <= targets[2]:
        raise ScenarioError(f"{where}: need to_low <= to_value <= to_high in the ramp")
    axis = ov.dims.index("time")
    w = _along(ov.dims, "time", np.clip((time - y0) / (y1 - y0), 0.0, 1.0))
    i0 = int(np.searchsorted(time, y0))
    new = []
    for arr, target in zip(old, targets, strict=True):
        start = np.take(arr, [i0], axis=axis)
        new.append(start + (target * factor - start) * w)
    return new
