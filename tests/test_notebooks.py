"""Every course notebook executes top to bottom on a fresh kernel.

That the notebooks are committed without outputs and match their ``.py`` twins is checked in
``test_notebook_pairs.py``.

Each notebook is executed ONCE per test run, here.  A notebook that ran with no error is stored,
with its outputs, in the documentation's notebook cache (jupyter-cache, the folder ``docs/conf.py``
uses: ``$SUPERRES_DOCS_CACHE`` or ``~/.cache/superres_widgets/docs-jupyter-cache``), keyed as
myst-nb keys it (the code cells and the kernel spec), replacing an older entry for the same code.
``tests/test_docs.py`` (run after this file: it is marked slow) then renders these outputs of the
current package instead of executing every notebook a second time -- and instead of an older run's
outputs kept in the cache from before the package changed.  What the docs test proves about the
notebooks is that myst-nb renders their outputs (text, Bokeh, widgets); that they execute is
proven here.
"""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def docs_notebook_cache() -> Path:
    """The jupyter-cache folder of the docs build (the same expression as ``docs/conf.py``)."""
    return Path(os.environ.get(
        "SUPERRES_DOCS_CACHE", str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                                   / "superres_widgets" / "docs-jupyter-cache")))


def _share_with_the_docs(nb, path: Path) -> None:
    """Store the executed notebook where the docs build looks it up (best effort: no jupyter-cache, no sharing)."""
    try:
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn
    except ImportError:  # the docs extra is not installed: the docs test skips anyway
        return
    cache = get_cache(str(docs_notebook_cache()))
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"source": "tests/test_notebooks.py"}),
                                check_validity=False, overwrite=True)
    # the docs build reads the committed notebook (no outputs) and must find this record for it
    assert cache.match_cache_notebook(nbformat.read(str(path), as_version=4)) is not None


def test_there_are_course_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    _share_with_the_docs(nb, path)
