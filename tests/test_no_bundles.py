"""An install without the JS bundles: algorithms, io, the report and the CLI work; widgets say how to build.

The situation is built for real: the ``superres_widgets`` package is copied without ``static/``
into a temporary folder that comes first on ``sys.path`` of a fresh interpreter (checked: the
copy is what gets imported).  Then

* every algorithm module (``xrf``, ``s3dxrd``, ``io``), ``superres_widgets.report`` and
  ``superres_widgets.cli`` import;
* ``python -m superres_widgets.cli --help`` exits 0, and ``reproduce --quick`` writes a report;
* ``import superres_widgets.widgets`` and every widget module import (no crash at import time);
* creating a widget raises ``FileNotFoundError`` whose message names the missing bundle and the
  command that builds it (``npm run build``).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "superres_widgets"


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """(folder holding a copy of the package without static/, environment for subprocesses)."""
    site = tmp_path_factory.mktemp("no_bundles")
    shutil.copytree(PKG, site / "superres_widgets",
                    ignore=shutil.ignore_patterns("static", "__pycache__", "*.pyc"))
    assert not (site / "superres_widgets" / "static").exists()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
               PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    return site, env


def _run(bare, code: str, timeout: float = 120):
    site, env = bare
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=site, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _algorithm_modules(site: pathlib.Path):
    names = []
    for d in ("xrf", "s3dxrd", "io"):
        for p in sorted((site / "superres_widgets" / d).rglob("*.py")):
            rel = p.relative_to(site).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            names.append(".".join(parts))
    assert len(names) >= 10
    return names


def test_the_copy_is_what_gets_imported(bare):
    site, _ = bare
    res = _run(bare, """
        import superres_widgets, pathlib
        print(pathlib.Path(superres_widgets.__file__).resolve().parent)
    """)
    assert res.returncode == 0, res.stderr
    assert pathlib.Path(res.stdout.strip()) == (site / "superres_widgets").resolve()


def test_algorithms_io_report_and_cli_import_without_bundles(bare):
    site, _ = bare
    modules = _algorithm_modules(site) + ["superres_widgets.io", "superres_widgets.report",
                                          "superres_widgets.cli"]
    res = _run(bare, f"""
        import importlib, json, sys
        failed = {{}}
        for m in {modules!r}:
            try:
                importlib.import_module(m)
            except Exception as exc:
                failed[m] = f"{{type(exc).__name__}}: {{exc}}"
        print(json.dumps(failed))
    """)
    assert res.returncode == 0, res.stderr
    failed = json.loads(res.stdout.strip().splitlines()[-1])
    assert failed == {}


def test_cli_help_and_quick_report_without_bundles(bare, tmp_path):
    site, env = bare
    res = subprocess.run([sys.executable, "-m", "superres_widgets.cli", "--help"], cwd=site, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "reproduce" in res.stdout and "deconvolve" in res.stdout
    out = tmp_path / "report"
    res = subprocess.run([sys.executable, "-m", "superres_widgets.cli", "reproduce", "--quick",
                          "--out", str(out)], cwd=site, env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    html = (out / "index.html").read_text(encoding="utf-8")
    assert html.count('class="figure"') >= 11 and "Bokeh.embed.embed_items" in html


def test_widget_modules_import_and_widgets_explain_the_missing_bundle(bare):
    site, _ = bare
    widget_modules = sorted(p.stem for p in (site / "superres_widgets" / "widgets").glob("*.py")
                            if p.stem != "__init__")
    res = _run(bare, f"""
        import importlib, json
        import superres_widgets.widgets as w
        failed = {{}}
        for m in {widget_modules!r}:
            try:
                importlib.import_module("superres_widgets.widgets." + m)
            except Exception as exc:
                failed[m] = f"{{type(exc).__name__}}: {{exc}}"
        created = {{}}
        for name in w.__all__:
            try:
                cls = getattr(w, name)
            except Exception as exc:
                created[name] = ["import", type(exc).__name__, str(exc)]
                continue
            try:
                obj = cls()
                created[name] = ["created", "", ""]
                obj.close()
            except Exception as exc:
                created[name] = ["init", type(exc).__name__, str(exc)]
        print(json.dumps([failed, created]))
    """, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    failed, created = json.loads(res.stdout.strip().splitlines()[-1])
    assert failed == {}, failed
    assert len(created) >= 7
    for name, (stage, kind, msg) in created.items():
        assert (stage, kind) == ("init", "FileNotFoundError"), (name, stage, kind, msg)
        assert "static" in msg and ".js" in msg and "npm run build" in msg, (name, msg)
