"""Every course notebook executes top to bottom on a fresh kernel.

That the notebooks are committed without outputs and match their ``.py`` twins is checked in
``test_notebook_pairs.py``.

Two notebooks run at a time (each in its own process and kernel, longest first; the tests of this
file then read the results in their usual order): on two cores the kernels are mostly busy on one
core each, and nothing else of the test session runs meanwhile.  ``SUPERRES_NOTEBOOK_WORKERS=1``
runs them one by one.

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
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from _venv_cache import file_lock

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
# the longest first, so that two workers finish together (seconds measured on a loaded machine)
EXPECTED_SECONDS = {"06_real_beams": 210, "07_realistic_scans": 175, "03_deconvolution_usaf": 110,
                    "05_phantom_reconstruction": 55}

#: executed notebooks the shared docs cache keeps (oldest-used deleted first): three versions of each
CACHE_RECORDS = 3 * max(len(NOTEBOOKS), 1)

RUNNER = textwrap.dedent(r"""
    import sys
    import nbformat
    from nbclient import NotebookClient
    src, dst, cwd = sys.argv[1:4]
    nb = nbformat.read(src, as_version=4)
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
    finally:
        nbformat.write(nb, dst)  # also a partly executed notebook, for the error outputs
""")


def docs_notebook_cache() -> Path:
    """The jupyter-cache folder of the docs build (the same expression as ``docs/conf.py``)."""
    return Path(os.environ.get(
        "SUPERRES_DOCS_CACHE", str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                                   / "superres_widgets" / "docs-jupyter-cache")))


def notebook_runs_lock():
    """Held while this file executes the notebooks and stores them; ``tests/test_docs.py`` waits for it.

    Under ``make test``'s parallel run (pytest-xdist) the docs test may start on the other process
    while the notebooks still run: without the lock it would execute every notebook a second time.
    """
    return file_lock(docs_notebook_cache() / ".notebook-runs.lock")


def _share_with_the_docs(nb, path: Path) -> None:
    """Store the executed notebook where the docs build looks it up (best effort: no jupyter-cache, no sharing)."""
    try:
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn
    except ImportError:  # the docs extra is not installed: the docs test skips anyway
        return
    cache = get_cache(str(docs_notebook_cache()))
    # keep the most recently used records only: every change of a notebook's code adds one
    # (~15 MB with its Bokeh and widget outputs; 145 records had grown to 2.2 GB)
    if cache.get_cache_limit() != CACHE_RECORDS:
        cache.change_cache_limit(CACHE_RECORDS)
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"source": "tests/test_notebooks.py"}),
                                check_validity=False, overwrite=True)
    # the docs build reads the committed notebook (no outputs) and must find this record for it
    assert cache.match_cache_notebook(nbformat.read(str(path), as_version=4)) is not None


def _execute(path: Path, work: Path) -> subprocess.CompletedProcess:
    work.mkdir(parents=True)
    return subprocess.run([sys.executable, str(work.parent / "run.py"), str(path), str(work / path.name), str(work)],
                          capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def executions(request, tmp_path_factory):
    """Start every selected notebook (two at a time); a future per notebook name."""
    root = tmp_path_factory.mktemp("notebooks")
    (root / "run.py").write_text(RUNNER)
    workers = int(os.environ.get("SUPERRES_NOTEBOOK_WORKERS", "2"))
    selected = {item.callspec.params["path"] for item in request.session.items
                if item.path == request.path and getattr(item, "originalname", "") == "test_notebook_executes"}
    order = sorted(selected, key=lambda p: -EXPECTED_SECONDS.get(p.stem, 0))
    with notebook_runs_lock(), ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notebook") as pool:
        futures = {p.name: pool.submit(_execute, p, root / p.stem) for p in order}
        yield futures, root
        for f in futures.values():
            f.cancel()


def test_there_are_course_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, executions):
    futures, root = executions
    r = futures[path.name].result()
    assert r.returncode == 0, f"{path.name} failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    nb = nbformat.read(str(root / path.stem / path.name), as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code" and c.source.strip())
    _share_with_the_docs(nb, path)
