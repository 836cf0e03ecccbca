"""The model protocol: what every material model provides, and the registry that finds models.

A *model* is an object (usually a module-level instance) with

``name`` : str
    Registry name, e.g. ``"neodymium"`` (``mfa run --model NAME``).
``material`` : str
    What is counted, e.g. ``"Nd"``: the first part of IAMC variable names and figure labels.
``headline`` : tuple of str
    Result variables summarised by default (Monte Carlo world totals, Sobol outputs).
``default_params`` : pathlib.Path
    Directory of the model's default data (``model.toml``, ``registry.toml``, CSV files,
    ``scenarios/``).
``system(extra_dims=())`` -> :class:`~mfa.core.system.ProcessSystem`
    The declared processes, flows and stocks; ``extra_dims`` (e.g. ``("sample",)``) are carried
    by every flow and stock and checked cell by cell.
``simulate(values, *, check=True)`` -> :class:`xarray.Dataset`
    Pure function from parameter values (an :class:`xarray.Dataset` with units in ``attrs``) to
    results. It broadcasts over any extra dim of ``values`` (e.g. ``sample``). Flows in the
    result carry ``attrs["source"]``/``attrs["target"]``, stocks ``attrs["process"]``, the
    dataset ``attrs["model"]`` and ``attrs["material"]``.
``sensitivity_groups(names)`` -> dict of str to list of str (optional)
    Default groups of the uncertain parameters ``names`` for grouped Sobol indices
    (``mfa sensitivity --groups model``); every name in exactly one group.

Models are registered through the entry-point group ``mfa.models`` (in ``pyproject.toml``:
``[project.entry-points."mfa.models"] mymodel = "mypackage.mymodule:MODEL"``), or at run time
with :func:`register`. :func:`get` returns a model by name; :func:`available` lists the names.
The core itself knows no model.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from mfa.core.errors import MfaError

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

    from mfa.core.system import ProcessSystem

__all__ = ["ENTRY_POINT_GROUP", "Model", "ModelError", "available", "get", "register"]

#: Entry-point group under which packages register their models.
ENTRY_POINT_GROUP = "mfa.models"


class ModelError(MfaError):
    """An unknown model name, or an object that is not a model."""


@runtime_checkable
class Model(Protocol):
    """Structural type of a material model (see the module docstring)."""

    name: str
    material: str
    headline: tuple[str, ...]

    @property
    def default_params(self) -> Path: ...

    def system(self, extra_dims: Sequence[str] = ()) -> ProcessSystem: ...

    def simulate(self, values: xr.Dataset, *, check: bool = True) -> xr.Dataset: ...


_REGISTERED: dict[str, Model] = {}


def _has(obj: object, attr: str) -> bool:
    """Whether ``obj`` has ``attr``, without evaluating properties (they may read files)."""
    try:
        inspect.getattr_static(obj, attr)
    except AttributeError:
        return False
    return True


def _check_model(obj: object, where: str) -> Model:
    missing = [a for a in ("name", "material", "headline", "default_params", "system", "simulate")
               if not _has(obj, a)]
    if missing:
        raise ModelError(f"{where}: {obj!r} is not a model: it lacks {', '.join(missing)}")
    return obj  # type: ignore[return-value]


def register(model: Model, *, replace: bool = False) -> Model:
    """Register ``model`` under ``model.name`` for this process.

    Parameters
    ----------
    model : Model
        An object satisfying the :class:`Model` protocol.
    replace : bool
        Replace a model already registered under the same name (default: error).

    Returns
    -------
    Model
        The model (so that ``MODEL = register(MyModel())`` reads well).
    """
    model = _check_model(model, "register")
    name = str(model.name)
    if not name or not name.replace("-", "_").isidentifier():
        raise ModelError(f"register: model name {name!r} must be a plain identifier")
    if name in _REGISTERED and _REGISTERED[name] is not model and not replace:
        raise ModelError(f"register: a model named {name!r} is already registered")
    _REGISTERED[name] = model
    return model


def _entry_points() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    """Names of the models registered in this process or installed (entry points), sorted."""
    return sorted(set(_REGISTERED) | set(_entry_points()))


def get(name: str | Model) -> Model:
    """The model registered as ``name`` (a model object is returned as it is).

    Raises
    ------
    ModelError
        For an unknown name (listing the available ones) or an entry point that does not load.
    """
    if not isinstance(name, str):
        return _check_model(name, "model")
    if name in _REGISTERED:
        return _REGISTERED[name]
    eps = _entry_points()
    if name not in eps:
        names = available()
        raise ModelError(
            f"unknown model {name!r}; available: {', '.join(names) if names else 'none installed'}"
        )
    try:
        model = eps[name].load()  # type: ignore[attr-defined]
    except Exception as exc:  # a broken plug-in must not crash with a traceback
        raise ModelError(f"model {name!r} (entry point {eps[name]}) failed to load: {exc}") from exc
    return register(_check_model(model, f"entry point {name!r}"), replace=True)
