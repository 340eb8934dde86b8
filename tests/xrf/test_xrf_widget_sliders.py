"""Every slider of the XRF widgets dragged to its limits and back ends idle on the newest values, fast.

A drag is what the browser sends: ``set_state({name: value})`` for a run of
values from the start to the slider's lower end, up to its upper end and
back to the start (log sliders geometrically), a few ms apart; twice, the
shorter wait counts (a load spike on the shared machine hits one drag,
broken cancellation both). After the last value the widget must be idle,
error-free, showing the restoration of the final values, within twice the
time of one computation at those values (+ 0.1 s for thread hand-over) --
which fails if stale work at the limits (1000 iterations, a 200 µm PSF) is
waited for instead of cancelled (checked: with cancellation switched off
the Richardson-Lucy and FISTA cases fail, 0.34-0.41 s against 0.30-0.33 s).
The sliders are the ones the front-end draws: from ``method_table``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from superres_widgets.widgets import DeconvolutionExplorer, ElementStack, PSFFitExplorer, PSFSweep
from superres_widgets.widgets._restoration import restore, restore_with_psf
from superres_widgets.xrf import fit_knife_edge, gaussian_psf, mineral_phantom

pytestmark = pytest.mark.timing  # latencies: `make test` runs these one at a time, not beside other tests

# thread hand-overs plus, on a loaded machine, the lifecycle's grace period: a stale job that has
# not yet reached its next cancellation check gets up to Lifecycle.grace_s (0.3 s) before the
# newest starts beside it (the old runner stayed busy for minutes; this stays well under a second)
SLACK_S = 0.4


def _drag_values(decl, start):
    lo, hi = decl["slider_lo"], decl["slider_hi"]
    seg = np.geomspace if decl["log"] else np.linspace
    values = [*seg(start, lo, 4), *seg(lo, hi, 8)[1:], *seg(hi, start, 8)[1:]]
    if decl["kind"] == "int":
        values = [int(round(v)) | (1 if decl["odd"] else 0) for v in values]
    return [float(v) if decl["kind"] == "float" else v for v in values[:-1]] + [start]


def _drag(widget, name, values, pause=0.004, repeat=2):
    """Drag ``repeat`` times; the shortest wait for idle (a load spike on the shared machine hits one
    drag, broken cancellation hits every one)."""
    waits = []
    for _ in range(repeat):
        for v in values:
            widget.set_state({name: v})
            time.sleep(pause)
        t0 = time.perf_counter()
        widget.wait(120)
        waits.append(time.perf_counter() - t0)
    return min(waits)


def _timed(fn, repeat=3):
    """``(fn(), seconds)``: the median of ``repeat`` runs (the machine is shared)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, sorted(times)[len(times) // 2]


def _sliders(widget, method=None):
    """(declaration, owner) of every slider the front-end draws for ``method``."""
    table = widget.method_table
    out = []
    if method is not None:
        m = next(x for x in table["methods"] if x["name"] == method)
        out += [d for d in m["parameters"] if d["kind"] in ("int", "float")]
        if m["needs_psf"] and widget.has_trait("psf_sigma_um"):
            out += table["psf"]
    return out


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(11)
    truth = np.full((192, 192), 40.0)
    truth[40:120, 60:90] = 300.0
    from superres_widgets.xrf import convolve

    return rng.poisson(convolve(truth, gaussian_psf(3.0))).astype(float)


@pytest.mark.parametrize("method, start", [("wiener", {}), ("richardson_lucy", {"num_iter": 60}),
                                           ("fista", {"num_iter": 60})])
def test_deconvolution_explorer_sliders(image, method, start):
    w = DeconvolutionExplorer(image=image, pixel_size_um=5.0, psf_sigma_um=15.0, method=method, **start).wait()
    sliders = _sliders(w, method)
    assert {d["name"] for d in sliders} >= {"psf_sigma_um", "psf_rho"} and len(sliders) >= 3
    for decl in sliders:
        name = decl["name"]
        begin = getattr(w, name)
        waited = _drag(w, name, _drag_values(decl, begin))
        params = {"method": method, **w.method_values()}
        want, one = _timed(lambda params=params: restore_with_psf(image, w.psf, params, dtype=np.float32))
        assert getattr(w, name) == begin and w.error == "" and not w.busy, (name, w.error)
        np.testing.assert_allclose(w.restored, want, rtol=1e-5, atol=1e-4, err_msg=name)
        assert waited <= 2 * one + SLACK_S, (name, waited, one)
    w.close()


def test_deconvolution_explorer_blind_kernel_slider(image):
    small = image[48:144, 48:144]
    w = DeconvolutionExplorer(image=small, pixel_size_um=5.0, method="blind", kernel_size=15).wait(120)
    (decl,) = _sliders(w, "blind_l0")
    waited = _drag(w, "kernel_size", _drag_values(decl, 15))
    from superres_widgets.xrf import blind_l0

    want, one = _timed(lambda: blind_l0(small, 15).image, repeat=1)
    assert w.kernel_size == 15 and w.error == "" and not w.busy
    np.testing.assert_allclose(w.restored, want, rtol=1e-6, atol=1e-6)
    assert waited <= 2 * one + SLACK_S, (waited, one)
    w.close()


@pytest.mark.parametrize("method", ["richardson_lucy", "wiener", "fista"])
def test_psf_sweep_sliders(image, method):
    small = image[::2, ::2]
    sw = PSFSweep(image=small, pixel_size_um=5.0, sigmas_um=[10.0, 15.0], method=method, num_iter=40,
                  acceleration=False).wait(120)
    for decl in _sliders(sw, method):
        name = decl["name"]
        begin = getattr(sw, name)
        waited = _drag(sw, name, _drag_values(decl, begin))
        params = {"method": method, **sw.method_values()}
        wants, one = _timed(lambda params=params: {s: restore(small, s, 5.0, params) for s in (10.0, 15.0)})
        assert getattr(sw, name) == begin and sw.error == "" and not sw.busy and sw.results.complete, name
        for s, want in wants.items():
            np.testing.assert_array_equal(sw.restored_image(s), want.astype(np.float32), err_msg=name)
        assert waited <= 2 * one + SLACK_S, (name, waited, one)
    sw.close()


def test_element_stack_sliders():
    ph = mineral_phantom((96, 96), 10.0, rng=2)
    st = ElementStack(maps=ph.counts, pixel_size_um=10.0, num_iter=60).wait(120)
    sigma_decl = next(d for d in st.method_table["psf"] if d["name"] == "psf_sigma_um")
    drags = [(name, sigma_decl) for name in st.names]
    drags += [(d["name"], d) for d in _sliders(st, "richardson_lucy")]
    for name, decl in drags:
        if name in st.names:  # a per-element sigma slider sends the whole dict
            begin = st.sigmas_um[name]
            values = [{**st.sigmas_um, name: v} for v in _drag_values(decl, begin)]
            waited = _drag(st, "sigmas_um", values)
        else:
            begin = getattr(st, name)
            waited = _drag(st, name, _drag_values(decl, begin))
        params = {"method": st.method, **st.method_values()}
        wants, one = _timed(lambda params=params: {n: restore(ph.counts[n], st.sigmas_um[n], 10.0, params)
                                                   for n in st.names})
        assert st.error == "" and not st.busy and st.channel_status == ["done"] * 3, (name, st.error)
        for n, want in wants.items():
            np.testing.assert_array_equal(st.restored[n], want, err_msg=f"{name}: {n}")
        # (only the dragged channel changed: one computation of it is what the user waits for)
        assert waited <= 2 * one + SLACK_S, (name, waited, one)
    st.close()


def test_psf_fit_band_slider():
    w = PSFFitExplorer.demo_knife_edge(seed=4)
    begin = w.band_px
    t0 = time.perf_counter()
    for v in [*np.linspace(begin, 1, 4), *np.linspace(1, 60, 8), *np.linspace(60, begin, 8)]:
        w.set_state({"band_px": float(v)})  # a fit runs inline per move (~50 ms)
    w.wait(10)
    assert time.perf_counter() - t0 < 20 and w.band_px == begin and w.error == "" and not w.busy
    fit = fit_knife_edge(w.image, pixel_size_um=w.pixel_size_um, line=w._line_rc(), half_width_px=begin)
    assert w.knife_sigma_um == pytest.approx(fit.sigma_um, rel=1e-12)
    w.close()
