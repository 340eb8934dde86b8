"""Scanning 3DXRD (s3DXRD) algorithms: beam superposition and sub-pixels.

Numpy/scipy only; no widget imports.  See :mod:`superres_widgets.s3dxrd.geometry`
for the frame and sign conventions (seed: Kim, Hayashi & Yabashi 2023).
"""

from .geometry import (
    BEAM_PROFILES,
    Measurements,
    RasterRegion,
    ScanGeometry,
    SuperposedRegion,
    SuperpositionMapResult,
    SuperpositionStats,
    from_imaged11,
    superposed_mask,
    superposed_region,
    superposition_map,
    to_imaged11,
)

__all__ = [
    "BEAM_PROFILES",
    "Measurements",
    "RasterRegion",
    "ScanGeometry",
    "SuperposedRegion",
    "SuperpositionMapResult",
    "SuperpositionStats",
    "from_imaged11",
    "superposed_mask",
    "superposed_region",
    "superposition_map",
    "to_imaged11",
]
