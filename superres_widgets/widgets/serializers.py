"""Binary serialization of numpy arrays for the widget front-ends.

Every widget sends arrays to the browser through this one module. An array
travels as ``{"buffer": memoryview, "dtype": str, "shape": [..]}``; ipywidgets
moves the ``memoryview`` as a binary websocket buffer, so no array is ever
turned into a JSON list of numbers. The front-end counterpart is
``js/src/lib/arrays.js`` (``decodeArray``), which views the buffer as the
matching typed array.

Conventions
-----------
* Arrays are C-contiguous, row-major; ``shape`` is numpy's shape.
* dtypes the browser has typed arrays for are kept (float32, float64, int8/16/32,
  uint8/16/32). ``bool`` is sent as ``uint8``; 64-bit integers are sent as
  ``int32``/``uint32`` after a range check (JavaScript has no fast int64 view).
"""

from __future__ import annotations

import numpy as np
import traitlets

__all__ = ["array_to_json", "array_from_json", "ArrayTrait"]

_JS_DTYPES = {
    "float32", "float64", "int8", "int16", "int32", "uint8", "uint16", "uint32",
}


def _browser_dtype(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8)
    if arr.dtype.name in _JS_DTYPES:
        return arr
    if arr.dtype.kind in "iu":
        target = np.int32 if arr.dtype.kind == "i" else np.uint32
        info = np.iinfo(target)
        if arr.size and (arr.min() < info.min or arr.max() > info.max):
            raise ValueError(f"array values exceed the {np.dtype(target).name} range of the browser")
        return arr.astype(target)
    if arr.dtype.kind == "f":
        return arr.astype(np.float32)
    raise ValueError(f"cannot send an array of dtype {arr.dtype} to the browser")


def array_to_json(value, widget=None):
    """Serialize a numpy array (or ``None``) for an ipywidgets comm message."""
    if value is None:
        return None
    arr = np.ascontiguousarray(_browser_dtype(np.asarray(value)))
    return {"buffer": memoryview(arr.reshape(-1)), "dtype": arr.dtype.name, "shape": list(arr.shape)}


def array_from_json(value, widget=None):
    """Inverse of :func:`array_to_json` (used when the browser sends an array back)."""
    if value is None:
        return None
    buf = value["buffer"]
    arr = np.frombuffer(bytes(buf) if not isinstance(buf, (bytes, memoryview)) else buf, dtype=value["dtype"])
    return arr.reshape(value["shape"]).copy()


class ArrayTrait(traitlets.Any):
    """A synced numpy array trait sent as a binary buffer.

    ``dtype`` fixes the dtype the array is stored and sent with (the value is
    converted on assignment); ``ndim`` validates the number of dimensions.
    """

    def __init__(self, default_value=None, *, dtype=None, ndim=None, allow_none=True, **kwargs):
        self._dtype = None if dtype is None else np.dtype(dtype)
        self._ndim = ndim
        super().__init__(default_value=default_value, allow_none=allow_none, **kwargs)
        self.tag(sync=True, to_json=array_to_json, from_json=array_from_json)

    def validate(self, obj, value):
        if value is None:
            if self.allow_none:
                return None
            self.error(obj, value)
        arr = np.asarray(value, dtype=self._dtype)
        if self._ndim is not None and arr.ndim != self._ndim:
            raise traitlets.TraitError(
                f"trait {self.name!r} expects a {self._ndim}-D array, got shape {arr.shape}"
            )
        return arr
