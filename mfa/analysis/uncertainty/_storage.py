"""Storage of an ensemble's outputs while it is computed: in memory, or in a temporary file on disk."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mfa.analysis.options import UncertaintyError
from mfa.io.outputs import plain_error


class _Store:
    """Destination of the chunk results: numpy arrays in memory, or one raw float64 file per
    variable in a temporary directory.

    The files are allocated in full when the store opens (``posix_fallocate``), so a disk too
    small fails at once, before any sample is computed, with a plain message; chunks are
    written with ``pwrite`` (no HDF5 library, which crashes on a full disk). ``close`` (also on
    an error or an interruption) removes the directory; writes that arrive afterwards (from
    chunks still running in other threads) are refused.
    """

    def __init__(self, n: int, shapes: Mapping[str, tuple[int, ...]], *, on_disk: bool,
                 tmpdir: str | os.PathLike | None = None) -> None:
        self.n = n
        self.shapes = dict(shapes)
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.done = 0
        self._dir: str | None = None
        self._fds: dict[str, int] = {}
        if on_disk:
            if tmpdir is not None and not Path(tmpdir).is_dir():
                raise UncertaintyError(f"temporary directory {tmpdir} does not exist")
            try:
                self._dir = tempfile.mkdtemp(prefix="mfa-mc-", dir=tmpdir)
                for i, (v, shape) in enumerate(self.shapes.items()):
                    fd = os.open(Path(self._dir) / f"{i}.f8", os.O_RDWR | os.O_CREAT, 0o600)
                    self._fds[v] = fd
                    _allocate(fd, n * int(np.prod(shape)) * 8)
            except OSError as exc:
                where = self._dir or tmpdir or tempfile.gettempdir()
                self.close()
                raise UncertaintyError(f"cannot create the temporary ensemble store in {where}: "
                                       f"{plain_error(exc)}") from None
            self.data: dict[str, np.ndarray] = {}
        else:
            self.data = {v: np.empty((n, *s)) for v, s in self.shapes.items()}

    def write(self, start: int, stop: int, arrays: Mapping[str, np.ndarray]) -> int:
        with self.lock:
            if self.closed.is_set():
                raise UncertaintyError("the ensemble store is closed (run cancelled)")
            for v, arr in arrays.items():
                if not self._fds:
                    self.data[v][start:stop] = arr
                    continue
                row = int(np.prod(self.shapes[v])) * 8
                block = np.ascontiguousarray(arr, dtype="<f8")
                try:
                    _pwrite_all(self._fds[v], memoryview(block).cast("B"), start * row)
                except OSError as exc:
                    raise UncertaintyError(f"cannot write the temporary ensemble store in "
                                           f"{self._dir}: {plain_error(exc)}") from None
            self.done += stop - start
        return stop - start

    def read(self, v: str) -> np.ndarray:
        if not self._fds:
            return self.data[v]
        out = np.empty((self.n, *self.shapes[v]), dtype="<f8")
        view = memoryview(out).cast("B")
        pos = 0
        while pos < len(view):
            k = os.preadv(self._fds[v], [view[pos:]], pos)
            if k == 0:
                raise UncertaintyError(f"the temporary ensemble store in {self._dir} is short")
            pos += k
        return out

    def close(self) -> None:
        with self.lock:
            self.closed.set()
            for fd in self._fds.values():
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._fds = {}
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    def __enter__(self) -> _Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _allocate(fd: int, size: int) -> None:
    """Reserve ``size`` bytes on disk for ``fd`` (ENOSPC now rather than half-way)."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:  # not supported by this file system: a sparse file then
        if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            raise
        os.ftruncate(fd, size)
    except AttributeError:  # pragma: no cover - no posix_fallocate (macOS)
        os.ftruncate(fd, size)


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        k = os.pwrite(fd, data, offset)
        data, offset = data[k:], offset + k
