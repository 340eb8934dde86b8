"""PSFSweep widget model (no browser): metrics, progress, cancellation, selection."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from superres_widgets.widgets import PSFSweep
from superres_widgets.widgets import psf_sweep as sweep_module
from superres_widgets.xrf import (fista, gaussian_psf, mse, normalize, resolved_element, richardson_lucy,
                                  score_restoration, simulate_scan, ssim, usaf1951, wiener)

PIXEL = 5.0
LEVELS = (137.5, 214.5)  # glass and chrome counts of the paper's rates at 0.5 s


@pytest.fixture(scope="module")
def chart_scan():
    chart = usaf1951(PIXEL, groups=[4])  # 296 x 308 pixels
    scan = simulate_scan(chart.image, 15.0, PIXEL, truth_pixel_um=PIXEL, rng=0)
    return chart, scan.counts


def _sweep(chart_scan, **kw):
    chart, counts = chart_scan
    args = dict(image=counts, chart=chart, levels=LEVELS, pixel_size_um=PIXEL, sigmas_um=[10, 15, 20],
                num_iter=20, acceleration=False)
    args.update(kw)
    return PSFSweep(**args)


def _direct(method, counts, sigma, **p):
    psf = gaussian_psf(sigma, pixel_size_um=PIXEL)
    if method == "richardson_lucy":
        return richardson_lucy(counts, psf, p.get("num_iter", 20))
    if method == "wiener":
        return wiener(counts, psf, p.get("balance", 0.03))
    return fista(counts, psf, p.get("lam", 1.0), p.get("num_iter", 20))


@pytest.mark.parametrize("method", ["richardson_lucy", "wiener", "fista"])
def test_sweep_metrics_equal_direct_calls(chart_scan, method):
    chart, counts = chart_scan
    sw = _sweep(chart_scan, method=method).wait(60)
    res = sw.results
    assert res.complete and res.sigma_um.tolist() == [10.0, 15.0, 20.0]
    assert sw.error == ""
    for i, s in enumerate(res.sigma_um):
        x = _direct(method, counts, s)
        np.testing.assert_array_equal(sw.restored_image(s), x.astype(np.float32))
        assert res.images[s].dtype == np.float32
        # the paper's metrics, computed by hand from the xrf functions
        x01 = normalize(x, *LEVELS)
        assert res.mse[i] == pytest.approx(mse(x01, chart.image), rel=1e-12)
        assert res.ssim[i] == pytest.approx(ssim(x01, chart.image, data_range=1.0), rel=1e-12)
        r = resolved_element(x, chart, levels=LEVELS)
        assert res.element[i] == r.label and res.lp_per_mm[i] == pytest.approx(r.lp_per_mm)
    raw = score_restoration(counts, chart.image, chart=chart, levels=LEVELS)
    assert sw.raw_metrics["mse"] == pytest.approx(raw.mse) and sw.raw_metrics["element"] == raw.element


def test_progress_reaches_one_and_is_seen_in_between(chart_scan):
    seen = []
    sw = _sweep(chart_scan, sigmas_um=[10, 12.5, 15, 17.5], num_iter=40)
    sw.observe(lambda ch: seen.append(ch["new"]), "progress")
    sw.wait(60)
    assert sw.progress == 1.0 and not sw.busy
    assert any(0 < p < 1 for p in seen), seen
    assert seen == sorted(seen), "progress must not go backwards within one sweep"
    assert sw.done_sigmas == [10.0, 12.5, 15.0, 17.5]
    assert "4 sigmas restored" in sw.status


def test_a_parameter_change_mid_run_cancels_and_the_newest_wins(chart_scan, monkeypatch):
    chart, counts = chart_scan
    calls = []
    real = sweep_module.restore

    def recording(image, sigma, pixel, params, **kw):
        calls.append((sigma, params["num_iter"], "start"))
        try:
            out = real(image, sigma, pixel, params, **kw)
        except Exception as exc:
            calls.append((sigma, params["num_iter"], type(exc).__name__))
            raise
        calls.append((sigma, params["num_iter"], "done"))
        return out

    monkeypatch.setattr(sweep_module, "restore", recording)
    sw = _sweep(chart_scan, sigmas_um=[10, 15, 20, 25, 30], num_iter=300)
    deadline = time.time() + 30
    while not calls and time.time() < deadline:
        time.sleep(0.01)
    sw.num_iter = 7  # the user moves the slider while the sweep runs
    sw.wait(60)
    res = sw.results
    assert res.complete and res.parameters["num_iter"] == 7
    for s in res.sigma_um:
        expected = richardson_lucy(counts, gaussian_psf(s, pixel_size_um=PIXEL), 7).astype(np.float32)
        np.testing.assert_array_equal(sw.restored_image(s), expected)
    old = [c for c in calls if c[1] == 300]
    assert ("DeconvolutionCancelled" in [c[2] for c in old]
            or sum(c[2] == "done" for c in old) < 5), "the stale sweep was not stopped"
    assert sum(c[2] == "done" for c in calls if c[1] == 7) == 5


def test_selecting_a_sigma_shows_its_stored_image_without_recomputing(chart_scan, monkeypatch):
    sw = _sweep(chart_scan).wait(60)
    calls = []
    monkeypatch.setattr(sweep_module, "restore", lambda *a, **k: calls.append(a) or 1 / 0)
    assert sw.shown_sigma_um == 20.0  # nothing selected: the latest restored
    sw.selected_sigma_um = 14.0  # snapped to the nearest sweep sigma
    assert sw.selected_sigma_um == 15.0 and sw.shown_sigma_um == 15.0
    assert sw._restored is sw.restored_image(15.0)
    assert sw.selected_metrics["mse"] == pytest.approx(sw.results.mse[1])
    assert sw.selected_metrics["element"] == sw.results.element[1]
    assert calls == [] and sw.error == ""
    # the Bokeh selection and marker lines follow
    assert list(sw._src.selected.indices) == [1]
    assert all(span.location == 15.0 for span in sw._sel_spans)


def test_a_click_in_the_bokeh_plot_selects_that_sigma(chart_scan):
    """The message jupyter_bokeh's view sends for a TapTool selection reaches the sweep."""
    sw = _sweep(chart_scan).wait(60)
    panel = sw.panel
    bokeh_model = panel.children[1]
    selection = sw._src.selected
    content = {"event": "jsevent", "kind": "ModelChanged", "model": {"id": selection.id},
               "attr": "indices", "new": [0]}
    bokeh_model._sync_model(bokeh_model, content, [])
    assert sw.selected_sigma_um == 10.0 and sw.shown_sigma_um == 10.0
    np.testing.assert_array_equal(sw._restored, sw.restored_image(10.0))


def test_best_sigma_by_each_metric_is_marked(chart_scan):
    sw = _sweep(chart_scan, sigmas_um=[5, 10, 15, 20, 30]).wait(60)
    res = sw.results
    best = res.best()
    assert best["mse"] == res.sigma_um[np.argmin(res.mse)]
    assert best["ssim"] == res.sigma_um[np.argmax(res.ssim)]
    top = res.lp_per_mm.max()
    assert best["lp_per_mm"] == [s for s, v in zip(res.sigma_um, res.lp_per_mm) if v == top]
    assert sw.best == best
    assert sw._best_src["mse"].data["x"] == [best["mse"]]
    assert sw._best_src["lp"].data["x"] == best["lp_per_mm"]
    assert "best" in sw._figures["ssim"].title.text and f"{best['ssim']:g}" in sw._figures["ssim"].title.text
    # the raw map's level is drawn as a dashed line
    assert sw._raw_spans["mse"].location == pytest.approx(sw.raw_metrics["mse"])
    d = res.as_dict()
    assert d["best"] == best and len(d["sigma_um"]) == 5


def test_changing_the_sigma_list_reuses_restored_sigmas(chart_scan, monkeypatch):
    sw = _sweep(chart_scan).wait(60)
    calls = []
    real = sweep_module.restore
    monkeypatch.setattr(sweep_module, "restore", lambda img, s, *a, **k: calls.append(s) or real(img, s, *a, **k))
    sw.sigmas_um = [10, 15, 20, 25]
    sw.wait(60)
    assert calls == [25.0]
    assert sw.results.sigma_um.tolist() == [10.0, 15.0, 20.0, 25.0]


def test_images_travel_as_binary_buffers(chart_scan):
    sw = _sweep(chart_scan).wait(60)
    state = sw.get_state(["_raw", "_restored", "_thumbs"])
    assert isinstance(state["_raw"]["buffer"], memoryview) and state["_raw"]["dtype"] == "float32"
    assert isinstance(state["_restored"]["buffer"], memoryview)
    assert state["_thumbs"]["dtype"] == "uint8" and state["_thumbs"]["shape"][0] == 3
    assert sw._thumb_sigmas == [10.0, 15.0, 20.0]


def test_bad_inputs_name_the_parameter(chart_scan):
    chart, counts = chart_scan
    with pytest.raises(ValueError, match="sigmas_um"):
        PSFSweep(image=counts, sigmas_um=[])
    with pytest.raises(ValueError, match="sigmas_um"):
        PSFSweep(image=counts, sigmas_um=[10, -1])
    with pytest.raises(ValueError, match="reference"):
        PSFSweep(image=counts, reference=np.zeros((5, 5)))
    with pytest.raises(ValueError, match="chart"):
        PSFSweep(image=counts[:-1], chart=chart)
    with pytest.raises(ValueError, match="image"):
        PSFSweep(image=np.arange(10.0))
    with pytest.raises(ValueError, match="method"):
        PSFSweep(image=counts, method="blind")
    with pytest.raises(ValueError, match="levels"):
        PSFSweep(image=counts, levels=(1, 1))
    with pytest.raises(TypeError, match="unexpected keyword"):
        PSFSweep(image=counts, sigma_um=[10])
    sw = _sweep(chart_scan, sigmas_um=[15]).wait(60)
    with pytest.raises(ValueError, match="sigmas_um"):
        sw.sigmas_um = [0.0]
    assert sw.sigmas_um == [15.0]  # the widget keeps its last good state
    sw.num_iter = 0  # out of range from a slider: clamped, with a visible notice
    assert sw.num_iter == 1 and "num_iter" in sw.notice
    sw.wait(60)


def test_a_failing_restoration_is_shown_and_the_widget_keeps_working(chart_scan):
    chart, counts = chart_scan
    sw = PSFSweep(image=counts - 1000.0, pixel_size_um=PIXEL, sigmas_um=[10], num_iter=5, negative="error").wait(60)
    assert "ValueError" in sw.error and "image" in sw.error  # RL needs counts >= 0
    assert not sw.busy
    sw.method = "wiener"  # Wiener accepts any sign ...
    sw.negative = "keep"  # ... when told to keep it
    sw.wait(60)
    assert sw.error == "" and sw.results.complete


def test_metrics_are_nan_without_reference_or_chart(chart_scan):
    _, counts = chart_scan
    sw = PSFSweep(image=counts, pixel_size_um=PIXEL, sigmas_um=[10, 20], method="wiener").wait(60)
    res = sw.results
    assert res.complete and np.all(np.isnan(res.mse)) and np.all(np.isnan(res.lp_per_mm))
    assert res.best() == {"mse": None, "ssim": None, "lp_per_mm": []}
    assert sw.restored_image(20).shape == counts.shape


def test_wait_is_thread_safe_against_concurrent_changes(chart_scan):
    sw = _sweep(chart_scan, sigmas_um=[10, 15], num_iter=30)
    t = threading.Thread(target=lambda: [setattr(sw, "num_iter", n) for n in (10, 11, 12)])
    t.start()
    t.join()
    sw.wait(60)
    assert sw.results.parameters["num_iter"] == 12 and sw.results.complete


def test_a_selected_sigma_not_yet_restored_shows_the_latest_until_it_is(chart_scan):
    shown = []
    sw = _sweep(chart_scan, selected_sigma_um=20.2)  # snapped to 20 once the sweep's sigmas are set
    sw.observe(lambda ch: shown.append(ch["new"]), "shown_sigma_um")
    sw.wait(60)
    assert sw.selected_sigma_um == 20.0 and sw.shown_sigma_um == 20.0
    assert [s for s in shown if s is not None][-1] == 20.0
    assert set(s for s in shown if s is not None) <= {10.0, 15.0, 20.0}


def test_inputs_must_keep_one_shape_and_change_together(chart_scan):
    chart, counts = chart_scan
    sw = _sweep(chart_scan, sigmas_um=[15], method="wiener").wait(60)
    with pytest.raises(ValueError, match="reference shape"):
        sw.reference = np.zeros((5, 5))
    with pytest.raises(ValueError, match="image shape|differs"):
        sw.image = counts[:100, :100]
    with pytest.raises(ValueError, match="colormap"):
        sw.colormap = "jet"
    assert sw.image.shape == counts.shape and sw.reference is None
    small = usaf1951(PIXEL, groups=[5])
    small_counts = simulate_scan(small.image, 15.0, PIXEL, truth_pixel_um=PIXEL, rng=2).counts
    sw.set_inputs(small_counts, chart=small, levels=LEVELS)
    sw.wait(60)
    assert sw.results.complete and sw.restored_image(15).shape == small.image.shape
    assert sw._raw.shape == small.image.shape and sw.raw_metrics["element"] is not None
