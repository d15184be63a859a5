/**
 * A fill value the file does not declare: the field's smallest or largest value, held by many points and far from
 * all the others (land written as -9999 in a sea-surface temperature, 1e20 past a model's domain). Undeclared, it
 * counts in the field's range, so a relative bound spans it: rel 1e-4 on SST of -2..30 with -9999 on land is an
 * error of 1.0 degC. Pure.
 */

/** At least this share of the valid points hold the value (and 2 points or more) ... */
export const UNDECLARED_FILL_MIN_SHARE = 0.001;
/** ... and it lies this many times the others' range away from the nearest of them. */
export const UNDECLARED_FILL_MIN_GAP = 10;

export interface UndeclaredFill {
  value: number;
  /** points holding it */
  count: number;
  /** the other valid values' smallest and largest */
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
  const enough = (count: number) => count >= 2 && count >= UNDECLARED_FILL_MIN_SHARE * valid && count < valid;
  for (const [value, count] of [[min, atMin], [max, atMax]] as const) {
    if (!enough(count)) continue;
    const rest = restRange(values, mask, value);
    const span = rest[1] - rest[0];
    const gap = Math.min(Math.abs(value - rest[0]), Math.abs(value - rest[1]));
    if (span > 0 && gap >= UNDECLARED_FILL_MIN_GAP * span) return { value, count, rest };
  }
  return null;
}

/** The smallest and largest valid value other than `except`. */
function restRange(values: ArrayLike<number>, mask: Uint8Array | null | undefined, except: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((mask && mask[i] !== 1) || v - v !== 0 || v === except) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
