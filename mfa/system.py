"""Deprecated: ``mfa.system`` moved to :mod:`mfa.core.system` (the package is layered since 0.2).

This module re-exports :mod:`mfa.core.system` for one release and will then be removed.
"""

import warnings as _warnings

from mfa.core.system import *  # noqa: F403
from mfa.core.system import __all__  # noqa: F401

_warnings.warn("mfa.system is deprecated: import from mfa.core.system", DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    import mfa.core.system as _new

    return getattr(_new, name)
