"""Proof that the framework is generic: a small copper model defined here (no name of the default
model anywhere) gets data loading, scenarios, Monte Carlo, Sobol indices, figures, outputs and the
command line from the very functions the default model uses (issue 9)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import mfa.core.errors
import mfa.models
from mfa.core.system import Flow, ProcessSystem, Stock

REGIONS = ["North", "South"]
SECTORS = ["buildings", "grid"]

MODEL_TOML = """
[time]
start = 2000
end = 2030

[dimensions]
region = ["North", "South"]
sector = ["buildings", "grid"]
"""

REGISTRY_TOML = """
[parameters.copper_demand]
description = "Copper put into use"
dims = ["region", "sector", "time"]
unit = "t/yr"
min = 0.0
interpolation = "linear"
before = "constant"
after = "constant"

[parameters.lifetime_mean]
description = "Mean lifetime of copper in use"
dims = ["sector"]
unit = "yr"
min = 1.0

[parameters.lifetime_sd]
description = "Standard deviation of the lifetime"
dims = ["sector"]
unit = "yr"
min = 0.1

[parameters.collection_rate]
description = "Share of end-of-life copper collected"
dims = ["region", "time"]
unit = "1"
min = 0.0
max = 1.0
interpolation = "linear"
before = "constant"
after = "constant"

[parameters.mining_share]
description = "Share of refined copper mined in a region"
dims = ["region", "time"]
unit = "1"
min = 0.0
max = 1.0
sum_to_one_over = "region"
interpolation = "linear"
before = "constant"
after = "constant"
"""

DATA_CSV = """\
parameter,region,sector,year,value,unit,low,high,source,note
copper_demand,North,buildings,2000,100,kt/yr,80,120,example,illustrative
copper_demand,North,buildings,2030,150,kt/yr,120,180,example,illustrative
copper_demand,North,grid,2000,50,kt/yr,40,60,example,illustrative
copper_demand,North,grid,2030,90,kt/yr,70,110,example,illustrative
copper_demand,South,buildings,2000,40,kt/yr,30,50,example,illustrative
copper_demand,South,buildings,2030,160,kt/yr,120,200,example,illustrative
copper_demand,South,grid,2000,20,kt/yr,15,25,example,illustrative
copper_demand,South,grid,2030,110,kt/yr,80,140,example,illustrative
lifetime_mean,,buildings,,40,yr,30,50,example,illustrative
lifetime_mean,,grid,,25,yr,20,30,example,illustrative
lifetime_sd,,buildings,,12,yr,,,example,illustrative
lifetime_sd,,grid,,7,yr,,,example,illustrative
collection_rate,,,2000,0.5,1,0.4,0.6,example,illustrative
collection_rate,,,2030,0.6,1,0.5,0.7,example,illustrative
mining_share,North,,,0.3,1,,,example,illustrative
mining_share,South,,,0.7,1,,,example,illustrative
"""

SOURCES_CSV = """\
key,citation,url,licence,tag,note
example,Illustrative round numbers for a test model,,,assumption,not data
"""

SCENARIOS = {
    "baseline.toml": 'name = "baseline"\ndescription = "Data as given."\n',
    "more-collection.toml": textwrap.dedent("""\
        name = "more-collection"
        base = "baseline"
        description = "Collection rises to 90 % by 2030."

        [[override]]
        parameter = "collection_rate"
        unit = "1"
        ramp = {from_year = 2020, to_year = 2030, to_value = 0.9}
        """),
}


def write_copper_data(root: Path) -> Path:
    """The copper model's parameter directory (model.toml, registry, data, scenarios)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "model.toml").write_text(MODEL_TOML)
    (root / "registry.toml").write_text(REGISTRY_TOML)
    (root / "data.csv").write_text(DATA_CSV)
    (root / "sources.csv").write_text(SOURCES_CSV)
    (root / "scenarios").mkdir(exist_ok=True)
    for name, text in SCENARIOS.items():
        (root / "scenarios" / name).write_text(text)
    return root


class Copper:
    """A two-region copper model: mining -> refining -> fabrication -> use -> collection ->
    recycling -> refining, net trade of refined copper."""

    name = "copper-test"
    material = "Cu"
    headline = ("primary_supply", "in_use_stock")

    def __init__(self, params_dir: Path) -> None:
        self._params = params_dir

    @property
    def default_params(self) -> Path:
        return self._params

    def system(self, extra_dims=()) -> ProcessSystem:
        tr = ("time", "region", *extra_dims)
        return ProcessSystem(
            "copper",
            processes=["mining", "refining", "use", "collection", "trade"],
            flows=[
                Flow("flow_ore", "environment", "mining", tr),
                Flow("flow_concentrate", "mining", "refining", tr),
                Flow("flow_cathode", "refining", "use", tr),
                Flow("flow_end_of_life", "use", "collection", tr),
                Flow("flow_collected", "collection", "refining", tr),
                Flow("flow_lost", "collection", "environment", tr),
                Flow("flow_net_export", "refining", "trade", tr, signed=True),
            ],
            stocks=[Stock("in_use_stock", "use", ("time", "region", "sector", *extra_dims))],
            pooled=["trade"],
            kept_dims=extra_dims,
        )

    def simulate(self, values: xr.Dataset, *, check: bool = True) -> xr.Dataset:
        from mfa.core.lifetimes import Normal
        from mfa.core.stocks import inflow_driven
        from mfa.core.units import to_canonical

        demand = to_canonical(values["copper_demand"], "t/yr")
        life = Normal(mean=values["lifetime_mean"], sd=values["lifetime_sd"])
        dsm = inflow_driven(demand, life)
        eol = dsm["outflow"].sum("sector")
        collected = eol * values["collection_rate"]
        use = demand.sum("sector")
        primary = (use - collected).sum("region")  # world refined demand net of secondary
        mined = primary * values["mining_share"]
        flows = {
            "flow_ore": mined,
            "flow_concentrate": mined,
            "flow_cathode": use,
            "flow_end_of_life": eol,
            "flow_collected": collected,
            "flow_lost": eol - collected,
            "flow_net_export": mined + collected - use,
        }
        extra = tuple(sorted({d for da in [*flows.values(), dsm["stock"]] for d in da.dims}
                             - {"time", "region", "sector"}))
        system = self.system(extra)
        values_out = {k: v.assign_attrs(units="t/yr") for k, v in flows.items()}
        values_out["in_use_stock"] = dsm["stock"]
        ds = system.to_dataset(values_out)
        if check:
            system.check_balance(ds)
        primary = ds["flow_ore"].copy()  # a result, not a flow: no source/target attrs
        primary.attrs = {"units": "t/yr", "long_name": "copper mined"}
        ds["primary_supply"] = primary
        ds.attrs.update(model=self.name, material=self.material)
        return ds


@pytest.fixture(scope="module")
def copper(tmp_path_factory) -> Copper:
    model = Copper(write_copper_data(tmp_path_factory.mktemp("copper")))
    mfa.models.register(model, replace=True)
    return model


def test_protocol_and_registry(copper):
    from mfa.core.model import Model

    assert isinstance(copper, Model)
    assert mfa.models.get("copper-test") is copper
    assert "copper-test" in mfa.models.available()
    with pytest.raises(mfa.models.ModelError, match="unknown model 'tin'"):
        mfa.models.get("tin")


def test_scenario_run_with_any_dims(copper):
    from mfa.analysis import run_scenario

    base = run_scenario(copper, "baseline")
    more = run_scenario(copper, "more-collection")
    assert base.attrs["model"] == "copper-test" and base.attrs["material"] == "Cu"
    assert base["in_use_stock"].dims == ("time", "region", "sector")
    assert float(more["flow_collected"].sel(time=2030).sum()) > \
        float(base["flow_collected"].sel(time=2030).sum())
    # the flows carry their ends, the stocks their process
    assert base["flow_cathode"].attrs["source"] == "refining"
    assert base["in_use_stock"].attrs["process"] == "use"


def test_monte_carlo_ensemble_and_sobol(copper):
    from mfa.analysis import ensemble, monte_carlo, sensitivity
    from mfa.data import load_parameters

    params = load_parameters(copper.default_params)
    ens = ensemble(copper, params, 8, seed=1)
    assert ens.sizes["sample"] == 8
    mc = monte_carlo(copper, params, 16, seed=1, scenario="baseline")
    assert "world_primary_supply" in mc and mc["world_primary_supply"].sizes["quantile"] == 3
    with pytest.raises(mfa.core.errors.MfaError, match="model 'copper-test' takes no balance "
                       "tolerance"):
        ensemble(copper, params, 2, rtol=1e-6)  # not silently ignored
    si = sensitivity(copper, params, 16, seed=1, years=(2030,))
    assert set(si["output"].values) == set(copper.headline)
    assert set(si["parameter"].values) <= {"copper_demand", "lifetime_mean", "collection_rate"}


def test_figures_and_outputs(copper, tmp_path):
    from mfa.analysis import run_scenario
    from mfa.io import read_results, to_iamc, write_netcdf
    from mfa.plot import sankey

    ds = run_scenario(copper, "baseline")
    fig = sankey(ds, 2020)
    assert fig.plotted_data["flow_ore"] > 0  # drawn from the flows' source/target attrs
    assert not [k for k in fig.plotted_data if k.startswith("imbalance/")]  # world balances
    table = to_iamc(ds)
    assert table["Variable"].str.startswith("Cu|").all()
    assert (table["Model"] == "copper-test").all()
    path = write_netcdf(ds, tmp_path / "cu.nc")
    back = read_results(path)
    np.testing.assert_allclose(back["in_use_stock"].values, ds["in_use_stock"].values)


def test_command_line_with_model(copper, tmp_path, capsys):
    from mfa.cli import main

    out = tmp_path / "cu.nc"
    assert main(["run", "--model", "copper-test", "--params", str(copper.default_params),
                 "--scenario", "more-collection", "--out", str(out)]) == 0
    assert xr.open_dataset(out).attrs["model"] == "copper-test"
    assert main(["models"]) == 0
    assert "copper-test" in capsys.readouterr().out
    figs = tmp_path / "figs"  # mfa plot: the Sankey every model gets
    assert main(["plot", str(out), "--out-dir", str(figs), "--year", "2020"]) == 0
    assert (figs / "sankey_2020.png").stat().st_size > 10_000
    assert main(["plot", str(out), "--out-dir", str(figs), "--kind", "demand"]) == 2
    assert "kinds available: sankey" in capsys.readouterr().err
