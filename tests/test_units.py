"""Tests of the package unit registry and the boundary helpers (mfa.core.units)."""

from __future__ import annotations

import numpy as np
import pint
import pytest
import xarray as xr

from mfa.core.units import (
    UnitError,
    check_dimensionality,
    conversion_factor,
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
