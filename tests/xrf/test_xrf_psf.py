"""PSF models and measurements (seed 001, Yang, Zhang & Cheng 2022, Figs. 3-4).

Gaussian kernels against their analytic moments, the point-scan fit and the
knife-edge fit against known parameters under Poisson noise, the confidence
ellipses against the Mahalanobis distance, kernel_to_sigma against known
Gaussians.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from superres_widgets.xrf import (FWHM_PER_SIGMA, confidence_ellipse, fit_knife_edge,
                                  fit_point_scan, gaussian2d, gaussian_psf, kernel_to_sigma,
                                  simulate_scan)


def _moments(k):
    r, c = np.indices(k.shape, dtype=float)
    s = k.sum()
    mr, mc = (k * r).sum() / s, (k * c).sum() / s
    vr = (k * (r - mr) ** 2).sum() / s
    vc = (k * (c - mc) ** 2).sum() / s
    cov = (k * (r - mr) * (c - mc)).sum() / s
    return mr, mc, vr, vc, cov


# ----------------------------------------------------------------- gaussian_psf

def test_gaussian_psf_unit_sum_odd_size_from_sigma():
    k = gaussian_psf(3.0)
    assert k.shape == (25, 25)  # 2 * ceil(4 * 3) + 1
    assert k.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.unravel_index(k.argmax(), k.shape) == (12, 12)


@pytest.mark.parametrize("shape", [(9, 9), (10, 12), (7, 8)])
def test_gaussian_psf_centre_is_floor_half(shape):
    """Convention: the origin (mean) is at (rows // 2, cols // 2) for any shape."""
    k = gaussian_psf(1.0, shape=shape)
    assert np.unravel_index(k.argmax(), k.shape) == (shape[0] // 2, shape[1] // 2)
    # the value at the origin is the analytic peak ratio to a neighbour
    r0, c0 = shape[0] // 2, shape[1] // 2
    assert k[r0, c0 + 1] / k[r0, c0] == pytest.approx(math.exp(-0.5), rel=1e-12)


def test_gaussian_psf_physical_units():
    k_um = gaussian_psf(32.5, pixel_size_um=5.0)
    k_px = gaussian_psf(6.5)
    np.testing.assert_allclose(k_um, k_px, rtol=0, atol=1e-15)


def test_gaussian_psf_anisotropic_moments():
    """sigma_u along columns, sigma_v along rows, rho tilts +u towards +v (down)."""
    su, sv, rho = 2.0, 3.0, 0.5
    k = gaussian_psf(su, sv, rho, truncate=6.0)
    _, _, vr, vc, cov = _moments(k)
    assert vc == pytest.approx(su ** 2, rel=2e-3)
    assert vr == pytest.approx(sv ** 2, rel=2e-3)
    assert cov == pytest.approx(rho * su * sv, rel=2e-3)
    assert k.shape == (2 * 18 + 1, 2 * 12 + 1)  # rows from 6 sigma_v, cols from 6 sigma_u


@pytest.mark.parametrize("kwargs, name", [
    (dict(sigma_u=0.0), "sigma_u"), (dict(sigma_u=-1.0), "sigma_u"),
    (dict(sigma_u=float("nan")), "sigma_u"), (dict(sigma_u=1.0, sigma_v=0.0), "sigma_v"),
    (dict(sigma_u=1.0, rho=1.0), "rho"), (dict(sigma_u=1.0, pixel_size_um=0.0), "pixel_size_um"),
])
def test_gaussian_psf_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        gaussian_psf(**kwargs)


def test_fwhm_constant():
    assert FWHM_PER_SIGMA == pytest.approx(2.3548, abs=1e-4)


# -------------------------------------------------------------- kernel_to_sigma

@pytest.mark.parametrize("sigma", [1.5, 4.0, 6.5])
def test_kernel_to_sigma_recovers_gaussian(sigma):
    k = gaussian_psf(sigma, shape=(41, 41))
    assert kernel_to_sigma(k) == pytest.approx(sigma, rel=1e-3)
    assert kernel_to_sigma(k, pixel_size_um=5.0) == pytest.approx(5 * sigma, rel=1e-3)


def test_kernel_to_sigma_fit_robust_to_truncation():
    """The blind estimator zeroes entries < 5 % of the max; the fit must not care."""
    k = gaussian_psf(6.5, shape=(41, 41))
    k[k < 0.05 * k.max()] = 0
    assert kernel_to_sigma(k) == pytest.approx(6.5, rel=0.02)
    # the moments are biased low by the truncation (documented difference)
    assert kernel_to_sigma(k, method="moments") < 0.95 * 6.5


# ----------------------------------------------------------- confidence ellipse

def test_confidence_ellipse_mahalanobis():
    su, sv, rho = 30.0, 40.0, 0.3
    cov = np.array([[su * su, rho * su * sv], [rho * su * sv, sv * sv]])
    icov = np.linalg.inv(cov)
    for k in (1, 2, 3):
        pts = confidence_ellipse(100.0, 50.0, su, sv, rho, k)
        d = pts - [100.0, 50.0]
        m = np.einsum("ni,ij,nj->n", d, icov, d)
        np.testing.assert_allclose(m, k * k, rtol=1e-10)
        np.testing.assert_array_equal(pts[0], pts[-1])  # closed polygon


def test_confidence_ellipse_isotropic_is_circle():
    pts = confidence_ellipse(0, 0, 5.0, 5.0, 0.0, 2)
    np.testing.assert_allclose(np.hypot(pts[:, 0], pts[:, 1]), 10.0, rtol=1e-12)


# ---------------------------------------------------------------- point scan

def _dot_scan(rng, su=30.0, sv=40.0, rho=0.3, p=5.0, peak=500.0, bg=100.0, n=41):
    r, c = np.indices((n, n))
    alpha = peak * 2 * np.pi * su * sv * np.sqrt(1 - rho ** 2)
    lam = alpha * gaussian2d(c * p, r * p, 100.0, 105.0, su, sv, rho) + bg
    return rng.poisson(lam), alpha


def test_fit_point_scan_recovers_parameters_under_poisson_noise():
    """10 noise realisations: unbiased to 1 % (sigmas) / 0.02 (rho); errors honest."""
    rng = np.random.default_rng(7)
    fits = [fit_point_scan(_dot_scan(rng)[0], pixel_size_um=5.0) for _ in range(10)]
    su = np.array([f.sigma_u for f in fits])
    sv = np.array([f.sigma_v for f in fits])
    rho = np.array([f.rho for f in fits])
    assert su.mean() == pytest.approx(30.0, rel=0.01)
    assert sv.mean() == pytest.approx(40.0, rel=0.01)
    assert rho.mean() == pytest.approx(0.3, abs=0.02)
    # reported 1-sigma errors agree with the scatter within a factor 2
    err_su = np.mean([f.errors["sigma_u"] for f in fits])
    assert 0.5 < su.std(ddof=1) / err_su < 2.0
    f = fits[0]
    assert f.mu_u == pytest.approx(100.0, abs=1.0) and f.mu_v == pytest.approx(105.0, abs=1.0)
    assert f.background == pytest.approx(100.0, rel=0.02)
    assert f.chi2_reduced == pytest.approx(1.0, abs=0.15)
    assert f.fwhm_u == pytest.approx(FWHM_PER_SIGMA * f.sigma_u)


def test_fit_point_scan_residual_ellipses_and_units():
    rng = np.random.default_rng(3)
    y, _ = _dot_scan(rng)
    f = fit_point_scan(y, pixel_size_um=5.0)
    np.testing.assert_allclose(f.residual, y - f.model)
    assert abs(f.residual.mean()) < 1.0  # residuals evenly spread (paper Fig. 3c)
    assert set(f.ellipses) == {1, 2, 3}
    # the 1-sigma ellipse in pixels is the um ellipse / pixel size
    np.testing.assert_allclose(f.ellipses_px()[1], f.ellipses[1] / 5.0)
    # in um the 2-sigma polygon spans about 2 sigma_u either side of mu_u
    e2 = f.ellipses[2]
    assert e2[:, 0].max() - f.mu_u == pytest.approx(2 * f.sigma_u, rel=1e-3)


def test_fit_point_scan_pixel_units_scale():
    rng = np.random.default_rng(5)
    y, _ = _dot_scan(rng)
    f5 = fit_point_scan(y, pixel_size_um=5.0)
    f1 = fit_point_scan(y, pixel_size_um=1.0)
    assert f5.sigma_u == pytest.approx(5 * f1.sigma_u, rel=1e-4)


def test_fit_point_scan_bad_input():
    with pytest.raises(ValueError, match="image"):
        fit_point_scan(np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="pixel_size_um"):
        fit_point_scan(np.ones((8, 8)), pixel_size_um=-1)
    with pytest.raises(ValueError, match="image"):
        fit_point_scan(np.full((8, 8), np.nan))


# ---------------------------------------------------------------- knife edge

@pytest.fixture(scope="module")
def slanted_edge_scan():
    """Half-plane slanted by 5 deg, scanned like the paper (sigma 32.5 um, 5 um step)."""
    rr, cc = np.indices((800, 600))
    ang = np.deg2rad(5.0)
    truth = ((cc - 300) * np.cos(ang) + (rr - 400) * np.sin(ang) > 0).astype(float)
    return [simulate_scan(truth, 32.5, 5.0, truth_pixel_um=1.0, rng=s).counts for s in range(3)]


def test_fit_knife_edge_slanted_image_within_5_percent(slanted_edge_scan):
    for y in slanted_edge_scan:
        k = fit_knife_edge(y, pixel_size_um=5.0, line=((80, 30), (80, 90)), half_width_px=60)
        assert k.sigma_um == pytest.approx(32.5, rel=0.05)
        assert k.sigma_gradient_um == pytest.approx(32.5, rel=0.10)
        assert k.fwhm_um == pytest.approx(FWHM_PER_SIGMA * k.sigma_um)
        assert k.angle_deg == pytest.approx(5.0, abs=1.0)
        assert k.polarity == 1
        assert k.step == pytest.approx(0.5 * (429 - 275), rel=0.05)


def test_fit_knife_edge_either_polarity(slanted_edge_scan):
    y = slanted_edge_scan[0]
    up = fit_knife_edge(y, pixel_size_um=5.0, line=((80, 30), (80, 90)), half_width_px=60)
    down = fit_knife_edge(y, pixel_size_um=5.0, line=((80, 90), (80, 30)), half_width_px=60)
    assert down.polarity == -1 and up.polarity == 1
    assert down.sigma_um == pytest.approx(up.sigma_um, rel=0.01)
    assert down.sigma_um == pytest.approx(32.5, rel=0.05)


def test_fit_knife_edge_profile_analytic():
    """Profile input: erf edge + Poisson noise, falling edge, explicit positions."""
    rng = np.random.default_rng(11)
    x = np.linspace(-300, 300, 241)
    sigma = 37.5  # the paper's knife-edge value
    mean = 2000 - 1500 * 0.5 * (1 + special.erf((x - 10) / (np.sqrt(2) * sigma)))
    y = rng.poisson(mean)
    k = fit_knife_edge(y, positions_um=x)
    assert k.polarity == -1
    assert k.sigma_um == pytest.approx(sigma, rel=0.05)
    assert k.sigma_gradient_um == pytest.approx(sigma, rel=0.10)
    assert k.edge_position_um == pytest.approx(10.0, abs=3.0)
    # the paper's spot size: FWHM = 2.355 sigma = 88.3 um for 37.5 um
    assert FWHM_PER_SIGMA * 37.5 == pytest.approx(88.3, abs=0.05)


def test_fit_knife_edge_bad_input():
    with pytest.raises(ValueError, match="line"):
        fit_knife_edge(np.ones((20, 20)))
    with pytest.raises(ValueError, match="data"):
        fit_knife_edge(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="data"):
        fit_knife_edge(np.array([1.0, np.inf, 2, 3, 4, 5, 6]))


def test_knife_edge_refuses_a_profile_without_an_edge():
    rng = np.random.default_rng(5)
    flat = rng.poisson(200.0, 300).astype(float)
    with pytest.raises(ValueError, match="no clear edge"):
        fit_knife_edge(flat, pixel_size_um=1.0)
