"""Technology and intensity trends in ``params/technology.csv`` (docs/model/data.md).

The cited points (and the assumption points that carry the trend to 2050) are written out here
once more, so a change of a number in the parameter file has to be made on purpose in both places.
"""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest

from mfa.data.params import default_params_dir, load_parameters

# (parameter, product): {year: (value, low, high)}
POINTS = {
    ("pm_share", "ev_bev"): {2018: (0.93, 0.75, 0.95), 2024: (0.90, 0.85, 0.93),
                             2030: (0.88, 0.80, 0.94), 2035: (0.87, 0.70, 0.95),
                             2050: (0.85, 0.50, 0.95)},
    ("pm_share", "wind_onshore"): {2012: (0.25, 0.2, 0.3), 2024: (0.45, 0.25, 0.60),
                                   2030: (0.55, 0.35, 0.70), 2050: (0.60, 0.30, 0.75)},
    ("pm_share", "wind_offshore"): {2020: (0.82, 0.58, 0.9), 2024: (0.85, 0.58, 0.95),
                                    2050: (0.90, 0.60, 0.95)},
    ("magnet_per_vehicle", "ev_bev"): {2017: (1.5, 1.0, 2.5), 2024: (1.6, 1.1, 2.5),
                                       2030: (1.6, 1.1, 2.5), 2040: (1.45, 1.1, 2.5),
                                       2050: (1.31, 0.85, 2.5)},
    ("magnet_per_vehicle", "ev_phev"): {2024: (1.2, 0.42, 2.0), 2050: (0.98, 0.42, 2.0)},
    ("magnet_per_vehicle", "e_two_wheeler"): {2024: (0.34, 0.2, 0.6), 2050: (0.28, 0.2, 0.6)},
    ("magnet_per_mw", "wind_onshore"): {2024: (500.0, 190.0, 850.0), 2030: (471.0, 168.0, 850.0),
                                        2050: (385.0, 112.0, 850.0)},
    ("magnet_per_mw", "wind_offshore"): {2024: (650.0, 450.0, 850.0), 2030: (612.0, 399.0, 850.0),
                                         2050: (501.0, 266.0, 850.0)},
}
TREND = ["pm_share", "magnet_per_vehicle", "magnet_per_mw"]


@pytest.fixture(scope="module")
def params():
    return load_parameters(default_params_dir())


def _series(ps, which: str, name: str, product: str):
    da = getattr(ps, which)[name].sel(product=product)
    if "region" in da.dims:  # world rows: every region carries the same trend
        assert np.allclose(da.values, da.isel(region=0).values[None, :] if da.dims[0] == "region"
                           else da.isel(region=0).values[:, None])
        da = da.isel(region=0)
    return da


@pytest.mark.parametrize("key", list(POINTS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_values_in_cited_years_equal_the_cited_numbers(params, key):
    name, product = key
    for year, (value, low, high) in POINTS[key].items():
        got = [float(_series(params, w, name, product).sel(time=year)) for w in ("values", "low", "high")]
        assert got == pytest.approx([value, low, high], abs=1e-9), (name, product, year)


@pytest.mark.parametrize("name", TREND)
def test_low_le_value_le_high_in_every_year(params, name):
    v, lo, hi = (getattr(params, w)[name] for w in ("values", "low", "high"))
    ok = np.isnan(v.values) | ((lo.values <= v.values + 1e-12) & (v.values <= hi.values + 1e-12))
    assert ok.all()


@pytest.mark.parametrize("name,product,start,sign", [
    ("pm_share", "ev_bev", 2018, -1),  # Adamas 93 % -> ~90 %, rare-earth-free motors announced
    ("pm_share", "ev_phev", 2018, -1),
    ("pm_share", "wind_onshore", 1995, +1),  # medium-speed PMSG platforms replace DFIG
    ("pm_share", "wind_offshore", 2000, +1),
    ("magnet_per_vehicle", "ev_bev", 2024, -1),  # thrifting, never an increase after 2024
    ("magnet_per_vehicle", "ev_phev", 2024, -1),
    ("magnet_per_vehicle", "e_two_wheeler", 2024, -1),
    ("magnet_per_mw", "wind_onshore", 2024, -1),
    ("magnet_per_mw", "wind_offshore", 2024, -1),
])
def test_trends_are_monotone_where_the_source_says_so(params, name, product, start, sign):
    s = _series(params, "values", name, product).sel(time=slice(start, None)).values
    steps = sign * np.diff(s)
    assert (steps >= -1e-12).all()
    assert steps.sum() > 0  # and the trend is not flat


def test_thrifting_rule_after_the_last_cited_point(params):
    """-1 %/yr from 2030 (vehicles) and from 2024 (wind), to rounding of the written points."""
    for product, base in [("ev_bev", 1.6), ("ev_phev", 1.2), ("e_two_wheeler", 0.34)]:
        s = _series(params, "values", "magnet_per_vehicle", product)
        for year in (2040, 2050):
            assert float(s.sel(time=year)) == pytest.approx(base * 0.99 ** (year - 2030), abs=0.006)
        assert float(s.sel(time=2030)) == base
    for product, base in [("wind_onshore", 500.0), ("wind_offshore", 650.0)]:
        s = _series(params, "values", "magnet_per_mw", product)
        for year in (2030, 2040, 2050):
            assert float(s.sel(time=year)) == pytest.approx(base * 0.99 ** (year - 2024), abs=0.6)


def test_no_trend_row_is_silently_frozen():
    """Every dated trend series reaches 2050 (the model end) or is a declared constant."""
    path = default_params_dir() / "technology.csv"
    rows = [r for r in csv.DictReader(line for line in path.open() if not line.startswith("#"))
            if r["parameter"] in TREND]
    last: dict[tuple[str, str], int] = {}
    for r in rows:
        if r["year"]:
            key = (r["parameter"], r["product"])
            last[key] = max(last.get(key, 0), int(r["year"]))
        else:
            assert "constant" in r["note"], r  # a constant row says so
        assert r["source"], r
    assert last and all(y == 2050 for y in last.values()), last
    ends = [r for r in rows if r["year"] == "2050"]
    assert all("constant after 2050" in r["note"] or r["note"].startswith("as ev_bev") for r in ends)


def test_after_the_last_point_the_2050_values_hold(tmp_path):
    """Run to 2060: every trend keeps its 2050 value, value, low and high (registry ``after``)."""
    d = tmp_path / "params"
    shutil.copytree(default_params_dir(), d)
    toml = d / "model.toml"
    toml.write_text(toml.read_text().replace("end = 2050", "end = 2060", 1))
    ps = load_parameters(d)
    assert int(ps.values.time[-1]) == 2060
    for name in TREND:
        for which in ("values", "low", "high"):
            da = getattr(ps, which)[name]
            np.testing.assert_array_equal(da.sel(time=2060).values, da.sel(time=2050).values)
    assert float(_series(ps, "values", "magnet_per_mw", "wind_offshore").sel(time=2055)) == 501.0
