import { coordinateFromField } from '../../../core/coordinates.ts';
import { FieldpackError } from '../../../core/errors.ts';
import { type FieldCoordinates, type FieldDtype, fieldSize, isFieldDtype } from '../../../core/field.ts';
import type { DataFile, FieldSlice, ReadOptions, VariableDtype, VariableInfo } from './types.ts';
import { firstNames } from '../../../core/text.ts';

export function badFile(path: string, problem: string, details?: Record<string, unknown>): FieldpackError {
  return new FieldpackError('BAD_FILE', `${path}: ${problem}`, { path, ...details });
}

export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new FieldpackError('CANCELLED', `cancelled while ${what}`);
}

/** 64-bit integer dtypes: read only as 1-D coordinates (xarray writes its time axes so), as doubles where exact. */
export const INT64 = new Set<VariableDtype>(['int64', 'uint64']);

/**
 * The name under which a file declares dimension `dim` of variable `variable`: readers name a group's dimensions by
 * path ("g1/q") and a group variable's dims by the bare name ("q"), and netCDF looks a dimension up in the variable's
 * group, then in the groups above. null where none declares it.
 */
export function declaredDimension(variable: string, dim: string, declared: (name: string) => boolean): string | null {
  const groups = variable.split('/').slice(0, -1);
  for (let depth = groups.length; depth >= 0; depth--) {
    const path = [...groups.slice(0, depth), dim].join('/');
    if (declared(path)) return path;
  }
  return null;
}

/**
 * Whether a variable of this dtype is read as a field: the numeric field dtypes, and 64-bit integers (xarray writes
 * integer arrays and times so), read as doubles where every value is one exactly (exactDoubles).
 */
export function readsAsField(dtype: VariableDtype): boolean {
  return isFieldDtype(dtype) || INT64.has(dtype);
}

/** The dtype a readable variable's values come as (64-bit integers: float64). */
export function valuesDtypeOf(dtype: VariableDtype): FieldDtype {
  return INT64.has(dtype) ? 'float64' : (dtype as FieldDtype);
}

/**
 * 64-bit integers as doubles, refused where one is not a double exactly (past 2^53, a double would change it). A
 * point holding one of `fills` (int64Fills) comes as that fill's double, which the CF mask then masks (its own
 * _FillValue, missing_value or default fill, read as doubles); another value with the same double is refused.
 */
export function exactDoubles(path: string, name: string, raw: BigInt64Array | BigUint64Array, fills: readonly bigint[] = []): Float64Array {
  const out = new Float64Array(raw.length);
  const fillDoubles = fills.map(Number);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    const x = Number(r);
    out[i] = x;
    // within 2^53 every integer is a double; past it, only those the double gives back, and the fills
    if (Number.isSafeInteger(x) || fills.includes(r)) continue;
    if (BigInt(x) !== r) throw new FieldpackError('UNSUPPORTED', `${path}: the 64-bit integer variable "${name}" holds ${r} at ${i}, which a double cannot hold exactly (past 2^53)`, { path, variable: name });
    if (fillDoubles.includes(x)) throw new FieldpackError('UNSUPPORTED', `${path}: the 64-bit integer variable "${name}" holds ${r} at ${i}, which a double cannot tell from its fill value ${fills[fillDoubles.indexOf(x)]}`, { path, variable: name });
  }
  return out;
}

export function missingVariable(path: string, name: string, variables: readonly VariableInfo[]): FieldpackError {
  const names = variables.map((v) => v.name);
  // names quoted where they would not read as themselves (a trailing space: "temp " listed as temp)
  const shown = names.map((n) => (/^\S(.*\S)?$/.test(n) && !n.includes(',') ? n : JSON.stringify(n)));
  return new FieldpackError('NOT_FOUND', `${path}: no variable "${name}" (variables: ${firstNames(shown, 50) || 'none'})`, { path, variable: name, variables: names });
}

/** The variable of that name, or NOT_FOUND listing the file's variables. */
export function variableNamed(path: string, variables: readonly VariableInfo[], name: string): VariableInfo {
  const v = variables.find((x) => x.name === name);
  if (!v) throw missingVariable(path, name, variables);
  return v;
}

/** The name of a variable's first dimension of length 0 (an unlimited one with no records yet), or null. */
export function emptyDimension(v: Pick<VariableInfo, 'shape' | 'dims'>): string | null {
  const empty = v.shape.indexOf(0);
  return empty >= 0 ? v.dims[empty]! : null;
}

/** A variable with a dimension of length 0 has nothing to read. */
export function checkNotEmpty(path: string, v: Pick<VariableInfo, 'name' | 'shape' | 'dims'>): void {
  const dim = emptyDimension(v);
  if (dim !== null) throw new FieldpackError('INVALID_ARGUMENT', `${path}: variable "${v.name}" has no values: its dimension ${dim} has length 0`);
}

/**
 * Why a variable is not a field to compress, as inspect lists it (its reader's reason, its dtype, no dimensions, no
 * values yet), or null where it is one.
 */
export function notAFieldReason(v: Pick<VariableInfo, 'dtype' | 'readable' | 'unreadable' | 'shape' | 'dims'>): string | null {
  if (v.unreadable) return v.unreadable;
  if (!v.readable) return `dtype ${v.dtype} is not a numeric field type`;
  if (v.shape.length === 0) return 'a scalar: one value, no dimensions';
  const empty = emptyDimension(v);
  return empty !== null ? `no values yet: dimension ${empty} has length 0` : null;
}

/** A reader's refusal of a variable it does not read: UNSUPPORTED with its reader's reason, or its dtype. */
export function checkReadable(path: string, v: VariableInfo): void {
  if (v.unreadable) throw new FieldpackError('UNSUPPORTED', `${path}: variable "${v.name}" is ${v.unreadable}`, { path, variable: v.name });
  if (!v.readable) {
    throw new FieldpackError('UNSUPPORTED', `${path}: variable "${v.name}" has dtype ${v.dtype}, which Fieldpack cannot read as a field (integers of 8 to 64 bits, float32 and float64 only)`, { path, variable: v.name, dtype: v.dtype });
  }
}

/** UNSUPPORTED, naming the variable and why, where it is not a field to compress (notAFieldReason). */
export function checkIsField(path: string, v: VariableInfo): void {
  const why = notAFieldReason(v);
  if (why !== null) throw new FieldpackError('UNSUPPORTED', `${path}: variable "${v.name}" is not a field to compress: ${why}`, { path, variable: v.name });
}

export function resolveSlice(path: string, v: VariableInfo, slice: FieldSlice | undefined): { start: number[]; count: number[] } {
  const start: number[] = [];
  const count: number[] = [];
  if (slice && slice.length > v.shape.length) {
    throw new FieldpackError('INVALID_ARGUMENT', `${path}: slice has ${slice.length} ranges but "${v.name}" has ${v.shape.length} dimensions`);
  }
  checkNotEmpty(path, v);
  v.shape.forEach((n, i) => {
    const r = slice?.[i];
    const a = r ? r[0] : 0;
    const b = r ? r[1] : n;
    if (Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b <= n && a >= b) {
      throw new FieldpackError('INVALID_ARGUMENT', `${path}: slice [${a}, ${b}) of dimension ${v.dims[i]} of "${v.name}" is empty: give START:END with END > START (e.g. ${a}:${a + 1} for index ${a})`);
    }
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > n) {
      throw new FieldpackError('INVALID_ARGUMENT', `${path}: slice [${a}, ${b}) is outside dimension ${v.dims[i]} of "${v.name}" (size ${n})`);
    }
    start.push(a);
    count.push(b - a);
  });
  return { start, count };
}

export function sliceSize(count: readonly number[]): number {
  return fieldSize(count);
}

/** Keep only JSON-friendly attribute values (typed arrays -> number arrays, bigint -> number). */
export function jsonAttr(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const arr = Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? Number(x) : x));
    return arr.length === 1 ? arr[0] : arr;
  }
  if (Array.isArray(v)) {
    const arr = v.map(jsonAttr);
    return arr.length === 1 && typeof arr[0] !== 'object' ? arr[0] : arr;
  }
  return v;
}

export function basenameNoExt(p: string): string {
  const b = p.split(/[\\/]/).pop() ?? p;
  const i = b.lastIndexOf('.');
  return i > 0 ? b.slice(0, i) : b;
}

type Indexable = { length: number; [i: number]: number };

/**
 * Copy the hyperslab [start, start+count) of a C-order array of `shape` into a new array made by `make`.
 * Runs along the last axis are copied with subarray/set.
 */
/** The typed array a stored dtype's values come in. */
export const TYPED_ARRAY = { float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array } as const;

type Typed = InstanceType<(typeof TYPED_ARRAY)[FieldDtype]>;

/**
 * `block` (C order, `blockShape`) at the origin of an array of `shape`, every other point `fill`, in the block's own
 * typed array (or `dtype`'s where there is no block): a slice that runs past what a variable has written.
 */
export function padWithFill(block: Typed | null, blockShape: readonly number[], shape: readonly number[], fill: number, dtype: FieldDtype): Typed {
  const out = new ((block?.constructor ?? TYPED_ARRAY[dtype]) as new (n: number) => Typed)(fieldSize(shape));
  out.fill(fill);
  if (!block || fieldSize(blockShape) === 0) return out;
  const nd = shape.length;
  if (nd === 0) return block;
  const run = blockShape[nd - 1]!;
  const rows = fieldSize(blockShape) / run;
  for (let r = 0; r < rows; r++) {
    // the block's row r (its index over the leading dims) in the output's strides
    let rest = r;
    let at = 0;
    let stride = shape[nd - 1]!;
    for (let i = nd - 2; i >= 0; i--) {
      at += (rest % blockShape[i]!) * stride;
      rest = Math.floor(rest / blockShape[i]!);
      stride *= shape[i]!;
    }
    out.set(block.subarray(r * run, (r + 1) * run) as never, at);
  }
  return out;
}

export function extractHyperslab<T extends Indexable & { subarray(a: number, b: number): T; set(src: T, off: number): void }>(
  src: T,
  shape: readonly number[],
  start: readonly number[],
  count: readonly number[],
  make: (n: number) => T,
): T {
  const nd = shape.length;
  if (nd === 0) return src;
  let full = true;
  for (let i = 0; i < nd; i++) if (start[i] !== 0 || count[i] !== shape[i]) full = false;
  if (full) return src;
  const strides: number[] = new Array(nd);
  let s = 1;
  for (let i = nd - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  const total = count.reduce((a, b) => a * b, 1);
  const out = make(total);
  const run = count[nd - 1]!;
  const idx = new Array(nd - 1).fill(0);
  let o = 0;
  for (;;) {
    let off = start[nd - 1]!;
    for (let i = 0; i < nd - 1; i++) off += (start[i]! + idx[i]) * strides[i]!;
    out.set(src.subarray(off, off + run), o);
    o += run;
    let k = nd - 2;
    while (k >= 0) {
      idx[k]++;
      if (idx[k] < count[k]!) break;
      idx[k] = 0;
      k--;
    }
    if (k < 0) break;
  }
  return out;
}

/**
 * Makes file.readField fill Field.coordinates (unless the reader did, or options.coordinates is false): the
 * CF coordinate variables (1-D, named like their dimension) of the variable's dimensions, read over the
 * same slice. One place for every format; a coordinate variable itself gets none. A coordinate that cannot
 * be read is left out rather than failing the field.
 */
export function withCoordinates(file: DataFile): DataFile {
  const read = file.readField;
  file.readField = async (name: string, options: ReadOptions = {}) => {
    const field = await read.call(file, name, options);
    if (field.coordinates || options.coordinates === false) return field;
    const v = file.variable(name);
    if (v.isCoordinate || v.shape.length === 0) return field;
    const { start, count } = resolveSlice(file.path, v, options.slice);
    const coordinates: FieldCoordinates = {};
    for (let i = 0; i < v.dims.length; i++) {
      const dim = v.dims[i]!;
      const cv = file.variables.find((x) => x.name === dim && x.isCoordinate && x.readable && x.shape.length === 1 && x.shape[0] === v.shape[i]);
      if (!cv || coordinates[dim]) continue;
      try {
        const c = await read.call(file, dim, { slice: [[start[i]!, start[i]! + count[i]!]], signal: options.signal, coordinates: false });
        coordinates[dim] = coordinateFromField(c);
      } catch (e) {
        if (e instanceof FieldpackError && e.code === 'CANCELLED') throw e;
      }
    }
    return Object.keys(coordinates).length > 0 ? { ...field, coordinates } : field;
  };
  return file;
}
