"""Tests of superres_widgets.s3dxrd.reconstruction (module rules 1-8) and the
"must show" items of the phantom-reconstruction issue.

The paper-scale run (Kim, Hayashi & Yabashi 2023, Figs. 5-6: 160 um, 4 um
beam and step, 0.5 deg bins, 1 um sub-pixels, 40 grains) is the ``slow``
test at the end; it takes about 5-10 s.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from superres_widgets.s3dxrd.crystal import misorientation_table, ubi_from_orientation
from superres_widgets.s3dxrd.forward import ScanData
from superres_widgets.s3dxrd.geometry import ScanGeometry
from superres_widgets.s3dxrd.phantom import voronoi_phantom
from superres_widgets.s3dxrd.reconstruction import (
    _choose,
    completeness,
    completeness_at,
    evaluate_map,
    map_targets,
    observation_table,
    orientation_map,
    phantom_boundary_points,
    reconstruct_phantom,
    scan_indices,
)


@pytest.fixture(scope="module")
def small():
    """A small noise-free phantom: 48 um, 6 grains."""
    return reconstruct_phantom(diameter_um=48.0, n_grains=6, seed=1)


# must show 2 --------------------------------------------------------------------
def test_small_phantom_every_grain_found_and_interior_right(small):
    r = small
    n = r.phantom.n_grains
    assert r.grains_found == n
    assert r.candidates.shape[0] == n and np.all(r.candidate_grain >= 0)
    assert len(set(r.candidate_grain.tolist())) == n
    assert np.all(r.candidate_misorientation_deg < 0.01)
    for m in (r.subpixel, r.conventional):
        ev = m.evaluation
        assert ev.fraction_correct_interior > 0.95
        assert ev.fraction_correct > 0.9
        assert ev.grains_present == n
        assert np.all(m.candidate >= 0)
    assert r.subpixel.evaluation.area_fraction_correct > r.conventional.evaluation.area_fraction_correct
    assert r.subpixel.mean_displacement_um < r.conventional.mean_displacement_um


# rule 1 ---------------------------------------------------------------------------
def test_rule1_targets():
    xs, ys, gx, gy, gi = map_targets(4.0, 4, 10.0)
    np.testing.assert_allclose(gx, np.arange(-10, 11) * 1.0)
    assert np.all(xs**2 + ys**2 <= 100 + 1e-9)
    assert gi.shape == (21, 21) and gi[10, 10] >= 0 and gi[0, 0] == -1
    j = gi[10, 13]
    assert (xs[j], ys[j]) == (3.0, 0.0)
    i = gi[12, 10]
    assert (xs[i], ys[i]) == (0.0, 2.0)  # rows: ys ascending
    with pytest.raises(ValueError, match="subdivision"):
        map_targets(4.0, 0, 10.0)


# rule 2 ---------------------------------------------------------------------------
def test_rule2_lists_equal_geometry_measurements(small):
    geoms = [small.geometry, ScanGeometry(x_range=10, step=1.0)]  # the latter has 0 and 90 deg: ties
    rng = np.random.default_rng(3)
    for g in geoms:
        R = g.x_range
        xs = np.concatenate([rng.uniform(-R, R, 200), np.arange(-8, 9) * 0.5, [2.5, -2.5, 0.0]])
        ys = np.concatenate([rng.uniform(-R, R, 200), np.arange(-8, 9) * 0.25, [0.5, 1.5, -3.5]])
        K, ok, _ = scan_indices(g, xs, ys)
        for i in range(xs.size):
            m = g.measurements(xs[i], ys[i])
            np.testing.assert_array_equal(g.x_positions[K[i][ok[i]]], m.X)
            np.testing.assert_array_equal(g.omega_deg[ok[i]], m.omega_deg)


# rule 3 ---------------------------------------------------------------------------
def test_rule3_observation_table_holds_the_lit_frames(small):
    r = small
    t = r.table
    tr = r.simulation.truth
    for c in range(t.n_candidates):
        g = r.candidate_grain[c]
        rows = np.nonzero(t.events.orientation == c)[0]
        for e in rows[::9]:
            # the candidate is the grain up to a cubic symmetry operator, so
            # its hkl labels differ: find the grain's records by angles
            sel = (
                (tr.grain == g)
                & (r.data.ring == t.events.ring[e])
                & (np.abs(r.data.omega_deg - t.events.omega_deg[e]) < 1e-3)
                & (np.abs(r.data.eta_deg - t.events.eta_deg[e]) < 1e-3)
            )
            assert sel.any()
            want = np.zeros(r.data.n_positions, dtype=bool)
            want[r.data.k[sel]] = True
            # the grain's own frames are all observed; others only by coincidence
            assert np.all(t.observed[e][want])
            assert (t.observed[e] & ~want).sum() <= 1
        assert t.j[rows].max() < r.data.n_bins
    with pytest.raises(ValueError, match="candidates is empty"):
        observation_table(r.data, np.zeros((0, 3, 3)))
    with pytest.raises(ValueError, match="candidates"):
        observation_table(r.data, np.eye(3) * 2)


# rule 4 ---------------------------------------------------------------------------
def test_rule4_completeness_is_one_inside_a_grain(small):
    r = small
    ev = r.subpixel.evaluation
    deep = ev.interior & ev.correct
    assert deep.sum() > 100
    best = r.subpixel.n_prime[deep, r.subpixel.candidate[deep]]
    np.testing.assert_allclose(best, 1.0)
    # M of every candidate: predicted events in [0, 180)
    np.testing.assert_array_equal(r.table.n_expected(), r.table.events.counts)
    assert np.all(r.table.n_expected("hkl") <= r.table.n_expected())
    np.testing.assert_array_equal(r.table.n_expected("reflection", "observed"), r.table.n_expected())
    Np = completeness(r.table, r.geometry, r.subpixel.xs[:50], r.subpixel.ys[:50])
    np.testing.assert_array_equal(Np, r.subpixel.n_prime[:50])


def test_rule4_each_reflection_counted_once(small):
    """Duplicated peaks (same reflection twice in a frame) do not change N'."""
    r = small
    d = r.data
    dup = ScanData(
        geometry=d.geometry,
        reflections=d.reflections,
        omega_start_deg=d.omega_start_deg,
        omega_step_deg=d.omega_step_deg,
        n_bins=d.n_bins,
        k=np.concatenate([d.k, d.k]),
        j=np.concatenate([d.j, d.j]),
        ring=np.concatenate([d.ring, d.ring]),
        eta_deg=np.concatenate([d.eta_deg, d.eta_deg + 0.1]),
        omega_deg=np.concatenate([d.omega_deg, d.omega_deg]),
        tth_deg=np.concatenate([d.tth_deg, d.tth_deg]),
    )
    t2 = observation_table(dup, r.candidates)
    m2 = orientation_map(dup, t2, 4, r.phantom.radius_um)
    np.testing.assert_array_equal(m2.n_prime, r.subpixel.n_prime)
    assert r.subpixel.n_prime.max() <= 1.0


def test_rule4_count_hkl(small):
    r = small
    m = orientation_map(r.data, r.table, 2, r.phantom.radius_um, count="hkl")
    assert m.count == "hkl" and m.n_prime.max() <= 1.0
    assert np.mean(m.candidate == orientation_map(r.data, r.table, 2, r.phantom.radius_um).candidate) > 0.95


# rule 5 ---------------------------------------------------------------------------
def test_rule5_choice_and_tie_break():
    n1 = np.array([[1.0, 1.0, 0.5], [0.2, 0.9, 0.3], [0.0, 0.0, 0.0]])
    n2 = np.array([[0.2, 0.9, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    assert _choose(n1, n2).tolist() == [1, 1, -1]
    assert _choose(n1, None).tolist() == [0, 1, -1]


def test_rule5_next_nearest_beats_first_on_boundaries(small):
    r = small
    first = orientation_map(r.data, r.table, 4, r.phantom.radius_um, tie_break="first")
    first = evaluate_map(first, r.phantom, interior_margin_um=4.0)
    assert r.subpixel.tie_break == "next"
    assert r.subpixel.mean_displacement_um <= first.mean_displacement_um


# rules 6-7 ------------------------------------------------------------------------
def test_rules6_7_perfect_map_scores_zero():
    """A map equal to the phantom on the phantom raster: 0 displacement, all right."""
    ph = voronoi_phantom(24.0, 4, seed=5, pixel_um=1.0)
    r = reconstruct_phantom(
        diameter_um=24.0, n_grains=4, seed=5, pixel_um=1.0, orientations=ph.orientations,
        candidates=ph.orientations,
    )
    m = r.subpixel
    assert m.spacing_um == 1.0
    ideal = dataclasses.replace(
        m, candidate=r.phantom.label_at(m.xs, m.ys), U=r.phantom.orientations, evaluation=None
    )
    ev = evaluate_map(ideal, r.phantom).evaluation
    assert ev.mean_displacement_um == 0.0 and ev.max_displacement_um == 0.0
    assert ev.fraction_correct == 1.0 and ev.area_fraction_correct == 1.0
    assert ev.ideal_mean_displacement_um == 0.0
    np.testing.assert_allclose(np.nan_to_num(ev.misorientation_deg), 0.0, atol=1e-9)


def test_rule7_boundaries_and_histogram(small):
    r = small
    ppts = phantom_boundary_points(r.phantom, 3.0)
    ev = r.subpixel.evaluation
    np.testing.assert_array_equal(ev.phantom_boundary_points_um, ppts)
    # one point per boundary edge of the raster; edges to air are not boundaries
    lab = r.phantom.labels
    nh = ((lab[:, :-1] != lab[:, 1:]) & (lab[:, :-1] >= 0) & (lab[:, 1:] >= 0)).sum()
    nv = ((lab[:-1] != lab[1:]) & (lab[:-1] >= 0) & (lab[1:] >= 0)).sum()
    assert ppts.shape[0] == nh + nv
    assert ev.hist_counts.sum() == ppts.shape[0]
    np.testing.assert_allclose(np.diff(ev.hist_edges), 0.25)
    centres = 0.5 * (ev.hist_edges[1:] + ev.hist_edges[:-1])
    weighted = (ev.hist_counts * centres).sum() / ev.hist_counts.sum()
    assert abs(weighted - ev.mean_displacement_um) <= 0.125
    assert ev.boundary_mask.shape == r.subpixel.grid_index.shape and ev.boundary_mask.any()
    assert ev.ideal_mean_displacement_um <= ev.mean_displacement_um + 1e-12
    img = r.subpixel.to_image(r.subpixel.completeness)
    assert img.shape == r.subpixel.grid_index.shape and np.isnan(img[0, 0])
    assert r.subpixel.orientation.shape == (r.subpixel.n_targets, 3, 3)


# rule 8 ---------------------------------------------------------------------------
@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
def test_rule8_dask_gives_identical_maps(small, scheduler):
    pytest.importorskip("dask")
    r = small
    m = orientation_map(
        r.data, r.table, 4, r.phantom.radius_um, backend="dask", chunk_size=300, scheduler=scheduler
    )
    np.testing.assert_array_equal(m.candidate, r.subpixel.candidate)
    np.testing.assert_array_equal(m.n_prime, r.subpixel.n_prime)
    m1 = orientation_map(r.data, r.table, 4, r.phantom.radius_um, chunk_size=37)
    np.testing.assert_array_equal(m1.n_prime, r.subpixel.n_prime)


# widget helper ----------------------------------------------------------------------
def test_completeness_at_matches_the_map(small):
    r = small
    m = r.subpixel
    for i in (0, 123, m.n_targets // 2, m.n_targets - 1):
        p = completeness_at(r, m.xs[i], m.ys[i])
        assert p.best == m.candidate[i]
        np.testing.assert_array_equal(p.n_prime, m.n_prime[i])
        meas = r.geometry.measurements(m.xs[i], m.ys[i])
        np.testing.assert_array_equal(p.measurements.X, meas.X)
        c = p.best
        sel = p.event_candidate == c
        assert p.event_observed[sel].mean() == pytest.approx(p.n_prime[c])
        np.testing.assert_array_equal(r.data.x_positions[p.event_position], meas.X[r.table.j])


# candidates from the user --------------------------------------------------------------
def test_user_candidates_and_grain_file(small, tmp_path):
    r = small
    p = tmp_path / "grains.map"
    ubi = ubi_from_orientation(r.candidates, r.parameters["phase"])
    with open(p, "w") as f:
        for u in ubi:
            f.write("#UBI:\n" + "\n".join("%.12g %.12g %.12g" % tuple(row) for row in u) + "\n\n")
    rf = reconstruct_phantom(diameter_um=48.0, n_grains=6, seed=1, candidates=p)
    assert rf.indexing is None and rf.candidate_source == str(p)
    np.testing.assert_array_equal(rf.subpixel.candidate, r.subpixel.candidate)
    ru = reconstruct_phantom(diameter_um=48.0, n_grains=6, seed=1, candidates=r.phantom.orientations[::-1])
    assert ru.candidate_source == "user" and ru.grains_found == 6
    assert np.all(misorientation_table(ru.candidates, r.phantom.orientations[::-1]).diagonal() < 1e-9)
    assert ru.subpixel.fraction_correct > 0.9


# bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw, name",
    [
        (dict(n_grains=0), "n_grains"),
        (dict(diameter_um=-1), "diameter_um"),
        (dict(a_angstrom=0), "a_angstrom"),
        (dict(a_angstrom=-3.6), "a_angstrom"),
        (dict(energy_keV=0), "energy_keV"),
        (dict(energy_keV=-50), "energy_keV"),
        (dict(subdivision=0), "subdivision"),
        (dict(subdivision=1.5), "subdivision"),
        (dict(labels=-np.ones((9, 9), dtype=int)), "labels"),
        (dict(candidates=[]), "candidates"),
        (dict(candidates=np.full((2, 3, 3), 0.5)), "candidates"),
        (dict(candidates=np.diag([1.0, 1.0, -1.0])), "candidates"),
        (dict(backend="spark"), "backend"),
        (dict(tie_break="random"), "tie_break"),
    ],
)
def test_bad_input_names_the_parameter(kw, name):
    args = dict(diameter_um=20.0, n_grains=2, seed=0)
    args.update(kw)
    with pytest.raises(ValueError, match=name):
        reconstruct_phantom(**args)


def test_malformed_grain_file_names_file_and_line(tmp_path):
    p = tmp_path / "broken.ubi"
    p.write_text("4.05 0 0\n0 4.05 0\nzero 0 4.05\n")
    with pytest.raises(ValueError, match=r"broken\.ubi:3:"):
        reconstruct_phantom(diameter_um=20.0, n_grains=2, seed=0, candidates=p)


# must show 3 (medium size here, paper scale below) -----------------------------------------
def test_subpixel_boundary_displacement_beats_conventional_medium():
    r = reconstruct_phantom(diameter_um=80.0, n_grains=12, seed=7)
    c, s = r.conventional.evaluation, r.subpixel.evaluation
    assert r.grains_found == 12
    assert s.mean_displacement_um < c.mean_displacement_um
    assert s.mean_displacement_um <= 0.3 * 4.0


@pytest.mark.slow
def test_paper_scale_fig6():
    """Paper setup: 160 um, 4 um beam and step, 360 bins of 0.5 deg, 1 um sub-pixels."""
    r = reconstruct_phantom(
        diameter_um=160.0, beam_um=4.0, step_um=4.0, omega_step_deg=0.5, subdivision=4, n_grains=40, seed=0
    )
    assert r.data.n_bins == 360 and r.subpixel.spacing_um == 1.0
    assert r.grains_found == 40
    c, s = r.conventional, r.subpixel
    assert s.mean_displacement_um < c.mean_displacement_um
    assert s.mean_displacement_um <= 0.3 * 4.0  # paper: 0.7 um
    assert s.evaluation.fraction_correct_interior > 0.95
    assert r.timings["forward"] + r.timings["indexing"] < 60.0


def test_rule8_dask_distributed_client_gives_identical_maps(small):
    """The chunked map also runs on a ``distributed.Client`` (in-process local cluster here)."""
    distributed = pytest.importorskip("distributed")
    r = small
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        m = orientation_map(
            r.data, r.table, 4, r.phantom.radius_um, backend="dask", chunk_size=300, scheduler=client
        )
        # an active client is also picked up with scheduler=None
        m2 = orientation_map(r.data, r.table, 4, r.phantom.radius_um, backend="dask", chunk_size=500)
    np.testing.assert_array_equal(m.candidate, r.subpixel.candidate)
    np.testing.assert_array_equal(m.n_prime, r.subpixel.n_prime)
    np.testing.assert_array_equal(m2.n_prime, r.subpixel.n_prime)


def test_pruned_tiles_equal_the_dense_map():
    """tiles.py: N' per tile with only the candidates that can reach it gives the dense map's choice and N'."""
    from superres_widgets.s3dxrd.tiles import candidate_extents, subset_table

    r = reconstruct_phantom(diameter_um=80, n_grains=12, seed=4, omega_step_deg=1.0, detection_probability=0.85)
    for tb in ("next", "first"):
        dense = orientation_map(r.data, r.table, 4, r.phantom.radius_um, tie_break=tb, prune=False)
        for backend in ("numpy", "dask"):
            pruned = orientation_map(r.data, r.table, 4, r.phantom.radius_um, tie_break=tb, prune=True, tile=16,
                                     backend=backend)
            np.testing.assert_array_equal(pruned.candidate, dense.candidate)
            np.testing.assert_array_equal(pruned.completeness, dense.completeness)
            assert pruned.n_prime.shape == (dense.n_targets, 0)
    cen, rad = candidate_extents(r.table, r.geometry)
    assert np.all(np.hypot(*cen.T) < r.phantom.radius_um) and np.all(rad < 30)
    sub = subset_table(r.table, [3, 1])
    np.testing.assert_array_equal(sub.U, r.table.U[[3, 1]])
    np.testing.assert_array_equal(sub.n_expected(), r.table.n_expected()[[3, 1]])
    np.testing.assert_array_equal(sub.n_expected("hkl"), r.table.n_expected("hkl")[[3, 1]])
