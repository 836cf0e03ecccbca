"""The package's layers import in one direction only (issue 9; DESIGN.md section 1).

core imports nothing else of mfa; data imports only core; analysis, io and plot never import
mfa.models or mfa.cli; models never import mfa.cli. Module-level and function-level imports
both count. Also: argparse is known only to mfa.cli.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mfa

PACKAGE = Path(mfa.__file__).parent
LAYERS = ("core", "data", "analysis", "io", "plot", "models", "cli")
FORBIDDEN = {
    "core": {"data", "analysis", "io", "plot", "models", "cli"},
    "data": {"analysis", "io", "plot", "models", "cli"},
    "analysis": {"models", "cli"},
    "io": {"models", "cli"},
    "plot": {"models", "cli"},
    "models": {"cli"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    rel = path.relative_to(PACKAGE)
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["mfa", *rel.parts[:-1]][: len(rel.parts) + 1 - node.level]
                out.append((node.lineno, ".".join([*base, *(node.module or "").split(".")]).strip(".")))
            elif node.module:
                out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return out


def _violations() -> list[str]:
    bad = []
    for f in sorted(PACKAGE.rglob("*.py")):
        rel = f.relative_to(PACKAGE)
        layer = rel.parts[0] if len(rel.parts) > 1 else None
        for line, target in _imports(f):
            parts = target.split(".")
            if layer in FORBIDDEN and parts[0] == "mfa" and len(parts) > 1 \
                    and parts[1] in FORBIDDEN[layer]:
                bad.append(f"{rel}:{line} imports {target}")
            if target == "argparse" and layer != "cli":
                bad.append(f"{rel}:{line} imports argparse (only mfa.cli knows the command line)")
    return bad


def test_every_layer_is_a_package():
    for layer in LAYERS:
        assert (PACKAGE / layer / "__init__.py").is_file(), layer


def test_imports_go_one_way():
    assert _violations() == []


@pytest.mark.parametrize("text, expected", [
    ("from mfa.models.neodymium import run\n", "imports mfa.models.neodymium"),
    ("def f():\n    import mfa.cli\n", "imports mfa.cli"),
    ("import argparse\n", "imports argparse"),
])
def test_the_check_catches_a_planted_import(tmp_path, monkeypatch, text, expected):
    planted = PACKAGE / "analysis" / "_planted_for_test.py"
    planted.write_text(text, encoding="utf-8")
    try:
        assert any(expected in v for v in _violations())
    finally:
        planted.unlink()
