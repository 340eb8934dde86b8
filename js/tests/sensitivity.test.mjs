// Sensitivity-map helpers of js/src/lib/trajectory.js and the beam controls' labels.
import assert from "node:assert/strict";
import { test } from "node:test";
import { profileLabel } from "../src/lib/beam_controls.js";
import { sensitivityContour } from "../src/lib/trajectory.js";

test("the half-maximum contour of a radial field lies on its circle", () => {
  // S = exp(-r^2 / (2 s^2)) on a 64 x 64 grid over [-1, 1]^2 (cell edges), rows with y ascending
  const n = 64;
  const s = 0.3;
  const data = new Float32Array(n * n);
  const c = (i) => -1 + (i + 0.5) * (2 / n);
  for (let r = 0; r < n; r++) for (let k = 0; k < n; k++) data[r * n + k] = Math.exp(-(c(k) ** 2 + c(r) ** 2) / (2 * s * s));
  const seg = sensitivityContour({ data, shape: [n, n] }, [-1, 1, -1, 1], 0.5);
  const want = s * Math.sqrt(2 * Math.log(2)); // S = 1/2 at r = s sqrt(2 ln 2)
  assert.ok(seg.length >= 4 * 40, `only ${seg.length / 4} segments`);
  for (let i = 0; i < seg.length; i += 2) {
    const r = Math.hypot(seg[i], seg[i + 1]);
    assert.ok(Math.abs(r - want) < 0.01, `point at r = ${r}, want ${want}`);
  }
  // rows go with y: a field that depends on y only gives a horizontal contour at its y
  const g = new Float32Array(n * n);
  for (let r = 0; r < n; r++) for (let k = 0; k < n; k++) g[r * n + k] = c(r) < 0.25 ? 1 : 0;
  const h = sensitivityContour({ data: g, shape: [n, n] }, [-1, 1, -1, 1], 0.5);
  for (let i = 1; i < h.length; i += 2) assert.ok(Math.abs(h[i] - 0.25) < 2 / n);
  assert.deepEqual(sensitivityContour({ data: new Float32Array(0), shape: [0, 0] }, [0, 1, 0, 1]), []);
  assert.deepEqual(sensitivityContour(null, [0, 1, 0, 1]), []);
});

test("profile labels", () => {
  assert.equal(profileLabel("box_gaussian"), "box ⊗ gaussian");
  assert.equal(profileLabel("gaussian"), "gaussian");
});
