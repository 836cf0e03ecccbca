"""nd-mfa: a unit-aware dynamic material-flow analysis, with a model of neodymium.

The generic core (:mod:`mfa.core.units`, :mod:`mfa.core.lifetimes`, :mod:`mfa.core.stocks`, :mod:`mfa.core.system`)
knows nothing about neodymium; :mod:`mfa.models.neodymium` builds the Nd model on it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nd-mfa")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
