import type { LinearQuantizer } from '../quantizer.ts';
import type { CodeLines } from '../mscoder.ts';

export type Values = Float32Array | Float64Array;

/**
 * A prediction stage. `shape` is squeezed (no size-1 dims, 1..4 dims, C order). Points with skip[i] = 1
 * (masked, NaN, Inf) are never predicted nor coded: both sides set their reconstruction to the prediction
 * (0 if not finite), so they only steer neighbours. The encoder feeds every other point through the quantizer;
 * the decoder writes the reconstruction of every point into `out`.
 */
export interface Predictor {
  readonly id: number;
  readonly name: PredictorName;
  encode(x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, tune?: number): void;
  decode(out: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, tune?: number): void;
  /**
   * Where the codes' lines are when nothing is skipped (a code per point, in this predictor's order): the entropy
   * coder's line context reads the code one line back. Both sides derive it from the shape alone.
   */
  codeLines(shape: number[]): CodeLines;
}

/** Lines of the last dim in memory order: one segment (the order of the Lorenzo predictors' codes). */
export function rowLines(shape: number[]): CodeLines {
  return { starts: Int32Array.of(0), lines: Int32Array.of(shape[shape.length - 1] ?? 1) };
}

export type PredictorName = 'lorenzo' | 'dq-lorenzo' | 'interp-linear' | 'interp-cubic';
export const PREDICTOR_NAMES: readonly PredictorName[] = ['lorenzo', 'dq-lorenzo', 'interp-linear', 'interp-cubic'];

/** Padded (one leading zero plane per dim) sizes and strides for Lorenzo-style predictors. */
export function padded(shape: number[]): { size: number; pstr: number[] } {
  const k = shape.length;
  const pstr = new Array<number>(k);
  let s = 1;
  for (let d = k - 1; d >= 0; d--) {
    pstr[d] = s;
    s *= shape[d]! + 1;
  }
  return { size: s, pstr };
}

/** Lorenzo neighbour offsets (in padded index space) and signs: inclusion-exclusion over the 2^k - 1 corners. */
export function lorenzoStencil(pstr: number[]): { offs: Int32Array; sign: Float64Array } {
  const k = pstr.length;
  const offs: number[] = [];
  const sign: number[] = [];
  for (let m = 1; m < 1 << k; m++) {
    let o = 0;
    let bits = 0;
    for (let d = 0; d < k; d++) if (m & (1 << d)) { o += pstr[d]!; bits++; }
    offs.push(o);
    sign.push(bits % 2 === 1 ? 1 : -1);
  }
  return { offs: Int32Array.from(offs), sign: Float64Array.from(sign) };
}
