"""Sections of the offline benchmark report beyond the core suite (``python -m benchmarks``).

* time to quality: each of our Poisson methods against scikit-image's 30-iteration
  Richardson-Lucy data fit (``bench_time_to_quality.py``), with the MSE-to-truth curves;
* peers beyond scikit-image (``bench_peers.py``: sdeconv, RedLionfish when installed);
* widget latencies in the real browser (``bench_widgets_browser.py`` writes
  ``benchmarks/widget_latency.json``; it needs JupyterLab and Chromium, so the report
  shows the file of the last browser run with its date instead of running it).

Every number shown is one the benchmark printed; ratios are measured in the same run.
"""

from __future__ import annotations

import html
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
COLORS = {"rl": "#1f77b4", "rl_biggs_andrews": "#2ca02c", "sgp": "#9467bd", "sgp_wiener": "#ff7f0e",
          "rl_wiener": "#8c564b"}


def widget_latency(path: pathlib.Path = HERE / "widget_latency.json") -> dict | None:
    """The last browser benchmark's results (``None`` if it was never run here)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _table(head: list[str], rows: list[list]) -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    tr = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table border=1><tr>{th}</tr>{tr}</table>"


def time_to_quality_section(ttq: dict) -> list:
    """A table of time-to-quality ratios (goal >= 8x) and the MSE-to-truth curves of the first case."""
    from bokeh.models import Div
    from bokeh.plotting import figure

    rows = []
    for c in ttq["cases"]:
        for name, m in c["methods"].items():
            rows.append([f"{c['shape'][0]}x{c['shape'][1]}", c["dtype"], name, m["iterations_to_target"],
                         f"{m['ratio']:.2f}" if m.get("ratio") else "–", "yes" if m.get("goal_met") else "no",
                         m["best_mse_iteration"], f"{m['best_mse']:.0f}", f"{c['skimage_mse_30']:.0f}"])
    text = (f"<h2>Time to quality (goal &ge; {ttq['goal_ratio']:g}x)</h2><p>ratio = scikit-image's "
            f"{ttq['skimage_iterations']}-iteration RL time / our time to reach its data fit (interior relative "
            f"residual), same dtype, one FFT worker each. Goal met: SGP from the map in {ttq.get('sgp_goal_met', '?')} "
            f"cases, SGP from the Wiener-Hunt start (x0='wiener') in {ttq.get('sgp_wiener_goal_met', '?')}.</p>"
            + _table(["shape", "dtype", "method", "iterations to fit", "ratio", "goal", "best-MSE iteration",
                      "best MSE", "skimage 30-it MSE"], rows))
    out = [Div(text=text)]
    c = ttq["cases"][0]
    f = figure(title=f"MSE to truth vs time, {c['shape'][0]}x{c['shape'][1]} {c['dtype']} (Poisson noise)",
               x_axis_label="time (s)", y_axis_label="MSE to truth", y_axis_type="log", width=620, height=340)
    for name, m in c["methods"].items():
        f.line(m["curve"]["time_s"], m["curve"]["mse"], color=COLORS.get(name, "black"), legend_label=name)
    f.scatter([c["skimage_30_s"]], [c["skimage_mse_30"]], color="#d62728", size=9, legend_label="skimage 30 it")
    f.legend.location = "top_right"
    out.append(f)
    return out


def peers_section(peers: dict):
    """Our time / the peer's per row, with the agreement check and the peers' versions or why not."""
    from bokeh.models import Div

    status = "; ".join(f"{k}: {v.get('version', '')} " + ("ok" if v.get("ok") else f"not run ({v.get('reason', '')})")
                       for k, v in peers.get("peers", {}).items())
    rows = [[r["peer"], r["case"], r["dtype"], f"{r['shape'][0]}x{r['shape'][1]}", f"{r['ours_s'] * 1e3:.1f}",
             f"{r['peer_s'] * 1e3:.1f}", f"{r['ours_over_peer']:.2f}", "yes" if r.get("agree_with_ours") else "no"]
            for r in peers.get("rows", [])]
    return Div(text="<h2>Peers beyond scikit-image</h2><p>" + html.escape(status) + "; ours/peer &lt; 1: we are "
               "faster. 'agrees' compares the outputs (both peers' RL back-projects with a PSF shifted by one "
               "pixel, see bench_peers.py).</p>"
               + _table(["peer", "case", "dtype", "shape", "ours ms", "peer ms", "ours/peer", "agrees"], rows))


def _p90(ms: list) -> str:
    v = sorted(ms)
    return f"{v[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]:.0f}" if v else "–"


def _goal(median: float, goal: float | None) -> str:
    """``"<= 100: met"`` / ``"<= 100: missed"`` for a row with a goal, else "–"."""
    if not goal:
        return "–"
    return f"<= {goal:.0f}: {'met' if median <= goal else 'missed'}"


def _kernel_share(m: dict) -> str:
    """The kernel worker's median wall time (and its thread's CPU time) of a latency row, or "–"."""
    wall, cpu = m.get("kernel_median_ms"), m.get("kernel_cpu_median_ms")
    if wall is None:
        return "–"
    return f"{wall:.0f}" + (f" ({cpu:.0f} CPU)" if cpu is not None else "")


def _latency_rows(widget: str, d: dict) -> list[list]:
    """Rows of one widget's entry: per map size and case (display/full frames) or a flat median."""
    rows = []
    if "median_ms" in d:
        rows.append([widget, "", "slider to frame", "", f"{d['median_ms']:.0f}", _p90(d.get("ms", [])), "–", "–"])
    for key, v in d.items():
        if key.endswith("_median_ms") and isinstance(v, (int, float)):
            samples = d.get(key.replace("_median_ms", "_ms"), d.get(key.replace("median_ms", "to_frame_ms"), []))
            rows.append([widget, "", key.removesuffix("_median_ms"), "", f"{v:.0f}", _p90(samples), "–", "–"])
        elif isinstance(v, dict) and isinstance(v.get("rows"), dict):
            for case, r in v["rows"].items():
                for mode in ("display", "full"):
                    if isinstance(r.get(mode), dict):
                        m = r[mode]
                        rows.append([widget, key, case, mode, f"{m['median_ms']:.0f}", f"{m['p90_ms']:.0f}",
                                     _kernel_share(m), _goal(m["median_ms"], r.get("goal_ms"))])
    return rows


def widget_latency_section(lat: dict | None):
    """Median and p90 per widget case from the last browser run (or how to produce it)."""
    from bokeh.models import Div

    if not lat:
        return Div(text="<h2>Widget latency</h2><p>not measured here: run "
                   "<code>python benchmarks/bench_widgets_browser.py</code> (JupyterLab + Chromium).</p>")
    rows = []
    for widget, d in lat.items():
        if not isinstance(d, dict):
            continue  # run metadata (date, load, rounds)
        rows += _latency_rows(widget, d)
    load = lat.get("load_average_before_after")
    load = " -> ".join(f"{v:.1f}" for v in load) if isinstance(load, list) else "?"
    return Div(text=f"<h2>Widget latency (browser run of {html.escape(str(lat.get('when', '?')))}, load average "
               f"{html.escape(load)})</h2>"
               + "<p>kernel ms: the restoration's median wall time in the kernel's worker thread (RL: to its "
               "first streamed frame) and that thread's CPU time; the rest of the median is messaging, "
               "drawing and waiting for a core.</p>"
               + _table(["widget", "map", "case", "frames", "median ms", "p90 ms", "kernel ms", "goal ms"], rows))
