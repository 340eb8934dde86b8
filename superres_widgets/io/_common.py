r"""What every reader and writer of :mod:`superres_widgets.io` shares.

* :class:`XRFMap` -- the one thing a reader returns.
* :class:`MapFileError` / :class:`MapFileNotFoundError` -- every problem with
  a file; ``str()`` is ``"<path>: <reason>"``.
* :class:`PixelSizeWarning` -- the pixel size is unknown or overridden.
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
"""

from __future__ import annotations

import json
import math
import numbers
import os
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["XRFMap", "MapFileError", "MapFileNotFoundError", "PixelSizeWarning", "MAP_FORMAT",
           "FORMAT_VERSION", "UNIT_UM", "PathLike", "check_pixel_size", "check_map_array",
           "select_channel", "parse_json_description", "even_step"]

#: ``format`` key of the provenance record :func:`~superres_widgets.io.save_map` writes.
MAP_FORMAT = "superres_widgets.map"
#: ``format_version`` of that record.
FORMAT_VERSION = 1

PathLike = str | os.PathLike

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


class PixelSizeWarning(UserWarning):
    """The pixel size is unknown, or the argument overrides a different one in the file."""


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
    """``value`` as a positive finite float (um), else ``ValueError`` naming ``name``.

    Examples
    --------
    >>> check_pixel_size(5)
    5.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
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
    bad = ~np.isfinite(data)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ("row %d, col %d" % idx[-2:]) if data.ndim == 2 else (
            "channel %d, row %d, col %d" % idx)
        raise MapFileError(p, f"contains {int(bad.sum())} NaN or infinite value(s) "
                              f"(first at {where}); a map must be finite")
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
