"""The built-in restoration methods, declared through the registry (:mod:`superres_widgets.xrf.registry`).

One :class:`~superres_widgets.xrf.registry.Method` per algorithm: its parameters
(defaults, ranges, slider ranges, units), its tiling halo rule (pixels, measured
in :mod:`superres_widgets.xrf.stack`; ``None``: restore whole), its boundaries
and reference.  Imported (and so registered) by the registry module itself.
"""

from __future__ import annotations

import math

from .blind import blind_l0
from .convergence import STOP_RULES
from .deconvolution import fista, richardson_lucy, wiener
from .least_squares import landweber, tikhonov_miller
from .poisson import richardson_lucy_tv, sgp
from .registry import Method, Parameter, register_method

_NUM_ITER = dict(lo=1, hi=2000, log=True, slider=(1, 1000), label="iterations", aliases=("iterations", "n"),
                 doc="number of iterations")


def _halo_wiener(s, p):
    return s * (14 + 4 * math.log10(1.0 / max(float(p["balance"]), 1e-6)))


def _halo_rl(s, p):
    # a stopping rule, or the Wiener start (its balance is chosen per map, its reach is long): whole maps
    if p.get("stop", "none") != "none" or p.get("x0") == "wiener":
        return None
    return None if p["acceleration"] else s * (4 + 2 * math.sqrt(p["num_iter"]))


def _halo_fista(s, p):
    return None if p.get("stop", "none") != "none" else s * (4 + 4 * math.sqrt(p["num_iter"]))


def _halo_landweber(s, p):
    return None if p.get("stop", "none") != "none" else s * (4 + 4 * math.sqrt(p["num_iter"] * p["tau"]))


_STOP = (Parameter("stop", "none", choices=STOP_RULES, label="stop rule",
                   doc="end early: 'discrepancy' (Poisson discrepancy <= 1) or 'relative_change' (<= tol); "
                       "num_iter is then the cap"),
         Parameter("tol", 1e-3, lo=1e-9, hi=0.5, log=True, slider=(1e-5, 0.1), label="tolerance",
                   doc="tolerance of stop='relative_change' (relative change of the estimate per iteration)",
                   show_when=(("stop", "relative_change"),)))
_BALANCE = Parameter("balance", 0.03, lo=0.0, hi=1e3, log=True, slider=(1e-4, 1.0), label="Wiener balance",
                     doc="regularisation weight of the Laplacian prior (dimensionless)")
_ITER_BOUNDARIES = ("reflect", "periodic", "masked")
_START_DOC = ("start estimate: 'image' (the map), 'flat' (its mean) or 'wiener' (Wiener-Hunt estimate, "
              "balance by the unbiased predictive risk: often already at the data fit of 30 RL iterations)")


def _start(default: str, choices: tuple) -> Parameter:
    return Parameter("x0", default, choices=choices, label="start", aliases=("start",), doc=_START_DOC)


_BUILTINS = (
    Method("wiener", wiener, (_BALANCE,),
           label="Wiener (Laplacian)", halo=_halo_wiener, boundaries=("reflect", "periodic"),
           reference="Yang, Zhang & Cheng 2022, eqn 9"),
    Method("richardson_lucy", richardson_lucy, (
        Parameter("num_iter", 30, **_NUM_ITER),
        Parameter("acceleration", False, label="Biggs–Andrews", values=(None, "biggs-andrews"),
                  doc="Biggs & Andrews (1997) vector extrapolation (the whole map is restored at once)"),
        _start("flat", ("flat", "image", "wiener")), *_STOP),
        label="Richardson–Lucy", aliases=("rl",), iterative=True, streams=True, halo=_halo_rl,
        nonnegative=True, boundaries=_ITER_BOUNDARIES, reference="Richardson 1972; Lucy 1974"),
    Method("fista", fista, (
        Parameter("lam", 1.0, lo=0.0, hi=1e6, step=0.25, slider=(0.0, 50.0), unit="counts", label="FISTA λ",
                  doc="weight of the l1 prior, counts"),
        Parameter("num_iter", 100, **_NUM_ITER), *_STOP),
        label="FISTA (l1)", iterative=True, streams=True, halo=_halo_fista,
        boundaries=_ITER_BOUNDARIES, reference="Beck & Teboulle 2009"),
    Method("blind_l0", blind_l0, (
        Parameter("kernel_size", 41, lo=3, hi=201, step=2, slider=(3, 81), odd=True, unit="px",
                  label="blind kernel", doc="side of the estimated kernel, pixels (odd; ~6 PSF sigmas)"),),
        label="Blind L0 (Pan 2014)", aliases=("blind",), iterative=True, streams=True, needs_psf=False,
        nonnegative=True,
        reference="Pan, Hu, Su & Yang, CVPR 2014"),
    Method("richardson_lucy_tv", richardson_lucy_tv, (
        Parameter("num_iter", 30, **_NUM_ITER),
        Parameter("tv_weight", 0.002, lo=0.0, hi=1.0, log=True, slider=(1e-4, 0.05), label="TV weight",
                  doc="weight of the total-variation prior (dimensionless; Dey et al.: 0.002)"),
        *_STOP),
        label="Richardson–Lucy + TV", aliases=("rl_tv", "rltv"), iterative=True, streams=True,
        nonnegative=True, boundaries=_ITER_BOUNDARIES, reference="Dey et al., Microsc. Res. Tech. 69, 260 (2006)"),
    Method("sgp", sgp, (Parameter("num_iter", 30, **_NUM_ITER), _start("image", ("image", "wiener", "flat")),
                        *_STOP),
           label="SGP (fast Poisson)", iterative=True, streams=True, nonnegative=True, boundaries=_ITER_BOUNDARIES,
           reference="Bonettini, Zanella & Zanni, Inverse Problems 25, 015002 (2009)"),
    Method("landweber", landweber, (
        Parameter("num_iter", 50, **_NUM_ITER),
        Parameter("tau", 1.0, lo=0.01, hi=1.99, step=0.01, slider=(0.1, 1.9), label="Landweber τ",
                  doc="relaxation of the step tau / L, in (0, 2)"),
        *_STOP),
        label="Landweber (projected)", aliases=("lw",), iterative=True, streams=True, halo=_halo_landweber,
        boundaries=_ITER_BOUNDARIES, reference="Landweber 1951; Eicke 1992"),
    Method("tikhonov_miller", tikhonov_miller, (
        _BALANCE, Parameter("num_iter", 50, **_NUM_ITER),
        Parameter("constrained", True, label="x ≥ 0 (ICTM)",
                  doc="project on x >= 0 each iteration (ICTM) or plain conjugate gradients"),
        *_STOP),
        label="Tikhonov–Miller / ICTM", aliases=("tm", "ictm"), iterative=True, streams=True,
        boundaries=_ITER_BOUNDARIES, reference="Tikhonov 1977; Miller 1970; van der Voort & Strasters 1995"),
)

for _m in _BUILTINS:
    register_method(_m)
del _m
