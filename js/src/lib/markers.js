// Markers drawn on canvases, in CSS-pixel coordinates (X, Y) of the canvas:
// crosses, dots, rings, circles, squares, arrow heads and text with a dark
// halo. Get (X, Y) from any view of view.js: `cross(ctx, ...view.at(x, y), 5)`.
// Every function saves and restores the context state.

const HALO = "rgba(0,0,0,0.75)";

/**
 * Stroke the path built by `path()` once, or twice with `halo`: first
 * `halo` at width + 2, then `colour` at `width` on top (readable on any image).
 */
export function strokePath(ctx, path, { colour = "#000", width = 1, dash = null, halo = null } = {}) {
  ctx.save();
  if (dash) ctx.setLineDash(dash);
  if (halo) {
    ctx.strokeStyle = halo;
    ctx.lineWidth = width + 2;
    path();
    ctx.stroke();
  }
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  path();
  ctx.stroke();
  ctx.restore();
}

/** A "+" of half-size `r` centred on (X, Y). */
export function cross(ctx, X, Y, r = 5, { colour = "#000", width = 1.5, halo = null } = {}) {
  strokePath(ctx, () => {
    ctx.beginPath();
    ctx.moveTo(X - r, Y);
    ctx.lineTo(X + r, Y);
    ctx.moveTo(X, Y - r);
    ctx.lineTo(X, Y + r);
  }, { colour, width, halo });
}

/** A filled dot with an outline (a target, a line's start point). */
export function dot(ctx, X, Y, r = 3, { fill = "#ff7f0e", stroke = "#000", width = 1 } = {}) {
  ctx.save();
  ctx.fillStyle = fill;
  ctx.strokeStyle = stroke;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.arc(X, Y, r, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
  ctx.restore();
}

/** An open circle of radius `r` (the rotation centre, a specimen outline). */
export function circle(ctx, X, Y, r = 3, { colour = "rgba(0,0,0,0.6)", width = 1 } = {}) {
  ctx.save();
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.arc(X, Y, r, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.restore();
}

/** An open ring, white under black, that leaves the point itself visible. */
export function ring(ctx, X, Y, r = 6) {
  ctx.save();
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(255,255,255,0.9)";
  ctx.beginPath();
  ctx.arc(X, Y, r, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#000";
  ctx.stroke();
  ctx.restore();
}

/** The outline of the square [X0, X0 + side] x [Y0, Y0 + side] (a selected cell). */
export function square(ctx, X0, Y0, side, { colour = "#ff2d2d", width = 2 } = {}) {
  ctx.save();
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.strokeRect(X0, Y0, side, side);
  ctx.restore();
}

/** The open arrow head at (X1, Y1) of a line coming from (X0, Y0): two barbs of length `size`. */
export function arrowHead(ctx, X0, Y0, X1, Y1, { size = 9, spread = 0.45, colour = "#fff", width = 2, halo = HALO } = {}) {
  const ang = Math.atan2(Y1 - Y0, X1 - X0);
  strokePath(ctx, () => {
    ctx.beginPath();
    ctx.moveTo(X1 - size * Math.cos(ang - spread), Y1 - size * Math.sin(ang - spread));
    ctx.lineTo(X1, Y1);
    ctx.lineTo(X1 - size * Math.cos(ang + spread), Y1 - size * Math.sin(ang + spread));
  }, { colour, width, halo });
}

/** Text with a dark halo, readable on any image. */
export function haloText(ctx, text, X, Y, { font = "bold 11px sans-serif", colour = "#fff", halo = HALO, baseline = null } = {}) {
  ctx.save();
  ctx.font = font;
  if (baseline) ctx.textBaseline = baseline;
  ctx.lineWidth = 3;
  ctx.strokeStyle = halo;
  ctx.strokeText(text, X, Y);
  ctx.fillStyle = colour;
  ctx.fillText(text, X, Y);
  ctx.restore();
}

/** White text on a translucent dark box whose `align` side is at X (a view's name tag). */
export function tag(ctx, text, X, Y, align = "left") {
  ctx.save();
  ctx.font = "12px sans-serif";
  ctx.textAlign = align;
  ctx.fillStyle = "rgba(0,0,0,0.6)";
  const w = ctx.measureText(text).width;
  ctx.fillRect(align === "left" ? X - 3 : X - w - 3, Y - 12, w + 6, 16);
  ctx.fillStyle = "#fff";
  ctx.fillText(text, X, Y);
  ctx.restore();
}
