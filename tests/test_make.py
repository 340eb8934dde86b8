"""``make test`` says what it does: the plan first, sudo only when needed (and said up front),
apt without recommends into a log file, pytest with per-file progress; CI runs exactly it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(*args) -> str:
    r = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert commands[-1] == "make test", commands
    assert "make test" in (ROOT / "README.md").read_text()


def test_make_test_plan_and_order():
    dry = _make("-n", "test")
    # the plan is printed before anything is installed, then setup, chromium, pytest
    plan = dry.index("make test: 1)")
    assert plan < dry.index("pip install -e") < dry.index("apt-get update") < dry.index("-m pytest")
    pytest_line = next(ln for ln in dry.splitlines() if "-m pytest" in ln)
    # per-file progress: pytest's default reporter prints each file name; -q would hide them
    assert " -q" not in pytest_line and "--durations" in pytest_line


def test_two_pytest_runs_select_every_test_once():
    lines = [ln for ln in _make("-n", "test").splitlines() if "-m pytest" in ln]
    assert len(lines) == 2, lines
    parallel, serial = lines
    # 1/2 on both cores, a test file per process; 2/2 in one process (no -n)
    assert "-n 2" in parallel and "--dist loadfile" in parallel and '-m "not ui and not timing"' in parallel
    assert " -n " not in serial and '-m "ui or timing"' in serial
    # the two selections are complements: every test runs in exactly one of them
    markers = subprocess.run([sys.executable, "-m", "pytest", "--markers"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60).stdout
    assert "@pytest.mark.timing" in markers and "@pytest.mark.ui" in markers


def test_the_parallel_run_prints_a_line_per_test_file():
    r = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile", "-p", "no:cacheprovider",
                        "tests/test_layering.py", "tests/test_notebook_pairs.py"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:]
    lines = re.findall(r"^\[\s*(\d+)/2 files\] (tests/\S+): (\d+) passed \([0-9.]+ s\)$", r.stdout, re.M)
    assert sorted(f for _, f, _ in lines) == ["tests/test_layering.py", "tests/test_notebook_pairs.py"], r.stdout
    assert sorted(int(i) for i, _, _ in lines) == [1, 2]
    assert "..." not in r.stdout  # passing tests print no dots: the file lines say it


def test_apt_without_recommends_into_a_log_and_sudo_only_when_needed():
    recipe = _make("-n", "-B", "chromium")
    assert "--no-install-recommends" in recipe
    assert "> build/logs/apt-chromium.log 2>&1" in recipe
    # sudo only for a non-root user (the recipe decides at run time)
    assert re.search(r'\[ "\$\(id -u\)" = 0 \] \|\| S=sudo', recipe)
    said = _make("-s", "preflight")
    if Path("/usr/bin/chromium").exists():
        assert "no apt-get, no sudo" in said
    else:
        assert "sudo" in said or "as root" in said


def test_quiet_steps_say_where_their_logs_are():
    text = (ROOT / "Makefile").read_text()
    for log in ("pip-test.log", "apt-chromium.log"):
        assert f"log: $(LOGS)/{log}" in text, log
