r"""ImageD11 grain files as candidate orientations for the s3DXRD reconstruction.

Conventions
-----------
Checked in ``tests/test_s3dxrd_recon_indexing.py``.

7. **ImageD11 grain files** (``.map`` / ``.ubi``, as written by
   ``ImageD11.grain.write_grain_file`` and ``indexer.saveubis``): optional
   header lines starting with ``#`` (``#translation: x y z`` is kept,
   ``#name`` too, any other is ignored), then three lines of three numbers
   -- the rows of ``UBI`` -- per grain; blank lines separate grains.
   ``UBI = (U B')^-1`` with ImageD11's ``B' = B / (2 pi)`` (crystal rule 2);
   translations are in ImageD11's sample frame (micrometres), see
   :func:`~superres_widgets.s3dxrd.crystal.sample_to_specimen`.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "g.ubi")
>>> _ = open(path, "w").write("4 0 0\n0 4 0\n0 0 4\n")  # the rows of UBI: a cubic cell
>>> read_grain_file(path).ubi.shape
(1, 3, 3)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .crystal import CubicPhase
from .orientation import check_orientations, orientation_from_ubi

__all__ = ["GrainFile", "GrainFileError", "read_grain_file", "orientations_from_grain_file"]


# ---------------------------------------------------------------------------
# ImageD11 grain files
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class GrainFile:
    """Contents of an ImageD11 ``.map`` / ``.ubi`` file (module rule 7).

    Attributes
    ----------
    path : str
    ubi : ndarray, (n, 3, 3)
    translation : ndarray, (n, 3)
        ImageD11 sample-frame translation (um); NaN rows where absent.
    name : list of str or None
    line : ndarray of int, (n,)
        1-based line number of the first ``UBI`` row of each grain.
    """

    path: str
    ubi: np.ndarray
    translation: np.ndarray
    name: list
    line: np.ndarray

    @property
    def n_grains(self) -> int:
        return int(self.ubi.shape[0])


class GrainFileError(ValueError):
    """A malformed grain file; the message starts with ``path:line:``."""


#: Longest line of a grain file (characters); a longer one is refused, and quoted lines are cut to 80.
_MAX_LINE = 65536


def read_grain_file(path: Any) -> GrainFile:
    """Read an ImageD11 grain file (``.map`` or ``.ubi``; module rule 7).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError (GrainFileError)
        ``"<path>:<line>: <problem>"`` for a row that is not three finite
        numbers, an incomplete matrix, a bad ``#translation:`` line, a
        singular or left-handed ``UBI``; ``"<path>: no UBI matrix found"``.
    """
    from ..validate import MemoryBudgetError, check_bytes, check_regular_file

    fname = check_regular_file(path, "path")  # never a FIFO, a device or a folder
    try:  # Python floats and lists: about 40 bytes of memory per byte of text
        check_bytes(40.0 * os.path.getsize(fname), f"{fname}: parsing a grain file of {os.path.getsize(fname)} bytes")
    except MemoryBudgetError as exc:
        raise GrainFileError(str(exc)) from None
    ubis: list[np.ndarray] = []
    trans: list[np.ndarray] = []
    names: list = []
    lines: list[int] = []
    rows: list[list[float]] = []
    row_start = 0
    t_cur: np.ndarray | None = None
    name_cur = None

    def err(ln: int, msg: str) -> GrainFileError:
        return GrainFileError(f"{fname}:{ln}: {msg}")

    def shown(text: str) -> str:  # a quoted line, at most 80 characters of it
        return repr(text if len(text) <= 80 else text[:77] + "...")

    def finish(ln: int) -> None:
        nonlocal rows, t_cur, name_cur
        M = np.array(rows)
        det = float(np.linalg.det(M))
        if not abs(det) > 1e-12:
            raise err(row_start, "singular UBI matrix")
        if det < 0:
            raise err(row_start, "left-handed UBI matrix (det < 0)")
        ubis.append(M)
        trans.append(np.full(3, np.nan) if t_cur is None else t_cur)
        names.append(name_cur)
        lines.append(row_start)
        rows, t_cur, name_cur = [], None, None

    with open(fname, encoding="utf-8", errors="replace") as fh:
        ln = 0
        for ln, raw in enumerate(iter(lambda: fh.readline(_MAX_LINE + 1), ""), start=1):
            if len(raw) > _MAX_LINE:
                raise err(ln, f"line longer than {_MAX_LINE} characters; not a grain file")
            line = raw.strip()
            if not line:
                if rows:
                    raise err(ln, f"incomplete UBI matrix ({len(rows)} of 3 rows) before a blank line")
                continue
            if line.startswith("#"):
                if rows:
                    raise err(ln, f"incomplete UBI matrix ({len(rows)} of 3 rows) before a comment")
                if line.startswith("#translation:"):
                    parts = line[len("#translation:"):].split()
                    try:
                        t = np.array([float(v) for v in parts])
                    except ValueError:
                        raise err(ln, f"malformed translation line {shown(line)}") from None
                    if t.shape != (3,) or not np.all(np.isfinite(t)):
                        raise err(ln, f"malformed translation line {shown(line)} (need 3 finite numbers)")
                    t_cur = t
                elif line.startswith("#name"):
                    name_cur = line[len("#name"):].strip()
                continue
            parts = line.split()
            try:
                vals = [float(v) for v in parts]
            except ValueError:
                raise err(ln, f"expected a UBI row of 3 numbers, got {shown(line)}") from None
            if len(vals) != 3 or not all(math.isfinite(v) for v in vals):
                raise err(ln, f"expected a UBI row of 3 finite numbers, got {shown(line)}")
            if not rows:
                row_start = ln
            rows.append(vals)
            if len(rows) == 3:
                finish(ln)
        if rows:
            raise err(ln, f"incomplete UBI matrix ({len(rows)} of 3 rows) at end of file")
    if not ubis:
        raise GrainFileError(f"{fname}: no UBI matrix found")
    return GrainFile(
        path=fname,
        ubi=np.array(ubis),
        translation=np.array(trans),
        name=names,
        line=np.array(lines, dtype=np.int64),
    )


def orientations_from_grain_file(
    path: Any, phase: CubicPhase | None = None, cell_tol: float = 0.05, angle_tol_deg: float = 2.0
) -> np.ndarray:
    """Candidate orientations ``U`` (n, 3, 3) from an ImageD11 grain file.

    Each ``UBI`` must describe a cubic cell (lengths equal within
    ``cell_tol`` relative, angles within ``angle_tol_deg`` of 90 deg) whose
    lattice parameter is within ``cell_tol`` of ``phase.a_angstrom``; ``U``
    is the rotation part (crystal :func:`orientation_from_ubi`).

    Raises
    ------
    ValueError
        ``"<path>:<line>: ..."`` naming the grain's first ``UBI`` line.
    """
    from ..validate import check_number
    from .conventions import check_type
    from .phases import Phase

    phase = CubicPhase() if phase is None else check_type(phase, Phase, "phase", "phase (e.g. CubicPhase())")
    cell_tol = float(check_number(cell_tol, "cell_tol", lo=0, lo_open=True, hi=1, hi_open=True))
    angle_tol_deg = float(check_number(angle_tol_deg, "angle_tol_deg", lo=0, lo_open=True, hi=45))
    gf = read_grain_file(path)
    if not isinstance(phase, CubicPhase):
        return _noncubic_orientations(gf, phase, cell_tol, angle_tol_deg)
    out = []
    for ubi, ln in zip(gf.ubi, gf.line):
        lengths = np.linalg.norm(ubi, axis=1)
        cosang = np.array(
            [ubi[1] @ ubi[2] / (lengths[1] * lengths[2]), ubi[0] @ ubi[2] / (lengths[0] * lengths[2]),
             ubi[0] @ ubi[1] / (lengths[0] * lengths[1])]
        )
        ang = np.rad2deg(np.arccos(np.clip(cosang, -1, 1)))
        if np.ptp(lengths) > cell_tol * lengths.mean() or np.abs(ang - 90).max() > angle_tol_deg:
            raise GrainFileError(
                f"{gf.path}:{int(ln)}: UBI is not a cubic cell (a, b, c = "
                f"{lengths[0]:.4g}, {lengths[1]:.4g}, {lengths[2]:.4g} A; angles "
                f"{ang[0]:.2f}, {ang[1]:.2f}, {ang[2]:.2f} deg; cell_tol={cell_tol:g}, angle_tol_deg="
                f"{angle_tol_deg:g})"
            )
        if abs(lengths.mean() / phase.a_angstrom - 1) > cell_tol:
            raise GrainFileError(
                f"{gf.path}:{int(ln)}: UBI cell a = {lengths.mean():.4g} A does not match the "
                f"phase (a_angstrom = {phase.a_angstrom:.4g})"
            )
        out.append(orientation_from_ubi(ubi, phase))
    return check_orientations(np.array(out), "candidates")


def _noncubic_orientations(gf: GrainFile, phase: Any, cell_tol: float, angle_tol_deg: float) -> np.ndarray:
    """Hexagonal/tetragonal phases: each UBI's cell ``(a, b, c, alpha, beta, gamma)`` against the phase's."""
    want = np.asarray(phase.unit_cell, dtype=float)
    out = []
    for ubi, ln in zip(gf.ubi, gf.line):
        L = np.linalg.norm(ubi, axis=1)
        ang = np.rad2deg(np.arccos(np.clip(
            [ubi[1] @ ubi[2] / (L[1] * L[2]), ubi[0] @ ubi[2] / (L[0] * L[2]), ubi[0] @ ubi[1] / (L[0] * L[1])],
            -1, 1)))
        if np.any(np.abs(L / want[:3] - 1) > cell_tol) or np.any(np.abs(ang - want[3:]) > angle_tol_deg):
            raise GrainFileError(
                f"{gf.path}:{int(ln)}: UBI cell (a, b, c = {L[0]:.4g}, {L[1]:.4g}, {L[2]:.4g} A; angles "
                f"{ang[0]:.2f}, {ang[1]:.2f}, {ang[2]:.2f} deg) does not match the phase "
                f"{tuple(round(float(v), 4) for v in want)}"
            )
        out.append(orientation_from_ubi(ubi, phase))
    return check_orientations(np.array(out), "candidates")
