"""Scanning 3DXRD (s3DXRD) algorithms: beam superposition, sub-pixels, phantom reconstruction.

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
from .crystal import (
    HC_KEV_ANGSTROM,
    LATTICES,
    CubicPhase,
    ReflectionSet,
    PredictedReflections,
    wavelength_from_energy,
    energy_from_wavelength,
    b_matrix,
    generate_hkl,
    laue_solutions,
    predict_reflections,
    scattering_vectors,
    cubic_symmetry_operators,
    random_orientations,
    check_orientations,
    misorientation_deg,
    misorientation_table,
    orientation_from_ubi,
    ubi_from_orientation,
    sample_to_specimen,
    specimen_to_sample,
)
from .phantom import (
    Phantom,
    voronoi_phantom,
    phantom_from_labels,
)
from .forward import (
    ScanData,
    ScanTruth,
    Simulation,
    scan_geometry,
    simulate_scan,
    cos_sin_deg,
)
from .indexing import (
    GrainFile,
    GrainFileError,
    IndexingResult,
    Spots,
    index_peaks,
    match_peaks,
    merge_spots,
    orientations_from_grain_file,
    read_grain_file,
    refine_orientation,
)
from .reconstruction import (
    ObservationTable,
    OrientationMap,
    MapEvaluation,
    PhantomReconstruction,
    PixelCompleteness,
    observation_table,
    scan_indices,
    completeness,
    map_targets,
    orientation_map,
    evaluate_map,
    phantom_boundary_points,
    reconstruct_phantom,
    completeness_at,
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
for _m in (crystal, phantom, forward, indexing, reconstruction):  # noqa: F821
    __all__ += [n for n in _m.__all__ if n not in __all__]
del _m
