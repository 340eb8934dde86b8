// Sliders drawn from Python's method table (superres_widgets.xrf.registry):
// the value <-> position mapping of linear and log sliders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sliderScale, paramLabel } from "../src/lib/xrf_controls.js";

const numIter = { name: "num_iter", kind: "int", slider_lo: 1, slider_hi: 1000, step: 1, log: true, odd: false,
  label: "iterations", unit: "" };
const balance = { name: "balance", kind: "float", slider_lo: 1e-4, slider_hi: 1, step: null, log: true, odd: false,
  label: "Wiener balance", unit: "" };
const kernel = { name: "kernel_size", kind: "int", slider_lo: 3, slider_hi: 81, step: 2, log: false, odd: true,
  label: "blind kernel", unit: "px" };

test("a log slider spans its declared range and lands on integers", () => {
  const s = sliderScale(numIter);
  assert.deepEqual([s.min, s.max, s.step], [0, 1000, 1]);
  assert.equal(s.toValue(0), 1);
  assert.equal(s.toValue(1000), 1000);
  assert.equal(s.toValue(500), Math.round(Math.sqrt(1000))); // the geometric middle
  for (const v of [1, 7, 30, 100, 999]) assert.ok(Math.abs(s.toValue(s.toPos(v)) - v) <= Math.max(1, 0.01 * v));
  assert.equal(s.toPos(5000), 1000); // beyond the slider: pinned at its end
});

test("a log slider of a float keeps three significant digits", () => {
  const s = sliderScale(balance);
  assert.equal(s.toValue(0), 1e-4);
  assert.equal(s.toValue(1000), 1);
  const v = s.toValue(s.toPos(0.03));
  assert.ok(Math.abs(v - 0.03) / 0.03 < 0.01, v);
  assert.equal(String(v).replace(/^0\.0*/, "").length <= 3, true);
});

test("a linear slider passes values through; odd ints stay odd", () => {
  const s = sliderScale(kernel);
  assert.deepEqual([s.min, s.max, s.step], [3, 81, 2]);
  assert.equal(s.toValue(41), 41);
  assert.equal(s.toValue(40), 41);
  assert.equal(s.toValue(200), 81);
  assert.equal(paramLabel(kernel), "blind kernel (px)");
});
