"""``model.toml``: the model a data set is for, its years, its dimensions and its units.

::

    [model]
    name = "neodymium"             # optional: the model the data are for

    [time]
    start = 1980                   # model years start..end (calendar years)
    end = 2050

    [dimensions]                   # any dims with any names, in this order
    region = ["China", "Japan"]
    product = ["ev_bev", "wind_onshore"]

    [units]                        # optional: units the data use beyond the package's own
    definitions = ["vehicle = [vehicle] = vehicle = veh"]

The unit definitions are given to :func:`mfa.core.units.define_units` before the registry and
the data are read, so a data set can be loaded without importing the code of its model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mfa.core.errors import ParameterError
from mfa.core.units import UnitError, define_units
from mfa.data.files import read_toml
from mfa.data.problems import Problems, fmt_list, suggest

__all__ = ["MAX_MODEL_YEARS", "RESERVED_DIM_NAMES", "YEAR_RANGE", "ModelFile", "parse_model",
           "read_model"]

#: Model years (``[time]``) and data years must be calendar years in this range.
YEAR_RANGE: tuple[int, int] = (1000, 9999)
#: Longest model run in years (the stock models hold (years x years) survival matrices).
MAX_MODEL_YEARS = 1000
#: Names a dimension cannot take: columns of the data files and of the loaded table, keys of a
#: scenario override, and dims the framework adds itself.
RESERVED_DIM_NAMES: tuple[str, ...] = (
    "time", "year", "sample", "cohort", "parameter", "value", "unit", "low", "high", "source",
    "note", "file", "line", "trajectory", "ramp", "scale", "from_year",
)
_TOP_KEYS = ("model", "time", "dimensions", "units")
_DIM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class ModelFile:
    """The contents of ``model.toml``.

    Attributes
    ----------
    coords : dict of str to list
        ``time`` (int years) first, then the labels of every declared dim, in declared order.
    dims : tuple of str
        The declared (label) dims, in declared order; ``time`` is not among them.
    name : str or None
        ``[model] name``: the model the data are for (None if not given).
    units : tuple of str
        ``[units] definitions`` (pint syntax), already defined in the package registry.
    """

    coords: dict[str, list]
    dims: tuple[str, ...]
    name: str | None = None
    units: tuple[str, ...] = ()


def read_model(path: Path, files: dict[str, str], root: Path) -> ModelFile:
    """Read and check ``model.toml``; define its units.

    Raises
    ------
    ParameterError
        Naming ``path``, the table and the key: unknown tables or keys, years that are not
        calendar years, labels that are not a non-empty list of unique strings, a dim name that
        is reserved, a unit definition pint cannot read or that conflicts with another one.
    """
    return parse_model(read_toml(path, files, root), path)


def parse_model(doc: dict, path: Path | str) -> ModelFile:
    """:func:`read_model` of an already parsed document; ``path`` names it in messages."""
    problems = Problems()
    for key in doc:
        if key not in _TOP_KEYS:
            problems.add(f"{path}: unknown table or key {key!r}{suggest(key, _TOP_KEYS)} "
                         f"(allowed: {fmt_list(_TOP_KEYS)})")
    name = _read_name(path, doc.get("model"), problems)
    time = _read_time(path, doc.get("time"), problems)
    coords = _read_dimensions(path, doc.get("dimensions"), problems)
    definitions = _read_units(path, doc.get("units"), problems)
    problems.raise_if_any()
    try:
        define_units(definitions, source=str(path))
    except UnitError as exc:
        raise ParameterError(f"{path}, [units]: {exc}") from None
    return ModelFile({"time": time, **coords}, tuple(coords), name, tuple(definitions))


def _read_name(path: Path, table: Any, problems: Problems) -> str | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        problems.add(f"{path}: 'model' must be a table [model] with the key 'name'")
        return None
    for key in table:
        if key != "name":
            problems.add(f"{path}, [model]: unknown key {key!r} (allowed: 'name')")
    name = table.get("name")
    if not (isinstance(name, str) and name.strip() == name and name):
        problems.add(f"{path}, [model]: 'name' must be the model's name (a non-empty string "
                     f"without surrounding spaces), got {name!r}")
        return None
    return name


def _read_time(path: Path, time: Any, problems: Problems) -> list[int]:
    if not isinstance(time, dict):
        problems.add(f"{path}: missing table [time] with integer keys 'start' and 'end'")
        return []
    for key in time:
        if key not in ("start", "end"):
            problems.add(f"{path}, [time]: unknown key {key!r} (allowed: 'start', 'end')")
    start, end = time.get("start"), time.get("end")
    if not (type(start) is int and type(end) is int):
        problems.add(f"{path}, [time]: 'start' and 'end' must be integer years, got "
                     f"start={start!r}, end={end!r}")
    elif start > end:
        problems.add(f"{path}, [time]: start {start} is after end {end}")
    elif not (YEAR_RANGE[0] <= start and end <= YEAR_RANGE[1]):
        problems.add(f"{path}, [time]: start {start} and end {end} must be calendar years "
                     f"between {YEAR_RANGE[0]} and {YEAR_RANGE[1]} (a typo such as 20500?)")
    elif end - start + 1 > MAX_MODEL_YEARS:
        problems.add(f"{path}, [time]: {end - start + 1} model years from {start} to {end}; "
                     f"at most {MAX_MODEL_YEARS} are supported")
    else:
        return list(range(start, end + 1))
    return []


def _read_dimensions(path: Path, dims: Any, problems: Problems) -> dict[str, list]:
    if not isinstance(dims, dict):
        problems.add(f"{path}: missing table [dimensions] with one list of labels per dim, "
                     f"e.g. region = [\"North\", \"South\"]")
        return {}
    coords: dict[str, list] = {}
    for d, labels in dims.items():
        where = f"{path}, [dimensions]"
        if d in RESERVED_DIM_NAMES:
            hint = " (the model years come from [time])" if d in ("time", "year") else ""
            problems.add(f"{where}: {d!r} cannot be the name of a dim: it is reserved{hint}; "
                         f"reserved names: {fmt_list(RESERVED_DIM_NAMES)}")
        elif not _DIM_NAME.match(d):
            problems.add(f"{where}: dim name {d!r} must begin with a letter and hold only "
                         "letters, digits and '_'")
        elif not (isinstance(labels, list) and labels
                  and all(isinstance(x, str) and x.strip() == x and x for x in labels)):
            problems.add(f"{where}: {d!r} must be a non-empty list of labels (strings without "
                         "surrounding spaces)")
        elif len(set(labels)) != len(labels):
            dup = sorted({x for x in labels if labels.count(x) > 1})
            problems.add(f"{where}: duplicate {d} labels {fmt_list(dup)}")
        else:
            coords[d] = list(labels)
    return coords


def _read_units(path: Path, table: Any, problems: Problems) -> list[str]:
    if table is None:
        return []
    if not isinstance(table, dict):
        problems.add(f"{path}: 'units' must be a table [units] with the key 'definitions'")
        return []
    for key in table:
        if key != "definitions":
            problems.add(f"{path}, [units]: unknown key {key!r} (allowed: 'definitions')")
    defs = table.get("definitions", [])
    if not (isinstance(defs, list) and all(isinstance(x, str) and x.strip() for x in defs)):
        problems.add(f"{path}, [units]: 'definitions' must be a list of unit definitions in "
                     f"pint syntax, e.g. [\"vehicle = [vehicle] = veh\"], got {defs!r}")
        return []
    return list(defs)
