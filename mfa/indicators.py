"""Deprecated: ``mfa.indicators`` moved to :mod:`mfa.analysis.indicators` (the package is layered since 0.2).

This module re-exports :mod:`mfa.analysis.indicators` for one release and will then be removed.
"""

import warnings as _warnings

from mfa.analysis.indicators import *  # noqa: F403
from mfa.analysis.indicators import __all__  # noqa: F401

_warnings.warn("mfa.indicators is deprecated: import from mfa.analysis.indicators", DeprecationWarning, stacklevel=2)


def __getattr__(name: str):
    import mfa.analysis.indicators as _new

    return getattr(_new, name)
