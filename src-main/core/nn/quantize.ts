/**
 * Codec-facing form of a prediction: integers on the codec's grid of step 2 * bound (dual quantization).
 * The input must come from the reference path (bit-exact); this mapping is then exact too, because it
 * is one IEEE division and a round-half-up, clamped to +-2^30.
 */
import { FieldpackError } from '../errors.ts';
import { roundForCode } from '../codec/quantizer.ts';

const LIMIT = 2 ** 30;

export function quantizeToGrid(pred: ArrayLike<number>, bound: number): Int32Array {
  if (!(bound > 0) || !Number.isFinite(2 * bound)) throw new FieldpackError('INVALID_ARGUMENT', `the grid of a prediction needs a positive finite bound, got ${bound}`);
  const step = 2 * bound;
  const n = pred.length;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    // (roundForCode: Math.round but for the sign of a zero, which an Int32Array does not keep; V8's own mispredicted
    // on half the points)
    const q = roundForCode(pred[i]! / step);
    // (stored from one branch of its own: a value merged with the integer limits took V8 a boxed number each)
    if (Math.abs(q) <= LIMIT) out[i] = q;
    else out[i] = q - q === 0 ? (q > 0 ? LIMIT : -LIMIT) : 0;
  }
  return out;
}
