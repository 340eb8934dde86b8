r"""Restoration methods as data: one registry that every consumer reads.

A restoration method is declared once, as a :class:`Method`: its function,
its parameters (:class:`Parameter`: name, default, accepted range, slider
range and step, unit, label, linear or log slider), its aliases, whether it
iterates (takes ``callback``/``callback_every``/``cancel``) and streams
frames, whether it needs a PSF, the pixels a restored pixel depends on (the
Dask halo rule of :func:`~superres_widgets.xrf.deconvolve_stack`; ``None``:
it cannot be tiled), and the boundary models it accepts.  Everything else is
derived from the declarations: :func:`~superres_widgets.xrf.deconvolve_stack`,
the command line's ``--method`` choices, flags, defaults and provenance, the
widgets' traits, limits and validation, and the sliders the front-ends draw
(:func:`method_table` is sent to the browser once).

Built-in methods
----------------
(name, aliases: parameters -- tiling halo in pixels, or "whole")

* ``wiener``: ``balance`` -- ``s (14 + 4 log10(1/b))``
* ``richardson_lucy`` (``rl``): ``num_iter``, ``acceleration``, ``x0`` -- ``s (4 + 2 sqrt(n))``;
  whole with acceleration or ``x0="wiener"``
* ``fista``: ``lam``, ``num_iter`` -- ``s (4 + 4 sqrt(n))``
* ``blind_l0`` (``blind``): ``kernel_size`` -- never (estimates the PSF)
* ``richardson_lucy_tv`` (``rl_tv``, ``rltv``): ``num_iter``, ``tv_weight`` -- whole (RL's halo
  leaves 1.5e-3: its TV term reaches farther)
* ``sgp``: ``num_iter`` -- whole (step lengths from sums over the map)
* ``landweber`` (``lw``): ``num_iter``, ``tau`` -- ``s (4 + 4 sqrt(n tau))``
* ``tikhonov_miller`` (``tm``, ``ictm``): ``balance``, ``num_iter``, ``constrained`` -- whole (CG
  steps from sums over the map)

Every iterative method also takes ``stop`` (``"none"``, ``"discrepancy"``,
``"relative_change"``) and ``tol`` (:mod:`superres_widgets.xrf.convergence`);
a stopping rule makes a run's length depend on the whole map, so such runs
are restored whole, not in tiles.  Every built-in method takes the options
``mask`` and ``negative`` (:mod:`superres_widgets.xrf._data`) and the
iterative ones ``history``.

``s`` is the PSF sigma in pixels; the measurements behind the halo rules are
in :mod:`superres_widgets.xrf.stack`.

Adding your own
---------------
A method is any function ``f(image, psf, **parameters)`` returning the
restored map (``f(image, **parameters)`` with ``needs_psf=False``).
:func:`register_method` checks the function's signature against the
declaration; from then on the method is offered by ``DeconvolutionExplorer``,
``PSFSweep``, ``ElementStack`` (widgets created after the registration),
:func:`~superres_widgets.xrf.deconvolve_stack` and the command line
(``superres-widgets deconvolve --plugin my_methods.py --method landweber``:
the plugin module registers its methods when it is imported).

Conventions
-----------
* Names and aliases are looked up case-insensitively; an unknown name is a
  :class:`ValueError` listing every name and alias.
* A parameter's value is what the widgets hold (e.g. ``acceleration`` is a
  bool); :meth:`Parameter.argument` turns it into the function's argument
  (``"biggs-andrews"`` or ``None``).
* ``lo``/``hi`` is the accepted range: :meth:`Parameter.validate` raises
  outside it (algorithms, command line), :meth:`Parameter.clamp` clamps
  (widgets, with a notice).  ``slider`` is the part of it a slider spans.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


__all__ = ["Parameter", "Method", "methods", "get_method", "register_method", "unregister_method",
           "method_table", "PSF_PARAMETERS", "registry_version"]

#: Names a parameter cannot take (they are the functions' own arguments or the widgets' inputs).
RESERVED = frozenset({"image", "psf", "method", "callback", "callback_every", "cancel", "boundary",
                      "dtype", "workers", "pixel_size_um", "psf_sigma_um", "psf_sigma_v_um",
                      "psf_rho", "sigmas_um", "progress", "error", "notice", "busy"})
_OPTIONS = ("boundary", "dtype", "workers", "mask", "negative", "history")  # passed only to functions that take them
_HOOKS = ("callback", "callback_every", "cancel")
_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class Parameter:
    """One parameter of a restoration method (or of the Gaussian PSF).

    Parameters
    ----------
    name : str
        Keyword of the function (a Python identifier).
    default : float, int, bool or str
        Its type gives the kind: ``float``, ``int``, ``bool`` or, with
        ``choices``, a choice of strings.
    lo, hi : float, optional
        Accepted range, inclusive (``None``: unbounded).
    step : float, optional
        Slider step of a linear slider (ints: 1).  Log sliders snap to
        integers (int) or three significant digits (float).
    unit, label, doc : str
        Shown next to the control and in ``--help``.
    log : bool
        Draw the slider on a log scale (needs ``slider[0] > 0``).
    slider : (lo, hi), optional
        Range the slider spans; default ``(lo, hi)``.
    choices : tuple of str
        The values of a choice parameter.
    odd : bool
        Int parameters only: the value must be odd (kernel sizes).
    values : (off, on), optional
        Bool parameters only: the function's argument for False and True,
        e.g. ``(None, "biggs-andrews")``; these are also accepted as values.
    aliases : tuple of str
        Other spellings on the command line (``"iterations"``, ``"n"``).
    show_when : tuple of (name, value)
        Front-ends show the control only while every named parameter has
        that value (``tol`` only with ``stop="relative_change"``).

    Examples
    --------
    >>> p = Parameter("num_iter", 30, lo=1, hi=2000, log=True, label="iterations")
    >>> p.kind, p.validate(50), p.clamp(5000)
    ('int', 50, (2000, 'num_iter=5000 is out of range [1, 2000]; clamped to 2000'))
    """

    name: str
    default: Any
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    unit: str = ""
    label: str = ""
    log: bool = False
    slider: tuple | None = None
    choices: tuple = ()
    odd: bool = False
    values: tuple | None = None
    aliases: tuple = ()
    doc: str = ""
    show_when: tuple = ()

    def __post_init__(self):
        if not (isinstance(self.name, str) and self.name.isidentifier() and not self.name.startswith("_")):
            raise ValueError(f"parameter name must be a Python identifier not starting with '_', "
                             f"got {self.name!r}")
        if self.kind == "choice" and self.default not in self.choices:
            raise ValueError(f"parameter {self.name!r}: default {self.default!r} is not one of "
                             f"choices {self.choices}")
        if self.values is not None and (self.kind != "bool" or len(self.values) != 2):
            raise ValueError(f"parameter {self.name!r}: values=(off, on) is for bool parameters only")
        lo, hi = self.slider_range
        if self.log and not (lo is not None and lo > 0):
            raise ValueError(f"parameter {self.name!r}: a log slider needs a slider range above 0")
        if self.kind in ("int", "float") and self.default is not None:
            self.validate(self.default)

    # -- kinds and ranges --------------------------------------------------------------
    @property
    def kind(self) -> str:
        """``"bool"``, ``"int"``, ``"float"`` or ``"choice"``."""
        if self.choices:
            return "choice"
        if isinstance(self.default, bool):
            return "bool"
        if isinstance(self.default, numbers.Integral):
            return "int"
        return "float"

    @property
    def slider_range(self) -> tuple:
        return tuple(self.slider) if self.slider is not None else (self.lo, self.hi)

    def range_text(self) -> str:
        """The accepted range as text, e.g. ``[1, 2000]``."""
        lo = "-inf" if self.lo is None else _fmt(self.lo)
        hi = "inf" if self.hi is None else _fmt(self.hi)
        return f"[{lo}, {hi}]"

    # -- values ----------------------------------------------------------------------
    def _convert(self, value):
        """``value`` as this kind (strings parsed), or ValueError; no range check."""
        kind = self.kind
        if kind == "bool":
            return self._convert_bool(value)
        if kind == "choice":
            if value not in self.choices:
                raise ValueError(f"{self.name} must be one of {list(self.choices)}, got {value!r}")
            return value
        if isinstance(value, str):
            try:
                value = float(value) if kind == "float" else int(value.strip())
            except ValueError:
                raise ValueError(f"{self.name} must be {'an integer' if kind == 'int' else 'a number'}, "
                                 f"got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{self.name} must be {'an integer' if kind == 'int' else 'a number'}, "
                             f"got {value!r}")
        if kind == "int":
            if not (isinstance(value, numbers.Integral) or float(value).is_integer()):
                raise ValueError(f"{self.name} must be an integer, got {value!r}")
            return int(value)
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{self.name} must be finite, got {value!r}")
        return value

    def _convert_bool(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        text = value.strip().lower() if isinstance(value, str) else None
        for i, v in enumerate(self.values or ()):
            if value is v or (text is not None and text == ("none" if v is None else str(v).lower())):
                return bool(i)
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        if isinstance(value, numbers.Integral) and value in (0, 1):
            return bool(value)
        allowed = "True/False" + ("" if self.values is None else " or " + "/".join(repr(v) for v in self.values))
        raise ValueError(f"{self.name} must be {allowed}, got {value!r}")

    def validate(self, value):
        """``value`` converted and checked; ValueError naming the parameter, value and range."""
        v = self._convert(value)
        if self.kind in ("int", "float"):
            if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
                raise ValueError(f"{self.name} must be in {self.range_text()}, got {_fmt(v)}")
            if self.odd and v % 2 == 0:
                raise ValueError(f"{self.name} must be odd, got {v}")
        return v

    def clamp(self, value) -> tuple:
        """``(value, notice)``: clamped into the range (odd ints raised by one); notice '' if unchanged.

        Raises ValueError only for a value of the wrong kind.
        """
        v = self._convert(value)
        notice = ""
        if self.kind in ("int", "float"):
            lo = -math.inf if self.lo is None else self.lo
            hi = math.inf if self.hi is None else self.hi
            if v < lo or v > hi:
                c = type(v)(min(max(v, lo), hi))
                notice = f"{self.name}={_fmt(v)} is out of range {self.range_text()}; clamped to {_fmt(c)}"
                v = c
            if self.odd and v % 2 == 0:
                v = v + 1 if v + 1 <= hi else v - 1
        return v, notice

    def argument(self, value):
        """The function's argument for ``value`` (bools mapped through ``values``)."""
        if self.kind == "bool" and self.values is not None:
            return self.values[int(bool(value))]
        return value

    def as_dict(self) -> dict:
        """JSON-ready declaration (what the front-ends draw controls from)."""
        s_lo, s_hi = self.slider_range
        return {"name": self.name, "kind": self.kind, "default": self.default, "lo": self.lo,
                "hi": self.hi, "slider_lo": s_lo, "slider_hi": s_hi,
                "step": self.step if self.step is not None else (1 if self.kind == "int" else None),
                "unit": self.unit, "label": self.label or self.name, "log": self.log,
                "choices": list(self.choices), "odd": self.odd, "doc": self.doc,
                "show_when": {k: v for k, v in self.show_when}}


def _accepted(function) -> tuple:
    """(keyword names the function takes, whether it takes **kwargs, positional capacity)."""
    try:
        sig = inspect.signature(function)
    except (TypeError, ValueError):  # builtins without a signature: trust the declaration
        return frozenset(), True, 99
    names, var_kw, positional = set(), False, 0
    for p in sig.parameters.values():
        if p.kind == p.VAR_KEYWORD:
            var_kw = True
        elif p.kind == p.VAR_POSITIONAL:
            positional = 99
        else:
            if p.kind != p.POSITIONAL_ONLY:
                names.add(p.name)
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                positional += 1
    return frozenset(names), var_kw, positional


@dataclass(frozen=True)
class Method:
    """A restoration method's declaration (see the module docstring).

    Attributes
    ----------
    name : str
        Canonical name (``"richardson_lucy"``).
    function : callable
        ``function(image, psf, **parameters)`` (without ``psf`` when
        ``needs_psf`` is False) returning the restored map, or an object with
        ``.image`` (and ``.kernel`` for methods that estimate the PSF).
    parameters : tuple of Parameter
    label : str
        Shown in menus.
    aliases : tuple of str
    iterative : bool
        The function takes ``callback(iteration, estimate)``,
        ``callback_every`` and ``cancel``.
    streams : bool
        Its intermediate estimates are worth showing (frames in the widgets).
    needs_psf : bool
        False for methods that estimate the PSF themselves.
    halo : callable(sigma_px, params) -> float or None, optional
        Pixels a restored pixel depends on, for a PSF of ``sigma_px`` pixels;
        ``None`` (no rule, or for these parameters): the method cannot be
        tiled and :func:`~superres_widgets.xrf.deconvolve_stack` restores
        each channel whole.
    nonnegative : bool
        The method needs counts >= 0 (Richardson-Lucy's Poisson model).
    boundaries : tuple of str
        Boundary models it accepts (first: the default).
    reference : str
        Where the method comes from.
    """

    name: str
    function: Callable
    parameters: tuple = ()
    label: str = ""
    aliases: tuple = ()
    iterative: bool = False
    streams: bool = False
    needs_psf: bool = True
    halo: Callable | None = None
    nonnegative: bool = False
    boundaries: tuple = ("reflect",)
    reference: str = ""
    accepts: frozenset = field(default=frozenset(), repr=False, compare=False)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ValueError(f"{self.name} has no parameter {name!r}; its parameters: "
                         f"{[p.name for p in self.parameters] or 'none'}")

    @property
    def parameter_names(self) -> tuple:
        return tuple(p.name for p in self.parameters)

    def defaults(self) -> dict:
        """``{parameter: default}``."""
        return {p.name: p.default for p in self.parameters}

    def values(self, params: Mapping | None = None, *, strict: bool = True) -> dict:
        """Every parameter's value: ``params`` checked (ValueError), defaults for the rest.

        ``strict=False`` ignores names the method does not take.
        """
        params = dict(params or {})
        unknown = [k for k in params if k not in self.parameter_names]
        if unknown and strict:
            raise ValueError(f"{self.name} has no parameter(s) {unknown}; its parameters: "
                             f"{list(self.parameter_names) or 'none'}")
        texts = [p.name for p in self.parameters if p.kind in ("int", "float") and isinstance(params.get(p.name), str)]
        if texts:  # numeric strings are parsed on the command line only (Parameter.validate)
            raise ValueError(f"{texts[0]} must be a number, got the string {params[texts[0]]!r}")
        return {p.name: p.validate(params[p.name]) if p.name in params else p.default
                for p in self.parameters}

    def arguments(self, params: Mapping | None = None) -> dict:
        """The keyword arguments of ``function`` for ``params`` (checked, defaults filled in)."""
        vals = self.values(params)
        return {p.name: p.argument(vals[p.name]) for p in self.parameters}

    def run(self, image, psf=None, params: Mapping | None = None, *, callback=None, callback_every: int = 1,
            cancel=None, **options):
        """Call the function: ``function(image, [psf,] **arguments, [hooks], [options])``.

        ``callback``/``callback_every``/``cancel`` go to iterative methods
        only; ``options`` (``boundary``, ``dtype``, ``workers``) only to
        functions that accept them.
        """
        kwargs = self.arguments(params)
        if self.iterative:
            kwargs.update(callback=callback, callback_every=callback_every, cancel=cancel)
        for key, value in options.items():
            if key not in _OPTIONS:
                raise ValueError(f"unknown option {key!r}; options: {list(_OPTIONS)}")
            if value is not None and key in self.accepts:
                kwargs[key] = value
        if self.needs_psf:
            if psf is None:
                raise ValueError(f"{self.name} needs a PSF")
            return self.function(image, psf, **kwargs)
        return self.function(image, **kwargs)

    def halo_px(self, sigma_px: float, params: Mapping | None = None) -> int | None:
        """Tile halo in pixels (>= the PSF radius ``ceil(4 s)`` and >= 8), or None: restore whole."""
        if self.halo is None:
            return None
        depth = self.halo(float(sigma_px), self.values(params, strict=False))
        if depth is None:
            return None
        return max(int(math.ceil(float(depth) - 1e-9)), math.ceil(4 * float(sigma_px)), 8)

    def total_iterations(self, params: Mapping | None = None) -> int | None:
        """Iterations a run makes (its ``num_iter``), or None when unknown."""
        n = self.values(params, strict=False).get("num_iter") if "num_iter" in self.parameter_names else None
        return None if n is None else int(n)

    def as_dict(self) -> dict:
        """JSON-ready declaration for the front-ends."""
        return {"name": self.name, "label": self.label or self.name, "aliases": list(self.aliases),
                "iterative": self.iterative, "streams": self.streams, "needs_psf": self.needs_psf,
                "tileable": self.halo is not None, "parameters": [p.as_dict() for p in self.parameters]}


# ---------------------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------------------

_LOCK = threading.RLock()
_REGISTRY: dict[str, Method] = {}
_VERSION = [0]
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


def registry_version() -> int:
    """Incremented by every registration (widgets rebuild their traits from a newer registry)."""
    return _VERSION[0]


def methods(*, needs_psf: bool | None = None) -> tuple:
    """The registered methods, in registration order (optionally only those that need a PSF).

    Examples
    --------
    >>> [m.name for m in methods()][:4]
    ['wiener', 'richardson_lucy', 'fista', 'blind_l0']
    >>> [m.name for m in methods(needs_psf=False)]
    ['blind_l0']
    """
    with _LOCK:
        out = tuple(_REGISTRY.values())
    return out if needs_psf is None else tuple(m for m in out if m.needs_psf == needs_psf)


def _names_text(candidates) -> str:
    parts = [m.name + (f" (alias {', '.join(m.aliases)})" if m.aliases else "") for m in candidates]
    return ", ".join(parts)


def get_method(name, candidates: Sequence[Method] | None = None) -> Method:
    """The method called ``name`` (a name or an alias, any case).

    ``candidates`` restricts the search (e.g. the methods a widget offers).
    An unknown name is a ValueError listing the valid names and aliases.

    Examples
    --------
    >>> get_method("rl").name, get_method("Blind").name
    ('richardson_lucy', 'blind_l0')
    >>> get_method("magic")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: method 'magic' is unknown; valid: wiener, richardson_lucy (alias rl), ...
    """
    if isinstance(name, Method):
        name = name.name
    pool = tuple(candidates) if candidates is not None else methods()
    if isinstance(name, str):
        key = name.strip().lower()
        for m in pool:
            if key == m.name.lower() or key in (a.lower() for a in m.aliases):
                return m
    raise ValueError(f"method {name!r} is unknown; valid: {_names_text(pool)}")


def _check_function(m: Method) -> Method:
    names, var_kw, positional = _accepted(m.function)
    need_pos = 2 if m.needs_psf else 1
    if positional < need_pos:
        raise ValueError(f"method {m.name!r}: function must take ({'image, psf' if m.needs_psf else 'image'}) "
                         "as its first positional arguments")
    required = list(m.parameter_names) + (list(_HOOKS) if m.iterative else [])
    missing = [n for n in required if n not in names and not var_kw]
    if missing:
        raise ValueError(f"method {m.name!r}: function {getattr(m.function, '__name__', m.function)!r} "
                         f"does not accept {missing}" + (" (iterative=True needs callback, callback_every "
                                                          "and cancel)" if set(missing) & set(_HOOKS) else ""))
    accepts = frozenset(o for o in _OPTIONS if o in names)
    return replace(m, accepts=accepts)


def register_method(name, function: Callable | None = None, parameters: Sequence[Parameter] = (), *,
                    label: str = "", aliases: Sequence[str] = (), iterative: bool = False,
                    streams: bool | None = None, needs_psf: bool = True, halo: Callable | None = None,
                    nonnegative: bool = False, boundaries: Sequence[str] | None = None,
                    reference: str = "", replace_existing: bool = False) -> Method:
    r"""Register a restoration method (or a ready :class:`Method` as the only argument).

    Parameters
    ----------
    name : str or Method
        Canonical name (letters, digits, ``_``, ``-``).
    function : callable
        ``function(image, psf, **parameters) -> restored`` (see :class:`Method`).
    parameters : sequence of Parameter
    label, aliases, iterative, streams, needs_psf, halo, nonnegative, boundaries, reference
        As in :class:`Method`; ``streams`` defaults to ``iterative``;
        ``boundaries`` defaults to ``("reflect",)``.
    replace_existing : bool
        Replace a method of the same name (otherwise a clash is an error).

    Returns
    -------
    Method

    Raises
    ------
    ValueError
        A name or alias already taken, a parameter name reserved or clashing
        in kind with another method's parameter of the same name, or a
        function whose signature does not take the declared parameters.

    Examples
    --------
    Landweber iterations :math:`x \leftarrow x + \tau H^T (y - H x)`:

    >>> import numpy as np
    >>> from superres_widgets.xrf import convolve, get_method
    >>> def my_landweber(image, psf, num_iter=20, tau=1.0):
    ...     x = np.asarray(image, float).copy()
    ...     for _ in range(num_iter):
    ...         x += tau * convolve(image - convolve(x, psf), psf[::-1, ::-1])
    ...     return x
    >>> m = register_method("my_landweber", my_landweber,
    ...                     [Parameter("num_iter", 20, lo=1, hi=500, log=True, label="iterations"),
    ...                      Parameter("tau", 1.0, lo=0.0, hi=2.0, step=0.05, label="step τ")],
    ...                     aliases=["my_lw"], halo=lambda s, p: s * (4 + 2 * p["num_iter"] ** 0.5))
    >>> get_method("my_lw") is m
    True
    >>> unregister_method("my_landweber")
    """
    if isinstance(name, Method):
        if function is not None:
            raise ValueError("pass either a Method or a name and a function")
        m = name
    else:
        if not callable(function):
            raise ValueError(f"function must be callable, got {function!r}")
        m = Method(name=name, function=function, parameters=tuple(parameters), label=label,
                   aliases=tuple(aliases), iterative=bool(iterative),
                   streams=bool(iterative if streams is None else streams), needs_psf=bool(needs_psf),
                   halo=halo, nonnegative=bool(nonnegative),
                   boundaries=tuple(boundaries) if boundaries else ("reflect",), reference=reference)
    for n in (m.name, *m.aliases):
        if not (isinstance(n, str) and _NAME_RE.match(n)):
            raise ValueError(f"method name/alias must be letters, digits, '_' or '-', got {n!r}")
    for p in m.parameters:
        if not isinstance(p, Parameter):
            raise ValueError(f"parameters must be Parameter objects, got {p!r}")
        if p.name in RESERVED:
            raise ValueError(f"parameter name {p.name!r} is reserved ({sorted(RESERVED)})")
    if len(set(m.parameter_names)) != len(m.parameters):
        raise ValueError(f"method {m.name!r}: duplicate parameter names {list(m.parameter_names)}")
    m = _check_function(m)
    with _LOCK:
        others = [o for o in _REGISTRY.values() if not (replace_existing and o.name == m.name)]
        taken = {k.lower(): o.name for o in others for k in (o.name, *o.aliases)}
        for n in (m.name, *m.aliases):
            if n.lower() in taken:
                raise ValueError(f"method name {n!r} is already taken by {taken[n.lower()]!r} "
                                 "(pass replace_existing=True to replace a method of the same name)")
        kinds: dict = {}
        for o in others:
            for q in o.parameters:
                kinds.setdefault(q.name, (q.kind, o.name))
        for p in m.parameters:
            if p.name in kinds and kinds[p.name][0] != p.kind:
                raise ValueError(f"parameter {p.name!r} is {_a(p.kind)} here but {_a(kinds[p.name][0])} in "
                                 f"{kinds[p.name][1]!r}; a name means one quantity in every method")
        if replace_existing and m.name in _REGISTRY:
            items = [(k, m if k == m.name else v) for k, v in _REGISTRY.items()]
            _REGISTRY.clear()
            _REGISTRY.update(items)
        else:
            _REGISTRY[m.name] = m
        _VERSION[0] += 1
    return m


def unregister_method(name: str) -> None:
    """Remove a registered method (by name or alias); ValueError if unknown."""
    m = get_method(name)
    with _LOCK:
        _REGISTRY.pop(m.name, None)
        _VERSION[0] += 1


def method_table(candidates: Sequence[Method] | None = None, *, psf: bool = True) -> dict:
    """``{"methods": [declaration...], "psf": [parameter...]}``: what a front-end draws controls from."""
    pool = methods() if candidates is None else tuple(candidates)
    return {"methods": [m.as_dict() for m in pool],
            "psf": [p.as_dict() for p in PSF_PARAMETERS.values()] if psf else []}


# ---------------------------------------------------------------------------------------
# the Gaussian PSF the widgets and the command line give to the methods
# ---------------------------------------------------------------------------------------

#: Parameters of the Gaussian PSF (:func:`~superres_widgets.xrf.gaussian_psf`) the widgets
#: offer with the methods that need a PSF; ``psf_sigma_v_um`` (optional) uses ``psf_sigma_um``'s range.
PSF_PARAMETERS = {
    "psf_sigma_um": Parameter("psf_sigma_um", 32.5, lo=1e-3, hi=1e5, step=0.5, slider=(1.0, 200.0), unit="µm",
                              label="PSF σ", doc="Gaussian PSF standard deviation"),
    "psf_rho": Parameter("psf_rho", 0.0, lo=-0.95, hi=0.95, step=0.05, slider=(-0.9, 0.9), label="PSF ρ",
                         doc="correlation of the PSF's u and v (tilts an elliptical spot)"),
}


# the built-in methods (registered on import)
from . import _builtin_methods  # noqa: E402,F401
