/**
 * What the residual coders (lbrc, gae, nglr) share: a base handed over by the service (deps.bases.base, another stream of
 * the field decoded) and named in the header by hash, chunks along the first dimension run as worker tasks, NRMSE
 * targets met by the coder itself (the header then carries the largest error the stream has as its point-wise
 * bound), lossless bounds sent to the classic codec. Each coder gives its chunk encoder and decoder and its params.
 * Pure: no Node imports.
 */
import { z } from 'zod';
import { FieldpackError } from '../errors.ts';
import { type FieldValues, fieldSize } from '../field.ts';
import { FIELDPACK_VERSION } from '../version.ts';
import { resolveBound, validRange } from '../codec/bound.ts';
import { chunkBytes, chunkPayload, writeStream, type StreamHeader } from '../codec/stream/format.ts';
import { ByteReader } from '../codec/bytes.ts';
import { type ChunkHead, maskAndFill, readChunkHead } from '../codec/envelope.ts';
import type { Codec, CodecEnv, CodecPreset, CodecTask, DecodedChunk, DecodePath, Dependency, EncodeInput, EncodeResult } from './contract.ts';
import { guarded } from './decoded.ts';
import { mapChunks } from './chunk-tasks.ts';
import { assembleDecoded, chunkRowsFor, chunksForRows } from './classic/codec.ts';
import { classicInstead } from './classic/index.ts';
import { ulpAt } from '../codec/grid.ts';

/** What a chunk encoder gets (besides its coder's own params). */
export interface ResidualChunkInput {
  values: FieldValues;
  mask: Uint8Array | null;
  base: FieldValues | null;
  shape: number[];
  fillValue: number | null;
  /** point-wise bound (abs mode) */
  bound: number;
  /** allowed mean squared error per point, (target x range)² (nrmse mode) */
  mse: number;
  mode: 'abs' | 'nrmse';
  /** the coder's model file (coders with a modelParam), and whether this chunk carries it (chunk 0, embedModel) */
  model?: Uint8Array | null;
  embedModel?: boolean;
}

export interface ResidualChunkOutput {
  stored: Uint8Array;
  raw: boolean;
  rawBytes: number;
  crc: number;
  maxError: number;
  parts?: Record<string, number>;
  /** sizes of alternative codings measured on the way (reported, not stored) */
  comparison?: Record<string, number>;
  /** counts the coder reports (summed over chunks into details.counts), e.g. chunks that used a network */
  counts?: Record<string, number>;
  /** false: the chunk decodes without the coder's model (it kept the coding without the network) */
  usesModel?: boolean;
}

export interface ResidualCoderSpec<P extends { chunkValues?: number | undefined }> {
  id: string;
  label: string;
  description: string;
  params: z.ZodType<P>;
  presets: CodecPreset<P>[];
  /** NRMSE only (the coder has no point-wise mode) */
  nrmseOnly?: boolean;
  encodeChunk(input: ResidualChunkInput, params: P, backend: CodecEnv['backend']): ResidualChunkOutput;
  decodeChunk(header: StreamHeader, index: number, stored: Uint8Array, base: FieldValues | null, model: Uint8Array | null, path: DecodePath): DecodedChunk;
  /** a model the coder needs (params[key]: its sha256 once the service resolved it; params.embedModel puts it in chunk 0) */
  modelParam?: Codec['modelParam'];
  /** checks a model file's bytes (BAD_FILE for a file given, BAD_STREAM for one embedded) before chunks run */
  checkModel?(bytes: Uint8Array, code: 'BAD_FILE' | 'BAD_STREAM'): void;
  /**
   * whether the encoder keeps the core codec's stream of the field where it is smaller (a user's `fallback` param;
   * never with a base, whose bytes are already spent)
   */
  fallsBack?(params: P): boolean;
  /** the coder's own header params (written beside the base) */
  headerParams(params: P): Record<string, unknown>;
  /** header params checked (BAD_STREAM) before anything is decoded */
  checkHeader?(header: StreamHeader): void;
  summary?(header: StreamHeader): Record<string, unknown>;
}

function bad(msg: string): never {
  throw new FieldpackError('BAD_STREAM', msg);
}

/** Chunk flag of a residual coder's chunk 0 that carries its model (a varint length and the file's bytes after the flags). */
export const F_EMBEDDED_MODEL = 16;

/** The model chunk 0 embeds, or null. */
export function embeddedResidualModel(h: StreamHeader, stored0: Uint8Array): Uint8Array | null {
  const r = new ByteReader(chunkPayload(h, 0, stored0), 'chunk 0');
  if (!(r.u8('chunk flags') & F_EMBEDDED_MODEL)) return null;
  return r.bytes(r.varint('model length'), 'embedded model').slice();
}

/** A residual coder's chunk opened for decoding: its reader past the envelope's head, its shape and flags. */
export interface OpenedChunk extends ChunkHead {
  r: ByteReader;
  what: string;
  shape: number[];
  n: number;
  f32: boolean;
  flags: number;
}

/**
 * Reads a chunk's flags (at most maxFlags), value count and envelope head; checks the base fits the chunk. Coders
 * with a model (embedsModel) may carry it in chunk 0 under F_EMBEDDED_MODEL; it is skipped here.
 */
export function openChunk(h: StreamHeader, index: number, stored: Uint8Array, base: FieldValues | null, maxFlags: number, embedsModel = false): OpenedChunk {
  const ch = h.chunks[index]!;
  const what = `chunk ${index}`;
  const r = new ByteReader(chunkPayload(h, index, stored), what);
  const shape = [ch.rows, ...h.shape.slice(1)];
  const n = fieldSize(shape);
  const f32 = h.dtype === 'float32';
  if (base && base.length !== n) bad(`corrupted stream: ${what}: the base has ${base.length} values, the chunk ${n}`);
  const flags = r.u8('chunk flags');
  if (flags > maxFlags || (embedsModel && flags & F_EMBEDDED_MODEL && index !== 0)) bad(`corrupted stream: bad flags ${flags} in ${what}`);
  if (embedsModel && flags & F_EMBEDDED_MODEL) r.bytes(r.varint('model length'), 'embedded model');
  if (r.varint('value count') !== n) bad(`corrupted stream: ${what} does not hold its rows' ${n} values`);
  return { r, what, shape, n, f32, flags, ...readChunkHead(r, flags, shape, n, f32, what, 2) };
}

/** The model hash a residual coder's header names, checked. */
function modelHashOf(h: StreamHeader, key: string): string {
  const m = h.params[key];
  if (typeof m !== 'string' || !/^[0-9a-f]{64}$/.test(m)) bad(`corrupted header: the ${h.codec} stream's model hash ${JSON.stringify(m)}`);
  return m;
}

/** The base a header names, checked. */
export function baseOfHeader(h: StreamHeader): { hash: string; var?: string } | null {
  const b = h.params.base as { hash?: unknown } | null | undefined;
  if (b === null || b === undefined) return null;
  if (typeof b !== 'object' || typeof b.hash !== 'string' || !/^[0-9a-f]{64}$/.test(b.hash)) bad(`corrupted header: ${h.codec} base`);
  return { hash: b.hash, ...(typeof h.metadata.variable === 'string' ? { var: h.metadata.variable } : {}) };
}

/**
 * A field cut into the chunks a residual coder encodes (slabs along dim 0, chunkRowsFor), each with its share of
 * the base and the bound: `abs` the resolved point-wise bound (nrmse: resolveBound's sqrt(3) x target x range, so
 * the target RMSE is abs / sqrt(3)). Trainers prepare their data through this too, so they see the coder's chunks.
 */
export function residualChunkInputs(
  field: { values: FieldValues; shape: readonly number[]; mask?: Uint8Array | null | undefined }, base: FieldValues | null, abs: number, nrmse: boolean, chunkValues?: number,
): { mask: Uint8Array | null; fillValue: number | null; rows: number[]; inputs: ResidualChunkInput[] } {
  const { shape } = field;
  const rmse = abs / Math.sqrt(3);
  const { mask, fillValue } = maskAndFill(field.values, field.mask ?? undefined);
  const rows = chunkRowsFor([...shape], chunkValues);
  const rowSize = fieldSize(shape) / shape[0]!;
  let row0 = 0;
  const inputs = rows.map((r): ResidualChunkInput => {
    const a = row0 * rowSize, b = (row0 + r) * rowSize;
    row0 += r;
    return {
      values: field.values.subarray(a, b), mask: mask ? mask.subarray(a, b) : null, base: base ? base.subarray(a, b) : null,
      shape: [r, ...shape.slice(1)], fillValue, bound: abs, mse: rmse * rmse, mode: nrmse ? 'nrmse' : 'abs',
    };
  });
  return { mask, fillValue, rows, inputs };
}

export function residualCodec<P extends { chunkValues?: number | undefined } & Record<string, unknown>>(spec: ResidualCoderSpec<P>): Codec<P> {
  const tasks: Record<string, CodecTask> = {
    encodeChunk(a, backend) {
      const r = spec.encodeChunk(a.input as ResidualChunkInput, a.params as P, backend);
      const stored = new Uint8Array(r.stored);
      return { result: { ...r, stored }, transfer: [stored.buffer] };
    },
    decodeChunk(a) {
      const r = spec.decodeChunk(a.header as StreamHeader, a.index as number, a.stored as Uint8Array, (a.base as FieldValues | null) ?? null, (a.model as Uint8Array | null) ?? null, a.path === 'reference' ? 'reference' : 'fast');
      return { result: r, transfer: [r.values.buffer as ArrayBuffer, ...(r.mask ? [r.mask.buffer as ArrayBuffer] : [])] };
    },
  };
  return {
    id: spec.id,
    label: spec.label,
    description: spec.description,
    params: spec.params,
    presets: spec.presets,
    needsDependencies: false,
    takesBase: true,
    ...(spec.nrmseOnly ? { boundModes: ['nrmse'] as const } : {}),
    tasks,
    ...(spec.modelParam ? { modelParam: spec.modelParam } : {}),
    dependencies: (h): Dependency[] => {
      const b = baseOfHeader(h);
      const m = spec.modelParam && h.params[spec.modelParam.key] !== undefined && !h.params.embedded ? modelHashOf(h, spec.modelParam.key) : null;
      return [...(b ? [{ kind: 'base' as const, hash: b.hash, ...(b.var ? { var: b.var } : {}) }] : []), ...(m ? [{ kind: 'model' as const, hash: m, label: spec.id }] : [])];
    },
    async encode(input: EncodeInput<P>, env: CodecEnv): Promise<EncodeResult> {
      const { field, bound, params, metadata, deps } = input;
      const { shape } = field;
      const base = deps.bases.base;
      let model: Uint8Array | null = null;
      // 'none': the coder runs without its network (an ablation the bench reports beside it)
      if (spec.modelParam && params[spec.modelParam.key] !== 'none') {
        const ref = String(params[spec.modelParam.key] ?? '');
        model = deps.models[ref] ?? null;
        if (!model) throw new FieldpackError('NOT_FOUND', `the ${spec.id} model ${ref.slice(0, 16)}... was not given`);
        spec.checkModel?.(model, 'BAD_FILE');
      }
      const embedModel = model !== null && params.embedModel === true;
      if (base && base.values.length !== fieldSize(shape)) throw new FieldpackError('INVALID_ARGUMENT', `the base [${base.shape.join(', ')}] is not on the field's grid [${shape.join(', ')}]`);
      const vr = validRange(field.values, field.mask ?? null);
      const rb = resolveBound(bound, vr.max - vr.min);
      if (rb.lossless || !(rb.abs > 0)) return classicInstead(input, env, 'lossless');
      // a bound below half a float step at the field's largest values changes nearly no value but exactly: the
      // residual coder escaped nearly every point (abs 1e-9 on WRF's T: 1.5 x the lossless stream, 20 x on packed
      // fields); the classic codec codes the field at that bound (its exact values where smaller)
      const f32 = field.values instanceof Float32Array;
      if (rb.abs < ulpAt(Math.max(Math.abs(vr.min), Math.abs(vr.max)), f32) / 2) return classicInstead(input, env, 'a bound below the float step of the values');
      const nrmse = bound.mode === 'nrmse';
      if (spec.nrmseOnly && !nrmse) throw new FieldpackError('UNSUPPORTED', `${spec.id} codes NRMSE targets only (--bound nrmse:1e-5); a point-wise bound needs another codec`);
      const { mask, fillValue, rows, inputs } = residualChunkInputs(field, base?.values ?? null, rb.abs, nrmse, params.chunkValues);
      let done = 0;
      const chunks = await mapChunks(inputs.length, env, async (i, alone, ahead) => {
        const chunk = inputs[i]!;
        const withModel: ResidualChunkInput = model ? { ...chunk, model, embedModel: embedModel && i === 0 } : chunk;
        const c = await env.runTask<ResidualChunkOutput>(spec.id, 'encodeChunk', { input: withModel, params }, { alone, ahead });
        env.progress(++done / rows.length, `chunk ${done}/${rows.length}`);
        return c;
      });
      // a model no chunk used is not named: the stream decodes without its file (or its bytes, chunk 0 coded again)
      const modelUnused = model !== null && chunks.every((c) => c.usesModel === false);
      if (modelUnused && embedModel) chunks[0] = await env.runTask<ResidualChunkOutput>(spec.id, 'encodeChunk', { input: { ...inputs[0]!, model, embedModel: false }, params });
      const named = modelUnused ? null : model;
      const maxError = chunks.reduce((m, c) => Math.max(m, c.maxError), 0);
      // an NRMSE stream promises the target, not a point-wise bound: its header carries the largest error it has
      const streamBound = { mode: rb.mode, value: rb.value, abs: nrmse ? (maxError > 0 ? maxError : Number.MIN_VALUE) : rb.abs, lossless: false };
      const bytes = writeStream(
        {
          codec: spec.id, fieldpackVersion: FIELDPACK_VERSION, dtype: field.values instanceof Float32Array ? 'float32' : 'float64', shape: [...shape],
          bound: streamBound, validMin: vr.min, validMax: vr.max, backendId: env.backend.id, hasMask: mask !== null, fillValue,
          params: {
            ...spec.headerParams(params), base: base ? { hash: base.hash } : null, quantization: nrmse ? 'nrmse' : 'abs',
            ...(named ? { [spec.modelParam!.key]: env.hash(named), ...(embedModel ? { embedded: true } : {}) } : {}),
          },
          metadata, chunks: chunks.map((c, i) => ({ rows: rows[i]!, storedBytes: c.stored.length, rawBytes: c.rawBytes, crc: c.crc, ...(c.raw ? { raw: true } : {}) })),
        },
        chunks.map((c) => c.stored),
      );
      const parts: Record<string, number> = {};
      for (const c of chunks) for (const [k, v] of Object.entries(c.parts ?? {})) parts[k] = (parts[k] ?? 0) + v;
      const comparison: Record<string, number> = {};
      for (const c of chunks) for (const [k, v] of Object.entries(c.comparison ?? {})) comparison[k] = (comparison[k] ?? 0) + v;
      const counts: Record<string, number> = {};
      for (const c of chunks) for (const [k, v] of Object.entries(c.counts ?? {})) counts[k] = (counts[k] ?? 0) + v;
      const details = {
        choice: `${spec.id}${base ? ' on a base' : ''}${modelUnused ? ', the model left out (no chunk used it)' : ''}`, ...(modelUnused ? { modelUnused: true } : {}), ...(Object.keys(parts).length ? { parts } : {}), maxError, ...(base ? { base: base.hash } : {}),
        ...(Object.keys(comparison).length ? { comparison } : {}), ...(Object.keys(counts).length ? { counts } : {}),
      };
      if (!base && spec.fallsBack?.(params)) {
        const core = await classicInstead(input, env, `smaller than the ${spec.id} stream`);
        if (core.bytes.length < bytes.length) return { ...core, details: { ...core.details, [`${spec.id}Bytes`]: bytes.length, [spec.id]: details } };
      }
      return { bytes, bound: { ...rb, abs: streamBound.abs }, details };
    },
    async decode({ header, bytes, rows, deps }, env) {
      spec.checkHeader?.(header);
      const base = baseOfHeader(header);
      const recon = base ? deps.bases[base.hash] : undefined;
      if (base && !recon) throw new FieldpackError('NOT_FOUND', `the ${spec.id} base (sha256 ${base.hash.slice(0, 16)}...) was not given`);
      let model: Uint8Array | null = null;
      if (spec.modelParam && header.params[spec.modelParam.key] !== undefined) {
        if (header.params.embedded !== undefined) {
          if (header.params.embedded !== true) bad(`corrupted header: ${spec.id} embedded ${JSON.stringify(header.params.embedded)}`);
          model = embeddedResidualModel(header, chunkBytes(header, bytes, 0));
          if (!model) bad(`corrupted stream: the ${spec.id} stream says it embeds its model, chunk 0 does not hold it`);
          // the model the header names, and no other
          if (env.hash(model) !== modelHashOf(header, spec.modelParam.key)) bad(`corrupted stream: the ${spec.id} model in chunk 0 is not the one the header names`);
          spec.checkModel?.(model, 'BAD_STREAM');
        } else {
          const hash = modelHashOf(header, spec.modelParam.key);
          model = deps.models[hash] ?? null;
          if (!model) throw new FieldpackError('NOT_FOUND', `the ${spec.id} model (sha256 ${hash.slice(0, 16)}...) was not given`);
          spec.checkModel?.(model, 'BAD_FILE');
        }
      }
      const ids = chunksForRows(header, rows[0], rows[1]);
      const rowSize = fieldSize(header.shape) / header.shape[0]!;
      let done = 0;
      const decoded = await mapChunks(ids.length, env, async (j, alone, ahead) => {
        const i = ids[j]!;
        const c = header.chunks[i]!;
        const b = recon ? recon.values.subarray(c.row0 * rowSize, (c.row0 + c.rows) * rowSize) : null;
        const r = await env.runTask<DecodedChunk>(spec.id, 'decodeChunk', { header, index: i, stored: chunkBytes(header, bytes, i), base: b, model, path: env.decodePath ?? 'fast' }, { alone, ahead });
        env.progress(++done / ids.length, `chunk ${done}/${ids.length}`);
        return r;
      });
      return guarded(header, () => assembleDecoded(header, ids, decoded, rows[0], rows[1]));
    },
    summary: (h) => {
      const base = baseOfHeader(h);
      return { ...(spec.summary?.(h) ?? {}), base: base ? `${base.hash.slice(0, 16)}...` : 'none', quantization: String(h.params.quantization ?? '') };
    },
  };
}
