/**
 * Fields larger than memory comfortably holds: compressed from slabs of rows read one after another, decompressed
 * chunk by chunk into a raw file, verified slab against chunk. Peak memory follows the chunk size and the number of
 * workers, never the variable's size.
 *
 *   encodeRowsToFile(source, opts, out)   the codec's encodeRows: chunks to a side file, then header + chunks -> out
 *   decodedRows(file, opts)               the stream's chunks, decoded a group at a time (the header read alone)
 *   decodeRowsToFile(file, out, opts)     those rows appended to a raw little-endian file
 *   verifyRows(source, file, bound, opts) max error, points over the bound and PSNR, slab by slab
 *
 * The stream's bytes are the ones encodeField writes for the same field (same plan from the same stats and sample).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { FieldpackError } from '../../core/errors.ts';
import { type Field, type FieldValues, binaryMask, fieldSize } from '../../core/field.ts';
import { type ResolvedBound, clampToRange } from '../../core/codec/bound.ts';
import { outputMasked, readHeader, type StreamHeader, type StreamMetadata } from '../../core/codec/stream/format.ts';
import { codecById, NO_DEPENDENCIES, type RowSource } from '../../core/compressors/index.ts';
import { writeAtomically } from '../files/atomic.ts';
import { findHdf5Signature, isNetcdf3 } from '../files/magic.ts';
import { boundChecked, codecEnv, codecParams, type RunControl } from './index.ts';
import { ErrorAccumulator, type ErrorStats } from '../../core/metrics/index.ts';
import { unreadableFile } from '../files/unreadable.ts';
import { checkRegularFile } from '../files/regular.ts';

/** A file written a block at a time, each write awaited (back-pressure holds memory down). */
export interface FileSink {
  write(b: Uint8Array): Promise<void>;
  end(): Promise<void>;
  destroy(): void;
}

/**
 * A file stream whose failure (no space left, an I/O error) rejects the write or the end that meets it: the stream's
 * 'error' event, unlistened, had ended the process with a stack trace before any cleanup ran (a full disk).
 */
export function fileSink(path: string): FileSink {
  const s = createWriteStream(path);
  let failed: Error | null = null;
  s.on('error', (e) => (failed ??= e));
  return {
    write: (b) => new Promise((resolve, reject) => (failed ? reject(failed) : s.write(b, (e) => (e ? reject(e) : resolve())))),
    end: () => new Promise((resolve, reject) => {
      if (failed) return reject(failed);
      s.once('error', reject);
      s.end(() => (failed ? reject(failed) : resolve()));
    }),
    destroy: () => s.destroy(),
  };
}

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
    const chunks = fileSink(side);
    let chunkBytes = 0;
    try {
      const sink = (stored: Uint8Array) => {
        chunkBytes += stored.length;
        return chunks.write(stored);
      };
      // the slabs' masks as the codecs read them (binaryMask)
      const slabs: RowSource = { ...source, read: async (r0, r1) => {
        const slab = await source.read(r0, r1);
        return slab.mask ? { ...slab, mask: binaryMask(slab.mask) } : slab;
      } };
      const r = await codec.encodeRows!(slabs, { bound: opts.bound, params, metadata: opts.metadata ?? {} }, sink, codecEnv(opts));
      await chunks.end();
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
  await checkRegularFile(file);
  const fh = await open(file, 'r').catch((e: unknown) => {
    throw unreadableFile(file, e);
  });
  try {
    const head = new Uint8Array(14);
    await fh.read(head, 0, 14, 0);
    const h = new DataView(head.buffer).getUint32(6, true);
    const size = (await fh.stat()).size;
    const bytes = new Uint8Array(Math.min(size, 14 + h));
    await fh.read(bytes, 0, bytes.length, 0);
    const header = namedStreamError(file, bytes, () => readHeader(bytes));
    checkStreamSize(file, header, size);
    return { header, headBytes: bytes, size };
  } finally {
    await fh.close();
  }
}

/**
 * A stream file of `size` bytes holds exactly the stream its header describes: shorter is truncated, longer (two
 * streams joined, a bad copy) is refused as decoding a whole stream refuses it, before anything is decoded or written.
 */
export function checkStreamSize(file: string, header: StreamHeader, size: number): void {
  if (header.totalBytes > size) throw new FieldpackError('BAD_STREAM', `truncated stream: ${file} holds ${size} bytes, its chunks need ${header.totalBytes}`);
  if (size > header.totalBytes) throw new FieldpackError('BAD_STREAM', `corrupted stream: ${size - header.totalBytes} unexpected bytes after the last chunk of ${file}`);
}

/** `read`'s BAD_STREAM errors named with the file, and a data file given where a stream is read said to be one. */
function namedStreamError<T>(file: string, head: Uint8Array, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof FieldpackError) || e.code !== 'BAD_STREAM') throw e;
    const data = isNetcdf3(head) ? 'a NetCDF-3 file' : findHdf5Signature(head) >= 0 ? 'a NetCDF-4/HDF5 file' : null;
    if (!data) throw streamErrorOf(file, e);
    throw new FieldpackError('BAD_STREAM', `${file} is ${data}, not a Fieldpack stream (.fpk): compress it first (fieldpack compress), or write a field of it with fieldpack export`, { ...(typeof e.details === 'object' ? e.details : {}), path: file });
  }
}

/** A stream's damage (BAD_STREAM) named with its file where the message does not name it yet; other errors as they are. */
export function streamErrorOf(file: string, e: unknown): unknown {
  if (!(e instanceof FieldpackError) || e.code !== 'BAD_STREAM' || e.message.includes(file)) return e;
  return new FieldpackError('BAD_STREAM', `${file}: ${e.message}`, { ...(typeof e.details === 'object' ? e.details : {}), path: file });
}

/** a group of chunks decoded at once holds at most this many values (unless one chunk alone has more) */
const GROUP_MAX_VALUES = 1 << 24;

/**
 * Consecutive chunks decoded by one codec.decode call, with their value count: two a worker and one for this thread
 * (the codec shares them out, as for a whole stream), at most GROUP_MAX_VALUES values; one at a time without workers.
 */
export function chunkGroups(header: StreamHeader, workers: number): { first: number; last: number; values: number }[] {
  const rowSize = fieldSize(header.shape.slice(1));
  const most = workers > 0 ? 2 * workers + 1 : 1;
  const groups: { first: number; last: number; values: number }[] = [];
  for (let i = 0; i < header.chunks.length; ) {
    let last = i;
    let values = header.chunks[i]!.rows * rowSize;
    while (last + 1 < header.chunks.length && last + 1 - i < most && values + header.chunks[last + 1]!.rows * rowSize <= GROUP_MAX_VALUES) values += header.chunks[++last]!.rows * rowSize;
    groups.push({ first: i, last, values });
    i = last + 1;
  }
  return groups;
}

/**
 * The decoded rows of a stream, chunk by chunk, decoded a group of chunks at a time (chunkGroups): each group's bytes
 * are read from the file and decoded with the header's offsets moved to them (codecs read chunks through the header,
 * so they need nothing new). With workers the next group decodes while the caller takes this one's chunks (writes
 * them, compares them), so the cores stay busy; memory holds two groups, never the variable.
 */
export async function* decodedRows(file: string, opts: RunControl = {}, known?: StreamHeader): AsyncGenerator<{ row0: number; rows: number; field: Field }> {
  const header = known ?? (await readStreamHead(file)).header;
  const codec = codecById(header.codec);
  if (codec.dependencies(header).length) throw new FieldpackError('UNSUPPORTED', `${file}: a ${codec.id} stream with dependencies is decoded whole (fieldpack decompress without --streamed)`);
  // progress is per chunk of the stream (below), not the codec's own over the chunks it is given each time
  const env = codecEnv({ ...opts, onProgress: undefined });
  const groups = chunkGroups(header, opts.workers ?? 0);
  const rowSize = fieldSize(header.shape.slice(1));
  const fh = await open(file, 'r');
  const decodeGroup = async ({ first, last }: { first: number; last: number }) => {
    if (opts.signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
    const a = header.chunks[first]!;
    const b = header.chunks[last]!;
    const window = new Uint8Array(b.offset + b.storedBytes - a.offset);
    await fh.read(window, 0, window.length, a.offset);
    const moved: StreamHeader = { ...header, chunks: header.chunks.map((x) => ({ ...x, offset: x.offset - a.offset })) };
    return codec.decode({ header: moved, bytes: window, rows: [a.row0, b.row0 + b.rows], deps: NO_DEPENDENCIES }, env);
  };
  let next: ReturnType<typeof decodeGroup> | null = null;
  try {
    for (const [g, group] of groups.entries()) {
      const current = next ?? decodeGroup(group);
      // awaited in turn below (or in finally): until then a failure must not surface as an unhandled rejection
      // (not a chunk above the group cap, params chunkValues: two of those would double the memory a stream needs)
      const ahead = groups[g + 1];
      next = opts.workers && ahead && ahead.values <= GROUP_MAX_VALUES ? decodeGroup(ahead) : null;
      next?.catch(() => {});
      const { field } = await current;
      // chunk by chunk (views): callers read their own slabs that size (a source read in slabs 5 times larger was
      // twice as slow here: h5wasm's copies into fresh memory)
      const a = header.chunks[group.first]!;
      for (let i = group.first; i <= group.last; i++) {
        const c = header.chunks[i]!;
        const from = (c.row0 - a.row0) * rowSize;
        const to = from + c.rows * rowSize;
        yield { row0: c.row0, rows: c.rows, field: { ...field, shape: [c.rows, ...header.shape.slice(1)], values: field.values.subarray(from, to), ...(field.mask ? { mask: field.mask.subarray(from, to) } : {}) } };
        opts.onProgress?.((i + 1) / header.chunks.length, `chunk ${i + 1}/${header.chunks.length}`);
      }
    }
  } finally {
    // a caller that stops early (an error, a cancel) leaves a group decoding: it finishes before the file closes
    await next?.catch(() => {});
    await fh.close();
  }
}

/**
 * A stream decoded into a raw little-endian file (and its mask, 1 valid 0 fill, when it has one), chunk by chunk;
 * both written atomically. `known`: the stream's header when the caller has read it.
 */
export async function decodeRowsToFile(
  file: string, out: string, opts: RunControl & { maskOut?: string; clampTo?: { min: number; max: number } } = {}, known?: StreamHeader,
): Promise<{ header: StreamHeader; hasMask: boolean; clamped: number }> {
  const header = known ?? (await readStreamHead(file)).header;
  const withMask = !!opts.maskOut && outputMasked(header);
  let clamped = 0;
  const writeAll = async (tmp: string, maskTmp: string | null) => {
    const values = fileSink(tmp);
    const masks = maskTmp ? fileSink(maskTmp) : null;
    try {
      for await (const { field } of decodedRows(file, opts, header)) {
        const v: FieldValues = field.values;
        if (opts.clampTo) clamped += clampToRange(v, field.mask, opts.clampTo.min, opts.clampTo.max);
        await values.write(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        if (masks) await masks.write(field.mask ?? new Uint8Array(v.length).fill(1));
      }
      await values.end();
      if (masks) await masks.end();
    } finally {
      values.destroy();
      masks?.destroy();
    }
  };
  // the mask's temporary file is renamed first, the values' last: a failure leaves neither
  await writeAtomically(out, (tmp) => (withMask ? writeAtomically(opts.maskOut!, (maskTmp) => writeAll(tmp, maskTmp)) : writeAll(tmp, null)));
  return { header, hasMask: withMask, clamped };
}

/**
 * The bound checked on every valid point, slab of the source against chunk of the stream (same rows): the stats
 * verifyBound gives for the whole field, BOUND_VIOLATED likewise.
 */
export async function verifyRows(source: RowSource, file: string, absBound: number, opts: RunControl = {}): Promise<ErrorStats> {
  const acc = new ErrorAccumulator(absBound);
  for await (const { row0, rows, field } of decodedRows(file, opts)) {
    const orig = await source.read(row0, row0 + rows);
    acc.add(orig.values, field.values, orig.mask);
  }
  return boundChecked(acc.stats());
}

/** A data file's variable as slabs of rows (values unpacked and masked as readField gives them). */
export function rowSourceOf(file: { readField(name: string, o?: { slice?: [number, number][]; coordinates?: boolean; signal?: AbortSignal }): Promise<Field> }, first: Field, shape: number[], signal?: AbortSignal): RowSource {
  return {
    shape,
    dtype: first.values instanceof Float32Array ? 'float32' : 'float64',
    attributes: first.attributes,
    sourceDtype: first.sourceDtype,
    read: (r0, r1) => file.readField(first.name, { slice: [[r0, r1]], coordinates: false, signal }),
  };
}
