r"""Orientation maps from *any* peak table: a beamline user's ImageD11 peaks, or ours.

:func:`reconstruct_from_peaks` runs the conventional and sub-pixel maps of
Kim, Hayashi & Yabashi (2023) on a peak table -- a
:class:`~superres_widgets.s3dxrd.ScanData`, a
:class:`~superres_widgets.s3dxrd.columnfile.PeakTable` or an ImageD11
columnfile path -- with candidates from a global indexing of the peaks, from
the user (orientations) or from an ImageD11 grain file whose translations are
used too.  :func:`scan_from_peaks` turns a peak table into the scan and its
frames.  Nothing here knows a phantom.

Conventions
-----------
Checked in ``tests/test_s3dxrd_columnfile.py``.

1. **Scan positions** (geometry rule 9): ``X = y0 - dty``.  When every
   ``dty`` is a multiple of the step (a motor grid) the scan is the grid
   ``X = y0 + step k``, ``|k| <= K`` (``K`` the largest ``|dty| / step``),
   so positions where nothing diffracted are still scanned positions; with
   the header's ``x_range`` the scan is that grid, ``|step k| <= x_range``,
   whatever the peaks (one off it is outside the scan, rule 4); otherwise
   the distinct ``X`` are the scan
   (:meth:`ScanGeometry.from_imaged11`).  ``step`` defaults to the header's
   ``dty_step``, else the smallest spacing of the distinct ``dty``.

2. **Omega bins**: ``omega_start``, ``omega_step``, ``omega_range`` from the
   arguments, else the file header, else the step from the distinct
   ``frame_omega`` and the range rounded up to whole bins.  A peak's bin is
   the one its ``frame_omega`` (else its ``omega``) falls in.

3. **Rings**: a peak belongs to the ring of the phase whose
   ``d* = 2 sin(theta) / lambda`` is nearest, within ``ds_tol`` (default
   0.005 / A, ImageD11's ``ds_tol``); the wavelength comes from the argument,
   else the ``.par``'s ``wavelength``.  ``tth_max_deg`` defaults to the
   header's ``tth_max``, else the largest peak ``2 theta`` plus 0.5 deg.

4. **Dropped peaks are counted** (``dropped``): ``nan`` (read), ``off_ring``,
   ``outside_scan`` (a ``dty`` off the given scan -- or beyond the header's
   ``x_range`` -- by more than ``1e-6`` step, or an omega outside the bins).

5. **Grain files** (:mod:`~superres_widgets.s3dxrd.grainfile`): the ``UBI``
   must match the phase's cell (``cell_tol``); ``#translation: x y z``
   (ImageD11 sample frame, micrometres) is turned into the specimen frame
   ``(xs, ys) = (sy, -sx)`` and starts the likelihood scorer's centre fits;
   a translation outside the scanned field is an error naming the file and
   line.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .beam import BeamProfile
from .conventions import check_cancel
from .conventions import positive_scalar as _positive
from .crystal import CubicPhase, check_orientations, generate_hkl
from .forward import ScanData
from .geometry import ScanGeometry
from .nprime import ObservationTable, OrientationMap, observation_table, orientation_map

__all__ = ["PeakReconstruction", "scan_from_peaks", "reconstruct_from_peaks"]


def _header(peaks: Any, name: str, value: Any) -> Any:
    if value is not None:
        return value
    return getattr(peaks, "header", {}).get(name)


def _positions(dty: np.ndarray, y0: float, step: float | None, x_range: float | None):
    d = np.unique(dty)
    if step is None:
        diffs = np.diff(d)
        diffs = diffs[diffs > 1e-9 * max(1.0, float(np.abs(d).max()))]
        step = float(diffs.min()) if diffs.size else 1.0
    step = _positive(step, "step_um")
    if x_range is not None:  # the header's scan: a dty off it is outside the scan (counted), not a wider scan
        try:
            xr = float(x_range)
        except (TypeError, ValueError):
            xr = math.nan
        if not (math.isfinite(xr) and xr >= 0):
            raise ValueError(f"x_range (columnfile header) must be a finite number >= 0, got {x_range!r}")
        return dict(x_range=max(xr, abs(y0)), step=step, axis_offset=y0), step
    q = d / step
    if np.all(np.abs(q - np.round(q)) <= 1e-6):
        K = max(int(np.abs(np.round(q)).max()), int(math.ceil(abs(y0) / step - 1e-9)))
        return dict(x_range=K * step, step=step, axis_offset=y0), step
    return dict(positions=y0 - d, step=step), step


def _bins(peaks: Any, omega_start, omega_step, omega_range):
    w = peaks.omega_deg if getattr(peaks, "frame_omega_deg", None) is None else peaks.frame_omega_deg
    dw = _header(peaks, "omega_step", omega_step)
    if dw is None:
        if getattr(peaks, "frame_omega_deg", None) is None:
            raise ValueError(
                f"{peaks.path or 'peaks'}: omega_step_deg unknown (no frame_omega column, no omega_step in "
                "the header): give omega_step_deg="
            )
        u = np.unique(np.round(w, 9))
        gaps = np.diff(u)
        dw = float(gaps.min()) if gaps.size else 1.0
    dw = _positive(dw, "omega_step_deg")
    w0 = _header(peaks, "omega_start", omega_start)
    w0 = float(math.floor(float(np.min(w)) / dw + 1e-9) * dw) if w0 is None else float(w0)
    wr = _header(peaks, "omega_range", omega_range)
    if wr is None:
        wr = dw * max(1, math.ceil((float(np.max(w)) - w0) / dw - 1e-9))
    wr = _positive(wr, "omega_range_deg")
    n = int(round(wr / dw))
    if n < 1 or abs(n * dw - wr) > 1e-6 * dw or wr > 360 + 1e-9:
        raise ValueError(f"omega_range_deg must be a whole number of omega steps <= 360, got {wr!r} / {dw!r}")
    return w0, dw, n, w


def scan_from_peaks(
    peaks: Any,
    phase: CubicPhase | None = None,
    *,
    geometry: ScanGeometry | None = None,
    wavelength_angstrom: float | None = None,
    energy_keV: float | None = None,
    step_um: float | None = None,
    beam_um: float | None = None,
    profile: str | BeamProfile | None = None,
    y0_um: float | None = None,
    omega_start_deg: float | None = None,
    omega_step_deg: float | None = None,
    omega_range_deg: float | None = None,
    tth_max_deg: float | None = None,
    ds_tol: float = 0.005,
) -> tuple[ScanData, dict]:
    """A peak table as a :class:`ScanData` (module rules 1-4).

    Parameters
    ----------
    peaks : PeakTable
        From :func:`~superres_widgets.s3dxrd.columnfile.read_columnfile`.
    phase : CubicPhase, optional
        Default fcc aluminium.
    geometry : ScanGeometry, optional
        The scan; default built from the peaks and the header (rule 1).
    wavelength_angstrom, energy_keV : float, optional
        Default the header's ``wavelength``.
    step_um, beam_um, profile, y0_um : optional
        Default the header's ``dty_step``, ``beam_width`` (else the step),
        ``beam_profile`` (else ``"box"``) and ``y0`` (else 0).
    omega_start_deg, omega_step_deg, omega_range_deg : float, optional
        Rule 2.
    tth_max_deg : float, optional
        Rule 3.
    ds_tol : float, default 0.005
        Ring tolerance in ``d*`` (1/A).

    Returns
    -------
    data : ScanData
    dropped : dict
        Counts of the peaks left out, by reason (rule 4).

    Examples
    --------
    >>> data, dropped = scan_from_peaks(read_columnfile("scan.flt", "scan.par"))  # doctest: +SKIP
    """
    from .columnfile import PeakTable

    if not isinstance(peaks, PeakTable):
        raise ValueError(f"peaks must be a PeakTable (read_columnfile), got {type(peaks).__name__}")
    phase = CubicPhase() if phase is None else phase
    name = peaks.path or "peaks"
    ds_tol = _positive(ds_tol, "ds_tol")
    lam = wavelength_angstrom
    if lam is None and energy_keV is None:
        lam = peaks.header.get("wavelength")
        if lam is None:
            raise ValueError(f"{name}: wavelength unknown: give wavelength_angstrom= or energy_keV= or a .par file")
    dropped = dict(peaks.dropped)
    w0, dw, n_bins, wframe = _bins(peaks, omega_start_deg, omega_step_deg, omega_range_deg)
    centres = w0 + (np.arange(n_bins) + 0.5) * dw
    if geometry is None:
        y0 = float(_header(peaks, "y0", y0_um) or 0.0)
        kw, step = _positions(peaks.dty_um, y0, _header(peaks, "dty_step", step_um), peaks.header.get("x_range"))
        b = _header(peaks, "beam_width", beam_um)
        prof = _header(peaks, "beam_profile", profile) or "box"
        geometry = ScanGeometry(beam_width=b, omega_deg=centres, profile=prof, unit="um", **kw)
    elif not isinstance(geometry, ScanGeometry):
        raise ValueError(f"geometry must be a ScanGeometry, got {type(geometry).__name__}")
    else:
        geometry = geometry.replace(omega_deg=centres)
        y0 = float(_header(peaks, "y0", y0_um) or 0.0)
    X = y0 - peaks.dty_um
    P = geometry.x_positions
    k = np.clip(np.searchsorted(P, X), 0, P.size - 1)
    km = np.clip(k - 1, 0, P.size - 1)
    k = np.where(np.abs(P[km] - X) < np.abs(P[k] - X), km, k)
    on_pos = np.abs(P[k] - X) <= 1e-6 * geometry.step
    j = np.floor((wframe - w0) / dw + 1e-9).astype(np.int64)
    in_w = (j >= 0) & (j < n_bins)
    tth = peaks.tth_deg
    tmax = _header(peaks, "tth_max", tth_max_deg)
    tmax = min(float(tth.max()) + 0.5, 179.0) if tmax is None else _positive(tmax, "tth_max_deg")
    tmin = float(peaks.header.get("tth_min", 0.0)) if tth_max_deg is None else 0.0
    if lam is not None:
        refl = generate_hkl(phase, tmax, wavelength_angstrom=float(lam), tth_min_deg=tmin)
    else:
        refl = generate_hkl(phase, tmax, energy_keV=energy_keV, tth_min_deg=tmin)
    lam = refl.wavelength_angstrom
    ds = 2.0 * np.sin(np.deg2rad(tth) / 2.0) / lam
    ring_ds = 1.0 / refl.ring_d_angstrom
    if ring_ds.size == 0:
        raise ValueError(f"{name}: the phase has no ring below 2 theta = {tmax:.3g} deg")
    nearest = np.abs(ds[:, None] - ring_ds[None, :]).argmin(axis=1)
    on_ring = np.abs(ds - ring_ds[nearest]) <= float(ds_tol)
    outside = ~(on_pos & in_w)
    if outside.any():
        dropped["outside_scan"] = int(outside.sum())
    off = ~on_ring & ~outside
    if off.any():
        dropped["off_ring"] = int(off.sum())
    keep = on_ring & ~outside
    if not keep.any():
        raise ValueError(f"{name}: no peak left on a ring of the phase inside the scan (dropped: {dropped})")
    order = np.lexsort((peaks.omega_deg[keep], j[keep], k[keep]))
    idx = np.nonzero(keep)[0][order]
    inten = None if peaks.intensity is None else np.asarray(peaks.intensity, float)[idx]
    data = ScanData(
        geometry=geometry,
        reflections=refl,
        omega_start_deg=w0,
        omega_step_deg=dw,
        n_bins=n_bins,
        k=k[idx].astype(np.int64),
        j=j[idx],
        ring=nearest[idx].astype(np.int64),
        eta_deg=np.asarray(peaks.eta_deg, float)[idx],
        omega_deg=np.asarray(peaks.omega_deg, float)[idx],
        tth_deg=refl.ring_tth_deg[nearest[idx]],
        intensity=inten,
    )
    return data, dropped


@dataclass(frozen=True, eq=False)
class PeakReconstruction:
    """What :func:`reconstruct_from_peaks` computed.

    Attributes
    ----------
    data : ScanData
    candidates : ndarray, (n_c, 3, 3)
    candidate_source : str
        ``"indexing"``, ``"user"`` or the grain file path.
    candidate_centres_um : ndarray (n_c, 2) or None
        Grain-file translations in the specimen frame (rule 5).
    indexing : IndexingResult or None
    table : ObservationTable
    conventional, subpixel : OrientationMap
    dropped : dict
        Peaks left out, by reason.
    timings, parameters : dict
    """

    data: ScanData
    candidates: np.ndarray
    candidate_source: str
    candidate_centres_um: np.ndarray | None
    indexing: Any
    table: ObservationTable
    conventional: OrientationMap
    subpixel: OrientationMap
    dropped: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)

    @property
    def geometry(self) -> ScanGeometry:
        return self.data.geometry


def _grain_file_candidates(path: Any, phase: Any, geometry: ScanGeometry):
    from .grainfile import orientations_from_grain_file, read_grain_file

    U = orientations_from_grain_file(path, phase)
    gf = read_grain_file(path)
    t = gf.translation
    cen = np.stack([t[:, 1], -t[:, 0]], axis=1)  # (xs, ys) = (sy, -sx)
    reach = geometry.x_range + float(geometry.profile.support(geometry.beam_width)) + geometry.step
    for i, (c, ln) in enumerate(zip(cen, gf.line)):
        if np.all(np.isfinite(c)) and math.hypot(*c) > reach:
            raise ValueError(
                f"{gf.path}:{int(ln)}: grain {i} translation ({t[i, 0]:.4g}, {t[i, 1]:.4g}) um is outside the "
                f"scanned field (radius {reach:.4g} um)"
            )
    return U, cen


def reconstruct_from_peaks(
    peaks: Any,
    geometry: ScanGeometry | None = None,
    candidates: Any = None,
    *,
    phase: CubicPhase | None = None,
    parameters: Any = None,
    subdivision: int = 4,
    radius_um: float | None = None,
    eta_tol_deg: float = 0.5,
    omega_tol_deg: float | None = None,
    angle_tol_deg: float = 0.5,
    merge_deg: float = 0.15,
    count: str = "reflection",
    expected: str = "predicted",
    tie_break: str = "next",
    scorer: str = "likelihood",
    scorer_options: dict | None = None,
    beam_weighting: bool = True,
    backend: str = "numpy",
    chunk_size: int = 1024,
    scheduler: Any = None,
    cancel: Any = None,
    **scan_options: Any,
) -> PeakReconstruction:
    r"""Conventional and sub-pixel orientation maps of any peak table.

    Parameters
    ----------
    peaks : ScanData, PeakTable, str or path
        The peaks; a path is read with
        :func:`~superres_widgets.s3dxrd.columnfile.read_columnfile`
        (``parameters`` is its ``.par``).
    geometry : ScanGeometry, optional
        The scan (default: from the peaks, module rule 1).
    candidates : None, array_like (n, 3, 3), str or path
        ``None``: global indexing of the peaks; orientations; or an ImageD11
        grain file (rule 5).
    phase : CubicPhase, optional
    parameters : dict, str or path, optional
        ImageD11 parameters (``.par``) for a columnfile path.
    subdivision : int, default 4
    radius_um : float, optional
        Specimen radius of the maps; default the scan's ``x_range - step/2``.
    eta_tol_deg, omega_tol_deg : float
        Matching tolerances; ``omega_tol_deg`` defaults to ``max(0.5, omega
        step)``.
    angle_tol_deg, merge_deg : float
        Indexing tolerances (:func:`~superres_widgets.s3dxrd.index_peaks`).
    count, expected, tie_break, scorer, scorer_options, beam_weighting
        As for :func:`~superres_widgets.s3dxrd.orientation_map` (default
        scorer: ``"likelihood"``, robust to real data).
    backend, chunk_size, scheduler, cancel
        As for :func:`~superres_widgets.s3dxrd.orientation_map`.
    **scan_options
        Passed to :func:`scan_from_peaks` (``wavelength_angstrom``,
        ``step_um``, ``beam_um``, ``omega_step_deg``...).

    Returns
    -------
    PeakReconstruction

    Examples
    --------
    >>> r = reconstruct_from_peaks("scan.flt", parameters="scan.par", subdivision=4)  # doctest: +SKIP
    >>> r.subpixel.spacing_um                                                       # doctest: +SKIP
    1.0
    """
    from .columnfile import PeakTable, read_columnfile
    from .indexing import index_peaks

    t_all = time.perf_counter()
    timings: dict[str, float] = {}
    dropped: dict = {}
    if isinstance(peaks, (str, os.PathLike)):
        peaks = read_columnfile(peaks, parameters)
    if isinstance(peaks, PeakTable):
        data, dropped = scan_from_peaks(peaks, phase, geometry=geometry, **scan_options)
    elif isinstance(peaks, ScanData):
        if scan_options:
            raise ValueError(f"scan options {sorted(scan_options)} only apply to a peak table or a columnfile")
        data = peaks
    else:
        raise ValueError(f"peaks must be ScanData, a PeakTable or a columnfile path, got {type(peaks).__name__}")
    phase = data.reflections.phase
    geom = data.geometry
    tw = max(0.5, float(data.omega_step_deg)) if omega_tol_deg is None else _positive(omega_tol_deg, "omega_tol_deg")
    te = _positive(eta_tol_deg, "eta_tol_deg")
    centres = None
    indexing = None
    t = time.perf_counter()
    if candidates is None:
        indexing = index_peaks(data, eta_tol_deg=te, omega_tol_deg=tw, angle_tol_deg=angle_tol_deg,
                               merge_deg=merge_deg, cancel=cancel)
        if indexing.n_candidates == 0:
            raise ValueError("candidates: global indexing found no orientation in the peaks")
        U, source = indexing.U, "indexing"
    elif isinstance(candidates, (str, os.PathLike)):
        U, centres = _grain_file_candidates(candidates, phase, geom)
        source = os.fspath(candidates)
    else:
        U, source = check_orientations(candidates, "candidates"), "user"
    timings["indexing"] = time.perf_counter() - t
    check_cancel(cancel, "reconstruct_from_peaks")
    t = time.perf_counter()
    table = observation_table(data, U, eta_tol_deg=te, omega_tol_deg=tw, cancel=cancel)
    timings["observation"] = time.perf_counter() - t
    R = geom.x_range - 0.5 * geom.step if radius_um is None else _positive(radius_um, "radius_um")
    opts = dict(scorer_options or {})
    if centres is not None and scorer == "likelihood":
        opts.setdefault("centres_um", centres)
    kw = dict(count=count, expected=expected, tie_break=tie_break, chunk_size=chunk_size, backend=backend,
              scheduler=scheduler, cancel=cancel, beam_weighting=beam_weighting, scorer=scorer,
              scorer_options=opts)
    t = time.perf_counter()
    conv = orientation_map(data, table, 1, R, **kw)
    timings["conventional"] = time.perf_counter() - t
    t = time.perf_counter()
    sub = orientation_map(data, table, subdivision, R, **kw)
    timings["subpixel"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t_all
    params = dict(subdivision=int(subdivision), radius_um=R, eta_tol_deg=te, omega_tol_deg=tw, count=count,
                  expected=expected, tie_break=tie_break, scorer=scorer, beam_weighting=bool(beam_weighting),
                  n_peaks=data.n_peaks, dropped=dict(dropped))
    return PeakReconstruction(
        data=data, candidates=U, candidate_source=source, candidate_centres_um=centres, indexing=indexing,
        table=table, conventional=conv, subpixel=sub, dropped=dict(dropped), timings=timings, parameters=params,
    )
