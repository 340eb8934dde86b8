"""Hatch build hook: build the anywidget front-ends before packaging.

Runs ``npm ci`` (only when ``js/node_modules`` is missing or older than the
lockfile) and ``npm run build`` in ``js/``; esbuild writes the bundles into
``superres_widgets/static/``. Works for ``pip install .`` and ``pip install -e .``.
Set ``SUPERRES_WIDGETS_SKIP_JS=1`` to skip (e.g. when the bundles exist).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class JSBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        root = Path(self.root)
        js = root / "js"
        static = root / "superres_widgets" / "static"
        if os.environ.get("SUPERRES_WIDGETS_SKIP_JS") == "1" or not (js / "package.json").exists():
            # e.g. a wheel built from an sdist that already carries the bundles
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm (Node.js) is needed to build the widget front-ends in js/")
        marker = js / "node_modules" / ".package-lock.json"
        lock = js / "package-lock.json"
        if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=js, check=True)
        subprocess.run([npm, "run", "build"], cwd=js, check=True)
        if not any(static.glob("*.js")):
            raise RuntimeError(f"the JS build wrote no bundle into {static}")
        build_data["artifacts"].append("superres_widgets/static/*.js")
