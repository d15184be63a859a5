/**
 * Fields for the bench, the compress CLI and the cross-field bench, read through the data service (one reader
 * for the whole app: CF masks from _FillValue / missing_value / valid_range, unpacking, real dimension names).
 */
import type { Field } from '../../core/field.ts';
import { openDataFile } from '../data/readers/index.ts';

export interface VariableInfo {
  name: string;
  shape: number[];
  dtype: string;
}

/** Readable variables of a file (not char, string or int64). */
export async function listVariables(path: string): Promise<VariableInfo[]> {
  const file = await openDataFile(path);
  try {
    return file.variables.filter((v) => v.readable).map((v) => ({ name: v.name, shape: [...v.shape], dtype: v.dtype }));
  } finally {
    file.close();
  }
}

/** Variables a bench takes by default: floating point or packed (scale_factor / add_offset), at least 2 dims longer than 1. */
export async function benchVariables(path: string): Promise<string[]> {
  const file = await openDataFile(path);
  try {
    return file.variables
      .filter((v) => v.readable && v.shape.filter((d) => d > 1).length >= 2 && (/float/.test(v.dtype) || v.fill.packing !== undefined))
      .map((v) => v.name);
  } finally {
    file.close();
  }
}

/** Every variable name of a file. */
export async function variableNames(path: string): Promise<string[]> {
  const file = await openDataFile(path);
  try {
    return file.variables.map((v) => v.name);
  } finally {
    file.close();
  }
}

export async function loadField(path: string, variable: string): Promise<Field> {
  const file = await openDataFile(path);
  try {
    return await file.readField(variable);
  } finally {
    file.close();
  }
}
