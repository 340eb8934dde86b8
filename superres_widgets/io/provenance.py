r"""The provenance record every written map carries (TIFF description, HDF5 attribute).

One function, :func:`build_provenance`, makes it; every writer stores the
same JSON object, and :func:`~superres_widgets.io.load_map` reads it back into
``XRFMap.metadata``.

Keys
----
=============================  ==============================================
``format``                     ``"superres_widgets.map"`` (:data:`MAP_FORMAT`)
``format_version``             1
``superres_widgets_version``   the package version that wrote it
``created_utc``                ISO 8601, seconds, UTC
``method``                     how the map was made (``"richardson_lucy"``)
``parameters``                 the method's parameters (JSON types)
``iterations``                 ``parameters["num_iter"]`` if an int, else null
``psf``                        ``sigma_um`` / ``sigma_px`` / ``shape`` /
                               ``sigma`` from ``psf_sigma_um``,
                               ``psf_sigma_px``, ``psf_shape``, ``psf_sigma``
``pixel_size_um``              um, or null when unknown
``shape``                      of the data written
``dtype``                      ``"float32"``
``source_file``                path of the input map, or null
``source_sha256``              SHA-256 of the input's bytes, or null
``source_dataset``             HDF5 inputs: the dataset read
``source_data_files``          HDF5 inputs read through external links (opt-in):
                               ``[{"path", "sha256"}]`` of the files the
                               values really came from
``source_pixel_size_source``   where the input's pixel size came from
``channels``                   channel names (stacks)
=============================  ==============================================

``extra`` adds or overrides keys (``format`` and ``format_version`` stay).
Values are converted to JSON types: numpy scalars and arrays (at most 1e5
values), tuples, paths; NaN/inf become strings; anything else is a
``ValueError`` naming the key.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import numbers
import os
import pathlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._common import FORMAT_VERSION, MAP_FORMAT, PathLike, XRFMap

__all__ = ["build_provenance"]


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


def _sha256(path: pathlib.Path) -> str | None:
    from ..validate import regular_file_problem

    if regular_file_problem(path) is not None:  # never read a FIFO or a device
        return None
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def build_provenance(*, method: str, parameters: dict | None = None,
                     pixel_size_um: float | None = None, shape: Sequence[int] = (),
                     source: PathLike | XRFMap | None = None,
                     channels: Sequence[str] | None = None,
                     extra: dict | None = None, where: str = "save_map") -> dict[str, Any]:
    """The provenance record :func:`~superres_widgets.io.save_map` writes (every format).

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

    Examples
    --------
    >>> import numpy as np
    >>> rec = build_provenance(method="richardson_lucy", pixel_size_um=5.0, shape=(64, 64),
    ...                        parameters={"num_iter": np.int64(30), "psf_sigma_um": 12.5})
    >>> rec["iterations"], rec["psf"], rec["format"]
    (30, {'sigma_um': 12.5}, 'superres_widgets.map')
    """
    from .. import __version__
    from ._common import check_pixel_size

    if pixel_size_um is not None:
        pixel_size_um = check_pixel_size(pixel_size_um)
    if not isinstance(method, str) or not method.strip():
        raise ValueError(f"method must be a non-empty string, got {method!r}"[:300])
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
        "format_version": FORMAT_VERSION,
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
    if src_meta.get("data_files"):  # the data came from other files (HDF5 external links): hash those
        desc["source_data_files"] = [{"path": os.fspath(f), "sha256": _sha256(pathlib.Path(f))}
                                     for f in src_meta["data_files"]]
    if src_meta.get("pixel_size_source") is not None:
        desc["source_pixel_size_source"] = src_meta["pixel_size_source"]
    if channels is not None:
        desc["channels"] = [str(c) for c in channels]
    if extra:
        for k, v in _jsonable(dict(extra), "provenance").items():
            if k not in ("format", "format_version"):
                desc[k] = v
    return desc
