"""ElementStack widget model (no browser): per-element PSFs, partial recompute, bad input."""

from __future__ import annotations

import time

import numpy as np
import pytest

from superres_widgets.widgets import ElementStack
from superres_widgets.widgets import element_stack as stack_module
from superres_widgets.xrf import PAPER_ELEMENT_SIGMAS_UM as PAPER_SIGMAS_UM
from superres_widgets.xrf import mineral_phantom
from superres_widgets.xrf import fista, gaussian_psf, mse, richardson_lucy, wiener

PIXEL = 10.0


@pytest.fixture(scope="module")
def phantom():
    return mineral_phantom((96, 96), PIXEL, rng=3)


@pytest.fixture
def recorder(monkeypatch):
    """Record every restore call as (sigma, method, outcome); ``recorder.iters`` the num_iter."""
    class Calls(list):
        iters = []

    calls = Calls()
    real = stack_module.restore

    def recording(image, sigma, pixel, params, **kw):
        try:
            out = real(image, sigma, pixel, params, **kw)
        except Exception as exc:
            calls.append((sigma, params["method"], type(exc).__name__))
            calls.iters.append(params.get("num_iter"))
            raise
        calls.append((sigma, params["method"], "done"))
        calls.iters.append(params.get("num_iter"))
        return out

    monkeypatch.setattr(stack_module, "restore", recording)
    return calls


def test_each_channel_is_restored_with_its_own_sigma(phantom):
    stack = ElementStack(maps=phantom.counts, sigmas_um=PAPER_SIGMAS_UM, pixel_size_um=PIXEL).wait(60)
    assert stack.names == ["Fe", "Ca", "Si"] and stack.error == ""
    restored = stack.restored
    for name, sigma in PAPER_SIGMAS_UM.items():
        direct = richardson_lucy(phantom.counts[name], gaussian_psf(sigma / PIXEL), 30)
        np.testing.assert_array_equal(restored[name], direct)
        assert restored[name].dtype == np.float64
    assert stack.channel_status == ["done"] * 3 and stack.channel_progress == [1.0] * 3
    assert stack.channel_sigmas_um == [40.0, 50.0, 80.0]
    assert stack.progress == 1.0 and not stack.busy
    # display copies: (channel, row, col) float32 buffers, one colour scale per element
    assert stack._raw.shape == (3, 96, 96) and stack._restored.dtype == np.float32
    np.testing.assert_array_equal(stack._restored[1], restored["Ca"].astype(np.float32))
    lo, hi = stack._ranges[0]
    assert lo < np.median(phantom.counts["Fe"]) < hi
    assert stack.get_state(["_restored"])["_restored"]["dtype"] == "float32"


def test_changing_one_sigma_recomputes_only_that_channel(phantom, recorder):
    stack = ElementStack(maps=phantom.counts, sigmas_um=PAPER_SIGMAS_UM, pixel_size_um=PIXEL).wait(60)
    before = dict(stack.restored)
    recorder.clear()
    stack.sigmas_um = {"Fe": 40.0, "Ca": 35.0, "Si": 80.0}
    stack.wait(60)
    assert recorder == [(35.0, "richardson_lucy", "done")]
    after = stack.restored
    assert after["Fe"] is before["Fe"] and after["Si"] is before["Si"]
    np.testing.assert_array_equal(after["Ca"], richardson_lucy(phantom.counts["Ca"], gaussian_psf(3.5), 30))
    assert stack.channel_sigmas_um == [40.0, 35.0, 80.0]
    # the method is shared: changing it restores every channel
    recorder.clear()
    stack.method = "wiener"
    stack.wait(60)
    assert sorted(c[0] for c in recorder) == [35.0, 40.0, 80.0]
    np.testing.assert_array_equal(stack.restored["Si"],
                                  wiener(phantom.counts["Si"], gaussian_psf(8.0), 0.03))


def test_newest_parameters_win_over_a_running_restoration(phantom, recorder):
    big = {k: np.tile(v, (2, 2)) for k, v in phantom.counts.items()}
    stack = ElementStack(maps=big, sigmas_um=PAPER_SIGMAS_UM, pixel_size_um=PIXEL, num_iter=400)
    deadline = time.time() + 10
    while stack.channel_status[0] != "running" and time.time() < deadline:
        time.sleep(0.005)
    stack.num_iter = 4
    stack.sigmas_um = {"Fe": 30.0, "Ca": 50.0, "Si": 80.0}
    stack.wait(60)
    for name, sigma in {"Fe": 30.0, "Ca": 50.0, "Si": 80.0}.items():
        np.testing.assert_array_equal(stack.restored[name],
                                      richardson_lucy(big[name], gaussian_psf(sigma / PIXEL), 4))
    outcomes = list(zip(recorder.iters, [c[2] for c in recorder]))
    slow_done = sum(1 for it, o in outcomes if it == 400 and o == "done")
    assert (400, "DeconvolutionCancelled") in outcomes or slow_done < 3, outcomes
    assert sum(1 for it, o in outcomes if it == 4 and o == "done") == 3
    assert stack.parameters()["num_iter"] == 4 and stack.parameters()["sigmas_um"]["Fe"] == 30.0


def test_a_3d_stack_with_names_and_fista(phantom):
    arr = np.stack([phantom.counts["Fe"], phantom.counts["Ca"]])
    stack = ElementStack(maps=arr, names=["Fe", "Ca"], sigmas_um=[40, 50], pixel_size_um=PIXEL,
                         method="fista", num_iter=10, lam=0.5).wait(60)
    assert stack.names == ["Fe", "Ca"]
    np.testing.assert_array_equal(stack.restored["Ca"], fista(arr[1], gaussian_psf(5.0), 0.5, 10))
    # one number applies to every map
    stack.sigmas_um = 45
    assert stack.sigmas_um == {"Fe": 45.0, "Ca": 45.0}
    stack.wait(60)


@pytest.mark.parametrize("kwargs, match", [
    (dict(maps={}), "maps must not be empty"),
    (dict(maps={"Fe": np.ones((8, 8)), "Ca": np.ones((8, 9))}, sigmas_um=40), "same shape.*'Ca'"),
    (dict(maps={"Fe": np.ones((8, 8))}, sigmas_um={"Fe": 0.0}), r"sigmas_um\['Fe'\].*> 0"),
    (dict(maps={"Fe": np.ones((8, 8))}, sigmas_um={"Fe": float("nan")}), r"sigmas_um\['Fe'\]"),
    (dict(maps={"Fe": np.ones((8, 8)), "Zr": np.ones((8, 8))}), r"sigmas_um.*\['Zr'\]"),
    (dict(maps={"Fe": np.ones((8, 8))}, sigmas_um={"Fe": 40, "Ca": 50}), "sigmas_um names"),
    (dict(maps={"Fe": np.ones(8)}, sigmas_um=40), r"maps\['Fe'\].*2-D"),
    (dict(maps=np.ones((2, 8, 8)), names=["a"], sigmas_um=4), "names has 1"),
    (dict(maps={"Fe": np.full((8, 8), np.nan)}, sigmas_um=40), "NaN"),
    (dict(maps=None), "maps is required"),
])
def test_bad_input_raises_a_value_error_naming_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ElementStack(**kwargs)


def test_bad_assignments_keep_the_widget_working(phantom):
    stack = ElementStack(maps=phantom.counts, pixel_size_um=PIXEL).wait(60)  # paper sigmas by default
    assert stack.sigmas_um == PAPER_SIGMAS_UM
    with pytest.raises(ValueError, match=r"sigmas_um\['Si'\]"):
        stack.sigmas_um = {"Fe": 40, "Ca": 50, "Si": -80}
    with pytest.raises(ValueError, match="sigmas_um has no sigma"):
        stack.maps = {"Fe": phantom.counts["Fe"], "K": phantom.counts["Ca"]}
    with pytest.raises(ValueError, match="method"):
        stack.method = "blind_l0"
    with pytest.raises(ValueError, match="colors"):
        stack.colors = {"Fe": "red"}
    assert stack.sigmas_um == PAPER_SIGMAS_UM and stack.method == "richardson_lucy"
    stack.num_iter = 10**6  # clamped with a visible notice
    assert stack.num_iter == 2000 and "num_iter" in stack.notice
    stack.num_iter = 5
    stack.wait(60)
    assert stack.notice == "" and stack.error == "" and len(stack.restored) == 3
    # replacing the maps and their sigmas in one step
    stack.set_maps({"Fe": phantom.counts["Fe"], "K": phantom.counts["Ca"]}, {"Fe": 40, "K": 60})
    stack.wait(60)
    assert stack.names == ["Fe", "K"] and sorted(stack.restored) == ["Fe", "K"]
    assert stack._raw.shape[0] == 2 and stack.colors["K"].startswith("#")


def test_a_failing_channel_is_shown_and_the_widget_recovers(phantom):
    maps = {"Fe": phantom.counts["Fe"], "X": -np.ones((96, 96))}
    stack = ElementStack(maps=maps, sigmas_um={"Fe": 40, "X": 40}, pixel_size_um=PIXEL, negative="error").wait(60)
    assert "ValueError" in stack.error and stack.channel_status == ["done", "error"]
    assert "negative='error'" in stack.error
    assert not stack.busy and "Fe" in stack.restored
    stack.negative = "auto"  # RL: shifted to a minimum of 0 and back
    stack.wait(60)
    assert stack.error == "" and stack.channel_status == ["done", "done"]
    np.testing.assert_allclose(stack.restored["X"], -1.0, atol=1e-6)
    assert "X: 9216 negative pixel(s) (min -1) shifted by +1 and back" in stack.notice


def test_demo_restores_fe_and_ca_closer_to_the_truth():
    stack = ElementStack.demo(shape=(96, 96), seed=1).wait(60)
    assert stack.sigmas_um == PAPER_SIGMAS_UM and stack.pixel_size_um == 10.0
    assert set(stack.truth) == {"Fe", "Ca", "Si"}
    for name in ("Fe", "Ca"):
        raw_err = mse(stack.maps[name], stack.truth[name])
        rest_err = mse(stack.restored[name], stack.truth[name])
        assert rest_err < raw_err, name
    # Poisson counts at sensible rates: Fe strongest, Si sparse and noisy
    means = {k: v.mean() for k, v in stack.maps.items()}
    assert means["Fe"] > means["Si"] * 5 and means["Si"] > 1
    assert np.issubdtype(stack.phantom.counts["Fe"].dtype, np.integer)


def test_phantom_blurs_each_element_with_its_own_sigma():
    ph = mineral_phantom((80, 80), PIXEL, rng=0, dwell_s=1e6)  # so many counts the noise vanishes
    for name, sigma in PAPER_SIGMAS_UM.items():
        from superres_widgets.xrf import convolve

        np.testing.assert_allclose(ph.expected[name], convolve(ph.truth[name], gaussian_psf(sigma / PIXEL)))
        assert np.abs(ph.counts[name] / ph.expected[name] - 1).max() < 0.01
    with pytest.raises(ValueError, match="sigmas_um"):
        mineral_phantom((80, 80), sigmas_um={"Fe": -1})
