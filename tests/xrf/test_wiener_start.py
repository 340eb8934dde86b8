"""The Wiener-Hunt start (x0="wiener"): its balance, its filter, and the time-to-quality it buys (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

from superres_widgets import xrf
from superres_widgets.xrf._operators import ConvolutionOperator, laplacian_kernel
from superres_widgets.xrf._start import _BALANCES, _power, upre_balance, wiener_start


def _scene(shape=(96, 96), sigma=2.5, seed=3):
    rng = np.random.default_rng(seed)
    truth = np.full(shape, 20.0)
    truth[20:60, 30:44] = 220.0
    truth[70:74, 10:80] = 500.0
    psf = xrf.gaussian_psf(sigma)
    blurred = xrf.convolve(truth, psf)
    return truth, blurred, rng.poisson(blurred).astype(float), psf


def _spectra(y, psf):
    op = ConvolutionOperator(psf / psf.sum(), y.shape, "reflect", dtype=np.float64)
    spec = op.spectrum(op.extend(y))
    h2 = op.transfer_abs2
    d2 = np.square(op.transfer_of(laplacian_kernel()))
    return op, spec, h2, d2


def test_upre_balance_matches_the_unbinned_risk_and_the_oracle():
    truth, blurred, y, psf = _scene()
    op, spec, h2, d2 = _spectra(y, psf)
    power, dof = _power(spec)
    lam = upre_balance(power, dof, h2, d2)
    # the same risk without the histogram, on the same balance grid: the same choice (within one grid step)
    noise = h2 < 1e-3 * h2.max()
    sigma2 = power[noise].sum() / dof[noise].sum()
    exact = [np.sum(power * (b * d2 / (h2 + b * d2)) ** 2) + 2 * sigma2 * np.sum(h2 / (h2 + b * d2))
             for b in _BALANCES]
    step = np.log(_BALANCES[1] / _BALANCES[0])
    assert abs(np.log(lam / _BALANCES[int(np.argmin(exact))])) <= step + 1e-12
    # the noise estimate is the Poisson variance (the mean count) to 15 %
    assert sigma2 == pytest.approx(y.mean(), rel=0.15)
    # against the oracle (the truth known): the predicted risk ||H x_lam - H x|| at lam is within 25 % of the best
    risk = {b: np.sum((xrf.convolve(xrf.wiener(y, psf, b), psf) - blurred) ** 2) for b in _BALANCES[::4]}
    best = min(risk.values())
    assert np.sum((xrf.convolve(xrf.wiener(y, psf, lam), psf) - blurred) ** 2) <= 1.25 * best


def test_the_start_is_the_public_wiener_filter_at_that_balance_and_ignores_units():
    _, _, y, psf = _scene()
    op, spec, h2, d2 = _spectra(y, psf)
    lam = upre_balance(*_power(spec), h2, d2)
    x0 = wiener_start(y, op, np.float64, -np.inf)
    np.testing.assert_allclose(x0, xrf.wiener(y, psf, lam), rtol=1e-9, atol=1e-9)
    # counts per second instead of counts: the same balance, the start scales with the map
    np.testing.assert_allclose(wiener_start(y * 0.01, op, np.float64, -np.inf), 0.01 * x0, rtol=1e-9, atol=1e-9)
    # the floor of the multiplicative methods
    assert wiener_start(y, op, np.float64, 5.0).min() == 5.0


@pytest.mark.parametrize("boundary, rho", [("reflect", 0.0), ("reflect", 0.4), ("periodic", 0.0), ("masked", 0.0)])
def test_every_boundary_and_transform_route(boundary, rho):
    truth, _, _, _ = _scene()
    psf = xrf.gaussian_psf(2.5) if rho == 0 else xrf.gaussian_psf(2.5, 2.0, rho)
    y = np.random.default_rng(0).poisson(xrf.convolve(truth, psf, boundary="reflect")).astype(float)
    for fn in (xrf.sgp, xrf.richardson_lucy, xrf.landweber):
        out = fn(y, psf, 3, x0="wiener", boundary=boundary)
        assert out.shape == y.shape and np.isfinite(out).all()
        # one forward+inverse transform and three iterations: closer to the truth than the map is
        assert np.mean((out - truth) ** 2) < np.mean((y - truth) ** 2), (fn.__name__, boundary)


def test_sgp_from_the_wiener_start_reaches_skimage_30_iteration_fit_at_once():
    """What notebook 08 and the benchmark teach: the start alone is at RL-30's data fit, with a lower MSE."""
    skimage = pytest.importorskip("skimage.restoration")
    import sys
    import pathlib

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    from benchmarks.bench_time_to_quality import interior_residual, margin_px, phantom

    rng = np.random.default_rng(0)
    psf = xrf.gaussian_psf(3.0)
    truth = phantom((256, 256), rng)
    y = rng.poisson(xrf.convolve(truth, psf)).astype(np.float64)
    sk = skimage.richardson_lucy(y, psf, 30, clip=False)
    target = interior_residual(y, sk, psf, margin_px())
    hits = []
    x = xrf.sgp(y, psf, 1, x0="wiener", dtype=np.float64,
                callback=lambda k, e: hits.append(interior_residual(y, e, psf, margin_px())))
    assert hits[0] <= target  # one iteration (scikit-image: 30)
    assert np.mean((x - truth) ** 2) < 0.6 * np.mean((sk - truth) ** 2)
    # from the map SGP needs several iterations for the same fit
    img = []
    xrf.sgp(y, psf, 4, dtype=np.float64, callback=lambda k, e: img.append(interior_residual(y, e, psf, margin_px())))
    assert min(img) > target


def test_bad_start_names_are_refused_with_the_choices():
    _, _, y, psf = _scene()
    for fn in (xrf.sgp, xrf.richardson_lucy, xrf.fista):
        with pytest.raises(ValueError, match="x0 must be 'image', 'wiener', 'flat'"):
            fn(y, psf, 2, x0="wienr")
