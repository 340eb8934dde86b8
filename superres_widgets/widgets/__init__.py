"""Widget models (layer 2): traitlets state, algorithms called from Python.

Each class binds to one anywidget front-end bundled from ``js/src/widgets``.
Classes are imported on first access, so importing this package stays cheap
(Bokeh and the XRF stack load only when a widget that needs them is used).
"""

from __future__ import annotations

import importlib

_WIDGETS = {
    "BeamTrajectoryExplorer": "beam_trajectory",
    "SuperpositionMap": "superposition_map",
    "ReconstructionExplorer": "reconstruction",
    "DeconvolutionExplorer": "deconvolution",
    "PSFFitExplorer": "psf_fit",
    "PSFSweep": "psf_sweep",
    "ElementStack": "element_stack",
}

__all__ = list(_WIDGETS)


def __getattr__(name: str):
    if name in _WIDGETS:
        module = importlib.import_module(f".{_WIDGETS[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
