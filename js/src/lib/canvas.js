// Canvas helpers shared by every widget: HiDPI canvases, clearing, and
// array -> image rendering (the view transforms are in view.js).
import { lut } from "./colormap.js";

/** A canvas of CSS size w x h backed at devicePixelRatio resolution. */
export function makeCanvas(w, h, className = "srw-canvas") {
  const canvas = document.createElement("canvas");
  canvas.className = className;
  resizeCanvas(canvas, w, h);
  return canvas;
}

export function resizeCanvas(canvas, w, h) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  canvas._cssW = w;
  canvas._cssH = h;
  return ctx;
}

/**
 * Clear a canvas made by makeCanvas and fill it with `fill` (none when
 * null); returns its 2-D context.
 */
export function clearCanvas(canvas, fill = "#fff") {
  const ctx = canvas.getContext("2d");
  const W = canvas._cssW;
  const H = canvas._cssH;
  ctx.clearRect(0, 0, W, H);
  if (fill) {
    ctx.fillStyle = fill;
    ctx.fillRect(0, 0, W, H);
  }
  return ctx;
}

/** Fill a canvas of CSS size w x h with `background` and draw `image` over all of it (nearest neighbour). */
export function blit(canvas, image, w, h, background = "#fff") {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, w, h);
  if (!image) return;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, 0, 0, w, h);
}

const packedCache = new Map();
const packedTables = new WeakMap();

/** 256-entry RGBA lookup table packed as 32-bit pixels (platform byte order). */
function packedLut(cmap, rgbTable = null) {
  if (rgbTable) {
    if (!packedTables.has(rgbTable)) packedTables.set(rgbTable, packRgb(rgbTable));
    return packedTables.get(rgbTable);
  }
  if (!packedCache.has(cmap)) packedCache.set(cmap, packRgb(lut(cmap)));
  return packedCache.get(cmap);
}

function packRgb(table) {
  const out = new Uint32Array(256);
  const bytes = new Uint8Array(out.buffer);
  for (let i = 0; i < 256; i++) {
    bytes[4 * i] = table[3 * i];
    bytes[4 * i + 1] = table[3 * i + 1];
    bytes[4 * i + 2] = table[3 * i + 2];
    bytes[4 * i + 3] = 255;
  }
  return out;
}

/**
 * Colormap a row-major 2-D array into a reusable offscreen canvas, fast:
 * one 32-bit write per pixel. ``cmap`` names a map of colormap.js, or
 * ``table`` gives a 256 x RGB Uint8Array; ``offset`` selects a slice of a
 * larger stack. ``target`` (from a previous call) is reused when its size
 * matches. NaN is transparent. Returns ``{canvas, ...}``.
 */
export function renderArray(data, ny, nx, { vmin, vmax, cmap = "viridis", table: rgb = null, offset = 0 }, target = null) {
  let t = target;
  if (!t || t.canvas.width !== nx || t.canvas.height !== ny) {
    const canvas = document.createElement("canvas");
    canvas.width = nx;
    canvas.height = ny;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(nx, ny);
    t = { canvas, ctx, img, px: new Uint32Array(img.data.buffer) };
  }
  const table = packedLut(cmap, rgb);
  const scale = vmax > vmin ? 255 / (vmax - vmin) : 0;
  const px = t.px;
  const n = nx * ny;
  for (let i = 0; i < n; i++) {
    const v = data[offset + i];
    // biome-ignore lint/suspicious/noSelfCompare: the cheapest NaN test in this per-pixel loop
    if (v !== v) {
      px[i] = 0;
      continue;
    }
    let k = ((v - vmin) * scale + 0.5) | 0;
    k = k < 0 ? 0 : k > 255 ? 255 : k;
    px[i] = table[k];
  }
  t.ctx.putImageData(t.img, 0, 0);
  return t;
}

/**
 * Render a row-major 2-D array (row 0 = first row) to a new offscreen canvas
 * through a colormap; NaN becomes transparent. ``flipY`` puts row 0 at the
 * bottom (use it for arrays whose rows go with increasing y).
 */
export function arrayToImage(data, ny, nx, { vmin, vmax, cmap = "viridis", flipY = false } = {}) {
  const { canvas } = renderArray(data, ny, nx, { vmin, vmax, cmap });
  if (!flipY) return canvas;
  const off = document.createElement("canvas");
  off.width = nx;
  off.height = ny;
  const ctx = off.getContext("2d");
  ctx.setTransform(1, 0, 0, -1, 0, ny);
  ctx.drawImage(canvas, 0, 0);
  return off;
}

/** Draw a closed polygon given as flat [x0,y0,x1,y1,...] data coordinates. */
export function polygonPath(ctx, view, flat) {
  ctx.beginPath();
  for (let i = 0; i < flat.length; i += 2) {
    const X = view.px(flat[i]);
    const Y = view.py(flat[i + 1]);
    if (i === 0) ctx.moveTo(X, Y);
    else ctx.lineTo(X, Y);
  }
  ctx.closePath();
}

/** Mouse event -> CSS-pixel position inside the canvas. */
export function eventPos(canvas, ev) {
  const r = canvas.getBoundingClientRect();
  return [ev.clientX - r.left, ev.clientY - r.top];
}
