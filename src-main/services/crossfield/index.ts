/**
 * The cross-field compression service: anchors through the core codec first, CFNN trained on the fly (online) or
 * given (reused), the target through the cross-field codec (core/compressors/crossfield), the bound verified point
 * by point, and a fall back to the core codec when the hybrid does not pay. Decompression checks that the anchors
 * given are the ones the stream names (variable + content hash of their reconstructions) before predicting.
 */
import { createHash } from 'node:crypto';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import type { BoundSpec } from '../../core/codec/bound.ts';
import {
  type AnchorRecon,
  type CrossfieldNetwork,
  type CrossfieldStreamInfo,
  type FusionMode,
  CROSSFIELD_CODEC_ID,
  decodeCrossfield,
  encodeCrossfield,
  layoutOf,
  predictGridDiffs,
  readCrossfieldStream,
  roundWeightsHalf,
  sampleInput,
  writeGridDiffs,
} from '../../core/compressors/crossfield/codec.ts';
import { encodeEmbeddedNetwork } from '../../core/nn/embed.ts';
import { errorStats, type ErrorStats } from '../../core/metrics/index.ts';
import { type DecodedField, compressField, decompressStream, inspectStream, metadataOf } from '../compression/index.ts';
import { zstdBackend } from '../compression/zstd-backend.ts';
import { InferencePool } from '../inference/pool.ts';
import type { LoadedModel } from '../models/models.ts';
import { type CfnnTrainOptions, trainCfnn } from './train.ts';
import { fitLinearCfnn } from '../../core/compressors/crossfield/linear.ts';

export { trainCfnn, CFNN_DEFAULTS } from './train.ts';
export type { CfnnTrainOptions, CfnnTrained } from './train.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Content hash of a reconstruction: float32 values (invalid points as 0) and the mask. */
export function reconstructionHash(f: { values: ArrayLike<number>; mask?: Uint8Array; shape: number[] }): string {
  const n = f.values.length;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = f.mask && !f.mask[i] ? 0 : f.values[i]!;
  const h = createHash('sha256').update(`fieldpack-recon\n${f.shape.join('x')}\n`).update(new Uint8Array(v.buffer));
  if (f.mask) h.update(f.mask);
  return h.digest('hex');
}

export interface AnchorResult {
  var: string;
  hash: string;
  /** the anchor's own stream (core codec) */
  bytes: Uint8Array;
  ratio: number;
  bound: string;
  recon: Field;
}

export interface CrossfieldCompressOptions {
  target: Field;
  /** anchors: original fields (compressed here with the core codec) */
  anchors: Field[];
  bound: BoundSpec;
  /** bound of the anchors (default: the target's) */
  anchorBound?: BoundSpec;
  /** already decoded anchor reconstructions (skips compressing them again; hashes computed here) */
  anchorRecons?: Record<string, { recon: Field; bytes?: Uint8Array }>;
  /** 'online' (default): train on this field; or a network trained elsewhere (reused) */
  model?: { net: CrossfieldNetwork; trainSeconds?: number; label?: string };
  train?: Omit<CfnnTrainOptions, 'target' | 'anchors' | 'signal' | 'onProgress'>;
  /**
   * online networks to try (when no model is given): 'cfnn' (trained, the paper's CNN), 'linear' (one least-squares
   * convolution, no Python), 'none' (no network: interpolation corrected from the anchors' reconstructions alone),
   * 'best' (all three; the smallest stream is kept). Default 'best'.
   */
  network?: 'cfnn' | 'linear' | 'none' | 'best';
  ndim?: 2 | 3;
  mode?: FusionMode | 'auto';
  /** round weights to half precision before embedding (default true) */
  halfWeights?: boolean;
  /** threads for the network's reference inference (0 = this thread) */
  threads?: number;
  /** fall back to the core codec when it is smaller (default true) */
  fallback?: boolean;
  verify?: boolean;
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
}

export interface CrossfieldCompressResult {
  /** the target's stream: codec crossfield, or classic after a fall back */
  bytes: Uint8Array;
  codec: 'crossfield' | 'classic';
  /** why the core codec's stream was kept, or null */
  fallback: string | null;
  anchors: AnchorResult[];
  absBound: number;
  boundLabel: string;
  compressionRatio: number;
  /** size of the core codec's stream on the same field and bound */
  classicBytes: number;
  classicRatio: number;
  /** the cross-field stream's size (even when not kept) */
  crossfieldBytes: number;
  modelBytes: number;
  modelShare: number;
  parameters: number;
  training: 'online' | 'reused' | 'none';
  /** which network the kept stream embeds ('none': interpolation corrected from the anchors alone) */
  network: 'cfnn' | 'linear' | 'given' | 'none';
  trainSeconds: number;
  /** stream bytes per network tried */
  networkSizes: Record<string, number>;
  compressSeconds: number;
  mode: FusionMode | null;
  sizes: Record<string, number>;
  weights: number[];
  verification?: ErrorStats;
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
}

function sameShape(a: readonly number[], b: readonly number[]) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Grid differences, in this thread (threads 0) or across a pool of reference workers: identical integers. */
export async function gridDiffs(
  net: CrossfieldNetwork, anchors: Record<string, AnchorRecon>, shape: number[], absBound: number, threads = 0, signal?: AbortSignal,
): Promise<Int32Array[]> {
  if (threads <= 0) return predictGridDiffs(net, anchors, shape, absBound);
  const ndim = net.spec.ndim;
  const { samples, spatial, plane } = layoutOf(shape, ndim);
  const out = Array.from({ length: ndim }, () => new Int32Array(samples * plane));
  const pool = new InferencePool({ threads });
  const model = { manifest: { contentHash: sha256(encodeEmbeddedNetwork(net.spec, net.weights)) }, spec: net.spec, weights: net.weights, onnx: null } as unknown as LoadedModel;
  try {
    await Promise.all(
      Array.from({ length: samples }, async (_, s) => {
        checkAbort(signal);
        const r = await pool.predict(model, sampleInput(net, anchors, spatial, s), spatial, { backend: 'reference', signal });
        writeGridDiffs(r.output, ndim, plane, absBound, out, s * plane);
      }),
    );
  } finally {
    await pool.close();
  }
  return out;
}

/** Compresses the anchors with the core codec and decodes them: what a decoder will have. */
export async function reconstructAnchors(anchors: Field[], bound: BoundSpec): Promise<AnchorResult[]> {
  const out: AnchorResult[] = [];
  for (const a of anchors) {
    const c = await compressField(a, { bound, workers: 0, verify: false, metadata: metadataOf(a) });
    const d = await decompressStream(c.bytes);
    out.push({ var: a.name, hash: reconstructionHash(d.field), bytes: c.bytes, ratio: c.compressionRatio, bound: c.boundLabel, recon: { ...d.field, name: a.name } });
  }
  return out;
}

export async function compressCrossfield(opts: CrossfieldCompressOptions): Promise<CrossfieldCompressResult> {
  const t0 = performance.now();
  const target = opts.target;
  if (!opts.anchors.length && !opts.anchorRecons) throw new FieldpackError('INVALID_ARGUMENT', 'the cross-field codec needs at least one anchor');
  for (const a of opts.anchors) {
    if (a.name === target.name) throw new FieldpackError('INVALID_ARGUMENT', `the target ${target.name} cannot be its own anchor`);
    if (!sameShape(a.shape, target.shape)) throw new FieldpackError('INVALID_ARGUMENT', `anchor ${a.name} [${a.shape.join(', ')}] is not on the target's grid [${target.shape.join(', ')}]`);
  }
  const progress = (f: number, m: string) => opts.onProgress?.(f, m);
  progress(0.02, 'anchors: core codec');
  let anchors: AnchorResult[];
  if (opts.anchorRecons) {
    anchors = Object.entries(opts.anchorRecons).map(([name, r]) => ({
      var: name, hash: reconstructionHash(r.recon), bytes: r.bytes ?? new Uint8Array(), ratio: r.bytes ? (r.recon.values.length * 4) / r.bytes.length : NaN, bound: '', recon: r.recon,
    }));
  } else anchors = await reconstructAnchors(opts.anchors, opts.anchorBound ?? opts.bound);
  checkAbort(opts.signal);
  const ndim = opts.ndim ?? (opts.model?.net.spec.ndim as 2 | 3 | undefined) ?? 2;
  const training: 'online' | 'reused' = opts.model ? 'reused' : 'online';
  // net null: interpolation corrected from the anchors alone, nothing to store
  const candidates: { kind: 'cfnn' | 'linear' | 'given' | 'none'; net: CrossfieldNetwork | null; seconds: number; parameters: number }[] = [];
  const names = anchors.map((a) => a.var);
  if (opts.model) {
    const net = opts.model.net;
    if (net.anchors.some((v) => !names.includes(v))) throw new FieldpackError('INVALID_ARGUMENT', `the model needs anchors ${net.anchors.join(', ')}; given ${names.join(', ')}`);
    candidates.push({ kind: 'given', net, seconds: opts.model.trainSeconds ?? 0, parameters: net.weights.length });
  } else {
    const which = opts.network ?? 'best';
    if (which === 'none' || which === 'best') candidates.push({ kind: 'none', net: null, seconds: 0, parameters: 0 });
    if (which === 'linear' || which === 'best') {
      const tl = performance.now();
      const net = fitLinearCfnn(target, anchors.map((a) => a.recon), ndim);
      candidates.push({ kind: 'linear', net, seconds: (performance.now() - tl) / 1000, parameters: net.weights.length });
    }
    if (which === 'cfnn' || which === 'best') {
      progress(0.1, 'training CFNN (online)');
      const tr = await trainCfnn({
        ...opts.train, ndim, target, anchors: anchors.map((a) => a.recon), signal: opts.signal,
        onProgress: (f, m) => progress(0.1 + 0.6 * f, `training: ${m}`),
      });
      candidates.push({ kind: 'cfnn', net: tr.net, seconds: tr.seconds, parameters: tr.parameters });
    }
  }
  checkAbort(opts.signal);
  const tc = performance.now();
  progress(0.72, 'predicting (reference path)');
  const recons: Record<string, AnchorRecon> = Object.fromEntries(anchors.map((a) => [a.var, { values: a.recon.values, ...(a.recon.mask ? { mask: a.recon.mask } : {}) }]));
  const classic = await compressField(target, { bound: opts.bound, workers: 0, verify: false, metadata: metadataOf(target) });
  const absBound = classic.absBound;
  const anchorRecons = anchors.map((a) => recons[a.var]!);
  const anchorRefs = anchors.map((a) => ({ var: a.var, hash: a.hash }));
  const tune = classic.plan.predictor.startsWith('interp') ? (classic.plan.tune ?? 0) : 0;
  const mode = opts.mode ?? 'auto';
  let enc: ReturnType<typeof encodeCrossfield> | null = null;
  let chosen = candidates[0]!;
  const networkSizes: Record<string, number> = {};
  for (const cand of candidates) {
    if (!cand.net && mode !== 'auto' && mode !== 'interp') continue; // the Lorenzo hybrid needs a network
    const net = cand.net && (opts.halfWeights ?? true) ? { ...cand.net, weights: roundWeightsHalf(cand.net.weights) } : cand.net;
    const dq = net ? await gridDiffs(net, recons, target.shape, absBound, opts.threads ?? 0, opts.signal) : [];
    progress(0.85, `hybrid prediction + entropy coding (${cand.kind})`);
    const e = encodeCrossfield(
      {
        field: target, bound: opts.bound, net, netHash: net ? sha256(encodeEmbeddedNetwork(net.spec, net.weights)) : '', anchors: anchorRefs, dq, anchorRecons, tune,
        mode, metadata: metadataOf(target),
        extraParams: { training: net ? training : 'none', network: cand.kind, ...(opts.model?.label ? { model: opts.model.label } : {}) },
      },
      zstdBackend,
    );
    networkSizes[cand.kind] = e.bytes.length;
    if (!enc || e.bytes.length < enc.bytes.length) {
      enc = e;
      chosen = cand;
    }
  }
  const trainSeconds = candidates.reduce((a, c) => a + c.seconds, 0);
  const parameters = chosen.parameters;
  if (!enc) throw new FieldpackError('INVALID_ARGUMENT', `fusion mode ${mode} needs a network`);
  const compressSeconds = (performance.now() - tc) / 1000;
  const origBytes = target.values.length * target.values.BYTES_PER_ELEMENT;
  let bytes = enc.bytes;
  let codec: 'crossfield' | 'classic' = 'crossfield';
  let fallback: string | null = null;
  if ((opts.fallback ?? true) && classic.bytes.length <= enc.bytes.length) {
    bytes = classic.bytes;
    codec = 'classic';
    fallback = `the core codec (${classic.plan.predictor}) is smaller on ${target.name}: ${classic.bytes.length} bytes vs ${enc.bytes.length} with anchors ${anchors.map((a) => a.var).join(', ')}; its stream was kept`;
  }
  const result: CrossfieldCompressResult = {
    bytes, codec, fallback, anchors, absBound, boundLabel: classic.boundLabel,
    compressionRatio: origBytes / bytes.length,
    classicBytes: classic.bytes.length,
    classicRatio: origBytes / classic.bytes.length,
    crossfieldBytes: enc.bytes.length,
    modelBytes: codec === 'crossfield' ? enc.modelBytes : 0,
    modelShare: codec === 'crossfield' ? enc.modelBytes / bytes.length : 0,
    parameters, training: chosen.kind === 'none' ? 'none' : training, network: chosen.kind, trainSeconds, networkSizes, compressSeconds,
    mode: codec === 'crossfield' ? enc.mode : null, sizes: enc.sizes, weights: enc.weights,
  };
  if (opts.verify ?? true) {
    progress(0.92, 'verifying');
    const d = await decompressCrossfield(bytes, anchors.map((a) => a.recon), { threads: opts.threads });
    const st = errorStats(target.values, d.field.values, target.mask ?? null, absBound);
    result.verification = st;
    if (st.pointsOverBound > 0 || !st.nonFiniteExact) {
      throw new FieldpackError('BOUND_VIOLATED', `${st.pointsOverBound} points exceed the bound ${absBound} after decompression`, st);
    }
  }
  result.compressSeconds = compressSeconds;
  progress(1, `done: ratio ${result.compressionRatio.toFixed(2)}${fallback ? ' (core codec kept)' : ''}`);
  void t0;
  return result;
}

/** The anchors a stream needs ([] for a core-codec stream). */
export function streamAnchors(bytes: Uint8Array): { var: string; hash: string }[] {
  const h = inspectStream(bytes);
  if (h.codec !== CROSSFIELD_CODEC_ID) return [];
  return ((h.params as { anchors?: { var: string; hash: string }[] }).anchors ?? []).map((a) => ({ var: a.var, hash: a.hash }));
}

/** Checks the anchors given against the stream's list; throws naming what is missing or different. */
export function checkAnchors(info: CrossfieldStreamInfo, given: Field[]): Record<string, AnchorRecon> {
  const byName = new Map(given.map((f) => [f.name, f]));
  const missing = info.anchors.filter((a) => !byName.has(a.var));
  if (missing.length) {
    throw new FieldpackError('NOT_FOUND', `this cross-field stream needs its anchor${missing.length > 1 ? 's' : ''} ${missing.map((a) => `${a.var} (reconstruction sha256 ${a.hash.slice(0, 16)}...)`).join(', ')}: not given${given.length ? ` (given: ${given.map((g) => g.name).join(', ')})` : ''}`, { missing: missing.map((a) => a.var), needed: info.anchors });
  }
  const out: Record<string, AnchorRecon> = {};
  for (const a of info.anchors) {
    const f = byName.get(a.var)!;
    if (!sameShape(f.shape, info.header.shape)) {
      throw new FieldpackError('CONFLICT', `anchor ${a.var} has shape [${f.shape.join(', ')}], the stream's field is [${info.header.shape.join(', ')}]`, { mismatched: [a.var] });
    }
    const h = reconstructionHash(f);
    if (h !== a.hash) {
      throw new FieldpackError('CONFLICT', `anchor ${a.var} differs from the one this stream was compressed with: its reconstruction hashes to ${h.slice(0, 16)}..., the stream needs ${a.hash.slice(0, 16)}... (decode the anchor from the stream it was compressed to, at the same bound)`, { mismatched: [a.var], expected: a.hash, got: h });
    }
    out[a.var] = { values: f.values, ...(f.mask ? { mask: f.mask } : {}) };
  }
  return out;
}

export async function decompressCrossfield(bytes: Uint8Array, anchors: Field[], opts: { threads?: number; signal?: AbortSignal } = {}): Promise<DecodedField> {
  const h = inspectStream(bytes);
  if (h.codec !== CROSSFIELD_CODEC_ID) return decompressStream(bytes, { signal: opts.signal });
  const info = readCrossfieldStream(bytes);
  if (info.netBytes && info.netHash && sha256(info.netBytes) !== info.netHash) {
    throw new FieldpackError('BAD_STREAM', `corrupted stream: the embedded network hashes to ${sha256(info.netBytes).slice(0, 16)}..., the stream names ${info.netHash.slice(0, 16)}...`);
  }
  const recons = checkAnchors(info, anchors);
  const dq = info.net ? await gridDiffs(info.net, recons, h.shape, h.bound.abs, opts.threads ?? 0, opts.signal) : [];
  return decodeCrossfield(info, bytes, dq, info.anchors.map((a) => recons[a.var]!));
}
