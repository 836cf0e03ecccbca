"""The inputs of a command (parameter files, scenario files, results read), so that no output
of the command can replace one (:class:`mfa.io.outputs.OutputSet` refuses them). Standard
library only, like :mod:`mfa.io.outputs`: the command line imports it before numpy."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mfa.core.errors import MfaError

__all__ = ["Inputs", "protected_inputs"]


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _files_within(directory: Path, depth: int) -> list[Path]:
    """Files in ``directory`` and its subdirectories down to ``depth`` levels (1: no subdirs)."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    files = []
    for e in entries:
        with contextlib.suppress(OSError):
            if e.is_file():
                files.append(Path(e.path))
            elif e.is_dir() and depth > 1:
                files += _files_within(Path(e.path), depth - 1)
    return files


def _is_within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


@dataclass
class Inputs:
    """What a command reads, so that no output lands on it.

    Parameters
    ----------
    files : iterable of path-like
        Files read (scenario files, results files...). An output may not resolve to one of
        them (symbolic links followed) nor be the same file (hard link).
    directories : iterable of (path-like, str)
        Directories no output may lie in, each with a description ("the parameter
        directory").
    """

    files: Iterable[str | os.PathLike[str]] = ()
    directories: Iterable[tuple[str | os.PathLike[str], str]] = ()
    _real: dict[str, Path] = field(init=False, repr=False)
    _inodes: dict[tuple[int, int], Path] = field(init=False, repr=False)
    _dirs: list[tuple[str, str, Path]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._real, self._inodes, self._dirs = {}, {}, []
        for f in self.files:
            p = Path(f)
            self._real[os.path.realpath(p)] = p
            ino = _inode(p)
            if ino is not None:
                self._inodes[ino] = p
        for d, what in self.directories:
            self._dirs.append((os.path.realpath(d), what, Path(d)))
            for f in _files_within(Path(d), depth=2):  # hard links to its files, anywhere
                ino = _inode(f)
                if ino is not None:
                    self._inodes.setdefault(ino, f)

    def why_refused(self, path: Path) -> str | None:
        """Why ``path`` may not be written, or None."""
        real = os.path.realpath(path)
        if real in self._real:
            return f"it is an input of this run ({self._real[real]})"
        for d, what, shown in self._dirs:
            if _is_within(real, d):
                return f"it lies inside {what} {shown}; write outputs elsewhere"
        ino = _inode(path)
        if ino is not None and ino in self._inodes:
            return f"it is the same file as the input {self._inodes[ino]} (a hard link)"
        return None


def protected_inputs(params_dir: str | os.PathLike[str] | None, scenario: object = None,
                     files: Iterable[str | os.PathLike[str]] = ()) -> Inputs:
    """The inputs of a command, for an :class:`OutputSet`: one helper for every subcommand.

    Parameters
    ----------
    params_dir : path-like or None
        Parameter directory (None: the packaged default data). No output may lie inside it:
        every ``*.csv`` there is read as data by the next run. A parameter workbook
        (``.xlsx``) is protected as a file.
    scenario : str, path-like or mfa.data.scenarios.Scenario, optional
        The scenario; its file and every file of its ``base`` chain are protected (they may
        lie outside the parameter directory). A scenario that cannot be loaded protects
        nothing here: the command fails on it with the loader's message before writing.
    files : iterable of path-like
        Other files the command reads (e.g. the results files of ``mfa plot``).
    """
    from mfa.data.params import default_params_dir
    from mfa.data.scenarios import load_scenario

    root = Path(params_dir) if params_dir is not None else default_params_dir()
    read = [Path(f) for f in files]
    if scenario is not None:
        try:
            scen = scenario if hasattr(scenario, "chain") else load_scenario(scenario, root)
        except MfaError:
            scen = None
        if scen is not None:
            read += [s.path for s in scen.chain() if s.path is not None]
    if root.suffix.lower() == ".xlsx" and not root.is_dir():  # a parameter workbook
        return Inputs(files=[*read, root])
    return Inputs(files=read, directories=[(root, "the parameter directory")])


