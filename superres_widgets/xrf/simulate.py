r"""Forward model of an oversampled micro-XRF scan with Poisson counts.

Model
-----
For a ground truth ``t(v, u)`` in [0, 1] (e.g. chrome coverage of a chart),
rendered on a fine grid of pixel ``truth_pixel_um``:

.. math::

    \lambda(v, u) = \left[b + (s - b)\,(h * t)(v + \delta_v, u + \delta_u)\right]\,\tau,
    \qquad y \sim \mathrm{Poisson}(\lambda)

with ``h`` the Gaussian PSF (sigma in um), ``s`` and ``b`` the count rates
(cps) of pure material and of the background (paper: Cr 429 cps, glass
275 cps), ``tau`` the dwell time (0.5 s) and ``delta`` optional stage jitter
(independent normal offsets per scan point, um).  Scan point ``(i, j)`` sits
at ``(v, u) = (i * step_um, j * step_um)`` in the truth's pixel-centre frame
(see :mod:`superres_widgets.xrf.psf`), so with ``step_um`` a multiple of
``truth_pixel_um`` the map is registered to ``usaf1951(step_um)``.

``mode="step"`` samples the blurred truth at the scan points (step-and-dwell);
``mode="fly"`` averages it over the step along ``u`` (continuous, on-the-fly
acquisition such as the Bruker M6's), which adds a box of width ``step_um``
to the PSF along the fast axis.

References
----------
.. [1] J. Yang, Z. Zhang and Q. Cheng, J. Anal. At. Spectrom. 37, 750 (2022).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from ._operators import ConvolutionOperator
from ._validate import as_image, check_nonnegative, check_positive
from .psf import gaussian_psf

__all__ = ["SimulatedScan", "simulate_scan", "PAPER_RATES_CPS", "PAPER_DWELL_S",
           "PAPER_STEP_UM", "PAPER_SIGMA_UM"]

#: Paper's Cr-K alpha rates (cps): over chrome, over glass (background).
PAPER_RATES_CPS = (429.0, 275.0)
#: Paper's dwell time per pixel, s.
PAPER_DWELL_S = 0.5
#: Paper's scan step, um.
PAPER_STEP_UM = 5.0
#: PSF sigma the paper found best (blind estimate), um.
PAPER_SIGMA_UM = 32.5
#: Largest expected count per pixel that is sampled (numpy's Poisson sampler stops near 1e18).
_MAX_EXPECTED = 1e15


@dataclass
class SimulatedScan:
    """Result of :func:`simulate_scan`.

    Attributes
    ----------
    counts : ndarray of int64
        The simulated map (Poisson counts per pixel).
    expected : ndarray of float64
        The noise-free mean counts (same shape).
    metadata : dict
        Every parameter of the simulation (units in the keys) plus
        ``pixel_size_um`` (= step) and ``seed``.
    """

    counts: np.ndarray
    expected: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def pixel_size_um(self) -> float:
        return float(self.metadata["pixel_size_um"])

    def __iter__(self):
        """Allow ``counts, metadata = simulate_scan(...)``."""
        return iter((self.counts, self.metadata))


def simulate_scan(truth, psf_sigma_um: float | Sequence[float], step_um: float,
                  rates_cps: Sequence[float] = PAPER_RATES_CPS, dwell_s: float = PAPER_DWELL_S,
                  *, truth_pixel_um: float, jitter_um: float = 0.0, mode: str = "step",
                  rng: int | np.random.Generator | None = None) -> SimulatedScan:
    r"""Simulate an oversampled micro-XRF map of ``truth``.

    Parameters
    ----------
    truth : (rows, cols) array_like
        Fraction of the emitting material per fine pixel, 0...1 (values
        outside are allowed, the rate model is linear), e.g.
        ``usaf1951(truth_pixel_um).image``.
    psf_sigma_um : float or (sigma_u, sigma_v, rho)
        Gaussian PSF, um (paper: 32.5).
    step_um : float
        Scan step, um (paper: 5); the map's pixel size.  Must be at least
        ``truth_pixel_um``.
    rates_cps : (signal, background)
        Count rates where ``truth == 1`` and where ``truth == 0`` (paper:
        429, 275 cps).
    dwell_s : float
        Dwell time per scan point, s (paper: 0.5).
    truth_pixel_um : float
        Pixel size of ``truth``, um.  Keyword-only so it cannot be confused
        with the step.
    jitter_um : float
        Standard deviation of the stage positioning error per axis, um
        (paper's stage: ~3 um accuracy).  0 = none.
    mode : {"step", "fly"}
        Point sampling, or averaging over the step along ``u``.
    rng : int or numpy Generator, optional
        Seed or generator for the Poisson draw and the jitter.

    Returns
    -------
    SimulatedScan
        ``counts`` (int64), ``expected`` (float64) and ``metadata``.
        Unpacks as ``counts, metadata``.

    Notes
    -----
    The blur is computed on the fine grid with reflective boundaries
    (FFT/DCT, float64), then sampled (linear interpolation when a scan point
    falls between fine pixels, i.e. with jitter or a non-integer step
    ratio).

    Examples
    --------
    >>> from superres_widgets.xrf import usaf1951
    >>> truth = usaf1951(2.5, groups=[3]).image
    >>> scan = simulate_scan(truth, 32.5, 5.0, truth_pixel_um=2.5, rng=0)
    >>> scan.metadata["pixel_size_um"], scan.counts.dtype
    (5.0, dtype('int64'))
    """
    t = as_image(truth, "truth")
    if not float(np.abs(t).max()) < 1e100:
        raise ValueError(f"truth values up to {float(np.abs(t).max()):.3g} are not concentrations (over 1e100)")
    pt = check_positive(truth_pixel_um, "truth_pixel_um")
    step = check_positive(step_um, "step_um")
    if step < pt * (1 - 1e-9):
        raise ValueError(f"step_um ({step}) must be >= truth_pixel_um ({pt})")
    try:
        sig_rate, bg_rate = (float(r) for r in rates_cps)
    except (TypeError, ValueError):
        raise ValueError(f"rates_cps must be (signal, background), got {rates_cps!r}") from None
    check_nonnegative(sig_rate, "rates_cps")
    check_nonnegative(bg_rate, "rates_cps")
    dwell = check_positive(dwell_s, "dwell_s")
    jitter = check_nonnegative(jitter_um, "jitter_um")
    if mode not in ("step", "fly"):
        raise ValueError(f"mode must be 'step' or 'fly', got {mode!r}")
    if np.ndim(psf_sigma_um) == 0:
        su = sv = check_positive(psf_sigma_um, "psf_sigma_um")
        rho = 0.0
    else:
        try:
            su, sv, rho = (float(x) for x in psf_sigma_um)
        except (TypeError, ValueError):
            raise ValueError("psf_sigma_um must be a float or (sigma_u, sigma_v, rho)") from None
        check_positive(su, "psf_sigma_um")
        check_positive(sv, "psf_sigma_um")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    from ..validate import check_array_bytes

    check_array_bytes(t.shape, "simulate_scan: the truth and its blurred copies", copies=6)

    psf = gaussian_psf(su, sv, rho, pixel_size_um=pt)
    if mode == "fly":
        n_box = max(int(round(step / pt)), 1)
        box = np.ones((1, n_box)) / n_box
        # odd-length box keeps the origin centred; even-length one is shifted
        # by half a fine pixel, which we accept (documented as "+box").
        psf = ndimage.convolve(np.pad(psf, ((0, 0), (n_box, n_box))), box, mode="constant")
    if psf.shape[0] > t.shape[0] or psf.shape[1] > t.shape[1]:
        raise ValueError(f"truth {t.shape} is smaller than the PSF kernel {psf.shape}; "
                         "render a larger field or use a smaller sigma")
    op = ConvolutionOperator(psf / psf.sum(), t.shape, "reflect", dtype=np.float64)
    blurred = np.array(op.crop(op.forward(op.extend(t))))

    ratio = step / pt
    n_r = int(math.floor((t.shape[0] - 1) / ratio + 1e-9)) + 1
    n_c = int(math.floor((t.shape[1] - 1) / ratio + 1e-9)) + 1
    rows = np.arange(n_r) * ratio
    cols = np.arange(n_c) * ratio
    integral = abs(ratio - round(ratio)) < 1e-9
    if jitter == 0 and integral:
        k = int(round(ratio))
        sampled = blurred[::k, ::k][:n_r, :n_c]
    else:
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        if jitter > 0:
            rr = rr + gen.normal(0.0, jitter / pt, rr.shape)
            cc = cc + gen.normal(0.0, jitter / pt, cc.shape)
        sampled = ndimage.map_coordinates(blurred, [rr, cc], order=1, mode="nearest")
    expected = (bg_rate + (sig_rate - bg_rate) * sampled) * dwell
    expected = np.maximum(expected, 0.0)
    if not float(expected.max(initial=0.0)) < _MAX_EXPECTED:  # Poisson sampling's limit (and int64 counts)
        raise ValueError(f"truth, rates_cps and dwell_s give expected counts up to {float(expected.max()):.3g} "
                         f"per pixel; at most {_MAX_EXPECTED:.0e} can be sampled")
    counts = gen.poisson(expected).astype(np.int64)
    meta = {
        "pixel_size_um": step,
        "step_um": step,
        "psf_sigma_um": (su, sv, rho) if rho or su != sv else su,
        "rates_cps": (sig_rate, bg_rate),
        "dwell_s": dwell,
        "truth_pixel_um": pt,
        "jitter_um": jitter,
        "mode": mode,
        "background_counts": bg_rate * dwell,
        "signal_counts": sig_rate * dwell,
        "shape": counts.shape,
        "seed": rng if isinstance(rng, (int, np.integer)) else None,
    }
    return SimulatedScan(counts, expected, meta)
