"""Lint as part of the tests: ruff for the Python code, biome for the front-ends in ``js/``.

Configuration: ``[tool.ruff]`` in ``pyproject.toml`` and ``js/biome.json``. Fix a finding, or
silence one that is intended with ``# noqa: CODE`` (ruff) or ``// biome-ignore lint/<rule>: why``.
ruff comes with the ``test`` extra; biome with ``npm ci`` in ``js/`` (run by the build hook).
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "js"
PY_PATHS = [p for p in ("superres_widgets", "tests", "benchmarks", "tools", "notebooks") if (ROOT / p).is_dir()]
JS_PATHS = [p for p in ("src", "tests", "build.mjs") if (JS / p).exists()]


def _ruff(*args, cwd=ROOT):
    try:
        import ruff  # noqa: F401
    except ImportError:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def _biome_binary():
    biome = JS / "node_modules" / ".bin" / "biome"
    if not biome.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed, so js/node_modules (with biome) cannot be")
        pytest.fail("biome is missing from js/node_modules: run `npm ci` in js/ (pip install -e . does)")
    return biome


def _biome_lint(*paths, cwd=JS):
    return subprocess.run([str(_biome_binary()), "lint", "--error-on-warnings", "--reporter=concise",
                           "--max-diagnostics=none", *paths], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    r = _ruff(*PY_PATHS)
    assert r.returncode == 0, f"ruff check {' '.join(PY_PATHS)}:\n{r.stdout[-8000:]}{r.stderr[-2000:]}"


def test_biome_finds_nothing_in_the_front_ends():
    r = _biome_lint(*JS_PATHS)
    assert r.returncode == 0, f"biome lint in js/:\n{r.stdout[-8000:]}{r.stderr[-8000:]}"


def test_ruff_configuration_catches_the_kinds_of_bug_it_is_for(tmp_path):
    """The project's rule set flags an unused import, an unused local, a late-bound loop variable
    and an old-style Optional -- and passes clean code."""
    bad = tmp_path / "bad.py"
    bad.write_text("from typing import Optional\n\nimport os\n\n\n"
                   "def f(xs: Optional[list]) -> list:\n"
                   "    T = 1\n"
                   "    fs = []\n"
                   "    for x in xs:\n"
                   "        fs.append(lambda: x)\n"
                   "    return fs\n")
    good = tmp_path / "good.py"
    good.write_text("def f(xs: list | None) -> list:\n    return [x + 1 for x in xs or []]\n")
    config = str(ROOT / "pyproject.toml")
    r = _ruff("--config", config, str(bad), cwd=tmp_path)
    codes = {line.split(" ")[1] for line in r.stdout.splitlines() if line.startswith("bad.py:")}
    assert {"F401", "F841", "B023", "UP045"} <= codes, r.stdout
    assert _ruff("--config", config, str(good), cwd=tmp_path).returncode == 0


def test_biome_configuration_catches_bugs_and_passes_clean_code(tmp_path):
    _biome_binary()
    config = json.loads((JS / "biome.json").read_text())
    config["vcs"] = {"enabled": False}
    config.pop("$schema", None)
    (tmp_path / "biome.json").write_text(json.dumps(config))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bad.js").write_text(
        "import { a } from './a.js';\nexport function f(x) {\n  let y = x;\n  if (y == null) return 0;\n"
        "  return y;\n}\n")
    (tmp_path / "src" / "good.js").write_text("export function f(x) {\n  return x ?? 0;\n}\n")
    bad = _biome_lint("src/bad.js", cwd=tmp_path)
    assert bad.returncode != 0
    found = bad.stdout + bad.stderr  # biome writes its diagnostics to stderr
    assert "noUnusedImports" in found and "useConst" in found, found
    good = _biome_lint("src/good.js", cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr


def test_the_linters_are_installed_by_the_setup():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"ruff' in pyproject.split("test = [", 1)[1].split("]", 1)[0], "ruff belongs in the test extra"
    package = json.loads((JS / "package.json").read_text())
    lock = json.loads((JS / "package-lock.json").read_text())
    assert "@biomejs/biome" in package["devDependencies"]
    assert "node_modules/@biomejs/biome" in lock["packages"], "package-lock.json lacks biome: npm install"
    assert '"ci"' in (ROOT / "hatch_build.py").read_text(), "the build hook must run `npm ci` in js/"
