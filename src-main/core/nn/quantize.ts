/**
 * Codec-facing form of a prediction: integers on the codec's grid of step 2 * bound (dual quantization).
 * The input must come from the reference path (bit-exact); this mapping is then exact too, because it
 * is one IEEE division and a round-half-up, clamped to +-2^30.
 */
import { FieldpackError } from '../errors.ts';

const LIMIT = 2 ** 30;

export function quantizeToGrid(pred: ArrayLike<number>, bound: number): Int32Array {
  if (!(bound > 0) || !Number.isFinite(2 * bound)) throw new FieldpackError('INVALID_ARGUMENT', `the grid of a prediction needs a positive finite bound, got ${bound}`);
  const step = 2 * bound;
  const out = new Int32Array(pred.length);
  for (let i = 0; i < pred.length; i++) {
    const q = Math.round(pred[i]! / step);
    out[i] = Number.isFinite(q) ? Math.max(-LIMIT, Math.min(LIMIT, q)) : 0;
  }
  return out;
}
