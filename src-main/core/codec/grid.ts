/**
 * Fields that already lie on a grid (packed int16 with scale_factor / add_offset, products rounded to 0.01 K or 1 Pa):
 * the values are offset + k * step for integers k. Coding k instead of the values wins twice: at bounds below half
 * the step the integers are coded losslessly and the values come back bit for bit, and near the step the quantizer
 * works on that grid (bins of 2h+1 steps, reconstructions on the grid) instead of bins of 2e that fall between
 * its points. Pure.
 *
 * The bound: a point is on the grid when fround(offset + k * step) is within `tolerance` of its value (bit for
 * bit when the bound is below float resolution, or lossless). Decoding gives fround(offset + k^ * step) with
 * |k^ - k| <= h, so its error is at most h * step + tolerance + one ulp of the largest magnitude (the two roundings
 * to the dtype): `halfWidth` chooses the largest h that keeps this within the bound. Points off the grid are
 * stored exactly (the chunk's exact-value list).
 */
import { LinearQuantizer, kernelRadius, roundExact, roundForCode } from './quantizer.ts';
import type { Values } from './predictors/types.ts';
import { detectQuantization } from '../stats/quantization.ts';
import { type KernelQuantizer, gridIndicesKernel } from './wasm-kernels.ts';
import { sortFloat64 } from '../stats/sort.ts';
import { declaredPacking } from '../field.ts';

export interface Grid {
  offset: number;
  step: number;
}

/** A grid and what the quantizer may do on it (written in the stream's params). */
export interface GridPlan extends Grid {
  /** most steps a reconstruction may be from its value (0: every on-grid point exactly) */
  half: number;
  /** how far from fround(offset + k * step) a value may be and still count as on the grid */
  tolerance: number;
  /**
   * Set: not offset + k * step but the float32 values whose mantissa has only its top `mantissaBits` bits (bit
   * rounding: netCDF's quantize, bfloat16 outputs), index k their bits shifted right, negative for a negative value
   * (so the indices are ordered as the values are, and neighbours' indices differ by their distance in steps of their
   * binade); -0, unrounded and non-finite values are off it (mantissaIndicesLoop).
   * Offset 0, step 1, half 0 and tolerance 0 then: its steps grow with each binade, so only exact coding uses it.
   */
  mantissaBits?: number;
  /**
   * With mantissaBits, where the bound is at least one ulp at the largest magnitude: a value one ulp below a grid
   * point (its dropped bits all set: BitGroom's odd values) counts as on it and comes back as that point. The
   * encoder's alone: the stream's indices are grid points either way.
   */
  oneUlpBelow?: boolean;
  /**
   * Set: the field's slices along its first `sliceDims` dims (its 2-D planes, or a 2-D field's rows) each lie on a
   * grid of this step with an offset of their own, which each chunk stores (sliceOffsets); `offset` is unused (0).
   * GRIB messages are such: each level and time a reference value R of its own (its minimum), values R + X x 2^E x
   * 10^-D with one step over the variable.
   */
  sliceDims?: number;
}

/** Below this share of points on the grid, coding on it is not tried. */
export const MIN_ON_GRID_SHARE = 0.995;
/** Streams code on a grid with fewer steps per half bound than this (readers refuse more). */
export const MAX_GRID_HALF = 32;
/**
 * The encoder codes on a grid only with fewer steps per half bound than this: wider, the bins of 2h + 1 steps are as
 * fine as bins of 2e, and the indices in doubles cost time. Over the bench fields, variants and held-out sets, coded
 * whole, the fields at 16..31 steps (etopo5 at rel 1e-3: 18) were 0.11-0.77 % smaller on the grid and one 0.29 %
 * larger, for 20-45 % more encoding; those at 1-8 steps were 1-16 % smaller (a few 0.8-2.5 % larger) and stay on it.
 * (Of the 1254 hashed streams, which include chunks of 64 k values, 14 moved: -0.29 % to +1.09 %.)
 */
export const GRID_HALF_LIMIT = 16;

/** One unit in the last place at magnitude a, for the dtype. */
export function ulpAt(a: number, f32: boolean): number {
  if (!(a > 0)) return f32 ? 2 ** -149 : Number.MIN_VALUE;
  return 2 ** (Math.floor(Math.log2(a)) - (f32 ? 23 : 52));
}

/** Tolerance of the on-grid test and the largest h within the bound e; null when no h is possible. */
export function gridPlanFor(grid: Grid, e: number, maxAbs: number, f32: boolean): GridPlan {
  const ulp0 = ulpAt(maxAbs, f32);
  // lossless, or a bound under float resolution: on-grid means bit for bit, and h = 0 reconstructs it exactly
  const tolerance = e < ulp0 ? 0 : Math.min(e, ulp0);
  let half = Math.max(0, Math.floor((e - tolerance - ulp0) / (grid.step * (1 + 1e-12))));
  half = Math.min(half, MAX_GRID_HALF);
  while (half > 0 && half * grid.step * (1 + 1e-12) + tolerance + ulpAt(maxAbs + half * grid.step, f32) > e) half--;
  return { ...grid, half, tolerance };
}

/** The grid value of index k, computed the same way on both sides. */
export function gridValueOf(k: number, g: Grid, f32: boolean): number {
  const r = g.offset + k * g.step;
  return f32 ? Math.fround(r) : r;
}

/** Whether x is on the grid for this tolerance (bit for bit at tolerance 0, so -0 is not 0). */
function onGrid(x: number, r: number, tolerance: number): boolean {
  if (tolerance === 0) return r === x && (r !== 0 || 1 / r === 1 / x);
  return Math.abs(r - x) <= tolerance;
}

/**
 * How many of the finite values (not skipped) lie on the grid; null as soon as more than `maxOff` do not (a caller
 * that needs a share of them on it knows it is out of reach: most fields are on no grid, and stop early).
 */
export function countOnGrid(values: ArrayLike<number>, skip: Uint8Array | null, g: Grid, tolerance: number, f32: boolean, maxOff = Infinity): { on: number; total: number } | null {
  let on = 0;
  let total = 0;
  const inv = 1 / g.step;
  for (let i = 0; i < values.length; i++) {
    if (skip !== null && skip[i] === 1) continue;
    const x = values[i]!;
    if (x - x !== 0) continue;
    total++;
    const k = roundExact((x - g.offset) * inv);
    if (Math.abs(k) < 2 ** 52 && onGrid(x, gridValueOf(k, g, f32), tolerance)) on++;
    else if (total - on > maxOff) return null;
  }
  return { on, total };
}

/**
 * Grid indices of the values: k at on-grid points (0 elsewhere), the indices of the others (ascending) in
 * `offGrid`, to be stored exactly and skipped by the predictor (`skip` is updated; it is created when null and
 * there are any). `into`: n values to write k into (else a new array).
 */
export function toGridIndices(values: Values, skip: Uint8Array | null, plan: GridPlan, f32: boolean, into?: Float64Array, kernels = true): { k: Float64Array; offGrid: number[]; skip: Uint8Array | null } {
  const n = values.length;
  const k = into ?? new Float64Array(n);
  // in WebAssembly where it can (wasm/codec-kernels.ts gridIndices: the same indices), else the loop
  if (kernels) kernel ??= gridIndicesKernel();
  const offGrid = plan.mantissaBits !== undefined
    ? mantissaIndicesLoop(values, skip, plan.mantissaBits, plan.oneUlpBelow === true, k)
    : ((kernels ? kernel?.(values, skip, plan, f32, k) : null) ?? gridIndicesLoop(values, skip, plan, f32, k));
  if (offGrid.length) {
    skip ??= new Uint8Array(n);
    for (const i of offGrid) skip[i] = 1;
  }
  return { k, offGrid, skip };
}

let kernel: ReturnType<typeof gridIndicesKernel> | undefined;

/** toGridIndices's reference loop: every k[i] written; the points off the grid, in order. */
function gridIndicesLoop(values: Values, skip: Uint8Array | null, plan: GridPlan, f32: boolean, k: Float64Array): number[] {
  const n = values.length;
  const offGrid: number[] = [];
  const { offset, step, tolerance } = plan;
  const inv = 1 / step;
  // gridValueOf and onGrid inlined by hand: through them V8 kept this loop at ~40 ns a value, inlined it runs at ~6
  for (let i = 0; i < n; i++) {
    k[i] = 0; // skipped points too (`into` is not cleared)
    if (skip !== null && skip[i] === 1) continue;
    const x = values[i]!;
    const j = roundExact((x - offset) * inv);
    const r = f32 ? Math.fround(offset + j * step) : offset + j * step;
    const on = tolerance === 0 ? r === x && (r !== 0 || 1 / r === 1 / x) : Math.abs(r - x) <= tolerance;
    if (on && Math.abs(j) < 4503599627370496) k[i] = j;
    else offGrid.push(i);
  }
  return offGrid;
}

/**
 * Values of decoded grid indices (skipped points are left for the chunk's exact-value lists and mask): gridValueOf's
 * expression, written out in a loop per case (3.7 x faster than its call per point on a 1.4 M-value chunk).
 */
export function fromGridIndices(k: Float64Array, out: Values, skip: Uint8Array | null, g: Grid & { mantissaBits?: number }, f32: boolean): void {
  if (g.mantissaBits !== undefined) return fromMantissaIndices(k, out, skip, g.mantissaBits);
  const { offset, step } = g;
  const n = k.length;
  if (skip === null && f32) for (let i = 0; i < n; i++) out[i] = Math.fround(offset + k[i]! * step);
  else if (skip === null) for (let i = 0; i < n; i++) out[i] = offset + k[i]! * step;
  else for (let i = 0; i < n; i++) if (skip[i] === 0) out[i] = gridValueOf(k[i]!, g, f32);
}

/** Float32 mantissa bits: what a mantissa grid keeps is counted from the top of these. */
const F32_MANTISSA = 23;
/** The most bits a mantissa grid may keep (the format's limit: one dropped bit; the encoder drops MIN_DROPPED_BITS). */
export const MAX_MANTISSA_BITS = F32_MANTISSA - 1;
/** Below this many dropped bits a field's own bits are nearly as wide as its indices: no mantissa grid is tried. */
export const MIN_DROPPED_BITS = 4;
/** The largest index magnitude a finite float32 has on a grid that drops s bits: (0x7f7fffff >>> s). */
const maxMantissaIndex = (s: number) => 0x7f7fffff >>> s;

/**
 * toGridIndices on a mantissa grid: the indices (0 where skipped or off the grid) and the points off it, in order.
 * `oneBelow`: a value whose dropped bits are all set is the grid point one ulp above it (its bits + 1).
 */
function mantissaIndicesLoop(values: Values, skip: Uint8Array | null, mantissaBits: number, oneBelow: boolean, k: Float64Array): number[] {
  const n = values.length;
  const offGrid: number[] = [];
  const s = F32_MANTISSA - mantissaBits;
  const dropped = (1 << s) - 1;
  // a float32 field's own bits; float64 values through a float32 copy (those it changes are off the grid)
  const f = values instanceof Float32Array ? values : Float32Array.from(values);
  const u = new Uint32Array(f.buffer, f.byteOffset, n);
  for (let i = 0; i < n; i++) {
    k[i] = 0;
    if (skip !== null && skip[i] === 1) continue;
    const b = u[i]!;
    let mag = b & 0x7fffffff;
    // one below a grid point (not the largest finite float's, whose next is Infinity): the point, one ulp away
    if (oneBelow && (mag & dropped) === dropped && mag < 0x7f7fffff) mag++;
    if (mag >= 0x7f800000 || (mag & dropped) !== 0 || b === 0x80000000 || (f !== values && f[i] !== values[i])) offGrid.push(i);
    else k[i] = b >>> 31 ? -(mag >>> s) : mag >>> s;
  }
  return offGrid;
}

/**
 * fromGridIndices on a mantissa grid (skipped points left as they are); an index no finite float has gives NaN. A
 * float64 output (never a stream's: mantissa grids are float32's) gets the same float32 values, through a copy.
 */
function fromMantissaIndices(k: Float64Array, out: Values, skip: Uint8Array | null, mantissaBits: number): void {
  const s = F32_MANTISSA - mantissaBits;
  const scale = 2 ** s;
  const top = maxMantissaIndex(s);
  const f = out instanceof Float32Array ? out : new Float32Array(out.length);
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  for (let i = 0; i < k.length; i++) {
    if (skip !== null && skip[i] === 1) continue;
    const ki = k[i]!;
    const m = ki < 0 ? -ki : ki;
    // m * scale is the magnitude's bits exactly (an integer m < 2^(31 - s)); a corrupted index (too large, not an
    // integer: a hostile escape) is NaN, not another value
    u[i] = m <= top && Number.isInteger(m) ? (ki < 0 ? m * scale + 0x80000000 : m * scale) : 0x7fc00000;
  }
  if (f !== out) for (let i = 0; i < k.length; i++) if (skip === null || skip[i] === 0) out[i] = f[i]!;
}

/**
 * The mantissa grid a float32 sample lies on: the fewest kept bits that hold MIN_ON_GRID_SHARE of its finite values
 * (zeros lie on every such grid), when that drops at least MIN_DROPPED_BITS; else null. Most fields have their low
 * bits set on nearly every value, and the scan stops once more values than the share allows do. The encoder checks
 * every value (those off the grid are stored exactly), and the sizes on the whole sample decide.
 *
 * Beside the sample's `linear` grid it is null unless its step at the sample's largest magnitude is coarser than the
 * linear step: an integer-valued field (etopo5's heights: step 1 on both grids at the top, finer below on the
 * mantissa one) would only cost its candidates' sizing (~8 ms of planning for etopo5).
 *
 * `oneUlp`: the bound allows an error of one ulp at the field's largest magnitude, so values one ulp below a grid
 * point count as on it (BitGroom sets the dropped bits of every other value: half its values are such).
 */
export function findMantissaGridPlan(sample: Values, skip: Uint8Array | null, linear: Grid | null = null, oneUlp = false): GridPlan | null {
  const f = sample instanceof Float32Array ? sample : null;
  if (!f) return null;
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  // atLeast[t]: finite values with t or more trailing zero bits in their mantissa (23: a power of two or zero)
  const atLeast = new Float64Array(F32_MANTISSA + 2);
  const lowMask = (1 << MIN_DROPPED_BITS) - 1;
  // at most ~8k values, as findGridPlan's step (a strided subset of a bit-rounded field is bit-rounded; this runs once
  // a field, mostly before V8 has compiled it: the whole sample of a large field cost etopo5 ~25 ms)
  const stride = Math.max(1, Math.floor(f.length / 8192));
  const allowedOff = ((1 - MIN_ON_GRID_SHARE) * f.length) / stride + 1;
  let off = 0;
  let total = 0;
  // a field of one value (zeros) is coded as constant chunks, on no grid: values that vary are needed to choose one
  let nonzero = 0;
  let first = -1;
  let varied = false;
  let top = 0;
  for (let i = 0; i < f.length; i += stride) {
    if (skip !== null && skip[i] === 1) continue;
    const b = u[i]!;
    const mag = b & 0x7fffffff;
    if (mag >= 0x7f800000) continue;
    total++;
    if (mag !== 0) nonzero++;
    if (mag > top) top = mag;
    if (first < 0) first = b;
    else if (b !== first) varied = true;
    // one below a grid point: the point's trailing zeros (mag + 1 carries into the exponent at most)
    const m = (oneUlp && (mag & lowMask) === lowMask ? mag + 1 : mag) & 0x7fffff;
    if ((m & lowMask) !== 0) {
      if (++off > allowedOff) return null;
      continue;
    }
    atLeast[m === 0 ? F32_MANTISSA : 31 - Math.clz32(m & -m)]!++;
  }
  if (nonzero < 16 || !varied) return null;
  for (let t = F32_MANTISSA - 1; t >= 0; t--) atLeast[t]! += atLeast[t + 1]!;
  let bits = -1;
  for (let t = F32_MANTISSA; t >= MIN_DROPPED_BITS && bits < 0; t--) if (atLeast[t]! >= MIN_ON_GRID_SHARE * total) bits = F32_MANTISSA - t;
  if (bits < 0) return null;
  // the step of the top binade: 2^(its exponent - bits) (subnormals share the smallest normal exponent)
  const topStep = 2 ** (Math.max(1, top >>> 23) - 127 - bits);
  if (linear && !(topStep > linear.step)) return null;
  return { offset: 0, step: 1, half: 0, tolerance: 0, mantissaBits: bits, ...(oneUlp ? { oneUlpBelow: true } : {}) };
}

/**
 * The linear quantizer on integer grid indices: the prediction is rounded to an index, the residual (an integer)
 * is quantized in bins of 2h+1 indices, so reconstructions stay integers within h of the value. Escapes store the
 * index itself (as a float64: indices can pass 2^24).
 */
export class GridQuantizer extends LinearQuantizer {
  private readonly half0: number;
  private width: number;

  constructor(half: number, capacity: number, radius?: number) {
    super(half + 0.5, false, capacity, radius);
    this.half0 = half;
    this.width = 2 * half + 1;
  }

  override quantize(k: number, pred: number): number {
    return this.quantizeAt(k, pred, this.nCodes++);
  }

  override quantizeAt(k: number, pred: number, pos: number): number {
    const p = roundForCode(pred);
    const q = roundForCode((k - p) / this.width);
    if (q > -this.radius && q < this.radius) {
      this.codes[pos] = q + this.radius;
      return p + q * this.width;
    }
    this.codes[pos] = 0;
    this.escape(k);
    return k;
  }

  // the runs repeat the base class's loops so that their per-point calls stay monomorphic
  override quantizeRun(k: Values, R: Values, idx: number, step: number, m: number, pred: Float64Array, pos: number, posStride: number): void {
    for (let i = 0; i < m; i++, idx += step, pos += posStride) R[idx] = this.quantizeAt(k[idx]!, pred[i]!, pos);
  }

  override recoverRun(R: Values, idx: number, step: number, m: number, pred: Float64Array, pos: number, posStride: number): void {
    for (let i = 0; i < m; i++, idx += step, pos += posStride) R[idx] = this.recoverAt(pred[i]!, pos);
  }

  override quantizeRunSkip(k: Values, R: Values, idx: number, step: number, m: number, pred: Float64Array, skip: Uint8Array): void {
    for (let i = 0; i < m; i++, idx += step) {
      const p = pred[i]!;
      R[idx] = skip[idx] === 1 ? (p - p === 0 ? p : 0) : this.quantizeAt(k[idx]!, p, this.nCodes++);
    }
  }

  override recoverRunSkip(k: Values, R: Values, idx: number, step: number, m: number, pred: Float64Array, skip: Uint8Array): void {
    for (let i = 0; i < m; i++, idx += step) {
      const p = pred[i]!;
      if (skip[idx] === 1) R[idx] = p - p === 0 ? p : 0;
      else R[idx] = k[idx] = this.recoverAt(p, this.pos++);
    }
  }

  /** The kernels' grid quantizer (wasm/codec-kernels.ts): this class itself at its stream width. */
  override kernelQuantizer(): KernelQuantizer | null {
    const fits = kernelRadius(this.radius) && Number.isInteger(this.half0) && this.half0 >= 0 && this.half0 < 2 ** 30;
    if (this.constructor !== GridQuantizer || this.width !== 2 * this.half0 + 1 || !fits) return null;
    return { bound: 0, gridHalf: this.half0, radius: this.radius, f32: false, ...(this.valuesInto ? { values: this.valuesInto } : {}) };
  }

  private valuesInto: { offset: number; step: number; into: Values } | null = null;
  /** Whether a decoder kernel wrote the values into decodeValuesInto's array (then the indices were not written). */
  valuesWritten = false;

  /**
   * Where a decoder kernel that reconstructs every point writes the values its indices stand for (fromGridIndices's,
   * one pass and one copy less than the indices written, then mapped); valuesWritten says whether one did.
   */
  decodeValuesInto(g: Grid & { mantissaBits?: number }, into: Values): void {
    // the kernels map offset + k x step: a mantissa grid's indices are mapped by fromGridIndices
    if (g.mantissaBits === undefined) this.valuesInto = { offset: g.offset, step: g.step, into };
  }

  override markRead(read: { codes: number; escapes: number; mapped?: boolean }): void {
    super.markRead(read);
    if (read.mapped) this.valuesWritten = true;
  }

  /** Level-dependent bounds of the interpolation predictor: h / factor steps, rounded down. */
  override setFactor(factor: number): void {
    const h = factor > 1 ? Math.floor(this.half0 / factor) : this.half0;
    this.width = 2 * h + 1;
  }

  override recover(pred: number): number {
    return this.recoverAt(pred, this.pos++);
  }

  override recoverAt(pred: number, pos: number): number {
    const c = this.codes[pos]!;
    if (c === 0) return this.escapes[this.escPos++]!;
    return roundExact(pred) + (c - this.radius) * this.width;
  }
}

/**
 * The grid a field's source declares: a packed variable's scale_factor / add_offset (CF), or step 1 for values
 * stored as integers. A declaration is only a candidate: the values are checked against it.
 */
export function declaredGrid(field: { attributes?: Record<string, unknown>; sourceDtype?: string }): Grid | undefined {
  const a = field.attributes ?? {};
  const packing = declaredPacking(a);
  if (packing) {
    const { scaleFactor: sf = 1, addOffset: ao = 0 } = packing;
    return sf === 0 || !Number.isFinite(sf) || !Number.isFinite(ao) ? undefined : { offset: ao, step: Math.abs(sf) };
  }
  if (field.sourceDtype && /int/.test(field.sourceDtype)) return { offset: 0, step: 1 };
  return undefined;
}

/**
 * The step sorted distinct values lie on. A single value off the grid (an edited point) breaks the whole list, so
 * when it fails the list is cut in four contiguous parts (their consecutive differences are the list's own) and
 * the step most of them agree on is taken; the caller checks it against every value.
 */
function stepOfDistinct(distinct: Float64Array, f32: boolean): number | null {
  const whole = detectQuantization(distinct, { float32: f32 });
  if (whole.detected && whole.step) return whole.step;
  const parts = 4;
  const len = Math.floor(distinct.length / parts);
  const steps: number[] = [];
  for (let p = 0; p < parts && len >= 3; p++) {
    const q = detectQuantization(distinct.subarray(p * len, (p + 1) * len), { float32: f32 });
    if (q.detected && q.step) steps.push(q.step);
  }
  for (const s of steps) if (steps.filter((t) => Math.abs(t - s) <= 1e-9 * s).length * 2 > parts) return s;
  return null;
}

/** How many of a sample's values findGridPlan sorts to find a step, at most (a strided subset). */
export const GRID_STEP_VALUES = 8192;

/**
 * The grid a sample of the values lies on, planned for bound e: the declared one, or the step the sorted distinct
 * values show (detectQuantization) with offset 0 (rounded products) or the smallest value. null when none holds
 * MIN_ON_GRID_SHARE of the points, or when the bound spans so many steps that the grid does not help.
 */
export function findGridPlan(sample: Values, skip: Uint8Array | null, e: number, maxAbs: number, f32: boolean, declared?: Grid, stepValues = GRID_STEP_VALUES): GridPlan | null {
  const candidates: Grid[] = declared ? [declared] : [];
  // the step from at most ~stepValues values (a strided subset is still on the grid; sorting it costs little)
  const kept: number[] = [];
  const stride = Math.max(1, Math.floor(sample.length / stepValues));
  for (let i = 0; i < sample.length; i += stride) if (validPoint(sample, skip, i)) kept.push(sample[i]!);
  if (kept.length < 16) return null;
  const sorted = sortFloat64(Float64Array.from(kept));
  let m = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[m - 1]) sorted[m++] = sorted[i]!;
  const step = stepOfDistinct(sorted.subarray(0, m), f32);
  if (step) candidates.push({ offset: 0, step }, { offset: sorted[0]!, step });
  // the step over the whole span, the smallest and largest values whole steps apart: a step read from neighbouring
  // values can be off in its last digits, which hundreds of steps away puts the points off the grid (a bathymetry in
  // steps of 3.28 m: 3.2800045 from a central block, its values 855 steps apart, all off by the end)
  const spanSteps = step ? Math.round((sorted[m - 1]! - sorted[0]!) / step) : 0;
  if (spanSteps > 1) {
    const spanned = (sorted[m - 1]! - sorted[0]!) / spanSteps;
    if (spanned !== step) candidates.push({ offset: sorted[0]!, step: spanned });
  }
  // a bound under float resolution at the largest magnitude: the values of that binade are integers times its ulp, so
  // a field within it (a large offset with a small spread, 1e5 + 1e-3 noise in float32: 3 distinct values, the odd
  // ones too rare for the sample to show a step) codes its indices exactly, where bins of 2e code the ulps as
  // thousands of bins (a lossless bound keeps its byte planes: there nothing would compare the two)
  const ulp = ulpAt(maxAbs, f32);
  if (e > 0 && e < ulp && !candidates.some((g) => g.step === ulp)) candidates.push({ offset: 0, step: ulp });
  let best: GridPlan | null = null;
  let bestOn = -1;
  for (const g of candidates) {
    if (!(g.step > 0) || !Number.isFinite(g.step) || !Number.isFinite(g.offset)) continue;
    const plan = gridPlanFor(g, e, maxAbs, f32);
    if (plan.half >= GRID_HALF_LIMIT) continue;
    // off the grid at more than the share allows of all the sample's points (a point to spare for rounding): too many
    const counted = countOnGrid(sample, skip, g, plan.tolerance, f32, (1 - MIN_ON_GRID_SHARE) * sample.length + 1);
    if (counted && counted.on >= MIN_ON_GRID_SHARE * counted.total && counted.on > bestOn) {
      best = plan;
      bestOn = counted.on;
    }
  }
  return best;
}

/** Whether point i is a finite value not skipped: what a grid is looked for and checked on. */
function validPoint(values: Values, skip: Uint8Array | null, i: number): boolean {
  return (skip === null || skip[i] === 0) && values[i]! - values[i]! === 0;
}

/** Values in each slice of `shape` along its first `sliceDims` dims. */
export function sliceValues(shape: readonly number[], sliceDims: number): number {
  let per = 1;
  for (let d = sliceDims; d < shape.length; d++) per *= shape[d]!;
  return per;
}

/** Points of a slice tried as its offset (sliceOffsets): the first valid one, then these shares along it. */
const OFFSET_TRIES = [0.25, 0.5, 0.75];
/** A slice's offset is checked on at most this many of its values (the indices pass then finds every point off it). */
const OFFSET_CHECK_VALUES = 1024;

/**
 * Each slice's grid offset (per values in a slice): one of its values on whose grid (value + k x step, within the
 * plan's tolerance) MIN_ON_GRID_SHARE of a strided subset of the slice lies, tried at its first valid point, then a
 * quarter, half and three quarters along it (a first value off the grid: an edited point); where none holds, the first
 * (its points off the grid are stored exactly, or the chunk coded off the grid). A slice with no valid value takes the
 * offset before it (0 for the first), so that the shifts between slices stay small.
 */
export function sliceOffsets(values: Values, skip: Uint8Array | null, per: number, plan: GridPlan, f32: boolean): Float64Array {
  const slices = Math.floor(values.length / per);
  const offsets = new Float64Array(slices);
  const stride = Math.max(1, Math.floor(per / OFFSET_CHECK_VALUES));
  for (let s = 0; s < slices; s++) {
    const start = s * per;
    const end = start + per;
    let first = -1;
    for (let i = start; i < end && first < 0; i++) if (validPoint(values, skip, i)) first = i;
    if (first < 0) {
      offsets[s] = s > 0 ? offsets[s - 1]! : 0;
      continue;
    }
    offsets[s] = values[first]!;
    const sub = strided(values, skip, start, end, stride);
    for (const at of [first, ...OFFSET_TRIES.map((t) => start + Math.floor(t * per))]) {
      let i = at;
      while (i < end && !validPoint(values, skip, i)) i++;
      if (i === end) continue;
      const g = { offset: values[i]!, step: plan.step };
      const counted = countOnGrid(sub.values, sub.skip, g, plan.tolerance, f32, (1 - MIN_ON_GRID_SHARE) * sub.values.length + 1);
      if (counted && counted.on >= MIN_ON_GRID_SHARE * counted.total) {
        offsets[s] = values[i]!;
        break;
      }
    }
  }
  return offsets;
}

/** Every stride-th value of [start, end) and its skip flag. */
function strided(values: Values, skip: Uint8Array | null, start: number, end: number, stride: number): { values: Float64Array; skip: Uint8Array | null } {
  const m = Math.ceil((end - start) / stride);
  const v = new Float64Array(m);
  const k = skip ? new Uint8Array(m) : null;
  for (let j = 0, i = start; j < m; j++, i += stride) {
    v[j] = values[i]!;
    if (k) k[j] = skip![i]!;
  }
  return { values: v, skip: k };
}

/**
 * Slice s's index shift: indices on its own grid plus this run on across slices (offsets[0]'s grid, to within half a
 * step), so that a predictor across slices sees the values' own differences, not the offsets'. An integer, the same
 * on both sides.
 */
function sliceShift(offsets: Float64Array, s: number, step: number): number {
  const shift = Math.round((offsets[s]! - offsets[0]!) / step);
  // (none past MAX_SLICE_SHIFT: added to indices of up to 2^52 it keeps them integers a double holds exactly)
  return Math.abs(shift) <= MAX_SLICE_SHIFT ? shift : 0;
}

/** The largest slice shift (sliceShift): slices further apart in steps keep their own indices. */
const MAX_SLICE_SHIFT = 2 ** 40;

/**
 * Grid indices of a field, or a chunk, of `shape` (toGridIndices): on a grid of slices (sliceDims), each slice's on
 * its own offset (sliceOffsets, returned) plus its shift, so that fromSlicedGridIndices gives fround(offset_s + j x
 * step).
 */
export function gridIndicesOf(values: Values, skip: Uint8Array | null, shape: readonly number[], plan: GridPlan, f32: boolean, into?: Float64Array): { k: Float64Array; offGrid: number[]; skip: Uint8Array | null; offsets: Float64Array | null } {
  if (!plan.sliceDims) return { ...toGridIndices(values, skip, plan, f32, into), offsets: null };
  const n = values.length;
  const per = sliceValues(shape, plan.sliceDims);
  const offsets = sliceOffsets(values, skip, per, plan, f32);
  const k = into ?? new Float64Array(n);
  const offGrid: number[] = [];
  for (let s = 0; s < offsets.length; s++) {
    const start = s * per;
    const part = toGridIndices(values.subarray(start, start + per), skip ? skip.subarray(start, start + per) : null, { ...plan, offset: offsets[s]! }, f32, k.subarray(start, start + per));
    const shift = sliceShift(offsets, s, plan.step);
    if (shift !== 0) for (let i = start; i < start + per; i++) k[i] = k[i]! + shift;
    for (const i of part.offGrid) offGrid.push(start + i);
  }
  if (offGrid.length) {
    skip ??= new Uint8Array(n);
    for (const i of offGrid) skip[i] = 1;
  }
  return { k, offGrid, skip, offsets };
}

/**
 * fromGridIndices on a grid of slices: each slice's indices less its shift (in place: `k` is working memory), then
 * mapped on its own offset.
 */
export function fromSlicedGridIndices(k: Float64Array, out: Values, skip: Uint8Array | null, shape: readonly number[], g: GridPlan, offsets: Float64Array, f32: boolean): void {
  const per = sliceValues(shape, g.sliceDims!);
  for (let s = 0; s < offsets.length; s++) {
    const start = s * per;
    const shift = sliceShift(offsets, s, g.step);
    const ks = k.subarray(start, start + per);
    if (shift !== 0) for (let i = 0; i < per; i++) ks[i] = ks[i]! - shift;
    fromGridIndices(ks, out.subarray(start, start + per), skip ? skip.subarray(start, start + per) : null, { offset: offsets[s]!, step: g.step }, f32);
  }
}

/** Values looksQuantized looks at, at most (a strided subset). */
const QUANTIZED_LOOK_VALUES = 512;

/**
 * Whether a few hundred of the values look as if on a grid, before findGridPlan sorts thousands and tries a step on
 * them (1.25 ms a field on none, most fields): nine in ten of the gaps between their sorted distinct values whole
 * multiples of the smallest gap (to 1 %). Values on a grid pass (their gaps are multiples of its step, the smallest
 * most likely the step); continuous values' smallest gap is a tiny fraction of the others, which are no multiples of it.
 */
function looksQuantized(values: Values, skip: Uint8Array | null): boolean {
  const stride = Math.max(1, Math.floor(values.length / QUANTIZED_LOOK_VALUES));
  const kept: number[] = [];
  for (let i = 0; i < values.length; i += stride) if (validPoint(values, skip, i)) kept.push(values[i]!);
  const sorted = Float64Array.from(kept).sort();
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) gaps.push(sorted[i]! - sorted[i - 1]!);
  if (gaps.length < 16) return true;
  const least = Math.min(...gaps);
  let whole = 0;
  for (const g of gaps) {
    const r = g / least;
    if (Math.abs(r - Math.round(r)) < 0.01) whole++;
  }
  return whole >= 0.9 * gaps.length;
}

/** Slices a sliced grid is looked for on, at most (evenly spread over the sample's). */
const SLICES_TRIED = 8;
/**
 * Slices of fewer values are not looked at for grids of their own (GRIB messages are planes of thousands of points;
 * a curvilinear grid's 320-point rows cost POP's latitudes 35 ms of looking)
 */
const SLICE_MIN_VALUES = 256;
/** The values of a slice findGridPlan sorts for its step, at most (the whole sample's GRID_STEP_VALUES would be 8 x) */
const SLICE_STEP_VALUES = 2048;

/**
 * A grid of slices (GridPlan.sliceDims) a sample lies on: where no one grid holds the field, its slices along all but
 * its last two dims (a 2-D field: its rows) each on a grid of their own (findGridPlan) with one step, on at least
 * three quarters of the slices tried, and MIN_ON_GRID_SHARE of the sample's points on them, each slice on its own
 * offset (sliceOffsets). null elsewhere, or where the bound spans as many steps as GRID_HALF_LIMIT.
 */
export function findSlicedGridPlan(sample: Values, skip: Uint8Array | null, shape: readonly number[], e: number, maxAbs: number, f32: boolean): GridPlan | null {
  const sliceDims = shape.length >= 3 ? shape.length - 2 : shape.length - 1;
  if (sliceDims < 1) return null;
  const per = sliceValues(shape, sliceDims);
  const slices = Math.floor(sample.length / per);
  if (slices < 2 || per < SLICE_MIN_VALUES) return null;
  const tried = Math.min(SLICES_TRIED, slices);
  const steps: number[] = [];
  for (let t = 0; t < tried; t++) {
    const start = Math.floor((t * slices) / tried) * per;
    const part = sample.subarray(start, start + per);
    const partSkip = skip ? skip.subarray(start, start + per) : null;
    const g = looksQuantized(part, partSkip) ? findGridPlan(part, partSkip, e, maxAbs, f32, undefined, SLICE_STEP_VALUES) : null;
    if (g && g.mantissaBits === undefined) steps.push(g.step);
    // most fields are on no grid: two slices without one (of the most a quarter may miss) end the search
    if (t + 1 - steps.length > tried / 4) return null;
  }
  // one step, or whole multiples of it: a small slice's values may all fall on every other point of the grid (a
  // storm field's 306-value slices of a 0.25 K grid, some found on 0.5)
  const step = Math.min(...steps);
  const agreeing = steps.filter((s) => Math.abs(s / step - Math.round(s / step)) <= 1e-9 * (s / step)).length;
  if (!(step > 0) || agreeing * 4 < tried * 3) return null;
  const plan: GridPlan = { ...gridPlanFor({ offset: 0, step }, e, maxAbs, f32), sliceDims };
  if (plan.half >= GRID_HALF_LIMIT) return null;
  // (non-finite points are off every grid: the chunks store them apart)
  const { offGrid } = gridIndicesOf(sample, skip ? skip.slice() : null, shape, plan, f32);
  const off = offGrid.filter((i) => sample[i]! - sample[i]! === 0).length;
  let valid = 0;
  for (let i = 0; i < sample.length; i++) if (validPoint(sample, skip, i)) valid++;
  return off <= (1 - MIN_ON_GRID_SHARE) * valid ? plan : null;
}
