"""DeconvolutionExplorer in a real JupyterLab: drawing, curtain, live restoration, speed.

Speed checks (issue 4), measured in the page from the input event to the new
frame on screen, on a 512 x 512 simulated USAF scan:
Wiener slider move -> updated image (median), Richardson-Lucy first
intermediate frame, and 50 rapid slider moves ending on the last value
without error or memory growth. The figures go to test-artifacts/.
"""

from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.ui

DX = ".srw-deconvolution"
MAIN = f"{DX} canvas[data-role=main]"

SETUP = """
import numpy as np, os, resource
from superres_widgets.widgets import DeconvolutionExplorer
from superres_widgets.xrf import usaf1951, simulate_scan
fine = usaf1951(2.5, groups=(2, 3, 4, 5))
counts, meta = simulate_scan(fine.image, 32.5, 5.0, truth_pixel_um=2.5, rng=1)
img = counts[:512, :512].astype(float)
w = DeconvolutionExplorer(image=img, pixel_size_um=5.0, method="wiener", psf_sigma_um=32.5, balance=0.03)
w.wait()
def rss_mb():
    with open('/proc/self/status') as f:
        return [int(l.split()[1]) / 1024 for l in f if l.startswith('VmRSS')][0]
w
"""



WS_COUNTER = """(() => { const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (d) { window.__wsSends = (window.__wsSends || 0) + 1;
                                              return send.call(this, d); }; })();"""


def _count_ws_sends(page):
    return page.evaluate("() => window.__wsSends || 0")


def _frame_on_screen(lab, timeout=30.0):
    """Wait until the page shows Python's latest frame; return that frame id."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        fid = lab.kernel_value("w.frame_id if not w.busy else -1")
        if fid >= 0 and lab.page.evaluate(f"() => document.querySelector('{DX}').dataset.frameId") == str(fid):
            return fid
        lab.page.wait_for_timeout(100)
    raise AssertionError("the page never showed the final frame")


def _no_frame_diagnosis(lab, value, earlier) -> dict:
    """What the kernel and the page hold when a slider move drew nothing within 10 s (for the failure message)."""
    return {"value": value, "earlier_ms": earlier,
            "kernel": lab.kernel_value("dict(busy=w.busy, frame_id=w.frame_id, iteration=w.iteration, "
                                       "sigma=w.psf_sigma_um, stale=w.stale, progress=w.progress, "
                                       "method=w.method, error=w.error)"),
            "page": lab.page.evaluate(f"() => [document.querySelector('{DX}').dataset.frameId, "
                                      f"document.querySelector('{DX} input[data-trait=psf_sigma_um]').value]")}


def test_deconvolution_explorer_in_browser(lab):
    # count every websocket message the page sends (comm traffic to the kernel)
    lab.page.add_init_script(WS_COUNTER)
    lab.open(lab.write_notebook("ui_deconv.ipynb", SETUP)).run_all()
    assert lab.cell_errors() == []
    lab.page.wait_for_selector(MAIN, timeout=60_000)
    _frame_on_screen(lab)
    s = lab.canvas_stats(MAIN)
    assert s["colours"] > 50 and s["nonWhite"] > 0.5, s
    lab.screenshot("deconvolution_swipe", f".jp-OutputArea-output:has({DX})")

    # the swipe curtain is client-side: dragging it redraws but sends nothing to the kernel
    box = lab.page.locator(MAIN).bounding_box()
    before_hash = lab.canvas_stats(MAIN)["hash"]
    # (hovering asks Python for the full-resolution restored value under the mouse: settle it first)
    lab.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    lab.page.wait_for_function("(sel) => /restored [-0-9.e]+$/.test(document.querySelector(sel).textContent)",
                               arg=f"{DX} [data-role=hover]", timeout=20_000)
    sends = _count_ws_sends(lab.page)
    lab.page.mouse.down()
    for f in (0.45, 0.35, 0.25, 0.2):
        lab.page.mouse.move(box["x"] + box["width"] * f, box["y"] + box["height"] * 0.5)
    lab.page.mouse.up()
    lab.page.wait_for_timeout(300)
    assert lab.canvas_stats(MAIN)["hash"] != before_hash, "the curtain did not move"
    assert _count_ws_sends(lab.page) == sends, "moving the curtain sent a message to the kernel"
    # zoom and pan redraw at once; the page then tells Python its view (one debounced message) and
    # Python answers with the visible window at the resolution drawn (no recomputation)
    lab.page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    lab.page.wait_for_function("(sel) => /restored [-0-9.e]+$/.test(document.querySelector(sel).textContent)",
                               arg=f"{DX} [data-role=hover]", timeout=20_000)
    sends = _count_ws_sends(lab.page)
    lab.page.mouse.wheel(0, -300)
    lab.page.wait_for_timeout(200)
    assert _count_ws_sends(lab.page) - sends <= 1
    lab.page.wait_for_function("(sel) => document.querySelector(sel).dataset.viewBox !== '0,512,0,512'",
                               arg=DX, timeout=20_000)
    lab.screenshot("deconvolution_curtain_zoom", f".jp-OutputArea-output:has({DX})")
    lab.page.locator(MAIN).dblclick()

    # Wiener: slider move -> updated image on screen
    sigma = f"{DX} input[data-trait=psf_sigma_um]"
    times = []
    for i in range(15):
        ms = lab.slider_to_redraw_ms(sigma, MAIN, [30.0, 33.0, 36.0][i % 3])
        assert ms > 0
        times.append(ms)
        lab.kernel("w.wait()")
    times.sort()
    wiener_median = times[len(times) // 2]

    # Richardson-Lucy: first intermediate frame after a change
    lab.kernel("w.set_trait('num_iter', 300); w.method = 'richardson_lucy'; w.wait()")
    _frame_on_screen(lab)
    rl = []
    for v in (30.0, 34.0, 31.0):
        ms = lab.slider_to_redraw_ms(sigma, MAIN, v)
        assert ms > 0, _no_frame_diagnosis(lab, v, rl)
        rl.append(ms)
        lab.kernel("w.wait()")
    rl_first = sorted(rl)[1]

    # 50 rapid slider moves: the last value wins, no error, no memory growth
    lab.kernel("w.method = 'wiener'; w.wait()")
    rss0 = lab.kernel_value("rss_mb()")
    for _rep in range(2):
        lab.page.evaluate(
            """async (sel) => {
                const input = document.querySelector(sel);
                for (let i = 0; i < 50; i++) {
                    input.value = String(20 + i * 0.5);
                    input.dispatchEvent(new Event('input', {bubbles: true}));
                    await new Promise(r => setTimeout(r, 8));
                }
            }""",
            sigma,
        )
        lab.kernel("w.wait()")
        fid = _frame_on_screen(lab)
    rss1 = lab.kernel_value("rss_mb()")
    assert lab.kernel_value("w.psf_sigma_um") == 44.5
    assert lab.kernel_value("w.error") == ""
    assert lab.kernel_value(
        "bool(np.allclose(w.restored, __import__('superres_widgets').xrf.wiener(img, w.psf, w.balance, "
        "dtype=np.float32), rtol=1e-6, atol=1e-6))"
    )
    assert fid > 0
    lab.record("latency_deconvolution", {
        "wiener_slider_to_frame_ms": times, "wiener_median_ms": wiener_median,
        "rl_first_frame_ms": rl, "rl_first_frame_median_ms": rl_first,
        "rapid_moves_rss_mb": [rss0, rss1],
    })
    print(f"\nWiener 512x512 slider -> frame on screen: median {wiener_median:.0f} ms; "
          f"RL first intermediate frame: {rl_first:.0f} ms; RSS {rss0:.0f} -> {rss1:.0f} MB after 100 rapid moves")
    assert rss1 - rss0 < 60, (rss0, rss1)

    # a Python change redraws: difference view, then side by side
    h = lab.canvas_stats(MAIN)["hash"]
    lab.kernel("w.mode = 'diff'")
    lab.page.wait_for_timeout(300)
    assert lab.canvas_stats(MAIN)["hash"] != h
    lab.screenshot("deconvolution_diff", f".jp-OutputArea-output:has({DX})")
    lab.kernel("w.mode = 'side'; w.colormap = 'magma'")
    lab.page.wait_for_timeout(300)
    for role in ("left", "right"):
        st = lab.canvas_stats(f"{DX} canvas[data-role={role}]")
        assert st["colours"] > 50, (role, st)

    # line profile through both images: shift+drag; the restored values at full resolution come from
    # Python (the frame on screen is 400 x 400 area means of the 512 x 512 map)
    lbox = lab.page.locator(f"{DX} canvas[data-role=left]").bounding_box()
    lab.page.keyboard.down("Shift")
    lab.page.mouse.move(lbox["x"] + 40, lbox["y"] + 100)
    lab.page.mouse.down()
    lab.page.mouse.move(lbox["x"] + lbox["width"] - 40, lbox["y"] + 300, steps=5)
    lab.page.mouse.up()
    lab.page.keyboard.up("Shift")
    lab.page.wait_for_timeout(500)
    prof = lab.canvas_stats(f"{DX} canvas[data-role=profile]")
    assert prof["colours"] > 10, prof
    reds = lab.page.evaluate(
        """(sel) => { const c = document.querySelector(sel); const d = c.getContext('2d')
            .getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 180 && d[i + 1] < 90 && d[i + 2] < 90) n++;
            return n; }""", f"{DX} canvas[data-role=profile]")
    assert reds > 100, reds  # the restored (red) profile is drawn
    lab.screenshot("deconvolution_side_profile", f".jp-OutputArea-output:has({DX})")

    # choosing another algorithm in the page recomputes and redraws
    h = lab.canvas_stats(f"{DX} canvas[data-role=right]")["hash"]
    lab.page.locator(f"{DX} select[data-trait=method]").select_option("fista")
    deadline = time.time() + 30
    while time.time() < deadline and lab.kernel_value("w.method") != "fista":
        lab.page.wait_for_timeout(100)
    lab.kernel("w.wait()")
    _frame_on_screen(lab)
    assert lab.canvas_stats(f"{DX} canvas[data-role=right]")["hash"] != h

    # every slider the page drew for FISTA (from Python's method table) dragged to both ends and
    # back: the kernel is idle on the final values within 2x one computation (+1 s); waiting for
    # the stale work at the ends (1000 iterations, a 200 µm PSF: ~20 s at 30 iterations per 0.5 s) would fail
    lab.kernel("w.num_iter = 30; w.wait(); import time; from superres_widgets.widgets._restoration import "
               "restore_with_psf")
    lab.page.wait_for_function(  # the page shows the new value before its sliders are read
        "(sel) => document.querySelector(sel).nextElementSibling.textContent === '30'",
        arg=f"{DX} input[data-trait=num_iter]")
    sliders = lab.page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].filter((i) => i.offsetParent !== null)
            .map((i) => [i.dataset.trait, i.min, i.max, i.value, i.dataset.scale || 'linear'])""",
        f"{DX} .srw-controls input[type=range]")
    assert {s[0] for s in sliders} == {"psf_sigma_um", "psf_rho", "lam", "num_iter"}, sliders
    assert dict((s[0], s[4]) for s in sliders)["num_iter"] == "log"
    drags = {}
    for name, lo, hi, start, _scale in sliders:
        before = lab.kernel_value(f"w.{name}")
        # the kernel notes when each value of the drag arrives: ipywidgets' front-end sends one message at a
        # time and holds the newest value until the kernel has handled the previous one, so the final value
        # can reach the kernel AFTER a request sent by this test; the clock starts when it arrives
        lab.kernel(f"_seen = []; _obs = lambda ch: _seen.append((time.perf_counter(), ch['new'])); "
                   f"w.observe(_obs, names=['{name}'])")
        lab.page.evaluate(
            """async ([sel, values]) => { const i = document.querySelector(sel);
                for (const v of values) { i.value = v; i.dispatchEvent(new Event('input', {bubbles: true}));
                                          await new Promise((r) => setTimeout(r, 15)); } }""",
            [f"{DX} input[data-trait={name}]", [lo, hi, start]])
        deadline = time.time() + 30
        while time.time() < deadline:
            seen = lab.kernel_value("[v for _, v in _seen]")
            if seen and seen[-1] == pytest.approx(before, rel=0.01):
                break
            lab.page.wait_for_timeout(50)
        else:
            raise AssertionError(f"{name}: the drag's final value never reached the kernel: {seen}")
        waited = lab.kernel_value(f"(w.wait(), w.unobserve(_obs, names=['{name}']), "
                                  f"time.perf_counter() - _seen[-1][0])[-1]")
        after = lab.kernel_value(f"w.{name}")
        assert after == pytest.approx(before, rel=0.01), (name, before, after)
        # idle, no error, and showing the restoration of the final values (each part reported on failure)
        state = lab.kernel_value(
            "(lambda ref: dict(error=w.error, busy=w.busy, values=w.method_values(), "
            "same=bool(np.allclose(w.restored, ref, rtol=1e-5, atol=1e-4)), "
            "max_diff=float(np.abs(w.restored - ref).max())))(restore_with_psf("
            "img, w.psf, {'method': w.method, **w.method_values()}, dtype=np.float32))")
        assert state["error"] == "" and not state["busy"] and state["same"], (name, state)
        # one computation at the final values, the same way (frames streamed to this page): the median
        # of 3 recomputations after a step away (the machine is shared)
        one = lab.kernel_value(
            f"sorted((w.set_state({{'{name}': w.{name} + (1 if isinstance(w.{name}, int) else 0.05)}}), w.wait(), "
            f"w.set_state({{'{name}': {after!r}}}), (lambda t0: (w.wait(), time.perf_counter() - t0)[1])"
            f"(time.perf_counter()))[-1] for _ in range(3))[1]")
        # + the page's and the kernel's hand-overs and the lifecycle's grace period (0.3 s); on this 2-core
        # machine a quiet fresh-clone run once waited 1.82 s for one = 0.59 s (+0.6 s was the bound then)
        assert waited <= 2 * one + 1.0, (name, waited, one)
        drags[name] = [waited, one]
    lab.record("sliders_to_limits_deconvolution", drags)

    # a failing computation shows its message; the widget keeps working
    lab.kernel("w.psf_sigma_um = 100000.0; w.wait()")
    lab.page.wait_for_selector(f"{DX} .srw-status.srw-error", timeout=20_000)
    lab.kernel("w.psf_sigma_um = 30.0; w.wait()")
    lab.page.wait_for_selector(f"{DX} .srw-status.srw-error", state="hidden", timeout=20_000)
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


LAYOUT_SETUP = """
import numpy as np
from superres_widgets.widgets import DeconvolutionExplorer
from superres_widgets.xrf import usaf1951, simulate_scan
chart = usaf1951(5.0, groups=(3, 4))
counts, meta = simulate_scan(chart.image, 32.5, 5.0, truth_pixel_um=5.0, rng=1)
img = counts.astype(float)
img[40:44, 50:56] = np.nan  # dead pixels: masked
w = DeconvolutionExplorer(image=img, pixel_size_um=5.0, method="rl", psf_sigma_um=32.5, num_iter=20,
                          chart=chart, reference=chart.image)
w.wait()
w
"""


def _in_viewport(page, selector):
    box = page.locator(selector).first.bounding_box()
    vp = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= vp["height"] and \
        box["x"] >= 0 and box["x"] + box["width"] <= vp["width"], box


@pytest.mark.parametrize("size", [(1280, 800), (1400, 900)])
def test_slider_and_image_fit_a_laptop_window_with_the_file_browser_open(lab, size):
    """Issue 15 item 3: the σ slider and the image in view together; stale marker, hover, notices (issue 13)."""
    lab.page.set_viewport_size({"width": size[0], "height": size[1]})
    lab.open(lab.write_notebook(f"ui_layout_{size[0]}.ipynb", LAYOUT_SETUP)).run_all()
    assert lab.cell_errors() == []
    lab.page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
    lab.page.wait_for_selector(".jp-FileBrowser", state="visible", timeout=20_000)
    lab.page.wait_for_selector(MAIN, timeout=60_000)
    _frame_on_screen(lab)
    sigma = f"{DX} input[data-trait=psf_sigma_um]"
    lab.page.locator(MAIN).scroll_into_view_if_needed()
    lab.page.wait_for_timeout(300)
    ok_img, img_box = _in_viewport(lab.page, MAIN)
    ok_slider, slider_box = _in_viewport(lab.page, sigma)
    lab.screenshot(f"deconvolution_layout_{size[0]}x{size[1]}")
    assert ok_img and ok_slider, (img_box, slider_box, lab.page.viewport_size)
    assert slider_box["x"] > img_box["x"] + img_box["width"] - 5, "the controls wrapped below the image"
    # the masked pixels and the pixel size: a notice, no error
    assert "masked pixel" in lab.kernel_value("w.notice") and lab.kernel_value("w.error") == ""
    # hovering the map: position in µm and both values
    lab.page.mouse.move(img_box["x"] + img_box["width"] * 0.3, img_box["y"] + img_box["height"] * 0.4)
    lab.page.wait_for_timeout(200)
    hover = lab.page.locator(f"{DX} [data-role=hover]").text_content()
    assert "µm" in hover and "raw" in hover and "restored" in hover, hover
    # recomputing: the metrics are marked stale, the status never says "iteration 0"
    lab.kernel("w.num_iter = 1500")
    lab.page.wait_for_selector(f"{DX} [data-role=metrics][data-stale='1']", timeout=20_000)
    text = lab.page.locator(f"{DX} [data-role=progress-text]").text_content()
    assert "iteration 0" not in text and "restoring" in text, text
    assert "previous settings" in lab.page.locator(f"{DX} [data-role=stale-note]").text_content()
    lab.screenshot(f"deconvolution_stale_{size[0]}x{size[1]}")
    lab.kernel("w.num_iter = 10; w.wait()")
    try:
        lab.page.wait_for_selector(f"{DX} [data-role=metrics][data-stale='0']", timeout=20_000)
    except Exception as exc:  # say what the kernel holds, then fail
        state = lab.kernel_value("[w.num_iter, w.stale, w.busy, w.error, w.iteration, w.final]")
        raise AssertionError(f"metrics still stale in the page; kernel: {state}") from exc
    # σ at the slider maximum: "–" with the reason
    lab.kernel("w.psf_sigma_um = 150.0; w.wait()")
    lab.page.wait_for_function(
        "(sel) => document.querySelector(sel).textContent.includes('no element of the chart is resolved')",
        arg=f"{DX} [data-role=metrics-note]", timeout=30_000)
    lab.screenshot(f"deconvolution_sigma150_{size[0]}x{size[1]}")
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def test_pixel_size_notice_and_blind_kernel_buttons(lab):
    setup = LAYOUT_SETUP.replace('pixel_size_um=5.0, method="rl"', 'method="blind", kernel_size=15')
    lab.open(lab.write_notebook("ui_blind.ipynb", setup)).run_all()
    assert lab.cell_errors() == []
    lab.page.wait_for_selector(f"{DX} .srw-status.srw-notice", timeout=60_000)
    assert "pixel_size_um not given: assuming 5 µm" in lab.page.locator(f"{DX} .srw-status").text_content()
    lab.page.wait_for_selector(f"{DX} [data-role=use-kernel]", state="visible", timeout=60_000)
    lab.page.locator(f"{DX} [data-role=use-kernel]").click()
    deadline = time.time() + 30
    while time.time() < deadline and lab.kernel_value("w.method") != "richardson_lucy":
        lab.page.wait_for_timeout(100)
    lab.kernel("w.wait()")
    assert lab.kernel_value("w.psf_label").startswith("blind kernel")
    assert "PSF: blind kernel" in lab.page.locator(f"{DX} [data-role=psf-box]").text_content()
    lab.screenshot("deconvolution_blind_kernel_used")


SIZED_SETUP = """
import numpy as np
from superres_widgets.widgets import DeconvolutionExplorer
from superres_widgets.widgets._display import area_resample
from superres_widgets.xrf import usaf1951, simulate_scan
chart = usaf1951(5.0, groups=(1, 2, 3, 4, 5))
counts, meta = simulate_scan(chart.image, 32.5, 5.0, truth_pixel_um=5.0, rng=1)
img = counts[:{n}, :{n}].astype(float)
w = DeconvolutionExplorer(image=img, pixel_size_um=5.0, method="wiener", psf_sigma_um=32.5, balance=0.03,
                          frame_resolution="{resolution}")
w.wait()
w
"""

# slider -> frame and RL first frame per round and per frame path; the benchmark raises the rounds
ROUNDS = int(__import__("os").environ.get("SRW_LATENCY_ROUNDS", "3"))
# bounds that hold on a 2-core machine shared by several jobs (load average ~14 seen); the benchmark
# (benchmarks/bench_widgets_browser.py) reports the real figures against the goals (100 / 150 ms)
WIENER_BOUND_MS = 1500
RL_BOUND_MS = 2500


def _settled_view_box(lab, timeout=20.0):
    """The crop on screen once the page and the kernel agree on it (the view is sent debounced)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        lab.page.wait_for_timeout(300)
        page_box = [int(v) for v in lab.page.locator(DX).get_attribute("data-view-box").split(",")]
        if lab.kernel_value("w.view_box if not w.busy else None") == page_box:
            return page_box
    raise AssertionError("the page and the kernel never agreed on the view box")


def _pctl(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _latencies(lab, sigma, rounds):
    """Wiener slider -> new pixels and RL slider -> first streamed frame (ms), per frame path, alternating.

    Also returns, per move, the kernel's side (``w.timing``): the restoration's wall time in the worker
    (RL: to its first streamed frame) and, for Wiener, the worker thread's CPU time.
    """
    keys = ("wiener", "wiener_balance", "rl_first_frame", "wiener_readback")
    out = {r: {k: [] for k in keys} for r in ("display", "full")}
    kernel = {r: {k: {"wall": [], "cpu": []} for k in keys} for r in ("display", "full")}
    values = iter([30.0, 33.0, 36.0, 31.0, 34.0] * (6 * rounds))
    balance = f"{DX} input[data-trait=balance]"
    lo, hi = lab.page.evaluate("(sel) => [Number(document.querySelector(sel).min), "
                               "Number(document.querySelector(sel).max)]", balance)
    positions = iter([lo + f * (hi - lo) for f in (0.3, 0.4, 0.5, 0.35, 0.45)] * (4 * rounds))
    # "wiener_readback": the same sigma moves timed the earlier way (the canvas read back and hashed on
    # every animation frame), for comparison in the same run
    for method, key, setup in (("wiener", "wiener", ""), ("wiener", "wiener_balance", ""),
                               ("richardson_lucy", "rl_first_frame", "w.num_iter = 40; "),
                               ("wiener", "wiener_readback", "")):
        lab.kernel(f"w.method = '{method}'; {setup}w.wait()")
        for _ in range(rounds):
            for res in ("display", "full"):
                lab.kernel(f"w.frame_resolution = '{res}'; w.wait()")
                _frame_on_screen(lab)
                slider, value = (balance, next(positions)) if key == "wiener_balance" else (sigma, next(values))
                ms = (lab.slider_to_redraw_ms(slider, MAIN, value) if key == "wiener_readback"
                      else lab.slider_to_frame_ms(slider, DX, MAIN, value))
                if ms == -1:  # no new pixels within 10 s: counted (at most one per run allowed), then once more
                    out[res].setdefault("misses", []).append(
                        [key, lab.kernel_value("[w.psf_sigma_um, w.busy, w.error, w.frame_id]")])
                    lab.kernel("w.wait()")
                    _frame_on_screen(lab)
                    ms = lab.slider_to_frame_ms(slider, DX, MAIN, next(values) if slider == sigma else next(positions))
                assert ms > 0, (key, res, out)
                out[res][key].append(ms)
                lab.kernel("w.wait()")
                t = lab.kernel_value("dict(w.timing, compute=w.compute_ms)")
                kernel[res][key]["wall"].append(t["first_frame"] if key == "rl_first_frame" else t["compute"])
                if key != "rl_first_frame":
                    kernel[res][key]["cpu"].append(t["cpu"])
    lab.kernel("w.frame_resolution = 'display'; w.method = 'wiener'; w.wait()")
    _frame_on_screen(lab)
    return out, kernel


@pytest.mark.parametrize("n", [512, 1024])
def test_display_resolution_frames_latency_zoom_and_hover(lab, n):
    """Issue 14: frames at display resolution (area means), full resolution on zoom, hover at full resolution."""
    lab.page.add_init_script(WS_COUNTER)
    lab.open(lab.write_notebook(f"ui_deconv_{n}.ipynb", SIZED_SETUP.format(n=n, resolution="display"))).run_all()
    assert lab.cell_errors() == []
    lab.page.wait_for_selector(MAIN, timeout=60_000)
    _frame_on_screen(lab)
    # a recomputation whose pixels equal those on screen (no `restored_view` change reaches the page)
    # still marks its frame as drawn
    fid = lab.kernel_value("w.frame_id")
    lab.kernel("w._request_update(); w.wait()")
    assert lab.kernel_value("w.frame_id") == fid + 1
    _frame_on_screen(lab, timeout=10.0)
    root = lab.page.locator(DX)
    # the frame on screen: the whole map as at most canvas-sized area means of the full result
    assert root.get_attribute("data-view-box") == f"0,{n},0,{n}"
    assert root.get_attribute("data-frame-shape") == "400,400"
    assert lab.kernel_value("list(w.restored.shape)") == [n, n]
    assert lab.kernel_value("bool(np.allclose(w.restored_view, area_resample(w.restored, (400, 400)), "
                            "rtol=1e-5, atol=1e-4))")
    s = lab.canvas_stats(MAIN)
    assert s["colours"] > 50 and s["nonWhite"] > 0.5, s

    # hover at zoom 1 (downsampled frame): the restored value is Python's full-resolution pixel
    box = lab.page.locator(MAIN).bounding_box()
    hover = f"{DX} [data-role=hover]"
    lab.page.mouse.move(box["x"] + box["width"] * 0.37, box["y"] + box["height"] * 0.43)
    lab.page.wait_for_function("(sel) => /restored [-0-9.e]+$/.test(document.querySelector(sel).textContent)",
                               arg=hover, timeout=20_000)
    text = lab.page.locator(hover).text_content()
    col, row = (int(v) for v in re.search(r"col (\d+), row (\d+)", text).groups())
    shown = float(re.search(r"restored ([-0-9.e]+)$", text).group(1))
    full = lab.kernel_value(f"float(w.restored[{row}, {col}])")
    assert shown == pytest.approx(full, rel=6e-4), (text, full)
    lab.screenshot(f"deconvolution_{n}_display", f".jp-OutputArea-output:has({DX})")
    # the mouse rests there while a new result arrives: the readout follows it (never the old value)
    lab.kernel("w.balance = w.balance * 4; w.wait()")
    new = lab.kernel_value(f"float(w.restored[{row}, {col}])")
    assert abs(new - full) > 1e-3 * max(abs(full), 1.0)  # the result really changed at that pixel
    lab.page.wait_for_function(
        """([sel, want]) => { const m = /restored ([-0-9.e]+)$/.exec(document.querySelector(sel).textContent);
            return m && Math.abs(Number(m[1]) - want) <= 6e-4 * Math.max(Math.abs(want), 1); }""",
        arg=[hover, new], timeout=20_000)
    lab.kernel("w.balance = w.balance / 4; w.wait()")

    # zoom in: Python sends the visible crop at full resolution (exact pixels), the page draws it
    for _ in range(6 if n == 1024 else 4):
        lab.page.mouse.wheel(0, -200)
        lab.page.wait_for_timeout(60)
    lab.page.wait_for_function(
        """(sel) => { const r = document.querySelector(sel).dataset;
            const b = r.viewBox.split(',').map(Number); const s = r.frameShape.split(',').map(Number);
            return b[1] - b[0] < %d && s[0] === b[1] - b[0] && s[1] === b[3] - b[2]; }""" % n,
        arg=DX, timeout=20_000)
    r0, r1, c0, c1 = _settled_view_box(lab)
    assert lab.kernel_value(f"w.view_box == [{r0}, {r1}, {c0}, {c1}] and bool(np.array_equal(w.restored_view, "
                            f"w.restored[{r0}:{r1}, {c0}:{c1}].astype(np.float32)))")
    lab.screenshot(f"deconvolution_{n}_zoomed", f".jp-OutputArea-output:has({DX})")
    # hovering the zoomed crop reads the full-resolution frame in the page: nothing asked of the kernel
    sends = _count_ws_sends(lab.page)
    lab.page.mouse.move(box["x"] + box["width"] * 0.52, box["y"] + box["height"] * 0.55)
    lab.page.wait_for_function("(sel) => /restored [-0-9.e]+$/.test(document.querySelector(sel).textContent)",
                               arg=hover, timeout=20_000)
    assert _count_ws_sends(lab.page) == sends
    text = lab.page.locator(hover).text_content()
    col, row = (int(v) for v in re.search(r"col (\d+), row (\d+)", text).groups())
    assert r0 <= row < r1 and c0 <= col < c1, (text, (r0, r1, c0, c1))
    shown = float(re.search(r"restored ([-0-9.e]+)$", text).group(1))
    assert shown == pytest.approx(lab.kernel_value(f"float(w.restored[{row}, {col}])"), rel=6e-4), text
    # a slider move while zoomed: the new crop, still exact
    lab.kernel("w.balance = 0.05; w.wait()")
    _frame_on_screen(lab)
    assert lab.kernel_value(f"w.view_box == [{r0}, {r1}, {c0}, {c1}] and bool(np.array_equal(w.restored_view, "
                            f"w.restored[{r0}:{r1}, {c0}:{c1}].astype(np.float32)))")
    lab.page.locator(MAIN).dblclick()  # back to the whole map
    lab.page.wait_for_function("([sel, v]) => document.querySelector(sel).dataset.viewBox === v",
                               arg=[DX, f"0,{n},0,{n}"], timeout=20_000)
    lab.kernel("w.balance = 0.03; w.wait()")

    # speed: slider -> new pixels (Wiener) and first streamed frame (RL), display vs full-resolution frames
    sigma = f"{DX} input[data-trait=psf_sigma_um]"
    lat, kernel = _latencies(lab, sigma, ROUNDS)
    misses = {res: d.pop("misses", []) for res, d in lat.items()}
    summary = {res: {k: {"median_ms": _pctl(v, 0.5), "p90_ms": _pctl(v, 0.9), "ms": v,
                         "kernel_median_ms": _pctl(kernel[res][k]["wall"], 0.5),
                         "kernel_cpu_median_ms": (_pctl(kernel[res][k]["cpu"], 0.5) if kernel[res][k]["cpu"]
                                                  else None),
                         "kernel_ms": kernel[res][k]["wall"]} for k, v in d.items()}
               for res, d in lat.items()}
    summary["misses"] = misses
    # the kernel's share is part of what the page waited for, move by move
    for res in lat:
        for k, page_ms in lat[res].items():
            assert all(kw <= p + 5.0 for kw, p in zip(kernel[res][k]["wall"], page_ms)), (res, k, kernel, lat)
    summary["frame_shape"] = {"display": [400, 400], "full": [n, n]}
    lab.record(f"latency_deconvolution_{n}", summary)
    d, f = summary["display"], summary["full"]
    print(f"\n{n}x{n}: Wiener slider -> frame median {d['wiener']['median_ms']:.0f} ms (full-res frames "
          f"{f['wiener']['median_ms']:.0f}); RL first frame {d['rl_first_frame']['median_ms']:.0f} ms "
          f"(full-res {f['rl_first_frame']['median_ms']:.0f})")
    assert d["wiener"]["median_ms"] <= WIENER_BOUND_MS, summary
    assert d["wiener_balance"]["median_ms"] <= WIENER_BOUND_MS, summary
    assert d["rl_first_frame"]["median_ms"] <= RL_BOUND_MS, summary
    assert sum(len(v) for v in misses.values()) <= 1, misses
    assert lab.kernel_value("w.error") == ""
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console
