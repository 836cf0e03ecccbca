"""Element-specific processing (params/elements/processing.csv): Dy/Tb grain-boundary diffusion
sources, separation loss by element, bad input, and the measured Dy conflict (modelled Dy
requirement against real Dy2O3 output)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from mfa.analysis.run import prepare
from mfa.core.errors import MassBalanceError, ParameterError
from mfa.models.neodymium import MODEL
from mfa.models.neodymium.element_data import default_elements_dir, load_element_data
from mfa.models.neodymium.element_processing import (
    DIFFUSION_FLOWS,
    element_process_system,
    split_check_system,
)
from mfa.models.neodymium.elements import (
    interpolate_composition,
    oxide_factor,
    simulate_elements,
)
from mfa.models.neodymium.structure import FLOWS, MAGNET_PRODUCTS, SIGNED_FLOWS

STOCKS = ("in_use_stock", "hibernating_stock", "scrap_awaiting_recycling")


@pytest.fixture(scope="module")
def data():
    return load_element_data()


@pytest.fixture(scope="module")
def values():
    return prepare(MODEL, "baseline")[1].values


@pytest.fixture(scope="module")
def results(values, data):
    return simulate_elements(values, data)


def _with_gbd(data, share, utilisation):
    return dataclasses.replace(data, gbd_share=data.gbd_share * 0 + share,
                               diffusion_utilisation=data.diffusion_utilisation * 0
                               + utilisation)


def _world(ds, name, element):
    return ds[name].sel(element=element).sum("region")


# -- diffusion sources: a case by hand ---------------------------------------------------------

def test_diffusion_sources_by_hand(values, data):
    """Half of every magnet's Dy and Tb diffused from a source of which half ends in the
    magnet. With scrap rate s = 1/4 and M the element in magnets made: alloy (M/2)/(1 - s) =
    2M/3, its new scrap M/6, source D = (M/2)/(1/2) = M, lost L = M/2. Metal-stage output for
    magnets 5M/3 against 4M/3 without diffusion: the demand is 1.25 times as large, the new
    scrap recycled half as large (Dy and Tb have no non-magnet use)."""
    assert np.all(values["magnet_scrap_rate"].values == 0.25)
    gbd = simulate_elements(values, _with_gbd(data, 0.5, 0.5))
    bulk = simulate_elements(values, _with_gbd(data, 0.0, 0.5))
    for e in ("Dy", "Tb"):
        m = gbd["nd_in_new_products"].sel(element=e, product=list(MAGNET_PRODUCTS)).sum(
            ["region", "product"])
        assert float(m.sel(time=2024)) > 0
        np.testing.assert_allclose(_world(gbd, "flow_diffusion_source", e), m, rtol=1e-12)
        np.testing.assert_allclose(_world(gbd, "flow_diffusion_losses", e), m / 2, rtol=1e-12)
        np.testing.assert_allclose(_world(gbd, "flow_alloy_to_magnet", e), 2 * m / 3,
                                   rtol=1e-12)
        np.testing.assert_allclose(_world(gbd, "flow_new_scrap", e), m / 6, rtol=1e-12)
        on = m.values > 0
        np.testing.assert_allclose(gbd["total_demand"].sel(element=e).values[on],
                                   1.25 * bulk["total_demand"].sel(element=e).values[on],
                                   rtol=1e-12)
        np.testing.assert_allclose(gbd["new_scrap_recycled"].sel(element=e).values[on],
                                   0.5 * bulk["new_scrap_recycled"].sel(element=e).values[on],
                                   rtol=1e-12)
    # no diffusion: the flows are 0 and the chain is the one without the new flows
    assert float(abs(bulk["flow_diffusion_source"]).max()) == 0.0


def test_default_diffusion_source_2024_by_hand(values, data, results):
    """Dy diffused in 2024 from the gbd_share anchors (linear 2020-2030), world magnets by
    product and the utilisation 0.8 of processing.csv."""
    share_2024 = {"ev_traction": 0.3 + 0.4 * 0.1, "wind_pm_generator": 0.0,
                  "industrial_motors": 0.2 + 0.4 * 0.1, "electronics": 0.0,
                  "other_magnets": 0.0, "e_two_wheeler": 0.0}
    app = {"ev_bev": "ev_traction", "ev_phev": "ev_traction", "e_two_wheeler": "e_two_wheeler",
           "wind_onshore": "wind_pm_generator", "wind_offshore": "wind_pm_generator",
           "electronics": "electronics", "industrial_motors": "industrial_motors",
           "other_magnets": "other_magnets"}
    m = results["nd_in_new_products"].sel(element="Dy", time=2024).sum("region")
    diffused = sum(share_2024[app[p]] * float(m.sel(product=p)) for p in app)
    source = float(_world(results, "flow_diffusion_source", "Dy").sel(time=2024))
    assert source == pytest.approx(diffused / 0.8, rel=1e-12)
    lost = float(_world(results, "flow_diffusion_losses", "Dy").sel(time=2024))
    assert lost == pytest.approx(diffused / 0.8 * 0.2, rel=1e-12)


def test_nd_and_pr_have_no_diffusion_flows(results):
    for name in DIFFUSION_FLOWS:
        assert float(abs(results[name].sel(element=["Nd", "Pr"])).max()) == 0.0
        assert float(results[name].sel(element="Tb").sum()) > 0


def test_every_element_balances_with_the_diffusion_flows(results):
    system = element_process_system(("element",))
    names = [*FLOWS, *DIFFUSION_FLOWS, *STOCKS]
    system.check_balance({n: results[n] for n in names})
    for name in (*FLOWS, *DIFFUSION_FLOWS):
        if name not in SIGNED_FLOWS:
            assert float(results[name].min()) >= 0.0, name
    throughput = float(results["process_throughput"].max())
    assert float(abs(results["mass_balance_residual"]).max()) <= 1e-9 * throughput + 1e-6
    assert "metal" in results["process"].values
    # one tonne of Dy source lost without its source: the magnet process no longer balances
    tampered = {n: results[n] for n in names}
    tampered["flow_diffusion_losses"] = results["flow_diffusion_losses"].copy()
    tampered["flow_diffusion_losses"].loc[dict(element="Dy", time=2024, region="China")] += 1.0
    with pytest.raises(MassBalanceError, match="magnet"):
        system.check_balance(tampered)
    # the check a run makes after the split sees it too
    part = split_check_system(("element",))
    assert set(part.processes) == {"metal", "magnet", "recycling"}
    with pytest.raises(MassBalanceError, match="magnet"):
        part.check_balance({n: tampered[n] for n in [f.name for f in part.flows]
                            + [s.name for s in part.stocks]})
    part.check_balance({n: results[n] for n in [f.name for f in part.flows]
                        + [s.name for s in part.stocks]})


def test_a_run_checks_the_balance_after_the_split(values, data, monkeypatch):
    from mfa.models.neodymium import element_processing

    split = element_processing.split_diffusion_flows

    def leaky(ds, vals, world):
        out = split(ds, vals, world)
        out["flow_diffusion_losses"] = out["flow_diffusion_losses"] + 1.0
        return out

    monkeypatch.setattr(element_processing, "split_diffusion_flows", leaky)
    with pytest.raises(MassBalanceError, match="magnet"):
        simulate_elements(values, data)
    simulate_elements(values, data, check=False)  # no check: no error


def test_separation_loss_by_element(values, results):
    """Dy loses 0.65 and Tb 0.8 times Nd's share in separation (processing.csv)."""
    loss = 1.0 - values["yield_separation"]
    for e, ratio in (("Nd", 1.0), ("Pr", 1.0), ("Dy", 0.65), ("Tb", 0.8)):
        share = (_world(results, "flow_separation_losses", e)
                 / _world(results, "flow_concentrate", e)).sel(time=slice(2010, 2050))
        np.testing.assert_allclose(share, loss.sel(time=slice(2010, 2050)) * ratio, rtol=1e-9)


# -- bad input ---------------------------------------------------------------------------------

@pytest.fixture
def copy_dir(tmp_path):
    target = tmp_path / "params"
    target.mkdir()
    shutil.copy(default_elements_dir().parent / "sources.csv", target / "sources.csv")
    shutil.copytree(default_elements_dir(), target / "elements")
    return target / "elements"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("gbd_share,Dy,ev_traction,2010,0.1,", "gbd_share,Xx,ev_traction,2010,0.1,",
     r"processing.csv, line 2: column 'element' must be one of \['Dy', 'Tb'\], got 'Xx'"),
    ("gbd_share,Dy,ev_traction,2010,0.1,0,0.3,1,", "gbd_share,Dy,ev_traction,2010,1.5,0,1.5,1,",
     r"processing.csv, line 2: column 'value' must be in \[0.0, 1.0\], got 1.5"),
    ("gbd_share,Dy,ev_traction,2010,0.1,0,0.3,1,", "gbd_share,Dy,ev_traction,2010,0.1,0,0.3,,",
     r"processing.csv, line 2: unit must be '1', got ''"),
    ("gbd_share,Dy,ev_traction,2010,0.1,0,0.3,1,", "gbd_share,Dy,ev_traction,2010,0.1,0,0.3,%,",
     r"processing.csv, line 2: unit must be '1', got '%'"),
    ("gbd_share,Dy,ev_traction,2010,", "gbd_share,Dy,ev_tracton,2010,",
     r"processing.csv, line 2: column 'application' must be one of"),
    ("gbd_share,Dy,ev_traction,2010,", "gbd_shares,Dy,ev_traction,2010,",
     r"processing.csv, line 2: column 'parameter' must be one of \['gbd_share', "),
    ("separation_loss_ratio,Dy,,,", "separation_loss_ratio,Nd,,,",
     r"column 'element' must be one of \['Pr', 'Dy', 'Tb'\], got 'Nd'"),
    ("diffusion_utilisation,Dy,,,0.8,0.5,", "diffusion_utilisation,Dy,,,0.8,0,",
     r"diffusion_utilisation must be > 0"),
    ("diffusion_utilisation,Dy,,,", "diffusion_utilisation,Dy,ev_traction,,",
     r"diffusion_utilisation has no application \(leave it empty\)"),
    ("gbd_share,Dy,electronics,2010,0,0,0.2,1,", "gbd_share,Tb,electronics,2010,0,0,0.2,1,",
     r"duplicate row for \('gbd_share', 'electronics', 'Tb', 2010\)"),
    ("gbd_share,Dy,ev_traction,2010,0.1,0,0.3,", "gbd_share,Dy,ev_traction,2010,0.4,0,0.3,",
     r"line 2: low <= value <= high is violated"),
    (",1,assumption-gbd-share,", ",1,no-such-source,",
     r"processing.csv: source keys \['no-such-source'\]"),
])
def test_bad_processing_row_names_file_and_line(copy_dir, old, new, message):
    _edit(copy_dir / "processing.csv", old, new)
    with pytest.raises(ParameterError, match=message):
        load_element_data(copy_dir)


def test_missing_gbd_rows_and_file(copy_dir):
    path = copy_dir / "processing.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if not x.startswith("gbd_share,Dy,electronics")),
                    encoding="utf-8")
    with pytest.raises(ParameterError, match=r"no gbd_share row for \(application, element\) "
                                             r"\[\('electronics', 'Dy'\)\]"):
        load_element_data(copy_dir)
    path.unlink()
    with pytest.raises(ParameterError, match=r"processing\.csv: element data file not found"):
        load_element_data(copy_dir)


def test_loss_ratio_that_makes_a_yield_negative(copy_dir, values):
    _edit(copy_dir / "processing.csv", "separation_loss_ratio,Dy,,,0.65,0.51,1,",
          "separation_loss_ratio,Dy,,,20,0.51,20,")
    with pytest.raises(ParameterError, match=r"separation_loss_ratio makes yield_separation of "
                                             r"\['Dy'\] negative"):
        simulate_elements(values, load_element_data(copy_dir))


# -- the Dy conflict, measured (docs/tutorials/balance_problem.md) -----------------------------

#: Real Dy2O3 output in China, 2024 [t/yr]: SMM (monthly x 12) and Argus (research/elements
#: element_data.csv, ``oxide_production_China``).
DY2O3_2024 = {"SMM": 2580.0, "Argus": 3500.0}


def test_modelled_dy_requirement_against_real_dy2o3_output(values, data, results):
    """Pins the measured gap: the central magnet compositions need about 5.7 kt Dy2O3 of
    primary Dy in 2024, 1.6-2.2 times the reported output; the Dy contents at the low end of
    their cited ranges need about 2.2 kt, below it. A change that moves these is seen here."""
    def dy2o3(ds):
        return float(_world(ds, "primary_demand", "Dy").sel(time=2024)) * oxide_factor(
            "Dy", data)

    central = dy2o3(results)
    low_values = values.copy()
    low = interpolate_composition(data.composition_low, values["time"].values)
    low_values["magnet_dy_content"] = low.sel(element="Dy", drop=True).assign_attrs(units="1")
    low_end = dy2o3(simulate_elements(low_values, data))
    assert central == pytest.approx(5672, rel=2e-3)
    assert low_end == pytest.approx(2230, rel=2e-3)
    assert central / DY2O3_2024["SMM"] == pytest.approx(2.20, abs=0.01)
    assert central / DY2O3_2024["Argus"] == pytest.approx(1.62, abs=0.01)
    assert low_end < DY2O3_2024["SMM"] < DY2O3_2024["Argus"] < central
    assert str(results["binding_element"].sel(time=2024).values) == "Dy"


def test_bad_processing_file_from_the_command_line_is_one_error_line(tmp_path, capsys):
    import mfa.models
    from mfa.cli import main
    from mfa.models.neodymium.magnet_rees import MODEL as MAGNET_REES

    params = tmp_path / "params"
    shutil.copytree(default_elements_dir().parent, params)
    _edit(params / "elements" / "processing.csv", "diffusion_utilisation,Tb,,,0.8,",
          "diffusion_utilisation,Tb,,,1.8,")
    out = tmp_path / "r.nc"
    if "magnet_rees" not in mfa.models.available():  # an install older than the entry point
        mfa.models.register(MAGNET_REES)
    assert main(["--params", str(params), "--model", "magnet_rees", "run", "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mfa: error: ")
    assert "processing.csv, line 31: column 'value' must be in [0.0, 1.0], got 1.8" in err
    assert not out.exists()


# -- Monte Carlo: the processing ranges are sampled --------------------------------------------

@pytest.fixture(scope="module")
def extended():
    from mfa.models.neodymium.magnet_rees import MODEL as MAGNET_REES

    return prepare(MAGNET_REES, "baseline")[1]


def test_processing_parameters_carry_the_csv_ranges(extended, data):
    from mfa.analysis.uncertainty import uncertain_parameters
    from mfa.models.neodymium.element_processing import PROCESSING_FACTORS

    assert set(PROCESSING_FACTORS) <= set(uncertain_parameters(extended))
    tb = {k: float(getattr(extended, k)["gbd_share_tb"].sel(application="ev_traction",
                                                            time=2020))
          for k in ("values", "low", "high")}
    assert tb == {"values": 0.9, "low": 0.6, "high": 1.0}
    dy = {k: float(getattr(extended, k)["diffusion_utilisation_dy"].sel(time=2030))
          for k in ("values", "low", "high")}
    assert dy == {"values": 0.8, "low": 0.5, "high": 0.95}
    assert extended.values["gbd_share_dy"].attrs["units"] == "1"


def test_sampled_utilisation_scales_the_diffusion_source(extended):
    import xarray as xr

    from mfa.models.neodymium.magnet_rees import MODEL as MAGNET_REES

    values = extended.values
    u = values["diffusion_utilisation_tb"]
    sample = xr.DataArray([1.0, 0.625], dims="sample", coords={"sample": [0, 1]})  # 0.8, 0.5
    ds = MAGNET_REES.simulate(values.assign(
        diffusion_utilisation_tb=(u * sample).assign_attrs(u.attrs)))
    source = ds["flow_diffusion_source"].sel(element="Tb").sum("region")
    on = source.sel(sample=0).values > 0
    np.testing.assert_allclose(source.sel(sample=1).values[on],
                               1.6 * source.sel(sample=0).values[on], rtol=1e-12)
    ref = MAGNET_REES.simulate(values)  # the central values are the data
    for e in ("Nd", "Pr", "Dy"):
        np.testing.assert_allclose(ds["total_demand"].sel(element=e, sample=1).values,
                                   ref["total_demand"].sel(element=e).values, rtol=1e-12)
    np.testing.assert_allclose(ds["total_demand"].sel(sample=0).values,
                               ref["total_demand"].values, rtol=1e-12)
    assert bool((ds["total_demand"].sel(element="Tb", sample=1)
                 >= ref["total_demand"].sel(element="Tb")).all())


def test_monte_carlo_samples_the_processing_parameters():
    from mfa.analysis.uncertainty import monte_carlo
    from mfa.models.neodymium.magnet_rees import MODEL as MAGNET_REES

    ds = monte_carlo(MAGNET_REES, None, 4, seed=5, scheduler="numpy",
                     factors=["gbd_share_tb", "diffusion_utilisation_tb"])
    assert "gbd_share_tb" in ds.attrs["mc_factors"]
    spread = ds["total_demand"].sel(element="Tb", time=2030)
    assert float(spread.max() - spread.min()) > 0
    nd = ds["total_demand"].sel(element="Nd", time=2030)
    assert float(nd.max() - nd.min()) == 0.0
