/**
 * The cross-field codec (codec id "crossfield", after arXiv 2409.18295). Pure: no Node, no DOM.
 *
 *   anchors (compressed first by the core codec; only their RECONSTRUCTIONS are used, here and in the decoder)
 *     -> backward differences per axis (core/nn buildFeatures) -> CFNN on the reference path (core/nn runReference)
 *     -> quantizeToGrid: predicted target differences on the integer grid of step 2 x bound, per axis
 *   target -> dual quantization (core/codec/dq prequantize) -> hybrid predictor (hybrid.ts: Lorenzo fused with the
 *     cross-field predictions) -> integer residuals -> LinearQuantizer codes/escapes (pushResidual)
 *     -> multi-symbol or binary range coder (whichever is smaller) -> lossless backend (zstd).
 * The bound holds by construction (dual quantization; points where float rounding would break it are escaped and
 * stored exactly), whatever the network predicts: prediction only changes the size.
 *
 * Stream: the core's .fpk format (stream/format.ts) with codec "crossfield". Params: ndim (network dims, the trailing
 * dims of the field), mode, weights, anchors [{var, hash}] (hash = sha256 of the anchor reconstruction, computed by
 * the service), net {hash, inputFill, bytes}. Chunks hold whole samples (rows along dim 0); chunk 0's payload starts
 * with the embedded network (core/nn encodeEmbeddedNetwork), so the model's bytes are inside the compressed size.
 *
 * Chunk payload: u8 flags (1 mask, 2 non-finite list, 4 fill exceptions, 8 network, 16 mask model 2, 32 with 16 model
 *   3) | [varint len + network bytes] | varint n | [mask: model 3 (maskcoder.ts) with flag 32, model 2 with flag 16
 *   alone, else model 1 (range coded)]
 *   | [lists: varint count, (varint delta index, raw value)*]
 *   | [mode 'interp': u8 level-bound tuning | varint len + per-pass models] | u8 entropy coder | codes
 *   | varint escapes | raw escapes. Chunks with nothing masked or non-finite may use the line context (entropy
 *   coder 4): mode 'interp' codes in the interpolation predictors' lines (interpHybridCodeLines), the Lorenzo
 *   hybrids every point in memory order, so in rows of the last dim (rowLines). Header param
 *   maxDims (mode 'interp', absent = 4): the dims interpolated along, leading ones folded, as the core codec's.
 *   Readers before coder 4, flag 16 or maxDims refuse such streams as corrupted; this one reads every earlier stream.
 * Mode 'interp' (the default when it is smaller) predicts by interpolation corrected per pass from the anchors'
 * reconstructions and, when the stream embeds a network, from its predicted differences integrated along each axis;
 * its network is optional (an anchors-only stream carries none).
 */
import { FieldpackError } from '../../errors.ts';
import { type Field, type FieldValues, fieldSize } from '../../field.ts';
import { FIELDPACK_VERSION } from '../../version.ts';
import { ByteReader, ByteWriter } from '../../codec/bytes.ts';
import { crc32 } from '../../codec/crc32.ts';
import { type BoundSpec, type ResolvedBound, resolveBound, validRange } from '../../codec/bound.ts';
import { gridIndex, gridValue, prequantize, pushResidual } from '../../codec/dq.ts';
import {
  eachMaskedRun, finishChunk, maskModelFor, readCodes, readEscapes, readMask, readValueList, scanExceptions, writeCodes, writeEscapes, writeMask, writeValueLists,
} from '../../codec/envelope.ts';
import type { LosslessBackend } from '../../codec/lossless.ts';
import { DEFAULT_RADIUS, LinearQuantizer } from '../../codec/quantizer.ts';
import { GridQuantizer, gridIndicesOf } from '../../codec/grid.ts';
import { scratchTyped } from '../../codec/scratch.ts';
import { type StreamHeader, type StreamMetadata, chunkBytes, chunkPayload, readHeader, writeStream } from '../../codec/stream/format.ts';
import {
  type ClassicPlan, type DecodedChunk, type DecodedField, assembleDecoded, chunkRowsFor, cropBlock, fieldStats, planFromStats, predictorShape, sampleBlockRange,
} from '../classic/codec.ts';
import { predictorByName } from '../../codec/predictors/index.ts';
import { rowLines } from '../../codec/predictors/types.ts';
import { type CodeLines, msCostBytes } from '../../codec/mscoder.ts';
import { INTERP_TUNINGS } from '../../codec/predictors/interp.ts';
import { buildFeatures, type FeatureSpec } from '../../nn/features.ts';
import { runReference } from '../../nn/reference.ts';
import type { NnKernels } from '../../nn/wasm-kernels.ts';
import { quantizeToGrid } from '../../nn/quantize.ts';
import { decodeEmbeddedNetwork, encodeEmbeddedNetwork } from '../../nn/embed.ts';
import type { NnSpec } from '../../nn/spec.ts';
import { type LorenzoFusionMode as LorenzoFusion, type HybridBlock, fitWeights, runHybrid } from './hybrid.ts';
import { ESTIMATE_FIT_POINTS, type InterpSource, decodeInterpHybrid, encodeInterpHybrid, interpHybridCodeLines } from './interp-hybrid.ts';

export const CROSSFIELD_CODEC_ID = 'crossfield';
/**
 * 'weighted' / 'blend' / 'lorenzo': the paper's hybrid around Lorenzo (hybrid.ts, on the dual-quantization grid);
 * 'interp': multilevel cubic interpolation with per-pass fitted cross-field corrections (interp-hybrid.ts).
 */
export type FusionMode = LorenzoFusion | 'interp';
export const FUSION_MODES: readonly FusionMode[] = ['weighted', 'blend', 'lorenzo', 'interp'];

export interface CrossfieldNetwork {
  spec: NnSpec;
  weights: Float32Array;
  /** anchor variables in channel order (each contributes one backward difference per axis) */
  anchors: string[];
  /** the trainer's fill per input channel (channel mean), for invalid points */
  inputFill: number[];
}

export interface AnchorRef {
  var: string;
  /** content hash of the anchor's reconstruction (sha256 hex, from the service) */
  hash: string;
}

export interface AnchorRecon {
  values: ArrayLike<number>;
  mask?: Uint8Array;
}

/**
 * F_MASK2: the mask is coded with model 2 (maskcoder.ts), with F_MASK3 model 3 (as the core codec's); streams before
 * F_MASK2 used model 1, before F_MASK3 model 2 (readers before it refuse it as bad flags)
 */
const F_MASK = 1, F_NONFINITE = 2, F_FILLEXC = 4, F_NET = 8, F_MASK2 = 16, F_MASK3 = 32;

const bad = (msg: string) => new FieldpackError('BAD_STREAM', msg);

/** CFNN inputs: for each anchor (in order), its backward difference along each axis (slowest first). */
export function cfnnInputs(anchors: readonly string[], ndim: number): FeatureSpec[] {
  return anchors.flatMap((v) => Array.from({ length: ndim }, (_, a) => ({ var: v, transform: 'backward-diff' as const, axis: a })));
}

/** Leading dims are samples, the trailing `ndim` dims the network's spatial grid. */
export function layoutOf(shape: readonly number[], ndim: number): { samples: number; spatial: number[]; plane: number } {
  if (ndim !== 2 && ndim !== 3) throw new FieldpackError('INVALID_ARGUMENT', `network dims must be 2 or 3, got ${ndim}`);
  if (shape.length < ndim) throw new FieldpackError('INVALID_ARGUMENT', `a ${ndim}D network needs a field with at least ${ndim} dims, got [${shape.join(', ')}]`);
  const spatial = shape.slice(shape.length - ndim);
  const plane = fieldSize(spatial);
  return { samples: fieldSize(shape) / plane, spatial, plane };
}

/** Output [ndim, ...spatial] of the network -> grid differences per axis, written at `offset` into `out`. */
export function writeGridDiffs(output: Float32Array, ndim: number, plane: number, absBound: number, out: Int32Array[], offset: number): void {
  for (let k = 0; k < ndim; k++) out[k]!.set(quantizeToGrid(output.subarray(k * plane, (k + 1) * plane), absBound), offset);
}

/** values[a, b): a view for typed arrays, a copy otherwise */
function sliceValues(values: ArrayLike<number>, a: number, b: number): ArrayLike<number> {
  const v = values as FieldValues;
  return typeof v.subarray === 'function' ? v.subarray(a, b) : Array.prototype.slice.call(values, a, b);
}

/** Network input for sample s, from the anchor reconstructions only. */
export function sampleInput(net: CrossfieldNetwork, anchors: Record<string, AnchorRecon>, spatial: number[], s: number): Float32Array {
  const plane = fieldSize(spatial);
  const a = s * plane;
  return buildFeatures(cfnnInputs(net.anchors, spatial.length), net.inputFill, spatial, (name) => {
    const r = anchors[name];
    if (!r) return undefined;
    return { values: sliceValues(r.values, a, a + plane), ...(r.mask ? { mask: r.mask.subarray(a, a + plane) } : {}) };
  });
}

/**
 * The predicted target differences on the grid, per axis, over the whole field, in this thread: the reference path,
 * or with `kernels` the WebAssembly fast path (the same bits; decoders check them against the stream's
 * gridDiffsChecksums). The service computes the same integers with worker threads; any split gives the same bits.
 */
export function predictGridDiffs(net: CrossfieldNetwork, anchors: Record<string, AnchorRecon>, shape: readonly number[], absBound: number, kernels: NnKernels | null = null): Int32Array[] {
  const ndim = net.spec.ndim;
  const { samples, spatial, plane } = layoutOf(shape, ndim);
  const out = Array.from({ length: ndim }, () => new Int32Array(samples * plane));
  for (let s = 0; s < samples; s++) {
    const y = runReference(net.spec, net.weights, sampleInput(net, anchors, spatial, s), spatial, { kernels });
    writeGridDiffs(y, ndim, plane, absBound, out, s * plane);
  }
  return out;
}

/** CRC-32 of each axis's predicted grid differences (header param dqCrc): a decoder checks its predictions with them. */
export function gridDiffsChecksums(dq: readonly Int32Array[]): number[] {
  return dq.map((d) => crc32(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
}

/** Weights rounded to half precision (11 significant bits) kept as float32: the embedded network then zstd-packs to about half. */
export function roundWeightsHalf(w: Float32Array): Float32Array {
  const out = Float32Array.from(w);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < u.length; i++) {
    const e = (u[i]! >>> 23) & 0xff;
    if (e === 0 || e >= 0xfe) continue; // zero/subnormal/huge: keep
    u[i] = ((u[i]! + 0x1000) & ~0x1fff) >>> 0;
  }
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i]!)) out[i] = w[i]!;
  return out;
}

export interface CrossfieldEncodeInput {
  field: Pick<Field, 'values' | 'shape' | 'mask'>;
  bound: BoundSpec;
  /** the network (null: mode 'interp' from the anchors alone, nothing embedded) */
  net: CrossfieldNetwork | null;
  /** hash of the embedded network bytes (service: sha256) */
  netHash: string;
  anchors: AnchorRef[];
  /** predicted grid differences per axis over the whole field (predictGridDiffs or the service's pool); [] without a network */
  dq: Int32Array[];
  /** the anchors' reconstructions, in `anchors` order (mode 'interp') */
  anchorRecons?: AnchorRecon[];
  /** level-dependent bounds of mode 'interp' (index into INTERP_TUNINGS; the core codec's choice is a good start) */
  tune?: number;
  /** mode 'interp': interpolate along at most this many dims, the leading ones folded (the core codec's choice); 4 */
  maxDims?: number;
  mode?: FusionMode | 'auto';
  metadata?: StreamMetadata;
  chunkValues?: number;
  /** extra stream params (anchor bounds, training info) */
  extraParams?: Record<string, unknown>;
  /** mode 'auto': estimateModes of this input, when the caller already made them */
  estimates?: Record<string, number>;
}

export interface CrossfieldEncoded {
  bytes: Uint8Array;
  bound: ResolvedBound;
  mode: FusionMode;
  weights: number[];
  /** stored bytes per fusion mode encoded in full */
  sizes: Record<string, number>;
  /** 'auto': estimated code bytes per fusion mode (estimateModes); only those near the smallest were encoded */
  estimates?: Record<string, number>;
  /** the embedded network as stored (its bytes through the backend alone) plus the per-pass models: the model's share */
  modelBytes: number;
  /** bytes of the mask and the exact-value lists (before the lossless stage): what any codec's stream holds too */
  envelopeBytes: number;
  escapes: number;
}

/** A source of mode 'interp' over the whole field; fullAxis: only for passes along that axis of the field. */
export interface FieldSource {
  values: ArrayLike<number>;
  valid: Uint8Array | null;
  fullAxis?: number;
}

/**
 * Sources of mode 'interp' over the whole field: the anchors' reconstructions, then per network axis the predicted
 * differences integrated along that axis (value units; one line at a time, in order: deterministic).
 */
export function interpSources(shape: readonly number[], anchors: AnchorRecon[], dq: Int32Array[], absBound: number): FieldSource[] {
  const out: FieldSource[] = anchors.map((a) => ({ values: a.values, valid: a.mask ?? null }));
  const nd = dq.length;
  const n = fieldSize(shape);
  const twoE = 2 * absBound;
  for (let k = 0; k < nd; k++) {
    const axis = shape.length - nd + k;
    const len = shape[axis]!;
    let inner = 1;
    for (let j = axis + 1; j < shape.length; j++) inner *= shape[j]!;
    const S = new Float64Array(n);
    const d = dq[k]!;
    for (let o = 0; o < n; o += len * inner) {
      for (let i = 0; i < inner; i++) {
        let acc = 0;
        for (let t = 0; t < len; t++) {
          const idx = o + i + t * inner;
          if (t > 0) acc += d[idx]! * twoE;
          S[idx] = acc;
        }
      }
    }
    out.push({ values: S, valid: null, fullAxis: axis });
  }
  return out;
}

/** Axis of the predictor's (squeezed, folded) shape for `fullAxis` of `shape`, or -1 when it has none. */
function predictorAxis(shape: readonly number[], fullAxis: number, maxDims: number): number {
  if (shape[fullAxis] === 1) return -1;
  const kept = shape.map((d, i) => ({ d, i })).filter((x) => x.d !== 1);
  const folds = Math.max(0, kept.length - Math.max(1, Math.min(4, maxDims)));
  const pos = kept.findIndex((x) => x.i === fullAxis);
  // folded leading dims (beyond maxDims) are one axis for the predictor: no integral along it
  return folds > 0 && pos <= folds ? -1 : pos - folds;
}

function chunkSources(sources: FieldSource[], cshape: number[], maxDims: number, a: number, b: number): InterpSource[] {
  const out: InterpSource[] = [];
  for (const src of sources) {
    const axis = src.fullAxis === undefined ? undefined : predictorAxis(cshape, src.fullAxis, maxDims);
    if (axis === -1) continue;
    out.push({
      values: sliceValues(src.values, a, b),
      valid: src.valid ? src.valid.subarray(a, b) : null,
      ...(axis !== undefined ? { axis } : {}),
    });
  }
  return out;
}

interface Prepared {
  f32: boolean;
  n: number;
  skip: Uint8Array;
  hasMask: boolean;
  fillValue: number | null;
  bound: ResolvedBound;
  validMin: number;
  validMax: number;
  /** the field on the dual-quantization grid, made on first use: only the Lorenzo hybrids read it */
  readonly q: Float64Array;
  readonly exact: Uint8Array;
}

function prepare(input: CrossfieldEncodeInput): Prepared {
  const { values, shape } = input.field;
  const n = fieldSize(shape);
  if (values.length !== n) throw new FieldpackError('INVALID_ARGUMENT', `values has ${values.length} elements, shape needs ${n}`);
  let mask = input.field.mask ?? null;
  if (mask && mask.length !== n) throw new FieldpackError('INVALID_ARGUMENT', `mask has ${mask.length} elements, shape needs ${n}`);
  let fillValue: number | null = null;
  if (mask) {
    let any = -1;
    for (let i = 0; i < n; i++) if (mask[i] === 0) { any = i; break; }
    if (any < 0) mask = null;
    else fillValue = values[any]!;
  }
  const vr = validRange(values, mask);
  const bound = resolveBound(input.bound, vr.max - vr.min);
  if (bound.lossless || !(bound.abs > 0)) throw new FieldpackError('UNSUPPORTED', 'the cross-field codec needs a bound > 0 (lossless goes to the core codec)');
  const skip = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if ((mask && mask[i] === 0) || v - v !== 0) skip[i] = 1;
  }
  const f32 = values instanceof Float32Array;
  let pq: ReturnType<typeof prequantize> | null = null;
  const dual = () => (pq ??= prequantize(values as FieldValues, skip, bound.abs, f32));
  return {
    f32, n, skip, hasMask: mask !== null, fillValue, bound, validMin: vr.min, validMax: vr.max,
    get q() { return dual().q; },
    get exact() { return dual().exact; },
  };
}

function encodeChunkPayload(
  p: Prepared, input: CrossfieldEncodeInput, mode: FusionMode, weights: number[], row0: number, rows: number, netBytes: Uint8Array | null, sources: FieldSource[],
): { payload: Uint8Array; escapes: number; modelBytes: number; envelopeBytes: number } {
  const { shape, values } = input.field;
  const rowSize = fieldSize(shape) / shape[0]!;
  const a = row0 * rowSize;
  const b = (row0 + rows) * rowSize;
  const n = b - a;
  const cshape = [rows, ...shape.slice(1)];
  const mask = p.hasMask ? input.field.mask!.subarray(a, b) : null;
  const { nonfinite, fillExc } = scanExceptions(values.subarray(a, b) as FieldValues, mask, p.fillValue);
  const w = new ByteWriter(Math.max(1024, n >>> 1));
  w.u8((mask ? F_MASK | F_MASK2 | (maskModelFor(cshape) === 3 ? F_MASK3 : 0) : 0) | (nonfinite.length ? F_NONFINITE : 0) | (fillExc.length ? F_FILLEXC : 0) | (netBytes ? F_NET : 0));
  if (netBytes) {
    w.varint(netBytes.length);
    w.bytes(netBytes);
  }
  w.varint(n);
  const envelopeStart = w.pos;
  if (mask) writeMask(w, mask, cshape, maskModelFor(cshape));
  writeValueLists(w, [nonfinite, fillExc], values, p.f32, a);
  const envelopeBytes = w.pos - envelopeStart;
  let nValid = 0;
  for (let i = a; i < b; i++) if (!p.skip[i]) nValid++;
  const qz = new LinearQuantizer(p.bound.abs, p.f32, 0, DEFAULT_RADIUS);
  // the thread's codes memory, as the classic codec's chunks (written out below before anything else runs)
  qz.codes = scratchTyped('codes', Uint32Array, Math.max(1, nValid));
  let modelBytes = 0;
  let lines: CodeLines | null = null;
  if (mode === 'interp') {
    const tune = input.tune ?? 0;
    const models = new ByteWriter(256);
    const maxDims = input.maxDims ?? 4;
    const pshape = predictorShape(cshape, maxDims);
    encodeInterpHybrid(values.subarray(a, b) as FieldValues, p.skip.subarray(a, b), pshape, qz, tune, chunkSources(sources, cshape, maxDims, a, b), models);
    const mb = models.finish();
    modelBytes = mb.length;
    w.u8(tune);
    w.block(mb);
    if (nValid === n) lines = interpHybridCodeLines(pshape);
  } else {
    encodeLorenzoHybrid(p, input, mode, weights, a, b, qz);
    // the Lorenzo hybrids code every point in memory order: rows of the last dim are its lines
    if (nValid === n) lines = rowLines(cshape);
  }
  writeCodes(w, qz, { entropy: 'range', bareCount: false, largeBinaryTry: false, lines }, (cap) => new ByteWriter(cap));
  writeEscapes(w, qz, p.f32);
  return { payload: w.finish(), escapes: qz.nEscapes, modelBytes, envelopeBytes };
}

/** The paper's hybrid around Lorenzo, on the dual-quantization grid, sample by sample. */
function encodeLorenzoHybrid(p: Prepared, input: CrossfieldEncodeInput, mode: FusionMode, weights: number[], a: number, b: number, qz: LinearQuantizer): void {
  const { shape, values } = input.field;
  const ndim = input.net!.spec.ndim;
  const { plane } = layoutOf(shape, ndim);
  const spatial = shape.slice(shape.length - ndim);
  for (let s0 = a; s0 < b; s0 += plane) {
    const block: HybridBlock = { spatial, valid: invert(p.skip.subarray(s0, s0 + plane)), dq: input.dq.map((d) => d.subarray(s0, s0 + plane)) };
    const qs = new Float64Array(plane);
    const qt = p.q.subarray(s0, s0 + plane);
    const ex = p.exact.subarray(s0, s0 + plane);
    runHybrid(block, { mode: mode as LorenzoFusion, weights }, qs, (i, pred) => {
      const qi = qt[i]!;
      pushResidual(qz, qi - pred, ex[i] === 1, values[s0 + i]!);
      return qi;
    });
  }
}

/** The field's network samples as blocks of the Lorenzo hybrid, with their true grid indices (for fitWeights). */
function hybridBlocks(p: Prepared, input: CrossfieldEncodeInput): { block: HybridBlock; q: Float64Array }[] {
  const { samples, spatial, plane } = layoutOf(input.field.shape, input.net!.spec.ndim);
  return Array.from({ length: samples }, (_, s) => {
    const a = s * plane;
    return { block: { spatial, valid: invert(p.skip.subarray(a, a + plane)), dq: input.dq.map((d) => d.subarray(a, a + plane)) }, q: p.q.subarray(a, a + plane) };
  });
}

function invert(skip: Uint8Array): Uint8Array {
  const v = new Uint8Array(skip.length);
  for (let i = 0; i < skip.length; i++) v[i] = skip[i] ? 0 : 1;
  return v;
}

function chunkRowsOf(shape: readonly number[], ndim: number, chunkValues?: number): number[] {
  return shape.length > ndim ? chunkRowsFor([...shape], chunkValues) : [shape[0]!];
}

export function encodeCrossfield(input: CrossfieldEncodeInput, backend: LosslessBackend): CrossfieldEncoded {
  const { shape } = input.field;
  const net = input.net;
  const ndim = net ? net.spec.ndim : 0;
  if (net) {
    const { samples, plane } = layoutOf(shape, ndim);
    if (input.dq.length !== ndim || input.dq.some((d) => d.length !== samples * plane)) {
      throw new FieldpackError('INVALID_ARGUMENT', 'predicted differences do not match the field and the network');
    }
    if (net.spec.inChannels !== net.anchors.length * ndim || net.spec.outChannels !== ndim) {
      throw new FieldpackError('INVALID_ARGUMENT', `network has ${net.spec.inChannels} inputs / ${net.spec.outChannels} outputs; ${net.anchors.length} anchors in ${ndim}D need ${net.anchors.length * ndim} / ${ndim}`);
    }
  }
  const recons = input.anchorRecons;
  if (recons && (recons.length !== input.anchors.length || recons.some((r) => r.values.length !== fieldSize(shape)))) {
    throw new FieldpackError('INVALID_ARGUMENT', 'anchor reconstructions do not match the anchors and the field');
  }
  let modes = fusionModesOf(input);
  const p = prepare(input);
  const netBytes = net ? encodeEmbeddedNetwork(net.spec, net.weights) : null;
  const netStored = storedNetworkBytes(netBytes, backend);
  // 'auto': size every mode on a sample first, encode in full only those that may win
  const estimates = modes.length > 1 ? (input.estimates ?? estimateModes(input, modes, p.bound.abs)) : null;
  if (estimates) {
    const least = Math.min(...modes.map((m) => estimates[m]!));
    modes = modes.filter((m) => !(estimates[m]! > least * (1 + ESTIMATE_MARGIN)));
  }
  let fitted: number[] = [];
  if (net && modes.some((m) => m !== 'interp')) {
    fitted = fitWeights(hybridBlocks(p, input));
  }
  const sources = modes.includes('interp') ? interpSources(shape, recons!, input.dq, p.bound.abs) : [];
  const sizes: Record<string, number> = {};
  type Stored = { stored: Uint8Array; raw: boolean; rawBytes: number; crc: number };
  let best: { stored: Stored[]; total: number; mode: FusionMode; escapes: number; chunkRows: number[]; passModelBytes: number; envelopeBytes: number } | null = null;
  for (const mode of modes) {
    // the Lorenzo hybrid needs whole network samples per chunk; interpolation chunks like the core codec
    const chunkRows = mode === 'interp' ? chunkRowsFor([...shape], input.chunkValues) : chunkRowsOf(shape, ndim, input.chunkValues);
    const stored: Stored[] = [];
    let total = 0;
    let escapes = 0;
    let passModelBytes = 0;
    let envelopeBytes = 0;
    let row0 = 0;
    chunkRows.forEach((rows, ci) => {
      const r = encodeChunkPayload(p, input, mode, fitted, row0, rows, ci === 0 ? netBytes : null, sources);
      escapes += r.escapes;
      passModelBytes += r.modelBytes;
      envelopeBytes += r.envelopeBytes;
      row0 += rows;
      const packed = backend.compress(r.payload);
      const raw = packed.length >= r.payload.length;
      const st = raw ? r.payload : packed;
      stored.push({ stored: st, raw, rawBytes: r.payload.length, crc: crc32(st) });
      total += st.length;
    });
    sizes[mode] = total;
    if (!best || total < best.total) best = { stored, total, mode, escapes, chunkRows, passModelBytes, envelopeBytes };
  }
  const chosen = best!;
  if (netBytes && netBytes.length > maxNetworkBytes(chosen.stored[0]!.stored.length)) {
    throw new FieldpackError('INVALID_ARGUMENT', `the network's ${netBytes.length} bytes pack to less than 1/${MAX_NETWORK_PACKING} (mostly zero weights?): decoders would refuse the stream`);
  }
  const params: Record<string, unknown> = {
    ...(net ? { ndim } : {}),
    mode: chosen.mode,
    ...(chosen.mode === 'interp' && (input.maxDims ?? 4) !== 4 ? { maxDims: input.maxDims } : {}),
    ...(chosen.mode === 'weighted' ? { weights: fitted } : {}),
    anchors: input.anchors.map((a) => ({ var: a.var, hash: a.hash })),
    ...(net ? { net: { hash: input.netHash, inputFill: net.inputFill.map((x) => Math.fround(x)) } } : {}),
    ...(input.extraParams ?? {}),
  };
  const bytes = writeStream(
    {
      codec: CROSSFIELD_CODEC_ID,
      fieldpackVersion: FIELDPACK_VERSION,
      dtype: p.f32 ? 'float32' : 'float64',
      shape: [...shape],
      bound: { mode: p.bound.mode, value: p.bound.value, abs: p.bound.abs, lossless: false },
      validMin: p.validMin,
      validMax: p.validMax,
      backendId: backend.id,
      hasMask: p.hasMask,
      fillValue: p.fillValue,
      params,
      metadata: input.metadata ?? {},
      chunks: chosen.stored.map((c, i) => ({ rows: chosen.chunkRows[i]!, storedBytes: c.stored.length, rawBytes: c.rawBytes, crc: c.crc, ...(c.raw ? { raw: true } : {}) })),
    },
    chosen.stored.map((c) => c.stored),
  );
  return {
    bytes, bound: p.bound, mode: chosen.mode, weights: fitted, sizes, ...(estimates ? { estimates } : {}), modelBytes: netStored + chosen.passModelBytes,
    envelopeBytes: chosen.envelopeBytes, escapes: chosen.escapes,
  };
}

/** Bytes an embedded network (encodeEmbeddedNetwork) takes in chunk 0 after the lossless stage; 0 without one. */
export function storedNetworkBytes(netBytes: Uint8Array | null, backend: LosslessBackend): number {
  return netBytes ? Math.min(netBytes.length, backend.compress(netBytes).length) : 0;
}

/** The fusion modes an input asks for ('auto': the Lorenzo hybrids with a network, interpolation with reconstructions). */
export function fusionModesOf(input: CrossfieldEncodeInput): FusionMode[] {
  const { net, anchorRecons: recons } = input;
  const modes: FusionMode[] = input.mode && input.mode !== 'auto' ? [input.mode] : [...(net ? (['weighted', 'blend'] as const) : []), ...(recons ? (['interp'] as const) : [])];
  for (const m of modes) {
    if (m === 'interp' ? !recons : !net) throw new FieldpackError('INVALID_ARGUMENT', m === 'interp' ? 'fusion mode interp needs the anchors\' reconstructions' : `fusion mode ${m} needs a network`);
  }
  return modes;
}

/** Values of the sample (estimationBlock) on which each fusion mode is sized before the encoder picks one. */
export const ESTIMATE_VALUES = 1 << 15;
/**
 * Modes (and the service's networks) estimated within this fraction of the smallest are encoded in full too: the
 * estimates ranked every mode as the full encodes did on COADS and WRF, with gaps within 1 % of the full ones.
 */
export const ESTIMATE_MARGIN = 0.02;

const typed = (v: ArrayLike<number>): FieldValues => (v instanceof Float32Array || v instanceof Float64Array ? v : Float64Array.from(v));

/**
 * The estimation block: the block of about ESTIMATE_VALUES values the classic codec's auto plans on (sampleBlockRange:
 * centred, short dims whole), the whole field when it is not much larger.
 */
export function estimationBlock(shape: readonly number[]): { start: number[]; size: number[] } {
  return sampleBlockRange([...shape], ESTIMATE_VALUES) ?? { start: shape.map(() => 0), size: [...shape] };
}

/** An estimation block (start and size per dim) */
export type EstimationBlock = { start: number[]; size: number[] };

/**
 * A second, smaller block away from the centre (a quarter of ESTIMATE_VALUES, centred a quarter of the way along each
 * dim): where the first block is not like the rest of the field, the service asks it before dropping a candidate.
 * Null where the first block is the whole field.
 */
export function secondEstimationBlock(shape: readonly number[]): EstimationBlock | null {
  if (!sampleBlockRange([...shape], ESTIMATE_VALUES)) return null;
  const size = (sampleBlockRange([...shape], ESTIMATE_VALUES / 4) ?? estimationBlock(shape)).size;
  return { start: shape.map((d, i) => Math.max(0, Math.min(d - size[i]!, Math.floor(d / 4 - size[i]! / 2)))), size };
}

/** The field's estimation block (copied, `crop` for the anchors' and the network's arrays) and its valid points' scale to the field's. */
export type EstimationSample = ReturnType<typeof estimationSample>;

/** The estimation sample of a field (by default estimationBlock), made once for every estimate of it (estimateCore, estimateModes). */
export function estimationSample(field: CrossfieldEncodeInput['field'], block: EstimationBlock = estimationBlock(field.shape), validCount?: number) {
  const { shape, values, mask } = field;
  const crop = (v: ArrayLike<number>, m?: Uint8Array | null) => cropBlock(typed(v), m ?? null, [...shape], block.start, block.size);
  const target = crop(values, mask);
  const sampleValid = countValid(target.values, target.mask);
  // the whole field's count: the caller's validRange(values, mask).count where it has one (the same points)
  const valid = validCount ?? countValid(values, mask);
  return { shape: block.size, crop, target, scale: sampleValid > 0 ? valid / sampleValid : 1 };
}

/** The points not masked out (mask 0) and finite. */
function countValid(v: ArrayLike<number>, m: Uint8Array | null | undefined): number {
  let c = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if ((!m || m[i] !== 0) && x - x === 0) c++;
  }
  return c;
}

/** The estimation block and, per network sample, the box sampleGridDiffs runs the network on. */
function sampleBoxes(net: CrossfieldNetwork, shape: readonly number[], block: EstimationBlock = estimationBlock(shape)) {
  const ndim = net.spec.ndim;
  const { spatial } = layoutOf(shape, ndim);
  const lead = shape.length - ndim;
  const margin = net.spec.receptiveRadius + 1;
  const inner = block.start.slice(lead);
  const innerSize = block.size.slice(lead);
  const boxStart = inner.map((s) => Math.max(0, s - margin));
  const boxSize = inner.map((s, d) => Math.min(spatial[d]!, s + innerSize[d]! + margin) - boxStart[d]!);
  return { block, lead, inner, innerSize, boxStart, boxSize };
}

/** The share of the field's points sampleGridDiffs runs the network on (its boxes overlap the field's edges less in 2D). */
export function sampleInferenceShare(net: CrossfieldNetwork, shape: readonly number[]): number {
  const { block, lead, boxSize } = sampleBoxes(net, shape);
  return (fieldSize(block.size.slice(0, lead)) * fieldSize(boxSize)) / fieldSize(shape);
}

/**
 * The network's grid differences over the estimation sample alone (estimateModes' sampleDq; `at`: another block than
 * the central one), the bits predictGridDiffs gives there: per network sample, the block's box with a margin of the receptive radius plus one (the backward
 * differences) runs on the reference path and its inner part is kept; what the margin cuts off never reaches it.
 */
export function sampleGridDiffs(net: CrossfieldNetwork, anchors: Record<string, AnchorRecon>, shape: readonly number[], absBound: number, kernels: NnKernels | null = null, at?: EstimationBlock): Int32Array[] {
  const ndim = net.spec.ndim;
  const { spatial, plane } = layoutOf(shape, ndim);
  const { block, lead, inner, innerSize, boxStart, boxSize } = sampleBoxes(net, shape, at);
  const innerInBox = inner.map((s, d) => s - boxStart[d]!);
  const boxPlane = fieldSize(boxSize);
  const innerPlane = fieldSize(innerSize);
  const leadSize = block.size.slice(0, lead);
  const samples = fieldSize(leadSize);
  const out = Array.from({ length: ndim }, () => new Int32Array(samples * innerPlane));
  const features = cfnnInputs(net.anchors, ndim);
  for (let j = 0; j < samples; j++) {
    // the network sample (index over the field's leading dims) of the block's j-th one
    let s = 0;
    for (let d = 0, rest = j; d < lead; d++) {
      const below = fieldSize(leadSize.slice(d + 1));
      const c = Math.floor(rest / below);
      rest -= c * below;
      s = s * shape[d]! + block.start[d]! + c;
    }
    const a = s * plane;
    const input = buildFeatures(features, net.inputFill, boxSize, (name) => {
      const r = anchors[name];
      if (!r) return undefined;
      const c = cropBlock(typed(sliceValues(r.values, a, a + plane)), r.mask ? r.mask.subarray(a, a + plane) : null, spatial, boxStart, boxSize);
      return { values: c.values, ...(c.mask ? { mask: c.mask } : {}) };
    });
    const y = runReference(net.spec, net.weights, input, boxSize, { kernels });
    for (let k = 0; k < ndim; k++) {
      const core = cropBlock(y.subarray(k * boxPlane, (k + 1) * boxPlane), null, boxSize, innerInBox, innerSize).values;
      out[k]!.set(quantizeToGrid(core, absBound), j * innerPlane);
    }
  }
  return out;
}

/**
 * Stored bytes of the field's codes per fusion mode, estimated on the estimation sample: each mode predicts and
 * quantizes the block as the encoder would, its codes are sized by the multi-symbol coder's model cost and scaled to
 * the field's valid points; the per-pass models of mode 'interp' are added. What every mode shares (mask, value
 * lists, the network) is left out.
 */
export function estimateModes(input: CrossfieldEncodeInput, modes: readonly FusionMode[], absBound: number, sampleDq?: Int32Array[], sample = estimationSample(input.field)): Record<string, number> {
  const { crop, target: t, shape: cshape, scale } = sample;
  const dq = sampleDq ?? input.dq.map((d) => Int32Array.from(crop(d).values));
  const recons = input.anchorRecons?.map((r) => {
    const c = crop(r.values, r.mask);
    return { values: c.values, ...(c.mask ? { mask: c.mask } : {}) };
  });
  const sub: CrossfieldEncodeInput = { ...input, field: { values: t.values, shape: cshape, ...(t.mask ? { mask: t.mask } : {}) }, bound: { mode: 'abs', value: absBound }, dq, anchorRecons: recons };
  const p = prepare(sub);
  const n = p.n;
  let nValid = 0;
  for (let i = 0; i < n; i++) if (!p.skip[i]) nValid++;
  const weights = modes.includes('weighted') ? fitWeights(hybridBlocks(p, sub)) : [];
  const sources = modes.includes('interp') ? chunkSources(interpSources(cshape, recons!, dq, absBound), cshape, input.maxDims ?? 4, 0, n) : [];
  const out: Record<string, number> = {};
  for (const mode of modes) {
    const qz = new LinearQuantizer(absBound, p.f32, 0, DEFAULT_RADIUS);
    qz.codes = scratchTyped('codes', Uint32Array, Math.max(1, nValid));
    let fixed = 0;
    if (mode === 'interp') {
      const models = new ByteWriter(256);
      encodeInterpHybrid(t.values, p.skip, predictorShape(cshape, input.maxDims), qz, input.tune ?? 0, sources, models, undefined, true, ESTIMATE_FIT_POINTS);
      fixed = models.pos;
    } else encodeLorenzoHybrid(p, sub, mode, weights, 0, n, qz);
    out[mode] = Math.round((msCostBytes(qz.codes, qz.nCodes, qz.radius) + qz.nEscapes * (p.f32 ? 4 : 8)) * scale + fixed);
  }
  return out;
}

/**
 * The core codec planned on the estimation sample (its predictor, and the tuning mode 'interp' starts from) and its
 * codes' bytes estimated exactly as estimateModes sizes the hybrids', so the two compare like for like (on a grid:
 * the grid indices' codes, their escapes and the values off the grid, stored exactly); bytes null where the plan
 * codes an implicit fill or losslessly (then only the core codec's stream can say).
 */
export function estimateCore(field: CrossfieldEncodeInput['field'], bound: BoundSpec, backend: LosslessBackend, sample = estimationSample(field)): { plan: ClassicPlan; bytes: number | null } {
  const { values, mask } = field;
  const { target: t, shape: cshape, scale } = sample;
  const f32 = values instanceof Float32Array;
  const plan = planFromStats(fieldStats(typed(values), mask), [...field.shape], f32 ? 'float32' : 'float64', () => t, { bound, predictor: 'auto', entropy: 'range' }, backend);
  if (plan.bound.lossless || plan.implicitFill) return { plan, bytes: null };
  const { skip } = scanExceptions(t.values, t.mask, plan.fillValue);
  const onGrid = plan.grid ? gridIndicesOf(t.values, skip ? skip.slice() : null, cshape, plan.grid, f32) : null;
  const qz = plan.grid ? new GridQuantizer(plan.grid.half, 0, plan.radius) : new LinearQuantizer(plan.bound.abs, f32, 0, plan.radius);
  qz.codes = scratchTyped('codes', Uint32Array, Math.max(1, t.values.length));
  const tune = plan.predictor.startsWith('interp') ? (plan.tune ?? 0) : 0;
  predictorByName(plan.predictor).encode(onGrid ? onGrid.k : t.values, onGrid ? onGrid.skip : skip, predictorShape(cshape, plan.maxDims), qz, tune);
  // a grid's escapes store the index as a float64 (GridQuantizer), its points off the grid their values
  const exactBytes = onGrid ? qz.nEscapes * 8 + onGrid.offGrid.length * (f32 ? 4 : 8) : qz.nEscapes * (f32 ? 4 : 8);
  return { plan, bytes: Math.round((msCostBytes(qz.codes, qz.nCodes, qz.radius) + exactBytes) * scale) };
}

// ---------------------------------------------------------------- decoding

export interface CrossfieldStreamInfo {
  header: StreamHeader;
  /** the network's dims (0 without a network) */
  ndim: number;
  mode: FusionMode;
  weights: number[];
  anchors: AnchorRef[];
  netHash: string;
  /** null: an anchors-only 'interp' stream */
  net: CrossfieldNetwork | null;
  /** the embedded network's bytes (for the service to hash) */
  netBytes: Uint8Array | null;
  /** mode 'interp': dims interpolated along (header param maxDims; streams before it: 4) */
  maxDims: number;
}

function storedChunkPayload(h: StreamHeader, bytes: Uint8Array, i: number): Uint8Array {
  return chunkPayload(h, i, chunkBytes(h, bytes, i));
}

/**
 * An embedded network is stored in chunk 0 through the lossless stage: float32 weights pack to 1/1.1 .. 1/4 there,
 * so a network can be at most this many times chunk 0's stored bytes (plus 64 KiB). Inference costs up to one
 * multiply-add per weight and point: this keeps that work proportional to the bytes actually in the stream (a 6 KB
 * stream cannot declare 16 million zero weights).
 */
export const MAX_NETWORK_PACKING = 64;

export function maxNetworkBytes(chunk0Stored: number): number {
  return MAX_NETWORK_PACKING * chunk0Stored + 65536;
}

/** Most anchors a stream may name (each is a network input per axis and a source of every interpolation pass). */
export const MAX_ANCHORS = 64;

/** The anchors a cross-field header names, checked: 1..MAX_ANCHORS of {var, hash}, distinct non-empty names. */
export function crossfieldAnchors(params: Record<string, unknown>): AnchorRef[] {
  const a = params.anchors;
  if (!Array.isArray(a) || a.length < 1 || a.length > MAX_ANCHORS) {
    throw bad(`corrupted header: the cross-field stream's anchors list (${Array.isArray(a) ? `${a.length} entries` : typeof a}; 1..${MAX_ANCHORS} needed)`);
  }
  const out = a.map((x: unknown, i) => {
    const e = x as Record<string, unknown> | null;
    if (!e || typeof e !== 'object' || typeof e.var !== 'string' || !e.var || typeof e.hash !== 'string') {
      throw bad(`corrupted header: cross-field anchor ${i} is not {var, hash}`);
    }
    return { var: e.var, hash: e.hash };
  });
  if (new Set(out.map((x) => x.var)).size !== out.length) throw bad('corrupted header: the cross-field anchors list names a variable twice');
  return out;
}

/** Header, parameters and the embedded network of a cross-field stream, every field range-checked (BAD_STREAM). */
export function readCrossfieldStream(bytes: Uint8Array): CrossfieldStreamInfo {
  const h = readHeader(bytes);
  if (h.codec !== CROSSFIELD_CODEC_ID) throw new FieldpackError('UNSUPPORTED', `codec "${h.codec}" is not the cross-field codec`);
  if (h.bound.lossless) throw bad('corrupted header: a cross-field stream with absolute bound 0 (the codec is never lossless)');
  const pr = h.params as Record<string, unknown>;
  const mode = pr.mode as FusionMode;
  if (!FUSION_MODES.includes(mode)) throw bad(`corrupted header: unknown fusion mode ${JSON.stringify(pr.mode)}`);
  const anchors = crossfieldAnchors(pr);
  const maxDims = pr.maxDims === undefined ? 4 : pr.maxDims;
  if (typeof maxDims !== 'number' || !Number.isInteger(maxDims) || maxDims < 1 || maxDims > 4) throw bad(`corrupted header: cross-field maxDims ${JSON.stringify(pr.maxDims)} (1 to 4)`);
  if (pr.net !== undefined && (typeof pr.net !== 'object' || pr.net === null || Array.isArray(pr.net))) throw bad('corrupted header: cross-field net is not an object');
  const netp = (pr.net ?? {}) as { hash?: unknown; inputFill?: unknown };
  const payload = storedChunkPayload(h, bytes, 0);
  const r = new ByteReader(payload, 'chunk 0');
  const flags = r.u8('chunk flags');
  if (!(flags & F_NET)) {
    if (mode !== 'interp' || pr.net !== undefined) throw bad('corrupted stream: chunk 0 holds no network');
    return { header: h, ndim: 0, mode, weights: [], anchors, netHash: '', net: null, netBytes: null, maxDims };
  }
  const ndim = pr.ndim;
  if (ndim !== 2 && ndim !== 3) throw bad(`corrupted header: cross-field ndim ${JSON.stringify(ndim)} (2 or 3)`);
  if (h.shape.length < ndim) throw bad(`corrupted header: a ${ndim}D network on a field of shape [${h.shape.join(', ')}]`);
  if (pr.net === undefined) throw bad('corrupted header: chunk 0 holds a network the header does not describe (net)');
  if (netp.hash !== undefined && typeof netp.hash !== 'string') throw bad('corrupted header: cross-field net hash');
  let weights: number[] = [];
  if (mode === 'weighted') {
    const w = pr.weights;
    if (!Array.isArray(w) || w.length !== ndim + 1 || !w.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw bad(`corrupted header: cross-field weights (${ndim + 1} finite numbers for a ${ndim}D network)`);
    }
    weights = w as number[];
  }
  if (mode !== 'interp') {
    // the Lorenzo hybrid decodes whole network samples per chunk
    const plane = fieldSize(h.shape.slice(h.shape.length - ndim));
    const rowSize = fieldSize(h.shape) / h.shape[0]!;
    h.chunks.forEach((c, i) => {
      if ((c.rows * rowSize) % plane !== 0) throw bad(`corrupted header: chunk ${i} (${c.rows} rows) does not hold whole ${ndim}D samples`);
    });
  }
  const len = r.varint('network length');
  if (len > maxNetworkBytes(h.chunks[0]!.storedBytes)) {
    throw bad(`corrupted stream: a ${len}-byte network in a chunk 0 of ${h.chunks[0]!.storedBytes} stored bytes (at most ${MAX_NETWORK_PACKING}:1)`);
  }
  const netBytes = r.bytes(len, 'network').slice();
  const { spec, weights: netWeights } = decodeEmbeddedNetwork(netBytes);
  if (spec.ndim !== ndim || spec.inChannels !== anchors.length * ndim || spec.outChannels !== ndim) {
    throw bad(`corrupted stream: the embedded network (${spec.ndim}D, ${spec.inChannels} inputs, ${spec.outChannels} outputs) does not fit ${anchors.length} anchors in ${ndim}D`);
  }
  const fill = netp.inputFill;
  if (!Array.isArray(fill) || fill.length !== spec.inChannels || !fill.every((x) => x === null || (typeof x === 'number' && Number.isFinite(x)))) {
    throw bad(`corrupted header: cross-field net inputFill (${spec.inChannels} numbers)`);
  }
  return {
    header: h, ndim, mode, weights, anchors, netHash: String(netp.hash ?? ''), netBytes, maxDims,
    net: { spec, weights: netWeights, anchors: anchors.map((a) => a.var), inputFill: (fill as (number | null)[]).map((x) => x ?? 0) },
  };
}

/**
 * Decodes chunk i given the predicted grid differences over the whole field ([] without a network) and, for mode
 * 'interp', its sources (interpSources of the anchors' reconstructions and dq).
 */
export function decodeCrossfieldChunk(info: CrossfieldStreamInfo, bytes: Uint8Array, i: number, dq: Int32Array[], sources: FieldSource[] = []): DecodedChunk {
  const h = info.header;
  const c = h.chunks[i]!;
  const payload = storedChunkPayload(h, bytes, i);
  const what = `chunk ${i}`;
  const r = new ByteReader(payload, what);
  const shape = [c.rows, ...h.shape.slice(1)];
  const rowSize = fieldSize(h.shape) / h.shape[0]!;
  const a = c.row0 * rowSize;
  const n = fieldSize(shape);
  const f32 = h.dtype === 'float32';
  const flags = r.u8('chunk flags');
  if (flags > 63 || (flags & F_NET && i !== 0) || (flags & F_MASK2 && !(flags & F_MASK)) || (flags & F_MASK3 && !(flags & F_MASK2))) throw bad(`corrupted stream: bad flags ${flags} in ${what}`);
  if (flags & F_NET) r.bytes(r.varint('network length'), 'network');
  const nn = r.varint('value count');
  if (nn !== n) throw bad(`corrupted stream: ${what} holds ${nn} values, its rows need ${n}`);
  let mask: Uint8Array | null = null;
  const skip = new Uint8Array(n);
  if (flags & F_MASK) {
    mask = readMask(r, shape, n, flags & F_MASK3 ? 3 : flags & F_MASK2 ? 2 : 1);
    eachMaskedRun(mask, (start, end) => skip.fill(1, start, end));
  }
  const nonfinite = flags & F_NONFINITE ? readValueList(r, n, f32, 'non-finite values', what) : null;
  const fillExc = flags & F_FILLEXC ? readValueList(r, n, f32, 'fill exceptions', what) : null;
  if (nonfinite) for (const k of nonfinite.idx) skip[k] = 1;
  let nValid = 0;
  for (let k = 0; k < n; k++) if (!skip[k]) nValid++;
  let tune = 0;
  let models: Uint8Array | null = null;
  if (info.mode === 'interp') {
    tune = r.u8('level-bound tuning');
    if (tune >= INTERP_TUNINGS.length) throw bad(`corrupted stream: unknown level-bound tuning ${tune} in ${what}`);
    models = r.block('pass models');
  }
  const lines = () => (nValid !== n ? null : info.mode === 'interp' ? interpHybridCodeLines(predictorShape(shape, info.maxDims)) : rowLines(shape));
  const codes = readCodes(r, DEFAULT_RADIUS, nValid, what, { huffman: false, ms: true, bareCount: false, lines }, scratchTyped('codes', Uint32Array, nValid));
  const esc = readEscapes(r, codes, f32, what);
  const nEsc = esc.length;
  if (r.remaining() !== 0) throw bad(`corrupted stream: ${r.remaining()} unexpected bytes at the end of ${what}`);
  const out = f32 ? new Float32Array(n) : new Float64Array(n);
  const e = h.bound.abs;
  if (models) {
    const qz = new LinearQuantizer(e, f32, 0, DEFAULT_RADIUS);
    qz.load(codes, codes.length, esc, nEsc);
    const mr = new ByteReader(models, `pass models of ${what}`);
    decodeInterpHybrid(out, skip, predictorShape(shape, info.maxDims), qz, tune, chunkSources(sources, shape, info.maxDims, a, a + n), mr);
    if (mr.remaining() !== 0) throw bad(`corrupted stream: ${mr.remaining()} unexpected bytes after the pass models of ${what}`);
    return finishChunk(out, mask, h.fillValue, fillExc, nonfinite);
  }
  const twoE = 2 * e;
  const inv = 1 / twoE;
  const ndim = info.ndim;
  const spatial = h.shape.slice(h.shape.length - ndim);
  const plane = fieldSize(spatial);
  let pos = 0;
  let ep = 0;
  for (let s0 = 0; s0 < n; s0 += plane) {
    const block: HybridBlock = { spatial, valid: invert(skip.subarray(s0, s0 + plane)), dq: dq.map((d) => d.subarray(a + s0, a + s0 + plane)) };
    const qs = new Float64Array(plane);
    runHybrid(block, { mode: info.mode as LorenzoFusion, weights: info.weights }, qs, (i, pred) => {
      const code = codes[pos++]!;
      if (code === 0) {
        const x = esc[ep++]!;
        out[s0 + i] = x;
        return gridIndex(x, inv);
      }
      const qi = pred + (code - DEFAULT_RADIUS);
      out[s0 + i] = gridValue(qi, twoE, f32);
      return qi;
    });
  }
  return finishChunk(out, mask, h.fillValue, fillExc, nonfinite);
}

/**
 * Decodes the whole field given the predicted grid differences (predictGridDiffs on the anchors' reconstructions;
 * [] without a network) and the anchors' reconstructions in the stream's order (needed by mode 'interp').
 */
export function decodeCrossfield(info: CrossfieldStreamInfo, bytes: Uint8Array, dq: Int32Array[], anchorRecons: AnchorRecon[] = []): DecodedField {
  const h = info.header;
  if (bytes.length > h.totalBytes) throw bad(`corrupted stream: ${bytes.length - h.totalBytes} unexpected bytes after the last chunk`);
  if (info.mode === 'interp' && anchorRecons.length !== info.anchors.length) throw new FieldpackError('INVALID_ARGUMENT', `this stream needs the reconstructions of ${info.anchors.map((a) => a.var).join(', ')}`);
  checkAnchorsFit(h, info.anchors, anchorRecons);
  if (dq.length !== info.ndim || dq.some((d) => d.length !== fieldSize(h.shape))) throw new FieldpackError('INVALID_ARGUMENT', 'predicted differences do not match the stream\'s field and network');
  const sources = info.mode === 'interp' ? interpSources(h.shape, anchorRecons, dq, h.bound.abs) : [];
  const ids = h.chunks.map((_, i) => i);
  const decoded = ids.map((i) => decodeCrossfieldChunk(info, bytes, i, dq, sources));
  return assembleDecoded(h, ids, decoded, 0, h.shape[0]!);
}

/**
 * The anchors' reconstructions must lie on the stream's grid. The codec service's resolution checks this by content
 * hash; reconstructions handed over already resolved that do not fit mean the header's shape is not the one its
 * dependencies were written with.
 */
export function checkAnchorsFit(h: StreamHeader, anchors: readonly AnchorRef[], recons: readonly AnchorRecon[]): void {
  const n = fieldSize(h.shape);
  recons.forEach((r, i) => {
    if (r.values.length !== n || (r.mask && r.mask.length !== n)) {
      throw bad(`corrupted stream: the header's shape [${h.shape.join(', ')}] (${n} values) does not fit anchor ${anchors[i]?.var ?? i} (${r.values.length} values)`);
    }
  });
}
