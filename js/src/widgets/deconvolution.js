// DeconvolutionExplorer front-end (seed 001, Fig. 5-7).
// Python restores (background thread, newest parameters win) and streams
// frames as binary float32 buffers; this module draws them. Frames come at
// display resolution: the visible window (`view_box`) of the restored map
// (`restored_view`) and of the raw map (`raw_view`) resampled to the device
// pixels the canvas draws them at; zoomed in, the exact full-resolution crop.
// The page reports its view (`display`, debounced) after zoom and pan; until
// the new window arrives the whole-map frame (the overview) is drawn beneath.
// The swipe curtain is client-side and sends nothing to the kernel. The hover
// readout and the line profile show full-resolution values: the raw map is in
// the page (`image`), restored values come from the frame when it is at full
// resolution, otherwise from Python (a `probe` message).
// The method menu and the parameter sliders are drawn from Python's
// ``method_table`` (the restoration-method registry), not from a table here.
// build* make the DOM, draw* paint a frame, bind* / interact* connect it to
// the model and the pointer.
import { decodeArray } from "../lib/arrays.js";
import { clearCanvas, eventPos, makeCanvas, renderArray } from "../lib/canvas.js";
import { COLORMAPS } from "../lib/colormap.js";
import { ensureStyle, statusLine, traitSelect } from "../lib/controls.js";
import { button, fillTable, h, row } from "../lib/dom.js";
import { fmtFixed } from "../lib/format.js";
import { dot, tag } from "../lib/markers.js";
import { percentiles } from "../lib/range.js";
import { injectStyle } from "../lib/style.js";
import { displaySender } from "../lib/display_window.js";
import { PixelView } from "../lib/view.js";
import { methodControls } from "../lib/xrf_controls.js";

// sized so that the image and its controls sit side by side in a notebook
// at 1280 x 800 with JupyterLab's file browser open (~800 px of cell width)
const W = 460;
const H = 400;
const SIDE_W = 300;
const CSS = `
.srw-deconvolution .srw-decon-row { display: flex; flex-wrap: nowrap; gap: 10px; align-items: flex-start; }
.srw-deconvolution .srw-decon-side { flex: 0 0 ${SIDE_W}px; width: ${SIDE_W}px; min-width: 0; }
.srw-deconvolution .srw-decon-side .srw-controls { grid-template-columns: max-content minmax(60px, 1fr) max-content; }
.srw-deconvolution .srw-decon-side .srw-controls input[type=range] { width: 100%; min-width: 0; max-width: none; }
.srw-deconvolution .srw-hover { font-variant-numeric: tabular-nums; font-size: 12px; min-height: 16px; color: var(--jp-ui-font-color1, #222); }
.srw-deconvolution .srw-stale { opacity: 0.45; }
.srw-deconvolution .srw-stale-note { color: #7a5200; font-size: 12px; }
.srw-deconvolution .srw-note { color: var(--jp-ui-font-color2, #555); font-size: 12px; max-width: ${SIDE_W}px; }
.srw-deconvolution .srw-psf-box { font-size: 12px; margin: 4px 0; }
`;
const MODES = [["swipe", "swipe"], ["side", "side by side"], ["diff", "difference"]];
const HINT = "wheel: zoom · drag: pan · drag the white bar: curtain · shift+drag: line profile";

// Timing hook for performance tests: inert unless the page defines window.__srwTrace = [].
function trace(what) {
  if (Array.isArray(window.__srwTrace)) window.__srwTrace.push([what, performance.now()]);
}

// -- build -------------------------------------------------------------------------

/** The two contrast sliders (percentiles of the raw map), sent as the `contrast` trait. */
function buildContrast(model) {
  const make = (role, idx) =>
    h("input", { type: "range", min: "0", max: "100", step: "0.5", className: "srw-contrast", role, value: String(model.get("contrast")[idx]) });
  const lo = make("contrast-low", 0);
  const hi = make("contrast-high", 1);
  const send = () => {
    const c = [Number(lo.value), Number(hi.value)];
    if (c[0] >= c[1]) return;
    model.set("contrast", c);
    model.save_changes();
  };
  lo.addEventListener("input", send);
  hi.addEventListener("input", send);
  return { lo, hi };
}

function buildToolbar(model, onReset) {
  const el = h("div", { className: "srw-toolbar" });
  const modeButtons = {};
  for (const [m, label] of MODES) {
    modeButtons[m] = button(label, () => { model.set("mode", m); model.save_changes(); });
    modeButtons[m].dataset.mode = m;
    el.append(modeButtons[m]);
  }
  const cmap = traitSelect(model, "colormap", COLORMAPS.filter((c) => c !== "rdbu").map((c) => [c, c])).el;
  const contrast = buildContrast(model);
  el.append(" colormap ", cmap, " contrast ", contrast.lo, contrast.hi, button("reset view", onReset));
  return { el, modeButtons, contrast };
}

function buildCanvases() {
  const canvas = (w, hgt, role, className) => {
    const c = makeCanvas(w, hgt, className);
    c.dataset.role = role;
    return c;
  };
  const left = canvas(W / 2 - 2, H, "left");
  const right = canvas(W / 2 - 2, H, "right");
  return {
    main: canvas(W, H, "main"),
    left,
    right,
    sideBox: row([left, right], { gap: "4px" }),
    profile: canvas(W, 110, "profile", "srw-canvas srw-profile"),
  };
}

/** PSF image indicator and the blind method's "use this kernel" / "use its σ" buttons. */
function buildPsfBox(model) {
  const send = (action) => model.send({ action });
  const label = h("span");
  const back = button("use the Gaussian", () => send("gaussian_psf"));
  const kernelBtn = button("use this kernel", () => send("use_kernel"));
  const sigmaBtn = button("use its σ", () => send("use_sigma"));
  kernelBtn.dataset.role = "use-kernel";
  sigmaBtn.dataset.role = "use-sigma";
  const el = h("div", { className: "srw-psf-box", role: "psf-box" }, label, back, kernelBtn, sigmaBtn);
  const update = () => {
    const img = model.get("psf_label");
    const blind = model.get("method") === "blind_l0" && model.get("estimated_kernel") != null;
    label.textContent = img ? `PSF: ${img} (image; the σ sliders are not used) ` : "";
    back.style.display = img ? "" : "none";
    kernelBtn.style.display = blind ? "" : "none";
    sigmaBtn.style.display = blind && model.get("estimated_sigma_um") != null ? "" : "none";
    el.style.display = img || blind ? "" : "none";
  };
  return { el, update };
}

function build(model, el, onReset) {
  injectStyle("srw-deconvolution-css", CSS);
  const status = statusLine(model);
  const methods = methodControls(model, { psf: true });
  const toolbar = buildToolbar(model, onReset);
  const c = buildCanvases();
  const progBar = h("div", { className: "srw-progress-bar" });
  const progWrap = h("div", { className: "srw-progress" }, progBar);
  const progText = h("span", { className: "srw-busy", role: "progress-text" });
  const readout = h("table", { className: "srw-metrics", role: "metrics" });
  const staleNote = h("div", { className: "srw-stale-note", role: "stale-note" });
  const note = h("div", { className: "srw-note", role: "metrics-note" });
  const hover = h("div", { className: "srw-hover", role: "hover", text: "hover the map: position and values" });
  const hint = h("span", { className: "srw-busy", text: HINT });
  const psfBox = buildPsfBox(model);
  const leftCol = h("div", { className: "srw-panel" }, toolbar.el, c.main, c.sideBox, hover, c.profile, hint);
  const title = h("div", { className: "srw-panel-title", text: "Restoration" });
  const rightCol = h("div", { className: "srw-panel srw-decon-side" }, title, methods.el, psfBox.el, progWrap, progText,
    staleNote, readout, note);
  const layout = h("div", { className: "srw-decon-row" }, leftCol, rightCol);
  const root = h("div", { className: "srw-root srw-deconvolution" }, status.el, layout);
  el.appendChild(root);
  return { root, status, methods, ...toolbar, ...c, progBar, progWrap, progText, readout, staleNote, note, hover, psfBox };
}

// -- images --------------------------------------------------------------------------

/** One grid of frames: the raw and restored windows over `box` = [R0, R1, C0, C1], their images and difference. */
function makeLayer() {
  return { raw: null, rest: null, box: null, images: { raw: null, rest: null, diff: null }, targets: {}, diffStale: true };
}

/** Is the layer's restored frame at full resolution (one array element per map pixel)? */
function fullRes(layer) {
  const b = layer.box;
  return !!(layer.rest && b && layer.rest.shape[0] === b[1] - b[0] && layer.rest.shape[1] === b[3] - b[2]);
}

/**
 * The raw map (full resolution, for the contrast range, hover and profile)
 * and two layers of frames: the overview (the whole map) and the zoomed
 * window (a crop, drawn over the overview). Images are re-coloured only for
 * the layer that changed; the difference image only while it is shown.
 */
function imageStore(model) {
  const st = { raw: null, overview: makeLayer(), crop: null, range: [0, 1], diffRange: 1 };
  const colour = (layer, which) => {
    const arr = layer[which];
    layer.images[which] = null;
    if (!arr) return;
    const [ny, nx] = arr.shape;
    const opts = { vmin: st.range[0], vmax: st.range[1], cmap: model.get("colormap") };
    layer.targets[which] = renderArray(arr.data, ny, nx, opts, layer.targets[which]);
    layer.images[which] = layer.targets[which].canvas;
  };
  st.rebuild = ({ rawChanged = false, styleChanged = false, frameChanged = false } = {}) => {
    if (rawChanged || !st.raw) st.raw = decodeArray(model.get("image"));
    if (!st.raw) return;
    if (rawChanged || styleChanged) {
      st.range = percentiles(st.raw.data, model.get("contrast"));
      if (st.range[1] <= st.range[0]) st.range = [st.range[0], st.range[0] + 1];
    }
    if (frameChanged || rawChanged) {
      const box = model.get("view_box");
      const [ny, nx] = st.raw.shape;
      const whole = box[0] === 0 && box[1] === ny && box[2] === 0 && box[3] === nx;
      if (whole) st.crop = null;
      else if (!st.crop) st.crop = makeLayer();
      const layer = whole ? st.overview : st.crop;
      layer.box = box.slice();
      layer.raw = decodeArray(model.get("raw_view"));
      layer.rest = decodeArray(model.get("restored_view"));
      if (layer.rest && layer.raw && layer.rest.data.length !== layer.raw.data.length) layer.rest = null;
      colour(layer, "raw");
      colour(layer, "rest");
      layer.diffStale = true;
    }
    if (styleChanged || rawChanged) {
      for (const layer of [st.overview, st.crop]) {
        if (!layer) continue;
        colour(layer, "raw");
        colour(layer, "rest");
      }
    }
  };
  st.layers = () => (st.crop ? [st.overview, st.crop] : [st.overview]);
  st.ensureDiff = () => {
    for (const layer of st.layers()) {
      if (!layer.diffStale) continue;
      layer.diffStale = false;
      layer.images.diff = null;
      const { raw, rest } = layer;
      if (!raw || !rest) continue;
      const d = layer.diff && layer.diff.length === rest.data.length ? layer.diff : new Float32Array(rest.data.length);
      const a = new Float32Array(rest.data.length);
      for (let i = 0; i < d.length; i++) {
        d[i] = rest.data[i] - raw.data[i];
        a[i] = Math.abs(d[i]);
      }
      layer.diff = d;
      if (layer === st.overview) st.diffRange = Math.max(1e-12, percentiles(a, [99])[0]);
      const [ny, nx] = rest.shape;
      layer.targets.diff = renderArray(d, ny, nx, { vmin: -st.diffRange, vmax: st.diffRange, cmap: "rdbu" }, layer.targets.diff);
      layer.images.diff = layer.targets.diff.canvas;
    }
  };
  return st;
}

// -- draw ----------------------------------------------------------------------------

/** The view of the raw map's pixels on `canvas` for the shared zoom and pan `nav`. */
function pixelView(canvas, st, nav) {
  const [ny, nx] = st.raw.shape;
  return new PixelView(nx, ny, canvas._cssW, canvas._cssH, nav);
}

/** Draw each layer's `which` image over the map pixels its box covers (the zoomed window over the overview). */
function blitView(ctx, st, which, view) {
  for (const layer of st.layers()) {
    const img = layer.images[which];
    if (!img) continue;
    const [r0, r1, c0, c1] = layer.box;
    const w = (c1 - c0) * view.s;
    ctx.imageSmoothingEnabled = w / img.width < 2; // nearest neighbour once a frame pixel is 2+ CSS px
    ctx.drawImage(img, view.px(c0 - 0.5), view.py(r0 - 0.5), w, (r1 - r0) * view.s);
  }
}

function drawProfileLine(ctx, view, profile) {
  if (!profile) return;
  const [a, b] = profile;
  ctx.strokeStyle = "#ff2d2d";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(view.px(a[0]), view.py(a[1]));
  ctx.lineTo(view.px(b[0]), view.py(b[1]));
  ctx.stroke();
}

/** Raw and restored side by side, each on its own canvas. */
function drawSide(ui, st, nav) {
  for (const [c, which, name] of [[ui.left, "raw", "raw"], [ui.right, "rest", "restored"]]) {
    const ctx = clearCanvas(c, "#f4f4f4");
    const view = pixelView(c, st, nav);
    blitView(ctx, st, which, view);
    drawProfileLine(ctx, view, nav.profile);
    tag(ctx, name, 8, 18);
  }
}

/** Raw left of the curtain, restored right of it, and the curtain's handle. */
function drawSwipe(ctx, view, st, nav) {
  blitView(ctx, st, "raw", view);
  const sx = nav.split * W;
  ctx.save();
  ctx.beginPath();
  ctx.rect(sx, 0, W - sx, H);
  ctx.clip();
  blitView(ctx, st, "rest", view);
  ctx.restore();
  ctx.fillStyle = "#fff";
  ctx.fillRect(sx - 1.5, 0, 3, H);
  dot(ctx, sx, H / 2, 9, { fill: "#fff", stroke: "#333" });
  tag(ctx, "raw", 8, 18);
  tag(ctx, "restored", W - 8, 18, "right");
}

function drawMain(ui, model, st, nav) {
  const ctx = clearCanvas(ui.main, "#f4f4f4");
  const view = pixelView(ui.main, st, nav);
  if (model.get("mode") === "diff") {
    st.ensureDiff();
    blitView(ctx, st, "diff", view);
    tag(ctx, `restored − raw (±${fmtFixed(st.diffRange, 3)} counts)`, 8, 18);
  } else {
    drawSwipe(ctx, view, st, nav);
  }
  drawProfileLine(ctx, view, nav.profile);
}

/**
 * The map pixels {rows, cols} at n points from a to b (pixel coordinates).
 * Rounds x + 0.5 and y + 0.5, i.e. picks the pixel whose top-left corner is
 * nearest, as this widget always has (the nearest pixel centre would be round(x)).
 */
function lineIndices(a, b, n, ny, nx) {
  const rows = new Array(n);
  const cols = new Array(n);
  for (let i = 0; i < n; i++) {
    const f = i / (n - 1);
    cols[i] = Math.min(nx - 1, Math.max(0, Math.round(a[0] + f * (b[0] - a[0]) + 0.5)));
    rows[i] = Math.min(ny - 1, Math.max(0, Math.round(a[1] + f * (b[1] - a[1]) + 0.5)));
  }
  return { rows, cols };
}

/**
 * Full-resolution restored values at map pixels: read from a full-resolution
 * frame (a zoomed crop) when it covers them, otherwise asked of Python (a
 * `probe` message; the reply comes back through `msg:custom`).
 */
function makeProber(model, st) {
  let seq = 0;
  const pending = new Map();
  const onMsg = (msg) => {
    if (!msg || msg.probe == null || !pending.has(msg.probe)) return;
    const cb = pending.get(msg.probe);
    pending.delete(msg.probe);
    cb(msg.values.map((v) => (v == null ? Number.NaN : v)));
  };
  model.on("msg:custom", onMsg);
  const local = (rows, cols) => {
    for (const layer of st.layers().filter(fullRes).reverse()) {
      const [r0, r1, c0, c1] = layer.box;
      const w = c1 - c0;
      if (rows.every((r, k) => r >= r0 && r < r1 && cols[k] >= c0 && cols[k] < c1)) {
        return rows.map((r, k) => layer.rest.data[(r - r0) * w + cols[k] - c0]);
      }
    }
    return null;
  };
  return {
    /** Call cb(values) now (a full-resolution frame) or when Python answers; true when answered now. */
    values(rows, cols, cb) {
      const v = local(rows, cols);
      if (v) {
        cb(v);
        return true;
      }
      if (pending.size > 20) pending.clear(); // unanswered (kernel busy or gone): drop them
      seq += 1;
      pending.set(seq, cb);
      model.send({ action: "probe", id: seq, rows, cols });
      return false;
    },
    off: () => model.off("msg:custom", onMsg),
  };
}

/**
 * The line profile of the raw (grey) and restored (red) maps along the shift-dragged line, at full
 * resolution: the restored values are `st.profileRest` when they belong to this line and frame (asked
 * for through `prober` otherwise, and drawn when they arrive).
 */
function drawProfile(canvas, model, st, nav, prober, redraw) {
  const ctx = clearCanvas(canvas);
  const pw = canvas._cssW;
  const ph = canvas._cssH;
  ctx.font = "11px sans-serif";
  if (!nav.profile || !st.raw) {
    ctx.fillStyle = "#777";
    ctx.fillText("line profile: shift+drag across the map", 10, 20);
    return;
  }
  const [a, b] = nav.profile;
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  const n = Math.max(2, Math.min(600, Math.round(len * 2)));
  const [ny, nx] = st.raw.shape;
  const idx = lineIndices(a, b, n, ny, nx);
  const series = [[idx.rows.map((r, i) => st.raw.data[r * nx + idx.cols[i]]), "#888"]];
  const key = `${a}|${b}|${n}|${model.get("frame_id")}`;
  // one question at a time (an unanswered one is dropped after 2 s: a busy or restarted kernel)
  if (st.profileRest?.key !== key && !(performance.now() - (st.profileAsked || -1e9) < 2000)) {
    st.profileAsked = performance.now();
    const now = prober.values(idx.rows, idx.cols, (v) => {
      st.profileAsked = 0;
      st.profileRest = { key, values: v };
      if (!now) redraw();
    });
  }
  if (st.profileRest?.key === key) series.push([st.profileRest.values, "#d62728"]);
  const values = series.map(([v]) => v);
  let vmin = Infinity;
  let vmax = -Infinity;
  for (const v of values) for (const x of v) { if (x < vmin) vmin = x; if (x > vmax) vmax = x; }
  if (!(vmax > vmin)) vmax = vmin + 1;
  const pad = 24;
  values.forEach((v, k) => {
    ctx.strokeStyle = series[k][1];
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const x = pad + (i / (n - 1)) * (pw - 2 * pad);
      const y = ph - 16 - ((v[i] - vmin) / (vmax - vmin)) * (ph - 32);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.stroke();
  });
  ctx.fillStyle = "#333";
  const um = len * model.get("pixel_size_um");
  ctx.fillText(`grey: raw · red: restored · ${fmtFixed(vmin, 4)}–${fmtFixed(vmax, 4)} counts · ${fmtFixed(um, 4)} µm`, pad, 12);
}

function drawViews(ui, model, st, nav, prober) {
  const mode = model.get("mode");
  ui.main.style.display = mode === "side" ? "none" : "";
  ui.sideBox.style.display = mode === "side" ? "" : "none";
  for (const [m, b] of Object.entries(ui.modeButtons)) b.classList.toggle("srw-active", m === mode);
  if (!st.raw || !(st.overview.images.raw || st.crop?.images.raw)) clearCanvas(ui.main, "#f4f4f4");
  else if (mode === "side") drawSide(ui, st, nav);
  else drawMain(ui, model, st, nav);
  const redrawProfile = () => drawProfile(ui.profile, model, st, nav, prober, redrawProfile);
  redrawProfile();
}

// -- readouts --------------------------------------------------------------------------

function metricRows(model) {
  const m = model.get("metrics") || {};
  const r = model.get("raw_metrics") || {};
  const f = (v, d = 4) => fmtFixed(v, d);
  const rows = [["", "raw", "restored"]];
  if (Object.keys(r).length || Object.keys(m).length) {
    rows.push(["MSE", f(r.mse), f(m.mse)]);
    rows.push(["SSIM", f(r.ssim), f(m.ssim)]);
    rows.push(["USAF element", r.element ?? "–", m.element ?? "–"]);
    rows.push(["lp/mm", f(r.lp_per_mm, 3), f(m.lp_per_mm, 3)]);
  }
  const est = model.get("estimated_sigma_um");
  if (est != null) rows.push(["blind σ estimate (µm)", "", f(est)]);
  rows.push(["compute (ms)", "", f(model.get("compute_ms"))]);
  return rows;
}

/** Why a metric shows "–" (no reference, no element resolved), in words. */
function metricNote(model) {
  const m = model.get("metrics") || {};
  return [m.note, m.mse == null && (m.element != null || m.note) ? m.mse_note : null].filter(Boolean).join(" · ");
}

function updateReadouts(ui, model) {
  fillTable(ui.readout, metricRows(model));
  const stale = !!model.get("stale");
  ui.readout.classList.toggle("srw-stale", stale);
  ui.readout.dataset.stale = stale ? "1" : "0";
  ui.staleNote.textContent = stale ? "recomputing: the numbers below belong to the previous settings" : "";
  ui.note.textContent = stale ? "" : metricNote(model);
  ui.psfBox.update();
}

function updateProgress(ui, model) {
  const p = model.get("progress");
  ui.progBar.style.transform = `scaleX(${Math.round(100 * p) / 100})`; // compositor-only: no layout per frame
  const busy = model.get("busy");
  const it = model.get("iteration");
  const stopped = model.get("stopped");
  ui.progText.textContent = busy
    ? it > 0
      ? `restoring… iteration ${it} (${Math.round(100 * p)} %)`
      : "restoring…"
    : !ui.methods.method()?.streams
      ? "done"
      : stopped || `done (${it} iteration${it === 1 ? "" : "s"})`;
  ui.progWrap.classList.toggle("srw-running", busy);
}

/**
 * The value under the mouse: position in µm (pixel centres at i·p), raw and restored values at full
 * resolution (the restored one from a full-resolution frame, or Python's answer: "…" until it comes;
 * one question at a time, the newest pixel asked next).
 */
function hoverReadout(ui, model, st, prober) {
  let asking = 0; // when the pending question was asked (0: none); dropped after 2 s
  let wanted = null;
  const v = (x) => (x == null ? "…" : Number.isNaN(x) ? "masked" : fmtFixed(x, 4));
  const show = (r, c, rest) => {
    const [, nx] = st.raw.shape;
    const p = model.get("pixel_size_um");
    ui.hover.textContent = `x ${fmtFixed(c * p, 4)} µm, y ${fmtFixed(r * p, 4)} µm (col ${c}, row ${r}) · ` +
      `raw ${v(st.raw.data[r * nx + c])} · restored ${v(rest)}`;
    ui.hover.dataset.pixel = `${r},${c}`;
  };
  const ask = () => {
    if ((asking && performance.now() - asking < 2000) || !wanted) return;
    const [r, c] = wanted;
    wanted = null;
    asking = performance.now();
    const now = prober.values([r], [c], ([rest]) => {
      asking = 0;
      if (ui.hover.dataset.pixel === `${r},${c}`) show(r, c, rest);
      ask();
    });
    if (now) asking = 0;
  };
  const hover = (col, row) => {
    const [ny, nx] = st.raw.shape;
    const c = Math.round(col);
    const r = Math.round(row);
    if (c < 0 || r < 0 || c >= nx || r >= ny) {
      ui.hover.textContent = "";
      ui.hover.dataset.pixel = "";
      return;
    }
    if (ui.hover.dataset.pixel === `${r},${c}`) return;
    show(r, c, null);
    wanted = [r, c];
    ask();
  };
  /** A new restored frame is on screen: the value under a resting mouse is asked again (never left stale). */
  hover.refresh = () => {
    const px = ui.hover.dataset.pixel;
    if (!px || !st.raw) return;
    const [r, c] = px.split(",").map(Number);
    show(r, c, null);
    wanted = [r, c];
    ask();
  };
  return hover;
}

// -- interact: zoom, pan, curtain, profile (client-side only) ------------------------------

const nearCurtain = (ui, model, canvas, nav, x) =>
  canvas === ui.main && model.get("mode") === "swipe" && Math.abs(x - nav.split * W) < 12;

function interactNavigate(canvas, ui, model, st, nav, draw, hover) {
  let drag = null;
  canvas.addEventListener("wheel", (ev) => {
    if (!st.raw) return;
    ev.preventDefault();
    const [x, y] = eventPos(canvas, ev);
    Object.assign(nav, pixelView(canvas, st, nav).zoomedAt(x, y, ev.deltaY < 0 ? 1.25 : 0.8));
    draw();
  }, { passive: false });
  canvas.addEventListener("pointerdown", (ev) => {
    if (!st.raw) return;
    const [x, y] = eventPos(canvas, ev);
    const view = pixelView(canvas, st, nav);
    canvas.setPointerCapture(ev.pointerId);
    if (ev.shiftKey) {
      const p = [view.dataX(x), view.dataY(y)];
      nav.profile = [p, p];
      drag = { kind: "profile" };
    } else {
      drag = nearCurtain(ui, model, canvas, nav, x) ? { kind: "split" } : { kind: "pan", x, y, view };
    }
  });
  canvas.addEventListener("pointermove", (ev) => {
    const [x, y] = eventPos(canvas, ev);
    if (!drag) {
      canvas.style.cursor = nearCurtain(ui, model, canvas, nav, x) ? "ew-resize" : "grab";
      if (st.raw) {
        const view = pixelView(canvas, st, nav);
        hover(view.dataX(x), view.dataY(y));
      }
      return;
    }
    if (drag.kind === "split") nav.split = Math.min(1, Math.max(0, x / W));
    else if (drag.kind === "profile") {
      const view = pixelView(canvas, st, nav);
      nav.profile = [nav.profile[0], [view.dataX(x), view.dataY(y)]];
    } else Object.assign(nav, drag.view.pannedBy(x - drag.x, y - drag.y));
    draw();
  });
  const end = () => { drag = null; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("dblclick", () => { Object.assign(nav, { zoom: 1, cx: null, cy: null }); draw(); });
}

// -- bind --------------------------------------------------------------------------------

function render({ model, el }) {
  ensureStyle();
  // client-side view state; cx, cy in raw-map pixels; Python hears of the visible window only (`display`)
  const nav = { zoom: 1, cx: null, cy: null, split: 0.5, profile: null };
  const st = imageStore(model);
  const prober = makeProber(model, st);
  const viewChanged = displaySender(model, st, nav, W, H);
  const draw = () => {
    drawViews(ui, model, st, nav, prober);
    viewChanged();
  };
  const ui = build(model, el, () => { Object.assign(nav, { zoom: 1, cx: null, cy: null }); draw(); });
  const hover = hoverReadout(ui, model, st, prober);
  for (const c of [ui.main, ui.left, ui.right]) interactNavigate(c, ui, model, st, nav, draw, hover);
  const readouts = () => updateReadouts(ui, model);
  const progress = () => updateProgress(ui, model);

  // every DOM write happens in one animation frame: the pixels, then the readouts and the progress line
  // (trait changes only set flags, so a burst of messages costs one style/layout pass, not one each)
  let frame = 0;
  let newResult = false;
  const idle = () => ({ raw: false, rest: false, style: false, draw: false, readouts: false, progress: false });
  let pending = idle();
  const schedule = (what = "draw") => {
    pending[what] = true;
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const p = pending;
      pending = idle();
      const pixels = p.raw || p.rest || p.style;
      if (pixels) st.rebuild({ rawChanged: p.raw, styleChanged: p.style, frameChanged: p.rest });
      if (pixels || p.draw) {
        draw();
        if (newResult) hover.refresh(); // a new result (not a re-sent view): ask the value again
        newResult = false;
        ui.root.dataset.frameId = String(model.get("frame_id")); // the frame now on screen
        const top = st.crop ?? st.overview; // for tests: the window and the shape of the frame on top
        ui.root.dataset.viewBox = top.box ? top.box.join(",") : "";
        ui.root.dataset.frameShape = top.rest ? top.rest.shape.join(",") : "";
        trace("frame-drawn");
      }
      if (pixels || p.readouts) readouts();
      if (pixels || p.progress) progress();
    });
  };
  const onContrast = () => {
    const c = model.get("contrast");
    ui.contrast.lo.value = String(c[0]);
    ui.contrast.hi.value = String(c[1]);
    schedule("style");
  };
  const handlers = [
    ["change:image", () => schedule("raw")],
    ["change:restored_view", () => { trace("frame-arrived"); schedule("rest"); }],
    ["change:result_id", () => { newResult = true; }],
    // a new frame whose pixels equal the ones on screen sends no `restored_view` change: still mark it drawn
    ["change:frame_id", () => schedule("draw")],
    ["change:colormap", () => schedule("style")],
    ["change:contrast", onContrast],
    ["change:mode", () => schedule()],
    ...["metrics", "raw_metrics", "estimated_sigma_um", "compute_ms", "stale", "psf_label", "estimated_kernel",
      "method"].map((t) => [`change:${t}`, () => schedule("readouts")]),
    ["change:method", () => schedule("progress")], // "done" or "done (n iterations)" depends on the method
    ...["progress", "busy", "iteration", "stopped"].map((t) => [`change:${t}`, () => schedule("progress")]),
  ];
  for (const [ev, fn] of handlers) model.on(ev, fn);
  schedule("raw");
  return () => {
    for (const [ev, fn] of handlers) model.off(ev, fn);
    ui.methods.off();
    prober.off();
  };
}

export default { render };
