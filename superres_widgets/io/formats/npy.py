r"""NumPy ``.npy`` arrays: reader ``"npy"``.

* :func:`numpy.load` with ``allow_pickle=False``: a file holding Python
  objects is refused, never unpickled.
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

import pathlib

import numpy as np

from .._common import MapFileError, XRFMap
from ..registry import Reader

__all__ = ["read_npy", "READERS"]


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
