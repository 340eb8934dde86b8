// Small pieces shared by the PSF-sweep and element-stack front-ends:
// a method selector whose parameter rows follow ``method_parameters``, a
// progress bar, image fitting and drawing with any 256-entry lookup table
// (including per-element tints: black -> element colour -> white).
import { lut } from "./colormap.js";
import { slider, traitSelect, traitCheckbox } from "./controls.js";

export { traitSelect, traitCheckbox };

export const METHOD_LABELS = {
  richardson_lucy: "Richardson–Lucy",
  wiener: "Wiener (Laplacian)",
  fista: "FISTA (l1)",
};

export function fmt(v, d = 4) {
  if (v == null || !Number.isFinite(v)) return "–";
  return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(d);
}

/** A length in µm without trailing zeros: 8 -> "8", 32.5 -> "32.5", 33.75 -> "33.75". */
export function fmtUm(v) {
  if (v == null || !Number.isFinite(v)) return "–";
  return String(Number(v.toFixed(3)));
}

/**
 * Method selector plus the parameter rows of the chosen method (the model's
 * ``method_parameters`` says which). Returns {el, update}.
 */
export function methodControls(model) {
  const el = document.createElement("div");
  el.className = "srw-panel";
  const top = document.createElement("div");
  top.className = "srw-toolbar";
  const label = document.createElement("span");
  label.textContent = "method ";
  const sel = traitSelect(model, "method", Object.entries(METHOD_LABELS));
  top.append(label, sel.el);
  const grid = document.createElement("div");
  grid.className = "srw-controls";
  const rows = {
    num_iter: slider(model, "num_iter", { label: "iterations", min: 1, max: 300, step: 1 }),
    acceleration: traitCheckbox(model, "acceleration", "Biggs–Andrews"),
    balance: slider(model, "balance", { label: "Wiener balance", min: 0, max: 0.5, step: 0.005, format: (v) => fmt(v, 3) }),
    lam: slider(model, "lam", { label: "FISTA λ (counts)", min: 0, max: 20, step: 0.25, format: (v) => fmt(v, 3) }),
  };
  for (const r of Object.values(rows)) grid.append(r.el);
  el.append(top, grid);
  const update = () => {
    const used = (model.get("method_parameters") || {})[model.get("method")] || [];
    for (const [name, r] of Object.entries(rows)) {
      const on = used.includes(name);
      r.el.style.display = on ? "" : "none";
      for (const child of r.el.children) child.style.display = on ? "" : "none";
    }
  };
  model.on("change:method", update);
  update();
  return { el, update, off: () => { model.off("change:method", update); sel.off(); } };
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
    bar.style.width = `${pct}%`;
    bar.style.background = busy ? "" : "var(--jp-success-color1, #2e7d32)";
    wrap.setAttribute("aria-valuenow", String(pct));
    wrap.dataset.busy = busy ? "1" : "0";
    text.textContent = label;
  };
  return { wrap, bar, text, set };
}

/** CSS size (w, h) that fits an ny x nx image in a box, keeping its aspect. */
export function fitSize(ny, nx, boxW, boxH, minW = 80) {
  const s = Math.min(boxW / nx, boxH / ny);
  return [Math.max(minW, Math.round(nx * s)), Math.max(40, Math.round(ny * s))];
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
  return name && name.startsWith("#") ? tintLut(name) : lut(name);
}

/** Draw an offscreen image filling a canvas of CSS size w x h (nearest neighbour). */
export function blit(canvas, image, w, h, background = "#fff") {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, w, h);
  if (!image) return;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, 0, 0, w, h);
}

/** A horizontal colour bar with its two end labels. */
export function drawColorbar(canvas, w, h, table, lo, hi) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  const x0 = 4;
  const x1 = w - 4;
  for (let x = x0; x < x1; x++) {
    const i = 3 * Math.round((255 * (x - x0)) / Math.max(1, x1 - x0 - 1));
    ctx.fillStyle = `rgb(${table[i]},${table[i + 1]},${table[i + 2]})`;
    ctx.fillRect(x, 2, 1, 8);
  }
  ctx.fillStyle = "#333";
  ctx.font = "10px sans-serif";
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(fmt(lo, 3), x0, 12);
  ctx.textAlign = "right";
  ctx.fillText(fmt(hi, 3), x1, 12);
  ctx.textAlign = "left";
}

/** Inject a widget's own stylesheet once per document. */
export function ensureWidgetStyle(id, css) {
  if (document.getElementById(id)) return;
  const style = document.createElement("style");
  style.id = id;
  style.textContent = css;
  document.head.appendChild(style);
}
