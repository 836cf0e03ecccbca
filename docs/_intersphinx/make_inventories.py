"""Build the intersphinx inventories in this directory from the installed packages (offline).

The documentation links names such as :class:`xarray.Dataset` or :func:`numpy.cumsum` to the
projects' own sites through intersphinx, which normally downloads each project's
``objects.inv`` at build time. CI builds the docs without network access, so the inventories
are shipped here instead, and this script makes them: it introspects the installed numpy,
xarray, pint, scipy, pandas, matplotlib (and the Python standard library modules the API
uses) and writes, for each public object, the address where the project's documentation
documents it, following each site's real URL scheme:

==========  ====================================================================
numpy       ``reference/generated/numpy.<name>.html`` (random: ``reference/random/``)
xarray      ``generated/xarray.<name>.html``
pandas      ``reference/api/pandas.<name>.html``
scipy       ``reference/generated/scipy.<sub>.<name>.html``
matplotlib  ``api/_as_gen/matplotlib.<module>.<name>.html``
pint        ``api/base.html#pint.<name>`` (the classes of its "Base API" page)
python      ``library/<module>.html#<module>.<name>``
==========  ====================================================================

A class is also listed under the module that defines it (``xarray.core.dataset.Dataset``,
``pint.registry.Quantity``): that is the name Sphinx writes for a type annotation, so
annotations link too. Only names whose address follows these schemes are listed; the
inventories are small (a few thousand entries, tens of kB) and the links go to the ``stable``
documentation of each project.

Run again after upgrading one of these packages (deterministic output; the docs build only
reads the files)::

    python docs/_intersphinx/make_inventories.py
"""

from __future__ import annotations

import importlib
import inspect
import sys
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: project -> base URL of its documentation (the first element of intersphinx_mapping).
BASE_URLS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "xarray": "https://docs.xarray.dev/en/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "matplotlib": "https://matplotlib.org/stable/",
    "pint": "https://pint.readthedocs.io/en/stable/",
}

Entry = tuple[str, str, str]  # (name, "py:<role>", uri)


def _public(names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if not n.startswith("_"))


def _role(obj: object) -> str | None:
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if callable(obj):
        return "py:function"
    return None


def _members(cls: type) -> list[tuple[str, str]]:
    """(name, role) of the public methods and properties a class defines or inherits
    from the same package."""
    out = []
    for name in _public(dir(cls)):
        try:
            attr = inspect.getattr_static(cls, name)
        except AttributeError:
            continue
        if isinstance(attr, property):
            out.append((name, "py:property"))
        elif isinstance(attr, (classmethod, staticmethod)) or inspect.isfunction(attr) \
                or inspect.ismethoddescriptor(attr) or inspect.isbuiltin(attr):
            out.append((name, "py:method"))
    return out


def _namespace(module: str, names: Iterable[str] | None = None, *,
               everything: bool = False) -> list[tuple[str, object]]:
    mod = importlib.import_module(module)
    if names is None:
        names = set(getattr(mod, "__all__", None) or dir(mod))
        if everything:
            names |= set(dir(mod))
    out = []
    for n in _public(names):
        obj = getattr(mod, n, None)
        if obj is not None and not inspect.ismodule(obj):
            out.append((n, obj))
    return out


def _home(obj: object, package: str) -> str:
    """The module that defines ``obj`` (numpy's ufuncs have none: ``package``)."""
    return str(getattr(obj, "__module__", None) or package)


def _aliases(full: str, obj: object, role: str, uri: str) -> list[Entry]:
    """The entry under the defining module's name too (type annotations use that name)."""
    if not inspect.isclass(obj):
        return []
    defined = f"{obj.__module__}.{obj.__qualname__}"
    return [(defined, role, uri)] if defined != full else []


def _per_page(module: str, page: Callable[[str], str], *, members_of: Iterable[str] = (),
              member_page: Callable[[str], str] | None = None,
              names: Iterable[str] | None = None) -> list[Entry]:
    """Objects of ``module`` documented one per page (autosummary ``generated/`` style)."""
    entries: list[Entry] = []
    package = module.split(".")[0]
    for n, obj in _namespace(module, names):
        role = _role(obj)
        if role is None or _home(obj, package).split(".")[0] != package:
            continue  # imported from elsewhere (e.g. typing names in a module's namespace)
        full = f"{module}.{n}"
        uri = page(full)
        entries.append((full, role, uri))
        entries += _aliases(full, obj, role, uri)
    for cls_name in members_of:
        cls = getattr(importlib.import_module(module), cls_name)
        for m, role in _members(cls):
            full = f"{module}.{cls_name}.{m}"
            entries.append((full, role, (member_page or page)(full)))
    return entries


def _generated(prefix: str) -> Callable[[str], str]:
    return lambda full: f"{prefix}{full}.html#{full}"


def numpy_entries() -> list[Entry]:
    import numpy as np

    top = [n for n in dir(np) if not inspect.ismodule(getattr(np, n, None))]
    scalars = {n for n in top if inspect.isclass(getattr(np, n, None))
               and issubclass(getattr(np, n), np.generic)}
    entries = [("numpy", "py:module", "reference/index.html#module-numpy"),
               ("numpy.random", "py:module", "reference/random/index.html#module-numpy.random")]
    entries += _per_page("numpy", _generated("reference/generated/"),
                        names=[n for n in top if n not in scalars], members_of=["ndarray"])
    entries += [(f"numpy.{n}", "py:class", f"reference/arrays.scalars.html#numpy.{n}")
                for n in sorted(scalars) if not n.startswith("_")]
    gen = "reference/random/generator.html"
    entries += [("numpy.random.Generator", "py:class", f"{gen}#numpy.random.Generator"),
                ("numpy.random._generator.Generator", "py:class", f"{gen}#numpy.random.Generator"),
                ("numpy.random.default_rng", "py:function", f"{gen}#numpy.random.default_rng")]
    entries += [(f"numpy.random.Generator.{m}", role,
                 f"reference/random/generated/numpy.random.Generator.{m}.html"
                 f"#numpy.random.Generator.{m}")
                for m, role in _members(np.random.Generator)]
    entries += [(f"numpy.typing.{n}", "py:data", f"reference/typing.html#numpy.typing.{n}")
                for n in ("ArrayLike", "DTypeLike", "NDArray")]
    return entries


def xarray_entries() -> list[Entry]:
    return _per_page("xarray", _generated("generated/"), members_of=["Dataset", "DataArray"])


def pandas_entries() -> list[Entry]:
    return _per_page("pandas", _generated("reference/api/"),
                     members_of=["DataFrame", "Series", "Index", "MultiIndex"])


def scipy_entries() -> list[Entry]:
    entries: list[Entry] = []
    for sub in ("stats", "stats.qmc", "special", "optimize", "linalg", "sparse", "interpolate",
                "integrate", "signal"):
        entries.append((f"scipy.{sub}", "py:module", f"reference/{sub}.html#module-scipy.{sub}"))
        entries += _per_page(f"scipy.{sub}", _generated("reference/generated/"))
    return entries


def matplotlib_entries() -> list[Entry]:
    page = _generated("api/_as_gen/")
    entries = [("matplotlib.pyplot", "py:module",
                "api/pyplot_summary.html#module-matplotlib.pyplot")]
    entries += _per_page("matplotlib.pyplot", page, names=[
        n for n, o in vars(importlib.import_module("matplotlib.pyplot")).items()
        if inspect.isfunction(o) and o.__module__ == "matplotlib.pyplot"])
    entries += _per_page("matplotlib.figure", page, names=["Figure", "SubFigure"],
                         members_of=["Figure"])
    entries += _per_page("matplotlib.axes", page, names=["Axes"], members_of=["Axes"])
    entries += _per_page("matplotlib.colors", page)
    return entries


def pint_entries() -> list[Entry]:
    """The names of pint's "Base API" page (docs/api/base.rst of pint), with members."""
    import pint

    page = "api/base.html"
    names = ["UnitRegistry", "Quantity", "Unit", "Measurement", "Context", "PintError",
             "DefinitionSyntaxError", "LogarithmicUnitCalculusError", "DimensionalityError",
             "OffsetUnitCalculusError", "RedefinitionError", "UndefinedUnitError",
             "UnitStrippedWarning", "get_application_registry", "set_application_registry",
             "formatter", "register_unit_format", "pi_theorem"]
    entries: list[Entry] = []
    for n in names:
        obj = getattr(pint, n, None)
        role = _role(obj)
        if role is None:
            continue
        if role == "py:class" and issubclass(obj, Warning):
            role = "py:exception"
        full = f"pint.{n}"
        entries.append((full, role, f"{page}#{full}"))
        entries += _aliases(full, obj, role, f"{page}#{full}")
    for cls in ("UnitRegistry", "Quantity", "Unit"):
        for m, role in _members(getattr(pint, cls)):
            full = f"pint.{cls}.{m}"
            entries.append((full, role, f"{page}#{full}"))
    return entries


#: Standard library modules whose names the API documentation uses.
STDLIB = ("pathlib", "os", "collections.abc", "typing", "threading", "contextlib", "io",
          "dataclasses", "enum", "functools", "itertools", "json", "re", "tempfile",
          "warnings", "signal", "argparse", "datetime", "numbers", "subprocess")


def python_entries() -> list[Entry]:
    entries: list[Entry] = []
    for module in STDLIB:
        page = f"library/{module}.html"
        entries.append((module, "py:module", f"{page}#module-{module}"))
        for n, obj in _namespace(module, everything=True):
            role = _role(obj)
            if role is None or getattr(obj, "__module__", module).split(".")[0] not in (
                    module.split(".")[0], "_collections_abc", "posixpath", "posix", "_io",
                    "_thread", "_abc", "_weakrefset", "_signal", "_json", "_functools",
                    "_datetime", "_sre"):
                continue
            if module == "typing" and not inspect.isclass(obj):
                role = "py:data" if n[0].isupper() else role  # Any, Optional, ...
            full = f"{module}.{n}"
            entries.append((full, role, f"{page}#{full}"))
    stdtypes = {"str", "dict", "list", "tuple", "range", "bytes", "bytearray", "set",
                "frozenset", "memoryview"}
    builtins = sys.modules["builtins"]
    for n in _public(dir(builtins)):
        obj = getattr(builtins, n)
        role = _role(obj)
        if role is not None:
            page = "exceptions" if role == "py:exception" else (
                "stdtypes" if n in stdtypes else "functions")
            entries.append((n, role, f"library/{page}.html#{n}"))
    entries += [(n, "py:data", f"library/constants.html#{n}")
                for n in ("None", "True", "False", "Ellipsis", "NotImplemented")]
    # glossary terms used for numpydoc types ("sequence of str", "path-like", ...)
    entries += [(t, "std:term", f"glossary.html#term-{t.replace(' ', '-')}")
                for t in ("sequence", "mapping", "iterable", "iterator", "path-like object",
                          "file object", "callable", "hashable")]
    return entries


PROJECTS: dict[str, tuple[str, Callable[[], list[Entry]]]] = {
    "python": ("python", python_entries),
    "numpy": ("numpy", numpy_entries),
    "xarray": ("xarray", xarray_entries),
    "pandas": ("pandas", pandas_entries),
    "scipy": ("scipy", scipy_entries),
    "matplotlib": ("matplotlib", matplotlib_entries),
    "pint": ("pint", pint_entries),
}


def inventory(project: str, version: str, entries: Iterable[Entry]) -> bytes:
    """An intersphinx inventory, format version 2 (sorted, one entry per name and role)."""
    seen: dict[tuple[str, str], str] = {}
    for name, role, uri in entries:
        seen.setdefault((name, role), uri)
    lines = []
    for (name, role), uri in sorted(seen.items()):
        if uri.endswith(f"#{name}"):
            uri = uri[: -len(name)] + "$"  # the format's shorthand for "#<name>"
        lines.append(f"{name} {role} 1 {uri} -\n")
    head = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
            "# The remainder of this file is compressed using zlib.\n")
    return head.encode() + zlib.compress("".join(lines).encode(), 9)


def main() -> int:
    import warnings

    warnings.simplefilter("ignore")  # deprecated aliases warn when touched
    for name, (package, make) in PROJECTS.items():
        if name == "python":
            version = ".".join(map(str, sys.version_info[:2]))
        else:
            version = importlib.import_module(package).__version__
        entries = make()
        data = inventory(name, version, entries)
        (HERE / f"{name}.inv").write_bytes(data)
        print(f"{name}.inv: {name} {version}, {len({(e[0], e[1]) for e in entries})} entries, "
              f"{len(data) / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
