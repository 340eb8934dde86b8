r"""Least-squares restorations: projected Landweber, Tikhonov-Miller / ICTM, masked Wiener.

Same conventions as :mod:`superres_widgets.xrf.deconvolution` (counts
``image[row, col]``, unit-sum PSF with origin ``(rows // 2, cols // 2)``,
``boundary`` models, float64 outputs) and the shared rules for masks, the
negative-value policy, stopping rules and records
(:mod:`superres_widgets.xrf._data`, :mod:`superres_widgets.xrf.convergence`).
With weights :math:`w` (0 on masked pixels, and outside the map for
``boundary="masked"``) the data term is :math:`\tfrac12\lVert w(y -
Hx)\rVert_2^2`; :math:`D` is the 5-point Laplacian (the regulariser of
:func:`~superres_widgets.xrf.wiener`).

* :func:`landweber` -- the oldest iterative deconvolution: a gradient step on
  the data term, projected on :math:`x \ge 0`; the iteration count is the
  regulariser.
* :func:`tikhonov_miller` -- the Tikhonov-Miller functional (the data term
  plus :math:`\tfrac\lambda2\lVert Dx\rVert^2`, the same as Wiener's) solved
  by conjugate gradients; ``constrained=True`` projects every iterate on
  :math:`x \ge 0` (ICTM, the iterative constrained Tikhonov-Miller method
  of confocal microscopy).
* :func:`solve_masked_tikhonov` -- the exact minimiser of the Tikhonov-Miller
  functional with a mask, by conjugate gradients preconditioned with the
  Wiener filter (one iteration without a mask); :func:`~superres_widgets.xrf.wiener`
  uses it when pixels are masked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._operators import laplacian_kernel
from ._problem import setup_problem
from ._start import least_squares_start
from ..validate import check_iterations as _check_iterations
from ._validate import check_nonnegative, check_positive, dot
from .convergence import least_squares_objective

__all__ = ["landweber", "tikhonov_miller", "solve_masked_tikhonov"]

_BOUNDARIES = ("reflect", "periodic", "masked")


def _lipschitz(pb) -> float:
    """Largest eigenvalue of :math:`H^T W H` (``max |H|^2`` bounds it; the power method for weights)."""
    if pb.w is None:
        return pb.op.lipschitz
    rng = np.random.default_rng(0)
    v = rng.random(pb.op.work_shape).astype(pb.dt)
    lam = 1.0
    for _ in range(20):
        u = pb.op.adjoint(pb.op.forward(v) * pb.w)
        lam = float(np.sqrt(dot(u, u) / max(dot(v, v), 1e-300)))
        v = u / max(float(np.sqrt(dot(u, u))), 1e-300)
    return max(lam * 1.01, 1e-12)


def landweber(image, psf, num_iter: int = 50, tau: float = 1.0, *, boundary: str = "reflect",
              x0: Any = None, nonnegative: bool = True, mask=None, negative: str = "keep", stop: str = "none",
              tol: float = 1e-3, history=None, dtype=np.float32, workers: int | None = None,
              callback: Callable | None = None, callback_every: int = 1, cancel: Any = None) -> np.ndarray:
    r"""Projected Landweber iterations for least-squares deconvolution with :math:`x \ge 0`.

    Parameters
    ----------
    image : (M, N) array_like
        The map (counts); NaN pixels are masked.
    psf : (K_r, K_c) array_like
        Non-negative PSF, normalised here.
    num_iter : int
        Iterations: the regulariser (few: smooth; many: noise).
    tau : float
        Relaxation, in (0, 2): the step is :math:`\tau / L` with :math:`L`
        the largest eigenvalue of :math:`H^T W H` (1 for a unit-sum PSF
        without a mask on the reflect and periodic models).
    boundary, x0, mask, stop, tol, history, dtype, workers, callback, callback_every, cancel
        As in :func:`~superres_widgets.xrf.richardson_lucy`; ``x0``
        defaults to the map itself ("image"; "flat": its mean; "wiener": the Wiener-Hunt
        estimate at the risk-minimising balance, see :func:`~superres_widgets.xrf.richardson_lucy`).
    negative : {"keep", "offset", "clip", "error"}
        Negative pixels: used as they are by default (least squares; see
        :mod:`superres_widgets.xrf._data`).
    nonnegative : bool
        Project on :math:`x \ge 0` (default; False: classical Landweber).

    Returns
    -------
    ndarray of float64, shape (M, N)

    Notes
    -----
    .. math:: x_{k+1} = P_+\!\left(x_k + \frac{\tau}{L} H^T w (y - H x_k)\right)

    minimises :math:`\tfrac12\lVert w(y - Hx)\rVert^2` over :math:`x \ge 0`
    for :math:`0 < \tau < 2` (Eicke 1992).  Without the projection the
    iterate is the linear filter :math:`x_k = \sum_{j<k} (I - \tfrac\tau L
    H^TWH)^j \tfrac\tau L H^T W y + (I - \tfrac\tau L H^TWH)^k x_0`, which
    the test suite checks against dense matrices.

    References
    ----------
    .. [1] L. Landweber, Am. J. Math. 73, 615-624 (1951).
    .. [2] B. Eicke, Numer. Funct. Anal. Optim. 13, 413-429 (1992)
           (projected iterations).
    .. [3] M. Bertero and P. Boccacci, Introduction to Inverse Problems in
           Imaging, IOP (1998), ch. 6.

    Examples
    --------
    >>> from superres_widgets.xrf import gaussian_psf, convolve
    >>> truth = np.zeros((48, 48)); truth[20:28, 10:38] = 100.0
    >>> out = landweber(convolve(truth, gaussian_psf(1.5)), gaussian_psf(1.5), 200, 1.5)
    >>> bool(abs(out - truth).mean() < abs(convolve(truth, gaussian_psf(1.5)) - truth).mean())
    True
    """
    n_it = _check_iterations(num_iter, "num_iter")
    tau = check_positive(tau, "tau")
    if not tau < 2:
        raise ValueError(f"tau must be in (0, 2), got {tau:g}")
    pb = setup_problem(image, psf, boundary=boundary, boundaries=_BOUNDARIES, mask=mask, negative=negative,
                       dtype=dtype, workers=workers, poisson=False)
    op, y, dt = pb.op, pb.y, pb.dt
    x = least_squares_start(x0, pb)
    if nonnegative:
        np.maximum(x, 0, out=x)
    step = dt.type(tau / _lipschitz(pb))
    state = [x]
    tr = pb.tracker(num_iter=n_it, callback=callback, callback_every=callback_every, cancel=cancel, stop=stop,
                    tol=tol, history=history, state=lambda: state[0],
                    objective=least_squares_objective(pb.data.image, pb.image_weights()))
    hx = None
    k = 0
    for k in range(1, n_it + 1):
        tr.check_cancel(k - 1)
        r = hx if hx is not None else op.forward(x)
        np.subtract(y, r, out=r)
        pb.weighted(r)
        g = op.adjoint(r)
        g *= step
        g += x
        if nonnegative:
            np.maximum(g, 0, out=g)
        x = state[0] = g
        done, hx = tr.step(k, x)
        if done:
            break
    tr.finish(k, x, hx)
    return pb.output(x)


def tikhonov_miller(image, psf, balance: float = 0.03, num_iter: int = 50, constrained: bool = True, *,
                    boundary: str = "reflect", x0: Any = None, mask=None, negative: str = "keep",
                    stop: str = "none", tol: float = 1e-3, history=None, dtype=np.float32,
                    workers: int | None = None, callback: Callable | None = None, callback_every: int = 1,
                    cancel: Any = None) -> np.ndarray:
    r"""Tikhonov-Miller restoration by conjugate gradients; ``constrained=True``: ICTM (:math:`x \ge 0`).

    Parameters
    ----------
    image : (M, N) array_like
        The map (counts); NaN pixels are masked.
    psf : (K_r, K_c) array_like
        Non-negative PSF, normalised here.
    balance : float
        :math:`\lambda \ge 0`, the weight of the Laplacian penalty
        (dimensionless; the same quantity as Wiener's ``balance``).
    num_iter : int
        Conjugate-gradient iterations (the cap with a stopping rule).
    constrained : bool
        Project each iterate on :math:`x \ge 0` (ICTM) or not (plain CG on
        the normal equations: the Wiener solution in the limit).
    boundary, x0, mask, negative, stop, tol, history, dtype, workers, callback, callback_every, cancel
        As in :func:`landweber`.

    Returns
    -------
    ndarray of float64, shape (M, N)

    Notes
    -----
    Minimises the Tikhonov-Miller functional

    .. math:: \Phi(x) = \tfrac12 \lVert w(y - Hx)\rVert^2 + \tfrac\lambda2 \lVert D x\rVert^2,
              \qquad A = H^T W H + \lambda D^T D,\; b = H^T W y,

    by Fletcher-Reeves conjugate gradients with an exact line search,
    :math:`r_k = b - A x_k`, :math:`p_k = r_k + \frac{\lVert r_k\rVert^2}
    {\lVert r_{k-1}\rVert^2} p_{k-1}`, :math:`\beta_k = \frac{r_k^T p_k}
    {p_k^T A p_k}`, :math:`x_{k+1} = P(x_k + \beta_k p_k)`, with
    :math:`P` the projection on :math:`x \ge 0` for ICTM (van der Voort &
    Strasters 1995; the identity otherwise, where the method is exact CG
    and reaches :func:`~superres_widgets.xrf.wiener`'s solution).  For
    ICTM the residual is zeroed on the active bound (:math:`x_i = 0` and
    :math:`r_i < 0`: the gradient pushes below zero), and after a projection
    :math:`r` is recomputed from :math:`x` and the direction restarted
    (projected conjugate gradients on the free pixels).

    References
    ----------
    .. [1] A. N. Tikhonov and V. Y. Arsenin, Solutions of Ill-Posed Problems
           (1977); K. Miller, SIAM J. Math. Anal. 1, 52-74 (1970).
    .. [2] H. T. M. van der Voort and K. C. Strasters, "Restoration of
           confocal images for quantitative image analysis", J. Microsc.
           178, 165-181 (1995) (ICTM).
    .. [3] R. L. Lagendijk and J. Biemond, Iterative Identification and
           Restoration of Images, Kluwer (1991).

    Examples
    --------
    >>> from superres_widgets.xrf import gaussian_psf, convolve, wiener
    >>> rng = np.random.default_rng(0)
    >>> y = convolve(rng.random((40, 40)) * 100, gaussian_psf(1.5))
    >>> tm = tikhonov_miller(y, gaussian_psf(1.5), 0.01, 300, constrained=False, dtype=np.float64)
    >>> bool(np.abs(tm - wiener(y, gaussian_psf(1.5), 0.01)).max() < 1e-3 * y.max())
    True
    """
    n_it = _check_iterations(num_iter, "num_iter")
    lam = check_nonnegative(balance, "balance")
    pb = setup_problem(image, psf, boundary=boundary, boundaries=_BOUNDARIES, mask=mask, negative=negative,
                       dtype=dtype, workers=workers, poisson=False,
                       extra_kernels=[laplacian_kernel()])
    op, dt = pb.op, pb.dt
    td2 = op.transfer_of(laplacian_kernel())
    td2 = (td2 * td2 if op.kind == "dct" else (td2.real ** 2 + td2.imag ** 2)).astype(dt) * dt.type(lam)

    def apply_a(v):
        hv = op.forward(v)
        pb.weighted(hv)
        out = op.adjoint(hv)
        if lam > 0:
            out += op.apply(v, td2)
        return out

    b = op.adjoint(pb.weighted(np.array(pb.y)))
    x = least_squares_start(x0, pb)
    if constrained:
        np.maximum(x, 0, out=x)
    state = [x]

    def penalty(xc):
        from ._operators import ConvolutionOperator

        d = ConvolutionOperator(laplacian_kernel(), xc.shape, "reflect", dtype=np.float64)
        dx = d.forward(xc)
        return 0.5 * lam * dot(dx, dx)

    tr = pb.tracker(num_iter=n_it, callback=callback, callback_every=callback_every, cancel=cancel, stop=stop,
                    tol=tol, history=history, state=lambda: state[0],
                    objective=least_squares_objective(pb.data.image, pb.image_weights(), penalty))
    def free_residual(x_now, r_now):
        """Zero the residual where the bound is active (x = 0 and the gradient pushes below 0)."""
        if constrained:
            r_now[(x_now <= 0) & (r_now < 0)] = 0
        return r_now

    r = free_residual(x, b - apply_a(x))
    p = r.copy()
    rr = dot(r, r)
    k = 0
    for k in range(1, n_it + 1):
        tr.check_cancel(k - 1)
        ap = apply_a(p)
        pap = dot(p, ap)
        if not pap > 0 or rr == 0:
            break
        beta = dot(r, p) / pap
        x = x + dt.type(beta) * p
        if constrained and float(x.min()) < 0:
            np.maximum(x, 0, out=x)
            r_new = free_residual(x, b - apply_a(x))
            restart = True
        else:
            r_new = r - dt.type(beta) * ap
            restart = False
        rr_new = dot(r_new, r_new)
        p = r_new.copy() if restart else r_new + dt.type(rr_new / rr) * p
        r, rr = r_new, rr_new
        state[0] = x
        done, _ = tr.step(k, x)
        if done:
            break
    tr.finish(k, x)
    return pb.output(x)


def solve_masked_tikhonov(pb, lam: float, reg: np.ndarray, *, max_iter: int = 500, rtol: float | None = None,
                          cancel: Callable[[], bool] | None = None) -> np.ndarray:
    r"""The minimiser of :math:`\tfrac12\lVert w(y - Hx)\rVert^2 + \tfrac\lambda2\lVert Dx\rVert^2` (working grid).

    Preconditioned conjugate gradients on :math:`(H^TWH + \lambda D^TD) x =
    H^TWy` with the Wiener filter :math:`(|H|^2 + \lambda|D|^2)^{-1}`
    (exact without weights) as preconditioner; stops at a relative residual
    ``rtol`` (default 1e-11 in float64, 1e-5 in float32).  ``pb`` is a
    problem of :mod:`._problem`; ``reg`` the regulariser's kernel.
    """
    op = pb.op.diagonal()  # the preconditioner divides by the transfer function
    if rtol is None:
        rtol = 1e-11 if pb.dt == np.float64 else 1e-5
    th2 = op.transfer_abs2
    td = op.transfer_of(reg)
    td2 = td * td if op.kind == "dct" else (td.real ** 2 + td.imag ** 2)
    den = (th2 + lam * td2).astype(op.transfer_abs2.dtype)
    if not np.all(den > 0):
        raise ValueError("balance is 0 and the PSF transfer function has zeros; use balance > 0")
    inv = (1.0 / den).astype(den.dtype)
    lam_d2 = (lam * td2).astype(den.dtype)

    def apply_a(v):
        hv = op.forward(v)
        pb.weighted(hv)
        out = op.adjoint(hv)
        out += op.apply(v, lam_d2)
        return out

    b = op.adjoint(pb.weighted(np.array(pb.y)))
    x = op.apply(b, inv)
    r = b - apply_a(x)
    z = op.apply(r, inv)
    p = z.copy()
    rz = dot(r, z)
    b_norm = max(float(np.sqrt(dot(b, b))), 1e-300)
    for _ in range(max_iter):
        if float(np.sqrt(dot(r, r))) <= rtol * b_norm:
            break
        if cancel is not None and cancel():
            from ._validate import DeconvolutionCancelled

            raise DeconvolutionCancelled(0, None)
        ap = apply_a(p)
        alpha = rz / dot(p, ap)
        x += alpha * p
        r -= alpha * ap
        z = op.apply(r, inv)
        rz_new = dot(r, z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x
