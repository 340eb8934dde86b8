r"""Kinematic diffraction of cubic crystals for the s3DXRD phantom (numpy only).

Crystal side of the phantom reconstruction of

    J. Kim, Y. Hayashi & M. Yabashi (2023). "The emergence of
    super-resolution beyond the probe size in scanning 3DXRD microscopy".
    J. Synchrotron Rad. (CC BY 4.0), section 4, Figs. 5-6.

The diffraction equations are the standard 3DXRD ones of H. F. Poulsen (2004),
*Three-Dimensional X-ray Diffraction Microscopy*, Springer Tracts in Modern
Physics 205, chapter 3, in the form implemented by FABLE's ``xfab.tools``
(``form_b_mat``, ``find_omega_general`` with no wedge and no chi) and used by
ImageD11 and PolyXSim.  ``xfab`` is used only by the tests, never here.

Frames and sign conventions
---------------------------
Each rule is checked by a test in ``tests/test_s3dxrd_crystal.py``.

1. **Units.**  Lattice parameters and wavelengths in Angstrom, energies in
   keV, angles in degrees at the interface (radians inside), lengths in the
   specimen in micrometres (other modules).  Wavelength from energy:
   ``lambda = hc / E`` with ``hc = 12.398419843 keV A`` (:data:`HC_KEV_ANGSTROM`,
   CODATA 2018; the familiar ``12.398 / E``).

2. **B matrix** (Poulsen 2004, eq. 3.4; ``xfab.tools.form_b_mat``), the
   *physicist* convention with the factor ``2 pi``: a reflection ``h = (h, k,
   l)`` has the Cartesian crystal-frame scattering vector ``g_c = B h`` with
   ``|g_c| = 2 pi / d_hkl``.  For a cubic cell ``B = (2 pi / a) I``.
   ImageD11 works without the ``2 pi`` (``|g| = 1/d``): its ``B`` is
   ``B / (2 pi)`` and a grain file's ``UBI = (U B / (2 pi))^-1``.

3. **Orientation** ``U``: a proper rotation (``U^T U = I``, ``det U = +1``)
   taking crystal-frame vectors to the *sample* frame, ``g_s = U B h``.  The
   sample frame ``(sx, sy, sz)`` is FABLE's / ImageD11's: ``z`` along the
   rotation axis (up), ``x`` along the beam at ``omega = 0``.  It is tied to
   the specimen frame ``(xs, ys)`` of :mod:`superres_widgets.s3dxrd.geometry`
   by that module's ImageD11 rule 9, a +90 deg turn about the rotation axis::

       (sx, sy, sz) = (-ys, xs, z)            (xs, ys) = (sy, -sx)

   Positions never enter the diffraction angles; this mapping only matters
   when orientations or translations are exchanged with ImageD11/FABLE
   files (see :func:`sample_to_specimen`).

4. **Rotation** ``omega`` (right-handed about ``+z``, FABLE's
   ``form_omega_mat``)::

       Omega(w) = [[cos w, -sin w, 0], [sin w, cos w, 0], [0, 0, 1]],
       g_l = Omega(w) U B h        (laboratory frame)

   This is the *same* ``omega`` as seed eq. (1) in the geometry module: a
   specimen point ``(xs, ys)`` is at laboratory ``(X, Y) = R(w) (xs, ys)``
   there and at ``Omega(w) (sx, sy)`` here, both turned counter-clockwise by
   ``+w``; since the frame mapping (rule 3) is itself a rotation about ``z``
   it commutes with ``Omega``.  With ImageD11's laboratory frame the
   translation coordinate ``X`` of eq. (1) is the laboratory ``y_l`` and
   ``x_l = -Y``.

5. **Beam and Laue condition.**  The beam travels along laboratory ``+x_l``,
   ``k_in = (2 pi / lambda) (1, 0, 0)``; elastic scattering
   ``k_out = k_in + g_l`` with ``|k_out| = |k_in|`` gives
   ``g_l,x = -lambda |g|^2 / (4 pi)``.  With ``gn = lambda g / (4 pi)``
   (so ``|gn| = sin(theta)``, Bragg's law ``lambda = 2 d sin(theta)``) the
   omega solutions solve ``a cos w + b sin w = c`` with ``a = gn_x``,
   ``b = -gn_y``, ``c = -|gn|^2``; when ``D = a^2 + b^2 - c^2 >= 0``::

       cos w_i = (a c + (-1)^i b sqrt(D)) / (a^2 + b^2)
       sin w_i = (b c - (-1)^i a sqrt(D)) / (a^2 + b^2),      i = 0, 1

   exactly as ``xfab.tools.find_omega_general(gn, 2 theta, 0, 0)`` returns
   them (same order).  ``g`` parallel to the rotation axis (``a = b = 0``)
   or ``D < 0`` has no solution.

6. **2 theta and eta.**  ``2 theta = 2 asin(lambda |g| / (4 pi))``.  The
   azimuth on the detector follows xfab::

       sin eta = -2 g_t,y / sin(2 theta),   cos eta = 2 g_t,z / sin(2 theta),

   with ``g_t = Omega(w) gn``; i.e. the diffracted beam points along
   ``(cos 2theta, -sin 2theta sin eta, sin 2theta cos eta)``: ``eta = 0`` is
   up (``+z_l``), ``eta = +90`` deg is towards ``-y_l``.  Angles are returned
   in degrees, ``eta`` in ``(-180, 180]``.

7. **Omega range, both solutions and Friedel pairs.**  The scan collects
   ``omega`` in ``[omega_start, omega_start + omega_range)`` (the paper and
   the default: ``[0, 180)``).  Every solution is reduced modulo 360 into
   ``[omega_start, omega_start + 360)`` and kept if it falls in the scanned
   range, so a reflection contributes 0, 1 or 2 *diffraction events*.  The
   Friedel mate ``-h`` diffracts at ``(w + 180, 180 - eta)`` for every
   solution ``(w, eta)`` of ``h``; over a 180-deg scan each event of the pair
   ``{h, -h}`` is therefore collected exactly once (by ``h`` or by ``-h``),
   and nothing is double counted.  Both ``h`` and ``-h`` are generated.

8. **Reflections and rings.**  All ``h`` with ``0 < 2 theta <= tth_max``
   (and ``>= tth_min``) that the lattice allows: fcc ``h, k, l`` all even or
   all odd; bcc ``h + k + l`` even; simple cubic all (the extinction rules of
   Fm-3m, Im-3m, Pm-3m).  A *ring* is a set of reflections with the same
   ``d`` (e.g. {333} and {511}); rings are numbered from 0 by increasing
   ``2 theta``.

9. **Cubic symmetry and misorientation** (:mod:`~superres_widgets.s3dxrd.orientation`).  The 24 proper rotations of the
   cube act on the crystal side, ``U S`` is the same crystal as ``U``; the
   misorientation of ``U1`` and ``U2`` is the smallest rotation angle of
   ``U1^T U2 S`` over the 24 ``S``, in ``[0, 62.8]`` deg.

10. **Random orientations** (:mod:`~superres_widgets.s3dxrd.orientation`) are uniform on SO(3) (Haar measure) from
    ``scipy.spatial.transform.Rotation.random`` seeded with a numpy
    ``Generator``.

References
----------
.. [1] Kim, Hayashi & Yabashi (2023), J. Synchrotron Rad.
.. [2] H. F. Poulsen (2004), Three-Dimensional X-ray Diffraction Microscopy,
   Springer, ch. 3 (eqs. 3.4, 3.6-3.8).
.. [3] FABLE-3DXRD xfab.tools (form_b_mat, find_omega_general, genhkl_all).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import finite_array as _finite_array
from .conventions import finite_scalar as _finite
from .conventions import positive_scalar as _positive
from .phases import Phase, _generate_hkl_general
from .orientation import (  # noqa: F401 - the orientation helpers used to live here
    _ORTHO_TOL,
    _misorientation_from_q,
    _sym_quats,
    check_orientations,
    cubic_symmetry_operators,
    misorientation_deg,
    misorientation_table,
    orientation_from_ubi,
    random_orientations,
    sample_to_specimen,
    specimen_to_sample,
    ubi_from_orientation,
)

__all__ = [
    "HC_KEV_ANGSTROM",
    "LATTICES",
    "CubicPhase",
    "ReflectionSet",
    "PredictedReflections",
    "wavelength_from_energy",
    "energy_from_wavelength",
    "b_matrix",
    "generate_hkl",
    "laue_solutions",
    "predict_reflections",
    "scattering_vectors",
]

#: Planck constant times speed of light in keV Angstrom (CODATA 2018).
HC_KEV_ANGSTROM = 12.398419843320026

#: Cubic Bravais lattices and their space groups (for the extinction rules).
LATTICES: dict[str, str] = {"fcc": "Fm-3m", "bcc": "Im-3m", "sc": "Pm-3m"}



# ---------------------------------------------------------------------------
# wavelength, B matrix, phases
# ---------------------------------------------------------------------------
def wavelength_from_energy(energy_keV: float) -> float:
    """Wavelength in Angstrom of X-rays of energy ``energy_keV`` (keV).

    ``lambda = hc / E`` with ``hc`` = :data:`HC_KEV_ANGSTROM`.

    Raises
    ------
    ValueError
        ``energy_keV`` not finite or ``<= 0``.
    """
    return HC_KEV_ANGSTROM / _positive(energy_keV, "energy_keV")


def energy_from_wavelength(wavelength_angstrom: float) -> float:
    """Energy in keV of X-rays of wavelength ``wavelength_angstrom`` (A)."""
    return HC_KEV_ANGSTROM / _positive(wavelength_angstrom, "wavelength_angstrom")


def b_matrix(unit_cell: Any) -> np.ndarray:
    r"""The B matrix of a unit cell (Poulsen 2004, eq. 3.4), with ``2 pi``.

    Parameters
    ----------
    unit_cell : sequence of 6 floats
        ``(a, b, c, alpha, beta, gamma)`` in Angstrom and degrees.

    Returns
    -------
    ndarray, (3, 3)
        Upper triangular ``B`` with ``g_c = B h`` and ``|B h| = 2 pi / d``.

    Notes
    -----
    .. math::

        B = \begin{pmatrix} a^* & b^*\cos\gamma^* & c^*\cos\beta^* \\
            0 & b^*\sin\gamma^* & -c^*\sin\beta^*\cos\alpha \\
            0 & 0 & c^*\sin\beta^*\sin\alpha \end{pmatrix}

    with the reciprocal lengths ``a* = 2 pi b c sin(alpha) / V`` etc.; equal
    to ``xfab.tools.form_b_mat``.
    """
    cell = _finite_array(unit_cell, "unit_cell")
    if cell.shape != (6,) or not np.all(np.isfinite(cell)):
        raise ValueError(f"unit_cell must be 6 finite numbers, got {unit_cell!r}")
    a, b, c = cell[:3]
    if min(a, b, c) <= 0:
        raise ValueError(f"unit_cell lengths must be > 0, got {unit_cell!r}")
    al, be, ga = np.deg2rad(cell[3:])
    ca, cb, cg = np.cos([al, be, ga])
    sa, sb, sg = np.sin([al, be, ga])
    vol2 = 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg
    if vol2 <= 0:
        raise ValueError(f"unit_cell angles do not form a cell, got {unit_cell!r}")
    V = a * b * c * math.sqrt(vol2)
    astar = 2 * np.pi * b * c * sa / V
    bstar = 2 * np.pi * a * c * sb / V
    cstar = 2 * np.pi * a * b * sg / V
    sbetstar = V / (a * b * c * sa * sg)
    sgamstar = V / (a * b * c * sa * sb)
    cbetstar = (ca * cg - cb) / (sa * sg)
    cgamstar = (ca * cb - cg) / (sa * sb)
    return np.array(
        [
            [astar, bstar * cgamstar, cstar * cbetstar],
            [0.0, bstar * sgamstar, -cstar * sbetstar * ca],
            [0.0, 0.0, cstar * sbetstar * sa],
        ]
    )


@dataclass(frozen=True)
class CubicPhase(Phase):
    """A cubic crystal phase.

    Parameters
    ----------
    lattice : {"fcc", "bcc", "sc"}, default "fcc"
        Bravais lattice; fixes the extinction rules (module rule 8).
    a_angstrom : float, default 4.0495
        Lattice parameter in Angstrom, ``> 0`` (default: aluminium).
    name : str, default ""
        Free label.

    Raises
    ------
    ValueError
        Unknown ``lattice`` or ``a_angstrom <= 0`` (the message names the
        parameter).
    """

    lattice: str = "fcc"
    a_angstrom: float = 4.0495
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.lattice, str) or self.lattice.lower() not in LATTICES:
            raise ValueError(f"lattice must be one of {tuple(LATTICES)}, got {self.lattice!r}")
        object.__setattr__(self, "lattice", self.lattice.lower())
        object.__setattr__(self, "a_angstrom", _positive(self.a_angstrom, "a_angstrom"))

    @property
    def space_group(self) -> str:
        """Hermann-Mauguin symbol whose extinction rules are applied."""
        return LATTICES[self.lattice]

    @property
    def symmetry(self) -> str:
        """Laue group of the misorientations (:func:`~superres_widgets.s3dxrd.phases.symmetry_operators`)."""
        return "cubic"

    @property
    def unit_cell(self) -> tuple[float, float, float, float, float, float]:
        """``(a, a, a, 90, 90, 90)``."""
        a = self.a_angstrom
        return (a, a, a, 90.0, 90.0, 90.0)

    @property
    def B(self) -> np.ndarray:
        """``(2 pi / a) I`` (module rule 2)."""
        return (2.0 * np.pi / self.a_angstrom) * np.eye(3)

    def allowed(self, hkl: Any) -> np.ndarray:
        """Boolean mask of the reflections the lattice allows (not 000)."""
        h = np.asarray(hkl, dtype=np.int64).reshape(-1, 3)
        nonzero = np.any(h != 0, axis=1)
        if self.lattice == "sc":
            return nonzero
        if self.lattice == "bcc":
            return nonzero & (h.sum(axis=1) % 2 == 0)
        par = h % 2
        return nonzero & np.all(par == par[:, :1], axis=1)


@dataclass(frozen=True, eq=False)
class ReflectionSet:
    """Allowed reflections of a phase below a 2-theta limit.

    Attributes
    ----------
    phase : CubicPhase
    wavelength_angstrom : float
    tth_min_deg, tth_max_deg : float
    hkl : ndarray of int, (n, 3)
        Sorted by ``2 theta`` then ``h, k, l`` (descending), both signs.
    tth_deg : ndarray, (n,)
    d_angstrom : ndarray, (n,)
    ring : ndarray of int, (n,)
        Ring index of each reflection (module rule 8).
    ring_tth_deg, ring_d_angstrom : ndarray, (n_rings,)
    ring_multiplicity : ndarray of int, (n_rings,)
        Number of reflections (with both signs) on each ring.
    ring_hkl : ndarray of int, (n_rings, 3)
        A representative ``hkl`` of each ring (largest ``h >= k >= l >= 0``).
    """

    phase: CubicPhase
    wavelength_angstrom: float
    tth_min_deg: float
    tth_max_deg: float
    hkl: np.ndarray
    tth_deg: np.ndarray
    d_angstrom: np.ndarray
    ring: np.ndarray
    ring_tth_deg: np.ndarray
    ring_d_angstrom: np.ndarray
    ring_multiplicity: np.ndarray
    ring_hkl: np.ndarray

    @property
    def n_reflections(self) -> int:
        return int(self.hkl.shape[0])

    @property
    def n_rings(self) -> int:
        return int(self.ring_tth_deg.size)

    @property
    def B(self) -> np.ndarray:
        return self.phase.B

    def ring_label(self, ring: int) -> str:
        """``"{hkl}"`` label of a ring, e.g. ``"{111}"``."""
        h = self.ring_hkl[int(ring)]
        return "{" + "".join(str(int(v)) for v in h) + "}"


def generate_hkl(
    phase: CubicPhase,
    tth_max_deg: float,
    *,
    energy_keV: float | None = None,
    wavelength_angstrom: float | None = None,
    tth_min_deg: float = 0.0,
) -> ReflectionSet:
    r"""All reflections of ``phase`` with ``tth_min <= 2 theta <= tth_max``.

    Parameters
    ----------
    phase : CubicPhase
    tth_max_deg : float
        Upper 2-theta limit in degrees, ``0 < tth_max_deg < 180``.
    energy_keV, wavelength_angstrom : float
        Exactly one of them, ``> 0``.
    tth_min_deg : float, default 0
        Lower 2-theta limit, ``0 <= tth_min_deg < tth_max_deg``.

    Returns
    -------
    ReflectionSet

    Notes
    -----
    Bragg's law ``lambda = 2 d sin(theta)`` with ``d = a / sqrt(h^2+k^2+l^2)``
    for a cubic cell; extinction rules of module rule 8.  Equivalent to
    ``xfab.tools.genhkl_all(cell, stl_min, stl_max, sgname=...)`` with
    ``stl = sin(theta) / lambda`` (checked by a test).
    """
    if not isinstance(phase, Phase):
        raise ValueError(f"phase must be a CubicPhase, HexagonalPhase or TetragonalPhase, got {phase!r}")
    if (energy_keV is None) == (wavelength_angstrom is None):
        raise ValueError("give exactly one of energy_keV and wavelength_angstrom")
    if energy_keV is not None:
        lam = wavelength_from_energy(energy_keV)
    else:
        lam = _positive(wavelength_angstrom, "wavelength_angstrom")
    tmax = _positive(tth_max_deg, "tth_max_deg")
    if tmax >= 180:
        raise ValueError(f"tth_max_deg must be < 180, got {tth_max_deg!r}")
    tmin = _finite(tth_min_deg, "tth_min_deg")
    if tmin < 0 or tmin >= tmax:
        raise ValueError(f"tth_min_deg must be in [0, tth_max_deg), got {tth_min_deg!r}")
    if not isinstance(phase, CubicPhase):
        return _generate_hkl_general(phase, lam, tmin, tmax, tth_max_deg)
    a = phase.a_angstrom
    # |h|^2 <= (2 a sin(theta_max) / lambda)^2
    s_max = 2.0 * a * math.sin(math.radians(tmax / 2.0)) / lam
    if not s_max <= 60:
        raise ValueError(
            f"tth_max_deg={tth_max_deg!r} and the energy (wavelength {lam:.3g} A, energy_keV / wavelength_angstrom) "
            f"give reflections up to |h| ~ {s_max:.3g}; lower the limit or the energy"
        )
    n = int(math.floor(s_max + 1e-9))
    r = np.arange(-n, n + 1)
    hkl = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)
    hkl = hkl[phase.allowed(hkl)]
    h2 = (hkl * hkl).sum(axis=1)
    sin_t = lam * np.sqrt(h2) / (2.0 * a)
    ok = sin_t <= 1.0
    hkl, h2, sin_t = hkl[ok], h2[ok], sin_t[ok]
    tth = np.rad2deg(2.0 * np.arcsin(sin_t))
    eps = 1e-9
    keep = (tth <= tmax + eps) & (tth >= tmin - eps) & (tth > 0)
    hkl, h2, tth = hkl[keep], h2[keep], tth[keep]
    order = np.lexsort((-hkl[:, 2], -hkl[:, 1], -hkl[:, 0], h2))
    hkl, h2, tth = hkl[order], h2[order], tth[order]
    # cubic: equal |h|^2 <=> equal d
    ring_h2, ring = np.unique(h2, return_inverse=True)
    ring = ring.astype(np.int64)
    mult = np.bincount(ring, minlength=ring_h2.size).astype(np.int64)
    ring_hkl = np.zeros((ring_h2.size, 3), dtype=np.int64)
    for i in range(ring_h2.size):
        hs = np.sort(np.abs(hkl[ring == i]), axis=1)[:, ::-1]
        ring_hkl[i] = hs[np.lexsort((hs[:, 2], hs[:, 1], hs[:, 0]))[-1]]
    ring_d = a / np.sqrt(ring_h2)
    ring_tth = np.rad2deg(2.0 * np.arcsin(lam / (2.0 * ring_d))) if ring_h2.size else np.zeros(0)
    return ReflectionSet(
        phase=phase,
        wavelength_angstrom=float(lam),
        tth_min_deg=float(tmin),
        tth_max_deg=float(tmax),
        hkl=hkl.astype(np.int64),
        tth_deg=tth,
        d_angstrom=a / np.sqrt(h2),
        ring=ring,
        ring_tth_deg=ring_tth,
        ring_d_angstrom=ring_d,
        ring_multiplicity=mult,
        ring_hkl=ring_hkl,
    )


# ---------------------------------------------------------------------------
# Laue condition
# ---------------------------------------------------------------------------
def laue_solutions(
    U: Any, B: Any, hkl: Any, wavelength_angstrom: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Omega, eta and 2-theta of reflections ``hkl`` of orientations ``U``.

    Parameters
    ----------
    U : array_like, (..., 3, 3)
        Orientation matrices (module rule 3); any leading shape.
    B : array_like, (3, 3)
        B matrix with ``2 pi`` (module rule 2).
    hkl : array_like, (n, 3)
    wavelength_angstrom : float

    Returns
    -------
    omega_deg : ndarray, (..., n, 2)
        The two solutions of the Laue condition (module rule 5) in
        ``(-180, 180]``, in xfab's order; NaN where there is none.
    eta_deg : ndarray, (..., n, 2)
        Azimuth of each solution (module rule 6), ``(-180, 180]``; NaN where
        there is no solution.
    tth_deg : ndarray, (n,)
        Bragg angle ``2 theta``; NaN if ``lambda |g| / (4 pi) > 1``.
    ok : ndarray of bool, (..., n, 2)
        Where a solution exists.

    Notes
    -----
    With ``gn = lambda U B h / (4 pi)``, ``a = gn_x``, ``b = -gn_y`` and
    ``c = -|gn|^2``, the Laue condition ``g_l,x = -lambda |g|^2/(4 pi)`` reads
    ``a cos w + b sin w = c`` (Poulsen 2004, eqs. 3.6-3.8).
    """
    from .orientation import _rotations

    lam = _positive(wavelength_angstrom, "wavelength_angstrom")
    U = _rotations(U, "U")
    B = _finite_array(B, "B")
    if B.shape != (3, 3):
        raise ValueError(f"B must be a 3x3 matrix, got shape {B.shape}")
    h = _finite_array(hkl, "hkl")
    if h.ndim not in (1, 2) or h.shape[-1] != 3:
        raise ValueError(f"hkl must have shape (n, 3), got {h.shape}")
    h = h.reshape(-1, 3)
    gc = h @ B.T  # (n, 3)
    g = np.einsum("...ij,nj->...ni", U, gc) * (lam / (4.0 * np.pi))
    gx, gy, gz = g[..., 0], g[..., 1], g[..., 2]
    g2 = gx * gx + gy * gy + gz * gz
    sin_t = np.sqrt((gc * gc).sum(axis=1)) * lam / (4.0 * np.pi)
    with np.errstate(invalid="ignore"):
        tth = np.rad2deg(2.0 * np.arcsin(sin_t))
    a, b, c = gx, -gy, -g2
    ab = a * a + b * b
    D = ab - c * c
    has = (D >= 0) & (ab > 0) & (sin_t <= 1.0)
    sq = np.sqrt(np.where(has, D, 0.0))
    abs_ = np.where(has, ab, 1.0)
    omega = np.empty(g.shape[:-1] + (2,))
    eta = np.empty_like(omega)
    sin2t = np.sin(np.deg2rad(tth))
    for i, sgn in enumerate((1.0, -1.0)):
        cw = (a * c + sgn * b * sq) / abs_
        sw = (b * c - sgn * a * sq) / abs_
        w = np.arctan2(sw, cw)
        omega[..., i] = w
        gty = gx * np.sin(w) + gy * np.cos(w)
        # sin(eta) = -2 gty / sin 2t, cos(eta) = 2 gz / sin 2t; sin 2t > 0
        eta[..., i] = np.arctan2(-2.0 * gty / sin2t, 2.0 * gz / sin2t)
    ok = np.broadcast_to(has[..., None], omega.shape).copy()
    omega = np.where(ok, np.rad2deg(omega), np.nan)
    eta = np.where(ok, np.rad2deg(eta), np.nan)
    # map exactly -180 to +180 (range (-180, 180])
    omega = np.where(omega == -180.0, 180.0, omega)
    eta = np.where(eta == -180.0, 180.0, eta)
    return omega, eta, tth, ok


@dataclass(frozen=True, eq=False)
class PredictedReflections:
    """Diffraction events of a set of orientations inside a scanned range.

    One row per event (orientation, reflection, solution) whose omega lies in
    ``[omega_start, omega_start + omega_range)``; rows are grouped by
    ``orientation`` (ascending), then by reflection and solution.

    Attributes
    ----------
    orientation : ndarray of int, (m,)
        Index of the orientation.
    hkl_index : ndarray of int, (m,)
        Row in ``reflections.hkl``.
    solution : ndarray of int, (m,)
        0 or 1: which Laue solution (module rule 5).
    ring : ndarray of int, (m,)
    omega_deg : ndarray, (m,)
        In ``[omega_start, omega_start + omega_range)``.
    eta_deg : ndarray, (m,)
        In ``(-180, 180]``.
    tth_deg : ndarray, (m,)
    counts : ndarray of int, (n_orientations,)
        Events per orientation (the expected number ``M`` of the paper).
    reflections : ReflectionSet
    omega_start_deg, omega_range_deg : float
    """

    orientation: np.ndarray
    hkl_index: np.ndarray
    solution: np.ndarray
    ring: np.ndarray
    omega_deg: np.ndarray
    eta_deg: np.ndarray
    tth_deg: np.ndarray
    counts: np.ndarray
    reflections: ReflectionSet
    omega_start_deg: float
    omega_range_deg: float

    @property
    def n_events(self) -> int:
        return int(self.omega_deg.size)

    @property
    def offsets(self) -> np.ndarray:
        """Start row of each orientation (length ``n_orientations + 1``)."""
        return np.concatenate([[0], np.cumsum(self.counts)])


def predict_reflections(
    U: Any,
    reflections: ReflectionSet,
    omega_start_deg: float = 0.0,
    omega_range_deg: float = 180.0,
) -> PredictedReflections:
    """Diffraction events of orientations ``U`` inside the scanned omega range.

    Parameters
    ----------
    U : array_like, (n, 3, 3) or (3, 3)
        Orientation matrices (module rule 3).
    reflections : ReflectionSet
    omega_start_deg : float, default 0
    omega_range_deg : float, default 180
        Scanned range, ``0 < omega_range_deg <= 360`` (module rule 7).

    Returns
    -------
    PredictedReflections
    """
    from .orientation import _rotations

    if not isinstance(reflections, ReflectionSet):
        raise ValueError(f"reflections must be a ReflectionSet (from generate_hkl), got {type(reflections).__name__}")
    U = _rotations(U, "U")
    if U.ndim == 2:
        U = U[None]
    w0 = _finite(omega_start_deg, "omega_start_deg")
    wr = _positive(omega_range_deg, "omega_range_deg")
    if wr > 360 + 1e-9:
        raise ValueError(f"omega_range_deg must be <= 360, got {omega_range_deg!r}")
    om, et, tth, ok = laue_solutions(U, reflections.B, reflections.hkl, reflections.wavelength_angstrom)
    om_r = w0 + np.mod(om - w0, 360.0)
    om_r = np.where(om_r >= w0 + 360.0, w0, om_r)  # mod round-off
    inside = ok & (om_r < w0 + wr)
    o_idx, h_idx, s_idx = np.nonzero(inside)  # C order: orientation, hkl, solution
    counts = np.bincount(o_idx, minlength=U.shape[0]).astype(np.int64)
    return PredictedReflections(
        orientation=o_idx.astype(np.int64),
        hkl_index=h_idx.astype(np.int64),
        solution=s_idx.astype(np.int64),
        ring=reflections.ring[h_idx],
        omega_deg=om_r[inside],
        eta_deg=et[inside],
        tth_deg=tth[h_idx],
        counts=counts,
        reflections=reflections,
        omega_start_deg=w0,
        omega_range_deg=wr,
    )


def scattering_vectors(tth_deg: Any, eta_deg: Any, omega_deg: Any) -> np.ndarray:
    """Unit scattering vectors in the sample frame from measured angles.

    The inverse of module rules 4-6: the laboratory direction of ``g_l`` is
    ``(-sin theta, -cos theta sin eta, cos theta cos eta)`` and
    ``g_s = Omega(w)^T g_l``.

    Returns
    -------
    ndarray, (..., 3)
        Unit vectors parallel to ``U B h`` of the reflection.
    """
    t = np.deg2rad(_finite_array(tth_deg, "tth_deg")) / 2.0
    e = np.deg2rad(_finite_array(eta_deg, "eta_deg"))
    w = np.deg2rad(_finite_array(omega_deg, "omega_deg"))
    try:
        t, e, w = np.broadcast_arrays(t, e, w)
    except ValueError:
        raise ValueError(f"tth_deg, eta_deg and omega_deg must have matching shapes, got {t.shape}, {e.shape}, "
                         f"{w.shape}") from None
    gl = np.stack([-np.sin(t), -np.cos(t) * np.sin(e), np.cos(t) * np.cos(e)], axis=-1)
    c, s = np.cos(w), np.sin(w)
    # Omega^T = [[c, s, 0], [-s, c, 0], [0, 0, 1]]
    gx = c * gl[..., 0] + s * gl[..., 1]
    gy = -s * gl[..., 0] + c * gl[..., 1]
    return np.stack([gx, gy, gl[..., 2]], axis=-1)
