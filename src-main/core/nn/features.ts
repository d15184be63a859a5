/**
 * Network inputs from fields, exactly as the trainer builds them (resources/trainer/fieldpack_trainer/
 * train.py features() and data.py backward_diff()): float32 values or first-order backward
 * differences, invalid points replaced by the channel's fill value (its training mean).
 */
import { FieldpackError } from '../errors.ts';

export interface FeatureSpec {
  var: string;
  transform: 'values' | 'backward-diff';
  /** Axis of the difference (0 = slowest spatial axis); null for values. */
  axis: number | null;
}

export interface FeatureSource {
  values: ArrayLike<number>;
  /** 1 = valid; absent = all valid. */
  mask?: Uint8Array;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let a = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = a;
    a *= shape[i]!;
  }
  return s;
}

/**
 * d[i] = f32(v[i]) - f32(v[i - 1]) along `axis` (float32), 0 at index 0; invalid points count as 0.
 * Also returns the difference's validity: both points valid and index > 0.
 */
export function backwardDifference(values: ArrayLike<number>, shape: readonly number[], axis: number, mask?: Uint8Array): { diff: Float32Array; valid: Uint8Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new FieldpackError('INVALID_ARGUMENT', `field has ${values.length} values, shape needs ${n}`);
  const st = strides(shape)[axis]!;
  const len = shape[axis]!;
  const diff = new Float32Array(n);
  const valid = new Uint8Array(n);
  // invalid points read as 0; the first index along the axis (the first st points of each span) stays 0
  const x = Float32Array.from(values);
  if (mask) for (let i = 0; i < n; i++) if (!mask[i]) x[i] = 0;
  const span = st * len;
  for (let o = 0; o < n; o += span) {
    const end = o + span;
    for (let i = o + st; i < end; i++) {
      diff[i] = x[i]! - x[i - st]!;
      const d = diff[i]!; // as stored: a float32 difference may overflow where the double one does not
      valid[i] = (!mask || (mask[i] && mask[i - st])) && d - d === 0 ? 1 : 0;
    }
  }
  return { diff, valid };
}

/**
 * Builds the input tensor [C, ...spatial] for a network contract from the named fields (one sample).
 * Invalid points of each channel get `fill[c]` (the trainer's channel mean).
 */
export function buildFeatures(
  features: readonly FeatureSpec[], fill: readonly number[], spatial: readonly number[],
  source: (name: string) => FeatureSource | undefined,
): Float32Array {
  const plane = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(features.length * plane);
  features.forEach((f, c) => {
    const src = source(f.var);
    if (!src) throw new FieldpackError('INVALID_ARGUMENT', `network input ${f.var} is missing`);
    const fv = Math.fround(fill[c] ?? 0);
    const dst = out.subarray(c * plane, (c + 1) * plane);
    if (f.transform === 'values') {
      for (let i = 0; i < plane; i++) {
        const x = src.values[i]!;
        dst[i] = (src.mask && !src.mask[i]) || !Number.isFinite(x) ? fv : x;
      }
    } else backwardDifferenceInto(src.values, spatial, f.axis ?? 0, src.mask, fv, dst);
  });
  return out;
}

/**
 * backwardDifference's values where valid and `fill` elsewhere, written into dst in one pass (the network's input
 * channel): the same float32 differences, without the two arrays and the float32 copy of the values (a masked point
 * only ever meets the fill, so it need not read as 0 first).
 */
function backwardDifferenceInto(values: ArrayLike<number>, shape: readonly number[], axis: number, mask: Uint8Array | undefined, fill: number, dst: Float32Array): void {
  const n = dst.length;
  if (values.length !== n) throw new FieldpackError('INVALID_ARGUMENT', `field has ${values.length} values, shape needs ${n}`);
  const x = values instanceof Float32Array ? values : Float32Array.from(values);
  const st = strides(shape)[axis]!;
  const span = st * shape[axis]!;
  for (let o = 0; o < n; o += span) {
    const end = o + span;
    dst.fill(fill, o, o + st);
    if (mask) {
      for (let i = o + st; i < end; i++) {
        // the float32 difference (as stored: it may overflow where the double one does not)
        const d = Math.fround(x[i]! - x[i - st]!);
        dst[i] = mask[i] !== 0 && mask[i - st] !== 0 && d - d === 0 ? d : fill;
      }
    } else {
      for (let i = o + st; i < end; i++) {
        const d = Math.fround(x[i]! - x[i - st]!);
        dst[i] = d - d === 0 ? d : fill;
      }
    }
  }
}
