"""Grouped Sobol indices (mfa.analysis.uncertainty, ``groups=``), the Nd default grouping
(mfa.models.neodymium.sensitivity) and ``mfa sensitivity --groups``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mfa.analysis import uncertainty as U
from mfa.analysis.uncertainty import UncertaintyError
from mfa.cli import main
from mfa.data.params import load_parameters
from mfa.data.scenarios import apply_scenario
from mfa.models.neodymium.sensitivity import group_of, sensitivity_groups

NAMES = ["x0", "x1", "x2", "x3"]


def _additive(U_: np.ndarray) -> np.ndarray:
    return U_[:, 0] + U_[:, 1] + 2 * U_[:, 2]


def test_grouped_indices_of_an_additive_function():
    """y = x0 + x1 + 2 x2 + 0 x3, uniform inputs: Var = (1 + 1 + 4) / 12, so the group
    {x0, x1} explains 1/3, {x2} 2/3, {x3} nothing; additive, so S1 = ST."""
    groups = {"first two": ["x0", "x1"], "x2": ["x2"], "idle": ["x3"]}
    seen = []

    def f(U_):
        seen.append(U_.shape)
        return _additive(U_)

    si = U.sobol_indices(f, NAMES, 1024, seed=1, n_bootstrap=50, groups=groups)
    assert seen == [(1024 * (3 + 2), 4)]  # n (G + 2) rows, all D columns
    assert si["parameter"].values.tolist() == ["first two", "x2", "idle"]
    assert si["members"].values.tolist() == ["x0, x1", "x2", "x3"]
    assert json.loads(si.attrs["groups"]) == groups
    np.testing.assert_allclose(si["S1"].values[0], [1 / 3, 2 / 3, 0], atol=0.03)
    np.testing.assert_allclose(si["ST"].values[0], [1 / 3, 2 / 3, 0], atol=0.03)
    assert (si["S1_conf"] < 0.1).all() and (si["ST_conf"] < 0.1).all()
    assert si.attrs["n_evaluations"] == 1024 * 5


def test_grouped_indices_of_a_product():
    """y = x0 x1 (uniform on [0, 1)): Var y = 7/144, Var E[y | x0] = 3/144, so S1 = 3/7 and
    ST = 4/7 each; as one group the two explain everything: 1."""
    def f(U_):
        return U_[:, 0] * U_[:, 1]

    si = U.sobol_indices(f, ["a", "b"], 2048, seed=2, n_bootstrap=20,
                         groups={"a": ["a"], "b": ["b"]})
    np.testing.assert_allclose(si["S1"].values[0], [3 / 7, 3 / 7], atol=0.03)
    np.testing.assert_allclose(si["ST"].values[0], [4 / 7, 4 / 7], atol=0.03)
    both = U.sobol_indices(f, ["a", "b"], 256, seed=2, n_bootstrap=20, groups={"ab": ["a", "b"]})
    np.testing.assert_allclose([both["S1"].item(), both["ST"].item()], [1.0, 1.0], atol=0.01)


def test_groups_of_one_are_the_ungrouped_design_bit_for_bit():
    plain = U.sobol_indices(_additive, NAMES, 64, seed=3, n_bootstrap=10)
    single = U.sobol_indices(_additive, NAMES, 64, seed=3, n_bootstrap=10,
                             groups={p: [p] for p in NAMES})
    for v in ("S1", "ST", "S1_conf", "ST_conf", "mean", "std"):
        np.testing.assert_array_equal(single[v].values, plain[v].values)
    assert "members" not in plain.coords and "groups" not in plain.attrs


@pytest.mark.parametrize("groups, message", [
    ({"g": ["x0", "x1", "x2", "x3", "x9"]},
     "bad sensitivity groups: not uncertain parameters (no low/high range, or not among the "
     "factors): 'x9'"),
    ({"g": ["x0", "x1", "x2"], "h": ["x2", "x3"]},
     "bad sensitivity groups: in more than one group: 'x2' (in 'g' and 'h')"),
    ({"g": ["x0", "x1"]}, "bad sensitivity groups: in no group: 'x2', 'x3'"),
    ({"g": ["x0", "x1", "x2", "x3"], "empty": []},
     "group 'empty' must be a non-empty list of parameter names, got []"),
    ({"g": "x0"}, "group 'g' must be a non-empty list of parameter names, got 'x0'"),
    ({}, "groups must be a non-empty mapping group -> parameter names, got {}"),
])
def test_bad_groups_are_named(groups, message):
    with pytest.raises(UncertaintyError) as err:
        U.sobol_indices(_additive, NAMES, 8, groups=groups)
    assert str(err.value) == message


def test_nd_default_groups(params):
    expect = {"collection_rate": "recycling", "recycling_yield": "recycling",
              "new_scrap_recycling_rate": "recycling", "recycling_capacity": "recycling",
              "lifetime_mean": "lifetimes", "hibernation_time": "lifetimes",
              "wind_additions": "EV and wind deployment", "ev_sales": "EV and wind deployment",
              "ev_fleet": "EV and wind deployment", "pm_share": "motor and generator technology",
              "magnet_per_vehicle": "magnet intensity", "nd_share_in_magnet": "magnet intensity",
              "end_use_activity": "other end uses", "yield_mining": "supply-chain yields and losses",
              "a_new_parameter": "a_new_parameter"}
    assert {n: group_of(n) for n in expect} == expect
    names = U.uncertain_parameters(apply_scenario(params, "baseline"))
    grouped = sensitivity_groups([*names, "a_new_parameter"])
    # nothing dropped: every parameter in exactly one group, a new one under its own name
    assert sorted(p for ps in grouped.values() for p in ps) == sorted([*names, "a_new_parameter"])
    assert grouped["a_new_parameter"] == ["a_new_parameter"]
    assert len(grouped) < len(names)


@pytest.fixture(scope="module")
def params():
    return load_parameters()


def test_model_sensitivity_with_the_model_groups(params):
    factors = ["magnet_per_vehicle", "nd_share_in_magnet", "yield_metal", "collection_rate"]
    kw = {"scenario": None, "seed": 0, "factors": factors, "years": [2050],
          "outputs": ["primary_demand"], "scheduler": "numpy", "n_bootstrap": 10}
    si = U.sensitivity("neodymium", params, 8, groups="model", **kw)
    assert si["ST"].dims == ("output", "year", "parameter")
    assert si["parameter"].values.tolist() == ["magnet intensity",
                                               "supply-chain yields and losses", "recycling"]
    assert si["members"].values.tolist() == ["magnet_per_vehicle, nd_share_in_magnet",
                                             "yield_metal", "collection_rate"]
    assert si.attrs["n_evaluations"] == 8 * (3 + 2)
    # the same groups given as a mapping: the same numbers
    mapping = json.loads(si.attrs["groups"])
    again = U.sensitivity("neodymium", params, 8, groups=mapping, **kw)
    np.testing.assert_array_equal(again["ST"].values, si["ST"].values)
    with pytest.raises(UncertaintyError, match=r"in no group: 'collection_rate'"):
        U.sensitivity("neodymium", params, 8, groups={"m": factors[:3]}, **kw)
    with pytest.raises(UncertaintyError, match="'model', got 'modle'"):
        U.sensitivity("neodymium", params, 8, groups="modle", **kw)


def test_model_without_default_groups():
    class Bare:
        name = "bare"

    with pytest.raises(UncertaintyError, match="model 'bare' has no default sensitivity groups"):
        U.model_groups(Bare(), ["a"])


# ------------------------------------------------------------------------------ command line
CLI = ["sensitivity", "--samples", "2", "--years", "2050", "--outputs", "primary_demand",
       "--scheduler", "numpy", "--no-progress",
       "--factors", "magnet_per_vehicle,nd_share_in_magnet,yield_metal"]


def test_cli_groups_model_and_file(tmp_path, capsys):
    assert main([*CLI, "--groups", "model"]) == 0
    out = capsys.readouterr()
    assert "2 base samples x (2 groups + 2)" in out.err + out.out
    assert "magnet intensity: magnet_per_vehicle, nd_share_in_magnet" in out.out
    toml = tmp_path / "groups.toml"
    toml.write_text('magnets = ["magnet_per_vehicle", "nd_share_in_magnet"]\n'
                    'metal = ["yield_metal"]\n')
    nc = tmp_path / "si.nc"
    assert main([*CLI, "--groups", str(toml), "--out", str(nc)]) == 0
    assert "  magnets: magnet_per_vehicle, nd_share_in_magnet" in capsys.readouterr().out
    import xarray as xr

    with xr.open_dataset(nc) as ds:
        assert ds["parameter"].values.tolist() == ["magnets", "metal"]
        assert json.loads(ds.attrs["groups"])["metal"] == ["yield_metal"]


@pytest.mark.parametrize("content, message", [
    (None, "--groups {path}: no such file (expected 'model' or a TOML file with lines "
           "group = [\"parameter\", ...])"),
    ("a = [\n", "--groups {path}: not valid TOML: "),
    ('a = ["magnet_per_vehicle", "nd_share_in_magnet", "yield_metal", "nope"]\n',
     "--groups {path}: bad sensitivity groups: not uncertain parameters (no low/high range, "
     "or not among the factors): 'nope'"),
    ('a = ["magnet_per_vehicle", "yield_metal"]\nb = ["yield_metal", "nd_share_in_magnet"]\n',
     "--groups {path}: bad sensitivity groups: in more than one group: 'yield_metal' "
     "(in 'a' and 'b')"),
    ('a = "magnet_per_vehicle"\n', "--groups {path}: group 'a' must be a non-empty list"),
])
def test_cli_bad_groups_one_line_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "groups.toml"
    if content is not None:
        path.write_text(content)
    nc = tmp_path / "si.nc"
    assert main([*CLI, "--groups", str(path), "--out", str(nc)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mfa: error: " + message.format(path=path))
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not nc.exists()


def test_one_factor_and_one_output():
    """One input (or one group) and one output: scipy returns a bare number there; the indices
    are still an array (was a TypeError inside scipy). y = x explains itself: S1 = ST = 1."""
    si = U.sobol_indices(lambda u: 3 * u[:, 0], ["x"], 256, seed=4, n_bootstrap=10)
    assert si["S1"].shape == (1, 1)
    np.testing.assert_allclose([si["S1"].item(), si["ST"].item()], [1.0, 1.0], atol=0.02)
def test_sensitivity_mean_and_std_carry_each_outputs_units():
    """A stock is in t, a flow in t/yr: the indices' mean and std say which (was t/yr for all)."""
    from mfa.analysis.uncertainty import sensitivity
    si = sensitivity("neodymium", None, 4, outputs=["in_use_stock", "primary_demand"],
                     years=[2030], factors=["lifetime_mean"], n_bootstrap=10)
    assert si["output_units"].values.tolist() == ["t", "t/yr"]
    assert "units" not in si["mean"].attrs
    one = sensitivity("neodymium", None, 4, outputs=["in_use_stock"], years=[2030],
                      factors=["lifetime_mean"], n_bootstrap=10)
    assert one["mean"].attrs["units"] == "t"
