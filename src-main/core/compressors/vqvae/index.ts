/**
 * The VQ-VAE codec's registration (codec.ts has the method and the chunk layout). Its dependency is the model, by
 * content hash (unless the stream embeds it); the codec service finds model files (the shipped default, the model
 * folders) and hands their bytes over. Chunks hold whole maps and are independent: encode and decode run them as
 * worker tasks, and the bytes never depend on how many workers ran them.
 *
 * Per field, the encoder keeps the smaller of this stream and the core codec's (fallback = true): the autoencoder
 * never costs more than the classic codec. Per interpolation pass, x̂ is used only where it pays (interp-hybrid).
 */
import { z } from 'zod';
import { FieldpackError } from '../../errors.ts';
import { fieldSize } from '../../field.ts';
import { FIELDPACK_VERSION } from '../../version.ts';
import { resolveBound, validRange } from '../../codec/bound.ts';
import { maskAndFill } from '../../codec/envelope.ts';
import { INTERP_TUNINGS } from '../../codec/predictors/interp.ts';
import { chunkBytes, readHeader, writeStream, type StreamHeader } from '../../codec/stream/format.ts';
import type { Codec, CodecTask, DecodePath, DecodedChunk, Dependency } from '../contract.ts';
import { guarded } from '../decoded.ts';
import { mapChunks } from '../chunk-tasks.ts';
import { assembleDecoded, chunkRowsFor, chunksForRows } from '../classic/codec.ts';
import { classicInstead } from '../classic/index.ts';
import { type ChunkEncodeArgs, type ChunkEncoded, VQVAE_CODEC_ID, chooseScaling, decodeChunk, embeddedModel, encodeChunk, logScalingOf, mapsOf, modelLearnedLog, modelOf } from './codec.ts';

export const VqvaeParams = z.strictObject({
  /** the model's content hash (sha256 hex); the service turns 'default', a path or a hash prefix into it */
  model: z.string().trim().min(1).default('default'),
  /** put the model inside the stream (counted in its size; decodable without the model file) */
  embedModel: z.boolean().default(false),
  /** keep the core codec's stream when it is smaller (per field) */
  fallback: z.boolean().default(true),
  /** level-dependent bounds of the interpolation (index into the tunings) */
  tune: z.number().int().min(0).max(INTERP_TUNINGS.length - 1).default(0),
  /** pad maps periodically along the last axis; auto: when the last dimension's coordinate spans 360 degrees */
  wrap: z.union([z.boolean(), z.literal('auto')], 'true, false or auto').default('auto'),
  /**
   * what the network sees: the standardised values (linear) or the standardised log10(x + offset) (log: skewed,
   * non-negative fields such as humidity or rain); auto: log when the model was trained on log-scaled maps and the
   * field's valid values are >= 0 with skewness >= 2 (codec.ts, chooseScaling)
   */
  scaling: z.enum(['auto', 'linear', 'log']).default('auto'),
  chunkValues: z.number().int().min(1024).max(1 << 28).optional(),
});
export type VqvaeParams = z.infer<typeof VqvaeParams>;

const SHA256 = /^[0-9a-f]{64}$/;

const tasks: Record<string, CodecTask> = {
  encodeChunk(a, backend) {
    const r = encodeChunk(a as unknown as ChunkEncodeArgs, backend);
    const stored = new Uint8Array(r.stored);
    return { result: { ...r, stored }, transfer: [stored.buffer] };
  },
  decodeChunk(a) {
    const r = decodeChunk(a.header as StreamHeader, a.index as number, a.stored as Uint8Array, (a.model as Uint8Array | null) ?? null, (a.path as DecodePath | undefined) ?? 'fast');
    return { result: r, transfer: [r.values.buffer as ArrayBuffer, ...(r.mask ? [r.mask.buffer as ArrayBuffer] : [])] };
  },
};

/**
 * Chunks along dim 0, as the core codec's: whole maps for fields of 3+ dims; bands of a 2D map, a multiple of 16
 * rows each (every band is a map of its own to the network), so large maps encode and decode on several workers.
 */
function chunkRows(shape: number[], chunkValues?: number): number[] {
  const rows = chunkRowsFor(shape, chunkValues);
  if (shape.length > 2 || rows.length === 1) return rows;
  const per = Math.ceil(rows[0]! / 16) * 16;
  const out: number[] = [];
  for (let left = shape[0]!; left > 0; left -= per) out.push(Math.min(per, left));
  return out;
}

/** The last dimension's coordinate is longitude in degrees covering the globe (n steps of 360 / n). */
function globalInLongitude(field: { dims?: string[]; coordinates?: Record<string, { values: ArrayLike<number>; attributes?: Record<string, unknown> }> }): boolean {
  const dim = field.dims?.at(-1);
  const c = dim ? field.coordinates?.[dim] : undefined;
  const units = String(c?.attributes?.units ?? '').toLowerCase();
  if (!c || c.values.length < 3 || !/degree/.test(units) || /north|_n\b/.test(units)) return false;
  const v = c.values, n = v.length;
  const step = (v[n - 1]! - v[0]!) / (n - 1);
  return Math.abs(Math.abs(step) * n - 360) < 1e-3 * 360;
}

function modelHashOf(h: StreamHeader): string {
  const m = h.params.model;
  if (typeof m !== 'string' || !SHA256.test(m)) throw new FieldpackError('BAD_STREAM', `corrupted header: the VQ-VAE stream's model hash ${JSON.stringify(m)}`);
  return m;
}

export const vqvaeCodec: Codec<VqvaeParams> = {
  id: VQVAE_CODEC_ID,
  label: 'Fieldpack VQ-VAE',
  description: 'hierarchical VQ-VAE autoencoder (indices range-coded, z as y\'s context) + the residual coded by the core\'s interpolation at the bound; falls back to the classic codec where smaller',
  params: VqvaeParams,
  presets: [{ name: 'vqvae', label: 'Fieldpack VQ-VAE', description: 'learned base (the shipped default model unless another is chosen) + bounded residual', params: VqvaeParams.parse({}) }],
  needsDependencies: false,
  dependencies: (h): Dependency[] => (h.params.embedded ? [] : [{ kind: 'model', hash: modelHashOf(h), label: 'VQ-VAE' }]),
  tasks,
  modelParam: { key: 'model', extension: '.fpvq', defaultFile: 'vqvae-default.fpvq' },
  async encode(input, env) {
    const { field, bound, params, metadata, deps } = input;
    // "none" runs a codec without its network (nglr); the VQ-VAE is its network
    if (params.model === 'none') throw new FieldpackError('INVALID_ARGUMENT', 'the VQ-VAE codes with a model: give default, a .fpvq file or a sha256 prefix (model none is for codecs that run without one, such as nglr)');
    const model = deps.models[params.model];
    if (!model) throw new FieldpackError('NOT_FOUND', `the VQ-VAE model ${params.model.slice(0, 16)}... was not given`);
    const parsed = modelOf(model);
    const { shape } = field;
    const fallback = (why: string) => classicInstead(input, env, why);
    if (shape.length < 2 && params.fallback) return fallback('no 2D maps');
    mapsOf(shape);
    const vr = validRange(field.values, field.mask ?? null);
    const rb = resolveBound(bound, vr.max - vr.min);
    if (rb.lossless || !(rb.abs > 0)) return fallback('lossless');
    const { mask, fillValue } = maskAndFill(field.values, field.mask);
    const wrap = params.wrap === 'auto' ? globalInLongitude(field) : params.wrap;
    const log = chooseScaling(params.scaling, field.values, field.mask ?? null, vr, rb.abs, modelLearnedLog(parsed.training));
    const rows = chunkRows(shape, params.chunkValues);
    const rowSize = fieldSize(shape) / shape[0]!;
    // each chunk's first row
    const starts: number[] = [];
    let row0 = 0;
    for (const r of rows) {
      starts.push(row0);
      row0 += r;
    }
    let done = 0;
    const chunks = await mapChunks(rows.length, env, async (i, alone, ahead) => {
      const r = rows[i]!;
      const a = starts[i]! * rowSize, b = (starts[i]! + r) * rowSize;
      const args: ChunkEncodeArgs = {
        model, values: field.values.subarray(a, b), mask: mask ? mask.subarray(a, b) : null, shape: [r, ...shape.slice(1)],
        absBound: rb.abs, fillValue, tune: params.tune, wrap, latents: true, embedModel: params.embedModel && i === 0, log,
      };
      const withLatents = await env.runTask<ChunkEncoded>(VQVAE_CODEC_ID, 'encodeChunk', args as unknown as Record<string, unknown>, { alone, ahead });
      env.progress(++done / rows.length, `chunk ${done}/${rows.length}`);
      return withLatents;
    });
    const bytes = writeStream(
      {
        codec: VQVAE_CODEC_ID, fieldpackVersion: FIELDPACK_VERSION, dtype: field.values instanceof Float32Array ? 'float32' : 'float64', shape: [...shape],
        bound: { mode: rb.mode, value: rb.value, abs: rb.abs, lossless: false }, validMin: vr.min, validMax: vr.max, backendId: env.backend.id,
        hasMask: mask !== null, fillValue,
        params: { model: env.hash(model), ...(params.embedModel ? { embedded: true } : {}), tune: params.tune, config: parsed.config, scaling: log ? 'log' : 'linear', ...(log ? { offset: log.offset } : {}) },
        metadata, chunks: chunks.map((c, i) => ({ rows: rows[i]!, storedBytes: c.stored.length, rawBytes: c.rawBytes, crc: c.crc, ...(c.raw ? { raw: true } : {}) })),
      },
      chunks.map((c) => c.stored),
    );
    const bits = (k: keyof ChunkEncoded['parts']) => chunks.reduce((s, c) => s + c.parts[k], 0);
    const details = {
      choice: `vqvae${wrap ? ' (wrap)' : ''}${log ? ' (log)' : ''}`, model: env.hash(model), embedded: params.embedModel, wrap, scaling: log ? 'log' : 'linear',
      ...(log ? { offset: log.offset } : {}),
      ...(typeof parsed.training.seconds === 'number' ? { trainingSeconds: parsed.training.seconds } : {}), escapes: chunks.reduce((s, c) => s + c.escapes, 0),
      // bytes before the lossless stage, by part (the stage packs the payload as a whole)
      parts: { latents: bits('latents'), residual: bits('residual'), mask: bits('mask'), model: bits('model') },
    };
    if (params.fallback) {
      const core = await fallback('smaller than the VQ-VAE stream');
      if (core.bytes.length < bytes.length) return { ...core, details: { ...core.details, vqvaeBytes: bytes.length, vqvae: details } };
    }
    return { bytes, bound: rb, details };
  },
  async decode({ header, bytes, rows, deps }, env) {
    const ids = chunksForRows(header, rows[0], rows[1]);
    let model: Uint8Array | null = null;
    if (header.params.embedded) model = embeddedModel(header, chunkBytes(header, bytes, 0));
    else {
      model = deps.models[modelHashOf(header)] ?? null;
      if (!model) throw new FieldpackError('NOT_FOUND', `the VQ-VAE model (sha256 ${modelHashOf(header).slice(0, 16)}...) was not given`);
    }
    if (model) modelOf(model, 'BAD_STREAM');
    logScalingOf(header); // a bad scaling fails here, before any chunk
    let done = 0;
    const decoded = await mapChunks(ids.length, env, async (j, alone, ahead) => {
      const i = ids[j]!;
      const r = await env.runTask<DecodedChunk>(VQVAE_CODEC_ID, 'decodeChunk', { header, index: i, stored: chunkBytes(header, bytes, i), model, path: env.decodePath ?? 'fast' }, { alone, ahead });
      env.progress(++done / ids.length, `chunk ${done}/${ids.length}`);
      return r;
    });
    return guarded(header, () => assembleDecoded(header, ids, decoded, rows[0], rows[1]));
  },
  summary(h, bytes) {
    const c = h.params.config as { channels?: number[]; latentDim?: number; codesY?: number; codesZ?: number } | undefined;
    const size = c && Array.isArray(c.channels) ? `channels ${c.channels.join('/')}, latent ${c.latentDim}, codes ${c.codesY}/${c.codesZ}` : null;
    return { model: `${String(h.params.model ?? '').slice(0, 16)}...${h.params.embedded ? ' (embedded)' : ''}`, ...(size ? { network: size } : {}), scaling: h.params.scaling === 'log' ? `log10(x + ${String(h.params.offset)})` : 'linear', chunks: readHeader(bytes).chunks.length };
  },
};
