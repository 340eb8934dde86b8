r""":func:`load_map` and :func:`save_map`: the front door to the reader and writer tables.

:func:`load_map` asks :func:`~superres_widgets.io.registry.reader_for` which
reader reads the file, passes it the options it declares, then does what is
common to every format; :func:`save_map` checks the data, builds the
provenance record once and lets the writer of the extension write it
atomically.

Conventions
-----------
* ``data[row, col]`` (``[channel, row, col]`` for stacks), float64 after
  loading, counts unchanged (never rescaled or clipped); float32 when
  written.
* Pixel size in micrometres.  Where it comes from, in order: the
  ``pixel_size_um`` argument when given (it overrides the file, with a
  :class:`~superres_widgets.io.PixelSizeWarning` if the file disagrees --
  files often carry a meaningless 72 dpi default); else the file (each
  reader's own rule, see its module); else ``None`` with a
  :class:`~superres_widgets.io.PixelSizeWarning` (lengths are then in
  pixels).  ``XRFMap.metadata["pixel_size_source"]`` records which one was
  used (``"argument"``, ``"description"``, ``"imagej"``, ``"resolution"``,
  ``"coordinates"``, ``"hdf5 attribute"``, ``"hdf5 axes"``, a reader's own,
  or ``"file"`` when a reader gave a size without saying where from).
* Stacks get channel names: the file's, else ``"0"``, ``"1"``, ...
* NaN values are masked pixels (dead, unmeasured): they load, and
  ``metadata["masked_pixels"]`` counts them (``XRFMap.mask`` is where they
  are); infinite values are an error.
* Input files are opened read-only and never modified; :func:`save_map`
  refuses to write over its ``source`` or over any file :func:`load_map` has
  read in this session (except maps :func:`save_map` itself wrote, so a
  result can be re-saved), and writes atomically (temporary file in the same
  folder, then :func:`os.replace`).
* Every problem with a file raises
  :class:`~superres_widgets.io.MapFileError` (a :class:`ValueError`; the
  missing-file case is also a :class:`FileNotFoundError`) whose message is
  ``"<path>: <reason>"``.
"""

from __future__ import annotations

import math
import os
import pathlib
import tempfile
import warnings
from collections.abc import Sequence

import numpy as np

from ._common import (MAP_FORMAT, MapFileError, MapFileWriteError, PathLike, PixelSizeWarning,
                      XRFMap, check_input_file, check_map_array, check_pixel_size, output_mode,
                      select_channel)
from .provenance import build_provenance
from .registry import Reader, reader_for, readers, writer_for

__all__ = ["load_map", "save_map"]


def _as_path(path, name: str) -> pathlib.Path:
    """``path`` as a :class:`pathlib.Path`, or ``ValueError`` naming ``name`` (not a path)."""
    if isinstance(path, (str, os.PathLike)) and not isinstance(path, bytes):
        text = os.fspath(path)
        if isinstance(text, str) and text and "\x00" not in text:
            return pathlib.Path(text).expanduser()
    raise ValueError(f"{name} must be a file path (a non-empty str or path-like), got {path!r}"[:300])

# realpaths of the raw files load_map has read in this session (not maps
# save_map wrote): save_map never writes over them ("never modify the input").
_READ_FILES: set = set()


def load_map(path: PathLike, *, pixel_size_um: float | None = None,
             channel: int | str | None = None, dataset: str | None = None,
             header: str = "auto", reader: str | None = None, **options) -> XRFMap:
    r"""Read a map or stack (TIFF, NPY, a CSV/TXT matrix, HDF5, or a registered format).

    Parameters
    ----------
    path : str or path-like
        A file with an extension some reader reads
        (``superres_widgets.io.READ_EXTENSIONS``).  Opened read-only; never
        modified.
    pixel_size_um : float, optional
        Pixel size (scan step) in um.  Overrides the file's (a
        :class:`PixelSizeWarning` says so when they differ); needed when the
        file has none.
    channel : int or str, optional
        For a stack: the channel to return (index, or name when the file
        names its channels).  ``None`` returns the whole stack.
    dataset : str, optional
        HDF5 only: path of the dataset inside the file (e.g.
        ``"/xrf/maps"``); see :mod:`superres_widgets.io.formats.hdf5`.
    header : {"auto", "none", "row", "column", "both"}
        Text matrices only: header handling; see
        :mod:`superres_widgets.io.formats.text`.
    reader : str, optional
        Name of the reader to use, whatever the extension (see
        :func:`~superres_widgets.io.readers`).
    **options
        Further options of registered readers (each reader declares its own).

    Returns
    -------
    XRFMap
        ``data`` as float64; ``metadata["file_format"]`` is the reader's name.

    Raises
    ------
    MapFileError
        ``"<path>: <reason>"``: missing file (:class:`MapFileNotFoundError`),
        unsupported extension, unreadable/truncated file, not 2-D, RGB,
        ragged rows, non-numeric/empty/NaN/inf cells, bad channel, wrong or
        ambiguous HDF5 dataset, an option the file's reader does not take
        (``dataset=`` for a TIFF).
    ValueError
        ``pixel_size_um`` not a positive number.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "fe.csv").write_text("Y\\X,0,5,10\n0,1,2,3\n5,4,5,6\n")
    >>> m = load_map(d / "fe.csv", pixel_size_um=5.0)
    >>> m.data.shape, m.metadata["header"], m.metadata["pixel_size_source"]
    ((2, 3), 'both', 'argument')
    """
    p = _as_path(path, "path")
    if pixel_size_um is not None:
        pixel_size_um = check_pixel_size(pixel_size_um)
    if reader is not None and not isinstance(reader, str):
        raise ValueError(f"reader must be the name of a reader or None, got {reader!r}")
    if not isinstance(header, str):
        raise ValueError(f"header must be 'auto', 'none', 'row', 'column' or 'both', got {header!r}")
    if channel is not None and (isinstance(channel, bool) or not isinstance(channel, (int, str, np.integer))):
        raise ValueError(f"channel must be an index, a name or None, got {channel!r}")
    if dataset is not None and not isinstance(dataset, str):
        raise ValueError(f"dataset must be a path inside the file (a string) or None, got {dataset!r}")
    rd = reader_for(p, name=reader)  # the extension first; sniffs only a regular file
    check_input_file(p)  # regular files only: never a FIFO, a device or a folder
    given = dict(options)
    if dataset is not None:
        given["dataset"] = dataset
    if header != "auto":
        given["header"] = header
    _check_options(p, rd, given)

    try:
        out = rd.read(p, **given)
    except MapFileError:
        raise
    except Exception as exc:  # a user's reader: say which file and which reader
        raise MapFileError(p, f"cannot read with the {rd.label} reader ({type(exc).__name__}: "
                              f"{exc})") from exc
    data, file_px, meta = _unpack(p, rd, out)
    if meta.get("written_by") != MAP_FORMAT:  # a raw input: save_map never writes over it
        _READ_FILES.add(os.path.realpath(p))

    data = check_map_array(p, data)
    n_nan = int(np.isnan(data).sum())
    if n_nan:  # NaN pixels are masked (the restoration methods leave them out of their data term)
        meta["masked_pixels"] = n_nan
    if data.ndim == 3:
        meta.setdefault("channels", [str(i) for i in range(data.shape[0])])
        if len(meta["channels"]) != data.shape[0]:
            meta["channels"] = [str(i) for i in range(data.shape[0])]
        if channel is not None:
            data, name = select_channel(p, data, meta["channels"], channel)
            meta["channel"] = name
            meta.pop("channels")
            if n_nan:
                meta["masked_pixels"] = int(np.isnan(data).sum())
    elif channel is not None:
        raise MapFileError(p, f"channel={channel!r} given but the file holds a single 2-D map")

    # pixel size: argument > file > None (the module docstring)
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
            step = meta["coordinate_step"]
            ask = ("coordinate_unit='um' (or 'mm', ...) or " if "coordinate_unit" in rd.options else "")
            hint = (f" (its coordinates step by {step:g} in an unstated unit: if that is {step:g} um, pass "
                    f"{ask}pixel_size_um={step:g})")
        warnings.warn(f"{p}: no pixel size in the file{hint} and none given; lengths will be in "
                      "pixels -- pass pixel_size_um=", PixelSizeWarning, stacklevel=2)
    return XRFMap(data=data, pixel_size_um=px, source=p, metadata=meta)


def _check_options(p: pathlib.Path, rd: Reader, given: dict) -> None:
    """Every option given is one the reader takes; else say which readers take it."""
    for key, value in given.items():
        if key in rd.options:
            continue
        takers = [r for r in readers() if key in r.options]
        if not takers:
            known = ", ".join(f"{o} ({r.label})" for r in readers() for o in r.options)
            raise TypeError(f"load_map() got an unexpected keyword argument {key!r}; reader "
                            f"options: {known or 'none'}")
        labels = " or ".join(dict.fromkeys(r.label for r in takers))
        exts = ", ".join(dict.fromkeys(e for r in takers for e in r.extensions))
        raise MapFileError(p, f"{key}={value!r} applies to {labels} files only ({exts})")


def _unpack(p: pathlib.Path, rd: Reader, out):
    """(data, file pixel size in um or None, metadata) from what a reader returned."""
    if isinstance(out, XRFMap):
        data, file_px, meta = out.data, out.pixel_size_um, dict(out.metadata)
    else:
        data, file_px, meta = out, None, {}
    meta.setdefault("file_format", rd.name)
    if file_px is not None:
        try:
            file_px = check_pixel_size(file_px)
        except ValueError:
            raise MapFileError(p, f"the {rd.label} reader found pixel size {file_px!r}; it must "
                                  "be a positive number of um") from None
        meta.setdefault("pixel_size_source", "file")
    return data, file_px, meta


def _check_target(out: pathlib.Path, src_path, overwrite: bool) -> None:
    """Refuse to write over an input map, an existing file (``overwrite=False``) or a folder."""
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


def _check_data(out: pathlib.Path, data, channels):
    """(C-ordered float32 copy, channel names or None), or ValueError naming the file."""
    if isinstance(data, (str, bytes)) or data is None:
        raise ValueError(f"{out}: data must be a real numeric array, got {type(data).__name__}")
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as exc:  # ragged sequences
        raise ValueError(f"{out}: data must be a real numeric array ({exc})") from None
    from ..validate import check_array_bytes

    check_array_bytes(arr.shape, f"{out}: writing data", np.float32, copies=3)
    if arr.dtype == object or np.iscomplexobj(arr) or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{out}: data must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim not in (2, 3) or arr.size == 0 or min(arr.shape[-2:]) < 2:
        raise ValueError(f"{out}: data must be 2-D (rows, cols) or 3-D (channels, rows, cols) with at "
                         f"least 2 x 2 values (what load_map reads back), got shape {arr.shape}")
    arr32 = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(arr32)):
        raise ValueError(f"{out}: data contains NaN or inf (or values beyond float32)")
    if channels is not None:
        channels = [str(c) for c in channels]
        if arr.ndim != 3 or len(channels) != arr.shape[0]:
            raise ValueError(f"{out}: {len(channels)} channel names for data of shape {arr.shape}")
    return arr32, channels


def save_map(path: PathLike, data, *, pixel_size_um: float | None, method: str,
             parameters: dict | None = None, source: PathLike | XRFMap | None = None,
             channels: Sequence[str] | None = None, overwrite: bool = True,
             provenance: dict | None = None) -> pathlib.Path:
    """Write a (restored) map or stack as float32 with its provenance (TIFF, HDF5 or a registered format).

    Parameters
    ----------
    path : str or path-like
        Output file; its extension picks the writer (``.tif``/``.tiff``,
        ``.h5``/``.hdf5``, or a registered one: ``WRITE_EXTENSIONS``).
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
        see :func:`~superres_widgets.io.build_provenance`.

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
    The file is written to a temporary file in the same folder and moved
    into place with :func:`os.replace`, so a reader never sees a partial
    file and a failed write leaves the previous file (if any) intact and no
    temporary file.  The formats are described in
    :mod:`superres_widgets.io.formats.tiff` and
    :mod:`superres_widgets.io.formats.hdf5`.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> out = save_map(pathlib.Path(tempfile.mkdtemp()) / "fe_rl.h5", np.ones((4, 4)),
    ...                pixel_size_um=5.0, method="richardson_lucy", parameters={"num_iter": 30})
    >>> back = load_map(out)
    >>> back.metadata["method"], back.metadata["iterations"], back.pixel_size_um
    ('richardson_lucy', 30, 5.0)
    """
    out = _as_path(path, "path")
    writer = writer_for(out)
    if not isinstance(method, str) or not method.strip():
        raise ValueError(f"{out}: method must be a non-empty string, got {method!r}")
    if pixel_size_um is not None:
        pixel_size_um = check_pixel_size(pixel_size_um)
    src_path = None
    if isinstance(source, XRFMap):
        src_path = source.source
        if channels is None and source.channels and np.ndim(data) == 3:
            channels = source.channels
    elif source is not None:
        src_path = _as_path(source, "source")
    _check_target(out, src_path, overwrite)
    arr32, channels = _check_data(out, data, channels)
    try:
        desc = build_provenance(method=method, parameters=parameters, pixel_size_um=pixel_size_um,
                                shape=arr32.shape, source=source, channels=channels,
                                extra=provenance)
    except ValueError as exc:
        raise ValueError(f"{out}: {exc}") from None
    if not out.parent.is_dir():
        raise ValueError(f"{out}: folder {out.parent} does not exist")
    _write_atomically(out, writer, arr32, desc, pixel_size_um)
    return out


def _write_atomically(out: pathlib.Path, writer, arr32, desc, pixel_size_um) -> None:
    """Temporary file in the target's folder, written, given the output's mode, renamed; never left behind.

    Every failure is a :class:`MapFileError` ``"<out>: <reason>"`` (a full
    disk, an I/O error, a file-size limit, a writer's own error).
    """
    mode = output_mode(out)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise MapFileWriteError(out, f"cannot write in {out.parent} ({exc.strerror or exc})") from None
    os.close(fd)
    try:
        try:
            writer.write(tmp, arr32, desc, pixel_size_um)
            os.chmod(tmp, mode)
            os.replace(tmp, out)
        except MapFileError as exc:
            if exc.path == out:
                raise
            raise type(exc)(out, exc.reason) from None
        except MemoryError:
            raise MapFileError(out, f"out of memory while writing the {writer.label} file") from None
        except OSError as exc:
            raise MapFileWriteError(out, f"cannot write ({exc.strerror or _one_line(exc)})") from None
        except Exception as exc:  # noqa: BLE001 - a writer's own error, said about the output
            raise MapFileError(out, f"the {writer.label} writer failed ({type(exc).__name__}: "
                                    f"{_one_line(exc)})") from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _one_line(exc) -> str:
    return " ".join(str(exc).split())[:300]
