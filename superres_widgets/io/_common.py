r"""What every reader and writer of :mod:`superres_widgets.io` shares.

* :class:`XRFMap` -- the one thing a reader returns.
* :class:`MapFileError` / :class:`MapFileNotFoundError` -- every problem with
  a file; ``str()`` is ``"<path>: <reason>"``.
* :class:`PixelSizeWarning` -- the pixel size is unknown or overridden;
  :class:`MapFileWarning` -- a file was read but part of it looks wrong
  (e.g. an HDF5 dataset with unwritten chunks).
* The guards every reader and writer uses (:func:`check_input_file`,
  :func:`check_payload`, :func:`write_file_bytes`, :func:`output_mode`):
  regular files only, payloads declared by a header checked against the
  file's real size and the memory budget
  (:func:`superres_widgets.validate.check_bytes`), writes that fail with
  ``"<output>: <reason>"``.
* Unit names -> micrometres (:data:`UNIT_UM`), the checks that turn what a
  reader found into a map (:func:`check_map_array`, :func:`select_channel`,
  :func:`check_pixel_size`) and two parsing helpers the formats share
  (:func:`parse_json_description`, :func:`even_step`).

Conventions
-----------
* ``data[row, col]`` (``[channel, row, col]`` for stacks); rows run down the
  image (the slow scan axis), columns across (the fast axis).  Float64 after
  loading; counts are never rescaled or clipped.
* Lengths in micrometres (``_um``).  A pixel size is the scan step: the
  distance between neighbouring pixel centres, the same along rows and
  columns unless ``metadata["pixel_size_v_um"]`` says otherwise (then
  ``pixel_size_um`` is the horizontal one).
* A map is at least 2 x 2 values, real and finite.
* Pixel sizes lie in [:data:`MIN_PIXEL_SIZE_UM`, :data:`MAX_PIXEL_SIZE_UM`]
  (0.01 nm to 1 km: beyond that no file format stores them faithfully).
* Text lines are at most :data:`MAX_LINE_BYTES` long.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import pathlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["XRFMap", "MapFileError", "MapFileNotFoundError", "MapFileWriteError", "PixelSizeWarning",
           "MapFileWarning",
           "MAP_FORMAT", "FORMAT_VERSION", "UNIT_UM", "PathLike", "MAX_LINE_BYTES", "MIN_PIXEL_SIZE_UM",
           "MAX_PIXEL_SIZE_UM", "check_pixel_size", "check_map_array", "select_channel",
           "parse_json_description", "even_step", "check_input_file", "check_payload",
           "write_file_bytes", "output_mode"]

#: ``format`` key of the provenance record :func:`~superres_widgets.io.save_map` writes.
MAP_FORMAT = "superres_widgets.map"
#: ``format_version`` of that record.
FORMAT_VERSION = 1

PathLike = str | os.PathLike

#: Longest line a text reader accepts (bytes): a map row longer than this is not a map.
MAX_LINE_BYTES = 4 * 2**20
#: Smallest and largest pixel size (um) a map may have.
MIN_PIXEL_SIZE_UM = 1e-5
MAX_PIXEL_SIZE_UM = 1e9

#: Length unit names (lower case, as files spell them) -> micrometres per unit.
UNIT_UM = {"um": 1.0, "µm": 1.0, "\u03bcm": 1.0, "micron": 1.0, "microns": 1.0,
           "micrometer": 1.0, "micrometre": 1.0, "\\u00b5m": 1.0, "mm": 1e3,
           "millimeter": 1e3, "millimetre": 1e3, "nm": 1e-3, "nanometer": 1e-3,
           "cm": 1e4, "centimeter": 1e4, "inch": 25.4e3, "in": 25.4e3, "m": 1e6}


class MapFileError(ValueError):
    """A map file cannot be read or written; ``str()`` is ``"<path>: <reason>"``.

    Attributes
    ----------
    path : pathlib.Path
    reason : str

    Examples
    --------
    >>> err = MapFileError("scan.h5", "no dataset '/xrf' (available: /maps)")
    >>> str(err), err.reason
    ("scan.h5: no dataset '/xrf' (available: /maps)", "no dataset '/xrf' (available: /maps)")
    """

    def __init__(self, path: PathLike, reason: str):
        self.path = pathlib.Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class MapFileNotFoundError(MapFileError, FileNotFoundError):
    """The map file does not exist (also a :class:`FileNotFoundError`)."""


class MapFileWriteError(MapFileError, OSError):
    """An output could not be written (disk full, I/O error, ...); also an :class:`OSError`."""


class PixelSizeWarning(UserWarning):
    """The pixel size is unknown, or the argument overrides a different one in the file."""


class MapFileWarning(UserWarning):
    """A file was read, but part of it looks wrong (e.g. unwritten HDF5 chunks read as fill value)."""


@dataclass
class XRFMap:
    """A map read by :func:`~superres_widgets.io.load_map` (and what a reader returns).

    Attributes
    ----------
    data : ndarray of float64
        ``(rows, cols)``, or ``(channels, rows, cols)`` for a stack.
    pixel_size_um : float or None
        Pixel size (scan step), um; ``None`` when unknown (lengths in pixels).
    source : pathlib.Path or None
        The file read.
    metadata : dict
        What the file said: ``file_format`` (the reader's name),
        ``pixel_size_source``, the provenance keys of maps written by
        :func:`~superres_widgets.io.save_map` (``method``, ``parameters``,
        ``psf``, ``iterations``, ...), ``channels`` for stacks, ``dataset``
        for HDF5 files, the header handling and coordinates of text matrices.

    Examples
    --------
    >>> import numpy as np
    >>> m = XRFMap(np.zeros((2, 3, 4)), 5.0, None, {"channels": ["Fe", "Ca"]})
    >>> m.shape, m.channel("Ca").shape, m.channel("Ca").metadata["channel"]
    ((2, 3, 4), (3, 4), 'Ca')
    """

    data: np.ndarray
    pixel_size_um: float | None
    source: pathlib.Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self):
        return self.data.shape

    @property
    def mask(self):
        """True where a pixel is masked (NaN in the file, or not acquired), ``(rows, cols)``; None if none is."""
        nan = np.isnan(self.data)
        if not nan.any():
            return None
        return nan if nan.ndim == 2 else nan.any(axis=0)

    @property
    def channels(self) -> list[str] | None:
        """Channel names of a stack (``None`` for a single map)."""
        return self.metadata.get("channels")

    def channel(self, which: int | str) -> XRFMap:
        """One channel of a stack, by index or name, as a 2-D :class:`XRFMap`."""
        data, name = select_channel(self.source or "<map>", self.data, self.channels, which)
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


def check_pixel_size(value, name: str = "pixel_size_um") -> float:
    """``value`` as a float in [:data:`MIN_PIXEL_SIZE_UM`, :data:`MAX_PIXEL_SIZE_UM`] (um), else ``ValueError``.

    Examples
    --------
    >>> check_pixel_size(5)
    5.0
    >>> check_pixel_size(1e-300)
    Traceback (most recent call last):
    ...
    ValueError: pixel_size_um must be a positive number of um in [1e-05, 1e+09], got 1e-300
    """
    bad = isinstance(value, bool) or not isinstance(value, numbers.Real)
    if not bad:
        value = float(value)
        bad = not (math.isfinite(value) and MIN_PIXEL_SIZE_UM <= value <= MAX_PIXEL_SIZE_UM)
    if bad:
        raise ValueError(f"{name} must be a positive number of um in [{MIN_PIXEL_SIZE_UM:g}, "
                         f"{MAX_PIXEL_SIZE_UM:g}], got {value!r}")
    return value


def check_map_array(p: PathLike, arr) -> np.ndarray:
    """A float64 copy of ``arr`` if it is a real, finite 2-D map or 3-D stack, else :class:`MapFileError`.

    Examples
    --------
    >>> check_map_array("m.npy", [[1, 2], [3, 4]]).dtype
    dtype('float64')
    """
    arr = np.asarray(arr)
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
    bad = np.isinf(data)  # NaN is a masked (dead, unmeasured) pixel; inf is never a measurement
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ("row %d, col %d" % idx[-2:]) if data.ndim == 2 else (
            "channel %d, row %d, col %d" % idx)
        raise MapFileError(p, f"contains {int(bad.sum())} infinite value(s) "
                              f"(first at {where}); a map must be finite (NaN marks a masked pixel)")
    if np.isnan(data).all():
        raise MapFileError(p, "holds only NaN values (every pixel masked)")
    return data


def select_channel(p: PathLike, data: np.ndarray, names: Sequence[str] | None,
                   which: int | str):
    """``(data[i], names[i])`` for channel ``which`` (index, negative index or name) of a stack.

    Examples
    --------
    >>> import numpy as np
    >>> select_channel("s.tif", np.arange(8.0).reshape(2, 2, 2), ["Fe", "Ca"], "Ca")[1]
    'Ca'
    """
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


def parse_json_description(text: str) -> dict | None:
    """The JSON object in ``text`` (a TIFF description, an HDF5 attribute), else ``None``.

    Examples
    --------
    >>> parse_json_description('{"pixel_size_um": 5}'), parse_json_description("ImageJ=1.54")
    ({'pixel_size_um': 5}, None)
    """
    text = (text or "").strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def even_step(values) -> float | None:
    """Common step of a strictly monotonic, evenly spaced sequence, else ``None``.

    At least 3 values; every step within 1 % of their mean.

    Examples
    --------
    >>> even_step([0, 5, 10, 15]), even_step([0, 5, 11]), even_step([1, 2])
    (5.0, None, None)
    """
    if values is None or len(values) < 3:
        return None
    d = np.diff(np.asarray(values, dtype=float))
    if not np.all(np.isfinite(d)) or np.any(d == 0) or not (np.all(d > 0) or np.all(d < 0)):
        return None
    mean = float(d.mean())
    if np.max(np.abs(d - mean)) > 1e-2 * abs(mean):
        return None
    return mean


# ---------------------------------------------------------------------------
# guards shared by the readers and writers
# ---------------------------------------------------------------------------
def check_input_file(p: PathLike) -> os.stat_result:
    """``os.stat(p)`` of a readable regular file, else :class:`MapFileError` (FIFOs, devices, folders refused).

    A symbolic link is followed: a link to ``/dev/zero`` is a device.

    Examples
    --------
    >>> check_input_file("/dev/zero")
    Traceback (most recent call last):
    ...
    superres_widgets.io._common.MapFileError: /dev/zero: is a character device, not a regular file
    """
    from ..validate import regular_file_problem

    problem = regular_file_problem(p)
    if problem == "no such file":
        raise MapFileNotFoundError(p, problem)
    if problem == "is a directory, not a file":
        raise MapFileError(p, "is a directory, not a map file")
    if problem is not None:
        raise MapFileError(p, problem)
    if not os.access(p, os.R_OK):
        raise MapFileError(p, "permission denied (cannot read)")
    return os.stat(p)


def check_payload(p: PathLike, shape, dtype, *, what: str = "data", file_bytes: int | None = None,
                  copies: float = 3.0) -> None:
    """Refuse a payload a file header declares, before reading it.

    ``shape`` and ``dtype`` are what the header says; ``file_bytes`` the bytes
    the file really holds for it (uncompressed storage only: a shorter file
    is truncated or its header lies); ``copies`` the float64-sized copies
    loading makes (the array as stored, its float64 copy, the checks).
    Refusals are :class:`MapFileError` naming the file.

    Examples
    --------
    >>> import numpy as np
    >>> check_payload("m.npy", (20000, 20000), np.float64, file_bytes=1000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    superres_widgets.io._common.MapFileError: m.npy: data declares 20000 x 20000 float64 values (2.98 GiB) ...
    """
    import numpy as np

    from ..validate import MemoryBudgetError, check_bytes, format_bytes

    dt = np.dtype(dtype)
    n = 1
    for s in shape:
        n *= int(s)
    stored = n * dt.itemsize
    dims = " x ".join(str(int(s)) for s in shape) or "1"
    if file_bytes is not None and stored > file_bytes:
        raise MapFileError(p, f"{what} declares {dims} {dt.name} values ({format_bytes(stored)}) but the "
                              f"file holds only {format_bytes(file_bytes)} of them; truncated, or its "
                              "header lies")
    try:
        check_bytes(stored + max(copies - 1, 0) * n * 8, f"{what} of {dims} {dt.name} values")
    except MemoryBudgetError as exc:
        raise MapFileError(p, f"reading {exc}") from None


def write_file_bytes(out: PathLike, tmp: PathLike, payload) -> None:
    """Write ``payload`` (bytes-like) to ``tmp``; any failure is :class:`MapFileError` naming ``out``.

    ENOSPC (disk full), EIO, EFBIG (a file-size limit) and friends become
    ``"<out>: cannot write (No space left on device; ... needed)"``.
    """
    view = memoryview(payload)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise MapFileWriteError(out, f"cannot write ({exc.strerror or exc})") from None
    try:
        done = 0
        while done < len(view):
            done += os.write(fd, view[done:done + (1 << 24)])
        os.fsync(fd)
    except OSError as exc:
        from ..validate import format_bytes

        raise MapFileWriteError(out, f"cannot write ({exc.strerror or exc}; {format_bytes(len(view))} "
                                     "needed)") from None
    finally:
        os.close(fd)


_umask_lock = threading.Lock()


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:  # os.umask can only be read by setting it
        old = os.umask(0o022)
        os.umask(old)
    return old


def output_mode(out: PathLike) -> int:
    """Permission bits a new output gets: the replaced file's, else ``0o666`` minus the umask.

    Examples
    --------
    >>> oct(output_mode("/nonexistent/new.tif") & 0o600)
    '0o600'
    """
    import stat

    try:
        return stat.S_IMODE(os.stat(out).st_mode)
    except OSError:
        return 0o666 & ~_umask()
