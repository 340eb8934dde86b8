r"""Orientation maps out: HDF5 with provenance, and the ``.ctf`` text that EBSD tools read.

:func:`save_map_hdf5` writes everything an
:class:`~superres_widgets.s3dxrd.OrientationMap` knows -- per target the
orientation as a quaternion and as ImageD11's ``UBI``, the phase, the
scorer's confidence, N', the inverse-pole-figure colour and the grain
boundaries -- with a provenance record; :func:`load_map_hdf5` reads it back
into an ``OrientationMap``.  :func:`save_map_ctf` writes an Oxford
Instruments *Channel Text File* (``.ctf``), which MTEX, orix, AZtec/Channel 5
and DREAM.3D import; :func:`load_map_ctf` reads it back.

Conventions
-----------
Checked in ``tests/test_s3dxrd_export.py`` (round trips; orix reads our
``.ctf``).

1. **Frames.**  The maps' ``U`` take crystal vectors to FABLE's sample frame
   (crystal rule 3); the HDF5 file stores them as they are (``U``,
   ``quaternion`` ``(w, x, y, z)`` of conventions rule 4, ``UBI =
   (U B / 2 pi)^-1``) with the specimen coordinates ``xs, ys`` of every
   target (geometry rule 1).

2. **.ctf grid**: the map's square grid, the row of largest ``ys`` first
   (``Y = 0`` at the top, as in an EBSD image): ``X = xs - xmin``,
   ``Y = ymax - ys`` in micrometres; the EBSD sample frame ``(X, Y, Z)`` is
   then ``(xs, -ys, -z)``, so ``U_ctf = diag(1, -1, -1) M U`` with ``M``
   taking FABLE's ``(sx, sy, sz)`` to ``(xs, ys, z) = (sy, -sx, z)``.  The
   Euler angles are Bunge's ``(phi1, Phi, phi2)`` in degrees with
   ``U_ctf = Rz(phi1) Rx(Phi) Rz(phi2)`` (active; the passive crystal-to-
   sample matrix of EBSD is ``U_ctf^T``).  The crystal frame is ours:
   ``x || a*``, ``z || c`` (MTEX: ``'X||a*'``).

3. **.ctf columns** ``Phase X Y Bands Error Euler1 Euler2 Euler3 MAD BC
   BS``: ``Phase`` 1 where a candidate is chosen, 0 elsewhere (air outside
   the specimen disc and unassigned targets; ``Error`` 3, "no solution");
   ``Bands`` the number of reflections the candidate predicts, ``MAD`` 0,
   ``BC`` the confidence times 255 and ``BS`` N' times 255 (both rounded).
   The phase line gives the cell, the name, the Laue group (11 ``m-3m``,
   9 ``6/mmm``, 5 ``4/mmm``) and the space-group number.

References
----------
.. [1] Oxford Instruments, HKL Channel 5 ``.ctf`` format; orix
   ``orix.io.plugins.ctf``; MTEX ``loadEBSD_ctf``.
.. [2] H.-J. Bunge (1982), Texture Analysis in Materials Science (Euler angles).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import quaternions

__all__ = ["save_map_hdf5", "load_map_hdf5", "save_map_ctf", "load_map_ctf", "CtfMap", "LAUE_IDS"]

#: Channel 5 Laue-group numbers of our phases' symmetries (rule 3).
LAUE_IDS: dict[str, int] = {"cubic": 11, "hexagonal": 9, "tetragonal": 5}
_SG = {"Fm-3m": 225, "Im-3m": 229, "Pm-3m": 221, "P63/mmc": 194, "P6/mmm": 191, "I4/mmm": 139, "P4/mmm": 123}
_M = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # FABLE sample -> specimen (xs, ys, z)
_FLIP = np.diag([1.0, -1.0, -1.0])  # specimen -> EBSD (X right, Y down, Z into)
_FORMAT = "superres_widgets.s3dxrd_map"


def _per_target_U(omap: Any) -> tuple[np.ndarray, np.ndarray]:
    ok = omap.candidate >= 0
    U = np.full((omap.n_targets, 3, 3), np.nan)
    U[ok] = np.asarray(omap.U)[omap.candidate[ok]]
    return U, ok


def save_map_hdf5(
    path: Any,
    omap: Any,
    phase: Any,
    *,
    parameters: dict | None = None,
    ipf_axis: str = "z",
    boundary_threshold_deg: float = 3.0,
    group: str = "map",
) -> dict:
    """Write an orientation map to HDF5 (module rule 1) with a provenance record.

    Parameters
    ----------
    path : str or path
        Created or appended (the group is replaced).
    omap : OrientationMap
    phase : CubicPhase, HexagonalPhase or TetragonalPhase
    parameters : dict, optional
        How the map was made (stored in the provenance).
    ipf_axis : {"z", "x", "y"}
        Specimen axis of the IPF colours (cubic key; other phases get none).
    boundary_threshold_deg : float, default 3
    group : str, default "map"

    Returns
    -------
    dict
        The provenance record written.

    Examples
    --------
    >>> r = reconstruct_phantom(diameter_um=40, n_grains=3, seed=1)          # doctest: +SKIP
    >>> _ = save_map_hdf5("map.h5", r.subpixel, r.data.reflections.phase)     # doctest: +SKIP
    >>> load_map_hdf5("map.h5").candidate.tolist() == r.subpixel.candidate.tolist()  # doctest: +SKIP
    True
    """
    import h5py

    from ..io.provenance import build_provenance
    from .boundaries import map_boundary
    from .ipf import ipf_colors
    from .orientation import ubi_from_orientation

    U, ok = _per_target_U(omap)
    quat = np.full((omap.n_targets, 4), np.nan)
    ubi = np.full((omap.n_targets, 3, 3), np.nan)
    if ok.any():
        quat[ok] = quaternions(U[ok])
        ubi[ok] = ubi_from_orientation(U[ok], phase)
    sym = getattr(phase, "symmetry", "cubic")
    rgb = np.zeros((omap.n_targets, 3), dtype=np.uint8)
    if sym == "cubic" and ok.any():
        rgb[ok] = np.round(255 * ipf_colors(U[ok], ipf_axis)).astype(np.uint8)
    seg = map_boundary(omap, boundary_threshold_deg, sym).segments()
    conf = omap.confidence if omap.confidence is not None else omap.completeness
    rec = build_provenance(
        method=f"s3dxrd:{omap.scorer}", parameters=dict(parameters or {}), pixel_size_um=float(omap.spacing_um),
        shape=omap.grid_index.shape, where="save_map_hdf5",
        extra={"format": _FORMAT, "dtype": "mixed", "subdivision": int(omap.subdivision),
               "tie_break": omap.tie_break, "count": omap.count, "expected": omap.expected},
    )
    with h5py.File(os.fspath(path), "a") as h:
        if group in h:
            del h[group]
        g = h.create_group(group)
        for k, v in dict(
            xs=omap.xs, ys=omap.ys, grid_x=omap.grid_x, grid_y=omap.grid_y, grid_index=omap.grid_index,
            candidate=omap.candidate, U=U, quaternion=quat, ubi=ubi, confidence=np.asarray(conf, float),
            completeness=np.asarray(omap.completeness, float), ipf_rgb=rgb, boundary_segments=seg,
            candidate_U=np.asarray(omap.U, float),
        ).items():
            g.create_dataset(k, data=np.asarray(v))
        g.attrs.update(
            format=_FORMAT, scorer=omap.scorer, subdivision=int(omap.subdivision),
            spacing_um=float(omap.spacing_um), symmetry=sym, phase_name=str(getattr(phase, "name", "") or ""),
            lattice=str(getattr(phase, "lattice", "")), space_group=str(getattr(phase, "space_group", "")),
            unit_cell=np.asarray(phase.unit_cell, float), ipf_axis=ipf_axis if sym == "cubic" else "",
            boundary_threshold_deg=float(boundary_threshold_deg), count=omap.count, tie_break=omap.tie_break,
            expected=omap.expected, provenance=json.dumps(rec),
            frame="U: crystal -> FABLE sample (sx, sy, sz); specimen (xs, ys) = (sy, -sx); quaternion (w, x, y, z)",
        )
    return rec


def load_map_hdf5(path: Any, group: str = "map") -> Any:
    """Read a map written by :func:`save_map_hdf5` back into an :class:`OrientationMap`.

    The returned map has ``evaluation=None``; its ``model`` is the dict of
    the file's attributes (``provenance`` decoded).

    Raises
    ------
    ValueError
        ``"<file>: ..."`` when the group is missing or not one of ours.
    """
    import h5py

    from .nprime import OrientationMap

    fname = os.fspath(path)
    with h5py.File(fname, "r") as h:
        if group not in h:
            raise ValueError(f"{fname}: no group {group!r} (groups: {list(h.keys())})")
        g = h[group]
        if g.attrs.get("format") != _FORMAT:
            raise ValueError(f"{fname}: group {group!r} is not a superres_widgets s3dxrd map")
        d = {k: g[k][()] for k in g}
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()}
    attrs["provenance"] = json.loads(attrs["provenance"])
    n = d["xs"].size
    return OrientationMap(
        subdivision=int(attrs["subdivision"]), spacing_um=float(attrs["spacing_um"]), xs=d["xs"], ys=d["ys"],
        grid_x=d["grid_x"], grid_y=d["grid_y"], grid_index=d["grid_index"], candidate=d["candidate"],
        completeness=d["completeness"], n_prime=np.zeros((n, 0)), U=d["candidate_U"], count=str(attrs["count"]),
        tie_break=str(attrs["tie_break"]), expected=str(attrs["expected"]), scorer=str(attrs["scorer"]),
        confidence=d["confidence"], model=dict(attrs, ipf_rgb=d["ipf_rgb"], boundary_segments=d["boundary_segments"],
                                              quaternion=d["quaternion"], ubi=d["ubi"]),
    )


# ---------------------------------------------------------------------------
# .ctf (rules 2-3)
# ---------------------------------------------------------------------------
def _euler_from_U(U: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    e = Rotation.from_matrix(U).as_euler("ZXZ", degrees=True)
    return np.mod(e, 360.0)


def save_map_ctf(path: Any, omap: Any, phase: Any, *, project: str = "superres_widgets s3DXRD map") -> None:
    """Write an orientation map as an Oxford ``.ctf`` (module rules 2-3).

    Examples
    --------
    >>> save_map_ctf("map.ctf", r.subpixel, r.data.reflections.phase)  # doctest: +SKIP
    """
    U, ok = _per_target_U(omap)
    gi = omap.grid_index
    ny, nx = gi.shape
    a = float(omap.spacing_um)
    sym = getattr(phase, "symmetry", "cubic")
    rows = []
    conf = omap.confidence if omap.confidence is not None else omap.completeness
    nref = None
    model = omap.model
    if getattr(model, "n_reflections", None) is not None:
        nref = np.asarray(model.n_reflections)
    eul = np.zeros((omap.n_targets, 3))
    if ok.any():
        eul[ok] = _euler_from_U(_FLIP @ _M @ U[ok])
    for i in range(ny - 1, -1, -1):  # the top row (largest ys) first
        for j in range(nx):
            t = gi[i, j]
            X, Y = j * a, (ny - 1 - i) * a
            if t < 0 or not ok[t]:
                rows.append(f"0\t{X:.4f}\t{Y:.4f}\t0\t3\t0.0000\t0.0000\t0.0000\t0.0000\t0\t0")
                continue
            bands = int(nref[omap.candidate[t]]) if nref is not None else 0
            e1, e2, e3 = eul[t]
            bc = int(round(255 * float(np.clip(conf[t], 0, 1))))
            bs = int(round(255 * float(np.clip(omap.completeness[t], 0, 1))))
            rows.append(f"1\t{X:.4f}\t{Y:.4f}\t{bands}\t0\t{e1:.5f}\t{e2:.5f}\t{e3:.5f}\t0.0000\t{bc}\t{bs}")
    cell = np.asarray(phase.unit_cell, float)
    name = getattr(phase, "name", "") or getattr(phase, "lattice", "phase")
    head = [
        "Channel Text File",
        f"Prj\t{project}",
        "Author\tsuperres_widgets",
        "JobMode\tGrid",
        f"XCells\t{nx}",
        f"YCells\t{ny}",
        f"XStep\t{a:.6f}",
        f"YStep\t{a:.6f}",
        "AcqE1\t0",
        "AcqE2\t0",
        "AcqE3\t0",
        "Euler angles refer to Sample Coordinate system (CS0)!\tMag\t0\tCoverage\t100\tDevice\t0\tKV\t0\t"
        "TiltAngle\t0\tTiltAxis\t0",
        "Phases\t1",
        f"{cell[0]:.4f};{cell[1]:.4f};{cell[2]:.4f}\t{cell[3]:.3f};{cell[4]:.3f};{cell[5]:.3f}\t{name}\t"
        f"{LAUE_IDS.get(sym, 0)}\t{_SG.get(getattr(phase, 'space_group', ''), 0)}",
        "Phase\tX\tY\tBands\tError\tEuler1\tEuler2\tEuler3\tMAD\tBC\tBS",
    ]
    with open(os.fspath(path), "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(head + rows) + "\n")


@dataclass(frozen=True, eq=False)
class CtfMap:
    """A ``.ctf`` read back (module rules 2-3).

    Attributes
    ----------
    path : str
    header : dict
        ``XCells``, ``YCells``, ``XStep``, ``YStep`` and the phase line
        (``cell``, ``phase_name``, ``laue_group``, ``space_group``).
    phase, bands, error, bc, bs : ndarray of int, (ny * nx,)
    x, y, mad : ndarray, (ny * nx,)
    euler_deg : ndarray, (ny * nx, 3)
    """

    path: str
    header: dict
    phase: np.ndarray
    x: np.ndarray
    y: np.ndarray
    bands: np.ndarray
    error: np.ndarray
    euler_deg: np.ndarray
    mad: np.ndarray
    bc: np.ndarray
    bs: np.ndarray

    @property
    def U_ctf(self) -> np.ndarray:
        """``Rz(phi1) Rx(Phi) Rz(phi2)`` per point (rule 2)."""
        from scipy.spatial.transform import Rotation

        return Rotation.from_euler("ZXZ", self.euler_deg, degrees=True).as_matrix()

    @property
    def U_sample(self) -> np.ndarray:
        """The orientations back in FABLE's sample frame (rule 2 inverted), NaN where ``phase == 0``."""
        U = np.einsum("ij,njk->nik", (_FLIP @ _M).T, self.U_ctf)
        U[self.phase == 0] = np.nan
        return U

    def grid(self, values: Any) -> np.ndarray:
        """Per-point values on the grid with row 0 the *lowest* ``ys`` (as the maps)."""
        ny, nx = int(self.header["YCells"]), int(self.header["XCells"])
        v = np.asarray(values)
        return v.reshape((ny, nx) + v.shape[1:])[::-1]


def load_map_ctf(path: Any) -> CtfMap:
    """Read a ``.ctf`` (ours, or any Channel 5 grid file with one phase block).

    Raises
    ------
    ValueError
        ``"<file>: ..."`` for a missing ``Phase X Y ...`` line or rows of the
        wrong length.
    """
    fname = os.fspath(path)
    header: dict = {}
    with open(fname, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    start = None
    for n, line in enumerate(lines):
        parts = line.split("\t")
        if line.startswith("Phase\tX\tY"):
            start = n + 1
            break
        if parts[0] in ("XCells", "YCells") and len(parts) > 1:
            header[parts[0]] = int(parts[1])
        elif parts[0] in ("XStep", "YStep") and len(parts) > 1:
            header[parts[0]] = float(parts[1].replace(",", "."))
        elif parts[0] == "Phases" and len(parts) > 1:
            p = lines[n + 1].split("\t")
            header["cell"] = [float(v) for v in (p[0] + ";" + p[1]).split(";")]
            header["phase_name"] = p[2] if len(p) > 2 else ""
            header["laue_group"] = int(p[3]) if len(p) > 3 else 0
            header["space_group"] = int(p[4]) if len(p) > 4 else 0
    if start is None:
        raise ValueError(f"{fname}: no 'Phase X Y Bands Error Euler1 ...' line")
    data = np.array([[float(v) for v in ln.split("\t")] for ln in lines[start:] if ln.strip()])
    if data.ndim != 2 or data.shape[1] < 11:
        raise ValueError(f"{fname}: expected 11 tab-separated columns per point")
    return CtfMap(
        path=fname, header=header, phase=data[:, 0].astype(np.int64), x=data[:, 1], y=data[:, 2],
        bands=data[:, 3].astype(np.int64), error=data[:, 4].astype(np.int64), euler_deg=data[:, 5:8],
        mad=data[:, 8], bc=data[:, 9].astype(np.int64), bs=data[:, 10].astype(np.int64),
    )
