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
one Richardson-Lucy half-iteration.  Poisson noise is not white (its variance
follows the intensity); :math:`\hat\sigma^2` is its mean, which is what the
risk estimate needs to first order.
"""

from __future__ import annotations

import numpy as np

from ._operators import ConvolutionOperator, laplacian_kernel
from ._validate import as_image

__all__ = ["wiener_start", "upre_balance", "least_squares_start"]

#: coefficients whose |transfer|^2 is below this carry (almost) only noise
_NOISE_TRANSFER = 1e-3
_BALANCES = np.logspace(-9, 6, 121)



def _power(op: ConvolutionOperator, spec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-coefficient energy ``P`` (``sum P = ||x||^2``, Parseval) and degrees of freedom ``dof``."""
    if op.kind == "dct":  # orthonormal: the energy is the squared coefficient
        return np.square(spec), np.ones(spec.shape, dtype=np.float32)
    n_r, n_c = op.fft_shape
    dof = np.full(spec.shape, 2.0, dtype=np.float32)  # rfft2: each stored column stands for itself and its mirror
    dof[:, 0] = 1.0
    if n_c % 2 == 0:
        dof[:, -1] = 1.0
    p = np.square(np.abs(spec)) * dof / (n_r * n_c)
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
        The sums run over a 256-bin histogram of :math:`h_k/d_k`.

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
    h2 = np.asarray(h2, dtype=np.float32).ravel()
    d2 = np.asarray(d2, dtype=np.float32).ravel()
    power, dof = np.ravel(power), np.ravel(dof)
    noise = h2 < _NOISE_TRANSFER * float(h2.max())
    if np.count_nonzero(noise) < 0.01 * h2.size:
        noise = h2 <= np.partition(h2, h2.size // 20)[h2.size // 20]
    sigma2 = float(power[noise].sum(dtype=np.float64)) / max(float(dof[noise].sum(dtype=np.float64)), 1.0)
    reg = d2 > 0
    if not (sigma2 > 0 and reg.any()):
        return float(_BALANCES[0])
    # log(h/d) binned (256 bins): each bin's energy and degrees of freedom
    lu = np.log(np.maximum(h2[reg], 1e-30))
    lu -= np.log(d2[reg])
    lo, hi = float(lu.min()), float(lu.max()) + 1e-6
    idx = np.minimum(((lu - lo) * (256 / (hi - lo))).astype(np.intp), 255)
    s = np.bincount(idx, weights=power[reg], minlength=256)
    c = np.bincount(idx, weights=dof[reg], minlength=256)
    uc = np.exp(lo + (np.arange(256) + 0.5) * ((hi - lo) / 256))
    lam = _BALANCES[:, None]
    keep = lam / (uc[None, :] + lam)  # the residual factor of each bin
    risk = (keep ** 2 * s).sum(axis=1) + 2 * sigma2 * ((1 - keep) * c).sum(axis=1)
    return float(_BALANCES[int(np.argmin(risk))])


def wiener_start(image: np.ndarray, op: ConvolutionOperator, dtype, floor: float) -> np.ndarray:
    r"""Wiener-Hunt estimate at the discrepancy balance, floored at ``floor``, on ``op``'s working grid.

    Parameters
    ----------
    image : (M, N) ndarray
        The map (counts in any units; masked pixels already filled).
    op : ConvolutionOperator
        The iteration's operator (its transform, or the diagonal one of the same
        blur for the padded route).
    dtype : numpy dtype
        Working precision.
    floor : float
        Smallest value of the start (the iterations of multiplicative methods
        cannot leave 0).

    Returns
    -------
    ndarray of ``op.work_shape`` and ``dtype``

    Notes
    -----
    :math:`\hat X = \bar\Lambda_H Y / (|\Lambda_H|^2 + \lambda|\Lambda_D|^2)`
    (Hunt 1971) with :math:`\lambda` from :func:`upre_balance`; one
    forward and one inverse transform.

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
    dop = op.diagonal()
    spec = dop.spectrum(dop.extend(image))
    th = dop.transfer
    h2 = dop.transfer_abs2
    td = dop.transfer_of(laplacian_kernel())
    d2 = np.square(td) if dop.kind == "dct" else np.square(np.abs(td))
    power, dof = _power(dop, spec)
    lam = upre_balance(power, dof, h2, d2)
    den = (h2 + lam * d2).astype(np.result_type(dtype, np.float32))
    spec *= th if dop.kind == "dct" else np.conj(th)
    np.divide(spec, np.maximum(den, np.finfo(den.dtype).tiny), out=spec)
    x = dop.inverse(spec)
    if x.shape != op.work_shape:
        x = op.extend(dop.crop(x))
    x = np.asarray(x, dtype=dtype)
    np.maximum(x, floor, out=x)
    return x


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
