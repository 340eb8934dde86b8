r"""Completeness (N') orientation maps of s3DXRD: conventional vs sub-pixel.

Implements the reconstruction of Kim, Hayashi & Yabashi (2023), section 3
and section 4 (Figs. 5-6): every pixel or sub-pixel ``(xs, ys)`` of the slice
takes its ``(X, omega)`` list (seed eq. (1), from
:mod:`superres_widgets.s3dxrd.geometry`), and among the candidate
orientations the one with the highest completeness

.. math:: N' = N / M

(Hayashi, Hirose & Seno 2015) is chosen, where ``M`` is the number of
diffraction events the candidate predicts in the scanned omega range and
``N`` the number of them observed in the frame ``(X, omega-bin)`` of the
point's list.  The conventional map uses pixels of one step (paper: 4 um),
the sub-pixel map ``subdivision x subdivision`` targets per pixel (paper:
4 x 4, 1 um).  The maps are compared with the phantom: misorientation,
fraction of correct pixels, grain boundaries at 3 deg and the histogram of
the boundary displacement (paper Fig. 6: weighted mean about 0.7 um for a
4 um beam).

Conventions
-----------
Checked in ``tests/test_s3dxrd_reconstruction.py``.

1. **Targets** (geometry rule 8).  The map with ``subdivision = s`` has
   targets ``(m a, n a)``, ``a = step / s``, for all integers ``m, n`` with
   ``r <= R`` (the specimen radius); ``s = 1`` is the conventional map.
   Each target stands for the square cell of side ``a`` centred on it.
   ``grid_index[i, j]`` is the target at ``(grid_x[j], grid_y[i])``, rows
   with ``ys`` ascending (``origin="lower"``), ``-1`` outside the disc.

2. **Measurement list.**  Target ``p`` is seen at bin ``j`` in position
   ``K[p, j] = round_half_away((xs cos w_j - ys sin w_j) / step)`` with
   ``w_j`` the bin centre -- exactly :meth:`ScanGeometry.measurements`
   (geometry rule 4; a test checks the equality point by point).

3. **Observation table.**  For candidate ``c`` and its predicted event
   ``e`` (ring, ``eta_e``, ``omega_e`` in bin ``j_e``), ``obs[e, k]`` is
   true when a peak of a frame at position ``k`` matches it (same ring,
   ``|d eta| <= eta_tol_deg``, ``|d omega| <= omega_tol_deg``; any bin, so
   angular noise across a bin edge is tolerated).

4. **Completeness.**  ``N'[p, c] = (1 / M_c) sum_{e in c} obs[e, K[p, j_e]]``.
   Each predicted event is counted at most once per target however many
   peaks match it ("unique reflections": scanning data see the same
   reflection at many ``X``; at one target it is looked up in one frame
   only).  ``count="reflection"`` (default) counts diffraction events
   ``(hkl, omega solution)`` -- over a 180-deg scan each Friedel pair
   contributes its two events once (crystal rule 7); ``count="hkl"``
   counts distinct ``hkl`` (an ``hkl`` whose two solutions both fall in the
   range is observed if either is).  ``M`` is the number the candidate
   predicts (``expected="predicted"``, the paper) or only those seen in at
   least one frame of the scan (``expected="observed"``: robust to weak
   reflections that are missing everywhere).

5. **Choice.**  The candidate of largest ``N'``; ``-1`` when every ``N'`` is
   0.  Ties (common where a target's fully superposed region straddles a
   boundary: both grains have ``N' = 1``) are broken by ``tie_break``:
   ``"next"`` (default) takes the tied candidate with the larger
   *next-nearest completeness* -- the same sum over the scan position
   second nearest to the target (``K + 1`` if the unrounded position lies
   above ``K``, else ``K - 1``), i.e. on which side of its strip the target
   lies; ``"first"`` takes the lowest candidate index (``numpy.argmax``).
   Orientation per target is the chosen candidate's ``U`` (no per-pixel
   refinement).

6. **Evaluation.**  Misorientation (cubic, crystal rule 9) of each target to
   the phantom grain at the target (phantom rule 5); a target is *correct*
   when it is below ``boundary_threshold_deg`` (3 deg).  ``fraction_correct``
   is over the targets on a specimen cell; ``fraction_correct_interior``
   over those at least ``interior_margin_um`` from every phantom boundary
   point (:func:`reconstruct_phantom`: the beam width; :func:`evaluate_map`
   alone: one scan step).

7. **Boundaries and displacement** (paper Fig. 6).  A grain boundary lies
   on the edge between two 4-neighbour cells (phantom raster, or map cells)
   whose misorientation exceeds ``boundary_threshold_deg`` (an unassigned
   map cell differs from everything); edges to air are not boundaries.
   Phantom boundary *points* are the midpoints of its boundary edges (one
   per raster edge of length ``p``); the reconstructed boundary is the
   staircase of its cell edges, sampled every ``p / 2``.  The displacement
   of a phantom boundary point is its distance to the nearest reconstructed
   boundary sample (``scipy.spatial.cKDTree``).  The paper's "weighted
   average" is the histogram-count-weighted mean of the displacement, i.e.
   the mean over phantom boundary points, each weighted by its boundary
   length ``p`` (uniform): ``mean_displacement_um``.  A perfect map on the
   phantom raster gives 0; the histogram has bins of ``hist_bin_um``.

8. **Chunks and Dask.**  ``N'`` is computed in chunks of ``chunk_size``
   targets; ``backend="dask"`` maps the same chunk function over a
   ``dask.array`` of targets and computes it with ``scheduler`` (``None``:
   Dask's default -- the threaded scheduler, or an active
   ``distributed.Client``).  Both backends give identical maps.

References
----------
.. [1] Kim, Hayashi & Yabashi (2023), J. Synchrotron Rad., sections 3-4.
.. [2] Y. Hayashi, Y. Hirose & Y. Seno (2015), J. Appl. Cryst. 48, 1094-1101
   (the completeness factor in scanning 3DXRD).
.. [3] H. F. Poulsen (2004), Three-Dimensional X-ray Diffraction Microscopy.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .crystal import (
    CubicPhase,
    PredictedReflections,
    _finite,
    _positive,
    check_orientations,
    misorientation_table,
    predict_reflections,
)
from .geometry import _round_half_away
from .forward import ScanData, Simulation, cos_sin_deg, simulate_scan
from .geometry import Measurements, ScanGeometry
from .indexing import IndexingResult, index_peaks, match_peaks, orientations_from_grain_file
from .phantom import Phantom, phantom_from_labels, voronoi_phantom

__all__ = [
    "ObservationTable",
    "OrientationMap",
    "MapEvaluation",
    "PhantomReconstruction",
    "PixelCompleteness",
    "observation_table",
    "scan_indices",
    "completeness",
    "map_targets",
    "orientation_map",
    "evaluate_map",
    "phantom_boundary_points",
    "reconstruct_phantom",
    "completeness_at",
]

_TIE = 1e-9


# ---------------------------------------------------------------------------
# measurement lists, vectorised (module rule 2)
# ---------------------------------------------------------------------------
def scan_indices(geometry: ScanGeometry, xs: Any, ys: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scan-position index of many points at every angle (module rule 2).

    Parameters
    ----------
    geometry : ScanGeometry
    xs, ys : array_like, (n,)

    Returns
    -------
    k : ndarray of int32, (n, n_omega)
        Index into ``geometry.x_positions`` (``k_max`` added to the signed
        index), clipped to the scan.
    ok : ndarray of bool, (n, n_omega)
        The rounded position was scanned (else the measurement is absent).
    k2 : ndarray of int32, (n, n_omega)
        The next-nearest position (module rule 5), clipped to the scan.
    """
    return _scan_indices_raw(geometry.omega_deg, geometry.step, geometry.k_max, xs, ys)


def _scan_indices_raw(
    omega_deg: np.ndarray, step: float, kmax: int, xs: Any, ys: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs = np.asarray(xs, dtype=float).ravel()
    ys = np.asarray(ys, dtype=float).ravel()
    c, s = cos_sin_deg(omega_deg)
    q = (np.multiply.outer(xs, c) - np.multiply.outer(ys, s)) / step
    ks = _round_half_away(q).astype(float)  # the geometry layer's rule 4, one implementation
    ok = np.abs(ks) <= kmax
    k2 = ks + np.where(q >= ks, 1.0, -1.0)
    k = np.clip(ks + kmax, 0, 2 * kmax).astype(np.int32)
    k2 = np.clip(k2 + kmax, 0, 2 * kmax).astype(np.int32)
    return k, ok, k2


# ---------------------------------------------------------------------------
# observation table (module rule 3)
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ObservationTable:
    """Which predicted event of which candidate is seen at which position.

    Attributes
    ----------
    U : ndarray, (n_c, 3, 3)
        Candidate orientations.
    events : PredictedReflections
        Predicted events of every candidate in the scanned range, grouped by
        candidate.
    j : ndarray of int, (m,)
        Omega bin of each event.
    observed : ndarray of bool, (m, n_positions)
        ``obs[e, k]`` of module rule 3.
    group : ndarray of int, (m,)
        Index of the ``(candidate, hkl)`` of each event.
    group_offsets : ndarray of int
        Start event of each group (plus the end).
    n_groups_per_candidate : ndarray of int, (n_c,)
    eta_tol_deg, omega_tol_deg : float

    Notes
    -----
    ``n_expected(count, expected)`` gives ``M`` per candidate (rule 4).
    """

    U: np.ndarray
    events: PredictedReflections
    j: np.ndarray
    observed: np.ndarray
    group: np.ndarray
    group_offsets: np.ndarray
    n_groups_per_candidate: np.ndarray
    eta_tol_deg: float
    omega_tol_deg: float

    @property
    def n_candidates(self) -> int:
        return int(self.U.shape[0])

    @property
    def n_events(self) -> int:
        return int(self.j.size)

    def n_expected(self, count: str = "reflection", expected: str = "predicted") -> np.ndarray:
        """``M`` per candidate for ``count`` and ``expected`` (module rule 4)."""
        n_c = self.n_candidates
        if expected == "predicted":
            if count == "reflection":
                return self.events.counts.copy()
            return self.n_groups_per_candidate.copy()
        seen = self.observed.any(axis=1)
        if count == "reflection":
            return np.bincount(self.events.orientation[seen], minlength=n_c).astype(np.int64)
        gseen = np.maximum.reduceat(seen, self.group_offsets[:-1]) if seen.size else seen
        gcand = self.events.orientation[self.group_offsets[:-1]]
        return np.bincount(gcand[gseen], minlength=n_c).astype(np.int64)


def observation_table(
    data: ScanData, candidates: Any, *, eta_tol_deg: float = 0.5, omega_tol_deg: float = 0.5
) -> ObservationTable:
    """Build ``obs[e, k]`` for every candidate's events (module rule 3).

    Parameters
    ----------
    data : ScanData
    candidates : array_like, (n_c, 3, 3)
        Proper rotations; ``ValueError`` naming ``candidates`` when empty or
        not orthonormal.
    eta_tol_deg, omega_tol_deg : float, default 0.5
    """
    U = check_orientations(candidates, "candidates")
    te = _positive(eta_tol_deg, "eta_tol_deg")
    tw = _positive(omega_tol_deg, "omega_tol_deg")
    ev = predict_reflections(U, data.reflections, data.omega_start_deg, data.omega_range_deg)
    j = np.floor((ev.omega_deg - data.omega_start_deg) / data.omega_step_deg).astype(np.int64)
    j = np.clip(j, 0, data.n_bins - 1)
    nk = data.n_positions
    obs = np.zeros((ev.n_events, nk), dtype=bool)
    pi, oi = match_peaks(ev.ring, ev.eta_deg, ev.omega_deg, data.ring, data.eta_deg, data.omega_deg, te, tw)
    obs[pi, data.k[oi]] = True
    # groups of (candidate, hkl): contiguous because events are ordered so
    key = ev.orientation * (data.reflections.n_reflections + 1) + ev.hkl_index
    new = np.ones(key.size, dtype=bool)
    new[1:] = key[1:] != key[:-1]
    group = np.cumsum(new) - 1
    goff = np.concatenate([np.nonzero(new)[0], [key.size]]).astype(np.int64)
    gcand = ev.orientation[goff[:-1]] if key.size else np.zeros(0, dtype=np.int64)
    ngc = np.bincount(gcand, minlength=U.shape[0]).astype(np.int64)
    return ObservationTable(
        U=U,
        events=ev,
        j=j,
        observed=obs,
        group=group.astype(np.int64),
        group_offsets=goff,
        n_groups_per_candidate=ngc,
        eta_tol_deg=te,
        omega_tol_deg=tw,
    )


# ---------------------------------------------------------------------------
# completeness, chunked (module rules 4, 8)
# ---------------------------------------------------------------------------
def _indicator(owner: np.ndarray, n: int) -> np.ndarray:
    ind = np.zeros((owner.size, n), dtype=np.float32)
    ind[np.arange(owner.size), owner] = 1.0
    return ind


class _ChunkKernel:
    """N' (and next-nearest N') of a chunk of targets; picklable for Dask."""

    def __init__(
        self,
        table: ObservationTable,
        geometry: ScanGeometry,
        count: str,
        want_next: bool,
        expected: str = "predicted",
    ):
        # plain arrays only, so that the kernel pickles (Dask processes /
        # distributed workers)
        self.omega_deg = np.asarray(geometry.omega_deg, dtype=float)
        self.step = float(geometry.step)
        self.kmax = int(geometry.k_max)
        self.count = count
        self.want_next = want_next
        nk = table.observed.shape[1]
        self.nk = nk
        self.j = table.j.astype(np.int64)
        itype = np.int32 if table.n_events * nk < 2**31 - 1 else np.int64
        self.base = np.arange(table.n_events, dtype=itype) * itype(nk)
        self.obs_flat = table.observed.ravel()
        n_c = table.n_candidates
        M = table.n_expected(count, expected)
        if count == "reflection":
            self.ind = _indicator(table.events.orientation, n_c)
        else:
            self.ind = _indicator(table.events.orientation[table.group_offsets[:-1]], n_c)
        self.goff = table.group_offsets[:-1]
        with np.errstate(divide="ignore"):
            self.invM = np.where(M > 0, 1.0 / np.maximum(M, 1), 0.0)

    def _sum(self, K: np.ndarray, ok: np.ndarray) -> np.ndarray:
        idx = K[:, self.j].astype(self.base.dtype, copy=False) + self.base  # (p, m)
        val = self.obs_flat[idx] & ok[:, self.j]
        if self.count == "hkl" and val.shape[1]:
            val = np.maximum.reduceat(val, self.goff, axis=1)
        return (val.astype(np.float32) @ self.ind).astype(np.float64) * self.invM

    def __call__(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """``[N'(p, c) for c] + [chosen candidate]``, shape (p, n_c + 1)."""
        xs = np.asarray(xs, dtype=float)
        ys = np.asarray(ys, dtype=float)
        K, ok, K2 = _scan_indices_raw(self.omega_deg, self.step, self.kmax, xs, ys)
        n1 = self._sum(K, ok)
        n2 = None
        if self.want_next and n1.shape[1] > 1:
            best = n1.max(axis=1, keepdims=True)
            tied = np.nonzero(((n1 >= best - 1e-12).sum(axis=1) > 1) & (best[:, 0] > 0))[0]
            n2 = np.zeros_like(n1)
            if tied.size:
                n2[tied] = self._sum(K2[tied], ok[tied])
        pick = _choose(n1, n2)
        return np.concatenate([n1, pick[:, None].astype(float)], axis=1)

    def next_completeness(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Next-nearest completeness (module rule 5), shape (p, n_c)."""
        K, ok, K2 = _scan_indices_raw(self.omega_deg, self.step, self.kmax, xs, ys)
        return self._sum(K2, ok)


def _check_expected(expected: str) -> None:
    if expected not in ("predicted", "observed"):
        raise ValueError(f"expected must be 'predicted' or 'observed', got {expected!r}")


def _check_backend(backend: str) -> None:
    if backend not in ("numpy", "dask"):
        raise ValueError(f"backend must be 'numpy' or 'dask', got {backend!r}")


def _run_chunks(
    kernel: _ChunkKernel,
    xs: np.ndarray,
    ys: np.ndarray,
    width: int,
    chunk_size: int,
    backend: str,
    scheduler: Any,
) -> np.ndarray:
    n = xs.size
    if backend == "numpy":
        out = np.empty((n, width))
        for a in range(0, n, chunk_size):
            out[a : a + chunk_size] = kernel(xs[a : a + chunk_size], ys[a : a + chunk_size])
        return out
    import dask.array as da

    xd = da.from_array(xs, chunks=chunk_size)
    yd = da.from_array(ys, chunks=chunk_size)
    res = da.map_blocks(
        kernel,
        xd,
        yd,
        dtype=float,
        chunks=(xd.chunks[0], (width,)),
        new_axis=1,
        meta=np.empty((0, width)),
    )
    return np.asarray(res.compute(scheduler=scheduler))


def completeness(
    table: ObservationTable,
    geometry: ScanGeometry,
    xs: Any,
    ys: Any,
    *,
    count: str = "reflection",
    expected: str = "predicted",
    chunk_size: int = 1024,
    backend: str = "numpy",
    scheduler: Any = None,
) -> np.ndarray:
    """``N'[p, c]`` of targets ``(xs, ys)`` for every candidate (rule 4).

    Parameters
    ----------
    table : ObservationTable
    geometry : ScanGeometry
        The scan's geometry (``ScanData.geometry``).
    xs, ys : array_like, (n,)
    count : {"reflection", "hkl"}
    expected : {"predicted", "observed"}
        ``M`` of module rule 4.
    chunk_size : int, default 1024
    backend : {"numpy", "dask"}
    scheduler : optional
        Dask scheduler for ``backend="dask"`` (module rule 8).

    Returns
    -------
    ndarray, (n, n_candidates)
    """
    if count not in ("reflection", "hkl"):
        raise ValueError(f"count must be 'reflection' or 'hkl', got {count!r}")
    _check_backend(backend)
    cs = int(chunk_size)
    if cs < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size!r}")
    xs = np.asarray(xs, dtype=float).ravel()
    ys = np.asarray(ys, dtype=float).ravel()
    _check_expected(expected)
    kern = _ChunkKernel(table, geometry, count, False, expected)
    return _run_chunks(kern, xs, ys, table.n_candidates + 1, cs, backend, scheduler)[:, :-1]


def _choose(n1: np.ndarray, n2: np.ndarray | None) -> np.ndarray:
    if n1.shape[1] == 0:
        return np.full(n1.shape[0], -1, dtype=np.int64)
    best = n1.max(axis=1)
    if n2 is None:
        pick = np.argmax(n1, axis=1)
    else:
        tied = n1 >= best[:, None] - 1e-12
        pick = np.argmax(np.where(tied, n2, -1.0), axis=1)
    return np.where(best > 0, pick, -1).astype(np.int64)


# ---------------------------------------------------------------------------
# maps
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MapEvaluation:
    """Comparison of an :class:`OrientationMap` with the phantom (rules 6-7).

    Attributes
    ----------
    threshold_deg : float
        Boundary and correctness threshold (3 deg).
    phantom_label : ndarray of int, (n,)
        Phantom grain at each target (``-1``: air).
    misorientation_deg : ndarray, (n,)
        Cubic misorientation to the phantom grain; NaN for air or an
        unassigned target.
    correct : ndarray of bool, (n,)
    interior : ndarray of bool, (n,)
        Targets at least ``interior_margin_um`` from the phantom boundary.
    interior_margin_um : float
    fraction_correct, fraction_correct_interior : float
    area_fraction_correct : float
        Fraction of the phantom's specimen cells whose map cell (the target
        nearest to the cell centre, ties towards ``+x``/``+y``) has the
        right orientation: the area-weighted score, which penalises coarse
        pixels that straddle grains.
    grains_present : int
        Phantom grains with at least one correct target in the map.
    boundary_mask : ndarray of bool, (ny, nx)
        Map cells with a boundary edge (display).
    boundary_points_um : ndarray, (m, 2)
        Samples of the reconstructed boundary staircase.
    phantom_boundary_points_um : ndarray, (q, 2)
    displacement_um : ndarray, (q,)
        Distance of each phantom boundary point to the reconstructed
        boundary (``inf`` if the map has none).
    hist_edges : ndarray, (nb + 1,)
    hist_counts : ndarray of int, (nb,)
    mean_displacement_um : float
        The paper's weighted mean (rule 7).
    median_displacement_um, max_displacement_um : float
    ideal_mean_displacement_um : float
        The same mean for the *ideal* map on this grid (every target given
        its phantom grain): the floor set by the grid alone.
    """

    threshold_deg: float
    phantom_label: np.ndarray
    misorientation_deg: np.ndarray
    correct: np.ndarray
    interior: np.ndarray
    interior_margin_um: float
    fraction_correct: float
    fraction_correct_interior: float
    area_fraction_correct: float
    grains_present: int
    boundary_mask: np.ndarray
    boundary_points_um: np.ndarray
    phantom_boundary_points_um: np.ndarray
    displacement_um: np.ndarray
    hist_edges: np.ndarray
    hist_counts: np.ndarray
    mean_displacement_um: float
    median_displacement_um: float
    max_displacement_um: float
    ideal_mean_displacement_um: float


@dataclass(frozen=True, eq=False)
class OrientationMap:
    """An N' orientation map (module rules 1, 4-5).

    Attributes
    ----------
    subdivision : int
        1 for the conventional map.
    spacing_um : float
        Target spacing ``step / subdivision``.
    xs, ys : ndarray, (n,)
        Targets (row-major, ``ys`` outer).
    grid_x, grid_y : ndarray
    grid_index : ndarray of int, (ny, nx)
    candidate : ndarray of int, (n,)
        Chosen candidate (``-1``: no candidate has ``N' > 0``).
    completeness : ndarray, (n,)
        ``N'`` of the chosen candidate.
    n_prime : ndarray, (n, n_c)
        ``N'`` of every candidate.
    U : ndarray, (n_c, 3, 3)
        Candidate orientations.
    count, tie_break, expected : str
        Module rules 4-5.
    evaluation : MapEvaluation or None
    """

    subdivision: int
    spacing_um: float
    xs: np.ndarray
    ys: np.ndarray
    grid_x: np.ndarray
    grid_y: np.ndarray
    grid_index: np.ndarray
    candidate: np.ndarray
    completeness: np.ndarray
    n_prime: np.ndarray
    U: np.ndarray
    count: str
    tie_break: str
    expected: str = "predicted"
    evaluation: MapEvaluation | None = None

    @property
    def n_targets(self) -> int:
        return int(self.xs.size)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Cell edges ``(xmin, xmax, ymin, ymax)`` of the grid images."""
        h = 0.5 * self.spacing_um
        return (
            float(self.grid_x[0] - h),
            float(self.grid_x[-1] + h),
            float(self.grid_y[0] - h),
            float(self.grid_y[-1] + h),
        )

    @property
    def orientation(self) -> np.ndarray:
        """``U`` per target, NaN where unassigned, shape (n, 3, 3)."""
        out = np.full((self.n_targets, 3, 3), np.nan)
        ok = self.candidate >= 0
        out[ok] = self.U[self.candidate[ok]]
        return out

    def to_image(self, values: Any, fill: float = np.nan) -> np.ndarray:
        """Scatter a per-target array on the grid (rows: ``ys`` ascending)."""
        v = np.asarray(values)
        if v.shape[:1] != (self.n_targets,):
            raise ValueError(f"values must have length {self.n_targets}, got shape {v.shape}")
        dtype = np.result_type(v.dtype, np.asarray(fill).dtype)
        img = np.full(self.grid_index.shape + v.shape[1:], fill, dtype=dtype)
        inside = self.grid_index >= 0
        img[inside] = v[self.grid_index[inside]]
        return img

    @property
    def candidate_image(self) -> np.ndarray:
        """Candidate per cell, ``-1`` unassigned, ``-2`` outside the disc."""
        img = np.full(self.grid_index.shape, -2, dtype=np.int64)
        inside = self.grid_index >= 0
        img[inside] = self.candidate[self.grid_index[inside]]
        return img

    @property
    def mean_displacement_um(self) -> float:
        """Weighted mean boundary displacement (needs an evaluation)."""
        return float("nan") if self.evaluation is None else self.evaluation.mean_displacement_um

    @property
    def fraction_correct(self) -> float:
        """Fraction of correct targets (needs an evaluation)."""
        return float("nan") if self.evaluation is None else self.evaluation.fraction_correct


def _check_subdivision(subdivision: Any) -> int:
    if isinstance(subdivision, (bool, np.bool_)):
        raise ValueError(f"subdivision must be an integer >= 1, got {subdivision!r}")
    try:
        s = int(subdivision)
    except (TypeError, ValueError):
        raise ValueError(f"subdivision must be an integer >= 1, got {subdivision!r}") from None
    if s != subdivision or s < 1:
        raise ValueError(f"subdivision must be an integer >= 1, got {subdivision!r}")
    return s


def map_targets(step_um: float, subdivision: int, radius_um: float):
    """Targets of a map (module rule 1): ``xs, ys, grid_x, grid_y, grid_index``."""
    s = _check_subdivision(subdivision)
    a = _positive(step_um, "step_um") / s
    R = _positive(radius_um, "radius_um")
    K = int(math.floor(R / a + _TIE))
    ticks = a * np.arange(-K, K + 1)
    gx, gy = np.meshgrid(ticks, ticks)
    inside = gx * gx + gy * gy <= R * R * (1 + 1e-12)
    grid_index = np.full(gx.shape, -1, dtype=np.int64)
    grid_index[inside] = np.arange(int(inside.sum()))
    return gx[inside], gy[inside], ticks.copy(), ticks.copy(), grid_index


def orientation_map(
    data: ScanData,
    table: ObservationTable,
    subdivision: int = 4,
    radius_um: float | None = None,
    *,
    count: str = "reflection",
    expected: str = "predicted",
    tie_break: str = "next",
    chunk_size: int = 1024,
    backend: str = "numpy",
    scheduler: Any = None,
) -> OrientationMap:
    """The N' orientation map of a slice (module rules 1, 4, 5, 8).

    Parameters
    ----------
    data : ScanData
    table : ObservationTable
        From :func:`observation_table` on the same data.
    subdivision : int, default 4
        ``>= 1``; 1 gives the conventional map (pixel = step).
    radius_um : float, optional
        Specimen radius; default ``x_range - step/2`` of the scan.
    count : {"reflection", "hkl"}
    expected : {"predicted", "observed"}
        ``M`` of module rule 4.
    tie_break : {"next", "first"}
    chunk_size : int, default 1024
    backend : {"numpy", "dask"}
    scheduler : optional

    Returns
    -------
    OrientationMap
    """
    s = _check_subdivision(subdivision)
    if count not in ("reflection", "hkl"):
        raise ValueError(f"count must be 'reflection' or 'hkl', got {count!r}")
    if tie_break not in ("next", "first"):
        raise ValueError(f"tie_break must be 'next' or 'first', got {tie_break!r}")
    _check_backend(backend)
    cs = int(chunk_size)
    if cs < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size!r}")
    geom = data.geometry
    R = geom.x_range - 0.5 * geom.step if radius_um is None else _positive(radius_um, "radius_um")
    xs, ys, gxt, gyt, gidx = map_targets(geom.step, s, R)
    _check_expected(expected)
    kern = _ChunkKernel(table, geom, count, tie_break == "next", expected)
    nc = table.n_candidates
    out = _run_chunks(kern, xs, ys, nc + 1, cs, backend, scheduler)
    n1 = out[:, :nc]
    cand = out[:, nc].astype(np.int64)
    comp = np.where(cand >= 0, n1[np.arange(xs.size), np.maximum(cand, 0)], 0.0)
    return OrientationMap(
        subdivision=s,
        spacing_um=geom.step / s,
        xs=xs,
        ys=ys,
        grid_x=gxt,
        grid_y=gyt,
        grid_index=gidx,
        candidate=cand,
        completeness=comp,
        n_prime=n1,
        U=table.U,
        count=count,
        tie_break=tie_break,
        expected=expected,
    )


# ---------------------------------------------------------------------------
# evaluation (module rules 6-7)
# ---------------------------------------------------------------------------
def phantom_boundary_points(phantom: Phantom, threshold_deg: float = 3.0) -> np.ndarray:
    """Midpoints of the phantom's grain-boundary edges (module rule 7), (q, 2)."""
    lab = phantom.labels
    mis = misorientation_table(phantom.orientations, phantom.orientations) > threshold_deg
    pts = []
    p = phantom.pixel_um
    x0, y0 = phantom.x0_um, phantom.y0_um
    # horizontal neighbours (i, j) - (i, j+1)
    a, b = lab[:, :-1], lab[:, 1:]
    m = (a >= 0) & (b >= 0)
    m[m] = mis[a[m], b[m]]
    ii, jj = np.nonzero(m)
    pts.append(np.stack([x0 + (jj + 0.5) * p, y0 + ii * p], axis=1))
    a, b = lab[:-1, :], lab[1:, :]
    m = (a >= 0) & (b >= 0)
    m[m] = mis[a[m], b[m]]
    ii, jj = np.nonzero(m)
    pts.append(np.stack([x0 + jj * p, y0 + (ii + 0.5) * p], axis=1))
    return np.concatenate(pts)


def _map_boundary(
    omap: OrientationMap, threshold_deg: float, sample_um: float
) -> tuple[np.ndarray, np.ndarray]:
    img = omap.candidate_image  # -2 outside, -1 unassigned
    nc = omap.U.shape[0]
    mis = misorientation_table(omap.U, omap.U) > threshold_deg if nc else np.zeros((0, 0), bool)
    a_um = omap.spacing_um
    ns = max(int(math.ceil(a_um / sample_um - 1e-9)), 1)
    t = (np.arange(ns + 1) / ns - 0.5) * a_um
    mask = np.zeros(img.shape, dtype=bool)
    pts = []

    def differ(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        both = (u >= -1) & (v >= -1)
        d = both & (u != v)
        assigned = d & (u >= 0) & (v >= 0)
        d[assigned] = mis[u[assigned], v[assigned]]
        return d

    gx, gy = omap.grid_x, omap.grid_y
    d = differ(img[:, :-1], img[:, 1:])
    ii, jj = np.nonzero(d)
    mask[ii, jj] = True
    mask[ii, jj + 1] = True
    xe = 0.5 * (gx[jj] + gx[jj + 1])
    pts.append(np.stack([np.repeat(xe, t.size), (gy[ii][:, None] + t[None, :]).ravel()], axis=1))
    d = differ(img[:-1, :], img[1:, :])
    ii, jj = np.nonzero(d)
    mask[ii, jj] = True
    mask[ii + 1, jj] = True
    ye = 0.5 * (gy[ii] + gy[ii + 1])
    pts.append(np.stack([(gx[jj][:, None] + t[None, :]).ravel(), np.repeat(ye, t.size)], axis=1))
    P = np.concatenate(pts) if pts else np.zeros((0, 2))
    return mask, P


def evaluate_map(
    omap: OrientationMap,
    phantom: Phantom,
    *,
    threshold_deg: float = 3.0,
    hist_bin_um: float = 0.25,
    interior_margin_um: float | None = None,
    phantom_points: np.ndarray | None = None,
) -> OrientationMap:
    """Compare a map with its phantom (module rules 6-7).

    Parameters
    ----------
    omap : OrientationMap
    phantom : Phantom
    threshold_deg : float, default 3
        Boundary and correctness threshold (paper: 3 deg).
    hist_bin_um : float, default 0.25
        Displacement histogram bin width.
    interior_margin_um : float, optional
        Distance from the phantom boundary of "interior" targets; default
        the target spacing times the subdivision (one step = the beam in the
        paper's setup).
    phantom_points : ndarray, optional
        Precomputed :func:`phantom_boundary_points`.

    Returns
    -------
    OrientationMap
        A copy of ``omap`` with ``evaluation`` set.
    """
    from scipy.spatial import cKDTree

    thr = _positive(threshold_deg, "threshold_deg")
    bw = _positive(hist_bin_um, "hist_bin_um")
    margin = omap.spacing_um * omap.subdivision if interior_margin_um is None else _finite(
        interior_margin_um, "interior_margin_um"
    )
    plab = phantom.label_at(omap.xs, omap.ys)
    nc = omap.U.shape[0]
    mt = misorientation_table(omap.U, phantom.orientations) if nc else np.zeros((0, phantom.n_grains))
    ok = (plab >= 0) & (omap.candidate >= 0)
    mis = np.full(omap.n_targets, np.nan)
    mis[ok] = mt[omap.candidate[ok], plab[ok]]
    correct = ok & (mis < thr)
    on = plab >= 0
    frac = float(correct[on].mean()) if on.any() else float("nan")
    ppts = phantom_boundary_points(phantom, thr) if phantom_points is None else phantom_points
    if ppts.shape[0]:
        dist_t, _ = cKDTree(ppts).query(np.stack([omap.xs, omap.ys], axis=1))
    else:
        dist_t = np.full(omap.n_targets, np.inf)
    interior = on & (dist_t >= margin)
    frac_in = float(correct[interior].mean()) if interior.any() else float("nan")
    present = np.unique(plab[correct]).size
    # area-weighted: every phantom specimen cell looks up its map cell
    pi_, pj_ = np.nonzero(phantom.labels >= 0)
    px = phantom.x0_um + pj_ * phantom.pixel_um
    py = phantom.y0_um + pi_ * phantom.pixel_um
    a_um = omap.spacing_um
    gj = np.floor((px - omap.grid_x[0]) / a_um + 0.5 + 1e-9).astype(np.int64)
    gi = np.floor((py - omap.grid_y[0]) / a_um + 0.5 + 1e-9).astype(np.int64)
    inb = (gj >= 0) & (gj < omap.grid_x.size) & (gi >= 0) & (gi < omap.grid_y.size)
    tgt = np.full(px.size, -1, dtype=np.int64)
    tgt[inb] = omap.grid_index[gi[inb], gj[inb]]
    cand_at = np.where(tgt >= 0, omap.candidate[np.maximum(tgt, 0)], -1)
    glab = phantom.labels[pi_, pj_]
    good = cand_at >= 0
    area_ok = np.zeros(px.size, dtype=bool)
    area_ok[good] = mt[cand_at[good], glab[good]] < thr
    area_frac = float(area_ok.mean()) if area_ok.size else float("nan")
    mask, rpts = _map_boundary(omap, thr, 0.5 * phantom.pixel_um)
    if ppts.shape[0] and rpts.shape[0]:
        disp, _ = cKDTree(rpts).query(ppts)
    else:
        disp = np.full(ppts.shape[0], np.inf)
    ideal = dataclasses.replace(omap, candidate=np.where(plab >= 0, plab, -1), U=phantom.orientations)
    _, ipts = _map_boundary(ideal, thr, 0.5 * phantom.pixel_um)
    if ppts.shape[0] and ipts.shape[0]:
        idisp, _ = cKDTree(ipts).query(ppts)
        ideal_mean = float(idisp.mean())
    else:
        ideal_mean = float("nan") if ppts.shape[0] == 0 else float("inf")
    finite = disp[np.isfinite(disp)]
    top = float(finite.max()) if finite.size else 0.0
    nb = max(int(math.ceil(top / bw - 1e-9)), 1)
    if finite.size and nb * bw <= top:
        nb += 1
    edges = bw * np.arange(nb + 1)
    counts, _ = np.histogram(finite, bins=edges)
    ev = MapEvaluation(
        threshold_deg=thr,
        phantom_label=plab,
        misorientation_deg=mis,
        correct=correct,
        interior=interior,
        interior_margin_um=float(margin),
        fraction_correct=frac,
        fraction_correct_interior=frac_in,
        area_fraction_correct=area_frac,
        grains_present=int(present),
        boundary_mask=mask,
        boundary_points_um=rpts,
        phantom_boundary_points_um=ppts,
        displacement_um=disp,
        hist_edges=edges,
        hist_counts=counts.astype(np.int64),
        mean_displacement_um=float(disp.mean()) if disp.size else float("nan"),
        median_displacement_um=float(np.median(disp)) if disp.size else float("nan"),
        max_displacement_um=float(disp.max()) if disp.size else float("nan"),
        ideal_mean_displacement_um=ideal_mean,
    )
    return dataclasses.replace(omap, evaluation=ev)


# ---------------------------------------------------------------------------
# the whole pipeline
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PhantomReconstruction:
    """Everything :func:`reconstruct_phantom` computed.

    Attributes
    ----------
    phantom : Phantom
    simulation : Simulation
        ``.data`` (the peaks, no grain identity) and ``.truth``.
    indexing : IndexingResult or None
        ``None`` when the candidates were given.
    candidates : ndarray, (n_c, 3, 3)
    candidate_source : str
        ``"indexing"``, ``"user"`` or the grain file path.
    table : ObservationTable
    conventional, subpixel : OrientationMap
        Evaluated maps (``.mean_displacement_um``, ``.fraction_correct``).
    candidate_grain : ndarray of int, (n_c,)
        Phantom grain within ``match_tol_deg`` of each candidate (``-1``
        none).
    candidate_misorientation_deg : ndarray, (n_c,)
        Misorientation to that (nearest) grain.
    grains_found : int
        Phantom grains with a candidate within ``match_tol_deg``.
    timings : dict
        Seconds: ``forward``, ``indexing``, ``observation``,
        ``conventional``, ``subpixel``, ``evaluation``, ``total``.
    parameters : dict
    """

    phantom: Phantom
    simulation: Simulation
    indexing: IndexingResult | None
    candidates: np.ndarray
    candidate_source: str
    table: ObservationTable
    conventional: OrientationMap
    subpixel: OrientationMap
    candidate_grain: np.ndarray
    candidate_misorientation_deg: np.ndarray
    grains_found: int
    timings: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)

    @property
    def data(self) -> ScanData:
        return self.simulation.data

    @property
    def geometry(self) -> ScanGeometry:
        return self.simulation.data.geometry


def reconstruct_phantom(
    diameter_um: float = 160.0,
    beam_um: float = 4.0,
    step_um: float = 4.0,
    omega_step_deg: float = 0.5,
    subdivision: int = 4,
    n_grains: int = 40,
    seed: Any = 0,
    *,
    labels: Any = None,
    pixel_um: float = 0.25,
    orientations: Any = None,
    lattice: str = "fcc",
    a_angstrom: float = 4.0495,
    phase: CubicPhase | None = None,
    energy_keV: float = 50.0,
    tth_max_deg: float = 16.0,
    omega_range_deg: float = 180.0,
    detection_probability: float = 1.0,
    detection_mode: str = "peak",
    spurious_per_frame: float = 0.0,
    noise_eta_deg: float = 0.0,
    noise_omega_deg: float = 0.0,
    lit_at: str = "peak",
    candidates: Any = None,
    eta_tol_deg: float | None = None,
    omega_tol_deg: float | None = None,
    count: str = "reflection",
    expected: str = "predicted",
    tie_break: str = "next",
    boundary_threshold_deg: float = 3.0,
    hist_bin_um: float = 0.25,
    match_tol_deg: float = 1.0,
    backend: str = "numpy",
    chunk_size: int = 1024,
    scheduler: Any = None,
) -> PhantomReconstruction:
    r"""Phantom -> scan -> indexing -> conventional and sub-pixel maps -> evaluation.

    One call for a notebook, a widget or a script (paper Figs. 5-6).

    Parameters
    ----------
    diameter_um : float, default 160
        Specimen diameter of the Voronoi phantom (ignored with ``labels``).
    beam_um, step_um : float, default 4
        Box-beam width and translation step.
    omega_step_deg : float, default 0.5
        Omega bin width; the scan covers ``[0, omega_range_deg)``.
    subdivision : int, default 4
        Sub-pixels per step along each axis for the sub-pixel map, ``>= 1``.
    n_grains : int, default 40
        Voronoi grains, ``>= 1`` (ignored with ``labels``).
    seed : int or None, default 0
        Seeds the phantom (seeds, orientations) and, offset by one, the
        scan imperfections.
    labels : array_like (ny, nx), optional
        A user label map (``-1`` air) with cell size ``pixel_um``, centred on
        the rotation axis (phantom rule 2).
    pixel_um : float, default 0.25
        Phantom raster cell.
    orientations : array_like (n_grains, 3, 3), optional
        Grain orientations; default uniform random.
    lattice, a_angstrom : str, float
        Cubic phase (``"fcc"``, ``"bcc"``, ``"sc"``; ``a > 0``); ``phase``
        overrides both.
    energy_keV, tth_max_deg : float
        Beam energy (``> 0``) and detector 2-theta limit.
    detection_probability, detection_mode, spurious_per_frame, noise_eta_deg, noise_omega_deg, lit_at
        Scan imperfections (:func:`~superres_widgets.s3dxrd.forward.simulate_scan`).
    candidates : None, array_like (n, 3, 3), str or path
        ``None``: global indexing of the peaks; an array: the user's
        orientations (proper rotations); a path: an ImageD11 ``.map`` /
        ``.ubi`` grain file.
    eta_tol_deg, omega_tol_deg : float, optional
        Matching tolerances; default ``max(0.5, 3 sigma)`` with the noise
        ``sigma`` (``omega`` also at least one bin).
    count, expected, tie_break : str
        Module rules 4-5.
    boundary_threshold_deg : float, default 3
    hist_bin_um : float, default 0.25
    match_tol_deg : float, default 1
        A candidate within this misorientation of a phantom grain "finds" it.
    backend, chunk_size, scheduler
        Module rule 8.

    Returns
    -------
    PhantomReconstruction

    Raises
    ------
    ValueError
        Naming the parameter: ``diameter_um``, ``n_grains < 1``,
        ``a_angstrom <= 0``, ``energy_keV <= 0``, ``subdivision < 1``,
        ``labels`` empty, ``candidates`` empty or not orthonormal; a
        malformed grain file names the file and line.

    Examples
    --------
    >>> r = reconstruct_phantom(diameter_um=40, n_grains=4, seed=1)  # doctest: +SKIP
    >>> r.subpixel.mean_displacement_um < r.conventional.mean_displacement_um  # doctest: +SKIP
    True
    """
    t_all = time.perf_counter()
    s = _check_subdivision(subdivision)
    if phase is None:
        phase = CubicPhase(lattice=lattice, a_angstrom=a_angstrom)
    _positive(energy_keV, "energy_keV")
    _check_backend(backend)
    _check_expected(expected)
    if count not in ("reflection", "hkl"):
        raise ValueError(f"count must be 'reflection' or 'hkl', got {count!r}")
    if tie_break not in ("next", "first"):
        raise ValueError(f"tie_break must be 'next' or 'first', got {tie_break!r}")
    # user candidates are checked before any simulation
    user_U = None
    if candidates is not None:
        if isinstance(candidates, (str, os.PathLike)):
            user_U = orientations_from_grain_file(candidates, phase)
        else:
            user_U = check_orientations(candidates, "candidates")
    seq = np.random.SeedSequence(seed) if seed is not None else np.random.SeedSequence()
    s_ph, s_scan = seq.spawn(2)
    if labels is not None:
        phantom = phantom_from_labels(labels, pixel_um, orientations, seed=np.random.default_rng(s_ph))
    else:
        phantom = voronoi_phantom(
            diameter_um, n_grains, np.random.default_rng(s_ph), pixel_um=pixel_um, orientations=orientations
        )
    timings: dict[str, float] = {}
    t = time.perf_counter()
    sim = simulate_scan(
        phantom,
        phase,
        beam_um=beam_um,
        step_um=step_um,
        omega_step_deg=omega_step_deg,
        omega_range_deg=omega_range_deg,
        energy_keV=energy_keV,
        tth_max_deg=tth_max_deg,
        detection_probability=detection_probability,
        detection_mode=detection_mode,
        spurious_per_frame=spurious_per_frame,
        noise_eta_deg=noise_eta_deg,
        noise_omega_deg=noise_omega_deg,
        lit_at=lit_at,
        seed=np.random.default_rng(s_scan),
    )
    timings["forward"] = time.perf_counter() - t
    data = sim.data
    te = (
        max(0.5, 3.0 * float(noise_eta_deg))
        if eta_tol_deg is None
        else _positive(eta_tol_deg, "eta_tol_deg")
    )
    tw = (
        max(0.5, float(omega_step_deg), 3.0 * float(noise_omega_deg))
        if omega_tol_deg is None
        else _positive(omega_tol_deg, "omega_tol_deg")
    )
    t = time.perf_counter()
    indexing = None
    if candidates is None:
        sig = max(float(noise_eta_deg), float(noise_omega_deg))
        indexing = index_peaks(
            data,
            eta_tol_deg=te,
            omega_tol_deg=tw,
            angle_tol_deg=max(0.5, 6.0 * sig),
            merge_deg=max(0.05, 3.0 * sig),
        )
        if indexing.n_candidates == 0:
            raise ValueError("candidates: global indexing found no orientation in the peaks")
        U = indexing.U
        source = "indexing"
    else:
        U = user_U
        source = os.fspath(candidates) if isinstance(candidates, (str, os.PathLike)) else "user"
    timings["indexing"] = time.perf_counter() - t
    t = time.perf_counter()
    table = observation_table(data, U, eta_tol_deg=te, omega_tol_deg=tw)
    timings["observation"] = time.perf_counter() - t
    R = phantom.radius_um
    kw = dict(
        count=count,
        expected=expected,
        tie_break=tie_break,
        chunk_size=chunk_size,
        backend=backend,
        scheduler=scheduler,
    )
    t = time.perf_counter()
    conv = orientation_map(data, table, 1, R, **kw)
    timings["conventional"] = time.perf_counter() - t
    t = time.perf_counter()
    sub = orientation_map(data, table, s, R, **kw)
    timings["subpixel"] = time.perf_counter() - t
    t = time.perf_counter()
    ppts = phantom_boundary_points(phantom, boundary_threshold_deg)
    margin = float(sim.data.geometry.beam_width)
    ekw = dict(
        threshold_deg=boundary_threshold_deg,
        hist_bin_um=hist_bin_um,
        interior_margin_um=margin,
        phantom_points=ppts,
    )
    conv = evaluate_map(conv, phantom, **ekw)
    sub = evaluate_map(sub, phantom, **ekw)
    mt = misorientation_table(U, phantom.orientations)
    nearest = np.argmin(mt, axis=1)
    cmis = mt[np.arange(U.shape[0]), nearest]
    cgrain = np.where(cmis < match_tol_deg, nearest, -1)
    found = int(np.sum(mt.min(axis=0) < match_tol_deg))
    timings["evaluation"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t_all
    params = dict(
        diameter_um=diameter_um if labels is None else None,
        beam_um=float(beam_um),
        step_um=float(step_um),
        omega_step_deg=float(omega_step_deg),
        omega_range_deg=float(omega_range_deg),
        subdivision=s,
        n_grains=phantom.n_grains,
        seed=seed,
        pixel_um=float(pixel_um),
        phase=phase,
        energy_keV=float(energy_keV),
        tth_max_deg=float(tth_max_deg),
        detection_probability=float(detection_probability),
        detection_mode=detection_mode,
        spurious_per_frame=float(spurious_per_frame),
        noise_eta_deg=float(noise_eta_deg),
        noise_omega_deg=float(noise_omega_deg),
        lit_at=lit_at,
        eta_tol_deg=te,
        omega_tol_deg=tw,
        count=count,
        expected=expected,
        tie_break=tie_break,
        boundary_threshold_deg=float(boundary_threshold_deg),
        backend=backend,
        chunk_size=int(chunk_size),
    )
    return PhantomReconstruction(
        phantom=phantom,
        simulation=sim,
        indexing=indexing,
        candidates=U,
        candidate_source=source,
        table=table,
        conventional=conv,
        subpixel=sub,
        candidate_grain=cgrain.astype(np.int64),
        candidate_misorientation_deg=cmis,
        grains_found=found,
        timings=timings,
        parameters=params,
    )


# ---------------------------------------------------------------------------
# one clicked point (for the widget)
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PixelCompleteness:
    """N' of every candidate at one specimen point.

    Attributes
    ----------
    xs, ys : float
    measurements : Measurements
        The point's ``(X, omega)`` list from ``ScanGeometry.measurements``.
    n_prime : ndarray, (n_c,)
    n_prime_next : ndarray, (n_c,)
        Next-nearest completeness (tie-breaker, module rule 5).
    best : int
        Chosen candidate (``-1``: none), as in the maps.
    event_candidate : ndarray of int, (m,)
        Candidate of each predicted event (rows of ``table.events``).
    event_position : ndarray of int, (m,)
        Scan-position index the point sees at the event's bin.
    event_observed : ndarray of bool, (m,)
        Whether that frame holds a matching peak.
    """

    xs: float
    ys: float
    measurements: Measurements
    n_prime: np.ndarray
    n_prime_next: np.ndarray
    best: int
    event_candidate: np.ndarray
    event_position: np.ndarray
    event_observed: np.ndarray


def completeness_at(
    result: PhantomReconstruction,
    xs: float,
    ys: float,
    *,
    count: str | None = None,
    expected: str | None = None,
    tie_break: str | None = None,
) -> PixelCompleteness:
    """N' of every candidate at the point ``(xs, ys)`` (e.g. a clicked pixel).

    Uses the same kernel as the maps, so ``best`` equals the map's choice at
    a target.
    """
    x = _finite(xs, "xs")
    y = _finite(ys, "ys")
    cnt = result.parameters.get("count", "reflection") if count is None else count
    tb = result.parameters.get("tie_break", "next") if tie_break is None else tie_break
    exp = result.parameters.get("expected", "predicted") if expected is None else expected
    _check_expected(exp)
    table = result.table
    geom = result.geometry
    if tb not in ("next", "first"):
        raise ValueError(f"tie_break must be 'next' or 'first', got {tb!r}")
    kern = _ChunkKernel(table, geom, cnt, tb == "next", exp)
    out = kern(np.array([x]), np.array([y]))[0]
    nc = table.n_candidates
    n1 = out[:nc]
    best = int(out[nc])
    n2 = kern.next_completeness(np.array([x]), np.array([y]))[0]
    K, ok, _ = scan_indices(geom, [x], [y])
    kpos = K[0, table.j]
    seen = table.observed[np.arange(table.n_events), kpos] & ok[0, table.j]
    return PixelCompleteness(
        xs=x,
        ys=y,
        measurements=geom.measurements(x, y),
        n_prime=n1,
        n_prime_next=n2,
        best=best,
        event_candidate=table.events.orientation.copy(),
        event_position=kpos.astype(np.int64),
        event_observed=seen,
    )
