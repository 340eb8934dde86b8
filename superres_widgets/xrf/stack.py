r"""Restore many channels and large maps in tiles on Dask.

:func:`deconvolve_stack` runs any registered restoration method that takes a
PSF (:func:`~superres_widgets.xrf.methods`: Richardson-Lucy, Wiener, FISTA
and the user's own) on every channel of a ``(channel, row, col)`` stack, each channel cut into
``chunk_px`` x ``chunk_px`` tiles that :func:`dask.array.map_overlap` extends
by a halo of real neighbouring pixels; each tile is restored on its own
(``workers=1``: Dask owns the parallelism) and the halo is cut off again.
Dask's local threaded scheduler runs the tiles by default; pass a
:class:`distributed.Client` (or a Dask scheduler name) to run them elsewhere.

Halo rule (measured, not guessed)
---------------------------------
A tile is exact only if the halo carries everything the restoration of its
interior depends on.  One convolution reaches ``ceil(4 sigma)`` pixels (the
Gaussian kernel's half-width); ``n`` iterations of ``H`` and ``H^T`` could in
principle reach ``2 n`` times as far, but the influence decays much faster:
it was measured by restoring a 128 x 128 interior with halos of 8-200 px
and comparing with the whole 512-640 px image (Poisson counts of a blocky
phantom; ``max|tile - whole| / max|whole|``):

=====================  =====  ==============  ==============================
method                 sigma  1e-4 reached at  halo used (rule below)
=====================  =====  ==============  ==============================
RL, 30 it.             1.5    16 px (4e-5)     23 px
RL, 30 it.             2      ~24 px           30 px
RL, 30 it.             3      48 px (9e-6)     45 px (1.4e-4 at 32 px)
RL, 30 it.             5      64 px (1e-5)     75 px
RL, 100 it.            3      48 px (3e-5)     72 px
Wiener, balance 0.3    3      48 px (1e-5)     49 px
Wiener, balance 0.03   3      48 px (7e-5)     61 px (2e-6 at 64 px)
Wiener, balance 0.003  3      48-64 px         73 px (4e-6 at 64 px)
FISTA, 30 it.          2      48 px (1e-5)     52 px
FISTA, 30 it.          3      64 px (2e-5)     78 px
FISTA, 100 it.         3      ~1e-4 floor      132 px
=====================  =====  ==============  ==============================

So the halo, in pixels, with ``s`` the PSF sigma in pixels (the largest of
the two axes) -- each rule is declared with its method in
:mod:`superres_widgets.xrf.registry` (``Method.halo``; a method without one,
like a user's method registered without ``halo=``, is restored whole):

* Richardson-Lucy: ``ceil(s (4 + 2 sqrt(num_iter)))``;
* FISTA: ``ceil(s (4 + 4 sqrt(num_iter)))``;
* Wiener: ``ceil(s (14 + 4 log10(1 / balance)))`` (``balance`` floored at
  1e-6);
* never less than the PSF radius ``ceil(4 s)`` nor than 8 px.

Tiles are at least ``2 x halo`` on a side (``chunk_px`` is raised if
needed).  FISTA's step ``1 / L`` is computed per tile (``L`` depends slightly
on the tile's grid), which leaves a floor of ~1e-5 (30 iterations) to ~1e-4
(100 iterations) whatever the halo.

Whole-image path: a map no larger than one tile, every channel of a method
that declares no halo, and every channel when
``acceleration="biggs-andrews"`` (its halo rule says None: its extrapolation
weight is an inner product over the whole image, so tiles never agree with
the whole-image result, measured 3e-4 to 2e-3) or ``x0="wiener"`` (its balance
is chosen from the whole map and its filter reaches far), is restored whole, channels in parallel as
one Dask task each -- identical to calling the method per channel.

At the outer border of the image the tiles see the same boundary model as
the whole-image method (Dask adds no halo there and the tile applies
``boundary``; for ``"periodic"`` Dask wraps the halo around), so in practice
the whole result matches, not only the interior.
"""

from __future__ import annotations

import math
import numbers
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._data import check_negative_policy
from .psf import gaussian_psf, kernel_to_sigma
from .psf_image import prepare_psf
from .registry import get_method, methods

__all__ = ["deconvolve_stack", "halo_px"]

_SCHEDULER_NAMES = {"local", "threads", "threading", "sync", "synchronous", "single-threaded",
                    "processes", "multiprocessing"}


def halo_px(method: str, sigma_px: float, **params) -> int | None:
    """Halo (overlap depth, pixels) that keeps a tiled restoration within 1e-4 of the whole.

    Parameters
    ----------
    method : str
        A registered method's name or alias.
    sigma_px : float
        PSF standard deviation in pixels.
    **params
        The method's parameters (defaults for the others), e.g. ``num_iter``.

    Returns
    -------
    int or None
        The depth (the method's rule, at least the PSF radius and 8 px; see
        the module docstring), or ``None`` when the method cannot be tiled
        (no rule, Biggs-Andrews acceleration or the Wiener start): restore whole.

    Examples
    --------
    >>> halo_px("rl", 3.0, num_iter=30), halo_px("rl", 3.0, acceleration="biggs-andrews")
    (45, None)
    """
    m = get_method(method)
    return m.halo_px(sigma_px, m.values(params))


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


# tiles finished per call (key: the call's graph-name prefix); only tiles that run in
# this process count (threaded / synchronous schedulers and in-process clients)
_COUNTERS: dict = {}
_COUNT_LOCK = threading.Lock()


def _fast_pads(shape, block_info, tiled: bool, boundary: str):
    """Padding that brings a tile to a fast FFT/DCT length (5-smooth).

    A tile of ``chunk + 2 halo`` pixels is often a slow transform length
    (e.g. 1114 = 2 x 557 is 4x slower than 1120).  The extra pixels are a
    symmetric continuation added only on sides that carry a halo (never on
    the image's own border, where the tile must apply ``boundary`` exactly
    like the whole-image method), so they sit farther than the halo from the
    pixels kept.
    """
    import scipy.fft as sfft

    if not tiled or not block_info or None not in block_info and 0 not in block_info:
        return ((0, 0), (0, 0))
    info = block_info.get(0) or block_info.get(None)
    loc, num = info.get("chunk-location"), info.get("num-chunks")
    if loc is None or num is None:
        return ((0, 0), (0, 0))
    pads = []
    for axis in range(2):
        n = shape[axis]
        extra = sfft.next_fast_len(n, real=True) - n
        low_border = boundary != "periodic" and loc[axis] == 0
        high_border = boundary != "periodic" and loc[axis] == num[axis] - 1
        if extra == 0 or (low_border and high_border):
            pads.append((0, 0))
        elif low_border:
            pads.append((0, extra))
        elif high_border:
            pads.append((extra, 0))
        else:
            pads.append((extra // 2, extra - extra // 2))
    # a symmetric pad wider than the tile would not be a continuation
    if any(a > shape[i] or b > shape[i] for i, (a, b) in enumerate(pads)):
        return ((0, 0), (0, 0))
    return tuple(pads)


class _TileRestorer:
    """Restore one tile (a picklable callable: Dask may ship it to other processes).

    Holds the method's function and its keyword arguments, not the registry
    entry, so a worker process needs only the function to be importable.
    """

    def __init__(self, name, function, channel, psf, kwargs, takes_mask, dtype, counter_key, tiled,
                 boundary):
        self.name, self.function, self.channel, self.psf = name, function, channel, psf
        self.kwargs, self.takes_mask, self.dtype = kwargs, takes_mask, dtype
        self.counter_key, self.tiled, self.boundary = counter_key, tiled, boundary

    def __call__(self, block, block_info=None):
        img = np.asarray(block, dtype=np.float64)
        if np.isinf(img).any():
            raise ValueError(f"stack contains infinite values (channel {self.channel})")
        if not self.takes_mask and np.isnan(img).any():
            raise ValueError(f"stack has NaN (masked) pixels in channel {self.channel} and {self.name} takes no "
                             "mask; fill them or use a built-in method")
        pads = _fast_pads(img.shape, block_info, self.tiled, self.boundary)
        if any(a or b for a, b in pads):
            img = np.pad(img, pads, mode="symmetric")
        out = self.function(img, self.psf, **self.kwargs)
        out = np.asarray(getattr(out, "image", out))
        if any(a or b for a, b in pads):
            out = out[pads[0][0]:out.shape[0] - pads[0][1], pads[1][0]:out.shape[1] - pads[1][1]]
        counter = _COUNTERS.get(self.counter_key)
        if counter is not None:
            with _COUNT_LOCK:
                counter[0] += 1
        return out.astype(self.dtype, copy=False)


def _is_client(obj) -> bool:
    return all(hasattr(obj, a) for a in ("persist", "gather", "submit", "scheduler_info"))


def deconvolve_stack(stack, psf_sigma_um: float | Sequence[float] | None = None, pixel_size_um: float | None = None,
                     method: str = "richardson_lucy", *, psf=None, negative: str | None = None, mask=None,
                     chunk_px: int = 1024,
                     boundary: str | None = None, scheduler: Any = None,
                     progress: Callable[[int, int], None] | None = None,
                     dtype=np.float32, **params) -> np.ndarray:
    r"""Restore a map or a stack of channels in overlapping tiles with Dask.

    Parameters
    ----------
    stack : array_like or dask.array.Array
        ``(rows, cols)`` map or ``(channel, rows, cols)`` stack of counts;
        numpy or Dask (e.g. ``da.from_array(h5py_dataset)`` for a map larger
        than memory; it is read tile by tile).
    psf_sigma_um : float or sequence of float, optional
        Gaussian PSF standard deviation, um; one value for all channels or
        one per channel.  Give this or ``psf``.
    pixel_size_um : float
        Pixel size (scan step), um (needed with ``psf_sigma_um``).
    method : str
        A registered method that takes a PSF, by name or alias
        (:func:`~superres_widgets.xrf.methods`): ``"richardson_lucy"``
        (``"rl"``), ``"wiener"``, ``"fista"`` or one the user registered.
    psf : array_like or sequence of array_like, optional
        PSF image(s) on the map's pixel grid instead of a Gaussian: one for
        every channel or one per channel (checked, normalised and centred by
        :func:`~superres_widgets.xrf.prepare_psf`).  The halo uses the
        sigma of its second moments (:func:`~superres_widgets.xrf.kernel_to_sigma`),
        at least its half-width.
    negative : {None, "offset", "clip", "error", "keep"}
        Negative pixels, per channel over the whole channel (so tiles agree
        with the whole map): ``"offset"`` shifts the channel to a minimum of 0
        and the result back, ``"clip"``, ``"error"``, ``"keep"``
        (least-squares methods only).  None: ``"offset"`` for the methods
        that model counts (``nonnegative`` in their declaration), else
        ``"keep"`` (see :mod:`superres_widgets.xrf._data`).
    mask : bool array_like, optional
        ``(rows, cols)`` or ``(channel, rows, cols)``, True = excluded (as
        NaN pixels in ``stack`` are); the method leaves them out of its data
        term.
    chunk_px : int
        Tile side, pixels (>= 16); raised to twice the halo if smaller.
    boundary : {None, "reflect", "periodic", "masked"}
        Model outside the image, as in the methods (those the method declares;
        ``"masked"``: RL and FISTA only); None: the method's first declared
        one (``"reflect"`` for the built-in methods).
    scheduler : None, str or distributed.Client
        ``None`` or ``"local"``: Dask's local threaded scheduler; a
        scheduler name (``"threads"``, ``"synchronous"``, ``"processes"``);
        or a
        :class:`distributed.Client`, on whose cluster the tiles run.
    progress : callable, optional
        ``progress(done, total)`` in tiles (``total`` = tiles over all
        channels), called in the calling thread: ``(0, total)`` first, then
        as tiles finish, last with ``done == total``.  With
        ``scheduler="processes"`` only the first and last calls happen.
    dtype : {numpy.float32, numpy.float64}
        Working precision and dtype of the result.
    **params
        The method's parameters (its declaration's defaults for the rest),
        e.g. ``num_iter=30`` and ``acceleration="biggs-andrews"`` for
        Richardson-Lucy (each channel is then restored whole), ``balance``
        for Wiener, ``lam`` and ``num_iter`` for FISTA.

    Returns
    -------
    ndarray
        Restored counts, same shape as ``stack``, ``dtype``.

    Raises
    ------
    ValueError
        Naming the parameter: ``stack`` not 2-D/3-D, empty, inf (or
        negative with ``negative="error"``); ``psf_sigma_um`` <= 0 or of the wrong
        length, neither or both of ``psf_sigma_um`` and ``psf``, a bad PSF
        image (:func:`~superres_widgets.xrf.prepare_psf`); ``pixel_size_um``
        <= 0; a ``mask`` of the wrong shape; an unknown ``method`` (the message
        lists the valid names) or one that estimates its own PSF; a parameter
        the method does not take or outside its range; bad ``chunk_px``,
        ``boundary``, ``dtype``.

    Notes
    -----
    Halo per channel: :func:`halo_px` (the method's declared rule; the
    measurements are in the module docstring).  NaN pixels are masked (left
    out of the data term by the built-in methods).  Tiles of a Dask input with inf raise the
    ValueError when they are computed.

    Examples
    --------
    >>> import numpy as np
    >>> from superres_widgets.xrf import deconvolve_stack
    >>> stack = np.random.default_rng(0).poisson(50.0, size=(2, 96, 96)).astype(float)
    >>> out = deconvolve_stack(stack, [3.0, 4.0], pixel_size_um=1.0, num_iter=5, chunk_px=48)
    >>> out.shape, out.dtype
    ((2, 96, 96), dtype('float32'))
    """
    import dask.array as da

    m = get_method(method)
    if not m.needs_psf:
        raise ValueError(f"method {m.name!r} estimates its own PSF; deconvolve_stack restores with a given "
                         f"PSF: use one of {[x.name for x in methods(needs_psf=True)]}")
    values = m.values(params)  # ValueError naming a parameter the method does not take or out of range
    arr, is_dask = _checked_stack(stack, mask, da)
    n_ch = 1 if arr.ndim == 2 else int(arr.shape[0])
    if (psf is None) == (psf_sigma_um is None):
        raise ValueError("give either psf_sigma_um (a Gaussian, with pixel_size_um) or psf (PSF images), "
                         f"got {'both' if psf is not None else 'neither'}")
    if psf is None:
        px = _positive(pixel_size_um, "pixel_size_um")
        sigmas = _checked_sigmas(psf_sigma_um, n_ch)
        kernels = [gaussian_psf(s / px) for s in sigmas]
        sig_px = [s / px for s in sigmas]
        labels = [f"psf_sigma_um={s:g}" for s in sigmas]
    else:
        kernels = _checked_kernels(psf, n_ch, tuple(arr.shape[-2:]))
        sig_px = [max(float(np.max(kernel_to_sigma(k))), (max(k.shape) - 1) / 8.0) for k in kernels]
        labels = [f"psf {k.shape}" for k in kernels]
    policy = negative if negative is not None else ("offset" if m.nonnegative else "keep")
    check_negative_policy(policy, poisson=m.nonnegative)
    arr, offsets = _apply_negative(arr, policy, m, da, is_dask)
    if isinstance(chunk_px, bool) or not isinstance(chunk_px, numbers.Integral) or chunk_px < 16:
        raise ValueError(f"chunk_px must be an integer >= 16, got {chunk_px!r}")
    if boundary is None:
        boundary = m.boundaries[0]
    if boundary not in m.boundaries:
        raise ValueError(f"boundary must be one of {m.boundaries} for {m.name}, got {boundary!r}")
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    client = scheduler if _is_client(scheduler) else None
    if scheduler is not None and client is None and not (
            isinstance(scheduler, str) and scheduler in _SCHEDULER_NAMES):
        raise ValueError(f"scheduler must be None, a Dask scheduler name "
                         f"({', '.join(sorted(_SCHEDULER_NAMES))}) or a distributed.Client, "
                         f"got {scheduler!r}")
    if scheduler == "local":
        scheduler = "threads"
    prefix = f"superres-restore-{uuid.uuid4().hex[:12]}"
    result, total = _graph(arr, is_dask, m, values, sig_px, kernels, labels, int(chunk_px), boundary, dt,
                           prefix, da)
    counter = _COUNTERS.setdefault(prefix, [0])  # tiles finished in this process
    try:
        out = _run(result, total, counter, client, scheduler, progress)
    finally:
        _COUNTERS.pop(prefix, None)
    out = np.ascontiguousarray(out, dtype=dt)
    if any(offsets):
        if out.ndim == 2:
            out -= dt.type(offsets[0])
        else:
            out -= np.asarray(offsets, dtype=dt)[:, None, None]
    return out


def _checked_stack(stack, mask, da):
    """``(array, is_dask)``: a 2-D/3-D real stack (NaN = masked, ``mask`` applied as NaN), no inf when in memory."""
    is_dask = isinstance(stack, da.Array)
    arr = stack if is_dask else np.asarray(stack)
    if not is_dask and (arr.dtype == object or np.iscomplexobj(arr) or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == bool)):
        raise ValueError(f"stack must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim not in (2, 3):
        raise ValueError(f"stack must be 2-D (rows, cols) or 3-D (channel, rows, cols), got "
                         f"ndim={arr.ndim} (shape {tuple(arr.shape)})")
    if any(n == 0 for n in arr.shape):
        raise ValueError(f"stack is empty (shape {tuple(arr.shape)})")
    if not is_dask and np.isinf(arr).any():
        raise ValueError("stack contains infinite values (mark unmeasured pixels as NaN or with mask=)")
    if mask is not None:
        mk = np.asarray(mask, dtype=bool)
        if mk.shape not in (tuple(arr.shape), tuple(arr.shape[-2:])):
            raise ValueError(f"mask shape {mk.shape} fits neither the stack {tuple(arr.shape)} nor one map "
                             f"{tuple(arr.shape[-2:])}")
        if mk.any():
            arr = da.where(mk, np.nan, arr) if is_dask else np.where(mk, np.nan, arr.astype(np.float64))
    return arr, is_dask


def _apply_negative(arr, policy: str, m, da, is_dask):
    """The negative-value policy per channel over whole channels; ``(array, offsets to subtract)``."""
    n_ch = 1 if arr.ndim == 2 else int(arr.shape[0])
    if policy == "keep":
        return arr, [0.0] * n_ch
    axes = (-2, -1)
    mins = da.nanmin(arr, axis=axes).compute() if is_dask else np.nanmin(arr, axis=axes)
    mins = np.atleast_1d(np.asarray(mins, dtype=float))
    if not np.any(mins < 0):
        return arr, [0.0] * n_ch
    if policy == "error":
        bad = [i for i, v in enumerate(mins) if v < 0]
        raise ValueError(f"stack has negative values (channel(s) {bad}, min {mins.min():.4g}) and negative='error'; "
                         f"{m.name} models Poisson counts >= 0: pass negative='offset' or 'clip'")
    if policy == "clip":
        return (da.maximum(arr, 0) if is_dask else np.maximum(arr, 0)), [0.0] * n_ch
    offsets = [max(-float(v), 0.0) for v in mins]
    shift = offsets[0] if arr.ndim == 2 else np.asarray(offsets)[:, None, None]
    return arr + shift, offsets


def _checked_kernels(psf, n_ch: int, shape) -> list:
    """One prepared PSF image per channel."""
    if isinstance(psf, np.ndarray) and psf.ndim == 3 or (not isinstance(psf, np.ndarray) and isinstance(
            psf, (list, tuple)) and len(psf) and np.ndim(psf[0]) == 2):
        items = list(psf)
        if len(items) != n_ch:
            raise ValueError(f"psf has {len(items)} images for {n_ch} channel(s)")
        return [prepare_psf(k, shape, name=f"psf[{i}]") for i, k in enumerate(items)]
    return [prepare_psf(psf, shape)] * n_ch


def _checked_sigmas(psf_sigma_um, n_ch: int) -> list:
    """One positive sigma (um) per channel."""
    if isinstance(psf_sigma_um, (str, bytes)):
        raise ValueError(f"psf_sigma_um must be a number or a sequence of numbers, got "
                         f"{psf_sigma_um!r}")
    if np.ndim(psf_sigma_um) == 0:
        return [_positive(psf_sigma_um, "psf_sigma_um")] * n_ch
    seq = list(np.asarray(psf_sigma_um, dtype=object).ravel())
    if len(seq) != n_ch:
        raise ValueError(f"psf_sigma_um has {len(seq)} values for {n_ch} channel(s)")
    return [_positive(v, f"psf_sigma_um[{i}]") for i, v in enumerate(seq)]


def _graph(arr, is_dask, m, values, sig_px, kernels, labels, chunk, boundary, work, prefix, da):
    """The Dask graph restoring every channel (tiled with the method's halo, or whole); ``(result, tasks)``."""
    single = arr.ndim == 2
    rows, cols = int(arr.shape[-2]), int(arr.shape[-1])
    depths = [m.halo_px(s, values) for s in sig_px]
    tiled = all(d is not None for d in depths)
    if tiled:
        depths = [max(d, max(k.shape) // 2) for d, k in zip(depths, kernels)]
        chunk = max(chunk, 2 * max(depths))
    if not tiled or (rows <= chunk and cols <= chunk):
        tiled = False
        chunks2 = (rows, cols)
    else:
        chunks2 = (chunk, chunk)
    chunks = chunks2 if single else (1,) + chunks2
    src = arr.rechunk(chunks) if is_dask else da.from_array(arr, chunks=chunks)
    kwargs = m.arguments(values)
    options = {"boundary": boundary, "dtype": work, "workers": 1}  # Dask owns the parallelism
    kwargs.update({k: v for k, v in options.items() if k in m.accepts})
    if "negative" in m.accepts:
        kwargs["negative"] = "clip" if m.nonnegative else "keep"  # already applied per channel (only round-off)
    parts, total = [], 0
    for c in range(len(sig_px)):
        chan = src if single else src[c]
        psf = kernels[c]
        if psf.shape[0] > rows or psf.shape[1] > cols:
            raise ValueError(f"stack maps of {rows} x {cols} px are smaller than the PSF kernel "
                             f"{psf.shape} of {labels[c]} (channel {c})")
        fn = _TileRestorer(m.name, m.function, c, psf, kwargs, "mask" in m.accepts, work, prefix, tiled, boundary)
        name = f"{prefix}-c{c}"
        if tiled:
            out = da.map_overlap(fn, chan, depth=depths[c],
                                 boundary="periodic" if boundary == "periodic" else "none",
                                 trim=True, dtype=work, name=name, meta=np.empty((0, 0), work))
        else:
            out = da.map_blocks(fn, chan, dtype=work, name=name, meta=np.empty((0, 0), work))
        total += int(np.prod(out.numblocks))
        parts.append(out)
    return (parts[0] if single else da.stack(parts, axis=0)), total


def _run(result, total, counter, client, scheduler, progress) -> np.ndarray:
    """Compute the graph (local scheduler or a distributed.Client), reporting ``progress(done, total)``."""
    if progress is not None:
        progress(0, total)
    if client is not None:
        from distributed import as_completed, futures_of

        persisted = client.persist(result)
        futures = futures_of(persisted)
        done = 0
        n_fut = len(futures)
        for _ in as_completed(futures):
            done += 1
            if progress is not None:
                progress(min(done * total // max(n_fut, 1), total), total)
        return np.asarray(client.compute(persisted).result())
    from dask.callbacks import Callback

    reported = [0]

    def posttask(key, res, dsk, st, worker_id):
        # runs in the calling thread; the tiles count themselves (key names get fused)
        n = counter[0]
        if progress is not None and n != reported[0]:
            reported[0] = n
            progress(min(n, total), total)

    with Callback(posttask=posttask):
        values = np.asarray(result.compute(scheduler=scheduler or "threads"))
    if progress is not None and reported[0] < total:
        progress(total, total)  # e.g. scheduler="processes": the count stays in the workers
    return values
