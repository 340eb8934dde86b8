"""Scanning 3DXRD (s3DXRD) algorithms: beam superposition, sub-pixels, phantom reconstruction.

Numpy/scipy only; no widget imports.  See :mod:`superres_widgets.s3dxrd.geometry`
for the frame and sign conventions (seed: Kim, Hayashi & Yabashi 2023) and
:mod:`superres_widgets.s3dxrd.crystal` for the diffraction conventions.

Modules: ``geometry`` (scan geometry, exact superposed regions, Fig. 2-4),
``crystal`` (cubic phases, Laue condition), ``phantom`` (grain maps),
``forward`` (kinematic scan simulation), ``indexing`` (global indexing, grain
files), ``reconstruction`` (N' per (sub-)pixel, evaluation, Fig. 5-6).
"""

from . import crystal, forward, geometry, indexing, phantom, reconstruction
from .crystal import *  # noqa: F401,F403
from .forward import *  # noqa: F401,F403
from .geometry import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .phantom import *  # noqa: F401,F403
from .reconstruction import *  # noqa: F401,F403

__all__ = list(
    dict.fromkeys(
        name
        for module in (geometry, crystal, phantom, forward, indexing, reconstruction)
        for name in module.__all__
    )
)
