r"""Orientations of cubic crystals: symmetry, misorientation, random draws, ImageD11 UBI.

The orientation side of :mod:`superres_widgets.s3dxrd.crystal` (whose rules
are cited here): an orientation ``U`` is a proper rotation taking
crystal-frame vectors to FABLE's sample frame (crystal rule 3), the cube's
24 proper rotations act on the crystal side (crystal rule 9: the
misorientation of ``U1`` and ``U2`` is the smallest rotation angle of
``U1^T U2 S`` over the 24 ``S``, in ``[0, 62.8]`` deg, computed with the
quaternions of :mod:`~superres_widgets.s3dxrd.conventions`), random
orientations are uniform on SO(3) (crystal rule 10), and ImageD11's grain
matrices are ``UBI = (U B / (2 pi))^-1`` (crystal rule 2).

Checked in ``tests/test_s3dxrd_crystal.py``.

References
----------
.. [1] H. F. Poulsen (2004), Three-Dimensional X-ray Diffraction Microscopy, ch. 3.
.. [2] FABLE-3DXRD xfab.symmetry (the 24 rotations of the cubic group).

Examples
--------
>>> import numpy as np
>>> float(misorientation_deg(np.eye(3), cubic_symmetry_operators()[5]))
0.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import validate as _v
from .conventions import finite_array as _finite_array
from .conventions import quat_mul as _quat_mul
from .conventions import quaternions as _quaternions

if TYPE_CHECKING:  # pragma: no cover
    from .crystal import CubicPhase

__all__ = [
    "cubic_symmetry_operators",
    "random_orientations",
    "check_orientations",
    "misorientation_deg",
    "misorientation_table",
    "orientation_from_ubi",
    "ubi_from_orientation",
    "sample_to_specimen",
    "specimen_to_sample",
]

_ORTHO_TOL = 1e-6


def _rotations(U: Any, name: str) -> np.ndarray:
    """``U`` as a float array of proper rotations ``(..., 3, 3)`` (checked), or ``ValueError`` naming ``name``."""
    try:
        arr = np.asarray(U, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of 3x3 rotation matrices, got {repr(U)[:80]}") from None
    if arr.ndim < 2 or arr.shape[-2:] != (3, 3):
        raise ValueError(f"{name} must have shape (..., 3, 3), got {arr.shape}")
    check_orientations(arr.reshape(-1, 3, 3), name)
    return arr


def _check_phase(phase: Any) -> None:
    B = getattr(phase, "B", None)
    if not isinstance(B, np.ndarray) or B.shape != (3, 3):
        raise ValueError(f"phase must be a phase (e.g. CubicPhase()), got {type(phase).__name__}")


# ---------------------------------------------------------------------------
# orientations
# ---------------------------------------------------------------------------
def cubic_symmetry_operators() -> np.ndarray:
    """The 24 proper rotations of the cube, shape (24, 3, 3); ``[0]`` is I."""
    import itertools

    ops = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            for i, p in enumerate(perm):
                m[i, p] = signs[i]
            if np.linalg.det(m) > 0:
                ops.append(m)
    ops.sort(key=lambda m: (not np.allclose(m, np.eye(3)),))
    return np.array(ops)


def random_orientations(n: int, seed: Any = None) -> np.ndarray:
    """``n`` orientation matrices uniform on SO(3) (module rule 10).

    Parameters
    ----------
    n : int
        ``>= 0``.
    seed : int, numpy Generator or None
    """
    from scipy.spatial.transform import Rotation

    n = _v.check_int(n, "n", 0, 10**8)
    _v.check_array_bytes((n, 3, 3), "random_orientations", copies=3)
    if n == 0:
        return np.zeros((0, 3, 3))
    rng = np.random.default_rng(seed)
    return Rotation.random(n, random_state=rng).as_matrix()


def check_orientations(U: Any, name: str = "orientations", tol: float = _ORTHO_TOL) -> np.ndarray:
    """Validate orientation matrices; return them as a float (n, 3, 3) array.

    Raises
    ------
    ValueError
        Naming ``name``: empty list, wrong shape, non-finite entries, or a
        matrix that is not a proper rotation (``|U^T U - I| > tol`` or
        ``det U <= 0``).
    """
    tol = _v.check_number(tol, "tol", lo=1e-12, hi=1)
    try:
        arr = np.asarray(U, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of 3x3 matrices") from None
    if arr.size == 0:
        raise ValueError(f"{name} is empty: give at least one orientation")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (3, 3):
        raise ValueError(f"{name} must have shape (n, 3, 3), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: give at least one orientation")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    err = np.abs(np.einsum("nji,njk->nik", arr, arr) - np.eye(3)).max(axis=(1, 2))
    bad = np.nonzero(err > tol)[0]
    if bad.size:
        raise ValueError(
            f"{name}[{int(bad[0])}] is not orthonormal (|U^T U - I| = {err[bad[0]]:.2g} > {tol:g})"
        )
    det = np.linalg.det(arr)
    bad = np.nonzero(det <= 0)[0]
    if bad.size:
        raise ValueError(f"{name}[{int(bad[0])}] is not a proper rotation (det = {det[bad[0]]:.3g})")
    return arr.copy()


_SYM_Q: dict[str, np.ndarray] = {}


def _symmetry_name(symmetry: Any) -> str:
    name = getattr(symmetry, "symmetry", symmetry)  # a phase, or its Laue-group name
    if name not in ("cubic", "hexagonal", "tetragonal"):
        raise ValueError(f"symmetry must be 'cubic', 'hexagonal', 'tetragonal' or a phase, got {symmetry!r}")
    return name


def _sym_quats(symmetry: Any = "cubic") -> np.ndarray:
    """Quaternions of the proper rotations of a Laue group (cubic: 24, hexagonal: 12, tetragonal: 8)."""
    name = _symmetry_name(symmetry)
    if name not in _SYM_Q:
        if name == "cubic":
            _SYM_Q[name] = _quaternions(cubic_symmetry_operators())
        else:
            from .phases import symmetry_operators

            _SYM_Q[name] = _quaternions(np.array(symmetry_operators(name)))
    return _SYM_Q[name]


def _misorientation_from_q(qd: np.ndarray, symmetry: Any = "cubic") -> np.ndarray:
    """Misorientation in degrees of misorientation quaternions (..., 4) under a Laue group (default cubic).

    The symmetric equivalent with the largest ``|w|`` is the smallest
    rotation; its angle is ``2 atan2(|v|, |w|)`` (accurate near 0, unlike
    ``2 acos(w)``).
    """
    S = _sym_quats(symmetry)  # (n_sym, 4)
    # scalar part of qd (x) s = qd . (s0, -s1, -s2, -s3)
    Sc = S * np.array([1.0, -1.0, -1.0, -1.0])
    best = np.argmax(np.abs(qd @ Sc.T), axis=-1)
    q = _quat_mul(qd, S[best])
    v = np.sqrt((q[..., 1:] ** 2).sum(axis=-1))
    return np.rad2deg(2.0 * np.arctan2(v, np.abs(q[..., 0])))


def misorientation_deg(U1: Any, U2: Any, symmetry: Any = "cubic") -> np.ndarray:
    """Misorientation angle (deg) between ``U1`` and ``U2``, elementwise.

    ``min_S angle(U1^T U2 S)`` over the proper rotations ``S`` of the Laue
    group (module rule 9; ``symmetry``: ``"cubic"`` (24), ``"hexagonal"``
    (12), ``"tetragonal"`` (8) or a phase); ``U1`` and ``U2`` broadcast over
    their leading axes.
    """
    q1 = _quaternions(_rotations(U1, "U1"))
    q2 = _quaternions(_rotations(U2, "U2"))
    q1c = q1 * np.array([1.0, -1.0, -1.0, -1.0])
    return _misorientation_from_q(_quat_mul(q1c, q2), symmetry)


def misorientation_table(Ua: Any, Ub: Any, symmetry: Any = "cubic") -> np.ndarray:
    """Pairwise misorientations (deg) under ``symmetry`` (default cubic), shape ``(len(Ua), len(Ub))``."""
    qa = _quaternions(_rotations(Ua, "Ua").reshape(-1, 3, 3))
    qb = _quaternions(_rotations(Ub, "Ub").reshape(-1, 3, 3))
    qac = qa * np.array([1.0, -1.0, -1.0, -1.0])
    return _misorientation_from_q(_quat_mul(qac[:, None, :], qb[None, :, :]), symmetry)


def orientation_from_ubi(ubi: Any, phase: CubicPhase) -> np.ndarray:
    """Orientation ``U`` of an ImageD11 ``UBI`` matrix (module rule 2).

    ImageD11 writes ``UBI = (U B')^-1`` with ``B' = B / (2 pi)``; the rows of
    ``UBI`` are the real-space cell vectors in the sample frame.  Returns the
    nearest proper rotation (polar decomposition) of ``(B' UBI)^T``, which
    removes a small elastic strain or a lattice parameter that differs from
    ``phase``.  Validation (cubic cell, handedness) is done by the caller
    (:func:`superres_widgets.s3dxrd.indexing.read_grain_file`).
    """
    _check_phase(phase)
    ubi = _v.check_array(ubi, "ubi")
    if ubi.ndim < 2 or ubi.shape[-2:] != (3, 3):
        raise ValueError(f"ubi must have shape (..., 3, 3), got {ubi.shape}")
    if not np.all(np.abs(np.linalg.det(ubi)) > 1e-12):
        raise ValueError("ubi must be invertible (a cell of non-zero volume)")
    Bp = phase.B / (2.0 * np.pi)
    M = np.swapaxes(Bp @ ubi, -1, -2)
    u, _, vt = np.linalg.svd(M)
    R = u @ vt
    return R


def ubi_from_orientation(U: Any, phase: CubicPhase) -> np.ndarray:
    """ImageD11 ``UBI = (U B / (2 pi))^-1`` of orientations ``U``."""
    _check_phase(phase)
    U = _rotations(U, "U")
    return np.linalg.inv(U @ (phase.B / (2.0 * np.pi)))


def sample_to_specimen(sx: Any, sy: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sample-frame ``(sx, sy)`` (FABLE/ImageD11) to specimen ``(xs, ys)``.

    ``(xs, ys) = (sy, -sx)`` (module rule 3, geometry rule 9).
    """
    return _finite_array(sy, "sy").copy(), -_finite_array(sx, "sx")


def specimen_to_sample(xs: Any, ys: Any) -> tuple[np.ndarray, np.ndarray]:
    """Specimen ``(xs, ys)`` to the sample frame: ``(sx, sy) = (-ys, xs)``."""
    return -_finite_array(ys, "ys"), _finite_array(xs, "xs").copy()
