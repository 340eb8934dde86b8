r"""Fully superposed regions of s3DXRD: exact polygons and the paper's raster.

Kim, Hayashi & Yabashi (2023), section 4, Fig. 2: the region of the
specimen lit in *every* measurement ``(X, omega)`` of a point's list
(:meth:`ScanGeometry.measurements <superres_widgets.s3dxrd.ScanGeometry.measurements>`,
geometry rule 4) is much smaller than the beam away from the rotation axis.
It is an intersection of strips, so it is a convex polygon; we compute it
exactly (half-plane clipping, one target or many at once) and also as the
paper's raster.  Rules 1-4 and 9 (frames, scan, measurement lists,
ImageD11) are in :mod:`~superres_widgets.s3dxrd.geometry`; the map over the
specimen (rule 8) in :mod:`~superres_widgets.s3dxrd.spot_map`.

Conventions
-----------
Checked in ``tests/test_s3dxrd_geometry.py`` and ``tests/test_s3dxrd_beam.py``.

5. **Lit strip** of measurement ``(X_k, omega_k)``: the points the beam
   profile (:mod:`~superres_widgets.s3dxrd.beam`) lights, ``w(d) > 0`` at
   ``d = xs cos(omega_k) - ys sin(omega_k) - X_k``.  The exact polygons use
   the strips ``|d| <= h`` with ``h = profile.clip_half_width(b)``; for the
   paper's box beam of full width ``b`` both are::

       S_k = {(xs, ys) : |xs cos(omega_k) - ys sin(omega_k) - X_k| <= b/2}

   (closed; two half-planes per strip).

6. **Fully superposed region** of a point: the intersection of the strips of
   all measurements in its list, intersected with the field-of-view square
   ``|xs|, |ys| <= field_half_width`` (``x_range + |axis_offset| + support``, the largest ``|X|`` plus
   the support for a position list; ``+ b/2`` for the box; which only matters for angle lists that
   leave the intersection unbounded, e.g. a single angle; if the list holds
   0 and 90 deg the square is implied by the strips).  For ``b >= step`` it
   always contains the point itself; for ``b < step`` it may miss the point
   or be empty.  A point with no measurement at all has an empty region.
   Polygons are counter-clockwise in the specimen frame; an empty region has
   ``area == 0``, ``vertices.shape == (0, 2)`` and ``centroid is None``.
   Regions with area below ``1e-12 * b**2`` (a shared edge or vertex) count
   as empty.

7. **Raster grid** (the paper's method, :func:`superposed_mask`).  One global
   grid with pixel size ``p = b / px_per_beam`` whose pixel *edges* lie on
   integer multiples of ``p``, so pixel centres are at ``(i + 1/2) p``.  A
   pixel belongs to the mask when its centre is lit (``w > 0``) in every
   measurement (the paper adds +1 per strip and keeps the pixels whose sum
   equals the number of measurements).  ``mask[i, j]`` is the pixel with centre
   ``(xmin + (j + 1/2) p, ymin + (i + 1/2) p)``: rows go with ``ys``
   **ascending** (plot with ``origin="lower"``) and ``extent`` is
   ``(xmin, xmax, ymin, ymax)`` of the pixel edges, as matplotlib's
   ``imshow`` wants it.  With ``px_per_beam=20`` this grid reproduces the
   paper's 316 px at ``(0, 0)`` and 3 px at ``(3, 2)`` (a grid centred on the
   target instead gives 317 and 4).  The paper's text says 40 px per beam, but
   on a 40-px grid the same shapes cover 1272 and 10 px.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import TIE_TOL as _TIE_TOL
from .conventions import check_cancel
from .conventions import check_type as _check_type
from .conventions import cos_sin_deg as _cos_sin_deg
from .conventions import finite_array as _finite_array
from .conventions import finite_scalar as _finite_scalar
from .geometry import Measurements, ScanGeometry

__all__ = [
    "RasterRegion",
    "SuperposedRegion",
    "superposed_mask",
    "superposed_region",
]

#: Areas below this many beam widths squared count as empty.
_AREA_TOL = 1e-12
#: Largest raster :func:`superposed_mask` builds (pixels).
_MAX_RASTER_PIXELS = 50_000_000


# ---------------------------------------------------------------------------
# exact polygon, one target
# ---------------------------------------------------------------------------
def _field_square(geometry: ScanGeometry) -> np.ndarray:
    h = geometry.field_half_width
    return np.array([[-h, -h], [h, -h], [h, h], [-h, h]], dtype=float)


def _clip_polygon(P: np.ndarray, a: np.ndarray, c: float) -> np.ndarray:
    """Sutherland-Hodgman: keep the part of polygon ``P`` with ``a . p <= c``.

    A vertex on the line counts as inside; an edge is cut only where it
    crosses the line strictly, so no duplicate vertices are made.
    """
    if len(P) == 0:
        return P
    d = P @ a - c
    if np.all(d <= 0):
        return P
    dq = np.roll(d, -1)
    Q = np.roll(P, -1, axis=0)
    inside = d <= 0
    cross = ((d < 0) & (dq > 0)) | ((d > 0) & (dq < 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(cross, d / (d - dq), 0.0)
    inter = P + t[:, None] * (Q - P)
    cand = np.stack([P, inter], axis=1).reshape(-1, 2)
    emit = np.stack([inside, cross], axis=1).ravel()
    return cand[emit]


def _polygon_area_centroid(P: np.ndarray) -> tuple[float, np.ndarray]:
    x, y = P[:, 0], P[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    area = 0.5 * cross.sum()
    if area == 0:
        return 0.0, np.zeros(2)
    cx = ((x + x1) * cross).sum() / (6.0 * area)
    cy = ((y + y1) * cross).sum() / (6.0 * area)
    return float(area), np.array([cx, cy])


def _dedupe_vertices(P: np.ndarray, tol: float) -> np.ndarray:
    if len(P) < 2:
        return P
    keep = np.linalg.norm(P - np.roll(P, 1, axis=0), axis=1) > tol
    if not keep.any():
        return P[:1]
    return P[keep]


@dataclass(frozen=True, eq=False)
class SuperposedRegion:
    """The fully superposed region of one target (exact convex polygon).

    Attributes
    ----------
    target : ndarray, shape (2,)
        The specimen point ``(xs, ys)``.
    vertices : ndarray, shape (n, 2)
        Polygon vertices, counter-clockwise, specimen frame; ``(0, 2)`` when
        the region is empty.
    area : float
        Area in length units squared (``beam_width**2 * area_beam2``).
    centroid : ndarray of shape (2,) or None
        Centre of mass; ``None`` for an empty region (never NaN).
    measurements : Measurements
        The target's ``(X, omega_deg)`` list.
    complete : bool
        ``True`` when no angle was dropped from the list.
    geometry : ScanGeometry
    """

    target: np.ndarray
    vertices: np.ndarray
    area: float
    centroid: np.ndarray | None
    measurements: Measurements
    complete: bool
    geometry: ScanGeometry

    @property
    def is_empty(self) -> bool:
        """``True`` when nothing is lit in every measurement."""
        return self.centroid is None

    @property
    def area_beam2(self) -> float:
        """Area in units of the beam width squared."""
        return self.area / self.geometry.beam_width**2

    @property
    def n_measurements(self) -> int:
        """Length of the measurement list."""
        return int(self.measurements.X.size)


def superposed_region(geometry: ScanGeometry, xs: float, ys: float) -> SuperposedRegion:
    r"""Exact fully superposed region of the specimen point ``(xs, ys)``.

    The region lit in every measurement of the point's ``(X, omega)`` list
    (Kim, Hayashi & Yabashi 2023, section 4, Fig. 2 c-d), computed exactly by
    Sutherland-Hodgman clipping of the field-of-view square by the two
    half-planes of every strip

    .. math:: |x_s \cos\omega_k - y_s \sin\omega_k - X_k| \le h

    with ``h = geometry.profile.clip_half_width(b)`` (``b/2`` for the box,
    module rule 5).

    Parameters
    ----------
    geometry : ScanGeometry
    xs, ys : float
        Target point in the specimen frame.

    Returns
    -------
    SuperposedRegion
        ``vertices`` counter-clockwise; empty regions have ``area == 0``,
        ``vertices.shape == (0, 2)`` and ``centroid is None``.

    Raises
    ------
    ValueError
        If ``xs`` or ``ys`` is not finite.

    Examples
    --------
    >>> g = ScanGeometry(x_range=10, step=1, omega_deg=range(0, 180, 10))
    >>> round(superposed_region(g, 0, 0).area, 4)
    0.7874
    """
    _check_type(geometry, ScanGeometry, "geometry")
    meas = geometry.measurements(xs, ys)
    xs_f, ys_f = float(xs), float(ys)
    b = geometry.beam_width
    h = geometry.profile.clip_half_width(b)
    t = np.array([xs_f, ys_f])
    # clip in coordinates relative to the target (better conditioned)
    P = _field_square(geometry) - t
    if meas.X.size == 0:
        P = np.zeros((0, 2))
    c, s = _cos_sin_deg(meas.omega_deg)
    u = xs_f * c - ys_f * s
    for ck, sk, Xk, uk in zip(c, s, meas.X, u):
        n = np.array([ck, -sk])
        P = _clip_polygon(P, n, Xk + h - uk)
        P = _clip_polygon(P, -n, h - Xk + uk)
        if len(P) == 0:
            break
    P = _dedupe_vertices(P, 1e-12 * b)
    area, cen = _polygon_area_centroid(P) if len(P) >= 3 else (0.0, None)
    if area <= _AREA_TOL * b * b:
        verts, area, centroid = np.zeros((0, 2)), 0.0, None
    else:
        verts, centroid = P + t, cen + t
    return SuperposedRegion(
        target=t,
        vertices=verts,
        area=float(area),
        centroid=centroid,
        measurements=meas,
        complete=bool(meas.X.size == geometry.n_omega),
        geometry=geometry,
    )


# ---------------------------------------------------------------------------
# raster, one target (the paper's method)
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RasterRegion:
    """The fully superposed region of one target on a pixel grid.

    Attributes
    ----------
    target : ndarray, shape (2,)
    mask : ndarray of bool, shape (ny, nx)
        Pixels whose centre lies in every strip; row ``i`` / column ``j`` is
        the pixel centred at ``(xmin + (j + 1/2) p, ymin + (i + 1/2) p)``
        (rows with ``ys`` ascending: plot with ``origin="lower"``).
    hits : ndarray of int, shape (ny, nx)
        The paper's accumulator: number of strips containing each pixel
        centre; ``mask == (hits == n_measurements)``.
    extent : tuple of float
        ``(xmin, xmax, ymin, ymax)`` of the pixel edges.
    pixel_size : float
        ``beam_width / px_per_beam``.
    count : int
        Pixels in the mask.
    area : float
        ``count * pixel_size**2``.
    centroid : ndarray of shape (2,) or None
        Mean of the masked pixel centres; ``None`` if the mask is empty.
    n_measurements : int
    """

    target: np.ndarray
    mask: np.ndarray
    hits: np.ndarray
    extent: tuple[float, float, float, float]
    pixel_size: float
    count: int
    area: float
    centroid: np.ndarray | None
    n_measurements: int

    @property
    def pixel_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """1-D ``(x, y)`` pixel-centre coordinates of the columns and rows."""
        ny, nx = self.mask.shape
        x = self.extent[0] + (np.arange(nx) + 0.5) * self.pixel_size
        y = self.extent[2] + (np.arange(ny) + 0.5) * self.pixel_size
        return x, y


def superposed_mask(
    geometry: ScanGeometry,
    xs: float,
    ys: float,
    px_per_beam: float = 20,
    extent: tuple[float, float, float, float] | None = None,
) -> RasterRegion:
    """Fully superposed region of ``(xs, ys)`` as a raster (the paper's method).

    Kim, Hayashi & Yabashi (2023), section 4: every strip of the point's
    ``(X, omega)`` list adds +1 to the pixels it lights; the fully superposed
    region is the set of pixels whose sum equals the number of measurements.
    A pixel is lit when the beam profile's weight at its centre is ``> 0``
    (``geometry.profile.lit``; for the box: the centre lies in the closed
    strip ``|d| <= b/2``).

    Parameters
    ----------
    geometry : ScanGeometry
    xs, ys : float
        Target point.
    px_per_beam : float, default 20
        Pixels per beam width, ``>= 1``.  20 reproduces the paper's Fig. 2
        counts (316 px at ``(0, 0)``, 3 px at ``(3, 2)``).
    extent : (xmin, xmax, ymin, ymax), optional
        Window to rasterise; it is snapped outwards to the global grid whose
        pixel edges are multiples of ``beam_width / px_per_beam``.  Default:
        the square ``target +- (support + step/2)`` (``(b + step)/2`` for the
        box) joined with the exact region's bounding box, so the whole region
        is always inside.

    Returns
    -------
    RasterRegion

    Raises
    ------
    ValueError
        For non-finite ``xs``/``ys``, ``px_per_beam < 1``, a bad ``extent``,
        or a raster of more than 5e7 pixels.

    Examples
    --------
    >>> g = ScanGeometry(x_range=10, step=1, omega_deg=range(0, 180, 10))
    >>> superposed_mask(g, 0, 0).count, superposed_mask(g, 3, 2).count
    (316, 3)
    """
    _check_type(geometry, ScanGeometry, "geometry")
    xs_f = _finite_scalar(xs, "xs")
    ys_f = _finite_scalar(ys, "ys")
    ppb = _finite_scalar(px_per_beam, "px_per_beam")
    if ppb < 1:
        raise ValueError(f"px_per_beam must be >= 1, got {px_per_beam!r}")
    b = geometry.beam_width
    profile = geometry.profile
    p = b / ppb
    meas = geometry.measurements(xs_f, ys_f)
    if extent is None:
        h = 0.5 * (2.0 * profile.support(b) + geometry.step)
        x0, x1, y0, y1 = xs_f - h, xs_f + h, ys_f - h, ys_f + h
        reg = superposed_region(geometry, xs_f, ys_f)
        if not reg.is_empty:
            lo, hi = reg.vertices.min(axis=0), reg.vertices.max(axis=0)
            x0, y0 = min(x0, lo[0]), min(y0, lo[1])
            x1, y1 = max(x1, hi[0]), max(y1, hi[1])
    else:
        ext = _finite_array(extent, "extent").ravel()
        if ext.size != 4 or not (ext[0] < ext[1] and ext[2] < ext[3]):
            raise ValueError("extent must be (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax")
        x0, x1, y0, y1 = (float(v) for v in ext)
    i0 = math.floor(x0 / p + _TIE_TOL)
    i1 = math.ceil(x1 / p - _TIE_TOL)
    j0 = math.floor(y0 / p + _TIE_TOL)
    j1 = math.ceil(y1 / p - _TIE_TOL)
    nx, ny = max(i1 - i0, 1), max(j1 - j0, 1)
    if nx * ny > _MAX_RASTER_PIXELS:
        raise ValueError(f"xs/ys, extent and px_per_beam={ppb:g} give a raster of {nx} x {ny} pixels; too large "
                         f"(over {_MAX_RASTER_PIXELS})")
    xc = (i0 + 0.5 + np.arange(nx)) * p
    yc = (j0 + 0.5 + np.arange(ny)) * p
    c, s = _cos_sin_deg(meas.omega_deg)
    hits = np.zeros((ny, nx), dtype=np.int32)
    for ck, sk, Xk in zip(c, s, meas.X):
        u = (xc * ck)[None, :] - (yc * sk)[:, None]
        hits += profile.lit(u - Xk, b)
    n = int(meas.X.size)
    mask = hits == n if n > 0 else np.zeros((ny, nx), dtype=bool)
    count = int(mask.sum())
    if count:
        iy, ix = np.nonzero(mask)
        centroid = np.array([xc[ix].mean(), yc[iy].mean()])
    else:
        centroid = None
    return RasterRegion(
        target=np.array([xs_f, ys_f]),
        mask=mask,
        hits=hits,
        extent=(i0 * p, (i0 + nx) * p, j0 * p, (j0 + ny) * p),
        pixel_size=p,
        count=count,
        area=count * p * p,
        centroid=centroid,
        n_measurements=n,
    )


# ---------------------------------------------------------------------------
# exact polygons, many targets at once
# ---------------------------------------------------------------------------
def _batch_area_centroid(P: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area and centroid of padded polygons ``P`` (A, V, 2) with ``counts``."""
    A, V, _ = P.shape
    if V == 0:
        return np.zeros(A), np.zeros((A, 2))
    idx = np.arange(V)
    valid = idx[None, :] < counts[:, None]
    nxt = np.where(idx[None, :] + 1 < counts[:, None], idx[None, :] + 1, 0)
    Q = np.take_along_axis(P, nxt[:, :, None], axis=1)
    x, y, x1, y1 = P[..., 0], P[..., 1], Q[..., 0], Q[..., 1]
    cross = np.where(valid, x * y1 - x1 * y, 0.0)
    area = 0.5 * cross.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = ((x + x1) * cross).sum(axis=1) / (6.0 * area)
        cy = ((y + y1) * cross).sum(axis=1) / (6.0 * area)
    return area, np.stack([cx, cy], axis=1)


#: Half-planes per measurement list sorted up front by :func:`_batch_regions` (partial selection).
_HEAD = 24


def _sorted_head(slack: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` smallest entries of every row of ``slack``, ascending."""
    m = slack.shape[1]
    if k >= m:
        order = np.argsort(slack, axis=1)
    else:
        part = np.argpartition(slack, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(part, np.argsort(np.take_along_axis(slack, part, axis=1), axis=1), axis=1)
    return order, np.take_along_axis(slack, order, axis=1)


class _LazyTail:
    """The sorted remainder (after the head) of the rows of ``slack``, built on first use.

    Every remaining value is ``>=`` every head value of its row (``argpartition``), so head +
    tail is a full ascending order.  Built once, for the rows asked for at the first call.
    """

    def __init__(self, slack: np.ndarray, head: np.ndarray) -> None:
        self._slack, self._head = slack, head
        self._k = head.shape[1]
        self._row = None

    def _build(self, rows: np.ndarray) -> None:
        sl = self._slack[rows]
        rest = np.ones(sl.shape, dtype=bool)
        np.put_along_axis(rest, self._head[rows], False, axis=1)
        cols = np.nonzero(rest)[1].reshape(rows.size, -1)
        vals = np.take_along_axis(sl, cols, axis=1)
        o = np.argsort(vals, axis=1)
        self._order = np.take_along_axis(cols, o, axis=1)
        self._vals = np.take_along_axis(vals, o, axis=1)
        self._row = np.full(self._slack.shape[0], -1, dtype=np.int64)
        self._row[rows] = np.arange(rows.size)

    def order(self, rows: np.ndarray, j: int) -> np.ndarray:
        if self._row is None:
            self._build(rows)
        return self._order[self._row[rows], j - self._k]

    def slack(self, rows: np.ndarray, j: int) -> np.ndarray:
        if self._row is None:
            self._build(rows)
        return self._vals[self._row[rows], j - self._k]


def _batch_regions(
    geometry: ScanGeometry, tx: np.ndarray, ty: np.ndarray, cancel: Any = None, half_width: float | None = None
) -> dict[str, np.ndarray]:
    """Exact superposed regions of many targets, vectorised over targets.

    Targets with the same measurement list share a region, so each distinct
    list is clipped once.  For every list the 2n half-planes are sorted by
    their slack at the target (tightest first); all polygons are clipped by
    their j-th half-plane at once (padded ``(A, V, 2)`` vertex arrays), and a
    polygon leaves the active set as soon as its remaining half-planes are
    all farther from the target than its farthest vertex (they cannot cut).
    ``cancel`` is polled every 8 half-planes (conventions rule 5).
    ``half_width`` replaces the profile's ``clip_half_width`` (e.g. its
    support, for the sensitivity maps); ``bbox`` is each polygon's bounding
    box ``(xmin, xmax, ymin, ymax)``, NaN where empty.
    """
    b = geometry.beam_width
    h_clip = geometry.profile.clip_half_width(b) if half_width is None else float(half_width)
    n = geometry.n_omega
    c, s = geometry._cos_sin()
    k, present = geometry._scan_indices(tx, ty)  # (T, n) position indices
    n_meas = present.sum(axis=1)
    # distinct measurement lists: hash each row, verify, fall back if needed
    sig = np.where(present, k, geometry.n_positions)
    weights = np.random.default_rng(20231028).integers(1, 2**62, size=n, dtype=np.int64)
    with np.errstate(over="ignore"):
        h = (sig * weights).sum(axis=1)
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if not np.array_equal(sig[first][inverse], sig):  # hash collision
        _, first, inverse = np.unique(sig, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
    U = first.size
    rx, ry = tx[first], ty[first]
    X = geometry.x_positions[k[first]]
    u = rx[:, None] * c[None, :] - ry[:, None] * s[None, :]
    slack = np.empty((U, 2 * n))
    slack[:, 0::2] = X + h_clip - u  # a = +n_k
    slack[:, 1::2] = h_clip - X + u  # a = -n_k
    pres_u = present[first]
    slack[:, 0::2][~pres_u] = np.inf
    slack[:, 1::2][~pres_u] = np.inf
    check_cancel(cancel, "superposition_map")
    # partial selection: only the K tightest half-planes of every list are sorted up front
    # (most polygons leave the active set within a few clips); the rest are sorted lazily,
    # only for the polygons still active at step K (issue 14)
    order, sslack = _sorted_head(slack, min(2 * n, _HEAD))
    tail = _LazyTail(slack, order)
    check_cancel(cancel, "superposition_map")
    # normals of constraint id (2k + side): side 0 -> +n_k, side 1 -> -n_k
    sign = np.tile([1.0, -1.0], n)
    ax_all = np.repeat(c, 2) * sign
    ay_all = -np.repeat(s, 2) * sign

    area_u = np.zeros(U)
    cen_u = np.zeros((U, 2))
    nv_u = np.zeros(U, dtype=np.int64)
    box_u = np.full((U, 4), np.nan)

    # initial polygons: field square, in coordinates relative to the target
    sq = _field_square(geometry)
    P = sq[None, :, :] - np.stack([rx, ry], axis=1)[:, None, :]
    counts = np.where(n_meas[first] > 0, 4, 0)
    act = np.arange(U)

    def finish(sel: np.ndarray) -> None:
        ids = act[sel]
        a_, c_ = _batch_area_centroid(P[sel], counts[sel])
        area_u[ids] = a_
        cen_u[ids] = c_
        nv_u[ids] = counts[sel]
        Ps, cs = P[sel], counts[sel]
        if Ps.shape[1]:
            valid = np.arange(Ps.shape[1])[None, :] < cs[:, None]
            with np.errstate(invalid="ignore"):
                xs_ = np.where(valid, Ps[..., 0], np.nan)
                ys_ = np.where(valid, Ps[..., 1], np.nan)
                has = cs > 0
                bb = np.full((ids.size, 4), np.nan)
                bb[has] = np.stack([np.nanmin(xs_[has], axis=1), np.nanmax(xs_[has], axis=1),
                                    np.nanmin(ys_[has], axis=1), np.nanmax(ys_[has], axis=1)], axis=1)
            box_u[ids] = bb

    for j in range(2 * n + 1):
        if act.size == 0:
            break
        if j % 8 == 7:
            check_cancel(cancel, "superposition_map")
        V = P.shape[1]
        valid = np.arange(V)[None, :] < counts[:, None]
        r2 = np.where(valid, P[..., 0] ** 2 + P[..., 1] ** 2, -1.0).max(axis=1)
        if j == 2 * n:
            done = np.ones(act.size, dtype=bool)
        else:
            sj = sslack[act, j] if j < order.shape[1] else tail.slack(act, j)
            done = (counts == 0) | ((sj >= 0) & (sj * sj >= r2))
        if done.any():
            finish(done)
            keep = ~done
            act, P, counts = act[keep], P[keep], counts[keep]
            if act.size == 0:
                break
            vmax = int(counts.max())
            P = P[:, :vmax]
            V = vmax
        # clip every active polygon by its j-th tightest half-plane
        if j < order.shape[1]:
            cid, cc = order[act, j], sslack[act, j]
        else:
            cid, cc = tail.order(act, j), tail.slack(act, j)
        ax, ay = ax_all[cid], ay_all[cid]
        idx = np.arange(V)
        valid = idx[None, :] < counts[:, None]
        nxt = np.where(idx[None, :] + 1 < counts[:, None], idx[None, :] + 1, 0)
        d = P[..., 0] * ax[:, None] + P[..., 1] * ay[:, None] - cc[:, None]
        dq = np.take_along_axis(d, nxt, axis=1)
        inside = valid & (d <= 0)
        cross = valid & (((d < 0) & (dq > 0)) | ((d > 0) & (dq < 0)))
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(cross, d / (d - dq), 0.0)
        Q = np.take_along_axis(P, nxt[:, :, None], axis=1)
        inter = P + t[:, :, None] * (Q - P)
        cand = np.stack([P, inter], axis=2).reshape(act.size, 2 * V, 2)
        emit = np.stack([inside, cross], axis=2).reshape(act.size, 2 * V)
        new_counts = emit.sum(axis=1)
        pos = np.cumsum(emit, axis=1) - 1
        rows, cols = np.nonzero(emit)
        newP = np.zeros((act.size, max(int(new_counts.max()), 1), 2))
        newP[rows, pos[rows, cols]] = cand[rows, cols]
        P, counts = newP, new_counts

    empty = area_u <= _AREA_TOL * b * b
    area_u[empty] = 0.0
    cen_u[empty] = np.nan
    cen_u[~empty] += np.stack([rx, ry], axis=1)[~empty]
    box_u[empty] = np.nan
    box_u[~empty] += np.repeat(np.stack([rx, ry], axis=1)[~empty], 2, axis=1)
    return {
        "bbox": box_u[inverse],
        "area": area_u[inverse],
        "centroid": cen_u[inverse],
        "n_measurements": n_meas,
        "n_vertices": nv_u[inverse],
        "n_distinct": np.int64(U),
    }
