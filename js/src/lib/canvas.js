// Canvas helpers shared by every widget: HiDPI canvases, a data<->pixel view
// transform (y up, like the specimen frame), and array -> image rendering.
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
 * Affine map between a data window [x0,x1]x[y0,y1] and a CSS-pixel box,
 * equal scale on both axes, y pointing up, centred in the box.
 */
export class View {
  constructor(x0, x1, y0, y1, w, h, pad = 0) {
    const sx = (w - 2 * pad) / (x1 - x0);
    const sy = (h - 2 * pad) / (y1 - y0);
    this.scale = Math.min(sx, sy);
    this.cx = (x0 + x1) / 2;
    this.cy = (y0 + y1) / 2;
    this.w = w;
    this.h = h;
  }
  px(x) {
    return this.w / 2 + (x - this.cx) * this.scale;
  }
  py(y) {
    return this.h / 2 - (y - this.cy) * this.scale;
  }
  dataX(px) {
    return this.cx + (px - this.w / 2) / this.scale;
  }
  dataY(py) {
    return this.cy - (py - this.h / 2) / this.scale;
  }
  /** Data window visible in the box. */
  bounds() {
    return [this.dataX(0), this.dataX(this.w), this.dataY(this.h), this.dataY(0)];
  }
}

const packedCache = new Map();

/** 256-entry RGBA lookup table packed as 32-bit pixels (platform byte order). */
function packedLut(cmap) {
  if (packedCache.has(cmap)) return packedCache.get(cmap);
  const table = lut(cmap);
  const out = new Uint32Array(256);
  const bytes = new Uint8Array(out.buffer);
  for (let i = 0; i < 256; i++) {
    bytes[4 * i] = table[3 * i];
    bytes[4 * i + 1] = table[3 * i + 1];
    bytes[4 * i + 2] = table[3 * i + 2];
    bytes[4 * i + 3] = 255;
  }
  packedCache.set(cmap, out);
  return out;
}

/**
 * Colormap a row-major 2-D array into a reusable offscreen canvas, fast:
 * one 32-bit write per pixel. ``target`` (from a previous call) is reused
 * when its size matches. NaN is transparent.
 */
export function renderArray(data, ny, nx, { vmin, vmax, cmap = "viridis" }, target = null) {
  let t = target;
  if (!t || t.canvas.width !== nx || t.canvas.height !== ny) {
    const canvas = document.createElement("canvas");
    canvas.width = nx;
    canvas.height = ny;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(nx, ny);
    t = { canvas, ctx, img, px: new Uint32Array(img.data.buffer) };
  }
  const table = packedLut(cmap);
  const scale = vmax > vmin ? 255 / (vmax - vmin) : 0;
  const px = t.px;
  const n = nx * ny;
  for (let i = 0; i < n; i++) {
    const v = data[i];
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
 * Render a row-major 2-D array (row 0 = first row) to an offscreen canvas
 * through a colormap; NaN becomes transparent. ``flipY`` puts row 0 at the
 * bottom (use it for arrays whose rows go with increasing y).
 */
export function arrayToImage(data, ny, nx, { vmin, vmax, cmap = "viridis", flipY = false } = {}) {
  const off = document.createElement("canvas");
  off.width = nx;
  off.height = ny;
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(nx, ny);
  const table = lut(cmap);
  const span = vmax > vmin ? vmax - vmin : 1;
  for (let r = 0; r < ny; r++) {
    const outRow = flipY ? ny - 1 - r : r;
    for (let c = 0; c < nx; c++) {
      const v = data[r * nx + c];
      const o = 4 * (outRow * nx + c);
      if (!(v === v)) {
        img.data[o + 3] = 0;
        continue;
      }
      let t = (v - vmin) / span;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const i = 3 * Math.round(t * 255);
      img.data[o] = table[i];
      img.data[o + 1] = table[i + 1];
      img.data[o + 2] = table[i + 2];
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
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
