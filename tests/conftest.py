"""Test-run ergonomics for ``make test``: quick feedback first, and say what a slow test is doing.

* Tests marked ``slow`` (a fresh virtual environment, the docs build, the Binder rebuild) run
  after all the others, so a failure in a unit test shows within the first minutes.
* Before the first slow test of each file, its id is printed on its own line: pytest's per-file progress would
  otherwise sit on one dot for minutes with no name.
"""

from __future__ import annotations

import pytest

_SEEN = pytest.StashKey[set]()


def pytest_collection_modifyitems(config, items):
    # stable sort: the order within each group is pytest's own
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    if item.get_closest_marker("slow") is None:
        return None
    seen = item.config.stash.setdefault(_SEEN, set())
    reporter = item.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.verbosity <= 0 and item.path not in seen:
        seen.add(item.path)  # once per file: its first slow test is the one that builds
        reporter.ensure_newline()
        reporter.write_line(f"slow tests (minutes), starting with {item.nodeid}")
    return None
