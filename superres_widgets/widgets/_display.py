"""Display-resolution frames for the image widgets (private).

A 1024 x 1024 map shown in a 460 x 400 CSS-pixel canvas needs at most
400 x 400 device pixels at zoom 1: sending the full map each frame costs
the kernel, the websocket and the page ~7x more than what can be seen.
Widgets therefore send the *visible window* of a map at the *resolution it
is drawn at*, and keep the full-resolution arrays in Python (results,
hover values, line profiles).

Conventions
-----------
* Edge coordinates: pixel ``(r, c)`` covers ``[r, r + 1) x [c, c + 1)``.
* A *display* (sent by the page) is ``{"r0", "r1", "c0", "c1", "scale",
  "height", "width"}``: the visible window in edge coordinates, the device
  pixels per map pixel (zoom x fit x devicePixelRatio) and the canvas size
  in device pixels.
* A *geometry* is ``(R0, R1, C0, C1, out_h, out_w)``: the integer crop
  ``a[R0:R1, C0:C1]`` and the shape it is resampled to. When a map pixel
  takes one device pixel or more (zoomed in), the crop is sent unchanged
  (full resolution); otherwise it is resampled by the area mean (every
  output pixel is the mean of the map over its footprint, partial pixels
  weighted by their overlap), NaN pixels left out of the mean.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

__all__ = ["area_resample", "area_weights", "view_geometry", "display_frame", "DEFAULT_CANVAS"]

DEFAULT_CANVAS = (400, 460)
"""(height, width) in CSS pixels of the widgets' main canvas (js/src/widgets/deconvolution.js)."""


@lru_cache(maxsize=32)
def area_weights(n_in: int, n_out: int) -> sp.csr_matrix:
    r"""Sparse ``(n_out, n_in)`` area-mean matrix: ``W[k, i] = |[i, i+1) ∩ [k r, (k+1) r)| / r``, ``r = n_in/n_out``.

    Each row sums to 1, so ``W @ x`` is the mean of the piecewise-constant
    signal ``x`` over the output pixel's footprint (the box filter of
    exact area resampling).

    Examples
    --------
    >>> area_weights(4, 2).toarray()
    array([[0.5, 0.5, 0. , 0. ],
           [0. , 0. , 0.5, 0.5]], dtype=float32)
    """
    if n_in < 1 or n_out < 1 or n_out > n_in:
        raise ValueError(f"area_weights: need 1 <= n_out <= n_in, got n_in={n_in}, n_out={n_out}")
    ratio = n_in / n_out
    rows, cols, vals = [], [], []
    for k in range(n_out):
        a, b = k * ratio, (k + 1) * ratio
        i0, i1 = int(math.floor(a)), min(n_in, int(math.ceil(b - 1e-9)))
        for i in range(i0, i1):
            w = min(b, i + 1) - max(a, i)
            if w > 1e-12:
                rows.append(k)
                cols.append(i)
                vals.append(w / ratio)
    return sp.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=(n_out, n_in))


def area_resample(a: np.ndarray, out_shape: tuple[int, int], *, nan_aware: bool = True) -> np.ndarray:
    r"""Area-mean resampling of a 2-D array to ``out_shape`` (float32).

    .. math:: D = W_r\, A\, W_c^{T}

    with :func:`area_weights` along each axis; with ``nan_aware`` the NaN
    pixels are left out (``D = W_r (A \odot M) W_c^T / W_r M W_c^T``, NaN
    where the footprint holds no finite pixel).

    Examples
    --------
    >>> area_resample(np.arange(16.0).reshape(4, 4), (2, 2))
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    a = np.asarray(a)
    h, w = out_shape
    if (h, w) == a.shape:
        return np.array(a, dtype=np.float32)
    wr, wc = area_weights(a.shape[0], h), area_weights(a.shape[1], w)
    finite = None
    if nan_aware:
        finite = np.isfinite(a)
        if finite.all():
            finite = None
    if finite is None:
        return np.asarray((wc @ (wr @ a.astype(np.float32, copy=False)).T).T, dtype=np.float32)
    num = (wc @ (wr @ np.where(finite, a, 0).astype(np.float32)).T).T
    den = (wc @ (wr @ finite.astype(np.float32)).T).T
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 1e-6, num / den, np.nan)
    return out.astype(np.float32)


def view_geometry(shape: tuple[int, int], display: dict | None, full: bool = False) -> tuple[int, ...]:
    """``(R0, R1, C0, C1, out_h, out_w)`` for a map of ``shape`` shown in ``display`` (module docstring).

    ``display`` None or empty: the whole map fitted to :data:`DEFAULT_CANVAS`
    at devicePixelRatio 1. ``full``: the whole map at full resolution (the
    old path, for comparisons).

    Examples
    --------
    >>> view_geometry((1024, 1024), None)
    (0, 1024, 0, 1024, 400, 400)
    >>> view_geometry((1024, 1024), {"r0": 100.5, "r1": 200.2, "c0": 10, "c1": 130, "scale": 3.3,
    ...                              "height": 400, "width": 460})
    (100, 201, 10, 130, 101, 120)
    """
    ny, nx = int(shape[0]), int(shape[1])
    if full:
        return (0, ny, 0, nx, ny, nx)
    if not display:
        display = {"r0": 0, "r1": ny, "c0": 0, "c1": nx, "scale": min(DEFAULT_CANVAS[0] / ny, DEFAULT_CANVAS[1] / nx),
                   "height": DEFAULT_CANVAS[0], "width": DEFAULT_CANVAS[1]}
    r0 = max(0, min(ny - 1, int(math.floor(display["r0"]))))
    c0 = max(0, min(nx - 1, int(math.floor(display["c0"]))))
    r1 = max(r0 + 1, min(ny, int(math.ceil(display["r1"]))))
    c1 = max(c0 + 1, min(nx, int(math.ceil(display["c1"]))))
    scale = float(display["scale"])
    if scale >= 1.0:
        return (r0, r1, c0, c1, r1 - r0, c1 - c0)
    h = min(r1 - r0, max(1, int(display["height"])), max(1, math.ceil((r1 - r0) * scale - 1e-9)))
    w = min(c1 - c0, max(1, int(display["width"])), max(1, math.ceil((c1 - c0) * scale - 1e-9)))
    return (r0, r1, c0, c1, h, w)


def display_frame(a: np.ndarray, geometry: tuple[int, ...], *, nan_aware: bool = True) -> np.ndarray:
    """The crop of ``a`` given by ``geometry``, area-resampled to its output shape (float32)."""
    r0, r1, c0, c1, h, w = geometry
    return area_resample(a[r0:r1, c0:c1], (h, w), nan_aware=nan_aware)


def check_display(value) -> dict:
    """A display dict from the page, checked (``ValueError`` naming the bad key)."""
    if not value:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"display must be a dict, got {type(value).__name__}")
    out = {}
    for key in ("r0", "r1", "c0", "c1", "scale", "height", "width"):
        v = value.get(key)
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"display[{key!r}] must be a finite number, got {v!r}")
        out[key] = float(v)
    if out["scale"] <= 0 or out["height"] < 1 or out["width"] < 1:
        raise ValueError(f"display scale, height and width must be positive, got {out}")
    if out["r1"] <= out["r0"] or out["c1"] <= out["c0"]:
        raise ValueError(f"display window is empty: rows {out['r0']}..{out['r1']}, cols {out['c0']}..{out['c1']}")
    return out
