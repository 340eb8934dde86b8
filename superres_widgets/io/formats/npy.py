r"""NumPy ``.npy`` arrays: reader ``"npy"``.

* :func:`numpy.load` with ``allow_pickle=False``: a file holding Python
  objects is refused, never unpickled.
* The header is read first: a non-numeric dtype, a shape that is not 2-D or
  3-D, a shape the file is too short to hold (truncated, or a lying header)
  or one beyond the memory budget is refused before any data is read.
* 2-D is a map ``(rows, cols)``, 3-D a stack ``(channels, rows, cols)``.
* An ``.npy`` file has no pixel size: pass ``pixel_size_um=`` (um) to
  :func:`~superres_widgets.io.load_map`.

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> f = pathlib.Path(tempfile.mkdtemp()) / "fe.npy"
>>> np.save(f, np.arange(6).reshape(2, 3))
>>> m = read_npy(f)
>>> m.data.shape, m.pixel_size_um
((2, 3), None)
"""

from __future__ import annotations

import os
import pathlib

import numpy as np

from .._common import MapFileError, XRFMap, check_payload
from ..registry import Reader

__all__ = ["read_npy", "READERS"]


def _check_header(p: pathlib.Path, f) -> None:
    """Refuse before reading: object arrays, non-numbers, and a declared shape the file or the budget cannot hold."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, _fortran, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _fortran, dtype = fmt.read_array_header_2_0(f)
        else:  # 3.0 (utf-8 field names): numpy's own reader
            shape, _fortran, dtype = fmt._read_array_header(f, version)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise MapFileError(p, f"not a NumPy .npy file (bad header: {' '.join(str(exc).split())[:200]})") from None
    if dtype.hasobject:
        raise MapFileError(p, "holds Python objects, which would have to be unpickled; refused "
                              "(allow_pickle=False) -- save the map as a numeric array")
    if dtype.kind == "c":
        raise MapFileError(p, f"holds complex values ({dtype}); a map must be real")
    if dtype.kind not in "biuf" or dtype.fields is not None:
        raise MapFileError(p, f"holds {dtype} values, not numbers")
    if len(shape) not in (2, 3):
        raise MapFileError(p, f"holds a {len(shape)}-D array of shape {shape}; a map must be 2-D (rows, "
                              "cols) or a 3-D stack (channels, rows, cols)")
    try:
        check_payload(p, shape, dtype, what="its header", file_bytes=os.fstat(f.fileno()).st_size - f.tell())
    except MapFileError as exc:
        if not exc.reason.endswith("header lies"):
            raise
        raise MapFileError(p, f"truncated or damaged .npy file ({exc.reason.rpartition(';')[0]}; or its "
                              "header lies)") from None


def read_npy(path: pathlib.Path) -> XRFMap:
    """Read a ``.npy`` array without unpickling anything.

    Parameters
    ----------
    path : pathlib.Path
        An existing ``.npy`` file.

    Returns
    -------
    XRFMap
        The array as stored; ``pixel_size_um`` is ``None``.

    Raises
    ------
    MapFileError
        Not an ``.npy`` file, truncated, or holding Python objects.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "o.npy"
    >>> np.save(f, np.array([None, {}]), allow_pickle=True)
    >>> read_npy(f)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    superres_widgets.io._common.MapFileError: .../o.npy: holds Python objects, ...
    """
    p = path
    with open(p, "rb") as f:
        magic = f.read(6)
        if magic != b"\x93NUMPY":
            raise MapFileError(p, "not a NumPy .npy file (no .npy header)")
        f.seek(0)
        _check_header(p, f)
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
    return XRFMap(data, None, p, {"file_format": "npy"})


READERS = (Reader("npy", ".npy", read_npy, label="NumPy .npy",
                  description="NumPy array (allow_pickle=False); no pixel size in the file"),)
