"""Tests of superres_widgets.s3dxrd.crystal: one test (at least) per convention.

The module docstring numbers the conventions; the test names carry the rule.
xfab (FABLE) is the reference implementation of the 3DXRD equations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from superres_widgets.s3dxrd import crystal as cr
from superres_widgets.s3dxrd.geometry import ScanGeometry, to_imaged11

xfab_tools = pytest.importorskip("xfab.tools")


def _omega_mat(w_deg: float) -> np.ndarray:
    w = math.radians(w_deg)
    return np.array([[math.cos(w), -math.sin(w), 0], [math.sin(w), math.cos(w), 0], [0, 0, 1.0]])


# rule 1 ---------------------------------------------------------------------
def test_rule1_wavelength_from_energy():
    assert cr.wavelength_from_energy(12.398419843320026) == pytest.approx(1.0, abs=1e-15)
    assert cr.wavelength_from_energy(50.0) == pytest.approx(12.398 / 50.0, rel=1e-4)
    assert cr.energy_from_wavelength(cr.wavelength_from_energy(37.2)) == pytest.approx(37.2)
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="energy_keV"):
            cr.wavelength_from_energy(bad)


# rule 2 ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "cell",
    [(4.0495, 4.0495, 4.0495, 90, 90, 90), (3.1, 4.7, 5.3, 81.0, 97.0, 105.0), (5.0, 5.0, 7.0, 90, 90, 120)],
)
def test_rule2_b_matrix_matches_xfab(cell):
    np.testing.assert_allclose(cr.b_matrix(cell), xfab_tools.form_b_mat(cell), rtol=1e-12, atol=1e-14)


def test_rule2_cubic_b_is_two_pi_over_a():
    ph = cr.CubicPhase("bcc", 2.8665)
    np.testing.assert_allclose(ph.B, 2 * np.pi / 2.8665 * np.eye(3))
    np.testing.assert_allclose(ph.B, cr.b_matrix(ph.unit_cell), atol=1e-14)
    # |B h| = 2 pi / d
    h = np.array([1, 1, 0])
    assert np.linalg.norm(ph.B @ h) == pytest.approx(2 * np.pi / (2.8665 / np.sqrt(2)))


# rule 8 (hkl, extinction, rings) -------------------------------------------------
@pytest.mark.parametrize("lattice", ["fcc", "bcc", "sc"])
def test_rule8_hkl_match_xfab_genhkl_all(lattice):
    ph = cr.CubicPhase(lattice, 3.6)
    refl = cr.generate_hkl(ph, 18.0, energy_keV=40.0)
    lam = refl.wavelength_angstrom
    stl_max = math.sin(math.radians(18.0 / 2)) / lam
    H = xfab_tools.genhkl_all(ph.unit_cell, 0.0, stl_max, sgname=ph.space_group)
    ours = {tuple(int(v) for v in h) for h in refl.hkl}
    theirs = {tuple(int(round(v)) for v in h) for h in H}
    assert ours == theirs
    # 2 theta from Bragg's law agrees with xfab.tools.tth
    for h, t in zip(refl.hkl[::7], refl.tth_deg[::7]):
        assert t == pytest.approx(math.degrees(xfab_tools.tth(ph.unit_cell, h, lam)), abs=1e-10)


def test_rule8_extinction_rules_and_rings():
    h = np.array([[1, 1, 1], [2, 0, 0], [1, 1, 0], [1, 0, 0], [2, 1, 0], [2, 1, 1], [0, 0, 0]])
    assert cr.CubicPhase("fcc").allowed(h).tolist() == [True, True, False, False, False, False, False]
    assert cr.CubicPhase("bcc").allowed(h).tolist() == [False, True, True, False, False, True, False]
    assert cr.CubicPhase("sc").allowed(h).tolist() == [True] * 6 + [False]
    refl = cr.generate_hkl(cr.CubicPhase("fcc", 4.0495), 16.0, energy_keV=50.0)
    assert refl.ring_multiplicity.tolist() == [8, 6, 12, 24, 8, 6, 24, 24]
    assert [refl.ring_label(i) for i in range(3)] == ["{111}", "{200}", "{220}"]
    assert np.all(np.diff(refl.ring_tth_deg) > 0)
    assert refl.tth_deg.max() <= 16.0
    # both signs are generated
    s = {tuple(h) for h in refl.hkl.tolist()}
    assert all(tuple(-np.array(h)) in s for h in s)


def test_rule8_generate_hkl_rejects_bad_input():
    ph = cr.CubicPhase()
    with pytest.raises(ValueError, match="energy_keV"):
        cr.generate_hkl(ph, 16, energy_keV=0)
    with pytest.raises(ValueError, match="wavelength_angstrom"):
        cr.generate_hkl(ph, 16, wavelength_angstrom=-1)
    with pytest.raises(ValueError, match="tth_max_deg"):
        cr.generate_hkl(ph, 0, energy_keV=50)
    with pytest.raises(ValueError, match="exactly one"):
        cr.generate_hkl(ph, 16)


def test_cubic_phase_validation():
    for bad in (0, -4.05, float("inf")):
        with pytest.raises(ValueError, match="a_angstrom"):
            cr.CubicPhase("fcc", bad)
    with pytest.raises(ValueError, match="lattice"):
        cr.CubicPhase("hcp", 3.0)


# rules 5-6: omega, eta, 2theta against xfab ------------------------------------
@pytest.mark.parametrize("lattice", ["fcc", "bcc"])
def test_rules5_6_laue_solutions_match_xfab(lattice):
    ph = cr.CubicPhase(lattice, 3.9)
    refl = cr.generate_hkl(ph, 20.0, energy_keV=45.0)
    lam = refl.wavelength_angstrom
    U = cr.random_orientations(6, seed=7)
    om, eta, tth, ok = cr.laue_solutions(U, ph.B, refl.hkl, lam)
    B = xfab_tools.form_b_mat(ph.unit_cell)
    n_checked = 0
    for u in range(U.shape[0]):
        for i, h in enumerate(refl.hkl):
            g = U[u] @ B @ h
            t = xfab_tools.tth2(g, lam)
            assert math.degrees(t) == pytest.approx(tth[i], abs=1e-9)
            w, e = xfab_tools.find_omega_general(g * lam / (4 * np.pi), t, 0.0, 0.0)
            if len(w) == 0:
                assert not ok[u, i].any()
                continue
            assert ok[u, i].all()
            np.testing.assert_allclose(om[u, i], np.degrees(w), atol=1e-9)
            de = (eta[u, i] - np.degrees(e) + 180.0) % 360.0 - 180.0
            np.testing.assert_allclose(de, 0.0, atol=1e-9)
            n_checked += 1
    assert n_checked > 100


def test_rules5_6_hand_computed_200():
    """U = I, a = 4 A, lambda = 0.5 A, h = (2,0,0): g along sample x.

    sin(theta) = lambda / (2 d) = 0.5 / 4 = 0.125; the Laue condition
    0.125 cos w = -0.125^2 gives cos w = -0.125, w = -/+97.18 deg; at
    w = +97.18 the scattering vector points to +y_l, the diffracted beam
    goes to +y_l, i.e. eta = -90 deg (rule 6: +90 is towards -y_l).
    """
    ph = cr.CubicPhase("fcc", 4.0)
    om, eta, tth, ok = cr.laue_solutions(np.eye(3), ph.B, [[2, 0, 0]], 0.5)
    w = math.degrees(math.acos(-0.125))
    assert ok.all()
    np.testing.assert_allclose(om[0], [-w, w], atol=1e-12)
    np.testing.assert_allclose(eta[0], [90.0, -90.0], atol=1e-12)
    assert tth[0] == pytest.approx(2 * math.degrees(math.asin(0.125)))


def test_rule5_no_solution_along_rotation_axis():
    ph = cr.CubicPhase("fcc", 4.0)
    om, eta, tth, ok = cr.laue_solutions(np.eye(3), ph.B, [[0, 0, 2], [0, 0, -2]], 0.5)
    assert not ok.any()
    assert np.isnan(om).all() and np.isnan(eta).all()
    assert np.isfinite(tth).all()


def test_rule5_laue_condition_and_rule6_beam_direction():
    """k_out = k_in + g_l has |k_out| = |k_in| and the direction of rule 6."""
    refl = cr.generate_hkl(cr.CubicPhase("fcc", 4.0495), 16.0, energy_keV=50.0)
    lam = refl.wavelength_angstrom
    U = cr.random_orientations(1, seed=3)[0]
    pred = cr.predict_reflections(U, refl, 0.0, 360.0)
    k = 2 * np.pi / lam
    for e in range(0, pred.n_events, 5):
        h = refl.hkl[pred.hkl_index[e]]
        gl = _omega_mat(pred.omega_deg[e]) @ U @ refl.B @ h
        kout = np.array([k, 0, 0]) + gl
        assert np.linalg.norm(kout) == pytest.approx(k, rel=1e-12)
        t2, et = math.radians(pred.tth_deg[e]), math.radians(pred.eta_deg[e])
        want = np.array([math.cos(t2), -math.sin(t2) * math.sin(et), math.sin(t2) * math.cos(et)])
        np.testing.assert_allclose(kout / k, want, atol=1e-12)


# rule 7: omega range, both solutions, Friedel pairs ----------------------------------
def test_rule7_friedel_mate_at_omega_plus_180_and_180_minus_eta():
    refl = cr.generate_hkl(cr.CubicPhase("fcc", 4.0495), 16.0, energy_keV=50.0)
    U = cr.random_orientations(3, seed=11)
    om_p, eta_p, _, ok_p = cr.laue_solutions(U, refl.B, refl.hkl, refl.wavelength_angstrom)
    om_m, eta_m, _, ok_m = cr.laue_solutions(U, refl.B, -refl.hkl, refl.wavelength_angstrom)
    assert np.array_equal(ok_p, ok_m)
    ok = ok_p
    # every solution of -h is a solution of h shifted by 180 deg, eta -> 180 - eta
    for u in range(3):
        for i in range(refl.n_reflections):
            if not ok[u, i].any():
                continue
            for s in range(2):
                dw = (om_m[u, i, :] - om_p[u, i, s] - 180.0 + 180.0) % 360.0 - 180.0
                j = int(np.argmin(np.abs(dw)))
                assert abs(dw[j]) < 1e-8
                de = (eta_m[u, i, j] - (180.0 - eta_p[u, i, s]) + 180.0) % 360.0 - 180.0
                assert abs(de) < 1e-8


def test_rule7_scan_range_keeps_each_friedel_event_once():
    refl = cr.generate_hkl(cr.CubicPhase("fcc", 4.0495), 16.0, energy_keV=50.0)
    U = cr.random_orientations(5, seed=2)
    full = cr.predict_reflections(U, refl, 0.0, 360.0)
    half = cr.predict_reflections(U, refl, 0.0, 180.0)
    other = cr.predict_reflections(U, refl, 180.0, 180.0)
    assert np.all((half.omega_deg >= 0) & (half.omega_deg < 180))
    assert np.all((other.omega_deg >= 180) & (other.omega_deg < 360))
    np.testing.assert_array_equal(half.counts + other.counts, full.counts)
    # the Friedel mates make the two halves equally populated
    np.testing.assert_array_equal(half.counts, other.counts)
    np.testing.assert_array_equal(half.counts, np.bincount(half.orientation, minlength=5))
    assert np.all(half.offsets[1:] - half.offsets[:-1] == half.counts)


# rules 3-4: frames, same omega as the geometry layer ------------------------------
def test_rules3_4_same_omega_as_geometry_eq1():
    """Omega(w) turns a sample-frame point like seed eq. (1) turns (xs, ys)."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        xs, ys, w = rng.uniform(-50, 50), rng.uniform(-50, 50), rng.uniform(0, 180)
        sx, sy = cr.specimen_to_sample(xs, ys)
        lab = _omega_mat(w) @ np.array([sx, sy, 0.0])
        X = xs * math.cos(math.radians(w)) - ys * math.sin(math.radians(w))
        Y = xs * math.sin(math.radians(w)) + ys * math.cos(math.radians(w))
        np.testing.assert_allclose(lab, [-Y, X, 0.0], atol=1e-12)
        # the same mapping as the geometry layer's ImageD11 rule 9
        gsx, gsy, _ = to_imaged11(xs, ys, X)
        assert (float(gsx), float(gsy)) == pytest.approx((float(sx), float(sy)))
        bx, by = cr.sample_to_specimen(sx, sy)
        assert (float(bx), float(by)) == pytest.approx((xs, ys))
    # and the geometry layer assigns X of eq. (1) at that omega
    g = ScanGeometry(x_range=60, step=1.0, omega_deg=[30.0])
    m = g.measurements(20.0, 5.0)
    assert m.X[0] == round(20 * math.cos(math.radians(30)) - 5 * math.sin(math.radians(30)))


def test_rule3_rotating_the_crystal_rotates_the_omegas():
    """A crystal turned by +a about z diffracts at omega - a (same sense)."""
    refl = cr.generate_hkl(cr.CubicPhase("fcc", 4.0495), 16.0, energy_keV=50.0)
    U = cr.random_orientations(1, seed=5)[0]
    a = 23.0
    om0, eta0, _, ok = cr.laue_solutions(U, refl.B, refl.hkl, refl.wavelength_angstrom)
    om1, eta1, _, _ = cr.laue_solutions(_omega_mat(a) @ U, refl.B, refl.hkl, refl.wavelength_angstrom)
    d = (om1 - (om0 - a) + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(d[ok], 0.0, atol=1e-8)
    np.testing.assert_allclose(eta1[ok], eta0[ok], atol=1e-8)


def test_scattering_vectors_invert_the_angles():
    refl = cr.generate_hkl(cr.CubicPhase("bcc", 2.87), 18.0, energy_keV=60.0)
    U = cr.random_orientations(2, seed=9)
    pred = cr.predict_reflections(U, refl)
    g = cr.scattering_vectors(pred.tth_deg, pred.eta_deg, pred.omega_deg)
    want = np.einsum("nij,nj->ni", U[pred.orientation], refl.hkl[pred.hkl_index] @ refl.B.T)
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    np.testing.assert_allclose(g, want, atol=1e-12)


# rule 9: symmetry and misorientation ---------------------------------------------
def test_rule9_cubic_operators_form_the_rotation_group():
    S = cr.cubic_symmetry_operators()
    assert S.shape == (24, 3, 3)
    np.testing.assert_allclose(S[0], np.eye(3))
    np.testing.assert_allclose(np.linalg.det(S), 1.0)
    keys = {tuple(np.rint(m).astype(int).ravel()) for m in S}
    assert len(keys) == 24
    for a in S[::5]:
        for b in S:
            assert tuple(np.rint(a @ b).astype(int).ravel()) in keys


def test_rule9_misorientation():
    U = cr.random_orientations(10, seed=4)
    S = cr.cubic_symmetry_operators()
    # symmetric equivalents are the same crystal
    np.testing.assert_allclose(cr.misorientation_deg(U, U @ S[7]), 0.0, atol=1e-5)
    # a 10 deg turn about the sample z axis
    np.testing.assert_allclose(cr.misorientation_deg(U, _omega_mat(10.0) @ U), 10.0, atol=1e-6)
    # a 50 deg turn about <100> is 40 deg with cubic symmetry
    assert float(cr.misorientation_deg(np.eye(3), _omega_mat(50.0))) == pytest.approx(40.0, abs=1e-6)
    V = cr.random_orientations(200, seed=5)
    W = cr.random_orientations(200, seed=6)
    m = cr.misorientation_deg(V, W)
    assert m.max() <= 62.81 and m.min() >= 0
    np.testing.assert_allclose(m, cr.misorientation_deg(W, V), atol=1e-6)
    T = cr.misorientation_table(V[:5], W[:7])
    assert T.shape == (5, 7)
    np.testing.assert_allclose(T[2, 3], cr.misorientation_deg(V[2], W[3]), atol=1e-9)
    # Mackenzie distribution: mean about 40.7 deg for random cubic pairs
    assert 38.0 < m.mean() < 43.5


# rule 10 and validation -------------------------------------------------------------
def test_rule10_random_orientations():
    U = cr.random_orientations(3000, seed=1)
    UtU = np.einsum("nji,njk->nik", U, U)
    np.testing.assert_allclose(UtU, np.broadcast_to(np.eye(3), U.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(U), 1.0)
    assert np.abs(U.mean(axis=0)).max() < 0.05  # Haar measure: E[U] = 0
    np.testing.assert_array_equal(cr.random_orientations(4, seed=8), cr.random_orientations(4, seed=8))


def test_check_orientations_errors_name_the_parameter():
    with pytest.raises(ValueError, match="candidates is empty"):
        cr.check_orientations([], "candidates")
    with pytest.raises(ValueError, match="candidates.*not orthonormal"):
        cr.check_orientations(np.eye(3) * 1.01, "candidates")
    with pytest.raises(ValueError, match="candidates.*proper rotation"):
        cr.check_orientations(np.diag([1.0, 1.0, -1.0]), "candidates")
    with pytest.raises(ValueError, match="candidates"):
        cr.check_orientations(np.zeros((2, 3)), "candidates")


def test_rule2_ubi_conventions_match_xfab():
    ph = cr.CubicPhase("fcc", 4.0495)
    U = cr.random_orientations(4, seed=12)
    for u in U:
        ubi = cr.ubi_from_orientation(u, ph)
        np.testing.assert_allclose(ubi, xfab_tools.u_to_ubi(u, ph.unit_cell), atol=1e-12)
        np.testing.assert_allclose(cr.orientation_from_ubi(ubi, ph), u, atol=1e-12)
        np.testing.assert_allclose(xfab_tools.ubi_to_u(ubi), u, atol=1e-12)
        # a slightly strained UBI still gives the nearest rotation
        strained = ubi @ (np.eye(3) + 1e-3 * np.array([[1, 0.2, 0], [0.2, -0.5, 0], [0, 0, 0.3]]))
        assert float(cr.misorientation_deg(cr.orientation_from_ubi(strained, ph), u)) < 0.1


# non-cubic phases (phases module) against xfab -------------------------------------------
from superres_widgets.s3dxrd.phases import HexagonalPhase, TetragonalPhase, symmetry_operators  # noqa: E402

NONCUBIC = [
    (HexagonalPhase(2.951, 4.686, hcp_sites=False), "P63/mmc"),  # alpha-Ti cell, space-group absences only
    (HexagonalPhase(3.209, 5.211, hcp_sites=False), "P63/mmc"),  # Mg
    (TetragonalPhase(3.0, 5.0, "I4/mmm"), "I4/mmm"),
    (TetragonalPhase(3.2, 4.1, "P4/mmm"), "P4/mmm"),
]


@pytest.mark.parametrize("ph, sg", NONCUBIC)
def test_noncubic_b_matrix_and_reflections_match_xfab(ph, sg):
    np.testing.assert_allclose(ph.B, xfab_tools.form_b_mat(ph.unit_cell), rtol=1e-12, atol=1e-14)
    refl = cr.generate_hkl(ph, 20.0, energy_keV=50.0)
    stl_max = math.sin(math.radians(10.0)) / refl.wavelength_angstrom
    H = xfab_tools.genhkl_all(ph.unit_cell, 0.0, stl_max, sgname=sg)
    assert {tuple(h) for h in refl.hkl} == {tuple(int(v) for v in h[:3]) for h in H}
    for h, t in zip(refl.hkl[::7], refl.tth_deg[::7]):
        assert t == pytest.approx(math.degrees(xfab_tools.tth(ph.unit_cell, h, refl.wavelength_angstrom)), abs=1e-9)
    # rings: equal d, increasing 2 theta
    d = refl.d_angstrom
    np.testing.assert_allclose(d, refl.ring_d_angstrom[refl.ring], rtol=1e-9)
    assert np.all(np.diff(refl.ring_tth_deg) > 0)


def test_hcp_site_extinctions_are_the_zeros_of_the_structure_factor():
    ti = HexagonalPhase.titanium()
    r = np.arange(-4, 5)
    hkl = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)
    atoms = np.array([[1 / 3, 2 / 3, 1 / 4], [2 / 3, 1 / 3, 3 / 4]])
    F = np.exp(2j * np.pi * hkl @ atoms.T).sum(axis=1)
    nonzero = np.any(hkl != 0, axis=1)
    np.testing.assert_array_equal(ti.allowed(hkl), nonzero & (np.abs(F) > 1e-9))
    refl = cr.generate_hkl(ti, 16.0, energy_keV=50.0)
    assert [refl.ring_label(i) for i in range(4)] == ["{100}", "{002}", "{101}", "{102}"]


@pytest.mark.parametrize("ph", [ph for ph, _ in NONCUBIC])
def test_noncubic_laue_solutions_match_xfab(ph):
    refl = cr.generate_hkl(ph, 18.0, energy_keV=45.0)
    lam = refl.wavelength_angstrom
    U = cr.random_orientations(4, seed=11)
    om, eta, tth, ok = cr.laue_solutions(U, ph.B, refl.hkl, lam)
    B = xfab_tools.form_b_mat(ph.unit_cell)
    n = 0
    for u in range(U.shape[0]):
        for i, h in enumerate(refl.hkl):
            g = U[u] @ B @ h
            t = xfab_tools.tth2(g, lam)
            assert math.degrees(t) == pytest.approx(tth[i], abs=1e-9)
            w, e = xfab_tools.find_omega_general(g * lam / (4 * np.pi), t, 0.0, 0.0)
            if len(w) == 0:
                assert not ok[u, i].any()
                continue
            np.testing.assert_allclose(om[u, i], np.degrees(w), atol=1e-9)
            np.testing.assert_allclose((eta[u, i] - np.degrees(e) + 180.0) % 360.0 - 180.0, 0.0, atol=1e-9)
            n += 1
    assert n > 200


@pytest.mark.parametrize("name, system", [("hexagonal", 6), ("tetragonal", 4), ("cubic", 7)])
def test_symmetry_operators_and_misorientations_match_xfab(name, system):
    xfab_symmetry = pytest.importorskip("xfab.symmetry")
    ops = symmetry_operators(name)
    X = xfab_symmetry.rotations(system)
    assert len(ops) == len(X)
    for o in ops:
        assert any(np.allclose(o, x, atol=1e-12) for x in X)
    U1, U2 = cr.random_orientations(20, seed=1), cr.random_orientations(20, seed=2)
    ours = cr.misorientation_deg(U1, U2, name)
    ref = [xfab_symmetry.Umis(a, b, system)[:, 1].min() for a, b in zip(U1, U2)]
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    # a crystal equals itself turned by any of its symmetry rotations
    np.testing.assert_allclose(cr.misorientation_deg(U1[:1], U1[:1] @ ops, name), 0.0, atol=1e-6)


def test_hexagonal_sixfold_is_no_symmetry_of_the_tetragonal_group():
    c, s = np.cos(np.radians(60)), np.sin(np.radians(60))
    R60 = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    assert cr.misorientation_deg(np.eye(3), R60, "hexagonal") == pytest.approx(0.0, abs=1e-9)
    assert cr.misorientation_deg(np.eye(3), R60, "tetragonal") == pytest.approx(30.0, abs=1e-9)
    assert cr.misorientation_deg(np.eye(3), R60, HexagonalPhase()) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="symmetry must be"):
        cr.misorientation_deg(np.eye(3), R60, "trigonal")


def test_noncubic_phase_validation_and_grain_files(tmp_path):
    with pytest.raises(ValueError, match="c_angstrom"):
        HexagonalPhase(2.9, -1.0)
    with pytest.raises(ValueError, match="space_group must be 'P4/mmm' or 'I4/mmm'"):
        TetragonalPhase(3.0, 5.0, "I41/amd")
    from superres_widgets.s3dxrd.grainfile import orientations_from_grain_file

    ti = HexagonalPhase.titanium()
    U = cr.random_orientations(2, seed=4)
    ubi = np.linalg.inv(U @ (ti.B / (2 * np.pi)))
    p = tmp_path / "ti.ubi"
    p.write_text("\n\n".join("\n".join(" ".join(f"{v:.12g}" for v in row) for row in m) for m in ubi) + "\n")
    np.testing.assert_allclose(orientations_from_grain_file(p, ti), U, atol=1e-9)
    with pytest.raises(ValueError, match=r"ti.ubi:1: UBI cell .* does not match the phase"):
        orientations_from_grain_file(p, HexagonalPhase.magnesium())
