"""Tests of superres_widgets.s3dxrd.indexing (global indexing, grain files)."""

from __future__ import annotations

import numpy as np
import pytest

from superres_widgets.s3dxrd.crystal import (
    CubicPhase,
    cubic_symmetry_operators,
    misorientation_table,
    random_orientations,
    ubi_from_orientation,
)
from superres_widgets.s3dxrd.forward import simulate_scan
from superres_widgets.s3dxrd.indexing import (
    index_peaks,
    match_peaks,
    merge_spots,
    orientations_from_grain_file,
    read_grain_file,
)
from superres_widgets.s3dxrd.phantom import voronoi_phantom


@pytest.fixture(scope="module")
def sim():
    ph = voronoi_phantom(60.0, 8, seed=21)
    return simulate_scan(ph, omega_step_deg=0.5, seed=2)


def test_rule1_spots_merge_the_frames_of_one_event(sim):
    spots = merge_spots(sim.data)
    ev = sim.truth.predicted
    # noise-free: one spot per diffraction event that was lit somewhere
    lit = set(zip(sim.truth.grain.tolist(), sim.truth.hkl_index.tolist(), sim.truth.solution.tolist()))
    assert spots.n_spots == len(lit) <= ev.n_events
    assert spots.count.sum() == sim.data.n_peaks
    assert np.allclose(np.linalg.norm(spots.g, axis=1), 1.0)


def test_rule6_match_peaks():
    pred = ([0, 1, 1], [10.0, 179.9, 0.0], [5.0, 50.0, 90.0])
    obs = ([1, 1, 0, 1], [-179.8, 0.3, 10.4, 0.0], [50.2, 90.6, 5.5, 89.9])
    pi, oi = match_peaks(*pred, *obs, 0.5, 0.5)
    pairs = set(zip(pi.tolist(), oi.tolist()))
    # eta wraps at +-180; omega 90.6 is out of tolerance; ring must agree
    assert pairs == {(0, 2), (1, 0), (2, 3)}


def test_rules3_5_indexing_finds_every_grain_without_the_answer(sim):
    res = index_peaks(sim.data)
    U = sim.phantom.orientations
    assert res.n_candidates == U.shape[0]
    M = misorientation_table(U, res.U)
    assert M.min(axis=1).max() < 0.01  # every grain found, refined to < 0.01 deg
    assert np.all(res.completeness > 0.99)
    assert np.all(res.votes >= 3)
    assert res.index_rings == (0, 1)  # {111} (8) and {200} (6) for fcc


def test_indexing_with_imperfect_data():
    ph = voronoi_phantom(60.0, 8, seed=22)
    s = simulate_scan(
        ph,
        detection_probability=0.7,
        spurious_per_frame=0.2,
        noise_eta_deg=0.05,
        noise_omega_deg=0.05,
        seed=3,
    )
    res = index_peaks(s.data, merge_deg=0.15, angle_tol_deg=0.6)
    M = misorientation_table(ph.orientations, res.U)
    assert M.min(axis=1).max() < 0.2
    assert res.n_candidates == 8


def test_indexing_spurious_only_finds_nothing():
    ph = voronoi_phantom(30.0, 2, seed=1)
    s = simulate_scan(ph, spurious_per_frame=0.5, seed=4)
    d = s.data
    keep = s.truth.grain < 0
    from superres_widgets.s3dxrd.forward import ScanData

    only = ScanData(
        geometry=d.geometry,
        reflections=d.reflections,
        omega_start_deg=d.omega_start_deg,
        omega_step_deg=d.omega_step_deg,
        n_bins=d.n_bins,
        k=d.k[keep],
        j=d.j[keep],
        ring=d.ring[keep],
        eta_deg=d.eta_deg[keep],
        omega_deg=d.omega_deg[keep],
        tth_deg=d.tth_deg[keep],
    )
    assert index_peaks(only).n_candidates == 0


# rule 7: ImageD11 grain files --------------------------------------------------
def _write_map(path, ubis, translations=None):
    """Write a grain file the way ImageD11.grain.write_grain_file does."""
    with open(path, "w") as f:
        for i, u in enumerate(ubis):
            if translations is not None:
                t = translations[i]
                f.write("#translation: %g %g %g\n" % (t[0], t[1], t[2]))
            f.write("#name %d\n" % i)
            f.write("#npks %d\n" % 123)
            f.write("#nuniq %d\n" % 100)
            f.write("#Rod %f %f %f\n" % (0.1, 0.2, 0.3))
            f.write("#UBI:\n")
            f.write("%.9g %.9g %.9g\n" % (u[0, 0], u[0, 1], u[0, 2]))
            f.write("%.9g %.9g %.9g\n" % (u[1, 0], u[1, 1], u[1, 2]))
            f.write("%.9g %.9g %.9g\n\n" % (u[2, 0], u[2, 1], u[2, 2]))


def test_rule7_read_map_and_ubi_files(tmp_path):
    ph = CubicPhase("fcc", 4.0495)
    U = random_orientations(3, seed=5)
    ubis = ubi_from_orientation(U, ph)
    p = tmp_path / "grains.map"
    _write_map(p, ubis, translations=[[1, 2, 3], [4, 5, 6], [-1, 0, 2.5]])
    gf = read_grain_file(p)
    assert gf.n_grains == 3
    np.testing.assert_allclose(gf.ubi, ubis, rtol=1e-8)
    np.testing.assert_allclose(gf.translation[2], [-1, 0, 2.5])
    assert gf.name == ["0", "1", "2"]
    assert gf.line.tolist() == [7, 17, 27]
    np.testing.assert_allclose(orientations_from_grain_file(p, ph), U, atol=1e-7)
    # a plain .ubi file (ImageD11 indexer.saveubis): rows and blank lines only
    q = tmp_path / "grains.ubi"
    q.write_text("\n".join("\n".join(" ".join(f"{v:.12f}" for v in row) for row in u) + "\n" for u in ubis))
    gq = read_grain_file(q)
    assert gq.n_grains == 3 and np.isnan(gq.translation).all()
    np.testing.assert_allclose(orientations_from_grain_file(q, ph), U, atol=1e-9)


@pytest.mark.parametrize(
    "text, line, msg",
    [
        ("#UBI:\n4 0 0\n0 4 x\n0 0 4\n", 3, "3 numbers"),
        ("4 0 0\n0 4 0\n\n0 0 4\n", 3, "incomplete UBI matrix"),
        ("4 0 0\n0 4 0 1\n0 0 4\n", 2, "3 finite numbers"),
        ("4 0 0\n0 4 0\n0 0 -4\n", 1, "left-handed"),
        ("#translation: 1 2\n4 0 0\n0 4 0\n0 0 4\n", 1, "translation"),
        ("4 0 0\n0 4 0\n", 2, "end of file"),
        ("4 0 0\n0 4 0\n0 0 0\n", 1, "singular"),
    ],
)
def test_rule7_malformed_files_name_file_and_line(tmp_path, text, line, msg):
    p = tmp_path / "bad.map"
    p.write_text(text)
    with pytest.raises(ValueError, match=rf"bad\.map:{line}: .*{msg}"):
        read_grain_file(p)


def test_rule7_grain_file_cell_checks(tmp_path):
    p = tmp_path / "empty.ubi"
    p.write_text("# nothing here\n\n")
    with pytest.raises(ValueError, match=r"empty\.ubi: no UBI"):
        read_grain_file(p)
    p = tmp_path / "tetragonal.ubi"
    p.write_text("4.05 0 0\n0 4.05 0\n0 0 5.0\n")
    with pytest.raises(ValueError, match=r"tetragonal\.ubi:1: UBI is not a cubic cell"):
        orientations_from_grain_file(p, CubicPhase("fcc", 4.05))
    p = tmp_path / "wrong_a.ubi"
    p.write_text("3.6 0 0\n0 3.6 0\n0 0 3.6\n")
    with pytest.raises(ValueError, match=r"wrong_a\.ubi:1: .*does not match"):
        orientations_from_grain_file(p, CubicPhase("fcc", 4.05))
    with pytest.raises(FileNotFoundError):
        read_grain_file(tmp_path / "missing.map")


def test_the_spots_are_sorted_once_per_indexing_run(sim, monkeypatch):
    """Issue 12: match_peaks re-sorted the spots in each of ~1600 calls; PeakIndex sorts them once per run."""
    import superres_widgets.s3dxrd.indexing as ix
    import superres_widgets.s3dxrd.matching as mt

    built = []
    real_init = mt.PeakIndex.__init__

    def counting(self, *a, **k):
        built.append(len(np.asarray(a[0])))
        real_init(self, *a, **k)

    monkeypatch.setattr(mt.PeakIndex, "__init__", counting)
    calls = []
    real_refine = ix.refine_orientation
    monkeypatch.setattr(ix, "refine_orientation", lambda *a, **k: calls.append(1) or real_refine(*a, **k))
    res = ix.index_peaks(sim.data)
    assert res.n_candidates == 8 and len(calls) >= 8
    # one index for merging the peaks into spots, one for every match against the spots
    assert len(built) == 2 and built[1] == res.spots.n_spots
    # PeakIndex matches as match_peaks does
    rng = np.random.default_rng(0)
    obs = (rng.integers(0, 3, 300), rng.uniform(-180, 180, 300), rng.uniform(0, 180, 300))
    pred = (rng.integers(0, 3, 200), rng.uniform(-180, 180, 200), rng.uniform(0, 180, 200))
    a = ix.match_peaks(*pred, *obs, 2.0, 2.0)
    b = ix.PeakIndex(*obs).match(*pred, 2.0, 2.0)
    assert set(zip(*map(np.ndarray.tolist, a))) == set(zip(*map(np.ndarray.tolist, b)))


def test_vote_tree_on_the_fundamental_zone_counts_like_every_equivalent():
    """_fundamental_zone: neighbours within the vote radius are found as with all 48 equivalents (cubic)."""
    import math

    from scipy.spatial import cKDTree

    from superres_widgets.s3dxrd.conventions import quat_mul, quaternions
    from superres_widgets.s3dxrd.indexing import _fundamental_zone
    from superres_widgets.s3dxrd.orientation import _sym_quats

    base = random_orientations(40, seed=3)
    # clusters: each base orientation jittered by up to ~0.7 deg, many near the zone's faces
    rng = np.random.default_rng(4)
    from scipy.spatial.transform import Rotation

    jit = Rotation.from_rotvec(rng.normal(0, 0.004, (400, 3))).as_matrix()
    U = np.einsum("nij,njk->nik", np.repeat(base, 10, axis=0), jit)
    U = U @ cubic_symmetry_operators()[rng.integers(0, 24, 400)]  # any equivalent
    S = _sym_quats()
    q = quaternions(U)
    r = 2.0 * math.sin(math.radians(1.0) / 4.0)
    full = quat_mul(q[:, None], S[None]).reshape(-1, 4)
    full = np.concatenate([full, -full])
    brute = cKDTree(full).query_ball_point(q, r, return_length=True)
    canon, pts, owner = _fundamental_zone(q, S, 1.0)
    fz = cKDTree(pts).query_ball_point(canon, r)
    fz_unique = np.array([np.unique(owner[np.asarray(i, dtype=int)]).size for i in fz])
    np.testing.assert_array_equal(fz_unique, brute)
