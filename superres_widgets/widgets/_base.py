"""Shared base of the anywidget models.

* ``_esm`` points at the bundle that esbuild wrote into
  ``superres_widgets/static`` when the package was installed.
* Unknown keyword arguments are an error (a typo must not be ignored).
* ``error`` is a synced trait: a computation that fails sets it, the
  front-end shows it, and the widget keeps its last good state and keeps
  working (:meth:`SuperresWidget._guard`).
* Background work goes through one lifecycle
  (:mod:`superres_widgets.widgets._lifecycle`): a widget implements
  ``_update()`` (start the work for the current traits), observers call
  ``_request_update()``, and ``_update`` hands the slow part to
  ``_run_in_background(compute, apply)``. The newest request wins; stale
  results and errors are never applied; ``busy`` tells the page; ``wait()``
  and ``close()`` are the same for every widget.
* One re-entrant state lock per widget is held while results are applied
  and while the browser's ``set_state`` runs.
"""

from __future__ import annotations

import contextlib
import json
import math
import pathlib
import threading
import traceback

import anywidget
import traitlets

from ._lifecycle import Lifecycle

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"

__all__ = ["SuperresWidget", "bundle_path", "STATIC"]


def _missing_bundle_message(path: pathlib.Path) -> str:
    return (
        f"front-end bundle {path} is missing: install the package with "
        "`pip install -e .` (it runs `npm ci && npm run build` in js/), "
        "or run `npm run build` in js/"
    )


class _MissingBundle(str):
    """``_esm`` of a widget whose bundle is missing: JS that throws, not a path.

    anywidget's ``__init_subclass__`` opens a ``pathlib.Path`` ``_esm`` at
    class creation (``FileNotFoundError`` on import); a string of code is
    left alone.  ``path`` is the missing file.
    """

    path: pathlib.Path


def bundle_path(name: str) -> pathlib.Path:
    """Path of the bundled front-end ``name``.js.

    Importing a widget module never fails for a missing bundle (the
    algorithms, the report and the CLI must work without the front-ends);
    creating a widget whose bundle is missing raises ``FileNotFoundError``
    with the command that builds it.
    """
    path = STATIC / f"{name}.js"
    if path.is_file():
        return path
    missing = _MissingBundle(f"throw new Error({json.dumps(_missing_bundle_message(path))});")
    missing.path = path
    return missing


def format_error(exc: BaseException) -> str:
    """The one-line message a widget shows for a failed computation."""
    if isinstance(exc, (ValueError, TypeError, ArithmeticError, MemoryError, TimeoutError)):
        return f"{type(exc).__name__}: {exc}"
    tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return f"unexpected error: {tb}"


class SuperresWidget(anywidget.AnyWidget):
    """Base class: strict keyword arguments, visible errors, one background lifecycle."""

    error = traitlets.Unicode("").tag(sync=True)
    """Message of the newest failed computation ('' once a newer one succeeded)."""

    busy = traitlets.Bool(False).tag(sync=True)
    """True while the newest requested computation has not finished."""

    _UPDATE_ON_INIT = True
    """Call ``_update()`` once at the end of construction (after all keyword traits are set)."""

    notice = traitlets.Unicode("").tag(sync=True)
    """Why an input was clamped or rejected ('' when every input was accepted)."""

    _LIMITS: dict = {}
    """``{trait: (lo, hi)}``: out-of-range values are clamped, with a notice."""

    def setup_instance(self, *args, **kwargs):
        # runs in __new__, before any subclass __init__ code: the lock and the
        # lifecycle exist whatever a subclass does before super().__init__
        esm = getattr(type(self), "_esm", "")
        if isinstance(esm, _MissingBundle):  # before any argument check: say how to build it
            raise FileNotFoundError(_missing_bundle_message(esm.path))
        self._state_lock = threading.RLock()
        self._batch_depth = 0
        self._update_requested = False
        self._notices = {}
        self._job_error = ""
        self._view_error = ""
        self._lifecycle = Lifecycle(self._state_lock, self._on_job_success, self._on_job_error,
                                    name=f"superres-{type(self).__name__}")
        super().setup_instance(*args, **kwargs)

    def __init__(self, **kwargs):
        unknown = sorted(k for k in kwargs if not self.has_trait(k) or k.startswith("_"))
        if unknown:
            public = sorted(n for n in self.trait_names() if not n.startswith("_") and self.trait_metadata(n, "sync"))
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s) {unknown}; "
                f"accepted: {public}"
            )
        path = pathlib.Path(str(getattr(type(self), "_esm", "")))
        if path.suffix == ".js" and not path.is_file():
            raise FileNotFoundError(_missing_bundle_message(path))
        with self._batch():
            super().__init__(**kwargs)
            if self._UPDATE_ON_INIT:
                self._update_requested = True

    # -- the lifecycle ---------------------------------------------------------------
    def _update(self) -> None:
        """Start the computation for the current traits (subclasses override)."""

    def _request_update(self) -> None:
        """Ask for ``_update()``: now, or once at the end of the enclosing :meth:`_batch`."""
        if self._batch_depth > 0:
            self._update_requested = True
        else:
            self._update()

    @contextlib.contextmanager
    def _batch(self):
        """Defer every ``_request_update()`` made inside to one ``_update()`` at the end.

        If the block raises, nothing is computed and the exception propagates.
        """
        with self._state_lock:
            self._batch_depth += 1
            try:
                yield
            except BaseException:
                self._batch_depth -= 1
                if self._batch_depth == 0:
                    self._update_requested = False
                raise
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._update_requested:
                self._update_requested = False
                self._update()

    def _run_in_background(self, compute, apply, **announce) -> int:
        """Run ``compute(job)`` in a worker; ``apply(value)`` under the state lock if still newest.

        Earlier requests become stale (cancelled, never applied). ``busy`` is
        true until the newest request finishes; then ``error`` is cleared (on
        success) or set (on failure).  ``announce`` are traits to set with
        ``busy`` in the same message (e.g. ``progress=0.0, stale=True``), so the
        page never draws the new state beside the old one.
        """
        with self._state_lock:
            with self.hold_sync():
                for name, value in announce.items():
                    setattr(self, name, value)
                self.busy = True
            return self._lifecycle.submit(compute, apply)

    def _fail(self, exc) -> None:
        """Report a synchronous failure of the newest request (stale-ifies running work)."""
        if isinstance(exc, str):
            exc = ValueError(exc)
        self._lifecycle.fail(exc)

    def _on_job_success(self) -> None:
        with self.hold_sync():
            self._job_error = ""
            self._show_error()
            self.busy = False

    def _on_job_error(self, exc: BaseException) -> None:
        with self.hold_sync():
            self._job_error = format_error(exc)
            self._show_error()
            self.busy = False

    def wait(self, timeout: float | None = 300.0):
        """Block until the newest computation has been applied (scripts, tests, notebooks)."""
        if not self._lifecycle.wait(timeout):
            raise TimeoutError(f"{type(self).__name__}: computation not finished after {timeout} s")
        return self

    def close(self):
        """Cancel and join background work, then close the widget's comm."""
        self._lifecycle.close()
        super().close()

    def set_state(self, sync_data):
        # the browser's changes and the worker's results never interleave
        with self._state_lock:
            super().set_state(sync_data)

    def _clamp(self, name, value, lo, hi):
        """Clamp ``value`` of trait ``name`` into [lo, hi]; non-finite keeps the old value.

        Records a visible notice naming the parameter (cleared when a later
        value for that trait is accepted as is).
        """
        if isinstance(value, float) and not math.isfinite(value):
            self._notices[name] = f"{name} must be finite; kept {getattr(self, name)}"
            value = getattr(self, name)
        elif value < lo or value > hi:
            clamped = type(value)(min(max(value, lo), hi))
            self._notices[name] = f"{name}={value} is out of range [{lo}, {hi}]; clamped to {clamped}"
            value = clamped
        else:
            self._notices.pop(name, None)
        self.notice = "; ".join(self._notices.values())
        return value

    def _validate_limits(self, proposal):
        """Use as ``traitlets.validate(*_LIMITS)(SuperresWidget._validate_limits)``."""
        name = proposal["trait"].name
        lo, hi = self._LIMITS[name]
        return self._clamp(name, proposal["value"], lo, hi)

    @contextlib.contextmanager
    def _guard(self):
        """Run a side computation (a view option, a click readout).

        On failure its message is shown and the widget keeps its last state;
        on success only an error of an earlier side computation is cleared —
        an error of the newest main computation stays until a newer one
        succeeds. Running background work is not affected.
        """
        with self._state_lock:
            try:
                yield
            except Exception as exc:  # noqa: BLE001 - shown in the widget, which keeps working
                self._view_error = format_error(exc)
            else:
                self._view_error = ""
            self._show_error()

    @contextlib.contextmanager
    def _inline(self):
        """Run the main computation for the current traits synchronously.

        Like a background job that finished at once: running background work
        for older traits becomes stale, and ``error`` follows the outcome.
        """
        with self._state_lock:
            try:
                yield
            except Exception as exc:  # noqa: BLE001 - shown in the widget, which keeps working
                self._lifecycle.fail(exc)
            else:
                self._lifecycle.succeed()

    def _show_error(self) -> None:
        self.error = self._job_error or self._view_error
