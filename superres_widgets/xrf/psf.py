r"""Point spread functions of a micro-XRF scan: models and the dot-scan measurement.

Conventions (used throughout :mod:`superres_widgets.xrf`)
---------------------------------------------------------
* Images are indexed ``image[row, col]``.  The paper's horizontal axis ``u``
  runs along the columns, the vertical axis ``v`` along the rows:
  ``(row, col) = (v, u)``.  Rows increase downwards, so ``v`` points down.
* Pixel ``(r, c)`` has its centre at ``(v, u) = (r * p, c * p)`` micrometres,
  ``p`` being the pixel size (scan step); pixel ``(0, 0)`` is the origin.
* Physical lengths are in micrometres (``*_um``), resolutions in line pairs
  per millimetre; intensities are counts (never rescaled to [0, 1] unless a
  function says so).
* A PSF kernel is normalised to unit sum and its origin is the pixel
  ``(n_rows // 2, n_cols // 2)``.  For odd sides this is the exact centre.
* The bivariate Gaussian (Yang, Zhang & Cheng 2022, eqn for h(u, v)) has
  covariance ``[[sigma_u**2, rho sigma_u sigma_v], [rho sigma_u sigma_v,
  sigma_v**2]]`` in (u, v); positive ``rho`` tilts the long axis from +u
  towards +v, i.e. *down and to the right* on a displayed image.
* FWHM = 2 sqrt(2 ln 2) sigma ~= 2.355 sigma.

References
----------
.. [1] J. Yang, Z. Zhang and Q. Cheng, "Resolution enhancement in micro-XRF
       using image restoration techniques", J. Anal. At. Spectrom. 37, 750
       (2022), doi:10.1039/d1ja00425e.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .. import validate as _v
from ._validate import DeconvolutionCancelled, as_image, check_positive, make_stop_check

__all__ = [
    "FWHM_PER_SIGMA",
    "gaussian_psf",
    "gaussian2d",
    "kernel_to_sigma",
    "confidence_ellipse",
    "PointScanFit",
    "fit_point_scan",
]

# (the knife-edge measurement is in :mod:`superres_widgets.xrf.knife_edge`)

#: FWHM of a Gaussian in units of its standard deviation, 2 sqrt(2 ln 2).
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


def _check_rho(rho) -> float:
    return float(_v.check_number(rho, "rho", lo=-1.0, hi=1.0, lo_open=True, hi_open=True))


def gaussian2d(u, v, mu_u, mu_v, sigma_u, sigma_v, rho):
    r"""Normalised bivariate normal density h(u, v) of the paper.

    .. math::

        h = \frac{1}{2\pi\sigma_u\sigma_v\sqrt{1-\rho^2}}
            \exp\left\{-\frac{1}{2(1-\rho^2)}\left[\tilde u^2 + \tilde v^2
            - 2\rho\tilde u\tilde v\right]\right\},\quad
            \tilde u = \frac{u-\mu_u}{\sigma_u},\ \tilde v = \frac{v-\mu_v}{\sigma_v}
    """
    mu_u, mu_v = _v.check_finite(mu_u, "mu_u"), _v.check_finite(mu_v, "mu_v")
    sigma_u, sigma_v = _v.check_positive(sigma_u, "sigma_u"), _v.check_positive(sigma_v, "sigma_v")
    rho = _check_rho(rho)
    u, v = _v.check_array(u, "u", min_size=0), _v.check_array(v, "v", min_size=0)
    du = (u - mu_u) / sigma_u
    dv = (v - mu_v) / sigma_v
    one_m = 1.0 - rho * rho
    q = (du * du + dv * dv - 2.0 * rho * du * dv) / one_m
    return np.exp(-0.5 * q) / (2.0 * np.pi * sigma_u * sigma_v * np.sqrt(one_m))


def gaussian_psf(sigma_u: float, sigma_v: float | None = None, rho: float = 0.0, *,
                 pixel_size_um: float | None = None, shape: tuple[int, int] | None = None,
                 truncate: float = 4.0) -> np.ndarray:
    r"""Sampled 2-D Gaussian PSF, normalised to unit sum.

    Parameters
    ----------
    sigma_u : float
        Standard deviation along ``u`` (columns).  Alone, it gives an
        isotropic PSF.  In pixels, or in micrometres if ``pixel_size_um``
        is given.
    sigma_v : float, optional
        Standard deviation along ``v`` (rows); defaults to ``sigma_u``.
    rho : float, optional
        Correlation coefficient in (-1, 1); see the module conventions.
    pixel_size_um : float, optional
        Pixel size (scan step) in micrometres; when given the sigmas are in
        micrometres.
    shape : (int, int), optional
        Kernel shape (rows, cols).  Default: ``2 * ceil(truncate * s) + 1``
        per axis, ``s`` the marginal standard deviation in pixels of that
        axis (at least 1), so the sides are odd and the peak is centred.
    truncate : float, optional
        Half-width of the default kernel in standard deviations.

    Returns
    -------
    psf : (rows, cols) ndarray of float64
        Point-sampled density at the pixel centres, normalised to sum 1,
        origin (mean) at ``(rows // 2, cols // 2)``.

    Notes
    -----
    ``psf[r, c] \propto h(u = (c - c_0), v = (r - r_0))`` with ``h`` the
    bivariate normal of :func:`gaussian2d` and ``(r_0, c_0) = (rows//2,
    cols//2)``.  Point sampling is accurate for sigma >~ 0.7 pixel (discrete
    variance within 0.1 % of sigma**2); below that the discrete variance
    falls short of sigma**2.

    Examples
    --------
    >>> psf = gaussian_psf(32.5, pixel_size_um=5.0)   # the paper's Cr-K PSF
    >>> psf.shape, float(round(psf.sum(), 12))
    ((53, 53), 1.0)
    """
    su = check_positive(sigma_u, "sigma_u")
    sv = su if sigma_v is None else check_positive(sigma_v, "sigma_v")
    rho = _check_rho(rho)
    truncate = check_positive(truncate, "truncate")
    if pixel_size_um is not None:
        p = check_positive(pixel_size_um, "pixel_size_um")
        su, sv = su / p, sv / p
    if shape is None:
        shape = (2 * int(math.ceil(truncate * max(sv, 1e-3))) + 1,
                 2 * int(math.ceil(truncate * max(su, 1e-3))) + 1)
        shape = (max(shape[0], 3), max(shape[1], 3))
    else:
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) != 2:
            raise ValueError(f"shape must be two positive integers, got {shape!r}")
        shape = (_v.check_int(shape[0], "shape[0]", 1), _v.check_int(shape[1], "shape[1]", 1))
    rows, cols = shape
    _v.check_array_bytes(shape, "gaussian_psf: the kernel", copies=6)  # grids, exponent, result
    v = (np.arange(rows) - rows // 2)[:, None].astype(float)
    u = (np.arange(cols) - cols // 2)[None, :].astype(float)
    k = gaussian2d(u, v, 0.0, 0.0, su, sv, rho)
    total = k.sum()
    if not total > 0:  # pragma: no cover - only for absurdly small sigma
        k = np.zeros(shape)
        k[rows // 2, cols // 2] = 1.0
        return k
    return k / total


def kernel_to_sigma(kernel, *, pixel_size_um: float | None = None,
                    method: str = "fit") -> float:
    r"""Reduce a (blind-estimated) kernel to an isotropic Gaussian sigma.

    Parameters
    ----------
    kernel : (K_r, K_c) array_like
        Non-negative kernel (negative entries are set to zero).
    pixel_size_um : float, optional
        If given the result is in micrometres, otherwise in pixels.
    method : {"fit", "moments"}
        ``"fit"``: least-squares fit of ``A exp(-r^2 / (2 sigma^2))`` with a
        free centre -- robust to the truncation of the kernel's tails by the
        blind estimator's 5 %-of-maximum threshold.  ``"moments"``:
        ``sqrt((var_u + var_v) / 2)`` of the kernel taken as a distribution.

    Returns
    -------
    sigma : float

    Notes
    -----
    This is how the paper (Yang et al. 2022, Fig. 6) turned the L0 blind
    kernel into ``sigma = 32.5 um`` to feed Richardson-Lucy.
    """
    k = as_image(kernel, "kernel")
    k = np.where(k > 0, k, 0.0)
    total = k.sum()
    if not total > 0:
        raise ValueError("kernel must have a positive sum")
    k = k / total
    rows, cols = np.indices(k.shape, dtype=float)
    mr, mc = float((k * rows).sum()), float((k * cols).sum())
    var = float((k * ((rows - mr) ** 2 + (cols - mc) ** 2)).sum()) / 2.0
    s_mom = math.sqrt(max(var, 1e-12))
    if method == "moments":
        s = s_mom
    elif method == "fit":
        def resid(p):
            a, r0, c0, s = p
            return (a * np.exp(-((rows - r0) ** 2 + (cols - c0) ** 2) / (2 * s * s)) - k).ravel()

        a0 = float(k.max())
        res = optimize.least_squares(resid, [a0, mr, mc, max(s_mom, 0.3)],
                                     bounds=([0, -np.inf, -np.inf, 0.05],
                                             [np.inf, np.inf, np.inf, np.inf]))
        s = float(res.x[3])
    else:
        raise ValueError(f"method must be 'fit' or 'moments', got {method!r}")
    if pixel_size_um is not None:
        s *= check_positive(pixel_size_um, "pixel_size_um")
    return s


def confidence_ellipse(mu_u: float, mu_v: float, sigma_u: float, sigma_v: float, rho: float,
                       k: float = 1.0, n_points: int = 121) -> np.ndarray:
    r"""Closed polygon of the ``k``-sigma contour of a bivariate Gaussian.

    Returns an ``(n_points, 2)`` array of ``(u, v)`` vertices (first vertex
    repeated at the end), the set ``d^T \Sigma^{-1} d = k^2``.  For ``rho = 0``
    and ``sigma_u = sigma_v`` this is a circle of radius ``k sigma``.
    """
    mu_u, mu_v = _v.check_finite(mu_u, "mu_u"), _v.check_finite(mu_v, "mu_v")
    sigma_u, sigma_v = _v.check_positive(sigma_u, "sigma_u"), _v.check_positive(sigma_v, "sigma_v")
    rho, k = _check_rho(rho), _v.check_positive(k, "k")
    n_points = _v.check_int(n_points, "n_points", 3, 1_000_000)
    su, sv = np.float64(sigma_u), np.float64(sigma_v)
    with np.errstate(over="ignore", under="ignore"):
        cov = np.array([[su ** 2, rho * su * sv], [rho * su * sv, sv ** 2]])
        det = (su * sv) ** 2 * (1 - rho * rho)
    if not np.all(np.isfinite(cov)) or not np.isfinite(det) or not det > 0:
        raise ValueError(f"sigma_u, sigma_v and rho give no finite positive-definite covariance "
                         f"(sigma_u={sigma_u:g}, sigma_v={sigma_v:g}, rho={rho:g})")
    chol = np.linalg.cholesky(cov)
    t = np.linspace(0.0, 2.0 * np.pi, n_points)
    circle = np.stack([np.cos(t), np.sin(t)])
    pts = (k * chol @ circle).T + np.array([mu_u, mu_v])
    pts[-1] = pts[0]
    return pts


# --------------------------------------------------------------------------
# Point scan (dot) fit
# --------------------------------------------------------------------------

_POINT_PARAMS = ("amplitude", "background", "mu_u", "mu_v", "sigma_u", "sigma_v", "rho")
#: Most model evaluations of a point-scan fit (real spots need tens).
_MAX_NFEV = 500


@dataclass
class PointScanFit:
    r"""Result of :func:`fit_point_scan`.

    Attributes
    ----------
    amplitude : float
        ``alpha`` of ``g = alpha h + beta``: integrated signal, counts x um^2
        (``alpha / pixel_size_um**2`` is the signal summed over pixels).
    background : float
        ``beta``, counts per pixel.
    mu_u, mu_v : float
        Spot centre, um, in the pixel-centre frame of the module docstring.
    sigma_u, sigma_v : float
        Standard deviations, um.
    rho : float
        Correlation coefficient.
    errors : dict
        One-standard-error uncertainty of every parameter above (same units).
    covariance : (7, 7) ndarray
        Parameter covariance in the order of ``param_names``.
    param_names : tuple of str
    model : ndarray
        Fitted ``g`` on the pixel grid (counts).
    residual : ndarray
        ``image - model`` (the paper's Fig. 3c error map).
    ellipses : dict of int -> (N, 2) ndarray
        Closed ``(u, v)`` polygons (um) of the 1, 2 and 3 sigma contours.
    pixel_size_um : float
    chi2_reduced : float
        Weighted chi-square per degree of freedom (~1 for pure Poisson noise).
    """

    amplitude: float
    background: float
    mu_u: float
    mu_v: float
    sigma_u: float
    sigma_v: float
    rho: float
    errors: dict[str, float]
    covariance: np.ndarray
    param_names: tuple[str, ...]
    model: np.ndarray
    residual: np.ndarray
    ellipses: dict[int, np.ndarray]
    pixel_size_um: float
    chi2_reduced: float

    @property
    def fwhm_u(self) -> float:
        """FWHM along u, um."""
        return FWHM_PER_SIGMA * self.sigma_u

    @property
    def fwhm_v(self) -> float:
        """FWHM along v, um."""
        return FWHM_PER_SIGMA * self.sigma_v

    @property
    def peak(self) -> float:
        """Peak height of the signal above background, counts."""
        return self.amplitude / (2 * np.pi * self.sigma_u * self.sigma_v
                                 * math.sqrt(1 - self.rho ** 2))

    def ellipses_px(self) -> dict[int, np.ndarray]:
        """The ellipses in pixel units, columns ``(col, row)`` = ``(u, v) / p``."""
        return {k: e / self.pixel_size_um for k, e in self.ellipses.items()}


def fit_point_scan(image, pixel_size_um: float = 1.0, *, poisson_weights: bool = True,
                   n_ellipse_points: int = 121, progress=None, cancel=None) -> PointScanFit:
    r"""Fit the paper's 2-D Gaussian spot model to a scan of a small dot.

    Parameters
    ----------
    image : (rows, cols) array_like
        Counts around an isolated point-like object (paper: a 5 um Cr dot
        scanned at 5 um steps).
    pixel_size_um : float
        Scan step in micrometres.
    poisson_weights : bool
        Weight residuals by ``1 / sqrt(model)`` (iteratively re-weighted
        least squares, two passes), appropriate for counts.  Otherwise
        ordinary least squares.
    n_ellipse_points : int
        Vertices of each confidence-ellipse polygon.
    progress : callable, optional
        ``progress(fraction)`` (0-0.95) as the least-squares evaluations go.
    cancel : Event-like or callable, optional
        Polled at every evaluation; raises :class:`DeconvolutionCancelled`.

    Returns
    -------
    PointScanFit
        Parameters, their uncertainties, model, residual map, ellipses.

    Notes
    -----
    Model (Yang et al. 2022, eqns 11-12):

    .. math:: g(u, v) = \alpha\, h(u, v; \mu_u, \mu_v, \sigma_u, \sigma_v, \rho) + \beta

    with ``h`` the normalised bivariate normal density (:func:`gaussian2d`),
    evaluated at pixel centres (module conventions).  Uncertainties are the
    square roots of the diagonal of ``(J^T W J)^{-1} chi2_red``, the
    ``scipy.optimize.curve_fit`` convention.  The ellipses are the 1, 2, 3
    sigma contours of the fitted PSF (the paper's Fig. 3a).

    References
    ----------
    .. [1] Yang, Zhang & Cheng, J. Anal. At. Spectrom. 37, 750 (2022), Fig. 3.
    """
    img = as_image(image, "image")
    p = _v.check_number(pixel_size_um, "pixel_size_um", lo=1e-5, hi=1e9)
    n_ellipse_points = _v.check_int(n_ellipse_points, "n_ellipse_points", 3, 1_000_000)
    if img.shape[0] < 4 or img.shape[1] < 4:
        raise ValueError(f"image must be at least 4 x 4 pixels, got {img.shape}")
    rows, cols = np.indices(img.shape, dtype=float)
    uu, vv = cols * p, rows * p
    d = img.ravel()

    # initial guess from moments
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    b0 = float(np.median(border))
    w = np.clip(img - b0, 0, None)
    if w.sum() <= 0:
        raise ValueError("image has no signal above its border level")
    w = w / w.sum()
    mu0 = float((w * uu).sum()), float((w * vv).sum())
    su0 = math.sqrt(max(float((w * (uu - mu0[0]) ** 2).sum()), (0.5 * p) ** 2))
    sv0 = math.sqrt(max(float((w * (vv - mu0[1]) ** 2).sum()), (0.5 * p) ** 2))
    # moments of a noisy background overestimate; start from a compromise
    su0 = min(su0, img.shape[1] * p / 4)
    sv0 = min(sv0, img.shape[0] * p / 4)
    a0 = float(np.clip(img - b0, 0, None).sum()) * p * p
    if not float(np.abs(img).max()) * p * p < 1e100:  # the model's products overflow long before
        raise ValueError(f"image values (up to {float(np.abs(img).max()):.3g}) times pixel_size_um^2 are too "
                         "large to fit (over 1e100); these are not counts")
    x0 = np.array([a0, b0, mu0[0], mu0[1], su0, sv0, 0.0])
    lo = np.array([0.0, -np.inf, uu.min() - p, vv.min() - p, 0.05 * p, 0.05 * p, -0.99])
    hi = np.array([np.inf, np.inf, uu.max() + p, vv.max() + p, 10 * img.shape[1] * p,
                   10 * img.shape[0] * p, 0.99])
    with np.errstate(invalid="ignore"):
        lo_in = np.where(np.isfinite(lo), lo + 1e-6 * (np.abs(lo) + 1), lo)
        hi_in = np.where(np.isfinite(hi), hi - 1e-6 * (np.abs(hi) + 1), hi)
    x0 = np.minimum(np.maximum(x0, lo_in), hi_in)

    def model_of(x):
        a, b, mu_u, mu_v, su, sv, r = x
        return a * gaussian2d(uu, vv, mu_u, mu_v, su, sv, r) + b

    weights = np.ones_like(d)
    passes = 2 if poisson_weights else 1
    res = None
    stop = make_stop_check(cancel)
    calls = [0]
    for k in range(passes):
        def resid(x, weights=weights, k=k):
            calls[0] += 1
            if stop():
                raise DeconvolutionCancelled(0, None)
            if progress is not None and calls[0] % 8 == 0:  # ~30-60 evaluations per pass
                progress(min(0.95, (k + min(calls[0] / 60.0, 0.95)) / passes))
            return (model_of(x).ravel() - d) * weights

        res = optimize.least_squares(resid, x0, bounds=(lo, hi), x_scale="jac",
                                     method="trf", max_nfev=_MAX_NFEV)
        if res.status == 0:  # a spot fit converges in tens of evaluations; this is not a spot
            raise ValueError(f"image: the point-scan fit did not converge in {_MAX_NFEV} evaluations -- is "
                             "there one bright spot on a flat background (counts, not inverted)?")
        x0 = res.x
        calls[0] = 0
        if poisson_weights:
            weights = 1.0 / np.sqrt(np.maximum(model_of(x0).ravel(), 1.0))
    assert res is not None
    x = res.x
    dof = max(d.size - x.size, 1)
    chi2 = float(np.sum(res.fun ** 2)) / dof
    jac = res.jac
    try:
        cov = np.linalg.inv(jac.T @ jac) * chi2
    except np.linalg.LinAlgError:
        cov = np.full((x.size, x.size), np.nan)
    errs = {n: float(math.sqrt(max(cov[i, i], 0.0))) for i, n in enumerate(_POINT_PARAMS)}
    model = model_of(x)
    a, b, mu_u, mu_v, su, sv, r = (float(t) for t in x)
    ellipses = {k: confidence_ellipse(mu_u, mu_v, su, sv, r, k, n_ellipse_points) for k in (1, 2, 3)}
    return PointScanFit(amplitude=a, background=b, mu_u=mu_u, mu_v=mu_v, sigma_u=su,
                        sigma_v=sv, rho=r, errors=errs, covariance=cov,
                        param_names=_POINT_PARAMS, model=model, residual=img - model,
                        ellipses=ellipses, pixel_size_um=p, chi2_reduced=chi2)
