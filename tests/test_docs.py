"""The documentation site (``make docs``) builds offline with warnings as errors.

The build runs ``sphinx-build -W --keep-going`` on ``docs/`` into a temporary
folder (fresh doctrees: every page is read, so every warning is seen), with the
notebooks' outputs from myst-nb's cache (``~/.cache/superres_widgets/docs-jupyter-cache``,
shared with ``make docs``).  In a full test run ``tests/test_notebooks.py`` (this test waits for
its file lock, also when the two run on different pytest-xdist processes) has just executed every
notebook and stored it there, so the pages show the outputs of
the current code and no notebook is executed a second time; run alone, this test executes
whatever the cache lacks.  Then the pages are checked for what a reader comes for: install,
the papers, the API from the docstrings, the notebooks with their outputs, the CLI's own help
and the benchmark list.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("sphinx", reason="the docs extra is part of the test extra: pip install -e '.[test]'")
    from test_notebooks import notebook_runs_lock  # the notebooks this run executes are stored first

    with notebook_runs_lock():
        pass
    out = tmp_path_factory.mktemp("docs_html")
    doctrees = tmp_path_factory.mktemp("doctrees")
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    r = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-j", "auto", "-W", "--keep-going", "-q",
                        "-d", str(doctrees), str(DOCS), str(out)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=1500)
    # Sphinx's own reports (the kernels' "[IPKernelApp] WARNING | ..." lines are not Sphinx's)
    warnings = [ln for ln in r.stderr.splitlines() if re.search(r"(: |^)(WARNING|ERROR|CRITICAL): ", ln)]
    assert r.returncode == 0 and not warnings, "\n".join(warnings[:40]) or r.stderr[-4000:]
    return out


def _text(path: Path) -> str:
    return re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))


def test_pages_exist_and_link(site):
    for page in ("index", "install", "papers", "cli", "environments", "benchmarks", "api/index",
                 "api/xrf", "api/s3dxrd", "api/io", "api/widgets", "api/cli"):
        assert (site / f"{page}.html").is_file(), page
    index = (site / "index.html").read_text()
    for target in ("install.html", "papers.html", "api/index.html", "cli.html", "benchmarks.html",
                   "notebooks/00_quickstart.html", "notebooks/05_phantom_reconstruction.html"):
        assert f'href="{target}' in index, target


def test_api_reference_comes_from_the_docstrings(site):
    expect = {
        "xrf": ["superres_widgets.xrf.richardson_lucy", "superres_widgets.xrf.wiener",
                "superres_widgets.xrf.register_method", "superres_widgets.xrf.resolved_element"],
        "s3dxrd": ["superres_widgets.s3dxrd.superposed_region", "superres_widgets.s3dxrd.reconstruct_phantom",
                   "superres_widgets.s3dxrd.register_beam_profile"],
        "io": ["superres_widgets.io.load_map", "superres_widgets.io.save_map"],
        "widgets": ["superres_widgets.widgets.DeconvolutionExplorer",
                    "superres_widgets.widgets.BeamTrajectoryExplorer"],
        "cli": ["superres_widgets.cli.main", "superres_widgets.report.build_report"],
    }
    for page, ids in expect.items():
        html = (site / "api" / f"{page}.html").read_text()
        for ident in ids:
            assert f'id="{ident}"' in html, (page, ident)
    # numpydoc turned the sections into rendered fields, the maths is there
    xrf = (site / "api" / "xrf.html").read_text()
    assert "Parameters" in xrf and "Returns" in xrf and "Examples" in xrf and "math" in xrf


def test_notebooks_are_rendered_with_their_outputs(site):
    nb = {p.stem: p for p in (site / "notebooks").glob("*.html")}
    assert {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")} <= set(nb)
    quick = _text(nb["00_quickstart"])
    # printed output of the executed cells, and the Bokeh plots (inline BokehJS, no CDN)
    assert re.search(r"raw map:\s+finest resolved element G3E\d", quick)
    assert "data-root-id" in nb["00_quickstart"].read_text()
    assert "cdn.bokeh.org" not in nb["00_quickstart"].read_text()


def test_cli_and_benchmark_pages_are_generated(site):
    cli = _text(site / "cli.html")
    assert "usage: superres-widgets" in cli and "--pixel-size-um" in cli and "reproduce" in cli
    bench = _text(site / "benchmarks.html")
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        assert script.name in bench, script.name
    papers = _text(site / "papers.html")
    assert "316 px" in papers and "G4E1" in papers and "0.7 µm" in papers
