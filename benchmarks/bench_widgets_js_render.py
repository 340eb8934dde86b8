"""Front-end drawing cost of every widget, two front-end versions side by side.

Each widget is created in Python on a small realistic input and computed once;
its synced state (arrays as binary buffers) is handed to the widget's bundled
front-end in headless Chromium with a stand-in model (no kernel, no JupyterLab),
so only the front-end's own work is timed:

* ``render_ms``: ``render()`` plus the first frame;
* ``update_ms``: median of one trait change -> the frame drawn (animation frames
  run at once; every canvas is read back so the raster work is included).

The trait changes are the ones a person makes or Python streams: target moves
(BeamTrajectoryExplorer), a selected sub-pixel (SuperpositionMap), the boundary
mode (ReconstructionExplorer), a restored frame (DeconvolutionExplorer, 512 x 512),
the colormap (PSFFitExplorer), the restored images (PSFSweep, ElementStack).
Versions A and B run alternately, ``--rounds`` times, in the same browser, and
the medians over rounds and their ratio B / A are printed (like with like: same
state, same machine, same minutes).

Usage::

    python benchmarks/bench_widgets_js_render.py --a e64162d~1 --b e64162d
    python benchmarks/bench_widgets_js_render.py --a HEAD --b static   # static = superres_widgets/static as built

A version is a git revision (its ``js/src`` is bundled with esbuild) or
``static``. Needs the ``test`` extra (playwright), /usr/bin/chromium and ``npm ci`` in js/.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import statistics
import subprocess
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "js"
CHROMIUM = "/usr/bin/chromium"
WIDGETS = ["beam_trajectory", "superposition_map", "reconstruction", "deconvolution", "psf_fit", "psf_sweep",
           "element_stack"]
SAME = "__same__"  # re-send the trait's current array (a new buffer view), as a streamed frame arrives


def _widgets():
    """{bundle name: (widget, [(trait, value), ...] cycled through as updates)}."""
    from superres_widgets import widgets as W
    from superres_widgets.xrf import simulate_scan, usaf1951

    bt = W.BeamTrajectoryExplorer(xs=3, ys=2)
    sm = W.SuperpositionMap(omega_step_deg=10).wait()
    re = W.ReconstructionExplorer(diameter_um=48, n_grains=5, omega_step_deg=2, seed=1).wait()
    re.selected_xs, re.selected_ys = 7.0, 5.0
    re.wait()
    fine = usaf1951(2.5, groups=(2, 3, 4, 5))
    counts = simulate_scan(fine.image, 32.5, 5.0, truth_pixel_um=2.5, rng=1).counts
    dx = W.DeconvolutionExplorer(image=counts[:512, :512].astype(float), pixel_size_um=5.0, method="wiener",
                                 psf_sigma_um=32.5, balance=0.03).wait()
    pf = W.PSFFitExplorer.demo_knife_edge().wait()
    chart = usaf1951(5.0, groups=[4])
    c4 = simulate_scan(chart.image, 15.0, 5.0, truth_pixel_um=5.0, rng=0).counts
    sw = W.PSFSweep(image=c4, chart=chart, levels=(137.5, 214.5), pixel_size_um=5.0, sigmas_um=[10, 15, 20],
                    num_iter=20, acceleration=False).wait()
    es = W.ElementStack.demo(shape=(128, 128)).wait()
    return {
        "beam_trajectory": (bt, [("xs", 1.25), ("xs", 1.5), ("xs", 1.75), ("xs", 2.0)]),
        "superposition_map": (sm, [("selected_xs", 1.0), ("selected_xs", 2.0)]),
        "reconstruction": (re, [("boundaries", "both"), ("boundaries", "own")]),
        "deconvolution": (dx, [("restored_view", SAME)]),
        "psf_fit": (pf, [("colormap", "gray"), ("colormap", "viridis")]),
        "psf_sweep": (sw, [("_restored", SAME)]),
        "element_stack": (es, [("_restored", SAME)]),
    }


def _payload(widget) -> dict:
    """The widget's synced state with its binary buffers as base64 and their paths."""
    from ipywidgets.widgets.widget import _remove_buffers

    state = {k: v for k, v in widget.get_state().items() if k not in ("_esm", "_css")}
    state, paths, buffers = _remove_buffers(state)
    return {"state": state, "paths": paths, "buffers": [base64.b64encode(bytes(b)).decode() for b in buffers]}


def _bundle(version: str, out: Path) -> Path:
    """Directory of the widget bundles of ``version`` (a git revision, or 'static')."""
    if version == "static":
        return ROOT / "superres_widgets" / "static"
    src = out / "src"
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", version, "js/src"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
    dest = out / "static"
    entries = [str(p) for p in sorted((src / "js" / "src" / "widgets").glob("*.js"))]
    subprocess.run([str(JS / "node_modules" / ".bin" / "esbuild"), *entries, "--bundle", "--format=esm",
                    "--target=es2020", f"--outdir={dest}", "--log-level=warning"], check=True)
    return dest


RUN_JS = """
async ({url, payload, updates, n, same}) => {
  const mod = await import(url);
  const state = structuredClone(payload.state);
  payload.paths.forEach((p, i) => {
    const bin = atob(payload.buffers[i]);
    const u8 = new Uint8Array(bin.length);
    for (let j = 0; j < bin.length; j++) u8[j] = bin.charCodeAt(j);
    let o = state;
    for (const k of p.slice(0, -1)) o = o[k];
    o[p[p.length - 1]] = new DataView(u8.buffer);
  });
  const handlers = {};
  const model = {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; for (const f of handlers[`change:${k}`] || []) f(); },
    save_changes() {}, send() {},
    on(ev, f) { handlers[ev] = [...(handlers[ev] || []), f]; },
    off(ev, f) { handlers[ev] = (handlers[ev] || []).filter((g) => g !== f); },
  };
  let queue = [];
  window.requestAnimationFrame = (cb) => { queue.push(cb); return queue.length; };
  window.cancelAnimationFrame = () => {};
  const flush = () => {
    while (queue.length) { const q = queue; queue = []; for (const cb of q) cb(performance.now()); }
  };
  const el = document.createElement("div");
  document.body.replaceChildren(el);
  const sync = () => { for (const c of el.querySelectorAll("canvas")) c.getContext("2d").getImageData(0, 0, 1, 1); };
  const t0 = performance.now();
  const cleanup = mod.default.render({ model, el });
  flush();
  sync();
  const render = performance.now() - t0;
  const times = [];
  for (let i = 0; i < n; i++) {
    const [trait, value] = updates[i % updates.length];
    let v = value;
    if (v === same) {
      const cur = state[trait];
      v = { ...cur, buffer: new DataView(cur.buffer.buffer, cur.buffer.byteOffset, cur.buffer.byteLength) };
    }
    const t = performance.now();
    model.set(trait, v);
    flush();
    sync();
    times.push(performance.now() - t);
  }
  if (typeof cleanup === "function") cleanup();
  times.sort((a, b) => a - b);
  return { render, update: times[times.length >> 1] };
}
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", default="HEAD", help="version A: a git revision or 'static' (default HEAD)")
    ap.add_argument("--b", default="static", help="version B (default: the built superres_widgets/static)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--updates", type=int, default=30, help="trait changes timed per widget and round")
    ap.add_argument("--widgets", nargs="*", default=WIDGETS, choices=WIDGETS)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    made = _widgets()
    payloads = {name: _payload(made[name][0]) for name in args.widgets}
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {"A": _bundle(args.a, Path(tmp) / "a"), "B": _bundle(args.b, Path(tmp) / "b")}
        serve = Path(tmp) / "serve"
        serve.mkdir()
        for side, d in dirs.items():
            (serve / side).symlink_to(d, target_is_directory=True)
        (serve / "index.html").write_text("<!doctype html><meta charset=utf-8><body></body>")
        handler = functools.partial(_QuietHandler, directory=str(serve))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        res = {(w, s): {"render": [], "update": []} for w in args.widgets for s in "AB"}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            for _ in range(args.rounds):
                for w in args.widgets:
                    for side in "AB":
                        page = browser.new_page(viewport={"width": 1500, "height": 1200})
                        page.goto(f"{base}/index.html")
                        r = page.evaluate(RUN_JS, {"url": f"{base}/{side}/{w}.js", "payload": payloads[w],
                                                   "updates": made[w][1], "n": args.updates, "same": SAME})
                        page.close()
                        res[(w, side)]["render"].append(r["render"])
                        res[(w, side)]["update"].append(r["update"])
            browser.close()
        httpd.shutdown()
    print(f"A = {args.a}, B = {args.b}; medians over {args.rounds} alternating rounds (ms)")
    head = ["render A", "render B", "B/A", "update A", "update B", "B/A"]
    print(f"{'widget':20s} {head[0]:>9s} {head[1]:>9s} {head[2]:>5s}   {head[3]:>9s} {head[4]:>9s} {head[5]:>5s}")
    for w in args.widgets:
        ra, rb = (statistics.median(res[(w, s)]["render"]) for s in "AB")
        ua, ub = (statistics.median(res[(w, s)]["update"]) for s in "AB")
        print(f"{w:20s} {ra:9.1f} {rb:9.1f} {rb / ra:5.2f}   {ua:9.2f} {ub:9.2f} {ub / ua:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
