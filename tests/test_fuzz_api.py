"""Fuzz every public function of xrf, s3dxrd and io with hostile arguments (issue 10's contract).

The catalogue (``fuzz_catalogue.py``) has one valid call per public function and, per parameter,
the hostile values of its domain: NaN, +-inf, 0, -1, 1e-300, 1e300, 1e6, 10**9, 10**18, 1.5 for
an integer, True, "3", None, lists, complex numbers, empty / 1-D / 3-D / NaN / inf / object /
string / complex / ragged arrays, values near the float range, unknown names, wrong object types.
Each call runs in a worker subprocess (``fuzz_harness.py``: a per-call timeout, an address-space
limit, a 1 GiB memory budget).  The contract: a finite result, or a ``ValueError`` /
``TypeError`` that names the parameter (a memory-budget refusal counts) -- never a hang, an
escaped ``MemoryError``, a crash, a NaN where the valid call has none, an unclear error (one that
does not name the parameter, or an AttributeError / IndexError / OverflowError ...), or an
invalid value (NaN, a bool or a string for a number, a negative size ...) silently accepted.

``python tests/fuzz_harness.py --report [--code /work/baseline]`` prints the counts per class.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import fuzz_catalogue  # noqa: E402
import fuzz_harness  # noqa: E402

pytestmark = pytest.mark.timeout(900)

#: per-call timeout (s): generous for a loaded machine; a hang is unbounded
CALL_TIMEOUT = 20.0


def _run(group: str):
    jobs = fuzz_catalogue.jobs(group)
    assert jobs
    results = fuzz_harness.run_jobs(jobs, workers=2, timeout=CALL_TIMEOUT)
    counts = fuzz_harness.counts(results)
    bad = [fuzz_harness.describe(job, res) for job, res in results if res["cls"] in fuzz_harness.BAD_CLASSES]
    print(f"{group}: {len(results)} calls: {counts}")
    return counts, bad


@pytest.mark.parametrize("group", ["superres_widgets.xrf", "superres_widgets.s3dxrd", "superres_widgets.io"])
def test_every_public_function_keeps_the_contract(group):
    counts, bad = _run(group)
    assert counts["skip"] == 0, "seeds that do not run (the catalogue is out of date)"
    assert not bad, f"{len(bad)} calls broke the contract ({counts}):\n" + "\n".join(bad)


#: The public functions when issue 10 was filed: each must have a seed (later additions are listed, not required).
ISSUE10_FUNCTIONS = (
    "gaussian_psf gaussian2d fit_point_scan fit_knife_edge kernel_to_sigma confidence_ellipse wiener richardson_lucy "
    "fista blind_l0 l0_restore convolve deconvolve_stack get_method mse ssim psnr normalize usaf1951 lp_per_mm "
    "resolved_element score_restoration chart_levels simulate_scan dot_scan knife_edge_scan mineral_phantom "
    "make_beam_profile get_beam_profile profile_samples from_imaged11 to_imaged11 superposed_mask superposed_region "
    "sensitivity_map superposition_map wavelength_from_energy energy_from_wavelength b_matrix generate_hkl "
    "laue_solutions predict_reflections scattering_vectors random_orientations check_orientations misorientation_deg "
    "misorientation_table orientation_from_ubi ubi_from_orientation sample_to_specimen specimen_to_sample "
    "voronoi_phantom phantom_from_labels scan_geometry index_peaks match_peaks merge_spots refine_orientation "
    "read_grain_file orientations_from_grain_file observation_table scan_indices completeness map_targets "
    "orientation_map likelihood_scores core_width boundary_edges misorientation_differ phantom_boundary map_boundary "
    "phantom_boundary_points boundary_segments phantom_boundary_segments map_boundary_segments evaluate_map "
    "reconstruct_phantom completeness_at ipf_colors ipf_key map_rgba phantom_rgba round_half_away cos_sin_deg "
    "load_map save_map build_provenance reader_for writer_for").split()


def test_the_catalogue_covers_the_public_api():
    import inspect

    import superres_widgets.io as io
    import superres_widgets.s3dxrd as s3
    import superres_widgets.xrf as xrf

    covered = {s.target.rpartition(":")[2] for s in fuzz_catalogue.seeds().values()}
    missing = sorted(set(ISSUE10_FUNCTIONS) - covered)
    assert not missing, f"functions of issue 10 without a fuzz seed: {missing}"
    newer = [f"{mod.__name__}.{name}" for mod in (xrf, s3, io) for name in mod.__all__
             if callable(getattr(mod, name)) and not inspect.isclass(getattr(mod, name))
             and name not in covered and name not in ISSUE10_FUNCTIONS]
    print(f"public functions added since issue 10, not yet in the fuzz catalogue: {newer}")
