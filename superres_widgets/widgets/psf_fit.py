r"""PSFFitExplorer: measure the PSF of a micro-XRF map (seed 001, Fig. 3-4).

Two measurements of the paper (Yang, Zhang & Cheng 2022):

* **dot scan** (Fig. 3): the map of a small dot is fitted with the 2-D
  Gaussian ``g = alpha h(u, v) + beta`` by
  :func:`superres_widgets.xrf.fit_point_scan`; the view shows the map with the
  fitted +-1/2/3 sigma confidence ellipses and the residual map
  (data - model, diverging colours, symmetric range), the Bokeh plots the
  horizontal and vertical cuts through the fitted centre (Fig. 3b).
* **knife edge** (Fig. 4): drag a line across a straight edge on the map;
  :func:`superres_widgets.xrf.fit_knife_edge` bins the pixels of a band
  around it by their distance to the (fitted, possibly slanted) edge, fits
  the edge-spread function with an erf and its gradient with the paper's
  Gaussian; the Bokeh plots show the profile with the fitted ESF (Fig. 4b) and
  the gradient with the fitted Gaussian (Fig. 4c).

Conventions
-----------
* ``image[row, col]``; the view's pixel coordinates are ``x = col``,
  ``y = row`` (rows down), pixel centres at integers, so the map spans
  ``[-0.5, cols - 0.5] x [-0.5, rows - 0.5]``.  ``line = [[x0, y0], [x1, y1]]``
  in these coordinates; the profile axis runs from the first point to the
  second.  (:func:`~superres_widgets.xrf.fit_knife_edge` takes ``(row, col)``
  pairs: the widget swaps them.)
* Lengths in micrometres (``*_um``); ``u`` along columns, ``v`` along rows,
  positive ``rho`` tilts the long axis down and to the right (see
  :mod:`superres_widgets.xrf.psf`).  FWHM = 2.355 sigma.
* The **PSF result** (``psf_sigma_um``, ``psf_sigma_u_um``,
  ``psf_sigma_v_um``, ``psf_rho``) is the last successful measurement:
  the dot fit (``psf_sigma_um`` = sqrt(sigma_u sigma_v), the isotropic
  equivalent of equal area), or the knife edge (isotropic; the erf estimate
  by default, the paper's gradient estimate with ``knife_estimate="gradient"``).
  :meth:`PSFFitExplorer.link_to` feeds it into a
  :class:`~superres_widgets.widgets.DeconvolutionExplorer`.
* The dot fit (0.3 s on a 61 x 61 map, 1-3 s on 121 x 121) runs in the
  background (the widget base's lifecycle): the kernel stays responsive,
  ``progress`` follows the least-squares evaluations, a newer input cancels
  a running fit.  The knife edge (~0.05 s) fits inline.  A failed fit shows
  its message in ``error`` (until a later fit succeeds) and keeps the last
  good results.  ``wait()`` blocks until the newest fit is done.
* :meth:`PSFFitExplorer.link_to` sends either the fitted Gaussian
  (``source="gaussian"``) or the measured PSF itself (``source="measured"``:
  the dot scan around the fitted spot, background removed,
  :func:`~superres_widgets.xrf.psf_from_dot_scan`) to a
  :class:`~superres_widgets.widgets.DeconvolutionExplorer`.
* The demos scan the phantoms of :mod:`superres_widgets.xrf.phantoms`
  (:func:`~superres_widgets.xrf.dot_scan`,
  :func:`~superres_widgets.xrf.knife_edge_scan`), the same the report uses.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import traitlets

from ..xrf import (FWHM_PER_SIGMA, PAPER_DWELL_S, PAPER_KNIFE_SIGMA_UM, PAPER_RATES_CPS, PAPER_STEP_UM, dot_scan,
                   fit_knife_edge, fit_point_scan, gaussian2d, gaussian_psf, knife_edge_scan, psf_from_dot_scan)
from ._base import SuperresWidget, bundle_path
from ._bokeh import BokehPanel
from .serializers import ArrayTrait

__all__ = ["PSFFitExplorer"]

_DOT_OUT = ("sigma_u_um", "sigma_v_um", "rho", "sigma_u_err_um", "sigma_v_err_um", "rho_err",
            "centre_u_um", "centre_v_um", "background", "peak", "chi2_reduced")
_KNIFE_OUT = ("knife_sigma_um", "knife_sigma_err_um", "knife_sigma_gradient_um",
              "knife_sigma_gradient_err_um", "edge_angle_deg", "edge_step")


class _SkipNoneLink(traitlets.directional_link):
    """``traitlets.dlink`` that leaves the target alone while the source is None.

    ``first`` (optional) runs once, just before the first value is set.
    """

    def __init__(self, source, target, transform=None, first=None):
        self._first = first
        super().__init__(source, target, transform)

    def _set(self, value):
        if self._first is not None:
            first, self._first = self._first, None
            first()
        setattr(self.target[0], self.target[1], self._transform(value))

    def link(self):
        value = getattr(self.source[0], self.source[1])
        try:
            if value is not None:
                self._set(value)
        finally:
            self.source[0].observe(self._update, names=self.source[1])

    def _update(self, change):
        if change.new is None or self.updating:
            return
        with self._busy_updating():
            self._set(change.new)


class _MeasuredLink:
    """Sends the measured PSF of every successful dot fit to ``target.set_psf`` (``unlink()`` stops it)."""

    def __init__(self, source, target):
        self.source, self.target = source, target
        source.observe(self._update, names="psf_sigma_um")
        if source.psf_sigma_um is not None:
            self._update(None)

    def _update(self, _change):
        src = self.source
        if src.result is None or not hasattr(src.result, "ellipses"):
            return  # a knife edge has no PSF image
        self.target.set_psf(src.measured_psf(), label="measured dot scan")

    def unlink(self):
        self.source.unobserve(self._update, names="psf_sigma_um")


def _opt_float():
    return traitlets.Float(None, allow_none=True).tag(sync=True)


class PSFFitExplorer(BokehPanel, SuperresWidget):
    """Estimate the PSF from a dot scan (Fig. 3) or a knife edge (Fig. 4).

    Displaying the object shows the map, the residual map (dot mode), the
    readouts and, below, the Bokeh profiles.  In knife mode, drag on the map
    to draw a line across an edge (the line is sent to Python when the mouse
    is released), or set ``line`` from Python.

    Parameters
    ----------
    image : (rows, cols) array_like
        The map (counts), e.g. ``load_map(path).data``.  Stored as float32.
    pixel_size_um : float or None
        Pixel size (scan step), um.  ``None`` (unknown): lengths in pixels,
        with a notice.
    mode : {"dot", "knife"}
    line : [[x0, y0], [x1, y1]] or None
        Knife-edge line in pixel coordinates (x = column, y = row).
    band_px : float
        Half-width of the band of pixels around the line used by the knife
        edge fit, pixels.
    knife_estimate : {"erf", "gradient"}
        Which knife-edge sigma becomes the PSF result: the erf fit of the
        edge-spread function (more precise) or the Gaussian fit of its
        gradient (the paper's procedure).
    colormap : {"viridis", "gray"}
        Colours of the map (the residual map is always diverging "rdbu").

    Attributes
    ----------
    result : PointScanFit or KnifeEdgeFit or None
        The last successful fit (all its arrays and parameters, in um).

    Examples
    --------
    >>> edge = PSFFitExplorer.demo_knife_edge()      # the paper's knife edge: 37.5 um
    >>> round(edge.psf_sigma_um / 37.5, 1), edge.line
    (1.0, [[15.0, 60.0], [105.0, 60.0]])
    >>> edge.line = [[20, 30], [100, 35]]              # what a drag on the map does
    >>> edge.error, round(edge.fwhm_um / 88.3, 1)      # FWHM = 2.355 sigma
    ('', 1.0)
    >>> dot = PSFFitExplorer.demo_dot()
    >>> dot.ellipses.shape                             # the 1, 2, 3 sigma polygons
    (3, 121, 2)
    """

    _esm = bundle_path("psf_fit")

    # -- inputs ---------------------------------------------------------------------
    image = ArrayTrait(dtype=np.float32, ndim=2)
    pixel_size_um = traitlets.Float(1.0, allow_none=True).tag(sync=True)
    mode = traitlets.Unicode("dot").tag(sync=True)
    line = traitlets.List(allow_none=True, default_value=None).tag(sync=True)
    band_px = traitlets.Float(10.0).tag(sync=True)
    knife_estimate = traitlets.Unicode("erf").tag(sync=True)
    colormap = traitlets.Unicode("viridis").tag(sync=True)

    # -- dot-scan outputs ---------------------------------------------------------------
    ellipses = ArrayTrait(dtype=np.float32, ndim=3)
    """(3, N, 2): the 1, 2, 3 sigma polygons in pixel coordinates (x = col, y = row)."""
    residual = ArrayTrait(dtype=np.float32, ndim=2)
    """data - model of the dot fit (counts), the paper's Fig. 3c."""
    sigma_u_um = _opt_float()
    sigma_v_um = _opt_float()
    rho = _opt_float()
    sigma_u_err_um = _opt_float()
    sigma_v_err_um = _opt_float()
    rho_err = _opt_float()
    centre_u_um = _opt_float()
    centre_v_um = _opt_float()
    background = _opt_float()
    peak = _opt_float()
    chi2_reduced = _opt_float()

    # -- knife-edge outputs -------------------------------------------------------------
    knife_sigma_um = _opt_float()
    knife_sigma_err_um = _opt_float()
    knife_sigma_gradient_um = _opt_float()
    knife_sigma_gradient_err_um = _opt_float()
    edge_angle_deg = _opt_float()
    edge_step = _opt_float()

    # -- the PSF result -------------------------------------------------------------------
    fwhm_um = _opt_float()
    """FWHM of the PSF result, 2.355 psf_sigma_um."""
    psf_sigma_um = _opt_float()
    psf_sigma_err_um = _opt_float()
    psf_sigma_u_um = _opt_float()
    psf_sigma_v_um = _opt_float()
    psf_rho = _opt_float()
    psf_source = traitlets.Unicode("").tag(sync=True)
    """Which measurement the PSF result comes from ('' before the first fit)."""
    compute_ms = traitlets.Float(0.0).tag(sync=True)
    progress = traitlets.Float(1.0).tag(sync=True)
    """Progress of the running dot fit, 0-1 (1 when idle)."""

    _LIMITS = {"band_px": (1.0, 500.0)}
    _MODES = ("dot", "knife")
    _ESTIMATES = ("erf", "gradient")
    _COLORMAPS = ("viridis", "gray")

    def __init__(self, image=None, **kwargs):
        self.result = None
        self._init_bokeh_panel()
        self._build_plots()
        if image is not None:
            kwargs["image"] = image
        with self._batch():  # one fit, after every keyword is set
            super().__init__(**kwargs)
            self._update_pixel_notice()

    _validate_limits = traitlets.validate(*_LIMITS)(SuperresWidget._validate_limits)

    # -- construction helpers -----------------------------------------------------------
    @classmethod
    def from_map(cls, xrf_map, **kwargs) -> PSFFitExplorer:
        """From a :class:`superres_widgets.io.XRFMap` (its data and pixel size)."""
        if np.ndim(xrf_map.data) != 2:
            raise ValueError(f"{xrf_map.source}: the map is a stack of shape {xrf_map.data.shape}; "
                             "pick a channel (load_map(..., channel=...))")
        kwargs.setdefault("pixel_size_um", xrf_map.pixel_size_um)
        return cls(image=xrf_map.data, **kwargs)

    @classmethod
    def demo_dot(cls, *, sigma_um: float = 32.5, sigma_v_um: float | None = None, rho: float = 0.0,
                 peak_cps: float = PAPER_RATES_CPS[0] - PAPER_RATES_CPS[1],
                 background_cps: float = PAPER_RATES_CPS[1], dwell_s: float = PAPER_DWELL_S,
                 step_um: float = PAPER_STEP_UM, dot_diameter_um: float = 5.0, size_px: int = 61,
                 seed: int | None = 0, **kwargs) -> PSFFitExplorer:
        """A simulated scan of a small dot (the paper's 5 um Cr dot at 5 um steps).

        The dot adds ``peak_cps`` at the spot centre over ``background_cps``
        (defaults: the paper's chrome-glass contrast 429 - 275 cps over its
        275 cps glass background), with the paper's 0.5 s dwell and Poisson
        noise, through a Gaussian PSF ``(sigma_um, sigma_v_um, rho)``: the
        scan of :func:`superres_widgets.xrf.dot_scan`. ``w.simulation``
        holds the simulation's metadata.
        """
        scan = dot_scan(sigma_um, sigma_v_um, rho, peak_cps=peak_cps, background_cps=background_cps,
                        dwell_s=dwell_s, step_um=step_um, dot_diameter_um=dot_diameter_um, size_px=size_px,
                        seed=seed)
        kwargs.setdefault("mode", "dot")
        w = cls(image=scan.counts, pixel_size_um=step_um, **kwargs)
        w.simulation = dict(scan.metadata)
        return w.wait()

    @classmethod
    def demo_knife_edge(cls, *, sigma_um=PAPER_KNIFE_SIGMA_UM, angle_deg: float = 4.0,
                        rates_cps=PAPER_RATES_CPS, dwell_s: float = PAPER_DWELL_S,
                        step_um: float = PAPER_STEP_UM, size_px: int = 121, seed: int | None = 0,
                        **kwargs) -> PSFFitExplorer:
        """A simulated scan across a straight chrome edge (the paper's Fig. 4).

        Chrome (``rates_cps[0]``, paper 429 cps) on the side the edge normal
        points to, glass (275 cps) on the other, 0.5 s dwell, 5 um steps,
        Gaussian PSF ``sigma_um`` -- a float (the paper's knife edge gave
        37.5 um) or ``(sigma_u, sigma_v, rho)``: the scan of
        :func:`superres_widgets.xrf.knife_edge_scan`.  The edge normal is at
        ``angle_deg`` from +u towards +v (4: a nearly vertical edge, chrome
        on the right; 90: a horizontal edge, chrome below).  The line starts
        across the edge through the centre, along the image axis nearest to
        the normal, +-6 sigma long, with a band of +-20 pixels.
        ``w.simulation`` holds the simulation's metadata.
        """
        scan = knife_edge_scan(sigma_um, angle_deg=angle_deg, rates_cps=rates_cps, dwell_s=dwell_s,
                               step_um=step_um, size_px=size_px, seed=seed)
        (r0, c0), (r1, c1) = scan.metadata["line_rc"]
        kwargs.setdefault("mode", "knife")
        kwargs.setdefault("line", [[c0, r0], [c1, r1]])  # x = column, y = row
        kwargs.setdefault("band_px", scan.metadata["band_px"])
        w = cls(image=scan.counts, pixel_size_um=step_um, **kwargs)
        w.simulation = dict(scan.metadata)
        return w.wait()

    # -- validation -----------------------------------------------------------------------
    @traitlets.validate("mode")
    def _validate_mode(self, proposal):
        return self._validate_choice(proposal, self._MODES)

    @traitlets.validate("knife_estimate")
    def _validate_estimate(self, proposal):
        return self._validate_choice(proposal, self._ESTIMATES)

    @traitlets.validate("colormap")
    def _validate_colormap(self, proposal):
        return self._validate_choice(proposal, self._COLORMAPS)

    def _validate_choice(self, proposal, choices):
        value = proposal["value"]
        if value not in choices:
            raise traitlets.TraitError(f"{proposal['trait'].name} must be one of {list(choices)}, "
                                       f"got {value!r}")
        return value

    @traitlets.validate("pixel_size_um")
    def _validate_pixel_size(self, proposal):
        value = proposal["value"]
        if value is None:
            return None
        if not math.isfinite(value) or value <= 0:
            self._notices["pixel_size_um"] = (f"pixel_size_um={value} must be a positive number; "
                                              f"kept {self.pixel_size_um}")
            self.notice = "; ".join(self._notices.values())
            return self.pixel_size_um
        return value

    def _update_pixel_notice(self):
        if self.pixel_size_um is None:
            self._notices["pixel_size_um"] = ("pixel size unknown (pixel_size_um=None): lengths "
                                              "below are in pixels, not um")
        elif self._notices.get("pixel_size_um", "").startswith("pixel size unknown"):
            self._notices.pop("pixel_size_um")
        self.notice = "; ".join(self._notices.values())

    def _set_fit_notice(self, text: str | None):
        if text:
            self._notices["fit"] = text
        else:
            self._notices.pop("fit", None)
        self.notice = "; ".join(self._notices.values())

    # -- display ----------------------------------------------------------------------------

    # -- the PSF result ---------------------------------------------------------------------
    def psf(self, *, anisotropic: bool = False, shape=None) -> np.ndarray:
        """The PSF result as a kernel on the map's pixel grid (unit sum).

        Isotropic with ``psf_sigma_um`` unless ``anisotropic=True`` (then
        ``psf_sigma_u_um``, ``psf_sigma_v_um``, ``psf_rho``).
        """
        if self.psf_sigma_um is None:
            raise ValueError("no PSF yet: the first fit has not succeeded")
        p = self.pixel_size_um or 1.0
        if anisotropic:
            return gaussian_psf(self.psf_sigma_u_um, self.psf_sigma_v_um, self.psf_rho,
                                pixel_size_um=p, shape=shape)
        return gaussian_psf(self.psf_sigma_um, pixel_size_um=p, shape=shape)

    def measured_psf(self) -> np.ndarray:
        """The measured PSF of the last dot fit: the map around the spot, background removed, unit sum, centred."""
        if self.result is None or not hasattr(self.result, "ellipses"):
            raise ValueError("no dot fit yet: the measured PSF comes from a dot scan (mode='dot')")
        return psf_from_dot_scan(np.asarray(self.image, dtype=np.float64), self.result)

    def link_to(self, target, *, anisotropic: bool = False, source: str = "gaussian") -> list:
        """Feed the PSF result into ``target`` (e.g. a DeconvolutionExplorer), live.

        ``source="gaussian"`` (default): ``psf_sigma_um`` is
        ``traitlets.dlink``-ed to ``target.psf_sigma_um``; if the target has
        ``psf_sigma_v_um``/``psf_rho`` they are set to ``None``/``0`` (an
        isotropic PSF, the paper's choice).  With ``anisotropic=True`` the
        target gets ``psf_sigma_u_um`` (as its ``psf_sigma_um``),
        ``psf_sigma_v_um`` and ``psf_rho`` instead.  A target restoring with a
        PSF image goes back to the Gaussian.

        ``source="measured"``: every successful dot fit sends the measured
        PSF itself (:meth:`measured_psf`) to ``target.set_psf``, so the
        restoration uses the spot's real shape, tails and asymmetry included.

        The target is not touched while no fit has succeeded.

        Returns
        -------
        list of links
            Call ``.unlink()`` on each to stop following.
        """
        if source not in ("gaussian", "measured"):
            raise ValueError(f"source must be 'gaussian' or 'measured', got {source!r}")
        if source == "measured":
            if not callable(getattr(target, "set_psf", None)):
                raise TypeError(f"{type(target).__name__} takes no PSF image (it has no set_psf)")
            return [_MeasuredLink(self, target)]
        for name in ("psf_sigma_um",) + (("psf_sigma_v_um", "psf_rho") if anisotropic else ()):
            if not target.has_trait(name):
                raise TypeError(f"{type(target).__name__} has no trait {name!r} to link the PSF to")
        if callable(getattr(target, "set_psf", None)) and getattr(target, "psf_image", None) is not None:
            target.set_psf(None)
        if anisotropic:
            pairs = [("psf_sigma_u_um", "psf_sigma_um"), ("psf_sigma_v_um", "psf_sigma_v_um"),
                     ("psf_rho", "psf_rho")]
            return [_SkipNoneLink((self, src), (target, dst)) for src, dst in pairs]

        def isotropic():  # once, before the first sigma reaches the target
            if target.has_trait("psf_sigma_v_um"):
                target.psf_sigma_v_um = None
            if target.has_trait("psf_rho"):
                target.psf_rho = 0.0

        return [_SkipNoneLink((self, "psf_sigma_um"), (target, "psf_sigma_um"), first=isotropic)]

    # -- fitting ----------------------------------------------------------------------------
    @traitlets.observe("image", "pixel_size_um", "mode", "line", "band_px")
    def _on_input(self, change):
        if change["name"] == "pixel_size_um":
            self._update_pixel_notice()
        self._request_update()

    @traitlets.observe("knife_estimate")
    def _on_estimate(self, change):
        if self.mode == "knife" and self.knife_sigma_um is not None:
            with self.hold_sync():
                self._set_knife_result()

    def refit(self) -> PSFFitExplorer:
        """Fit again with the current inputs (fits also run on every change)."""
        self._update()
        return self

    def _update(self):
        """Dot: fit in the background; knife: inline. Errors belong to these inputs."""
        if self.image is None:
            return
        if self.mode == "knife" and not self.line:  # None or []: no line drawn yet
            self._set_fit_notice("knife edge: drag a line across an edge on the map (or set line)")
            with self._inline():  # nothing to fit: no error for these inputs
                self._clear_plots("knife edge: draw a line across an edge on the map")
            return
        import time

        if self.mode == "dot":
            image, p = np.asarray(self.image, dtype=np.float64), self.pixel_size_um or 1.0

            def compute(job):
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # OptimizeWarning etc.: judged below
                    fit = fit_point_scan(image, pixel_size_um=p, cancel=job,
                                         progress=lambda f: job.publish(setattr, self, "progress", f))
                notice = self._check_dot(fit)
                return fit, notice, 1000 * (time.perf_counter() - t0)

            def apply(value):
                fit, notice, ms = value
                self._set_fit_notice(notice)
                self._apply(fit, ms)
                self.progress = 1.0

            self._run_in_background(compute, apply, progress=0.0)
            return
        t0 = time.perf_counter()
        with self._inline():
            p = self.pixel_size_um or 1.0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # OptimizeWarning etc.: judged below
                fit = fit_knife_edge(self.image, pixel_size_um=p, line=self._line_rc(),
                                     half_width_px=self.band_px)
                self._check_knife(fit)
            self._apply(fit, 1000 * (time.perf_counter() - t0))
        if self.error and not self._result_matches_mode():
            self._clear_plots("no knife-edge fit yet (see the message above the map)")

    def _result_matches_mode(self) -> bool:
        if self.result is None:
            return False
        return hasattr(self.result, "ellipses") == (self.mode == "dot")

    def _line_rc(self):
        """``line`` ([[x0, y0], [x1, y1]], x = col) -> ((r0, c0), (r1, c1)), checked."""
        line = self.line
        try:
            (x0, y0), (x1, y1) = line
            x0, y0, x1, y1 = (float(v) for v in (x0, y0, x1, y1))
        except (TypeError, ValueError):
            raise ValueError(f"line must be [[x0, y0], [x1, y1]] in pixels (x = column, "
                             f"y = row), got {line!r}") from None
        if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
            raise ValueError(f"line must be finite, got {line!r}")
        rows, cols = self.image.shape
        for x, y in ((x0, y0), (x1, y1)):
            if not (-0.5 <= x <= cols - 0.5 and -0.5 <= y <= rows - 0.5):
                raise ValueError(f"line end ({x:g}, {y:g}) is outside the map (x in "
                                 f"[-0.5, {cols - 0.5:g}], y in [-0.5, {rows - 0.5:g}])")
        length = math.hypot(x1 - x0, y1 - y0)
        if length == 0:
            raise ValueError("line has zero length: drag across the edge")
        if length < 4:
            raise ValueError(f"line is {length:.3g} pixels long; draw it at least 4 pixels "
                             "across the edge")
        return (y0, x0), (y1, x1)

    @staticmethod
    def _check_dot(fit) -> str | None:
        """ValueError for a failed dot fit; the notice for a poorly constrained one (or None)."""
        vals = [fit.sigma_u, fit.sigma_v, fit.rho, fit.amplitude]
        if not all(math.isfinite(v) for v in vals):
            raise ValueError("the dot fit did not converge (non-finite parameters)")
        a_err = fit.errors["amplitude"]
        if not (fit.amplitude > 3 * a_err):
            raise ValueError(f"no significant spot: its signal ({fit.amplitude:.3g} +- {a_err:.2g}) is "
                             "within 3 standard errors of zero")
        rel = max(fit.errors["sigma_u"] / fit.sigma_u, fit.errors["sigma_v"] / fit.sigma_v)
        return (None if rel < 0.5 or not math.isfinite(rel) else
                f"dot fit poorly constrained (sigma uncertain by {100 * rel:.0f} %)")

    def _check_knife(self, fit):
        if not (math.isfinite(fit.sigma_um) and math.isfinite(fit.sigma_err_um)):
            raise ValueError("the knife-edge fit did not converge: is there an edge along the line?")
        # (a line with no edge is refused by xrf.fit_knife_edge itself)
        rel = fit.sigma_err_um / fit.sigma_um if fit.sigma_um > 0 else math.inf
        self._set_fit_notice(None if rel < 0.5 else
                             f"knife-edge fit poorly constrained (sigma uncertain by {100 * rel:.0f} %): "
                             "is there an edge along the line?")

    def _apply(self, fit, ms: float):
        self.result = fit
        with self.hold_sync():
            if self.mode == "dot":
                self._apply_dot(fit)
            else:
                self._apply_knife(fit)
            self.compute_ms = ms
        self._update_plots()

    def _apply_dot(self, fit):
        ell = fit.ellipses_px()
        self.ellipses = np.stack([ell[k] for k in (1, 2, 3)]).astype(np.float32)
        self.residual = fit.residual.astype(np.float32)
        e = fit.errors
        self.sigma_u_um, self.sigma_v_um, self.rho = fit.sigma_u, fit.sigma_v, fit.rho
        self.sigma_u_err_um, self.sigma_v_err_um, self.rho_err = (
            e["sigma_u"], e["sigma_v"], e["rho"])
        self.centre_u_um, self.centre_v_um = fit.mu_u, fit.mu_v
        self.background, self.peak = fit.background, float(fit.peak)
        self.chi2_reduced = fit.chi2_reduced
        for name in _KNIFE_OUT:
            setattr(self, name, None)
        s = math.sqrt(fit.sigma_u * fit.sigma_v)
        # error of the geometric mean from the fit covariance of (sigma_u, sigma_v)
        cov = np.asarray(fit.covariance)
        i, j = fit.param_names.index("sigma_u"), fit.param_names.index("sigma_v")
        var_log = 0.25 * (cov[i, i] / fit.sigma_u ** 2 + cov[j, j] / fit.sigma_v ** 2
                          + 2 * cov[i, j] / (fit.sigma_u * fit.sigma_v))
        err = s * math.sqrt(var_log) if np.isfinite(var_log) and var_log >= 0 else None
        self.psf_sigma_u_um, self.psf_sigma_v_um, self.psf_rho = fit.sigma_u, fit.sigma_v, fit.rho
        self.psf_sigma_um, self.psf_sigma_err_um = s, err
        self.fwhm_um = FWHM_PER_SIGMA * s
        self.psf_source = "dot scan: √(σu σv)"

    def _apply_knife(self, fit):
        self.knife_sigma_um, self.knife_sigma_err_um = fit.sigma_um, fit.sigma_err_um
        self.knife_sigma_gradient_um = fit.sigma_gradient_um
        self.knife_sigma_gradient_err_um = fit.sigma_gradient_err_um
        self.edge_angle_deg = fit.angle_deg
        self.edge_step = fit.step
        for name in _DOT_OUT:
            setattr(self, name, None)
        self.ellipses = None
        self.residual = None
        self._set_knife_result()

    def _set_knife_result(self):
        if self.knife_estimate == "gradient":
            s, err = self.knife_sigma_gradient_um, self.knife_sigma_gradient_err_um
            self.psf_source = "knife edge: Gaussian fit of the gradient (the paper's)"
        else:
            s, err = self.knife_sigma_um, self.knife_sigma_err_um
            self.psf_source = "knife edge: erf fit of the edge profile"
        self.psf_sigma_u_um = self.psf_sigma_v_um = s
        self.psf_rho = 0.0
        self.psf_sigma_um, self.psf_sigma_err_um = s, err
        self.fwhm_um = FWHM_PER_SIGMA * s

    # -- Bokeh plots (Fig. 3b; Fig. 4b/c) --------------------------------------------------
    def _build_plots(self):
        from bokeh.layouts import row
        from bokeh.plotting import figure

        from bokeh.models import ColumnDataSource

        self._src = {k: ColumnDataSource(dict(x=[], y=[])) for k in
                     ("left_data", "left_model", "right_data", "right_model")}
        opts = dict(width=460, height=280, toolbar_location="above",
                    tools="pan,wheel_zoom,box_zoom,reset,save")
        fl = figure(title="profile", x_axis_label="position (um)", y_axis_label="counts", **opts)
        fl.scatter("x", "y", source=self._src["left_data"], size=4, color="#1f77b4", alpha=0.7,
                   legend_label="data")
        fl.line("x", "y", source=self._src["left_model"], color="#d62728", line_width=2,
                legend_label="fit")
        fr = figure(title="gradient", x_axis_label="position (um)", y_axis_label="counts", **opts)
        fr.scatter("x", "y", source=self._src["right_data"], size=4, color="#d62728", alpha=0.8,
                   legend_label="data")
        fr.line("x", "y", source=self._src["right_model"], color="#1f4e9c", line_width=2,
                legend_label="fit")
        for f in (fl, fr):
            f.legend.location = "top_left"
            f.legend.background_fill_alpha = 0.6
        self._figures = (fl, fr)
        self._plots_layout = row(fl, fr)

    def _clear_plots(self, title: str):
        for source in self._src.values():
            source.data = dict(x=[], y=[])
        self._figures[0].title.text = title
        self._figures[1].title.text = ""

    def _update_plots(self):
        fit = self.result
        if fit is None:
            return
        fl, fr = self._figures
        src = self._src
        unit = "µm" if self.pixel_size_um is not None else "px"
        if self.mode == "dot" and hasattr(fit, "ellipses"):
            img = np.asarray(self.image, dtype=float)
            p = fit.pixel_size_um
            r = int(np.clip(round(fit.mu_v / p), 0, img.shape[0] - 1))
            c = int(np.clip(round(fit.mu_u / p), 0, img.shape[1] - 1))
            u = np.arange(img.shape[1]) * p
            v = np.arange(img.shape[0]) * p
            uf = np.linspace(u[0], u[-1], 400)
            vf = np.linspace(v[0], v[-1], 400)
            a, b = fit.amplitude, fit.background
            args = (fit.mu_u, fit.mu_v, fit.sigma_u, fit.sigma_v, fit.rho)
            src["left_data"].data = dict(x=u - fit.mu_u, y=img[r])
            src["left_model"].data = dict(x=uf - fit.mu_u, y=a * gaussian2d(uf, r * p, *args) + b)
            src["right_data"].data = dict(x=v - fit.mu_v, y=img[:, c])
            src["right_model"].data = dict(x=vf - fit.mu_v, y=a * gaussian2d(c * p, vf, *args) + b)
            fl.title.text = f"(3b) row {r}: σu = {fit.sigma_u:.1f} {unit}, FWHM {fit.fwhm_u:.1f} {unit}"
            fr.title.text = f"column {c}: σv = {fit.sigma_v:.1f} {unit}, FWHM {fit.fwhm_v:.1f} {unit}"
            fl.xaxis.axis_label = f"u − μu ({unit})"
            fr.xaxis.axis_label = f"v − μv ({unit})"
            fl.yaxis.axis_label = fr.yaxis.axis_label = "counts"
        elif self.mode == "knife" and hasattr(fit, "esf"):
            src["left_data"].data = dict(x=fit.positions_um, y=fit.esf)
            src["left_model"].data = dict(x=fit.positions_um, y=fit.esf_model)
            src["right_data"].data = dict(x=fit.gradient_positions_um, y=fit.gradient)
            src["right_model"].data = dict(x=fit.gradient_positions_um, y=fit.gradient_model)
            fl.title.text = (f"(4b) edge profile, erf fit: σ = {fit.sigma_um:.1f} {unit}, "
                             f"FWHM {fit.fwhm_um:.1f} {unit}")
            fr.title.text = (f"(4c) gradient, Gaussian fit: σ = {fit.sigma_gradient_um:.1f} {unit}, "
                             f"FWHM {fit.fwhm_gradient_um:.1f} {unit}")
            fl.xaxis.axis_label = fr.xaxis.axis_label = f"distance from the edge ({unit})"
            fl.yaxis.axis_label = "counts (band average)"
            fr.yaxis.axis_label = f"d counts / d x (per {unit})"
