// PSFFitExplorer front-end logic: the pixel-coordinate convention of the
// knife-edge line (x = column, y = row, pixel centres at integers, the map
// spans [-0.5, n - 0.5]) and the robust colour range.
import { test } from "node:test";
import assert from "node:assert/strict";
import { robustRange } from "../src/lib/range.js";
import { PixelView } from "../src/lib/view.js";

test("pixel centres map to the middle of their canvas cells and back", () => {
  const v = new PixelView(121, 121, 420, 420);
  const s = 420 / 121;
  assert.ok(Math.abs(v.px(0) - 0.5 * s) < 1e-9);
  assert.ok(Math.abs(v.px(120) - 420 + 0.5 * s) < 1e-9);
  assert.ok(Math.abs(v.px(-0.5)) < 1e-9 && Math.abs(v.py(120.5) - 420) < 1e-9);
  for (const x of [-0.5, 0, 17.25, 60, 120.5]) {
    assert.ok(Math.abs(v.dataX(v.px(x)) - x) < 1e-9);
    assert.ok(Math.abs(v.dataY(v.py(x)) - x) < 1e-9);
  }
});

test("a non-square map keeps square pixels and is centred", () => {
  const v = new PixelView(396, 584, 287, 420); // cols x rows of the quickstart chart
  assert.ok(Math.abs(v.s - Math.min(287 / 396, 420 / 584)) < 1e-12);
  assert.ok(Math.abs(v.px(-0.5) - v.ox) < 1e-9 && v.ox >= 0 && v.oy >= 0);
  assert.ok(Math.abs(v.py(583.5) - (v.oy + 584 * v.s)) < 1e-9);
});

test("drag positions are clamped to the map", () => {
  const v = new PixelView(50, 30, 500, 300);
  assert.deepEqual(v.clamp(-3, 100), [-0.5, 29.5]);
  assert.deepEqual(v.clamp(10, 10), [10, 10]);
});

test("robustRange ignores NaN and clips hot pixels", () => {
  const a = new Float32Array(10000);
  for (let i = 0; i < a.length; i++) a[i] = i % 100;
  a[5] = NaN;
  a[7] = 1e9; // one hot pixel
  const [lo, hi] = robustRange(a, 0.001, 0.999);
  assert.ok(lo >= 0 && lo <= 1, String(lo));
  assert.ok(hi >= 98 && hi <= 99, String(hi));
  assert.deepEqual(robustRange(new Float32Array([3, 3, 3])), [3, 4]); // flat: a unit span
  assert.equal(robustRange(new Float32Array([NaN])), null);
});
