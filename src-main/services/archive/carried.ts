/**
 * The variables an archive keeps exactly in its manifest rather than as members: those that are not fields but that
 * the fields refer to or that a restored file would be incomplete without (a CF grid_mapping scalar named by the
 * fields' grid_mapping attribute, WRF's Times). Read as stored, written back as stored.
 */
import { FieldpackError } from '../../core/errors.ts';
import { FIELD_DTYPE_BYTES, fieldSize } from '../../core/field.ts';
import { declaredDimension, notAFieldReason, readsAsField } from '../data/readers/util.ts';
import type { DataFile, VariableInfo } from '../data/readers/types.ts';
import { type StoredVariable, isNetcdfVariableName } from '../data/writers/netcdf4.ts';
import { type CarriedVariable, CARRIED_MAX_BYTES, CARRIED_MAX_SOURCE_BYTES, fromJsonNumber, jsonNumber } from './format.ts';

/** Bytes per stored value of a carried dtype (char and the numeric ones readers read). */
const WIDTH: Record<string, number> = { ...FIELD_DTYPE_BYTES, char: 1, int64: 8, uint64: 8 };

/** Stored bytes of a carried variable. */
export function carriedBytes(v: { dtype: string; shape: readonly number[] }): number {
  return fieldSize(v.shape) * (WIDTH[v.dtype] ?? 8);
}

/**
 * Why a variable that is not a field is not carried (null: it is): char variables of any shape and numeric scalars
 * are, up to CARRIED_MAX_BYTES; variables with no values, of other types or unreadable are not.
 */
export function notCarriedReason(v: VariableInfo, file: DataFile, keptBytes = 0): string | null {
  const kept = v.dtype === 'char' || (readsAsField(v.dtype) && v.shape.length === 0);
  // (a char coordinate variable would clash with its dimension's scale on restore)
  if (v.unreadable || !kept || v.isCoordinate) return notAFieldReason(v) ?? 'not a field';
  if (!file.readVerbatim) return `${file.format} files have no variables to keep as stored`;
  // what the restore's NetCDF-4 writer would refuse, refused here: an archive that builds must restore
  if (!isNetcdfVariableName(v.name)) return 'a name the NetCDF-4 writer does not take, so not kept as stored';
  // a group's dimension is the file's too (restore writes it into the group)
  const foreign = v.dims.findIndex((d, i) => {
    const declared = declaredDimension(v.name, d, (name) => name in file.dimensions);
    return declared === null || file.dimensions[declared] !== v.shape[i];
  });
  if (foreign >= 0) return `dimension ${v.dims[foreign]} is not one the file declares with its length, so not kept as stored`;
  const bytes = carriedBytes(v);
  if (bytes === 0) return 'no values yet (a dimension of length 0)';
  if (bytes > CARRIED_MAX_BYTES) return `a ${v.dtype} variable of ${bytes} bytes, more than the ${CARRIED_MAX_BYTES} an archive keeps in its manifest`;
  if (keptBytes + bytes > CARRIED_MAX_SOURCE_BYTES) return `the variables kept as stored from this file already take ${keptBytes} bytes of the ${CARRIED_MAX_SOURCE_BYTES} its manifest entry may hold`;
  return null;
}

/**
 * A variable as the manifest carries it (notCarriedReason(v) must be null), or why it is not after all: its values do
 * not read as stored (a 64-bit integer past 2^53, a variable shorter than its record dimension), or a char variable
 * holds bytes past ASCII (the NetCDF-4 writer would not write them back unchanged).
 */
export async function carryVariable(file: DataFile, v: VariableInfo): Promise<CarriedVariable | { reason: string }> {
  let stored: Uint8Array | ArrayLike<number>;
  try {
    stored = await file.readVerbatim!(v.name);
  } catch (e) {
    if (!(e instanceof FieldpackError) || e.code === 'CANCELLED') throw e;
    return { reason: `not read as stored: ${e.message.replace(`${file.path}: `, '')}` };
  }
  if (v.dtype === 'char' && (stored as Uint8Array).some((b) => b > 0x7f)) return { reason: 'a char variable with bytes past ASCII, which would not be written back unchanged' };
  const data = v.dtype === 'char' ? { base64: Buffer.from(stored as Uint8Array).toString('base64') } : { numbers: Array.from(stored, jsonNumber) };
  return { name: v.name, dims: v.dims, shape: v.shape, dtype: v.dtype, attributes: v.attributes, ...(v.attributeTypes ? { attributeTypes: v.attributeTypes } : {}), data };
}

/** A carried variable as the NetCDF-4 writer takes it. */
export function storedVariableOf(c: CarriedVariable): StoredVariable {
  const data = 'base64' in c.data ? new Uint8Array(Buffer.from(c.data.base64, 'base64')) : c.data.numbers.map(fromJsonNumber);
  return { name: c.name, dims: c.dims, shape: c.shape, dtype: c.dtype, attributes: c.attributes, attributeTypes: c.attributeTypes ?? {}, data };
}
