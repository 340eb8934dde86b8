// Shared formatting and display-range helpers (js/src/lib/format.js, range.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { fmt, fmtPoint, fmtUm, pct, pm } from "../src/lib/format.js";
import { percentiles, robustRange } from "../src/lib/range.js";

test("fmt: missing, zero, round-off, exponent and plain values", () => {
  assert.equal(fmt(null), "–");
  assert.equal(fmt(Number.NaN), "–");
  assert.equal(fmt(Number.POSITIVE_INFINITY), "–");
  assert.equal(fmt(0), "0");
  assert.equal(fmt(1.469e-18), "0");
  assert.equal(fmtPoint(1.469e-18, -6.609e-18), "(0, 0)");
  assert.equal(fmt(0.7874), "0.7874");
  assert.equal(fmt(0.0069334), "0.006933");
  assert.equal(fmt(2.5e-4), "2.50e-4");
  assert.equal(fmt(1234567), "1.23e+6");
  assert.equal(fmt(316), "316");
  assert.equal(fmt(32.50001, 4), "32.5");
});

test("fmtUm, pct, pm", () => {
  assert.equal(fmtUm(33.75), "33.75");
  assert.equal(fmtUm(8), "8");
  assert.equal(pct(0.1234), "12.3 %");
  assert.equal(pm(32.5, 0.41), "32.5 ± 0.41");
  assert.equal(pm(32.5, null), "32.5");
});

test("percentiles and robustRange agree with a sorted reference", () => {
  const n = 1001;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (i * 7919) % n; // a permutation of 0..1000
  assert.deepEqual(percentiles(data, [0, 50, 100]), [0, 500, 1000]);
  assert.deepEqual(robustRange(data, 0.1, 0.9), [100, 900]);
  data[3] = Number.NaN;
  const [lo, hi] = robustRange(data, 0, 1);
  assert.ok(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo);
  assert.equal(robustRange(new Float32Array([Number.NaN])), null);
  assert.deepEqual(robustRange(new Float32Array([5, 5, 5])), [5, 6]);
});
