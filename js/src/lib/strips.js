// Accumulated illumination of box-beam strips, rasterised per canvas row.
//
// Strip k lights {(x, y) : |x cos w_k - y sin w_k - X_k| <= b/2} (seed 000,
// eq. (1): X = xs cos w - ys sin w). For each pixel row (fixed y) the lit
// part of a strip is one x-interval, so the count image is built from a
// difference array per row: O(rows x strips + pixels), cheap enough to redo
// on every slider tick even for 360 strips.

/**
 * Count image over the view window.
 * @returns {Uint16Array} counts, row 0 at the top of the view (largest y).
 */
export function stripCounts(view, nx, ny, X, omegaDeg, width) {
  const counts = new Uint16Array(nx * ny);
  const diff = new Int32Array(nx + 1);
  const [x0, x1, y0, y1] = view.bounds();
  const dx = (x1 - x0) / nx;
  const dy = (y1 - y0) / ny;
  const half = width / 2;
  const n = X.length;
  const cosw = new Float64Array(n);
  const sinw = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const w = (omegaDeg[k] * Math.PI) / 180;
    cosw[k] = Math.cos(w);
    sinw[k] = Math.sin(w);
  }
  for (let r = 0; r < ny; r++) {
    const y = y1 - (r + 0.5) * dy; // pixel-centre y, top row first
    diff.fill(0);
    let whole = 0; // strips covering the full row (cos w = 0)
    for (let k = 0; k < n; k++) {
      const c = cosw[k];
      const base = X[k] + y * sinw[k];
      if (Math.abs(c) < 1e-12) {
        // condition independent of x: |-y sin w - X| <= b/2
        if (Math.abs(-y * sinw[k] - X[k]) <= half) whole++;
        continue;
      }
      let a = (base - half) / c;
      let b = (base + half) / c;
      if (a > b) [a, b] = [b, a];
      // pixel columns whose centres lie in [a, b]
      let c0 = Math.ceil((a - x0) / dx - 0.5);
      let c1 = Math.floor((b - x0) / dx - 0.5);
      if (c1 < 0 || c0 > nx - 1 || c0 > c1) continue;
      if (c0 < 0) c0 = 0;
      if (c1 > nx - 1) c1 = nx - 1;
      diff[c0] += 1;
      diff[c1 + 1] -= 1;
    }
    let acc = whole;
    const rowOff = r * nx;
    for (let c = 0; c < nx; c++) {
      acc += diff[c];
      counts[rowOff + c] = acc;
    }
  }
  return counts;
}
