r"""NeXus ``NXdata`` maps (``.nxs``, ``.h5``, ``.hdf5``): reader ``"nexus"``.

What many beamlines write (Diamond, ESRF, SOLEIL, PETRA III, NSLS-II
exports): an ``NXentry`` holding ``NXdata`` groups whose ``@signal``
attribute names the plotted dataset and whose ``@axes`` attribute names, per
dimension, the dataset of its coordinates (``"."`` for none;
``<axis>_indices`` attributes may say which dimension an axis belongs to).
Files without an ``NXdata`` group go to the generic HDF5 reader (sniff).

Options: ``dataset`` (any dataset: read by the generic HDF5 reader
instead), ``data_group`` (the path of the ``NXdata`` group to read).

Which NXdata
------------
1. ``data_group=`` when given;
2. else the ``@default`` chain from the root (root ``@default`` -> entry,
   entry ``@default`` -> NXdata), the NeXus way to say "plot this";
3. else the only NXdata whose signal is a 2-D or 3-D numeric dataset;
   several raise :class:`~superres_widgets.io.MapFileError` listing them.

The map
-------
* The signal, ``(rows, cols)`` or ``(channels, rows, cols)`` (a 3-D signal
  whose last axis is the shortest and the first two are at least as long
  is taken as ``(rows, cols, channels)``, the order of some fluorescence
  exports, and moved).
* Channel names (3-D): the axis dataset of the channel dimension when it
  holds strings (e.g. ``elements``), else the signal's ``@channel_names``
  / ``@elements`` attribute, else ``"0"``, ``"1"``, ....
* Pixel size: the axes of the last two dimensions (y then x), numeric,
  evenly spaced, with a ``units`` attribute (``um``, ``mm``, ``nm``,
  ``micron``...); x's step, else y's (source ``"nexus axes"``); a
  different y step goes to ``metadata["pixel_size_v_um"]``.  Axes without
  units give no pixel size (pass ``pixel_size_um=``).
* Links into other files are refused like in the HDF5 reader.

Examples
--------
>>> import numpy as np, tempfile, pathlib, h5py
>>> f = pathlib.Path(tempfile.mkdtemp()) / "scan.nxs"
>>> with h5py.File(f, "w") as h:
...     e = h.create_group("entry"); e.attrs["NX_class"] = "NXentry"
...     d = e.create_group("maps"); d.attrs["NX_class"] = "NXdata"
...     d.attrs["signal"] = "counts"; d.attrs["axes"] = ["element", "y", "x"]
...     d["counts"] = np.ones((2, 3, 4)); d["element"] = np.array([b"Fe", b"Ca"])
...     d["x"] = np.arange(4) * 0.002; d["x"].attrs["units"] = "mm"
...     d["y"] = np.arange(3) * 0.002; d["y"].attrs["units"] = "mm"
>>> m = read_nexus(f)
>>> m.metadata["channels"], m.pixel_size_um, m.metadata["nxdata"]
(['Fe', 'Ca'], 2.0, '/entry/maps')
"""

from __future__ import annotations

import math
import pathlib
from typing import Any

import numpy as np

from .._common import UNIT_UM, MapFileError, XRFMap, even_step
from ..registry import Reader
from ._hdf5_guards import check_dataset, resolve_path

__all__ = ["read_nexus", "is_nexus", "READERS"]


def _text(v) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace").strip()
    if isinstance(v, np.ndarray) and v.shape == ():
        return _text(v[()])
    return str(v).strip()


def _list(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, (str, bytes)) or (isinstance(v, np.ndarray) and v.shape == ()):
        t = _text(v)
        return [x.strip() for x in t.replace(":", ",").split(",")] if t else []
    return [_text(x) for x in np.asarray(v).ravel()]


def _nx_groups(f) -> list[str]:
    """Paths of every NXdata group (hard links only: nothing is followed into other files)."""
    import h5py

    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and _text(obj.attrs.get("NX_class", "")) == "NXdata":
            found.append("/" + name)
    f.visititems(visit)
    return found


def is_nexus(path: pathlib.Path) -> bool:
    """Does the file hold an NXdata group with a signal?"""
    import h5py

    with h5py.File(path, "r") as f:
        return any("signal" in f[g].attrs for g in _nx_groups(f))


def _default_group(p, f) -> str | None:
    import h5py

    entry = _text(f.attrs.get("default", ""))
    if not entry:
        return None
    real = resolve_path(p, f, entry, allow_external=False)
    grp = None if real is None else f.get(real)
    if not isinstance(grp, h5py.Group):
        return None
    if _text(grp.attrs.get("NX_class", "")) == "NXdata":
        return grp.name
    inner = _text(grp.attrs.get("default", ""))
    if not inner:
        return None
    real = resolve_path(p, f, f"{grp.name}/{inner}", allow_external=False)
    return real if real is not None and isinstance(f.get(real), h5py.Group) else None


def _signal(p, f, group: str):
    import h5py

    g = f[group]
    name = _text(g.attrs.get("signal", ""))
    if not name:
        return None
    real = resolve_path(p, f, f"{group}/{name}", allow_external=False)
    ds = None if real is None else f.get(real)
    if isinstance(ds, h5py.Dataset) and ds.ndim in (2, 3) and ds.dtype.kind in "iufb":
        return ds
    return None


def _choose(p, f, data_group: str | None) -> str:
    groups = _nx_groups(f)
    if data_group is not None:
        path = data_group if data_group.startswith("/") else "/" + data_group
        if path not in groups:
            raise MapFileError(p, f"data_group={data_group!r} is not an NXdata group; NXdata groups: "
                                  f"{groups or 'none'}")
        if _signal(p, f, path) is None:
            raise MapFileError(p, f"NXdata {path} has no 2-D or 3-D numeric @signal dataset")
        return path
    default = _default_group(p, f)
    if default is not None and default in groups and _signal(p, f, default) is not None:
        return default
    maps = [g for g in groups if _signal(p, f, g) is not None]
    if len(maps) == 1:
        return maps[0]
    if not maps:
        raise MapFileError(p, f"has no NXdata group with a 2-D or 3-D @signal (NXdata groups: {groups or 'none'}); "
                              "this reader knows NXdata with @signal and @axes")
    raise MapFileError(p, f"holds {len(maps)} NXdata maps; choose one with data_group= (NXdata: {maps})")


def _axes(p, f, group: str, ndim: int) -> list:
    """One axis dataset (or None) per dimension of the signal."""
    import h5py

    g = f[group]
    names = _list(g.attrs.get("axes"))
    out: list = [None] * ndim
    for i, n in enumerate(names[-ndim:] if len(names) >= ndim else names):
        if n and n != ".":
            out[i if len(names) >= ndim else i + ndim - len(names)] = n
    for key in g.attrs:
        if key.endswith("_indices"):
            idx = np.atleast_1d(g.attrs[key]).astype(int)
            if idx.size == 1 and -ndim <= idx[0] < ndim:
                out[int(idx[0])] = key[:-len("_indices")]
    res = []
    for n in out:
        real = None if n is None else resolve_path(p, f, f"{group}/{n}", allow_external=False)
        ds = None if real is None else f.get(real)
        res.append(ds if isinstance(ds, h5py.Dataset) and ds.ndim == 1 else None)
    return res


def _axis_um(p, ds, n: int):
    if ds is None or ds.shape[0] != n or ds.dtype.kind not in "iuf":
        return None
    unit = _text(ds.attrs.get("units", ds.attrs.get("unit", ""))).lower()
    factor = UNIT_UM.get(unit)
    if factor is None:
        return None
    check_dataset(p, ds, ds.name, allow_external=False)
    return np.asarray(ds[()], dtype=float) * factor


def read_nexus(path: pathlib.Path, dataset: str | None = None, data_group: str | None = None) -> XRFMap:
    """Read the signal of a NeXus NXdata group as a map or stack (rules in the module docstring).

    Parameters
    ----------
    path : pathlib.Path
        An existing NeXus / HDF5 file.
    dataset : str, optional
        Read this dataset with the generic HDF5 reader instead.
    data_group : str, optional
        The NXdata group to read.

    Returns
    -------
    XRFMap
        ``metadata["nxdata"]`` (the group read), ``["channels"]`` for stacks,
        pixel size from the axes.
    """
    import h5py

    from .hdf5 import read_hdf5

    if dataset is not None:
        return read_hdf5(path, dataset=dataset)
    p = path
    meta: dict[str, Any] = {"file_format": "nexus"}
    with h5py.File(p, "r") as f:
        group = _choose(p, f, data_group)
        ds = _signal(p, f, group)
        check_dataset(p, ds, ds.name, allow_external=False)
        data = np.asarray(ds[()], dtype=np.float64)
        axes = _axes(p, f, group, data.ndim)
        meta["nxdata"], meta["dataset"] = group, ds.name
        if data.ndim == 3 and data.shape[2] < min(data.shape[:2]) and data.shape[0] > data.shape[2]:
            data = np.moveaxis(data, 2, 0)  # (rows, cols, channels) -> (channels, rows, cols)
            axes = [axes[2], axes[0], axes[1]]
            meta["axes_order"] = "rows, cols, channels (moved channels first)"
        if data.ndim == 3:
            names = None
            if axes[0] is not None and axes[0].dtype.kind in "SOU":
                check_dataset(p, axes[0], axes[0].name, allow_external=False)
                names = [_text(v) for v in np.asarray(axes[0][()]).ravel()]
            for key in ("channel_names", "elements", "channels"):
                if names is None and key in ds.attrs:
                    names = _list(ds.attrs[key])
            if names and len(names) == data.shape[0]:
                meta["channels"] = names
        y = _axis_um(p, axes[-2], data.shape[-2])
        x = _axis_um(p, axes[-1], data.shape[-1])
    sx = None if x is None else even_step(x.tolist())
    sy = None if y is None else even_step(y.tolist())
    px = None
    step = sx if sx is not None else sy
    if step is not None:
        px = float(round(abs(step), 9))
        meta["pixel_size_source"] = "nexus axes"
        if sx is not None and sy is not None and not math.isclose(abs(sx), abs(sy), rel_tol=1e-2):
            meta["pixel_size_v_um"] = abs(sy)
    if x is not None:
        meta["x_um"] = x.tolist()
    if y is not None:
        meta["y_um"] = y.tolist()
    return XRFMap(data, px, p, meta)


READERS = (Reader("nexus", (".nxs", ".h5", ".hdf5"), read_nexus, options=("dataset", "data_group"), label="NeXus",
                  sniff=is_nexus,
                  description="NeXus NXdata: @signal with @axes (names, units -> pixel size), @default chain"),)
