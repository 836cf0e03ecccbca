"""The neodymium model: mine to magnet to EV/wind to end of life to recycling.

All quantities are neodymium *element* mass: stocks in t, flows in t/yr.

The model is a page of cited relations (:mod:`.equations`), chained by :func:`simulate`
(:mod:`.simulation`) on the structure declared once in :mod:`.structure`; :func:`run` loads the
parameters and a scenario and adds provenance; :data:`MODEL` is the model object of the
framework (``mfa.models.get("neodymium")``).

Equations (world totals ``W`` per year; regional shares ``σ_s[r]`` per stage ``s``)
-----------------------------------------------------------------------------------
Nd in new products, by region of use ``r`` and product ``p`` [t/yr]::

    EVs    N[r,p] = sales × pm_share × magnet_per_vehicle × nd_share_in_magnet
    wind   N[r,p] = gross additions × pm_share × magnet_per_mw × nd_share_in_magnet
    end uses N[r,p] += use_region_share[r,p] × Σ_{e in p} E[e]   (E: :mod:`.demand`, bottom-up)

Sales of cars and wind gross additions: stock-driven from ``ev_fleet`` (after the observed
``ev_sales`` to 2024) and ``wind_capacity``: change of stock + retirements (:mod:`.fleets`).

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
consumes nothing). Recycling indicators as UNEP (2011), *Recycling Rates of Metals* defines
them: ``primary_demand`` = P on the separated-oxide basis (``primary_demand_ore`` = X, the
ore basis), ``eol_recycling_rate`` (EOL-RR) = end-of-life Nd recovered / end-of-life Nd,
``recycling_input_rate`` (recycled content) = R / (P + R) by scrap source, and
``primary_demand_avoided`` = P of the same scenario without end-of-life recycling (the scenario
transform :func:`without_end_of_life_recycling`; new-scrap recycling stays on) minus P.
:func:`primary_demand_avoided_vs` compares with another run (e.g. the baseline).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from mfa.analysis.run import run_scenario
from mfa.core.system import ProcessSystem
from mfa.data.params import ParameterSet
from mfa.data.scenarios import Scenario
from mfa.models.neodymium.calibration import ND_PER_ND2O3, calibration
from mfa.models.neodymium.simulation import (
    nd_in_new_products,
    primary_demand_avoided_vs,
    simulate,
    supply_chain,
    without_end_of_life_recycling,
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
    "primary_demand_avoided_vs",
    "process_system",
    "run",
    "simulate",
    "supply_chain",
    "without_end_of_life_recycling",
]


def run(
    scenario: str | os.PathLike | Scenario | None = "baseline",
    params: ParameterSet | str | os.PathLike | None = None,
    *,
    check: bool = True,
) -> xr.Dataset:
    """Run the neodymium model for one scenario (:func:`mfa.analysis.run.run_scenario`).

    Parameters
    ----------
    scenario : str, path-like, Scenario or None
        Scenario name (a file in ``params/scenarios``), path to a scenario TOML file, a loaded
        :class:`~mfa.data.scenarios.Scenario`, or None (the data as they are).
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
        ``scenario`` is not a name, path, Scenario or None, or the scenario is unknown or wrong.
    ParameterError
        ``params`` is not a ParameterSet, directory or None, or the parameters are wrong.
    MfaError
        ``check`` is not a bool; and the errors of :func:`simulate`.
    """
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

    def summary_rows(self, ds: xr.Dataset, reference: xr.Dataset | None = None
                     ) -> list[tuple[str, xr.DataArray, str]]:
        """Rows of the summary tables of ``mfa run`` and ``mfa compare`` (with ``reference``,
        the run compared against: a row of primary demand avoided against it)."""
        from mfa.models.neodymium.summary import summary_rows

        return summary_rows(ds, reference)

    def sensitivity_groups(self, names: Sequence[str]) -> dict[str, list[str]]:
        """Default groups of the uncertain parameters ``names`` for grouped Sobol indices
        (:func:`mfa.models.neodymium.sensitivity.sensitivity_groups`)."""
        from mfa.models.neodymium.sensitivity import sensitivity_groups

        return sensitivity_groups(names)

    def __repr__(self) -> str:
        return "<model 'neodymium' (Nd)>"


#: The model object found by ``mfa.models.get("neodymium")`` (entry point ``mfa.models``).
MODEL = NeodymiumModel()
