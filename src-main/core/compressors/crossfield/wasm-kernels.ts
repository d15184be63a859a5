/**
 * The WebAssembly twins of the cross-field interpolation hybrid's loops (wasm/crossfield-kernels.ts, compiled into
 * wasm-kernels.generated.ts): a pass's corrected predictions (encoder and decoder), the fit's sample of features and
 * its normal equations (encoder). The same float64 operations in the same order as interp-hybrid.ts's reference
 * loops, so the same predictions, weights and bytes (test/unit/codec/crossfield-interp.test.ts encodes and decodes
 * both ways). A run lays its arrays out in the module's memory once: the decoded values, the sources, a pass's points
 * and the fit's sample. Where WebAssembly is missing, or the arrays do not fit, the reference runs. Pure.
 */
import { CROSSFIELD_KERNELS_WASM } from './wasm-kernels.generated.ts';
import { bumpLayout, lazyInstance, reserveMemory } from '../../wasm-module.ts';

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  predictPass(d: number, w: number, group: number, exactSkips: number, feat: number): void;
  gatherRows(d: number, js: number, n: number, F: number): void;
  normalEquations(F: number, y: number, ns: number, K: number, A: number, b: number): void;
  layPass(d: number, sh: number, str: number, axis: number, s: number): number;
  cubicBase(d: number): void;
  quantizePass(d: number, x: number, skip: number, q: number, codes: number, escapes: number): void;
  recoverPass(d: number, skip: number, q: number, codes: number, escapes: number): void;
  codeHistogram(F: number, ns: number, K: number, w: number, withWeights: number, b0: number, xs: number, pred: number, inv: number, h: number, radius: number, range: number): number;
}

/** What a sizing histogram holds besides its counts: how many codes fell outside it, the first and last bins used (first > last: none). */
export interface CodeHistogramCount {
  over: number;
  first: number;
  last: number;
}

/** Sources a pass record holds (the hybrid has one per anchor and per network axis: far fewer). */
const MAX_KERNEL_SOURCES = 16;
/** The fit's sizing histograms have at most 2 x this + 1 bins (interp-hybrid.ts HIST_RADIUS) */
const MAX_HIST_RADIUS = 4096;
/** radius, where the run's histogram holds it */
function histogramRadius(radius: number): number {
  if (radius > MAX_HIST_RADIUS) throw new RangeError(`a histogram of radius ${radius} (at most ${MAX_HIST_RADIUS})`);
  return radius;
}

/** The pass record's int32 fields (wasm/crossfield-kernels.ts's P_* offsets). */
const P = { m: 0, L: 1, s: 2, ss: 3, s3: 4, K: 5, kSelf: 6, nShift: 7, nSrc: 8, idxs: 9, ts: 10, base: 11, R: 12, shift: 13, src: 25, coord: 57 } as const;
const RECORD_INTS = P.coord + 3;
const instance = lazyInstance<KernelExports>(CROSSFIELD_KERNELS_WASM);

/**
 * least-squares.ts's normalEquations on copies in the module's memory (A's upper triangle and b added to, the same
 * bits), for fits outside a run (the linear network's); false where the kernels cannot run. Not during a run: it
 * lays its buffers out where the run's are.
 */
export function normalEquationsOnce(F: Float64Array, y: Float64Array, ns: number, K: number, A: Float64Array, b: Float64Array): boolean {
  const k = instance();
  if (!k) return false;
  const { take, end } = bumpLayout(k.heapBase());
  const pF = take(8 * ns * K);
  const pY = take(8 * ns);
  const pA = take(8 * K * K);
  const pB = take(8 * K);
  if (!reserveMemory(k.memory, end())) return false;
  const buf = k.memory.buffer;
  new Float64Array(buf, pF, ns * K).set(F.subarray(0, ns * K));
  new Float64Array(buf, pY, ns).set(y.subarray(0, ns));
  new Float64Array(buf, pA, K * K).set(A.subarray(0, K * K));
  new Float64Array(buf, pB, K).set(b.subarray(0, K));
  k.normalEquations(pF, pY, ns, K, pA, pB);
  A.set(new Float64Array(buf, pA, K * K));
  b.set(new Float64Array(buf, pB, K));
  return true;
}

/** A pass's features as the kernels read them (run's locals). */
export interface PassFeatures {
  K: number;
  kSelf: number;
  /** per shifted axis: step, stride, size and which of the run's coordinate arrays holds the points' coordinate */
  shifts: { step: number; stride: number; size: number; coord: number }[];
  /** indices into the run's sources */
  sources: number[];
}

/** One run's arrays in the module's memory, and the kernels over them. */
export interface HybridRunMemory {
  /** decoded values (zeroed) */
  R: Float64Array;
  /** the pass's points: index, position along the pass axis, prediction; coordinates along the other axes */
  idxs: Int32Array;
  ts: Int32Array;
  base: Float64Array;
  coords: [Int32Array, Int32Array, Int32Array];
  /** the sources' values as float64 */
  sources: Float64Array[];
  /** the fit's sample: rows of features, targets, and the pass points they are; candidate predictions */
  F: Float64Array;
  y: Float64Array;
  js: Int32Array;
  pred: Float64Array;
  A: Float64Array;
  b: Float64Array;
  /**
   * The points of the pass at odd multiples of s along `axis` of the run's 4-dims shape into idxs, ts and coords
   * (run's loops; returns their count), and their cubic predictions into base.
   */
  layPass(axis: number, s: number): number;
  setFeatures(p: PassFeatures): void;
  /** base[j] += weights . features of point j over the pass (predictPass) */
  predict(w: Float64Array, group: number, exactSkips: boolean): void;
  /** the features of points js[0 .. n) into F's rows */
  gather(n: number): void;
  /** A's upper triangle and b from F's first ns rows and y (added to what they hold) */
  normalEquations(ns: number, K: number): void;
  /** the fit sample's values and uncorrected predictions (rows as F's) */
  xs: Float64Array;
  b0: Float64Array;
  /** the sizing's histogram of 2 radius + 1 bins (radius at most MAX_HIST_RADIUS) */
  histogram(radius: number): Int32Array;
  /** interp-hybrid.ts FitSample.codeHistogram's twin: pred from b0 (and w . F's rows), the codes' histogram, the bins it used and those outside */
  codeHistogram(ns: number, K: number, w: Float64Array | null, inv: number, radius: number): CodeHistogramCount;
  /**
   * The encoder's quantization of the pass's points against base (run's `point`, LinearQuantizer.quantizeAt at the
   * working bound e): reconstructions into R, the pass's codes and escaped values returned (views, valid until the
   * next call), `largest` updated as run's. Null without the target laid out (a decoder's run).
   */
  quantizePass: ((quantizer: { inv: number; twoE: number; e: number; radius: number; f32: boolean }, largest: number) => { codes: Uint32Array; escapes: Float64Array; largest: number }) | null;
  /**
   * The decoder's twin (run's `point`, LinearQuantizer.recoverAt): the pass's reconstructions into R from the codes and
   * escaped values laid out, read from `pos` and `escPos`; what it read and `largest` updated as run's, or null where
   * they ran out (the caller runs the reference over the pass). Null without them laid out (an encoder's run).
   */
  recoverPass: ((quantizer: { twoE: number; radius: number; f32: boolean }, pos: number, escPos: number, largest: number) => { codes: number; escapes: number; largest: number } | null) | null;
}

/**
 * Lays out a run over the 4-dims shape sh (n values): sources (values, validity or null), passes of at most `passPoints` points, fits of
 * at most `fitRows` rows of at most `maxK` features and, for an encoder, the target's values and skipped points.
 * Null where WebAssembly is missing or the arrays do not fit.
 */
export function hybridRunMemory(
  sh: readonly number[], sources: { values: ArrayLike<number>; valid: Uint8Array | null }[], passPoints: number, fitRows: number, maxK: number,
  target: { x: ArrayLike<number>; skip: Uint8Array | null } | null = null,
  decoding: { skip: Uint8Array | null; codes: Uint32Array; escapes: Float64Array } | null = null,
): HybridRunMemory | null {
  const k = instance();
  if (!k || sources.length > MAX_KERNEL_SOURCES || sh.length !== 4) return null;
  const n = sh[0]! * sh[1]! * sh[2]! * sh[3]!;
  const { take, end } = bumpLayout(k.heapBase());
  const pR = take(8 * n);
  const pIdxs = take(4 * passPoints);
  const pTs = take(4 * passPoints);
  const pBase = take(8 * passPoints);
  const pCoords = [take(4 * passPoints), take(4 * passPoints), take(4 * passPoints)];
  const pSrc = sources.map(() => take(8 * n));
  const pValid = sources.map((s) => (s.valid ? take(n) : 0));
  const pF = take(8 * fitRows * maxK);
  const pY = take(8 * fitRows);
  const pJs = take(4 * fitRows);
  const pA = take(8 * maxK * maxK);
  const pB = take(8 * maxK);
  const pW = take(8 * maxK);
  const pFeat = take(8 * maxK);
  const pPred = take(8 * fitRows);
  const pXs = take(8 * fitRows);
  const pB0 = take(8 * fitRows);
  const pHist = take(4 * (2 * MAX_HIST_RADIUS + 1));
  const pRange = take(8);
  const pRec = take(4 * RECORD_INTS);
  const pSh = take(16);
  const pStr = take(16);
  const pX = target ? take(8 * n) : 0;
  const pSkip = target ? take(n) : 0;
  const pCodes = target ? take(4 * passPoints) : 0;
  const pEscapes = target ? take(8 * passPoints) : 0;
  const pQ = target ? take(64) : 0;
  // a decoder's skip flags, every code and escaped value of its run, its record (recoverPass's D_* fields)
  const dSkip = decoding?.skip ? take(n) : 0;
  const dCodes = decoding ? take(4 * decoding.codes.length) : 0;
  const dEscapes = decoding ? take(8 * decoding.escapes.length) : 0;
  const dQ = decoding ? take(8 * 11) : 0;
  if (!reserveMemory(k.memory, end())) return null;
  const buf = k.memory.buffer;
  const f64 = (p: number, len: number) => new Float64Array(buf, p, len);
  const i32 = (p: number, len: number) => new Int32Array(buf, p, len);
  const R = f64(pR, n);
  R.fill(0);
  const srcViews = sources.map((s, i) => {
    const v = f64(pSrc[i]!, n);
    v.set(s.values);
    if (s.valid) new Uint8Array(buf, pValid[i]!, n).set(s.valid);
    return v;
  });
  const rec = i32(pRec, RECORD_INTS);
  const w = f64(pW, maxK);
  rec[P.idxs] = pIdxs;
  rec[P.ts] = pTs;
  rec[P.base] = pBase;
  rec[P.R] = pR;
  pCoords.forEach((p, i) => (rec[P.coord + i] = p));
  const str = [sh[1]! * sh[2]! * sh[3]!, sh[2]! * sh[3]!, sh[3]!, 1];
  i32(pSh, 4).set(sh);
  i32(pStr, 4).set(str);
  if (target) {
    f64(pX, n).set(target.x);
    const skip = new Uint8Array(buf, pSkip, n);
    if (target.skip) skip.set(target.skip.subarray(0, n));
    else skip.fill(0);
  }
  const qRec = target ? f64(pQ, 8) : null;
  if (decoding) {
    if (decoding.skip) new Uint8Array(buf, dSkip, n).set(decoding.skip.subarray(0, n));
    new Uint32Array(buf, dCodes, decoding.codes.length).set(decoding.codes);
    f64(dEscapes, decoding.escapes.length).set(decoding.escapes);
  }
  const dRec = decoding ? f64(dQ, 11) : null;
  return {
    R, idxs: i32(pIdxs, passPoints), ts: i32(pTs, passPoints), base: f64(pBase, passPoints),
    coords: [i32(pCoords[0]!, passPoints), i32(pCoords[1]!, passPoints), i32(pCoords[2]!, passPoints)],
    sources: srcViews, F: f64(pF, fitRows * maxK), y: f64(pY, fitRows), js: i32(pJs, fitRows), pred: f64(pPred, fitRows), A: f64(pA, maxK * maxK), b: f64(pB, maxK),
    xs: f64(pXs, fitRows), b0: f64(pB0, fitRows),
    histogram: (radius) => i32(pHist, 2 * histogramRadius(radius) + 1),
    layPass(axis, s) {
      rec[P.L] = sh[axis]!;
      rec[P.s] = s;
      rec[P.ss] = s * str[axis]!;
      rec[P.s3] = 3 * s * str[axis]!;
      const m = k.layPass(pRec, pSh, pStr, axis, s);
      rec[P.m] = m;
      k.cubicBase(pRec);
      return m;
    },
    setFeatures(p) {
      rec[P.K] = p.K;
      rec[P.kSelf] = p.kSelf;
      rec[P.nShift] = p.shifts.length;
      p.shifts.forEach((e, i) => {
        rec[P.shift + 4 * i] = e.step;
        rec[P.shift + 4 * i + 1] = e.stride;
        rec[P.shift + 4 * i + 2] = e.size;
        rec[P.shift + 4 * i + 3] = pCoords[e.coord]!;
      });
      rec[P.nSrc] = p.sources.length;
      p.sources.forEach((si, i) => {
        rec[P.src + 2 * i] = pSrc[si]!;
        rec[P.src + 2 * i + 1] = pValid[si]!;
      });
    },
    predict(weights, group, exactSkips) {
      w.set(weights);
      k.predictPass(pRec, pW, group, exactSkips ? 1 : 0, pFeat);
    },
    gather(count) {
      k.gatherRows(pRec, pJs, count, pF);
    },
    normalEquations(ns, K) {
      k.normalEquations(pF, pY, ns, K, pA, pB);
    },
    codeHistogram(ns, K, weights, inv, radius) {
      if (weights) w.set(weights);
      const over = k.codeHistogram(pF, ns, K, pW, weights ? 1 : 0, pB0, pXs, pPred, inv, pHist, histogramRadius(radius), pRange);
      const used = new Int32Array(buf, pRange, 2);
      return { over, first: used[0]!, last: used[1]! };
    },
    quantizePass: qRec ? (qz, largest) => {
      qRec.set([qz.inv, qz.twoE, qz.e, qz.radius, qz.f32 ? 1 : 0, largest, 0, 0]);
      k.quantizePass(pRec, pX, pSkip, pQ, pCodes, pEscapes);
      return { codes: new Uint32Array(buf, pCodes, qRec[6]!), escapes: f64(pEscapes, qRec[7]!), largest: qRec[5]! };
    } : null,
    recoverPass: dRec ? (qz, pos, escPos, largest) => {
      // Q_TWOE, Q_RADIUS, Q_F32, Q_LARGEST at quantizePass's places; then D_POS .. D_OVERRUN
      dRec.set([0, qz.twoE, 0, qz.radius, qz.f32 ? 1 : 0, largest, pos, escPos, decoding!.codes.length, decoding!.escapes.length, 0]);
      k.recoverPass(pRec, dSkip, dQ, dCodes, dEscapes);
      return dRec[10] ? null : { codes: dRec[6]! - pos, escapes: dRec[7]! - escPos, largest: dRec[5]! };
    } : null,
  };
}
