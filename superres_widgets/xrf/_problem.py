"""One restoration problem on its working grid (private): data, weights, operator, tracker.

Shared by every method of :mod:`superres_widgets.xrf` so that masks, the
negative-value policy, the boundary models and the stopping rules mean the
same everywhere (:mod:`._data`, :mod:`._operators`, :mod:`.convergence`).

On the working grid (see :mod:`._operators`):

* ``y`` -- the prepared map (masked pixels filled, negative policy applied),
  extended by the boundary model;
* ``w`` -- the weight of each working-grid pixel in the data term: 1 for a
  measured pixel, 0 for a masked one and, with ``boundary="masked"``, for
  pixels outside the map; ``None`` when every pixel counts (no mask,
  ``"reflect"`` / ``"periodic"``), which the methods use to skip the
  multiplications;
* ``norm`` -- ``H^T w``, the Richardson-Lucy normalisation (``None``
  means 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._data import PreparedData, prepare_data
from ._operators import ConvolutionOperator
from ._validate import as_psf, check_boundary
from .convergence import Tracker

__all__ = ["Problem", "setup_problem", "check_dtype"]


def check_dtype(dtype) -> np.dtype:
    """float32 or float64, else ValueError."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


@dataclass
class Problem:
    """A prepared problem (see the module docstring)."""

    data: PreparedData
    op: ConvolutionOperator
    y: np.ndarray
    w: np.ndarray | None
    dt: np.dtype
    boundary: str
    _norm: np.ndarray | None = None
    _norm_done: bool = False

    @property
    def shape(self):
        return self.data.image.shape

    @property
    def norm(self) -> np.ndarray | None:
        """``H^T w`` on the working grid (``None``: 1 everywhere)."""
        if not self._norm_done:
            self._norm = None if self.w is None else np.asarray(self.op.adjoint(self.w), dtype=self.dt)
            self._norm_done = True
        return self._norm

    def output(self, x: np.ndarray) -> np.ndarray:
        """Working-grid estimate -> the restored map (float64, the input's units)."""
        return self.data.finish(np.array(self.op.crop(x), dtype=np.float64))

    def weighted(self, r: np.ndarray) -> np.ndarray:
        """``w * r`` in place (nothing when every pixel counts)."""
        if self.w is not None:
            r *= self.w
        return r

    def tracker(self, *, num_iter: int, callback=None, callback_every: int = 1, cancel=None,
                stop: str = "none", tol: float = 1e-3, history=None, objective: Callable | None = None,
                state: Callable[[], np.ndarray]) -> Tracker:
        """A :class:`~superres_widgets.xrf.convergence.Tracker` for this problem.

        ``state()`` returns the current working-grid estimate;
        ``objective(x, hx)`` gets image-grid arrays (the prepared units).
        """
        wc = None if self.data.weights is None else self.data.weights
        return Tracker(num_iter=num_iter, callback=callback, callback_every=callback_every, cancel=cancel,
                       snapshot=lambda: self.output(state()), stop=stop, tol=tol, history=history,
                       y=self.data.image, weights=wc, offset=self.data.offset,
                       crop=self.op.crop, forward=self.op.forward, objective=objective)

    def image_weights(self):
        """Weights on the image grid (``None``: all measured)."""
        return self.data.weights


def setup_problem(image, psf, *, boundary: str, boundaries: tuple, mask=None, negative: str = "offset",
                  dtype=np.float32, workers: int | None = None, poisson: bool = True,
                  extra_kernels=()) -> Problem:
    """Check the inputs and build the :class:`Problem` (ValueError naming the parameter)."""
    data = prepare_data(image, mask, negative, poisson=poisson)
    h = as_psf(psf, data.image.shape, nonnegative=True)
    check_boundary(boundary, boundaries)
    dt = check_dtype(dtype)
    top = max(abs(float(data.image.min())), abs(float(data.image.max())))  # no |image| temporary
    limit = float(np.finfo(dt).max) * 1e-8
    if not top <= limit:  # iterates (ratios, sums, momentum) would overflow to inf / NaN
        raise ValueError(f"image values up to {top:.3g} are beyond what dtype={dt.name} can iterate on (at most "
                         f"{limit:.1e}); rescale the map"
                         f"{' or pass dtype=np.float64' if dt == np.float32 else ''}")
    op = ConvolutionOperator(h, data.image.shape, boundary, dtype=dt, workers=workers,
                             extra_kernels=extra_kernels)
    y = op.extend(data.image)
    w = None
    if data.weights is not None:
        w = op.extend(data.weights)
    if boundary == "masked":
        w = op.mask if w is None else w * op.mask
    if w is not None:
        w = np.asarray(w, dtype=dt)
    return Problem(data, op, y, w, dt, boundary)
