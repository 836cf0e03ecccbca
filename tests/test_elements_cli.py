"""The element model from the command line: element scenarios by name or path, errors for
unknown names and bad files (exit 2, one line), and composition ranges in its Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import mfa.models
from mfa.analysis.run import prepare
from mfa.cli import main
from mfa.io.netcdf import read_results
from mfa.models.neodymium.elements import run_elements
from mfa.models.neodymium.magnet_rees import MODEL as MAGNET_REES
from mfa.models.neodymium.magnet_rees import MagnetReesModel


@pytest.fixture(autouse=True)
def _registered():
    if "magnet_rees" not in mfa.models.available():  # an install older than the entry point
        mfa.models.register(MAGNET_REES)


@pytest.mark.parametrize("scenario", ["hre-free-magnets", "ionic-clay-shock"])
def test_element_scenario_by_name_equals_run_elements(tmp_path, capsys, scenario):
    out = tmp_path / "r.nc"
    assert main(["--model", "magnet_rees", "run", "--scenario", scenario, "--out",
                 str(out)]) == 0
    assert f"scenario {scenario}" in capsys.readouterr().out
    ds = read_results(out)
    ref = run_elements(scenario)
    assert ds.attrs["scenario"] == scenario
    for v in ("primary_demand", "ore_mined_treo", "flow_coproduct_surplus"):
        np.testing.assert_allclose(ds[v].values, ref[v].values, rtol=1e-12)
    # the element scenario is applied, not just its Nd scenario
    base = MAGNET_REES.simulate(prepare(MAGNET_REES, "baseline")[1].values)
    changed = "primary_demand" if scenario == "hre-free-magnets" else "ore_mined_treo"
    assert not np.allclose(ds[changed].sel(time=2040).values,
                           base[changed].sel(time=2040).values)


def test_element_scenario_file_path_and_provenance(tmp_path):
    path = tmp_path / "no-dy-in-ev.toml"
    path.write_text('description = "test"\nnd_scenario = "baseline"\n\n[[composition]]\n'
                    'elements = ["Dy"]\napplications = ["ev_traction"]\nstart = 2030\n'
                    'end = 2030\nfactor = 0.0\n', encoding="utf-8")
    scen = MAGNET_REES.load_scenario(str(path))
    assert scen.name == "no-dy-in-ev" and scen.base == "baseline"
    assert [s.name for s in scen.chain()] == ["baseline", "no-dy-in-ev"]
    out = tmp_path / "r.nc"
    assert main(["--model", "magnet_rees", "run", "--scenario", str(path), "--out",
                 str(out), "-q"]) == 0
    ds = read_results(out)
    assert "no-dy-in-ev.toml" in ds.attrs["scenario_files"]
    comp = ds["magnet_composition"].sel(application="ev_traction", element="Dy")
    assert float(comp.sel(time=2035)) == 0.0 and float(comp.sel(time=2025)) > 0.0


def test_nd_scenario_without_element_form_still_runs():
    scen = MAGNET_REES.load_scenario("no-recycling")
    assert scen.name == "no-recycling" and not hasattr(scen, "value_attrs")


def test_unknown_scenario_is_one_error_line_listing_both_kinds(tmp_path, capsys):
    out = tmp_path / "r.nc"
    assert main(["--model", "magnet_rees", "run", "--scenario", "hre-free", "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mfa: error: unknown scenario 'hre-free'")
    assert "element scenarios (model magnet_rees): high-recycling, hre-free-magnets, " \
           "ionic-clay-shock, net-zero" in err
    assert not out.exists()


def test_bad_element_scenario_file_is_one_error_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('nd_scenario = "baseline"\nbogus = 1\n', encoding="utf-8")
    out = tmp_path / "r.nc"
    assert main(["--model", "magnet_rees", "run", "--scenario", str(path), "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"mfa: error: {path}: unknown keys ['bogus'] (allowed: ['composition', "
                   "'description', 'mine_output', 'nd_scenario'])\n")
    assert not out.exists()


def test_element_scenario_with_unknown_nd_scenario(tmp_path, capsys):
    path = tmp_path / "orphan.toml"
    path.write_text('nd_scenario = "no-such-nd"\n', encoding="utf-8")
    assert main(["--model", "magnet_rees", "run", "--scenario", str(path), "--out",
                 str(tmp_path / "r.nc")]) == 2
    assert capsys.readouterr().err.startswith("mfa: error: unknown scenario 'no-such-nd'")


def test_nd_model_does_not_see_element_scenarios(tmp_path, capsys):
    assert main(["run", "--scenario", "hre-free-magnets", "--out",
                 str(tmp_path / "r.nc")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mfa: error: unknown scenario 'hre-free-magnets'")
    assert "element scenarios" not in err


# -- composition ranges in the Monte Carlo ---------------------------------------------------

@pytest.fixture(scope="module")
def extended():
    return prepare(MAGNET_REES, "baseline")[1]


def test_composition_parameters_carry_the_csv_ranges(extended):
    from mfa.analysis.uncertainty import uncertain_parameters
    from mfa.models.neodymium.element_data import load_element_data
    from mfa.models.neodymium.elements import COMPOSITION_FACTORS

    data = load_element_data()
    names = uncertain_parameters(extended)
    assert [n for n in names if n.startswith("magnet_")][-3:] == list(COMPOSITION_FACTORS.values())
    for element, var in COMPOSITION_FACTORS.items():
        for key, table in (("values", data.composition), ("low", data.composition_low),
                           ("high", data.composition_high)):
            got = getattr(extended, key)[var].sel(application="ev_traction", time=2020)
            want = table.sel(application="ev_traction", element=element, year=2020)
            assert float(got) == pytest.approx(float(want), rel=1e-12)
    assert extended.values["magnet_dy_content"].attrs["units"] == "1"
    assert "nd" not in {v.split("_")[1] for v in COMPOSITION_FACTORS.values()}


def test_sampled_dy_content_scales_dy_flows_only(extended):
    values = extended.values
    dy = values["magnet_dy_content"]
    sample = xr.DataArray([1.0, 2.0], dims="sample", coords={"sample": [0, 1]})
    vals = values.assign(magnet_dy_content=(dy * sample).assign_attrs(dy.attrs))
    ds = MAGNET_REES.simulate(vals)
    demand = ds["total_demand"]
    np.testing.assert_allclose(demand.sel(element="Dy", sample=1).values,
                               2 * demand.sel(element="Dy", sample=0).values, rtol=1e-12)
    for e in ("Nd", "Pr", "Tb"):
        np.testing.assert_allclose(demand.sel(element=e, sample=1).values,
                                   demand.sel(element=e, sample=0).values, rtol=1e-12)
    ref = MAGNET_REES.simulate(values)  # the central values are the data: results unchanged
    np.testing.assert_allclose(demand.sel(sample=0).values, ref["total_demand"].values,
                               rtol=1e-12)


def test_monte_carlo_samples_composition_seeded(tmp_path, capsys):
    from mfa.analysis.uncertainty import monte_carlo

    kw = dict(scenario="hre-free-magnets", seed=11, scheduler="numpy",
              factors=["magnet_dy_content"], variables=["total_demand", "magnet_composition"])
    a = monte_carlo(MAGNET_REES, None, 16, **kw)
    b = monte_carlo(MAGNET_REES, None, 16, **kw)
    xr.testing.assert_identical(a["total_demand"], b["total_demand"])
    q = a["total_demand"].sel(time=2024)
    assert float(q.sel(element="Dy").max() - q.sel(element="Dy").min()) > 0
    assert float(q.sel(element="Nd").max() - q.sel(element="Nd").min()) == 0
    # the element scenario holds in every sample: its ramps multiply the sampled contents
    comp = a["magnet_composition"].sel(application="ev_traction", element="Dy")
    assert float(comp.sel(time=2020).min()) > 0 and float(comp.sel(time=2040).max()) == 0
    out = tmp_path / "mc.nc"
    assert main(["--model", "magnet_rees", "mc", "--samples", "8", "--seed", "2",
                 "--scheduler", "numpy", "--scenario", "ionic-clay-shock", "--out", str(out),
                 "-q"]) == 0
    assert "magnet_dy_content" in read_results(out).attrs["mc_factors"]


# -- figures with an element selector --------------------------------------------------------

@pytest.fixture(scope="module")
def rees_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("rees") / "rees.nc"
    assert main(["--model", "magnet_rees", "run", "--scenario", "hre-free-magnets", "--out",
                 str(out), "-q"]) == 0
    return out


def test_element_figure_draws_the_selected_elements_and_groups(rees_file):
    import matplotlib.pyplot as plt

    from mfa.models.neodymium.element_figures import element_indicators

    ds = read_results(rees_file)
    fig = element_indicators(ds, elements=["Dy", "NdPr"])
    data = fig.plotted_data
    assert sorted(k for k in data if k != "time") == [
        "demand/Dy", "demand/NdPr", "primary/Dy", "primary/NdPr", "share/Dy", "share/NdPr"]
    demand = ds["total_demand"]
    np.testing.assert_allclose(data["demand/NdPr"], (demand.sel(element="Nd")
                                                     + demand.sel(element="Pr")).values)
    np.testing.assert_allclose(data["primary/Dy"],
                               ds["primary_demand"].sel(element="Dy").sum("region").values)
    np.testing.assert_allclose(data["share/Dy"], 100 * ds["mine_production_share"].sel(
        region="China", mined_element="Dy").values)
    plt.close(fig)


def test_element_figure_unknown_label():
    from mfa.core.errors import MfaError
    from mfa.models.neodymium.element_figures import element_indicators

    ds = MAGNET_REES.simulate(prepare(MAGNET_REES, "baseline")[1].values)
    with pytest.raises(MfaError, match=r"unknown element\(s\) or group\(s\) \['Ho'\]; expected "
                                       r"some of \['Nd', 'Pr', 'Dy', 'Tb', 'NdPr', 'Magnet REE'\]"):
        element_indicators(ds, elements=["Ho"])


def test_mfa_plot_element_selector(rees_file, tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["--model", "magnet_rees", "plot", str(rees_file), "--element", "Tb",
                 "--element", "Magnet REE", "--out-dir", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["element_indicators.png"]
    bad = tmp_path / "bad"
    assert main(["plot", str(rees_file), "--element", "Xx", "--out-dir", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown element(s) or group(s) ['Xx']" in err
    assert not bad.exists()


def test_mfa_plot_element_selector_refused_for_the_nd_model(tmp_path, capsys):
    nd = tmp_path / "nd.nc"
    assert main(["run", "--out", str(nd), "-q"]) == 0
    capsys.readouterr()
    assert main(["plot", str(nd), "--element", "Dy", "--out-dir", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert err == ("mfa: error: --element: the figures of model 'neodymium' have no element "
                   "selector (the element model's do: --model magnet_rees)\n")


def test_run_plots_draws_the_element_figures(tmp_path):
    plots = tmp_path / "plots"
    assert main(["--model", "magnet_rees", "run", "--scenario", "net-zero", "--out",
                 str(tmp_path / "r.nc"), "--plots", str(plots), "-q"]) == 0
    assert sorted(p.name for p in plots.iterdir()) == ["element_indicators.png"]


# -- Monte Carlo defaults of the element model: headline variables, chunk 100 ----------------

def test_monte_carlo_keeps_the_models_variables_and_chunk_by_default():
    from mfa.analysis.uncertainty import monte_carlo

    kw = dict(scenario="baseline", seed=3, scheduler="numpy", factors=["magnet_dy_content"])
    assert MAGNET_REES.mc_chunk == 200
    model = MagnetReesModel()
    model.mc_chunk = 3  # the model's chunk is used (200 would be min(200, n) = n)
    default = monte_carlo(model, None, 4, **kw)
    assert default.attrs["mc_chunk"] == 3
    kept = [v for v in default.data_vars if "quantile" in default[v].dims
            and not v.startswith("world_")]
    assert sorted(kept) == sorted(MAGNET_REES.mc_variables)
    every = monte_carlo(model, None, 4, chunk=2, variables="all", **kw)
    assert every.attrs["mc_chunk"] == 2
    assert "magnet_composition" in every and "magnet_composition" not in default
    for v in MAGNET_REES.mc_variables:  # the same numbers, whatever is kept and the chunk
        xr.testing.assert_identical(default[v], every[v])
    xr.testing.assert_identical(default["sample_world_primary_demand"],
                                every["sample_world_primary_demand"])


def test_monte_carlo_variables_must_be_names_or_all():
    from mfa.analysis.uncertainty import UncertaintyError, monte_carlo

    with pytest.raises(UncertaintyError) as err:
        monte_carlo(MAGNET_REES, None, 4, variables="total_demand")
    assert str(err.value) == ("variables must be a sequence of result variable names or 'all', "
                              "got 'total_demand'")


def test_mc_variables_option(tmp_path, capsys):
    out = tmp_path / "mc.nc"
    argv = ["--model", "magnet_rees", "mc", "--samples", "2", "--scheduler", "numpy",
            "--factors", "magnet_dy_content", "--out", str(out), "-q"]
    assert main([*argv, "--variables", "total_demand, ore_mined_treo"]) == 0
    ds = read_results(out)
    assert "total_demand" in ds and "ore_mined_treo" in ds and "primary_demand" not in ds
    out.unlink()
    assert main([*argv, "--variables", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mfa: error: unknown result variable(s) ['nonsense']; known: [")
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--variables", " , "])
    assert exit_.value.code == 2
    assert ("argument --variables: expected result variable names or 'all', got ' , '"
            in capsys.readouterr().err)


def test_mc_default_variables_of_the_nd_model_are_all(tmp_path):
    from mfa.analysis.uncertainty import monte_carlo
    from mfa.models.neodymium import MODEL as ND

    assert getattr(ND, "mc_variables", None) is None and getattr(ND, "mc_chunk", None) is None
    ds = monte_carlo(ND, None, 2, seed=1, scheduler="numpy", factors=["lifetime_mean"])
    assert ds.attrs["mc_chunk"] == 2  # min(250, n)
    assert "flow_collection" in ds or len([v for v in ds.data_vars
                                           if "quantile" in ds[v].dims]) > 20


def test_element_data_read_again_when_a_file_changes(tmp_path):
    import os
    import shutil

    from mfa.models.neodymium.element_data import default_elements_dir

    target = tmp_path / "params"
    target.mkdir()
    shutil.copy(default_elements_dir().parent / "sources.csv", target / "sources.csv")
    shutil.copytree(default_elements_dir(), target / "elements")
    from mfa.models.neodymium import MODEL as ND

    model = MagnetReesModel(target / "elements")
    values = prepare(ND, "baseline")[1].values  # no sampled contents: the file's are used
    first = model.simulate(values)["total_demand"].sel(element="Dy")
    xr.testing.assert_identical(model.simulate(values)["total_demand"].sel(element="Dy"), first)
    comp = target / "elements" / "composition.csv"
    st = comp.stat()
    text = comp.read_bytes()
    assert b"ev_traction,Dy,2010,7.5," in text
    comp.write_bytes(text.replace(b"ev_traction,Dy,2010,7.5,", b"ev_traction,Dy,2010,9.5,"))
    assert comp.stat().st_size == st.st_size  # same size: the modification time tells
    os.utime(comp, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    again = model.simulate(values)["total_demand"].sel(element="Dy")
    assert float((again - first).sel(time=2012)) > 0  # the new Dy content is read
