"""The cached test environments (``tests/_venv_cache.py``): reused when sound, rebuilt when stale or broken.

The venv itself is faked (a ``bin/python`` linked to this interpreter) so these run in a second.
"""

from __future__ import annotations

import subprocess
import sys

import _venv_cache
import pytest


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(_venv_cache, "CACHE", tmp_path / "cache")

    def fake_create(env_dir):
        (env_dir / "bin").mkdir(parents=True)
        (env_dir / "bin" / "python").symlink_to(sys.executable)

    monkeypatch.setattr(_venv_cache, "_create", fake_create)
    return tmp_path / "cache"


class Recorder:
    def __init__(self, fail_refresh=0):
        self.calls, self.fail_refresh = [], fail_refresh

    def build(self, env_dir):
        self.calls.append("build")
        (env_dir / "deps").write_text("installed")

    def refresh(self, env_dir):
        self.calls.append("refresh")
        assert (env_dir / "deps").read_text() == "installed"
        if self.fail_refresh:
            self.fail_refresh -= 1
            raise subprocess.CalledProcessError(1, ["pip", "check"])


def _use(key, rec, log=None):
    log = [] if log is None else log
    with _venv_cache.cached_venv("env", key, rec.build, rec.refresh, log=log.append) as env_dir:
        return env_dir


def test_cold_then_warm(cache):
    rec = Recorder()
    env_dir = _use("k1", rec)
    assert rec.calls == ["build", "refresh"] and (env_dir / ".ready").read_text() == "k1"
    assert env_dir == cache / "env-k1"
    rec.calls.clear()
    assert _use("k1", rec) == env_dir and rec.calls == ["refresh"]  # warm: the package step only


def test_a_new_key_is_a_new_environment(cache):
    rec = Recorder()
    assert _use("k1", rec) != _use("k2", rec)
    assert rec.calls == ["build", "refresh", "build", "refresh"]
    assert _venv_cache.cache_key("a", ["b"]) != _venv_cache.cache_key("a", ["c"])
    assert len(_venv_cache.cache_key("a")) == 12


def test_a_cache_that_fails_its_refresh_is_rebuilt(cache):
    _use("k1", Recorder())
    (cache / "env-k1" / "stale").write_text("from an older run")
    rec, log = Recorder(fail_refresh=1), []
    env_dir = _use("k1", rec, log)
    assert rec.calls == ["refresh", "build", "refresh"]
    assert not (env_dir / "stale").exists() and (env_dir / ".ready").is_file()
    assert "rebuilding" in log[0] and "built in" in log[1]


def test_a_cache_whose_python_is_gone_is_rebuilt(cache):
    _use("k1", Recorder())
    (cache / "env-k1" / "bin" / "python").unlink()
    rec = Recorder()
    _use("k1", rec)
    assert rec.calls == ["build", "refresh"]


def test_a_half_built_cache_is_not_used(cache):
    rec = Recorder(fail_refresh=1)
    with pytest.raises(subprocess.CalledProcessError):  # cold build whose refresh fails
        _use("k1", rec)
    assert not (cache / "env-k1" / ".ready").exists()
    rec = Recorder()
    _use("k1", rec)
    assert rec.calls == ["build", "refresh"]


def test_a_real_failure_fails_after_the_rebuild(cache):
    _use("k1", Recorder())
    rec = Recorder(fail_refresh=2)
    with pytest.raises(subprocess.CalledProcessError):
        _use("k1", rec)
    assert rec.calls == ["refresh", "build", "refresh"]
    assert not (cache / "env-k1" / ".ready").exists()


def test_old_environments_are_pruned_but_not_one_in_use(cache):
    import fcntl
    import os
    import time

    rec = Recorder()
    for i, key in enumerate(("k1", "k2", "k3")):
        _use(key, rec)
        os.utime(cache / f"env-{key}" / ".ready", (time.time() - 100 + i, time.time() - 100 + i))
    # building k3 pruned k1 (two kept: k3 and k2)
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == ["env-k2", "env-k3"]
    assert (cache / "env-k1.lock").exists()  # lock files stay: a run waiting on one keeps the same file
    with open(cache / "env-k2.lock", "w") as held:  # another run is using k2
        fcntl.flock(held, fcntl.LOCK_EX)
        log = []
        _use("k4", rec, log)
        # k2 is beyond the two newest (k4, k3) but in use: kept
        assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == ["env-k2", "env-k3", "env-k4"]
    gone = _venv_cache.prune("env")
    assert [p.name for p in gone] == ["env-k2"]  # free now: the oldest beyond two
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == ["env-k3", "env-k4"]
    # reuse counts as use: k3 reused, then k5 built -> k4 (built before k3's reuse) goes
    os.utime(cache / "env-k4" / ".ready", (time.time() - 10, time.time() - 10))
    _use("k3", rec)
    _use("k5", rec)
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == ["env-k3", "env-k5"]
