"""What the ``mfa`` command prints and where: the conventions of :mod:`mfa.cli` in code.

Results (tables, listings) go to stdout with :func:`result`; status lines (what was written
where, timings) go to stderr with :func:`status`, silenced by ``-q``; :func:`detail` adds
lines on stderr with ``-v`` only; :func:`progress_bar` is the one progress bar
(:class:`mfa.analysis.progress.ProgressBar`), drawn only on a terminal and never with ``-q``
or ``--no-progress``. Warnings and errors are never silenced. Standard library only.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["detail", "files_written", "is_quiet", "is_verbose", "progress_bar", "result",
           "show_progress", "status"]


def is_quiet(args: argparse.Namespace) -> bool:
    """``-q/--quiet`` was given."""
    return bool(getattr(args, "quiet", False))


def is_verbose(args: argparse.Namespace) -> bool:
    """``-v/--verbose`` was given."""
    return bool(getattr(args, "verbose", False))


def result(text: str) -> None:
    """Print a result (a table, a listing) on stdout."""
    print(text, flush=True)


def status(args: argparse.Namespace, message: str) -> None:
    """Print a status line on stderr, unless ``-q``."""
    if not is_quiet(args):
        print(message, file=sys.stderr, flush=True)


def detail(args: argparse.Namespace, message: str) -> None:
    """Print a detail on stderr, only with ``-v``."""
    if is_verbose(args):
        print(message, file=sys.stderr, flush=True)


def files_written(args: argparse.Namespace, paths: Any) -> None:
    """With ``-v``: every file written, one per line."""
    for path in paths:
        detail(args, f"  {path}")


def show_progress(args: argparse.Namespace) -> bool:
    """True unless ``-q`` or ``--no-progress`` (the bar itself also needs a terminal)."""
    return not is_quiet(args) and not getattr(args, "no_progress", False)


def progress_bar(args: argparse.Namespace, total: int, label: str = "",
                 unit: str = "item") -> Any:
    """The one progress bar (:class:`mfa.analysis.progress.ProgressBar`) for a command."""
    from mfa.analysis.progress import ProgressBar

    return ProgressBar(total, label, unit, enabled=show_progress(args))
