"""pyam-ready IAMC tables (issue 12, item 2): readable hierarchical names, parents that equal the
sum of their children, diagnostics in their own table, Excel with sheets ``data`` and ``meta``.

pyam itself is not a test dependency (pyam-iamc 3.3 pulls in 54 packages, ~140 MB, and does not
import with SQLAlchemy 2.1), so the tests apply its two rules directly: ``check_aggregate``
(a variable equals the sum of its direct sub-variables) and ``check_aggregate_region`` (World
equals the sum of the regions), both with numpy.isclose's default tolerances as pyam uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mfa.core.errors import MfaError
from mfa.io.iamc import IAMC_COLUMNS, iamc_diagnostics, to_iamc, write_iamc
from mfa.models import neodymium as nd
from mfa.models.neodymium.structure import IAMC_NAMES


@pytest.fixture(scope="module")
def baseline() -> xr.Dataset:
    return nd.run()


@pytest.fixture(scope="module")
def table(baseline) -> pd.DataFrame:
    return to_iamc(baseline)


def _long(table: pd.DataFrame) -> pd.Series:
    years = [c for c in table.columns if c not in IAMC_COLUMNS]
    return table.set_index(["Region", "Variable"])[years].stack()


def aggregate_failures(table: pd.DataFrame) -> list[str]:
    """pyam's check_aggregate for every variable that has sub-variables: what fails."""
    values = _long(table)
    variables = set(table["Variable"])
    bad = []
    for parent in sorted(variables):
        depth = parent.count("|") + 1
        children = [v for v in variables if v.startswith(parent + "|") and v.count("|") == depth]
        if not children:
            continue
        total = values[values.index.get_level_values("Variable").isin(children)]
        total = total.groupby(level=[0, 2]).sum()
        own = values.xs(parent, level="Variable").reindex(total.index)
        if not np.isclose(own, total).all():
            bad.append(parent)
    return bad


def region_failures(table: pd.DataFrame) -> list[str]:
    """pyam's check_aggregate_region (World = sum of the other regions): what fails."""
    bad = []
    for variable, rows in table.groupby("Variable"):
        regions = rows.set_index("Region").drop(columns=["Model", "Scenario", "Variable", "Unit"])
        if "World" in regions.index and len(regions) > 1:
            if not np.isclose(regions.drop("World").sum(), regions.loc["World"]).all():
                bad.append(variable)
    return bad


def test_readable_hierarchical_names(table):
    assert list(table.columns[:5]) == IAMC_COLUMNS
    assert set(table["Model"]) == {"neodymium"} and set(table["Scenario"]) == {"baseline"}
    names = {f"Nd|{n}" for n in IAMC_NAMES.values()}
    for variable in set(table["Variable"]):
        assert any(variable == n or variable.startswith(n + "|") for n in names), variable
    assert {"Nd|Demand", "Nd|Primary Demand", "Nd|Stock|In Use", "Nd|Stock|In Use|ev_bev",
            "Nd|Secondary Supply|end_of_life"} <= set(table["Variable"])
    assert set(table["Region"]) == {"China", "Japan", "Rest of Asia", "Europe", "North America",
                                    "Rest of World", "World"}


def test_parents_equal_the_sum_of_their_children(baseline, table):
    assert aggregate_failures(table) == []
    assert region_failures(table) == []
    parents = {"Nd|Stock|In Use", "Nd|Inflow to Use", "Nd|Outflow from Use|End of Life",
               "Nd|Secondary Supply"}
    assert parents <= set(table["Variable"])  # the totals are there (the issue: NaN before)
    stock = table.set_index(["Region", "Variable"])[2050]
    assert stock["World", "Nd|Stock|In Use"] == pytest.approx(
        float(baseline["in_use_stock"].sel(time=2050).sum()))


def test_the_checks_catch_a_wrong_total(table):
    wrong = table.copy()
    row = (wrong["Variable"] == "Nd|Stock|In Use") & (wrong["Region"] == "Japan")
    wrong.loc[row, 2030] *= 1.01
    assert aggregate_failures(wrong) == ["Nd|Stock|In Use"]
    assert region_failures(wrong) == ["Nd|Stock|In Use"]


def test_non_additive_variables_get_no_totals(baseline, table):
    rate = table[table["Variable"].str.startswith("Nd|Recycling Input Rate")]
    # by source of scrap, world only, no parent total (rates do not add up as flows do)
    assert set(rate["Region"]) == {"World"} and set(rate["Unit"]) == {"1"}
    assert set(rate["Variable"]) == {f"Nd|Recycling Input Rate|{s}"
                                     for s in baseline["source"].values}
    ds = baseline[["production_share"]].copy()
    ds["production_share"].attrs["iamc_variable"] = "Share"
    shares = to_iamc(ds.assign_attrs(material="Nd"))
    assert "World" not in set(shares["Region"]) and "Nd|Share" not in set(shares["Variable"])
    assert set(shares["Variable"]) == {f"Nd|Share|{s}" for s in baseline["stage"].values}


def test_diagnostics_are_a_separate_table(baseline, table):
    diagnostics = iamc_diagnostics(baseline)
    assert list(diagnostics.columns) == list(table.columns)
    assert not set(diagnostics["Variable"]) & set(table["Variable"])
    assert all(v.startswith("Nd|Diagnostics|") for v in diagnostics["Variable"])
    for name in ("mass_balance_residual", "hhi", "production_share", "import_reliance",
                 "flow_mined"):
        assert diagnostics["Variable"].str.startswith(f"Nd|Diagnostics|{name}").any(), name
        assert not table["Variable"].str.contains(name).any()
    # every variable by year is in exactly one of the two tables
    named = {n for n in baseline.data_vars if baseline[n].attrs.get("iamc_variable")}
    others = {n for n in baseline.data_vars if n not in named}
    listed = {v.split("|")[2] for v in diagnostics["Variable"]}
    assert listed == others
    residual = diagnostics[diagnostics["Variable"] == "Nd|Diagnostics|mass_balance_residual|use"]
    assert "World" not in set(residual["Region"])  # no totals of residuals


def test_excel_has_sheets_data_and_meta(baseline, table, tmp_path):
    path = write_iamc(baseline, tmp_path / "x.xlsx")
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["data", "meta"]
    pd.testing.assert_frame_equal(sheets["data"], table, check_dtype=False)
    meta = sheets["meta"]
    assert list(meta.columns[:3]) == ["model", "scenario", "exclude"]
    assert meta.loc[0, "model"] == "neodymium" and meta.loc[0, "scenario"] == "baseline"
    assert not meta.loc[0, "exclude"]
    assert meta.loc[0, "scenario_sha256"] == baseline.attrs["scenario_sha256"]


def test_csv_and_diagnostics_files(baseline, tmp_path):
    data = pd.read_csv(write_iamc(baseline, tmp_path / "x.csv"))
    assert list(data.columns[:5]) == IAMC_COLUMNS and len(data) == len(to_iamc(baseline))
    diagnostics = pd.read_csv(write_iamc(baseline, tmp_path / "d.csv", diagnostics=True))
    assert diagnostics["Variable"].str.startswith("Nd|Diagnostics|").all()
    with pytest.raises(MfaError, match=r"as \.csv or \.xlsx, not '\.txt'"):
        write_iamc(baseline, tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


def test_a_model_without_iamc_names_puts_everything_in_the_data_table():
    ds = xr.Dataset({"stock": (("time", "region"), np.ones((2, 2)), {"units": "t"})},
                    coords={"time": [2000, 2001], "region": ["a", "b"]},
                    attrs={"material": "Cu", "model": "copper"})
    table = to_iamc(ds)
    assert set(table["Variable"]) == {"Cu|Stock"} and set(table["Region"]) == {"a", "b", "World"}
    assert iamc_diagnostics(ds).empty


def test_variables_asked_for_that_the_model_does_not_name_get_no_totals(baseline):
    table = to_iamc(baseline, variables=["production"])  # a sum over stages means nothing
    assert "Nd|Production" not in set(table["Variable"]) and "World" not in set(table["Region"])
    assert set(table["Variable"]) == {f"Nd|Production|{s}" for s in baseline["stage"].values}
