"""nd-mfa: a unit-aware dynamic material-flow analysis, with a model of neodymium.

The generic core (:mod:`mfa.units`, :mod:`mfa.lifetimes`, :mod:`mfa.stocks`, :mod:`mfa.system`)
knows nothing about neodymium; :mod:`mfa.neodymium` builds the Nd model on it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nd-mfa")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
