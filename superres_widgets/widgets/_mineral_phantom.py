r"""A simulated rock section for multi-element XRF maps (seed 001, Fig. 9).

The paper's sample is a polished iron skarn: magnetite (strong Fe-Kα),
calcite (strong Ca-Kα), garnet (moderate Ca-Kα and Fe-Kα; andradite,
Ca3Fe2Si3O12) and quartz veins (Si-Kα), scanned with 10 µm steps. Each
element's map is blurred by its own PSF -- Fe-Kα 40 µm, Ca-Kα 50 µm, Si-Kα
80 µm -- because lower-energy fluorescence comes from a larger spot
(polycapillary chromatic focusing, scattering in light minerals, absorption
in air).

Model
-----
Phases are drawn on the map grid: a garnet matrix, calcite grains (cells of
a Voronoi tessellation), magnetite grains (ellipses, some in clusters) and
two sinuous quartz veins. For element ``e`` the noise-free count rate is
``r_e(phase) + b_e`` (cps, table below), blurred by a Gaussian of
``sigma_e`` (the operator of :func:`superres_widgets.xrf.convolve`, reflect
boundary) and multiplied by the dwell time; counts are Poisson draws:

.. math:: y_e \sim \mathrm{Poisson}\big(\tau\,[h_{\sigma_e} * (r_e(\mathrm{phase}) + b_e)]\big)

The rates are plausible for a benchtop micro-XRF (Rh tube, polycapillary,
SDD) but are not measured values; with the default 0.1 s dwell the Si map
has ~15 counts in quartz, i.e. it is as noisy as the paper's.

This generator lives with the widgets (not in :mod:`superres_widgets.xrf`)
because it only feeds the demo and the course notebook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

import numpy as np

from ..xrf import convolve, gaussian_psf

__all__ = ["mineral_phantom", "MineralPhantom", "PHASES", "RATES_CPS", "BACKGROUND_CPS",
           "PAPER_SIGMAS_UM"]

PHASES = ("garnet", "calcite", "magnetite", "quartz")

#: Element-dependent PSF sigmas of the paper's Fig. 9, µm.
PAPER_SIGMAS_UM = {"Fe": 40.0, "Ca": 50.0, "Si": 80.0}

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

    counts: Dict[str, np.ndarray]
    expected: Dict[str, np.ndarray]
    truth: Dict[str, np.ndarray]
    phases: np.ndarray
    metadata: dict = field(default_factory=dict)


def _phases(shape: Tuple[int, int], rng: np.random.Generator) -> np.ndarray:
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


def mineral_phantom(shape: Tuple[int, int] = (192, 192), pixel_size_um: float = 10.0,
                    sigmas_um: Optional[Dict[str, float]] = None, dwell_s: float = 0.1,
                    rng=0) -> MineralPhantom:
    """Simulate Fe, Ca and Si maps of a skarn-like section (see the module docstring).

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
    """
    if len(shape) != 2 or min(int(s) for s in shape) < 16:
        raise ValueError(f"shape must be two sizes >= 16, got {shape!r}")
    if not pixel_size_um > 0:
        raise ValueError(f"pixel_size_um must be > 0, got {pixel_size_um}")
    if not dwell_s > 0:
        raise ValueError(f"dwell_s must be > 0, got {dwell_s}")
    sigmas = dict(PAPER_SIGMAS_UM if sigmas_um is None else sigmas_um)
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
