"""Micro-XRF resolution enhancement: PSF estimation, deconvolution, judging.

The algorithm layer for seed 001 (Yang, Zhang & Cheng, J. Anal. At.
Spectrom. 37, 750 (2022)): plain functions on numpy arrays, no widget
imports.

Conventions (details in each module's docstring)
------------------------------------------------
* ``image[row, col]``; the paper's ``u`` runs along columns, ``v`` along
  rows: ``(row, col) = (v, u)``.  Pixel ``(r, c)`` is centred at
  ``(v, u) = (r p, c p)`` um.
* Lengths in micrometres (``*_um``), frequencies in lp/mm, intensities in
  counts -- never rescaled or clipped unless a function says so.
* PSF kernels have unit sum and their origin at ``(rows // 2, cols // 2)``.
* Deconvolutions take ``boundary=`` ("reflect" by default, "periodic",
  and "masked" for the iterative ones) and return float64 arrays.
* NaN pixels (or ``mask=``, True = excluded) are left out of every
  method's data term; ``negative=`` says what happens to negative pixels
  (:mod:`~superres_widgets.xrf._data`); iterative methods take a stopping
  rule ``stop=``/``tol=`` and fill a ``history=``
  (:mod:`~superres_widgets.xrf.convergence`).
* A PSF is a Gaussian (:func:`gaussian_psf`) or any image
  (:func:`prepare_psf`, :func:`psf_from_dot_scan`, the kernel of
  :func:`blind_l0`).
* Iterative methods take ``callback(iteration, estimate)``,
  ``callback_every`` and ``cancel`` (an Event-like object or a callable);
  cancellation raises :class:`DeconvolutionCancelled`.
* Bad input raises :class:`ValueError` naming the parameter.
* Restoration methods are declared once in :mod:`~superres_widgets.xrf.registry`
  (:func:`methods`, :func:`get_method`, :func:`register_method`); widgets,
  :func:`deconvolve_stack` and the command line read those declarations.
"""

from ._data import NEGATIVE_POLICIES
from ._operators import ConvolutionOperator, clear_transfer_cache
from ._validate import DeconvolutionCancelled
from .blind import BlindResult, blind_l0, l0_restore
from .convergence import STOP_RULES, ConvergenceHistory, IterationRecord, poisson_discrepancy
from .deconvolution import convolve, fista, richardson_lucy, wiener
from .least_squares import landweber, tikhonov_miller
from .poisson import richardson_lucy_tv, sgp
from .psf_image import prepare_psf, psf_centroid, psf_from_dot_scan
from .registry import (PSF_PARAMETERS, Method, Parameter, get_method, method_table, methods, register_method,
                      unregister_method)
from .metrics import mse, normalize, psnr, ssim
from .phantoms import (PAPER_ELEMENT_SIGMAS_UM, PAPER_KNIFE_SIGMA_UM, MineralPhantom, dot_scan, knife_edge_scan,
                       mineral_phantom)
from .psf import (FWHM_PER_SIGMA, PointScanFit, confidence_ellipse, fit_point_scan, gaussian2d, gaussian_psf,
                  kernel_to_sigma)
from .knife_edge import KnifeEdgeFit, fit_knife_edge
from .stack import deconvolve_stack
from .simulate import (PAPER_DWELL_S, PAPER_RATES_CPS, PAPER_SIGMA_UM, PAPER_STEP_UM,
                       SimulatedScan, simulate_scan)
from .usaf import USAFBarSet, USAFChart, USAFElement, lp_per_mm, usaf1951
from .usaf_score import (ElementContrast, ResolvedElement, RestorationScore, chart_levels, resolved_element,
                         score_restoration)

__all__ = [
    # PSF
    "gaussian_psf", "gaussian2d", "fit_point_scan", "PointScanFit", "fit_knife_edge",
    "KnifeEdgeFit", "kernel_to_sigma", "confidence_ellipse", "FWHM_PER_SIGMA",
    "prepare_psf", "psf_from_dot_scan", "psf_centroid",
    # deconvolution
    "wiener", "richardson_lucy", "fista", "blind_l0", "BlindResult", "l0_restore",
    "richardson_lucy_tv", "sgp", "landweber", "tikhonov_miller",
    "convolve", "ConvolutionOperator", "clear_transfer_cache", "DeconvolutionCancelled",
    "deconvolve_stack", "NEGATIVE_POLICIES",
    # knowing when to stop
    "ConvergenceHistory", "IterationRecord", "STOP_RULES", "poisson_discrepancy",
    # the method registry
    "methods", "get_method", "register_method", "unregister_method", "method_table", "Method", "Parameter",
    "PSF_PARAMETERS",
    # metrics
    "mse", "ssim", "psnr", "normalize",
    # chart
    "usaf1951", "USAFChart", "USAFElement", "USAFBarSet", "lp_per_mm", "resolved_element",
    "score_restoration", "RestorationScore",
    "ResolvedElement", "ElementContrast", "chart_levels",
    # simulation
    "simulate_scan", "SimulatedScan", "PAPER_RATES_CPS", "PAPER_DWELL_S", "PAPER_STEP_UM",
    "PAPER_SIGMA_UM",
    # phantoms
    "dot_scan", "knife_edge_scan", "mineral_phantom", "MineralPhantom", "PAPER_ELEMENT_SIGMAS_UM",
    "PAPER_KNIFE_SIGMA_UM",
]
