"""The ``superres-widgets`` command line: deconvolve, lab, errors."""

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from superres_widgets import cli
from superres_widgets.io import load_map
from superres_widgets.xrf import get_method

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("superres-widgets")


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def blurred_map(shape=(40, 48), seed=0):
    from superres_widgets.xrf import convolve, gaussian_psf

    rng = np.random.default_rng(seed)
    truth = np.zeros(shape)
    truth[10:30, 12:20] = 200.0
    truth[15:25, 30:40] = 120.0
    blurred = convolve(truth + 20.0, gaussian_psf(10.0, pixel_size_um=5.0))
    return rng.poisson(blurred).astype(float)


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def inputs(tmp_path):
    a = blurred_map()
    paths = {}
    paths["npy"] = tmp_path / "fe.npy"
    np.save(paths["npy"], a)
    paths["csv"] = tmp_path / "fe.csv"
    np.savetxt(paths["csv"], a, delimiter=",", fmt="%d")
    paths["tif"] = tmp_path / "fe.tif"
    tifffile.imwrite(paths["tif"], a.astype(np.float32))
    paths["stack"] = tmp_path / "stack.tif"
    tifffile.imwrite(paths["stack"], np.stack([a, blurred_map(seed=1) * 0.5]).astype(np.float32))
    return paths


@pytest.mark.parametrize("kind", ["npy", "csv", "tif"])
@pytest.mark.parametrize("method,extra", [
    ("rl", ["--iterations", "5", "--acceleration", "biggs-andrews"]),
    ("wiener", ["--balance", "0.05"]),
    ("fista", ["--iterations", "5", "--lam", "0.5"]),
])
def test_deconvolve_writes_readable_map_with_provenance(inputs, tmp_path, capsys, kind, method, extra):
    src = inputs[kind]
    before = sha(src)
    out = tmp_path / f"out_{kind}_{method}.tif"
    code, stdout, err = run(["deconvolve", src, "--method", method, "--psf-sigma-um", "10",
                             "--pixel-size-um", "5", "--out", out, *extra], capsys)
    assert code == 0, err
    assert str(out) in stdout
    assert sha(src) == before  # the input is never modified
    m = load_map(out)
    assert m.data.shape == (40, 48) and np.all(np.isfinite(m.data))
    assert m.pixel_size_um == 5.0
    md = m.metadata
    assert md["method"] == get_method(method).name
    assert md["parameters"]["psf_sigma_um"] == 10.0
    assert md["parameters"]["input_file"] == str(src)
    assert Path(md["source_file"]).resolve() == src.resolve()
    assert md["source_sha256"] == before
    if method == "wiener":
        assert md["parameters"]["balance"] == 0.05
    else:
        assert md["parameters"]["num_iter"] == 5
    if method == "rl":
        assert md["parameters"]["acceleration"] == "biggs-andrews"
    # the command that made it (when io records extra provenance keys)
    if "command" in md:
        assert md["command"].startswith("superres-widgets deconvolve") and str(src) in md["command"]


def test_deconvolve_stack_per_channel_sigmas_and_pixel_size_from_file(inputs, tmp_path, capsys):
    # a map written by save_map carries its pixel size: no --pixel-size-um needed
    first = tmp_path / "first.tif"
    assert run(["deconvolve", inputs["stack"], "--method", "wiener", "--psf-sigma-um", "10,12",
                "--pixel-size-um", "4", "--out", first], capsys)[0] == 0
    m = load_map(first)
    assert m.data.shape == (2, 40, 48) and m.channels == ["0", "1"]
    assert m.metadata["parameters"]["psf_sigma_um"] == [10.0, 12.0]
    second = tmp_path / "second.tif"
    code, out, err = run(["deconvolve", first, "--method", "fista", "--psf-sigma-um", "8", "-n", "3",
                          "--out", second],
                         capsys)
    assert code == 0, err
    m2 = load_map(second)
    assert m2.pixel_size_um == 4.0 and m2.data.shape == (2, 40, 48)
    # one channel of a stack
    third = tmp_path / "third.tif"
    assert run(["deconvolve", inputs["stack"], "--channel", "1", "--psf-sigma-um", "8", "-n", "3",
                "--pixel-size-um", "4", "--out", third], capsys)[0] == 0
    m3 = load_map(third)
    assert m3.data.shape == (40, 48) and m3.metadata["parameters"]["channel"] == "1"


def test_deconvolve_blind_reports_the_estimated_sigma(inputs, tmp_path, capsys):
    out = tmp_path / "blind.tif"
    code, stdout, err = run(["deconvolve", inputs["npy"], "--method", "blind", "--kernel-size", "15",
                             "--pixel-size-um", "5", "--out", out], capsys)
    assert code == 0, err
    assert "estimated PSF sigma" in stdout
    md = load_map(out).metadata
    assert md["method"] == "blind_l0"
    assert md["parameters"]["estimated_psf_sigma_um"] > 0
    assert md["parameters"]["kernel_size"] == 15


def test_deconvolve_hdf5_roundtrip_when_io_supports_it(inputs, tmp_path, capsys):
    import inspect

    from superres_widgets import io

    if ".h5" not in io.READ_EXTENSIONS or "dataset" not in inspect.signature(io.load_map).parameters:
        pytest.skip("superres_widgets.io has no HDF5 support yet")
    h5py = pytest.importorskip("h5py")
    src = tmp_path / "maps.h5"
    with h5py.File(src, "w") as f:
        f["xrf/fe"] = blurred_map()
    out = tmp_path / "fe_rl.h5"
    code, _, err = run(["deconvolve", src, "--dataset", "xrf/fe", "--psf-sigma-um", "10", "-n", "3",
                        "--pixel-size-um", "5", "--out", out], capsys)
    if code != 0 and "TIFF" in err:
        pytest.skip("save_map does not write HDF5 yet")
    assert code == 0, err
    m = load_map(out)
    assert m.metadata["method"] == "richardson_lucy" and m.pixel_size_um == 5.0


def _one_error_line(err, name):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("superres-widgets: error: ")
    assert name in lines[0]
    assert "Traceback" not in err
    return lines[0]


def test_bad_inputs_give_one_line_and_exit_code_2(inputs, tmp_path, capsys):
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"this is not a TIFF")
    cases = [
        (["deconvolve", bad, "--psf-sigma-um", "10", "--pixel-size-um", "5", "--out", tmp_path / "o1.tif"],
         "broken.tif"),
        (["deconvolve", tmp_path / "map.xyz", "--psf-sigma-um", "10", "--pixel-size-um", "5",
          "--out", tmp_path / "o2.tif"], "map.xyz"),
        (["deconvolve", tmp_path / "missing.npy", "--psf-sigma-um", "10", "--pixel-size-um", "5",
          "--out", tmp_path / "o3.tif"], "missing.npy"),
        # no pixel size in the file and none given
        (["deconvolve", inputs["npy"], "--psf-sigma-um", "10", "--out", tmp_path / "o4.tif"], "fe.npy"),
        # overwriting the input
        (["deconvolve", inputs["tif"], "--psf-sigma-um", "10", "--pixel-size-um", "5",
          "--out", inputs["tif"]], "fe.tif"),
        # unsupported output type
        (["deconvolve", inputs["npy"], "--psf-sigma-um", "10", "--pixel-size-um", "5",
          "--out", tmp_path / "o5.png"], "o5.png"),
        # sigma required for non-blind methods
        (["deconvolve", inputs["npy"], "--pixel-size-um", "5", "--out", tmp_path / "o6.tif"], "fe.npy"),
        # wrong number of per-channel sigmas
        (["deconvolve", inputs["stack"], "--psf-sigma-um", "1,2,3", "--pixel-size-um", "5",
          "--out", tmp_path / "o7.tif"], "stack.tif"),
        # bad channel
        (["deconvolve", inputs["stack"], "--channel", "9", "--psf-sigma-um", "8", "--pixel-size-um", "5",
          "--out", tmp_path / "o8.tif"], "stack.tif"),
    ]
    hashes = {p: sha(p) for p in inputs.values()}
    for argv, name in cases:
        code, out, err = run(argv, capsys)
        assert code == 2, (argv, out, err)
        line = _one_error_line(err, name)
        assert len(line) < 400
    assert {p: sha(p) for p in inputs.values()} == hashes
    assert not any((tmp_path / f"o{i}.tif").exists() for i in range(1, 9))
    assert "no pixel size" in run(cases[3][0], capsys)[2]
    assert "overwrite the input" in run(cases[4][0], capsys)[2]


def test_existing_output_needs_overwrite(inputs, tmp_path, capsys):
    out = tmp_path / "o.tif"
    argv = ["deconvolve", inputs["npy"], "--psf-sigma-um", "10", "--pixel-size-um", "5", "-n", "2",
            "--out", out]
    assert run(argv, capsys)[0] == 0
    code, _, err = run(argv, capsys)
    assert code == 2 and "already exists" in _one_error_line(err, "o.tif")
    assert run(argv + ["--overwrite"], capsys)[0] == 0


def test_debug_shows_the_traceback(tmp_path, capsys):
    code, _, err = run(["deconvolve", tmp_path / "missing.npy", "--psf-sigma-um", "1",
                        "--pixel-size-um", "1", "--out", tmp_path / "o.tif", "--debug"], capsys)
    assert code == 2 and "Traceback" in err and "missing.npy" in err


def test_progress_bar_on_request(inputs, tmp_path, capsys):
    code, _, err = run(["deconvolve", inputs["npy"], "--psf-sigma-um", "10", "--pixel-size-um", "5",
                        "-n", "4", "--out", tmp_path / "p.tif", "--progress"], capsys)
    assert code == 0 and "100.0 %" in err and "[#" in err
    code, _, err = run(["deconvolve", inputs["npy"], "--psf-sigma-um", "10", "--pixel-size-um", "5",
                        "-n", "4", "--out", tmp_path / "q.tif"], capsys)
    assert code == 0 and "%" not in err  # not a TTY: no bar


def test_progress_bar_accepts_fraction_and_counts():
    import io as _io

    s = _io.StringIO()
    bar = cli.ProgressBar("x", stream=s)
    bar(0.5)
    bar(3, 4)
    bar.close()
    assert "50.0 %" in s.getvalue() and "75.0 %" in s.getvalue() and s.getvalue().endswith("\n")


def test_lab_dry_run_prints_the_jupyter_lab_command(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = run(["lab", "--dry-run"], capsys)
    assert code == 0
    line = out.strip()
    assert "jupyter" in line and " lab " in f"{line} " and str(ROOT / "notebooks") in line


def test_lab_with_an_explicit_folder_and_a_missing_one(tmp_path, capsys):
    code, out, _ = run(["lab", "--notebooks", tmp_path, "--dry-run", "--", "--no-browser"], capsys)
    assert code == 0 and str(tmp_path) in out and out.strip().endswith("--no-browser")
    code, _, err = run(["lab", "--notebooks", tmp_path / "nope", "--dry-run"], capsys)
    assert code == 2 and "nope" in _one_error_line(err, "nope")


def test_console_script_is_installed_and_runs(inputs, tmp_path):
    exe = SCRIPT if SCRIPT.exists() else None
    cmd = [str(exe)] if exe else [sys.executable, "-m", "superres_widgets.cli"]
    r = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "deconvolve" in r.stdout and "reproduce" in r.stdout
    r = subprocess.run(cmd + ["deconvolve", str(inputs["npy"]), "--psf-sigma-um", "10", "-n", "2",
                              "--out", str(tmp_path / "x.tif")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "fe.npy" in r.stderr and "Traceback" not in r.stderr


def test_deconvolve_on_a_distributed_scheduler(inputs, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dist.tif"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        code, _, err = run(["deconvolve", inputs["stack"], "--psf-sigma-um", "10", "-n", "3",
                            "--pixel-size-um", "5", "--scheduler", cluster.scheduler_address,
                            "--out", out], capsys)
    assert code == 0, err
    m = load_map(out)
    assert m.data.shape == (2, 40, 48)
    if "scheduler" in m.metadata:
        assert m.metadata["scheduler"] == cluster.scheduler_address
    # the same result as the local threaded scheduler
    local = tmp_path / "local.tif"
    assert run(["deconvolve", inputs["stack"], "--psf-sigma-um", "10", "-n", "3",
                "--pixel-size-um", "5", "--out", local], capsys)[0] == 0
    np.testing.assert_allclose(load_map(local).data, m.data, rtol=1e-5, atol=1e-3)


def test_lab_adds_allow_root_only_when_running_as_root(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 0)
    code, out, _ = run(["lab", "--notebooks", tmp_path, "--dry-run"], capsys)
    assert code == 0 and "--allow-root" in out.split()
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    code, out, _ = run(["lab", "--notebooks", tmp_path, "--dry-run"], capsys)
    assert code == 0 and "--allow-root" not in out.split()


# ------------------------------------------------------------------ issue 13: PSF files, policies, timing

def test_deconvolve_with_a_psf_file_equals_the_method_with_that_image(inputs, tmp_path, capsys):
    from superres_widgets.xrf import gaussian_psf, prepare_psf, richardson_lucy

    kernel = gaussian_psf(2.0) + 1e-4  # a "measured" spot with a flat pedestal
    psf_file = tmp_path / "spot.tif"
    tifffile.imwrite(psf_file, kernel.astype(np.float32))
    out = tmp_path / "fe_psf.tif"
    code, stdout, err = run(["deconvolve", inputs["npy"], "--psf", psf_file, "-n", "6", "--pixel-size-um", "5",
                             "--out", out], capsys)
    assert code == 0, err
    m = load_map(out)
    want = richardson_lucy(np.load(inputs["npy"]), prepare_psf(kernel.astype(np.float32)), 6)
    np.testing.assert_allclose(m.data, want, rtol=1e-4, atol=1e-3)
    assert m.metadata["parameters"]["psf"] == {"file": str(psf_file), "shape": [17, 17]}
    # bad PSF files: one line naming the file and what is wrong
    for name, arr, reason in [("neg.tif", -np.ones((5, 5)), "has 25 negative value"),
                              ("zero.tif", np.zeros((5, 5)), "is all zero"),
                              ("huge.tif", np.ones((60, 60)), r"\(61 x 61 px\) is larger than the map \(40 x 48 px\)")]:
        bad = tmp_path / name
        tifffile.imwrite(bad, arr.astype(np.float32))
        code, _, err = run(["deconvolve", inputs["npy"], "--psf", bad, "--pixel-size-um", "5",
                            "--out", tmp_path / f"o_{name}"], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert name in err and __import__("re").search(reason, err), err
    code, _, err = run(["deconvolve", inputs["npy"], "--psf", psf_file, "--psf-sigma-um", "10", "--pixel-size-um",
                        "5", "--out", tmp_path / "both.tif"], capsys)
    assert code == 2 and "not both" in err


def test_deconvolve_reports_the_computation_time_and_names_its_flags(inputs, tmp_path, capsys):
    import re

    out = tmp_path / "w.tif"
    code, stdout, err = run(["deconvolve", inputs["npy"], "--method", "wiener", "--psf-sigma-um", "10",
                             "--pixel-size-um", "5", "--out", out], capsys)
    assert code == 0, err
    t = re.search(r"restoration (\d+) ms \(reading (\d+) ms, writing (\d+) ms\)", stdout)
    assert t, stdout
    # Wiener on 40 x 48 px takes milliseconds; the imports and I/O are not counted in it
    assert int(t.group(1)) < 500 and load_map(out).metadata["seconds"] < 0.5
    # library messages are given in the command line's words
    code, _, err = run(["deconvolve", inputs["npy"], "--psf-sigma-um", "10", "--out", tmp_path / "x.tif"], capsys)
    assert code == 2 and "pass --pixel-size-um" in err and "pixel_size_um" not in err
    saved = tmp_path / "saved.tif"  # a file with a pixel size, overridden: the warning names the flag
    assert run(["deconvolve", inputs["npy"], "--method", "wiener", "--psf-sigma-um", "10", "--pixel-size-um", "5",
                "--out", saved], capsys)[0] == 0
    code, _, err = run(["deconvolve", saved, "--method", "wiener", "--psf-sigma-um", "10", "--pixel-size-um", "4",
                        "--out", tmp_path / "y.tif"], capsys)
    assert code == 0 and "--pixel-size-um 4 overrides the file's 5 um" in err


def test_deconvolve_negative_and_masked_maps(inputs, tmp_path, capsys):
    a = np.load(inputs["npy"]) - 40.0  # background-subtracted: negative pixels
    a[3, 4] = np.nan  # a dead pixel
    src = tmp_path / "bg.npy"
    np.save(src, a)
    out = tmp_path / "bg_rl.tif"
    code, stdout, err = run(["deconvolve", src, "--psf-sigma-um", "10", "-n", "5", "--pixel-size-um", "5",
                             "--out", out], capsys)
    assert code == 0, err
    assert "1 masked (NaN) value(s) in bg.npy" in err
    m = load_map(out)
    assert np.all(np.isfinite(m.data)) and m.data.min() < 0  # shifted and shifted back (negative='offset')
    code, _, err = run(["deconvolve", src, "--psf-sigma-um", "10", "-n", "5", "--pixel-size-um", "5",
                        "--negative", "error", "--out", tmp_path / "e.tif"], capsys)
    assert code == 2 and "negative='error'" in err
    code, _, err = run(["deconvolve", src, "--method", "sgp", "--stop", "discrepancy", "-n", "300",
                        "--psf-sigma-um", "10", "--pixel-size-um", "5", "--out", tmp_path / "s.tif"], capsys)
    assert code == 0, err
    assert load_map(tmp_path / "s.tif").metadata["parameters"]["stop"] == "discrepancy"


def test_deconvolve_a_real_mda_scan_normalised_by_a_scaler(tmp_path, capsys):
    src = ROOT / "data" / "xrf-maps-2ide" / "2xfm_0010.mda"
    assert src.is_file(), f"{src} is missing (committed in data/)"
    out = tmp_path / "roi.h5"
    code, stdout, err = run(["deconvolve", src, "--channel", "Ca Ka", "--normalize",
                             "2xfm:scaler3_cts1.B", "--psf-sigma-um", "40", "-n", "5", "--out", out], capsys)
    assert code == 0, err
    m = load_map(out)
    assert m.pixel_size_um == 50.0 and m.shape == (11, 11)
    assert m.metadata["parameters"]["normalize"] == "2xfm:scaler3_cts1.B"
