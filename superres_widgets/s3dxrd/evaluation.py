r"""Evaluation of s3DXRD orientation maps against their phantom (Fig. 6).

Rules 6-7 of :mod:`superres_widgets.s3dxrd.reconstruction`: misorientation
of every target to the phantom grain under it, fractions of correct targets
(all, interior, area-weighted), and the displacement of the phantom's grain
boundary to the reconstructed one (Kim, Hayashi & Yabashi 2023, Fig. 6: a
histogram whose weighted mean is about 0.7 um for a 4 um beam).  Boundaries
come from the one tracer of :mod:`~superres_widgets.s3dxrd.boundaries`.

References
----------
.. [1] Kim, Hayashi & Yabashi (2023), J. Synchrotron Rad., section 4, Fig. 6.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any
from dataclasses import dataclass

import numpy as np

from .boundaries import map_boundary, phantom_boundary_points
from .conventions import finite_scalar as _finite
from .conventions import positive_scalar as _positive
from .crystal import misorientation_table
from .nprime import OrientationMap
from .phantom import Phantom

__all__ = ["MapEvaluation", "evaluate_map", "phantom_boundary_points"]


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



# ---------------------------------------------------------------------------
# evaluation (module rules 6-7)
# ---------------------------------------------------------------------------
def evaluate_map(
    omap: OrientationMap,
    phantom: Phantom,
    *,
    threshold_deg: float = 3.0,
    hist_bin_um: float = 0.25,
    interior_margin_um: float | None = None,
    phantom_points: np.ndarray | None = None,
    symmetry: Any = "cubic",
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
    symmetry : str or phase, default "cubic"
        Laue group of the misorientations (``"cubic"``, ``"hexagonal"``,
        ``"tetragonal"`` or a phase).

    Returns
    -------
    OrientationMap
        A copy of ``omap`` with ``evaluation`` set.

    Notes
    -----
    The displacement of a phantom boundary point ``p`` is
    ``min_q |p - q|`` over the samples ``q`` of the reconstructed boundary
    (every ``pixel_um / 2``); ``mean_displacement_um`` is its mean over the
    phantom's boundary points, the paper's count-weighted histogram mean.

    Examples
    --------
    >>> r = reconstruct_phantom(diameter_um=40, n_grains=4, seed=1)  # doctest: +SKIP
    >>> again = evaluate_map(r.subpixel, r.phantom)                  # doctest: +SKIP
    >>> again.mean_displacement_um == r.subpixel.mean_displacement_um  # doctest: +SKIP
    True
    """
    from scipy.spatial import cKDTree

    from .conventions import check_type

    check_type(omap, OrientationMap, "omap")
    check_type(phantom, Phantom, "phantom")
    thr = _positive(threshold_deg, "threshold_deg")
    if thr > 180:
        raise ValueError(f"threshold_deg must be in (0, 180], got {threshold_deg!r}")
    bw = _positive(hist_bin_um, "hist_bin_um")
    margin = omap.spacing_um * omap.subdivision if interior_margin_um is None else _finite(
        interior_margin_um, "interior_margin_um"
    )
    if margin < 0:
        raise ValueError(f"interior_margin_um must be >= 0, got {interior_margin_um!r}")
    plab = phantom.label_at(omap.xs, omap.ys)
    nc = omap.U.shape[0]
    mt = misorientation_table(omap.U, phantom.orientations, symmetry) if nc else np.zeros((0, phantom.n_grains))
    ok = (plab >= 0) & (omap.candidate >= 0)
    mis = np.full(omap.n_targets, np.nan)
    mis[ok] = mt[omap.candidate[ok], plab[ok]]
    correct = ok & (mis < thr)
    on = plab >= 0
    frac = float(correct[on].mean()) if on.any() else float("nan")
    ppts = phantom_boundary_points(phantom, thr, symmetry) if phantom_points is None else phantom_points
    if ppts.shape[0]:
        dist_t, _ = cKDTree(ppts).query(np.stack([omap.xs, omap.ys], axis=1))
    else:
        dist_t = np.full(omap.n_targets, np.inf)
    interior = on & (dist_t >= margin)
    if interior_margin_um is not None and on.any() and not interior.any():
        raise ValueError(f"interior_margin_um={margin:g} leaves no target that far from the phantom's grain "
                         "boundaries; lower it")
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
    edges = map_boundary(omap, thr, symmetry)
    mask, rpts = edges.cells(), edges.samples(0.5 * phantom.pixel_um)
    if ppts.shape[0] and rpts.shape[0]:
        disp, _ = cKDTree(rpts).query(ppts)
    else:
        disp = np.full(ppts.shape[0], np.inf)
    ideal = dataclasses.replace(omap, candidate=np.where(plab >= 0, plab, -1), U=phantom.orientations)
    ipts = map_boundary(ideal, thr, symmetry).samples(0.5 * phantom.pixel_um)
    if ppts.shape[0] and ipts.shape[0]:
        idisp, _ = cKDTree(ipts).query(ppts)
        ideal_mean = float(idisp.mean())
    else:
        ideal_mean = float("nan") if ppts.shape[0] == 0 else float("inf")
    finite = disp[np.isfinite(disp)]
    top = float(finite.max()) if finite.size else 0.0
    if top / bw > 1e6:
        raise ValueError(f"hist_bin_um={bw:g} gives {top / bw:.3g} histogram bins for displacements up to "
                         f"{top:g} um; at most 1e6")
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
