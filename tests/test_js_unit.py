"""Run the front-end's pure-logic unit tests (node --test js/tests)."""

import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[1] / "js"


def test_js_unit_tests_pass():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (it also builds the front-ends)")
    proc = subprocess.run([node, "--test", "tests/"], cwd=JS, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout and "# pass" in proc.stdout
