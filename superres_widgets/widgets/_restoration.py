"""Restoration widgets' shared model layer (private): traits derived from the method registry.

Every XRF restoration widget (:class:`~superres_widgets.widgets.DeconvolutionExplorer`,
:class:`~superres_widgets.widgets.PSFSweep`,
:class:`~superres_widgets.widgets.ElementStack`) derives from
:class:`MethodWidget`. Nothing about a particular method is written here:

* one synced trait per parameter of the registered methods the widget
  offers (:func:`superres_widgets.xrf.methods`), built when the widget is
  created (so a method registered before that appears with its parameters);
  a parameter shared by several methods (``num_iter``) is one trait;
* values outside a parameter's declared range are clamped with a visible
  notice (the current method's declaration decides);
* ``method`` accepts names and aliases (``"rl"``) and stores the canonical
  name; an unknown one is a :class:`ValueError` listing the valid names;
* ``method_table`` (synced once) carries the declarations the front-end
  draws its method menu and sliders from.

Also: one dispatch from a method and its parameters to the restoration,
with progress and cancellation wired the same way for every method, and the
display helpers (robust contrast range, thumbnails).

Conventions
-----------
* Maps are counts, ``image[row, col]``; sigmas in micrometres, converted to
  pixels with ``pixel_size_um`` by :func:`~superres_widgets.xrf.gaussian_psf`.
* ``restore`` returns float64 counts, not clipped; callers decide what to store.
* ``progress(fraction)`` is called with 0 <= fraction <= 1 during iterative
  methods (throttled by ``callback_every``); ``cancel`` is anything with
  ``is_set()`` (a lifecycle job).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import traitlets

from ..xrf import NEGATIVE_POLICIES, PSF_PARAMETERS, gaussian_psf, get_method, method_table, methods
from ..xrf._data import prepare_data
from ..xrf.registry import registry_version
from ._base import SuperresWidget

__all__ = ["MethodWidget", "restore", "restore_with_psf", "method_parameters", "robust_range", "thumbnail"]

_SUBCLASSES: dict = {}
_SUBCLASS_LOCK = threading.Lock()


def _trait_for(p, default):
    if p.kind == "bool":
        trait = traitlets.Bool(bool(default))
    elif p.kind == "int":
        trait = traitlets.Int(int(default))
    elif p.kind == "float":
        trait = traitlets.Float(float(default))
    else:
        trait = traitlets.Unicode(str(default))
    return trait.tag(sync=True, method_parameter=True)


def _with_method_traits(cls):
    """``cls`` extended by one trait per parameter of the methods it offers (cached per registry version)."""
    base = getattr(cls, "_method_traits_base", None) or cls
    key = (base, registry_version())
    with _SUBCLASS_LOCK:
        if key in _SUBCLASSES:
            return _SUBCLASSES[key]
        offered = base._offered_methods()
        decls = {}
        for m in offered:
            for p in m.parameters:
                decls.setdefault(p.name, p)
        if base._PSF_TRAITS:
            decls.update(PSF_PARAMETERS)
        taken = [n for n in decls if base.class_traits().get(n) is not None]
        if taken:
            raise TypeError(f"{base.__name__}: method parameter(s) {taken} clash with the widget's own "
                            "traits; register the method with other parameter names")
        attrs = {"__module__": base.__module__, "__qualname__": base.__qualname__, "__doc__": base.__doc__,
                 "_method_traits_base": base}
        for name, p in decls.items():
            attrs[name] = _trait_for(p, base._PARAMETER_DEFAULTS.get(name, p.default))
        table = method_table(offered, psf=True)
        attrs["method_table"] = traitlets.Dict(table).tag(sync=True)
        if decls:
            attrs["_validate_method_parameters"] = traitlets.validate(*decls)(MethodWidget._validate_parameter)
        sub = type(base.__name__, (base,), attrs)
        _SUBCLASSES[key] = sub
        return sub


class MethodWidget(SuperresWidget):
    """A widget that restores with a registered method (see the module docstring)."""

    method = traitlets.Unicode("richardson_lucy").tag(sync=True)
    """The restoration method's canonical name (names and aliases are accepted)."""

    method_table = traitlets.Dict({}).tag(sync=True)
    """Declarations of the offered methods and of the PSF parameters (sent once, drawn by the front-end)."""

    negative = traitlets.Unicode("auto").tag(sync=True)
    """Negative pixels: ``"auto"`` (``"offset"`` for the Poisson methods, ``"keep"`` for the least-squares
    ones), ``"offset"``, ``"clip"``, ``"error"`` or ``"keep"`` (:mod:`superres_widgets.xrf._data`)."""

    _PSF_FREE_METHODS = True
    """Offer methods that estimate their own PSF (blind L0)."""

    _PSF_TRAITS = False
    """Add ``psf_sigma_um`` and ``psf_rho`` traits (from :data:`~superres_widgets.xrf.PSF_PARAMETERS`)."""

    _PARAMETER_DEFAULTS: dict = {}
    """This widget's defaults for some method parameters (the declarations' defaults otherwise)."""

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(_with_method_traits(cls), *args, **kwargs)
        obj._given_parameters = frozenset(kwargs)  # set by the caller: never replaced by a method's default
        return obj

    @classmethod
    def _offered_methods(cls) -> tuple:
        return methods() if cls._PSF_FREE_METHODS else methods(needs_psf=True)

    @classmethod
    def offered_methods(cls) -> list:
        """Names of the methods this widget offers (registered before the widget was created)."""
        return [m.name for m in cls._offered_methods()]

    # -- the method -------------------------------------------------------------------
    def _methods_here(self) -> tuple:
        names = [m["name"] for m in self.method_table.get("methods", [])]
        return tuple(m for m in methods() if m.name in names) if names else self._offered_methods()

    @traitlets.validate("method")
    def _validate_method(self, proposal):
        value = proposal["value"]
        pool = self._methods_here()
        try:
            return get_method(value, pool).name
        except ValueError:
            try:
                other = get_method(value)
            except ValueError:
                raise ValueError(f"method {value!r} is unknown; valid: {', '.join(_names(pool))}") from None
            named = repr(value) + ("" if value == other.name else f" ({other.name})")
            why = ("it estimates its own PSF, and this widget restores with given PSFs"
                   if not other.needs_psf and not self._PSF_FREE_METHODS else
                   "it was registered after this widget was created; create a new widget to use it")
            raise ValueError(f"method {named} is not offered by {type(self).__name__}: {why}; "
                             f"valid: {', '.join(_names(pool))}") from None

    @traitlets.validate("negative")
    def _validate_negative(self, proposal):
        value = proposal["value"]
        if value not in ("auto",) + NEGATIVE_POLICIES:
            raise traitlets.TraitError(f"negative must be one of {['auto', *NEGATIVE_POLICIES]}, got {value!r}")
        return value

    def negative_policy(self, method=None) -> str:
        """The policy the current (or given) method runs with (``"auto"`` resolved)."""
        m = method or self.current_method
        if self.negative != "auto":
            return self.negative
        return "offset" if m.nonnegative else "keep"

    def data_notice(self, image, method=None) -> str:
        """What happens to the map's masked and negative pixels with the current method ('' if nothing)."""
        m = method or self.current_method
        if image is None:
            return ""
        key = (self.negative_policy(m), bool(m.nonnegative))
        cached = getattr(self, "_data_notice_cache", None)  # the last map's answer: a slider move keeps the map
        if cached is not None and cached[0] is image and cached[1] == key:
            return cached[2]
        try:
            text = prepare_data(image, negative=key[0], poisson=key[1]).notice()
        except ValueError as exc:
            text = str(exc)
        self._data_notice_cache = (image, key, text)
        return text

    @traitlets.observe("method")
    def _reclamp_for_method(self, change):
        """Show the new method's parameters clamped into its own ranges (with a notice).

        Methods share a parameter by name but not always its default (``x0``:
        RL starts flat, SGP from the map; ``num_iter``: 30 for RL, 100 for
        FISTA).  A parameter still at the previous method's default, and not
        given to the constructor nor fixed by the widget (``_PARAMETER_DEFAULTS``),
        takes the new method's default (a parameter the previous method did not
        have counts as at its default while it holds the trait's default).
        """
        try:
            old = get_method(change["old"], self._methods_here())
        except ValueError:
            old = None
        given = getattr(self, "_given_parameters", frozenset()) | set(self._PARAMETER_DEFAULTS)
        for p in self.current_method.parameters:
            value = getattr(self, p.name)
            if p.name not in given:
                # the default it was at: the previous method's, or the trait's own (a parameter new to the widget)
                was = (old.parameter(p.name).default if old is not None and p.name in old.parameter_names
                       else self.trait_defaults(p.name))
                if value == was:
                    value = p.default
            setattr(self, p.name, value)

    @property
    def current_method(self):
        """The :class:`~superres_widgets.xrf.Method` selected by ``method``."""
        return get_method(self.method, self._methods_here())

    def method_values(self) -> dict:
        """``{parameter: value}`` of the current method (the widget's values, e.g. bools), in its ranges."""
        return {p.name: p.clamp(getattr(self, p.name))[0] for p in self.current_method.parameters}

    def method_parameter_names(self) -> list:
        """Every method-parameter trait of this widget (for observers)."""
        return [n for n in self.trait_names() if self.trait_metadata(n, "method_parameter")]

    def _observe_method_parameters(self, handler) -> None:
        """Call ``handler(change)`` when a parameter the current method uses changes.

        Every registered method's parameters are traits of the widget.  A value
        set for another method (``num_iter`` while Wiener is selected) is kept
        for when that method is chosen, and starts no computation: its result
        would be the one on screen.
        """
        def on_change(change):
            if self._parameter_in_use(change["name"]):
                handler(change)

        self.observe(on_change, names=self.method_parameter_names())

    def _parameter_in_use(self, name: str) -> bool:
        """Whether the current method's result depends on the method-parameter trait ``name``."""
        try:
            m = self.current_method
        except ValueError:
            return True
        return name in m.parameter_names or (name in PSF_PARAMETERS and m.needs_psf)

    def _declaration(self, name: str):
        try:
            m = get_method(self.method, self._methods_here())
            if name in m.parameter_names:
                return m.parameter(name)
        except ValueError:
            pass
        if name in PSF_PARAMETERS:
            return PSF_PARAMETERS[name]
        for m in self._methods_here():
            if name in m.parameter_names:
                return m.parameter(name)
        raise KeyError(name)

    def _validate_parameter(self, proposal):
        name = proposal["trait"].name
        value = proposal["value"]
        if isinstance(value, float) and not math.isfinite(value):
            self._notices[name] = f"{name} must be finite; kept {getattr(self, name)}"
            self.notice = "; ".join(self._notices.values())
            return getattr(self, name)
        value, notice = self._declaration(name).clamp(value)
        if notice:
            self._notices[name] = notice
        else:
            self._notices.pop(name, None)
        self.notice = "; ".join(self._notices.values())
        return value


def _names(pool) -> list:
    return [m.name + (f" (alias {', '.join(m.aliases)})" if m.aliases else "") for m in pool]


def method_parameters(widget) -> dict:
    """``{"method": ..., <its parameters>}`` read from a widget's traits."""
    return {"method": widget.method, **widget.method_values()}


def restore_with_psf(image: np.ndarray, psf: np.ndarray | None, params: dict, *, cancel: Any = None,
                     callback: Callable[[int, Any], None] | None = None, callback_every: int = 1,
                     dtype=None, negative: str | None = None, history=None):
    """Restore ``image`` with ``psf`` by ``params["method"]`` and its parameters.

    The single dispatch every widget uses (:meth:`superres_widgets.xrf.Method.run`).
    ``callback(iteration, estimate)`` and ``cancel`` go to iterative methods;
    ``dtype`` (e.g. float32 for live sliders), ``negative`` (the policy) and
    ``history`` (a :class:`~superres_widgets.xrf.ConvergenceHistory`) to
    functions that take them.  NaN pixels of ``image`` are masked.
    Returns what the method's function returns (an array, or an object with
    ``.image``/``.kernel`` for methods that estimate the PSF).
    """
    params = dict(params)
    m = get_method(params.pop("method"))
    if m.iterative and "history" not in m.accepts:
        history = None
    return m.run(image, psf, params, callback=callback, callback_every=callback_every, cancel=cancel,
                 dtype=dtype, negative=negative, history=history)


def restore(image: np.ndarray, sigma_um: float | None, pixel_size_um: float, params: dict, *,
            cancel: Any = None, progress: Callable[[float], None] | None = None, negative: str | None = None,
            psf: np.ndarray | None = None) -> np.ndarray:
    """Restore ``image`` with a Gaussian PSF of ``sigma_um`` (or the PSF image ``psf``) by ``params["method"]``.

    Exactly the call a user would write, e.g. ``richardson_lucy(image,
    gaussian_psf(sigma_um, pixel_size_um=pixel_size_um), num_iter)``; the
    callback only reports progress (it never alters the iterate).
    """
    m = get_method(params["method"])
    if psf is None:
        psf = gaussian_psf(sigma_um, pixel_size_um=pixel_size_um)
    values = {k: v for k, v in params.items() if k != "method"}
    n = m.total_iterations(values)
    report = None
    if progress is not None and m.iterative and n:
        def report(iteration, _estimate):
            progress(min(1.0, iteration / n))

    out = restore_with_psf(image, psf, params, cancel=cancel, callback=report,
                           callback_every=max(1, (n or 20) // 20), negative=negative)
    if progress is not None:
        progress(1.0)
    return np.asarray(getattr(out, "image", out), dtype=np.float64)


def robust_range(*images, percentiles=(0.5, 99.5)) -> list:
    """``[lo, hi]`` covering the given percentiles of every image (finite values)."""
    lo, hi = math.inf, -math.inf
    for img in images:
        if img is None:
            continue
        a = np.asarray(img, dtype=np.float64)
        a = a[np.isfinite(a)]
        if a.size == 0:
            continue
        if a.size > 262144:  # a strided sample is plenty for a display range
            a = a[:: a.size // 262144]
        p_lo, p_hi = np.percentile(a, percentiles)
        lo, hi = min(lo, float(p_lo)), max(hi, float(p_hi))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + 1.0
    return [lo, hi]


def thumbnail(image: np.ndarray, vrange, max_side: int = 96) -> np.ndarray:
    """A small uint8 copy of ``image`` (block means), scaled by ``vrange`` to 0-255."""
    a = np.asarray(image, dtype=np.float64)
    lo0 = float(vrange[0])
    a = np.where(np.isfinite(a), a, lo0)  # masked pixels: the bottom of the range
    f = max(1, int(math.ceil(max(a.shape) / max_side)))
    ny, nx = a.shape[0] // f, a.shape[1] // f
    if ny == 0 or nx == 0:
        small = a
    else:
        small = a[: ny * f, : nx * f].reshape(ny, f, nx, f).mean(axis=(1, 3))
    lo, hi = float(vrange[0]), float(vrange[1])
    t = (small - lo) / (hi - lo if hi > lo else 1.0)
    return np.clip(np.round(255 * t), 0, 255).astype(np.uint8)
