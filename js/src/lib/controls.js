// Small DOM controls bound to model traits: a labelled range slider with a
// number readout, a status/error line, a readout table, menus and
// checkboxes, and the shared stylesheet.
import { injectStyle } from "./style.js";

/**
 * A labelled slider bound to trait ``name``, with its value printed by
 * ``format``. ``toPos`` / ``toValue`` map the trait's value to the slider's
 * position and back (identity by default; log sliders use them). Returns
 * {el, update, input, off}.
 */
export function slider(model, name, opts = {}) {
  const { label, min, max, step, format = (v) => String(v), onInput, toPos = (v) => v, toValue = (p) => p } = opts;
  const row = document.createElement("label");
  row.className = "srw-slider";
  const text = document.createElement("span");
  text.className = "srw-slider-label";
  text.textContent = label ?? name;
  const input = document.createElement("input");
  input.type = "range";
  input.min = String(min);
  input.max = String(max);
  input.step = String(step);
  input.dataset.trait = name;
  const out = document.createElement("span");
  out.className = "srw-slider-value";
  row.append(text, input, out);

  const update = () => {
    const v = model.get(name);
    input.value = String(toPos(v));
    out.textContent = format(v);
  };
  input.addEventListener("input", () => {
    const v = toValue(Number(input.value));
    out.textContent = format(v);
    if (onInput) onInput(v);
    model.set(name, v);
    model.save_changes();
  });
  model.on(`change:${name}`, update);
  update();
  return { el: row, update, input, off: () => model.off(`change:${name}`, update) };
}

/** Status line: shows model.error in red, model.notice in amber, else ``idle``. */
export function statusLine(model, extraTraits = []) {
  const el = document.createElement("div");
  el.className = "srw-status";
  const update = () => {
    const err = model.get("error");
    const notice = model.get("notice") || "";
    el.classList.toggle("srw-error", !!err);
    el.classList.toggle("srw-notice", !err && !!notice);
    el.textContent = err || notice || "";
    el.style.display = err || notice ? "block" : "none";
  };
  for (const t of ["error", "notice", ...extraTraits]) model.on(`change:${t}`, update);
  update();
  return { el, update };
}

/**
 * Key/value readout table. ``rows`` = [[label, () => string], ...] or
 * [[key, label, () => string], ...] (``key`` becomes ``data-key`` of the
 * value cell). Options: ``title`` (a heading row, class ``titleClass``),
 * ``className`` (extra classes of the grid) and ``initial`` (fill the values
 * now; pass false when the row functions need state set up later).
 */
export function readouts(rows, { title = null, titleClass = "srw-panel-title", className = "", initial = true } = {}) {
  const el = document.createElement("div");
  el.className = `srw-readouts ${className}`.trim();
  if (title) {
    const t = document.createElement("div");
    t.className = titleClass;
    t.textContent = title;
    el.append(t);
  }
  const cells = rows.map((row) => {
    const [key, label, fn] = row.length === 3 ? row : [null, row[0], row[1]];
    const item = document.createElement("div");
    item.className = "srw-readout";
    const k = document.createElement("span");
    k.className = "srw-readout-key";
    k.textContent = label;
    const v = document.createElement("span");
    v.className = "srw-readout-value";
    if (key) v.dataset.key = key;
    item.append(k, v);
    el.append(item);
    return [v, fn];
  });
  const update = () => {
    for (const [v, fn] of cells) v.textContent = fn();
  };
  if (initial) update();
  return { el, update };
}

/** <select> bound to a string trait. */
export function traitSelect(model, name, options) {
  const s = document.createElement("select");
  s.dataset.trait = name;
  for (const [v, label] of options) {
    const o = document.createElement("option");
    o.value = v;
    o.textContent = label;
    s.append(o);
  }
  const update = () => { s.value = model.get(name); };
  s.addEventListener("change", () => { model.set(name, s.value); model.save_changes(); });
  model.on(`change:${name}`, update);
  update();
  return { el: s, update, off: () => model.off(`change:${name}`, update) };
}

/** Labelled <select> bound to a string trait, laid out like ``slider`` rows. Returns {el, update, input, off}. */
export function traitChoice(model, name, label, options) {
  const sel = traitSelect(model, name, options);
  const row = document.createElement("label");
  row.className = "srw-slider";
  const text = document.createElement("span");
  text.className = "srw-slider-label";
  text.textContent = label;
  row.append(text, sel.el, document.createElement("span"));
  return { el: row, update: sel.update, input: sel.el, off: sel.off };
}

/** Labelled checkbox bound to a bool trait, laid out like ``slider`` rows. */
export function traitCheckbox(model, name, label) {
  const row = document.createElement("label");
  row.className = "srw-slider";
  const text = document.createElement("span");
  text.className = "srw-slider-label";
  text.textContent = label;
  const box = document.createElement("input");
  box.type = "checkbox";
  box.dataset.trait = name;
  const spacer = document.createElement("span");
  row.append(text, box, spacer);
  const update = () => { box.checked = !!model.get(name); };
  box.addEventListener("change", () => { model.set(name, box.checked); model.save_changes(); });
  model.on(`change:${name}`, update);
  update();
  return { el: row, update, off: () => model.off(`change:${name}`, update) };
}

const CSS = `
.srw-root { font: 12px/1.4 var(--jp-ui-font-family, sans-serif); color: var(--jp-ui-font-color1, #222); }
.srw-row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.srw-panel { display: flex; flex-direction: column; gap: 4px; }
.srw-panel-title { font-weight: 600; }
.srw-canvas { border: 1px solid var(--jp-border-color2, #ccc); background: #fff; cursor: crosshair; }
.srw-controls { display: grid; grid-template-columns: max-content 180px 70px; gap: 2px 8px; align-items: center; }
.srw-slider { display: contents; }
.srw-slider-value { font-variant-numeric: tabular-nums; }
.srw-readouts { display: grid; grid-template-columns: max-content max-content; gap: 2px 10px; margin-top: 6px; }
.srw-readout { display: contents; }
.srw-readout-key { color: var(--jp-ui-font-color2, #555); }
.srw-readout-value { font-variant-numeric: tabular-nums; font-weight: 600; }
.srw-status { padding: 3px 6px; border-radius: 3px; margin: 4px 0; }
.srw-error { background: #fde8e8; color: #9b1c1c; border: 1px solid #f5c2c2; }
.srw-notice { background: #fff6e0; color: #7a5200; border: 1px solid #f0d9a0; }
.srw-busy { color: var(--jp-ui-font-color2, #666); font-style: italic; }
.srw-toolbar { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; margin-bottom: 4px; }
.srw-btn { font: inherit; padding: 2px 8px; border: 1px solid var(--jp-border-color1, #bbb); border-radius: 3px;
  background: var(--jp-layout-color1, #fff); color: inherit; cursor: pointer; }
.srw-btn.srw-active { background: var(--jp-brand-color1, #1976d2); color: #fff; border-color: transparent; }
.srw-contrast { width: 70px; }
.srw-progress { height: 6px; background: var(--jp-layout-color3, #e0e0e0); border-radius: 3px; overflow: hidden; margin: 6px 0 2px; }
.srw-progress-bar { height: 100%; width: 100%; transform: scaleX(0); transform-origin: 0 50%;
  background: var(--jp-brand-color1, #1976d2); transition: transform 80ms linear; }
.srw-metrics { border-collapse: collapse; margin-top: 6px; font-variant-numeric: tabular-nums; }
.srw-metrics th, .srw-metrics td { padding: 1px 8px; text-align: right; }
.srw-metrics th:first-child, .srw-metrics td:first-child { text-align: left; color: var(--jp-ui-font-color2, #555); }
`;

/** Inject the shared stylesheet once per document. */
export function ensureStyle() {
  injectStyle("srw-style", CSS);
}
