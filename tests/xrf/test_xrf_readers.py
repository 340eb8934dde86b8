"""Beamline file formats (issue 13): the real 2-ID-E MDA scans, and faithfully built MAPS, NeXus and x/y tables."""

from __future__ import annotations

import pathlib
import struct
import warnings

import numpy as np
import pytest

from superres_widgets.io import MapFileError, PixelSizeWarning, load_map, reader_for

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "xrf-maps-2ide"  # committed with its LICENSE
h5py = pytest.importorskip("h5py")


def _real(name):
    path = DATA / name
    assert path.is_file(), f"{path} is missing (the 2-ID-E files are committed in data/)"
    return path


# ------------------------------------------------------------------------------------- MDA, real

def test_the_real_step_scan_2xfm_0010():
    m = load_map(_real("2xfm_0010.mda"))
    md = m.metadata
    assert md["file_format"] == "mda" and md["mda_version"] == 1.3 and md["scan_number"] == 10
    assert md["dimensions"] == [11, 11, 2000] and m.data.shape == (69, 11, 11)
    # the positioners: Sample Y (outer) and Sample X, 0.05 mm steps -> 50 um pixels
    assert md["positioners"] == {"x": "2xfm:m200.VAL", "y": "2xfm:m13.VAL"}
    assert m.pixel_size_um == 50.0 and md["pixel_size_source"] == "mda positioners"
    np.testing.assert_allclose(np.diff(md["x_um"]), 50.0, atol=1e-6)
    np.testing.assert_allclose(np.diff(md["y_um"]), 50.0, atol=1e-6)
    names = md["channels"]
    assert names[:2] == ["2xfm:scaler3_cts1.A", "2xfm:scaler3_cts1.B"] and len(names) == 69
    # ROI sums are named by their region's element line, from the extra PVs saved with the scan
    rois = [d["name"] for d in md["detectors"] if "ROISUM" in d["name"]]
    assert rois == [f"dxpXMAP2xfm3:ROISUM_{i}.VAL" for i in range(1, 23)]
    assert names[names.index("Na Ka"):names.index("Cu Ka") + 1] == [
        "Na Ka", "Mg Ka", "Al Ka", "Si Ka", "P Ka", "Au Ma1", "S Ka", "Cl Ka", "Ar Ka", "K Ka", "Ca Ka", "Ti Ka",
        "V Ka", "Cr Ka", "Mn Ka", "Gd La1", "Fe Ka", "Gd Lb1", "Co Ka", "Gd Lb2", "Ni Ka", "Cu Ka"]
    assert md["extra_pvs"]["dxpXMAP2xfm3:mca1.R16NM"] == "Fe Ka" and md["extra_pvs"]["dxpXMAP2xfm3:mca1.R16LO"] == 660
    assert m.channel("Fe Ka").data.sum() == 244 and m.channel("Ca Ka").data.sum() == 3973
    # physically sensible values prove the byte alignment: the APS ring current ~100 mA,
    # ROI sums are non-negative integer counts, elapsed real time positive
    ring = m.channel("S:SRcurrentAI").data
    assert np.all((ring > 90) & (ring < 110))
    roi = m.channel("Na Ka").data
    assert np.all(roi >= 0) and np.all(roi == np.round(roi))
    assert np.all(m.channel("dxpXMAP2xfm3:ElapsedReal").data > 0)
    assert md.get("masked_pixels", 0) == 0


def test_the_real_fly_scan_2xfm_0011_and_scaler_normalisation():
    m = load_map(_real("2xfm_0011.mda"))
    md = m.metadata
    assert m.data.shape == (52, 11, 11) and md["dimensions"] == [11, 11]
    assert m.pixel_size_um == 50.0 and "outer positioner" in md["x_unit_assumed"]
    ref = m.channel("2xfm:mcs:mca2.VAL").data
    n = load_map(_real("2xfm_0011.mda"), normalize="2xfm:mcs:mca2.VAL")
    assert n.metadata["normalized_by"] == "2xfm:mcs:mca2.VAL"
    np.testing.assert_allclose(n.channel("2xfm:mcs:mca5.VAL").data,
                               np.where(ref != 0, m.channel("2xfm:mcs:mca5.VAL").data / np.where(ref != 0, ref, 1),
                                        np.nan), equal_nan=True)
    with pytest.raises(MapFileError, match=r"normalize='US_IC' is not a detector of this scan; detectors: "
                                           r"\['2xfm:mcs:mca1.VAL'"):
        load_map(_real("2xfm_0011.mda"), normalize="US_IC")


# ----------------------------------------------------------------------------------- MDA, built

def _xdr_string(s: str) -> bytes:
    raw = s.encode()
    if not raw:
        return struct.pack(">i", 0)
    return struct.pack(">ii", len(raw), len(raw)) + raw + b"\0" * ((-len(raw)) % 4)


def _scan_bytes(rank, npts, cpt, offsets, positioners, detectors, pos_data, det_data):
    """A scan record written from the synApps saveData description (independently of the reader)."""
    out = struct.pack(">iii", rank, npts, cpt)
    if rank > 1:
        out += struct.pack(f">{npts}i", *offsets)
    out += _xdr_string("test:scan1") + _xdr_string("DEC 01, 2026 12:00:00")
    out += struct.pack(">iii", len(positioners), len(detectors), 0)
    for num, name, unit in positioners:
        out += struct.pack(">i", num) + b"".join(_xdr_string(t) for t in (name, "desc", "LINEAR", unit, "", "", ""))
    for num, name in detectors:
        out += struct.pack(">i", num) + _xdr_string(name) + _xdr_string("") + _xdr_string("")
    for col in pos_data:
        out += struct.pack(f">{npts}d", *col)
    for col in det_data:
        out += struct.pack(f">{npts}f", *col)
    return out


def _write_mda(path, values, rows_done, cols_done_last, unit="um"):
    """2-D MDA: values (ndet, rows, cols); rows_done rows acquired, the last with cols_done_last points."""
    ndet, n_rows, n_cols = values.shape
    header = struct.pack(">fiiii", 1.3, 42, 2, n_rows, n_cols) + struct.pack(">ii", 1, 0)
    dets = [(i, f"det{i}") for i in range(ndet)]
    outer_len = len(_scan_bytes(2, n_rows, rows_done, [0] * n_rows, [(0, "ymotor", unit)], [], [[0.0] * n_rows], []))
    offsets, inner, pos = [], b"", len(header) + outer_len
    for r in range(n_rows):
        if r >= rows_done:
            offsets.append(0)
            continue
        cpt = cols_done_last if r == rows_done - 1 else n_cols
        rec = _scan_bytes(1, n_cols, cpt, [], [(0, "xmotor", unit)], dets, [[2.5 * c for c in range(n_cols)]],
                          [list(values[d, r]) for d in range(ndet)])
        offsets.append(pos)
        inner += rec
        pos += len(rec)
    outer = _scan_bytes(2, n_rows, rows_done, offsets, [(0, "ymotor", unit)], [], [[2.5 * r for r in range(n_rows)]],
                        [])
    path.write_bytes(header + outer + inner)


def test_a_built_mda_scan_reads_back_with_its_unfinished_points_masked(tmp_path):
    vals = np.arange(2 * 4 * 5, dtype=np.float32).reshape(2, 4, 5)
    f = tmp_path / "aborted.mda"
    _write_mda(f, vals, rows_done=3, cols_done_last=2)
    m = load_map(f)
    assert m.channels == ["det0", "det1"] and m.pixel_size_um == 2.5
    want = vals.astype(float).copy()
    want[:, 3, :] = np.nan  # row never started
    want[:, 2, 2:] = np.nan  # row aborted after 2 points
    np.testing.assert_array_equal(m.data, want)
    assert m.metadata["masked_pixels"] == 2 * 8 and m.mask.sum() == 8
    # the map restores: masked pixels are left out, not an error
    from superres_widgets.xrf import richardson_lucy

    out = richardson_lucy(m.data[1] + 10, np.ones((3, 3)), 5)
    assert np.all(np.isfinite(out))


def test_bad_mda_files_say_what_is_wrong(tmp_path):
    vals = np.ones((1, 3, 3), np.float32)
    good = tmp_path / "good.mda"
    _write_mda(good, vals, 3, 3)
    raw = good.read_bytes()
    (tmp_path / "trunc.mda").write_bytes(raw[:-20])
    with pytest.raises(MapFileError, match=r"trunc\.mda: is truncated: .* data at byte \d+ needs \d+ bytes"):
        load_map(tmp_path / "trunc.mda")
    (tmp_path / "v9.mda").write_bytes(struct.pack(">f", 9.0) + raw[4:])
    with pytest.raises(MapFileError, match=r"v9\.mda: is not an MDA file \(version field 9; this reader knows MDA "
                                           r"1\.3, 1\.4\)"):
        load_map(tmp_path / "v9.mda")
    (tmp_path / "text.mda").write_text("hello, I am a text file")
    with pytest.raises(MapFileError, match=r"text\.mda: is not an MDA file"):
        load_map(tmp_path / "text.mda")


# ------------------------------------------------------------------------------------------ MAPS

def _maps_file(path, legacy=False):
    maps = np.stack([np.full((3, 4), 10.0), np.arange(12.0).reshape(3, 4)])
    with h5py.File(path, "w") as h:
        if legacy:
            h["MAPS/XRF_fits"] = maps
            h["MAPS/XRF_roi"] = maps * 2
            h["MAPS/channel_names"] = np.array([b"Fe", b"Zn"])
            h["MAPS/scaler_names"] = np.array([b"SRcurrent", b"us_ic"])
            h["MAPS/scalers"] = np.stack([np.full((3, 4), 100.0), np.full((3, 4), 2.0)])
            h["MAPS/x_axis"] = -1.5 + 0.01 * np.arange(4)
            h["MAPS/y_axis"] = 3.25 + 0.02 * np.arange(3)
        else:
            for k, grp in enumerate(("Fitted", "NNLS", "ROI")):
                g = h.create_group(f"MAPS/XRF_Analyzed/{grp}")
                g["Counts_Per_Sec"] = maps * (k + 1)
                g["Channel_Names"] = np.array([b"Fe", b"Zn"])
            h["MAPS/Scalers/Names"] = np.array([b"SR_Current", b"US_IC", b"DS_IC"])
            ds_ic = np.full((3, 4), 3.0)
            ds_ic[0, :2] = 0.0  # a beam dump
            h["MAPS/Scalers/Values"] = np.stack([np.full((3, 4), 100.0), np.full((3, 4), 4.0), ds_ic])
            h["MAPS/Scan/x_axis"] = -1.5 + 0.05 * np.arange(4)
            h["MAPS/Scan/y_axis"] = 3.25 + 0.05 * np.arange(3)
    return maps


def test_xrf_maps_layout_channels_axes_scalers(tmp_path):
    f = tmp_path / "2xfm_0011.mda.h5"
    maps = _maps_file(f)
    assert reader_for(f).name == "maps_hdf5"
    m = load_map(f)
    assert m.metadata["analysis"] == "Fitted" and m.channels == ["Fe", "Zn"] and m.pixel_size_um == 50.0
    assert m.metadata["scalers"] == ["SR_Current", "US_IC", "DS_IC"]
    np.testing.assert_array_equal(load_map(f, channel="Zn").data, maps[1])
    roi = load_map(f, analysis="roi", channel="Fe")
    np.testing.assert_array_equal(roi.data, 3 * maps[0])
    norm = load_map(f, normalize="US_IC", channel="Zn")
    np.testing.assert_allclose(norm.data, maps[1] / 4.0)
    dead = load_map(f, normalize="DS_IC", channel="Fe")  # a zero scaler: masked, not inf
    assert dead.metadata["masked_pixels"] == 2 and dead.mask[0, :2].all()
    with pytest.raises(MapFileError, match=r"normalize='I0' is not a scaler of this file; scalers: \['SR_Current', "
                                           r"'US_IC', 'DS_IC'\]"):
        load_map(f, normalize="I0")
    with pytest.raises(MapFileError, match=r"analysis='magic' is not in this file; analyses: \['Fitted', 'NNLS', "
                                           r"'ROI'\]"):
        load_map(f, analysis="magic")
    with pytest.raises(MapFileError, match=r"has no channel 'Cu'; channels: \['Fe', 'Zn'\]"):
        load_map(f, channel="Cu")
    # dataset= still reads any dataset (the generic reader)
    assert load_map(f, dataset="MAPS/Scalers/Values", pixel_size_um=1).shape == (3, 3, 4)


def test_legacy_maps_layout_and_a_maps_group_without_maps(tmp_path):
    f = tmp_path / "old.h5"
    maps = _maps_file(f, legacy=True)
    m = load_map(f, normalize="us_ic")
    assert m.metadata["analysis"] == "fits" and m.channels == ["Fe", "Zn"]
    assert m.pixel_size_um == 10.0 and m.metadata["pixel_size_v_um"] == pytest.approx(20.0)
    np.testing.assert_allclose(m.data, maps / 2.0)
    empty = tmp_path / "empty.h5"
    with h5py.File(empty, "w") as h:
        h["MAPS/mca_arr"] = np.ones((4, 4))
    with pytest.raises(MapFileError, match=r"empty\.h5: has a /MAPS group but no element maps; this reader knows "
                                           r"/MAPS/XRF_Analyzed/\{Fitted,NNLS,ROI\}/Counts_Per_Sec"):
        load_map(empty)


# ----------------------------------------------------------------------------------------- NeXus

def _nx(group, cls):
    group.attrs["NX_class"] = cls
    return group


def test_nexus_nxdata_with_default_chain_axes_and_units(tmp_path):
    f = tmp_path / "scan.nxs"
    data = np.random.default_rng(0).random((3, 5, 6))
    with h5py.File(f, "w") as h:
        h.attrs["default"] = "entry"
        e = _nx(h.create_group("entry"), "NXentry")
        e.attrs["default"] = "xrf"
        d = _nx(e.create_group("xrf"), "NXdata")
        d.attrs["signal"] = "maps"
        d.attrs["axes"] = ["element", "y", "x"]
        d["maps"] = data
        d["element"] = np.array([b"Fe", b"Ca", b"Ti"])
        d["x"] = 10.0 + 0.5 * np.arange(6)
        d["x"].attrs["units"] = "um"
        d["y"] = 20.0 + 0.5 * np.arange(5)
        d["y"].attrs["units"] = "um"
        other = _nx(e.create_group("monitor"), "NXdata")  # a second NXdata: the @default chain decides
        other.attrs["signal"] = "i0"
        other["i0"] = np.ones((5, 6))
    assert reader_for(f).name == "nexus"
    m = load_map(f)
    assert m.metadata["nxdata"] == "/entry/xrf" and m.channels == ["Fe", "Ca", "Ti"] and m.pixel_size_um == 0.5
    np.testing.assert_array_equal(load_map(f, channel="Ca").data, data[1])
    mon = load_map(f, data_group="/entry/monitor", pixel_size_um=0.5)
    assert mon.shape == (5, 6)
    with pytest.raises(MapFileError, match=r"data_group='/entry/nope' is not an NXdata group; NXdata groups: "
                                           r"\['/entry/monitor', '/entry/xrf'\]"):
        load_map(f, data_group="/entry/nope")


def test_nexus_rows_cols_channels_order_and_ambiguous_files(tmp_path):
    f = tmp_path / "fluo.h5"
    data = np.random.default_rng(1).random((8, 9, 2))  # (rows, cols, channels), as some exports write
    with h5py.File(f, "w") as h:
        e = _nx(h.create_group("entry"), "NXentry")
        d = _nx(e.create_group("fluo"), "NXdata")
        d.attrs["signal"] = "data"
        d["data"] = data
        d["data"].attrs["elements"] = "Cu, Zn"
        d.attrs["x_indices"] = 1
        d.attrs["y_indices"] = 0
        d["x"] = np.arange(9) * 2.0
        d["x"].attrs["units"] = "mm"
        d["y"] = np.arange(8) * 2.0
        d["y"].attrs["units"] = "mm"
    m = load_map(f)
    assert m.shape == (2, 8, 9) and m.channels == ["Cu", "Zn"] and m.pixel_size_um == 2000.0
    np.testing.assert_array_equal(m.data[1], data[:, :, 1])
    two = tmp_path / "two.nxs"
    with h5py.File(two, "w") as h:
        e = _nx(h.create_group("entry"), "NXentry")
        for name in ("a", "b"):
            d = _nx(e.create_group(name), "NXdata")
            d.attrs["signal"] = "s"
            d["s"] = np.ones((4, 4))
    with pytest.raises(MapFileError, match=r"two\.nxs: holds 2 NXdata maps; choose one with data_group="):
        load_map(two, pixel_size_um=1)


# ---------------------------------------------------------------------------------- x/y point tables

def test_a_point_table_with_jitter_a_missing_node_and_units(tmp_path):
    rng = np.random.default_rng(2)
    lines = ["# exported by a lab instrument", "X [mm];Y [mm];Fe-Ka;Ca-Ka"]
    truth = {}
    for r in range(4):
        for c in range(5):
            if (r, c) == (2, 3):
                continue  # a point the stage skipped
            x, y = 0.010 * c + rng.normal(0, 0.0005), 0.010 * r + rng.normal(0, 0.0005)
            truth[r, c] = (100 + r * 5 + c, 7 * r)
            lines.append(f"{x:.5f};{y:.5f};{truth[r, c][0]};{truth[r, c][1]}")
    f = tmp_path / "points.csv"
    f.write_text("\n".join(lines[:1] + lines[1:2] + lines[2:][::-1]) + "\n")  # any line order
    m = load_map(f)
    assert m.metadata["file_format"] == "xy_table" and m.channels == ["Fe-Ka", "Ca-Ka"]
    assert m.pixel_size_um == pytest.approx(10.0, rel=0.05) and m.metadata["pixel_size_source"] == "coordinates"
    for (r, c), (fe, ca) in truth.items():
        assert m.data[0, r, c] == fe and m.data[1, r, c] == ca
    assert np.isnan(m.data[:, 2, 3]).all() and m.metadata["masked_pixels"] == 2


def test_a_point_table_without_a_unit_asks_for_it(tmp_path):
    f = tmp_path / "nounit.csv"
    f.write_text("x,y,counts\n" + "\n".join(f"{5 * c},{5 * r},{r * 10 + c}" for r in range(3) for c in range(4)))
    with pytest.warns(PixelSizeWarning, match=r"coordinates step by 5 in an unstated unit: if that is 5 um, pass "
                                              r"coordinate_unit='um' \(or 'mm', \.\.\.\) or pixel_size_um=5"):
        m = load_map(f)
    assert m.pixel_size_um is None and m.metadata["channel"] == "counts"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_map(f, coordinate_unit="um").pixel_size_um == 5.0
        assert load_map(f, coordinate_unit="mm").pixel_size_um == 5000.0
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y,v\n0,0,1\n5,0,2\n7.4,0,3\n0,5,4\n")
    with pytest.raises(MapFileError, match=r"bad\.csv: x coordinates are not on a regular grid"):
        load_map(bad, coordinate_unit="um")
    dup = tmp_path / "dup.csv"
    dup.write_text("x,y,v\n0,0,1\n5,0,2\n5,0,3\n0,5,4\n5,5,5\n")
    with pytest.raises(MapFileError, match=r"dup\.csv: two points fall on the same grid node"):
        load_map(dup, coordinate_unit="um")
    # a matrix export is still read by the matrix reader
    mat = tmp_path / "matrix.csv"
    mat.write_text("1,2,3\n4,5,6\n")
    assert reader_for(mat).name == "text"
