"""The one progress bar of the package: tqdm when installed, a plain text bar otherwise.

A bar draws only on a terminal: when its stream (stderr by default) is redirected to a file or
a pipe it writes nothing at all, so a log of a batch run holds no progress updates (``\\r``
lines). ``enabled=False`` (``mfa ... -q`` or ``--no-progress``) silences it on a terminal too.
Every long computation of the package (Monte Carlo ensembles, Sobol sensitivity, a set of
figures) reports through :class:`ProgressBar`, with whichever executor it runs on; tqdm comes
with the ``progress`` extra (``pip install 'nd-mfa[progress]'``).
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import IO, Any

__all__ = ["ProgressBar", "draws_on"]

#: Seconds between two redraws of the plain bar.
_REDRAW_SECONDS = 0.1
_WIDTH = 30


def draws_on(stream: IO[str] | None) -> bool:
    """True if a progress bar may draw on ``stream``: an open terminal."""
    if stream is None:
        return False
    try:
        return bool(stream.isatty()) and not getattr(stream, "closed", False)
    except (AttributeError, ValueError, OSError):
        return False


class ProgressBar:
    """Progress of ``total`` units of work on a terminal (see the module docstring).

    Parameters
    ----------
    total : int
        Units of work (samples, model runs, figures).
    label : str
        What is being done, shown before the bar (e.g. ``"Monte Carlo"``).
    unit : str
        Name of one unit, singular (``"sample"``, ``"figure"``).
    enabled : bool
        False: never draw (quiet mode).
    stream : file-like, optional
        Where to draw; default ``sys.stderr`` (at construction). Nothing is drawn unless it is
        a terminal.

    Notes
    -----
    :meth:`update` may be called from several threads. Use as a context manager, or call
    :meth:`close` at the end (it ends the line; a bar that never drew writes nothing).
    """

    def __init__(self, total: int, label: str = "", unit: str = "item", *,
                 enabled: bool = True, stream: IO[str] | None = None) -> None:
        self.total = int(total)
        self.label = label
        self.unit = unit
        self.count = 0
        self.stream = sys.stderr if stream is None else stream
        self.active = bool(enabled) and draws_on(self.stream)
        self._lock = threading.Lock()
        self._t0 = time.perf_counter()
        self._last = -float("inf")
        self._drawn_count = -1
        self._tqdm: Any = None
        if self.active:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self._tqdm = tqdm(total=self.total, desc=label or None, unit=unit,
                                  file=self.stream, leave=True, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        """Record ``n`` more units done (redraws at most every 0.1 s)."""
        with self._lock:
            self.count += int(n)
            if not self.active:
                return
            if self._tqdm is not None:
                self._tqdm.update(int(n))
                return
            now = time.perf_counter()
            if now - self._last >= _REDRAW_SECONDS or self.count >= self.total:
                self._last = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        frac = min(self.count / self.total, 1.0) if self.total > 0 else 1.0
        filled = int(_WIDTH * frac)
        units = self.unit if self.total == 1 else f"{self.unit}s"
        head = f"{self.label}: " if self.label else ""
        self.stream.write(f"\r{head}[{'#' * filled}{'.' * (_WIDTH - filled)}] {100 * frac:3.0f}% "
                          f"{self.count}/{self.total} {units} {now - self._t0:5.1f} s")
        self.stream.flush()
        self._drawn_count = self.count

    def close(self) -> None:
        """Finish the bar (draw its final state and end the line)."""
        with self._lock:
            if not self.active:
                return
            self.active = False
            if self._tqdm is not None:
                self._tqdm.close()
                return
            if self._drawn_count != self.count:
                self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
