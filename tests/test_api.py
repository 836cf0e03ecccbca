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


#: Old module path -> new one (thin deprecation shims, kept for one release).
SHIMS = {
    "mfa.errors": "mfa.core.errors",
    "mfa.units": "mfa.core.units",
    "mfa.system": "mfa.core.system",
    "mfa.lifetimes": "mfa.core.lifetimes",
    "mfa.stocks": "mfa.core.stocks",
    "mfa.params": "mfa.data.params",
    "mfa.scenarios": "mfa.data.scenarios",
    "mfa.indicators": "mfa.analysis.indicators",
    "mfa.neodymium": "mfa.models.neodymium",
}


@pytest.mark.parametrize("old, new", sorted(SHIMS.items()))
def test_old_module_paths_warn_and_reexport(old, new):
    code = (f"import warnings, importlib; warnings.simplefilter('error', DeprecationWarning)\n"
            f"try:\n    importlib.import_module({old!r})\nexcept DeprecationWarning as w:\n"
            f"    print('warned:', w)\n"
            f"warnings.simplefilter('ignore')\nold = importlib.import_module({old!r}); "
            f"new = importlib.import_module({new!r})\n"
            f"assert all(getattr(old, n) is getattr(new, n) for n in new.__all__)\nprint('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert f"warned: {old} is deprecated: import from {new}" in out.stdout
    assert out.stdout.strip().endswith("ok")
