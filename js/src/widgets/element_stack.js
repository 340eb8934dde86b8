// ElementStack front-end (seed 001, Fig. 9).
// One row per element: its map before and after restoration side by side,
// drawn with one colour scale per element (black -> element colour ->
// white, range from robust percentiles of both, computed in Python), a PSF
// sigma slider for that element, and the element's own progress. Python
// restores the channels one after the other in a background thread and
// sends the (channel, row, col) stacks as binary float32 buffers. Any three
// elements can be seen as one RGB composite (measured beside restored): the
// menus set ``rgb_channels``, Python sends the two (row, col, 3) uint8 images.
// build* make the DOM, draw* paint a frame, bind connects it to the model.
import { decodeArray } from "../lib/arrays.js";
import { onTraits } from "../lib/bind.js";
import { blit, makeCanvas, renderArray } from "../lib/canvas.js";
import { drawColorbar } from "../lib/colorbar.js";
import { ensureStyle, statusLine } from "../lib/controls.js";
import { h } from "../lib/dom.js";
import { fmtFixed, fmtUm } from "../lib/format.js";
import { injectStyle } from "../lib/style.js";
import { fitSize } from "../lib/view.js";
import { methodControls, progressBar, sliderScale, tintLut, XRF_BAR } from "../lib/xrf_controls.js";

const BOX = 250;
const GREY = "#888888";
const CSS = `
.srw-element-stack .srw-element-row { display: flex; gap: 10px; align-items: flex-start; padding: 6px 0;
  border-top: 1px solid var(--jp-border-color2, #ddd); }
.srw-element-stack .srw-element-side { display: flex; flex-direction: column; gap: 4px; width: 190px; }
.srw-element-stack .srw-element-name { font-weight: 700; font-size: 14px; display: flex; align-items: center; gap: 6px; }
.srw-element-stack .srw-swatch { width: 12px; height: 12px; border-radius: 2px; display: inline-block; }
.srw-element-stack .srw-element-side input[type=range] { width: 180px; }
.srw-element-stack .srw-image-title { font-size: 11px; color: var(--jp-ui-font-color2, #555); }
.srw-element-stack .srw-channel-state { font-size: 11px; color: var(--jp-ui-font-color2, #666); min-height: 1.3em; }
`;
const IMAGE_TRAITS = ["_raw", "_restored", "_ranges", "colors", "names", "_rgb_raw", "_rgb_restored", "rgb_channels"];
const OTHER_TRAITS = ["sigmas_um", "channel_status", "channel_progress", "channel_sigmas_um", "compute_ms",
  "busy", "progress", "status"];

// -- build -------------------------------------------------------------------------

function build(model, el) {
  const status = statusLine(model);
  const title = h("div", { className: "srw-panel-title",
    text: "Element maps before and after restoration, each with its own PSF σ (Fig. 9)" });
  const controls = methodControls(model);
  const prog = progressBar("progress");
  const progBox = h("div", { className: "srw-panel", style: { minWidth: "260px" } }, prog.wrap, prog.text);
  const top = h("div", { className: "srw-row" }, controls.el, progBox);
  const rowsBox = h("div");
  const rgb = buildRgb(model);
  el.appendChild(h("div", { className: "srw-root srw-element-stack" }, status.el, title, top, rgb.el, rowsBox));
  return { status, controls, prog, rowsBox, rgb };
}

/** The RGB composite: three channel menus (red, green, blue) and the measured / restored images. */
function buildRgb(model) {
  const menus = ["red", "green", "blue"].map((colour) => {
    const sel = h("select", { dataset: { role: `rgb-${colour}` } });
    sel.addEventListener("change", () => {
      const chosen = menus.map((m) => m.value);
      model.set("rgb_channels", chosen);
      model.save_changes();
    });
    return sel;
  });
  const labels = ["R", "G", "B"].map((t, i) => h("span", { text: ` ${t} `, style: { color: ["#d00", "#080", "#00d"][i] } }));
  const bar = h("div", { className: "srw-toolbar" }, h("b", { text: "RGB composite" }), labels[0], menus[0], labels[1],
    menus[1], labels[2], menus[2]);
  const [pb, before] = imagePanel("rgb", "rgb-before", "measured", BOX, BOX);
  const [pa, after] = imagePanel("rgb", "rgb-after", "restored", BOX, BOX);
  const el = h("div", { className: "srw-element-row", role: "rgb" }, bar, pb, pa);
  el.style.flexWrap = "wrap";
  bar.style.flexBasis = "100%";
  return { el, menus, before, after };
}

/** An RGB uint8 (row, col, 3) array as an offscreen canvas (null: none). */
function rgbCanvas(value) {
  const a = decodeArray(value);
  if (!a) return null;
  const [ny, nx] = a.shape;
  const canvas = document.createElement("canvas");
  canvas.width = nx;
  canvas.height = ny;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(nx, ny);
  for (let i = 0; i < nx * ny; i++) {
    img.data[4 * i] = a.data[3 * i];
    img.data[4 * i + 1] = a.data[3 * i + 1];
    img.data[4 * i + 2] = a.data[3 * i + 2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function drawRgb(ui, model) {
  const names = model.get("names") || [];
  const chosen = (model.get("rgb_channels") || []).length === 3 ? model.get("rgb_channels") : names.slice(0, 3);
  ui.rgb.el.style.display = names.length >= 2 ? "" : "none";
  ui.rgb.menus.forEach((m, i) => {
    const opts = names.map((n) => h("option", { value: n, text: n }));
    if (m.options.length !== names.length || [...m.options].some((o, k) => o.value !== names[k])) m.replaceChildren(...opts);
    if (chosen[i] != null && document.activeElement !== m) m.value = chosen[i];
  });
  const raw = decodeArray(model.get("_raw"));
  if (!raw) return;
  const [w, hgt] = fitSize(raw.shape[2], raw.shape[1], BOX, BOX, 80, 40);
  for (const [c, trait] of [[ui.rgb.before, "_rgb_raw"], [ui.rgb.after, "_rgb_restored"]]) {
    c.style.width = `${w}px`;
    c.style.height = `${hgt}px`;
    blit(c, rgbCanvas(model.get(trait)), BOX, BOX, "#000");
  }
}

/** The element's PSF σ slider (data-element, data-role=sigma): writes sigmas_um[name]. */
function buildSigmaSlider(model, name, scale) {
  const value = h("span", { className: "srw-slider-value" });
  const input = h("input", { type: "range", min: String(scale.min), max: String(scale.max), step: String(scale.step),
    dataset: { element: name, role: "sigma" } });
  input.addEventListener("input", () => {
    const v = Number(input.value);
    value.textContent = `${fmtUm(v)} µm`;
    model.set("sigmas_um", { ...model.get("sigmas_um"), [name]: v });
    model.save_changes();
  });
  return { input, value };
}

/** A titled w x h image canvas (data-role, data-element): [panel, canvas, title]. */
function imagePanel(name, role, text, w, hgt) {
  const t = h("div", { className: "srw-image-title", text, role: `${role}-title` });
  const c = makeCanvas(w, hgt);
  c.dataset.role = role;
  c.dataset.element = name;
  return [h("div", { className: "srw-panel" }, t, c), c, t];
}

/** One element's row: name and swatch, σ slider, progress and state; measured and restored maps. */
function buildRow(model, name, w, hgt, scale) {
  const swatch = h("span", { className: "srw-swatch" });
  const label = h("div", { className: "srw-element-name" }, swatch, h("span", { text: name }));
  const sliderLabel = h("div", { className: "srw-image-title", text: "PSF σ (µm)" });
  const slider = buildSigmaSlider(model, name, scale);
  const cprog = progressBar("channel-progress");
  const state = h("div", { className: "srw-channel-state" });
  const side = h("div", { className: "srw-element-side" }, label, sliderLabel, slider.input, slider.value, cprog.wrap, state);
  const [pb, before] = imagePanel(name, "before", "measured", w, hgt);
  const [pa, after, afterTitle] = imagePanel(name, "after", "restored", w, hgt);
  const bar = makeCanvas(w, 26, "srw-colorbar");
  pa.append(bar);
  const el = h("div", { className: "srw-element-row", dataset: { element: name } }, side, pb, pa);
  return { el, name, swatch, before, after, afterTitle, bar, slider: slider.input, value: slider.value, state, cprog, w, h: hgt };
}

/** Rows for the current names and stack shape (rebuilt only when those change). */
function rowsBuilder(ui, model) {
  // the per-element sigma sliders span the PSF sigma declaration's slider range
  const scale = sliderScale((model.get("method_table").psf || []).find((d) => d.name === "psf_sigma_um"));
  let key = "";
  let rows = [];
  return () => {
    const names = model.get("names") || [];
    const raw = decodeArray(model.get("_raw"));
    const shape = raw ? raw.shape : [0, 1, 1];
    const k = `${names.join("|")}:${shape.join("x")}`;
    if (k !== key) {
      key = k;
      const [w, hgt] = fitSize(shape[1], shape[2], BOX, BOX, 80, 40);
      rows = names.map((name) => buildRow(model, name, w, hgt, scale));
      ui.rowsBox.replaceChildren(...rows.map((r) => r.el));
    }
    return rows;
  };
}

// -- images and draw ------------------------------------------------------------------

/** Each channel before and after restoration in its element's tint (null: never restored). */
function renderImages(model) {
  const names = model.get("names") || [];
  const colors = model.get("colors") || {};
  const ranges = model.get("_ranges") || [];
  const raw = decodeArray(model.get("_raw"));
  const rest = decodeArray(model.get("_restored"));
  const images = { raw: [], rest: [] };
  if (!raw) return images;
  const [n, ny, nx] = raw.shape;
  for (let i = 0; i < Math.min(n, names.length); i++) {
    const table = tintLut(colors[names[i]] || GREY);
    const [lo, hi] = ranges[i] || [0, 1];
    const opts = { vmin: lo, vmax: hi, table, offset: i * ny * nx };
    images.raw.push(renderArray(raw.data, ny, nx, opts).canvas);
    // a channel never restored is all NaN
    const restored = rest && rest.shape[0] > i && !Number.isNaN(rest.data[i * ny * nx]);
    images.rest.push(restored ? renderArray(rest.data, ny, nx, opts).canvas : null);
  }
  return images;
}

/** "restoring… n %" (or queued / error) over the bottom of a restored map. */
function drawChannelState(r, state, fraction) {
  const ctx = r.after.getContext("2d");
  ctx.fillStyle = "rgba(0,0,0,0.55)";
  ctx.fillRect(0, r.h - 24, r.w, 24);
  ctx.fillStyle = "#fff";
  ctx.font = "12px sans-serif";
  ctx.textBaseline = "middle";
  const text = state === "queued" ? "queued…" : state === "error" ? "error" : `restoring… ${Math.round(100 * fraction)} %`;
  ctx.fillText(text, 8, r.h - 12);
}

function drawRow(r, i, model, images) {
  const g = (k, d) => model.get(k) || d;
  const color = g("colors", {})[r.name] || GREY;
  const sigmas = g("sigmas_um", {});
  const fraction = g("channel_progress", [])[i] || 0;
  const used = g("channel_sigmas_um", [])[i];
  r.swatch.style.background = color;
  if (document.activeElement !== r.slider) r.slider.value = String(sigmas[r.name]);
  r.value.textContent = `${fmtUm(sigmas[r.name])} µm`;
  blit(r.before, images.raw[i] || null, r.w, r.h, "#000");
  blit(r.after, images.rest[i] || null, r.w, r.h, "#222");
  const state = g("channel_status", [])[i] || "";
  const running = state === "running" || state === "queued";
  if (running || !images.rest[i]) drawChannelState(r, state, fraction);
  const [lo, hi] = g("_ranges", [])[i] || [0, 1];
  drawColorbar(r.bar, tintLut(color), lo, hi, XRF_BAR);
  r.afterTitle.textContent = used != null ? `restored, σ = ${fmtUm(used)} µm` : "restored";
  r.cprog.set(fraction, "", running);
  r.state.textContent = state === "done" ? `done in ${fmtFixed(g("compute_ms", [])[i], 3)} ms` : state;
}

function drawProgress(ui, model) {
  const busy = model.get("busy");
  const p = model.get("progress");
  ui.prog.set(p, `${model.get("status") || ""}${busy ? ` · ${Math.round(100 * p)} %` : ""}`, busy);
}

// -- bind ----------------------------------------------------------------------------

function render({ model, el }) {
  ensureStyle();
  injectStyle("srw-element-stack-style", CSS);
  const ui = build(model, el);
  const buildRows = rowsBuilder(ui, model);
  let images = { raw: [], rest: [] };
  let frame = 0;
  let dirtyImages = true;
  const draw = () => {
    frame = 0;
    const rows = buildRows();
    if (dirtyImages) images = renderImages(model);
    dirtyImages = false;
    rows.forEach((r, i) => { drawRow(r, i, model, images); });
    drawRgb(ui, model);
    drawProgress(ui, model);
  };
  const schedule = (withImages) => () => {
    if (withImages) dirtyImages = true;
    if (!frame) frame = requestAnimationFrame(draw);
  };
  const offImages = onTraits(model, IMAGE_TRAITS, schedule(true));
  const offOther = onTraits(model, OTHER_TRAITS, schedule(false));
  draw();
  return () => {
    offImages();
    offOther();
    ui.controls.off();
    if (frame) cancelAnimationFrame(frame);
  };
}

export default { render };
