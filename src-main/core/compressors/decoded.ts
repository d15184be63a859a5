/**
 * Decoded chunks back into a Field (or rows of it), for every chunked codec: the header's metadata gives the
 * name, dims, units, attributes and coordinates.
 */
import { FieldpackError } from '../errors.ts';
import { type Field, type FieldValues, fieldSize } from '../field.ts';
import { coordinatesOfRows } from '../coordinates.ts';
import { type StreamHeader, outputMasked } from '../codec/stream/format.ts';
import type { DecodedChunk, DecodedField } from './contract.ts';

/**
 * A failed allocation while decoding (the header declares more values than this process can hold) as the
 * FieldpackError it is, naming the declared shape; any other error unchanged.
 */
export function decodeError(e: unknown, h: Pick<StreamHeader, 'shape' | 'dtype'>): unknown {
  if (e instanceof RangeError && /allocation failed|Invalid typed array length|Invalid array length|Array buffer/i.test(e.message)) {
    const n = fieldSize(h.shape);
    const gib = (n * (h.dtype === 'float32' ? 4 : 8)) / 2 ** 30;
    return new FieldpackError('BAD_STREAM', `the stream declares shape [${h.shape.join(', ')}] (${n} ${h.dtype} values, ${gib.toFixed(2)} GiB): decoding it needs more memory than this process can allocate (${e.message})`);
  }
  return e;
}

/** Runs a decoding step, failed allocations reported by decodeError. */
export function guarded<T>(h: Pick<StreamHeader, 'shape' | 'dtype'>, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw decodeError(e, h);
  }
}

/** Chunks that hold rows [start, end). */
export function chunksForRows(h: StreamHeader, start: number, end: number): number[] {
  if (!(start >= 0 && end <= h.shape[0]! && start < end)) {
    throw new FieldpackError('INVALID_ARGUMENT', `rows [${start}, ${end}) outside [0, ${h.shape[0]})`);
  }
  const ids: number[] = [];
  h.chunks.forEach((c, i) => {
    if (c.row0 < end && c.row0 + c.rows > start) ids.push(i);
  });
  return ids;
}

/** Builds the decoded Field (or a slice of rows) from decoded chunks. */
export function assembleDecoded(h: StreamHeader, chunkIds: number[], decoded: DecodedChunk[], start: number, end: number): DecodedField {
  const a = chunkAssembly(h, chunkIds, start, end);
  decoded.forEach((d, j) => a.put(j, d));
  return a.finish();
}

/**
 * The decoded Field (or rows [start, end) of it) put together chunk by chunk as each one is decoded (put(j, chunk)
 * for chunkIds[j], in any order), so that copying a chunk into the output overlaps the decoding of the others
 * rather than all of them waiting for the last one. finish() once every chunk is in.
 *
 * target(j): the output's own view of chunk j's values (zero-filled), allocated when called, for a decoder in this
 * thread to write into, where the chunk lies within the rows asked for; put(j, {values: that view}) then copies
 * nothing. put returns whether it copied the chunk's values (the caller may then reuse their buffer).
 */
export function chunkAssembly(
  h: StreamHeader, chunkIds: number[], start: number, end: number,
): { put(j: number, d: DecodedChunk): boolean; target(j: number): (() => FieldValues) | null; finish(): DecodedField } {
  const rowSize = fieldSize(h.shape) / h.shape[0]!;
  const n = (end - start) * rowSize;
  const c0 = chunkIds.length === 1 ? h.chunks[chunkIds[0]!]! : null;
  // one chunk that is exactly the rows asked for: its arrays are the field's (no second copy of the output)
  const oneWhole = !!c0 && c0.row0 === start && c0.row0 + c0.rows === end;
  const f32 = h.dtype === 'float32';
  let values: Field['values'] | null = null;
  let mask: Uint8Array | undefined;
  const targets: FieldValues[] = [];
  // the values are allocated when a chunk is decoded into them or put, the mask when a chunk is put: a header alone
  // (its declared shape) never makes this touch memory
  const output = () => (values ??= f32 ? new Float32Array(n) : new Float64Array(n));
  const outputMask = () => (outputMasked(h) ? (mask ??= new Uint8Array(n).fill(1)) : undefined);
  const span = (j: number) => {
    const c = h.chunks[chunkIds[j]!]!;
    const a = Math.max(start, c.row0);
    const b = Math.min(end, c.row0 + c.rows);
    return { src: (a - c.row0) * rowSize, len: (b - a) * rowSize, at: (a - start) * rowSize, whole: c.row0 >= start && c.row0 + c.rows <= end };
  };
  return {
    target(j) {
      const s = span(j);
      if (!s.whole) return null;
      return () => (targets[j] ??= output().subarray(s.at, s.at + s.len));
    },
    put(j, d) {
      const s = span(j);
      let copied = false;
      if (targets[j] !== undefined) {
        if (d.values !== targets[j]) throw new FieldpackError('INTERNAL', `chunk ${chunkIds[j]} was decoded elsewhere than into the output`);
      } else if (oneWhole && d.values.length === n && f32 === d.values instanceof Float32Array) {
        values = d.values;
        if (outputMasked(h)) mask = d.mask && d.mask.length === n ? d.mask : new Uint8Array(n).fill(1);
        return false;
      } else {
        output().set(d.values.subarray(s.src, s.src + s.len), s.at);
        copied = true;
      }
      if (d.mask) outputMask()?.set(d.mask.subarray(s.src, s.src + s.len), s.at);
      return copied;
    },
    finish() {
      return fieldOf(h, output(), outputMask(), start, end);
    },
  };
}

/** The Field of rows [start, end) of decoded values (and mask), described by the header's metadata. */
function fieldOf(h: StreamHeader, values: Field['values'], mask: Uint8Array | undefined, start: number, end: number): DecodedField {
  const m = h.metadata;
  const attrs = m.attributes;
  const field: Field = {
    name: typeof m.variable === 'string' ? m.variable : 'values',
    shape: [end - start, ...h.shape.slice(1)],
    dims: Array.isArray(m.dims) && m.dims.length === h.shape.length && m.dims.every((d) => typeof d === 'string') ? m.dims : h.shape.map((_, i) => `dim${i}`),
    values,
    ...(mask ? { mask } : {}),
    sourceDtype: (typeof m.sourceDtype === 'string' ? m.sourceDtype : h.dtype) as Field['sourceDtype'],
    ...(typeof m.units === 'string' ? { units: m.units } : {}),
    attributes: attrs && typeof attrs === 'object' && !Array.isArray(attrs) ? (attrs as Record<string, unknown>) : {},
  };
  const coordinates = m.coordinates === undefined ? undefined : coordinatesOfRows(fittingCoordinates(m.coordinates, field.dims, h.shape), field.dims, h.shape, start, end);
  if (coordinates) field.coordinates = coordinates;
  return { header: h, field, rows: [start, end] };
}


/**
 * The packed coordinates (core/coordinates.ts packCoordinates' form) of the field's dims whose length is that dim's
 * size, before anything is unpacked: the others would be dropped anyway (sliceCoordinates), and a header could
 * otherwise declare a progression of 2^30 values for a dim of 10.
 */
function fittingCoordinates(packed: unknown, dims: readonly string[], shape: readonly number[]): unknown {
  if (!packed || typeof packed !== 'object' || Array.isArray(packed)) return packed; // unpackCoordinates names it
  const out: Record<string, unknown> = {};
  for (const [dim, e] of Object.entries(packed as Record<string, unknown>)) {
    const i = dims.indexOf(dim);
    if (i < 0 || !Array.isArray(e)) continue;
    const n = e.length === 5 ? e[4] : e.length === 3 && Array.isArray(e[2]) ? e[2].length : undefined;
    if (n === undefined || n === shape[i]) Object.defineProperty(out, dim, { value: e, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
