"""Pixels that are not counts (masks, negative values) and PSF images, in every method and in deconvolve_stack."""

from __future__ import annotations

import numpy as np
import pytest
from _dense import blur_matrix

from superres_widgets.xrf import (NEGATIVE_POLICIES, blind_l0, convolve, deconvolve_stack, gaussian_psf, get_method,
                                  methods, prepare_psf, psf_centroid, psf_from_dot_scan, richardson_lucy)
from superres_widgets.xrf._data import prepare_data

SHAPE = (40, 44)
PSF = gaussian_psf(1.5)


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(21)
    truth = np.full(SHAPE, 30.0)
    truth[10:30, 12:20] = 250.0
    truth[5:9, 25:40] = 120.0
    return rng.poisson(convolve(truth, PSF)).astype(float)


def _run(name, image, **options):
    m = get_method(name)
    params = {"num_iter": 15} if "num_iter" in m.parameter_names else {}
    if name == "blind_l0":
        params = {"kernel_size": 9}
    out = m.run(image, PSF if m.needs_psf else None, params, **options)
    return np.asarray(getattr(out, "image", out))


# ------------------------------------------------------------------------------------------ masks

@pytest.mark.parametrize("name", [m.name for m in methods() if m.name != "blind_l0"])
def test_every_method_ignores_what_lies_under_the_mask(counts, name):
    mask = np.zeros(SHAPE, bool)
    mask[18:22, 14:19] = True  # dead pixels on the bright bar
    mask[0, :] = True  # and a dead first line
    a = _run(name, np.where(mask, np.nan, counts))  # NaN = masked
    b = _run(name, np.where(mask, 1e5, counts), mask=mask)
    c = _run(name, np.where(mask, 0.0, counts), mask=mask)
    assert np.all(np.isfinite(a))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(b, c, rtol=1e-5, atol=1e-3)
    # and the hole is filled from its neighbours: the bar stays bright there
    assert a[19, 16] > 0.6 * counts[10:30, 12:20].mean()


def test_masked_richardson_lucy_is_the_weighted_em_update():
    """One and two iterations against the dense formula x <- x / (H^T w) * H^T(w y / H x)."""
    shape = (10, 12)
    rng = np.random.default_rng(5)
    y = rng.poisson(60.0, shape).astype(float)
    psf = gaussian_psf(1.0)
    h = blur_matrix(psf, shape)
    mask = np.zeros(shape, bool)
    mask[4:6, 3:8] = True
    w = (~mask).ravel().astype(float)
    x = np.full(y.size, np.where(mask, np.nan, y)[~mask].mean())
    for n in (1, 2):
        x = x / (h.T @ w) * (h.T @ (w * y.ravel() / (h @ x)))
        out = richardson_lucy(np.where(mask, np.nan, y), psf, n, dtype=np.float64)
        np.testing.assert_allclose(out.ravel(), x, rtol=1e-10)


def test_a_masked_array_and_bad_masks():
    y = np.ma.masked_array(np.ones((8, 8)) * 5, mask=np.zeros((8, 8), bool))
    y.mask[2, 2] = True
    d = prepare_data(y)
    assert d.n_masked == 1 and d.weights[2, 2] == 0
    with pytest.raises(ValueError, match=r"mask shape \(3, 3\) differs from the image shape \(8, 8\)"):
        prepare_data(np.ones((8, 8)), np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="image: every pixel is masked"):
        prepare_data(np.ones((8, 8)), np.ones((8, 8), bool))
    a = np.ones((8, 8))
    a[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"image contains 1 infinite value"):
        prepare_data(a)


def test_inputs_are_never_modified(counts):
    img = np.where(np.eye(*SHAPE, dtype=bool), np.nan, counts - 40.0)
    keep = img.copy()
    mask = np.zeros(SHAPE, bool)
    mask[3, 3] = True
    mkeep = mask.copy()
    for m in methods(needs_psf=True):
        _run(m.name, img, mask=mask)
    np.testing.assert_array_equal(img, keep)
    np.testing.assert_array_equal(mask, mkeep)


# ------------------------------------------------------------------------------- negative values

def test_negative_policies_of_the_poisson_methods(counts):
    y = counts - counts.min()  # min 0
    shifted = y - 7.0
    for name in ("richardson_lucy", "richardson_lucy_tv", "sgp"):
        # offset: the map shifted to a minimum of 0, restored, shifted back
        np.testing.assert_allclose(_run(name, shifted), _run(name, y) - 7.0, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(_run(name, shifted, negative="clip"), _run(name, np.maximum(shifted, 0)),
                                   rtol=1e-6, atol=1e-4)
        with pytest.raises(ValueError, match=r"image has \d+ negative value\(s\) \(min -7\) and negative='error'"):
            _run(name, shifted, negative="error")
        with pytest.raises(ValueError, match="'keep' is for least-squares methods"):
            _run(name, shifted, negative="keep")
    assert NEGATIVE_POLICIES == ("offset", "clip", "error", "keep")


def test_least_squares_methods_keep_negative_values_by_default(counts):
    shifted = counts - 100.0
    for name in ("wiener", "fista", "landweber", "tikhonov_miller"):
        a = _run(name, shifted)
        assert np.all(np.isfinite(a))
    # Wiener is linear and passes constants: every policy but clip gives the same map
    np.testing.assert_allclose(_run("wiener", shifted, negative="offset"), _run("wiener", shifted), atol=1e-8)


def test_blind_l0_with_nan_and_negative_pixels(counts):
    img = counts - 50.0
    img[5, 5] = np.nan
    res = blind_l0(img, 9, final="rl", final_iter=5)
    assert np.all(np.isfinite(res.image)) and res.kernel.shape == (9, 9)
    assert abs(np.nanmean(res.image) - np.nanmean(img)) < 0.05 * np.nanstd(img)


# ------------------------------------------------------------------------------------- PSF images

@pytest.mark.parametrize("bad, match", [
    (np.ones((0, 3)), r"psf .*empty"), (-np.ones((3, 3)), r"psf has 9 negative"),
    (np.full((3, 3), np.nan), r"psf contains NaN"), (np.zeros((3, 3)), r"psf is all zero"),
    (np.ones((45, 3)), r"psf shape \(45, 3\) is larger than the image shape \(40, 44\)")])
@pytest.mark.parametrize("name", [m.name for m in methods(needs_psf=True)])
def test_every_method_refuses_a_bad_psf_in_one_line(counts, name, bad, match):
    with pytest.raises(ValueError, match=match):
        get_method(name).run(counts, bad, {})


def test_prepare_psf_centres_a_measured_spot_and_says_what_is_wrong():
    spot = np.zeros((9, 10))
    spot[1:4, 6:9] = [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    k = prepare_psf(spot, (64, 64))
    r, c = psf_centroid(k)
    assert k.shape[0] % 2 == 1 and k.shape[1] % 2 == 1 and abs(k.sum() - 1) < 1e-12
    assert abs(r - k.shape[0] // 2) <= 0.5 and abs(c - k.shape[1] // 2) <= 0.5
    # a centred, odd kernel is returned as it is (normalised)
    g = gaussian_psf(2.0)
    np.testing.assert_allclose(prepare_psf(g * 7), g, rtol=1e-12)
    for bad, match in [(np.ones(5), "2-D"), (np.ones((3, 3)) * np.inf, "NaN or infinite"),
                       (np.ones((70, 3)), r"larger than the map \(64 x 64 px\)")]:
        with pytest.raises(ValueError, match=match):
            prepare_psf(bad, (64, 64), name="spot.tif")


def test_a_measured_dot_scan_psf_restores_like_the_fitted_gaussian():
    from superres_widgets.xrf import dot_scan, fit_point_scan

    scan = dot_scan(15.0, size_px=41, seed=3, peak_cps=4000.0, dwell_s=2.0)
    fit = fit_point_scan(scan.counts, pixel_size_um=5.0)
    measured = psf_from_dot_scan(scan.counts, fit)
    fitted = gaussian_psf(fit.sigma_u, fit.sigma_v, fit.rho, pixel_size_um=5.0)
    # the measured kernel is the fitted Gaussian plus noise: second moments agree
    from superres_widgets.xrf import kernel_to_sigma

    assert abs(np.mean(kernel_to_sigma(measured)) - np.mean(kernel_to_sigma(fitted))) < 0.15 * np.mean(
        kernel_to_sigma(fitted))
    r, c = psf_centroid(measured)
    assert abs(r - measured.shape[0] // 2) <= 0.5 and abs(c - measured.shape[1] // 2) <= 0.5


# ------------------------------------------------------------------------------- deconvolve_stack

def test_stack_with_psf_images_masks_and_offsets_agrees_with_the_method(counts):
    rng = np.random.default_rng(2)
    big = np.tile(counts, (3, 3))[:110, :120] - 20.0  # negative pixels
    big[50:53, 60:64] = np.nan
    stack = np.stack([big, big[::-1].copy()])
    noise = rng.random((13, 13)) * 1e-4
    # a "measured" kernel, symmetric in each axis (asymmetric kernels use a padded FFT grid whose outer
    # border differs between a tile and the whole map)
    kernel = gaussian_psf(1.5) + noise + noise[::-1] + noise[:, ::-1] + noise[::-1, ::-1]
    tiled = deconvolve_stack(stack, psf=kernel, method="rl", num_iter=8, chunk_px=48, dtype=np.float64)
    for c in range(2):
        whole = richardson_lucy(stack[c], prepare_psf(kernel), 8, dtype=np.float64)
        np.testing.assert_allclose(tiled[c], whole, atol=1e-4 * np.nanmax(whole))
    # one PSF image per channel, and the Gaussian path equals the PSF-image path
    a = deconvolve_stack(stack, psf=[gaussian_psf(1.5), gaussian_psf(2.0)], method="wiener", balance=0.05)
    b = deconvolve_stack(stack, [1.5, 2.0], 1.0, method="wiener", balance=0.05)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("name, params", [("landweber", {"num_iter": 30, "tau": 1.5}),
                                          ("landweber", {"num_iter": 100, "tau": 1.0})])
def test_the_declared_halos_of_the_new_tileable_methods_hold(counts, name, params):
    big = np.tile(counts, (4, 4))[:150, :160]
    tiled = deconvolve_stack(big, 3.0, 1.0, name, chunk_px=40, dtype=np.float64, **params)
    whole = get_method(name).run(big, gaussian_psf(3.0), params, dtype=np.float64)
    assert np.abs(tiled - whole).max() <= 1e-4 * np.abs(whole).max()


def test_stopping_rules_and_global_steps_restore_whole_maps(counts):
    m = get_method("rl")
    assert m.halo_px(2.0, {"stop": "discrepancy"}) is None and m.halo_px(2.0, {}) is not None
    # SGP, Tikhonov-Miller: step lengths from inner products over the whole map; RL-TV: measured 1.5e-3 at
    # the RL halo (its TV term reaches farther)
    assert [get_method(n).halo for n in ("sgp", "tikhonov_miller", "richardson_lucy_tv")] == [None, None, None]
