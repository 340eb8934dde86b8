"""PSFSweep: restoration quality against the PSF sigma (seed 001, Fig. 7-8).

Yang, Zhang & Cheng (2022) restored their USAF-chart map with
Richardson-Lucy for Gaussian PSFs of sigma 27.5-40 µm and plotted MSE, SSIM
and the resolved line pairs per mm against sigma (Fig. 8), with the
restored images beside it (Fig. 7). They found the metrics disagree: the
resolution peaks at a slightly *smaller* sigma (27.5-33.75 µm) than MSE
(35-37.5 µm) and SSIM (36.25-40 µm), because a larger PSF smooths noise.

This widget runs that sweep in the background (the widget base's
lifecycle), one sigma after the other, and pushes each sigma's metrics to three Bokeh plots as soon as it is
done (with a progress bar while it runs). Every restored image is kept
(float32), so selecting a sigma -- a thumbnail in the widget, a point in a
Bokeh plot, or ``selected_sigma_um`` from Python -- shows its image at once,
without recomputing. A parameter change cancels the running sweep (newest
parameters win); sigmas already restored with the same method parameters
are reused. Any registered method that takes a PSF can be swept
(:func:`superres_widgets.xrf.methods`); its parameters, ranges and sliders
come from its declaration.

Units and conventions
---------------------
* ``image`` in counts, ``image[row, col]``; ``pixel_size_um`` converts the
  sigmas (µm) to pixels (:func:`~superres_widgets.xrf.gaussian_psf`).
* MSE and SSIM come from :func:`~superres_widgets.xrf.score_restoration`
  (window 7, K1 0.01, K2 0.03, data range 1): the restored map is mapped to
  0-1 by ``levels`` (low, high counts) and compared with the reference scaled
  to 0-1. Without explicit ``levels``: with a chart, each image's own glass
  and chrome levels (:func:`~superres_widgets.xrf.chart_levels`); without
  one, the raw map's 0.5th/99.5th percentiles (as
  :class:`~superres_widgets.widgets.DeconvolutionExplorer` does).
* Resolution: the finest USAF element resolved in both orientations
  (:func:`~superres_widgets.xrf.resolved_element`), ``R = 2^(G+(E-1)/6)``
  lp/mm; 0 when not even the coarsest element is resolved.
"""

from __future__ import annotations

import math
import time

import numpy as np
import traitlets

from ..xrf import DeconvolutionCancelled, USAFChart, score_restoration
from ._base import bundle_path
from ._bokeh import BokehPanel
from ._restoration import MethodWidget, method_parameters, restore, robust_range, thumbnail
from ._sweep_results import FloatList, SweepResults, _Entry, _label, _lp, _match, _num
from .serializers import ArrayTrait

__all__ = ["PSFSweep", "SweepResults", "DEFAULT_SIGMAS_UM"]

#: Default sweep, µm: 15-60 in 2.5 µm steps (the paper's Fig. 8 spans 27.5-40 µm).
DEFAULT_SIGMAS_UM = [float(s) for s in np.arange(15.0, 60.0 + 1e-9, 2.5)]

_PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress messages per second
_COLORMAPS = ("viridis", "magma", "gray", "hot")  # those of js/src/lib/colormap.js


class PSFSweep(BokehPanel, MethodWidget):
    """Sweep the PSF sigma of a non-blind restoration; plot MSE, SSIM, lp/mm (Fig. 7-8).

    Displaying the object shows the raw map and the restored image of the
    selected sigma, a strip of thumbnails of every restored sigma (click one
    to select it), the progress of the sweep and the method controls; below,
    three Bokeh plots of MSE, SSIM and lp/mm against sigma (click a point to
    select that sigma; stars mark the best sigma by each metric, dashed lines
    the raw map).

    Parameters
    ----------
    image : (M, N) array_like
        The measured map (counts).
    reference : (M, N) array_like, optional
        Ground truth for MSE/SSIM; when None and a chart is given, the chart's
        image (0 glass ... 1 chrome) is used.
    chart : USAFChart, optional
        The chart the map was scanned from (same pixel grid), for the resolved element.
    levels : (low, high), optional
        Counts mapped to 0 and 1 before MSE/SSIM and used for the resolved
        element (paper setup: 137.5 and 214.5 counts). See the module docstring.
    pixel_size_um : float
        Scan step, µm (paper: 5).
    sigmas_um : list of float
        PSF sigmas to restore with, µm (default 15-60 in 2.5 µm steps).
    method : str
        A registered method that takes a PSF, by name or alias
        (``"richardson_lucy"``/``"rl"``, ``"wiener"``, ``"fista"``, or the user's).
    num_iter, acceleration, balance, lam, ...
        The methods' parameters (ranges and sliders from their
        declarations). This widget's defaults: ``num_iter=50`` and
        ``acceleration=True`` (50 accelerated Richardson-Lucy iterations
        reach what ~300 plain ones do).
    selected_sigma_um : float, optional
        The sigma whose restored image is shown (snapped to the nearest
        sweep sigma). Until it is restored, and when ``None``, the latest
        restored sigma is shown (``shown_sigma_um``).
    colormap : str
        Colormap of the images (``viridis``, ``magma``, ``gray``, ``hot``).

    Attributes
    ----------
    results : SweepResults
        Metrics and images of every sigma restored so far.
    progress : float
        0-1 while the sweep runs, 1 when done.

    Examples
    --------
    >>> from superres_widgets.xrf import usaf1951, simulate_scan
    >>> chart = usaf1951(5.0, groups=[3])
    >>> scan = simulate_scan(usaf1951(5.0, groups=[3]).image, 32.5, 5.0, truth_pixel_um=5.0, rng=0)
    >>> sweep = PSFSweep(image=scan.counts, chart=chart, sigmas_um=[25, 32.5, 40]).wait()
    >>> sweep.results.sigma_um.tolist()
    [25.0, 32.5, 40.0]
    """

    _esm = bundle_path("psf_sweep")

    # inputs kept in Python (the browser gets a float32 display copy, ``_raw``)
    image = traitlets.Any(None, allow_none=True)
    reference = traitlets.Any(None, allow_none=True)
    chart = traitlets.Instance(USAFChart, allow_none=True)
    levels = traitlets.Any(None, allow_none=True)

    pixel_size_um = traitlets.Float(5.0).tag(sync=True)
    sigmas_um = FloatList(DEFAULT_SIGMAS_UM).tag(sync=True)
    selected_sigma_um = traitlets.Float(None, allow_none=True).tag(sync=True)
    colormap = traitlets.Unicode("viridis").tag(sync=True)

    # outputs
    progress = traitlets.Float(0.0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    current_sigma_um = traitlets.Float(None, allow_none=True).tag(sync=True)
    done_sigmas = traitlets.List(traitlets.Float(), []).tag(sync=True)
    shown_sigma_um = traitlets.Float(None, allow_none=True).tag(sync=True)
    selected_metrics = traitlets.Dict({}).tag(sync=True)
    raw_metrics = traitlets.Dict({}).tag(sync=True)
    best = traitlets.Dict({}).tag(sync=True)
    seconds_per_sigma = traitlets.Float(0.0).tag(sync=True)

    # display copies (binary buffers)
    _raw = ArrayTrait(dtype=np.float32, ndim=2)
    _restored = ArrayTrait(dtype=np.float32, ndim=2)
    _thumbs = ArrayTrait(dtype=np.uint8, ndim=3)
    _thumb_sigmas = traitlets.List(traitlets.Float(), []).tag(sync=True)
    _range = traitlets.List([0.0, 1.0]).tag(sync=True)

    _PSF_FREE_METHODS = False  # a sweep over the PSF sigma needs a method that takes a PSF
    _PARAMETER_DEFAULTS = {"num_iter": 50, "acceleration": True}
    _LIMITS = {"pixel_size_um": (1e-3, 1e4)}
    _validate_limits = traitlets.validate(*_LIMITS)(MethodWidget._validate_limits)

    def __init__(self, **kwargs):
        self._cache: dict[float, _Entry] = {}
        self._cache_key = None
        self._inputs_version = 0
        self._inputs_dirty = True
        self._init_bokeh_panel()
        self._syncing_tap = False
        self._t_start = 0.0
        self._build_plots()
        with self._batch():
            super().__init__(**kwargs)
            self._observe_method_parameters(self._on_param)

    # -- validation -----------------------------------------------------------------
    @traitlets.validate("image")
    def _validate_image(self, proposal):
        value = proposal["value"]
        if value is None:
            return None
        img = self._as_image(value)
        self._check_shapes(image=img)
        return img

    @staticmethod
    def _as_image(value):
        try:
            img = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"image must be a 2-D numeric array, got {type(value).__name__}") from None
        if img.ndim != 2 or min(img.shape) < 3:
            raise ValueError(f"image must be a 2-D array of at least 3 x 3 pixels, got shape {img.shape}")
        if np.isinf(img).any():
            raise ValueError("image contains inf (mark unmeasured pixels as NaN: they are masked)")
        if np.isnan(img).all():
            raise ValueError("image: every pixel is NaN (masked)")
        return img

    @traitlets.validate("reference")
    def _validate_reference(self, proposal):
        value = proposal["value"]
        if value is None:
            return None
        ref = np.array(value, dtype=np.float64)
        if ref.ndim != 2 or not np.all(np.isfinite(ref)):
            raise ValueError(f"reference must be a finite 2-D array, got shape {ref.shape}")
        self._check_shapes(reference=ref)
        return ref

    @traitlets.validate("chart")
    def _validate_chart(self, proposal):
        if proposal["value"] is not None:
            self._check_shapes(chart=proposal["value"])
        return proposal["value"]

    @traitlets.validate("levels")
    def _validate_levels(self, proposal):
        value = proposal["value"]
        if value is None:
            return None
        try:
            low, high = (float(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"levels must be (low, high) counts, got {value!r}") from None
        if not (math.isfinite(low) and math.isfinite(high)) or high == low:
            raise ValueError(f"levels must be two different finite numbers, got {value!r}")
        return (low, high)

    @traitlets.validate("sigmas_um")
    def _validate_sigmas(self, proposal):
        values = list(proposal["value"])
        if not values:
            raise ValueError("sigmas_um must contain at least one sigma")
        bad = [v for v in values if not (math.isfinite(v) and v > 0)]
        if bad:
            raise ValueError(f"sigmas_um must be finite and > 0 µm, got {bad}")
        return sorted(set(round(float(v), 9) for v in values))

    @traitlets.validate("colormap")
    def _validate_colormap(self, proposal):
        if proposal["value"] not in _COLORMAPS:
            raise ValueError(f"colormap must be one of {_COLORMAPS}, got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("selected_sigma_um")
    def _validate_selected(self, proposal):
        value = proposal["value"]
        if value is None or not self.sigmas_um:
            return value
        if not math.isfinite(value):
            return self.selected_sigma_um
        return min(self.sigmas_um, key=lambda s: abs(s - value))  # snap to the sweep

    _UNSET = object()

    def _check_shapes(self, image=_UNSET, reference=_UNSET, chart=_UNSET):
        """Image, reference and chart must share one shape (proposed values override current)."""
        image = self.image if image is self._UNSET else image
        reference = self.reference if reference is self._UNSET else reference
        chart = self.chart if chart is self._UNSET else chart
        if image is None:
            return
        shape = image.shape
        hint = "; change them together with set_inputs(image=..., reference=..., chart=...)"
        if reference is not None and reference.shape != shape:
            raise ValueError(f"reference shape {reference.shape} differs from the image shape {shape}{hint}")
        if chart is not None and chart.image.shape != shape:
            raise ValueError(f"chart shape {chart.image.shape} differs from the image shape {shape}{hint}")

    def set_inputs(self, image=None, *, reference=None, chart=None, levels=None) -> PSFSweep:
        """Replace the map and its truth together (a new sweep starts).

        Arguments left as None are cleared, except ``image`` (kept when None).
        """
        img = self._as_image(image) if image is not None else self.image
        ref = None if reference is None else np.array(reference, dtype=np.float64)
        self._check_shapes(image=img, reference=ref, chart=chart)
        with self._batch(), self.hold_trait_notifications():  # validated together, one new sweep
            self.image = img
            self.reference = ref
            self.chart = chart
            self.levels = levels
        return self

    # -- public API -------------------------------------------------------------------
    @property
    def results(self) -> SweepResults:
        """Metrics and images of every sigma restored so far (a consistent snapshot)."""
        with self._state_lock:
            sig = [s for s in self.sigmas_um if s in self._cache]
            entries = [self._cache[s] for s in sig]
            params = self._parameters()
            raw = dict(self.raw_metrics)
        return SweepResults(
            sigma_um=np.array(sig, dtype=float),
            mse=np.array([_num(e.metrics.get("mse")) for e in entries], dtype=float),
            ssim=np.array([_num(e.metrics.get("ssim")) for e in entries], dtype=float),
            lp_per_mm=np.array([_lp(e.metrics, self.chart) for e in entries], dtype=float),
            element=[_label(e.metrics, self.chart) for e in entries],
            seconds=np.array([e.seconds for e in entries], dtype=float),
            complete=len(sig) == len(self.sigmas_um),
            parameters=params,
            raw=raw,
            images={s: e.image for s, e in zip(sig, entries)},
        )

    def restored_image(self, sigma_um: float) -> np.ndarray:
        """The stored restored image (float32, counts) of a sweep sigma (no recompute)."""
        with self._state_lock:
            return self._cache[_match(float(sigma_um), list(self._cache))].image

    def wait(self, timeout: float | None = 600.0) -> PSFSweep:
        """Block until the newest sweep is complete (scripts, tests, notebooks)."""
        return super().wait(timeout)

    # -- computation -----------------------------------------------------------------
    def _parameters(self) -> dict:
        out = method_parameters(self)
        out["pixel_size_um"] = self.pixel_size_um
        out["levels"] = None if self.levels is None else list(self.levels)
        return out

    @traitlets.observe("image", "reference", "chart", "levels")
    def _on_input_change(self, change):
        self._inputs_dirty = True
        self._request_update()

    def _refresh_inputs(self):
        """New map / truth / levels: new display copy, raw metrics; the cache is dropped."""
        self._inputs_dirty = False
        self._inputs_version += 1
        if self.image is None:
            return
        self._range = robust_range(self.image)
        self._raw = self.image.astype(np.float32)
        with self._guard():
            raw = np.nan_to_num(self.image, nan=float(np.nanmean(self.image)))  # masked pixels: the mean
            self.raw_metrics = self._score(raw, self._snapshot_inputs())

    @traitlets.observe("pixel_size_um", "method", "sigmas_um", "negative")
    def _on_param(self, change):
        if change["name"] == "sigmas_um" and self.selected_sigma_um is not None:
            self.selected_sigma_um = self.selected_sigma_um  # re-snap to the new list
        self._request_update()

    def _snapshot_inputs(self):
        """(reference, chart, levels) for scoring; the chart's image is the default reference."""
        reference = self.reference
        if reference is None and self.chart is not None:
            reference = self.chart.image
        levels = self.levels
        if levels is None and self.chart is None and self.image is not None:
            lo, hi = np.nanpercentile(self.image, [0.5, 99.5])
            levels = (float(lo), float(hi)) if hi > lo else None
        return reference, self.chart, levels

    @staticmethod
    def _score(img, inputs) -> dict:
        reference, chart, levels = inputs
        if reference is None and chart is None:
            return {}
        out = score_restoration(img, reference, chart=chart, levels=levels).as_dict()
        if chart is not None and out["element"] is None:  # not even the coarsest element
            out["element"], out["lp_per_mm"] = "none", 0.0
        return out

    def _update(self):
        with self._state_lock:
            if self._inputs_dirty:
                self._refresh_inputs()
            if self.image is None:
                return
            image, sigmas, pixel = self.image, list(self.sigmas_um), self.pixel_size_um
            params = method_parameters(self)
            inputs = self._snapshot_inputs()
            policy = self.negative_policy()
            text = self.data_notice(image)
            self._notices.pop("data", None)
            if text:
                self._notices["data"] = text
            self.notice = "; ".join(self._notices.values())
            key = (tuple(sorted(params.items())), pixel, self._inputs_version, policy)
            if key != self._cache_key:
                self._cache = {}
                self._cache_key = key
            else:  # same method and data: keep the sigmas still in the sweep
                self._cache = {s: e for s, e in self._cache.items() if s in sigmas}
            todo = [s for s in sigmas if s not in self._cache]

            def compute(job):
                return self._sweep(job, image, sigmas, todo, pixel, params, inputs, policy)

            self._run_in_background(compute, self._finish)  # earlier sweeps are now stale
            self._t_start = time.perf_counter()
            with self.hold_sync():
                self.progress = 1.0 - len(todo) / len(sigmas)
                self.current_sigma_um = None
                self.status = f"restoring {len(todo)} of {len(sigmas)} sigmas…" if todo else "done"
            self._publish()

    def _sweep(self, job, image, sigmas, todo, pixel, params, inputs, policy):
        """Worker thread: restore every sigma of ``todo`` in turn, publishing each."""
        n = len(sigmas)
        last = [0.0]
        try:
            for sigma in todo:
                if not job.publish(self._start_sigma, sigma, n):
                    return None

                def progress(fraction):
                    now = time.perf_counter()
                    if now - last[0] < _PROGRESS_INTERVAL_S and fraction < 1:
                        return
                    last[0] = now
                    job.publish(self._set_progress, fraction, n)

                t0 = time.perf_counter()
                out = restore(image, sigma, pixel, params, cancel=job, progress=progress, negative=policy)
                seconds = time.perf_counter() - t0
                if not np.all(np.isfinite(out)):
                    raise ValueError(f"the restoration at sigma {sigma:g} µm produced non-finite values")
                entry = _Entry(out.astype(np.float32), self._score(out, inputs), seconds)
                if not job.publish(self._add_entry, sigma, entry, n):
                    return None
        except DeconvolutionCancelled:
            raise
        except Exception:
            job.publish(self._stopped)
            raise
        return len(todo)

    # (the _start_sigma ... _finish helpers run under the state lock, newest job only)
    def _start_sigma(self, sigma, n):
        self.current_sigma_um = sigma
        self.status = f"σ = {sigma:g} µm ({len(self._cache) + 1} of {n})"

    def _set_progress(self, fraction, n):
        self.progress = min(1.0, (len(self._cache) + fraction) / n)

    def _add_entry(self, sigma, entry, n):
        self._cache[sigma] = entry
        self.progress = len(self._cache) / n
        self._publish()

    def _stopped(self):
        with self.hold_sync():
            self.current_sigma_um = None
            self.status = "stopped by an error"

    def _finish(self, _value):
        total = time.perf_counter() - self._t_start
        with self.hold_sync():
            self.progress = 1.0
            self.current_sigma_um = None
            self.status = f"{len(self._cache)} sigmas restored ({total:.1f} s)"

    # -- publishing (called with the state lock held) ----------------------------------------
    def _publish(self):
        """Push the cache to the plots, the thumbnails and the shown image."""
        res = self.results
        best = res.best()
        vrange = self._range
        with self._plot_lock:
            self._update_plots(res, best)
        with self.hold_sync():
            self.done_sigmas = res.sigma_um.tolist()
            self.best = best
            self.seconds_per_sigma = float(np.mean(res.seconds)) if res.seconds.size else 0.0
            if res.sigma_um.size:
                for s in res.sigma_um:
                    entry = self._cache[s]
                    if entry.thumb is None:
                        entry.thumb = thumbnail(entry.image, vrange)
                self._thumbs = np.stack([self._cache[s].thumb for s in res.sigma_um])
            else:
                self._thumbs = None
            self._thumb_sigmas = res.sigma_um.tolist()
            self._update_shown()

    @traitlets.observe("selected_sigma_um")
    def _on_select(self, change):
        with self._state_lock:
            self._update_shown()
        self._sync_tap_selection()

    def _update_shown(self):
        """Show the selected sigma; until it is restored (or with none selected) the latest one."""
        sel = self.selected_sigma_um
        target = None
        if sel is not None and sel in self._cache:
            target = sel
        elif self._cache:
            target = list(self._cache)[-1]  # insertion order = order of completion
        if target is None:
            if self.shown_sigma_um is not None:
                self._restored = None
                self.shown_sigma_um = None
                self.selected_metrics = {}
            return
        entry = self._cache[target]
        if self.shown_sigma_um == target and self._restored is entry.image:
            return
        with self.hold_sync():
            self._restored = entry.image
            self.shown_sigma_um = target
            m = dict(entry.metrics)
            m["sigma_um"] = target
            m["seconds"] = entry.seconds
            self.selected_metrics = m

    # -- Bokeh plots (Fig. 8) ---------------------------------------------------------------
    def _build_plots(self):
        from bokeh.layouts import row
        from bokeh.models import ColumnDataSource, HoverTool, Range1d, Span, TapTool
        from bokeh.plotting import figure

        self._src = ColumnDataSource(dict(sigma=[], mse=[], ssim=[], lp=[], element=[]))
        self._best_src = {k: ColumnDataSource(dict(x=[], y=[])) for k in ("mse", "ssim", "lp")}
        self._raw_spans = {}
        self._sel_spans = []
        self._figures = {}
        self._tap_renderers = []
        specs = [("mse", "MSE", "MSE (lower is better)", "#1f77b4"),
                 ("ssim", "SSIM", "SSIM (higher is better)", "#2ca02c"),
                 ("lp", "Resolution", "resolved lp/mm", "#9467bd")]
        for key, title, ylabel, color in specs:
            # explicit ranges, updated as results arrive: an empty plot with data ranges makes BokehJS
            # warn "could not set initial ranges"
            f = figure(title=title, width=330, height=260, x_axis_label="PSF σ (µm)", y_axis_label=ylabel,
                       tools="pan,wheel_zoom,box_zoom,reset,save", toolbar_location="above",
                       x_range=Range1d(0.0, 1.0), y_range=Range1d(0.0, 1.0))
            f.toolbar.autohide = True
            f.line("sigma", key, source=self._src, line_width=2, color=color, nonselection_line_alpha=1.0)
            r = f.scatter("sigma", key, source=self._src, size=9, color=color,
                          selection_color="#d62728", nonselection_alpha=0.6)
            self._tap_renderers.append(r)
            f.add_tools(TapTool(renderers=[r]))
            f.add_tools(HoverTool(renderers=[r], tooltips=[("σ", "@sigma{0.00} µm"), ("MSE", "@mse{0.0000}"),
                                                         ("SSIM", "@ssim{0.0000}"),
                                                         ("resolved", "@element (@lp{0.0} lp/mm)")]))
            f.scatter("x", "y", source=self._best_src[key], marker="star", size=20, color="#ff7f0e",
                      line_color="#7f3f00")
            span = Span(location=None, dimension="width", line_dash="dashed", line_color="#7f7f7f",
                        line_width=1.5)
            f.add_layout(span)
            self._raw_spans[key] = span
            sel = Span(location=None, dimension="height", line_color="#d62728", line_alpha=0.5,
                       line_width=2)
            f.add_layout(sel)
            self._sel_spans.append(sel)
            self._figures[key] = f
        self._plots_layout = row(*self._figures.values())
        self._src.selected.on_change("indices", self._on_tap)

    def _fit_ranges(self, res: SweepResults):
        """Plot ranges that hold the sweep's sigmas and every finite value (with the raw map's line)."""
        sig = [float(s) for s in (self.sigmas_um or [])] or [0.0, 1.0]
        lo, hi = min(sig), max(sig)
        pad = 0.05 * (hi - lo) if hi > lo else 1.0
        raw = self.raw_metrics or {}
        for key, values in (("mse", res.mse), ("ssim", res.ssim), ("lp", res.lp_per_mm)):
            f = self._figures[key]
            f.x_range.start, f.x_range.end = lo - pad, hi + pad
            vals = [float(v) for v in values if np.isfinite(v)]
            extra = raw.get({"lp": "lp_per_mm"}.get(key, key))
            if extra is not None and np.isfinite(extra):
                vals.append(float(extra))
            if vals:
                a, b = min(vals), max(vals)
                d = 0.08 * (b - a) if b > a else max(abs(a) * 0.1, 1e-3)
                f.y_range.start, f.y_range.end = a - d, b + d

    def _update_plots(self, res: SweepResults, best: dict):
        self._src.data = dict(sigma=res.sigma_um, mse=res.mse, ssim=res.ssim, lp=res.lp_per_mm,
                              element=list(res.element))
        self._fit_ranges(res)
        for key, values, pick in (("mse", res.mse, [best["mse"]]), ("ssim", res.ssim, [best["ssim"]]),
                                  ("lp", res.lp_per_mm, best["lp_per_mm"])):
            xs = [s for s in pick if s is not None]
            ys = [float(values[int(np.flatnonzero(res.sigma_um == s)[0])]) for s in xs]
            self._best_src[key].data = dict(x=xs, y=ys)
        raw = self.raw_metrics or {}
        raw_lp = raw.get("lp_per_mm")
        if self.chart is not None and raw_lp is None:
            raw_lp = 0.0
        for key, v in (("mse", raw.get("mse")), ("ssim", raw.get("ssim")), ("lp", raw_lp)):
            self._raw_spans[key].location = None if v is None else float(v)
        fmt = lambda v: "–" if v is None else f"{v:g} µm"  # noqa: E731
        lp = best["lp_per_mm"]
        span = "–" if not lp else (f"{lp[0]:g} µm" if len(lp) == 1 else f"{lp[0]:g}–{lp[-1]:g} µm")
        self._figures["mse"].title.text = f"MSE: best σ = {fmt(best['mse'])}"
        self._figures["ssim"].title.text = f"SSIM: best σ = {fmt(best['ssim'])}"
        self._figures["lp"].title.text = f"Resolution: best σ = {span}"
        self._sync_tap_selection(locked=True)

    def _on_tap(self, attr, old, new):
        """A point clicked in a Bokeh plot (jupyter_bokeh syncs ``selected.indices``)."""
        if self._syncing_tap or not new:
            return
        sig = list(self._src.data.get("sigma", []))
        i = int(new[0])
        if 0 <= i < len(sig):
            self.selected_sigma_um = float(sig[i])

    def _sync_tap_selection(self, locked: bool = False):
        """Mirror ``selected_sigma_um`` into the Bokeh selection and marker lines."""
        def apply():
            sel = self.selected_sigma_um
            sig = [float(s) for s in self._src.data.get("sigma", [])]
            idx = [i for i, s in enumerate(sig) if sel is not None and abs(s - sel) < 1e-6]
            self._syncing_tap = True
            try:
                if list(self._src.selected.indices) != idx:
                    self._src.selected.indices = idx
                loc = None if sel is None else float(sel)
                for span in self._sel_spans:
                    if span.location != loc:
                        span.location = loc
            finally:
                self._syncing_tap = False

        if locked:
            apply()
        else:
            with self._plot_lock:
                apply()
