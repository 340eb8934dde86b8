// BeamTrajectoryExplorer front-end (seed 000, Fig. 2-3).
// Python computes the (X, omega) list, the exact superposed polygon, the
// readouts and the beam profile (sampled, "beam_profile"); this module only
// draws them and sends user intent (target clicks, slider moves) back as
// trait changes.
import { decodeArray } from "../lib/arrays.js";
import { makeCanvas, View, polygonPath, eventPos } from "../lib/canvas.js";
import { slider, statusLine, readouts, ensureStyle } from "../lib/controls.js";
import { drawStrips, drawTarget, drawCross, drawRotationCentre } from "../lib/trajectory.js";

const SIZE = 380;

function fmt(v, digits = 4) {
  if (v == null || !Number.isFinite(v)) return "–";
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(3);
  return v.toPrecision(digits);
}

function drawPanel(canvas, model, view, { zoomed }) {
  const ctx = canvas.getContext("2d");
  const W = canvas._cssW;
  const H = canvas._cssH;
  ctx.save();
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, W, H);

  const xr = model.get("x_range");
  const sub = model.get("subdivision");
  const profile = model.get("beam_profile");
  // the profile sampled by Python; a box of the slider's width until it arrives
  const beam = profile?.weights ? profile : model.get("beam_width");
  const xs = model.get("xs");
  const ys = model.get("ys");
  const X = decodeArray(model.get("strip_x"));
  const om = decodeArray(model.get("strip_omega_deg"));
  const n = X ? X.data.length : 0;

  // 1. accumulated illumination of all strips, one sample per CSS pixel
  if (n > 0) drawStrips(ctx, view, W, H, X.data, om.data, beam, "viridis");

  // 2. specimen pixel grid (pixels centred on integer positions) and sub-pixels
  const [bx0, bx1, by0, by1] = view.bounds();
  const gridLine = (x0, y0, x1, y1) => {
    ctx.moveTo(view.px(x0), view.py(y0));
    ctx.lineTo(view.px(x1), view.py(y1));
  };
  const lo = -xr - 0.5;
  const hi = xr + 0.5;
  ctx.lineWidth = 1;
  if (zoomed && sub > 1) {
    ctx.strokeStyle = "rgba(0,0,0,0.12)";
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    const k0 = Math.ceil((Math.max(bx0, lo) + 0.5 / sub) * sub);
    const k1 = Math.floor((Math.min(bx1, hi) + 0.5 / sub) * sub);
    for (let k = k0; k <= k1; k++) {
      const v = (k - 0.5) / sub;
      gridLine(v, Math.max(by0, lo), v, Math.min(by1, hi));
    }
    const m0 = Math.ceil((Math.max(by0, lo) + 0.5 / sub) * sub);
    const m1 = Math.floor((Math.min(by1, hi) + 0.5 / sub) * sub);
    for (let k = m0; k <= m1; k++) {
      const v = (k - 0.5) / sub;
      gridLine(Math.max(bx0, lo), v, Math.min(bx1, hi), v);
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.strokeStyle = zoomed ? "rgba(0,0,0,0.35)" : "rgba(0,0,0,0.18)";
  ctx.beginPath();
  for (let i = Math.ceil(Math.max(bx0, lo) - 0.5); i <= Math.floor(Math.min(bx1, hi) - 0.5) + 1; i++) {
    const v = i - 0.5;
    if (v < lo - 1e-9 || v > hi + 1e-9) continue;
    gridLine(v, Math.max(by0, lo), v, Math.min(by1, hi));
  }
  for (let i = Math.ceil(Math.max(by0, lo) - 0.5); i <= Math.floor(Math.min(by1, hi) - 0.5) + 1; i++) {
    const v = i - 0.5;
    if (v < lo - 1e-9 || v > hi + 1e-9) continue;
    gridLine(Math.max(bx0, lo), v, Math.min(bx1, hi), v);
  }
  ctx.stroke();

  // rotation centre
  drawRotationCentre(ctx, view);

  // 3. exact superposed polygon, its centroid and the target
  const poly = decodeArray(model.get("polygon"));
  if (poly && poly.data.length >= 6) {
    ctx.lineWidth = zoomed ? 2 : 1.5;
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "rgba(255,255,255,0.0)";
    polygonPath(ctx, view, poly.data);
    ctx.stroke();
  }
  const com = model.get("centroid");
  if (com && com.length === 2) drawCross(ctx, view, com[0], com[1], 5);
  drawTarget(ctx, view, xs, ys, zoomed ? 4 : 3);

  // frame label
  ctx.fillStyle = "rgba(0,0,0,0.75)";
  ctx.font = "11px sans-serif";
  const label = zoomed
    ? `zoom x${fmt(model.get("zoom"), 3)} on (${fmt(xs, 4)}, ${fmt(ys, 4)})`
    : `specimen, X in ±${xr}`;
  ctx.fillText(label, 6, 14);
  ctx.restore();
}

function render({ model, el }) {
  ensureStyle();
  const root = document.createElement("div");
  root.className = "srw-root srw-beam-trajectory";

  const status = statusLine(model);
  const row = document.createElement("div");
  row.className = "srw-row";

  const overview = makeCanvas(SIZE, SIZE);
  overview.dataset.role = "overview";
  const zoomCanvas = makeCanvas(SIZE, SIZE);
  zoomCanvas.dataset.role = "zoom";
  const panel = (title, canvas) => {
    const p = document.createElement("div");
    p.className = "srw-panel";
    const t = document.createElement("div");
    t.className = "srw-panel-title";
    t.textContent = title;
    p.append(t, canvas);
    return p;
  };

  const views = {};
  const computeViews = () => {
    const xr = model.get("x_range");
    const m = xr + 1;
    views.overview = new View(-m, m, -m, m, SIZE, SIZE);
    const half = m / Math.max(1, model.get("zoom"));
    const xs = model.get("xs");
    const ys = model.get("ys");
    views.zoom = new View(xs - half, xs + half, ys - half, ys + half, SIZE, SIZE);
  };

  // controls
  const controls = document.createElement("div");
  controls.className = "srw-controls";
  const subStep = () => 1 / Math.max(1, model.get("subdivision"));
  const sliders = [];
  const add = (s) => {
    sliders.push(s);
    controls.append(s.el);
  };
  const xr0 = model.get("x_range");
  const sx = slider(model, "xs", { label: "target xs", min: -xr0, max: xr0, step: subStep(), format: (v) => fmt(v, 4) });
  const sy = slider(model, "ys", { label: "target ys", min: -xr0, max: xr0, step: subStep(), format: (v) => fmt(v, 4) });
  add(sx);
  add(sy);
  add(slider(model, "omega_step_deg", { label: "angular step (deg)", min: 0.5, max: 45, step: 0.5, format: (v) => fmt(v, 3) }));
  add(slider(model, "x_range", { label: "X range (± steps)", min: 1, max: 30, step: 1 }));
  add(slider(model, "beam_width", { label: "beam width / step", min: 0.1, max: 3, step: 0.05, format: (v) => fmt(v, 3) }));
  add(slider(model, "subdivision", { label: "sub-pixels per step", min: 1, max: 10, step: 1 }));
  add(slider(model, "zoom", { label: "zoom (right panel)", min: 1, max: 60, step: 0.5, format: (v) => fmt(v, 3) }));

  const updateTargetSliders = () => {
    const xr = model.get("x_range");
    for (const s of [sx, sy]) {
      s.input.min = String(-xr);
      s.input.max = String(xr);
      s.input.step = String(subStep());
      s.update();
    }
  };

  const info = readouts([
    ["measurements (X, ω)", () => String(model.get("n_measurements"))],
    ["superposed area (beam²)", () => fmt(model.get("area_beam2"))],
    ["area at (0,0) (beam²)", () => fmt(model.get("centre_area_beam2"))],
    ["relative spot size √(A/A₀)", () => fmt(model.get("relative_size"))],
    ["centroid − target (steps)", () => {
      const c = model.get("centroid");
      if (c?.length !== 2) return "–";
      return `(${fmt(c[0] - model.get("xs"), 3)}, ${fmt(c[1] - model.get("ys"), 3)}) |d| = ${fmt(model.get("centroid_offset"), 3)}`;
    }],
  ]);
  const legend = document.createElement("div");
  legend.className = "srw-busy";
  legend.textContent =
    "colour: summed beam weight of the strips lighting a point (viridis, of N); red: lit in every measurement; " +
    "black outline: exact superposed polygon; +: its centroid; orange dot: target. Click a panel to pick a target.";

  const side = document.createElement("div");
  side.className = "srw-panel";
  side.append(controls, info.el);
  row.append(panel("Beam trajectories (Fig. 2a/b)", overview), panel("Fully superposed region (Fig. 2c/d)", zoomCanvas), side);
  root.append(status.el, row, legend);
  el.appendChild(root);

  let frame = 0;
  const redraw = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      computeViews();
      try {
        drawPanel(overview, model, views.overview, { zoomed: false });
        drawPanel(zoomCanvas, model, views.zoom, { zoomed: true });
      } catch (err) {
        status.el.textContent = `drawing failed: ${err}`;
        status.el.style.display = "block";
      }
      info.update();
    });
  };

  const pick = (canvas, viewName) => (ev) => {
    const [px, py] = eventPos(canvas, ev);
    const v = views[viewName];
    if (!v) return;
    const s = Math.max(1, model.get("subdivision"));
    const xr = model.get("x_range");
    const snap = (d) => Math.max(-xr, Math.min(xr, Math.round(d * s) / s));
    model.set("xs", snap(v.dataX(px)));
    model.set("ys", snap(v.dataY(py)));
    model.save_changes();
  };
  overview.addEventListener("click", pick(overview, "overview"));
  zoomCanvas.addEventListener("click", pick(zoomCanvas, "zoom"));

  const traits = ["strip_x", "strip_omega_deg", "polygon", "centroid", "xs", "ys", "x_range", "subdivision",
    "beam_width", "beam_profile", "zoom", "n_measurements", "area_beam2", "relative_size", "centroid_offset"];
  for (const t of traits) model.on(`change:${t}`, redraw);
  model.on("change:x_range", updateTargetSliders);
  model.on("change:subdivision", updateTargetSliders);
  updateTargetSliders();
  redraw();

  return () => {
    for (const t of traits) model.off(`change:${t}`, redraw);
  };
}

export default { render };
