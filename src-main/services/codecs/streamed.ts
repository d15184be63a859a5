/**
 * Fields larger than memory comfortably holds: compressed from slabs of rows read one after another, decompressed
 * chunk by chunk into a raw file, verified slab against chunk. Peak memory follows the chunk size and the number of
 * workers, never the variable's size.
 *
 *   encodeRowsToFile(source, opts, out)   the codec's encodeRows: chunks to a side file, then header + chunks -> out
 *   decodedRows(file, opts)               the stream's chunks decoded one at a time (the header read alone)
 *   decodeRowsToFile(file, out, opts)     those rows appended to a raw little-endian file
 *   verifyRows(source, file, bound, opts) max error, points over the bound and PSNR, slab by slab
 *
 * The stream's bytes are the ones encodeField writes for the same field (same plan from the same stats and sample).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { FieldpackError } from '../../core/errors.ts';
import type { Field, FieldValues } from '../../core/field.ts';
import { fieldSize } from '../../core/field.ts';
import type { ResolvedBound } from '../../core/codec/bound.ts';
import { readHeader, type StreamHeader, type StreamMetadata } from '../../core/codec/stream/format.ts';
import { codecById, NO_DEPENDENCIES, type RowSource } from '../../core/compressors/index.ts';
import { writeAtomically } from '../files/atomic.ts';
import { codecEnv, codecParams, type RunControl } from './index.ts';

export interface RowsEncodeOptions extends RunControl {
  codec: string;
  params?: Record<string, unknown>;
  bound: { mode: 'abs' | 'rel' | 'psnr' | 'nrmse'; value: number };
  metadata?: StreamMetadata;
}

/** Why a codec and bound cannot go through bounded-memory encoding; null when they can. */
export function rowsRefusal(codec: string, bound: { mode: string }): string | null {
  const c = codecParams(codec).codec;
  if (!c.encodeRows) return `codec ${c.id} cannot compress slab by slab (the classic codec can)`;
  if (bound.mode === 'psnr' || bound.mode === 'nrmse') return `a ${bound.mode} target is met by measuring the whole decoded field; use an abs or rel bound`;
  return null;
}

export async function encodeRowsToFile(source: RowSource, opts: RowsEncodeOptions, out: string): Promise<{ bytes: number; codec: string; params: Record<string, unknown>; bound: ResolvedBound; details: Record<string, unknown>; seconds: number }> {
  const t0 = performance.now();
  const why = rowsRefusal(opts.codec, opts.bound);
  if (why) throw new FieldpackError('UNSUPPORTED', why);
  const { codec, params } = codecParams(opts.codec, opts.params);
  return writeAtomically(out, async (tmp) => {
    const side = `${tmp}.chunks`;
    const chunks = createWriteStream(side);
    let chunkBytes = 0;
    try {
      const sink = (stored: Uint8Array) =>
        new Promise<void>((resolve, reject) => {
          chunkBytes += stored.length;
          chunks.write(stored, (e) => (e ? reject(e) : resolve()));
        });
      const r = await codec.encodeRows!(source, { bound: opts.bound, params, metadata: opts.metadata ?? {} }, sink, codecEnv(opts));
      await new Promise<void>((resolve, reject) => chunks.end((e?: Error | null) => (e ? reject(e) : resolve())));
      const fh = await open(tmp, 'w');
      try {
        await fh.write(r.header);
      } finally {
        await fh.close();
      }
      await pipeline(createReadStream(side), createWriteStream(tmp, { flags: 'a' }));
      return { bytes: r.header.length + chunkBytes, codec: codec.id, params, bound: r.bound, details: r.details, seconds: (performance.now() - t0) / 1000 };
    } finally {
      chunks.destroy();
      await rm(side, { force: true });
    }
  });
}

/** The header of a stream file, read alone (its chunks stay on disk), with its bytes and the file's size. */
export async function readStreamHead(file: string): Promise<{ header: StreamHeader; headBytes: Uint8Array; size: number }> {
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new FieldpackError('NOT_FOUND', `${file}: cannot read (${e.code ?? e.message})`, { path: file });
  });
  try {
    const head = new Uint8Array(14);
    await fh.read(head, 0, 14, 0);
    const h = new DataView(head.buffer).getUint32(6, true);
    const size = (await fh.stat()).size;
    const bytes = new Uint8Array(Math.min(size, 14 + h));
    await fh.read(bytes, 0, bytes.length, 0);
    const header = readHeader(bytes);
    if (header.totalBytes > size) throw new FieldpackError('BAD_STREAM', `truncated stream: ${file} holds ${size} bytes, its chunks need ${header.totalBytes}`);
    return { header, headBytes: bytes, size };
  } finally {
    await fh.close();
  }
}

/**
 * The decoded rows of a stream, one chunk at a time: each chunk's bytes are read from the file and decoded with
 * the header's offsets moved to them (codecs read chunks through the header, so they need nothing new).
 */
export async function* decodedRows(file: string, opts: RunControl = {}): AsyncGenerator<{ row0: number; rows: number; field: Field }> {
  const { header } = await readStreamHead(file);
  const codec = codecById(header.codec);
  if (codec.dependencies(header).length) throw new FieldpackError('UNSUPPORTED', `${file}: a ${codec.id} stream with dependencies is decoded whole (fieldpack decompress without --streamed)`);
  const env = codecEnv(opts);
  const fh = await open(file, 'r');
  try {
    for (const [i, c] of header.chunks.entries()) {
      if (opts.signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
      const window = new Uint8Array(c.storedBytes);
      await fh.read(window, 0, c.storedBytes, c.offset);
      const moved: StreamHeader = { ...header, chunks: header.chunks.map((x) => ({ ...x, offset: x.offset - c.offset })) };
      const d = await codec.decode({ header: moved, bytes: window, rows: [c.row0, c.row0 + c.rows], deps: NO_DEPENDENCIES }, env);
      opts.onProgress?.((i + 1) / header.chunks.length, `chunk ${i + 1}/${header.chunks.length}`);
      yield { row0: c.row0, rows: c.rows, field: d.field };
    }
  } finally {
    await fh.close();
  }
}

/** A stream decoded into a raw little-endian file (and its mask, 1 valid 0 fill, when it has one), chunk by chunk. */
export async function decodeRowsToFile(file: string, out: string, opts: RunControl & { maskOut?: string } = {}): Promise<{ header: StreamHeader; hasMask: boolean }> {
  const { header } = await readStreamHead(file);
  let hasMask = false;
  await writeAtomically(out, async (tmp) => {
    const values = createWriteStream(tmp);
    const maskTmp = opts.maskOut && header.hasMask ? `${tmp}.mask` : null;
    const masks = maskTmp ? createWriteStream(maskTmp) : null;
    const put = (s: NodeJS.WritableStream, b: Uint8Array) => new Promise<void>((res, rej) => s.write(b, (e) => (e ? rej(e) : res())));
    const end = (s: NodeJS.WritableStream) => new Promise<void>((res) => s.end(res));
    try {
      for await (const { field } of decodedRows(file, opts)) {
        const v: FieldValues = field.values;
        await put(values, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        if (masks) await put(masks, field.mask ?? new Uint8Array(v.length).fill(1));
      }
      await end(values);
      if (masks && maskTmp) {
        await end(masks);
        await writeAtomically(opts.maskOut!, (mt) => pipeline(createReadStream(maskTmp), createWriteStream(mt)));
        hasMask = true;
      }
    } finally {
      values.destroy();
      masks?.destroy();
      if (maskTmp) await rm(maskTmp, { force: true });
    }
  });
  return { header, hasMask };
}

/** The bound checked on every valid point, slab of the source against chunk of the stream (same rows). */
export async function verifyRows(source: RowSource, file: string, absBound: number, opts: RunControl = {}) {
  let maxError = 0;
  let over = 0;
  let sse = 0;
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  for await (const { row0, rows, field } of decodedRows(file, opts)) {
    const orig = await source.read(row0, row0 + rows);
    const a = orig.values;
    const b = field.values;
    for (let i = 0; i < a.length; i++) {
      if (orig.mask && orig.mask[i] === 0) continue;
      const x = a[i]!;
      if (x - x !== 0) continue;
      const e = Math.abs(b[i]! - x);
      if (!(e <= absBound)) over++;
      if (e > maxError || e !== e) maxError = e !== e ? Infinity : e;
      sse += e * e;
      n++;
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  const range = max - min;
  const rmse = n ? Math.sqrt(sse / n) : 0;
  return {
    maxError,
    maxErrorOverBound: absBound > 0 ? maxError / absBound : maxError === 0 ? 0 : Infinity,
    pointsOverBound: over,
    psnr: rmse === 0 ? Infinity : 20 * Math.log10(range / rmse),
    values: n,
  };
}

/** A data file's variable as slabs of rows (values unpacked and masked as readField gives them). */
export function rowSourceOf(file: { readField(name: string, o?: { slice?: [number, number][]; coordinates?: boolean; signal?: AbortSignal }): Promise<Field> }, first: Field, shape: number[], signal?: AbortSignal): RowSource {
  return {
    shape,
    dtype: first.values instanceof Float32Array ? 'float32' : 'float64',
    attributes: first.attributes,
    sourceDtype: first.sourceDtype,
    read: async (r0, r1) => {
      const f = await file.readField(first.name, { slice: [[r0, r1]], coordinates: false, signal });
      if (f.values.length !== fieldSize([r1 - r0, ...shape.slice(1)])) throw new FieldpackError('INTERNAL', `${first.name}: rows ${r0}..${r1} read ${f.values.length} values`);
      return f;
    },
  };
}
