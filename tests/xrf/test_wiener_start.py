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


def _ramp_scene(shape, psf, boundary="reflect", seed=0):
    """High, sloping background (400-900 counts) with a bright bar touching the right border."""
    rng = np.random.default_rng(seed)
    truth = 400.0 + 500.0 * np.linspace(0, 1, shape[1])[None, :] * np.ones((shape[0], 1))
    truth[shape[0] // 3:shape[0] // 2, shape[1] // 2:] += 1500.0
    return truth, rng.poisson(xrf.convolve(truth, psf, boundary=boundary)).astype(float)


@pytest.mark.parametrize("shape", [(96, 96), (101, 103)])  # a fast size (exact DCT) and a slow one (padded)
@pytest.mark.parametrize("boundary, kind, data", [
    ("reflect", "gauss", "reflect"), ("reflect", "tilted", "reflect"), ("reflect", "offcentre", "reflect"),
    ("periodic", "gauss", "periodic"), ("periodic", "offcentre", "periodic"),
    ("periodic", "gauss", "reflect"), ("periodic", "tilted", "reflect"),  # a periodic model of a map that is not
    ("masked", "gauss", "reflect"), ("masked", "tilted", "reflect"), ("masked", "even", "reflect")])
def test_the_start_beats_the_map_on_every_boundary_size_and_psf(shape, boundary, kind, data):
    """Iteration 1 from the Wiener start is closer to the truth than the map, and than iteration 1 from it.

    (High sloping backgrounds and features at the border: a transform with a jump at the borders -- the
    zero-extended "masked" grid, a periodic FFT of a reflect-padded grid, the wrap of a map that is not
    periodic -- ruined the start.)
    """
    psf = {"gauss": xrf.gaussian_psf(2.5), "tilted": xrf.gaussian_psf(2.5, 1.6, 0.45),
           "offcentre": np.roll(np.pad(xrf.gaussian_psf(2.0), 3), 3, axis=1),
           "even": np.outer([1.0, 3.0, 3.0, 1.0], [1.0, 2.0, 2.0, 1.0, 0.5, 0.5])}[kind]
    truth, y = _ramp_scene(shape, psf, data)
    mse_map = np.mean((y - truth) ** 2)
    for fn in (xrf.sgp, xrf.richardson_lucy, xrf.landweber):
        w = fn(y, psf, 1, x0="wiener", boundary=boundary, dtype=np.float64)
        i = fn(y, psf, 1, x0="image", boundary=boundary, dtype=np.float64)
        assert np.isfinite(w).all() and w.shape == y.shape
        mse_w, mse_i = np.mean((w - truth) ** 2), np.mean((i - truth) ** 2)
        assert mse_w < 0.8 * mse_map and mse_w < mse_i, (fn.__name__, mse_w, mse_i, mse_map)


def test_a_psf_that_barely_blurs_gives_the_map_itself():
    """No coefficient is suppressed below 1e-3: no noise level to read, so no filter (the map is the start)."""
    _, _, y, _ = _scene()
    psf = xrf.gaussian_psf(0.3)
    op = ConvolutionOperator(psf / psf.sum(), y.shape, "reflect", dtype=np.float64)
    np.testing.assert_array_equal(wiener_start(y, op, np.float64, -np.inf), y)
    # and a map so faint its squares would underflow in float32 still gets a finite, scaled start
    _, _, y2, psf2 = _scene()
    op2 = ConvolutionOperator(psf2 / psf2.sum(), y2.shape, "reflect", dtype=np.float32)
    a = wiener_start((y2 * 1e-30).astype(np.float32), op2, np.float32, -np.inf)
    b = wiener_start(y2.astype(np.float32), op2, np.float32, -np.inf)
    np.testing.assert_allclose(a / 1e-30, b, rtol=2e-3, atol=1e-3 * float(np.abs(b).max()))


def test_parseval_of_the_half_spectrum_for_even_and_odd_widths():
    rng = np.random.default_rng(2)
    for shape in [(8, 10), (7, 9), (6, 11)]:
        x = rng.standard_normal(shape)
        p, dof = _power(np.fft.rfft2(x), shape)
        assert p.sum() == pytest.approx(np.sum(x ** 2), rel=1e-12)
        assert dof.sum() == shape[0] * shape[1]


def test_tiles_give_the_whole_map_result_with_the_wiener_start():
    """Its balance is chosen per map and it reaches far: tiled RL restores the map whole (tile = whole)."""
    truth, y = _ramp_scene((200, 200), xrf.gaussian_psf(2.0))
    whole = xrf.richardson_lucy(y, xrf.gaussian_psf(2.0), 4, x0="wiener")
    tiled = xrf.deconvolve_stack(y, 2.0, 1.0, "richardson_lucy", num_iter=4, x0="wiener", chunk_px=64)
    np.testing.assert_allclose(tiled, whole, rtol=1e-5, atol=1e-3)


def test_the_plan_cache_is_safe_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    _, _, y, _ = _scene()
    psfs = [xrf.gaussian_psf(s) for s in (1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0)]  # more PSFs than cache entries
    ops = [ConvolutionOperator(p / p.sum(), y.shape, "reflect", dtype=np.float64) for p in psfs]
    serial = [wiener_start(y, op, np.float64, -np.inf) for op in ops]
    with ThreadPoolExecutor(4) as ex:
        for _ in range(3):
            got = list(ex.map(lambda op: wiener_start(y, op, np.float64, -np.inf), ops))
            for a, b in zip(got, serial):
                np.testing.assert_array_equal(a, b)


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


def test_the_routes_agree_and_the_cache_empties_with_the_transfers():
    from superres_widgets.xrf import _start
    from superres_widgets.xrf._operators import clear_transfer_cache

    _, _, y, psf = _scene()
    op = ConvolutionOperator(psf / psf.sum(), y.shape, "reflect", dtype=np.float64)
    spec, power, dof, th, td, back, key = _start._transform(y, op, np.dtype(np.float64))
    assert key[0] == "dct"
    # the even extension's FFT holds the same reflect model: the same filter at a given balance
    spec2 = np.fft.rfft2(np.pad(y, ((0, y.shape[0]), (0, y.shape[1])), mode="symmetric"))
    from superres_widgets.xrf._operators import _fft_transfer
    grid = (2 * y.shape[0], 2 * y.shape[1])
    h = _fft_transfer(psf / psf.sum(), grid, np.float64)
    d = _fft_transfer(laplacian_kernel(), grid, np.float64)
    lam = 0.01
    x_even = np.fft.irfft2(spec2 * np.conj(h) / (np.abs(h) ** 2 + lam * np.abs(d) ** 2),
                           s=grid)[:y.shape[0], :y.shape[1]]
    np.testing.assert_allclose(x_even, xrf.wiener(y, psf, lam), rtol=1e-9, atol=1e-8)
    wiener_start(y, op, np.float64, 0.0)
    assert _start._PLANS
    clear_transfer_cache()
    assert not _start._PLANS


def test_float32_end_to_end_matches_float64():
    truth, y = _ramp_scene((101, 103), xrf.gaussian_psf(2.5, 1.6, 0.45))
    a = xrf.sgp(y, xrf.gaussian_psf(2.5, 1.6, 0.45), 2, x0="wiener", dtype=np.float32)
    b = xrf.sgp(y, xrf.gaussian_psf(2.5, 1.6, 0.45), 2, x0="wiener", dtype=np.float64)
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3 * float(np.abs(b).max()))
