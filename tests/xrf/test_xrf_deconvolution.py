"""Non-blind deconvolution: operators, Wiener, Richardson-Lucy, FISTA.

Independent references: scipy.ndimage convolution, dense linear algebra,
scipy.optimize, and scikit-image (test-only dependency):
``skimage.restoration.wiener`` and ``richardson_lucy``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy import ndimage, optimize

from superres_widgets.xrf import (ConvolutionOperator, DeconvolutionCancelled, convolve, fista,
                                  gaussian_psf, richardson_lucy, wiener)
from superres_widgets.xrf._operators import laplacian_kernel

skimage_restoration = pytest.importorskip("skimage.restoration")


def _bars(shape=(96, 80)):
    img = np.full(shape, 20.0)
    for c in range(20, 60, 8):
        img[20:76, c:c + 4] = 120.0
    img[80:88, 10:70] = 120.0
    return img


# ------------------------------------------------------------------ operator

@pytest.mark.parametrize("boundary, mode", [("reflect", "reflect"), ("periodic", "wrap")])
@pytest.mark.parametrize("kind", ["symmetric", "asymmetric"])
def test_operator_matches_ndimage(boundary, mode, kind):
    """forward == scipy.ndimage.convolve with the stated boundary, DCT and FFT paths."""
    rng = np.random.default_rng(0)
    x = rng.random((37, 52))
    if kind == "symmetric":
        k = gaussian_psf(2.0, 1.3)
    else:
        k = rng.random((7, 5))
        k /= k.sum()
    op = ConvolutionOperator(k, x.shape, boundary, dtype=np.float64)
    if boundary == "reflect":
        assert op.kind == ("dct" if kind == "symmetric" else "fft")
    y = op.crop(op.forward(op.extend(x)))
    np.testing.assert_allclose(y, ndimage.convolve(x, k, mode=mode), atol=1e-12)


@pytest.mark.parametrize("boundary", ["reflect", "periodic", "masked"])
def test_operator_adjoint_identity(boundary):
    rng = np.random.default_rng(1)
    k = rng.random((5, 9))
    op = ConvolutionOperator(k / k.sum(), (30, 41), boundary, dtype=np.float64)
    u, v = rng.random(op.work_shape), rng.random(op.work_shape)
    assert np.vdot(op.forward(u), v) == pytest.approx(np.vdot(u, op.adjoint(v)), rel=1e-12)


def test_operator_caches_transfer_function():
    k = gaussian_psf(3.0)
    a = ConvolutionOperator(k, (64, 64), "periodic")
    b = ConvolutionOperator(k.copy(), (64, 64), "periodic")
    assert a.transfer is b.transfer  # same cached array, not recomputed
    assert not a.transfer.flags.writeable


def test_convolve_even_kernel_origin():
    """Even kernels: origin at (rows // 2, cols // 2), a shifted delta moves the image."""
    x = np.zeros((16, 16))
    x[8, 8] = 1.0
    k = np.zeros((4, 4))
    k[2, 2] = 1.0  # the origin -> identity
    np.testing.assert_allclose(convolve(x, k, boundary="periodic"), x, atol=1e-14)
    k = np.zeros((4, 4))
    k[3, 2] = 1.0  # one row below the origin -> shift down by one
    np.testing.assert_allclose(convolve(x, k, boundary="periodic"), np.roll(x, 1, 0), atol=1e-14)


# -------------------------------------------------------------------- Wiener

def test_wiener_periodic_equals_skimage():
    rng = np.random.default_rng(2)
    img = convolve(_bars(), gaussian_psf(2.0)) + rng.normal(0, 2, (96, 80))
    psf = gaussian_psf(2.0)
    for balance in (1e-3, 0.1):
        ours = wiener(img, psf, balance, boundary="periodic")
        ref = skimage_restoration.wiener(img, psf, balance, clip=False)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)
        assert ours.dtype == np.float64


def test_wiener_reflect_equals_dense_solution():
    """Reflect + symmetric kernels: (A^2 + b L^2)^-1 A y with dense reflect matrices."""
    rng = np.random.default_rng(3)
    shape = (12, 11)
    n = shape[0] * shape[1]
    k = gaussian_psf(1.2)
    lap = laplacian_kernel()

    def matrix(kernel):
        cols = []
        for i in range(n):
            e = np.zeros(n)
            e[i] = 1
            cols.append(ndimage.convolve(e.reshape(shape), kernel, mode="reflect").ravel())
        return np.array(cols).T

    a, lm = matrix(k), matrix(lap)
    y = rng.random(shape) * 50
    b = 0.05
    ref = np.linalg.solve(a.T @ a + b * lm.T @ lm, a.T @ y.ravel()).reshape(shape)
    np.testing.assert_allclose(wiener(y, k, b), ref, rtol=1e-9, atol=1e-9)
    # float32 working precision is close but not exact
    np.testing.assert_allclose(wiener(y, k, b, dtype=np.float32), ref, rtol=1e-3, atol=1e-3)


def test_wiener_no_clipping_of_counts():
    img = _bars() * 100  # counts up to 12000
    out = wiener(convolve(img, gaussian_psf(1.5)), gaussian_psf(1.5), 1e-4)
    assert out.max() > 10000


def test_wiener_asymmetric_psf_reflect_close_to_truth():
    rng = np.random.default_rng(4)
    k = rng.random((5, 4))
    k /= k.sum()
    truth = _bars()
    out = wiener(convolve(truth, k), k, 1e-6)
    assert np.abs(out - truth)[10:-10, 10:-10].max() < 1.0


# ------------------------------------------------------------ Richardson-Lucy

def test_richardson_lucy_matches_skimage_interior():
    """Same start (0.5): agreement to 1e-4 relative away from the borders.

    skimage zero-pads (its borders collapse); we reflect.  The difference
    propagates inward by the kernel half-width per iteration, damped, so a
    40 px margin after 30 iterations of a sigma-2 PSF is enough.
    """
    from skimage import data

    img = data.camera().astype(float)[::2, ::2] / 255.0 * 100 + 10
    psf = gaussian_psf(2.0)
    y = convolve(img, psf)
    ref = skimage_restoration.richardson_lucy(y, psf, 30, clip=False)
    ours = richardson_lucy(y, psf, 30, x0=np.full(y.shape, 0.5))
    m = 40
    rel = np.abs(ours - ref)[m:-m, m:-m] / ref[m:-m, m:-m]
    assert rel.max() < 1e-4
    # ... while at the border skimage's zero padding departs wildly from the data
    edge = np.abs(ref[0] - y[0]).max()
    assert edge > 10 * np.abs(ours[0] - y[0]).max()


def test_richardson_lucy_flux_and_positivity():
    rng = np.random.default_rng(5)
    psf = gaussian_psf(2.5)
    y = rng.poisson(convolve(_bars(), psf)).astype(float)
    out = richardson_lucy(y, psf, 20, boundary="periodic")
    assert out.sum() == pytest.approx(y.sum(), rel=1e-4)  # EM conserves counts
    assert out.min() >= 0


def test_richardson_lucy_converges_to_truth_noise_free():
    psf = gaussian_psf(1.5)
    truth = _bars()
    y = convolve(truth, psf)
    def err(n, acc=None):
        return np.abs(richardson_lucy(y, psf, n, dtype=np.float64, acceleration=acc) - truth).mean()

    e_blur = np.abs(y - truth).mean()
    assert err(200) < err(10) < 0.7 * e_blur
    assert err(200, "biggs-andrews") < 0.9 * err(200)


def test_richardson_lucy_masked_boundary_no_border_artifact():
    """Masked (non-circulant) model: border pixels as good as the interior."""
    psf = gaussian_psf(2.0)
    truth = np.pad(_bars(), 20, mode="constant", constant_values=60.0)
    y_full = convolve(truth, psf)
    y = y_full[20:-20, 20:-20]  # data cut from a larger scene
    out = richardson_lucy(y, psf, 100, boundary="masked", dtype=np.float64)
    err = np.abs(out - truth[20:-20, 20:-20])
    assert err[:3].mean() < 3 * err[20:-20, 20:-20].mean() + 2.0


def test_biggs_andrews_reaches_lower_residual():
    rng = np.random.default_rng(6)
    psf = gaussian_psf(3.0)
    y = rng.poisson(convolve(_bars() * 5, psf)).astype(float)

    def res(x):
        return np.linalg.norm(y - convolve(x, psf))

    plain = richardson_lucy(y, psf, 15)
    fast = richardson_lucy(y, psf, 15, acceleration="biggs-andrews")
    assert res(fast) < res(plain)
    assert np.all(np.isfinite(fast)) and fast.min() >= 0


def test_richardson_lucy_integer_input_and_float32_close_to_float64():
    rng = np.random.default_rng(7)
    psf = gaussian_psf(2.0)
    y = rng.poisson(convolve(_bars(), psf))
    assert y.dtype.kind == "i"
    a = richardson_lucy(y, psf, 20)
    b = richardson_lucy(y.astype(float), psf, 20, dtype=np.float64)
    assert a.dtype == np.float64
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)


# --------------------------------------------------------------------- FISTA

def test_fista_identity_psf_is_soft_threshold():
    """H = I: the minimiser of 1/2||x - y||^2 + lam||x||_1, x >= 0 is max(y - lam, 0)."""
    rng = np.random.default_rng(8)
    y = rng.normal(5, 3, (20, 30))
    out = fista(y, np.ones((1, 1)), 2.0, 5)
    np.testing.assert_allclose(out, np.maximum(y - 2.0, 0), atol=1e-5)
    out = fista(y, np.ones((1, 1)), 2.0, 5, nonnegative=False)
    np.testing.assert_allclose(out, np.sign(y) * np.maximum(np.abs(y) - 2.0, 0), atol=1e-5)


def test_fista_minimises_objective_like_lbfgsb():
    """Small problem: FISTA's objective matches scipy's bound-constrained optimum."""
    rng = np.random.default_rng(9)
    shape = (16, 14)
    psf = gaussian_psf(1.0)
    truth = np.zeros(shape)
    truth[4:12, 5:7] = 10
    y = convolve(truth, psf, boundary="periodic") + rng.normal(0, 0.2, shape)
    lam = 0.05

    def f(xv):
        x = xv.reshape(shape)
        r = convolve(x, psf, boundary="periodic") - y
        g = convolve(r, psf[::-1, ::-1], boundary="periodic") + lam
        return 0.5 * np.sum(r * r) + lam * x.sum(), g.ravel()

    ref = optimize.minimize(f, np.zeros(y.size), jac=True, method="L-BFGS-B",
                            bounds=[(0, None)] * y.size, options=dict(maxiter=5000, ftol=1e-14))
    out = fista(y, psf, lam, 2000, boundary="periodic", dtype=np.float64)
    assert f(out.ravel())[0] == pytest.approx(ref.fun, rel=1e-6)


def test_fista_masked_and_reflect_run_and_improve():
    rng = np.random.default_rng(10)
    psf = gaussian_psf(2.0)
    truth = _bars()
    y = rng.poisson(convolve(truth, psf)).astype(float)
    for b in ("reflect", "masked"):
        out = fista(y, psf, 0.0, 30, boundary=b)
        assert np.abs(out - truth)[8:-8, 8:-8].mean() < np.abs(y - truth)[8:-8, 8:-8].mean()


# ------------------------------------------------- progress and cancellation

@pytest.mark.parametrize("method", ["rl", "fista"])
def test_callback_every_k_and_last(method):
    psf = gaussian_psf(1.5)
    y = convolve(_bars(), psf)
    seen = []

    def cb(i, est):
        assert est.shape == y.shape and est.dtype == np.float64
        seen.append(i)

    if method == "rl":
        out = richardson_lucy(y, psf, 10, callback=cb, callback_every=3)
    else:
        out = fista(y, psf, 0.0, 10, callback=cb, callback_every=3)
    assert seen == [3, 6, 9, 10]
    assert out.shape == y.shape


@pytest.mark.parametrize("method", ["rl", "fista"])
def test_cancel_event_raises_with_last_estimate(method):
    psf = gaussian_psf(1.5)
    y = convolve(_bars(), psf)
    ev = threading.Event()

    def cb(i, est):
        if i == 4:
            ev.set()

    fn = richardson_lucy if method == "rl" else (lambda *a, **k: fista(a[0], a[1], 0.0, a[2], **k))
    with pytest.raises(DeconvolutionCancelled) as info:
        fn(y, psf, 50, callback=cb, cancel=ev)
    assert info.value.iteration == 4
    assert info.value.estimate.shape == y.shape


def test_cancel_callable():
    psf = gaussian_psf(1.5)
    y = convolve(_bars(), psf)
    with pytest.raises(DeconvolutionCancelled) as info:
        richardson_lucy(y, psf, 5, cancel=lambda: True)
    assert info.value.iteration == 0 and info.value.estimate is None


# ----------------------------------------------------------------- bad input

PSF = gaussian_psf(1.0)
IMG = _bars()


def _calls():
    return {
        "wiener": lambda img=IMG, psf=PSF, **k: wiener(img, psf, k.pop("balance", 0.1), **k),
        "rl": lambda img=IMG, psf=PSF, **k: richardson_lucy(img, psf, k.pop("num_iter", 2), **k),
        "fista": lambda img=IMG, psf=PSF, **k: fista(img, psf, k.pop("lam", 0.1),
                                                      k.pop("num_iter", 2), **k),
    }


nan_img = IMG.copy()
nan_img[3, 3] = np.nan
inf_img = IMG.copy()
inf_img[3, 3] = np.inf
nan_psf = PSF.copy()
nan_psf[1, 1] = np.nan


@pytest.mark.parametrize("method", ["wiener", "rl", "fista"])
@pytest.mark.parametrize("kwargs, name", [
    (dict(img=np.full_like(IMG, np.nan)), "image: every pixel is masked"),  # a NaN pixel is masked (test_xrf_masks.py)
    (dict(img=inf_img), "image"),
    (dict(psf=nan_psf), "psf"),
    (dict(psf=-PSF), "psf"),
    (dict(psf=np.zeros((3, 3))), "psf"),
    (dict(psf=np.ones((100, 3))), "psf"),
    (dict(img=np.ones((4, 5, 6))), "image"),
    (dict(img=np.ones(10)), "image"),
    (dict(img=np.ones((0, 5))), "image"),
    (dict(psf=np.ones((0, 3))), "psf"),
    (dict(img=IMG.astype(complex)), "image"),
    (dict(boundary="zero"), "boundary"),
])
def test_bad_input_names_parameter(method, kwargs, name):
    with pytest.raises(ValueError, match=name):
        _calls()[method](**kwargs)


@pytest.mark.parametrize("call, name", [
    (lambda: richardson_lucy(IMG - 50, PSF, 2, negative="error"), "image has .* negative value"),
    (lambda: richardson_lucy(IMG, PSF, 2, negative="keep"), "negative"),
    (lambda: richardson_lucy(IMG, PSF, 0), "num_iter"),
    (lambda: richardson_lucy(IMG, PSF, 2.5), "num_iter"),
    (lambda: fista(IMG, PSF, 0.1, 0), "num_iter"),
    (lambda: fista(IMG, PSF, -0.1, 2), "lam"),
    (lambda: wiener(IMG, PSF, -1.0), "balance"),
    (lambda: wiener(IMG, PSF, np.nan), "balance"),
    (lambda: wiener(IMG, PSF, 0.1, boundary="masked"), "boundary"),
    (lambda: richardson_lucy(IMG, PSF, 2, acceleration="magic"), "acceleration"),
    (lambda: richardson_lucy(IMG, PSF, 2, callback=3), "callback"),
    (lambda: richardson_lucy(IMG, PSF, 2, callback_every=0), "callback_every"),
    (lambda: richardson_lucy(IMG, PSF, 2, cancel=5), "cancel"),
    (lambda: richardson_lucy(IMG, PSF, 2, x0=np.ones((3, 3))), "x0"),
    (lambda: richardson_lucy(IMG, PSF, 2, dtype=np.int32), "dtype"),
])
def test_bad_scalar_input_names_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize("img", [np.zeros((32, 32)), np.full((32, 32), 7.0),
                                 np.eye(32) * 1e6, np.eye(32) * 1e-30])
def test_no_nan_for_valid_input(img):
    psf = gaussian_psf(2.0)
    for out in (richardson_lucy(img, psf, 20), richardson_lucy(img, psf, 20, boundary="masked"),
                richardson_lucy(img, psf, 20, acceleration="biggs-andrews"),
                fista(img, psf, 0.1, 20), wiener(img, psf, 0.0 if img.any() else 0.1)):
        assert np.all(np.isfinite(out))


def test_integer_and_bool_images_accepted():
    img = (IMG > 50)
    assert np.all(np.isfinite(wiener(img, PSF, 0.1)))
    assert np.all(np.isfinite(richardson_lucy(img.astype(np.uint16), PSF, 3)))
