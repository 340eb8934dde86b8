"""Packaging: the wheel and the sdist carry the built front-ends; installing them needs no Node.js.

* ``python -m build`` makes an sdist and a wheel that both contain
  ``superres_widgets/static/*.js``; a wheel built from that sdist with no
  ``node``/``npm`` on PATH has them too (``hatch_build.py`` sees ``PKG-INFO``).
* From a clone without npm, ``pip install .`` stops with ONE line saying what
  to install.
* The wheel, installed into a virtual environment whose PATH has no
  ``node``/``npm``, runs the quickstart notebook headless (nbclient) and draws
  a widget in JupyterLab served from that environment (headless Chromium).
* The metadata is ready for a package index: licence file and expression,
  classifiers, URLs, the README as the long description, the version from
  ``superres_widgets.__version__``.

The builds reuse the bundles already in ``superres_widgets/static`` (made by
``pip install -e .``), so no JS build runs here. The clean environment's
dependencies are cached in ``~/.cache/superres_widgets/wheel-test-venv-<hash>``
(``tests/_venv_cache.py``: outside the clone, like pip's cache, so a fresh clone on the same
machine starts warm; keyed by the dependency list and the Python version; the wheel itself is
reinstalled and ``pip check`` run every run; a cached environment that fails that is rebuilt);
delete it to start from nothing.
"""

from __future__ import annotations

import email
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest
from _venv_cache import cache_key, cached_venv

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "superres_widgets" / "static"
NODE_TOOLS = {"node", "nodejs", "npm", "npx", "corepack"}


def _bundles() -> list[str]:
    names = sorted(p.name for p in STATIC.glob("*.js"))
    if not names:
        pytest.fail("superres_widgets/static has no bundles: run `make js` (or pip install -e .) first")
    return names


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def no_node_path(tmp_path_factory) -> str:
    """A PATH of one folder linking every program on the current PATH except Node.js and npm."""
    d = tmp_path_factory.mktemp("bin_without_node")
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            if entry.name in NODE_TOOLS or (d / entry.name).exists():
                continue
            (d / entry.name).symlink_to(entry.path)
    assert shutil.which("npm", path=str(d)) is None and shutil.which("node", path=str(d)) is None
    return str(d)


def _env(path: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH", "JUPYTER_DATA_DIR",
                        "JUPYTER_CONFIG_DIR", "SUPERRES_WIDGETS_SKIP_JS")}
    env.update(PATH=path, PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def _run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r


# ---------------------------------------------------------------------------
# metadata and the build hook's decisions (fast)
# ---------------------------------------------------------------------------

def test_version_and_licence_come_from_one_place():
    import superres_widgets

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = meta["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert meta["tool"]["hatch"]["version"]["path"] == "superres_widgets/__init__.py"
    assert superres_widgets.__version__.count(".") >= 2
    assert project["license"] == "BSD-3-Clause" and project["license-files"] == ["LICENSE"]
    assert "BSD 3-Clause License" in (ROOT / "LICENSE").read_text()
    assert {"Homepage", "Source", "Issues", "Documentation"} <= set(project["urls"])
    assert any(c.startswith("Framework :: Jupyter") for c in project["classifiers"])


def test_build_hook_plan(tmp_path):
    hook = _load(ROOT / "hatch_build.py", "_superres_hatch_build")
    static = tmp_path / "superres_widgets" / "static"
    static.mkdir(parents=True)
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "package.json").write_text("{}")
    # a clone: always rebuild (the sources may be newer than the bundles)
    assert hook.js_build_plan(tmp_path, {}) == "build"
    (static / "a.js").write_text("export default {}")
    assert hook.js_build_plan(tmp_path, {}) == "build"
    assert hook.js_build_plan(tmp_path, {"SUPERRES_WIDGETS_SKIP_JS": "1"}) == "reuse"
    # an unpacked sdist (PKG-INFO) or a tree without js/: reuse the bundles it carries
    (tmp_path / "PKG-INFO").write_text("Name: x")
    assert hook.js_build_plan(tmp_path, {}) == "reuse"
    (tmp_path / "PKG-INFO").unlink()
    shutil.rmtree(tmp_path / "js")
    assert hook.js_build_plan(tmp_path, {}) == "reuse"
    (static / "a.js").unlink()
    assert hook.js_build_plan(tmp_path, {}) == "missing"
    # skipping is only allowed when there is something to reuse
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "package.json").write_text("{}")
    assert hook.js_build_plan(tmp_path, {"SUPERRES_WIDGETS_SKIP_JS": "1"}) == "build"


def _clone_without_bundles(dest: Path) -> Path:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for rel in out:
        src = ROOT / rel
        if rel and src.is_file() and not rel.startswith(("superres_widgets/static", "tests/", "notebooks/")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    assert not (dest / "superres_widgets" / "static").exists()
    return dest


def test_install_from_a_clone_without_npm_is_one_line(tmp_path, no_node_path):
    repo = _clone_without_bundles(tmp_path / "repo")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
                        "--target", str(tmp_path / "target"), "."], cwd=repo, capture_output=True,
                       text=True, env=_env(no_node_path))
    assert r.returncode != 0
    text = r.stdout + r.stderr
    # pip frames the backend's output; the backend said exactly one line
    assert "[1 lines of output]" in text, text[-3000:]
    line = next(ln.strip() for ln in text.splitlines() if "superres_widgets: " in ln)
    assert "Node.js" in line and "npm" in line and "wheel" in line, line
    assert "Traceback" not in text


# ---------------------------------------------------------------------------
# sdist and wheel with the bundles
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dists(tmp_path_factory, no_node_path):
    """An sdist (reusing the built bundles) and a wheel built FROM that sdist with no npm on PATH."""
    bundles = _bundles()
    out = tmp_path_factory.mktemp("dist")
    py = sys.executable
    _run([py, "-m", "build", "--sdist", "--no-isolation", "--outdir", out, ROOT], cwd=ROOT,
         env=_env(no_node_path, SUPERRES_WIDGETS_SKIP_JS="1"))
    (sdist,) = out.glob("superres_widgets-*.tar.gz")
    unpacked = tmp_path_factory.mktemp("sdist")
    with tarfile.open(sdist) as tf:
        tf.extractall(unpacked, filter="data")
    (src,) = unpacked.iterdir()
    _run([py, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, src], cwd=src, env=_env(no_node_path))
    (wheel,) = out.glob("superres_widgets-*.whl")
    return sdist, wheel, bundles


def test_sdist_carries_bundles_and_sources(dists):
    sdist, _, bundles = dists
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert {f"superres_widgets/static/{b}" for b in bundles} <= names
    assert {"PKG-INFO", "LICENSE", "README.md", "pyproject.toml", "hatch_build.py",
            "js/package.json", "js/package-lock.json", "js/build.mjs"} <= names
    assert any(n.startswith("js/src/widgets/") for n in names)
    assert not any("node_modules" in n or "__pycache__" in n for n in names)


def test_wheel_from_the_sdist_has_bundles_and_index_metadata(dists):
    import superres_widgets

    _, wheel, bundles = dists
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for b in bundles:
            info = zf.getinfo(f"superres_widgets/static/{b}")
            assert info.file_size == (STATIC / b).stat().st_size, b
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_string(zf.read(meta_name).decode())
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    # every widget module's bundle is in the wheel
    widget_sources = {p.name for p in (ROOT / "js" / "src" / "widgets").glob("*.js")}
    assert widget_sources <= set(bundles)
    assert meta["Name"] == "superres_widgets"
    assert meta["Version"] == superres_widgets.__version__
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().strip() == (ROOT / "README.md").read_text().strip()
    assert len(meta.get_all("Classifier")) >= 10
    assert {u.split(",")[0] for u in meta.get_all("Project-URL")} >= {"Homepage", "Source", "Issues"}
    assert meta["Requires-Python"] == ">=3.10"


# ---------------------------------------------------------------------------
# the wheel in a clean environment with no Node.js
# ---------------------------------------------------------------------------

EXTRA_FOR_TEST = ["jupyterlab>=4.1", "ipykernel", "nbclient>=0.10", "nbformat>=5.9"]


def _wheel_venv(wheel: Path, path: str):
    """A venv with the wheel's dependencies (cached by their list) and the wheel (fresh each run), locked."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def env_for(env_dir: Path) -> dict:
        return _env(f"{env_dir / 'bin'}{os.pathsep}{path}", VIRTUAL_ENV=str(env_dir))

    def build(env_dir: Path) -> None:
        _run([env_dir / "bin" / "python", "-m", "pip", "install", "-q", str(wheel), *EXTRA_FOR_TEST],
             env=env_for(env_dir))

    def refresh(env_dir: Path) -> None:
        py = env_dir / "bin" / "python"
        _run([py, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(wheel)], env=env_for(env_dir))
        _run([py, "-m", "pip", "check"], env=env_for(env_dir))

    return cached_venv("wheel-test-venv", cache_key(sorted(meta["dependencies"]), EXTRA_FOR_TEST), build, refresh)


QUICKSTART_RUNNER = textwrap.dedent(r"""
    import pathlib, shutil, sys
    import nbformat
    from nbclient import NotebookClient
    import superres_widgets
    pkg = pathlib.Path(superres_widgets.__file__).parent
    assert sys.prefix in str(pkg), pkg
    print("static:", sorted(p.name for p in (pkg / "static").glob("*.js")))
    nb = nbformat.read(sys.argv[1], as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3").execute()
    mimes = [k for c in nb.cells if c.cell_type == "code" for o in c.outputs for k in o.get("data", {})]
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    print("widget views:", mimes.count("application/vnd.jupyter.widget-view+json"), "errors:", len(errors))
    print("node on PATH:", shutil.which("node"), shutil.which("npm"))
    # the payoff plot: one panel per bar set (not four profiles overlaid on one axis)
    import re
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "gridplot(" in c.source]
    text = " ".join(str(v) for o in cell.outputs for v in o.get("data", {}).values()).replace("\\u00b7", "\u00b7")
    print("payoff panels:", sorted(set(re.findall("G3E[3-6] \u00b7 [0-9.]+ lp/mm", text))))
""")



def _in_own_thread(fn):
    """Run ``fn`` in a fresh thread (no asyncio loop) and re-raise what it raised."""
    import threading

    box = {}

    def target():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 -- handed back to the test's thread
            box["exc"] = exc

    t = threading.Thread(target=target, name="wheel-browser-test")
    t.start()
    t.join()
    if "exc" in box:
        raise box["exc"]


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_wheel_runs_without_node_headless_and_in_the_browser(dists, tmp_path, no_node_path):
    _, wheel, bundles = dists
    with _wheel_venv(wheel, no_node_path) as env_dir:
        _wheel_checks(env_dir, bundles, tmp_path, no_node_path)


def _wheel_checks(env_dir: Path, bundles: list[str], tmp_path: Path, no_node_path: str) -> None:
    py = env_dir / "bin" / "python"
    env = _env(f"{env_dir / 'bin'}{os.pathsep}{no_node_path}", VIRTUAL_ENV=str(env_dir))

    # headless: the quickstart notebook, executed by the venv's own kernel
    nb = tmp_path / "00_quickstart.ipynb"
    shutil.copy2(ROOT / "notebooks" / "00_quickstart.ipynb", nb)
    (tmp_path / "run.py").write_text(QUICKSTART_RUNNER)
    r = _run([py, tmp_path / "run.py", nb], cwd=tmp_path, env=env, timeout=900)
    assert f"static: {bundles}" in r.stdout, r.stdout
    assert "errors: 0" in r.stdout and "widget views: 0" not in r.stdout, r.stdout
    assert "node on PATH: None None" in r.stdout
    assert ("payoff panels: ['G3E3 · 10.1 lp/mm', 'G3E4 · 11.3 lp/mm', 'G3E5 · 12.7 lp/mm', 'G3E6 · 14.3 lp/mm']"
            in r.stdout), r.stdout

    # in the browser: JupyterLab served from the venv, one widget drawn
    ui = ROOT / "tests" / "ui"
    servers = _load(ui / "_servers.py", "_superres_ui_servers")
    if not Path(servers.CHROMIUM).exists():
        pytest.fail(f"{servers.CHROMIUM} is missing: `make test` installs Debian's chromium")
    LabPage = _load(ui / "conftest.py", "_superres_ui_conftest").LabPage
    from playwright.sync_api import sync_playwright

    # Playwright's sync API refuses to start in a thread whose asyncio loop is taken (the browser
    # tests' session-wide Chromium, when they ran first in this process): a thread of its own
    def in_browser():
        root = tmp_path / "lab"
        root.mkdir()
        with servers.jupyter_server(py, "jupyterlab", root, tmp_path / "jupyter", env=env) as base, \
                sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=servers.CHROMIUM, headless=True, args=servers.CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.set_default_timeout(60_000)
                lab = LabPage(page, base, root)
                name = lab.write_notebook("wheel.ipynb", [
                    "import sys, superres_widgets\nprint(sys.prefix)\nprint(superres_widgets.__file__)",
                    "from superres_widgets.widgets import BeamTrajectoryExplorer\n"
                    "w = BeamTrajectoryExplorer(xs=3, ys=2)\nw",
                ])
                lab.open(name).run_all()
                assert lab.cell_errors() == []
                assert lab.kernel("import superres_widgets; print(superres_widgets.__file__)").startswith(str(env_dir))
                canvas = ".srw-beam-trajectory canvas[data-role=overview]"
                page.wait_for_selector(canvas, timeout=60_000)
                page.wait_for_timeout(300)
                s = lab.canvas_stats(canvas)
                assert s["colours"] > 20 and 0.05 < s["nonWhite"] < 0.99, s
                lab.screenshot("wheel_beam_trajectory", ".srw-beam-trajectory")
                assert not [m for m in lab.console if m.startswith("pageerror")], lab.console
            finally:
                browser.close()

    _in_own_thread(in_browser)
