"""DeconvolutionExplorer model: restorations equal the algorithm layer's, live."""


import numpy as np
import pytest

from superres_widgets.widgets import DeconvolutionExplorer
from superres_widgets.xrf import get_method
from superres_widgets.xrf import (fista, gaussian_psf, richardson_lucy, score_restoration, simulate_scan,
                                  usaf1951, wiener)


@pytest.fixture(scope="module")
def scan():
    chart = usaf1951(10.0, groups=(2, 3))
    fine = usaf1951(5.0, groups=(2, 3))
    counts, _ = simulate_scan(fine.image, 25.0, 10.0, truth_pixel_um=5.0, rng=4)
    counts = counts[: chart.image.shape[0], : chart.image.shape[1]]
    return counts.astype(float), chart


def test_each_method_equals_the_algorithm(scan):
    img, _ = scan
    psf = gaussian_psf(25.0, pixel_size_um=10.0)
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, psf_sigma_um=25.0, method="wiener", balance=0.05).wait()
    np.testing.assert_allclose(w.restored, wiener(img, psf, 0.05, dtype=np.float32), rtol=1e-6, atol=1e-6)
    w.method = "richardson_lucy"
    w.num_iter = 12
    w.wait()
    np.testing.assert_allclose(w.restored, richardson_lucy(img, psf, 12), rtol=1e-6)
    assert w.iteration == 12 and w.progress == 1.0 and w.final and not w.busy
    w.method = "fista"
    w.lam = 2.0
    w.wait()
    np.testing.assert_allclose(w.restored, fista(img, psf, 2.0, 12), rtol=1e-6)
    assert w.parameters() == {"method": "fista", "pixel_size_um": 10.0, "psf_sigma_um": 25.0,
                              "psf_sigma_v_um": None, "psf_rho": 0.0, "lam": 2.0, "num_iter": 12,
                              "stop": "none", "tol": 0.001}
    # the browser gets float32 frames; the Python result stays float64
    assert w.restored_view.dtype == np.float32 and w.restored.dtype == np.float64


def test_anisotropic_psf(scan):
    img, _ = scan
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, method="wiener", psf_sigma_um=20.0,
                              psf_sigma_v_um=35.0, psf_rho=0.3).wait()
    np.testing.assert_allclose(w.psf, gaussian_psf(20.0, 35.0, 0.3, pixel_size_um=10.0))
    np.testing.assert_allclose(w.restored, wiener(img, w.psf, w.balance, dtype=np.float32), rtol=1e-6, atol=1e-6)


def test_iterative_methods_stream_intermediate_frames(scan):
    img, _ = scan
    seen = []
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, psf_sigma_um=25.0, method="wiener").wait()
    w.observe(lambda c: seen.append((w.iteration, w.final)), "frame_id")
    w.set_trait("num_iter", 200)
    w.method = "richardson_lucy"
    w.wait()
    assert seen[0][0] == 1 and not seen[0][1]  # the first iteration is shown at once
    assert seen[-1] == (200, True)
    assert len(seen) >= 3


def test_metrics_with_reference_and_chart(scan):
    img, chart = scan
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, reference=chart.image, chart=chart,
                              method="richardson_lucy", psf_sigma_um=25.0, num_iter=40).wait()
    def same(got, want):
        assert got["element"] == want["element"]
        for key in ("mse", "ssim", "lp_per_mm"):
            assert got[key] == pytest.approx(want[key])
        assert got["levels"] == pytest.approx(want["levels"])

    same(w.metrics, score_restoration(w.restored, chart.image, chart=chart).as_dict())
    same(w.raw_metrics, score_restoration(img, chart.image, chart=chart).as_dict())
    assert w.metrics["mse"] < w.raw_metrics["mse"]
    assert w.metrics["ssim"] > w.raw_metrics["ssim"]


def test_newest_parameters_win(scan):
    img, _ = scan
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, method="richardson_lucy", num_iter=150)
    for s in np.linspace(10, 40, 25):  # rapid slider moves
        w.psf_sigma_um = float(s)
    w.wait()
    np.testing.assert_allclose(w.restored, richardson_lucy(img, gaussian_psf(40.0, pixel_size_um=10.0), 150),
                               rtol=1e-6)
    assert w.error == "" and not w.busy


def test_a_failing_restoration_is_shown_and_the_widget_keeps_working(scan):
    img, _ = scan
    w = DeconvolutionExplorer(image=img[:20, :20], pixel_size_um=10.0, method="wiener", psf_sigma_um=5.0).wait()
    good = w.restored.copy()
    w.psf_sigma_um = 400.0  # PSF wider than the map
    w.wait()
    assert "psf_sigma_um" in w.error and "wider than the map" in w.error
    np.testing.assert_array_equal(w.restored, good)
    w.psf_sigma_um = 1e5  # absurd: refused before any allocation
    w.wait()
    assert "wider than the map" in w.error
    np.testing.assert_array_equal(w.restored, good)
    w.psf_sigma_um = 5.0
    w.wait()
    assert w.error == ""


def test_bad_values_are_clamped_or_rejected_with_a_notice(scan):
    img, _ = scan
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, method="wiener").wait()
    w.balance = -1
    assert w.balance == 0.0 and "balance" in w.notice
    with pytest.raises(ValueError, match=r"method 'magic' is unknown; valid: wiener, richardson_lucy \(alias rl\)"):
        w.method = "magic"
    assert w.method == "wiener"
    w.kernel_size = 40
    assert w.kernel_size == 41
    with pytest.raises(TypeError, match="unexpected keyword"):
        DeconvolutionExplorer(image=img, sigma=3)
    with pytest.raises(Exception, match="NaN"):
        DeconvolutionExplorer(image=np.full((8, 8), np.nan))
    with pytest.raises(ValueError, match="pixel_size_um is None"):
        DeconvolutionExplorer(image=img, pixel_size_um=None)
    with pytest.raises(ValueError, match="reference shape"):
        w.set_reference(np.zeros((3, 3)))
    w.wait()


def test_blind_method_reports_its_sigma(scan):
    img, _ = scan
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, method="blind_l0", kernel_size=21).wait(120)
    assert w.error == "" and w.restored.shape == img.shape
    assert 10.0 < w.estimated_sigma_um < 60.0  # true sigma 25 µm
    assert w.parameters()["estimated_sigma_um"] == w.estimated_sigma_um


def test_view_traits_do_not_recompute(scan):
    img, _ = scan
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, method="wiener").wait()
    n = w.frame_id
    w.mode = "diff"
    w.colormap = "magma"
    w.contrast = [2.0, 98.0]
    w.wait()
    assert w.frame_id == n


def test_another_methods_parameter_is_kept_without_recomputing(scan):
    """num_iter set while Wiener is on screen: no new job; RL then uses it. σ moves restore."""
    img, _ = scan
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, method="wiener", psf_sigma_um=25.0).wait()
    n = w.frame_id
    w.num_iter = 7
    w.tau = 0.5  # a FISTA parameter
    w.wait()
    assert w.frame_id == n
    w.balance = w.balance * 2  # Wiener's own parameter does recompute
    w.wait()
    assert w.frame_id > n
    w.method = "richardson_lucy"
    w.wait()
    assert w.num_iter == 7
    expected = richardson_lucy(img, gaussian_psf(25.0, pixel_size_um=10.0), 7)
    np.testing.assert_allclose(w.restored, expected, rtol=2e-4, atol=2e-3 * float(img.max()))
    n = w.frame_id
    w.psf_sigma_um = 30.0  # the PSF parameters count for every method that needs a PSF
    w.wait()
    assert w.frame_id > n
    w.close()


def test_timing_of_the_applied_restoration(scan):
    """``timing``: the worker thread's CPU of the whole run (wall: ``compute_ms``), the wall time to the first frame."""
    img, _ = scan
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, method="wiener").wait()
    t = w.timing
    assert t["first_frame"] is None
    assert 0 < t["cpu"] <= w.compute_ms * 1.05 + 1.0  # one thread's CPU cannot exceed its wall time
    w.method = "richardson_lucy"
    w.num_iter = 30
    w.wait()
    t = w.timing
    assert 0 < t["first_frame"] < w.compute_ms
    assert 0 < t["cpu"] <= w.compute_ms * 1.05 + 1.0
    w.close()


def test_slider_moves_leave_the_convergence_data_alone_until_the_run_records(scan):
    """Issue 14: no Bokeh data patch when a run starts (the page echoes it and delays the first frame)."""
    from bokeh.document import Document

    img, _ = scan
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, method="richardson_lucy", num_iter=20).wait()
    src = w._plot.source
    assert len(src.data["iteration"]) > 0
    doc = Document()  # the patches a page would receive
    doc.add_root(w._plots_layout)
    events = []
    doc.on_change(lambda e: events.append(type(e).__name__) if "Column" in type(e).__name__ else None)
    w.method = "wiener"  # records nothing: the end of its run empties the curve, once
    w.wait()
    assert events == ["ColumnDataChangedEvent"] and len(src.data["iteration"]) == 0
    w.balance = w.balance * 2
    w.psf_sigma_um = 30.0
    w.wait()
    assert events == ["ColumnDataChangedEvent"]  # Wiener moves send the plot's data nothing
    w.method = "richardson_lucy"  # the run's first records replace the (empty) curve
    w.wait()
    assert events[1] == "ColumnDataChangedEvent" and len(src.data["iteration"]) > 0
    n = len(events)
    w._plot.reset(20, "convergence")  # what a run's start does: no data patch
    assert len(events) == n
    w.psf_sigma_um = 27.0  # the next run's first records replace the curve
    w.wait()
    assert events[n] == "ColumnDataChangedEvent" and src.data["iteration"][0] <= 2
    w.close()


def test_a_new_run_is_announced_in_one_message(scan):
    """busy, stale and the reset progress travel together (the base class's ``announce``), then the result."""
    img, _ = scan
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, method="wiener").wait()
    sent = []
    send = w.send_state
    w.send_state = lambda key=None: (sent.append(sorted(key) if isinstance(key, (set, list, tuple)) else [key]),
                                     send(key))
    w.balance = w.balance * 2
    w.wait()
    announce = [m for m in sent if "busy" in m or "stale" in m]
    assert announce[0] == ["busy", "final", "iteration", "progress", "stale"], sent
    assert "restored_view" in announce[1] and "stale" in announce[1] and announce[-1] == ["busy"], sent
    w.close()


def test_the_error_of_the_newest_parameters_is_never_cleared_by_a_stale_job():
    """Issue 9's repro: σ = 12 still restoring when σ = 500 fails; 20 of 20 times the σ = 500 error stays."""
    img = np.random.default_rng(3).poisson(60.0, (256, 256)).astype(float)
    for attempt in range(20):
        w = DeconvolutionExplorer(image=img, pixel_size_um=5, psf_sigma_um=10, num_iter=200)
        w.wait()
        good = w.restored.copy()
        w.psf_sigma_um = 12
        w.psf_sigma_um = 500
        w.wait()
        for t in w._lifecycle.threads:  # let the stale σ = 12 job end (cancelled) before looking again
            t.join(30)
        assert w.error.startswith("ValueError: psf_sigma_um=500 µm gives a PSF"), (attempt, w.error)
        assert not w.busy and w.psf_sigma_um == 500
        np.testing.assert_array_equal(w.restored, good)  # the σ = 12 result was never applied
        w.close()


# ------------------------------------------------------------------------- issues 13 and 15

def test_pixel_size_notice_masked_and_negative_pixels():
    rng = np.random.default_rng(3)
    img = rng.poisson(80.0, (48, 48)).astype(float) - 60.0  # background-subtracted: negative pixels
    img[5:7, 5:9] = np.nan  # dead pixels
    w = DeconvolutionExplorer(image=img, method="rl", psf_sigma_um=10.0, num_iter=4).wait()
    assert "pixel_size_um not given: assuming 5 µm" in w.notice
    assert "8 masked pixel(s) excluded from the data fit" in w.notice
    assert "negative pixel(s)" in w.notice and "negative='offset'" in w.notice
    assert w.error == "" and np.all(np.isfinite(w.restored))
    assert abs(w.restored.mean() - np.nanmean(img)) < 1.0  # shifted and shifted back: the level is kept
    w.pixel_size_um = 5.0
    assert "pixel_size_um not given" not in w.notice
    w.negative = "error"
    w.wait()
    assert "negative='error'" in w.error
    w.close()


def test_the_data_notice_is_computed_once_per_map_and_policy(monkeypatch):
    from superres_widgets.widgets import _restoration

    calls = []
    real = _restoration.prepare_data
    monkeypatch.setattr(_restoration, "prepare_data", lambda *a, **k: calls.append(k) or real(*a, **k))
    img = np.random.default_rng(5).poisson(80.0, (48, 48)).astype(float) - 60.0  # negative pixels
    w = DeconvolutionExplorer(image=img, pixel_size_um=5.0, method="wiener", psf_sigma_um=10.0).wait()
    n = len(calls)
    for s in (11.0, 12.0, 13.0):  # slider moves: the same map, the same policy
        w.psf_sigma_um = s
        w.wait()
    assert len(calls) == n
    w.method = "richardson_lucy"  # another negative-pixel policy: asked again, and said
    w.wait()
    assert len(calls) == n + 1 and "negative='offset'" in w.notice
    w.image = img + 100.0  # a new map: asked again; no negative pixels left to mention
    w.wait()
    assert len(calls) == n + 2 and "negative pixel" not in w.notice
    w.close()


def test_stale_flag_stop_rule_history_and_metric_notes():
    from superres_widgets.xrf import simulate_scan, usaf1951

    chart = usaf1951(5.0, groups=(3, 4))
    scan = simulate_scan(chart.image, 32.5, 5.0, truth_pixel_um=5.0, rng=0)
    w = DeconvolutionExplorer(image=scan.counts, pixel_size_um=5.0, method="sgp", psf_sigma_um=32.5,
                              num_iter=300, stop="discrepancy", chart=chart).wait()
    assert not w.stale and w.history is not None and w.history.stopped_at < 300
    assert w.stopped.startswith(f"stopped at iteration {w.history.stopped_at}: discrepancy")
    assert w.iteration == w.history.stopped_at and w.history.records[-1].discrepancy <= 1
    w.num_iter = 5  # a new request: metrics stale until it is applied, the iteration count restarts
    assert w.stale and w.iteration == 0
    w.wait()
    assert not w.stale
    with w.hold_trait_notifications():
        w.method, w.num_iter, w.stop, w.psf_sigma_um = "richardson_lucy", 10, "none", 150.0
    w.wait()
    assert w.metrics["element"] == "none" and "no element of the chart is resolved" in w.metrics["note"]
    assert "reference" in w.metrics["mse_note"]
    w.close()


def test_blind_kernel_can_be_used_as_the_psf_or_reduced_to_sigma():
    from superres_widgets.xrf import kernel_to_sigma, prepare_psf

    rng = np.random.default_rng(1)
    truth = np.full((64, 64), 30.0)
    truth[20:44, 28:36] = 300.0
    from superres_widgets.xrf import convolve, gaussian_psf

    img = rng.poisson(convolve(truth, gaussian_psf(2.0))).astype(float)
    frames = []
    w = DeconvolutionExplorer(image=img, pixel_size_um=5.0, method="blind", kernel_size=15)
    w.observe(lambda c: frames.append(c["new"]), names="frame_id")
    w.wait()
    kernel = np.array(w.estimated_kernel)
    sigma = w.estimated_sigma_um  # the blind run's own estimate
    assert kernel.shape == (15, 15) and len(frames) >= 2 and sigma > 0  # streamed frames, then the result
    w.use_estimated_kernel()
    w.wait()
    assert w.method == "richardson_lucy" and w.psf_label.startswith("blind kernel")
    np.testing.assert_allclose(w.psf, prepare_psf(kernel), rtol=1e-5, atol=1e-7)
    assert w.error == "" and w.estimated_sigma_um is None  # RL with the (tilted) blind kernel ran; no estimate
    w.method = "blind"
    w.wait()
    w.use_estimated_sigma()
    w.wait()
    assert w.psf_image is None and w.psf_sigma_um == pytest.approx(w.estimated_sigma_um or sigma, rel=1e-6)
    assert float(np.mean(kernel_to_sigma(kernel, pixel_size_um=5.0))) == pytest.approx(sigma, rel=1e-3)
    w.close()


# -- display-resolution frames (issue 14) ----------------------------------------------------------

def _area_mean_brute(a, h, w):
    """Area mean by brute force: every pixel repeated h x w times, then exact blocks of the repeated grid."""
    big = np.repeat(np.repeat(np.asarray(a, dtype=np.float64), h, axis=0), w, axis=1)
    return big.reshape(h, a.shape[0], w, a.shape[1]).mean(axis=(1, 3))


def _area_mean_integral(a, h, w):
    """Area mean from the integral of the piecewise-constant map (exact by linear interpolation of its cumsum)."""
    out = np.asarray(a, dtype=np.float64)
    for axis, m in ((0, h), (1, w)):
        n = out.shape[axis]
        c = np.concatenate([np.zeros_like(out.take([0], axis=axis)), np.cumsum(out, axis=axis)], axis=axis)
        edges = np.linspace(0.0, n, m + 1)
        ci = np.apply_along_axis(lambda col, e=edges, k=n: np.interp(e, np.arange(k + 1), col), axis, c)
        out = np.diff(ci, axis=axis) / (n / m)
    return out


def test_area_resample_is_the_area_mean_and_skips_nan():
    from superres_widgets.widgets._display import area_resample, area_weights

    rng = np.random.default_rng(3)
    a = rng.random((37, 53))
    for shape in [(10, 20), (37, 7), (1, 1), (36, 52)]:
        np.testing.assert_allclose(area_resample(a, shape), _area_mean_brute(a, *shape), rtol=2e-6)
    np.testing.assert_allclose(area_weights(53, 20).sum(axis=1), 1.0, rtol=1e-6)
    # NaN pixels are left out of the mean; a footprint of NaN only stays NaN
    b = a.copy()
    b[:4, :6] = np.nan
    out = area_resample(b, (10, 10))
    assert np.isnan(out[0, 0]) and np.isfinite(out[1:, 1:]).all()
    weights = _area_mean_brute(np.isfinite(b), 10, 10)
    np.testing.assert_allclose(out[2, 3], _area_mean_brute(np.nan_to_num(b), 10, 10)[2, 3] / weights[2, 3], rtol=2e-6)
    with pytest.raises(ValueError, match="n_out"):
        area_weights(5, 6)


def test_display_frame_is_the_area_mean_of_the_full_result_and_zoom_crops_are_exact():
    rng = np.random.default_rng(5)
    img = rng.poisson(50, (1024, 1024)).astype(float)
    w = DeconvolutionExplorer(image=img, pixel_size_um=5.0, method="wiener", psf_sigma_um=15.0).wait()
    try:
        assert w.restored.shape == (1024, 1024) and w.restored.dtype == np.float64
        np.testing.assert_allclose(w.restored, wiener(img, gaussian_psf(15.0, pixel_size_um=5.0), w.balance,
                                                      dtype=np.float32), rtol=1e-6, atol=1e-6)
        # the whole map fitted to the 460 x 400 canvas: 400 x 400 area means of the full result
        assert w.view_box == [0, 1024, 0, 1024]
        assert w.restored_view.shape == (400, 400) and w.raw_view.shape == (400, 400)
        np.testing.assert_allclose(w.restored_view, _area_mean_integral(w.restored, 400, 400), rtol=2e-5, atol=1e-3)
        np.testing.assert_allclose(w.raw_view, _area_mean_integral(img, 400, 400), rtol=2e-5)
        # zoomed in (a map pixel on 2.5 device pixels): the crop at full resolution, exactly
        w.display = {"r0": 100.4, "r1": 260.2, "c0": 300.0, "c1": 484.5, "scale": 2.5, "height": 400, "width": 460}
        assert w.view_box == [100, 261, 300, 485]
        np.testing.assert_array_equal(w.restored_view, w.restored[100:261, 300:485].astype(np.float32))
        np.testing.assert_array_equal(w.raw_view, img[100:261, 300:485].astype(np.float32))
        # partly zoomed (0.8 device px per map pixel): the crop's area means, never larger than the canvas
        w.display = {"r0": 0, "r1": 700, "c0": 24, "c1": 1024, "scale": 0.8, "height": 400, "width": 460}
        assert w.view_box == [0, 700, 24, 1024] and w.restored_view.shape == (400, 460)
        np.testing.assert_allclose(w.restored_view, _area_mean_integral(w.restored[:, 24:][:700], 400, 460),
                                   rtol=2e-5, atol=1e-3)
        # a parameter change keeps the view; the full-resolution result stays in Python
        w.balance = 0.1
        w.wait()
        assert w.view_box == [0, 700, 24, 1024] and w.restored.shape == (1024, 1024)
        np.testing.assert_allclose(w.restored_view, _area_mean_integral(w.restored[:700, 24:], 400, 460),
                                   rtol=2e-5, atol=1e-3)
        # hover/profile probes read the full-resolution result
        assert w.probe([5, 1023, 2000], [7, 0, 1]) == [pytest.approx(w.restored[5, 7]),
                                                       pytest.approx(w.restored[1023, 0]), None]
        # the old path: every frame at full resolution, whatever the view
        w.frame_resolution = "full"
        assert w.view_box == [0, 1024, 0, 1024] and w.restored_view.shape == (1024, 1024)
        with pytest.raises(Exception, match="frame_resolution"):
            w.frame_resolution = "half"
        with pytest.raises(Exception, match="scale"):
            w.display = {"r0": 0, "r1": 10, "c0": 0, "c1": 10, "scale": float("nan"), "height": 4, "width": 4}
    finally:
        w.close()


def test_small_maps_travel_at_full_resolution(scan):
    img = scan[0][:400, :400]  # fits the 460 x 400 canvas
    w = DeconvolutionExplorer(image=img, pixel_size_um=10.0, method="wiener", psf_sigma_um=25.0).wait()
    np.testing.assert_array_equal(w.restored_view, w.restored.astype(np.float32))
    assert w.view_box == [0, img.shape[0], 0, img.shape[1]]
    w.close()


def test_a_parameter_at_its_default_follows_the_method_and_a_chosen_one_stays():
    """Methods share parameters by name, not defaults: SGP starts from the map, RL flat; FISTA runs 100 iterations.

    (The widget ran SGP from RL's flat start: one trait per name carried the first declaration's default.)
    """
    img = np.random.default_rng(0).poisson(50, (48, 48)).astype(float)
    w = DeconvolutionExplorer(image=img, pixel_size_um=5.0, psf_sigma_um=10.0, method="sgp").wait()
    try:
        assert w.method_values()["x0"] == get_method("sgp").defaults()["x0"] == "image"
        w.method = "richardson_lucy"
        assert w.x0 == "flat" and w.num_iter == 30
        w.method = "fista"
        assert w.num_iter == get_method("fista").defaults()["num_iter"] == 100
        w.num_iter = 12  # moved by the user: kept across methods
        w.method = "landweber"
        assert w.num_iter == 12
        w.wait()
        assert w.error == ""
    finally:
        w.close()
    v = DeconvolutionExplorer(image=img, pixel_size_um=5.0, psf_sigma_um=10.0, method="sgp", x0="flat")
    try:
        v.method = "richardson_lucy"
        v.method = "sgp"
        assert v.x0 == "flat"  # given to the constructor: never replaced
    finally:
        v.close()
