// The page's view of a map, reported to Python as the `display` trait (DeconvolutionExplorer):
// Python then sends the visible window's frames at the canvas's device resolution.
import { PixelView } from "./view.js";

/**
 * The visible window of the map on the main canvas, for Python's `display` trait: edge coordinates
 * (pixel (r, c) covers [r, r+1) x [c, c+1)), device pixels per map pixel, canvas size in device pixels.
 */
function displayOf(st, nav, W, H) {
  const [ny, nx] = st.raw.shape;
  const view = new PixelView(nx, ny, W, H, nav);
  const dpr = window.devicePixelRatio || 1;
  const clip = (v, n) => Math.min(n, Math.max(0, Math.round(1000 * v) / 1000));
  return {
    r0: clip(view.dataY(0) + 0.5, ny), r1: clip(view.dataY(H) + 0.5, ny),
    c0: clip(view.dataX(0) + 0.5, nx), c1: clip(view.dataX(W) + 0.5, nx),
    scale: view.s * dpr, height: Math.round(H * dpr), width: Math.round(W * dpr),
  };
}

/**
 * Send the view to Python (debounced) when it changed; Python answers with the window's frames.
 * `st.raw` is the raw map (its `shape`), `nav` the client-side zoom and centre, `W` x `H` the canvas in CSS px.
 */
export function displaySender(model, st, nav, W, H) {
  let timer = 0;
  let last = null;
  const send = () => {
    timer = 0;
    const d = displayOf(st, nav, W, H);
    const key = JSON.stringify(d);
    if (key === last) return;
    last = key;
    model.set("display", d);
    model.save_changes();
  };
  return () => {
    if (!st.raw) return;
    // at zoom 1 and devicePixelRatio 1 Python's default view is this one: nothing to send
    if (last === null && nav.zoom === 1 && (window.devicePixelRatio || 1) === 1 && !Object.keys(model.get("display") || {}).length) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(send, 60);
  };
}
