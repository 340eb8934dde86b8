// Colour bars: a 256-entry lookup table drawn along a canvas, one CSS pixel
// per sample, with its end values (and optionally the middle value and a
// caption). Pixel i of a bar n pixels long shows table entry
// round(255 i / (n - 1)), i = 0 at the low end (left, or bottom when
// vertical), so both ends show the table's first and last colours.
import { lut } from "./colormap.js";
import { fmt } from "./format.js";

/** Table entry shown by pixel `i` of a bar `n` pixels long. */
export function barIndex(i, n) {
  return Math.round((255 * i) / Math.max(1, n - 1));
}

/** CSS colour of entry `k` of a 256 x RGB table. */
function entry(table, k) {
  return `rgb(${table[3 * k]},${table[3 * k + 1]},${table[3 * k + 2]})`;
}

const HORIZONTAL = { pad: 4, offset: 2, thickness: 10, font: "11px sans-serif", labelAt: 15 };
const VERTICAL = { pad: 10, offset: 4, thickness: 14, font: "11px sans-serif", labelAt: 22 };

/**
 * Draw a colour bar filling `canvas` (made by makeCanvas; it is cleared).
 * `cmap` is a colormap name of colormap.js or a 256 x RGB Uint8Array.
 * Options: `vertical` (low end at the bottom), `pad` (CSS px left free at
 * both ends), `offset` and `thickness` of the bar across it, `font`,
 * `labelAt` (the labels' position across the bar), `format` of the values,
 * `middle` (also label the middle value), `caption` (centred text,
 * horizontal bars only) and `colour` of the text.
 */
export function drawColorbar(canvas, cmap, lo, hi, opts = {}) {
  const vertical = !!opts.vertical;
  const o = { ...(vertical ? VERTICAL : HORIZONTAL), format: (v) => fmt(v, 3), colour: "#333", ...opts };
  const table = typeof cmap === "string" ? lut(cmap) : cmap;
  const ctx = canvas.getContext("2d");
  const W = canvas._cssW;
  const H = canvas._cssH;
  ctx.clearRect(0, 0, W, H);
  const n = (vertical ? H : W) - 2 * o.pad;
  for (let i = 0; i < n; i++) {
    ctx.fillStyle = entry(table, barIndex(vertical ? n - 1 - i : i, n));
    if (vertical) ctx.fillRect(o.offset, o.pad + i, o.thickness, 1);
    else ctx.fillRect(o.pad + i, o.offset, 1, o.thickness);
  }
  ctx.fillStyle = o.colour;
  ctx.font = o.font;
  if (vertical) drawVerticalLabels(ctx, o, n, lo, hi);
  else drawHorizontalLabels(ctx, o, n, lo, hi);
}

function drawVerticalLabels(ctx, o, n, lo, hi) {
  ctx.fillText(o.format(hi), o.labelAt, o.pad + 8);
  if (o.middle) ctx.fillText(o.format((lo + hi) / 2), o.labelAt, o.pad + n / 2 + 4);
  ctx.fillText(o.format(lo), o.labelAt, o.pad + n);
}

function drawHorizontalLabels(ctx, o, n, lo, hi) {
  ctx.save();
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(o.format(lo), o.pad, o.labelAt);
  ctx.textAlign = "right";
  ctx.fillText(o.format(hi), o.pad + n, o.labelAt);
  if (o.middle) {
    ctx.textAlign = "center";
    ctx.fillText(o.format((lo + hi) / 2), o.pad + n / 2, o.labelAt);
  }
  if (o.caption) {
    ctx.textAlign = "center";
    ctx.fillText(o.caption, o.pad + n / 2, o.labelAt);
  }
  ctx.restore();
}
