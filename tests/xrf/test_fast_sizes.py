"""Every image size fast (issue 14): the exact padded-FFT route ("pad") at slow transform lengths.

Independent references: ``scipy.ndimage.convolve`` (mode "reflect" == half-sample
symmetric, "wrap", "constant"), the DCT-II route of the same operator, and brute-force
inner products for the adjoint.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import ndimage

from superres_widgets import xrf
from superres_widgets.xrf import ConvolutionOperator, _fastconv, _operators, gaussian_psf

MODES = {"reflect": "reflect", "periodic": "wrap"}


def _kernels(rng):
    """Symmetric (odd), non-symmetric odd, non-symmetric even, and a symmetric even-sided kernel."""
    ks = {"gauss": gaussian_psf(2.0, 1.3), "asym_odd": rng.random((7, 5)), "asym_even": rng.random((6, 4)),
          "box_even": np.ones((4, 6))}
    return {name: k / k.sum() for name, k in ks.items()}


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize("shape", [(67, 71), (64, 64), (127, 128)])
@pytest.mark.parametrize("boundary", ["reflect", "periodic"])
def test_pad_route_equals_ndimage_at_every_pixel(shape, boundary):
    """forward == ndimage at every pixel (border included), float64 <= 1e-10, float32 <= 1e-5 relative."""
    rng = np.random.default_rng(0)
    x = rng.random(shape) + 0.1
    for name, k in _kernels(rng).items():
        ref = ndimage.convolve(x, k, mode=MODES[boundary])
        for dt, tol in ((np.float64, 1e-10), (np.float32, 1e-5)):
            op = ConvolutionOperator(k, shape, boundary, dtype=dt, transform="pad")
            assert op.kind == "pad" and op.work_shape == shape
            assert all(_fastconv.is_fast_length(n) for n in op.fft_shape)
            assert _rel(op.forward(x.astype(dt)).astype(np.float64), ref) <= tol, (name, dt)


def test_auto_takes_pad_at_slow_sizes_only():
    k = gaussian_psf(3.0)
    assert ConvolutionOperator(k, (538, 601), "reflect").kind == "pad"
    assert ConvolutionOperator(k, (601, 601), "periodic").kind == "pad"
    assert ConvolutionOperator(k, (540, 600), "reflect").kind == "dct"
    assert ConvolutionOperator(k, (540, 600), "periodic").kind == "fft"
    assert ConvolutionOperator(k, (37, 52), "reflect").kind == "dct"  # tiny: own transform
    assert ConvolutionOperator(k, (538, 601), "masked").kind == "fft"  # grid already a fast length
    assert ConvolutionOperator(k, (538, 601), "reflect").diagonal().kind == "dct"
    assert ConvolutionOperator(k, (538, 601), "periodic").diagonal().work_shape == (538, 601)


@pytest.mark.parametrize("boundary", ["reflect", "periodic"])
def test_kernel_larger_than_image(boundary):
    """Continuation longer than the image (repeated reflections): still exact."""
    rng = np.random.default_rng(1)
    x = rng.random((37, 41))
    k = gaussian_psf(12.0)  # 97 x 97
    k = k / k.sum()
    assert k.shape[0] > 2 * x.shape[0]
    op = ConvolutionOperator(k, x.shape, boundary, dtype=np.float64, transform="pad")
    assert _rel(op.forward(x), ndimage.convolve(x, k, mode=MODES[boundary])) <= 1e-10
    u, v = rng.random(x.shape), rng.random(x.shape)
    assert np.vdot(op.forward(u), v) == pytest.approx(np.vdot(u, op.adjoint(v)), rel=1e-12)
    np.testing.assert_allclose(op.normal(u), op.adjoint(op.forward(u)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(67, 71), (131, 127)])
def test_pad_route_equals_dct_route(shape):
    """Symmetric kernels, reflect: forward, adjoint, normal and the step size equal the DCT-II route's."""
    rng = np.random.default_rng(2)
    x = rng.random(shape)
    for k in (gaussian_psf(3.0), gaussian_psf(1.5, 2.5)):
        pad = ConvolutionOperator(k, shape, "reflect", dtype=np.float64, transform="pad")
        dct = ConvolutionOperator(k, shape, "reflect", dtype=np.float64, transform="dct")
        for f in ("forward", "adjoint", "normal"):
            assert _rel(getattr(pad, f)(x), getattr(dct, f)(x)) <= 1e-12, f
        assert pad.lipschitz == pytest.approx(dct.lipschitz, rel=1e-12)
        lam = _fastconv.eigenvalues(k, shape, "reflect")
        np.testing.assert_allclose(lam, dct.transfer, rtol=0, atol=1e-12)


@pytest.mark.parametrize("boundary", ["reflect", "periodic"])
@pytest.mark.parametrize("dt, rel", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_pad_route_adjoint_identity(boundary, dt, rel):
    """<A x, y> = <x, A^T y> on random arrays, all kernel kinds (A^T is the exact adjoint, not a flip)."""
    rng = np.random.default_rng(3)
    shape = (61, 67)
    for name, k in _kernels(rng).items():
        op = ConvolutionOperator(k, shape, boundary, dtype=dt, transform="pad")
        u, v = rng.random(shape).astype(dt), rng.random(shape).astype(dt)
        lhs = np.vdot(op.forward(u).astype(np.float64), v)
        rhs = np.vdot(u, op.adjoint(v).astype(np.float64))
        assert lhs == pytest.approx(rhs, rel=rel), name
        # normal == adjoint(forward) for every kernel
        assert _rel(op.normal(u).astype(np.float64), op.adjoint(op.forward(u)).astype(np.float64)) <= 10 * rel


def test_masked_mode_at_a_prime_size_matches_ndimage():
    """"masked": crop(H extend0(x)) == ndimage mode "constant"; its grid is already a fast length."""
    rng = np.random.default_rng(4)
    x = rng.random((601, 67))
    k = gaussian_psf(2.0)
    op = ConvolutionOperator(k, x.shape, "masked", dtype=np.float64)
    assert all(_fastconv.is_fast_length(n) for n in op.work_shape)
    got = op.crop(op.forward(op.extend(x)))
    assert _rel(got, ndimage.convolve(x, k / k.sum(), mode="constant")) <= 1e-10


def _blurred(shape, psf, rng):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    truth = 10.0 + 200.0 * ((np.sin(xx / 7.0) * np.cos(yy / 11.0)) > 0.3)
    return rng.poisson(ndimage.convolve(truth, psf / psf.sum(), mode="reflect")).astype(np.float64)


@pytest.mark.parametrize("boundary", ["reflect", "periodic"])
def test_methods_at_a_prime_size_equal_the_transform_route(monkeypatch, boundary):
    """RL, Wiener, FISTA, Landweber at 67 x 71: the pad route gives the DCT/FFT-route results."""
    rng = np.random.default_rng(5)
    psf = gaussian_psf(2.0)
    y = _blurred((67, 71), psf, rng)
    calls = {
        "richardson_lucy": lambda dt: xrf.richardson_lucy(y, psf, 15, boundary=boundary, dtype=dt),
        "wiener": lambda dt: xrf.wiener(y, psf, 0.01, boundary=boundary, dtype=dt),
        "fista": lambda dt: xrf.fista(y, psf, 0.01, 15, boundary=boundary, dtype=dt),
        "landweber": lambda dt: xrf.landweber(y, psf, 15, boundary=boundary, dtype=dt),
    }
    assert ConvolutionOperator(psf, y.shape, boundary).kind == "pad"
    fast = {(m, dt): f(dt) for m, f in calls.items() for dt in (np.float64, np.float32)}
    monkeypatch.setattr(_operators, "PAD_MIN_PIXELS", 10**9)  # auto -> the image shape's own transform
    assert ConvolutionOperator(psf, y.shape, boundary).kind in ("dct", "fft")
    for (m, dt), got in fast.items():
        ref = calls[m](dt)
        tol = 1e-9 if dt == np.float64 else 1e-4
        if m == "wiener" and boundary == "reflect":  # continued to a fast DCT size: within 1e-3, not exact
            tol = 1e-3  # (xrf._wiener_grid; measured against the exact DCT-II in test_wiener_grid.py)
        assert _rel(np.asarray(got, np.float64), np.asarray(ref, np.float64)) <= tol, (m, dt)


def _best_pair(fa, fb, rounds=11):
    ta = tb = np.inf
    for _ in range(rounds):
        t0 = time.perf_counter()
        fa()
        ta = min(ta, time.perf_counter() - t0)
        t0 = time.perf_counter()
        fb()
        tb = min(tb, time.perf_counter() - t0)
    return ta, tb


@pytest.mark.timing
def test_prime_size_costs_about_the_fast_size():
    """One RL iteration (forward + adjoint) and one normal-operator product at 601^2 vs 600^2.

    The goal is 1.3x (the benchmark prints the measured ratio); the bound here allows for a
    loaded machine.  Before the pad route the ratio was 4-6x (scipy's DCT at a prime length).
    """
    k = gaussian_psf(3.0)
    k = k / k.sum()
    slow = ConvolutionOperator(k, (601, 601), "reflect", dtype=np.float32)
    fast = ConvolutionOperator(k, (600, 600), "reflect", dtype=np.float32)
    assert (slow.kind, fast.kind) == ("pad", "dct")
    xs = np.random.default_rng(6).random((601, 601)).astype(np.float32)
    xf = np.ascontiguousarray(xs[:600, :600])
    def one(op, x):  # the operator work of one RL (forward + adjoint) and one FISTA (normal) iteration
        op.adjoint(op.forward(x))
        op.normal(x)

    one(slow, xs), one(fast, xf)
    ratios = []
    for _ in range(3):  # load only inflates a ratio: stop at the first clean measurement
        ta, tb = _best_pair(lambda: one(slow, xs), lambda: one(fast, xf))
        ratios.append(ta / tb)
        if ratios[-1] <= 2.0:
            break
    assert min(ratios) <= 2.0, f"601^2 costs {min(ratios):.2f}x 600^2 (trials {ratios})"


@pytest.mark.parametrize("shape,sigma", [((1024, 1024), 6.5), ((601, 538), 3.0), ((64, 72), 10.0), ((9, 11), 1.0)])
def test_dct_transfer_by_cosine_sums_equals_the_2d_dct_route(shape, sigma):
    """The reflect transfer function from cosine sums equals the impulse-response DCT (the old route)."""
    import scipy.fft as sfft

    from superres_widgets.xrf import _operators as ops

    k = gaussian_psf(sigma)
    ops.clear_transfer_cache()
    got = ops._dct_transfer(k, shape, np.float64)
    n_r, n_c = shape
    kr, kc = k.shape
    cr, cc = kr // 2, kc // 2
    big = np.zeros((n_r + 1, n_c + 1))
    rows, cols = min(kr - cr, n_r + 1), min(kc - cc, n_c + 1)
    big[:rows, :cols] = k[cr:cr + rows, cc:cc + cols]
    first = big[:n_r, :n_c] + big[1:, :n_c] + big[:n_r, 1:] + big[1:, 1:]
    e1 = np.zeros(shape)
    e1[0, 0] = 1.0
    want = sfft.dctn(first, type=2, norm="ortho") / sfft.dctn(e1, type=2, norm="ortho")
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("boundary", ["reflect", "periodic"])
def test_eigenvalues_of_a_separable_kernel_need_no_svd(monkeypatch, boundary):
    """A Gaussian (rho = 0) is one outer product, found without LAPACK (its threads spin ~0.1 s a call);
    a kernel that is not separable still takes the SVD route; both equal the dense cosine/DFT sums."""
    shape = (67, 54)

    def dense(k):
        mats = []
        for n, kn in zip(shape, k.shape):
            ph = np.arange(n)[:, None] * (np.arange(kn) - kn // 2)[None, :] / n
            mats.append(np.cos(np.pi * ph) if boundary == "reflect" else np.exp(-2j * np.pi * ph))
        return mats[0] @ k @ mats[1].T

    sep = gaussian_psf(2.5)
    tilted = sep + 1e-3 * np.eye(*sep.shape)[::-1] * np.eye(*sep.shape)  # not an outer product, still symmetric
    calls = []
    real_svd = np.linalg.svd
    monkeypatch.setattr(np.linalg, "svd", lambda a, *args, **kw: calls.append(a.shape) or real_svd(a, *args, **kw))
    np.testing.assert_allclose(_fastconv.eigenvalues(sep, shape, boundary), dense(sep), rtol=0, atol=1e-13)
    assert calls == []
    assert _fastconv._outer_factors(tilted) is None
    np.testing.assert_allclose(_fastconv.eigenvalues(tilted, shape, boundary), dense(tilted), rtol=0, atol=1e-13)
    assert calls == [sep.shape]
    rng = np.random.default_rng(3)
    for small in (rng.random((3, 7)), rng.random((7, 3)), rng.random((1, 5)) - 0.5):  # any small kernel: no SVD
        small = small + small[::-1] + small[:, ::-1] + small[::-1, ::-1]  # symmetric in each axis
        np.testing.assert_allclose(_fastconv.eigenvalues(small, shape, boundary), dense(small), rtol=0, atol=1e-12)
    assert calls == [sep.shape]
