"""Shared test set-up: every test leaves no pyplot figure open.

The figure functions of :mod:`mfa.plot` return pyplot-managed figures (so that ``plt.show()``
shows them); pyplot keeps a figure until it is closed, so tests that draw would otherwise pile
figures up (and trip matplotlib's warning about more than 20 open figures).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt = sys.modules.get("matplotlib.pyplot")  # never import matplotlib for tests without it
    if plt is not None:
        plt.close("all")
