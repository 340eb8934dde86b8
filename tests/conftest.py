"""Test-run ergonomics for ``make test``: quick feedback first, and say what a slow test is doing.

* Tests marked ``slow`` (a fresh virtual environment, the docs build, the Binder rebuild) run
  after all the others, so a failure in a unit test shows within the first minutes.
* Before the first slow test of each file, its id is printed on its own line: pytest's per-file progress would
  otherwise sit on one dot for minutes with no name.
* Under pytest-xdist (``make test``'s first, parallel run: ``-n 2 --dist loadfile``) pytest itself
  prints only dots, in the order the workers finish tests.  Here each test file gets one line when
  its last test has reported: the file, its counts, how many files are done.  Passing tests print
  no dot; a failure, error or skip still prints its letter at once.
* Each xdist worker gets its own numba cache folder (``NUMBA_CACHE_DIR``), see ``pytest_configure``.
"""

from __future__ import annotations

import collections
import os
import shutil
import tempfile

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


class FileProgress:
    """Per-file lines on the xdist controller: ``[ 12/81 files] tests/x.py: 23 passed (4.1 s)``."""

    def __init__(self, config):
        self.config = config
        self.total: dict[str, int] = {}
        self.done: collections.Counter = collections.Counter()
        self.outcomes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.seconds: collections.Counter = collections.Counter()
        self.files_done = 0

    @pytest.hookimpl
    def pytest_xdist_node_collection_finished(self, node, ids):
        if not self.total:  # every worker collects the same items
            for nodeid in ids:
                f = nodeid.split("::")[0]
                self.total[f] = self.total.get(f, 0) + 1

    @pytest.hookimpl
    def pytest_report_teststatus(self, report, config):
        if report.when == "call" and report.passed:
            return "passed", "", "PASSED"  # no dot: the file's line below says it
        return None

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report):
        f = report.nodeid.split("::")[0]
        self.seconds[f] += report.duration
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.outcomes[f]["failed" if report.failed else "skipped" if report.skipped else "passed"] += 1
        if report.when != "teardown":
            return
        self.done[f] += 1
        if self.done[f] == self.total.get(f):
            self.files_done += 1
            counts = ", ".join(f"{n} {k}" for k, n in sorted(self.outcomes[f].items()))
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.ensure_newline()
                reporter.write_line(f"[{self.files_done:3d}/{len(self.total)} files] {f}: {counts} "
                                    f"({self.seconds[f]:.1f} s)")


def pytest_configure(config):
    worker = getattr(config, "workerinput", None)
    if worker is not None and "NUMBA_CACHE_DIR" not in os.environ:
        # numba's on-disk cache (ImageD11's point-by-point kernels are compiled with cache=True) is
        # not safe for two processes compiling the same functions at once: a pytest-xdist worker
        # and a notebook kernel started by the other one did, and the kernel died ("LLVM ERROR:
        # Symbol not found: __gufunc__..."). Each worker (and the kernels it starts) gets its own.
        folder = tempfile.mkdtemp(prefix=f"superres-numba-{worker['workerid']}-")
        os.environ["NUMBA_CACHE_DIR"] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    # the xdist controller (not its workers, not a plain run): per-file lines instead of dots
    if (config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None)
            and not hasattr(config, "workerinput")):
        config.pluginmanager.register(FileProgress(config), "superres-file-progress")
