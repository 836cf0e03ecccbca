"""Safe reading of the files of a parameter directory: regular files only, UTF-8 (a byte-order
mark is accepted), TOML and CSV with ``#`` comment lines, sha256 of every file read."""

from __future__ import annotations

import csv
import hashlib
import importlib
import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from mfa.core.errors import ParameterError
from mfa.data.problems import MAX_MESSAGES, Problems, fmt_list

__all__ = [
    "check_header",
    "decode_toml",
    "default_params_dir",
    "is_workbook",
    "list_data_files",
    "read_csv",
    "read_input_file",
    "read_toml",
    "relname",
    "sha256",
]

_SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")  # refused: their edits would be ignored


def default_params_dir() -> Path:
    """The packaged default parameter directory (``params/`` in the repository).

    Found through ``importlib.resources`` as the package ``mfa._params``; from a source tree
    without an installed package, ``params/`` next to the ``mfa`` package.

    Returns
    -------
    pathlib.Path
    """
    candidates: list[Path] = []
    try:
        mod = importlib.import_module("mfa._params")
        candidates += [Path(p) for p in getattr(mod, "__path__", [])]
    except ImportError:
        pass
    package = Path(__file__).resolve().parents[1]  # the mfa/ directory
    candidates += [package / "_params", package.parent / "params"]
    for c in candidates:
        if (c / "registry.toml").is_file():
            return c
    for c in candidates:
        if c.is_dir():
            return c
    raise ParameterError(
        "cannot find the default parameter directory (package mfa._params or params/ in the "
        "source tree); pass a path to load_parameters()"
    )


def is_workbook(path: Path) -> bool:
    """Whether ``path`` names a parameter workbook (``*.xlsx``, not a directory)."""
    return path.suffix.lower() == ".xlsx" and not path.is_dir()


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _kind_of(mode: int) -> str:
    """A file type for messages: ``"a directory"``, ``"a FIFO (named pipe)"``, ..."""
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a regular file"


def read_input_file(path: str | Path, error: type[Exception] = ParameterError,
                    what: str = "file", hint: str = "") -> bytes:
    """Read an input file that must be a regular file, without ever blocking.

    A FIFO, device, socket or directory with the name of an input file is refused (reading a
    FIFO would wait forever for a writer); unreadable files give a clear message instead of an
    ``OSError``.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    error : type of Exception
        Raised for every problem (``ParameterError``, or ``ScenarioError`` for scenarios).
    what : str
        What the file is, for the messages (e.g. ``"scenario file"``).
    hint : str
        Added to the "not found" message (e.g. ``" (every parameter directory needs it)"``).

    Returns
    -------
    bytes
        The whole file.

    Raises
    ------
    error
        ``"<path>: file not found"``, ``"<path>: is a directory, expected a <what>"``,
        ``"<path>: cannot read: Permission denied"`` and the like.
    """
    path = Path(path)
    if "\0" in str(path):
        raise error(f"{str(path)!r}: a file name cannot contain a NUL character")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found{hint}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, expected a {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{path}: is {_kind_of(mode)}, expected a {what} (a regular file)")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def decode_toml(raw: bytes, path: Path, error: type[Exception] = ParameterError) -> dict:
    """Parse TOML bytes (UTF-8, a leading byte-order mark is accepted) or raise ``error``."""
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def relname(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX), or its name."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def read_toml(path: Path, files: dict[str, str], root: Path) -> dict:
    """Read a TOML file every parameter directory needs; record its sha256 in ``files``."""
    data = read_input_file(path, hint=" (every parameter directory needs it)")
    files[relname(path, root)] = sha256(data)
    return decode_toml(data, path)


def _records(path: Path, text: str) -> tuple[list[list[str]], list[int]]:
    """CSV records without comment and blank lines, and the line on which each starts."""
    lines = text.splitlines()
    numbers: list[int] = []

    def data_lines() -> Iterator[str]:
        for i, line in enumerate(lines, start=1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            numbers.append(i)
            yield line

    records: list[list[str]] = []
    starts: list[int] = []
    consumed = 0
    try:
        for rec in csv.reader(data_lines()):
            start = numbers[consumed]
            consumed = len(numbers)
            if records and not any(c.strip() for c in rec):
                continue  # a row of empty cells (spreadsheet export): skipped
            starts.append(start)
            records.append(rec)
    except csv.Error as exc:
        raise ParameterError(f"{path}, line {numbers[-1] if numbers else 1}: {exc}") from None
    return records, starts


def check_header(path: Path | str, line: int, header: list[str], expected: tuple[str, ...],
                 optional: tuple[str, ...], line_word: str = "line") -> None:
    """Refuse a header with missing, unexpected or duplicate columns (``line_word``: ``"line"``
    in a file, ``"row"`` in a sheet)."""
    missing = [c for c in expected if c not in header and c not in optional]
    unexpected = [c for c in header if c not in expected]
    dups = sorted({c for c in header if header.count(c) > 1})
    if not (missing or unexpected or dups):
        return
    parts = []
    if missing:
        parts.append(f"missing columns {fmt_list(missing)}")
    if unexpected:
        parts.append(f"unexpected columns {fmt_list(unexpected)}")
    if dups:
        parts.append(f"duplicate columns {fmt_list(dups)}")
    extra = (f" (allowed columns: {fmt_list(expected)}; the dim columns {fmt_list(optional)} "
             f"may be left out)" if optional else "")
    raise ParameterError(f"{path}, {line_word} {line} (header): {'; '.join(parts)}; expected the "
                         f"header {','.join(expected)}{extra}")


def read_csv(
    path: Path, expected: tuple[str, ...], files: dict[str, str], root: Path, hint: str = "",
    optional: tuple[str, ...] = (),
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Read a CSV file with ``#`` comment lines and the header ``expected`` (order free).

    Columns in ``optional`` may be absent: they are returned as empty strings.

    Returns
    -------
    lines : numpy.ndarray of int
        The line number of each record (the header is line 1 unless comments precede it).
    columns : dict of str to numpy.ndarray
        The columns (stripped strings) by header name, every column of ``expected``.
    """
    raw = read_input_file(path, what="file", hint=hint)
    files[relname(path, root)] = sha256(raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not UTF-8 text ({exc})") from None
    records, starts = _records(path, text)
    if not records:
        raise ParameterError(f"{path}: empty file, expected the header line {','.join(expected)}")
    header = [h.strip() for h in records[0]]
    check_header(path, starts[0], header, expected, optional)
    body = records[1:]
    line_no = np.asarray(starts[1:], dtype=np.int64)
    width = len(header)
    bad = [i for i, r in enumerate(body) if len(r) != width]
    if bad:
        problems = Problems()
        for i in bad[:MAX_MESSAGES]:
            problems.add(f"{path}, line {line_no[i]}: {len(body[i])} fields, expected {width} "
                         f"({','.join(header)})", line=int(line_no[i]))
        problems.raise_if_any()
    if body:
        cols = [np.array([c.strip() for c in col], dtype=object) for col in zip(*body, strict=True)]
    else:
        cols = [np.array([], dtype=object) for _ in header]
    out = dict(zip(header, cols, strict=True))
    for c in expected:
        if c not in out:
            out[c] = np.full(len(body), "", dtype=object)
    return line_no, out


def list_data_files(root: Path) -> list[Path]:
    """The data files ``*.csv`` (any case of the suffix) of a parameter directory, by name.

    Raises
    ------
    ParameterError
        If ``root`` is missing, not a directory or cannot be listed, or holds a spreadsheet.
    """
    if "\0" in str(root):
        raise ParameterError(f"{str(root)!r}: a directory name cannot contain a NUL character")
    try:
        with os.scandir(root) as it:
            names = [e.name for e in it]
    except FileNotFoundError:
        raise ParameterError(f"{root}: parameter directory not found") from None
    except NotADirectoryError:
        raise ParameterError(f"{root}: not a directory (expected a parameter directory)") from None
    except OSError as exc:
        raise ParameterError(f"{root}: cannot read the parameter directory: "
                             f"{exc.strerror or exc}") from None
    sheets = sorted(n for n in names if n.lower().endswith(_SPREADSHEETS))
    if sheets:
        raise ParameterError(
            f"{root / sheets[0]}: a spreadsheet in the parameter directory is not read (only "
            f"*.csv files are): edits made in it would be ignored; save the sheet as CSV "
            f"(UTF-8) or move the workbook out of {root}")
    return [root / n for n in sorted(names)
            if n.lower().endswith(".csv") and n.lower() != "sources.csv"]
