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
