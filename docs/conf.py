"""Sphinx configuration for the autograd-scalar documentation.

Why Sphinx: the docstrings of ``autograd_scalar`` and ``nn`` are written in reST, with
``:class:`` and ``:func:`` roles, ``:data:`` and double-backquoted literals; Sphinx's
autodoc reads them as they are and resolves those roles natively, so the API reference
comes from the code with no second copy. The pages themselves are Markdown, read by
myst-parser, so that they also read well on GitHub; the theme is furo.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build`` (warnings are
errors, as in the test suite's ``tests/test_docs.py``).
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The readable core: autodoc then sees the Python functions of ops, mode, value and
# backward with their signatures, rather than their Cython builds.
os.environ.setdefault("AUTOGRAD_SCALAR_PURE_PYTHON", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

project = "autograd-scalar"
author = "the autograd-scalar authors"
copyright = "the autograd-scalar authors"
release = version = "0.1.0"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    # MathJax shipped with the site (copied into _static) rather than fetched from a CDN,
    # so that the formulas render in a site read offline, as a local build is
    "sphinx-mathjax-offline",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "images/*.py", "cli"]

myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

# An option present is an option on, whatever its value: undocumented members and base
# classes are left out by leaving "undoc-members" and "show-inheritance" out.
autodoc_default_options = {
    "members": True,
    "member-order": "bysource",
}
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
# Objects are documented under their public names (autograd_scalar.gradcheck, not the
# module that defines it), so the reference survives moves between private modules.
add_module_names = True

# Every cross-reference must resolve (a warning, so an error in the -W build), so that a
# docstring can name nothing the reference does not document. The site is built offline
# (no intersphinx inventories to fetch), so the names of other libraries are let through,
# as are private names (a leading underscore) that dataclass signatures show.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|collections|typing|t|os|pathlib|threading|contextlib|weakref|"
               r"random|types|enum|dataclasses|matplotlib|IPython|torch|ipywidgets|anywidget|"
               r"traitlets|builtins|io|signal|abc)(\..*)?"),
    (r"py:.*", r".*\._\w+"),
    (r"py:class", r"tuple\[str"),  # traitlets' own annotation, as autodoc splits it
]

html_theme = "furo"
html_title = "autograd-scalar"
html_static_path = ["_static"]
html_css_files = ["drawings.css"]  # wide graph drawings scroll at a readable size

# The docstrings write absolute values and norms as in mathematics, |x| and |grad|, which
# reST would read as substitution references. They stay as written (they read right in
# help() and in the source); here each such pair of bars is escaped before reST sees it.
ABSOLUTE_VALUE = re.compile(r"(?<![\\|`\w])\|(?=[^\s|])([^|\n`]*?[^\s|\\])\|(?![|`\w])")


def escape_absolute_values(app, what, name, obj, options, lines: list[str]) -> None:
    for index, line in enumerate(lines):
        if "|" in line and not line.lstrip().startswith(("+", "| ", "|-", "|=")):
            lines[index] = ABSOLUTE_VALUE.sub(r"\\|\1\\|", line)


def widget_signature(app, what, name, obj, options, signature, return_annotation):
    """A notebook widget's signature is its ``__init__``'s: traitlets' ``HasTraits``
    defines ``__new__(*args, **kwargs)``, which autodoc would show instead."""
    bases = [base.__name__ for base in getattr(obj, "__mro__", ())]
    if what != "class" or "HasTraits" not in bases:
        return None
    init = inspect.signature(obj.__init__)
    parameters = [p.replace(annotation=inspect.Parameter.empty)
                  for p in list(init.parameters.values())[1:]]
    return str(init.replace(parameters=parameters,
                            return_annotation=inspect.Signature.empty)), None


def setup(app) -> None:
    app.connect("autodoc-process-docstring", escape_absolute_values)
    app.connect("autodoc-process-signature", widget_signature)
