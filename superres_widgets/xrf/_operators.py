"""Convolution operators with a cached transfer function.

Conventions
-----------
* Arrays are indexed ``[row, col]``; a kernel's origin (the pixel that lands
  on the output pixel) is at index ``(n_rows // 2, n_cols // 2)``.
* Convolution is ``(h * x)[i, j] = sum_{k, l} h[k, l] x[i - k + c_r, j - l + c_c]``
  with ``(c_r, c_c)`` the kernel origin, i.e. ``scipy.ndimage.convolve`` for
  odd kernels.

Boundaries
----------
``"periodic"``
    Circulant operator on the image grid itself (FFT of exactly the image
    shape), the convention of ``skimage.restoration.wiener``.
``"reflect"``
    The image is continued by half-sample symmetric reflection
    (``numpy.pad(mode="symmetric")`` == ``scipy.ndimage`` ``mode="reflect"``).
    For kernels symmetric in each axis (e.g. a Gaussian with ``rho = 0``) the
    operator is diagonalised exactly by the orthonormal 2-D DCT-II, so no
    padding is needed (Hansen, Nagy & O'Leary 2006, ch. 4).  Other kernels
    use FFTs on a grid padded by reflection to a fast FFT length
    (:func:`scipy.fft.next_fast_len`).
``"masked"``
    Non-circulant model for iterative methods (Bertero & Boccacci 2005): the
    object lives on a grid extended by the kernel size, the data only on the
    image; forward = crop(H x), adjoint = H^T zero-extend(r).  Pixels near
    the border are then not forced to follow any assumed continuation.

The transfer functions are cached (LRU, keyed by a digest of the kernel
bytes, the working shape, the transform and the dtype) so that re-running a
method with a new regularisation weight -- a widget slider -- does not
re-transform the PSF.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import scipy.fft as sfft

from . import _fastconv as _fc

__all__ = ["ConvolutionOperator", "laplacian_kernel", "clear_transfer_cache"]

DEFAULT_WORKERS = -1

#: images with fewer pixels keep the transform of their own shape (too cheap to matter)
PAD_MIN_PIXELS = 4096

_OTHER_CACHES: list = []  # clear functions of caches built on the transfers (xrf._start's plans)


class LockedLRU:
    """A thread-safe least-recently-used cache: ``get(key, build)`` returns the value of ``key``,
    building it outside the lock on a miss (two threads may build the same value; both are equal).

    At most ``maxsize`` entries; with ``max_fraction``, also at most that fraction of the memory
    limit (:func:`superres_widgets.validate.memory_limit`) in the arrays the entries hold (an
    array, or a tuple/list of them): the least recently used go first, the newest always stays.
    Every instance is emptied by :func:`clear_transfer_cache` (the caches built on transfers).

    Examples
    --------
    >>> c = LockedLRU(2)
    >>> c.get("a", lambda: 1), c.get("b", lambda: 2), c.get("a", lambda: 0), c.get("c", lambda: 3)
    (1, 2, 1, 3)
    >>> sorted(c._data)  # "b" was the least recently used
    ['a', 'c']
    >>> from superres_widgets.validate import memory_limit_set
    >>> big = LockedLRU(16, max_fraction=0.5)
    >>> with memory_limit_set(4 * 2**20):  # 2 MiB for the arrays
    ...     _ = [big.get(k, lambda: np.zeros(2**17)) for k in "abc"]  # 1 MiB each
    >>> sorted(big._data), big.nbytes
    (['b', 'c'], 2097152)
    """

    def __init__(self, maxsize: int, max_fraction: float | None = None):
        self.maxsize = int(maxsize)
        self.max_fraction = max_fraction
        self._data: OrderedDict = OrderedDict()
        self._bytes: dict = {}
        self._total = 0  # sum of self._bytes
        self._lock = threading.Lock()
        _OTHER_CACHES.append(self.clear)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays the entries hold."""
        with self._lock:
            return self._total

    @staticmethod
    def _size(value) -> int:
        if isinstance(value, np.ndarray):
            return int(value.nbytes)
        if isinstance(value, (tuple, list)):
            return sum(LockedLRU._size(v) for v in value)
        return 0

    def get(self, key, build):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = build()
        if self.max_fraction is None:
            budget = float("inf")
        else:
            from ..validate import memory_limit

            budget = self.max_fraction * memory_limit()
        with self._lock:
            self._total -= self._bytes.get(key, 0)  # another thread built it meanwhile
            self._data[key] = value
            self._bytes[key] = self._size(value)
            self._total += self._bytes[key]
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize or (len(self._data) > 1 and self._total > budget):
                old, _ = self._data.popitem(last=False)
                self._total -= self._bytes.pop(old, 0)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes.clear()
            self._total = 0

    def __len__(self) -> int:
        return len(self._data)


#: transfer functions (read-only arrays): 16 at most, and at most 1/8 of the memory limit (one
#: |H|^2 of a 4096^2 map in float64 is 128 MiB; 16 of them would be 2 GiB)
_cache = LockedLRU(16, max_fraction=0.125)


def register_cache_clear(fn) -> None:
    """Have :func:`clear_transfer_cache` also call ``fn()`` (a cache derived from the transfers)."""
    _OTHER_CACHES.append(fn)


def clear_transfer_cache() -> None:
    """Empty the cache of kernel transfer functions and every cache built on them."""
    for fn in _OTHER_CACHES:
        fn()


def laplacian_kernel() -> np.ndarray:
    """The 5-point Laplacian ``[[0,-1,0],[-1,4,-1],[0,-1,0]]`` (origin at its centre)."""
    return np.array([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]])


#: kernels up to this size have their digest and symmetry remembered (the LRU keys hold their bytes)
_FACTS_MAX_BYTES = 1 << 16


def _digest(kernel: np.ndarray) -> str:
    k = np.ascontiguousarray(kernel, dtype=np.float64)
    return _kernel_facts(k)[0]


def _kernel_facts(k: np.ndarray) -> tuple[str, bool]:
    """``(digest, symmetric in each axis)`` of a float64 kernel: remembered for small kernels (one
    look per kernel, not three per call: ~50 us of a 64 x 64 Wiener call), computed for large ones."""
    if k.nbytes <= _FACTS_MAX_BYTES:
        return _facts_of_bytes(k.tobytes(), k.shape)
    return _facts(k.tobytes(), k)


@functools.lru_cache(maxsize=128)
def _facts_of_bytes(data: bytes, shape: tuple) -> tuple[str, bool]:
    return _facts(data, np.frombuffer(data).reshape(shape))


def _facts(data: bytes, k: np.ndarray) -> tuple[str, bool]:
    digest = hashlib.blake2b(data + repr(k.shape).encode(), digest_size=16).hexdigest()
    return digest, _axis_symmetric(k, 1e-10)


def _cached(key: tuple, build):
    def frozen():
        value = build()
        value.setflags(write=False)
        return value

    return _cache.get(key, frozen)


def is_axis_symmetric(kernel: np.ndarray, rtol: float = 1e-10) -> bool:
    """True if ``kernel`` has odd sides and is symmetric under each axis flip."""
    if rtol == 1e-10 and np.ndim(kernel) == 2:
        return _kernel_facts(np.ascontiguousarray(kernel, dtype=np.float64))[1]
    return _axis_symmetric(np.asarray(kernel), rtol)


def _axis_symmetric(kernel: np.ndarray, rtol: float) -> bool:
    if kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        return False
    scale = np.abs(kernel).max() * rtol + 1e-300
    return bool(np.all(np.abs(kernel - kernel[::-1, :]) <= scale)
                and np.all(np.abs(kernel - kernel[:, ::-1]) <= scale))


def _padded_tf_real_space(kernel: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Kernel embedded in ``shape`` with its origin rolled to index (0, 0)."""
    out = np.zeros(shape, dtype=np.float64)
    kr, kc = kernel.shape
    out[:kr, :kc] = kernel
    return np.roll(out, (-(kr // 2), -(kc // 2)), axis=(0, 1))


def _fft_transfer(kernel: np.ndarray, shape: Sequence[int], dtype) -> np.ndarray:
    key = ("rfft", _digest(kernel), tuple(shape), np.dtype(dtype).str)

    def build():
        tf = sfft.rfft2(_padded_tf_real_space(kernel, shape))
        ctype = np.complex64 if np.dtype(dtype) == np.float32 else np.complex128
        return tf.astype(ctype)

    return _cached(key, build)


def _dct_transfer(kernel: np.ndarray, shape: Sequence[int], dtype) -> np.ndarray:
    """Eigenvalues of the reflect-boundary operator in the orthonormal DCT-II basis."""
    key = ("dct", _digest(kernel), tuple(shape), np.dtype(dtype).str)

    def build():
        n_r, n_c = shape
        kr, kc = kernel.shape
        cr, cc = kr // 2, kc // 2
        if max(cr, kr - 1 - cr) < n_r and max(cc, kc - 1 - cc) < n_c:
            # the kernel reaches less than the image in each axis: one reflection suffices and the
            # eigenvalues are the cosine sums (O(N K M) matrix products, no 2-D DCT: a sigma slider at
            # 1024^2 pays ~6 ms instead of ~40 ms; equal to the DCT route to 1e-13)
            return _fc.eigenvalues(kernel, shape, "reflect").astype(dtype)
        # response of the operator to a unit impulse at (0, 0): the impulse
        # and its mirror images at -1 in each axis, r = h(i,j) + h(i+1,j)
        # + h(i,j+1) + h(i+1,j+1) with h indexed by offset from the origin.
        big = np.zeros((n_r + 1, n_c + 1))
        rows = min(kr - cr, n_r + 1)
        cols = min(kc - cc, n_c + 1)
        big[:rows, :cols] = kernel[cr:cr + rows, cc:cc + cols]
        first = big[:n_r, :n_c] + big[1:, :n_c] + big[:n_r, 1:] + big[1:, 1:]
        e1 = np.zeros((n_r, n_c))
        e1[0, 0] = 1.0
        lam = sfft.dctn(first, type=2, norm="ortho") / sfft.dctn(e1, type=2, norm="ortho")
        return lam.astype(dtype)

    return _cached(key, build)


def _spec_shape(shape: Sequence[int]) -> tuple:
    """Shape of the rfft2 half-spectrum of a real grid of ``shape``."""
    return (int(shape[0]), int(shape[1]) // 2 + 1)


class ConvolutionOperator:
    """Blur by a fixed kernel on a working grid chosen for the boundary model.

    Parameters
    ----------
    psf : (K_r, K_c) ndarray
        Kernel, origin at ``(K_r // 2, K_c // 2)``.  Used as given (the
        public functions normalise it to unit sum before building this).
    image_shape : (n_r, n_c) tuple
        Shape of the data.
    boundary : {"reflect", "periodic", "masked"}
        See the module docstring.
    dtype : numpy dtype
        Working precision (float32 or float64).
    workers : int
        Passed to :mod:`scipy.fft` (-1 = all cores).
    extra_kernels : sequence of ndarray, optional
        Further kernels (e.g. a regulariser) whose transfer functions are
        needed on the same grid; they decide together with ``psf`` whether
        the DCT path can be used.
    transform : {"auto", "fft", "dct", "pad"}
        Force a transform: ``"dct"`` (``"reflect"``, symmetric kernels),
        ``"fft"`` (``"periodic"``: the FFT of the image shape; ``"reflect"``:
        the reflection-padded grid model), ``"pad"`` (``"reflect"`` or
        ``"periodic"``: the exact operator by padding, a fast FFT grid and a
        crop, any kernel).  ``"auto"`` takes ``"pad"`` where the image shape
        is a slow transform length (see the module docstring).

    Attributes
    ----------
    kind : {"dct", "fft", "pad"}
        The transform in use.
    work_shape : tuple
        Shape of the working grid (the image shape for "dct" and "pad").
    fft_shape : tuple
        Shape of the transform grid (``work_shape`` except for "pad").
    offset : tuple
        Position of the image inside the working grid.
    transfer : ndarray
        Transfer function of ``psf`` on the transform grid (real for "dct",
        complex half-spectrum for "fft" and "pad").

    Examples
    --------
    >>> from scipy import ndimage
    >>> x = np.random.default_rng(0).random((67, 71))
    >>> k = np.outer([1.0, 2.0, 1.0], [1.0, 4.0, 6.0, 4.0, 1.0]) / 64
    >>> op = ConvolutionOperator(k, x.shape, "reflect", dtype=np.float64)
    >>> op.kind, op.fft_shape
    ('pad', (72, 75))
    >>> bool(np.allclose(op.forward(x), ndimage.convolve(x, k, mode="reflect"), atol=1e-12))
    True
    """

    def __init__(self, psf: np.ndarray, image_shape: Sequence[int], boundary: str = "reflect",
                 dtype=np.float32, workers: int | None = None,
                 extra_kernels: Sequence[np.ndarray] = (), transform: str = "auto"):
        from .. import validate as _v

        self.psf = _v.check_array(psf, "psf", ndim=2)
        if isinstance(image_shape, (str, bytes)) or not hasattr(image_shape, "__len__") or len(image_shape) != 2:
            raise ValueError(f"image_shape must be (rows, cols), got {image_shape!r}")
        self.image_shape = (_v.check_int(image_shape[0], "image_shape[0]", 1),
                            _v.check_int(image_shape[1], "image_shape[1]", 1))
        _v.check_choice(boundary, "boundary", ("reflect", "periodic", "masked"))
        _v.check_choice(transform, "transform", ("auto", "fft", "dct", "pad"))
        extra_kernels = [_v.check_array(k, f"extra_kernels[{i}]", ndim=2) for i, k in enumerate(extra_kernels)]
        self.boundary = boundary
        self.dtype = np.dtype(dtype)
        self.workers = DEFAULT_WORKERS if workers is None else workers
        self.extra_kernels = [np.asarray(k, dtype=np.float64) for k in extra_kernels]
        kernels = [self.psf] + self.extra_kernels
        self._symmetric = all(is_axis_symmetric(k) for k in kernels)
        self.pad = 0
        self.kind = self._choose(transform)
        if self.kind == "pad":
            self._init_pad(kernels)
        elif boundary == "periodic" or self.kind == "dct":
            self.work_shape = self.image_shape
            self.offset = (0, 0)
            self.pad_width = ((0, 0), (0, 0))
        else:
            self._init_extended(kernels)
        if self.kind != "pad":
            self.fft_shape = self.work_shape
        self.transfer = self.transfer_of(self.psf)
        self._abs2 = None
        self._mask_norm = None
        self._lip = None
        self._conj = None

    def _choose(self, transform: str) -> str:
        """The transform for this boundary, kernels and size (see the ``transform`` parameter)."""
        b, shape = self.boundary, self.image_shape
        if transform == "dct" and not (b == "reflect" and self._symmetric):
            raise ValueError("transform='dct' needs boundary='reflect' and kernels "
                             "symmetric in each axis with odd sides")
        if transform == "pad" and b == "masked":
            raise ValueError("transform='pad' needs boundary='reflect' or 'periodic', got 'masked'")
        if transform != "auto":
            return transform
        if b == "masked" or (b == "reflect" and not self._symmetric):
            return "fft"
        slow = not all(_fc.is_fast_length(n) for n in shape)
        if slow and shape[0] * shape[1] >= PAD_MIN_PIXELS:
            return "pad"
        return "dct" if b == "reflect" else "fft"

    def _init_pad(self, kernels) -> None:
        from .. import validate as _v

        # grid 1 (forward, adjoint, regulariser transfers |d|^2): pad by the psf's reach and twice the
        # regularisers'; grid 2 (the normal operator, |h|^2): twice the largest reach
        reach_extra = _fc.reach(self.extra_kernels)
        pads = (max(_fc.reach([self.psf]), 2 * reach_extra), 2 * _fc.reach(kernels))
        shapes = [tuple(sfft.next_fast_len(n + 2 * p, real=True) for n in self.image_shape) for p in pads]
        if shapes[0] == shapes[1] or _spec_shape(shapes[0]) == _spec_shape(shapes[1]):
            shapes[0], pads = shapes[1], (pads[1], pads[1])
        self._grids = {_spec_shape(s): (s, p) for s, p in zip(shapes, pads)}
        self.fft_shape, self.pad = shapes[0], pads[0]
        self._normal_grid = (shapes[1], pads[1])
        _v.check_array_bytes(shapes[1], "ConvolutionOperator: the padded transform grid", copies=4)
        self.work_shape = self.image_shape
        self.offset = (0, 0)
        self.pad_width = ((0, 0), (0, 0))
        self._mode = _fc.PAD_MODES[self.boundary]

    def _init_extended(self, kernels) -> None:
        from .. import validate as _v

        need = [0, 0]
        for k in kernels:
            for ax in (0, 1):
                c = k.shape[ax] // 2
                need[ax] = max(need[ax], c, k.shape[ax] - 1 - c)
        before = tuple(need)
        shape = tuple(sfft.next_fast_len(s + 2 * p, real=True) for s, p in zip(self.image_shape, before))
        self.work_shape = shape
        _v.check_array_bytes(shape, "ConvolutionOperator: the padded working grid", copies=8)
        self.offset = before
        self.pad_width = tuple((b, w - s - b) for b, w, s in zip(before, shape, self.image_shape))

    def diagonal(self) -> ConvolutionOperator:
        """This operator with a transform that diagonalises it (for direct solvers such as Wiener).

        ``self`` unless ``kind == "pad"``; then the DCT-II ("reflect") or the
        FFT of the image shape ("periodic") of the same exact operator.
        """
        if self.kind != "pad":
            return self
        return ConvolutionOperator(self.psf, self.image_shape, self.boundary, dtype=self.dtype,
                                   workers=self.workers, extra_kernels=self.extra_kernels,
                                   transform="dct" if self.boundary == "reflect" else "fft")

    # ------------------------------------------------------------------ grids
    def transfer_of(self, kernel: np.ndarray) -> np.ndarray:
        """Transfer function of ``kernel`` on this operator's transform grid (cached)."""
        kernel = np.asarray(kernel, dtype=np.float64)
        if self.kind == "dct":
            return _dct_transfer(kernel, self.work_shape, self.dtype)
        return _fft_transfer(kernel, self.fft_shape, self.dtype)

    @property
    def transfer_abs2(self) -> np.ndarray:
        """``|transfer|**2`` in the working dtype."""
        if self._abs2 is None:
            t = self.transfer if self.kind != "pad" else _fft_transfer(self.psf, self._normal_grid[0], self.dtype)
            a2 = (t * t) if self.kind == "dct" else (t.real ** 2 + t.imag ** 2)
            self._abs2 = a2.astype(self.dtype)
        return self._abs2

    @property
    def lipschitz(self) -> float:
        """Largest eigenvalue of ``H^T H`` (``max |transfer|^2``; exact eigenvalues for "pad")."""
        if self.kind != "pad":
            return float(self.transfer_abs2.max())
        if self._lip is None:
            if np.all(self.psf >= 0):  # |H(w)| <= sum h = H(0), an eigenvalue of both boundaries
                self._lip = float(self.psf.sum()) ** 2
            elif self.boundary == "periodic" or self._symmetric:
                self._lip = float(np.max(np.abs(_fc.eigenvalues(self.psf, self.image_shape, self.boundary)) ** 2))
            else:  # non-symmetric reflect: power iteration on A^T A
                v = np.random.default_rng(0).random(self.image_shape)
                lam = 1.0
                for _ in range(30):
                    w = self.adjoint(self.forward(v.astype(self.dtype))).astype(np.float64)
                    lam = float(np.linalg.norm(w)) / max(float(np.linalg.norm(v)), 1e-300)
                    v = w / max(float(np.linalg.norm(w)), 1e-300)
                self._lip = lam * 1.01
        return self._lip

    def extend(self, image: np.ndarray) -> np.ndarray:
        """Image -> working grid (reflection padding, zero extension for "masked")."""
        image = np.asarray(image, dtype=self.dtype)
        if self.pad_width == ((0, 0), (0, 0)):
            return np.array(image, dtype=self.dtype, copy=True)
        mode = "constant" if self.boundary == "masked" else "symmetric"
        return np.pad(image, self.pad_width, mode=mode)

    def crop(self, x: np.ndarray) -> np.ndarray:
        """Working grid -> image region (a view)."""
        r0, c0 = self.offset
        return x[r0:r0 + self.image_shape[0], c0:c0 + self.image_shape[1]]

    @property
    def mask(self) -> np.ndarray:
        """1 on the image region of the working grid, 0 elsewhere."""
        m = np.zeros(self.work_shape, dtype=self.dtype)
        self.crop(m)[...] = 1
        return m

    # -------------------------------------------------------------- transforms
    def spectrum(self, x: np.ndarray, grid: tuple | None = None) -> np.ndarray:
        """Forward transform: orthonormal DCT-II, rfft2, or ("pad") rfft2 of the continued image.

        ``grid`` ("pad" only): ``(fft_shape, pad)``, default ``(self.fft_shape, self.pad)``.
        """
        if self.kind == "dct":
            return _fc.dct2(np.asarray(x), self.workers)
        if self.kind == "pad":
            shape, p = grid or (self.fft_shape, self.pad)
            buf = _fc.pad_into(np.asarray(x, dtype=self.dtype), p, self._mode, shape, self.dtype)
            return sfft.rfft2(buf, workers=self.workers, overwrite_x=True)
        return sfft.rfft2(x, workers=self.workers)

    def inverse(self, spec: np.ndarray, overwrite: bool = True) -> np.ndarray:
        """Inverse of :meth:`spectrum` ("pad": the image region of the transform grid).

        For "pad", ``inverse(spectrum(x) * t)`` is the exact boundary
        convolution only for a ``t`` whose kernel reaches at most
        ``self.pad`` pixels (the kernels' transfers and their products).
        """
        if self.kind == "dct":
            return _fc.idct2(spec, self.workers, overwrite)
        if self.kind != "pad":
            return sfft.irfft2(spec, s=self.fft_shape, workers=self.workers, overwrite_x=overwrite)
        shape, p = self._grids[spec.shape]
        out = sfft.irfft2(spec, s=shape, workers=self.workers, overwrite_x=overwrite)
        n_r, n_c = self.image_shape
        return np.ascontiguousarray(out[p:p + n_r, p:p + n_c])

    def apply(self, x: np.ndarray, transfer: np.ndarray, conjugate: bool = False) -> np.ndarray:
        """Multiply by ``transfer`` (or its conjugate) in the transform domain.

        "pad": ``transfer`` is on one of the operator's grids (:meth:`transfer_of`
        or :attr:`transfer_abs2`), recognised by its shape.
        """
        spec = self.spectrum(x, None if self.kind != "pad" else self._grids[np.shape(transfer)])
        if self.kind == "dct" or not conjugate:
            spec *= transfer
        else:
            spec *= np.conj(transfer)
        return self.inverse(spec)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``H x`` on the working grid."""
        return self.apply(x, self.transfer)

    def adjoint(self, x: np.ndarray) -> np.ndarray:
        """``H^T x`` on the working grid ("pad": zero-embed, conjugate transfer, fold back).

        For "pad" with kernels symmetric in each axis (odd sides) the reflect
        and periodic operators are symmetric matrices (diagonal in a real
        orthonormal basis), so ``H^T x = H x``.
        """
        if self.kind != "pad":
            return self.apply(x, self.transfer, conjugate=True)
        if self._symmetric:  # kernels symmetric in each axis: the boundary operator is symmetric, A^T = A
            return self.forward(x)
        p, (n_r, n_c) = self.pad, self.image_shape
        buf = np.zeros(self.fft_shape, dtype=self.dtype)
        buf[p:p + n_r, p:p + n_c] = x
        spec = sfft.rfft2(buf, workers=self.workers, overwrite_x=True)
        if self._conj is None:
            self._conj = np.conj(self.transfer)
        spec *= self._conj
        z = sfft.irfft2(spec, s=self.fft_shape, workers=self.workers, overwrite_x=True)
        return _fc.fold(z[:n_r + 2 * p, :n_c + 2 * p], self.image_shape, p, self._mode)

    def normal(self, x: np.ndarray) -> np.ndarray:
        """``H^T H x``: one transform pair (two for "pad" with non-symmetric reflect kernels).

        Not for the masked model.  For "pad", ``H^T H`` is the boundary
        convolution with the kernel's autocorrelation (radius ``<= self.pad``)
        when the boundary is periodic or the kernels are symmetric.
        """
        if self.kind == "pad" and self.boundary == "reflect" and not self._symmetric:
            return self.adjoint(self.forward(x))
        return self.apply(x, self.transfer_abs2)

    def wiener_apply(self, x: np.ndarray, reg: np.ndarray, balance: float) -> np.ndarray:
        r"""``(H^T H + b D^T D)^{-1} H^T x`` for a diagonal operator (not "pad"; see :meth:`diagonal`).

        The filter :math:`\bar\Lambda_H / (|\Lambda_H|^2 + b |\Lambda_D|^2)` is built
        from the cached :math:`|\Lambda_H|^2` and :math:`|\Lambda_D|^2` (a slider that
        moves ``b`` pays three passes for it) and applied in place to the spectrum in the
        working dtype.  ``ValueError`` if the denominator vanishes (``b = 0`` and zeros
        of the transfer function).
        """
        if self.kind == "pad":
            raise ValueError("wiener_apply needs a diagonal operator: call diagonal() first")
        den = self._abs2_of(reg) * self.dtype.type(balance)  # |D|^2 b + |H|^2: two passes
        den += self._abs2_of(self.psf)
        if not float(den.min()) > 0:
            raise ValueError("balance is 0 and the PSF transfer function has zeros; use balance > 0")
        if self.kind == "dct":
            np.divide(self.transfer, den, out=den)  # the real filter H / den
        else:
            if self._conj is None:
                self._conj = np.conj(self.transfer)
            den = self._conj / den
        spec = self.spectrum(x)
        spec *= den
        out = self.inverse(spec)
        if not np.isfinite(out).all():
            raise ValueError("balance is too small for this PSF in this dtype (the filter overflows); "
                             "use a larger balance or dtype=np.float64")
        return out

    def _abs2_of(self, kernel: np.ndarray) -> np.ndarray:
        """``|transfer_of(kernel)|**2`` on the transform grid (cached with the transfers)."""
        kernel = np.asarray(kernel, dtype=np.float64)
        key = ("abs2", self.kind, _digest(kernel), tuple(self.fft_shape), self.dtype.str)

        def build():
            t = self.transfer_of(kernel)
            return (t * t if self.kind == "dct" else t.real ** 2 + t.imag ** 2).astype(self.dtype)

        return _cached(key, build)

    def mask_normaliser(self) -> np.ndarray:
        """``H^T mask``: the RL normalisation of the masked model."""
        if self._mask_norm is None:
            self._mask_norm = self.adjoint(self.mask)
        return self._mask_norm
