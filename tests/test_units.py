"""Tests of the package unit registry and the boundary helpers (mfa.core.units)."""

from __future__ import annotations

import numpy as np
import pint
import pytest
import xarray as xr

import mfa.models.neodymium  # noqa: F401  (defines the Nd counting units used below)
from mfa.core.units import (
    UnitError,
    check_dimensionality,
    conversion_factor,
    define_units,
    parse_unit,
    to_canonical,
    unit_string,
    ureg,
)


def test_kt_per_year_is_a_mass_flow_not_an_acceleration():
    unit = parse_unit("kt/yr")
    assert unit.dimensionality == ureg("t/yr").dimensionality
    assert unit.dimensionality != ureg("m/s**2").dimensionality
    assert conversion_factor("kt/yr", "t/yr") == pytest.approx(1000.0, rel=1e-15)


def test_vehicle_flow_times_intensity_is_mass_flow():
    q = ureg.Quantity(2.0, "vehicle/yr") * ureg.Quantity(3.0, "kg/vehicle")
    assert q.to("kg/yr").magnitude == pytest.approx(6.0)
    assert q.dimensionality == ureg("t/yr").dimensionality


def test_wrong_driver_fails_with_clear_message():
    q = ureg.Quantity(1.0, "kg/MW") * ureg.Quantity(1.0, "vehicle/yr")
    with pytest.raises(UnitError) as info:
        check_dimensionality(q.units, "t/yr", name="nd_in_new_products")
    msg = str(info.value)
    assert "nd_in_new_products" in msg  # the variable
    assert "vehicle" in msg and "MW" in msg  # the unit found
    assert "'t/yr'" in msg  # the unit expected


def test_unknown_unit_is_an_error():
    with pytest.raises(UnitError, match="cannot read unit 'furlongs_per_fortnight_x'"):
        parse_unit("furlongs_per_fortnight_x", "x")


@pytest.mark.parametrize("unit", ["t", "t/yr", "kt/yr", "kg/vehicle", "kg/MW", "MW/yr", "1"])
def test_unit_string_round_trips(unit):
    written = unit_string(unit)
    assert parse_unit(written) == parse_unit(unit)
    assert unit_string(written) == written


def test_to_canonical_attrs_units():
    da = xr.DataArray(np.array([1.0, 2.5]), dims="time", coords={"time": [2000, 2001]},
                      attrs={"units": "kt/yr"}, name="flow")
    out = to_canonical(da, "t/yr")
    np.testing.assert_allclose(out.values, [1000.0, 2500.0], rtol=1e-15)
    assert out.attrs["units"] == "t/yr"
    assert list(out["time"].values) == [2000, 2001]
    assert da.attrs["units"] == "kt/yr"  # input untouched


def test_to_canonical_pint_data():
    da = xr.DataArray(ureg.Quantity(np.array([3.0, 4.0]), "kg/yr"), dims="time")
    out = to_canonical(da, "t/yr", name="flow")
    assert not isinstance(out.data, pint.Quantity)
    np.testing.assert_allclose(out.values, [0.003, 0.004], rtol=1e-15)
    assert out.attrs["units"] == "t/yr"


def test_to_canonical_rejects_missing_units():
    da = xr.DataArray(np.ones(2), dims="time", name="inflow")
    with pytest.raises(UnitError, match="inflow: no units"):
        to_canonical(da, "t/yr")


def test_to_canonical_rejects_wrong_dimension():
    da = xr.DataArray(np.ones(2), dims="time", name="inflow", attrs={"units": "t"})
    with pytest.raises(UnitError, match=r"inflow: unit 't'.*expected a unit like 't/yr'"):
        to_canonical(da, "t/yr")


# --------------------------------------------------------------------------------------------
# Every unit name against stock pint (issue 8: `Gg` was 1000x too small)
# --------------------------------------------------------------------------------------------
STOCK = pint.UnitRegistry(cache_folder=None)
#: Names whose meaning differs from stock pint on purpose -> the stock name of that meaning.
DIFFERENT_ON_PURPOSE = {"kt": "kilotonne", "kt/yr": "kilotonne/yr"}  # stock pint: kt = knot
#: Counting units: their own base dimensions (in stock pint `unit` reads as micro-nit, u + nit).
COUNTING_UNITS = {"vehicle": "[vehicle]", "veh": "[vehicle]", "unit": "[item]",
                  "units": "[item]", "turbine": "[turbine]"}
PREFIXES = ["", "da", "h", "k", "M", "G", "T", "P", "d", "c", "m", "u", "n",
            "kilo", "mega", "giga", "tera", "milli"]
BASES = ["t", "tonne", "tonnes", "metric_ton", "g", "gram", "yr", "year", "a", "%", "percent"]


def _in_base_units(registry, name):
    q = registry.Quantity(1.0, registry.parse_units(name)).to_base_units()
    return q.magnitude, q.dimensionality


def _defined_names():
    """Names, symbols and aliases of every definition in mfa.core.units.DEFINITIONS."""
    from mfa.core.units import DEFINITIONS

    names = []
    for definition in DEFINITIONS:
        left, *_, = definition.split("=", 1)
        aliases = definition.split("=")[2:]
        names += [left.strip()] + [a.strip() for a in aliases if a.strip() != "_"]
    return names


def test_definitions_are_listed():
    names = _defined_names()
    for n in ["t", "tonne", "kt", "Mt", "yr", "a", "%", "percent", "short_ton"]:
        assert n in names
    # counting units belong to the model that needs them, not to the core
    assert "vehicle" not in names


def _is_counting(name):
    """A counting unit, prefixed or not (pint adds e.g. `kilovehicle` once it is used)."""
    try:
        return any(base in COUNTING_UNITS for _, base, _ in ureg.parse_unit_name(name))
    except Exception:
        return False


def _names_to_check():
    names = {*_defined_names(), *list(ureg), *[p + b for p in PREFIXES for b in BASES],
             "Gg", "Mt", "Gt", "kt", "Tg", "kyr", "Gg/yr", "kt/yr", "Mt/yr", "kg/yr", "g/yr"}
    return sorted(n for n in names if not _is_counting(n))


def test_every_unit_agrees_with_stock_pint():
    """Every unit this package defines or inherits (prefixed forms too) means what stock pint
    says, except the names of DIFFERENT_ON_PURPOSE and the counting units."""
    names = _names_to_check()
    assert len(names) > 1000 and "Gg" in names and "short_ton" in names
    wrong = []
    for name in names:
        try:
            expected = _in_base_units(STOCK, DIFFERENT_ON_PURPOSE.get(name, name))
        except Exception:
            expected = None  # not a stock unit: then not one of ours either
        try:
            found = _in_base_units(ureg, name)
        except Exception:
            found = None
        if expected is None or found is None:
            if expected is not found:
                wrong.append((name, found, expected))
        elif (str(found[1]) != str(expected[1])
              or found[0] != pytest.approx(expected[0], rel=1e-12)):
            wrong.append((name, found, expected))
    assert not wrong, wrong


def test_gigagram_is_a_thousand_tonnes():
    assert conversion_factor("Gg/yr", "t/yr") == pytest.approx(1000.0, rel=1e-15)
    assert conversion_factor("Gg", "kt") == pytest.approx(1.0, rel=1e-15)
    assert conversion_factor("Mt", "t") == pytest.approx(1e6, rel=1e-15)
    assert conversion_factor("%", "1") == pytest.approx(0.01, rel=1e-15)


@pytest.mark.parametrize("name", sorted(COUNTING_UNITS))
def test_counting_units_are_their_own_dimension(name):
    assert str(parse_unit(name).dimensionality) == COUNTING_UNITS[name]
    with pytest.raises(UnitError, match=r"has dimensionality \[(vehicle|item|turbine)\]"):
        check_dimensionality(name, "1", name)


def test_stock_pint_is_left_alone():
    """The package registry does not change pint's defaults for other code."""
    fresh = pint.UnitRegistry(cache_folder=None)
    assert str(fresh("kt").dimensionality) == "[length] / [time]"  # still the knot
    assert fresh("Gg").to("kg").magnitude == pytest.approx(1e6)


# --------------------------------------------------------------------------------------------
# Ambiguous tons (issue 8: `ton`, `kiloton` were US short tons while `t`, `kt` are metric)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "word", "metric"), [
    ("ton", "ton", "t"), ("tons", "tons", "t"), ("ton/yr", "ton", "t"),
    ("kiloton", "kiloton", "kt"), ("kton", "kton", "kt"), ("kton/yr", "kton", "kt"),
    ("megaton", "megaton", "Mt"), ("Mton", "Mton", "Mt"), ("kg/ton", "ton", "t"),
    ("kilotons / year", "kilotons", "kt"),
])
def test_ambiguous_ton_is_rejected_with_a_hint(text, word, metric):
    with pytest.raises(UnitError) as info:
        parse_unit(text, "flow_x")
    msg = str(info.value)
    assert msg.startswith(f"flow_x: unit {text!r}: {word!r} is ambiguous (US short ton 907 kg, "
                          "long ton 1016 kg, metric tonne 1000 kg): ")
    assert f"write {metric!r} for the metric" in msg and "'short_ton'/'long_ton'" in msg


def test_ambiguous_ton_rejected_by_everything_that_reads_units():
    da = xr.DataArray(np.ones(2), dims="time", attrs={"units": "kton/yr"}, name="mined")
    for call in (lambda: to_canonical(da, "t/yr"),
                 lambda: conversion_factor("ton/yr", "t/yr"),
                 lambda: check_dimensionality("ton", "t"),
                 lambda: unit_string("megaton"),
                 lambda: parse_unit(ureg.Unit("kiloton"))):
        with pytest.raises(UnitError, match="is ambiguous"):
            call()


def test_ambiguous_ton_message_is_exact():
    with pytest.raises(UnitError) as info:
        parse_unit("ton", "value")
    assert str(info.value) == (
        "value: unit 'ton': 'ton' is ambiguous (US short ton 907 kg, long ton 1016 kg, metric "
        "tonne 1000 kg): write 't' for the metric tonne or 'short_ton'/'long_ton'")


@pytest.mark.parametrize(("text", "kg"), [
    ("short_ton", 907.18474), ("long_ton", 1016.0469088), ("metric_ton", 1000.0),
    ("tonne", 1000.0), ("t", 1000.0), ("US_ton", 907.18474), ("UK_ton", 1016.0469088),
])
def test_explicit_tons_are_allowed(text, kg):
    assert conversion_factor(text, "kg") == pytest.approx(kg, rel=1e-12)
    assert conversion_factor(text, "kg") == pytest.approx(
        STOCK.Quantity(1.0, text).to("kg").magnitude, rel=1e-12)


def test_unit_error_is_an_mfa_error():
    from mfa.core.errors import MfaError

    assert issubclass(UnitError, MfaError) and issubclass(UnitError, ValueError)


def test_unit_string_keeps_powers_and_round_trips() -> None:
    for text in ("t**2/yr**2", "kg/vehicle", "t/yr", "MW/yr", "1/yr"):
        written = unit_string(text)
        assert "  " not in written, written
        assert parse_unit(written) == parse_unit(text), (text, written)
    assert unit_string("t**2/yr**2") == "t^2/yr^2"


def test_the_registry_is_the_package_own():
    """Importing mfa changes nothing for other pint users in the process (issue 9)."""
    import subprocess
    import sys

    code = ("import pint; before = pint.get_application_registry(); import mfa.core.units, "
            "mfa.models.neodymium; assert pint.get_application_registry() is before; "
            "assert str(pint.get_application_registry()('kt').dimensionality) == "
            "'[length] / [time]'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_define_units_adds_and_guards():
    assert define_units(["widget_i9 = [widget_i9] = wdg_i9"], source="test") == ["widget_i9"]
    assert str(parse_unit("kg/wdg_i9").dimensionality) == "[mass] / [widget_i9]"
    assert define_units(["widget_i9 = [widget_i9] = wdg_i9"], source="test") == []  # same: fine
    with pytest.raises(UnitError, match=r"other: unit 'widget_i9' is already defined as "
                       r"'widget_i9 = \[widget_i9\] = wdg_i9' by test"):
        define_units(["widget_i9 = 3 * kg"], source="other")
    with pytest.raises(UnitError, match=r"unit 'kilotonne' is defined by the package"):
        define_units(["kilotonne = 5 * kg"], source="other")
    with pytest.raises(UnitError, match=r"cannot read unit definition 'nonsense'"):
        define_units(["nonsense"], source="x")
