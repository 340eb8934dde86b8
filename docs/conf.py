"""Sphinx configuration of the superres_widgets documentation (``make docs``).

Built offline: the API pages come from the numpydoc docstrings (autodoc +
numpydoc), the course notebooks in ``docs/notebooks`` (a link to
``../notebooks``) are executed by myst-nb at build time and cached in
``~/.cache/superres_widgets/docs-jupyter-cache`` (re-run only when a
notebook's code changes; ``tests/test_notebooks.py`` stores each notebook it
executed there, so the docs test renders the outputs of the run's own
execution instead of executing every notebook again),
the CLI page runs ``superres-widgets --help``, and the benchmark page lists
the benchmark scripts with their own docstrings (``benchmark-list``).  Theme: furo (no CDN).
"""

from __future__ import annotations

import ast
import os
import sys
import textwrap
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import superres_widgets  # noqa: E402

project = "superres_widgets"
author = "the superres_widgets maintainers"
copyright = "2024-2026, the superres_widgets maintainers"
release = version = superres_widgets.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "notebooks/*.py", "notebooks/.ipynb_checkpoints", "**/.ipynb_checkpoints"]
root_doc = "index"

html_theme = "furo"
html_title = f"superres_widgets {version}"
html_static_path: list[str] = []

# the maths of the docstrings and notebooks: MathJax from a CDN when the page is viewed
# (the build itself is offline)
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- notebooks: executed at build time, cached -----------------------------------------
nb_execution_mode = os.environ.get("SUPERRES_DOCS_EXECUTE", "cache")
# Outside the clone, like pip's cache, so a fresh clone on the same machine (CI) starts warm;
# SUPERRES_DOCS_CACHE moves it (e.g. docs/_build/.jupyter_cache).
nb_execution_cache_path = os.environ.get(
    "SUPERRES_DOCS_CACHE", str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                               / "superres_widgets" / "docs-jupyter-cache"))
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# Bokeh's output_notebook(INLINE) writes BokehJS as application/javascript: render it
nb_mime_priority_overrides = [("html", "application/javascript", 15)]
# Each of those outputs also carries a JupyterLab-only twin (application/vnd.bokehjs_load.v0+json,
# ...bokehjs_exec.v0+json) that myst-nb does not know and reports before it picks the JavaScript
# one; that report -- and only that one -- is not an error here.
suppress_warnings = ["mystnb.unknown_mime_type"]

# --- API reference ----------------------------------------------------------------------
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# a readable warning instead of a silent skip if an API module cannot be imported
autodoc_warningiserror = True


class BenchmarkList(SphinxDirective):
    """``.. benchmark-list::`` -- each ``benchmarks/bench_*.py`` with its own docstring."""

    def run(self):
        out = []
        for path in sorted((ROOT / "benchmarks").glob("bench_*.py")):
            self.env.note_dependency(str(path))
            doc = ast.get_docstring(ast.parse(path.read_text())) or "(no description)"
            title, _, rest = doc.partition("\n")
            sec = nodes.section(ids=[nodes.make_id(path.stem)])
            sec += nodes.title(text=path.name)
            sec += nodes.paragraph("", "", nodes.strong(text=title.strip()))
            sec += nodes.literal_block(text=textwrap.dedent(rest).strip("\n"))
            out.append(sec)
        return out


def setup(app):
    app.add_directive("benchmark-list", BenchmarkList)
    # nothing here keeps state between documents: `sphinx-build -j N` may read and write in parallel
    return {"parallel_read_safe": True, "parallel_write_safe": True}
