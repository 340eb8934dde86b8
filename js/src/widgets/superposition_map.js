// SuperpositionMap front-end (seed 000, Fig. 4): relative spot size map.
// Python computes the map (background thread) and the statistics; this
// module draws the map with a colour bar, the selected sub-pixel, sliders
// and readouts, and sends clicks / slider moves back as trait changes.
import { decodeArray, finiteRange } from "../lib/arrays.js";
import { makeCanvas, View, arrayToImage, eventPos } from "../lib/canvas.js";
import { cssColor } from "../lib/colormap.js";
import { slider, statusLine, readouts, ensureStyle } from "../lib/controls.js";

const SIZE = 420;
const CMAP = "viridis";

function fmt(v, d = 4) {
  return v == null || !Number.isFinite(v) ? "–" : v.toPrecision(d);
}

function render({ model, el }) {
  ensureStyle();
  const root = document.createElement("div");
  root.className = "srw-root srw-superposition-map";
  const status = statusLine(model);
  const busy = document.createElement("div");
  busy.className = "srw-busy";
  const row = document.createElement("div");
  row.className = "srw-row";

  const canvas = makeCanvas(SIZE, SIZE);
  canvas.dataset.role = "map";
  const bar = makeCanvas(60, SIZE, "srw-colorbar");
  const mapPanel = document.createElement("div");
  mapPanel.className = "srw-panel";
  const title = document.createElement("div");
  title.className = "srw-panel-title";
  title.textContent = "Relative spot size √(A/A₀) per sub-pixel (Fig. 4)";
  const pair = document.createElement("div");
  pair.className = "srw-row";
  pair.style.gap = "4px";
  pair.append(canvas, bar);
  mapPanel.append(title, pair);

  const controls = document.createElement("div");
  controls.className = "srw-controls";
  controls.append(
    slider(model, "omega_step_deg", { label: "angular step (deg)", min: 0.5, max: 45, step: 0.5, format: (v) => fmt(v, 3) }).el,
    slider(model, "beam_width", { label: "beam width / step", min: 0.1, max: 3, step: 0.05, format: (v) => fmt(v, 3) }).el,
    slider(model, "subdivision", { label: "sub-pixels per step", min: 1, max: 8, step: 1 }).el,
    slider(model, "x_range", { label: "X range (± steps)", min: 2, max: 20, step: 1 }).el,
  );
  const info = readouts([
    ["targets", () => String(model.get("n_targets"))],
    ["mean relative size (r ≥ 0.5)", () => fmt(model.get("mean_relative_size"), 3)],
    ["FWHM of r − r(COM)", () => fmt(model.get("com_error_fwhm"), 3)],
    ["selected sub-pixel", () => {
      const x = model.get("selected_xs");
      const y = model.get("selected_ys");
      return x == null || y == null ? "click the map" : `(${fmt(x, 4)}, ${fmt(y, 4)})`;
    }],
    ["its relative size", () => fmt(model.get("selected_value"), 3)],
    ["compute time (ms)", () => fmt(model.get("compute_ms"), 3)],
  ]);
  const side = document.createElement("div");
  side.className = "srw-panel";
  side.append(controls, info.el, busy);
  row.append(mapPanel, side);
  root.append(status.el, row);
  el.appendChild(root);

  let view = null;
  let frame = 0;
  const draw = () => {
    frame = 0;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, SIZE, SIZE);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, SIZE, SIZE);
    const arr = decodeArray(model.get("image"));
    const [x0, x1, y0, y1] = model.get("extent");
    view = new View(x0, x1, y0, y1, SIZE, SIZE, 6);
    let range = [0, 1];
    if (arr) {
      const [ny, nx] = arr.shape;
      range = finiteRange(arr.data) || [0, 1];
      const img = arrayToImage(arr.data, ny, nx, { vmin: range[0], vmax: range[1], cmap: CMAP, flipY: true });
      ctx.imageSmoothingEnabled = false;
      const px0 = view.px(x0);
      const py0 = view.py(y1);
      ctx.drawImage(img, px0, py0, view.px(x1) - px0, view.py(y0) - py0);
    }
    // rotation centre and selected sub-pixel
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.beginPath();
    ctx.arc(view.px(0), view.py(0), 4, 0, 2 * Math.PI);
    ctx.stroke();
    const sx = model.get("selected_xs");
    const sy = model.get("selected_ys");
    if (sx != null && sy != null) {
      const s = 1 / Math.max(1, model.get("subdivision"));
      ctx.strokeStyle = "#ff2d2d";
      ctx.lineWidth = 2;
      ctx.strokeRect(view.px(sx - s / 2), view.py(sy + s / 2), s * view.scale, s * view.scale);
      ctx.lineWidth = 1;
    }
    // colour bar
    const bctx = bar.getContext("2d");
    bctx.clearRect(0, 0, 60, SIZE);
    const top = 10;
    const h = SIZE - 20;
    for (let i = 0; i < h; i++) {
      bctx.fillStyle = cssColor(CMAP, 1 - i / (h - 1));
      bctx.fillRect(4, top + i, 14, 1);
    }
    bctx.fillStyle = "#333";
    bctx.font = "11px sans-serif";
    bctx.fillText(fmt(range[1], 3), 22, top + 8);
    bctx.fillText(fmt((range[0] + range[1]) / 2, 3), 22, top + h / 2 + 4);
    bctx.fillText(fmt(range[0], 3), 22, top + h);
    info.update();
    busy.textContent = model.get("busy") ? "computing…" : "";
  };
  const redraw = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };

  canvas.addEventListener("click", (ev) => {
    if (!view) return;
    const [px, py] = eventPos(canvas, ev);
    const s = Math.max(1, model.get("subdivision"));
    model.set("selected_xs", Math.round(view.dataX(px) * s) / s);
    model.set("selected_ys", Math.round(view.dataY(py) * s) / s);
    model.save_changes();
  });

  const traits = ["image", "extent", "selected_xs", "selected_ys", "selected_value", "busy",
    "mean_relative_size", "com_error_fwhm", "n_targets", "compute_ms"];
  for (const t of traits) model.on(`change:${t}`, redraw);
  draw();
  return () => {
    for (const t of traits) model.off(`change:${t}`, redraw);
  };
}

export default { render };
