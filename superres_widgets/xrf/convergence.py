r"""Knowing when to stop: per-iteration records and stopping rules for the iterative methods.

Every iterative method of :mod:`superres_widgets.xrf` takes

* ``stop`` -- ``"none"`` (run ``num_iter`` iterations), ``"discrepancy"``
  (the discrepancy principle for Poisson data) or ``"relative_change"``;
  ``num_iter`` is then the cap;
* ``tol`` -- the tolerance of ``"relative_change"``;
* ``history`` -- a :class:`ConvergenceHistory` the method fills with one
  :class:`IterationRecord` per iteration (residual, objective, discrepancy,
  change, and MSE/SSIM when the history holds a reference).

Nothing is measured when ``stop="none"`` and no history is given, so the
plain runs stay as fast as before.

Definitions (``y`` the map in counts, ``w`` the weights of its measured
pixels, ``Hx`` the blurred estimate, ``N = sum w``; sums over the map):

* **residual** :math:`\lVert w (y - Hx)\rVert_2 / \lVert w y\rVert_2`, the
  relative data misfit (in the input's units: the ``negative="offset"``
  shift is not in ``y`` here);
* **discrepancy** (Bertero, Boccacci, Talenti, Zanella & Zanni 2010):

  .. math:: D(x) = \frac{2}{N} \sum_i w_i \left[ y_i \ln\frac{y_i}{(Hx)_i} + (Hx)_i - y_i \right]

  whose expectation is about 1 when ``Hx`` is the true mean of Poisson
  counts ``y`` (counts of a few tens or more).  ``stop="discrepancy"``
  ends the iterations at the first ``k`` with :math:`D(x_k) \le 1`: fitting
  further fits the noise.  It needs the map in counts (not normalised or
  per second).
* **change** :math:`\lVert x_k - x_{k-1}\rVert_2 / \lVert x_{k-1}\rVert_2`;
  ``stop="relative_change"`` ends at the first ``k`` with change <= ``tol``.
* **objective**: each method's own (its docstring), per measured pixel.

References
----------
.. [1] M. Bertero, P. Boccacci, G. Talenti, R. Zanella and L. Zanni, "A
       discrepancy principle for Poisson data", Inverse Problems 26, 105004
       (2010).
.. [2] M. Bertero, P. Boccacci, G. Desiderà and G. Vicidomini, "Image
       deblurring with Poisson data: from cells to galaxies", Inverse
       Problems 25, 123006 (2009).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..validate import check_array

from ._validate import DeconvolutionCancelled, check_callback, dot, make_stop_check, norm2

__all__ = ["STOP_RULES", "IterationRecord", "ConvergenceHistory", "poisson_discrepancy", "check_stop"]

#: Values of ``stop=``.
STOP_RULES = ("none", "discrepancy", "relative_change")


def check_stop(stop, tol) -> tuple:
    """``(stop, tol)`` checked (ValueError naming the parameter)."""
    if stop is None:
        stop = "none"
    if stop not in STOP_RULES:
        raise ValueError(f"stop must be one of {list(STOP_RULES)}, got {stop!r}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)) or not (
            math.isfinite(float(tol)) and float(tol) > 0):
        raise ValueError(f"tol must be a number > 0, got {tol!r}")
    return stop, float(tol)


def poisson_discrepancy(y, hx, weights=None) -> float:
    r"""The Poisson discrepancy :math:`D` of the module docstring (0 ln 0 = 0).

    Examples
    --------
    >>> y = np.random.default_rng(0).poisson(200.0, (256, 256)).astype(float)
    >>> round(poisson_discrepancy(y, np.full(y.shape, 200.0)), 2)
    1.0
    """
    y = check_array(y, "y", nonnegative=True)
    hx = check_array(hx, "hx")
    if hx.shape != y.shape:
        raise ValueError(f"y and hx must have the same shape, got y {y.shape} and hx {hx.shape}")
    if weights is not None:
        weights = check_array(weights, "weights", nonnegative=True)
        if weights.shape != y.shape:
            raise ValueError(f"weights must have the shape of y {y.shape}, got {weights.shape}")
    return _poisson_discrepancy(y, hx, weights)


def _poisson_discrepancy(y, hx, weights=None) -> float:
    """:func:`poisson_discrepancy` without the checks (the iteration loops' arrays are valid)."""
    y = np.asarray(y, dtype=np.float64)
    m = np.maximum(np.asarray(hx, dtype=np.float64), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / m), 0.0) + m - y
    if weights is None:
        return float(2.0 * term.sum() / term.size)
    w = np.asarray(weights, dtype=np.float64)
    return float(2.0 * (w * term).sum() / max(w.sum(), 1.0))


@dataclass
class IterationRecord:
    """What one iteration reached (``None``: not measured)."""

    iteration: int
    residual: float
    objective: float | None
    discrepancy: float
    change: float | None
    mse: float | None = None
    ssim: float | None = None
    seconds: float = 0.0


class ConvergenceHistory:
    """Per-iteration records of one run; pass it as ``history=`` to an iterative method.

    Parameters
    ----------
    reference : (M, N) array_like, optional
        Ground truth in the map's units: MSE and SSIM are recorded too
        (SSIM with the reference's range as ``data_range``; window 7).
    every : int
        Measure every ``every`` iterations (and the last one).
    on_record : callable, optional
        ``on_record(record)`` after each record (e.g. a live plot).

    Attributes
    ----------
    records : list of IterationRecord
    stopped_at : int or None
        The iteration at which the stopping rule ended the run.
    reason : str
        Why the run ended (``"num_iter reached"``, ``"discrepancy 0.998 <= 1"``, ...).

    Examples
    --------
    >>> from superres_widgets.xrf import richardson_lucy, gaussian_psf, convolve
    >>> rng = np.random.default_rng(1)
    >>> truth = np.full((64, 64), 50.0); truth[20:44, 28:36] = 400.0
    >>> y = rng.poisson(convolve(truth, gaussian_psf(2.0))).astype(float)
    >>> h = ConvergenceHistory()
    >>> _ = richardson_lucy(y, gaussian_psf(2.0), 200, stop="discrepancy", history=h)
    >>> h.stopped_at is not None and h.stopped_at < 200, h.records[-1].discrepancy <= 1.0
    (True, True)
    """

    def __init__(self, reference=None, *, every: int = 1, on_record: Callable | None = None):
        self.reference = None if reference is None else np.asarray(reference, dtype=np.float64)
        self.every = check_callback(None, every)
        self.on_record = on_record
        self.records: list[IterationRecord] = []
        self.stopped_at: int | None = None
        self.reason = ""
        self.stop = "none"
        self.tol = None

    def __len__(self) -> int:
        return len(self.records)

    def column(self, name: str) -> np.ndarray:
        """One field over the records (NaN where not measured)."""
        return np.array([np.nan if getattr(r, name) is None else getattr(r, name) for r in self.records],
                        dtype=float)

    def as_dict(self) -> dict:
        """Plain lists (JSON, provenance)."""
        out = {k: [asdict(r)[k] for r in self.records] for k in IterationRecord.__dataclass_fields__}
        out.update(stopped_at=self.stopped_at, reason=self.reason, stop=self.stop, tol=self.tol)
        return out


class Tracker:
    """Progress, cancellation, measurements and the stopping rule of one run (private).

    ``snapshot()`` returns the current estimate on the image grid (float64,
    the input's units); ``crop(a)`` cuts a working-grid array to the image;
    ``objective(x_work, hx_work)`` is the method's objective or None.
    """

    def __init__(self, *, num_iter: int, callback=None, callback_every: int = 1, cancel: Any = None,
                 snapshot: Callable, stop: str = "none", tol: float = 1e-3, history: ConvergenceHistory | None = None,
                 y=None, weights=None, offset: float = 0.0, crop: Callable | None = None,
                 forward: Callable | None = None, objective: Callable | None = None):
        self.callback = callback
        self.every = check_callback(callback, callback_every)
        self.stop_check = make_stop_check(cancel)
        self.num_iter = num_iter
        self.snapshot = snapshot
        self.stop, self.tol = check_stop(stop, tol)
        if history is not None and not isinstance(history, ConvergenceHistory):
            raise ValueError(f"history must be a ConvergenceHistory or None, got {type(history).__name__}")
        self.history = history
        self.active = self.stop != "none" or history is not None
        self.crop = crop or (lambda a: a)
        self.forward = forward
        self.objective = objective
        self.t0 = time.perf_counter()
        self.prev, self.prev_k, self.change = None, None, None
        if self.active:
            # y and weights are on the image grid already (only estimates live on the working grid)
            self.y = np.asarray(y, dtype=np.float64)
            self.w = None if weights is None else np.asarray(weights, dtype=np.float64)
            self.offset = float(offset)
            y0 = self.y - self.offset
            self.y_norm = float(norm2(y0 if self.w is None else self.w * y0)) or 1.0
        if history is not None:
            history.records.clear()
            history.stopped_at, history.reason = None, ""
            history.stop, history.tol = self.stop, self.tol

    def check_cancel(self, done: int) -> None:
        if self.stop_check():
            raise DeconvolutionCancelled(done, self.snapshot() if done > 0 else None)

    def report(self, done: int, final: bool = False) -> None:
        if self.callback is not None and (done % self.every == 0 or done == self.num_iter or final):
            self.callback(done, self.snapshot())

    def measure(self, k: int, x, hx=None, *, force: bool = False):
        """After iteration ``k`` (estimate ``x`` on the working grid): ``(stop?, H x)``.

        ``hx`` (``H x`` on the working grid) is computed here when needed and
        not given, and returned so that the method can reuse it.
        """
        if not self.active:
            return False, hx
        h = self.history
        need_fit = force or self.stop == "discrepancy" or (h is not None and (
            k % h.every == 0 or k == self.num_iter))
        need_change = self.stop == "relative_change" or h is not None
        if not (need_fit or need_change):
            return False, hx
        xc = np.asarray(self.crop(x), dtype=np.float64)
        if need_change and self.prev_k != k:
            if self.prev is not None:
                self.change = float(norm2(xc - self.prev) / max(norm2(self.prev), 1e-300))
            self.prev, self.prev_k = xc.copy(), k
        change = self.change if self.prev_k == k else None
        stop = self.stop == "relative_change" and change is not None and change <= self.tol
        reason = f"relative change {change:.3g} <= tol {self.tol:g}" if stop else ""
        if need_fit:
            if hx is None:
                hx = self.forward(x)
            hc = np.asarray(self.crop(hx), dtype=np.float64)
            disc = _poisson_discrepancy(self.y, hc, self.w)
            r = self.y - hc
            res = float(norm2(r if self.w is None else self.w * r)) / self.y_norm
            if self.stop == "discrepancy" and disc <= 1.0:
                stop, reason = True, f"discrepancy {disc:.5f} <= 1"
            if h is not None:
                self._record(k, xc, hc, res, disc, change)
        if stop and h is not None:
            h.stopped_at, h.reason = k, reason
        return stop, hx

    def _record(self, k, xc, hc, res, disc, change):
        h = self.history
        obj = None if self.objective is None else float(self.objective(xc, hc))
        mse = ssim = None
        if h.reference is not None:
            from .metrics import ssim as _ssim

            xo = xc - self.offset
            mse = float(np.mean((xo - h.reference) ** 2))
            rng = float(np.ptp(h.reference)) or 1.0
            ssim = float(_ssim(xo, h.reference, data_range=rng))
        rec = IterationRecord(k, res, obj, disc, change, mse, ssim, time.perf_counter() - self.t0)
        h.records.append(rec)
        if h.on_record is not None:
            h.on_record(rec)

    def step(self, k: int, x, hx=None) -> tuple:
        """After iteration ``k``: :meth:`measure` then :meth:`report`; ``(stop?, H x)``."""
        done, hx = self.measure(k, x, hx)
        self.report(k, final=done)
        return done, hx

    def finish(self, k: int, x, hx=None) -> None:
        """After the last iteration (``k`` done): record it if not yet, and say why the run ended."""
        h = self.history
        if h is None:
            return
        if not h.records or h.records[-1].iteration != k:
            saved, self.stop = self.stop, "none"
            try:
                self.measure(k, x, hx, force=True)
            finally:
                self.stop = saved
        if h.stopped_at is None:
            h.reason = "num_iter reached"


def kl_objective(y, weights=None) -> Callable:
    """``objective(x, hx)`` (image-grid arrays): Kullback-Leibler divergence of ``Hx`` from ``y`` per measured pixel.

    That is the Poisson negative log-likelihood up to a constant, and half the
    discrepancy :math:`D`.
    """
    def objective(x, hx):
        return 0.5 * _poisson_discrepancy(y, hx, weights)
    return objective


def least_squares_objective(y, weights=None, penalty: Callable | None = None) -> Callable:
    """``objective(x, hx)``: :math:`\\tfrac12 \\lVert w(y - Hx)\\rVert^2 / N` plus ``penalty(x) / N``."""
    def objective(x, hx):
        r = np.asarray(y, dtype=np.float64) - hx
        n = r.size if weights is None else max(float(np.sum(weights)), 1.0)
        if weights is not None:
            r = r * weights
        out = 0.5 * dot(r, r) / n
        return out + (0.0 if penalty is None else float(penalty(x)) / n)
    return objective
