/**
 * Decoded chunks back into a Field (or rows of it), for every chunked codec: the header's metadata gives the
 * name, dims, units, attributes and coordinates.
 */
import { FieldpackError } from '../errors.ts';
import { type Field, fieldSize } from '../field.ts';
import { coordinatesOfRows } from '../coordinates.ts';
import type { StreamHeader } from '../codec/stream/format.ts';
import type { DecodedChunk, DecodedField } from './contract.ts';

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
  const rowSize = fieldSize(h.shape) / h.shape[0]!;
  const n = (end - start) * rowSize;
  const values = h.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const mask = h.hasMask ? new Uint8Array(n).fill(1) : undefined;
  chunkIds.forEach((ci, j) => {
    const c = h.chunks[ci]!;
    const d = decoded[j]!;
    const a = Math.max(start, c.row0);
    const b = Math.min(end, c.row0 + c.rows);
    const src = (a - c.row0) * rowSize;
    const len = (b - a) * rowSize;
    values.set(d.values.subarray(src, src + len), (a - start) * rowSize);
    if (mask && d.mask) mask.set(d.mask.subarray(src, src + len), (a - start) * rowSize);
  });
  const m = h.metadata;
  const field: Field = {
    name: typeof m.variable === 'string' ? m.variable : 'values',
    shape: [end - start, ...h.shape.slice(1)],
    dims: Array.isArray(m.dims) && m.dims.length === h.shape.length ? m.dims : h.shape.map((_, i) => `dim${i}`),
    values,
    ...(mask ? { mask } : {}),
    sourceDtype: (typeof m.sourceDtype === 'string' ? m.sourceDtype : h.dtype) as Field['sourceDtype'],
    ...(typeof m.units === 'string' ? { units: m.units } : {}),
    attributes: (m.attributes as Record<string, unknown>) ?? {},
  };
  const coordinates = m.coordinates === undefined ? undefined : coordinatesOfRows(m.coordinates, field.dims, h.shape, start, end);
  if (coordinates) field.coordinates = coordinates;
  return { header: h, field, rows: [start, end] };
}

