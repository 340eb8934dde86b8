// Accumulated illumination of beam strips, rasterised per canvas row.
//
// Measurement k lights the specimen point (x, y) with the weight w(d) of the
// beam profile at the signed distance d = x cos w_k - y sin w_k - X_k from
// its centre line (seed 000, eq. (1): X = xs cos w - ys sin w). The profile
// comes from Python (superres_widgets.s3dxrd.profile_samples): its support s
// (w = 0 for |d| > s) and n weights sampled at d_i = -s + 2 s i / (n - 1),
// interpolated linearly; a point is lit when the weight is > 0. This module
// has no beam model of its own.
//
// For each pixel row (fixed y) the support of a strip is one x-interval. A
// flat profile (a box: every weight 1) is accumulated with a difference array
// per row, O(rows x strips + pixels), cheap enough to redo on every slider
// tick even for 360 strips; other profiles evaluate the weight at each pixel
// of the interval.

/**
 * Normalise a beam description: a profile-samples object
 * {support, weights, flat?} or a number (a box of that full width).
 * @returns {{support: number, weights: Float64Array, flat: boolean}}
 */
export function beamTable(beam) {
  if (typeof beam === "number") {
    return { support: beam / 2, weights: Float64Array.from([1, 1]), flat: true };
  }
  if (!beam || !(beam.support > 0) || !beam.weights || beam.weights.length < 2) {
    throw new Error("beam must be a width or {support > 0, weights: >= 2 samples}");
  }
  const weights = Float64Array.from(beam.weights);
  let flat = true;
  for (const w of weights) if (w !== 1) flat = false;
  return { support: beam.support, weights, flat };
}

/** Weight of the profile table at signed distance d (linear interpolation, 0 outside). */
export function beamWeight(table, d) {
  const s = table.support;
  if (!(Math.abs(d) <= s)) return 0;
  const n = table.weights.length;
  const f = ((d + s) / (2 * s)) * (n - 1);
  const i = Math.min(Math.max(Math.floor(f), 0), n - 2);
  const t = f - i;
  return table.weights[i] * (1 - t) + table.weights[i + 1] * t;
}

/**
 * Lit count and summed weight over the view window.
 * @returns {{counts: Uint16Array, weights: Float32Array}} row 0 at the top
 *   of the view (largest y); counts[i] = strips with w > 0 at the pixel
 *   centre, weights[i] = sum of their weights (equal for a box).
 */
export function stripIllumination(view, nx, ny, X, omegaDeg, beam) {
  const table = beamTable(beam);
  const counts = new Uint16Array(nx * ny);
  const weights = new Float32Array(nx * ny);
  const diff = new Int32Array(nx + 1);
  const [x0, x1, y0, y1] = view.bounds();
  const dx = (x1 - x0) / nx;
  const dy = (y1 - y0) / ny;
  const half = table.support;
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
    const rowOff = r * nx;
    diff.fill(0);
    let whole = 0; // flat strips covering the full row (cos w = 0)
    let wholeWeight = 0; // weighted strips covering the full row
    let wholeCount = 0;
    for (let k = 0; k < n; k++) {
      const c = cosw[k];
      const base = X[k] + y * sinw[k];
      if (Math.abs(c) < 1e-12) {
        // condition independent of x: d = -y sin w - X
        const d = -y * sinw[k] - X[k];
        if (table.flat) {
          if (Math.abs(d) <= half) whole++;
        } else {
          const w = beamWeight(table, d);
          if (w > 0) {
            wholeWeight += w;
            wholeCount++;
          }
        }
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
      if (table.flat) {
        diff[c0] += 1;
        diff[c1 + 1] -= 1;
        continue;
      }
      for (let col = c0; col <= c1; col++) {
        const w = beamWeight(table, (x0 + (col + 0.5) * dx) * c - base);
        if (w > 0) {
          counts[rowOff + col] += 1;
          weights[rowOff + col] += w;
        }
      }
    }
    let acc = whole;
    for (let col = 0; col < nx; col++) {
      acc += diff[col];
      const i = rowOff + col;
      counts[i] += acc + wholeCount;
      weights[i] += acc + wholeWeight;
    }
  }
  return { counts, weights };
}

/**
 * Count image over the view window (strips lighting each pixel centre).
 * @returns {Uint16Array} counts, row 0 at the top of the view (largest y).
 */
export function stripCounts(view, nx, ny, X, omegaDeg, beam) {
  return stripIllumination(view, nx, ny, X, omegaDeg, beam).counts;
}
