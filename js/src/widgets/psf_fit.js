// PSFFitExplorer front-end (seed 001, Fig. 3 dot scan, Fig. 4 knife edge).
// Python fits; this module draws the map (with the fitted 1/2/3 sigma
// ellipses, or the knife-edge line and its band), the residual map, the
// readouts, and sends user intent back: mode/colormap/band/estimate choices
// and, in knife mode, the line dragged on the map (sent on mouse release only).
// Pixel coordinates: x = column, y = row (down), pixel centres at integers.
import { decodeArray } from "../lib/arrays.js";
import { makeCanvas, resizeCanvas, arrayToImage } from "../lib/canvas.js";
import { cssColor } from "../lib/colormap.js";
import { statusLine, ensureStyle, readouts } from "../lib/controls.js";

// CSS px of the longer side of the map: larger in knife mode (one map, drawn on)
const MAX_SIZE = { dot: 320, knife: 420 };
const BAR_H = 30;
const FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.log(2));

function fmt(v, d = 4) {
  if (v == null || !Number.isFinite(v)) return "–";
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential(2);
  return Number(v.toPrecision(d)).toString();
}

function pm(v, e, d = 4) {
  if (v == null || !Number.isFinite(v)) return "–";
  if (e == null || !Number.isFinite(e)) return fmt(v, d);
  return `${fmt(v, d)} ± ${fmt(e, 2)}`;
}

/** [lo, hi] percentiles of the finite values (subsampled to <= 65536 values). */
export function robustRange(data, qlo = 0.005, qhi = 0.995) {
  const step = Math.max(1, Math.floor(data.length / 65536));
  const vals = [];
  for (let i = 0; i < data.length; i += step) {
    const v = data[i];
    if (Number.isFinite(v)) vals.push(v);
  }
  if (!vals.length) return null;
  vals.sort((a, b) => a - b);
  const at = (q) => vals[Math.min(vals.length - 1, Math.max(0, Math.round(q * (vals.length - 1))))];
  let lo = at(qlo);
  let hi = at(qhi);
  if (!(hi > lo)) {
    lo = vals[0];
    hi = vals[vals.length - 1];
  }
  if (!(hi > lo)) hi = lo + 1;
  return [lo, hi];
}

/** Pixel-coordinate view of an nx x ny map drawn into a W x H canvas. */
export class PixelView {
  constructor(nx, ny, W, H) {
    this.s = Math.min(W / nx, H / ny);
    this.ox = (W - nx * this.s) / 2;
    this.oy = (H - ny * this.s) / 2;
    this.nx = nx;
    this.ny = ny;
  }
  px(x) {
    return this.ox + (x + 0.5) * this.s;
  }
  py(y) {
    return this.oy + (y + 0.5) * this.s;
  }
  dataX(px) {
    return (px - this.ox) / this.s - 0.5;
  }
  dataY(py) {
    return (py - this.oy) / this.s - 0.5;
  }
  clamp(x, y) {
    return [Math.min(this.nx - 0.5, Math.max(-0.5, x)), Math.min(this.ny - 0.5, Math.max(-0.5, y))];
  }
}

function canvasSize(nx, ny, max) {
  const s = Math.min(max / nx, max / ny);
  return [Math.max(60, Math.round(nx * s)), Math.max(60, Math.round(ny * s))];
}

function ensurePsfStyle() {
  if (document.getElementById("srw-psf-style")) return;
  const style = document.createElement("style");
  style.id = "srw-psf-style";
  style.textContent = `
.srw-psf-fit .srw-psf-toolbar { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin: 2px 0 6px; }
.srw-psf-fit .srw-psf-toolbar label { display: inline-flex; gap: 4px; align-items: center; }
.srw-psf-fit .srw-psf-modes button { font: inherit; padding: 2px 10px; border: 1px solid var(--jp-border-color1, #bbb);
  background: var(--jp-layout-color1, #fff); color: inherit; cursor: pointer; }
.srw-psf-fit .srw-psf-modes button:first-child { border-radius: 3px 0 0 3px; }
.srw-psf-fit .srw-psf-modes button:last-child { border-radius: 0 3px 3px 0; border-left: none; }
.srw-psf-fit .srw-psf-modes button.srw-active { background: var(--jp-brand-color1, #1976d2); color: #fff; border-color: transparent; }
.srw-psf-fit .srw-psf-hover { min-height: 1.4em; color: var(--jp-ui-font-color2, #555); font-variant-numeric: tabular-nums; }
.srw-psf-fit .srw-psf-side { min-width: 270px; }
.srw-psf-fit .srw-psf-section { font-weight: 600; margin-top: 8px; grid-column: 1 / span 2; }
.srw-psf-fit .srw-psf-result .srw-readout-value { color: var(--jp-brand-color1, #1565c0); }
.srw-psf-fit .srw-psf-legend { max-width: 820px; margin-top: 4px; }
.srw-psf-fit canvas.srw-canvas[data-mode=knife] { cursor: crosshair; }
.srw-psf-fit canvas.srw-canvas[data-mode=dot] { cursor: default; }
`;
  document.head.appendChild(style);
}

/** Readout grid; rows = [[key, label, fn]]. Values carry data-key for tests. */
function readoutGrid(rows, title, extraClass = "") {
  return readouts(rows, { title, titleClass: "srw-psf-section", className: extraClass, initial: false });
}

function drawBar(canvas, cmap, lo, hi, label) {
  const W = canvas._cssW;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, W, BAR_H);
  const x0 = 4;
  const w = W - 8;
  for (let i = 0; i < w; i++) {
    ctx.fillStyle = cssColor(cmap, i / (w - 1));
    ctx.fillRect(x0 + i, 2, 1, 10);
  }
  ctx.fillStyle = "#333";
  ctx.font = "11px sans-serif";
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(fmt(lo, 3), x0, 15);
  ctx.textAlign = "right";
  ctx.fillText(fmt(hi, 3), x0 + w, 15);
  ctx.textAlign = "center";
  ctx.fillText(label, x0 + w / 2, 15);
}

function strokeTwice(ctx, path, { colour = "#fff", width = 1.5, dash = [] } = {}) {
  ctx.save();
  ctx.setLineDash(dash);
  ctx.strokeStyle = "rgba(0,0,0,0.75)";
  ctx.lineWidth = width + 2;
  path();
  ctx.stroke();
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  path();
  ctx.stroke();
  ctx.restore();
}

function drawEllipses(ctx, view, ell, { colour = "#fff", outline = true, labels = true } = {}) {
  if (ell?.shape.length !== 3) return;
  const [k, n] = ell.shape;
  const d = ell.data;
  const dashes = [[], [6, 4], [2, 3]];
  for (let j = 0; j < k; j++) {
    const path = () => {
      ctx.beginPath();
      for (let i = 0; i < n; i++) {
        const o = 2 * (j * n + i);
        const X = view.px(d[o]);
        const Y = view.py(d[o + 1]);
        if (i === 0) ctx.moveTo(X, Y);
        else ctx.lineTo(X, Y);
      }
      ctx.closePath();
    };
    if (outline) strokeTwice(ctx, path, { colour, width: 1.5, dash: dashes[j % 3] });
    else {
      ctx.save();
      ctx.setLineDash(dashes[j % 3]);
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1;
      path();
      ctx.stroke();
      ctx.restore();
    }
    if (labels) {
      // label at the rightmost vertex
      let best = 0;
      for (let i = 1; i < n; i++) if (d[2 * (j * n + i)] > d[2 * (j * n + best)]) best = i;
      const X = view.px(d[2 * (j * n + best)]) + 3;
      const Y = view.py(d[2 * (j * n + best) + 1]);
      ctx.save();
      ctx.font = "bold 11px sans-serif";
      ctx.textBaseline = "middle";
      ctx.lineWidth = 3;
      ctx.strokeStyle = "rgba(0,0,0,0.75)";
      ctx.strokeText(`${j + 1}σ`, X, Y);
      ctx.fillStyle = colour;
      ctx.fillText(`${j + 1}σ`, X, Y);
      ctx.restore();
    }
  }
}

function drawCross(ctx, X, Y, r, colour) {
  const path = () => {
    ctx.beginPath();
    ctx.moveTo(X - r, Y);
    ctx.lineTo(X + r, Y);
    ctx.moveTo(X, Y - r);
    ctx.lineTo(X, Y + r);
  };
  strokeTwice(ctx, path, { colour, width: 1.5 });
}

/** The knife-edge line with an arrow (profile direction) and its band. */
function drawLine(ctx, view, [[x0, y0], [x1, y1]], halfWidth, { colour = "#fff", preview = false } = {}) {
  const L = Math.hypot(x1 - x0, y1 - y0);
  const X0 = view.px(x0);
  const Y0 = view.py(y0);
  const X1 = view.px(x1);
  const Y1 = view.py(y1);
  if (L > 0) {
    const nx = -(y1 - y0) / L;
    const ny = (x1 - x0) / L;
    const corners = [
      [x0 + nx * halfWidth, y0 + ny * halfWidth],
      [x1 + nx * halfWidth, y1 + ny * halfWidth],
      [x1 - nx * halfWidth, y1 - ny * halfWidth],
      [x0 - nx * halfWidth, y0 - ny * halfWidth],
    ];
    strokeTwice(ctx, () => {
      ctx.beginPath();
      corners.forEach(([x, y], i) => {
        if (i) ctx.lineTo(view.px(x), view.py(y));
        else ctx.moveTo(view.px(x), view.py(y));
      });
      ctx.closePath();
    }, { colour, width: 1, dash: [5, 4] });
  }
  strokeTwice(ctx, () => {
    ctx.beginPath();
    ctx.moveTo(X0, Y0);
    ctx.lineTo(X1, Y1);
  }, { colour, width: preview ? 1.5 : 2 });
  // arrow head at the end: the profile runs from the first point to the second
  const ang = Math.atan2(Y1 - Y0, X1 - X0);
  const a = 9;
  strokeTwice(ctx, () => {
    ctx.beginPath();
    ctx.moveTo(X1 - a * Math.cos(ang - 0.45), Y1 - a * Math.sin(ang - 0.45));
    ctx.lineTo(X1, Y1);
    ctx.lineTo(X1 - a * Math.cos(ang + 0.45), Y1 - a * Math.sin(ang + 0.45));
  }, { colour, width: 2 });
  ctx.save();
  ctx.fillStyle = colour;
  ctx.strokeStyle = "rgba(0,0,0,0.75)";
  ctx.beginPath();
  ctx.arc(X0, Y0, 3.5, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
  ctx.restore();
}

function render({ model, el }) {
  ensureStyle();
  ensurePsfStyle();
  const root = document.createElement("div");
  root.className = "srw-root srw-psf-fit";
  const status = statusLine(model);

  // ---- toolbar -------------------------------------------------------------
  const toolbar = document.createElement("div");
  toolbar.className = "srw-psf-toolbar";
  const modes = document.createElement("div");
  modes.className = "srw-psf-modes";
  const modeButtons = [["dot", "Dot scan (Fig. 3)"], ["knife", "Knife edge (Fig. 4)"]].map(([value, text]) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.dataset.mode = value;
    b.addEventListener("click", () => {
      model.set("mode", value);
      model.save_changes();
    });
    modes.append(b);
    return b;
  });
  const select = (trait, options, labelText) => {
    const label = document.createElement("label");
    label.textContent = labelText;
    const s = document.createElement("select");
    s.dataset.trait = trait;
    for (const [value, text] of options) {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = text;
      s.append(o);
    }
    s.addEventListener("change", () => {
      model.set(trait, s.value);
      model.save_changes();
    });
    label.append(s);
    return { label, s, update: () => (s.value = model.get(trait)) };
  };
  const cmapSel = select("colormap", [["viridis", "viridis"], ["gray", "gray"]], "colours");
  const estSel = select("knife_estimate", [["erf", "erf fit of the profile"], ["gradient", "Gaussian fit of the gradient (paper)"]], "PSF σ from");
  const bandLabel = document.createElement("label");
  bandLabel.textContent = "band ± (px)";
  const band = document.createElement("input");
  band.type = "range";
  band.min = "1";
  band.max = "60";
  band.step = "1";
  band.dataset.trait = "band_px";
  const bandOut = document.createElement("span");
  bandOut.className = "srw-slider-value";
  band.addEventListener("input", () => (bandOut.textContent = band.value));
  band.addEventListener("change", () => {
    model.set("band_px", Number(band.value));
    model.save_changes();
  });
  bandLabel.append(band, bandOut);
  toolbar.append(modes, cmapSel.label, bandLabel, estSel.label);

  // ---- panels ----------------------------------------------------------------
  const row = document.createElement("div");
  row.className = "srw-row";
  const panel = (titleText, role) => {
    const p = document.createElement("div");
    p.className = "srw-panel";
    const t = document.createElement("div");
    t.className = "srw-panel-title";
    t.textContent = titleText;
    const c = makeCanvas(MAX_SIZE.dot, MAX_SIZE.dot);
    c.dataset.role = role;
    const bar = makeCanvas(MAX_SIZE.dot, BAR_H, "srw-colorbar");
    bar.dataset.role = `${role}-bar`;
    p.append(t, c, bar);
    return { p, t, c, bar };
  };
  const mapP = panel("Map", "map");
  const hover = document.createElement("div");
  hover.className = "srw-psf-hover";
  mapP.p.append(hover);
  const resP = panel("Residual: data − fit (Fig. 3c)", "residual");

  const unit = () => (model.get("pixel_size_um") == null ? "px" : "µm");
  const fwhm = (s) => (s == null ? null : FWHM_PER_SIGMA * s);
  const dotInfo = readoutGrid([
    ["sigma_u_um", "σu", () => `${pm(model.get("sigma_u_um"), model.get("sigma_u_err_um"))} ${unit()}`],
    ["sigma_v_um", "σv", () => `${pm(model.get("sigma_v_um"), model.get("sigma_v_err_um"))} ${unit()}`],
    ["rho", "ρ", () => pm(model.get("rho"), model.get("rho_err"), 3)],
    ["fwhm_uv", "FWHM u / v", () => `${fmt(fwhm(model.get("sigma_u_um")))} / ${fmt(fwhm(model.get("sigma_v_um")))} ${unit()}`],
    ["centre", "centre (u, v)", () => `(${fmt(model.get("centre_u_um"))}, ${fmt(model.get("centre_v_um"))}) ${unit()}`],
    ["background", "background β", () => `${fmt(model.get("background"))} counts`],
    ["peak", "peak above β", () => `${fmt(model.get("peak"))} counts`],
    ["chi2_reduced", "χ² / dof", () => fmt(model.get("chi2_reduced"), 3)],
  ], "Dot fit: g = α h(u, v) + β");
  const lineLength = () => {
    const l = model.get("line");
    if (!l) return null;
    const p = model.get("pixel_size_um") ?? 1;
    return Math.hypot(l[1][0] - l[0][0], l[1][1] - l[0][1]) * p;
  };
  const knifeInfo = readoutGrid([
    ["knife_sigma_um", "σ, erf fit of the profile", () => `${pm(model.get("knife_sigma_um"), model.get("knife_sigma_err_um"))} ${unit()}`],
    ["knife_sigma_gradient_um", "σ, Gaussian fit of the gradient", () => `${pm(model.get("knife_sigma_gradient_um"), model.get("knife_sigma_gradient_err_um"))} ${unit()}`],
    ["knife_fwhm", "FWHM erf / gradient", () => `${fmt(fwhm(model.get("knife_sigma_um")))} / ${fmt(fwhm(model.get("knife_sigma_gradient_um")))} ${unit()}`],
    ["edge_angle_deg", "edge normal angle", () => `${fmt(model.get("edge_angle_deg"), 3)}°`],
    ["edge_step", "step across the edge", () => `${fmt(model.get("edge_step"))} counts`],
    ["line_length", "line length", () => `${fmt(lineLength())} ${unit()}`],
  ], "Knife edge: profile ⟂ edge");
  const resultInfo = readoutGrid([
    ["psf_sigma_um", "PSF σ", () => `${pm(model.get("psf_sigma_um"), model.get("psf_sigma_err_um"))} ${unit()}`],
    ["fwhm_um", "PSF FWHM = 2.355 σ", () => `${fmt(model.get("fwhm_um"))} ${unit()}`],
    ["psf_uvr", "σu, σv, ρ", () => `${fmt(model.get("psf_sigma_u_um"))}, ${fmt(model.get("psf_sigma_v_um"))}, ${fmt(model.get("psf_rho"), 3)}`],
    ["psf_source", "from", () => model.get("psf_source") || "–"],
    ["compute_ms", "fit time", () => `${fmt(model.get("compute_ms"), 3)} ms`],
  ], "PSF result (→ deconvolution)", "srw-psf-result");
  const side = document.createElement("div");
  side.className = "srw-panel srw-psf-side";
  side.append(dotInfo.el, knifeInfo.el, resultInfo.el);
  row.append(mapP.p, resP.p, side);

  const legend = document.createElement("div");
  legend.className = "srw-busy srw-psf-legend";
  root.append(status.el, toolbar, row, legend);
  el.appendChild(root);

  // ---- drawing -----------------------------------------------------------------
  let view = null;
  let mapCache = null; // {img, range, key}
  let resCache = null;
  let drag = null;
  let imageDirty = true;
  let residualDirty = true;

  const layout = (arr) => {
    const [ny, nx] = arr.shape;
    const [W, H] = canvasSize(nx, ny, MAX_SIZE[model.get("mode")] || MAX_SIZE.dot);
    for (const P of [mapP, resP]) {
      if (P.c._cssW !== W || P.c._cssH !== H) resizeCanvas(P.c, W, H);
      if (P.bar._cssW !== W) resizeCanvas(P.bar, W, BAR_H);
    }
    view = new PixelView(nx, ny, W, H);
  };

  const drawMap = () => {
    const c = mapP.c;
    const ctx = c.getContext("2d");
    const W = c._cssW;
    const H = c._cssH;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    const arr = decodeArray(model.get("image"));
    if (!arr) {
      ctx.fillStyle = "#666";
      ctx.font = "12px sans-serif";
      ctx.fillText("no image", 10, 20);
      view = null;
      return;
    }
    const cmap = model.get("colormap");
    const mode = model.get("mode");
    if (imageDirty || !mapCache || mapCache.cmap !== cmap || mapCache.mode !== mode) {
      layout(arr);
      const [ny, nx] = arr.shape;
      const range = robustRange(arr.data, 0.001, 0.999) || [0, 1];
      mapCache = { img: arrayToImage(arr.data, ny, nx, { vmin: range[0], vmax: range[1], cmap }), range, cmap, mode, arr };
      imageDirty = false;
      residualDirty = true; // the canvases may have been resized
      drawBar(mapP.bar, cmap, range[0], range[1], "counts");
    }
    ctx.imageSmoothingEnabled = view.s < 1;
    ctx.drawImage(mapCache.img, view.ox, view.oy, view.nx * view.s, view.ny * view.s);
    c.dataset.mode = mode;
    if (mode === "dot") {
      drawEllipses(ctx, view, decodeArray(model.get("ellipses")));
      const cu = model.get("centre_u_um");
      const cv = model.get("centre_v_um");
      const p = model.get("pixel_size_um") ?? 1;
      if (cu != null && cv != null) drawCross(ctx, view.px(cu / p), view.py(cv / p), 6, "#fff");
    } else {
      const hw = model.get("band_px");
      const line = model.get("line");
      if (drag?.moved) {
        drawLine(ctx, view, [[drag.x0, drag.y0], [drag.x1, drag.y1]], hw, { colour: "#ffd400", preview: true });
      } else if (line) {
        drawLine(ctx, view, line, hw, { colour: model.get("error") ? "#ff6b6b" : "#fff" });
      } else {
        ctx.save();
        ctx.font = "bold 13px sans-serif";
        ctx.lineWidth = 3;
        ctx.strokeStyle = "rgba(0,0,0,0.7)";
        ctx.fillStyle = "#fff";
        ctx.strokeText("drag across an edge", 10, 22);
        ctx.fillText("drag across an edge", 10, 22);
        ctx.restore();
      }
    }
  };

  const drawResidual = () => {
    const c = resP.c;
    const ctx = c.getContext("2d");
    const W = c._cssW;
    const H = c._cssH;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    const res = decodeArray(model.get("residual"));
    if (!res || !view || res.shape[0] !== view.ny || res.shape[1] !== view.nx) {
      ctx.fillStyle = "#666";
      ctx.font = "12px sans-serif";
      ctx.fillText("no residual yet", 10, 20);
      return;
    }
    if (residualDirty || !resCache) {
      const [ny, nx] = res.shape;
      const abs = new Float32Array(res.data.length);
      for (let i = 0; i < abs.length; i++) abs[i] = Math.abs(res.data[i]);
      const r = robustRange(abs, 0, 0.995);
      const m = r ? Math.max(r[1], 1e-12) : 1;
      resCache = { img: arrayToImage(res.data, ny, nx, { vmin: -m, vmax: m, cmap: "rdbu" }), m };
      residualDirty = false;
      drawBar(resP.bar, "rdbu", -m, m, "counts (data − fit)");
    }
    ctx.imageSmoothingEnabled = view.s < 1;
    ctx.drawImage(resCache.img, view.ox, view.oy, view.nx * view.s, view.ny * view.s);
    drawEllipses(ctx, view, decodeArray(model.get("ellipses")), { colour: "rgba(0,0,0,0.6)", outline: false, labels: false });
  };

  const updateControls = () => {
    const mode = model.get("mode");
    for (const b of modeButtons) b.classList.toggle("srw-active", b.dataset.mode === mode);
    const knife = mode === "knife";
    bandLabel.style.display = knife ? "" : "none";
    estSel.label.style.display = knife ? "" : "none";
    resP.p.style.display = knife ? "none" : "";
    dotInfo.el.style.display = knife ? "none" : "";
    knifeInfo.el.style.display = knife ? "" : "none";
    mapP.t.textContent = knife
      ? "Map: drag a line across an edge (Fig. 4a)"
      : "Map with the fitted ±1σ, ±2σ, ±3σ ellipses (Fig. 3a)";
    band.value = String(model.get("band_px"));
    bandOut.textContent = fmt(model.get("band_px"), 3);
    cmapSel.update();
    estSel.update();
    legend.textContent = knife
      ? "Knife edge: the pixels inside the dashed band are binned by their distance to the fitted (possibly slanted) edge; " +
        "below, the profile with its erf fit (Fig. 4b) and its gradient with the paper's Gaussian fit (Fig. 4c). " +
        "The arrow gives the profile direction. Drag on the map to draw a new line."
      : "Dot scan: a 2-D Gaussian g = α h(u, v) + β fitted to the map; the curves are its ±1σ, ±2σ, ±3σ contours, + its centre. " +
        "Right: the residual, red where the data lie above the fit, blue below (symmetric range). Below: cuts through the centre (Fig. 3b).";
  };

  let frame = 0;
  const drawAll = () => {
    frame = 0;
    try {
      updateControls();
      drawMap();
      if (model.get("mode") === "dot") drawResidual();
      dotInfo.update();
      knifeInfo.update();
      resultInfo.update();
    } catch (err) {
      status.el.textContent = `drawing failed: ${err}`;
      status.el.style.display = "block";
    }
  };
  const redraw = () => {
    if (!frame) frame = requestAnimationFrame(drawAll);
  };

  // ---- interaction: drag a line (knife mode), hover readout ------------------------
  const canvas = mapP.c;
  const toData = (ev) => {
    const r = canvas.getBoundingClientRect();
    return view.clamp(view.dataX(ev.clientX - r.left), view.dataY(ev.clientY - r.top));
  };
  const onDown = (ev) => {
    if (model.get("mode") !== "knife" || !view || ev.button !== 0) return;
    ev.preventDefault();
    const [x, y] = toData(ev);
    drag = { x0: x, y0: y, x1: x, y1: y, sx: ev.clientX, sy: ev.clientY, moved: false };
    try {
      canvas.setPointerCapture(ev.pointerId);
    } catch {
      /* synthetic events have no capturable pointer */
    }
  };
  const onMove = (ev) => {
    if (!view) return;
    const [x, y] = toData(ev);
    if (drag) {
      drag.x1 = x;
      drag.y1 = y;
      if (Math.hypot(ev.clientX - drag.sx, ev.clientY - drag.sy) > 3) drag.moved = true;
      redraw();
    }
    const arr = mapCache?.arr;
    if (arr) {
      const c = Math.round(x);
      const r = Math.round(y);
      const v = arr.data[r * arr.shape[1] + c];
      const p = model.get("pixel_size_um");
      const pos = p == null ? "" : ` = (${fmt(c * p)}, ${fmt(r * p)}) µm`;
      hover.textContent = `pixel x=${c}, y=${r}${pos}: ${fmt(v, 5)} counts`;
    }
  };
  const onUp = () => {
    if (!drag) return;
    const d = drag;
    drag = null;
    if (d.moved) {
      const r2 = (v) => Math.round(v * 100) / 100;
      model.set("line", [[r2(d.x0), r2(d.y0)], [r2(d.x1), r2(d.y1)]]);
      model.save_changes();
    }
    redraw();
  };
  const onLeave = () => {
    hover.textContent = "";
  };
  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("pointercancel", onUp);
  canvas.addEventListener("pointerleave", onLeave);

  const onImage = () => {
    imageDirty = true;
    hover.textContent = "";
    redraw();
  };
  const onResidual = () => {
    residualDirty = true;
    redraw();
  };
  model.on("change:image", onImage);
  model.on("change:residual", onResidual);
  const traits = ["mode", "line", "band_px", "ellipses", "colormap", "knife_estimate", "error", "notice",
    "pixel_size_um", "sigma_u_um", "sigma_v_um", "rho", "centre_u_um", "centre_v_um", "background", "peak",
    "chi2_reduced", "knife_sigma_um", "knife_sigma_gradient_um", "edge_angle_deg", "edge_step",
    "psf_sigma_um", "psf_sigma_err_um", "fwhm_um", "psf_sigma_u_um", "psf_sigma_v_um", "psf_rho",
    "psf_source", "compute_ms"];
  for (const t of traits) model.on(`change:${t}`, redraw);
  drawAll();

  return () => {
    model.off("change:image", onImage);
    model.off("change:residual", onResidual);
    for (const t of traits) model.off(`change:${t}`, redraw);
  };
}

export default { render };
