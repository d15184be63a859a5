/**
 * The compression service: what the API, the CLI and jobs call.
 *
 *   compressField(field, opts)        -> { bytes, plan, bound, ... }   (chunks across worker threads)
 *   decompressStream(bytes, opts)     -> { field, header, rows }        (whole field, or rows [a, b) only)
 *   inspectStream(bytes)              -> StreamHeader                   (codec, params, bound, metadata, chunks)
 *
 * workers: 0 = in this thread; N >= 1 = a warm pool of N worker threads. The output bytes never depend on N.
 * Long calls take onProgress(fraction, message) and an AbortSignal, so a job handler can pass its JobContext.
 */
import './zstd-backend.ts';
import { zstdBackend } from './zstd-backend.ts';
import { getPool } from './pool.ts';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import {
  type ClassicOptions,
  type ClassicPlan,
  type DecodedChunk,
  type DecodedField,
  type EncodedChunk,
  assembleDecoded,
  assembleStream,
  chunkInputs,
  chunksForRows,
  decodeChunk,
  decodeChunkStored,
  encodeChunk,
  planCompression,
} from '../../core/compressors/classic.ts';
import { type StreamHeader, type StreamMetadata, chunkBytes, readHeader } from '../../core/codec/stream/format.ts';
import { type ErrorStats, errorStats } from '../../core/metrics/index.ts';
import type { JobContext } from '../jobs/types.ts';

export { closePools } from './pool.ts';
export type { ClassicPlan, DecodedField, StreamHeader };

export interface RunControl {
  workers?: number;
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
}

export interface CompressOptions extends ClassicOptions, RunControl {
  /** Decode the stream again and check every valid point against the bound before returning (default true). */
  verify?: boolean;
}

export interface CompressResult {
  bytes: Uint8Array;
  plan: ClassicPlan;
  /** e.g. "rel 0.001 -> abs 0.0412" */
  boundLabel: string;
  absBound: number;
  lossless: boolean;
  compressionRatio: number;
  /** when verify ran */
  verification?: ErrorStats;
  seconds: number;
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
}

export function metadataOf(field: Field, source?: string): StreamMetadata {
  return {
    variable: field.name,
    ...(field.units ? { units: field.units } : {}),
    dims: field.dims,
    sourceDtype: field.sourceDtype,
    ...(source ? { source } : {}),
    attributes: field.attributes,
  };
}

async function runChunks<T>(n: number, fn: (i: number) => Promise<T> | T, ctl: RunControl, label: string): Promise<T[]> {
  const out = new Array<T>(n);
  let done = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      checkAbort(ctl.signal);
      out[i] = await fn(i);
      done++;
      ctl.onProgress?.(done / n, `${label} ${done}/${n}`);
    }),
  );
  checkAbort(ctl.signal);
  return out;
}

export async function compressField(field: Field | Pick<Field, 'values' | 'shape' | 'mask'>, opts: CompressOptions): Promise<CompressResult> {
  const t0 = performance.now();
  checkAbort(opts.signal);
  const plan = planCompression(field, opts, zstdBackend);
  const inputs = chunkInputs(plan, field);
  const workers = opts.workers ?? 0;
  let chunks: EncodedChunk[];
  if (workers <= 0) {
    chunks = [];
    for (let i = 0; i < inputs.length; i++) {
      checkAbort(opts.signal);
      const c = inputs[i]!;
      chunks.push(encodeChunk(plan, c.values, c.mask, c.shape, zstdBackend));
      opts.onProgress?.((i + 1) / inputs.length, `chunk ${i + 1}/${inputs.length}`);
    }
  } else {
    const pool = getPool(workers);
    chunks = await runChunks(inputs.length, (i) => pool.encode(plan, inputs[i]!.values, inputs[i]!.mask, inputs[i]!.shape), opts, 'chunk');
  }
  const metadata = opts.metadata ?? ('name' in field ? metadataOf(field as Field) : {});
  const bytes = assembleStream(plan, chunks, metadata);
  const result: CompressResult = {
    bytes,
    plan,
    boundLabel: plan.bound.label,
    absBound: plan.bound.abs,
    lossless: plan.bound.lossless,
    compressionRatio: (field.values.length * field.values.BYTES_PER_ELEMENT) / bytes.length,
    seconds: (performance.now() - t0) / 1000,
  };
  if (opts.verify ?? true) {
    const d = await decompressStream(bytes, { workers, signal: opts.signal });
    const st = errorStats(field.values, d.field.values, field.mask ?? null, plan.bound.abs);
    result.verification = st;
    if (st.pointsOverBound > 0 || !st.nonFiniteExact) {
      throw new FieldpackError('BOUND_VIOLATED', `${st.pointsOverBound} points exceed the bound ${plan.bound.abs} after decompression`, st);
    }
  }
  return result;
}

export interface DecompressOptions extends RunControl {
  /** decode only rows [start, end) along the first dimension (only the chunks that hold them are read) */
  rows?: [number, number];
}

export async function decompressStream(bytes: Uint8Array, opts: DecompressOptions = {}): Promise<DecodedField> {
  checkAbort(opts.signal);
  const h = readHeader(bytes);
  const [start, end] = opts.rows ?? [0, h.shape[0]!];
  const ids = chunksForRows(h, start, end);
  const workers = opts.workers ?? 0;
  let decoded: DecodedChunk[];
  if (workers <= 0) decoded = await runChunks(ids.length, (j) => decodeChunk(h, bytes, ids[j]!), opts, 'chunk');
  else {
    const pool = getPool(workers);
    decoded = await runChunks(ids.length, (j) => pool.decode(h, ids[j]!, chunkBytes(h, bytes, ids[j]!)), opts, 'chunk');
  }
  if (!opts.rows && bytes.length > h.totalBytes) {
    throw new FieldpackError('BAD_STREAM', `corrupted stream: ${bytes.length - h.totalBytes} unexpected bytes after the last chunk`);
  }
  return assembleDecoded(h, ids, decoded, start, end);
}

export function inspectStream(bytes: Uint8Array): StreamHeader {
  return readHeader(bytes);
}

/** Job-runnable forms (a JobHandler's ctx maps onto onProgress/signal). */
export function compressJob(input: { field: Field; options: ClassicOptions & { workers?: number; verify?: boolean } }, ctx: JobContext) {
  return compressField(input.field, { ...input.options, onProgress: (f, m) => ctx.progress(f, m), signal: ctx.signal });
}

export function decompressJob(input: { bytes: Uint8Array; workers?: number; rows?: [number, number] }, ctx: JobContext) {
  return decompressStream(input.bytes, { workers: input.workers, rows: input.rows, onProgress: (f, m) => ctx.progress(f, m), signal: ctx.signal });
}

export { decodeChunkStored };
