// DOM builders (lib/dom.js) and the trait-bound slider (lib/controls.js)
// on a minimal fake document: the log slider's position <-> value mapping,
// what it sends to the model, and tables filled from rows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { slider } from "../src/lib/controls.js";
import { fillTable, h } from "../src/lib/dom.js";
import { sliderScale } from "../src/lib/xrf_controls.js";

class FakeElement {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.dataset = {};
    this.style = {};
    this.listeners = {};
    this.textContent = "";
  }
  append(...nodes) {
    this.children.push(...nodes);
  }
  replaceChildren(...nodes) {
    this.children = nodes;
  }
  addEventListener(ev, fn) {
    this.listeners[ev] = fn;
  }
}
globalThis.document = { createElement: (tag) => new FakeElement(tag) };

function fakeModel(values) {
  const handlers = {};
  const sent = [];
  return {
    sent,
    get: (k) => values[k],
    set: (k, v) => {
      values[k] = v;
      sent.push([k, v]);
      for (const fn of handlers[`change:${k}`] || []) fn();
    },
    save_changes: () => {},
    on: (ev, fn) => {
      handlers[ev] = [...(handlers[ev] || []), fn];
    },
    off: (ev, fn) => { handlers[ev] = (handlers[ev] || []).filter((f) => f !== fn); },
    count: (ev) => (handlers[ev] || []).length,
  };
}

test("h sets class, text, data-role, dataset, style and properties, then appends children", () => {
  const child = h("span", { text: "x" });
  const e = h("input", { className: "a b", role: "r", dataset: { trait: "t" }, style: { gap: "4px" }, type: "range", min: "1" }, child, "s");
  assert.deepEqual([e.className, e.dataset.role, e.dataset.trait, e.style.gap, e.type, e.min], ["a b", "r", "t", "4px", "range", "1"]);
  assert.deepEqual(e.children, [child, "s"]);
});

test("fillTable puts the header in th cells and the rest in td cells", () => {
  const table = h("table");
  fillTable(table, [["", "raw", "restored"], ["MSE", "1.0", "0.5"]]);
  assert.equal(table.children.length, 2);
  assert.deepEqual(table.children[0].children.map((c) => [c.tagName, c.textContent]), [["TH", ""], ["TH", "raw"], ["TH", "restored"]]);
  assert.deepEqual(table.children[1].children.map((c) => [c.tagName, c.textContent]), [["TD", "MSE"], ["TD", "1.0"], ["TD", "0.5"]]);
});

test("a slider with a log scale shows positions, sends values, and unbinds", () => {
  const decl = { name: "num_iter", kind: "int", log: true, slider_lo: 1, slider_hi: 1000 };
  const scale = sliderScale(decl);
  const model = fakeModel({ num_iter: 100 });
  const s = slider(model, "num_iter", { min: scale.min, max: scale.max, step: 1, toPos: scale.toPos, toValue: scale.toValue });
  assert.equal(s.input.value, "667"); // log10(100) / log10(1000) of 1000 steps
  s.input.value = "1000";
  s.input.listeners.input();
  assert.deepEqual(model.sent, [["num_iter", 1000]]);
  assert.equal(s.input.value, "1000");
  model.set("num_iter", 10);
  assert.equal(s.input.value, "333");
  assert.equal(model.count("change:num_iter"), 1);
  s.off();
  assert.equal(model.count("change:num_iter"), 0);
});

test("a plain slider passes positions through unchanged", () => {
  const model = fakeModel({ beam_um: 4 });
  const s = slider(model, "beam_um", { min: 1, max: 12, step: 0.5, format: (v) => `${v} µm` });
  assert.deepEqual([s.input.value, s.el.children[2].textContent], ["4", "4 µm"]);
  s.input.value = "6.5";
  s.input.listeners.input();
  assert.deepEqual(model.sent, [["beam_um", 6.5]]);
});
