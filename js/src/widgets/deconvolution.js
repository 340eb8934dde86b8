// DeconvolutionExplorer front-end (seed 001, Fig. 5-7).
// Python restores (background thread, newest parameters win) and streams
// frames as binary float32 buffers; this module draws them. Everything that
// needs no computation is client-side and sends nothing to the kernel: the
// swipe curtain, zoom and pan (shared by all views), the line profile.
// The method menu and the parameter sliders are drawn from Python's
// ``method_table`` (the restoration-method registry), not from a table here.
import { decodeArray } from "../lib/arrays.js";
import { makeCanvas, renderArray, eventPos } from "../lib/canvas.js";
import { COLORMAPS } from "../lib/colormap.js";
import { statusLine, ensureStyle, traitSelect } from "../lib/controls.js";
import { methodControls } from "../lib/xrf_controls.js";

const W = 560;
const H = 480;

function fmt(v, d = 4) {
  if (v == null || !Number.isFinite(v)) return "–";
  return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(d);
}

/** Percentiles of a typed array from a strided sample (fast for big maps). */
function percentiles(data, ps) {
  const n = data.length;
  const stride = Math.max(1, Math.floor(n / 65536));
  const sample = [];
  for (let i = 0; i < n; i += stride) {
    const v = data[i];
    if (!Number.isNaN(v)) sample.push(v);
  }
  if (!sample.length) return ps.map(() => 0);
  sample.sort((a, b) => a - b);
  return ps.map((p) => sample[Math.min(sample.length - 1, Math.max(0, Math.round((p / 100) * (sample.length - 1))))]);
}

function button(label, onClick, cls = "srw-btn") {
  const b = document.createElement("button");
  b.className = cls;
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

// Timing hook for performance tests: inert unless the page defines window.__srwTrace = [].
function trace(what) {
  if (Array.isArray(window.__srwTrace)) window.__srwTrace.push([what, performance.now()]);
}

function render({ model, el }) {
  ensureStyle();
  const root = document.createElement("div");
  root.className = "srw-root srw-deconvolution";
  const status = statusLine(model);

  // ---- client-side view state (never sent to the kernel) -------------------
  const view = { zoom: 1, cx: null, cy: null, split: 0.5, profile: null };
  let raw = null; // {data, shape}
  let rest = null;
  const images = { raw: null, rest: null, diff: null };
  let range = [0, 1];
  let diffRange = 1;

  // ---- controls: method menu and sliders from the method table ---------------
  const methods = methodControls(model, { psf: true });

  const modeBar = document.createElement("div");
  modeBar.className = "srw-toolbar";
  const modeButtons = {};
  for (const [m, label] of [["swipe", "swipe"], ["side", "side by side"], ["diff", "difference"]]) {
    modeButtons[m] = button(label, () => { model.set("mode", m); model.save_changes(); });
    modeButtons[m].dataset.mode = m;
    modeBar.append(modeButtons[m]);
  }
  const cmapSel = traitSelect(model, "colormap", COLORMAPS.filter((c) => c !== "rdbu").map((c) => [c, c])).el;
  const lo = document.createElement("input");
  const hi = document.createElement("input");
  for (const [inp, idx, name] of [[lo, 0, "contrast-low"], [hi, 1, "contrast-high"]]) {
    inp.type = "range";
    inp.min = "0";
    inp.max = "100";
    inp.step = "0.5";
    inp.className = "srw-contrast";
    inp.dataset.role = name;
    inp.value = String(model.get("contrast")[idx]);
    inp.addEventListener("input", () => {
      const c = [Number(lo.value), Number(hi.value)];
      if (c[0] >= c[1]) return;
      model.set("contrast", c);
      model.save_changes();
    });
  }
  const resetBtn = button("reset view", () => { view.zoom = 1; view.cx = null; view.cy = null; draw(); });
  const profileHint = document.createElement("span");
  profileHint.className = "srw-busy";
  profileHint.textContent = "wheel: zoom · drag: pan · drag the white bar: curtain · shift+drag: line profile";
  modeBar.append(" colormap ", cmapSel, " contrast ", lo, hi, resetBtn);

  // progress
  const progWrap = document.createElement("div");
  progWrap.className = "srw-progress";
  const progBar = document.createElement("div");
  progBar.className = "srw-progress-bar";
  progWrap.append(progBar);
  const progText = document.createElement("span");
  progText.className = "srw-busy";

  // canvases
  const main = makeCanvas(W, H);
  main.dataset.role = "main";
  const left = makeCanvas(W / 2 + 40, H);
  left.dataset.role = "left";
  const right = makeCanvas(W / 2 + 40, H);
  right.dataset.role = "right";
  const sideBox = document.createElement("div");
  sideBox.className = "srw-row";
  sideBox.style.gap = "4px";
  sideBox.append(left, right);
  const profile = makeCanvas(W, 130, "srw-canvas srw-profile");
  profile.dataset.role = "profile";

  const readout = document.createElement("table");
  readout.className = "srw-metrics";

  const leftCol = document.createElement("div");
  leftCol.className = "srw-panel";
  leftCol.append(modeBar, main, sideBox, profile, profileHint);
  const rightCol = document.createElement("div");
  rightCol.className = "srw-panel";
  const mTitle = document.createElement("div");
  mTitle.className = "srw-panel-title";
  mTitle.textContent = "Restoration";
  rightCol.append(mTitle, methods.el, progWrap, progText, readout);
  const row = document.createElement("div");
  row.className = "srw-row";
  row.append(leftCol, rightCol);
  root.append(status.el, row);
  el.appendChild(root);

  // ---- images --------------------------------------------------------------
  // The raw image and its contrast range are rebuilt only when the raw map,
  // colormap or contrast change; a new restored frame re-colours one buffer;
  // the difference image is built only while the difference view is shown.
  const targets = { raw: null, rest: null, diff: null };
  let diffStale = true;
  const rebuild = ({ rawChanged = false, styleChanged = false } = {}) => {
    if (rawChanged || !raw) raw = decodeArray(model.get("image"));
    rest = decodeArray(model.get("restored_view"));
    if (!raw) return;
    const [ny, nx] = raw.shape;
    const cmap = model.get("colormap");
    if (rawChanged || styleChanged || !targets.raw) {
      range = percentiles(raw.data, model.get("contrast"));
      if (range[1] <= range[0]) range = [range[0], range[0] + 1];
      targets.raw = renderArray(raw.data, ny, nx, { vmin: range[0], vmax: range[1], cmap }, targets.raw);
      images.raw = targets.raw.canvas;
    }
    if (rest && rest.shape[0] === ny && rest.shape[1] === nx) {
      targets.rest = renderArray(rest.data, ny, nx, { vmin: range[0], vmax: range[1], cmap }, targets.rest);
      images.rest = targets.rest.canvas;
    } else {
      images.rest = null;
    }
    diffStale = true;
  };
  const ensureDiff = () => {
    if (!diffStale) return;
    diffStale = false;
    images.diff = null;
    if (!raw || !rest || rest.data.length !== raw.data.length) return;
    const [ny, nx] = raw.shape;
    const d = new Float32Array(rest.data.length);
    const a = new Float32Array(rest.data.length);
    for (let i = 0; i < d.length; i++) {
      d[i] = rest.data[i] - raw.data[i];
      a[i] = Math.abs(d[i]);
    }
    diffRange = Math.max(1e-12, percentiles(a, [99])[0]);
    targets.diff = renderArray(d, ny, nx, { vmin: -diffRange, vmax: diffRange, cmap: "rdbu" }, targets.diff);
    images.diff = targets.diff.canvas;
  };

  // image pixel (col, row) <-> canvas CSS px, same transform for every view
  const transform = (cw, ch) => {
    const [ny, nx] = raw.shape;
    const fit = Math.min(cw / nx, ch / ny);
    const s = fit * view.zoom;
    const cx = view.cx ?? nx / 2;
    const cy = view.cy ?? ny / 2;
    return {
      s,
      toPx: (c, r) => [cw / 2 + (c - cx) * s, ch / 2 + (r - cy) * s],
      toImg: (x, y) => [cx + (x - cw / 2) / s, cy + (y - ch / 2) / s],
    };
  };

  const blit = (ctx, img, t) => {
    const [ny, nx] = raw.shape;
    const [x0, y0] = t.toPx(0, 0);
    ctx.imageSmoothingEnabled = view.zoom < 2;
    ctx.drawImage(img, x0, y0, nx * t.s, ny * t.s);
  };

  const drawProfileLine = (ctx, t) => {
    if (!view.profile) return;
    const [a, b] = view.profile;
    const [x0, y0] = t.toPx(a[0], a[1]);
    const [x1, y1] = t.toPx(b[0], b[1]);
    ctx.strokeStyle = "#ff2d2d";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
  };

  const label = (ctx, text, x, y, align = "left") => {
    ctx.font = "12px sans-serif";
    ctx.textAlign = align;
    ctx.fillStyle = "rgba(0,0,0,0.6)";
    const w = ctx.measureText(text).width;
    ctx.fillRect(align === "left" ? x - 3 : x - w - 3, y - 12, w + 6, 16);
    ctx.fillStyle = "#fff";
    ctx.fillText(text, x, y);
    ctx.textAlign = "left";
  };

  const draw = () => {
    const mode = model.get("mode");
    main.style.display = mode === "side" ? "none" : "";
    sideBox.style.display = mode === "side" ? "" : "none";
    for (const [m, b] of Object.entries(modeButtons)) b.classList.toggle("srw-active", m === mode);
    const clear = (c) => {
      const ctx = c.getContext("2d");
      ctx.clearRect(0, 0, c._cssW, c._cssH);
      ctx.fillStyle = "#f4f4f4";
      ctx.fillRect(0, 0, c._cssW, c._cssH);
      return ctx;
    };
    if (!raw || !images.raw) {
      clear(main);
      drawProfile();
      return;
    }
    if (mode === "side") {
      for (const [c, img, name] of [[left, images.raw, "raw"], [right, images.rest, "restored"]]) {
        const ctx = clear(c);
        const t = transform(c._cssW, c._cssH);
        if (img) blit(ctx, img, t);
        drawProfileLine(ctx, t);
        label(ctx, name, 8, 18);
      }
    } else {
      const ctx = clear(main);
      const t = transform(W, H);
      if (mode === "diff") {
        ensureDiff();
        if (images.diff) blit(ctx, images.diff, t);
        label(ctx, `restored − raw (±${fmt(diffRange, 3)} counts)`, 8, 18);
      } else {
        blit(ctx, images.raw, t);
        const sx = view.split * W;
        if (images.rest) {
          ctx.save();
          ctx.beginPath();
          ctx.rect(sx, 0, W - sx, H);
          ctx.clip();
          blit(ctx, images.rest, t);
          ctx.restore();
        }
        ctx.fillStyle = "#fff";
        ctx.fillRect(sx - 1.5, 0, 3, H);
        ctx.beginPath();
        ctx.arc(sx, H / 2, 9, 0, 2 * Math.PI);
        ctx.fill();
        ctx.strokeStyle = "#333";
        ctx.lineWidth = 1;
        ctx.stroke();
        label(ctx, "raw", 8, 18);
        label(ctx, "restored", W - 8, 18, "right");
      }
      drawProfileLine(ctx, t);
    }
    drawProfile();
  };

  const sample = (arr, c, r) => {
    const [ny, nx] = arr.shape;
    const ci = Math.min(nx - 1, Math.max(0, Math.round(c)));
    const ri = Math.min(ny - 1, Math.max(0, Math.round(r)));
    return arr.data[ri * nx + ci];
  };

  const drawProfile = () => {
    const ctx = profile.getContext("2d");
    const pw = profile._cssW;
    const ph = profile._cssH;
    ctx.clearRect(0, 0, pw, ph);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, pw, ph);
    ctx.font = "11px sans-serif";
    if (!view.profile || !raw) {
      ctx.fillStyle = "#777";
      ctx.fillText("line profile: shift+drag across the map", 10, 20);
      return;
    }
    const [a, b] = view.profile;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const n = Math.max(2, Math.min(600, Math.round(len * 2)));
    const series = [[raw, "#888"], [rest, "#d62728"]].filter(([arr]) => arr && arr.shape[0] === raw.shape[0]);
    const values = series.map(([arr]) => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const f = i / (n - 1);
        out[i] = sample(arr, a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]));
      }
      return out;
    });
    let vmin = Infinity;
    let vmax = -Infinity;
    for (const v of values) for (const x of v) { if (x < vmin) vmin = x; if (x > vmax) vmax = x; }
    if (!(vmax > vmin)) vmax = vmin + 1;
    const pad = 24;
    values.forEach((v, k) => {
      ctx.strokeStyle = series[k][1];
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let i = 0; i < n; i++) {
        const x = pad + (i / (n - 1)) * (pw - 2 * pad);
        const y = ph - 16 - ((v[i] - vmin) / (vmax - vmin)) * (ph - 32);
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
      ctx.stroke();
    });
    ctx.fillStyle = "#333";
    const um = len * model.get("pixel_size_um");
    ctx.fillText(`grey: raw · red: restored · ${fmt(vmin, 4)}–${fmt(vmax, 4)} counts · ${fmt(um, 4)} µm`, pad, 12);
  };

  // ---- readouts ----------------------------------------------------------------
  const updateReadouts = () => {
    const m = model.get("metrics") || {};
    const r = model.get("raw_metrics") || {};
    const rows = [["", "raw", "restored"]];
    if (Object.keys(r).length || Object.keys(m).length) {
      rows.push(["MSE", fmt(r.mse), fmt(m.mse)]);
      rows.push(["SSIM", fmt(r.ssim), fmt(m.ssim)]);
      rows.push(["USAF element", r.element ?? "–", m.element ?? "–"]);
      rows.push(["lp/mm", fmt(r.lp_per_mm, 3), fmt(m.lp_per_mm, 3)]);
    }
    const est = model.get("estimated_sigma_um");
    if (est != null) rows.push(["blind σ estimate (µm)", "", fmt(est, 4)]);
    rows.push(["compute (ms)", "", fmt(model.get("compute_ms"), 4)]);
    readout.replaceChildren(
      ...rows.map((cells, i) => {
        const tr = document.createElement("tr");
        for (const c of cells) {
          const td = document.createElement(i === 0 ? "th" : "td");
          td.textContent = c;
          tr.append(td);
        }
        return tr;
      }),
    );
  };
  const updateProgress = () => {
    const p = model.get("progress");
    progBar.style.width = `${Math.round(100 * p)}%`;
    const busy = model.get("busy");
    const streams = methods.method()?.streams;
    progText.textContent = busy
      ? `restoring… iteration ${model.get("iteration")} (${Math.round(100 * p)} %)`
      : !streams
        ? "done"
        : `done (${model.get("iteration")} iteration${model.get("iteration") === 1 ? "" : "s"})`;
    progWrap.classList.toggle("srw-running", busy);
  };

  // ---- interaction: zoom, pan, curtain, profile (client-side only) ---------------
  const attach = (canvas) => {
    let drag = null;
    canvas.addEventListener("wheel", (ev) => {
      if (!raw) return;
      ev.preventDefault();
      const [x, y] = eventPos(canvas, ev);
      const t = transform(canvas._cssW, canvas._cssH);
      const [c, r] = t.toImg(x, y);
      const f = ev.deltaY < 0 ? 1.25 : 0.8;
      view.zoom = Math.min(64, Math.max(1, view.zoom * f));
      const t2 = transform(canvas._cssW, canvas._cssH);
      const [c2, r2] = t2.toImg(x, y);
      view.cx = (view.cx ?? raw.shape[1] / 2) + (c - c2);
      view.cy = (view.cy ?? raw.shape[0] / 2) + (r - r2);
      draw();
    }, { passive: false });
    canvas.addEventListener("pointerdown", (ev) => {
      if (!raw) return;
      const [x, y] = eventPos(canvas, ev);
      const t = transform(canvas._cssW, canvas._cssH);
      canvas.setPointerCapture(ev.pointerId);
      if (ev.shiftKey) {
        const p = t.toImg(x, y);
        view.profile = [p, p];
        drag = { kind: "profile" };
      } else if (canvas === main && model.get("mode") === "swipe" && Math.abs(x - view.split * W) < 12) {
        drag = { kind: "split" };
      } else {
        drag = { kind: "pan", x, y, cx: view.cx ?? raw.shape[1] / 2, cy: view.cy ?? raw.shape[0] / 2, s: t.s };
      }
    });
    canvas.addEventListener("pointermove", (ev) => {
      const [x, y] = eventPos(canvas, ev);
      if (!drag) {
        canvas.style.cursor = canvas === main && model.get("mode") === "swipe" && Math.abs(x - view.split * W) < 12
          ? "ew-resize" : "grab";
        return;
      }
      if (drag.kind === "split") {
        view.split = Math.min(1, Math.max(0, x / W));
      } else if (drag.kind === "profile") {
        const t = transform(canvas._cssW, canvas._cssH);
        view.profile = [view.profile[0], t.toImg(x, y)];
      } else {
        view.cx = drag.cx - (x - drag.x) / drag.s;
        view.cy = drag.cy - (y - drag.y) / drag.s;
      }
      draw();
    });
    const end = () => { drag = null; };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("dblclick", () => { view.zoom = 1; view.cx = null; view.cy = null; draw(); });
  };
  attach(main);
  attach(left);
  attach(right);

  // ---- model events ----------------------------------------------------------------
  let frame = 0;
  let pending = { raw: false, rest: false, style: false };
  const schedule = (what) => {
    if (what) pending[what] = true;
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      if (pending.raw || pending.rest || pending.style) {
        rebuild({ rawChanged: pending.raw, styleChanged: pending.style });
      }
      pending = { raw: false, rest: false, style: false };
      draw();
      root.dataset.frameId = String(model.get("frame_id")); // the frame now on screen
      trace("frame-drawn");
      updateReadouts();
      updateProgress();
    });
  };
  const handlers = [
    ["change:image", () => schedule("raw")],
    ["change:restored_view", () => { trace("frame-arrived"); schedule("rest"); }],
    ["change:colormap", () => schedule("style")],
    ["change:contrast", () => {
      const c = model.get("contrast");
      lo.value = String(c[0]);
      hi.value = String(c[1]);
      schedule("style");
    }],
    ["change:mode", () => schedule()],
    ["change:metrics", updateReadouts],
    ["change:raw_metrics", updateReadouts],
    ["change:estimated_sigma_um", updateReadouts],
    ["change:compute_ms", updateReadouts],
    ["change:progress", updateProgress],
    ["change:busy", updateProgress],
    ["change:iteration", updateProgress],
  ];
  for (const [ev, fn] of handlers) model.on(ev, fn);
  schedule("raw");
  return () => {
    for (const [ev, fn] of handlers) model.off(ev, fn);
    methods.off();
  };
}

export default { render };
