"""Real-browser tests of the s3DXRD widgets in JupyterLab.

Each test opens a notebook in a fresh workspace, runs it, and checks what a
person would: the canvases are drawn (not blank), a click or slider in the
page moves the Python state, a Python-side change redraws the view.
Screenshots are kept in ``test-artifacts/``.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.ui

BT = ".srw-beam-trajectory"
SM = ".srw-superposition-map"






def test_beam_trajectory_explorer_in_browser(lab):
    name = lab.write_notebook("ui_beam.ipynb", [
        "from superres_widgets.widgets import BeamTrajectoryExplorer\n"
        "w = BeamTrajectoryExplorer(xs=3, ys=2)\nw",
    ])
    lab.open(name).run_all()
    assert lab.cell_errors() == []
    overview = f"{BT} canvas[data-role=overview]"
    zoom = f"{BT} canvas[data-role=zoom]"
    lab.page.wait_for_selector(overview, timeout=60_000)
    lab.page.wait_for_timeout(300)
    s_over = lab.canvas_stats(overview)
    s_zoom = lab.canvas_stats(zoom)
    # drawn, not blank: strips in several colours over a white background
    assert s_over["colours"] > 20 and 0.05 < s_over["nonWhite"] < 0.99, s_over
    assert s_zoom["colours"] > 5 and s_zoom["nonWhite"] > 0.05, s_zoom
    lab.screenshot("beam_trajectory_initial", BT)
    readout = lab.page.locator(f"{BT} .srw-readout-value").nth(1).inner_text()
    assert readout.startswith("0.00693"), readout  # exact area of (3, 2) in beam^2

    # a click in the overview picks a target (snapped to the 1/4 sub-pixel grid)
    box = lab.page.locator(overview).bounding_box()
    lab.page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5)
    deadline = time.time() + 10
    while time.time() < deadline:
        xs, ys = lab.kernel_value("[w.xs, w.ys]")
        if xs != 3.0:
            break
        lab.page.wait_for_timeout(100)
    assert xs < -3 and abs(ys) < 0.5, (xs, ys)
    assert abs(xs * 4 - round(xs * 4)) < 1e-9  # snapped to sub-pixels
    assert lab.kernel_value("w.n_measurements") == 18

    # a slider moves Python state
    before = lab.canvas_stats(overview)["hash"]
    slider = lab.page.locator(f"{BT} input[data-trait=omega_step_deg]")
    slider.fill("5")
    deadline = time.time() + 10
    while time.time() < deadline and lab.kernel_value("w.omega_step_deg") != 5.0:
        lab.page.wait_for_timeout(100)
    assert lab.kernel_value("w.omega_step_deg") == 5.0
    assert lab.kernel_value("w.n_measurements") == 36
    lab.wait_canvas_change(overview, before)

    # latency a user sees: slider move -> kernel -> Python -> binary message -> redraw
    times = []
    for i in range(12):
        # the area readout changes only when Python's answer arrives
        ms = lab.slider_to_redraw_ms(f"{BT} input[data-trait=ys]", f"{BT} .srw-readout-value",
                                     [1.25, 1.5, 1.75, 2.0][i % 4], index=1)
        assert ms > 0, "the view never redrew after a slider move"
        times.append(ms)
    times.sort()
    median = times[len(times) // 2]
    lab.record("latency_beam_trajectory", {"slider_to_redraw_ms": times, "median_ms": median})
    print(f"\nBeamTrajectoryExplorer slider -> redraw: median {median:.0f} ms, max {times[-1]:.0f} ms")

    # a Python change redraws the view and the readouts
    before = lab.canvas_stats(zoom)["hash"]
    lab.kernel("w.omega_step_deg = 10; w.xs = 0; w.ys = 0")
    lab.wait_canvas_change(zoom, before)
    lab.page.wait_for_function(
        "(sel) => document.querySelectorAll(sel)[1].textContent.startsWith('0.787')",
        arg=f"{BT} .srw-readout-value",
    )
    lab.screenshot("beam_trajectory_centre", BT)

    # a bad value from Python is clamped with a visible notice; the widget keeps working
    lab.kernel("w.beam_width = -1")
    lab.page.wait_for_selector(f"{BT} .srw-status.srw-notice", timeout=10_000)
    assert "beam_width" in lab.page.locator(f"{BT} .srw-status").inner_text()
    assert lab.kernel_value("w.beam_width") > 0

    # a beam profile registered in the notebook (outside the package) reaches the
    # browser's strip rasteriser: same support as the box, so the polygon and the
    # readouts stay and only the weighted strips change
    lab.kernel("w.beam_width = 1; w.xs = 3; w.ys = 2; w.zoom = 4")
    lab.page.wait_for_timeout(500)
    box_hash = lab.canvas_stats(zoom)["hash"]
    box_colours = lab.canvas_stats(overview)["colours"]
    lab.kernel(
        "import numpy as np\n"
        "from superres_widgets.s3dxrd import BeamProfile, register_beam_profile\n"
        "class Tent(BeamProfile):\n"
        "    def weight(self, d, width):\n"
        "        return np.clip(1 - np.abs(np.asarray(d, float)) / (0.5 * width), 0, 1)\n"
        "    def support(self, width):\n"
        "        return 0.5 * width\n"
        "register_beam_profile('ui-tent', Tent(), replace=True)\n"
        "w.profile = 'ui-tent'"
    )
    lab.wait_canvas_change(zoom, box_hash)
    assert lab.kernel_value("w.beam_profile['flat']") is False
    assert lab.page.locator(f"{BT} .srw-readout-value").nth(1).inner_text().startswith("0.00693")
    tent = lab.canvas_stats(overview)
    assert tent["colours"] > box_colours, (tent, box_colours)  # a gradient across every strip
    lab.screenshot("beam_trajectory_tent_profile", BT)
    lab.kernel("w.profile = 'box'")
    deadline = time.time() + 10  # back to the box: the same picture
    while time.time() < deadline and lab.canvas_stats(zoom)["hash"] != box_hash:
        lab.page.wait_for_timeout(50)
    assert lab.canvas_stats(zoom)["hash"] == box_hash
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def test_superposition_map_in_browser(lab):
    name = lab.write_notebook("ui_map.ipynb", [
        "from superres_widgets.widgets import SuperpositionMap\n"
        "m = SuperpositionMap(omega_step_deg=10)\nm.wait()\nm",
    ])
    lab.open(name).run_all()
    assert lab.cell_errors() == []
    canvas = f"{SM} canvas[data-role=map]"
    lab.page.wait_for_selector(canvas, timeout=60_000)
    # the Bokeh plots render in the same layout (BokehJS loaded inline, no CDN)
    lab.page.wait_for_selector(".bk-Canvas, .bk-Figure, .bk-canvas", timeout=60_000, state="attached")
    lab.page.wait_for_timeout(500)
    s = lab.canvas_stats(canvas)
    assert s["colours"] > 20 and s["nonWhite"] > 0.3, s
    lab.screenshot("superposition_map_initial", ".jp-OutputArea-output:has(.srw-superposition-map)")
    assert 0.16 <= lab.kernel_value("m.mean_relative_size") <= 0.22

    # click a sub-pixel: Python state follows
    box = lab.page.locator(canvas).bounding_box()
    lab.page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)
    deadline = time.time() + 10
    while time.time() < deadline and lab.kernel_value("m.selected_xs") is None:
        lab.page.wait_for_timeout(100)
    sel = lab.kernel_value("[m.selected_xs, m.selected_ys, m.selected_value]")
    assert sel[0] > 0 and sel[1] > 0 and sel[2] is not None and 0 < sel[2] < 1, sel

    # a slider recomputes in the background; the map redraws
    before = lab.canvas_stats(canvas)["hash"]
    lab.page.locator(f"{SM} input[data-trait=subdivision]").fill("2")
    lab.wait_canvas_change(canvas, before, timeout=30)
    lab.kernel("m.wait()")
    assert lab.kernel_value("m.subdivision") == 2

    # Python change: angular step 5 deg -> smaller spots, plots follow
    before = lab.canvas_stats(canvas)["hash"]
    lab.kernel("m.omega_step_deg = 5; m.wait()")
    lab.wait_canvas_change(canvas, before, timeout=30)
    title = lab.kernel_value("m._figures[2].title.text")
    assert "FWHM" in title
    lab.screenshot("superposition_map_5deg", ".jp-OutputArea-output:has(.srw-superposition-map)")
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def _red_fraction(lab, selector):
    """Fraction of a canvas's pixels in the 'lit in every measurement' red of trajectory.js."""
    return lab.page.evaluate(
        """(sel) => {
            const c = document.querySelector(sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] === 220 && d[i+1] === 20 && d[i+2] === 60) n++;
            return n / (d.length / 4);
        }""",
        selector,
    )


def _wait_kernel(lab, expr, want, timeout=15.0):
    deadline = time.time() + timeout
    got = lab.kernel_value(expr)
    while time.time() < deadline and got != want:
        lab.page.wait_for_timeout(100)
        got = lab.kernel_value(expr)
    return got


def test_beam_trajectory_real_beams_in_browser(lab):
    """Issue 11: profile menu, blur, axis offset, omega range, sensitivity map, fitted zoom, at 1320 px."""
    lab.page.set_viewport_size({"width": 1320, "height": 1100})
    name = lab.write_notebook("ui_beam_real.ipynb", [
        "from superres_widgets.widgets import BeamTrajectoryExplorer\n"
        "w = BeamTrajectoryExplorer(xs=3, ys=2, omega_step_deg=2)\nw",
    ])
    lab.open(name).run_all()
    assert lab.cell_errors() == []
    zoom = f"{BT} canvas[data-role=zoom]"
    lab.page.wait_for_selector(zoom, timeout=60_000)
    lab.page.wait_for_timeout(300)
    # at a 2 deg step the region is tiny; the zoom fits it by default and it is clearly visible
    assert lab.kernel_value("w.auto_zoom") is True and lab.kernel_value("w.zoom") > 30
    assert _red_fraction(lab, zoom) > 0.01
    lab.screenshot("beam_trajectory_2deg_fitted", BT)
    # the readouts print zeros as 0: the target (0, 0) has its centroid on it
    lab.kernel("w.xs = 0; w.ys = 0")
    lab.page.wait_for_function(
        "(sel) => [...document.querySelectorAll(sel)].some(e => e.textContent.startsWith('(0, 0)'))",
        arg=f"{BT} .srw-readout-value",
    )
    lab.kernel("w.xs = 3; w.ys = 2")
    # the profile menu (the registered profiles) sets Python's profile; the blur slider appears for box (x) gaussian
    menu = lab.page.locator(f"{BT} select[data-trait=profile]")
    assert set(menu.locator("option").all_inner_texts()) >= {"box", "gaussian", "box ⊗ gaussian"}
    blur = lab.page.locator(f"{BT} input[data-trait=blur_fwhm]")
    assert not blur.is_visible()
    before = lab.canvas_stats(zoom)["hash"]
    menu.select_option("gaussian")
    assert _wait_kernel(lab, "w.profile", "gaussian") == "gaussian"
    lab.wait_canvas_change(zoom, before)
    lab.page.wait_for_timeout(300)
    # a Gaussian lights everything a little: no red "lit everywhere" region, the sensitivity map instead
    assert _red_fraction(lab, zoom) == 0
    s = lab.canvas_stats(zoom)
    assert s["colours"] > 200, s
    eff = lab.kernel_value("w.effective_area_beam2")
    # the Gaussian's sensitivity has the same size everywhere (a product of Gaussians): that of the centre
    centre = lab.kernel_value("__import__('superres_widgets.s3dxrd').s3dxrd.sensitivity_map(w.geometry(), 0, 0)"
                              ".effective_area")
    assert eff == pytest.approx(centre, rel=5e-3) and 0.01 < eff < 0.05, (eff, centre)
    shown = f"{eff:.4g}"[:5]
    assert any(t.startswith(shown) for t in lab.page.locator(f"{BT} .srw-readout-value").all_inner_texts()), shown
    lab.screenshot("beam_trajectory_gaussian_sensitivity", BT)
    menu.select_option("box_gaussian")
    assert _wait_kernel(lab, "w.profile", "box_gaussian") == "box_gaussian"
    lab.page.wait_for_function("(sel) => document.querySelector(sel).offsetParent !== null",
                               arg=f"{BT} input[data-trait=blur_fwhm]")
    blur.fill("0.5")
    assert _wait_kernel(lab, "w.blur_fwhm", 0.5) == 0.5
    assert lab.kernel_value("w.geometry().profile.blur_fwhm") == 0.5
    lab.screenshot("beam_trajectory_box_gaussian", BT)
    # the axis-offset and omega-stop sliders move Python state (a full scan with a quarter-step offset)
    lab.page.locator(f"{BT} input[data-trait=omega_stop_deg]").fill("360")
    assert _wait_kernel(lab, "w.omega_stop_deg", 360.0) == 360.0
    lab.page.locator(f"{BT} input[data-trait=axis_offset]").fill("0.25")
    assert _wait_kernel(lab, "w.axis_offset", 0.25) == 0.25
    assert lab.kernel_value("w.n_omega") == 180
    assert lab.kernel_value("w.geometry().x_positions[10]") == 0.25
    # bad values from Python are clamped with a visible notice
    lab.kernel("w.axis_offset = 99")
    lab.page.wait_for_selector(f"{BT} .srw-status.srw-notice", timeout=10_000)
    assert "axis_offset" in lab.page.locator(f"{BT} .srw-status").inner_text()
    assert lab.kernel_value("w.axis_offset") == 10.0
    lab.kernel("w.axis_offset = 0; w.omega_list = [0.0, 30.0, 100.0, 101.0]")
    assert _wait_kernel(lab, "w.n_omega", 4) == 4
    lab.screenshot("beam_trajectory_omega_list", BT)
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def test_superposition_map_real_beams_in_browser(lab):
    lab.page.set_viewport_size({"width": 1380, "height": 1100})
    name = lab.write_notebook("ui_map_real.ipynb", [
        "from superres_widgets.widgets import SuperpositionMap\n"
        "m = SuperpositionMap(omega_step_deg=10, subdivision=2)\nm.wait()\nm",
    ])
    lab.open(name).run_all()
    assert lab.cell_errors() == []
    canvas = f"{SM} canvas[data-role=map]"
    lab.page.wait_for_selector(canvas, timeout=60_000)
    lab.page.wait_for_timeout(300)
    box_stats = lab.kernel_value("[m.mean_relative_size, m.mean_spot_size, m.measure]")
    assert box_stats[2] == "polygon"
    before = lab.canvas_stats(canvas)["hash"]
    lab.page.locator(f"{SM} select[data-trait=profile]").select_option("box_gaussian")
    assert _wait_kernel(lab, "m.profile", "box_gaussian") == "box_gaussian"
    lab.kernel("m.wait()")
    lab.wait_canvas_change(canvas, before, timeout=30)
    stats = lab.kernel_value("[m.mean_relative_size, m.mean_spot_size, m.measure]")
    assert stats[2] == "product" and stats[1] > box_stats[1] and stats[0] > box_stats[0], (stats, box_stats)
    lab.page.wait_for_function(
        "(sel) => [...document.querySelectorAll(sel)].some(e => e.textContent.startsWith('sensitivity'))",
        arg=f"{SM} .srw-readout-value",
    )
    lab.screenshot("superposition_map_box_gaussian", ".jp-OutputArea-output:has(.srw-superposition-map)")
    lab.kernel("m.omega_stop_deg = -400")
    lab.page.wait_for_selector(f"{SM} .srw-status.srw-notice", timeout=10_000)
    assert "omega_stop_deg" in lab.page.locator(f"{SM} .srw-status").inner_text()
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def test_reconstruction_explorer_beam_controls_in_browser(lab):
    lab.page.set_viewport_size({"width": 1300, "height": 1100})
    name = lab.write_notebook("ui_recon_beams.ipynb", [
        "from superres_widgets.widgets import ReconstructionExplorer\n"
        "r = ReconstructionExplorer(diameter_um=32, n_grains=3, omega_step_deg=3.0)\nr.wait()\nr",
    ])
    lab.open(name).run_all()
    assert lab.cell_errors() == []
    root = ".srw-reconstruction"
    lab.page.wait_for_selector(f"{root} canvas", timeout=60_000)
    menu = lab.page.locator(f"{root} select[data-trait=profile]")
    blur = lab.page.locator(f"{root} input[data-trait=blur_fwhm]")
    assert not blur.is_visible()
    menu.select_option("box_gaussian")
    assert _wait_kernel(lab, "r.profile", "box_gaussian") == "box_gaussian"
    lab.page.wait_for_function("(sel) => document.querySelector(sel).offsetParent !== null",
                               arg=f"{root} input[data-trait=blur_fwhm]")
    lab.page.locator(f"{root} input[data-trait=omega_range_deg]").fill("360")
    assert _wait_kernel(lab, "r.omega_range_deg", 360.0) == 360.0
    lab.page.locator(f"{root} input[data-trait=axis_offset_um]").fill("1")
    assert _wait_kernel(lab, "r.axis_offset_um", 1.0) == 1.0
    lab.kernel("r.wait()")
    got = lab.kernel_value("[r.result.data.n_bins, r.result.geometry.axis_offset, "
                           "r.result.parameters['profile'], r.error]")
    assert got == [120, 1.0, "box_gaussian", ""], got
    lab.screenshot("reconstruction_box_gaussian_full_scan", ".jp-OutputArea-output:has(.srw-reconstruction)")
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def test_course_notebook_01_draws_every_widget(lab):
    lab.open("notebooks/01_beam_superposition.ipynb").run_all(timeout_s=600)
    assert lab.cell_errors() == []
    sel = ".srw-root canvas.srw-canvas"
    lab.page.wait_for_function(f"() => document.querySelectorAll('{sel}').length >= 10", timeout=60_000)
    lab.page.wait_for_timeout(1000)
    n = lab.page.evaluate(f"() => document.querySelectorAll('{sel}').length")
    # 5 trajectory explorers x 2 panels + 1 map
    assert n == 11, n
    for i in range(n):
        s = lab.canvas_stats(sel, i)
        assert s["colours"] > 5 and s["nonWhite"] > 0.02, (i, s)
    # the linked explorer follows a click in the map
    canvas = ".srw-superposition-map canvas[data-role=map]"
    box = lab.page.locator(canvas).bounding_box()
    lab.page.locator(canvas).click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.6})
    deadline = time.time() + 10
    while time.time() < deadline:
        xs = lab.kernel_value("linked.xs")
        if xs != 5.0:
            break
        lab.page.wait_for_timeout(100)
    assert xs < 0, (xs, lab.kernel_value("[smap.selected_xs, smap.selected_ys]"), box)
    assert lab.kernel_value("linked.xs == smap.selected_xs and linked.ys == smap.selected_ys")
    # Bokeh figures of the map and of the 'beyond the paper' section are drawn
    assert lab.page.locator(".bk-Figure, .bk-Row").count() >= 2
    lab.page.locator(canvas).scroll_into_view_if_needed()
    lab.screenshot("notebook01_map", ".jp-OutputArea-output:has(.srw-superposition-map)")
    lab.screenshot("notebook01_full")
