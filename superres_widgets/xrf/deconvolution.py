r"""Non-blind deconvolution of micro-XRF maps: Wiener, Richardson-Lucy, FISTA.

Conventions
-----------
* ``image[row, col]`` holds counts (any non-negative scale; integers are
  accepted and converted).  Outputs are float64 in the same units -- nothing
  is clipped to [-1, 1].
* The PSF is normalised to unit sum by every function; its origin is the
  pixel ``(rows // 2, cols // 2)`` (see :mod:`superres_widgets.xrf.psf`).
* ``boundary`` chooses the model outside the image (details in
  :mod:`superres_widgets.xrf._operators`): ``"reflect"`` (default,
  half-sample symmetric continuation; exact DCT diagonalisation for kernels
  symmetric in each axis, otherwise reflection padding to a fast FFT size),
  ``"periodic"`` (circulant, like scikit-image's ``wiener``) and, for the
  iterative methods, ``"masked"`` (non-circulant: object on an extended grid,
  data only inside the image, normalised by ``H^T 1`` -- Bertero & Boccacci
  2005).

Progress and cancellation (iterative methods)
---------------------------------------------
``callback(iteration, estimate)`` is called after every ``callback_every``
iterations and after the last one, with ``estimate`` a fresh float64 array of
the image shape (the caller may keep it).  ``cancel`` is an object with
``is_set()`` (e.g. :class:`threading.Event`) or a zero-argument callable; it
is polled every iteration and, when true, the function raises
:class:`DeconvolutionCancelled` carrying the last estimate.  A widget runs
the method in a worker thread, shows the frames the callback delivers, and
sets the event when the user moves a slider so that the stale run stops.

Precision
---------
Iterations run in float32 by default (``dtype=``), which halves memory and
FFT time; Wiener runs in float64 by default.  All outputs are float64.
"""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Callable

import numpy as np

from .. import validate as _v
from ..validate import check_iterations as _check_iterations
from ._operators import ConvolutionOperator, laplacian_kernel
from ._problem import setup_problem
from ._start import least_squares_start, poisson_start
from ._wiener_grid import padded_wiener
from ._validate import (DeconvolutionCancelled, as_image, as_psf, check_boundary, check_nonnegative, dot,
                        norm2)
from .convergence import kl_objective, least_squares_objective

__all__ = ["wiener", "richardson_lucy", "fista", "DeconvolutionCancelled", "convolve"]

_ITER_BOUNDARIES = ("reflect", "periodic", "masked")
_WIENER_BOUNDARIES = ("reflect", "periodic")


def convolve(image, psf, *, boundary: str = "reflect", workers: int | None = None) -> np.ndarray:
    r"""Blur ``image`` by ``psf`` with the same operator the deconvolutions invert.

    ``(h * x)[i, j] = sum_{k,l} h[k, l] x[i - k + r_0, j - l + c_0]`` with the
    PSF normalised to unit sum and origin ``(r_0, c_0) = (rows//2, cols//2)``;
    ``boundary`` is ``"reflect"`` or ``"periodic"``.  Float64 throughout.
    """
    img = as_image(image, "image")
    h = as_psf(psf, img.shape)
    check_boundary(boundary, _WIENER_BOUNDARIES)
    op = ConvolutionOperator(h, img.shape, boundary, dtype=np.float64, workers=workers)
    return np.array(op.crop(op.forward(op.extend(img))), dtype=np.float64)


# --------------------------------------------------------------------------
# Wiener
# --------------------------------------------------------------------------

def wiener(image, psf, balance: float, *, reg=None, boundary: str = "reflect", mask=None,
           negative: str = "keep", dtype=np.float64, workers: int | None = None,
           exact: bool = False) -> np.ndarray:
    r"""Wiener(-Hunt) deconvolution with a Laplacian regulariser.

    Parameters
    ----------
    image : (M, N) array_like
        Blurred map (counts).
    psf : (K_r, K_c) array_like
        Point spread function; normalised to unit sum here.
    balance : float
        Regularisation weight :math:`\lambda >= 0` (dimensionless, since the
        PSF has unit sum).  Larger values favour smoothness.
    reg : (L_r, L_c) array_like, optional
        Regularisation operator as an impulse response; default the 5-point
        Laplacian ``[[0,-1,0],[-1,4,-1],[0,-1,0]]``.
    boundary : {"reflect", "periodic"}
        ``"periodic"`` reproduces :func:`skimage.restoration.wiener` (with
        ``clip=False``) to rounding error.
    mask : (M, N) bool array_like, optional
        True = pixel excluded from the data fit (with the NaN pixels).  With
        masked pixels the filter is no longer diagonal: the same functional
        (Notes) is minimised by conjugate gradients preconditioned with the
        Wiener filter (:func:`~superres_widgets.xrf.least_squares.solve_masked_tikhonov`).
    negative : {"keep", "offset", "clip", "error"}
        Negative pixels (:mod:`superres_widgets.xrf._data`): used as they are
        by default (``"offset"`` gives the same result: the filter passes
        constants).
    dtype : {float64, float32}
        Working precision (transforms and filter); the result is returned as float64 either way.
    workers : int, optional
        :mod:`scipy.fft` workers (default all cores).
    exact : bool
        ``"reflect"`` at a size :mod:`scipy.fft` transforms slowly (a side with
        a large prime factor, e.g. 538 x 601): by default the map is continued
        by reflection to a fast DCT size with a margin chosen from the filter's
        impulse response, so that the result differs from the exact one by at
        most 1e-3 of the map's range at every pixel
        (:mod:`~superres_widgets.xrf._wiener_grid`).
        ``True`` keeps the DCT-II of the map's own size.

    Returns
    -------
    ndarray of float64, shape (M, N)

    Notes
    -----
    With :math:`\Lambda_H` the transfer function of the PSF and
    :math:`\Lambda_D` that of the regulariser (Yang et al. 2022, eqn 9 with
    :math:`1/\mathrm{SNR}` replaced by :math:`\lambda|Q|^2`),

    .. math::

        \hat X = \frac{\Lambda_H^{*}\, Y}{|\Lambda_H|^2 + \lambda |\Lambda_D|^2}.

    For ``boundary="reflect"`` and kernels symmetric in each axis the
    transform is the orthonormal DCT-II (exact for the reflected
    continuation, no padding); otherwise an FFT on a reflection-padded grid.

    References
    ----------
    .. [1] J. Yang, Z. Zhang and Q. Cheng, J. Anal. At. Spectrom. 37, 750 (2022).
    .. [2] F. Orieux, J.-F. Giovannelli and T. Rodet, J. Opt. Soc. Am. A 27,
           1593 (2010).
    .. [3] B. R. Hunt, IEEE Trans. Audio Electroacoust. 19, 285 (1971).

    Examples
    --------
    >>> from superres_widgets.xrf import gaussian_psf, convolve
    >>> truth = np.zeros((64, 64)); truth[20:44, 30:34] = 100.0
    >>> psf = gaussian_psf(2.0)
    >>> restored = wiener(convolve(truth, psf), psf, balance=1e-3)
    >>> bool(np.abs(restored - truth).mean() < np.abs(convolve(truth, psf) - truth).mean())
    True
    """
    lam = check_nonnegative(balance, "balance")
    exact = _v.check_bool(exact, "exact")
    if reg is None:
        d = laplacian_kernel()
    else:
        d = as_image(reg, "reg")
        if np.ndim(image) == 2 and (d.shape[0] > np.shape(image)[0] or d.shape[1] > np.shape(image)[1]):
            raise ValueError(f"reg shape {d.shape} is larger than the image shape {np.shape(image)}")
    pb = setup_problem(image, psf, boundary=boundary, boundaries=_WIENER_BOUNDARIES, mask=mask,
                       negative=negative, dtype=dtype, workers=workers, extra_kernels=[d], poisson=False)
    if pb.w is not None:
        from .least_squares import solve_masked_tikhonov

        return pb.output(solve_masked_tikhonov(pb, lam, d))
    if not exact:  # a slow size: the map continued to a fast DCT size (error <= 1e-3 of its range)
        out = padded_wiener(pb, d, lam)
        if out is not None:
            return pb.output(out)
    op = pb.op.diagonal()  # the filter divides by the transfer: DCT-II or FFT of the image shape
    y = pb.y if op is pb.op else op.extend(pb.data.image)
    out = op.wiener_apply(y, d, lam)  # the filter above, in the transform domain
    return pb.output(out)


# --------------------------------------------------------------------------
# Richardson-Lucy
# --------------------------------------------------------------------------

def rl_normaliser(pb):
    """``(inverse of H^T w or None, pixels to hold)`` of the Richardson-Lucy update (see its Notes)."""
    norm = pb.norm
    if norm is None:
        return None, None
    support = norm > 1e-3
    inv = np.where(support, 1.0 / np.where(support, norm, 1.0), 0.0).astype(pb.dt)
    hold = ~support
    region = np.zeros(pb.op.work_shape, dtype=bool)
    pb.op.crop(region)[...] = True
    hold &= region  # unseen pixels of the map keep their value; outside it (masked model) they are 0
    return inv, (hold if hold.any() else None)


def richardson_lucy(image, psf, num_iter: int = 30, *, boundary: str = "reflect",
                    x0: Any = None, acceleration: str | None = None, mask=None,
                    negative: str = "offset", stop: str = "none", tol: float = 1e-3, history=None,
                    dtype=np.float32, workers: int | None = None,
                    callback: Callable[[int, np.ndarray], None] | None = None,
                    callback_every: int = 1, cancel: Any = None) -> np.ndarray:
    r"""Richardson-Lucy deconvolution for Poisson counts.

    Parameters
    ----------
    image : (M, N) array_like
        Counts (integers accepted); NaN pixels are masked (see ``mask``).
    psf : (K_r, K_c) array_like
        Non-negative PSF (a Gaussian or a measured image); normalised to unit
        sum here.
    num_iter : int
        Number of iterations, >= 1 (the cap when a stopping rule is used).
    boundary : {"reflect", "periodic", "masked"}
        See the module docstring.
    x0 : None, "flat", "image", "wiener" or array_like
        Start estimate.  Default (None / "flat"): a constant equal to the
        image mean (after one iteration any constant start gives the same
        ``H^T y``).  "image": the data itself.  "wiener": the Wiener-Hunt
        estimate whose balance minimises the unbiased predictive risk
        (:mod:`superres_widgets.xrf._start`; one forward and one inverse
        transform), floored at 1e-3 of the mean.  An array of the image shape
        (>= 0) is used as given, e.g. ``np.full(shape, 0.5)`` to mimic
        scikit-image.
    acceleration : None or "biggs-andrews"
        Vector extrapolation of Biggs & Andrews (1997), as in MATLAB's
        ``deconvlucy``: typically 2-4x fewer iterations for the same
        likelihood.
    mask : (M, N) bool array_like, optional
        True = pixel excluded from the data fit (with the NaN pixels); see
        :mod:`superres_widgets.xrf._data`.
    negative : {"offset", "clip", "error"}
        Negative pixels (background-subtracted maps): default ``"offset"``
        shifts the map to a minimum of 0 and the result back.
    stop : {"none", "discrepancy", "relative_change"}
        Stopping rule (:mod:`superres_widgets.xrf.convergence`).
    tol : float
        Tolerance of ``stop="relative_change"``.
    history : ConvergenceHistory, optional
        Filled with one record per iteration (residual, KL objective,
        discrepancy, change; MSE/SSIM with a reference).
    dtype : {float32, float64}
        Working precision (transforms and iterates); the result is returned as float64 either way.
    workers : int, optional
        :mod:`scipy.fft` workers (default all cores; use 1 inside Dask tasks).
    callback : callable, optional
        ``callback(iteration, estimate)``; see the module docstring.
    callback_every : int
        Call period of ``callback``.
    cancel : Event-like or callable, optional
        Raises :class:`DeconvolutionCancelled` when set.

    Returns
    -------
    ndarray of float64, shape (M, N)

    Notes
    -----
    The multiplicative EM update for :math:`y \sim \mathrm{Poisson}(h * x)`
    (Richardson 1972; Lucy 1974; Yang et al. 2022 eqn 10), with weights
    :math:`w` (0 on masked pixels, 1 elsewhere):

    .. math::

        x_{k+1} = \frac{x_k}{H^T w}\; H^T\!\left(\frac{w\, y}{H x_k}\right)

    with :math:`H^T` the correlation with the PSF (its flipped copy).  For
    ``"reflect"`` and ``"periodic"`` without a mask :math:`H^T w = 1`; for
    ``"masked"`` the data weight is also zero outside the image (object
    pixels outside it that the data see less than 1e-3 of are set to zero;
    inside the map they keep their start value).  The ratio's denominator is
    floored at :math:`10^{-7}\max(y)` (float32 round-off), the estimate is
    kept >= 0, so a valid input never yields NaN.  It minimises the
    Kullback-Leibler divergence of :math:`Hx` from :math:`y` over
    :math:`x \ge 0`.

    Biggs-Andrews: :math:`v_k = x_k + \alpha_k (x_k - x_{k-1})` (clipped at
    0), :math:`x_{k+1} = \mathrm{RL}(v_k)`, :math:`g_k = x_{k+1} - v_k`,
    :math:`\alpha_{k+1} = \langle g_k, g_{k-1}\rangle / \langle g_{k-1},
    g_{k-1}\rangle` clipped to [0, 1].

    References
    ----------
    .. [1] W. H. Richardson, J. Opt. Soc. Am. 62, 55 (1972).
    .. [2] L. B. Lucy, Astron. J. 79, 745 (1974).
    .. [3] D. S. C. Biggs and M. Andrews, Appl. Opt. 36, 1766 (1997).
    .. [4] M. Bertero and P. Boccacci, Astron. Astrophys. 437, 369 (2005).
    .. [5] J. Yang, Z. Zhang and Q. Cheng, J. Anal. At. Spectrom. 37, 750 (2022).

    Examples
    --------
    >>> from superres_widgets.xrf import gaussian_psf, convolve
    >>> truth = np.full((64, 64), 10.0); truth[20:44, 30:34] = 200.0
    >>> psf = gaussian_psf(2.0)
    >>> out = richardson_lucy(convolve(truth, psf), psf, num_iter=50)
    >>> bool(out[32, 31] > convolve(truth, psf)[32, 31])
    True
    """
    n_it = _check_iterations(num_iter, "num_iter")
    if acceleration not in (None, "none", "biggs-andrews"):
        raise ValueError(f"acceleration must be None or 'biggs-andrews', got {acceleration!r}")
    accelerate = acceleration == "biggs-andrews"
    pb = setup_problem(image, psf, boundary=boundary, boundaries=_ITER_BOUNDARIES, mask=mask,
                       negative=negative, dtype=dtype, workers=workers)
    op, y, dt = pb.op, pb.y, pb.dt
    ymax = float(pb.data.image.max())
    floor = dt.type(max(ymax * 1e-7, np.finfo(dt).tiny * 1e6))
    x = poisson_start(x0, pb.data.image, op, dt, offset=pb.data.offset)
    inv_norm, hold = rl_normaliser(pb)
    if boundary == "masked":
        x *= pb.norm > 1e-3
    state = [x]
    tr = pb.tracker(num_iter=n_it, callback=callback, callback_every=callback_every, cancel=cancel,
                    stop=stop, tol=tol, history=history, state=lambda: state[0],
                    objective=kl_objective(pb.data.image, pb.image_weights()))

    def rl_step(v, hv):
        """One RL update of estimate ``v`` (not modified) with ``hv = H v`` (overwritten)."""
        np.maximum(hv, floor, out=hv)
        np.divide(y, hv, out=hv)
        pb.weighted(hv)
        corr = op.adjoint(hv)
        corr *= v
        if inv_norm is not None:
            corr *= inv_norm
        if hold is not None:
            corr[hold] = v[hold]
        np.maximum(corr, 0, out=corr)
        return corr

    x_prev = g_prev = hx = None
    alpha = 0.0
    k = 0
    for k in range(1, n_it + 1):
        tr.check_cancel(k - 1)
        if accelerate and x_prev is not None and alpha > 0:
            v = x - x_prev
            v *= dt.type(alpha)
            v += x
            np.maximum(v, 0, out=v)
            hv = op.forward(v)
        else:
            v = x
            hv = hx if hx is not None else op.forward(v)
        x_new = rl_step(v, hv)
        if accelerate:
            g = x_new - v
            if g_prev is not None:
                den = dot(g_prev, g_prev)
                alpha = dot(g, g_prev) / den if den > 0 else 0.0
                alpha = min(max(alpha, 0.0), 1.0)
            g_prev = g
            x_prev = x
        x = state[0] = x_new
        done, hx = tr.step(k, x)
        if done:
            break
    tr.finish(k, x, hx)
    return pb.output(x)


# --------------------------------------------------------------------------
# FISTA
# --------------------------------------------------------------------------

def fista(image, psf, lam: float, num_iter: int = 100, *, boundary: str = "reflect",
          x0: Any = None, nonnegative: bool = True, mask=None, negative: str = "keep",
          stop: str = "none", tol: float = 1e-3, history=None, dtype=np.float32,
          workers: int | None = None,
          callback: Callable[[int, np.ndarray], None] | None = None,
          callback_every: int = 1, cancel: Any = None) -> np.ndarray:
    r"""FISTA for l1-regularised least-squares deconvolution, with x >= 0.

    Parameters
    ----------
    image : (M, N) array_like
        Blurred map (counts).
    psf : (K_r, K_c) array_like
        PSF; normalised to unit sum here.
    lam : float
        Weight of the l1 prior, >= 0, in counts (the soft threshold per unit
        step; ``lam = 0`` gives accelerated Landweber iterations where
        ``num_iter`` is the regulariser).
    num_iter : int
        Number of iterations, >= 1.
    boundary : {"reflect", "periodic", "masked"}
    x0 : None, "image", "flat", "wiener" or array_like
        Start; default (None / "image") the data itself.  "flat": its mean;
        "wiener": the Wiener-Hunt estimate at the risk-minimising balance
        (as in :func:`richardson_lucy`).
    nonnegative : bool
        Project on x >= 0 (default, counts are non-negative).
    mask, stop, tol, history
        As in :func:`richardson_lucy` (masked pixels get weight 0 in the
        data term).
    negative : {"keep", "offset", "clip", "error"}
        Negative pixels: used as they are by default (least squares).
    dtype, workers, callback, callback_every, cancel
        As in :func:`richardson_lucy`.

    Returns
    -------
    ndarray of float64, shape (M, N)

    Notes
    -----
    Minimises (Yang et al. 2022 eqn 11, with the customary 1/2; :math:`w`
    the data weights, 0 on masked pixels)

    .. math:: F(x) = \tfrac12 \lVert w (h * x - y) \rVert_2^2 + \lambda \lVert x \rVert_1
              \quad (x \ge 0)

    by Beck & Teboulle's FISTA with constant step :math:`1/L`,
    :math:`L = \max |\Lambda_H|^2` (the Lipschitz constant of the gradient;
    1 for a non-negative unit-sum PSF on a periodic grid):

    .. math::

        x_k &= \mathrm{prox}_{\lambda/L}\big(z_k - L^{-1} H^T(H z_k - y)\big),\\
        t_{k+1} &= \tfrac12\big(1 + \sqrt{1 + 4 t_k^2}\big),\quad
        z_{k+1} = x_k + \tfrac{t_k - 1}{t_{k+1}} (x_k - x_{k-1}),

    with :math:`\mathrm{prox}_\tau(v) = \max(v - \tau, 0)` for x >= 0 (soft
    thresholding otherwise).  For the "reflect" and "periodic" models the
    gradient uses ``H^T H`` in one transform pair and a precomputed
    ``H^T y``.

    References
    ----------
    .. [1] A. Beck and M. Teboulle, SIAM J. Imaging Sci. 2, 183 (2009).
    .. [2] J. Yang, Z. Zhang and Q. Cheng, J. Anal. At. Spectrom. 37, 750 (2022).
    """
    n_it = _check_iterations(num_iter, "num_iter")
    lam = check_nonnegative(lam, "lam")
    pb = setup_problem(image, psf, boundary=boundary, boundaries=_ITER_BOUNDARIES, mask=mask,
                       negative=negative, dtype=dtype, workers=workers, poisson=False)
    op, y, dt, img = pb.op, pb.y, pb.dt, pb.data.image
    masked = boundary == "masked"
    x = least_squares_start(x0, pb)
    if nonnegative:
        np.maximum(x, 0, out=x)

    w = pb.w
    if masked:
        lip = _power_lipschitz(op, w)
    else:
        hty = op.adjoint(y if w is None else y * w)
        lip = op.lipschitz
    step = dt.type(1.0 / lip)
    thresh = dt.type(lam / lip)
    state = [x]

    def l1(xc):
        return lam * float(np.abs(xc).sum())

    tr = pb.tracker(num_iter=n_it, callback=callback, callback_every=callback_every, cancel=cancel,
                    stop=stop, tol=tol, history=history, state=lambda: state[0],
                    objective=least_squares_objective(img, pb.image_weights(), l1))
    z = x.copy()
    t = 1.0
    k = 0
    for k in range(1, n_it + 1):
        tr.check_cancel(k - 1)
        if masked or w is not None:
            r = op.forward(z)
            r -= y
            r *= w
            grad = op.adjoint(r)
        else:
            grad = op.normal(z)
            grad -= hty
        grad *= -step
        grad += z  # grad now holds the gradient step z - g / L
        if nonnegative:
            grad -= thresh
            np.maximum(grad, 0, out=grad)
        else:
            grad = np.sign(grad) * np.maximum(np.abs(grad) - thresh, 0)
        x_new = grad
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        beta = dt.type((t - 1.0) / t_new)
        z = x_new - x
        z *= beta
        z += x_new
        x = state[0] = x_new
        t = t_new
        done, _ = tr.step(k, x)
        if done:
            break
    tr.finish(k, x)
    return pb.output(x)


def _power_lipschitz(op: ConvolutionOperator, mask: np.ndarray, n: int = 20) -> float:
    """Largest eigenvalue of H^T M H by power iteration (masked model)."""
    rng = np.random.default_rng(0)
    v = rng.random(op.work_shape).astype(op.dtype)
    lam = 1.0
    for _ in range(n):
        w = op.adjoint(op.forward(v) * mask)
        lam = float(norm2(w)) / max(float(norm2(v)), 1e-30)
        v = w / max(float(norm2(w)), 1e-30)
    return max(lam * 1.01, 1e-12)
