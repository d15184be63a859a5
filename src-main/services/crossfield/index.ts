/**
 * The cross-field compression service: anchors through the core codec first, CFNN trained on the fly (online) or
 * given (reused), the target through the cross-field codec (core/compressors/crossfield), the bound verified point
 * by point, and a fall back to the core codec when the hybrid does not pay. Decompression checks that the anchors
 * given are the ones the stream names (variable + content hash of their reconstructions) before predicting.
 */
import { FieldpackError } from '../../core/errors.ts';
import { type Field, sameShape } from '../../core/field.ts';
import type { BoundSpec } from '../../core/codec/bound.ts';
import type { StreamMetadata } from '../../core/codec/stream/format.ts';
import {
  type CrossfieldNetwork, type FusionMode, ESTIMATE_MARGIN, type EstimationBlock, type EstimationSample, estimateCore, estimateModes, estimationSample, secondEstimationBlock, fusionModesOf, roundWeightsHalf, sampleGridDiffs, sampleInferenceShare, storedNetworkBytes,
} from '../../core/compressors/crossfield/codec.ts';
import { gridDiffs, nothingToPredict } from '../../core/compressors/crossfield/index.ts';
import { encodeEmbeddedNetwork } from '../../core/nn/embed.ts';
import { nnKernels } from '../../core/nn/wasm-kernels.ts';
import { resolveBound, validRange } from '../../core/codec/bound.ts';
import { zstdBackend } from '../codecs/zstd-backend.ts';
import type { ErrorStats } from '../../core/metrics/index.ts';
import { type DecodedField, codecEnv, decodeStream, encodeField, inspectStream, metadataOf, reconstructionHash, verifyBound } from '../codecs/index.ts';
import { compressField, decompressStream } from '../compression/index.ts';
import { type CfnnTrainOptions, trainCfnn } from './train.ts';
import { fitLinearCfnn } from '../../core/compressors/crossfield/linear.ts';

export { trainCfnn, CFNN_DEFAULTS } from './train.ts';
export type { CfnnTrainOptions, CfnnTrained } from './train.ts';

export { reconstructionHash };

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
  /**
   * worker threads: with any, the candidate networks near the smallest estimate are encoded side by side in workers
   * while this thread predicts and runs the core codec (the same bytes as with none; default 0)
   */
  workers?: number;
  /** fall back to the core codec when it is smaller (default true) */
  fallback?: boolean;
  verify?: boolean;
  /** the target stream's metadata (default: the target's own, with its coordinates) */
  metadata?: StreamMetadata;
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
}

export interface CrossfieldCompressResult {
  /** the target's stream: codec crossfield, or classic after a fall back */
  bytes: Uint8Array;
  /** the kept stream's codec id (the core codec's after a fall back) */
  codec: string;
  /** why the core codec's stream was kept, or null */
  fallback: string | null;
  anchors: AnchorResult[];
  absBound: number;
  boundLabel: string;
  compressionRatio: number;
  /**
   * size of the core codec's stream on the same field and bound; when the hybrid's stream is clearly smaller than its
   * estimate, the core's stream is not made and this is the estimate (classicEstimated; measuredCoreRatio measures it)
   */
  classicBytes: number;
  classicRatio: number;
  classicEstimated: boolean;
  /** the cross-field stream's size (even when not kept) */
  crossfieldBytes: number;
  modelBytes: number;
  modelShare: number;
  parameters: number;
  training: 'online' | 'reused' | 'none';
  /** which network the kept stream embeds ('none': interpolation corrected from the anchors alone) */
  network: 'cfnn' | 'linear' | 'given' | 'none';
  trainSeconds: number;
  /** stream bytes per network encoded in full (those estimated near the smallest) */
  networkSizes: Record<string, number>;
  /** estimated stream bytes per network tried (codes on the sample, scaled, plus the network) */
  networkEstimates: Record<string, number>;
  compressSeconds: number;
  mode: FusionMode | null;
  sizes: Record<string, number>;
  weights: number[];
  verification?: ErrorStats;
}

/** The core codec's full encode is skipped only when the hybrid is estimated this much smaller (checked on 36 streams). */
const CORE_SKIP_MARGIN = 0.03;
/**
 * No hybrid is encoded when the core codec is estimated this much smaller than every candidate on the sample (fields
 * on a grid whose indices the core codes, tight bounds on small 3D fields). On 72 streams (24 targets of the ferret
 * files, WRF, nc4uvt and their packed, rounded and noisy variants, rel 1e-2..1e-4) it skipped 6, where the core
 * codec's stream was 5-62 % smaller; at 0.05 it skipped one whose best hybrid was 1 % smaller (Levitus TEMP packed,
 * rel 1e-3).
 */
const HYBRID_SKIP_MARGIN = 0.06;

/** A network to try (null: interpolation corrected from the anchors alone, nothing to store). */
interface Candidate { kind: 'cfnn' | 'linear' | 'given' | 'none'; net: CrossfieldNetwork | null; seconds: number; parameters: number }

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
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
  const range = validRange(target.values, target.mask ?? null);
  const resolved = resolveBound(opts.bound, range.max - range.min);
  if (nothingToPredict(resolved)) return coreCodecOnly(target, opts, anchors, resolved, `nothing to predict within on ${target.name} (${resolved.label}): the core codec's stream, exact`);
  const ndim = opts.ndim ?? (opts.model?.net.spec.ndim as 2 | 3 | undefined) ?? 2;
  const training: 'online' | 'reused' = opts.model ? 'reused' : 'online';
  const candidates: Candidate[] = [];
  const names = anchors.map((a) => a.var);
  if (opts.model) {
    const net = opts.model.net;
    if (net.anchors.some((v) => !names.includes(v))) throw new FieldpackError('INVALID_ARGUMENT', `the model needs anchors ${net.anchors.join(', ')}; given ${names.join(', ')}`);
    candidates.push({ kind: 'given', net, seconds: opts.model.trainSeconds ?? 0, parameters: net.weights.length });
    // a reused network need not pay for its bytes on this field (another time step, a small field): the anchors
    // alone are sized beside it
    if ((opts.mode ?? 'auto') === 'auto' || opts.mode === 'interp') candidates.push({ kind: 'none', net: null, seconds: 0, parameters: 0 });
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
  progress(0.72, 'estimating on a sample');
  const metadata = opts.metadata ?? metadataOf(target);
  // with their hashes, computed above: the encoder names its anchors by them without hashing each field again
  const anchorFields = anchors.map((a) => ({ ...a.recon, name: a.var, hash: a.hash }));
  const reconOf = Object.fromEntries(anchorFields.map((a) => [a.name, a]));
  const mode = opts.mode ?? 'auto';
  // the grid the codec will predict on (as its encode resolves it), the core codec planned and sized on the sample
  const absBound = resolved.abs;
  // the central block every estimate sizes (cropped and counted once)
  const sample = estimationSample(target, undefined, range.count);
  const core = estimateCore(target, opts.bound, zstdBackend, sample);
  const tune = core.plan.predictor.startsWith('interp') ? (core.plan.tune ?? 0) : 0;
  // interpolate along the dims the core's best interpolation did (whichever predictor won there)
  let maxDims = core.plan.interpMaxDims ?? (core.plan.predictor.startsWith('interp') ? core.plan.maxDims : 4);
  const env = codecEnv({ threads: opts.threads, signal: opts.signal });
  // every network predicts over the sample only; its fusion modes are sized there, its stored bytes added
  type Tried = { cand: Candidate; net: CrossfieldNetwork | null; whole: Int32Array[] | null; estimates: Record<string, number>; netStored: number; estimate: number };
  const inputOf = (net: CrossfieldNetwork | null) => {
    const order = net ? net.anchors : anchors.map((a) => a.var);
    return { field: target, bound: opts.bound, net, netHash: '', anchors: order.map((v) => ({ var: v, hash: '' })), dq: [], anchorRecons: order.map((v) => reconOf[v]!), tune, maxDims, mode };
  };
  /** A candidate's estimated stream bytes on a sample: its least fusion mode there (of `modes`) plus its stored network. */
  const estimateOn = (t: Pick<Tried, 'net' | 'whole' | 'netStored'>, on: EstimationSample, block?: EstimationBlock, modes?: FusionMode[]) => {
    const input = inputOf(t.net);
    const estimates = estimateModes({ ...input, dq: t.whole ?? [] }, modes ?? fusionModesOf(input), absBound, t.net && !t.whole ? sampleGridDiffs(t.net, reconOf, target.shape, absBound, nnKernels(), block) : undefined, on);
    return { estimates, estimate: Math.min(...Object.values(estimates)) + t.netStored };
  };
  // the sample can fold dims the field's interpolation takes (WRF T at rel 1e-2: 3 on the 4 x 14 x 24 x 24 block, 4
  // on the field; the hybrid with 3 was 17 % larger): the anchors-alone hybrid is also sized with every dim, the
  // smaller taken for every candidate (planning the core codec on its own, larger sample instead took as long as
  // the rest of a reused model's compression of a small field, and chose a worse tuning on Levitus TEMP)
  const everyDim = Math.min(4, target.shape.filter((d) => d > 1).length);
  /** the anchors-alone hybrid's estimate (mode interp) by the dims it interpolates along, each sized once */
  const aloneEstimates = new Map<number, number>();
  const interpBytes = (dims: number) => {
    if (!aloneEstimates.has(dims)) aloneEstimates.set(dims, estimateModes({ ...inputOf(null), maxDims: dims }, ['interp'], absBound, undefined, sample).interp!);
    return aloneEstimates.get(dims)!;
  };
  if (maxDims < everyDim && (mode === 'auto' || mode === 'interp')) {
    if (interpBytes(everyDim) < interpBytes(maxDims)) maxDims = everyDim;
  }
  const workers = opts.workers ?? 0;
  /** A candidate's whole encode (offload: in a worker); a failure surfaces where it is awaited. */
  const encodeCandidate = (cand: Candidate, net: CrossfieldNetwork | null, predicted: Int32Array[], estimates: Record<string, number>, offload: boolean) => {
    const e = encodeField(target, {
      codec: 'crossfield',
      params: {
        anchors: net ? net.anchors : anchors.map((a) => a.var), mode, tune, maxDims, network: net, predicted, predictedAt: absBound, estimates,
        extra: { training: net ? training : 'none', network: cand.kind, ...(opts.model?.label ? { model: opts.model.label } : {}) },
        ...(offload ? { offload: true } : {}),
      },
      bound: opts.bound, metadata, anchors: anchorFields, verify: false, threads: opts.threads, workers, signal: opts.signal,
    });
    e.catch(() => {}); // awaited below
    return e;
  };
  // The anchors alone need nothing predicted and are near the least estimate on most fields (53 of the 72 reused-model
  // streams of BENCH.md's session 48): with workers, their hybrid is encoded in one from here, while this thread
  // sizes the networks, and kept where the estimates bring it near (else that worker's time is lost; a network near
  // too is then encoded here). The same bytes; on those 72 streams 1.22 x faster in geometric mean.
  const aloneCandidate = candidates.find((c) => c.net === null);
  const aloneEarly = workers > 0 && aloneCandidate && (mode === 'auto' || mode === 'interp') ? encodeCandidate(aloneCandidate, null, [], {}, true) : null;
  const tried: Tried[] = [];
  for (const cand of candidates) {
    if (!cand.net && mode !== 'auto' && mode !== 'interp') continue; // the Lorenzo hybrid needs a network
    const net = cand.net && (opts.halfWeights ?? true) ? { ...cand.net, weights: roundWeightsHalf(cand.net.weights) } : cand.net;
    // the sample's boxes (block + receptive margin) can be most of a small 3D field: then the whole field's
    // predictions are made once, cropped for the estimates and kept for the full encode (at a third, WRF's 0.5 MB
    // fields, 34 %, ran a network over the whole field that then mostly lost: 15-30 % of their compression)
    const whole = net && sampleInferenceShare(net, target.shape) > 1 / 2 ? await gridDiffs(net, reconOf, target.shape, absBound, env) : null;
    const netStored = net ? storedNetworkBytes(encodeEmbeddedNetwork(net.spec, net.weights), zstdBackend) : 0;
    // the anchors alone were sized above where the dims were chosen (the same input: their estimate is kept)
    const sized = !net && aloneEstimates.has(maxDims) ? { estimates: { interp: interpBytes(maxDims) }, estimate: interpBytes(maxDims) } : estimateOn({ net, whole, netStored }, sample);
    tried.push({ cand, net, whole, netStored, ...sized });
    checkAbort(opts.signal);
  }
  if (!tried.length) throw new FieldpackError('INVALID_ARGUMENT', `fusion mode ${mode} needs a network`);
  const leastEstimate = Math.min(...tried.map((t) => t.estimate));
  const networkEstimates = Object.fromEntries(tried.map((t) => [t.cand.kind, t.estimate]));
  const trainSeconds = candidates.reduce((a, c) => a + c.seconds, 0);
  if ((opts.fallback ?? true) && core.bytes !== null && core.bytes <= leastEstimate * (1 - HYBRID_SKIP_MARGIN)) {
    const smaller = `${(100 * (1 - core.bytes / leastEstimate)).toFixed(1)} %`;
    progress(0.88, 'core codec');
    return coreCodecOnly(target, opts, anchors, resolved, `the core codec (${core.plan.predictor}${core.plan.grid ? ' on the data\'s grid' : ''}) is estimated ${smaller} smaller than every hybrid on ${target.name}'s sample: its stream was kept, no hybrid encoded`, { networkEstimates, trainSeconds, since: tc });
  }
  let enc: { bytes: Uint8Array; details: Record<string, unknown> } | null = null;
  let chosen = tried[0]!.cand;
  const networkSizes: Record<string, number> = {};
  // only the networks that may win predict over the whole field and are encoded in full; with workers, side by side
  // (those without a network first: nothing to predict before they start) while this thread predicts for the others
  // A network estimated no smaller than the anchors alone on the central block added nothing there (a reused model
  // on a field it does not suit): it is neither run over the field nor encoded, unless a second block away from the
  // centre finds its interpolation hybrid clearly smaller than the anchors alone's (the same mode: a small block
  // misjudges interpolation against the Lorenzo hybrids; docs/crossfield.md)
  const alone = tried.find((x) => x.net === null) ?? null;
  const inReach = (x: Tried) => x.estimate <= leastEstimate * (1 + ESTIMATE_MARGIN);
  const second = alone && tried.some((x) => x.net !== null && inReach(x) && x.estimate >= alone.estimate) ? secondEstimationBlock(target.shape) : null;
  const secondSample = second ? estimationSample(target, second, range.count) : null;
  const aloneThere = secondSample ? estimateOn(alone!, secondSample, second!, ['interp']).estimate : Infinity;
  const smallerThere = (x: Tried) => secondSample !== null && estimateOn(x, secondSample, second!, ['interp']).estimate < aloneThere * (1 - ESTIMATE_MARGIN);
  const near = tried.filter((x) => inReach(x) && (x.net === null || !alone || x.estimate < alone.estimate || smallerThere(x)));
  const started = new Map<Candidate, Promise<{ bytes: Uint8Array; details: Record<string, unknown> }>>();
  if (aloneEarly && aloneCandidate && near.some((x) => x.cand === aloneCandidate)) started.set(aloneCandidate, aloneEarly);
  const rest = near.filter((x) => !started.has(x.cand));
  const freeWorkers = workers - (aloneEarly ? 1 : 0);
  // more candidates than free workers: one is encoded here, last, where this thread would otherwise wait on the
  // workers' queue; one without a network where there is one (nothing to predict for it), while a worker encodes the
  // network's
  const local = workers > 0 && rest.length > freeWorkers ? (rest.findLast((x) => x.net === null) ?? rest[rest.length - 1]!) : null;
  const order = workers > 0 ? [...rest.filter((x) => x !== local).sort((a, b) => Number(a.net !== null) - Number(b.net !== null)), ...(local ? [local] : [])] : rest;
  for (const t of order) {
    progress(0.85, `hybrid prediction + entropy coding (${t.cand.kind})`);
    const predicted = t.net ? (t.whole ?? (await gridDiffs(t.net, reconOf, target.shape, absBound, env))) : [];
    const offload = workers > 0 && t !== local;
    const e = encodeCandidate(t.cand, t.net, predicted, t.estimates, offload);
    started.set(t.cand, offload ? e : Promise.resolve(await e));
  }
  // the core codec's stream is needed unless a Lorenzo hybrid wins clearly (below): with workers it is made now,
  // in this thread, while they encode, where the estimates favour mode interp
  const coreNow = workers > 0 && near.some((t) => leastMode(t.estimates) === 'interp') ? compressField(target, { bound: opts.bound, workers: 0, verify: false, metadata }) : null;
  coreNow?.catch(() => {});
  for (const t of near) {
    const e = await started.get(t.cand)!;
    networkSizes[t.cand.kind] = e.bytes.length;
    if (!enc || e.bytes.length < enc.bytes.length) {
      enc = e;
      chosen = t.cand;
    }
  }
  const parameters = chosen.parameters;
  // The core codec's own stream, unless the hybrid's is clearly smaller. The sample need not be typical of the field:
  // the core's estimated codes are scaled by the hybrid's codes as encoded over their estimate, plus the mask and value
  // lists it stores too. Only for the Lorenzo hybrids: the per-pass models of mode interp grow with the field
  // (more passes) and make the hybrid's scale overstate the core's; there the core codec always runs.
  const keptMode = enc!.details.mode as FusionMode;
  const keptTry = tried.find((t) => t.cand === chosen)!;
  const envelopeBytes = Number(enc!.details.envelopeBytes ?? 0);
  const codesScale = (enc!.bytes.length - envelopeBytes - Number(enc!.details.modelBytes ?? 0)) / keptTry.estimates[keptMode]!;
  // (not on a grid: the grid's estimate is trusted only for the wider margin above)
  const coreEstimate = core.bytes === null || core.plan.grid ? null : Math.round(core.bytes * codesScale) + envelopeBytes;
  const coreClearlyLarger = coreEstimate !== null && keptMode !== 'interp'
    && keptTry.estimates[keptMode]! + keptTry.netStored <= core.bytes! * (1 - CORE_SKIP_MARGIN) && enc!.bytes.length <= coreEstimate * (1 - CORE_SKIP_MARGIN);
  let classic: { bytes: Uint8Array; predictor: string } | null = null;
  if (!coreClearlyLarger) {
    progress(0.88, 'core codec');
    const c = await (coreNow ?? compressField(target, { bound: opts.bound, workers: 0, verify: false, metadata }));
    classic = { bytes: c.bytes, predictor: c.plan.predictor };
  }
  const classicBytes = classic ? classic.bytes.length : coreEstimate!;
  const compressSeconds = (performance.now() - tc) / 1000;
  const origBytes = target.values.length * target.values.BYTES_PER_ELEMENT;
  let bytes = enc!.bytes;
  let fallback: string | null = null;
  if ((opts.fallback ?? true) && classic && classic.bytes.length <= enc!.bytes.length) {
    bytes = classic.bytes;
    fallback = `the core codec (${classic.predictor}) is smaller on ${target.name}: ${classic.bytes.length} bytes vs ${enc!.bytes.length} with anchors ${anchors.map((a) => a.var).join(', ')}; its stream was kept`;
  }
  const kept = !fallback;
  const modelBytes = Number(enc!.details.modelBytes ?? 0);
  const result: CrossfieldCompressResult = {
    bytes, codec: inspectStream(bytes).codec.id, fallback, anchors, absBound, boundLabel: resolved.label,
    compressionRatio: origBytes / bytes.length,
    classicBytes,
    classicRatio: origBytes / classicBytes,
    classicEstimated: !classic,
    crossfieldBytes: enc!.bytes.length,
    modelBytes: kept ? modelBytes : 0,
    modelShare: kept ? modelBytes / bytes.length : 0,
    parameters, training: chosen.kind === 'none' ? 'none' : training, network: chosen.kind, trainSeconds, networkSizes, networkEstimates, compressSeconds,
    mode: kept ? (enc!.details.mode as FusionMode) : null, sizes: enc!.details.sizes as Record<string, number>, weights: enc!.details.weights as number[],
  };
  if (opts.verify ?? true) {
    progress(0.92, 'verifying');
    const d = await decompressCrossfield(bytes, anchorFields, { threads: opts.threads });
    result.verification = verifyBound(target, d.field, absBound);
  }
  result.compressSeconds = compressSeconds;
  progress(1, `done: ratio ${result.compressionRatio.toFixed(2)}${fallback ? ' (core codec kept)' : ''}`);
  return result;
}

/**
 * The core codec's stream alone, no hybrid encoded: where there is nothing to predict within the bound (a lossless
 * bound, or one of 0 on a field without a range, constant or all NaN, which no network's grid can be laid on; the
 * codec itself answers the same), or where the core codec was estimated clearly smaller than every candidate
 * (`estimated`: the candidates' estimates, the training and when the timed compression began).
 */
async function coreCodecOnly(
  target: Field, opts: CrossfieldCompressOptions, anchors: AnchorResult[], bound: ReturnType<typeof resolveBound>, fallback: string,
  estimated?: { networkEstimates: Record<string, number>; trainSeconds: number; since: number },
): Promise<CrossfieldCompressResult> {
  // the estimates' time (since the search began) and the core codec's own, its verification left out
  const before = estimated ? (performance.now() - estimated.since) / 1000 : 0;
  const c = await compressField(target, { bound: opts.bound, workers: 0, verify: opts.verify ?? true, metadata: opts.metadata ?? metadataOf(target) });
  const compressSeconds = before + c.seconds;
  const ratio = (target.values.length * target.values.BYTES_PER_ELEMENT) / c.bytes.length;
  opts.onProgress?.(1, `done: ratio ${ratio.toFixed(2)} (core codec kept)`);
  return {
    bytes: c.bytes, codec: inspectStream(c.bytes).codec.id, anchors, absBound: bound.abs, boundLabel: bound.label, fallback,
    compressionRatio: ratio, classicBytes: c.bytes.length, classicRatio: ratio, classicEstimated: false, crossfieldBytes: c.bytes.length,
    modelBytes: 0, modelShare: 0, parameters: 0, training: 'none', network: 'none', trainSeconds: estimated?.trainSeconds ?? 0, networkSizes: {},
    networkEstimates: estimated?.networkEstimates ?? {}, compressSeconds, mode: null, sizes: {}, weights: [], ...(c.verification ? { verification: c.verification } : {}),
  };
}

/** The fusion mode estimated smallest. */
function leastMode(estimates: Record<string, number>): string {
  return Object.entries(estimates).reduce((a, b) => (b[1] < a[1] ? b : a))[0];
}

/** The core codec's ratio on the target: measured now when compressCrossfield only estimated it. */
export async function measuredCoreRatio(r: CrossfieldCompressResult, target: Field, bound: BoundSpec): Promise<number> {
  if (!r.classicEstimated) return r.classicRatio;
  const c = await compressField(target, { bound, workers: 0, verify: false, metadata: metadataOf(target) });
  return c.compressionRatio;
}

/** The anchors a stream needs ([] for a stream that needs none). */
export function streamAnchors(bytes: Uint8Array): { var: string; hash: string }[] {
  return inspectStream(bytes).dependencies.flatMap((d) => (d.kind === 'anchor' ? [{ var: d.var, hash: d.hash }] : []));
}

/** Any stream, with its anchors' reconstructions given (checked by hash; missing ones named). */
export function decompressCrossfield(bytes: Uint8Array, anchors: Field[], opts: { threads?: number; signal?: AbortSignal } = {}): Promise<DecodedField> {
  return decodeStream(bytes, { deps: { fields: anchors }, threads: opts.threads, signal: opts.signal });
}
