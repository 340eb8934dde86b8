"""ElementStack: several element maps, each restored with its own PSF (seed 001, Fig. 9).

A polycapillary focuses X-rays of different energies to different spots,
fluorescence of light elements escapes from a larger volume of light
minerals, and low-energy lines are absorbed in air: so each element's map
has its own blur. Yang, Zhang & Cheng (2022) restored an iron skarn with
Richardson-Lucy using Gaussian PSFs of 40 µm (Fe-Kα), 50 µm (Ca-Kα) and
80 µm (Si-Kα): Fe and Ca came out sharper and closer in resolution, the
noisy and dispersive Si map did not improve.

This widget shows every element's map before and after restoration side by
side (one colour scale per element, from robust percentiles of both), with a
sigma control per element and one method for all. Channels are restored one
after the other in a background thread; each has its own progress; any
change cancels the running work (newest parameters win) and only the
channels whose sigma or method changed are restored again.

Units: maps in counts, ``image[row, col]``; sigmas in µm, converted to
pixels with ``pixel_size_um`` by :func:`~superres_widgets.xrf.gaussian_psf`.
A channel restored here equals ``restore(maps[name], gaussian_psf(sigma /
pixel_size_um))`` by the chosen xrf function, e.g.
``richardson_lucy(maps["Fe"], gaussian_psf(40 / 10), 30)``.
"""

from __future__ import annotations

import math
import re
import threading
import time
from typing import Dict, List, Optional

import numpy as np
import traitlets

from ..xrf import DeconvolutionCancelled
from ._base import SuperresWidget, bundle_path
from ._mineral_phantom import PAPER_SIGMAS_UM, MineralPhantom, mineral_phantom
from ._restoration import METHOD_PARAMETERS, METHODS, method_parameters, restore, robust_range
from ._worker import LatestRunner
from .serializers import ArrayTrait

__all__ = ["ElementStack", "ELEMENT_COLORS", "PAPER_SIGMAS_UM"]

#: Display colour per element (maps of other names cycle through _PALETTE).
ELEMENT_COLORS = {"Fe": "#e4572e", "Ca": "#29bf12", "Si": "#3f88f5", "K": "#f3a712", "Ti": "#a86dd8",
                  "Mn": "#ff66b3", "Cr": "#00b3b3", "S": "#e6d600", "Cu": "#d9822b", "Zn": "#8fb3ff"}
_PALETTE = ("#e4572e", "#29bf12", "#3f88f5", "#f3a712", "#a86dd8", "#00b3b3", "#ff66b3", "#e6d600")

_PROGRESS_INTERVAL_S = 0.05


def _as_maps(maps, names: Optional[List[str]] = None) -> Dict[str, np.ndarray]:
    """Normalise ``maps`` (dict or 3-D stack + names) to ``{name: float64 2-D}``."""
    if maps is None:
        raise ValueError("maps is required: a dict name -> 2-D map, or a 3-D stack with names")
    if isinstance(maps, dict):
        if not maps:
            raise ValueError("maps must not be empty")
        items = list(maps.items())
        if names is not None:
            names = [str(n) for n in names]
            if sorted(names) != sorted(str(k) for k in maps):
                raise ValueError(f"names {names} must list the keys of maps {sorted(maps)}")
            items = [(n, maps[n]) for n in names]
    else:
        try:
            stack = np.asarray(maps, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"maps must be a dict of 2-D arrays or a 3-D array, got {type(maps).__name__}") from None
        if stack.ndim != 3:
            raise ValueError(f"maps must be a dict of 2-D arrays or a 3-D array (channel, row, col), "
                             f"got shape {stack.shape}")
        if stack.shape[0] == 0:
            raise ValueError("maps must not be empty")
        if names is None:
            names = [f"ch{i}" for i in range(stack.shape[0])]
        names = [str(n) for n in names]
        if len(names) != stack.shape[0]:
            raise ValueError(f"names has {len(names)} entries for {stack.shape[0]} maps")
        items = list(zip(names, stack))
    out: Dict[str, np.ndarray] = {}
    shape = None
    for name, m in items:
        name = str(name)
        if name in out:
            raise ValueError(f"maps: duplicate name {name!r}")
        try:
            a = np.array(m, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"maps[{name!r}] is not a numeric array") from None
        if a.ndim != 2 or min(a.shape) < 3:
            raise ValueError(f"maps[{name!r}] must be a 2-D map of at least 3 x 3 pixels, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"maps[{name!r}] contains NaN or inf")
        if shape is None:
            shape = a.shape
        elif a.shape != shape:
            first = next(iter(out))
            raise ValueError(f"maps must all have the same shape: {first!r} is {shape}, {name!r} is {a.shape}")
        out[name] = a
    return out


def _as_sigmas(sigmas, names: List[str]) -> Dict[str, float]:
    """Normalise ``sigmas_um`` (dict, sequence in channel order, or one number) to a dict."""
    if sigmas is None:
        missing = [n for n in names if n not in PAPER_SIGMAS_UM]
        if missing:
            raise ValueError(f"sigmas_um is required (a PSF sigma in µm per map); none given for {missing}")
        sigmas = {n: PAPER_SIGMAS_UM[n] for n in names}
    if isinstance(sigmas, dict):
        out = {str(k): v for k, v in sigmas.items()}
    elif isinstance(sigmas, (int, float, np.number)):
        out = {n: sigmas for n in names}
    else:
        seq = list(sigmas)
        if len(seq) != len(names):
            raise ValueError(f"sigmas_um has {len(seq)} values for {len(names)} maps {names}")
        out = dict(zip(names, seq))
    missing = [n for n in names if n not in out]
    if missing:
        raise ValueError(f"sigmas_um has no sigma for {missing}")
    extra = [k for k in out if k not in names]
    if extra:
        raise ValueError(f"sigmas_um names {extra} are not maps (maps: {names})")
    clean = {}
    for n in names:
        try:
            v = float(out[n])
        except (TypeError, ValueError):
            raise ValueError(f"sigmas_um[{n!r}] must be a number, got {out[n]!r}") from None
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"sigmas_um[{n!r}] must be finite and > 0 µm, got {out[n]!r}")
        clean[n] = v
    return clean


class _SigmaDict(traitlets.Dict):
    """``{name: sigma_um}``; also accepts one number or a sequence in channel order."""

    def validate(self, obj, value):
        if not isinstance(value, dict):
            maps = getattr(obj, "maps", None)
            names = list(maps) if isinstance(maps, dict) else []
            value = _as_sigmas(value, names)
        return super().validate(obj, value)


class ElementStack(SuperresWidget):
    """Element maps restored side by side, each with its own PSF sigma (Fig. 9).

    Parameters
    ----------
    maps : dict of str -> (M, N) array_like, or (C, M, N) array_like
        Element maps (counts), all the same shape. A 3-D stack takes
        ``names``.
    names : list of str, optional
        Channel names of a 3-D stack (or the display order of a dict).
    sigmas_um : dict, sequence or float
        PSF sigma per element, µm (paper: Fe 40, Ca 50, Si 80; those are
        the default for maps so named). A sequence follows the channel
        order; one number applies to every map.
    pixel_size_um : float
        Scan step, µm (paper's rock section: 10).
    method : {"richardson_lucy", "wiener", "fista"}
        Shared by every channel.
    num_iter : int
        Iterations of RL / FISTA (default 30).
    acceleration : bool
        Biggs-Andrews acceleration of RL (default False: noisy maps ring).
    balance, lam : float
        Wiener weight; FISTA l1 weight (counts).
    colors : dict, optional
        Display colour per element (``"#rrggbb"``); default per element name.

    Attributes
    ----------
    restored : dict of str -> ndarray
        The restored maps (float64, counts) of the channels done with the
        current parameters.
    truth : dict or None
        Noise-free unblurred maps (only for :meth:`demo`).

    Examples
    --------
    >>> stack = ElementStack.demo(shape=(96, 96)).wait()
    >>> sorted(stack.restored)
    ['Ca', 'Fe', 'Si']
    """

    _esm = bundle_path("element_stack")

    maps = traitlets.Any(None, allow_none=True)
    pixel_size_um = traitlets.Float(10.0).tag(sync=True)
    sigmas_um = _SigmaDict({}).tag(sync=True)
    method = traitlets.Unicode("richardson_lucy").tag(sync=True)
    num_iter = traitlets.Int(30).tag(sync=True)
    acceleration = traitlets.Bool(False).tag(sync=True)
    balance = traitlets.Float(0.03).tag(sync=True)
    lam = traitlets.Float(1.0).tag(sync=True)
    colors = traitlets.Dict({}).tag(sync=True)

    # outputs
    names = traitlets.List(traitlets.Unicode(), []).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    channel_progress = traitlets.List(traitlets.Float(), []).tag(sync=True)
    channel_status = traitlets.List(traitlets.Unicode(), []).tag(sync=True)
    channel_sigmas_um = traitlets.List(traitlets.Float(allow_none=True), []).tag(sync=True)
    compute_ms = traitlets.List(traitlets.Float(), []).tag(sync=True)
    method_parameters = traitlets.Dict({}).tag(sync=True)

    # display copies (binary buffers): (channel, row, col)
    _raw = ArrayTrait(dtype=np.float32, ndim=3)
    _restored = ArrayTrait(dtype=np.float32, ndim=3)
    _ranges = traitlets.List([]).tag(sync=True)

    _LIMITS = {
        "pixel_size_um": (1e-3, 1e4),
        "num_iter": (1, 2000),
        "balance": (0.0, 1e3),
        "lam": (0.0, 1e6),
    }
    _validate_limits = traitlets.validate(*_LIMITS)(SuperresWidget._validate_limits)

    def __init__(self, maps=None, *, names=None, sigmas_um=None, **kwargs):
        self._ready = False
        self._lock = threading.RLock()
        self._done: Dict[str, tuple] = {}  # name -> (key, float64 restored)
        self._shown: Dict[str, tuple] = {}  # name -> key of the image in _restored
        self._version = 0
        self._runner = LatestRunner(self._apply_result, self._apply_error)
        self.truth: Optional[Dict[str, np.ndarray]] = None
        self.phantom: Optional[MineralPhantom] = None
        clean = _as_maps(maps, names)
        sig = _as_sigmas(sigmas_um, list(clean))
        super().__init__(maps=clean, sigmas_um=sig,
                         method_parameters={k: list(v) for k, v in METHOD_PARAMETERS.items()}, **kwargs)
        self._ready = True
        self._on_maps()

    @classmethod
    def demo(cls, shape=(192, 192), pixel_size_um: float = 10.0, sigmas_um=None, dwell_s: float = 0.1,
             seed: int = 0, **kwargs) -> "ElementStack":
        """A simulated skarn section: Fe, Ca, Si maps blurred by 40/50/80 µm PSFs.

        The phantom (:func:`~superres_widgets.widgets._mineral_phantom.mineral_phantom`)
        has a garnet matrix, calcite grains, magnetite grains and two quartz
        veins; counts are Poisson draws for ``dwell_s`` seconds per pixel.
        The stack restores with the sigmas the maps were blurred with (change
        ``stack.sigmas_um`` afterwards to restore with others); other keyword
        arguments (``method``, ``num_iter``, ...) go to the constructor.
        ``stack.truth`` holds the noise-free, unblurred counts and
        ``stack.phantom`` the whole :class:`MineralPhantom`.
        """
        phantom = mineral_phantom(shape, pixel_size_um, sigmas_um, dwell_s, rng=seed)
        stack = cls(maps=phantom.counts, sigmas_um=phantom.metadata["sigmas_um"],
                    pixel_size_um=pixel_size_um, **kwargs)
        stack.truth = phantom.truth
        stack.phantom = phantom
        return stack

    # -- validation -------------------------------------------------------------------
    @traitlets.validate("maps")
    def _validate_maps(self, proposal):
        clean = _as_maps(proposal["value"])
        if self._ready:
            missing = [n for n in clean if n not in self.sigmas_um]
            if missing:
                raise ValueError(f"sigmas_um has no sigma for {missing}; use set_maps(maps, sigmas_um)")
        return clean

    @traitlets.validate("sigmas_um")
    def _validate_sigmas(self, proposal):
        names = list(self.maps) if isinstance(self.maps, dict) and self.maps else list(proposal["value"])
        return _as_sigmas(proposal["value"], names)

    @traitlets.validate("colors")
    def _validate_colors(self, proposal):
        bad = {k: v for k, v in proposal["value"].items()
               if not (isinstance(v, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", v))}
        if bad:
            raise ValueError(f"colors must be '#rrggbb' strings, got {bad}")
        return dict(proposal["value"])

    @traitlets.validate("method")
    def _validate_method(self, proposal):
        value = proposal["value"]
        if value not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {value!r}")
        return value

    # -- public API ---------------------------------------------------------------------
    def set_maps(self, maps, sigmas_um=None, *, names=None) -> "ElementStack":
        """Replace the maps (and their sigmas) in one step; restores every channel.

        ``sigmas_um=None`` keeps the sigma of every map name that stays.
        """
        clean = _as_maps(maps, names)
        if sigmas_um is None:
            kept = {n: self.sigmas_um[n] for n in clean if n in self.sigmas_um}
            sigmas_um = kept if len(kept) == len(clean) else None
        sig = _as_sigmas(sigmas_um, list(clean))
        self._ready = False
        try:
            with self.hold_trait_notifications():
                self.maps = clean
                self.sigmas_um = sig
        finally:
            self._ready = True
        self._on_maps()
        return self

    @property
    def restored(self) -> Dict[str, np.ndarray]:
        """``{name: restored map}`` (float64, counts) for the channels done with the current parameters."""
        with self._lock:
            want = self._keys()
            return {n: img for n, (key, img) in self._done.items() if want.get(n) == key}

    def wait(self, timeout: Optional[float] = 600.0) -> "ElementStack":
        """Block until every channel is restored with the newest parameters."""
        if not self._runner.wait(timeout):
            raise TimeoutError(f"element stack not restored after {timeout} s")
        return self

    def parameters(self) -> dict:
        """Method, its parameters, the pixel size and the sigmas (for provenance)."""
        out = method_parameters(self)
        out["pixel_size_um"] = self.pixel_size_um
        out["sigmas_um"] = dict(self.sigmas_um)
        return out

    def close(self):
        self._runner.close()
        super().close()

    # -- computation ---------------------------------------------------------------------
    def _keys(self) -> Dict[str, tuple]:
        params = tuple(sorted(method_parameters(self).items()))
        return {n: (self.sigmas_um[n], params, self.pixel_size_um, self._version) for n in self.maps}

    @traitlets.observe("maps")
    def _on_maps_change(self, change):
        if self._ready:
            self._on_maps()

    def _on_maps(self):
        """New maps: display copies, colours, and restore every channel."""
        with self._lock:
            self._version += 1
            self._done = {n: v for n, v in self._done.items() if n in self.maps}
            self._shown = {}
            names = list(self.maps)
            stack = np.stack([self.maps[n] for n in names]).astype(np.float32)
            self._restored_np = np.full(stack.shape, np.nan, dtype=np.float32)
            with self.hold_sync():
                self.names = names
                palette = iter(c for c in _PALETTE)
                colors = {}
                for n in names:
                    colors[n] = self.colors.get(n) or ELEMENT_COLORS.get(n) or next(palette, "#888888")
                self.colors = colors
                self._raw = stack
                self._restored = self._restored_np.copy()
                self._ranges = [robust_range(self.maps[n]) for n in names]
                self.compute_ms = [0.0] * len(names)
        self._submit()

    @traitlets.observe("sigmas_um", "pixel_size_um", "method", "num_iter", "acceleration", "balance", "lam")
    def _on_param(self, change):
        if self._ready:
            self._submit()

    def _submit(self):
        names = list(self.maps)
        keys = self._keys()
        params = method_parameters(self)
        pixel = self.pixel_size_um
        sigmas = dict(self.sigmas_um)
        maps = self.maps
        with self._lock:
            todo = [n for n in names if self._done.get(n, (None,))[0] != keys[n]]

            def compute(job):
                return self._restore_channels(job, maps, names, todo, sigmas, pixel, params, keys)

            self._runner.submit(compute)
            with self.hold_sync():
                self.channel_status = ["queued" if n in todo else "done" for n in names]
                self.channel_progress = [0.0 if n in todo else 1.0 for n in names]
                self.channel_sigmas_um = [self._done[n][0][0] if n in self._done else None for n in names]
                self.progress = 1.0 - len(todo) / len(names)
                self.busy = bool(todo)
                self.status = (f"restoring {', '.join(todo)}…" if todo else "all channels restored")
                self.error = ""

    def _set_list_item(self, trait: str, i: int, value):
        values = list(getattr(self, trait))
        values[i] = value
        setattr(self, trait, values)

    def _restore_channels(self, job, maps, names, todo, sigmas, pixel, params, keys):
        """Worker thread: restore the stale channels one after the other."""
        n_all = len(names)
        for name in todo:
            i = names.index(name)
            with self._lock:
                if job.cancelled():
                    return None
                self._set_list_item("channel_status", i, "running")
                self.status = f"restoring {name} (σ = {sigmas[name]:g} µm)"
            last = [0.0]

            def progress(fraction, i=i):
                now = time.perf_counter()
                if now - last[0] < _PROGRESS_INTERVAL_S and fraction < 1:
                    return
                last[0] = now
                with self._lock:
                    if not job.cancelled():
                        with self.hold_sync():
                            self._set_list_item("channel_progress", i, float(fraction))
                            done = sum(p >= 1.0 for p in self.channel_progress if p is not None)
                            self.progress = min(1.0, (done + (fraction if fraction < 1 else 0)) / n_all)

            t0 = time.perf_counter()
            out = restore(maps[name], sigmas[name], pixel, params, cancel=job, progress=progress)
            seconds = time.perf_counter() - t0
            if not np.all(np.isfinite(out)):
                raise ValueError(f"the restoration of {name} produced non-finite values")
            with self._lock:
                if job.cancelled():
                    return None
                self._done[name] = (keys[name], out)
                self._restored_np[i] = out.astype(np.float32)
                with self.hold_sync():
                    self._restored = self._restored_np.copy()
                    ranges = list(self._ranges)
                    ranges[i] = robust_range(maps[name], out)
                    self._ranges = ranges
                    self._set_list_item("channel_status", i, "done")
                    self._set_list_item("channel_progress", i, 1.0)
                    self._set_list_item("channel_sigmas_um", i, float(sigmas[name]))
                    self._set_list_item("compute_ms", i, 1000.0 * seconds)
                    done = sum(s == "done" for s in self.channel_status)
                    self.progress = done / n_all
        return job

    def _apply_result(self, job):
        with self._lock:
            if job is None or job.cancelled():
                return
            with self.hold_sync():
                self.busy = False
                self.progress = 1.0
                self.status = "all channels restored"
                self.error = ""

    def _apply_error(self, exc: BaseException):
        if isinstance(exc, DeconvolutionCancelled):
            return
        with self._lock:
            with self.hold_sync():
                self.error = f"{type(exc).__name__}: {exc}"
                self.busy = False
                self.channel_status = ["error" if s in ("running", "queued") else s for s in self.channel_status]
                self.status = "stopped by an error"
