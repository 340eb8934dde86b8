"""Tests of superres_widgets.s3dxrd.geometry (seed 000: Kim, Hayashi & Yabashi 2023).

One test (at least) per convention of the module docstring, the paper's
numbers, exact polygons against an independent brute-force raster, the
vectorised map against the scalar path, and input validation.
"""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest

from superres_widgets.s3dxrd import (
    BEAM_PROFILES,
    BoxProfile,
    Measurements,
    ScanGeometry,
    cos_sin_deg,
    from_imaged11,
    superposed_mask,
    superposed_region,
    superposition_map,
    to_imaged11,
)

PAPER = ScanGeometry(x_range=10, step=1.0, omega_deg=np.arange(0, 180, 10))


@pytest.fixture(scope="module")
def paper_map():
    return superposition_map(PAPER, subdivision=4)


# ---------------------------------------------------------------------------
# independent helpers
# ---------------------------------------------------------------------------
def strips_contain(geometry, meas, px, py):
    """Boolean: the points (px, py) lie in every strip of ``meas`` (eq. 1)."""
    w = np.deg2rad(meas.omega_deg)
    inside = np.ones(np.shape(px), dtype=bool)
    for c, s, X in zip(np.cos(w), np.sin(w), meas.X):
        inside &= np.abs(px * c - py * s - X) <= 0.5 * geometry.beam_width
    return inside


def signed_area(v):
    x, y = v[:, 0], v[:, 1]
    return 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)


def distance_inside(v, px, py):
    """Signed distance to the boundary of a CCW convex polygon (> 0 inside)."""
    e = np.roll(v, -1, axis=0) - v
    ln = np.hypot(e[:, 0], e[:, 1])
    cross = e[:, 0, None] * (py.ravel()[None, :] - v[:, 1, None]) - e[:, 1, None] * (
        px.ravel()[None, :] - v[:, 0, None]
    )
    return (cross / ln[:, None]).min(axis=0).reshape(np.shape(px))


def random_case(rng):
    step = rng.uniform(0.5, 2.0)
    b = step * rng.uniform(0.8, 1.6)
    n = int(rng.integers(4, 16))
    omega = np.sort(rng.uniform(-30, 360, size=n))
    # at least two angles 60..120 deg apart keep the region small and bounded
    omega[0], omega[1] = rng.uniform(0, 90), omega[0] + rng.uniform(60, 120)
    g = ScanGeometry(x_range=8 * step, step=step, beam_width=b, omega_deg=omega)
    xs, ys = rng.uniform(-5 * step, 5 * step, size=2)
    return g, xs, ys


# ---------------------------------------------------------------------------
# conventions (module docstring rules 1-9)
# ---------------------------------------------------------------------------
def test_eq1_sign_convention():
    g = ScanGeometry(x_range=5, omega_deg=[0, 90])
    # (1, 0): X = 1 at 0 deg; X = cos 90 = 0 at 90 deg
    np.testing.assert_allclose(g.measurements(1, 0).X, [1, 0])
    # (0, 1): X = 0 at 0 deg; X = -sin 90 = -1 at 90 deg
    np.testing.assert_allclose(g.measurements(0, 1).X, [0, -1])
    # a generic point against eq. (1) written out
    g = ScanGeometry(x_range=10, omega_deg=[0, 30, 45, 120, 200])
    xs, ys = 3.3, -2.1
    w = np.deg2rad(g.omega_deg)
    expected = np.round(xs * np.cos(w) - ys * np.sin(w))  # no ties here
    np.testing.assert_allclose(g.measurements(xs, ys).X, expected)


def test_rounding_is_half_away_from_zero():
    g = ScanGeometry(x_range=10, omega_deg=[0])
    assert g.measurements(2.5, 0).X[0] == 3  # numpy's round would give 2
    assert g.measurements(-2.5, 0).X[0] == -3
    assert g.measurements(1.5, 0).X[0] == 2
    assert g.measurements(0.5, 0).X[0] == 1
    assert g.measurements(-0.5, 0).X[0] == -1
    assert g.measurements(0.4999, 0).X[0] == 0
    # a tie hidden by floating point: sin(30 deg) = 0.49999999999999994
    g30 = ScanGeometry(x_range=10, omega_deg=[30])
    assert g30.measurements(0, -1).X[0] == 1
    # cos(90 deg) is taken as exactly 0, so (7, 2.5) at 90 deg is a tie -> -3
    g90 = ScanGeometry(x_range=10, omega_deg=[90])
    assert g90.measurements(7, 2.5).X[0] == -3
    # with step != 1 the rule applies in units of the step
    g2 = ScanGeometry(x_range=10, step=2.0, omega_deg=[0])
    assert g2.measurements(3.0, 0).X[0] == 4.0
    assert g2.measurements(2.9, 0).X[0] == 2.0


def test_half_turn_symmetry_and_omega_plus_180():
    # rounding is odd, so the strip at omega + 180 is the strip at omega ...
    g = ScanGeometry(x_range=10, omega_deg=np.arange(0, 180, 10))
    g360 = g.replace(omega_deg=np.arange(0, 360, 10))  # angles >= 180 allowed
    for xs, ys in [(3, 2), (2.5, -1.25), (-4.75, 0.5)]:
        r, r360 = superposed_region(g, xs, ys), superposed_region(g360, xs, ys)
        assert r360.area == pytest.approx(r.area, rel=1e-12)
        np.testing.assert_allclose(r360.centroid, r.centroid, atol=1e-12)
        # ... and the region of -p is the region of p turned by 180 deg
        m = superposed_region(g, -xs, -ys)
        assert m.area == pytest.approx(r.area, rel=1e-12)
        np.testing.assert_allclose(m.centroid, -r.centroid, atol=1e-12)
        np.testing.assert_allclose(g.measurements(-xs, -ys).X, -g.measurements(xs, ys).X)


def test_scan_positions_and_dropped_measurements():
    assert np.array_equal(ScanGeometry(x_range=2.5).x_positions, [-2, -1, 0, 1, 2])
    np.testing.assert_allclose(ScanGeometry(x_range=0.9, step=0.3).x_positions, 0.3 * np.arange(-3, 4))
    assert ScanGeometry(x_range=10, step=0.75).x_positions[-1] == pytest.approx(9.75)
    assert ScanGeometry(x_range=0).x_positions.tolist() == [0.0]
    g = ScanGeometry(x_range=2, omega_deg=[0, 90, 180])
    meas = g.measurements(3, 0)  # X = 3 and -3 are not scanned
    assert isinstance(meas, Measurements)
    np.testing.assert_allclose(meas.omega_deg, [90])
    np.testing.assert_allclose(meas.X, [0])
    r = superposed_region(g, 3, 0)
    assert not r.complete and r.n_measurements == 1
    # a point never lit has an empty region
    g2 = ScanGeometry(x_range=1, omega_deg=[0, 90])
    r2 = superposed_region(g2, 5, 5)
    assert r2.n_measurements == 0 and r2.is_empty and r2.area == 0


def test_strip_convention_and_ccw_vertices():
    g = ScanGeometry(x_range=10, omega_deg=[0, 90])
    r = superposed_region(g, 0.3, 2.2)  # X = 0 at 0 deg, X = -2 at 90 deg
    # strips |xs| <= 1/2 and |-ys - (-2)| <= 1/2: the square [-.5,.5] x [1.5,2.5]
    assert r.area == pytest.approx(1.0)
    np.testing.assert_allclose(r.centroid, [0.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(np.sort(r.vertices[:, 0]), [-0.5, -0.5, 0.5, 0.5])
    np.testing.assert_allclose(np.sort(r.vertices[:, 1]), [1.5, 1.5, 2.5, 2.5])
    assert signed_area(r.vertices) > 0  # counter-clockwise
    for xs, ys in [(3, 2), (-1.25, 6.5)]:
        rr = superposed_region(PAPER, xs, ys)
        assert signed_area(rr.vertices) == pytest.approx(rr.area, rel=1e-12)
        assert distance_inside(rr.vertices, np.array([xs]), np.array([ys]))[0] >= -1e-12


def test_field_of_view_square_bounds_a_single_angle():
    g = ScanGeometry(x_range=3, omega_deg=[0])
    r = superposed_region(g, 0.2, 0.0)
    # strip |xs| <= 1/2 cut by |ys| <= x_range + b/2 = 3.5
    assert r.area == pytest.approx(1.0 * 7.0)
    assert g.field_half_width == 3.5


def test_imaged11_mapping_matches_imaged11_formula():
    rng = np.random.default_rng(11)
    xs, ys = rng.uniform(-5, 5, size=(2, 50))
    omega = rng.uniform(0, 360, size=50)
    y0 = 0.37
    w = np.deg2rad(omega)
    X = xs * np.cos(w) - ys * np.sin(w)  # eq. (1), continuous
    sx, sy, dty = to_imaged11(xs, ys, X, y0=y0)
    # ImageD11 sinograms/geometry.py, dty_values_grain_in_beam_sincos:
    dty_imaged11 = y0 - sx * np.sin(w) - sy * np.cos(w)
    np.testing.assert_allclose(dty, dty_imaged11, atol=1e-12)
    np.testing.assert_allclose(sx, -ys)
    np.testing.assert_allclose(sy, xs)
    # ImageD11 lab y = sx sin w + sy cos w + dty - y0 is 0 in the beam, lab x = -Y
    ly = sx * np.sin(w) + sy * np.cos(w) + dty - y0
    lx = sx * np.cos(w) - sy * np.sin(w)
    np.testing.assert_allclose(ly, 0, atol=1e-12)
    np.testing.assert_allclose(lx, -(xs * np.sin(w) + ys * np.cos(w)), atol=1e-12)
    # inverse
    bx, by, bX = from_imaged11(sx, sy, dty, y0=y0)
    np.testing.assert_allclose(np.stack([bx, by, bX]), np.stack([xs, ys, X]), atol=1e-12)
    # the worked examples of the brief: (1, 0) and (0, 1) at 90 deg
    assert to_imaged11(1.0, 0.0, 0.0)[2] == pytest.approx(0.0)
    assert to_imaged11(0.0, 1.0, -1.0, y0=2.0)[2] == pytest.approx(3.0)


# ---------------------------------------------------------------------------
# the paper's numbers (Fig. 2 and 4)
# ---------------------------------------------------------------------------
def test_exact_areas_of_fig2():
    r0 = superposed_region(PAPER, 0, 0)
    r1 = superposed_region(PAPER, 3, 2)
    assert float(f"{r0.area:.4g}") == 0.7874
    assert float(f"{r1.area:.3g}") == 0.00693
    assert r0.area == pytest.approx(0.787398, abs=1e-6)
    assert r1.area == pytest.approx(0.0069334, abs=1e-7)
    assert r0.vertices.shape == (36, 2)  # 18 strips, two edges each
    np.testing.assert_allclose(r0.centroid, [0, 0], atol=1e-12)
    np.testing.assert_allclose(r1.centroid, [3.047988, 1.960013], atol=1e-6)
    assert r0.complete and r0.n_measurements == 18
    assert r0.area_beam2 == pytest.approx(r0.area)


def test_raster_counts_of_fig2():
    assert superposed_mask(PAPER, 0, 0, px_per_beam=20).count == 316
    assert superposed_mask(PAPER, 3, 2, px_per_beam=20).count == 3
    # the paper's text says 40 px per beam; the same shapes then cover:
    assert superposed_mask(PAPER, 0, 0, px_per_beam=40).count == 1272
    assert superposed_mask(PAPER, 3, 2, px_per_beam=40).count == 10


def test_raster_grid_alignment_rows_and_hits():
    g = ScanGeometry(x_range=10, omega_deg=[0, 90])
    m = superposed_mask(g, 0.3, 2.2, px_per_beam=20, extent=(-1, 1, 1, 3.01))
    p = 0.05
    assert m.pixel_size == pytest.approx(p)
    # edges snapped outwards to multiples of the pixel size
    np.testing.assert_allclose(m.extent, (-1, 1, 1, 3.05))
    assert m.mask.shape == (41, 40)
    x, y = m.pixel_centres
    np.testing.assert_allclose(x[:2], [-0.975, -0.925])
    np.testing.assert_allclose(y[:2], [1.025, 1.075])  # rows: ys ascending
    expected = (np.abs(x)[None, :] <= 0.5) & (np.abs(y - 2)[:, None] <= 0.5)
    np.testing.assert_array_equal(m.mask, expected)
    assert m.mask[0].sum() == 0 and m.mask[10].sum() == 20  # y = 1.525 is in
    np.testing.assert_array_equal(m.mask, m.hits == 2)
    assert m.hits.max() == 2 and m.hits.min() == 0
    assert m.count == 400 and m.area == pytest.approx(1.0)
    np.testing.assert_allclose(m.centroid, [0, 2], atol=1e-12)


def test_map_acceptance_fig4(paper_map):
    st = paper_map.stats
    assert 0.16 <= st.mean_relative_size <= 0.22
    assert 0.11 <= st.com_error_fwhm <= 0.16
    # regression pins of the values this implementation gives
    assert st.mean_relative_size == pytest.approx(0.18574, abs=2e-5)
    assert st.com_error_fwhm == pytest.approx(0.1261, abs=2e-3)
    assert st.gauss_fit_ok
    assert st.com_error_fwhm == pytest.approx(2.3548 * st.gauss_sigma, rel=1e-4)
    assert st.area_centre == pytest.approx(superposed_region(PAPER, 0, 0).area)


def test_map_targets_and_grid(paper_map):
    res = paper_map
    # sub-pixels (i + m/4) with r <= 10
    g1 = np.arange(-40, 44) / 4
    gx, gy = np.meshgrid(g1, g1)
    assert res.n_targets == int(np.sum(gx**2 + gy**2 <= 100))
    np.testing.assert_allclose(res.grid_x, g1)
    assert np.all(np.hypot(res.xs, res.ys) <= 10 + 1e-12)
    assert res.complete.all() and res.has_region.all()
    assert np.all(res.n_measurements == 18)
    assert np.isfinite(res.centroid).all()
    # grid_index puts every target on its cell, rows with ys ascending
    iy, ix = np.nonzero(res.grid_index >= 0)
    k = res.grid_index[iy, ix]
    np.testing.assert_allclose(res.xs[k], res.grid_x[ix])
    np.testing.assert_allclose(res.ys[k], res.grid_y[iy])
    img = res.relative_size_image
    assert img.shape == res.grid_index.shape
    np.testing.assert_array_equal(np.isnan(img), res.grid_index < 0)
    assert res.image_extent == pytest.approx((-10.125, 10.875, -10.125, 10.875))


def test_map_stats_consistency(paper_map):
    res, st = paper_map, paper_map.stats
    # below r = 1/2 every target has the list, hence the region, of (0, 0)
    centre = np.hypot(res.xs, res.ys) < 0.5
    assert centre.sum() == 9
    np.testing.assert_allclose(res.area[centre], st.area_centre, rtol=1e-12)
    np.testing.assert_allclose(st.relative_size[centre], 1.0)
    assert not st.selected[centre].any()
    assert st.selected.sum() == st.n_selected == res.n_targets - 9
    assert st.mean_relative_size == pytest.approx(st.relative_size[st.selected].mean())
    assert st.hist_counts.sum() == st.n_selected
    assert st.hist_edges[0] == pytest.approx(-st.hist_edges[-1])
    assert np.abs(st.com_error[st.selected]).max() <= st.hist_edges[-1]
    np.testing.assert_allclose(st.com_error, st.r_target - st.r_com)
    assert st.radial_mean[0] == pytest.approx(1.0)
    assert st.radial_counts.sum() == res.n_targets
    assert np.all(np.diff(st.radial_bins) > 0)
    # half-turn symmetry of the whole map
    a = dict(zip(zip(res.xs.tolist(), res.ys.tolist()), res.area))
    pairs = [(x, y) for (x, y) in a if (-x, -y) in a]
    assert len(pairs) > 4000
    np.testing.assert_allclose([a[(-x, -y)] for x, y in pairs], [a[p] for p in pairs], rtol=1e-12)


# ---------------------------------------------------------------------------
# exact polygons against independent brute force
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(8))
def test_exact_polygon_matches_fine_raster(seed):
    rng = np.random.default_rng(1000 + seed)
    g, xs, ys = random_case(rng)
    r = superposed_region(g, xs, ys)
    meas = g.measurements(xs, ys)
    b = g.beam_width
    # pointwise: inside the polygon <=> inside every strip (away from the edge)
    lo = np.array([xs, ys]) - 2 * (b + g.step)
    pts = lo + rng.uniform(0, 4 * (b + g.step), size=(4000, 2))
    lit = strips_contain(g, meas, pts[:, 0], pts[:, 1])
    if r.is_empty:
        assert not lit.any()
        return
    dist = distance_inside(r.vertices, pts[:, 0], pts[:, 1])
    sure = np.abs(dist) > 1e-9 * b
    np.testing.assert_array_equal(lit[sure], dist[sure] > 0)
    # area and centroid: a raster of 250 px per beam over the bounding box
    p = b / 250
    vmin, vmax = r.vertices.min(axis=0) - 3 * p, r.vertices.max(axis=0) + 3 * p
    x = np.arange(vmin[0], vmax[0], p) + 0.5 * p
    y = np.arange(vmin[1], vmax[1], p) + 0.5 * p
    PX, PY = np.meshgrid(x, y)
    inside = strips_contain(g, meas, PX, PY)
    assert not (inside[0].any() or inside[-1].any() or inside[:, 0].any() or inside[:, -1].any())
    area = inside.sum() * p * p
    perim = np.sum(np.linalg.norm(np.roll(r.vertices, -1, axis=0) - r.vertices, axis=1))
    assert abs(area - r.area) <= perim * p
    if inside.sum() >= 100:
        diam = np.max(np.linalg.norm(r.vertices - r.centroid, axis=1))
        cen = np.array([PX[inside].mean(), PY[inside].mean()])
        assert np.linalg.norm(cen - r.centroid) <= perim * p * diam / r.area + p


@pytest.mark.parametrize("seed", range(4))
def test_superposed_mask_equals_independent_raster(seed):
    rng = np.random.default_rng(2000 + seed)
    g, xs, ys = random_case(rng)
    m = superposed_mask(g, xs, ys, px_per_beam=20)
    x, y = m.pixel_centres
    PX, PY = np.meshgrid(x, y)
    expected = strips_contain(g, g.measurements(xs, ys), PX, PY)
    np.testing.assert_array_equal(m.mask, expected)
    r = superposed_region(g, xs, ys)
    assert (m.count == 0) or not r.is_empty
    # the pixel edges are on the global grid
    k = np.array(m.extent) / m.pixel_size
    np.testing.assert_allclose(k, np.round(k), atol=1e-6)


def test_empty_region_when_beam_narrower_than_step():
    g = ScanGeometry(x_range=5, step=1.0, beam_width=0.2, omega_deg=[0, 60, 120])
    r = superposed_region(g, 0.6, 0.0)  # X = 1 at 0 deg; X = 0 at 60 and 120 deg
    np.testing.assert_allclose(r.measurements.X, [1, 0, 0])
    assert r.is_empty and r.area == 0 and r.centroid is None
    assert r.vertices.shape == (0, 2)
    m = superposed_mask(g, 0.6, 0.0, px_per_beam=50)
    assert m.count == 0 and m.centroid is None and m.area == 0
    # a narrow beam can also light a region that misses the target itself
    g2 = ScanGeometry(x_range=5, beam_width=0.2, omega_deg=[0, 90])
    r2 = superposed_region(g2, 0.45, 0.45)
    assert r2.area == pytest.approx(0.04)
    np.testing.assert_allclose(r2.centroid, [0, 0], atol=1e-12)


# ---------------------------------------------------------------------------
# vectorised map against the scalar path
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "geometry",
    [
        PAPER,
        ScanGeometry(x_range=4, step=0.5, beam_width=0.8, omega_deg=np.arange(0, 180, 7.5)),
        ScanGeometry(x_range=3, beam_width=0.6, omega_deg=[0, 35, 80, 95, 150, 181]),
        ScanGeometry(x_range=3, step=1.0, omega_deg=np.random.default_rng(3).uniform(0, 360, 9)),
    ],
    ids=["paper", "b>step", "b<step", "random-omega"],
)
def test_map_matches_scalar_regions(geometry):
    res = superposition_map(geometry, subdivision=3)
    rng = np.random.default_rng(5)
    idx = np.concatenate([[int(np.argmin(np.hypot(res.xs, res.ys)))], rng.choice(res.n_targets, 40)])
    for i in idx:
        r = superposed_region(geometry, res.xs[i], res.ys[i])
        assert res.area[i] == pytest.approx(r.area, rel=1e-9, abs=1e-12)
        assert res.n_measurements[i] == r.n_measurements
        assert res.has_region[i] == (not r.is_empty)
        if r.is_empty:
            assert np.isnan(res.centroid[i]).all()
        else:
            np.testing.assert_allclose(res.centroid[i], r.centroid, atol=1e-9)
    st = res.stats
    assert np.isfinite([st.mean_relative_size, st.com_error_fwhm, st.gauss_mu]).all()


def test_map_with_empty_regions_keeps_stats_finite():
    g = ScanGeometry(x_range=3, beam_width=0.6, omega_deg=[0, 35, 80, 95, 150, 181])
    res = superposition_map(g, subdivision=4)
    assert (~res.has_region).any() and res.has_region.any()
    np.testing.assert_array_equal(np.isnan(res.centroid).any(axis=1), ~res.has_region)
    assert not res.stats.selected[~res.has_region].any()
    assert np.all(res.stats.relative_size[~res.has_region] == 0)
    assert np.isfinite(res.stats.mean_relative_size)


def test_map_flags_incomplete_targets_outside_scan():
    g = ScanGeometry(x_range=3, omega_deg=np.arange(0, 180, 15))
    res = superposition_map(g, subdivision=2, radius=4.5)
    assert (~res.complete).any() and res.complete.any()
    assert np.all(res.n_measurements[~res.complete] < g.n_omega)
    assert np.all(np.hypot(res.xs, res.ys)[~res.complete] > 3)
    assert not res.stats.selected[~res.complete].any()


@pytest.mark.parametrize("s", [1, 2, 5])
def test_map_subdivision(s):
    g = ScanGeometry(x_range=3)
    res = superposition_map(g, subdivision=s)
    assert res.subdivision == s
    np.testing.assert_allclose(np.diff(res.grid_x), 1.0 / s)
    assert res.grid_x[0] == -3 and res.grid_x[-1] == pytest.approx(3 + (s - 1) / s)


@pytest.mark.timing
def test_map_speed_is_vectorised():
    # generous bounds (5-10x the targets) so a shared machine does not flake
    g = PAPER.replace(omega_deg=np.arange(0, 180, 0.5))
    superposition_map(PAPER)
    t0 = time.perf_counter()
    superposition_map(PAPER)
    t1 = time.perf_counter()
    res = superposition_map(g)
    t2 = time.perf_counter()
    assert t1 - t0 < 1.5
    assert t2 - t1 < 15.0
    assert res.n_targets == 5025 and res.complete.all()


# ---------------------------------------------------------------------------
# ScanGeometry value semantics
# ---------------------------------------------------------------------------
def test_scan_geometry_properties_and_replace():
    g = ScanGeometry(x_range=4, step=0.5, omega_deg=[0, 45, 90], unit="um")
    assert g.beam_width == 0.5 and g.unit == "um" and g.profile_name == "box"
    assert g.profile == BoxProfile() and ScanGeometry(profile=BoxProfile()) == ScanGeometry()
    assert g.n_omega == 3 and g.n_positions == 17 and g.k_max == 8
    np.testing.assert_allclose(g.omega_rad, np.deg2rad([0, 45, 90]))
    om = g.omega_deg
    om[0] = 99
    assert g.omega_deg[0] == 0  # a copy
    with pytest.raises(AttributeError):
        g.step = 2
    g2 = g.replace(step=1.0)
    assert g2.beam_width == 1.0  # None keeps following the step
    assert g.replace(beam_width=2.0).replace(step=3.0).beam_width == 2.0
    assert g2 != g and g.replace() == g and hash(g.replace()) == hash(g)
    assert "ScanGeometry(" in repr(g)
    with pytest.raises(TypeError):
        g.replace(colour="red")
    assert BEAM_PROFILES == ("box", "gaussian", "box_gaussian")
    default = ScanGeometry()
    np.testing.assert_allclose(default.omega_deg, np.arange(0, 180, 10))
    assert default.x_range == 10 and default.step == 1.0


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(omega_deg=[]), "omega_deg"),
        (dict(omega_deg=[0, np.nan]), "omega_deg"),
        (dict(omega_deg=[0, np.inf]), "omega_deg"),
        (dict(omega_deg=[[0, 10]]), "omega_deg"),
        (dict(omega_deg="abc"), "omega_deg"),
        (dict(beam_width=0), "beam_width"),
        (dict(beam_width=-1), "beam_width"),
        (dict(beam_width=np.inf), "beam_width"),
        (dict(step=0), "step"),
        (dict(step=-0.5), "step"),
        (dict(step=np.nan), "step"),
        (dict(x_range=-1), "x_range"),
        (dict(x_range=np.nan), "x_range"),
        (dict(x_range=np.inf), "x_range"),
        (dict(profile="lorentzian"), "profile"),
        (dict(unit=3), "unit"),
    ],
)
def test_scan_geometry_validation(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        ScanGeometry(**kwargs)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, "x", None])
def test_coordinate_validation(bad):
    for fn in (PAPER.measurements, lambda x, y: superposed_region(PAPER, x, y),
               lambda x, y: superposed_mask(PAPER, x, y)):
        with pytest.raises(ValueError, match="^xs "):
            fn(bad, 0.0)
        with pytest.raises(ValueError, match="^ys "):
            fn(0.0, bad)


def test_other_validation():
    for ppb in (0.5, 0, -3, np.nan):
        with pytest.raises(ValueError, match="^px_per_beam "):
            superposed_mask(PAPER, 0, 0, px_per_beam=ppb)
    with pytest.raises(ValueError, match="^extent "):
        superposed_mask(PAPER, 0, 0, extent=(1, 0, 0, 1))
    with pytest.raises(ValueError, match="^extent "):
        superposed_mask(PAPER, 0, 0, extent=(0, np.nan, 0, 1))
    for s in (0, -1, 2.5, True, "4"):
        with pytest.raises(ValueError, match="^subdivision "):
            superposition_map(PAPER, subdivision=s)
    assert superposition_map(ScanGeometry(x_range=1), subdivision=2.0).subdivision == 2
    with pytest.raises(ValueError, match="^radius "):
        superposition_map(PAPER, radius=-1)
    with pytest.raises(ValueError, match="^radius "):
        superposition_map(PAPER, radius=np.nan)
    with pytest.raises(ValueError, match="^hist_bin_width "):
        superposition_map(PAPER, hist_bin_width=0)
    with pytest.raises(ValueError, match="^y0 "):
        to_imaged11(0, 0, 0, y0=np.nan)
    with pytest.raises(ValueError, match="^dty "):
        from_imaged11(0, 0, np.inf)


def test_gaussian_fit_matches_scipy_curve_fit(paper_map):
    from scipy.optimize import curve_fit

    st = paper_map.stats
    centres = 0.5 * (st.hist_edges[:-1] + st.hist_edges[1:])

    def gauss(x, a, mu, sig):
        return a * np.exp(-0.5 * ((x - mu) / sig) ** 2)

    e = st.com_error[st.selected]
    p0 = (st.hist_counts.max(), e.mean(), e.std())
    tight = dict(ftol=1e-14, xtol=1e-14, gtol=1e-14)  # curve_fit's defaults stop ~1e-5 short
    popt, _ = curve_fit(gauss, centres, st.hist_counts.astype(float), p0=p0, **tight)
    np.testing.assert_allclose(
        [st.gauss_amplitude, st.gauss_mu, st.gauss_sigma],
        [popt[0], popt[1], abs(popt[2])],
        rtol=1e-5,
        atol=1e-7,
    )
    # the fit describes the histogram: residual well below the counts
    resid = st.hist_counts - gauss(centres, st.gauss_amplitude, st.gauss_mu, st.gauss_sigma)
    assert np.sqrt(np.mean(resid**2)) < 0.15 * st.hist_counts.max()


def test_target_centred_grid_does_not_reproduce_the_paper():
    # the module docstring's claim: pixel centres on target + k p give 317 / 4,
    # while the global grid with centres at (k + 1/2) p gives the paper's 316 / 3
    p = 1 / 20
    k = np.arange(-30, 31) * p
    counts = []
    for xs, ys in [(0, 0), (3, 2)]:
        PX, PY = np.meshgrid(xs + k, ys + k)
        counts.append(int(strips_contain(PAPER, PAPER.measurements(xs, ys), PX, PY).sum()))
    assert counts == [317, 4]


def test_map_chunking_gives_identical_results(monkeypatch):
    import superres_widgets.s3dxrd.spot_map as geom

    g = ScanGeometry(x_range=6, omega_deg=np.arange(0, 180, 12))
    whole = superposition_map(g, subdivision=4)
    monkeypatch.setattr(geom, "_MAX_BATCH_ELEMENTS", 1000)  # -> chunks of 1024 targets
    chunked = superposition_map(g, subdivision=4)
    assert whole.n_targets > 1024
    # equal up to rounding (a chunk may clip a list around another of its targets)
    np.testing.assert_allclose(chunked.area, whole.area, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(chunked.centroid, whole.centroid, rtol=0, atol=1e-12)
    assert chunked.stats.mean_relative_size == pytest.approx(whole.stats.mean_relative_size, rel=1e-12)


def test_scan_geometry_pickles_and_copies_equal():
    import copy
    import pickle

    g = ScanGeometry(x_range=7, step=0.5, beam_width=0.7, omega_deg=[0, 33, 91.5], unit="um")
    for h in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert h == g and h.unit == "um" and h.beam_width == 0.7
    # a beam width that follows the step keeps following it after a round trip
    f = pickle.loads(pickle.dumps(ScanGeometry(step=2.0)))
    assert f.replace(step=3.0).beam_width == 3.0


def test_vectorised_scan_indices_match_measurements():
    rng = np.random.default_rng(7)
    g = ScanGeometry(x_range=5, omega_deg=rng.uniform(0, 180, 25))
    xs, ys = rng.uniform(-6, 6, (2, 40))
    k, ok = g.scan_indices(xs, ys)
    assert k.shape == ok.shape == (40, 25)
    for i in range(40):
        m = g.measurements(xs[i], ys[i])
        np.testing.assert_array_equal(m.X, g.step * k[i][ok[i]])
        np.testing.assert_array_equal(m.omega_deg, g.omega_deg[ok[i]])
    with pytest.raises(ValueError, match="xs"):
        g.scan_indices([np.nan], [0.0])


# ---------------------------------------------------------------------------
# rotation-axis offset and scans as data (issue 11)
# ---------------------------------------------------------------------------
def _nearest_brute(positions, u, step):
    """Nearest position to u (ties: farther from the axis) and 'in scan' by the end-cell rule."""
    P = np.asarray(positions, dtype=float)
    d = np.abs(u - P)
    best = np.flatnonzero(d <= d.min() + 2e-9 * step)
    i = best[np.argmax(np.abs(P[best]))]
    g0 = P[1] - P[0] if P.size > 1 else step
    g1 = P[-1] - P[-2] if P.size > 1 else step
    inside = (P[0] - u < 0.5 * g0 - 1e-9 * step) and (u - P[-1] < 0.5 * g1 - 1e-9 * step)
    return P[i], inside


def test_axis_offset_grid_and_measurement_lists_by_brute_force():
    g = ScanGeometry(x_range=5, step=1.0, omega_deg=np.arange(0, 360, 7.5), axis_offset=0.3)
    np.testing.assert_allclose(g.x_positions, 0.3 + np.arange(-5, 6))
    assert g.axis_offset == 0.3 and g.is_regular and g.n_positions == 11
    assert g.field_half_width == pytest.approx(5.8)
    rng = np.random.default_rng(21)
    c, s = cos_sin_deg(g.omega_deg)
    for xs, ys in rng.uniform(-6, 6, (40, 2)):
        m = g.measurements(xs, ys)
        want = [(_nearest_brute(g.x_positions, xs * ck - ys * sk, 1.0), w) for ck, sk, w in zip(c, s, g.omega_deg)]
        np.testing.assert_allclose(m.X, [X for (X, ok), _ in want if ok])
        np.testing.assert_allclose(m.omega_deg, [w for (_, ok), w in want if ok])


def test_axis_offset_map_is_the_zero_offset_map_shifted_and_matches_imaged11():
    from ImageD11.sinograms.geometry import dty_to_dtyi, dty_values_grain_in_beam

    step, y0 = 1.0, 0.3
    omega = np.arange(0.0, 360.0, 5.0)
    g0 = ScanGeometry(x_range=8, step=step, omega_deg=omega)
    g3 = g0.replace(axis_offset=y0 * step)
    rng = np.random.default_rng(5)
    xs, ys = rng.uniform(-5, 5, (2, 500))
    k0, ok0 = g0.scan_indices(xs, ys)
    k3, ok3 = g3.scan_indices(xs, ys)
    assert ok0.all() and ok3.all()
    # the step map (which motor step sees a point) of y0 = 0.3 is the y0 = 0 map shifted by y0 in dty:
    # X(p; y0) - y0 is the y0 = 0 position of the point moved by -y0 across the beam
    c, s = cos_sin_deg(omega)
    lk0 = g0.nearest_positions(xs[:, None] - y0 * c, ys[:, None] + y0 * s)  # p - y0 n_w, per angle
    X0 = g0.x_positions[np.diagonal(lk0.index, axis1=1, axis2=2)]
    np.testing.assert_allclose(g3.x_positions[k3 + g3.k_max] - y0, X0, atol=1e-12)
    # ... and it is ImageD11's: dty = y0 - sx sin w - sy cos w rounded to the motor grid dty = step k
    sx, sy, _ = to_imaged11(xs, ys, 0.0)
    dty = dty_values_grain_in_beam(sx[:, None], sy[:, None], y0, omega[None, :])
    dtyi = dty_to_dtyi(dty, step, -8 * step)  # index from the lowest motor position
    X_imaged11 = y0 - (-8 * step + dtyi * step)  # X = y0 - dty of that step
    np.testing.assert_allclose(g3.x_positions[k3 + g3.k_max], X_imaged11, atol=1e-12)
    # and with y0 = 0 the lists differ (the offset is not a no-op)
    assert not np.array_equal(k0, k3)


def test_from_imaged11_takes_the_users_columns():
    rng = np.random.default_rng(2)
    dty = np.repeat(np.arange(-3.0, 4.0) * 0.5, 4)  # one per peak, repeated
    rng.shuffle(dty)
    omega = rng.choice(np.arange(0, 360, 15.0), dty.size)
    g = ScanGeometry.from_imaged11(dty, omega, y0=0.25, beam_width=0.5, profile="gaussian", unit="um")
    np.testing.assert_allclose(g.x_positions, np.sort(0.25 - np.unique(dty)))
    np.testing.assert_allclose(g.omega_deg, np.unique(omega))
    assert g.step == 0.5 and not g.is_regular and g.beam_width == 0.5 and g.profile_name == "gaussian"
    # a point is assigned the dty ImageD11 computes, rounded to the scanned dty values
    xs, ys = 0.4, -0.7
    m = g.measurements(xs, ys)
    sx, sy, _ = to_imaged11(xs, ys, 0.0)
    w = np.deg2rad(m.omega_deg)
    dty_cont = 0.25 - sx * np.sin(w) - sy * np.cos(w)
    scanned = np.unique(dty)
    nearest = scanned[np.argmin(np.abs(dty_cont[:, None] - scanned[None, :]), axis=1)]
    np.testing.assert_allclose(0.25 - m.X, nearest, atol=1e-12)
    with pytest.raises(ValueError, match=r"^y0 must lie within the dty range"):
        ScanGeometry.from_imaged11(dty, omega, y0=5.0)
    with pytest.raises(ValueError, match="^positions must contain at least one"):
        ScanGeometry.from_imaged11([], omega)
    with pytest.raises(ValueError, match="^omega must be finite"):
        ScanGeometry.from_imaged11(dty, [0.0, np.nan])
    with pytest.raises(ValueError, match="^omega must contain at least one"):
        ScanGeometry.from_imaged11(dty, [])


def test_position_lists_irregular_and_asymmetric():
    P = [-2.2, -1.0, -0.1, 0.7, 1.0, 2.6, 4.0, 4.0]  # irregular, asymmetric, a repeated reading
    g = ScanGeometry(positions=P, step=0.8, omega_deg=[0, 20, 75, 130, 200, 290])
    np.testing.assert_allclose(g.x_positions, sorted(set(P)))
    assert g.x_range == 4.0 and g.n_positions == 7 and not g.is_regular and g.axis_offset == 0
    rng = np.random.default_rng(9)
    c, s = cos_sin_deg(g.omega_deg)
    for xs, ys in rng.uniform(-5, 5, (60, 2)):
        m = g.measurements(xs, ys)
        want = [(_nearest_brute(g.x_positions, xs * ck - ys * sk, 0.8), w) for ck, sk, w in zip(c, s, g.omega_deg)]
        np.testing.assert_allclose(m.X, [X for (X, ok), _ in want if ok])
        np.testing.assert_allclose(m.omega_deg, [w for (_, ok), w in want if ok])
    # a symmetric list is the grid of rule 4 (ties away from the axis included)
    grid = ScanGeometry(x_range=4, omega_deg=np.arange(0, 180, 10))
    listed = ScanGeometry(positions=np.arange(-4.0, 5.0), omega_deg=np.arange(0, 180, 10))
    pts = np.concatenate([rng.uniform(-4, 4, (200, 2)), [[2.5, 0.0], [-2.5, 0.0], [0.5, 0.0], [4.5, 0.0]]])
    for xs, ys in pts:
        np.testing.assert_array_equal(listed.measurements(xs, ys).X, grid.measurements(xs, ys).X)
    # regions and maps work on lists; a point the scan never sees has an empty, flagged region
    r = superposed_region(g, 0.3, 0.2)
    assert r.area > 0 and r.complete
    far = superposed_region(g, 30.0, 30.0)
    assert far.is_empty and far.n_measurements == 0 and not far.complete
    res = superposition_map(g, subdivision=2, radius=5.0)
    assert (~res.complete).any() and res.valid.any()
    assert np.all(np.isnan(res.centroid[~res.has_region]))
    h = pickle.loads(pickle.dumps(g))
    assert h == g and hash(h) == hash(g) and "positions=<7 positions" in repr(g)
    assert g.replace(x_range=3).is_regular and g.replace(beam_width=0.5).x_positions.size == 7


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(x_range=2, axis_offset=2.5), r"^axis_offset must be within the scan, \|axis_offset\| <= x_range = 2"),
        (dict(axis_offset=np.nan), "^axis_offset must be a finite number"),
        (dict(positions=[]), "^positions must contain at least one"),
        (dict(positions=[0.0, np.inf]), "^positions must be finite"),
        (dict(positions=[[0.0, 1.0]]), "^positions must be a 1-D list"),
        (dict(positions=[0.0, 1.0], axis_offset=0.2), "^axis_offset must be 0 with positions"),
        (dict(omega_deg=[]), "^omega_deg must contain at least one"),
        (dict(omega_deg=[0.0, np.nan]), "^omega_deg must be finite"),
    ],
)
def test_offset_and_position_list_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScanGeometry(**kwargs)


def test_half_and_full_scans_with_and_without_an_axis_offset():
    half = ScanGeometry(x_range=10, omega_deg=np.arange(0, 180, 10))
    full = half.replace(omega_deg=np.arange(0, 360, 10))
    # without an offset the second half turn repeats the first one's strips (rule 4 is odd)
    for xs, ys in [(3, 2), (1.25, -0.75), (0, 0)]:
        assert superposed_region(full, xs, ys).area == pytest.approx(superposed_region(half, xs, ys).area, rel=1e-12)
    # with a quarter-step offset the second half turn interleaves: the centre's region shrinks
    q = full.replace(axis_offset=0.25)
    assert superposed_region(q, 0, 0).area < 0.5 * superposed_region(full, 0, 0).area
    m_half = superposition_map(half, 4).stats.mean_spot_size
    m_q = superposition_map(q, 4).stats.mean_spot_size
    assert m_q < m_half
