r"""Shared numerical conventions of :mod:`superres_widgets.s3dxrd`.

One implementation each of the small rules every s3DXRD module relies on, so
that the geometry, the forward model and the reconstruction cannot drift
apart:

1. **Validation.**  :func:`finite_scalar`, :func:`positive_scalar` and
   :func:`finite_array` raise :class:`ValueError` whose message starts with
   the name of the offending parameter (a widget shows it next to the
   control that produced it).

2. **Rounding** (geometry rule 4): :func:`round_half_away` rounds to the
   nearest integer with ties **away from zero** (2.5 -> 3, -2.5 -> -3;
   MATLAB's ``round``, not numpy's half-to-even); values within
   :data:`TIE_TOL` of a tie count as the tie, because e.g. ``sin(30 deg)`` is
   not exact in floating point.

3. **Angles** are in degrees; :func:`cos_sin_deg` is exact at multiples of
   90 deg (so the measurement lists of the rotation axes do not depend on
   rounding noise).

4. **Quaternions** ``(w, x, y, z)``, scalar first, unit norm;
   :func:`quaternions` converts rotation matrices (``v' = U v``) and
   :func:`quat_mul` is the Hamilton product (``q(p q) = q(p) q(q)`` as
   rotations, applied right to left).

5. **Cancellation.**  Long computations take ``cancel=``: ``None``, an
   object with ``is_set()`` (a ``threading.Event``, a widget's job) or a
   callable returning a bool.  They poll it between chunks of work
   (:func:`check_cancel`) and raise :class:`ComputationCancelled` once it is
   set; nothing partial is returned.

Examples
--------
>>> round_half_away([2.5, -2.5, 0.49])
array([ 3, -3,  0])
>>> cos_sin_deg([0.0, 90.0])
(array([1., 0.]), array([0., 1.]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "TIE_TOL",
    "finite_scalar",
    "positive_scalar",
    "finite_array",
    "check_type",
    "round_half_away",
    "cos_sin_deg",
    "quaternions",
    "quat_mul",
    "ComputationCancelled",
    "check_cancel",
]

#: Relative tolerance (in scan steps) for scan positions and rounding ties.
TIE_TOL = 1e-9


def finite_scalar(value: Any, name: str) -> float:
    """``float(value)``, or ``ValueError("<name> must be a finite number ...")``.

    Bools and strings (even ``"2.5"``) are refused: the shared vocabulary of
    :mod:`superres_widgets.validate`.

    Examples
    --------
    >>> finite_scalar(2.5, "step")
    2.5
    >>> finite_scalar("2.5", "step")
    Traceback (most recent call last):
    ...
    ValueError: step must be a finite number in (-inf, inf), got '2.5' (a string)
    """
    from ..validate import check_finite

    return check_finite(value, name)


def positive_scalar(value: Any, name: str) -> float:
    """A finite number ``> 0``, or ``ValueError`` naming ``name``.

    Examples
    --------
    >>> positive_scalar(4, "beam_um")
    4.0
    """
    out = finite_scalar(value, name)
    if out <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return out


def finite_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a float array without NaN or inf, or ``ValueError`` naming ``name``.

    Examples
    --------
    >>> finite_array([1, 2], "omega_deg")
    array([1., 2.])
    """
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        raise ValueError(f"{name} must be finite numbers, got {value!r}")
    try:
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(arr.dtype)
        arr = arr.astype(float)
    except (TypeError, ValueError):  # ragged, objects, strings, complex
        raise ValueError(f"{name} must be finite numbers, got {repr(value)[:80]}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers (no NaN or inf)")
    return arr


def round_half_away(q: Any) -> np.ndarray:
    r"""Round to the nearest integer, ties (within :data:`TIE_TOL`) away from 0.

    .. math:: \mathrm{round}(q) = \mathrm{sign}(q)\,\lfloor |q| + 1/2 + \epsilon \rfloor,
              \quad \epsilon = 10^{-9}

    (geometry rule 4; Kim, Hayashi & Yabashi 2023, section 2, assign each
    point the nearest scan position).

    Returns
    -------
    ndarray of int64, the shape of ``q``.

    Examples
    --------
    >>> round_half_away([0.5, 1.5, -0.5, 1.4999999999])
    array([ 1,  2, -1,  2])
    """
    q = finite_array(q, "q")
    return np.copysign(np.floor(np.abs(q) + 0.5 + TIE_TOL), q).astype(np.int64)


def cos_sin_deg(omega_deg: Any) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of angles in degrees, exact at multiples of 90 degrees.

    Examples
    --------
    >>> c, s = cos_sin_deg([180.0, 270.0])
    >>> c.tolist(), s.tolist()
    ([-1.0, 0.0], [0.0, -1.0])
    """
    omega_deg = finite_array(omega_deg, "omega_deg")
    w = np.deg2rad(omega_deg)
    c, s = np.cos(w), np.sin(w)
    quarter = np.mod(omega_deg, 360.0) / 90.0
    exact = quarter == np.round(quarter)
    if np.any(exact):
        qi = np.round(quarter[exact]).astype(int) % 4
        c[exact] = np.array([1.0, 0.0, -1.0, 0.0])[qi]
        s[exact] = np.array([0.0, 1.0, 0.0, -1.0])[qi]
    return c, s


def quaternions(U: Any) -> np.ndarray:
    """Unit quaternions ``(w, x, y, z)`` of rotation matrices ``(..., 3, 3)``.

    Examples
    --------
    >>> quaternions(np.eye(3)).tolist()
    [1.0, 0.0, 0.0, 0.0]
    """
    from scipy.spatial.transform import Rotation

    U = np.asarray(U, dtype=float)
    shape = U.shape[:-2]
    q = Rotation.from_matrix(U.reshape(-1, 3, 3)).as_quat()  # (x, y, z, w)
    q = np.concatenate([q[:, 3:], q[:, :3]], axis=1)
    return q.reshape(shape + (4,))


def quat_mul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    r"""Hamilton product ``p q`` of quaternions ``(..., 4)`` (scalar first).

    .. math:: (p_w, \mathbf{p})(q_w, \mathbf{q}) = (p_w q_w - \mathbf{p}\cdot\mathbf{q},\;
              p_w \mathbf{q} + q_w \mathbf{p} + \mathbf{p}\times\mathbf{q})

    Examples
    --------
    >>> i = np.array([0.0, 1, 0, 0]); j = np.array([0.0, 0, 1, 0])
    >>> quat_mul(i, j).tolist()  # i j = k
    [0.0, 0.0, 0.0, 1.0]
    """
    pw, px, py, pz = np.moveaxis(np.asarray(p, dtype=float), -1, 0)
    qw, qx, qy, qz = np.moveaxis(np.asarray(q, dtype=float), -1, 0)
    return np.stack(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ],
        axis=-1,
    )


def check_type(value: Any, cls: Any, name: str, what: str = "") -> Any:
    """``value`` if it is an instance of ``cls``, else ``ValueError("<name> must be a <what>, got <type>")``.

    Examples
    --------
    >>> check_type(3, str, "geometry", "ScanGeometry")
    Traceback (most recent call last):
    ...
    ValueError: geometry must be a ScanGeometry, got int
    """
    if not isinstance(value, cls):
        what = what or getattr(cls, "__name__", str(cls))
        raise ValueError(f"{name} must be a {what}, got {type(value).__name__}")
    return value


class ComputationCancelled(RuntimeError):
    """Raised by a long s3DXRD computation when its ``cancel`` signal is set (convention 5)."""


def check_cancel(cancel: Any, what: str = "computation") -> None:
    """Raise :class:`ComputationCancelled` if ``cancel`` is set (convention 5).

    Examples
    --------
    >>> import threading
    >>> ev = threading.Event()
    >>> check_cancel(ev)          # not set: returns
    >>> ev.set()
    >>> check_cancel(ev)
    Traceback (most recent call last):
    ...
    superres_widgets.s3dxrd.conventions.ComputationCancelled: computation cancelled
    """
    if cancel is None:
        return
    is_set = getattr(cancel, "is_set", None)
    flag = is_set() if callable(is_set) else cancel() if callable(cancel) else bool(cancel)
    if flag:
        raise ComputationCancelled(f"{what} cancelled")
