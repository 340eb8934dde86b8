"""Scanning 3DXRD (s3DXRD) algorithms: beam superposition, sub-pixels, phantom reconstruction.

Numpy/scipy only; no widget imports.  See :mod:`superres_widgets.s3dxrd.geometry`
for the frame and sign conventions (seed: Kim, Hayashi & Yabashi 2023) and
:mod:`superres_widgets.s3dxrd.crystal` for the diffraction conventions.

Modules: ``conventions`` (validation, rounding, angles, quaternions,
cancellation), ``beam`` (beam profiles and their registry), ``geometry``
(frames, scan geometry), ``imaged11`` (ImageD11's frame and motor),
``superposition`` (exact superposed
regions and rasters, Fig. 2), ``sensitivity`` (what "fully superposed"
becomes for beams with tails), ``spot_map`` (relative spot size over the
specimen, Figs. 3-4), ``crystal`` (cubic phases, Laue condition),
``orientation`` (cubic symmetry, misorientation, UBI), ``phantom`` (grain
maps), ``forward`` (kinematic scan simulation), ``illumination`` (peak
intensities: beam-weighted grain areas), ``indexing`` (global
indexing), ``grainfile`` (ImageD11 grain files), ``nprime`` (N' per
(sub-)pixel and orientation maps), ``boundaries`` (grain-boundary tracing),
``scoring`` (the model-based sub-pixel scorer), ``columnfile`` (ImageD11
peak tables and parameter files, both ways), ``peakmaps`` (maps from any
peak table), ``pbp`` (ImageD11's point-by-point map as the peer),
``phases`` (hexagonal and tetragonal phases, Laue-group symmetry), ``export``
(maps to HDF5 and .ctf and back),
``evaluation`` (maps vs phantom, Fig. 6), ``reconstruction`` (the whole
pipeline, Figs. 5-6), ``ipf`` (orientation colours and RGBA images).
"""

from . import conventions  # noqa: F401 - a public module (validation, rounding, angles, cancellation)
from . import (
    beam,
    boundaries,
    columnfile,
    crystal,
    evaluation,
    export,
    forward,
    geometry,
    grainfile,
    indexing,
    ipf,
    nprime,
    orientation,
    pbp,
    peakmaps,
    phantom,
    phases,
    reconstruction,
    scoring,
    sensitivity,
    spot_map,
    superposition,
)
from .beam import *  # noqa: F401,F403
from .boundaries import *  # noqa: F401,F403
from .columnfile import *  # noqa: F401,F403
from .conventions import ComputationCancelled, cos_sin_deg, round_half_away  # noqa: F401
from .crystal import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .export import *  # noqa: F401,F403
from .forward import *  # noqa: F401,F403
from .geometry import *  # noqa: F401,F403
from .grainfile import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .ipf import *  # noqa: F401,F403
from .nprime import *  # noqa: F401,F403
from .orientation import *  # noqa: F401,F403
from .pbp import *  # noqa: F401,F403
from .peakmaps import *  # noqa: F401,F403
from .phantom import *  # noqa: F401,F403
from .phases import *  # noqa: F401,F403
from .reconstruction import *  # noqa: F401,F403
from .scoring import *  # noqa: F401,F403
from .sensitivity import *  # noqa: F401,F403
from .spot_map import *  # noqa: F401,F403
from .superposition import *  # noqa: F401,F403

__all__ = list(
    dict.fromkeys(
        [
            name
            for module in (
                beam, geometry, superposition, sensitivity, spot_map, crystal, orientation, phantom, forward, indexing,
                grainfile, nprime, scoring, boundaries, evaluation, reconstruction, ipf, columnfile, peakmaps, pbp,
                phases, export,
            )
            for name in module.__all__
        ]
        + ["ComputationCancelled", "round_half_away"]
    )
)
