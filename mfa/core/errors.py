"""Exceptions for user mistakes, and the warnings the models emit.

The command line turns each :class:`MfaError` into one message and exit status 2, and each
:class:`MfaWarning` into one ``mfa: warning: ...`` line. Warnings are classes so that callers
can filter them by class (``warnings.filterwarnings("ignore", category=...)``), not by message.
"""

from __future__ import annotations

__all__ = [
    "MfaError",
    "ParameterError",
    "ScenarioError",
    "MassBalanceError",
    "UnitError",
    "MfaWarning",
]


class MfaError(ValueError):
    """Base class for errors caused by input (files, arguments, data) rather than by a bug."""


class ParameterError(MfaError):
    """A parameter file or value is wrong: the message names the file, row or key."""


class ScenarioError(MfaError):
    """A scenario file or name is wrong: the message names the file and key."""


class MassBalanceError(MfaError):
    """A process or stock does not balance, or a flow is negative.

    The message names the process (or flow), year, region (and sample) and the size of the gap.
    """


class UnitError(MfaError):
    """A unit that cannot be read, is ambiguous, or has the wrong dimensionality."""


class MfaWarning(UserWarning):
    """Base class of the warnings of this package: something the user should know about a run."""
