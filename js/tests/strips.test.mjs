// The browser's strip rasteriser against numbers computed by the Python
// geometry layer (seed 000 Fig. 2: exact areas 0.7874 and 0.00693 beam^2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { stripCounts, stripIllumination, beamTable, beamWeight } from "../src/lib/strips.js";
import { View } from "../src/lib/view.js";
import { decodeArray, finiteRange } from "../src/lib/arrays.js";

// (X, omega) lists of seed 000 Fig. 2 (X in +-10, 10 deg steps, beam = step = 1)
function measurements(xs, ys) {
  const X = [];
  const om = [];
  for (let w = 0; w < 180; w += 10) {
    const r = (w * Math.PI) / 180;
    const x = xs * Math.cos(r) - ys * Math.sin(r);
    X.push(Math.sign(x) * Math.round(Math.abs(x) + 1e-9));
    om.push(w);
  }
  return [Float32Array.from(X), Float32Array.from(om)];
}

function fullArea(xs, ys, half, n) {
  const [X, om] = measurements(xs, ys);
  const view = new View(xs - half, xs + half, ys - half, ys + half, n, n);
  const counts = stripCounts(view, n, n, X, om, 1.0);
  let full = 0;
  for (const c of counts) if (c === X.length) full++;
  const px = (2 * half) / n;
  return full * px * px;
}

test("fully superposed area at (0,0) matches the exact polygon", () => {
  assert.ok(Math.abs(fullArea(0, 0, 0.6, 600) - 0.7874) < 0.004);
});

test("fully superposed area at (3,2) matches the exact polygon", () => {
  assert.ok(Math.abs(fullArea(3, 2, 0.1, 800) - 0.00693) < 0.0003);
});

test("a strip at omega = 90 deg covers whole rows", () => {
  const view = new View(-2, 2, -2, 2, 40, 40);
  const counts = stripCounts(view, 40, 40, Float32Array.from([1]), Float32Array.from([90]), 1.0);
  // X = -ys at 90 deg: lit rows are ys in [-1.5, -0.5]; row 0 is the top (ys = +2)
  const lit = [];
  for (let r = 0; r < 40; r++) lit.push(counts[r * 40 + 7]);
  const ys = lit.map((c, r) => (c ? 2 - (r + 0.5) * 0.1 : null)).filter((v) => v !== null);
  assert.ok(Math.abs(Math.max(...ys) + 0.55) < 1e-9 && Math.abs(Math.min(...ys) + 1.45) < 1e-9);
  assert.equal(counts.filter((c) => c > 1).length, 0);
});

test("decodeArray views binary buffers, aligned or not", () => {
  const f = Float32Array.from([1, 2, 3, NaN]);
  const a = decodeArray({ buffer: new DataView(f.buffer), dtype: "float32", shape: [2, 2] });
  assert.deepEqual(Array.from(a.data.slice(0, 3)), [1, 2, 3]);
  assert.deepEqual(a.shape, [2, 2]);
  const raw = new Uint8Array(17);
  raw.set(new Uint8Array(f.buffer), 1);
  const b = decodeArray({ buffer: new DataView(raw.buffer, 1, 16), dtype: "float32", shape: [4] });
  assert.deepEqual(finiteRange(b.data), [1, 3]);
});

// --- beam profiles sent by Python (superres_widgets.s3dxrd.profile_samples) ---

// a trapezoid: flat for |d| <= 0.2 b, linear to 0 at |d| = 0.5 b (in the unit of b)
function trapezoid(d, b) {
  const t = Math.abs(d) / b;
  return Math.min(1, Math.max(0, (0.5 - t) / 0.3));
}

// what profile_samples(profile, b, n) sends: support and n samples over [-s, s]
function samples(fn, b, support, n = 129) {
  const weights = [];
  for (let i = 0; i < n; i++) weights.push(fn(-support + (2 * support * i) / (n - 1), b));
  return { name: "test", support, clip_half_width: support, flat: weights.every((w) => w === 1), weights };
}

// brute force: every pixel centre, every strip, the table's weight
function bruteForce(view, nx, ny, X, om, beam) {
  const table = beamTable(beam);
  const [x0, x1, y0, y1] = view.bounds();
  const dx = (x1 - x0) / nx;
  const dy = (y1 - y0) / ny;
  const counts = new Uint16Array(nx * ny);
  const weights = new Float64Array(nx * ny);
  for (let r = 0; r < ny; r++) {
    const y = y1 - (r + 0.5) * dy;
    for (let c = 0; c < nx; c++) {
      const x = x0 + (c + 0.5) * dx;
      for (let k = 0; k < X.length; k++) {
        const w = (om[k] * Math.PI) / 180;
        const v = beamWeight(table, x * Math.cos(w) - y * Math.sin(w) - X[k]);
        if (v > 0) {
          counts[r * nx + c] += 1;
          weights[r * nx + c] += v;
        }
      }
    }
  }
  return { counts, weights };
}

test("a box sent as profile samples rasterises exactly like the box width", () => {
  const [X, om] = measurements(3, 2);
  const view = new View(2.5, 3.5, 1.5, 2.5, 120, 120);
  const box = samples(() => 1, 1.0, 0.5, 129);
  assert.equal(beamTable(box).flat, true);
  assert.deepEqual(stripCounts(view, 120, 120, X, om, box), stripCounts(view, 120, 120, X, om, 1.0));
});

test("a trapezoid profile: the strip rasteriser equals a brute-force raster", () => {
  const [X, om] = measurements(1.25, -0.5);
  const Xs = Float32Array.from([...X, 0.0]); // plus one strip at 90 deg (whole rows)
  const oms = Float32Array.from([...om, 90]);
  const beam = samples(trapezoid, 1.3, 0.65);
  assert.equal(beamTable(beam).flat, false);
  const view = new View(-0.5, 3, -2, 1, 90, 77);
  const fast = stripIllumination(view, 90, 77, Xs, oms, beam);
  const slow = bruteForce(view, 90, 77, Xs, oms, beam);
  assert.deepEqual(Array.from(fast.counts), Array.from(slow.counts));
  let worst = 0;
  for (let i = 0; i < slow.weights.length; i++) worst = Math.max(worst, Math.abs(fast.weights[i] - slow.weights[i]));
  assert.ok(worst < 1e-4, `max weight difference ${worst}`);
  // some pixels are partly lit (0 < w < 1) and the fully lit set is not empty
  let partial = 0;
  let full = 0;
  for (let i = 0; i < fast.counts.length; i++) {
    if (fast.counts[i] === Xs.length) full++;
    if (fast.weights[i] % 1 !== 0) partial++;
  }
  assert.ok(full > 0 && partial > 100, `full ${full}, partial ${partial}`);
});

test("the interpolated table follows the analytic trapezoid and is 0 beyond its support", () => {
  const table = beamTable(samples(trapezoid, 2.0, 1.0, 129));
  for (const d of [0, 0.1, 0.39, 0.4, 0.55, 0.7, 0.9, 0.999, -0.62]) {
    assert.ok(Math.abs(beamWeight(table, d) - trapezoid(d, 2.0)) < 0.02, `d=${d}`);
  }
  assert.equal(beamWeight(table, 1.0), 0);
  assert.equal(beamWeight(table, 1.0001), 0);
  assert.equal(beamWeight(table, -5), 0);
  assert.throws(() => beamTable({ support: 0, weights: [1, 1] }), /support/);
});
