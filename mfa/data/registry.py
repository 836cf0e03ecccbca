"""``registry.toml`` (one table per parameter) and ``sources.csv`` (the bibliography).

A registry entry::

    [parameters.ev_sales]
    description = "Sales of new electric vehicles"
    dims = ["region", "product", "time"]      # declared dims of model.toml, and time
    labels = {product = ["ev_bev", "ev_phev"]} # optional: the labels it applies to, per dim
    unit = "vehicle/yr"

``products = [...]`` (the labels of the dim ``product``) is the older spelling of
``labels = {product = [...]}``; it is still read, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from mfa.core.units import UnitError, parse_unit
from mfa.data.checks import ambiguous_unit_message
from mfa.data.files import read_csv, read_toml
from mfa.data.model_file import YEAR_RANGE, ModelFile
from mfa.data.problems import Problems, fmt_list, suggest

__all__ = ["SOURCE_COLUMNS", "SOURCE_TAGS", "parse_registry", "parse_sources", "read_registry",
           "read_sources"]

#: Header of ``sources.csv``.
SOURCE_COLUMNS: tuple[str, ...] = ("key", "citation", "url", "licence", "tag", "note")
#: Provenance tags allowed in ``sources.csv``.
SOURCE_TAGS: tuple[str, ...] = ("P", "A", "S", "U", "assumption")

_KEYS = (
    "description", "dims", "labels", "products", "unit", "min", "max", "plausible_min",
    "plausible_max", "sum_to_one_over", "interpolation", "before", "after", "max_gap", "role",
    "allow_years",
)
_REQUIRED = ("description", "dims", "unit")
_DEFAULTS = {"interpolation": "linear", "before": "constant", "after": "constant",
             "role": "model"}
_CHOICES = {"interpolation": ("linear", "step"), "before": ("constant", "zero", "error"),
            "after": ("constant", "error"), "role": ("model", "calibration")}
_NUMBERS = ("min", "max", "plausible_min", "plausible_max")


def read_registry(
    path: Path, model: ModelFile, files: dict[str, str], root: Path
) -> dict[str, dict]:
    """Read and check ``registry.toml`` against the dims and labels of ``model``.

    Returns
    -------
    dict of str to dict
        Entry per parameter with every key filled in (None where not given); ``labels`` maps
        dims to the labels the parameter applies to (model order), ``products`` is
        ``labels.get("product")`` for older code.

    Raises
    ------
    ParameterError
        Naming ``registry.toml``, ``[parameters.NAME]`` and the key.
    """
    return parse_registry(read_toml(path, files, root), model, path)


def parse_registry(doc: dict, model: ModelFile, path: Path | str) -> dict[str, dict]:
    """:func:`read_registry` of an already parsed document; ``path`` names it in messages."""
    problems = Problems()
    for key in doc:
        if key != "parameters":
            problems.add(f"{path}: unknown table or key {key!r} (allowed: 'parameters')")
    params = doc.get("parameters")
    if not isinstance(params, dict) or not params:
        problems.add(f"{path}: no [parameters.NAME] tables")
        problems.raise_if_any()
    registry: dict[str, dict] = {}
    aliased: list[str] = []
    for name, raw in params.items():
        where = f"{path}, [parameters.{name}]"
        if not isinstance(raw, dict):
            problems.add(f"{where}: must be a table")
            continue
        if "products" in raw:
            aliased.append(name)
        before = len(problems.items)
        entry = _entry(raw, model, where,
                       lambda msg, where=where: problems.add(f"{where}: {msg}"))
        if len(problems.items) == before and entry is not None:
            registry[name] = entry
    if aliased:
        warnings.warn(f"{path}: 'products = [...]' ({fmt_list(aliased[:3])}"
                      f"{' ...' if len(aliased) > 3 else ''}) is deprecated; write "
                      f"labels = {{product = [...]}}", DeprecationWarning, stacklevel=4)
    problems.raise_if_any()
    return registry


def _entry(raw: dict, model: ModelFile, where: str, bad: Any) -> dict | None:
    """One registry entry with defaults filled in; ``bad(message)`` records a problem."""
    for key in raw:
        if key not in _KEYS:
            bad(f"unknown key {key!r}{suggest(key, sorted(_KEYS))} "
                f"(allowed: {fmt_list(sorted(_KEYS))})")
    missing = [key for key in _REQUIRED if key not in raw]
    for key in missing:
        bad(f"missing key {key!r}")
    if missing or any(key not in _KEYS for key in raw):
        return None
    e: dict[str, Any] = {key: raw.get(key, _DEFAULTS.get(key)) for key in _KEYS}
    if not isinstance(e["description"], str):
        bad("'description' must be a string")
    dims = _check_dims(e["dims"], model, bad)
    _check_unit(e["unit"], where, bad)
    e["labels"] = _check_labels(raw, dims, model, bad)
    e["products"] = e["labels"].get("product")
    _check_numbers(e, dims, bad)
    s1 = e["sum_to_one_over"]
    if s1 is not None:
        if not isinstance(s1, str) or s1 not in model.dims:
            bad(f"'sum_to_one_over' must be one of the dims {fmt_list(model.dims)} declared in "
                f"model.toml, got {s1!r}")
        elif dims is not None and s1 not in dims:
            bad(f"'sum_to_one_over' = {s1!r} is not one of the parameter's dims {dims}")
    for key, allowed in _CHOICES.items():
        if e[key] not in allowed:
            bad(f"{key!r} must be one of {fmt_list(allowed)}, got {e[key]!r}")
    for key in _NUMBERS:
        if isinstance(e[key], int | float) and not isinstance(e[key], bool):
            e[key] = float(e[key])
    return e


def _check_dims(dims: Any, model: ModelFile, bad: Any) -> list[str] | None:
    all_dims = (*model.dims, "time")
    if not (isinstance(dims, list) and all(isinstance(d, str) for d in dims)):
        bad(f"'dims' must be a list of dim names from {fmt_list(all_dims)}")
        return None
    unknown = [d for d in dims if d not in all_dims]
    if unknown:
        bad(f"'dims' has unknown dims {fmt_list(unknown)}{suggest(unknown[0], all_dims)}; "
            f"allowed: {fmt_list(all_dims)} (the dims declared in model.toml [dimensions], "
            f"and 'time')")
    if len(set(dims)) != len(dims):
        bad(f"'dims' repeats a dim: {dims}")
    return dims


def _check_unit(unit: Any, where: str, bad: Any) -> None:
    if not isinstance(unit, str):
        bad("'unit' must be a string such as 't/yr' or '1'")
    elif ambiguous_unit_message(unit):
        bad(f"'unit': {ambiguous_unit_message(unit)}")
    else:
        try:
            parse_unit(unit, f"{where} unit")
        except UnitError as exc:
            bad(f"'unit': {exc}")


def _check_labels(raw: dict, dims: list[str] | None, model: ModelFile, bad: Any) -> dict:
    """``labels`` (or the deprecated ``products``) as {dim: labels in model order}."""
    labels = raw.get("labels", {})
    if not isinstance(labels, dict):
        bad("'labels' must be a table of dim = [labels], e.g. labels = {product = [\"a\", \"b\"]}")
        return {}
    labels = dict(labels)
    if "products" in raw:
        if "product" in labels:
            bad("'products' and labels.product both given; keep labels = {product = [...]}")
            return {}
        labels["product"] = raw["products"]
    out = {}
    for d, chosen in labels.items():
        key = "'products'" if d == "product" and "products" in raw else f"labels.{d}"
        if d not in model.dims:
            bad(f"{key}: {d!r} is not a dim declared in model.toml{suggest(d, model.dims)}; "
                f"declared: {fmt_list(model.dims)}")
        elif not (isinstance(chosen, list) and chosen and all(isinstance(x, str) for x in chosen)):
            bad(f"{key} must be a non-empty list of {d} labels")
        elif [x for x in chosen if x not in model.coords[d]]:
            unknown = [x for x in chosen if x not in model.coords[d]]
            bad(f"{key} has unknown labels {fmt_list(unknown)}; allowed (model.toml): "
                f"{fmt_list(model.coords[d])}")
        elif dims is not None and d not in dims:
            bad(f"{key} given but {d!r} is not in 'dims'")
        else:
            out[d] = [x for x in model.coords[d] if x in chosen]
    return out


def _check_numbers(e: dict, dims: list[str] | None, bad: Any) -> None:
    """Bounds, ``allow_years`` and ``max_gap``."""
    for key in _NUMBERS:
        v = e[key]
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                              or not math.isfinite(v)):
            bad(f"{key!r} must be a number, got {v!r}")
    for lo_key, hi_key in (("min", "max"), ("plausible_min", "plausible_max")):
        lo, hi = e[lo_key], e[hi_key]
        if (isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi):
            bad(f"{lo_key!r} {lo} is larger than {hi_key!r} {hi}")
    ay = e["allow_years"]
    if ay is not None:
        if not (isinstance(ay, list) and len(ay) == 2 and all(type(y) is int for y in ay)
                and ay[0] <= ay[1] and YEAR_RANGE[0] <= ay[0] and ay[1] <= YEAR_RANGE[1]):
            bad(f"'allow_years' must be [first, last], two calendar years with first <= "
                f"last, got {ay!r}")
        elif dims is not None and "time" not in dims:
            bad("'allow_years' given but 'time' is not in 'dims'")
    mg = e["max_gap"]
    if mg is not None and (type(mg) is not int or mg < 1):
        bad(f"'max_gap' must be a positive integer number of years, got {mg!r}")


def read_sources(path: Path, files: dict[str, str], root: Path) -> dict[str, dict]:
    """Read ``sources.csv``: key -> {citation, url, licence, tag, note}."""
    lines, cols = read_csv(path, SOURCE_COLUMNS, files, root,
                           hint=f" (the bibliography; header {','.join(SOURCE_COLUMNS)})")
    return parse_sources(lines, cols, path)


def parse_sources(lines: np.ndarray, cols: dict[str, np.ndarray], path: Path | str,
                  line_word: str = "line") -> dict[str, dict]:
    """:func:`read_sources` of columns already read (``lines``: the line or row of each record;
    ``line_word``: ``"line"`` in a file, ``"row"`` in a sheet)."""
    problems = Problems()
    sources: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    tags_lower = {t.lower(): t for t in SOURCE_TAGS}
    for i, line in enumerate(lines):
        key = cols["key"][i]
        if not key:
            problems.add(f"{path}, {line_word} {line}: empty key", line=int(line))
            continue
        if key in sources:
            problems.add(f"{path}, {line_word} {line}: duplicate key {key!r} (first on "
                         f"{line_word} {first_line[key]})", line=int(line))
            continue
        tag = cols["tag"][i]
        if tag.strip("[]").lower() not in tags_lower:
            problems.add(f"{path}, {line_word} {line}: tag {tag!r} for {key!r}; expected one of "
                         f"{fmt_list(SOURCE_TAGS)}", line=int(line))
            continue
        first_line[key] = int(line)
        rec = {c: cols[c][i] for c in SOURCE_COLUMNS if c != "key"}
        rec["tag"] = tags_lower[tag.strip("[]").lower()]
        sources[key] = rec
    problems.raise_if_any()
    return sources
