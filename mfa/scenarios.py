"""Deprecated: ``mfa.scenarios`` moved to :mod:`mfa.data.scenarios` (the package is layered since 0.2).

This module re-exports :mod:`mfa.data.scenarios` for one release and will then be removed.
"""

import warnings as _warnings

from mfa.data.scenarios import *  # noqa: F403
from mfa.data.scenarios import __all__  # noqa: F401

_warnings.warn("mfa.scenarios is deprecated: import from mfa.data.scenarios", DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    import mfa.data.scenarios as _new

    return getattr(_new, name)
