"""Independent dense references for the restoration tests (small problems, explicit matrices).

The blur matrix is built column by column with ``scipy.ndimage.convolve``
(``mode="reflect"``, scipy's half-sample symmetric continuation, or
``"wrap"``), not with the package's operators, so a test comparing a method
with these matrices checks the method's operator and its algorithm at once.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

LAPLACIAN = np.array([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]])


def blur_matrix(psf: np.ndarray, shape, mode: str = "reflect") -> np.ndarray:
    """``H`` with ``H @ x.ravel() == convolve(x, psf)`` for the boundary ``mode``."""
    psf = np.asarray(psf, dtype=np.float64)
    psf = psf / psf.sum() if psf.sum() > 0 and not np.any(psf < 0) else psf
    n = shape[0] * shape[1]
    h = np.empty((n, n))
    e = np.zeros(shape)
    for j in range(n):
        e.flat[j] = 1.0
        h[:, j] = ndimage.convolve(e, psf, mode=mode).ravel()
        e.flat[j] = 0.0
    return h


def laplacian_matrix(shape, mode: str = "reflect") -> np.ndarray:
    """The 5-point Laplacian with the same continuation."""
    return blur_matrix(LAPLACIAN, shape, mode)


def kl(hx: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """sum w (Hx - y log Hx): the Poisson negative log-likelihood up to a constant."""
    t = hx - y * np.log(np.maximum(hx, 1e-300))
    return float(np.sum(t if w is None else w * t))


def kl_minimiser(h: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, x0=None) -> np.ndarray:
    """argmin_{x >= 0} sum w (Hx - y log Hx) by L-BFGS-B (scipy), to a tight tolerance."""
    from scipy.optimize import minimize

    y = np.asarray(y, dtype=np.float64).ravel()
    ww = np.ones_like(y) if w is None else np.asarray(w, dtype=np.float64).ravel()
    ht_w = h.T @ ww

    def fun(x):
        hx = np.maximum(h @ x, 1e-300)
        return float(np.sum(ww * (hx - y * np.log(hx)))), ht_w - h.T @ (ww * y / hx)

    start = np.full(y.size, max(y.mean(), 1.0)) if x0 is None else np.ravel(x0)
    res = minimize(fun, start, jac=True, method="L-BFGS-B", bounds=[(0, None)] * y.size,
                   options={"maxiter": 20000, "maxfun": 40000, "ftol": 1e-15, "gtol": 1e-12})
    return res.x
