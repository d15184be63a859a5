/**
 * The NGLR residual coder (codec id "nglr", after Zhu, Ranka, Rangarajan, arXiv 2606.05389; our own code): like
 * LBRC, the residual r = x - base (or x) is quantized, q = round(r / step), with one step per chunk (NRMSE: the
 * largest whose true decode meets the target, doubling then bisection; abs: 2 x bound, strict). Then each q is
 * predicted by the 3D Lorenzo predictor P, optionally plus a linear predictor fitted to the chunk (linear.ts: weights
 * of 12 causal neighbours, NE and NNE included, stored as float32), plus a learned causal bias:
 * ref = round(P + linear + bias x dScale) where the bias network (core/nn/nglr) sees only what the decoder already has. The differences q - ref are range-coded under a
 * context of the neighbours' coded differences (w-1, h-1, t-1, h-1 w+-1, w-2; ctxcoder.ts). Pure: no Node.
 *
 * The encoder knows every q, so it computes all biases at once with teacher forcing. The coder's contexts are the
 * neighbours' coded differences, never q, so a decoder first range-decodes every difference, then rebuilds q with
 * the network on one of two paths that give the same bits: 'reference', point after point in raster order, and
 * 'wavefront', wavefronts 2h + w = s of each time plane (the paper's are t + h + w = s; NE and NNE need the slant),
 * the points of a wavefront through the network together (every input of a point lies on an earlier wavefront, and
 * each point's sums keep bias()'s order). Each chunk stores
 * a CRC-32 of its q (flag 128): a decoder whose q differs, on any path or machine, says the decoding contract broke
 * instead of returning values outside the bound (the wavefront path falls back to the reference first). Chunks run
 * on workers.
 *
 * The encoder codes each chunk with and without the bias and with and without the linear predictor, and keeps the
 * smallest (flag 32: no bias; the predictor byte), so neither the network nor the fit ever costs bits; then it decodes what it kept, as a decoder will, and refuses to
 * write a chunk whose decode differs.
 *
 * Values stored on a grid (offset + k x g, e.g. rounded to 0.001) are coded as their indices k, to the last bit, when
 * the step would be no coarser than the grid (flag 64): the tight targets become a lossless problem there.
 *
 * Chunk payload: u8 flags (1 mask, 2 non-finite list, 4 fill exceptions, 8 exact values, 16 the model, chunk 0,
 *   32 coded without the bias, 64 on the values' grid, 128 a CRC-32 of q follows)
 *   | [varint length + model file] | varint n | [mask] | [lists] | f64 step | f64 dScale | [f64 grid offset]
 *   | [u32 CRC-32 of q as int32 LE, all n points, 0 where not coded]
 *   | layout 2: u8 predictor (0 Lorenzo, 1 Lorenzo + linear) [12 x f32 weights] | [exact values list]
 *   | context-coded differences (one per valid point).
 */
import { FieldpackError } from '../../errors.ts';
import { type FieldValues, fieldSize } from '../../field.ts';
import { ByteReader, ByteWriter } from '../../codec/bytes.ts';
import { crc32 } from '../../codec/crc32.ts';
import { ContextIntDecoder, ContextIntEncoder, magnitudeContext } from '../../codec/ctxcoder.ts';
import { chunkHeadFlags, finishChunk, readValueList, scanChunk, writeChunkHead, writeValueLists } from '../../codec/envelope.ts';
import { findGridPlan, gridValueOf, toGridIndices, ulpAt } from '../../codec/grid.ts';
import type { LosslessBackend } from '../../codec/lossless.ts';
import type { StreamHeader } from '../../codec/stream/format.ts';
import { NGLR_CAUSAL_INPUTS, parseNglrModel } from '../../nn/nglr/model.ts';
import { LINEAR_TERMS, NglrNetwork, causalFeatures, linearTerm, lorenzo3 } from '../../nn/nglr/network.ts';
import { fitLinearPredictor } from './linear.ts';
import type { DecodedChunk } from '../contract.ts';
import { Q_LIMIT, quantizeResidual, reconOf, volumeOf } from '../lbrc/codec.ts';
import { F_EMBEDDED_MODEL, type ResidualChunkInput, type ResidualChunkOutput, openChunk } from '../residual.ts';
import { roundExact } from '../../codec/quantizer.ts';

export const NGLR_CODEC_ID = 'nglr';
const F_EXACT = 8;
/** the chunk is coded without the bias (plain Lorenzo was smaller there: the network never costs bits) */
const F_NO_BIAS = 32;
/** q are the values' own grid indices: reconstructions fround(offset + q x step), exact (an f64 offset follows dScale) */
const F_GRID = 64;
/** a CRC-32 of the chunk's q follows (streams before it decode unchecked) */
const F_Q_CRC = 128;
const REF_LIMIT = Q_LIMIT - 1;
/** contexts of the difference coder: magnitude classes of the neighbours' coded differences */
const CONTEXTS = 24;

function bad(msg: string): never {
  throw new FieldpackError('BAD_STREAM', msg);
}

/** How a decoder runs the network over a chunk: point after point in raster order, or a wavefront at a time. */
export type NglrPath = 'reference' | 'wavefront';
export const NGLR_PATHS: readonly NglrPath[] = ['reference', 'wavefront'];

/**
 * The stream layout the header names (params.layout): 2 = the q CRC per chunk and the six-neighbour context; streams
 * without it (layout 1, before both) decode with the three-neighbour context.
 */
export const NGLR_LAYOUT = 2;

export function layoutOf(h: StreamHeader): 1 | 2 {
  const l = h.params.layout;
  if (l === undefined) return 1;
  if (l !== 2) bad(`corrupted header: NGLR layout ${JSON.stringify(l)} (this Fieldpack reads layouts 1 and 2)`);
  return 2;
}

/** Layout 2's predictor byte: Lorenzo alone, or Lorenzo plus the chunk's linear predictor (12 float32 follow). */
const PREDICTOR_LORENZO = 0;
const PREDICTOR_LINEAR = 1;

/** CRC-32 of q as int32 little-endian (q are integers below 2^30 in magnitude). */
function qCrc(q: Float64Array): number {
  return crc32(new Uint8Array(Int32Array.from(q).buffer));
}

export interface NglrChunkResult extends ResidualChunkOutput {
  sse: number;
  valid: number;
  parts: { residual: number; side: number; mask: number; model: number };
  /** bytes the same differences cost with the plain Lorenzo prediction (bias 0) and with the bias, for the report */
  comparison?: Record<string, number>;
}

/** A chunk's volume and the walk both directions share: Lorenzo, causal features, the bias, the coder's context. */
class Walker {
  readonly q: Float64Array;
  /** Lorenzo residual q - P per point (a feature of later points) */
  readonly e: Float64Array;
  /** coded difference per point (the coder's context) */
  readonly d: Float64Array;
  private readonly f = new Float64Array(NGLR_CAUSAL_INPUTS);
  private readonly lx = new Float64Array(LINEAR_TERMS);
  private readonly inv: number;
  constructor(
    readonly net: NglrNetwork | null,
    readonly rf: Float64Array | null,
    readonly D: number, readonly H: number, readonly W: number,
    readonly dScale: number,
    /** the chunk's linear predictor (linear.ts), or none: plain Lorenzo under the bias */
    readonly lin: Float64Array | null,
    /** which points are coded (the linear predictor skips the others' q) */
    readonly code: Uint8Array,
    /** layout 2's context (six neighbours); layout 1 streams used w-1, h-1, t-1 */
    readonly wideContext = true,
  ) {
    const n = D * H * W;
    this.q = new Float64Array(n);
    this.e = new Float64Array(n);
    this.d = new Float64Array(n);
    this.inv = 1 / dScale;
  }
  /** ref of point i at (t, h, w): round(P + linear + bias x dScale), within +-Q_LIMIT; also returns P through lastP */
  lastP = 0;
  ref(i: number, t: number, h: number, w: number): number {
    const { q, H, W, lin } = this;
    const P = lorenzo3(q, i, t, h, w, H, W);
    this.lastP = P;
    const l = lin ? linearTerm(q, this.code, i, t, h, w, H, W, P, lin, this.lx) : 0;
    if (!this.net) return this.refOf(P, l, 0);
    causalFeatures(q, this.e, i, t, h, w, H, W, P, this.inv, this.f);
    return this.refOf(P, l, this.net.bias(this.f, this.rf, i * this.net.recon));
  }
  /**
   * round(P + linear + bias x dScale), clamped (linear: the chunk's linear term, 0 without one, then not added); a
   * non-finite sum (a hostile model, base or coefficients) leaves P, on both sides
   */
  refOf(P: number, linear: number, bias: number): number {
    const b = roundExact((this.lin ? P + linear : P) + bias * this.dScale);
    const r = b === b ? b : P;
    // |q| <= Q_LIMIT and |ref| < Q_LIMIT keep every difference below 2^31, the context coder's limit
    return r >= REF_LIMIT ? REF_LIMIT : r <= -REF_LIMIT ? -REF_LIMIT : r;
  }
  /** the causal features' unit (1 / dScale) */
  get featureScale(): number {
    return this.inv;
  }
  /**
   * the magnitude context: the coded differences around the point, weighted by how much they tell (w-1 and h-1 3,
   * t-1 2, h-1 w+1, h-1 w-1 and w-2 1; measured 0.4 % fewer bytes than w-1, h-1, t-1 alone, up to 2 % on WRF)
   */
  context(i: number, t: number, h: number, w: number): number {
    const { d, H, W } = this;
    if (!this.wideContext) return magnitudeContext((w > 0 ? Math.abs(d[i - 1]!) : 0) + (h > 0 ? Math.abs(d[i - W]!) : 0) + (t > 0 ? Math.abs(d[i - H * W]!) : 0), CONTEXTS);
    const a = (k: number) => Math.abs(d[i - k]!);
    const up = h > 0;
    const m = 3 * ((w > 0 ? a(1) : 0) + (up ? a(W) : 0)) + 2 * (t > 0 ? a(H * W) : 0)
      + (up && w + 1 < W ? a(W - 1) : 0) + (up && w > 0 ? a(W + 1) : 0) + (w > 1 ? a(2) : 0);
    return magnitudeContext(Math.floor(m / 3), CONTEXTS);
  }
  /** the sign context: the left neighbour's coded difference, 0 zero (or none), 1 positive, 2 negative */
  signContext(i: number, h: number, w: number): number {
    const a = w > 0 ? this.d[i - 1]! : 0;
    const b = h > 0 ? this.d[i - this.W]! : 0;
    return (a > 0 ? 1 : a < 0 ? 2 : 0) * 3 + (b > 0 ? 1 : b < 0 ? 2 : 0);
  }
}

/**
 * Stage 1 of decoding: the coded differences, in raster order, into walk.d. Their contexts are earlier differences
 * only, so this needs no network.
 */
function decodeDifferences(walk: Walker, code: Uint8Array, dec: ContextIntDecoder): void {
  const { d, D, H, W } = walk;
  for (let t = 0, i = 0; t < D; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++, i++) {
    if (code[i]) d[i] = dec.get(walk.context(i, t, h, w), walk.signContext(i, h, w));
  }
  dec.check();
}

/** Sets q[i] = ref + d[i] for a coded point (range-checked) and its Lorenzo residual, a feature of later points. */
function settle(walk: Walker, i: number, ref: number, P: number, what: string): void {
  const qi = ref + walk.d[i]!;
  if (!(Math.abs(qi) <= Q_LIMIT)) bad(`corrupted stream: a quantized residual of ${what} is out of range`);
  walk.q[i] = qi;
  walk.e[i] = qi - P;
}

/** Stage 2 on the reference path: q point after point in raster order. */
function rebuildRaster(walk: Walker, code: Uint8Array, what: string): void {
  const { D, H, W } = walk;
  for (let t = 0, i = 0; t < D; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++, i++) {
    if (code[i]) settle(walk, i, walk.ref(i, t, h, w), walk.lastP, what);
  }
}

/**
 * Stage 2 on the wavefront path: q one wavefront 2h + w = s of one time plane at a time, the wavefront's points
 * through the network together (biasMany). Every causal neighbour of a point (the network's and the linear
 * predictor's, NE and NNE included) lies on an earlier wavefront or plane, which keeps them close in memory too.
 */
function rebuildWavefronts(walk: Walker, code: Uint8Array, what: string): void {
  const { q, e, D, H, W, net, rf, lin } = walk;
  const most = Math.min(H, Math.ceil(W / 2) + 1);
  const at = new Int32Array(most), P = new Float64Array(most), L = new Float64Array(most), bias = new Float64Array(most);
  const F = new Float64Array(most * NGLR_CAUSAL_INPUTS), rfAt = net && rf ? new Int32Array(most) : null;
  const lx = new Float64Array(LINEAR_TERMS), inv = walk.featureScale;
  for (let t = 0; t < D; t++) {
    for (let s = 0; s <= 2 * (H - 1) + W - 1; s++) {
      let m = 0;
      for (let h = Math.max(0, Math.ceil((s - (W - 1)) / 2)); h <= Math.min(H - 1, s >> 1); h++) {
        const w = s - 2 * h, i = (t * H + h) * W + w;
        if (!code[i]) continue;
        const p = lorenzo3(q, i, t, h, w, H, W);
        if (net) {
          causalFeatures(q, e, i, t, h, w, H, W, p, inv, F, m * NGLR_CAUSAL_INPUTS);
          if (rfAt) rfAt[m] = i * net.recon;
        }
        if (lin) L[m] = linearTerm(q, code, i, t, h, w, H, W, p, lin, lx);
        at[m] = i;
        P[m++] = p;
      }
      if (net && m) net.biasMany(F, m, rf, rfAt, bias);
      for (let k = 0; k < m; k++) settle(walk, at[k]!, walk.refOf(P[k]!, L[k]!, net ? bias[k]! : 0), P[k]!, what);
    }
  }
}

/** Stage 2 on the path asked for. */
function rebuild(walk: Walker, code: Uint8Array, what: string, path: NglrPath): void {
  if (path === 'wavefront') rebuildWavefronts(walk, code, what);
  else rebuildRaster(walk, code, what);
}

/** Both stages: the differences, then q on the path asked for. */
function decodeWalk(walk: Walker, code: Uint8Array, dec: ContextIntDecoder, what: string, path: NglrPath): void {
  decodeDifferences(walk, code, dec);
  rebuild(walk, code, what, path);
}

/** The encoder's teacher-forced terms of every coded point: P, the linear term, the bias (0 where not asked for). */
interface TeacherTerms {
  P: Float64Array;
  L: Float64Array | null;
  bias: Float64Array | null;
}

/**
 * Teacher forcing: every q is known, so P, the linear term and the network's bias of every coded point are computed
 * once, the bias in batches through biasMany, the same bits as a decoder's on either path. The encoder composes each
 * prediction it tries from them (the bias's features do not depend on the linear term).
 */
function teacherForcedTerms(q: Float64Array, code: Uint8Array, D: number, H: number, W: number, dScale: number, net: NglrNetwork | null, rf: Float64Array | null, lin: Float64Array | null): TeacherTerms {
  const n = D * H * W;
  const P = new Float64Array(n), e = new Float64Array(n), lx = new Float64Array(LINEAR_TERMS);
  const L = lin ? new Float64Array(n) : null;
  for (let t = 0, i = 0; t < D; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++, i++) {
    if (!code[i]) continue;
    P[i] = lorenzo3(q, i, t, h, w, H, W);
    e[i] = q[i]! - P[i]!;
    if (L) L[i] = linearTerm(q, code, i, t, h, w, H, W, P[i]!, lin!, lx);
  }
  if (!net) return { P, L, bias: null };
  const bias = new Float64Array(n);
  const BATCH = 256, inv = 1 / dScale;
  const at = new Int32Array(BATCH), out = new Float64Array(BATCH), F = new Float64Array(BATCH * NGLR_CAUSAL_INPUTS);
  const rfAt = rf ? new Int32Array(BATCH) : null;
  let m = 0;
  const flush = () => {
    net.biasMany(F, m, rf, rfAt, out);
    for (let k = 0; k < m; k++) bias[at[k]!] = out[k]!;
    m = 0;
  };
  for (let t = 0, i = 0; t < D; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++, i++) {
    if (!code[i]) continue;
    causalFeatures(q, e, i, t, h, w, H, W, P[i]!, inv, F, m * NGLR_CAUSAL_INPUTS);
    if (rfAt) rfAt[m] = i * net.recon;
    at[m++] = i;
    if (m === BATCH) flush();
  }
  if (m) flush();
  return { P, L, bias };
}

/** dScale: the mean absolute Lorenzo residual of the coded points (at least 1), the unit of the network's features. */
function lorenzoScale(q: Float64Array, code: Uint8Array, D: number, H: number, W: number): number {
  let sum = 0, count = 0;
  for (let t = 0, i = 0; t < D; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++, i++) {
    if (!code[i]) continue;
    sum += Math.abs(q[i]! - lorenzo3(q, i, t, h, w, H, W));
    count++;
  }
  return count && sum / count > 1 ? sum / count : 1;
}

/** A chunk's q as the encoder codes it: on the field's own grid (flag 64) or quantized with one step. */
interface ChunkQuantization {
  q: Float64Array;
  exact: number[];
  step: number;
  /** the grid's offset when the chunk is coded on the values' own grid (reconstructions fround(offset + q x step)) */
  gridOffset: number | null;
  sse: number;
  maxError: number;
  valid: number;
  code: Uint8Array;
}

/**
 * One step for the whole chunk (abs: 2 x bound; nrmse: the search on the true decode). Values stored on a grid
 * (products rounded to 0.001 K, packed int16: offset + k x g) are coded as their grid indices k, exactly, when the
 * step would be no coarser than the grid: every on-grid value comes back within one unit in its last place (the
 * grid's decimal step is not exact in binary), off-grid ones are stored.
 */
function quantizeChunk(a: ResidualChunkInput, skip: Uint8Array, D: number, H: number, W: number): ChunkQuantization {
  const n = skip.length;
  const f32 = a.values instanceof Float32Array;
  const r = quantizeResidual(a, skip, [{ t0: 0, t1: D, h0: 0, h1: H, w0: 0, w1: W }], H, W);
  const codeOf = (exact: number[]) => {
    const code = new Uint8Array(n);
    for (let i = 0; i < n; i++) code[i] = skip[i] ? 0 : 1;
    for (const i of exact) code[i] = 0;
    return code;
  };
  const step = r.steps[0]!;
  if (!a.base) {
    let maxAbs = 0;
    for (let i = 0; i < n; i++) if (!skip[i] && Number.isFinite(a.values[i]!)) maxAbs = Math.max(maxAbs, Math.abs(a.values[i]!));
    // on the grid within one unit in the last place (decimal steps are not exact in binary), and no further
    const ulp = ulpAt(maxAbs, f32);
    const e = a.mode === 'abs' ? Math.min(a.bound, ulp) : ulp;
    const grid = findGridPlan(a.values, skip, e, maxAbs, f32);
    // (a grid whose indices times its step pass the largest double is refused by the decoder: values near it)
    if (grid && grid.half === 0 && !(step > grid.step) && Number.isFinite(Math.abs(grid.offset) + grid.step * Q_LIMIT)) {
      const { k, offGrid } = toGridIndices(a.values, Uint8Array.from(skip), grid, f32);
      const code = codeOf(offGrid);
      let sse = 0, maxError = 0, ok = k.every((v) => Math.abs(v) <= Q_LIMIT);
      for (let i = 0; ok && i < n; i++) {
        if (!code[i]) continue;
        const err = Math.abs(a.values[i]! - gridValueOf(k[i]!, grid, f32));
        sse += err * err;
        if (err > maxError) maxError = err;
      }
      ok &&= a.mode === 'abs' ? maxError <= a.bound : sse <= a.mse * r.valid;
      if (ok) return { q: k, exact: offGrid, step: grid.step, gridOffset: grid.offset, sse, maxError, valid: r.valid, code };
    }
  }
  return { q: r.q, exact: r.exact, step, gridOffset: null, sse: r.sse, maxError: r.maxError, valid: r.valid, code: codeOf(r.exact) };
}

/**
 * What the trainer fits the network on: a chunk's q as the encoder quantizes it, which points are coded, and the
 * chunk's fitted linear term per point (null when the fit fails), so the network learns to correct the prediction
 * the encoder uses with it.
 */
export function trainingChunk(a: ResidualChunkInput): { q: Int32Array; code: Uint8Array; volume: [number, number, number]; linear: Float64Array | null } {
  const { skip } = scanChunk(a.values, a.mask, a.fillValue);
  const volume = volumeOf(a.shape);
  const [D, H, W] = volume;
  const { q, code } = quantizeChunk(a, skip, D, H, W);
  const lin = fitLinearPredictor(q, code, D, H, W);
  let linear: Float64Array | null = null;
  if (lin) {
    linear = new Float64Array(q.length);
    const x = new Float64Array(LINEAR_TERMS);
    for (let t = 0, i = 0; t < D; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++, i++) {
      if (code[i]) linear[i] = linearTerm(q, code, i, t, h, w, H, W, lorenzo3(q, i, t, h, w, H, W), lin, x);
    }
  }
  return { q: Int32Array.from(q), code, volume, linear };
}

/** How a chunk's prediction is chosen: every combination, or only with (or without) the fitted linear predictor. */
export type NglrPredictor = 'auto' | 'lorenzo' | 'linear';

export function encodeChunk(a: ResidualChunkInput, backend: LosslessBackend, opts: { compareLorenzo?: boolean; predictor?: NglrPredictor } = {}): NglrChunkResult {
  const { compareLorenzo = false, predictor = 'auto' } = opts;
  const n = fieldSize(a.shape);
  const f32 = a.values instanceof Float32Array;
  const x = a.values;
  const { skip, mask, nonfinite, fillExc } = scanChunk(x, a.mask, a.fillValue);
  const [D, H, W] = volumeOf(a.shape);
  const { q: qAll, exact, step, gridOffset, sse, maxError, valid, code } = quantizeChunk(a, skip, D, H, W);
  const dScale = lorenzoScale(qAll, code, D, H, W);
  const model = a.model ? parseNglrModel(a.model, 'BAD_FILE') : null;
  const net = model ? new NglrNetwork(model) : null;
  const rf = net ? net.reconFeatures(a.base, D, H, W) : null;

  const lin = predictor === 'lorenzo' ? null : fitLinearPredictor(qAll, code, D, H, W);
  const terms = teacherForcedTerms(qAll, code, D, H, W, dScale, net, rf, lin);
  const codeDifferences = (withNet: NglrNetwork | null, withLin: Float64Array | null): Uint8Array => {
    const walk = new Walker(withNet, withNet ? rf : null, D, H, W, dScale, withLin, code);
    const { P, L, bias } = terms;
    const enc = new ContextIntEncoder(CONTEXTS, n >>> 2);
    for (let t = 0, i = 0; t < D; t++) for (let h = 0; h < H; h++) for (let ww = 0; ww < W; ww++, i++) {
      if (!code[i]) continue;
      const diff = qAll[i]! - walk.refOf(P[i]!, withLin ? L![i]! : 0, withNet ? bias![i]! : 0);
      enc.put(diff, walk.context(i, t, h, ww), walk.signContext(i, h, ww));
      walk.d[i] = diff;
    }
    const cw = new ByteWriter(1024);
    enc.finish(cw);
    return cw.finish();
  };
  // Lorenzo alone, with the bias, with the linear predictor, with both: the smallest is kept (ties: the simpler), so
  // neither the network nor the fit ever costs bits
  const tried: { net: NglrNetwork | null; lin: Float64Array | null; bytes: Uint8Array }[] = [];
  for (const withLin of lin ? (predictor === 'linear' ? [lin] : [null, lin]) : [null]) {
    for (const withNet of net ? [null, net] : [null]) tried.push({ net: withNet, lin: withLin, bytes: codeDifferences(withNet, withLin) });
  }
  const kept = tried.reduce((best, c) => (c.bytes.length < best.bytes.length ? c : best));
  const noBias = kept.net === null;
  const differences = kept.bytes;
  const plain = tried.find((c) => !c.net && !c.lin)?.bytes ?? null, biased = tried.find((c) => c.net && !c.lin)?.bytes ?? null;
  // the encoder decodes what it wrote on the reference path, as a decoder will, and says so if it ever differs (as
  // the paper's does)
  const check = new Walker(kept.net, kept.net ? rf : null, D, H, W, dScale, kept.lin, code);
  decodeWalk(check, code, new ContextIntDecoder(new ByteReader(differences, 'the encoder\'s check'), CONTEXTS, 'the encoder\'s check'), 'the encoder\'s check', 'reference');
  for (let i = 0; i < n; i++) {
    if (check.q[i] !== qAll[i]) throw new FieldpackError('INTERNAL', `NGLR: the decoder computes another q than the encoder at point ${i} of this chunk (${check.q[i]} for ${qAll[i]}): the decoding contract is broken on this machine`);
  }

  const w = new ByteWriter(Math.max(1024, n >>> 1));
  w.u8(chunkHeadFlags(mask, nonfinite, fillExc) | (exact.length ? F_EXACT : 0) | (a.embedModel ? F_EMBEDDED_MODEL : 0) | (noBias && net ? F_NO_BIAS : 0) | (gridOffset !== null ? F_GRID : 0) | F_Q_CRC);
  if (a.embedModel && a.model) w.block(a.model);
  const modelPart = a.embedModel && a.model ? w.pos - 1 : 0;
  w.varint(n);
  const maskPart = writeChunkHead(w, mask, a.shape, nonfinite, fillExc, x, f32, 2);
  const s0 = w.pos;
  w.f64(step);
  w.f64(dScale);
  if (gridOffset !== null) w.f64(gridOffset);
  w.u32(qCrc(qAll));
  w.u8(kept.lin ? PREDICTOR_LINEAR : PREDICTOR_LORENZO);
  if (kept.lin) for (const c of kept.lin) w.f32(c);
  writeValueLists(w, [exact], x, f32);
  const sidePart = w.pos - s0;
  const r0 = w.pos;
  w.bytes(differences);
  const payload = w.finish();
  const packed = backend.compress(payload);
  const raw = packed.length >= payload.length;
  const stored = raw ? payload : packed;
  return {
    stored, raw, rawBytes: payload.length, crc: crc32(stored), sse, maxError, valid,
    parts: { residual: payload.length - r0, side: sidePart, mask: maskPart, model: modelPart },
    counts: { chunks: 1, chunksWithBias: noBias ? 0 : 1, chunksWithLinear: kept.lin ? 1 : 0 },
    usesModel: !noBias,
    ...(compareLorenzo && biased && plain ? { comparison: { lorenzoBytes: plain.length, nglrBytes: biased.length } } : {}),
  };
}

/**
 * Decodes a chunk on `path` (default: the wavefront path). A q whose CRC-32 is not the stored one is decoded again on
 * the reference path, which decides (unless `fallBack` is false: tests that the path itself agrees); if that differs
 * too the stream is refused.
 */
export function decodeChunk(h: StreamHeader, index: number, stored: Uint8Array, base: FieldValues | null, model: Uint8Array | null, path: NglrPath = 'wavefront', fallBack = true): DecodedChunk {
  const { r, what, shape, n, f32, flags, mask, skip, nonfinite, fillExc } = openChunk(h, index, stored, base, 255, true);
  const [D, H, W] = volumeOf(shape);
  const step = r.f64('step');
  const dScale = r.f64('difference scale');
  if (!(step >= 0) || !Number.isFinite(step * Q_LIMIT)) bad(`corrupted stream: the step of ${what} is negative or too large`);
  if (!(dScale >= 1) || !Number.isFinite(dScale)) bad(`corrupted stream: the difference scale of ${what} is below 1 or not finite`);
  const grid = flags & F_GRID ? { offset: r.f64('grid offset'), step } : null;
  if (grid && (base || !Number.isFinite(Math.abs(grid.offset) + step * Q_LIMIT) || !(step > 0))) bad(`corrupted stream: ${what} says it is on a grid it cannot be on`);
  const storedCrc = flags & F_Q_CRC ? r.u32('q checksum') : null;
  const wide = layoutOf(h) === 2;
  let lin: Float64Array | null = null;
  if (wide) {
    const predictor = r.u8('predictor');
    if (predictor === PREDICTOR_LINEAR) {
      lin = new Float64Array(LINEAR_TERMS);
      for (let k = 0; k < LINEAR_TERMS; k++) lin[k] = r.f32('linear predictor');
      if (!lin.every(Number.isFinite)) bad(`corrupted stream: the linear predictor of ${what} is not finite`);
    } else if (predictor !== PREDICTOR_LORENZO) bad(`corrupted stream: unknown predictor ${predictor} in ${what}`);
  }
  const exact = flags & F_EXACT ? readValueList(r, n, f32, 'exact values', what) : null;
  const code = new Uint8Array(n);
  for (let k = 0; k < n; k++) code[k] = skip[k] ? 0 : 1;
  if (exact) for (const k of exact.idx) code[k] = 0;
  const net = model && !(flags & F_NO_BIAS) ? new NglrNetwork(parseNglrModel(model, 'BAD_STREAM')) : null;
  const rf = net ? net.reconFeatures(base, D, H, W) : null;
  const dec = new ContextIntDecoder(r, CONTEXTS, what);
  if (r.remaining() !== 0) bad(`corrupted stream: ${r.remaining()} unexpected bytes at the end of ${what}`);
  let walk = new Walker(net, rf, D, H, W, dScale, lin, code, wide);
  decodeWalk(walk, code, dec, what, path);
  if (storedCrc !== null && qCrc(walk.q) !== storedCrc) {
    if (path !== 'reference' && fallBack) {
      // the differences do not depend on the path: only q is rebuilt, on the reference path
      const again = new Walker(net, rf, D, H, W, dScale, lin, code, wide);
      again.d.set(walk.d);
      rebuild(again, code, what, 'reference');
      walk = again;
    }
    if (qCrc(walk.q) !== storedCrc) bad(`${what}: the decoded quantized residuals do not match the encoder's (CRC-32 of q): a corrupted stream, or the decoding contract is broken on this machine`);
  }
  const out = f32 ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (code[i]) out[i] = grid ? gridValueOf(walk.q[i]!, grid, f32) : reconOf(base ? base[i]! : 0, walk.q[i]!, step, f32);
  }
  if (exact) finishChunk(out, null, null, exact, null);
  return finishChunk(out, mask, h.fillValue, fillExc, nonfinite);
}
