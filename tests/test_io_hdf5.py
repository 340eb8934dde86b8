"""superres_widgets.io with HDF5: reading rules, round trips with provenance, atomic writes, errors."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import warnings

import h5py
import numpy as np
import pytest
import tifffile

import superres_widgets
from superres_widgets import io as sio
from superres_widgets.io import MAP_FORMAT, MapFileError, PixelSizeWarning, load_map, save_map

MAP = np.array([[1.0, 2.5, 3.0, 4.0], [5.0, 6.0, 7.25, 8.0], [9.5, 10.0, 11.0, 12.5]])
STACK = np.stack([MAP, 2 * MAP, 3 * MAP])


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_map(path, **kw)


# ----------------------------------------------------------------------- reading

def test_single_dataset_with_names_attribute_and_pixel_size(tmp_path):
    path = tmp_path / "scan.h5"
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("xrf/maps", data=STACK.astype(np.float32))
        ds.attrs["elements"] = np.array(["Fe", "Ca", "Zn"], dtype=h5py.string_dtype())
        ds.attrs["pixel_size_um"] = 2.5
        f.create_dataset("xrf/energy", data=np.arange(10.0))  # 1-D: not a candidate
    before = _sha(path)
    m = _load(path)
    assert m.data.shape == (3, 3, 4) and m.data.dtype == np.float64
    np.testing.assert_allclose(m.data, STACK)
    assert m.channels == ["Fe", "Ca", "Zn"] and m.pixel_size_um == 2.5
    assert m.metadata["dataset"] == "/xrf/maps" and m.metadata["pixel_size_source"] == "hdf5 attribute"
    np.testing.assert_allclose(_load(path, channel="Ca").data, 2 * MAP)
    assert _sha(path) == before  # read-only


def test_sibling_names_dataset_pixel_size_with_units_and_nexus_axes(tmp_path):
    a = tmp_path / "a.hdf5"
    with h5py.File(a, "w") as f:
        g = f.create_group("entry/data")
        g.create_dataset("counts", data=STACK)
        g.create_dataset("channels", data=np.array([b"S", b"K", b"Ti"]))
        g.attrs["pixel_size"] = 0.005
        g.attrs["units"] = "mm"
    m = _load(a)
    assert m.channels == ["S", "K", "Ti"] and m.pixel_size_um == pytest.approx(5.0)

    b = tmp_path / "b.nxs"
    with h5py.File(b, "w") as f:
        g = f.create_group("entry/data")
        g.attrs["axes"] = np.array(["y", "x"], dtype=h5py.string_dtype())
        g.create_dataset("data", data=MAP)
        x = g.create_dataset("x", data=np.arange(4) * 0.002)
        x.attrs["units"] = "mm"
        y = g.create_dataset("y", data=np.arange(3) * 0.002)
        y.attrs["units"] = "mm"
    m = _load(b, dataset="entry/data/data")
    assert m.pixel_size_um == pytest.approx(2.0) and m.metadata["pixel_size_source"] == "hdf5 axes"
    assert m.data.shape == (3, 4)

    c = tmp_path / "c.h5"
    with h5py.File(c, "w") as f:
        f.create_dataset("map", data=MAP.astype(np.int32))
    with pytest.warns(PixelSizeWarning, match=r"c\.h5: no pixel size"):
        assert load_map(c).pixel_size_um is None
    assert _load(c, pixel_size_um=3.0).pixel_size_um == 3.0


def test_dataset_choice_errors_list_the_candidates(tmp_path):
    path = tmp_path / "two.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("fe", data=MAP)
        f.create_dataset("ca", data=MAP)
        f.create_dataset("meta/notes", data=b"text")
    with pytest.raises(MapFileError, match=r"two\.h5: holds 2 candidate datasets; choose one with "
                                           r"dataset= \(available: '/ca' \(3, 4\), '/fe' \(3, 4\)\)"):
        load_map(path, pixel_size_um=1)
    with pytest.raises(MapFileError, match=r"two\.h5: no dataset '/xrf/fe' \(available: /ca, /fe, "
                                           r"/meta/notes\)"):
        load_map(path, dataset="/xrf/fe", pixel_size_um=1)
    with pytest.raises(MapFileError, match=r"two\.h5: not a dataset \(a group\): 'meta'"):
        load_map(path, dataset="meta", pixel_size_um=1)
    with pytest.raises(MapFileError, match=r"two\.h5: dataset '/meta/notes' holds"):
        load_map(path, dataset="/meta/notes", pixel_size_um=1)
    np.testing.assert_allclose(_load(path, dataset="ca", pixel_size_um=1).data, MAP)
    empty = tmp_path / "empty.h5"
    with h5py.File(empty, "w") as f:
        f.create_dataset("v", data=np.arange(5))
    with pytest.raises(MapFileError, match=r"empty\.h5: holds no numeric 2-D or 3-D dataset "
                                           r"\(available: /v\)"):
        load_map(empty, pixel_size_um=1)
    tif = tmp_path / "m.tif"
    tifffile.imwrite(tif, MAP.astype(np.float32))
    with pytest.raises(MapFileError, match=r"m\.tif: dataset='x' applies to HDF5 (?:or .* )?files only"):
        load_map(tif, dataset="x", pixel_size_um=1)


# ----------------------------------------------------------------------- bad files (the issue's list)

def test_bad_files_give_an_error_naming_the_file_and_reason(tmp_path):
    good_tif = tmp_path / "good.tif"
    tifffile.imwrite(good_tif, np.ones((64, 64), np.float32))
    good_h5 = tmp_path / "good.h5"
    with h5py.File(good_h5, "w") as f:
        f.create_dataset("maps/fe", data=np.ones((64, 64)))
    cases = {
        "truncated.tif": (good_tif.read_bytes()[:300], {},
                          r"cannot read TIFF .*damaged, truncated or not a TIFF"),
        "truncated.h5": (good_h5.read_bytes()[:1500], {},
                         r"cannot read HDF5 .*damaged, truncated or not an HDF5 file"),
        "good_copy.h5": (good_h5.read_bytes(), {"dataset": "/maps/cu"},
                         r"no dataset '/maps/cu' \(available: /maps/fe\)"),
        "ragged.csv": (b"1,2,3\n4,5,6\n7,8\n10,11,12\n", {},
                       r"line 3 has 2 value\(s\) but most lines have 3 \(ragged rows\)"),
        "map.png": (b"\x89PNG....", {}, r"unsupported extension '\.png' \(known: .*\.h5"),
        "map.jpeg": (b"xx", {}, r"unsupported extension '\.jpeg'"),
    }
    for name, (content, kw, reason) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        before = _sha(path)
        with pytest.raises(MapFileError, match=re.escape(str(path)) + ": " + reason) as info:
            load_map(path, pixel_size_um=1, **kw)
        assert info.value.path == path and info.value.reason in str(info.value)
        assert _sha(path) == before


# ----------------------------------------------------------------------- writing

def test_hdf5_round_trip_data_names_pixel_size_provenance(tmp_path):
    src = tmp_path / "scan.h5"
    with h5py.File(src, "w") as f:
        ds = f.create_dataset("entry/maps", data=STACK)
        ds.attrs["channels"] = "Fe, Ca, Zn"
        ds.attrs["pixel_size_um"] = 5.0
    src_hash = _sha(src)
    raw = _load(src)
    assert raw.channels == ["Fe", "Ca", "Zn"]
    restored = raw.data * 1.5
    out = save_map(tmp_path / "restored.h5", restored, pixel_size_um=raw.pixel_size_um,
                   method="richardson_lucy", source=raw,
                   parameters={"psf_sigma_um": 15.0, "num_iter": np.int64(30), "chunk_px": 1024},
                   provenance={"psf": {"sigma_um": [15.0, 15.0, 15.0], "shape": [25, 25]},
                               "scheduler": "threads", "format": "ignored"})
    assert _sha(src) == src_hash  # the input is untouched (after load and after a save elsewhere)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["restored.h5", "scan.h5"]
    back = _load(out)
    np.testing.assert_array_equal(back.data, restored.astype(np.float32))
    assert back.channels == ["Fe", "Ca", "Zn"] and back.pixel_size_um == 5.0
    meta = back.metadata
    assert meta["written_by"] == MAP_FORMAT and meta["dataset"] == "/restored"
    assert meta["method"] == "richardson_lucy" and meta["iterations"] == 30
    assert meta["parameters"]["psf_sigma_um"] == 15.0
    assert meta["psf"] == {"sigma_um": [15.0, 15.0, 15.0], "shape": [25, 25]}
    assert meta["scheduler"] == "threads"
    assert meta["source_file"] == str(src) and meta["source_sha256"] == src_hash
    assert meta["source_dataset"] == "/entry/maps"
    assert meta["superres_widgets_version"] == superres_widgets.__version__
    assert re.match(r"\d{4}-\d\d-\d\dT", meta["created_utc"])
    # what other HDF5 readers see
    with h5py.File(out, "r") as f:
        ds = f["/restored"]
        assert ds.dtype == np.float32 and ds.shape == (3, 3, 4)
        assert ds.attrs["pixel_size_um"] == 5.0 and ds.attrs["units"] == "um"
        assert [c.decode() if isinstance(c, bytes) else c for c in ds.attrs["channels"]] == ["Fe", "Ca", "Zn"]
        prov = json.loads(ds.attrs["provenance"])
        assert prov["format"] == MAP_FORMAT and prov["source_sha256"] == src_hash
        assert f.attrs["format"] == MAP_FORMAT
    # a result can be re-saved; the input never
    save_map(out, restored, pixel_size_um=5.0, method="rl")
    with pytest.raises(ValueError, match=r"scan\.h5: refusing to overwrite an input map"):
        save_map(src, restored, pixel_size_um=5.0, method="rl", source=raw)
    assert _sha(src) == src_hash


def test_tiff_and_hdf5_carry_the_same_provenance(tmp_path):
    kw = dict(pixel_size_um=2.0, method="wiener", parameters={"balance": 0.03, "psf_sigma_px": 3.0})
    t = _load(save_map(tmp_path / "r.tif", MAP, **kw))
    h = _load(save_map(tmp_path / "r.h5", MAP, **kw))
    skip = {"created_utc", "file_format", "dataset", "software", "pixel_size_source"}
    assert {k: v for k, v in t.metadata.items() if k not in skip} == \
        {k: v for k, v in h.metadata.items() if k not in skip}
    assert h.metadata["psf"] == {"sigma_px": 3.0} and h.metadata["iterations"] is None
    with pytest.raises(ValueError, match=r"out\.nxs: save_map writes TIFF files \(\.tif, \.tiff\) "
                                         r"or HDF5 files"):
        save_map(tmp_path / "out.nxs", MAP, **kw)


@pytest.mark.parametrize("name", ["result.h5", "result.tif"])
def test_failed_write_leaves_no_partial_file(tmp_path, name):
    out = tmp_path / name
    real = sio.writer_for(out)  # the writer table's entry for the extension
    assert real.name == ("hdf5" if name.endswith(".h5") else "tiff")

    def broken(tmp, arr32, *a, **k):
        real.write(tmp, arr32[..., :2, :], *a, **k)  # a partial file ...
        raise OSError("disk full")  # ... then the failure

    def use(write):
        sio.register_writer(dataclasses.replace(real, write=write), replace=True)

    try:
        use(broken)
        with pytest.raises(OSError, match="disk full"):
            save_map(out, MAP, pixel_size_um=5, method="rl")
        assert list(tmp_path.iterdir()) == []  # target absent, no temporary file
        use(real.write)
        save_map(out, MAP, pixel_size_um=5, method="rl")
        before = out.read_bytes()
        use(broken)
        with pytest.raises(OSError, match="disk full"):
            save_map(out, 3 * MAP, pixel_size_um=5, method="rl")
        assert out.read_bytes() == before  # unchanged
        assert [p.name for p in tmp_path.iterdir()] == [name]
    finally:
        sio.register_writer(real, replace=True)
    assert sio.writer_for(out) is real


def test_stack_restored_on_dask_saved_with_provenance(tmp_path):
    from superres_widgets.xrf import deconvolve_stack

    rng = np.random.default_rng(0)
    src = tmp_path / "stack.h5"
    with h5py.File(src, "w") as f:
        ds = f.create_dataset("maps", data=rng.poisson(40.0, (2, 64, 64)).astype(np.float32))
        ds.attrs["names"] = np.array(["Fe", "Cu"], dtype=h5py.string_dtype())
        ds.attrs["pixel_size_um"] = 1.0
    h = _sha(src)
    m = _load(src)
    x = deconvolve_stack(m.data, [2.0, 3.0], m.pixel_size_um, num_iter=3, chunk_px=32)
    out = save_map(tmp_path / "stack_rl.hdf5", x, pixel_size_um=m.pixel_size_um,
                   method="richardson_lucy", source=m,
                   parameters={"psf_sigma_um": [2.0, 3.0], "num_iter": 3})
    back = _load(out)
    assert back.channels == ["Fe", "Cu"] and back.metadata["psf"] == {"sigma_um": [2.0, 3.0]}
    np.testing.assert_array_equal(back.data, x)
    assert _sha(src) == h and os.path.exists(out)
