"""MSE, SSIM and PSNR against numpy and scikit-image (test-only dependency)."""

from __future__ import annotations

import numpy as np
import pytest

from superres_widgets.xrf import mse, normalize, psnr, ssim

skm = pytest.importorskip("skimage.metrics")


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    a = rng.random((64, 48))
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1)
    return a, b


def test_ssim_equals_skimage(pair):
    a, b = pair
    for d in (1.0, 2.5):
        ref = skm.structural_similarity(a, b, win_size=7, data_range=d, K1=0.01, K2=0.03,
                                        gaussian_weights=False, use_sample_covariance=True)
        assert ssim(a, b, data_range=d) == pytest.approx(ref, abs=1e-6)


def test_ssim_equals_skimage_on_counts_and_full_map(pair):
    a, b = (x * 300 + 100 for x in pair)
    mine, smap = ssim(a, b, data_range=300.0, full=True)
    ref, rmap = skm.structural_similarity(a, b, win_size=7, data_range=300.0, full=True)
    assert mine == pytest.approx(ref, abs=1e-6)
    np.testing.assert_allclose(smap, rmap, atol=1e-6)


def test_ssim_other_window_equals_skimage(pair):
    a, b = pair
    ref = skm.structural_similarity(a, b, win_size=11, data_range=1.0)
    assert ssim(a, b, data_range=1.0, win_size=11) == pytest.approx(ref, abs=1e-6)


def test_ssim_identity_and_symmetry(pair):
    a, b = pair
    assert ssim(a, a, data_range=1.0) == pytest.approx(1.0, abs=1e-12)
    assert ssim(a, b, data_range=1.0) == pytest.approx(ssim(b, a, data_range=1.0), abs=1e-12)


def test_mse_and_psnr(pair):
    a, b = pair
    assert mse(a, b) == pytest.approx(np.mean((a - b) ** 2), rel=1e-12)
    assert mse(a, b) == pytest.approx(skm.mean_squared_error(a, b), rel=1e-12)
    assert psnr(a, b, data_range=1.0) == pytest.approx(
        skm.peak_signal_noise_ratio(a, b, data_range=1.0), rel=1e-12)
    assert psnr(a, a, data_range=1.0) == np.inf


def test_normalize_levels():
    x = np.array([[137.5, 214.5], [176.0, 100.0]])
    n = normalize(x, 137.5, 214.5)
    np.testing.assert_allclose(n, [[0, 1], [0.5, (100 - 137.5) / 77]])  # no clipping
    np.testing.assert_allclose(normalize(x), (x - 100) / 114.5)


@pytest.mark.parametrize("call, name", [
    (lambda a: ssim(a, a[:-1], data_range=1), "image1"),
    (lambda a: ssim(a, a, data_range=0), "data_range"),
    (lambda a: ssim(a, a, data_range=1, win_size=6), "win_size"),
    (lambda a: ssim(a, a, data_range=1, win_size=99), "win_size"),
    (lambda a: ssim(a[None], a[None], data_range=1), "image0"),
    (lambda a: mse(a, np.full_like(a, np.nan)), "image1"),
    (lambda a: psnr(a, a, data_range=-1), "data_range"),
    (lambda a: normalize(a, 1.0, 1.0), "high"),
])
def test_bad_input(pair, call, name):
    with pytest.raises(ValueError, match=name):
        call(pair[0])
