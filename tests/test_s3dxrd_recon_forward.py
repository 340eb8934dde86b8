"""Tests of superres_widgets.s3dxrd.forward (one per convention of its docstring)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from superres_widgets.s3dxrd.crystal import CubicPhase, random_orientations
from superres_widgets.s3dxrd.forward import ScanData, cos_sin_deg, scan_geometry, simulate_scan
from superres_widgets.s3dxrd.phantom import phantom_from_labels, voronoi_phantom


def _one_cell_phantom(xs: float, ys: float, p: float = 0.5, half: float = 30.0):
    n = int(round(2 * half / p)) + 1
    lab = -np.ones((n, n), dtype=int)
    c = n // 2
    lab[c + int(round(ys / p)), c + int(round(xs / p))] = 0
    return phantom_from_labels(lab, p, random_orientations(1, seed=4))


def test_rule1_frames_and_geometry():
    g = scan_geometry(80.0, 4.0, 4.0, 0.5)
    assert g.n_omega == 360
    np.testing.assert_allclose(g.omega_deg, 0.25 + 0.5 * np.arange(360))
    np.testing.assert_allclose(g.x_positions, 4.0 * np.arange(-20, 21))
    assert g.unit == "um" and g.beam_width == 4.0
    with pytest.raises(ValueError, match="omega_range_deg / omega_step_deg"):
        scan_geometry(80.0, 4.0, 4.0, 0.7)


def test_rule2_every_specimen_point_has_a_complete_list():
    g = scan_geometry(10.0, 4.0, 4.0, 5.0)  # R not a multiple of the step
    rng = np.random.default_rng(0)
    r = 10.0 * np.sqrt(rng.random(200))
    t = 2 * np.pi * rng.random(200)
    for x, y in zip(r * np.cos(t), r * np.sin(t)):
        assert g.measurements(x, y).X.size == g.n_omega


def test_rule3_lit_positions_follow_eq1_for_a_point_grain():
    """A one-cell grain at (xs, ys) is lit exactly where the strip holds it."""
    xs, ys = 13.0, -7.5
    ph = _one_cell_phantom(xs, ys)
    sim = simulate_scan(ph, beam_um=4.0, step_um=4.0, omega_step_deg=1.0)
    d = sim.data
    assert d.n_peaks > 0
    w = d.omega_deg  # lit_at="peak": the Laue angle of each record
    c, s = cos_sin_deg(w)
    u = xs * c - ys * s
    X = d.x_positions[d.k]
    assert np.all(np.abs(u - X) <= 2.0 + 1e-9)
    # and every position whose strip holds the point is listed (1 or 2 of them)
    ev = sim.truth.predicted
    for e in range(ev.n_events):
        ue = xs * math.cos(math.radians(ev.omega_deg[e])) - ys * math.sin(math.radians(ev.omega_deg[e]))
        want = {k for k, Xk in enumerate(d.x_positions) if abs(ue - Xk) <= 2.0 + 1e-9}
        mine = (sim.truth.hkl_index == ev.hkl_index[e]) & (sim.truth.solution == ev.solution[e])
        got = set(d.k[mine].tolist())
        assert got == want


def test_rule3_boundary_cells_give_the_same_frames_as_all_cells():
    """The boundary-cell shortcut equals a brute-force test over every cell."""
    ph = voronoi_phantom(24.0, 3, seed=1, pixel_um=0.5)
    sim = simulate_scan(ph, beam_um=3.0, step_um=2.0, omega_step_deg=2.0)
    d, tr = sim.data, sim.truth
    got = set(zip(tr.grain.tolist(), tr.hkl_index.tolist(), tr.solution.tolist(), d.k.tolist()))
    gx, gy = np.meshgrid(ph.x_centres, ph.y_centres)
    want = set()
    ev = tr.predicted
    for e in range(ev.n_events):
        g = ev.orientation[e]
        m = ph.labels == g
        c, s = cos_sin_deg(np.array([ev.omega_deg[e]]))
        u = gx[m] * c[0] - gy[m] * s[0]
        for k, Xk in enumerate(d.x_positions):
            if np.any(np.abs(u - Xk) <= 1.5 + 1e-9 * 2.0):
                want.add((g, int(ev.hkl_index[e]), int(ev.solution[e]), k))
    assert got == want


def test_rule3_lit_at_bin_uses_bin_centres():
    xs, ys = 20.0, 10.0
    ph = _one_cell_phantom(xs, ys)
    sim = simulate_scan(ph, omega_step_deg=2.0, lit_at="bin")
    d = sim.data
    c, s = cos_sin_deg(d.bin_centres_deg[d.j])
    assert np.all(np.abs(xs * c - ys * s - d.x_positions[d.k]) <= 2.0 + 1e-9)


def test_rule4_peak_records():
    ph = voronoi_phantom(30.0, 4, seed=2)
    d = simulate_scan(ph, omega_step_deg=1.0).data
    assert isinstance(d, ScanData)
    # grain identity is not part of the data
    assert "grain" not in {f.name for f in dataclasses.fields(d)}
    # sorted by frame, each omega inside its bin, tth = ring's
    fr = d.k * d.n_bins + d.j
    assert np.all(np.diff(fr) >= 0)
    assert np.all((d.omega_deg >= d.j * 1.0) & (d.omega_deg < (d.j + 1) * 1.0))
    np.testing.assert_allclose(d.tth_deg, d.reflections.ring_tth_deg[d.ring])
    assert np.all((d.eta_deg > -180) & (d.eta_deg <= 180))
    k, j = int(d.k[10]), int(d.j[10])
    rows = d.frame(k, j)
    assert 10 in rows and np.all(d.k[rows] == k) and np.all(d.j[rows] == j)
    assert d.peaks_per_frame().sum() == d.n_peaks
    assert d.peaks_per_frame().shape == (d.n_positions, d.n_bins)
    q = simulate_scan(ph, omega_step_deg=1.0, quantize_omega=True).data
    np.testing.assert_allclose(q.omega_deg, q.j + 0.5)


def test_rule5_imperfections():
    ph = voronoi_phantom(40.0, 5, seed=3)
    base = simulate_scan(ph, seed=1)
    n0 = base.data.n_peaks
    lossy = simulate_scan(ph, detection_probability=0.6, seed=1)
    assert abs(lossy.data.n_peaks / n0 - 0.6) < 0.03
    refl = simulate_scan(ph, detection_probability=0.6, detection_mode="reflection", seed=1)
    # whole events vanish: an event is either in all its frames or in none
    keys_b = set(zip(base.truth.grain.tolist(), base.truth.hkl_index.tolist(), base.truth.solution.tolist()))
    keys_r = set(zip(refl.truth.grain.tolist(), refl.truth.hkl_index.tolist(), refl.truth.solution.tolist()))
    frames = {}
    for g, h, s in zip(base.truth.grain, base.truth.hkl_index, base.truth.solution):
        frames[(g, h, s)] = frames.get((g, h, s), 0) + 1
    assert sum(frames[kk] for kk in keys_r) == refl.data.n_peaks
    assert 0.45 < len(keys_r) / len(keys_b) < 0.75
    spur = simulate_scan(ph, spurious_per_frame=0.2, seed=1)
    n_sp = int((spur.truth.grain < 0).sum())
    exp = 0.2 * spur.data.n_frames
    assert abs(n_sp - exp) < 5 * math.sqrt(exp)
    assert spur.data.n_peaks == n0 + n_sp
    noisy = simulate_scan(ph, noise_eta_deg=0.1, noise_omega_deg=0.1, seed=1)
    assert noisy.data.n_peaks == n0
    # same order of records is not guaranteed; compare the sorted noise-free angles
    d_eta = np.sort(noisy.data.eta_deg) - np.sort(base.data.eta_deg)
    assert np.abs(d_eta).max() < 1.0 and np.abs(d_eta).max() > 0


def test_bad_input_names_the_parameter():
    ph = voronoi_phantom(20.0, 2, seed=0)
    for kw, name in [
        (dict(detection_probability=0), "detection_probability"),
        (dict(detection_probability=1.5), "detection_probability"),
        (dict(spurious_per_frame=-1), "spurious_per_frame"),
        (dict(noise_eta_deg=-0.1), "noise_eta_deg"),
        (dict(noise_omega_deg=-0.1), "noise_omega_deg"),
        (dict(energy_keV=0), "energy_keV"),
        (dict(beam_um=0), "beam_um"),
        (dict(step_um=-4), "step_um"),
        (dict(lit_at="middle"), "lit_at"),
        (dict(detection_mode="frame"), "detection_mode"),
    ]:
        with pytest.raises(ValueError, match=name):
            simulate_scan(ph, **kw)
    with pytest.raises(ValueError, match="a_angstrom"):
        simulate_scan(ph, CubicPhase("fcc", -1))


# ---------------------------------------------------------------------------
# issue 11: intensities and thresholds, axis offset, positions and omega lists as data
# ---------------------------------------------------------------------------
def _two_grain_phantom():
    lab = -np.ones((81, 81), dtype=int)
    lab[30:52, 20:46] = 0
    lab[50:70, 44:62] = 1
    return phantom_from_labels(lab, 0.5, random_orientations(2, seed=7))


def _record_key(sim):
    tr = sim.truth
    return list(zip(tr.grain.tolist(), tr.hkl_index.tolist(), tr.solution.tolist(), sim.data.k.tolist()))


@pytest.mark.parametrize("profile", ["box", "gaussian", "box_gaussian"])
def test_rule5_intensity_is_the_beam_weighted_grain_area(profile):
    from superres_widgets.s3dxrd import get_beam_profile

    ph = _two_grain_phantom()
    sim = simulate_scan(ph, beam_um=3.0, step_um=3.0, omega_step_deg=6.0, profile=profile)
    d, tr = sim.data, sim.truth
    prof = get_beam_profile(profile)
    gx, gy = np.meshgrid(ph.x_centres, ph.y_centres)
    rng = np.random.default_rng(0)
    for i in rng.choice(d.n_peaks, 40, replace=False):
        m = ph.labels == tr.grain[i]
        c, s = cos_sin_deg(np.array([d.omega_deg[i]]))
        u = gx[m] * c[0] - gy[m] * s[0]
        want = prof.weight(u - d.x_positions[d.k[i]], 3.0).sum() * 0.25 / 9.0  # cells of p^2 in b^2
        assert d.intensity[i] == pytest.approx(want, rel=0.02, abs=2e-3)
    assert np.all(d.intensity >= 0) and d.intensity.max() > 1.0
    # a detection threshold keeps exactly the records at or above it, and nothing random changes
    thr = float(np.percentile(d.intensity, 30))
    cut = simulate_scan(ph, beam_um=3.0, step_um=3.0, omega_step_deg=6.0, profile=profile, detection_threshold=thr)
    keep = [key for key, inten in zip(_record_key(sim), d.intensity) if inten >= thr]
    assert sorted(_record_key(cut)) == sorted(keep) and 0.6 < cut.data.n_peaks / d.n_peaks < 0.75
    with pytest.raises(ValueError, match="^detection_threshold must be >= 0"):
        simulate_scan(ph, detection_threshold=-1.0)


def test_rule5_tails_light_more_frames_and_a_threshold_removes_them():
    ph = _two_grain_phantom()
    kw = dict(beam_um=3.0, step_um=3.0, omega_step_deg=6.0)
    box = simulate_scan(ph, **kw)
    gauss = simulate_scan(ph, profile="gaussian", **kw)
    assert gauss.data.n_peaks > 1.2 * box.data.n_peaks  # the tails reach the neighbouring positions
    weak = simulate_scan(ph, profile="gaussian", detection_threshold=0.2, **kw)
    assert weak.data.n_peaks < gauss.data.n_peaks
    assert weak.data.intensity.min() >= 0.2


def test_rule2_axis_offset_and_positions_as_data_follow_eq1():
    xs, ys = 13.0, -7.5
    ph = _one_cell_phantom(xs, ys)
    for kw in (dict(axis_offset_um=1.3), dict(x_positions_um=[-30.0, -21.0, -9.5, -2.0, 3.0, 8.0, 16.5, 29.0])):
        sim = simulate_scan(ph, beam_um=4.0, step_um=4.0, omega_step_deg=3.0, **kw)
        d = sim.data
        if "axis_offset_um" in kw:
            assert d.geometry.axis_offset == 1.3
            np.testing.assert_allclose(d.x_positions, 1.3 + 4.0 * np.arange(-d.geometry.k_max, d.geometry.k_max + 1))
        else:
            np.testing.assert_allclose(d.x_positions, kw["x_positions_um"])
        ev = sim.truth.predicted
        for e in range(ev.n_events):
            ue = xs * math.cos(math.radians(ev.omega_deg[e])) - ys * math.sin(math.radians(ev.omega_deg[e]))
            want = {k for k, Xk in enumerate(d.x_positions) if abs(ue - Xk) <= 2.0 + 1e-9}
            mine = (sim.truth.hkl_index == ev.hkl_index[e]) & (sim.truth.solution == ev.solution[e])
            assert set(d.k[mine].tolist()) == want
    g = scan_geometry(30.0, 4.0, axis_offset_um=1.3, omega_step_deg=5.0)
    rng = np.random.default_rng(1)
    r, t = 30.0 * np.sqrt(rng.random(100)), 2 * np.pi * rng.random(100)
    assert all(g.measurements(x, y).X.size == g.n_omega for x, y in zip(r * np.cos(t), r * np.sin(t)))
    with pytest.raises(ValueError, match="^axis_offset_um must be within the specimen radius"):
        scan_geometry(30.0, axis_offset_um=31.0)
    with pytest.raises(ValueError, match="^x_positions_um must be finite"):
        simulate_scan(ph, x_positions_um=[0.0, np.nan])
    with pytest.raises(ValueError, match="^positions must contain at least one"):
        simulate_scan(ph, x_positions_um=[])


def test_rule1_omega_lists_as_data_half_and_full_scans():
    ph = voronoi_phantom(24.0, 3, seed=1, pixel_um=0.5)
    full = simulate_scan(ph, omega_step_deg=2.0, omega_range_deg=360.0)
    assert full.data.n_bins == 180 and full.data.omega_range_deg == 360.0
    # an irregular list with a gap: the records are the full scan's records in the kept bins
    centres = np.concatenate([np.arange(1.0, 100.0, 2.0), np.arange(151.0, 300.0, 2.0)])
    gappy = simulate_scan(ph, omega_step_deg=2.0, omega_deg=centres)
    d = gappy.data
    np.testing.assert_allclose(d.bin_centres_deg, centres)
    assert d.omega_start_deg == 0.0 and d.omega_range_deg == pytest.approx(300.0)
    keep_full = np.isin(np.floor(full.data.omega_deg / 2.0) * 2.0 + 1.0, centres)
    want = sorted(k for k, ok in zip(_record_key(full), keep_full) if ok)
    assert sorted(_record_key(gappy)) == want and len(want) > 100
    # every record lies in its bin
    assert np.all(np.abs(d.omega_deg - centres[d.j]) <= 1.0 + 1e-9)
    j, inside = d.bin_of([1.5, 120.0, 299.9, 300.5, -60.5, 1.5 + 360.0])
    assert inside.tolist() == [True, False, True, False, True, True]
    assert j[0] == 0 and j[2] == centres.size - 1 and j[4] == j[2] and j[5] == 0
    for bad, msg in [([3.0, 4.0], "at least omega_step_deg"), ([0.0, 359.0], "at most 360"), ([], "non-empty"),
                     ([0.0, np.nan], "finite")]:
        with pytest.raises(ValueError, match=f"^omega_deg .*{msg}"):
            scan_geometry(20.0, omega_step_deg=2.0, omega_deg=bad)


def test_full_scan_peak_matching_wraps_omega():
    """Peaks of a 360-degree scan given in (-180, 180] (ImageD11's habit) match as in [0, 360)."""
    from superres_widgets.s3dxrd import observation_table

    ph = voronoi_phantom(24.0, 3, seed=1, pixel_um=0.5)
    sim = simulate_scan(ph, omega_step_deg=2.0, omega_range_deg=360.0, noise_omega_deg=0.05, seed=3)
    d = sim.data
    U = ph.orientations
    t0 = observation_table(d, U, omega_tol_deg=0.3)
    wrapped = dataclasses.replace(d, omega_deg=np.where(d.omega_deg > 180.0, d.omega_deg - 360.0, d.omega_deg),
                                  _offsets=None)
    t1 = observation_table(wrapped, U, omega_tol_deg=0.3)
    np.testing.assert_array_equal(t0.observed, t1.observed)
    assert t0.observed.sum() > 100
    # noise pushes some peaks across 0/360; they still match the events at the seam
    seam = (d.omega_deg < 0) | (d.omega_deg >= 360)
    assert seam.any()
    pred = sim.truth.predicted
    for i in np.nonzero(seam)[0]:
        e = np.nonzero((pred.orientation == sim.truth.grain[i]) & (pred.hkl_index == sim.truth.hkl_index[i])
                       & (pred.solution == sim.truth.solution[i]))[0][0]
        assert t0.observed[e, d.k[i]]


def test_reconstruction_with_offset_full_scan_and_gaps():
    from superres_widgets.s3dxrd import reconstruct_phantom

    kw = dict(diameter_um=32, n_grains=3, omega_step_deg=3.0, seed=2)
    half = reconstruct_phantom(**kw)
    full = reconstruct_phantom(omega_range_deg=360.0, **kw)
    off = reconstruct_phantom(omega_range_deg=360.0, axis_offset_um=1.0, **kw)
    gaps = reconstruct_phantom(omega_deg=np.concatenate([np.arange(1.5, 60, 3.0), np.arange(91.5, 180, 3.0)]), **kw)
    assert off.geometry.axis_offset == 1.0 and off.parameters["axis_offset_um"] == 1.0
    assert gaps.data.n_bins == 20 + 30 and gaps.table.in_scan is not None and not gaps.table.in_scan.all()
    for r in (half, full, off, gaps):
        assert r.subpixel.fraction_correct > 0.85
        assert r.subpixel.mean_displacement_um < r.conventional.mean_displacement_um
    assert full.data.n_peaks > 1.8 * half.data.n_peaks
