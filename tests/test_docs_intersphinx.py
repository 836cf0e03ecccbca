"""The intersphinx inventories shipped in docs/_intersphinx (issue 12, item 6): one per project
of ``intersphinx_mapping``, readable, with the names the API pages link to, at the addresses
of each project's documentation."""

from __future__ import annotations

import re
import sys
import zlib
from pathlib import Path

import pytest

DIR = Path(__file__).resolve().parents[1] / "docs" / "_intersphinx"
if not DIR.is_dir():  # an installed package without the docs
    pytest.skip("docs/_intersphinx not in this tree", allow_module_level=True)
sys.path.insert(0, str(DIR))
from make_inventories import BASE_URLS, inventory  # noqa: E402

sys.path.remove(str(DIR))
LINE = re.compile(r"(?x)(.+?)\s+(\S+:\S+)\s+(-?\d+)\s+(\S+)\s+(.*)")


def _read(path: Path) -> dict[tuple[str, str], str]:
    """{(name, domain:role): uri} of an inventory (format version 2)."""
    data = path.read_bytes()
    lines = data.split(b"\n", 4)
    assert lines[0] == b"# Sphinx inventory version 2", path
    assert b"compressed using zlib" in lines[3], path
    out = {}
    for line in zlib.decompress(lines[4]).decode().splitlines():
        name, role, _, uri, _ = LINE.match(line).groups()
        out[(name, role)] = uri.replace("$", name) if uri.endswith("$") else uri
    return out


@pytest.fixture(scope="module")
def inventories() -> dict[str, dict[tuple[str, str], str]]:
    return {name: _read(DIR / f"{name}.inv") for name in BASE_URLS}


@pytest.mark.parametrize(("project", "name", "role", "uri"), [
    ("xarray", "xarray.Dataset", "py:class", "generated/xarray.Dataset.html#xarray.Dataset"),
    ("xarray", "xarray.core.dataset.Dataset", "py:class",
     "generated/xarray.Dataset.html#xarray.Dataset"),  # the name annotations are written with
    ("xarray", "xarray.DataArray.sel", "py:method",
     "generated/xarray.DataArray.sel.html#xarray.DataArray.sel"),
    ("numpy", "numpy.ndarray", "py:class",
     "reference/generated/numpy.ndarray.html#numpy.ndarray"),
    ("numpy", "numpy.random.Generator", "py:class",
     "reference/random/generator.html#numpy.random.Generator"),
    ("pandas", "pandas.DataFrame", "py:class",
     "reference/api/pandas.DataFrame.html#pandas.DataFrame"),
    ("scipy", "scipy.special.ndtr", "py:function",
     "reference/generated/scipy.special.ndtr.html#scipy.special.ndtr"),
    ("matplotlib", "matplotlib.figure.Figure", "py:class",
     "api/_as_gen/matplotlib.figure.Figure.html#matplotlib.figure.Figure"),
    ("pint", "pint.Quantity", "py:class", "api/base.html#pint.Quantity"),
    ("python", "pathlib.Path", "py:class", "library/pathlib.html#pathlib.Path"),
    ("python", "sequence", "std:term", "glossary.html#term-sequence"),
])
def test_inventories_hold_the_linked_names(inventories, project, name, role, uri):
    assert inventories[project][(name, role)] == uri


def test_only_the_projects_own_objects(inventories):
    """A name imported into a namespace (``matplotlib.colors.Sequence``) is not listed as the
    project's: it would send a link to the wrong site."""
    for project, inv in inventories.items():
        if project == "python":
            continue
        foreign = [n for n, _ in inv if n.split(".")[0] != project]
        assert not foreign, (project, foreign[:5])


def test_inventory_format_round_trip():
    data = inventory("demo", "1.0", [("demo.f", "py:function", "api.html#demo.f"),
                                     ("demo.f", "py:function", "other.html"),  # first kept
                                     ("path-like object", "std:term", "g.html#term-x")])
    lines = data.split(b"\n", 4)
    body = zlib.decompress(lines[4]).decode().splitlines()
    assert lines[1] == b"# Project: demo" and lines[2] == b"# Version: 1.0"
    assert body == ["demo.f py:function 1 api.html#$ -",
                    "path-like object std:term 1 g.html#term-x -"]
