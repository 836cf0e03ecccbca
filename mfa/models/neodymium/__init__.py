"""The neodymium model: mine to magnet to EV/wind to end of life to recycling.

All quantities are neodymium *element* mass: stocks in t, flows in t/yr.

The model is a page of cited relations (:mod:`.equations`), chained by :func:`simulate`
(:mod:`.simulation`) on the structure declared once in :mod:`.structure`; :func:`run` loads the
parameters and a scenario and adds provenance; :data:`MODEL` is the model object of the
framework (``mfa.models.get("neodymium")``).

Equations (world totals ``W`` per year; regional shares ``σ_s[r]`` per stage ``s``)
-----------------------------------------------------------------------------------
Nd in new products, by region of use ``r`` and product ``p`` [t/yr]::

    EVs    N[r,p] = ev_sales × pm_share × magnet_per_vehicle × nd_share_in_magnet
    wind   N[r,p] = wind_additions × pm_share × magnet_per_mw × nd_share_in_magnet
    end uses N[r,p] += use_region_share[r,p] × Σ_{e in p} E[e]   (E: :mod:`.demand`, bottom-up)

In-use stock and end-of-life outflow: an inflow-driven dynamic stock model with a normal
lifetime (``lifetime_mean``, ``lifetime_sd``) per product (:func:`mfa.core.stocks.inflow_driven`).

The supply chain, world totals (``s`` = magnet_scrap_rate)::

    magnets            M   = Σ N over magnet products           (manufacturing yield 1: assumption)
    alloy to magnets   A   = M / (1 - s);   new scrap = s A
    oxide to metal     O_m = A / yield_metal
    non-magnet oxide   O_n = Σ N over non_magnet
    total demand       D   = O_m + O_n                            (Nd entering the oxide/metal stage)
    secondary          R   = s A × new_scrap_recycling_rate × new_scrap_recovery_yield
                           + Σ eol × collection_rate × recycling_yield
    primary oxide      P   = max(D - R, 0)    (R > D would go to a stockpile, with a warning)
    concentrate        C   = P / yield_separation
    mined              X   = C / yield_mining

Each stage's output is split over regions by ``production_share[stage]``; secondary Nd
arises where it is recycled (end-of-life: region of use; new scrap: region of magnet making).
Trade is what production and consumption leave unbalanced in a region: for each stage,
``net_export[r] = production[r] - consumption[r]`` where consumption is the downstream stage's
input in ``r``. Net exports sum to zero over regions; the mass-balance check verifies it.

Indicators: ``production_share`` of each stage's output, ``hhi`` (Herfindahl-Hirschman index
over the six model regions, as a fraction in [1/6, 1]; it is a lower bound of the country-level
HHI), ``import_reliance`` = max(consumption - production, 0) / consumption (NaN where a region
consumes nothing), ``recycling_input_rate`` = R / D, and ``primary_demand_avoided`` = mined Nd
of the same scenario with all recycling switched off (the scenario transform
:func:`without_end_of_life_and_new_scrap_recycling`) minus mined Nd of the scenario.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import xarray as xr

from mfa.analysis.run import run_scenario
from mfa.core.errors import ParameterError, ScenarioError
from mfa.core.system import ProcessSystem
from mfa.data.params import ParameterSet
from mfa.models.neodymium.calibration import ND_PER_ND2O3, calibration
from mfa.models.neodymium.simulation import (
    _check_options,
    nd_in_new_products,
    simulate,
    supply_chain,
    without_end_of_life_and_new_scrap_recycling,
)
from mfa.models.neodymium.structure import (
    EV_PRODUCTS,
    FLOWS,
    HEADLINE,
    MAGNET_PRODUCTS,
    NON_MAGNET,
    OTHER_PRODUCTS,
    PARAMETER_UNITS,
    PROCESSES,
    RESULT_VARIABLES,
    SIGNED_FLOWS,
    STAGES,
    UNITS,
    WIND_PRODUCTS,
    SecondaryExceedsDemandWarning,
    process_system,
)

__all__ = [
    "EV_PRODUCTS",
    "FLOWS",
    "HEADLINE",
    "MAGNET_PRODUCTS",
    "MODEL",
    "ND_PER_ND2O3",
    "NON_MAGNET",
    "OTHER_PRODUCTS",
    "PARAMETER_UNITS",
    "PROCESSES",
    "RESULT_VARIABLES",
    "SIGNED_FLOWS",
    "STAGES",
    "SecondaryExceedsDemandWarning",
    "UNITS",
    "WIND_PRODUCTS",
    "NeodymiumModel",
    "calibration",
    "nd_in_new_products",
    "process_system",
    "run",
    "simulate",
    "supply_chain",
    "without_end_of_life_and_new_scrap_recycling",
]


def run(
    scenario: str | Path = "baseline",
    params: ParameterSet | str | Path | None = None,
    *,
    check: bool = True,
) -> xr.Dataset:
    """Run the neodymium model for one scenario.

    Parameters
    ----------
    scenario : str or path-like
        Scenario name (a file in ``params/scenarios``) or path to a scenario TOML file.
    params : ParameterSet, str, path-like or None
        Parameter set or parameter directory; ``None`` uses the default data shipped with the
        package.
    check : bool
        Check the mass balance of every process and stock.

    Returns
    -------
    xarray.Dataset
        Results with units in ``attrs`` and provenance in the dataset attributes.

    Raises
    ------
    ScenarioError
        ``scenario`` is not a name or path, or the scenario is unknown or wrong.
    ParameterError
        ``params`` is not a ParameterSet, directory or None, or the parameters are wrong.
    MfaError
        ``check`` is not a bool; and the errors of :func:`simulate`.
    """
    _check_options("run", check)
    if isinstance(scenario, bool) or not isinstance(scenario, (str, os.PathLike)):
        raise ScenarioError(f"run: scenario must be a scenario name or the path of a scenario "
                            f"TOML file, got {type(scenario).__name__} {scenario!r}")
    if params is not None and not isinstance(params, (ParameterSet, str, os.PathLike)):
        raise ParameterError(f"run: params must be a ParameterSet, a parameter directory or "
                             f"None, got {type(params).__name__} {params!r}")
    return run_scenario(MODEL, scenario, params, check=check)


class NeodymiumModel:
    """The neodymium model as a :class:`mfa.core.model.Model` (registered as ``"neodymium"``)."""

    name = "neodymium"
    material = "Nd"
    #: Result variables summarised by default (world totals in Monte Carlo, Sobol outputs).
    headline: tuple[str, ...] = HEADLINE

    @property
    def default_params(self) -> Path:
        """The packaged default data (``params/`` in the repository)."""
        from mfa.data.params import default_params_dir

        return default_params_dir()

    def system(self, extra_dims: tuple[str, ...] = ()) -> ProcessSystem:
        """The Nd process system (:func:`process_system`)."""
        return process_system(tuple(extra_dims))

    def simulate(self, values: xr.Dataset, *, check: bool = True, rtol: float = 1e-9
                 ) -> xr.Dataset:
        """Results of the Nd model for parameter values (:func:`simulate`; ``rtol`` is the
        tolerance of its mass-balance check, relative to each process's throughput)."""
        ds = simulate(values, check=check, rtol=rtol)
        ds.attrs.update(model=self.name, material=self.material)
        return ds

    @property
    def figures(self) -> Any:
        """The Nd figures (:mod:`mfa.models.neodymium.figures`; imports matplotlib)."""
        from mfa.models.neodymium import figures

        return figures

    def summary_rows(self, ds: xr.Dataset) -> list[tuple[str, xr.DataArray, str]]:
        """Rows of the summary tables of ``mfa run`` and ``mfa compare``."""
        from mfa.models.neodymium.summary import summary_rows

        return summary_rows(ds)

    def __repr__(self) -> str:
        return "<model 'neodymium' (Nd)>"


#: The model object found by ``mfa.models.get("neodymium")`` (entry point ``mfa.models``).
MODEL = NeodymiumModel()
