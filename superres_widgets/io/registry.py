r"""The reader table and the writer table: file extension -> the object that reads (writes) it.

Every format :func:`~superres_widgets.io.load_map` reads is one
:class:`Reader` in one table, and every format
:func:`~superres_widgets.io.save_map` writes is one :class:`Writer`.  The
built-in ones live one module per format in
:mod:`superres_widgets.io.formats` (each module declares ``READERS`` /
``WRITERS``; the package registers every module it finds there), so a new
format is one new file.  Users add their own with :func:`register_reader` /
:func:`register_writer` -- after which ``load_map``, ``save_map`` and the
command line accept the new extension.

Which reader reads a file
-------------------------
1. The readers that list the file's extension (lower case, with its dot).
   None: :class:`~superres_widgets.io.MapFileError` ``"<file>: unsupported
   extension '.xyz' (known: .h5, .hdf5, ...)"``.
2. Of those, the most recently registered one whose ``sniff(path)`` says
   ``True`` (a reader for one flavour of a shared extension, e.g. MAPS HDF5
   inside ``.h5``, gives a ``sniff`` that opens the file and looks);
3. else the most recently registered one without a ``sniff`` (so a user's
   reader for ``.tif`` replaces the built-in one for that extension).

``load_map(path, reader="name")`` skips the choice.

Reader contract
---------------
``read(path, **options)``: ``path`` is an existing, readable
:class:`pathlib.Path`; ``options`` holds only the keyword arguments the
caller gave that the reader declares in ``options`` (e.g. ``dataset`` for
HDF5, ``header`` for text).  It returns an
:class:`~superres_widgets.io.XRFMap` (``pixel_size_um`` in um from the file,
or ``None``; ``metadata["pixel_size_source"]`` says where it came from) or a
bare array (no pixel size).  ``load_map`` then does what is common to all:
converts to float64 and checks the map (2-D or 3-D, at least 2 x 2, real,
finite), names the channels, selects ``channel=``, applies
``pixel_size_um=``, warns about a missing pixel size.  Problems raise
:class:`~superres_widgets.io.MapFileError` (anything else a reader raises is
wrapped into one naming the file and the reader).

Writer contract
---------------
``write(tmp_path, data, provenance, pixel_size_um)``: write the whole file
at ``tmp_path`` (a temporary file next to the target; ``save_map`` moves it
into place atomically and removes it on failure).  ``data`` is a C-ordered
float32 array, ``(rows, cols)`` or ``(channels, rows, cols)``, finite;
``provenance`` the JSON-compatible record of
:func:`~superres_widgets.io.build_provenance`; ``pixel_size_um`` in um or
``None``.

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> from superres_widgets import io
>>> def read_raw(path, shape=(4, 4)):
...     return io.XRFMap(np.fromfile(path, "<u2").reshape(shape).astype(float), 2.0,
...                      metadata={"pixel_size_source": "detector default"})
>>> r = io.register_reader(name="raw16", extensions=".raw", read=read_raw, options=("shape",))
>>> f = pathlib.Path(tempfile.mkdtemp()) / "scan.raw"
>>> np.arange(6, dtype="<u2").tofile(f)
>>> m = io.load_map(f, shape=(2, 3))
>>> m.data.tolist(), m.pixel_size_um, m.metadata["file_format"]
([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], 2.0, 'raw16')
>>> ".raw" in io.READ_EXTENSIONS
True
>>> _ = io.unregister_reader("raw16")
"""

from __future__ import annotations

import os
import pathlib
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ._common import MapFileError, PathLike

__all__ = ["Reader", "Writer", "register_reader", "unregister_reader", "readers", "reader_for",
           "read_extensions", "register_writer", "unregister_writer", "writers", "writer_for",
           "write_extensions"]

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.+-]*$")
_EXT_RE = re.compile(r"^\.[a-z0-9][a-z0-9_.+-]*$")
#: load_map keywords that are not reader options.
RESERVED_OPTIONS = frozenset({"path", "pixel_size_um", "channel", "reader"})


def _path(path) -> pathlib.Path:
    """``path`` as a Path, or ``ValueError("path must be a file path ...")``."""
    if isinstance(path, (str, os.PathLike)) and not isinstance(path, bytes):
        text = os.fspath(path)
        if isinstance(text, str) and text:
            return pathlib.Path(text)
    raise ValueError(f"path must be a file path (a non-empty str or path-like), got {path!r}"[:300])


def _check_name(kind: str, name) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"{kind} name must be a non-empty string of letters, digits, '_', '.', "
                         f"'+' or '-' starting with a letter, got {name!r}")
    return name


def _check_extensions(kind: str, extensions) -> tuple[str, ...]:
    if isinstance(extensions, str):
        extensions = (extensions,)
    try:
        exts = tuple(extensions)
    except TypeError:
        raise ValueError(f"{kind} extensions must be a string or a sequence of strings, "
                         f"got {extensions!r}") from None
    out = []
    for e in exts:
        if not isinstance(e, str):
            raise ValueError(f"{kind} extensions must be strings like '.tif', got {e!r}")
        e = e.strip().lower()
        e = e if e.startswith(".") else "." + e
        if not _EXT_RE.match(e):
            raise ValueError(f"{kind} extension {e!r} is not a file extension like '.tif'")
        if e not in out:
            out.append(e)
    if not out:
        raise ValueError(f"{kind} extensions must list at least one extension, got {extensions!r}")
    return tuple(out)


@dataclass(frozen=True)
class Reader:
    """One format :func:`~superres_widgets.io.load_map` reads.

    Parameters
    ----------
    name : str
        Unique key (``load_map(reader=name)``); also ``metadata["file_format"]``.
    extensions : str or sequence of str
        File extensions, e.g. ``(".tif", ".tiff")`` (case-insensitive; the dot
        is added if missing).
    read : callable
        ``read(path, **options) -> XRFMap | array`` (the module docstring's
        contract).
    options : sequence of str
        Keyword arguments of ``load_map`` passed on to ``read`` (when given).
    label : str
        Name in messages (``"HDF5"``); default ``name``.
    sniff : callable, optional
        ``sniff(path) -> bool``: does this file belong to this reader?  For a
        reader sharing its extension with others.
    description : str
        One line for listings.

    Examples
    --------
    >>> Reader("npz", "NPZ", lambda path: None).extensions
    ('.npz',)
    """

    name: str
    extensions: tuple[str, ...]
    read: Callable
    options: tuple[str, ...] = ()
    label: str = ""
    sniff: Callable[[pathlib.Path], bool] | None = None
    description: str = ""

    def __post_init__(self):
        _check_name("reader", self.name)
        object.__setattr__(self, "extensions", _check_extensions(f"reader {self.name!r}", self.extensions))
        if not callable(self.read):
            raise ValueError(f"reader {self.name!r}: read must be callable, got {self.read!r}")
        if self.sniff is not None and not callable(self.sniff):
            raise ValueError(f"reader {self.name!r}: sniff must be callable or None, got {self.sniff!r}")
        opts = (self.options,) if isinstance(self.options, str) else tuple(self.options)
        for o in opts:
            if not isinstance(o, str) or not o.isidentifier() or o in RESERVED_OPTIONS:
                raise ValueError(f"reader {self.name!r}: option {o!r} must be a keyword name other "
                                 f"than {sorted(RESERVED_OPTIONS)}")
        object.__setattr__(self, "options", opts)
        object.__setattr__(self, "label", str(self.label or self.name))


@dataclass(frozen=True)
class Writer:
    """One format :func:`~superres_widgets.io.save_map` writes.

    Parameters
    ----------
    name : str
        Unique key.
    extensions : str or sequence of str
        File extensions written, e.g. ``(".h5", ".hdf5")``.
    write : callable
        ``write(tmp_path, data, provenance, pixel_size_um) -> None`` (the
        module docstring's contract).
    label : str
        Name in messages (``"TIFF"``); default ``name``.
    description : str
        One line for listings.

    Examples
    --------
    >>> Writer("npy", ".npy", lambda tmp, data, prov, px: None).label
    'npy'
    """

    name: str
    extensions: tuple[str, ...]
    write: Callable
    label: str = ""
    description: str = ""

    def __post_init__(self):
        _check_name("writer", self.name)
        object.__setattr__(self, "extensions", _check_extensions(f"writer {self.name!r}", self.extensions))
        if not callable(self.write):
            raise ValueError(f"writer {self.name!r}: write must be callable, got {self.write!r}")
        object.__setattr__(self, "label", str(self.label or self.name))


T = TypeVar("T", Reader, Writer)


class _Table(Generic[T]):
    """An ordered, thread-safe name -> entry table (registration order kept)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._lock = threading.Lock()

    def add(self, entry: T, replace: bool) -> T:
        with self._lock:
            if entry.name in self._entries and not replace:
                raise ValueError(f"a {self.kind} named {entry.name!r} is already registered "
                                 f"(pass replace=True to replace it)")
            self._entries[entry.name] = entry  # a replaced entry keeps its place
        return entry

    def remove(self, name: str) -> T:
        with self._lock:
            if name not in self._entries:
                raise ValueError(f"no {self.kind} named {name!r}; registered: "
                                 f"{', '.join(self._entries) or 'none'}")
            return self._entries.pop(name)

    def all(self) -> tuple[T, ...]:
        with self._lock:
            return tuple(self._entries.values())

    def get(self, name: str) -> T:
        entries = self.all()
        for e in entries:
            if e.name == name:
                return e
        raise ValueError(f"no {self.kind} named {name!r}; registered: "
                         f"{', '.join(e.name for e in entries) or 'none'}")

    def extensions(self) -> tuple[str, ...]:
        out: list = []
        for e in self.all():
            out += [x for x in e.extensions if x not in out]
        return tuple(out)

    def for_extension(self, ext: str) -> tuple[T, ...]:
        """Entries listing ``ext``, most recently registered first."""
        return tuple(e for e in reversed(self.all()) if ext in e.extensions)


_READERS: _Table[Reader] = _Table("reader")
_WRITERS: _Table[Writer] = _Table("writer")


def _register(table, cls, entry, fields: dict, replace: bool, what: str):
    given = {k: v for k, v in fields.items() if v is not None}
    if entry is not None:
        if isinstance(entry, cls):
            if given:
                raise ValueError(f"register_{table.kind}: pass a {cls.__name__} or keywords, not "
                                 f"both (got {sorted(given)})")
            return table.add(entry, replace)
        if not callable(entry):
            raise ValueError(f"register_{table.kind}: expected a {cls.__name__} or a {what} "
                             f"function, got {entry!r}")
        given[what] = entry
    if what not in given:  # used as a decorator: @register_reader(name=..., extensions=...)
        def decorator(fn):
            table.add(cls(**dict(given, **{what: fn})), replace)
            return fn
        return decorator
    return table.add(cls(**given), replace)


def register_reader(reader: Reader | Callable | None = None, *, name: str | None = None,
                    extensions: str | Iterable[str] | None = None, read: Callable | None = None,
                    options: Iterable[str] | None = None, label: str | None = None,
                    sniff: Callable | None = None, description: str | None = None,
                    replace: bool = False):
    """Add a reader to the table (:class:`Reader`, or its fields as keywords).

    Without ``read`` (and without ``reader``) it returns a decorator that
    registers the decorated function as ``read``.

    Returns
    -------
    Reader, or a decorator

    Raises
    ------
    ValueError
        Bad fields, or a reader with this name exists and ``replace`` is False.

    Examples
    --------
    >>> import numpy as np
    >>> @register_reader(name="npz_first", extensions=".npz", label="NumPy .npz")
    ... def read_npz(path):
    ...     with np.load(path) as z:
    ...         return z[z.files[0]]
    >>> [r.name for r in readers()][-1], reader_for("scan.NPZ").label
    ('npz_first', 'NumPy .npz')
    >>> _ = unregister_reader("npz_first")
    """
    return _register(_READERS, Reader, reader,
                     dict(name=name, extensions=extensions, read=read, options=options,
                          label=label, sniff=sniff, description=description), replace, "read")


def unregister_reader(name: str) -> Reader:
    """Remove the reader ``name`` from the table and return it (``ValueError`` if unknown)."""
    return _READERS.remove(name)


def readers() -> tuple[Reader, ...]:
    """Every registered reader, in registration order (built-in ones first).

    Examples
    --------
    >>> {r.name: r.extensions for r in readers()}["tiff"]
    ('.tif', '.tiff')
    """
    return _READERS.all()


def read_extensions() -> tuple[str, ...]:
    """Every extension some reader reads (``superres_widgets.io.READ_EXTENSIONS``)."""
    return _READERS.extensions()


def _sniffs(reader: Reader, path: pathlib.Path) -> bool:
    try:
        return bool(reader.sniff(path))
    except Exception:  # a sniff that cannot open the file: not its file
        return False


def reader_for(path: PathLike, *, name: str | None = None) -> Reader:
    """The reader for ``path`` (the rule in the module docstring), or the one named ``name``.

    ``sniff`` functions run only if ``path`` is an existing file.

    Raises
    ------
    MapFileError
        ``"<path>: unsupported extension '.xyz' (known: ...)"``.
    ValueError
        ``name`` is not a registered reader.

    Examples
    --------
    >>> reader_for("fe_map.CSV").name, reader_for("x.h5", name="hdf5").options
    ('text', ('dataset', 'allow_external'))
    """
    if name is not None:
        return _READERS.get(name)
    p = _path(path)
    ext = p.suffix.lower()
    candidates = _READERS.for_extension(ext)
    if not candidates:
        shown = repr(p.suffix) if p.suffix else "(none)"
        raise MapFileError(path, f"unsupported extension {shown} (known: "
                                 f"{', '.join(read_extensions())})")
    if any(r.sniff is not None for r in candidates) and p.is_file():
        for r in candidates:
            if r.sniff is not None and _sniffs(r, p):
                return r
    for r in candidates:
        if r.sniff is None:
            return r
    raise MapFileError(path, f"none of the readers for {ext!r} ("
                             f"{', '.join(r.name for r in candidates)}) recognises this file")


def register_writer(writer: Writer | Callable | None = None, *, name: str | None = None,
                    extensions: str | Iterable[str] | None = None,
                    write: Callable | None = None, label: str | None = None,
                    description: str | None = None, replace: bool = False):
    """Add a writer to the table (:class:`Writer`, or its fields as keywords; a decorator without ``write``).

    Examples
    --------
    >>> import numpy as np
    >>> @register_writer(name="npy_out", extensions=".npy", label="NumPy")
    ... def write_npy(tmp, data, provenance, pixel_size_um):
    ...     with open(tmp, "wb") as f:
    ...         np.save(f, data)
    >>> writer_for("result.npy").name
    'npy_out'
    >>> _ = unregister_writer("npy_out")
    """
    return _register(_WRITERS, Writer, writer,
                     dict(name=name, extensions=extensions, write=write, label=label,
                          description=description), replace, "write")


def unregister_writer(name: str) -> Writer:
    """Remove the writer ``name`` from the table and return it (``ValueError`` if unknown)."""
    return _WRITERS.remove(name)


def writers() -> tuple[Writer, ...]:
    """Every registered writer, in registration order (built-in ones first)."""
    return _WRITERS.all()


def write_extensions() -> tuple[str, ...]:
    """Every extension some writer writes (``superres_widgets.io.WRITE_EXTENSIONS``)."""
    return _WRITERS.extensions()


def writer_for(path: PathLike) -> Writer:
    """The most recently registered writer listing the extension of ``path``.

    Raises
    ------
    ValueError
        ``"<path>: save_map writes TIFF files (.tif, .tiff) or HDF5 files
        (.h5, .hdf5); unsupported extension '.png'"``.

    Examples
    --------
    >>> writer_for("out.TIF").name
    'tiff'
    """
    p = _path(path)
    found = _WRITERS.for_extension(p.suffix.lower())
    if found:
        return found[0]
    kinds = " or ".join(f"{w.label} files ({', '.join(w.extensions)})" for w in writers())
    raise ValueError(f"{path}: save_map writes {kinds}; unsupported extension "
                     f"{p.suffix or '(none)'!r}")
