r"""ImageD11's sample frame and translation motor <-> the s3DXRD frame of this package.

Geometry rule 9 of :mod:`~superres_widgets.s3dxrd.geometry` (checked against
``ImageD11/sinograms/geometry.py``, ``dty_values_grain_in_beam_sincos``,
which gives ``dty = y0 - sx sin(omega) - sy cos(omega)`` for a grain at
ImageD11 sample position ``(sx, sy)``): with the same ``omega``,

    (sx, sy) = (-ys, xs)          (xs, ys) = (sy, -sx)
    dty - y0 = -X                 X = y0 - dty

A scan's ``dty`` and ``omega`` columns become a
:class:`~superres_widgets.s3dxrd.ScanGeometry` with
:meth:`ScanGeometry.from_imaged11 <superres_widgets.s3dxrd.ScanGeometry.from_imaged11>`.

Examples
--------
>>> to_imaged11(0.0, 1.0, -1.0, y0=2.0)
(-1.0, 0.0, 3.0)
>>> from_imaged11(-1.0, 0.0, 3.0, y0=2.0)
(0.0, 1.0, -1.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .conventions import finite_array as _finite_array
from .conventions import finite_scalar as _finite_scalar

__all__ = ["to_imaged11", "from_imaged11"]


def _scalar_or_array(a: np.ndarray) -> Any:
    return float(a) if np.ndim(a) == 0 else a


def to_imaged11(xs: Any, ys: Any, X: Any, y0: float = 0.0) -> tuple[Any, Any, Any]:
    """Convert specimen coordinates and a scan position to ImageD11's frame.

    Parameters
    ----------
    xs, ys : float or array_like
        Specimen coordinates (this module's frame).
    X : float or array_like
        Scan position of eq. (1).
    y0 : float, default 0
        ImageD11's ``y0``: the ``dty`` at which the rotation axis is in the
        beam.

    Returns
    -------
    sx, sy, dty : float or ndarray
        ``(sx, sy) = (-ys, xs)`` and ``dty = y0 - X``.

    Notes
    -----
    ImageD11 (``sinograms/geometry.py``, ``dty_values_grain_in_beam_sincos``)
    puts a grain at ``(sx, sy)`` in the beam at
    ``dty = y0 - sx sin(omega) - sy cos(omega)``; substituting the mapping
    gives ``dty = y0 - X`` with ``X`` from eq. (1), for the same ``omega``.
    """
    xs_a = _finite_array(xs, "xs")
    ys_a = _finite_array(ys, "ys")
    X_a = _finite_array(X, "X")
    y0_f = _finite_scalar(y0, "y0")
    return tuple(_scalar_or_array(v) for v in (-ys_a, xs_a.copy(), y0_f - X_a))


def from_imaged11(sx: Any, sy: Any, dty: Any, y0: float = 0.0) -> tuple[Any, Any, Any]:
    """Convert ImageD11's ``(sx, sy, dty)`` to ``(xs, ys, X)`` of this module.

    Parameters
    ----------
    sx, sy : float or array_like
        ImageD11 sample-frame coordinates.
    dty : float or array_like
        ImageD11 translation motor position.
    y0 : float, default 0
        ``dty`` at which the rotation axis is in the beam.

    Returns
    -------
    xs, ys, X : float or ndarray
        ``(xs, ys) = (sy, -sx)`` and ``X = y0 - dty``; the inverse of
        :func:`to_imaged11`.
    """
    sx_a = _finite_array(sx, "sx")
    sy_a = _finite_array(sy, "sy")
    dty_a = _finite_array(dty, "dty")
    y0_f = _finite_scalar(y0, "y0")
    return tuple(_scalar_or_array(v) for v in (sy_a.copy(), -sx_a, y0_f - dty_a))
