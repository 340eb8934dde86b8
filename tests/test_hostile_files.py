"""Hostile and damaged files, generated here, through load_map, the grain-file readers and the CLI.

Truncated files, lying headers, huge declared shapes, mostly-unwritten HDF5 datasets, external
links, virtual datasets and external storage, FIFOs, ``/dev/zero`` links, folders, non-UTF-8
names and contents, object-dtype NPY, overlong lines.  Every load runs in a worker subprocess
(``fuzz_harness``: per-call timeout, address-space limit, 1 GiB memory budget): the outcome must
be a clean error naming the file (or a map, for the files that are valid), never a hang, an
escaped MemoryError or a crash, and every input must be byte-identical afterwards.  Writes on a
full disk (``RLIMIT_FSIZE``) must fail with ``"<output>: <reason>"``, leave no temporary file and
not crash the process; outputs get the umask's mode.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import stat
import struct
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import fuzz_harness  # noqa: E402

pytestmark = pytest.mark.timeout(600)

PROG = "superres-widgets"


# ---------------------------------------------------------------------------
# the corpus
# ---------------------------------------------------------------------------
def _npy_header(shape, descr="<f8") -> bytes:
    d = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode()
    pad = 64 - (10 + len(d) + 1) % 64
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d) + pad + 1) + d + b" " * pad + b"\n"


def _tiff_with_dims(path, width, height):
    """An uncompressed 16 x 16 float32 TIFF whose ImageWidth/ImageLength tags are then rewritten."""
    import tifffile

    tifffile.imwrite(path, np.ones((16, 16), np.float32))
    raw = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].tags
        for name, value in (("ImageWidth", width), ("ImageLength", height)):
            t = tags[name]
            fmt = "<H" if t.dtype == 3 else "<I"
            struct.pack_into(fmt, raw, t.valueoffset, value)
    path.write_bytes(bytes(raw))


def build_corpus(d: pathlib.Path) -> dict:
    """``{name: (path, kwargs, valid)}`` -- hostile files for load_map (and a few valid ones)."""
    import h5py
    import tifffile

    c = {}

    def add(name, path, valid=False, **kw):
        c[name] = (path, kw, valid)

    good = np.arange(100.0).reshape(10, 10)
    # --- NPY
    p = d / "good.npy"
    np.save(p, good)
    add("npy_good", p, valid=True, pixel_size_um=1.0)
    (d / "trunc.npy").write_bytes(p.read_bytes()[:300])
    add("npy_truncated", d / "trunc.npy")
    (d / "lying.npy").write_bytes(_npy_header((20000, 20000)) + b"\0" * 64)
    add("npy_lying_header", d / "lying.npy")
    (d / "huge.npy").write_bytes(_npy_header((10**7, 10**7)) + b"\0" * 64)
    add("npy_huge_shape", d / "huge.npy")
    (d / "neg.npy").write_bytes(_npy_header((-5, 3)))
    add("npy_negative_shape", d / "neg.npy")
    np.save(d / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    add("npy_object_dtype", d / "objects.npy")
    np.save(d / "strings.npy", np.array([["a", "b"], ["c", "d"]]))
    add("npy_strings", d / "strings.npy")
    np.save(d / "records.npy", np.zeros((3, 3), dtype=[("x", "f8"), ("y", "i4")]))
    add("npy_structured", d / "records.npy")
    (d / "garbage.npy").write_bytes(b"\x93NUMPY\x01\x00\xff\xff{'descr': <f8 garbage")
    add("npy_garbage_header", d / "garbage.npy")
    (d / "empty.npy").write_bytes(b"")
    add("npy_empty", d / "empty.npy")
    np.save(d / "nan.npy", np.where(good > 50, np.nan, good))
    add("npy_nan_masked", d / "nan.npy", valid=True, pixel_size_um=1.0)  # NaN = a masked pixel
    # --- TIFF
    p = d / "good.tif"
    tifffile.imwrite(p, good.astype(np.float32))
    add("tiff_good", p, valid=True, pixel_size_um=1.0)
    (d / "trunc.tif").write_bytes(p.read_bytes()[:200])
    add("tiff_truncated", d / "trunc.tif")
    _tiff_with_dims(d / "lying.tif", 60000, 60000)
    add("tiff_lying_dims", d / "lying.tif")
    (d / "random.tif").write_bytes(np.random.default_rng(0).bytes(4096))
    add("tiff_random_bytes", d / "random.tif")
    (d / "fake.tif").write_bytes(b"II*\x00" + struct.pack("<I", 10**9))
    add("tiff_bad_ifd_offset", d / "fake.tif")
    tifffile.imwrite(d / "rgb.tif", np.zeros((8, 8, 3), np.uint8), photometric="rgb")
    add("tiff_rgb", d / "rgb.tif")
    # --- HDF5
    with h5py.File(d / "unwritten.h5", "w") as f:  # the 1,400-byte file declaring 20000 x 20000
        f.create_dataset("maps", shape=(20000, 20000), chunks=(500, 500), dtype="f4")
    add("h5_unwritten_chunks", d / "unwritten.h5")
    with h5py.File(d / "contig.h5", "w") as f:
        f.create_dataset("maps", shape=(5000, 5000), dtype="f8")
    add("h5_unwritten_contiguous", d / "contig.h5")
    with h5py.File(d / "data.h5", "w") as f:
        f.create_dataset("maps", data=good)
    add("h5_good", d / "data.h5", valid=True, pixel_size_um=1.0)
    with h5py.File(d / "link.h5", "w") as f:
        f["maps"] = h5py.ExternalLink("data.h5", "/maps")
    add("h5_external_link", d / "link.h5", dataset="/maps")
    with h5py.File(d / "zero_link.h5", "w") as f:
        f["maps"] = h5py.ExternalLink("/dev/zero", "/maps")
    add("h5_external_link_to_dev_zero", d / "zero_link.h5", dataset="maps")
    os.mkfifo(d / "fifo_target.h5")
    with h5py.File(d / "fifo_link.h5", "w") as f:
        f["maps"] = h5py.ExternalLink("fifo_target.h5", "/maps")
    add("h5_external_link_to_fifo", d / "fifo_link.h5", dataset="/maps")
    with h5py.File(d / "loop.h5", "w") as f:
        f["a"] = h5py.SoftLink("/b")
        f["b"] = h5py.SoftLink("/a")
    add("h5_soft_link_loop", d / "loop.h5", dataset="/a")
    lay = h5py.VirtualLayout(shape=(10, 10), dtype="f8")
    lay[:] = h5py.VirtualSource(str(d / "data.h5"), "maps", shape=(10, 10))
    with h5py.File(d / "vds.h5", "w") as f:
        f.create_virtual_dataset("maps", lay)
    add("h5_virtual_dataset", d / "vds.h5")
    with h5py.File(d / "extstore.h5", "w") as f:
        f.create_dataset("maps", shape=(10, 10), dtype="f8", external=[("/dev/zero", 0, 800)])
    add("h5_external_storage_dev_zero", d / "extstore.h5")
    raw = (d / "data.h5").read_bytes()
    (d / "trunc.h5").write_bytes(raw[: len(raw) // 2])
    add("h5_truncated", d / "trunc.h5")
    (d / "random.h5").write_bytes(np.random.default_rng(1).bytes(4096))
    add("h5_random_bytes", d / "random.h5")
    with h5py.File(d / "text_only.h5", "w") as f:
        f["names"] = np.array([b"Fe", b"Ca"])
    add("h5_no_numeric_dataset", d / "text_only.h5")
    # --- text
    (d / "zero.csv").symlink_to("/dev/zero")
    add("csv_link_to_dev_zero", d / "zero.csv")
    os.mkfifo(d / "fifo.csv")
    add("csv_fifo", d / "fifo.csv")
    (d / "folder.csv").mkdir()
    add("csv_directory", d / "folder.csv")
    (d / "oneline.csv").write_bytes(b"1," * 2_600_000 + b"1\n")
    add("csv_one_5MB_line", d / "oneline.csv")
    (d / "binary.csv").write_bytes(b"1,2\n\x00\x01\x02garbage")
    add("csv_binary", d / "binary.csv")
    (d / "latin1.csv").write_bytes("Y\\X [µm],0,5\n0,1,2\n5,3,4\n".encode("latin-1"))
    add("csv_latin1_text", d / "latin1.csv", valid=True, pixel_size_um=5.0)
    (d / "bad_utf8.csv").write_bytes(b"1,2,\xff\xfe\n3,4,5\n")
    add("csv_invalid_utf8_cell", d / "bad_utf8.csv")
    (d / "ragged.csv").write_text("1,2,3\n4,5\n6,7,8\n")
    add("csv_ragged", d / "ragged.csv")
    (d / "empty.csv").write_text("")
    add("csv_empty", d / "empty.csv")
    name = os.fsdecode(b"caf\xe9_map.csv")  # a non-UTF-8 file name
    np.savetxt(d / name, np.arange(400.0).reshape(20, 20), delimiter=",")
    add("csv_non_utf8_name", d / name, valid=True, pixel_size_um=1.0)
    (d / "missing.npy").unlink(missing_ok=True)
    add("npy_missing", d / "missing.npy")
    return c


def build_grain_corpus(d: pathlib.Path) -> dict:
    c = {}
    (d / "oneline.ubi").write_text("1 " * 3_000_000)
    c["ubi_one_6MB_line"] = d / "oneline.ubi"
    os.mkfifo(d / "fifo.ubi")
    c["ubi_fifo"] = d / "fifo.ubi"
    (d / "zero.ubi").symlink_to("/dev/zero")
    c["ubi_link_to_dev_zero"] = d / "zero.ubi"
    (d / "dir.ubi").mkdir()
    c["ubi_directory"] = d / "dir.ubi"
    (d / "bytes.ubi").write_bytes(b"\xff\xfe\x00 1 2\n")
    c["ubi_binary"] = d / "bytes.ubi"
    (d / "nan.ubi").write_text("nan 0 0\n0 4 0\n0 0 4\n")
    c["ubi_nan"] = d / "nan.ubi"
    (d / "singular.ubi").write_text("0 0 0\n0 4 0\n0 0 4\n")
    c["ubi_singular"] = d / "singular.ubi"
    (d / "short.ubi").write_text("4 0 0\n0 4 0\n")
    c["ubi_incomplete"] = d / "short.ubi"
    (d / "empty.ubi").write_text("")
    c["ubi_empty"] = d / "empty.ubi"
    (d / "one_angstrom.ubi").write_text("1 0 0\n0 1 0\n0 0 1\n")  # a 1 A cell for the 4.05 A phase
    c["ubi_wrong_cell"] = d / "one_angstrom.ubi"
    return c


def _fingerprint(path: pathlib.Path):
    st_ = os.lstat(path)
    if stat.S_ISREG(st_.st_mode):
        return ("file", hashlib.sha256(path.read_bytes()).hexdigest(), st_.st_mode)
    return ("other", stat.S_IFMT(st_.st_mode), st_.st_mode, os.readlink(path) if stat.S_ISLNK(st_.st_mode) else None)


def _fingerprints(d: pathlib.Path) -> dict:
    return {p.name: _fingerprint(p) for p in sorted(d.iterdir())}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    return d, build_corpus(d)


# ---------------------------------------------------------------------------
# load_map and the grain-file readers (in worker subprocesses)
# ---------------------------------------------------------------------------
def test_hostile_maps_through_load_map(corpus):
    d, c = corpus
    before = _fingerprints(d)
    names = list(c)
    jobs = [{"kind": "load", "func": "superres_widgets.io:load_map", "path": str(c[n][0]), "kwargs": c[n][1],
             "invalid": not c[n][2]} for n in names]
    results = fuzz_harness.run_jobs(jobs, workers=2, timeout=30)
    bad = []
    for n, (_job, res) in zip(names, results):
        want = "ok" if c[n][2] else "clean"
        if res["cls"] != want or res.get("len", 0) > 600:
            bad.append(f"{n}: {res}")
    assert not bad, "\n".join(bad)
    assert _fingerprints(d) == before  # every input byte-identical, links and FIFOs untouched
    by = {n: res for n, (_job, res) in zip(names, results)}
    assert "20000 x 20000 values but only 0 of its 1600 chunks were ever written" in by["h5_unwritten_chunks"]["msg"]
    assert "external link to data.h5:/maps" in by["h5_external_link"]["msg"]
    assert by["csv_fifo"]["msg"].endswith("is a FIFO (named pipe), not a regular file")
    assert by["csv_link_to_dev_zero"]["msg"].endswith("is a character device, not a regular file")
    assert "holds Python objects" in by["npy_object_dtype"]["msg"]
    assert "header lies" in by["npy_lying_header"]["msg"] and "header lies" in by["tiff_lying_dims"]["msg"]
    assert "longer than" in by["csv_one_5MB_line"]["msg"] or "bytes long" in by["csv_one_5MB_line"]["msg"]


def test_hostile_grain_files(tmp_path):
    c = build_grain_corpus(tmp_path)
    before = _fingerprints(tmp_path)
    jobs, names = [], []
    for n, p in c.items():
        for func in ("read_grain_file", "orientations_from_grain_file"):
            if n == "ubi_wrong_cell" and func == "read_grain_file":
                continue  # a valid file; only the phase check refuses it
            jobs.append({"kind": "load", "func": f"superres_widgets.s3dxrd:{func}", "path": str(p)})
            names.append(f"{n} / {func}")
    results = fuzz_harness.run_jobs(jobs, workers=2, timeout=30)
    bad = [f"{n}: {res}" for n, (_j, res) in zip(names, results) if res["cls"] != "clean" or res.get("len", 0) > 600]
    assert not bad, "\n".join(bad)
    assert _fingerprints(tmp_path) == before


def test_external_links_only_when_allowed_and_the_data_file_is_hashed(corpus):
    from superres_widgets.io import load_map, save_map

    d, _c = corpus
    m = load_map(d / "link.h5", dataset="/maps", allow_external=True, pixel_size_um=1.0)
    assert m.metadata["data_files"] == [os.path.realpath(d / "data.h5")]
    out = save_map(d.parent / "from_link.tif", m.data, pixel_size_um=1.0, method="raw", source=m)
    rec = load_map(out).metadata
    assert rec["source_sha256"] == hashlib.sha256((d / "link.h5").read_bytes()).hexdigest()
    assert rec["source_data_files"] == [{"path": os.path.realpath(d / "data.h5"),
                                         "sha256": hashlib.sha256((d / "data.h5").read_bytes()).hexdigest()}]


def test_partly_unwritten_chunks_warn(tmp_path):
    import h5py

    from superres_widgets.io import MapFileWarning, load_map

    with h5py.File(tmp_path / "part.h5", "w") as f:
        ds = f.create_dataset("maps", shape=(40, 40), chunks=(10, 10), dtype="f4")
        ds[:30, :] = 1.0  # 12 of 16 chunks
    with pytest.warns(MapFileWarning, match="only 12 of its 16 chunks were ever written"):
        m = load_map(tmp_path / "part.h5", pixel_size_um=1.0)
    assert m.data[35, 0] == 0.0


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------
CLI_CASES = ("npy_truncated", "npy_lying_header", "npy_huge_shape", "npy_object_dtype", "tiff_truncated",
             "tiff_lying_dims", "tiff_random_bytes", "tiff_rgb", "h5_unwritten_chunks", "h5_external_storage_dev_zero",
             "h5_truncated", "csv_link_to_dev_zero", "csv_fifo", "csv_directory", "csv_one_5MB_line", "csv_binary",
             "npy_missing", "h5_virtual_dataset")


def _cli(args, timeout=120, **kw):
    env = dict(os.environ, SUPERRES_WIDGETS_MEMORY_LIMIT="1GiB")
    return subprocess.run([sys.executable, "-m", "superres_widgets.cli", *args], capture_output=True, timeout=timeout,
                          env=env, **kw)


def test_hostile_maps_through_the_cli(corpus, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    d, c = corpus
    before = _fingerprints(d)

    def run(n):
        path, kw, _valid = c[n]
        args = ["deconvolve", str(path), "--out", str(tmp_path / f"{n}.tif"), "--psf-sigma-um", "2",
                "--pixel-size-um", "1", "--num-iter", "2", "--no-progress"]
        if "dataset" in kw:
            args += ["--dataset", kw["dataset"]]
        return n, _cli(args)

    with ThreadPoolExecutor(2) as ex:
        results = list(ex.map(run, CLI_CASES))
    bad = []
    for n, r in results:
        err = r.stderr.decode("utf-8", "replace")
        lines = [ln for ln in err.splitlines() if not ln.startswith(f"{PROG}: warning:")]
        name = os.fsdecode(c[n][0].name)
        if r.returncode != 2 or len(lines) != 1 or not lines[0].startswith(f"{PROG}: error: ") \
                or name not in lines[0] or "Traceback" in err:
            bad.append(f"{n}: exit {r.returncode}: {err[-600:]}")
    assert not bad, "\n".join(bad)
    assert _fingerprints(d) == before
    assert not [p for p in tmp_path.iterdir()]  # no output, no temporary file


def test_a_non_utf8_file_name_through_the_cli(corpus, tmp_path):
    d, c = corpus
    path = c["csv_non_utf8_name"][0]
    out = tmp_path / os.fsdecode(b"r\xe9sultat.tif")
    r = _cli(["deconvolve", os.fsencode(path), "--out", os.fsencode(out), "--psf-sigma-um", "2", "--pixel-size-um",
              "1", "--num-iter", "2", "--no-progress"])
    assert r.returncode == 0, r.stderr
    assert out.exists()
    r = _cli(["deconvolve", os.fsencode(path), "--out", os.fsencode(out), "--psf-sigma-um", "2",
              "--pixel-size-um", "1"])
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2 and len(err.splitlines()) == 1 and "already exists" in err, err


# ---------------------------------------------------------------------------
# writes on a full disk, file modes
# ---------------------------------------------------------------------------
FULL_DISK = """
import os, resource, signal, sys, json
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))   # writes beyond 1 MiB fail with EFBIG
import numpy as np
out = sys.argv[1]
try:
    if out.endswith("index.html"):
        import pathlib
        from superres_widgets.report import _write_atomically
        _write_atomically(pathlib.Path(out), b"x" * (3 << 20))
    else:
        from superres_widgets.io import save_map
        save_map(out, np.ones((1100, 1100)), pixel_size_um=1.0, method="raw")
    print(json.dumps({"ok": True}))
except Exception as exc:
    print(json.dumps({"type": type(exc).__name__, "msg": str(exc), "oserror": isinstance(exc, OSError)}))
import gc; gc.collect()
"""


@pytest.mark.parametrize("name", ["out.h5", "out.tif", "index.html"])
def test_a_full_disk_is_one_clean_error_naming_the_output(tmp_path, name):
    out = tmp_path / name
    r = subprocess.run([sys.executable, "-c", FULL_DISK, str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"the process crashed (exit {r.returncode}): {r.stderr[-2000:]}"  # was a segfault
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res.get("ok") is not True
    assert res["msg"].startswith(f"{out}: cannot write (") and res["oserror"], res
    assert "\n" not in res["msg"] and len(res["msg"]) < 300
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no temporary file left


def test_the_cli_on_a_full_disk(tmp_path):
    src = tmp_path / "in.npy"
    np.save(src, np.random.default_rng(0).random((400, 400)))
    out = tmp_path / "out.h5"

    def limit():
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 19, 1 << 19))

    r = _cli(["deconvolve", str(src), "--out", str(out), "--psf-sigma-um", "2", "--pixel-size-um", "1",
              "--num-iter", "2", "--no-progress"], preexec_fn=limit)
    err = r.stderr.decode()
    assert r.returncode == 2 and err.splitlines() == [err.strip()], err  # one line, exit 2 (was 139)
    assert err.startswith(f"{PROG}: error: {out}: cannot write (File too large"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.npy"]


UMASK = """
import os, sys, numpy as np
os.umask(int(sys.argv[2], 8))
from superres_widgets.io import save_map
print(oct(os.stat(save_map(sys.argv[1], np.ones((4, 4)), pixel_size_um=1.0, method="raw")).st_mode & 0o777))
"""


@pytest.mark.parametrize("umask, mode", [("022", "0o644"), ("077", "0o600"), ("002", "0o664")])
def test_outputs_get_the_users_file_mode(tmp_path, umask, mode):
    for name in ("m.tif", "m.h5"):
        r = subprocess.run([sys.executable, "-c", UMASK, str(tmp_path / name), umask], capture_output=True, text=True,
                           timeout=120)
        assert r.stdout.strip() == mode, r.stderr
