"""PSFFitExplorer model (no browser): fits equal the algorithm layer, lines, errors, linking."""

from __future__ import annotations

import math

import numpy as np
import pytest
import traitlets

from superres_widgets.io import XRFMap
from superres_widgets.widgets import PSFFitExplorer
from superres_widgets.xrf import FWHM_PER_SIGMA, fit_knife_edge, fit_point_scan


@pytest.fixture(scope="module")
def dot():
    """A demo dot scan (fitted once here; its image reused to build fresh widgets)."""
    return PSFFitExplorer.demo_dot(sigma_um=30.0, sigma_v_um=40.0, rho=0.3, seed=3)


@pytest.fixture(scope="module")
def edge_image():
    return PSFFitExplorer.demo_knife_edge(seed=1).image.copy()


def knife(edge_image, **kw):
    kw.setdefault("line", [[15, 60], [105, 60]])
    kw.setdefault("band_px", 20)
    return PSFFitExplorer(image=edge_image, pixel_size_um=5.0, mode="knife", **kw)


# ---------------------------------------------------------------- dot scan

def test_dot_fit_equals_fit_point_scan(dot):
    ref = fit_point_scan(dot.image, pixel_size_um=5.0)
    assert dot.error == ""
    assert dot.sigma_u_um == pytest.approx(ref.sigma_u, rel=1e-9)
    assert dot.sigma_v_um == pytest.approx(ref.sigma_v, rel=1e-9)
    assert dot.rho == pytest.approx(ref.rho, abs=1e-9)
    assert dot.sigma_u_err_um == pytest.approx(ref.errors["sigma_u"], rel=1e-6)
    assert dot.rho_err == pytest.approx(ref.errors["rho"], rel=1e-6)
    assert (dot.centre_u_um, dot.centre_v_um) == pytest.approx((ref.mu_u, ref.mu_v))
    assert dot.background == pytest.approx(ref.background) and dot.peak == pytest.approx(ref.peak)
    assert dot.chi2_reduced == pytest.approx(ref.chi2_reduced)
    # residual map and the 1/2/3 sigma ellipses (pixel coordinates x = col, y = row)
    assert dot.residual.dtype == np.float32 and dot.residual.shape == dot.image.shape
    np.testing.assert_allclose(dot.residual, ref.residual, atol=1e-3)
    assert dot.ellipses.dtype == np.float32 and dot.ellipses.shape == (3, 121, 2)
    for k in (1, 2, 3):
        np.testing.assert_allclose(dot.ellipses[k - 1], ref.ellipses_px()[k], rtol=1e-5, atol=1e-4)
    # the simulated PSF (30, 40, 0.3) is recovered
    assert dot.sigma_u_um == pytest.approx(30.0, rel=0.08)
    assert dot.sigma_v_um == pytest.approx(40.0, rel=0.08)
    assert dot.rho == pytest.approx(0.3, abs=0.08)


def test_dot_psf_result_is_the_equal_area_isotropic_sigma(dot):
    s = math.sqrt(dot.sigma_u_um * dot.sigma_v_um)
    assert dot.psf_sigma_um == pytest.approx(s)
    assert dot.fwhm_um == pytest.approx(FWHM_PER_SIGMA * s)
    assert (dot.psf_sigma_u_um, dot.psf_sigma_v_um, dot.psf_rho) == (dot.sigma_u_um, dot.sigma_v_um, dot.rho)
    assert 0 < dot.psf_sigma_err_um < 0.1 * s
    assert dot.psf_source.startswith("dot scan")
    k = dot.psf()
    assert k.sum() == pytest.approx(1.0) and k.shape[0] % 2 == 1
    ka = dot.psf(anisotropic=True)
    assert ka.shape[0] > ka.shape[1]  # sigma_v > sigma_u: taller than wide


def test_dot_plots_follow_the_fit(dot):
    left = dot._src["left_data"].data
    assert len(left["x"]) == dot.image.shape[1]
    assert "(3b)" in dot._figures[0].title.text and "σu" in dot._figures[0].title.text


def test_arrays_travel_as_binary_buffers(dot):
    state = dot.get_state()
    for name in ("image", "residual", "ellipses"):
        assert isinstance(state[name]["buffer"], memoryview), name
        assert state[name]["dtype"] == "float32"
    assert state["ellipses"]["shape"] == [3, 121, 2]


def test_pixel_size_scales_lengths_and_none_means_pixels(dot):
    w = PSFFitExplorer(image=dot.image, pixel_size_um=1.0).wait()
    assert w.sigma_u_um == pytest.approx(dot.sigma_u_um / 5.0, rel=1e-4)
    w.pixel_size_um = None
    w.wait()  # the dot fit runs in the background
    assert "lengths below are in pixels" in w.notice
    assert w.sigma_u_um == pytest.approx(dot.sigma_u_um / 5.0, rel=1e-4)
    w.pixel_size_um = 5.0
    w.wait()
    assert w.notice == "" and w.sigma_u_um == pytest.approx(dot.sigma_u_um, rel=1e-6)
    w.pixel_size_um = -2.0
    assert w.pixel_size_um == 5.0 and "pixel_size_um=-2.0 must be a positive number" in w.notice


def test_a_failed_fit_shows_its_message_and_keeps_the_last_good_state(dot):
    w = PSFFitExplorer(image=dot.image, pixel_size_um=5.0).wait()
    good = (w.sigma_u_um, w.psf_sigma_um, w.residual.copy())
    w.image = np.full((20, 20), 7.0)  # no signal above the border
    w.wait()
    assert "no signal" in w.error
    assert (w.sigma_u_um, w.psf_sigma_um) == good[:2]
    np.testing.assert_array_equal(w.residual, good[2])
    bad = np.array(dot.image)
    bad[3, 4] = np.nan
    w.image = bad
    w.wait()
    assert "NaN" in w.error and w.psf_sigma_um == good[1]
    w.image = dot.image  # and it keeps working
    w.wait()
    assert w.error == "" and w.sigma_u_um == pytest.approx(good[0])


def test_strict_keywords_and_validated_choices(dot):
    with pytest.raises(TypeError, match=r"unexpected keyword.*'pixel_size'"):
        PSFFitExplorer(image=dot.image, pixel_size=5.0)
    w = PSFFitExplorer()
    assert w.error == "" and w.psf_sigma_um is None  # nothing to fit yet
    with pytest.raises(traitlets.TraitError, match=r"mode must be one of \['dot', 'knife'\]"):
        w.mode = "edge"
    with pytest.raises(traitlets.TraitError, match="colormap"):
        w.colormap = "jet"
    w.band_px = 0
    assert w.band_px == 1.0 and "band_px" in w.notice


def test_from_map(dot, tmp_path):
    m = XRFMap(np.asarray(dot.image, dtype=float), 5.0, tmp_path / "dot.tif", {})
    w = PSFFitExplorer.from_map(m).wait()
    assert w.pixel_size_um == 5.0 and w.sigma_u_um == pytest.approx(dot.sigma_u_um)
    stack = XRFMap(np.zeros((2, 8, 8)), 5.0, tmp_path / "stack.tif", {})
    with pytest.raises(ValueError, match=r"stack\.tif: the map is a stack"):
        PSFFitExplorer.from_map(stack)


# ---------------------------------------------------------------- knife edge

def test_knife_fit_equals_fit_knife_edge(edge_image):
    w = knife(edge_image)
    ref = fit_knife_edge(edge_image, pixel_size_um=5.0, line=((60, 15), (60, 105)), half_width_px=20)
    assert w.error == ""
    assert w.knife_sigma_um == pytest.approx(ref.sigma_um, rel=1e-9)
    assert w.knife_sigma_err_um == pytest.approx(ref.sigma_err_um, rel=1e-6)
    assert w.knife_sigma_gradient_um == pytest.approx(ref.sigma_gradient_um, rel=1e-9)
    assert w.edge_angle_deg == pytest.approx(ref.angle_deg)
    assert w.psf_sigma_um == w.knife_sigma_um == w.psf_sigma_u_um == w.psf_sigma_v_um
    assert w.psf_rho == 0.0 and w.fwhm_um == pytest.approx(FWHM_PER_SIGMA * w.psf_sigma_um)
    # the paper's knife edge: sigma 37.5 um, spot (FWHM) 88.3 um, edge tilted by 4 deg
    assert w.psf_sigma_um == pytest.approx(37.5, rel=0.08)
    assert w.fwhm_um == pytest.approx(88.3, rel=0.08)
    assert w.edge_angle_deg == pytest.approx(4.0, abs=1.5)
    # dot outputs are cleared in knife mode
    assert w.sigma_u_um is None and w.ellipses is None and w.residual is None
    # Bokeh: profile + erf fit (Fig. 4b), gradient + Gaussian fit (Fig. 4c)
    np.testing.assert_allclose(w._src["left_data"].data["x"], ref.positions_um)
    np.testing.assert_allclose(w._src["right_model"].data["y"], ref.gradient_model)
    assert "(4c)" in w._figures[1].title.text


def test_setting_line_recomputes_and_either_direction_works(edge_image):
    w = knife(edge_image)
    first = w.knife_sigma_um
    w.line = [[20, 30], [100, 35]]  # another line across the same edge
    ref = fit_knife_edge(edge_image, pixel_size_um=5.0, line=((30, 20), (35, 100)), half_width_px=20)
    assert w.error == "" and w.knife_sigma_um == pytest.approx(ref.sigma_um, rel=1e-9)
    assert w.knife_sigma_um != first
    w.line = [[100, 35], [20, 30]]  # reversed: falling edge, same sigma
    assert w.error == "" and w.knife_sigma_um == pytest.approx(ref.sigma_um, rel=0.02)
    w.band_px = 8
    ref8 = fit_knife_edge(edge_image, pixel_size_um=5.0, line=((35, 100), (30, 20)), half_width_px=8)
    assert w.knife_sigma_um == pytest.approx(ref8.sigma_um, rel=1e-9)


@pytest.mark.parametrize("line, message", [
    ([[40, 60], [40, 60]], "line has zero length"),
    ([[40, 60], [42, 61]], "line is 2.24 pixels long; draw it at least 4 pixels"),
    ([[40, 60], [400, 60]], r"line end \(400, 60\) is outside the map \(x in \[-0.5, 120.5\]"),
    ([[-30, -30], [-5, -5]], r"line end \(-30, -30\) is outside the map"),
    ([[1, 2]], r"line must be \[\[x0, y0\], \[x1, y1\]\]"),
    ([[1, 2], [3, float("nan")]], "line must be finite"),
])
def test_a_bad_line_shows_an_error_and_the_widget_keeps_working(edge_image, line, message):
    w = knife(edge_image)
    good = (w.psf_sigma_um, w.knife_sigma_um, w.edge_angle_deg)
    w.line = line
    assert w.error.startswith("ValueError: ")
    assert pytest.importorskip("re").search(message, w.error), w.error
    assert (w.psf_sigma_um, w.knife_sigma_um, w.edge_angle_deg) == good  # last good state kept
    w.line = [[15, 60], [105, 60]]
    assert w.error == "" and w.knife_sigma_um == pytest.approx(good[1])


def test_a_line_without_an_edge_is_reported(edge_image):
    w = knife(edge_image)
    good = w.psf_sigma_um
    w.line = [[2, 10], [30, 10]]  # all glass: no edge along this line
    assert "no clear edge along the line" in w.error
    assert w.psf_sigma_um == good


def test_knife_without_a_line_asks_for_one_and_keeps_the_psf(edge_image, dot):
    w = PSFFitExplorer(image=dot.image, pixel_size_um=5.0).wait()
    dot_sigma = w.psf_sigma_um
    w.mode = "knife"
    assert w.error == "" and "drag a line across an edge" in w.notice
    assert w.psf_sigma_um == dot_sigma and w.psf_source.startswith("dot scan")
    assert "draw a line" in w._figures[0].title.text
    w.image = edge_image
    w.line = [[15, 60], [105, 60]]
    assert w.error == "" and w.notice == "" and w.psf_source.startswith("knife edge")


def test_knife_estimate_selects_the_papers_gradient_sigma(edge_image):
    w = knife(edge_image)
    result = w.result
    w.knife_estimate = "gradient"
    assert w.result is result  # no refit, only the choice changes
    assert w.psf_sigma_um == w.knife_sigma_gradient_um
    assert w.psf_sigma_err_um == w.knife_sigma_gradient_err_um
    assert "gradient" in w.psf_source
    w.knife_estimate = "erf"
    assert w.psf_sigma_um == w.knife_sigma_um


def test_mode_switch_refits(edge_image):
    w = knife(edge_image[40:81, 40:81], line=[[5, 20], [35, 20]], band_px=10)  # small: fast dot fit
    sigma = w.knife_sigma_um
    w.mode = "dot"  # a dot fit of an edge map: it runs (result or a visible error)
    w.wait()
    assert w.knife_sigma_um is None or w.error
    assert w.sigma_u_um is not None or w.error
    w.mode = "knife"
    assert w.error == "" and w.knife_sigma_um == pytest.approx(sigma) and w.sigma_u_um is None


def test_demo_knife_edge_default_line():
    w = PSFFitExplorer.demo_knife_edge(seed=2)
    assert w.mode == "knife" and w.error == "" and w.line == [[15.0, 60.0], [105.0, 60.0]]
    assert w.psf_sigma_um == pytest.approx(37.5, rel=0.08)
    assert w.simulation["psf_sigma_um"] == 37.5 and w.simulation["rates_cps"] == (429.0, 275.0)


# ---------------------------------------------------------------- linking

class Target(traitlets.HasTraits):
    """Stand-in with the DeconvolutionExplorer's PSF traits."""

    psf_sigma_um = traitlets.Float(32.5)
    psf_sigma_v_um = traitlets.Float(None, allow_none=True)
    psf_rho = traitlets.Float(0.0)


def test_link_to_propagates_the_isotropic_sigma(edge_image):
    w = knife(edge_image)
    t = Target(psf_sigma_v_um=50.0, psf_rho=0.2)
    links = w.link_to(t)
    assert t.psf_sigma_um == w.psf_sigma_um and t.psf_sigma_v_um is None and t.psf_rho == 0.0
    w.line = [[20, 30], [100, 35]]
    assert t.psf_sigma_um == w.psf_sigma_um
    w.knife_estimate = "gradient"
    assert t.psf_sigma_um == w.knife_sigma_gradient_um
    for link in links:
        link.unlink()
    w.knife_estimate = "erf"
    assert t.psf_sigma_um == w.knife_sigma_gradient_um  # no longer following


def test_link_to_anisotropic_and_errors(dot):
    w = PSFFitExplorer(image=dot.image, pixel_size_um=5.0).wait()
    t = Target()
    w.link_to(t, anisotropic=True)
    assert (t.psf_sigma_um, t.psf_sigma_v_um, t.psf_rho) == pytest.approx(
        (w.sigma_u_um, w.sigma_v_um, w.rho))

    class OnlySigma(traitlets.HasTraits):
        psf_sigma_um = traitlets.Float(1.0)

    only = OnlySigma()
    w.link_to(only)
    assert only.psf_sigma_um == w.psf_sigma_um
    with pytest.raises(TypeError, match="OnlySigma has no trait 'psf_sigma_v_um'"):
        w.link_to(only, anisotropic=True)
    with pytest.raises(TypeError, match="has no trait 'psf_sigma_um'"):
        w.link_to(traitlets.HasTraits())


def test_link_before_any_fit_leaves_the_target_alone(edge_image):
    w = PSFFitExplorer(image=edge_image, pixel_size_um=5.0, mode="knife")  # no line yet
    t = Target(psf_sigma_v_um=50.0, psf_rho=0.3)
    w.link_to(t)
    assert (t.psf_sigma_um, t.psf_sigma_v_um, t.psf_rho) == (32.5, 50.0, 0.3) and w.psf_sigma_um is None
    w.line = [[15, 60], [105, 60]]
    assert t.psf_sigma_um == w.psf_sigma_um != 32.5
    assert t.psf_sigma_v_um is None and t.psf_rho == 0.0  # made isotropic with the first sigma


def test_link_to_the_deconvolution_explorer(edge_image):
    from superres_widgets.widgets import DeconvolutionExplorer

    w = knife(edge_image)
    dec = DeconvolutionExplorer(image=edge_image, pixel_size_um=5.0, method="wiener",
                                psf_sigma_v_um=60.0)
    try:
        w.link_to(dec)
        assert dec.psf_sigma_um == pytest.approx(w.psf_sigma_um) and dec.psf_sigma_v_um is None
        w.line = [[20, 30], [100, 35]]
        assert dec.psf_sigma_um == pytest.approx(w.psf_sigma_um)
        dec.wait()
        assert dec.error == ""
    finally:
        dec.close()


@pytest.mark.timing
def test_the_dot_fit_runs_off_the_kernel_thread_with_progress():
    import time

    from superres_widgets.xrf import dot_scan

    scan = dot_scan(30.0, size_px=121, seed=4)
    # first use in this process (imports, Bokeh models): not what is timed below (`make test` runs
    # this test in its serial part, where no earlier test has made a PSFFitExplorer)
    PSFFitExplorer(image=dot_scan(30.0, size_px=41, seed=5).counts, pixel_size_um=5.0).wait().close()
    seen = []
    t0 = time.perf_counter()
    w = PSFFitExplorer(image=scan.counts, pixel_size_um=5.0)
    returned = time.perf_counter() - t0
    w.observe(lambda c: seen.append(c["new"]), names="progress")
    assert w.busy or w.psf_sigma_um is not None  # the constructor returned before (or just as) the fit ended
    w.wait()
    assert w.error == "" and w.progress == 1.0 and w.psf_sigma_um == pytest.approx(30.0, rel=0.1)
    assert returned < 0.5 * max(w.compute_ms / 1000.0, 0.2) + 0.4  # + hand-overs on a loaded machine
    assert any(0 < v < 1 for v in seen) or w.compute_ms < 300  # progress went through while fitting
    # a newer image cancels the running fit: the newest wins
    w.image = scan.counts[::-1].copy()
    w.image = scan.counts
    w.wait()
    assert w.error == "" and w.psf_sigma_um == pytest.approx(30.0, rel=0.1)


def test_link_to_sends_the_measured_psf_or_the_gaussian():
    from superres_widgets.widgets import DeconvolutionExplorer
    from superres_widgets.xrf import dot_scan

    scan = dot_scan(20.0, size_px=61, seed=5, peak_cps=2000.0)
    w = PSFFitExplorer(image=scan.counts, pixel_size_um=5.0).wait()
    dec = DeconvolutionExplorer(image=scan.counts, pixel_size_um=5.0, method="rl", num_iter=3)
    try:
        links = w.link_to(dec, source="measured")
        dec.wait()
        np.testing.assert_allclose(dec.psf_image, w.measured_psf(), rtol=1e-6, atol=1e-9)
        assert dec.psf_label == "measured dot scan" and dec.parameters()["psf"]["image"] == "measured dot scan"
        for link in links:
            link.unlink()
        w.link_to(dec)  # the fitted Gaussian: back to sigma sliders
        dec.wait()
        assert dec.psf_image is None and dec.psf_sigma_um == pytest.approx(w.psf_sigma_um)
        with pytest.raises(ValueError, match="source must be 'gaussian' or 'measured'"):
            w.link_to(dec, source="blind")
    finally:
        dec.close()
