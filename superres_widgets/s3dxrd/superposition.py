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

Many targets at once: :mod:`~superres_widgets.s3dxrd._superposition_batch` (behind
:func:`~superres_widgets.s3dxrd.superposition_map`; issue 14).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .conventions import TIE_TOL as _TIE_TOL
from .conventions import check_type as _check_type
from .conventions import cos_sin_deg as _cos_sin_deg
from .conventions import finite_array as _finite_array
from .conventions import finite_scalar as _finite_scalar
from ._superposition_batch import _AREA_TOL, _field_square
from ._superposition_batch import _batch_regions as _batch_regions  # re-exported: spot_map, sensitivity
from .geometry import Measurements, ScanGeometry

__all__ = [
    "RasterRegion",
    "SuperposedRegion",
    "superposed_mask",
    "superposed_region",
]

#: Largest raster :func:`superposed_mask` builds (pixels).
_MAX_RASTER_PIXELS = 50_000_000


# ---------------------------------------------------------------------------
# exact polygon, one target
# ---------------------------------------------------------------------------
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
