"""Collecting and formatting the error messages of the data layer."""

from __future__ import annotations

import difflib
from typing import Any

from mfa.core.errors import ParameterError

__all__ = ["MAX_MESSAGES", "Problems", "fmt_list", "suggest"]

#: At most this many problems are listed in one error message.
MAX_MESSAGES = 10


class Problems:
    """Collects error messages sorted by (file order, line) and raises one error for them all."""

    def __init__(self, exc: type[Exception] = ParameterError) -> None:
        self.items: list[tuple[int, int, str]] = []
        self.exc = exc

    def add(self, message: str, order: int = 0, line: int = 0) -> None:
        """Record ``message`` for file number ``order``, line ``line`` (for sorting)."""
        self.items.append((order, line, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        """Raise one error listing up to :data:`MAX_MESSAGES` problems (none: return)."""
        if not self.items:
            return
        items = sorted(self.items, key=lambda x: (x[0], x[1]))
        if len(items) == 1:
            raise self.exc(items[0][2])
        shown = [f"  - {m}" for _, _, m in items[:MAX_MESSAGES]]
        more = len(items) - MAX_MESSAGES
        if more > 0:
            shown.append(f"  ... and {more} more")
        raise self.exc(f"{len(items)} problems in the parameter files:\n" + "\n".join(shown))


def suggest(word: str, choices: Any) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def fmt_list(items: Any) -> str:
    """``'a', 'b', 'c'``."""
    return ", ".join(repr(str(i)) for i in items)
