"""Deprecated: ``mfa.neodymium`` moved to :mod:`mfa.models.neodymium` (the package is layered since 0.2).

This module re-exports :mod:`mfa.models.neodymium` for one release and will then be removed.
"""

import warnings as _warnings

from mfa.models.neodymium import *  # noqa: F403
from mfa.models.neodymium import __all__  # noqa: F401

_warnings.warn("mfa.neodymium is deprecated: import from mfa.models.neodymium", DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    import mfa.models.neodymium as _new

    return getattr(_new, name)
