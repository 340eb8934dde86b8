"""The one background-computation lifecycle shared by every widget (widgets/_lifecycle.py, _base.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest
import traitlets

from superres_widgets.widgets._base import SuperresWidget
from superres_widgets.widgets._lifecycle import Lifecycle


class Toy(SuperresWidget):
    """A widget computing ``value * 10`` in the background; ``value < 0`` fails, ``slow`` ignores cancel."""

    _esm = "export default { render() {} };"
    value = traitlets.Int(1).tag(sync=True)
    result = traitlets.Int(None, allow_none=True).tag(sync=True)

    def __init__(self, *, delay=0.0, cancellable=True, **kwargs):
        self.delay, self.cancellable = delay, cancellable
        self.applied, self.computed = [], []
        super().__init__(**kwargs)

    @traitlets.observe("value")
    def _on_value(self, change):
        self._request_update()

    def _update(self):
        value = self.value
        if value < 0:
            self._fail(ValueError(f"value={value} must be >= 0"))
            return

        def compute(job):
            t_end = time.perf_counter() + self.delay
            while time.perf_counter() < t_end:
                if self.cancellable and job.cancelled():
                    return None
                time.sleep(0.002)
            if value == 13:
                raise ArithmeticError("unlucky")
            self.computed.append(value)
            return value * 10

        def apply(out):
            self.applied.append(out)
            self.result = out

        self._run_in_background(compute, apply)


def test_construction_computes_once_with_all_keyword_traits():
    w = Toy(value=4).wait(5)
    assert w.applied == [40] and w.result == 40 and not w.busy and w.error == ""
    w.close()


def test_batch_defers_to_one_update():
    w = Toy(value=1, delay=0.05).wait(5)
    with w._batch():
        for v in range(2, 9):
            w.value = v
    w.wait(5)
    assert w.applied[-1] == 80 and w.applied.count(80) == 1 and len(w.applied) == 2
    w.close()


def test_stale_results_are_never_applied_and_stale_jobs_are_cancelled():
    w = Toy(value=1, delay=0.3).wait(5)
    w.applied.clear(), w.computed.clear()
    for v in range(2, 12):
        w.value = v
        time.sleep(0.01)
    w.wait(10)
    assert w.applied == [110], w.applied
    assert w.computed == [11], "stale cancellable jobs must stop before finishing"
    w.close()


def test_error_of_newest_request_is_not_cleared_by_a_stale_success():
    # the repro: a slow valid request, then an invalid one; the slow one finishes later
    for _ in range(20):
        w = Toy(value=1, delay=0.1, cancellable=False).wait(5)
        w.value = 12
        w.value = -500
        w.wait(5)
        time.sleep(0.15)  # the abandoned value=12 job ends here and must not clear the error
        assert "value=-500" in w.error and w.result == 10 and not w.busy
        w.close()


def test_error_is_cleared_by_a_later_success_and_background_errors_show():
    w = Toy(value=-1).wait(5)
    assert "must be >= 0" in w.error
    w.value = 13
    w.wait(5)
    assert w.error.startswith("ArithmeticError: unlucky")
    w.value = 2
    w.wait(5)
    assert w.error == "" and w.result == 20
    w.close()


@pytest.mark.timing
def test_uncancellable_stale_work_is_abandoned_not_waited_for():
    w = Toy(value=1, delay=0.0).wait(5)
    w.delay, w.cancellable = 3.0, False
    w.value = 2  # uncancellable, 3 s
    time.sleep(0.05)
    w.delay = 0.0
    t0 = time.perf_counter()
    w.value = 3
    w.wait(5)
    elapsed = time.perf_counter() - t0
    assert w.result == 30 and elapsed < 1.5, elapsed  # grace 0.3 s, not the 3 s stale job
    w.close()
    assert all(not t.is_alive() for t in w._lifecycle.threads)


@pytest.mark.timing
def test_close_cancels_and_joins():
    w = Toy(value=1, delay=10.0)
    time.sleep(0.05)
    assert w.busy
    threads = w._lifecycle.threads
    t0 = time.perf_counter()
    w.close()
    assert time.perf_counter() - t0 < 2 and threads and not any(t.is_alive() for t in threads)
    with pytest.raises(RuntimeError, match="closed"):
        w._lifecycle.submit(lambda job: 1, lambda v: None)


def test_set_state_and_apply_share_one_lock():
    w = Toy(value=1).wait(5)
    entered = threading.Event()
    done = threading.Event()

    def browser():
        entered.set()
        w.set_state({"value": 7})
        done.set()

    with w._state_lock:  # as if a result were being applied
        t = threading.Thread(target=browser)
        t.start()
        assert entered.wait(2)
        assert not done.wait(0.2), "set_state must wait for the state lock"
    assert done.wait(2)
    t.join()
    w.wait(5)
    assert w.result == 70
    w.close()


def test_publish_runs_only_for_the_newest_job():
    lock = threading.RLock()
    seen = []
    lc = Lifecycle(lock, lambda: None, lambda exc: None)
    gate = threading.Event()

    def compute(job):
        gate.wait(2)
        return job.publish(seen.append, job.generation)

    lc.submit(compute, seen.append)
    time.sleep(0.05)
    lc.submit(lambda job: job.publish(seen.append, "new"), lambda v: None)
    gate.set()
    assert lc.wait(5)
    time.sleep(0.1)
    assert seen == ["new"], seen
    lc.close()


SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    from superres_widgets.widgets import DeconvolutionExplorer, SuperpositionMap

    def child(sleep):
        rng = np.random.default_rng(0)
        img = rng.poisson(50, (400, 400)).astype(float)
        w = DeconvolutionExplorer(image=img, pixel_size_um=5, psf_sigma_um=10, method="richardson_lucy",
                                  num_iter=500)
        m = SuperpositionMap(omega_step_deg=0.5, subdivision=8)
        time.sleep(sleep)
        w.psf_sigma_um = 12
        time.sleep(0.05)

    # imported once; each run is a forked child that leaves mid-computation through the
    # interpreter's normal exit (atexit, thread joins, finalisation), two at a time on two cores
    statuses, running = [], []
    for i in range(20):
        pid = os.fork()
        if pid == 0:
            child(0.1 + 0.03 * (i % 5))
            sys.exit(0)
        running.append(pid)
        if len(running) == 2 or i == 19:
            statuses += [os.waitpid(p, 0)[1] for p in running]
            running = []
    print("STATUSES", statuses)
    """
)


@pytest.mark.slow
def test_script_exiting_mid_computation_exits_cleanly():
    """No SIGABRT ('terminate called without an active exception') at interpreter exit: 20 of 20.

    The package is imported once; each of the 20 runs is a forked child that leaves mid-computation
    through the interpreter's normal exit (atexit, thread joins, finalisation).
    """
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("STATUSES")]
    assert line, p.stdout[-2000:]
    statuses = [int(v) for v in line[0].split(" ", 1)[1].strip("[]").split(",")]
    # waitpid status 0 = exit code 0 and no signal (SIGABRT would be 6)
    assert statuses == [0] * 20, (statuses, p.stderr[-2000:])
    assert "terminate called" not in p.stderr, p.stderr[-2000:]

