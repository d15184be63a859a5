/**
 * Coordinate variables of a field's dimensions (CF: 1-D, named like their dimension, e.g. lon, lat, depth,
 * time), so that they travel with the field: readers fill Field.coordinates, the codec stores them in the
 * stream metadata under `coordinates` (packCoordinates), decoding restores them (unpackCoordinates) and
 * the NetCDF-4 writer writes them back as coordinate variables.
 *
 * Stored form (a plain JSON value, lossless bit for bit; the header's compact encoding makes it small):
 *   { DIM: [dtype, attributes, values] }             values: numbers, or strings for what JSON has not
 *                                                    ("NaN", "Infinity", "-Infinity", "-0", "NaN:<hex bits>"
 *                                                    for a NaN other than the default one of the dtype)
 *   { DIM: [dtype, attributes, start, step, n] }     an exact arithmetic progression: value i is
 *                                                    start + i * step in double, rounded to float32 when
 *                                                    dtype is float32; used only when every value
 *                                                    regenerates bit for bit
 * dtype is the one the values are exact in (the source dtype; the float type of the unpacked values when
 * the source variable was packed with scale_factor / add_offset).
 * Pure: no Node or DOM.
 */
import { FieldpackError } from './errors.ts';
import { type Field, type FieldDtype, FIELD_DTYPES, INT_DTYPE_RANGE, declaredPacking } from './field.ts';

/** One coordinate variable: what the NetCDF-4 writer needs to write it back. */
export interface CoordinateData {
  /** Values along the dimension (Float32Array for float32, Float64Array otherwise after unpacking). */
  values: ArrayLike<number>;
  /** dtype the values are exact in; absent means float64. */
  dtype?: FieldDtype;
  /** The coordinate variable's attributes (units, axis, positive, calendar, ...), JSON-serialisable. */
  attributes?: Record<string, unknown>;
}

/** Coordinate variables per dimension name (only the dimensions that have one). */
export type FieldCoordinates = Record<string, CoordinateData>;


function isDtype(d: unknown): d is FieldDtype {
  return typeof d === 'string' && (FIELD_DTYPES as readonly string[]).includes(d);
}

/** Whether every value is exactly representable in dtype (NaN only in float types). */
export function fitsDtype(values: ArrayLike<number>, dtype: FieldDtype): boolean {
  if (dtype === 'float64') return true;
  if (dtype === 'float32') {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v === v && !Object.is(Math.fround(v), v)) return false;
    }
    return true;
  }
  const [lo, hi] = INT_DTYPE_RANGE[dtype]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < lo || v > hi || Object.is(v, -0)) return false;
  }
  return true;
}

/** The values as a typed array of their dtype's float width (NaN payloads kept when the input is typed). */
function typedValues(values: ArrayLike<number>, dtype: FieldDtype): Float32Array | Float64Array {
  if (dtype === 'float32') return values instanceof Float32Array ? values : Float32Array.from(values);
  return values instanceof Float64Array ? values : Float64Array.from(values);
}

const F32_NAN = 0x7fc00000;
const F64_NAN_HI = 0x7ff80000;

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
const hex8 = (x: number) => x.toString(16).padStart(8, '0');

/** Bits of a NaN at index i as hex, or undefined when it is the dtype's default NaN. */
function nanBits(a: Float32Array | Float64Array, i: number): string | undefined {
  if (a instanceof Float32Array) {
    const b = new Uint32Array(a.buffer, a.byteOffset + 4 * i, 1)[0]!;
    return b === F32_NAN ? undefined : hex8(b);
  }
  const w = new Uint32Array(a.buffer, a.byteOffset + 8 * i, 2);
  const hi = w[LITTLE_ENDIAN ? 1 : 0]!;
  const lo = w[LITTLE_ENDIAN ? 0 : 1]!;
  return hi === F64_NAN_HI && lo === 0 ? undefined : hex8(hi) + hex8(lo);
}

function setNanBits(a: Float32Array | Float64Array, i: number, hex: string): boolean {
  if (a instanceof Float32Array) {
    if (!/^[0-9a-f]{8}$/.test(hex)) return false;
    new Uint32Array(a.buffer, a.byteOffset + 4 * i, 1)[0] = parseInt(hex, 16);
  } else {
    if (!/^[0-9a-f]{16}$/.test(hex)) return false;
    const w = new Uint32Array(a.buffer, a.byteOffset + 8 * i, 2);
    w[LITTLE_ENDIAN ? 1 : 0] = parseInt(hex.slice(0, 8), 16);
    w[LITTLE_ENDIAN ? 0 : 1] = parseInt(hex.slice(8), 16);
  }
  return a[i] !== a[i]; // the bits must still be a NaN
}

function regenerate(start: number, step: number, i: number, dtype: FieldDtype): number {
  const v = start + i * step;
  return dtype === 'float32' ? Math.fround(v) : v;
}

/** [start, step] when every value regenerates bit for bit as start + i * step (in dtype), else undefined. */
function progression(a: Float32Array | Float64Array, dtype: FieldDtype): [number, number] | undefined {
  const n = a.length;
  if (n < 3) return undefined;
  const start = a[0]!;
  if (!Number.isFinite(start) || Object.is(start, -0)) return undefined;
  for (const cand of [a[1]! - start, (a[n - 1]! - start) / (n - 1)]) {
    const step = cand + 0; // -0 -> 0 (JSON has no -0)
    if (!Number.isFinite(step)) continue;
    let ok = true;
    for (let i = 1; i < n && ok; i++) ok = Object.is(regenerate(start, step, i, dtype), a[i]);
    if (ok) return [start, step];
  }
  return undefined;
}

function encodeValue(a: Float32Array | Float64Array, i: number): number | string {
  const v = a[i]!;
  if (v !== v) {
    const bits = nanBits(a, i);
    return bits === undefined ? 'NaN' : `NaN:${bits}`;
  }
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return v;
}

/**
 * The stream-metadata form of coordinates (see the top of this file); undefined when there are none.
 * A dtype the values do not fit (e.g. int16 with a NaN) is widened to float64, so values always come back
 * exactly as given.
 */
export function packCoordinates(coords: FieldCoordinates | undefined): Record<string, unknown[]> | undefined {
  if (!coords) return undefined;
  const out: Record<string, unknown[]> = {};
  for (const [dim, c] of Object.entries(coords)) {
    let dtype: FieldDtype = c.dtype ?? 'float64';
    if (!fitsDtype(c.values, dtype)) dtype = 'float64';
    const a = typedValues(c.values, dtype);
    const attrs = c.attributes ?? {};
    const p = progression(a, dtype);
    out[dim] = p ? [dtype, attrs, p[0], p[1], a.length] : [dtype, attrs, Array.from({ length: a.length }, (_, i) => encodeValue(a, i))];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function bad(why: string): FieldpackError {
  return new FieldpackError('BAD_STREAM', `corrupted header: bad coordinates (${why})`);
}

/** Inverse of packCoordinates: values as Float32Array (float32) or Float64Array (other dtypes). */
export function unpackCoordinates(packed: unknown): FieldCoordinates | undefined {
  if (packed === undefined || packed === null) return undefined;
  if (typeof packed !== 'object' || Array.isArray(packed)) throw bad('not an object');
  const out: FieldCoordinates = {};
  for (const [dim, e] of Object.entries(packed as Record<string, unknown>)) {
    if (!Array.isArray(e) || (e.length !== 3 && e.length !== 5)) throw bad(dim);
    const [dtype, attrs] = e as [unknown, unknown];
    if (!isDtype(dtype)) throw bad(`${dim}: dtype`);
    if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) throw bad(`${dim}: attributes`);
    let values: Float32Array | Float64Array;
    if (e.length === 5) {
      const [, , start, step, n] = e as [unknown, unknown, unknown, unknown, unknown];
      if (typeof start !== 'number' || typeof step !== 'number' || !Number.isSafeInteger(n) || (n as number) < 0 || (n as number) > 1 << 30) throw bad(`${dim}: progression`);
      values = dtype === 'float32' ? new Float32Array(n as number) : new Float64Array(n as number);
      for (let i = 0; i < values.length; i++) values[i] = regenerate(start, step, i, dtype);
    } else {
      const list = e[2];
      if (!Array.isArray(list)) throw bad(`${dim}: values`);
      values = dtype === 'float32' ? new Float32Array(list.length) : new Float64Array(list.length);
      for (let i = 0; i < list.length; i++) {
        const x: unknown = list[i];
        if (typeof x === 'number') values[i] = x;
        else if (x === 'NaN') values[i] = NaN;
        else if (x === 'Infinity') values[i] = Infinity;
        else if (x === '-Infinity') values[i] = -Infinity;
        else if (x === '-0') values[i] = -0;
        else if (typeof x === 'string' && x.startsWith('NaN:') && setNanBits(values, i, x.slice(4))) continue;
        else throw bad(`${dim}: value ${i}`);
      }
    }
    out[dim] = { values, dtype, attributes: attrs as Record<string, unknown> };
  }
  return out;
}

/**
 * A coordinate variable read as a Field -> its CoordinateData: dtype the source dtype, or the float type of
 * the values when the variable was packed (scale_factor / add_offset) or has missing points (NaN).
 */
export function coordinateFromField(f: Pick<Field, 'values' | 'sourceDtype' | 'attributes' | 'mask'>): CoordinateData {
  const packed = declaredPacking(f.attributes) !== undefined;
  const floatType: FieldDtype = f.values instanceof Float32Array ? 'float32' : 'float64';
  let dtype: FieldDtype = packed ? floatType : f.sourceDtype;
  if (!fitsDtype(f.values, dtype)) dtype = floatType;
  return { values: f.values, dtype, attributes: f.attributes };
}

/**
 * Coordinates cut like a hyperslab of the field: [start, start + count) along each of `dims`. A coordinate
 * whose length is not its dimension's size (`shape`, before slicing) is dropped. Undefined when none remain.
 */
export function sliceCoordinates(
  coords: FieldCoordinates | undefined,
  dims: readonly string[],
  shape: readonly number[],
  start: readonly number[],
  count: readonly number[],
): FieldCoordinates | undefined {
  if (!coords) return undefined;
  const out: FieldCoordinates = {};
  dims.forEach((dim, i) => {
    const c = coords[dim];
    if (!c || c.values.length !== shape[i]) return;
    const a = start[i] ?? 0;
    const n = count[i] ?? shape[i]!;
    const full = a === 0 && n === c.values.length;
    const v = c.values;
    const values = full ? v : v instanceof Float32Array || v instanceof Float64Array ? v.slice(a, a + n) : Array.prototype.slice.call(v, a, a + n);
    out[dim] = { ...c, values };
  });
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The coordinates stored in a stream's metadata (packCoordinates' form) for the decoded rows [start, end)
 * along the first dimension of `shape`; undefined when there are none.
 */
export function coordinatesOfRows(packed: unknown, dims: readonly string[], shape: readonly number[], start: number, end: number): FieldCoordinates | undefined {
  const all = unpackCoordinates(packed);
  return sliceCoordinates(all, dims, shape, [start, ...shape.slice(1).map(() => 0)], [end - start, ...shape.slice(1)]);
}
