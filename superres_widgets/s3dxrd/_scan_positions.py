r"""Scan positions and the nearest position of a point (geometry rules 3-4), as pure array functions.

Private helper of :mod:`~superres_widgets.s3dxrd.geometry`: the validation of a
scan's grid or position list (and of ImageD11 ``dty`` columns) behind
:class:`~superres_widgets.s3dxrd.ScanGeometry`, and the arithmetic of rule 4
behind its ``_lookup`` / ``_scan_indices`` (the class keeps the methods and
wraps the results in :class:`~superres_widgets.s3dxrd.geometry.PositionLookup`).
Lookups return tuples ``(index, in_scan, distance, next_index)`` in the order
of ``PositionLookup``'s fields, shape ``u.shape``.

Conventions: geometry rules 3 (scan positions, rotation-axis offset ``y0``), 4 (the nearest
position, rounding half away from zero) and 9 (ImageD11's ``dty``), stated once in the module
docstring of :mod:`~superres_widgets.s3dxrd.geometry` and checked in ``tests/test_s3dxrd_geometry.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .conventions import TIE_TOL as _TIE_TOL
from .conventions import finite_array as _finite_array
from .conventions import finite_scalar as _finite_scalar
from .conventions import positive_scalar as _positive_scalar
from .conventions import round_half_away as _round_half_away


# ---------------------------------------------------------------------------
# rule 3: grids, position lists, ImageD11 dty
# ---------------------------------------------------------------------------
def position_list(positions: Any) -> np.ndarray:
    """Validated, sorted, de-duplicated position list (rule 3, scans as data)."""
    pos = _finite_array(positions, "positions")
    if pos.ndim > 1:
        raise ValueError(f"positions must be a 1-D list of scan positions, got shape {pos.shape}")
    pos = np.unique(np.atleast_1d(pos))
    if pos.size == 0:
        raise ValueError("positions must contain at least one scan position")
    if pos.size > 1:  # merge values closer than rounding noise (repeated motor readings)
        scale = max(float(np.abs(pos).max()), 1.0)
        keep = np.concatenate([[True], np.diff(pos) > 1e-9 * scale])
        pos = pos[keep]
    pos.flags.writeable = False
    return pos


def validate_scan(x_range: Any, step: Any, axis_offset: Any,
                  positions: Any) -> tuple[float, float, float, np.ndarray | None]:
    """The scan arguments of :class:`~superres_widgets.s3dxrd.ScanGeometry`, validated (rule 3).

    Returns
    -------
    x_range : float
        As given for a grid; the largest ``|X|`` of a position list.
    step, axis_offset : float
    positions : ndarray or None
        :func:`position_list` of ``positions`` (``None``: a grid).

    Raises
    ------
    ValueError
        If a parameter is out of range; the message starts with its name.
    """
    step_f = _positive_scalar(step, "step")
    y0 = _finite_scalar(axis_offset, "axis_offset")
    if positions is None:
        x_range_f = _finite_scalar(x_range, "x_range")
        if x_range_f < 0:
            raise ValueError(f"x_range must be >= 0, got {x_range!r}")
        if abs(y0) > x_range_f * (1 + 1e-12):
            raise ValueError(
                f"axis_offset must be within the scan, |axis_offset| <= x_range = {x_range_f:g}, "
                f"got {axis_offset!r}"
            )
        pos = None
    else:
        if y0 != 0:
            raise ValueError(
                f"axis_offset must be 0 with positions (they are relative to the axis already), got {axis_offset!r}"
            )
        pos = position_list(positions)
        x_range_f = float(np.abs(pos).max())
    return x_range_f, step_f, y0, pos


def positions_from_dty(dty: Any, omega: Any, y0: float,
                       step: float | None) -> tuple[np.ndarray, np.ndarray, float]:
    """The scan of ImageD11 ``dty`` and ``omega`` columns (rules 3 and 9), validated.

    Returns
    -------
    positions : ndarray
        ``y0 - dty`` of the distinct ``dty`` values.
    omega_deg : ndarray
        The distinct ``omega`` values, sorted (``np.unique``).
    step : float
        ``step``, or by default the median spacing of the distinct ``dty``
        values (1 if there is only one).
    """
    d = position_list(dty)  # validates "positions"-style; rename in the messages
    y0_f = _finite_scalar(y0, "y0")
    lo, hi = float(d.min()), float(d.max())
    span = max(hi - lo, 1.0)
    if not lo - 1e-9 * span <= y0_f <= hi + 1e-9 * span:
        raise ValueError(f"y0 must lie within the dty range [{lo:g}, {hi:g}] of the scan, got {y0!r}")
    om = _finite_array(omega, "omega")
    if om.size == 0:
        raise ValueError("omega must contain at least one angle")
    if step is None:
        step_f = float(np.median(np.diff(d))) if d.size > 1 else 1.0
    else:
        step_f = _positive_scalar(step, "step")
    return y0_f - d, np.unique(om.ravel()), step_f


# ---------------------------------------------------------------------------
# rule 4: nearest positions
# ---------------------------------------------------------------------------
def grid_lookup(u: np.ndarray, step: float, kmax: int) -> tuple[np.ndarray, ...]:
    """Rule 4 on the paper's grid ``X = step * k``, ``|k| <= kmax`` (no axis offset).

    ``u = xs cos w - ys sin w``; returns ``(index, in_scan, distance, next_index)``.
    """
    q = u / step
    k = _round_half_away(q)
    in_scan = np.abs(k) <= kmax
    X = step * k.astype(float)
    nxt = k + np.where(q >= k, 1, -1)
    return np.clip(k + kmax, 0, 2 * kmax), in_scan, u - X, np.clip(nxt + kmax, 0, 2 * kmax)


def list_lookup(u: np.ndarray, P: np.ndarray, step: float) -> tuple[np.ndarray, ...]:
    """Rule 4 for ascending positions ``P`` (a grid with an axis offset, or a position list).

    ``u = xs cos w - ys sin w``; returns ``(index, in_scan, distance, next_index)``.
    """
    n = P.size
    tol = _TIE_TOL * step
    right = np.clip(np.searchsorted(P, u, side="left"), 0, n - 1)
    left = np.clip(right - 1, 0, n - 1)
    dl = u - P[left]
    dr = P[right] - u
    # nearest; a tie (within tol) goes to the position farther from the axis
    tie = np.abs(dr - dl) <= 2 * tol
    far_right = np.abs(P[right]) >= np.abs(P[left])
    take_right = (dr < dl) & ~tie | tie & far_right
    idx = np.where(take_right, right, left)
    X = P[idx]
    d = u - X
    g0 = P[1] - P[0] if n > 1 else step
    g1 = P[-1] - P[-2] if n > 1 else step
    below = P[0] - u  # > 0 below the first position
    above = u - P[-1]
    # the end cells reach half the end gap; a tie at the upper (lower) edge
    # goes away from (towards) the axis like rule 4 on a symmetric grid
    out_lo = below >= 0.5 * g0 - tol if P[0] < 0 else below > 0.5 * g0 + tol
    out_hi = above >= 0.5 * g1 - tol if P[-1] > 0 else above > 0.5 * g1 + tol
    nxt = np.clip(idx + np.where(d >= 0, 1, -1), 0, n - 1)
    return idx.astype(np.int64), ~(out_lo | out_hi), d, nxt.astype(np.int64)


def grid_scan_indices(xs: np.ndarray, ys: np.ndarray, c: np.ndarray, s: np.ndarray, step: float, kmax: int,
                      distance: bool = False, index_dtype: Any = np.int64) -> tuple[np.ndarray, ...]:
    """Rule 4's arithmetic in place on the paper's grid: position index, 'in scan' mask (and ``u - X``).

    The operations of :func:`grid_lookup` in the same order (same values) without ``next_index``
    and copies (issue 14); ``c, s`` are the cosines and sines of the angles, the result has shape
    ``xs.shape + (n_omega,)``.  ``index_dtype=np.float64`` returns the (integer-valued) index
    without a conversion.
    """
    u = np.multiply.outer(xs, c)
    buf = np.multiply.outer(ys, s)
    u -= buf
    q = u if step == 1.0 else np.divide(u, step, out=buf)  # u / 1.0 == u exactly
    kf = np.abs(q, out=buf if step == 1.0 else None)  # sign(q) floor(|q| + 1/2 + tol), as round_half_away
    kf += 0.5
    kf += _TIE_TOL
    np.floor(kf, out=kf)
    in_scan = kf <= kmax
    np.copysign(kf, q, out=kf)
    d = None
    if distance:  # u - X, X = step * k
        d = np.subtract(u, kf, out=u) if step == 1.0 else u - step * kf
    kf += kmax
    index = np.clip(kf, 0, 2 * kmax, out=kf).astype(index_dtype, copy=False)
    return (index, in_scan, d) if distance else (index, in_scan)
