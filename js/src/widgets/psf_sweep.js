// PSFSweep front-end (seed 001, Fig. 7-8).
// Python restores the map for every PSF sigma in a background thread and
// keeps every restored image; this module shows the sweep's progress, a
// strip of thumbnails (one per sigma, click to select: Fig. 7), and the raw
// map beside the selected sigma's restored image with their metrics. The
// selected image arrives as one binary float32 buffer; nothing is
// recomputed when a sigma is selected. The MSE/SSIM/lp-per-mm plots (Fig. 8)
// are Bokeh figures placed below this view by Python.
import { decodeArray } from "../lib/arrays.js";
import { makeCanvas, resizeCanvas, renderArray } from "../lib/canvas.js";
import { COLORMAPS } from "../lib/colormap.js";
import { statusLine, ensureStyle } from "../lib/controls.js";
import {
  fmt, fmtUm, methodControls, progressBar, fitSize, tableFor, blit, drawColorbar,
  traitSelect, ensureWidgetStyle,
} from "../lib/xrf_controls.js";

const BOX_W = 330;
const BOX_H = 520;
const THUMB_H = 64;

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

function chipBadges(best, s) {
  const out = [];
  const eq = (a) => a != null && Math.abs(a - s) < 1e-6;
  if (eq(best.mse)) out.push("MSE");
  if (eq(best.ssim)) out.push("SSIM");
  if ((best.lp_per_mm || []).some(eq)) out.push("lp");
  return out;
}

function render({ model, el }) {
  ensureStyle();
  ensureWidgetStyle("srw-psf-sweep-style", CSS);
  const root = document.createElement("div");
  root.className = "srw-root srw-psf-sweep";
  const status = statusLine(model);

  const title = document.createElement("div");
  title.className = "srw-panel-title";
  title.textContent = "PSF sweep: the restored map against the PSF σ (Fig. 7–8)";

  // controls
  const controls = methodControls(model);
  const cmap = traitSelect(model, "colormap", COLORMAPS.filter((c) => c !== "rdbu").map((c) => [c, c]));
  const cmapRow = document.createElement("div");
  cmapRow.className = "srw-toolbar";
  cmapRow.append("colormap ", cmap.el);
  controls.el.append(cmapRow);

  // progress
  const prog = progressBar("progress");

  // thumbnail strip (one chip per sigma)
  const strip = document.createElement("div");
  strip.className = "srw-sweep-strip";
  strip.dataset.role = "sigmas";
  const hint = document.createElement("div");
  hint.className = "srw-busy";
  hint.textContent = "Click a σ here, or a point in the plots below, to show its restored image (no recomputation). "
    + "Badges and ★ mark the best σ by MSE, SSIM and resolution; dashed lines in the plots are the raw map.";

  // images
  const rawCanvas = makeCanvas(BOX_W, BOX_H);
  rawCanvas.dataset.role = "raw";
  const restCanvas = makeCanvas(BOX_W, BOX_H);
  restCanvas.dataset.role = "restored";
  const bar = makeCanvas(BOX_W, 26, "srw-colorbar");
  const rawTitle = document.createElement("div");
  rawTitle.className = "srw-image-title";
  rawTitle.textContent = "raw map";
  const restTitle = document.createElement("div");
  restTitle.className = "srw-image-title";
  restTitle.dataset.role = "restored-title";
  const rawPanel = document.createElement("div");
  rawPanel.className = "srw-panel";
  rawPanel.append(rawTitle, rawCanvas);
  const restPanel = document.createElement("div");
  restPanel.className = "srw-panel";
  restPanel.append(restTitle, restCanvas, bar);

  const table = document.createElement("table");
  table.className = "srw-metrics";
  table.dataset.role = "metrics";
  const side = document.createElement("div");
  side.className = "srw-panel";
  side.append(controls.el, prog.wrap, prog.text, table);

  const imgRow = document.createElement("div");
  imgRow.className = "srw-row";
  imgRow.append(rawPanel, restPanel, side);
  root.append(status.el, title, imgRow, hint, strip);
  el.appendChild(root);

  let cssW = BOX_W;
  let cssH = BOX_H;
  let shapeKey = "";
  let rawImg = null;
  let restImg = null;
  let thumbImgs = new Map(); // sigma -> offscreen canvas

  const fitCanvases = (ny, nx) => {
    const key = `${ny}x${nx}`;
    if (key === shapeKey) return;
    shapeKey = key;
    [cssW, cssH] = fitSize(ny, nx, BOX_W, BOX_H);
    resizeCanvas(rawCanvas, cssW, cssH);
    resizeCanvas(restCanvas, cssW, cssH);
    resizeCanvas(bar, cssW, 26);
  };

  const rebuildImages = () => {
    const [lo, hi] = model.get("_range");
    const table_ = tableFor(model.get("colormap"));
    const raw = decodeArray(model.get("_raw"));
    rawImg = null;
    if (raw) {
      const [ny, nx] = raw.shape;
      fitCanvases(ny, nx);
      rawImg = renderArray(raw.data, ny, nx, { vmin: lo, vmax: hi, table: table_ }).canvas;
    }
    const rest = decodeArray(model.get("_restored"));
    restImg = rest ? renderArray(rest.data, rest.shape[0], rest.shape[1], { vmin: lo, vmax: hi, table: table_ }).canvas : null;
    drawColorbar(bar, cssW, 26, table_, lo, hi);
  };

  const rebuildThumbs = () => {
    thumbImgs = new Map();
    const arr = decodeArray(model.get("_thumbs"));
    const sig = model.get("_thumb_sigmas") || [];
    if (!arr) return;
    const [n, ny, nx] = arr.shape;
    const table_ = tableFor(model.get("colormap"));
    for (let i = 0; i < Math.min(n, sig.length); i++) {
      thumbImgs.set(sig[i], renderArray(arr.data, ny, nx, { vmin: 0, vmax: 255, table: table_, offset: i * ny * nx }).canvas);
    }
  };

  const drawImages = () => {
    blit(rawCanvas, rawImg, cssW, cssH);
    blit(restCanvas, restImg, cssW, cssH, "#f4f4f4");
    if (!restImg) {
      const ctx = restCanvas.getContext("2d");
      ctx.fillStyle = "#777";
      ctx.font = "12px sans-serif";
      ctx.fillText(model.get("busy") ? "restoring…" : "no σ restored yet", 10, 20);
    }
    const s = model.get("shown_sigma_um");
    restTitle.textContent = s == null ? "restored" : `restored, σ = ${fmtUm(s)} µm`;
  };

  const drawStrip = () => {
    const sigmas = model.get("sigmas_um") || [];
    const done = new Set((model.get("done_sigmas") || []).map((v) => v.toFixed(6)));
    const current = model.get("current_sigma_um");
    const shown = model.get("shown_sigma_um");
    const selected = model.get("selected_sigma_um");
    const best = model.get("best") || {};
    strip.replaceChildren();
    for (const s of sigmas) {
      const chip = document.createElement("button");
      chip.className = "srw-sigma-chip";
      chip.dataset.sigma = String(s);
      const isDone = done.has(s.toFixed(6));
      if (!isDone) chip.classList.add("srw-pending");
      if (current != null && Math.abs(current - s) < 1e-6) chip.classList.add("srw-current");
      const sel = selected != null ? selected : shown;
      if (sel != null && Math.abs(sel - s) < 1e-6) chip.classList.add("srw-selected");
      const img = thumbImgs.get(s);
      const [tw, th] = img ? fitSize(img.height, img.width, 120, THUMB_H, 20) : [24, THUMB_H];
      const c = makeCanvas(tw, th, "srw-thumb");
      blit(c, img || null, tw, th, "#eee");
      const label = document.createElement("span");
      label.textContent = `${fmtUm(s)} µm`;
      const badges = document.createElement("span");
      badges.className = "srw-badges";
      for (const b of chipBadges(best, s)) {
        const t = document.createElement("span");
        t.className = "srw-badge";
        t.textContent = b;
        badges.append(t);
      }
      chip.append(c, label, badges);
      chip.title = isDone ? `show the image restored with σ = ${s} µm` : "not restored yet";
      chip.addEventListener("click", () => {
        model.set("selected_sigma_um", s);
        model.save_changes();
      });
      strip.append(chip);
    }
  };

  const drawTable = () => {
    const m = model.get("selected_metrics") || {};
    const r = model.get("raw_metrics") || {};
    const s = model.get("shown_sigma_um");
    const res = (x) => (!x.element ? "–" : x.element === "none" ? "none" : `${x.element} (${fmt(x.lp_per_mm, 3)} lp/mm)`);
    const rows = [
      ["", "raw", s == null ? "restored" : `σ = ${fmtUm(s)} µm`],
      ["MSE", fmt(r.mse, 3), fmt(m.mse, 3)],
      ["SSIM", fmt(r.ssim, 3), fmt(m.ssim, 3)],
      ["resolved", res(r), res(m)],
      ["time per σ (s)", "", fmt(model.get("seconds_per_sigma"), 2)],
    ];
    table.replaceChildren();
    rows.forEach((cells, i) => {
      const tr = document.createElement("tr");
      for (const c of cells) {
        const td = document.createElement(i === 0 ? "th" : "td");
        td.textContent = c;
        tr.append(td);
      }
      table.append(tr);
    });
  };

  const drawProgress = () => {
    const busy = model.get("busy");
    const p = model.get("progress");
    const label = `${model.get("status") || ""}${busy ? ` · ${Math.round(100 * p)} %` : ""}`;
    prog.set(p, label, busy);
  };

  let frame = 0;
  const dirty = { images: true, thumbs: true };
  const draw = () => {
    frame = 0;
    if (dirty.images) rebuildImages();
    if (dirty.thumbs) rebuildThumbs();
    dirty.images = dirty.thumbs = false;
    drawImages();
    drawStrip();
    drawTable();
    drawProgress();
  };
  const schedule = (what) => () => {
    if (what) for (const w of what) dirty[w] = true;
    if (!frame) frame = requestAnimationFrame(draw);
  };

  const handlers = [
    [["_raw", "_restored", "_range"], schedule(["images"])],
    [["_thumbs", "_thumb_sigmas"], schedule(["thumbs"])],
    [["colormap"], schedule(["images", "thumbs"])],
    [["sigmas_um", "done_sigmas", "current_sigma_um", "shown_sigma_um", "selected_sigma_um", "best",
      "selected_metrics", "raw_metrics", "seconds_per_sigma", "busy"], schedule(null)],
  ];
  for (const [traits, fn] of handlers) for (const t of traits) model.on(`change:${t}`, fn);
  const onProgress = () => drawProgress();
  model.on("change:progress", onProgress);
  model.on("change:status", onProgress);
  draw();
  return () => {
    for (const [traits, fn] of handlers) for (const t of traits) model.off(`change:${t}`, fn);
    model.off("change:progress", onProgress);
    model.off("change:status", onProgress);
    controls.off();
    cmap.off();
    if (frame) cancelAnimationFrame(frame);
  };
}

export default { render };
