"""Hatch build hook: build the anywidget front-ends before packaging.

When it builds
    From a clone (``js/package.json`` present, no ``PKG-INFO``): ``npm ci``
    (only when ``js/node_modules`` is missing or older than the lockfile),
    then ``npm run build`` in ``js/``; esbuild writes the bundles into
    ``superres_widgets/static/``. Works for ``pip install .``,
    ``pip install -e .`` and ``python -m build``.

When it does not
    * ``SUPERRES_WIDGETS_SKIP_JS=1`` and the bundles exist (reuse them);
    * an unpacked sdist (``PKG-INFO`` at the root) or a tree without ``js/``,
      when the bundles exist: the sdist carries them, so ``pip install
      superres_widgets-X.tar.gz`` and the wheel that ``python -m build``
      makes from the sdist need no Node.js.

Without npm where a build is needed, the build stops with ONE line that says
what to install (a ``SystemExit``, so pip shows no backend traceback).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLES = "superres_widgets/static/*.js"

NO_NPM = (
    "superres_widgets: building the widget front-ends (js/) needs Node.js >= 18 with npm on PATH: "
    "install Node.js (e.g. `apt-get install nodejs npm`, `conda install nodejs`), "
    "or install the prebuilt wheel instead (README, 'Install')"
)


def js_build_plan(root: Path, env: dict | None = None) -> str:
    """Decide what the hook does: ``"build"``, ``"reuse"`` (bundles kept) or ``"missing"``.

    ``"missing"`` means no bundles and nothing to build them from (neither is
    a front-end source tree nor a bundle) -- packaging without front-ends.
    """
    env = os.environ if env is None else env
    js = root / "js" / "package.json"
    have_bundles = any((root / "superres_widgets" / "static").glob("*.js"))
    if have_bundles and (env.get("SUPERRES_WIDGETS_SKIP_JS") == "1"
                         or not js.exists() or (root / "PKG-INFO").exists()):
        return "reuse"
    if not js.exists():
        return "missing"
    return "build"


class JSBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        root = Path(self.root)
        plan = js_build_plan(root)
        if plan == "missing":
            raise SystemExit("superres_widgets: no front-end bundles in superres_widgets/static "
                             "and no js/ to build them from")
        if plan == "build":
            self._build(root / "js")
            if not any((root / "superres_widgets" / "static").glob("*.js")):
                raise SystemExit("superres_widgets: the JS build wrote no bundle into superres_widgets/static")
        build_data["artifacts"].append(BUNDLES)

    def _build(self, js: Path) -> None:
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            raise SystemExit(NO_NPM)
        marker = js / "node_modules" / ".package-lock.json"
        lock = js / "package-lock.json"
        if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
            self._run([npm, "ci", "--no-audit", "--no-fund"], js)
        self._run([npm, "run", "build"], js)

    @staticmethod
    def _run(cmd: list[str], cwd: Path) -> None:
        r = subprocess.run(cmd, cwd=cwd)
        if r.returncode != 0:
            shown = " ".join(["npm", *cmd[1:]])
            raise SystemExit(f"superres_widgets: `{shown}` failed in {cwd} (exit {r.returncode}); its output is above")
