r"""Crystal phases beyond cubic: hexagonal and tetragonal lattices, their extinctions and symmetry.

:class:`~superres_widgets.s3dxrd.CubicPhase` covers fcc, bcc and simple
cubic; this module adds the hexagonal phases of titanium and magnesium
(space group ``P6_3/mmc``) and tetragonal ones (``P4/mmm``, ``I4/mmm``).
Every phase is a :class:`Phase`: a unit cell, its B matrix (crystal rule 2),
the reflections it allows and the proper rotations of its Laue group, which
make misorientations symmetry-aware
(:func:`~superres_widgets.s3dxrd.misorientation_deg` with
``symmetry=phase.symmetry``).

Conventions
-----------
Checked in ``tests/test_s3dxrd_crystal.py`` against xfab.

1. **Cells.**  Hexagonal ``(a, a, c, 90, 90, 120)``, tetragonal
   ``(a, a, c, 90, 90, 90)``, lengths in Angstrom; ``B`` is
   ``xfab.tools.form_b_mat`` of the cell (``a*`` along ``x``, ``c`` along
   ``z``).  Reflections use three indices ``(h, k, l)`` (for hexagonal
   ``i = -(h + k)`` is implied).

2. **Extinctions** (space-group reflection conditions, International
   Tables A; as ``xfab.tools.genhkl_all``): ``P6_3/mmc``: ``l`` even on
   ``(h, h, l)`` (i.e. ``hh-2hl``) and ``(0, 0, l)``; ``P4/mmm``: none;
   ``I4/mmm``: ``h + k + l`` even.  ``hcp_sites=True`` (default for the
   named hexagonal metals) also removes the reflections the two atoms of
   the hcp structure at ``(1/3, 2/3, 1/4)`` and ``(2/3, 1/3, 3/4)`` cancel:
   ``h + 2k = 3n`` with ``l`` odd (structure factor zero).

3. **Symmetry.**  The proper rotations of the Laue group in the Cartesian
   crystal frame of ``B``: ``622`` (12: six-fold about ``z``, two-folds in
   the basal plane every 30 deg) for hexagonal, ``422`` (8) for tetragonal,
   ``432`` (24) for cubic; ``U S`` is the same crystal as ``U``.

References
----------
.. [1] International Tables for Crystallography, Vol. A, space groups 123,
   139, 194 (reflection conditions).
.. [2] FABLE-3DXRD xfab (``tools.form_b_mat``, ``tools.genhkl_all``,
   ``symmetry.rotations``).

Examples
--------
>>> ti = HexagonalPhase.titanium()
>>> ti.unit_cell, ti.symmetry, len(symmetry_operators(ti.symmetry))
((2.951, 2.951, 4.686, 90.0, 90.0, 120.0), 'hexagonal', 12)
>>> bool(ti.allowed([[0, 0, 1]])[0]), bool(ti.allowed([[0, 0, 2]])[0])
(False, True)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import positive_scalar as _positive

__all__ = ["Phase", "HexagonalPhase", "TetragonalPhase", "SYMMETRIES", "symmetry_operators", "PHASES"]

#: Laue-group names accepted as ``symmetry=``.
SYMMETRIES: tuple[str, ...] = ("cubic", "hexagonal", "tetragonal")


class Phase(ABC):
    """Base class of crystal phases (module rules 1-3).

    Subclasses provide ``unit_cell``, ``space_group``, ``symmetry`` (one of
    :data:`SYMMETRIES`), ``lattice`` (a label) and :meth:`allowed`.
    """

    name: str = ""

    @property
    def B(self) -> np.ndarray:
        """The B matrix of the cell, with ``2 pi`` (crystal rule 2)."""
        from .crystal import b_matrix

        return b_matrix(self.unit_cell)

    @abstractmethod
    def allowed(self, hkl: Any) -> np.ndarray:
        """``True`` for the reflections ``hkl`` (``(n, 3)``) the space group does not extinguish."""

    @property
    def symmetry_operators(self) -> np.ndarray:
        """Proper rotations of the Laue group (rule 3), shape ``(n, 3, 3)``."""
        return symmetry_operators(self.symmetry)


def _nonzero(h: np.ndarray) -> np.ndarray:
    return np.any(h != 0, axis=1)


@dataclass(frozen=True)
class HexagonalPhase(Phase):
    """A hexagonal phase (module rules 1-3).

    Parameters
    ----------
    a_angstrom, c_angstrom : float
        Lattice parameters, ``> 0``.
    space_group : {"P63/mmc", "P6/mmm"}, default "P63/mmc"
    hcp_sites : bool, default True
        Also remove the hcp structure-factor zeros (rule 2).
    name : str, default ""

    Examples
    --------
    >>> HexagonalPhase(3.209, 5.211, name="Mg").lattice
    'hcp'
    """

    a_angstrom: float = 2.951
    c_angstrom: float = 4.686
    space_group: str = "P63/mmc"
    hcp_sites: bool = True
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "a_angstrom", _positive(self.a_angstrom, "a_angstrom"))
        object.__setattr__(self, "c_angstrom", _positive(self.c_angstrom, "c_angstrom"))
        if self.space_group not in ("P63/mmc", "P6/mmm"):
            raise ValueError(f"space_group must be 'P63/mmc' or 'P6/mmm', got {self.space_group!r}")

    @classmethod
    def titanium(cls) -> HexagonalPhase:
        """alpha-Ti: a = 2.951 A, c = 4.686 A."""
        return cls(2.951, 4.686, name="alpha-Ti")

    @classmethod
    def magnesium(cls) -> HexagonalPhase:
        """Mg: a = 3.209 A, c = 5.211 A."""
        return cls(3.209, 5.211, name="Mg")

    @property
    def lattice(self) -> str:
        return "hcp" if self.space_group == "P63/mmc" and self.hcp_sites else "hexagonal"

    @property
    def symmetry(self) -> str:
        return "hexagonal"

    @property
    def unit_cell(self) -> tuple[float, float, float, float, float, float]:
        a, c = self.a_angstrom, self.c_angstrom
        return (a, a, c, 90.0, 90.0, 120.0)

    def allowed(self, hkl: Any) -> np.ndarray:
        """Reflections the phase allows (rule 2), not ``000``."""
        h = np.asarray(hkl, dtype=np.int64).reshape(-1, 3)
        ok = _nonzero(h)
        if self.space_group == "P63/mmc":
            odd_l = h[:, 2] % 2 == 1
            ok &= ~((h[:, 0] == h[:, 1]) & odd_l)  # hh-2hl: l = 2n (includes 00l)
            ok &= ~((h[:, 0] == -2 * h[:, 1]) & odd_l)  # the same class, other settings of the index triple
            ok &= ~((h[:, 1] == -2 * h[:, 0]) & odd_l)
            if self.hcp_sites:
                ok &= ~(((h[:, 0] + 2 * h[:, 1]) % 3 == 0) & odd_l)
        return ok


@dataclass(frozen=True)
class TetragonalPhase(Phase):
    """A tetragonal phase (module rules 1-3).

    Parameters
    ----------
    a_angstrom, c_angstrom : float
        ``> 0``.
    space_group : {"P4/mmm", "I4/mmm"}, default "I4/mmm"
    name : str, default ""

    Examples
    --------
    >>> TetragonalPhase(3.0, 5.0).allowed([[1, 0, 0], [1, 1, 0]]).tolist()
    [False, True]
    """

    a_angstrom: float = 3.0
    c_angstrom: float = 5.0
    space_group: str = "I4/mmm"
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "a_angstrom", _positive(self.a_angstrom, "a_angstrom"))
        object.__setattr__(self, "c_angstrom", _positive(self.c_angstrom, "c_angstrom"))
        if self.space_group not in ("P4/mmm", "I4/mmm"):
            raise ValueError(f"space_group must be 'P4/mmm' or 'I4/mmm', got {self.space_group!r}")

    @property
    def lattice(self) -> str:
        return "bct" if self.space_group == "I4/mmm" else "tetragonal"

    @property
    def symmetry(self) -> str:
        return "tetragonal"

    @property
    def unit_cell(self) -> tuple[float, float, float, float, float, float]:
        a, c = self.a_angstrom, self.c_angstrom
        return (a, a, c, 90.0, 90.0, 90.0)

    def allowed(self, hkl: Any) -> np.ndarray:
        h = np.asarray(hkl, dtype=np.int64).reshape(-1, 3)
        ok = _nonzero(h)
        if self.space_group == "I4/mmm":
            ok &= h.sum(axis=1) % 2 == 0
        return ok


def _axis_rotation(axis: Any, angle_deg: float) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    ax = np.asarray(axis, dtype=float)
    return Rotation.from_rotvec(ax / np.linalg.norm(ax) * math.radians(angle_deg)).as_matrix()


_OPS: dict[str, np.ndarray] = {}


def symmetry_operators(symmetry: str = "cubic") -> np.ndarray:
    """Proper rotations of a Laue group (module rule 3), ``[0]`` the identity.

    Parameters
    ----------
    symmetry : {"cubic", "hexagonal", "tetragonal"}

    Examples
    --------
    >>> [len(symmetry_operators(s)) for s in SYMMETRIES]
    [24, 12, 8]
    """
    if symmetry not in SYMMETRIES:
        raise ValueError(f"symmetry must be one of {SYMMETRIES}, got {symmetry!r}")
    if symmetry not in _OPS:
        if symmetry == "cubic":
            from .orientation import cubic_symmetry_operators

            ops = cubic_symmetry_operators()
        else:
            n = 6 if symmetry == "hexagonal" else 4
            step = 360.0 / n
            rots = [_axis_rotation([0, 0, 1], k * step) for k in range(n)]
            twofold = [_axis_rotation([math.cos(math.radians(t)), math.sin(math.radians(t)), 0], 180.0)
                       for t in np.arange(0.0, 180.0, step / 2.0)]
            ops = np.array(rots + twofold)
            ops[np.abs(ops) < 1e-15] = 0.0
        ops.flags.writeable = False
        _OPS[symmetry] = ops
    return _OPS[symmetry]


def _generate_hkl_general(phase: Phase, lam: float, tmin: float, tmax: float, tth_max_deg: Any) -> Any:
    """:func:`~superres_widgets.s3dxrd.generate_hkl` for any phase: ``d = 2 pi / |B h|``.

    A ring is a set of equal ``d`` (relative 1e-9); rings are numbered by
    increasing ``2 theta``.
    """
    from .crystal import ReflectionSet

    B = np.asarray(phase.B, dtype=float)
    d_min = lam / (2.0 * math.sin(math.radians(tmax / 2.0)))
    # h = B^-1 g, so |h_i| <= |row i of B^-1| |g| = |row i of 2 pi B^-1| / d
    A = 2.0 * np.pi * np.linalg.inv(B)
    nmax = np.floor(np.linalg.norm(A, axis=1) / d_min + 1e-9).astype(int)
    if nmax.max() > 60:
        raise ValueError(
            f"tth_max_deg={tth_max_deg!r} gives reflections up to |h| ~ {int(nmax.max())}; "
            "lower the limit or the energy"
        )
    axes = [np.arange(-n, n + 1) for n in nmax]
    hkl = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    hkl = hkl[phase.allowed(hkl)]
    g = np.linalg.norm(hkl @ B.T, axis=1)
    d = 2.0 * np.pi / g
    sin_t = lam / (2.0 * d)
    ok = sin_t <= 1.0
    hkl, d, sin_t = hkl[ok], d[ok], sin_t[ok]
    tth = np.rad2deg(2.0 * np.arcsin(sin_t))
    eps = 1e-9
    keep = (tth <= tmax + eps) & (tth >= tmin - eps) & (tth > 0)
    hkl, d, tth = hkl[keep], d[keep], tth[keep]
    order = np.lexsort((-hkl[:, 2], -hkl[:, 1], -hkl[:, 0], -d))
    hkl, d, tth = hkl[order], d[order], tth[order]
    new = np.ones(d.size, dtype=bool)
    new[1:] = np.abs(np.diff(d)) > 1e-9 * d[1:]
    ring = (np.cumsum(new) - 1).astype(np.int64)
    n_r = int(new.sum())
    mult = np.bincount(ring, minlength=n_r).astype(np.int64)
    ring_hkl = np.zeros((n_r, 3), dtype=np.int64)
    for i in range(n_r):
        hs = hkl[ring == i]
        ring_hkl[i] = hs[np.lexsort((hs[:, 2], hs[:, 1], hs[:, 0]))[-1]]
    ring_d = d[new]
    ring_tth = np.rad2deg(2.0 * np.arcsin(lam / (2.0 * ring_d))) if n_r else np.zeros(0)
    return ReflectionSet(
        phase=phase, wavelength_angstrom=float(lam), tth_min_deg=float(tmin), tth_max_deg=float(tmax),
        hkl=hkl.astype(np.int64), tth_deg=tth, d_angstrom=d, ring=ring, ring_tth_deg=ring_tth,
        ring_d_angstrom=ring_d, ring_multiplicity=mult, ring_hkl=ring_hkl,
    )


#: Named phases for menus and the CLI.
PHASES: dict[str, Any] = {
    "alpha-Ti": HexagonalPhase.titanium,
    "Mg": HexagonalPhase.magnesium,
}
