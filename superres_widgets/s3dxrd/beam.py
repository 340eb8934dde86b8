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
   user's own (e.g. a measured profile) without touching the package.

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
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "BEAM_PROFILES",
    "BeamProfile",
    "BoxProfile",
    "register_beam_profile",
    "unregister_beam_profile",
    "beam_profiles",
    "get_beam_profile",
    "beam_profile_name",
    "profile_samples",
]

#: Built-in beam profiles (see :func:`beam_profiles` for every registered one).
BEAM_PROFILES: tuple[str, ...] = ("box",)


class BeamProfile:
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

    def weight(self, d: Any, width: float) -> np.ndarray:
        """Weight ``w(d)`` in ``[0, 1]`` at signed distances ``d`` from the centre line."""
        raise NotImplementedError

    def support(self, width: float) -> float:
        """Half-width beyond which the weight is 0 (finite, ``> 0``)."""
        raise NotImplementedError

    def clip_half_width(self, width: float) -> float:
        """Half-width of the strips of the exact polygons (default: the support)."""
        return self.support(width)

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


_REGISTRY: dict[str, BeamProfile] = {"box": BoxProfile()}
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
        Allow replacing an existing name (``"box"`` cannot be replaced).

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
        if name == "box" and profile != _REGISTRY["box"]:
            raise ValueError("name 'box' is the built-in box profile and cannot be replaced")
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
    prof = get_beam_profile(profile)
    b = float(width)
    if not (math.isfinite(b) and b > 0):
        raise ValueError(f"width must be finite and > 0, got {width!r}")
    n = int(n)
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    s = float(prof.support(b))
    d = np.linspace(-s, s, n)
    w = np.clip(np.asarray(prof.weight(d, b), dtype=float), 0.0, 1.0)
    # the end points are lit exactly when the profile says so (closed box)
    w[[0, -1]] = np.where(prof.lit(d[[0, -1]], b), np.maximum(w[[0, -1]], 1e-12), 0.0)
    return dict(
        name=beam_profile_name(prof),
        support=s,
        clip_half_width=float(prof.clip_half_width(b)),
        flat=bool(prof.flat),
        weights=[float(v) for v in w],
    )
