r"""Sensitivity maps: what "fully superposed" becomes for beams with tails.

With the paper's box beam (Kim, Hayashi & Yabashi 2023, section 4) a
specimen point's measurements either light a point or not, and the *fully
superposed region* is the intersection of the lit strips
(:mod:`~superres_widgets.s3dxrd.superposition`).  A real beam has tails (a
focused beam is close to a Gaussian; a slit-defined beam is a box blurred by
the source size and the optics: :mod:`~superres_widgets.s3dxrd.beam`), every
measurement lights every nearby point a little, and the intersection is no
longer the right object.  Its natural generalisation -- the one that
reduces to the polygon for a box -- is the product of the illuminations.

Conventions
-----------
Checked in ``tests/test_s3dxrd_beam.py`` (brute-force products on random
targets).

10. **Sensitivity** of the target ``p`` with the measurement list
    ``(X_k, omega_k)`` (geometry rule 4) at a specimen point ``q``:

    .. math:: S_p(q) = \prod_k w\left(x_q \cos\omega_k - y_q \sin\omega_k - X_k\right)

    with the profile's weights ``w`` in ``[0, 1]`` (beam conventions 2, 7).
    ``S_p(q)`` is the fraction of the signal of ``p``'s list that a grain at
    ``q`` would give in *every* measurement at once -- a soft "lit in all
    measurements" (for a box, ``S`` is 1 on the fully superposed polygon and
    0 elsewhere).  The product, not the minimum, because a reflection is
    only counted for ``p`` when it is seen in each frame of its list and the
    frames are independent; the minimum would ignore how many measurements
    are partly lit.

11. **Size and position.**  ``S_max = max_q S``; the **effective area**
    ``A_eff = (1 / S_max) \int S dA`` (the area of a box function of the
    same height and volume; the exact polygon area for a box), the **area
    above a level** ``L``, ``|{q : S(q) >= L S_max}|`` (raster estimate),
    and the **centroid** ``\int q S dA / \int S dA``.  The relative spot
    size of the maps (Fig. 4) becomes ``sqrt(A_eff / A_eff(0, 0))`` and the
    centroid error ``r(p) - r(centroid)``.

12. **Numerics.**  ``S`` vanishes outside the intersection of the strips
    ``|d| <= support`` (a convex polygon, computed exactly).  A coarse grid
    (``n_coarse`` per side) over that polygon's bounding box finds where
    ``S >= 1e-6 S_max``; a fine grid (``n`` per side) over that window
    (plus one coarse cell) integrates ``S`` with the midpoint rule, and
    ``S_max`` is the largest of the grid values and of ``S`` at the vertex
    of a parabola through ``log S`` at the best grid point and its
    neighbours, refined by a pattern search on ``S``.  For smooth
    profiles the default ``n = 48`` is accurate to about ``1e-4`` relative
    (checked against ``n = 400``; ``n = 32``, the maps' default, to
    ``1e-3``); the minimum (kinks) needs ``n`` of a few hundred.  Flat profiles
    (a box) skip the grid: the exact polygon is the answer.

13. **No measurement.**  A target whose list is empty (a scan that never
    sees it) or whose ``S`` is 0 everywhere has an *empty* result
    (``is_empty``; ``effective_area = 0``, ``centroid is None``), never an
    error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import check_cancel
from .conventions import cos_sin_deg as _cos_sin_deg
from .conventions import finite_array as _finite_array
from .conventions import finite_scalar as _finite_scalar
from .geometry import Measurements, ScanGeometry
from .superposition import _batch_regions, superposed_region

__all__ = ["SensitivityMap", "sensitivity_map", "sensitivity_product"]

#: Relative level that bounds the fine window (convention 12).
_WINDOW_LEVEL = 1e-6
#: Grid points x measurements per block of the batched computation.
_BLOCK_ELEMENTS = 2_000_000


def sensitivity_product(geometry: ScanGeometry, measurements: Measurements, x: Any, y: Any) -> np.ndarray:
    r"""``S(q) = prod_k w(x cos w_k - y sin w_k - X_k)`` at points ``(x, y)`` (convention 10).

    Parameters
    ----------
    geometry : ScanGeometry
        Its profile and beam width give ``w``.
    measurements : Measurements
        The list ``(X_k, omega_k)`` (e.g. ``geometry.measurements(xs, ys)``).
    x, y : array_like
        Points (broadcastable shapes).

    Returns
    -------
    ndarray
        ``S`` with the broadcast shape of ``x, y``; 1 for an empty list.

    Examples
    --------
    >>> g = ScanGeometry(omega_deg=[0.0, 90.0], profile="gaussian")
    >>> m = g.measurements(0.0, 0.0)
    >>> float(sensitivity_product(g, m, 0.5, 0.0).round(4))  # half maximum at 0 deg, 1 at 90 deg
    0.4995
    """
    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    c, s = _cos_sin_deg(np.asarray(measurements.omega_deg, dtype=float))
    prof, b = geometry.profile, geometry.beam_width
    out = np.ones(xa.shape)
    for ck, sk, Xk in zip(c, s, np.asarray(measurements.X, dtype=float)):
        out *= prof.weight(xa * ck - ya * sk - Xk, b)
    return out


@dataclass(frozen=True, eq=False)
class SensitivityMap:
    """The sensitivity of one target on a grid, with its size and position (conventions 10-13).

    Attributes
    ----------
    target : ndarray, (2,)
    measurements : Measurements
    complete : bool
        No angle was dropped from the list.
    x, y : ndarray
        Grid-cell centres (columns, rows); rows go with ``y`` ascending.
    values : ndarray, (ny, nx)
        ``S`` at the cell centres (not normalised; divide by ``peak``).
    extent : tuple of float
        ``(xmin, xmax, ymin, ymax)`` of the cell edges.
    peak : float
        ``S_max`` (convention 11); 0 when empty.
    integral : float
        ``int S dA``.
    effective_area : float
        ``integral / peak`` (length units squared); 0 when empty.
    centroid : ndarray of shape (2,) or None
    exact : bool
        ``True`` for a flat profile (the exact polygon gave area and
        centroid; ``values`` is its indicator).
    geometry : ScanGeometry
    """

    target: np.ndarray
    measurements: Measurements
    complete: bool
    x: np.ndarray
    y: np.ndarray
    values: np.ndarray
    extent: tuple[float, float, float, float]
    peak: float
    integral: float
    effective_area: float
    centroid: np.ndarray | None
    exact: bool
    geometry: ScanGeometry

    @property
    def is_empty(self) -> bool:
        """No measurement, or ``S = 0`` everywhere (convention 13)."""
        return self.centroid is None

    @property
    def effective_area_beam2(self) -> float:
        """:attr:`effective_area` in beam widths squared."""
        return self.effective_area / self.geometry.beam_width**2

    @property
    def normalised(self) -> np.ndarray:
        """``values / peak`` (0 where empty), for display."""
        return self.values / self.peak if self.peak > 0 else np.zeros_like(self.values)

    def area_above(self, level: float) -> float:
        """Area where ``S >= level * S_max`` (grid estimate; exact polygon area for a box).

        ``level`` in ``(0, 1]``.
        """
        lv = _finite_scalar(level, "level")
        if not 0 < lv <= 1:
            raise ValueError(f"level must be in (0, 1], got {level!r}")
        if self.is_empty:
            return 0.0
        if self.exact:
            return self.effective_area
        cell = (self.x[1] - self.x[0]) * (self.y[1] - self.y[0]) if self.x.size > 1 and self.y.size > 1 else 0.0
        return float(np.count_nonzero(self.values >= lv * self.peak) * cell)


def _grid(bbox: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cell centres of an ``n x n`` grid over boxes ``(U, 4)``: x (U, n), y (U, n), hx, hy (U,)."""
    hx = (bbox[:, 1] - bbox[:, 0]) / n
    hy = (bbox[:, 3] - bbox[:, 2]) / n
    t = np.arange(n) + 0.5
    return bbox[:, :1] + hx[:, None] * t, bbox[:, 2:3] + hy[:, None] * t, hx, hy


class _WeightTable:
    """``w(|d|)`` of a profile tabulated on ``[0, support]`` (nearest sample, 0 beyond), float32.

    ``2**18`` intervals: a look-up differs from ``profile.weight`` by less
    than ``|w'| support / 2**19`` (``5e-6`` for a Gaussian), far below the
    quadrature error (convention 12), and costs a third of ``exp`` or
    ``erfc`` on the grids.
    """

    N = 2**18

    def __init__(self, geometry: ScanGeometry):
        prof, b = geometry.profile, geometry.beam_width
        self.support = float(prof.support(b))
        t = np.linspace(0.0, self.support, self.N + 1)
        w = np.clip(np.asarray(prof.weight(t, b), dtype=float), 0.0, 1.0)
        self.table = np.append(w, 0.0).astype(np.float32)  # one zero beyond the support
        self.scale = np.float32(self.N / self.support)

    def __call__(self, d: np.ndarray) -> np.ndarray:
        f = np.abs(d, dtype=np.float32)
        f *= self.scale
        f += np.float32(0.5)
        np.minimum(f, np.float32(self.N + 1), out=f)
        return self.table[f.astype(np.intp)]


def _products(geometry: ScanGeometry, X: np.ndarray, present: np.ndarray, gx: np.ndarray, gy: np.ndarray,
              cancel: Any = None, combine: str = "product", table: _WeightTable | None = None) -> np.ndarray:
    """``S`` of lists ``(X, present)`` (U, n) on grids ``gx`` (U, nx), ``gy`` (U, ny): (U, ny, nx)."""
    c, s = geometry._cos_sin()
    c, s = c.astype(np.float32), s.astype(np.float32)
    weight = table if table is not None else _WeightTable(geometry)
    U = X.shape[0]
    gx32, gy32, X32 = gx.astype(np.float32), gy.astype(np.float32), X.astype(np.float32)
    S = np.ones((U, gy.shape[1], gx.shape[1]), dtype=np.float32)
    op = np.multiply if combine == "product" else np.minimum
    for k in range(X.shape[1]):
        if k % 16 == 15:
            check_cancel(cancel, "sensitivity")
        rows = np.nonzero(present[:, k])[0]
        if rows.size == 0:
            continue
        if rows.size == U:
            d = gx32[:, None, :] * c[k] - gy32[:, :, None] * s[k]
            d -= X32[:, k][:, None, None]
            op(S, weight(d), out=S)
        else:
            d = (gx32[rows, None, :] * c[k] - gy32[rows, :, None] * s[k]) - X32[rows, k][:, None, None]
            S[rows] = op(S[rows], weight(d))
    return S


def _refine_peak(geometry, X, present, S, gx, gy, hx, hy, combine: str = "product", table=None) -> np.ndarray:
    """``S_max`` per list: grid maximum or ``S`` at the parabola vertex of ``log S`` (convention 12)."""
    U, ny, nx = S.shape
    flat = S.reshape(U, -1)
    arg = np.argmax(flat, axis=1)
    best = flat[np.arange(U), arg].astype(np.float64)
    iy, ix = np.divmod(arg, nx)
    px = gx[np.arange(U), ix].copy()
    py = gy[np.arange(U), iy].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis, idx, n, h, pos in ((2, ix, nx, hx, px), (1, iy, ny, hy, py)):
            ok = (idx > 0) & (idx < n - 1) & (best > 0)
            rows = np.nonzero(ok)[0]
            if rows.size == 0:
                continue
            if axis == 2:
                lo = S[rows, iy[rows], idx[rows] - 1]
                hi = S[rows, iy[rows], idx[rows] + 1]
            else:
                lo = S[rows, idx[rows] - 1, ix[rows]]
                hi = S[rows, idx[rows] + 1, ix[rows]]
            l0, l1, l2 = np.log(lo), np.log(best[rows]), np.log(hi)
            den = l0 - 2 * l1 + l2
            shift = np.where(np.isfinite(den) & (den < 0), 0.5 * (l0 - l2) / den, 0.0)
            pos[rows] += np.clip(np.nan_to_num(shift), -1.0, 1.0) * h[rows]
    c, s = geometry._cos_sin()
    weight = _WeightTable(geometry) if table is None else table

    def value(qx: np.ndarray, qy: np.ndarray) -> np.ndarray:  # S at (U, m) points (tabulated weights)
        d = qx[..., None] * c - qy[..., None] * s - X[:, None, :]  # (U, m, n)
        w = np.where(present[:, None, :], weight(d), np.float32(1.0))
        return (np.prod(w, axis=-1, dtype=np.float64) if combine == "product" else w.min(axis=-1)).astype(np.float64)

    # start at the better of the grid maximum and the parabola vertex, then a
    # pattern search (8 directions, step halved when nothing improves): S is
    # log-concave for the built-in profiles, and kinks (a measured profile,
    # the minimum) are found too
    start = value(np.stack([gx[np.arange(U), ix], px], 1), np.stack([gy[np.arange(U), iy], py], 1))
    pick = np.argmax(start, axis=1)
    qx = np.where(pick == 1, px, gx[np.arange(U), ix])
    qy = np.where(pick == 1, py, gy[np.arange(U), iy])
    val = start[np.arange(U), pick]
    dirs = np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=float)
    dx, dy = hx.copy(), hy.copy()
    for _ in range(24):
        cx = qx[:, None] + dx[:, None] * dirs[:, 0]
        cy = qy[:, None] + dy[:, None] * dirs[:, 1]
        cand = value(cx, cy)
        j = np.argmax(cand, axis=1)
        cbest = cand[np.arange(U), j]
        up = cbest > val
        qx = np.where(up, cx[np.arange(U), j], qx)
        qy = np.where(up, cy[np.arange(U), j], qy)
        val = np.where(up, cbest, val)
        dx = np.where(up, dx, 0.5 * dx)
        dy = np.where(up, dy, 0.5 * dy)
    return np.maximum(best, val)


def _stats_of_lists(geometry: ScanGeometry, X: np.ndarray, present: np.ndarray, bbox: np.ndarray, n: int,
                    n_coarse: int, cancel: Any = None, combine: str = "product",
                    table: _WeightTable | None = None) -> dict[str, np.ndarray]:
    """Peak, integral, centroid (and the fine grids) of lists with support boxes ``bbox`` (U, 4)."""
    U = X.shape[0]
    table = _WeightTable(geometry) if table is None else table
    # pass 1: where is S above 1e-6 of its maximum?
    gx, gy, hx, hy = _grid(bbox, n_coarse)
    S = _products(geometry, X, present, gx, gy, cancel, combine, table)
    smax = S.reshape(U, -1).max(axis=1)
    big = S >= (_WINDOW_LEVEL * smax)[:, None, None]
    big &= (smax > 0)[:, None, None]
    anyx, anyy = big.any(axis=1), big.any(axis=2)  # (U, nx), (U, ny)
    win = bbox.copy()
    nonempty = smax > 0
    if nonempty.any():
        ix0 = np.argmax(anyx, axis=1)
        ix1 = n_coarse - 1 - np.argmax(anyx[:, ::-1], axis=1)
        iy0 = np.argmax(anyy, axis=1)
        iy1 = n_coarse - 1 - np.argmax(anyy[:, ::-1], axis=1)
        # cell edges plus one coarse cell, inside the support box
        win[:, 0] = np.maximum(bbox[:, 0], bbox[:, 0] + (ix0 - 1) * hx)
        win[:, 1] = np.minimum(bbox[:, 1], bbox[:, 0] + (ix1 + 2) * hx)
        win[:, 2] = np.maximum(bbox[:, 2], bbox[:, 2] + (iy0 - 1) * hy)
        win[:, 3] = np.minimum(bbox[:, 3], bbox[:, 2] + (iy1 + 2) * hy)
    # pass 2: integrate on the fine window
    gx, gy, hx, hy = _grid(win, n)
    S = _products(geometry, X, present, gx, gy, cancel, combine, table)
    cell = hx * hy
    integral = S.sum(axis=(1, 2), dtype=np.float64) * cell
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (S.sum(axis=1, dtype=np.float64) * gx).sum(axis=1) * cell / integral
        cy = (S.sum(axis=2, dtype=np.float64) * gy).sum(axis=1) * cell / integral
    peak = _refine_peak(geometry, X, present, S, gx, gy, hx, hy, combine, table)
    empty = ~nonempty | ~(integral > 0)
    peak[empty] = 0.0
    integral[empty] = 0.0
    cx[empty] = np.nan
    cy[empty] = np.nan
    return dict(peak=peak, integral=integral, centroid=np.stack([cx, cy], axis=1), S=S, gx=gx, gy=gy, window=win)


def _support_boxes(geometry: ScanGeometry, tx: np.ndarray, ty: np.ndarray, cancel: Any = None) -> np.ndarray:
    """Bounding boxes ``(T, 4)`` of the exact support polygons (NaN where empty)."""
    sup = geometry.profile.support(geometry.beam_width)
    return _batch_regions(geometry, tx, ty, cancel=cancel, half_width=sup)["bbox"]


def sensitivity_map(
    geometry: ScanGeometry,
    xs: float,
    ys: float,
    *,
    n: int = 48,
    n_coarse: int = 24,
    extent: tuple[float, float, float, float] | None = None,
    combine: str = "product",
) -> SensitivityMap:
    r"""The sensitivity ``S`` of the target ``(xs, ys)``, its effective area and centroid.

    The product of the beam weights of the target's measurements
    (convention 10), on a grid fitted to it (convention 12), with
    ``A_eff = int S / S_max`` and the centroid (convention 11).  For a flat
    profile (the paper's box) the exact polygon of
    :func:`~superres_widgets.s3dxrd.superposed_region` gives both, and
    ``values`` is its indicator.

    Parameters
    ----------
    geometry : ScanGeometry
    xs, ys : float
        Target point.
    n : int, default 48
        Fine grid cells per side, ``>= 4``.
    n_coarse : int, default 24
        Coarse grid cells per side (finding the window), ``>= 4``.
    extent : (xmin, xmax, ymin, ymax), optional
        Use this window (an ``n x n`` grid) instead of the fitted one, e.g.
        a view; the statistics are then those of this grid.

    Returns
    -------
    SensitivityMap

    Raises
    ------
    ValueError
        Non-finite ``xs``/``ys``, ``n`` or ``n_coarse`` below 4, a bad
        ``extent``.

    Examples
    --------
    >>> g = ScanGeometry(x_range=10, omega_deg=range(0, 180, 10))
    >>> round(sensitivity_map(g, 3, 2).effective_area, 6)        # the box: the exact polygon
    0.006933
    >>> sm = sensitivity_map(g.replace(profile="gaussian"), 3, 2)
    >>> round(sm.effective_area, 3), sm.centroid.round(2).tolist()
    (0.126, [3.1, 1.91])
    """
    from .conventions import check_type

    check_type(geometry, ScanGeometry, "geometry")
    xs_f = _finite_scalar(xs, "xs")
    ys_f = _finite_scalar(ys, "ys")
    n = _grid_size(n, "n")
    n_coarse = _grid_size(n_coarse, "n_coarse")
    _check_combine(combine)
    meas = geometry.measurements(xs_f, ys_f)
    complete = bool(meas.X.size == geometry.n_omega)
    target = np.array([xs_f, ys_f])
    if extent is not None:
        ext = _finite_array(extent, "extent").ravel()
        if ext.size != 4 or not (ext[0] < ext[1] and ext[2] < ext[3]):
            raise ValueError("extent must be (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax")
    if geometry.profile.is_flat(geometry.beam_width):
        return _flat_map(geometry, target, meas, complete, n, None if extent is None else ext)
    lk = geometry.nearest_positions(xs_f, ys_f)
    X = geometry.x_positions[lk.index][None, :]
    present = lk.in_scan[None, :]
    if meas.X.size == 0:
        return _empty_map(geometry, target, meas, complete, n, extent)
    if extent is None:
        bbox = _support_boxes(geometry, np.array([xs_f]), np.array([ys_f]))
        if not np.all(np.isfinite(bbox)):
            return _empty_map(geometry, target, meas, complete, n, None)
        st = _stats_of_lists(geometry, X, present, bbox, n, n_coarse, combine=combine)
    else:
        st = _stats_of_lists_on(geometry, X, present, ext, n, combine)
    if not st["peak"][0] > 0:
        return _empty_map(geometry, target, meas, complete, n, extent)
    gx, gy, win = st["gx"][0], st["gy"][0], st["window"][0]
    return SensitivityMap(
        target=target, measurements=meas, complete=complete, x=gx, y=gy, values=st["S"][0].astype(np.float64),
        extent=tuple(float(v) for v in win), peak=float(st["peak"][0]), integral=float(st["integral"][0]),
        effective_area=float(st["integral"][0] / st["peak"][0]), centroid=st["centroid"][0].copy(),
        exact=False, geometry=geometry,
    )


def _stats_of_lists_on(geometry, X, present, ext, n, combine) -> dict[str, np.ndarray]:
    bbox = np.asarray(ext, dtype=float)[None, :]
    gx, gy, hx, hy = _grid(bbox, n)
    S = _products(geometry, X, present, gx, gy, None, combine)
    cell = hx * hy
    integral = S.sum(axis=(1, 2), dtype=np.float64) * cell
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (S.sum(axis=1, dtype=np.float64) * gx).sum(axis=1) * cell / integral
        cy = (S.sum(axis=2, dtype=np.float64) * gy).sum(axis=1) * cell / integral
    peak = _refine_peak(geometry, X, present, S, gx, gy, hx, hy, combine)
    return dict(peak=peak, integral=integral, centroid=np.stack([cx, cy], axis=1), S=S, gx=gx, gy=gy, window=bbox)


def _check_combine(combine: Any) -> None:
    if combine not in ("product", "minimum"):
        raise ValueError(f"combine must be 'product' or 'minimum', got {combine!r}")


def _grid_size(value: Any, name: str) -> int:
    from ..validate import check_int

    return check_int(value, name, 4, 4096)


def _empty_map(geometry, target, meas, complete, n, extent) -> SensitivityMap:
    if extent is None:
        h = geometry.step
        extent = (target[0] - h, target[0] + h, target[1] - h, target[1] + h)
    ext = tuple(float(v) for v in extent)
    x = ext[0] + (np.arange(n) + 0.5) * (ext[1] - ext[0]) / n
    y = ext[2] + (np.arange(n) + 0.5) * (ext[3] - ext[2]) / n
    return SensitivityMap(
        target=target, measurements=meas, complete=complete, x=x, y=y, values=np.zeros((n, n)), extent=ext,
        peak=0.0, integral=0.0, effective_area=0.0, centroid=None,
        exact=geometry.profile.is_flat(geometry.beam_width), geometry=geometry,
    )


def _flat_map(geometry, target, meas, complete, n, ext) -> SensitivityMap:
    reg = superposed_region(geometry, target[0], target[1])
    if reg.is_empty:
        return _empty_map(geometry, target, meas, complete, n, ext)
    if ext is None:
        lo, hi = reg.vertices.min(axis=0), reg.vertices.max(axis=0)
        pad = 0.05 * max(hi[0] - lo[0], hi[1] - lo[1])
        ext = (lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad)
    ext = tuple(float(v) for v in ext)
    x = ext[0] + (np.arange(n) + 0.5) * (ext[1] - ext[0]) / n
    y = ext[2] + (np.arange(n) + 0.5) * (ext[3] - ext[2]) / n
    values = sensitivity_product(geometry, meas, x[None, :], y[:, None])
    return SensitivityMap(
        target=target, measurements=meas, complete=complete, x=x, y=y, values=values, extent=ext, peak=1.0,
        integral=reg.area, effective_area=reg.area, centroid=reg.centroid.copy(), exact=True, geometry=geometry,
    )


def _batch_sensitivity(geometry: ScanGeometry, tx: np.ndarray, ty: np.ndarray, *, n: int = 32,
                       n_coarse: int = 16, cancel: Any = None, combine: str = "product") -> dict[str, np.ndarray]:
    """Effective area and centroid of many targets (conventions 10-13), one grid per distinct list."""
    lk = geometry._lookup(tx, ty)
    present = lk.in_scan
    n_meas = present.sum(axis=1)
    sig = np.where(present, lk.index, geometry.n_positions)
    _, first, inverse = np.unique(sig, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    U = first.size
    X = geometry.x_positions[lk.index[first]]
    pres = present[first]
    bbox = _support_boxes(geometry, tx[first], ty[first], cancel)
    area = np.zeros(U)
    cen = np.full((U, 2), np.nan)
    ok = np.all(np.isfinite(bbox), axis=1) & (n_meas[first] > 0)
    rows = np.nonzero(ok)[0]
    per = max(1, _BLOCK_ELEMENTS // (n * n))
    table = _WeightTable(geometry)
    for a in range(0, rows.size, per):
        check_cancel(cancel, "sensitivity")
        r = rows[a : a + per]
        st = _stats_of_lists(geometry, X[r], pres[r], bbox[r], n, n_coarse, cancel, combine, table)
        good = st["peak"] > 0
        area[r[good]] = st["integral"][good] / st["peak"][good]
        cen[r[good]] = st["centroid"][good]
    return {"area": area[inverse], "centroid": cen[inverse], "n_measurements": n_meas, "n_distinct": np.int64(U)}
