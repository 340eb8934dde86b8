// RGBA images computed in Python (uint8, shape [ny, nx, 4]) -> offscreen
// canvases, and line segments [n, 4] (x0, y0, x1, y1 in data units) -> paths.

/**
 * Offscreen canvas of a decoded RGBA array ({data: Uint8Array, shape}).
 * ``flipY`` puts row 0 at the bottom (arrays whose rows go with increasing y).
 */
export function rgbaImage(arr, { flipY = false } = {}) {
  if (arr?.shape.length !== 3 || arr.shape[2] !== 4) return null;
  const [ny, nx] = arr.shape;
  const off = document.createElement("canvas");
  off.width = nx;
  off.height = ny;
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(nx, ny);
  const rowBytes = 4 * nx;
  for (let r = 0; r < ny; r++) {
    const src = (flipY ? ny - 1 - r : r) * rowBytes;
    img.data.set(arr.data.subarray(src, src + rowBytes), r * rowBytes);
  }
  ctx.putImageData(img, 0, 0);
  return off;
}

/** Draw ``image`` so that its cell edges span ``extent`` = [x0, x1, y0, y1]. */
export function drawExtent(ctx, view, image, extent) {
  if (!image) return;
  const [x0, x1, y0, y1] = extent;
  const px0 = view.px(x0);
  const py0 = view.py(y1);
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, px0, py0, view.px(x1) - px0, view.py(y0) - py0);
  ctx.restore();
}

/** Stroke every segment of a decoded [n, 4] float array in one path. */
export function strokeSegments(ctx, view, segs, { colour = "#000", width = 1, dash = null } = {}) {
  if (!segs || segs.data.length < 4) return;
  const d = segs.data;
  ctx.save();
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.lineCap = "square";
  if (dash) ctx.setLineDash(dash);
  ctx.beginPath();
  for (let i = 0; i + 3 < d.length; i += 4) {
    ctx.moveTo(view.px(d[i]), view.py(d[i + 1]));
    ctx.lineTo(view.px(d[i + 2]), view.py(d[i + 3]));
  }
  ctx.stroke();
  ctx.restore();
}
