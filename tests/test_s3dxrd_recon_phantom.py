"""Tests of superres_widgets.s3dxrd.phantom (one per convention of its docstring)."""

from __future__ import annotations

import numpy as np
import pytest

from superres_widgets.s3dxrd.crystal import random_orientations
from superres_widgets.s3dxrd.phantom import Phantom, phantom_from_labels, voronoi_phantom


def test_rule2_raster_is_centred_with_cell_centres_on_multiples_of_p():
    ph = voronoi_phantom(20.0, 3, seed=0, pixel_um=0.5)
    ny, nx = ph.shape
    assert ny % 2 == 1 and nx % 2 == 1
    np.testing.assert_allclose(ph.x_centres / 0.5, np.round(ph.x_centres / 0.5), atol=1e-12)
    assert ph.x_centres[nx // 2] == 0.0 and ph.y_centres[ny // 2] == 0.0
    assert ph.extent == pytest.approx((-10.25, 10.25, -10.25, 10.25))
    # rows go with ys ascending: the cell at the top row has the largest ys
    assert ph.y_centres[-1] > ph.y_centres[0]


def test_rules3_4_voronoi_disc_labels_and_seeds():
    ph = voronoi_phantom(40.0, 6, seed=3, pixel_um=0.25)
    assert ph.n_grains == 6 and ph.radius_um == 20.0
    gx, gy = np.meshgrid(ph.x_centres, ph.y_centres)
    inside = gx**2 + gy**2 <= 400.0 * (1 + 1e-12)
    np.testing.assert_array_equal(ph.labels >= 0, inside)
    assert set(np.unique(ph.labels[inside]).tolist()) == set(range(6))
    # each cell takes its nearest seed
    d = np.hypot(gx[inside][:, None] - ph.seeds_um[:, 0], gy[inside][:, None] - ph.seeds_um[:, 1])
    np.testing.assert_array_equal(ph.labels[inside], np.argmin(d, axis=1))
    # seeds respect the default minimum distance 0.5 sqrt(pi R^2 / n)
    dmin = 0.5 * np.sqrt(np.pi * 400.0 / 6)
    dd = np.hypot(*(ph.seeds_um[:, None, :] - ph.seeds_um[None, :, :]).transpose(2, 0, 1))
    assert dd[np.triu_indices(6, 1)].min() >= dmin
    # reproducible
    ph2 = voronoi_phantom(40.0, 6, seed=3, pixel_um=0.25)
    np.testing.assert_array_equal(ph.labels, ph2.labels)
    np.testing.assert_array_equal(ph.orientations, ph2.orientations)
    assert ph.grain_areas_um2.sum() == pytest.approx(inside.sum() * 0.0625)


def test_rule5_label_at():
    lab = -np.ones((5, 5), dtype=int)
    lab[2, 3] = 0  # centre (1, 0) for p = 1
    lab[4, 2] = 1  # centre (0, 2)
    ph = phantom_from_labels(lab, 1.0, seed=0)
    assert ph.label_at(1.0, 0.0) == 0
    assert ph.label_at(0.0, 2.0) == 1
    assert ph.label_at(1.4, 0.4) == 0
    assert ph.label_at(1.5, 0.0) == -1  # tie goes to +x: the cell (2, 4) is air
    assert ph.label_at(10.0, 0.0) == -1
    np.testing.assert_array_equal(ph.label_at([1.0, 0.0], [0.0, 2.0]), [0, 1])


def test_user_label_map_and_orientations():
    lab = np.zeros((8, 10), dtype=int)
    lab[:, 5:] = 1
    lab[0, 0] = -1
    U = random_orientations(2, seed=1)
    ph = phantom_from_labels(lab, 0.5, U)
    assert isinstance(ph, Phantom)
    assert ph.n_grains == 2 and ph.seeds_um is None
    np.testing.assert_array_equal(ph.orientations, U)
    assert ph.x0_um == pytest.approx(-2.25) and ph.y0_um == pytest.approx(-1.75)
    assert ph.boundary_cells()[3, 4] and ph.boundary_cells()[3, 5] and not ph.boundary_cells()[3, 2]


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="n_grains"):
        voronoi_phantom(40.0, 0)
    with pytest.raises(ValueError, match="n_grains"):
        voronoi_phantom(40.0, 2.5)
    with pytest.raises(ValueError, match="diameter_um"):
        voronoi_phantom(0.0, 3)
    with pytest.raises(ValueError, match="pixel_um"):
        voronoi_phantom(40.0, 3, pixel_um=0)
    with pytest.raises(ValueError, match="orientations"):
        voronoi_phantom(40.0, 3, orientations=random_orientations(2, seed=0))
    with pytest.raises(ValueError, match="labels.*empty"):
        phantom_from_labels(-np.ones((4, 4), dtype=int), 1.0)
    with pytest.raises(ValueError, match="labels"):
        phantom_from_labels(np.zeros(4, dtype=int), 1.0)
    with pytest.raises(ValueError, match="orientations"):
        phantom_from_labels(np.zeros((3, 3), dtype=int), 1.0, np.eye(3) * 2)


@pytest.mark.parametrize("phase_name", ["alpha-Ti", "tetragonal"])
def test_noncubic_phases_reconstruct_end_to_end(phase_name):
    """Forward model, indexing (the phase's Laue group in the votes), maps and evaluation with its symmetry."""
    from superres_widgets.s3dxrd import reconstruct_phantom
    from superres_widgets.s3dxrd.phases import HexagonalPhase, TetragonalPhase

    ph = HexagonalPhase.titanium() if phase_name == "alpha-Ti" else TetragonalPhase(3.0, 5.0)
    r = reconstruct_phantom(diameter_um=40, n_grains=3, seed=2, omega_step_deg=2.0, phase=ph, tth_max_deg=14,
                            scorer="likelihood")
    assert r.data.reflections.phase is ph
    assert r.grains_found == 3 and r.candidates.shape[0] == 3
    assert np.nanmax(r.candidate_misorientation_deg) < 0.1
    assert r.subpixel.evaluation.fraction_correct > 0.93
    assert r.subpixel.evaluation.mean_displacement_um < 0.6
