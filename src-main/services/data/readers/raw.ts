/**
 * Raw binary fields as SDRBench distributes them (.f32, .f64, .dat, .bin): one variable, C order,
 * shape/dtype/byte order from the caller or from a sidecar `FILE.json`
 * ({"shape": [...], "dtype": "float32", "endianness": "little", "name"?, "dims"?, "units"?, "fillValue"?}).
 * The file size must equal the shape's size times the element size. Only fillValue points are masked
 * ("fillValue": "NaN" masks NaN points); otherwise NaN and +-Inf are values, kept bit for bit.
 */
import { open as openFile } from 'node:fs/promises';
import { fitsDtype } from '../../../core/coordinates.ts';
import { FieldpackError } from '../../../core/errors.ts';
import { fieldSize, type Field, type FieldDtype } from '../../../core/field.ts';
import { fieldFromRaw, isFieldDtype } from './cf.ts';
import { decodeBigEndian } from './netcdf3.ts';
import type { DataFile, FillInfo, RawOptions, ReadOptions, VariableInfo } from './types.ts';
import { TYPED_ARRAY, badFile, basenameNoExt, checkAborted, extractHyperslab, missingVariable, resolveSlice } from './util.ts';
import { readRegularFile } from '../../files/regular.ts';

export const RAW_EXTENSIONS = ['.f32', '.f64', '.dat', '.bin', '.raw'];
const ELEM: Record<FieldDtype, number> = { float32: 4, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4 };
const CHUNK_BYTES = 8 * 1024 * 1024;

export function sidecarPath(path: string): string {
  return `${path}.json`;
}

/** Read and validate a sidecar; undefined when there is none. */
export async function readSidecar(path: string): Promise<RawOptions | undefined> {
  let text: string;
  try {
    text = (await readRegularFile(sidecarPath(path), 'the sidecar')).toString('utf8');
  } catch (e) {
    // none there; a folder or pipe of that name is said, not waited on
    if (e instanceof FieldpackError && e.code === 'INVALID_ARGUMENT') throw e;
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // the parser's message quotes the file's first bytes: never echo a file's contents
    throw badFile(sidecarPath(path), `sidecar is not valid JSON (${text.length} bytes)`);
  }
  return validateRawOptions(sidecarPath(path), json);
}

/** Non-finite fill values as a sidecar spells them (JSON has no NaN or Infinity). */
const NON_FINITE: Record<string, number> = { nan: NaN, infinity: Infinity, inf: Infinity, '+infinity': Infinity, '+inf': Infinity, '-infinity': -Infinity, '-inf': -Infinity };

/** A fill value as JSON: a number, or "NaN" / "Infinity" / "-Infinity". */
export function fillValueJson(v: number): number | string {
  return Number.isFinite(v) ? v : v !== v ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/** What a raw file's description (its sidecar, or the options given) may hold. */
const RAW_KEYS = ['shape', 'dtype', 'endianness', 'name', 'dims', 'units', 'fillValue', 'attributes'];

export function validateRawOptions(where: string, o: unknown): RawOptions {
  // (a list is an object too: [1, 2] read as the unknown keys "0" and "1")
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new FieldpackError('INVALID_ARGUMENT', `${where}: a raw file's description is an object with shape and dtype, e.g. {"shape": [100, 500], "dtype": "float32"}`);
  const r = o as Record<string, unknown>;
  // a key we do not read would be a silent misreading ("byteOrder": "big" read as little endian): refused
  const unknown = Object.keys(r).filter((k) => !RAW_KEYS.includes(k));
  if (unknown.length) {
    const hint = unknown.map((k) => (/endian|byte.?order/i.test(k) ? 'endianness' : /fill|missing/i.test(k) ? 'fillValue' : /type/i.test(k) ? 'dtype' : /dim|size|count/i.test(k) ? 'shape' : null)).find((x) => x !== null);
    throw new FieldpackError('INVALID_ARGUMENT', `${where}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}; a raw file's description has ${RAW_KEYS.join(', ')}`);
  }
  const shape = r['shape'];
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((n) => Number.isInteger(n) && (n as number) > 0)) {
    // (JSON writes an infinite number as null: 1e400 read as "[null]")
    throw new FieldpackError('INVALID_ARGUMENT', `${where}: shape must be a non-empty list of positive integers (got ${Array.isArray(shape) ? `[${shape.map((x) => (typeof x === 'number' ? String(x) : JSON.stringify(x))).join(', ')}]` : JSON.stringify(shape)})`);
  }
  const dtype = r['dtype'];
  if (typeof dtype !== 'string') throw new FieldpackError('INVALID_ARGUMENT', `${where}: dtype is missing (one of ${Object.keys(ELEM).join(', ')})`);
  const aliases: Record<string, FieldDtype> = { f32: 'float32', f4: 'float32', float: 'float32', f64: 'float64', f8: 'float64', double: 'float64' };
  const d = aliases[dtype] ?? dtype;
  if (!isFieldDtype(d)) throw new FieldpackError('UNSUPPORTED', `${where}: unsupported dtype "${dtype}" (supported: ${Object.keys(ELEM).join(', ')})`, { dtype });
  const endianness = r['endianness'] ?? 'little';
  if (endianness !== 'little' && endianness !== 'big') throw new FieldpackError('INVALID_ARGUMENT', `${where}: endianness must be "little" or "big" (got ${JSON.stringify(endianness)})`);
  const dims = r['dims'];
  if (dims !== undefined && (!Array.isArray(dims) || dims.length !== shape.length || !dims.every((x) => typeof x === 'string'))) {
    throw new FieldpackError('INVALID_ARGUMENT', `${where}: dims must be ${shape.length} names`);
  }
  // a name is one length: a repeated one, or one an object's prototype answers to, cannot be a dimension
  if (dims !== undefined && (new Set(dims).size !== dims.length || dims.some((x) => x === '' || x === '__proto__' || x in Object.prototype))) {
    throw new FieldpackError('INVALID_ARGUMENT', `${where}: dims must be ${shape.length} different names, none empty or reserved (got ${JSON.stringify(dims)})`);
  }
  for (const key of ['name', 'units'] as const) {
    if (r[key] !== undefined && typeof r[key] !== 'string') throw new FieldpackError('INVALID_ARGUMENT', `${where}: ${key} must be a string (got ${JSON.stringify(r[key])})`);
  }
  const out: RawOptions = { shape: shape as number[], dtype: d, endianness };
  if (typeof r['name'] === 'string') out.name = r['name'];
  if (dims) out.dims = dims as string[];
  if (typeof r['units'] === 'string') out.units = r['units'];
  const fv = r['fillValue'];
  if (typeof fv === 'number') out.fillValue = fv;
  else if (typeof fv === 'string' && NON_FINITE[fv.toLowerCase()] !== undefined) out.fillValue = NON_FINITE[fv.toLowerCase()];
  else if (fv !== undefined && fv !== null) {
    throw new FieldpackError('INVALID_ARGUMENT', `${where}: fillValue must be a number or "NaN", "Infinity", "-Infinity" (got ${JSON.stringify(fv)})`);
  }
  // an integer file's fill no stored value can equal marks nothing (1e30 in an int8 file; a writer would carry it
  // on); a float one is compared in its dtype (a decimal 1e30 is float32's nearest)
  if (out.fillValue !== undefined && d !== 'float32' && d !== 'float64') {
    // -0.0 (numpy writes float fills so) is the integer 0
    if (Object.is(out.fillValue, -0)) out.fillValue = 0;
    if (!fitsDtype([out.fillValue], d)) throw new FieldpackError('INVALID_ARGUMENT', `${where}: fillValue ${typeof fv === 'number' && !Number.isFinite(fv) ? String(fv) : JSON.stringify(fv)} is not a ${d} value, so no point of the file can hold it`);
  }
  if (r['attributes'] && typeof r['attributes'] === 'object') {
    // raw values are read as stored: packing attributes would be taken for packing by the writers (an export said the
    // values were unpacked, doubled the valid range and replaced the fill) though nothing unpacked them
    const packing = ['scale_factor', 'add_offset', '_Unsigned'].filter((k) => Object.hasOwn(r['attributes'] as object, k));
    if (packing.length) throw new FieldpackError('INVALID_ARGUMENT', `${where}: attributes ${packing.join(', ')}: raw values are read as stored, never unpacked; give the unpacked values (float32 or float64) and leave them out`);
    out.attributes = r['attributes'] as Record<string, unknown>;
  }
  return out;
}

export async function openRaw(path: string, size: number, opts: RawOptions): Promise<DataFile> {
  const o = validateRawOptions(path, opts);
  const es = ELEM[o.dtype];
  const need = fieldSize(o.shape) * es;
  if (need !== size) {
    throw badFile(path, `size mismatch: the file has ${size} bytes but shape [${o.shape.join(', ')}] of ${o.dtype} needs ${need} bytes`, { sizeBytes: size, neededBytes: need });
  }
  const name = o.name ?? basenameNoExt(path);
  const dims = o.dims ?? o.shape.map((_, i) => `dim${i}`);
  const attributes: Record<string, unknown> = { ...(o.attributes ?? {}) };
  if (o.units) attributes['units'] = o.units;
  if (o.fillValue !== undefined) attributes['_FillValue'] = o.fillValue;
  const fill: FillInfo = o.fillValue !== undefined ? { fillValue: o.dtype === 'float32' ? Math.fround(o.fillValue) : o.fillValue } : {};
  const info: VariableInfo = { name, dims, shape: [...o.shape], dtype: o.dtype, readable: true, attributes, units: o.units, fill, isCoordinate: false };
  const dimensions: Record<string, number> = {};
  dims.forEach((d, i) => (dimensions[d] = o.shape[i]!));
  const variable = (n: string) => {
    if (n !== name) throw missingVariable(path, n, [info]);
    return info;
  };
  async function readField(n: string, options: ReadOptions = {}): Promise<Field> {
    variable(n);
    const { start, count } = resolveSlice(path, info, options.slice);
    const rowBytes = (fieldSize(o.shape) / o.shape[0]!) * es;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(count[0]! * rowBytes);
    } catch {
      throw new FieldpackError('UNSUPPORTED', `${path}: ${count[0]! * rowBytes} bytes of "${name}" do not fit in one array here: read it in slices (rows)`, { path });
    }
    const fh = await openFile(path, 'r');
    try {
      const rowsPerChunk = Math.max(1, Math.floor((options.chunkBytes ?? CHUNK_BYTES) / rowBytes));
      for (let r = 0; r < count[0]!; r += rowsPerChunk) {
        checkAborted(options.signal, `reading ${path}`);
        const k = Math.min(rowsPerChunk, count[0]! - r);
        // one read takes under 2 GiB (Node's limit): a row may be larger
        for (let at = 0; at < k * rowBytes; at += READ_PIECE_BYTES) {
          const len = Math.min(READ_PIECE_BYTES, k * rowBytes - at);
          const { bytesRead } = await fh.read(bytes, r * rowBytes + at, len, (start[0]! + r) * rowBytes + at);
          if (bytesRead !== len) throw badFile(path, `truncated while reading (wanted ${len} bytes at ${(start[0]! + r) * rowBytes + at})`);
        }
        if (count[0]! > rowsPerChunk) options.onProgress?.((r + k) / count[0]!, `${name}: ${r + k}/${count[0]}`);
      }
    } finally {
      await fh.close();
    }
    const native = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 'little' : 'big';
    const typed = o.endianness === native ? decodeBigEndianNoSwap(bytes, o.dtype) : decodeBigEndian(bytes, o.dtype);
    const blockShape = [count[0]!, ...o.shape.slice(1)];
    const sub = extractHyperslab(typed as never, blockShape, [0, ...start.slice(1)], count, (m) => new (typed.constructor as new (m: number) => never)(m));
    return fieldFromRaw(info, count, sub as ArrayLike<number>, o.dtype);
  }
  return { path, format: 'raw', sizeBytes: size, variables: [info], globalAttributes: {}, dimensions, variable, readField, close() {} };
}

/** The most bytes one file read takes (Node refuses 2 GiB and more in one). */
const READ_PIECE_BYTES = 1 << 30;

function decodeBigEndianNoSwap(bytes: Uint8Array, dtype: FieldDtype) {
  return new TYPED_ARRAY[dtype](bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length / ELEM[dtype]);
}
