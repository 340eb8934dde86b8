r"""Poisson restorations beyond plain Richardson-Lucy: RL with total variation, and SGP.

Both minimise the Kullback-Leibler divergence of the blurred estimate from
the counts (the Poisson negative log-likelihood), like
:func:`~superres_widgets.xrf.richardson_lucy`, and share its conventions
(module :mod:`superres_widgets.xrf.deconvolution`): counts ``image[row,
col]``, a unit-sum PSF with its origin at ``(rows // 2, cols // 2)``, the
boundary models ``"reflect"`` / ``"periodic"`` / ``"masked"``, masks and the
negative-value policy (:mod:`superres_widgets.xrf._data`), stopping rules
and per-iteration records (:mod:`superres_widgets.xrf.convergence`),
``callback``/``cancel``.  Outputs are float64 counts, never clipped above.

* :func:`richardson_lucy_tv` -- RL with a total-variation prior (Dey et
  al. 2006): fewer ringing and noise artefacts at the cost of a weight to
  choose.
* :func:`sgp` -- the scaled gradient projection method of Bonettini,
  Zanella & Zanni (2009): the RL direction (the same diagonal scaling) with
  Barzilai-Borwein step lengths and a line search; it reaches a given
  likelihood in several times fewer iterations than RL at the same cost per
  iteration (four transforms).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._problem import setup_problem
from ..validate import check_iterations as _check_iterations
from ..validate import check_number
from ._validate import check_positive_int, dot
from .convergence import kl_objective
from ._start import poisson_start
from .deconvolution import rl_normaliser

__all__ = ["richardson_lucy_tv", "sgp"]

_BOUNDARIES = ("reflect", "periodic", "masked")


def _grad(x):
    """Forward differences with a zero last difference (Neumann), rows and columns."""
    gr = np.zeros_like(x)
    gc = np.zeros_like(x)
    gr[:-1] = x[1:] - x[:-1]
    gc[:, :-1] = x[:, 1:] - x[:, :-1]
    return gr, gc


def _div(pr, pc):
    """Divergence, the negative adjoint of :func:`_grad`."""
    d = np.zeros_like(pr)
    d[0] += pr[0]
    d[1:-1] += pr[1:-1] - pr[:-2]
    d[-1] -= pr[-2]
    d[:, 0] += pc[:, 0]
    d[:, 1:-1] += pc[:, 1:-1] - pc[:, :-2]
    d[:, -1] -= pc[:, -2]
    return d


def total_variation(x, eps: float) -> float:
    r"""Smoothed isotropic total variation :math:`\sum_i \sqrt{|\nabla x|_i^2 + \epsilon^2}` (forward differences)."""
    gr, gc = _grad(np.asarray(x, dtype=np.float64))
    return float(np.sqrt(gr * gr + gc * gc + eps * eps).sum())


def richardson_lucy_tv(image, psf, num_iter: int = 30, tv_weight: float = 0.002, *,
                       tv_epsilon: float | None = None, boundary: str = "reflect", x0: Any = None, mask=None,
                       negative: str = "offset",
                       stop: str = "none", tol: float = 1e-3, history=None, dtype=np.float32,
                       workers: int | None = None, callback: Callable | None = None,
                       callback_every: int = 1, cancel: Any = None) -> np.ndarray:
    r"""Richardson-Lucy with total-variation regularisation (Dey et al. 2006).

    Parameters
    ----------
    image : (M, N) array_like
        Counts; NaN pixels are masked.
    psf : (K_r, K_c) array_like
        Non-negative PSF, normalised here.
    num_iter : int
        Iterations (the cap with a stopping rule).
    tv_weight : float
        :math:`\lambda_{TV} \ge 0`, dimensionless (KL and TV are both in
        counts); Dey et al. use 0.002.  0 gives plain Richardson-Lucy.
        Values that make the denominator below small are held back (Notes).
    tv_epsilon : float, optional
        :math:`\epsilon` of the smoothed gradient magnitude, counts; default
        :math:`10^{-3}` times the mean count.  Small values approach the true
        TV (whose one-step-late iterates chatter by about ``tv_weight`` in
        flat regions); larger ones make the objective smooth.
    boundary, x0, mask, negative, stop, tol, history, dtype, workers, callback, callback_every, cancel
        As in :func:`~superres_widgets.xrf.richardson_lucy`.

    Returns
    -------
    ndarray of float64, shape (M, N)

    Notes
    -----
    Minimises :math:`J(x) = \mathrm{KL}(y \,\|\, Hx) + \lambda_{TV}
    \sum_i |\nabla x|_i` over :math:`x \ge 0` with the one-step-late
    multiplicative update of Dey et al. (2006, eqn 7), weights :math:`w`
    (0 on masked pixels):

    .. math::

        x_{k+1} = \frac{x_k}{H^T w - \lambda_{TV}\,
                  \mathrm{div}\!\left(\frac{\nabla x_k}{|\nabla x_k|_\epsilon}\right)}
                  \; H^T\!\left(\frac{w\,y}{H x_k}\right)

    with forward differences, :math:`|\nabla x|_\epsilon = \sqrt{|\nabla
    x|^2 + \epsilon^2}` (``tv_epsilon``; keeps flat regions finite).  The denominator is floored at 0.1 times
    :math:`H^T w` (a step at most ten times RL's), which keeps the estimate
    non-negative for any ``tv_weight``.  At a fixed point with
    :math:`x_i > 0` the gradient of :math:`J` vanishes; the iterates reach
    the minimiser of :math:`J` found by L-BFGS-B (test suite) when
    :math:`\lambda_{TV}/\epsilon` is small.  A large ratio (e.g. 0.05 with
    :math:`\epsilon` = 5 counts) makes the one-step-late iteration oscillate
    -- Dey et al. keep :math:`\lambda_{TV}` small for that reason.

    References
    ----------
    .. [1] N. Dey, L. Blanc-Féraud, C. Zimmer, P. Roux, Z. Kam, J.-C.
           Olivo-Marin and J. Zerubia, "Richardson-Lucy algorithm with total
           variation regularization for 3D confocal microscope
           deconvolution", Microsc. Res. Tech. 69, 260-266 (2006).
    .. [2] W. H. Richardson 1972; L. B. Lucy 1974.

    Examples
    --------
    >>> from superres_widgets.xrf import gaussian_psf, convolve
    >>> rng = np.random.default_rng(0)
    >>> truth = np.full((64, 64), 20.0); truth[16:48, 24:40] = 300.0
    >>> y = rng.poisson(convolve(truth, gaussian_psf(2.0))).astype(float)
    >>> tv = richardson_lucy_tv(y, gaussian_psf(2.0), 50, tv_weight=0.01)
    >>> rl = richardson_lucy_tv(y, gaussian_psf(2.0), 50, tv_weight=0.0)
    >>> bool(np.std(tv[20:44, 27:37]) < np.std(rl[20:44, 27:37]))  # flatter plateau
    True
    """
    n_it = _check_iterations(num_iter, "num_iter")
    lam = check_number(tv_weight, "tv_weight", lo=0.0, hi=1.0)  # the registry's range (literature: 1e-4..1e-2)
    pb = setup_problem(image, psf, boundary=boundary, boundaries=_BOUNDARIES, mask=mask,
                       negative=negative, dtype=dtype, workers=workers)
    op, y, dt = pb.op, pb.y, pb.dt
    img = pb.data.image
    floor = dt.type(max(float(img.max()) * 1e-7, np.finfo(dt).tiny * 1e6))
    eps = max(1e-3 * float(np.mean(img)), 1e-9) if tv_epsilon is None else check_number(
        tv_epsilon, "tv_epsilon", lo=1e-12, hi=1e12)  # eps**2 must not underflow (0/0 in flat regions)
    x = poisson_start(x0, img, op, dt, offset=pb.data.offset)
    norm = pb.norm
    base = np.ones(op.work_shape, dt) if norm is None else norm
    inv_norm, hold = rl_normaliser(pb)
    support = None if norm is None else norm > 1e-3
    if boundary == "masked":
        x *= support
    state = [x]

    def objective(xc, hc):
        return kl_objective(img, pb.image_weights())(xc, hc) + lam * total_variation(xc, eps) / xc.size

    tr = pb.tracker(num_iter=n_it, callback=callback, callback_every=callback_every, cancel=cancel,
                    stop=stop, tol=tol, history=history, state=lambda: state[0], objective=objective)
    hx = None
    k = 0
    for k in range(1, n_it + 1):
        tr.check_cancel(k - 1)
        hv = hx if hx is not None else op.forward(x)
        np.maximum(hv, floor, out=hv)
        np.divide(y, hv, out=hv)
        pb.weighted(hv)
        corr = op.adjoint(hv)
        corr *= x
        if lam > 0:
            gr, gc = _grad(x)
            mag = np.sqrt(gr * gr + gc * gc + dt.type(eps * eps))
            den = base - dt.type(lam) * _div(gr / mag, gc / mag)
            np.maximum(den, dt.type(0.1) * base, out=den)
            if support is not None:
                den[~support] = 1.0
            corr /= den
        elif inv_norm is not None:
            corr *= inv_norm
        if lam > 0 and support is not None:
            corr[~support] = 0.0
        if hold is not None:
            corr[hold] = x[hold]
        np.maximum(corr, 0, out=corr)
        x = state[0] = corr
        done, hx = tr.step(k, x)
        if done:
            break
    tr.finish(k, x, hx)
    return pb.output(x)


# ---------------------------------------------------------------------------------------
# SGP
# ---------------------------------------------------------------------------------------

_ALPHA_MIN, _ALPHA_MAX = 1e-5, 1e5
_BETA, _THETA = 1e-4, 0.4  # Armijo constant, backtracking factor
_M_ALPHA = 3  # memory of the adaptive BB2 choice
_SCALE_BOUNDS = (1e-10, 1e10)
_FREE = 1e-6  # pixels below this fraction of the mean count the bound as active
_ALPHA0 = 1.0


class _KL:
    """Kullback-Leibler objective and gradient pieces on the working grid (weights ``w`` or None)."""

    def __init__(self, y, w, floor, dt):
        self.y = y if w is None else y * w
        self.w, self.floor, self.dt = w, floor, dt
        self.buf = np.empty_like(y)

    def value(self, hx) -> float:
        """:math:`\\sum w (Hx - y \\ln Hx)` (the constant :math:`y \\ln y - y` left out)."""
        t = np.maximum(hx, self.floor, out=self.buf)
        total = float(t.sum(dtype=np.float64)) if self.w is None else dot(self.w, t)
        np.log(t, out=t)
        return total - dot(self.y, t)

    def ratio(self, hx, out=None):
        """:math:`w y / Hx` (in ``out`` when given)."""
        r = np.maximum(hx, self.floor, out=out)
        np.divide(self.y, r, out=r)  # y already carries w
        return r


def sgp(image, psf, num_iter: int = 30, *, boundary: str = "reflect", x0: Any = "image", mask=None,
        negative: str = "offset", stop: str = "none", tol: float = 1e-3, history=None,
        memory: int = 1, dtype=np.float32, workers: int | None = None, callback: Callable | None = None,
        callback_every: int = 1, cancel: Any = None) -> np.ndarray:
    r"""Scaled gradient projection for Poisson data (Bonettini, Zanella & Zanni 2009).

    Parameters
    ----------
    image : (M, N) array_like
        Counts; NaN pixels are masked.
    psf : (K_r, K_c) array_like
        Non-negative PSF, normalised here.
    num_iter : int
        Iterations (the cap with a stopping rule).  Each costs what a
        Richardson-Lucy iteration costs (two forward and two inverse
        transforms) plus a few array passes.
    x0 : "image" (default), "wiener", "flat", None or array_like
        Start estimate: by default the map itself (floored at 1e-3 of its
        mean), as MATLAB's ``deconvlucy`` starts -- it is already close in
        the data fit, so fewer iterations reach a given residual than from
        a flat start (``"flat"``/``None``, Richardson-Lucy's default).
        ``"wiener"``: the Wiener-Hunt estimate at the balance that minimises
        the unbiased predictive risk (:mod:`superres_widgets.xrf._start`),
        which on Poisson test maps is already at the data fit of 30
        Richardson-Lucy iterations (``benchmarks/bench_time_to_quality.py``).
    boundary, mask, negative, stop, tol, history, dtype, workers, callback, callback_every, cancel
        As in :func:`~superres_widgets.xrf.richardson_lucy`.
    memory : int
        ``M`` of the non-monotone line search (1: monotone, every iterate
        lowers the objective).

    Returns
    -------
    ndarray of float64, shape (M, N)

    Notes
    -----
    Minimises :math:`f(x) = \sum_i w_i [(Hx)_i - y_i \ln (Hx)_i]` over
    :math:`x \ge 0` (the Kullback-Leibler divergence up to a constant;
    weights :math:`w`, 0 on masked pixels).  With :math:`\nabla f(x) = H^T w
    - H^T(w y / Hx)` and the Richardson-Lucy scaling :math:`D_k =
    \mathrm{diag}(x_k / H^T w)` clipped to :math:`[10^{-10}, 10^{10}]`:

    .. math::

        z_k &= \max\left(x_k - \alpha_k D_k \nabla f(x_k),\; 0\right),\quad
        d_k = z_k - x_k,\\
        x_{k+1} &= x_k + \lambda_k d_k,

    where :math:`\lambda_k = \theta^m` is the first that satisfies the
    (non-monotone) Armijo rule :math:`f(x_k + \lambda d_k) \le \max_{0 \le
    j < M} f(x_{k-j}) + \beta \lambda \nabla f(x_k)^T d_k` (:math:`\beta =
    10^{-4}`, :math:`\theta = 0.4`).  :math:`\alpha_k = 1` is the RL step;
    SGP takes the Barzilai-Borwein lengths of the scaled problem
    (:math:`s = x_{k+1} - x_k`, :math:`z = \nabla f(x_{k+1}) - \nabla
    f(x_k)`)

    .. math::

        \alpha^{(1)} = \frac{s^T D^{-1} D^{-1} s}{s^T D^{-1} z},\qquad
        \alpha^{(2)} = \frac{s^T D z}{z^T D D z},

    alternated adaptively (Frassoldati, Zanghirati & Zanni 2008): the
    smallest of the last three :math:`\alpha^{(2)}` when
    :math:`\alpha^{(2)}/\alpha^{(1)} \le \tau_k` (then :math:`\tau_{k+1} =
    0.9\tau_k`), else :math:`\alpha^{(1)}` (:math:`\tau_{k+1} = 1.1\tau_k`),
    :math:`\tau_0 = 0.5`, :math:`\alpha_0 = 1.3`, all clipped to
    :math:`[10^{-5}, 10^5]`.  Since :math:`H(x + \lambda d) = Hx + \lambda
    Hd`, an iteration needs one forward blur (of :math:`d`) and one adjoint
    (of the ratio), like RL.  It converges to the same minimiser as RL
    (checked against L-BFGS-B on a dense problem in the test suite).

    References
    ----------
    .. [1] S. Bonettini, R. Zanella and L. Zanni, "A scaled gradient
           projection method for constrained image deblurring", Inverse
           Problems 25, 015002 (2009).
    .. [2] G. Frassoldati, G. Zanghirati and L. Zanni, J. Ind. Manag. Optim.
           4, 299-312 (2008) (the adaptive step-length alternation).
    .. [3] R. Zanella, P. Boccacci, L. Zanni and M. Bertero, Inverse
           Problems 25, 045010 (2009).

    Examples
    --------
    >>> from superres_widgets.xrf import gaussian_psf, convolve, richardson_lucy
    >>> from superres_widgets.xrf.convergence import ConvergenceHistory
    >>> rng = np.random.default_rng(0)
    >>> truth = np.full((96, 96), 20.0); truth[30:66, 40:56] = 300.0
    >>> y = rng.poisson(convolve(truth, gaussian_psf(3.0))).astype(float)
    >>> h_sgp, h_rl = ConvergenceHistory(), ConvergenceHistory()
    >>> _ = sgp(y, gaussian_psf(3.0), 10, history=h_sgp)
    >>> _ = richardson_lucy(y, gaussian_psf(3.0), 10, history=h_rl)
    >>> bool(h_sgp.records[-1].objective < h_rl.records[-1].objective)  # lower KL after 10 iterations
    True
    """
    n_it = _check_iterations(num_iter, "num_iter")
    mem = check_positive_int(memory, "memory")
    pb = setup_problem(image, psf, boundary=boundary, boundaries=_BOUNDARIES, mask=mask,
                       negative=negative, dtype=dtype, workers=workers)
    op, dt = pb.op, pb.dt
    img = pb.data.image
    floor = dt.type(max(float(img.max()) * 1e-7, np.finfo(dt).tiny * 1e6))
    kl = _KL(pb.y, pb.w, floor, dt)
    x = poisson_start(x0, img, op, dt, offset=pb.data.offset)
    norm = pb.norm
    inv_norm, hold = rl_normaliser(pb)
    free = None
    if norm is not None:
        free = norm > 1e-3
        if hold is not None:
            free &= ~hold
        x *= free if boundary == "masked" else 1
    state = [x]
    tr = pb.tracker(num_iter=n_it, callback=callback, callback_every=callback_every, cancel=cancel,
                    stop=stop, tol=tol, history=history, state=lambda: state[0],
                    objective=kl_objective(img, pb.image_weights()))

    hx = op.forward(x)
    # work arrays reused every iteration (fresh 1-4 MB arrays cost page faults on a busy machine)
    xb, hb, dbuf, zbuf, rbuf = (np.empty_like(x) for _ in range(5))
    work = {"dk": np.empty_like(x), "sd": np.empty_like(x), "dz": np.empty_like(x)}
    grad = op.adjoint(kl.ratio(hx, rbuf))
    np.subtract(1 if norm is None else norm, grad, out=grad)
    if free is not None:
        grad *= free
    f = kl.value(hx)
    f_hist = [f]
    alpha, tau = _ALPHA0, 0.5
    bb2_hist: list = []
    lo, hi = _SCALE_BOUNDS
    k = 0
    for k in range(1, n_it + 1):
        tr.check_cancel(k - 1)
        # D = x (clipped to [1e-10, 1e10] as in the paper; x >= 0 and below 1e10 counts, so x itself)
        d = np.multiply(x, grad, out=dbuf)
        if inv_norm is not None:
            d *= inv_norm
        d *= dt.type(-alpha)
        d += x
        np.maximum(d, 0, out=d)
        d -= x  # d = P(x - alpha D g) - x
        hd = op.forward(d)
        gd = _fdot(grad, d)  # only scales the Armijo margin (beta = 1e-4): working precision is plenty
        f_max = max(f_hist[-mem:])
        lam = 1.0
        while True:
            h_try = np.add(hx, hd, out=hb) if lam == 1.0 else np.add(hd * dt.type(lam), hx, out=hb)
            f_try = kl.value(h_try)
            if f_try <= f_max + _BETA * lam * gd or lam < 1e-10:
                break
            lam *= _THETA
        s = d
        if lam != 1.0:
            s *= dt.type(lam)
        x_new = np.add(x, s, out=xb)  # a convex combination of x >= 0 and P(...) >= 0: no projection needed
        xb, x = x, x_new
        state[0] = x
        hb, hx = hx, h_try
        f = f_try
        f_hist.append(f)
        g_new = op.adjoint(kl.ratio(hx, rbuf))
        np.subtract(1 if norm is None else norm, g_new, out=g_new)
        if free is not None:
            g_new *= free
        z = np.subtract(g_new, grad, out=zbuf)
        grad = g_new
        alpha, tau = _next_step(x, s, z, inv_norm, alpha, tau, bb2_hist, lo, hi, work)
        done, _ = tr.step(k, x, hx)
        if done:
            break
    tr.finish(k, x, hx)
    return pb.output(x)


def _fdot(a, b) -> float:
    """Inner product in the arrays' own precision (step lengths only; see ``_validate.dot``)."""
    return float(np.dot(a.ravel(), b.ravel())) if a.dtype == np.float32 else dot(a, b)


def _next_step(x, s, z, inv_norm, alpha, tau, bb2_hist, lo, hi, work=None):
    """The adaptive Barzilai-Borwein step length (Notes of :func:`sgp`); returns ``(alpha, tau)``.

    Pixels at the bound (``x = 0`` after the step) are left out of the sums:
    their scaling is ~0 and their gradient change is not a curvature of the
    free variables (projected BB rule).
    """
    thr = _FREE * float(x.mean())
    if float(x.min()) > thr:  # no active bound: whole arrays, no copies
        # x > thr >= lo here, and below 1e10 counts (as in the iteration itself): the clipped scaling is x
        dk = x if thr >= lo and hi >= 1e10 else np.clip(x, lo, hi)
        sf, zf = s, z
    else:
        free = x > thr
        dk, sf, zf = x[free], s[free], z[free]
        if inv_norm is not None:
            inv_norm = inv_norm[free]
    if inv_norm is not None:
        dk = np.multiply(dk, inv_norm, out=work["dk"] if work is not None and dk.shape == work["dk"].shape else None)
    full = work is not None and sf.shape == work["sd"].shape
    sd = np.divide(sf, dk, out=work["sd"] if full else None)
    dz = np.multiply(dk, zf, out=work["dz"] if full else None)
    # float32 sums are plenty for step lengths (BLAS sdot: fast, unthreaded)
    sz_inv = _fdot(sd, zf)  # s^T D^-1 z
    sz = _fdot(sf, dz)  # s^T D z
    a1 = _fdot(sd, sd) / sz_inv if sz_inv > 0 else min(10 * alpha, _ALPHA_MAX)
    a2 = sz / _fdot(dz, dz) if sz > 0 else min(10 * alpha, _ALPHA_MAX)
    a1 = min(max(a1, _ALPHA_MIN), _ALPHA_MAX)
    a2 = min(max(a2, _ALPHA_MIN), _ALPHA_MAX)
    bb2_hist.append(a2)
    del bb2_hist[:-_M_ALPHA]
    if a2 / a1 <= tau:
        return min(bb2_hist), tau * 0.9
    return a1, tau * 1.1
