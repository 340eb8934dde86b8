r"""Exact boundary convolutions at any image size: pad by the kernel reach, FFT on a fast grid, crop.

Why
---
The orthonormal DCT-II diagonalises the half-sample ``"reflect"`` operator
exactly, but :mod:`scipy.fft` computes a DCT (or an FFT) of a length with a
large prime factor (e.g. 601, or 538 = 2 x 269) by Bluestein's algorithm,
4-8x slower than at a nearby 5-smooth length.  For a kernel of finite
support (radius ``R``) the boundary operator needs only ``R`` pixels of the
continuation, so it can be computed *exactly* on any larger grid:

.. math::

    A x = C\, F_L^{-1}\, \hat h\, F_L\, E\, P x, \qquad
    A^T r = P^T E^T F_L^{-1}\, \overline{\hat h}\, F_L\, C^T r,

with ``P`` the continuation by ``p`` pixels (``numpy.pad`` mode
``"symmetric"`` == ``scipy.ndimage`` ``mode="reflect"`` == DCT-II's
half-sample reflection, or ``"wrap"`` for the periodic boundary), ``E`` the
zero-embedding into a grid of fast length ``L >= N + 2p``
(:func:`scipy.fft.next_fast_len`), ``F_L`` its real FFT, ``hat h`` the
kernel's transfer function on that grid and ``C`` the crop of the image
region.  ``P^T`` (:func:`fold`) adds the continuation back onto the pixels
it was copied from, so :math:`A^T` is the exact adjoint.

For kernels symmetric in each axis (reflect) and for every kernel
(periodic), :math:`A^T A` is itself the boundary convolution with the
autocorrelation of the kernel (radius ``2R``; for reflect this is the
DCT algebra: both operators are diagonal in the DCT-II basis), so it costs
one transform pair with ``|hat h|^2`` and ``p = 2R``.

Conventions: arrays ``[row, col]``; ``p`` is the padding on each side of
each axis.  Reference: P. C. Hansen, J. G. Nagy and D. P. O'Leary,
*Deblurring Images: Matrices, Spectra, and Filtering* (SIAM 2006), ch. 4.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.fft as sfft

__all__ = ["is_fast_length", "pad", "pad_into", "fold", "reach", "eigenvalues", "dct2", "idct2"]

#: numpy.pad mode of each boundary
PAD_MODES = {"reflect": "symmetric", "periodic": "wrap"}


def is_fast_length(n: int) -> bool:
    """True if ``n`` is a length :mod:`scipy.fft` transforms at full speed (5-smooth).

    Examples
    --------
    >>> is_fast_length(600), is_fast_length(601), is_fast_length(538)
    (True, False, False)
    """
    return int(sfft.next_fast_len(int(n), real=True)) == int(n)


#: a row stride that is a multiple of this many bytes makes pocketfft's column transforms hit the
#: same cache sets (4K aliasing), e.g. at 512 x 512 float64 or 1024 x 1024 float32
_ALIAS_BYTES = 2048
#: the extra row length that breaks the aliasing (one cache line)
_ROW_PAD_BYTES = 64


def _aliases(n_cols: int, dtype) -> bool:
    return (int(n_cols) * np.dtype(dtype).itemsize) % _ALIAS_BYTES == 0


def _padded_rows(shape: Sequence[int], dtype) -> np.ndarray:
    """An uninitialised ``shape`` view into rows one cache line longer (see :data:`_ALIAS_BYTES`)."""
    n_r, n_c = shape
    extra = _ROW_PAD_BYTES // np.dtype(dtype).itemsize
    return np.empty((n_r, n_c + extra), dtype=dtype)[:, :n_c]


def dct2(x: np.ndarray, workers: int = -1) -> np.ndarray:
    """Orthonormal 2-D DCT-II of ``x`` (:func:`scipy.fft.dctn`), in place in a row-padded copy
    where the row stride would alias in the cache (the result is then a non-contiguous view).

    Examples
    --------
    >>> x = np.random.default_rng(0).random((8, 256))
    >>> bool(np.allclose(dct2(x), sfft.dctn(x, type=2, norm="ortho")))
    True
    """
    if not _aliases(x.shape[1], x.dtype):
        return sfft.dctn(x, type=2, norm="ortho", workers=workers)
    buf = _padded_rows(x.shape, x.dtype)
    buf[...] = x
    return sfft.dctn(buf, type=2, norm="ortho", workers=workers, overwrite_x=True)


def idct2(spec: np.ndarray, workers: int = -1, overwrite: bool = False) -> np.ndarray:
    """Inverse of :func:`dct2` (``spec`` is overwritten only if ``overwrite``).

    Examples
    --------
    >>> x = np.random.default_rng(0).random((8, 512))
    >>> bool(np.allclose(idct2(dct2(x), overwrite=True), x))
    True
    """
    if _aliases(spec.shape[1], spec.dtype) and (not overwrite or spec.strides[0] == spec.shape[1] * spec.itemsize):
        buf = _padded_rows(spec.shape, spec.dtype)
        buf[...] = spec
        spec, overwrite = buf, True
    return sfft.idctn(spec, type=2, norm="ortho", workers=workers, overwrite_x=overwrite)


def reach(kernels: Sequence[np.ndarray]) -> int:
    """Largest distance from a kernel's origin ``(K // 2)`` to its edge, over kernels and axes."""
    r = 0
    for k in kernels:
        for n in np.shape(k):
            c = n // 2
            r = max(r, c, n - 1 - c)
    return r


def pad(x: np.ndarray, p: int, mode: str) -> np.ndarray:
    """Continue ``x`` by ``p`` pixels on each side (``numpy.pad``; repeated for ``p`` > size)."""
    if p == 0:
        return np.array(x, copy=True)
    return np.pad(x, p, mode=mode)


def pad_into(x: np.ndarray, p: int, mode: str, shape: Sequence[int], dtype) -> np.ndarray:
    """:func:`pad` written into the corner of a zero array of ``shape`` (the FFT grid), one copy.

    Examples
    --------
    >>> x = np.arange(6.0).reshape(2, 3)
    >>> bool(np.array_equal(pad_into(x, 1, "symmetric", (5, 6), float)[:4, :5], pad(x, 1, "symmetric")))
    True
    """
    n, m = np.shape(x)
    buf = np.zeros(tuple(shape), dtype=dtype)
    if p > min(n, m):
        buf[:n + 2 * p, :m + 2 * p] = np.pad(x, p, mode=mode)
        return buf
    buf[p:p + n, p:p + m] = x
    if p == 0:
        return buf
    cols = slice(0, n + 2 * p)
    if mode == "symmetric":
        buf[:p, p:p + m] = x[:p][::-1]
        buf[p + n:n + 2 * p, p:p + m] = x[n - p:][::-1]
        buf[cols, :p] = buf[cols, p:2 * p][:, ::-1]
        buf[cols, p + m:m + 2 * p] = buf[cols, m:m + p][:, ::-1]
    else:  # wrap
        buf[:p, p:p + m] = x[n - p:]
        buf[p + n:n + 2 * p, p:p + m] = x[:p]
        buf[cols, :p] = buf[cols, m:m + p]
        buf[cols, p + m:m + 2 * p] = buf[cols, p:2 * p]
    return buf


def _fold_axis(z: np.ndarray, n: int, p: int, mode: str, axis: int) -> np.ndarray:
    """Adjoint of :func:`pad` along one axis: ``(n + 2p, ...) -> (n, ...)``."""
    z = np.moveaxis(z, axis, 0)
    if p <= n:
        out = z[p:p + n].copy()
        if mode == "symmetric":
            out[:p] += z[:p][::-1]
            out[n - p:] += z[p + n:][::-1]
        else:  # wrap
            out[n - p:] += z[:p]
            out[:p] += z[p + n:]
    else:  # continuation longer than the image: sum by source index
        src = np.pad(np.arange(n), p, mode=mode)
        out = np.zeros((n,) + z.shape[1:], dtype=z.dtype)
        np.add.at(out, src, z)
    return np.moveaxis(out, 0, axis)


def fold(z: np.ndarray, shape: Sequence[int], p: int, mode: str) -> np.ndarray:
    """Adjoint of :func:`pad`: add each continued pixel back onto its source pixel.

    Examples
    --------
    >>> x, z = np.arange(12.0).reshape(3, 4), np.arange(56.0).reshape(7, 8)
    >>> bool(np.isclose(np.vdot(pad(x, 2, "symmetric"), z), np.vdot(x, fold(z, x.shape, 2, "symmetric"))))
    True
    """
    if p == 0:
        return np.array(z, copy=True)
    out = _fold_axis(z, shape[0], p, mode, 0)
    return _fold_axis(out, shape[1], p, mode, 1)


#: kernels with a side at most this long skip the rank search (:func:`eigenvalues`)
_DENSE_SIDE = 8


def _outer_factors(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(col, row)`` with ``kernel == outer(col, row)`` to 1e-14 of its largest entry, else None.

    Found from the kernel's row and column sums, not an SVD: LAPACK's threads
    busy-wait for ~0.1 s of a core after each call, which a sigma slider
    would pay on every move (this machine's page and server share 2 cores).
    """
    total = kernel.sum()
    peak = np.abs(kernel).max() if kernel.size else 0.0
    if not (peak > 0 and abs(total) > 1e-12 * peak * kernel.size):
        return None
    col, row = kernel.sum(axis=1) / total, kernel.sum(axis=0)
    if np.abs(np.multiply.outer(col, row) - kernel).max() > 1e-14 * peak:
        return None
    return col, row


def eigenvalues(kernel: np.ndarray, shape: Sequence[int], boundary: str) -> np.ndarray:
    r"""Eigenvalues of the exact boundary operator on ``shape`` (direct sums, no transform of length N).

    ``"reflect"`` (kernels symmetric in each axis): the DCT-II eigenvalues
    :math:`\lambda_{kl} = \sum_{a,b} h_{ab} \cos(\pi k a / N) \cos(\pi l b / M)`
    (offsets ``a, b`` from the origin); ``"periodic"``: the DFT of the kernel
    wrapped onto the ``N x M`` grid (complex).  Costs ``O(N r M)`` with ``r`` the
    kernel's numerical rank (the singular values above 1e-15 of the largest):
    1 for a Gaussian with ``rho = 0`` (a sigma slider at 1024^2 pays one outer product).
    A separable kernel (:func:`_outer_factors`) and a small one (a side of at most
    :data:`_DENSE_SIDE`) need no SVD: LAPACK's threads busy-wait for ~0.1 s of a core
    after each call, which a slider would pay on every move.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    mats = []
    for n, kn in zip(shape, kernel.shape):
        k = np.arange(n)[:, None]
        a = (np.arange(kn) - kn // 2)[None, :]
        if boundary == "reflect":
            mats.append(np.cos(np.pi * k * a / n))
        else:
            mats.append(np.exp(-2j * np.pi * k * a / n))
    factors = _outer_factors(kernel)
    if factors is not None:  # one outer product
        return np.multiply.outer((mats[0] * factors[0]).sum(axis=1), (mats[1] * factors[1]).sum(axis=1))
    if min(kernel.shape) <= _DENSE_SIDE:  # a small kernel (the Laplacian): a few outer products, no SVD
        if kernel.shape[0] > kernel.shape[1]:  # sum over the shorter side
            return eigenvalues(kernel.T, shape[::-1], boundary).T
        cols = mats[1] @ kernel.T  # (M, K_r), K_r <= _DENSE_SIDE: small, no BLAS threads
        out = np.multiply.outer(mats[0][:, 0], cols[:, 0])
        for i in range(1, kernel.shape[0]):  # (N, K_r) x (K_r, M) as K_r outer products: a BLAS product of
            out += np.multiply.outer(mats[0][:, i], cols[:, i])  # this shape busy-waits ~0.1 s of a core
        return out
    u, sv, vt = np.linalg.svd(kernel)
    r = max(1, int(np.count_nonzero(sv > sv[0] * 1e-15))) if sv.size and sv[0] > 0 else kernel.shape[0]
    if r >= min(kernel.shape):
        return mats[0] @ kernel @ mats[1].T
    left, right = u[:, :r] * sv[:r], vt[:r].T  # kernel == left @ right.T to rounding
    return (mats[0] @ left) @ (mats[1] @ right).T
