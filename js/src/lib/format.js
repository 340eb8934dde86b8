// Number formatting shared by every widget's readouts and tables.
// "–" for missing or non-finite values; exact zeros (and round-off below
// `zero`, e.g. a centroid at 1e-18) print as "0"; very small or very large
// magnitudes use exponent notation; otherwise `digits` significant digits,
// without trailing zeros (`fmt`) or with them (`fmtFixed`: slider values and
// captions whose precision is part of the message, "4.00 µm").

/**
 * @param {number|null|undefined} v
 * @param {number} [digits=4] significant digits
 * @param {{zero?: number, trim?: boolean}} [opts] |v| below `zero` prints "0"
 *   (default 1e-12); `trim: false` keeps trailing zeros ("2.000")
 */
export function fmt(v, digits = 4, { zero = 1e-12, trim = true } = {}) {
  if (v == null || !Number.isFinite(v)) return "–";
  if (Math.abs(v) < zero) return "0";
  if (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6) return v.toExponential(Math.max(1, digits - 2));
  const s = v.toPrecision(digits);
  return trim ? Number(s).toString() : s;
}

/** `fmt` keeping trailing zeros: 4 -> "4.000", 0.5 -> "0.5000" (digits = 4). */
export function fmtFixed(v, digits = 4) {
  return fmt(v, digits, { trim: false });
}

/** A length in µm without trailing zeros: 8 -> "8", 32.5 -> "32.5", 33.75 -> "33.75". */
export function fmtUm(v) {
  if (v == null || !Number.isFinite(v)) return "–";
  return String(Number(v.toFixed(3)));
}

/** A fraction as a percentage with one decimal: 0.1234 -> "12.3 %". */
export function pct(v) {
  return v == null || !Number.isFinite(v) ? "–" : `${(100 * v).toFixed(1)} %`;
}

/** A value with its uncertainty: "32.5 ± 0.41". */
export function pm(v, e, digits = 4) {
  if (v == null || !Number.isFinite(v)) return "–";
  if (e == null || !Number.isFinite(e)) return fmt(v, digits);
  return `${fmt(v, digits)} ± ${fmt(e, 2)}`;
}

/** A point "(x, y)" with shared formatting (`opts` as for `fmt`). */
export function fmtPoint(x, y, digits = 4, opts = {}) {
  return `(${fmt(x, digits, opts)}, ${fmt(y, digits, opts)})`;
}
