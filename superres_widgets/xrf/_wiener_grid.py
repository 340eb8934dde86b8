r"""The Wiener filter at slow map sizes: the map continued by reflection to a fast DCT size.

Why
---
The reflect-boundary Wiener filter is diagonal in the orthonormal DCT-II of
the map's own size, but :mod:`scipy.fft` transforms a length with a large
prime factor (601, 538 = 2 x 269) 4-8x slower than a nearby 5-smooth length
(:func:`~superres_widgets.xrf._fastconv.is_fast_length`).  Unlike a
convolution, the filter :math:`G = \bar\Lambda_H / (|\Lambda_H|^2 + b|\Lambda_D|^2)`
reaches across the whole map (its impulse response ``g`` decays but never
ends), so no finite padding is exact.  This module continues the map by
half-sample reflection *at its far end only* to a fast length
``N' >= N + m`` and filters there with the DCT-II of ``N'``: the
continuation is then the exact reflect continuation on ``[-N', N')`` (the
DCT-II reflects exactly at the first rows and columns, and
``numpy.pad(mode="symmetric")`` reproduces the reflection at ``N``), and
differs from it only beyond ``N'``, at least ``m`` pixels from every map
pixel.

Error bound
-----------
The filter passes constants (:math:`\Lambda_D(0) = 0`), and both
continuations take values in ``[min y, max y]``, so at every map pixel

.. math::

    |x_{N'} - x_{\mathrm{exact}}| \le (\max y - \min y)
        \sum_{|k| \ge m} |g_1[k]|,

with ``g_1`` the impulse response of the filter's 1-D section along the
axis (:math:`G(\omega, 0)`, the marginal of the 2-D response).  The margin
``m`` is the smallest with that tail below ``tol / 4`` (a factor 4 for the
marginal of ``|g|`` exceeding ``|`` marginal of ``g |``); issue 14 asks for
``<= 1e-3`` of the map's range everywhere, and the tests measure it against
the exact DCT-II at sizes, PSF widths and balances across the sliders'
ranges.  Where the margin would cost more than the exact transform (more
than :data:`MAX_GROWTH` times the pixels) the exact DCT-II of the map's
size is used.

Conventions: arrays ``[row, col]``; the reflect boundary of
:mod:`~superres_widgets.xrf._operators`; kernels symmetric in each axis.
Reference: P. C. Hansen, J. G. Nagy and D. P. O'Leary, *Deblurring Images*
(SIAM 2006), ch. 4 (the DCT-II and reflexive boundaries).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft as sfft

from ._fastconv import is_fast_length

__all__ = ["WIENER_TOL", "MAX_GROWTH", "filter_tail_margin", "padded_shape"]

#: bound on the padded route's error, relative to the map's range (max - min)
WIENER_TOL = 1e-3
#: the padded grid may hold at most this many times the map's pixels (else: the exact DCT-II)
MAX_GROWTH = 3.0


def _section(kernel: np.ndarray, axis: int, n: int) -> np.ndarray:
    """Real transfer function on an ``n``-point grid of the kernel summed over the other axis."""
    k1 = np.asarray(kernel, dtype=np.float64).sum(axis=1 - axis)
    buf = np.zeros(n)
    c = k1.size // 2
    buf[:k1.size] = k1
    return sfft.rfft(np.roll(buf, -c)).real


def filter_tail_margin(psf: np.ndarray, reg: np.ndarray, balance: float, axis: int, tol: float,
                       limit: int) -> int | None:
    r"""Smallest margin ``m <= limit`` with :math:`\sum_{|k| \ge m} |g_1[k]| \le tol / 4`, or None.

    ``g_1`` is the impulse response of :math:`G(\omega) = H(\omega) / (H(\omega)^2 + b D(\omega)^2)`,
    the filter's section along ``axis`` (``H``, ``D``: transfers of the PSF and the
    regulariser summed over the other axis), sampled on a grid of at least
    ``8 * limit`` points so that its own wrap-around is negligible.

    Examples
    --------
    >>> from superres_widgets.xrf import gaussian_psf
    >>> from superres_widgets.xrf._operators import laplacian_kernel
    >>> m = filter_tail_margin(gaussian_psf(3.0), laplacian_kernel(), 0.01, 0, 1e-3, 600)
    >>> 40 < m < 80
    True
    """
    # only the sections along the axis matter: remembered per (sections, balance, ...) -- a stack of maps
    # or a revisited slider value with the same PSF and balance pays once
    p1 = np.asarray(psf, dtype=np.float64).sum(axis=1 - axis)
    r1 = np.asarray(reg, dtype=np.float64).sum(axis=1 - axis)
    return _margin(p1.tobytes(), r1.tobytes(), float(balance), float(tol), int(limit))


@functools.lru_cache(maxsize=64)
def _margin(psf_bytes, reg_bytes, balance, tol, limit):
    """:func:`filter_tail_margin` of the 1-D sections (hashable arguments)."""
    psf = np.frombuffer(psf_bytes)[:, None]
    reg = np.frombuffer(reg_bytes)[:, None]
    axis = 0
    n = int(sfft.next_fast_len(max(8 * limit, 512), real=True))
    h, d = _section(psf, axis, n), _section(reg, axis, n)
    den = h * h + float(balance) * d * d
    if not float(den.min()) > 0:
        return None
    g = np.abs(sfft.irfft(h / den, n))
    half = g[: n // 2 + 1]
    half[1:] += g[::-1][: n // 2]  # |g[k]| + |g[-k]|
    tail = np.cumsum(half[::-1])[::-1]  # tail[m] = sum over |k| >= m
    ok = np.flatnonzero(tail <= tol / 4.0)
    if ok.size == 0 or ok[0] > limit:
        return None
    return int(ok[0])


def padded_shape(shape, psf: np.ndarray, reg: np.ndarray, balance: float,
                 tol: float = WIENER_TOL) -> tuple[int, int] | None:
    """The fast grid for the padded route, or None where the exact DCT-II is the better choice.

    Each slow side ``N`` grows to ``next_fast_len(N + m)`` with ``m`` from
    :func:`filter_tail_margin`; fast sides stay.  None if every side is fast,
    if a margin exceeds the side, or if the grid would exceed
    :data:`MAX_GROWTH` times the map's pixels.

    Examples
    --------
    >>> from superres_widgets.xrf import gaussian_psf
    >>> from superres_widgets.xrf._operators import laplacian_kernel
    >>> padded_shape((538, 601), gaussian_psf(3.0), laplacian_kernel(), 0.01)
    (625, 675)
    >>> padded_shape((512, 600), gaussian_psf(3.0), laplacian_kernel(), 0.01) is None
    True
    """
    out = []
    for axis, n in enumerate(shape):
        if is_fast_length(n):
            out.append(int(n))
            continue
        m = filter_tail_margin(psf, reg, balance, axis, tol, limit=int(n))
        if m is None:
            return None
        out.append(int(sfft.next_fast_len(int(n) + m, real=True)))
    if tuple(out) == tuple(shape) or out[0] * out[1] > MAX_GROWTH * shape[0] * shape[1]:
        return None
    return out[0], out[1]


def padded_wiener(pb, reg: np.ndarray, balance: float, tol: float = WIENER_TOL) -> np.ndarray | None:
    """The Wiener estimate of problem ``pb`` on the padded grid (map region), or None.

    None where the exact route applies: a boundary other than ``"reflect"``, a
    PSF not symmetric in each axis, a map whose sides are fast lengths (its
    operator is not ``"pad"``), or :func:`padded_shape` declining.
    """
    from ._operators import ConvolutionOperator

    op = pb.op
    if op.kind != "pad" or op.boundary != "reflect" or not op._symmetric:
        return None
    shape = padded_shape(op.image_shape, op.psf, reg, balance, tol)
    if shape is None:
        return None
    big = ConvolutionOperator(op.psf, shape, "reflect", dtype=op.dtype, workers=op.workers,
                              extra_kernels=[reg], transform="dct")
    n_r, n_c = op.image_shape
    y = np.pad(pb.y, ((0, shape[0] - n_r), (0, shape[1] - n_c)), mode="symmetric")
    return big.wiener_apply(y, reg, balance)[:n_r, :n_c]
