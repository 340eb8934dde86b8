"""Issue 12, "Bad input": ImageD11 columnfiles, units, NaN rows, grain files and peaks outside the scan.

Every case is either an error ``"<file>: <reason>"`` / a ``ValueError`` naming the parameter (the exact
message is asserted), or rows left out AND counted: ``n_peaks + sum(dropped) == rows read`` in the result.
"""

from __future__ import annotations

import re

import h5py
import numpy as np
import pytest

from superres_widgets.s3dxrd import CubicPhase, ScanGeometry, reconstruct_phantom, simulate_scan, voronoi_phantom
from superres_widgets.s3dxrd.columnfile import read_columnfile, write_columnfile
from superres_widgets.s3dxrd.grainfile import orientations_from_grain_file
from superres_widgets.s3dxrd.peakmaps import reconstruct_from_peaks, scan_from_peaks
from superres_widgets.s3dxrd.phases import HexagonalPhase

A_AL = CubicPhase().a_angstrom


@pytest.fixture(scope="module")
def scan():
    """A 40 um, 4-grain ideal scan (4 um beam and step, 1 deg bins) and its phantom."""
    ph = voronoi_phantom(40, 4, np.random.default_rng(1), pixel_um=0.5)
    return ph, simulate_scan(ph, CubicPhase(), beam_um=4, step_um=4, omega_step_deg=1.0, seed=2).data


@pytest.fixture()
def flt(scan, tmp_path):
    """The scan written as an ImageD11 .flt + .par; returns (paths, header lines, column titles, rows)."""
    out = write_columnfile(scan[1], tmp_path / "scan.flt")
    lines = open(out["columnfile"]).read().splitlines()
    head = [ln for ln in lines if ln.startswith("#")]
    rows = [ln.split() for ln in lines if not ln.startswith("#")]
    return out, head, head[-1][1:].split(), rows


def _write(path, head, rows):
    path.write_text("\n".join(head + ["  ".join(r) for r in rows]) + "\n")
    return path


def _exact(msg: str) -> str:
    return "^" + re.escape(msg) + "$"


def _accounted(data, dropped, n_read):
    assert data.n_peaks + sum(dropped.values()) == n_read


# --- columnfiles missing a needed column ------------------------------------------------------------------
def test_missing_omega_or_dty_names_the_file_and_the_columns(tmp_path):
    p = tmp_path / "noomega.flt"
    p.write_text("#  dty  tth  eta\n0 5 30\n")
    with pytest.raises(ValueError, match=_exact(f"{p}: missing column 'omega' (columns: ['dty', 'eta', 'tth'])")):
        read_columnfile(p)
    p = tmp_path / "nodty.flt"
    p.write_text("#  omega  tth  eta\n1 5 30\n")
    with pytest.raises(ValueError, match=_exact(f"{p}: missing column 'dty' (columns: ['eta', 'omega', 'tth'])")):
        read_columnfile(p)


def test_missing_angle_columns_and_detector_parameters(tmp_path):
    p = tmp_path / "noeta.flt"
    p.write_text("#  omega  dty  tth\n1 0 5\n")
    with pytest.raises(
        ValueError, match=_exact(f"{p}: missing columns 'tth' and 'eta' (or 'sc' and 'fc' with a .par file)")
    ):
        read_columnfile(p)
    p = tmp_path / "pixels.flt"
    p.write_text("#  omega  dty  sc  fc\n1 0 3 4\n")
    with pytest.raises(
        ValueError,
        match=_exact(
            f"{p}: columns tth/eta absent and the detector parameters ['distance', 'y_size', 'z_size', "
            "'y_center', 'z_center'] unknown: give parameters= (an ImageD11 .par file)"
        ),
    ):
        read_columnfile(p)
    # with only some detector parameters, only the missing ones are named
    with pytest.raises(ValueError, match=re.escape("detector parameters ['z_size', 'y_center', 'z_center'] unknown")):
        read_columnfile(p, {"distance": 1e5, "y_size": 50.0})


def test_missing_column_in_hdf5_and_missing_scan_parameters(scan, tmp_path):
    out = write_columnfile(scan[1], tmp_path / "scan.h5")
    with h5py.File(out["columnfile"], "a") as h:
        del h["peaks/dty"]
    with pytest.raises(ValueError, match=re.escape(f"{out['columnfile']}: missing column 'dty' (columns: [")):
        read_columnfile(out["columnfile"], out["par"])
    # the wavelength and the omega step are needed too: named, with how to give them
    p = tmp_path / "bare.flt"
    p.write_text("#  omega  dty  tth  eta\n10.2 0 5 30\n")
    with pytest.raises(
        ValueError, match=_exact(f"{p}: wavelength unknown: give wavelength_angstrom= or energy_keV= or a .par file")
    ):
        scan_from_peaks(read_columnfile(p))
    with pytest.raises(
        ValueError,
        match=_exact(
            f"{p}: omega_step_deg unknown (no frame_omega column, no omega_step in the header): give omega_step_deg="
        ),
    ):
        scan_from_peaks(read_columnfile(p), wavelength_angstrom=0.3)


def test_no_rows_at_all(tmp_path):
    p = tmp_path / "empty.flt"
    p.write_text("# wavelength = 0.3\n#  omega  dty  tth  eta\n")
    msg = f"{p}: no peak rows (columns ['dty', 'eta', 'omega', 'tth'] are empty)"
    with pytest.raises(ValueError, match=_exact(msg)):
        read_columnfile(p)
    p = tmp_path / "notitles.flt"
    p.write_text("1 2 3 4\n")
    with pytest.raises(ValueError, match=_exact(f"{p}:1: a data row before the '#  title ...' line")):
        read_columnfile(p)
    p = tmp_path / "short.flt"
    p.write_text("#  omega  dty  tth  eta\n1 2 3\n")
    with pytest.raises(ValueError, match=_exact(f"{p}:2: expected 4 numbers, got 3")):
        read_columnfile(p)


# --- unknown units ----------------------------------------------------------------------------------------
def test_unknown_units_name_the_file_the_value_and_the_valid_ones(flt, tmp_path):
    out, head, titles, rows = flt
    p = _write(tmp_path / "furlong.flt", [h.replace("# dty_unit = um", "# dty_unit = furlong") for h in head], rows)
    with pytest.raises(
        ValueError, match=_exact(f"{p}: unknown dty unit 'furlong'; valid: ['mm', 'nm', 'um'] (dty_unit=)")
    ):
        read_columnfile(p, out["par"])
    with pytest.raises(
        ValueError, match=_exact(f"{out['columnfile']}: unknown dty unit 'inch'; valid: ['mm', 'nm', 'um'] (dty_unit=)")
    ):
        read_columnfile(out["columnfile"], dty_unit="inch")
    with pytest.raises(ValueError, match=_exact("omega_unit must be 'deg' or 'rad', got 'grad'")):
        read_columnfile(out["columnfile"], omega_unit="grad")
    # a valid unit is applied: dty in mm is 1000x the um value
    um = read_columnfile(out["columnfile"], dty_unit="um")
    mm = read_columnfile(out["columnfile"], dty_unit="mm")
    np.testing.assert_allclose(mm.dty_um, 1000.0 * um.dty_um)


# --- NaN rows: dropped and counted all the way to the result ----------------------------------------------
def test_nan_rows_are_counted_in_the_peak_table_the_scan_and_the_reconstruction(scan, flt, tmp_path):
    ph, data0 = scan
    out, head, titles, rows = flt
    rows = [list(r) for r in rows]
    rows[0][titles.index("omega")] = "nan"
    rows[1][titles.index("eta")] = "inf"
    rows[2][titles.index("frame_omega")] = "nan"
    rows[3][titles.index("sum_intensity")] = "nan"  # not a needed column: the peak is kept
    p = _write(tmp_path / "nan.flt", head, rows)
    pt = read_columnfile(p, out["par"])
    assert pt.n_read == data0.n_peaks == len(rows)
    assert pt.dropped == {"nan": 3} and pt.n_peaks == data0.n_peaks - 3
    data, dropped = scan_from_peaks(pt)
    assert dropped == {"nan": 3}
    _accounted(data, dropped, pt.n_read)
    r = reconstruct_from_peaks(p, parameters=out["par"], candidates=ph.orientations, scorer="nprime")
    assert r.dropped == {"nan": 3} and r.parameters["dropped"] == {"nan": 3}
    _accounted(r.data, r.dropped, pt.n_read)
    # NaN in the detector pixel: its angles are NaN, so it is counted as well
    p = tmp_path / "pix.flt"
    p.write_text("#  omega  dty  sc  fc\n1 0 nan 4\n2 0 3 4\n")
    pt = read_columnfile(p, {"distance": 1e5, "y_size": 50.0, "z_size": 50.0, "y_center": 0.0, "z_center": 0.0})
    assert pt.dropped == {"nan": 1} and pt.n_peaks == 1 and pt.n_read == 2
    p = tmp_path / "allnan.flt"
    p.write_text("#  omega  dty  tth  eta\nnan 0 3 4\n1 nan 3 4\n")
    with pytest.raises(ValueError, match=_exact(f"{p}: no peak left (2 rows, all with NaN or inf in a needed column)")):
        read_columnfile(p)


# --- grain files whose cell does not match the phase ------------------------------------------------------
def test_grain_file_cell_must_match_the_phase(scan, tmp_path):
    data = scan[1]
    p = tmp_path / "big.ubi"
    p.write_text("5 0 0\n0 5 0\n0 0 5\n")
    msg = f"{p}:1: UBI cell a = 5 A does not match the phase (a_angstrom = {A_AL:.4g})"
    with pytest.raises(ValueError, match=_exact(msg)):
        reconstruct_from_peaks(data, candidates=p)
    with pytest.raises(ValueError, match=_exact(msg)):  # checked before any simulation
        reconstruct_phantom(diameter_um=40, n_grains=4, candidates=p)
    p = tmp_path / "tetra.map"
    p.write_text(f"#translation: 0 0 0\n{A_AL} 0 0\n0 {A_AL} 0\n0 0 4.6\n")
    with pytest.raises(
        ValueError,
        match=_exact(
            f"{p}:2: UBI is not a cubic cell (a, b, c = 4.05, 4.05, 4.6 A; angles 90.00, 90.00, 90.00 deg; "
            "cell_tol=0.05, angle_tol_deg=2)"
        ),
    ):
        reconstruct_from_peaks(data, candidates=p)
    # a non-cubic phase compares the whole cell
    p = tmp_path / "al_for_ti.ubi"
    p.write_text(f"{A_AL} 0 0\n0 {A_AL} 0\n0 0 {A_AL}\n")
    with pytest.raises(
        ValueError,
        match=_exact(
            f"{p}:1: UBI cell (a, b, c = 4.05, 4.05, 4.05 A; angles 90.00, 90.00, 90.00 deg) does not match the "
            "phase (2.951, 2.951, 4.686, 90.0, 90.0, 120.0)"
        ),
    ):
        orientations_from_grain_file(p, HexagonalPhase.titanium())
    with pytest.raises(ValueError, match=_exact("cell_tol must be a finite number in (0, 1), got 0")):
        orientations_from_grain_file(p, CubicPhase(), cell_tol=0)
    # a matching cell is accepted and gives the identity
    np.testing.assert_allclose(orientations_from_grain_file(p, CubicPhase())[0], np.eye(3), atol=1e-12)


# --- peaks outside the scan -------------------------------------------------------------------------------
def test_peaks_outside_the_scan_are_counted_not_a_wider_scan(scan, flt, tmp_path):
    ph, data0 = scan
    out, head, titles, rows = flt
    rows = [list(r) for r in rows]
    rows[0][titles.index("dty")] = "1000"  # beyond the header's x_range = 22 um
    rows[1][titles.index("dty")] = "1.5"  # between two motor positions of a given geometry
    p = _write(tmp_path / "far.flt", head, rows)
    pt = read_columnfile(p, out["par"])
    assert pt.dropped == {}
    data, dropped = scan_from_peaks(pt)  # the scan of the header: the far peak does not widen it
    assert data.geometry == data0.geometry
    assert dropped == {"outside_scan": 2} and data.n_peaks == data0.n_peaks - 2
    _accounted(data, dropped, pt.n_read)
    g = data0.geometry
    given = ScanGeometry(x_range=g.x_range, step=g.step, omega_deg=g.omega_deg, unit="um")
    data, dropped = scan_from_peaks(pt, geometry=given)
    assert dropped == {"outside_scan": 2} and data.n_peaks == data0.n_peaks - 2
    r = reconstruct_from_peaks(pt, geometry=given, candidates=ph.orientations, scorer="nprime")
    assert r.dropped == {"outside_scan": 2}
    _accounted(r.data, r.dropped, pt.n_read)
    # omega outside the bins given: counted
    data, dropped = scan_from_peaks(read_columnfile(out["columnfile"], out["par"]), omega_range_deg=90.0)
    n_late = int(np.sum(data0.geometry.omega_deg[data0.j] > 90.0))
    assert n_late > 0 and dropped == {"outside_scan": n_late}
    _accounted(data, dropped, data0.n_peaks)
    # every peak outside: an error with the counts
    with pytest.raises(
        ValueError,
        match=_exact(
            f"{p}: no peak left on a ring of the phase inside the scan (dropped: {{'outside_scan': {pt.n_read}}})"
        ),
    ):
        scan_from_peaks(pt, omega_start_deg=500.0)
    with pytest.raises(ValueError, match=_exact("ds_tol must be > 0, got -1")):
        scan_from_peaks(pt, ds_tol=-1)


def test_header_x_range_must_be_a_number(flt, tmp_path):
    out, head, titles, rows = flt
    p = _write(tmp_path / "xr.flt", [h.replace("# x_range = 22.0", "# x_range = wide") for h in head], rows)
    msg = "x_range (columnfile header) must be a finite number >= 0, got 'wide'"
    with pytest.raises(ValueError, match=_exact(msg)):
        scan_from_peaks(read_columnfile(p, out["par"]))


def test_off_ring_peaks_and_grain_translations_outside_the_field(scan, flt, tmp_path):
    ph, data0 = scan
    out, head, titles, rows = flt
    rows = [list(r) for r in rows]
    rows[0][titles.index("tth")] = "3.0"  # on no ring of aluminium
    pt = read_columnfile(_write(tmp_path / "off.flt", head, rows), out["par"])
    data, dropped = scan_from_peaks(pt)
    assert dropped == {"off_ring": 1}
    _accounted(data, dropped, pt.n_read)
    p = tmp_path / "far.map"
    p.write_text(f"#translation: 500 0 0\n{A_AL} 0 0\n0 {A_AL} 0\n0 0 {A_AL}\n")
    reach = data0.geometry.x_range + data0.geometry.beam_width / 2 + data0.geometry.step
    with pytest.raises(
        ValueError,
        match=_exact(f"{p}:2: grain 0 translation (500, 0) um is outside the scanned field (radius {reach:.4g} um)"),
    ):
        reconstruct_from_peaks(data0, candidates=p)
