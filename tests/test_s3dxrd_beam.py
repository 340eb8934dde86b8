"""Beam profiles as objects (superres_widgets.s3dxrd.beam): the registry, and user profiles
defined HERE, outside the package, used by every layer that asks "is this point lit by
measurement (X, omega)?" -- exact regions, the raster, the spot map, the forward model and
the reconstruction -- each checked against an independent reference (brute force, or the
box of the same lit width)."""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass

import numpy as np
import pytest

from superres_widgets import s3dxrd
from superres_widgets.s3dxrd import (
    BeamProfile,
    BoxProfile,
    ScanGeometry,
    beam_profiles,
    cos_sin_deg,
    get_beam_profile,
    phantom_from_labels,
    profile_samples,
    random_orientations,
    reconstruct_phantom,
    register_beam_profile,
    scan_indices,
    simulate_scan,
    superposed_mask,
    superposed_region,
    superposition_map,
    unregister_beam_profile,
)


# ---------------------------------------------------------------------------
# user profiles (not in the package)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NarrowBox(BeamProfile):
    """A box of full width ``fraction * b``."""

    fraction: float = 0.6

    def weight(self, d, width):
        return (np.abs(np.asarray(d, dtype=float)) <= 0.5 * self.fraction * width).astype(float)

    def support(self, width):
        return 0.5 * self.fraction * width


@dataclass(frozen=True)
class Trapezoid(BeamProfile):
    """1 for |d| <= 0.2 b, linear to 0 at |d| = 0.5 b; the exact polygons clip at 0.35 b."""

    def weight(self, d, width):
        t = np.abs(np.asarray(d, dtype=float)) / width
        return np.clip((0.5 - t) / 0.3, 0.0, 1.0)

    def support(self, width):
        return 0.5 * width

    def clip_half_width(self, width):
        return 0.35 * width  # half maximum


@pytest.fixture(autouse=True, scope="module")
def registered():
    register_beam_profile("test-narrow", NarrowBox(), replace=True)
    register_beam_profile("test-trapezoid", Trapezoid(), replace=True)
    yield
    unregister_beam_profile("test-narrow")
    unregister_beam_profile("test-trapezoid")


OMEGA = np.arange(0.0, 180.0, 10.0)


def _weights_brute(profile, xs, ys, X, omega_deg, width):
    """Weight of every measurement at points (xs, ys), straight from eq. (1)."""
    c, s = cos_sin_deg(np.asarray(omega_deg, dtype=float))
    d = np.multiply.outer(np.asarray(xs), c) - np.multiply.outer(np.asarray(ys), s) - np.asarray(X)
    return profile.weight(d, width)


# ---------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------
def test_registry_lists_looks_up_and_names():
    names = beam_profiles()
    assert list(names)[0] == "box" and {"test-narrow", "test-trapezoid"} <= set(names)
    assert get_beam_profile("test-narrow") == NarrowBox()
    p = Trapezoid()
    assert get_beam_profile(p) is p
    g = ScanGeometry(profile="test-trapezoid")
    assert g.profile_name == "test-trapezoid" and g.profile == Trapezoid()
    assert "profile='test-trapezoid'" in repr(g)
    assert ScanGeometry(profile=NarrowBox()) == ScanGeometry(profile="test-narrow")
    assert ScanGeometry(profile=NarrowBox(0.5)) != ScanGeometry(profile="test-narrow")
    with pytest.raises(ValueError, match=r"^profile must be one of \['box', .*'test-narrow'.*got 'lorentzian'"):
        ScanGeometry(profile="lorentzian")


def test_geometry_with_a_user_profile_pickles():
    g = ScanGeometry(x_range=5, profile="test-trapezoid")
    h = pickle.loads(pickle.dumps(g))
    assert h == g and hash(h) == hash(g) and h.profile_name == "test-trapezoid"
    assert g.field_half_width == pytest.approx(5.5)


class _Odd(BeamProfile):
    def weight(self, d, width):
        d = np.asarray(d, dtype=float)
        return np.where(np.abs(d) <= 0.5 * width, 0.5 + 0.4 * np.sign(d), 0.0)

    def support(self, width):
        return 0.5 * width


class _Hollow(BeamProfile):
    def weight(self, d, width):
        a = np.abs(np.asarray(d, dtype=float))
        return ((a <= 0.5 * width) & (a > 0.1 * width)).astype(float)

    def support(self, width):
        return 0.5 * width


class _Leaky(BeamProfile):
    def weight(self, d, width):
        return np.full(np.shape(d), 0.5)

    def support(self, width):
        return 0.5 * width


class _Bright(BeamProfile):
    def weight(self, d, width):
        return 2.0 * (np.abs(np.asarray(d)) <= 0.5 * width)

    def support(self, width):
        return 0.5 * width


class _Infinite(BoxProfile):
    def support(self, width):
        return math.inf


@pytest.mark.parametrize(
    "profile, message",
    [
        (lambda d, w: d, "must be a BeamProfile"),
        (_Odd(), "even"),
        (_Hollow(), "> 0 inside the support"),
        (_Leaky(), "0 beyond the support"),
        (_Bright(), r"in \[0, 1\]"),
        (_Infinite(), "finite"),
    ],
)
def test_registration_checks_the_conventions(profile, message):
    with pytest.raises(ValueError, match=f"^profile.*{message}"):
        register_beam_profile("bad", profile)
    assert "bad" not in beam_profiles()


def test_registration_names():
    with pytest.raises(ValueError, match="^name must be a non-empty string"):
        register_beam_profile("", NarrowBox())
    with pytest.raises(ValueError, match="^name 'test-narrow' is already"):
        register_beam_profile("test-narrow", NarrowBox(0.4))
    with pytest.raises(ValueError, match="^name 'box' is the built-in"):
        register_beam_profile("box", NarrowBox(), replace=True)
    with pytest.raises(ValueError, match="^name 'box' is a built-in"):
        unregister_beam_profile("box")
    with pytest.raises(ValueError, match="^name must be one of"):
        unregister_beam_profile("never-registered")


def test_profile_samples_for_the_front_end():
    s = profile_samples("test-trapezoid", 2.0, n=7)
    assert s["name"] == "test-trapezoid" and s["support"] == 1.0 and s["clip_half_width"] == pytest.approx(0.7)
    d = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(s["weights"], Trapezoid().weight(d, 2.0))
    assert s["flat"] is False and s["weights"][0] == 0.0
    box = profile_samples("box", 1.0, n=5)
    assert box["flat"] is True and box["weights"] == [1.0] * 5  # closed box: its ends are lit
    with pytest.raises(ValueError, match="^profile must be one of"):
        profile_samples("nope", 1.0)


# ---------------------------------------------------------------------------
# exact regions, raster, spot map
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("xs, ys", [(0.0, 0.0), (3.0, 2.0), (1.25, -0.75), (-4.5, 2.25)])
def test_exact_region_of_a_narrow_box_is_the_box_of_that_width(xs, ys):
    # the measurement list does not depend on the beam; the strips are |d| <= 0.3 b
    narrow = superposed_region(ScanGeometry(beam_width=1.5, omega_deg=OMEGA, profile="test-narrow"), xs, ys)
    box = superposed_region(ScanGeometry(beam_width=0.9, omega_deg=OMEGA), xs, ys)
    assert narrow.area == pytest.approx(box.area, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(narrow.vertices, box.vertices, atol=1e-12)
    wide = superposed_region(ScanGeometry(beam_width=1.5, omega_deg=OMEGA), xs, ys)
    assert narrow.area < wide.area


def test_exact_region_clips_at_the_profiles_half_width_checked_by_sampling():
    g = ScanGeometry(beam_width=1.2, omega_deg=OMEGA, profile="test-trapezoid")
    reg = superposed_region(g, 1.25, -0.75)
    m = reg.measurements
    # brute force: points where every measurement has |d| <= 0.35 b (Monte Carlo, 200k points)
    lo, hi = reg.vertices.min(axis=0), reg.vertices.max(axis=0)
    lo, hi = lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo)  # a window around the polygon
    rng = np.random.default_rng(3)
    P = lo + (hi - lo) * rng.random((200_000, 2))
    c, s = cos_sin_deg(m.omega_deg)
    d = np.abs(P[:, :1] * c - P[:, 1:] * s - m.X)
    inside = np.all(d <= 0.35 * 1.2, axis=1)
    assert reg.area == pytest.approx(inside.mean() * np.prod(hi - lo), rel=0.01)
    # the lit set (w > 0, |d| < 0.5 b) is larger than the clipped polygon
    assert superposed_mask(g, 1.25, -0.75, px_per_beam=100).area > 1.5 * reg.area
    assert reg.area_beam2 == pytest.approx(reg.area / 1.44)


@pytest.mark.parametrize("name", ["test-narrow", "test-trapezoid"])
def test_raster_asks_the_profile_pixel_by_pixel(name):
    g = ScanGeometry(beam_width=1.3, omega_deg=OMEGA, profile=name)
    for xs, ys in [(0.0, 0.0), (2.5, 1.75)]:
        r = superposed_mask(g, xs, ys, px_per_beam=30)
        m = g.measurements(xs, ys)
        xc, yc = r.pixel_centres
        X, Y = np.meshgrid(xc, yc)
        w = _weights_brute(get_beam_profile(name), X, Y, m.X, m.omega_deg, 1.3)
        np.testing.assert_array_equal(r.hits, (w > 0).sum(axis=-1))
        np.testing.assert_array_equal(r.mask, np.all(w > 0, axis=-1))
    # the support of the narrow box is 0.39: the raster converges to the exact polygon
    if name == "test-narrow":
        fine = superposed_mask(g, 0.0, 0.0, px_per_beam=200)
        assert fine.area == pytest.approx(superposed_region(g, 0.0, 0.0).area, rel=0.01)


def test_spot_map_of_a_narrow_box_equals_the_box_of_that_width():
    narrow = superposition_map(ScanGeometry(x_range=5, beam_width=2.0, profile="test-narrow"), subdivision=2)
    box = superposition_map(ScanGeometry(x_range=5, beam_width=1.2), subdivision=2)
    np.testing.assert_allclose(narrow.area, box.area, rtol=1e-12, atol=1e-14)
    assert narrow.stats.mean_relative_size == pytest.approx(box.stats.mean_relative_size, rel=1e-12)


def test_box_numbers_of_the_paper_are_unchanged():
    g = ScanGeometry(x_range=10, step=1, omega_deg=OMEGA, profile=BoxProfile())
    assert superposed_region(g, 0, 0).area == pytest.approx(0.78740, abs=5e-6)
    assert superposed_region(g, 3, 2).area == pytest.approx(0.006933, abs=5e-7)
    assert (superposed_mask(g, 0, 0).count, superposed_mask(g, 3, 2).count) == (316, 3)
    st = superposition_map(g, subdivision=4).stats
    assert 0.18 <= st.mean_relative_size <= 0.2 and 0.12 <= st.com_error_fwhm <= 0.14


# ---------------------------------------------------------------------------
# forward model and reconstruction
# ---------------------------------------------------------------------------
def _lit_events_brute(sim, profile, beam_um):
    """(event, position) pairs lit by brute force: any cell of the grain with w > 0."""
    ph, d, pred = sim.phantom, sim.data, sim.truth.predicted
    out = set()
    ii, jj = np.nonzero(ph.labels >= 0)
    g_of = ph.labels[ii, jj]
    xs, ys = ph.x_centres[jj], ph.y_centres[ii]
    c, s = cos_sin_deg(pred.omega_deg)
    for e in range(pred.n_events):
        mine = g_of == pred.orientation[e]
        u = xs[mine] * c[e] - ys[mine] * s[e]
        w = profile.weight(u[:, None] - d.x_positions[None, :], beam_um)  # (cells, positions)
        for k in np.nonzero((w > 0).any(axis=0))[0]:
            out.add((e, int(k)))
    return out


@pytest.mark.parametrize("name", ["test-narrow", "test-trapezoid"])
def test_forward_model_lights_grains_where_the_profile_does(name):
    lab = -np.ones((41, 41), dtype=int)
    lab[18:23, 14:20] = 0
    lab[5:9, 25:33] = 1
    ph = phantom_from_labels(lab, 0.5, random_orientations(2, seed=5))
    sim = simulate_scan(ph, beam_um=3.0, step_um=2.0, omega_step_deg=4.0, profile=name)
    assert sim.data.geometry.profile_name == name
    pred = sim.truth.predicted
    # events of a record: (grain, hkl, solution) -> event row
    key = {(int(g), int(h), int(s)): e for e, (g, h, s) in
           enumerate(zip(pred.orientation, pred.hkl_index, pred.solution))}
    got = {(key[(int(g), int(h), int(s))], int(k)) for g, h, s, k in
           zip(sim.truth.grain, sim.truth.hkl_index, sim.truth.solution, sim.data.k)}
    want = _lit_events_brute(sim, get_beam_profile(name), 3.0)
    assert got == want and len(got) > 50
    if name == "test-narrow":  # fewer frames than the full box
        box = simulate_scan(ph, beam_um=3.0, step_um=2.0, omega_step_deg=4.0)
        assert sim.data.n_peaks < box.data.n_peaks


def test_reconstruction_counts_only_frames_the_profile_lights():
    g = ScanGeometry(x_range=10, step=1.0, beam_width=1.0, omega_deg=OMEGA, profile="test-narrow")
    rng = np.random.default_rng(2)
    xs, ys = rng.uniform(-6, 6, (2, 300))
    k, ok, _ = scan_indices(g, xs, ys)
    c, s = cos_sin_deg(OMEGA)
    d = np.abs(np.multiply.outer(xs, c) - np.multiply.outer(ys, s) - (k - g.k_max) * g.step)
    np.testing.assert_array_equal(ok, d <= 0.3 + 1e-6)
    assert 0.3 < ok.mean() < 0.9  # a beam 0.6 step wide misses part of the specimen
    # a box one step wide lights every target at its nearest position
    assert scan_indices(g.replace(profile="box"), xs, ys)[1].all()


def test_reconstruct_phantom_with_a_user_profile():
    wide = reconstruct_phantom(diameter_um=32, n_grains=3, omega_step_deg=3.0, seed=2, profile="test-trapezoid")
    narrow = reconstruct_phantom(diameter_um=32, n_grains=3, omega_step_deg=3.0, seed=2, profile="test-narrow")
    assert wide.parameters["profile"] == "test-trapezoid" and narrow.geometry.profile == NarrowBox()
    assert narrow.data.n_peaks < wide.data.n_peaks
    # a 2.4 um beam on a 4 um step leaves targets between the strips unseen in some frames
    assert wide.subpixel.fraction_correct > 0.8
    assert np.mean(narrow.subpixel.completeness) < np.mean(wide.subpixel.completeness)


def test_every_public_name_is_still_exported():
    for name in ("ScanGeometry", "superposed_region", "superposed_mask", "superposition_map",
                 "SuperpositionMapResult", "BEAM_PROFILES", "reconstruct_phantom", "phantom_boundary_points",
                 "ipf_colors", "map_rgba", "phantom_rgba", "boundary_segments", "register_beam_profile"):
        assert name in s3dxrd.__all__ and hasattr(s3dxrd, name)


# ---------------------------------------------------------------------------
# beams with tails (issue 11): Gaussian, box (x) Gaussian, measured
# ---------------------------------------------------------------------------
from superres_widgets.s3dxrd import (  # noqa: E402
    BoxGaussianProfile,
    GaussianProfile,
    MeasuredProfile,
    make_beam_profile,
    sensitivity_map,
    sensitivity_product,
)
from superres_widgets.s3dxrd.beam import _check_profile  # noqa: E402


def test_builtin_tail_profiles_are_registered_and_keep_the_conventions():
    names = beam_profiles()
    assert list(names)[:3] == ["box", "gaussian", "box_gaussian"]
    for name in ("gaussian", "box_gaussian"):
        _check_profile(names[name])  # even, in [0, 1], > 0 inside the support, 0 beyond
        assert not names[name].is_flat(1.0)
    assert BoxProfile().is_flat(1.0) and NarrowBox().is_flat(1.0)  # a user box without flat=True
    with pytest.raises(ValueError, match="^name 'gaussian' is the built-in"):
        register_beam_profile("gaussian", GaussianProfile(floor=0.01), replace=True)
    with pytest.raises(ValueError, match="^name 'box_gaussian' is a built-in"):
        unregister_beam_profile("box_gaussian")


def test_gaussian_profile_against_its_formula():
    p = GaussianProfile(floor=1e-3)
    d = np.linspace(-3, 3, 1201)
    g = np.exp(-4 * np.log(2) * (d / 1.7) ** 2)
    np.testing.assert_allclose(p.weight(d, 1.7), np.maximum((g - 1e-3) / (1 - 1e-3), 0), atol=1e-15)
    # FWHM = b: half maximum (of w) at the clip half-width, dark at the support
    assert p.weight(p.clip_half_width(1.7), 1.7) == pytest.approx(0.5, abs=1e-12)
    assert p.clip_half_width(1.7) == pytest.approx(0.85, rel=2e-3)
    assert p.weight(p.support(1.7) * (1 - 1e-9), 1.7) > 0 and p.weight(p.support(1.7), 1.7) == pytest.approx(0)
    assert p.support(1.0) == pytest.approx(np.sqrt(np.log(1e3) / (4 * np.log(2))), rel=1e-12)


def test_box_gaussian_profile_is_a_numerical_convolution():
    p = BoxGaussianProfile(blur_fwhm=0.4, floor=1e-4)
    b = 2.0
    sigma = 0.4 * b / (2 * np.sqrt(2 * np.log(2)))
    # brute force: integrate the Gaussian over the box around d (cumulative sums on a fine grid)
    h = 1e-5
    x = np.arange(-8, 8 + h / 2, h)
    cum = np.concatenate([[0.0], np.cumsum(np.exp(-0.5 * (x / sigma) ** 2))])

    def conv(d):
        lo = np.searchsorted(x, d - b / 2)
        hi = np.searchsorted(x, d + b / 2)
        return cum[hi] - cum[lo]

    centre = conv(np.array([0.0]))[0]
    rng = np.random.default_rng(4)
    d = rng.uniform(-1.6, 1.6, 40)
    want = np.maximum((conv(d) / centre - 1e-4) / (1 - 1e-4), 0)
    np.testing.assert_allclose(p.weight(d, b), want, atol=2e-5)
    # the support is where the blurred box falls to the floor
    assert conv(np.array([p.support(b)]))[0] / centre == pytest.approx(1e-4, rel=2e-3)
    assert p.weight(p.clip_half_width(b), b) == pytest.approx(0.5, abs=1e-9)


def test_measured_profile_symmetrises_normalises_and_interpolates():
    u = np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0])  # asymmetric sampling, a slanted top
    intensity = np.array([0.0, 2.0, 6.0, 8.0, 4.0, 0.0])
    p = MeasuredProfile(u, intensity)
    # w(d) = (I(d) + I(-d)) / 2 / max, I linear between samples and 0 outside
    d = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.6])
    I_ = lambda v: np.interp(v, u, intensity, left=0, right=0)  # noqa: E731
    want = 0.5 * (I_(d) + I_(-d)) / 8.0
    np.testing.assert_allclose(p.weight(d, 1.0), want, atol=1e-15)
    np.testing.assert_allclose(p.weight(-d, 1.0), want, atol=1e-15)
    assert p.support(1.0) == pytest.approx(1.5) and p.support(2.0) == pytest.approx(3.0)
    assert p.weight(p.clip_half_width(1.0), 1.0) == pytest.approx(0.5)
    _check_profile(p)
    # the same samples in micrometres with their width
    q = MeasuredProfile(4.0 * u, intensity, width=4.0)
    assert q == p and hash(q) == hash(p)
    assert pickle.loads(pickle.dumps(p)) == p
    register_beam_profile("test-measured", p, replace=True)
    try:
        g = ScanGeometry(profile="test-measured", beam_width=1.0)
        assert g.profile_name == "test-measured" and g.profile == p
    finally:
        unregister_beam_profile("test-measured")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(u=[], intensity=[]), "^u must be a 1-D list of at least 2"),
        (dict(u=[0.0, np.nan], intensity=[1, 1]), "^u must be finite"),
        (dict(u=[0.0, 1.0], intensity=[1, np.inf]), "^intensity must be finite"),
        (dict(u=[0.0, -1.0, 1.0], intensity=[1, 1, 1]), r"^u must be sorted"),
        (dict(u=[-1.0, 0.0, 1.0], intensity=[0.1, 1, -0.2]), "^intensity must be >= 0"),
        (dict(u=[-1.0, 0.0, 1.0], intensity=[0, 0, 0]), "^intensity must not be all 0"),
        (dict(u=[-1.0, 0.0, 1.0], intensity=[1, 1]), "^intensity must have the shape"),
        (dict(u=[-2.0, -1.0, 0.0, 1.0, 2.0], intensity=[1, 1, 0, 1, 1]), "^intensity: .* 0 inside"),
        (dict(u=[-1.0, 0.0, 1.0], intensity=[0, 1, 0], width=-2.0), "^width must be > 0"),
        (dict(u=[-1.0, 0.0, 1.0], intensity=[0, 1, 0], threshold=1.0), r"^threshold must be in \[0, 1\)"),
    ],
)
def test_measured_profile_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MeasuredProfile(**kwargs)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: GaussianProfile(floor=0.0), r"^floor must be in \(0, 0.5\)"),
        (lambda: GaussianProfile(floor=np.nan), "^floor must be a finite number"),
        (lambda: BoxGaussianProfile(blur_fwhm=-0.1), "^blur_fwhm must be > 0"),
        (lambda: BoxGaussianProfile(blur_fwhm=np.inf), "^blur_fwhm must be a finite number"),
        (lambda: make_beam_profile("box_gaussian", blur=0.3), "^blur is not a parameter of the 'box_gaussian'"),
        (lambda: make_beam_profile("lorentzian"), r"^profile must be one of \["),
        (lambda: make_beam_profile("test-narrow", fraction=-1.0) and None, None),
        (lambda: ScanGeometry(profile="gaussian", beam_width=-1.0), "^beam_width must be > 0"),
        (lambda: ScanGeometry(profile="gaussian", beam_width=np.nan), "^beam_width must be a finite number"),
    ],
)
def test_tail_profile_bad_input(call, message):
    if message is None:  # a user dataclass takes its fields as parameters (no validation of its own)
        assert call() is None or True
        assert make_beam_profile("test-narrow", fraction=0.5) == NarrowBox(0.5)
        return
    with pytest.raises(ValueError, match=message):
        call()


def test_make_beam_profile():
    assert make_beam_profile("box_gaussian", blur_fwhm=0.5) == BoxGaussianProfile(0.5)
    assert make_beam_profile("gaussian") == GaussianProfile()
    assert make_beam_profile("measured", u=[-1, 0, 1], intensity=[0, 1, 0]).support(1.0) == 1.0
    assert make_beam_profile("box") == BoxProfile()
    with pytest.raises(ValueError, match="takes no parameters"):
        make_beam_profile(MeasuredProfile([-1, 0, 1], [0, 1, 0]), width=2.0)


# ---------------------------------------------------------------------------
# sensitivity maps (the product of the weights): brute force on random targets
# ---------------------------------------------------------------------------
def _brute_sensitivity(geometry, xs, ys, n=700, combine="product"):
    """S on an n x n float64 grid over the exact support polygon's box, straight from profile.weight."""
    m = geometry.measurements(xs, ys)
    s = geometry.profile.support(geometry.beam_width)
    big = superposed_region(geometry.replace(profile="box", beam_width=2 * s), xs, ys)  # strips |d| <= s
    lo, hi = big.vertices.min(axis=0), big.vertices.max(axis=0)
    x = lo[0] + (np.arange(n) + 0.5) * (hi[0] - lo[0]) / n
    y = lo[1] + (np.arange(n) + 0.5) * (hi[1] - lo[1]) / n
    X, Y = np.meshgrid(x, y)
    W = _weights_brute(geometry.profile, X, Y, m.X, m.omega_deg, geometry.beam_width)
    S = W.prod(axis=-1) if combine == "product" else W.min(axis=-1)
    cell = (x[1] - x[0]) * (y[1] - y[0])
    integral = S.sum() * cell
    return dict(integral=integral, peak=S.max(), centroid=np.array([(S * X).sum(), (S * Y).sum()]) * cell / integral)


def _random_tail_geometry(rng, name):
    n = int(rng.integers(5, 19))
    omega = np.sort(rng.uniform(0, 180, n))
    prof = {"gaussian": GaussianProfile(), "box_gaussian": BoxGaussianProfile(float(rng.uniform(0.15, 0.6))),
            "measured": MeasuredProfile([-1.2, -0.6, -0.3, 0.0, 0.3, 0.6, 1.2], [0.0, 0.1, 0.7, 1.0, 0.8, 0.15, 0.0])
            }[name]
    return ScanGeometry(x_range=8, step=1.0, beam_width=float(rng.uniform(0.8, 1.5)), omega_deg=omega, profile=prof)


@pytest.mark.parametrize("name", ["gaussian", "box_gaussian", "measured"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sensitivity_map_against_brute_force_products(name, seed):
    rng = np.random.default_rng(100 + seed)
    g = _random_tail_geometry(rng, name)
    xs, ys = rng.uniform(-5, 5, 2)
    sm = sensitivity_map(g, xs, ys)
    assert not sm.exact and sm.complete and not sm.is_empty
    m = g.measurements(xs, ys)
    # the map's values are the product of the weights at its cell centres
    X, Y = np.meshgrid(sm.x, sm.y)
    want = sensitivity_product(g, m, X, Y)
    np.testing.assert_allclose(sm.values, want, rtol=0, atol=1e-3 * want.max())
    brute = _weights_brute(g.profile, X, Y, m.X, m.omega_deg, g.beam_width).prod(axis=-1)
    np.testing.assert_allclose(want, brute, rtol=1e-12, atol=1e-300)
    # effective area, peak and centroid against a 700 x 700 float64 grid over the whole support
    ref = _brute_sensitivity(g, xs, ys)
    assert sm.integral == pytest.approx(ref["integral"], rel=1e-3)
    assert sm.peak == pytest.approx(ref["peak"], rel=1e-3)
    assert sm.effective_area == pytest.approx(ref["integral"] / ref["peak"], rel=1e-3)
    np.testing.assert_allclose(sm.centroid, ref["centroid"], atol=1e-3 * g.beam_width)
    # the peak is never below the true maximum of the grid values
    assert sm.peak >= sm.values.max() * (1 - 1e-6)


def test_sensitivity_of_a_gaussian_beam_is_a_gaussian_of_the_angles_only():
    # with a negligible floor the product of Gaussians is a Gaussian: A_eff = pi / sqrt(det A),
    # A = (4 ln 2 / b^2) sum n_k n_k^T, centroid = least-squares solution of n_k . q = X_k
    prof = GaussianProfile(floor=1e-12)
    g = ScanGeometry(x_range=10, step=1.0, beam_width=1.0, omega_deg=np.arange(0, 180, 10), profile=prof)
    c, s = cos_sin_deg(g.omega_deg)
    N = np.stack([c, -s], axis=1)
    A = 4 * np.log(2) * N.T @ N
    area = np.pi / np.sqrt(np.linalg.det(A))
    for xs, ys in [(0.0, 0.0), (3.0, 2.0), (1.25, -0.75), (-6.5, 4.25)]:
        sm = sensitivity_map(g, xs, ys)
        m = g.measurements(xs, ys)
        q = np.linalg.lstsq(N, m.X, rcond=None)[0]
        assert sm.effective_area == pytest.approx(area, rel=1e-4)
        np.testing.assert_allclose(sm.centroid, q, atol=1e-5)
        resid = N @ q - m.X
        assert sm.peak == pytest.approx(np.exp(-4 * np.log(2) * resid @ resid), rel=1e-4)


def test_sensitivity_of_a_box_is_the_exact_polygon():
    g = ScanGeometry(x_range=10, step=1, omega_deg=OMEGA)
    for xs, ys, area in [(0, 0, 0.78740), (3, 2, 0.006933)]:
        sm = sensitivity_map(g, xs, ys)
        assert sm.exact and sm.peak == 1.0 and sm.effective_area == pytest.approx(area, abs=5e-6)
        assert sm.area_above(0.5) == sm.effective_area
        np.testing.assert_allclose(sm.centroid, superposed_region(g, xs, ys).centroid)
        assert set(np.unique(sm.values)) <= {0.0, 1.0} and sm.values.any()


def test_area_above_a_level_and_minimum_combination():
    g = ScanGeometry(x_range=10, omega_deg=OMEGA, profile="box_gaussian")
    sm = sensitivity_map(g, 3.0, 2.0, n=200)
    a50 = sm.area_above(0.5)
    assert 0 < a50 < sm.effective_area * 1.5 and sm.area_above(0.9) < a50 < sm.area_above(0.1)
    with pytest.raises(ValueError, match=r"^level must be in \(0, 1\]"):
        sm.area_above(0.0)
    mn = sensitivity_map(g, 3.0, 2.0, n=400, combine="minimum")
    ref = _brute_sensitivity(g, 3.0, 2.0, n=900, combine="minimum")
    assert mn.effective_area == pytest.approx(ref["integral"] / ref["peak"], rel=5e-3)
    # the minimum's level sets are exact polygons: its area above 1/2 is the half-maximum polygon
    assert mn.area_above(0.5 / mn.peak) == pytest.approx(superposed_region(g, 3.0, 2.0).area, rel=0.03)
    with pytest.raises(ValueError, match="^combine must be"):
        sensitivity_map(g, 0, 0, combine="mean")


def test_sensitivity_of_a_point_the_scan_never_sees_is_empty_and_flagged():
    g = ScanGeometry(positions=[-1.0, 0.0, 1.0], omega_deg=[0.0, 90.0], profile="gaussian")
    sm = sensitivity_map(g, 7.0, 7.0)
    assert sm.is_empty and sm.effective_area == 0 and sm.centroid is None and not sm.complete
    assert sm.measurements.X.size == 0 and sm.area_above(0.5) == 0.0
    for bad in (dict(n=3), dict(n_coarse=2.5), dict(extent=(1, 0, 0, 1))):
        with pytest.raises(ValueError, match=f"^{next(iter(bad))} "):
            sensitivity_map(g, 0, 0, **bad)


def test_spot_map_with_tails_uses_the_sensitivity():
    g = ScanGeometry(x_range=4, omega_deg=OMEGA, profile="box_gaussian")
    res = superposition_map(g, subdivision=2)
    assert res.measure == "product" and res.valid.all()
    rng = np.random.default_rng(8)
    for i in rng.choice(res.n_targets, 6, replace=False):
        sm = sensitivity_map(g, res.xs[i], res.ys[i], n=96)
        assert res.area[i] == pytest.approx(sm.effective_area, rel=1e-3)
        np.testing.assert_allclose(res.centroid[i], sm.centroid, atol=1e-3)
    mn = superposition_map(g, subdivision=2, combine="minimum")
    assert mn.measure == "minimum" and not np.allclose(mn.area, res.area)
    with pytest.raises(ValueError, match="^combine must be"):
        superposition_map(g, combine="max")
    with pytest.raises(ValueError, match="^sensitivity_grid must be"):
        superposition_map(g, sensitivity_grid=2)


# ---------------------------------------------------------------------------
# N' weights expected reflections by the beam (issue 11)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gaussian_recon():
    return reconstruct_phantom(diameter_um=32, n_grains=3, omega_step_deg=3.0, seed=4, profile="gaussian",
                               detection_threshold=0.3)


def test_weighted_completeness_against_brute_force(gaussian_recon):
    from superres_widgets.s3dxrd import completeness

    r = gaussian_recon
    g, t = r.geometry, r.table
    rng = np.random.default_rng(3)
    xs, ys = rng.uniform(-14, 14, (2, 25))
    got = completeness(t, g, xs, ys)
    c, s = cos_sin_deg(g.omega_deg)
    prof, b = g.profile, g.beam_width
    P = g.x_positions
    for p in range(xs.size):
        u = xs[p] * c - ys[p] * s  # at every bin centre
        k = np.argmin(np.abs(u[:, None] - P[None, :]), axis=1)
        w = prof.weight(u - P[k], b)  # the beam at the target in its nearest frame
        we = w[t.j]
        obs = t.observed[np.arange(t.n_events), k[t.j]]
        cand = t.events.orientation
        for ci in range(t.n_candidates):
            m = cand == ci
            want = (we[m] * obs[m]).sum() / we[m].sum()
            assert got[p, ci] == pytest.approx(want, rel=1e-5, abs=1e-6)
    # without the weighting: the paper's N / M
    plain = completeness(t, g, xs, ys, beam_weighting=False)
    assert not np.allclose(plain, got)
    assert r.parameters["beam_weighting"] is True and r.parameters["detection_threshold"] == 0.3


def test_weighting_is_the_paper_for_a_box_one_step_wide():
    from superres_widgets.s3dxrd import completeness

    r = reconstruct_phantom(diameter_um=32, n_grains=3, omega_step_deg=3.0, seed=4)
    rng = np.random.default_rng(0)
    rad, ang = 16.0 * np.sqrt(rng.random(200)), 2 * np.pi * rng.random(200)  # the specimen disc
    xs, ys = rad * np.cos(ang), rad * np.sin(ang)
    a = completeness(r.table, r.geometry, xs, ys)
    b = completeness(r.table, r.geometry, xs, ys, beam_weighting=False)
    np.testing.assert_array_equal(a, b)
    # beyond the scan a frame is missing: weighted, it is not expected there either
    far = completeness(r.table, r.geometry, [12.6], [13.4])
    assert far.max() > completeness(r.table, r.geometry, [12.6], [13.4], beam_weighting=False).max()


def test_fig4_statistics_of_the_tail_beams():
    """Issue 11's numbers: Gaussian (FWHM = step) and box (x) Gaussian (blur FWHM 0.25 step), 10 deg, X in +-10, 4x4."""
    g = ScanGeometry(x_range=10, step=1.0, omega_deg=OMEGA)
    box = superposition_map(g, subdivision=4).stats
    gauss = superposition_map(g.replace(profile="gaussian"), subdivision=4).stats
    blur = superposition_map(g.replace(profile="box_gaussian"), subdivision=4).stats
    # the box: the paper's numbers
    assert box.mean_relative_size == pytest.approx(0.1857, abs=5e-4)
    assert box.com_error_fwhm == pytest.approx(0.1261, abs=5e-4)
    # the Gaussian's sensitivity has one size everywhere (a product of Gaussians): relative size 1
    assert gauss.mean_relative_size == pytest.approx(0.9994, abs=1e-3)
    assert gauss.com_error_fwhm == pytest.approx(0.2266, abs=3e-3)
    assert gauss.mean_spot_size == pytest.approx(0.3544, abs=1e-3)
    assert blur.mean_relative_size == pytest.approx(0.3453, abs=1e-3)
    assert blur.com_error_fwhm == pytest.approx(0.1526, abs=3e-3)
    assert blur.mean_spot_size == pytest.approx(0.2306, abs=1e-3)
    assert box.mean_spot_size < blur.mean_spot_size < gauss.mean_spot_size


def test_docstring_examples_of_the_beam_geometry_and_sensitivity_modules_run():
    import doctest
    import importlib

    total = 0
    for name in ("beam", "geometry", "superposition", "sensitivity", "spot_map", "forward"):
        result = doctest.testmod(importlib.import_module(f"superres_widgets.s3dxrd.{name}"),
                                 optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, name
        total += result.attempted
    assert total > 40
