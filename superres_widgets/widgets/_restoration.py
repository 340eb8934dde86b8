"""Helpers shared by the PSF-sweep and element-stack widgets (private).

One dispatch from a method name and its parameters to the non-blind
deconvolutions of :mod:`superres_widgets.xrf`, with progress and
cancellation wired the same way for every method, plus the display helpers
(robust contrast range, thumbnails) both front-ends use.

Conventions
-----------
* Maps are counts, ``image[row, col]``; sigmas in micrometres, converted to
  pixels with ``pixel_size_um`` by :func:`~superres_widgets.xrf.gaussian_psf`.
* ``restore`` returns what the xrf function returns (float64, counts, not
  clipped); callers decide what to store.
* ``progress(fraction)`` is called with 0 <= fraction <= 1 during iterative
  methods (throttled by ``callback_every``); ``cancel`` is anything with
  ``is_set()`` (a :class:`~superres_widgets.widgets._worker.Job`).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np

from ..xrf import fista, gaussian_psf, richardson_lucy, wiener

__all__ = ["METHODS", "METHOD_PARAMETERS", "restore", "restore_with_psf", "method_parameters", "robust_range",
           "thumbnail"]

#: The non-blind methods a sweep or a stack can use (blind L0 estimates its
#: own PSF, so sweeping or fixing a sigma does not apply to it).
METHODS = ("richardson_lucy", "wiener", "fista")

#: Parameters each method uses (the front-ends show only these).
METHOD_PARAMETERS = {
    "richardson_lucy": ("num_iter", "acceleration"),
    "wiener": ("balance",),
    "fista": ("num_iter", "lam"),
}


def method_parameters(widget) -> dict:
    """``{"method": ..., <its parameters>}`` read from a widget's traits."""
    out = {"method": widget.method}
    for name in METHOD_PARAMETERS[widget.method]:
        out[name] = getattr(widget, name)
    return out


def restore_with_psf(image: np.ndarray, psf: np.ndarray, params: dict, *, cancel: Any = None,
                     callback: Optional[Callable[[int, np.ndarray], None]] = None, callback_every: int = 1,
                     wiener_dtype=None) -> np.ndarray:
    """Restore ``image`` with ``psf`` by ``params["method"]`` (one of :data:`METHODS`).

    The single dispatch every widget uses. ``callback(iteration, estimate)``
    and ``cancel`` go to the iterative methods unchanged; ``wiener_dtype``
    (e.g. float32 for live sliders) to :func:`~superres_widgets.xrf.wiener`.
    """
    method = params["method"]
    if method == "wiener":
        kw = {} if wiener_dtype is None else {"dtype": wiener_dtype}
        return wiener(image, psf, params["balance"], **kw)
    n = int(params["num_iter"])
    if method == "richardson_lucy":
        return richardson_lucy(image, psf, n, cancel=cancel, callback=callback, callback_every=callback_every,
                               acceleration="biggs-andrews" if params["acceleration"] else None)
    if method == "fista":
        return fista(image, psf, params["lam"], n, cancel=cancel, callback=callback,
                     callback_every=callback_every)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def restore(image: np.ndarray, sigma_um: float, pixel_size_um: float, params: dict, *,
            cancel: Any = None, progress: Optional[Callable[[float], None]] = None) -> np.ndarray:
    """Restore ``image`` with a Gaussian PSF of ``sigma_um`` by ``params["method"]``.

    Exactly the call a user would write, e.g. ``richardson_lucy(image,
    gaussian_psf(sigma_um, pixel_size_um=pixel_size_um), num_iter)``; the
    callback only reports progress (it never alters the iterate).
    """
    psf = gaussian_psf(sigma_um, pixel_size_um=pixel_size_um)
    iterative = params["method"] != "wiener"
    n = int(params["num_iter"]) if iterative else 1

    def report(iteration, _estimate):
        progress(iteration / n)

    out = restore_with_psf(image, psf, params, cancel=cancel,
                           callback=report if (progress is not None and iterative) else None,
                           callback_every=max(1, n // 20))
    if progress is not None and params["method"] == "wiener":
        progress(1.0)
    return out


def robust_range(*images, percentiles=(0.5, 99.5)) -> list:
    """``[lo, hi]`` covering the given percentiles of every image (finite values)."""
    lo, hi = math.inf, -math.inf
    for img in images:
        if img is None:
            continue
        a = np.asarray(img, dtype=np.float64)
        a = a[np.isfinite(a)]
        if a.size == 0:
            continue
        if a.size > 262144:  # a strided sample is plenty for a display range
            a = a[:: a.size // 262144]
        p_lo, p_hi = np.percentile(a, percentiles)
        lo, hi = min(lo, float(p_lo)), max(hi, float(p_hi))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + 1.0
    return [lo, hi]


def thumbnail(image: np.ndarray, vrange, max_side: int = 96) -> np.ndarray:
    """A small uint8 copy of ``image`` (block means), scaled by ``vrange`` to 0-255."""
    a = np.asarray(image, dtype=np.float64)
    f = max(1, int(math.ceil(max(a.shape) / max_side)))
    ny, nx = a.shape[0] // f, a.shape[1] // f
    if ny == 0 or nx == 0:
        small = a
    else:
        small = a[: ny * f, : nx * f].reshape(ny, f, nx, f).mean(axis=(1, 3))
    lo, hi = float(vrange[0]), float(vrange[1])
    t = (small - lo) / (hi - lo if hi > lo else 1.0)
    return np.clip(np.round(255 * t), 0, 255).astype(np.uint8)
