"""Deprecated: ``mfa.stocks`` moved to :mod:`mfa.core.stocks` (the package is layered since 0.2).

This module re-exports :mod:`mfa.core.stocks` for one release and will then be removed.
"""

import warnings as _warnings

from mfa.core.stocks import *  # noqa: F403
from mfa.core.stocks import __all__  # noqa: F401

_warnings.warn("mfa.stocks is deprecated: import from mfa.core.stocks", DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    import mfa.core.stocks as _new

    return getattr(_new, name)
