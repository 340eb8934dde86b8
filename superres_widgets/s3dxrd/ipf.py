r"""Orientation colours of s3DXRD maps: the cubic inverse-pole-figure key and RGBA images.

Conventions
-----------
Checked in ``tests/test_s3dxrd_boundaries.py`` (and the widget's tests).

1. **Orientation colour**: the standard cubic inverse-pole-figure (IPF) key
   (:func:`ipf_colors`): the crystal direction parallel to a specimen axis
   (default ``z``, the rotation axis = the normal of the slice) reduced to
   the standard triangle [001]-[101]-[111] by the cubic symmetry, coloured
   red-green-blue (the TSL/DREAM3D key).  Specimen axes are given in the
   FABLE sample frame ``(sx, sy, sz) = (-ys, xs, z)`` (crystal rule 3).

2. **Images** are RGBA ``uint8`` arrays ``(ny, nx, 4)`` whose row 0 is the
   *lowest* ``ys`` (``origin="lower"``, as
   :class:`~superres_widgets.s3dxrd.OrientationMap` and
   :class:`~superres_widgets.s3dxrd.Phantom`); alpha 0 is air (outside the
   specimen); a map cell with no candidate (every ``N' = 0``) is dark grey
   :data:`UNASSIGNED_RGB`.  Extents are ``[xmin, xmax, ymin, ymax]`` of the
   cell *edges*.

Reference: the IPF key of EDAX-TSL OIM and DREAM3D (M. Groeber & M. Jackson
2014, Integr. Mater. Manuf. Innov. 3, 5).

Examples
--------
>>> import numpy as np
>>> ipf_colors(np.eye(3)[None]).round(3).tolist()  # [001] || z: red
[[1.0, 0.0, 0.0]]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["UNASSIGNED_RGB", "IPF_AXES", "ipf_colors", "ipf_key", "map_rgba", "phantom_rgba"]

#: Specimen axes in the FABLE sample frame: ``(sx, sy, sz) = (-ys, xs, z)`` (crystal rule 3).
IPF_AXES: dict[str, tuple[float, float, float]] = {"z": (0.0, 0.0, 1.0), "x": (0.0, 1.0, 0.0), "y": (-1.0, 0.0, 0.0)}

#: Colour of a map cell without a candidate.
UNASSIGNED_RGB = (70, 70, 70)


def ipf_colors(U: Any, axis: str = "z") -> np.ndarray:
    """Cubic inverse-pole-figure colours of orientations, (n, 3) floats in [0, 1].

    Parameters
    ----------
    U : array_like, (n, 3, 3)
        Orientations (crystal -> FABLE sample frame, crystal rule 3).
    axis : {"z", "x", "y"}
        Specimen axis whose crystal direction is coloured: ``z`` is the
        rotation axis (the normal of the slice), ``x``/``y`` the specimen
        frame's in-plane axes.

    Notes
    -----
    The crystal direction ``d = U^T a`` is reduced to the standard triangle
    by the cubic symmetry (``|d|`` sorted: ``z >= x >= y >= 0``), then
    coloured as in the usual TSL/DREAM3D key: with ``chi = acos z`` and
    ``eta = atan2(y, x)`` in [0, 45] deg,
    ``r = 1 - chi / chi_max(eta)``, ``g = (1 - r)(1 - eta / 45)``,
    ``b = 1 - r - g``, then the square root of each and division by the
    largest.  [001] is red, [101] green, [111] blue.

    Examples
    --------
    >>> c = np.cos(np.radians(45.0))
    >>> U = np.array([[[c, 0, -c], [0, 1, 0], [c, 0, c]]])  # U^T z = [101] / sqrt 2
    >>> ipf_colors(U).round(3).tolist()
    [[0.0, 1.0, 0.0]]
    """
    from .orientation import _rotations

    if axis not in IPF_AXES:
        raise ValueError(f"axis must be one of {sorted(IPF_AXES)}, got {axis!r}")
    if np.shape(U)[-2:] == (3, 3) and np.size(U) == 0:
        return np.zeros((0, 3))
    U = _rotations(U, "U").reshape(-1, 3, 3)
    a = np.asarray(IPF_AXES[axis])
    d = np.einsum("nji,j->ni", U, a)  # U^T a
    return _ipf_rgb_of_directions(d)


def _ipf_rgb_of_directions(d: np.ndarray) -> np.ndarray:
    d = np.abs(np.asarray(d, dtype=float))
    d = d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-300)
    s = np.sort(d, axis=-1)  # ascending: y <= x <= z
    y, x, z = s[..., 0], s[..., 1], s[..., 2]
    eta = np.arctan2(y, x)  # [0, pi/4]
    chi = np.arccos(np.clip(z, -1.0, 1.0))
    chi_max = np.arccos(np.sqrt(1.0 / (2.0 + np.tan(eta) ** 2)))
    r = 1.0 - chi / np.maximum(chi_max, 1e-12)
    r = np.clip(r, 0.0, 1.0)
    g = (1.0 - r) * (1.0 - eta / (np.pi / 4))
    b = np.clip(1.0 - r - g, 0.0, 1.0)
    rgb = np.sqrt(np.stack([r, g, np.clip(b, 0, 1)], axis=-1))
    return rgb / np.maximum(rgb.max(axis=-1, keepdims=True), 1e-12)


def ipf_key(size: int = 120) -> np.ndarray:
    """The colour key: the standard triangle in stereographic projection, RGBA (size, size, 4).

    Row 0 is the bottom of the key ([001] at the bottom-left corner, [101]
    bottom-right, [111] at the top), alpha 0 outside the triangle.

    Examples
    --------
    >>> key = ipf_key(40)
    >>> key.shape, key[0, 0, [0, 3]].tolist()  # near [001]: red, opaque
    ((40, 40, 4), [255, 255])
    """
    from ..validate import check_int

    n = check_int(size, "size", 2, 4096)
    # stereographic coordinates of the corners: [001] (0, 0), [101] (sqrt2 - 1, 0), [111] (0.366, 0.366)
    xmax = math.sqrt(2.0) - 1.0
    X, Y = np.meshgrid((np.arange(n) + 0.5) / n * xmax * 1.02, (np.arange(n) + 0.5) / n * xmax * 1.02)
    den = 1.0 + X * X + Y * Y
    d = np.stack([2 * X / den, 2 * Y / den, (1 - X * X - Y * Y) / den], axis=-1)
    inside = (d[..., 1] >= 0) & (d[..., 0] >= d[..., 1]) & (d[..., 2] >= d[..., 0])
    out = np.zeros((n, n, 4), dtype=np.uint8)
    out[..., :3] = np.round(255 * _ipf_rgb_of_directions(d)).astype(np.uint8)
    out[..., 3] = np.where(inside, 255, 0)
    return out


def _rgba_from_index(index: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """``index >= 0``: ``colors[index]``; ``-1``: unassigned grey; ``<= -2`` (or air): transparent."""
    out = np.zeros(index.shape + (4,), dtype=np.uint8)
    c8 = np.round(255 * np.asarray(colors)).astype(np.uint8).reshape(-1, 3)
    ok = index >= 0
    if c8.shape[0]:
        out[ok, :3] = c8[index[ok]]
    out[ok, 3] = 255
    un = index == -1
    out[un, :3] = UNASSIGNED_RGB
    out[un, 3] = 255
    return out


def map_rgba(omap, axis: str = "z") -> np.ndarray:
    """RGBA image (ny, nx, 4) of an :class:`~superres_widgets.s3dxrd.OrientationMap` (rule 2).

    Cell ``[i, j]`` is the target at ``(grid_x[j], grid_y[i])`` coloured by
    :func:`ipf_colors` of its candidate; unassigned cells are
    :data:`UNASSIGNED_RGB`, cells outside the disc transparent.

    Examples
    --------
    >>> from superres_widgets.s3dxrd import OrientationMap
    >>> m = OrientationMap(1, 1.0, np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1),
    ...                    np.zeros((1, 1), int), np.array([-1]), np.zeros(1), np.zeros((1, 0)),
    ...                    np.zeros((0, 3, 3)), "reflection", "next")
    >>> map_rgba(m)[0, 0].tolist()
    [70, 70, 70, 255]
    """
    from .conventions import check_type
    from .nprime import OrientationMap

    check_type(omap, OrientationMap, "omap")
    return _rgba_from_index(omap.candidate_image, ipf_colors(omap.U, axis))


def _phantom_sampling(phantom, max_px: int) -> tuple[int, int]:
    n = max(phantom.labels.shape)
    f = max(1, int(math.ceil(n / max(1, int(max_px)))))
    return f, f // 2


def phantom_rgba(phantom, axis: str = "z", max_px: int = 400) -> tuple[np.ndarray, list[float]]:
    """RGBA image of a phantom, downsampled to at most ``max_px`` cells a side, and its extent.

    Every ``f``-th cell, ``f = ceil(max(ny, nx) / max_px)``, is kept (centre
    sampling, from cell ``f // 2``); the extent is that of the kept cells
    (width ``f * pixel_um`` each).

    Examples
    --------
    >>> from superres_widgets.s3dxrd import voronoi_phantom
    >>> img, ext = phantom_rgba(voronoi_phantom(20, 3, 0, pixel_um=0.25), max_px=40)
    >>> img.shape, [round(v, 3) for v in ext]
    ((27, 27, 4), [-10.125, 10.125, -10.125, 10.125])
    """
    from ..validate import check_int
    from .conventions import check_type
    from .phantom import Phantom

    check_type(phantom, Phantom, "phantom")
    f, o = _phantom_sampling(phantom, check_int(max_px, "max_px", 1, 100_000))
    lab = np.asarray(phantom.labels)[o::f, o::f]
    img = _rgba_from_index(np.where(lab >= 0, lab, -2), ipf_colors(phantom.orientations, axis))
    p = phantom.pixel_um
    xc = phantom.x0_um + p * (o + f * np.arange(lab.shape[1]))
    yc = phantom.y0_um + p * (o + f * np.arange(lab.shape[0]))
    h = 0.5 * f * p
    return img, [float(xc[0] - h), float(xc[-1] + h), float(yc[0] - h), float(yc[-1] + h)]
