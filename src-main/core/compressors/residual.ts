/**
 * What the residual coders (lbrc, gae) share: a base handed over by the service (deps.bases.base, another stream of
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
import type { Codec, CodecEnv, CodecPreset, CodecTask, DecodedChunk, Dependency, EncodeInput, EncodeResult } from './contract.ts';
import { guarded } from './decoded.ts';
import { assembleDecoded, chunkRowsFor, chunksForRows } from './classic/codec.ts';
import { classicInstead } from './classic/index.ts';

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
  decodeChunk(header: StreamHeader, index: number, stored: Uint8Array, base: FieldValues | null): DecodedChunk;
  /** the coder's own header params (written beside the base) */
  headerParams(params: P): Record<string, unknown>;
  /** header params checked (BAD_STREAM) before anything is decoded */
  checkHeader?(header: StreamHeader): void;
  summary?(header: StreamHeader): Record<string, unknown>;
}

function bad(msg: string): never {
  throw new FieldpackError('BAD_STREAM', msg);
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

/** Reads a chunk's flags (at most maxFlags), value count and envelope head; checks the base fits the chunk. */
export function openChunk(h: StreamHeader, index: number, stored: Uint8Array, base: FieldValues | null, maxFlags: number): OpenedChunk {
  const ch = h.chunks[index]!;
  const what = `chunk ${index}`;
  const r = new ByteReader(chunkPayload(h, index, stored), what);
  const shape = [ch.rows, ...h.shape.slice(1)];
  const n = fieldSize(shape);
  const f32 = h.dtype === 'float32';
  if (base && base.length !== n) bad(`corrupted stream: ${what}: the base has ${base.length} values, the chunk ${n}`);
  const flags = r.u8('chunk flags');
  if (flags > maxFlags) bad(`corrupted stream: bad flags ${flags} in ${what}`);
  if (r.varint('value count') !== n) bad(`corrupted stream: ${what} does not hold its rows' ${n} values`);
  return { r, what, shape, n, f32, flags, ...readChunkHead(r, flags, shape, n, f32, what, 2) };
}

/** The base a header names, checked. */
export function baseOfHeader(h: StreamHeader): { hash: string; var?: string } | null {
  const b = h.params.base as { hash?: unknown } | null | undefined;
  if (b === null || b === undefined) return null;
  if (typeof b !== 'object' || typeof b.hash !== 'string' || !/^[0-9a-f]{64}$/.test(b.hash)) bad(`corrupted header: ${h.codec} base`);
  return { hash: b.hash, ...(typeof h.metadata.variable === 'string' ? { var: h.metadata.variable } : {}) };
}

export function residualCodec<P extends { chunkValues?: number | undefined } & Record<string, unknown>>(spec: ResidualCoderSpec<P>): Codec<P> {
  const tasks: Record<string, CodecTask> = {
    encodeChunk(a, backend) {
      const r = spec.encodeChunk(a.input as ResidualChunkInput, a.params as P, backend);
      const stored = new Uint8Array(r.stored);
      return { result: { ...r, stored }, transfer: [stored.buffer] };
    },
    decodeChunk(a) {
      const r = spec.decodeChunk(a.header as StreamHeader, a.index as number, a.stored as Uint8Array, (a.base as FieldValues | null) ?? null);
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
    tasks,
    dependencies: (h): Dependency[] => {
      const b = baseOfHeader(h);
      return b ? [{ kind: 'base', hash: b.hash, ...(b.var ? { var: b.var } : {}) }] : [];
    },
    async encode(input: EncodeInput<P>, env: CodecEnv): Promise<EncodeResult> {
      const { field, bound, params, metadata, deps } = input;
      const { shape } = field;
      const base = deps.bases.base;
      if (base && base.values.length !== fieldSize(shape)) throw new FieldpackError('INVALID_ARGUMENT', `the base [${base.shape.join(', ')}] is not on the field's grid [${shape.join(', ')}]`);
      const vr = validRange(field.values, field.mask ?? null);
      const rb = resolveBound(bound, vr.max - vr.min);
      if (rb.lossless || !(rb.abs > 0)) return classicInstead(input, env, 'lossless');
      const nrmse = bound.mode === 'nrmse';
      if (spec.nrmseOnly && !nrmse) throw new FieldpackError('UNSUPPORTED', `${spec.id} codes NRMSE targets only (--bound nrmse:1e-5); a point-wise bound needs another codec`);
      // resolveBound's NRMSE bound is sqrt(3) x target x range (x tightening): the target RMSE is abs / sqrt(3)
      const rmse = rb.abs / Math.sqrt(3);
      const { mask, fillValue } = maskAndFill(field.values, field.mask);
      const rows = chunkRowsFor([...shape], params.chunkValues);
      const rowSize = fieldSize(shape) / shape[0]!;
      let row0 = 0, done = 0;
      const chunks = await Promise.all(rows.map(async (r) => {
        const a = row0 * rowSize, b = (row0 + r) * rowSize;
        row0 += r;
        const chunk: ResidualChunkInput = {
          values: field.values.subarray(a, b), mask: mask ? mask.subarray(a, b) : null, base: base ? base.values.subarray(a, b) : null,
          shape: [r, ...shape.slice(1)], fillValue, bound: rb.abs, mse: rmse * rmse, mode: nrmse ? 'nrmse' : 'abs',
        };
        const c = await env.runTask<ResidualChunkOutput>(spec.id, 'encodeChunk', { input: chunk, params });
        env.progress(++done / rows.length, `chunk ${done}/${rows.length}`);
        return c;
      }));
      const maxError = chunks.reduce((m, c) => Math.max(m, c.maxError), 0);
      // an NRMSE stream promises the target, not a point-wise bound: its header carries the largest error it has
      const streamBound = { mode: rb.mode, value: rb.value, abs: nrmse ? (maxError > 0 ? maxError : Number.MIN_VALUE) : rb.abs, lossless: false };
      const bytes = writeStream(
        {
          codec: spec.id, fieldpackVersion: FIELDPACK_VERSION, dtype: field.values instanceof Float32Array ? 'float32' : 'float64', shape: [...shape],
          bound: streamBound, validMin: vr.min, validMax: vr.max, backendId: env.backend.id, hasMask: mask !== null, fillValue,
          params: { ...spec.headerParams(params), base: base ? { hash: base.hash } : null, quantization: nrmse ? 'nrmse' : 'abs' },
          metadata, chunks: chunks.map((c, i) => ({ rows: rows[i]!, storedBytes: c.stored.length, rawBytes: c.rawBytes, crc: c.crc, ...(c.raw ? { raw: true } : {}) })),
        },
        chunks.map((c) => c.stored),
      );
      const parts: Record<string, number> = {};
      for (const c of chunks) for (const [k, v] of Object.entries(c.parts ?? {})) parts[k] = (parts[k] ?? 0) + v;
      const comparison: Record<string, number> = {};
      for (const c of chunks) for (const [k, v] of Object.entries(c.comparison ?? {})) comparison[k] = (comparison[k] ?? 0) + v;
      return {
        bytes, bound: { ...rb, abs: streamBound.abs },
        details: {
          choice: `${spec.id}${base ? ' on a base' : ''}`, ...(Object.keys(parts).length ? { parts } : {}), maxError, ...(base ? { base: base.hash } : {}),
          ...(Object.keys(comparison).length ? { comparison } : {}),
        },
      };
    },
    async decode({ header, bytes, rows, deps }, env) {
      spec.checkHeader?.(header);
      const base = baseOfHeader(header);
      const recon = base ? deps.bases[base.hash] : undefined;
      if (base && !recon) throw new FieldpackError('NOT_FOUND', `the ${spec.id} base (sha256 ${base.hash.slice(0, 16)}...) was not given`);
      const ids = chunksForRows(header, rows[0], rows[1]);
      const rowSize = fieldSize(header.shape) / header.shape[0]!;
      let done = 0;
      const decoded = await Promise.all(ids.map(async (i) => {
        const c = header.chunks[i]!;
        const b = recon ? recon.values.subarray(c.row0 * rowSize, (c.row0 + c.rows) * rowSize) : null;
        const r = await env.runTask<DecodedChunk>(spec.id, 'decodeChunk', { header, index: i, stored: chunkBytes(header, bytes, i), base: b });
        env.progress(++done / ids.length, `chunk ${done}/${ids.length}`);
        return r;
      }));
      return guarded(header, () => assembleDecoded(header, ids, decoded, rows[0], rows[1]));
    },
    summary: (h) => {
      const base = baseOfHeader(h);
      return { ...(spec.summary?.(h) ?? {}), base: base ? `${base.hash.slice(0, 16)}...` : 'none', quantization: String(h.params.quantization ?? '') };
    },
  };
}
