"""``python -m benchmarks --quick``: every row in results.json, ratios consistent, an offline HTML page."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_quick_report_has_every_row_and_an_offline_page(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert res["quick"] is True
    # micro-XRF: 2 methods x 2 dtypes x every size (primes among them), same dtype on both sides
    peer = [r for r in res["xrf"] if r["section"] == "peer"]
    keys = {(r["method"], r["dtype"], tuple(r["shape"])) for r in peer}
    sys.path.insert(0, str(ROOT))
    from benchmarks.suite import XRF_SIZES

    assert {(256, 256), (538, 601), (1024, 1024)} <= set(XRF_SIZES)
    want = {(m, d, s) for m in ("richardson_lucy", "wiener") for d in ("float32", "float64") for s in XRF_SIZES}
    assert keys == want and len(peer) == len(want)
    for r in peer:
        assert r["skimage_s"] > 0 and r["ours_s"] > 0
        assert r["ratio"] == r["skimage_s"] / r["ours_s"]
        assert r["skimage_out_dtype"] == r["dtype"]  # scikit-image really ran in this dtype
        assert r["ours_work_dtype"] == r["dtype"]
        if r["dtype"] == "float32":  # the float32 path really worked in float32 (not 0) and agrees (< 1e-4)
            assert 0 < r["ours_f32_vs_f64"] < 1e-4, r
    # per-iteration cost at each slow size vs its nearest fast size: the goal flag follows the numbers
    it = [r for r in res["xrf"] if r["section"] == "iteration"]
    assert {tuple(r["shape"]) for r in it} >= {(538, 601)}
    for r in it:
        assert r["ratio_to_fast"] == r["iter_s"] / r["fast_iter_s"]
        assert r["goal_1.3x"] == (r["ratio_to_fast"] <= 1.3)
        assert tuple(r["fast_shape"]) != tuple(r["shape"])
    # s3DXRD superposition: 10 and 0.5 deg, goals judged from the numbers in the row
    sup = {r["omega_step_deg"]: r for r in res["s3dxrd_superposition"]}
    assert set(sup) == {10.0, 0.5}
    assert sup[10.0]["n_angles"] == 18 and sup[0.5]["n_angles"] == 360
    g = sup[0.5]["goals"]
    assert g["warm_s<=0.12"] == (sup[0.5]["warm_s"] <= 0.12)
    assert g["first<=2xwarm"] == (sup[0.5]["first_s"] <= 2 * sup[0.5]["warm_s"])
    assert g["peak_mib<=100"] == (sup[0.5]["peak_mib"] <= 100)
    assert 0 < sup[0.5]["peak_mib"] < 1000 and 0 < sup[0.5]["warm_cpu_s"]
    # scaling exponents are the log-log least-squares slopes of the printed times
    for key in ("diameter", "grains"):
        s = res["s3dxrd_scaling"][key]
        assert len(s["x"]) == len(s["t_s"]) >= 3
        slope = np.polyfit(np.log(s["x"]), np.log(s["t_s"]), 1)[0]
        assert abs(s["exponent"] - slope) < 1e-9
        assert np.isfinite(s["exponent"])  # the value is a load-dependent measurement
    # time to quality: each method's ratio is skimage's 30-iteration time over ours to the same data fit
    ttq = res["time_to_quality"]
    assert ttq["cases"] and ttq["skimage_iterations"] == 30
    for c in ttq["cases"]:
        assert set(c["methods"]) >= {"rl", "sgp", "sgp_wiener"}
        # the Wiener-Hunt start alone: its data fit and MSE are reported beside the iterations
        assert c["wiener_start"]["time_s"] > 0 and np.isfinite(c["wiener_start"]["residual"])
        for m in c["methods"].values():
            if m["time_to_target_s"] is not None:
                assert m["ratio"] == pytest.approx(c["skimage_30_s"] / m["time_to_target_s"])
                assert m["goal_met"] == (m["ratio"] >= ttq["goal_ratio"])
            assert min(m["curve"]["mse"]) == pytest.approx(m["best_mse"], rel=1e-5)  # curves keep 6 digits
    # peers: rows for the installed ones, a reason for the others
    for name, st in res["peers"]["peers"].items():
        assert st["ok"] or st["reason"], name
        if st["ok"]:
            assert any(r["peer"] == name for r in res["peers"]["rows"])
    # the page works offline: no external script or stylesheet, Bokeh inlined
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert "cdn.bokeh.org" not in html and "Bokeh" in html
    assert "exponent" in html and "richardson_lucy float32" in html
    assert "Time to quality" in html and "Peers beyond scikit-image" in html and "Widget latency" in html
    assert "ratio" in proc.stdout
