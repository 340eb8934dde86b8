"""SuperpositionMap: seed 000 Fig. 4a-c, live, for the paper's box and for real beams.

Lengths in units of the translation step; beam width as a multiple of the
step; relative spot size sqrt(A/A(0,0)) is dimensionless.  For a beam with
tails A is the effective area of each sub-pixel's sensitivity map (the
product of its beam weights, :mod:`superres_widgets.s3dxrd.sensitivity`);
the rotation axis may be offset and the angles given as a range or a list
(as for :class:`~superres_widgets.widgets.BeamTrajectoryExplorer`). The map is
computed by :func:`superres_widgets.s3dxrd.superposition_map` in the
widgets' one background lifecycle (:mod:`superres_widgets.widgets._base`):
the newest parameters win and a stale map is cancelled between chunks of
targets (``cancel=``), so the sliders never block the kernel and dragging
to an expensive corner and back costs no more than the newest map.  The
Bokeh plots (radial average, centroid radius vs pixel radius, histogram of
r - r(COM) with its Gaussian fit) follow each result.
"""

from __future__ import annotations

import time

import numpy as np
import traitlets

from ..s3dxrd import ScanGeometry, superposition_map
from ._base import SuperresWidget, bundle_path
from ._bokeh import BokehPanel
from .beam_trajectory import _validate_omega_list, _validate_profile_name, omega_angles, profile_menu, profile_object
from .serializers import ArrayTrait

__all__ = ["SuperpositionMap"]


class SuperpositionMap(BokehPanel, SuperresWidget):
    """Relative spot size over the specimen and the Fig. 4 statistics.

    Displaying the object shows the map (click a sub-pixel to read its
    value) with its sliders and, below it, three Bokeh plots. Link
    ``selected_xs``/``selected_ys`` to a :class:`BeamTrajectoryExplorer`'s
    ``xs``/``ys`` to inspect a clicked sub-pixel's trajectories.

    Parameters
    ----------
    omega_step_deg, omega_start_deg, omega_stop_deg : float
        Angles ``start, start + step, ...`` below ``stop`` (paper: 10 deg
        steps over 0-180 deg).
    omega_list : list of float
        Angles from Python (irregular, gaps); non-empty replaces the range.
    beam_width : float
        Nominal beam width as a multiple of the step (paper: 1).
    profile : str
        A registered beam profile (default ``"box"``, the paper's;
        ``"gaussian"``, ``"box_gaussian"``).
    blur_fwhm : float
        Blur FWHM of ``"box_gaussian"`` in beam widths.
    subdivision : int
        Sub-pixels per step and axis (paper: 4).
    x_range : int
        X positions ``axis_offset + k``, ``|k| <= x_range`` (paper: 10).
    axis_offset : float
        Rotation-axis offset in steps, clamped to ``[-x_range, x_range]``.
    """

    _esm = bundle_path("superposition_map")

    omega_step_deg = traitlets.Float(10.0).tag(sync=True)
    omega_start_deg = traitlets.Float(0.0).tag(sync=True)
    omega_stop_deg = traitlets.Float(180.0).tag(sync=True)
    omega_list = traitlets.List(traitlets.Float()).tag(sync=True)
    beam_width = traitlets.Float(1.0).tag(sync=True)
    subdivision = traitlets.Int(4).tag(sync=True)
    x_range = traitlets.Int(10).tag(sync=True)
    axis_offset = traitlets.Float(0.0).tag(sync=True)
    profile = traitlets.Unicode("box").tag(sync=True)
    blur_fwhm = traitlets.Float(0.25).tag(sync=True)
    profile_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    selected_xs = traitlets.Float(None, allow_none=True).tag(sync=True)
    selected_ys = traitlets.Float(None, allow_none=True).tag(sync=True)

    image = ArrayTrait(dtype=np.float32, ndim=2)
    extent = traitlets.List([0.0, 1.0, 0.0, 1.0]).tag(sync=True)
    mean_relative_size = traitlets.Float(None, allow_none=True).tag(sync=True)
    com_error_fwhm = traitlets.Float(None, allow_none=True).tag(sync=True)
    mean_spot_size = traitlets.Float(None, allow_none=True).tag(sync=True)
    """Mean ``sqrt(A) / b`` (r >= 0.5): comparable across beam profiles."""
    measure = traitlets.Unicode("polygon").tag(sync=True)
    """``"polygon"`` (flat profile) or ``"product"`` (sensitivity maps)."""
    n_targets = traitlets.Int(0).tag(sync=True)
    selected_value = traitlets.Float(None, allow_none=True).tag(sync=True)
    compute_ms = traitlets.Float(0.0).tag(sync=True)

    _LIMITS = {
        "omega_step_deg": (0.25, 90.0),
        "omega_start_deg": (-360.0, 360.0),
        "omega_stop_deg": (-359.0, 720.0),
        "beam_width": (0.05, 5.0),
        "blur_fwhm": (0.01, 2.0),
        "subdivision": (1, 12),
        "x_range": (1, 30),
    }

    def __init__(self, **kwargs):
        self.result = None
        """The latest :class:`~superres_widgets.s3dxrd.SuperpositionMapResult`."""
        self._init_bokeh_panel()
        self._build_plots()
        super().__init__(**kwargs)

    _validate_limits = traitlets.validate(*_LIMITS)(SuperresWidget._validate_limits)

    @traitlets.validate("profile")
    def _validate_profile(self, proposal):
        return _validate_profile_name(self, proposal["value"])

    @traitlets.validate("axis_offset")
    def _validate_axis_offset(self, proposal):
        xr = float(self.x_range)
        return self._clamp("axis_offset", float(proposal["value"]), -xr, xr)

    @traitlets.validate("omega_list")
    def _validate_omega_list(self, proposal):
        return _validate_omega_list(self, proposal["value"])

    # -- computation ----------------------------------------------------------------
    def geometry(self) -> ScanGeometry:
        """The :class:`~superres_widgets.s3dxrd.ScanGeometry` of the map (step 1)."""
        return ScanGeometry(
            x_range=self.x_range,
            step=1.0,
            beam_width=self.beam_width,
            omega_deg=omega_angles(self),
            profile=profile_object(self.profile, self.blur_fwhm),
            axis_offset=self.axis_offset,
        )

    @traitlets.observe("omega_step_deg", "omega_start_deg", "omega_stop_deg", "omega_list", "beam_width",
                       "subdivision", "x_range", "axis_offset", "profile", "blur_fwhm")
    def _on_param(self, change):
        if change["name"] == "x_range":
            self.axis_offset = self.axis_offset  # clamped to the new range
        self._request_update()

    def _update(self):
        names = profile_menu()
        if names != self.profile_names:
            self.profile_names = names
        try:
            geometry = self.geometry()
        except ValueError as exc:
            self._fail(exc)
            return
        subdivision = self.subdivision

        def compute(job):
            t0 = time.perf_counter()
            result = superposition_map(geometry, subdivision=subdivision, cancel=job)
            return result, time.perf_counter() - t0

        self._run_in_background(compute, self._apply_result)

    def _apply_result(self, payload):
        # under the state lock, only for the newest job (the base clears error/busy after)
        result, seconds = payload
        stats = result.stats
        img = result.to_image(stats.relative_size).astype(np.float32)
        extent = result.image_extent
        self.result = result
        with self._plot_lock:
            self._update_plots(result)
        with self.hold_sync():
            self.image = img
            self.extent = [float(v) for v in extent]
            self.mean_relative_size = float(stats.mean_relative_size)
            self.com_error_fwhm = float(stats.com_error_fwhm) if np.isfinite(stats.com_error_fwhm) else None
            self.mean_spot_size = float(stats.mean_spot_size) if np.isfinite(stats.mean_spot_size) else None
            self.measure = result.measure
            self.n_targets = int(np.asarray(result.xs).size)
            self.compute_ms = 1000.0 * seconds
            self._update_selected()

    @traitlets.observe("selected_xs", "selected_ys")
    def _on_select(self, change):
        with self._state_lock:
            self._update_selected()

    def _update_selected(self):
        if self.result is None or self.selected_xs is None or self.selected_ys is None:
            self.selected_value = None
            return
        xs = np.asarray(self.result.xs).ravel()
        ys = np.asarray(self.result.ys).ravel()
        # the sub-pixel cell containing the selection (Chebyshev distance)
        d = np.maximum(np.abs(xs - self.selected_xs), np.abs(ys - self.selected_ys))
        i = int(np.argmin(d))
        tol = 0.5 / max(1, self.result.subdivision) + 1e-9
        self.selected_value = (
            float(np.asarray(self.result.stats.relative_size).ravel()[i]) if d[i] <= tol else None
        )

    # -- Bokeh plots (Fig. 4a-c) ----------------------------------------------------
    def _build_plots(self):
        from bokeh.layouts import row
        from bokeh.models import ColumnDataSource, Span
        from bokeh.plotting import figure

        self._src_radial = ColumnDataSource(dict(r=[], size=[]))
        self._src_scatter_a = ColumnDataSource(dict(r=[], size=[]))
        self._src_com = ColumnDataSource(dict(r=[], r_com=[]))
        self._src_line = ColumnDataSource(dict(x=[0, 1], y=[0, 1]))
        self._src_hist = ColumnDataSource(dict(left=[], right=[], top=[]))
        self._src_fit = ColumnDataSource(dict(x=[], y=[]))

        opts = dict(width=300, height=300, toolbar_location="below", tools="pan,wheel_zoom,box_zoom,reset,save")
        fa = figure(title="(a) relative spot size vs radius", x_axis_label="r (steps)",
                    y_axis_label="√(A/A₀)", **opts)
        fa.scatter("r", "size", source=self._src_scatter_a, size=2, alpha=0.25, color="#9ecae1")
        fa.line("r", "size", source=self._src_radial, line_width=2, color="#08519c", legend_label="radial mean")
        fa.scatter("r", "size", source=self._src_radial, size=4, color="#08519c")
        self._mean_span = Span(location=0.2, dimension="width", line_dash="dashed", line_color="#d62728")
        fa.add_layout(self._mean_span)
        fa.legend.location = "top_right"

        fb = figure(title="(b) centroid vs pixel radius", x_axis_label="r(xs, ys)",
                    y_axis_label="r(COM)", **opts)
        fb.scatter("r", "r_com", source=self._src_com, size=3, alpha=0.5, color="#31a354")
        fb.line("x", "y", source=self._src_line, line_dash="dotted", line_color="#d62728", line_width=2)

        fc = figure(title="(c) r − r(COM), Gaussian fit", x_axis_label="r(xs, ys) − r(COM) (steps)",
                    y_axis_label="count", **opts)
        fc.quad(left="left", right="right", top="top", bottom=0, source=self._src_hist,
                fill_color="#bdbdbd", line_color="#636363")
        fc.line("x", "y", source=self._src_fit, line_color="#d62728", line_width=2)
        self._figures = (fa, fb, fc)
        self._plots_layout = row(fa, fb, fc)

    def _update_plots(self, result):
        stats = result.stats
        r = np.asarray(stats.r_target, dtype=float).ravel()
        rel = np.asarray(stats.relative_size, dtype=float).ravel()
        r_com = np.asarray(stats.r_com, dtype=float).ravel()
        ok = np.isfinite(r) & np.isfinite(rel)
        # thin the per-target cloud for the browser (plots stay responsive)
        idx = np.flatnonzero(ok)
        if idx.size > 4000:
            idx = idx[:: int(np.ceil(idx.size / 4000))]
        self._src_scatter_a.data = dict(r=r[idx], size=rel[idx])
        rb = np.asarray(stats.radial_bins, dtype=float).ravel()
        rm = np.asarray(stats.radial_mean, dtype=float).ravel()
        if rb.size == rm.size + 1:  # bin edges -> centres
            rb = 0.5 * (rb[1:] + rb[:-1])
        good = np.isfinite(rm)
        self._src_radial.data = dict(r=rb[good], size=rm[good])
        okc = np.isfinite(r) & np.isfinite(r_com)
        idc = np.flatnonzero(okc)
        if idc.size > 4000:
            idc = idc[:: int(np.ceil(idc.size / 4000))]
        self._src_com.data = dict(r=r[idc], r_com=r_com[idc])
        top = float(np.nanmax(r)) if ok.any() else 1.0
        self._src_line.data = dict(x=[0.0, top], y=[0.0, top])
        edges = np.asarray(stats.hist_edges, dtype=float)
        counts = np.asarray(stats.hist_counts, dtype=float)
        self._src_hist.data = dict(left=edges[:-1], right=edges[1:], top=counts)
        x = np.linspace(edges[0], edges[-1], 200)
        a, mu, sg = (float(stats.gauss_amplitude), float(stats.gauss_mu), float(stats.gauss_sigma))
        y = a * np.exp(-0.5 * ((x - mu) / sg) ** 2) if sg > 0 and np.isfinite(sg) else np.zeros_like(x)
        self._src_fit.data = dict(x=x, y=y)
        self._mean_span.location = float(stats.mean_relative_size)
        fwhm = stats.com_error_fwhm
        self._figures[2].title.text = f"(c) r − r(COM): fit FWHM {fwhm:.3f}"
        self._figures[0].title.text = f"(a) spot size: mean (r ≥ 0.5) {stats.mean_relative_size:.3f}"
