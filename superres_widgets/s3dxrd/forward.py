r"""Kinematic s3DXRD forward model: which peaks each (X, omega-bin) frame sees.

Simulates the scan of Kim, Hayashi & Yabashi (2023), section 4 / Fig. 5
(there done with PolyXSim): a beam of width ``b`` (paper: a 4 um box;
any :mod:`beam profile <superres_widgets.s3dxrd.beam>`) steps
across the specimen in ``X`` (paper 4 um) while the specimen turns through
``omega`` bins (paper 0.5 deg over 180 deg).  A frame ``(X_k, bin j)``
records the peaks ``(ring, eta, omega)`` of every grain that diffracts in the
bin **and** is lit by the beam at that moment.  Intensities, the detector
geometry and peak overlap are not modelled; the grain identity is not part
of the data (it is kept apart, in :class:`ScanTruth`).

Conventions
-----------
Checked in ``tests/test_s3dxrd_recon_forward.py``.

1. **Frames.**  Bin ``j`` covers ``[w0 + j dw, w0 + (j + 1) dw)`` with
   ``w0 = omega_start_deg`` and ``dw = omega_step_deg``, ``j = 0 .. n_bins-1``
   and ``n_bins = omega_range_deg / dw`` (must be an integer; 180 deg is a
   half scan, 360 deg a full one).  The
   :class:`~superres_widgets.s3dxrd.geometry.ScanGeometry` of the scan
   carries the **bin centres** ``w0 + (j + 1/2) dw`` as its ``omega_deg``,
   so a point's ``(X, omega)`` list (seed eq. (1), geometry rule 4) has one
   entry per bin.  An ω list as data (``omega_deg=``: any sorted bin
   centres at least ``dw`` apart, irregular or with gaps, spanning at most
   360 deg) gives bins ``[C_j - dw/2, C_j + dw/2)``; a reflection in a gap
   is never recorded.  :meth:`ScanData.bin_of` maps angles to bins (angles
   are taken modulo 360 deg into the scan's range first).  Scan positions
   are ``X_k = geometry.x_positions[k]`` for the array index ``k = 0 ..
   n_positions-1`` (``step * (k - k_max)`` for the paper's grid).

2. **Scan range** ``x_range = R + step/2 + |y0|`` for a specimen of radius
   ``R`` and a rotation-axis offset ``y0`` (``axis_offset_um``; positions
   ``y0 + step k``, geometry rule 3), so every specimen point's nearest
   ``X`` (geometry rule 4) is a scanned position and every list is
   complete.  Positions as data (``x_positions_um=``, relative to the axis)
   are used as given; points beyond them have incomplete lists.

3. **Lit test.**  A grain is a union of phantom raster cells; a cell is lit
   by ``(X_k, w)`` when the beam profile lights its centre: ``|d| <= s``
   with ``d = xs cos w - ys sin w - X_k`` and ``s = profile.support(b)``
   (tolerance ``1e-9 step``; the lit set of a profile is that interval,
   beam convention 3; for the paper's box ``s = b/2``, geometry rule 5).
   The grain is lit when any of its cells is; it suffices to
   test the cells on its boundary (the projection of a connected set of
   cells has no gap wider than ``sqrt(2) p < 2 s``; with a beam narrower
   than ``1.5 p`` every cell is tested).  Boundary cells come from the one
   boundary tracer (:meth:`Phantom.boundary_cells`).  ``w`` is the exact Laue
   angle of the reflection (``lit_at="peak"``, physical: the crystal
   diffracts at that instant) or the centre of its bin (``lit_at="bin"``,
   the frame seen as one snapshot, as the geometry lists assume).

4. **Peak records** (``ScanData``): frame ``(k, j)``, ``ring``,
   ``eta_deg`` in ``(-180, 180]``, ``omega_deg`` (the Laue angle, i.e. a
   peak centroid; its bin centre if ``quantize_omega``) and ``tth_deg`` (the
   ring's ``2 theta``).  Records are sorted by frame (``k`` then ``j``).  One
   diffraction event lit at several ``X`` appears once per lit frame.

5. **Intensity and detection threshold.**  A record's ``intensity`` is
   the beam-weighted area of its grain in the slice,
   ``I = (1 / b^2) sum_cells w(d_cell) p^2`` (in beam widths squared: a
   grain filling a box beam over a ``b x b`` square gives 1): for a box the
   cells inside the strip are counted exactly (row runs of the raster),
   other profiles use the grain's projection on ``u`` in bins of ``p / 8``.  With
   ``detection_threshold > 0`` records with ``I < detection_threshold`` are
   not recorded (before any random imperfection), the way weak peaks from
   the beam's tails go missing on a real detector.  Spurious peaks have
   ``I = NaN``.

6. **Imperfections** (all from one ``numpy.random.Generator(seed)``, in
   this order): with ``detection_mode="peak"`` each record (frame) is kept
   independently with probability ``detection_probability``; with
   ``"reflection"`` each diffraction event of a grain is kept or lost in
   all its frames at once (a weak reflection); Gaussian noise of standard deviation
   ``noise_eta_deg`` / ``noise_omega_deg`` is added to every kept record's
   ``eta`` / ``omega`` independently (the frame stays the one where the
   crystal diffracted); ``Poisson(spurious_per_frame * n_frames)`` spurious
   peaks are spread uniformly over frames, each on the ring of a reflection
   drawn uniformly from the reflection list, ``eta`` uniform in
   ``(-180, 180]`` and ``omega`` uniform in its bin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .beam import BeamProfile, get_beam_profile
from .conventions import check_cancel
from .conventions import cos_sin_deg as _conventions_cos_sin_deg
from .conventions import finite_array as _finite_array
from .conventions import finite_scalar as _finite
from .conventions import positive_scalar as _positive
from .crystal import (
    CubicPhase,
    PredictedReflections,
    ReflectionSet,
    generate_hkl,
    predict_reflections,
)
from .geometry import ScanGeometry
from .phases import Phase
from .illumination import _grain_intensity, _grain_runs
from .phantom import Phantom

__all__ = ["ScanData", "ScanTruth", "Simulation", "scan_geometry", "simulate_scan", "cos_sin_deg"]

_TIE = 1e-9


def cos_sin_deg(omega_deg: Any) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of angles in degrees, exact at multiples of 90 degrees.

    :func:`superres_widgets.s3dxrd.conventions.cos_sin_deg` (the geometry's
    rounding ties depend on it).

    Examples
    --------
    >>> cos_sin_deg([90.0])
    (array([0.]), array([1.]))
    """
    return _conventions_cos_sin_deg(omega_deg)  # checks omega_deg


def _n_bins(omega_range_deg: float, omega_step_deg: float) -> int:
    q = omega_range_deg / omega_step_deg
    if not q <= 1e6:
        raise ValueError(f"omega_range_deg / omega_step_deg gives {q:.3g} omega bins; at most 1e6 "
                         f"(omega_step_deg={omega_step_deg!r} is too small)")
    n = int(round(q))
    if n < 1 or abs(q - n) > 1e-6:
        raise ValueError(
            f"omega_range_deg / omega_step_deg must be a positive integer, "
            f"got {omega_range_deg!r} / {omega_step_deg!r}"
        )
    return n


def _bin_centres(omega_step_deg: float, omega_start_deg: float, omega_range_deg: float,
                 omega_deg: Any = None) -> np.ndarray:
    """Bin centres of module rule 1 (regular, or the ω list given as data)."""
    dw = _positive(omega_step_deg, "omega_step_deg")
    if omega_deg is None:
        w0 = _finite(omega_start_deg, "omega_start_deg")
        wr = _positive(omega_range_deg, "omega_range_deg")
        if wr > 360 + 1e-9:
            raise ValueError(f"omega_range_deg must be <= 360, got {omega_range_deg!r}")
        n = _n_bins(wr, dw)
        return w0 + (np.arange(n) + 0.5) * dw
    c = _finite_array(omega_deg, "omega_deg")
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"omega_deg must be a non-empty 1-D list of bin centres, got shape {c.shape}")
    if np.any(np.diff(c) < dw * (1 - 1e-9)):
        raise ValueError(
            f"omega_deg must be sorted with centres at least omega_step_deg = {dw:g} apart (bins must not overlap)"
        )
    if c[-1] - c[0] + dw > 360 + 1e-9:
        raise ValueError(f"omega_deg must span at most 360 deg with its bins, got {c[-1] - c[0] + dw:g}")
    return c.copy()


def scan_geometry(
    radius_um: float,
    step_um: float = 4.0,
    beam_um: float | None = None,
    omega_step_deg: float = 0.5,
    omega_start_deg: float = 0.0,
    omega_range_deg: float = 180.0,
    profile: str | BeamProfile = "box",
    *,
    axis_offset_um: float = 0.0,
    x_positions_um: Any = None,
    omega_deg: Any = None,
) -> ScanGeometry:
    """The :class:`ScanGeometry` of a scan of a specimen of radius ``radius_um``.

    ``x_range = radius_um + step_um / 2 + |axis_offset_um|`` (module rule 2)
    or the positions given as data, bin centres as the angles (rule 1),
    ``unit="um"``, beam ``profile`` of nominal width ``beam_um`` (default:
    ``step_um``).

    Parameters
    ----------
    axis_offset_um : float, default 0
        Rotation-axis offset ``y0`` (geometry rule 3): positions ``y0 + step k``.
    x_positions_um : array_like, optional
        Beam positions relative to the axis (scans as data); overrides the grid.
    omega_deg : array_like, optional
        Bin centres (rule 1); overrides ``omega_start_deg``/``omega_range_deg``.

    Examples
    --------
    >>> g = scan_geometry(10.0, omega_step_deg=45.0)
    >>> g.x_range, g.omega_deg.tolist(), g.profile_name
    (12.0, [22.5, 67.5, 112.5, 157.5], 'box')
    >>> scan_geometry(10.0, axis_offset_um=1.0, omega_step_deg=90.0).x_positions[:3].tolist()
    [-11.0, -7.0, -3.0]
    """
    R = _positive(radius_um, "radius_um")
    step = _positive(step_um, "step_um")
    b = step if beam_um is None else _positive(beam_um, "beam_um")
    centres = _bin_centres(omega_step_deg, omega_start_deg, omega_range_deg, omega_deg)
    y0 = _finite(axis_offset_um, "axis_offset_um")
    if x_positions_um is not None:
        if y0 != 0:
            raise ValueError("axis_offset_um must be 0 with x_positions_um (they are relative to the axis)")
        return ScanGeometry(step=step, beam_width=b, omega_deg=centres, profile=profile, unit="um",
                            positions=_finite_array(x_positions_um, "x_positions_um"))
    if abs(y0) > R:
        raise ValueError(f"axis_offset_um must be within the specimen radius {R:g}, got {axis_offset_um!r}")
    return ScanGeometry(
        x_range=R + 0.5 * step + abs(y0), step=step, beam_width=b, omega_deg=centres, profile=profile, unit="um",
        axis_offset=y0,
    )


@dataclass(frozen=True, eq=False)
class ScanData:
    """The measured data of an s3DXRD slice: peaks per (X, omega-bin) frame.

    Attributes
    ----------
    geometry : ScanGeometry
        Scan positions, beam width and bin-centre angles (module rule 1).
    reflections : ReflectionSet
        The phase's rings (known from the powder pattern).
    omega_start_deg, omega_step_deg : float
    n_bins : int
    k, j : ndarray of int, (n_peaks,)
        Frame of each peak: position index and omega bin.
    ring : ndarray of int, (n_peaks,)
    eta_deg, omega_deg, tth_deg : ndarray, (n_peaks,)
    intensity : ndarray, (n_peaks,) or None
        Beam-weighted grain area in beam widths squared (module rule 5);
        NaN for spurious peaks; ``None`` when not known (e.g. peaks read
        from a file).
    """

    geometry: ScanGeometry
    reflections: ReflectionSet
    omega_start_deg: float
    omega_step_deg: float
    n_bins: int
    k: np.ndarray
    j: np.ndarray
    ring: np.ndarray
    eta_deg: np.ndarray
    omega_deg: np.ndarray
    tth_deg: np.ndarray
    intensity: np.ndarray | None = None
    _offsets: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self._offsets is None:
            fr = self.k * self.n_bins + self.j
            n_fr = self.n_positions * self.n_bins
            off = np.concatenate([[0], np.cumsum(np.bincount(fr, minlength=n_fr))]).astype(np.int64)
            object.__setattr__(self, "_offsets", off)

    @property
    def n_peaks(self) -> int:
        return int(self.k.size)

    @property
    def n_positions(self) -> int:
        return self.geometry.n_positions

    @property
    def n_frames(self) -> int:
        return self.n_positions * self.n_bins

    @property
    def omega_range_deg(self) -> float:
        """From the first bin's start to the last bin's end (``n_bins * dw`` for a regular scan)."""
        if self._regular_bins():
            return self.n_bins * self.omega_step_deg
        c = self.geometry.omega_deg
        return float(c[-1] + 0.5 * self.omega_step_deg - self.omega_start_deg)

    def _regular_bins(self) -> bool:
        c = self.geometry.omega_deg
        if c.size != self.n_bins:
            return False
        want = self.omega_start_deg + (np.arange(self.n_bins) + 0.5) * self.omega_step_deg
        return bool(np.allclose(c, want, rtol=0, atol=1e-9 * max(1.0, self.omega_step_deg)))

    def bin_of(self, omega_deg: Any) -> tuple[np.ndarray, np.ndarray]:
        """The ω bin of angles (module rule 1): ``(j, inside)``.

        Angles are first taken modulo 360 deg into ``[omega_start_deg,
        omega_start_deg + 360)`` (a full scan wraps); ``inside`` is False for
        an angle in no bin (a gap, or beyond a half scan), whose ``j`` is
        clipped to ``0 .. n_bins - 1``.

        Examples
        --------
        >>> from superres_widgets.s3dxrd import voronoi_phantom
        >>> d = simulate_scan(voronoi_phantom(8, 1, 0), omega_step_deg=45.0, omega_range_deg=360.0).data
        >>> [v.tolist() for v in d.bin_of([10.0, -10.0, 370.0])]
        [[0, 7, 0], [True, True, True]]
        """
        w = np.asarray(omega_deg, dtype=float)
        w0, dw = self.omega_start_deg, self.omega_step_deg
        w = w0 + np.mod(w - w0, 360.0)
        if self._regular_bins():
            j = np.floor((w - w0) / dw).astype(np.int64)
            inside = (j >= 0) & (j < self.n_bins)
        else:
            c = self.geometry.omega_deg
            j = np.searchsorted(c - 0.5 * dw, w, side="right").astype(np.int64) - 1
            jc = np.clip(j, 0, self.n_bins - 1)
            inside = (j >= 0) & (w < c[jc] + 0.5 * dw)
        return np.clip(j, 0, self.n_bins - 1), inside

    @property
    def x_positions(self) -> np.ndarray:
        return self.geometry.x_positions

    @property
    def bin_centres_deg(self) -> np.ndarray:
        return self.geometry.omega_deg

    def frame(self, k: int, j: int) -> np.ndarray:
        """Row indices of the peaks of frame ``(k, j)``."""
        f = int(k) * self.n_bins + int(j)
        return np.arange(self._offsets[f], self._offsets[f + 1])

    def peaks_per_frame(self) -> np.ndarray:
        """Peak count of every frame, shape ``(n_positions, n_bins)``."""
        return np.diff(self._offsets).reshape(self.n_positions, self.n_bins)


@dataclass(frozen=True, eq=False)
class ScanTruth:
    """What produced each peak of :class:`ScanData` (not part of the data).

    ``grain``, ``hkl_index`` and ``solution`` are ``-1`` for spurious peaks.
    ``predicted`` are the diffraction events of every phantom grain.
    """

    grain: np.ndarray
    hkl_index: np.ndarray
    solution: np.ndarray
    predicted: PredictedReflections


@dataclass(frozen=True, eq=False)
class Simulation:
    """Output of :func:`simulate_scan`: the data and, apart, the truth."""

    data: ScanData
    truth: ScanTruth
    phantom: Phantom


def _grain_boundary_points(phantom: Phantom, use_all: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell centres per grain (boundary cells only unless ``use_all``), grouped by grain.

    Returns ``xs, ys`` and the offsets of each grain's cells (module rule 3).
    """
    lab = phantom.labels
    mask = (lab >= 0) if use_all else phantom.boundary_cells()
    ii, jj = np.nonzero(mask)
    g = lab[ii, jj].astype(np.int64)
    order = np.argsort(g, kind="stable")
    g, ii, jj = g[order], ii[order], jj[order]
    xs = phantom.x0_um + phantom.pixel_um * jj
    ys = phantom.y0_um + phantom.pixel_um * ii
    off = np.concatenate([[0], np.cumsum(np.bincount(g, minlength=phantom.n_grains))])
    return xs, ys, off


def _lit_positions(u: np.ndarray, geom: ScanGeometry, half: float) -> np.ndarray:
    """``lit[e, k]``: some cell of ``u`` (n_e, n_c) is within ``half`` of position ``k`` (module rule 3)."""
    step, kmax, nk = geom.step, geom.k_max, geom.n_positions
    if geom.is_regular and geom.axis_offset == 0.0:  # the paper's grid
        klo = np.ceil((u - half) / step - _TIE).astype(np.int64) + kmax
        khi = np.floor((u + half) / step + _TIE).astype(np.int64) + kmax
    else:  # offset grid or positions as data: the lit positions by search
        positions = geom.x_positions
        klo = np.searchsorted(positions, u - half - _TIE * step, side="left").astype(np.int64)
        khi = np.searchsorted(positions, u + half + _TIE * step, side="right").astype(np.int64) - 1
    klo = np.clip(klo, 0, nk)
    khi = np.clip(khi, -1, nk - 1)
    ok = klo <= khi
    n_e = u.shape[0]
    rows = np.broadcast_to(np.arange(n_e)[:, None], u.shape)
    W = nk + 1
    idx_lo = (rows * W + klo)[ok]
    idx_hi = (rows * W + khi + 1)[ok]
    diff = np.bincount(idx_lo, minlength=n_e * W) - np.bincount(idx_hi, minlength=n_e * W)
    return np.cumsum(diff.reshape(n_e, W), axis=1)[:, :nk] > 0


#: (events x boundary points) per block of :func:`_lit_records` between cancellation checks, and events
_LIT_CHUNK = 200_000
_LIT_EVENTS = 8


def _lit_records(phantom: Phantom, pred: PredictedReflections, w_lit: np.ndarray, in_bin: np.ndarray,
                 geom: ScanGeometry, cancel: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every lit (event, position) pair and its intensity, grain by grain (module rules 3, 5)."""
    prof, b = geom.profile, geom.beam_width
    half = prof.support(b)  # the lit interval |d| <= half (module rule 3)
    use_all = 2.0 * half < 1.5 * phantom.pixel_um
    bx, by, boff = _grain_boundary_points(phantom, use_all)
    if prof.is_flat(b):
        ax = ay = np.zeros(0)
        aoff = np.zeros(phantom.n_grains + 1, dtype=np.int64)
    else:
        ax, ay, aoff = _grain_boundary_points(phantom, True)
    ry, rx0, rn, roff, _ = _grain_runs(phantom)
    poff = pred.offsets
    positions = geom.x_positions
    rec_event: list[np.ndarray] = []
    rec_k: list[np.ndarray] = []
    rec_int: list[np.ndarray] = []
    for g in range(phantom.n_grains):
        e0, e1 = int(poff[g]), int(poff[g + 1])
        c0, c1 = int(boff[g]), int(boff[g + 1])
        if e1 == e0 or c1 == c0:
            check_cancel(cancel, "simulate_scan")
            continue
        grain_runs = tuple(v[roff[g] : roff[g + 1]] for v in (ry, rx0, rn))
        # blocks of events: a large grain's (events x boundary points) work is bounded between the
        # cancellation checks (a stale widget computation stops within ~20 ms) and in memory
        per = max(1, min(_LIT_EVENTS, _LIT_CHUNK // (c1 - c0)))
        for a0 in range(e0, e1, per):
            check_cancel(cancel, "simulate_scan")
            a1 = min(e1, a0 + per)
            cw, sw = cos_sin_deg(w_lit[a0:a1])
            u = np.multiply.outer(cw, bx[c0:c1]) - np.multiply.outer(sw, by[c0:c1])  # (events, cells)
            lit = _lit_positions(u, geom, half) & in_bin[a0:a1, None]
            ev, kk = np.nonzero(lit)
            rec_int.append(_grain_intensity(ax[aoff[g] : aoff[g + 1]], ay[aoff[g] : aoff[g + 1]], grain_runs, cw,
                                            sw, positions, ev, kk, prof, b, phantom.pixel_um))
            rec_event.append(ev + a0)
            rec_k.append(kk)
    ev = np.concatenate(rec_event) if rec_event else np.zeros(0, dtype=np.int64)
    kk = np.concatenate(rec_k) if rec_k else np.zeros(0, dtype=np.int64)
    inten = np.concatenate(rec_int) if rec_int else np.zeros(0)
    return ev, kk, inten


def simulate_scan(
    phantom: Phantom,
    phase: CubicPhase | None = None,
    *,
    beam_um: float = 4.0,
    step_um: float = 4.0,
    omega_step_deg: float = 0.5,
    omega_start_deg: float = 0.0,
    omega_range_deg: float = 180.0,
    energy_keV: float | None = 50.0,
    wavelength_angstrom: float | None = None,
    tth_max_deg: float = 16.0,
    tth_min_deg: float = 0.0,
    detection_probability: float = 1.0,
    detection_mode: str = "peak",
    spurious_per_frame: float = 0.0,
    noise_eta_deg: float = 0.0,
    noise_omega_deg: float = 0.0,
    quantize_omega: bool = False,
    lit_at: str = "peak",
    seed: Any = None,
    profile: str | BeamProfile = "box",
    axis_offset_um: float = 0.0,
    x_positions_um: Any = None,
    omega_deg: Any = None,
    detection_threshold: float = 0.0,
    cancel: Any = None,
) -> Simulation:
    r"""Simulate an s3DXRD slice scan of ``phantom`` (module docstring).

    Parameters
    ----------
    phantom : Phantom
    phase : CubicPhase, optional
        Default fcc aluminium, ``a = 4.0495 A``.
    beam_um, step_um : float, default 4
        Nominal beam width ``b`` and translation step (paper: 4 and 4 um).
    omega_step_deg, omega_start_deg, omega_range_deg : float
        Bins (module rule 1); paper: 0.5 deg over ``[0, 180)``.
    energy_keV, wavelength_angstrom : float
        X-ray energy (default 50 keV) or wavelength; a given wavelength wins.
    tth_max_deg, tth_min_deg : float
        2-theta window of the detector (default ``0 .. 16`` deg: fcc rings
        {111} ... {420} at 50 keV).
    detection_probability : float, default 1
        Probability of recording a peak, ``0 < p <= 1``.
    detection_mode : {"peak", "reflection"}, default "peak"
        Drop each frame's record independently, or whole diffraction events
        (module rule 5).
    spurious_per_frame : float, default 0
        Mean number of spurious peaks per frame, ``>= 0``.
    noise_eta_deg, noise_omega_deg : float, default 0
        Standard deviations of Gaussian angular noise, ``>= 0``.
    quantize_omega : bool, default False
        Record the bin centre instead of the Laue angle as ``omega_deg``.
    lit_at : {"peak", "bin"}, default "peak"
        Angle at which the lit test is made (module rule 3).
    seed : int, numpy Generator or None
        Random generator for the imperfections (module rule 5).
    profile : str or BeamProfile, default "box"
        Beam profile (:func:`~superres_widgets.s3dxrd.beam_profiles`); its
        support decides which frames see a grain (module rule 3) and its
        weights the intensity of each record (rule 5).
    axis_offset_um : float, default 0
        Rotation-axis offset ``y0`` (module rule 2, geometry rule 3),
        ``|y0| <= R``.
    x_positions_um : array_like, optional
        Beam positions relative to the axis, as data (rule 2).
    omega_deg : array_like, optional
        ω bin centres as data (rule 1): sorted, at least ``omega_step_deg``
        apart, spanning at most 360 deg; replaces ``omega_start_deg`` and
        ``omega_range_deg``.
    detection_threshold : float, default 0
        Records with intensity below it (beam widths squared, rule 5) are
        not recorded, ``>= 0``.
    cancel : threading.Event, callable or None
        Polled between grains; once set,
        :class:`~superres_widgets.s3dxrd.ComputationCancelled` is raised
        (conventions rule 5).

    Returns
    -------
    Simulation
        ``.data`` (:class:`ScanData`), ``.truth`` (:class:`ScanTruth`).

    Notes
    -----
    Cost: for every grain, its diffraction events (about 112 for fcc up to
    {420}) times its boundary cells; on the paper's setup (40 grains,
    0.25-um raster) well under a second.

    Examples
    --------
    >>> from superres_widgets.s3dxrd import voronoi_phantom
    >>> sim = simulate_scan(voronoi_phantom(20, 2, 0), omega_step_deg=5.0)
    >>> sim.data.n_bins, sim.data.n_positions
    (36, 7)
    """
    if not isinstance(phantom, Phantom):
        raise ValueError(f"phantom must be a Phantom, got {type(phantom).__name__}")
    if not np.any(phantom.labels >= 0):
        raise ValueError("phantom is empty (no specimen cell)")
    phase = CubicPhase() if phase is None else phase
    if not isinstance(phase, Phase):  # cubic, hexagonal, tetragonal (phases module)
        raise ValueError(f"phase must be a CubicPhase, HexagonalPhase or TetragonalPhase, got {phase!r}")
    if wavelength_angstrom is not None:
        refl = generate_hkl(
            phase, tth_max_deg, wavelength_angstrom=wavelength_angstrom, tth_min_deg=tth_min_deg
        )
    else:
        if energy_keV is None:
            raise ValueError("energy_keV: give energy_keV or wavelength_angstrom")
        refl = generate_hkl(phase, tth_max_deg, energy_keV=energy_keV, tth_min_deg=tth_min_deg)
    pdet = _finite(detection_probability, "detection_probability")
    if not 0 < pdet <= 1:
        raise ValueError(f"detection_probability must be in (0, 1], got {detection_probability!r}")
    lam_s = _finite(spurious_per_frame, "spurious_per_frame")
    if not 0 <= lam_s <= 1000:  # each spurious peak is simulated: bounded work
        raise ValueError(f"spurious_per_frame must be in [0, 1000], got {spurious_per_frame!r}")
    sig_e = _finite(noise_eta_deg, "noise_eta_deg")
    sig_w = _finite(noise_omega_deg, "noise_omega_deg")
    if sig_e < 0:
        raise ValueError(f"noise_eta_deg must be >= 0, got {noise_eta_deg!r}")
    if sig_w < 0:
        raise ValueError(f"noise_omega_deg must be >= 0, got {noise_omega_deg!r}")
    if detection_mode not in ("peak", "reflection"):
        raise ValueError(f"detection_mode must be 'peak' or 'reflection', got {detection_mode!r}")
    if lit_at not in ("peak", "bin"):
        raise ValueError(f"lit_at must be 'peak' or 'bin', got {lit_at!r}")

    thr = _finite(detection_threshold, "detection_threshold")
    if thr < 0:
        raise ValueError(f"detection_threshold must be >= 0, got {detection_threshold!r}")

    prof = get_beam_profile(profile, "profile")
    R = float(phantom.radius_um)
    # cover every specimen cell (user label maps may reach the raster corners)
    geom = scan_geometry(R, step_um, beam_um, omega_step_deg, omega_start_deg, omega_range_deg, prof,
                         axis_offset_um=axis_offset_um, x_positions_um=x_positions_um, omega_deg=omega_deg)
    nk = geom.n_positions
    dw = float(omega_step_deg)
    n_bins = geom.n_omega
    centres = geom.omega_deg
    regular_bins = omega_deg is None
    w0 = float(omega_start_deg) if regular_bins else float(centres[0] - 0.5 * dw)
    w_range = n_bins * dw if regular_bins else float(centres[-1] + 0.5 * dw - w0)

    pred = predict_reflections(phantom.orientations, refl, w0, w_range)
    if regular_bins:
        jbin = np.floor((pred.omega_deg - w0) / dw).astype(np.int64)
        in_bin = np.ones(jbin.size, dtype=bool)
    else:  # a reflection in a gap of the ω list is never recorded (rule 1)
        jbin = np.searchsorted(centres - 0.5 * dw, pred.omega_deg, side="right").astype(np.int64) - 1
        in_bin = (jbin >= 0) & (pred.omega_deg < centres[np.clip(jbin, 0, n_bins - 1)] + 0.5 * dw)
    jbin = np.clip(jbin, 0, n_bins - 1)
    w_lit = pred.omega_deg if lit_at == "peak" else centres[jbin]
    ev, kk, inten = _lit_records(phantom, pred, w_lit, in_bin, geom, cancel)
    if thr > 0:  # weak peaks (beam tails) go missing (rule 5), before any random imperfection
        strong = inten >= thr
        ev, kk, inten = ev[strong], kk[strong], inten[strong]

    rng = np.random.default_rng(seed)
    if pdet < 1:
        if detection_mode == "peak":
            keep = rng.random(ev.size) < pdet
        else:
            keep = (rng.random(pred.n_events) < pdet)[ev]
        ev, kk, inten = ev[keep], kk[keep], inten[keep]
    eta = pred.eta_deg[ev].copy()
    om = pred.omega_deg[ev].copy()
    jj = jbin[ev]
    if sig_e > 0:
        eta = eta + rng.normal(0.0, sig_e, eta.size)
    if sig_w > 0:
        om = om + rng.normal(0.0, sig_w, om.size)
    ring = pred.ring[ev]
    grain = pred.orientation[ev]
    hkl_i = pred.hkl_index[ev]
    sol = pred.solution[ev]
    n_frames = nk * n_bins
    n_sp = int(rng.poisson(lam_s * n_frames)) if lam_s > 0 else 0
    if n_sp:
        fr = rng.integers(0, n_frames, n_sp)
        sk, sj = fr // n_bins, fr % n_bins
        sring = refl.ring[rng.integers(0, refl.n_reflections, n_sp)]
        seta = 180.0 - 360.0 * rng.random(n_sp)
        if regular_bins:
            som = w0 + (sj + rng.random(n_sp)) * dw
        else:
            som = centres[sj] + (rng.random(n_sp) - 0.5) * dw
        kk = np.concatenate([kk, sk])
        inten = np.concatenate([inten, np.full(n_sp, np.nan)])
        jj = np.concatenate([jj, sj])
        ring = np.concatenate([ring, sring])
        eta = np.concatenate([eta, seta])
        om = np.concatenate([om, som])
        minus = -np.ones(n_sp, dtype=np.int64)
        grain = np.concatenate([grain, minus])
        hkl_i = np.concatenate([hkl_i, minus])
        sol = np.concatenate([sol, minus])
    eta = 180.0 - np.mod(180.0 - eta, 360.0)  # wrap into (-180, 180]
    if quantize_omega:
        om = centres[jj].copy()
    order = np.lexsort((om, jj, kk))
    data = ScanData(
        geometry=geom,
        reflections=refl,
        omega_start_deg=w0,
        omega_step_deg=dw,
        n_bins=n_bins,
        k=kk[order].astype(np.int64),
        j=jj[order].astype(np.int64),
        ring=ring[order].astype(np.int64),
        eta_deg=eta[order],
        omega_deg=om[order],
        tth_deg=refl.ring_tth_deg[ring[order]],
        intensity=inten[order],
    )
    truth = ScanTruth(
        grain=grain[order].astype(np.int64),
        hkl_index=hkl_i[order].astype(np.int64),
        solution=sol[order].astype(np.int64),
        predicted=pred,
    )
    return Simulation(data=data, truth=truth, phantom=phantom)
