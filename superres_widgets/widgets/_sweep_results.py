"""What a PSF sweep produces: the metrics per sigma, kept images, and the trait and helpers of the sweep.

Pure data and small helpers of :mod:`~superres_widgets.widgets.psf_sweep` (no widget state):
:class:`SweepResults` (what ``PSFSweep.results`` returns), the best sigma by each metric, the
``FloatList`` trait of the sigma list, and the metric readers that turn a missing value into NaN.
Units: sigmas in µm, MSE/SSIM dimensionless, resolution in line pairs per mm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import traitlets

__all__ = ["SweepResults"]


@dataclass
class SweepResults:
    """The metrics of every restored sigma (sorted by sigma).

    Attributes
    ----------
    sigma_um : ndarray
        PSF sigmas restored so far, µm, ascending.
    mse, ssim : ndarray
        Against the reference (NaN without one).
    lp_per_mm : ndarray
        Finest resolved USAF element, lp/mm (0: none resolved; NaN without a chart).
    element : list of str
        Its label, e.g. ``"G4E1"`` (``"none"``; ``""`` without a chart).
    seconds : ndarray
        Restoration time per sigma, s.
    complete : bool
        Every sigma of the sweep is restored.
    parameters : dict
        Method and parameters, ``pixel_size_um`` and ``levels``.
    raw : dict
        The same metrics of the raw map (``mse``, ``ssim``, ``element``, ``lp_per_mm``).
    images : dict
        ``{sigma_um: restored image}`` (float32, counts).
    """

    sigma_um: np.ndarray
    mse: np.ndarray
    ssim: np.ndarray
    lp_per_mm: np.ndarray
    element: list[str]
    seconds: np.ndarray
    complete: bool
    parameters: dict
    raw: dict
    images: dict[float, np.ndarray] = field(repr=False, default_factory=dict)

    def best(self) -> dict:
        """Best sigma by each metric: ``{"mse": s, "ssim": s, "lp_per_mm": [s, ...]}``.

        MSE: smallest; SSIM: largest; resolution: every sigma that reaches the
        highest lp/mm (the paper reports such a range). ``None`` / ``[]`` when
        the metric is not available.
        """
        return _best(self.sigma_um, self.mse, self.ssim, self.lp_per_mm)

    def image(self, sigma_um: float) -> np.ndarray:
        """The restored image of ``sigma_um`` (float32)."""
        return self.images[_match(sigma_um, list(self.images))]

    def as_dict(self) -> dict:
        """Plain lists (for JSON export / provenance)."""
        return {
            "sigma_um": self.sigma_um.tolist(), "mse": self.mse.tolist(), "ssim": self.ssim.tolist(),
            "lp_per_mm": self.lp_per_mm.tolist(), "element": list(self.element),
            "seconds": self.seconds.tolist(), "complete": self.complete,
            "parameters": dict(self.parameters), "raw": dict(self.raw), "best": self.best(),
        }


def _best(sigma, mse, ssim, lp) -> dict:
    out = {"mse": None, "ssim": None, "lp_per_mm": []}
    if len(sigma) == 0:
        return out
    if np.any(np.isfinite(mse)):
        out["mse"] = float(sigma[int(np.nanargmin(mse))])
    if np.any(np.isfinite(ssim)):
        out["ssim"] = float(sigma[int(np.nanargmax(ssim))])
    if np.any(np.isfinite(lp)) and np.nanmax(lp) > 0:
        top = np.nanmax(lp)
        out["lp_per_mm"] = [float(s) for s, v in zip(sigma, lp) if np.isfinite(v) and v >= top - 1e-9]
    return out


def _match(sigma, candidates, tol=1e-6):
    """The candidate equal to ``sigma`` (within ``tol`` µm); KeyError otherwise."""
    for c in candidates:
        if abs(c - sigma) <= tol:
            return c
    raise KeyError(f"sigma {sigma} µm has not been restored (restored: {sorted(candidates)})")


class FloatList(traitlets.List):
    """A list of floats that also accepts numpy arrays, tuples, ranges and scalars."""

    def __init__(self, default_value, **kwargs):
        super().__init__(traitlets.Float(), default_value, **kwargs)

    def validate(self, obj, value):
        if isinstance(value, (int, float, np.number)):
            value = [value]
        try:
            value = [float(v) for v in np.asarray(value, dtype=object).ravel()]
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} must be a list of numbers, got {value!r}") from None
        return super().validate(obj, value)


@dataclass
class _Entry:
    image: np.ndarray  # float32
    metrics: dict
    seconds: float
    thumb: np.ndarray | None = None  # uint8, on the display range of the raw map

def _num(v) -> float:
    return float("nan") if v is None else float(v)


def _lp(metrics: dict, chart) -> float:
    if chart is None:
        return float("nan")
    v = metrics.get("lp_per_mm")
    return 0.0 if v is None else float(v)


def _label(metrics: dict, chart) -> str:
    if chart is None:
        return ""
    return metrics.get("element") or "none"
