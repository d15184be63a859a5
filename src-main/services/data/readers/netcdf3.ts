/**
 * NetCDF classic-model reader: CDF-1 (classic), CDF-2 (64-bit offset) and CDF-5 (64-bit data, PnetCDF's), the header
 * parsed by netcdf3-header.ts from the first bytes of the file; values are read on demand with positioned reads (only
 * the requested rows of the first axis) and decoded from big-endian here.
 */
import { Buffer } from 'node:buffer';
import { open as openFile } from 'node:fs/promises';
import { fieldSize, type Field, type FieldDtype } from '../../../core/field.ts';
import { fieldFromRaw, fillInfoFor, int64Fills } from './cf.ts';
import { NC_TYPE_SIZE, type NcAttr, type NcHeader, type NcType, parseNetcdf3Header } from './netcdf3-header.ts';
import type { DataFile, DataFormat, ReadOptions, VariableDtype, VariableInfo } from './types.ts';
import { INT64, badFile, checkReadable, checkAborted, exactDoubles, extractHyperslab, missingVariable, readsAsField, resolveSlice, valuesDtypeOf } from './util.ts';

const NC_TYPES: Record<NcType, VariableDtype> = {
  byte: 'int8', char: 'char', short: 'int16', int: 'int32', float: 'float32', double: 'float64', ubyte: 'uint8', ushort: 'uint16', uint: 'uint32', int64: 'int64', uint64: 'uint64',
};
const FORMATS: Record<NcHeader['version'], DataFormat> = { 1: 'netcdf3-classic', 2: 'netcdf3-64bit-offset', 5: 'netcdf3-64bit-data' };
const MAX_HEADER = 64 * 1024 * 1024;
/** Bytes read per positioned read while reading a big variable (progress and abort granularity). */
const CHUNK_BYTES = 8 * 1024 * 1024;

interface Layout {
  offset: number;
  record: boolean;
  /** Bytes of one slab along the first axis (one record, or one row of a non-record variable). */
  rowBytes: number;
  elemSize: number;
}

function attrsOf(list: NcAttr[]): { values: Record<string, unknown>; types: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const types: Record<string, string> = {};
  for (const a of list) {
    values[a.name] = Array.isArray(a.value) && a.value.length === 1 ? a.value[0] : a.value;
    types[a.name] = a.type;
  }
  return { values, types };
}

/** The stored types of the numeric attributes (not char) of attrsOf's map. */
function numericTypes(types: Record<string, string>): Record<string, VariableDtype> {
  return Object.fromEntries(Object.entries(types).filter(([, t]) => t !== 'char').map(([n, t]) => [n, NC_TYPES[t as NcType]]));
}

async function readHeader(path: string, size: number): Promise<NcHeader> {
  const fh = await openFile(path, 'r');
  try {
    let n = Math.min(size, 64 * 1024);
    for (;;) {
      const buf = new Uint8Array(n);
      await fh.read(buf, 0, n, 0);
      try {
        return parseNetcdf3Header(buf);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const outOfData = e instanceof RangeError;
        if (outOfData && n < size && n < MAX_HEADER) {
          n = Math.min(size, n * 4, MAX_HEADER);
          continue;
        }
        if (outOfData) throw badFile(path, `truncated or corrupt NetCDF-3 header (it runs past the end of the ${size}-byte file)`);
        throw badFile(path, `corrupt NetCDF-3 header (${msg})`);
      }
    }
  } finally {
    await fh.close();
  }
}

/**
 * Every variable's dimension ids name a declared dimension, and the record dimension (the unlimited one) comes first
 * where a variable has it: a corrupt header is refused here, not read as dimensions of size 0 or as rows in the
 * wrong place.
 */
function checkDimensionIds(path: string, vars: { name: string; dimensions: number[] }[], dims: { name: string }[], recDimId: number | undefined): void {
  for (const v of vars) {
    v.dimensions.forEach((d, j) => {
      if (!Number.isInteger(d) || d < 0 || d >= dims.length) {
        throw badFile(path, `corrupt NetCDF-3 header: variable "${v.name}" refers to dimension id ${d}, but the file declares ${dims.length} dimension${dims.length === 1 ? '' : 's'}`);
      }
      if (d === recDimId && j > 0) {
        throw badFile(path, `corrupt NetCDF-3 header: variable "${v.name}" has the record (unlimited) dimension ${dims[d]!.name} in place ${j + 1}; it can only be the first`);
      }
    });
  }
}

export async function openNetcdf3(path: string, size: number): Promise<DataFile> {
  const header = await readHeader(path, size);
  const format = FORMATS[header.version];
  const dims = header.dimensions;
  const recDimId = header.recordDimId;
  const rawVars = header.variables;
  checkDimensionIds(path, rawVars, dims, recDimId);
  const recVars = rawVars.filter((v) => v.record);
  const elemOf = (v: { type: NcType }) => NC_TYPE_SIZE[v.type];
  const innerBytes = (v: (typeof rawVars)[number]) =>
    v.dimensions.slice(v.record ? 1 : 0).reduce((a, d) => a * (dims[d]?.size ?? 0), 1) * elemOf(v);
  // A single record variable is not padded; otherwise each record holds every record variable's slab, padded to 4 bytes.
  const recordStep = recVars.length === 1 ? innerBytes(recVars[0]!) : recVars.reduce((a, v) => a + Math.ceil(innerBytes(v) / 4) * 4, 0);
  let numRecs = header.numRecs ?? 0;
  if (header.numRecs === null && recVars.length > 0 && recordStep > 0) {
    // Streaming: number of records not written in the header; count what the file holds.
    numRecs = Math.max(0, Math.floor((size - Math.min(...recVars.map((v) => v.offset))) / recordStep));
  }
  const dimensions: Record<string, number> = {};
  dims.forEach((d, i) => (dimensions[d.name] = i === recDimId ? numRecs : d.size));

  const layouts = new Map<string, Layout>();
  const variables: VariableInfo[] = [];
  for (const v of rawVars) {
    const dtype = NC_TYPES[v.type];
    const vdims = v.dimensions.map((d) => dims[d]!.name);
    const isCoordinate = vdims.length === 1 && vdims[0] === v.name;
    const shape = v.dimensions.map((d) => (d === recDimId ? numRecs : dims[d]!.size));
    const { values: attributes, types } = attrsOf(v.attributes);
    const elemSize = elemOf(v);
    const layout: Layout = {
      offset: v.offset,
      record: v.record,
      rowBytes: shape.length === 0 ? elemSize : v.record ? innerBytes(v) : (fieldSize(shape) / shape[0]!) * elemSize || 0,
      elemSize,
    };
    // Truncation: every variable's data must lie inside the file. Without records a record variable holds no bytes
    // (netCDF-C then places the second and later ones' offsets past the end of the file).
    const end = v.record ? (numRecs > 0 ? v.offset + (numRecs - 1) * recordStep + layout.rowBytes : 0) : v.offset + fieldSize(shape) * elemSize;
    if (end > size) {
      throw badFile(path, `truncated: the file has ${size} bytes but variable "${v.name}" needs bytes up to ${end}`, { sizeBytes: size, neededBytes: end });
    }
    layouts.set(v.name, layout);
    variables.push({
      name: v.name,
      dims: vdims,
      shape,
      dtype,
      readable: readsAsField(dtype),
      attributes,
      attributeTypes: numericTypes(types),
      units: typeof attributes['units'] === 'string' ? (attributes['units'] as string) : undefined,
      longName: typeof attributes['long_name'] === 'string' ? (attributes['long_name'] as string) : undefined,
      fill: fillInfoFor(dtype, attributes, (n) => types[n] === 'double'),
      isCoordinate,
    });
  }
  const { values: globalAttributes, types: globalTypes } = attrsOf(header.globalAttributes);
  const globalAttributeTypes = numericTypes(globalTypes);
  const byName = new Map(variables.map((v) => [v.name, v]));

  const variable = (name: string): VariableInfo => {
    const v = byName.get(name);
    if (!v) throw missingVariable(path, name, variables);
    return v;
  };

  async function readField(name: string, options: ReadOptions = {}): Promise<Field> {
    const v = variable(name);
    checkReadable(path, v);
    // 64-bit integer coordinates are read as doubles, exactly or not at all
    const dtype = valuesDtypeOf(v.dtype);
    const { start, count } = resolveSlice(path, v, options.slice);
    const rows0 = v.shape.length === 0 ? 0 : start[0]!;
    const nRows = v.shape.length === 0 ? 1 : count[0]!;
    const raw = storedNumbers(v, await readRows(v, rows0, nRows, options));
    const blockShape = v.shape.length === 0 ? [] : [nRows, ...v.shape.slice(1)];
    const blockStart = v.shape.length === 0 ? [] : [0, ...start.slice(1)];
    const sub = extractHyperslab(raw as never, blockShape, blockStart, count, (n) => new (raw.constructor as new (n: number) => never)(n));
    return fieldFromRaw(v, count, sub as ArrayLike<number>, dtype);
  }

  async function readVerbatim(name: string): Promise<Uint8Array | ArrayLike<number>> {
    const v = variable(name);
    const nRows = v.shape.length === 0 ? 1 : v.shape[0]!;
    const bytes = await readRows(v, 0, nRows, {});
    return v.dtype === 'char' ? bytes : storedNumbers(v, bytes);
  }

  /** A numeric variable's stored big-endian bytes as numbers (64-bit integers as exact doubles). */
  function storedNumbers(v: VariableInfo, bytes: Uint8Array) {
    return INT64.has(v.dtype) ? exactDoubles(path, v.name, decodeBigEndian64(bytes, v.dtype === 'int64'), int64Fills(v)) : decodeBigEndian(bytes, valuesDtypeOf(v.dtype));
  }

  /** The stored bytes of rows [rows0, rows0 + nRows) of a variable (a scalar: one row), big endian as in the file. */
  async function readRows(v: VariableInfo, rows0: number, nRows: number, options: ReadOptions): Promise<Uint8Array> {
    const name = v.name;
    const lay = layouts.get(name)!;
    const bytes = new Uint8Array(nRows * lay.rowBytes);
    const fh = await openFile(path, 'r');
    try {
      const rowsPerChunk = Math.max(1, Math.floor((options.chunkBytes ?? CHUNK_BYTES) / Math.max(1, lay.rowBytes)));
      for (let r = 0; r < nRows; ) {
        checkAborted(options.signal, `reading ${name} from ${path}`);
        const k = lay.record ? 1 : Math.min(rowsPerChunk, nRows - r);
        const pos = lay.record ? lay.offset + (rows0 + r) * recordStep : lay.offset + (rows0 + r) * lay.rowBytes;
        const want = k * lay.rowBytes;
        const { bytesRead } = await fh.read(bytes, r * lay.rowBytes, want, pos);
        if (bytesRead !== want) throw badFile(path, `truncated: could not read ${want} bytes of "${name}" at offset ${pos}`);
        r += k;
        if (nRows > rowsPerChunk) options.onProgress?.(r / nRows, `${name}: ${r}/${nRows}`);
      }
    } finally {
      await fh.close();
    }
    return bytes;
  }

  const unlimited = typeof recDimId === 'number' && dims[recDimId] ? [dims[recDimId]!.name] : [];
  return { path, format, sizeBytes: size, variables, globalAttributes, globalAttributeTypes, dimensions, unlimited, variable, readField, readVerbatim, close() {} };
}

/** Big-endian 64-bit integers -> native (in place byte swap; the buffer is ours). */
function decodeBigEndian64(bytes: Uint8Array, signed: boolean): BigInt64Array | BigUint64Array {
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).swap64();
  return signed ? new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8) : new BigUint64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
}

/** Big-endian bytes -> native typed array (in place byte swap; the buffer is ours). */
export function decodeBigEndian(bytes: Uint8Array, dtype: FieldDtype): Int8Array | Int16Array | Int32Array | Float32Array | Float64Array | Uint8Array {
  const es = dtype === 'int8' || dtype === 'uint8' ? 1 : dtype === 'int16' || dtype === 'uint16' ? 2 : dtype === 'float64' ? 8 : 4;
  const n = bytes.length / es;
  // Node's native byte swaps in place: a JS loop over every byte ran mostly unoptimized (once per read, cold)
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (es === 2) view.swap16();
  else if (es === 4) view.swap32();
  else if (es === 8) view.swap64();
  const buf = bytes.buffer;
  const off = bytes.byteOffset;
  switch (dtype) {
    case 'int8': return new Int8Array(buf, off, n);
    case 'uint8': return new Uint8Array(buf, off, n);
    case 'int16': return new Int16Array(buf, off, n);
    case 'uint16': return new Uint16Array(buf, off, n) as unknown as Int16Array;
    case 'int32': return new Int32Array(buf, off, n);
    case 'uint32': return new Uint32Array(buf, off, n) as unknown as Int32Array;
    case 'float32': return new Float32Array(buf, off, n);
    case 'float64': return new Float64Array(buf, off, n);
  }
}
