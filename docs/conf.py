"""Sphinx configuration of the nd-mfa documentation.

Build (warnings are errors; every tutorial is executed on every build)::

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The package from this source tree (also for the notebook kernels, which inherit the
# environment), and the small local extensions and helpers in docs/_ext.
for p in (str(DOCS / "_ext"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), str(DOCS / "_ext"), *filter(None, [os.environ.get("PYTHONPATH")])]
)
# The notebook kernels must use the inline backend to capture figures: ipykernel selects it
# only when MPLBACKEND is unset (CI scripts often export MPLBACKEND=Agg, which would silently
# drop every figure from the pages).
os.environ.pop("MPLBACKEND", None)
# Single-threaded BLAS: predictable timings on small CI machines.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import mfa  # noqa: E402

sys.path.insert(0, str(DOCS / "_intersphinx"))
from make_inventories import BASE_URLS  # noqa: E402

project = "nd-mfa"
author = "nd-mfa contributors"
copyright = "nd-mfa contributors, BSD-3-Clause"
release = mfa.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax shipped with the site (copied into _static/mathjax): equations render offline.
    "sphinx-mathjax-offline",
    "mfa_docs",
]

exclude_patterns = [
    "_build",
    "README.md",
    "**/*.py",
    "**/.ipynb_checkpoints",
    "jupyter_execute",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# -- MyST / myst-nb -------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3
myst_dmath_double_inline = True
myst_substitutions = {"version_string": release}

# Execute every notebook page on every build (the docs build is a test of the tutorials):
# "force" ignores any cache, mfa_docs marks notebook pages outdated so that an incremental
# build re-reads (and re-executes) them too.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 300
# Run each notebook in a fresh temporary directory: nothing a cell writes lands in the repo.
nb_execution_in_temp = True
nb_merge_streams = True
nb_kernel_rgx_aliases = {".*": "python3"}

# -- autodoc / napoleon (numpydoc style) ------------------------------------------------------
autodoc_default_options = {
    "members": True,
    "member-order": "bysource",
    "show-inheritance": True,
}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_class_signature = "separated"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True
napoleon_preprocess_types = True
# Words of numpydoc type fields, as links: "sequence of str", "path-like", "ParameterSet", ...
napoleon_type_aliases = {
    "sequence": ":term:`sequence`",
    "Sequence": ":term:`sequence`",
    "mapping": ":term:`mapping`",
    "Mapping": ":term:`mapping`",
    "iterable": ":term:`iterable`",
    "path-like": ":term:`path-like <path-like object>`",
    "file-like": ":term:`file-like <file object>`",
    "callable": ":term:`callable`",
    "array-like": ":term:`array-like <numpy:array_like>`",
    "array_like": ":term:`array_like <numpy:array_like>`",
    "ndarray": "numpy.ndarray",
    "Dataset": "xarray.Dataset",
    "DataArray": "xarray.DataArray",
    "ParameterSet": "mfa.data.params.ParameterSet",
    "Model": "mfa.core.model.Model",
    "Scenario": "mfa.data.scenarios.Scenario",
    "Discretised": "mfa.core.lifetimes.Discretised",
}

# Every cross-reference must resolve (a typo in :func:`...` fails the build). The phrases
# numpydoc allows in a type field ("ndarray, shape (n, T)") are not references.
nitpicky = True
nitpick_ignore_regex = [
    ("py:class", r"(?s).*[\s()\[\]'\"/<>=…,-].*"),  # a phrase, not a name
]
nitpick_ignore = [
    ("py:class", "distributed.Client"),  # dask.distributed: no inventory shipped
    # pyam and plotly: no inventory shipped
    *[("py:class", n) for n in ("pyam.IamDataFrame", "plotly.graph_objects.Figure")],
    *[("py:meth", f"pyam.IamDataFrame.{m}") for m in ("check_aggregate",
                                                      "check_aggregate_region")],
    # private helpers named in annotations
    *[("py:class", n) for n in ("mfa.data.excel.read._Book", "mfa.data.tables.Rows",
                                "mfa.data.model_file.ModelFile")],
    ("py:class", "TypeAliasForwardRef"),  # Sphinx's placeholder for a forward-referenced alias
    # Words of numpydoc type fields that napoleon splits off a phrase ("shape (n_time,)",
    # "low, high", "error") and names that are not documented on a page of their own yet.
    # Remove an entry when the docstring that makes it is fixed.
    *[("py:class", w) for w in ("target", "low", "n_time", "n_given", "computing",
                                "broadcastable", "mfa.core.lifetimes.Discretised")],
    ("py:exc", "error"),
    ("py:meth", "_sf"),
    *[("py:mod", f"mfa.data.{m}") for m in ("model_file", "registry", "tables")],
    ("py:mod", "mfa.models"),
    *[("py:data", n) for n in ("mfa.models.neodymium.FLOWS", "MAX_SECONDS_ENSEMBLE",
                               "PRODUCT_COLOURS", "SANKEY_LAYOUT", "INPUT_SOURCES",
                               "INCH_PER_UNIT")],
    *[("py:func", n) for n in ("text_factor", "load_scenario")],
]

# -- intersphinx (offline) ------------------------------------------------------------------------
# Links to numpy, xarray, pandas, scipy, matplotlib, pint and Python go to their sites, but the
# inventories are read from docs/_intersphinx (made from the installed packages by
# make_inventories.py there): the build needs no network.
intersphinx_mapping = {
    name: (url, str(DOCS / "_intersphinx" / f"{name}.inv")) for name, url in BASE_URLS.items()
}
intersphinx_disabled_reftypes = ["std:doc"]

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"nd-mfa {release}"
html_static_path = ["_static"]
html_css_files = ["mfa.css"]  # tables that fit the page (the parameter table)
html_theme_options = {"navigation_with_keys": True}


# -- names that are not where a cross-reference looks --------------------------------------------
#: Module aliases of the code (``xr.Dataset`` in an annotation) and bare names of annotations.
_ALIASES = {"xr": "xarray", "np": "numpy", "pd": "pandas", "plt": "matplotlib.pyplot",
            "mpl": "matplotlib"}
_BARE = {"Path": "pathlib.Path", "Figure": "matplotlib.figure.Figure",
         "Axes": "matplotlib.axes.Axes", "ProcessSystem": "mfa.core.system.ProcessSystem",
         "MfaError": "mfa.core.errors.MfaError"}


def _real_name(target: str, module: str | None = None) -> str | None:
    """Where ``target`` is documented: ``xr.Dataset`` -> ``xarray.Dataset``; a re-export such
    as ``mfa.io.read_results`` -> the module that defines it; a bare name used in the docstrings
    of ``module`` -> the object of that name in ``module``'s package. None if nothing better."""
    import importlib

    if module and module.startswith("mfa.") and "." not in target:
        package = module.rpartition(".")[0]
        for where in (module, package):
            found = _real_name(f"{where}.{target}")
            if found:
                return found
    head, _, rest = target.partition(".")
    if head in _ALIASES and rest:
        return f"{_ALIASES[head]}.{rest}"
    if target in _BARE:
        return _BARE[target]
    if head == "mfa":
        module, _, name = target.rpartition(".")
        try:
            obj = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            return None
        home, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        if home and qual and f"{home}.{qual}" != target:
            return f"{home}.{qual}"
    return None


def _resolve_alias(app, env, node, contnode):
    """``missing-reference``: retry a Python reference under its real name (locally, then in
    the intersphinx inventories)."""
    from sphinx.ext.intersphinx import missing_reference

    if node.get("refdomain") != "py":
        return None
    target = _real_name(node["reftarget"], node.get("py:module"))
    if target is None:  # a short name of something documented once in mfa: that one
        tail = "." + node["reftarget"].rpartition(".")[2]
        names = [n for n in env.get_domain("py").objects
                 if n.startswith("mfa.") and n.endswith(tail)]
        if len(names) != 1:
            return None
        target = names[0]
    node = node.deepcopy()
    node["reftarget"] = target
    found = env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder,
                                              node["reftype"], target, node, contnode)
    return found if found is not None else missing_reference(app, env, node, contnode)


def setup(app):
    app.connect("missing-reference", _resolve_alias, priority=900)
