// Pure helpers of the PSF-sweep / element-stack front-ends: element tints,
// image fitting and the µm labels.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fmtUm } from "../src/lib/format.js";
import { fitSize } from "../src/lib/view.js";
import { tintLut, tableFor } from "../src/lib/xrf_controls.js";

test("a tint runs black -> element colour (75 %) -> near white", () => {
  const t = tintLut("#e4572e");
  assert.equal(t.length, 256 * 3);
  assert.deepEqual([...t.slice(0, 3)], [0, 0, 0]);
  const i = 3 * Math.round(0.75 * 255);
  assert.ok(Math.abs(t[i] - 0xe4) <= 2 && Math.abs(t[i + 1] - 0x57) <= 2 && Math.abs(t[i + 2] - 0x2e) <= 2);
  assert.deepEqual([...t.slice(765)], [245, 245, 245]);
  for (let k = 3; k < 3 * 192; k += 3) assert.ok(t[k] >= t[k - 3], "monotonic up to the colour");
});

test("tableFor picks a tint for '#rrggbb' and a named colormap otherwise", () => {
  assert.equal(tableFor("#3f88f5"), tintLut("#3f88f5"));
  assert.equal(tableFor("viridis").length, 768);
});

test("fitSize keeps the aspect of tall, wide and square maps", () => {
  assert.deepEqual(fitSize(655, 225, 330, 520, 80, 40), [179, 520]);
  assert.deepEqual(fitSize(600, 920, 330, 520, 80, 40), [330, 215]);
  assert.deepEqual(fitSize(128, 128, 250, 250, 80, 40), [250, 250]);
});

test("µm labels drop trailing zeros", () => {
  assert.equal(fmtUm(8), "8");
  assert.equal(fmtUm(32.5), "32.5");
  assert.equal(fmtUm(33.75), "33.75");
  assert.equal(fmtUm(null), "–");
});
