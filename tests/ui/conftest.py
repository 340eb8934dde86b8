"""Real-browser fixtures: a real JupyterLab server and headless Debian Chromium.

The server runs from this Python environment on 127.0.0.1 and a free port,
with its own config/runtime dirs and a temporary root holding the notebooks
under test. Playwright drives ``/usr/bin/chromium`` (Playwright cannot
download its own browser here). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("SUPERRES_CHROMIUM", "/usr/bin/chromium")
TOKEN = "superres-ui-test-token"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/ui/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.ui)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lab_root")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    return root


#: where the session's JupyterLab server writes its log (tests read what the server extensions said)
SERVER_LOG: dict = {}


@pytest.fixture(scope="session")
def lab_server(lab_root, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    port = _free_port()
    cfg = tmp_path_factory.mktemp("jupyter_config")
    settings = cfg / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(os.environ)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(cfg / "settings"),
        JUPYTER_CONFIG_DIR=str(cfg / "config"),
        JUPYTER_RUNTIME_DIR=str(cfg / "runtime"),
        JUPYTER_DATA_DIR=env.get("JUPYTER_DATA_DIR", str(Path(sys.prefix) / "share" / "jupyter")),
        JUPYTERLAB_WORKSPACES_DIR=str(cfg / "workspaces"),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}", "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--ServerApp.root_dir={lab_root}", "--ServerApp.disable_check_xsrf=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    if os.environ.get("SRW_SERVER_EXTENSION") == "off":  # benchmarks/bench_widgets_browser.py's A/B switch
        (cfg / "config").mkdir(parents=True, exist_ok=True)
        (cfg / "config" / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {"superres_widgets.server_extension": False}}}))
    SERVER_LOG["path"] = cfg / "server.log"
    log = open(cfg / "server.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited: {(cfg / 'server.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2) as r:
                json.loads(r.read())
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("jupyter lab did not answer within 90 s")
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            ],
        )
        yield b
        b.close()


#: page JS: a hash of ``canvas``'s pixels (FNV-1a over RGB), or an element's text if it is not a canvas
_CANVAS_HASH = """{
                    if (canvas.tagName !== 'CANVAS') return canvas.textContent;
                    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                    let h = 2166136261;
                    for (let i = 0; i < d.length; i += 4)
                        h = Math.imul(h ^ ((d[i] << 16) | (d[i+1] << 8) | d[i+2]), 16777619) >>> 0;
                    return h;
                }"""


class LabPage:
    """A notebook opened in a fresh JupyterLab workspace, with helpers."""

    def __init__(self, page, base: str, root: Path):
        self.page = page
        self.base = base
        self.root = root
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    def write_notebook(self, name: str, cells) -> str:
        """Write a notebook of code ``cells`` (strings) into the server's root; return its path."""
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c) for c in ([cells] if isinstance(cells, str) else cells)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, str(self.root / name))
        return name

    def wait_canvas_change(self, selector: str, before: int, index: int = 0, timeout: float = 10.0) -> dict:
        """Wait until the canvas pixels differ from the hash ``before``; return the new stats."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.canvas_stats(selector, index)
            if s and s["hash"] != before:
                return s
            self.page.wait_for_timeout(50)
        raise AssertionError(f"canvas {selector}[{index}] did not redraw within {timeout} s")

    def open(self, path: str):
        ws = uuid.uuid4().hex[:10]
        self.page.goto(f"{self.base}/lab/workspaces/{ws}/tree/{path}?reset&token={TOKEN}")
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext",
            timeout=90_000,
        )
        self.page.evaluate(
            """async () => {
                const p = window.jupyterapp.shell.currentWidget;
                await p.context.ready;
                await p.sessionContext.ready;
                const k = p.sessionContext.session.kernel;
                await k.info;
            }"""
        )
        return self

    def run_all(self, timeout_s: float = 300):
        self.page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        self.page.wait_for_function(
            """() => {
                const p = window.jupyterapp.shell.currentWidget;
                const cells = p.content.widgets.filter(c => c.model.type === 'code');
                const done = cells.every(c => c.model.executionCount !== null);
                return done && p.sessionContext.session.kernel.status === 'idle';
            }""",
            timeout=timeout_s * 1000,
            polling=500,
        )

    def cell_errors(self) -> list[str]:
        return self.page.evaluate(
            """() => {
                const p = window.jupyterapp.shell.currentWidget;
                const out = [];
                for (const c of p.content.widgets) {
                    if (c.model.type !== 'code') continue;
                    const o = c.model.outputs;
                    for (let i = 0; i < o.length; i++) {
                        const m = o.get(i);
                        if (m.type === 'error') out.push(JSON.stringify(m.toJSON()).slice(0, 2000));
                    }
                }
                return out;
            }"""
        )

    def kernel(self, code: str) -> str:
        """Execute ``code`` in the notebook's kernel; return its text output."""
        return self.page.evaluate(
            """async (code) => {
                const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                const f = k.requestExecute({code, store_history: false});
                let out = ""; let err = null;
                f.onIOPub = (msg) => {
                    const t = msg.header.msg_type;
                    if (t === 'stream') out += msg.content.text;
                    else if (t === 'execute_result') out += msg.content.data['text/plain'];
                    else if (t === 'error') err = msg.content.ename + ': ' + msg.content.evalue;
                };
                await f.done;
                if (err) throw new Error(err);
                return out;
            }""",
            code,
        )

    def kernel_value(self, expr: str):
        return json.loads(self.kernel(f"import json as _j; print(_j.dumps({expr}))").strip())

    def canvas_stats(self, selector: str, index: int = 0) -> dict:
        """Pixel statistics of a canvas: distinct colours, non-white fraction, a hash."""
        return self.page.evaluate(
            """([sel, idx]) => {
                const c = document.querySelectorAll(sel)[idx];
                if (!c) return null;
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                const colours = new Set();
                let nonWhite = 0, h = 2166136261;
                for (let i = 0; i < d.length; i += 4) {
                    const v = (d[i] << 16) | (d[i+1] << 8) | d[i+2];
                    if (colours.size < 5000) colours.add(v);
                    if (d[i+3] > 0 && v !== 0xffffff) nonWhite++;
                    h = Math.imul(h ^ v, 16777619) >>> 0;
                }
                return {colours: colours.size, nonWhite: nonWhite / (d.length / 4), hash: h,
                        width: c.width, height: c.height};
            }""",
            [selector, index],
        )

    def slider_to_redraw_ms(self, slider_sel: str, watch_sel: str, value, index: int = 0) -> float:
        """Set a slider in the page and time (ms) until ``watch_sel`` changes.

        ``watch_sel`` is a canvas (its pixels are compared) or any element (its
        text is compared); pick one that only Python's answer changes.

        Measures the whole round trip a user sees: input event -> trait sync to
        the kernel -> Python computation -> binary message back -> redraw.
        """
        return self.page.evaluate(
            """async ([sliderSel, watchSel, value, index]) => {
                const input = document.querySelector(sliderSel);
                const canvas = document.querySelectorAll(watchSel)[index];
                const hash = () => """ + _CANVAS_HASH + """;
                const before = hash();
                const t0 = performance.now();
                input.value = String(value);
                input.dispatchEvent(new Event('input', {bubbles: true}));
                while (performance.now() - t0 < 10000) {
                    await new Promise(r => requestAnimationFrame(r));
                    if (hash() !== before) return performance.now() - t0;
                }
                return -1;
            }""",
            [slider_sel, watch_sel, value, index],
        )

    def slider_to_frame_ms(self, slider_sel: str, root_sel: str, canvas_sel: str, value) -> float:
        """Set a slider and time (ms) until the widget has drawn a new frame (``data-frame-id`` of
        ``root_sel`` changes); -1 if none within 10 s, -2 if the canvas pixels did not change.

        The widget sets ``data-frame-id`` in the animation frame that draws the pixels, right after
        drawing them; a MutationObserver timestamps that write.  Unlike
        :meth:`slider_to_redraw_ms`, nothing reads the canvas back while the computation runs (a
        600 x 600 read-back and hash on every animation frame cost the page several ms each and
        add up to one frame of detection delay); the pixels are compared once, afterwards.
        """
        return self.page.evaluate(
            """async ([sliderSel, rootSel, canvasSel, value]) => {
                const input = document.querySelector(sliderSel);
                const root = document.querySelector(rootSel);
                const canvas = document.querySelector(canvasSel);
                const hash = () => """ + _CANVAS_HASH + """;
                const before = hash();
                const id0 = root.dataset.frameId;
                let t1 = -1;
                const obs = new MutationObserver(() => {
                    if (t1 < 0 && root.dataset.frameId !== id0) t1 = performance.now();
                });
                obs.observe(root, {attributes: true, attributeFilter: ['data-frame-id']});
                const t0 = performance.now();
                input.value = String(value);
                input.dispatchEvent(new Event('input', {bubbles: true}));
                while (t1 < 0 && performance.now() - t0 < 10000) await new Promise(r => setTimeout(r, 4));
                obs.disconnect();
                if (t1 < 0) return -1;
                return hash() !== before ? t1 - t0 : -2;
            }""",
            [slider_sel, root_sel, canvas_sel, value],
        )

    def record(self, name: str, data) -> None:
        """Write a measurement to ``test-artifacts/<name>.json``."""
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"{name}.json").write_text(json.dumps(data, indent=1))

    def screenshot(self, name: str, selector: str | None = None):
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        if selector:
            self.page.locator(selector).first.screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def lab(browser, lab_server, lab_root):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    lp = LabPage(page, lab_server, lab_root)
    yield lp
    ctx.close()
