"""Map export: HDF5 with provenance and .ctf (round trips; orix, an EBSD toolkit, reads our .ctf)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from superres_widgets.s3dxrd import reconstruct_phantom
from superres_widgets.s3dxrd.conventions import quaternions
from superres_widgets.s3dxrd.export import load_map_ctf, load_map_hdf5, save_map_ctf, save_map_hdf5
from superres_widgets.s3dxrd.phases import HexagonalPhase


@pytest.fixture(scope="module")
def rec():
    return reconstruct_phantom(diameter_um=40, n_grains=3, seed=1, omega_step_deg=2.0, scorer="likelihood",
                               detection_probability=0.9)


def test_hdf5_round_trip_with_provenance(rec, tmp_path):
    m = rec.subpixel
    ph = rec.data.reflections.phase
    p = tmp_path / "map.h5"
    prov = save_map_hdf5(p, m, ph, parameters={"seed": 1, "scorer": "likelihood"})
    back = load_map_hdf5(p)
    np.testing.assert_array_equal(back.candidate, m.candidate)
    np.testing.assert_array_equal(back.grid_index, m.grid_index)
    np.testing.assert_allclose(back.U, m.U)
    np.testing.assert_allclose(back.confidence, m.confidence)
    np.testing.assert_allclose(back.completeness, m.completeness)
    assert back.scorer == "likelihood" and back.spacing_um == m.spacing_um
    assert back.model["provenance"] == prov and prov["method"] == "s3dxrd:likelihood"
    assert prov["parameters"] == {"seed": 1, "scorer": "likelihood"} and prov["pixel_size_um"] == 1.0
    with h5py.File(p, "r") as h:
        g = h["map"]
        U = g["U"][()]
        ok = m.candidate >= 0
        np.testing.assert_allclose(U[ok], m.orientation[ok])
        assert np.isnan(U[~ok]).all()
        np.testing.assert_allclose(np.abs(g["quaternion"][()][ok]), np.abs(quaternions(U[ok])))
        # UBI = (U B / 2 pi)^-1: its rows are the cell vectors, length a
        np.testing.assert_allclose(np.linalg.norm(g["ubi"][()][ok], axis=2), ph.a_angstrom, rtol=1e-12)
        rgb = g["ipf_rgb"][()]
        assert rgb.dtype == np.uint8 and rgb[ok].max() > 0 and (rgb[~ok] == 0).all()
        seg = g["boundary_segments"][()]
        assert seg.shape[1] == 4 and seg.shape[0] > 0
        assert g.attrs["symmetry"] == "cubic" and g.attrs["space_group"] == "Fm-3m"
    # the same file can hold a second map; a group that is not ours is refused
    save_map_hdf5(p, rec.conventional, ph, group="conventional")
    assert load_map_hdf5(p, "conventional").subdivision == 1
    with h5py.File(p, "a") as h:
        h.create_group("other")
    with pytest.raises(ValueError, match=r"map.h5: group 'other' is not a superres_widgets s3dxrd map"):
        load_map_hdf5(p, "other")
    with pytest.raises(ValueError, match=r"no group 'nope'"):
        load_map_hdf5(p, "nope")


def test_ctf_round_trip(rec, tmp_path):
    m = rec.subpixel
    p = tmp_path / "map.ctf"
    save_map_ctf(p, m, rec.data.reflections.phase)
    c = load_map_ctf(p)
    ny, nx = m.grid_index.shape
    assert c.header["XCells"] == nx and c.header["YCells"] == ny and c.header["XStep"] == 1.0
    assert c.header["laue_group"] == 11 and c.header["space_group"] == 225
    U = c.grid(c.U_sample)
    gi = m.grid_index
    want = np.full(gi.shape + (3, 3), np.nan)
    inside = gi >= 0
    want[inside] = m.orientation[gi[inside]]
    ok = np.isfinite(want[..., 0, 0])
    np.testing.assert_array_equal(np.isfinite(U[..., 0, 0]), ok)
    np.testing.assert_allclose(U[ok], want[ok], atol=1e-6)  # Euler angles with 5 decimals
    # positions: X = xs - xmin, Y = ymax - ys (row of largest ys first)
    xs_grid = np.broadcast_to(m.grid_x[None, :], gi.shape)
    ys_grid = np.broadcast_to(m.grid_y[:, None], gi.shape)
    np.testing.assert_allclose(c.grid(c.x), xs_grid - m.grid_x[0])
    np.testing.assert_allclose(c.grid(c.y), m.grid_y[-1] - ys_grid)
    bc = c.grid(c.bc)
    np.testing.assert_array_equal(bc[inside & ok], np.round(255 * m.confidence[gi[inside & ok]]))
    (tmp_path / "bad.ctf").write_text("Channel Text File\nXCells\t2\n")
    with pytest.raises(ValueError, match=r"bad.ctf: no 'Phase X Y"):
        load_map_ctf(tmp_path / "bad.ctf")


def test_orix_reads_our_ctf(rec, tmp_path):
    """orix (the EBSD toolkit of the pyxem project) reads our .ctf: phase, positions and orientations."""
    orix_io = pytest.importorskip("orix.io")
    m = rec.subpixel
    p = tmp_path / "map.ctf"
    save_map_ctf(p, m, rec.data.reflections.phase)
    c = load_map_ctf(p)
    xm = orix_io.load(str(p))
    assert xm.phases[1].point_group.name == "m-3m" and xm.phases[1].space_group.number == 225
    np.testing.assert_allclose(xm.x, c.x)
    np.testing.assert_allclose(xm.y, c.y)
    sel = c.phase > 0
    assert int(np.sum(xm.phase_id == 1)) == int(sel.sum())
    # orix's rotations are EBSD's passive sample-to-crystal matrices g = U_ctf^T (export rule 2)
    R = xm.rotations.to_matrix()
    np.testing.assert_allclose(R[sel], np.swapaxes(c.U_ctf[sel], 1, 2), atol=1e-12)


def test_hexagonal_map_exports(tmp_path):
    orix_io = pytest.importorskip("orix.io")
    ti = HexagonalPhase.titanium()
    r = reconstruct_phantom(diameter_um=30, n_grains=2, seed=3, omega_step_deg=2.0, phase=ti, tth_max_deg=14)
    save_map_ctf(tmp_path / "ti.ctf", r.subpixel, ti)
    xm = orix_io.load(str(tmp_path / "ti.ctf"))
    assert xm.phases[1].point_group.name == "6/mmm" and xm.phases[1].name == "alpha-Ti"
    np.testing.assert_allclose(xm.phases[1].structure.lattice.abcABG(), ti.unit_cell, atol=1e-4)
    save_map_hdf5(tmp_path / "ti.h5", r.subpixel, ti)
    with h5py.File(tmp_path / "ti.h5", "r") as h:
        assert h["map"].attrs["symmetry"] == "hexagonal"
        ok = r.subpixel.candidate >= 0
        L = np.linalg.norm(h["map/ubi"][()][ok], axis=2)
        np.testing.assert_allclose(L, np.broadcast_to([2.951, 2.951, 4.686], L.shape), rtol=1e-9)
