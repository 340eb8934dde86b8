// Beam-trajectory overlay shared by the widgets: the accumulated strips of a
// target's (X, omega) list rasterised over a canvas view (the markers drawn
// on top are in markers.js). Coordinates are data coordinates of the View (steps in the
// BeamTrajectoryExplorer, micrometres in the ReconstructionExplorer): X and
// the beam (the profile samples sent by Python, or a box width) must be in
// the same unit as the view.
import { lut } from "./colormap.js";
import { beamTable, stripIllumination } from "./strips.js";

// Colour of a point lit in every measurement (the fully superposed region).
export const FULL_RGB = [220, 20, 60];

/**
 * Offscreen canvas (W x H, one sample per CSS pixel) of the illumination.
 * style "viridis": the summed beam weight on viridis, the fully superposed
 * region (lit in every measurement) red (seed 000 Fig. 2); style "overlay": a
 * dark veil growing with the weight and the fully superposed region in
 * magenta, for drawing over an image. ``beam`` is the profile samples sent
 * by Python (or a box width). A beam with tails lights almost everything a
 * little: its strips are drawn by weight only (intensity, not lit/unlit) and
 * the region is left to the sensitivity map. Returns null when there is no
 * strip.
 */
export function stripImage(view, W, H, X, omegaDeg, beam, style = "viridis") {
  const n = X ? X.length : 0;
  if (n === 0) return null;
  const nx = Math.round(W);
  const ny = Math.round(H);
  const { counts, weights } = stripIllumination(view, nx, ny, X, omegaDeg, beam);
  const full = beamTable(beam).flat ? n : Number.POSITIVE_INFINITY; // count that paints the region
  const off = document.createElement("canvas");
  off.width = nx;
  off.height = ny;
  const octx = off.getContext("2d");
  const img = octx.createImageData(nx, ny);
  const table = lut("viridis");
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    const wsum = weights[i];
    const o = 4 * i;
    if (c === 0) {
      img.data[o + 3] = 0;
      continue;
    }
    if (style === "overlay") {
      if (c === full) {
        img.data[o] = 255;
        img.data[o + 1] = 0;
        img.data[o + 2] = 220;
        img.data[o + 3] = 255;
      } else {
        // transparent where little light passes, darkening towards the target
        const t = wsum / n;
        img.data[o] = 0;
        img.data[o + 1] = 0;
        img.data[o + 2] = 0;
        img.data[o + 3] = Math.round(200 * t * t * t);
      }
      continue;
    }
    if (c === full) {
      // fully superposed: every measurement lights this point
      img.data[o] = FULL_RGB[0];
      img.data[o + 1] = FULL_RGB[1];
      img.data[o + 2] = FULL_RGB[2];
      img.data[o + 3] = 255;
      continue;
    }
    const t = 0.15 + (0.85 * wsum) / n;
    const j = 3 * Math.round(255 * t);
    img.data[o] = table[j];
    img.data[o + 1] = table[j + 1];
    img.data[o + 2] = table[j + 2];
    img.data[o + 3] = Math.round(90 + 140 * (wsum / n));
  }
  octx.putImageData(img, 0, 0);
  return off;
}

/** Draw the strip image over the whole W x H box of ``ctx`` (no smoothing). */
export function drawStrips(ctx, view, W, H, X, omegaDeg, beam, style = "viridis") {
  const off = stripImage(view, W, H, X, omegaDeg, beam, style);
  if (!off) return false;
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, W, H);
  ctx.restore();
  return true;
}

/**
 * Offscreen canvas of a sensitivity map S / S_max (a decoded float array
 * [ny, nx], rows with y ascending): magma, transparent where S is small and
 * opaque above S = 1/2. Returns null for an empty array.
 */
export function sensitivityImage(arr) {
  if (arr?.shape.length !== 2 || arr.data.length === 0) return null;
  const [ny, nx] = arr.shape;
  const off = document.createElement("canvas");
  off.width = nx;
  off.height = ny;
  const octx = off.getContext("2d");
  const img = octx.createImageData(nx, ny);
  const table = lut("magma");
  for (let r = 0; r < ny; r++) {
    const src = (ny - 1 - r) * nx; // row 0 of the canvas is the largest y
    for (let c = 0; c < nx; c++) {
      const t = Math.max(0, Math.min(1, arr.data[src + c]));
      const j = 3 * Math.round(255 * (0.25 + 0.75 * t));
      const o = 4 * (r * nx + c);
      img.data[o] = table[j];
      img.data[o + 1] = table[j + 1];
      img.data[o + 2] = table[j + 2];
      img.data[o + 3] = Math.round(255 * Math.min(1, 2 * t));
    }
  }
  octx.putImageData(img, 0, 0);
  return off;
}

/**
 * Contour of S / S_max = `level` on the cells of a sensitivity map (marching
 * squares, one segment per crossed cell side pair), as flat [x0, y0, x1, y1,
 * ...] data coordinates of `extent` = [xmin, xmax, ymin, ymax] (cell edges).
 */
export function sensitivityContour(arr, extent, level = 0.5) {
  const out = [];
  if (arr?.shape.length !== 2 || arr.data.length === 0) return out;
  const [ny, nx] = arr.shape;
  const [x0, x1, y0, y1] = extent;
  const dx = (x1 - x0) / nx;
  const dy = (y1 - y0) / ny;
  const v = (r, c) => arr.data[r * nx + c] - level;
  const X = (c) => x0 + (c + 0.5) * dx;
  const Y = (r) => y0 + (r + 0.5) * dy;
  const cut = (a, b) => a / (a - b); // fraction from a to b where the value crosses the level
  for (let r = 0; r < ny - 1; r++) {
    for (let c = 0; c < nx - 1; c++) {
      const a = v(r, c);
      const b = v(r, c + 1);
      const d = v(r + 1, c);
      const e = v(r + 1, c + 1);
      const pts = [];
      if (a > 0 !== b > 0) pts.push(X(c) + cut(a, b) * dx, Y(r));
      if (b > 0 !== e > 0) pts.push(X(c + 1), Y(r) + cut(b, e) * dy);
      if (d > 0 !== e > 0) pts.push(X(c) + cut(d, e) * dx, Y(r + 1));
      if (a > 0 !== d > 0) pts.push(X(c), Y(r) + cut(a, d) * dy);
      if (pts.length >= 4) out.push(pts[0], pts[1], pts[2], pts[3]);
      if (pts.length === 8) out.push(pts[4], pts[5], pts[6], pts[7]);
    }
  }
  return out;
}
