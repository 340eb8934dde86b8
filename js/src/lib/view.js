// View transforms between data coordinates and the CSS pixels of a canvas,
// one family for every widget. Each is a uniform-scale affine map centred
// on (cx, cy):
//
//     X = w/2 + (x - cx) * scale
//     Y = h/2 - (y - cy) * scale     (y up: specimen frames, `View`)
//     Y = h/2 + (y - cy) * scale     (y down: image rows, `PixelView`)
//
// `View` fits a data window [x0, x1] x [y0, y1] into the box (equal scale on
// both axes, centred). `PixelView` shows an nx x ny image in pixel
// coordinates (x = column, y = row, pixel centres at integers, so the image
// spans [-0.5, nx - 0.5] x [-0.5, ny - 0.5]), fitted to the box and then
// zoomed (zoom >= 1) and panned (its centre (cx, cy) in pixels); zooming
// about a point and panning by a drag return the new {zoom, cx, cy}.

class UniformView {
  constructor(scale, cx, cy, w, h, yUp) {
    this.scale = scale;
    this.cx = cx;
    this.cy = cy;
    this.w = w;
    this.h = h;
    this.ySign = yUp ? -1 : 1;
  }
  px(x) {
    return this.w / 2 + (x - this.cx) * this.scale;
  }
  py(y) {
    return this.h / 2 + this.ySign * (y - this.cy) * this.scale;
  }
  dataX(px) {
    return this.cx + (px - this.w / 2) / this.scale;
  }
  dataY(py) {
    return this.cy + (this.ySign * (py - this.h / 2)) / this.scale;
  }
  /** [px(x), py(y)]: spread it into a marker call, `cross(ctx, ...view.at(x, y), 5)`. */
  at(x, y) {
    return [this.px(x), this.py(y)];
  }
  /** Data window visible in the box, [x0, x1, y0, y1] with x0 < x1 and y0 < y1. */
  bounds() {
    const xa = this.dataX(0);
    const xb = this.dataX(this.w);
    const ya = this.dataY(this.h);
    const yb = this.dataY(0);
    return [Math.min(xa, xb), Math.max(xa, xb), Math.min(ya, yb), Math.max(ya, yb)];
  }
}

/**
 * Data window [x0,x1]x[y0,y1] fitted into a w x h CSS-pixel box (minus `pad`
 * on every side): equal scale on both axes, y pointing up, centred.
 */
export class View extends UniformView {
  constructor(x0, x1, y0, y1, w, h, pad = 0) {
    const sx = (w - 2 * pad) / (x1 - x0);
    const sy = (h - 2 * pad) / (y1 - y0);
    super(Math.min(sx, sy), (x0 + x1) / 2, (y0 + y1) / 2, w, h, true);
  }
}

/**
 * An nx x ny image in pixel coordinates (x = column, y = row down, pixel
 * centres at integers) in a W x H box: fitted (zoom 1 shows the whole image,
 * centred), then zoomed by `zoom` about the image point (cx, cy) put at the
 * box centre (default: the image centre).
 */
export class PixelView extends UniformView {
  constructor(nx, ny, W, H, { zoom = 1, cx = null, cy = null } = {}) {
    const fit = Math.min(W / nx, H / ny);
    super(fit * zoom, cx ?? nx / 2 - 0.5, cy ?? ny / 2 - 0.5, W, H, false);
    this.nx = nx;
    this.ny = ny;
    this.fit = fit;
    this.zoom = zoom;
    this.s = this.scale;
    // CSS position of the image's top-left corner (pixel edge -0.5, -0.5)
    this.ox = this.px(-0.5);
    this.oy = this.py(-0.5);
  }
  /** [x, y, w, h] of the whole image in CSS pixels (for ctx.drawImage). */
  imageRect() {
    return [this.ox, this.oy, this.nx * this.s, this.ny * this.s];
  }
  /** (x, y) clamped to the image, edges included. */
  clamp(x, y) {
    return [Math.min(this.nx - 0.5, Math.max(-0.5, x)), Math.min(this.ny - 0.5, Math.max(-0.5, y))];
  }
  /**
   * {zoom, cx, cy} after multiplying the zoom by `factor` (clamped to
   * [minZoom, maxZoom]) so that the image point under the CSS position (X, Y)
   * stays under it.
   */
  zoomedAt(X, Y, factor, { minZoom = 1, maxZoom = 64 } = {}) {
    const x = this.dataX(X);
    const y = this.dataY(Y);
    const zoom = Math.min(maxZoom, Math.max(minZoom, this.zoom * factor));
    const s = this.fit * zoom;
    return { zoom, cx: x - (X - this.w / 2) / s, cy: y - (Y - this.h / 2) / s };
  }
  /** {cx, cy} after dragging the image by (dX, dY) CSS pixels from this view. */
  pannedBy(dX, dY) {
    return { cx: this.cx - dX / this.s, cy: this.cy - dY / this.s };
  }
}

/**
 * CSS size [w, h] of an image of shape (ny, nx) scaled to fit a boxW x boxH
 * box, aspect kept, at least minW x minH.
 */
export function fitSize(ny, nx, boxW, boxH, minW = 1, minH = 1) {
  const s = Math.min(boxW / nx, boxH / ny);
  return [Math.max(minW, Math.round(nx * s)), Math.max(minH, Math.round(ny * s))];
}
