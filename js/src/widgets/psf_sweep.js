// PSFSweep front-end (seed 001, Fig. 7-8).
// Python restores the map for every PSF sigma in a background thread and
// keeps every restored image; this module shows the sweep's progress, a
// strip of thumbnails (one per sigma, click to select: Fig. 7), and the raw
// map beside the selected sigma's restored image with their metrics. The
// selected image arrives as one binary float32 buffer; nothing is
// recomputed when a sigma is selected. The MSE/SSIM/lp-per-mm plots (Fig. 8)
// are Bokeh figures placed below this view by Python.
// build* make the DOM, draw* paint a frame, bind connects it to the model.
import { decodeArray } from "../lib/arrays.js";
import { onTraits } from "../lib/bind.js";
import { blit, makeCanvas, renderArray, resizeCanvas } from "../lib/canvas.js";
import { drawColorbar } from "../lib/colorbar.js";
import { COLORMAPS } from "../lib/colormap.js";
import { ensureStyle, statusLine, traitSelect } from "../lib/controls.js";
import { fillTable, h, row } from "../lib/dom.js";
import { fmtFixed, fmtUm } from "../lib/format.js";
import { injectStyle } from "../lib/style.js";
import { fitSize } from "../lib/view.js";
import { methodControls, progressBar, tableFor, XRF_BAR } from "../lib/xrf_controls.js";

const BOX_W = 330;
const BOX_H = 520;
const THUMB_H = 64;
const HINT = "Click a σ here, or a point in the plots below, to show its restored image (no recomputation). "
  + "Badges and ★ mark the best σ by MSE, SSIM and resolution; dashed lines in the plots are the raw map.";
const CSS = `
.srw-psf-sweep .srw-sweep-strip { display: flex; flex-wrap: wrap; gap: 4px; margin: 6px 0; }
.srw-psf-sweep .srw-sigma-chip { display: flex; flex-direction: column; align-items: center; gap: 1px; padding: 2px;
  border: 2px solid transparent; border-radius: 4px; background: var(--jp-layout-color2, #f3f3f3); cursor: pointer;
  font: inherit; font-size: 11px; color: inherit; min-width: 40px; }
.srw-psf-sweep .srw-sigma-chip:hover { border-color: var(--jp-border-color1, #999); }
.srw-psf-sweep .srw-sigma-chip.srw-pending { opacity: 0.45; }
.srw-psf-sweep .srw-sigma-chip.srw-current { border-color: #ff9800; border-style: dashed; opacity: 0.8; }
.srw-psf-sweep .srw-sigma-chip.srw-selected { border-color: #d62728; background: #fde8e8; }
.srw-psf-sweep .srw-sigma-chip canvas { display: block; background: #fff; }
.srw-psf-sweep .srw-badges { display: flex; gap: 2px; min-height: 12px; }
.srw-psf-sweep .srw-badge { font-size: 9px; padding: 0 3px; border-radius: 2px; background: #ff7f0e; color: #fff; }
.srw-psf-sweep .srw-image-title { font-weight: 600; min-height: 1.4em; }
`;

const near = (a, s) => a != null && Math.abs(a - s) < 1e-6;

function chipBadges(best, s) {
  const out = [];
  if (near(best.mse, s)) out.push("MSE");
  if (near(best.ssim, s)) out.push("SSIM");
  if ((best.lp_per_mm || []).some((a) => near(a, s))) out.push("lp");
  return out;
}

// -- build -------------------------------------------------------------------------

function build(model, el) {
  const status = statusLine(model);
  const controls = methodControls(model);
  const cmap = traitSelect(model, "colormap", COLORMAPS.filter((c) => c !== "rdbu").map((c) => [c, c]));
  controls.el.append(h("div", { className: "srw-toolbar" }, "colormap ", cmap.el));
  const prog = progressBar("progress");
  const strip = h("div", { className: "srw-sweep-strip", role: "sigmas" });
  const rawCanvas = makeCanvas(BOX_W, BOX_H);
  rawCanvas.dataset.role = "raw";
  const restCanvas = makeCanvas(BOX_W, BOX_H);
  restCanvas.dataset.role = "restored";
  const bar = makeCanvas(BOX_W, 26, "srw-colorbar");
  const rawTitle = h("div", { className: "srw-image-title", text: "raw map" });
  const restTitle = h("div", { className: "srw-image-title", role: "restored-title" });
  const table = h("table", { className: "srw-metrics", role: "metrics" });
  const panels = [
    h("div", { className: "srw-panel" }, rawTitle, rawCanvas),
    h("div", { className: "srw-panel" }, restTitle, restCanvas, bar),
    h("div", { className: "srw-panel" }, controls.el, prog.wrap, prog.text, table),
  ];
  const title = h("div", { className: "srw-panel-title", text: "PSF sweep: the restored map against the PSF σ (Fig. 7–8)" });
  const hint = h("div", { className: "srw-busy", text: HINT });
  el.appendChild(h("div", { className: "srw-root srw-psf-sweep" }, status.el, title, row(panels), hint, strip));
  return { controls, cmap, prog, strip, rawCanvas, restCanvas, bar, restTitle, table };
}

/** One σ chip: its thumbnail, "σ µm" and its best-of badges; a click selects the σ. */
function buildChip(model, s, img, { done, current, selected }, best) {
  const chip = h("button", { className: "srw-sigma-chip", dataset: { sigma: String(s) } });
  if (!done) chip.classList.add("srw-pending");
  if (current) chip.classList.add("srw-current");
  if (selected) chip.classList.add("srw-selected");
  const [tw, th] = img ? fitSize(img.height, img.width, 120, THUMB_H, 20, 40) : [24, THUMB_H];
  const c = makeCanvas(tw, th, "srw-thumb");
  blit(c, img || null, tw, th, "#eee");
  const badges = h("span", { className: "srw-badges" }, ...chipBadges(best, s).map((b) => h("span", { className: "srw-badge", text: b })));
  chip.append(c, h("span", { text: `${fmtUm(s)} µm` }), badges);
  chip.title = done ? `show the image restored with σ = ${s} µm` : "not restored yet";
  chip.addEventListener("click", () => {
    model.set("selected_sigma_um", s);
    model.save_changes();
  });
  return chip;
}

// -- images ------------------------------------------------------------------------

/** Raw / selected images and thumbnails, coloured with the sweep's common range. */
function imageStore(ui, model) {
  const st = { cssW: BOX_W, cssH: BOX_H, shapeKey: "", raw: null, rest: null, thumbs: new Map() };
  const fitCanvases = (ny, nx) => {
    const key = `${ny}x${nx}`;
    if (key === st.shapeKey) return;
    st.shapeKey = key;
    [st.cssW, st.cssH] = fitSize(ny, nx, BOX_W, BOX_H, 80, 40);
    resizeCanvas(ui.rawCanvas, st.cssW, st.cssH);
    resizeCanvas(ui.restCanvas, st.cssW, st.cssH);
    resizeCanvas(ui.bar, st.cssW, 26);
  };
  st.rebuildImages = () => {
    const [lo, hi] = model.get("_range");
    const table = tableFor(model.get("colormap"));
    const raw = decodeArray(model.get("_raw"));
    st.raw = null;
    if (raw) {
      const [ny, nx] = raw.shape;
      fitCanvases(ny, nx);
      st.raw = renderArray(raw.data, ny, nx, { vmin: lo, vmax: hi, table }).canvas;
    }
    const rest = decodeArray(model.get("_restored"));
    st.rest = rest ? renderArray(rest.data, rest.shape[0], rest.shape[1], { vmin: lo, vmax: hi, table }).canvas : null;
    drawColorbar(ui.bar, table, lo, hi, XRF_BAR);
  };
  st.rebuildThumbs = () => {
    st.thumbs = new Map();
    const arr = decodeArray(model.get("_thumbs"));
    const sig = model.get("_thumb_sigmas") || [];
    if (!arr) return;
    const [n, ny, nx] = arr.shape;
    const table = tableFor(model.get("colormap"));
    for (let i = 0; i < Math.min(n, sig.length); i++) {
      st.thumbs.set(sig[i], renderArray(arr.data, ny, nx, { vmin: 0, vmax: 255, table, offset: i * ny * nx }).canvas);
    }
  };
  return st;
}

// -- draw ----------------------------------------------------------------------------

function drawImages(ui, model, st) {
  blit(ui.rawCanvas, st.raw, st.cssW, st.cssH);
  blit(ui.restCanvas, st.rest, st.cssW, st.cssH, "#f4f4f4");
  if (!st.rest) {
    const ctx = ui.restCanvas.getContext("2d");
    ctx.fillStyle = "#777";
    ctx.font = "12px sans-serif";
    ctx.fillText(model.get("busy") ? "restoring…" : "no σ restored yet", 10, 20);
  }
  const s = model.get("shown_sigma_um");
  ui.restTitle.textContent = s == null ? "restored" : `restored, σ = ${fmtUm(s)} µm`;
}

function drawStrip(ui, model, st) {
  const done = new Set((model.get("done_sigmas") || []).map((v) => v.toFixed(6)));
  const current = model.get("current_sigma_um");
  const selected = model.get("selected_sigma_um") ?? model.get("shown_sigma_um");
  const best = model.get("best") || {};
  const chips = (model.get("sigmas_um") || []).map((s) => buildChip(model, s, st.thumbs.get(s),
    { done: done.has(s.toFixed(6)), current: near(current, s), selected: near(selected, s) }, best));
  ui.strip.replaceChildren(...chips);
}

function metricRows(model) {
  const m = model.get("selected_metrics") || {};
  const r = model.get("raw_metrics") || {};
  const s = model.get("shown_sigma_um");
  const f = (v, d = 3) => fmtFixed(v, d);
  const res = (x) => (!x.element ? "–" : x.element === "none" ? "none" : `${x.element} (${f(x.lp_per_mm)} lp/mm)`);
  return [
    ["", "raw", s == null ? "restored" : `σ = ${fmtUm(s)} µm`],
    ["MSE", f(r.mse), f(m.mse)],
    ["SSIM", f(r.ssim), f(m.ssim)],
    ["resolved", res(r), res(m)],
    ["time per σ (s)", "", f(model.get("seconds_per_sigma"), 2)],
  ];
}

function drawProgress(ui, model) {
  const busy = model.get("busy");
  const p = model.get("progress");
  ui.prog.set(p, `${model.get("status") || ""}${busy ? ` · ${Math.round(100 * p)} %` : ""}`, busy);
}

// -- bind ----------------------------------------------------------------------------

function render({ model, el }) {
  ensureStyle();
  injectStyle("srw-psf-sweep-style", CSS);
  const ui = build(model, el);
  const st = imageStore(ui, model);
  let frame = 0;
  const dirty = { images: true, thumbs: true };
  const draw = () => {
    frame = 0;
    if (dirty.images) st.rebuildImages();
    if (dirty.thumbs) st.rebuildThumbs();
    dirty.images = dirty.thumbs = false;
    drawImages(ui, model, st);
    drawStrip(ui, model, st);
    fillTable(ui.table, metricRows(model));
    drawProgress(ui, model);
  };
  const schedule = (what) => () => {
    for (const w of what) dirty[w] = true;
    if (!frame) frame = requestAnimationFrame(draw);
  };
  const offs = [
    onTraits(model, ["_raw", "_restored", "_range"], schedule(["images"])),
    onTraits(model, ["_thumbs", "_thumb_sigmas"], schedule(["thumbs"])),
    onTraits(model, ["colormap"], schedule(["images", "thumbs"])),
    onTraits(model, ["sigmas_um", "done_sigmas", "current_sigma_um", "shown_sigma_um", "selected_sigma_um", "best",
      "selected_metrics", "raw_metrics", "seconds_per_sigma", "busy"], schedule([])),
    onTraits(model, ["progress", "status"], () => drawProgress(ui, model)),
  ];
  draw();
  return () => {
    for (const off of offs) off();
    ui.controls.off();
    ui.cmap.off();
    if (frame) cancelAnimationFrame(frame);
  };
}

export default { render };
