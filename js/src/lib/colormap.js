// Colormaps as 256-entry RGB lookup tables. viridis/magma use the 6th-order
// polynomial fits of the matplotlib maps (max error well under 1/255 visually);
// "gray" is linear; "rdbu" is a diverging blue-white-red map for differences.
const POLY = {
  viridis: [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ],
  magma: [
    [-0.002136485053939582, -0.000749655052795221, -0.005386127855323933],
    [0.2516605407371642, 0.6775232436837668, 2.494026599312351],
    [8.353717279216625, -3.577719514958484, 0.3144679030132573],
    [-27.66873308576866, 14.26473078096533, -13.64921318813922],
    [52.17613981234068, -27.94360607168351, 12.94416944238394],
    [-50.76852536473588, 29.04658282127291, 4.23415299384598],
    [18.65570506591883, -11.48977351997711, -5.601961508734096],
  ],
};

const cache = new Map();

function clamp01(v) {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Uint8Array(256*3) lookup table of the named map. */
export function lut(name) {
  if (cache.has(name)) return cache.get(name);
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let rgb;
    if (POLY[name]) {
      const c = POLY[name];
      rgb = [0, 1, 2].map((k) => {
        let v = c[6][k];
        for (let j = 5; j >= 0; j--) v = c[j][k] + t * v;
        return clamp01(v);
      });
    } else if (name === "rdbu") {
      // blue (0.13,0.40,0.67) -> white -> red (0.70,0.09,0.17)
      const s = 2 * t - 1;
      const a = Math.abs(s);
      const end = s < 0 ? [0.13, 0.4, 0.67] : [0.7, 0.09, 0.17];
      rgb = end.map((e) => 1 + (e - 1) * a);
    } else if (name === "hot") {
      rgb = [clamp01(3 * t), clamp01(3 * t - 1), clamp01(3 * t - 2)];
    } else {
      rgb = [t, t, t];
    }
    out[3 * i] = Math.round(255 * rgb[0]);
    out[3 * i + 1] = Math.round(255 * rgb[1]);
    out[3 * i + 2] = Math.round(255 * rgb[2]);
  }
  cache.set(name, out);
  return out;
}

export const COLORMAPS = ["viridis", "magma", "gray", "hot", "rdbu"];

/** CSS colour string of value t in [0, 1] on the named map. */
export function cssColor(name, t) {
  const table = lut(name);
  const i = Math.max(0, Math.min(255, Math.round(255 * t)));
  return `rgb(${table[3 * i]},${table[3 * i + 1]},${table[3 * i + 2]})`;
}
