r"""Grain boundaries of label images: one tracer for phantoms, maps and the forward model.

A label image (a phantom raster, an orientation map's candidate image) is a
grid of square cells; a grain boundary lies on the **edge** between two
4-neighbour cells that belong to different grains.  :func:`boundary_edges`
finds those edges once, and every consumer reads them from the same
:class:`BoundaryEdges`: the phantom's boundary points and the map's
boundary samples of the displacement histogram (Kim, Hayashi & Yabashi
2023, Fig. 6; :mod:`~superres_widgets.s3dxrd.evaluation`), the line
segments drawn over the maps (widgets and the report), and the boundary
cells the forward model tests for illumination
(:meth:`Phantom.boundary_cells <superres_widgets.s3dxrd.Phantom.boundary_cells>`).

Conventions
-----------
Checked in ``tests/test_s3dxrd_boundaries.py``.

1. **Labels.**  ``>= 0``: a grain (phantom) or candidate orientation (map);
   ``-1``: *unassigned* (a map cell where every ``N' = 0``); ``<= -2``: air
   (outside the specimen disc).  Without ``unassigned_differs`` a ``-1`` is
   air too (a phantom's ``-1`` is air).

2. **Which edges are boundaries.**  Two grain cells with labels ``a != b``
   when ``differ[a, b]`` (e.g. their misorientation exceeds the 3 deg
   threshold, :func:`misorientation_differ`); every pair of different labels
   when ``differ`` is ``None``.  With ``unassigned_differs`` an unassigned
   cell differs from every other label that is not air.  Edges to air are
   boundaries only with ``air_differs`` -- then the outside of the raster
   counts as air too (the forward model's boundary cells).

3. **Coordinates.**  Cell centres ``x_centres`` (columns) and ``y_centres``
   (rows, ``ys`` ascending: row 0 is the lowest) with a uniform spacing
   ``a``.  An edge between columns ``j`` and ``j + 1`` of row ``i`` is the
   vertical segment at ``x = (x_j + x_{j+1}) / 2`` from ``y_i - a/2`` to
   ``y_i + a/2``; likewise for rows.

4. **Outputs.**  :meth:`BoundaryEdges.midpoints` -- one point per edge
   (the phantom's boundary points, one per raster edge of length ``a``);
   :meth:`BoundaryEdges.samples` -- every edge sampled every ``<= step``
   including both ends (the reconstructed boundary staircase);
   :meth:`BoundaryEdges.segments` -- collinear neighbouring edges merged
   into ``(x0, y0, x1, y1)`` float32 segments (drawing);
   :meth:`BoundaryEdges.cells` -- the cells on either side of an edge.
   Points are listed vertical edges first (row-major), then horizontal ones.

Examples
--------
>>> import numpy as np
>>> lab = np.array([[0, 0, 1], [0, 0, 1]])
>>> e = boundary_edges(lab, [0.0, 1.0, 2.0], [0.0, 1.0])
>>> e.n_edges, e.segments().tolist()
(2, [[1.5, -0.5, 1.5, 1.5]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .crystal import misorientation_table

__all__ = [
    "BoundaryEdges",
    "boundary_edges",
    "misorientation_differ",
    "phantom_boundary",
    "map_boundary",
    "phantom_boundary_points",
    "boundary_segments",
    "phantom_boundary_segments",
    "map_boundary_segments",
]

_AIR = -2


@dataclass(frozen=True, eq=False)
class BoundaryEdges:
    """The boundary edges of a label image (module conventions 2-4).

    Attributes
    ----------
    across_x : ndarray of bool, (ny, nx - 1)
        Edge between cells ``(i, j)`` and ``(i, j + 1)`` is a boundary.
    across_y : ndarray of bool, (ny - 1, nx)
        Edge between cells ``(i, j)`` and ``(i + 1, j)`` is a boundary.
    x_centres, y_centres : ndarray
        Cell centres of the grid the edges live on.
    spacing : float
        Cell size ``a``.
    pad : int
        1 when the grid was padded by one cell of air (``air_differs``):
        :meth:`cells` removes it again.
    """

    across_x: np.ndarray
    across_y: np.ndarray
    x_centres: np.ndarray
    y_centres: np.ndarray
    spacing: float
    pad: int = 0

    @property
    def n_edges(self) -> int:
        """Number of boundary edges."""
        return int(self.across_x.sum() + self.across_y.sum())

    def cells(self) -> np.ndarray:
        """Cells on either side of a boundary edge, bool ``(ny, nx)`` of the input labels."""
        ny, nx = self.across_y.shape[0] + 1, self.across_x.shape[1] + 1
        mask = np.zeros((ny, nx), dtype=bool)
        mask[:, :-1] |= self.across_x
        mask[:, 1:] |= self.across_x
        mask[:-1, :] |= self.across_y
        mask[1:, :] |= self.across_y
        p = self.pad
        return mask[p : ny - p, p : nx - p] if p else mask

    def midpoints(self) -> np.ndarray:
        """Midpoint of every boundary edge, ``(q, 2)`` (convention 4)."""
        xc, yc = self.x_centres, self.y_centres
        ii, jj = np.nonzero(self.across_x)
        a = np.stack([0.5 * (xc[jj] + xc[jj + 1]), yc[ii]], axis=1)
        ii, jj = np.nonzero(self.across_y)
        b = np.stack([xc[jj], 0.5 * (yc[ii] + yc[ii + 1])], axis=1)
        return np.concatenate([a, b]).reshape(-1, 2)

    def samples(self, step: float) -> np.ndarray:
        """Every edge sampled at ``ceil(a / step) + 1`` equidistant points, ends included, ``(m, 2)``."""
        a = self.spacing
        ns = max(int(math.ceil(a / step - 1e-9)), 1)
        t = (np.arange(ns + 1) / ns - 0.5) * a
        xc, yc = self.x_centres, self.y_centres
        ii, jj = np.nonzero(self.across_x)
        xe = 0.5 * (xc[jj] + xc[jj + 1])
        pa = np.stack([np.repeat(xe, t.size), (yc[ii][:, None] + t[None, :]).ravel()], axis=1)
        ii, jj = np.nonzero(self.across_y)
        ye = 0.5 * (yc[ii] + yc[ii + 1])
        pb = np.stack([(xc[jj][:, None] + t[None, :]).ravel(), np.repeat(ye, t.size)], axis=1)
        return np.concatenate([pa, pb]).reshape(-1, 2)

    def segments(self) -> np.ndarray:
        """Boundary line segments ``(x0, y0, x1, y1)``, collinear neighbours merged, ``(n, 4)`` float32."""
        xc, yc, a = self.x_centres, self.y_centres, self.spacing
        j, i0, i1 = _runs(self.across_x.T)  # vertical lines: runs along the rows
        xe = 0.5 * (xc[j] + xc[j + 1])
        segs = [np.stack([xe, yc[i0] - a / 2, xe, yc[i1] + a / 2], axis=1)]
        i, j0, j1 = _runs(self.across_y)  # horizontal lines: runs along the columns
        ye = 0.5 * (yc[i] + yc[i + 1])
        segs.append(np.stack([xc[j0] - a / 2, ye, xc[j1] + a / 2, ye], axis=1))
        return np.concatenate(segs).astype(np.float32).reshape(-1, 4)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of True along axis 1: (row, first column, last column), row-major order."""
    m = np.asarray(mask, dtype=bool)
    pad = np.zeros((m.shape[0], m.shape[1] + 2), dtype=bool)
    pad[:, 1:-1] = m
    start = pad[:, 1:-1] & ~pad[:, :-2]
    end = pad[:, 1:-1] & ~pad[:, 2:]
    rs, cs = np.nonzero(start)
    _, ce = np.nonzero(end)
    return rs, cs, ce


def _spacing(xc: np.ndarray, yc: np.ndarray) -> float:
    if xc.size > 1:
        return float(xc[1] - xc[0])
    if yc.size > 1:
        return float(yc[1] - yc[0])
    return 1.0


def boundary_edges(
    labels: Any,
    x_centres: Any,
    y_centres: Any,
    differ: Any = None,
    *,
    unassigned_differs: bool = False,
    air_differs: bool = False,
) -> BoundaryEdges:
    """Boundary edges between 4-neighbour cells of a label image (module conventions 1-3).

    Parameters
    ----------
    labels : array_like of int, (ny, nx)
        Convention 1.
    x_centres, y_centres : array_like, (nx,), (ny,)
        Cell centres, uniform spacing.
    differ : array_like of bool (n_labels, n_labels), optional
        Which pairs of grain labels are separated by a boundary; ``None``:
        every pair of different labels.
    unassigned_differs : bool, default False
        ``-1`` is an unassigned cell that differs from every non-air label.
    air_differs : bool, default False
        Edges between air (or the raster's outside) and a non-air cell are
        boundaries.

    Returns
    -------
    BoundaryEdges

    Raises
    ------
    ValueError
        ``labels`` not 2-D, or centres whose lengths do not match it.

    Examples
    --------
    >>> lab = np.array([[0, 1], [-1, 1]])
    >>> boundary_edges(lab, [0, 1], [0, 1]).n_edges
    1
    >>> cells = boundary_edges(lab, [0, 1], [0, 1], air_differs=True).cells()
    >>> (cells & (lab >= 0)).tolist()  # grain cells next to another grain or air
    [[True, True], [False, True]]
    """
    from .conventions import finite_array

    lab = finite_array(labels, "labels")
    if lab.ndim != 2 or lab.size == 0:
        raise ValueError(f"labels must be a 2-D array (non-empty), got shape {lab.shape}")
    if np.any(lab != np.round(lab)):
        raise ValueError("labels must be integers (grain indices, -1 unassigned, < -1 air)")
    xc = finite_array(x_centres, "x_centres").ravel()
    yc = finite_array(y_centres, "y_centres").ravel()
    if xc.size != lab.shape[1] or yc.size != lab.shape[0]:
        raise ValueError(
            f"x_centres/y_centres must have lengths {lab.shape[1]}/{lab.shape[0]} (the columns/rows of labels), "
            f"got {xc.size}/{yc.size}"
        )
    a = _spacing(xc, yc)
    lab = lab.astype(np.int64)
    if not unassigned_differs:
        lab = np.where(lab == -1, _AIR, lab)
    lab = np.where(lab < -1, _AIR, lab)
    pad = 0
    if air_differs:
        pad = 1
        lab = np.pad(lab, 1, constant_values=_AIR)
        xc = np.concatenate([[xc[0] - a], xc, [xc[-1] + a]])
        yc = np.concatenate([[yc[0] - a], yc, [yc[-1] + a]])
    D = None if differ is None else _differ_matrix(differ, int(lab.max(initial=-1)) + 1)

    def diff(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        out = u != v
        if not air_differs:
            out &= (u != _AIR) & (v != _AIR)
        grains = out & (u >= 0) & (v >= 0)
        if D is not None and D.size:
            out[grains] = D[u[grains], v[grains]]
        return out

    return BoundaryEdges(
        across_x=diff(lab[:, :-1], lab[:, 1:]),
        across_y=diff(lab[:-1, :], lab[1:, :]),
        x_centres=xc,
        y_centres=yc,
        spacing=a,
        pad=pad,
    )


def _differ_matrix(differ: Any, n_labels: int) -> np.ndarray:
    """``differ`` as a square bool matrix covering grains ``0 .. n_labels - 1``, or ``ValueError``."""
    try:
        D = np.asarray(differ)
    except (TypeError, ValueError):
        raise ValueError(f"differ must be a square bool matrix, got {repr(differ)[:80]}") from None
    if D.dtype != bool:
        raise ValueError(f"differ must be a square bool matrix (differ[a, b]: grains a and b differ), got dtype "
                         f"{D.dtype}")
    if D.ndim != 2 or D.shape[0] != D.shape[1] or D.shape[0] < n_labels:
        raise ValueError(f"differ must be a square bool matrix of at least {n_labels} x {n_labels} (one row per "
                         f"grain label), got shape {D.shape}")
    return D


def _threshold(value: Any) -> float:
    from ..validate import check_number

    return float(check_number(value, "threshold_deg", lo=0, lo_open=True, hi=180))


def _check(obj: Any, name: str, module: str, cls: str) -> None:
    import importlib

    from .conventions import check_type

    check_type(obj, getattr(importlib.import_module(f"superres_widgets.s3dxrd.{module}"), cls), name, cls)


def misorientation_differ(U: Any, threshold_deg: float = 3.0, symmetry: Any = "cubic") -> np.ndarray:
    """``differ[a, b]``: misorientation of ``U[a]`` and ``U[b]`` above ``threshold_deg``.

    Under the Laue group ``symmetry`` (``"cubic"``, ``"hexagonal"``,
    ``"tetragonal"`` or a phase).

    Examples
    --------
    >>> misorientation_differ(np.stack([np.eye(3), np.eye(3)])).tolist()
    [[False, False], [False, False]]
    """
    from .orientation import _rotations

    threshold_deg = _threshold(threshold_deg)
    if np.size(U) == 0 and np.shape(U)[-2:] in ((), (0,), (3, 3), (0, 3)):
        return np.zeros((0, 0), dtype=bool)
    U = _rotations(U, "U").reshape(-1, 3, 3)
    return misorientation_table(U, U, symmetry) > threshold_deg


def phantom_boundary(phantom, threshold_deg: float = 3.0, symmetry: Any = "cubic") -> BoundaryEdges:
    """Grain-boundary edges of a :class:`~superres_widgets.s3dxrd.Phantom` on its full raster.

    Edges between grains misoriented by more than ``threshold_deg``; edges
    to air are not boundaries (reconstruction rule 7).
    """
    _check(phantom, "phantom", "phantom", "Phantom")
    differ = misorientation_differ(phantom.orientations, threshold_deg, symmetry)
    return boundary_edges(phantom.labels, phantom.x_centres, phantom.y_centres, differ)


def map_boundary(omap, threshold_deg: float = 3.0, symmetry: Any = "cubic") -> BoundaryEdges:
    """Grain-boundary edges of an :class:`~superres_widgets.s3dxrd.OrientationMap`.

    An unassigned cell differs from everything, edges to air (outside the
    disc) are not boundaries (reconstruction rule 7).
    """
    _check(omap, "omap", "nprime", "OrientationMap")
    differ = misorientation_differ(omap.U, threshold_deg, symmetry)
    return boundary_edges(omap.candidate_image, omap.grid_x, omap.grid_y, differ, unassigned_differs=True)


def phantom_boundary_points(phantom, threshold_deg: float = 3.0, symmetry: Any = "cubic") -> np.ndarray:
    """Midpoints of the phantom's grain-boundary edges (reconstruction rule 7), ``(q, 2)`` um.

    Examples
    --------
    >>> from superres_widgets.s3dxrd import phantom_from_labels
    >>> c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    >>> Rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    >>> ph = phantom_from_labels([[0, 1]], 1.0, orientations=[np.eye(3), Rz])
    >>> phantom_boundary_points(ph).tolist()
    [[0.0, 0.0]]
    """
    return phantom_boundary(phantom, threshold_deg, symmetry).midpoints()


def boundary_segments(
    labels: Any,
    x_centres: Any,
    y_centres: Any,
    differ: Any,
    *,
    unassigned_differs: bool = False,
) -> np.ndarray:
    """Grain-boundary segments on the cell edges of a label image, ``(n, 4)`` float32.

    :func:`boundary_edges` then :meth:`BoundaryEdges.segments`: collinear
    neighbouring edges are merged, edges to air are skipped.

    Examples
    --------
    >>> lab = np.array([[0, 1], [0, 1]])
    >>> boundary_segments(lab, [0.0, 2.0], [0.0, 2.0], [[False, True], [True, False]]).tolist()
    [[1.0, -1.0, 1.0, 3.0]]
    """
    return boundary_edges(
        labels, x_centres, y_centres, differ, unassigned_differs=unassigned_differs
    ).segments()


def map_boundary_segments(omap, threshold_deg: float = 3.0) -> np.ndarray:
    """Boundary segments ``(n, 4)`` of an :class:`~superres_widgets.s3dxrd.OrientationMap`."""
    return map_boundary(omap, threshold_deg).segments()


def phantom_boundary_segments(phantom, threshold_deg: float = 3.0) -> np.ndarray:
    """Boundary segments ``(n, 4)`` of a :class:`~superres_widgets.s3dxrd.Phantom` on its full raster."""
    return phantom_boundary(phantom, threshold_deg).segments()
