"""Data layer: parameter tables, registry, model dimensions and scenarios (imports only core).

:func:`load_parameters` reads a parameter directory (``model.toml``, ``registry.toml``,
``sources.csv``, data ``*.csv``) of any material model into a :class:`ParameterSet`;
:func:`load_scenario` / :func:`apply_scenario` read and apply scenario overrides.
"""

from mfa.data.files import default_params_dir
from mfa.data.parameter_set import ParameterSet
from mfa.data.params import load_parameters
from mfa.data.scenarios import Scenario, apply_scenario, list_scenarios, load_scenario

__all__ = [
    "ParameterSet",
    "Scenario",
    "apply_scenario",
    "default_params_dir",
    "list_scenarios",
    "load_parameters",
    "load_scenario",
]
