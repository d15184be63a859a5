/**
 * The cross-field interpolation predictor: the core codec's multilevel cubic interpolation (SZ3's order, level by
 * level, dimension by dimension, level-dependent bounds), where every pass's prediction is corrected by a linear
 * model fitted on that pass and stored in the stream. This is the paper's hybrid (decoded neighbours fused with
 * cross-field predictions, learned weights) built on interpolation instead of Lorenzo: Lorenzo is not the core
 * codec's best predictor on smooth fields, so a hybrid around it loses before the anchors help.
 *
 * Within one pass (stride s, axis d) every point is predicted from points coded before the pass, so the encoder can
 * fit the pass's weights by least squares on the true residuals and the decoder, given the weights, predicts the
 * same values. Features of a point (all 0 where a neighbour is outside the grid or a source is invalid):
 *   self     the decoded neighbours along d (+-s, +-3s) and, on the rows shifted by one step along each other axis,
 *            the neighbours at +-s along d, each minus the cubic prediction (the point's "context");
 *   sources  for every source (anchor reconstructions; the CFNN's predicted differences integrated along d): its
 *            detail at the point (value minus its own cubic prediction) and its context along d.
 * Per pass the encoder keeps whichever of {none, self, sources, both} gives the fewest estimated bits (entropy of
 * the codes + 16 bits per weight): a useless anchor costs one byte per pass. Weights are binary16.
 *
 * Every operation is IEEE double arithmetic in a fixed order on values both sides have (decoded target points,
 * anchor reconstructions, the reference-path network output, stored binary16 weights), so decoding on any machine
 * and with any thread count gives the same bits. The loops over a pass's points (features, corrected predictions,
 * the fit's normal equations) run as WebAssembly twins where the engine has it (wasm-kernels.ts: the same
 * operations in the same order), these loops being the reference. Pure: no Node, no DOM.
 */
import { LinearQuantizer, kernelRadius } from '../../codec/quantizer.ts';
import { INTERP_TUNINGS, interpCubic } from '../../codec/predictors/interp.ts';
import type { CodeLines } from '../../codec/mscoder.ts';
import type { Values } from '../../codec/predictors/types.ts';
import { ByteReader, ByteWriter } from '../../codec/bytes.ts';
import { FieldpackError } from '../../errors.ts';
import { fromHalfBits, toHalfBits } from '../../codec/half.ts';
import { normalEquations, solveRidge } from './least-squares.ts';
import { type CodeHistogramCount, type HybridRunMemory, hybridRunMemory } from './wasm-kernels.ts';

export interface InterpSource {
  /** values over the block, same shape as the target */
  values: ArrayLike<number>;
  /** 1 where the source may be read; null = everywhere */
  valid: Uint8Array | null;
  /** only for passes along this axis of the predictor's shape (a network's differences integrated along it) */
  axis?: number;
}

/** passes with fewer points carry no model (not worth their bytes); part of the format */
export const MIN_PASS_POINTS = 128;
const G_SELF = 1;
const G_SOURCES = 2;
const HIST_RADIUS = 4096;
/**
 * A pass's weights are fitted, and its candidate groups sized, on a sample of its points: every point of a pass under
 * 2 x FIT_POINTS, else runs of FIT_RUN neighbours spread over the pass, FIT_POINTS to 1.5 x FIT_POINTS of them
 * (encoder only: the weights travel in the stream). Over 24 cross-field
 * streams (navy winds, COADS, Levitus, WRF at rel 1e-2..1e-4) the total was 0.001 % smaller than fitting on every
 * point; 16 k points: 0.05 % larger; single points spread by a hash: up to 0.7 % larger on a stream.
 */
const FIT_POINTS = 32768;
const FIT_RUN = 32;
/**
 * The fit's points in a pass when the hybrid only sizes a sample (the service's and encodeCrossfield's estimates of
 * each candidate and mode, on ~32 k values): the largest passes' weights from runs over 4-6 k of their points. The
 * estimates moved by 0.3 % at most; of 72 reused-model streams (24 targets of the ferret files, WRF, NCL's nc4uvt and
 * the packed and rounded variants, rel 1e-2..1e-4) one chose another candidate: navy VWND <- UWND at 1e-4, the
 * network over the anchors alone, 0.23 % smaller.
 */
export const ESTIMATE_FIT_POINTS = 4096;

export interface PassStat {
  level: number;
  axis: number;
  points: number;
  group: number;
  weights: number;
  bitsNone: number;
  bitsChosen: number;
}

/** the encoder's per-pass models (and how many of a pass's points it fits them on) or the decoder's */
type Models = { enc: true; w: ByteWriter; fitPoints: number } | { enc: false; r: ByteReader };

function run(x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, tune: number, sources: InterpSource[], models: Models, stats: PassStat[] | undefined, kernels: boolean): void {
  const enc = models.enc;
  const fitPoints = models.enc ? models.fitPoints : 0;
  const [alpha, beta] = INTERP_TUNINGS[tune] ?? [1, 1];
  const factorOf = (lv: number) => Math.min(Math.pow(alpha, lv - 1), beta);
  const sh = [1, 1, 1, 1];
  const off = 4 - shape.length;
  for (let d = 0; d < shape.length; d++) sh[off + d] = shape[d]!;
  const str = [sh[1]! * sh[2]! * sh[3]!, sh[2]! * sh[3]!, sh[3]!, 1];
  const n = x.length;
  // the WebAssembly twins' arrays (the same bits as the loops below, which run where they cannot)
  const passPoints = largestPass(sh);
  const maxK = 4 + 4 * 3 + 5 * sources.length;
  // the encoder quantizes a pass in the kernels too where q is the plain LinearQuantizer their loop twins
  // (and where the values and skip flags cover the shape, as the codec's always do: a direct call may not)
  const inKernel = q.constructor === LinearQuantizer && kernelRadius(q.radius) && n === sh[0]! * sh[1]! * sh[2]! * sh[3]! && (skip === null || skip.length >= n);
  const quantizeInKernel = enc && inKernel;
  // a decoder's passes recover in the kernels too (recoverPass) from the codes and escapes not read yet, laid out once
  const unread = !enc && inKernel ? q.unread() : null;
  const mem = kernels
    ? hybridRunMemory(sh, sources, passPoints, enc ? Math.min(passPoints, 2 * fitPoints) + FIT_RUN : 0, maxK, quantizeInKernel ? { x, skip } : null, unread && { skip, ...unread })
    : null;
  const [pos0, escPos0] = [q.pos, q.escPos];
  let recoveredInKernel = false;
  const R = mem ? mem.R : new Float64Array(n);
  const fit = mem ? kernelSample(mem) : new FitScratch();
  // the fit samples without looking up skip flags where none is set (the codec's skip is all zeros on a full field)
  const fitSkip = enc && skip !== null && skip.includes(1) ? skip : null;
  // every source as float64 (exact for float32 anchors): one element kind at fill's loads, which V8 then inlines
  const sources64 = sources.map((src, i) => (mem ? { ...src, values: mem.sources[i]! } : src.values instanceof Float64Array ? src : { ...src, values: Float64Array.from(src.values) }));
  // A pass keeping one group may leave out the other group's terms (0 x a finite feature is +-0) where no feature can
  // overflow: every value a feature reads (the sources where valid, the decoded values so far) within SAFE_MAGNITUDE
  const sourcesSafe = sources64.every((src) => withinMagnitude(src.values as Float64Array, src.valid, SAFE_MAGNITUDE));
  let largestDecoded = 0;
  const point = (idx: number, pred: number) => {
    let r: number;
    if (skip !== null && skip[idx] === 1) r = pred - pred === 0 ? pred : 0;
    else if (enc) r = q.quantize(x[idx]!, pred);
    else {
      r = q.recover(pred);
      x[idx] = r;
    }
    R[idx] = r;
    const a = Math.abs(r);
    // a NaN makes the next point's test true, so it lasts one point (the kernels and the decoder track it alike)
    if (!(a <= largestDecoded)) largestDecoded = a;
  };
  let maxDim = 1;
  for (const v of sh) maxDim = Math.max(maxDim, v);
  let levels = 0;
  while (1 << levels < maxDim) levels++;
  if (tune) q.setFactor(factorOf(Math.max(1, levels)));
  point(0, 0);
  let idxs = mem?.idxs ?? new Int32Array(0);
  let ts = mem?.ts ?? new Int32Array(0);
  let base = mem?.base ?? new Float64Array(0);
  /** each pass point's coordinates along the three other axes (in `others` order) */
  let coords = mem?.coords ?? ([new Int32Array(0), new Int32Array(0), new Int32Array(0)] as const);
  for (let lv = levels; lv >= 1; lv--) {
    if (tune) q.setFactor(factorOf(lv));
    const s = 1 << (lv - 1);
    for (let d = 0; d < 4; d++) {
      if (sh[d]! <= s) continue;
      const L = sh[d]!;
      const st = str[d]!;
      const ss = s * st;
      const s3 = 3 * ss;
      // the pass's points, in SZ3's order
      const others = [0, 1, 2, 3].filter((e) => e !== d);
      const stepOf = (e: number) => (e < d ? s : 2 * s);
      let m = 0;
      if (mem) m = mem.layPass(d, s);
      else {
        const cnt = others.reduce((a, e) => a * Math.ceil(sh[e]! / stepOf(e)), 1) * Math.ceil((L - s) / (2 * s));
        if (idxs.length < cnt) {
          idxs = new Int32Array(cnt);
          ts = new Int32Array(cnt);
          base = new Float64Array(cnt);
          coords = [new Int32Array(cnt), new Int32Array(cnt), new Int32Array(cnt)];
        }
        const [a, b, c] = others as [number, number, number];
        const [coA, coB, coC] = coords;
        for (let ia = 0; ia < sh[a]!; ia += stepOf(a)) {
          for (let ib = 0; ib < sh[b]!; ib += stepOf(b)) {
            for (let ic = 0; ic < sh[c]!; ic += stepOf(c)) {
              const row = ia * str[a]! + ib * str[b]! + ic * str[c]!;
              for (let t = s; t < L; t += 2 * s) {
                idxs[m] = row + t * st;
                ts[m] = t;
                coA[m] = ia;
                coB[m] = ib;
                coC[m] = ic;
                m++;
              }
            }
          }
        }
        for (let j = 0; j < m; j++) base[j] = cubicAt(R, idxs[j]!, ts[j]!, L, s, ss, s3);
      }
      // features of this pass
      const shifted = others.filter((e) => sh[e]! > 1);
      const kSelf = 4 + 4 * shifted.length;
      // per shifted axis: its step, stride, size and the points' coordinates along it (indexed loops in fill)
      const nShift = shifted.length;
      const shStep = Int32Array.from(shifted, stepOf);
      const shStr = Int32Array.from(shifted, (e) => str[e]!);
      const shSize = Int32Array.from(shifted, (e) => sh[e]!);
      const shCoord = shifted.map((e) => coords[others.indexOf(e)]!);
      const srcIndex = sources64.flatMap((src, i) => (src.axis === undefined || src.axis === d - off ? [i] : []));
      const srcs = srcIndex.map((i) => sources64[i]!);
      const kSrc = 5 * srcs.length;
      const K = kSelf + kSrc;
      let w: Float64Array | null = null;
      if (m >= MIN_PASS_POINTS) {
        mem?.setFeatures({ K, kSelf, shifts: shifted.map((e) => ({ step: stepOf(e), stride: str[e]!, size: sh[e]!, coord: others.indexOf(e) })), sources: srcIndex });
        const feat = new Float64Array(K);
        const fillSelf = (j: number) => {
          const idx = idxs[j]!;
          const t = ts[j]!;
          const p = base[j]!;
          const hasR = t + s < L;
          feat[0] = R[idx - ss]! - p;
          feat[1] = hasR ? R[idx + ss]! - p : 0;
          feat[2] = t >= 3 * s ? R[idx - s3]! - p : 0;
          feat[3] = t + 3 * s < L ? R[idx + s3]! - p : 0;
          let k = 4;
          for (let e = 0; e < nShift; e++) {
            const step = shStep[e]!;
            const ce = shCoord[e]![j]!;
            // the row one step back, then one step forward, along this axis
            for (let sign = -1; sign <= 1; sign += 2) {
              const c2 = ce + sign * step;
              if (c2 >= 0 && c2 < shSize[e]!) {
                const jj = idx + sign * step * shStr[e]!;
                feat[k] = R[jj - ss]! - p;
                feat[k + 1] = hasR ? R[jj + ss]! - p : 0;
              } else {
                feat[k] = 0;
                feat[k + 1] = 0;
              }
              k += 2;
            }
          }
        };
        const fillSources = (j: number) => {
          const idx = idxs[j]!;
          const t = ts[j]!;
          const hasR = t + s < L;
          let k = kSelf;
          for (let si = 0; si < srcs.length; si++) {
            const src = srcs[si]!;
            const S = src.values;
            const ok = src.valid === null || stencilValid(src.valid, idx, t, L, s, ss, s3);
            if (!ok) {
              feat[k] = feat[k + 1] = feat[k + 2] = feat[k + 3] = feat[k + 4] = 0;
            } else {
              const sb = cubicAt(S, idx, t, L, s, ss, s3);
              feat[k] = S[idx]! - sb;
              feat[k + 1] = S[idx - ss]! - sb;
              feat[k + 2] = hasR ? S[idx + ss]! - sb : 0;
              feat[k + 3] = t >= 3 * s ? S[idx - s3]! - sb : 0;
              feat[k + 4] = t + 3 * s < L ? S[idx + s3]! - sb : 0;
            }
            k += 5;
          }
        };
        const fill = (j: number) => {
          fillSelf(j);
          fillSources(j);
        };
        let group: number;
        w = new Float64Array(K);
        if (enc) {
          const rows = mem ? (count: number) => mem.gather(count) : (count: number, js: Int32Array, F: Float64Array) => {
            for (let i = 0; i < count; i++) {
              fill(js[i]!);
              F.set(feat, i * K);
            }
          };
          const chosen = fitPass(x, fitSkip, idxs, base, m, K, kSelf, q.inv, fit.sized(Math.min(m, 2 * fitPoints) + FIT_RUN, K), rows, fitPoints);
          group = chosen.group;
          w = chosen.w;
          models.w.u8(group);
          for (let k = 0; k < K; k++) if (inGroup(k, group, kSelf)) models.w.u16(toHalfBits(w[k]!));
          stats?.push({ level: lv, axis: d - off, points: m, group, weights: chosen.nWeights, bitsNone: chosen.bitsNone, bitsChosen: chosen.bits });
        } else {
          group = models.r.u8('pass model');
          if (group > 3) throw new FieldpackError('BAD_STREAM', `corrupted stream: pass model ${group}`);
          for (let k = 0; k < K; k++) if (inGroup(k, group, kSelf)) w[k] = fromHalfBits(models.r.u16('pass weight'));
        }
        const exactSkips = sourcesSafe && largestDecoded <= SAFE_MAGNITUDE;
        if (mem) {
          if (group !== 0) mem.predict(w, group, exactSkips);
        } else if (group === (G_SELF | G_SOURCES) || (group !== 0 && !exactSkips)) {
          for (let j = 0; j < m; j++) {
            fill(j);
            let pr = base[j]!;
            for (let k = 0; k < K; k++) pr += w[k]! * feat[k]!;
            base[j] = pr;
          }
        } else if (group !== 0) {
          // one group's weights are zero: their terms (+-0 where every feature is finite) change a sum only where it
          // ends at zero (its sign), so only such a point is summed again over every term, as the stream's format says
          const self = group === G_SELF;
          const k0 = self ? 0 : kSelf;
          const k1 = self ? kSelf : K;
          for (let j = 0; j < m; j++) {
            if (self) fillSelf(j);
            else fillSources(j);
            let pr = base[j]!;
            for (let k = k0; k < k1; k++) pr += w[k]! * feat[k]!;
            if (pr === 0) {
              fill(j);
              pr = base[j]!;
              for (let k = 0; k < K; k++) pr += w[k]! * feat[k]!;
            }
            base[j] = pr;
          }
        }
      }
      const kernelPass = mem?.quantizePass?.(q, largestDecoded);
      const recovered = mem?.recoverPass?.(q, q.pos - pos0, q.escPos - escPos0, largestDecoded);
      // the kernel's codes go after q's (as quantize's would); where they do not fit, the reference runs the pass
      if (kernelPass && q.appendCodes(kernelPass)) largestDecoded = kernelPass.largest;
      else if (recovered) {
        // reconstructions in R only: copied to x below
        q.markRead(recovered);
        largestDecoded = recovered.largest;
        recoveredInKernel = true;
      } else for (let j = 0; j < m; j++) point(idxs[j]!, base[j]!);
    }
  }
  if (tune) q.setFactor(1);
  // the decoded values are the reconstructions of the points not skipped (as `point` writes them)
  if (recoveredInKernel) for (let i = 0; i < n; i++) if (skip === null || skip[i] !== 1) x[i] = R[i]!;
}

/**
 * Values within this magnitude keep every feature finite: a cubic prediction is at most 2 x the largest value it
 * reads, a feature the difference of a value and a prediction (3 x), far below float64's 2^1024.
 */
const SAFE_MAGNITUDE = 2 ** 1019;

/** Every value where valid (everywhere without a validity) is within `limit` (NaN is not). */
function withinMagnitude(v: Float64Array, valid: Uint8Array | null, limit: number): boolean {
  for (let i = 0; i < v.length; i++) if (!(Math.abs(v[i]!) <= limit) && (valid === null || valid[i] === 1)) return false;
  return true;
}

function inGroup(k: number, group: number, kSelf: number): boolean {
  return k < kSelf ? (group & G_SELF) !== 0 : (group & G_SOURCES) !== 0;
}

function cubicAt(R: ArrayLike<number>, idx: number, t: number, L: number, s: number, ss: number, s3: number): number {
  if (t + s < L) {
    const l3 = t >= 3 * s;
    const r3 = t + 3 * s < L;
    if (l3 && r3) return (-R[idx - s3]! + 9 * R[idx - ss]! + 9 * R[idx + ss]! - R[idx + s3]!) * 0.0625;
    if (r3) return (3 * R[idx - ss]! + 6 * R[idx + ss]! - R[idx + s3]!) * 0.125;
    if (l3) return (-R[idx - s3]! + 6 * R[idx - ss]! + 3 * R[idx + ss]!) * 0.125;
    return (R[idx - ss]! + R[idx + ss]!) * 0.5;
  }
  return t >= 3 * s ? 1.5 * R[idx - ss]! - 0.5 * R[idx - s3]! : R[idx - ss]!;
}

/** every point the source's stencil reads at idx is valid */
function stencilValid(v: Uint8Array, idx: number, t: number, L: number, s: number, ss: number, s3: number): boolean {
  if (!v[idx] || !v[idx - ss]) return false;
  if (t + s < L && !v[idx + ss]) return false;
  if (t >= 3 * s && !v[idx - s3]) return false;
  if (t + 3 * s < L && !v[idx + s3]) return false;
  return true;
}

/**
 * Least squares per candidate group, weights rounded to binary16, then the group whose codes have the lowest
 * empirical entropy (plus 16 bits per weight) wins; fitted and sized on a sample of the pass's valid points (see
 * FIT_POINTS), whose features are gathered once into a row-major sample (the twins in WebAssembly where it runs:
 * the same sums).
 */
function fitPass(
  x: Values, skip: Uint8Array | null, idxs: Int32Array, base: Float64Array, m: number, K: number, kSelf: number, inv: number,
  sample: FitSample, rows: (count: number, js: Int32Array, F: Float64Array) => void, fitPoints: number,
): { group: number; w: Float64Array; nWeights: number; bits: number; bitsNone: number } {
  const stride = Math.max(1, Math.floor(m / fitPoints));
  let nAll = 0;
  if (skip === null) nAll = m;
  else for (let j = 0; j < m; j++) if (skip[idxs[j]!] !== 1) nAll++;
  const span = stride * FIT_RUN;
  const { F, y, b0, xs, h, js, A, bv } = sample;
  let ns = 0;
  // runs of FIT_RUN consecutive points (neighbours in memory: the sample reads what the cache holds), one run per
  // stretch of stride x FIT_RUN points, placed by a hash so that the sample does not alias with the grid
  for (let j0 = 0; j0 < m; j0 += span) {
    const start = stride === 1 ? j0 : j0 + ((Math.imul(j0 + 1, 0x9e3779b1) >>> 0) % (span - FIT_RUN + 1));
    const end = Math.min(m, start + FIT_RUN);
    for (let j = start; j < end; j++) {
      const idx = idxs[j]!;
      if (skip !== null && skip[idx] === 1) continue;
      js[ns] = j;
      xs[ns] = x[idx]!;
      b0[ns] = base[j]!;
      y[ns] = xs[ns]! - b0[ns]!;
      ns++;
    }
  }
  rows(ns, js, F);
  A.fill(0, 0, K * K);
  bv.fill(0, 0, K);
  sample.normalEquations(ns, K);
  for (let u = 0; u < K; u++) for (let v = 0; v < u; v++) A[u * K + v] = A[v * K + u]!;
  const groups = [0];
  if (kSelf > 0) groups.push(G_SELF);
  if (K > kSelf) groups.push(G_SOURCES, G_SELF | G_SOURCES);
  const ws = groups.map((g) => {
    const w = new Float64Array(K);
    if (g === 0 || ns === 0) return w;
    const sel: number[] = [];
    for (let k = 0; k < K; k++) if (inGroup(k, g, kSelf)) sel.push(k);
    const sol = solveSpd(A, bv, K, sel);
    sel.forEach((k, i) => (w[k] = fromHalfBits(toHalfBits(sol[i]!))));
    return w;
  });
  // each candidate's code histogram on the sample, entropy scaled to the pass's valid points
  const scale = ns > 0 ? nAll / ns : 0;
  const bits = groups.map((g, gi) => {
    const { over, first, last } = sample.codeHistogram(ns, K, g !== 0 ? ws[gi]! : null, inv);
    let b = over * 40 + 8;
    // the bins used alone (the same sum: the others hold 0): all 8193 read per candidate group and pass were ~15 %
    // of a reused model's compression of a 0.2 M-value field (COADS SST <- AIRT)
    for (let i = first; i <= last; i++) {
      const c = h[i]!;
      if (c > 0) b -= c * Math.log2(c / ns);
    }
    let nw = 0;
    for (let k = 0; k < K; k++) if (g && inGroup(k, g, kSelf)) nw++;
    return b * scale + 16 * nw;
  });
  let best = 0;
  for (let g = 1; g < groups.length; g++) if (bits[g]! < bits[best]!) best = g;
  const group = groups[best]!;
  let nWeights = 0;
  for (let k = 0; k < K; k++) if (group && inGroup(k, group, kSelf)) nWeights++;
  return { group, w: ws[best]!, nWeights, bits: bits[best]!, bitsNone: bits[0]! };
}

/** fitPass's sample: rows of features F (row major), targets y, the points' values, predictions and pass positions. */
interface FitSample {
  F: Float64Array;
  y: Float64Array;
  b0: Float64Array;
  xs: Float64Array;
  pred: Float64Array;
  js: Int32Array;
  h: Int32Array;
  A: Float64Array;
  bv: Float64Array;
  /** A's upper triangle and bv from the first ns rows (normalEquations or its twin) */
  normalEquations(ns: number, K: number): void;
  /**
   * A candidate's codes on the sample into h (zeroed first): pred[i] = b0[i] (+ w . F's row i, added in k order,
   * with weights), code Math.round((xs[i] - pred[i]) x inv); returns how many fall outside h's radius and the first
   * and last bins used (or the twin)
   */
  codeHistogram(ns: number, K: number, w: Float64Array | null, inv: number): CodeHistogramCount;
  /** buffers for `rows` rows of K features */
  sized(rows: number, K: number): FitSample;
}

/** The reference's sample buffers, grown as a run's passes need and kept across them (no fresh memory per pass). */
class FitScratch implements FitSample {
  F = new Float64Array(0);
  y = new Float64Array(0);
  b0 = new Float64Array(0);
  xs = new Float64Array(0);
  pred = new Float64Array(0);
  js = new Int32Array(0);
  A = new Float64Array(0);
  bv = new Float64Array(0);
  readonly h = new Int32Array(2 * HIST_RADIUS + 1);
  normalEquations(ns: number, K: number): void {
    normalEquations(this.F, this.y, ns, K, this.A, this.bv);
  }
  codeHistogram(ns: number, K: number, w: Float64Array | null, inv: number): CodeHistogramCount {
    const { F, pred, b0, xs, h } = this;
    pred.set(b0.subarray(0, ns));
    if (w) {
      for (let i = 0; i < ns; i++) {
        const r = i * K;
        let p = pred[i]!;
        for (let k = 0; k < K; k++) p += w[k]! * F[r + k]!;
        pred[i] = p;
      }
    }
    h.fill(0);
    let over = 0;
    let first = 2 * HIST_RADIUS;
    let last = -1;
    for (let i = 0; i < ns; i++) {
      const code = Math.round((xs[i]! - pred[i]!) * inv);
      if (code > -HIST_RADIUS && code < HIST_RADIUS) {
        const bin = code + HIST_RADIUS;
        h[bin]++;
        if (bin < first) first = bin;
        if (bin > last) last = bin;
      } else over++;
    }
    return { over, first, last };
  }
  sized(rows: number, K: number): this {
    if (this.F.length < rows * K) this.F = new Float64Array(rows * K);
    if (this.A.length < K * K) {
      this.A = new Float64Array(K * K);
      this.bv = new Float64Array(K);
    }
    if (this.y.length < rows) {
      this.y = new Float64Array(rows);
      this.b0 = new Float64Array(rows);
      this.xs = new Float64Array(rows);
      this.pred = new Float64Array(rows);
      this.js = new Int32Array(rows);
    }
    return this;
  }
}

/** The sample in the kernels' memory: F, y, js, pred, A and bv are theirs (laid out for the run's largest fit). */
function kernelSample(mem: HybridRunMemory): FitSample {
  const rows = mem.y.length;
  const sample: FitSample = {
    F: mem.F, y: mem.y, js: mem.js, pred: mem.pred, A: mem.A, bv: mem.b, b0: mem.b0, xs: mem.xs, h: mem.histogram(HIST_RADIUS),
    normalEquations: (ns, K) => mem.normalEquations(ns, K),
    codeHistogram: (ns, K, w, inv) => mem.codeHistogram(ns, K, w, inv, HIST_RADIUS),
    sized: (need, K) => {
      if (need > rows || need * K > mem.F.length || K * K > mem.A.length) throw new FieldpackError('INTERNAL', `a fit of ${need} x ${K} exceeds the kernels' layout (${rows} rows)`);
      return sample;
    },
  };
  return sample;
}

/** The most points a pass of the run has (run's count per level and axis). */
function largestPass(sh: number[]): number {
  let maxDim = 1;
  for (const v of sh) maxDim = Math.max(maxDim, v);
  let most = 0;
  for (let s = 1; s < maxDim; s *= 2) {
    for (let d = 0; d < 4; d++) {
      if (sh[d]! <= s) continue;
      let cnt = Math.ceil((sh[d]! - s) / (2 * s));
      for (let e = 0; e < 4; e++) if (e !== d) cnt *= Math.ceil(sh[e]! / (e < d ? s : 2 * s));
      most = Math.max(most, cnt);
    }
  }
  return most;
}

/** Solves the sub-system A[sel, sel] w = b[sel] with a small ridge. */
function solveSpd(A: Float64Array, b: Float64Array, K: number, sel: number[]): number[] {
  const n = sel.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = A[sel[i]! * K + sel[j]!]!;
  return solveRidge(a, sel.map((k) => b[k]!), n, 1e-7);
}

/**
 * Encoder: quantizes every valid point through q; the pass models go to `models`. `kernels` false runs the reference
 * loops instead of their WebAssembly twins (the same bytes).
 */
export function encodeInterpHybrid(
  x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, tune: number, sources: InterpSource[], models: ByteWriter, stats?: PassStat[], kernels = true,
  fitPoints = FIT_POINTS,
): void {
  run(x, skip, shape, q, tune, sources, { enc: true, w: models, fitPoints }, stats, kernels);
}

/** Decoder: `out` receives every point's reconstruction (skipped points: the prediction); `kernels` as the encoder's. */
export function decodeInterpHybrid(out: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, tune: number, sources: InterpSource[], models: ByteReader, kernels = true): void {
  run(out, skip, shape, q, tune, sources, { enc: false, r: models }, undefined, kernels);
}

/** Where the codes' lines are with nothing skipped: the hybrid codes its points in the interpolation predictors' order. */
export function interpHybridCodeLines(shape: number[]): CodeLines {
  return interpCubic.codeLines(shape);
}
