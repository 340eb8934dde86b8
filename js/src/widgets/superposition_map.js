// SuperpositionMap front-end (seed 000, Fig. 4): relative spot size map.
// Python computes the map (background thread) and the statistics; this
// module draws the map with a colour bar, the selected sub-pixel, sliders
// and readouts, and sends clicks / slider moves back as trait changes.
import { decodeArray, finiteRange } from "../lib/arrays.js";
import { frameScheduler, onTraits } from "../lib/bind.js";
import { arrayToImage, clearCanvas, eventPos, makeCanvas } from "../lib/canvas.js";
import { drawColorbar } from "../lib/colorbar.js";
import { greyWhenOmegaList, profileChoice, showWhen } from "../lib/beam_controls.js";
import { ensureStyle, readouts, slider, statusLine } from "../lib/controls.js";
import { h, panel, row } from "../lib/dom.js";
import { fmtFixed, fmtPoint } from "../lib/format.js";
import { circle, square } from "../lib/markers.js";
import { drawExtent } from "../lib/rgba.js";
import { View } from "../lib/view.js";

const SIZE = 420;
const CMAP = "viridis";
const f3 = (v) => fmtFixed(v, 3);
const SLIDERS = [
  ["omega_step_deg", { label: "angular step (deg)", min: 0.5, max: 45, step: 0.5, format: f3 }],
  ["omega_start_deg", { label: "ω start (deg)", min: -180, max: 180, step: 5, format: f3 }],
  ["omega_stop_deg", { label: "ω stop (deg)", min: 5, max: 360, step: 5, format: f3 }],
  ["beam_width", { label: "beam width / step", min: 0.1, max: 3, step: 0.05, format: f3 }],
  ["blur_fwhm", { label: "blur FWHM / width", min: 0.05, max: 1, step: 0.05, format: f3 }],
  ["axis_offset", { label: "axis offset y0 (steps)", min: -1, max: 1, step: 0.05, format: f3 }],
  ["subdivision", { label: "sub-pixels per step", min: 1, max: 8, step: 1 }],
  ["x_range", { label: "X range (± steps)", min: 2, max: 20, step: 1 }],
];
const REDRAW_TRAITS = ["image", "extent", "selected_xs", "selected_ys", "selected_value", "busy",
  "mean_relative_size", "com_error_fwhm", "mean_spot_size", "measure", "n_targets", "compute_ms"];
const MEASURE = { polygon: "exact polygons (box)", product: "sensitivity ∫S/S_max", minimum: "sensitivity (min)" };

// -- build -------------------------------------------------------------------------

function buildReadouts(model) {
  const selected = () => {
    const x = model.get("selected_xs");
    const y = model.get("selected_ys");
    return x == null || y == null ? "click the map" : fmtPoint(x, y, 4, { trim: false });
  };
  return readouts([
    ["targets", () => String(model.get("n_targets"))],
    ["area A", () => MEASURE[model.get("measure")] ?? model.get("measure")],
    ["mean relative size (r ≥ 0.5)", () => f3(model.get("mean_relative_size"))],
    ["mean spot size √A / b", () => f3(model.get("mean_spot_size"))],
    ["FWHM of r − r(COM)", () => f3(model.get("com_error_fwhm"))],
    ["selected sub-pixel", selected],
    ["its relative size", () => f3(model.get("selected_value"))],
    ["compute time (ms)", () => f3(model.get("compute_ms"))],
  ]);
}

function build(model, el) {
  const status = statusLine(model);
  const canvas = makeCanvas(SIZE, SIZE);
  canvas.dataset.role = "map";
  const bar = makeCanvas(60, SIZE, "srw-colorbar");
  const map = panel("Relative spot size √(A/A₀) per sub-pixel (Fig. 4)", row([canvas, bar], { gap: "4px" }));
  const profile = profileChoice(model);
  const sliders = Object.fromEntries(SLIDERS.map(([name, opts]) => [name, slider(model, name, opts)]));
  const controls = h("div", { className: "srw-controls" }, profile.el, ...Object.values(sliders).map((s) => s.el));
  const info = buildReadouts(model);
  const busy = h("div", { className: "srw-busy" });
  const side = h("div", { className: "srw-panel" }, controls, info.el, busy);
  el.appendChild(h("div", { className: "srw-root srw-superposition-map" }, status.el, row([map.el, side])));
  const offBlur = showWhen(model, sliders.blur_fwhm.el, "profile", "box_gaussian");
  const offOmega = greyWhenOmegaList(model, ["omega_step_deg", "omega_start_deg", "omega_stop_deg"].map((n) => sliders[n]));
  return {
    canvas,
    bar,
    info,
    busy,
    off: () => {
      offBlur();
      offOmega();
      profile.off();
    },
  };
}

// -- draw --------------------------------------------------------------------------

/** The map (range: its finite min/max), the rotation centre and the selected sub-pixel. */
function drawMap(canvas, model, view) {
  const ctx = clearCanvas(canvas);
  const arr = decodeArray(model.get("image"));
  let range = [0, 1];
  if (arr) {
    const [ny, nx] = arr.shape;
    range = finiteRange(arr.data) || [0, 1];
    const img = arrayToImage(arr.data, ny, nx, { vmin: range[0], vmax: range[1], cmap: CMAP, flipY: true });
    drawExtent(ctx, view, img, model.get("extent"));
  }
  circle(ctx, ...view.at(0, 0), 4, { colour: "rgba(255,255,255,0.9)" });
  const sx = model.get("selected_xs");
  const sy = model.get("selected_ys");
  if (sx != null && sy != null) {
    const s = 1 / Math.max(1, model.get("subdivision"));
    square(ctx, view.px(sx - s / 2), view.py(sy + s / 2), s * view.scale);
  }
  return range;
}

// -- interact ----------------------------------------------------------------------

/** A click selects the sub-pixel under the pointer. */
function interactSelect(model, canvas, getView) {
  canvas.addEventListener("click", (ev) => {
    const view = getView();
    if (!view) return;
    const [px, py] = eventPos(canvas, ev);
    const s = Math.max(1, model.get("subdivision"));
    model.set("selected_xs", Math.round(view.dataX(px) * s) / s);
    model.set("selected_ys", Math.round(view.dataY(py) * s) / s);
    model.save_changes();
  });
}

function render({ model, el }) {
  ensureStyle();
  const ui = build(model, el);
  let view = null;
  const frame = frameScheduler(() => {
    const [x0, x1, y0, y1] = model.get("extent");
    view = new View(x0, x1, y0, y1, SIZE, SIZE, 6);
    const [lo, hi] = drawMap(ui.canvas, model, view);
    drawColorbar(ui.bar, CMAP, lo, hi, { vertical: true, middle: true, format: f3 });
    ui.info.update();
    ui.busy.textContent = model.get("busy") ? "computing…" : "";
  });
  interactSelect(model, ui.canvas, () => view);
  const off = onTraits(model, REDRAW_TRAITS, frame.request);
  frame.now();
  return () => {
    off();
    ui.off();
    frame.cancel();
  };
}

export default { render };
