"""Exceptions for user mistakes. The command line turns each into one message and exit status 2."""

from __future__ import annotations

__all__ = ["MfaError", "ParameterError", "ScenarioError", "MassBalanceError"]


class MfaError(ValueError):
    """Base class for errors caused by input (files, arguments, data) rather than by a bug."""


class ParameterError(MfaError):
    """A parameter file or value is wrong: the message names the file, row or key."""


class ScenarioError(MfaError):
    """A scenario file or name is wrong: the message names the file and key."""


class MassBalanceError(MfaError):
    """A process or stock does not balance: the message names process, year, region and gap."""
