"""Attributes of a package imported on first use (PEP 562), so that importing it stays cheap."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, api: Mapping[str, str | tuple[str, str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``api[name]`` when ``name`` is first used.

    Parameters
    ----------
    package : str
        The package's name, for the error message.
    api : mapping
        Public name -> module that defines it, or -> ``(module, name there)`` for an alias.
    """

    def __getattr__(name: str) -> Any:
        if name not in api:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = api[name]
        module, attr = target if isinstance(target, tuple) else (target, name)
        return getattr(import_module(module), attr)

    return __getattr__
