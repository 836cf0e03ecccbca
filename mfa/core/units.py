"""The package's pint unit registry, and helpers used at the boundaries.

Inside the model every number is a plain float64 in one unit system: mass in tonnes
(``t``), flows in tonnes per year (``t/yr``), time in years (``yr``). Units live in pint only
at the edges: when parameters are loaded, when a public function receives an xarray object,
and in the ``attrs["units"]`` of results.

Traps closed here:

* pint's default ``kt`` is the *knot* (a speed), so ``"kt/yr"`` would parse as an
  acceleration. In this registry ``kt`` is the kilotonne (and ``Mt`` the megatonne).
* ``ton``, ``kiloton`` ... are US short tons in pint: rejected as ambiguous.

The registry is the package's own: it is not made pint's application registry, so other code
in the same process (pint-xarray, flodym, user code) keeps pint's defaults. Quantities from
another registry are read by their unit names.

Units that belong to a model (counting units such as ``vehicle``, each its own dimension so
that ``kg/vehicle * MW/yr`` is never a mass flow) are added by the model or by its data
(``[units]`` in ``model.toml``) through :func:`define_units`.

Parsing pint's default definitions is cached on disk (pint's ``cache_folder=":auto:"``), which
takes about 0.1 s off every start; without a writable cache folder the registry is built
without it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pint
import xarray as xr

from mfa.core.errors import UnitError

__all__ = [
    "ureg",
    "DEFINITIONS",
    "define_units",
    "AMBIGUOUS_UNITS",
    "Quantity",
    "UnitError",
    "parse_unit",
    "unit_string",
    "check_dimensionality",
    "conversion_factor",
    "to_canonical",
    "CANONICAL",
]

#: Every definition this package adds to (or changes in) pint's defaults, in order. Each one
#: agrees with stock pint (``pint.UnitRegistry()``) except ``kt``, which is the knot there; the
#: tests check every name against stock pint, prefixed forms (``Gg``, ``Mt``, ``kyr``) included.
DEFINITIONS: tuple[str, ...] = (
    # Mass: tonne-based prefixes. Redefining `kt` replaces pint's knot (kt = knot) on purpose.
    "tonne = 1e3 * kilogram = t = metric_ton",
    "kilotonne = 1e3 * tonne = kt",
    "megatonne = 1e6 * tonne = Mt",
    # Its own name, so that an explicit `short_ton` is told apart from the ambiguous `ton`
    # (in stock pint `short_ton` is an alias of `ton`); same value as stock pint's.
    "short_ton = 2e3 * pound",
    # Years: the Julian year (365.25 d), written `yr` (as in stock pint). The model only uses
    # whole years, so the length of a year never enters a t <-> t/yr conversion.
    "year = 365.25 * day = yr = a = julian_year",
    "percent = 0.01 = %",
)



def _new_registry() -> pint.UnitRegistry:
    try:
        return pint.UnitRegistry(on_redefinition="ignore", cache_folder=":auto:")
    except Exception:  # pragma: no cover - no writable cache folder (read-only home...)
        return pint.UnitRegistry(on_redefinition="ignore", cache_folder=None)


ureg = _new_registry()
for _definition in DEFINITIONS:
    ureg.define(_definition)
# Kept away from the knot, whatever pint version runs: fail loudly at import if not.
if not ureg("kt").dimensionality == ureg("t").dimensionality:  # pragma: no cover
    raise ImportError("mfa.core.units: 'kt' does not mean kilotonne in this pint version")

#: Unit names that mean different masses in different countries; rejected by :func:`parse_unit`
#: with any prefix (``ton``, ``tons``, ``kiloton``, ``kton``, ``megaton``, ...).
AMBIGUOUS_UNITS: dict[str, str] = {
    "ton": "US short ton 907 kg, long ton 1016 kg, metric tonne 1000 kg",
}

Quantity = ureg.Quantity


#: Canonical model units by physical meaning (strings written to files).
CANONICAL: dict[str, str] = {
    "mass": "t",
    "mass_flow": "t/yr",
    "time": "yr",
    "share": "1",
}


#: Units added by :func:`define_units`: name -> (definition, who asked).
_DEFINED: dict[str, tuple[str, str]] = {}


def define_units(definitions: Iterable[str], *, source: str = "define_units") -> list[str]:
    """Add unit definitions (pint syntax) to the package registry, e.g. a model's counting units.

    A definition may replace one of pint's defaults (``unit`` is a micro-nit in pint; a model
    may make it a counting unit). Defining again a name that a model or data set already
    defined is accepted only with the same definition, so that two models cannot give one
    name two meanings.

    Parameters
    ----------
    definitions : iterable of str
        Pint definitions, e.g. ``"vehicle = [vehicle] = veh"`` (a new base dimension) or
        ``"turbine_set = 3 * turbine"``.
    source : str
        Who asks (a file or model name), for error messages.

    Returns
    -------
    list of str
        The names newly defined.

    Raises
    ------
    UnitError
        For a definition pint cannot read, one that changes a package unit (:data:`DEFINITIONS`),
        or one that conflicts with an earlier :func:`define_units` call.
    """
    added = []
    own = {d.split("=", 1)[0].strip() for d in DEFINITIONS}
    for text in definitions:
        text = " ".join(str(text).split())
        name = text.split("=", 1)[0].strip()
        if not name or "=" not in text:
            raise UnitError(f"{source}: cannot read unit definition {text!r} (expected 'name = ...')")
        if name in own:
            raise UnitError(f"{source}: unit {name!r} is defined by the package; choose another name")
        if name in _DEFINED:
            earlier, who = _DEFINED[name]
            if earlier != text:
                raise UnitError(f"{source}: unit {name!r} is already defined as {earlier!r} by "
                                f"{who}; choose another name")
            continue
        try:
            ureg.define(text)
        except Exception as exc:  # pint raises several kinds of errors
            raise UnitError(f"{source}: cannot define unit {text!r} ({exc})") from None
        _DEFINED[name] = (text, source)
        _ambiguous_word.cache_clear()
        added.append(name)
    return added


def parse_unit(unit: str | pint.Unit, name: str = "value") -> pint.Unit:
    """Parse a unit string with the package registry.

    Parameters
    ----------
    unit : str or pint.Unit
        Unit text such as ``"kt/yr"``, ``"kg/vehicle"``, ``"1"`` or ``""`` (dimensionless).
    name : str
        What the unit belongs to, used in error messages.

    Returns
    -------
    pint.Unit

    Raises
    ------
    UnitError
        If the text is not a unit of this registry, or names an ambiguous unit
        (:data:`AMBIGUOUS_UNITS`: ``ton``, ``kiloton``, ...; write ``t``, ``kt``, ``short_ton``
        or ``long_ton``).
    """
    text = "" if unit is None else str(unit).strip()
    if text in ("", "1", "-", "dimensionless"):
        return ureg.dimensionless
    try:
        parsed = _parse_text(text)
    except Exception as exc:  # pint raises several kinds of errors
        raise UnitError(f"{name}: cannot read unit {text!r} ({exc})") from None
    _reject_ambiguous(text, name)
    return parsed


@functools.lru_cache(maxsize=4096)
def _parse_text(text: str) -> pint.Unit:
    """pint's parse of a unit text, once per text (a data set repeats a few units thousands of
    times; a text that fails is not cached, so a unit defined later parses then)."""
    return ureg.parse_units(text)


def _reject_ambiguous(text: str, name: str) -> None:
    """Raise :class:`UnitError` if a word of ``text`` is an ambiguous unit, with any prefix."""
    word = _ambiguous_word(text)
    if word is not None:
        prefix, base = word[1], word[2]
        metric = ureg.get_symbol(f"{prefix}tonne")
        raise UnitError(
            f"{name}: unit {text!r}: {word[0]!r} is ambiguous ({AMBIGUOUS_UNITS[base]}): "
            f"write {metric!r} for the metric {prefix}tonne or 'short_ton'/'long_ton'"
        )


@functools.lru_cache(maxsize=1024)
def _ambiguous_word(text: str) -> tuple[str, str, str] | None:
    """(word, prefix, base) of the first ambiguous unit word in ``text``, or None."""
    for word in re.findall(r"[^\W\d]\w*", text):
        try:
            candidates = ureg.parse_unit_name(word)
        except Exception:  # not a unit name (pint already read the whole text)
            continue
        for prefix, base, _suffix in candidates:
            if base in AMBIGUOUS_UNITS:
                return word, prefix, base
    return None


def unit_string(unit: str | pint.Unit) -> str:
    """Write a unit in a short form that pint (and UDUNITS-style tools) read back.

    ``"1"`` for dimensionless; otherwise pint's compact symbols, e.g. ``"t / yr"`` or
    ``"t^2/yr^2"`` (products written with a space, powers with ``^``).
    """
    u = parse_unit(unit)
    if u == ureg.dimensionless:
        return "1"
    return f"{u:~C}".replace("**", "^").replace("*", " ")


def check_dimensionality(unit: str | pint.Unit, expected: str | pint.Unit, name: str = "value") -> pint.Unit:
    """Check that ``unit`` has the same dimensionality as ``expected``.

    Parameters
    ----------
    unit : str or pint.Unit
        The unit found.
    expected : str or pint.Unit
        A unit of the expected dimensionality (e.g. ``"t/yr"``).
    name : str
        Variable name for the error message.

    Returns
    -------
    pint.Unit
        The parsed unit found.

    Raises
    ------
    UnitError
        Naming the variable, the unit found and the unit expected.
    """
    found = parse_unit(unit, name)
    want = parse_unit(expected, name)
    if found.dimensionality != want.dimensionality:
        raise UnitError(
            f"{name}: unit {unit_string(found)!r} has dimensionality {found.dimensionality}, "
            f"expected a unit like {unit_string(want)!r} ({want.dimensionality})"
        )
    return found


def conversion_factor(unit: str | pint.Unit, target: str | pint.Unit, name: str = "value") -> float:
    """Multiplier that converts numbers in ``unit`` to numbers in ``target``.

    Raises :class:`UnitError` if the dimensionalities differ.
    """
    found = check_dimensionality(unit, target, name)
    return float(ureg.Quantity(1.0, found).to(parse_unit(target)).magnitude)


def _units_of(obj: xr.DataArray, name: str) -> tuple[np.ndarray | Any, str | pint.Unit]:
    """Return (magnitude, unit) of a pint-backed or attrs-annotated DataArray."""
    data = obj.data
    if isinstance(data, pint.Quantity):
        return data.magnitude, data.units
    unit = obj.attrs.get("units")
    if unit is None:
        raise UnitError(
            f"{name}: no units (give a pint Quantity as data or set attrs['units'])"
        )
    return data, unit


def to_canonical(obj: xr.DataArray, target: str, name: str | None = None) -> xr.DataArray:
    """Check units of an xarray object and convert it to ``target`` units.

    Accepts a DataArray whose data is a pint Quantity or whose ``attrs["units"]`` is set.
    Returns a plain-float DataArray with ``attrs["units"] = target`` (written form).

    Parameters
    ----------
    obj : xarray.DataArray
        Input with units.
    target : str
        Target unit (e.g. ``"t/yr"``); the input must have the same dimensionality.
    name : str, optional
        Name for error messages (defaults to ``obj.name``).

    Raises
    ------
    UnitError
        If the object carries no units or units of the wrong dimensionality.
    """
    label = name or (str(obj.name) if obj.name is not None else "value")
    if not isinstance(obj, xr.DataArray):
        raise TypeError(f"{label}: expected an xarray.DataArray, got {type(obj).__name__}")
    magnitude, unit = _units_of(obj, label)
    factor = conversion_factor(unit, target, label)
    values = np.asarray(magnitude, dtype=float)
    if factor != 1.0:
        values = values * factor
    out = xr.DataArray(values, coords=obj.coords, dims=obj.dims, name=obj.name, attrs=dict(obj.attrs))
    out.attrs["units"] = unit_string(target)
    return out
