"""Shared base of the anywidget models.

* ``_esm`` points at the bundle that esbuild wrote into
  ``superres_widgets/static`` when the package was installed.
* Unknown keyword arguments are an error (a typo must not be ignored).
* ``error`` is a synced trait: a computation that fails sets it, the
  front-end shows it, and the widget keeps its last good state and keeps
  working (:meth:`SuperresWidget._guard`).
"""

from __future__ import annotations

import contextlib
import math
import pathlib
import traceback

import anywidget
import traitlets

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"

__all__ = ["SuperresWidget", "bundle_path", "STATIC"]


def bundle_path(name: str) -> pathlib.Path:
    """Path of the bundled front-end ``name``.js (checked to exist)."""
    path = STATIC / f"{name}.js"
    if not path.is_file():
        raise FileNotFoundError(
            f"front-end bundle {path} is missing: install the package with "
            "`pip install -e .` (it runs `npm ci && npm run build` in js/), "
            "or run `npm run build` in js/"
        )
    return path


class SuperresWidget(anywidget.AnyWidget):
    """Base class: strict keyword arguments, visible errors."""

    error = traitlets.Unicode("").tag(sync=True)
    """Message of the last failed computation ('' when the last one succeeded)."""

    notice = traitlets.Unicode("").tag(sync=True)
    """Why an input was clamped or rejected ('' when every input was accepted)."""

    _LIMITS: dict = {}
    """``{trait: (lo, hi)}``: out-of-range values are clamped, with a notice."""

    def __init__(self, **kwargs):
        self._notices: dict[str, str] = {}
        unknown = sorted(k for k in kwargs if not self.has_trait(k) or k.startswith("_"))
        if unknown:
            public = sorted(n for n in self.trait_names() if not n.startswith("_") and self.trait_metadata(n, "sync"))
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s) {unknown}; "
                f"accepted: {public}"
            )
        super().__init__(**kwargs)

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
        """Run a computation; on failure show its message and keep the last state."""
        try:
            yield
        except (ValueError, TypeError, ArithmeticError, MemoryError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # unexpected: keep the widget alive, show where
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.error = f"unexpected error: {tb}"
        else:
            self.error = ""
