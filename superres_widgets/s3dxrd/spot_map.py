r"""The relative spot size over the whole specimen (seed 000 Fig. 4).

Kim, Hayashi & Yabashi (2023), section 4, Figs. 3-4: every pixel of the
scan is divided into sub-pixels, and for each sub-pixel target the fully
superposed region of its ``(X, omega)`` list
(:mod:`~superres_widgets.s3dxrd.superposition`, rules 5-6) is computed
exactly; the map of the relative spot size ``sqrt(A / A(0, 0))``, its
radial average and the histogram of the centroid error follow.  Frames and
rules 1-4 are in :mod:`~superres_widgets.s3dxrd.geometry`.

Conventions
-----------
Checked in ``tests/test_s3dxrd_geometry.py``.

8. **Sub-pixel targets** (:func:`superposition_map`, paper Fig. 3-4).  The
   pixel with integer indices ``(i, j)`` sits at ``(i step, j step)`` for the
   scan's positions; an ``s x s`` subdivision adds the targets
   ``((i + m/s) step, (j + n/s) step)`` for ``m, n = 0 .. s-1`` (the paper's
   fractional coordinates 0, 0.25, 0.5, 0.75 for ``s = 4``), and only targets
   with ``r <= radius`` (default ``x_range``) are kept.  Every target with
   ``r < step/2`` has the measurement list of the rotation centre, so the
   Fig. 4 statistics (mean relative size, COM-error histogram) use
   ``r >= step/2`` only, as the paper does ("Except for r < 0.5").

   For a flat profile (the paper's box) the regions are the exact polygons
   (rule 5).  For a profile with tails (beam convention 7) every target's
   region is its **sensitivity** (:mod:`~superres_widgets.s3dxrd.sensitivity`,
   conventions 10-13): ``area`` is the effective area ``int S / S_max``,
   ``centroid`` the centroid of ``S``, and the Fig. 4 statistics follow
   unchanged (relative size ``sqrt(A_eff / A_eff(0, 0))``, centroid
   error).  ``combine="minimum"`` uses ``min_k w`` instead of the product.
   :func:`superposition_map` polls ``cancel=`` between chunks of targets
   (conventions rule 5) so that a widget can drop a stale map early.

Notes
-----
With ``x_range=10``, ``step=1``, ``b=1`` and ``omega = 0, 10, ..., 170 deg``
the exact areas are 0.7874 (``(0, 0)``, a 36-gon) and 0.006933 (``(3, 2)``)
beam widths squared.  With 4 x 4 sub-pixels (5025 targets, r <= 10) the mean
relative size for ``r >= 0.5`` is 0.1857 (paper: about 0.2) and the Gaussian
fit to the ``r(xs, ys) - r(COM)`` histogram has FWHM 0.126 beam (paper:
0.136).  Rounding half to even instead of rule 4 would give 0.1833 and 0.134.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import TIE_TOL as _TIE_TOL
from ..validate import check_array_bytes, check_int
from .conventions import check_cancel, check_type
from .conventions import finite_scalar as _finite_scalar
from .conventions import positive_scalar as _positive_scalar
from .geometry import ScanGeometry
from .sensitivity import _batch_sensitivity
from .superposition import _batch_regions

__all__ = [
    "SuperpositionMapResult",
    "SuperpositionStats",
    "superposition_map",
]

#: Conversion factor FWHM = 2 sqrt(2 ln 2) sigma.
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: Targets x half-planes per batch of :func:`superposition_map` (small batches are as
#: fast -- cache-friendly -- and let a cancelled map stop within a few ms).
_MAX_BATCH_ELEMENTS = 500_000
#: Fewest targets per batch.
_MIN_BATCH_TARGETS = 1024


# ---------------------------------------------------------------------------
# superposition map over the specimen (paper Fig. 4)
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SuperpositionStats:
    """Statistics of paper Fig. 4 over a :class:`SuperpositionMapResult`.

    Per-target arrays have the length of the map's targets.

    Attributes
    ----------
    area_centre : float
        Area ``A_centre`` of the region of ``(0, 0)``.
    relative_size : ndarray, (n,)
        ``sqrt(A / A_centre)`` per target (0 for an empty region); Fig. 4(a).
    r_min : float
        Targets with ``r < r_min`` (default ``step/2``) share the list of the
        rotation centre and are left out of the mean and histogram, as in the
        paper ("Except for r < 0.5").
    selected : ndarray of bool, (n,)
        Targets used for ``mean_relative_size`` and the histogram: complete
        list, non-empty region and ``r_target >= r_min``.
    n_selected : int
    mean_relative_size : float
        Mean of ``relative_size`` over ``selected`` (paper: about 0.2).  NaN
        only if no target at ``r >= r_min`` has a fully superposed region
        (a beam narrower than the step: ``has_region`` shows which targets
        have one); ``radius <= r_min`` is a ``ValueError``.
    radial_bin_width : float
    radial_bins, radial_mean, radial_counts : ndarray
        Radial average of ``relative_size`` over all valid targets (complete
        list, non-empty region), bins ``[i w, (i+1) w)`` of ``r_target``;
        only non-empty bins are listed; ``radial_bins`` are bin centres.
    r_target, r_com : ndarray, (n,)
        Radius of the target and of its region's centroid (Fig. 4(b));
        ``r_com`` is NaN where the region is empty.
    com_error : ndarray, (n,)
        ``r_target - r_com`` (Fig. 4(c)); NaN where the region is empty.
    hist_edges, hist_counts : ndarray
        Histogram of ``com_error[selected]`` (so ``r >= r_min``, as the
        paper's Fig. 4(c)): bins of width ``hist_bin_width`` over the
        symmetric range ``+-`` the largest ``|com_error|`` rounded up to a
        whole bin.
    hist_bin_width : float
        Default: the Freedman-Diaconis width ``2 IQR / n**(1/3)`` (0.0088
        for the paper's scan); the fitted FWHM there varies by about
        +-0.003 for widths 0.005-0.04.
    gauss_amplitude, gauss_mu, gauss_sigma : float
        Least-squares fit of ``A exp(-(x - mu)^2 / (2 sigma^2))`` to the
        histogram at the bin centres (``sigma > 0``).
    com_error_fwhm : float
        ``2 sqrt(2 ln 2) sigma`` = 2.3548 sigma (paper: 0.136 beam).
    gauss_fit_ok : bool
        ``False`` if the fit failed and the moments of the data were used.
    mean_spot_size : float
        Mean of ``sqrt(A) / b`` over ``selected``: the absolute spot size in
        beam widths, comparable across beam profiles (the relative size
        compares with the centre, whose own size depends on the profile).
    """

    area_centre: float
    relative_size: np.ndarray
    r_min: float
    selected: np.ndarray
    n_selected: int
    mean_relative_size: float
    radial_bin_width: float
    radial_bins: np.ndarray
    radial_mean: np.ndarray
    radial_counts: np.ndarray
    r_target: np.ndarray
    r_com: np.ndarray
    com_error: np.ndarray
    hist_bin_width: float
    hist_edges: np.ndarray
    hist_counts: np.ndarray
    gauss_amplitude: float
    gauss_mu: float
    gauss_sigma: float
    com_error_fwhm: float
    gauss_fit_ok: bool
    mean_spot_size: float = float("nan")


@dataclass(frozen=True, eq=False)
class SuperpositionMapResult:
    """Exact superposed regions of every sub-pixel target of the specimen.

    Attributes
    ----------
    geometry : ScanGeometry
    subdivision : int
    radius : float
        Specimen disc radius; targets with ``r <= radius`` are kept.
    xs, ys : ndarray, (n,)
        Target coordinates (row-major over the grid, ``ys`` outer).
    grid_x, grid_y : ndarray
        Sorted target coordinates along each axis: ``(i + m/s) step``.
    grid_index : ndarray of int, (len(grid_y), len(grid_x))
        Index into the per-target arrays, ``-1`` outside the disc; rows go
        with ``ys`` ascending.
    area : ndarray, (n,)
        Exact area of each target's region (0 if empty).
    centroid : ndarray, (n, 2)
        Centre of mass; rows are NaN exactly where ``has_region`` is False
        (never for the default ``beam_width == step`` inside the scan).
    n_measurements : ndarray of int, (n,)
    complete : ndarray of bool, (n,)
        The measurement list has one entry per angle (no angle dropped).
    has_region : ndarray of bool, (n,)
        ``area > 0``.
    n_vertices : ndarray of int, (n,)
        Vertex count of the clipped polygon (may count near-duplicates; 0
        for sensitivity maps).
    n_distinct_lists : int
        Number of polygons actually clipped: targets with the same
        measurement list share one region (counted per batch of targets).
    stats : SuperpositionStats
    measure : str
        ``"polygon"`` (flat profile: exact polygons) or ``"product"`` /
        ``"minimum"`` (sensitivity maps, rule 8).
    """

    geometry: ScanGeometry
    subdivision: int
    radius: float
    xs: np.ndarray
    ys: np.ndarray
    grid_x: np.ndarray
    grid_y: np.ndarray
    grid_index: np.ndarray
    area: np.ndarray
    centroid: np.ndarray
    n_measurements: np.ndarray
    complete: np.ndarray
    has_region: np.ndarray
    n_vertices: np.ndarray
    n_distinct_lists: int
    stats: SuperpositionStats
    measure: str = "polygon"

    @property
    def n_targets(self) -> int:
        """Number of targets inside the disc."""
        return int(self.xs.size)

    @property
    def valid(self) -> np.ndarray:
        """Targets with a complete list and a non-empty region."""
        return self.complete & self.has_region

    @property
    def image_extent(self) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)`` for showing grid images with each
        target at the centre of a cell of side ``step / subdivision``."""
        h = 0.5 * self.geometry.step / self.subdivision
        return (
            float(self.grid_x[0] - h),
            float(self.grid_x[-1] + h),
            float(self.grid_y[0] - h),
            float(self.grid_y[-1] + h),
        )

    def to_image(self, values: Any, fill: float = np.nan) -> np.ndarray:
        """Scatter a per-target array onto the 2-D target grid.

        Returns a float array shaped like :attr:`grid_index` (rows with ``ys``
        ascending); cells outside the disc get ``fill``.  For display only.
        """
        v = np.asarray(values, dtype=float)
        if v.shape != (self.n_targets,):
            raise ValueError(f"values must have shape ({self.n_targets},), got {v.shape}")
        img = np.full(self.grid_index.shape, fill, dtype=float)
        inside = self.grid_index >= 0
        img[inside] = v[self.grid_index[inside]]
        return img

    @property
    def relative_size_image(self) -> np.ndarray:
        """``stats.relative_size`` on the grid, NaN outside the disc (display
        array for Fig. 4(a)-style maps)."""
        return self.to_image(self.stats.relative_size)


def _gauss(x: np.ndarray, a: float, mu: float, sigma: float) -> np.ndarray:
    return a * np.exp(-0.5 * ((x - mu) / sigma) ** 2)


def _fit_gaussian(
    centres: np.ndarray, counts: np.ndarray, data: np.ndarray
) -> tuple[float, float, float, bool]:
    """Unweighted least-squares fit of ``_gauss`` to a histogram.

    Levenberg-Marquardt in numpy (the same objective as
    ``scipy.optimize.curve_fit`` without ``sigma``; importing scipy.optimize
    would triple the cost of a first map).  Starts from the moments of
    ``data``; returns ``(a, mu, sigma, ok)`` and falls back to the moments
    with ``ok = False`` when there is nothing to fit.
    """
    y = counts.astype(float)
    mu0 = float(np.mean(data)) if data.size else 0.0
    sd0 = float(np.std(data)) if data.size > 1 else 0.0
    a0 = float(y.max()) if y.size else 0.0
    if np.count_nonzero(y) < 3 or not sd0 > 0:
        return a0, mu0, sd0, False
    p = np.array([a0, mu0, sd0])

    def resid_jac(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, mu, sig = p
        z = (centres - mu) / sig
        e = np.exp(-0.5 * z * z)
        J = np.stack([e, a * e * z / sig, a * e * z * z / sig], axis=1)
        return y - a * e, J

    r, J = resid_jac(p)
    sse = float(r @ r)
    lam = 1e-3
    for _ in range(200):
        JTJ = J.T @ J
        g = J.T @ r
        try:
            delta = np.linalg.solve(JTJ + lam * np.diag(np.diag(JTJ)), g)
        except np.linalg.LinAlgError:
            break
        trial = p + delta
        if trial[2] == 0 or not np.all(np.isfinite(trial)):
            lam *= 10.0
            continue
        r_t, J_t = resid_jac(trial)
        sse_t = float(r_t @ r_t)
        if sse_t <= sse:
            converged = sse - sse_t <= 1e-12 * max(sse, 1e-300)
            p, r, J, sse = trial, r_t, J_t, sse_t
            lam = max(lam / 10.0, 1e-12)
            if converged:
                break
        else:
            lam *= 10.0
            if lam > 1e12:
                break
    a, mu, sig = (float(v) for v in p)
    if not (math.isfinite(a) and math.isfinite(mu) and math.isfinite(sig) and sig != 0):
        return a0, mu0, sd0, False
    return a, mu, abs(sig), True


def _map_stats(
    geometry: ScanGeometry,
    xs: np.ndarray,
    ys: np.ndarray,
    area: np.ndarray,
    centroid: np.ndarray,
    valid: np.ndarray,
    area_centre: float,
    r_min: float,
    radial_bin_width: float,
    hist_bin_width: float | None,
) -> SuperpositionStats:
    rel = np.sqrt(area / area_centre) if area_centre > 0 else np.zeros_like(area)
    r_t = np.hypot(xs, ys)
    r_c = np.hypot(centroid[:, 0], centroid[:, 1])
    err = r_t - r_c
    selected = valid & (r_t >= r_min - _TIE_TOL * geometry.step)
    n_sel = int(selected.sum())
    mean_rel = float(rel[selected].mean()) if n_sel else float("nan")

    # radial average over valid targets
    w = radial_bin_width
    rb = np.floor(r_t[valid] / w + _TIE_TOL).astype(np.int64)
    if rb.size:
        cnt = np.bincount(rb)
        sums = np.bincount(rb, weights=rel[valid])
        nz = cnt > 0
        radial_bins = (np.nonzero(nz)[0] + 0.5) * w
        radial_mean = sums[nz] / cnt[nz]
        radial_counts = cnt[nz]
    else:
        radial_bins = radial_mean = np.zeros(0)
        radial_counts = np.zeros(0, dtype=np.int64)

    # histogram of r_target - r_com and its Gaussian fit
    e = err[selected]
    hw = hist_bin_width
    if hw is None:  # Freedman-Diaconis width
        q25, q75 = np.percentile(e, [25, 75]) if e.size else (0.0, 0.0)
        hw = 2.0 * float(q75 - q25) / max(e.size, 1) ** (1.0 / 3.0)
        if not hw > 0:
            hw = geometry.step / 50.0
    if e.size:
        nb = max(int(math.ceil(float(np.abs(e).max()) / hw - _TIE_TOL)), 1)
    else:
        nb = 1
    edges = hw * np.arange(-nb, nb + 1, dtype=float)
    counts, _ = np.histogram(e, bins=edges)
    centres = 0.5 * (edges[:-1] + edges[1:])
    a, mu, sig, ok = _fit_gaussian(centres, counts, e)
    return SuperpositionStats(
        area_centre=float(area_centre),
        relative_size=rel,
        r_min=float(r_min),
        selected=selected,
        n_selected=n_sel,
        mean_relative_size=mean_rel,
        radial_bin_width=float(w),
        radial_bins=radial_bins,
        radial_mean=radial_mean,
        radial_counts=radial_counts,
        r_target=r_t,
        r_com=r_c,
        com_error=err,
        hist_bin_width=float(hw),
        hist_edges=edges,
        hist_counts=counts,
        gauss_amplitude=a,
        gauss_mu=mu,
        gauss_sigma=sig,
        com_error_fwhm=_FWHM_PER_SIGMA * sig,
        gauss_fit_ok=ok,
        mean_spot_size=float(np.sqrt(area[selected]).mean() / geometry.beam_width) if n_sel else float("nan"),
    )


def superposition_map(
    geometry: ScanGeometry,
    subdivision: int = 4,
    radius: float | None = None,
    *,
    r_min: float | None = None,
    radial_bin_width: float | None = None,
    hist_bin_width: float | None = None,
    combine: str = "product",
    sensitivity_grid: int = 32,
    cancel: Any = None,
) -> SuperpositionMapResult:
    r"""Exact superposed region of every sub-pixel of the specimen (Fig. 4).

    Kim, Hayashi & Yabashi (2023), section 4: each pixel ``(i step, j step)``
    is divided into ``subdivision x subdivision`` sub-pixels at fractional
    offsets ``0, 1/s, ..., (s-1)/s``; for each sub-pixel target the fully
    superposed region of its ``(X, omega)`` list [seed eq. (1)] is computed
    exactly, and the statistics of Fig. 4 are derived: relative spot size
    ``sqrt(A / A(0, 0))``, its radial average and mean for ``r >= 0.5``, and
    the histogram of ``r(xs, ys) - r(COM)`` with a Gaussian fit
    (FWHM = 2.3548 sigma; paper: about 0.2 and 0.136).

    Parameters
    ----------
    geometry : ScanGeometry
    subdivision : int, default 4
        Sub-pixels per step along each axis, ``>= 1``.
    radius : float, optional
        Radius of the specimen disc; default ``geometry.x_range``.  Targets
        with ``r > radius`` are not computed; targets inside it whose list is
        incomplete (possible only at the edge of, or beyond, the scan) are
        kept, flagged by ``complete == False`` and left out of the
        statistics.
    r_min : float, optional
        Radius below which targets are left out of the mean and histogram;
        default ``step / 2`` (paper: "Except for r < 0.5").
    radial_bin_width : float, optional
        Bin width of the radial average; default ``step / 2``.
    hist_bin_width : float, optional
        Bin width of the ``com_error`` histogram; default Freedman-Diaconis
        (see :class:`SuperpositionStats`).
    combine : {"product", "minimum"}, default "product"
        How a profile with tails combines the weights of a list (rule 8;
        ignored for a flat profile).
    sensitivity_grid : int, default 32
        Fine grid cells per side of each sensitivity map (``>= 4``; rule 8;
        ignored for a flat profile).  32 gives effective areas within
        ``1e-3`` of a converged grid for the built-in profiles.
    cancel : threading.Event, callable or None
        Polled between chunks of targets and every 8 clipping steps; once
        set, :class:`~superres_widgets.s3dxrd.conventions.ComputationCancelled`
        is raised (a widget drops a stale map early).

    Returns
    -------
    SuperpositionMapResult

    Raises
    ------
    ValueError
        For ``subdivision`` not an integer ``>= 1``, a non-finite or
        negative ``radius``, or non-positive bin widths.

    Notes
    -----
    Vectorised over targets: targets sharing a measurement list share one
    polygon; all polygons are clipped at once by their next-tightest
    half-plane (one Python loop over half-planes, none over targets) and
    retire when no remaining half-plane can cut them.  :func:`superposed_region`
    is the scalar reference.  For the paper's scan (X in +-10, 4 x 4) this
    takes about 0.04 s at 10 deg and 0.09 s at 0.5 deg steps (CPU time,
    ``benchmarks/bench_superposition.py``), far faster than the raster of
    :func:`superposed_mask` at 20 px per beam.

    Examples
    --------
    >>> res = superposition_map(ScanGeometry(x_range=10), subdivision=4)
    >>> res.n_targets, round(res.stats.mean_relative_size, 3)
    (5025, 0.186)
    """
    if isinstance(subdivision, (bool, np.bool_)) or not isinstance(subdivision, (int, np.integer)):
        if isinstance(subdivision, (float, np.floating)) and float(subdivision).is_integer():
            subdivision = int(subdivision)
        else:
            raise ValueError(f"subdivision must be an integer >= 1, got {subdivision!r}")
    s = int(subdivision)
    if s < 1:
        raise ValueError(f"subdivision must be an integer >= 1, got {subdivision!r}")
    check_type(geometry, ScanGeometry, "geometry")
    if s > 1024:
        raise ValueError(f"subdivision must be an integer in [1, 1024], got {subdivision!r}")
    step = geometry.step
    rad = geometry.x_range if radius is None else _finite_scalar(radius, "radius")
    if rad < 0:
        raise ValueError(f"radius must be >= 0, got {radius!r}")
    rmin = 0.5 * step if r_min is None else _finite_scalar(r_min, "r_min")
    if rmin < 0:
        raise ValueError(f"r_min must be >= 0, got {r_min!r}")
    side = 2 * math.floor(rad / step + _TIE_TOL) * s + s
    check_array_bytes((side, side), "superposition_map: the sub-pixel targets (radius, subdivision)", copies=16)
    rbw = 0.5 * step if radial_bin_width is None else _positive_scalar(radial_bin_width, "radial_bin_width")
    hbw = None if hist_bin_width is None else _positive_scalar(hist_bin_width, "hist_bin_width")

    # pixels cover the disc; sub-pixel targets (i + m/s) step
    kp = int(math.floor(rad / step + _TIE_TOL))
    ticks = np.arange(-kp * s, (kp + 1) * s)
    grid = step * ticks / s
    gx, gy = np.meshgrid(grid, grid)  # rows: ys ascending
    inside = gx**2 + gy**2 <= rad * rad * (1 + 1e-12) + (_TIE_TOL * step) ** 2
    grid_index = np.full(gx.shape, -1, dtype=np.int64)
    grid_index[inside] = np.arange(int(inside.sum()))
    xs = gx[inside]
    ys = gy[inside]
    if combine not in ("product", "minimum"):
        raise ValueError(f"combine must be 'product' or 'minimum', got {combine!r}")
    flat = geometry.profile.is_flat(geometry.beam_width)
    grid_n = _sensitivity_grid(sensitivity_grid)  # checked for every profile (used by beams with tails)
    # chunks of targets bound the (targets x half-planes) work arrays
    chunk = max(_MIN_BATCH_TARGETS, _MAX_BATCH_ELEMENTS // (2 * geometry.n_omega))
    parts = []
    for i in range(0, xs.size, chunk):
        check_cancel(cancel, "superposition_map")
        tx, ty = xs[i : i + chunk], ys[i : i + chunk]
        if flat:
            parts.append(_batch_regions(geometry, tx, ty, cancel=cancel))
        else:
            part = _batch_sensitivity(geometry, tx, ty, n=grid_n, n_coarse=max(4, grid_n // 2),
                                      cancel=cancel, combine=combine)
            part["n_vertices"] = np.zeros(tx.size, dtype=np.int64)
            parts.append(part)
    keys = ("area", "centroid", "n_measurements", "n_vertices")
    res = {key: np.concatenate([pt[key] for pt in parts]) for key in keys}
    res["n_distinct"] = sum(int(pt["n_distinct"]) for pt in parts)
    area, centroid = res["area"], res["centroid"]
    complete = res["n_measurements"] == geometry.n_omega
    has_region = area > 0
    area_centre = float(area[grid_index[kp * s, kp * s]])  # the target (0, 0)
    stats = _map_stats(
        geometry, xs, ys, area, centroid, complete & has_region, area_centre, rmin, rbw, hbw
    )
    if stats.n_selected == 0 and rad <= rmin:
        # the arguments themselves leave nothing to average (a beam narrower than the step may
        # leave no fully superposed target beyond r_min: then the statistics are NaN, documented)
        raise ValueError(f"radius={rad:g} and r_min={rmin:g} leave no fully superposed target at r >= r_min "
                         "to average; the radius must exceed r_min")
    return SuperpositionMapResult(
        geometry=geometry,
        subdivision=s,
        radius=float(rad),
        xs=xs,
        ys=ys,
        grid_x=grid.copy(),
        grid_y=grid.copy(),
        grid_index=grid_index,
        area=area,
        centroid=centroid,
        n_measurements=res["n_measurements"],
        complete=complete,
        has_region=has_region,
        n_vertices=res["n_vertices"],
        n_distinct_lists=int(res["n_distinct"]),
        stats=stats,
        measure="polygon" if flat else combine,
    )


def _sensitivity_grid(value: Any) -> int:
    return check_int(value, "sensitivity_grid", 4, 1024)
