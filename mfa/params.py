"""Deprecated: ``mfa.params`` moved to :mod:`mfa.data.params` (the package is layered since 0.2).

This module re-exports :mod:`mfa.data.params` for one release and will then be removed.
"""

import warnings as _warnings

from mfa.data.params import *  # noqa: F403
from mfa.data.params import __all__  # noqa: F401

_warnings.warn("mfa.params is deprecated: import from mfa.data.params", DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    import mfa.data.params as _new

    return getattr(_new, name)
