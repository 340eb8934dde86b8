"""The transfer cache is bounded by bytes as well as entries (a slider at 4096^2 must not fill the memory)."""

from __future__ import annotations

import numpy as np

from superres_widgets.validate import memory_limit_set
from superres_widgets.xrf import gaussian_psf, wiener
from superres_widgets.xrf import _operators as ops


def test_transfer_cache_stays_within_an_eighth_of_the_memory_limit():
    ops.clear_transfer_cache()
    y = np.random.default_rng(0).poisson(50.0, (512, 512)).astype(float)
    limit = 16 * 2**20  # one |H|^2 of 512^2 float64 is 2 MiB; 1/8 of the limit holds one
    with memory_limit_set(limit):
        outs = [wiener(y, gaussian_psf(s), 0.01) for s in (1.0, 1.5, 2.0, 2.5)]
        assert 1 <= len(ops._cache) < 8 and ops._cache.nbytes <= limit / 8
    # without the byte bound the same calls keep every transfer
    ops.clear_transfer_cache()
    again = [wiener(y, gaussian_psf(s), 0.01) for s in (1.0, 1.5, 2.0, 2.5)]
    assert len(ops._cache) >= 8 and ops._cache.nbytes > limit / 8
    for a, b in zip(outs, again, strict=True):  # eviction changes nothing but the time
        np.testing.assert_array_equal(a, b)
