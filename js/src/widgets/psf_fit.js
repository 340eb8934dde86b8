// PSFFitExplorer front-end (seed 001, Fig. 3 dot scan, Fig. 4 knife edge).
// Python fits; this module draws the map (with the fitted 1/2/3 sigma
// ellipses, or the knife-edge line and its band), the residual map, the
// readouts, and sends user intent back: mode/colormap/band/estimate choices
// and, in knife mode, the line dragged on the map (sent on mouse release only).
// Pixel coordinates: x = column, y = row (down), pixel centres at integers
// (lib/view.js PixelView). build* make the DOM, draw* paint a frame, bind* /
// interact* connect it to the model and the pointer.
import { decodeArray } from "../lib/arrays.js";
import { frameScheduler, drawOrReport, onTraits } from "../lib/bind.js";
import { arrayToImage, clearCanvas, makeCanvas, resizeCanvas } from "../lib/canvas.js";
import { drawColorbar } from "../lib/colorbar.js";
import { ensureStyle, readouts, statusLine, traitSelect } from "../lib/controls.js";
import { h, row } from "../lib/dom.js";
import { fmt, pm } from "../lib/format.js";
import { arrowHead, cross, dot, haloText, strokePath } from "../lib/markers.js";
import { robustRange } from "../lib/range.js";
import { injectStyle } from "../lib/style.js";
import { fitSize, PixelView } from "../lib/view.js";

// CSS px of the longer side of the map: larger in knife mode (one map, drawn on)
const MAX_SIZE = { dot: 320, knife: 420 };
const BAR_H = 30;
const FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.log(2));
const HALO = "rgba(0,0,0,0.75)";
const CSS = `
.srw-psf-fit .srw-psf-toolbar { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin: 2px 0 6px; }
.srw-psf-fit .srw-psf-toolbar label { display: inline-flex; gap: 4px; align-items: center; }
.srw-psf-fit .srw-psf-modes button { font: inherit; padding: 2px 10px; border: 1px solid var(--jp-border-color1, #bbb);
  background: var(--jp-layout-color1, #fff); color: inherit; cursor: pointer; }
.srw-psf-fit .srw-psf-modes button:first-child { border-radius: 3px 0 0 3px; }
.srw-psf-fit .srw-psf-modes button:last-child { border-radius: 0 3px 3px 0; border-left: none; }
.srw-psf-fit .srw-psf-modes button.srw-active { background: var(--jp-brand-color1, #1976d2); color: #fff; border-color: transparent; }
.srw-psf-fit .srw-psf-hover { min-height: 1.4em; color: var(--jp-ui-font-color2, #555); font-variant-numeric: tabular-nums; }
.srw-psf-fit .srw-psf-side { min-width: 270px; }
.srw-psf-fit .srw-psf-section { font-weight: 600; margin-top: 8px; grid-column: 1 / span 2; }
.srw-psf-fit .srw-psf-result .srw-readout-value { color: var(--jp-brand-color1, #1565c0); }
.srw-psf-fit .srw-psf-legend { max-width: 820px; margin-top: 4px; }
.srw-psf-fit canvas.srw-canvas[data-mode=knife] { cursor: crosshair; }
.srw-psf-fit canvas.srw-canvas[data-mode=dot] { cursor: default; }
`;
const LEGEND = {
  knife: "Knife edge: the pixels inside the dashed band are binned by their distance to the fitted (possibly slanted) edge; " +
    "below, the profile with its erf fit (Fig. 4b) and its gradient with the paper's Gaussian fit (Fig. 4c). " +
    "The arrow gives the profile direction. Drag on the map to draw a new line.",
  dot: "Dot scan: a 2-D Gaussian g = α h(u, v) + β fitted to the map; the curves are its ±1σ, ±2σ, ±3σ contours, + its centre. " +
    "Right: the residual, red where the data lie above the fit, blue below (symmetric range). Below: cuts through the centre (Fig. 3b).",
};
const REDRAW_TRAITS = ["mode", "line", "band_px", "ellipses", "colormap", "knife_estimate", "error", "notice",
  "pixel_size_um", "sigma_u_um", "sigma_v_um", "rho", "centre_u_um", "centre_v_um", "background", "peak",
  "chi2_reduced", "knife_sigma_um", "knife_sigma_gradient_um", "edge_angle_deg", "edge_step",
  "psf_sigma_um", "psf_sigma_err_um", "fwhm_um", "psf_sigma_u_um", "psf_sigma_v_um", "psf_rho",
  "psf_source", "compute_ms"];

// -- build -------------------------------------------------------------------------

/** A <select> bound to `trait`, inside a <label> that starts with `text`. */
function labelledSelect(model, trait, options, text) {
  const sel = traitSelect(model, trait, options);
  const label = h("label", { text }, sel.el);
  return { label, update: sel.update, off: sel.off };
}

/** The band half-width slider: its number follows the drag, the trait is sent on release. */
function buildBand(model) {
  const band = h("input", { type: "range", min: "1", max: "60", step: "1", dataset: { trait: "band_px" } });
  const out = h("span", { className: "srw-slider-value" });
  band.addEventListener("input", () => { out.textContent = band.value; });
  band.addEventListener("change", () => {
    model.set("band_px", Number(band.value));
    model.save_changes();
  });
  return { label: h("label", { text: "band ± (px)" }, band, out), band, out };
}

function buildToolbar(model) {
  const modes = h("div", { className: "srw-psf-modes" });
  const modeButtons = [["dot", "Dot scan (Fig. 3)"], ["knife", "Knife edge (Fig. 4)"]].map(([value, text]) => {
    const b = h("button", { type: "button", text, dataset: { mode: value } });
    b.addEventListener("click", () => {
      model.set("mode", value);
      model.save_changes();
    });
    modes.append(b);
    return b;
  });
  const cmap = labelledSelect(model, "colormap", [["viridis", "viridis"], ["gray", "gray"]], "colours");
  const estimate = labelledSelect(model, "knife_estimate",
    [["erf", "erf fit of the profile"], ["gradient", "Gaussian fit of the gradient (paper)"]], "PSF σ from");
  const band = buildBand(model);
  const el = h("div", { className: "srw-psf-toolbar" }, modes, cmap.label, band.label, estimate.label);
  return { el, modeButtons, cmap, estimate, band };
}

/** A titled map panel with its colour bar below: {p, t, c, bar}. */
function mapPanel(titleText, role) {
  const t = h("div", { className: "srw-panel-title", text: titleText });
  const c = makeCanvas(MAX_SIZE.dot, MAX_SIZE.dot);
  c.dataset.role = role;
  const bar = makeCanvas(MAX_SIZE.dot, BAR_H, "srw-colorbar");
  bar.dataset.role = `${role}-bar`;
  return { p: h("div", { className: "srw-panel" }, t, c, bar), t, c, bar };
}

/** Readout grid; rows = [[key, label, fn]]. Values carry data-key for tests. */
function readoutGrid(rows, title, extraClass = "") {
  return readouts(rows, { title, titleClass: "srw-psf-section", className: extraClass, initial: false });
}

function buildReadouts(model) {
  const g = (k) => model.get(k);
  const unit = () => (g("pixel_size_um") == null ? "px" : "µm");
  const fwhm = (s) => (s == null ? null : FWHM_PER_SIGMA * s);
  const lineLength = () => {
    const l = g("line");
    return l ? Math.hypot(l[1][0] - l[0][0], l[1][1] - l[0][1]) * (g("pixel_size_um") ?? 1) : null;
  };
  const dot = readoutGrid([
    ["sigma_u_um", "σu", () => `${pm(g("sigma_u_um"), g("sigma_u_err_um"))} ${unit()}`],
    ["sigma_v_um", "σv", () => `${pm(g("sigma_v_um"), g("sigma_v_err_um"))} ${unit()}`],
    ["rho", "ρ", () => pm(g("rho"), g("rho_err"), 3)],
    ["fwhm_uv", "FWHM u / v", () => `${fmt(fwhm(g("sigma_u_um")))} / ${fmt(fwhm(g("sigma_v_um")))} ${unit()}`],
    ["centre", "centre (u, v)", () => `(${fmt(g("centre_u_um"))}, ${fmt(g("centre_v_um"))}) ${unit()}`],
    ["background", "background β", () => `${fmt(g("background"))} counts`],
    ["peak", "peak above β", () => `${fmt(g("peak"))} counts`],
    ["chi2_reduced", "χ² / dof", () => fmt(g("chi2_reduced"), 3)],
  ], "Dot fit: g = α h(u, v) + β");
  const knife = readoutGrid([
    ["knife_sigma_um", "σ, erf fit of the profile", () => `${pm(g("knife_sigma_um"), g("knife_sigma_err_um"))} ${unit()}`],
    ["knife_sigma_gradient_um", "σ, Gaussian fit of the gradient", () => `${pm(g("knife_sigma_gradient_um"), g("knife_sigma_gradient_err_um"))} ${unit()}`],
    ["knife_fwhm", "FWHM erf / gradient", () => `${fmt(fwhm(g("knife_sigma_um")))} / ${fmt(fwhm(g("knife_sigma_gradient_um")))} ${unit()}`],
    ["edge_angle_deg", "edge normal angle", () => `${fmt(g("edge_angle_deg"), 3)}°`],
    ["edge_step", "step across the edge", () => `${fmt(g("edge_step"))} counts`],
    ["line_length", "line length", () => `${fmt(lineLength())} ${unit()}`],
  ], "Knife edge: profile ⟂ edge");
  const result = readoutGrid([
    ["psf_sigma_um", "PSF σ", () => `${pm(g("psf_sigma_um"), g("psf_sigma_err_um"))} ${unit()}`],
    ["fwhm_um", "PSF FWHM = 2.355 σ", () => `${fmt(g("fwhm_um"))} ${unit()}`],
    ["psf_uvr", "σu, σv, ρ", () => `${fmt(g("psf_sigma_u_um"))}, ${fmt(g("psf_sigma_v_um"))}, ${fmt(g("psf_rho"), 3)}`],
    ["psf_source", "from", () => g("psf_source") || "–"],
    ["compute_ms", "fit time", () => `${fmt(g("compute_ms"), 3)} ms`],
  ], "PSF result (→ deconvolution)", "srw-psf-result");
  const update = () => {
    for (const r of [dot, knife, result]) r.update();
  };
  return { dot, knife, result, update };
}

function build(model, el) {
  const status = statusLine(model);
  const toolbar = buildToolbar(model);
  const mapP = mapPanel("Map", "map");
  const hover = h("div", { className: "srw-psf-hover" });
  mapP.p.append(hover);
  const resP = mapPanel("Residual: data − fit (Fig. 3c)", "residual");
  const info = buildReadouts(model);
  const side = h("div", { className: "srw-panel srw-psf-side" }, info.dot.el, info.knife.el, info.result.el);
  const legend = h("div", { className: "srw-busy srw-psf-legend" });
  const fitting = h("div", { className: "srw-busy", role: "fit-progress" });
  el.appendChild(h("div", { className: "srw-root srw-psf-fit" }, status.el, toolbar.el, fitting,
    row([mapP.p, resP.p, side]), legend));
  return { status, toolbar, mapP, resP, hover, info, legend, fitting };
}

// -- draw ----------------------------------------------------------------------------

/** The fitted 1/2/3 σ ellipses ([k, n, 2] vertices), dashed differently, with σ labels. */
function drawEllipses(ctx, view, ell, { colour = "#fff", outline = true, labels = true } = {}) {
  if (ell?.shape.length !== 3) return;
  const [k, n] = ell.shape;
  const d = ell.data;
  const dashes = [[], [6, 4], [2, 3]];
  for (let j = 0; j < k; j++) {
    const path = () => {
      ctx.beginPath();
      for (let i = 0; i < n; i++) {
        const o = 2 * (j * n + i);
        if (i === 0) ctx.moveTo(view.px(d[o]), view.py(d[o + 1]));
        else ctx.lineTo(view.px(d[o]), view.py(d[o + 1]));
      }
      ctx.closePath();
    };
    const dash = dashes[j % 3];
    if (outline) strokePath(ctx, path, { colour, width: 1.5, dash, halo: HALO });
    else strokePath(ctx, path, { colour, width: 1, dash });
    if (!labels) continue;
    let best = 0; // label at the rightmost vertex
    for (let i = 1; i < n; i++) if (d[2 * (j * n + i)] > d[2 * (j * n + best)]) best = i;
    const o = 2 * (j * n + best);
    haloText(ctx, `${j + 1}σ`, view.px(d[o]) + 3, view.py(d[o + 1]), { colour, baseline: "middle" });
  }
}

/** The knife-edge line with an arrow (profile direction), its start point and its band. */
function drawLine(ctx, view, [[x0, y0], [x1, y1]], halfWidth, { colour = "#fff", preview = false } = {}) {
  const L = Math.hypot(x1 - x0, y1 - y0);
  const [X0, Y0] = view.at(x0, y0);
  const [X1, Y1] = view.at(x1, y1);
  if (L > 0) {
    const nx = (-(y1 - y0) / L) * halfWidth;
    const ny = ((x1 - x0) / L) * halfWidth;
    const corners = [[x0 + nx, y0 + ny], [x1 + nx, y1 + ny], [x1 - nx, y1 - ny], [x0 - nx, y0 - ny]];
    strokePath(ctx, () => {
      ctx.beginPath();
      corners.forEach(([x, y], i) => {
        if (i) ctx.lineTo(view.px(x), view.py(y));
        else ctx.moveTo(view.px(x), view.py(y));
      });
      ctx.closePath();
    }, { colour, width: 1, dash: [5, 4], halo: HALO });
  }
  strokePath(ctx, () => {
    ctx.beginPath();
    ctx.moveTo(X0, Y0);
    ctx.lineTo(X1, Y1);
  }, { colour, width: preview ? 1.5 : 2, halo: HALO });
  // the profile runs from the first point to the second
  arrowHead(ctx, X0, Y0, X1, Y1, { colour });
  dot(ctx, X0, Y0, 3.5, { fill: colour, stroke: HALO });
}

function noData(ctx, text) {
  ctx.fillStyle = "#666";
  ctx.font = "12px sans-serif";
  ctx.fillText(text, 10, 20);
}

/** The knife mode's overlay: the line being dragged, the fitted line, or a hint. */
function drawKnifeOverlay(ctx, view, model, drag) {
  const hw = model.get("band_px");
  const line = model.get("line");
  if (drag?.moved) drawLine(ctx, view, [[drag.x0, drag.y0], [drag.x1, drag.y1]], hw, { colour: "#ffd400", preview: true });
  else if (line) drawLine(ctx, view, line, hw, { colour: model.get("error") ? "#ff6b6b" : "#fff" });
  else haloText(ctx, "drag across an edge", 10, 22, { font: "bold 13px sans-serif", halo: "rgba(0,0,0,0.7)" });
}

function drawDotOverlay(ctx, view, model) {
  drawEllipses(ctx, view, decodeArray(model.get("ellipses")));
  const cu = model.get("centre_u_um");
  const cv = model.get("centre_v_um");
  const p = model.get("pixel_size_um") ?? 1;
  if (cu != null && cv != null) cross(ctx, ...view.at(cu / p, cv / p), 6, { colour: "#fff", halo: HALO });
}

/** Size both panels and their bars for an image of `arr`'s shape; the pixel view they share. */
function layoutPanels(ui, model, arr) {
  const [ny, nx] = arr.shape;
  const max = MAX_SIZE[model.get("mode")] || MAX_SIZE.dot;
  const [W, H] = fitSize(ny, nx, max, max, 60, 60);
  for (const P of [ui.mapP, ui.resP]) {
    if (P.c._cssW !== W || P.c._cssH !== H) resizeCanvas(P.c, W, H);
    if (P.bar._cssW !== W) resizeCanvas(P.bar, W, BAR_H);
  }
  return new PixelView(nx, ny, W, H);
}

/** The map (recoloured when the image, colormap or mode changed) with the mode's overlay. */
function drawMapPanel(ui, model, s) {
  const c = ui.mapP.c;
  const ctx = clearCanvas(c);
  const arr = decodeArray(model.get("image"));
  if (!arr) {
    noData(ctx, "no image");
    s.view = null;
    return;
  }
  const cmap = model.get("colormap");
  const mode = model.get("mode");
  if (s.imageDirty || !s.map || s.map.cmap !== cmap || s.map.mode !== mode) {
    s.view = layoutPanels(ui, model, arr);
    const [ny, nx] = arr.shape;
    const range = robustRange(arr.data, 0.001, 0.999) || [0, 1];
    s.map = { img: arrayToImage(arr.data, ny, nx, { vmin: range[0], vmax: range[1], cmap }), cmap, mode, arr };
    s.imageDirty = false;
    s.residualDirty = true; // the canvases may have been resized
    drawColorbar(ui.mapP.bar, cmap, range[0], range[1], { caption: "counts" });
  }
  ctx.imageSmoothingEnabled = s.view.s < 1;
  ctx.drawImage(s.map.img, ...s.view.imageRect());
  c.dataset.mode = mode;
  if (mode === "dot") drawDotOverlay(ctx, s.view, model);
  else drawKnifeOverlay(ctx, s.view, model, s.drag);
}

/** The residual data − fit on a symmetric red-blue scale, with the ellipses. */
function drawResidualPanel(ui, model, s) {
  const ctx = clearCanvas(ui.resP.c);
  const res = decodeArray(model.get("residual"));
  const v = s.view;
  if (!res || !v || res.shape[0] !== v.ny || res.shape[1] !== v.nx) {
    noData(ctx, "no residual yet");
    return;
  }
  if (s.residualDirty || !s.res) {
    const [ny, nx] = res.shape;
    const r = robustRange(Float32Array.from(res.data, Math.abs), 0, 0.995);
    const m = r ? Math.max(r[1], 1e-12) : 1;
    s.res = { img: arrayToImage(res.data, ny, nx, { vmin: -m, vmax: m, cmap: "rdbu" }) };
    s.residualDirty = false;
    drawColorbar(ui.resP.bar, "rdbu", -m, m, { caption: "counts (data − fit)" });
  }
  ctx.imageSmoothingEnabled = v.s < 1;
  ctx.drawImage(s.res.img, ...v.imageRect());
  drawEllipses(ctx, v, decodeArray(model.get("ellipses")), { colour: "rgba(0,0,0,0.6)", outline: false, labels: false });
}

// -- bind and interact ------------------------------------------------------------------

/** Mode-dependent visibility, titles, the band slider and the menus. */
function updateControls(ui, model) {
  const mode = model.get("mode");
  const knife = mode === "knife";
  const { toolbar: tb } = ui;
  for (const b of tb.modeButtons) b.classList.toggle("srw-active", b.dataset.mode === mode);
  tb.band.label.style.display = knife ? "" : "none";
  tb.estimate.label.style.display = knife ? "" : "none";
  ui.resP.p.style.display = knife ? "none" : "";
  ui.info.dot.el.style.display = knife ? "none" : "";
  ui.info.knife.el.style.display = knife ? "" : "none";
  ui.mapP.t.textContent = knife
    ? "Map: drag a line across an edge (Fig. 4a)"
    : "Map with the fitted ±1σ, ±2σ, ±3σ ellipses (Fig. 3a)";
  tb.band.band.value = String(model.get("band_px"));
  tb.band.out.textContent = fmt(model.get("band_px"), 3);
  tb.cmap.update();
  tb.estimate.update();
  ui.legend.textContent = knife ? LEGEND.knife : LEGEND.dot;
}

/** Knife mode: drag a line on the map (sent on release); any mode: the hover readout. */
function interactMap(ui, model, s, redraw) {
  const canvas = ui.mapP.c;
  const toData = (ev) => {
    const r = canvas.getBoundingClientRect();
    return s.view.clamp(s.view.dataX(ev.clientX - r.left), s.view.dataY(ev.clientY - r.top));
  };
  canvas.addEventListener("pointerdown", (ev) => {
    if (model.get("mode") !== "knife" || !s.view || ev.button !== 0) return;
    ev.preventDefault();
    const [x, y] = toData(ev);
    s.drag = { x0: x, y0: y, x1: x, y1: y, sx: ev.clientX, sy: ev.clientY, moved: false };
    try {
      canvas.setPointerCapture(ev.pointerId);
    } catch {
      /* synthetic events have no capturable pointer */
    }
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!s.view) return;
    const [x, y] = toData(ev);
    if (s.drag) {
      Object.assign(s.drag, { x1: x, y1: y });
      if (Math.hypot(ev.clientX - s.drag.sx, ev.clientY - s.drag.sy) > 3) s.drag.moved = true;
      redraw();
    }
    if (s.map?.arr) ui.hover.textContent = hoverText(s.map.arr, x, y, model.get("pixel_size_um"));
  });
  const onUp = () => {
    if (!s.drag) return;
    const d = s.drag;
    s.drag = null;
    if (d.moved) {
      const r2 = (v) => Math.round(v * 100) / 100;
      model.set("line", [[r2(d.x0), r2(d.y0)], [r2(d.x1), r2(d.y1)]]);
      model.save_changes();
    }
    redraw();
  };
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("pointercancel", onUp);
  canvas.addEventListener("pointerleave", () => { ui.hover.textContent = ""; });
}

function hoverText(arr, x, y, p) {
  const c = Math.round(x);
  const r = Math.round(y);
  const pos = p == null ? "" : ` = (${fmt(c * p)}, ${fmt(r * p)}) µm`;
  return `pixel x=${c}, y=${r}${pos}: ${fmt(arr.data[r * arr.shape[1] + c], 5)} counts`;
}

function render({ model, el }) {
  ensureStyle();
  injectStyle("srw-psf-style", CSS);
  const ui = build(model, el);
  // the cached images, the pixel view shared by both panels and the pointer, the line being dragged
  const s = { view: null, map: null, res: null, imageDirty: true, residualDirty: true, drag: null };
  const frame = frameScheduler(() => drawOrReport(ui.status, () => {
    updateControls(ui, model);
    drawMapPanel(ui, model, s);
    if (model.get("mode") === "dot") drawResidualPanel(ui, model, s);
    ui.info.update();
  }));
  interactMap(ui, model, s, frame.request);
  const onImage = () => {
    s.imageDirty = true;
    ui.hover.textContent = "";
    frame.request();
  };
  const onResidual = () => {
    s.residualDirty = true;
    frame.request();
  };
  model.on("change:image", onImage);
  model.on("change:residual", onResidual);
  const offRedraw = onTraits(model, REDRAW_TRAITS, frame.request);
  // the dot fit runs in the background: its progress, while the page keeps working
  const showFitting = () => {
    const busy = model.get("busy");
    ui.fitting.textContent = busy ? `fitting the dot scan… ${Math.round(100 * (model.get("progress") || 0))} %` : "";
  };
  const offFitting = onTraits(model, ["busy", "progress"], showFitting);
  showFitting();
  frame.now();
  return () => {
    model.off("change:image", onImage);
    model.off("change:residual", onResidual);
    offRedraw();
    offFitting();
  };
}

export default { render };
