// ReconstructionExplorer front-end (seed 000, Figs. 5-6).
// Python runs the whole pipeline (phantom, forward scan, indexing, N' maps,
// evaluation) in a background thread and sends the three maps as RGBA images
// (inverse-pole-figure colours), the boundaries as line segments in um, and
// for the selected point its (X, omega) list and the N' of every candidate.
// This module draws them, overlays the selected point's beam strips with the
// shared trajectory overlay, and sends clicks / parameter changes back.
// build* make the DOM, draw* / update* paint a frame, bind* / interact*
// connect it to the model.
import { decodeArray } from "../lib/arrays.js";
import { drawOrReport, frameScheduler, onTraits } from "../lib/bind.js";
import { clearCanvas, eventPos, makeCanvas } from "../lib/canvas.js";
import { greyWhenOmegaList, profileChoice, showWhen } from "../lib/beam_controls.js";
import { ensureStyle, readouts, slider, statusLine, traitCheckbox, traitChoice } from "../lib/controls.js";
import { button, h, panel, row } from "../lib/dom.js";
import { fmtFixed, fmtPoint, pct } from "../lib/format.js";
import { circle, ring } from "../lib/markers.js";
import { drawExtent, rgbaImage, strokeSegments } from "../lib/rgba.js";
import { injectStyle } from "../lib/style.js";
import { drawStrips } from "../lib/trajectory.js";
import { View } from "../lib/view.js";

const SIZE = 280;
const ZOOM = 220;
const BARS_W = 300;
const BAR_ROWS = 10;
const ROW_H = 18;
const BARS_H = ROW_H * (BAR_ROWS + 2); // the bar rows, a header and a footer
const MAPS = [
  { role: "phantom", title: "Phantom", rgba: "phantom_rgba", extent: "phantom_extent", edges: "phantom_edges" },
  { role: "conventional", title: "Conventional", rgba: "conventional_rgba", extent: "conventional_extent", edges: "conventional_edges" },
  { role: "subpixel", title: "Sub-pixel", rgba: "subpixel_rgba", extent: "subpixel_extent", edges: "subpixel_edges" },
];
const f = (d) => (v) => fmtFixed(v, d);
const SLIDERS = [
  ["diameter_um", { label: "specimen diameter (µm)", min: 20, max: 200, step: 10 }],
  ["n_grains", { label: "grains", min: 1, max: 60, step: 1 }],
  ["beam_um", { label: "beam width (µm)", min: 1, max: 12, step: 0.5, format: f(3) }],
  ["step_um", { label: "translation step (µm)", min: 1, max: 12, step: 0.5, format: f(3) }],
  ["omega_step_deg", { label: "angular step (°)", min: 0.25, max: 5, step: 0.25, format: f(3) }],
  ["omega_range_deg", { label: "ω range (°): half / full", min: 180, max: 360, step: 180 }],
  ["axis_offset_um", { label: "axis offset y0 (µm)", min: -4, max: 4, step: 0.25, format: f(3) }],
  ["blur_fwhm", { label: "blur FWHM / width", min: 0.05, max: 1, step: 0.05, format: f(3) }],
  ["detection_threshold", { label: "detection threshold (b²)", min: 0, max: 1, step: 0.05, format: f(2) }],
  ["subdivision", { label: "sub-pixels per step", min: 1, max: 8, step: 1 }],
  ["detection_probability", { label: "detection probability", min: 0.5, max: 1, step: 0.05, format: f(2) }],
  ["angular_noise_deg", { label: "angular noise σ (°)", min: 0, max: 0.5, step: 0.02, format: f(2) }],
  ["spurious_per_frame", { label: "spurious peaks per frame", min: 0, max: 5, step: 0.5, format: f(1) }],
  ["seed", { label: "random seed", min: 0, max: 50, step: 1 }],
];
const CHOICES = [
  ["scorer", "scorer", [["nprime", "N′ = N / M (paper)"], ["likelihood", "likelihood (model-based)"]]],
  ["tie_break", "N′ tie-break", [["next", "next-nearest N′ (default)"], ["first", "first (paper's argmax)"]]],
  ["boundaries", "boundaries drawn", [["own", "each map's own"], ["phantom", "phantom's (Fig. 6a)"], ["both", "own + phantom's"], ["none", "none"]]],
  ["ipf_axis", "IPF colour along", [["z", "z (rotation axis)"], ["x", "x (specimen)"], ["y", "y (specimen)"]]],
];
const REDRAW_TRAITS = ["phantom_extent", "conventional_extent", "subpixel_extent", "phantom_edges", "conventional_edges",
  "subpixel_edges", "selected_xs", "selected_ys", "sel_strip_x", "sel_strip_omega_deg", "sel_beam_um", "sel_beam_profile",
  "sel_n_prime", "sel_n_prime_next", "sel_best", "sel_phantom_grain", "candidate_rgb", "candidate_grain",
  "stats", "busy", "progress", "status", "compute_s", "boundaries", "show_strips", "ipf_axis", "radius_um",
  "map_step_um", "map_subdivision", "custom_labels", "tie_break", "diameter_um", "beam_um", "omega_step_deg",
  "scorer", "source", "peaks_path"];
// sliders of the simulated phantom and its scan: greyed while your peaks are mapped
const PHANTOM_ONLY = ["diameter_um", "n_grains", "beam_um", "step_um", "omega_step_deg", "omega_range_deg",
  "axis_offset_um", "blur_fwhm", "detection_threshold", "detection_probability", "angular_noise_deg",
  "spurious_per_frame", "seed"];
const PEAK_FIELDS = [
  ["peaks_path", "columnfile (.flt / .h5)", "scan.flt"],
  ["par_path", "ImageD11 parameters (.par)", "scan.par"],
  ["grain_file", "grain file (optional: else indexing)", "grains.map"],
];
const LEGEND =
  "Colours: the crystal direction along the chosen specimen axis (inverse pole figure, key on the left); dark grey: no candidate (N′ = 0). " +
  "Black lines: the map's own grain boundaries (3°); white lines: the phantom's. " +
  "Click any map to select a point (snapped to that map's targets): its beam strips darken the maps " +
  "(magenta: lit in every measurement), the zoom shows the sub-pixel map around it, the bars its N′ per candidate.";
const CSS = `
.srw-reconstruction .srw-progress { display: flex; gap: 8px; align-items: center; min-height: 18px; }
.srw-reconstruction progress { width: 160px; }
.srw-reconstruction .srw-caption { color: var(--jp-ui-font-color2, #555); font-variant-numeric: tabular-nums; max-width: ${SIZE}px; }
.srw-reconstruction .srw-legend { color: var(--jp-ui-font-color2, #555); max-width: 760px; flex: 1; }
.srw-reconstruction .srw-key { border: none; }
.srw-reconstruction select { width: 180px; }
.srw-reconstruction .srw-controls input[type=checkbox] { justify-self: start; }
.srw-reconstruction .srw-peaks input[type=text] { width: 230px; }
.srw-reconstruction .srw-peaks .srw-row { gap: 6px; margin-top: 4px; }
`;

const stats = (model) => model.get("stats") || {};

function selection(model) {
  const x = model.get("selected_xs");
  const y = model.get("selected_ys");
  return x == null || y == null ? null : [x, y];
}

// -- build -------------------------------------------------------------------------

function buildMaps() {
  const panels = {};
  for (const m of MAPS) {
    const canvas = makeCanvas(SIZE, SIZE);
    canvas.dataset.role = m.role;
    const caption = h("div", { className: "srw-caption" });
    const p = panel("", canvas, caption);
    panels[m.role] = { spec: m, el: p.el, title: p.title, canvas, caption };
  }
  return { el: row(Object.values(panels).map((p) => p.el)), panels };
}

function buildControls(model) {
  const sliders = {};
  const el = h("div", { className: "srw-controls" });
  for (const [name, opts] of SLIDERS) {
    sliders[name] = slider(model, name, opts);
    el.append(sliders[name].el);
  }
  for (const [name, label, options] of CHOICES) el.append(traitChoice(model, name, label, options).el);
  el.append(traitCheckbox(model, "show_strips", "beam strips of the selection").el);
  const profile = profileChoice(model);
  sliders.beam_um.el.after(profile.el);
  showWhen(model, sliders.blur_fwhm.el, "profile", "box_gaussian");
  greyWhenOmegaList(model, [sliders.omega_step_deg, sliders.omega_range_deg]);
  return { el, sliders };
}

/** A text field bound to a string trait (sent on change / Enter). */
function traitText(model, name, label, placeholder) {
  const input = h("input", { type: "text", placeholder, dataset: { trait: name } });
  const update = () => { input.value = model.get(name) || ""; };
  const commit = () => {
    if (input.value.trim() === (model.get(name) || "")) return;
    model.set(name, input.value.trim());
    model.save_changes();
  };
  input.addEventListener("change", commit);
  input.addEventListener("keydown", (ev) => {
    ev.stopPropagation(); // typing in the field is not a notebook shortcut
    if (ev.key === "Enter") commit();
  });
  model.on(`change:${name}`, update);
  update();
  const el = h("label", { className: "srw-slider" }, h("span", { className: "srw-slider-label", text: label }), input);
  return { el, input, off: () => model.off(`change:${name}`, update) };
}

/** "Your peaks": the columnfile, its .par and a grain file, and the buttons that switch the source. */
function buildPeaks(model) {
  const fields = PEAK_FIELDS.map(([name, label, ph]) => traitText(model, name, label, ph));
  const setSource = (v) => () => {
    for (const f of fields) model.set(f.input.dataset.trait, f.input.value.trim());
    model.set("source", v);
    model.save_changes();
  };
  const load = button("map my peaks", setSource("peaks"));
  load.dataset.role = "load-peaks";
  const back = button("back to the phantom", setSource("phantom"));
  back.dataset.role = "use-phantom";
  const note = h("div", { className: "srw-caption", role: "peaks-note", style: { maxWidth: "420px" } });
  const p = panel("Your peaks (ImageD11)", ...fields.map((f) => f.el), row([load, back]), note);
  p.el.classList.add("srw-peaks");
  return { el: p.el, fields, note };
}

function buildReadouts(model) {
  const st = () => stats(model);
  const both = (key, fn) => `${fn(st().conventional?.[key])} / ${fn(st().subpixel?.[key])}`;
  return readouts([
    ["candidates (grains found)", () => (st().n_candidates == null ? "–"
      : st().grains_found == null ? `${st().n_candidates} (${st().candidate_source || "peaks"})`
        : `${st().n_candidates} (${st().grains_found} of ${st().n_grains})`)],
    ["peaks in the scan", () => (st().n_peaks == null ? "–" : String(st().n_peaks))],
    ["angles per point", () => (st().n_measurements == null ? "–" : String(st().n_measurements))],
    ["displacement conv. / sub (µm)", () => both("mean_displacement_um", f(3))],
    ["correct conv. / sub", () => both("fraction_correct", pct)],
    ["estimated detection / spurious", () => (st().detection_estimate == null ? "– (N′ scorer)"
      : `${pct(st().detection_estimate)} / ${fmtFixed(st().spurious_estimate, 4)}`)],
    ["compute time (s)", () => fmtFixed(model.get("compute_s"), 3)],
  ]);
}

function buildSelection() {
  const zoom = makeCanvas(ZOOM, ZOOM);
  zoom.dataset.role = "zoom";
  const bars = makeCanvas(BARS_W, BARS_H);
  bars.dataset.role = "nprime";
  bars.style.cursor = "default";
  const text = h("div", { className: "srw-caption", role: "selection", style: { maxWidth: `${BARS_W}px` } });
  const p = panel("Selected point: strips and N′ per candidate", row([zoom, bars], { gap: "8px" }), text);
  return { el: p.el, zoom, bars, text };
}

function build(model, el) {
  const status = statusLine(model);
  const bar = h("progress", { max: 1 });
  const stext = h("span", { className: "srw-busy", role: "status" });
  const progress = h("div", { className: "srw-progress" }, bar, stext);
  const maps = buildMaps();
  const key = makeCanvas(120, 104, "srw-canvas srw-key");
  key.dataset.role = "ipf-key";
  key.style.cursor = "default";
  const legend = row([key, h("div", { className: "srw-legend", text: LEGEND })], { alignItems: "center" });
  const controls = buildControls(model);
  const info = buildReadouts(model);
  const scan = panel("Scan and phantom (recomputed in the background)", controls.el, info.el);
  const sel = buildSelection();
  const peaks = buildPeaks(model);
  const root = h("div", { className: "srw-root srw-reconstruction" },
    status.el, progress, maps.el, legend, row([scan.el, h("div", {}, sel.el, peaks.el)]));
  el.appendChild(root);
  return { status, bar, stext, panels: maps.panels, key, sliders: controls.sliders, info, sel, peaks };
}

// -- draw --------------------------------------------------------------------------

/** One window for the three maps (the largest extent) and the zoom around the selection. */
function views(model) {
  let m = 1;
  for (const spec of MAPS) {
    for (const v of model.get(spec.extent)) m = Math.max(m, Math.abs(v));
  }
  const half = 1.75 * Math.max(model.get("sel_beam_um") || 0, model.get("map_step_um") || 1);
  const [cx, cy] = selection(model) || [0, 0];
  return {
    map: new View(-m, m, -m, m, SIZE, SIZE, 4),
    zoom: new View(cx - half, cx + half, cy - half, cy + half, ZOOM, ZOOM),
  };
}

/** The selected point's beam strips (the shared trajectory overlay, in µm). */
function drawSelectionStrips(ctx, canvas, view, model) {
  const X = decodeArray(model.get("sel_strip_x"));
  const om = decodeArray(model.get("sel_strip_omega_deg"));
  if (!selection(model) || !X || !om || !model.get("show_strips")) return;
  const prof = model.get("sel_beam_profile");
  const beam = prof?.weights ? prof : model.get("sel_beam_um");
  drawStrips(ctx, view, canvas._cssW, canvas._cssH, X.data, om.data, beam, "overlay");
}

/** The map's own boundaries (black) and/or the phantom's (white), as chosen. */
function drawBoundaries(ctx, view, model, role, zoomed) {
  const mode = model.get("boundaries");
  const lw = zoomed ? 2 : 1.2;
  if (role !== "phantom" && (mode === "phantom" || mode === "both")) {
    strokeSegments(ctx, view, decodeArray(model.get("phantom_edges")), { colour: "rgba(255,255,255,0.95)", width: lw + 1 });
  }
  if (mode === "own" || mode === "both" || (role === "phantom" && mode === "phantom")) {
    const own = decodeArray(model.get(MAPS.find((m) => m.role === role).edges));
    strokeSegments(ctx, view, own, { colour: "rgba(0,0,0,0.85)", width: lw });
  }
}

/** Dashed sub-pixel grid (cell edges between the targets) over the zoom. */
function drawSubpixelGrid(ctx, canvas, view, model) {
  const a = model.get("map_step_um") / Math.max(1, model.get("map_subdivision"));
  const [bx0, bx1, by0, by1] = view.bounds();
  ctx.strokeStyle = "rgba(0,0,0,0.15)";
  ctx.lineWidth = 1;
  ctx.setLineDash([2, 3]);
  ctx.beginPath();
  for (let k = Math.ceil(bx0 / a - 0.5); k <= Math.floor(bx1 / a - 0.5); k++) {
    ctx.moveTo(view.px((k + 0.5) * a), 0);
    ctx.lineTo(view.px((k + 0.5) * a), canvas._cssH);
  }
  for (let k = Math.ceil(by0 / a - 0.5); k <= Math.floor(by1 / a - 0.5); k++) {
    ctx.moveTo(0, view.py((k + 0.5) * a));
    ctx.lineTo(canvas._cssW, view.py((k + 0.5) * a));
  }
  ctx.stroke();
  ctx.setLineDash([]);
}

/** One map (or the zoom on the sub-pixel map) with its overlays. */
function drawMap(canvas, view, model, image, role, zoomed = false) {
  const ctx = clearCanvas(canvas);
  ctx.save();
  drawExtent(ctx, view, image, model.get(MAPS.find((m) => m.role === role).extent));
  const R = model.get("radius_um");
  if (R > 0 && stats(model).voronoi) circle(ctx, ...view.at(0, 0), R * view.scale, { colour: "rgba(0,0,0,0.35)" });
  drawSelectionStrips(ctx, canvas, view, model);
  drawBoundaries(ctx, view, model, role, zoomed);
  if (zoomed) drawSubpixelGrid(ctx, canvas, view, model);
  circle(ctx, ...view.at(0, 0), 3, { colour: "rgba(0,0,0,0.7)" }); // rotation centre
  const sel = selection(model);
  if (sel) ring(ctx, ...view.at(sel[0], sel[1]), zoomed ? 7 : 5);
  if (zoomed) {
    ctx.fillStyle = "rgba(0,0,0,0.75)";
    ctx.font = "11px sans-serif";
    ctx.fillText(sel ? "sub-pixel map around the point" : "click a map", 6, 14);
  }
  ctx.restore();
}

/** One candidate's row: its IPF colour, "#c → grain g", its N′ bar and value (and the tie-break's). */
function drawBarRow(ctx, L, d, r) {
  const c = d.order[r];
  const y = 18 + r * ROW_H;
  const v = d.np.data[c];
  if (d.rgb && d.rgb.data.length >= 3 * (c + 1)) {
    ctx.fillStyle = `rgb(${d.rgb.data[3 * c]},${d.rgb.data[3 * c + 1]},${d.rgb.data[3 * c + 2]})`;
    ctx.fillRect(6, y + 3, 12, 12);
  }
  const g = d.grain ? d.grain.data[c] : -1;
  ctx.fillStyle = c === d.best ? "#000" : "#444";
  ctx.font = c === d.best ? "bold 11px sans-serif" : "11px sans-serif";
  let label = `#${c} → ${g >= 0 ? `grain ${g}` : "none"}`;
  if (g >= 0 && g === d.pg) label += " ✓";
  ctx.fillText(label, 22, y + 13);
  ctx.fillStyle = c === d.best ? "#d62728" : "#6baed6";
  ctx.fillRect(L.x0, y + 3, Math.max(1, L.bw * v), 12);
  ctx.fillStyle = "#222";
  ctx.fillText(v.toFixed(3), L.x0 + L.bw + 4, y + 13);
  if (d.nn && L.tieRule && Math.abs(v - d.top) < 1e-9 && d.ties > 1) {
    // a tie at the top: the next-nearest completeness decides (module rule 5)
    ctx.fillStyle = "#7a5200";
    ctx.fillText(`(${d.nn.data[c].toFixed(3)})`, L.x0 + L.bw + 46, y + 13);
  }
}

/** N′ of the selected point's candidates, best first (at most BAR_ROWS rows). */
function drawBars(canvas, model, selected) {
  const ctx = clearCanvas(canvas);
  ctx.font = "11px sans-serif";
  ctx.fillStyle = "#333";
  const np = decodeArray(model.get("sel_n_prime"));
  if (!np || !selected) {
    ctx.fillText("click a map to see N′ of every candidate", 6, 14);
    return;
  }
  const n = np.data.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => np.data[b] - np.data[a] || a - b);
  const top = np.data[order[0]] ?? 0;
  const d = {
    np, order, top, ties: order.filter((k) => Math.abs(np.data[k] - top) < 1e-9).length,
    nn: decodeArray(model.get("sel_n_prime_next")), rgb: decodeArray(model.get("candidate_rgb")),
    grain: decodeArray(model.get("candidate_grain")), best: model.get("sel_best"), pg: model.get("sel_phantom_grain"),
  };
  const L = { x0: 150, bw: canvas._cssW - 150 - 92, tieRule: model.get("tie_break") === "next" };
  ctx.fillText("candidate → phantom grain", 6, 12);
  ctx.fillText("N′ = N / M", L.x0, 12);
  if (L.tieRule) ctx.fillText("(next)", L.x0 + L.bw + 46, 12);
  const rows = Math.min(BAR_ROWS, n);
  for (let r = 0; r < rows; r++) drawBarRow(ctx, L, d, r);
  ctx.font = "11px sans-serif";
  ctx.fillStyle = "#555";
  if (n > rows) ctx.fillText(`… ${n - rows} more candidates below N′ = ${np.data[order[rows - 1]].toFixed(3)}`, 6, 18 + rows * ROW_H + 12);
}

/** The IPF colour key (a stereographic triangle) with its corners and axis. */
function drawKey(canvas, keyImage, axis) {
  const ctx = clearCanvas(canvas);
  if (keyImage) {
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(keyImage, 12, 4, 86, 86);
  }
  ctx.fillStyle = "#222";
  ctx.font = "11px sans-serif";
  ctx.fillText("001", 2, 100);
  ctx.fillText("101", 88, 100);
  ctx.fillText("111", 92, 16);
  ctx.fillText(`‖ ${axis}`, 4, 14);
}

// -- update (texts) ------------------------------------------------------------------

function updateTitles(panels, model) {
  const s = stats(model);
  const step = model.get("map_step_um");
  const sub = Math.max(1, model.get("map_subdivision"));
  const scorer = s.scorer === "likelihood" ? " · likelihood" : "";
  if (s.source === "peaks") {
    panels.phantom.title.textContent = "Your peaks: confidence (dark = sure)";
    panels.phantom.caption.textContent = `no phantom · ${s.n_peaks ?? "–"} peaks · ${s.n_candidates ?? "–"} candidates`;
    panels.conventional.title.textContent = `Conventional (${fmtFixed(step, 3)} µm pixels${scorer})`;
    panels.subpixel.title.textContent = `Sub-pixel (${sub}×${sub}: ${fmtFixed(step / sub, 3)} µm${scorer})`;
    for (const k of ["conventional", "subpixel"]) {
      panels[k].caption.textContent = `mean confidence ${pct(s[k]?.mean_confidence)} · no phantom to compare with`;
    }
    return;
  }
  panels.phantom.title.textContent = !s.voronoi && s.n_grains != null
    ? `Phantom (user label map, ${s.n_grains ?? "–"} grains)`
    : `Phantom (${s.n_grains ?? "–"} grains, ${fmtFixed(s.pixel_um, 2)} µm raster)`;
  panels.conventional.title.textContent = `Conventional (${fmtFixed(step, 3)} µm pixels${scorer})`;
  panels.subpixel.title.textContent = `Sub-pixel (${sub}×${sub}: ${fmtFixed(step / sub, 3)} µm${scorer})`;
  const specimen = s.voronoi === false ? "user label map" : `${fmtFixed(model.get("diameter_um"), 3)} µm specimen`;
  panels.phantom.caption.textContent =
    `${specimen} · beam ${fmtFixed(model.get("beam_um"), 3)} µm · ${fmtFixed(model.get("omega_step_deg"), 3)}° steps`;
  for (const k of ["conventional", "subpixel"]) {
    const m = s[k] || {};
    panels[k].caption.textContent =
      `boundary displacement ${fmtFixed(m.mean_displacement_um, 3)} µm (weighted mean) · ${pct(m.fraction_correct)} correct`;
  }
}

/** The selected point, its number of measurements, the chosen candidate and the verdict. */
function selectionText(model) {
  const sel = selection(model);
  const np = decodeArray(model.get("sel_n_prime"));
  if (!sel || !np) return "No point selected.";
  const X = decodeArray(model.get("sel_strip_x"));
  const best = model.get("sel_best");
  const grain = decodeArray(model.get("candidate_grain"));
  const pg = model.get("sel_phantom_grain");
  const bg = best >= 0 && grain ? grain.data[best] : -1;
  const verdict = stats(model).source === "peaks" ? "your peaks (no phantom)"
    : pg < 0 ? "phantom: air/void here" : bg === pg ? "= phantom grain ✓" : `phantom grain ${pg} ✗`;
  return `${fmtPoint(sel[0], sel[1], 4, { trim: false })} µm · ${X ? X.data.length : 0} measurements (X, ω) · ` +
    `chosen #${best}${bg >= 0 ? ` (grain ${bg})` : ""}, N′ = ${best >= 0 ? np.data[best].toFixed(3) : "0"} · ${verdict}`;
}

function updateProgress(ui, model) {
  const busy = model.get("busy");
  ui.bar.value = model.get("progress");
  ui.bar.style.visibility = busy ? "visible" : "hidden";
  ui.stext.textContent = model.get("status") || (busy ? "computing…" : "");
}

// -- bind and interact -----------------------------------------------------------------

/** Offscreen images of the maps and of the key, rebuilt when their RGBA traits change. */
function bindImages(model, onChange) {
  const images = {};
  const decode = (trait) => rgbaImage(decodeArray(model.get(trait)), { flipY: true });
  const sources = [...MAPS.map((m) => [m.role, m.rgba]), ["key", "ipf_key_rgba"]];
  const handlers = sources.map(([name, trait]) => {
    images[name] = decode(trait);
    const fn = () => {
      images[name] = decode(trait);
      onChange();
    };
    model.on(`change:${trait}`, fn);
    return [trait, fn];
  });
  const off = () => {
    for (const [trait, fn] of handlers) model.off(`change:${trait}`, fn);
  };
  return { images, off };
}

/** Diameter and grain sliders are disabled while a user label map is in use; the phantom's while your peaks are mapped. */
function bindCustomLabels(model, sliders, peaks) {
  const update = () => {
    const custom = !!model.get("custom_labels");
    const yours = model.get("source") === "peaks";
    for (const n of PHANTOM_ONLY) {
      if (!sliders[n]) continue;
      const off = yours || (custom && (n === "diameter_um" || n === "n_grains"));
      sliders[n].input.disabled = off;
      sliders[n].el.style.opacity = yours ? "0.45" : "";
      sliders[n].el.title = yours ? "mapping your peaks: the simulated phantom's parameters do not apply"
        : off ? "a user label map is in use" : "";
    }
    peaks.note.textContent = yours
      ? `mapping ${model.get("peaks_path")} — the phantom's sliders do not apply; no displacement without a phantom.`
      : "Give an ImageD11 columnfile (its .par for sc/fc, and a grain file if you have one), then 'map my peaks'.";
  };
  const names = ["custom_labels", "source", "peaks_path"];
  for (const n of names) model.on(`change:${n}`, update);
  update();
  return () => {
    for (const n of names) model.off(`change:${n}`, update);
  };
}

/** A click on a map selects a point, snapped to that map's targets, inside the specimen. */
function interactPick(model, canvas, getView, role) {
  canvas.addEventListener("click", (ev) => {
    const view = getView();
    if (!view) return;
    const [px, py] = eventPos(canvas, ev);
    const step = model.get("map_step_um");
    const a = role === "conventional" ? step : step / Math.max(1, model.get("map_subdivision"));
    const x = Math.round(view.dataX(px) / a) * a;
    const y = Math.round(view.dataY(py) / a) * a;
    const R = model.get("radius_um");
    if (R > 0 && Math.hypot(x, y) > R + step) return; // outside the scanned specimen
    model.set("selected_xs", x);
    model.set("selected_ys", y);
    model.save_changes();
  });
}

function render({ model, el }) {
  ensureStyle();
  injectStyle("srw-recon-style", CSS);
  const ui = build(model, el);
  let current = null; // the views of the frame on screen (clicks use them)
  const cache = bindImages(model, () => frame.request());
  const frame = frameScheduler(() => {
    current = views(model);
    drawOrReport(ui.status, () => {
      for (const m of MAPS) drawMap(ui.panels[m.role].canvas, current.map, model, cache.images[m.role], m.role);
      drawMap(ui.sel.zoom, current.zoom, model, cache.images.subpixel, "subpixel", true);
      drawBars(ui.sel.bars, model, selection(model) != null);
      drawKey(ui.key, cache.images.key, model.get("ipf_axis"));
      updateTitles(ui.panels, model);
      ui.sel.text.textContent = selectionText(model);
      ui.info.update();
      updateProgress(ui, model);
    });
  });
  for (const m of MAPS) interactPick(model, ui.panels[m.role].canvas, () => current?.map, m.role);
  interactPick(model, ui.sel.zoom, () => current?.zoom, "subpixel");
  const offRedraw = onTraits(model, REDRAW_TRAITS, frame.request);
  const offCustom = bindCustomLabels(model, ui.sliders, ui.peaks);
  frame.now();
  return () => {
    offRedraw();
    cache.off();
    offCustom();
    for (const f of ui.peaks.fields) f.off();
    frame.cancel();
  };
}

export default { render };
