"""superres_widgets.io: every format, metadata round trips, inputs untouched, clear errors."""

from __future__ import annotations

import hashlib
import json
import re
import os
import warnings

import numpy as np
import pytest
import tifffile

import superres_widgets
from superres_widgets.io import (MAP_FORMAT, MapFileError, MapFileNotFoundError, PixelSizeWarning,
                                 XRFMap, load_map, save_map)

# the first column is not evenly spaced (that would look like Y coordinates)
MAP = np.array([[1.0, 2.5, 3.0, 4.0], [5.0, 6.0, 7.25, 8.0], [9.5, 10.0, 11.0, 12.5]])


def _digest(path):
    st = os.stat(path)
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_size


@pytest.fixture
def untouched():
    """Check that every file registered is byte-identical (and not re-written) at teardown."""
    seen = {}

    def register(path):
        seen[path] = _digest(path)
        return path

    yield register
    for path, before in seen.items():
        assert _digest(path) == before, f"{path} was modified"


def _load(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no surprise warnings unless a test expects them
        return load_map(path, **kw)


# ------------------------------------------------------------------------ TIFF

def test_tiff_round_trip_data_and_metadata(tmp_path, untouched):
    src = tmp_path / "raw.csv"
    src.write_text("\n".join(",".join(str(v) for v in row) for row in MAP))
    untouched(src)
    raw = _load(src, pixel_size_um=5.0)
    restored = raw.data * 1.5 + 0.125
    params = {"num_iter": np.int64(30), "psf_sigma_um": np.float32(32.5), "boundary": "reflect",
              "kernel": np.eye(2), "sigmas": (1.0, 2.0)}
    out = save_map(tmp_path / "restored.tif", restored, pixel_size_um=5.0, method="richardson_lucy",
                   parameters=params, source=raw)
    untouched(out)
    back = _load(out)
    np.testing.assert_array_equal(back.data, restored.astype(np.float32).astype(np.float64))
    assert back.data.dtype == np.float64
    assert back.pixel_size_um == 5.0
    assert back.metadata["pixel_size_source"] == "description"
    assert back.metadata["method"] == "richardson_lucy"
    assert back.metadata["parameters"] == {"num_iter": 30, "psf_sigma_um": 32.5, "boundary": "reflect",
                                           "kernel": [[1.0, 0.0], [0.0, 1.0]], "sigmas": [1.0, 2.0]}
    assert back.metadata["source_file"] == str(src)
    assert back.metadata["source_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert back.metadata["superres_widgets_version"] == superres_widgets.__version__
    assert back.metadata["written_by"] == MAP_FORMAT
    assert back.source == out
    # other readers see the scale: resolution tags in pixels per centimetre
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0]
        assert page.dtype == np.float32
        assert page.tags["XResolution"].value == (2000, 1)
        assert int(page.tags["ResolutionUnit"].value) == 3
        desc = json.loads(page.description)
    assert desc["format"] == MAP_FORMAT and desc["shape"] == [3, 4] and desc["dtype"] == "float32"
    # no temporary file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.csv", "restored.tif"]


def test_tiff_stack_round_trip_and_channel_selection(tmp_path):
    stack = np.stack([MAP, 2 * MAP, 3 * MAP])
    out = save_map(tmp_path / "stack.tiff", stack, pixel_size_um=2.0, method="wiener",
                   parameters={"balance": 0.03}, channels=["Fe", "Ca", "Si"])
    m = _load(out)
    assert m.data.shape == (3, 3, 4) and m.channels == ["Fe", "Ca", "Si"]
    ca = _load(out, channel="Ca")
    np.testing.assert_allclose(ca.data, 2 * MAP)
    assert ca.metadata["channel"] == "Ca" and ca.pixel_size_um == 2.0
    np.testing.assert_allclose(_load(out, channel=2).data, 3 * MAP)
    np.testing.assert_allclose(m.channel("Fe").data, MAP)
    with pytest.raises(MapFileError, match=r"stack\.tiff: has no channel 'K'; channels: \['Fe'"):
        load_map(out, channel="K")
    with pytest.raises(MapFileError, match="has 3 channels; channel 7 is out of range"):
        load_map(out, channel=7)


def test_tiff_imagej_scale(tmp_path, untouched):
    path = tmp_path / "fiji.tif"
    tifffile.imwrite(path, MAP.astype(np.float32), imagej=True, resolution=(1 / 2.5, 1 / 2.5),
                     metadata={"unit": "micron"})
    untouched(path)
    m = _load(path)
    assert m.pixel_size_um == pytest.approx(2.5)
    assert m.metadata["pixel_size_source"] == "imagej"
    np.testing.assert_allclose(m.data, MAP.astype(np.float32))


@pytest.mark.parametrize("unit, res, expected", [("CENTIMETER", 2000.0, 5.0), ("INCH", 5080.0, 5.0),
                                                 ("MILLIMETER", 100.0, 10.0)])
def test_tiff_resolution_tags(tmp_path, unit, res, expected, untouched):
    path = tmp_path / "tags.tif"
    tifffile.imwrite(path, MAP.astype(np.uint16), resolution=(res, res), resolutionunit=unit,
                     metadata=None)
    untouched(path)
    m = _load(path)
    assert m.pixel_size_um == pytest.approx(expected)
    assert m.metadata["pixel_size_source"] == "resolution"
    assert m.data.dtype == np.float64
    np.testing.assert_array_equal(m.data, MAP.astype(np.uint16))


def test_tiff_without_scale_warns_and_argument_overrides(tmp_path, untouched):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, MAP.astype(np.float32), resolutionunit="NONE", metadata=None)
    untouched(path)
    with pytest.warns(PixelSizeWarning, match=r"plain\.tif: no pixel size in the file"):
        m = load_map(path)
    assert m.pixel_size_um is None and m.metadata["pixel_size_source"] is None
    assert _load(path, pixel_size_um=5.0).pixel_size_um == 5.0
    # a file with a different scale: the argument wins, and says so
    scaled = tmp_path / "scaled.tif"
    tifffile.imwrite(scaled, MAP.astype(np.float32), resolution=(72.0, 72.0), resolutionunit="INCH",
                     metadata=None)
    untouched(scaled)
    with pytest.warns(PixelSizeWarning, match=r"pixel_size_um=5 overrides the file's 352\.778 um"):
        m = load_map(scaled, pixel_size_um=5.0)
    assert m.pixel_size_um == 5.0 and m.metadata["file_pixel_size_um"] == pytest.approx(25400 / 72)


def test_tiff_errors_name_the_file_and_reason(tmp_path, untouched):
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, np.ones((64, 64), np.float32))
    truncated = tmp_path / "truncated.tif"
    truncated.write_bytes(good.read_bytes()[:300])
    untouched(truncated)
    with pytest.raises(MapFileError, match=r"truncated\.tif: cannot read TIFF .*damaged, truncated"):
        load_map(truncated, pixel_size_um=1)
    fake = tmp_path / "fake.tif"
    fake.write_text("not a tiff at all")
    untouched(fake)
    with pytest.raises(MapFileError, match=r"fake\.tif: cannot read TIFF"):
        load_map(fake, pixel_size_um=1)
    rgb = tmp_path / "photo.tif"
    tifffile.imwrite(rgb, np.zeros((8, 8, 3), np.uint8), photometric="rgb")
    untouched(rgb)
    with pytest.raises(MapFileError, match=r"photo\.tif: is a colour \(RGB/RGBA"):
        load_map(rgb, pixel_size_um=1)
    nan = tmp_path / "nan.tif"
    a = np.ones((5, 6), np.float32)
    a[2, 3] = np.nan
    tifffile.imwrite(nan, a)
    untouched(nan)
    masked = load_map(nan, pixel_size_um=1)  # a NaN pixel is masked (issue 13), not an error
    assert masked.metadata["masked_pixels"] == 1 and masked.mask[2, 3] and masked.mask.sum() == 1
    inf = tmp_path / "inf.tif"
    a[2, 3] = np.inf
    tifffile.imwrite(inf, a)
    untouched(inf)
    with pytest.raises(MapFileError,
                       match=r"inf\.tif: contains 1 infinite value\(s\) \(first at row 2, col 3\)"):
        load_map(inf, pixel_size_um=1)
    with pytest.raises(MapFileError, match=r"good\.tif: channel=0 given but the file holds a single 2-D map"):
        load_map(good, pixel_size_um=1, channel=0)


# ------------------------------------------------------------------------- NPY

def test_npy_int_and_stack(tmp_path, untouched):
    path = tmp_path / "counts.npy"
    np.save(path, MAP.astype(np.int32))
    untouched(path)
    m = _load(path, pixel_size_um=5)
    assert m.data.dtype == np.float64 and m.metadata["file_format"] == "npy"
    np.testing.assert_array_equal(m.data, MAP.astype(np.int32))
    stack = tmp_path / "stack.npy"
    np.save(stack, np.stack([MAP, MAP + 1]))
    untouched(stack)
    assert _load(stack, pixel_size_um=5).data.shape == (2, 3, 4)
    np.testing.assert_array_equal(_load(stack, pixel_size_um=5, channel=1).data, MAP + 1)
    with pytest.warns(PixelSizeWarning, match=r"counts\.npy: no pixel size"):
        assert load_map(path).pixel_size_um is None


def test_npy_refuses_pickles_and_bad_arrays(tmp_path, untouched):
    obj = tmp_path / "objects.npy"
    np.save(obj, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    untouched(obj)
    with pytest.raises(MapFileError, match=r"objects\.npy: holds Python objects.*refused \(allow_pickle=False\)"):
        load_map(obj, pixel_size_um=1)
    good = tmp_path / "big.npy"
    np.save(good, np.ones((100, 100)))
    trunc = tmp_path / "trunc.npy"
    trunc.write_bytes(good.read_bytes()[:2000])
    untouched(trunc)
    with pytest.raises(MapFileError, match=r"trunc\.npy: truncated or damaged"):
        load_map(trunc, pixel_size_um=1)
    notnpy = tmp_path / "text.npy"
    notnpy.write_text("1,2,3\n4,5,6\n")
    untouched(notnpy)
    with pytest.raises(MapFileError, match=r"text\.npy: not a NumPy \.npy file"):
        load_map(notnpy, pixel_size_um=1)
    for name, arr, reason in [("line.npy", np.arange(5.0), r"holds a 1-D array of shape \(5,\); a map must be 2-D"),
                              ("cube.npy", np.ones((2, 2, 2, 2)), "holds a 4-D array"),
                              ("cplx.npy", np.ones((3, 3), complex), "holds complex values"),
                              ("thin.npy", np.ones((1, 9)),
                               r"holds an array of shape \(1, 9\); a map needs at least 2 x 2"),
                              ("inf.npy", np.array([[1.0, np.inf], [2.0, 3.0]]),
                               r"contains 1 infinite .*first at row 0, col 1")]:
        path = tmp_path / name
        np.save(path, arr)
        untouched(path)
        with pytest.raises(MapFileError, match=re.escape(name) + ": " + reason):
            load_map(path, pixel_size_um=1)


# ------------------------------------------------------------------ text matrices

def _write(tmp_path, name, text, untouched, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return untouched(path)


@pytest.mark.parametrize("name, text, delimiter", [
    ("comma.csv", "1,2.5,3,4\n5,6,7.25,8\n9.5,10,11,12.5\n", ","),
    ("comma_space.csv", "1, 2.5, 3, 4\n5, 6, 7.25, 8\n9.5, 10, 11, 12.5\n", ","),
    ("semicolon.csv", "1;2,5;3;4\n5;6;7,25;8\n9,5;10;11;12,5\n", ";"),  # decimal comma
    ("tab.tsv", "1\t2.5\t3\t4\n5\t6\t7.25\t8\n9.5\t10\t11\t12.5\n", "\t"),
    ("spaces.txt", "1   2.5 3 4\n 5 6 7.25 8 \n9.5\t10 11 12.5\n", "whitespace"),
    ("spaces_comma.txt", "1 2,5 3 4\n5 6 7,25 8\n9,5 10 11 12,5\n", "whitespace"),
    ("trailing.csv", "1,2.5,3,4,\n5,6,7.25,8,\n9.5,10,11,12.5,\n", ","),
    ("quoted.csv", '"1","2.5","3","4"\n"5","6","7.25","8"\n"9.5","10","11","12.5"\n', ","),
    ("comments.dat", "# Fe-K map\n\n1 2.5 3 4\n# mid comment\n5 6 7.25 8\n9.5 10 11 12.5\n", "whitespace"),
])
def test_text_delimiters(tmp_path, untouched, name, text, delimiter):
    m = _load(_write(tmp_path, name, text, untouched), pixel_size_um=5.0)
    np.testing.assert_array_equal(m.data, MAP)
    assert m.metadata["delimiter"] == delimiter and m.metadata["header"] == "none"


def test_text_bom_and_latin1(tmp_path, untouched):
    bom = _write(tmp_path, "bom.csv", "\ufeffY\\X [µm],0,5,10,15\n0,1,2.5,3,4\n5,5,6,7.25,8\n10,9.5,10,11,12.5\n",
                 untouched)
    m = _load(bom)
    np.testing.assert_array_equal(m.data, MAP)
    assert m.pixel_size_um == 5.0 and m.metadata["pixel_size_source"] == "coordinates"
    latin = _write(tmp_path, "latin.csv", "x (µm);0;5;10;15\n0;1;2,5;3;4\n5;5;6;7,25;8\n10;9,5;10;11;12,5\n",
                   untouched, encoding="latin-1")
    m = _load(latin)
    np.testing.assert_array_equal(m.data, MAP)
    assert m.metadata["encoding"] == "latin-1" and m.pixel_size_um == 5.0


@pytest.mark.parametrize("name, text, header, x, y", [
    # instrument export: a labelled corner, X positions, then Y + values (rule 2)
    ("corner.csv", "Y\\X,0,5,10,15\n0,1,2.5,3,4\n5,5,6,7.25,8\n10,9.5,10,11,12.5\n", "both",
     [0, 5, 10, 15], [0, 5, 10]),
    # an empty corner (pandas to_csv with its index) (rule 2)
    ("empty_corner.csv", ",0,1,2,3\n0,1,2.5,3,4\n1,5,6,7.25,8\n2,9.5,10,11,12.5\n", "both",
     [0, 1, 2, 3], [0, 1, 2]),
    # the X row has no corner cell at all (rule 1)
    ("short.txt", "0.000 0.005 0.010 0.015\n0.100 1 2.5 3 4\n0.105 5 6 7.25 8\n0.110 9.5 10 11 12.5\n",
     "both", [0, 0.005, 0.01, 0.015], [0.1, 0.105, 0.11]),
    # all numeric, numeric corner: X row and Y column evenly spaced (rule 4)
    ("numeric.csv", "0,100,105,110,115\n200,1,2.5,3,4\n205,5,6,7.25,8\n210,9.5,10,11,12.5\n", "both",
     [100, 105, 110, 115], [200, 205, 210]),
    # pandas to_csv(index=False): a 0,1,2,... header row only (rule 4)
    ("pandas.csv", "0,1,2,3\n1,2.5,3,4\n5,6,7.25,8\n9.5,10,11,12.5\n", "row", [0, 1, 2, 3], None),
    # column names over a row index (pandas to_csv of a named DataFrame) (rule 3)
    ("named_index.csv", ",a,b,c,d\n0,1,2.5,3,4\n1,5,6,7.25,8\n2,9.5,10,11,12.5\n", "both", None, [0, 1, 2]),
    # column names (rule 3)
    ("names.csv", "a,b,c,d\n1,2.5,3,4\n5,6,7.25,8\n9.5,10,11,12.5\n", "row", None, None),
    # text row labels only (rule 5)
    ("labels.csv", "r1,1,2.5,3,4\nr2,5,6,7.25,8\nr3,9.5,10,11,12.5\n", "column", None, None),
])
def test_text_coordinate_headers_are_detected_and_stripped(tmp_path, untouched, name, text, header, x, y):
    m = _load(_write(tmp_path, name, text, untouched), pixel_size_um=5.0)
    np.testing.assert_array_equal(m.data, MAP)
    assert m.metadata["header"] == header
    if x is not None:
        np.testing.assert_allclose(m.metadata["x_coordinates"], x)
    if y is not None:
        np.testing.assert_allclose(m.metadata["y_coordinates"], y)


def test_text_bare_y_column_needs_five_evenly_spaced_values(tmp_path, untouched):
    data = np.array([[1, 2.5], [5, 6.0], [9.5, 10], [3, 4], [7, 1]])
    y = [0.5, 1.0, 1.5, 2.0, 2.5]
    text = "\n".join(f"{yy},{a},{b}" for yy, (a, b) in zip(y, data))
    m = _load(_write(tmp_path, "ycol.csv", text, untouched), pixel_size_um=1)
    np.testing.assert_array_equal(m.data, data)
    assert m.metadata["header"] == "column" and m.metadata["y_coordinates"] == y
    short = "\n".join(text.splitlines()[:3])  # 3 rows: too few to call it a coordinate column
    assert _load(_write(tmp_path, "ycol3.csv", short, untouched), pixel_size_um=1).data.shape == (3, 3)


def test_text_unit_in_header_gives_pixel_size_and_unitless_coordinates_warn(tmp_path, untouched):
    mm = _write(tmp_path, "mm.csv", "X [mm],0.000,0.005,0.010,0.015\n0,1,2.5,3,4\n0.005,5,6,7.25,8\n"
                "0.010,9.5,10,11,12.5\n", untouched)
    m = _load(mm)
    assert m.pixel_size_um == pytest.approx(5.0) and m.metadata["pixel_size_source"] == "coordinates"
    bare = _write(tmp_path, "bare.csv", "Y\\X,0,5,10,15\n0,1,2.5,3,4\n5,5,6,7.25,8\n10,9.5,10,11,12.5\n", untouched)
    with pytest.warns(PixelSizeWarning, match=r"coordinates step by 5 in an unstated unit: .* pixel_size_um=5"):
        m = load_map(bare)
    assert m.pixel_size_um is None and m.metadata["coordinate_step"] == 5.0


def test_text_header_override(tmp_path, untouched):
    # a synthetic ramp looks like coordinates; header="none" keeps every value
    ramp = np.arange(20.0).reshape(4, 5)
    path = _write(tmp_path, "ramp.csv", "\n".join(",".join(f"{v:g}" for v in r) for r in ramp), untouched)
    assert _load(path, pixel_size_um=1).data.shape == (3, 4)  # auto: taken as coordinates
    np.testing.assert_array_equal(_load(path, pixel_size_um=1, header="none").data, ramp)
    np.testing.assert_array_equal(_load(path, pixel_size_um=1, header="row").data, ramp[1:])
    np.testing.assert_array_equal(_load(path, pixel_size_um=1, header="column").data, ramp[:, 1:])
    with pytest.raises(ValueError, match="header must be"):
        load_map(path, pixel_size_um=1, header="yes")


@pytest.mark.parametrize("name, text, reason", [
    ("ragged.csv", "1,2,3\n4,5,6\n7,8\n10,11,12\n", r"line 3 has 2 value\(s\) but most lines have 3 \(ragged rows\)"),
    ("ragged_comment.csv", "# header comment\n1,2,3\n4,5,6\n7,8,9,10\n1,2,3\n",
     r"line 4 has 4 value\(s\) but most lines have 3"),
    ("word.csv", "1,2,3\n4,abc,6\n7,8,9\n", r"line 2, column 2: 'abc' is not a number"),
    ("word_hdr.csv", "Y\\X,0,5,10\n0,1,2,3\n5,4,x,6\n10,7,8,9\n", r"line 3, column 3: 'x' is not a number"),
    ("empty_cell.csv", "1,2,3\n4,,6\n7,8,9\n", r"line 2, column 2: an empty cell"),
    ("inf.txt", "1 2 3\n4 -inf 6\n7 8 9\n", r"line 2, column 2: '-inf' is not a finite number"),
    ("one_row.csv", "1,2,3,4\n", r"holds an array of shape \(1, 4\); a map needs at least 2 x 2"),
    ("empty.csv", "# only a comment\n\n", r"is empty \(no data lines\)"),
    ("header_only.csv", "a,b,c\n", "has no data values after its header"),
])
def test_text_errors_name_the_file_line_and_reason(tmp_path, untouched, name, text, reason):
    path = _write(tmp_path, name, text, untouched)
    with pytest.raises(MapFileError, match=re.escape(name) + ": " + reason):
        load_map(path, pixel_size_um=1)


def test_binary_file_with_text_extension(tmp_path, untouched):
    path = tmp_path / "data.csv"
    np.save(path.with_suffix(".npy"), MAP)
    path.write_bytes(path.with_suffix(".npy").read_bytes())
    untouched(path)
    with pytest.raises(MapFileError, match=r"data\.csv: is a binary file, not a text matrix"):
        load_map(path, pixel_size_um=1)


# -------------------------------------------------------------------- file errors

def test_missing_unsupported_and_directory(tmp_path):
    missing = tmp_path / "nope.tif"
    with pytest.raises(MapFileNotFoundError, match=r"nope\.tif: no such file") as info:
        load_map(missing)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)
    assert info.value.path == missing and info.value.reason == "no such file"
    (tmp_path / "map.png").write_bytes(b"\x89PNG")
    with pytest.raises(MapFileError, match=r"map\.png: unsupported extension '\.png' \(known: \.tif, "
                                           r"\.tiff, \.npy, \.csv, \.tsv, \.txt, \.dat, \.h5, \.hdf5, \.nxs, "
                                           r"\.mda\)$"):
        load_map(tmp_path / "map.png")
    with pytest.raises(MapFileError, match=r"noext: unsupported extension \(none\) \(known: \.tif"):
        load_map(tmp_path / "noext")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(MapFileError, match=r"folder\.csv: is a directory"):
        load_map(tmp_path / "folder.csv")
    with pytest.raises(ValueError, match="pixel_size_um must be a positive number"):
        load_map(missing, pixel_size_um=-5)


# ----------------------------------------------------------------------- save_map

def test_save_refuses_to_overwrite_inputs(tmp_path, untouched):
    src = tmp_path / "input.tif"
    tifffile.imwrite(src, MAP.astype(np.float32))
    untouched(src)
    m = _load(src, pixel_size_um=5)
    for source in (src, m, str(src)):
        with pytest.raises(ValueError, match=r"input\.tif: refusing to overwrite an input map"):
            save_map(src, MAP, pixel_size_um=5, method="wiener", source=source)
    # also without source=: load_map read it in this session
    with pytest.raises(ValueError, match="refusing to overwrite"):
        save_map(src, MAP, pixel_size_um=5, method="wiener")
    # a path spelled differently (relative, symlink) is still the input
    link = tmp_path / "alias.tif"
    link.symlink_to(src)
    with pytest.raises(ValueError, match="refusing to overwrite"):
        save_map(link, MAP, pixel_size_um=5, method="wiener")
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        with pytest.raises(ValueError, match="refusing to overwrite"):
            save_map("./sub/../input.tif", MAP, pixel_size_um=5, method="wiener")
    finally:
        os.chdir(cwd)


def test_save_validation_and_overwrite(tmp_path):
    out = tmp_path / "out.tif"
    with pytest.raises(ValueError, match=r"out\.png: save_map writes TIFF files"):
        save_map(tmp_path / "out.png", MAP, pixel_size_um=5, method="wiener")
    with pytest.raises(ValueError, match="data contains NaN or inf"):
        save_map(out, np.full((3, 3), np.nan), pixel_size_um=5, method="wiener")
    with pytest.raises(ValueError, match=r"data must be 2-D .* got shape \(4,\)"):
        save_map(out, np.ones(4), pixel_size_um=5, method="wiener")
    with pytest.raises(ValueError, match=r"parameters\['cb'\] of type function cannot be stored"):
        save_map(out, MAP, pixel_size_um=5, method="rl", parameters={"cb": lambda: 0})
    with pytest.raises(ValueError, match="method must be a non-empty string"):
        save_map(out, MAP, pixel_size_um=5, method="")
    with pytest.raises(ValueError, match="folder .* does not exist"):
        save_map(tmp_path / "no" / "out.tif", MAP, pixel_size_um=5, method="rl")
    assert not out.exists()
    save_map(out, MAP, pixel_size_um=None, method="rl")
    with pytest.warns(PixelSizeWarning):
        assert load_map(out).pixel_size_um is None
    with pytest.raises(FileExistsError, match=r"out\.tif: file exists"):
        save_map(out, MAP, pixel_size_um=5, method="rl", overwrite=False)
    save_map(out, 2 * MAP, pixel_size_um=5, method="rl")  # overwrite=True replaces it
    np.testing.assert_allclose(_load(out).data, 2 * MAP)


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    out = tmp_path / "result.tif"
    save_map(out, MAP, pixel_size_um=5, method="rl")
    before = out.read_bytes()

    def broken(*a, **k):
        with open(a[0], "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(tifffile, "imwrite", broken)
    with pytest.raises(OSError, match="disk full"):
        save_map(out, 3 * MAP, pixel_size_um=5, method="rl")
    assert out.read_bytes() == before  # the old result is intact
    assert [p.name for p in tmp_path.iterdir()] == ["result.tif"]  # no temporary file left


def test_xrfmap_repr_is_short():
    m = XRFMap(np.zeros((500, 400)), 5.0, None, {"pixel_size_source": "argument", "method": "rl"})
    r = repr(m)
    assert "shape=(500, 400)" in r and "5 um" in r and "method='rl'" in r and len(r) < 200


def test_tiff_provenance_fields_and_extra_keys(tmp_path, untouched):
    src = tmp_path / "raw.npy"
    np.save(src, MAP)
    untouched(src)
    raw = _load(src, pixel_size_um=2.0)
    out = save_map(tmp_path / "rl.tif", raw.data, pixel_size_um=2.0, method="richardson_lucy",
                   source=raw, parameters={"psf_sigma_um": 6.0, "psf_shape": (25, 25),
                                           "num_iter": 30},
                   provenance={"halo_px": 45, "format_version": 99})
    meta = _load(out).metadata
    assert meta["psf"] == {"sigma_um": 6.0, "shape": [25, 25]} and meta["iterations"] == 30
    assert meta["halo_px"] == 45 and meta["format_version"] == 1  # reserved keys kept
    assert meta["source_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert meta["source_pixel_size_source"] == "argument"
    with pytest.raises(ValueError, match=r"rl2\.tif: provenance\['f'\] of type builtin"):
        save_map(tmp_path / "rl2.tif", MAP, pixel_size_um=2.0, method="rl",
                 provenance={"f": print})
    assert not (tmp_path / "rl2.tif").exists()


# ------------------------------------------------------------ the reader / writer tables

def test_builtin_tables_list_every_format():
    from superres_widgets import io

    assert [(r.name, r.extensions, r.options) for r in io.readers()][:4] == [
        ("tiff", (".tif", ".tiff"), ()), ("npy", (".npy",), ()),
        ("text", (".csv", ".tsv", ".txt", ".dat"), ("header",)),
        ("hdf5", (".h5", ".hdf5", ".nxs"), ("dataset", "allow_external"))]
    assert [(w.name, w.extensions) for w in io.writers()][:2] == [
        ("tiff", (".tif", ".tiff")), ("hdf5", (".h5", ".hdf5"))]
    assert io.READ_EXTENSIONS == (".tif", ".tiff", ".npy", ".csv", ".tsv", ".txt", ".dat", ".h5",
                                  ".hdf5", ".nxs", ".mda")  # .mda: issue 13
    assert io.WRITE_EXTENSIONS == (".tif", ".tiff", ".h5", ".hdf5")
    assert {io.reader_for(f"a{e.upper()}").name for e in (".TIF", ".npy", ".Dat", ".nxs")} == \
        {"tiff", "npy", "text", "hdf5"}
    # one module per format, each under the size budget
    import pathlib

    root = pathlib.Path(io.__file__).parent
    for f in list(root.glob("*.py")) + list(root.glob("formats/*.py")):
        assert len(f.read_text().splitlines()) < 700, f


@pytest.fixture
def raw_reader():
    """A user's reader for headerless uint16 ``.raw`` files, registered from outside the package."""
    from superres_widgets import io

    calls = []

    def read_raw(path, shape, channels=None):
        calls.append((path, shape, channels))
        data = np.fromfile(path, "<u2").reshape(shape)
        meta = {"pixel_size_source": "beamline log"}
        if channels:
            meta["channels"] = list(channels)
        return io.XRFMap(data, 2.5, path, meta)

    reader = io.register_reader(name="raw16", extensions=("RAW", ".bin"), read=read_raw,
                                options=("shape", "channels"), label="raw uint16")
    yield reader, calls
    io.unregister_reader("raw16")


def test_a_registered_reader_is_used_by_load_map_and_the_cli(tmp_path, raw_reader, capsys):
    from superres_widgets import cli, io

    reader, calls = raw_reader
    assert reader in io.readers() and ".raw" in io.READ_EXTENSIONS and ".bin" in io.READ_EXTENSIONS
    stack = np.arange(2 * 12 * 10, dtype="<u2").reshape(2, 12, 10)
    path = tmp_path / "scan.RAW"
    stack.tofile(path)
    m = _load(path, shape=(2, 12, 10), channels=("Fe", "Zn"))
    assert calls[-1] == (path, (2, 12, 10), ("Fe", "Zn"))
    np.testing.assert_array_equal(m.data, stack)
    assert m.data.dtype == np.float64 and m.channels == ["Fe", "Zn"]
    assert m.pixel_size_um == 2.5 and m.metadata["pixel_size_source"] == "beamline log"
    assert m.metadata["file_format"] == "raw16"
    np.testing.assert_array_equal(_load(path, shape=(2, 12, 10), channel=1).data, stack[1])
    # the common rules apply to users' readers too
    with pytest.warns(PixelSizeWarning, match="overrides the file's 2.5 um"):
        assert load_map(path, shape=(2, 12, 10), pixel_size_um=5).pixel_size_um == 5
    with pytest.raises(MapFileError, match=r"scan\.RAW: holds an array of shape \(240, 1\)"):
        load_map(path, shape=(240, 1))
    with pytest.raises(MapFileError, match=r"scan\.RAW: dataset='x' applies to HDF5 (?:or .* )?files only "
                                           r"\(\.h5, \.hdf5, \.nxs\)"):
        load_map(path, shape=(2, 12, 10), dataset="x")
    with pytest.raises(MapFileError, match=r"scan\.RAW: cannot read with the raw uint16 reader "
                                           r"\(TypeError: .*shape"):
        load_map(path)  # the reader needs shape=
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'shap'; reader options: "
                                        r"header \(text matrix\), dataset \(HDF5\), allow_external \(HDF5\), .*shape"):
        load_map(path, shap=(2, 12, 10))
    # the command line reads it with no change to the package
    out = tmp_path / "fe_rl.tif"
    fe = tmp_path / "fe.bin"
    (np.arange(40 * 40, dtype="<u2") % 97 + 10).tofile(fe)
    io.register_reader(io.Reader("raw16", (".raw", ".bin"), lambda p: np.fromfile(p, "<u2").reshape(40, 40),
                                 label="raw uint16"), replace=True)
    code = cli.main(["deconvolve", str(fe), "--psf-sigma-um", "3", "--pixel-size-um", "2",
                     "-n", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    back = _load(out)
    assert back.shape == (40, 40) and back.metadata["source_file"] == str(fe)
    assert io.unregister_reader("raw16").extensions == (".raw", ".bin")
    with pytest.raises(MapFileError, match=r"fe\.bin: unsupported extension '\.bin' \(known: \.tif"):
        load_map(fe)
    io.register_reader(reader)  # for the fixture's teardown


def test_register_reader_validation_and_decorator(tmp_path):
    from superres_widgets import io

    with pytest.raises(ValueError, match="a reader named 'tiff' is already registered"):
        io.register_reader(name="tiff", extensions=".tif", read=lambda p: None)
    with pytest.raises(ValueError, match=r"reader 'mine' extension '\.t i f' is not a file extension"):
        io.register_reader(name="mine", extensions="t i f", read=lambda p: None)
    with pytest.raises(ValueError, match="read must be callable"):
        io.Reader("mine", ".x", read=42)
    with pytest.raises(ValueError, match=r"option 'pixel_size_um' must be a keyword name other than"):
        io.Reader("mine", ".x", lambda p: None, options=("pixel_size_um",))
    with pytest.raises(ValueError, match="reader name must be"):
        io.Reader("", ".x", lambda p: None)
    with pytest.raises(ValueError, match=r"no reader named 'nope'; registered: tiff, npy, text, hdf5"):
        io.unregister_reader("nope")
    with pytest.raises(ValueError, match="no reader named 'nope'"):
        load_map(tmp_path / "a.tif", reader="nope")
    before = io.readers()

    @io.register_reader(name="npz_first", extensions=".npz", label="NumPy .npz")
    def read_npz(path):
        with np.load(path) as z:
            return z[z.files[0]]

    try:
        assert callable(read_npz) and io.readers()[-1].read is read_npz
        path = tmp_path / "m.npz"
        np.savez(path, fe=MAP)
        with pytest.warns(PixelSizeWarning, match="no pixel size"):
            m = load_map(path)
        np.testing.assert_array_equal(m.data, MAP)
        assert m.pixel_size_um is None and m.metadata == {"file_format": "npz_first",
                                                          "pixel_size_source": None}
    finally:
        io.unregister_reader("npz_first")
    assert io.readers() == before


def test_sniffing_reader_shares_an_extension_and_reader_forces_one(tmp_path):
    h5py = pytest.importorskip("h5py")
    from superres_widgets import io

    def is_maps(path):
        with h5py.File(path, "r") as f:
            return "MAPS" in f

    def read_maps(path):
        with h5py.File(path, "r") as f:
            names = [n.decode() for n in f["MAPS/channel_names"][()]]
            return io.XRFMap(f["MAPS/XRF_roi"][()], 0.5, path,
                             {"channels": names, "pixel_size_source": "MAPS scan"})

    maps = tmp_path / "maps.h5"
    with h5py.File(maps, "w") as f:
        f["MAPS/XRF_roi"] = np.stack([MAP, 2 * MAP])
        f["MAPS/channel_names"] = np.array([b"Fe", b"Zn"])
        f["MAPS/x_axis"] = np.arange(4.0)  # distractors for the generic reader
        f["MAPS/other"] = np.ones((5, 5))
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["map"] = MAP
    io.register_reader(name="maps_h5", extensions=".h5", read=read_maps, sniff=is_maps, label="MAPS")
    try:
        assert io.reader_for(maps).name == "maps_h5" and io.reader_for(plain).name == "hdf5"
        assert io.reader_for(tmp_path / "missing.h5").name == "hdf5"  # no file: no sniffing
        m = _load(maps)
        assert m.channels == ["Fe", "Zn"] and m.pixel_size_um == 0.5
        np.testing.assert_array_equal(m.data[1], 2 * MAP)
        np.testing.assert_array_equal(_load(plain, pixel_size_um=1).data, MAP)
        forced = _load(maps, reader="hdf5", dataset="MAPS/other", pixel_size_um=1)
        assert forced.metadata["file_format"] == "hdf5" and forced.shape == (5, 5)
        with pytest.raises(MapFileError, match=r"maps\.h5: holds 2 candidate datasets"):
            load_map(maps, reader="hdf5", pixel_size_um=1)
    finally:
        io.unregister_reader("maps_h5")
    assert io.reader_for(maps).name == "maps_hdf5"  # the built-in MAPS reader (issue 13) sniffs it next


def test_a_registered_writer_is_used_by_save_map(tmp_path):
    from superres_widgets import io

    written = []

    def write_npy(tmp, data, provenance, pixel_size_um):
        written.append((data.dtype, data.shape, provenance["method"], pixel_size_um))
        with open(tmp, "wb") as f:
            np.save(f, data)

    io.register_writer(name="npy", extensions=".npy", write=write_npy, label="NumPy")
    try:
        assert io.WRITE_EXTENSIONS[-1] == ".npy"
        out = save_map(tmp_path / "r.npy", MAP, pixel_size_um=2.0, method="wiener")
        assert written == [(np.float32, (3, 4), "wiener", 2.0)]
        np.testing.assert_array_equal(np.load(out), MAP.astype(np.float32))
        assert [p.name for p in tmp_path.iterdir()] == ["r.npy"]  # atomic: no temporary file left
    finally:
        io.unregister_writer("npy")
    with pytest.raises(ValueError, match=r"r2\.npy: save_map writes TIFF files \(\.tif, \.tiff\) or "
                                         r"HDF5 files \(\.h5, \.hdf5\); unsupported extension '\.npy'"):
        save_map(tmp_path / "r2.npy", MAP, pixel_size_um=2.0, method="wiener")


def test_io_docstring_examples_run():
    import doctest
    import importlib

    names = ["superres_widgets.io", "superres_widgets.io._common", "superres_widgets.io.registry",
             "superres_widgets.io.maps", "superres_widgets.io.provenance",
             "superres_widgets.io.formats.tiff", "superres_widgets.io.formats.npy",
             "superres_widgets.io.formats.text", "superres_widgets.io.formats.hdf5"]
    total = 0
    for name in names:
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, name
        total += result.attempted
    assert total > 60
