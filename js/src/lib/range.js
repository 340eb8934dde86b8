// Robust display ranges (percentiles of the finite values) for colour maps.
// Large arrays are subsampled with a fixed stride to at most 65 536 values,
// which keeps a 4096² map under a few milliseconds.

const MAX_SAMPLES = 65536;

function finiteSample(data) {
  const stride = Math.max(1, Math.floor(data.length / MAX_SAMPLES));
  const out = [];
  for (let i = 0; i < data.length; i += stride) {
    const v = data[i];
    if (Number.isFinite(v)) out.push(v);
  }
  out.sort((a, b) => a - b);
  return out;
}

function at(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

/** Percentiles `ps` (0–100) of the finite values; zeros when there are none. */
export function percentiles(data, ps) {
  const s = finiteSample(data);
  if (!s.length) return ps.map(() => 0);
  return ps.map((p) => at(s, p / 100));
}

/**
 * [lo, hi] between quantiles `qlo` and `qhi` (0–1) of the finite values, widened
 * to the full range (then to [lo, lo + 1]) when flat; null when nothing is finite.
 */
export function robustRange(data, qlo = 0.005, qhi = 0.995) {
  const s = finiteSample(data);
  if (!s.length) return null;
  let lo = at(s, qlo);
  let hi = at(s, qhi);
  if (!(hi > lo)) {
    lo = s[0];
    hi = s[s.length - 1];
  }
  if (!(hi > lo)) hi = lo + 1;
  return [lo, hi];
}
