"""A notebook exported to static HTML (``jupyter nbconvert --to html``) with widget state.

What works (this test checks each point):

1. Executing with ``nbclient`` (``store_widget_state=True``; JupyterLab: *Settings -> Save Widget
   State Automatically*) stores every widget's state in the notebook metadata: for our
   anywidget models that is every synced trait, the binary arrays (base64 buffers) AND the
   front-end itself (``_esm``, the bundle's source text).
2. ``jupyter nbconvert --to html`` writes that state into the page
   (``<script type="application/vnd.jupyter.widget-state+json">``) with the widget views.
3. Opened in a browser, the page draws each widget's LAST view from the stored state: the
   canvases, sliders and readouts as they were when the notebook was saved. Nothing talks to
   Python any more: moving a slider changes nothing that Python computes.
   The page fetches three scripts from public CDNs to do it: require.js (cdnjs),
   ``@jupyter-widgets/html-manager`` (unpkg) and anywidget's front-end (jsDelivr). The
   browser here has no internet, so the test serves local copies of exactly those npm
   packages (``tests/ui/static_export/package.json``, installed with ``npm ci``); offline,
   with nothing served, the widget area stays empty (also checked).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
JSDIR = Path(__file__).resolve().parent / "static_export"
STATIC = ROOT / "superres_widgets" / "static"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import nbformat
    from nbclient import NotebookClient

    out = tmp_path_factory.mktemp("static_export")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "from superres_widgets.widgets import BeamTrajectoryExplorer\n"
        "w = BeamTrajectoryExplorer(xs=3, ys=2, omega_step_deg=15)\nw")]
    NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True).execute()
    path = out / "exported.ipynb"
    nbformat.write(nb, str(path))
    r = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", str(path)], capture_output=True,
                       text=True, cwd=out, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return nb, out / "exported.html"


def test_widget_state_and_front_end_are_stored_and_exported(exported):
    nb, html_path = exported
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    (model_id, model), = [(k, v) for k, v in state.items() if v["model_name"] == "AnyModel"]
    s = model["state"]
    assert model["model_module"] == "anywidget"
    # the front-end travels with the state: the bundle's own source text
    assert s["_esm"] == (STATIC / "beam_trajectory.js").read_text()
    # the last values, and the arrays as binary buffers (base64)
    assert s["xs"] == 3.0 and s["omega_step_deg"] == 15.0 and s["n_measurements"] == 12
    assert any(len(base64.b64decode(b["data"])) > 16 for b in model["buffers"]), model["buffers"]
    view = [o for c in nb.cells for o in c.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert view[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] == model_id

    html = html_path.read_text()
    assert '<script type="application/vnd.jupyter.widget-state+json">' in html
    assert model_id in html and "srw-beam-trajectory" in html  # the ESM is in the page
    # what the page fetches to render it
    assert "@jupyter-widgets/html-manager" in html and "require" in html


@pytest.fixture(scope="module")
def cdn_copies():
    """Local copies of the three scripts the exported page takes from CDNs."""
    if not (JSDIR / "node_modules" / "@jupyter-widgets" / "html-manager").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install tests/ui/static_export (make test has it: it builds js/)")
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JSDIR, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    nm = JSDIR / "node_modules"
    return {
        "require": nm / "requirejs" / "require.js",
        "html-manager": nm / "@jupyter-widgets" / "html-manager" / "dist" / "embed-amd.js",
        "anywidget": nm / "anywidget" / "dist" / "index.js",
    }


def _open(browser, html_path, files, serve: bool):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    log, fetched = [], []
    page.on("pageerror", lambda e: log.append(f"pageerror: {e}"))

    def route(r):
        url = r.request.url
        key = ("require" if "require" in url and url.endswith(".js") else
               "html-manager" if "html-manager" in url else
               "anywidget" if "cdn.jsdelivr.net/npm/anywidget@" in url else None)
        if serve and key:
            fetched.append(key)
            return r.fulfill(path=str(files[key]), content_type="text/javascript")
        if url.startswith("http"):
            return r.abort()  # no internet for the browser: nothing else leaves the machine
        return r.continue_()

    page.route("**/*", route)
    page.goto(html_path.as_uri())
    return ctx, page, log, fetched


def test_exported_page_draws_the_last_view(exported, cdn_copies, browser):
    from conftest import LabPage

    _, html_path = exported
    ctx, page, log, fetched = _open(browser, html_path, cdn_copies, serve=True)
    try:
        canvas = ".srw-beam-trajectory canvas[data-role=overview]"
        page.wait_for_selector(canvas, timeout=60_000)
        page.wait_for_timeout(500)
        lp = LabPage.__new__(LabPage)
        lp.page = page
        s = lp.canvas_stats(canvas)
        assert s["colours"] > 20 and 0.05 < s["nonWhite"] < 0.99, s
        # the readouts are the stored ones: 12 measurements at a 15 deg step
        text = page.locator(".srw-beam-trajectory").inner_text()
        assert "12 of 12" in text or "\n12\n" in text, text[:600]
        assert set(fetched) == {"require", "html-manager", "anywidget"}, fetched
        lp.screenshot("static_export_beam_trajectory", ".srw-beam-trajectory")
    finally:
        ctx.close()


def test_exported_page_offline_shows_no_widget(exported, cdn_copies, browser):
    _, html_path = exported
    ctx, page, log, fetched = _open(browser, html_path, cdn_copies, serve=False)
    try:
        page.wait_for_timeout(4000)
        assert page.locator(".srw-beam-trajectory canvas").count() == 0
        assert fetched == []
    finally:
        ctx.close()
