"""Interactive widgets for super-resolution in X-ray microscopy.

Layers (each imports only from the layers above it in this list; checked by
``tests/test_layering.py``):

1. Algorithms on numpy arrays, no widget imports:
   ``superres_widgets.s3dxrd`` (s3DXRD sub-pixel maps),
   ``superres_widgets.xrf`` (micro-XRF restoration) and
   ``superres_widgets.io`` (maps in and out: one reader per file format
   behind one reader table, provenance on every written map).
2. ``superres_widgets.report`` and ``superres_widgets.cli``
   (``superres-widgets``) -- use only the algorithms and io, so they work
   without the front-end bundles (``tests/test_no_bundles.py``).
3. ``superres_widgets.widgets`` -- traitlets/anywidget models that call the
   algorithms and hold the state; importing them works without bundles,
   creating one says how to build the missing bundle.
4. ``js/`` -- the anywidget front-ends (bundled into ``superres_widgets/static``
   by ``cd js && npm run build``).

Importing this package imports none of the layers.

Memory: every algorithm refuses, with a ``ValueError`` saying how much it
would need, a call that would allocate more than the memory limit (half the
machine's memory by default); change it with
``superres_widgets.set_memory_limit("16GiB")`` or the environment variable
``SUPERRES_WIDGETS_MEMORY_LIMIT`` (see :mod:`superres_widgets.validate`).
"""

__version__ = "0.1.0"

_VALIDATE_NAMES = ("set_memory_limit", "memory_limit", "memory_limit_set", "MemoryBudgetError")


def __getattr__(name):
    # the memory budget, without importing numpy at ``import superres_widgets``
    if name in _VALIDATE_NAMES:
        from . import validate

        return getattr(validate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
