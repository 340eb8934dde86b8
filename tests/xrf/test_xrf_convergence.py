"""Knowing when to stop: per-iteration records and the stopping rules, recomputed independently."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage.metrics import structural_similarity

from superres_widgets.xrf import (STOP_RULES, ConvergenceHistory, get_method, methods, poisson_discrepancy,
                                  richardson_lucy, sgp)

PSF_SIGMA = 2.0


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(31)
    truth = np.full((72, 80), 40.0)
    truth[20:52, 24:36] = 400.0
    truth[30:34, 50:70] = 250.0
    from superres_widgets.xrf import gaussian_psf

    psf = gaussian_psf(PSF_SIGMA)
    y = rng.poisson(ndimage.convolve(truth, psf, mode="reflect")).astype(float)
    return y, psf, truth


def _blur(x, psf):
    return ndimage.convolve(x, psf, mode="reflect")  # scipy, not the package's operator


def _d(y, m):
    """The Poisson discrepancy of Bertero et al. (2010), written out."""
    t = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / m), 0.0) + m - y
    return 2 * t.mean()


def test_discrepancy_of_poisson_counts_around_their_mean_is_one():
    rng = np.random.default_rng(0)
    for mean in (30.0, 300.0):
        y = rng.poisson(mean, (400, 400)).astype(float)
        assert abs(poisson_discrepancy(y, np.full(y.shape, mean)) - 1) < 0.03


@pytest.mark.parametrize("name", ["richardson_lucy", "sgp", "richardson_lucy_tv", "landweber", "fista",
                                  "tikhonov_miller"])
def test_the_discrepancy_rule_stops_at_the_first_iterate_below_one(scene, name):
    y, psf, _ = scene
    m = get_method(name)
    h = ConvergenceHistory()
    params = {"num_iter": 300, "stop": "discrepancy"}
    if name == "fista":
        params["lam"] = 0.0
    out = m.run(y, psf, params, history=h, dtype=np.float64)
    disc = h.column("discrepancy")
    k = h.stopped_at
    assert k is not None and k < 300 and h.records[-1].iteration == k, h.reason
    assert disc[-1] <= 1 and np.all(disc[:-1] > 1) and "discrepancy" in h.reason
    # the record is the returned map's: recomputed with scipy's convolution
    assert _d(y, _blur(out, psf)) == pytest.approx(disc[-1], rel=1e-9)
    assert _d(y, _blur(out, psf)) <= 1


def test_relative_change_rule_and_the_recorded_changes(scene):
    y, psf, _ = scene
    frames = {}
    h = ConvergenceHistory()
    out = richardson_lucy(y, psf, 500, stop="relative_change", tol=2e-3, history=h, dtype=np.float64,
                          callback=lambda k, x: frames.__setitem__(k, x))
    k = h.stopped_at
    assert k is not None and k < 500
    change = np.linalg.norm(frames[k] - frames[k - 1]) / np.linalg.norm(frames[k - 1])
    assert change <= 2e-3 and h.records[-1].change == pytest.approx(change, rel=1e-9)
    prev = [np.linalg.norm(frames[i] - frames[i - 1]) / np.linalg.norm(frames[i - 1]) for i in range(2, k)]
    assert all(c > 2e-3 for c in prev)
    np.testing.assert_array_equal(out, frames[k])


def test_records_residual_objective_mse_and_ssim(scene):
    y, psf, truth = scene
    h = ConvergenceHistory(reference=truth)
    out = sgp(y, psf, 12, history=h, dtype=np.float64)
    assert [r.iteration for r in h.records] == list(range(1, 13)) and h.reason == "num_iter reached"
    last = h.records[-1]
    r = y - _blur(out, psf)
    assert last.residual == pytest.approx(np.linalg.norm(r) / np.linalg.norm(y), rel=1e-9)
    assert last.mse == pytest.approx(np.mean((out - truth) ** 2), rel=1e-9)
    ssim = structural_similarity(out, truth, data_range=np.ptp(truth), win_size=7, gaussian_weights=False)
    assert last.ssim == pytest.approx(ssim, abs=2e-3)
    # the objective is the KL divergence per pixel: half the discrepancy
    assert last.objective == pytest.approx(0.5 * last.discrepancy, rel=1e-9)
    assert np.all(np.diff(h.column("residual")) < 0)  # the data fit improves
    assert h.as_dict()["iteration"] == list(range(1, 13))


def test_records_every_n_iterations_and_the_last(scene):
    y, psf, _ = scene
    h = ConvergenceHistory(every=5)
    richardson_lucy(y, psf, 12, history=h)
    assert [r.iteration for r in h.records] == [5, 10, 12]


def test_records_with_masks_and_offsets_are_in_the_input_units(scene):
    y, psf, _ = scene
    shifted = y - 30.0
    mask = np.zeros(y.shape, bool)
    mask[10:14, 10:14] = True
    h = ConvergenceHistory()
    out = richardson_lucy(np.where(mask, np.nan, shifted), psf, 6, history=h, dtype=np.float64)
    r = (shifted - _blur(out, psf))[~mask]
    assert h.records[-1].residual == pytest.approx(np.linalg.norm(r) / np.linalg.norm(shifted[~mask]), rel=1e-6)


def test_every_iterative_method_declares_the_stop_rule():
    for m in methods():
        if m.iterative and m.needs_psf:
            assert m.parameter("stop").choices == STOP_RULES and m.parameter("tol").default == 1e-3
    with pytest.raises(ValueError, match=r"stop must be one of \['none', 'discrepancy', 'relative_change'\]"):
        richardson_lucy(np.ones((20, 20)), np.ones((3, 3)), 2, stop="never")
    with pytest.raises(ValueError, match="tol must be a number > 0"):
        richardson_lucy(np.ones((20, 20)), np.ones((3, 3)), 2, stop="relative_change", tol=0)
    with pytest.raises(ValueError, match="history must be a ConvergenceHistory"):
        richardson_lucy(np.ones((20, 20)), np.ones((3, 3)), 2, history=[])
