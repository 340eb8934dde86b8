"""DeconvolutionExplorer: live before/after restoration of a micro-XRF map.

Seed 001 (Yang, Zhang & Cheng 2022) Fig. 5-7 made interactive. Units: the
map is in counts, lengths in µm (``pixel_size_um`` converts the PSF sigma
to pixels). The PSF is the paper's Gaussian (``sigma_u``, ``sigma_v``,
``rho``), built by :func:`superres_widgets.xrf.gaussian_psf` -- or any PSF
image (:meth:`DeconvolutionExplorer.set_psf`: a measured dot scan, the blind
method's kernel, a file), checked and centred by
:func:`superres_widgets.xrf.prepare_psf`.

Every parameter change starts a restoration in the background (the widget
base's lifecycle, :mod:`superres_widgets.widgets._lifecycle`): the newest
parameters always win, a stale run is cancelled through the algorithms'
``cancel`` hook and its frames and errors are dropped; an error belongs to
the parameters that caused it. Iterative methods stream intermediate frames
(throttled) with their progress and their convergence records: the Bokeh
plot below the widget draws the residual and the Poisson discrepancy live
and marks where a stopping rule (``stop``) ended the run. While a new
restoration runs, ``stale`` is true: the metrics shown still belong to the
previous parameters (the page marks them). The swipe curtain lives only in
the browser.

Display resolution (``frame_resolution="display"``, the default): frames
(``restored_view``, with the raw map's ``raw_view`` on the same grid) are
the *visible window* of the map at the resolution the canvas draws it
(:mod:`superres_widgets.widgets._display`): at zoom 1 a 1024 x 1024 map
travels as 400 x 400 area means (the map fitted to the 460 x 400 canvas,
times devicePixelRatio); zoomed in until a map pixel takes one device pixel
or more, as the exact full-resolution crop. The page reports its view in
``display`` (debounced) and Python re-sends the window from the latest
full-resolution result, without recomputing. ``view_box`` = ``[R0, R1,
C0, C1]`` is the crop the frames cover. The value under the mouse and the
line profile show full-resolution values: the raw map is in the page at
full resolution (``image``), restored values come from the frame when it is
full resolution and otherwise from Python's full-resolution array (a
``probe`` message and its reply). ``frame_resolution="full"`` sends every
frame at full resolution (the earlier behaviour, kept for comparisons).
:attr:`restored` is always full resolution.

Pixels that are not counts: NaN pixels of the map are masked (left out of
every method's data term); negative pixels follow ``negative`` (``"auto"``:
shifted for the Poisson methods, kept for the least-squares ones); the
``notice`` says what was done.

The methods, their parameters, ranges and sliders come from the registry
(:func:`superres_widgets.xrf.methods`): a method registered with
:func:`superres_widgets.xrf.register_method` before the explorer is created
is offered too, with sliders for its parameters.
"""

from __future__ import annotations

import math
import time

import numpy as np
import traitlets

from ..xrf import (PSF_PARAMETERS, ConvergenceHistory, USAFChart, gaussian_psf, kernel_to_sigma, prepare_psf,
                   score_restoration)
from ._base import bundle_path
from ._bokeh import BokehPanel
from ._convergence_plot import ConvergencePlot
from ._restoration import MethodWidget, restore_with_psf
from ._display import check_display, display_frame, view_geometry
from .serializers import ArrayTrait

__all__ = ["DeconvolutionExplorer"]

_PSF_PARAMETERS = ("psf_sigma_um", "psf_sigma_v_um", "psf_rho")
_FRAME_INTERVAL_S = 0.1  # at most ~10 intermediate frames per second
_FRAME_YIELD_S = 0.02  # pause after sending a frame so it leaves the kernel at once
_DEFAULT_PIXEL_UM = 5.0
_PIXEL_NOTICE = (f"pixel_size_um not given: assuming {_DEFAULT_PIXEL_UM:g} µm per pixel, so σ in µm may be wrong "
                 "(pass pixel_size_um=, e.g. load_map(path).pixel_size_um)")


class DeconvolutionExplorer(BokehPanel, MethodWidget):
    """Restore a map with any registered method, live (Wiener, RL, RL-TV, SGP, FISTA, Landweber, ICTM, blind L0...).

    Parameters
    ----------
    image : (M, N) array_like
        The measured map (counts); NaN pixels are masked.
    pixel_size_um : float
        Scan step in µm (paper: 5).  Without it 5 µm is assumed, with a
        notice.
    reference : (M, N) array_like, optional
        Ground truth (e.g. the USAF chart) for MSE and SSIM.
    chart : USAFChart, optional
        The chart the map was scanned from: the resolved element is shown.
    method : str
        A registered method's name or alias: ``"wiener"``, ``"richardson_lucy"``
        (``"rl"``), ``"richardson_lucy_tv"``, ``"sgp"``, ``"fista"``,
        ``"landweber"``, ``"tikhonov_miller"``, ``"blind_l0"`` (``"blind"``),
        or one of the user's (:func:`superres_widgets.xrf.register_method`).
    psf_sigma_um, psf_sigma_v_um, psf_rho : float
        Gaussian PSF (``psf_sigma_v_um=None``: isotropic), for the methods
        that need one -- unless a PSF image is set (:meth:`set_psf`).
    psf_image : (K_r, K_c) array_like, optional
        A PSF image on the map's pixel grid, used instead of the Gaussian.
    balance, num_iter, acceleration, lam, tv_weight, tau, stop, tol, kernel_size, ...
        The methods' parameters (one trait each; ranges, defaults and
        sliders from their declarations), including the stopping rule
        ``stop`` (``"none"``, ``"discrepancy"``, ``"relative_change"``) and
        its ``tol``.
    negative : {"auto", "offset", "clip", "error", "keep"}
        Negative pixels (see the module docstring).
    mode : {"swipe", "side", "diff"}
        Comparison view; ``colormap`` and ``contrast`` (percentiles) style it.
    frame_resolution : {"display", "full"}
        ``"display"``: frames are the visible window at the resolution the
        canvas draws it (area means; the exact crop when zoomed in), see the
        module docstring; ``"full"``: every frame at full resolution.

    Attributes
    ----------
    history : ConvergenceHistory or None
        The records of the latest complete iterative run.

    Examples
    --------
    >>> import numpy as np
    >>> w = DeconvolutionExplorer(image=np.random.default_rng(0).poisson(50, (64, 64)),
    ...                           pixel_size_um=5, method="wiener", psf_sigma_um=10).wait()
    >>> w.restored.shape
    (64, 64)
    >>> DeconvolutionExplorer(image=w.image, pixel_size_um=5, method="rl", psf_sigma_um=10).method
    'richardson_lucy'
    """

    _esm = bundle_path("deconvolution")
    _PSF_TRAITS = True  # psf_sigma_um, psf_rho from xrf.PSF_PARAMETERS

    image = ArrayTrait(dtype=np.float32, ndim=2)
    restored_view = ArrayTrait(dtype=np.float32, ndim=2)
    """The restored frame on the display grid (``view_box`` at display resolution)."""
    raw_view = ArrayTrait(dtype=np.float32, ndim=2)
    """The raw map on the same grid as ``restored_view`` (area means, NaN pixels left out)."""
    view_box = traitlets.List([0, 0, 0, 0]).tag(sync=True)
    """``[R0, R1, C0, C1]``: the crop ``image[R0:R1, C0:C1]`` that ``raw_view``/``restored_view`` cover."""
    display = traitlets.Dict({}).tag(sync=True)
    """The page's view: visible window, device pixels per map pixel, canvas size (``_display``)."""
    frame_resolution = traitlets.Unicode("display").tag(sync=True)
    """``"display"``: frames at the resolution drawn; ``"full"``: every frame at full resolution."""
    pixel_size_um = traitlets.Float(_DEFAULT_PIXEL_UM).tag(sync=True)
    psf_sigma_v_um = traitlets.Float(None, allow_none=True).tag(sync=True)
    psf_image = ArrayTrait(dtype=np.float32, ndim=2)
    """A PSF image used instead of the Gaussian (None: the Gaussian); set it with :meth:`set_psf`."""
    psf_label = traitlets.Unicode("").tag(sync=True)
    """Where the PSF image came from ('' for the Gaussian)."""

    mode = traitlets.Unicode("swipe").tag(sync=True)
    colormap = traitlets.Unicode("viridis").tag(sync=True)
    contrast = traitlets.List([0.5, 99.5]).tag(sync=True)

    # outputs
    progress = traitlets.Float(0.0).tag(sync=True)
    iteration = traitlets.Int(0).tag(sync=True)
    frame_id = traitlets.Int(0).tag(sync=True)
    #: bumped with every new restored result (not when the same result is re-sent for another view)
    result_id = traitlets.Int(0).tag(sync=True)
    final = traitlets.Bool(False).tag(sync=True)
    stale = traitlets.Bool(False).tag(sync=True)
    """True while a newer restoration runs: the metrics shown belong to the previous parameters."""
    compute_ms = traitlets.Float(0.0).tag(sync=True)
    metrics = traitlets.Dict({}).tag(sync=True)
    raw_metrics = traitlets.Dict({}).tag(sync=True)
    estimated_sigma_um = traitlets.Float(None, allow_none=True).tag(sync=True)
    estimated_kernel = ArrayTrait(dtype=np.float32, ndim=2)
    """The kernel the blind method estimated (unit sum), for "use this kernel"."""
    stopped = traitlets.Unicode("").tag(sync=True)
    """Why the latest iterative run ended ('' for non-iterative methods)."""

    _LIMITS = {"pixel_size_um": (1e-3, 1e4)}
    _validate_limits = traitlets.validate(*_LIMITS)(MethodWidget._validate_limits)

    def __init__(self, image=None, *, reference=None, chart: USAFChart | None = None, psf_image=None, **kwargs):
        self._reference = None
        self._chart = None
        self._restored = None
        self._psf_cache: tuple | None = None
        self._latest = None  # the newest frame at full resolution (probes, zoom crops)
        self._raw_cache: tuple | None = None  # (geometry, raw_view)
        self._image64: tuple | None = None  # (image, float64 copy): one conversion per map
        #: where the newest applied restoration spent its time, in ms, beside its wall time ``compute_ms``
        #: (diagnostics; the browser benchmark reads it): ``cpu``, the worker thread's own CPU time of the
        #: whole run, and ``first_frame``, the wall time to the first streamed frame (iterative methods)
        self.timing: dict = {}
        self.history: ConvergenceHistory | None = None
        self._init_bokeh_panel()
        self._plot = ConvergencePlot()
        self._plots_layout = self._plot.figure
        if image is not None:
            kwargs["image"] = image
        if "pixel_size_um" in kwargs and kwargs["pixel_size_um"] is None:
            raise ValueError(
                "pixel_size_um is None: the map's file carries no pixel size; pass the scan step, "
                "e.g. DeconvolutionExplorer(image=m.data, pixel_size_um=5.0)"
            )
        given_pixel = "pixel_size_um" in kwargs
        with self._batch():
            super().__init__(**kwargs)
            if not given_pixel:
                self._set_notice("pixel_size_um", _PIXEL_NOTICE)
            self._observe_method_parameters(self._on_param)
            self.on_msg(self._on_front_end_msg)
            self.set_reference(reference, chart=chart)
            if psf_image is not None:
                self.set_psf(psf_image)

    # -- validation -----------------------------------------------------------
    def _set_notice(self, key: str, text: str | None):
        if text:
            self._notices[key] = text
        else:
            self._notices.pop(key, None)
        self.notice = "; ".join(self._notices.values())

    @traitlets.validate("psf_sigma_v_um")
    def _validate_sigma_v(self, proposal):
        value = proposal["value"]
        if value is None:
            self._set_notice("psf_sigma_v_um", None)
            return None
        value, notice = PSF_PARAMETERS["psf_sigma_um"].clamp(float(value))
        self._set_notice("psf_sigma_v_um", notice.replace("psf_sigma_um", "psf_sigma_v_um") if notice else None)
        return value

    @traitlets.validate("mode")
    def _validate_mode(self, proposal):
        if proposal["value"] not in ("swipe", "side", "diff"):
            raise traitlets.TraitError(f"mode must be 'swipe', 'side' or 'diff', got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("image")
    def _validate_image(self, proposal):
        img = proposal["value"]
        if img is None:
            return None
        if img.size == 0:
            raise traitlets.TraitError("image is empty")
        if np.isinf(img).any():
            raise traitlets.TraitError("image contains inf (mark unmeasured pixels as NaN: they are masked)")
        if np.isnan(img).all():
            raise traitlets.TraitError("image: every pixel is NaN (masked)")
        return img

    @traitlets.validate("psf_image")
    def _validate_psf_image(self, proposal):
        k = proposal["value"]
        if k is None:
            return None
        shape = None if self.image is None else self.image.shape
        return prepare_psf(k, shape, name=self.psf_label or "psf_image").astype(np.float32)

    @traitlets.validate("frame_resolution")
    def _validate_frame_resolution(self, proposal):
        if proposal["value"] not in ("display", "full"):
            raise traitlets.TraitError(f"frame_resolution must be 'display' or 'full', got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("display")
    def _validate_display(self, proposal):
        try:
            return check_display(proposal["value"])
        except ValueError as exc:
            raise traitlets.TraitError(str(exc)) from None

    @traitlets.observe("display", "frame_resolution")
    def _on_display(self, change):
        if change["name"] == "display" and self.frame_resolution == "full":
            return  # full-resolution frames cover every view already
        with self._state_lock:
            if self._latest is not None and self.image is not None:
                with self.hold_sync():
                    self.frame_id += 1  # the page marks which frame it shows (data-frame-id)
                    self._show_view(self._latest)

    @traitlets.observe("pixel_size_um")
    def _pixel_given(self, change):
        self._set_notice("pixel_size_um", None)

    # -- public helpers ---------------------------------------------------------
    def set_reference(self, reference=None, *, chart: USAFChart | None = None):
        """Set the ground truth (for MSE/SSIM) and/or the USAF chart (resolved element)."""
        if reference is not None:
            reference = np.asarray(reference, dtype=np.float64)
            if self.image is not None and reference.shape != self.image.shape:
                raise ValueError(f"reference shape {reference.shape} differs from the image shape {self.image.shape}")
        if chart is not None and self.image is not None and chart.image.shape != self.image.shape:
            raise ValueError(f"chart shape {chart.image.shape} differs from the image shape {self.image.shape}")
        with self._state_lock:
            self._reference, self._chart = reference, chart
            self._score_raw()
        self._request_update()

    def set_psf(self, psf=None, *, label: str = "PSF image"):
        """Restore with a PSF image (checked, normalised, centred), or ``None`` for the Gaussian again.

        ``psf`` may also be an :class:`~superres_widgets.io.XRFMap` (a PSF
        read from a file; its file name becomes the label).
        """
        source = getattr(psf, "source", None)
        if hasattr(psf, "data") and hasattr(psf, "pixel_size_um"):
            label = str(getattr(source, "name", source) or label)
            psf = psf.data
        with self._batch(), self.hold_sync():
            self.psf_label = "" if psf is None else label
            self.psf_image = None if psf is None else np.asarray(psf, dtype=np.float64)
        return self

    def use_estimated_kernel(self, method: str = "richardson_lucy"):
        """Restore with the blind method's kernel as the PSF image, by ``method`` (the "use this kernel" button)."""
        if self.estimated_kernel is None:
            raise ValueError("no estimated kernel yet: run the blind method first (method='blind_l0')")
        kernel = np.array(self.estimated_kernel, dtype=np.float64)
        with self._batch():
            self.method = method
            self.set_psf(kernel, label=f"blind kernel ({kernel.shape[0]} px)")
        return self

    def use_estimated_sigma(self, method: str = "richardson_lucy"):
        """Restore with the Gaussian of the blind kernel's sigma (the paper's route), by ``method``."""
        if self.estimated_sigma_um is None:
            raise ValueError("no estimated sigma yet: run the blind method first (method='blind_l0')")
        with self._batch():
            self.method = method
            self.set_psf(None)
            self.psf_sigma_v_um = None
            self.psf_rho = 0.0
            self.psf_sigma_um = float(self.estimated_sigma_um)
        return self

    def _on_front_end_msg(self, _widget, content, _buffers):
        action = content.get("action") if isinstance(content, dict) else None
        with self._guard():
            if action == "use_kernel":
                self.use_estimated_kernel()
            elif action == "use_sigma":
                self.use_estimated_sigma()
            elif action == "gaussian_psf":
                self.set_psf(None)
            elif action == "probe":
                self.send({"probe": content.get("id"), "values": self.probe(content.get("rows", []),
                                                                           content.get("cols", []))})

    def probe(self, rows, cols) -> list:
        """Full-resolution restored values at pixels ``(rows[k], cols[k])`` (None: NaN, outside, no frame yet).

        The page's hover readout and line profile ask this when the frame on
        screen is not at full resolution.
        """
        latest = self._latest
        if latest is None:
            return [None] * len(rows)
        ny, nx = latest.shape
        out = []
        for r, c in zip(rows, cols, strict=False):
            r, c = int(r), int(c)
            v = float(latest[r, c]) if 0 <= r < ny and 0 <= c < nx else math.nan
            out.append(v if math.isfinite(v) else None)
        return out

    @property
    def restored(self) -> np.ndarray | None:
        """The latest complete restoration (float64, counts), or None."""
        return self._restored

    @property
    def psf(self) -> np.ndarray:
        """The current PSF: the PSF image if set, else the Gaussian (unit sum, centre at ``shape // 2``)."""
        if self.psf_image is not None:
            return np.asarray(self.psf_image, dtype=np.float64) / float(np.sum(self.psf_image))
        key = (self.psf_sigma_um, self.psf_sigma_v_um, self.psf_rho, self.pixel_size_um)
        if self._psf_cache is None or self._psf_cache[0] != key:
            sv = self.psf_sigma_v_um
            widest = max(self.psf_sigma_um, sv or 0.0) / self.pixel_size_um
            if self.image is not None and 2 * math.ceil(4.0 * widest) + 1 > max(self.image.shape):
                raise ValueError(
                    f"psf_sigma_um={max(self.psf_sigma_um, sv or 0.0):g} µm gives a PSF "
                    f"({2 * math.ceil(4.0 * widest) + 1} px across) wider than the map "
                    f"{self.image.shape[1]} x {self.image.shape[0]} px"
                )
            psf = gaussian_psf(self.psf_sigma_um, sv if sv is not None else None, self.psf_rho,
                               pixel_size_um=self.pixel_size_um)
            self._psf_cache = (key, psf)
        return self._psf_cache[1]

    def parameters(self) -> dict:
        """The method and the parameters it uses (for provenance, e.g. ``io.save_map``)."""
        out = {"method": self.method, "pixel_size_um": self.pixel_size_um}
        if self.current_method.needs_psf:
            if self.psf_image is not None:
                out["psf"] = {"image": self.psf_label, "shape": list(self.psf_image.shape)}
            else:
                out.update({name: getattr(self, name) for name in _PSF_PARAMETERS})
        out.update(self.method_values())
        if self.negative != "auto":
            out["negative"] = self.negative
        if not self.current_method.needs_psf and self.estimated_sigma_um is not None:
            out["estimated_sigma_um"] = self.estimated_sigma_um
        return out

    # -- computation --------------------------------------------------------------
    @traitlets.observe("image", "pixel_size_um", "method", "psf_sigma_v_um", "psf_image", "negative")
    def _on_param(self, change):
        if change["name"] == "image":
            self._restored = None
            self._latest = None
            self._raw_cache = None
            self._image64 = None
            self._score_raw()
        self._request_update()

    def _score_raw(self):
        if self.image is None or (self._reference is None and self._chart is None):
            self.raw_metrics = {}
            return
        with self._guard():
            self.raw_metrics = self._score(self.image.astype(np.float64), self.image, self._reference,
                                           self._chart)

    @staticmethod
    def _score(img: np.ndarray, raw: np.ndarray, reference, chart) -> dict:
        levels = None
        if chart is None:  # one scale for raw and restored: the raw map's levels
            lo, hi = np.nanpercentile(raw, [0.5, 99.5])
            levels = (float(lo), float(hi))
        out = score_restoration(np.nan_to_num(img, nan=float(np.nanmean(img))), reference, chart=chart,
                                levels=levels).as_dict()
        if chart is not None and out.get("element") is None:
            coarsest = min(chart.elements, key=lambda e: e.lp_per_mm) if getattr(chart, "elements", None) else None
            what = f" (the coarsest, {coarsest.label}, is {coarsest.lp_per_mm:.3g} lp/mm)" if coarsest else ""
            out["element"] = "none"
            out["note"] = f"no element of the chart is resolved{what}: the PSF is too wide or the map too noisy"
        if reference is None:
            out["mse_note"] = "MSE/SSIM need a reference (the true map): pass reference="
        return out

    def _update(self):
        if self.image is None:
            return
        method = self.current_method
        self._set_notice("data", self.data_notice(self.image, method))
        try:
            psf = self.psf if method.needs_psf else None
        except (ValueError, MemoryError) as exc:
            self._fail(exc)
            return
        params = {"method": method.name, **self.method_values()}
        image, pixel, policy = self.image, self.pixel_size_um, self.negative_policy(method)
        scoring = (self._reference, self._chart)
        n = method.total_iterations(params) if method.iterative else None

        def compute(job):
            return self._restore(job, method, image, psf, params, pixel, scoring, policy)

        with self._state_lock:
            with self._plot_lock:
                self._plot.reset(n, f"convergence: {method.label or method.name}" if n else
                                 f"{method.label or method.name} is not iterative")
            # with busy in one message: the page never shows the stale marker beside the old status
            self._run_in_background(compute, self._apply_result, progress=0.0, iteration=0, final=False,
                                    stale=True)

    def _history_for(self, job, method, n_total, reference):
        """A ConvergenceHistory whose records reach the plot at most ~10 times per second."""
        if not (method.iterative and "history" in method.accepts):
            return None, None
        pending: list = []
        last = [time.perf_counter()]

        def flush():
            if pending:
                batch = list(pending)
                pending.clear()
                job.publish(self._add_records, batch)

        def on_record(rec):
            pending.append(rec)
            now = time.perf_counter()
            if now - last[0] >= _FRAME_INTERVAL_S:
                last[0] = now
                flush()

        small = self.image.size <= 512 * 512
        ref = reference if (reference is not None and small) else None
        every = max(1, n_total // 200)
        if not small:  # measuring the fit costs ~2 iterations: sample it on large maps (first frame sooner)
            every = max(every, math.ceil(self.image.size / 131072))
        return ConvergenceHistory(reference=ref, every=every, on_record=on_record), flush

    def _restore(self, job, method, image, psf, params, pixel, scoring, policy):
        """Run in a worker thread. Streams frames and records; returns (restored, info)."""
        t0, cpu0 = time.perf_counter(), time.thread_time()
        last = [0.0]
        first_ms: list = []
        known = method.total_iterations(params)  # None: unknown in advance (blind L0's alternations)
        n_total = known or 1
        history, flush = self._history_for(job, method, n_total, scoring[0])

        def frame(iteration, estimate):
            if job.cancelled() or not method.streams:
                return
            now = time.perf_counter()
            first = last[0] == 0.0
            if (known is None or iteration < known) and (first or now - last[0] >= _FRAME_INTERVAL_S):
                last[0] = now
                img = getattr(estimate, "image", estimate)
                kernel = getattr(estimate, "kernel", None)
                fraction = iteration / known if known else iteration / (iteration + 10.0)
                if first:
                    first_ms.append(1000.0 * (now - t0))
                if job.publish(self._show_frame, img, iteration, min(1.0, fraction), False, kernel):
                    # let the kernel's IOPub thread ship the frame now, before the
                    # next iterations take the GIL and both cores (<= 10 per second)
                    time.sleep(_FRAME_YIELD_S)

        img = self._float64(image)
        result = restore_with_psf(img, psf, params, cancel=job, callback=frame if method.streams else None,
                                  dtype=np.float32, negative=policy, history=history)
        seconds = time.perf_counter() - t0
        cpu_ms = 1000.0 * (time.thread_time() - cpu0)
        if flush is not None:
            flush()
        out = np.asarray(getattr(result, "image", result), dtype=np.float64)
        if not np.all(np.isfinite(out)):
            raise ValueError("the restoration produced non-finite values")
        iterations = history.records[-1].iteration if history is not None and history.records else n_total
        info = {"seconds": seconds, "iterations": iterations, "history": history,
                "timing": {"cpu": cpu_ms, "first_frame": first_ms[0] if first_ms else None}}
        kernel = getattr(result, "kernel", None)
        if kernel is not None:  # a method that estimates the PSF
            sigma = kernel_to_sigma(kernel, pixel_size_um=pixel)
            info["estimated_sigma_um"] = float(np.mean(sigma)) if np.ndim(sigma) else float(sigma)
            info["kernel"] = np.asarray(kernel, dtype=np.float32)
        reference, chart = scoring
        try:
            info["metrics"] = (self._score(out, image, reference, chart)
                               if (reference is not None or chart is not None) else {})
        except ValueError as exc:
            info["metrics"] = {"error": str(exc)}
        return out, info

    def _add_records(self, records):
        with self._plot_lock:
            self._plot.add(records)

    def _float64(self, image):
        """``image`` as float64, converted once per map (not on every slider move)."""
        cached = self._image64
        if cached is None or cached[0] is not image:
            cached = (image, np.asarray(image, dtype=np.float64))
            self._image64 = cached
        return cached[1]

    def _geometry(self, shape):
        return view_geometry(shape, self.display, full=self.frame_resolution == "full")

    def _show_view(self, img):
        """Send the visible window of ``img`` (full resolution) and of the raw map at display resolution."""
        img = np.asarray(img)
        if self.image is None or img.shape != self.image.shape:
            return
        geo = self._geometry(img.shape)
        with self.hold_sync():  # one message: the box, the raw window, then the restored pixels
            if self._raw_cache is None or self._raw_cache[0] != geo:
                self._raw_cache = (geo, display_frame(self.image, geo))
                self.raw_view = self._raw_cache[1]
            self.view_box = list(geo[:4])
            self.restored_view = display_frame(img, geo, nan_aware=False)

    def _show_frame(self, img, iteration, progress, final, kernel=None):
        # (called under the state lock) metadata first, pixels last: when the
        # browser receives the pixels it already knows which frame they are
        with self.hold_sync():
            self.iteration = int(iteration)
            self.progress = float(progress)
            self.final = final
            self.frame_id += 1
            self.result_id += 1
            if kernel is not None and not final:
                self.estimated_kernel = np.asarray(kernel, dtype=np.float32)
            self._latest = img  # kept at full resolution (an iterate may be updated in place until the next frame)
            self._show_view(img)

    def _apply_result(self, payload):
        out, info = payload
        history = info["history"]
        with self.hold_sync():
            self._show_frame(out, info["iterations"], 1.0, True)
            self._restored = out
            self.history = history
            self.compute_ms = 1000.0 * info["seconds"]
            self.timing = info["timing"]
            self.estimated_sigma_um = info.get("estimated_sigma_um")
            if "kernel" in info:
                self.estimated_kernel = info["kernel"]
            self.metrics = info["metrics"]
            self.stopped = "" if history is None else (
                f"stopped at iteration {history.stopped_at}: {history.reason}" if history.stopped_at is not None
                else f"{info['iterations']} iterations ({history.reason})")
            self.stale = False
        with self._plot_lock:
            self._plot.finish()
            if history is not None:
                self._plot.mark_stop(history.stopped_at, history.reason)
                self._refresh_plot_bundle()

    def _refresh_plot_bundle(self):
        """Re-serialise the plot into the BokehModel's bundle (a view created later starts from the final curve).

        Patches reach only the views that exist: a run that ends before the
        page has drawn the plot would otherwise show the empty plot of the
        display time.
        """
        panel = getattr(self, "_panel", None)
        if panel is None:
            return
        bokeh_model = panel.children[1]
        try:
            bokeh_model.render_bundle = type(bokeh_model)._model_to_traits(self._plots_layout)
        except Exception:  # noqa: BLE001 - a display nicety; the live patches still apply
            pass
