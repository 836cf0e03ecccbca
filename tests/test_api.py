"""The curated public API in ``mfa`` (lazy, PEP 562)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mfa


def test_every_public_name_resolves():
    for name in mfa.__all__:
        assert getattr(mfa, name) is not None, name
    assert set(mfa.__all__) <= set(dir(mfa))


def test_import_is_cheap():
    code = "import sys, mfa; print('xarray' in sys.modules, 'pint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_unknown_name():
    with pytest.raises(AttributeError, match="module 'mfa' has no attribute 'nope'"):
        mfa.nope  # noqa: B018


def test_models_by_name():
    assert "neodymium" in mfa.available_models()
    assert mfa.get_model("neodymium").material == "Nd"
