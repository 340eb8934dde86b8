// Beam-trajectory overlay shared by the widgets: the accumulated strips of a
// target's (X, omega) list rasterised over a canvas view (the markers drawn
// on top are in markers.js). Coordinates are data coordinates of the View (steps in the
// BeamTrajectoryExplorer, micrometres in the ReconstructionExplorer): X and
// the beam (the profile samples sent by Python, or a box width) must be in
// the same unit as the view.
import { lut } from "./colormap.js";
import { stripIllumination } from "./strips.js";

// Colour of a point lit in every measurement (the fully superposed region).
export const FULL_RGB = [220, 20, 60];

/**
 * Offscreen canvas (W x H, one sample per CSS pixel) of the illumination.
 * style "viridis": the summed beam weight on viridis, the fully superposed
 * region (lit in every measurement) red (seed 000 Fig. 2); style "overlay": a
 * dark veil growing with the weight and the fully superposed region in
 * magenta, for drawing over an image. ``beam`` is the profile samples sent
 * by Python (or a box width). Returns null when there is no strip.
 */
export function stripImage(view, W, H, X, omegaDeg, beam, style = "viridis") {
  const n = X ? X.length : 0;
  if (n === 0) return null;
  const nx = Math.round(W);
  const ny = Math.round(H);
  const { counts, weights } = stripIllumination(view, nx, ny, X, omegaDeg, beam);
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
      if (c === n) {
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
    if (c === n) {
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
