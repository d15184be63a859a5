/**
 * Multilevel interpolation predictor (SZ3's default InterpolationDecomposition), linear or cubic, 1D-4D.
 * Level by level from the coarsest stride, dimension by dimension: points at odd multiples of the stride
 * along dimension d are predicted from their neighbours along d on the already-coded grid.
 */
import type { LinearQuantizer } from '../quantizer.ts';
import type { Predictor, Values } from './types.ts';

/**
 * Codes (enc) or decodes the points at odd multiples of s along one line (start `base`, stride st, length L) from
 * their coded neighbours at t -+ s, t -+ 3s. A plain function with the point's work written out, not methods on
 * an object: planning calls it with float32 values and float64 grid indices, linear and grid quantizers, and behind
 * such mixed call sites V8 stopped inlining the per-point method and boxed the prediction passed to it (about 16
 * bytes of garbage per point, a fifth of the predictor's time in a planning-like mix).
 */
function line(
  enc: boolean, cubic: boolean, x: Values, R: Float64Array, skip: Uint8Array | null, q: LinearQuantizer, base: number, st: number, L: number, s: number,
): void {
  const ss = s * st;
  const s3 = 3 * ss;
  const step = 2 * s;
  for (let t = s; t < L; t += step) {
    const idx = base + t * st;
    let pred: number;
    if (t + s < L) {
      if (!cubic) pred = (R[idx - ss]! + R[idx + ss]!) * 0.5;
      else {
        const l3 = t >= 3 * s;
        const r3 = t + 3 * s < L;
        if (l3 && r3) pred = (-R[idx - s3]! + 9 * R[idx - ss]! + 9 * R[idx + ss]! - R[idx + s3]!) * 0.0625;
        else if (r3) pred = (3 * R[idx - ss]! + 6 * R[idx + ss]! - R[idx + s3]!) * 0.125;
        else if (l3) pred = (-R[idx - s3]! + 6 * R[idx - ss]! + 3 * R[idx + ss]!) * 0.125;
        else pred = (R[idx - ss]! + R[idx + ss]!) * 0.5;
      }
    } else pred = t >= 3 * s ? 1.5 * R[idx - ss]! - 0.5 * R[idx - s3]! : R[idx - ss]!;
    let r: number;
    if (skip !== null && skip[idx] === 1) r = pred - pred === 0 ? pred : 0;
    else if (enc) r = q.quantize(x[idx]!, pred);
    else {
      r = q.recover(pred);
      x[idx] = r;
    }
    R[idx] = r;
  }
}

/**
 * Level-dependent bounds (SZ3's alpha/beta): level lv (1 = finest) is quantized with bound e / min(alpha^(lv-1), beta),
 * so the few coarse points are more exact and predict the many fine ones better. Index 0 = one bound everywhere.
 * Part of the format (v2 chunk byte): append only.
 */
export const INTERP_TUNINGS: readonly (readonly [number, number])[] = [
  [1, 1], [1.25, 2], [1.5, 2], [1.5, 3], [1.75, 3], [1.75, 4], [2, 4], [1.25, 1.5], [2, 8],
  [1.1, 1.5], [1.2, 1.75], [1.35, 2], [1.25, 2.5], [1.15, 2], [1.4, 2.5],
  [1.05, 1.5], [1.1, 1.3],
];

function run(enc: boolean, cubic: boolean, x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, tune = 0): void {
  const [alpha, beta] = INTERP_TUNINGS[tune] ?? [1, 1];
  const factorOf = (lv: number) => Math.min(Math.pow(alpha, lv - 1), beta);
  // pad to 4D with leading size-1 dims
  const sh = [1, 1, 1, 1];
  for (let d = 0; d < shape.length; d++) sh[4 - shape.length + d] = shape[d]!;
  const str = [sh[1]! * sh[2]! * sh[3]!, sh[2]! * sh[3]!, sh[3]!, 1];
  const n = x.length;
  const R = new Float64Array(n);
  if (tune) q.setFactor(factorOf(Math.max(1, Math.ceil(Math.log2(Math.max(2, ...sh))))));
  // the first point, predicted as 0
  if (skip !== null && skip[0] === 1) R[0] = 0;
  else if (enc) R[0] = q.quantize(x[0]!, 0);
  else R[0] = x[0] = q.recover(0);
  let maxDim = 1;
  for (const v of sh) maxDim = Math.max(maxDim, v);
  let levels = 0;
  while (1 << levels < maxDim) levels++;
  for (let lv = levels; lv >= 1; lv--) {
    if (tune) q.setFactor(factorOf(lv));
    const s = 1 << (lv - 1);
    for (let d = 0; d < 4; d++) {
      if (sh[d]! <= s) continue;
      // dims before d step by s, after d by 2s
      const o = [0, 1, 2, 3].filter((e) => e !== d);
      const stepOf = (e: number) => (e < d ? s : 2 * s);
      const [a, b, c] = o as [number, number, number];
      const sa = stepOf(a), sb = stepOf(b), sc = stepOf(c);
      const na = sh[a]!, nb = sh[b]!, nc = sh[c]!;
      const ta = str[a]!, tb = str[b]!, tc = str[c]!;
      const L = sh[d]!;
      const st = str[d]!;
      for (let ia = 0; ia < na; ia += sa) {
        for (let ib = 0; ib < nb; ib += sb) {
          for (let ic = 0; ic < nc; ic += sc) line(enc, cubic, x, R, skip, q, ia * ta + ib * tb + ic * tc, st, L, s);
        }
      }
    }
  }
  if (tune) q.setFactor(1);
}

export const interpLinear: Predictor = {
  id: 2,
  name: 'interp-linear',
  encode: (x, skip, shape, q, tune) => run(true, false, x, skip, shape, q, tune),
  decode: (out, skip, shape, q, tune) => run(false, false, out, skip, shape, q, tune),
};

export const interpCubic: Predictor = {
  id: 3,
  name: 'interp-cubic',
  encode: (x, skip, shape, q, tune) => run(true, true, x, skip, shape, q, tune),
  decode: (out, skip, shape, q, tune) => run(false, true, out, skip, shape, q, tune),
};
