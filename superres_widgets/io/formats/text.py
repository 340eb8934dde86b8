r"""Text matrices as exported by lab XRF instruments: reader ``"text"`` (``.csv .tsv .txt .dat``).

Option ``header`` (``"auto"``, ``"none"``, ``"row"``, ``"column"``,
``"both"``), passed as ``load_map(path, header=...)``.

Rules
-----
* Lines that are empty or start with ``#`` are skipped.  UTF-8 (with or
  without BOM), else Latin-1.  A file with NUL bytes is binary: refused.
  A line longer than :data:`~superres_widgets.io._common.MAX_LINE_BYTES`
  (4 MiB) is refused (no map row is that long), and so is a file whose
  parsing (about 40 bytes of memory per byte of text) would exceed the
  memory budget (:mod:`superres_widgets.validate`).
* Delimiter: tab if every sampled line (the first 20) has one, else ``;``,
  else ``,``, else runs of whitespace.  With ``;``, tab or whitespace
  delimiters a decimal comma (``1,5``) is read as a decimal point.  A
  delimiter ending every line is ignored; quotes around a cell are removed.
* Every row must have the same number of cells (ragged rows raise, naming
  the line).  Empty, non-numeric and infinite cells raise, naming the
  line and column (1-based, as a spreadsheet counts them); a ``NaN`` cell
  is a masked pixel.
* Coordinate / label headers (``header="auto"``), the rule:

  1. the first line has one cell fewer than the others: it holds the X
     coordinates and the first column the Y coordinates -- both stripped;
  2. the first cell of the first line (the corner) is empty or text (e.g.
     ``"Y\X"``), the rest of that line is numeric and the first column has
     no text below it: X coordinates in the first line, Y coordinates in the
     first column -- both stripped;
  3. any other text or empty cell in the first line (column names): it is a
     header row; the first column is then a header column too if it has
     text cells, or if the corner is empty or text *and* the column is an
     evenly spaced sequence (a row index);
  4. all numeric: the first line (without its first cell) and the first
     column (without its first cell) both evenly spaced, strictly monotonic
     sequences (>= 3 values, steps equal within 1 %): an X header row and a
     Y header column; only the whole first line evenly spaced: a header row
     (e.g. pandas ``to_csv(index=False)``'s ``0,1,2,...``);
  5. otherwise a header column is stripped only if it has text cells, or is
     an evenly spaced sequence of at least 5 values.

  ``header="none" | "row" | "column" | "both"`` overrides the rule.  What
  was stripped is in ``metadata["header"]``; numeric coordinates in
  ``metadata["x_coordinates"]`` / ``["y_coordinates"]`` (the file's unit).
* Pixel size: if the header text names a unit (``um``, ``µm``, ``micron``,
  ``mm``, ``nm``) the coordinate step (X, else Y) times that unit, in um
  (source ``"coordinates"``); a different Y step goes to
  ``metadata["pixel_size_v_um"]``.  Without a unit the step is kept in
  ``metadata["coordinate_step"]`` and the pixel size is unknown.

Examples
--------
>>> import tempfile, pathlib
>>> f = pathlib.Path(tempfile.mkdtemp()) / "fe.csv"
>>> _ = f.write_text("Y\\X [um],0,5,10\n0,1,2,3\n5,4,5,6\n")
>>> m = read_text(f)
>>> m.data.tolist(), m.pixel_size_um, m.metadata["header"]
([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], 5.0, 'both')
"""

from __future__ import annotations

import math
import pathlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._common import MAX_LINE_BYTES, UNIT_UM, MapFileError, XRFMap, even_step
from ..registry import Reader

__all__ = ["read_text", "HEADER_MODES", "READERS"]

#: Values of the ``header`` option.
HEADER_MODES = ("auto", "none", "row", "column", "both")

_DEC_COMMA = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")
_PLAIN_NUM = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_UNIT_RE = re.compile(r"(?:\(|\[|\s|^|_)(µm|\u03bcm|um|micron|microns|mm|nm)(?:\)|\]|\s|$|_)",
                      re.IGNORECASE)


def read_text(path: pathlib.Path, header: str = "auto") -> XRFMap:
    r"""Read a text matrix (rules in the module docstring).

    Parameters
    ----------
    path : pathlib.Path
        An existing text file.
    header : {"auto", "none", "row", "column", "both"}
        Which coordinate/label headers to strip; ``"auto"`` applies the rule.

    Returns
    -------
    XRFMap
        float64 data; pixel size in um from coordinate headers stating a
        unit, else ``None``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "m.txt"
    >>> _ = f.write_text("1 2,5 3\n4 5 6,25\n")
    >>> read_text(f).data.tolist()
    [[1.0, 2.5, 3.0], [4.0, 5.0, 6.25]]
    """
    p = path
    if header not in HEADER_MODES:
        raise MapFileError(p, f"header must be 'auto', 'none', 'row', 'column' or 'both', "
                              f"got {header!r}")
    lines, encoding = _lines(p)
    delim, dec_comma = _sniff_delimiter([ln for _, ln in lines[:20]])
    rows = _cells(lines, delim, dec_comma)
    short_header = _check_widths(p, rows)
    hrow, hcol = _detect_header(rows, header, short_header, p)
    meta: dict[str, Any] = {"file_format": "text", "delimiter": {None: "whitespace"}.get(delim, delim),
                            "decimal_comma": dec_comma, "encoding": encoding,
                            "header": {(False, False): "none", (True, False): "row",
                                       (False, True): "column", (True, True): "both"}[(hrow, hcol)]}
    head_text = []
    x_coords = y_coords = None
    if hrow:
        first = rows[0][1]
        xs = first if short_header else first[1 if hcol else 0:]
        head_text += [c for c in first if not _is_number(c)]
        x_coords = _numbers_or_none(xs)
        rows = rows[1:]
    if hcol:
        ys = [c[0] for _, c in rows]
        head_text += [c for c in ys if not _is_number(c)]
        y_coords = _numbers_or_none(ys)
        rows = [(n, c[1:]) for n, c in rows]
    if x_coords is not None:
        meta["x_coordinates"] = x_coords
    if y_coords is not None:
        meta["y_coordinates"] = y_coords
    data = _values(p, rows, col_offset=1 if hcol else 0)
    px = _pixel_size(x_coords, y_coords, head_text, meta)
    return XRFMap(data, px, p, meta)


#: Bytes of memory parsing needs per byte of text (Python strings and floats per cell), measured.
_BYTES_PER_TEXT_BYTE = 40


def _read_bounded(p: pathlib.Path) -> bytes:
    """The file's bytes, after checking its size against the budget and its lines against the cap."""
    import os

    from ...validate import MemoryBudgetError, check_bytes

    size = os.path.getsize(p)
    try:
        check_bytes(size * _BYTES_PER_TEXT_BYTE, f"parsing a {size}-byte text matrix")
    except MemoryBudgetError as exc:
        raise MapFileError(p, str(exc)) from None
    with open(p, "rb") as f:
        raw = f.read(size + 1)  # no more than the file said it holds
    if b"\x00" in raw[:4096]:
        raise MapFileError(p, "is a binary file, not a text matrix")
    codes = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero((codes == 10) | (codes == 13))
    bounds = np.concatenate(([-1], ends, [len(raw)]))
    lengths = np.diff(bounds) - 1
    if lengths.size and lengths.max() > MAX_LINE_BYTES:
        i = int(np.argmax(lengths > MAX_LINE_BYTES))
        line = int(np.count_nonzero(codes[:bounds[i] + 1] == 10)) + 1 if i else 1
        raise MapFileError(p, f"line {line} is {int(lengths[i])} bytes long (more than {MAX_LINE_BYTES} bytes: "
                              "not a row of a map); not a text matrix")
    return raw


def _lines(p: pathlib.Path):
    """[(line number, stripped text)] of the data lines, and the encoding."""
    raw = _read_bounded(p)
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    lines = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())]
    lines = [(n, ln) for n, ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise MapFileError(p, "is empty (no data lines)")
    return lines, encoding


def _cells(lines, delim, dec_comma):
    rows = []
    for n, ln in lines:
        cells = ln.split() if delim is None else [c.strip() for c in ln.split(delim)]
        if dec_comma:
            cells = [c.replace(",", ".") if _DEC_COMMA.match(c) else c for c in cells]
        rows.append((n, cells))
    # a delimiter closing every line is not an empty last column
    if delim is not None and all(c and c[-1] == "" for _, c in rows):
        rows = [(n, c[:-1]) for n, c in rows]
    # strip surrounding quotes ("1.5" -> 1.5)
    return [(n, [c[1:-1].strip() if len(c) >= 2 and c[0] == c[-1] and c[0] in "\"'" else c
                 for c in cells]) for n, cells in rows]


def _check_widths(p, rows) -> bool:
    """Raise on ragged rows; True if the first line is one cell short (an X header, rule 1)."""
    widths = [len(c) for _, c in rows]
    body = widths[1:] or widths
    body_w = max(set(body), key=body.count)
    short_header = (len(rows) >= 3 and widths[0] == body_w - 1
                    and all(w == body_w for w in widths[1:]))
    if not short_header:
        mode_w = max(set(widths), key=widths.count)
        for (n, _), w in zip(rows, widths):
            if w != mode_w:
                raise MapFileError(p, f"line {n} has {w} value(s) but most lines have {mode_w} "
                                      "(ragged rows)")
    return short_header


def _values(p, rows, col_offset: int) -> np.ndarray:
    """The numeric body; errors name the file line and column (``col_offset`` header columns)."""
    if not rows or not rows[0][1]:
        raise MapFileError(p, "has no data values after its header")
    try:
        data = np.array([[float(c) for c in cells] for _, cells in rows], dtype=np.float64)
    except ValueError:
        for n, cells in rows:
            for j, c in enumerate(cells):
                try:
                    float(c)
                except ValueError:
                    what = "an empty cell" if c == "" else f"{c[:40]!r} is not a number"
                    raise MapFileError(p, f"line {n}, column {j + 1 + col_offset}: {what}") from None
        raise  # pragma: no cover
    bad = np.isinf(data)  # NaN cells are masked pixels; inf is never a measurement
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise MapFileError(p, f"line {rows[r][0]}, column {c + 1 + col_offset}: "
                              f"{rows[r][1][c]!r} is not a finite number (inf cells are not allowed in a "
                              "map; NaN marks a masked pixel)")
    return data


def _pixel_size(x_coords, y_coords, head_text, meta) -> float | None:
    """Pixel size in um from coordinate headers stating a unit (records the step in ``meta``)."""
    step = even_step(x_coords) or even_step(y_coords)
    if step is None:
        return None
    meta["coordinate_step"] = abs(step)
    factor = None
    for t in head_text:
        m = _UNIT_RE.search(t)
        if m:
            factor = UNIT_UM.get(m.group(1).lower().replace("\u03bc", "µ"))
            if factor is not None:
                break
    if factor is None:
        return None
    meta["pixel_size_source"] = "coordinates"
    ys = even_step(y_coords)
    if ys is not None and not math.isclose(abs(ys), abs(step), rel_tol=1e-2):
        meta["pixel_size_v_um"] = abs(ys) * factor
    return abs(step) * factor


def _sniff_delimiter(sample: Sequence[str]):
    """(delimiter or None for whitespace, decimal_comma) -- the module docstring's rule."""
    for d in ("\t", ";"):
        if all(d in ln for ln in sample):
            return d, True
    if all("," in ln for ln in sample):
        # decimal commas between whitespace: "1,5 2,25" is whitespace-delimited
        tokens = [t for ln in sample for t in ln.split()]
        if all(len(ln.split()) >= 2 for ln in sample) and all(
                _DEC_COMMA.match(t) or _PLAIN_NUM.match(t) for t in tokens):
            return None, True
        return ",", False
    return None, True


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_text(cell: str) -> bool:
    return cell != "" and not _is_number(cell)


def _numbers_or_none(cells):
    try:
        vals = [float(c) for c in cells]
    except ValueError:
        return None
    return vals if all(math.isfinite(v) for v in vals) else None


def _detect_header(rows, header: str, short_header: bool, p):
    """(header row?, header column?) -- rules 1-5 of the module docstring, or the override."""
    if header != "auto":
        hrow, hcol = header in ("row", "both"), header in ("column", "both")
        if short_header and not (hrow and hcol):
            raise MapFileError(p, f"line {rows[0][0]} has one value fewer than the others; "
                                  "with header=%r that is a ragged row" % header)
        return hrow, hcol
    if short_header:
        return True, True
    first = rows[0][1]
    body = rows[1:]
    col0_body = [c[0] for _, c in body]
    col0_all = [c[0] for _, c in rows]
    corner = first[0]
    labelled_corner = corner == "" or _is_text(corner)
    row_text = any(c == "" or _is_text(c) for c in first[1:])
    body_col_text = any(_is_text(c) for c in col0_body)
    if labelled_corner and not row_text:
        # "Y\\X, x0, x1, ..." over "y0, v, v, ...": coordinates (rule 2);
        # a text first column below it makes the corner just the first row label
        return (False, True) if body_col_text else (True, True)
    if row_text:
        hcol = body_col_text or (
            labelled_corner and even_step(_numbers_or_none(col0_body)) is not None)
        return True, hcol
    x_even = even_step(_numbers_or_none(first[1:])) is not None
    y_even = even_step(_numbers_or_none(col0_body)) is not None
    if x_even and y_even and len(rows) >= 3:
        return True, True
    if even_step(_numbers_or_none(first)) is not None and len(rows) >= 2:
        return True, any(_is_text(c) for c in col0_body)
    # a bare Y column: text labels, or >= 5 evenly spaced values (data rarely are)
    hcol = any(_is_text(c) for c in col0_all) or (
        len(col0_all) >= 5 and even_step(_numbers_or_none(col0_all)) is not None)
    return False, hcol


READERS = (Reader("text", (".csv", ".tsv", ".txt", ".dat"), read_text, options=("header",),
                  label="text matrix",
                  description="delimited text matrix (instrument export); coordinate headers "
                              "detected and stripped"),)
