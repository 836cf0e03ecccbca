"""Scenario files: reading a scenario (TOML) and its ``base`` chain, checking names and keys.

The format is described in :mod:`mfa.data.scenarios`; applying a scenario is done there too.
"""

from __future__ import annotations

import hashlib
import math
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mfa.core.errors import ParameterError, ScenarioError
from mfa.data.files import decode_toml, default_params_dir, is_workbook, read_input_file
from mfa.data.problems import fmt_list, suggest

__all__ = ["MAX_BASE_DEPTH", "MAX_NAME_LENGTH", "Scenario", "check_scenario_name",
           "list_scenarios", "load_scenario"]

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
    if params_dir is not None and is_workbook(Path(params_dir)):
        from mfa.data.excel import workbook_scenarios

        return workbook_scenarios(Path(params_dir))
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
    if params_dir is not None and is_workbook(Path(params_dir)) and not _is_path(name_or_path):
        from mfa.data.excel import workbook_scenario

        return workbook_scenario(str(name_or_path), Path(params_dir))
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
        f"unknown scenario {name!r}{suggest(name, avail)}; available in {sdir}: "
        f"{fmt_list(avail) if avail else '(none)'}"
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


def _read_file(path: Path, dims: tuple[str, ...] | None, raw: bytes | None = None) -> dict:
    """The keys of one scenario file (``raw``: its bytes, if already read, e.g. from a sheet)."""
    if raw is None:
        raw = read_input_file(path, ScenarioError, what="scenario file")
    doc = decode_toml(raw, path, ScenarioError)
    for key in doc:
        if key not in _TOP_KEYS:
            raise ScenarioError(
                f"{path}: unknown key {key!r}{suggest(key, _TOP_KEYS)}; allowed: {fmt_list(_TOP_KEYS)}"
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


def override_where(path: Path, i: int, o: dict) -> str:
    p = o.get("parameter")
    return f"{path}, override #{i}" + (f" (parameter {p!r})" if isinstance(p, str) else "")


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def check_selector_keys(where: str, o: dict, dims: tuple[str, ...] | list[str]) -> None:
    """Every key of override ``o`` is a known key or a declared dim."""
    allowed = _override_keys(dims)
    for key in o:
        if key not in allowed:
            raise ScenarioError(f"{where}: unknown key {key!r}{suggest(key, allowed)}; "
                                f"allowed: {fmt_list(allowed)} (the selectors are the dims of "
                                f"model.toml [dimensions])")


def _check_override_keys(path: Path, i: int, o: dict, dims: tuple[str, ...] | None) -> None:
    """Check the keys and the kinds of their values (the dims, if known, are the selectors)."""
    where = override_where(path, i, o)
    if dims is not None:
        check_selector_keys(where, o, dims)
    if not isinstance(o.get("parameter"), str):
        raise ScenarioError(f"{where}: missing key 'parameter' (the parameter name)")
    kinds = [k for k in _KINDS if k in o]
    if len(kinds) != 1:
        found = f"found {fmt_list(kinds)}" if kinds else "found none"
        raise ScenarioError(f"{where}: give exactly one of {fmt_list(_KINDS)}; {found}")
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
        _check_trajectory(where, o["trajectory"])
    if kind == "ramp":
        _check_ramp(where, o["ramp"])


def _check_trajectory(where: str, traj: Any) -> None:
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


def _check_ramp(where: str, ramp: Any) -> None:
    if not isinstance(ramp, dict):
        raise ScenarioError(f"{where}: 'ramp' must be a table "
                            "{ from_year = ..., to_year = ..., to_value = ... }")
    for key in ramp:
        if key not in _RAMP_KEYS:
            raise ScenarioError(f"{where}: unknown key {key!r} in 'ramp'"
                                f"{suggest(key, _RAMP_KEYS)}; allowed: {fmt_list(_RAMP_KEYS)}")
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
