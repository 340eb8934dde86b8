"""DeconvolutionExplorer: live before/after restoration of a micro-XRF map.

Seed 001 (Yang, Zhang & Cheng 2022) Fig. 5-7 made interactive. Units: the
map is in counts, lengths in µm (``pixel_size_um`` converts the PSF sigma
to pixels). The PSF is the paper's Gaussian (``sigma_u``, ``sigma_v``,
``rho``), built by :func:`superres_widgets.xrf.gaussian_psf`.

Every parameter change starts a restoration in a background thread
(:class:`~superres_widgets.widgets._worker.LatestRunner`): the newest
parameters always win, a stale run is cancelled through the algorithms'
``cancel`` hook and its frames are dropped. Iterative methods stream
intermediate frames (throttled) with their progress. The view state that
needs no computation -- the swipe curtain position, zoom and pan, the line
profile -- lives only in the browser and sends nothing to the kernel.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import traitlets

from ..xrf import DeconvolutionCancelled, USAFChart, blind_l0, gaussian_psf, kernel_to_sigma, score_restoration
from ._restoration import METHOD_PARAMETERS as NON_BLIND_PARAMETERS
from ._restoration import METHODS as NON_BLIND_METHODS
from ._restoration import restore_with_psf
from ._base import SuperresWidget, bundle_path
from ._worker import LatestRunner
from .serializers import ArrayTrait

__all__ = ["DeconvolutionExplorer", "METHODS"]

METHODS = NON_BLIND_METHODS + ("blind_l0",)

_PSF_PARAMETERS = ("psf_sigma_um", "psf_sigma_v_um", "psf_rho")

#: parameters each method uses (the front-end shows only these): the PSF plus
#: the non-blind methods' own (shared with PSFSweep/ElementStack); blind L0
#: estimates its kernel
METHOD_PARAMETERS = {m: _PSF_PARAMETERS + NON_BLIND_PARAMETERS[m] for m in NON_BLIND_METHODS}
METHOD_PARAMETERS["blind_l0"] = ("kernel_size",)

_FRAME_INTERVAL_S = 0.1  # at most ~10 intermediate frames per second
_FRAME_YIELD_S = 0.02  # pause after sending a frame so it leaves the kernel at once


class DeconvolutionExplorer(SuperresWidget):
    """Restore a map with Wiener, Richardson-Lucy, FISTA or blind L0, live.

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
    method : {"wiener", "richardson_lucy", "fista", "blind_l0"}
    psf_sigma_um, psf_sigma_v_um, psf_rho : float
        Gaussian PSF (``psf_sigma_v_um=None``: isotropic).
    balance : float
        Wiener regularisation weight (Laplacian prior).
    num_iter : int
        Iterations of Richardson-Lucy / FISTA.
    acceleration : bool
        Biggs-Andrews acceleration of Richardson-Lucy.
    lam : float
        FISTA l1 weight (counts).
    kernel_size : int
        Blind L0 kernel size in pixels (odd).
    mode : {"swipe", "side", "diff"}
        Comparison view; ``colormap`` and ``contrast`` (percentiles) style it.

    Examples
    --------
    >>> import numpy as np
    >>> w = DeconvolutionExplorer(image=np.random.default_rng(0).poisson(50, (64, 64)),
    ...                           pixel_size_um=5, method="wiener", psf_sigma_um=10).wait()
    >>> w.restored.shape
    (64, 64)
    """

    _esm = bundle_path("deconvolution")

    image = ArrayTrait(dtype=np.float32, ndim=2)
    restored_view = ArrayTrait(dtype=np.float32, ndim=2)
    pixel_size_um = traitlets.Float(5.0).tag(sync=True)

    method = traitlets.Unicode("richardson_lucy").tag(sync=True)
    psf_sigma_um = traitlets.Float(32.5).tag(sync=True)
    psf_sigma_v_um = traitlets.Float(None, allow_none=True).tag(sync=True)
    psf_rho = traitlets.Float(0.0).tag(sync=True)
    balance = traitlets.Float(0.03).tag(sync=True)
    num_iter = traitlets.Int(30).tag(sync=True)
    acceleration = traitlets.Bool(False).tag(sync=True)
    lam = traitlets.Float(1.0).tag(sync=True)
    kernel_size = traitlets.Int(41).tag(sync=True)

    mode = traitlets.Unicode("swipe").tag(sync=True)
    colormap = traitlets.Unicode("viridis").tag(sync=True)
    contrast = traitlets.List([0.5, 99.5]).tag(sync=True)

    # outputs
    progress = traitlets.Float(0.0).tag(sync=True)
    iteration = traitlets.Int(0).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    frame_id = traitlets.Int(0).tag(sync=True)
    final = traitlets.Bool(False).tag(sync=True)
    compute_ms = traitlets.Float(0.0).tag(sync=True)
    metrics = traitlets.Dict({}).tag(sync=True)
    raw_metrics = traitlets.Dict({}).tag(sync=True)
    estimated_sigma_um = traitlets.Float(None, allow_none=True).tag(sync=True)
    method_parameters = traitlets.Dict({}).tag(sync=True)

    _LIMITS = {
        "pixel_size_um": (1e-3, 1e4),
        "psf_sigma_um": (1e-3, 1e5),
        "psf_rho": (-0.95, 0.95),
        "balance": (0.0, 1e3),
        "num_iter": (1, 2000),
        "lam": (0.0, 1e6),
    }
    _validate_limits = traitlets.validate(*_LIMITS)(SuperresWidget._validate_limits)

    def __init__(self, image=None, *, reference=None, chart: USAFChart | None = None, **kwargs):
        self._reference = None
        self._chart = None
        self._restored = None
        self._psf_cache: tuple | None = None
        self._apply_lock = threading.Lock()
        self._generation = 0
        self._runner = LatestRunner(self._apply_result, self._apply_error)
        if image is not None:
            kwargs["image"] = image
        if "pixel_size_um" in kwargs and kwargs["pixel_size_um"] is None:
            raise ValueError(
                "pixel_size_um is None: the map's file carries no pixel size; pass the scan step, "
                "e.g. DeconvolutionExplorer(image=m.data, pixel_size_um=5.0)"
            )
        super().__init__(method_parameters={k: list(v) for k, v in METHOD_PARAMETERS.items()}, **kwargs)
        self.set_reference(reference, chart=chart, _submit=False)
        self._submit()

    # -- validation -----------------------------------------------------------
    @traitlets.validate("method")
    def _validate_method(self, proposal):
        value = proposal["value"]
        if value not in METHODS:
            self._notices["method"] = f"method={value!r} is not one of {METHODS}; kept {self.method!r}"
            self.notice = "; ".join(self._notices.values())
            return self.method
        self._notices.pop("method", None)
        self.notice = "; ".join(self._notices.values())
        return value

    @traitlets.validate("psf_sigma_v_um")
    def _validate_sigma_v(self, proposal):
        value = proposal["value"]
        return None if value is None else self._clamp("psf_sigma_v_um", float(value), 1e-3, 1e5)

    @traitlets.validate("kernel_size")
    def _validate_kernel_size(self, proposal):
        value = self._clamp("kernel_size", int(proposal["value"]), 3, 201)
        return value if value % 2 else value + 1  # odd, centred kernel

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
    def set_reference(self, reference=None, *, chart: USAFChart | None = None, _submit: bool = True):
        """Set the ground truth (for MSE/SSIM) and/or the USAF chart (resolved element)."""
        if reference is not None:
            reference = np.asarray(reference, dtype=np.float64)
            if self.image is not None and reference.shape != self.image.shape:
                raise ValueError(f"reference shape {reference.shape} differs from the image shape {self.image.shape}")
        if chart is not None and self.image is not None and chart.image.shape != self.image.shape:
            raise ValueError(f"chart shape {chart.image.shape} differs from the image shape {self.image.shape}")
        self._reference, self._chart = reference, chart
        self._score_raw()
        if _submit:
            self._submit()

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
        for name in METHOD_PARAMETERS[self.method]:
            out[name] = getattr(self, name)
        if self.method == "blind_l0" and self.estimated_sigma_um is not None:
            out["estimated_sigma_um"] = self.estimated_sigma_um
        return out

    def wait(self, timeout: float | None = 300.0) -> "DeconvolutionExplorer":
        """Block until the newest restoration has been applied (scripts, tests, notebooks)."""
        if not self._runner.wait(timeout):
            raise TimeoutError(f"restoration not finished after {timeout} s")
        return self

    # -- computation --------------------------------------------------------------
    @traitlets.observe("image", "pixel_size_um", "method", "psf_sigma_um", "psf_sigma_v_um", "psf_rho",
                       "balance", "num_iter", "acceleration", "lam", "kernel_size")
    def _on_param(self, change):
        if change["name"] == "image":
            self._restored = None
            self._score_raw()
        self._submit()

    def _score_raw(self):
        if self.image is None or (self._reference is None and self._chart is None):
            self.raw_metrics = {}
            return
        with self._guard():
            self.raw_metrics = self._score(self.image.astype(np.float64))

    def _score(self, img: np.ndarray) -> dict:
        levels = None
        if self._chart is None:  # one scale for raw and restored: the raw map's levels
            lo, hi = np.percentile(self.image, [0.5, 99.5])
            levels = (float(lo), float(hi))
        score = score_restoration(img, self._reference, chart=self._chart, levels=levels)
        return score.as_dict()

    def _submit(self):
        if self.image is None:
            return
        try:
            psf = self.psf if self.method != "blind_l0" else None
        except (ValueError, MemoryError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.busy = False
            return
        params = {name: getattr(self, name) for name in METHOD_PARAMETERS[self.method]}
        method, image = self.method, self.image
        self._generation += 1
        generation = self._generation
        self.busy = True
        self.progress = 0.0

        def compute(job):
            return self._restore(job, generation, method, image, psf, params)

        self._runner.submit(compute)

    def _restore(self, job, generation, method, image, psf, params):
        """Run in the worker thread. Streams frames; returns (restored, info)."""
        t0 = time.perf_counter()
        last = [0.0]
        n_total = params.get("num_iter", 1)

        def frame(iteration, estimate):
            if job.cancelled():
                return
            now = time.perf_counter()
            first = last[0] == 0.0
            if iteration < n_total and (first or now - last[0] >= _FRAME_INTERVAL_S):
                last[0] = now
                img = estimate.image if hasattr(estimate, "image") else estimate
                if self._push_frame(generation, img, iteration, min(1.0, iteration / max(n_total, 1)), final=False):
                    # let the kernel's IOPub thread ship the frame now, before the
                    # next iterations take the GIL and both cores (<= 10 per second)
                    time.sleep(_FRAME_YIELD_S)

        info: dict = {}
        img = np.asarray(image, dtype=np.float64)
        if method != "blind_l0":
            out = restore_with_psf(img, psf, {"method": method, **params}, cancel=job, callback=frame,
                                   wiener_dtype=np.float32)
        else:
            n_total = 1
            res = blind_l0(img, params["kernel_size"], cancel=job)
            out = res.image
            sigma = kernel_to_sigma(res.kernel, pixel_size_um=self.pixel_size_um)
            info["estimated_sigma_um"] = float(np.mean(sigma)) if np.ndim(sigma) else float(sigma)
        info["seconds"] = time.perf_counter() - t0
        info["iterations"] = n_total
        return generation, np.asarray(out, dtype=np.float64), info

    def _push_frame(self, generation, img, iteration, progress, final):
        with self._apply_lock:
            if generation != self._generation:
                return False
            # metadata first, pixels last: when the browser receives the pixels
            # it already knows which frame (and iteration) they are
            self.iteration = int(iteration)
            self.progress = float(progress)
            self.final = final
            self.frame_id += 1
            self.restored_view = np.asarray(img, dtype=np.float32)
            return True

    def _apply_result(self, payload):
        generation, out, info = payload
        if not np.all(np.isfinite(out)):
            self._apply_error(ValueError("the restoration produced non-finite values"))
            return
        if not self._push_frame(generation, out, info["iterations"], 1.0, final=True):
            return
        self._restored = out
        self.compute_ms = 1000.0 * info["seconds"]
        self.estimated_sigma_um = info.get("estimated_sigma_um")
        try:
            metrics = self._score(out) if (self._reference is not None or self._chart is not None) else {}
        except ValueError as exc:
            metrics = {"error": str(exc)}
        with self._apply_lock:
            if generation != self._generation:
                return
            self.metrics = metrics
            self.error = ""
            self.busy = False

    def _apply_error(self, exc: BaseException):
        if isinstance(exc, DeconvolutionCancelled):
            return
        self.error = f"{type(exc).__name__}: {exc}"
        self.busy = False
