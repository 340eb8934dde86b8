r"""One validation vocabulary and one memory budget for every public entry point.

Every public function of :mod:`superres_widgets.xrf`,
:mod:`superres_widgets.s3dxrd` and :mod:`superres_widgets.io` checks its
arguments with the functions here (directly, or through
``xrf/_validate.py`` and ``s3dxrd/conventions.py`` which delegate to them),
so that bad input always fails the same way, early, and says what to do.

Rules
-----
1. **Numbers are numbers.**  A parameter documented as a number takes a
   real number (``int``, ``float``, numpy scalars, 0-d numeric arrays) --
   never a ``bool`` and never a string, even a numeric one (``"3"``);
   anything else is a :class:`ValueError`.
2. **Messages name the parameter, the value and what is allowed**, e.g.
   ``"sigma_u must be a finite number in (0, inf), got nan"`` or
   ``"num_iter must be an integer in [1, 100000], got 1000000000"``; the
   message starts with the parameter's name so a widget can show it next
   to the control that produced it.
3. **Intervals** are written mathematically: ``[lo, hi]`` closed,
   ``(lo, hi)`` open, ``inf`` unbounded.  NaN is never in range; infinity
   only where a function says so.
4. **Memory budget.**  Before a large allocation (a PSF, padded FFT
   arrays, sub-pixel grids, a phantom, a stack, a file's payload as
   declared by its header) a function estimates the bytes it needs and
   calls :func:`check_bytes`, which refuses with :class:`MemoryBudgetError`
   (a ``ValueError``) when the estimate exceeds :func:`memory_limit`::

       gaussian_psf: a 3,748,037 x 3,748,037 kernel would need 102 TiB; the memory limit
       is 11.7 GiB (change it with superres_widgets.set_memory_limit(...) or the
       environment variable SUPERRES_WIDGETS_MEMORY_LIMIT)

   The limit, first found: the value given to :func:`set_memory_limit`;
   the environment variable :data:`ENV_VAR` (``SUPERRES_WIDGETS_MEMORY_LIMIT``,
   bytes or a size such as ``"8GiB"``, ``"500 MB"``, or a percentage of
   the machine's memory such as ``"75%"``); else :data:`DEFAULT_FRACTION`
   (half) of the machine's physical memory (or of the container's cgroup
   limit, whichever is smaller).  An estimate is an upper bound of what
   the call keeps alive at once, not a promise; the limit protects the
   process (and a notebook kernel) from one argument or one file header
   asking for terabytes.
5. **Files** are read only if they are regular files
   (:func:`regular_file_problem`): never FIFOs (which block), devices
   (``/dev/zero`` never ends) or directories.

Examples
--------
>>> check_positive(2.5, "sigma_u")
2.5
>>> check_positive(float("nan"), "sigma_u")
Traceback (most recent call last):
...
ValueError: sigma_u must be a finite number in (0, inf), got nan
>>> check_int(True, "num_iter", lo=1)
Traceback (most recent call last):
...
ValueError: num_iter must be an integer in [1, inf), got True (a bool)
>>> format_bytes(18.6 * 2**40)
'18.6 TiB'
>>> with memory_limit_set("1 GiB"):
...     check_bytes(8 * 10**12, "stack")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
superres_widgets.validate.MemoryBudgetError: stack would need 7.28 TiB; the memory limit is 1 GiB (change ...)
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import re
import stat
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ENV_VAR", "DEFAULT_FRACTION", "MAX_ITERATIONS", "MemoryBudgetError",
    "memory_limit", "set_memory_limit", "memory_limit_set", "default_memory_limit", "physical_memory",
    "parse_size", "format_bytes", "check_bytes", "array_nbytes", "check_array_bytes",
    "check_number", "check_finite", "check_positive", "check_nonnegative", "check_int",
    "check_iterations", "check_probability", "check_bool", "check_choice", "check_array",
    "check_finite_result", "regular_file_problem", "check_regular_file", "interval_text",
]

#: Environment variable holding the memory limit (bytes, ``"8GiB"``, ``"75%"``).
ENV_VAR = "SUPERRES_WIDGETS_MEMORY_LIMIT"
#: Default memory limit as a fraction of the machine's (or container's) memory.
DEFAULT_FRACTION = 0.5
#: Fallback limit when the machine's memory cannot be read.
_FALLBACK_LIMIT = 8 * 2**30
#: Default cap of iteration counts (:func:`check_iterations`).
MAX_ITERATIONS = 100_000

_lock = threading.Lock()
_explicit_limit: int | None = None


class MemoryBudgetError(ValueError):
    """A call would need more memory than :func:`memory_limit` allows (rule 4).

    Attributes
    ----------
    needed : float
        Estimated bytes.
    limit : int
        The limit in bytes when the call was refused.
    """

    def __init__(self, message: str, needed: float = math.nan, limit: int = 0):
        super().__init__(message)
        self.needed = needed
        self.limit = limit


# ---------------------------------------------------------------------------
# sizes and the memory limit
# ---------------------------------------------------------------------------
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
          "pib": 2**50, "pb": 10**15}
_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*|%)\s*$")


def physical_memory() -> int | None:
    """Bytes of memory this process can use: physical RAM, or the cgroup limit if smaller.

    Returns ``None`` when it cannot be read.

    Examples
    --------
    >>> physical_memory() is None or physical_memory() > 2**20
    True
    """
    total = None
    try:
        total = int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    for f in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(f) as fh:
                text = fh.read().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < 2**60:
            total = int(text) if total is None else min(total, int(text))
    return total if total and total > 0 else None


def default_memory_limit() -> int:
    """:data:`DEFAULT_FRACTION` of :func:`physical_memory` (8 GiB if unknown), in bytes.

    Examples
    --------
    >>> default_memory_limit() > 0
    True
    """
    mem = physical_memory()
    return int(mem * DEFAULT_FRACTION) if mem else _FALLBACK_LIMIT


def parse_size(value: Any, name: str = "limit") -> int:
    """Bytes from ``value``: a positive number of bytes, ``"8GiB"``, ``"500 MB"`` or ``"75%"`` of memory.

    Examples
    --------
    >>> parse_size("2 GiB"), parse_size(1e9), parse_size("512k")
    (2147483648, 1000000000, 512000)
    """
    if isinstance(value, str):
        m = _SIZE_RE.match(value)
        unit = m.group(2).lower() if m else None
        if m is None or (unit not in _UNITS and unit != "%"):
            raise ValueError(f"{name} must be a size such as '8GiB', '500 MB', '75%' or a number of "
                             f"bytes, got {value!r}")
        number = float(m.group(1))
        if unit == "%":
            if not 0 < number <= 100:
                raise ValueError(f"{name} must be a percentage in (0, 100], got {value!r}")
            return max(1, int((physical_memory() or _FALLBACK_LIMIT / DEFAULT_FRACTION) * number / 100))
        out = number * _UNITS[unit]
    else:
        out = check_number(value, name, lo=0, lo_open=True)
    if not 1 <= out < 2**63:
        raise ValueError(f"{name} must be between 1 byte and 8 EiB, got {value!r}")
    return int(out)


def memory_limit() -> int:
    """The memory limit in bytes: :func:`set_memory_limit`, else :data:`ENV_VAR`, else the default (rule 4).

    Raises
    ------
    ValueError
        The environment variable is set to something that is not a size.

    Examples
    --------
    >>> with memory_limit_set("3 GiB"):
    ...     memory_limit()
    3221225472
    """
    with _lock:
        explicit = _explicit_limit
    if explicit is not None:
        return explicit
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return parse_size(env, f"the environment variable {ENV_VAR}")
    return default_memory_limit()


def set_memory_limit(limit: Any) -> int | None:
    """Set the memory limit for this process; returns the previous explicit limit (or ``None``).

    Parameters
    ----------
    limit : int, float, str or None
        Bytes, a size (``"8GiB"``, ``"500 MB"``) or a percentage of the
        machine's memory (``"75%"``); ``None`` goes back to the environment
        variable or the default.

    Examples
    --------
    >>> old = set_memory_limit("16 GiB")
    >>> format_bytes(memory_limit())
    '16 GiB'
    >>> _ = set_memory_limit(old)
    """
    global _explicit_limit
    new = None if limit is None else parse_size(limit, "limit")
    with _lock:
        old, _explicit_limit = _explicit_limit, new
    return old


@contextlib.contextmanager
def memory_limit_set(limit: Any):
    """Context manager: :func:`set_memory_limit` inside the block, the previous limit after.

    Examples
    --------
    >>> with memory_limit_set(2**30):
    ...     memory_limit() == 2**30
    True
    """
    old = set_memory_limit(limit)
    try:
        yield
    finally:
        set_memory_limit(old)


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units, three significant digits.

    Examples
    --------
    >>> format_bytes(1536), format_bytes(5 * 2**30), format_bytes(12)
    ('1.5 KiB', '5 GiB', '12 B')
    """
    n = float(n)
    if not math.isfinite(n):
        return "an unbounded amount of memory"
    for unit, size in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20),
                       ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def check_bytes(nbytes: float, what: str) -> None:
    """Refuse (:class:`MemoryBudgetError`) if ``nbytes`` exceeds :func:`memory_limit` (rule 4).

    Parameters
    ----------
    nbytes : float
        Estimated bytes the call needs at once (a Python int or float: no
        overflow; NaN or inf count as unbounded).
    what : str
        What needs it, starting the message (``"gaussian_psf: a 10 x 10
        kernel"``).

    Examples
    --------
    >>> check_bytes(1024, "a small array")   # fits: returns None
    """
    n = float(nbytes)
    limit = memory_limit()
    if not n <= limit:  # NaN refused too
        raise MemoryBudgetError(
            f"{what} would need {format_bytes(n)}; the memory limit is {format_bytes(limit)} (change it "
            f"with superres_widgets.set_memory_limit(...) or the environment variable {ENV_VAR})",
            needed=n, limit=limit)


def array_nbytes(shape: Iterable[Any], dtype: Any = np.float64, copies: float = 1) -> float:
    """Bytes of ``copies`` arrays of ``shape`` and ``dtype`` (exact integers: no overflow).

    Examples
    --------
    >>> array_nbytes((1000, 1000)), array_nbytes((10**6, 10**6), np.float32)
    (8000000.0, 4000000000000.0)
    """
    n = 1
    for s in shape:
        n *= max(int(s), 0)
    try:
        return float(n) * np.dtype(dtype).itemsize * copies
    except OverflowError:  # beyond float range: unbounded
        return math.inf


def check_array_bytes(shape: Iterable[Any], what: str, dtype: Any = np.float64, copies: float = 1) -> None:
    """:func:`check_bytes` for ``copies`` arrays of ``shape``; the message shows the shape.

    Examples
    --------
    >>> check_array_bytes((64, 64), "psf")
    """
    shape = tuple(int(s) for s in shape)
    check_bytes(array_nbytes(shape, dtype, copies), f"{what} ({' x '.join(map(str, shape)) or 'scalar'}"
                f"{'' if copies == 1 else f', {copies:g} arrays'} of {np.dtype(dtype).name})")


# ---------------------------------------------------------------------------
# scalars
# ---------------------------------------------------------------------------
def _num(x: float) -> str:
    if x == math.inf:
        return "inf"
    if x == -math.inf:
        return "-inf"
    return f"{x:g}" if isinstance(x, float) else str(x)


def interval_text(lo: float | None = None, hi: float | None = None, lo_open: bool = False,
                  hi_open: bool = False) -> str:
    """``[lo, hi]`` / ``(lo, hi)`` / ``[lo, inf)`` (rule 3).

    Examples
    --------
    >>> interval_text(0, None, lo_open=True), interval_text(-1, 1, True, True), interval_text(1, 10)
    ('(0, inf)', '(-1, 1)', '[1, 10]')
    """
    left = "(" if lo is None or lo_open else "["
    right = ")" if hi is None or hi_open else "]"
    return f"{left}{'-inf' if lo is None else _num(lo)}, {'inf' if hi is None else _num(hi)}{right}"


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    if isinstance(value, (bool, np.bool_)):
        return f"{text} (a bool)"
    if isinstance(value, (str, bytes)):
        return f"{text} (a string)"
    if not isinstance(value, (numbers.Number, np.generic)):
        return f"{text} (a {type(value).__name__})"
    return text


def _as_real(value: Any) -> float | int | None:
    """The real number ``value`` stands for, or ``None`` if it is not one (bools and strings are not)."""
    if isinstance(value, (bool, np.bool_, str, bytes)):
        return None
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or value.dtype.kind not in "iuf":
            return None
        value = value[()]
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def check_number(value: Any, name: str, *, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, integer: bool = False,
                 finite: bool = True, allow_none: bool = False) -> Any:
    """The number ``value`` if it is one and lies in the interval, else ``ValueError`` (rules 1-3).

    Parameters
    ----------
    value : Any
    name : str
        The parameter's name, starting the message.
    lo, hi : float, optional
        Bounds; ``None`` is unbounded.
    lo_open, hi_open : bool
        Exclude the bound.
    integer : bool
        Require an integer value (``int``, numpy integers, or a float with an
        integer value such as ``5.0``); returns an ``int``.
    finite : bool
        Refuse ``inf`` (NaN is always refused).
    allow_none : bool
        ``None`` passes through (an optional parameter).

    Returns
    -------
    float, or int when ``integer`` (or ``None`` when allowed).

    Examples
    --------
    >>> check_number(3, "n", lo=1, integer=True), check_number(0.5, "p", lo=0, hi=1)
    (3, 0.5)
    >>> check_number("3", "n")
    Traceback (most recent call last):
    ...
    ValueError: n must be a finite number in (-inf, inf), got '3' (a string)
    """
    if value is None and allow_none:
        return None
    t = type(value)
    x = value if t is float or t is int else _as_real(value)  # fast path for plain numbers
    if x is None:
        bad = True
    else:
        bad = x != x or (finite and (x == math.inf or x == -math.inf))
        if not bad and integer and isinstance(x, float):
            bad = math.isinf(x) or not x.is_integer()
            if not bad:
                x = int(x)
        if not bad:
            bad = ((lo is not None and (x < lo or (lo_open and x == lo)))
                   or (hi is not None and (x > hi or (hi_open and x == hi))))
    if bad:
        kind = "an integer" if integer else ("a finite number" if finite else "a number")
        rng = interval_text(lo, hi, lo_open, hi_open)
        none = " or None" if allow_none and x is None else ""
        raise ValueError(f"{name} must be {kind} in {rng}{none}, got {_describe(value)}")
    return x


def check_finite(value: Any, name: str, lo: float | None = None, hi: float | None = None) -> float:
    """A finite float in ``[lo, hi]`` (rules 1-3).

    Examples
    --------
    >>> check_finite(-2, "rho", -5, 5)
    -2.0
    """
    return float(check_number(value, name, lo=lo, hi=hi))


def check_positive(value: Any, name: str, hi: float | None = None) -> float:
    """A finite float in ``(0, hi]``.

    Examples
    --------
    >>> check_positive(1e-3, "step_um")
    0.001
    """
    return float(check_number(value, name, lo=0, lo_open=True, hi=hi))


def check_nonnegative(value: Any, name: str, hi: float | None = None) -> float:
    """A finite float in ``[0, hi]``.

    Examples
    --------
    >>> check_nonnegative(0, "jitter_um")
    0.0
    """
    return float(check_number(value, name, lo=0, hi=hi))


def check_int(value: Any, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """An integer in ``[lo, hi]`` (integer-valued floats accepted, bools and strings not).

    Examples
    --------
    >>> check_int(4.0, "subdivision", 1, 64)
    4
    """
    return check_number(value, name, lo=lo, hi=hi, integer=True)


def check_iterations(value: Any, name: str = "num_iter", lo: int = 1, maximum: int = MAX_ITERATIONS) -> int:
    """An iteration count in ``[lo, maximum]`` (:data:`MAX_ITERATIONS` by default): no runaway loops.

    Examples
    --------
    >>> check_iterations(10**9)
    Traceback (most recent call last):
    ...
    ValueError: num_iter must be an integer in [1, 100000], got 1000000000
    """
    return check_int(value, name, lo, maximum)


def check_probability(value: Any, name: str, open_ends: bool = False) -> float:
    """A float in ``[0, 1]`` (``(0, 1)`` with ``open_ends``).

    Examples
    --------
    >>> check_probability(0.25, "detection_probability")
    0.25
    """
    return float(check_number(value, name, lo=0, hi=1, lo_open=open_ends, hi_open=open_ends))


def check_bool(value: Any, name: str) -> bool:
    """``True`` or ``False`` (numpy bools too); not 0/1, not strings.

    Examples
    --------
    >>> check_bool(np.True_, "nonnegative")
    True
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {_describe(value)}")


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices`` (compared with ``==``; unhashable values refused).

    Examples
    --------
    >>> check_choice("periodic", "boundary", ("reflect", "periodic"))
    'periodic'
    >>> check_choice("bogus", "transform", ("rfft", "dct"))
    Traceback (most recent call last):
    ...
    ValueError: transform must be one of 'rfft', 'dct', got 'bogus'
    """
    try:
        ok = any(type(value) is type(c) and value == c for c in choices) or (
            value is None and None in choices)
    except Exception:  # noqa: BLE001 - an object whose == raises is not a choice
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got "
                         f"{value!r}"[:200])
    return value


# ---------------------------------------------------------------------------
# arrays and results
# ---------------------------------------------------------------------------
def check_array(value: Any, name: str, *, ndim: int | Sequence[int] | None = None,
                shape: Sequence[int | None] | None = None, min_size: int = 1,
                min_side: int | None = None, dtype: Any = np.float64, finite: bool = True,
                nonnegative: bool = False, max_abs: float | None = None, integer: bool = False) -> np.ndarray:
    """``value`` as an array of ``dtype`` after the checks, else ``ValueError`` naming ``name``.

    Refused: object, string, structured or complex arrays; ragged sequences;
    a wrong ``ndim`` or ``shape`` (``None`` entries are free); fewer than
    ``min_size`` values or a side shorter than ``min_side``; NaN/inf (with
    ``finite``); negative values (``nonnegative``); ``|x| > max_abs``;
    non-integers (``integer``).  Bools count as numbers in arrays (masks).

    Examples
    --------
    >>> check_array([[1, 2], [3, 4]], "image", ndim=2).dtype
    dtype('float64')
    >>> check_array([1.0, float("nan")], "omega_deg")
    Traceback (most recent call last):
    ...
    ValueError: omega_deg must be finite (no NaN or inf); 1 of 2 values are not (first at index 1)
    """
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be an array of numbers, got {_describe(value)}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - ragged sequences and odd objects
        raise ValueError(f"{name} must be an array of numbers ({type(exc).__name__}: {exc})") from None
    if arr.dtype.kind not in "biuf":
        what = {"c": "complex", "O": "Python objects", "U": "strings", "S": "bytes",
                "V": "records"}.get(arr.dtype.kind, str(arr.dtype))
        raise ValueError(f"{name} must be an array of real numbers, got an array of {what} "
                         f"(dtype {arr.dtype})")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got a {arr.ndim}-D array of shape {arr.shape}")
    if shape is not None and (len(shape) != arr.ndim or any(
            s is not None and s != a for s, a in zip(shape, arr.shape))):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must hold at least {min_size} value(s), got shape {arr.shape}")
    if min_side is not None and arr.ndim and min(arr.shape) < min_side:
        raise ValueError(f"{name} must be at least {min_side} values along each axis, got shape {arr.shape}")
    out = arr.astype(dtype, copy=False) if dtype is not None else arr
    if finite and out.dtype.kind == "f" and not np.isfinite(out).all():
        bad = ~np.isfinite(out)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = first[0] if len(first) == 1 else first
        raise ValueError(f"{name} must be finite (no NaN or inf); {int(bad.sum())} of {out.size} values "
                         f"are not (first at index {where})")
    if nonnegative and out.size and np.nanmin(out) < 0:
        raise ValueError(f"{name} must be >= 0, got a minimum of {float(np.nanmin(out)):g}")
    if max_abs is not None and out.size and np.nanmax(np.abs(out)) > max_abs:
        raise ValueError(f"{name} values must lie in [-{max_abs:g}, {max_abs:g}], got "
                         f"{float(np.nanmax(np.abs(out))):g}")
    if integer and out.size and out.dtype.kind == "f" and not np.all(np.mod(out, 1) == 0):
        raise ValueError(f"{name} must hold integers")
    return out


def check_finite_result(value: Any, what: str, hint: str = "") -> Any:
    """``value`` unchanged if every float in it is finite, else ``ValueError`` (never a silent NaN).

    For results whose NaN would come from an overflow no entry check can
    rule out cheaply; ``hint`` says what to change.

    Examples
    --------
    >>> check_finite_result(np.array([1.0, np.inf]), "richardson_lucy", "scale the image down")
    Traceback (most recent call last):
    ...
    ValueError: richardson_lucy: the result is not finite (1 NaN or inf value(s)); scale the image down
    """
    arr = np.asarray(value)
    if arr.dtype.kind in "fc":
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        if bad:
            raise ValueError(f"{what}: the result is not finite ({bad} NaN or inf value(s))"
                             f"{'; ' + hint if hint else ''}")
    return value


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------
def regular_file_problem(path: Any) -> str | None:
    """Why ``path`` cannot be read as a data file (rule 5), or ``None`` if it is a regular file.

    Symbolic links are followed (a link to ``/dev/zero`` is a device).

    Examples
    --------
    >>> regular_file_problem("/dev/null")
    'is a character device, not a regular file'
    >>> regular_file_problem("/")
    'is a directory, not a file'
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except NotADirectoryError:
        return "no such file (a parent is not a folder)"
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
            else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "not a regular file")
    return f"is {kind}, not a regular file" if kind != "not a regular file" else "is not a regular file"


def check_regular_file(path: Any, name: str = "path") -> str:
    """``os.fspath(path)`` if it names a readable regular file, else ``ValueError`` / ``FileNotFoundError``.

    The message is ``"<path>: <reason>"``.

    Examples
    --------
    >>> check_regular_file("/dev/zero")
    Traceback (most recent call last):
    ...
    ValueError: /dev/zero: is a character device, not a regular file
    """
    if isinstance(path, (bool, int, float)) or path is None:
        raise ValueError(f"{name} must be a file path, got {_describe(path)}")
    try:
        fname = os.fspath(path)
    except TypeError:
        raise ValueError(f"{name} must be a file path, got {_describe(path)}") from None
    problem = regular_file_problem(fname)
    if problem == "no such file":
        raise FileNotFoundError(2, "No such file or directory", fname)
    if problem is not None:
        raise ValueError(f"{fname}: {problem}")
    return fname
