"""One lifecycle for every background computation of every widget.

A widget asks for work with :meth:`Lifecycle.submit`; the newest request
always wins:

* **Generations.** Every request (and every synchronous failure, see
  :meth:`Lifecycle.fail`) takes the next generation number. A job whose
  generation is not the newest is *stale*: ``job.cancelled()`` turns true
  (algorithms poll it through their ``cancel=`` argument) and its result or
  error is never applied.
* **One lock.** The widget's state lock (an ``RLock``) is held while a
  result, a streamed frame (:meth:`Job.publish`) or an error is applied, while
  a request is submitted and while the browser's ``set_state`` runs. The
  staleness check happens under that lock, so "check, then apply" is atomic:
  no newer request can slip in between.
* **Errors belong to parameters.** An error is shown only if it belongs to
  the newest request, and only a later *successful* newest request clears
  it. A stale job that finishes after a newer request failed clears nothing.
* **Abandon, do not wait.** Cancellable work stops at its next check. Work
  that cannot be cancelled is abandoned: after ``grace_s`` the newest job
  starts on its own thread anyway (at most ``max_abandoned`` stale threads
  may still be running; beyond that the newest waits for one to end).
* **Clean ends.** :meth:`Lifecycle.close` cancels everything and joins the
  threads. Job threads are *not* daemon threads: at interpreter exit every
  lifecycle is closed first (``threading._register_atexit``), so jobs end at
  their next cancellation check and the interpreter joins them. Daemon
  threads were killed inside C++ code (scipy's pocketfft) during
  finalisation, which aborted the process with ``terminate called without
  an active exception``.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any
from collections.abc import Callable

__all__ = ["Job", "Lifecycle", "shutdown_all"]

_LIFECYCLES: weakref.WeakSet[Lifecycle] = weakref.WeakSet()


class Job:
    """Handle passed to a running computation (``compute(job)``).

    It quacks like a ``threading.Event`` for the algorithms' ``cancel=``
    argument: ``is_set()`` is true once the job is stale.
    """

    __slots__ = ("_lifecycle", "generation")

    def __init__(self, lifecycle: Lifecycle, generation: int):
        self._lifecycle = lifecycle
        self.generation = generation

    def cancelled(self) -> bool:
        """True once a newer request was made or the widget was closed."""
        lc = self._lifecycle
        return lc._closed or lc._generation != self.generation

    is_set = cancelled

    def publish(self, fn: Callable[..., Any], *args, **kwargs) -> bool:
        """Call ``fn(*args, **kwargs)`` under the state lock iff this job is still the newest.

        Use it for intermediate frames and progress. Returns whether ``fn`` ran.
        """
        with self._lifecycle._state_lock:
            if self.cancelled():
                return False
            fn(*args, **kwargs)
            return True


class Lifecycle:
    """Latest-wins background work for one widget.

    Parameters
    ----------
    state_lock : threading.RLock
        The widget's state lock (held while applying anything).
    on_success : callable()
        Called under the state lock after the newest job's ``apply`` succeeded.
    on_error : callable(exception)
        Called under the state lock when the newest job (or its ``apply``) raised.
    grace_s : float
        How long the newest job waits for a stale, still running job before
        it starts beside it.
    max_abandoned : int
        At most this many stale jobs may still run when a new one starts.
    """

    def __init__(self, state_lock, on_success: Callable[[], None], on_error: Callable[[BaseException], None],
                 *, name: str = "superres-worker", grace_s: float = 0.3, max_abandoned: int = 2):
        self._state_lock = state_lock
        self._on_success = on_success
        self._on_error = on_error
        self._name = name
        self._grace_s = float(grace_s)
        self._max_abandoned = int(max_abandoned)
        self._cond = threading.Condition()
        self._generation = 0
        self._done = 0
        self._pending: tuple | None = None
        self._running: dict[threading.Thread, Job] = {}
        self._timer: threading.Timer | None = None
        self._closed = False
        _LIFECYCLES.add(self)

    # -- requests --------------------------------------------------------------------
    def submit(self, compute: Callable[[Job], Any], apply: Callable[[Any], None]) -> int:
        """Make ``compute`` the newest request; returns its generation.

        ``compute(job)`` runs in a worker thread; ``apply(value)`` runs under the
        state lock, only if the job is still the newest when it finishes.
        """
        with self._state_lock, self._cond:
            if self._closed:
                raise RuntimeError("this widget was closed; create a new one")
            self._generation += 1
            self._pending = (self._generation, compute, apply)
            self._launch_locked()
            return self._generation

    def fail(self, exc: BaseException) -> None:
        """A synchronous failure of the newest request: stale-ify running work, report ``exc``."""
        self._finish_inline(lambda: self._on_error(exc))

    def succeed(self) -> None:
        """A synchronous success of the newest request (e.g. computed inline)."""
        self._finish_inline(self._on_success)

    def _finish_inline(self, report: Callable[[], None]) -> None:
        """A request that finished synchronously: newest and done at once, then ``report()``."""
        with self._state_lock:
            with self._cond:
                self._generation += 1
                self._pending = None
                self._done = self._generation
                self._cond.notify_all()
            report()

    # -- state -------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation

    @property
    def busy(self) -> bool:
        """True while the newest request has not finished."""
        return self._done != self._generation and not self._closed

    @property
    def threads(self) -> list[threading.Thread]:
        """Threads still running (the newest job and abandoned stale ones)."""
        with self._cond:
            return list(self._running)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the newest request is done. Returns False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._closed or self._done == self._generation, timeout=timeout)

    def close(self, join_timeout: float | None = 10.0) -> None:
        """Cancel every job, drop the pending one and join the threads (up to ``join_timeout`` s each)."""
        with self._cond:
            self._closed = True
            self._pending = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            threads = list(self._running)
            self._cond.notify_all()
        me = threading.current_thread()
        for t in threads:
            if t is not me:
                t.join(join_timeout)

    # -- internals ---------------------------------------------------------------------
    def _launch_locked(self) -> None:
        """Start the pending job now, or after the grace period (``_cond`` held)."""
        if self._pending is None or self._closed:
            return
        if not self._running:
            self._start_locked()
        elif len(self._running) <= self._max_abandoned and self._timer is None:
            self._timer = threading.Timer(self._grace_s, self._grace_expired)
            self._timer.daemon = True
            self._timer.start()

    def _grace_expired(self) -> None:
        with self._cond:
            self._timer = None
            if self._pending is not None and not self._closed and len(self._running) <= self._max_abandoned:
                self._start_locked()

    def _start_locked(self) -> None:
        generation, compute, apply = self._pending
        self._pending = None
        job = Job(self, generation)
        thread = threading.Thread(target=self._run, args=(job, compute, apply),
                                  name=f"{self._name}-{generation}", daemon=False)
        self._running[thread] = job
        thread.start()

    def _run(self, job: Job, compute, apply) -> None:
        try:
            try:
                value, exc = compute(job), None
            except BaseException as err:  # noqa: BLE001 - reported to the widget if newest
                value, exc = None, err
            with self._state_lock:
                if job.cancelled():
                    return
                if exc is None:
                    try:
                        apply(value)
                    except BaseException as err:  # noqa: BLE001
                        exc = err
                with self._cond:
                    self._done = job.generation
                    self._cond.notify_all()
                if exc is None:
                    self._on_success()
                else:
                    self._on_error(exc)
        finally:
            with self._cond:
                self._running.pop(threading.current_thread(), None)
                self._launch_locked()
                self._cond.notify_all()


def shutdown_all() -> None:
    """Cancel the work of every live widget (run at interpreter exit, before threads are joined)."""
    for lifecycle in list(_LIFECYCLES):
        with lifecycle._cond:
            lifecycle._closed = True
            lifecycle._pending = None
            if lifecycle._timer is not None:
                lifecycle._timer.cancel()
                lifecycle._timer = None
            lifecycle._cond.notify_all()


try:  # runs before the interpreter joins non-daemon threads
    threading._register_atexit(shutdown_all)  # type: ignore[attr-defined]
except (AttributeError, RuntimeError):  # pragma: no cover - other Pythons
    import atexit

    atexit.register(shutdown_all)
