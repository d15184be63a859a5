/**
 * Dual quantization, the reusable first stage of dq-Lorenzo and of the learned compressors:
 * every valid value is first snapped to the integer grid of step 2e (q = round(x / 2e)); its reconstruction
 * q * 2e (rounded to the dtype) is then within e of x, except where float rounding breaks it, which `exact`
 * flags (those points must be stored exactly). Predictions then work on integers only, so no value depends
 * on an earlier reconstruction and residuals are exact integers: any predictor (Lorenzo, a CNN, ...) can code
 * `q - round(prediction)` with the ResidualCoder below.
 */
import type { Values } from './predictors/types.ts';
import { LinearQuantizer, roundExact } from './quantizer.ts';

/** Grid index of x for 1/(2e) = inv; 0 outside the range where doubles hold integers exactly (and for NaN). */
export function gridIndex(x: number, inv: number): number {
  const t = x * inv;
  return t < 4e15 && t > -4e15 ? roundExact(t) : 0;
}

/** Value a grid index decodes to (same arithmetic as the encoder's check). */
export function gridValue(q: number, twoE: number, f32: boolean): number {
  const r = q * twoE;
  return f32 ? Math.fround(r) : r;
}

export interface Prequantized {
  /** integer grid indices (0 at skipped points) */
  q: Float64Array;
  /** 1 where gridValue(q) is not within e of x: store x exactly */
  exact: Uint8Array;
  nExact: number;
}

export function prequantize(x: Values, skip: Uint8Array | null, e: number, f32: boolean): Prequantized {
  const n = x.length;
  const q = new Float64Array(n);
  const exact = new Uint8Array(n);
  const inv = 1 / (2 * e);
  const twoE = 2 * e;
  let nExact = 0;
  for (let i = 0; i < n; i++) {
    if (skip !== null && skip[i] === 1) continue;
    const v = x[i]!;
    const g = gridIndex(v, inv);
    q[i] = g;
    let r = g * twoE;
    if (f32) r = Math.fround(r);
    if (!(Math.abs(r - v) <= e)) {
      exact[i] = 1;
      nExact++;
    }
  }
  return { q, exact, nExact };
}

/**
 * Codes integer residuals q - pred through a LinearQuantizer's code/escape arrays:
 * code = res + radius when |res| < radius and the point is not exact, else 0 and x is stored exactly.
 */
export function pushResidual(qz: LinearQuantizer, res: number, isExact: boolean, x: number): void {
  if (!isExact && res > -qz.radius && res < qz.radius) qz.codes[qz.nCodes++] = res + qz.radius;
  else {
    qz.codes[qz.nCodes++] = 0;
    qz.escape(x);
  }
}
