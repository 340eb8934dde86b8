r"""Polycrystal phantoms for s3DXRD reconstruction (Kim et al. 2023, Fig. 5).

A phantom is one slice of a specimen: a label map on a square raster (one
crystal orientation per grain) in the specimen frame of
:mod:`superres_widgets.s3dxrd.geometry`.

Frames and conventions
----------------------
Checked in ``tests/test_s3dxrd_recon_phantom.py``.

1. **Specimen frame** ``(xs, ys)`` in micrometres, origin on the rotation
   axis (geometry rule 1).  Orientations ``U`` are in the FABLE sample frame
   of :mod:`superres_widgets.s3dxrd.crystal` (rule 3 there).

2. **Raster.**  ``labels[i, j]`` is the cell centred at
   ``(x0 + j p, y0 + i p)`` with ``p = pixel_um``; rows go with ``ys``
   **ascending** (plot with ``origin="lower"``).  The raster is centred on
   the rotation axis: ``x0 = -(nx - 1) p / 2`` and ``y0 = -(ny - 1) p / 2``;
   with an odd size (always for :func:`voronoi_phantom`) the cell centres are
   integer multiples of ``p``, so every sub-pixel target of the geometry
   layer (multiples of ``step / s``) falls on a cell centre when
   ``step / s`` is a multiple of ``p``.  ``extent`` gives the cell *edges*
   ``(xmin, xmax, ymin, ymax)`` for ``imshow``.

3. **Labels**: ``>= 0`` is a grain (row of ``orientations``), ``-1`` is
   outside the specimen (air).

4. **Voronoi phantom.**  A disc of diameter ``diameter_um`` centred on the
   rotation axis; a cell belongs to the disc when its centre has
   ``r <= R``.  ``n_grains`` seeds are drawn uniformly in the disc with a
   numpy ``Generator(seed)``, rejecting seeds closer than
   ``min_seed_distance_um`` to an earlier seed (default
   ``0.5 sqrt(pi R^2 / n_grains)``, which avoids sliver grains); each cell
   takes the label of its nearest seed (ties: lowest label).  Orientations
   are uniform on SO(3) from the same generator (after the seeds) unless
   given.

5. **Point lookup** :meth:`Phantom.label_at`: the label of the cell whose
   centre is nearest (ties towards ``+x``/``+y``), ``-1`` outside the raster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import check_cancel
from .conventions import finite_scalar as _finite
from .conventions import positive_scalar as _positive
from .crystal import check_orientations, random_orientations

__all__ = ["Phantom", "voronoi_phantom", "phantom_from_labels"]


@dataclass(frozen=True, eq=False)
class Phantom:
    """A polycrystal slice: label raster plus one orientation per grain.

    Attributes
    ----------
    labels : ndarray of int32, (ny, nx)
        Grain index per cell, ``-1`` outside the specimen (module rule 3).
    pixel_um : float
        Cell size ``p`` in micrometres.
    orientations : ndarray, (n_grains, 3, 3)
        ``U`` of each grain (crystal module, rule 3).
    radius_um : float
        Specimen radius: ``diameter_um / 2`` for a Voronoi phantom, else the
        largest distance of a specimen cell centre from the axis.
    seeds_um : ndarray (n_grains, 2) or None
        Voronoi seeds ``(xs, ys)``; ``None`` for a user label map.
    """

    labels: np.ndarray
    pixel_um: float
    orientations: np.ndarray
    radius_um: float
    seeds_um: np.ndarray | None = None

    @property
    def n_grains(self) -> int:
        return int(self.orientations.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.labels.shape)  # type: ignore[return-value]

    @property
    def x0_um(self) -> float:
        """``xs`` of the centre of column 0."""
        return -0.5 * (self.labels.shape[1] - 1) * self.pixel_um

    @property
    def y0_um(self) -> float:
        """``ys`` of the centre of row 0."""
        return -0.5 * (self.labels.shape[0] - 1) * self.pixel_um

    @property
    def x_centres(self) -> np.ndarray:
        return self.x0_um + self.pixel_um * np.arange(self.labels.shape[1])

    @property
    def y_centres(self) -> np.ndarray:
        return self.y0_um + self.pixel_um * np.arange(self.labels.shape[0])

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Cell edges ``(xmin, xmax, ymin, ymax)`` (for ``imshow``)."""
        h = 0.5 * self.pixel_um
        xc, yc = self.x_centres, self.y_centres
        return (float(xc[0] - h), float(xc[-1] + h), float(yc[0] - h), float(yc[-1] + h))

    @property
    def specimen_mask(self) -> np.ndarray:
        """Cells inside the specimen (``labels >= 0``)."""
        return self.labels >= 0

    @property
    def grain_areas_um2(self) -> np.ndarray:
        """Area of each grain in square micrometres."""
        lab = self.labels[self.labels >= 0]
        return np.bincount(lab, minlength=self.n_grains) * self.pixel_um**2

    def label_at(self, xs: Any, ys: Any) -> np.ndarray:
        """Grain label at specimen points (module rule 5); ``-1`` outside."""
        xs = np.asarray(xs, dtype=float)
        ys = np.asarray(ys, dtype=float)
        p = self.pixel_um
        j = np.floor((xs - self.x0_um) / p + 0.5 + 1e-9).astype(np.int64)
        i = np.floor((ys - self.y0_um) / p + 0.5 + 1e-9).astype(np.int64)
        ny, nx = self.labels.shape
        ok = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)
        out = np.full(np.broadcast(xs, ys).shape, -1, dtype=np.int64)
        out[ok] = self.labels[i[ok], j[ok]]
        return out

    def boundary_cells(self) -> np.ndarray:
        """Cells of a grain with a 4-neighbour of another label (or air, or the raster's edge).

        The boundary tracer of :func:`~superres_widgets.s3dxrd.boundary_edges`
        with every label change and air counting (``air_differs=True``).
        """
        from .boundaries import boundary_edges

        edges = boundary_edges(self.labels, self.x_centres, self.y_centres, air_differs=True)
        return edges.cells() & (self.labels >= 0)


def _check_pixel(pixel_um: Any) -> float:
    from ..validate import check_positive

    return check_positive(pixel_um, "pixel_um", hi=1e6)


def voronoi_phantom(
    diameter_um: float = 160.0,
    n_grains: int = 40,
    seed: Any = None,
    *,
    pixel_um: float = 0.25,
    orientations: Any = None,
    min_seed_distance_um: float | None = None,
    cancel: Any = None,
) -> Phantom:
    """A disc-shaped Voronoi polycrystal (module rule 4; paper Fig. 5).

    Parameters
    ----------
    diameter_um : float, default 160
        Specimen diameter in micrometres (paper: 160 um), ``> 0``.
    n_grains : int, default 40
        Number of grains, ``>= 1``.
    seed : int, numpy Generator or None
        Seeds both the Voronoi seeds and (if not given) the orientations.
    pixel_um : float, default 0.25
        Raster cell size, ``> 0``.
    orientations : array_like (n_grains, 3, 3), optional
        Grain orientations (proper rotations); default uniform random.
    min_seed_distance_um : float, optional
        Minimum distance between seeds; default
        ``0.5 sqrt(pi R^2 / n_grains)``; ``0`` disables the rejection.
    cancel : threading.Event, callable or None
        Polled between blocks of raster rows (conventions rule 5).

    Returns
    -------
    Phantom

    Raises
    ------
    ValueError
        ``diameter_um <= 0``, ``n_grains < 1``, ``pixel_um <= 0``, bad
        ``orientations`` (each naming the parameter), or seeds that cannot be
        placed with the requested spacing.
    """
    from scipy.spatial import cKDTree

    from ..validate import check_array_bytes, check_int

    D = _positive(diameter_um, "diameter_um")
    n = check_int(n_grains, "n_grains", 1, 100_000)
    p = _check_pixel(pixel_um)
    R = 0.5 * D
    if R / p > 20000:
        raise ValueError(f"pixel_um={pixel_um!r} is too fine for diameter_um={diameter_um!r}")
    if n > max(1.0, math.pi * (R / p) ** 2 / 4):  # a grain needs a few pixels
        raise ValueError(f"n_grains={n} is more than the {math.pi * (R / p) ** 2:.0f} pixels of diameter_um="
                         f"{diameter_um!r} at pixel_um={pixel_um!r} can hold (at least 4 pixels per grain)")
    side = 2 * math.ceil(R / p) + 1
    check_array_bytes((side, side), "voronoi_phantom: the label grid", copies=8)
    if orientations is not None:
        U = check_orientations(orientations, "orientations")
        if U.shape[0] != n:
            raise ValueError(f"orientations must hold n_grains={n} matrices, got {U.shape[0]}")
    dmin = 0.5 * math.sqrt(math.pi * R * R / n) if min_seed_distance_um is None else _finite(
        min_seed_distance_um, "min_seed_distance_um"
    )
    if dmin < 0:
        raise ValueError(f"min_seed_distance_um must be >= 0, got {min_seed_distance_um!r}")
    rng = np.random.default_rng(seed)
    seeds = np.zeros((0, 2))
    tries = 0
    while seeds.shape[0] < n:
        tries += 1
        if tries > 2000:
            raise ValueError(
                f"could not place n_grains={n} seeds at least min_seed_distance_um={dmin:g} apart"
            )
        m = 4 * (n - seeds.shape[0]) + 8
        r = R * np.sqrt(rng.random(m))
        t = 2 * np.pi * rng.random(m)
        cand = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
        for c in cand:
            if seeds.shape[0] >= n:
                break
            if seeds.shape[0] == 0 or dmin == 0 or np.min(np.hypot(*(seeds - c).T)) >= dmin:
                seeds = np.vstack([seeds, c])
    if orientations is None:
        U = random_orientations(n, rng)
    K = int(math.floor(R / p + 1e-9))
    c = p * np.arange(-K, K + 1)
    gx, gy = np.meshgrid(c, c)
    inside = gx * gx + gy * gy <= R * R * (1 + 1e-12)
    labels = np.full(gx.shape, -1, dtype=np.int32)
    tree = cKDTree(seeds)
    rows = max(1, 65536 // gx.shape[1])
    for a in range(0, gx.shape[0], rows):  # blocks of rows: cancellable
        check_cancel(cancel, "voronoi_phantom")
        ins = inside[a : a + rows]
        _, nearest = tree.query(np.stack([gx[a : a + rows][ins], gy[a : a + rows][ins]], axis=1))
        labels[a : a + rows][ins] = nearest.astype(np.int32)
    return Phantom(labels=labels, pixel_um=p, orientations=U, radius_um=R, seeds_um=seeds)


def phantom_from_labels(
    labels: Any,
    pixel_um: float,
    orientations: Any = None,
    seed: Any = None,
) -> Phantom:
    """A phantom from a user label map (module rules 2-3).

    Parameters
    ----------
    labels : array_like of int, (ny, nx)
        Grain index per cell, ``-1`` (or any negative value) for air; grain
        labels must be ``0 .. n-1`` (a label with no cell is allowed but
        keeps its orientation row).
    pixel_um : float
        Cell size in micrometres, ``> 0``.
    orientations : array_like (n, 3, 3), optional
        One proper rotation per label; default uniform random from ``seed``.
    seed : int, numpy Generator or None

    Raises
    ------
    ValueError
        ``labels``: not 2-D integers, or no cell inside the specimen (empty
        phantom); ``pixel_um <= 0``; ``orientations`` of the wrong length or
        not rotations.
    """
    try:
        lab = np.asarray(labels)
    except (TypeError, ValueError):
        raise ValueError(f"labels must be a non-empty 2-D array of integers, got {repr(labels)[:80]}") from None
    if lab.ndim != 2 or lab.size == 0:
        raise ValueError(f"labels must be a non-empty 2-D array, got shape {lab.shape}")
    if not np.issubdtype(lab.dtype, np.integer):
        integral = np.issubdtype(lab.dtype, np.floating) and np.all(np.isfinite(lab))
        if integral and np.all(lab == np.round(lab)):
            lab = lab.astype(np.int64)
        else:
            raise ValueError("labels must be integers (grain index, -1 for air)")
    lab = np.where(lab < 0, -1, lab).astype(np.int32)
    if not np.any(lab >= 0):
        raise ValueError("labels: the phantom is empty (no cell with a grain label >= 0)")
    p = _check_pixel(pixel_um)
    n = int(lab.max()) + 1
    if orientations is None:
        U = random_orientations(n, np.random.default_rng(seed))
    else:
        U = check_orientations(orientations, "orientations")
        if U.shape[0] < n:
            raise ValueError(
                f"orientations must hold {n} matrices (labels go up to {n - 1}), got {U.shape[0]}"
            )
    ny, nx = lab.shape
    x = -0.5 * (nx - 1) * p + p * np.arange(nx)
    y = -0.5 * (ny - 1) * p + p * np.arange(ny)
    gx, gy = np.meshgrid(x, y)
    r = np.sqrt(gx[lab >= 0] ** 2 + gy[lab >= 0] ** 2).max()
    return Phantom(labels=lab, pixel_um=p, orientations=U, radius_um=float(r), seeds_um=None)
