"""Start a Jupyter server (JupyterLab or Notebook 7) from ANY Python environment.

``tests/ui/conftest.py`` serves JupyterLab from the test environment itself;
these helpers serve it from another one (the clean venv of the wheel test) or
serve Jupyter Notebook 7, with the same isolation: 127.0.0.1, a free port, a
fixed token, private config/runtime/settings dirs, no news or update checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

TOKEN = "superres-ui-test-token"
CHROMIUM = os.environ.get("SUPERRES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter_server(python: str | Path, app: str, root: Path, workdir: Path, env: dict | None = None):
    """Run ``python -m <app>`` (``jupyterlab`` or ``notebook``) on ``root``; yield its base URL.

    ``workdir`` receives the private Jupyter dirs and ``server.log``.
    """
    if app not in ("jupyterlab", "notebook"):
        raise ValueError(f"app={app!r}: expected 'jupyterlab' or 'notebook'")
    port = free_port()
    cls = "LabApp" if app == "jupyterlab" else "JupyterNotebookApp"
    settings = workdir / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ if env is None else env)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(workdir / "settings"),
        JUPYTER_CONFIG_DIR=str(workdir / "config"),
        JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(workdir / "workspaces"),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env.pop("JUPYTER_DATA_DIR", None)  # the server's own environment's data dir (its labextensions)
    cmd = [
        str(python), "-m", app, "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}", f"--{cls}.expose_app_in_browser=True",
        f"--ServerApp.root_dir={root}", "--ServerApp.disable_check_xsrf=True",
    ]
    if app == "jupyterlab":
        cmd += ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = workdir / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 120
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{app} exited: {log_path.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2) as r:
                        json.loads(r.read())
                        break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError(f"{app} did not answer within 120 s") from None
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
