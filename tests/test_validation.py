"""Issue 10 item 6: the comparison of the Nd model with published results (validation page)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mfa.models.neodymium as nd
from mfa.core.errors import MfaError, UnitError
from mfa.models.neodymium.structure import MAGNET_PRODUCTS
from mfa.models.neodymium.validation import (
    COLUMNS,
    MEASURES,
    compare_with_published,
    read_comparison_table,
)

TABLE = Path(__file__).resolve().parents[1] / "docs" / "model" / "validation_data.csv"


@pytest.fixture(scope="module")
def base():
    return nd.run("baseline")


def _row(**kw):
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update(study="S", source_key="k", quantity="q", region="World", year=2010, factor=1.0,
               unit="t", scope="s", comment="c")
    row.update(kw)
    return row


def test_the_shipped_table_compares_every_measured_row(base):
    table = read_comparison_table(TABLE)
    out = compare_with_published(base, TABLE)
    assert len(out) == len(table) >= 20
    measured = table["measure"].notna().to_numpy()
    assert measured.sum() >= 15
    assert np.isfinite(out["model"][measured]).all()
    assert out["model"][~measured].isna().all()
    ok = measured & (out["published"] > 0).to_numpy()
    np.testing.assert_allclose(out["ratio"][ok], (out["model"] / out["published"])[ok])
    assert table["source_key"].notna().all() and table["comment"].notna().all()
    assert table["scope"].notna().all()


def test_values_units_factors_regions_and_growth(base):
    magnets = base["in_use_stock"].sel(product=list(MAGNET_PRODUCTS))
    new = base["nd_in_new_products"]
    table = pd.DataFrame([
        _row(measure="in_use_stock_magnets", year=2007, value=50.0, unit="kt", low=40, high=60),
        _row(measure="nd_in_new_products_magnets", region="Europe", value=2.0, factor=0.5,
             unit="kt/yr"),
        _row(measure="growth_nd_in_new_products", region="China", year=2017, base_year=2000,
             value=20.0, unit="1"),
        _row(measure="eol_recycling_rate", value=0.0, unit="1"),
        _row(measure=np.nan, value=7.0, unit="kt/yr"),
    ])
    out = compare_with_published(base, table)
    stock = float(magnets.sel(time=2007).sum()) / 1e3
    assert out["model"][0] == pytest.approx(stock, rel=1e-12)
    assert out["ratio"][0] == pytest.approx(stock / 50.0, rel=1e-12)
    assert out["in_range"][0] == (40 <= stock <= 60)
    eu = float(new.sel(product=list(MAGNET_PRODUCTS), region="Europe", time=2010).sum()) / 1e3
    assert out["published"][1] == 1.0 and out["model"][1] == pytest.approx(eu, rel=1e-12)
    china = new.sel(region="China").sum("product")
    growth = float(china.sel(time=2017) / china.sel(time=2000))
    assert out["model"][2] == pytest.approx(growth, rel=1e-12)
    assert math.isnan(out["ratio"][3])                    # published 0: no ratio
    assert math.isnan(out["model"][4]) and out["in_range"][4] is None


def test_bad_tables_name_the_row(tmp_path, base):
    good = pd.read_csv(TABLE)
    bad = good.copy()
    bad.loc[3, "measure"] = "stock_of_everything"
    path = tmp_path / "t.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(MfaError, match=r"t\.csv, row 5 .*unknown measure 'stock_of_everything'"):
        read_comparison_table(path)
    good.drop(columns="factor").to_csv(path, index=False)
    with pytest.raises(MfaError, match=r"missing \['factor'\]"):
        read_comparison_table(path)
    growth = good.copy()
    i = int(np.flatnonzero(growth["measure"] == "growth_nd_in_new_products")[0])
    growth.loc[i, "base_year"] = np.nan
    growth.to_csv(path, index=False)
    with pytest.raises(MfaError, match=f"row {i + 2} .*needs a base_year"):
        read_comparison_table(path)
    with pytest.raises(MfaError, match="region 'Atlantis'"):
        compare_with_published(base, pd.DataFrame([_row(measure="eol_outflow", region="Atlantis")]))
    with pytest.raises(MfaError, match="world total; region 'Japan'"):
        compare_with_published(base, pd.DataFrame([_row(measure="eol_recycling_rate",
                                                        region="Japan", unit="1")]))
    with pytest.raises(MfaError, match=r"do not cover \[2100\]"):
        compare_with_published(base, pd.DataFrame([_row(measure="eol_outflow", year=2100,
                                                        unit="t/yr")]))
    with pytest.raises(UnitError):
        compare_with_published(base, pd.DataFrame([_row(measure="eol_outflow", unit="kt")]))


def test_every_measure_reads_the_results(base):
    for name, (unit, _, series) in MEASURES.items():
        da = series(base)
        assert "time" in da.dims and unit in ("t", "t/yr", "1"), name
        assert set(da.dims) <= {"time", "region"}, name
        assert np.isfinite(da.sel(time=slice(2000, 2050)).values).all(), name
