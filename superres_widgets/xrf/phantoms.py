r"""Simulated samples of seed 001: a dot, a knife edge and a rock section.

Three phantoms the paper (Yang, Zhang & Cheng 2022) measured or showed, as
public functions so that the widgets' demos, the report and the course
notebooks simulate exactly the same scans:

* :func:`dot_scan` -- a small chrome dot (Fig. 3), for
  :func:`~superres_widgets.xrf.fit_point_scan`;
* :func:`knife_edge_scan` -- a straight chrome edge (Fig. 4), for
  :func:`~superres_widgets.xrf.fit_knife_edge`;
* :func:`mineral_phantom` -- Fe, Ca and Si maps of a skarn-like section,
  each blurred by its own PSF (Fig. 9).

Conventions
-----------
* ``image[row, col]``; ``u`` along columns, ``v`` along rows, pixel
  ``(r, c)`` centred at ``(v, u) = (r p, c p)`` um (as in
  :mod:`superres_widgets.xrf.psf`).  Lengths in um, rates in counts per
  second (cps), counts are Poisson draws (int64).
* The dot and the edge are rendered on a 1 um grid and scanned by
  :func:`~superres_widgets.xrf.simulate_scan` (step-and-dwell, paper's
  rates 429 cps chrome / 275 cps glass, 0.5 s dwell, 5 um steps).
* A line across an edge is given as ``((r0, c0), (r1, c1))`` in pixels, the
  convention of :func:`~superres_widgets.xrf.fit_knife_edge`.

Mineral section model
---------------------
Phases are drawn on the map grid: a garnet matrix, calcite grains (cells of
a Voronoi tessellation), magnetite grains (ellipses, some in clusters) and
two sinuous quartz veins. For element ``e`` the noise-free count rate is
``r_e(phase) + b_e`` (cps, :data:`RATES_CPS`, :data:`BACKGROUND_CPS`),
blurred by a Gaussian of ``sigma_e`` (the operator of
:func:`superres_widgets.xrf.convolve`, reflect boundary) and multiplied by
the dwell time:

.. math:: y_e \sim \mathrm{Poisson}\big(\tau\,[h_{\sigma_e} * (r_e(\mathrm{phase}) + b_e)]\big)

The rates are plausible for a benchtop micro-XRF (Rh tube, polycapillary,
SDD) but are not measured values; with the default 0.1 s dwell the Si map
has ~15 counts in quartz, i.e. it is as noisy as the paper's.  Lower-energy
lines are blurred more (Fe-Kα 40 um, Ca-Kα 50 um, Si-Kα 80 um: chromatic
focusing of the polycapillary, scattering in light minerals, absorption in
air).

References
----------
.. [1] J. Yang, Z. Zhang and Q. Cheng, J. Anal. At. Spectrom. 37, 750 (2022).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import validate as _v
from ._validate import check_positive
from .deconvolution import convolve
from .psf import gaussian_psf
from .simulate import PAPER_DWELL_S, PAPER_RATES_CPS, PAPER_STEP_UM, SimulatedScan, simulate_scan

__all__ = ["dot_scan", "knife_edge_scan", "mineral_phantom", "MineralPhantom", "PHASES", "RATES_CPS",
           "BACKGROUND_CPS", "PAPER_ELEMENT_SIGMAS_UM", "PAPER_KNIFE_SIGMA_UM"]

PHASES = ("garnet", "calcite", "magnetite", "quartz")

#: Element-dependent PSF sigmas of the paper's Fig. 9, µm.
PAPER_ELEMENT_SIGMAS_UM = {"Fe": 40.0, "Ca": 50.0, "Si": 80.0}

#: Kα count rate of each element over each phase, cps (illustrative).
RATES_CPS = {
    "Fe": {"garnet": 900.0, "calcite": 30.0, "magnetite": 3000.0, "quartz": 10.0},
    "Ca": {"garnet": 600.0, "calcite": 1100.0, "magnetite": 15.0, "quartz": 8.0},
    "Si": {"garnet": 60.0, "calcite": 5.0, "magnetite": 4.0, "quartz": 140.0},
}

#: Background (scatter, continuum) under each line, cps.
BACKGROUND_CPS = {"Fe": 20.0, "Ca": 15.0, "Si": 10.0}


@dataclass
class MineralPhantom:
    """Result of :func:`mineral_phantom`.

    Attributes
    ----------
    counts : dict of str -> ndarray (int64)
        The simulated maps, Poisson counts per pixel.
    expected : dict of str -> ndarray (float64)
        Noise-free blurred counts.
    truth : dict of str -> ndarray (float64)
        Noise-free unblurred counts (what a perfect restoration would give).
    phases : ndarray (int)
        Phase index per pixel into :data:`PHASES`.
    metadata : dict
        ``pixel_size_um``, ``sigmas_um``, ``dwell_s``, rates, seed.
    """

    counts: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]
    truth: dict[str, np.ndarray]
    phases: np.ndarray
    metadata: dict = field(default_factory=dict)


def _phases(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    lab = np.zeros(shape, dtype=np.int16)  # garnet matrix
    # calcite: about a third of the cells of a Voronoi tessellation
    n_cells = max(6, int(ny * nx / 1500))
    seeds = rng.uniform([0, 0], [ny, nx], size=(n_cells, 2))
    d2 = (yy[..., None] - seeds[:, 0]) ** 2 + (xx[..., None] - seeds[:, 1]) ** 2
    cell = np.argmin(d2, axis=-1)
    calcite_cells = rng.random(n_cells) < 0.35
    lab[calcite_cells[cell]] = 1
    # magnetite: ellipses, half of them clustered around a few centres
    n_grains = max(4, int(ny * nx / 2500))
    centres = rng.uniform([0, 0], [ny, nx], size=(3, 2))
    scale = min(ny, nx)
    for k in range(n_grains):
        if k % 2 == 0:
            c = centres[k % 3] + rng.normal(0, 0.08 * scale, 2)
        else:
            c = rng.uniform([0, 0], [ny, nx])
        a, b = rng.uniform(0.02, 0.06, 2) * scale + 2
        t = rng.uniform(0, np.pi)
        dy, dx = yy - c[0], xx - c[1]
        u = dx * np.cos(t) + dy * np.sin(t)
        v = -dx * np.sin(t) + dy * np.cos(t)
        lab[(u / a) ** 2 + (v / b) ** 2 <= 1] = 2
    # quartz: two sinuous veins of varying width crossing the section
    for k in range(2):
        if k == 0:
            along, across, n_along = xx, yy, nx
            base = rng.uniform(0.25, 0.75) * ny
        else:
            along, across, n_along = yy, xx, ny
            base = rng.uniform(0.25, 0.75) * nx
        slope = rng.uniform(-0.3, 0.3)
        amp = rng.uniform(0.03, 0.08) * scale
        wavelength = rng.uniform(0.4, 0.9) * n_along
        phase = rng.uniform(0, 2 * np.pi)
        centre = base + slope * (along - n_along / 2) + amp * np.sin(2 * np.pi * along / wavelength + phase)
        width = (0.012 + 0.01 * (1 + np.sin(2 * np.pi * along / (0.7 * n_along) + phase))) * scale + 1.5
        lab[np.abs(across - centre) <= width] = 3
    return lab


def mineral_phantom(shape: tuple[int, int] = (192, 192), pixel_size_um: float = 10.0,
                    sigmas_um: dict[str, float] | None = None, dwell_s: float = 0.1,
                    rng=0) -> MineralPhantom:
    r"""Simulate Fe, Ca and Si maps of a skarn-like section (the model is in the module docstring).

    Parameters
    ----------
    shape : (rows, cols)
        Map size, pixels (default 192 x 192: 1.92 mm at 10 µm).
    pixel_size_um : float
        Scan step, µm (paper: 10).
    sigmas_um : dict, optional
        PSF sigma per element, µm (default the paper's Fe 40, Ca 50, Si 80).
    dwell_s : float
        Dwell time per pixel, s.
    rng : int or numpy Generator
        Seed of the phases and of the Poisson draws.

    Returns
    -------
    MineralPhantom

    Examples
    --------
    >>> ph = mineral_phantom((96, 96), rng=0)
    >>> sorted(ph.counts), ph.metadata["sigmas_um"]["Si"]
    (['Ca', 'Fe', 'Si'], 80.0)
    >>> bool(ph.counts["Fe"].mean() > 5 * ph.counts["Si"].mean())
    True
    """
    if len(shape) != 2 or min(int(s) for s in shape) < 16:
        raise ValueError(f"shape must be two sizes >= 16, got {shape!r}")
    pixel_size_um = _v.check_number(pixel_size_um, "pixel_size_um", lo=_FINE_UM, hi=1e4)
    dwell_s = _v.check_positive(dwell_s, "dwell_s", hi=1e6)
    sigmas = dict(PAPER_ELEMENT_SIGMAS_UM if sigmas_um is None else sigmas_um)
    unknown = sorted(set(sigmas) - set(RATES_CPS))
    if unknown:
        raise ValueError(f"sigmas_um: no rates for {unknown}; known elements {sorted(RATES_CPS)}")
    for name, s in sigmas.items():
        if not (np.isfinite(s) and s > 0):
            raise ValueError(f"sigmas_um[{name!r}] must be > 0 µm, got {s}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    shape = (int(shape[0]), int(shape[1]))
    lab = _phases(shape, gen)
    counts, expected, truth = {}, {}, {}
    for name, sigma in sigmas.items():
        table = np.array([RATES_CPS[name][p] for p in PHASES]) + BACKGROUND_CPS[name]
        t = table[lab] * dwell_s
        psf = gaussian_psf(sigma, pixel_size_um=pixel_size_um)
        if psf.shape[0] > shape[0] or psf.shape[1] > shape[1]:
            raise ValueError(f"shape {shape} is smaller than the {name} PSF kernel {psf.shape}")
        blurred = np.maximum(convolve(t, psf), 0.0)
        truth[name] = t
        expected[name] = blurred
        counts[name] = gen.poisson(blurred).astype(np.int64)
    meta = {"pixel_size_um": float(pixel_size_um), "sigmas_um": sigmas, "dwell_s": float(dwell_s),
            "rates_cps": {k: dict(RATES_CPS[k]) for k in sigmas},
            "background_cps": {k: BACKGROUND_CPS[k] for k in sigmas}, "phases": PHASES,
            "seed": rng if isinstance(rng, (int, np.integer)) else None}
    return MineralPhantom(counts, expected, truth, lab, meta)


# ---------------------------------------------------------------------------------------
# dot scan and knife edge (Fig. 3 and 4)
# ---------------------------------------------------------------------------------------

#: The paper's knife-edge sigma (Fig. 4), um; FWHM 88.3 um.
PAPER_KNIFE_SIGMA_UM = 37.5

_FINE_UM = 1.0  # grid the dot and the edge are rendered on


def _psf_sigmas(sigma_um, sigma_v_um=None, rho=0.0) -> tuple:
    """``(su, sv, rho)`` from a float, or ``(su, sv, rho)`` given as ``sigma_um``."""
    if np.ndim(sigma_um) == 0:
        su = check_positive(sigma_um, "sigma_um")
        sv = su if sigma_v_um is None else check_positive(sigma_v_um, "sigma_v_um")
        return su, sv, float(_v.check_number(rho, "rho", lo=-1, hi=1, lo_open=True, hi_open=True))
    try:
        su, sv, r = (float(v) for v in sigma_um)
    except (TypeError, ValueError):
        raise ValueError(f"sigma_um must be a number or (sigma_u, sigma_v, rho), got {sigma_um!r}") from None
    return check_positive(su, "sigma_um"), check_positive(sv, "sigma_um"), r


def dot_scan(sigma_um: float = 32.5, sigma_v_um: float | None = None, rho: float = 0.0, *,
             peak_cps: float = PAPER_RATES_CPS[0] - PAPER_RATES_CPS[1],
             background_cps: float = PAPER_RATES_CPS[1], dwell_s: float = PAPER_DWELL_S,
             step_um: float = PAPER_STEP_UM, dot_diameter_um: float = 5.0, size_px: int = 61,
             seed=0) -> SimulatedScan:
    r"""Simulate the scan of a small dot through a Gaussian PSF (the paper's Fig. 3).

    A disc of ``dot_diameter_um`` (the paper's 5 um Cr dot) at the centre of
    a ``size_px`` x ``size_px`` map; its blurred image peaks ``peak_cps``
    above ``background_cps``:

    .. math:: \lambda(v, u) = \big[b + a\,(h * \mathbb{1}_\mathrm{dot})(v, u)\big]\,\tau,
              \qquad a = \frac{s}{A_\mathrm{dot}}\;2\pi\sigma_u\sigma_v\sqrt{1-\rho^2}

    (``A_dot`` the dot's area, so that the blurred peak is ``s = peak_cps``),
    with Poisson counts.  The field is simulated larger when the PSF
    (+-4 sigma) does not fit and its centre is cut out.

    Parameters
    ----------
    sigma_um : float
        PSF sigma along ``u``, um.
    sigma_v_um : float, optional
        Along ``v`` (default: ``sigma_um``).
    rho : float
        Correlation of the elliptical spot, in (-1, 1).
    peak_cps, background_cps : float
        Signal of the blurred dot at its centre above the background, and
        the background (defaults: the paper's chrome - glass, and glass).
    dwell_s, step_um : float
        Dwell per pixel (s) and scan step (um), the paper's 0.5 s and 5 um.
    dot_diameter_um : float
    size_px : int
        Map side, pixels (>= 9).
    seed : int, Generator or None
        Of the Poisson draws.

    Returns
    -------
    SimulatedScan
        ``counts`` (int64, ``size_px`` square), ``expected`` and
        ``metadata`` (the simulation's, plus ``dot_diameter_um``,
        ``peak_cps``).

    Examples
    --------
    >>> from superres_widgets.xrf import fit_point_scan
    >>> scan = dot_scan(30.0, 40.0, 0.3, seed=3)
    >>> fit = fit_point_scan(scan.counts, pixel_size_um=scan.pixel_size_um)
    >>> round(fit.sigma_u / 30.0, 1), round(fit.sigma_v / 40.0, 1)
    (1.0, 1.0)
    """
    su, sv, rho = _psf_sigmas(sigma_um, sigma_v_um, rho)
    size_px = _v.check_int(size_px, "size_px", 9, 10_000)
    if not -1 < rho < 1:
        raise ValueError(f"rho must be in (-1, 1), got {rho}")
    peak_cps = _v.check_nonnegative(peak_cps, "peak_cps", hi=1e12)
    background_cps = _v.check_nonnegative(background_cps, "background_cps", hi=1e12)
    _v.check_positive(dwell_s, "dwell_s", hi=1e6)
    dot_diameter_um = _v.check_positive(dot_diameter_um, "dot_diameter_um", hi=1e6)
    ratio = int(round(_v.check_number(step_um, "step_um", lo=_FINE_UM, hi=1e4) / _FINE_UM))
    # the simulated field must hold the PSF kernel (+-4 sigma): simulate a
    # larger odd field if needed and crop its centre
    need = 2 * math.ceil(4 * max(su, sv) / _FINE_UM) + 3
    m = max(size_px, math.ceil(need / ratio) + 1)
    m += (m - size_px) % 2  # same parity: the crop stays centred
    n = (m - 1) * ratio + 1
    _v.check_array_bytes((n, n), "dot_scan: the 1 um field (sigma_um, step_um, size_px)", copies=8)
    rr, cc = np.indices((n, n), dtype=float)
    centre = (n - 1) / 2
    truth = (((rr - centre) ** 2 + (cc - centre) ** 2) * _FINE_UM ** 2
             <= (check_positive(dot_diameter_um, "dot_diameter_um") / 2) ** 2).astype(float)
    # the dot's blurred coverage peaks at area / (2 pi su sv sqrt(1 - rho^2))
    frac = truth.sum() * _FINE_UM ** 2 / (2 * math.pi * su * sv * math.sqrt(1 - rho ** 2))
    rates = (background_cps + peak_cps / frac, background_cps)
    scan = simulate_scan(truth, (su, sv, rho), step_um, rates, dwell_s, truth_pixel_um=_FINE_UM, rng=seed)
    o = (m - size_px) // 2
    sl = (slice(o, o + size_px),) * 2
    meta = dict(scan.metadata, shape=(size_px, size_px), dot_diameter_um=float(dot_diameter_um),
                peak_cps=float(peak_cps))
    return SimulatedScan(scan.counts[sl], scan.expected[sl], meta)


def knife_edge_scan(sigma_um=PAPER_KNIFE_SIGMA_UM, *, angle_deg: float = 4.0, rates_cps=PAPER_RATES_CPS,
                    dwell_s: float = PAPER_DWELL_S, step_um: float = PAPER_STEP_UM, size_px: int = 121,
                    seed=0) -> SimulatedScan:
    r"""Simulate the scan of a straight chrome edge (the paper's Fig. 4).

    Chrome (``rates_cps[0]``) where :math:`(u - u_0)\cos a + (v - v_0)\sin a > 0`,
    glass (``rates_cps[1]``) elsewhere, through a Gaussian PSF, Poisson
    counts.  The edge normal is at ``angle_deg`` from +u towards +v (4: a
    nearly vertical edge with chrome on the right; 90: a horizontal edge,
    chrome below) and passes through the map centre.

    Parameters
    ----------
    sigma_um : float or (sigma_u, sigma_v, rho)
        Gaussian PSF, um (default the paper's knife-edge 37.5 um).
    angle_deg : float
    rates_cps : (chrome, glass)
    dwell_s, step_um : float
    size_px : int
        Map side, pixels (>= 24).
    seed : int, Generator or None

    Returns
    -------
    SimulatedScan
        ``counts`` (int64), ``expected``, and ``metadata`` with
        ``edge_angle_deg``, ``line_rc`` (a line across the edge through the
        centre, along the image axis nearest to the normal, +-6 sigma long,
        ``((r0, c0), (r1, c1))`` pixels) and ``band_px`` (a half-width for
        :func:`~superres_widgets.xrf.fit_knife_edge`).

    Examples
    --------
    >>> from superres_widgets.xrf import fit_knife_edge
    >>> scan = knife_edge_scan(seed=0)
    >>> fit = fit_knife_edge(scan.counts, pixel_size_um=5.0, line=scan.metadata["line_rc"],
    ...                      half_width_px=scan.metadata["band_px"])
    >>> round(fit.sigma_um / 37.5, 1)
    1.0
    """
    size_px = _v.check_int(size_px, "size_px", 24, 10_000)
    su, sv, rho = _psf_sigmas(sigma_um)
    psf = su if (su == sv and rho == 0 and np.ndim(sigma_um) == 0) else (su, sv, rho)
    ratio = int(round(_v.check_number(step_um, "step_um", lo=_FINE_UM, hi=1e4) / _FINE_UM))
    angle_deg = _v.check_finite(angle_deg, "angle_deg")
    n = (size_px - 1) * ratio + 1
    _v.check_array_bytes((n, n), "knife_edge_scan: the 1 um field (step_um, size_px)", copies=8)
    rr, cc = np.indices((n, n), dtype=float)
    c0 = (n - 1) / 2
    a = math.radians(angle_deg)
    truth = ((cc - c0) * math.cos(a) + (rr - c0) * math.sin(a) > 0).astype(float)
    scan = simulate_scan(truth, psf, step_um, rates_cps, dwell_s, truth_pixel_um=_FINE_UM, rng=seed)
    mid = (size_px - 1) / 2
    half = min(6 * max(su, sv) / step_um, mid - 2)
    if abs(math.cos(a)) >= abs(math.sin(a)):
        sign = 1 if math.cos(a) > 0 else -1
        line = ((mid, mid - sign * half), (mid, mid + sign * half))
    else:
        sign = 1 if math.sin(a) > 0 else -1
        line = ((mid - sign * half, mid), (mid + sign * half, mid))
    meta = dict(scan.metadata, edge_angle_deg=float(angle_deg), line_rc=line, band_px=min(20.0, mid - 1))
    return SimulatedScan(scan.counts, scan.expected, meta)
