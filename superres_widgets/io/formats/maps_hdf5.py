r"""XRF-Maps / MAPS HDF5 (``.h5``, ``.hdf5`` with a ``/MAPS`` group): reader ``"maps_hdf5"``.

What the APS microprobes' analysis software writes (XRF-Maps, C++; MAPS,
IDL): element maps fitted from the spectra of every pixel, the scalers
(ion chambers, ring current, dead time) and the scan positions.  Files
without a ``/MAPS`` group go to the generic HDF5 reader.

Options: ``analysis`` (which maps), ``normalize`` (a scaler to divide by),
``dataset`` (any dataset: read by the generic HDF5 reader instead).

Layouts (first found)
---------------------
* XRF-Maps: ``/MAPS/XRF_Analyzed/<analysis>/Counts_Per_Sec``
  ``(channels, rows, cols)`` with ``/MAPS/XRF_Analyzed/<analysis>/Channel_Names``;
  ``analysis`` = ``"Fitted"`` (default when present), ``"NNLS"``, ``"ROI"``
  (case-insensitive).
* MAPS (IDL): ``/MAPS/XRF_fits`` (``analysis="fits"``), ``/MAPS/XRF_roi``
  (``"roi"``), ``/MAPS/XRF_roi_plus`` (``"roi_plus"``), names in
  ``/MAPS/channel_names``.
* Scalers: ``/MAPS/Scalers/Names`` + ``/MAPS/Scalers/Values``
  ``(scalers, rows, cols)`` (XRF-Maps), or ``/MAPS/scaler_names`` +
  ``/MAPS/scalers`` (MAPS).  ``normalize="US_IC"`` divides every map by
  that scaler pixel by pixel (0 -> NaN, masked); an unknown name is an
  error listing the scalers.  ``metadata["scalers"]`` lists the names.
* Positions: ``/MAPS/Scan/x_axis`` and ``/MAPS/Scan/y_axis`` (XRF-Maps) or
  ``/MAPS/x_axis``, ``/MAPS/y_axis`` (MAPS): motor positions, in the
  dataset's ``units`` attribute when it has one, else in mm (the APS
  motors' unit, which is what both programs store).  The step of x (else y)
  is the pixel size in um (source ``"maps axes"``); a different y step goes
  to ``metadata["pixel_size_v_um"]``; positions in um are in
  ``metadata["x_um"]``/``["y_um"]``.

A file with a ``/MAPS`` group but none of the layouts raises
:class:`~superres_widgets.io.MapFileError` naming the layouts it knows.

Examples
--------
>>> import numpy as np, tempfile, pathlib, h5py
>>> f = pathlib.Path(tempfile.mkdtemp()) / "2xfm_0011.mda.h5"
>>> with h5py.File(f, "w") as h:
...     g = h.create_group("MAPS/XRF_Analyzed/Fitted")
...     g["Counts_Per_Sec"] = np.ones((2, 3, 4))
...     g["Channel_Names"] = np.array([b"Fe", b"Zn"])
...     h["MAPS/Scan/x_axis"] = np.linspace(-1.5, -1.35, 4)
...     h["MAPS/Scan/y_axis"] = np.linspace(3.25, 3.35, 3)
>>> m = read_maps_hdf5(f)
>>> m.metadata["channels"], m.pixel_size_um, m.metadata["analysis"]
(['Fe', 'Zn'], 50.0, 'Fitted')
"""

from __future__ import annotations

import math
import pathlib
from typing import Any

import numpy as np

from .._common import UNIT_UM, MapFileError, XRFMap, even_step
from ..registry import Reader
from ._hdf5_guards import check_dataset, resolve_path

__all__ = ["read_maps_hdf5", "is_maps_hdf5", "READERS"]

_ANALYZED = ("Fitted", "NNLS", "ROI")
_LEGACY = {"fits": "XRF_fits", "roi": "XRF_roi", "roi_plus": "XRF_roi_plus"}
_KNOWN = ("/MAPS/XRF_Analyzed/{Fitted,NNLS,ROI}/Counts_Per_Sec with Channel_Names, "
          "/MAPS/XRF_fits, /MAPS/XRF_roi or /MAPS/XRF_roi_plus with /MAPS/channel_names")


def _text(v) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace").strip()
    if isinstance(v, np.ndarray) and v.shape == ():
        return _text(v[()])
    return str(v).strip()


def _get(p, f, path: str):
    """The object at ``path``, following no link into another file (the HDF5 reader's guards), or None."""
    real = resolve_path(p, f, path, allow_external=False)
    return None if real is None else f.get(real)


def _values(p, ds) -> np.ndarray:
    """A dataset's values after the guards (other files, unwritten chunks, size)."""
    check_dataset(p, ds, ds.name, allow_external=False)
    return np.asarray(ds[()])


def is_maps_hdf5(path: pathlib.Path) -> bool:
    """Does the HDF5 file have a top-level ``MAPS`` group?"""
    import h5py

    with h5py.File(path, "r") as f:
        return isinstance(f.get("MAPS", getlink=True), h5py.HardLink) and isinstance(f["MAPS"], h5py.Group)


def _pick(f, p, analysis: str | None):
    """(maps dataset, names dataset, label) for ``analysis`` (module docstring)."""
    import h5py

    analyzed = _get(p, f, "MAPS/XRF_Analyzed")
    found = []
    if isinstance(analyzed, h5py.Group):
        for g in analyzed:
            ds = _get(p, f, f"MAPS/XRF_Analyzed/{g}/Counts_Per_Sec")
            if isinstance(ds, h5py.Dataset):
                found.append((g, ds, _get(p, f, f"MAPS/XRF_Analyzed/{g}/Channel_Names")))
    legacy = []
    for k, v in _LEGACY.items():
        ds = _get(p, f, f"MAPS/{v}")
        if isinstance(ds, h5py.Dataset):
            legacy.append((k, ds, _get(p, f, "MAPS/channel_names")))
    if not found and not legacy:
        raise MapFileError(p, f"has a /MAPS group but no element maps; this reader knows {_KNOWN}")
    every = found + legacy
    labels = [g for g, _, _ in every]
    if analysis is None:
        preferred = [g for g in _ANALYZED if g in labels]
        analysis = (preferred or labels)[0]
    for g, ds, names in every:
        if g.lower() == str(analysis).lower():
            return ds, names, g
    raise MapFileError(p, f"analysis={analysis!r} is not in this file; analyses: {labels}")


def _names(p, ds) -> list[str] | None:
    import h5py

    if not isinstance(ds, h5py.Dataset):
        return None
    return [_text(v) for v in _values(p, ds).ravel()]


def _scalers(p, f):
    """(names, values dataset (n, rows, cols)) or (None, None)."""
    import h5py

    for names_path, values_path in (("MAPS/Scalers/Names", "MAPS/Scalers/Values"),
                                    ("MAPS/scaler_names", "MAPS/scalers")):
        n, v = _get(p, f, names_path), _get(p, f, values_path)
        if isinstance(n, h5py.Dataset) and isinstance(v, h5py.Dataset):
            return [_text(x) for x in _values(p, n).ravel()], v
    return None, None


def _axis(p, f, name: str):
    """(positions in um, unit text) of ``x_axis``/``y_axis``, or (None, None)."""
    import h5py

    for path in (f"MAPS/Scan/{name}", f"MAPS/{name}"):
        ds = _get(p, f, path)
        if isinstance(ds, h5py.Dataset) and ds.ndim == 1 and ds.dtype.kind in "iuf":
            unit = ds.attrs.get("units", ds.attrs.get("unit"))
            unit = "mm" if unit is None else _text(unit).lower()
            factor = UNIT_UM.get(unit)
            if factor is None:
                return None, unit
            return np.asarray(_values(p, ds), dtype=float) * factor, unit
    return None, None


def read_maps_hdf5(path: pathlib.Path, analysis: str | None = None, normalize: str | None = None,
                   dataset: str | None = None) -> XRFMap:
    """Read the element maps of an XRF-Maps / MAPS file (rules in the module docstring).

    Parameters
    ----------
    path : pathlib.Path
        An existing HDF5 file with a ``/MAPS`` group.
    analysis : str, optional
        ``"Fitted"``, ``"NNLS"``, ``"ROI"`` (XRF-Maps) or ``"fits"``,
        ``"roi"``, ``"roi_plus"`` (MAPS); default the first of those present.
    normalize : str, optional
        A scaler name to divide every map by.
    dataset : str, optional
        Read this dataset with the generic HDF5 reader instead.

    Returns
    -------
    XRFMap
        ``(channels, rows, cols)``, names in ``metadata["channels"]``, pixel
        size from the scan axes.
    """
    import h5py

    from .hdf5 import read_hdf5

    if dataset is not None:
        return read_hdf5(path, dataset=dataset)
    p = path
    meta: dict[str, Any] = {"file_format": "maps_hdf5"}
    with h5py.File(p, "r") as f:
        if not isinstance(_get(p, f, "MAPS"), h5py.Group):
            raise MapFileError(p, f"has no /MAPS group; this reader knows {_KNOWN}")
        ds, names_ds, label = _pick(f, p, analysis)
        data = np.asarray(_values(p, ds), dtype=np.float64)
        if data.ndim == 2:
            data = data[None]
        if data.ndim != 3:
            raise MapFileError(p, f"{ds.name} has shape {data.shape}; expected (channels, rows, cols)")
        meta["analysis"], meta["dataset"] = label, ds.name
        names = _names(p, names_ds)
        if names is not None and len(names) == data.shape[0]:
            meta["channels"] = names
        scaler_names, scaler_values = _scalers(p, f)
        if scaler_names is not None:
            meta["scalers"] = scaler_names
        if normalize is not None:
            if scaler_names is None or normalize not in scaler_names:
                raise MapFileError(p, f"normalize={normalize!r} is not a scaler of this file; scalers: "
                                      f"{scaler_names or 'none'}")
            ref = np.asarray(_values(p, scaler_values)[scaler_names.index(normalize)], dtype=np.float64)
            if ref.shape != data.shape[1:]:
                raise MapFileError(p, f"scaler {normalize!r} has shape {ref.shape}, the maps {data.shape[1:]}")
            with np.errstate(divide="ignore", invalid="ignore"):
                data = np.where(ref != 0, data / ref, np.nan)
            meta["normalized_by"] = normalize
        x, ux = _axis(p, f, "x_axis")
        y, uy = _axis(p, f, "y_axis")
    px = _pixel_size(x, y, ux, uy, data.shape, meta)
    return XRFMap(data, px, p, meta)


def _pixel_size(x, y, ux, uy, shape, meta) -> float | None:
    rows, cols = shape[-2:]
    sx = even_step(x.tolist()) if x is not None and len(x) == cols else None
    sy = even_step(y.tolist()) if y is not None and len(y) == rows else None
    if x is not None:
        meta["x_um"] = x.tolist()
    if y is not None:
        meta["y_um"] = y.tolist()
    if ux is not None:
        meta["axis_units"] = {"x": ux, "y": uy}
    step = sx if sx is not None else sy
    if step is None:
        return None
    meta["pixel_size_source"] = "maps axes"
    if sx is not None and sy is not None and not math.isclose(abs(sx), abs(sy), rel_tol=1e-2):
        meta["pixel_size_v_um"] = abs(sy)
    return float(round(abs(step), 9))


READERS = (Reader("maps_hdf5", (".h5", ".hdf5"), read_maps_hdf5, options=("analysis", "normalize", "dataset"),
                  label="MAPS HDF5", sniff=is_maps_hdf5,
                  description="XRF-Maps / MAPS analysed maps (/MAPS): channel names, scalers, scan axes"),)
