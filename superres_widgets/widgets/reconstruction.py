r"""ReconstructionExplorer: seed 000 Figs. 5-6, live.

The phantom, its conventional (pixel = step) and sub-pixel N' orientation
maps side by side, grain boundaries overlaid, the boundary-displacement
histogram (Bokeh), and for a clicked point its beam strips and the
completeness N' of every candidate orientation.  The whole pipeline --
phantom, kinematic forward scan, global indexing, N' maps, evaluation -- is
:func:`superres_widgets.s3dxrd.reconstruct_phantom`, run in the widgets'
one background lifecycle (:mod:`superres_widgets.widgets._base`): the
newest parameters win, a stale reconstruction is cancelled between its
stages, grains, tested orientations and N' chunks, and its result is
never applied.

Conventions
-----------
1. **Lengths** in micrometres in the specimen frame ``(xs, ys)`` of
   :mod:`superres_widgets.s3dxrd.geometry` (origin on the rotation axis);
   angles in degrees.

2. **Images** sent to the browser are RGBA ``uint8`` arrays ``(ny, nx, 4)``
   whose row 0 is the *lowest* ``ys`` (``origin="lower"``, as
   :class:`~superres_widgets.s3dxrd.OrientationMap` and
   :class:`~superres_widgets.s3dxrd.Phantom`); alpha 0 is air (outside the
   specimen).  ``*_extent`` is ``[xmin, xmax, ymin, ymax]`` of the cell
   *edges*.  A map cell with no candidate (every ``N' = 0``) is dark grey.

3. **Orientation colour**: the standard cubic inverse-pole-figure key
   (:func:`ipf_colors`): the crystal direction parallel to a specimen axis
   (default ``z``, the rotation axis = the normal of the slice) reduced to
   the standard triangle [001]-[101]-[111], coloured red-green-blue.

4. **Boundaries** are line segments ``(x0, y0, x1, y1)`` on the cell edges
   between 4-neighbour cells whose misorientation exceeds the boundary
   threshold (3 deg; reconstruction module rule 7), from the one boundary
   tracer :mod:`superres_widgets.s3dxrd.boundaries`: an unassigned map cell
   differs from everything, edges to air are not boundaries.  Collinear
   neighbouring edges are merged.  The phantom's segments are on its full
   raster even when its image is downsampled for display.  Colours and
   images come from :mod:`superres_widgets.s3dxrd.ipf`.

5. **Selection**: ``selected_xs, selected_ys`` (um) is any specimen point;
   the front-end snaps a click to the targets of the map clicked (the
   sub-pixel grid for the phantom), so ``sel_best`` is the map's choice
   there (:func:`~superres_widgets.s3dxrd.completeness_at`).  Its strips
   are drawn with the scan's beam profile, sent sampled in micrometres as
   ``sel_beam_profile`` (:func:`~superres_widgets.s3dxrd.profile_samples`).

6. **Your peaks** (``source="peaks"``, :meth:`ReconstructionExplorer.load_peaks`):
   an ImageD11 columnfile (``peaks_path``, with its ``.par`` in
   ``par_path``) and optionally a grain file (``grain_file``, else global
   indexing) go through
   :func:`~superres_widgets.s3dxrd.reconstruct_from_peaks`; there is no
   phantom, so the first panel shows the sub-pixel map's **confidence**
   (grey: dark = 1, light = 0, so unsure boundaries show as light lines)
   and no displacement is reported.  The phantom's
   parameters (diameter, grains, beam, imperfections) do not apply.
"""

from __future__ import annotations

import math
import time

import numpy as np
import traitlets

from ..s3dxrd import completeness_at, profile_samples, reconstruct_from_peaks, reconstruct_phantom
# numbers below, pictures above: the colouring and the boundary tracer live in the
# algorithm layer (re-exported here for existing imports)
from ..s3dxrd.boundaries import boundary_segments, map_boundary_segments, phantom_boundary_segments
from ..s3dxrd.ipf import ipf_colors, ipf_key, map_rgba, phantom_rgba
from ._base import SuperresWidget, bundle_path
from ._bokeh import BokehPanel
from ._reconstruction_display import display_arrays, map_choice, result_stats
from .beam_trajectory import _validate_omega_list, _validate_profile_name, profile_menu, profile_object
from .serializers import ArrayTrait

__all__ = [
    "ReconstructionExplorer",
    "PAPER_SETUP",
    "ipf_colors",
    "ipf_key",
    "map_rgba",
    "phantom_rgba",
    "boundary_segments",
    "map_boundary_segments",
    "phantom_boundary_segments",
]

#: The paper's Fig. 5-6 setup (160 um specimen, 4 um beam and step, 0.5 deg, 4 x 4 sub-pixels).
PAPER_SETUP = dict(
    diameter_um=160.0, beam_um=4.0, step_um=4.0, omega_step_deg=0.5, subdivision=4, n_grains=40,
)

# ---------------------------------------------------------------------------
# the widget
# ---------------------------------------------------------------------------
class ReconstructionExplorer(BokehPanel, SuperresWidget):
    """Phantom | conventional | sub-pixel orientation maps (seed 000 Figs. 5-6).

    Displaying the object shows the three maps (inverse-pole-figure colours,
    boundaries overlaid), the parameters, the N' of every candidate at the
    clicked point with its beam strips drawn over the maps, and below it the
    boundary-displacement histogram (Bokeh, Fig. 6b).  Every parameter change
    recomputes the pipeline in the background (:attr:`status`,
    :attr:`progress`); the newest parameters win.  A failed computation is
    shown in :attr:`error` and the last maps stay.

    Parameters
    ----------
    diameter_um : float
        Specimen (Voronoi phantom) diameter (paper: 160 um).
    n_grains : int
        Voronoi grains (paper Fig. 5: about 40).
    beam_um, step_um : float
        Nominal beam width and translation step (paper: 4 and 4 um).
    profile : str
        A registered beam profile (default ``"box"``, the paper's;
        ``"gaussian"``, ``"box_gaussian"``): the forward scan and the N'
        maps use it.
    blur_fwhm : float
        Blur FWHM of ``"box_gaussian"`` in beam widths.
    axis_offset_um : float
        Rotation-axis offset ``y0`` (geometry rule 3).
    omega_range_deg : float
        180 (half scan, the paper) or 360 (full scan).
    omega_list : list of float
        Omega bin centres from Python (irregular, gaps); non-empty replaces
        the range.
    detection_threshold : float
        Weak peaks (beam-weighted grain area below it, in beam widths
        squared) are not recorded.
    omega_step_deg : float
        Angular step (paper: 0.5 deg).
    subdivision : int
        Sub-pixels per step and axis (paper: 4, i.e. 1-um sub-pixels).
    detection_probability : float
        Probability that a peak is recorded (1: perfect data).
    angular_noise_deg : float
        Gaussian noise (sigma) on the eta and omega of every peak.
    seed : int
        Seeds the phantom and the scan imperfections.
    tie_break : {"next", "first"}
        How equal N' are resolved (reconstruction module rule 5):
        ``"first"`` is the paper's plain argmax.
    spurious_per_frame : float
        Mean number of spurious peaks per frame of the simulated scan.
    scorer : {"nprime", "likelihood"}
        How both maps choose a target's candidate: the paper's N' (ties by
        ``tie_break``) or the model-based scorer
        (:mod:`~superres_widgets.s3dxrd.scoring`).
    source : {"phantom", "peaks"}
        Simulate a phantom's scan, or map the user's peaks (module rule 6).
    peaks_path, par_path, grain_file : str
        The user's ImageD11 columnfile, its parameter file and (optional) a
        grain file; see :meth:`load_peaks`.
    labels : array_like of int (ny, nx), optional
        A user label map (``-1`` air) with cells of ``pixel_um``, centred on
        the rotation axis; replaces the Voronoi phantom (``diameter_um`` and
        ``n_grains`` are then ignored).  Not synced to the browser.
    orientations : array_like (n, 3, 3), optional
        Grain orientations (default random from ``seed``).  Not synced.
    pixel_um : float
        Phantom raster cell.
    ipf_axis : {"z", "x", "y"}
        Specimen axis of the orientation colouring (z: the rotation axis).
    boundaries : {"own", "phantom", "both", "none"}
        Boundary overlay of the maps: their own, the phantom's (Fig. 6a), both.
    show_strips : bool
        Draw the selected point's beam strips over the maps.

    Examples
    --------
    >>> w = ReconstructionExplorer(diameter_um=50, n_grains=5).wait()  # doctest: +SKIP
    >>> w.selected_xs, w.selected_ys = 10.0, 5.0                        # doctest: +SKIP
    >>> w.sel_n_prime.max()                                             # doctest: +SKIP
    1.0
    """

    _esm = bundle_path("reconstruction")

    # -- parameters -----------------------------------------------------------
    diameter_um = traitlets.Float(80.0).tag(sync=True)
    n_grains = traitlets.Int(12).tag(sync=True)
    beam_um = traitlets.Float(4.0).tag(sync=True)
    step_um = traitlets.Float(4.0).tag(sync=True)
    omega_step_deg = traitlets.Float(1.0).tag(sync=True)
    subdivision = traitlets.Int(4).tag(sync=True)
    detection_probability = traitlets.Float(1.0).tag(sync=True)
    angular_noise_deg = traitlets.Float(0.0).tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    tie_break = traitlets.Enum(["next", "first"], "next").tag(sync=True)
    spurious_per_frame = traitlets.Float(0.0).tag(sync=True)
    scorer = traitlets.Enum(["nprime", "likelihood"], "nprime").tag(sync=True)
    source = traitlets.Enum(["phantom", "peaks"], "phantom").tag(sync=True)
    peaks_path = traitlets.Unicode("").tag(sync=True)
    par_path = traitlets.Unicode("").tag(sync=True)
    grain_file = traitlets.Unicode("").tag(sync=True)
    pixel_um = traitlets.Float(0.25).tag(sync=True)
    profile = traitlets.Unicode("box").tag(sync=True)
    blur_fwhm = traitlets.Float(0.25).tag(sync=True)
    axis_offset_um = traitlets.Float(0.0).tag(sync=True)
    omega_range_deg = traitlets.Float(180.0).tag(sync=True)
    omega_list = traitlets.List(traitlets.Float()).tag(sync=True)
    detection_threshold = traitlets.Float(0.0).tag(sync=True)
    profile_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    labels = traitlets.Any(None, allow_none=True)
    orientations = traitlets.Any(None, allow_none=True)

    # -- view options ---------------------------------------------------------
    ipf_axis = traitlets.Enum(["z", "x", "y"], "z").tag(sync=True)
    boundaries = traitlets.Enum(["own", "phantom", "both", "none"], "own").tag(sync=True)
    show_strips = traitlets.Bool(True).tag(sync=True)

    # -- selection (um) -------------------------------------------------------
    selected_xs = traitlets.Float(None, allow_none=True).tag(sync=True)
    selected_ys = traitlets.Float(None, allow_none=True).tag(sync=True)

    # -- outputs (computed in Python) -----------------------------------------
    custom_labels = traitlets.Bool(False).tag(sync=True)
    phantom_rgba = ArrayTrait(dtype=np.uint8, ndim=3)
    phantom_extent = traitlets.List([0.0, 1.0, 0.0, 1.0]).tag(sync=True)
    phantom_edges = ArrayTrait(dtype=np.float32, ndim=2)
    conventional_rgba = ArrayTrait(dtype=np.uint8, ndim=3)
    conventional_extent = traitlets.List([0.0, 1.0, 0.0, 1.0]).tag(sync=True)
    conventional_edges = ArrayTrait(dtype=np.float32, ndim=2)
    subpixel_rgba = ArrayTrait(dtype=np.uint8, ndim=3)
    subpixel_extent = traitlets.List([0.0, 1.0, 0.0, 1.0]).tag(sync=True)
    subpixel_edges = ArrayTrait(dtype=np.float32, ndim=2)
    ipf_key_rgba = ArrayTrait(dtype=np.uint8, ndim=3)
    radius_um = traitlets.Float(0.0).tag(sync=True)
    map_step_um = traitlets.Float(4.0).tag(sync=True)
    map_subdivision = traitlets.Int(4).tag(sync=True)
    candidate_rgb = ArrayTrait(dtype=np.uint8, ndim=2)
    candidate_grain = ArrayTrait(dtype=np.int32, ndim=1)
    stats = traitlets.Dict().tag(sync=True)

    sel_strip_x = ArrayTrait(dtype=np.float32, ndim=1)
    sel_strip_omega_deg = ArrayTrait(dtype=np.float32, ndim=1)
    sel_beam_um = traitlets.Float(0.0).tag(sync=True)
    sel_beam_profile = traitlets.Dict().tag(sync=True)
    sel_n_prime = ArrayTrait(dtype=np.float32, ndim=1)
    sel_n_prime_next = ArrayTrait(dtype=np.float32, ndim=1)
    sel_best = traitlets.Int(-1).tag(sync=True)
    sel_phantom_grain = traitlets.Int(-1).tag(sync=True)

    progress = traitlets.Float(0.0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    compute_s = traitlets.Float(0.0).tag(sync=True)

    _LIMITS = {
        "diameter_um": (10.0, 400.0),
        "n_grains": (1, 300),
        "beam_um": (0.25, 40.0),
        "step_um": (0.25, 40.0),
        "omega_step_deg": (0.1, 10.0),
        "subdivision": (1, 10),
        "detection_probability": (0.05, 1.0),
        "angular_noise_deg": (0.0, 2.0),
        "seed": (0, 2**31 - 1),
        "pixel_um": (0.1, 2.0),
        "axis_offset_um": (-20.0, 20.0),
        "omega_range_deg": (1.0, 360.0),
        "detection_threshold": (0.0, 5.0),
        "spurious_per_frame": (0.0, 20.0),
    }

    _PARAMS = (
        "diameter_um", "n_grains", "beam_um", "step_um", "omega_step_deg", "subdivision",
        "detection_probability", "angular_noise_deg", "seed", "tie_break", "pixel_um", "profile", "labels",
        "orientations", "blur_fwhm", "axis_offset_um", "omega_range_deg", "omega_list", "detection_threshold",
        "spurious_per_frame", "scorer", "source", "peaks_path", "par_path", "grain_file",
    )

    def __init__(self, **kwargs):
        self.result = None
        """The latest :class:`~superres_widgets.s3dxrd.PhantomReconstruction`."""
        self.selection = None
        """The latest :class:`~superres_widgets.s3dxrd.PixelCompleteness` (``None``: no selection)."""
        self._init_bokeh_panel()
        self._build_plots()
        with self._batch():  # the keyword arguments start one computation, not one each
            super().__init__(**kwargs)
            self.ipf_key_rgba = ipf_key(96)

    _validate_limits = traitlets.validate(*_LIMITS)(SuperresWidget._validate_limits)

    @traitlets.validate("profile")
    def _validate_profile(self, proposal):
        return _validate_profile_name(self, proposal["value"])

    @traitlets.validate("omega_list")
    def _validate_omega_list(self, proposal):
        return _validate_omega_list(self, proposal["value"])

    @traitlets.validate("blur_fwhm")
    def _validate_blur(self, proposal):
        return self._clamp("blur_fwhm", float(proposal["value"]), 0.01, 2.0)

    @traitlets.validate("labels")
    def _validate_labels(self, proposal):
        value = proposal["value"]
        if value is None:
            return None
        lab = np.asarray(value)
        if lab.ndim != 2 or lab.size == 0:
            raise traitlets.TraitError(f"labels must be a non-empty 2-D array, got shape {lab.shape}")
        return lab

    # -- construction helpers --------------------------------------------------
    @classmethod
    def paper(cls, **kwargs) -> ReconstructionExplorer:
        """A widget on the paper's Figs. 5-6 setup (:data:`PAPER_SETUP`); ``kwargs`` override."""
        return cls(**{**PAPER_SETUP, **kwargs})

    def use_paper_setup(self, **overrides) -> ReconstructionExplorer:
        """Switch to the paper's setup (one recomputation); returns ``self``."""
        return self.set_parameters(**{**PAPER_SETUP, **overrides})

    def set_parameters(self, **params) -> ReconstructionExplorer:
        """Set several parameters with a single background recomputation; returns ``self``."""
        unknown = sorted(k for k in params if k not in self._PARAMS)
        if unknown:
            raise TypeError(f"unknown parameter(s) {unknown}; accepted: {list(self._PARAMS)}")
        with self._batch(), self.hold_trait_notifications():
            for k, v in params.items():
                setattr(self, k, v)
        return self

    # -- display ------------------------------------------------------------------

    # -- computation ----------------------------------------------------------------
    def reconstruction_kwargs(self) -> dict:
        """The keyword arguments passed to :func:`~superres_widgets.s3dxrd.reconstruct_phantom`."""
        kw = dict(
            diameter_um=self.diameter_um,
            beam_um=self.beam_um,
            step_um=self.step_um,
            omega_step_deg=self.omega_step_deg,
            subdivision=self.subdivision,
            n_grains=self.n_grains,
            seed=self.seed,
            pixel_um=self.pixel_um,
            detection_probability=self.detection_probability,
            noise_eta_deg=self.angular_noise_deg,
            noise_omega_deg=self.angular_noise_deg,
            tie_break=self.tie_break,
            profile=profile_object(self.profile, self.blur_fwhm),
            axis_offset_um=self.axis_offset_um,
            omega_range_deg=self.omega_range_deg,
            detection_threshold=self.detection_threshold,
            spurious_per_frame=self.spurious_per_frame,
            scorer=self.scorer,
        )
        if self.omega_list:
            kw["omega_deg"] = list(self.omega_list)
        if self.labels is not None:
            kw["labels"] = self.labels
        if self.orientations is not None:
            kw["orientations"] = self.orientations
        return kw

    def peaks_kwargs(self) -> dict:
        """The keyword arguments passed to :func:`~superres_widgets.s3dxrd.reconstruct_from_peaks` (rule 6)."""
        return dict(
            peaks=self.peaks_path,
            parameters=self.par_path or None,
            candidates=self.grain_file or None,
            subdivision=self.subdivision,
            tie_break=self.tie_break,
            scorer=self.scorer,
        )

    def load_peaks(self, columnfile, grain_file=None, parameters=None) -> ReconstructionExplorer:
        """Map your own peaks: an ImageD11 columnfile (``.flt`` or HDF5), its ``.par``, a grain file (optional).

        One background recomputation with :func:`~superres_widgets.s3dxrd.reconstruct_from_peaks`
        (module rule 6); a bad file shows its ``"<file>: <reason>"`` in :attr:`error`.
        Returns ``self``; :meth:`use_phantom` goes back.
        """
        import os

        with self._batch(), self.hold_trait_notifications():
            self.peaks_path = os.fspath(columnfile)
            self.par_path = "" if parameters is None else os.fspath(parameters)
            self.grain_file = "" if grain_file is None else os.fspath(grain_file)
            self.source = "peaks"
        return self

    def use_phantom(self) -> ReconstructionExplorer:
        """Back to the simulated phantom (one recomputation); returns ``self``."""
        self.source = "phantom"
        return self

    @traitlets.observe(*_PARAMS)
    def _on_param(self, change):
        name = change["name"]
        if name == "labels":
            self.custom_labels = change["new"] is not None
        if name in self._PEAKS_ONLY and self.source != "peaks":
            return  # the peak files matter only when mapping your peaks
        if name in self._PHANTOM_ONLY and self.source == "peaks":
            return  # the phantom and its scan do not apply to your peaks
        self._request_update()

    #: Parameters of the user's peaks only / of the simulated phantom only (module rule 6).
    _PEAKS_ONLY = ("peaks_path", "par_path", "grain_file")
    _PHANTOM_ONLY = (
        "diameter_um", "n_grains", "beam_um", "step_um", "omega_step_deg", "detection_probability",
        "angular_noise_deg", "seed", "pixel_um", "profile", "labels", "orientations", "blur_fwhm",
        "axis_offset_um", "omega_range_deg", "omega_list", "detection_threshold", "spurious_per_frame",
    )

    def _update(self):
        names = profile_menu()
        if names != self.profile_names:
            self.profile_names = names
        peaks = self.source == "peaks"
        if peaks:
            import os

            for name in ("peaks_path", "par_path", "grain_file"):
                path = getattr(self, name)
                if path and not os.path.isfile(path):
                    self._fail(f"{name}: {path}: no such file")
                    return
            if not self.peaks_path:
                self._fail("peaks_path: give a columnfile (load_peaks or the 'your peaks' fields) to map your peaks")
                return
        kw = self.peaks_kwargs() if peaks else self.reconstruction_kwargs()
        axis = self.ipf_axis

        def compute(job):
            t0 = time.perf_counter()
            if peaks:
                job.publish(self._report, 0.05, "mapping your peaks: columnfile → indexing → N′ maps…")
                result = reconstruct_from_peaks(**kw, cancel=job)
            else:
                job.publish(self._report, 0.05,
                            "reconstructing: phantom → forward scan → indexing → N′ maps → evaluation…")
                result = reconstruct_phantom(**kw, cancel=job)
            if job.cancelled():  # stale: never applied, skip the display work
                return None
            t1 = time.perf_counter()
            job.publish(self._report, 0.85, "colouring maps and extracting boundaries…")
            display = self._display_arrays(result, axis)
            return result, display, t1 - t0, time.perf_counter() - t1

        with self._state_lock:
            self._run_in_background(compute, self._apply_result)

    def _report(self, fraction: float, text: str) -> None:
        with self.hold_sync():
            self.progress = float(fraction)
            self.status = text

    # the arrays and numbers shown for a result (module conventions 2-6): _reconstruction_display.py
    _display_arrays = staticmethod(display_arrays)
    _stats = staticmethod(result_stats)
    _map_choice = staticmethod(map_choice)

    def _on_job_error(self, exc: BaseException) -> None:
        # the newest computation failed: the base shows the error; the last maps stay
        with self.hold_sync():
            super()._on_job_error(exc)
            self.progress = 0.0
            self.status = "failed; showing the last result"

    def _apply_result(self, payload):
        # under the state lock, only for the newest job (the base clears error/busy after)
        result, display, seconds, display_seconds = payload
        self.result = result
        with self._plot_lock:
            self._update_plots(result)
        stats = self._stats(result, seconds + display_seconds)
        with self.hold_sync():
            for k, v in display.items():
                setattr(self, k, v)
            phantom = getattr(result, "phantom", None)
            cg = getattr(result, "candidate_grain", None)
            self.candidate_grain = (np.full(result.candidates.shape[0], -1) if cg is None else cg).astype(np.int32)
            geom = result.geometry
            self.radius_um = float(phantom.radius_um if phantom is not None else geom.x_range - 0.5 * geom.step)
            self.map_step_um = float(result.geometry.step)
            self.map_subdivision = int(result.subpixel.subdivision)
            self.stats = stats
            self.compute_s = float(seconds + display_seconds)
            t = result.timings
            maps_s = t.get("conventional", 0) + t.get("subpixel", 0)
            if phantom is None:
                self.status = (
                    f"your peaks: done in {self.compute_s:.2f} s (indexing {t.get('indexing', 0):.2f}, "
                    f"maps {maps_s:.2f}, display {display_seconds:.2f})"
                )
            else:
                self.status = (
                    f"done in {self.compute_s:.2f} s (forward {t.get('forward', 0):.2f}, "
                    f"indexing {t.get('indexing', 0):.2f}, maps {maps_s:.2f}, evaluation "
                    f"{t.get('evaluation', 0):.2f}, display {display_seconds:.2f})"
                )
            self.progress = 1.0
            self._update_selection()

    # -- view options -----------------------------------------------------------
    @traitlets.observe("ipf_axis")
    def _on_axis(self, change):
        with self._state_lock:
            result = self.result
            if result is None:
                return
            with self._guard():
                display = self._display_arrays(result, self.ipf_axis)
                with self.hold_sync():
                    for k in ("phantom_rgba", "conventional_rgba", "subpixel_rgba", "candidate_rgb"):
                        setattr(self, k, display[k])

    # -- selection ------------------------------------------------------------------
    @traitlets.observe("selected_xs", "selected_ys")
    def _on_select(self, change):
        with self._state_lock:
            self._update_selection()

    def _update_selection(self):
        result = self.result
        xs, ys = self.selected_xs, self.selected_ys
        if result is None or xs is None or ys is None:
            self.selection = None
            with self.hold_sync():
                self.sel_strip_x = None
                self.sel_strip_omega_deg = None
                self.sel_n_prime = None
                self.sel_n_prime_next = None
                self.sel_beam_profile = {}
                self.sel_best = -1
                self.sel_phantom_grain = -1
            return
        with self._guard():
            pc = completeness_at(result, xs, ys)
            self.selection = pc
            with self.hold_sync():
                self.sel_strip_x = pc.measurements.X
                self.sel_strip_omega_deg = pc.measurements.omega_deg
                self.sel_beam_um = float(result.geometry.beam_width)
                self.sel_beam_profile = profile_samples(result.geometry.profile, result.geometry.beam_width)
                self.sel_n_prime = pc.n_prime
                self.sel_n_prime_next = pc.n_prime_next
                self.sel_best = int(pc.best) if result.subpixel.scorer == "nprime" else self._map_choice(result, xs, ys)
                phantom = getattr(result, "phantom", None)
                self.sel_phantom_grain = int(phantom.label_at(xs, ys)) if phantom is not None else -1

    # -- Bokeh: boundary displacement histogram (Fig. 6b) ------------------------
    def _build_plots(self):
        from bokeh.models import ColumnDataSource, Label, Span
        from bokeh.plotting import figure

        self._src_conv = ColumnDataSource(dict(left=[], right=[], top=[]))
        self._src_sub = ColumnDataSource(dict(left=[], right=[], top=[]))
        fig = figure(
            width=860, height=300, title="(Fig. 6b) grain-boundary displacement",
            x_axis_label="displacement of a phantom boundary point to the reconstructed boundary (µm)",
            y_axis_label="boundary points", toolbar_location="above",
            tools="pan,wheel_zoom,box_zoom,reset,save",
        )
        fig.quad(left="left", right="right", top="top", bottom=0, source=self._src_conv,
                 fill_color="#bdbdbd", fill_alpha=0.6, line_color="#737373", legend_label="conventional")
        fig.quad(left="left", right="right", top="top", bottom=0, source=self._src_sub,
                 fill_color="#3182bd", fill_alpha=0.55, line_color="#08519c", legend_label="sub-pixel")
        self._span_conv = Span(location=0, dimension="height", line_color="#525252", line_dash="dashed",
                               line_width=2)
        self._span_sub = Span(location=0, dimension="height", line_color="#08519c", line_dash="dashed",
                              line_width=2)
        self._span_paper = Span(location=0.7, dimension="height", line_color="#d62728", line_dash="dotted",
                                line_width=2)
        self._span_beam = Span(location=4.0, dimension="height", line_color="#000000", line_dash="dotdash",
                               line_width=1)
        for s in (self._span_conv, self._span_sub, self._span_paper, self._span_beam):
            fig.add_layout(s)
        self._label_paper = Label(x=0.7, y=170, x_units="data", y_units="screen", text="paper 0.7 µm",
                                  text_color="#d62728", text_font_size="10px", x_offset=3)
        self._label_beam = Label(x=4.0, y=170, x_units="data", y_units="screen", text="beam",
                                 text_color="#000000", text_font_size="10px", x_offset=3)
        fig.add_layout(self._label_paper)
        fig.add_layout(self._label_beam)
        fig.legend.location = "top_right"
        self._hist_fig = fig
        self._plots_layout = fig

    def _update_plots(self, result):
        ec, es = result.conventional.evaluation, result.subpixel.evaluation
        if ec is None or es is None:  # your peaks: nothing to compare with
            empty = dict(left=[], right=[], top=[])
            self._src_conv.data = empty
            self._src_sub.data = dict(empty)
            self._span_conv.location = None
            self._span_sub.location = None
            self._hist_fig.title.text = "your peaks: no phantom, no boundary displacement (confidence map on the left)"
            return
        bw = float(es.hist_edges[1] - es.hist_edges[0]) if es.hist_edges.size > 1 else 0.25
        dc = ec.displacement_um[np.isfinite(ec.displacement_um)]
        ds = es.displacement_um[np.isfinite(es.displacement_um)]
        top = max(float(dc.max()) if dc.size else 0.0, float(ds.max()) if ds.size else 0.0)
        nb = max(int(math.ceil(top / bw - 1e-9)), 1)
        if nb * bw <= top:
            nb += 1
        edges = bw * np.arange(nb + 1)
        hc, _ = np.histogram(dc, bins=edges)
        hs, _ = np.histogram(ds, bins=edges)
        self._src_conv.data = dict(left=edges[:-1], right=edges[1:], top=hc)
        self._src_sub.data = dict(left=edges[:-1], right=edges[1:], top=hs)
        mc, ms = ec.mean_displacement_um, es.mean_displacement_um
        self._span_conv.location = float(mc) if math.isfinite(mc) else None
        self._span_sub.location = float(ms) if math.isfinite(ms) else None
        beam = float(result.geometry.beam_width)
        self._span_beam.location = beam
        self._label_beam.x = beam
        self._label_beam.text = f"beam {beam:g} µm"

        def f(v):
            return f"{v:.2f}" if math.isfinite(v) else "–"

        self._hist_fig.title.text = (
            f"(Fig. 6b) boundary displacement, weighted mean: sub-pixel {f(ms)} µm · "
            f"conventional {f(mc)} µm · paper (sub-pixel) 0.7 µm"
        )
