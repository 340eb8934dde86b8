"""The Binder configuration (binder/) builds a working environment.

Slow (a few minutes): a fresh virtual environment, ``pip install -r
binder/requirements.txt``, ``binder/postBuild`` run from a clean copy of the
repository (the files git knows about -- tracked, or new and not ignored --
never the work tree itself, so no ``node_modules``/``static`` leak in), then
every course notebook is executed with the venv's own kernel.

Needs the PyPI and npm registries (pip's and npm's caches make a rerun
fast); no access to GitHub.
"""

import os
import shutil
import subprocess
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"

pytestmark = pytest.mark.slow


def test_binder_files_exist():
    assert (BINDER / "requirements.txt").is_file()
    assert (BINDER / "runtime.txt").read_text().strip().startswith("python-3.")
    post = BINDER / "postBuild"
    assert post.is_file() and os.access(post, os.X_OK), "binder/postBuild must be executable"
    text = post.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "pip install" in text and "npm" in text


def _repo_files():
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f]


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r


RUNNER = textwrap.dedent(r"""
    import pathlib, sys, time
    import nbformat
    from nbclient import NotebookClient
    failed = []
    for path in sorted(pathlib.Path(sys.argv[1]).glob("*.ipynb")):
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


@pytest.mark.timeout(3600)
def test_binder_environment_runs_every_notebook(tmp_path):
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

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bin_dir = env_dir / "bin"
    py = bin_dir / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH",
                        "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(env_dir)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    _run([str(py), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"], cwd=repo, env=env)
    post = _run(["bash", "binder/postBuild"], cwd=repo, env=env)
    assert "installed superres_widgets" in post.stdout
    # the notebook runner (nbclient comes with jupyterlab's nbconvert; make sure)
    _run([str(py), "-m", "pip", "install", "-q", "nbclient>=0.10", "nbformat>=5.9"], cwd=repo, env=env)
    # the package is imported from the venv, not from the copy or the work tree
    where = _run([str(py), "-c", "import superres_widgets; print(superres_widgets.__file__)"],
                 cwd=tmp_path, env=env).stdout.strip()
    assert where.startswith(str(env_dir)), where
    # the kernel the notebooks get is the venv's
    spec = _run([str(py), "-m", "jupyter", "kernelspec", "list"], cwd=tmp_path, env=env).stdout
    assert str(env_dir) in spec or "python3" in spec

    runner = tmp_path / "run_notebooks.py"
    runner.write_text(RUNNER)
    r = subprocess.run([str(py), str(runner), str(repo / "notebooks")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=3000)
    print(r.stdout)
    assert r.returncode == 0, f"notebooks failed in the Binder environment:\n{r.stdout}\n{r.stderr[-6000:]}"
    assert r.stdout.count(": ok in") == len(list((repo / "notebooks").glob("*.ipynb")))
