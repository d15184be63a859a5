/**
 * A field: values of one variable on a grid, in C order (last dimension fastest).
 * Pure data, shared by readers, codecs, metrics and workers (transferable typed arrays).
 */
import type { FieldCoordinates } from './coordinates.ts';

export type { CoordinateData, FieldCoordinates } from './coordinates.ts';
export type FieldDtype = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32';
export type FieldValues = Float32Array | Float64Array;

export const FIELD_DTYPES: readonly FieldDtype[] = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32'];

/** Bytes a value of each field dtype takes where a file stores it. */
export const FIELD_DTYPE_BYTES: Readonly<Record<FieldDtype, number>> = { float32: 4, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4 };

export function isFieldDtype(d: unknown): d is FieldDtype {
  return typeof d === 'string' && (FIELD_DTYPES as readonly string[]).includes(d);
}

/** The values an integer dtype holds. */
export const INT_DTYPE_RANGE: Partial<Record<FieldDtype, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

export interface Field {
  /** Variable name as in the source file. */
  name: string;
  /** Sizes, slowest first (C order), e.g. [time, lat, lon]. */
  shape: number[];
  /** Dimension names, same order as shape. */
  dims: string[];
  /** Unpacked values (scale_factor/add_offset applied); fill points hold NaN or any value, see mask. */
  values: FieldValues;
  /** 1 = valid point, 0 = fill/missing. Absent means every point is valid. */
  mask?: Uint8Array;
  /** dtype in the source file, before unpacking. */
  sourceDtype: FieldDtype;
  units?: string;
  /** CF and other attributes, JSON-serialisable. */
  attributes: Record<string, unknown>;
  /** the stored type (int8 ... float64) of numeric attributes where the source says it (JSON numbers carry none) */
  attributeTypes?: Record<string, string>;
  /** Coordinate variables of the dimensions that have one (lon, lat, depth, time), cut like the field. */
  coordinates?: FieldCoordinates;
}

/**
 * A mask as the codecs read it, 1 valid and 0 not: itself where it already is, else a copy with every non-zero byte
 * 1 (a mask of 255s from a numpy bool view or an image tool). The mask coders take each byte as one context bit.
 */
export function binaryMask(mask: Uint8Array): Uint8Array {
  return anyByteAbove1(mask) ? mask.map((b) => (b ? 1 : 0)) : mask;
}

/** Whether a byte is above 1: four bytes a step (a 1.3 M-point mask: 0.25 ms, a byte a step 0.9) */
function anyByteAbove1(bytes: Uint8Array): boolean {
  const head = Math.min(bytes.length, (4 - (bytes.byteOffset & 3)) & 3);
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + head, (bytes.length - head) >>> 2);
  for (let i = 0; i < words.length; i++) if ((words[i]! & 0xfefefefe) !== 0) return true;
  const above1 = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (bytes[i]! > 1) return true;
    return false;
  };
  return above1(0, head) || above1(head + 4 * words.length, bytes.length);
}

export function fieldSize(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Same dimensions, in the same order. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Row-major strides for a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** A packed variable's scale_factor / add_offset, as netCDF4-python unpacks them (see declaredPacking). */
export interface DeclaredPacking {
  scaleFactor?: number;
  addOffset?: number;
}

/** An attribute as one number: a number, or a one-element array or typed array; undefined for anything else. */
function singleNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) return undefined;
  const a = v as ArrayLike<unknown>;
  if (a.length !== 1) return undefined;
  const x = a[0];
  return typeof x === 'number' ? x : undefined;
}

/**
 * The packing a variable's attributes declare, undefined when it has none or when netCDF4-python would not unpack
 * it: a scale_factor or add_offset that is not one number (an array of several, a string) leaves the stored values
 * as they are ("invalid scale_factor or add_offset attribute, no unpacking done"), whichever of the two is valid.
 */
export function declaredPacking(attrs: Record<string, unknown> | undefined): DeclaredPacking | undefined {
  const a = attrs ?? {};
  const hasScale = a['scale_factor'] !== undefined;
  const hasOffset = a['add_offset'] !== undefined;
  if (!hasScale && !hasOffset) return undefined;
  const scaleFactor = hasScale ? singleNumber(a['scale_factor']) : undefined;
  const addOffset = hasOffset ? singleNumber(a['add_offset']) : undefined;
  if ((hasScale && scaleFactor === undefined) || (hasOffset && addOffset === undefined)) return undefined;
  return { ...(scaleFactor !== undefined ? { scaleFactor } : {}), ...(addOffset !== undefined ? { addOffset } : {}) };
}
