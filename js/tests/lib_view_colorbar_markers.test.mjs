// The shared view transforms (lib/view.js), colour bars (lib/colorbar.js),
// markers (lib/markers.js), binding helpers (lib/bind.js) and fmtFixed,
// checked against the formulas the widgets used before they shared them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { frameScheduler, onTraits } from "../src/lib/bind.js";
import { barIndex, drawColorbar } from "../src/lib/colorbar.js";
import { cssColor, lut } from "../src/lib/colormap.js";
import { fmtFixed, fmtPoint } from "../src/lib/format.js";
import { arrowHead, circle, cross, dot, haloText, ring, square, strokePath, tag } from "../src/lib/markers.js";
import { fitSize, PixelView, View } from "../src/lib/view.js";

const close = (a, b, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

/** A 2-D context that records every call and property write, with save/restore of its state. */
function recorder() {
  const log = [];
  const state = { fillStyle: "#000", strokeStyle: "#000", lineWidth: 1, font: "10px sans-serif", textAlign: "start", textBaseline: "alphabetic" };
  const stack = [];
  const ctx = new Proxy(state, {
    get(target, key) {
      if (key === "log") return log;
      if (key === "save") return () => { stack.push({ ...target }); log.push(["save"]); };
      if (key === "restore") return () => { Object.assign(target, stack.pop()); log.push(["restore"]); };
      if (key === "measureText") return (t) => ({ width: 6 * t.length });
      if (key in target) return target[key];
      return (...args) => log.push([key, ...args, { ...target }]);
    },
    set(target, key, value) {
      target[key] = value;
      log.push([`=${String(key)}`, value]);
      return true;
    },
  });
  return { ctx, log, stack, state };
}

const calls = (log, name) => log.filter((e) => e[0] === name);

// -- views ------------------------------------------------------------------------

test("View fits a data window, y up, and inverts", () => {
  const v = new View(-2, 4, -1, 1, 300, 200, 10); // x limits the scale: (300 - 20) / 6
  close(v.scale, 280 / 6);
  close(v.px(1), 150);
  close(v.py(0), 100);
  close(v.py(1), 100 - v.scale); // y up
  for (const x of [-2, 0.3, 4]) close(v.dataX(v.px(x)), x);
  for (const y of [-1, 0.7]) close(v.dataY(v.py(y)), y);
  assert.deepEqual(v.at(1, 0), [v.px(1), v.py(0)]);
  const [x0, x1, y0, y1] = v.bounds();
  close(x0, 1 - 150 / v.scale);
  close(x1, 1 + 150 / v.scale);
  close(y0, -100 / v.scale);
  close(y1, 100 / v.scale);
});

test("PixelView equals the PSF-fit pixel view (fitted, centred, pixel centres at integers)", () => {
  for (const [nx, ny, W, H] of [[121, 121, 420, 420], [396, 584, 287, 420], [50, 30, 500, 300]]) {
    const v = new PixelView(nx, ny, W, H);
    const s = Math.min(W / nx, H / ny);
    const ox = (W - nx * s) / 2;
    const oy = (H - ny * s) / 2;
    assert.equal(v.s, s);
    close(v.ox, ox);
    close(v.oy, oy);
    for (const x of [-0.5, 0, 17.25, nx - 0.5]) {
      close(v.px(x), ox + (x + 0.5) * s); // the old PixelView.px
      close(v.dataX(v.px(x)), x);
    }
    for (const y of [-0.5, 3, ny - 0.5]) close(v.py(y), oy + (y + 0.5) * s); // rows go down
    assert.deepEqual(v.imageRect(), [v.ox, v.oy, nx * s, ny * s]);
  }
  assert.deepEqual(new PixelView(50, 30, 500, 300).clamp(-3, 100), [-0.5, 29.5]);
});

test("PixelView with zoom and pan equals the deconvolution transform (pixel edges at integers)", () => {
  const [nx, ny, W, H] = [640, 400, 560, 480];
  const fit = Math.min(W / nx, H / ny);
  const zoom = 3.2;
  const [ce, re] = [210.5, 96.25]; // the old centre, in edge coordinates (pixel i spans [i, i + 1])
  const v = new PixelView(nx, ny, W, H, { zoom, cx: ce - 0.5, cy: re - 0.5 });
  const toPx = (c, r) => [W / 2 + (c - ce) * fit * zoom, H / 2 + (r - re) * fit * zoom];
  for (const [c, r] of [[0, 0], [nx, ny], [123.4, 56.7]]) {
    const [X, Y] = toPx(c, r);
    close(v.px(c - 0.5), X);
    close(v.py(r - 0.5), Y);
  }
  const [X0, Y0] = toPx(0, 0);
  close(v.imageRect()[0], X0);
  close(v.imageRect()[1], Y0);
});

test("zoomedAt keeps the point under the pointer and clamps the zoom; pannedBy follows the drag", () => {
  const v = new PixelView(200, 100, 400, 300, { zoom: 2, cx: 80, cy: 40 });
  const [X, Y] = [310, 75];
  const [x, y] = [v.dataX(X), v.dataY(Y)];
  const z = v.zoomedAt(X, Y, 1.25);
  close(z.zoom, 2.5);
  const v2 = new PixelView(200, 100, 400, 300, z);
  close(v2.dataX(X), x);
  close(v2.dataY(Y), y);
  assert.equal(v.zoomedAt(X, Y, 100).zoom, 64);
  assert.equal(v.zoomedAt(X, Y, 0.01).zoom, 1);
  const p = v.pannedBy(30, -12);
  const v3 = new PixelView(200, 100, 400, 300, { zoom: 2, ...p });
  close(v3.px(17), v.px(17) + 30); // the image moved with the pointer
  close(v3.py(17), v.py(17) - 12);
});

test("fitSize keeps the aspect and the minimum size", () => {
  assert.deepEqual(fitSize(655, 225, 330, 520, 80, 40), [179, 520]);
  assert.deepEqual(fitSize(600, 920, 330, 520, 80, 40), [330, 215]);
  assert.deepEqual(fitSize(10, 1000, 330, 520, 80, 40), [330, 40]);
  assert.deepEqual(fitSize(121, 121, 320, 320, 60, 60), [320, 320]);
});

// -- colour bars -------------------------------------------------------------------

const canvasOf = (ctx, w, h) => ({ _cssW: w, _cssH: h, getContext: () => ctx });

test("a horizontal bar paints one entry per pixel, low end left, as the PSF-fit bar did", () => {
  const { ctx, log } = recorder();
  drawColorbar(canvasOf(ctx, 108, 30), "viridis", 0.5, 12.25, { caption: "counts" });
  const rects = calls(log, "fillRect");
  assert.equal(rects.length, 100);
  rects.forEach((r, i) => {
    assert.deepEqual(r.slice(1, 5), [4 + i, 2, 1, 10]);
    assert.equal(r[5].fillStyle, cssColor("viridis", i / 99)); // the old drawBar's colour
  });
  const texts = calls(log, "fillText").map((t) => [t[1], t[2], t[3], t[4].textAlign, t[4].textBaseline]);
  assert.deepEqual(texts, [["0.5", 4, 15, "left", "top"], ["12.3", 104, 15, "right", "top"], ["counts", 54, 15, "center", "top"]]);
  assert.deepEqual(calls(log, "clearRect")[0].slice(1, 5), [0, 0, 108, 30]);
});

test("a vertical bar has its high end on top and three labels (the superposition map's bar)", () => {
  const { ctx, log } = recorder();
  const H = 420;
  drawColorbar(canvasOf(ctx, 60, H), "viridis", 0.0004937, 1, { vertical: true, middle: true, format: (v) => fmtFixed(v, 3) });
  const rects = calls(log, "fillRect");
  const n = H - 20;
  assert.equal(rects.length, n);
  rects.forEach((r, i) => {
    assert.deepEqual(r.slice(1, 5), [4, 10 + i, 14, 1]);
    assert.equal(r[5].fillStyle, cssColor("viridis", 1 - i / (n - 1))); // the old per-row colour
  });
  const texts = calls(log, "fillText").map((t) => t.slice(1, 4));
  assert.deepEqual(texts, [["1.00", 22, 18], ["0.500", 22, 214], ["4.9e-4", 22, 410]]);
});

test("a bar of a tint table uses the table and the xrf geometry", () => {
  const { ctx, log } = recorder();
  const table = new Uint8Array(768).map((_, k) => k % 256);
  drawColorbar(canvasOf(ctx, 50, 26), table, 0, 5, { thickness: 8, font: "10px sans-serif", labelAt: 12 });
  const rects = calls(log, "fillRect");
  assert.equal(rects.length, 42);
  rects.forEach((r, x) => {
    const k = 3 * Math.round((255 * x) / 41); // the old xrf drawColorbar index
    assert.equal(r[5].fillStyle, `rgb(${table[k]},${table[k + 1]},${table[k + 2]})`);
    assert.deepEqual(r.slice(1, 5), [4 + x, 2, 1, 8]);
  });
  assert.equal(barIndex(0, 42), 0);
  assert.equal(barIndex(41, 42), 255);
  assert.equal(lut("viridis").length, 768);
});

// -- markers -------------------------------------------------------------------------

test("a cross is two strokes of half-size r, with a halo drawn first and wider", () => {
  const { ctx, log, stack } = recorder();
  cross(ctx, 10, 20, 5, { colour: "#fff", halo: "rgba(0,0,0,0.75)" });
  assert.deepEqual(calls(log, "moveTo").slice(0, 2).map((c) => c.slice(1, 3)), [[5, 20], [10, 15]]);
  assert.deepEqual(calls(log, "lineTo").slice(0, 2).map((c) => c.slice(1, 3)), [[15, 20], [10, 25]]);
  const strokes = calls(log, "stroke").map((c) => [c[1].strokeStyle, c[1].lineWidth]);
  assert.deepEqual(strokes, [["rgba(0,0,0,0.75)", 3.5], ["#fff", 1.5]]);
  assert.equal(stack.length, 0);
  const plain = recorder();
  cross(plain.ctx, 0, 0, 5);
  assert.deepEqual(calls(plain.log, "stroke").map((c) => [c[1].strokeStyle, c[1].lineWidth]), [["#000", 1.5]]);
});

test("dots, circles, rings and squares draw where asked and restore the context", () => {
  const { ctx, log, stack, state } = recorder();
  dot(ctx, 3, 4, 2.5);
  circle(ctx, 5, 6, 7, { colour: "red" });
  ring(ctx, 1, 2, 6);
  square(ctx, 8, 9, 4);
  const arcs = calls(log, "arc").map((c) => c.slice(1, 4));
  assert.deepEqual(arcs, [[3, 4, 2.5], [5, 6, 7], [1, 2, 6]]);
  assert.equal(calls(log, "fill")[0][1].fillStyle, "#ff7f0e");
  assert.deepEqual(calls(log, "stroke").map((c) => [c[1].strokeStyle, c[1].lineWidth]),
    [["#000", 1], ["red", 1], ["rgba(255,255,255,0.9)", 3], ["#000", 1.5]]);
  const rect = calls(log, "strokeRect")[0];
  assert.deepEqual(rect.slice(1, 5), [8, 9, 4, 4]);
  assert.deepEqual([rect[5].strokeStyle, rect[5].lineWidth], ["#ff2d2d", 2]);
  assert.equal(stack.length, 0);
  assert.deepEqual([state.fillStyle, state.strokeStyle, state.lineWidth], ["#000", "#000", 1]);
});

test("an arrow head has two barbs of the given length ending at the tip", () => {
  const { ctx, log } = recorder();
  arrowHead(ctx, 0, 0, 100, 0, { size: 9 });
  const [m] = calls(log, "moveTo").slice(-1);
  const tips = calls(log, "lineTo").slice(-2);
  close(Math.hypot(m[1] - 100, m[2]), 9);
  assert.deepEqual(tips[0].slice(1, 3), [100, 0]);
  close(Math.hypot(tips[1][1] - 100, tips[1][2]), 9);
  close(m[2], -tips[1][2]); // symmetric about the line
});

test("halo text strokes then fills; a tag's box sits left or right of X", () => {
  const { ctx, log } = recorder();
  haloText(ctx, "1σ", 10, 12, { baseline: "middle" });
  assert.deepEqual(log.filter((e) => e[0] === "strokeText" || e[0] === "fillText").map((e) => [e[0], e[4].textBaseline]),
    [["strokeText", "middle"], ["fillText", "middle"]]);
  const t = recorder();
  tag(t.ctx, "raw", 8, 18);
  tag(t.ctx, "restored", 552, 18, "right");
  const boxes = calls(t.log, "fillRect").map((c) => c.slice(1, 5));
  assert.deepEqual(boxes, [[5, 6, 24, 16], [552 - 48 - 3, 6, 54, 16]]);
  let n = 0;
  strokePath(recorder().ctx, () => n++, { halo: "#000" });
  assert.equal(n, 2);
});

// -- binding, formatting -------------------------------------------------------------

test("onTraits removes what it added; frameScheduler coalesces requests to one frame", () => {
  const handlers = new Map();
  const model = {
    on: (ev, fn) => handlers.set(ev, [...(handlers.get(ev) || []), fn]),
    off: (ev, fn) => handlers.set(ev, (handlers.get(ev) || []).filter((f) => f !== fn)),
  };
  const off = onTraits(model, ["a", "b"], () => {});
  assert.equal(handlers.get("change:a").length + handlers.get("change:b").length, 2);
  off();
  assert.equal(handlers.get("change:a").length + handlers.get("change:b").length, 0);
  const queue = [];
  globalThis.requestAnimationFrame = (fn) => queue.push(fn);
  globalThis.cancelAnimationFrame = () => queue.pop();
  let runs = 0;
  const f = frameScheduler(() => runs++);
  f.request();
  f.request();
  assert.equal(queue.length, 1);
  queue.shift()();
  assert.equal(runs, 1);
  f.request();
  f.cancel();
  assert.equal(queue.length, 0);
  f.now();
  assert.equal(runs, 2);
});

test("fmtFixed keeps trailing zeros, fmtPoint passes the options on", () => {
  assert.equal(fmtFixed(2, 4), "2.000");
  assert.equal(fmtFixed(0.5, 3), "0.500");
  assert.equal(fmtFixed(0.006933, 4), "0.006933");
  assert.equal(fmtFixed(0, 4), "0");
  assert.equal(fmtFixed(1.5e-18, 4), "0");
  assert.equal(fmtFixed(2.5e-4, 4), "2.50e-4");
  assert.equal(fmtPoint(0.048, -0.04, 3, { trim: false }), "(0.0480, -0.0400)");
  assert.equal(fmtPoint(0.048, -0.04, 3), "(0.048, -0.04)");
});
