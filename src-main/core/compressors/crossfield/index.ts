/**
 * The cross-field codec's registration (codec.ts has the method and the stream layout). Its dependencies are the
 * anchors' reconstructions, named in the header by variable and content hash; an embedded network travels inside
 * the stream (its bytes count in the ratio). Encode takes the network chosen by the service (trained online,
 * fitted, reused, or none) and predicts on the reference path, so the decoder reproduces it bit for bit.
 */
import { z } from 'zod';
import { FieldpackError } from '../../errors.ts';
import { type Field, sameShape } from '../../field.ts';
import type { StreamHeader } from '../../codec/stream/format.ts';
import { type ResolvedBound, resolveBound, validRange } from '../../codec/bound.ts';
import { INTERP_TUNINGS } from '../../codec/predictors/interp.ts';
import { encodeEmbeddedNetwork } from '../../nn/embed.ts';
import type { Codec, CodecEnv, DecodePath, DecodedField, DecodeInput, Dependency, Reconstruction, ResolvedDependencies } from '../contract.ts';
import { nnKernels } from '../../nn/wasm-kernels.ts';
import { assembleDecoded, decodeError } from '../decoded.ts';
import { classicInstead } from '../classic/index.ts';
import {
  type CrossfieldEncodeInput,
  type CrossfieldEncoded,
  type AnchorRecon,
  type CrossfieldNetwork,
  CROSSFIELD_CODEC_ID,
  FUSION_MODES,
  checkAnchorsFit,
  crossfieldAnchors,
  decodeCrossfield,
  encodeCrossfield,
  gridDiffsChecksums,
  layoutOf,
  predictGridDiffs,
  readCrossfieldStream,
  roundWeightsHalf,
  sampleInput,
  writeGridDiffs,
} from './codec.ts';
import { fitLinearCfnn } from './linear.ts';

/**
 * The network a stream embeds from the `network` param: 'linear' fitted on the anchors' reconstructions (over 2-D
 * maps, 3-D volumes from 4 dims on, as the service fits it) with its weights rounded to half precision as embedded.
 */
function networkOf(
  param: CrossfieldNetwork | 'none' | 'linear' | null, field: Pick<Field, 'values' | 'shape' | 'mask'>, anchors: string[], recons: Reconstruction[],
): CrossfieldNetwork | null {
  if (param === null || param === 'none') return null;
  if (param !== 'linear') return param;
  const net = fitLinearCfnn({ ...field, name: 'target' }, recons.map((r, i) => ({ ...r, name: anchors[i]! })), field.shape.length >= 4 ? 3 : 2);
  return { ...net, weights: roundWeightsHalf(net.weights) };
}

export const CrossfieldParams = z.strictObject({
  /** anchor variables, in the order the network reads them (their reconstructions are the dependencies) */
  anchors: z.array(z.string().min(1), 'the cross-field codec needs its anchors: variables of the same file on the target\'s grid (--anchors A,B)').min(1, 'the cross-field codec needs at least one anchor'),
  mode: z.enum([...FUSION_MODES, 'auto']).default('auto'),
  /** level-dependent bounds of mode interp (index into the interpolation tunings) */
  tune: z.number().int().min(0).max(INTERP_TUNINGS.length - 1).optional(),
  /** mode interp: dims interpolated along, leading ones folded (the service passes the core codec's choice) */
  maxDims: z.number().int().min(1).max(4).optional(),
  /**
   * the network to embed: one chosen by the service (which also trains the CFNN and compares them: the workbench's
   * Cross-field job, `bench --codec crossfield --network`); 'linear': a linear CFNN fitted here on the anchors'
   * reconstructions (least squares, no Python); null or 'none': interpolation corrected from the anchors alone
   */
  network: z.union([
    z.enum(['none', 'linear']),
    z.custom<CrossfieldNetwork>((v) => typeof v === 'object' && v !== null && 'spec' in v && 'weights' in v),
  ], 'none or linear (a trained CFNN, and the search over all three: the workbench\'s Cross-field view, or bench --codec crossfield --network cfnn|best)').nullable().default(null),
  /** stream params kept for provenance (training, network kind, model label) */
  extra: z.record(z.string(), z.unknown()).default({}),
  chunkValues: z.number().int().min(1024).optional(),
  /**
   * the network's grid differences over the field, already computed for this bound (the service's estimates of its
   * networks): the network is then not run again
   */
  predicted: z.custom<Int32Array[]>((v) => Array.isArray(v) && v.every((d) => d instanceof Int32Array)).optional(),
  /**
   * the absolute bound `predicted` was computed at: used only at that bound (a PSNR or NRMSE target tightens the
   * bound pass by pass, and predictions of another grid gave streams no decoder could read)
   */
  predictedAt: z.number().optional(),
  /** mode 'auto': sizes per fusion mode already estimated (estimateModes) on this field, bound and network */
  estimates: z.record(z.string(), z.number()).optional(),
  /**
   * encode in a worker thread where the env has them (the service encodes its candidate networks side by side); the
   * same bytes as in this thread
   */
  offload: z.boolean().optional(),
});
export type CrossfieldParams = z.infer<typeof CrossfieldParams>;

function anchorRefs(header: StreamHeader): { var: string; hash: string }[] {
  return crossfieldAnchors(header.params);
}

function anchorsInOrder(deps: ResolvedDependencies, names: readonly string[]): Reconstruction[] {
  return names.map((v) => {
    const r = deps.anchors[v];
    if (!r) throw new FieldpackError('NOT_FOUND', `the anchor ${v} was not given`);
    return r;
  });
}

/**
 * The network's predicted target differences on the grid, per axis: the reference path on threads where given, else
 * in this thread on `path` ('fast': the WebAssembly kernels where this engine has them, the same bits).
 */
export async function gridDiffs(net: CrossfieldNetwork, anchors: Record<string, AnchorRecon>, shape: number[], absBound: number, env: Pick<CodecEnv, 'runReference'>, path: DecodePath = 'fast'): Promise<Int32Array[]> {
  if (!env.runReference) return predictGridDiffs(net, anchors, shape, absBound, path === 'fast' ? nnKernels() : null);
  const ndim = net.spec.ndim;
  const { samples, spatial, plane } = layoutOf(shape, ndim);
  const inputs = Array.from({ length: samples }, (_, s) => sampleInput(net, anchors, spatial, s));
  const outputs = await env.runReference(net.spec, net.weights, inputs, spatial);
  const out = Array.from({ length: ndim }, () => new Int32Array(samples * plane));
  outputs.forEach((y, s) => writeGridDiffs(y, ndim, plane, absBound, out, s * plane));
  return out;
}

type TypedValues = Float32Array | Float64Array;

/**
 * The encode task's args: the field-sized arrays at the top level, where the worker pool copies exactly their values
 * into buffers it transfers and later reuses (a nested array would be cloned with the whole buffer it views).
 */
function encodeTaskArgs(input: CrossfieldEncodeInput): Record<string, unknown> {
  const { field, dq, anchorRecons, ...rest } = input;
  const args: Record<string, unknown> = { rest, shape: field.shape, values: field.values, dqCount: dq.length, recons: anchorRecons?.length ?? -1 };
  if (field.mask) args.mask = field.mask;
  dq.forEach((d, k) => (args[`dq${k}`] = d));
  anchorRecons?.forEach((r, i) => {
    args[`recon${i}`] = r.values instanceof Float32Array || r.values instanceof Float64Array ? r.values : Float64Array.from(r.values);
    if (r.mask) args[`reconMask${i}`] = r.mask;
  });
  return args;
}

/** encodeTaskArgs undone (in the worker). */
function encodeTaskInput(a: Record<string, unknown>): CrossfieldEncodeInput {
  const recons = a.recons as number;
  return {
    ...(a.rest as Omit<CrossfieldEncodeInput, 'field' | 'dq' | 'anchorRecons'>),
    field: { shape: a.shape as number[], values: a.values as TypedValues, ...(a.mask ? { mask: a.mask as Uint8Array } : {}) },
    dq: Array.from({ length: a.dqCount as number }, (_, k) => a[`dq${k}`] as Int32Array),
    ...(recons >= 0 ? { anchorRecons: Array.from({ length: recons }, (_, i) => ({ values: a[`recon${i}`] as TypedValues, ...(a[`reconMask${i}`] ? { mask: a[`reconMask${i}`] as Uint8Array } : {}) })) } : {}),
  };
}

/**
 * Nothing to predict within: a lossless bound, or one of 0 on a field without a range (constant, all NaN), where no
 * network's grid can be laid. The codec writes the core codec's stream instead, and the service's search does too.
 */
export function nothingToPredict(resolved: ResolvedBound): boolean {
  return resolved.lossless || !(resolved.abs > 0);
}

export const crossfieldCodec: Codec<CrossfieldParams> = {
  id: CROSSFIELD_CODEC_ID,
  label: 'Fieldpack cross-field',
  description: 'a target predicted from already-compressed anchor fields (CFNN, linear network or interpolation corrected from the anchors)',
  params: CrossfieldParams,
  presets: [],
  needsDependencies: true,
  dependencies: (h): Dependency[] => anchorRefs(h).map((a) => ({ kind: 'anchor', var: a.var, hash: a.hash })),
  async encode(request, env) {
    const { field, bound, params, metadata, deps } = request;
    const range = validRange(field.values, field.mask ?? null);
    const resolved = resolveBound(bound, range.max - range.min);
    if (nothingToPredict(resolved)) return classicInstead(request, env, resolved.lossless ? 'lossless' : 'bound 0: the field has no range');
    const recons = anchorsInOrder(deps, params.anchors);
    // the same shape, not only as many values: decoders find the anchors' streams by the target's shape (V of WRF's
    // staggered grid has U's count, [.., 49, 48] for [.., 48, 49], and the stream could not be decoded)
    recons.forEach((r, i) => {
      if (!sameShape(r.shape, field.shape)) throw new FieldpackError('INVALID_ARGUMENT', `anchor ${params.anchors[i]} [${r.shape.join(', ')}] is not on the target's grid [${field.shape.join(', ')}]`);
    });
    const net = networkOf(params.network, field, params.anchors, recons);
    if (net && net.anchors.some((v, i) => v !== params.anchors[i])) {
      throw new FieldpackError('INVALID_ARGUMENT', `the network reads anchors ${net.anchors.join(', ')}; given ${params.anchors.join(', ')}`);
    }
    const byName = Object.fromEntries(params.anchors.map((v, i) => [v, recons[i]!]));
    // the network predicts on the grid of the absolute bound the stream will carry (resolved on the valid range)
    const given = params.predicted !== undefined && params.predictedAt === resolved.abs ? params.predicted : null;
    const dq = net ? (given ?? (await gridDiffs(net, byName, field.shape, resolved.abs, env))) : [];
    const input: CrossfieldEncodeInput = {
        field, bound, net, netHash: net ? env.hash(encodeEmbeddedNetwork(net.spec, net.weights)) : '',
        anchors: params.anchors.map((v) => ({ var: v, hash: deps.anchors[v]!.hash })),
        // the predictions' checksums: a decoder whose network gives other integers finds out before decoding
        dq, anchorRecons: recons, tune: params.tune, maxDims: params.maxDims, mode: params.mode, metadata, extraParams: { ...params.extra, ...(params.network === 'linear' ? { network: 'linear', training: 'online' } : {}), ...(net ? { dqCrc: gridDiffsChecksums(dq) } : {}) },
        ...(params.chunkValues ? { chunkValues: params.chunkValues } : {}),
        ...(params.estimates ? { estimates: params.estimates } : {}),
    };
    const e = params.offload ? await env.runTask<CrossfieldEncoded>(CROSSFIELD_CODEC_ID, 'encode', encodeTaskArgs(input)) : encodeCrossfield(input, env.backend);
    return { bytes: e.bytes, bound: e.bound, details: { choice: `crossfield ${e.mode}`, mode: e.mode, weights: e.weights, sizes: e.sizes, ...(e.estimates ? { estimates: e.estimates } : {}), modelBytes: e.modelBytes, envelopeBytes: e.envelopeBytes, escapes: e.escapes } };
  },
  tasks: {
    /** a whole encode, its network's predictions given (params.offload) */
    encode(a, backend) {
      const e = encodeCrossfield(encodeTaskInput(a), backend);
      return { result: e, transfer: [e.bytes.buffer as ArrayBuffer] };
    },
  },
  async decode(input, env) {
    try {
      return await decodeCrossfieldStream(input, env);
    } catch (e) {
      throw decodeError(e, input.header);
    }
  },
  summary(h, bytes) {
    const info = readCrossfieldStream(bytes);
    return { mode: info.mode, anchors: info.anchors.map((a) => a.var), network: info.net ? `${info.net.spec.ndim}D, ${info.net.weights.length} weights` : 'none', ...(h.params.network ? { networkKind: h.params.network } : {}) };
  },
};

/**
 * The decoder's predictions, checked against the stream's dqCrc: on the fast path first, then, where they differ,
 * on the reference path; refused if that differs too. Streams written before dqCrc are decoded on the reference
 * path (nothing to check the fast path against).
 */
async function checkedGridDiffs(net: CrossfieldNetwork, anchors: Record<string, AnchorRecon>, header: StreamHeader, env: CodecEnv): Promise<Int32Array[]> {
  const expected = header.params.dqCrc;
  if (expected !== undefined && !(Array.isArray(expected) && expected.length === net.spec.ndim && expected.every((c) => Number.isInteger(c) && c >= 0 && c <= 0xffffffff))) {
    throw new FieldpackError('BAD_STREAM', `corrupted header: cross-field dqCrc ${JSON.stringify(expected)} (one CRC-32 per axis, ${net.spec.ndim})`);
  }
  const matches = (dq: Int32Array[]) => gridDiffsChecksums(dq).every((c, k) => c === (expected as number[])[k]);
  const first = await gridDiffs(net, anchors, header.shape, header.bound.abs, env, expected === undefined ? 'reference' : (env.decodePath ?? 'fast'));
  if (expected === undefined || matches(first)) return first;
  const again = await gridDiffs(net, anchors, header.shape, header.bound.abs, {}, 'reference');
  if (matches(again)) return again;
  throw new FieldpackError('BAD_STREAM', `the network's predictions differ from the encoder's (checksums ${gridDiffsChecksums(again).map((c) => c.toString(16)).join(', ')}, the stream says ${(expected as number[]).map((c) => c.toString(16)).join(', ')}): a corrupted stream, other anchors under their hashes, or a decoder that breaks the decoding contract`);
}

/** Decodes a cross-field stream (the codec's decode, failed allocations aside). */
async function decodeCrossfieldStream({ header, bytes, rows, deps }: DecodeInput, env: CodecEnv): Promise<DecodedField> {
  const info = readCrossfieldStream(bytes);
  if (info.netBytes && info.netHash && env.hash(info.netBytes) !== info.netHash) {
    throw new FieldpackError('BAD_STREAM', `corrupted stream: the embedded network hashes to ${env.hash(info.netBytes).slice(0, 16)}..., the stream names ${info.netHash.slice(0, 16)}...`);
  }
  const names = info.anchors.map((a) => a.var);
  const recons = anchorsInOrder(deps, names);
  checkAnchorsFit(header, info.anchors, recons);
  const byName = Object.fromEntries(names.map((v, i) => [v, recons[i]!]));
  const dq = info.net ? await checkedGridDiffs(info.net, byName, header, env) : [];
  env.progress(0.5, 'hybrid decoding');
  const full = decodeCrossfield(info, bytes, dq, recons);
  if (rows[0] === 0 && rows[1] === header.shape[0]) return full;
  // the hybrid decodes whole fields: cut the rows asked for
  const whole = { ...header, chunks: [{ ...header.chunks[0]!, row0: 0, rows: header.shape[0]! }] };
  return { ...assembleDecoded(whole, [0], [{ values: full.field.values, mask: full.field.mask ?? null }], rows[0], rows[1]), header };
}
