r"""Read users' elemental maps and write restored maps with their provenance.

Formats
-------
=================  ===========================================================
extension          read by :func:`load_map`
=================  ===========================================================
``.tif .tiff``     tifffile; one page = a 2-D map, several pages = a stack of
                   channels (``(channels, rows, cols)``).  RGB images are
                   refused (colours are not counts).
``.npy``           :func:`numpy.load` with ``allow_pickle=False`` (a file
                   holding Python objects is refused, never unpickled); 2-D,
                   or 3-D taken as ``(channels, rows, cols)``.
``.csv .tsv .txt   a text matrix as exported by lab XRF instruments; see
.dat``             "Text matrices" below.
``.h5 .hdf5 .nxs`` h5py, read-only; one dataset (``dataset=``, a path inside
                   the file); see "HDF5 / NeXus" below.
=================  ===========================================================

:func:`save_map` writes ``.tif``/``.tiff`` or ``.h5``/``.hdf5``:

* TIFF: float32, the ImageDescription is a JSON object (the provenance, see
  below) and the resolution tags carry the pixel size (pixels per
  centimetre), so ImageJ/Fiji and other readers see the scale too.
* HDF5: float32 dataset ``/restored`` (``(rows, cols)`` or ``(channels,
  rows, cols)``) with attributes ``pixel_size_um``, ``units`` (``"um"``),
  ``channels`` (a string array, stacks only) and ``provenance`` (the same
  JSON object as the TIFF description); the root group carries ``format``
  and ``provenance`` too, and ``/channels`` holds the names as a dataset.

Provenance (both formats, built by one function): ``format``,
``format_version``, ``superres_widgets_version``, ``created_utc``,
``method``, ``parameters``, ``iterations`` (``parameters["num_iter"]``
unless given), ``psf`` (``sigma_um`` / ``sigma_px`` / ``shape`` from the
parameters ``psf_sigma_um``, ``psf_sigma_px``, ``psf_shape`` unless given),
``pixel_size_um``, ``shape``, ``dtype``, ``source_file``, ``source_sha256``,
``source_dataset`` (HDF5 inputs), ``source_pixel_size_source`` and
``channels``; ``save_map(provenance={...})`` adds or overrides keys.

HDF5 / NeXus
------------
* Dataset: ``dataset="/group/name"``; a wrong path raises ``MapFileError
  ("<file>: no dataset '<path>' (available: ...)")``.  Without it: the
  dataset ``/restored`` of a file :func:`save_map` wrote, else the only
  numeric 2-D or 3-D dataset (at least 2 x 2) in the file; several
  candidates raise an error listing them.  3-D is ``(channels, rows, cols)``.
* Channel (element) names, first found: an attribute ``channels``,
  ``elements`` or ``names`` of the dataset (string array, or one string of
  comma-separated names), else a 1-D string dataset of one of those names
  next to it (same group); used only if there is one name per channel.
* Pixel size, first found: attribute ``pixel_size_um`` of the dataset, its
  group, then the root; else attribute ``pixel_size`` with ``units`` (or
  ``unit``; ``um``, ``µm``, ``mm``, ``nm``, ...) in the same places; else
  NeXus-like axes: the group's ``axes`` attribute (names of the axis
  datasets, one per dimension, the last two being y and x), or sibling 1-D
  datasets named ``x``/``y`` (also ``x_um``/``y_um``, ``samx``/``samy``), of
  the column/row count, evenly spaced, with a ``units`` attribute (names
  ending ``_um`` are in um).  The step of x (else y) is the pixel size.
  ``metadata["pixel_size_source"]`` is ``"hdf5 attribute"`` or ``"hdf5
  axes"`` (``"description"`` for files :func:`save_map` wrote).

Conventions
-----------
* ``data[row, col]`` (``[channel, row, col]`` for stacks), float64 after
  loading, counts unchanged (never rescaled or clipped).
* Pixel size in micrometres.  Where it comes from, in order: the
  ``pixel_size_um`` argument when given (it overrides the file, with a
  :class:`PixelSizeWarning` if the file disagrees -- files often carry a
  meaningless 72 dpi default); else the file (our JSON description, then
  ImageJ's unit and resolution, then the TIFF resolution tags, then the
  coordinate headers of a text matrix when they state a unit, or the HDF5
  attributes / axes described below); else ``None``
  with a :class:`PixelSizeWarning` (lengths are then in pixels).
  ``XRFMap.metadata["pixel_size_source"]`` records which one was used.
* Input files are opened read-only and never modified; :func:`save_map`
  refuses to write over its ``source`` or over any file :func:`load_map` has
  read in this session (except maps :func:`save_map` itself wrote, so a
  result can be re-saved), and writes atomically (temporary file in the same
  folder, then :func:`os.replace`).
* Every problem with a file raises :class:`MapFileError` (a
  :class:`ValueError`; the missing-file case is also a
  :class:`FileNotFoundError`) whose message is ``"<path>: <reason>"``.

Text matrices
-------------
* Lines that are empty or start with ``#`` are skipped.  UTF-8 (with or
  without BOM), else Latin-1.
* Delimiter: tab if every sampled line has one, else ``;``, else ``,``,
  else runs of whitespace.  With ``;``, tab or whitespace delimiters a decimal
  comma (``1,5``) is read as a decimal point.  A delimiter ending every line
  is ignored.
* Every row must have the same number of cells (ragged rows raise, naming
  the line).  Empty, non-numeric, NaN and infinite cells raise, naming the
  line and column.
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

  Pass ``header="none" | "row" | "column" | "both"`` to override.  What was
  stripped is in ``metadata["header"]``; numeric coordinates in
  ``metadata["x_coordinates"]`` / ``["y_coordinates"]``.  If the header text
  names a unit (``um``, ``µm``, ``micron``, ``mm``, ``nm``) the coordinate
  step gives the pixel size.

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "fe.csv").write_text("Y\\X,0,5,10\n0,1,2,3\n5,4,5,6\n")
>>> m = load_map(d / "fe.csv", pixel_size_um=5.0)
>>> m.data.shape, m.metadata["header"]
((2, 3), 'both')
>>> out = save_map(d / "fe_rl.tif", m.data, pixel_size_um=5.0, method="richardson_lucy",
...                parameters={"num_iter": 30}, source=m)
>>> back = load_map(out)
>>> back.metadata["method"], back.pixel_size_um
('richardson_lucy', 5.0)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import numbers
import os
import pathlib
import posixpath
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

__all__ = ["XRFMap", "load_map", "save_map", "MapFileError", "MapFileNotFoundError",
           "PixelSizeWarning", "MAP_FORMAT", "READ_EXTENSIONS", "WRITE_EXTENSIONS",
           "HDF5_DATASET", "build_provenance"]

#: ``format`` key of the JSON description that :func:`save_map` writes.
MAP_FORMAT = "superres_widgets.map"
_FORMAT_VERSION = 1

_TIFF = (".tif", ".tiff")
_NPY = (".npy",)
_TEXT = (".csv", ".tsv", ".txt", ".dat")
_HDF5 = (".h5", ".hdf5", ".nxs")
_HDF5_WRITE = (".h5", ".hdf5")
#: Extensions :func:`load_map` reads.
READ_EXTENSIONS = _TIFF + _NPY + _TEXT + _HDF5
#: Extensions :func:`save_map` writes.
WRITE_EXTENSIONS = _TIFF + _HDF5_WRITE
#: Dataset :func:`save_map` writes in HDF5 files.
HDF5_DATASET = "/restored"

PathLike = Union[str, os.PathLike]

# realpaths of the raw files load_map has read in this session (not maps
# save_map wrote): save_map never writes over them ("never modify the input").
_READ_FILES: set = set()


class MapFileError(ValueError):
    """A map file cannot be read or written; ``str()`` is ``"<path>: <reason>"``.

    Attributes
    ----------
    path : pathlib.Path
    reason : str
    """

    def __init__(self, path: PathLike, reason: str):
        self.path = pathlib.Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class MapFileNotFoundError(MapFileError, FileNotFoundError):
    """The map file does not exist (also a :class:`FileNotFoundError`)."""


class PixelSizeWarning(UserWarning):
    """The pixel size is unknown, or the argument overrides a different one in the file."""


@dataclass
class XRFMap:
    """A map read by :func:`load_map`.

    Attributes
    ----------
    data : ndarray of float64
        ``(rows, cols)``, or ``(channels, rows, cols)`` for a stack.
    pixel_size_um : float or None
        Pixel size (scan step), um; ``None`` when unknown (lengths in pixels).
    source : pathlib.Path or None
        The file read.
    metadata : dict
        What the file said: ``file_format``, ``pixel_size_source``, the JSON
        description's keys for maps written by :func:`save_map` (``method``,
        ``parameters``, ``psf``, ``iterations``, ...), ``channels`` for
        stacks, ``dataset`` for HDF5 files, the header handling and
        coordinates of text matrices.
    """

    data: np.ndarray
    pixel_size_um: Optional[float]
    source: Optional[pathlib.Path] = None
    metadata: Dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self):
        return self.data.shape

    @property
    def channels(self) -> Optional[List[str]]:
        """Channel names of a stack (``None`` for a single map)."""
        return self.metadata.get("channels")

    def channel(self, which: Union[int, str]) -> "XRFMap":
        """One channel of a stack, by index or name, as a 2-D :class:`XRFMap`."""
        data, name = _select_channel(self.source or "<map>", self.data, self.channels, which)
        meta = dict(self.metadata, channel=name)
        meta.pop("channels", None)
        return XRFMap(data, self.pixel_size_um, self.source, meta)

    def __repr__(self) -> str:  # short: the data can be large
        p = "unknown" if self.pixel_size_um is None else f"{self.pixel_size_um:g} um"
        extra = ""
        if self.channels:
            extra = f", channels={self.channels}"
        if self.metadata.get("method"):
            extra += f", method={self.metadata['method']!r}"
        return (f"XRFMap(shape={self.data.shape}, pixel_size={p} "
                f"[{self.metadata.get('pixel_size_source')}], source={str(self.source)!r}{extra})")


# ----------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------

def load_map(path: PathLike, *, pixel_size_um: Optional[float] = None,
             channel: Optional[Union[int, str]] = None, dataset: Optional[str] = None,
             header: str = "auto") -> XRFMap:
    """Read a map from TIFF, NPY, a CSV/TXT matrix or HDF5, with its pixel size.

    Parameters
    ----------
    path : str or path-like
        ``.tif``/``.tiff``, ``.npy``, a text matrix ``.csv``/``.tsv``/
        ``.txt``/``.dat``, or ``.h5``/``.hdf5``/``.nxs``.  Opened read-only;
        never modified.
    pixel_size_um : float, optional
        Pixel size (scan step) in um.  Overrides the file's (a
        :class:`PixelSizeWarning` says so when they differ); needed when the
        file has none.
    channel : int or str, optional
        For a stack: the channel to return (index, or name when the file
        names its channels).  ``None`` returns the whole stack.
    dataset : str, optional
        HDF5 only: path of the dataset inside the file (e.g.
        ``"/xrf/maps"``).  Default: see "HDF5 / NeXus" in the module
        docstring.
    header : {"auto", "none", "row", "column", "both"}
        Header handling of text matrices (see the module docstring).

    Returns
    -------
    XRFMap
        ``data`` as float64.

    Raises
    ------
    MapFileError
        ``"<path>: <reason>"``: missing file (:class:`MapFileNotFoundError`),
        unsupported extension, unreadable/truncated file, not 2-D, RGB,
        ragged rows, non-numeric/empty/NaN/inf cells, bad channel, wrong or
        ambiguous HDF5 dataset, ``dataset=`` for a non-HDF5 file.
    """
    p = pathlib.Path(os.fspath(path)).expanduser()
    if pixel_size_um is not None:
        pixel_size_um = _check_pixel_size(pixel_size_um)
    if header not in ("auto", "none", "row", "column", "both"):
        raise ValueError(f"header must be 'auto', 'none', 'row', 'column' or 'both', got {header!r}")
    ext = p.suffix.lower()
    if ext not in READ_EXTENSIONS:
        raise MapFileError(p, f"unsupported file type {p.suffix or '(no extension)'!r}; "
                              f"load_map reads {', '.join(READ_EXTENSIONS)}")
    if not p.exists():
        raise MapFileNotFoundError(p, "no such file")
    if p.is_dir():
        raise MapFileError(p, "is a directory, not a map file")
    if not os.access(p, os.R_OK):
        raise MapFileError(p, "permission denied (cannot read)")
    if dataset is not None and ext not in _HDF5:
        raise MapFileError(p, f"dataset={dataset!r} applies to HDF5 files only "
                              f"({', '.join(_HDF5)})")

    if ext in _HDF5:
        data, file_px, meta = _read_hdf5(p, dataset)
    elif ext in _TIFF:
        data, file_px, meta = _read_tiff(p)
    elif ext in _NPY:
        data, file_px, meta = _read_npy(p)
    else:
        data, file_px, meta = _read_text(p, header)
    if meta.get("written_by") != MAP_FORMAT:  # a raw input: save_map never writes over it
        _READ_FILES.add(os.path.realpath(p))

    data = _check_map_array(p, data)
    if data.ndim == 3:
        meta.setdefault("channels", [str(i) for i in range(data.shape[0])])
        if len(meta["channels"]) != data.shape[0]:
            meta["channels"] = [str(i) for i in range(data.shape[0])]
        if channel is not None:
            data, name = _select_channel(p, data, meta["channels"], channel)
            meta["channel"] = name
            meta.pop("channels")
    elif channel is not None:
        raise MapFileError(p, f"channel={channel!r} given but the file holds a single 2-D map")

    # pixel size: argument > file > None (documented in the module docstring)
    if pixel_size_um is not None:
        if file_px is not None and not math.isclose(file_px, pixel_size_um, rel_tol=1e-6):
            warnings.warn(f"{p}: pixel_size_um={pixel_size_um:g} overrides the file's "
                          f"{file_px:g} um (from {meta.get('pixel_size_source')})",
                          PixelSizeWarning, stacklevel=2)
            meta["file_pixel_size_um"] = file_px
        px, meta["pixel_size_source"] = pixel_size_um, "argument"
    elif file_px is not None:
        px = file_px
    else:
        px = None
        meta["pixel_size_source"] = None
        hint = ""
        if "coordinate_step" in meta:
            hint = (f" (its coordinate headers step by {meta['coordinate_step']:g} in an unstated "
                    "unit)")
        warnings.warn(f"{p}: no pixel size in the file{hint} and none given; lengths will be in "
                      "pixels -- pass pixel_size_um=", PixelSizeWarning, stacklevel=2)
    return XRFMap(data=data, pixel_size_um=px, source=p, metadata=meta)


def _check_pixel_size(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"pixel_size_um must be a positive number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"pixel_size_um must be a positive number, got {value!r}")
    return value


def _check_map_array(p: pathlib.Path, arr: np.ndarray) -> np.ndarray:
    if arr.dtype == object or arr.dtype.fields is not None or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise MapFileError(p, f"holds {arr.dtype} values, not numbers")
    if np.iscomplexobj(arr):
        raise MapFileError(p, f"holds complex values ({arr.dtype}); a map must be real")
    if arr.ndim not in (2, 3):
        raise MapFileError(p, f"holds a {arr.ndim}-D array of shape {arr.shape}; a map must be "
                              "2-D (rows, cols) or a 3-D stack (channels, rows, cols)")
    if min(arr.shape[-2:]) < 2 or arr.size == 0:
        raise MapFileError(p, f"holds an array of shape {arr.shape}; a map needs at least 2 x 2 "
                              "values")
    data = np.array(arr, dtype=np.float64)  # a copy, float64
    bad = ~np.isfinite(data)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ("row %d, col %d" % idx[-2:]) if data.ndim == 2 else (
            "channel %d, row %d, col %d" % idx)
        raise MapFileError(p, f"contains {int(bad.sum())} NaN or infinite value(s) "
                              f"(first at {where}); a map must be finite")
    return data


def _select_channel(p, data, names, which):
    if data.ndim != 3:
        raise MapFileError(p, "is not a stack of channels")
    names = list(names or [str(i) for i in range(data.shape[0])])
    if isinstance(which, str) and not which.lstrip("-").isdigit():
        if which not in names:
            raise MapFileError(p, f"has no channel {which!r}; channels: {names}")
        i = names.index(which)
    else:
        try:
            i = int(which)
        except (TypeError, ValueError):
            raise MapFileError(p, f"channel must be an index or a name, got {which!r}") from None
        if not -data.shape[0] <= i < data.shape[0]:
            raise MapFileError(p, f"has {data.shape[0]} channels; channel {i} is out of range")
        i %= data.shape[0]
    return np.array(data[i]), names[i]


# -- TIFF ---------------------------------------------------------------------

_UNIT_UM = {"um": 1.0, "µm": 1.0, "\u03bcm": 1.0, "micron": 1.0, "microns": 1.0,
            "micrometer": 1.0, "micrometre": 1.0, "\\u00b5m": 1.0, "mm": 1e3,
            "millimeter": 1e3, "millimetre": 1e3, "nm": 1e-3, "nanometer": 1e-3,
            "cm": 1e4, "centimeter": 1e4, "inch": 25.4e3, "in": 25.4e3, "m": 1e6}


def _rational(value) -> Optional[float]:
    try:
        if isinstance(value, (tuple, list)):
            num, den = value
            return float(num) / float(den) if den else None
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _read_tiff(p: pathlib.Path):
    import tifffile

    meta: Dict[str, Any] = {"file_format": "tiff"}
    try:
        with tifffile.TiffFile(p) as tif:
            if not tif.series:
                raise MapFileError(p, "TIFF file holds no image")
            series = tif.series[0]
            axes = series.axes
            if "S" in axes and series.shape[axes.index("S")] > 1:
                raise MapFileError(p, f"is a colour (RGB/RGBA, axes {axes!r}) image, not a map "
                                      "of counts; export the element channel as a grey-scale "
                                      "TIFF")
            data = series.asarray()
            page = tif.pages[0]
            description = page.description or ""
            ij = tif.imagej_metadata if tif.is_imagej else None
            tags = {t.name: t.value for t in page.tags.values()
                    if t.name in ("XResolution", "YResolution", "ResolutionUnit", "Software")}
    except MapFileError:
        raise
    except Exception as exc:  # tifffile raises many types for damaged files
        raise MapFileError(p, f"cannot read TIFF ({type(exc).__name__}: {exc}); the file is "
                              "damaged, truncated or not a TIFF") from exc
    data = np.asarray(data)
    if data.ndim > 2:
        data = np.squeeze(data)  # singleton axes (e.g. ImageJ TZCYX with T=Z=1)
        if data.ndim < 2:
            data = np.asarray(data).reshape(series.shape[-2:])
    if "Software" in tags:
        meta["software"] = str(tags["Software"])

    px, source = None, None
    # 1. a JSON description (ours, or anyone's with pixel_size_um)
    desc = _parse_json_description(description)
    if desc is not None:
        if desc.get("format") == MAP_FORMAT:
            meta.update({k: v for k, v in desc.items() if k != "format"})
            meta["written_by"] = MAP_FORMAT
        else:
            meta["description"] = desc
        value = desc.get("pixel_size_um")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            px, source = float(value), "description"
    elif description.strip() and ij is None:
        meta["description"] = description.strip()[:2000]
    # 2. ImageJ: unit + XResolution (pixels per unit)
    xres = _rational(tags.get("XResolution"))
    yres = _rational(tags.get("YResolution"))
    if px is None and ij is not None:
        unit = str(ij.get("unit", "")).strip().lower()
        factor = _UNIT_UM.get(unit)
        if factor is not None and xres:
            px, source = factor / xres, "imagej"
        if ij.get("Labels"):
            meta["channels"] = [str(s) for s in ij["Labels"]]
    # 3. TIFF resolution tags with a physical unit
    if px is None and xres:
        unit = tags.get("ResolutionUnit")
        unit = int(unit) if unit is not None else 2  # TIFF default: inch
        factor = {2: 25.4e3, 3: 1e4, 4: 1e3, 5: 1.0}.get(unit)
        if factor is not None:
            px, source = factor / xres, "resolution"
            if yres and not math.isclose(xres, yres, rel_tol=1e-6):
                meta["pixel_size_v_um"] = factor / yres
                warnings.warn(f"{p}: pixels are not square ({factor / xres:g} x {factor / yres:g} "
                              "um); using the horizontal size", PixelSizeWarning, stacklevel=3)
    if px is not None:
        meta["pixel_size_source"] = source
        px = float(round(px, 12))
    return data, px, meta


def _parse_json_description(text: str) -> Optional[dict]:
    text = (text or "").strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# -- NPY ----------------------------------------------------------------------

def _read_npy(p: pathlib.Path):
    with open(p, "rb") as f:
        magic = f.read(6)
    if magic != b"\x93NUMPY":
        raise MapFileError(p, "not a NumPy .npy file (no .npy header)")
    try:
        data = np.load(p, allow_pickle=False, mmap_mode=None)
    except ValueError as exc:
        msg = str(exc)
        if "allow_pickle" in msg or "Object arrays" in msg:
            reason = ("holds Python objects, which would have to be unpickled; refused "
                      "(allow_pickle=False) -- save the map as a numeric array")
        elif "magic" in msg.lower() or "header" in msg.lower():
            reason = f"not a NumPy .npy file ({msg})"
        else:
            reason = f"truncated or damaged .npy file ({msg})"
        raise MapFileError(p, reason) from exc
    except EOFError as exc:
        raise MapFileError(p, f"truncated or empty .npy file ({exc or 'end of file'})") from exc
    except OSError as exc:
        raise MapFileError(p, f"cannot read ({exc})") from exc
    if not isinstance(data, np.ndarray):  # pragma: no cover - np.load of .npy returns arrays
        raise MapFileError(p, "does not hold a single array")
    return data, None, {"file_format": "npy"}


# -- HDF5 / NeXus -----------------------------------------------------------------

_NAME_KEYS = ("channels", "elements", "names")
_AXIS_NAMES = (("x", "y"), ("x_um", "y_um"), ("samx", "samy"))


def _h5_str(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _h5_str(value[()])
    return str(value)


def _h5_names(value) -> Optional[List[str]]:
    """Channel names from an attribute / dataset value (string array or 'a, b, c')."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or (isinstance(value, np.ndarray) and value.shape == ()):
        text = _h5_str(value).strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
                if isinstance(parsed, list):
                    return [str(v) for v in parsed]
            except ValueError:
                pass
        return [t.strip() for t in text.split(",")] if text else None
    arr = np.asarray(value)
    if arr.ndim != 1:
        return None
    return [_h5_str(v).strip() for v in arr]


def _h5_candidates(f) -> List[tuple]:
    import h5py

    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.ndim in (2, 3) and obj.dtype.kind in "iufb" \
                and min(obj.shape[-2:]) >= 2:
            found.append(("/" + name, obj.shape))
    f.visititems(visit)
    return found


def _h5_all_datasets(f) -> List[str]:
    import h5py

    names = []
    f.visititems(lambda n, o: names.append("/" + n) if isinstance(o, h5py.Dataset) else None)
    return names


def _h5_pixel_size(ds, f, shape) -> tuple:
    """(pixel size in um or None, source, extra metadata) -- the module docstring's rule."""
    import h5py

    places = [ds, ds.parent, f]
    for obj in places:
        v = obj.attrs.get("pixel_size_um")
        if v is not None:
            try:
                v = float(np.asarray(v).ravel()[0])
            except (TypeError, ValueError, IndexError):
                continue
            if math.isfinite(v) and v > 0:
                return v, "hdf5 attribute", {}
    for obj in places:
        v = obj.attrs.get("pixel_size")
        unit = obj.attrs.get("units", obj.attrs.get("unit"))
        if v is not None and unit is not None:
            factor = _UNIT_UM.get(_h5_str(unit).strip().lower())
            try:
                v = float(np.asarray(v).ravel()[0])
            except (TypeError, ValueError, IndexError):
                continue
            if factor is not None and math.isfinite(v) and v > 0:
                return v * factor, "hdf5 attribute", {}
    # NeXus-like axes
    group = ds.parent
    pairs = []
    axes = group.attrs.get("axes")
    if axes is not None:
        names = _h5_names(axes) or []
        if len(names) >= 2:
            pairs.append((names[-1], names[-2]))
    pairs += list(_AXIS_NAMES)
    rows, cols = shape[-2:]
    for xname, yname in pairs:
        for name, n in ((xname, cols), (yname, rows)):
            obj = group.get(name) if name and name != "." else None
            if not isinstance(obj, h5py.Dataset) or obj.ndim != 1 or obj.shape[0] != n \
                    or obj.dtype.kind not in "iuf":
                continue
            unit = obj.attrs.get("units", obj.attrs.get("unit"))
            if unit is not None:
                factor = _UNIT_UM.get(_h5_str(unit).strip().lower())
            elif name.lower().endswith("_um"):
                factor = 1.0
            else:
                factor = None
            step = _even_step(np.asarray(obj[()], dtype=float).tolist())
            if factor is not None and step is not None:
                return abs(step) * factor, "hdf5 axes", {"axis_dataset": obj.name}
    return None, None, {}


def _read_hdf5(p: pathlib.Path, dataset: Optional[str]):
    import h5py

    meta: Dict[str, Any] = {"file_format": "hdf5"}
    try:
        f = h5py.File(p, "r")
    except Exception as exc:  # h5py raises OSError for damaged / truncated / non-HDF5 files
        raise MapFileError(p, f"cannot read HDF5 ({type(exc).__name__}: {exc}); the file is "
                              "damaged, truncated or not an HDF5 file") from exc
    try:
        with f:
            ours = _h5_str(f.attrs.get("format", "")) == MAP_FORMAT
            if dataset is not None:
                path = dataset if dataset.startswith("/") else "/" + dataset
                obj = f.get(path)
                if not isinstance(obj, h5py.Dataset):
                    avail = ", ".join(_h5_all_datasets(f)[:20]) or "none"
                    what = "no dataset" if obj is None else "not a dataset (a group):"
                    raise MapFileError(p, f"{what} '{dataset}' (available: {avail})")
            else:
                cands = _h5_candidates(f)
                if ours and isinstance(f.get(HDF5_DATASET), h5py.Dataset):
                    path = HDF5_DATASET
                elif len(cands) == 1:
                    path = cands[0][0]
                elif not cands:
                    avail = ", ".join(_h5_all_datasets(f)[:20]) or "none"
                    raise MapFileError(p, "holds no numeric 2-D or 3-D dataset (available: "
                                          f"{avail})")
                else:
                    listing = ", ".join(f"'{n}' {tuple(s)}" for n, s in cands[:20])
                    raise MapFileError(p, f"holds {len(cands)} candidate datasets; choose one "
                                          f"with dataset= (available: {listing})")
            ds = f[path]
            meta["dataset"] = path
            if ds.dtype.kind not in "iufb":
                raise MapFileError(p, f"dataset '{path}' holds {ds.dtype} values, not numbers")
            try:
                data = ds[()]
            except Exception as exc:
                raise MapFileError(p, f"cannot read dataset '{path}' ({type(exc).__name__}: "
                                      f"{exc}); the file is damaged or truncated") from exc
            data = np.asarray(data)
            # provenance of maps save_map wrote
            desc = _parse_json_description(_h5_str(ds.attrs.get("provenance", "")))
            px, source = None, None
            if desc is not None and desc.get("format") == MAP_FORMAT:
                meta.update({k: v for k, v in desc.items() if k != "format"})
                meta["written_by"] = MAP_FORMAT
                value = desc.get("pixel_size_um")
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                    px, source = float(value), "description"
            # channel names
            if data.ndim == 3:
                names = None
                for key in _NAME_KEYS:
                    if key in ds.attrs:
                        names = _h5_names(ds.attrs[key])
                        if names:
                            break
                if not names:
                    for key in _NAME_KEYS:
                        sib = ds.parent.get(key)
                        if isinstance(sib, h5py.Dataset) and sib.ndim == 1 and sib.dtype.kind in "SOU":
                            names = _h5_names(sib[()])
                            break
                if names and len(names) == data.shape[0]:
                    meta["channels"] = names
            if px is None:
                px, source, extra = _h5_pixel_size(ds, f, data.shape)
                meta.update(extra)
    except MapFileError:
        raise
    except Exception as exc:
        raise MapFileError(p, f"cannot read HDF5 ({type(exc).__name__}: {exc}); the file is "
                              "damaged or truncated") from exc
    if px is not None:
        meta["pixel_size_source"] = source
        px = float(round(px, 12))
    return data, px, meta


# -- text matrices --------------------------------------------------------------

_DEC_COMMA = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")
_PLAIN_NUM = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_UNIT_RE = re.compile(r"(?:\(|\[|\s|^|_)(µm|\u03bcm|um|micron|microns|mm|nm)(?:\)|\]|\s|$|_)",
                      re.IGNORECASE)


def _read_text(p: pathlib.Path, header: str):
    raw = p.read_bytes()
    if b"\x00" in raw[:4096]:
        raise MapFileError(p, "is a binary file, not a text matrix")
    try:
        text = raw.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        encoding = "latin-1"
    lines = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())]
    lines = [(n, ln) for n, ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise MapFileError(p, "is empty (no data lines)")

    delim, dec_comma = _sniff_delimiter([ln for _, ln in lines[:20]])
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
    rows = [(n, [c[1:-1].strip() if len(c) >= 2 and c[0] == c[-1] and c[0] in "\"'" else c
                 for c in cells]) for n, cells in rows]

    widths = [len(c) for _, c in rows]
    body_w = max(set(widths[1:] or widths), key=(widths[1:] or widths).count)
    short_header = (len(rows) >= 3 and widths[0] == body_w - 1
                    and all(w == body_w for w in widths[1:]))
    if not short_header:
        mode_w = max(set(widths), key=widths.count)
        for (n, cells), w in zip(rows, widths):
            if w != mode_w:
                raise MapFileError(p, f"line {n} has {w} value(s) but most lines have {mode_w} "
                                      "(ragged rows)")

    hrow, hcol = _detect_header(rows, header, short_header, p)
    meta: Dict[str, Any] = {"file_format": "text", "delimiter": {None: "whitespace"}.get(delim, delim),
                            "decimal_comma": dec_comma, "encoding": encoding,
                            "header": {(False, False): "none", (True, False): "row",
                                       (False, True): "column", (True, True): "both"}[(hrow, hcol)]}
    head_text = []
    x_coords = y_coords = None
    if hrow:
        n0, first = rows[0]
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
    col_offset = 1 if hcol else 0  # file column of data column 0, minus one

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
    bad = ~np.isfinite(data)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise MapFileError(p, f"line {rows[r][0]}, column {c + 1 + col_offset}: "
                              f"{rows[r][1][c]!r} is not a finite number (NaN/inf cells are "
                              "not allowed in a map)")

    # pixel size from coordinate headers stating a unit
    px = None
    step = _even_step(x_coords) or _even_step(y_coords)
    if step is not None:
        meta["coordinate_step"] = abs(step)
        factor = None
        for t in head_text:
            m = _UNIT_RE.search(t)
            if m:
                factor = _UNIT_UM.get(m.group(1).lower().replace("\u03bc", "µ"))
                if factor is not None:
                    break
        if factor is not None:
            px = abs(step) * factor
            meta["pixel_size_source"] = "coordinates"
            ys = _even_step(y_coords)
            if ys is not None and not math.isclose(abs(ys), abs(step), rel_tol=1e-2):
                meta["pixel_size_v_um"] = abs(ys) * factor
    return data, px, meta


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


def _even_step(values) -> Optional[float]:
    """Common step of a strictly monotonic, evenly spaced sequence (>= 3 values), else None."""
    if values is None or len(values) < 3:
        return None
    d = np.diff(np.asarray(values, dtype=float))
    if not np.all(np.isfinite(d)) or np.any(d == 0) or not (np.all(d > 0) or np.all(d < 0)):
        return None
    mean = float(d.mean())
    if np.max(np.abs(d - mean)) > 1e-2 * abs(mean):
        return None
    return mean


def _detect_header(rows, header: str, short_header: bool, p):
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
            labelled_corner and _even_step(_numbers_or_none(col0_body)) is not None)
        return True, hcol
    x_even = _even_step(_numbers_or_none(first[1:])) is not None
    y_even = _even_step(_numbers_or_none(col0_body)) is not None
    if x_even and y_even and len(rows) >= 3:
        return True, True
    if _even_step(_numbers_or_none(first)) is not None and len(rows) >= 2:
        return True, any(_is_text(c) for c in col0_body)
    # a bare Y column: text labels, or >= 5 evenly spaced values (data rarely are)
    hcol = any(_is_text(c) for c in col0_all) or (
        len(col0_all) >= 5 and _even_step(_numbers_or_none(col0_all)) is not None)
    return False, hcol


# ----------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------

def _jsonable(value, where: str):
    """Convert numpy scalars/arrays, tuples, paths to JSON types; refuse the rest."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v):
            return str(v)  # JSON has no NaN; keep it readable
        return v
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, np.ndarray):
        if value.size > 100_000:
            raise ValueError(f"{where} is an array of {value.size} values; too large for the "
                             "metadata (save it separately)")
        return _jsonable(value.tolist(), where)
    if isinstance(value, dict):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise ValueError(f"{where} of type {type(value).__name__} cannot be stored as JSON metadata")


def _sha256(path: pathlib.Path) -> Optional[str]:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def build_provenance(*, method: str, parameters: Optional[dict] = None,
                     pixel_size_um: Optional[float] = None, shape: Sequence[int] = (),
                     source: Optional[Union[PathLike, XRFMap]] = None,
                     channels: Optional[Sequence[str]] = None,
                     extra: Optional[dict] = None, where: str = "save_map") -> Dict[str, Any]:
    """The provenance record :func:`save_map` writes (TIFF description and HDF5 attribute).

    Parameters
    ----------
    method : str
        How the map was made (e.g. ``"richardson_lucy"``).
    parameters : dict, optional
        The method's parameters; ``num_iter`` gives ``iterations`` and
        ``psf_sigma_um`` / ``psf_sigma_px`` / ``psf_shape`` give ``psf``.
    pixel_size_um : float or None
        Pixel size, um.
    shape : sequence of int
        Shape of the data written, ``(rows, cols)`` or ``(channels, rows, cols)``.
    source : path-like or XRFMap, optional
        The input map: its path, SHA-256 (of the file bytes, read-only),
        HDF5 dataset and pixel-size source are recorded.
    channels : sequence of str, optional
        Channel names.
    extra : dict, optional
        Keys added to (or overriding) the record, e.g. ``{"psf": {"sigma_um":
        [3.0, 4.0], "shape": [25, 25]}, "iterations": 30}``; ``format`` and
        ``format_version`` cannot be overridden.
    where : str
        Prefix of error messages.

    Returns
    -------
    dict
        JSON-compatible; the keys are listed in the module docstring.
    """
    from . import __version__

    src_path, src_meta = None, {}
    if isinstance(source, XRFMap):
        src_path, src_meta = source.source, source.metadata
    elif source is not None:
        src_path = pathlib.Path(os.fspath(source)).expanduser()
    params = _jsonable(dict(parameters or {}), "parameters")
    psf = {}
    for key, name in (("psf_sigma_um", "sigma_um"), ("psf_sigma_px", "sigma_px"),
                      ("psf_shape", "shape"), ("psf_sigma", "sigma")):
        if key in params:
            psf[name] = params[key]
    iterations = params.get("num_iter")
    desc = {
        "format": MAP_FORMAT,
        "format_version": _FORMAT_VERSION,
        "superres_widgets_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "method": method,
        "parameters": params,
        "iterations": iterations if isinstance(iterations, int) else None,
        "psf": psf or None,
        "pixel_size_um": pixel_size_um,
        "shape": [int(n) for n in shape],
        "dtype": "float32",
        "source_file": None if src_path is None else os.fspath(src_path),
        "source_sha256": None if src_path is None else _sha256(pathlib.Path(src_path)),
    }
    if src_meta.get("dataset") is not None:
        desc["source_dataset"] = src_meta["dataset"]
    if src_meta.get("pixel_size_source") is not None:
        desc["source_pixel_size_source"] = src_meta["pixel_size_source"]
    if channels is not None:
        desc["channels"] = [str(c) for c in channels]
    if extra:
        for k, v in _jsonable(dict(extra), "provenance").items():
            if k not in ("format", "format_version"):
                desc[k] = v
    return desc


def _write_tiff(tmp: str, arr32: np.ndarray, desc: dict, pixel_size_um: Optional[float]) -> None:
    """Write the TIFF to ``tmp`` (the temporary file; :func:`save_map` renames it)."""
    import tifffile

    from . import __version__

    kwargs = dict(description=json.dumps(desc, ensure_ascii=True), metadata=None,
                  photometric="minisblack", software=f"superres_widgets {__version__}")
    if pixel_size_um is not None:
        per_cm = 1e4 / pixel_size_um
        kwargs.update(resolution=(per_cm, per_cm), resolutionunit="CENTIMETER")
    tifffile.imwrite(tmp, arr32, **kwargs)


def _write_hdf5(tmp: str, arr32: np.ndarray, desc: dict, pixel_size_um: Optional[float],
                dataset: str = HDF5_DATASET) -> None:
    """Write the HDF5 file to ``tmp`` (the temporary file; :func:`save_map` renames it)."""
    import h5py

    text = json.dumps(desc, ensure_ascii=True)
    str_t = h5py.string_dtype("utf-8")
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = MAP_FORMAT
        f.attrs["provenance"] = text
        chunks = None
        if arr32.size > 1 << 20:
            chunks = (1,) * (arr32.ndim - 2) + tuple(min(n, 512) for n in arr32.shape[-2:])
        ds = f.create_dataset(dataset, data=arr32, chunks=chunks)
        ds.attrs["provenance"] = text
        ds.attrs["units"] = "um"
        if pixel_size_um is not None:
            ds.attrs["pixel_size_um"] = float(pixel_size_um)
        if arr32.ndim == 3:
            ds.attrs["axes"] = np.array(["channel", "row", "col"], dtype=object).astype(str_t)
        channels = desc.get("channels")
        if channels is not None:
            names = np.array(channels, dtype=object)
            ds.attrs.create("channels", names, dtype=str_t)
            f.create_dataset(posixpath.join(posixpath.dirname(dataset), "channels"),
                             data=names, dtype=str_t)


def save_map(path: PathLike, data, *, pixel_size_um: Optional[float], method: str,
             parameters: Optional[dict] = None, source: Optional[Union[PathLike, XRFMap]] = None,
             channels: Optional[Sequence[str]] = None, overwrite: bool = True,
             provenance: Optional[dict] = None) -> pathlib.Path:
    """Write a (restored) map or stack to a float32 TIFF or HDF5 file with its provenance.

    Parameters
    ----------
    path : str or path-like
        Output ``.tif``/``.tiff`` or ``.h5``/``.hdf5`` file.
    data : array_like
        ``(rows, cols)`` map, or ``(channels, rows, cols)`` stack; finite.
    pixel_size_um : float or None
        Pixel size, um (written to the provenance, to the TIFF resolution
        tags in pixels per centimetre, to the HDF5 ``pixel_size_um``
        attribute).  ``None`` if unknown.
    method : str
        How the map was made (e.g. ``"richardson_lucy"``).
    parameters : dict, optional
        The method's parameters (numpy values and small arrays are converted).
    source : path-like or XRFMap, optional
        The input map: recorded with its SHA-256, and never overwritten.
    channels : sequence of str, optional
        Channel names of a stack (default: the source's, for a stack).
    overwrite : bool
        Replace an existing (non-input) file at ``path``.
    provenance : dict, optional
        Extra provenance keys (e.g. ``psf``, ``iterations``, ``scheduler``);
        see :func:`build_provenance`.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        ``path`` is the source or a file :func:`load_map` read in this
        session, an unsupported extension, bad data or metadata.
    FileExistsError
        ``path`` exists and ``overwrite=False``.

    Notes
    -----
    TIFF: the ImageDescription is the JSON provenance (keys in the module
    docstring).  HDF5: dataset ``/restored`` with attributes
    ``pixel_size_um``, ``units``, ``channels`` and ``provenance`` (JSON).
    :func:`load_map` reads both back into ``XRFMap.metadata``.  The file is
    written to a temporary file in the same folder and moved into place with
    :func:`os.replace`, so a reader never sees a partial file and a failed
    write leaves the previous file (if any) intact and no temporary file.
    """
    out = pathlib.Path(os.fspath(path)).expanduser()
    ext = out.suffix.lower()
    if ext not in WRITE_EXTENSIONS:
        raise ValueError(f"{out}: save_map writes TIFF files (.tif, .tiff) or HDF5 files "
                         f"(.h5, .hdf5); unsupported extension {out.suffix or '(none)'!r}")
    if not isinstance(method, str) or not method.strip():
        raise ValueError(f"{out}: method must be a non-empty string, got {method!r}")
    if pixel_size_um is not None:
        pixel_size_um = _check_pixel_size(pixel_size_um)
    src_path = None
    if isinstance(source, XRFMap):
        src_path = source.source
        if channels is None and source.channels and np.ndim(data) == 3:
            channels = source.channels
    elif source is not None:
        src_path = pathlib.Path(os.fspath(source)).expanduser()
    real_out = os.path.realpath(out)
    protected = set(_READ_FILES)
    if src_path is not None:
        protected.add(os.path.realpath(src_path))
    same = real_out in protected
    if not same and out.exists() and src_path is not None and pathlib.Path(src_path).exists():
        try:
            same = os.path.samefile(out, src_path)
        except OSError:
            pass
    if same:
        raise ValueError(f"{out}: refusing to overwrite an input map (load_map read it, or it is "
                         "the source); choose another file name")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out}: file exists (pass overwrite=True to replace it)")
    if out.is_dir():
        raise ValueError(f"{out}: is a directory")

    arr = np.asarray(data)
    if arr.dtype == object or np.iscomplexobj(arr) or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{out}: data must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ValueError(f"{out}: data must be 2-D (rows, cols) or 3-D (channels, rows, cols), "
                         f"got shape {arr.shape}")
    arr32 = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(arr32)):
        raise ValueError(f"{out}: data contains NaN or inf (or values beyond float32)")
    if channels is not None:
        channels = [str(c) for c in channels]
        if arr.ndim != 3 or len(channels) != arr.shape[0]:
            raise ValueError(f"{out}: {len(channels)} channel names for data of shape {arr.shape}")

    try:
        desc = build_provenance(method=method, parameters=parameters, pixel_size_um=pixel_size_um,
                                shape=arr32.shape, source=source, channels=channels,
                                extra=provenance)
    except ValueError as exc:
        raise ValueError(f"{out}: {exc}") from None
    if not out.parent.is_dir():
        raise ValueError(f"{out}: folder {out.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        if ext in _TIFF:
            _write_tiff(tmp, arr32, desc, pixel_size_um)
        else:
            _write_hdf5(tmp, arr32, desc, pixel_size_um)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return out
