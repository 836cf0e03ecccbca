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
import difflib
import hashlib
import math
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mfa.core.errors import ParameterError, ScenarioError
from mfa.core.units import UnitError, conversion_factor
from mfa.data.checks import (
    ambiguous_unit_message,
    applicable,
    check_parameter_values,
    year_outside_message,
    year_span,
)
from mfa.data.files import decode_toml, default_params_dir, read_input_file
from mfa.data.interpolate import interpolate_points
from mfa.data.parameter_set import ParameterSet

__all__ = ["Scenario", "apply_scenario", "check_scenario_name", "list_scenarios", "load_scenario"]

_TOP_KEYS = ("name", "base", "description", "rationale", "sources", "override")
#: Keys of an override besides its selectors (one per dim declared in ``model.toml``).
_OVERRIDE_KEYS = (
    "parameter", "unit", "value", "trajectory", "ramp", "scale", "from_year", "low", "high",
    "source", "note",
)
_KINDS = ("value", "trajectory", "ramp", "scale")
_RAMP_KEYS = ("from_year", "to_year", "to_value", "to_low", "to_high")
#: Longest ``base`` chain (a scenario and its bases); deeper chains are refused.
MAX_BASE_DEPTH = 50
#: Longest scenario name (it becomes an output file name, ``results/<name>.nc``).
MAX_NAME_LENGTH = 100
#: Characters a scenario name cannot contain (paths, and characters Windows forbids in names).
_NAME_FORBIDDEN = '/\\:*?"<>|'


@dataclass(frozen=True)
class Scenario:
    """A scenario file, with its base chain resolved.

    Attributes
    ----------
    name : str
        Scenario name (``name`` key, default the file stem).
    description : str
        One line.
    base : str or None
        Name of the base scenario as written in the file.
    overrides : list of dict
        This file's overrides, as written (keys checked).
    sources : list of str
        Source keys (checked against ``sources.csv`` when applied).
    path : pathlib.Path or None
        The file.
    sha256 : str
        sha256 of the file.
    rationale : str
        Why, with sources.
    base_scenario : Scenario or None
        The resolved base (which has its own ``base_scenario``).
    """

    name: str
    description: str
    base: str | None
    overrides: list[dict]
    sources: list[str]
    path: Path | None
    sha256: str
    rationale: str = ""
    base_scenario: Scenario | None = field(default=None, repr=False)

    def chain(self) -> list[Scenario]:
        """The base chain, root first, ending with this scenario."""
        out: list[Scenario] = []
        s: Scenario | None = self
        while s is not None:
            out.append(s)
            s = s.base_scenario
        return out[::-1]

    @property
    def files(self) -> dict[str, str]:
        """File name -> sha256 for this scenario and its bases (root first)."""
        return {(s.path.name if s.path else s.name): s.sha256 for s in self.chain()}


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
def _scenario_dir(params_dir: str | Path | None) -> Path:
    root = Path(params_dir) if params_dir is not None else default_params_dir()
    return root / "scenarios"


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _fmt(items: Any) -> str:
    return ", ".join(repr(str(i)) for i in items)


def list_scenarios(params_dir: str | Path | None = None) -> list[Scenario]:
    """All scenarios in ``params_dir/scenarios/*.toml``, sorted by name.

    Parameters
    ----------
    params_dir : str or pathlib.Path, optional
        Parameter directory (default: the packaged default data).

    Returns
    -------
    list of Scenario

    Raises
    ------
    ScenarioError
        If a scenario file is broken.
    """
    sdir = _scenario_dir(params_dir)
    scenarios = [load_scenario(p, params_dir) for p in _toml_files(sdir, missing_ok=True)]
    return sorted(scenarios, key=lambda s: s.name)


def _toml_files(d: Path, missing_ok: bool = False) -> list[Path]:
    """The ``*.toml`` entries of directory ``d``, by name (a missing ``d``: none)."""
    try:
        with os.scandir(d) as it:
            names = [e.name for e in it if e.name.endswith(".toml")]
    except (FileNotFoundError, NotADirectoryError):
        if missing_ok:
            return []
        raise ScenarioError(f"{d}: scenario directory not found") from None
    except OSError as exc:
        raise ScenarioError(f"{d}: cannot read the scenario directory: "
                            f"{exc.strerror or exc}") from None
    return [d / n for n in sorted(names)]


def _available(sdir: Path) -> list[str]:
    return sorted(p.stem for p in _toml_files(sdir, missing_ok=True))


def _name_key(path: Path) -> str | None:
    """The ``name`` key of a scenario file, None if it has none or cannot be read."""
    try:
        doc = decode_toml(read_input_file(path, ScenarioError), path, ScenarioError)
    except ScenarioError:
        return None
    name = doc.get("name")
    return name if isinstance(name, str) else None


def check_scenario_name(name: str, where: str) -> None:
    """Refuse a scenario name that is not a plain label.

    The name becomes the default output file ``results/<name>.nc``: it cannot be empty, longer
    than ``MAX_NAME_LENGTH`` characters, contain a path separator, ``..``, a NUL or other control
    or format character, one of ``: * ? " < > |``, begin with ``.`` or with or end with a space.

    Raises
    ------
    ScenarioError
        ``"<where>: scenario name ... : <reason>"``.
    """
    reason = None
    bad = sorted({c for c in name if c in _NAME_FORBIDDEN})
    if not name:
        reason = "it is empty"
    elif len(name) > MAX_NAME_LENGTH:
        reason = f"it has {len(name)} characters, at most {MAX_NAME_LENGTH} are allowed"
    elif any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        reason = "it contains a control character (a NUL, tab, newline...)"
    elif bad:
        reason = f"it contains {', '.join(repr(c) for c in bad)} (path or reserved characters)"
    elif ".." in name or name.startswith("."):
        reason = "it begins with '.' or contains '..'"
    elif name != name.strip():
        reason = "it begins or ends with a space"
    if reason:
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise ScenarioError(
            f"{where}: scenario name {shown!r} is not a plain label: {reason}; use letters, "
            f"digits, '-', '_' and spaces (the name becomes the file name results/<name>.nc)"
        )


def _is_path(x: str | Path) -> bool:
    if isinstance(x, Path):
        return True
    return x.endswith(".toml") or "/" in x or "\\" in x


def load_scenario(name_or_path: str | Path, params_dir: str | Path | None = None) -> Scenario:
    """Read a scenario file and resolve its ``base`` chain.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A scenario name (``params_dir/scenarios/NAME.toml``) or a path to a ``.toml`` file.
    params_dir : str or pathlib.Path, optional
        Parameter directory (default: the packaged default data). A ``base`` name is looked up
        next to the scenario file first, then in ``params_dir/scenarios``.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Unknown name (the message lists the available ones), unreadable TOML, unknown keys,
        malformed overrides, a base cycle.
    """
    if not isinstance(name_or_path, str | os.PathLike):
        raise ScenarioError(f"a scenario is a name or a path, got {name_or_path!r}")
    if "\0" in str(name_or_path):
        raise ScenarioError(f"scenario {str(name_or_path)!r}: a scenario name or path cannot "
                            "contain a NUL character")
    sdir = _scenario_dir(params_dir)
    path = _resolve(name_or_path, sdir, None)
    scenario = _load_chain(path, sdir, _declared_dims(sdir.parent))
    _check_name_is_free(scenario, sdir)
    return scenario


def _exists(p: Path) -> bool:
    """Whether anything (file, directory, FIFO, broken link...) has the name ``p``.

    Answers False instead of raising (e.g. permission denied); reading then says what is wrong.
    """
    try:
        return os.path.lexists(p)
    except (OSError, ValueError):
        return False


def _resolve(name_or_path: str | Path, sdir: Path, near: Path | None) -> Path:
    if _is_path(name_or_path):
        p = Path(name_or_path)
        if not p.is_absolute() and near is not None and _exists(near / p):
            p = near / p
        return p  # read_input_file says "scenario file not found" or what else is wrong
    name = str(name_or_path)
    for d in ([near] if near is not None else []) + [sdir]:
        cand = d / f"{name}.toml"
        if _exists(cand):
            return cand
    # a file whose `name` key differs from its stem
    for d in ([near] if near is not None else []) + [sdir]:
        for cand in _toml_files(d, missing_ok=True):
            if _name_key(cand) == name:
                return cand
    avail = sorted(set(_available(sdir)) | set(_available(near) if near else []))
    raise ScenarioError(
        f"unknown scenario {name!r}{_suggest(name, avail)}; available in {sdir}: "
        f"{_fmt(avail) if avail else '(none)'}"
    )


def _declared_dims(root: Path) -> tuple[str, ...] | None:
    """The dims of ``root/model.toml`` ``[dimensions]`` (the selector keys), None if unreadable.

    Without them (a broken or missing ``model.toml``: :func:`~mfa.data.params.load_parameters`
    reports it) the selectors are checked when the scenario is applied.
    """
    try:
        doc = decode_toml(read_input_file(root / "model.toml"), root / "model.toml")
    except ParameterError:  # reported by load_parameters, not here
        return None
    dims = doc.get("dimensions")
    return tuple(dims) if isinstance(dims, dict) else None


def _override_keys(dims: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return ("parameter", *dims, *_OVERRIDE_KEYS[1:])


def _load_chain(path: Path, sdir: Path, dims: tuple[str, ...] | None) -> Scenario:
    """Read ``path`` and its ``base`` chain (iteratively: chains may be long)."""
    owns: list[dict] = []
    seen: list[Path] = []
    while True:
        rp = path.resolve()
        if rp in seen:
            cycle = " -> ".join(p.name for p in [*seen[seen.index(rp):], rp])
            raise ScenarioError(f"{path}: base cycle: {cycle}")
        if len(seen) == MAX_BASE_DEPTH:
            names = [p.name for p in seen]
            shown = " -> ".join([*names[:3], "...", *names[-2:], path.name])
            raise ScenarioError(f"{owns[0]['path']}: the base chain is longer than "
                                f"{MAX_BASE_DEPTH} scenarios: {shown}; shorten it")
        try:
            own = _read_file(path, dims)
        except ScenarioError as exc:
            if not owns:
                raise
            child = owns[-1]
            raise ScenarioError(f"{child['path']}: base {child['base']!r}: {exc}") from None
        owns.append(own)
        seen.append(rp)
        if own["base"] is None:
            break
        try:
            path = _resolve(own["base"], sdir, path.parent)
        except ScenarioError as exc:
            raise ScenarioError(f"{path}: base {own['base']!r}: {exc}") from None
    scenario = None
    for own in reversed(owns):
        scenario = Scenario(**own, base_scenario=scenario)
    return scenario


def _check_name_is_free(scenario: Scenario, sdir: Path) -> None:
    """A scenario from elsewhere cannot take the name of one in ``sdir`` (the output name)."""
    path, name = scenario.path, scenario.name
    files = _toml_files(sdir, missing_ok=True)
    owners = [p for p in files if p.stem == name] or [p for p in files if _name_key(p) == name]
    if owners and path.resolve() not in [p.resolve() for p in owners]:
        raise ScenarioError(
            f"{path}: name {name!r} is already used by the scenario in {owners[0]}; choose "
            f"another name (key 'name', or the file name)"
        )


def _read_file(path: Path, dims: tuple[str, ...] | None) -> dict:
    raw = read_input_file(path, ScenarioError, what="scenario file")
    doc = decode_toml(raw, path, ScenarioError)
    for key in doc:
        if key not in _TOP_KEYS:
            raise ScenarioError(
                f"{path}: unknown key {key!r}{_suggest(key, _TOP_KEYS)}; allowed: {_fmt(_TOP_KEYS)}"
            )
    name = doc.get("name", path.stem)
    for key in ("name", "base", "description", "rationale"):
        if key in doc and not isinstance(doc[key], str):
            raise ScenarioError(f"{path}: {key!r} must be a string, got {doc[key]!r}")
    check_scenario_name(name, f"{path}, key 'name'" if "name" in doc else
                        f"{path} (no key 'name': the file name is the name)")
    sources = doc.get("sources", [])
    if not (isinstance(sources, list) and all(isinstance(s, str) and s for s in sources)):
        raise ScenarioError(f"{path}: 'sources' must be a list of keys into sources.csv")
    overrides = doc.get("override", [])
    if isinstance(overrides, dict):
        raise ScenarioError(f"{path}: write each override as [[override]] (an array of tables), "
                            "not [override]")
    if not isinstance(overrides, list) or not all(isinstance(o, dict) for o in overrides):
        raise ScenarioError(f"{path}: 'override' must be an array of tables ([[override]])")
    for i, o in enumerate(overrides, start=1):
        _check_override_keys(path, i, o, dims)
    return {
        "name": name,
        "description": doc.get("description", ""),
        "base": doc.get("base"),
        "overrides": overrides,
        "sources": list(sources),
        "path": path,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "rationale": doc.get("rationale", ""),
    }


def _where(path: Path, i: int, o: dict) -> str:
    p = o.get("parameter")
    return f"{path}, override #{i}" + (f" (parameter {p!r})" if isinstance(p, str) else "")


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _check_selector_keys(where: str, o: dict, dims: tuple[str, ...] | list[str]) -> None:
    """Every key of override ``o`` is a known key or a declared dim."""
    allowed = _override_keys(dims)
    for key in o:
        if key not in allowed:
            raise ScenarioError(f"{where}: unknown key {key!r}{_suggest(key, allowed)}; "
                                f"allowed: {_fmt(allowed)} (the selectors are the dims of "
                                f"model.toml [dimensions])")


def _check_override_keys(path: Path, i: int, o: dict, dims: tuple[str, ...] | None) -> None:
    """Check the keys and the kinds of their values (the dims, if known, are the selectors)."""
    where = _where(path, i, o)
    if dims is not None:
        _check_selector_keys(where, o, dims)
    if not isinstance(o.get("parameter"), str):
        raise ScenarioError(f"{where}: missing key 'parameter' (the parameter name)")
    kinds = [k for k in _KINDS if k in o]
    if len(kinds) != 1:
        found = f"found {_fmt(kinds)}" if kinds else "found none"
        raise ScenarioError(f"{where}: give exactly one of {_fmt(_KINDS)}; {found}")
    kind = kinds[0]
    if kind in ("value", "trajectory", "ramp") and "unit" not in o:
        raise ScenarioError(f"{where}: missing key 'unit' (required with {kind!r}; '1' for shares)")
    if "unit" in o and not isinstance(o["unit"], str):
        raise ScenarioError(f"{where}: 'unit' must be a string such as 't/yr' or '1'")
    if ("low" in o or "high" in o) and kind != "value":
        raise ScenarioError(f"{where}: 'low'/'high' are only allowed with 'value' "
                            f"(a {kind} sets the range itself)")
    if "from_year" in o and kind not in ("value", "scale"):
        raise ScenarioError(f"{where}: 'from_year' is only allowed with 'value' or 'scale' "
                            f"(for a ramp write it inside the ramp table)")
    if "from_year" in o and type(o["from_year"]) is not int:
        raise ScenarioError(f"{where}: 'from_year' must be an integer year, got {o['from_year']!r}")
    for key in ("value", "scale", "low", "high"):
        if key in o and not _is_number(o[key]):
            raise ScenarioError(f"{where}: {key!r} must be a number, got {o[key]!r}")
    for d in o:
        if d not in _OVERRIDE_KEYS:  # a selector
            sel = o[d]
            if isinstance(sel, str):
                continue
            if not (isinstance(sel, list) and sel and all(isinstance(s, str) for s in sel)):
                raise ScenarioError(f"{where}: selector {d!r} must be a label or a non-empty list "
                                    f"of labels, got {sel!r}")
    if "source" in o and not isinstance(o["source"], str):
        raise ScenarioError(f"{where}: 'source' must be a key into sources.csv")
    if "note" in o and not isinstance(o["note"], str):
        raise ScenarioError(f"{where}: 'note' must be a string")
    if kind == "trajectory":
        traj = o["trajectory"]
        if not isinstance(traj, dict) or not traj:
            raise ScenarioError(f"{where}: 'trajectory' must be a table of year = value, e.g. "
                                "{ 2030 = 0.2, 2050 = 0.6 }")
        for y, v in traj.items():
            try:
                int(y)
            except ValueError:
                raise ScenarioError(f"{where}: trajectory key {y!r} is not an integer year") from None
            if not _is_number(v):
                raise ScenarioError(f"{where}: trajectory value for {y} must be a number, got {v!r}")
    if kind == "ramp":
        ramp = o["ramp"]
        if not isinstance(ramp, dict):
            raise ScenarioError(f"{where}: 'ramp' must be a table "
                                "{ from_year = ..., to_year = ..., to_value = ... }")
        for key in ramp:
            if key not in _RAMP_KEYS:
                raise ScenarioError(f"{where}: unknown key {key!r} in 'ramp'"
                                    f"{_suggest(key, _RAMP_KEYS)}; allowed: {_fmt(_RAMP_KEYS)}")
        for key in ("from_year", "to_year"):
            if type(ramp.get(key)) is not int:
                raise ScenarioError(f"{where}: ramp needs an integer {key!r}, got {ramp.get(key)!r}")
        if ramp["to_year"] <= ramp["from_year"]:
            raise ScenarioError(f"{where}: ramp to_year {ramp['to_year']} must be after "
                                f"from_year {ramp['from_year']}")
        if "to_value" not in ramp:
            raise ScenarioError(f"{where}: ramp needs 'to_value'")
        for key in ("to_value", "to_low", "to_high"):
            if key in ramp and not _is_number(ramp[key]):
                raise ScenarioError(f"{where}: ramp {key!r} must be a number, got {ramp[key]!r}")


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
            raise ScenarioError(f"{path}: source {key!r}{_suggest(key, params.sources)} is not a "
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
    _check_selector_keys(where, o, params.dims)
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
            raise ScenarioError(f"{where}: unknown {d} {_fmt(bad)}{_suggest(bad[0], allowed)}; "
                                f"allowed: {_fmt(allowed)}")
        mask &= _along(dims, d, np.isin(np.asarray(params.coords[d], dtype=object), sel))
    app = applicable(entry, dims, params.coords)
    return mask if app is None else mask & app


def _apply_override(work: _Work, path: Path, i: int, o: dict) -> None:
    params = work.params
    where = _where(path, i, o)
    name = o["parameter"]
    if name not in params.registry:
        raise ScenarioError(f"{where}: unknown parameter {name!r}{_suggest(name, params.registry)}"
                            f"; known parameters: {_fmt(params.registry)}")
    entry = params.registry[name]
    if entry.get("role", "model") != "model":
        raise ScenarioError(f"{where}: parameter {name!r} has role = {entry['role']!r} in "
                            "registry.toml (a calibration target, not a model input): a scenario "
                            "cannot change it")
    if "source" in o and o["source"] not in params.sources:
        raise ScenarioError(f"{where}: source {o['source']!r}{_suggest(o['source'], params.sources)}"
                            " is not a key in sources.csv")
    dims = tuple(params.values[name].dims)
    shape = params.values[name].shape
    mask = _selection(params, entry, where, o, dims, shape)
    time = np.asarray(params.coords["time"])
    has_time = "time" in dims

    def need_time(what: str) -> None:
        if not has_time:
            raise ScenarioError(f"{where}: {what} needs a parameter with a time dim; "
                                f"{name!r} has dims {list(entry['dims'])}")

    span = year_span(entry, params.coords)

    def check_year(year: int, key: str) -> None:
        if not span[0] <= year <= span[1]:
            raise ScenarioError(f"{where}: {key}: "
                                + year_outside_message(year, name, entry, params.coords))

    if "from_year" in o:
        need_time("'from_year'")
        check_year(o["from_year"], "'from_year'")
        mask &= _along(dims, "time", time >= o["from_year"])
    # -- unit factor
    factor = 1.0
    if "unit" in o:
        target = "1" if "scale" in o else entry["unit"]
        ambiguous = ambiguous_unit_message(o["unit"])
        if ambiguous:
            raise ScenarioError(f"{where}: {ambiguous}")
        try:
            factor = conversion_factor(o["unit"], target, f"unit of {name!r}")
        except UnitError as exc:
            what = "scale factors are dimensionless: " if "scale" in o else ""
            raise ScenarioError(f"{where}: {what}{exc}") from None

    if "value" in o:
        v = o["value"] * factor
        lo = o.get("low", o["value"]) * factor
        hi = o.get("high", o["value"]) * factor
        if not lo <= v <= hi:
            raise ScenarioError(f"{where}: need low <= value <= high, got low={o.get('low')}, "
                                f"value={o['value']}, high={o.get('high')}")
        new = [np.full(shape, x) for x in (v, lo, hi)]
    elif "scale" in o:
        f = o["scale"] * factor
        val, low, high = work.get(name)
        a, b = low * f, high * f
        new = [val * f, np.minimum(a, b), np.maximum(a, b)]
    elif "trajectory" in o:
        need_time("a trajectory")
        pts = sorted((int(y), float(x) * factor) for y, x in o["trajectory"].items())
        for y, _ in pts:  # before numpy: a year of 30 digits does not fit an int64
            check_year(y, "'trajectory'")
        years = np.array([y for y, _ in pts], dtype=np.int64)
        if len(set(years.tolist())) != len(years):
            raise ScenarioError(f"{where}: trajectory repeats a year")
        if years[0] > time[-1]:
            raise ScenarioError(f"{where}: trajectory starts in {years[0]}, after the last model "
                                f"year {time[-1]}")
        series, _, too_late = interpolate_points(
            np.array([[x for _, x in pts]])[:, :, None], years, time,
            entry["interpolation"], "constant", entry["after"])
        if too_late.any():
            raise ScenarioError(f"{where}: trajectory ends in {years[-1]} but the model runs to "
                                f"{time[-1]} and registry.toml says after = 'error' for {name!r}")
        traj = np.broadcast_to(_along(dims, "time", series[0, :, 0]), shape)
        mask &= _along(dims, "time", time >= years[0])
        new = [traj, traj, traj]
    else:  # ramp
        need_time("a ramp")
        r = o["ramp"]
        y0, y1 = r["from_year"], r["to_year"]
        if not time[0] <= y0 <= time[-1]:
            raise ScenarioError(f"{where}: ramp from_year {y0} is outside the model years "
                                f"{time[0]}-{time[-1]} (model.toml)")
        check_year(y1, "ramp 'to_year'")
        targets = (r["to_value"], r.get("to_low", r["to_value"]), r.get("to_high", r["to_value"]))
        if not targets[1] <= targets[0] <= targets[2]:
            raise ScenarioError(f"{where}: need to_low <= to_value <= to_high in the ramp")
        axis = dims.index("time")
        w = _along(dims, "time", np.clip((time - y0) / (y1 - y0), 0.0, 1.0))
        i0 = int(np.searchsorted(time, y0))
        new = []
        for old, target in zip(work.get(name), targets, strict=True):
            start = np.take(old, [i0], axis=axis)
            new.append(start + (target * factor - start) * w)
        mask &= _along(dims, "time", time >= y0)
    if not mask.any():
        raise ScenarioError(f"{where}: the selectors select no values")
    arrays = work.get(name)
    for k in range(3):
        arrays[k] = np.where(mask, new[k], arrays[k])
