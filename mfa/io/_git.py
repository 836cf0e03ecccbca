"""The git commit of the source tree the package runs from (standard library only: the command
line's ``--version`` uses it without importing numpy)."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

__all__ = ["git_commit"]


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The git commit of the source tree this package was imported from, or None.

    Returns
    -------
    str or None
        The 40-hex commit, with ``"-dirty"`` appended when tracked files differ from it; None
        when the package does not sit at the top of a git checkout (an installed wheel), when
        git is not installed, or when git fails. Never raises. Computed once per process.
    """
    root = Path(__file__).resolve().parents[2]  # mfa/io/_git.py -> the source tree
    if not (root / "mfa").is_dir():
        return None
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=5, env=env, check=True)
        return done.stdout.strip()

    try:
        top = Path(git("rev-parse", "--show-toplevel")).resolve()
        if top != root:  # the package lies inside some other repository: not its source
            return None
        commit = git("rev-parse", "--verify", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return commit + ("-dirty" if dirty else "")
