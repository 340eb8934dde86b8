"""Real-browser tests of PSFSweep and ElementStack in JupyterLab.

What a person would check: the canvases are drawn (not blank); the sweep's
progress bar moves while the sweep runs and the Bokeh plots fill; choosing
a sigma (a thumbnail in the widget, or a point in a Bokeh plot) shows that
sigma's restored image; a Python-side change redraws. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.ui

SW = ".srw-psf-sweep"
ES = ".srw-element-stack"




def _wait_kernel(lab, expr, timeout=20.0):
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
        value = lab.kernel_value(expr)
        if value:
            return value
        lab.page.wait_for_timeout(100)
    raise AssertionError(f"{expr} stayed {value!r} for {timeout} s")




def _progress(lab):
    return lab.page.evaluate(
        """(sel) => { const p = document.querySelector(sel);
                      return p ? [Number(p.getAttribute('aria-valuenow')), p.dataset.busy] : null; }""",
        f"{SW} [data-role=progress]",
    )


def _bokeh_point(lab, fig_id, x, y):
    """Page coordinates of data point (x, y) in the Bokeh figure ``fig_id``."""
    return lab.page.evaluate(
        """([figId, x, y]) => {
            const views = [...window.Bokeh.index.all_views()];
            const pv = views.find(v => v.model && v.model.id === figId && v.frame);
            if (!pv) return null;
            const sx = pv.frame.x_scale.compute(x);
            const sy = pv.frame.y_scale.compute(y);
            const r = pv.canvas_view.el.getBoundingClientRect();
            return [r.left + sx, r.top + sy];
        }""",
        [fig_id, x, y],
    )


def test_psf_sweep_in_browser(lab):
    name = lab.write_notebook("ui_psf_sweep.ipynb", [
        "from superres_widgets.widgets import PSFSweep\n"
        "from superres_widgets.xrf import usaf1951, simulate_scan\n"
        "chart = usaf1951(5.0, groups=[4])\n"
        "counts = simulate_scan(chart.image, 15.0, 5.0, truth_pixel_um=5.0, rng=0).counts\n"
        "sw = PSFSweep(image=counts, chart=chart, levels=(137.5, 214.5), pixel_size_um=5.0,\n"
        "              sigmas_um=[10, 15, 20], num_iter=20, acceleration=False)\n"
        "sw",
    ])
    lab.open(name).run_all()
    assert lab.cell_errors() == []
    raw, rest = f"{SW} canvas[data-role=raw]", f"{SW} canvas[data-role=restored]"
    lab.page.wait_for_selector(rest, timeout=60_000)
    lab.page.wait_for_selector(".bk-Figure, .bk-Canvas, .bk-canvas", timeout=60_000, state="attached")
    lab.kernel("sw.wait()")
    lab.page.wait_for_function(
        "(sel) => document.querySelectorAll(sel).length === 3", arg=f"{SW} .srw-sigma-chip:not(.srw-pending)")
    lab.page.wait_for_timeout(300)
    for sel in (raw, rest):
        s = lab.canvas_stats(sel)
        assert s["colours"] > 50 and s["nonWhite"] > 0.5, (sel, s)

    # a longer sweep started from Python: the progress bar moves while it runs
    lab.kernel("sw.sigmas_um = [8, 10, 12, 14, 16, 18, 20, 22]; sw.num_iter = 250")
    seen, current_chip, shot = [], False, False
    t0 = time.time()
    while time.time() - t0 < 60:
        p = _progress(lab)
        seen.append((round(time.time() - t0, 2), p))
        if p and p[1] == "1" and 0 < p[0] < 100:
            current_chip = current_chip or lab.page.locator(f"{SW} .srw-sigma-chip.srw-current").count() == 1
            if p[0] >= 25 and not shot:
                shot = True
                lab.screenshot("psf_sweep_running", f".jp-OutputArea-output:has({SW})")
        if p and p[1] == "0" and p[0] == 100 and len(seen) > 3:
            break
        lab.page.wait_for_timeout(50)
    lab.record("psf_sweep_progress", {"seen": seen})
    seen = [p for _, p in seen]
    running = [p for p in seen if p and p[1] == "1" and 0 < p[0] < 100]
    assert len({p[0] for p in running}) >= 2, seen  # visibly advancing, not just 0 -> 100
    assert current_chip, "the sigma being restored is not marked"
    assert _progress(lab) == [100, "0"]
    assert lab.kernel_value("sw.results.complete and sw.progress == 1.0")

    # the Bokeh plots fill: the page's copy of the data source has every sigma
    src_id = lab.kernel_value("sw._src.id")
    n_points = lab.page.evaluate(
        """(id) => { for (const d of window.Bokeh.documents) { const m = d.get_model_by_id(id);
                     if (m) return m.data.sigma.length; } return -1; }""", src_id)
    assert n_points == 8
    lab.page.wait_for_function(
        "(sel) => document.querySelectorAll(sel).length === 8", arg=f"{SW} .srw-sigma-chip:not(.srw-pending)")
    lab.page.wait_for_timeout(300)
    lab.screenshot("psf_sweep_done", f".jp-OutputArea-output:has({SW})")

    # clicking a thumbnail shows that sigma's stored image (no recompute)
    lab.kernel("import superres_widgets.widgets.psf_sweep as _m; _calls = []; _real = _m.restore; "
               "_m.restore = lambda *a, **k: _calls.append(a[1]) or _real(*a, **k)")
    before = lab.canvas_stats(rest)["hash"]
    t0 = time.perf_counter()
    lab.page.locator(f"{SW} .srw-sigma-chip[data-sigma='12']").click()
    lab.wait_canvas_change(rest, before)
    ms = 1000 * (time.perf_counter() - t0)
    assert lab.kernel_value("[sw.selected_sigma_um, sw.shown_sigma_um]") == [12.0, 12.0]
    assert lab.page.locator(f"{SW} [data-role=restored-title]").inner_text().endswith("σ = 12 µm")
    assert lab.kernel_value("bool((sw._restored == sw.restored_image(12)).all())")
    print(f"\nPSFSweep thumbnail click -> restored image redrawn: {ms:.0f} ms")

    # clicking a point in the Bokeh SSIM plot selects that sigma (TapTool -> selected.indices -> Python)
    fig_id = lab.kernel_value("sw._figures['ssim'].id")
    y18 = lab.kernel_value("float(sw.results.ssim[5])")
    pos = _bokeh_point(lab, fig_id, 18.0, y18)
    assert pos is not None, "no Bokeh view for the SSIM figure"
    lab.page.mouse.click(pos[0], pos[1])
    _wait_kernel(lab, "sw.shown_sigma_um == 18.0")
    lab.page.wait_for_function(
        "(sel) => document.querySelector(sel).textContent.endsWith('σ = 18 µm')",
        arg=f"{SW} [data-role=restored-title]")
    assert lab.page.locator(f"{SW} .srw-sigma-chip.srw-selected").get_attribute("data-sigma") == "18"
    assert lab.kernel_value("_calls") == []  # selecting never recomputed
    lab.screenshot("psf_sweep_selected_18", f".jp-OutputArea-output:has({SW})")
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def test_element_stack_in_browser(lab):
    name = lab.write_notebook("ui_element_stack.ipynb", [
        "from superres_widgets.widgets import ElementStack\n"
        "stack = ElementStack.demo(shape=(128, 128))\n"
        "stack",
    ])
    lab.open(name).run_all()
    assert lab.cell_errors() == []
    before, after = f"{ES} canvas[data-role=before]", f"{ES} canvas[data-role=after]"
    lab.page.wait_for_function("(sel) => document.querySelectorAll(sel).length === 3", arg=after,
                               timeout=60_000)
    lab.kernel("stack.wait()")
    lab.page.wait_for_function(
        "(sel) => document.querySelectorAll(sel).length === 3 && "
        "[...document.querySelectorAll(sel)].every(e => e.textContent.includes('restored, σ'))",
        arg=f"{ES} [data-role=after-title]", timeout=20_000)
    lab.page.wait_for_timeout(300)
    for sel in (before, after):
        for i in range(3):
            s = lab.canvas_stats(sel, i)
            # (the Si map holds integer counts 0-25: few distinct colours)
            assert s["colours"] > 10 and s["nonWhite"] > 0.5, (sel, i, s)
    lab.screenshot("element_stack_initial", f".jp-OutputArea-output:has({ES})")

    # a Python change of one sigma redraws that element only
    h_fe = lab.canvas_stats(after, 0)["hash"]
    h_si = lab.canvas_stats(after, 2)["hash"]
    lab.kernel("stack.sigmas_um = {**stack.sigmas_um, 'Si': 50}; stack.wait()")
    lab.wait_canvas_change(after, h_si, index=2)
    lab.page.wait_for_function(
        "(sel) => document.querySelector(sel).value === '50'", arg=f"{ES} input[data-element=Si]")
    lab.page.wait_for_timeout(300)
    assert lab.canvas_stats(after, 0)["hash"] == h_fe
    assert lab.kernel_value("stack.channel_sigmas_um") == [40.0, 50.0, 50.0]

    # a per-element slider in the page changes that sigma in Python
    h_ca = lab.canvas_stats(after, 1)["hash"]
    lab.page.evaluate(
        """(sel) => { const s = document.querySelector(sel); s.value = '30';
                      s.dispatchEvent(new Event('input', {bubbles: true})); }""",
        f"{ES} input[data-element=Ca]")
    _wait_kernel(lab, "stack.sigmas_um['Ca'] == 30.0")
    lab.kernel("stack.wait()")
    lab.wait_canvas_change(after, h_ca, index=1)
    assert lab.kernel_value("stack.channel_sigmas_um") == [40.0, 30.0, 50.0]

    # the global method selector restores every channel
    hashes = [lab.canvas_stats(after, i)["hash"] for i in range(3)]
    lab.page.locator(f"{ES} select[data-trait=method]").select_option("wiener")
    _wait_kernel(lab, "stack.method == 'wiener'")
    lab.kernel("stack.wait()")
    for i in range(3):
        lab.wait_canvas_change(after, hashes[i], index=i)
    assert lab.page.locator(f"{ES} input[data-trait=balance]").is_visible()
    lab.page.wait_for_timeout(300)
    lab.screenshot("element_stack_wiener", f".jp-OutputArea-output:has({ES})")
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def test_course_notebook_04_draws_every_widget(lab):
    lab.open("notebooks/04_multi_element.ipynb").run_all(timeout_s=180)
    assert lab.cell_errors() == []
    after = f"{ES} canvas[data-role=after]"
    # the demo stack and the low-count stack: 2 widgets x 3 elements
    lab.page.wait_for_function("(sel) => document.querySelectorAll(sel).length === 6", arg=after, timeout=60_000)
    lab.page.wait_for_function(
        "(sel) => [...document.querySelectorAll(sel)].every(e => e.textContent.includes('restored, σ'))",
        arg=f"{ES} [data-role=after-title]", timeout=30_000)
    lab.page.wait_for_timeout(500)
    for sel in (f"{ES} canvas[data-role=before]", after):
        for i in range(6):
            s = lab.canvas_stats(sel, i)
            assert s["colours"] >= 3 and s["nonWhite"] > 0.5, (sel, i, s)  # sparse Si: counts 0-3
    assert lab.page.locator(".bk-Figure, .bk-Row").count() >= 1  # the truth maps (Bokeh)
    lab.page.locator(ES).first.scroll_into_view_if_needed()
    lab.screenshot("notebook04_stack", f".jp-OutputArea-output:has({ES})")
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def test_element_stack_rgb_composite_in_browser(lab):
    """Issue 13: any three elements as one RGB composite, measured beside restored."""
    nb = lab.write_notebook("ui_stack_rgb.ipynb", (
        "from superres_widgets.widgets import ElementStack\n"
        "stack = ElementStack.demo(shape=(96, 96), num_iter=10)\n"
        "stack.wait()\n"
        "stack"))
    lab.open(nb).run_all()
    assert lab.cell_errors() == []
    sel = ".srw-element-stack canvas[data-role=rgb-after]"
    lab.page.wait_for_selector(sel, timeout=60_000)
    lab.page.wait_for_function(
        "(s) => { const c = document.querySelector(s); const d = c.getContext('2d').getImageData(0, 0, c.width,"
        " c.height).data; const seen = new Set(); for (let i = 0; i < d.length; i += 16) seen.add(d[i] << 16 |"
        " d[i + 1] << 8 | d[i + 2]); return seen.size > 50; }", arg=sel, timeout=60_000)
    before = lab.canvas_stats(sel)["hash"]
    menus = lab.page.evaluate("() => ['red', 'green', 'blue'].map((c) => document.querySelector("
                              "`.srw-element-stack select[data-role=rgb-${c}]`).value)")
    assert menus == ["Fe", "Ca", "Si"], menus
    lab.page.locator(".srw-element-stack select[data-role=rgb-red]").select_option("Si")
    deadline = time.time() + 30
    while time.time() < deadline and lab.kernel_value("stack.rgb_channels") != ["Si", "Ca", "Si"]:
        lab.page.wait_for_timeout(100)
    assert lab.kernel_value("stack.rgb_channels") == ["Si", "Ca", "Si"]
    lab.wait_canvas_change(sel, before, timeout=20)
    lab.screenshot("element_stack_rgb", ".jp-OutputArea-output:has(.srw-element-stack)")
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def test_psf_sweep_and_the_explorer_plots_have_initial_ranges(lab):
    """Issue 15 item 7: no Bokeh "could not set initial ranges" (empty plots shown while the sweep runs)."""
    nb = lab.write_notebook("ui_ranges.ipynb", [
        "from superres_widgets.widgets import PSFSweep, DeconvolutionExplorer\n"
        "from superres_widgets.xrf import usaf1951, simulate_scan\n"
        "chart = usaf1951(5.0, groups=[3])\n"
        "scan = simulate_scan(chart.image, 32.5, 5.0, truth_pixel_um=5.0, rng=0)\n"
        "sweep = PSFSweep(image=scan.counts, chart=chart, sigmas_um=[25, 30, 35], num_iter=10)\n"
        "sweep",
        "w = DeconvolutionExplorer(image=scan.counts, pixel_size_um=5.0, method='sgp', psf_sigma_um=32.5,\n"
        "                          num_iter=200, stop='discrepancy')\n"
        "w"])
    lab.open(nb).run_all()
    assert lab.cell_errors() == []
    lab.kernel("sweep.wait(); w.wait()")
    lab.page.wait_for_timeout(1500)
    warnings = [m for m in lab.console if "could not set initial ranges" in m]
    assert warnings == [], warnings
    lab.page.locator(".bk-Canvas, .bk-canvas-events").first.wait_for(timeout=30_000)
    lab.screenshot("sweep_and_convergence_plots")
    explorer = lab.page.locator(".jp-OutputArea-output:has(.srw-deconvolution)").first
    explorer.scroll_into_view_if_needed()
    lab.page.wait_for_timeout(800)
    assert "stopped at iteration" in lab.page.locator(".srw-deconvolution [data-role=progress-text]").text_content()
    lab.screenshot("deconvolution_convergence_plot", ".jp-Cell:has(.srw-deconvolution)")
