"""BeamTrajectoryExplorer: seed 000 Fig. 2-3, live, for the paper's box and for real beams.

All lengths are in units of the translation step (the widget's scan has
``step = 1``); the beam width is given as a multiple of the step, and areas
are reported in beam widths squared, as in the paper. Angles are in degrees.
The frame is the specimen frame of seed 000 eq. (1), see
:mod:`superres_widgets.s3dxrd.geometry`.

The beam is a :mod:`beam profile <superres_widgets.s3dxrd.beam>` chosen by
name (``profile``, any registered one; ``blur_fwhm`` sets the blur of
``"box_gaussian"``); the front-end rasterises the strips from
:attr:`BeamTrajectoryExplorer.beam_profile`, the profile sampled by
:func:`~superres_widgets.s3dxrd.profile_samples` in steps, so the browser
has no beam model of its own.  For a profile with tails the zoom panel also
shows the target's **sensitivity map** (the product of the weights of its
measurements, :mod:`~superres_widgets.s3dxrd.sensitivity`), sent as
:attr:`sensitivity` on :attr:`sensitivity_extent`.  The rotation axis may be
offset (``axis_offset``) and the angles given as a start/stop/step range or
as a list from Python (``omega_list``).  The computation is fast and runs
inline.
"""

from __future__ import annotations

import math

import numpy as np
import traitlets

from ..s3dxrd import (
    BEAM_PROFILES,
    ScanGeometry,
    beam_profiles,
    make_beam_profile,
    profile_samples,
    sensitivity_map,
    superposed_region,
)
from ._base import SuperresWidget, bundle_path
from .serializers import ArrayTrait

__all__ = ["BeamTrajectoryExplorer"]

#: Sensitivity grid sent to the browser (cells per side).
_SENSITIVITY_GRID = 64


class BeamTrajectoryExplorer(SuperresWidget):
    """Strips of one target's (X, omega) list, its exact superposed polygon and its sensitivity.

    The left panel shows every strip of the target's measurement list over
    the specimen grid with the accumulated beam weight per point (seed 000
    Fig. 2a/b); the right panel zooms onto the target with the sub-pixel
    grid (Fig. 2c/d) and, for a beam with tails, the sensitivity map.  Click
    a panel, or move the sliders, to choose the target; change the angles,
    X range, beam or axis offset and everything follows.

    Parameters
    ----------
    xs, ys : float
        Target point in the specimen frame, in steps (sub-pixel multiples of
        ``1/subdivision`` when picked in the view).
    omega_step_deg, omega_start_deg, omega_stop_deg : float
        Angles ``start, start + step, ...`` below ``stop`` (default 0-180 deg,
        the paper; 0-360 deg for a full scan).
    omega_list : list of float
        Angles given from Python (any list: irregular, with gaps); when
        non-empty it replaces the range.  Non-finite values are refused with
        a notice.
    x_range : int
        X positions are ``axis_offset + k`` for ``|k| <= x_range``.
    axis_offset : float
        Rotation-axis offset ``y0`` in steps (ImageD11's ``y0``, geometry
        rule 3), clamped to ``[-x_range, x_range]``.
    beam_width : float
        Nominal beam width in units of the step (paper: 1; the FWHM of a
        Gaussian).
    profile : str
        Name of a registered beam profile (``"box"``, the paper's,
        ``"gaussian"``, ``"box_gaussian"`` or one added with
        :func:`~superres_widgets.s3dxrd.register_beam_profile`); an unknown
        name keeps the previous profile, with a notice.
    blur_fwhm : float
        Blur FWHM of ``"box_gaussian"`` in units of the beam width.
    subdivision : int
        Sub-pixels per step along each axis (paper: 4).
    zoom : float
        Magnification of the right panel; setting it turns ``auto_zoom`` off.
    auto_zoom : bool
        Fit the zoom to the region (default): the superposed region and the
        target fill about half of the right panel.

    Examples
    --------
    >>> w = BeamTrajectoryExplorer(xs=3, ys=2)
    >>> round(w.area_beam2, 5)
    0.00693
    """

    _esm = bundle_path("beam_trajectory")

    xs = traitlets.Float(3.0).tag(sync=True)
    ys = traitlets.Float(2.0).tag(sync=True)
    omega_step_deg = traitlets.Float(10.0).tag(sync=True)
    omega_start_deg = traitlets.Float(0.0).tag(sync=True)
    omega_stop_deg = traitlets.Float(180.0).tag(sync=True)
    omega_list = traitlets.List(traitlets.Float()).tag(sync=True)
    x_range = traitlets.Int(10).tag(sync=True)
    axis_offset = traitlets.Float(0.0).tag(sync=True)
    beam_width = traitlets.Float(1.0).tag(sync=True)
    subdivision = traitlets.Int(4).tag(sync=True)
    zoom = traitlets.Float(8.0).tag(sync=True)
    auto_zoom = traitlets.Bool(True).tag(sync=True)
    profile = traitlets.Unicode("box").tag(sync=True)
    blur_fwhm = traitlets.Float(0.25).tag(sync=True)

    # outputs (computed in Python; read-only for users by convention)
    profile_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """Registered beam profiles (the front-end's menu)."""
    strip_x = ArrayTrait(dtype=np.float32, ndim=1)
    strip_omega_deg = ArrayTrait(dtype=np.float32, ndim=1)
    polygon = ArrayTrait(dtype=np.float64, ndim=2)
    centroid = traitlets.List(allow_none=True, default_value=None).tag(sync=True)
    n_measurements = traitlets.Int(0).tag(sync=True)
    n_omega = traitlets.Int(0).tag(sync=True)
    area_beam2 = traitlets.Float(0.0).tag(sync=True)
    centre_area_beam2 = traitlets.Float(0.0).tag(sync=True)
    relative_size = traitlets.Float(0.0).tag(sync=True)
    centroid_offset = traitlets.Float(0.0, allow_none=True).tag(sync=True)
    beam_profile = traitlets.Dict().tag(sync=True)
    """The profile for the front-end's strip rasteriser (:func:`~superres_widgets.s3dxrd.profile_samples`, steps)."""
    flat_profile = traitlets.Bool(True).tag(sync=True)
    sensitivity = ArrayTrait(dtype=np.float32, ndim=2)
    """``S / S_max`` of the target on a grid (rows: ys ascending); empty for a flat profile (the polygon is exact)."""
    sensitivity_extent = traitlets.List([0.0, 1.0, 0.0, 1.0]).tag(sync=True)
    effective_area_beam2 = traitlets.Float(0.0).tag(sync=True)
    """``int S / S_max`` in beam widths squared (the polygon area for a box)."""
    effective_relative_size = traitlets.Float(0.0).tag(sync=True)
    """``sqrt(A_eff / A_eff(0, 0))``."""
    sensitivity_peak = traitlets.Float(0.0).tag(sync=True)
    sensitivity_centroid = traitlets.List(allow_none=True, default_value=None).tag(sync=True)

    _LIMITS = {
        "omega_step_deg": (0.1, 90.0),
        "omega_start_deg": (-360.0, 360.0),
        "omega_stop_deg": (-359.0, 720.0),
        "x_range": (1, 60),
        "beam_width": (0.05, 5.0),
        "blur_fwhm": (0.01, 2.0),
        "subdivision": (1, 16),
        "zoom": (1.0, 200.0),
    }

    def __init__(self, **kwargs):
        self._centre_cache: dict[tuple, float] = {}
        self._fitting_zoom = False
        with self._batch():  # one computation for all keyword arguments
            super().__init__(**kwargs)
            # xs/ys/axis_offset are clamped to x_range: apply them again now that x_range is set
            for name in ("xs", "ys", "axis_offset"):
                if name in kwargs:
                    setattr(self, name, kwargs[name])
            if "zoom" in kwargs and "auto_zoom" not in kwargs:
                self.auto_zoom = False

    _validate_limits = traitlets.validate(*_LIMITS)(SuperresWidget._validate_limits)

    @traitlets.validate("profile")
    def _validate_profile(self, proposal):
        return _validate_profile_name(self, proposal["value"])

    @traitlets.validate("xs", "ys", "axis_offset")
    def _validate_target(self, proposal):
        name = proposal["trait"].name
        xr = float(self.x_range)
        return self._clamp(name, float(proposal["value"]), -xr, xr)

    @traitlets.validate("omega_list")
    def _validate_omega_list(self, proposal):
        return _validate_omega_list(self, proposal["value"])

    # -- computation ----------------------------------------------------------
    def geometry(self) -> ScanGeometry:
        """The :class:`~superres_widgets.s3dxrd.ScanGeometry` the view shows."""
        return ScanGeometry(
            x_range=self.x_range,
            step=1.0,
            beam_width=self.beam_width,
            omega_deg=omega_angles(self),
            profile=profile_object(self.profile, self.blur_fwhm),
            axis_offset=self.axis_offset,
        )

    def _centre_area(self, geometry: ScanGeometry) -> tuple[float, float]:
        key = (geometry, self.profile)
        if key not in self._centre_cache:
            self._centre_cache.clear()
            poly = superposed_region(geometry, 0.0, 0.0).area
            flat = geometry.profile.is_flat(geometry.beam_width)
            sens = poly if flat else sensitivity_map(geometry, 0.0, 0.0, n=_SENSITIVITY_GRID).effective_area
            self._centre_cache[key] = (poly, sens)
        return self._centre_cache[key]

    @traitlets.observe("xs", "ys", "omega_step_deg", "omega_start_deg", "omega_stop_deg", "omega_list", "x_range",
                       "axis_offset", "beam_width", "profile", "blur_fwhm", "auto_zoom")
    def _on_param(self, change):
        if change["name"] == "x_range":  # keep the target and the offset inside the new range
            self.xs, self.ys, self.axis_offset = self.xs, self.ys, self.axis_offset
        self._request_update()

    @traitlets.observe("zoom")
    def _on_zoom(self, change):
        if not self._fitting_zoom:
            self.auto_zoom = False  # the user zoomed: keep their zoom

    def _update(self):
        with self._inline():
            geometry = self.geometry()
            samples = profile_samples(geometry.profile, geometry.beam_width)
            region = superposed_region(geometry, self.xs, self.ys)
            X, omega = geometry.measurements(self.xs, self.ys)
            flat = geometry.profile.is_flat(geometry.beam_width)
            sens = None if flat else sensitivity_map(geometry, self.xs, self.ys, n=_SENSITIVITY_GRID)
            b2 = geometry.beam_width**2
            centre, centre_eff = self._centre_area(geometry)
            if region.centroid is not None:
                centroid = [float(region.centroid[0]), float(region.centroid[1])]
                offset = float(np.hypot(centroid[0] - self.xs, centroid[1] - self.ys))
            else:
                centroid, offset = None, None
            with self.hold_sync():
                names = profile_menu()
                if names != self.profile_names:
                    self.profile_names = names
                if samples != self.beam_profile:
                    self.beam_profile = samples
                self.flat_profile = flat
                self.strip_x = X
                self.strip_omega_deg = omega
                self.n_omega = geometry.n_omega
                self.polygon = np.asarray(region.vertices, dtype=np.float64).reshape(-1, 2)
                self.centroid = centroid
                self.centroid_offset = offset
                self.n_measurements = len(X)
                self.area_beam2 = region.area / b2
                self.centre_area_beam2 = centre / b2
                self.relative_size = math.sqrt(region.area / centre) if centre > 0 else 0.0
                self._apply_sensitivity(sens, region, centre_eff, b2)
                if self.auto_zoom:
                    self._fit_zoom(region, sens)

    def _apply_sensitivity(self, sens, region, centre_eff: float, b2: float) -> None:
        if sens is None:  # a flat profile: the exact polygon is the sensitivity (S = 1 on it)
            self.sensitivity = np.zeros((0, 0), dtype=np.float32)
            area, peak, centroid = region.area, (0.0 if region.is_empty else 1.0), region.centroid
        else:
            self.sensitivity = (np.zeros((0, 0)) if sens.is_empty else sens.normalised).astype(np.float32)
            self.sensitivity_extent = [float(v) for v in sens.extent]
            area, peak, centroid = sens.effective_area, sens.peak, sens.centroid
        self.effective_area_beam2 = area / b2
        self.effective_relative_size = math.sqrt(area / centre_eff) if centre_eff > 0 else 0.0
        self.sensitivity_peak = float(peak)
        self.sensitivity_centroid = None if centroid is None else [float(v) for v in centroid]

    def _fit_zoom(self, region, sens) -> None:
        """Zoom so that the region (polygon, and S >= 1 % of its peak) and the target fill about half the panel."""
        pts = [np.array([[self.xs, self.ys]])]
        if not region.is_empty:
            pts.append(region.vertices)
        if sens is not None and not sens.is_empty and sens.values.size:
            big = sens.values >= 0.01 * sens.peak
            if big.any():
                iy, ix = np.nonzero(big)
                pts.append(np.stack([sens.x[ix], sens.y[iy]], axis=1))
        P = np.concatenate(pts)
        half = float(np.abs(P - [self.xs, self.ys]).max())
        half = max(half, 0.02) / 0.5  # the region spans about half of the panel
        lo, hi = self._LIMITS["zoom"]
        zoom = float(min(max((self.x_range + 1) / half, lo), hi))
        self._fitting_zoom = True
        try:
            self.zoom = round(zoom, 3)
        finally:
            self._fitting_zoom = False


def profile_menu() -> list[str]:
    """Registered beam profiles for a menu: the built-ins in their order, then users' own alphabetically."""
    builtin = list(BEAM_PROFILES)
    return sorted(beam_profiles(), key=lambda n: (builtin.index(n) if n in builtin else len(builtin), n))


def profile_object(name: str, blur_fwhm: float):
    """The beam profile of a widget: ``name``, with ``blur_fwhm`` for ``"box_gaussian"``."""
    if name == "box_gaussian":
        return make_beam_profile("box_gaussian", blur_fwhm=blur_fwhm)
    return make_beam_profile(name)


def omega_angles(widget) -> np.ndarray:
    """The angles of a widget: its ``omega_list`` if not empty, else ``start, start + step, ...`` below ``stop``.

    A stop not above the start gives the single angle ``start`` and a notice.
    """
    if widget.omega_list:
        widget._notices.pop("omega_stop_deg", None)
        widget.notice = "; ".join(widget._notices.values())
        return np.asarray(widget.omega_list, dtype=float)
    start, stop, step = widget.omega_start_deg, widget.omega_stop_deg, widget.omega_step_deg
    if stop <= start:
        widget._notices["omega_stop_deg"] = (
            f"omega_stop_deg={stop:g} must be above omega_start_deg={start:g}; using the single angle {start:g}"
        )
        stop = start + step
    elif "out of range" not in widget._notices.get("omega_stop_deg", ""):
        widget._notices.pop("omega_stop_deg", None)
    widget.notice = "; ".join(widget._notices.values())
    return np.arange(start, stop - 1e-9, step)


def _validate_omega_list(widget, value):
    """A list of finite angles (empty: use the range); otherwise keep the old list with a notice."""
    try:
        arr = np.asarray(value, dtype=float).ravel()
        ok = bool(np.all(np.isfinite(arr)))
    except (TypeError, ValueError):
        ok = False
    if ok:
        widget._notices.pop("omega_list", None)
    else:
        widget._notices["omega_list"] = (
            f"omega_list must be finite angles in degrees (empty: use start/stop/step); kept {list(widget.omega_list)}"
        )
        value = widget.omega_list
    widget.notice = "; ".join(widget._notices.values())
    return list(value)


def _validate_profile_name(widget, value):
    """Accept a registered beam-profile name; otherwise keep the old one with a notice."""
    valid = sorted(beam_profiles())
    if isinstance(value, str) and value in valid:
        widget._notices.pop("profile", None)
    else:
        widget._notices["profile"] = f"profile={value!r} is not one of {valid}; kept {widget.profile!r}"
        value = widget.profile
    widget.notice = "; ".join(widget._notices.values())
    return value
