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

from mfa.analysis.budget import store_directory
from mfa.analysis.options import UncertaintyError
from mfa.io.outputs import plain_error


class _Store:
    """Destination of the chunk results, kept sample-last: numpy arrays in memory, or one raw
    float64 file per variable in a temporary directory.

    Each variable is held as ``(cells, samples)``: the values of one result cell for all
    samples are contiguous, so the summary reads a block of cells for every sample in one go
    (:meth:`read_columns`) and needs no transposition of the whole ensemble. On disk the chunk
    of samples ``start .. stop - 1`` is one tile at value offset ``cells * start``, cell-major
    inside (``cells x (stop - start)``): a chunk is one ``pwritev``, a block of cells one or
    two ``pread`` per chunk.

    A tile is compacted (:func:`_tile_layout`): a cell with the same value, bit for bit, in
    every sample of the chunk (a third of the cells of the Nd model: zeros, fixed history) is
    stored once, at the head of the tile, and only the other cells' rows follow. The layout of
    each chunk (which cells vary, packed bits) is kept in memory (:meth:`record`). It saves a
    third of the bytes written and read, and writes count double: once about 15 % of the
    memory holds unwritten file pages (Linux's defaults), the kernel slows a writer down to the
    disk's speed.

    The directory is ``tmpdir`` or the one :func:`mfa.analysis.budget.store_directory` chooses:
    shared memory (``/dev/shm``) when the store fits there with room to spare, else the system's
    temporary directory. On disk the files are allocated in full when the store opens
    (``posix_fallocate``), so a disk too small fails at once, before any sample is computed,
    with a plain message; chunks are written with ``pwrite`` (no HDF5 library, which crashes on
    a full disk). The files are unlinked as soon as they are open: nothing is left behind, even
    by a killed process. ``close`` (also on an error or an interruption) closes them; writes
    that arrive afterwards (from chunks still running in other threads) are refused.
    """

    def __init__(self, n: int, shapes: Mapping[str, tuple[int, ...]], *, on_disk: bool,
                 tmpdir: str | os.PathLike | None = None) -> None:
        _finish_closing()
        self.n = n
        self.shapes = dict(shapes)
        self.cells = {v: int(np.prod(s)) for v, s in self.shapes.items()}
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.done = 0
        self.spans: list[tuple[int, int]] = []
        #: per chunk start: per variable the packed bits of the cells stored in full, or None
        #: (the whole tile stored: in memory, or compacting would not save space)
        self.layouts: dict[int, dict[str, np.ndarray | None]] = {}
        #: the directory of the files (for messages; they are unlinked once open), or None
        self.where: str | None = None
        self._fds: dict[str, int] = {}
        if on_disk:
            if tmpdir is not None and not Path(tmpdir).is_dir():
                raise UncertaintyError(f"temporary directory {tmpdir} does not exist")
            self.where, in_memory = store_directory(n * sum(self.cells.values()) * 8, tmpdir)
            self._open_files(n, reserve=not in_memory)
            self.data: dict[str, np.ndarray] = {}
        else:
            self.data = {v: np.empty((self.cells[v], n)) for v in self.shapes}

    def _open_files(self, n: int, *, reserve: bool) -> None:
        """One file per variable in a new directory in :attr:`where`, ``reserve``-d in full
        (:func:`_allocate`); then the files and the directory are unlinked: the store lives on
        through its descriptors (shared with forked workers) and leaves nothing behind, even
        when the process is killed."""
        made = None
        try:
            made = tempfile.mkdtemp(prefix="mfa-mc-", dir=self.where)
            for i, v in enumerate(self.shapes):
                path = Path(made) / f"{i}.f8"
                self._fds[v] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                os.unlink(path)
                if reserve:
                    _allocate(self._fds[v], n * self.cells[v] * 8)
        except OSError as exc:
            self.close()
            raise UncertaintyError(f"cannot create the temporary ensemble store in "
                                   f"{made or self.where}: {plain_error(exc)}") from None
        finally:
            if made is not None:
                shutil.rmtree(made, ignore_errors=True)

    def write(self, start: int, stop: int, arrays: Mapping[str, np.ndarray], *,
              sample_last: bool = False) -> int:
        """Store samples ``start .. stop - 1``: ``arrays[v]`` is ``(k, *shape)``, or with
        ``sample_last`` already ``(cells, k)`` C-contiguous (:func:`to_sample_last`)."""
        if not sample_last:
            arrays = {v: to_sample_last(a) for v, a in arrays.items()}
        with self.lock:
            layout = self.put(start, stop, arrays)
            return self.record(start, stop, layout)

    @property
    def on_disk(self) -> bool:
        """Whether the store is a temporary directory (else arrays in memory)."""
        return self.where is not None

    def put(self, start: int, stop: int, arrays: Mapping[str, np.ndarray]
            ) -> dict[str, np.ndarray | None]:
        """Write the sample-last ``arrays`` of samples ``start .. stop - 1`` without recording
        them: what a forked worker process does on a store on disk (the file descriptors are
        shared, the bookkeeping is the parent's). Returns the chunk's layout, for
        :meth:`record`."""
        k = stop - start
        if self.closed.is_set():
            raise UncertaintyError("the ensemble store is closed (run cancelled)")
        layout: dict[str, np.ndarray | None] = {}
        for v, arr in arrays.items():
            if arr.shape != (self.cells[v], k):
                raise UncertaintyError(f"chunk of {v!r} has shape {arr.shape}, expected "
                                       f"{(self.cells[v], k)}")
            if not self._fds:
                self.data[v][:, start:stop] = arr
                layout[v] = None
                continue
            block = np.ascontiguousarray(arr, dtype="<f8")
            varying, parts = _tile_layout(block)
            layout[v] = None if varying is None else np.packbits(varying)
            try:
                _pwrite_all(self._fds[v], parts, self.cells[v] * start * 8)
            except OSError as exc:
                raise UncertaintyError(f"cannot write the temporary ensemble store in "
                                       f"{self.where}: {plain_error(exc)}") from None
        return layout

    def record(self, start: int, stop: int, layout: Mapping[str, np.ndarray | None]) -> int:
        """Count samples ``start .. stop - 1`` as stored, with the ``layout`` :meth:`put`
        returned for them; their number."""
        if self.closed.is_set():
            raise UncertaintyError("the ensemble store is closed (run cancelled)")
        self.spans.append((start, stop))
        self.layouts[start] = dict(layout)
        self.done += stop - start
        return stop - start

    def read_columns(self, v: str, j0: int, j1: int, out: np.ndarray | None = None
                     ) -> np.ndarray:
        """Cells ``j0 .. j1 - 1`` of ``v`` for every sample, (j1 - j0, n): in ``out`` (float64,
        C-contiguous, of that shape) or a new array."""
        if out is None:
            out = np.empty((j1 - j0, self.n), dtype="<f8")
        self._check_out(out, j1 - j0, "read_columns")
        self._read(v, j0, j1, out, skip_constant=False)
        return out

    def read_varying(self, v: str, j0: int, j1: int, out: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """The cells ``j0 .. j1 - 1`` of ``v`` that do not hold the same bits in every sample,
        packed in the first rows of ``out`` ((j1 - j0, n), reused by the summary): returns
        their indices ``vary`` (in ``0 .. j1 - j0 - 1``; their samples are ``out[:vary.size]``)
        and the value of every cell in the first sample (that of the cells not in ``vary``).

        Constant cells (a third of the Nd cells: zeros and fixed history) are known from the
        chunks' layouts and first values: they are neither copied nor selected. A store in
        memory, or a chunk stored whole, says nothing: every cell is then read."""
        self._check_out(out, j1 - j0, "read_varying")
        return self._read(v, j0, j1, out, skip_constant=True)

    def _read(self, v: str, j0: int, j1: int, out: np.ndarray, *, skip_constant: bool
              ) -> tuple[np.ndarray, np.ndarray]:
        """Read cells ``j0 .. j1 - 1`` of ``v`` into ``out``: every cell in order, or with
        ``skip_constant`` only those that vary, packed first (:meth:`read_varying`); returns
        the indices of the cells read and every cell's value in the first sample."""
        m = j1 - j0
        spans = self._spans_of(v)
        if not self._fds:
            out[...] = self.data[v][j0:j1]
            return np.arange(m), out[:, 0].copy()
        cells = self.cells[v]
        heads = np.empty((len(spans), m), dtype="<f8")  # each chunk's first sample
        layouts: list[np.ndarray | None] = []
        constant = np.full(m, skip_constant)
        for i, (start, _) in enumerate(spans):
            packed = self.layouts[start][v]
            varying = None if packed is None else np.unpackbits(packed, count=cells).view(bool)
            layouts.append(varying)
            if varying is None:  # stored whole: nothing known constant
                constant[:] = False
                continue
            self._pread(v, heads[i], cells * start + j0)  # the same bits as the first chunk's
            constant &= ~varying[j0:j1] & (heads[i].view(np.uint64) == heads[0].view(np.uint64))
        vary = np.flatnonzero(~constant)
        row = np.zeros(m, dtype=np.intp)  # the row of out of each cell read
        row[vary] = np.arange(vary.size)
        block = out[:vary.size]
        buffer = np.empty(m * max((b - a for a, b in spans), default=0), dtype="<f8")
        for i, (start, stop) in enumerate(spans):
            varying, k = layouts[i], stop - start
            tile = buffer[:m * k].reshape(m, k)
            if varying is None:  # then every cell is read, in order
                self._pread(v, tile, cells * start + j0 * k)
                block[:, start:stop] = tile
                continue
            once = np.flatnonzero(~varying[j0:j1] & ~constant)  # the same in this chunk
            block[row[once], start:stop] = heads[i, once, None]
            self._read_rows(v, varying, j0, j1, start, tile, block[:, start:stop], row)
        return vary, (heads[0] if vary.size < m else out[:, 0]).copy()

    def _read_rows(self, v: str, varying: np.ndarray, j0: int, j1: int, start: int,
                   tile: np.ndarray, into: np.ndarray, row: np.ndarray) -> None:
        """Read the rows of cells ``j0 .. j1 - 1`` that vary in the compacted chunk at
        ``start`` (``varying``: its layout) into ``into[row[cell]]``, through ``tile``."""
        rows = np.flatnonzero(varying[j0:j1])
        if rows.size:
            full = tile[:rows.size]
            k = tile.shape[1]
            before = int(np.count_nonzero(varying[:j0]))
            self._pread(v, full, self.cells[v] * (start + 1) + before * k)
            into[row[rows]] = full

    def _check_out(self, out: np.ndarray, m: int, what: str) -> None:
        if out.shape != (m, self.n) or out.dtype != np.float64 or not out.flags.c_contiguous:
            raise UncertaintyError(f"{what}: out must be C-contiguous float64 of shape "
                                   f"{(m, self.n)}, got {out.dtype} {out.shape}")

    def _spans_of(self, v: str) -> list[tuple[int, int]]:
        """The chunks' sample ranges, sorted, after checking that they hold every sample and
        ``v`` (a chunk written without it: an error, not zeros or garbage)."""
        spans = sorted(self.spans)
        covered = sum(b - a for a, b in spans)
        if covered != self.n:
            raise UncertaintyError(f"the ensemble store holds {covered} of {self.n} samples")
        lacking = [(a, b) for a, b in spans if v not in self.layouts[a]]
        if lacking:
            a, b = lacking[0]
            raise UncertaintyError(f"the ensemble store holds no {v!r} for samples {a} .. {b - 1}")
        return spans

    def _pread(self, v: str, into: np.ndarray, offset: int) -> None:
        """Fill the contiguous ``into`` from value offset ``offset`` of ``v``'s file."""
        _pread_all(self._fds[v], memoryview(into).cast("B"), offset * 8, self.where)

    def read(self, v: str) -> np.ndarray:
        """All samples of ``v``: a new (n, *shape) array."""
        cols = self.read_columns(v, 0, self.cells[v])
        return np.ascontiguousarray(cols.T).reshape((self.n, *self.shapes[v]))

    def close(self) -> None:
        """Refuse further writes and close the files. They are unlinked already; closing them
        frees their pages (~0.15 s for the 2 GB of 10,000 Nd samples), in a thread that the
        caller does not wait for: the next store waits for it (:func:`_finish_closing`), so
        that no such thread is left when it decides whether to fork."""
        with self.lock:
            self.closed.set()
            fds, self._fds = list(self._fds.values()), {}
        if fds:
            closer = threading.Thread(target=_close_all, args=(fds,), name="mfa-store-close",
                                      daemon=True)
            closer.start()
            _CLOSING.append(closer)

    def __enter__(self) -> _Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


#: Threads closing the files of closed stores (:meth:`_Store.close`).
_CLOSING: list[threading.Thread] = []


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _finish_closing() -> None:
    """Wait until the files of every closed store are closed (their memory freed)."""
    while True:
        try:
            closer = _CLOSING.pop()
        except IndexError:  # none left (another thread may have taken the last)
            return
        closer.join()


def to_sample_last(arr: np.ndarray) -> np.ndarray:
    """``(k, *shape)`` -> C-contiguous ``(cells, k)`` float64 (the store's layout)."""
    arr = np.asarray(arr, dtype=float)
    return np.ascontiguousarray(arr.reshape(arr.shape[0], -1).T)


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


def _tile_layout(tile: np.ndarray) -> tuple[np.ndarray | None, list[memoryview]]:
    """How to store the C-contiguous ``tile`` (cells, k): ``(varying, parts)``.

    ``varying`` marks the cells whose rows are stored in full; the others hold the same bits
    in every sample (NaN included; 0.0 and -0.0 differ) and are stored by their first value.
    ``parts`` is what to write, in order: the first value of every cell, then the rows of the
    varying cells, as views of ``tile`` (runs of consecutive rows; nothing copied). ``varying``
    is None, and ``parts`` the whole tile, where that would not be smaller.
    """
    cells, k = tile.shape
    whole = [memoryview(tile).cast("B")]
    if k < 2 or cells == 0:
        return None, whole
    bits = tile.view(np.uint64)  # the same bits, not equal values (0.0, -0.0; NaN payloads)
    first = bits[:, 0]
    # only cells whose middle and last samples hold their first bits can be constant: those
    # (a third of the Nd cells) are compared in full (2x faster than comparing every cell)
    maybe = np.flatnonzero((bits[:, k - 1] == first) & (bits[:, k // 2] == first))
    candidates = bits[maybe]
    varying = np.ones(cells, dtype=bool)
    varying[maybe] = ~(candidates == candidates[:, :1]).all(axis=1)
    stored = int(np.count_nonzero(varying))
    if cells + stored * k >= cells * k:
        return None, whole
    edges = np.diff(np.concatenate(([0], varying.view(np.int8), [0])))
    rows = memoryview(tile).cast("B")
    parts = [memoryview(np.ascontiguousarray(tile[:, 0])).cast("B")]
    parts += [rows[a * k * 8:b * k * 8] for a, b in zip(np.flatnonzero(edges == 1).tolist(),
                                                         np.flatnonzero(edges == -1).tolist(),
                                                         strict=True)]
    return varying, parts


def _pwrite_all(fd: int, parts: list[memoryview], offset: int) -> None:
    """Write ``parts`` one after the other from byte ``offset`` (``pwritev``, at most
    ``IOV_MAX`` parts a call, short writes resumed)."""
    limit = getattr(os, "IOV_MAX", 1024) if hasattr(os, "pwritev") else 1
    i = 0
    while i < len(parts):
        batch = parts[i:i + limit]
        k = os.pwritev(fd, batch, offset) if limit > 1 else os.pwrite(fd, batch[0], offset)
        offset += k
        while i < len(parts) and k >= len(parts[i]):  # parts written in full
            k -= len(parts[i])
            i += 1
        if k:  # part ``i`` written in part: the rest of it
            parts = [*parts[:i], parts[i][k:], *parts[i + 1:]]


def _pread_all(fd: int, view: memoryview, offset: int, where: str | None) -> None:
    pos = 0
    while pos < len(view):
        k = os.preadv(fd, [view[pos:]], offset + pos)
        if k == 0:
            raise UncertaintyError(f"the temporary ensemble store in {where} is short")
        pos += k
