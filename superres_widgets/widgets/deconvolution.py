"""DeconvolutionExplorer: live before/after restoration of a micro-XRF map.

Seed 001 (Yang, Zhang & Cheng 2022) Fig. 5-7 made interactive. Units: the
map is in counts, lengths in µm (``pixel_size_um`` converts the PSF sigma
to pixels). The PSF is the paper's Gaussian (``sigma_u``, ``sigma_v``,
``rho``), built by :func:`superres_widgets.xrf.gaussian_psf`.

Every parameter change starts a restoration in the background (the widget
base's lifecycle, :mod:`superres_widgets.widgets._lifecycle`): the newest
parameters always win, a stale run is cancelled through the algorithms'
``cancel`` hook and its frames and errors are dropped; an error belongs to
the parameters that caused it. Iterative methods stream intermediate frames
(throttled) with their progress. The view state that needs no computation
-- the swipe curtain position, zoom and pan, the line profile -- lives only
in the browser and sends nothing to the kernel.

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

from ..xrf import PSF_PARAMETERS, USAFChart, gaussian_psf, kernel_to_sigma, score_restoration
from ._base import bundle_path
from ._restoration import MethodWidget, restore_with_psf
from .serializers import ArrayTrait

__all__ = ["DeconvolutionExplorer"]

_PSF_PARAMETERS = ("psf_sigma_um", "psf_sigma_v_um", "psf_rho")
_FRAME_INTERVAL_S = 0.1  # at most ~10 intermediate frames per second
_FRAME_YIELD_S = 0.02  # pause after sending a frame so it leaves the kernel at once


class DeconvolutionExplorer(MethodWidget):
    """Restore a map with Wiener, Richardson-Lucy, FISTA, blind L0 (or a registered method), live.

    Parameters
    ----------
    image : (M, N) array_like
        The measured map (counts).
    pixel_size_um : float
        Scan step in µm (paper: 5).
    reference : (M, N) array_like, optional
        Ground truth (e.g. the USAF chart) for MSE and SSIM.
    chart : USAFChart, optional
        The chart the map was scanned from: the resolved element is shown.
    method : str
        A registered method's name or alias: ``"wiener"``, ``"richardson_lucy"``
        (``"rl"``), ``"fista"``, ``"blind_l0"`` (``"blind"``), or one of the
        user's (:func:`superres_widgets.xrf.register_method`).
    psf_sigma_um, psf_sigma_v_um, psf_rho : float
        Gaussian PSF (``psf_sigma_v_um=None``: isotropic), for the methods
        that need one.
    balance, num_iter, acceleration, lam, kernel_size, ...
        The methods' parameters (one trait each; ranges, defaults and
        sliders from their declarations): Wiener's regularisation weight,
        the iterations of Richardson-Lucy / FISTA, Biggs-Andrews
        acceleration of Richardson-Lucy, FISTA's l1 weight (counts), the
        blind L0 kernel size (pixels, odd).
    mode : {"swipe", "side", "diff"}
        Comparison view; ``colormap`` and ``contrast`` (percentiles) style it.

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
    pixel_size_um = traitlets.Float(5.0).tag(sync=True)
    psf_sigma_v_um = traitlets.Float(None, allow_none=True).tag(sync=True)

    mode = traitlets.Unicode("swipe").tag(sync=True)
    colormap = traitlets.Unicode("viridis").tag(sync=True)
    contrast = traitlets.List([0.5, 99.5]).tag(sync=True)

    # outputs
    progress = traitlets.Float(0.0).tag(sync=True)
    iteration = traitlets.Int(0).tag(sync=True)
    frame_id = traitlets.Int(0).tag(sync=True)
    final = traitlets.Bool(False).tag(sync=True)
    compute_ms = traitlets.Float(0.0).tag(sync=True)
    metrics = traitlets.Dict({}).tag(sync=True)
    raw_metrics = traitlets.Dict({}).tag(sync=True)
    estimated_sigma_um = traitlets.Float(None, allow_none=True).tag(sync=True)

    _LIMITS = {"pixel_size_um": (1e-3, 1e4)}
    _validate_limits = traitlets.validate(*_LIMITS)(MethodWidget._validate_limits)

    def __init__(self, image=None, *, reference=None, chart: USAFChart | None = None, **kwargs):
        self._reference = None
        self._chart = None
        self._restored = None
        self._psf_cache: tuple | None = None
        if image is not None:
            kwargs["image"] = image
        if "pixel_size_um" in kwargs and kwargs["pixel_size_um"] is None:
            raise ValueError(
                "pixel_size_um is None: the map's file carries no pixel size; pass the scan step, "
                "e.g. DeconvolutionExplorer(image=m.data, pixel_size_um=5.0)"
            )
        with self._batch():
            super().__init__(**kwargs)
            self.observe(self._on_param, names=self.method_parameter_names())
            self.set_reference(reference, chart=chart)

    # -- validation -----------------------------------------------------------
    @traitlets.validate("psf_sigma_v_um")
    def _validate_sigma_v(self, proposal):
        value = proposal["value"]
        if value is None:
            self._notices.pop("psf_sigma_v_um", None)
            return None
        value, notice = PSF_PARAMETERS["psf_sigma_um"].clamp(float(value))
        if notice:
            self._notices["psf_sigma_v_um"] = notice.replace("psf_sigma_um", "psf_sigma_v_um")
        else:
            self._notices.pop("psf_sigma_v_um", None)
        self.notice = "; ".join(self._notices.values())
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
        if not np.all(np.isfinite(img)):
            raise traitlets.TraitError("image contains NaN or inf")
        return img

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

    @property
    def restored(self) -> np.ndarray | None:
        """The latest complete restoration (float64, counts), or None."""
        return self._restored

    @property
    def psf(self) -> np.ndarray:
        """The current Gaussian PSF (unit sum, centre at ``shape // 2``)."""
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
            out.update({name: getattr(self, name) for name in _PSF_PARAMETERS})
        out.update(self.method_values())
        if not self.current_method.needs_psf and self.estimated_sigma_um is not None:
            out["estimated_sigma_um"] = self.estimated_sigma_um
        return out

    # -- computation --------------------------------------------------------------
    @traitlets.observe("image", "pixel_size_um", "method", "psf_sigma_v_um")
    def _on_param(self, change):
        if change["name"] == "image":
            self._restored = None
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
            lo, hi = np.percentile(raw, [0.5, 99.5])
            levels = (float(lo), float(hi))
        return score_restoration(img, reference, chart=chart, levels=levels).as_dict()

    def _update(self):
        if self.image is None:
            return
        method = self.current_method
        try:
            psf = self.psf if method.needs_psf else None
        except (ValueError, MemoryError) as exc:
            self._fail(exc)
            return
        params = {"method": method.name, **self.method_values()}
        image, pixel = self.image, self.pixel_size_um
        scoring = (self._reference, self._chart)

        def compute(job):
            return self._restore(job, method, image, psf, params, pixel, scoring)

        with self._state_lock:
            self.progress = 0.0
            self._run_in_background(compute, self._apply_result)

    def _restore(self, job, method, image, psf, params, pixel, scoring):
        """Run in a worker thread. Streams frames; returns (restored, info)."""
        t0 = time.perf_counter()
        last = [0.0]
        n_total = method.total_iterations(params) or 1

        def frame(iteration, estimate):
            if job.cancelled() or not method.streams:
                return
            now = time.perf_counter()
            first = last[0] == 0.0
            if iteration < n_total and (first or now - last[0] >= _FRAME_INTERVAL_S):
                last[0] = now
                img = getattr(estimate, "image", estimate)
                if job.publish(self._show_frame, img, iteration, min(1.0, iteration / n_total), False):
                    # let the kernel's IOPub thread ship the frame now, before the
                    # next iterations take the GIL and both cores (<= 10 per second)
                    time.sleep(_FRAME_YIELD_S)

        img = np.asarray(image, dtype=np.float64)
        result = restore_with_psf(img, psf, params, cancel=job, callback=frame if method.streams else None,
                                  dtype=np.float32)
        out = np.asarray(getattr(result, "image", result), dtype=np.float64)
        if not np.all(np.isfinite(out)):
            raise ValueError("the restoration produced non-finite values")
        info = {"seconds": time.perf_counter() - t0, "iterations": n_total}
        kernel = getattr(result, "kernel", None)
        if kernel is not None:  # a method that estimates the PSF
            sigma = kernel_to_sigma(kernel, pixel_size_um=pixel)
            info["estimated_sigma_um"] = float(np.mean(sigma)) if np.ndim(sigma) else float(sigma)
        reference, chart = scoring
        try:
            info["metrics"] = (self._score(out, image, reference, chart)
                               if (reference is not None or chart is not None) else {})
        except ValueError as exc:
            info["metrics"] = {"error": str(exc)}
        return out, info

    def _show_frame(self, img, iteration, progress, final):
        # (called under the state lock) metadata first, pixels last: when the
        # browser receives the pixels it already knows which frame they are
        self.iteration = int(iteration)
        self.progress = float(progress)
        self.final = final
        self.frame_id += 1
        self.restored_view = np.asarray(img, dtype=np.float32)

    def _apply_result(self, payload):
        out, info = payload
        self._show_frame(out, info["iterations"], 1.0, True)
        self._restored = out
        self.compute_ms = 1000.0 * info["seconds"]
        self.estimated_sigma_um = info.get("estimated_sigma_um")
        self.metrics = info["metrics"]
