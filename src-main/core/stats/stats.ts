/**
 * Statistics of a field over its valid points (mask = 1 and finite): min, max, mean, std, fill fraction,
 * distinct-value count (exact up to a cap) and the detected quantization step. Pure.
 */
import { type Field, type FieldDtype, declaredPacking } from '../field.ts';
import { detectQuantization, type QuantizationInfo } from './quantization.ts';
import { sortFloat64 } from './sort.ts';

export interface DistinctCount {
  /** Exact count when `exact`, otherwise the cap (there are more). */
  count: number;
  exact: boolean;
  cap: number;
  /** "1234" or "> 131072". */
  label: string;
}

export interface FieldStats {
  /** All points. */
  count: number;
  validCount: number;
  /** (count - validCount) / count. */
  fillFraction: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Population standard deviation. */
  std: number | null;
  distinct: DistinctCount;
  quantization: QuantizationInfo;
}

export interface StatsOptions {
  /** Distinct values counted exactly up to this many. Default 131072. */
  distinctCap?: number;
  /** scale_factor of a packed source variable (its step). */
  scaleFactor?: number;
}

export const DEFAULT_DISTINCT_CAP = 131072;

const INTEGER_DTYPES: ReadonlySet<FieldDtype> = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32']);

export function isValidAt(values: ArrayLike<number>, mask: Uint8Array | undefined, i: number): boolean {
  const v = values[i]!;
  return (mask === undefined || mask[i] === 1) && v === v && v !== Infinity && v !== -Infinity;
}

export function fieldStats(field: Pick<Field, 'values' | 'mask' | 'sourceDtype'> & { attributes?: Record<string, unknown> }, options: StatsOptions = {}): FieldStats {
  const { values, mask } = field;
  const cap = options.distinctCap ?? DEFAULT_DISTINCT_CAP;
  const n = values.length;
  let valid = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const seen = new Set<number>();
  let overCap = false;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if ((mask !== undefined && mask[i] !== 1) || v !== v || v === Infinity || v === -Infinity) continue;
    valid++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (!overCap) {
      seen.add(v);
      if (seen.size > cap) overCap = true;
    }
  }
  let mean: number | null = null;
  let std: number | null = null;
  if (valid > 0) {
    // values past 2^500 (float64 near its largest): sums and squares taken scaled by 2^-600, which they would leave;
    // every other field's the same doubles as unscaled
    const scale = Math.max(-min, max) > 2 ** 500 ? 2 ** -600 : 1;
    if (scale !== 1) {
      sum = 0;
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        if ((mask !== undefined && mask[i] !== 1) || v !== v || v === Infinity || v === -Infinity) continue;
        sum += v * scale;
      }
    }
    const scaledMean = sum / valid;
    mean = scaledMean / scale;
    let ss = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if ((mask !== undefined && mask[i] !== 1) || v !== v || v === Infinity || v === -Infinity) continue;
      const d = v * scale - scaledMean;
      ss += d * d;
      c += d;
    }
    std = Math.sqrt(Math.max(0, (ss - (c * c) / valid) / valid)) / scale;
    // the mean of float32 data is not float32: keep full precision, but clamp into [min, max]
    mean = Math.min(max, Math.max(min, mean));
  }
  const distinctValues = sortFloat64(Float64Array.from(seen));
  const distinct: DistinctCount = overCap
    ? { count: cap, exact: false, cap, label: `> ${cap}` }
    : { count: seen.size, exact: true, cap, label: String(seen.size) };
  const sf = options.scaleFactor ?? packedScale(field.attributes);
  const quantization = detectQuantization(distinctValues, {
    scaleFactor: sf,
    integerSource: sf === undefined && INTEGER_DTYPES.has(field.sourceDtype),
    float32: values instanceof Float32Array || field.sourceDtype === 'float32',
  });
  return {
    count: n,
    validCount: valid,
    fillFraction: n === 0 ? 0 : (n - valid) / n,
    min: valid > 0 ? min : null,
    max: valid > 0 ? max : null,
    mean,
    std,
    distinct,
    quantization,
  };
}

function packedScale(attrs: Record<string, unknown> | undefined): number | undefined {
  const v = declaredPacking(attrs)?.scaleFactor;
  return v !== undefined && v !== 0 && v !== 1 ? v : undefined;
}
