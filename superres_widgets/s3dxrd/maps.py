r"""The orientation map of an s3DXRD slice and its targets (reconstruction rules 1, 4-5).

:class:`OrientationMap` holds a map -- conventional (``subdivision = 1``,
pixel = step) or sub-pixel -- as :func:`~superres_widgets.s3dxrd.orientation_map`,
:func:`~superres_widgets.s3dxrd.load_map_hdf5` and ImageD11's point-by-point
peer (:mod:`~superres_widgets.s3dxrd.pbp`) make it; :func:`map_targets` lays
out its targets ``(m a, n a)``, ``a = step / subdivision``, on the specimen
disc (rule 1 of :mod:`~superres_widgets.s3dxrd.reconstruction`).

Examples
--------
>>> xs, ys, *_ = map_targets(4.0, 1, 8.0)
>>> xs.size
13
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .conventions import positive_scalar as _positive

if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import MapEvaluation

__all__ = ["OrientationMap", "map_targets"]

_TIE = 1e-9


@dataclass(frozen=True, eq=False)
class OrientationMap:
    """An N' orientation map (module rules 1, 4-5).

    Attributes
    ----------
    subdivision : int
        1 for the conventional map.
    spacing_um : float
        Target spacing ``step / subdivision``.
    xs, ys : ndarray, (n,)
        Targets (row-major, ``ys`` outer).
    grid_x, grid_y : ndarray
    grid_index : ndarray of int, (ny, nx)
    candidate : ndarray of int, (n,)
        Chosen candidate (``-1``: no candidate has ``N' > 0``).
    completeness : ndarray, (n,)
        ``N'`` of the chosen candidate.
    n_prime : ndarray, (n, n_c)
        ``N'`` of every candidate.
    U : ndarray, (n_c, 3, 3)
        Candidate orientations.
    count, tie_break, expected : str
        Module rules 4-5.
    evaluation : MapEvaluation or None
    scorer : str
        ``"nprime"`` (the paper's N', ``tie_break`` for ties) or
        ``"likelihood"`` (:mod:`~superres_widgets.s3dxrd.scoring`).
    confidence : ndarray (n,) or None
        How sure the scorer is of each target: ``N'`` of the chosen
        candidate (``"nprime"``), its softmax weight among the target's
        scores (``"likelihood"``); 0 where unassigned.
    model : LikelihoodModel or None
        What the likelihood scorer estimated from the data.
    """

    subdivision: int
    spacing_um: float
    xs: np.ndarray
    ys: np.ndarray
    grid_x: np.ndarray
    grid_y: np.ndarray
    grid_index: np.ndarray
    candidate: np.ndarray
    completeness: np.ndarray
    n_prime: np.ndarray
    U: np.ndarray
    count: str
    tie_break: str
    expected: str = "predicted"
    evaluation: MapEvaluation | None = None
    scorer: str = "nprime"
    confidence: np.ndarray | None = None
    model: Any = None

    @property
    def n_targets(self) -> int:
        return int(self.xs.size)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Cell edges ``(xmin, xmax, ymin, ymax)`` of the grid images."""
        h = 0.5 * self.spacing_um
        return (
            float(self.grid_x[0] - h),
            float(self.grid_x[-1] + h),
            float(self.grid_y[0] - h),
            float(self.grid_y[-1] + h),
        )

    @property
    def orientation(self) -> np.ndarray:
        """``U`` per target, NaN where unassigned, shape (n, 3, 3)."""
        out = np.full((self.n_targets, 3, 3), np.nan)
        ok = self.candidate >= 0
        out[ok] = self.U[self.candidate[ok]]
        return out

    def to_image(self, values: Any, fill: float = np.nan) -> np.ndarray:
        """Scatter a per-target array on the grid (rows: ``ys`` ascending)."""
        v = np.asarray(values)
        if v.shape[:1] != (self.n_targets,):
            raise ValueError(f"values must have length {self.n_targets}, got shape {v.shape}")
        dtype = np.result_type(v.dtype, np.asarray(fill).dtype)
        img = np.full(self.grid_index.shape + v.shape[1:], fill, dtype=dtype)
        inside = self.grid_index >= 0
        img[inside] = v[self.grid_index[inside]]
        return img

    @property
    def candidate_image(self) -> np.ndarray:
        """Candidate per cell, ``-1`` unassigned, ``-2`` outside the disc."""
        img = np.full(self.grid_index.shape, -2, dtype=np.int64)
        inside = self.grid_index >= 0
        img[inside] = self.candidate[self.grid_index[inside]]
        return img

    @property
    def mean_displacement_um(self) -> float:
        """Weighted mean boundary displacement (needs an evaluation)."""
        return float("nan") if self.evaluation is None else self.evaluation.mean_displacement_um

    @property
    def fraction_correct(self) -> float:
        """Fraction of correct targets (needs an evaluation)."""
        return float("nan") if self.evaluation is None else self.evaluation.fraction_correct


def _check_subdivision(subdivision: Any) -> int:
    from ..validate import check_int

    return check_int(subdivision, "subdivision", 1, 1024)


def map_targets(step_um: float, subdivision: int, radius_um: float):
    """Targets of a map (module rule 1): ``xs, ys, grid_x, grid_y, grid_index``."""
    s = _check_subdivision(subdivision)
    a = _positive(step_um, "step_um") / s
    R = _positive(radius_um, "radius_um")
    from ..validate import check_array_bytes

    K = math.floor(R / a + _TIE)
    check_array_bytes((2 * K + 1, 2 * K + 1), "map targets (radius_um / step_um x subdivision)", copies=16)
    ticks = a * np.arange(-K, K + 1)
    gx, gy = np.meshgrid(ticks, ticks)
    inside = gx * gx + gy * gy <= R * R * (1 + 1e-12)
    grid_index = np.full(gx.shape, -1, dtype=np.int64)
    grid_index[inside] = np.arange(int(inside.sum()))
    return gx[inside], gy[inside], ticks.copy(), ticks.copy(), grid_index
