/**
 * The variables an archive keeps exactly in its manifest rather than as members: those that are not fields but that
 * the fields refer to or that a restored file would be incomplete without (a CF grid_mapping scalar named by the
 * fields' grid_mapping attribute, WRF's Times). Read as stored, written back as stored.
 */
import { fieldSize } from '../../core/field.ts';
import { notAFieldReason, readsAsField } from '../data/readers/util.ts';
import type { DataFile, VariableInfo } from '../data/readers/types.ts';
import type { StoredVariable } from '../data/writers/netcdf4.ts';
import { type CarriedVariable, CARRIED_MAX_BYTES, fromJsonNumber, jsonNumber } from './format.ts';

/** Bytes per stored value of a carried dtype (char and the numeric ones readers read). */
const WIDTH: Record<string, number> = { char: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8 };

/**
 * Why a variable that is not a field is not carried (null: it is): char variables of any shape and numeric scalars
 * are, up to CARRIED_MAX_BYTES; variables with no values, of other types or unreadable are not.
 */
export function notCarriedReason(v: VariableInfo, file: DataFile): string | null {
  const kept = v.dtype === 'char' || (readsAsField(v.dtype) && v.shape.length === 0);
  // (a char coordinate variable would clash with its dimension's scale on restore)
  if (v.unreadable || !kept || v.isCoordinate) return notAFieldReason(v) ?? 'not a field';
  if (!file.readVerbatim) return `${file.format} files have no variables to keep as stored`;
  const bytes = fieldSize(v.shape) * WIDTH[v.dtype]!;
  if (bytes === 0) return 'no values yet (a dimension of length 0)';
  if (bytes > CARRIED_MAX_BYTES) return `a ${v.dtype} variable of ${bytes} bytes, more than the ${CARRIED_MAX_BYTES} an archive keeps in its manifest`;
  return null;
}

/** A variable as the manifest carries it (notCarriedReason(v) must be null). */
export async function carryVariable(file: DataFile, v: VariableInfo): Promise<CarriedVariable> {
  const stored = await file.readVerbatim!(v.name);
  const data = v.dtype === 'char' ? { base64: Buffer.from(stored as Uint8Array).toString('base64') } : { numbers: Array.from(stored, jsonNumber) };
  return { name: v.name, dims: v.dims, shape: v.shape, dtype: v.dtype, attributes: v.attributes, data };
}

/** A carried variable as the NetCDF-4 writer takes it. */
export function storedVariableOf(c: CarriedVariable): StoredVariable {
  const data = 'base64' in c.data ? new Uint8Array(Buffer.from(c.data.base64, 'base64')) : c.data.numbers.map(fromJsonNumber);
  return { name: c.name, dims: c.dims, shape: c.shape, dtype: c.dtype, attributes: c.attributes, data };
}
