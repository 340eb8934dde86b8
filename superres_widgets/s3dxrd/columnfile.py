r"""ImageD11 peak tables (columnfiles) and parameter files, both ways.

A beamline user's s3DXRD peaks come out of ImageD11 (FABLE-3DXRD) as a
*columnfile*: one row per peak, one named column per quantity, as ``.flt``
text or in the HDF5 layout of ``ImageD11.columnfile.colfile_to_hdf``.  This
module reads them into :class:`PeakTable` and then into the
:class:`~superres_widgets.s3dxrd.ScanData` every reconstruction here works on
(:func:`scan_from_peaks`), and writes our simulated scans so that ImageD11
reads them with its own reader (:func:`write_columnfile`, :func:`write_par`).
ImageD11 itself is not needed here (the tests use it as the reference).

Conventions
-----------
Checked in ``tests/test_s3dxrd_columnfile.py`` (against ImageD11).

1. **Text** (``.flt``): lines ``# name = value`` are header parameters, the
   line ``#  title1  title2 ...`` names the columns, every further line is a
   row of numbers (ImageD11's ``columnfile.writefile`` / ``readfile``).
   **HDF5**: one group whose attribute ``ImageD11_type`` is ``"peaks"``
   (or the group named ``group=``), one 1-D dataset per column; header
   parameters are the group's other attributes.

2. **Columns.**  Needed: ``omega`` (degrees, or radians with
   ``omega_unit="rad"``) and ``dty`` (the translation motor, micrometres by
   default, ``dty_unit`` in ``{"um", "mm", "nm"}``), and either ``tth`` and
   ``eta`` (degrees) or the detector pixel ``sc`` (slow) and ``fc`` (fast)
   with a parameter file, from which ImageD11's own detector model gives
   them (rule 4).  Optional: ``sum_intensity``; ``frame_omega`` (the centre
   of the omega bin of the frame the peak was found in; otherwise the bin
   is the one ``omega`` falls in).

3. **Parameter files** (``.par``): one ``name value`` pair per line
   (ImageD11's ``parameters.saveparameters``); lengths in micrometres,
   angles of the detector tilts in radians, ``wavelength`` in Angstrom, the
   unit cell ``cell__a ... cell_gamma`` and ``cell_lattice_[P,A,B,C,I,F,R]``
   (a lattice letter or a space-group number).

4. **Detector model** (ImageD11 ``transform.compute_xyz_lab`` and
   ``compute_tth_eta_from_xyz``): ``v = ((sc - z_center) z_size,
   (fc - y_center) y_size)``, ``(f0, f1) = O v`` with ``O = [[o11, o12],
   [o21, o22]]``, the laboratory point ``R (0, f1, f0) + (distance, 0, 0)``
   with ``R = R_x(tilt_x) R_y(tilt_y) R_z(tilt_z)``; the diffracted ray from
   the grain origin ``(t_x, t_y, t_z)`` turned by ``omega`` (no wedge, no
   chi) gives ``2 theta = atan2(sqrt(y^2 + z^2), x)`` and
   ``eta = atan2(-y, z)`` -- the ``eta`` of crystal rule 6.

5. **Writing our scans**: ``dty = y0 - X`` (geometry rule 9), ``omega`` the
   peak's angle, ``frame_omega`` its bin centre, ``tth``/``eta`` and the
   detector pixel ``sc, fc`` of a **far-field** detector (default distance
   1 km, 10 mm pixels, no tilt): the forward model's angles do not depend
   on where in the specimen a grain is, and at that distance neither do
   ImageD11's, so its point-by-point code sees the same angles we do.
   ``sum_intensity`` is the simulated intensity (1000 per beam width
   squared) or 1000.  Header parameters ``omega_start``, ``omega_step``,
   ``omega_range``, ``dty_step``, ``x_range``, ``y0``, ``beam_width``,
   ``beam_profile``, ``tth_min``, ``tth_max`` and ``dty_unit`` let
   :func:`~superres_widgets.s3dxrd.peakmaps.scan_from_peaks` rebuild the
   exact scan.

6. **Bad input** is ``ValueError("<file>: <reason>")`` (a missing column, an
   unknown unit, no peak left) or names the parameter; rows with a NaN in a
   needed column, peaks on no ring and peaks outside the given scan are
   dropped **and counted** (``PeakTable.dropped``, ``dropped`` of
   :func:`scan_from_peaks`).

References
----------
.. [1] J. P. Wright, ImageD11 (FABLE-3DXRD), ``ImageD11/columnfile.py``,
   ``ImageD11/transform.py``, ``ImageD11/parameters.py``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .conventions import finite_scalar as _finite
from .conventions import positive_scalar as _positive

__all__ = [
    "PeakTable",
    "DTY_UNITS",
    "read_columnfile",
    "write_columnfile",
    "read_par",
    "write_par",
    "detector_angles",
    "detector_pixels",
    "far_field_parameters",
]

#: Units of the ``dty`` column and their factor to micrometres.
DTY_UNITS: dict[str, float] = {"um": 1.0, "mm": 1000.0, "nm": 1e-3}

_DEFAULT_DETECTOR = dict(
    distance=1.0e9, y_size=1.0e4, z_size=1.0e4, y_center=0.0, z_center=0.0, tilt_x=0.0, tilt_y=0.0,
    tilt_z=0.0, o11=1, o12=0, o21=0, o22=-1, t_x=0.0, t_y=0.0, t_z=0.0, wedge=0.0, chi=0.0, omegasign=1.0,
)
_SPACE_GROUP_NUMBERS = {"Fm-3m": 225, "Im-3m": 229, "Pm-3m": 221, "P63/mmc": 194, "I4/mmm": 139, "P4/mmm": 123}


# ---------------------------------------------------------------------------
# parameter files (rule 3)
# ---------------------------------------------------------------------------
def read_par(path: Any) -> dict:
    """An ImageD11 ``.par`` file as a dict (numbers as float, else str).

    Raises
    ------
    ValueError
        ``"<file>:<line>: ..."`` for a line that is not ``name value``.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "a.par")
    >>> write_par(p, {"wavelength": 0.2, "distance": 1e5})
    >>> read_par(p)["wavelength"]
    0.2
    """
    fname = os.fspath(path)
    out: dict = {}
    with open(fname, encoding="utf-8", errors="replace") as fh:
        for ln, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2:
                raise ValueError(f"{fname}:{ln}: expected 'name value', got {line!r}")
            name, value = parts[0].replace("-", "_"), parts[1]
            try:
                out[name] = float(value)
            except ValueError:
                out[name] = value
    return out


def write_par(path: Any, parameters: dict) -> None:
    """Write ``parameters`` as an ImageD11 ``.par`` file (``name value``, sorted)."""
    with open(os.fspath(path), "w", encoding="utf-8") as fh:
        for k in sorted(parameters):
            v = parameters[k]
            fh.write(f"{k} {v!r}\n" if isinstance(v, float) else f"{k} {v}\n")


def far_field_parameters(phase: Any, wavelength_angstrom: float, **detector: float) -> dict:
    """The ``.par`` of our simulated scans: the phase's cell, the wavelength and a far-field detector (rule 5)."""
    a, b, c, al, be, ga = (float(v) for v in phase.unit_cell)
    sg = getattr(phase, "space_group", "P1")
    pars = dict(_DEFAULT_DETECTOR)
    unknown = set(detector) - set(pars)
    if unknown:
        raise ValueError(f"detector: unknown parameter(s) {sorted(unknown)}; valid: {sorted(pars)}")
    pars.update({k: float(v) for k, v in detector.items()})
    pars.update(
        {
            "cell__a": a, "cell__b": b, "cell__c": c, "cell_alpha": al, "cell_beta": be, "cell_gamma": ga,
            "cell_lattice_[P,A,B,C,I,F,R]": _SPACE_GROUP_NUMBERS.get(sg, sg[:1]),
            "wavelength": _positive(wavelength_angstrom, "wavelength_angstrom"),
        }
    )
    return pars


# ---------------------------------------------------------------------------
# detector model (rule 4)
# ---------------------------------------------------------------------------
def _par(p: dict, name: str) -> float:
    return float(p.get(name, _DEFAULT_DETECTOR.get(name, 0.0)))


def _tilt_matrix(p: dict) -> np.ndarray:
    tx, ty, tz = _par(p, "tilt_x"), _par(p, "tilt_y"), _par(p, "tilt_z")
    r1 = np.array([[math.cos(tz), -math.sin(tz), 0], [math.sin(tz), math.cos(tz), 0], [0, 0, 1]])
    r2 = np.array([[math.cos(ty), 0, math.sin(ty)], [0, 1, 0], [-math.sin(ty), 0, math.cos(ty)]])
    r3 = np.array([[1, 0, 0], [0, math.cos(tx), -math.sin(tx)], [0, math.sin(tx), math.cos(tx)]])
    return r3 @ r2 @ r1


def detector_angles(sc: Any, fc: Any, omega_deg: Any, parameters: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(tth_deg, eta_deg)`` of detector pixels, ImageD11's model (module rule 4).

    Examples
    --------
    >>> p = dict(distance=1e5, y_size=100.0, z_size=100.0, y_center=0.0, z_center=0.0)
    >>> [round(float(v[0]), 6) for v in detector_angles([100.0], [0.0], [0.0], p)]
    [5.710593, 0.0]
    """
    p = parameters
    sc = np.asarray(sc, dtype=float)
    fc = np.asarray(fc, dtype=float)
    v0 = (sc - _par(p, "z_center")) * _par(p, "z_size")
    v1 = (fc - _par(p, "y_center")) * _par(p, "y_size")
    f0 = _par(p, "o11") * v0 + _par(p, "o12") * v1
    f1 = _par(p, "o21") * v0 + _par(p, "o22") * v1
    R = _tilt_matrix(p)
    xyz = R[:, 1, None] * f1 + R[:, 2, None] * f0
    xyz[0] += _par(p, "distance")
    t = np.array([_par(p, "t_x"), _par(p, "t_y"), _par(p, "t_z")])
    if np.any(t != 0):
        w = np.deg2rad(np.asarray(omega_deg, dtype=float) * _par(p, "omegasign"))
        c, s = np.cos(w), np.sin(w)
        xyz = xyz - np.stack([c * t[0] - s * t[1], s * t[0] + c * t[1], np.full_like(c, t[2])])
    x, y, z = xyz
    tth = np.degrees(np.arctan2(np.sqrt(y * y + z * z), x))
    eta = np.degrees(np.arctan2(-y, z))
    return tth, eta


def detector_pixels(tth_deg: Any, eta_deg: Any, parameters: dict) -> tuple[np.ndarray, np.ndarray]:
    """Pixel ``(sc, fc)`` where rays of ``(tth, eta)`` from the origin hit the detector (inverse of rule 4).

    Grain origins ``t_x, t_y, t_z`` must be 0 (our scans: rule 5).
    """
    p = parameters
    if any(_par(p, k) != 0 for k in ("t_x", "t_y", "t_z")):
        raise ValueError("parameters: detector_pixels needs t_x = t_y = t_z = 0")
    t = np.deg2rad(np.asarray(tth_deg, dtype=float))
    e = np.deg2rad(np.asarray(eta_deg, dtype=float))
    k = np.stack([np.cos(t), -np.sin(t) * np.sin(e), np.sin(t) * np.cos(e)], axis=-1)  # (n, 3)
    R = _tilt_matrix(p)
    D = _par(p, "distance")
    # s k = D ex + R (0, f1, f0): solve [k, -R ey, -R ez] (s, f1, f0) = D ex per ray
    A = np.empty(k.shape[:-1] + (3, 3))
    A[..., :, 0] = k
    A[..., :, 1] = -R[:, 1]
    A[..., :, 2] = -R[:, 2]
    sol = np.linalg.solve(A, np.broadcast_to(np.array([D, 0.0, 0.0]), k.shape)[..., None])[..., 0]
    f1, f0 = sol[..., 1], sol[..., 2]
    omat = np.array([[_par(p, "o11"), _par(p, "o12")], [_par(p, "o21"), _par(p, "o22")]])
    v0, v1 = np.linalg.solve(omat, np.stack([f0.ravel(), f1.ravel()]))
    sc = v0.reshape(f0.shape) / _par(p, "z_size") + _par(p, "z_center")
    fc = v1.reshape(f0.shape) / _par(p, "y_size") + _par(p, "y_center")
    return sc, fc


# ---------------------------------------------------------------------------
# reading (rules 1, 2, 6)
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PeakTable:
    """Peaks read from a columnfile (module rule 2), in our units.

    Attributes
    ----------
    path : str
    dty_um, omega_deg, tth_deg, eta_deg : ndarray, (n,)
    intensity : ndarray (n,) or None
        ``sum_intensity``.
    frame_omega_deg : ndarray (n,) or None
        Centre of the peak's frame bin (``frame_omega``).
    header : dict
        Header parameters of the file (and of the parameter file given).
    dropped : dict
        Rows left out and why (``{"nan": 3}``); ``n_read`` rows were read.
    n_read : int
    """

    path: str
    dty_um: np.ndarray
    omega_deg: np.ndarray
    tth_deg: np.ndarray
    eta_deg: np.ndarray
    intensity: np.ndarray | None = None
    frame_omega_deg: np.ndarray | None = None
    header: dict = field(default_factory=dict)
    dropped: dict = field(default_factory=dict)
    n_read: int = 0

    @property
    def n_peaks(self) -> int:
        return int(self.omega_deg.size)


def _read_text(fname: str) -> tuple[dict, dict]:
    header: dict = {}
    titles: list[str] | None = None
    rows: list[list[float]] = []
    with open(fname, encoding="utf-8", errors="replace") as fh:
        for ln, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                body = line[1:]
                if "=" in body:
                    k, v = (t.strip() for t in body.split("=", 1))
                    try:
                        header[k] = float(v)
                    except ValueError:
                        header[k] = v
                elif body.split():
                    titles = body.split()
                continue
            if titles is None:
                raise ValueError(f"{fname}:{ln}: a data row before the '#  title ...' line")
            try:
                vals = [float(v) for v in line.split()]
            except ValueError:
                raise ValueError(f"{fname}:{ln}: expected {len(titles)} numbers, got {line!r}") from None
            if len(vals) != len(titles):
                raise ValueError(f"{fname}:{ln}: expected {len(titles)} numbers, got {len(vals)}")
            rows.append(vals)
    if titles is None:
        raise ValueError(f"{fname}: no '#  title ...' line naming the columns")
    arr = np.array(rows, dtype=float).reshape(-1, len(titles))
    return header, {t: arr[:, i] for i, t in enumerate(titles)}


def _read_hdf5(fname: str, group: str | None) -> tuple[dict, dict]:
    import h5py

    with h5py.File(fname, "r") as h:
        if group is None:
            names = [k for k, g in h.items() if isinstance(g, h5py.Group)
                     and g.attrs.get("ImageD11_type") in ("peaks", b"peaks")]
            if len(names) != 1:
                raise ValueError(
                    f"{fname}: expected one group with ImageD11_type = 'peaks', found {names}; give group="
                )
            group = names[0]
        if group not in h:
            raise ValueError(f"{fname}: no group {group!r} (groups: {list(h.keys())})")
        g = h[group]
        cols = {k: np.asarray(d[()], dtype=float).ravel() for k, d in g.items() if hasattr(d, "shape")}
        header = {}
        for k, v in g.attrs.items():
            if k in ("ImageD11_type", "sorted_by"):
                continue
            v = v.decode() if isinstance(v, bytes) else v
            header[k] = float(v) if isinstance(v, (int, float, np.number)) else str(v)
    lengths = {k: v.size for k, v in cols.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{fname}: columns of different lengths {lengths}")
    return header, cols


def read_columnfile(
    path: Any,
    parameters: Any = None,
    *,
    dty_unit: str | None = None,
    omega_unit: str = "deg",
    group: str | None = None,
) -> PeakTable:
    """Read an ImageD11 columnfile (``.flt`` text or HDF5; module rules 1-2, 6).

    Parameters
    ----------
    path : str or path
    parameters : dict, str or path, optional
        An ImageD11 parameter file (or its dict) for ``sc, fc`` ->
        ``tth, eta`` (rule 4) when the file has no ``tth``/``eta``; its
        entries also fill :attr:`PeakTable.header`.
    dty_unit : {"um", "mm", "nm"}, optional
        Unit of ``dty``; default the header's ``dty_unit`` or ``"um"``.
    omega_unit : {"deg", "rad"}, default "deg"
    group : str, optional
        HDF5 group (default: the one with ``ImageD11_type = 'peaks'``).

    Returns
    -------
    PeakTable

    Raises
    ------
    ValueError
        ``"<file>: ..."`` for a missing column, unknown units, a malformed
        row or no usable peak.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "p.flt")
    >>> _ = open(p, "w").write("#  omega  dty  tth  eta\\n10 0 5 30\\nnan 0 5 30\\n")
    >>> t = read_columnfile(p)
    >>> t.n_peaks, t.dropped
    (1, {'nan': 1})
    """
    fname = os.fspath(path)
    if not os.path.exists(fname):
        raise FileNotFoundError(f"{fname}: no such columnfile")
    with open(fname, "rb") as fh:
        magic = fh.read(4)
    header, cols = _read_hdf5(fname, group) if magic == b"\x89HDF" else _read_text(fname)
    pars = dict(header)
    if parameters is not None:
        pars.update(read_par(parameters) if isinstance(parameters, (str, os.PathLike)) else dict(parameters))
    unit = dty_unit if dty_unit is not None else str(header.get("dty_unit", "um"))
    if unit not in DTY_UNITS:
        raise ValueError(f"{fname}: unknown dty unit {unit!r}; valid: {sorted(DTY_UNITS)} (dty_unit=)")
    if omega_unit not in ("deg", "rad"):
        raise ValueError(f"omega_unit must be 'deg' or 'rad', got {omega_unit!r}")
    for need in ("omega", "dty"):
        if need not in cols:
            raise ValueError(f"{fname}: missing column {need!r} (columns: {sorted(cols)})")
    omega = cols["omega"] * (180.0 / math.pi if omega_unit == "rad" else 1.0)
    if "tth" in cols and "eta" in cols:
        tth, eta = cols["tth"], cols["eta"]
    elif "sc" in cols and "fc" in cols:
        missing = [k for k in ("distance", "y_size", "z_size", "y_center", "z_center") if k not in pars]
        if missing:
            raise ValueError(
                f"{fname}: columns tth/eta absent and the detector parameters {missing} unknown: "
                "give parameters= (an ImageD11 .par file)"
            )
        tth, eta = detector_angles(cols["sc"], cols["fc"], omega, pars)
    else:
        raise ValueError(f"{fname}: missing columns 'tth' and 'eta' (or 'sc' and 'fc' with a .par file)")
    dty = cols["dty"] * DTY_UNITS[unit]
    need = [dty, omega, tth, eta]
    inten = cols.get("sum_intensity")
    fom = cols.get("frame_omega")
    if fom is not None:
        fom = fom * (180.0 / math.pi if omega_unit == "rad" else 1.0)
        need.append(fom)
    ok = np.logical_and.reduce([np.isfinite(a) for a in need])
    n_read = int(ok.size)
    dropped = {"nan": int(np.sum(~ok))} if not ok.all() else {}
    if n_read == 0:
        raise ValueError(f"{fname}: no peak rows (columns {sorted(cols)} are empty)")
    if not ok.any():
        raise ValueError(f"{fname}: no peak left ({n_read} rows, all with NaN or inf in a needed column)")
    return PeakTable(
        path=fname,
        dty_um=dty[ok],
        omega_deg=omega[ok],
        tth_deg=tth[ok],
        eta_deg=180.0 - np.mod(180.0 - eta[ok], 360.0),
        intensity=None if inten is None else inten[ok],
        frame_omega_deg=None if fom is None else fom[ok],
        header=pars,
        dropped=dropped,
        n_read=n_read,
    )


# ---------------------------------------------------------------------------
# writing (rule 5)
# ---------------------------------------------------------------------------
def write_columnfile(
    data: Any,
    path: Any,
    *,
    y0_um: float = 0.0,
    par_path: Any = None,
    detector: dict | None = None,
    format: str | None = None,
) -> dict:
    """Write a :class:`~superres_widgets.s3dxrd.ScanData` as an ImageD11 columnfile and ``.par`` (rule 5).

    Parameters
    ----------
    data : ScanData
    path : str or path
        ``.flt`` (text) or ``.h5`` / ``.hdf5`` (HDF5 group ``peaks``).
    y0_um : float, default 0
        ImageD11's ``y0`` of the written ``dty`` (``dty = y0 - X``).
    par_path : str or path, optional
        Where to write the parameter file; default ``path`` with ``.par``.
    detector : dict, optional
        Detector parameters overriding the far-field default.
    format : {"flt", "hdf5"}, optional
        Default from the extension.

    Returns
    -------
    dict
        ``{"columnfile": path, "par": par_path, "parameters": {...}}``.
    """
    fname = os.fspath(path)
    fmt = format or ("hdf5" if fname.lower().endswith((".h5", ".hdf5", ".hdf")) else "flt")
    if fmt not in ("flt", "hdf5"):
        raise ValueError(f"format must be 'flt' or 'hdf5', got {format!r}")
    y0 = _finite(y0_um, "y0_um")
    geom = data.geometry
    pars = far_field_parameters(data.reflections.phase, data.reflections.wavelength_angstrom, **(detector or {}))
    sc, fc = detector_pixels(data.tth_deg, data.eta_deg, pars)
    X = geom.x_positions[data.k]
    inten = getattr(data, "intensity", None)
    inten = np.full(data.n_peaks, 1000.0) if inten is None else np.where(np.isfinite(inten), 1000.0 * inten, 1000.0)
    cols = {
        "sc": sc, "fc": fc, "omega": np.asarray(data.omega_deg, float), "dty": y0 - X,
        "sum_intensity": inten, "Number_of_pixels": np.full(data.n_peaks, 9.0),
        "tth": np.asarray(data.tth_deg, float), "eta": np.asarray(data.eta_deg, float),
        "frame_omega": geom.omega_deg[data.j],
    }
    header = {
        "omega_start": float(data.omega_start_deg), "omega_step": float(data.omega_step_deg),
        "omega_range": float(data.omega_range_deg), "dty_step": float(geom.step), "y0": y0,
        "beam_width": float(geom.beam_width), "beam_profile": geom.profile_name, "dty_unit": "um",
        "x_range": float(geom.x_range), "tth_max": float(data.reflections.tth_max_deg),
        "tth_min": float(data.reflections.tth_min_deg),
    }
    if fmt == "flt":
        with open(fname, "w", encoding="utf-8") as fh:
            for k in sorted(header):
                fh.write(f"# {k} = {header[k]}\n")
            fh.write("#  " + "  ".join(cols) + "\n")
            arr = np.column_stack(list(cols.values()))
            np.savetxt(fh, arr, fmt="%.17g", delimiter="  ")
    else:
        import h5py

        with h5py.File(fname, "w") as h:
            g = h.create_group("peaks")
            g.attrs["ImageD11_type"] = "peaks"
            for k, v in header.items():
                g.attrs[k] = v
            for k, v in cols.items():
                g.create_dataset(k, data=np.asarray(v, dtype=np.int64 if k == "Number_of_pixels" else float))
    ppath = os.fspath(par_path) if par_path is not None else os.path.splitext(fname)[0] + ".par"
    write_par(ppath, pars)
    return {"columnfile": fname, "par": ppath, "parameters": pars}
