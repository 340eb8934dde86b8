"""Real-browser test of the ReconstructionExplorer (seed 000 Figs. 5-6) in JupyterLab.

Opens a notebook that creates the widget on a small phantom, runs it, and
checks what a person would: the three maps are drawn (not blank), a click on
a map selects a point in Python and the strips overlay and the N' bars
appear, a slider recomputes in the background and the maps redraw, a
Python-side change redraws. Screenshots are kept in ``test-artifacts/``.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.ui

RE = ".srw-reconstruction"
OUT = ".jp-OutputArea-output:has(.srw-reconstruction)"






def _poll(lab, expr, ok, timeout=15.0):
    deadline = time.time() + timeout
    value = lab.kernel_value(expr)
    while time.time() < deadline and not ok(value):
        lab.page.wait_for_timeout(100)
        value = lab.kernel_value(expr)
    return value


def test_reconstruction_explorer_in_browser(lab):
    name = lab.write_notebook("ui_recon.ipynb", [
        "from superres_widgets.widgets import ReconstructionExplorer\n"
        "w = ReconstructionExplorer(diameter_um=48, n_grains=5, omega_step_deg=2, seed=1)\nw.wait()\nw",
    ])
    lab.page.set_viewport_size({"width": 1500, "height": 1900})  # widget and histogram in one screenshot
    lab.open(name).run_all()
    assert lab.cell_errors() == []
    maps = {role: f"{RE} canvas[data-role={role}]" for role in ("phantom", "conventional", "subpixel")}
    lab.page.wait_for_selector(maps["subpixel"], timeout=60_000)
    # the Bokeh histogram renders in the same layout (BokehJS inline)
    lab.page.wait_for_selector(".bk-Canvas, .bk-Figure, .bk-canvas", timeout=60_000, state="attached")
    lab.page.wait_for_timeout(400)
    stats = {role: lab.canvas_stats(sel) for role, sel in maps.items()}
    for role, s in stats.items():
        # an IPF-coloured disc of several grains on a white background
        assert s["colours"] > 5 and 0.3 < s["nonWhite"] < 0.95, (role, s)
    key = lab.canvas_stats(f"{RE} canvas[data-role=ipf-key]")
    assert key["colours"] > 50, key
    lab.screenshot("reconstruction_initial", OUT)

    # a click on the sub-pixel map selects a point (snapped to its 1-um targets);
    # strips darken the maps, the zoom and the N' bars appear
    before_sub = lab.canvas_stats(maps["subpixel"])["hash"]
    before_bars = lab.canvas_stats(f"{RE} canvas[data-role=nprime]")["hash"]
    box = lab.page.locator(maps["subpixel"]).bounding_box()
    lab.page.mouse.click(box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.40)
    sel = _poll(lab, "[w.selected_xs, w.selected_ys]", lambda v: v[0] is not None)
    assert sel[0] > 0 and sel[1] > 0, sel
    assert all(abs(v - round(v)) < 1e-9 for v in sel), sel  # 4 um / 4 sub-pixels
    n_prime = _poll(lab, "None if w.sel_n_prime is None else w.sel_n_prime.tolist()", lambda v: v is not None)
    ref = lab.kernel_value(
        "__import__('superres_widgets.s3dxrd', fromlist=['x']).completeness_at(w.result, *"
        "[w.selected_xs, w.selected_ys]).n_prime.round(6).tolist()"
    )
    assert [round(v, 5) for v in n_prime] == [round(v, 5) for v in ref]
    assert max(n_prime) > 0.9
    lab.wait_canvas_change(maps["subpixel"], before_sub)
    lab.wait_canvas_change(f"{RE} canvas[data-role=nprime]", before_bars)
    text = lab.page.locator(f"{RE} [data-role=selection]").inner_text()
    assert "measurements" in text and "N′" in text, text
    assert lab.kernel_value("len(w.sel_strip_x)") == 90  # one per 2-deg angle
    lab.screenshot("reconstruction_selected", OUT)

    # a slider recomputes in the background: more grains -> the maps redraw
    before = {r: lab.canvas_stats(s)["hash"] for r, s in maps.items()}
    lab.page.locator(f"{RE} input[data-trait=n_grains]").fill("9")
    assert _poll(lab, "w.n_grains", lambda v: v == 9) == 9
    for role, sel_ in maps.items():
        lab.wait_canvas_change(sel_, before[role], timeout=30)
    lab.kernel("w.wait()")
    assert lab.kernel_value("[w.stats['n_grains'], w.error]") == [9, ""]
    lab.page.wait_for_function(
        "(sel) => document.querySelector(sel).textContent.startsWith('done')",
        arg=f"{RE} [data-role=status]",
    )

    # a Python-side change redraws: the phantom's boundaries over the maps (Fig. 6a),
    # then the paper's plain argmax tie-break (a recomputation)
    before = lab.canvas_stats(maps["subpixel"])["hash"]
    lab.kernel("w.boundaries = 'both'")
    lab.wait_canvas_change(maps["subpixel"], before)
    before = lab.canvas_stats(maps["subpixel"])["hash"]
    lab.kernel("w.tie_break = 'first'; w.wait()")
    lab.wait_canvas_change(maps["subpixel"], before, timeout=30)
    assert lab.page.locator(f"{RE} select[data-trait=tie_break]").input_value() == "first"
    lab.screenshot("reconstruction_fig6a_first", OUT)

    # a failing computation shows its message and keeps the maps
    before = lab.canvas_stats(maps["subpixel"])["hash"]
    lab.kernel("import numpy as np; w.labels = np.full((5, 5), -1); w.wait()")
    lab.page.wait_for_selector(f"{RE} .srw-status.srw-error", timeout=20_000)
    assert lab.canvas_stats(maps["subpixel"])["hash"] == before
    assert "empty" in lab.page.locator(f"{RE} .srw-status").inner_text()
    lab.kernel("w.labels = None; w.wait()")
    lab.page.wait_for_selector(f"{RE} .srw-status.srw-error", state="hidden", timeout=20_000)
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console


def test_course_notebook_05_draws_every_map(lab):
    lab.page.set_viewport_size({"width": 1500, "height": 1900})
    lab.open("notebooks/05_phantom_reconstruction.ipynb").run_all(timeout_s=300)
    assert lab.cell_errors() == []
    sel = ".srw-reconstruction canvas[data-role=phantom], .srw-reconstruction canvas[data-role=conventional], " \
          ".srw-reconstruction canvas[data-role=subpixel]"
    # explorer, paper, voids, concave: three maps each
    lab.page.wait_for_function(f"() => document.querySelectorAll('{sel}').length >= 12", timeout=60_000)
    lab.page.wait_for_timeout(800)
    n = lab.page.evaluate(f"() => document.querySelectorAll('{sel}').length")
    assert n == 12, n
    for i in range(n):
        s = lab.canvas_stats(sel, i)
        assert s["colours"] > 5 and s["nonWhite"] > 0.2, (i, s)
    # every selected point shows its N' bars
    bars = ".srw-reconstruction canvas[data-role=nprime]"
    drawn = [lab.canvas_stats(bars, i)["nonWhite"] for i in range(4)]
    assert sum(d > 0.05 for d in drawn) == 3, drawn  # the paper-scale widget has no selection
    # the static Bokeh figures (sinogram, Fig. 6a, tie-break bars, centre, concave) and the histograms
    assert lab.page.locator(".bk-Figure, .bk-Row").count() >= 8
    assert lab.kernel_value("round(paper.result.subpixel.mean_displacement_um, 2)") < 0.5
    # static figures: Fig. 6a overlay, the rotation-centre zoom, convex vs concave
    rows = ".jp-OutputArea-output:has(.bk-Row):not(:has(.srw-reconstruction))"
    for i, name in enumerate(["fig6a", "centre", "concave_maps"]):
        lab.page.locator(rows).nth(i).scroll_into_view_if_needed()
        lab.screenshot(f"notebook05_{name}", f"{rows} >> nth={i}")
    paper = ".jp-OutputArea-output:has(.srw-reconstruction)"
    lab.page.locator(paper).nth(1).scroll_into_view_if_needed()
    lab.screenshot("notebook05_paper", f"{paper} >> nth=1")
    lab.page.locator(paper).nth(3).scroll_into_view_if_needed()
    lab.screenshot("notebook05_concave", f"{paper} >> nth=3")


def test_reconstruction_scorer_data_quality_and_your_peaks(lab):
    """Issue 12 controls at 1340 px: the scorer menu, the spurious-peak slider, and 'map my peaks' from a columnfile."""
    name = lab.write_notebook("ui_recon_peaks.ipynb", [
        "from superres_widgets.widgets import ReconstructionExplorer\n"
        "from superres_widgets.s3dxrd import reconstruct_phantom\n"
        "from superres_widgets.s3dxrd.columnfile import write_columnfile\n"
        "out = write_columnfile(reconstruct_phantom(diameter_um=40, n_grains=3, seed=4, omega_step_deg=2.0,\n"
        "                       detection_probability=0.85).data, 'my_scan.flt')\n"
        "w = ReconstructionExplorer(diameter_um=48, n_grains=5, omega_step_deg=2, seed=1,\n"
        "                           detection_probability=0.8)\nw.wait()\nw",
    ])
    lab.page.set_viewport_size({"width": 1340, "height": 2100})
    lab.open(name).run_all()
    assert lab.cell_errors() == []
    sub = f"{RE} canvas[data-role=subpixel]"
    lab.page.wait_for_selector(sub, timeout=60_000)
    lab.page.wait_for_timeout(300)

    # the scorer menu: likelihood recomputes, the estimated detection probability appears
    before = lab.canvas_stats(sub)["hash"]
    lab.page.locator(f"{RE} select[data-trait=scorer]").select_option("likelihood")
    assert _poll(lab, "w.scorer", lambda v: v == "likelihood") == "likelihood"
    lab.kernel("w.wait()")
    lab.wait_canvas_change(sub, before, timeout=30)
    est = lab.kernel_value("round(w.stats['detection_estimate'], 3)")
    assert 0.7 < est < 0.95, est
    info = lab.page.locator(f"{RE}").inner_text()
    assert "estimated detection / spurious" in info and "likelihood" in info

    # the spurious-peaks slider reaches Python and recomputes
    lab.page.locator(f"{RE} input[data-trait=spurious_per_frame]").fill("2")
    assert _poll(lab, "w.spurious_per_frame", lambda v: v == 2.0) == 2.0
    lab.kernel("w.wait()")
    assert lab.kernel_value("w.error") == ""
    lab.screenshot("reconstruction_likelihood_spurious", OUT)

    # your peaks: type the columnfile and its .par, press 'map my peaks'
    lab.page.locator(f"{RE} input[data-trait=peaks_path]").fill("my_scan.flt")
    lab.page.locator(f"{RE} input[data-trait=par_path]").fill("my_scan.par")
    before = lab.canvas_stats(f"{RE} canvas[data-role=phantom]")["hash"]
    lab.page.locator(f"{RE} button[data-role=load-peaks]").click()
    assert _poll(lab, "w.source", lambda v: v == "peaks") == "peaks"
    lab.kernel("w.wait()")
    assert lab.kernel_value("[w.error, w.stats['source'], w.stats['n_candidates']]") == ["", "peaks", 3]
    lab.wait_canvas_change(f"{RE} canvas[data-role=phantom]", before, timeout=30)
    lab.page.wait_for_function(
        "(sel) => document.querySelector(sel).textContent.includes('Your peaks')", arg=f"{RE} .srw-panel-title",
    )
    assert lab.page.locator(f"{RE} input[data-trait=n_grains]").is_disabled()
    assert not lab.page.locator(f"{RE} input[data-trait=subdivision]").is_disabled()
    conf = lab.canvas_stats(f"{RE} canvas[data-role=phantom]")
    assert conf["nonWhite"] > 0.2, conf  # the confidence map (grey disc)
    lab.screenshot("reconstruction_your_peaks", OUT)

    # a missing file is named; 'back to the phantom' restores the simulation
    lab.page.locator(f"{RE} input[data-trait=peaks_path]").fill("nope.flt")
    lab.page.locator(f"{RE} input[data-trait=peaks_path]").press("Enter")
    assert _poll(lab, "w.peaks_path", lambda v: v == "nope.flt") == "nope.flt"
    assert _poll(lab, "w.error", lambda v: "no such file" in v) == "ValueError: peaks_path: nope.flt: no such file"
    lab.page.wait_for_selector(f"{RE} .srw-status.srw-error", timeout=20_000)
    assert "peaks_path: nope.flt: no such file" in lab.page.locator(f"{RE} .srw-status").inner_text()
    lab.page.locator(f"{RE} button[data-role=use-phantom]").click()
    assert _poll(lab, "w.source", lambda v: v == "phantom") == "phantom"
    lab.kernel("w.wait()")
    assert lab.kernel_value("[w.error, w.stats.get('source'), w.stats['n_grains']]") == ["", None, 5]
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console
