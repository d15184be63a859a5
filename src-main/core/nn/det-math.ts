/**
 * Deterministic elementary functions. Math.exp/Math.tanh are not required by the language to be
 * correctly rounded, so engines (and versions) may differ in the last bit. These use only + - * /
 * on doubles, which IEEE 754 fixes bit for bit on every machine, then round to float32.
 */

/** expm1(u) for |u| <= ~20: Taylor series on u/32, then five doublings expm1(2a) = e(a) * (e(a) + 2). */
function detExpm1(u: number): number {
  const r = u / 32; // exact (power of two)
  let term = r;
  let sum = r;
  for (let k = 2; k <= 18; k++) {
    term = (term * r) / k;
    sum += term;
  }
  for (let i = 0; i < 5; i++) sum = sum * (sum + 2);
  return sum;
}

/** tanh rounded to float32, computed by a fixed sequence of IEEE double operations. */
export function detTanh(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a >= 9.5) return x > 0 ? 1 : -1; // float32 tanh is exactly +-1 beyond ~9.01
  const e = detExpm1(2 * a);
  const t = Math.fround(e / (e + 2));
  return x < 0 ? -t : t;
}

/** 2^k for every integer k in [-1074, 1023], built by exact doublings and halvings (no Math.pow). */
const POW2 = (() => {
  const t = new Float64Array(1074 + 1024);
  t[1074] = 1;
  for (let k = 1; k <= 1023; k++) t[1074 + k] = t[1074 + k - 1]! * 2;
  for (let k = 1; k <= 1074; k++) t[1074 - k] = t[1074 - k + 1]! / 2;
  return t;
})();

/** 1 / n! for n = 0..17, by repeated IEEE divisions (the same bits everywhere). */
const INV_FACT = (() => {
  const c = [1];
  for (let n = 1; n <= 17; n++) c.push(c[n - 1]! / n);
  return c;
})();

/** log10(2) split for Cody-Waite reduction: HI has 24 significant bits (k * HI is exact for |k| < 2^29), LO the rest. */
const LOG10_2_HI = 0.3010300099849701;
const LOG10_2_LO = -1.4320988897559699e-8;
const LOG2_10 = 3.321928094887362;
const LN10 = 2.302585092994046;

/**
 * 10^x in double precision (relative error ~1e-15) over the whole double range, by a fixed sequence of IEEE double
 * `+ - * /` (no Math.pow/Math.exp, whose last bits engines may choose): k = round(x log2 10), r = x - k log10 2 (two
 * steps, |r| <= ~0.151), e^(r ln 10) by its Taylor series to degree 17 (Horner), times 2^k exactly (two factors
 * where 2^k alone would leave the normal range). NaN for NaN, +Infinity above ~308.25, +0 below ~-323.6.
 */
export function detPow10(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > 308.26) return Infinity;
  if (x < -323.7) return 0;
  const k = Math.round(x * LOG2_10);
  const r = x - k * LOG10_2_HI - k * LOG10_2_LO;
  const u = r * LN10;
  let p = INV_FACT[17]!;
  for (let n = 16; n >= 0; n--) p = p * u + INV_FACT[n]!;
  if (k > 1023) return p * POW2[1074 + 1023]! * POW2[1074 + k - 1023]!;
  if (k < -1022) return p * POW2[1074 - 537]! * POW2[1074 + k + 537]!;
  return p * POW2[1074 + k]!;
}
