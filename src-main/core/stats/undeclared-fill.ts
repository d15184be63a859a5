/**
 * A fill value the file does not declare: the field's smallest or largest value, held by many points and far from
 * all the others (land written as -9999 in a sea-surface temperature, 1e20 past a model's domain). Undeclared, it
 * counts in the field's range, so a relative bound spans it: rel 1e-4 on SST of -2..30 with -9999 on land is an
 * error of 1.0 degC. Pure.
 */

/** At least this share of the valid points hold the value (and 2 points or more) ... */
export const UNDECLARED_FILL_MIN_SHARE = 0.001;
/**
 * ... and with it the field's range is this many times the others' range: -9999 beside SST of -2..30 (300 x), 0 K
 * beside 271..305 K (9 x); not land as 0 beside salinity of 4.6..40.8 (1.1 x), nor the zeros of rain.
 */
export const UNDECLARED_FILL_MIN_WIDENING = 5;

export interface UndeclaredFill {
  value: number;
  /** points holding it */
  count: number;
  /** the field's valid points (mask 1 where given, finite) */
  valid: number;
  /** the other valid values' smallest and largest (the field's other extreme left out too where it is a fill) */
  rest: [number, number];
}

/** The field's likely undeclared fill value (UndeclaredFill), or null. Valid points: mask 1 (where given) and finite. */
export function undeclaredFill(values: ArrayLike<number>, mask?: Uint8Array | null): UndeclaredFill | null {
  let valid = 0;
  let min = Infinity;
  let max = -Infinity;
  let atMin = 0;
  let atMax = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((mask && mask[i] !== 1) || v - v !== 0) continue;
    valid++;
    if (v < min) {
      min = v;
      atMin = 0;
    }
    if (v > max) {
      max = v;
      atMax = 0;
    }
    if (v === min) atMin++;
    if (v === max) atMax++;
  }
  const enough = (count: number) => count >= 2 && count >= UNDECLARED_FILL_MIN_SHARE * valid;
  // both ends may be fills (land -9999, ice 9999): each is judged against the values between them
  const ends = ([[min, atMin], [max, atMax]] as const).filter(([value, count], i) => enough(count) && (i === 0 || value !== min));
  if (!ends.length || ends.reduce((a, [, c]) => a + c, 0) >= valid) return null;
  const rest = restRange(values, mask, ends.map(([v]) => v));
  const span = rest[1] - rest[0];
  if (!(span > 0)) return null;
  for (const [value, count] of ends) {
    const widened = Math.max(rest[1], value) - Math.min(rest[0], value);
    if (widened >= UNDECLARED_FILL_MIN_WIDENING * span) return { value, count, valid, rest };
  }
  return null;
}

/** The smallest and largest valid value other than those of `except`. */
function restRange(values: ArrayLike<number>, mask: Uint8Array | null | undefined, except: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((mask && mask[i] !== 1) || v - v !== 0 || except.includes(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
