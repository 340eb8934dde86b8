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
sigma control per element and one method for all (any registered method
that takes a PSF; its parameters and sliders come from its declaration).
Channels are restored one after the other in the background (the widget
base's lifecycle); each has its own progress; any change cancels the running
work (newest parameters win) and only the channels whose sigma or method
changed are restored again.

Any three elements can be shown as one RGB composite (``rgb_channels``:
red, green, blue), raw beside restored, each channel on the same robust
range as its own panels (:meth:`ElementStack.rgb`).

A channel may have a measured PSF image instead of a Gaussian
(:meth:`ElementStack.set_psf`). NaN pixels are masked; negative pixels follow
``negative`` (:mod:`superres_widgets.xrf._data`).

Units: maps in counts, ``image[row, col]``; sigmas in µm, converted to
pixels with ``pixel_size_um`` by :func:`~superres_widgets.xrf.gaussian_psf`.
A channel restored here equals ``restore(maps[name], gaussian_psf(sigma /
pixel_size_um))`` by the chosen xrf function, e.g.
``richardson_lucy(maps["Fe"], gaussian_psf(40 / 10), 30)``.
"""

from __future__ import annotations

import math
import re
import time

import numpy as np
import traitlets

from ..xrf import PAPER_ELEMENT_SIGMAS_UM, DeconvolutionCancelled, MineralPhantom, mineral_phantom
from ._base import bundle_path
from ._restoration import MethodWidget, method_parameters, restore, robust_range
from .serializers import ArrayTrait

__all__ = ["ElementStack", "ELEMENT_COLORS", "PAPER_SIGMAS_UM"]

#: The paper's per-element PSF sigmas (Fig. 9), µm: :data:`superres_widgets.xrf.PAPER_ELEMENT_SIGMAS_UM`.
PAPER_SIGMAS_UM = PAPER_ELEMENT_SIGMAS_UM

#: Display colour per element (maps of other names cycle through _PALETTE).
ELEMENT_COLORS = {"Fe": "#e4572e", "Ca": "#29bf12", "Si": "#3f88f5", "K": "#f3a712", "Ti": "#a86dd8",
                  "Mn": "#ff66b3", "Cr": "#00b3b3", "S": "#e6d600", "Cu": "#d9822b", "Zn": "#8fb3ff"}
_PALETTE = ("#e4572e", "#29bf12", "#3f88f5", "#f3a712", "#a86dd8", "#00b3b3", "#ff66b3", "#e6d600")

_PROGRESS_INTERVAL_S = 0.05


def _as_maps(maps, names: list[str] | None = None) -> dict[str, np.ndarray]:
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
    out: dict[str, np.ndarray] = {}
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
        if np.isinf(a).any():
            raise ValueError(f"maps[{name!r}] contains inf (mark unmeasured pixels as NaN: they are masked)")
        if np.isnan(a).all():
            raise ValueError(f"maps[{name!r}]: every pixel is NaN (masked)")
        if shape is None:
            shape = a.shape
        elif a.shape != shape:
            first = next(iter(out))
            raise ValueError(f"maps must all have the same shape: {first!r} is {shape}, {name!r} is {a.shape}")
        out[name] = a
    return out


def _as_sigmas(sigmas, names: list[str]) -> dict[str, float]:
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


class ElementStack(MethodWidget):
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
    method : str
        Shared by every channel: a registered method that takes a PSF, by
        name or alias (``"richardson_lucy"``/``"rl"``, ``"wiener"``,
        ``"fista"``, or the user's).
    num_iter, acceleration, balance, lam, ...
        The methods' parameters (ranges, defaults and sliders from their
        declarations: 30 iterations, no Biggs-Andrews acceleration since
        noisy maps ring with it).
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
    colors = traitlets.Dict({}).tag(sync=True)

    # outputs
    names = traitlets.List(traitlets.Unicode(), []).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    channel_progress = traitlets.List(traitlets.Float(), []).tag(sync=True)
    channel_status = traitlets.List(traitlets.Unicode(), []).tag(sync=True)
    channel_sigmas_um = traitlets.List(traitlets.Float(allow_none=True), []).tag(sync=True)
    compute_ms = traitlets.List(traitlets.Float(), []).tag(sync=True)
    rgb_channels = traitlets.List(traitlets.Unicode(), []).tag(sync=True)
    """Three map names shown as red, green and blue in the composite (default: the first three)."""
    psf_labels = traitlets.Dict({}).tag(sync=True)
    """``{name: label}`` of the channels restored with a PSF image instead of their sigma."""
    _rgb_raw = ArrayTrait(dtype=np.uint8, ndim=3)
    _rgb_restored = ArrayTrait(dtype=np.uint8, ndim=3)

    # display copies (binary buffers): (channel, row, col)
    _raw = ArrayTrait(dtype=np.float32, ndim=3)
    _restored = ArrayTrait(dtype=np.float32, ndim=3)
    _ranges = traitlets.List([]).tag(sync=True)

    _PSF_FREE_METHODS = False  # every channel is restored with its own given PSF
    _LIMITS = {"pixel_size_um": (1e-3, 1e4)}
    _validate_limits = traitlets.validate(*_LIMITS)(MethodWidget._validate_limits)

    def __init__(self, maps=None, *, names=None, sigmas_um=None, **kwargs):
        self._done: dict[str, tuple] = {}  # name -> (key, float64 restored)
        self._psfs: dict[str, np.ndarray] = {}  # name -> PSF image (instead of the sigma)
        self._version = 0
        self._maps_dirty = True
        self.truth: dict[str, np.ndarray] | None = None
        self.phantom: MineralPhantom | None = None
        clean = _as_maps(maps, names)
        sig = _as_sigmas(sigmas_um, list(clean))
        with self._batch():
            super().__init__(maps=clean, sigmas_um=sig, **kwargs)
            self._observe_method_parameters(self._on_param)

    @classmethod
    def demo(cls, shape=(192, 192), pixel_size_um: float = 10.0, sigmas_um=None, dwell_s: float = 0.1,
             seed: int = 0, **kwargs) -> ElementStack:
        """A simulated skarn section: Fe, Ca, Si maps blurred by 40/50/80 µm PSFs.

        The phantom (:func:`superres_widgets.xrf.mineral_phantom`)
        has a garnet matrix, calcite grains, magnetite grains and two quartz
        veins; counts are Poisson draws for ``dwell_s`` seconds per pixel.
        The stack restores with the sigmas the maps were blurred with (change
        ``stack.sigmas_um`` afterwards to restore with others); other keyword
        arguments (``method``, ``num_iter``, ...) go to the constructor.
        ``stack.truth`` holds the noise-free, unblurred counts and
        ``stack.phantom`` the whole :class:`~superres_widgets.xrf.MineralPhantom`.
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

    # -- public API ---------------------------------------------------------------------
    def set_maps(self, maps, sigmas_um=None, *, names=None) -> ElementStack:
        """Replace the maps (and their sigmas) in one step; restores every channel.

        ``sigmas_um=None`` keeps the sigma of every map name that stays.
        """
        clean = _as_maps(maps, names)
        if sigmas_um is None:
            kept = {n: self.sigmas_um[n] for n in clean if n in self.sigmas_um}
            sigmas_um = kept if len(kept) == len(clean) else None
        sig = _as_sigmas(sigmas_um, list(clean))
        with self._batch(), self.hold_trait_notifications():  # validated together, one restoration
            self.maps = clean
            self.sigmas_um = sig
        return self

    @property
    def restored(self) -> dict[str, np.ndarray]:
        """``{name: restored map}`` (float64, counts) for the channels done with the current parameters."""
        with self._state_lock:
            want = self._keys()
            return {n: img for n, (key, img) in self._done.items() if want.get(n) == key}

    def wait(self, timeout: float | None = 600.0) -> ElementStack:
        """Block until every channel is restored with the newest parameters."""
        return super().wait(timeout)

    def parameters(self) -> dict:
        """Method, its parameters, the pixel size and the sigmas (for provenance)."""
        out = method_parameters(self)
        out["pixel_size_um"] = self.pixel_size_um
        out["sigmas_um"] = dict(self.sigmas_um)
        return out

    # -- computation ---------------------------------------------------------------------
    def _keys(self) -> dict[str, tuple]:
        params = tuple(sorted(method_parameters(self).items())) + (("negative", self.negative),)
        return {n: (self.sigmas_um[n], params, self.pixel_size_um, self._version, id(self._psfs.get(n)))
                for n in self.maps}

    # -- PSF images and the RGB composite -----------------------------------------------
    def set_psf(self, name: str, psf=None, *, label: str = "PSF image") -> ElementStack:
        """Restore channel ``name`` with a PSF image (None: with its Gaussian sigma again)."""
        from ..xrf import prepare_psf

        if name not in self.maps:
            raise ValueError(f"set_psf: {name!r} is not a map; maps: {list(self.maps)}")
        with self._batch():
            if psf is None:
                self._psfs.pop(name, None)
                self.psf_labels = {k: v for k, v in self.psf_labels.items() if k != name}
            else:
                shape = next(iter(self.maps.values())).shape
                self._psfs[name] = prepare_psf(psf, shape, name=f"psf of {name}")
                self.psf_labels = {**self.psf_labels, name: label}
            self._request_update()
        return self

    @traitlets.validate("rgb_channels")
    def _validate_rgb(self, proposal):
        value = [str(v) for v in proposal["value"]]
        if not value:
            return value
        names = list(self.maps) if isinstance(self.maps, dict) else []
        bad = [v for v in value if v not in names]
        if len(value) != 3 or bad:
            raise ValueError(f"rgb_channels must name three maps (red, green, blue) of {names}, got {value}")
        return value

    def rgb(self, restored: bool = True) -> np.ndarray:
        """The composite of ``rgb_channels`` as float RGB in [0, 1], shape (rows, cols, 3).

        Each channel is scaled by the same robust range as its own panels
        (0.5-99.5 % of raw and restored); a channel not restored yet is black
        in the restored composite; NaN (masked) pixels are black.
        """
        with self._state_lock:
            names = list(self.names)
            chans = self.rgb_channels or names[:3]
            out = np.zeros(next(iter(self.maps.values())).shape + (3,))
            restored_now = self.restored
            for k, name in enumerate(chans[:3]):
                if name not in names:
                    continue
                lo, hi = self._ranges[names.index(name)]
                src = restored_now.get(name) if restored else self.maps[name]
                if src is None:
                    continue
                out[..., k] = np.clip((np.nan_to_num(src, nan=lo) - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
            return out

    def _refresh_rgb(self):
        """Send both composites to the page (under the state lock)."""
        if not self.names:
            return
        with self.hold_sync():
            self._rgb_raw = np.round(255 * self.rgb(restored=False)).astype(np.uint8)
            self._rgb_restored = np.round(255 * self.rgb(restored=True)).astype(np.uint8)

    @traitlets.observe("rgb_channels")
    def _on_rgb_channels(self, change):
        with self._state_lock:
            self._refresh_rgb()

    @traitlets.observe("maps")
    def _on_maps_change(self, change):
        self._maps_dirty = True
        self._request_update()

    def _refresh_maps(self):
        """New maps: display copies, colours (every channel is then restored)."""
        self._maps_dirty = False
        self._version += 1
        self._done = {n: v for n, v in self._done.items() if n in self.maps}
        names = list(self.maps)
        stack = np.stack([self.maps[n] for n in names]).astype(np.float32)
        self._restored_np = np.full(stack.shape, np.nan, dtype=np.float32)
        with self.hold_sync():
            self.names = names
            if self.rgb_channels and any(c not in names for c in self.rgb_channels):
                self.rgb_channels = []
            self._psfs = {n: k for n, k in self._psfs.items() if n in names}
            palette = iter(c for c in _PALETTE)
            colors = {}
            for n in names:
                colors[n] = self.colors.get(n) or ELEMENT_COLORS.get(n) or next(palette, "#888888")
            self.colors = colors
            self._raw = stack
            self._restored = self._restored_np.copy()
            self._ranges = [robust_range(self.maps[n]) for n in names]
            self.compute_ms = [0.0] * len(names)
            self._refresh_rgb()

    @traitlets.observe("sigmas_um", "pixel_size_um", "method", "negative")
    def _on_param(self, change):
        self._request_update()

    def _update(self):
        with self._state_lock:
            if self._maps_dirty:
                self._refresh_maps()
            names = list(self.maps)
            keys = self._keys()
            params = method_parameters(self)
            pixel = self.pixel_size_um
            sigmas = dict(self.sigmas_um)
            maps = self.maps
            todo = [n for n in names if self._done.get(n, (None,))[0] != keys[n]]
            policy = self.negative_policy()
            psfs = dict(self._psfs)
            notes = [f"{n}: {t}" for n in names if (t := self.data_notice(maps[n]))]
            self._notices.pop("data", None)
            if notes:
                self._notices["data"] = "; ".join(notes)
            self.notice = "; ".join(self._notices.values())

            def compute(job):
                return self._restore_channels(job, maps, names, todo, sigmas, pixel, params, keys, policy, psfs)

            self._run_in_background(compute, self._finish)
            with self.hold_sync():
                self.channel_status = ["queued" if n in todo else "done" for n in names]
                self.channel_progress = [0.0 if n in todo else 1.0 for n in names]
                self.channel_sigmas_um = [self._done[n][0][0] if n in self._done else None for n in names]
                self.progress = 1.0 - len(todo) / len(names)
                self.status = (f"restoring {', '.join(todo)}…" if todo else "all channels restored")

    def _set_list_item(self, trait: str, i: int, value):
        values = list(getattr(self, trait))
        values[i] = value
        setattr(self, trait, values)

    def _restore_channels(self, job, maps, names, todo, sigmas, pixel, params, keys, policy, psfs):
        """Worker thread: restore the stale channels one after the other."""
        n_all = len(names)
        for name in todo:
            i = names.index(name)
            if not job.publish(self._start_channel, i, name, sigmas[name]):
                return None
            last = [0.0]

            def progress(fraction, i=i, last=last):
                now = time.perf_counter()
                if now - last[0] < _PROGRESS_INTERVAL_S and fraction < 1:
                    return
                last[0] = now
                job.publish(self._channel_progress, i, fraction, n_all)

            t0 = time.perf_counter()
            try:
                out = restore(maps[name], sigmas[name], pixel, params, cancel=job, progress=progress,
                              negative=policy, psf=psfs.get(name))
                if not np.all(np.isfinite(out)):
                    raise ValueError(f"the restoration of {name} produced non-finite values")
            except DeconvolutionCancelled:
                raise
            except Exception:
                job.publish(self._stopped)
                raise
            seconds = time.perf_counter() - t0
            if not job.publish(self._channel_done, i, name, keys[name], out, maps[name], sigmas[name],
                               seconds, n_all):
                return None
        return len(todo)

    # (the helpers below run under the state lock, for the newest job only)
    def _start_channel(self, i, name, sigma):
        self._set_list_item("channel_status", i, "running")
        self.status = f"restoring {name} (σ = {sigma:g} µm)"

    def _channel_progress(self, i, fraction, n_all):
        with self.hold_sync():
            self._set_list_item("channel_progress", i, float(fraction))
            done = sum(p >= 1.0 for p in self.channel_progress if p is not None)
            self.progress = min(1.0, (done + (fraction if fraction < 1 else 0)) / n_all)

    def _channel_done(self, i, name, key, out, raw, sigma, seconds, n_all):
        self._done[name] = (key, out)
        self._restored_np[i] = out.astype(np.float32)
        with self.hold_sync():
            self._restored = self._restored_np.copy()
            ranges = list(self._ranges)
            ranges[i] = robust_range(raw, out)
            self._ranges = ranges
            self._set_list_item("channel_status", i, "done")
            self._set_list_item("channel_progress", i, 1.0)
            self._set_list_item("channel_sigmas_um", i, float(sigma))
            self._set_list_item("compute_ms", i, 1000.0 * seconds)
            done = sum(s == "done" for s in self.channel_status)
            self.progress = done / n_all
            self._refresh_rgb()

    def _stopped(self):
        with self.hold_sync():
            self.channel_status = ["error" if s in ("running", "queued") else s for s in self.channel_status]
            self.status = "stopped by an error"

    def _finish(self, _value):
        with self.hold_sync():
            self.progress = 1.0
            self.status = "all channels restored"
