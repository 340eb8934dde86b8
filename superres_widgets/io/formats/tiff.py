r"""TIFF maps and stacks (``.tif``, ``.tiff``): reader ``"tiff"`` and writer ``"tiff"``, via tifffile.

Reading
-------
* The first series: one page is a 2-D map, several pages (or an ImageJ
  hyperstack with singleton axes squeezed) a stack ``(channels, rows,
  cols)``.  Colour images (RGB/RGBA samples) are refused: colours are not
  counts.
* Pixel size in um, first found:

  1. a JSON ImageDescription with ``pixel_size_um`` (ours: the whole
     provenance record goes to ``metadata``; source ``"description"``);
  2. ImageJ metadata: ``unit`` (``micron``, ``mm``, ``nm``, ...) and
     XResolution in pixels per unit (source ``"imagej"``); ImageJ ``Labels``
     name the channels;
  3. the TIFF resolution tags with a physical ResolutionUnit (inch --
     TIFF's default -- centimetre, millimetre, micrometre; source
     ``"resolution"``).  Non-square pixels warn and keep the horizontal size
     (``metadata["pixel_size_v_um"]`` holds the vertical one).

  Many files carry a meaningless 72 dpi default: an explicit
  ``pixel_size_um=`` overrides it (with a warning).

Writing
-------
float32, one page per channel; the ImageDescription is the provenance record
as JSON (ASCII); XResolution/YResolution = 1e4 / ``pixel_size_um`` pixels per
centimetre, so ImageJ/Fiji and other readers see the scale; Software =
``superres_widgets <version>``.

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> from superres_widgets.io import load_map, save_map
>>> out = save_map(pathlib.Path(tempfile.mkdtemp()) / "m.tif", np.ones((3, 4)),
...                pixel_size_um=2.5, method="raw")
>>> m = load_map(out)
>>> m.pixel_size_um, m.metadata["file_format"], m.metadata["pixel_size_source"]
(2.5, 'tiff', 'description')
"""

from __future__ import annotations

import json
import logging
import math
import pathlib
import warnings
from typing import Any

import numpy as np

from .._common import (MAP_FORMAT, UNIT_UM, MapFileError, PixelSizeWarning, XRFMap,
                       parse_json_description)
from ..registry import Reader, Writer

__all__ = ["read_tiff", "write_tiff", "READERS", "WRITERS"]

# TIFF ResolutionUnit -> um per unit (1: none)
_RESOLUTION_UNIT_UM = {2: 25.4e3, 3: 1e4, 4: 1e3, 5: 1.0}


def _rational(value) -> float | None:
    try:
        if isinstance(value, (tuple, list)):
            num, den = value
            return float(num) / float(den) if den else None
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


class _Collect(logging.Handler):
    """Collects tifffile's log messages (damaged files) instead of printing them on stderr."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(" ".join(record.getMessage().split())[:200])


def _open(p: pathlib.Path):
    """(data, description, imagej metadata or None, selected tags) -- MapFileError if unreadable.

    tifffile's log warnings about a damaged file are not printed: they join
    the error's reason, or become one :class:`~superres_widgets.io.MapFileWarning`
    when the file could be read.
    """
    from .._common import MapFileWarning

    logger = logging.getLogger("tifffile")
    handler = _Collect()
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        out = _open_quiet(p, handler)
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
    if handler.messages:
        warnings.warn(f"{p}: tifffile: {handler.messages[0]}", MapFileWarning, stacklevel=4)
    return out


def _payload(p: pathlib.Path, tif, series) -> None:
    """Refuse a declared image larger than the file (uncompressed) or the memory budget."""
    import os

    from .._common import check_payload

    pages = getattr(series, "pages", None) or [tif.pages[0]]
    compressed = any(getattr(pg, "compression", 1) not in (1, None) for pg in pages[:64] if pg is not None)
    try:
        check_payload(p, series.shape, series.dtype, what="the TIFF image",
                      file_bytes=None if compressed else os.path.getsize(p))
    except MapFileError as exc:
        if not exc.reason.endswith("header lies"):
            raise
        raise MapFileError(p, f"cannot read TIFF ({exc.reason.rpartition(';')[0]}); the file is damaged, "
                              "truncated or not a TIFF (its header lies)") from None


def _open_quiet(p: pathlib.Path, handler: _Collect):
    import tifffile

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
            _payload(p, tif, series)
            data = np.asarray(series.asarray())
            page = tif.pages[0]
            description = page.description or ""
            ij = tif.imagej_metadata if tif.is_imagej else None
            tags = {t.name: t.value for t in page.tags.values()
                    if t.name in ("XResolution", "YResolution", "ResolutionUnit", "Software")}
            shape = series.shape
    except MapFileError:
        raise
    except Exception as exc:  # tifffile raises many types for damaged files
        said = f"; tifffile: {handler.messages[0]}" if handler.messages else ""
        handler.messages.clear()
        raise MapFileError(p, f"cannot read TIFF ({type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
                              f"{said}); the file is damaged, truncated or not a TIFF") from exc
    if data.ndim > 2:
        data = np.squeeze(data)  # singleton axes (e.g. ImageJ TZCYX with T=Z=1)
        if data.ndim < 2:
            data = np.asarray(data).reshape(shape[-2:])
    return data, description, ij, tags


def read_tiff(path: pathlib.Path) -> XRFMap:
    """Read a TIFF map or stack with its pixel size (rules in the module docstring).

    Parameters
    ----------
    path : pathlib.Path
        An existing ``.tif``/``.tiff`` file (opened read-only).

    Returns
    -------
    XRFMap
        Data as stored (converted to float64 by ``load_map``), the file's
        pixel size in um or ``None``.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib, tifffile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "fiji.tif"
    >>> tifffile.imwrite(f, np.ones((4, 4), np.float32), imagej=True,
    ...                  resolution=(0.4, 0.4), metadata={"unit": "micron"})
    >>> read_tiff(f).pixel_size_um
    2.5
    """
    p = path
    data, description, ij, tags = _open(p)
    meta: dict[str, Any] = {"file_format": "tiff"}
    if "Software" in tags:
        meta["software"] = str(tags["Software"])
    px, source = None, None
    # 1. a JSON description (ours, or anyone's with pixel_size_um)
    desc = parse_json_description(description)
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
        factor = UNIT_UM.get(str(ij.get("unit", "")).strip().lower())
        if factor is not None and xres:
            px, source = factor / xres, "imagej"
        if ij.get("Labels"):
            meta["channels"] = [str(s) for s in ij["Labels"]]
    # 3. TIFF resolution tags with a physical unit
    if px is None and xres:
        unit = tags.get("ResolutionUnit")
        factor = _RESOLUTION_UNIT_UM.get(int(unit) if unit is not None else 2)  # default: inch
        if factor is not None:
            px, source = factor / xres, "resolution"
            if yres and not math.isclose(xres, yres, rel_tol=1e-6):
                meta["pixel_size_v_um"] = factor / yres
                warnings.warn(f"{p}: pixels are not square ({factor / xres:g} x {factor / yres:g} "
                              "um); using the horizontal size", PixelSizeWarning, stacklevel=3)
    if px is not None:
        meta["pixel_size_source"] = source
        px = float(round(px, 12))
    return XRFMap(data, px, p, meta)


def write_tiff(tmp: str, data: np.ndarray, provenance: dict, pixel_size_um: float | None) -> None:
    """Write ``data`` (float32) to the TIFF file ``tmp`` with the provenance as its description.

    Parameters
    ----------
    tmp : str
        File to write (``save_map`` passes a temporary file and renames it).
    data : ndarray of float32
        ``(rows, cols)`` or ``(channels, rows, cols)``.
    provenance : dict
        JSON-compatible record (:func:`~superres_widgets.io.build_provenance`).
    pixel_size_um : float or None
        Written as XResolution = YResolution = 1e4 / pixel_size_um per cm.

    Examples
    --------
    >>> import numpy as np, tempfile, os, tifffile
    >>> f = os.path.join(tempfile.mkdtemp(), "t.tif")
    >>> write_tiff(f, np.ones((2, 2), np.float32), {"method": "raw"}, 5.0)
    >>> with tifffile.TiffFile(f) as tif:
    ...     tif.pages[0].tags["XResolution"].value
    (2000, 1)
    """
    import tifffile

    from ... import __version__

    kwargs = dict(description=json.dumps(provenance, ensure_ascii=True), metadata=None,
                  photometric="minisblack", software=f"superres_widgets {__version__}")
    if pixel_size_um is not None:
        per_cm = 1e4 / pixel_size_um
        kwargs.update(resolution=(per_cm, per_cm), resolutionunit="CENTIMETER")
    # plain Python file writes: a full disk is an OSError (save_map names the output)
    tifffile.imwrite(tmp, data, **kwargs)


READERS = (Reader("tiff", (".tif", ".tiff"), read_tiff, label="TIFF",
                  description="TIFF map or stack (tifffile); pixel size from our description, "
                              "ImageJ or the resolution tags"),)
WRITERS = (Writer("tiff", (".tif", ".tiff"), write_tiff, label="TIFF",
                  description="float32 TIFF, provenance as JSON ImageDescription, resolution tags"),)
