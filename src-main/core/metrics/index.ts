/**
 * Quality and size metrics, pure (no Node), reused by the bench, the API and the UI.
 * Conventions: every error metric is over valid points only (mask = 1, original finite); the range is
 * max - min of those points. PSNR = 20 log10(range / RMSE) (SZ3's convention; zfp's CLI prints 6 dB less
 * because it uses the max absolute value instead of the range... do not compare the two raw).
 */
import { type ErrorSums, errorSumsKernel } from '../codec/wasm-kernels.ts';
import { errorAutocorrelationByLag, ssimMap } from './spatial.ts';

export * from './error-stat.ts';
export * from './spatial.ts';
export * from './derived.ts';

type Arr = ArrayLike<number>;

export interface ErrorStats {
  validCount: number;
  range: number;
  maxAbsError: number;
  /** maxAbsError / range */
  maxRelError: number;
  rmse: number;
  /** RMSE / range; NaN without a valid point */
  nrmse: number;
  /** 20 log10(range / RMSE); Infinity when lossless, NaN without a valid point */
  psnr: number;
  bound: number;
  /** maxAbsError / bound (<= 1 means the bound holds; NaN when bound is 0 and no error) */
  maxErrorOverBound: number;
  pointsOverBound: number;
  /** NaN / Inf valid points reproduced exactly (same class and sign) */
  nonFiniteExact: boolean;
}

export function errorStats(orig: Arr, recon: Arr, mask: Uint8Array | null, bound: number): ErrorStats {
  const acc = new ErrorAccumulator(bound);
  acc.add(orig, recon, mask);
  return acc.stats();
}

/** Arrays from this many values are compared in the WebAssembly module (below, staging them costs more). */
const MODULE_MIN_VALUES = 1 << 12;
let sumsKernel: ReturnType<typeof errorSumsKernel> | false | undefined;

/**
 * ErrorStats gathered over pieces of a field (slabs of rows read one at a time): the same numbers as errorStats on
 * the whole field.
 */
export class ErrorAccumulator {
  private n = 0;
  private min = Infinity;
  private max = -Infinity;
  private maxErr = 0;
  private sse = 0;
  private over = 0;
  private nonFiniteExact = true;
  /**
   * Sums of squared errors scaled by 2^-600 and 2^600, for the pieces whose plain sum left the doubles: errors past
   * ~1e154 square to Infinity (a float64 field near the largest doubles), errors all below ~1e-162 to 0. Every other
   * field keeps the plain sum, the same double as ever, and its loop stays as it was.
   */
  private sseHuge = 0;
  private sseTiny = 0;

  constructor(readonly bound: number) {}

  add(orig: Arr, recon: Arr, mask: Uint8Array | null | undefined): void {
    const sse0 = this.sse;
    if (!this.addInModule(orig, recon, mask)) this.addHere(orig, recon, mask);
    if (this.sse === Infinity) {
      this.sse = sse0;
      this.sseHuge += scaledSquares(orig, recon, mask, 2 ** -600);
    } else if (this.sse === 0 && this.maxErr > 0) this.sseTiny += scaledSquares(orig, recon, mask, 2 ** 600);
  }

  /**
   * addHere's loop in the WebAssembly module (wasm-kernels.ts errorSumsKernel, the same numbers): a compression's
   * verification compares every value (a 1.4 M-value field: 7.0 -> 2.9 ms warm, 20.8 -> 8.2 ms cold, as a one-shot
   * command runs it). False where it cannot run (small or untyped arrays, no WebAssembly).
   */
  private addInModule(orig: Arr, recon: Arr, mask: Uint8Array | null | undefined): boolean {
    const typed = (a: Arr) => a instanceof Float32Array || a instanceof Float64Array;
    if (!typed(orig) || !typed(recon) || orig.length < MODULE_MIN_VALUES || recon.length < orig.length || (mask && mask.length < orig.length)) return false;
    sumsKernel ??= errorSumsKernel() ?? false;
    const sums: ErrorSums = { min: this.min, max: this.max, maxErr: this.maxErr, sse: this.sse, count: this.n, over: this.over, inexact: !this.nonFiniteExact };
    if (!sumsKernel || !sumsKernel(orig as Float32Array | Float64Array, recon as Float32Array | Float64Array, mask ?? null, this.bound, sums)) return false;
    ({ min: this.min, max: this.max, maxErr: this.maxErr, sse: this.sse, count: this.n, over: this.over } = sums);
    this.nonFiniteExact = !sums.inexact;
    return true;
  }

  private addHere(orig: Arr, recon: Arr, mask: Uint8Array | null | undefined): void {
    const bound = this.bound;
    let { n, over } = this;
    // the sums in a typed array, not double locals: this loop runs once per compression, cold, and until V8 has
    // optimized it (or again after a rare branch deoptimizes it) every double local it updates is a new heap number
    const acc = Float64Array.of(this.min, this.max, this.maxErr, this.sse);
    for (let i = 0; i < orig.length; i++) {
      if (mask && mask[i] === 0) continue;
      const x = orig[i]!;
      const y = recon[i]!;
      if (x - x !== 0) {
        if (!Object.is(x, y) && !(Number.isNaN(x) && Number.isNaN(y))) this.nonFiniteExact = false;
        continue;
      }
      n++;
      if (x < acc[0]!) acc[0] = x;
      if (x > acc[1]!) acc[1] = x;
      const e = Math.abs(x - y);
      if (!(e <= bound)) over++;
      // a NaN error (a finite value given back as NaN) stays the largest
      if (e > acc[2]! || e !== e) acc[2] = e;
      acc[3]! += e * e;
    }
    this.n = n;
    this.min = acc[0]!;
    this.max = acc[1]!;
    this.maxErr = acc[2]!;
    this.sse = acc[3]!;
    this.over = over;
  }

  stats(): ErrorStats {
    const { n, maxErr, bound } = this;
    const range = n ? this.max - this.min : 0;
    const rmse = !n ? 0 : this.sseHuge > 0 ? Math.sqrt((this.sse * 2 ** -1200 + this.sseHuge) / n) * 2 ** 600
      : this.sse > 0 ? Math.sqrt(this.sse / n) : Math.sqrt(this.sseTiny / n) * 2 ** -600;
    return {
      validCount: n,
      range,
      maxAbsError: maxErr,
      maxRelError: range > 0 ? maxErr / range : maxErr === 0 ? 0 : Infinity,
      rmse,
      // no valid point: no range to measure the error against (the field is all fill), not a lossless one
      nrmse: !n ? NaN : range > 0 ? rmse / range : rmse === 0 ? 0 : Infinity,
      psnr: !n ? NaN : psnr(range, rmse),
      bound,
      maxErrorOverBound: bound > 0 ? maxErr / bound : maxErr === 0 ? 0 : Infinity,
      pointsOverBound: this.over,
      nonFiniteExact: this.nonFiniteExact,
    };
  }
}

/** The sum of (error x scale)^2 over the valid finite points (ErrorAccumulator's rare second pass). */
function scaledSquares(orig: Arr, recon: Arr, mask: Uint8Array | null | undefined, scale: number): number {
  let sum = 0;
  for (let i = 0; i < orig.length; i++) {
    if (mask && mask[i] === 0) continue;
    const x = orig[i]!;
    if (x - x !== 0) continue;
    const e = Math.abs(x - recon[i]!) * scale;
    sum += e * e;
  }
  return sum;
}

export function psnr(range: number, rmse: number): number {
  if (rmse === 0) return Infinity;
  if (range === 0) return -Infinity;
  return 20 * Math.log10(range / rmse);
}

export function compressionRatio(originalBytes: number, compressedBytes: number): number {
  return originalBytes / compressedBytes;
}

/** bits per value */
export function bitRate(compressedBytes: number, values: number): number {
  return (8 * compressedBytes) / values;
}

/** MB/s with MB = 1e6 bytes of original data */
export function throughputMBs(originalBytes: number, seconds: number): number {
  return originalBytes / 1e6 / seconds;
}

export function boundHolds(orig: Arr, recon: Arr, mask: Uint8Array | null, bound: number): boolean {
  return errorStats(orig, recon, mask, bound).pointsOverBound === 0;
}

/**
 * Mean SSIM of one 2D slice (h x w, row-major) over 7x7 windows with stride 4, skipping windows that hold any
 * invalid point; dynamic range L = range of the valid points of the slice. Constants as Wang et al.
 */
export function ssim2d(a: Arr, b: Arr, h: number, w: number, mask: Uint8Array | null = null, offset = 0, win = 7, stride = 4): number {
  return ssimMap(a, b, h, w, mask, offset, win, stride).mean;
}

/** SSIM of the middle 2D slice (last two dims) of an N-D field; NaN for 1D fields. */
export function ssimMiddleSlice(a: Arr, b: Arr, shape: number[], mask: Uint8Array | null = null): number {
  if (shape.length < 2) return NaN;
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  const slices = a.length / (h * w);
  const mid = Math.floor(slices / 2);
  return ssim2d(a, b, h, w, mask, mid * h * w);
}

/** Lag-1 autocorrelation of the error x' - x along the fastest dimension, over pairs of valid points. */
export function errorAutocorrelation(orig: Arr, recon: Arr, shape: number[], mask: Uint8Array | null = null): number {
  return errorAutocorrelationByLag(orig, recon, [orig.length / shape[shape.length - 1]!, shape[shape.length - 1]!], mask, 1).x[1]!;
}

export interface Histogram {
  /** bin edges, length bins + 1 */
  edges: number[];
  counts: number[];
}

/** Histogram of the signed error over valid points, on [-lim, lim] (lim = bound, or max |error| when bound is 0). */
export function errorHistogram(orig: Arr, recon: Arr, mask: Uint8Array | null = null, bins = 41, bound = 0): Histogram {
  let lim = bound;
  if (!(lim > 0)) {
    for (let i = 0; i < orig.length; i++) {
      if (mask && mask[i] === 0) continue;
      const e = Math.abs(recon[i]! - orig[i]!);
      if (e > lim) lim = e;
    }
  }
  if (!(lim > 0)) lim = 1;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < orig.length; i++) {
    if (mask && mask[i] === 0) continue;
    const e = recon[i]! - orig[i]!;
    if (e - e !== 0) continue;
    let k = Math.floor(((e + lim) / (2 * lim)) * bins);
    if (k < 0) k = 0;
    if (k >= bins) k = bins - 1;
    counts[k]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => -lim + (2 * lim * i) / bins);
  return { edges, counts };
}

export interface FullMetrics extends ErrorStats {
  compressionRatio: number;
  bitRate: number;
  ssim: number;
  errorLag1Autocorrelation: number;
  histogram: Histogram;
  compressMBs?: number;
  decompressMBs?: number;
}

/** Everything at once (what the UI shows for a run). originalBytes: values x 4 for float32. */
export function fullMetrics(
  orig: Arr,
  recon: Arr,
  shape: number[],
  mask: Uint8Array | null,
  bound: number,
  originalBytes: number,
  compressedBytes: number,
  times?: { compressSeconds?: number; decompressSeconds?: number },
): FullMetrics {
  const st = errorStats(orig, recon, mask, bound);
  return {
    ...st,
    compressionRatio: compressionRatio(originalBytes, compressedBytes),
    bitRate: bitRate(compressedBytes, orig.length),
    ssim: ssimMiddleSlice(orig, recon, shape, mask),
    errorLag1Autocorrelation: errorAutocorrelation(orig, recon, shape, mask),
    histogram: errorHistogram(orig, recon, mask, 41, bound),
    ...(times?.compressSeconds ? { compressMBs: throughputMBs(originalBytes, times.compressSeconds) } : {}),
    ...(times?.decompressSeconds ? { decompressMBs: throughputMBs(originalBytes, times.decompressSeconds) } : {}),
  };
}
