/**
 * Detecting the quantization step of a field: many real products are stored already rounded (packed
 * 16-bit integers, whole metres, 0.1 hPa). Error bounds below that step mean nothing, so the step is
 * reported and flagged. Pure.
 *
 * Method: the sorted distinct values' consecutive differences must all be integer multiples of the
 * step. Candidates are the smallest difference and its fractions 1/2..1/12 (so {0, 2, 5} gives 1);
 * each is refined by least squares and accepted when every difference is within float rounding
 * (two units in the last place of the largest magnitude) of a multiple. A step that is no larger than
 * a few dozen ulps is just float resolution, not quantization; a step that is not 1, 2, 2.5 or 5 x 10^k
 * needs at least 256 distinct values (a handful of evenly spaced values is not evidence of rounding).
 */

export interface QuantizationInfo {
  detected: boolean;
  /** The step, snapped to 1, 2, 2.5 or 5 x 10^k when within rounding of it. */
  step: number | null;
  /** packing: scale_factor of a packed integer variable; integer-dtype: stored as integers; values: found in the values. */
  source: 'packing' | 'integer-dtype' | 'values' | null;
  /** Number of steps spanned by [min, max], plus one. */
  levels?: number;
  /** One line for people: what was found and what it means for error bounds. */
  note: string;
}

export interface QuantizationContext {
  /** scale_factor when the variable is packed. */
  scaleFactor?: number;
  /** true when the stored dtype is an integer one (and not packed). */
  integerSource?: boolean;
  /** Values were float32 (rounding tolerance follows float32's precision). Default: guessed from the array. */
  float32?: boolean;
}

const NICE = [1, 2, 2.5, 5];

export function snapNice(g: number, tol: number): number {
  if (!(g > 0)) return g;
  const e = Math.floor(Math.log10(g));
  for (const k of [e - 1, e, e + 1]) {
    for (const m of NICE) {
      const c = m * 10 ** k;
      if (Math.abs(c - g) <= Math.max(tol, 1e-9 * c)) return Number(c.toPrecision(12));
    }
  }
  return g;
}

function fmt(x: number): string {
  return Number(x.toPrecision(6)).toString();
}

/**
 * `sortedDistinct`: ascending distinct valid values (all of them or a subset: any subset of values on a
 * grid of step s has differences that are multiples of s).
 */
export function detectQuantization(sortedDistinct: ArrayLike<number>, ctx: QuantizationContext = {}): QuantizationInfo {
  const n = sortedDistinct.length;
  const lo = n > 0 ? sortedDistinct[0]! : NaN;
  const hi = n > 0 ? sortedDistinct[n - 1]! : NaN;
  const levelsFor = (s: number) => (n > 0 && s > 0 ? Math.round((hi - lo) / s) + 1 : undefined);
  if (ctx.scaleFactor !== undefined && ctx.scaleFactor !== 0) {
    const s = Math.abs(ctx.scaleFactor);
    return {
      detected: true,
      step: s,
      source: 'packing',
      levels: levelsFor(s),
      note: `packed integers with scale_factor ${fmt(s)}: values are multiples of ${fmt(s)} (plus add_offset); an error bound below ${fmt(s / 2)} means nothing`,
    };
  }
  if (n < 3) {
    return { detected: false, step: null, source: null, note: n === 0 ? 'no valid values' : `only ${n} distinct value(s): no step to detect` };
  }
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
  const f32 = ctx.float32 ?? true;
  const ulp = maxAbs === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(maxAbs)) - (f32 ? 23 : 52));
  const tol = 2 * ulp;
  const diffs = new Float64Array(n - 1);
  let dmin = Infinity;
  for (let i = 1; i < n; i++) {
    const d = sortedDistinct[i]! - sortedDistinct[i - 1]!;
    diffs[i - 1] = d;
    if (d < dmin) dmin = d;
  }
  const minStep = 32 * ulp;
  let found: number | null = null;
  if (dmin > minStep) {
    for (let m = 1; m <= 12 && found === null; m++) {
      const g0 = dmin / m;
      if (g0 <= minStep) break;
      // refine by least squares over all differences, then verify
      let sdk = 0;
      let skk = 0;
      for (let i = 0; i < diffs.length; i++) {
        const k = Math.round(diffs[i]! / g0);
        sdk += diffs[i]! * k;
        skk += k * k;
      }
      const g = sdk / skk;
      let ok = true;
      for (let i = 0; i < diffs.length && ok; i++) {
        const k = Math.round(diffs[i]! / g);
        if (k < 1 || Math.abs(diffs[i]! - k * g) > tol + 1e-9 * k * g) ok = false;
      }
      if (ok) found = g;
    }
  }
  if (found === null) {
    if (ctx.integerSource) return { detected: true, step: 1, source: 'integer-dtype', levels: levelsFor(1), note: 'stored as integers: values are whole numbers; an error bound below 0.5 means nothing' };
    return { detected: false, step: null, source: null, note: 'no quantization step found (values look continuous at float precision)' };
  }
  const step = snapNice(found, tol * 4);
  const nice = step !== found || NICE.some((m) => step === Number((m * 10 ** Math.floor(Math.log10(step))).toPrecision(12)));
  if (!nice && n < 256) {
    // A few evenly spaced values (a coordinate-like field, 4 time steps) are not evidence of rounding.
    if (ctx.integerSource) return { detected: true, step: 1, source: 'integer-dtype', levels: levelsFor(1), note: 'stored as integers: values are whole numbers; an error bound below 0.5 means nothing' };
    return { detected: false, step: null, source: null, note: `only ${n} distinct values, evenly spaced by ${fmt(found)}: too few to call it a quantization step` };
  }
  const whole = step === 1 ? ' (whole units)' : '';
  return {
    detected: true,
    step,
    source: ctx.integerSource && step === 1 ? 'integer-dtype' : 'values',
    levels: levelsFor(step),
    note: `values lie on a grid of step ${fmt(step)}${whole}: the data are already rounded; an error bound below ${fmt(step / 2)} means nothing`,
  };
}
