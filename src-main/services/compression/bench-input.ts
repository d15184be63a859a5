/**
 * Fields for the bench, the compress CLI and the cross-field bench, read through the data service (one reader
 * for the whole app: CF masks from _FillValue / missing_value / valid_range, unpacking, real dimension names).
 */
import { type Field, fieldSize } from '../../core/field.ts';
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

/** A 1-D variable of at least this many values that is not a coordinate variable is data (a series, particles). */
const MIN_SERIES_VALUES = 1024;

/**
 * Variables a bench takes by default: floating point or packed (scale_factor / add_offset), with at least 2 dims
 * longer than 1, or 1-D data (MIN_SERIES_VALUES or more, not a coordinate variable: particle arrays, time series
 * were skipped without a word).
 */
export async function benchVariables(path: string): Promise<string[]> {
  const file = await openDataFile(path);
  try {
    const data = (v: (typeof file.variables)[number]) => {
      const long = v.shape.filter((d) => d > 1).length;
      return long >= 2 || (long === 1 && !v.isCoordinate && fieldSize(v.shape) >= MIN_SERIES_VALUES);
    };
    return file.variables
      .filter((v) => v.readable && (/float/.test(v.dtype) || v.fill.packing !== undefined) && data(v))
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
