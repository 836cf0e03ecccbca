"""Output files written all or nothing, never onto an input.

An :class:`OutputSet` collects the files and directories one command writes. Each output is
*reserved* before any work starts: its path is checked (not empty, not an input of the run,
not inside a protected directory such as the parameter directory, a file where a file is
expected and a directory where a directory is expected, a name the file system accepts) and
its parent directories are created and a temporary ``.mfa-XXXXXXXX.tmp`` is made next to it,
so a path that cannot be written fails at once, with a plain message. The writers fill the
temporaries; :meth:`OutputSet.commit` moves all of them into place only when every one was
written. On any error or interruption :meth:`OutputSet.discard` removes the temporaries and
the directories the set created, and earlier outputs stay as they were.

SIGINT and SIGTERM are deferred while a set commits or discards (:func:`deferred_signals`),
so a signal never leaves half a set in place or a temporary behind; it takes effect right
after.

The test-only hook :func:`checkpoint` lets tests stop the process at a named stage (see
:data:`TEST_PAUSE_ENV`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mfa.core.errors import MfaError

__all__ = [
    "TEST_PAUSE_ENV",
    "OutputSet",
    "Target",
    "checkpoint",
    "deferred_signals",
    "existing_ancestor",
    "joined",
    "plain_error",
    "safe_file_name",
    "scratch_directory",
    "write_bytes",
]

#: Prefix and suffix of temporary names (short, so a 255-byte target name still fits).
TMP_PREFIX, TMP_SUFFIX = ".mfa-", ".tmp"

#: Test-only: name of the environment variable that makes :func:`checkpoint` pause.
TEST_PAUSE_ENV = "MFA_TEST_PAUSE_AT"
_TEST_PAUSE_SECONDS = 30.0

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_pending_signals: list[int] = []


# ---------------------------------------------------------------------------- messages
def plain_error(exc: BaseException) -> str:
    """The reason of an operating-system or HDF5 error in plain words.

    ``OSError`` gives its ``strerror`` ("No space left on device", "Permission denied");
    HDF5 messages ("Unable to synchronously create file (unable to open file: name = ...,
    errno = 28, error message = 'No space left on device', ...)") are reduced to the
    system's message, or to their first clause without library internals.
    """
    text = str(exc)
    found = re.search(r"error message = '([^']*)'", text)
    if found:
        return found.group(1)
    found = re.search(r"errno = (\d+)", text)
    if found:
        return os.strerror(int(found.group(1)))
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if "file signature not found" in text:
        return "not an HDF5 (netCDF-4) file"
    if "truncated file" in text:
        return "the file is truncated"
    return text.split(" (", 1)[0].strip() or type(exc).__name__


def safe_file_name(label: str) -> str:
    """``label`` as a piece of a file name: every character other than ASCII letters, digits,
    ``.``, ``_``, ``+`` and ``-`` becomes ``_`` (so ``"Rest of Asia"`` -> ``"Rest_of_Asia"``,
    ``"EU/EFTA"`` -> ``"EU_EFTA"``); a leading ``.`` too (no hidden files)."""
    name = re.sub(r"[^A-Za-z0-9._+-]", "_", str(label))
    return "_" + name[1:] if name.startswith(".") else name


# ---------------------------------------------------------------------------- signals
def _defer(signum: int, frame: object) -> None:
    _pending_signals.append(signum)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the block runs; deliver them afterwards.

    Only the main thread can change signal handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for s in _SIGNALS:
        handler = signal.getsignal(s)
        if handler is None:  # installed outside Python: leave it alone
            continue
        previous[s] = handler
        signal.signal(s, _defer)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if previous and _pending_signals and all(
            h is not _defer for h in previous.values()
        ):
            signum = _pending_signals[0]
            _pending_signals.clear()
            signal.raise_signal(signum)


def checkpoint(stage: str, until: threading.Event | None = None) -> None:
    """Test-only: pause at ``stage`` when ``MFA_TEST_PAUSE_AT`` names it.

    Writes ``mfa-test: paused at <stage>`` to stderr, then waits up to 30 s (or until
    ``until`` is set, or a deferred signal arrives) so that a test can send a signal at
    exactly this point. Does nothing when the variable is unset (one dict lookup).
    """
    if os.environ.get(TEST_PAUSE_ENV) != stage:
        return
    sys.stderr.write(f"mfa-test: paused at {stage}\n")
    sys.stderr.flush()
    deadline = time.monotonic() + _TEST_PAUSE_SECONDS
    while time.monotonic() < deadline and not _pending_signals:
        if until is not None:
            if until.wait(0.05):
                return
        else:
            time.sleep(0.05)


# ---------------------------------------------------------------------------- inputs
# What a command reads, protected from its outputs: mfa.io.inputs (re-exported here).
from mfa.io.inputs import Inputs, _is_within  # noqa: E402
from mfa.io.inputs import protected_inputs as protected_inputs  # noqa: E402


def scratch_directory(path: str | os.PathLike[str], inputs: Inputs, what: str) -> Path:
    """Check a directory for temporary files: it exists, is writable, is not protected.

    Raises
    ------
    MfaError
        Naming ``what`` and the path.
    """
    p = Path(path)
    if not str(path).strip():
        raise MfaError(f"{what}: empty path; give a directory")
    if not p.is_dir():
        raise MfaError(f"{what} {p}: {'not a directory' if p.exists() else 'no such directory'}")
    why = inputs.why_refused(p)
    if why:
        raise MfaError(f"{what} {p}: refused: {why}")
    try:
        probe = tempfile.mkdtemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=p)
    except OSError as exc:
        raise MfaError(f"{what} {p}: cannot write there: {plain_error(exc)}") from None
    os.rmdir(probe)
    return p


# ---------------------------------------------------------------------------- output sets
@dataclass
class Target:
    """One reserved output: the final ``path``, its temporary ``tmp`` and what it is for."""

    path: Path
    tmp: Path
    kind: str  # "file" or "dir"
    what: str


def _umask() -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def existing_ancestor(path: str | os.PathLike[str]) -> Path:
    """``path`` if it exists, else its nearest existing parent (absolute)."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _name_max(directory: Path) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def write_bytes(path: str | os.PathLike[str], data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` and flush it to disk (errors are plain ``OSError``)."""
    view = memoryview(data)
    with open(path, "wb", buffering=0) as fh:
        while view:
            n = fh.write(view)
            view = view[n:]
        os.fsync(fh.fileno())


class OutputSet:
    """Files and directories written together: all of them, or none (module docstring).

    Use as a context manager: the set commits when the block ends normally and discards
    everything when it raises (or is interrupted).

    Parameters
    ----------
    inputs : Inputs, optional
        What the command reads; outputs onto it are refused.
    """

    def __init__(self, inputs: Inputs | None = None) -> None:
        self.inputs = inputs or Inputs()
        self.targets: dict[str, Target] = {}
        self._created_dirs: list[Path] = []
        self._umask = _umask()
        self._done = False

    # -- reserving ---------------------------------------------------------------------------
    def file(self, path: str | os.PathLike[str], what: str | None = None) -> Target:
        """Reserve the output file ``path``; see the module docstring.

        Parameters
        ----------
        path : path-like
            The file.
        what : str, optional
            What it is, for messages (e.g. the option ``"--out"``). Without ``what`` an
            earlier reservation of the same path is returned (a writer joining the set);
            with it, a path reserved twice is an error.

        Raises
        ------
        MfaError
            Naming ``what`` and the path: empty, an input, inside a protected directory, an
            existing directory, a name too long, a directory that cannot be created or
            written, a path given twice.
        """
        return self._reserve(path, "file", what)

    def directory(self, path: str | os.PathLike[str], what: str | None = None) -> Target:
        """Reserve the output directory ``path``; its files are written into ``target.tmp``."""
        return self._reserve(path, "dir", what)

    def _reserve(self, path: str | os.PathLike[str], kind: str, what: str | None) -> Target:
        text = os.fspath(path)
        noun = "file" if kind == "file" else "directory"
        label = what or f"output {noun}"
        if not str(text).strip():
            raise MfaError(f"{label}: empty path; give a {noun} name")
        p = Path(text)
        limit = _name_max(existing_ancestor(p.parent))
        for part in p.parts:
            if len(os.fsencode(part)) > limit:
                raise MfaError(f"{label} {p}: a name is {len(os.fsencode(part))} bytes long; "
                               f"at most {limit} allowed ({part[:24]}...)")
        key = os.path.abspath(p)
        same = [t for t in self.targets.values() if os.path.abspath(t.path) == key]
        if same and what is None and same[0].kind == kind:
            return same[0]  # a writer joining the reservation of its option
        what = label
        real = os.path.realpath(p)
        for t in self.targets.values():
            other = os.path.realpath(t.path)
            shared_dir = kind == "dir" and t.kind == "dir"  # e.g. --csv DIR --plots DIR
            if (real == other and not shared_dir) or (t.kind == "file" and _is_within(real, other)) or (
                    kind == "file" and _is_within(other, real)):
                raise MfaError(f"{what} {p}: also given as {t.what} {t.path}; give separate paths")
            if real == other:  # make it exist: both then move their files in one by one
                self._make_dirs(p, what)
        why = self.inputs.why_refused(p)
        if why:
            raise MfaError(f"{what} {p}: refused: {why}")
        if kind == "file" and (text.endswith(os.sep) or p.is_dir()):
            raise MfaError(f"{what} {p}: is a directory; expected a file name")
        if kind == "dir" and p.exists() and not p.is_dir():
            raise MfaError(f"{what} {p}: is an existing file; expected a directory")
        parent = p.parent
        self._make_dirs(parent, what)
        where = p if kind == "dir" and p.is_dir() else parent
        try:
            if kind == "file":
                fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=where)
                os.close(fd)
            else:
                tmp = tempfile.mkdtemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=where)
        except OSError as exc:
            raise MfaError(f"{what} {p}: cannot write in {where}: {plain_error(exc)}") from None
        target = Target(p, Path(tmp), kind, what)
        self.targets[f"{key}\0{what}"] = target
        return target

    def _make_dirs(self, directory: Path, what: str) -> None:
        target = Path(os.path.abspath(directory))
        d = existing_ancestor(target)
        if not d.is_dir():
            raise MfaError(f"{what}: cannot create directory {directory}: {d} is not a directory")
        missing = [target, *target.parents][: len(target.parts) - len(d.parts)]
        for m in reversed(missing):
            try:
                m.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise MfaError(f"{what}: cannot create directory {m}: {plain_error(exc)}") from None
            self._created_dirs.append(m)

    # -- writing -----------------------------------------------------------------------------
    def write(self, target: Target, fn: Callable[[Path], object]) -> None:
        """Run ``fn(target.tmp)``; an ``OSError`` becomes an :class:`MfaError` naming the target."""
        try:
            fn(target.tmp)
        except OSError as exc:
            raise MfaError(f"cannot write {target.path}: {plain_error(exc)}") from None

    # -- finishing ---------------------------------------------------------------------------
    def _moves(self) -> list[tuple[Path, Path, Target]]:
        """(temporary, final path, target) of every move, all checked before any is made."""
        moves = []
        for t in self.targets.values():
            if t.kind == "dir" and t.path.is_dir():  # existing directory: file by file
                moves += [(f, t.path / f.name, t) for f in sorted(t.tmp.iterdir())]
            else:
                moves.append((t.tmp, t.path, t))
        seen: dict[str, Target] = {}
        for src, dst, t in moves:
            key = os.path.realpath(dst)
            if key in seen:
                raise MfaError(f"{t.what} and {seen[key].what} would both write {dst}; "
                               "give separate paths")
            seen[key] = t
            why = self.inputs.why_refused(dst)
            if why:
                raise MfaError(f"{t.what}: refused to write {dst}: {why}")
            if (src.is_dir() and dst.exists() and not dst.is_dir()) or (
                    not src.is_dir() and dst.is_dir()):
                raise MfaError(f"{t.what}: cannot replace {dst}: a "
                               f"{'directory' if dst.is_dir() else 'file'} is in the way")
        return moves

    def commit(self) -> None:
        """Move every temporary into place (all checked first); then the set is done."""
        if self._done:
            return
        with deferred_signals():
            try:
                moves = self._moves()
                checkpoint("commit")
                for src, _dst, _t in moves:
                    os.chmod(src, (0o777 if src.is_dir() else 0o666) & ~self._umask)
                for src, dst, _t in moves:
                    try:
                        os.replace(src, dst)
                    except OSError as exc:
                        raise MfaError(f"cannot write {dst}: {plain_error(exc)}") from None
            except BaseException:
                self.discard()
                raise
            for t in self.targets.values():
                if t.tmp.is_dir():  # emptied into an existing directory
                    with contextlib.suppress(OSError):
                        t.tmp.rmdir()
                with contextlib.suppress(OSError):
                    _fsync_dir(t.path if t.kind == "dir" else t.path.parent)
            self._done = True

    def discard(self) -> None:
        """Remove every temporary and the directories this set created (if empty)."""
        with deferred_signals():
            for t in self.targets.values():
                if t.tmp.is_dir():
                    shutil.rmtree(t.tmp, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        t.tmp.unlink()
            for d in reversed(self._created_dirs):
                with contextlib.suppress(OSError):
                    d.rmdir()
            self._created_dirs.clear()
            self._done = True

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def joined(outputs: OutputSet | None) -> Iterator[OutputSet]:
    """``outputs`` itself (the caller commits it), or a new set committed at the end."""
    if outputs is not None:
        yield outputs
        return
    with OutputSet() as own:
        yield own
