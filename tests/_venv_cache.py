"""Virtual environments kept across test runs, keyed by what their dependencies come from.

Used by ``test_binder.py`` (the Binder environment) and ``test_packaging.py`` (the wheel's clean
environment).  The environments live outside the clone, like pip's cache, so a fresh clone on the
same machine starts warm: ``$XDG_CACHE_HOME/superres_widgets/<name>-<key>`` (default
``~/.cache/superres_widgets``); delete a folder to start from nothing.

* ``key`` hashes the dependency sources (requirement files, the dependency lists of
  ``pyproject.toml``) and the Python version: when one changes, a new environment is built.
* ``build(env_dir)`` installs the dependencies into a new, empty venv (a cold cache);
  ``refresh(env_dir)`` runs EVERY time: it reinstalls the package from the fresh copy and checks the
  environment.  The folder is marked ready only after a successful build + refresh.
* A stale or broken cache is detected and rebuilt: if ``refresh`` fails on a cached environment (or
  its python does not start), the environment is deleted, built from nothing and refreshed once
  more -- so a broken cache costs time but never a wrong verdict, and a real failure fails twice.
* A file lock serialises test runs on the same machine that share an environment.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "superres_widgets"


def cache_key(*parts) -> str:
    """12 hex digits of the SHA-256 of ``parts`` and the running Python's version."""
    return hashlib.sha256(repr((*parts, sys.version)).encode()).hexdigest()[:12]


def _create(env_dir: Path) -> None:
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)


def _starts(env_dir: Path) -> bool:
    py = env_dir / "bin" / "python"
    try:
        return subprocess.run([str(py), "-c", "import pip"], capture_output=True, timeout=120).returncode == 0
    except OSError:
        return False


@contextlib.contextmanager
def file_lock(path: Path):
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the block: one test process at a time."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


@contextlib.contextmanager
def cached_venv(name: str, key: str, build, refresh, log=print):
    """Yield ``CACHE/<name>-<key>``: built if missing or broken, refreshed every run, locked while in use."""
    CACHE.mkdir(parents=True, exist_ok=True)
    env_dir = CACHE / f"{name}-{key}"
    with file_lock(CACHE / f"{name}-{key}.lock"):
        warm = (env_dir / ".ready").is_file() and _starts(env_dir)
        if warm:
            t0 = time.perf_counter()
            try:
                refresh(env_dir)
                (env_dir / ".ready").touch()  # last use: what prune() keeps
                log(f"{name}: cached environment {env_dir} reused (refreshed in {time.perf_counter() - t0:.0f} s)")
            except (AssertionError, subprocess.SubprocessError, OSError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                log(f"{name}: the cached environment {env_dir} failed ({first[:200]}): rebuilding it")
                warm = False
        if not warm:
            t0 = time.perf_counter()
            shutil.rmtree(env_dir, ignore_errors=True)
            _create(env_dir)
            build(env_dir)
            refresh(env_dir)
            (env_dir / ".ready").write_text(key)
            log(f"{name}: environment {env_dir} built in {time.perf_counter() - t0:.0f} s")
            prune(name, keep=KEEP, log=log)
        yield env_dir


#: environments kept per name: the one in use and the newest other one (e.g. another branch's)
KEEP = 2


def prune(name: str, keep: int = KEEP, log=print) -> list[Path]:
    """Delete all but the ``keep`` most recently used ``CACHE/<name>-<key>`` environments.

    An environment another test run holds (its lock is taken) is skipped; lock files stay (a run
    waiting on one keeps the same file).  Returns the deleted folders.
    """
    envs = sorted((p for p in CACHE.glob(f"{name}-*") if p.is_dir() and (p / ".ready").is_file()),
                  key=lambda p: (p / ".ready").stat().st_mtime, reverse=True)
    gone = []
    for env_dir in envs[keep:]:
        with open(env_dir.with_name(env_dir.name + ".lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # in use by another run
                continue
            shutil.rmtree(env_dir, ignore_errors=True)
        gone.append(env_dir)
        log(f"{name}: removed the old cached environment {env_dir}")
    return gone
