"""What the fuzz suite calls: one valid "seed" call per public function, and the hostile values.

A :class:`Seed` names a public function (``"superres_widgets.xrf:gaussian_psf"``), builds a
*valid* set of keyword arguments from a small shared context (a 24 x 24 image, a 16 um
phantom and its reconstruction, ...), and says the *domain* of each parameter to mutate.
:func:`mutations` gives, for a domain, the hostile values (NaN, inf, 0, -1, 1e300, 10**9,
True, "3", None, empty / 1-D / object / complex / NaN arrays, ...) and whether each one is
*invalid* for the domain (a call that accepts an invalid value is counted as "accepted").

Everything is built inside the worker process (``fuzz_harness.py``) from the job's names, so
the same catalogue runs against any checkout (``PYTHONPATH=/work/baseline``); a seed whose
function or context does not exist there is skipped.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------------------
# hostile values per domain: (label, factory, invalid?)
# ---------------------------------------------------------------------------
def _scalar_muts(domain: str):
    """Mutations of a real parameter; validity depends on the domain (``realv``: numbers or arrays)."""
    vector = domain == "realv"
    domain = "real" if vector else domain
    lo_ok = {"pos": lambda v: v > 0, "nonneg": lambda v: v >= 0,
             "real": lambda v: True, "deg": lambda v: True, "unit": lambda v: -1 < v < 1,
             "prob": lambda v: 0 <= v <= 1, "frac": lambda v: 0 < v < 1}[domain.rstrip("?")]
    out = []
    for label, v in (("nan", NAN), ("inf", INF), ("-inf", -INF), ("zero", 0.0), ("neg", -1.0),
                     ("tiny", 1e-300), ("huge", 1e300), ("big", 1e6)):
        invalid = not math.isfinite(v) or not lo_ok(v)
        out.append((label, (lambda v=v: v), invalid))
    out += [("bool", lambda: True, True), ("str", lambda: "3", True),
            ("list", lambda: [1.0], not vector), ("complex", lambda: 1 + 1j, True)]
    if not domain.endswith("?"):
        out.append(("none", lambda: None, True))
    return out


def _int_muts(lo: int, none_ok: bool = False):
    out = []
    for label, v in (("zero", 0), ("neg", -1), ("big", 10**6), ("huge", 10**9), ("vast", 10**18)):
        out.append((label, (lambda v=v: v), v < lo))
    out += [("frac", lambda: 1.5, True), ("nan", lambda: NAN, True), ("inf", lambda: INF, True),
            ("bool", lambda: True, True), ("str", lambda: "3", True), ("none", lambda: None, not none_ok)]
    return out


def _image(shape=(24, 24), seed=0):
    rng = np.random.default_rng(seed)
    img = 20.0 + 5.0 * rng.random(shape)
    img[shape[0] // 3: shape[0] // 2, shape[1] // 3: shape[1] // 2] += 200.0
    return img


def _array_muts(kind: str):
    """Mutations of an array parameter: ``img`` (2-D image), ``map`` (2-D or 3-D), ``imgmask`` (NaN = masked),
    ``arr`` (a numeric array of a given shape) or ``vec`` (elementwise: any shape, empty included)."""
    img = _image()
    obj = np.empty((4, 4), dtype=object)
    obj[:] = 1.0
    return [
        ("empty", lambda: np.zeros((0, 0)), kind != "vec"),
        ("1d", lambda: np.ones(5), kind in ("img", "map", "imgmask")),
        ("3d", lambda: np.ones((2, 6, 6)), kind in ("img", "imgmask")),  # a stack is a "map"
        ("nan", lambda: np.where(img > 100, NAN, img), kind != "imgmask"),  # NaN = masked pixels there
        ("inf", lambda: np.where(img > 100, INF, img), True),
        ("object", lambda: obj.copy(), True),
        ("strings", lambda: np.array([["a", "b"], ["c", "d"]]), True),
        ("complex", lambda: img + 1j, True),
        ("ragged", lambda: [[1.0, 2.0], [3.0]], True),
        ("scalar", lambda: 3.0, kind in ("img", "map", "imgmask")),
        ("none", lambda: None, True),
        ("huge_values", lambda: img * 1e300, False),
        ("negative", lambda: -img, False),
        ("one_pixel", lambda: np.ones((1, 1)), False),
    ]


def _text_muts():
    return [("empty", lambda: "", True), ("int", lambda: 3, True), ("none", lambda: None, True),
            ("bytes", lambda: b"raw", True)]


def _index_muts():
    return [("bool", lambda: True, True), ("frac", lambda: 1.5, True), ("object", lambda: object(), True),
            ("out_of_range", lambda: 99, True), ("none", lambda: None, False)]


def _choice_muts(none_ok: bool = False):
    return [("bogus", lambda: "bogus", True), ("int", lambda: 3, True), ("none", lambda: None, not none_ok)]


def _obj_muts(none_ok: bool = False):
    return [("int", lambda: 42, True), ("str", lambda: "x", True), ("none", lambda: None, not none_ok),
            ("object", lambda: object(), True)]


def _orient_muts(ubi: bool = False):
    return [("nan", lambda: np.full((2, 3, 3), NAN), True), ("zeros", lambda: np.zeros((2, 3, 3)), True),
            ("shape", lambda: np.eye(4), True), ("not_rotation", lambda: 2 * np.eye(3)[None], not ubi),
            ("str", lambda: "x", True), ("none", lambda: None, True)]


def mutations(domain: str):
    """``[(label, factory, invalid)]`` for a parameter domain."""
    if domain.rstrip("?") in ("pos", "nonneg", "real", "realv", "deg", "unit", "prob", "frac"):
        return _scalar_muts(domain)
    if domain.startswith("int"):
        return _int_muts(int(domain[3:].rstrip("?") or 0), domain.endswith("?"))
    if domain.rstrip("?") in ("img", "arr", "map", "imgmask", "vec"):
        return [(lb, f, inv and not (lb == "none" and domain.endswith("?")))
                for lb, f, inv in _array_muts(domain.rstrip("?"))]
    if domain == "text":
        return _text_muts()
    if domain == "index":
        return _index_muts()
    if domain in ("choice", "choice?"):
        return _choice_muts(domain == "choice?")
    if domain in ("obj", "obj?"):
        return _obj_muts(domain == "obj?")
    if domain in ("orient", "ubi"):
        return _orient_muts(domain == "ubi")
    raise KeyError(domain)


#: a smaller set for expensive functions: the values that found problems most often
HEAVY_LABELS = {"nan", "inf", "zero", "neg", "huge", "big", "bool", "str", "none", "vast", "frac",
                "bogus", "int", "empty", "object", "one_pixel", "huge_values", "not_rotation"}


# ---------------------------------------------------------------------------
# the shared context (built once per worker)
# ---------------------------------------------------------------------------
class Ctx:
    """Small valid inputs, built lazily."""

    @functools.cached_property
    def img(self):
        return _image()

    @functools.cached_property
    def psf(self):
        from superres_widgets.xrf import gaussian_psf

        return gaussian_psf(1.5, shape=(9, 9))

    @functools.cached_property
    def stack(self):
        return np.stack([_image(seed=1), _image(seed=2)])

    @functools.cached_property
    def chart(self):
        from superres_widgets.xrf import usaf1951

        return usaf1951(20.0, groups=(2, 3))

    @functools.cached_property
    def dot(self):
        from superres_widgets.xrf import dot_scan

        return dot_scan(size_px=21, step_um=5.0, sigma_um=10.0).counts

    @functools.cached_property
    def edge(self):
        from superres_widgets.xrf import knife_edge_scan

        return knife_edge_scan(10.0, size_px=41)

    @functools.cached_property
    def recon(self):
        from superres_widgets import s3dxrd

        return s3dxrd.reconstruct_phantom(diameter_um=16, beam_um=4, step_um=4, omega_step_deg=2,
                                          subdivision=2, n_grains=3, seed=1, pixel_um=1.0)

    @functools.cached_property
    def phantom(self):
        return self.recon.phantom

    @functools.cached_property
    def data(self):
        return self.recon.simulation.data

    @functools.cached_property
    def geometry(self):
        return self.data.geometry

    @functools.cached_property
    def table(self):
        return self.recon.table

    @functools.cached_property
    def omap(self):
        return self.recon.subpixel

    @functools.cached_property
    def spots(self):
        from superres_widgets.s3dxrd import merge_spots

        return merge_spots(self.data)

    @functools.cached_property
    def small_geometry(self):
        from superres_widgets.s3dxrd import ScanGeometry

        return ScanGeometry(x_range=4, step=1.0, omega_deg=np.arange(0, 180, 30.0))

    @functools.cached_property
    def U(self):
        from superres_widgets.s3dxrd import random_orientations

        return random_orientations(3, seed=0)

    @functools.cached_property
    def phase(self):
        from superres_widgets.s3dxrd import CubicPhase

        return CubicPhase()

    @functools.cached_property
    def grain_file(self):
        import os
        import tempfile

        from superres_widgets.s3dxrd import ubi_from_orientation

        d = tempfile.mkdtemp(prefix="fuzz_grains_")
        path = os.path.join(d, "g.ubi")
        with open(path, "w") as f:
            for u in self.U:
                ubi = ubi_from_orientation(u, self.phase)
                f.write("\n".join(" ".join(f"{v:.10f}" for v in row) for row in ubi) + "\n\n")
        return path


# ---------------------------------------------------------------------------
# seeds
# ---------------------------------------------------------------------------
@dataclass
class Seed:
    key: str
    target: str                         # "module:attr"
    build: Callable[[Ctx], dict]        # valid keyword arguments
    params: dict = field(default_factory=dict)   # name -> domain
    heavy: bool = False
    names: dict = field(default_factory=dict)    # name -> extra words an error may use instead
    nan_ok: bool = False                         # the function documents NaN entries in its result

    def function(self):
        mod, _, attr = self.target.partition(":")
        obj = importlib.import_module(mod)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj


X = "superres_widgets.xrf"
S = "superres_widgets.s3dxrd"
IO = "superres_widgets.io"


def _xrf_seeds():
    img = {"image": "img"}
    return [
        Seed("gaussian_psf", f"{X}:gaussian_psf", lambda c: dict(sigma_u=2.0, sigma_v=3.0, rho=0.2),
             {"sigma_u": "pos", "sigma_v": "pos?", "rho": "unit", "truncate": "pos", "pixel_size_um": "pos?"}),
        Seed("gaussian2d", f"{X}:gaussian2d",
             lambda c: dict(u=np.linspace(-3, 3, 7), v=np.zeros(7), mu_u=0.0, mu_v=0.0, sigma_u=1.0,
                            sigma_v=2.0, rho=0.1),
             {"sigma_u": "pos", "sigma_v": "pos", "rho": "unit", "mu_u": "real"}),
        Seed("fit_point_scan", f"{X}:fit_point_scan", lambda c: dict(image=c.dot, pixel_size_um=5.0),
             {**img, "image": "img", "pixel_size_um": "pos", "n_ellipse_points": "int3"}),
        Seed("fit_knife_edge", f"{X}:fit_knife_edge",
             lambda c: dict(data=c.edge.counts, pixel_size_um=5.0, line=c.edge.metadata["line_rc"],
                            half_width_px=c.edge.metadata["band_px"]),
             {"data": "img", "pixel_size_um": "pos", "half_width_px": "pos", "bin_px": "pos"}),
        Seed("kernel_to_sigma", f"{X}:kernel_to_sigma", lambda c: dict(kernel=c.psf),
             {"kernel": "img", "pixel_size_um": "pos?", "method": "choice"}),
        Seed("confidence_ellipse", f"{X}:confidence_ellipse",
             lambda c: dict(mu_u=0.0, mu_v=0.0, sigma_u=1.0, sigma_v=2.0, rho=0.3),
             {"sigma_u": "pos", "sigma_v": "pos", "rho": "unit", "k": "pos", "n_points": "int3",
              "mu_u": "real"}),
        Seed("wiener", f"{X}:wiener", lambda c: dict(image=c.img, psf=c.psf, balance=0.05),
             {"image": "imgmask", "psf": "img", "balance": "nonneg", "boundary": "choice"}),
        Seed("richardson_lucy", f"{X}:richardson_lucy", lambda c: dict(image=c.img, psf=c.psf, num_iter=5),
             {"image": "imgmask", "psf": "img", "num_iter": "int1", "boundary": "choice", "acceleration": "choice?",
              "callback_every": "int1"}),
        Seed("fista", f"{X}:fista", lambda c: dict(image=c.img, psf=c.psf, lam=0.01, num_iter=5),
             {"image": "imgmask", "psf": "img", "lam": "nonneg", "num_iter": "int1", "boundary": "choice"}),
        Seed("richardson_lucy_tv", f"{X}:richardson_lucy_tv",
             lambda c: dict(image=c.img, psf=c.psf, num_iter=5, tv_weight=0.002),
             {"image": "imgmask", "psf": "img", "num_iter": "int1", "tv_weight": "nonneg", "tv_epsilon": "pos?",
              "boundary": "choice", "negative": "choice", "stop": "choice?", "tol": "pos"}),
        Seed("sgp", f"{X}:sgp", lambda c: dict(image=c.img, psf=c.psf, num_iter=5),
             {"image": "imgmask", "psf": "img", "num_iter": "int1", "boundary": "choice", "negative": "choice",
              "stop": "choice?", "tol": "pos", "memory": "int1"}),
        Seed("landweber", f"{X}:landweber", lambda c: dict(image=c.img, psf=c.psf, num_iter=5),
             {"image": "imgmask", "psf": "img", "num_iter": "int1", "tau": "pos", "boundary": "choice",
              "negative": "choice", "stop": "choice?", "tol": "pos"}),
        Seed("tikhonov_miller", f"{X}:tikhonov_miller", lambda c: dict(image=c.img, psf=c.psf, num_iter=5),
             {"image": "imgmask", "psf": "img", "balance": "nonneg", "num_iter": "int1", "boundary": "choice",
              "negative": "choice", "stop": "choice?", "tol": "pos"}),
        Seed("poisson_discrepancy", f"{X}:poisson_discrepancy", lambda c: dict(y=c.img, hx=c.img + 1.0),
             {"y": "img", "hx": "img"}),
        Seed("prepare_psf", f"{X}:prepare_psf", lambda c: dict(psf=c.psf, image_shape=(24, 24)),
             {"psf": "img"}),
        Seed("psf_centroid", f"{X}:psf_centroid", lambda c: dict(psf=c.psf), {"psf": "img"}),
        Seed("blind_l0", f"{X}:blind_l0", lambda c: dict(image=c.img, kernel_size=5, final_iter=3),
             {"image": "imgmask", "kernel_size": "int3", "lambda_pixel": "nonneg", "lambda_grad": "nonneg",
              "gamma": "nonneg", "xk_iter": "int1", "num_scales": "int1?", "max_kernel_px": "int3?", "kappa": "pos",
              "beta_max": "pos", "mu_max": "pos", "final": "choice?", "final_iter": "int1"}, heavy=True),
        Seed("l0_restore", f"{X}:l0_restore", lambda c: dict(image=c.img, kernel=c.psf),
             {"image": "img", "kernel": "img", "lambda_pixel": "nonneg", "lambda_grad": "nonneg", "kappa": "pos",
              "beta_max": "pos", "mu_max": "pos"}),
        Seed("convolve", f"{X}:convolve", lambda c: dict(image=c.img, psf=c.psf),
             {"image": "img", "psf": "img", "boundary": "choice"}),
        Seed("ConvolutionOperator", f"{X}:ConvolutionOperator",
             lambda c: dict(psf=c.psf, image_shape=(24, 24)),
             {"psf": "img", "boundary": "choice", "transform": "choice"}),
        Seed("deconvolve_stack", f"{X}:deconvolve_stack",
             lambda c: dict(stack=c.stack, psf_sigma_um=5.0, pixel_size_um=5.0, num_iter=3, scheduler="synchronous"),
             {"psf_sigma_um": "pos", "pixel_size_um": "pos", "method": "choice", "chunk_px": "int8",
              "num_iter": "int1"}, heavy=True),
        Seed("get_method", f"{X}:get_method", lambda c: dict(name="rl"), {"name": "choice"},
             names={"name": ("method",)}),
        Seed("mse", f"{X}:mse", lambda c: dict(image0=c.img, image1=c.img + 1), {"image0": "img", "image1": "img"}),
        Seed("ssim", f"{X}:ssim", lambda c: dict(image0=c.img, image1=c.img + 1, data_range=250.0),
             {"image0": "img", "image1": "img", "data_range": "pos", "win_size": "int3", "k1": "pos", "k2": "pos"}),
        Seed("psnr", f"{X}:psnr", lambda c: dict(image_true=c.img, image_test=c.img + 1, data_range=250.0),
             {"image_true": "img", "image_test": "img", "data_range": "pos"}),
        Seed("normalize", f"{X}:normalize", lambda c: dict(image=c.img, low=10.0, high=200.0),
             {"image": "img", "low": "real?", "high": "real?"}),
        Seed("usaf1951", f"{X}:usaf1951", lambda c: dict(pixel_size_um=20.0, groups=(2, 3)),
             {"pixel_size_um": "pos", "margin_um": "nonneg"}),
        Seed("lp_per_mm", f"{X}:lp_per_mm", lambda c: dict(group=2, element=3),
             {"group": "int-2", "element": "int1"}),
        Seed("resolved_element", f"{X}:resolved_element", lambda c: dict(image=c.chart.image, chart=c.chart),
             {"image": "img", "chart": "obj", "threshold": "frac", "rule": "choice"}),
        Seed("score_restoration", f"{X}:score_restoration",
             lambda c: dict(restored=c.chart.image, reference=c.chart.image, chart=c.chart),
             {"restored": "img", "reference": "img?", "chart": "obj?"}),
        Seed("chart_levels", f"{X}:chart_levels", lambda c: dict(image=c.chart.image, chart=c.chart),
             {"image": "img", "chart": "obj", "margin_um": "nonneg"}),
        Seed("simulate_scan_xrf", f"{X}:simulate_scan",
             lambda c: dict(truth=c.img, psf_sigma_um=10.0, step_um=5.0, truth_pixel_um=5.0, rng=0),
             {"truth": "img", "psf_sigma_um": "pos", "step_um": "pos", "dwell_s": "pos", "truth_pixel_um": "pos",
              "jitter_um": "nonneg", "mode": "choice"}),
        Seed("dot_scan", f"{X}:dot_scan", lambda c: dict(size_px=21),
             {"sigma_um": "pos", "sigma_v_um": "pos?", "rho": "unit", "peak_cps": "nonneg",
              "background_cps": "nonneg", "dwell_s": "pos", "step_um": "pos", "dot_diameter_um": "nonneg",
              "size_px": "int3"}),
        Seed("knife_edge_scan", f"{X}:knife_edge_scan", lambda c: dict(sigma_um=10.0, size_px=41),
             {"sigma_um": "pos", "angle_deg": "deg", "dwell_s": "pos", "step_um": "pos", "size_px": "int3"}),
        Seed("mineral_phantom", f"{X}:mineral_phantom", lambda c: dict(shape=(72, 72)),
             {"pixel_size_um": "pos", "dwell_s": "pos"}),
    ]


def _s3_seeds():
    return [
        Seed("make_beam_profile", f"{S}:make_beam_profile", lambda c: dict(name="gaussian"), {"name": "choice"},
             names={"name": ("profile",)}),
        Seed("GaussianProfile", f"{S}:GaussianProfile", lambda c: dict(floor=1e-3), {"floor": "frac"}),
        Seed("BoxGaussianProfile", f"{S}:BoxGaussianProfile", lambda c: dict(blur_fwhm=0.25),
             {"blur_fwhm": "pos", "floor": "frac"}),
        Seed("MeasuredProfile", f"{S}:MeasuredProfile",
             lambda c: dict(u=np.linspace(-2, 2, 41), intensity=np.exp(-np.linspace(-2, 2, 41) ** 2)),
             {"u": "arr", "intensity": "arr", "width": "pos?", "threshold": "prob"}),
        Seed("profile_samples", f"{S}:profile_samples", lambda c: dict(profile="gaussian", width=4.0, n=33),
             {"profile": "choice", "width": "pos", "n": "int3"}),
        Seed("ScanGeometry", f"{S}:ScanGeometry",
             lambda c: dict(x_range=4, step=1.0, omega_deg=np.arange(0, 180, 30.0)),
             {"x_range": "nonneg", "step": "pos", "beam_width": "pos?", "omega_deg": "arr", "profile": "choice",
              "axis_offset": "real"}),
        Seed("from_imaged11", f"{S}:from_imaged11", lambda c: dict(sx=1.0, sy=2.0, dty=0.5),
             {"sx": "realv", "sy": "realv", "dty": "realv", "y0": "real"}),
        Seed("superposed_mask", f"{S}:superposed_mask", lambda c: dict(geometry=c.small_geometry, xs=0.3, ys=-0.2),
             {"geometry": "obj", "xs": "real", "ys": "real", "px_per_beam": "pos"}),
        Seed("superposed_region", f"{S}:superposed_region",
             lambda c: dict(geometry=c.small_geometry, xs=0.3, ys=-0.2),
             {"geometry": "obj", "xs": "real", "ys": "real"}),
        Seed("sensitivity_map", f"{S}:sensitivity_map",
             lambda c: dict(geometry=c.small_geometry, xs=0.3, ys=-0.2, n=16, n_coarse=8),
             {"geometry": "obj", "xs": "real", "ys": "real", "n": "int2", "n_coarse": "int2", "combine": "choice"}),
        Seed("superposition_map", f"{S}:superposition_map", lambda c: dict(geometry=c.small_geometry, subdivision=2),
             {"geometry": "obj", "subdivision": "int1", "radius": "pos?", "r_min": "nonneg?",
              "radial_bin_width": "pos?", "hist_bin_width": "pos?", "combine": "choice", "sensitivity_grid": "int2"},
             heavy=True),
        Seed("CubicPhase", f"{S}:CubicPhase", lambda c: dict(lattice="fcc", a_angstrom=4.05),
             {"lattice": "choice", "a_angstrom": "pos"}),
        Seed("wavelength_from_energy", f"{S}:wavelength_from_energy", lambda c: dict(energy_keV=50.0),
             {"energy_keV": "pos"}),
        Seed("energy_from_wavelength", f"{S}:energy_from_wavelength", lambda c: dict(wavelength_angstrom=0.25),
             {"wavelength_angstrom": "pos"}),
        Seed("generate_hkl", f"{S}:generate_hkl", lambda c: dict(phase=c.phase, tth_max_deg=12.0, energy_keV=50.0),
             {"phase": "obj", "tth_max_deg": "pos", "energy_keV": "pos?", "tth_min_deg": "nonneg"}),
        Seed("predict_reflections", f"{S}:predict_reflections",
             lambda c: dict(U=c.U, reflections=c.data.reflections),
             {"U": "orient", "reflections": "obj", "omega_start_deg": "deg", "omega_range_deg": "pos"}),
        Seed("scattering_vectors", f"{S}:scattering_vectors",
             lambda c: dict(tth_deg=np.array([6.0, 7.0]), eta_deg=np.array([10.0, 20.0]), omega_deg=np.array([0., 5.])),
             {"tth_deg": "arr", "eta_deg": "arr", "omega_deg": "arr"}),
        Seed("random_orientations", f"{S}:random_orientations", lambda c: dict(n=3, seed=0), {"n": "int0"}),
        Seed("check_orientations", f"{S}:check_orientations", lambda c: dict(U=c.U), {"U": "orient", "tol": "pos"},
             names={"U": ("orientations",)}),
        Seed("misorientation_deg", f"{S}:misorientation_deg", lambda c: dict(U1=c.U, U2=c.U[::-1]),
             {"U1": "orient", "U2": "orient"}),
        Seed("misorientation_table", f"{S}:misorientation_table", lambda c: dict(Ua=c.U, Ub=c.U),
             {"Ua": "orient", "Ub": "orient"}),
        Seed("ubi_from_orientation", f"{S}:ubi_from_orientation", lambda c: dict(U=c.U[0], phase=c.phase),
             {"U": "orient", "phase": "obj"}),
        Seed("orientation_from_ubi", f"{S}:orientation_from_ubi",
             lambda c: dict(ubi=np.eye(3) * 4.0495, phase=c.phase), {"ubi": "ubi", "phase": "obj"}),
        Seed("sample_to_specimen", f"{S}:sample_to_specimen", lambda c: dict(sx=1.0, sy=2.0),
             {"sx": "realv", "sy": "realv"}),
        Seed("voronoi_phantom", f"{S}:voronoi_phantom",
             lambda c: dict(diameter_um=12.0, n_grains=3, seed=0, pixel_um=1.0),
             {"diameter_um": "pos", "n_grains": "int1", "pixel_um": "pos", "min_seed_distance_um": "nonneg?"}),
        Seed("phantom_from_labels", f"{S}:phantom_from_labels",
             lambda c: dict(labels=np.array([[0, 1], [1, 2]]), pixel_um=1.0, seed=0),
             {"labels": "arr", "pixel_um": "pos"}),
        Seed("scan_geometry", f"{S}:scan_geometry", lambda c: dict(radius_um=8.0, step_um=4.0, omega_step_deg=10.0),
             {"radius_um": "pos", "step_um": "pos", "beam_um": "pos?", "omega_step_deg": "pos",
              "omega_start_deg": "deg", "omega_range_deg": "pos", "profile": "choice", "axis_offset_um": "real"}),
        Seed("simulate_scan_s3", f"{S}:simulate_scan",
             lambda c: dict(phantom=c.phantom, beam_um=4.0, step_um=4.0, omega_step_deg=4.0, seed=0, tth_max_deg=10.0),
             {"phantom": "obj", "beam_um": "pos?", "step_um": "pos", "omega_step_deg": "pos", "omega_range_deg": "pos",
              "energy_keV": "pos?", "tth_max_deg": "pos", "detection_probability": "prob", "detection_mode": "choice",
              "spurious_per_frame": "nonneg", "noise_eta_deg": "nonneg", "noise_omega_deg": "nonneg",
              "lit_at": "choice", "profile": "choice", "detection_threshold": "nonneg"}, heavy=True),
        Seed("index_peaks", f"{S}:index_peaks", lambda c: dict(data=c.data, omega_tol_deg=2.0),
             {"data": "obj", "angle_tol_deg": "pos", "eta_tol_deg": "pos", "omega_tol_deg": "pos",
              "cluster_tol_deg": "pos", "min_votes": "int1", "min_completeness": "prob", "distinct_deg": "nonneg",
              "max_candidates": "int1?", "max_failures": "int1", "merge_deg": "nonneg"}, heavy=True),
        Seed("match_peaks", f"{S}:match_peaks",
             lambda c: dict(pred_ring=np.array([0, 1]), pred_eta_deg=np.array([10.0, 50.0]),
                            pred_omega_deg=np.array([5.0, 40.0]), obs_ring=np.array([0, 1, 1]),
                            obs_eta_deg=np.array([10.2, 50.1, 90.0]), obs_omega_deg=np.array([5.1, 40.2, 3.0])),
             {"pred_eta_deg": "arr", "obs_omega_deg": "arr", "eta_tol_deg": "pos", "omega_tol_deg": "pos"}),
        Seed("merge_spots", f"{S}:merge_spots", lambda c: dict(data=c.data), {"data": "obj", "merge_deg": "nonneg"}),
        Seed("refine_orientation", f"{S}:refine_orientation",
             lambda c: dict(U=c.table.U[0], spots=c.spots, reflections=c.data.reflections),
             {"U": "orient", "spots": "obj", "reflections": "obj", "eta_tol_deg": "pos", "omega_tol_deg": "pos",
              "n_iter": "int1", "coarse": "pos", "omega_range_deg": "pos"}),
        Seed("PeakIndex", f"{S}:PeakIndex",
             lambda c: dict(ring=np.array([0, 1]), eta_deg=np.array([1.0, 2.0]), omega_deg=np.array([3.0, 4.0])),
             {"ring": "arr", "eta_deg": "arr", "omega_deg": "arr"}),
        Seed("read_grain_file", f"{S}:read_grain_file", lambda c: dict(path=c.grain_file), {"path": "obj"}),
        Seed("orientations_from_grain_file", f"{S}:orientations_from_grain_file",
             lambda c: dict(path=c.grain_file, phase=c.phase),
             {"path": "obj", "phase": "obj?", "cell_tol": "frac", "angle_tol_deg": "pos"}),
        Seed("observation_table", f"{S}:observation_table",
             lambda c: dict(data=c.data, candidates=c.table.U, omega_tol_deg=2.0),
             {"data": "obj", "candidates": "orient", "eta_tol_deg": "pos", "omega_tol_deg": "pos"}),
        Seed("scan_indices", f"{S}:scan_indices",
             lambda c: dict(geometry=c.geometry, xs=np.array([0.5, 1.0]), ys=np.array([0.0, -2.0])),
             {"geometry": "obj", "xs": "vec", "ys": "vec"}),
        Seed("completeness", f"{S}:completeness",
             lambda c: dict(table=c.table, geometry=c.geometry, xs=np.array([0.5, 1.0]), ys=np.array([0.0, -2.0])),
             {"table": "obj", "geometry": "obj", "xs": "vec", "ys": "vec", "count": "choice", "expected": "choice",
              "chunk_size": "int1", "backend": "choice"}),
        Seed("map_targets", f"{S}:map_targets", lambda c: dict(step_um=4.0, subdivision=2, radius_um=8.0),
             {"step_um": "pos", "subdivision": "int1", "radius_um": "pos"}),
        Seed("orientation_map", f"{S}:orientation_map", lambda c: dict(data=c.data, table=c.table, subdivision=2),
             {"data": "obj", "table": "obj", "subdivision": "int1", "radius_um": "pos?", "count": "choice",
              "expected": "choice", "tie_break": "choice", "chunk_size": "int1", "scorer": "choice"}, heavy=True),
        Seed("likelihood_scores", f"{S}:likelihood_scores",
             lambda c: dict(table=c.table, geometry=c.geometry, xs=c.omap.xs, ys=c.omap.ys),
             {"table": "obj", "geometry": "obj", "window_deg": "pos", "prior_width": "pos", "passes": "int0",
              "smoothing": "nonneg", "top_k": "int1"}, heavy=True),
        Seed("core_width", f"{S}:core_width",
             lambda c: dict(profile=importlib.import_module(S).make_beam_profile("gaussian"), width=4.0),
             {"profile": "obj", "width": "pos"}),
        Seed("boundary_edges", f"{S}:boundary_edges",
             lambda c: dict(labels=np.array([[0, 1], [1, 1]]), x_centres=np.array([0.0, 1.0]),
                            y_centres=np.array([0.0, 1.0])),
             {"labels": "arr", "x_centres": "arr", "y_centres": "arr"}),
        Seed("misorientation_differ", f"{S}:misorientation_differ", lambda c: dict(U=c.U),
             {"U": "orient", "threshold_deg": "pos"}),
        Seed("phantom_boundary", f"{S}:phantom_boundary", lambda c: dict(phantom=c.phantom),
             {"phantom": "obj", "threshold_deg": "pos"}),
        Seed("phantom_boundary_points", f"{S}:phantom_boundary_points", lambda c: dict(phantom=c.phantom),
             {"phantom": "obj", "threshold_deg": "pos"}),
        Seed("phantom_boundary_segments", f"{S}:phantom_boundary_segments", lambda c: dict(phantom=c.phantom),
             {"phantom": "obj", "threshold_deg": "pos"}),
        Seed("map_boundary", f"{S}:map_boundary", lambda c: dict(omap=c.omap), {"omap": "obj", "threshold_deg": "pos"}),
        Seed("map_boundary_segments", f"{S}:map_boundary_segments", lambda c: dict(omap=c.omap),
             {"omap": "obj", "threshold_deg": "pos"}),
        Seed("evaluate_map", f"{S}:evaluate_map", lambda c: dict(omap=c.omap, phantom=c.phantom),
             {"omap": "obj", "phantom": "obj", "threshold_deg": "pos", "hist_bin_um": "pos",
              "interior_margin_um": "nonneg?"}),
        Seed("reconstruct_phantom", f"{S}:reconstruct_phantom",
             lambda c: dict(diameter_um=12, beam_um=4, step_um=4, omega_step_deg=3, subdivision=2, n_grains=2, seed=1,
                            pixel_um=1.0),
             {"diameter_um": "pos", "beam_um": "pos", "step_um": "pos", "omega_step_deg": "pos", "subdivision": "int1",
              "n_grains": "int1", "pixel_um": "pos", "energy_keV": "pos", "tth_max_deg": "pos",
              "omega_range_deg": "pos", "detection_probability": "prob", "match_tol_deg": "pos",
              "boundary_threshold_deg": "pos", "hist_bin_um": "pos", "eta_tol_deg": "pos?"}, heavy=True),
        Seed("completeness_at", f"{S}:completeness_at", lambda c: dict(result=c.recon, xs=0.5, ys=0.5),
             {"result": "obj", "xs": "real", "ys": "real", "count": "choice?", "tie_break": "choice?"}),
        Seed("ipf_colors", f"{S}:ipf_colors", lambda c: dict(U=c.U), {"U": "orient", "axis": "choice"}),
        Seed("ipf_key", f"{S}:ipf_key", lambda c: dict(size=16), {"size": "int2"}),
        Seed("map_rgba", f"{S}:map_rgba", lambda c: dict(omap=c.omap), {"omap": "obj", "axis": "choice"}),
        Seed("phantom_rgba", f"{S}:phantom_rgba", lambda c: dict(phantom=c.phantom),
             {"phantom": "obj", "axis": "choice", "max_px": "int1"}),
        Seed("round_half_away", f"{S}:round_half_away", lambda c: dict(q=np.array([0.5, -1.5])), {"q": "vec"}),
        Seed("get_beam_profile", f"{S}:get_beam_profile", lambda c: dict(profile="gaussian"),
             {"profile": "choice"}),
        Seed("to_imaged11", f"{S}:to_imaged11", lambda c: dict(xs=1.0, ys=2.0, X=0.5),
             {"xs": "realv", "ys": "realv", "X": "realv", "y0": "real"}),
        Seed("specimen_to_sample", f"{S}:specimen_to_sample", lambda c: dict(xs=1.0, ys=2.0),
             {"xs": "realv", "ys": "realv"}),
        Seed("cos_sin_deg", f"{S}:cos_sin_deg", lambda c: dict(omega_deg=np.array([0.0, 30.0, 90.0])),
             {"omega_deg": "vec"}),
        Seed("b_matrix", f"{S}:b_matrix", lambda c: dict(unit_cell=(4.05, 4.05, 4.05, 90.0, 90.0, 90.0)),
             {"unit_cell": "arr"}),
        Seed("laue_solutions", f"{S}:laue_solutions",
             lambda c: dict(U=c.U[:1], B=c.phase.B, hkl=c.data.reflections.hkl[:4], wavelength_angstrom=0.25),
             {"U": "orient", "B": "arr", "hkl": "arr", "wavelength_angstrom": "pos"}, nan_ok=True),
        Seed("boundary_segments", f"{S}:boundary_segments",
             lambda c: dict(labels=np.array([[0, 1], [1, 1]]), x_centres=np.array([0.0, 1.0]),
                            y_centres=np.array([0.0, 1.0]), differ=np.ones((2, 2), bool)),
             {"labels": "arr", "x_centres": "arr", "y_centres": "arr", "differ": "arr?"}),
    ]


def _io_seeds():
    def save_kwargs(c):
        import os
        import tempfile

        d = tempfile.mkdtemp(prefix="fuzz_save_")
        return dict(path=os.path.join(d, "out.h5"), data=c.img, pixel_size_um=5.0, method="raw")

    def load_kwargs(c):
        import os
        import tempfile

        d = tempfile.mkdtemp(prefix="fuzz_load_")
        p = os.path.join(d, "in.npy")
        np.save(p, c.img)
        return dict(path=p, pixel_size_um=5.0)

    return [
        Seed("save_map", f"{IO}:save_map", save_kwargs,
             {"data": "map", "pixel_size_um": "pos?", "method": "text", "path": "obj"}),
        Seed("load_map", f"{IO}:load_map", load_kwargs,
             {"path": "obj", "pixel_size_um": "pos?", "channel": "index", "header": "choice", "reader": "choice?"}),
        Seed("build_provenance", f"{IO}:build_provenance", lambda c: dict(method="raw", pixel_size_um=5.0),
             {"pixel_size_um": "pos?"}),
        Seed("reader_for", f"{IO}:reader_for", lambda c: dict(path="x.tif"), {"path": "obj"}),
        Seed("writer_for", f"{IO}:writer_for", lambda c: dict(path="x.tif"), {"path": "obj"}),
    ]


#: valid values of the choice parameters (a mutation of a choice parameter that is one of these is valid)
CHOICE_NOTES = {"method": "an unknown restoration method"}


@functools.lru_cache(maxsize=1)
def seeds() -> dict:
    """Every seed, by key."""
    return {s.key: s for s in _xrf_seeds() + _s3_seeds() + _io_seeds()}


def jobs(only: str | None = None):
    """Every (seed, parameter, mutation) of the catalogue, optionally for one group (xrf / s3dxrd / io)."""
    out = []
    for s in seeds().values():
        if only and only not in s.target:
            continue
        for p, domain in s.params.items():
            for label, _f, _invalid in mutations(domain):
                if s.heavy and label not in HEAVY_LABELS:
                    continue
                out.append({"kind": "call", "seed": s.key, "param": p, "mut": label})
    return out
