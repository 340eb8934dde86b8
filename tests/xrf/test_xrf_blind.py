"""Blind L0 deconvolution (Pan et al. 2014) on small synthetic scenes."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from superres_widgets.xrf import (BlindResult, DeconvolutionCancelled, blind_l0, convolve,
                                  gaussian_psf, kernel_to_sigma, l0_restore)


def _scene(n=128):
    """Two-tone 'text-like' scene: bars and blocks, 0/1, as counts 50/250."""
    x = np.zeros((n, n))
    for c in range(16, 64, 10):
        x[16:60, c:c + 5] = 1
    for r in range(70, 110, 10):
        x[r:r + 5, 16:60] = 1
    x[70:110, 72:112] = 1
    x[20:50, 76:82] = 1
    x[30:36, 90:118] = 1
    return 50 + 200 * x


@pytest.fixture(scope="module")
def blurred():
    rng = np.random.default_rng(0)
    psf = gaussian_psf(2.5)
    return rng.poisson(convolve(_scene(), psf)).astype(float)


def test_blind_kernel_sigma_within_20_percent(blurred):
    res = blind_l0(blurred, 19)
    assert isinstance(res, BlindResult)
    image, kernel = res  # unpacks as (image, kernel)
    assert kernel.shape == (19, 19)
    assert kernel.sum() == pytest.approx(1.0)
    assert kernel.min() >= 0
    assert kernel_to_sigma(kernel) == pytest.approx(2.5, rel=0.2)
    assert image.shape == blurred.shape and image.dtype == np.float64
    assert np.all(np.isfinite(image))
    # the restored edges are steeper than the blurred ones
    truth = _scene()
    assert np.abs(image - truth).mean() < np.abs(blurred - truth).mean()


def test_blind_final_options(blurred):
    rl = blind_l0(blurred, 19, xk_iter=2, final="rl", final_iter=20)
    none = blind_l0(blurred, 18, xk_iter=2, final=None)
    assert none.kernel.shape == (19, 19)  # an even size is made odd
    np.testing.assert_allclose(rl.kernel, none.kernel)  # same estimation stage
    assert not np.allclose(rl.image, none.image)


def test_l0_restore_with_true_kernel_is_two_tone():
    psf = gaussian_psf(2.0)
    truth = _scene()
    y = convolve(truth, psf)
    out = l0_restore(y, psf, lambda_pixel=1e-4, lambda_grad=1e-4, levels=(50, 250))
    assert np.abs(out - truth).mean() < 0.05 * np.abs(y - truth).mean()
    # strong weights remove small features entirely (the L0 prior's trade-off)
    strong = l0_restore(y, psf, lambda_pixel=1e-2, lambda_grad=1e-2, levels=(50, 250))
    assert np.abs(strong - truth).mean() > np.abs(out - truth).mean()


def test_blind_callback_and_cancel(blurred):
    calls = []

    def cb(i, est):
        calls.append(i)
        assert isinstance(est, BlindResult)
        assert est.image.shape == blurred.shape and est.kernel.shape == (19, 19)

    blind_l0(blurred, 19, xk_iter=2, callback=cb, callback_every=2)
    # 2 levels' worth of alternations (every 2nd reported) and the final restoration
    assert calls == sorted(calls) and len(calls) >= 2
    assert all(c % 2 == 0 for c in calls[:-1])

    ev = threading.Event()

    def stop_after_first(i, est):
        ev.set()

    with pytest.raises(DeconvolutionCancelled) as info:
        blind_l0(blurred, 19, callback=stop_after_first, cancel=ev)
    assert info.value.iteration == 1
    assert info.value.estimate.shape == blurred.shape


@pytest.mark.parametrize("kwargs, name", [
    (dict(kernel_size=2), "kernel_size"),
    (dict(kernel_size=501), "kernel_size"),
    (dict(lambda_grad=-1.0), "lambda_grad"),
    (dict(lambda_pixel=np.inf), "lambda_pixel"),
    (dict(xk_iter=0), "xk_iter"),
    (dict(final="wiener"), "final"),
    (dict(kappa=1.0), "kappa"),
    (dict(image=np.full((64, 64), np.nan)), "image"),
    (dict(image=np.ones((4, 64, 64))), "image"),
])
def test_blind_bad_input(kwargs, name):
    args = dict(image=np.ones((64, 64)), kernel_size=9)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        blind_l0(**args)


@pytest.mark.parametrize("img", [np.zeros((48, 48)), np.full((48, 48), 3.0)])
def test_blind_no_nan_on_featureless_input(img):
    res = blind_l0(img, 9, xk_iter=2)
    assert np.all(np.isfinite(res.image)) and np.all(np.isfinite(res.kernel))
    assert res.kernel.sum() == pytest.approx(1.0)
