"""deconvolve_stack: the Dask tiled path matches the whole-image methods; scheduler, progress, errors."""

from __future__ import annotations

import numpy as np
import pytest

from superres_widgets.xrf import (convolve, deconvolve_stack, fista, gaussian_psf,
                                  richardson_lucy, wiener)
from superres_widgets.xrf.stack import halo_px

SIGMAS_PX = (1.5, 2.5)
PX_UM = 2.0


def _phantom(n=256, seed=0):
    rng = np.random.default_rng(seed)
    truth = np.full((n, n), 20.0)
    for _ in range(n // 2):
        r, c = rng.integers(0, n, 2)
        s = rng.integers(2, 10)
        truth[max(r - s, 0):r + s, max(c - s, 0):c + s] += rng.uniform(50, 400)
    return truth


@pytest.fixture(scope="module")
def stack():
    rng = np.random.default_rng(1)
    truth = _phantom()
    return np.stack([rng.poisson(convolve(truth, gaussian_psf(s))).astype(float)
                     for s in SIGMAS_PX])


def _rel_interior(out, whole, halo):
    sl = (slice(halo, -halo),) * 2
    return np.abs(out[sl] - whole[sl]).max() / np.abs(whole).max()


@pytest.mark.parametrize("method, kwargs, func", [
    ("richardson_lucy", {"num_iter": 20}, lambda im, psf: richardson_lucy(im, psf, 20)),
    ("wiener", {"balance": 0.03}, lambda im, psf: wiener(im, psf, 0.03)),
    ("fista", {"num_iter": 20, "lam": 1.0}, lambda im, psf: fista(im, psf, 1.0, 20)),
])
def test_tiled_matches_whole_image_per_channel(stack, method, kwargs, func):
    sig_um = [s * PX_UM for s in SIGMAS_PX]
    out = deconvolve_stack(stack, sig_um, PX_UM, method, chunk_px=80, **kwargs)
    assert out.shape == stack.shape and out.dtype == np.float32
    for c, s in enumerate(SIGMAS_PX):
        depth = halo_px(method, s, **{k: v for k, v in kwargs.items() if k != "lam"})
        assert depth >= np.ceil(4 * s)  # at least the PSF radius
        assert 2 * depth <= 256  # so the map really is tiled (chunk raised to 2 * halo <= 256)
        whole = func(stack[c], gaussian_psf(s))
        assert _rel_interior(out[c], whole, depth) <= 1e-4
        # the outer border uses the same boundary model: in practice all of it matches
        assert np.abs(out[c] - whole).max() / np.abs(whole).max() <= 1e-4


def test_halo_too_small_would_show_seams(stack):
    """The criterion is not vacuous: a 4-sigma halo (the PSF radius alone) leaves seams."""
    import dask.array as da

    s = SIGMAS_PX[1]
    psf = gaussian_psf(s)
    whole = richardson_lucy(stack[1], psf, 20)
    tiles = da.map_overlap(lambda b: richardson_lucy(b, psf, 20, workers=1),
                           da.from_array(stack[1], chunks=64), depth=int(np.ceil(4 * s)),
                           boundary="none", dtype=float).compute()
    assert np.abs(tiles - whole).max() / np.abs(whole).max() > 1e-3


def test_periodic_boundary_and_2d_input_and_float64(stack):
    out = deconvolve_stack(stack[0], 1.5, 1.0, "wiener", chunk_px=64, boundary="periodic",
                           dtype=np.float64)
    whole = wiener(stack[0], gaussian_psf(1.5), 0.03, boundary="periodic")
    assert out.shape == stack[0].shape and out.dtype == np.float64
    assert np.abs(out - whole).max() / np.abs(whole).max() <= 1e-4


def test_small_map_and_biggs_andrews_run_whole(stack):
    small = stack[:, :96, :96]
    out = deconvolve_stack(small, 3.0, 2.0, num_iter=5, chunk_px=128)
    for c in range(2):
        ref = richardson_lucy(small[c], gaussian_psf(1.5), 5)
        np.testing.assert_allclose(out[c], ref, rtol=1e-5, atol=1e-4 * ref.max())
    events = []
    out = deconvolve_stack(stack, 3.0, 2.0, num_iter=8, acceleration="biggs-andrews",
                           chunk_px=64, progress=lambda d, n: events.append((d, n)))
    assert events[-1] == (2, 2)  # one whole-image task per channel
    ref = richardson_lucy(stack[1], gaussian_psf(1.5), 8, acceleration="biggs-andrews")
    np.testing.assert_allclose(out[1], ref, rtol=1e-5, atol=1e-4 * ref.max())
    assert halo_px("richardson_lucy", 2.0, acceleration="biggs-andrews") is None


def test_dask_input_and_progress(stack):
    import dask.array as da

    events = []
    lazy = da.from_array(stack, chunks=(1, 100, 100))
    out = deconvolve_stack(lazy, [3.0, 5.0], PX_UM, num_iter=10, chunk_px=64,
                           progress=lambda d, n: events.append((d, n)))
    ref = deconvolve_stack(stack, [3.0, 5.0], PX_UM, num_iter=10, chunk_px=64)
    np.testing.assert_array_equal(out, ref)
    total = events[0][1]
    assert events[0] == (0, total) and events[-1] == (total, total) and total > 2
    assert all(n == total for _, n in events)
    assert [d for d, _ in events] == sorted(d for d, _ in events)


def test_distributed_client_gives_the_same_result(stack):
    distributed = pytest.importorskip("distributed")
    small = stack[:, :160, :160]
    ref = deconvolve_stack(small, [3.0, 5.0], PX_UM, num_iter=10, chunk_px=64)
    events = []
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        out = deconvolve_stack(small, [3.0, 5.0], PX_UM, num_iter=10, chunk_px=64,
                               scheduler=client, progress=lambda d, n: events.append((d, n)))
    np.testing.assert_array_equal(out, ref)
    total = events[0][1]
    assert events[-1] == (total, total) and len(events) > 2


def test_synchronous_scheduler_name(stack):
    small = stack[:, :128, :128]
    a = deconvolve_stack(small, 3.0, PX_UM, "wiener", chunk_px=64, scheduler="synchronous")
    b = deconvolve_stack(small, 3.0, PX_UM, "wiener", chunk_px=64)
    c = deconvolve_stack(small, 3.0, PX_UM, "wiener", chunk_px=64, scheduler="local")
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, b)


@pytest.mark.parametrize("args, kwargs, match", [
    ((np.ones(10), 1.0, 1.0), {}, r"stack must be 2-D .* ndim=1"),
    ((np.ones((2, 2, 2, 2)), 1.0, 1.0), {}, r"stack must be 2-D .* ndim=4"),
    ((np.ones((0, 10)), 1.0, 1.0), {}, r"stack is empty"),
    ((np.full((20, 20), np.inf), 1.0, 1.0), {}, r"stack contains infinite values"),
    ((-np.ones((20, 20)), 1.0, 1.0), {"negative": "error"}, r"stack has negative values"),
    ((np.ones((20, 20)), 1.0, 1.0), {"negative": "keep"}, r"negative must be one of .*'keep' is for least"),
    ((np.ones((20, 20)), 1.0, 1.0), {"mask": np.ones((3, 3), bool)}, r"mask shape \(3, 3\) fits neither"),
    ((np.ones((20, 20)), None, None), {"psf": np.ones((3, 3)), "method": "wiener", "balance": 0.1,
                                       "num_iter": 3}, r"no parameter"),
    ((np.ones((20, 20)), 1.0, 1.0), {"psf": np.ones((3, 3))}, r"give either psf_sigma_um .* got both"),
    ((np.ones((20, 20)),), {}, r"give either psf_sigma_um .* got neither"),
    ((np.ones((20, 20)),), {"psf": -np.ones((3, 3))}, r"psf has 9 negative value"),
    ((np.ones((20, 20)),), {"psf": np.zeros((3, 3))}, r"psf is all zero"),
    ((np.ones((20, 20)),), {"psf": np.ones((25, 3))}, r"psf \(25 x 3 px\) is larger than the map"),
    ((np.ones((20, 20)),), {"psf": np.full((3, 3), np.nan)}, r"psf has 9 NaN"),
    ((np.ones((2, 20, 20)),), {"psf": [np.ones((3, 3))] * 3}, r"psf has 3 images for 2 channel"),
    ((np.ones((20, 20)), 0.0, 1.0), {}, r"psf_sigma_um must be a positive"),
    ((np.ones((20, 20)), -1.0, 1.0), {}, r"psf_sigma_um must be a positive"),
    ((np.ones((2, 20, 20)), [1.0, 0.0], 1.0), {}, r"psf_sigma_um\[1\] must be a positive"),
    ((np.ones((2, 20, 20)), [1.0, 1.0, 1.0], 1.0), {}, r"psf_sigma_um has 3 values for 2"),
    ((np.ones((20, 20)), 1.0, 0.0), {}, r"pixel_size_um must be a positive"),
    ((np.ones((20, 20)), 1.0, 1.0), {"method": "magic"}, r"method .magic. is unknown; valid: wiener, richardson_lucy"),
    ((np.ones((20, 20)), 1.0, 1.0), {"num_iter": 0}, r"num_iter must be"),
    ((np.ones((20, 20)), 1.0, 1.0), {"chunk_px": 4}, r"chunk_px must be"),
    ((np.ones((20, 20)), 1.0, 1.0), {"method": "wiener", "boundary": "masked"}, r"boundary must"),
    ((np.ones((20, 20)), 1.0, 1.0), {"dtype": np.int32}, r"dtype must be"),
    ((np.ones((20, 20)), 1.0, 1.0), {"scheduler": 3}, r"scheduler must be"),
    ((np.ones((20, 20)), 1.0, 1.0), {"scheduler": "gpu"}, r"scheduler must be .* got 'gpu'"),
])
def test_bad_input_names_the_parameter(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        deconvolve_stack(*args, **kwargs)


def test_inf_in_dask_input_raises_when_computed():
    import dask.array as da

    a = np.ones((2, 40, 40))
    a[1, 5, 5] = np.inf
    with pytest.raises(ValueError, match=r"stack contains infinite values \(channel 1\)"):
        deconvolve_stack(da.from_array(a), 1.0, 1.0, num_iter=2, negative="clip")
