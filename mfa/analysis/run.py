"""Run one scenario of any model: load its parameters, apply the scenario, simulate, stamp.

:func:`run_scenario` is what ``mfa run --model NAME`` does and what every model's own ``run``
convenience calls: the model only supplies ``simulate``; reading files, scenarios and provenance
are the framework's.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import xarray as xr

from mfa.core.errors import MfaError, ParameterError, ScenarioError
from mfa.core.model import Model, get
from mfa.data.params import ParameterSet, load_parameters
from mfa.data.scenarios import Scenario, apply_scenario, load_scenario
from mfa.io import provenance_attrs

__all__ = ["prepare", "run_scenario"]


def prepare(
    model: Model | str,
    scenario: str | os.PathLike | Scenario | None = "baseline",
    params: ParameterSet | str | os.PathLike | None = None,
) -> tuple[Model, ParameterSet, Scenario | None]:
    """The model, its parameters with the scenario applied, and the scenario.

    Parameters
    ----------
    model : Model or str
        A model or its registered name.
    scenario : str, path-like, Scenario or None
        Scenario name (in the parameter directory's ``scenarios/``), path of a scenario TOML
        file, a loaded :class:`~mfa.data.scenarios.Scenario`, or None (the data as they are).
        A model with a ``load_scenario(name_or_path, params_dir)`` method reads names and paths
        itself (e.g. ``magnet_rees``, whose element scenarios build on the Nd ones); the
        scenario's ``value_attrs`` (if any) are added to ``values.attrs``. A model with an
        ``extend_parameters(params)`` method adds parameters of its own data after the
        scenario (e.g. ``magnet_rees``: magnet composition ranges, sampled by Monte Carlo).
    params : ParameterSet, path-like or None
        Parameters or a parameter directory; None: the model's ``default_params``.

    Raises
    ------
    ScenarioError, ParameterError
        For arguments of the wrong type and for every mistake in the files.
    """
    model = get(model)
    if scenario is not None and not isinstance(scenario, (str, os.PathLike, Scenario)):
        raise ScenarioError(f"scenario must be a scenario name, the path of a scenario TOML "
                            f"file or None, got {type(scenario).__name__} {scenario!r}")
    if isinstance(scenario, bool):
        raise ScenarioError(f"scenario must be a scenario name or path, got {scenario!r}")
    if params is not None and not isinstance(params, (ParameterSet, str, os.PathLike)):
        raise ParameterError(f"params must be a ParameterSet, a parameter directory or None, "
                             f"got {type(params).__name__} {params!r}")
    if params is None:
        params = Path(model.default_params)
    params_dir = params.path if isinstance(params, ParameterSet) else Path(params)
    if not isinstance(params, ParameterSet):
        params = load_parameters(params)
    extend = getattr(model, "extend_parameters", None)  # parameters beyond the files
    if scenario is None:
        return model, extend(params) if extend else params, None
    loader = getattr(model, "load_scenario", None) or load_scenario  # a model's own files
    scen = scenario if isinstance(scenario, Scenario) else loader(scenario, params_dir=params_dir)
    params = apply_scenario(params, scen)
    extra = getattr(scen, "value_attrs", None)  # what the model's simulate reads of its scenario
    if extra:
        params = dataclasses.replace(params, values=params.values.assign_attrs(extra))
    return model, extend(params) if extend else params, scen


def run_scenario(
    model: Model | str,
    scenario: str | os.PathLike | Scenario | None = "baseline",
    params: ParameterSet | str | os.PathLike | None = None,
    *,
    check: bool = True,
) -> xr.Dataset:
    """Results of ``model`` for one scenario, with provenance.

    Parameters
    ----------
    model, scenario, params
        As in :func:`prepare`.
    check : bool
        Check the mass balance of every process (and that flows are not negative).

    Returns
    -------
    xarray.Dataset
        The model's results; ``attrs``: ``model``, ``material``, ``scenario``, the scenario's
        description and file hashes, the parameter files' hashes, versions and creation time
        (:func:`mfa.io.provenance_attrs`).
    """
    if not isinstance(check, bool):
        raise MfaError(f"check must be True or False, got {check!r}")
    model, params, scen = prepare(model, scenario, params)
    ds = model.simulate(params.values, check=check)
    name = scen.name if scen is not None else "data as given"
    extra: dict[str, Any] = {
        "title": f"{model.material} dynamic MFA (model {model.name}), scenario {name}",
        "model": model.name,
        "material": model.material,
        "conventions": f"units in attrs['units'] (pint-readable); {model.material} mass",
    }
    if scen is not None:
        extra.update({
            "scenario_description": scen.description,
            "scenario_sha256": scen.sha256 or "",
            "scenario_files": json.dumps(dict(sorted(scen.files.items()))),
        })
    ds.attrs.update(provenance_attrs(name, params.files, extra=extra))
    return ds
