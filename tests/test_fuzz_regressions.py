"""Every example of issue 10 ("hostile input, faults and limits"), as a regression test.

Each call here used to hang, allocate terabytes, crash, return NaN, accept a meaningless value or fail with an
unclear error; each must now return at once with a ValueError naming the parameter (or the file) and what is
allowed.  The file- and disk-related examples are in ``test_hostile_files.py`` (full-disk writes, FIFOs, /dev/zero,
lying headers, external links, umask) and the CLI's one-line errors in ``test_fuzz_cli.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from superres_widgets import s3dxrd, xrf
from superres_widgets.io import MapFileError, load_map, save_map
from superres_widgets.validate import MemoryBudgetError, memory_limit_set

pytestmark = pytest.mark.timeout(120)  # each of these used to hang or run away; now they return at once


@pytest.fixture(scope="module")
def img():
    rng = np.random.default_rng(0)
    a = 20.0 + 5.0 * rng.random((32, 32))
    a[10:20, 12:16] += 200.0
    return a


@pytest.fixture(scope="module")
def psf():
    return xrf.gaussian_psf(1.5, shape=(9, 9))


@pytest.fixture(scope="module")
def recon():
    return s3dxrd.reconstruct_phantom(diameter_um=16, beam_um=4, step_um=4, omega_step_deg=2, subdivision=2,
                                      n_grains=3, seed=1, pixel_um=1.0)


# --- hangs ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, name", [(dict(beta_max=np.nan), "beta_max"), (dict(beta_max=np.inf), "beta_max"),
                                      (dict(mu_max=np.nan), "mu_max"), (dict(lambda_pixel=1e-300), "lambda_pixel")])
def test_l0_restore_never_loops_forever(img, psf, kw, name):
    with pytest.raises(ValueError, match=name):
        xrf.l0_restore(img, psf, **kw)


@pytest.mark.parametrize("n", [10**9, 10**6])
def test_blind_l0_num_scales_is_capped(img, n):
    with pytest.raises(ValueError, match=r"^num_scales must be an integer in \[1, \d+\], got " + str(n)):
        xrf.blind_l0(img, 5, num_scales=n)


@pytest.mark.parametrize("fn", ["richardson_lucy", "fista", "landweber", "sgp"])
def test_iteration_counts_are_capped(img, psf, fn):
    args = (0.01,) if fn == "fista" else ()
    with pytest.raises(ValueError, match=r"^num_iter must be an integer in \[1, 100000\], got 1000000000$"):
        getattr(xrf, fn)(img, psf, *args, num_iter=10**9)


def test_other_loops_are_capped(recon):
    with pytest.raises(ValueError, match="^n_iter must be an integer in"):
        s3dxrd.refine_orientation(recon.table.U[0], s3dxrd.merge_spots(recon.simulation.data),
                                  recon.simulation.data.reflections, n_iter=10**9)
    with pytest.raises(ValueError, match="^passes must be an integer in"):
        s3dxrd.likelihood_scores(recon.table, recon.simulation.data.geometry, recon.subpixel.xs, recon.subpixel.ys,
                                 passes=10**9)
    with pytest.raises(ValueError, match="^spurious_per_frame must be in"):
        s3dxrd.simulate_scan(recon.phantom, spurious_per_frame=1e6, omega_step_deg=4.0, seed=0)


# --- memory driven by arguments -------------------------------------------------------------------------------
@pytest.mark.parametrize("call, size", [
    (lambda: xrf.gaussian_psf(2.0, sigma_v=1e6), "GiB"),  # grew past 1.9 GB
    (lambda: xrf.gaussian_psf(1e6), "PiB"),  # asked for 466 TiB (one array; the budget counts the temporaries)
    (lambda: xrf.deconvolve_stack(np.ones((2, 32, 32)), 1e6, 5.0), "GiB|TiB"),
    (lambda: s3dxrd.superposition_map(s3dxrd.ScanGeometry(x_range=4), subdivision=1000), "GiB|TiB|PiB"),
    (lambda: s3dxrd.map_targets(4.0, 2, 1e7), "TiB|PiB"),
    (lambda: xrf.dot_scan(1e6), "TiB|PiB"),
    (lambda: s3dxrd.random_orientations(10**8), "GiB"),
])
def test_allocations_beyond_the_budget_are_refused_before_they_happen(call, size):
    with memory_limit_set("1 GiB"), pytest.raises(MemoryBudgetError) as info:
        call()
    msg = str(info.value)
    assert "would need" in msg and "the memory limit is 1 GiB" in msg and "SUPERRES_WIDGETS_MEMORY_LIMIT" in msg
    assert any(u in msg for u in size.split("|"))


def test_subdivision_and_grain_counts_have_caps():
    with pytest.raises(ValueError, match=r"^subdivision must be an integer in \[1, 1024\], got 1000000$"):
        s3dxrd.superposition_map(s3dxrd.ScanGeometry(x_range=4), subdivision=10**6)
    with pytest.raises(ValueError, match=r"^n_grains must be an integer in \[1, 100000\], got 1000000$"):
        s3dxrd.reconstruct_phantom(diameter_um=16, n_grains=10**6)


def test_the_cli_refuses_a_huge_psf_or_a_tiny_pixel_in_one_line(tmp_path):
    np.save(tmp_path / "in.npy", np.ones((32, 32)))
    for extra, expect in ((["--psf-sigma-um", "1e6", "--pixel-size-um", "1"], "would need"),
                          (["--psf-sigma-um", "2", "--pixel-size-um", "1e-6"], "pixel_size_um must be")):
        r = subprocess.run([sys.executable, "-m", "superres_widgets.cli", "deconvolve", "in.npy", "--out", "o.tif",
                            *extra], capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert r.stderr.startswith("superres-widgets: error: in.npy: ") and expect in r.stderr


def test_a_small_hdf5_declaring_a_huge_dataset_is_refused(tmp_path):
    import h5py

    with h5py.File(tmp_path / "tiny.h5", "w") as f:
        f.create_dataset("maps", shape=(20000, 20000), chunks=(1000, 1000), dtype="f4")
    assert os.path.getsize(tmp_path / "tiny.h5") < 5000
    with pytest.raises(MapFileError, match=r"tiny\.h5: dataset '/maps' declares 20000 x 20000 values but only 0 of "
                                           r"its 400 chunks were ever written"):
        load_map(tmp_path / "tiny.h5", pixel_size_um=1.0)


# --- silent wrong answers -------------------------------------------------------------------------------------
def test_richardson_lucy_on_huge_values_is_an_error_not_nan(img, psf):
    with pytest.raises(ValueError, match=r"^image values up to .* are beyond what dtype=float32 can iterate on"):
        xrf.richardson_lucy(img * 1e300, psf, 5)
    out = xrf.richardson_lucy(img * 1e20, psf, 5, dtype=np.float64)  # large but representable: finite
    assert np.all(np.isfinite(out))


def test_superposition_map_radius_zero_is_an_error_not_nan():
    with pytest.raises(ValueError, match=r"^radius=0 and r_min=0.5 leave no fully superposed target"):
        s3dxrd.superposition_map(s3dxrd.ScanGeometry(x_range=4), 2, radius=0)


def test_meaningless_thresholds_and_tolerances_are_refused(recon):
    with pytest.raises(ValueError, match=r"^threshold_deg must be in \(0, 180\], got 1000000.0"):
        s3dxrd.evaluate_map(recon.subpixel, recon.phantom, threshold_deg=1e6)
    with pytest.raises(ValueError, match=r"^threshold_deg must be a finite number in \(0, 180\], got nan"):
        s3dxrd.phantom_boundary_points(recon.phantom, threshold_deg=np.nan)
    data = recon.simulation.data
    for tol in (np.nan, -0.5):
        with pytest.raises(ValueError, match="^eta_tol_deg must be a finite number in"):
            s3dxrd.match_peaks([0], [1.0], [2.0], [0], [1.0], [2.0], eta_tol_deg=tol)
        with pytest.raises(ValueError, match="^omega_tol_deg must be a finite number in"):
            s3dxrd.index_peaks(data, omega_tol_deg=tol)


def test_grain_file_cell_tolerance_nan_is_refused(tmp_path):
    (tmp_path / "one_angstrom.ubi").write_text("1 0 0\n0 1 0\n0 0 1\n")
    with pytest.raises(ValueError, match=r"^cell_tol must be a finite number in \(0, 1\), got nan"):
        s3dxrd.orientations_from_grain_file(tmp_path / "one_angstrom.ubi", cell_tol=np.nan)
    with pytest.raises(ValueError, match="does not match the phase"):  # the 1 A cell for the 4.05 A phase
        s3dxrd.orientations_from_grain_file(tmp_path / "one_angstrom.ubi")


def test_convolution_operator_checks_its_psf_and_transform(psf):
    with pytest.raises(ValueError, match=r"^psf must be finite"):
        xrf.ConvolutionOperator(np.full((3, 3), np.nan), (16, 16))
    with pytest.raises(ValueError, match=r"^transform must be one of 'auto', 'fft', 'dct', 'pad', got 'bogus'"):
        xrf.ConvolutionOperator(psf, (16, 16), transform="bogus")


@pytest.mark.parametrize("call, name", [
    (lambda: xrf.gaussian_psf(True), "sigma_u"), (lambda: xrf.gaussian_psf("2"), "sigma_u"),
    (lambda: xrf.wiener(np.ones((8, 8)), np.ones((3, 3)), "0.1"), "balance"),
    (lambda: xrf.deconvolve_stack(np.ones((1, 16, 16)), 2.0, 1.0, num_iter="3"), "num_iter"),
    (lambda: s3dxrd.ScanGeometry(x_range="10"), "x_range"), (lambda: s3dxrd.ScanGeometry(step=True), "step"),
    (lambda: s3dxrd.voronoi_phantom(True), "diameter_um"), (lambda: s3dxrd.sample_to_specimen(True, 1.0), "sx"),
])
def test_bools_and_numeric_strings_are_not_numbers(call, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        call()


# --- unclear errors -------------------------------------------------------------------------------------------
def test_errors_name_the_parameter_instead_of_numpy_internals(img, tmp_path):
    dot = xrf.dot_scan(size_px=21, step_um=5.0, sigma_um=10.0).counts
    with pytest.raises(ValueError, match=r"^n_ellipse_points must be an integer in \[3, 1000000\], got 0"):
        xrf.fit_point_scan(dot, 5.0, n_ellipse_points=0)  # was IndexError
    with pytest.raises(ValueError, match=r"^element must be an integer in \[1, 6\], got 1000000"):
        xrf.lp_per_mm(2, 10**6)  # was OverflowError
    with pytest.raises(ValueError, match=r"^pixel_size_um must be a positive number of um in \[1e-05, 1e\+09\]"):
        save_map(tmp_path / "m.tif", img, pixel_size_um=1e-300, method="raw")  # was "max_denominator ..."
    with pytest.raises(ValueError, match=r"^geometry must be a ScanGeometry, got int"):
        s3dxrd.superposed_region(42, 0.0, 0.0)  # was AttributeError
    with pytest.raises(ValueError, match=r"^chart must be a USAFChart"):
        xrf.resolved_element(img, object())
    with pytest.raises(ValueError, match=r"^image_test shape \(10, 32\) differs from image_true shape"):
        xrf.psnr(img, img[:10], data_range=1.0)  # psnr's own names, not image0/image1


def test_the_cli_balance_inf_names_the_option(tmp_path):
    np.save(tmp_path / "in.npy", np.ones((32, 32)))
    r = subprocess.run([sys.executable, "-m", "superres_widgets.cli", "deconvolve", "in.npy", "--out", "o.tif",
                        "--method", "wiener", "--balance", "inf", "--psf-sigma-um", "2", "--pixel-size-um", "1"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--balance" in r.stderr, r.stderr
    assert "math domain error" not in r.stderr


def test_a_damaged_tiff_is_one_line_in_the_cli_without_tifffile_log_lines(tmp_path):
    import tifffile

    tifffile.imwrite(tmp_path / "good.tif", np.ones((64, 64), np.float32))
    raw = bytearray((tmp_path / "good.tif").read_bytes())
    (tmp_path / "bad.tif").write_bytes(bytes(raw[:-2000]))  # the strip is cut: tifffile logs, then fails
    r = subprocess.run([sys.executable, "-m", "superres_widgets.cli", "deconvolve", "bad.tif", "--out", "o.tif",
                        "--psf-sigma-um", "2", "--pixel-size-um", "1"], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    errors = [ln for ln in r.stderr.splitlines() if not ln.startswith("superres-widgets: warning:")]
    assert r.returncode == 2 and len(errors) == 1 and errors[0].startswith("superres-widgets: error: bad.tif: ")
    assert all(ln.startswith("superres-widgets: ") for ln in r.stderr.splitlines()), r.stderr


def test_save_map_refuses_what_load_map_cannot_read_back(tmp_path):
    with pytest.raises(ValueError, match=r"at least 2 x 2 values"):
        save_map(tmp_path / "one.tif", np.ones((1, 1)), pixel_size_um=1.0, method="raw")
    assert not (tmp_path / "one.tif").exists()
    out = save_map(tmp_path / "two.tif", np.ones((2, 2)), pixel_size_um=1.0, method="raw")
    assert load_map(out).data.shape == (2, 2)
