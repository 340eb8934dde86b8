// BeamTrajectoryExplorer front-end (seed 000, Fig. 2-3).
// Python computes the (X, omega) list, the exact superposed polygon, the
// readouts, the beam profile (sampled, "beam_profile") and, for a beam with
// tails, the target's sensitivity map ("sensitivity" on
// "sensitivity_extent"); this module only draws them and sends user intent
// (target clicks, slider moves, the profile menu) back as trait changes.
// build* make the DOM, draw* paint a frame, bind* / interact* connect it to
// the model.
import { decodeArray } from "../lib/arrays.js";
import { drawOrReport, frameScheduler, onTraits } from "../lib/bind.js";
import { clearCanvas, eventPos, makeCanvas, polygonPath } from "../lib/canvas.js";
import { greyWhenOmegaList, profileChoice, showWhen } from "../lib/beam_controls.js";
import { ensureStyle, readouts, slider, statusLine, traitCheckbox } from "../lib/controls.js";
import { h, panel, row } from "../lib/dom.js";
import { fmtFixed, fmtPoint } from "../lib/format.js";
import { circle, cross, dot } from "../lib/markers.js";
import { drawExtent } from "../lib/rgba.js";
import { drawStrips, sensitivityContour, sensitivityImage } from "../lib/trajectory.js";
import { View } from "../lib/view.js";

const SIZE = 380;
const f3 = (v) => fmtFixed(v, 3);
const f4 = (v) => fmtFixed(v, 4);
// sliders after the two target sliders: [trait, options]
const SLIDERS = [
  ["omega_step_deg", { label: "angular step (deg)", min: 0.5, max: 45, step: 0.5, format: f3 }],
  ["omega_start_deg", { label: "ω start (deg)", min: -180, max: 180, step: 5, format: f3 }],
  ["omega_stop_deg", { label: "ω stop (deg)", min: 5, max: 360, step: 5, format: f3 }],
  ["x_range", { label: "X range (± steps)", min: 1, max: 30, step: 1 }],
  ["axis_offset", { label: "axis offset y0 (steps)", min: -1, max: 1, step: 0.05, format: f3 }],
  ["beam_width", { label: "beam width / step", min: 0.1, max: 3, step: 0.05, format: f3 }],
  ["blur_fwhm", { label: "blur FWHM / width", min: 0.05, max: 1, step: 0.05, format: f3 }],
  ["subdivision", { label: "sub-pixels per step", min: 1, max: 10, step: 1 }],
  ["zoom", { label: "zoom (right panel)", min: 1, max: 200, step: 0.5, format: f3 }],
];
const REDRAW_TRAITS = ["strip_x", "strip_omega_deg", "polygon", "centroid", "xs", "ys", "x_range", "subdivision",
  "beam_width", "beam_profile", "zoom", "auto_zoom", "n_measurements", "n_omega", "area_beam2", "relative_size",
  "centroid_offset", "sensitivity", "sensitivity_extent", "sensitivity_centroid", "effective_area_beam2",
  "effective_relative_size", "sensitivity_peak", "flat_profile"];
const LEGEND =
  "colour: summed beam weight of the strips lighting a point (viridis, of N); red: lit in every measurement (box); " +
  "magma: sensitivity S = product of the beam weights (tails), white line S = ½ max; black outline: superposed " +
  "polygon (a box: exact; tails: lit above half maximum in every measurement); +: centroid; orange dot: target. " +
  "Click a panel to pick a target.";

// -- build -------------------------------------------------------------------------

const subStep = (model) => 1 / Math.max(1, model.get("subdivision"));

function buildControls(model) {
  const el = h("div", { className: "srw-controls" });
  const xr = model.get("x_range");
  const target = (name) => slider(model, name, { label: `target ${name}`, min: -xr, max: xr, step: subStep(model), format: f4 });
  const targets = [target("xs"), target("ys")];
  const profile = profileChoice(model);
  const sliders = Object.fromEntries(SLIDERS.map(([name, opts]) => [name, slider(model, name, opts)]));
  const fit = traitCheckbox(model, "auto_zoom", "fit zoom to the region");
  el.append(...targets.map((s) => s.el), profile.el, ...Object.values(sliders).map((s) => s.el), fit.el);
  const omega = ["omega_step_deg", "omega_start_deg", "omega_stop_deg"].map((n) => sliders[n]);
  const offOmega = greyWhenOmegaList(model, omega);
  return { el, targets, blur: sliders.blur_fwhm, offProfile: () => { profile.off(); offOmega(); } };
}

function buildReadouts(model) {
  const centroidOffset = () => {
    const c = model.get("centroid");
    if (c?.length !== 2) return "–";
    const d = fmtPoint(c[0] - model.get("xs"), c[1] - model.get("ys"), 3, { trim: false });
    return `${d} |d| = ${f3(model.get("centroid_offset"))}`;
  };
  const sensCentroid = () => {
    const c = model.get("sensitivity_centroid");
    if (c?.length !== 2) return "–";
    return fmtPoint(c[0] - model.get("xs"), c[1] - model.get("ys"), 3, { trim: false });
  };
  return readouts([
    ["measurements (X, ω)", () => `${model.get("n_measurements")} of ${model.get("n_omega")}`],
    ["superposed polygon (beam²)", () => f4(model.get("area_beam2"))],
    ["polygon at (0,0) (beam²)", () => f4(model.get("centre_area_beam2"))],
    ["relative spot size √(A/A₀)", () => f4(model.get("relative_size"))],
    ["centroid − target (steps)", centroidOffset],
    ["effective area ∫S/S_max (beam²)", () => f4(model.get("effective_area_beam2"))],
    ["its relative size √(A/A₀)", () => f4(model.get("effective_relative_size"))],
    ["sensitivity peak S_max", () => f4(model.get("sensitivity_peak"))],
    ["S centroid − target (steps)", sensCentroid],
  ]);
}

function build(model, el) {
  const status = statusLine(model);
  const overview = makeCanvas(SIZE, SIZE);
  overview.dataset.role = "overview";
  const zoom = makeCanvas(SIZE, SIZE);
  zoom.dataset.role = "zoom";
  const controls = buildControls(model);
  const info = buildReadouts(model);
  const side = h("div", { className: "srw-panel" }, controls.el, info.el);
  const panels = row([panel("Beam trajectories (Fig. 2a/b)", overview).el, panel("Fully superposed region (Fig. 2c/d)", zoom).el, side]);
  const legend = h("div", { className: "srw-busy", text: LEGEND });
  el.appendChild(h("div", { className: "srw-root srw-beam-trajectory" }, status.el, panels, legend));
  return { status, canvases: { overview, zoom }, targets: controls.targets, blur: controls.blur, offProfile: controls.offProfile, info };
}

// -- draw --------------------------------------------------------------------------

/** The overview (the whole scan) and the zoom (around the target) views, in steps. */
function views(model) {
  const m = model.get("x_range") + 1;
  const half = m / Math.max(1, model.get("zoom"));
  const xs = model.get("xs");
  const ys = model.get("ys");
  return {
    overview: new View(-m, m, -m, m, SIZE, SIZE),
    zoom: new View(xs - half, xs + half, ys - half, ys + half, SIZE, SIZE),
  };
}

/** 1. accumulated illumination of all strips, one sample per CSS pixel. */
function drawIllumination(ctx, canvas, model, view) {
  const X = decodeArray(model.get("strip_x"));
  const om = decodeArray(model.get("strip_omega_deg"));
  if (!X || X.data.length === 0) return;
  const profile = model.get("beam_profile");
  // the profile sampled by Python; a box of the slider's width until it arrives
  const beam = profile?.weights ? profile : model.get("beam_width");
  drawStrips(ctx, view, canvas._cssW, canvas._cssH, X.data, om.data, beam, "viridis");
}

/** Lines at v = (k - 1/2)/sub for k0 <= k <= k1, clipped to [lo, hi] and the view. */
function subPixelLines(ctx, view, xr, sub) {
  const [bx0, bx1, by0, by1] = view.bounds();
  const lo = -xr - 0.5;
  const hi = xr + 0.5;
  const line = (x0, y0, x1, y1) => {
    ctx.moveTo(view.px(x0), view.py(y0));
    ctx.lineTo(view.px(x1), view.py(y1));
  };
  const range = (b0, b1) => [Math.ceil((Math.max(b0, lo) + 0.5 / sub) * sub), Math.floor((Math.min(b1, hi) + 0.5 / sub) * sub)];
  const [k0, k1] = range(bx0, bx1);
  for (let k = k0; k <= k1; k++) line((k - 0.5) / sub, Math.max(by0, lo), (k - 0.5) / sub, Math.min(by1, hi));
  const [m0, m1] = range(by0, by1);
  for (let k = m0; k <= m1; k++) line(Math.max(bx0, lo), (k - 0.5) / sub, Math.min(bx1, hi), (k - 0.5) / sub);
}

/** Pixel edges at half-integers (pixels centred on integer positions) within ±(xr + 1/2). */
function pixelLines(ctx, view, xr) {
  const [bx0, bx1, by0, by1] = view.bounds();
  const lo = -xr - 0.5;
  const hi = xr + 0.5;
  const edges = (b0, b1) => {
    const out = [];
    for (let i = Math.ceil(Math.max(b0, lo) - 0.5); i <= Math.floor(Math.min(b1, hi) - 0.5) + 1; i++) {
      const v = i - 0.5;
      if (v >= lo - 1e-9 && v <= hi + 1e-9) out.push(v);
    }
    return out;
  };
  for (const v of edges(bx0, bx1)) {
    ctx.moveTo(view.px(v), view.py(Math.max(by0, lo)));
    ctx.lineTo(view.px(v), view.py(Math.min(by1, hi)));
  }
  for (const v of edges(by0, by1)) {
    ctx.moveTo(view.px(Math.max(bx0, lo)), view.py(v));
    ctx.lineTo(view.px(Math.min(bx1, hi)), view.py(v));
  }
}

/** 2. specimen pixel grid and, zoomed in, the dashed sub-pixel grid. */
function drawGrid(ctx, view, model, zoomed) {
  const xr = model.get("x_range");
  const sub = model.get("subdivision");
  ctx.lineWidth = 1;
  if (zoomed && sub > 1) {
    ctx.strokeStyle = "rgba(0,0,0,0.12)";
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    subPixelLines(ctx, view, xr, sub);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.strokeStyle = zoomed ? "rgba(0,0,0,0.35)" : "rgba(0,0,0,0.18)";
  ctx.beginPath();
  pixelLines(ctx, view, xr);
  ctx.stroke();
}

/** 3a. a beam with tails: the sensitivity map and its half-maximum contour (zoom panel). */
function drawSensitivity(ctx, view, model) {
  if (model.get("flat_profile")) return;
  const arr = decodeArray(model.get("sensitivity"));
  const img = sensitivityImage(arr);
  if (!img) return;
  const extent = model.get("sensitivity_extent");
  drawExtent(ctx, view, img, extent);
  const seg = sensitivityContour(arr, extent, 0.5);
  ctx.save();
  ctx.strokeStyle = "rgba(255,255,255,0.95)";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  for (let i = 0; i < seg.length; i += 4) {
    ctx.moveTo(view.px(seg[i]), view.py(seg[i + 1]));
    ctx.lineTo(view.px(seg[i + 2]), view.py(seg[i + 3]));
  }
  ctx.stroke();
  ctx.restore();
}

/** 3b. the superposed polygon (dashed for a beam with tails), the centroid and the target. */
function drawSuperposed(ctx, view, model, zoomed) {
  const flat = model.get("flat_profile");
  const poly = decodeArray(model.get("polygon"));
  if (poly && poly.data.length >= 6) {
    ctx.lineWidth = zoomed ? 2 : 1.5;
    ctx.strokeStyle = "#000";
    ctx.setLineDash(flat ? [] : [5, 3]);
    polygonPath(ctx, view, poly.data);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  const com = model.get(flat ? "centroid" : "sensitivity_centroid");
  if (com && com.length === 2) cross(ctx, ...view.at(com[0], com[1]), 5, { halo: "#fff" });
  dot(ctx, ...view.at(model.get("xs"), model.get("ys")), zoomed ? 4 : 3);
}

function drawPanel(canvas, model, view, zoomed) {
  const ctx = clearCanvas(canvas, "#ffffff");
  ctx.save();
  drawIllumination(ctx, canvas, model, view);
  if (zoomed) drawSensitivity(ctx, view, model);
  drawGrid(ctx, view, model, zoomed);
  circle(ctx, ...view.at(0, 0), 3); // rotation centre
  drawSuperposed(ctx, view, model, zoomed);
  ctx.fillStyle = "rgba(0,0,0,0.75)";
  ctx.font = "11px sans-serif";
  const fit = model.get("auto_zoom") ? " (fit)" : "";
  const label = zoomed
    ? `zoom ×${f3(model.get("zoom"))}${fit} on ${fmtPoint(model.get("xs"), model.get("ys"), 4, { trim: false })}`
    : `specimen, X in ±${model.get("x_range")}`;
  ctx.fillText(label, 6, 14);
  ctx.restore();
}

// -- bind and interact -----------------------------------------------------------------

/** The target sliders follow the X range and the sub-pixel step. */
function bindTargetSliders(model, targets) {
  const update = () => {
    const xr = model.get("x_range");
    for (const s of targets) {
      s.input.min = String(-xr);
      s.input.max = String(xr);
      s.input.step = String(subStep(model));
      s.update();
    }
  };
  model.on("change:x_range", update);
  model.on("change:subdivision", update);
  update();
  return () => {
    model.off("change:x_range", update);
    model.off("change:subdivision", update);
  };
}

/** A click on a panel picks the target, snapped to the sub-pixel grid and the scan range. */
function interactPick(model, canvas, getView) {
  canvas.addEventListener("click", (ev) => {
    const v = getView();
    if (!v) return;
    const [px, py] = eventPos(canvas, ev);
    const s = Math.max(1, model.get("subdivision"));
    const xr = model.get("x_range");
    const snap = (d) => Math.max(-xr, Math.min(xr, Math.round(d * s) / s));
    model.set("xs", snap(v.dataX(px)));
    model.set("ys", snap(v.dataY(py)));
    model.save_changes();
  });
}

function render({ model, el }) {
  ensureStyle();
  const ui = build(model, el);
  let current = null; // the views of the frame on screen (clicks use them)
  const frame = frameScheduler(() => {
    current = views(model);
    drawOrReport(ui.status, () => {
      drawPanel(ui.canvases.overview, model, current.overview, false);
      drawPanel(ui.canvases.zoom, model, current.zoom, true);
    });
    ui.info.update();
  });
  for (const name of ["overview", "zoom"]) interactPick(model, ui.canvases[name], () => current?.[name]);
  const offRedraw = onTraits(model, REDRAW_TRAITS, frame.request);
  const offSliders = bindTargetSliders(model, ui.targets);
  const offBlur = showWhen(model, ui.blur.el, "profile", "box_gaussian");
  frame.request();
  return () => {
    offRedraw();
    offSliders();
    offBlur();
    ui.offProfile();
    frame.cancel();
  };
}

export default { render };
