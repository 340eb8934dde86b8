r"""Frames and scan geometry of scanning 3DXRD (s3DXRD): who is measured where.

This module holds the frame and sign conventions (rules 1-4 and 9 below)
and :class:`ScanGeometry`, the scan (translation positions, beam, rotation
angles) every other s3DXRD module works on.  It reproduces the set-up of

    J. Kim, Y. Hayashi & M. Yabashi (2023). "The emergence of
    super-resolution beyond the probe size in scanning 3DXRD microscopy".
    IUCr journal (J. Synchrotron Rad.; received 26 April 2023, accepted
    28 September 2023, edited by Y. Amemiya; open access, CC BY 4.0).
    Sections 2-4, eq. (1), Figs. 2-4.

A specimen point is seen in a list of measurements ``(X, omega)``; every
measurement lights a straight strip of the specimen, and the region lit in
*all* of them -- the **fully superposed region** -- is much smaller than the
beam away from the rotation axis.  The regions are computed in
:mod:`~superres_widgets.s3dxrd.superposition` (rules 5-7, exact polygons and
the paper's raster) and mapped over the specimen in
:mod:`~superres_widgets.s3dxrd.spot_map` (rule 8, Fig. 4); how strongly a
measurement lights a point is the beam profile's business
(:mod:`~superres_widgets.s3dxrd.beam`).

Frames and sign conventions
---------------------------
Every geometry bug in scanning diffraction is a sign bug, so each convention
below is stated once here and checked by a test in
``tests/test_s3dxrd_geometry.py``.

1. **Specimen frame** ``(xs, ys)``.  Fixed to the specimen, right-handed,
   origin on the rotation axis.  Lengths are in units of the scan step unless
   :class:`ScanGeometry` carries a ``unit`` label (e.g. ``"um"``), which is a
   display label only: no length is ever converted.

2. **Lab frame** ``(X, Y)`` and the rotation, seed eq. (1)::

       X = xs cos(omega) - ys sin(omega)
       Y = xs sin(omega) + ys cos(omega)

   i.e. at angle ``omega`` the specimen is turned by ``+omega``
   (counter-clockwise when ``X`` points right and ``Y`` up).  ``X`` is the
   translation coordinate, across the beam; the beam runs parallel to ``Y``.
   Its direction along ``Y`` and the value of ``Y`` never enter the
   calculation (the paper: "We can ignore this value").  Angles are given in
   degrees (``omega_deg``); any list of angles is accepted, not only
   ``[0, 180)``.

3. **Scan positions.**  The beam centre is scanned over
   ``X = y0 + step * k`` for every integer ``k`` with ``|step * k| <= x_range``
   (with a ``1e-9 * step`` tolerance), so ``x_range`` need not be a multiple
   of ``step``.  ``y0`` is the **rotation-axis offset** (``axis_offset``,
   default 0, ``|y0| <= x_range``): the translation motor runs over a grid
   centred on its zero while the rotation axis sits at the motor reading
   ``y0`` -- ImageD11's ``y0`` (rule 9).  A scan may instead be given as
   **data**: any list of positions ``X`` relative to the axis (measured,
   asymmetric, irregular; ``ScanGeometry(positions=...)``, or
   :meth:`ScanGeometry.from_imaged11` from ``dty`` values).

4. **Measurement list of a point** (paper section 2).  With
   ``u = xs cos(omega) - ys sin(omega)``, the point ``(xs, ys)`` is assigned
   at each ``omega`` the scan position nearest to it,
   ``X = step * round(u / step)``, where ``round`` rounds **half away from
   zero** (2.5 -> 3, -2.5 -> -3; MATLAB's ``round``, *not* numpy's
   half-to-even).  Values within ``1e-9`` of a tie count as the tie, because
   e.g. ``sin(30 deg)`` is not exact in floating point (at multiples of
   90 deg exact cosines and sines are used).  This
   rule is odd (``p -> -p`` maps the list of ``p`` to the negated list), so
   every result here is symmetric under a half turn about the rotation axis.
   A measurement whose ``X`` lies outside the scanned positions is **dropped**
   (the beam never went there); such a point has an *incomplete* list.
   On a grid with an axis offset ``y0`` and for a position list the
   nearest position is taken (``X = y0 + step * round((u - y0) / step)``
   on the grid); exact ties (within ``1e-9 step``) go to the position
   farther from the axis, which is rule 4 again for a symmetric grid; and
   ``u`` is outside the scan when it lies beyond an end position by half the
   end gap or more (the end cells of a grid).

5.-8. Lit strips, fully superposed regions, rasters and sub-pixel targets:
   :mod:`~superres_widgets.s3dxrd.superposition` and
   :mod:`~superres_widgets.s3dxrd.spot_map`.

9. **ImageD11** (FABLE-3DXRD/ImageD11, ``ImageD11/sinograms/geometry.py``;
   checked against ``dty_values_grain_in_beam_sincos`` at commit
   ``00808d4ccd5e``, which gives ``dty = y0 - sx sin(omega) - sy cos(omega)``
   for a grain at ImageD11 sample position ``(sx, sy)``).  With the same
   ``omega`` (degrees, same sense) and::

       (sx, sy) = (-ys, xs)          (xs, ys) = (sy, -sx)
       dty - y0 = -X                 X = y0 - dty

   the ImageD11 motor position that puts a point in the beam is exactly the
   ``X`` of eq. (1).  ImageD11's lab ``x`` (along the beam) is ``-Y`` and its
   lab ``y`` is ``X + dty - y0``.  ImageD11 discretises ``dty`` with
   ``np.round`` (half to even), so exact ties can land one step apart from
   rule 4.  See :func:`~superres_widgets.s3dxrd.imaged11.to_imaged11` and
   :func:`~superres_widgets.s3dxrd.imaged11.from_imaged11` (module
   :mod:`~superres_widgets.s3dxrd.imaged11`).  With an axis
   offset the motor grid ``dty = step * k`` gives ``X = y0 - dty``: the
   positions of rule 3, and ImageD11's
   ``dty_values_grain_in_beam(sx, sy, y0, omega)`` rounded to that grid
   is the list of rule 4 (a test checks it with ImageD11 itself).
   :meth:`ScanGeometry.from_imaged11` takes a user's ``dty`` and ``omega``
   columns as they are.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .beam import BeamProfile, beam_profile_name, get_beam_profile
from ._scan_positions import grid_lookup, grid_scan_indices, list_lookup, positions_from_dty, validate_scan
from .conventions import TIE_TOL as _TIE_TOL
from .conventions import cos_sin_deg as _cos_sin_deg
from .conventions import finite_array as _finite_array
from .conventions import finite_scalar as _finite_scalar
from .conventions import positive_scalar as _positive_scalar
from .conventions import round_half_away as _round_half_away
from .imaged11 import from_imaged11, to_imaged11  # noqa: F401 - rule 9 lives in imaged11.py, exported here

__all__ = [
    "Measurements",
    "PositionLookup",
    "ScanGeometry",
    "from_imaged11",
    "to_imaged11",
]

_DEFAULT_OMEGA_DEG = np.arange(0.0, 180.0, 10.0)
_DEFAULT_OMEGA_DEG.flags.writeable = False


# ---------------------------------------------------------------------------
# scan geometry
# ---------------------------------------------------------------------------
class Measurements(NamedTuple):
    """The ``(X, omega)`` list of one specimen point (seed section 2).

    Attributes
    ----------
    X : ndarray of float, shape (n,)
        Scan position (beam centre) of each measurement, one of
        :attr:`ScanGeometry.x_positions`.
    omega_deg : ndarray of float, shape (n,)
        Its rotation angle in degrees, in the order of
        :attr:`ScanGeometry.omega_deg`; angles whose ``X`` fell outside the
        scan are left out.
    """

    X: np.ndarray
    omega_deg: np.ndarray


class PositionLookup(NamedTuple):
    """Nearest scan positions of many points at every angle (rule 4), shape ``(..., n_omega)``.

    Attributes
    ----------
    index : ndarray of int64
        Index into :attr:`ScanGeometry.x_positions` of the nearest position
        (clipped to the scan where ``in_scan`` is False).
    in_scan : ndarray of bool
        False where the point lies beyond the scan (the measurement is
        dropped).
    distance : ndarray of float
        Signed distance ``d = u - X`` of the point from that position's
        beam centre line (``u = xs cos w - ys sin w``).
    next_index : ndarray of int64
        The second-nearest position: the neighbour on the side of ``u``
        (clipped to the scan).
    """

    index: np.ndarray
    in_scan: np.ndarray
    distance: np.ndarray
    next_index: np.ndarray


class ScanGeometry:
    """An s3DXRD scan: translation positions, beam and rotation angles.

    Parameters
    ----------
    x_range : float, default 10
        The beam centre is scanned over ``X = axis_offset + step * k`` for
        all integers ``k`` with ``|step * k| <= x_range``.  Finite, ``>= 0``.
        Ignored (derived: the largest ``|X|``) when ``positions`` is given.
    step : float, default 1.0
        Translation step, ``> 0``: the grid spacing, the pixel of the maps
        and the unit of the rounding tolerance.
    beam_width : float or None, default None
        Nominal width ``b`` of the beam profile, ``> 0`` (box width, Gaussian
        FWHM...); ``None`` means ``step`` (the paper's choice) and keeps
        following ``step`` in :meth:`replace`.
    omega_deg : array_like of float, default ``0, 10, ..., 170``
        Rotation angles in degrees, any non-empty list of finite values (0-180,
        0-360, irregular, with gaps; duplicates are kept as given).
    profile : str or BeamProfile, default "box"
        Beam profile: a registered name (:func:`~superres_widgets.s3dxrd.beam_profiles`,
        :func:`~superres_widgets.s3dxrd.register_beam_profile`) or a
        :class:`~superres_widgets.s3dxrd.BeamProfile`.
    unit : str or None, default None
        Length unit label for display (e.g. ``"um"``); ``None`` means
        "units of the step".  Nothing is converted.
    axis_offset : float, default 0
        Rotation-axis offset ``y0`` (rule 3; ImageD11's ``y0``): the grid is
        ``X = y0 + step * k``.  ``|y0| <= x_range``.  Must be 0 with
        ``positions``.
    positions : array_like of float, optional
        The scan as data: beam-centre positions ``X`` relative to the axis
        (rule 3), any non-empty list of finite values (sorted and
        de-duplicated here).

    Raises
    ------
    ValueError
        If a parameter is out of range; the message starts with its name.

    Notes
    -----
    Instances are immutable: use :meth:`replace` to derive a new geometry.
    The sign conventions are in the module docstring.

    Examples
    --------
    >>> g = ScanGeometry(x_range=2, step=1.0)
    >>> g.x_positions
    array([-2., -1.,  0.,  1.,  2.])
    >>> g.measurements(1.0, 0.0).X[:3]
    array([1., 1., 1.])
    >>> ScanGeometry(x_range=2, axis_offset=0.25).x_positions
    array([-1.75, -0.75,  0.25,  1.25,  2.25])
    """

    __slots__ = (
        "_x_range", "_step", "_beam_width_arg", "_omega_deg", "_profile", "_unit", "_axis_offset", "_positions",
    )

    def __init__(
        self,
        x_range: float = 10,
        step: float = 1.0,
        beam_width: float | None = None,
        omega_deg: Any = _DEFAULT_OMEGA_DEG,
        profile: str | BeamProfile = "box",
        unit: str | None = None,
        *,
        axis_offset: float = 0.0,
        positions: Any = None,
    ) -> None:
        x_range_f, step_f, y0, pos = validate_scan(x_range, step, axis_offset, positions)
        bw = None if beam_width is None else _positive_scalar(beam_width, "beam_width")
        om = _finite_array(omega_deg, "omega_deg")
        if om.ndim > 1:
            raise ValueError(f"omega_deg must be a 1-D list of angles, got shape {om.shape}")
        om = np.atleast_1d(om).copy()
        if om.size == 0:
            raise ValueError("omega_deg must contain at least one angle")
        om.flags.writeable = False
        profile_obj = get_beam_profile(profile, "profile")
        if unit is not None and not isinstance(unit, str):
            raise ValueError(f"unit must be a string or None, got {unit!r}")
        set_ = object.__setattr__
        set_(self, "_x_range", x_range_f)
        set_(self, "_step", step_f)
        set_(self, "_beam_width_arg", bw)
        set_(self, "_omega_deg", om)
        set_(self, "_profile", profile_obj)
        set_(self, "_unit", unit)
        set_(self, "_axis_offset", y0 + 0.0)  # -0.0 -> 0.0
        set_(self, "_positions", pos)

    @classmethod
    def from_imaged11(
        cls,
        dty: Any,
        omega: Any,
        y0: float = 0.0,
        *,
        step: float | None = None,
        beam_width: float | None = None,
        profile: str | BeamProfile = "box",
        unit: str | None = None,
    ) -> ScanGeometry:
        """The scan of a user's ImageD11 data: its ``dty`` and ``omega`` columns as they are.

        Parameters
        ----------
        dty : array_like
            Translation motor readings (ImageD11 ``dty``, any order, repeats
            allowed: e.g. one per peak or frame), finite, non-empty.
        omega : array_like
            Rotation angles in degrees (ImageD11 ``omega``; repeats allowed),
            finite, non-empty.
        y0 : float, default 0
            ImageD11's ``y0``: the ``dty`` at which the rotation axis is in
            the beam.  Must lie within the ``dty`` range.
        step : float, optional
            Default: the median spacing of the distinct ``dty`` values (1 if
            there is only one).
        beam_width, profile, unit
            As for :class:`ScanGeometry`.

        Returns
        -------
        ScanGeometry
            ``positions = y0 - dty`` (rule 9), the distinct ``omega`` values
            sorted (``np.unique``).

        Examples
        --------
        >>> g = ScanGeometry.from_imaged11([-1.0, 0.0, 1.0, 1.0], [0, 90, 90], y0=0.25)
        >>> g.x_positions.tolist(), g.omega_deg.tolist(), g.step
        ([-0.75, 0.25, 1.25], [0.0, 90.0], 1.0)
        """
        positions, omega_deg, step_f = positions_from_dty(dty, omega, y0, step)
        return cls(
            step=step_f,
            beam_width=beam_width,
            omega_deg=omega_deg,
            profile=profile,
            unit=unit,
            positions=positions,
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ScanGeometry is immutable; use .replace(...)")

    __delattr__ = __setattr__

    def __reduce__(self):
        # immutable with __slots__: rebuild through __init__ (pickle, copy, Dask workers)
        return (_rebuild, (self._init_kwargs(),))

    def _init_kwargs(self) -> dict:
        return dict(
            x_range=self._x_range,
            step=self._step,
            beam_width=self._beam_width_arg,
            omega_deg=np.array(self._omega_deg),
            profile=self._profile,
            unit=self._unit,
            axis_offset=self._axis_offset,
            positions=None if self._positions is None else np.array(self._positions),
        )

    # -- read-only properties -------------------------------------------------
    @property
    def x_range(self) -> float:
        """Half range of the translation scan (the largest ``|X|`` for a position list)."""
        return self._x_range

    @property
    def step(self) -> float:
        """Translation step."""
        return self._step

    @property
    def beam_width(self) -> float:
        """Nominal beam width ``b`` (``step`` when constructed with ``None``)."""
        return self._step if self._beam_width_arg is None else self._beam_width_arg

    @property
    def profile(self) -> BeamProfile:
        """Beam profile (:class:`~superres_widgets.s3dxrd.BeamProfile`): how strongly a measurement lights a point."""
        return self._profile

    @property
    def profile_name(self) -> str:
        """Registered name of :attr:`profile` (e.g. ``"box"``)."""
        return beam_profile_name(self._profile)

    @property
    def unit(self) -> str | None:
        """Length unit label (display only); ``None`` means steps."""
        return self._unit

    @property
    def axis_offset(self) -> float:
        """Rotation-axis offset ``y0`` of the grid (rule 3; 0 for a position list)."""
        return self._axis_offset

    @property
    def is_regular(self) -> bool:
        """``True`` for a grid ``axis_offset + step * k``, ``False`` for a position list."""
        return self._positions is None

    @property
    def omega_deg(self) -> np.ndarray:
        """Rotation angles in degrees (a fresh copy)."""
        return self._omega_deg.copy()

    @property
    def omega_rad(self) -> np.ndarray:
        """Rotation angles in radians."""
        return np.deg2rad(self._omega_deg)

    @property
    def n_omega(self) -> int:
        """Number of rotation angles."""
        return int(self._omega_deg.size)

    @property
    def k_max(self) -> int:
        """Largest grid index: positions are ``axis_offset + step * k``, ``|k| <= k_max``.

        For a position list: ``floor(x_range / step)`` (nominal only).
        """
        return int(math.floor(self._x_range / self._step + _TIE_TOL))

    @property
    def x_positions(self) -> np.ndarray:
        """Scanned beam-centre positions ``X`` relative to the axis, ascending."""
        if self._positions is not None:
            return self._positions.copy()
        k = self.k_max
        grid = self._step * np.arange(-k, k + 1, dtype=float)
        return grid + self._axis_offset if self._axis_offset else grid

    @property
    def n_positions(self) -> int:
        """Number of translation positions."""
        return int(self._positions.size) if self._positions is not None else 2 * self.k_max + 1

    @property
    def field_half_width(self) -> float:
        """Half side of the field-of-view square: the largest ``|X| + support`` (``x_range + b/2`` for the box)."""
        reach = self._x_range + abs(self._axis_offset) if self._positions is None else self._x_range
        return reach + self._profile.support(self.beam_width)

    # -- value semantics --------------------------------------------------------
    def replace(self, **changes: Any) -> ScanGeometry:
        """Return a copy with some constructor arguments changed.

        ``beam_width`` stays ``None`` (= step) unless given; giving
        ``x_range`` or ``axis_offset`` to a position-list geometry turns it
        back into a grid.
        """
        kwargs = self._init_kwargs()
        unknown = set(changes) - set(kwargs)
        if unknown:
            raise TypeError(f"replace() got unknown argument(s): {sorted(unknown)}")
        if "positions" not in changes and ({"x_range", "axis_offset"} & set(changes)):
            kwargs["positions"] = None
        kwargs.update(changes)
        return ScanGeometry(**kwargs)

    def _key(self) -> tuple:
        try:
            hash(self._profile)
            prof: Any = self._profile
        except TypeError:  # a user profile without value hashing: identity
            prof = id(self._profile)
        return (
            self._x_range,
            self._step,
            self._beam_width_arg,
            self._omega_deg.tobytes(),
            prof,
            self._unit,
            self._axis_offset,
            None if self._positions is None else self._positions.tobytes(),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScanGeometry):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        om = self._omega_deg
        if om.size > 6:
            om_txt = f"<{om.size} angles {om[0]:g}..{om[-1]:g} deg>"
        else:
            om_txt = np.array2string(om, separator=", ")
        if self._positions is not None:
            p = self._positions
            scan = f"positions=<{p.size} positions {p[0]:g}..{p[-1]:g}>, step={self._step:g}"
        else:
            scan = f"x_range={self._x_range:g}, step={self._step:g}"
            if self._axis_offset:
                scan += f", axis_offset={self._axis_offset:g}"
        return (
            f"ScanGeometry({scan}, "
            f"beam_width={self.beam_width:g}, omega_deg={om_txt}, "
            f"profile={self.profile_name!r}, unit={self._unit!r})"
        )

    # -- eq. (1) ---------------------------------------------------------------
    def _cos_sin(self) -> tuple[np.ndarray, np.ndarray]:
        return _cos_sin_deg(self._omega_deg)

    def _lookup(self, xs: np.ndarray, ys: np.ndarray) -> PositionLookup:
        """Rule 4 for arrays ``xs, ys`` (already validated), shape (..., n_omega)."""
        c, s = self._cos_sin()
        u = np.multiply.outer(xs, c) - np.multiply.outer(ys, s)
        if self._positions is None and self._axis_offset == 0.0:
            # the grid of the paper: rule 4 exactly as before offsets existed
            return PositionLookup(*grid_lookup(u, self._step, self.k_max))
        return PositionLookup(*list_lookup(u, self.x_positions, self._step))

    def nearest_positions(self, xs: Any, ys: Any) -> PositionLookup:
        """Nearest scan position of many points at every angle (rule 4), vectorised.

        Parameters
        ----------
        xs, ys : array_like
            Specimen coordinates (any broadcastable shapes, finite).

        Returns
        -------
        PositionLookup
            Arrays of shape ``broadcast(xs, ys).shape + (n_omega,)``:
            ``index`` into :attr:`x_positions`, ``in_scan``, the signed
            ``distance`` ``u - X`` and the ``next_index``.

        Examples
        --------
        >>> g = ScanGeometry(x_range=2, omega_deg=[0.0], axis_offset=0.5)
        >>> lk = g.nearest_positions([0.9, 3.1], [0.0, 0.0])
        >>> g.x_positions[lk.index[:, 0]].tolist(), lk.in_scan[:, 0].tolist()
        ([0.5, 2.5], [True, False])
        """
        xs_a, ys_a = np.broadcast_arrays(_finite_array(xs, "xs"), _finite_array(ys, "ys"))
        return self._lookup(xs_a, ys_a)

    def frame_weights(
        self, xs: Any, ys: Any, tol: float = 1e-6
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Nearest frame of many points at every angle and how strongly the beam lights them there.

        For the N' maps (:mod:`~superres_widgets.s3dxrd.nprime`): rule 4's
        nearest position, whether the profile lights the point there (``w > 0``
        at ``|d|`` reduced by ``tol * step``) and the weight ``w`` (same
        tolerance).  For a box at least one step wide every weight is 1.

        Parameters
        ----------
        xs, ys : array_like, (n,)
            Points (flattened).
        tol : float, default 1e-6
            Closed-set tolerance in steps.

        Returns
        -------
        index : ndarray of int32, (n, n_omega)
            Into :attr:`x_positions` (clipped to the scan).
        lit : ndarray of bool, (n, n_omega)
            In the scan and lit.
        next_index : ndarray of int32, (n, n_omega)
            Second-nearest position.
        weight : ndarray of float, (n, n_omega)
            ``w`` where ``lit``, else 0.

        Examples
        --------
        >>> g = ScanGeometry(x_range=3, omega_deg=[0.0], profile="gaussian")
        >>> g.frame_weights([0.0, 0.5], [0.0, 0.0])[3].round(3).ravel().tolist()
        [1.0, 0.5]
        """
        xs_a = np.asarray(xs, dtype=float).ravel()
        ys_a = np.asarray(ys, dtype=float).ravel()
        lk = self._lookup(xs_a, ys_a)
        b = self.beam_width
        t = float(tol) * self._step
        lit = lk.in_scan & self._profile.lit(lk.distance, b, t)
        d = np.maximum(np.abs(lk.distance) - t, 0.0)
        w = np.where(lit, np.asarray(self._profile.weight(d, b), dtype=float), 0.0)
        return lk.index.astype(np.int32), lit, lk.next_index.astype(np.int32), w

    def _scan_indices(self, xs: np.ndarray, ys: np.ndarray, distance: bool = False,
                      index_dtype: Any = np.int64) -> tuple[np.ndarray, ...]:
        """Position index, 'in scan' mask (and with ``distance`` the signed ``u - X``), shape (..., n_omega).

        On the paper's grid (no offset) rule 4's arithmetic in place: the operations of :meth:`_lookup`
        in the same order (same values) without its search, ``next_index`` and copies (issue 14).
        ``index_dtype=np.float64`` returns the (integer-valued) index without a conversion.
        """
        if self._positions is not None or self._axis_offset != 0.0:
            lk = self._lookup(xs, ys)
            index = lk.index.astype(index_dtype, copy=False)
            return (index, lk.in_scan, lk.distance) if distance else (index, lk.in_scan)
        c, s = self._cos_sin()
        return grid_scan_indices(xs, ys, c, s, self._step, self.k_max, distance, index_dtype)

    def scan_indices(self, xs: Any, ys: Any) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised (X, omega) lists of many points as scan indices.

        Parameters
        ----------
        xs, ys : array_like
            Specimen coordinates (any broadcastable shapes, finite).

        Returns
        -------
        k : ndarray of int, shape ``broadcast(xs, ys).shape + (n_omega,)``
            Signed grid index of each point at each angle, ``X =
            axis_offset + step * k`` (eq. (1), rounding rule 4); for a
            position list, the index into :attr:`x_positions`.
        in_scan : ndarray of bool, same shape
            False where ``X`` is not a scanned position (the measurement does
            not exist and :meth:`measurements` drops it).
        """
        lk = self.nearest_positions(xs, ys)
        if self._positions is not None:
            return lk.index, lk.in_scan
        # beyond the scan the unclipped grid index (what rule 4 gave)
        c, s = self._cos_sin()
        xs_a, ys_a = np.broadcast_arrays(_finite_array(xs, "xs"), _finite_array(ys, "ys"))
        u = np.multiply.outer(xs_a, c) - np.multiply.outer(ys_a, s)
        k = np.where(lk.in_scan, lk.index - self.k_max, _round_half_away((u - self._axis_offset) / self._step))
        return k, lk.in_scan

    def measurements(self, xs: float, ys: float) -> Measurements:
        """The ``(X, omega)`` list of the specimen point ``(xs, ys)``.

        Parameters
        ----------
        xs, ys : float
            Specimen coordinates of the point.

        Returns
        -------
        Measurements
            Named tuple ``(X, omega_deg)`` of two 1-D float arrays, one entry
            per angle of :attr:`omega_deg` (same order) whose ``X`` is a
            scanned position.

        Notes
        -----
        Seed eq. (1): ``X = step * round((xs cos w - ys sin w) / step)``,
        rounding half away from zero (module docstring, rules 3-4: axis
        offset, position lists).
        """
        xs_f = _finite_scalar(xs, "xs")
        ys_f = _finite_scalar(ys, "ys")
        lk = self._lookup(np.float64(xs_f), np.float64(ys_f))
        ok = lk.in_scan
        return Measurements(X=self.x_positions[lk.index[ok]], omega_deg=self._omega_deg[ok].copy())


def _rebuild(kwargs: dict) -> ScanGeometry:
    return ScanGeometry(**kwargs)
