// Small pieces shared by the XRF restoration front-ends (deconvolution, PSF
// sweep, element stack): the method selector and parameter controls drawn
// from Python's ``method_table`` trait (the declarations of the restoration
// method registry, superres_widgets.xrf.registry -- no method or slider table
// lives here), a progress bar, and 256-entry lookup tables including
// per-element tints (black -> element colour -> white).
import { lut } from "./colormap.js";
import { slider, traitCheckbox, traitChoice, traitSelect } from "./controls.js";
import { fmtFixed } from "./format.js";

/** The slider's text label of a parameter declaration ("PSF σ (µm)"). */
export function paramLabel(decl) {
  return decl.unit ? `${decl.label} (${decl.unit})` : decl.label;
}

const LOG_STEPS = 1000;

/** Value <-> slider position of a declaration (log sliders: positions 0..LOG_STEPS). */
export function sliderScale(decl) {
  const lo = decl.slider_lo;
  const hi = decl.slider_hi;
  const snap = (v) => {
    let x = Math.min(hi, Math.max(lo, v));
    if (decl.kind === "int") {
      x = Math.round(x);
      if (decl.odd && x % 2 === 0) x = x + 1 <= hi ? x + 1 : x - 1;
    } else if (decl.log) {
      x = Number(x.toPrecision(3));
    }
    return x;
  };
  if (!decl.log) return { min: lo, max: hi, step: decl.step ?? (hi - lo) / 200, toValue: (p) => snap(p), toPos: (v) => v };
  const span = Math.log(hi / lo);
  return {
    min: 0,
    max: LOG_STEPS,
    step: 1,
    toValue: (p) => snap(lo * Math.exp((span * p) / LOG_STEPS)),
    toPos: (v) => Math.round((LOG_STEPS * Math.log(Math.min(hi, Math.max(lo, v)) / lo)) / span),
  };
}

/** A control for one parameter declaration: slider (linear or log, data-scale="log"), checkbox or menu. */
export function paramControl(model, decl) {
  if (decl.kind === "bool") return traitCheckbox(model, decl.name, paramLabel(decl));
  if (decl.kind === "choice") return traitChoice(model, decl.name, paramLabel(decl), decl.choices.map((c) => [c, c]));
  const format = (v) => (decl.kind === "int" ? String(v) : fmtFixed(v, 4));
  const scale = sliderScale(decl);
  const opts = { label: paramLabel(decl), min: scale.min, max: scale.max, step: scale.step, format };
  if (!decl.log) return slider(model, decl.name, opts);
  const s = slider(model, decl.name, { ...opts, toPos: scale.toPos, toValue: scale.toValue });
  s.input.dataset.scale = "log";
  return s;
}

/** Declarations equal but for their default share one control (num_iter of RL and FISTA). */
function specKey(decl) {
  const { default: _d, doc: _doc, ...rest } = decl;
  return JSON.stringify(rest);
}

/**
 * Method selector plus the controls of the chosen method's parameters, drawn
 * from ``method_table`` (and, with ``psf: true``, the Gaussian PSF's for the
 * methods that need one). Returns {el, update, off, method}.
 */
export function methodControls(model, { psf = false } = {}) {
  const table = model.get("method_table") || { methods: [], psf: [] };
  const el = document.createElement("div");
  el.className = "srw-panel";
  const top = document.createElement("div");
  top.className = "srw-toolbar";
  const label = document.createElement("span");
  label.textContent = "method ";
  const sel = traitSelect(model, "method", table.methods.map((m) => [m.name, m.label]));
  top.append(label, sel.el);
  const grid = document.createElement("div");
  grid.className = "srw-controls";
  const controls = new Map(); // spec key -> {control, methods: Set}
  const add = (decl, owner) => {
    const key = specKey(decl);
    if (!controls.has(key)) {
      const control = paramControl(model, decl);
      control.decl = decl;
      control.el.dataset.param = decl.name;
      grid.append(control.el);
      controls.set(key, { control, owners: new Set() });
    }
    controls.get(key).owners.add(owner);
  };
  if (psf) for (const decl of table.psf || []) add(decl, "#psf");
  for (const m of table.methods) for (const decl of m.parameters) add(decl, m.name);
  el.append(top, grid);
  const method = () => table.methods.find((m) => m.name === model.get("method")) || null;
  // a declaration's show_when ({stop: "relative_change"}): shown only while those parameters have those values
  const conditions = new Set();
  for (const { control } of controls.values()) for (const k of Object.keys(control.decl?.show_when || {})) conditions.add(k);
  const update = () => {
    const m = method();
    for (const { control, owners } of controls.values()) {
      const when = control.decl?.show_when || {};
      const shown = Object.entries(when).every(([k, v]) => model.get(k) === v);
      const on = !!m && shown && (owners.has(m.name) || (owners.has("#psf") && m.needs_psf));
      control.el.style.display = on ? "" : "none";
      for (const child of control.el.children) child.style.display = on ? "" : "none";
    }
  };
  model.on("change:method", update);
  for (const k of conditions) model.on(`change:${k}`, update);
  update();
  return {
    el,
    update,
    method,
    off: () => {
      model.off("change:method", update);
      for (const k of conditions) model.off(`change:${k}`, update);
      sel.off();
      for (const { control } of controls.values()) control.off?.();
    },
  };
}

/** A progress bar (data-role=progress) with a text line. set(fraction, text, busy). */
export function progressBar(role = "progress") {
  const wrap = document.createElement("div");
  wrap.className = "srw-progress";
  wrap.dataset.role = role;
  wrap.setAttribute("role", "progressbar");
  wrap.setAttribute("aria-valuemin", "0");
  wrap.setAttribute("aria-valuemax", "100");
  const bar = document.createElement("div");
  bar.className = "srw-progress-bar";
  wrap.append(bar);
  const text = document.createElement("div");
  text.className = "srw-busy";
  text.dataset.role = `${role}-text`;
  const set = (fraction, label, busy) => {
    const pct = Math.round(100 * Math.max(0, Math.min(1, fraction || 0)));
    bar.style.transform = `scaleX(${pct / 100})`; // the compositor animates it: no layout per frame
    bar.style.background = busy ? "" : "var(--jp-success-color1, #2e7d32)";
    wrap.setAttribute("aria-valuenow", String(pct));
    wrap.dataset.busy = busy ? "1" : "0";
    text.textContent = label;
  };
  return { wrap, bar, text, set };
}

const tintCache = new Map();

function hexToRgb(hex) {
  const h = hex.replace("#", "");
  const n = parseInt(h.length === 3 ? h.split("").map((c) => c + c).join("") : h, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Lookup table black -> colour (at 75 %) -> near white: one per element. */
export function tintLut(hex) {
  if (tintCache.has(hex)) return tintCache.get(hex);
  const [r, g, b] = hexToRgb(hex);
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let c;
    if (t <= 0.75) {
      const a = t / 0.75;
      c = [r * a, g * a, b * a];
    } else {
      const a = (t - 0.75) / 0.25;
      c = [r + (245 - r) * a, g + (245 - g) * a, b + (245 - b) * a];
    }
    out[3 * i] = Math.round(c[0]);
    out[3 * i + 1] = Math.round(c[1]);
    out[3 * i + 2] = Math.round(c[2]);
  }
  tintCache.set(hex, out);
  return out;
}

/** Lookup table by name: a colormap of lib/colormap.js, or "#rrggbb" for a tint. */
export function tableFor(name) {
  return name?.startsWith("#") ? tintLut(name) : lut(name);
}

/** Options of colorbar.js's drawColorbar for the XRF widgets' bars (26 px high, 10 px labels). */
export const XRF_BAR = { thickness: 8, font: "10px sans-serif", labelAt: 12, format: (v) => fmtFixed(v, 3) };
