// ReconstructionExplorer front-end (seed 000, Figs. 5-6).
// Python runs the whole pipeline (phantom, forward scan, indexing, N' maps,
// evaluation) in a background thread and sends the three maps as RGBA images
// (inverse-pole-figure colours), the boundaries as line segments in um, and
// for the selected point its (X, omega) list and the N' of every candidate.
// This module draws them, overlays the selected point's beam strips with the
// shared trajectory overlay, and sends clicks / parameter changes back.
import { decodeArray } from "../lib/arrays.js";
import { makeCanvas, View, eventPos } from "../lib/canvas.js";
import { slider, statusLine, readouts, ensureStyle, traitCheckbox } from "../lib/controls.js";
import { rgbaImage, drawExtent, strokeSegments } from "../lib/rgba.js";
import { drawStrips, drawRing, drawRotationCentre } from "../lib/trajectory.js";

const SIZE = 280;
const ZOOM = 220;
const BARS_W = 300;
const BAR_ROWS = 10;
const ROW_H = 18;
const MAPS = [
  { role: "phantom", title: "Phantom", rgba: "phantom_rgba", extent: "phantom_extent", edges: "phantom_edges" },
  { role: "conventional", title: "Conventional", rgba: "conventional_rgba", extent: "conventional_extent", edges: "conventional_edges" },
  { role: "subpixel", title: "Sub-pixel", rgba: "subpixel_rgba", extent: "subpixel_extent", edges: "subpixel_edges" },
];

function fmt(v, d = 3) {
  return v == null || !Number.isFinite(v) ? "–" : Number(v).toPrecision(d);
}

function pct(v) {
  return v == null || !Number.isFinite(v) ? "–" : `${(100 * v).toFixed(1)} %`;
}

/** A labelled <select> bound to trait ``name``. */
function choice(model, name, label, options) {
  const row = document.createElement("label");
  row.className = "srw-slider";
  const text = document.createElement("span");
  text.className = "srw-slider-label";
  text.textContent = label;
  const sel = document.createElement("select");
  sel.dataset.trait = name;
  for (const [value, caption] of options) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = caption;
    sel.append(o);
  }
  const pad = document.createElement("span");
  row.append(text, sel, pad);
  const update = () => {
    sel.value = String(model.get(name));
  };
  sel.addEventListener("change", () => {
    model.set(name, sel.value);
    model.save_changes();
  });
  model.on(`change:${name}`, update);
  update();
  return { el: row, update, input: sel };
}

function ensureLocalStyle() {
  if (document.getElementById("srw-recon-style")) return;
  const style = document.createElement("style");
  style.id = "srw-recon-style";
  style.textContent = `
.srw-reconstruction .srw-progress { display: flex; gap: 8px; align-items: center; min-height: 18px; }
.srw-reconstruction progress { width: 160px; }
.srw-reconstruction .srw-caption { color: var(--jp-ui-font-color2, #555); font-variant-numeric: tabular-nums; max-width: ${SIZE}px; }
.srw-reconstruction .srw-legend { color: var(--jp-ui-font-color2, #555); max-width: 760px; flex: 1; }
.srw-reconstruction .srw-key { border: none; }
.srw-reconstruction select { width: 180px; }
.srw-reconstruction .srw-controls input[type=checkbox] { justify-self: start; }
`;
  document.head.appendChild(style);
}

function render({ model, el }) {
  ensureStyle();
  ensureLocalStyle();
  const root = document.createElement("div");
  root.className = "srw-root srw-reconstruction";
  const status = statusLine(model);

  // progress line
  const prog = document.createElement("div");
  prog.className = "srw-progress";
  const bar = document.createElement("progress");
  bar.max = 1;
  const stext = document.createElement("span");
  stext.className = "srw-busy";
  stext.dataset.role = "status";
  prog.append(bar, stext);

  // the three maps
  const mapRow = document.createElement("div");
  mapRow.className = "srw-row";
  const panels = {};
  for (const m of MAPS) {
    const p = document.createElement("div");
    p.className = "srw-panel";
    const t = document.createElement("div");
    t.className = "srw-panel-title";
    const c = makeCanvas(SIZE, SIZE);
    c.dataset.role = m.role;
    const cap = document.createElement("div");
    cap.className = "srw-caption";
    p.append(t, c, cap);
    mapRow.append(p);
    panels[m.role] = { spec: m, title: t, canvas: c, caption: cap, image: null };
  }

  // controls
  const controls = document.createElement("div");
  controls.className = "srw-controls";
  const sliders = {};
  const add = (s, name) => {
    controls.append(s.el);
    if (name) sliders[name] = s;
  };
  add(slider(model, "diameter_um", { label: "specimen diameter (µm)", min: 20, max: 200, step: 10 }), "diameter_um");
  add(slider(model, "n_grains", { label: "grains", min: 1, max: 60, step: 1 }), "n_grains");
  add(slider(model, "beam_um", { label: "beam width (µm)", min: 1, max: 12, step: 0.5, format: (v) => fmt(v, 3) }));
  add(slider(model, "step_um", { label: "translation step (µm)", min: 1, max: 12, step: 0.5, format: (v) => fmt(v, 3) }));
  add(slider(model, "omega_step_deg", { label: "angular step (°)", min: 0.25, max: 5, step: 0.25, format: (v) => fmt(v, 3) }));
  add(slider(model, "subdivision", { label: "sub-pixels per step", min: 1, max: 8, step: 1 }));
  add(slider(model, "detection_probability", { label: "detection probability", min: 0.5, max: 1, step: 0.05, format: (v) => fmt(v, 2) }));
  add(slider(model, "angular_noise_deg", { label: "angular noise σ (°)", min: 0, max: 0.5, step: 0.02, format: (v) => fmt(v, 2) }));
  add(slider(model, "seed", { label: "random seed", min: 0, max: 50, step: 1 }));
  add(choice(model, "tie_break", "tie-break", [["next", "next-nearest N′ (default)"], ["first", "first (paper's argmax)"]]));
  add(choice(model, "boundaries", "boundaries drawn", [["own", "each map's own"], ["phantom", "phantom's (Fig. 6a)"], ["both", "own + phantom's"], ["none", "none"]]));
  add(choice(model, "ipf_axis", "IPF colour along", [["z", "z (rotation axis)"], ["x", "x (specimen)"], ["y", "y (specimen)"]]));
  add(traitCheckbox(model, "show_strips", "beam strips of the selection"));

  const updateCustom = () => {
    const custom = !!model.get("custom_labels");
    for (const n of ["diameter_um", "n_grains"]) {
      if (sliders[n]) {
        sliders[n].input.disabled = custom;
        sliders[n].el.title = custom ? "a user label map is in use" : "";
      }
    }
  };

  // selection: zoom + N' bars
  const selPanel = document.createElement("div");
  selPanel.className = "srw-panel";
  const selTitle = document.createElement("div");
  selTitle.className = "srw-panel-title";
  selTitle.textContent = "Selected point: strips and N′ per candidate";
  const zoomCanvas = makeCanvas(ZOOM, ZOOM);
  zoomCanvas.dataset.role = "zoom";
  const barsCanvas = makeCanvas(BARS_W, ROW_H * (BAR_ROWS + 2));
  barsCanvas.dataset.role = "nprime";
  barsCanvas.style.cursor = "default";
  const selText = document.createElement("div");
  selText.className = "srw-caption";
  selText.dataset.role = "selection";
  selText.style.maxWidth = `${BARS_W}px`;
  const selRow = document.createElement("div");
  selRow.className = "srw-row";
  selRow.style.gap = "8px";
  selRow.append(zoomCanvas, barsCanvas);
  selPanel.append(selTitle, selRow, selText);

  // colour key and readouts
  const keyCanvas = makeCanvas(120, 104, "srw-canvas srw-key");
  keyCanvas.dataset.role = "ipf-key";
  keyCanvas.style.cursor = "default";
  const st = () => model.get("stats") || {};
  const info = readouts([
    ["candidates (grains found)", () => (st().n_candidates == null ? "–" : `${st().n_candidates} (${st().grains_found} of ${st().n_grains})`)],
    ["peaks in the scan", () => (st().n_peaks == null ? "–" : String(st().n_peaks))],
    ["angles per point", () => (st().n_measurements == null ? "–" : String(st().n_measurements))],
    ["displacement conv. / sub (µm)", () => `${fmt(st().conventional?.mean_displacement_um)} / ${fmt(st().subpixel?.mean_displacement_um)}`],
    ["correct conv. / sub", () => `${pct(st().conventional?.fraction_correct)} / ${pct(st().subpixel?.fraction_correct)}`],
    ["compute time (s)", () => fmt(model.get("compute_s"), 3)],
  ]);

  const lower = document.createElement("div");
  lower.className = "srw-row";
  const ctlPanel = document.createElement("div");
  ctlPanel.className = "srw-panel";
  const ctlTitle = document.createElement("div");
  ctlTitle.className = "srw-panel-title";
  ctlTitle.textContent = "Scan and phantom (recomputed in the background)";
  ctlPanel.append(ctlTitle, controls, info.el);
  lower.append(ctlPanel, selPanel);

  const legendRow = document.createElement("div");
  legendRow.className = "srw-row";
  legendRow.style.alignItems = "center";
  const legend = document.createElement("div");
  legend.className = "srw-legend";
  legendRow.append(keyCanvas, legend);
  legend.textContent =
    "Colours: the crystal direction along the chosen specimen axis (inverse pole figure, key on the left); dark grey: no candidate (N′ = 0). " +
    "Black lines: the map's own grain boundaries (3°); white lines: the phantom's. " +
    "Click any map to select a point (snapped to that map's targets): its beam strips darken the maps " +
    "(magenta: lit in every measurement), the zoom shows the sub-pixel map around it, the bars its N′ per candidate.";

  root.append(status.el, prog, mapRow, legendRow, lower);
  el.appendChild(root);

  // -- drawing -----------------------------------------------------------------
  let mapView = null;
  let zoomView = null;
  const images = {};
  const rebuildImage = (role) => {
    const spec = panels[role].spec;
    images[role] = rgbaImage(decodeArray(model.get(spec.rgba)), { flipY: true });
  };
  for (const m of MAPS) rebuildImage(m.role);
  let keyImage = null;
  const rebuildKey = () => {
    keyImage = rgbaImage(decodeArray(model.get("ipf_key_rgba")), { flipY: true });
  };
  rebuildKey();

  const selection = () => {
    const x = model.get("selected_xs");
    const y = model.get("selected_ys");
    return x == null || y == null ? null : [x, y];
  };

  const drawOne = (canvas, view, role, { zoomed = false } = {}) => {
    const ctx = canvas.getContext("2d");
    const W = canvas._cssW;
    const H = canvas._cssH;
    ctx.save();
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    const spec = panels[role].spec;
    drawExtent(ctx, view, images[role], model.get(spec.extent));
    // specimen outline
    const R = model.get("radius_um");
    if (R > 0 && model.get("stats")?.voronoi) {
      ctx.strokeStyle = "rgba(0,0,0,0.35)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.arc(view.px(0), view.py(0), R * view.scale, 0, 2 * Math.PI);
      ctx.stroke();
    }
    // beam strips of the selection (shared trajectory overlay, um)
    const sel = selection();
    const X = decodeArray(model.get("sel_strip_x"));
    const om = decodeArray(model.get("sel_strip_omega_deg"));
    if (sel && X && om && model.get("show_strips")) {
      const prof = model.get("sel_beam_profile");
      const beam = prof?.weights ? prof : model.get("sel_beam_um");
      drawStrips(ctx, view, W, H, X.data, om.data, beam, "overlay");
    }
    // boundaries
    const mode = model.get("boundaries");
    const own = decodeArray(model.get(spec.edges));
    const ph = decodeArray(model.get("phantom_edges"));
    const lw = zoomed ? 2 : 1.2;
    if (role !== "phantom" && (mode === "phantom" || mode === "both")) {
      strokeSegments(ctx, view, ph, { colour: "rgba(255,255,255,0.95)", width: lw + 1 });
    }
    if (mode === "own" || mode === "both" || (role === "phantom" && mode === "phantom")) {
      strokeSegments(ctx, view, own, { colour: "rgba(0,0,0,0.85)", width: lw });
    }
    if (zoomed) {
      // sub-pixel grid around the target
      const a = model.get("map_step_um") / Math.max(1, model.get("map_subdivision"));
      const [bx0, bx1, by0, by1] = view.bounds();
      ctx.strokeStyle = "rgba(0,0,0,0.15)";
      ctx.lineWidth = 1;
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      for (let k = Math.ceil(bx0 / a - 0.5); k <= Math.floor(bx1 / a - 0.5); k++) {
        const v = (k + 0.5) * a;
        ctx.moveTo(view.px(v), 0);
        ctx.lineTo(view.px(v), H);
      }
      for (let k = Math.ceil(by0 / a - 0.5); k <= Math.floor(by1 / a - 0.5); k++) {
        const v = (k + 0.5) * a;
        ctx.moveTo(0, view.py(v));
        ctx.lineTo(W, view.py(v));
      }
      ctx.stroke();
      ctx.setLineDash([]);
    }
    drawRotationCentre(ctx, view, "rgba(0,0,0,0.7)");
    if (sel) drawRing(ctx, view, sel[0], sel[1], zoomed ? 7 : 5);
    if (zoomed) {
      ctx.fillStyle = "rgba(0,0,0,0.75)";
      ctx.font = "11px sans-serif";
      ctx.fillText(sel ? "sub-pixel map around the point" : "click a map", 6, 14);
    }
    ctx.restore();
  };

  const drawBars = () => {
    const ctx = barsCanvas.getContext("2d");
    const W = barsCanvas._cssW;
    const H = barsCanvas._cssH;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    ctx.font = "11px sans-serif";
    ctx.fillStyle = "#333";
    const np = decodeArray(model.get("sel_n_prime"));
    if (!np || !selection()) {
      ctx.fillText("click a map to see N′ of every candidate", 6, 14);
      return;
    }
    const nn = decodeArray(model.get("sel_n_prime_next"));
    const rgb = decodeArray(model.get("candidate_rgb"));
    const grain = decodeArray(model.get("candidate_grain"));
    const best = model.get("sel_best");
    const pg = model.get("sel_phantom_grain");
    const n = np.data.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => np.data[b] - np.data[a] || a - b);
    const top = np.data[order[0]] ?? 0;
    ctx.fillText("candidate → phantom grain", 6, 12);
    const x0 = 150;
    const bw = W - x0 - 92;
    const tieRule = model.get("tie_break") === "next";
    ctx.fillText("N′ = N / M", x0, 12);
    if (tieRule) ctx.fillText("(next)", x0 + bw + 46, 12);
    const rows = Math.min(BAR_ROWS, n);
    for (let r = 0; r < rows; r++) {
      const c = order[r];
      const y = 18 + r * ROW_H;
      const v = np.data[c];
      if (rgb && rgb.data.length >= 3 * (c + 1)) {
        ctx.fillStyle = `rgb(${rgb.data[3 * c]},${rgb.data[3 * c + 1]},${rgb.data[3 * c + 2]})`;
        ctx.fillRect(6, y + 3, 12, 12);
      }
      const g = grain ? grain.data[c] : -1;
      ctx.fillStyle = c === best ? "#000" : "#444";
      ctx.font = c === best ? "bold 11px sans-serif" : "11px sans-serif";
      let label = `#${c} → ${g >= 0 ? `grain ${g}` : "none"}`;
      if (g >= 0 && g === pg) label += " ✓";
      ctx.fillText(label, 22, y + 13);
      ctx.fillStyle = c === best ? "#d62728" : "#6baed6";
      ctx.fillRect(x0, y + 3, Math.max(1, bw * v), 12);
      ctx.fillStyle = "#222";
      ctx.fillText(v.toFixed(3), x0 + bw + 4, y + 13);
      if (nn && tieRule && Math.abs(v - top) < 1e-9 && order.filter((k) => Math.abs(np.data[k] - top) < 1e-9).length > 1) {
        // a tie at the top: the next-nearest completeness decides (module rule 5)
        ctx.fillStyle = "#7a5200";
        ctx.fillText(`(${nn.data[c].toFixed(3)})`, x0 + bw + 46, y + 13);
      }
    }
    ctx.font = "11px sans-serif";
    ctx.fillStyle = "#555";
    if (n > rows) ctx.fillText(`… ${n - rows} more candidates below N′ = ${np.data[order[rows - 1]].toFixed(3)}`, 6, 18 + rows * ROW_H + 12);
  };

  const drawKey = () => {
    const ctx = keyCanvas.getContext("2d");
    const W = keyCanvas._cssW;
    const H = keyCanvas._cssH;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    if (keyImage) {
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(keyImage, 12, 4, 86, 86);
    }
    ctx.fillStyle = "#222";
    ctx.font = "11px sans-serif";
    ctx.fillText("001", 2, 100);
    ctx.fillText("101", 88, 100);
    ctx.fillText("111", 92, 16);
    ctx.fillText(`‖ ${model.get("ipf_axis")}`, 4, 14);
  };

  const updateTexts = () => {
    const s = st();
    const step = model.get("map_step_um");
    const sub = Math.max(1, model.get("map_subdivision"));
    panels.phantom.title.textContent = !s.voronoi && s.n_grains != null
      ? `Phantom (user label map, ${s.n_grains ?? "–"} grains)`
      : `Phantom (${s.n_grains ?? "–"} grains, ${fmt(s.pixel_um, 2)} µm raster)`;
    panels.conventional.title.textContent = `Conventional (${fmt(step, 3)} µm pixels)`;
    panels.subpixel.title.textContent = `Sub-pixel (${sub}×${sub}: ${fmt(step / sub, 3)} µm)`;
    const specimen = s.voronoi === false ? "user label map" : `${fmt(model.get("diameter_um"), 3)} µm specimen`;
    panels.phantom.caption.textContent = `${specimen} · beam ${fmt(model.get("beam_um"), 3)} µm · ${fmt(model.get("omega_step_deg"), 3)}° steps`;
    for (const k of ["conventional", "subpixel"]) {
      const m = s[k] || {};
      panels[k].caption.textContent =
        `boundary displacement ${fmt(m.mean_displacement_um)} µm (weighted mean) · ${pct(m.fraction_correct)} correct`;
    }
    const sel = selection();
    const np = decodeArray(model.get("sel_n_prime"));
    const X = decodeArray(model.get("sel_strip_x"));
    if (!sel || !np) {
      selText.textContent = "No point selected.";
    } else {
      const best = model.get("sel_best");
      const grain = decodeArray(model.get("candidate_grain"));
      const pg = model.get("sel_phantom_grain");
      const bg = best >= 0 && grain ? grain.data[best] : -1;
      const verdict = pg < 0 ? "phantom: air/void here" : bg === pg ? "= phantom grain ✓" : `phantom grain ${pg} ✗`;
      selText.textContent =
        `(${fmt(sel[0], 4)}, ${fmt(sel[1], 4)}) µm · ${X ? X.data.length : 0} measurements (X, ω) · ` +
        `chosen #${best}${bg >= 0 ? ` (grain ${bg})` : ""}, N′ = ${best >= 0 ? np.data[best].toFixed(3) : "0"} · ${verdict}`;
    }
    info.update();
    const busy = model.get("busy");
    bar.value = model.get("progress");
    bar.style.visibility = busy ? "visible" : "hidden";
    stext.textContent = model.get("status") || (busy ? "computing…" : "");
  };

  let frame = 0;
  const draw = () => {
    frame = 0;
    // one window for the three maps: the largest extent
    let m = 1;
    for (const spec of MAPS) {
      for (const v of model.get(spec.extent)) m = Math.max(m, Math.abs(v));
    }
    mapView = new View(-m, m, -m, m, SIZE, SIZE, 4);
    const sel = selection();
    const half = 1.75 * Math.max(model.get("sel_beam_um") || 0, model.get("map_step_um") || 1);
    const c = sel || [0, 0];
    zoomView = new View(c[0] - half, c[0] + half, c[1] - half, c[1] + half, ZOOM, ZOOM);
    try {
      for (const spec of MAPS) drawOne(panels[spec.role].canvas, mapView, spec.role);
      drawOne(zoomCanvas, zoomView, "subpixel", { zoomed: true });
      drawBars();
      drawKey();
      updateTexts();
    } catch (err) {
      status.el.textContent = `drawing failed: ${err}`;
      status.el.style.display = "block";
    }
  };
  const redraw = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };

  // -- clicks: select a point (snapped to the clicked map's targets) -------------
  const pick = (canvas, getView, role) => (ev) => {
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
  };
  for (const spec of MAPS) {
    const c = panels[spec.role].canvas;
    c.addEventListener("click", pick(c, () => mapView, spec.role));
  }
  zoomCanvas.addEventListener("click", pick(zoomCanvas, () => zoomView, "subpixel"));

  // -- model events ---------------------------------------------------------------
  const onImage = (role) => () => {
    rebuildImage(role);
    redraw();
  };
  const imageHandlers = MAPS.map((spec) => [`change:${spec.rgba}`, onImage(spec.role)]);
  const keyHandler = () => {
    rebuildKey();
    redraw();
  };
  for (const [ev, h] of imageHandlers) model.on(ev, h);
  model.on("change:ipf_key_rgba", keyHandler);
  model.on("change:custom_labels", updateCustom);
  const traits = ["phantom_extent", "conventional_extent", "subpixel_extent", "phantom_edges", "conventional_edges",
    "subpixel_edges", "selected_xs", "selected_ys", "sel_strip_x", "sel_strip_omega_deg", "sel_beam_um", "sel_beam_profile",
    "sel_n_prime", "sel_n_prime_next", "sel_best", "sel_phantom_grain", "candidate_rgb", "candidate_grain",
    "stats", "busy", "progress", "status", "compute_s", "boundaries", "show_strips", "ipf_axis", "radius_um",
    "map_step_um", "map_subdivision", "custom_labels", "tie_break", "diameter_um", "beam_um", "omega_step_deg"];
  for (const t of traits) model.on(`change:${t}`, redraw);
  updateCustom();
  draw();
  return () => {
    for (const t of traits) model.off(`change:${t}`, redraw);
    for (const [ev, h] of imageHandlers) model.off(ev, h);
    model.off("change:ipf_key_rgba", keyHandler);
    model.off("change:custom_labels", updateCustom);
  };
}

export default { render };
