"""Layering, read from the source: algorithms import nothing above them; report, CLI, tools and
non-widget benchmarks import no widget module.

Three layers import downward only (issue 9, item 4):

1. algorithms -- ``superres_widgets/xrf``, ``superres_widgets/s3dxrd``, ``superres_widgets/io``;
2. widget models -- ``superres_widgets/widgets`` (traitlets / anywidget);
3. front-ends -- ``js/src``.

``report.py`` and ``cli.py`` (and ``tools/``, the non-widget benchmarks) sit beside the widgets and
use only algorithms and io.  Every ``import`` / ``from ... import`` anywhere in a file counts,
including imports inside functions and ``importlib.import_module("...")`` with a literal name;
relative imports are resolved against the file's package.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "superres_widgets"

ALGORITHM_DIRS = ("xrf", "s3dxrd", "io")
#: the foundation below the algorithms (validation vocabulary, memory budget): the package root may import it
FOUNDATION = ("validate.py",)
#: module prefixes no algorithm module may import
ALGORITHM_FORBIDDEN = ("superres_widgets.widgets", "superres_widgets.report", "superres_widgets.cli",
                       "ipywidgets", "anywidget", "traitlets", "jupyter_bokeh", "bokeh.models.widgets",
                       "IPython")
#: module prefixes report, CLI, tools and non-widget benchmarks may not import
WIDGET_MODULES = ("superres_widgets.widgets", "ipywidgets", "anywidget", "jupyter_bokeh")


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: pathlib.Path, name: str = ""):
    """[(line, absolute module name)] of every import in ``path`` (relative ones resolved).

    ``name`` is the file's dotted module name (default: from its place under the repository).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = name or _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                if node.level - 1 > len(parts):
                    raise AssertionError(f"{path}:{node.lineno}: relative import above the top level")
                base = ".".join(parts[:len(parts) - (node.level - 1)])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            # ``from superres_widgets import widgets`` imports the module superres_widgets.widgets
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname in ("import_module", "__import__") and node.args and \
                    isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def _is_forbidden(mod: str, forbidden) -> bool:
    return any(mod == f or mod.startswith(f + ".") for f in forbidden)


def _violations(files, forbidden, name: str = ""):
    """``"<file>:<line> imports <module>"``, one per offending line (its shortest module name)."""
    bad = {}
    for path in files:
        for line, mod in _imports(path, name):
            if _is_forbidden(mod, forbidden):
                key = (path, line)
                if key not in bad or len(mod) < len(bad[key]):
                    bad[key] = mod
    return [f"{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}:{line} imports {mod}"
            for (p, line), mod in sorted(bad.items())]


def _algorithm_files():
    files = [p for d in ALGORITHM_DIRS for p in sorted((PKG / d).rglob("*.py"))]
    files += [PKG / name for name in FOUNDATION if (PKG / name).is_file()]
    assert len(files) >= 10 and all((PKG / d / "__init__.py").is_file() for d in ALGORITHM_DIRS)
    return files


def _sharing_files():
    files = [PKG / "report.py", PKG / "cli.py"]
    files += sorted((ROOT / "tools").rglob("*.py")) if (ROOT / "tools").is_dir() else []
    files += [p for p in sorted((ROOT / "benchmarks").glob("*.py")) if "widget" not in p.name]
    assert all(p.is_file() for p in files[:2])
    return files


def test_the_scanner_sees_every_kind_of_import(tmp_path):
    src = ("import ipywidgets\nfrom ..widgets._base import X\nfrom .. import widgets\n"
           "def f():\n    from superres_widgets.widgets.reconstruction import map_rgba\n"
           "    import importlib\n    importlib.import_module('anywidget')\n"
           "from . import psf\nimport numpy\nfrom ..s3dxrd import geometry\n")
    probe = tmp_path / "probe.py"
    probe.write_text(src)
    mods = [m for _, m in _imports(probe, "superres_widgets.xrf.probe")]  # as if in xrf/
    assert {"ipywidgets", "superres_widgets.widgets._base", "superres_widgets.widgets",
            "superres_widgets.widgets.reconstruction", "anywidget", "superres_widgets.xrf.psf",
            "numpy", "superres_widgets.s3dxrd.geometry"} <= set(mods)
    bad = _violations([probe], ALGORITHM_FORBIDDEN, "superres_widgets.xrf.probe")
    assert [b.split(":", 1)[1] for b in bad] == [
        "1 imports ipywidgets", "2 imports superres_widgets.widgets._base",
        "3 imports superres_widgets.widgets", "5 imports superres_widgets.widgets.reconstruction",
        "7 imports anywidget"]
    # the same file as a package __init__: one level less to climb
    init = tmp_path / "__init__.py"
    init.write_text("from .widgets import X\n")
    assert [m for _, m in _imports(init, "superres_widgets")] == ["superres_widgets.widgets",
                                                                  "superres_widgets.widgets.X"]


def test_algorithms_import_nothing_above_them():
    bad = _violations(_algorithm_files(), ALGORITHM_FORBIDDEN)
    assert not bad, "algorithm modules reach up into widgets / front-end packages:\n" + "\n".join(bad)


def test_report_cli_tools_and_benchmarks_import_no_widget_module():
    bad = _violations(_sharing_files(), WIDGET_MODULES)
    assert not bad, "report / CLI / tools / benchmarks import widget modules:\n" + "\n".join(bad)


def test_package_root_imports_no_layer():
    """``import superres_widgets`` stays cheap: the root imports no widget (nor any layer above the foundation)."""
    foundation = {"superres_widgets." + name.removesuffix(".py") for name in FOUNDATION}
    bad = [m for _, m in _imports(PKG / "__init__.py")
           if (m.startswith("superres_widgets.") and m not in foundation)
           or m.split(".")[0] in ("ipywidgets", "anywidget", "traitlets", "bokeh")]
    assert not bad, bad


@pytest.mark.timeout(120)
def test_importing_algorithms_report_and_cli_loads_no_widget_module():
    """The same, at run time: transitive imports included (a fresh interpreter)."""
    modules = sorted({_module_name(p) for p in _algorithm_files()}
                     | {"superres_widgets.report", "superres_widgets.cli"})
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('ipywidgets', 'anywidget', "
        "'traitlets', 'jupyter_bokeh') or m.startswith('superres_widgets.widgets'))\n"
        "print(len(sys.modules)); print(bad)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=110)
    assert res.returncode == 0, res.stderr
    n, bad = res.stdout.strip().splitlines()[-2:]
    assert int(n) > 100 and bad == "[]", bad
