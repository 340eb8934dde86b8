r"""Point tables with x/y coordinate columns (``.csv .tsv .txt .dat``): reader ``"xy_table"``.

Many instruments and scripts export a map as one line per pixel: the stage
coordinates and one column per element, e.g.::

    x [um], y [um], Fe, Ca
    0, 0, 120, 33
    5, 0, 131, 35
    ...

A file whose first line (after ``#`` comments) names an ``x`` and a ``y``
column and at least one other column is read here (sniff); other text files
go to the matrix reader (:mod:`superres_widgets.io.formats.text`).

Options: ``coordinate_unit`` (``"um"``, ``"mm"``, ``"nm"``...: the unit of
the coordinates when the header does not state it).

Rules
-----
* Delimiter: tab, ``;`` or ``,`` if every line has it, else whitespace.
  Columns: ``x``/``y`` (also ``pos_x``, ``x_pos``, ``sample_x``, ``samx``
  ...), a unit in brackets, parentheses or a suffix (``x [mm]``, ``x (µm)``,
  ``x_um``); every other column is a channel named by its header.
* The coordinates must form a regular grid: x and y steps are the median
  spacing of their distinct values; every point must lie within a quarter
  step of a grid node (stage read-back jitter is fine), and no node may
  hold two points.  Nodes without a point are NaN (masked pixels;
  ``metadata["masked_pixels"]``).  Rows run along y, columns along x, both
  ascending.
* Pixel size: the x step (else y) in the stated unit (header, else
  ``coordinate_unit``), in um (source ``"coordinates"``); a different y step
  goes to ``metadata["pixel_size_v_um"]``.  No unit: the step is kept in
  ``metadata["coordinate_step"]`` and the pixel size is unknown (the warning
  says to pass ``coordinate_unit=`` or ``pixel_size_um=``).
* Empty, non-numeric or infinite cells raise, naming the line and column; a
  ``NaN`` value is a masked pixel.

Examples
--------
>>> import tempfile, pathlib
>>> f = pathlib.Path(tempfile.mkdtemp()) / "points.csv"
>>> _ = f.write_text("x [mm],y [mm],Fe,Ca\n0,0,1,9\n0.005,0,2,8\n0,0.005,3,7\n0.005,0.005,4,6\n")
>>> m = read_xy_table(f)
>>> m.metadata["channels"], m.data[0].tolist(), m.pixel_size_um
(['Fe', 'Ca'], [[1.0, 2.0], [3.0, 4.0]], 5.0)
"""

from __future__ import annotations

import math
import pathlib
import re
from typing import Any

import numpy as np

from .._common import UNIT_UM, MapFileError, XRFMap
from ..registry import Reader

__all__ = ["read_xy_table", "is_xy_table", "READERS"]

_UNIT = re.compile(r"(?:\[|\()\s*(µm|\u03bcm|um|micron|microns|mm|nm)\s*(?:\]|\))|_(um|mm|nm)$", re.IGNORECASE)
_X = {"x", "pos_x", "x_pos", "xpos", "posx", "sample_x", "samx", "x_position", "position_x"}
_Y = {"y", "pos_y", "y_pos", "ypos", "posy", "sample_y", "samy", "y_position", "position_y"}


def _lines(path: pathlib.Path, limit: int | None = None) -> list[tuple[int, str]]:
    out = []
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh):
            if limit is not None and len(out) >= limit:
                break
            if b"\0" in raw:
                return []
            text = raw.decode("utf-8-sig" if i == 0 else "utf-8", "replace").strip()
            if text and not text.startswith("#"):
                out.append((i + 1, text))
    return out


def _split(lines):
    sample = [t for _, t in lines[:20]]
    for d in ("\t", ";", ","):
        if sample and all(d in t for t in sample):
            return d
    return None


def _cells(text: str, delim):
    cells = text.split() if delim is None else [c.strip() for c in text.split(delim)]
    return [c[1:-1].strip() if len(c) >= 2 and c[0] == c[-1] and c[0] in "\"'" else c for c in cells]


def _column(cell: str):
    """(role 'x' | 'y' | None, unit or None)."""
    m = _UNIT.search(cell)
    unit = None if m is None else (m.group(1) or m.group(2)).lower().replace("\u03bc", "µ")
    base = _UNIT.sub("", cell).strip().lower().replace(" ", "_").strip("_")
    return ("x" if base in _X else "y" if base in _Y else None), unit


def _roles(header):
    roles = [_column(c) for c in header]
    xs = [i for i, (r, _) in enumerate(roles) if r == "x"]
    ys = [i for i, (r, _) in enumerate(roles) if r == "y"]
    return roles, xs, ys


def is_xy_table(path: pathlib.Path) -> bool:
    """Does the first line name an x and a y column and at least one more?"""
    lines = _lines(path, limit=3)
    if len(lines) < 2:
        return False
    header = _cells(lines[0][1], _split(lines))
    _, xs, ys = _roles(header)
    return len(xs) == 1 and len(ys) == 1 and len(header) >= 3


def _nodes(values: np.ndarray) -> np.ndarray:
    """The grid nodes along one axis: distinct values, or cluster means when read-backs jitter.

    Sorted gaps between distinct values are of two kinds, jitter within a
    node and steps between nodes; the largest ratio between consecutive
    sorted gaps (more than 3x) separates them.
    """
    u = np.unique(values)
    if u.size < 3:
        return u
    gaps = np.diff(u)
    gs = np.sort(gaps)[::-1]
    ratios = gs[:-1] / np.maximum(gs[1:], 1e-300)
    j = int(np.argmax(ratios))
    if ratios[j] <= 3:
        return u
    cut = np.sqrt(gs[j] * gs[j + 1])
    groups = np.split(u, np.flatnonzero(gaps > cut) + 1)
    return np.array([g.mean() for g in groups])


def _grid(p, values, what):
    """(index of each value on a regular grid, step, origin); MapFileError if not a grid."""
    nodes = _nodes(values)
    if nodes.size == 1:
        return np.zeros(values.size, int), None, float(nodes[0])
    step = float(np.median(np.diff(nodes)))
    idx = np.rint((values - nodes[0]) / step).astype(int)
    off = np.abs(values - (nodes[0] + idx * step))
    if np.any(off > 0.25 * step):
        bad = int(np.argmax(off))
        raise MapFileError(p, f"{what} coordinates are not on a regular grid (step {step:g}; the value "
                              f"{values[bad]:g} is {off[bad] / step:.2f} steps from the nearest node)")
    return idx, step, float(nodes[0])


def read_xy_table(path: pathlib.Path, coordinate_unit: str | None = None) -> XRFMap:
    """Read a point table with x/y columns into a stack ``(channels, rows, cols)`` (module docstring)."""
    p = path
    lines = _lines(p)
    if len(lines) < 2:
        raise MapFileError(p, "has no data lines after its header")
    delim = _split(lines)
    header = _cells(lines[0][1], delim)
    roles, xs, ys = _roles(header)
    if len(xs) != 1 or len(ys) != 1:
        raise MapFileError(p, f"needs one x and one y column, got header {header}")
    ix, iy = xs[0], ys[0]
    chans = [i for i in range(len(header)) if i not in (ix, iy)]
    if not chans:
        raise MapFileError(p, "has x and y columns but no value column")
    rows = []
    for n, text in lines[1:]:
        cells = _cells(text, delim)
        if len(cells) != len(header):
            raise MapFileError(p, f"line {n} has {len(cells)} value(s) but the header has {len(header)}")
        vals = []
        for j, c in enumerate(cells):
            try:
                v = float(c)
            except ValueError:
                raise MapFileError(p, f"line {n}, column {j + 1}: " + ("an empty cell" if c == "" else
                                                                        f"{c[:40]!r} is not a number")) from None
            if math.isinf(v) or (math.isnan(v) and j in (ix, iy)):
                raise MapFileError(p, f"line {n}, column {j + 1}: {c!r} is not a finite number")
            vals.append(v)
        rows.append(vals)
    table = np.asarray(rows, dtype=np.float64)
    ci, sx, x0 = _grid(p, table[:, ix], "x")
    ri, sy, y0 = _grid(p, table[:, iy], "y")
    shape = (int(ri.max()) + 1, int(ci.max()) + 1)
    if shape[0] * shape[1] > 50 * len(table):
        raise MapFileError(p, f"{len(table)} points spread over a {shape[0]} x {shape[1]} grid: not a map")
    seen = np.zeros(shape, bool)
    if np.any(np.bincount(ri * shape[1] + ci) > 1):
        raise MapFileError(p, "two points fall on the same grid node (duplicate coordinates)")
    data = np.full((len(chans),) + shape, np.nan)
    for k, j in enumerate(chans):
        data[k, ri, ci] = table[:, j]
    seen[ri, ci] = True
    meta: dict[str, Any] = {"file_format": "xy_table", "channels": [header[j] for j in chans],
                            "coordinate_columns": [header[ix], header[iy]],
                            "masked_pixels": int((~seen).sum() + np.isnan(data).any(axis=0)[seen].sum())}
    unit = roles[ix][1] or roles[iy][1] or coordinate_unit
    if coordinate_unit is not None and str(coordinate_unit).lower() not in UNIT_UM:
        raise MapFileError(p, f"coordinate_unit={coordinate_unit!r} is not a length unit (um, mm, nm, ...)")
    step = sx if sx is not None else sy
    px = None
    if step is not None:
        meta["coordinate_step"] = abs(step)
        if unit is not None:
            factor = UNIT_UM[str(unit).lower()]
            px = float(round(abs(step) * factor, 9))
            meta["pixel_size_source"] = "coordinates"
            meta["coordinate_unit"] = str(unit)
            if sx is not None and sy is not None and not math.isclose(sx, sy, rel_tol=1e-2):
                meta["pixel_size_v_um"] = abs(sy) * factor
    data_out = data[0] if len(chans) == 1 else data
    if len(chans) == 1:
        meta["channel"] = meta.pop("channels")[0]
    return XRFMap(data_out, px, p, meta)


READERS = (Reader("xy_table", (".csv", ".tsv", ".txt", ".dat"), read_xy_table, options=("coordinate_unit",),
                  label="x/y point table", sniff=is_xy_table,
                  description="one line per pixel: x, y and a column per channel; grid and pixel size from "
                              "the coordinates"),)
