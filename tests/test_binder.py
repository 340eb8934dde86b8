"""The Binder configuration (binder/) builds a working environment.

Slow (a few minutes cold, about a minute warm): ``pip install -r binder/requirements.txt`` and
``binder/postBuild`` run from a clean copy of the repository (the files git knows about --
tracked, or new and not ignored -- never the work tree itself, so no ``node_modules``/``static``
leak in), then the course runs with the environment's own kernel.

The environment is cached across runs (``tests/_venv_cache.py``:
``~/.cache/superres_widgets/binder-venv-<key>``, the key hashing ``binder/requirements.txt``,
``binder/runtime.txt``, the package's dependencies and its ``lab`` extra, and the Python
version).  What every run still does, warm or cold: ``pip install -r binder/requirements.txt``
(satisfied or installed), the package UNINSTALLED, ``binder/postBuild`` run on the fresh copy
(``npm ci``, the front-end build, ``pip install .[lab]``), ``pip check``, and the installed
package compared file by file with the copy -- so the test proves that the Binder files build
and install the current code.  A cached environment that fails any of this is rebuilt from
nothing and tried again.

Which notebooks run here, and why not all of them: ``tests/test_notebooks.py`` executes EVERY
notebook on the same package source in the test environment.  What the Binder environment can
change is (1) which third-party modules are installed (the ``lab`` extra instead of ``test``),
(2) the package installed from a built wheel (non-editable, with the bundles postBuild built)
instead of the editable clone, and (3) files reached from the notebook folder (``data/``).  So
here: (1) every import statement of every notebook, every third-party module (dotted, e.g.
``ImageD11.sinograms.point_by_point``) imported anywhere in the package or the notebooks --
also inside functions and ``try`` blocks, so notebook 07's ImageD11 section, which only reports
a missing ImageD11, is covered -- except the documented optional ones, and every module of the
package are imported with the Binder interpreter; (2) ``00_quickstart`` (the widgets, files
written and read back) and (3) ``08_your_own_map`` (the 2-ID-E files in ``data/``) are executed
top to bottom.  The other notebooks use only modules checked in (1), running the code that
test_notebooks runs.  Not covered here: a numerical difference caused by a different version of
a dependency (both environments satisfy the same requirement ranges, but may resolve them at
different times).

Needs the PyPI and npm registries on a cold cache (pip's and npm's caches make a rebuild faster);
no access to GitHub.
"""

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from _venv_cache import cache_key, cached_venv

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"

pytestmark = pytest.mark.slow

# the notebooks that use the Binder environment differently from test_notebooks (see the docstring)
BINDER_NOTEBOOKS = {
    "00_quickstart.ipynb": "the widgets from the installed wheel, files written and read back",
    "08_your_own_map.ipynb": "the real 2-ID-E files in data/ found from the notebook folder",
}
# third-party modules the package imports only for an optional feature, absent from Binder on purpose
OPTIONAL_MODULES = {
    "distributed": "only with a user's own dask.distributed Client (CLI --scheduler ADDRESS, xrf.stack)",
}
RUNNER_DEPS = ["nbclient>=0.10", "nbformat>=5.9"]


def test_binder_files_exist():
    assert (BINDER / "requirements.txt").is_file()
    assert (BINDER / "runtime.txt").read_text().strip().startswith("python-3.")
    post = BINDER / "postBuild"
    assert post.is_file() and os.access(post, os.X_OK), "binder/postBuild must be executable"
    text = post.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "pip install" in text and "npm" in text


def test_binder_notebook_choice_is_current():
    names = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert set(BINDER_NOTEBOOKS) <= names, set(BINDER_NOTEBOOKS) - names


def _repo_files():
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f]


def _run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r


def _imports(paths) -> tuple[list[str], set[str]]:
    """Every import statement in ``paths`` (as source) and the third-party modules they name (dotted)."""
    statements, modules = [], set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            statements.append(ast.unparse(node))
            modules |= set(names)
    return statements, {m for m in modules if m.split(".")[0] not in (*sys.stdlib_module_names, "superres_widgets")}


IMPORT_CHECK = textwrap.dedent(r"""
    import importlib, json, pkgutil, sys
    args = json.load(open(sys.argv[1]))
    failed = []
    for name in args["modules"]:
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed.append(f"module {name}: {exc!r}")
    for stmt in args["statements"]:
        try:
            exec(stmt, {})
        except Exception as exc:
            failed.append(f"{stmt}: {exc!r}")
    import superres_widgets
    n = 0
    for info in pkgutil.walk_packages(superres_widgets.__path__, "superres_widgets."):
        n += 1
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed.append(f"{info.name}: {exc!r}")
    print(f"imported {len(args['modules'])} third-party modules, {len(args['statements'])} notebook "
          f"import statements, {n} package modules; failed: {len(failed)}")
    print("\n".join(failed))
    sys.exit(1 if failed else 0)
""")

RUNNER = textwrap.dedent(r"""
    import pathlib, sys, time
    import nbformat
    from nbclient import NotebookClient
    failed = []
    for path in [pathlib.Path(p) for p in sys.argv[1:]]:
        nb = nbformat.read(str(path), as_version=4)
        t0 = time.perf_counter()
        try:
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                      if o.output_type == "error"]
        except Exception as exc:  # CellExecutionError etc.
            errors = [str(exc)[-2000:]]
        print(f"{path.name}: {'FAILED' if errors else 'ok'} in {time.perf_counter() - t0:.1f} s", flush=True)
        if errors:
            failed.append((path.name, errors))
    for name, errors in failed:
        print("ERROR in", name, errors, file=sys.stderr)
    import jupyter_bokeh, superres_widgets
    static = pathlib.Path(superres_widgets.__file__).parent / "static"
    js = sorted(p.name for p in static.glob("*.js"))
    print("static:", js, "jupyter_bokeh", jupyter_bokeh.__version__)
    if not js:
        failed.append(("static", "no built front-end"))
    sys.exit(1 if failed else 0)
""")


def _binder_key() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return cache_key((BINDER / "requirements.txt").read_text(), (BINDER / "runtime.txt").read_text(),
                     sorted(project["dependencies"]), sorted(project["optional-dependencies"]["lab"]), RUNNER_DEPS)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.timeout(3600)
def test_binder_environment_builds_and_runs_the_course(tmp_path):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (repo2docker images have it)")
    repo = tmp_path / "repo"
    for rel in _repo_files():
        src = ROOT / rel
        if src.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    assert not (repo / "superres_widgets" / "static").exists(), "the copy must start unbuilt"
    assert (repo / "binder" / "postBuild").is_file()

    def env_for(env_dir: Path) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH",
                            "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR")}
        env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(env_dir)
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        return env

    def build(env_dir: Path) -> None:  # a cold cache: the dependencies
        py, env = env_dir / "bin" / "python", env_for(env_dir)
        _run([py, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"], cwd=repo, env=env)
        _run([py, "-m", "pip", "install", "-q", *RUNNER_DEPS], cwd=repo, env=env)

    post = {}

    def refresh(env_dir: Path) -> None:  # every run: the Binder steps on the fresh copy
        py, env = env_dir / "bin" / "python", env_for(env_dir)
        _run([py, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"], cwd=repo, env=env)
        _run([py, "-m", "pip", "uninstall", "-y", "-q", "superres_widgets"], cwd=repo, env=env)
        gone = subprocess.run([py, "-c", "import superres_widgets"], cwd=tmp_path, env=env, capture_output=True)
        assert gone.returncode != 0, "superres_widgets still importable after uninstalling it"
        post["out"] = _run(["bash", "binder/postBuild"], cwd=repo, env=env).stdout
        _run([py, "-m", "pip", "check"], cwd=repo, env=env)

    with cached_venv("binder-venv", _binder_key(), build, refresh) as env_dir:
        py, env = env_dir / "bin" / "python", env_for(env_dir)
        assert "installed superres_widgets" in post["out"]
        # the package is imported from the venv, not from the copy or the work tree, and it IS the copy
        where = Path(_run([py, "-c", "import superres_widgets; print(superres_widgets.__file__)"],
                          cwd=tmp_path, env=env).stdout.strip()).parent
        assert str(where).startswith(str(env_dir)), where
        sources = sorted(p.relative_to(repo / "superres_widgets")
                         for p in (repo / "superres_widgets").rglob("*.py"))
        assert sources and all(_sha(where / s) == _sha(repo / "superres_widgets" / s) for s in sources)
        # the kernel the notebooks get is the venv's
        spec = _run([py, "-m", "jupyter", "kernelspec", "list"], cwd=tmp_path, env=env).stdout
        assert str(env_dir) in spec or "python3" in spec

        # (1) imports: every notebook import statement, every third-party module, every package module
        notebooks = sorted((repo / "notebooks").glob("*.py"))
        statements, nb_modules = _imports(notebooks)
        _, pkg_modules = _imports(sorted((repo / "superres_widgets").rglob("*.py")))
        modules = sorted(m for m in nb_modules | pkg_modules if m.split(".")[0] not in OPTIONAL_MODULES)
        assert {"numpy", "bokeh.models", "anywidget", "ImageD11.sinograms.point_by_point"} <= set(modules), modules
        (tmp_path / "imports.json").write_text(json.dumps({"modules": modules, "statements": statements}))
        (tmp_path / "import_check.py").write_text(IMPORT_CHECK)
        r = _run([py, tmp_path / "import_check.py", tmp_path / "imports.json"], cwd=tmp_path, env=env,
                 timeout=600)
        print(r.stdout)
        assert "failed: 0" in r.stdout

        # (2)-(4) the notebooks that use the environment differently, from the copy's notebook folder
        (tmp_path / "run_notebooks.py").write_text(RUNNER)
        paths = [repo / "notebooks" / name for name in sorted(BINDER_NOTEBOOKS)]
        r = subprocess.run([str(py), str(tmp_path / "run_notebooks.py"), *map(str, paths)], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=3000)
        print(r.stdout)
        assert r.returncode == 0, f"notebooks failed in the Binder environment:\n{r.stdout}\n{r.stderr[-6000:]}"
        assert r.stdout.count(": ok in") == len(BINDER_NOTEBOOKS)
