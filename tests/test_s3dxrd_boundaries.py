"""The one grain-boundary tracer (superres_widgets.s3dxrd.boundaries), the IPF colouring
(superres_widgets.s3dxrd.ipf) and the shared conventions, checked against brute force."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from superres_widgets.s3dxrd import (
    ComputationCancelled,
    boundary_edges,
    boundary_segments,
    cos_sin_deg,
    cubic_symmetry_operators,
    ipf_colors,
    ipf_key,
    map_boundary,
    map_rgba,
    misorientation_differ,
    phantom_boundary,
    phantom_boundary_points,
    phantom_from_labels,
    phantom_rgba,
    random_orientations,
    reconstruct_phantom,
    round_half_away,
    voronoi_phantom,
)
from superres_widgets.s3dxrd.conventions import check_cancel, quat_mul, quaternions


# ---------------------------------------------------------------------------
# boundaries
# ---------------------------------------------------------------------------
def _brute_edges(lab, differ=None, unassigned_differs=False, air_differs=False):
    """Every 4-neighbour pair, one by one (module conventions 1-2)."""

    def kind(v):
        if v >= 0:
            return "grain"
        if v == -1 and unassigned_differs:
            return "unassigned"
        return "air"

    def boundary(u, v):
        ku, kv = kind(u), kind(v)
        if ku == "air" or kv == "air":
            return air_differs and not (ku == "air" and kv == "air")
        if ku == "grain" and kv == "grain":
            return u != v and (differ is None or bool(differ[u, v]))
        return ku != kv or u != v

    ny, nx = lab.shape
    vert = {(i, j) for i in range(ny) for j in range(nx - 1) if boundary(lab[i, j], lab[i, j + 1])}
    horiz = {(i, j) for i in range(ny - 1) for j in range(nx) if boundary(lab[i, j], lab[i + 1, j])}
    return vert, horiz


@pytest.mark.parametrize("unassigned_differs", [False, True])
def test_edges_and_midpoints_match_brute_force(unassigned_differs):
    rng = np.random.default_rng(0)
    lab = rng.integers(-2, 4, (9, 11))
    differ = rng.random((4, 4)) < 0.6
    differ = differ | differ.T
    np.fill_diagonal(differ, False)
    x = 2.0 * np.arange(11) - 7.0
    y = 2.0 * np.arange(9) + 1.0
    e = boundary_edges(lab, x, y, differ, unassigned_differs=unassigned_differs)
    vert, horiz = _brute_edges(lab, differ, unassigned_differs)
    assert set(zip(*np.nonzero(e.across_x))) == vert and set(zip(*np.nonzero(e.across_y))) == horiz
    want = sorted([(x[j] + 1.0, y[i]) for i, j in vert] + [(x[j], y[i] + 1.0) for i, j in horiz])
    np.testing.assert_allclose(sorted(map(tuple, e.midpoints())), want)
    # cells: both sides of every edge
    cells = np.zeros(lab.shape, bool)
    for i, j in vert:
        cells[i, j] = cells[i, j + 1] = True
    for i, j in horiz:
        cells[i, j] = cells[i + 1, j] = True
    np.testing.assert_array_equal(e.cells(), cells)
    # segments: merged, same total length, each on a cell edge
    segs = e.segments()
    length = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1]).sum()
    assert length == pytest.approx(2.0 * e.n_edges) and len(segs) <= e.n_edges
    # samples: ns + 1 per edge on the edge, ns = ceil(a / step)
    smp = e.samples(0.7)
    assert smp.shape == (4 * e.n_edges, 2)


def test_air_differs_counts_the_raster_border_and_matches_the_old_boundary_cells():
    rng = np.random.default_rng(5)
    lab = rng.integers(-1, 3, (12, 10))
    lab[0, :] = 1  # grains touching the raster edge
    ph = phantom_from_labels(lab, 0.5, random_orientations(int(lab.max()) + 1, 1))
    # the forward model's rule before the unification, written out: any 4-neighbour differs
    pad = np.pad(ph.labels, 1, constant_values=-1)
    c = pad[1:-1, 1:-1]
    old = ((pad[:-2, 1:-1] != c) | (pad[2:, 1:-1] != c) | (pad[1:-1, :-2] != c) | (pad[1:-1, 2:] != c)) & (c >= 0)
    np.testing.assert_array_equal(ph.boundary_cells(), old)
    assert ph.boundary_cells()[0].all()


def test_one_straight_boundary_is_one_segment():
    lab = np.zeros((5, 6), int)
    lab[:, 3:] = 1
    segs = boundary_segments(lab, np.arange(6.0), np.arange(5.0), [[False, True], [True, False]])
    np.testing.assert_allclose(segs, [[2.5, -0.5, 2.5, 4.5]])
    # the same grains, not misoriented: no boundary; without a table: a boundary
    assert len(boundary_segments(lab, np.arange(6.0), np.arange(5.0), np.zeros((2, 2), bool))) == 0
    assert boundary_edges(lab, np.arange(6.0), np.arange(5.0)).n_edges == 5


def test_phantom_boundary_points_follow_the_misorientation_threshold():
    ph = voronoi_phantom(30, 5, 2, pixel_um=0.5)
    pts = phantom_boundary_points(ph, 3.0)
    differ = misorientation_differ(ph.orientations, 3.0)
    vert, horiz = _brute_edges(ph.labels, differ)
    assert pts.shape == (len(vert) + len(horiz), 2) and len(pts) > 100
    # a threshold above every misorientation (62.8 deg max for cubic) removes them all
    assert phantom_boundary_points(ph, 63.0).shape == (0, 2)
    assert phantom_boundary(ph, 3.0).n_edges == len(pts)


def test_map_boundary_is_the_evaluations_boundary():
    r = reconstruct_phantom(diameter_um=32, n_grains=4, omega_step_deg=4.0, seed=3)
    m = r.subpixel
    e = map_boundary(m, 3.0)
    np.testing.assert_array_equal(e.cells(), m.evaluation.boundary_mask)
    np.testing.assert_allclose(e.samples(0.5 * r.phantom.pixel_um), m.evaluation.boundary_points_um)


def test_bad_label_images_are_refused():
    with pytest.raises(ValueError, match="^labels must be a 2-D"):
        boundary_edges(np.zeros(4, int), [0, 1, 2, 3], [0])
    with pytest.raises(ValueError, match="^x_centres/y_centres"):
        boundary_edges(np.zeros((2, 3), int), [0, 1], [0, 1])


# ---------------------------------------------------------------------------
# IPF colours and RGBA images
# ---------------------------------------------------------------------------
def _rot_to(d):
    """A rotation whose U^T z is the unit vector d."""
    d = np.asarray(d, float) / np.linalg.norm(d)
    a = np.array([1.0, 0, 0]) if abs(d[0]) < 0.9 else np.array([0, 1.0, 0])
    e1 = np.cross(a, d)
    e1 /= np.linalg.norm(e1)
    return np.stack([e1, np.cross(d, e1), d])


def test_ipf_corners_symmetry_and_key():
    U = np.stack([_rot_to(d) for d in ([0, 0, 1], [1, 0, 1], [1, 1, 1])])
    np.testing.assert_allclose(ipf_colors(U), np.eye(3), atol=1e-6)
    R = random_orientations(10, 7)
    for S in cubic_symmetry_operators()[:6]:
        np.testing.assert_allclose(ipf_colors(R @ S), ipf_colors(R), atol=1e-9)
    key = ipf_key(50)
    assert key.shape == (50, 50, 4) and key[0, 0, 0] == 255 and key[-1, -1, 3] == 0


def test_rgba_images_follow_the_conventions():
    r = reconstruct_phantom(diameter_um=24, n_grains=3, omega_step_deg=6.0, seed=1)
    m = r.conventional
    img = map_rgba(m)
    assert img.shape == m.grid_index.shape + (4,) and img.dtype == np.uint8
    assert np.all(img[m.grid_index < 0, 3] == 0)
    k = int(np.argmin(m.ys))  # the lowest target is in row 0
    i, j = np.searchsorted(m.grid_y, m.ys[k]), np.searchsorted(m.grid_x, m.xs[k])
    assert i == 0 and img[i, j, 3] == 255
    ph_img, ext = phantom_rgba(r.phantom, max_px=50)
    assert max(ph_img.shape[:2]) <= 50 and ext[0] == pytest.approx(-ext[1], abs=r.phantom.pixel_um)


# ---------------------------------------------------------------------------
# conventions
# ---------------------------------------------------------------------------
def test_rounding_angles_quaternions_and_cancellation():
    np.testing.assert_array_equal(round_half_away([0.5, -0.5, 2.5, -2.5, 0.4999, 1.5 - 1e-12]), [1, -1, 3, -3, 0, 2])
    c, s = cos_sin_deg([0, 90, 180, 270, 360, -90, 30])
    np.testing.assert_array_equal(c[:6], [1, 0, -1, 0, 1, 0])
    np.testing.assert_array_equal(s[:6], [0, 1, 0, -1, 0, -1])
    U1, U2 = random_orientations(2, 3)
    from scipy.spatial.transform import Rotation

    q = quat_mul(quaternions(U1), quaternions(U2))
    R = Rotation.from_quat(np.r_[q[1:], q[0]]).as_matrix()
    np.testing.assert_allclose(R, U1 @ U2, atol=1e-12)
    ev = threading.Event()
    check_cancel(None)
    check_cancel(ev)
    check_cancel(lambda: False)
    ev.set()
    with pytest.raises(ComputationCancelled, match="spot map cancelled"):
        check_cancel(ev, "spot map")
    with pytest.raises(ComputationCancelled):
        check_cancel(lambda: True)


@pytest.mark.timing
@pytest.mark.parametrize("which", ["superposition_map", "reconstruct_phantom"])
def test_long_computations_stop_soon_after_cancel(which):
    import time

    from superres_widgets.s3dxrd import ScanGeometry, superposition_map

    def run(cancel):
        if which == "superposition_map":
            g = ScanGeometry(x_range=30, omega_deg=np.arange(0, 180, 0.25))
            return superposition_map(g, subdivision=8, cancel=cancel)  # ~tens of seconds
        return reconstruct_phantom(diameter_um=120, step_um=0.5, n_grains=20, cancel=cancel)

    ev = threading.Event()
    ev.set()
    with pytest.raises(ComputationCancelled):
        run(ev)
    ev = threading.Event()
    threading.Timer(0.3, ev.set).start()
    t0 = time.perf_counter()
    with pytest.raises(ComputationCancelled):
        run(ev)
    assert time.perf_counter() - t0 < 1.3  # set at 0.3 s, noticed within ~a second on a busy machine
