r"""Read users' elemental maps and write restored maps with their provenance.

``load_map(path)`` reads a map or a stack of element channels with its pixel
size; ``save_map(path, data, ...)`` writes a result with a provenance record
saying how it was made.  Each file format is one reader (and writer) in one
table, keyed by file extension:

====================  =============  ============================================
extension             reader         module (its docstring has the rules)
====================  =============  ============================================
``.tif .tiff``        ``tiff``       :mod:`superres_widgets.io.formats.tiff`
``.npy``              ``npy``        :mod:`superres_widgets.io.formats.npy`
``.csv .tsv .txt``    ``text``       :mod:`superres_widgets.io.formats.text`
``.dat``              ``text``
``.h5 .hdf5 .nxs``    ``hdf5``       :mod:`superres_widgets.io.formats.hdf5`
``.h5 .hdf5``         ``maps_hdf5``  :mod:`superres_widgets.io.formats.maps_hdf5` (``/MAPS``)
``.nxs .h5 .hdf5``    ``nexus``      :mod:`superres_widgets.io.formats.nexus` (NXdata)
``.mda``              ``mda``        :mod:`superres_widgets.io.formats.mda`
``.csv .tsv .txt``    ``xy_table``   :mod:`superres_widgets.io.formats.xy_table`
====================  =============  ============================================

The sniffing readers (``maps_hdf5``, ``nexus``, ``xy_table``) take the
files that have their layout; the others go to the generic reader of the
extension.

:func:`save_map` writes ``.tif``/``.tiff`` and ``.h5``/``.hdf5``.
:func:`readers` / :func:`writers` list the tables; :func:`register_reader`
/ :func:`register_writer` add a user's own format (see
:mod:`superres_widgets.io.registry`), after which ``load_map``, ``save_map``
and ``superres-widgets deconvolve`` accept it.  An extension no reader
knows is ``MapFileError("<file>: unsupported extension '.xyz' (known:
...)")``.

Modules
-------
* :mod:`~superres_widgets.io._common` -- :class:`XRFMap`, the errors, units.
* :mod:`~superres_widgets.io.registry` -- the reader and writer tables.
* :mod:`~superres_widgets.io.maps` -- :func:`load_map`, :func:`save_map`
  (conventions: pixel size precedence, inputs never modified, atomic writes).
* :mod:`~superres_widgets.io.provenance` -- :func:`build_provenance` (the
  record's keys).
* :mod:`~superres_widgets.io.formats` -- one module per format.

Conventions
-----------
``data[row, col]`` (``[channel, row, col]`` for stacks), float64 after
loading, counts never rescaled; lengths in micrometres; every problem with a
file is a :class:`MapFileError` (a ``ValueError``) reading ``"<path>:
<reason>"``.  This package imports no widget code (algorithm layer).

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "fe.csv").write_text("Y\\X,0,5,10\n0,1,2,3\n5,4,5,6\n")
>>> m = load_map(d / "fe.csv", pixel_size_um=5.0)
>>> m.data.shape, m.metadata["header"]
((2, 3), 'both')
>>> out = save_map(d / "fe_rl.tif", m.data, pixel_size_um=5.0, method="richardson_lucy",
...                parameters={"num_iter": 30}, source=m)
>>> back = load_map(out)
>>> back.metadata["method"], back.pixel_size_um
('richardson_lucy', 5.0)
>>> [r.name for r in readers()][:4]
['tiff', 'npy', 'text', 'hdf5']
"""

from __future__ import annotations

from ._common import (MAP_FORMAT, MapFileError, MapFileNotFoundError, MapFileWarning,
                      MapFileWriteError, PixelSizeWarning, XRFMap)
from .registry import (Reader, Writer, read_extensions, reader_for, readers, register_reader,
                       register_writer, unregister_reader, unregister_writer, write_extensions,
                       writer_for, writers)
from . import formats  # noqa: F401  (registers the built-in readers and writers)
from .formats.hdf5 import HDF5_DATASET
from .maps import load_map, save_map
from .provenance import build_provenance

__all__ = ["XRFMap", "load_map", "save_map", "MapFileError", "MapFileNotFoundError", "MapFileWriteError",
           "MapFileWarning",
           "PixelSizeWarning", "MAP_FORMAT", "READ_EXTENSIONS", "WRITE_EXTENSIONS",
           "HDF5_DATASET", "build_provenance", "Reader", "Writer", "register_reader",
           "unregister_reader", "readers", "reader_for", "read_extensions", "register_writer",
           "unregister_writer", "writers", "writer_for", "write_extensions"]


def __getattr__(name):
    # READ_EXTENSIONS / WRITE_EXTENSIONS follow the tables (users' readers included)
    if name == "READ_EXTENSIONS":
        return read_extensions()
    if name == "WRITE_EXTENSIONS":
        return write_extensions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"READ_EXTENSIONS", "WRITE_EXTENSIONS"})
