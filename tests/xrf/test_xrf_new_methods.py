"""The restoration methods of issue 13 against independent dense references.

RL-TV (Dey et al. 2006), projected Landweber, Tikhonov-Miller / ICTM and SGP
(Bonettini, Zanella & Zanni 2009) on small problems whose blur and Laplacian
matrices are built column by column with ``scipy.ndimage.convolve``
(``tests/xrf/_dense.py``); optima from ``scipy.optimize`` (bounded least
squares, L-BFGS-B on the Poisson likelihood) or ``numpy.linalg.solve``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from superres_widgets.xrf import (ConvergenceHistory, convolve, gaussian_psf, landweber, richardson_lucy,
                                  richardson_lucy_tv, sgp, tikhonov_miller, wiener)

from _dense import blur_matrix, kl, kl_minimiser, laplacian_matrix

SHAPE = (12, 14)
F64 = dict(dtype=np.float64)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(13)
    psf = gaussian_psf(1.0)
    truth = np.full(SHAPE, 20.0)
    truth[3:9, 4:7] = 200.0
    truth[2:4, 9:13] = 90.0
    y = rng.poisson(convolve(truth, psf)).astype(float)
    return y, psf, blur_matrix(psf, SHAPE), truth


def test_the_dense_blur_is_the_package_convolution(problem):
    y, psf, h, _ = problem
    np.testing.assert_allclose(h @ y.ravel(), convolve(y, psf).ravel(), rtol=1e-12)


# ------------------------------------------------------------------------------- Landweber

def test_landweber_without_projection_is_the_dense_linear_iteration(problem):
    y, psf, h, _ = problem
    lip = np.linalg.eigvalsh(h.T @ h).max()
    x = y.ravel().copy()
    for _ in range(7):
        x = x + 1.3 / lip * h.T @ (y.ravel() - h @ x)
    out = landweber(y, psf, 7, 1.3, nonnegative=False, **F64)
    np.testing.assert_allclose(out.ravel(), x, rtol=1e-9, atol=1e-9)


def test_projected_landweber_converges_to_the_bounded_least_squares_solution(problem):
    _, psf, h, _ = problem
    rng = np.random.default_rng(1)
    truth = np.zeros(SHAPE)
    truth[4:8, 3:10] = 50.0
    y = convolve(truth, psf) + rng.normal(0, 2.0, SHAPE)  # negative pixels: the bound is active
    ref = lsq_linear(h, y.ravel(), bounds=(0, np.inf), tol=1e-14, max_iter=10000).x
    out = landweber(y, psf, 20000, 1.9, **F64)
    assert (ref < 1e-9).sum() > 10  # the constraint matters here
    np.testing.assert_allclose(out.ravel(), ref, atol=2e-3 * ref.max())


def test_landweber_with_a_mask_fits_only_the_measured_pixels(problem):
    _, psf, h, _ = problem
    rng = np.random.default_rng(4)
    truth = np.zeros(SHAPE)
    truth[4:8, 3:10] = 50.0
    y = convolve(truth, psf) + rng.normal(0, 2.0, SHAPE)
    mask = np.zeros(SHAPE, bool)
    mask[5:7, 5:9] = True
    keep = ~mask.ravel()
    ref = lsq_linear(h[keep], y.ravel()[keep], bounds=(0, np.inf), tol=1e-14, max_iter=10000).x
    out = landweber(np.where(mask, np.nan, y), psf, 20000, 1.9, **F64)  # NaN = masked

    def misfit(x):
        return float(np.sum((y.ravel()[keep] - (h @ np.ravel(x))[keep]) ** 2))

    # the masked problem has flat directions (pixels under the mask): compare what is minimised
    assert misfit(out) <= misfit(ref) * (1 + 1e-4)
    assert misfit(landweber(y, psf, 20000, 1.9, **F64)) > misfit(ref) * 1.01  # unmasked: another optimum
    out2 = landweber(np.where(mask, -1e6, y), psf, 50, 1.0, mask=mask, **F64)  # values under the mask ignored
    np.testing.assert_allclose(out2, landweber(np.where(mask, 1e6, y), psf, 50, 1.0, mask=mask, **F64), atol=1e-9)


# ---------------------------------------------------------------------------- Tikhonov-Miller

@pytest.mark.parametrize("masked", [False, True])
def test_tikhonov_miller_unconstrained_is_the_dense_normal_equations(problem, masked):
    y, psf, h, _ = problem
    d = laplacian_matrix(SHAPE)
    lam = 0.02
    mask = np.zeros(SHAPE, bool)
    if masked:
        mask[2:5, 3:6] = True
    w = (~mask).ravel().astype(float)
    ref = np.linalg.solve(h.T @ (w[:, None] * h) + lam * d.T @ d, h.T @ (w * y.ravel()))
    out = tikhonov_miller(y, psf, lam, 400, constrained=False, mask=mask, **F64)
    np.testing.assert_allclose(out.ravel(), ref, rtol=1e-7, atol=1e-7 * y.max())
    # Wiener minimises the same functional (closed form, or preconditioned CG with a mask)
    np.testing.assert_allclose(wiener(y, psf, lam, mask=mask).ravel(), ref, rtol=1e-7, atol=1e-6 * y.max())


def test_ictm_approaches_the_bounded_tikhonov_solution(problem):
    _, psf, h, _ = problem
    rng = np.random.default_rng(2)
    truth = np.zeros(SHAPE)
    truth[4:8, 3:10] = 50.0
    y = convolve(truth, psf) + rng.normal(0, 2.0, SHAPE)
    lam = 0.01
    d = laplacian_matrix(SHAPE)
    ref = lsq_linear(np.vstack([h, np.sqrt(lam) * d]), np.concatenate([y.ravel(), np.zeros(y.size)]),
                     bounds=(0, np.inf), tol=1e-14, max_iter=10000).x

    def phi(x):
        x = np.ravel(x)
        return 0.5 * np.sum((y.ravel() - h @ x) ** 2) + 0.5 * lam * np.sum((d @ x) ** 2)

    out = tikhonov_miller(y, psf, lam, 300, constrained=True, **F64)
    assert out.min() >= 0
    assert phi(out) <= phi(ref) * (1 + 2e-3)  # ICTM reaches the constrained optimum's value
    assert phi(tikhonov_miller(y, psf, lam, 300, constrained=False, **F64).clip(0)) > phi(out)


# ------------------------------------------------------------------------------------- SGP

def test_sgp_converges_to_the_poisson_maximum_likelihood(problem):
    y, psf, h, _ = problem
    ref = kl_minimiser(h, y)
    out = sgp(y, psf, 3000, **F64)
    assert kl(h @ out.ravel(), y.ravel()) <= kl(h @ ref, y.ravel()) + 1e-6 * abs(kl(h @ ref, y.ravel()))
    # (the likelihood is flat along a few directions: the estimates agree to 1 %, the values to 1e-6)
    assert np.linalg.norm(out.ravel() - ref) < 1e-2 * np.linalg.norm(ref)
    # Richardson-Lucy goes to the same minimiser, much more slowly
    rl = richardson_lucy(y, psf, 3000, **F64)
    assert kl(h @ rl.ravel(), y.ravel()) >= kl(h @ out.ravel(), y.ravel()) - 1e-9


def test_sgp_lowers_the_likelihood_monotonically_and_faster_than_rl(problem):
    y, psf, _, _ = problem
    hs, hr = ConvergenceHistory(), ConvergenceHistory()
    sgp(y, psf, 15, history=hs, **F64)
    richardson_lucy(y, psf, 15, history=hr, **F64)
    obj = hs.column("objective")
    assert np.all(np.diff(obj) <= 1e-12)  # memory=1: a monotone line search
    assert hs.column("objective")[9] < hr.column("objective")[14]  # 10 SGP iterations beat 15 RL


def test_sgp_with_a_mask_maximises_the_likelihood_of_the_measured_pixels(problem):
    y, psf, h, _ = problem
    mask = np.zeros(SHAPE, bool)
    mask[6:8, 2:4] = True
    w = (~mask).astype(float)
    ref = kl_minimiser(h, y, w)
    garbage = np.where(mask, 1e6, y)  # the values under the mask must not matter
    out = sgp(garbage, psf, 3000, mask=mask, **F64)
    best = kl(h @ ref, y.ravel(), w.ravel())
    assert kl(h @ out.ravel(), y.ravel(), w.ravel()) <= best + 1e-7 * abs(best)
    # with the mask ignored, the likelihood of the measured pixels is clearly worse
    plain = sgp(np.where(mask, y.mean(), y), psf, 3000, **F64)
    assert kl(h @ plain.ravel(), y.ravel(), w.ravel()) > best + 1e-4 * abs(best)


# ------------------------------------------------------------------------------------ RL-TV

def _tv_objective(h, y, lam, eps):
    """J(x) = sum(Hx - y log Hx) + lam sum sqrt(|grad x|^2 + eps^2) and its gradient (dense, numpy)."""
    def j(v):
        x = v.reshape(SHAPE)
        hx = np.maximum(h @ v, 1e-300)
        gr = np.zeros_like(x)
        gc = np.zeros_like(x)
        gr[:-1] = x[1:] - x[:-1]
        gc[:, :-1] = x[:, 1:] - x[:, :-1]
        m = np.sqrt(gr ** 2 + gc ** 2 + eps ** 2)
        pr, pc = gr / m, gc / m
        gt = np.zeros_like(x)  # the adjoint of the forward differences applied to (pr, pc)
        gt[1:] += pr[:-1]
        gt[:-1] -= pr[:-1]
        gt[:, 1:] += pc[:, :-1]
        gt[:, :-1] -= pc[:, :-1]
        return float(np.sum(hx - y.ravel() * np.log(hx)) + lam * m.sum()), h.T @ (1 - y.ravel() / hx) + lam * gt.ravel()
    return j


@pytest.mark.parametrize("lam, eps", [(0.005, 5.0), (0.05, 50.0)])
def test_rl_tv_converges_to_the_minimiser_of_kl_plus_tv(problem, lam, eps):
    """Against L-BFGS-B on an independent numpy J = KL + lam TV_eps (smooth TV)."""
    from scipy.optimize import minimize

    y, psf, h, _ = problem
    j = _tv_objective(h, y, lam, eps)
    ref = minimize(j, np.full(y.size, y.mean()), jac=True, method="L-BFGS-B", bounds=[(0, None)] * y.size,
                   options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-12}).x
    out = richardson_lucy_tv(y, psf, 4000, lam, tv_epsilon=eps, **F64)
    assert j(out.ravel())[0] - j(ref)[0] < 1e-3
    assert np.linalg.norm(out.ravel() - ref) < 1e-3 * np.linalg.norm(ref)
    # and TV made a difference: plain RL's optimum is another one, with a higher J
    rl = richardson_lucy(y, psf, 4000, **F64)
    assert j(rl.ravel())[0] - j(ref)[0] > 0.1


def test_rl_tv_with_zero_weight_is_richardson_lucy(problem):
    y, psf, _, _ = problem
    np.testing.assert_allclose(richardson_lucy_tv(y, psf, 25, 0.0, **F64), richardson_lucy(y, psf, 25, **F64),
                               rtol=1e-12, atol=1e-12)


def test_rl_tv_flattens_noise_on_a_plateau():
    rng = np.random.default_rng(3)
    truth = np.full((64, 64), 30.0)
    truth[16:48, 16:48] = 300.0
    psf = gaussian_psf(2.0)
    y = rng.poisson(convolve(truth, psf)).astype(float)
    rl = richardson_lucy(y, psf, 100)
    tv = richardson_lucy_tv(y, psf, 100, 0.02)
    inner = (slice(22, 42), slice(22, 42))
    assert np.std(tv[inner]) < 0.6 * np.std(rl[inner])
    assert abs(np.mean(tv[inner]) - 300) < 15


# --------------------------------------------------------------------- all of them: streaming

@pytest.mark.parametrize("fn, args", [(richardson_lucy_tv, (12, 0.01)), (sgp, (12,)), (landweber, (12, 1.0)),
                                      (tikhonov_miller, (0.01, 12))])
def test_every_new_method_streams_frames_and_is_cancellable(problem, fn, args):
    from superres_widgets.xrf import DeconvolutionCancelled

    y, psf, _, _ = problem
    frames = []
    out = fn(y, psf, *args, callback=lambda k, x: frames.append((k, x)), callback_every=4)
    assert [k for k, _ in frames] == [4, 8, 12]
    np.testing.assert_array_equal(frames[-1][1], out)
    n = [0]

    def cancel():
        n[0] += 1
        return n[0] > 3

    with pytest.raises(DeconvolutionCancelled) as info:
        fn(y, psf, *args, cancel=cancel)
    assert info.value.iteration == 3 and info.value.estimate.shape == SHAPE
