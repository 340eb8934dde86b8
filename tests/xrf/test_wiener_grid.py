"""The Wiener filter at slow sizes (issue 14): the padded route against the exact DCT-II.

The padded route continues the map by reflection to a fast DCT size with a
margin from the filter's impulse response; its promise is an error of at most
1e-3 of the map's range at every pixel.  The reference is the exact DCT-II of
the map's own size (``exact=True``), itself checked against a dense solve of
the normal equations on a small map.
"""

import numpy as np
import pytest

from superres_widgets import xrf
from superres_widgets.xrf import _wiener_grid as wg
from superres_widgets.xrf._operators import laplacian_kernel

SLOW = (538, 601)


def _maps(shape, rng):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return {
        "noise": rng.random(shape),
        "bars": ((np.sin(xx / 3.0) * np.cos(yy / 5.0)) > 0).astype(float),
        "blocks": (((yy // 17) + (xx // 23)) % 2).astype(float) * 1000.0 + 50.0,  # counts, not [0, 1]
        "edge": (xx > shape[1] - 40).astype(float),  # all the structure at the padded (far) border
    }


@pytest.mark.parametrize("sigma, balance", [(0.7, 1e-5), (1.0, 1e-3), (3.0, 1e-4), (3.0, 1e-2), (5.0, 1e-1),
                                            (8.0, 1e-2)])
def test_padded_route_is_within_1e3_of_the_map_range_everywhere(sigma, balance):
    rng = np.random.default_rng(int(sigma * 10))
    psf = xrf.gaussian_psf(sigma)
    assert wg.padded_shape(SLOW, psf, laplacian_kernel(), balance) is not None  # the route is taken
    worst = 0.0
    for name, y in _maps(SLOW, rng).items():
        fast = xrf.wiener(y, psf, balance)
        exact = xrf.wiener(y, psf, balance, exact=True)
        err = np.abs(fast - exact).max() / np.ptp(y)
        worst = max(worst, err)
        assert err <= 1e-3, (name, err)
    assert worst > 0  # a different computation, not the exact one under another name


def test_the_margin_is_needed():
    """At a quarter of the chosen margin the error on a noise map exceeds 1e-2 of its range."""
    rng = np.random.default_rng(3)
    psf, d, b = xrf.gaussian_psf(3.0), laplacian_kernel(), 1e-3
    y = rng.random(SLOW)
    exact = xrf.wiener(y, psf, b, exact=True)
    shape = wg.padded_shape(SLOW, psf, d, b)
    m_r, m_c = wg.tail_margins(psf, d, b, SLOW)
    assert shape[0] - SLOW[0] >= m_r and shape[1] - SLOW[1] >= m_c
    assert np.abs(_padded_run(y, psf, b, shape) - exact).max() <= wg.WIENER_TOL
    short = (SLOW[0] + m_r // 4, SLOW[1] + m_c // 4)
    assert np.abs(_padded_run(y, psf, b, short) - exact).max() > 10 * wg.WIENER_TOL


def _padded_run(y, psf, b, grid):
    d = laplacian_kernel()
    op = xrf.ConvolutionOperator(psf / psf.sum(), grid, "reflect", dtype=np.float64, extra_kernels=[d],
                                 transform="dct")
    yp = np.pad(y, ((0, grid[0] - y.shape[0]), (0, grid[1] - y.shape[1])), mode="symmetric")
    return op.wiener_apply(yp, d, b)[: y.shape[0], : y.shape[1]]


def _fold_far_end(z, shape):
    """Adjoint of numpy.pad(mode="symmetric") at the far end: ``z`` (N', M') -> (N, M)."""
    n, m = shape
    out = np.array(z[:, :m])
    for j in range(m, z.shape[1]):
        out[:, 2 * m - 1 - j] += z[:, j]
    res = np.array(out[:n])
    for i in range(n, z.shape[0]):
        res[2 * n - 1 - i] += out[i]
    return res


@pytest.mark.parametrize("sigma, balance", [(5.0, 1e-5), (3.0, 1e-4), (1.0, 1e-2)])
def test_the_worst_map_for_a_corner_pixel_stays_within_1e3(sigma, balance):
    """The error at the far corner is sum_p a_p y_p; the map y = [a > 0] (range 1) maximises it.

    The size is chosen so that N + m is already a fast length: the grid has no slack beyond
    the margin (at 538 x 601 the rounding up leaves up to 29 px more).  ``a`` is the
    corner's row of (exact - padded): the exact filter is a symmetric matrix, the padded one
    is crop o W' o pad with W' symmetric, so its row is the far-end fold of W' applied to
    the corner's unit vector.
    """
    from scipy import fft as sfft

    psf, d = xrf.gaussian_psf(sigma), laplacian_kernel()
    m, _ = wg.tail_margins(psf, d, balance, (2000, 2000))
    fast = next(f for f in range(256, 4000) if wg.is_fast_length(f) and not wg.is_fast_length(f - m)
                and f - m > 2 * m)
    n = fast - m
    assert wg.padded_shape((n, n), psf, d, balance) == (fast, fast)
    corner = np.zeros((n, n))
    corner[-1, -1] = 1.0
    row_exact = xrf.wiener(corner, psf, balance, exact=True)
    z = np.zeros((fast, fast))
    z[n - 1, n - 1] = 1.0
    op = xrf.ConvolutionOperator(psf / psf.sum(), (fast, fast), "reflect", dtype=np.float64, extra_kernels=[d],
                                 transform="dct")
    row_padded = _fold_far_end(op.wiener_apply(z, d, balance), (n, n))
    a = row_exact - row_padded
    assert abs(a.sum()) < 1e-9  # both routes pass constants
    y = (a > 0).astype(float)
    predicted = float(a[a > 0].sum())
    measured = float(xrf.wiener(y, psf, balance, exact=True)[-1, -1] - xrf.wiener(y, psf, balance)[-1, -1])
    assert measured == pytest.approx(predicted, rel=1e-6, abs=1e-12)  # the public route is the one analysed
    assert predicted <= wg.WIENER_TOL, (n, fast, predicted)
    assert sfft.next_fast_len(n, real=True) != n


def test_exact_route_matches_a_dense_solve():
    """The reference itself: (H^T H + b D^T D) x = H^T y with the reflect-boundary matrices."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    shape, psf, b = (23, 19), xrf.gaussian_psf(1.2), 1e-2
    y = rng.random(shape)
    n = y.size

    def matrix(kernel):
        cols = [ndimage.convolve(np.eye(n)[i].reshape(shape), kernel / (kernel.sum() or 1.0), mode="reflect")
                .ravel() for i in range(n)]
        return np.array(cols).T

    h = matrix(psf)
    lap = laplacian_kernel()
    dmat = np.array([ndimage.convolve(np.eye(n)[i].reshape(shape), lap, mode="reflect").ravel()
                     for i in range(n)]).T
    x = np.linalg.solve(h.T @ h + b * dmat.T @ dmat, h.T @ y.ravel()).reshape(shape)
    assert np.allclose(xrf.wiener(y, psf, b, exact=True), x, atol=1e-9)


def test_fast_sizes_and_hopeless_margins_keep_the_exact_transform():
    d = laplacian_kernel()
    assert wg.padded_shape((512, 600), xrf.gaussian_psf(3.0), d, 1e-2) is None  # every side fast
    # a wide PSF at a tiny balance on a small map: the margin exceeds the map, exact DCT-II
    assert wg.padded_shape((131, 127), xrf.gaussian_psf(12.0), d, 1e-6) is None
    y = np.random.default_rng(1).random((131, 127))
    assert np.array_equal(xrf.wiener(y, xrf.gaussian_psf(12.0), 1e-6),
                          xrf.wiener(y, xrf.gaussian_psf(12.0), 1e-6, exact=True))


def test_other_routes_are_untouched_and_exact_is_checked():
    y = np.random.default_rng(2).random(SLOW)
    psf = xrf.gaussian_psf(2.0)
    for kw in ({"boundary": "periodic"}, {"mask": np.zeros(SLOW, bool) | (np.arange(SLOW[1]) == 7)}):
        assert np.array_equal(xrf.wiener(y, psf, 1e-2, **kw), xrf.wiener(y, psf, 1e-2, exact=True, **kw))
    with pytest.raises(ValueError, match="exact"):
        xrf.wiener(y, psf, 1e-2, exact="yes")


@pytest.mark.parametrize("name", ["_wiener_grid", "_fastconv", "_operators"])
def test_examples_in_the_docstrings_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"superres_widgets.xrf.{name}"), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
