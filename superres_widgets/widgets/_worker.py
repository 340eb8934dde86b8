"""A single background worker where the newest request always wins.

Widgets that compute for longer than a slider tick run their computation
here. Submitting a new job marks every earlier job as stale: a stale job is
asked to stop (its ``cancelled()`` becomes true, for algorithms that poll it)
and its result is dropped. There is no queue: at most one job runs and at
most one waits, and the waiting one is always the newest.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

__all__ = ["LatestRunner", "Job"]


class Job:
    """Handle passed to a running computation."""

    def __init__(self, runner: "LatestRunner", generation: int):
        self._runner = runner
        self.generation = generation

    def cancelled(self) -> bool:
        """True once a newer job has been submitted (or the runner closed)."""
        return self._runner._generation != self.generation or self._runner._closed

    # ``threading.Event``-like spelling, so algorithms can take ``cancel=job``.
    is_set = cancelled


class LatestRunner:
    """Run ``compute(job)`` in a daemon thread; apply results of the newest job only.

    Parameters
    ----------
    on_result : callable(result)
        Called in the worker thread with the newest job's result.
    on_error : callable(exception)
        Called in the worker thread when the newest job raised.
    """

    def __init__(self, on_result: Callable[[Any], None], on_error: Callable[[BaseException], None]):
        self._on_result = on_result
        self._on_error = on_error
        self._lock = threading.Condition()
        self._pending: Callable[[Job], Any] | None = None
        self._generation = 0
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, compute: Callable[[Job], Any]) -> int:
        """Schedule ``compute``; earlier jobs become stale. Returns its generation."""
        with self._lock:
            self._generation += 1
            self._pending = compute
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="superres-worker", daemon=True)
                self._thread.start()
            self._lock.notify_all()
            return self._generation

    def _loop(self) -> None:
        while True:
            with self._lock:
                while self._pending is None and not self._closed:
                    self._busy = False
                    self._lock.notify_all()
                    if not self._lock.wait(timeout=30.0):
                        if self._pending is None:  # idle: let the thread end
                            self._busy = False
                            self._thread = None
                            self._lock.notify_all()
                            return
                if self._closed:
                    self._busy = False
                    self._lock.notify_all()
                    return
                compute, self._pending = self._pending, None
                job = Job(self, self._generation)
                self._busy = True
            try:
                result = compute(job)
            except BaseException as exc:  # noqa: BLE001 - reported to the widget
                if not job.cancelled():
                    self._on_error(exc)
            else:
                if not job.cancelled():
                    self._on_result(result)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is running or waiting. Returns False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending is None and not self._busy, timeout=timeout)

    @property
    def busy(self) -> bool:
        return self._busy or self._pending is not None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
