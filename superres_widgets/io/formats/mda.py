r"""APS MDA scan files (``.mda``, synApps saveData): reader ``"mda"``.

Options: ``normalize`` (the name of a detector, e.g. an upstream ion
chamber scaler, that every channel is divided by, pixel by pixel).

The format
----------
MDA is big-endian XDR (the synApps ``saveData`` description, as read by
xraylarch's ``larch/io/mda.py``): a file header -- ``float`` version (1.3,
1.4), ``int`` scan number, ``int`` rank, ``int`` dimensions[rank], ``int``
isRegular, ``int`` offset of the extra PVs -- then the outermost scan.  A
scan is ``int`` rank, ``int`` npts (requested points), ``int`` cpt (points
done), for rank > 1 ``int`` offsets[npts] of its sub-scans (0: not
acquired), name and time stamp (counted XDR strings: ``int`` length, then an
XDR string -- length, bytes, padding to 4), ``int`` numbers of positioners,
detectors and triggers, their descriptions (positioner: number, name, desc,
step mode, unit, readback name, readback desc, readback unit; detector:
number, name, desc, unit; trigger: number, name, ``float`` command), then
the data: every positioner's ``double``[npts] and every detector's
``float``[npts].  This reader is strict: a value outside the file, an
offset that is not a scan of the next rank, a rank or size that is not
consistent raises :class:`~superres_widgets.io.MapFileError` naming the
file and what is wrong.

Maps
----
* Rows come from the outer scan (rank = the file's rank), columns from the
  scans one rank below it; every detector of those (one value per pixel:
  ROI sums, scalers, count rates, ...) is one channel of the stack
  ``(channels, rows, cols)``.  Deeper scans (a rank-3 file's spectra) are
  not read.  A file of rank 1 is not a map.
* Channel names: the detector's description when the descriptions are
  non-empty and unique, else its PV name; ROI-sum detectors
  (``<dxp>:ROISUM_k.VAL``) are named by the element line the extra PVs give
  their region of interest (``<dxp>:mca1.R{k-1}NM``, e.g. ``"Fe Ka"``).
  ``metadata["detectors"]`` lists ``{"name", "desc", "unit", "number"}`` of
  each (``normalize=`` takes a channel name or a PV name), and
  ``metadata["extra_pvs"]`` the extra PVs saved with the scan.
* Points not acquired (an aborted scan: ``cpt < npts`` or an offset of 0)
  are NaN, i.e. masked (``metadata["masked_pixels"]`` counts them).
* Pixel size: the step of the inner positioner's readings (``x``, the
  first fully acquired row) times its unit (``mm``, ``um``, ...), in um
  (source ``"mda positioners"``); the outer positioner's step, if
  different, goes to ``metadata["pixel_size_v_um"]``.  A fly-scan
  positioner often states no unit: when its numeric step equals the outer
  positioner's, the outer unit is assumed (``metadata["x_unit_assumed"]``
  says so).  Positions in um:
  ``metadata["x_um"]``, ``metadata["y_um"]``.  A positioner without a
  known unit gives no pixel size (pass ``pixel_size_um=``).
* ``normalize="2xfm:scaler3_cts1.B"`` (a detector name or description)
  divides every channel by that detector (pixels where it is 0 become NaN:
  masked); an unknown name is an error listing the detectors.

Examples
--------
>>> from superres_widgets.io import load_map
>>> m = load_map("2xfm_0010.mda", channel="2xfm:mca1.R0")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import pathlib
import struct
from typing import Any

import numpy as np

from .._common import UNIT_UM, MapFileError, XRFMap, even_step
from ..registry import Reader

__all__ = ["read_mda", "MDAScan", "parse_mda", "READERS"]

_VERSIONS = (1.3, 1.4)


class MDAScan:
    """One scan record: ``rank``, ``npts``, ``cpt``, ``name``, ``time``, ``positioners``, ``detectors``,
    ``positions`` (npts per positioner), ``data`` (npts per detector), ``offsets`` and ``children``."""

    def __init__(self):
        self.rank = self.npts = self.cpt = 0
        self.name = self.time = ""
        self.positioners: list[dict] = []
        self.detectors: list[dict] = []
        self.positions: list[np.ndarray] = []
        self.data: list[np.ndarray] = []
        self.offsets: list[int] = []
        self.children: list[MDAScan | None] = []


class _XDR:
    """A strict big-endian reader over the file's bytes."""

    def __init__(self, path, buf: bytes):
        self.p, self.buf, self.pos = path, buf, 0

    def _take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise MapFileError(self.p, f"is truncated: {what} at byte {self.pos} needs {n} bytes, the file has "
                                       f"{len(self.buf)}")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def int(self, what: str) -> int:
        return struct.unpack(">i", self._take(4, what))[0]

    def float(self, what: str) -> float:
        return struct.unpack(">f", self._take(4, what))[0]

    def array(self, n: int, code: str, what: str) -> np.ndarray:
        size = 8 if code == "d" else 4
        return np.frombuffer(self._take(n * size, what), dtype=">" + ("f8" if code == "d" else "f4")).astype(
            np.float64)

    def counted_string(self, what: str) -> str:
        """``int`` length, then (if non-zero) an XDR string: ``int`` length, bytes, padding to 4."""
        n = self.int(what)
        if n == 0:
            return ""
        if n < 0 or n > 4096:
            raise MapFileError(self.p, f"is not a valid MDA file: {what} has length {n} at byte {self.pos - 4}")
        m = self.int(what)
        if m != n:
            raise MapFileError(self.p, f"is not a valid MDA file: {what} length {m} != {n} at byte {self.pos - 4}")
        raw = self._take(n + (-n) % 4, what)[:n]
        return raw.split(b"\0", 1)[0].decode("latin-1").strip()


def _scan(x: _XDR, expected_rank: int) -> MDAScan:
    s = MDAScan()
    start = x.pos
    s.rank = x.int("scan rank")
    if s.rank != expected_rank:
        raise MapFileError(x.p, f"is not a valid MDA file: the scan at byte {start} has rank {s.rank}, "
                                f"expected {expected_rank}")
    s.npts, s.cpt = x.int("npts"), x.int("cpt")
    if not (0 < s.npts <= 10_000_000 and 0 <= s.cpt <= s.npts):
        raise MapFileError(x.p, f"is not a valid MDA file: scan at byte {start} has npts={s.npts}, cpt={s.cpt}")
    if s.rank > 1:
        s.offsets = [x.int("sub-scan offsets") for _ in range(s.npts)]
    s.name = x.counted_string("scan name")
    s.time = x.counted_string("time stamp")
    n_pos, n_det, n_trig = x.int("positioner count"), x.int("detector count"), x.int("trigger count")
    if not (0 <= n_pos <= 4 and 0 <= n_det <= 10_000 and 0 <= n_trig <= 4):
        raise MapFileError(x.p, f"is not a valid MDA file: scan at byte {start} has {n_pos} positioners, "
                                f"{n_det} detectors, {n_trig} triggers")
    for _ in range(n_pos):
        d = {"number": x.int("positioner number")}
        for key in ("name", "desc", "step_mode", "unit", "readback_name", "readback_desc", "readback_unit"):
            d[key] = x.counted_string(f"positioner {key}")
        s.positioners.append(d)
    for _ in range(n_det):
        d = {"number": x.int("detector number")}
        for key in ("name", "desc", "unit"):
            d[key] = x.counted_string(f"detector {key}")
        s.detectors.append(d)
    for _ in range(n_trig):
        x.int("trigger number")
        x.counted_string("trigger name")
        x.float("trigger command")
    s.positions = [x.array(s.npts, "d", "positioner data") for _ in range(n_pos)]
    s.data = [x.array(s.npts, "f", "detector data") for _ in range(n_det)]
    return s


def parse_mda(path: pathlib.Path, buf: bytes, depth: int = 2) -> tuple[dict, MDAScan]:
    """``(header, outer scan)`` with sub-scans read ``depth - 1`` ranks deep (MapFileError if not MDA)."""
    x = _XDR(path, buf)
    if len(buf) < 24:
        raise MapFileError(path, f"is not an MDA file ({len(buf)} bytes)")
    version = x.float("version")
    if not any(math.isclose(version, v, abs_tol=1e-4) for v in _VERSIONS):
        raise MapFileError(path, f"is not an MDA file (version field {version:.4g}; this reader knows MDA "
                                 f"{', '.join(map(str, _VERSIONS))})")
    header: dict[str, Any] = {"version": round(version, 4), "scan_number": x.int("scan number")}
    rank = x.int("rank")
    if not 1 <= rank <= 8:
        raise MapFileError(path, f"is not a valid MDA file: rank {rank}")
    header["rank"] = rank
    header["dimensions"] = [x.int("dimensions") for _ in range(rank)]
    header["is_regular"] = x.int("isRegular")
    header["extra_pvs_offset"] = x.int("extra PV offset")
    outer = _scan(x, rank)
    _children(x, outer, depth - 1)
    return header, outer


_PV_TYPES = {29: ("i", 4), 30: ("f", 4), 33: ("i", 4), 34: ("d", 8)}  # DBR_CTRL_SHORT (XDR int), FLOAT, LONG, DOUBLE


def parse_extra_pvs(path, buf: bytes, offset: int) -> dict:
    """The extra PVs saved with the scan, ``{name: value}`` (strings, numbers or lists); {} if none."""
    if not 0 < offset < len(buf):
        return {}
    x = _XDR(path, buf)
    x.pos = offset
    out: dict[str, Any] = {}
    n = x.int("extra PV count")
    if not 0 <= n <= 100_000:
        raise MapFileError(path, f"is not a valid MDA file: {n} extra PVs at byte {offset}")
    for _ in range(n):
        name = x.counted_string("extra PV name")
        x.counted_string("extra PV description")
        kind = x.int("extra PV type")
        if kind == 0:  # DBR_STRING
            out[name] = x.counted_string("extra PV value")
            continue
        count = x.int("extra PV count")
        x.counted_string("extra PV unit")
        if not 0 <= count <= 1_000_000:
            raise MapFileError(path, f"is not a valid MDA file: extra PV {name!r} has {count} values")
        if kind == 32:  # DBR_CTRL_CHAR: bytes, padded to 4
            raw = x._take(count + (-count) % 4, f"extra PV {name}")[:count]
            out[name] = raw.split(b"\0", 1)[0].decode("latin-1")
            continue
        if kind not in _PV_TYPES:
            raise MapFileError(path, f"is not a valid MDA file: extra PV {name!r} has type {kind}")
        code, size = _PV_TYPES[kind]
        vals = struct.unpack(f">{count}{code}", x._take(count * size, f"extra PV {name}"))
        out[name] = vals[0] if count == 1 else list(vals)
    return out


def _roi_names(dets: list[dict], extra: dict) -> dict:
    """``{detector index: element}`` for ROI-sum detectors (``...:ROISUM_k.VAL`` -> ``mca1.R{k-1}NM``)."""
    import re

    out = {}
    for i, d in enumerate(dets):
        m = re.match(r"^(.*):ROISUM_(\d+)\.VAL$", d["name"])
        if m:
            label = extra.get(f"{m.group(1)}:mca1.R{int(m.group(2)) - 1}NM")
            if isinstance(label, str) and label.strip():
                out[i] = label.strip()
    return out


def _children(x: _XDR, scan: MDAScan, depth: int) -> None:
    if depth <= 0 or scan.rank <= 1:
        return
    for i, off in enumerate(scan.offsets):
        if off == 0 or i >= scan.cpt:
            scan.children.append(None)
            continue
        if not 0 < off < len(x.buf):
            raise MapFileError(x.p, f"is not a valid MDA file: sub-scan {i} offset {off} is outside the file")
        x.pos = off
        child = _scan(x, scan.rank - 1)
        _children(x, child, depth - 1)
        scan.children.append(child)


def _unit_factor(pos: dict) -> float | None:
    for key in ("unit", "readback_unit"):
        u = pos.get(key, "").strip().lower()
        if u in UNIT_UM:
            return UNIT_UM[u]
    return None


def _names(dets: list[dict]) -> list[str]:
    descs = [d["desc"] for d in dets]
    if all(descs) and len(set(descs)) == len(descs):
        return descs
    names = [d["name"] or f"D{d['number'] + 1:02d}" for d in dets]
    if len(set(names)) != len(names):
        names = [f"{n} #{i}" for i, n in enumerate(names)]
    return names


def _pixel(outer: MDAScan, rows: list, meta: dict) -> float | None:
    """Pixel size (um) from the positioners; fills positions and units into ``meta``."""
    full = next((r for r in rows if r is not None and r.cpt == r.npts and r.positions), None)
    if full is None or not outer.positions:
        return None
    fx, fy = _unit_factor(full.positioners[0]), _unit_factor(outer.positioners[0])
    if fx is None and fy is not None:  # a fly-scan positioner without a unit, stepping like the outer one
        sx = even_step(full.positions[0].tolist())
        sy = even_step(outer.positions[0][:outer.cpt].tolist())
        if sx is not None and sy is not None and math.isclose(abs(sx), abs(sy), rel_tol=1e-3):
            fx = fy
            meta["x_unit_assumed"] = (f"{outer.positioners[0]['unit']} (the outer positioner's: the inner one "
                                      "states no unit and steps by the same number)")
    meta["positioners"] = {"x": full.positioners[0]["name"], "y": outer.positioners[0]["name"]}
    meta["positioner_units"] = {"x": full.positioners[0]["unit"], "y": outer.positioners[0]["unit"]}
    if fx is None:
        return None
    x = full.positions[0] * fx
    meta["x_um"] = x.tolist()
    step = even_step(x.tolist())
    if fy is not None:
        y = outer.positions[0][:outer.cpt] * fy
        meta["y_um"] = y.tolist()
        step_y = even_step(y.tolist())
        if step_y is not None and step is not None and not math.isclose(abs(step_y), abs(step), rel_tol=1e-2):
            meta["pixel_size_v_um"] = abs(step_y)
    if step is None:
        return None
    meta["pixel_size_source"] = "mda positioners"
    return float(round(abs(step), 9))


def read_mda(path: pathlib.Path, normalize: str | None = None) -> XRFMap:
    """Read the per-pixel detectors of a 2-D (or deeper) MDA scan as a stack (rules in the module docstring).

    Parameters
    ----------
    path : pathlib.Path
        An existing ``.mda`` file.
    normalize : str, optional
        A detector (name or description) to divide every channel by.

    Returns
    -------
    XRFMap
        ``(channels, rows, cols)`` float64 (NaN where not acquired), pixel
        size from the positioners, ``metadata["channels"]``,
        ``["detectors"]``, ``["scan_number"]``, ``["mda_version"]``.
    """
    p = path
    header, outer = parse_mda(p, p.read_bytes(), depth=2)
    if outer.rank < 2:
        raise MapFileError(p, "holds a 1-D scan (rank 1), not a map; a map needs a 2-D scan")
    rows = outer.children + [None] * (outer.npts - len(outer.children))
    first = next((r for r in rows if r is not None), None)
    if first is None:
        raise MapFileError(p, "holds no acquired row (every sub-scan offset is 0)")
    dets = first.detectors
    if not dets:
        raise MapFileError(p, "has no detectors in its inner scans: nothing to map")
    n_rows, n_cols = outer.npts, first.npts
    data = np.full((len(dets), n_rows, n_cols), np.nan)
    for i, r in enumerate(rows):
        if r is None:
            continue
        if [d["number"] for d in r.detectors] != [d["number"] for d in dets] or r.npts != n_cols:
            raise MapFileError(p, f"row {i} has other detectors or points ({r.npts}) than row 0 ({n_cols})")
        for c, values in enumerate(r.data):
            data[c, i, :r.cpt] = values[:r.cpt]
    names = _names(dets)
    extra = parse_extra_pvs(p, p.read_bytes(), header["extra_pvs_offset"])
    rois = _roi_names(dets, extra)
    if rois and len(set(rois.values())) == len(rois):  # ROI sums are named by their element line
        names = [rois.get(i, n) for i, n in enumerate(names)]
    meta: dict[str, Any] = {"file_format": "mda", "mda_version": header["version"],
                            "scan_number": header["scan_number"], "scan_name": outer.name, "time": outer.time,
                            "dimensions": header["dimensions"], "channels": names,
                            "detectors": [{k: d[k] for k in ("name", "desc", "unit", "number")} for d in dets],
                            "extra_pvs": extra}
    if normalize is not None:
        data, meta["normalized_by"] = _normalize(p, data, names, dets, normalize)
    meta["masked_pixels"] = int(np.isnan(data).any(axis=0).sum())
    px = _pixel(outer, rows, meta)
    return XRFMap(data, px, p, meta)


def _normalize(p, data, names, dets, which: str):
    keys = {n: i for i, n in enumerate(names)}
    keys.update({d["name"]: i for i, d in enumerate(dets) if d["name"]})
    keys.update({d["desc"]: i for i, d in enumerate(dets) if d["desc"]})
    if which not in keys:
        raise MapFileError(p, f"normalize={which!r} is not a detector of this scan; detectors: {names}")
    i = keys[which]
    ref = data[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(ref != 0, data / ref, np.nan)
    return out, names[i]


READERS = (Reader("mda", ".mda", read_mda, options=("normalize",), label="APS MDA",
                  description="synApps saveData scans: per-pixel detectors as channels, pixel size from the "
                              "positioners"),)
