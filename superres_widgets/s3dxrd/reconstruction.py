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

The pipeline is split by task: :mod:`~superres_widgets.s3dxrd.nprime`
(rules 1-5, 8: measurement lists, observation table, N', maps),
:mod:`~superres_widgets.s3dxrd.evaluation` (rules 6-7, Fig. 6) with
:mod:`~superres_widgets.s3dxrd.boundaries`; this module runs it end to end
(:func:`reconstruct_phantom`) and inspects one point
(:func:`completeness_at`).

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
   (geometry rule 4; a test checks the equality point by point).  The
   measurement counts only if the scan's beam profile lights the target
   there (``w > 0`` at ``d = xs cos w_j - ys sin w_j - X``, tolerance
   ``1e-6 step``): always for a box at least one step wide; with a narrower
   beam a target between two strips is not seen in that frame.

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
   reflections that are missing everywhere).  With a beam profile that has
   tails or is narrower than the step, each expected reflection is weighted
   by the beam at the target in the frame it is looked up in
   (``N' = sum_e w_e obs_e / sum_e w_e``, ``beam_weighting=True``, the
   default; reflections in a gap of an omega list have ``w_e = 0``): for a
   box at least one step wide every ``w_e = 1`` and this is ``N / M``.

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

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .beam import BeamProfile
from .conventions import check_cancel
from .conventions import finite_scalar as _finite
from .conventions import positive_scalar as _positive
from .crystal import CubicPhase, check_orientations, misorientation_table
from .evaluation import evaluate_map, phantom_boundary_points
from .forward import ScanData, Simulation, simulate_scan
from .geometry import Measurements, ScanGeometry
from .indexing import IndexingResult, index_peaks, orientations_from_grain_file
from .nprime import (  # noqa: F401 - re-exported: the reconstruction's public names live here too
    ObservationTable,
    OrientationMap,
    _check_backend,
    _check_expected,
    _check_subdivision,
    _choose,
    _ChunkKernel,
    completeness,
    map_targets,
    observation_table,
    orientation_map,
    scan_indices,
)
from .phantom import Phantom, phantom_from_labels, voronoi_phantom

__all__ = [
    "PhantomReconstruction",
    "PixelCompleteness",
    "reconstruct_phantom",
    "completeness_at",
]


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


def _check_scales(phantom, beam_um, step_um, boundary_threshold_deg, match_tol_deg) -> None:
    """Lengths and angles that give a meaningful scan of this phantom (else evaluations are NaN / inf)."""
    from ..validate import check_number

    d = 2.0 * phantom.radius_um
    check_number(step_um, "step_um", lo=0, lo_open=True, hi=d)
    check_number(beam_um, "beam_um", lo=0, lo_open=True, hi=2 * d)
    if phantom.pixel_um > d / 8:
        raise ValueError(f"pixel_um={phantom.pixel_um:g} is too coarse for a {d:g} um specimen (at most "
                         "diameter_um / 8)")
    check_number(boundary_threshold_deg, "boundary_threshold_deg", lo=0, lo_open=True, hi=180)
    check_number(match_tol_deg, "match_tol_deg", lo=0, lo_open=True, hi=180)


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
    profile: str | BeamProfile = "box",
    axis_offset_um: float = 0.0,
    x_positions_um: Any = None,
    omega_deg: Any = None,
    detection_threshold: float = 0.0,
    beam_weighting: bool = True,
    candidates: Any = None,
    eta_tol_deg: float | None = None,
    omega_tol_deg: float | None = None,
    count: str = "reflection",
    expected: str = "predicted",
    tie_break: str = "next",
    scorer: str = "nprime",
    scorer_options: dict | None = None,
    boundary_threshold_deg: float = 3.0,
    hist_bin_um: float = 0.25,
    match_tol_deg: float = 1.0,
    backend: str = "numpy",
    chunk_size: int = 1024,
    scheduler: Any = None,
    cancel: Any = None,
) -> PhantomReconstruction:
    r"""Phantom -> scan -> indexing -> conventional and sub-pixel maps -> evaluation.

    One call for a notebook, a widget or a script (paper Figs. 5-6).

    Parameters
    ----------
    diameter_um : float, default 160
        Specimen diameter of the Voronoi phantom (ignored with ``labels``).
    beam_um, step_um : float, default 4
        Nominal beam width (of ``profile``) and translation step.
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
    profile : str or BeamProfile, default "box"
        Beam profile of the scan (:mod:`~superres_widgets.s3dxrd.beam`): the
        forward model lights grains with it and the N' maps count a frame
        only where it lights the target (module rule 2).
    axis_offset_um, x_positions_um, omega_deg, detection_threshold
        Rotation-axis offset, positions and omega bin centres as data, and
        the detection threshold of the scan
        (:func:`~superres_widgets.s3dxrd.forward.simulate_scan`).
    beam_weighting : bool, default True
        N' weights expected reflections by the beam at the target
        (:func:`~superres_widgets.s3dxrd.nprime.completeness`).
    candidates : None, array_like (n, 3, 3), str or path
        ``None``: global indexing of the peaks; an array: the user's
        orientations (proper rotations); a path: an ImageD11 ``.map`` /
        ``.ubi`` grain file.
    eta_tol_deg, omega_tol_deg : float, optional
        Matching tolerances; default ``max(0.5, 3 sigma)`` with the noise
        ``sigma`` (``omega`` also at least one bin).
    count, expected, tie_break : str
        Module rules 4-5.
    scorer : {"nprime", "likelihood"}, default "nprime"
        How both maps choose a target's candidate: the paper's N' (ties by
        ``tie_break``) or the model-based scorer of
        :mod:`~superres_widgets.s3dxrd.scoring` (estimates the detection
        probability and the spurious rate from the peaks; never reads the
        phantom).
    scorer_options : dict, optional
        Options of :func:`~superres_widgets.s3dxrd.scoring.likelihood_scores`.
    boundary_threshold_deg : float, default 3
    hist_bin_um : float, default 0.25
    match_tol_deg : float, default 1
        A candidate within this misorientation of a phantom grain "finds" it.
    backend, chunk_size, scheduler
        Module rule 8.
    cancel : threading.Event, callable or None
        Polled between stages, grains of the forward model, tested orientations and N' chunks; once set,
        :class:`~superres_widgets.s3dxrd.ComputationCancelled` is raised
        (conventions rule 5).

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
    if scorer not in ("nprime", "likelihood"):
        raise ValueError(f"scorer must be 'nprime' or 'likelihood', got {scorer!r}")
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
            diameter_um,
            n_grains,
            np.random.default_rng(s_ph),
            pixel_um=pixel_um,
            orientations=orientations,
            cancel=cancel,
        )
    check_cancel(cancel, "reconstruct_phantom")
    _check_scales(phantom, beam_um, step_um, boundary_threshold_deg, match_tol_deg)
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
        profile=profile,
        axis_offset_um=axis_offset_um,
        x_positions_um=x_positions_um,
        omega_deg=omega_deg,
        detection_threshold=detection_threshold,
        cancel=cancel,
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
            cancel=cancel,
        )
        if indexing.n_candidates == 0:
            raise ValueError("candidates: global indexing found no orientation in the peaks")
        U = indexing.U
        source = "indexing"
    else:
        U = user_U
        source = os.fspath(candidates) if isinstance(candidates, (str, os.PathLike)) else "user"
    timings["indexing"] = time.perf_counter() - t
    check_cancel(cancel, "reconstruct_phantom")
    t = time.perf_counter()
    table = observation_table(data, U, eta_tol_deg=te, omega_tol_deg=tw, cancel=cancel)
    timings["observation"] = time.perf_counter() - t
    R = phantom.radius_um
    kw = dict(
        count=count,
        expected=expected,
        tie_break=tie_break,
        chunk_size=chunk_size,
        backend=backend,
        scheduler=scheduler,
        cancel=cancel,
        beam_weighting=beam_weighting,
        scorer=scorer,
        scorer_options=scorer_options,
    )
    t = time.perf_counter()
    conv = orientation_map(data, table, 1, R, **kw)
    timings["conventional"] = time.perf_counter() - t
    t = time.perf_counter()
    sub = orientation_map(data, table, s, R, **kw)
    timings["subpixel"] = time.perf_counter() - t
    check_cancel(cancel, "reconstruct_phantom")
    t = time.perf_counter()
    ppts = phantom_boundary_points(phantom, boundary_threshold_deg, phase.symmetry)
    margin = float(sim.data.geometry.beam_width)
    ekw = dict(
        threshold_deg=boundary_threshold_deg,
        hist_bin_um=hist_bin_um,
        interior_margin_um=margin,
        phantom_points=ppts,
        symmetry=phase.symmetry,
    )
    conv = evaluate_map(conv, phantom, **ekw)
    check_cancel(cancel, "reconstruct_phantom")
    sub = evaluate_map(sub, phantom, **ekw)
    mt = misorientation_table(U, phantom.orientations, phase.symmetry)
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
        profile=data.geometry.profile_name,
        axis_offset_um=float(data.geometry.axis_offset),
        x_positions_um=None if x_positions_um is None else data.geometry.x_positions,
        omega_deg=None if omega_deg is None else data.geometry.omega_deg,
        detection_threshold=float(detection_threshold),
        beam_weighting=bool(beam_weighting),
        eta_tol_deg=te,
        omega_tol_deg=tw,
        count=count,
        expected=expected,
        tie_break=tie_break,
        scorer=scorer,
        scorer_options=dict(scorer_options or {}),
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

    ``result``: :func:`reconstruct_phantom`'s or
    :func:`~superres_widgets.s3dxrd.reconstruct_from_peaks`'s.  Uses the
    same kernel as the N' maps, so ``best`` equals an N' map's choice at a
    target (the likelihood scorer's choice is the map's ``candidate``).
    """
    from .conventions import check_type
    from .peakmaps import PeakReconstruction

    check_type(result, (PhantomReconstruction, PeakReconstruction), "result",
               "PhantomReconstruction or PeakReconstruction")
    x = _finite(xs, "xs")
    y = _finite(ys, "ys")
    cnt = result.parameters.get("count", "reflection") if count is None else count
    if cnt not in ("reflection", "hkl"):
        raise ValueError(f"count must be 'reflection' or 'hkl', got {cnt!r}")
    tb = result.parameters.get("tie_break", "next") if tie_break is None else tie_break
    exp = result.parameters.get("expected", "predicted") if expected is None else expected
    _check_expected(exp)
    table = result.table
    geom = result.geometry
    if tb not in ("next", "first"):
        raise ValueError(f"tie_break must be 'next' or 'first', got {tb!r}")
    kern = _ChunkKernel(table, geom, cnt, tb == "next", exp, result.parameters.get("beam_weighting", True))
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
