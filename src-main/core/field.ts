/**
 * A field: values of one variable on a grid, in C order (last dimension fastest).
 * Pure data, shared by readers, codecs, metrics and workers (transferable typed arrays).
 */
import type { FieldCoordinates } from './coordinates.ts';

export type { CoordinateData, FieldCoordinates } from './coordinates.ts';
export type FieldDtype = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32';
export type FieldValues = Float32Array | Float64Array;

export const FIELD_DTYPES: readonly FieldDtype[] = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32'];

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
  for (let i = 0; i < mask.length; i++) if (mask[i]! > 1) return mask.map((b) => (b ? 1 : 0));
  return mask;
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
