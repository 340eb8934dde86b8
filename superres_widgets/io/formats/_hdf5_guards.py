r"""What the HDF5 reader checks before it reads a dataset (hostile or damaged files).

1. **Links to other files.**  A path inside the file is followed link by
   link without opening anything (soft links resolved, at most
   :data:`MAX_LINK_HOPS`); an *external link* (``h5py.ExternalLink``: the data
   lives in another file, which could be a FIFO, a device or someone else's
   file) is refused unless the caller opts in with
   ``load_map(path, allow_external=True)``.  So are datasets whose storage is
   in other files: *virtual datasets* (VDS) and *external raw storage*.
   When allowed, the files the data really came from are recorded in
   ``metadata["data_files"]`` and their SHA-256 goes into the provenance of
   a map written from it (``source_data_files``), not only the hash of the
   file that links to them.
2. **Unwritten data.**  HDF5 returns the fill value for chunks that were
   never written, so a 1 kB file can declare a 20000 x 20000 dataset that
   reads as zeros.  A chunked dataset with fewer than half its chunks
   written is refused; with some missing, a
   :class:`~superres_widgets.io.MapFileWarning` says how many.  A contiguous
   dataset with no storage allocated is refused.
3. **Size.**  A contiguous dataset must lie inside the file (else the file
   is truncated); the declared shape must fit the memory budget
   (:func:`superres_widgets.validate.check_bytes`), checked before reading.

Examples
--------
>>> import h5py, numpy as np, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with h5py.File(d / "data.h5", "w") as h:
...     _ = h.create_dataset("maps", data=np.ones((4, 4)))
>>> with h5py.File(d / "link.h5", "w") as h:
...     h["maps"] = h5py.ExternalLink("data.h5", "/maps")
>>> with h5py.File(d / "link.h5", "r") as h:
...     resolve_path(d / "link.h5", h, "/maps", allow_external=False)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
superres_widgets.io._common.MapFileError: .../link.h5: '/maps' is an external link to data.h5:/maps ...
"""

from __future__ import annotations

import math
import os
import posixpath
import warnings

from .._common import MapFileError, MapFileWarning, check_payload

__all__ = ["MAX_LINK_HOPS", "resolve_path", "check_dataset", "data_files"]

#: Most soft links followed while resolving one path (a loop is refused).
MAX_LINK_HOPS = 32

_OPT_IN = "pass allow_external=True to load_map to read it anyway"


def resolve_path(p, f, path: str, *, allow_external: bool) -> str | None:
    """The hard-link path ``path`` leads to in the open file ``f``, or ``None`` if nothing is there.

    Raises :class:`MapFileError` for an external link (unless
    ``allow_external``) and for soft-link loops.  With ``allow_external``
    the original path is returned when it crosses into another file (h5py
    follows it on access).
    """
    import h5py

    todo = [q for q in path.split("/") if q and q != "."]
    cur, hops = "/", 0
    while todo:
        name = todo.pop(0)
        if name == "..":
            cur = posixpath.dirname(cur.rstrip("/")) or "/"
            continue
        group = f[cur]
        if not isinstance(group, h5py.Group):
            return None
        link = group.get(name, getlink=True)
        if link is None:
            return None
        if isinstance(link, h5py.ExternalLink):
            if not allow_external:
                raise MapFileError(p, f"'{path}' is an external link to {link.filename}:{link.path} (the data "
                                      f"is in another file); refused -- {_OPT_IN}")
            return path
        if isinstance(link, h5py.SoftLink):
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise MapFileError(p, f"'{path}': more than {MAX_LINK_HOPS} soft links (a loop?)")
            target = [q for q in link.path.split("/") if q and q != "."]
            if link.path.startswith("/"):
                cur = "/"
            todo = target + todo
            continue
        cur = posixpath.join(cur, name)
    return cur


def data_files(p, ds) -> list[str]:
    """Files other than ``p`` the dataset's values come from (external link, VDS, external storage)."""
    found = []
    here = os.path.realpath(p)
    if os.path.realpath(ds.file.filename) != here:
        found.append(os.path.realpath(ds.file.filename))
    if ds.is_virtual:
        base = os.path.dirname(os.path.realpath(ds.file.filename))
        for src in ds.virtual_sources():
            name = src.file_name
            found.append(os.path.realpath(ds.file.filename if name == "." else os.path.join(base, name)))
    for name, _offset, _size in ds.external or ():
        text = name.decode() if isinstance(name, bytes) else str(name)
        found.append(os.path.realpath(text))
    return list(dict.fromkeys(found))


def check_dataset(p, ds, path: str, *, allow_external: bool) -> None:
    """Rules 1 (storage in other files), 2 (unwritten data) and 3 (size) for the dataset ``ds``."""
    import h5py

    if (ds.is_virtual or ds.external) and not allow_external:
        kind = "a virtual dataset (VDS)" if ds.is_virtual else "stored in external raw files"
        raise MapFileError(p, f"dataset '{path}' is {kind}: its values are in other files; refused -- {_OPT_IN}")
    dims = " x ".join(str(s) for s in ds.shape)
    if ds.size and not ds.is_virtual and not ds.external:
        layout = ds.id.get_create_plist().get_layout()
        if ds.chunks:
            expected = math.prod(math.ceil(s / c) for s, c in zip(ds.shape, ds.chunks))
            written = ds.id.get_num_chunks()
            if written < expected:
                said = (f"dataset '{path}' declares {dims} values but only {written} of its {expected} chunks "
                        f"were ever written (the rest read as the fill value {ds.fillvalue})")
                if 2 * written < expected:
                    raise MapFileError(p, f"{said}; refused as damaged or a placeholder")
                warnings.warn(f"{p}: {said}", MapFileWarning, stacklevel=5)
        elif layout == h5py.h5d.CONTIGUOUS:
            storage = ds.id.get_storage_size()
            if storage == 0:
                raise MapFileError(p, f"dataset '{path}' declares {dims} values but none was ever written "
                                      f"(it would read as the fill value {ds.fillvalue}); refused as damaged "
                                      "or a placeholder")
            offset = ds.id.get_offset()
            size = os.path.getsize(ds.file.filename)  # the file holding it (another one through a link)
            if offset is not None and offset + storage > size:
                raise MapFileError(p, f"dataset '{path}' ends at byte {offset + storage} but "
                                      f"{os.path.basename(ds.file.filename)} has {size} bytes; the file is truncated")
    check_payload(p, ds.shape, ds.dtype, what=f"dataset '{path}'")
