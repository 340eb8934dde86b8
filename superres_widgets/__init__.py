"""Interactive widgets for super-resolution in X-ray microscopy.

Layers (each imports only from the layers above it in this list):

1. ``superres_widgets.s3dxrd`` and ``superres_widgets.xrf`` -- algorithms on
   numpy arrays; no widget imports.
2. ``superres_widgets.widgets`` -- traitlets/anywidget models that call the
   algorithms and hold the state.
3. ``js/`` -- the anywidget front-ends (bundled into ``superres_widgets/static``).
"""

__version__ = "0.1.0"
