"""BeamTrajectoryExplorer: seed 000 Fig. 2-3, live.

All lengths are in units of the translation step (the widget's scan has
``step = 1``); the beam width is given as a multiple of the step, and areas
are reported in beam widths squared, as in the paper. Angles are in degrees.
The frame is the specimen frame of seed 000 eq. (1), see
:mod:`superres_widgets.s3dxrd.geometry`.

The beam is a :mod:`beam profile <superres_widgets.s3dxrd.beam>` chosen by
name (``profile``, any registered one); the front-end rasterises the strips
from :attr:`BeamTrajectoryExplorer.beam_profile`, the profile sampled by
:func:`~superres_widgets.s3dxrd.profile_samples` in steps, so the browser
has no beam model of its own.  The computation is fast and runs inline.
"""

from __future__ import annotations

import math

import numpy as np
import traitlets

from ..s3dxrd import ScanGeometry, beam_profiles, profile_samples, superposed_region
from ._base import SuperresWidget, bundle_path
from .serializers import ArrayTrait

__all__ = ["BeamTrajectoryExplorer"]


class BeamTrajectoryExplorer(SuperresWidget):
    """Strips of one target's (X, omega) list and its exact superposed polygon.

    The left panel shows every strip of the target's measurement list over
    the specimen grid with the accumulated number of strips per point (seed
    000 Fig. 2a/b); the right panel zooms onto the target with the sub-pixel
    grid (Fig. 2c/d). Click a panel, or move the sliders, to choose the
    target; change the angular step, X range or beam width and everything
    follows.

    Parameters
    ----------
    xs, ys : float
        Target point in the specimen frame, in steps (sub-pixel multiples of
        ``1/subdivision`` when picked in the view).
    omega_step_deg : float
        Angular step; omegas are ``0, step, ...`` below 180 deg.
    x_range : int
        X positions are ``-x_range .. x_range`` in unit steps.
    beam_width : float
        Nominal beam width in units of the step (paper: 1).
    profile : str
        Name of a registered beam profile (``"box"``, the paper's, or one
        added with :func:`~superres_widgets.s3dxrd.register_beam_profile`);
        an unknown name keeps the previous profile, with a notice.
    subdivision : int
        Sub-pixels per step along each axis (paper: 4).
    zoom : float
        Magnification of the right panel.

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
    x_range = traitlets.Int(10).tag(sync=True)
    beam_width = traitlets.Float(1.0).tag(sync=True)
    subdivision = traitlets.Int(4).tag(sync=True)
    zoom = traitlets.Float(8.0).tag(sync=True)
    profile = traitlets.Unicode("box").tag(sync=True)

    # outputs (computed in Python; read-only for users by convention)
    strip_x = ArrayTrait(dtype=np.float32, ndim=1)
    strip_omega_deg = ArrayTrait(dtype=np.float32, ndim=1)
    polygon = ArrayTrait(dtype=np.float64, ndim=2)
    centroid = traitlets.List(allow_none=True, default_value=None).tag(sync=True)
    n_measurements = traitlets.Int(0).tag(sync=True)
    area_beam2 = traitlets.Float(0.0).tag(sync=True)
    centre_area_beam2 = traitlets.Float(0.0).tag(sync=True)
    relative_size = traitlets.Float(0.0).tag(sync=True)
    centroid_offset = traitlets.Float(0.0, allow_none=True).tag(sync=True)
    beam_profile = traitlets.Dict().tag(sync=True)
    """The profile for the front-end's strip rasteriser (:func:`~superres_widgets.s3dxrd.profile_samples`, steps)."""

    _LIMITS = {
        "omega_step_deg": (0.1, 90.0),
        "x_range": (1, 60),
        "beam_width": (0.05, 5.0),
        "subdivision": (1, 16),
        "zoom": (1.0, 200.0),
    }

    def __init__(self, **kwargs):
        self._centre_cache: dict[tuple, float] = {}
        with self._batch():  # one computation for all keyword arguments
            super().__init__(**kwargs)
            # xs/ys are clamped to x_range: apply them again now that x_range is set
            for name in ("xs", "ys"):
                if name in kwargs:
                    setattr(self, name, kwargs[name])

    _validate_limits = traitlets.validate(*_LIMITS)(SuperresWidget._validate_limits)

    @traitlets.validate("profile")
    def _validate_profile(self, proposal):
        return _validate_profile_name(self, proposal["value"])

    @traitlets.validate("xs", "ys")
    def _validate_target(self, proposal):
        name = proposal["trait"].name
        xr = float(self.x_range)
        return self._clamp(name, float(proposal["value"]), -xr, xr)

    # -- computation ----------------------------------------------------------
    def geometry(self) -> ScanGeometry:
        """The :class:`~superres_widgets.s3dxrd.ScanGeometry` the view shows."""
        return ScanGeometry(
            x_range=self.x_range,
            step=1.0,
            beam_width=self.beam_width,
            omega_deg=np.arange(0.0, 180.0 - 1e-9, self.omega_step_deg),
            profile=self.profile,
        )

    def _centre_area(self, geometry: ScanGeometry) -> float:
        key = (self.x_range, self.beam_width, self.omega_step_deg, self.profile)
        if key not in self._centre_cache:
            self._centre_cache.clear()
            self._centre_cache[key] = superposed_region(geometry, 0.0, 0.0).area
        return self._centre_cache[key]

    @traitlets.observe("xs", "ys", "omega_step_deg", "x_range", "beam_width", "profile")
    def _on_param(self, change):
        if change["name"] == "x_range":  # keep the target inside the new range
            self.xs, self.ys = self.xs, self.ys
        self._request_update()

    def _update(self):
        with self._inline():
            geometry = self.geometry()
            samples = profile_samples(geometry.profile, geometry.beam_width)
            region = superposed_region(geometry, self.xs, self.ys)
            X, omega = geometry.measurements(self.xs, self.ys)
            b2 = geometry.beam_width**2
            centre = self._centre_area(geometry)
            if region.centroid is not None:
                centroid = [float(region.centroid[0]), float(region.centroid[1])]
                offset = float(np.hypot(centroid[0] - self.xs, centroid[1] - self.ys))
            else:
                centroid, offset = None, None
            with self.hold_sync():
                if samples != self.beam_profile:
                    self.beam_profile = samples
                self.strip_x = X
                self.strip_omega_deg = omega
                self.polygon = np.asarray(region.vertices, dtype=np.float64).reshape(-1, 2)
                self.centroid = centroid
                self.centroid_offset = offset
                self.n_measurements = len(X)
                self.area_beam2 = region.area / b2
                self.centre_area_beam2 = centre / b2
                self.relative_size = math.sqrt(region.area / centre) if centre > 0 else 0.0


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
