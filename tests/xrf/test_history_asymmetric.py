"""Convergence tracking with a PSF that is not symmetric in each axis (an extended FFT working grid).

The data and weights are on the image grid, estimates on the working grid; the
per-iteration discrepancy and residual must be computed on the image grid for
every method (a 512 x 512 map with a tilted PSF once failed with a broadcast
error whenever a history or stopping rule was asked for).
"""

import numpy as np
import pytest

from superres_widgets import xrf


@pytest.mark.parametrize("method", ["richardson_lucy", "fista", "landweber", "tikhonov_miller", "sgp",
                                    "richardson_lucy_tv"])
def test_history_with_a_tilted_psf_is_measured_on_the_image_grid(method):
    rng = np.random.default_rng(0)
    truth = np.full((64, 72), 50.0)
    truth[20:40, 25:50] = 400.0
    psf = xrf.gaussian_psf(2.0, sigma_v=3.0, rho=0.5)
    op = xrf.ConvolutionOperator(psf, truth.shape, "reflect", dtype=np.float64)
    assert op.offset != (0, 0)  # the extended working grid this test is about
    y = rng.poisson(op.crop(op.forward(op.extend(truth)))).astype(float)
    h = xrf.ConvergenceHistory()
    kw = {"lam": 0.001} if method == "fista" else {}
    out = getattr(xrf, method)(y, psf, num_iter=4, history=h, **kw)
    assert out.shape == y.shape and len(h.records) == 4
    # the last record's residual is the image-grid residual of the returned estimate, by hand
    hx = op.crop(op.forward(op.extend(out)))
    want = np.linalg.norm(y - hx) / np.linalg.norm(y)
    assert h.records[-1].residual == pytest.approx(want, rel=2e-3)
