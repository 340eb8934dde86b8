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

    def __init__(self, **kwargs):
        unknown = sorted(k for k in kwargs if not self.has_trait(k) or k.startswith("_"))
        if unknown:
            public = sorted(n for n in self.trait_names() if not n.startswith("_") and self.trait_metadata(n, "sync"))
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s) {unknown}; "
                f"accepted: {public}"
            )
        super().__init__(**kwargs)

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
