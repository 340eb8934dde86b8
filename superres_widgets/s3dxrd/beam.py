r"""The beam as an object: how strongly a measurement lights a specimen point.

Every s3DXRD calculation asks one question over and over -- *is the point
``(xs, ys)`` lit by the measurement ``(X, omega)``, and how strongly?*  The
answer depends on the beam only through its **profile** across the beam,
as a function of the signed distance

.. math:: d = x_s \cos\omega - y_s \sin\omega - X

of the point from the beam's centre line (seed 000 eq. (1); ``X`` is the
scan position).  A :class:`BeamProfile` answers it, and every layer asks the
profile: the exact superposed polygons and the raster
(:mod:`~superres_widgets.s3dxrd.superposition`), the relative-spot-size map
(:mod:`~superres_widgets.s3dxrd.spot_map`), the forward model
(:mod:`~superres_widgets.s3dxrd.forward`), the reconstruction and the
widgets' strip overlays (which receive :func:`profile_samples`).

Conventions
-----------
1. **Units.**  ``d`` and the nominal beam width ``width`` (``b``,
   :attr:`ScanGeometry.beam_width <superres_widgets.s3dxrd.ScanGeometry.beam_width>`)
   are in the same length unit (steps or micrometres); a profile decides how
   ``width`` scales it.

2. **Weights** ``w(d) = profile.weight(d, width)`` lie in ``[0, 1]``
   (1 = full intensity); ``w`` is even in ``d``.  A point is **lit** when
   ``w > 0``.

3. **Support.**  ``w(d) = 0`` for ``|d| > support(width)`` and ``w(d) > 0``
   for ``|d| < support(width)``: the lit set is one interval (its two end
   points may or may not be lit).  The forward model's lit test and the
   front-end's rasteriser rely on this; :func:`register_beam_profile`
   checks it on samples.

4. **Exact polygons** clip every strip to ``|d| <= clip_half_width(width)``
   (default: the support), so the "fully superposed region" of seed 000
   section 4 is the intersection of those strips.  For the box the strips
   are exactly the lit sets.

5. **The box** (:class:`BoxProfile`, the paper's beam) has ``w = 1`` for
   ``|d| <= width/2`` (closed) and 0 elsewhere; its lit test is written with
   the same floating-point operations as before profiles existed, so every
   number of seed 000 is unchanged (areas 0.78740 / 0.006933 beam^2, 316 / 3
   raster pixels, mean relative size 0.186, COM-error FWHM 0.126).

6. **Registry.**  Profiles are looked up by name (:func:`get_beam_profile`,
   ``ScanGeometry(profile="box")``); :func:`register_beam_profile` adds a
   user's own (e.g. a :class:`MeasuredProfile`) without touching the
   package.  Built-ins: ``"box"``, ``"gaussian"`` and ``"box_gaussian"``
   with their default parameters; :func:`make_beam_profile` makes one with
   other parameters (``make_beam_profile("box_gaussian", blur_fwhm=0.5)``).

7. **Beams with tails** (:class:`GaussianProfile`, :class:`BoxGaussianProfile`,
   :class:`MeasuredProfile`).  A real beam never drops to exactly 0, but
   convention 3 needs a finite support: a tail profile ``g(d)`` (maximum 1)
   is cut where it falls to the relative level ``floor`` (default
   ``1e-3``), continuously,

   .. math:: w(d) = \max\left(0, \frac{g(d) - \mathrm{floor}}{1 - \mathrm{floor}}\right),

   so the support is where ``g = floor`` (1.58 FWHM for a Gaussian) and the
   weights differ from ``g`` by less than ``floor``.  The nominal width
   ``b`` is the FWHM of a Gaussian, the box width of a box ⊗ Gaussian (its
   blur FWHM is ``blur_fwhm * b``) and the unit of ``u`` of a measured
   profile.  Their ``clip_half_width`` is the half width at half maximum:
   the exact polygons of such a profile are the regions lit at half
   maximum or more in every measurement; the **sensitivity map**
   (:mod:`~superres_widgets.s3dxrd.sensitivity`) is the full answer.

Examples
--------
A trapezoid, flat over the central 40 % of the beam:

>>> import numpy as np
>>> class Trapezoid(BeamProfile):
...     def weight(self, d, width):
...         t = np.abs(np.asarray(d, dtype=float)) / width
...         return np.clip((0.5 - t) / 0.3, 0.0, 1.0)
...     def support(self, width):
...         return 0.5 * width
>>> _ = register_beam_profile("doc-trapezoid", Trapezoid(), replace=True)
>>> get_beam_profile("doc-trapezoid").weight([0.0, 0.35, 0.5], 1.0).round(3).tolist()
[1.0, 0.5, 0.0]
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import finite_array, finite_scalar, positive_scalar

__all__ = [
    "BEAM_PROFILES",
    "BeamProfile",
    "BoxProfile",
    "GaussianProfile",
    "BoxGaussianProfile",
    "MeasuredProfile",
    "make_beam_profile",
    "register_beam_profile",
    "unregister_beam_profile",
    "beam_profiles",
    "get_beam_profile",
    "beam_profile_name",
    "profile_samples",
]

#: FWHM = 2 sqrt(2 ln 2) sigma.
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

#: Built-in beam profiles (see :func:`beam_profiles` for every registered one).
BEAM_PROFILES: tuple[str, ...] = ("box", "gaussian", "box_gaussian")


class BeamProfile(ABC):
    """Base class of beam profiles (module conventions 1-4).

    Subclasses implement :meth:`weight` and :meth:`support`; they may
    override :meth:`clip_half_width` (exact polygons) and :meth:`lit` (a
    faster or exactly rounded lit test).  Instances should be immutable;
    give them value equality (e.g. a frozen dataclass) if two instances with
    the same parameters should make equal :class:`ScanGeometry` objects.
    """

    #: Display name used when the profile is not registered.
    name: str = ""
    #: ``True`` when ``w`` is 1 on the whole lit set (a box): rasterisers can
    #: then count strips instead of summing weights.
    flat: bool = False

    @abstractmethod
    def weight(self, d: Any, width: float) -> np.ndarray:
        """Weight ``w(d)`` in ``[0, 1]`` at signed distances ``d`` from the centre line."""

    @abstractmethod
    def support(self, width: float) -> float:
        """Half-width beyond which the weight is 0 (finite, ``> 0``)."""

    def clip_half_width(self, width: float) -> float:
        """Half-width of the strips of the exact polygons (default: the support)."""
        return self.support(width)

    def is_flat(self, width: float) -> bool:
        """``True`` when ``w`` is 1 on the whole lit set: :attr:`flat`, or 1 at 257 samples inside the support.

        Flat profiles get exact polygons instead of sensitivity grids
        (:mod:`~superres_widgets.s3dxrd.sensitivity`).
        """
        if self.flat:
            return True
        s = float(self.support(width))
        w = np.asarray(self.weight(np.linspace(-s, s, 259)[1:-1], width), dtype=float)
        return bool(np.all(w == 1.0))

    def lit(self, d: Any, width: float, tol: float = 0.0) -> np.ndarray:
        """``w > 0`` at ``d`` moved ``tol`` towards the centre line (a closed-set tolerance)."""
        d = np.abs(np.asarray(d, dtype=float))
        if tol:
            d = np.maximum(d - tol, 0.0)
        return np.asarray(self.weight(d, width)) > 0


@dataclass(frozen=True)
class BoxProfile(BeamProfile):
    """The box beam of the paper: ``w = 1`` for ``|d| <= width/2``, else 0 (convention 5).

    Examples
    --------
    >>> BoxProfile().weight([0.0, 0.5, 0.51], 1.0).tolist()
    [1.0, 1.0, 0.0]
    """

    name = "box"
    flat = True

    def weight(self, d: Any, width: float) -> np.ndarray:
        return self.lit(d, width).astype(float)

    def support(self, width: float) -> float:
        return 0.5 * width

    def lit(self, d: Any, width: float, tol: float = 0.0) -> np.ndarray:
        # the historical expression: |d| <= b/2 (+ tol), closed
        return np.abs(d) <= 0.5 * width + tol


def _bisect(f: Any, lo: float, hi: float, n: int = 80) -> float:
    """Root of a decreasing ``f`` with ``f(lo) > 0 >= f(hi)`` by bisection."""
    for _ in range(n):
        mid = 0.5 * (lo + hi)
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return hi


def _check_floor(floor: Any) -> float:
    f = finite_scalar(floor, "floor")
    if not 0 < f < 0.5:
        raise ValueError(f"floor must be in (0, 0.5), got {floor!r}")
    return f


def _floored(g: np.ndarray, floor: float) -> np.ndarray:
    """Convention 7: ``max(0, (g - floor) / (1 - floor))``."""
    return np.maximum((g - floor) / (1.0 - floor), 0.0)


@dataclass(frozen=True)
class GaussianProfile(BeamProfile):
    r"""A Gaussian beam whose FWHM is the nominal width ``b`` (convention 7).

    .. math:: g(d) = \exp\left(-4 \ln 2 \, d^2 / b^2\right), \qquad
              w = \max\left(0, \frac{g - \mathrm{floor}}{1 - \mathrm{floor}}\right)

    Parameters
    ----------
    floor : float, default 1e-3
        Relative intensity below which the tails count as dark, ``0 < floor
        < 0.5``; the support is ``b sqrt(ln(1/floor) / (4 ln 2))`` (1.58 b).

    Examples
    --------
    >>> p = GaussianProfile()
    >>> p.weight([0.0, 0.5], 1.0).round(4).tolist(), round(p.support(1.0), 4)
    ([1.0, 0.4995], 1.5784)
    """

    floor: float = 1e-3
    name = "gaussian"

    def __post_init__(self) -> None:
        object.__setattr__(self, "floor", _check_floor(self.floor))

    def weight(self, d: Any, width: float) -> np.ndarray:
        t = np.asarray(d, dtype=float) / width
        return _floored(np.exp(-4.0 * math.log(2.0) * t * t), self.floor)

    def support(self, width: float) -> float:
        return width * math.sqrt(math.log(1.0 / self.floor) / (4.0 * math.log(2.0)))

    def clip_half_width(self, width: float) -> float:
        # w = 1/2  <=>  g = (1 + floor) / 2
        return width * math.sqrt(math.log(2.0 / (1.0 + self.floor)) / (4.0 * math.log(2.0)))


@dataclass(frozen=True)
class BoxGaussianProfile(BeamProfile):
    r"""A box of width ``b`` blurred by a Gaussian of FWHM ``blur_fwhm * b`` (convention 7).

    A slit-defined beam: the box convolved with the source/optics blur,
    normalised to 1 at the centre,

    .. math:: g(d) = \frac{\mathrm{erfc}\left(\frac{|d| - b/2}{\sigma\sqrt2}\right)
              - \mathrm{erfc}\left(\frac{|d| + b/2}{\sigma\sqrt2}\right)}
              {2\,\mathrm{erf}\left(\frac{b/2}{\sigma\sqrt2}\right)},
              \qquad \sigma = \frac{\mathrm{blur\_fwhm}\; b}{2\sqrt{2\ln 2}},

    then cut at ``floor`` as for the Gaussian.

    Parameters
    ----------
    blur_fwhm : float, default 0.25
        FWHM of the blur in units of the box width, finite and ``> 0``.
    floor : float, default 1e-3

    Examples
    --------
    >>> p = BoxGaussianProfile(blur_fwhm=0.25)
    >>> p.weight([0.0, 0.5, 0.7], 1.0).round(3).tolist()
    [1.0, 0.5, 0.029]
    """

    blur_fwhm: float = 0.25
    floor: float = 1e-3
    name = "box_gaussian"

    def __post_init__(self) -> None:
        object.__setattr__(self, "blur_fwhm", positive_scalar(self.blur_fwhm, "blur_fwhm"))
        object.__setattr__(self, "floor", _check_floor(self.floor))

    def _g(self, d: Any, width: float) -> np.ndarray:
        from scipy.special import erfc

        a = np.abs(np.asarray(d, dtype=float)) / width  # in box widths
        k = 1.0 / (self.blur_fwhm / _FWHM_PER_SIGMA * math.sqrt(2.0))
        norm = 2.0 - 2.0 * float(erfc(0.5 * k))  # 2 erf(k/2)
        return (erfc((a - 0.5) * k) - erfc((a + 0.5) * k)) / norm

    def weight(self, d: Any, width: float) -> np.ndarray:
        return _floored(self._g(d, width), self.floor)

    def _solve(self, level: float, width: float) -> float:
        hi = 0.5 + 10.0 * self.blur_fwhm
        return width * _bisect(lambda a: float(self._g(a, 1.0)) - level, 0.0, hi)

    def support(self, width: float) -> float:
        return self._solve(self.floor, width)

    def clip_half_width(self, width: float) -> float:
        return self._solve(0.5 * (1.0 + self.floor), width)


class MeasuredProfile(BeamProfile):
    r"""A beam profile measured as samples ``(u, intensity)`` (e.g. a knife-edge derivative).

    The samples are interpolated linearly (0 outside them), **symmetrised**
    about ``u = 0`` (convention 2: ``w(d) = (I(d) + I(-d)) / 2``, then scaled
    to maximum 1), and values below ``threshold`` (a relative background
    level) are cut as in convention 7.

    Parameters
    ----------
    u : array_like, (n,)
        Positions across the beam relative to its centre, strictly
        increasing, finite, ``n >= 2``; in units of the nominal width ``b``
        unless ``width`` is given.
    intensity : array_like, (n,)
        Measured intensity, finite, ``>= 0``, not all 0.
    width : float, optional
        The length unit of ``u`` is converted by ``u / width``: give the
        width (e.g. the FWHM you measured) in the unit of ``u`` and use the
        same value as the scan's ``beam_width``.
    threshold : float, default 0
        Relative background level removed, ``0 <= threshold < 1``.

    Raises
    ------
    ValueError
        Naming ``u``, ``intensity``, ``width`` or ``threshold``: empty, non-finite,
        not sorted, negative, all zero, or a zero inside the lit interval
        (convention 3 needs one interval).

    Examples
    --------
    >>> p = MeasuredProfile([-1.0, -0.5, 0.0, 0.5, 1.0], [0.0, 0.5, 1.0, 0.5, 0.0])
    >>> p.weight([0.0, 0.25, 0.75, 1.5], 1.0).tolist(), p.support(2.0)
    ([1.0, 0.75, 0.25, 0.0], 2.0)
    """

    name = "measured"
    __slots__ = ("_t", "_w", "_support", "_half")

    def __init__(self, u: Any, intensity: Any, *, width: float | None = None, threshold: float = 0.0) -> None:
        ua = finite_array(u, "u")
        ia = finite_array(intensity, "intensity")
        if ua.ndim != 1 or ua.size < 2:
            raise ValueError(f"u must be a 1-D list of at least 2 positions, got shape {ua.shape}")
        if ia.shape != ua.shape:
            raise ValueError(f"intensity must have the shape of u {ua.shape}, got {ia.shape}")
        if not np.all(np.diff(ua) > 0):
            raise ValueError("u must be sorted (strictly increasing)")
        if np.any(ia < 0):
            raise ValueError(f"intensity must be >= 0, got a minimum of {ia.min()!r}")
        if not ia.max() > 0:
            raise ValueError("intensity must not be all 0")
        if width is not None:
            ua = ua / positive_scalar(width, "width")
        thr = finite_scalar(threshold, "threshold")
        if not 0 <= thr < 1:
            raise ValueError(f"threshold must be in [0, 1), got {threshold!r}")
        t = np.unique(np.concatenate([[0.0], np.abs(ua)]))
        w = 0.5 * (np.interp(t, ua, ia, left=0.0, right=0.0) + np.interp(-t, ua, ia, left=0.0, right=0.0))
        w = w / w.max()
        if thr > 0:
            w = _floored(w, thr)
        pos = np.nonzero(w > 0)[0]
        if pos.size == 0:
            raise ValueError(f"threshold {thr!r} removes the whole profile")
        last = int(pos[-1])
        if np.any(w[: last + 1] <= 0):
            raise ValueError("intensity: the symmetrised profile is 0 inside its lit interval (one interval needed)")
        keep = min(last + 2, t.size)
        t, w = t[:keep], w[:keep]
        set_ = object.__setattr__
        set_(self, "_t", tuple(float(v) for v in t))
        set_(self, "_w", tuple(float(v) for v in w))
        set_(self, "_support", float(t[-1]))
        above = np.nonzero(w >= 0.5)[0]
        i = int(above[-1])
        if i + 1 < w.size:
            half = t[i] + (w[i] - 0.5) / (w[i] - w[i + 1]) * (t[i + 1] - t[i])
        else:
            half = t[i]
        set_(self, "_half", float(min(max(half, 1e-12), t[-1])))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("MeasuredProfile is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MeasuredProfile):
            return NotImplemented
        return (self._t, self._w) == (other._t, other._w)

    def __hash__(self) -> int:
        return hash((self._t, self._w))

    def __repr__(self) -> str:
        return f"MeasuredProfile(<{len(self._t)} samples, support {self._support:.4g} b>)"

    def __reduce__(self):
        t = np.array(self._t)
        return (MeasuredProfile, (np.concatenate([-t[:0:-1], t]), np.concatenate([self._w[:0:-1], self._w])))

    @property
    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        """``(t, w)``: the symmetrised weights at ``|u| / b = t`` (ascending from 0)."""
        return np.array(self._t), np.array(self._w)

    def weight(self, d: Any, width: float) -> np.ndarray:
        t = np.abs(np.asarray(d, dtype=float)) / width
        return np.interp(t, self._t, self._w, right=0.0)

    def support(self, width: float) -> float:
        return self._support * width

    def clip_half_width(self, width: float) -> float:
        return self._half * width


_REGISTRY: dict[str, BeamProfile] = {
    "box": BoxProfile(),
    "gaussian": GaussianProfile(),
    "box_gaussian": BoxGaussianProfile(),
}
_FACTORIES: dict[str, Any] = {
    "box": BoxProfile,
    "gaussian": GaussianProfile,
    "box_gaussian": BoxGaussianProfile,
    "measured": MeasuredProfile,
}
_LOCK = threading.Lock()


def _check_profile(profile: Any) -> None:
    """Sample ``profile`` at ``width = 1`` and 2.5 and check conventions 2-4."""
    if not isinstance(profile, BeamProfile):
        raise ValueError(
            f"profile must be a BeamProfile instance (subclass it and implement weight and support), "
            f"got {profile!r}"
        )
    for width in (1.0, 2.5):
        try:
            s = float(profile.support(width))
            c = float(profile.clip_half_width(width))
        except Exception as exc:  # noqa: BLE001 - reported with the parameter's name
            raise ValueError(f"profile: support/clip_half_width failed: {exc}") from exc
        if not (math.isfinite(s) and s > 0):
            raise ValueError(f"profile: support({width:g}) must be finite and > 0, got {s!r}")
        if not (math.isfinite(c) and 0 < c <= s * (1 + 1e-12)):
            raise ValueError(f"profile: clip_half_width({width:g}) must be in (0, support], got {c!r}")
        half = s * np.linspace(0.0, 2.0, 401)
        d = np.concatenate([-half[::-1], half])  # exactly symmetric samples
        try:
            w = np.asarray(profile.weight(d, width), dtype=float)
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"profile: weight(d, width) failed: {exc}") from exc
        if w.shape != d.shape:
            raise ValueError(f"profile: weight must return the shape of d {d.shape}, got {w.shape}")
        if not np.all(np.isfinite(w)) or w.min() < 0 or w.max() > 1:
            raise ValueError("profile: weights must be finite and in [0, 1]")
        outside = np.abs(d) > s * (1 + 1e-9)
        if np.any(w[outside] > 0):
            raise ValueError(f"profile: weight must be 0 beyond the support {s:g} (width {width:g})")
        inner = np.abs(d) < s * (1 - 1e-6)
        if not np.all(w[inner] > 0):
            raise ValueError(f"profile: weight must be > 0 inside the support {s:g} (width {width:g})")
        if not np.allclose(w, w[::-1], rtol=0, atol=1e-12):
            raise ValueError("profile: weight must be even in d (w(-d) = w(d))")


def register_beam_profile(name: str, profile: BeamProfile, *, replace: bool = False) -> BeamProfile:
    """Make ``profile`` available by ``name`` everywhere a beam profile is accepted.

    Parameters
    ----------
    name : str
        Non-empty name; ``ScanGeometry(profile=name)`` and the widgets'
        ``profile`` trait accept it from then on.
    profile : BeamProfile
        Checked on samples: support finite and ``> 0``, ``0 <
        clip_half_width <= support``, weights in ``[0, 1]``, even, ``> 0``
        inside the support and 0 beyond it (module conventions 2-4).
    replace : bool, default False
        Allow replacing an existing name (built-ins cannot be replaced).

    Returns
    -------
    BeamProfile
        ``profile``.

    Raises
    ------
    ValueError
        Bad ``name``, a name already taken, or a profile that breaks a
        convention (the message starts with ``name`` or ``profile``).

    Examples
    --------
    >>> register_beam_profile("narrow-box", BoxProfile(), replace=True).support(1.0)
    0.5
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    _check_profile(profile)
    with _LOCK:
        if name in BEAM_PROFILES and profile != _REGISTRY[name]:
            raise ValueError(f"name {name!r} is the built-in {name} profile and cannot be replaced")
        if name in _REGISTRY and not replace and _REGISTRY[name] is not profile:
            raise ValueError(f"name {name!r} is already a beam profile; pass replace=True to replace it")
        _REGISTRY[name] = profile
    return profile


def unregister_beam_profile(name: str) -> None:
    """Remove a user profile registered as ``name`` (built-ins stay)."""
    with _LOCK:
        if name in BEAM_PROFILES:
            raise ValueError(f"name {name!r} is a built-in beam profile and cannot be removed")
        if name not in _REGISTRY:
            raise ValueError(f"name must be one of {sorted(_REGISTRY)}, got {name!r}")
        del _REGISTRY[name]


def beam_profiles() -> dict[str, BeamProfile]:
    """Every registered profile by name (a copy; built-ins first).

    Examples
    --------
    >>> "box" in beam_profiles()
    True
    """
    with _LOCK:
        return dict(_REGISTRY)


def get_beam_profile(profile: Any, name: str = "profile") -> BeamProfile:
    """The profile of a registered name, or ``profile`` itself if it is a :class:`BeamProfile`.

    Raises
    ------
    ValueError
        Unknown name (the message lists the valid ones) or a wrong type;
        it starts with ``name``.

    Examples
    --------
    >>> get_beam_profile("box")
    BoxProfile()
    """
    if isinstance(profile, BeamProfile):
        return profile
    with _LOCK:
        if isinstance(profile, str) and profile in _REGISTRY:
            return _REGISTRY[profile]
        valid = sorted(_REGISTRY)
    raise ValueError(f"{name} must be one of {valid} or a BeamProfile, got {profile!r}")


def make_beam_profile(name: Any, **params: Any) -> BeamProfile:
    """A profile of kind ``name`` with parameters, e.g. ``make_beam_profile("box_gaussian", blur_fwhm=0.5)``.

    Parameters
    ----------
    name : str or BeamProfile
        ``"box"``, ``"gaussian"``, ``"box_gaussian"``, ``"measured"``
        (parameters ``u``, ``intensity``, ``width``, ``threshold``), or any
        registered name / profile (a frozen dataclass takes its fields as
        parameters; others take none).
    **params
        Parameters of that profile (see its class).

    Raises
    ------
    ValueError
        An unknown name (listing the valid ones), an unknown parameter
        (listing the accepted ones) or a bad value (naming it).

    Examples
    --------
    >>> make_beam_profile("box_gaussian", blur_fwhm=0.5)
    BoxGaussianProfile(blur_fwhm=0.5, floor=0.001)
    >>> make_beam_profile("gaussian")
    GaussianProfile(floor=0.001)
    """
    import dataclasses
    import inspect

    if isinstance(name, str) and name in _FACTORIES and (name in BEAM_PROFILES or name == "measured"):
        factory = _FACTORIES[name]
        accepted = [p for p in inspect.signature(factory).parameters if p != "self"]
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise ValueError(f"{unknown[0]} is not a parameter of the {name!r} profile; accepted: {accepted}")
        return factory(**params)
    prof = get_beam_profile(name, "profile")
    if not params:
        return prof
    if not dataclasses.is_dataclass(prof):
        raise ValueError(f"profile {beam_profile_name(prof)!r} takes no parameters, got {sorted(params)}")
    accepted = [f.name for f in dataclasses.fields(prof)]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(f"{unknown[0]} is not a parameter of the {beam_profile_name(prof)!r} profile; "
                         f"accepted: {accepted}")
    return dataclasses.replace(prof, **params)


def beam_profile_name(profile: BeamProfile) -> str:
    """The registered name of ``profile`` (else its ``name`` attribute or class name)."""
    with _LOCK:
        for key, value in _REGISTRY.items():
            if value is profile:
                return key
        for key, value in _REGISTRY.items():
            if value == profile:
                return key
    return profile.name or type(profile).__name__


def profile_samples(profile: Any, width: float, n: int = 129) -> dict:
    """The profile sampled for a front-end (JSON-ready), in the unit of ``width``.

    Parameters
    ----------
    profile : str or BeamProfile
    width : float
        Nominal beam width ``b`` in the unit of the view (steps, um).
    n : int, default 129
        Samples, ``>= 2``.

    Returns
    -------
    dict
        ``name``; ``support`` and ``clip_half_width`` (same unit as
        ``width``); ``flat`` (a box: the weights are all 1); ``weights``: ``n``
        floats, ``w(d_i)`` at ``d_i = -support + 2 support i / (n - 1)``.  A
        front-end interpolates linearly between samples and treats a point
        as lit when the interpolated weight is ``> 0`` (module convention 3).

    Examples
    --------
    >>> s = profile_samples("box", 2.0, n=5)
    >>> s["support"], s["weights"]
    (1.0, [1.0, 1.0, 1.0, 1.0, 1.0])
    """
    from ..validate import check_int

    prof = get_beam_profile(profile)
    b = positive_scalar(width, "width")
    n = check_int(n, "n", 2, 1_000_000)
    s = float(prof.support(b))
    d = np.linspace(-s, s, n)
    w = np.clip(np.asarray(prof.weight(d, b), dtype=float), 0.0, 1.0)
    # the end points are lit exactly when the profile says so (closed box)
    w[[0, -1]] = np.where(prof.lit(d[[0, -1]], b), np.maximum(w[[0, -1]], 1e-12), 0.0)
    return dict(
        name=beam_profile_name(prof),
        support=s,
        clip_half_width=float(prof.clip_half_width(b)),
        flat=prof.is_flat(b),
        weights=[float(v) for v in w],
    )
