r"""HDF5 / NeXus maps and stacks: reader ``"hdf5"`` (``.h5 .hdf5 .nxs``) and writer ``"hdf5"`` (``.h5 .hdf5``).

Options ``dataset`` (a path inside the file), passed as
``load_map(path, dataset="/xrf/maps")``, and ``allow_external`` (follow
links into other files; refused by default).  h5py, files opened
read-only.  Hostile or damaged files (external links, unwritten chunks,
truncated storage, sizes beyond the memory budget) are refused before any
data is read: :mod:`superres_widgets.io.formats._hdf5_guards`.

Reading
-------
* Dataset: ``dataset="/group/name"``; a wrong path raises ``MapFileError
  ("<file>: no dataset '<path>' (available: ...)")``.  Without it: the
  dataset :data:`HDF5_DATASET` (``/restored``) of a file
  :func:`~superres_widgets.io.save_map` wrote, else the only numeric 2-D or
  3-D dataset (at least 2 x 2) in the file; several candidates raise an
  error listing them.  3-D is ``(channels, rows, cols)``.
* Channel (element) names, first found: an attribute ``channels``,
  ``elements`` or ``names`` of the dataset (string array, or one string of
  comma-separated names, or a JSON list), else a 1-D string dataset of one of
  those names next to it (same group); used only if there is one name per
  channel.
* Pixel size in um, first found: the provenance record of our own files
  (source ``"description"``); attribute ``pixel_size_um`` of the dataset,
  its group, then the root; else attribute ``pixel_size`` with ``units`` (or
  ``unit``; ``um``, ``µm``, ``mm``, ``nm``, ...) in the same places (source
  ``"hdf5 attribute"``); else NeXus-like axes: the group's ``axes``
  attribute (names of the axis datasets, one per dimension, the last two
  being y and x), or sibling 1-D datasets named ``x``/``y`` (also
  ``x_um``/``y_um``, ``samx``/``samy``), of the column/row count, evenly
  spaced, with a ``units`` attribute (names ending ``_um`` are in um).  The
  step of x (else y) is the pixel size (source ``"hdf5 axes"``;
  ``metadata["axis_dataset"]`` names the axis used).

Writing
-------
float32 dataset ``/restored`` (``(rows, cols)`` or ``(channels, rows,
cols)``; chunked by channel and 512 x 512 tiles above 1 Mi values) with
attributes ``pixel_size_um`` (um), ``units`` (``"um"``), ``axes``
(``channel, row, col`` for stacks), ``channels`` (a string array, stacks
only) and ``provenance`` (the JSON record, as in TIFF); the root group
carries ``format`` and ``provenance`` too, and ``/channels`` holds the names
as a dataset.

Examples
--------
>>> import numpy as np, tempfile, pathlib, h5py
>>> f = pathlib.Path(tempfile.mkdtemp()) / "scan.h5"
>>> with h5py.File(f, "w") as h:
...     ds = h.create_dataset("xrf/maps", data=np.ones((2, 3, 4)))
...     ds.attrs["elements"] = "Fe, Ca"
...     ds.attrs["pixel_size_um"] = 2.5
>>> m = read_hdf5(f)
>>> m.metadata["dataset"], m.metadata["channels"], m.pixel_size_um
('/xrf/maps', ['Fe', 'Ca'], 2.5)
"""

from __future__ import annotations

import json
import math
import pathlib
import posixpath
import uuid
from typing import Any

import numpy as np

from .._common import MAP_FORMAT, UNIT_UM, MapFileError, XRFMap, even_step, parse_json_description
from ._hdf5_guards import check_dataset, data_files, resolve_path
from ..registry import Reader, Writer

__all__ = ["read_hdf5", "write_hdf5", "HDF5_DATASET", "READERS", "WRITERS"]

#: Dataset :func:`~superres_widgets.io.save_map` writes in HDF5 files.
HDF5_DATASET = "/restored"

_NAME_KEYS = ("channels", "elements", "names")
_AXIS_NAMES = (("x", "y"), ("x_um", "y_um"), ("samx", "samy"))


def _h5_str(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _h5_str(value[()])
    return str(value)


def _h5_names(value) -> list[str] | None:
    """Channel names from an attribute / dataset value (string array, 'a, b, c' or a JSON list)."""
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


def _h5_candidates(f) -> list[tuple]:
    import h5py

    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.ndim in (2, 3) and obj.dtype.kind in "iufb" \
                and min(obj.shape[-2:]) >= 2:
            found.append(("/" + name, obj.shape))
    f.visititems(visit)
    return found


def _h5_all_datasets(f) -> list[str]:
    import h5py

    names = []
    f.visititems(lambda n, o: names.append("/" + n) if isinstance(o, h5py.Dataset) else None)
    return names


def _first_float(value) -> float | None:
    try:
        v = float(np.asarray(value).ravel()[0])
    except (TypeError, ValueError, IndexError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def _h5_pixel_size(ds, f, shape) -> tuple:
    """(pixel size in um or None, source, extra metadata) -- the module docstring's rule."""
    import h5py

    places = [ds, ds.parent, f]
    for obj in places:
        v = obj.attrs.get("pixel_size_um")
        if v is not None and _first_float(v) is not None:
            return _first_float(v), "hdf5 attribute", {}
    for obj in places:
        v = obj.attrs.get("pixel_size")
        unit = obj.attrs.get("units", obj.attrs.get("unit"))
        if v is not None and unit is not None:
            factor = UNIT_UM.get(_h5_str(unit).strip().lower())
            if factor is not None and _first_float(v) is not None:
                return _first_float(v) * factor, "hdf5 attribute", {}
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
            hard = bool(name) and name != "." and isinstance(group.get(name, getlink=True), h5py.HardLink)
            obj = group.get(name) if hard else None  # never through a link into another file
            if not isinstance(obj, h5py.Dataset) or obj.ndim != 1 or obj.shape[0] != n \
                    or obj.dtype.kind not in "iuf":
                continue
            unit = obj.attrs.get("units", obj.attrs.get("unit"))
            if unit is not None:
                factor = UNIT_UM.get(_h5_str(unit).strip().lower())
            elif name.lower().endswith("_um"):
                factor = 1.0
            else:
                factor = None
            step = even_step(np.asarray(obj[()], dtype=float).tolist())
            if factor is not None and step is not None:
                return abs(step) * factor, "hdf5 axes", {"axis_dataset": obj.name}
    return None, None, {}


def _choose_dataset(p: pathlib.Path, f, dataset: str | None, allow_external: bool = False) -> str:
    """Path of the dataset to read (the module docstring's rule); MapFileError listing the choices."""
    import h5py

    if dataset is not None:
        path = dataset if dataset.startswith("/") else "/" + dataset
        # link by link, opening nothing: an external link is refused before h5py follows it
        obj = None if resolve_path(p, f, path, allow_external=allow_external) is None else f.get(path)
        if not isinstance(obj, h5py.Dataset):
            avail = ", ".join(_h5_all_datasets(f)[:20]) or "none"
            what = "no dataset" if obj is None else "not a dataset (a group):"
            raise MapFileError(p, f"{what} '{dataset}' (available: {avail})")
        return path
    ours = _h5_str(f.attrs.get("format", "")) == MAP_FORMAT
    if ours and resolve_path(p, f, HDF5_DATASET, allow_external=allow_external) is not None \
            and isinstance(f.get(HDF5_DATASET), h5py.Dataset):
        return HDF5_DATASET
    cands = _h5_candidates(f)
    if len(cands) == 1:
        return cands[0][0]
    if not cands:
        avail = ", ".join(_h5_all_datasets(f)[:20]) or "none"
        raise MapFileError(p, f"holds no numeric 2-D or 3-D dataset (available: {avail})")
    listing = ", ".join(f"'{n}' {tuple(s)}" for n, s in cands[:20])
    raise MapFileError(p, f"holds {len(cands)} candidate datasets; choose one with dataset= "
                          f"(available: {listing})")


def _channel_names(ds, n: int) -> list[str] | None:
    import h5py

    names = None
    for key in _NAME_KEYS:
        if key in ds.attrs:
            names = _h5_names(ds.attrs[key])
            if names:
                break
    if not names:
        for key in _NAME_KEYS:
            hard = isinstance(ds.parent.get(key, getlink=True), h5py.HardLink)
            sib = ds.parent.get(key) if hard else None  # never through a link into another file
            if isinstance(sib, h5py.Dataset) and sib.ndim == 1 and sib.dtype.kind in "SOU" and sib.size <= 4096:
                names = _h5_names(sib[()])
                break
    return names if names and len(names) == n else None


def _read_open(p: pathlib.Path, f, dataset: str | None, meta: dict[str, Any], allow_external: bool = False):
    """(data, pixel size or None, source) from the open file ``f``; fills ``meta``."""
    path = _choose_dataset(p, f, dataset, allow_external)
    ds = f[path]
    meta["dataset"] = path
    if ds.dtype.kind not in "iufb":
        raise MapFileError(p, f"dataset '{path}' holds {ds.dtype} values, not numbers")
    check_dataset(p, ds, path, allow_external=allow_external)  # other files, unwritten chunks, size
    others = data_files(p, ds)
    if others:
        meta["data_files"] = others
    try:
        data = np.asarray(ds[()])
    except Exception as exc:
        raise MapFileError(p, f"cannot read dataset '{path}' ({type(exc).__name__}: "
                              f"{exc}); the file is damaged or truncated") from exc
    px, source = None, None
    desc = parse_json_description(_h5_str(ds.attrs.get("provenance", "")))
    if desc is not None and desc.get("format") == MAP_FORMAT:  # a map save_map wrote
        meta.update({k: v for k, v in desc.items() if k != "format"})
        meta["written_by"] = MAP_FORMAT
        value = desc.get("pixel_size_um")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            px, source = float(value), "description"
    if data.ndim == 3:
        names = _channel_names(ds, data.shape[0])
        if names:
            meta["channels"] = names
    if px is None:
        px, source, extra = _h5_pixel_size(ds, f, data.shape)
        meta.update(extra)
    return data, px, source


def read_hdf5(path: pathlib.Path, dataset: str | None = None, allow_external: bool = False) -> XRFMap:
    """Read one dataset of an HDF5 / NeXus file with channel names and pixel size.

    Parameters
    ----------
    path : pathlib.Path
        An existing ``.h5``/``.hdf5``/``.nxs`` file (opened read-only).
    dataset : str, optional
        Path of the dataset inside the file; default: the module docstring's
        rule.
    allow_external : bool
        Follow external links, virtual datasets and external storage into
        other files (refused by default; :mod:`._hdf5_guards`); the files
        read are listed in ``metadata["data_files"]``.

    Returns
    -------
    XRFMap
        ``metadata["dataset"]`` is the path read; pixel size in um or ``None``.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib, h5py
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "two.h5"
    >>> with h5py.File(f, "w") as h:
    ...     _ = h.create_dataset("fe", data=np.ones((3, 3)))
    ...     _ = h.create_dataset("ca", data=np.zeros((3, 3)))
    >>> float(read_hdf5(f, dataset="ca").data.sum())
    0.0
    """
    import h5py

    p = path
    if not isinstance(allow_external, (bool, np.bool_)):
        raise MapFileError(p, f"allow_external must be True or False, got {allow_external!r}")
    if dataset is not None and not isinstance(dataset, str):
        raise MapFileError(p, f"dataset must be a path inside the file (a string), got {dataset!r}")
    meta: dict[str, Any] = {"file_format": "hdf5"}
    try:
        f = h5py.File(p, "r")
    except Exception as exc:  # h5py raises OSError for damaged / truncated / non-HDF5 files
        raise MapFileError(p, f"cannot read HDF5 ({type(exc).__name__}: {exc}); the file is "
                              "damaged, truncated or not an HDF5 file") from exc
    try:
        with f:
            data, px, source = _read_open(p, f, dataset, meta, bool(allow_external))
    except MapFileError:
        raise
    except Exception as exc:
        raise MapFileError(p, f"cannot read HDF5 ({type(exc).__name__}: {exc}); the file is "
                              "damaged or truncated") from exc
    if px is not None:
        meta["pixel_size_source"] = source
        px = float(round(px, 12))
    return XRFMap(data, px, p, meta)


def write_hdf5(tmp: str, data: np.ndarray, provenance: dict, pixel_size_um: float | None,
               dataset: str = HDF5_DATASET) -> None:
    """Write ``data`` (float32) as ``dataset`` of the HDF5 file ``tmp`` with the provenance.

    Parameters
    ----------
    tmp : str
        File to write (``save_map`` passes a temporary file and renames it).
    data : ndarray of float32
        ``(rows, cols)`` or ``(channels, rows, cols)``.
    provenance : dict
        JSON-compatible record; its ``channels`` become the names.
    pixel_size_um : float or None
        Pixel size, um (attribute ``pixel_size_um``).
    dataset : str
        Dataset path.

    Examples
    --------
    >>> import numpy as np, tempfile, os, h5py
    >>> f = os.path.join(tempfile.mkdtemp(), "r.h5")
    >>> write_hdf5(f, np.ones((2, 2, 2), np.float32), {"channels": ["Fe", "Ca"]}, 5.0)
    >>> with h5py.File(f) as h:
    ...     float(h["/restored"].attrs["pixel_size_um"]), h["/channels"].asstr()[()].tolist()
    (5.0, ['Fe', 'Ca'])
    """

    from .._common import write_file_bytes

    image = hdf5_image(data, provenance, pixel_size_um, dataset)
    write_file_bytes(tmp, tmp, image)


def hdf5_image(data: np.ndarray, provenance: dict, pixel_size_um: float | None,
               dataset: str = HDF5_DATASET) -> bytes:
    """The bytes of the HDF5 file :func:`write_hdf5` writes, built in memory.

    HDF5 never touches the disk (its in-memory "core" driver without a
    backing store): a full disk or an I/O error then happens in a plain
    ``os.write`` of these bytes and is one clean error -- never a failed
    HDF5 flush at close, which can crash the interpreter.

    Examples
    --------
    >>> import numpy as np
    >>> hdf5_image(np.ones((2, 2), np.float32), {}, 5.0)[:8]
    b'\\x89HDF\\r\\n\\x1a\\n'
    """
    import h5py

    from ...validate import check_bytes

    check_bytes(2.0 * data.nbytes + (1 << 20), f"an HDF5 file of {data.nbytes} bytes of data built in memory")
    text = json.dumps(provenance, ensure_ascii=True)
    str_t = h5py.string_dtype("utf-8")
    f = h5py.File(f"superres_widgets-{uuid.uuid4().hex}.h5", "w", driver="core", backing_store=False)
    with f:
        f.attrs["format"] = MAP_FORMAT
        f.attrs["provenance"] = text
        chunks = None
        if data.size > 1 << 20:
            chunks = (1,) * (data.ndim - 2) + tuple(min(n, 512) for n in data.shape[-2:])
        ds = f.create_dataset(dataset, data=data, chunks=chunks)
        ds.attrs["provenance"] = text
        ds.attrs["units"] = "um"
        if pixel_size_um is not None:
            ds.attrs["pixel_size_um"] = float(pixel_size_um)
        if data.ndim == 3:
            ds.attrs["axes"] = np.array(["channel", "row", "col"], dtype=object).astype(str_t)
        channels = provenance.get("channels")
        if channels is not None:
            names = np.array(channels, dtype=object)
            ds.attrs.create("channels", names, dtype=str_t)
            f.create_dataset(posixpath.join(posixpath.dirname(dataset), "channels"),
                             data=names, dtype=str_t)
        f.flush()
        return f.id.get_file_image()


READERS = (Reader("hdf5", (".h5", ".hdf5", ".nxs"), read_hdf5, options=("dataset", "allow_external"), label="HDF5",
                  description="one dataset of an HDF5 / NeXus file (h5py); names and pixel size "
                              "from attributes or axes"),)
WRITERS = (Writer("hdf5", (".h5", ".hdf5"), write_hdf5, label="HDF5",
                  description="float32 /restored with pixel_size_um, channels and provenance"),)
