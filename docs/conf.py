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

project = "nd-mfa"
author = "nd-mfa contributors"
copyright = "nd-mfa contributors, BSD-3-Clause"
release = mfa.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
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

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"nd-mfa {release}"
html_static_path: list[str] = []
html_theme_options = {"navigation_with_keys": True}
