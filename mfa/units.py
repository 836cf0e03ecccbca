"""Deprecated: ``mfa.units`` moved to :mod:`mfa.core.units` (the package is layered since 0.2).

This module re-exports :mod:`mfa.core.units` for one release and will then be removed.
"""

import warnings as _warnings

from mfa.core.units import *  # noqa: F403
from mfa.core.units import __all__  # noqa: F401

_warnings.warn("mfa.units is deprecated: import from mfa.core.units", DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    import mfa.core.units as _new

    return getattr(_new, name)
