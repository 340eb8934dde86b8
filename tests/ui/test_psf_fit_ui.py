"""Real-browser test of PSFFitExplorer in JupyterLab (seed 001, Fig. 3-4).

What a person would check: both modes draw (map, ellipses, residual, line),
a mouse drag on the map in knife mode sets ``line`` in Python and the sigma
readout follows, a Python change (image, mode) redraws, a bad line shows an
error in the page. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.ui

PF = ".srw-psf-fit"
MAP = f"{PF} canvas[data-role=map]"
RES = f"{PF} canvas[data-role=residual]"
OUT = ".jp-OutputArea-output:has(.srw-psf-fit)"




def _wait(predicate, timeout=15.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _readout(lab, key):
    return lab.page.locator(f"{PF} .srw-readout-value[data-key={key}]").inner_text()


def test_psf_fit_explorer_in_browser(lab):
    name = lab.write_notebook("ui_psf_fit.ipynb", [
        "from superres_widgets.widgets import PSFFitExplorer\n"
        "w = PSFFitExplorer.demo_knife_edge()\nw",
    ])
    lab.open(name).run_all()
    assert lab.cell_errors() == []
    lab.page.wait_for_selector(MAP, timeout=60_000)
    lab.page.wait_for_selector(".bk-Figure, .bk-Row", timeout=60_000, state="attached")
    lab.page.wait_for_function(
        "(sel) => { const e = document.querySelector(sel); return e && e.textContent.includes('±'); }",
        arg=f"{PF} .srw-readout-value[data-key=psf_sigma_um]", timeout=30_000)

    # knife mode: the map and the line are drawn; the residual panel is hidden
    s_map = lab.canvas_stats(MAP)
    assert s_map["colours"] > 50 and s_map["nonWhite"] > 0.9, s_map
    assert not lab.page.locator(RES).is_visible()
    sigma0 = lab.kernel_value("w.psf_sigma_um")
    assert 33 < sigma0 < 42  # the paper's knife edge, 37.5 um
    assert _readout(lab, "psf_sigma_um").startswith(f"{sigma0:.4g}"[:4])
    lab.page.locator(OUT).first.scroll_into_view_if_needed()
    lab.screenshot("psf_fit_knife_initial", OUT)

    # drag a new line across the edge: Python receives it on mouse-up, the readout follows
    before = s_map["hash"]
    readout_before = _readout(lab, "psf_sigma_um")
    box = lab.page.locator(MAP).bounding_box()
    x0, y0 = box["x"] + 0.20 * box["width"], box["y"] + 0.25 * box["height"]
    x1, y1 = box["x"] + 0.80 * box["width"], box["y"] + 0.32 * box["height"]
    lab.page.mouse.move(x0, y0)
    lab.page.mouse.down()
    for i in range(1, 11):
        lab.page.mouse.move(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10)
    # while dragging the line is drawn in the page only: Python still has the old one
    assert lab.kernel_value("w.line") == [[15.0, 60.0], [105.0, 60.0]]
    lab.page.mouse.up()
    line = _wait(lambda: (v := lab.kernel_value("w.line")) != [[15.0, 60.0], [105.0, 60.0]] and v,
                 what="the dragged line to reach Python")
    n = 121  # map size in pixels; canvas spans [-0.5, n - 0.5]
    assert line[0][0] == pytest.approx(0.20 * n - 0.5, abs=1.5)
    assert line[0][1] == pytest.approx(0.25 * n - 0.5, abs=1.5)
    assert line[1][0] == pytest.approx(0.80 * n - 0.5, abs=1.5)
    assert line[1][1] == pytest.approx(0.32 * n - 0.5, abs=1.5)
    assert lab.kernel_value("w.error") == ""
    sigma1 = lab.kernel_value("w.psf_sigma_um")
    assert sigma1 != sigma0 and 30 < sigma1 < 45
    _wait(lambda: _readout(lab, "psf_sigma_um") != readout_before, what="the sigma readout to change")
    assert _readout(lab, "psf_sigma_um").startswith(f"{sigma1:.4g}"[:4])
    assert lab.canvas_stats(MAP)["hash"] != before
    lab.screenshot("psf_fit_knife_dragged", OUT)

    # a bad line from Python: a visible error, the last good sigma stays
    lab.kernel("w.line = [[40, 40], [40, 40]]")
    lab.page.wait_for_selector(f"{PF} .srw-status.srw-error", timeout=10_000)
    assert "zero length" in lab.page.locator(f"{PF} .srw-status").inner_text()
    assert lab.kernel_value("w.psf_sigma_um") == sigma1

    # Python changes the image and the mode: the view redraws as a dot scan (Fig. 3)
    before = lab.canvas_stats(MAP)["hash"]
    lab.kernel("d = PSFFitExplorer.demo_dot(sigma_um=30, sigma_v_um=40, rho=0.3)\n"
               "w.image = d.image; w.mode = 'dot'")
    lab.page.wait_for_selector(RES, state="visible", timeout=10_000)
    _wait(lambda: lab.canvas_stats(MAP)["hash"] != before, what="the map to redraw")
    lab.page.wait_for_function(
        "(sel) => { const e = document.querySelector(sel); return e && e.textContent.includes('±'); }",
        arg=f"{PF} .srw-readout-value[data-key=sigma_u_um]", timeout=10_000)
    lab.page.wait_for_timeout(300)
    assert lab.kernel_value("w.error") == ""
    s_map = lab.canvas_stats(MAP)
    s_res = lab.canvas_stats(RES)
    assert s_map["colours"] > 50 and s_map["nonWhite"] > 0.9, s_map
    assert s_res["colours"] > 50 and s_res["nonWhite"] > 0.5, s_res
    su, sv = lab.kernel_value("[w.sigma_u_um, w.sigma_v_um]")
    assert su == pytest.approx(30, rel=0.1) and sv == pytest.approx(40, rel=0.1)
    assert _readout(lab, "sigma_u_um").startswith(f"{su:.4g}"[:4])
    # the ellipses are drawn over the map: white pixels appear where the map has none
    white = lab.page.evaluate(
        """(sel) => { const c = document.querySelector(sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 240 && d[i+1] > 240 && d[i+2] > 240) n++;
            return n; }""", MAP)
    assert white > 200, white
    lab.page.locator(OUT).first.scroll_into_view_if_needed()
    lab.screenshot("psf_fit_dot", OUT)

    # the colormap choice is a user control that reaches Python and redraws
    before = lab.canvas_stats(MAP)["hash"]
    lab.page.locator(f"{PF} select[data-trait=colormap]").select_option("gray")
    _wait(lambda: lab.kernel_value("w.colormap") == "gray", what="the colormap to reach Python")
    _wait(lambda: lab.canvas_stats(MAP)["hash"] != before, what="the gray redraw")
    lab.screenshot("psf_fit_dot_gray", OUT)
    assert not [m for m in lab.console if m.startswith("pageerror")], lab.console
