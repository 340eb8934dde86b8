// ElementStack front-end (seed 001, Fig. 9).
// One row per element: its map before and after restoration side by side,
// drawn with one colour scale per element (black -> element colour ->
// white, range from robust percentiles of both, computed in Python), a PSF
// sigma slider for that element, and the element's own progress. Python
// restores the channels one after the other in a background thread and
// sends the (channel, row, col) stacks as binary float32 buffers.
import { decodeArray } from "../lib/arrays.js";
import { makeCanvas, renderArray } from "../lib/canvas.js";
import { statusLine, ensureStyle } from "../lib/controls.js";
import {
  fmt, fmtUm, methodControls, progressBar, fitSize, tintLut, blit, drawColorbar, ensureWidgetStyle, sliderScale,
} from "../lib/xrf_controls.js";

const BOX = 250;

const CSS = `
.srw-element-stack .srw-element-row { display: flex; gap: 10px; align-items: flex-start; padding: 6px 0;
  border-top: 1px solid var(--jp-border-color2, #ddd); }
.srw-element-stack .srw-element-side { display: flex; flex-direction: column; gap: 4px; width: 190px; }
.srw-element-stack .srw-element-name { font-weight: 700; font-size: 14px; display: flex; align-items: center; gap: 6px; }
.srw-element-stack .srw-swatch { width: 12px; height: 12px; border-radius: 2px; display: inline-block; }
.srw-element-stack .srw-element-side input[type=range] { width: 180px; }
.srw-element-stack .srw-image-title { font-size: 11px; color: var(--jp-ui-font-color2, #555); }
.srw-element-stack .srw-channel-state { font-size: 11px; color: var(--jp-ui-font-color2, #666); min-height: 1.3em; }
`;

function render({ model, el }) {
  ensureStyle();
  ensureWidgetStyle("srw-element-stack-style", CSS);
  const root = document.createElement("div");
  root.className = "srw-root srw-element-stack";
  const status = statusLine(model);
  const title = document.createElement("div");
  title.className = "srw-panel-title";
  title.textContent = "Element maps before and after restoration, each with its own PSF σ (Fig. 9)";
  const controls = methodControls(model);
  const prog = progressBar("progress");
  const top = document.createElement("div");
  top.className = "srw-row";
  const progBox = document.createElement("div");
  progBox.className = "srw-panel";
  progBox.style.minWidth = "260px";
  progBox.append(prog.wrap, prog.text);
  top.append(controls.el, progBox);
  const rowsBox = document.createElement("div");
  root.append(status.el, title, top, rowsBox);
  el.appendChild(root);

  // the per-element sigma sliders span the PSF sigma declaration's slider range
  const sigmaScale = sliderScale((model.get("method_table").psf || []).find((d) => d.name === "psf_sigma_um"));
  let rows = []; // per channel: {name, before, after, bar, slider, value, state, cprog, w, h}
  let rowsKey = "";
  let images = { raw: [], rest: [] };

  const buildRows = () => {
    const names = model.get("names") || [];
    const raw = decodeArray(model.get("_raw"));
    const shape = raw ? raw.shape : [0, 1, 1];
    const key = `${names.join("|")}:${shape.join("x")}`;
    if (key === rowsKey) return;
    rowsKey = key;
    rowsBox.replaceChildren();
    const [w, h] = fitSize(shape[1], shape[2], BOX, BOX);
    rows = names.map((name) => {
      const row = document.createElement("div");
      row.className = "srw-element-row";
      row.dataset.element = name;
      const side = document.createElement("div");
      side.className = "srw-element-side";
      const label = document.createElement("div");
      label.className = "srw-element-name";
      const swatch = document.createElement("span");
      swatch.className = "srw-swatch";
      const nameText = document.createElement("span");
      nameText.textContent = name;
      label.append(swatch, nameText);
      const sliderLabel = document.createElement("div");
      sliderLabel.className = "srw-image-title";
      sliderLabel.textContent = "PSF σ (µm)";
      const slider = document.createElement("input");
      slider.type = "range";
      slider.min = String(sigmaScale.min);
      slider.max = String(sigmaScale.max);
      slider.step = String(sigmaScale.step);
      slider.dataset.element = name;
      slider.dataset.role = "sigma";
      const value = document.createElement("span");
      value.className = "srw-slider-value";
      slider.addEventListener("input", () => {
        const v = Number(slider.value);
        value.textContent = `${fmtUm(v)} µm`;
        const s = { ...model.get("sigmas_um") };
        s[name] = v;
        model.set("sigmas_um", s);
        model.save_changes();
      });
      const cp = progressBar("channel-progress");
      const state = document.createElement("div");
      state.className = "srw-channel-state";
      side.append(label, sliderLabel, slider, value, cp.wrap, state);

      const mk = (role, text) => {
        const panel = document.createElement("div");
        panel.className = "srw-panel";
        const t = document.createElement("div");
        t.className = "srw-image-title";
        t.textContent = text;
        t.dataset.role = `${role}-title`;
        const c = makeCanvas(w, h);
        c.dataset.role = role;
        c.dataset.element = name;
        panel.append(t, c);
        return [panel, c, t];
      };
      const [pb, before] = mk("before", "measured");
      const [pa, after, afterTitle] = mk("after", "restored");
      const bar = makeCanvas(w, 26, "srw-colorbar");
      pa.append(bar);
      row.append(side, pb, pa);
      rowsBox.append(row);
      return { name, swatch, before, after, afterTitle, bar, slider, value, state, cprog: cp, w, h };
    });
  };

  const rebuildImages = () => {
    const names = model.get("names") || [];
    const colors = model.get("colors") || {};
    const ranges = model.get("_ranges") || [];
    const raw = decodeArray(model.get("_raw"));
    const rest = decodeArray(model.get("_restored"));
    images = { raw: [], rest: [] };
    if (!raw) return;
    const [n, ny, nx] = raw.shape;
    for (let i = 0; i < Math.min(n, names.length); i++) {
      const table = tintLut(colors[names[i]] || "#888888");
      const [lo, hi] = ranges[i] || [0, 1];
      images.raw.push(renderArray(raw.data, ny, nx, { vmin: lo, vmax: hi, table: table, offset: i * ny * nx }).canvas);
      let restImg = null;
      if (rest && rest.shape[0] > i) {
        const first = rest.data[i * ny * nx];
        // a channel never restored is all NaN
        restImg = !Number.isNaN(first) ? renderArray(rest.data, ny, nx, { vmin: lo, vmax: hi, table: table, offset: i * ny * nx }).canvas : null;
      }
      images.rest.push(restImg);
    }
  };

  const drawRows = () => {
    const colors = model.get("colors") || {};
    const sigmas = model.get("sigmas_um") || {};
    const st = model.get("channel_status") || [];
    const cp = model.get("channel_progress") || [];
    const used = model.get("channel_sigmas_um") || [];
    const ms = model.get("compute_ms") || [];
    const ranges = model.get("_ranges") || [];
    rows.forEach((r, i) => {
      const color = colors[r.name] || "#888888";
      r.swatch.style.background = color;
      if (document.activeElement !== r.slider) r.slider.value = String(sigmas[r.name]);
      r.value.textContent = `${fmtUm(sigmas[r.name])} µm`;
      blit(r.before, images.raw[i] || null, r.w, r.h, "#000");
      blit(r.after, images.rest[i] || null, r.w, r.h, "#222");
      const state = st[i] || "";
      const running = state === "running" || state === "queued";
      if (running || !images.rest[i]) {
        const ctx = r.after.getContext("2d");
        ctx.fillStyle = "rgba(0,0,0,0.55)";
        ctx.fillRect(0, r.h - 24, r.w, 24);
        ctx.fillStyle = "#fff";
        ctx.font = "12px sans-serif";
        ctx.textBaseline = "middle";
        const pct = Math.round(100 * (cp[i] || 0));
        ctx.fillText(state === "queued" ? "queued…" : state === "error" ? "error" : `restoring… ${pct} %`,
          8, r.h - 12);
      }
      const [lo, hi] = ranges[i] || [0, 1];
      drawColorbar(r.bar, r.w, 26, tintLut(color), lo, hi);
      r.afterTitle.textContent = used[i] != null ? `restored, σ = ${fmtUm(used[i])} µm` : "restored";
      r.cprog.set(cp[i] || 0, "", running);
      r.state.textContent = state === "done" ? `done in ${fmt(ms[i], 3)} ms` : state;
    });
  };

  const drawProgress = () => {
    const busy = model.get("busy");
    const p = model.get("progress");
    prog.set(p, `${model.get("status") || ""}${busy ? ` · ${Math.round(100 * p)} %` : ""}`, busy);
  };

  let frame = 0;
  let dirtyImages = true;
  const draw = () => {
    frame = 0;
    buildRows();
    if (dirtyImages) rebuildImages();
    dirtyImages = false;
    drawRows();
    drawProgress();
  };
  const scheduleImages = () => {
    dirtyImages = true;
    if (!frame) frame = requestAnimationFrame(draw);
  };
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };
  const imageTraits = ["_raw", "_restored", "_ranges", "colors", "names"];
  const otherTraits = ["sigmas_um", "channel_status", "channel_progress", "channel_sigmas_um", "compute_ms",
    "busy", "progress", "status"];
  for (const t of imageTraits) model.on(`change:${t}`, scheduleImages);
  for (const t of otherTraits) model.on(`change:${t}`, schedule);
  draw();
  return () => {
    for (const t of imageTraits) model.off(`change:${t}`, scheduleImages);
    for (const t of otherTraits) model.off(`change:${t}`, schedule);
    controls.off();
    if (frame) cancelAnimationFrame(frame);
  };
}

export default { render };
