"""ImageD11 interop both ways (columnfiles, .par, grain files) checked with ImageD11 itself; maps from peak tables."""

from __future__ import annotations

import contextlib
import io
import os

import numpy as np
import pytest

from superres_widgets.s3dxrd import (
    evaluate_map,
    reconstruct_phantom,
    specimen_to_sample,
    ubi_from_orientation,
)
from superres_widgets.s3dxrd.columnfile import (
    detector_angles,
    detector_pixels,
    read_columnfile,
    read_par,
    write_columnfile,
    write_par,
)
from superres_widgets.s3dxrd.peakmaps import reconstruct_from_peaks, scan_from_peaks

id11_columnfile = pytest.importorskip("ImageD11.columnfile")
id11_transform = pytest.importorskip("ImageD11.transform")
id11_parameters = pytest.importorskip("ImageD11.parameters")
id11_grain = pytest.importorskip("ImageD11.grain")

REALISTIC = dict(detection_probability=0.8, noise_eta_deg=0.05, noise_omega_deg=0.05, spurious_per_frame=1.0)


@pytest.fixture(scope="module")
def scan():
    return reconstruct_phantom(diameter_um=60, n_grains=6, seed=1, omega_step_deg=1.0, **REALISTIC, scorer="likelihood")


def _quiet(fn, *a, **k):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*a, **k)


@pytest.mark.parametrize("ext", ["flt", "h5"])
def test_imaged11_reads_our_columnfile_and_computes_our_angles(scan, tmp_path, ext):
    d = scan.data
    out = write_columnfile(d, tmp_path / f"scan.{ext}", y0_um=1.5)
    colf = _quiet(id11_columnfile.columnfile, str(out["columnfile"]))
    colf.parameters.loadparameters(out["par"])
    _quiet(colf.updateGeometry)  # ImageD11's own detector model and our far-field .par
    assert colf.nrows == d.n_peaks
    np.testing.assert_allclose(colf.tth, d.tth_deg, atol=1e-7)
    np.testing.assert_allclose(colf.eta, d.eta_deg, atol=1e-7)
    np.testing.assert_allclose(colf.omega, d.omega_deg, atol=1e-9)
    np.testing.assert_allclose(colf.dty, 1.5 - d.geometry.x_positions[d.k], atol=1e-9)  # dty = y0 - X
    # its unit cell from our .par has our rings
    from ImageD11.unitcell import unitcell_from_parameters

    uc = unitcell_from_parameters(colf.parameters)
    uc.makerings(float(colf.ds.max()) + 0.01)
    ring_ds = 1.0 / d.reflections.ring_d_angstrom
    np.testing.assert_allclose(np.array(uc.ringds)[: ring_ds.size], ring_ds, rtol=1e-9)


def test_we_read_what_imaged11_writes(tmp_path):
    rng = np.random.default_rng(3)
    n = 50
    c = id11_columnfile.columnfile(filename="x", new=True)
    vals = dict(sc=rng.uniform(0, 2000, n), fc=rng.uniform(0, 2000, n), omega=rng.uniform(0, 180, n),
                dty=rng.integers(-5, 6, n) * 2.0, sum_intensity=rng.uniform(1, 10, n))
    c.nrows = n
    for k, v in vals.items():
        c.addcolumn(v, k)
    pars = dict(distance=150000.0, y_size=75.0, z_size=75.0, y_center=1024.0, z_center=1000.0, tilt_x=0.002,
                tilt_y=-0.003, tilt_z=0.001, o11=1, o12=0, o21=0, o22=-1, wavelength=0.28, omegasign=1.0,
                t_x=0.0, t_y=0.0, t_z=0.0, wedge=0.0, chi=0.0)
    for k, v in pars.items():
        c.parameters.parameters[k] = v
    _quiet(c.updateGeometry)
    c.writefile(str(tmp_path / "id11.flt"))
    id11_columnfile.colfile_to_hdf(c, str(tmp_path / "id11.h5"), name="peaks")
    write_par(tmp_path / "id11.par", pars)
    for f in ("id11.flt", "id11.h5"):
        t = read_columnfile(tmp_path / f)
        np.testing.assert_allclose(t.tth_deg, c.tth, atol=6e-5)  # ImageD11 writes tth with %.4f
        np.testing.assert_allclose(t.dty_um, c.dty)
        np.testing.assert_allclose(t.intensity, c.sum_intensity, atol=6e-5)
    # without tth/eta columns: our detector model from sc, fc and the .par
    (tmp_path / "raw.flt").write_text(
        "#  sc  fc  omega  dty\n" + "\n".join(f"{a:.17g} {b:.17g} {w:.17g} {y:.17g}" for a, b, w, y in
                                              zip(vals["sc"], vals["fc"], vals["omega"], vals["dty"]))
    )
    t = read_columnfile(tmp_path / "raw.flt", tmp_path / "id11.par")
    np.testing.assert_allclose(t.tth_deg, c.tth, atol=1e-9)
    np.testing.assert_allclose(t.eta_deg, c.eta, atol=1e-9)


def test_detector_model_matches_imaged11_with_tilts_and_translations():
    rng = np.random.default_rng(7)
    for _ in range(5):
        p = dict(distance=rng.uniform(1e5, 3e5), y_size=rng.uniform(40, 80), z_size=rng.uniform(40, 80),
                 y_center=rng.uniform(900, 1100), z_center=rng.uniform(900, 1100),
                 tilt_x=rng.normal(0, 0.01), tilt_y=rng.normal(0, 0.01), tilt_z=rng.normal(0, 0.01),
                 o11=1.0, o12=0.0, o21=0.0, o22=-1.0, t_x=rng.normal(0, 50), t_y=rng.normal(0, 50),
                 t_z=rng.normal(0, 5), wedge=0.0, chi=0.0)
        sc, fc, om = rng.uniform(0, 2048, 40), rng.uniform(0, 2048, 40), rng.uniform(-180, 180, 40)
        tth, eta = detector_angles(sc, fc, om, p)
        t_ref, e_ref = id11_transform.compute_tth_eta((sc, fc), omega=om, **p)
        np.testing.assert_allclose(tth, t_ref, atol=1e-9)
        np.testing.assert_allclose(eta, e_ref, atol=1e-9)
        p0 = dict(p, t_x=0.0, t_y=0.0, t_z=0.0)
        tth0, eta0 = detector_angles(sc, fc, om, p0)
        sc2, fc2 = detector_pixels(tth0, eta0, p0)  # the inverse, tilted detector
        np.testing.assert_allclose(sc2, sc, atol=1e-6)
        np.testing.assert_allclose(fc2, fc, atol=1e-6)


def test_par_round_trip_and_imaged11_reads_it(tmp_path):
    pars = {"wavelength": 0.2479, "distance": 1.5e5, "cell__a": 4.0495, "cell_lattice_[P,A,B,C,I,F,R]": 225}
    write_par(tmp_path / "a.par", pars)
    back = read_par(tmp_path / "a.par")
    assert back["wavelength"] == 0.2479 and back["cell_lattice_[P,A,B,C,I,F,R]"] == 225.0
    p = id11_parameters.read_par_file(str(tmp_path / "a.par"))
    assert p.get("wavelength") == pytest.approx(0.2479) and p.get("cell_lattice_[P,A,B,C,I,F,R]") == 225
    (tmp_path / "bad.par").write_text("wavelength 0.2 extra\n")
    with pytest.raises(ValueError, match=r"bad.par:1: expected 'name value'"):
        read_par(tmp_path / "bad.par")


@pytest.mark.parametrize("ext", ["flt", "h5"])
def test_scan_round_trip_and_maps_from_the_file_equal_the_maps_from_the_simulation(scan, tmp_path, ext):
    out = write_columnfile(scan.data, tmp_path / f"scan.{ext}")
    data, dropped = scan_from_peaks(read_columnfile(out["columnfile"], out["par"]))
    assert dropped == {}
    a = scan.data
    assert data.geometry == a.geometry and data.n_bins == a.n_bins
    for k in ("k", "j", "ring", "eta_deg", "omega_deg", "tth_deg"):
        np.testing.assert_array_equal(getattr(data, k), getattr(a, k))
    for scorer in ("likelihood", "nprime"):
        r = reconstruct_from_peaks(out["columnfile"], parameters=out["par"], candidates=scan.candidates,
                                   radius_um=scan.phantom.radius_um, scorer=scorer)
        ref = scan.subpixel if scorer == "likelihood" else reconstruct_phantom(
            diameter_um=60, n_grains=6, seed=1, omega_step_deg=1.0, **REALISTIC, candidates=scan.candidates
        ).subpixel
        np.testing.assert_array_equal(r.subpixel.candidate, ref.candidate)


def test_reconstruct_from_peaks_indexes_and_uses_grain_file_translations(scan, tmp_path):
    r = reconstruct_from_peaks(scan.data)  # global indexing, likelihood scorer, no phantom anywhere
    assert r.candidate_source == "indexing" and r.candidates.shape[0] == 6
    ev = evaluate_map(r.subpixel, scan.phantom, interior_margin_um=4.0).evaluation
    assert ev.fraction_correct > 0.95
    # an ImageD11 grain file with the fitted centres as translations (sample frame)
    cen = r.subpixel.model.centres_um
    sx, sy = specimen_to_sample(cen[:, 0], cen[:, 1])
    grains = [id11_grain.grain(ubi_from_orientation(U, scan.data.reflections.phase), translation=(x, y, 0.0))
              for U, x, y in zip(r.candidates, sx, sy)]
    id11_grain.write_grain_file(str(tmp_path / "g.map"), grains)
    g = reconstruct_from_peaks(scan.data, candidates=tmp_path / "g.map")
    np.testing.assert_allclose(g.candidate_centres_um, cen, atol=1e-4)
    assert g.subpixel.model is not None
    np.testing.assert_array_equal(g.subpixel.candidate, r.subpixel.candidate)


def test_bad_input_is_named(scan, tmp_path):
    (tmp_path / "nodty.flt").write_text("#  omega  tth  eta\n1 2 3\n")
    with pytest.raises(ValueError, match=r"nodty.flt: missing column 'dty'"):
        read_columnfile(tmp_path / "nodty.flt")
    (tmp_path / "noang.flt").write_text("#  omega  dty\n1 2\n")
    with pytest.raises(ValueError, match=r"noang.flt: missing columns 'tth' and 'eta'"):
        read_columnfile(tmp_path / "noang.flt")
    (tmp_path / "pix.flt").write_text("#  omega  dty  sc  fc\n1 2 3 4\n")
    with pytest.raises(ValueError, match=r"pix.flt: .*detector parameters"):
        read_columnfile(tmp_path / "pix.flt")
    (tmp_path / "ok.flt").write_text("# dty_unit = furlong\n#  omega  dty  tth  eta\n1 2 3 4\n")
    with pytest.raises(ValueError, match=r"ok.flt: unknown dty unit 'furlong'; valid: \['mm', 'nm', 'um'\]"):
        read_columnfile(tmp_path / "ok.flt")
    (tmp_path / "nan.flt").write_text("#  omega  dty  tth  eta\nnan 0 3 4\n")
    with pytest.raises(ValueError, match=r"nan.flt: no peak left \(1 rows"):
        read_columnfile(tmp_path / "nan.flt")
    with pytest.raises(ValueError, match="omega_unit"):
        read_columnfile(tmp_path / "ok.flt", dty_unit="um", omega_unit="grad")
    # dropped rows are counted, never silent
    out = write_columnfile(scan.data, tmp_path / "scan.flt")
    lines = open(out["columnfile"]).read().splitlines()
    head = [ln for ln in lines if ln.startswith("#")]
    rows = [ln for ln in lines if not ln.startswith("#")]
    titles = head[-1][1:].split()
    bad = rows[0].split()
    bad[titles.index("omega")] = "nan"
    off = rows[1].split()
    off[titles.index("tth")] = "3.0"  # on no ring
    far = rows[2].split()
    far[titles.index("dty")] = "1000"  # outside the scan
    edited = head + ["  ".join(bad), "  ".join(off), "  ".join(far)] + rows[3:]
    (tmp_path / "edited.flt").write_text("\n".join(edited) + "\n")
    pt = read_columnfile(tmp_path / "edited.flt", out["par"])
    assert pt.dropped == {"nan": 1} and pt.n_read == scan.data.n_peaks
    from superres_widgets.s3dxrd import ScanGeometry

    g = scan.data.geometry
    given = ScanGeometry(x_range=g.x_range, step=g.step, omega_deg=g.omega_deg, unit="um")
    data, dropped = scan_from_peaks(pt, geometry=given)
    assert dropped == {"nan": 1, "off_ring": 1, "outside_scan": 1}
    assert data.n_peaks == scan.data.n_peaks - 3
    r = reconstruct_from_peaks(pt, candidates=scan.candidates, geometry=given)
    assert r.dropped == {"nan": 1, "off_ring": 1, "outside_scan": 1}
    # a grain file whose cell does not match the phase, a translation outside the scan
    (tmp_path / "big.ubi").write_text("5 0 0\n0 5 0\n0 0 5\n")
    with pytest.raises(ValueError, match=r"big.ubi:1: UBI cell a = 5 A does not match the phase"):
        reconstruct_from_peaks(scan.data, candidates=tmp_path / "big.ubi")
    (tmp_path / "far.map").write_text("#translation: 500 0 0\n4.0495 0 0\n0 4.0495 0\n0 0 4.0495\n")
    with pytest.raises(ValueError, match=r"far.map:2: grain 0 translation \(500, 0\) um is outside the scanned field"):
        reconstruct_from_peaks(scan.data, candidates=tmp_path / "far.map")
    with pytest.raises(ValueError, match="peaks must be ScanData"):
        reconstruct_from_peaks(42)
    with pytest.raises(FileNotFoundError):
        read_columnfile(tmp_path / "missing.flt")
    assert os.path.exists(out["par"])


def test_imaged11_point_by_point_runs_on_our_scan_in_our_frame():
    """ImageD11's own per-point indexing on our written scan: its map agrees with ours point by point."""
    pytest.importorskip("ImageD11.sinograms.point_by_point")
    from superres_widgets.s3dxrd.crystal import misorientation_table
    from superres_widgets.s3dxrd.pbp import imaged11_point_by_point

    r = reconstruct_phantom(diameter_um=40, n_grains=3, seed=2, omega_step_deg=2.0)
    p = imaged11_point_by_point(r.data)
    m = p.map
    assert m.n_targets == r.conventional.n_targets and m.scorer == "imaged11-pbp"
    ev = evaluate_map(m, r.phantom).evaluation
    assert ev.fraction_correct > 0.85  # ImageD11 finds the grains where they are (a mirrored frame: ~1/3)
    mis = p.misorientation_deg(r.phantom)
    assert np.nanmedian(mis) < 0.1
    ours = r.conventional
    both = (m.candidate >= 0) & (ours.candidate >= 0)
    same = misorientation_table(m.U, ours.U)[m.candidate[both], ours.candidate[both]] < 3.0
    assert same.mean() > 0.85
