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
   and ``n_bins = omega_range_deg / dw`` (must be an integer).  The
   :class:`~superres_widgets.s3dxrd.geometry.ScanGeometry` of the scan
   carries the **bin centres** ``w0 + (j + 1/2) dw`` as its ``omega_deg``,
   so a point's ``(X, omega)`` list (seed eq. (1), geometry rule 4) has one
   entry per bin.  Scan positions are ``X_k = step * (k - k_max)`` for the
   array index ``k = 0 .. n_positions-1`` (``geometry.x_positions[k]``).

2. **Scan range** ``x_range = R + step/2`` for a specimen of radius ``R``, so
   every specimen point's rounded ``X`` (geometry rule 4) is a scanned
   position and every list is complete.

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

5. **Imperfections** (all from one ``numpy.random.Generator(seed)``, in
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
    return _conventions_cos_sin_deg(np.asarray(omega_deg, dtype=float))


def _n_bins(omega_range_deg: float, omega_step_deg: float) -> int:
    q = omega_range_deg / omega_step_deg
    n = int(round(q))
    if n < 1 or abs(q - n) > 1e-6:
        raise ValueError(
            f"omega_range_deg / omega_step_deg must be a positive integer, "
            f"got {omega_range_deg!r} / {omega_step_deg!r}"
        )
    return n


def scan_geometry(
    radius_um: float,
    step_um: float = 4.0,
    beam_um: float | None = None,
    omega_step_deg: float = 0.5,
    omega_start_deg: float = 0.0,
    omega_range_deg: float = 180.0,
    profile: str | BeamProfile = "box",
) -> ScanGeometry:
    """The :class:`ScanGeometry` of a scan of a specimen of radius ``radius_um``.

    ``x_range = radius_um + step_um / 2`` (module rule 2), bin centres as the
    angles (rule 1), ``unit="um"``, beam ``profile`` of nominal width
    ``beam_um`` (default: ``step_um``).

    Examples
    --------
    >>> g = scan_geometry(10.0, omega_step_deg=45.0)
    >>> g.x_range, g.omega_deg.tolist(), g.profile_name
    (12.0, [22.5, 67.5, 112.5, 157.5], 'box')
    """
    R = _positive(radius_um, "radius_um")
    step = _positive(step_um, "step_um")
    b = step if beam_um is None else _positive(beam_um, "beam_um")
    dw = _positive(omega_step_deg, "omega_step_deg")
    w0 = _finite(omega_start_deg, "omega_start_deg")
    wr = _positive(omega_range_deg, "omega_range_deg")
    if wr > 360 + 1e-9:
        raise ValueError(f"omega_range_deg must be <= 360, got {omega_range_deg!r}")
    n = _n_bins(wr, dw)
    centres = w0 + (np.arange(n) + 0.5) * dw
    return ScanGeometry(
        x_range=R + 0.5 * step, step=step, beam_width=b, omega_deg=centres, profile=profile, unit="um"
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
        return self.n_bins * self.omega_step_deg

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
        support decides which frames see a grain (module rule 3).
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
    if not isinstance(phase, CubicPhase):
        raise ValueError(f"phase must be a CubicPhase, got {phase!r}")
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
    if lam_s < 0:
        raise ValueError(f"spurious_per_frame must be >= 0, got {spurious_per_frame!r}")
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

    prof = get_beam_profile(profile, "profile")
    R = float(phantom.radius_um)
    # cover every specimen cell (user label maps may reach the raster corners)
    geom = scan_geometry(R, step_um, beam_um, omega_step_deg, omega_start_deg, omega_range_deg, prof)
    step, b = geom.step, geom.beam_width
    half = prof.support(b)  # the lit interval |d| <= half (module rule 3)
    kmax, nk = geom.k_max, geom.n_positions
    w0, dw = float(omega_start_deg), float(omega_step_deg)
    n_bins = geom.n_omega
    centres = geom.omega_deg

    pred = predict_reflections(phantom.orientations, refl, w0, n_bins * dw)
    jbin = np.floor((pred.omega_deg - w0) / dw).astype(np.int64)
    jbin = np.clip(jbin, 0, n_bins - 1)
    use_all = 2.0 * half < 1.5 * phantom.pixel_um
    bx, by, boff = _grain_boundary_points(phantom, use_all)
    poff = pred.offsets

    rec_event: list[np.ndarray] = []
    rec_k: list[np.ndarray] = []
    for g in range(phantom.n_grains):
        check_cancel(cancel, "simulate_scan")
        e0, e1 = int(poff[g]), int(poff[g + 1])
        c0, c1 = int(boff[g]), int(boff[g + 1])
        if e1 == e0 or c1 == c0:
            continue
        w = pred.omega_deg[e0:e1] if lit_at == "peak" else centres[jbin[e0:e1]]
        cw, sw = cos_sin_deg(w)
        u = np.multiply.outer(cw, bx[c0:c1]) - np.multiply.outer(sw, by[c0:c1])  # (n_e, n_c)
        klo = np.ceil((u - half) / step - _TIE).astype(np.int64) + kmax
        khi = np.floor((u + half) / step + _TIE).astype(np.int64) + kmax
        klo = np.clip(klo, 0, nk)
        khi = np.clip(khi, -1, nk - 1)
        ok = klo <= khi
        n_e = e1 - e0
        rows = np.broadcast_to(np.arange(n_e)[:, None], u.shape)
        W = nk + 1
        idx_lo = (rows * W + klo)[ok]
        idx_hi = (rows * W + khi + 1)[ok]
        diff = np.bincount(idx_lo, minlength=n_e * W) - np.bincount(idx_hi, minlength=n_e * W)
        lit = np.cumsum(diff.reshape(n_e, W), axis=1)[:, :nk] > 0
        ev, kk = np.nonzero(lit)
        rec_event.append(ev + e0)
        rec_k.append(kk)
    ev = np.concatenate(rec_event) if rec_event else np.zeros(0, dtype=np.int64)
    kk = np.concatenate(rec_k) if rec_k else np.zeros(0, dtype=np.int64)

    rng = np.random.default_rng(seed)
    if pdet < 1:
        if detection_mode == "peak":
            keep = rng.random(ev.size) < pdet
        else:
            keep = (rng.random(pred.n_events) < pdet)[ev]
        ev, kk = ev[keep], kk[keep]
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
        som = w0 + (sj + rng.random(n_sp)) * dw
        kk = np.concatenate([kk, sk])
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
    )
    truth = ScanTruth(
        grain=grain[order].astype(np.int64),
        hkl_index=hkl_i[order].astype(np.int64),
        solution=sol[order].astype(np.int64),
        predicted=pred,
    )
    return Simulation(data=data, truth=truth, phantom=phantom)
