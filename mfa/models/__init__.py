"""Material models. Each is a subpackage (``mfa.models.neodymium``) registered through the
entry-point group ``mfa.models``; :func:`get` finds a model by name.
"""

from mfa.core.model import ModelError, available, get, register

__all__ = ["ModelError", "available", "get", "register"]
