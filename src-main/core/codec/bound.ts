/**
 * Error-bound modes. Every mode is turned into one absolute point-wise bound `abs`, which is what the
 * codec guarantees (|x - x'| <= abs on every valid point, float rounding included) and what the UI shows
 * beside the mode the user chose.
 *
 *  - abs:   abs = value
 *  - rel:   abs = value * (max - min of the valid finite points)
 *  - psnr:  target PSNR in dB, PSNR = 20 log10(range / RMSE). A uniform quantization error in [-e, e] has
 *           RMSE = e / sqrt(3), so abs = sqrt(3) * range * 10^(-psnr/20) (SZ3's rule). The PSNR reached is
 *           usually at or slightly above the target (escapes are exact); it is measured and reported, not promised.
 *  - nrmse: target RMSE / range; abs = sqrt(3) * value * range (same reasoning).
 * A target (psnr, nrmse) is promised, not estimated: the codec service measures the decoded field and, where the
 * target was missed, compresses again with the absolute bound tightened (BoundSpec.tighten < 1; halved where the
 * errors did not move, as on a grid), at most a few passes, then losslessly; a pass that met it well past the target
 * after a miss is followed by two between them, the smallest stream that meets it kept. psnr must be > 0 dB (abs:0
 * is lossless).
 * A resolved bound of 0 means lossless: values come back bit for bit.
 */
import { FieldpackError } from '../errors.ts';
import { finiteRangeKernel, type MaskedScan, maskedScanKernel } from './wasm-kernels.ts';

export type BoundMode = 'abs' | 'rel' | 'psnr' | 'nrmse';
export const BOUND_MODES: readonly BoundMode[] = ['abs', 'rel', 'psnr', 'nrmse'];

export interface BoundSpec {
  mode: BoundMode;
  value: number;
  /** psnr / nrmse: factor [0, 1] on the absolute bound (0: lossless), set by the codec service when a pass missed the target */
  tighten?: number;
}

export interface ResolvedBound extends BoundSpec {
  /** The absolute point-wise bound actually enforced. 0 = lossless. */
  abs: number;
  lossless: boolean;
  /** max - min over valid finite points (0 for a constant or empty field). */
  range: number;
  /** Human-readable, e.g. "rel 1e-3 -> abs 0.0412" or "lossless (bound 0)". */
  label: string;
}

export function boundModeId(m: BoundMode): number {
  return BOUND_MODES.indexOf(m);
}

export function boundModeFromId(id: number): BoundMode {
  const m = BOUND_MODES[id];
  if (!m) throw new FieldpackError('BAD_STREAM', `corrupted header: unknown bound mode id ${id}`);
  return m;
}

/** "rel:1e-3", "abs:0.5", "psnr:60", "nrmse:1e-5" (also "rel=1e-3"). */
export function parseBound(text: string): BoundSpec {
  const m = /^\s*(abs|rel|psnr|nrmse)\s*[:=]\s*([^\s]+)\s*$/i.exec(text);
  if (!m) throw new FieldpackError('INVALID_ARGUMENT', `bad bound "${text}": expected MODE:VALUE with MODE abs, rel, psnr or nrmse (e.g. rel:1e-3)`);
  const infinite = /^\+?inf(inity)?$/i.test(m[2]!);
  const spec = { mode: m[1]!.toLowerCase() as BoundMode, value: infinite ? Infinity : Number(m[2]) };
  // a value that is no decimal number ("1e-3x", "0x10", "1_0") is quoted back, not read as NaN or hexadecimal
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(m[2]!) && !infinite) {
    throw new FieldpackError('INVALID_ARGUMENT', `bad bound "${text.trim()}": "${m[2]}" is not a number (e.g. ${spec.mode}:${spec.mode === 'psnr' ? '60' : '1e-3'})`);
  }
  // a non-zero value below the smallest double reads as 0, which means lossless: refused rather than taken so
  if (spec.value === 0 && /[1-9]/.test(m[2]!.replace(/e.*$/i, ''))) {
    throw new FieldpackError('INVALID_ARGUMENT', `bad bound "${text.trim()}": ${m[2]} is below the smallest positive double (5e-324) and would read as 0, i.e. lossless: give ${spec.mode}:0 for that, or a larger bound`);
  }
  // an infinite PSNR is an exact reconstruction: said the way every bound says it (a request cannot carry Infinity)
  if (spec.mode === 'psnr' && infinite) throw new FieldpackError('INVALID_ARGUMENT', `${text.trim()} asks for an exact reconstruction: give abs:0 (lossless)`);
  validateBound(spec);
  return spec;
}

export function formatBound(b: BoundSpec): string {
  return `${b.mode}:${b.value}`;
}

export function validateBound(b: BoundSpec): void {
  if (!BOUND_MODES.includes(b.mode)) throw new FieldpackError('INVALID_ARGUMENT', `unknown bound mode "${b.mode}"`);
  if (typeof b.value !== 'number' || Number.isNaN(b.value) || b.value < 0 || (b.value === Infinity && b.mode !== 'psnr')) {
    throw new FieldpackError('INVALID_ARGUMENT', `bound value for ${b.mode} must be ${b.mode === 'psnr' ? 'a number of dB > 0' : 'a finite number >= 0'}, got ${b.value}`);
  }
  if (b.mode === 'abs' && b.value > MAX_ABS_BOUND) {
    throw new FieldpackError('INVALID_ARGUMENT', `abs bound ${b.value} is too large to store (at most ${MAX_ABS_BOUND.toPrecision(4)}); a bound beyond the field's range keeps nothing of it anyway`);
  }
  if (b.mode === 'psnr' && b.value === 0) {
    throw new FieldpackError('INVALID_ARGUMENT', 'psnr:0 asks for 0 dB, i.e. no fidelity at all; give a target PSNR in dB (e.g. psnr:60), or abs:0 for lossless');
  }
  if (b.tighten !== undefined && !(b.tighten >= 0 && b.tighten <= 1)) throw new FieldpackError('INVALID_ARGUMENT', `bound tightening must be in [0, 1], got ${b.tighten}`);
}

/** The largest absolute bound a stream holds: 2^1022, whose double (the quantizer's bin width) is still finite. */
export const MAX_ABS_BOUND = 2 ** 1022;

/**
 * Resolves a bound against the valid range of a field; validCount (where the caller knows it) 0 says the range is
 * empty (every point masked or not finite), not a constant field's.
 */
export function resolveBound(b: BoundSpec, range: number, validCount?: number): ResolvedBound {
  validateBound(b);
  let abs: number;
  switch (b.mode) {
    case 'abs':
      abs = b.value;
      break;
    case 'rel':
      abs = b.value * range;
      break;
    case 'psnr':
      abs = b.value === Infinity ? 0 : Math.sqrt(3) * range * Math.pow(10, -b.value / 20);
      break;
    case 'nrmse':
      abs = Math.sqrt(3) * b.value * range;
      break;
  }
  const tighten = (b.mode === 'psnr' || b.mode === 'nrmse') && b.tighten !== undefined ? b.tighten : 1;
  abs *= tighten;
  // a range past the largest double makes any relative bound infinite: lossless, the one bound known to hold; a bound
  // past what a stream stores (twice it must be finite), an overflowing product included, is held to that
  const rangeOverflows = !Number.isFinite(range) && b.mode !== 'abs' && abs !== 0;
  if (rangeOverflows || Number.isNaN(abs) || abs < 0) abs = 0;
  const held = abs > MAX_ABS_BOUND;
  abs = Math.min(abs, MAX_ABS_BOUND);
  const lossless = abs === 0;
  const constant = validCount === 0 ? ', no valid point: every value is fill or not finite' : ', constant field';
  const why = rangeOverflows ? ", the field's range overflows a double" : b.mode !== 'abs' && range === 0 ? constant : '';
  const label = lossless
    ? `${b.mode} ${b.value} -> lossless (bound 0${why})`
    : `${b.mode} ${b.value} -> abs ${abs.toPrecision(6)}${held ? ' (the largest a stream stores)' : ''}${tighten < 1 ? ` (tightened x${tighten.toPrecision(3)} to meet the target)` : ''}`;
  return { mode: b.mode, value: b.value, abs, lossless, range, label };
}

/**
 * Keeps decoded values inside the original's valid range [min, max] (a stream header's validMin and validMax): a value
 * past an end moves to it. Every valid original lies in the range, so no point's error grows, and a non-negative
 * field stays non-negative, a fraction at most 1. Masked and non-finite values (stored exactly) stay as they are.
 * In place; returns how many values moved.
 */
export function clampToRange(values: { length: number; [i: number]: number }, mask: Uint8Array | null | undefined, min: number, max: number): number {
  let moved = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((v >= min && v <= max) || v - v !== 0 || (mask && mask[i] !== 1)) continue;
    values[i] = v < min ? min : max;
    moved++;
  }
  return moved;
}

/** Min/max over valid finite points. mask: 1 = valid. */
export function validRange(values: ArrayLike<number>, mask?: Uint8Array | null): { min: number; max: number; count: number } {
  if (!mask) return finiteRange(values);
  const scanned = maskedScan(values, mask, null, false);
  if (scanned) return { min: scanned.min, max: scanned.max, count: scanned.count };
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  const n = values.length;
  for (let i = 0; i < n; i++) {
    if (mask && mask[i] === 0) continue;
    const v = values[i]!;
    if (v - v !== 0) continue; // NaN or Inf
    if (v < min) min = v;
    if (v > max) max = v;
    count++;
  }
  return count ? { min, max, count } : { min: 0, max: 0, count: 0 };
}

/** Fields from this many values have their range found in the WebAssembly module (below, the call costs more). */
const RANGE_KERNEL_MIN_VALUES = 1 << 12;
let rangeKernel: ReturnType<typeof finiteRangeKernel> | false | undefined;
let scanKernel: ReturnType<typeof maskedScanKernel> | false | undefined;

/**
 * A masked field's valid range and exception counts (wasm-kernels.ts maskedScanKernel; `fill`: the masked points'
 * value, null for none), with the skip array (1 where masked) where `withSkip`; null for small or untyped values or
 * without WebAssembly, where the caller's own loop runs.
 */
export function maskedScan(values: ArrayLike<number>, mask: Uint8Array, fill: number | null, withSkip: boolean): MaskedScan | null {
  if (!(values instanceof Float32Array || values instanceof Float64Array) || values.length < RANGE_KERNEL_MIN_VALUES || mask.length !== values.length) return null;
  scanKernel ??= maskedScanKernel() ?? false;
  return scanKernel ? scanKernel(values, mask, fill, withSkip) : null;
}

/**
 * validRange without a mask, the same result in one branch per value where the values are finite (about 1.6 x
 * faster: a 9.3 M-value field's range is on the critical path before its chunks go to the workers). Starting from
 * the first finite value, min <= max always holds, so a value below min is never above max; non-finite values fail
 * both comparisons (NaN) or reach one as +-Infinity, and are counted out there.
 */
function finiteRange(values: ArrayLike<number>): { min: number; max: number; count: number } {
  if ((values instanceof Float32Array || values instanceof Float64Array) && values.length >= RANGE_KERNEL_MIN_VALUES) {
    rangeKernel ??= finiteRangeKernel() ?? false;
    const inModule = rangeKernel ? rangeKernel(values) : null;
    if (inModule) return inModule;
  }
  const n = values.length;
  let i = 0;
  while (i < n && !(values[i]! - values[i]! === 0)) i++;
  if (i === n) return { min: 0, max: 0, count: 0 };
  let min = values[i]!;
  let max = min;
  let nonfinite = i;
  for (i++; i < n; i++) {
    const v = values[i]!;
    if (v < min) {
      if (v === -Infinity) nonfinite++;
      else min = v;
    } else if (v > max) {
      if (v === Infinity) nonfinite++;
      else max = v;
    } else if (v !== v) nonfinite++;
  }
  return { min, max, count: n - nonfinite };
}
