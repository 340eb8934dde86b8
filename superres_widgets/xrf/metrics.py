r"""Image-quality metrics used by the paper: MSE, SSIM, PSNR.

Conventions
-----------
* Both images must have the same 2-D shape; they are compared pixel by pixel
  in their own units.  The paper rescales the XRF map and the optical chart
  to 0-1 first (chrome = 1, glass = 0); :func:`normalize` does that from two
  reference levels.
* ``data_range`` is always explicit for SSIM and PSNR (no guessing from the
  dtype): for 0-1 images it is 1.

References
----------
.. [1] Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, "Image
       quality assessment: from error visibility to structural similarity",
       IEEE Trans. Image Process. 13, 600-612 (2004).
.. [2] J. Yang, Z. Zhang and Q. Cheng, J. Anal. At. Spectrom. 37, 750 (2022).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from .. import validate as _v
from ._validate import as_image, check_positive, check_positive_int

__all__ = ["mse", "ssim", "psnr", "normalize"]


def _pair(a, b, names=("image0", "image1")):
    x = as_image(a, names[0])
    y = as_image(b, names[1])
    if x.shape != y.shape:
        raise ValueError(f"{names[1]} shape {y.shape} differs from {names[0]} shape {x.shape}")
    return x, y


def _mse(x, y, names) -> float:
    """Mean squared difference, scaled so that it overflows only if the result does."""
    d = x - y
    scale = float(np.max(np.abs(d))) if d.size else 0.0
    if not np.isfinite(scale):
        raise ValueError(f"{names[0]} and {names[1]} differ by more than float64 can hold")
    if scale == 0:
        return 0.0
    with np.errstate(over="ignore"):
        out = float(scale * scale * np.mean((d / scale) ** 2))
    if not np.isfinite(out):
        raise ValueError(f"{names[0]} and {names[1]} differ by up to {scale:.3g}: the mean squared "
                         "difference overflows float64")
    return out


def mse(image0, image1) -> float:
    r"""Mean squared error.

    .. math:: \mathrm{MSE} = \frac{1}{mn}\sum_{i,j}\,[p(i,j) - q(i,j)]^2

    (Yang et al. 2022, eqn 16).  Lower is better.
    """
    x, y = _pair(image0, image1)
    return _mse(x, y, ("image0", "image1"))


def psnr(image_true, image_test, *, data_range: float) -> float:
    r"""Peak signal-to-noise ratio in dB, :math:`10\log_{10}(D^2/\mathrm{MSE})`.

    Returns ``inf`` for identical images.
    """
    d = check_positive(data_range, "data_range")
    names = ("image_true", "image_test")
    err = _mse(*_pair(image_true, image_test, names), names)
    if err == 0:
        return math.inf
    return 20.0 * math.log10(d) - 10.0 * math.log10(err)  # = 10 log10(d^2 / err), without overflow


def ssim(image0, image1, *, data_range: float, win_size: int = 7, k1: float = 0.01,
         k2: float = 0.03, full: bool = False):
    r"""Structural similarity index (mean SSIM over uniform windows).

    Parameters
    ----------
    image0, image1 : (M, N) array_like
        Images of the same shape.
    data_range : float
        Dynamic range ``D`` of the pixel values (1 for 0-1 images); required.
    win_size : int
        Side of the square uniform window, odd, >= 3 (paper: 7).
    k1, k2 : float
        Stabilising constants, ``C1 = (k1 D)^2``, ``C2 = (k2 D)^2`` (paper:
        0.01 and 0.03).
    full : bool
        Also return the SSIM map.

    Returns
    -------
    mssim : float
        Mean of the SSIM map over the pixels whose window lies inside the
        image (a border of ``(win_size - 1) // 2`` is excluded).
    S : ndarray, optional
        The SSIM map (``full=True``).

    Notes
    -----
    For windows ``p, q`` with means :math:`\mu`, sample variances
    :math:`\sigma^2` and sample covariance :math:`\sigma_{pq}` (normalised
    by ``N - 1`` with ``N = win_size**2``):

    .. math::

        \mathrm{SSIM}(p, q) = \frac{(2\mu_p\mu_q + C_1)(2\sigma_{pq} + C_2)}
                                   {(\mu_p^2 + \mu_q^2 + C_1)(\sigma_p^2 + \sigma_q^2 + C_2)}

    Window statistics use :func:`scipy.ndimage.uniform_filter` with
    reflective borders.  With the same parameters this is numerically the
    computation of ``skimage.metrics.structural_similarity(...,
    win_size=7, gaussian_weights=False, use_sample_covariance=True)``.
    (The paper prints the numerator as ``2(mu_p mu_q + C1)``; we follow
    Wang et al. 2004, which its reference defines.)

    References
    ----------
    .. [1] Wang, Bovik, Sheikh & Simoncelli, IEEE TIP 13, 600 (2004).
    """
    x, y = _pair(image0, image1)
    d = check_positive(data_range, "data_range")
    w = check_positive_int(win_size, "win_size", minimum=3)
    if w % 2 == 0:
        raise ValueError(f"win_size must be odd, got {w}")
    if x.shape[0] < w or x.shape[1] < w:
        raise ValueError(f"win_size {w} exceeds the image shape {x.shape}")
    k1 = check_positive(k1, "k1")
    k2 = check_positive(k2, "k2")
    if not max(k1, k2) * d < 1e150:  # C = (k D)^2 must not overflow
        raise ValueError(f"k1, k2 and data_range give C = (k D)^2 beyond float64 (k1={k1:g}, k2={k2:g}, "
                         f"data_range={d:g})")
    scale = max(float(np.max(np.abs(x))), float(np.max(np.abs(y))))
    if not scale < 1e150:  # squares of the values overflow
        raise ValueError(f"image0 / image1 values up to {scale:.3g} overflow when squared; rescale them")
    npix = w * w
    cov_norm = npix / (npix - 1.0)
    ux = ndimage.uniform_filter(x, size=w)
    uy = ndimage.uniform_filter(y, size=w)
    uxx = ndimage.uniform_filter(x * x, size=w)
    uyy = ndimage.uniform_filter(y * y, size=w)
    uxy = ndimage.uniform_filter(x * y, size=w)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1 = (k1 * d) ** 2
    c2 = (k2 * d) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    pad = (w - 1) // 2
    mssim = float(s[pad:s.shape[0] - pad, pad:s.shape[1] - pad].mean())
    if full:
        return mssim, s
    return mssim


def normalize(image, low: float | None = None, high: float | None = None) -> np.ndarray:
    r"""Map ``low -> 0`` and ``high -> 1`` linearly (no clipping).

    Defaults are the image minimum and maximum.  This is the paper's
    transformation of the XRF map and the chart to a common 0-1 range before
    MSE/SSIM; for counts pass the two physical levels (e.g. background and
    chrome counts) rather than the noisy extremes.
    """
    x = as_image(image, "image")
    lo = float(x.min()) if low is None else _v.check_finite(low, "low")
    hi = float(x.max()) if high is None else _v.check_finite(high, "high")
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi == lo:
        raise ValueError(f"high must differ from low, got low={lo}, high={hi}")
    return (x - lo) / (hi - lo)
