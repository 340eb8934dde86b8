r"""Start estimates of the iterative methods: the map, a flat level, or a Wiener estimate.

Conventions: arrays live on an operator's working grid (``op.work_shape``), in
its working dtype; counts in the map's own units (any scale).

The ``"wiener"`` start is the Wiener-Hunt estimate (Laplacian regulariser) whose
balance minimises the *unbiased predictive risk* (Mallows' :math:`C_p`, UPRE):
an estimate of :math:`E\|H\hat x_\lambda - Hx\|^2` from the data alone
(:func:`upre_balance`).  The noise variance :math:`\hat\sigma^2` it needs is
read from the transform coefficients the PSF suppresses
(:math:`|\Lambda_H|^2 < 10^{-3}`): blur leaves only noise there, so no
assumption on the map's units is made (counts, counts per second,
normalised).  Everything happens on the spectrum of one forward transform; the
balance is found on a 256-bin histogram of :math:`|\Lambda_H|^2/|\Lambda_D|^2`
(Parseval), so the start costs one forward and one inverse transform -- about
one Richardson-Lucy half-iteration (for a PSF not symmetric in each axis, of
a grid twice the map's size in each axis).  Poisson noise is not white (its variance
follows the intensity); :math:`\hat\sigma^2` is its mean, which is what the
risk estimate needs to first order.  When fewer than 1 % of the coefficients
are suppressed that far (a PSF that barely blurs at this sampling) there is no
noise level to read and the start is the map itself.  The transform is one in
which the model has no jump at the map's borders (:func:`_transform`).  The
binning of one PSF and grid is cached (4 entries, thread-safe; cleared with
:func:`~superres_widgets.xrf._operators.clear_transfer_cache`).
"""

from __future__ import annotations


import numpy as np
import scipy.fft as sfft

from ._fastconv import dct2, idct2
from ._operators import (ConvolutionOperator, _dct_transfer, _digest, _fft_transfer, is_axis_symmetric,
                         LockedLRU, laplacian_kernel)
from ..validate import check_array_bytes
from ._validate import as_image

__all__ = ["wiener_start", "upre_balance", "least_squares_start", "poisson_start"]

#: coefficients whose |transfer|^2 is below this carry (almost) only noise
_NOISE_TRANSFER = 1e-3
_BALANCES = np.logspace(-9, 6, 121)
#: reflection added on each side of the map on the padded route, at least (pixels)
_START_PAD = 16



def _power(spec: np.ndarray, fft_shape=None) -> tuple[np.ndarray, np.ndarray]:
    """Per-coefficient energy ``P`` (``sum P = ||x||^2``, Parseval) and degrees of freedom ``dof``.

    ``fft_shape`` None: an orthonormal DCT (the energy is the squared coefficient);
    else the real grid of an rfft2 half-spectrum.
    """
    if fft_shape is None:  # (float64: squares of tiny maps do not underflow)
        return np.square(spec, dtype=np.float64), np.ones(spec.shape, dtype=np.float32)
    n_r, n_c = fft_shape
    dof = np.full(spec.shape, 2.0, dtype=np.float32)  # each stored column stands for itself and its mirror
    dof[:, 0] = 1.0
    if n_c % 2 == 0:
        dof[:, -1] = 1.0
    p = np.square(np.abs(spec), dtype=np.float64) * dof / (n_r * n_c)
    return p, dof


def upre_balance(power: np.ndarray, dof: np.ndarray, h2: np.ndarray, d2: np.ndarray) -> float:
    r"""Balance :math:`\lambda` of the Wiener-Hunt filter that minimises the predicted risk (UPRE).

    Parameters
    ----------
    power, dof : ndarray
        Energy per transform coefficient of the data (Parseval: they sum to
        :math:`\|y\|^2`) and the real degrees of freedom each stands for.
    h2, d2 : ndarray
        :math:`|\Lambda_H|^2` and :math:`|\Lambda_D|^2` on the same grid.

    Returns
    -------
    float
        The :math:`\lambda` in :math:`[10^{-9}, 10^6]` (121 log-spaced
        values) that minimises Mallows' unbiased predictive risk estimate

        .. math::

            U(\lambda) = \sum_k P_k \left(\frac{\lambda d_k}{h_k + \lambda
            d_k}\right)^2 + 2\hat\sigma^2 \sum_k \mathrm{dof}_k
            \frac{h_k}{h_k + \lambda d_k} - \hat\sigma^2 \sum_k \mathrm{dof}_k,

        an unbiased estimate of :math:`E\|H\hat x_\lambda - Hx\|^2` for
        white noise of variance :math:`\hat\sigma^2`: the mean energy per
        degree of freedom where :math:`h_k < 10^{-3}\max h` (or in the 5 % of
        coefficients with the smallest :math:`h_k` when fewer than 1 % are
        that small: then the noise, and the balance, are overestimated).
        The sums run over a 256-bin histogram of :math:`h_k/d_k`.  When no
        noise level can be read (zero or non-finite energy there) the largest
        balance, :math:`10^6`, is returned: the smoothest estimate, the safe
        side for a start (noise-free data would want the smallest).

    References
    ----------
    .. [1] C. L. Mallows, "Some comments on C_p", Technometrics 15, 661 (1973).
    .. [2] C. R. Vogel, *Computational Methods for Inverse Problems* (SIAM,
           2002), section 7.1.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> h2 = np.linspace(0, 1, 10_000) ** 4; d2 = np.linspace(0, 1, 10_000) ** 2
    >>> p = rng.standard_normal(10_000) ** 2 + 100 * h2     # noise 1 + a blurred signal
    >>> lam = upre_balance(p, np.ones_like(p), h2, d2)
    >>> bool(1e-3 < lam < 1e3)
    True
    """
    lam = _UprePlan(h2, d2, dof).balance(power)
    return float(_BALANCES[-1]) if lam is None else lam


class _UprePlan:
    """What :func:`upre_balance` can keep between maps of one PSF and grid (the binning of h/d).

    ``ok`` is False when no noise level can be read: fewer than 1 % of the
    coefficients (the constant one excluded) are suppressed below 1e-3 -- a PSF
    that barely blurs at this sampling.
    """

    def __init__(self, h2, d2, dof, fallback: bool = True):
        self.h2, self.d2 = np.asarray(h2), np.asarray(d2)  # the filter's, in the transfers' precision
        h2 = np.asarray(h2, dtype=np.float32).ravel()
        d2 = np.asarray(d2, dtype=np.float32).ravel()
        dof = np.asarray(dof, dtype=np.float64).ravel()
        reg = d2 > 0  # the constant (d = 0) is never noise and never regularised
        noise = reg & (h2 < _NOISE_TRANSFER * float(h2.max()))
        if np.count_nonzero(noise) < 0.01 * h2.size and fallback:
            noise = reg & (h2 <= np.partition(h2, h2.size // 20)[h2.size // 20])
        self.ok = bool(reg.any()) and np.count_nonzero(noise) >= max(1.0, 0.01 * h2.size)
        self.noise = noise
        self.noise_dof = max(float(dof[noise].sum()), 1.0)
        # log(h/d) binned (256 bins; coefficients with d = 0 go to bin 256, never fitted by lambda)
        lu = np.log(np.maximum(h2[reg], 1e-30)) - np.log(d2[reg]) if reg.any() else np.zeros(1)
        lo, hi = float(lu.min()), float(lu.max()) + 1e-6
        idx = np.full(h2.size, 256, dtype=np.uint16)
        idx[reg] = np.minimum(((lu - lo) * (256 / (hi - lo))).astype(np.intp), 255)
        self.idx = idx
        self.c = np.bincount(idx, weights=dof, minlength=257)[:256]
        uc = np.exp(lo + (np.arange(256) + 0.5) * ((hi - lo) / 256))
        lam = _BALANCES[:, None]
        self.keep = lam / (uc[None, :] + lam)  # the residual factor of each bin and lambda
        self.trace = ((1 - self.keep) * self.c).sum(axis=1)

    def balance(self, power) -> float | None:
        """The risk-minimising balance for this energy spectrum; None without a noise estimate."""
        power = np.ravel(power)
        sigma2 = float(power[self.noise].sum(dtype=np.float64)) / self.noise_dof
        if not (self.ok and sigma2 > 0 and np.isfinite(sigma2)):
            return None
        s = np.bincount(self.idx, weights=power, minlength=257)[:256]
        risk = (self.keep ** 2 * s).sum(axis=1) + 2 * sigma2 * self.trace
        return float(_BALANCES[int(np.argmin(risk))])


#: ~11 MB each for a 1024^2 float32 map (~2-4x that on the even-extension route); <= 1/8 of the memory limit
_PLANS = LockedLRU(4, max_fraction=0.125)


def _plan(key, th, td, dof) -> _UprePlan:
    """The plan of one PSF and grid (``key``: kind, PSF digest, shape, dtype), cached (LRU, thread-safe)."""
    def build():
        real = np.isrealobj(th)
        h2 = np.square(th) if real else np.square(np.abs(th))
        d2 = np.square(td) if real else np.square(np.abs(td))
        return _UprePlan(h2, d2, dof, fallback=False)

    return _PLANS.get(key, build)


def wiener_start(image: np.ndarray, op: ConvolutionOperator, dtype, floor: float) -> np.ndarray:
    r"""Wiener-Hunt estimate at the risk-minimising balance, floored at ``floor``, on ``op``'s working grid.

    Parameters
    ----------
    image : (M, N) ndarray
        The map (counts in any units; masked pixels already filled).
    op : ConvolutionOperator
        The iteration's operator: its PSF, boundary, working grid and FFT workers.
    dtype : numpy dtype
        Working precision.
    floor : float
        Smallest value of the start (the iterations of multiplicative methods
        cannot leave 0).

    Returns
    -------
    ndarray of ``op.work_shape`` and ``dtype``
        Outside the map (extended working grids) the start is continued by
        reflection.  Without a noise estimate (a PSF that barely blurs at this
        sampling, see :class:`_UprePlan`) the start is the map itself.

    Notes
    -----
    :math:`\hat X = \bar\Lambda_H Y / (|\Lambda_H|^2 + \lambda|\Lambda_D|^2)`
    (Hunt 1971) with :math:`\lambda` from :func:`upre_balance`, in the
    transform that diagonalises the reflect (or periodic) model without a jump
    at the map's borders (:func:`_transform`); one forward and one inverse
    transform.  With ``boundary="masked"`` the start uses the reflect model.

    References
    ----------
    .. [1] B. R. Hunt, IEEE Trans. Audio Electroacoust. 19, 285 (1971).

    Examples
    --------
    >>> from superres_widgets.xrf import gaussian_psf, convolve
    >>> rng = np.random.default_rng(1)
    >>> truth = np.full((64, 64), 20.0); truth[20:44, 28:36] = 200.0
    >>> y = rng.poisson(convolve(truth, gaussian_psf(2.0))).astype(float)
    >>> op = ConvolutionOperator(gaussian_psf(2.0), y.shape, "reflect")
    >>> x0 = wiener_start(y, op, np.float64, 0.02)
    >>> bool(np.abs(x0 - truth).mean() < np.abs(y - truth).mean())   # closer to the truth than the map
    True
    """
    dtype = np.dtype(dtype)
    spec, power, dof, th, td, back, key = _transform(image, op, dtype)
    real = np.isrealobj(th)
    plan = _plan(key, th, td, dof)
    lam = plan.balance(power)
    if lam is None:  # no noise level to read: the map itself
        x = np.array(image, dtype=dtype)
    else:
        den = (plan.h2 + lam * plan.d2).astype(np.result_type(dtype, np.float32))
        spec *= th if real else np.conj(th)
        np.divide(spec, np.maximum(den, np.finfo(den.dtype).tiny), out=spec)
        x = np.ascontiguousarray(back(spec), dtype=dtype)
    if any(p for pair in op.pad_width for p in pair):
        x = np.pad(x, op.pad_width, mode="symmetric")
    np.maximum(x, floor, out=x)
    return x


class _Back:
    """Inverse of the start's transform, cropped to the map's rows and columns."""

    def __init__(self, kind, shape, image_shape, workers):
        self.kind, self.shape, self.image_shape, self.workers = kind, shape, image_shape, workers

    def __call__(self, spec):
        n_r, n_c = self.image_shape
        if self.kind == "dct":
            out = idct2(spec, self.workers, overwrite=True)
        else:
            out = sfft.irfft2(spec, s=self.shape, workers=self.workers)  # "fft" and "even"
        return out[:n_r, :n_c]


def _wraps_smoothly(img: np.ndarray) -> bool:
    """Whether the map's opposite borders continue each other (a periodic map): the squared jumps
    across the wrap are at most 4x the mean squared difference of neighbouring pixels."""
    inner = float(np.mean(np.diff(img, axis=0) ** 2) + np.mean(np.diff(img, axis=1) ** 2))
    wrap = float(np.mean((img[0] - img[-1]) ** 2) + np.mean((img[:, 0] - img[:, -1]) ** 2))
    return wrap <= 4.0 * inner


def _transform(image, op: ConvolutionOperator, dtype):
    """``(spectrum, psf transfer, Laplacian transfer, inverse, plan key, dof)`` of the map for the start.

    A transform in which the *data* have no jump at the map's borders:

    * ``"periodic"`` and a map whose opposite borders continue each other: the
      FFT of the map's grid (the periodic model);
    * otherwise (``"reflect"``, ``"masked"``, or a periodic model of a map that
      is not periodic -- the start then follows the reflect model), with a PSF
      symmetric in each axis: the DCT-II of the map (the exact reflect model)
      where the operator uses it, else of the map continued by reflection (at
      least 16 px, and the PSF's size) to the next fast size -- exact
      reflection at the first rows and columns, a mirror a margin beyond the
      last ones (close to, not exactly, the reflect model; the exact DCT costs
      2-6x more at such sizes);
    * a PSF not symmetric in each axis: the FFT of the map's even extension,
      which is periodic and holds the exact reflect model -- a transform of
      4x the map's size (its Nyquist lines are exactly 0 and carry no noise).
    """
    n_r, n_c = op.image_shape
    psf, lap = op.psf, laplacian_kernel()
    img = np.asarray(image, dtype=dtype)
    fast = sfft.next_fast_len(n_r, real=True) == n_r and sfft.next_fast_len(n_c, real=True) == n_c
    dof = None
    if op.boundary == "periodic" and _wraps_smoothly(img):
        kind, shape, buf = "fft", (n_r, n_c), img
    elif is_axis_symmetric(psf):
        kind = "dct"
        if op.kind == "dct" or (op.kind != "pad" and fast):
            shape, buf = (n_r, n_c), img
        else:
            pad = max(_START_PAD, max(psf.shape))
            shape = (sfft.next_fast_len(n_r + pad, real=True), sfft.next_fast_len(n_c + pad, real=True))
            buf = np.pad(img, ((0, shape[0] - n_r), (0, shape[1] - n_c)), mode="symmetric")
    else:
        kind, shape = "even", (2 * n_r, 2 * n_c)
        check_array_bytes(shape, "the Wiener start's even extension", dtype, copies=4)
        buf = np.pad(img, ((0, n_r), (0, n_c)), mode="symmetric")
    if kind == "dct":
        spec = dct2(buf, op.workers)
        th, td = _dct_transfer(psf, shape, dtype), _dct_transfer(lap, shape, dtype)
    else:
        spec = sfft.rfft2(buf, workers=op.workers)
        th, td = _fft_transfer(psf, shape, dtype), _fft_transfer(lap, shape, dtype)
    power, dof = _power(spec, None if kind == "dct" else shape)
    if kind == "even":  # the half-sample even extension has exactly zero Nyquist lines
        dof[n_r, :] = 0.0
        dof[:, n_c] = 0.0
    key = (kind, _digest(psf), shape, dtype.str)
    return spec, power, dof, th, td, _Back(kind, shape, (n_r, n_c), op.workers), key


def least_squares_start(x0, pb) -> np.ndarray:
    """Start of the least-squares methods (FISTA, Landweber, Tikhonov-Miller) on ``pb``'s working grid.

    ``None``/``"image"``: the map (continued by reflection, also for the
    "masked" model); ``"flat"``: its mean; ``"wiener"``: :func:`wiener_start`
    (not floored: least squares may go negative); an array of the image shape
    (finite) is used as given.
    """
    img, op, dt = pb.data.image, pb.op, pb.dt
    if x0 is None or (isinstance(x0, str) and x0 == "image"):
        return np.pad(img.astype(dt), op.pad_width, mode="symmetric")
    if isinstance(x0, str) and x0 == "flat":
        return np.full(op.work_shape, float(img.mean()), dtype=dt)
    if isinstance(x0, str) and x0 == "wiener":
        return wiener_start(img, op, dt, -np.inf)
    if isinstance(x0, str):
        raise ValueError(f"x0 must be 'image', 'wiener', 'flat', None or an array of the image shape, got {x0!r}")
    arr = as_image(x0, "x0") + pb.data.offset
    if arr.shape != img.shape:
        raise ValueError(f"x0 shape {arr.shape} differs from the image shape {img.shape}")
    return np.pad(arr.astype(dt), op.pad_width, mode="symmetric")


def poisson_start(x0, img, op, dt, name="x0", offset=0.0) -> np.ndarray:
    """Start of the Poisson methods (Richardson-Lucy, RL-TV, SGP) on ``op``'s working grid.

    ``None``/``"flat"``: the map's mean (at least 0); ``"image"``: the map,
    floored at 1e-3 of its mean (multiplicative updates cannot leave 0);
    ``"wiener"``: :func:`wiener_start` with the same floor; an array of the
    image shape (>= 0) is used as given, continued by reflection.
    """
    if x0 is None or (isinstance(x0, str) and x0 == "flat"):
        level = float(img.mean())
        return np.full(op.work_shape, max(level, 0.0), dtype=dt)
    if isinstance(x0, str) and x0 in ("image", "wiener"):
        floor = max(float(img.mean()) * 1e-3, 1e-12)
        if x0 == "wiener":
            return wiener_start(img, op, dt, floor)
        x = op.extend(img)
        np.maximum(x, floor, out=x)
        return x
    if isinstance(x0, str):
        raise ValueError(f"{name} must be 'image', 'wiener', 'flat', None or an array of the image shape, "
                         f"got {x0!r}")
    arr = as_image(x0, name) + offset
    if arr.min() < 0:
        raise ValueError(f"{name} has negative values (min {arr.min() - offset:.4g}); a start estimate of counts "
                         "must be >= 0")
    if arr.shape != img.shape:
        raise ValueError(f"{name} shape {arr.shape} differs from the image shape {img.shape}")
    # continue the start by reflection (also outside the data of the masked model)
    return np.pad(arr.astype(dt), op.pad_width, mode="symmetric")
