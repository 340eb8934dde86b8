r"""The built-in file formats, one module per format.

Every module in this folder whose name does not start with ``_`` is imported
when :mod:`superres_widgets.io` is, and the :class:`~superres_widgets.io.Reader`
objects in its ``READERS`` tuple and the :class:`~superres_widgets.io.Writer`
objects in its ``WRITERS`` tuple are added to the tables.  Adding a format
(MDA, MAPS HDF5, NeXus, ...) is therefore one new module here that defines
its read function and ``READERS = (Reader(name, extensions, read, ...),)``
(see :mod:`superres_widgets.io.registry` for the contract; a reader for one
flavour of a shared extension such as ``.h5`` gives a ``sniff``).

Order: ``tiff``, ``npy``, ``text``, ``hdf5`` (the historic order of
``READ_EXTENSIONS`` and of the error messages), then the others by name.
Later entries win ties for an extension (the registry's rule).

=============  =============================  ====================================
module         reads                          writes
=============  =============================  ====================================
``tiff``       ``.tif .tiff``                 ``.tif .tiff``
``npy``        ``.npy``                       --
``text``       ``.csv .tsv .txt .dat``        --
``hdf5``       ``.h5 .hdf5 .nxs``             ``.h5 .hdf5``
``maps_hdf5``  ``.h5 .hdf5`` with ``/MAPS``   --
``mda``        ``.mda`` (APS saveData)        --
``nexus``      ``.nxs .h5 .hdf5`` (NXdata)    --
``xy_table``   ``.csv ...`` (x, y columns)    --
=============  =============================  ====================================
"""

from __future__ import annotations

import importlib
import pkgutil

from ..registry import register_reader, register_writer

_FIRST = ("tiff", "npy", "text", "hdf5")


def _module_names():
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return [n for n in _FIRST if n in found] + [n for n in found if n not in _FIRST]


#: Names of the format modules, in registration order.
MODULES = tuple(_module_names())

for _name in MODULES:
    _mod = importlib.import_module(f"{__name__}.{_name}")
    for _r in getattr(_mod, "READERS", ()):
        register_reader(_r)
    for _w in getattr(_mod, "WRITERS", ()):
        register_writer(_w)
del _name, _mod
