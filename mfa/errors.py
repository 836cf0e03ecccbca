"""Deprecated: ``mfa.errors`` moved to :mod:`mfa.core.errors` (the package is layered since 0.2).

This module re-exports :mod:`mfa.core.errors` for one release and will then be removed.
"""

import warnings as _warnings

from mfa.core.errors import *  # noqa: F403
from mfa.core.errors import __all__  # noqa: F401

_warnings.warn("mfa.errors is deprecated: import from mfa.core.errors", DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    import mfa.core.errors as _new

    return getattr(_new, name)
