// The browser's strip rasteriser against numbers computed by the Python
// geometry layer (seed 000 Fig. 2: exact areas 0.7874 and 0.00693 beam^2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { stripCounts } from "../src/lib/strips.js";
import { View } from "../src/lib/canvas.js";
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
