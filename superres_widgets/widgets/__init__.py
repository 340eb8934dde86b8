"""Widget models (layer 2): traitlets state, algorithms called from Python.

Each class binds to one anywidget front-end bundled from ``js/src/widgets``.
"""

from .beam_trajectory import BeamTrajectoryExplorer
from .superposition_map import SuperpositionMap

__all__ = ["BeamTrajectoryExplorer", "SuperpositionMap"]
