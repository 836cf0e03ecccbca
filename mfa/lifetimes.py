"""Deprecated: ``mfa.lifetimes`` moved to :mod:`mfa.core.lifetimes` (the package is layered since 0.2).

This module re-exports :mod:`mfa.core.lifetimes` for one release and will then be removed.
"""

import warnings as _warnings

from mfa.core.lifetimes import *  # noqa: F403
from mfa.core.lifetimes import __all__  # noqa: F401

_warnings.warn("mfa.lifetimes is deprecated: import from mfa.core.lifetimes", DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    import mfa.core.lifetimes as _new

    return getattr(_new, name)
