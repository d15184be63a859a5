/**
 * What describing a data file finds (data.describe, and what a dataset import stores): its files, grids, fields with
 * their statistics and detected quantization step, coordinates, and the variables that are not fields. Plain types:
 * services/data/describe.ts builds them, the doors print or draw them. The contract stands alone (it imports no
 * core module), so the statistics are declared here as well; the compiler checks that core's fit them.
 */

/** The dtypes a variable can be read as a field from (core/field.ts FieldDtype) */
export type NumericDtype = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32';

export type DataFormat = 'netcdf3-classic' | 'netcdf3-64bit-offset' | 'netcdf3-64bit-data' | 'netcdf4-hdf5' | 'raw' | 'fpk' | 'npz';

/** Storage dtype of a variable; only the FieldDtype ones can be read as fields. */
export type VariableDtype = NumericDtype | 'int64' | 'uint64' | 'char' | 'string' | 'other';

/** CF fill / validity information, in the variable's stored (packed) units unless said otherwise. */
export interface FillInfo {
  /** _FillValue attribute (cast to the variable's dtype). */
  fillValue?: number;
  /** missing_value attribute (one or more values). */
  missingValues?: number[];
  /** valid_range or valid_min / valid_max, in stored units. */
  validMin?: number;
  validMax?: number;
  /** netCDF default fill value masked when no _FillValue is given (as netCDF4-python does; not for bytes). */
  defaultFill?: number;
  /** scale_factor / add_offset, present when the variable is packed. */
  packing?: { scaleFactor: number; addOffset: number; unpackedDtype: 'float32' | 'float64' };
  /** _Unsigned = "true" on a signed integer variable: read as unsigned. */
  unsigned?: boolean;
}

export type AxisKind = 'time' | 'level' | 'latitude' | 'longitude' | 'y' | 'x' | 'other';
export type AxisRecognisedBy = 'cf-axis' | 'cf-units' | 'cf-positive' | 'cf-standard_name' | 'name' | null;

export interface AxisDescription {
  dim: string;
  size: number;
  kind: AxisKind;
  recognisedBy: AxisRecognisedBy;
  /** Coordinate variable (same file, same name) when there is one. */
  coordinate?: string;
  units?: string;
  /** Dimension name ends in _stag (WRF) or the grid destaggers along it. */
  staggered?: boolean;
}

export interface GridDescription {
  id: string;
  dims: string[];
  shape: number[];
  axes: AxisDescription[];
  /** Field ids on this grid. */
  fields: string[];
  /** Field ids on other grids that are averaged onto this one for correlation (destagger-average). */
  staggeredFields: string[];
  /** When this grid is a staggered one: the grid it destaggers onto. */
  destaggersTo?: string;
}

export interface FileDescription {
  path: string;
  name: string;
  format: DataFormat | string;
  sizeBytes: number;
  dimensions: Record<string, number>;
  globalAttributes: Record<string, unknown>;
}

export interface FieldDescription {
  /** Unique in the dataset: the name, or "name@file-index" when two files have the same name. */
  id: string;
  /** Index into files. */
  file: number;
  name: string;
  dims: string[];
  shape: number[];
  /** Stored dtype. */
  dtype: VariableDtype;
  /** dtype of the values Fieldpack reads (unpacked). */
  valuesDtype: 'float32' | 'float64';
  units?: string;
  longName?: string;
  attributes: Record<string, unknown>;
  fill: FillInfo;
  gridId: string;
  /** data, or auxiliary-coordinate (named in another variable's "coordinates" attribute, e.g. WRF XLAT). */
  role: 'data' | 'auxiliary-coordinate';
  stats: DescribedFieldStats;
}

/** Counts of valid (unmasked) points holding NaN, +Inf and -Inf. */
export interface NonFiniteCounts {
  nan: number;
  posInf: number;
  negInf: number;
}

/**
 * fieldStats plus the non-finite values: NaN and +-Inf that are not fill are values of the field, kept
 * exactly, but min / max / mean / std / distinct / validCount (and histograms) cover the finite valid
 * points only. fillFraction is the masked points' share: count = validCount + nonFinite (all three) + masked.
 */
export interface DescribedFieldStats {
  /** all points */
  count: number;
  validCount: number;
  /** the masked points' share */
  fillFraction: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** population standard deviation */
  std: number | null;
  /** distinct values: exact up to a cap (label "1234" or "> 131072") */
  distinct: { count: number; exact: boolean; cap: number; label: string };
  /** the step the values already lie on, where one is found (core/stats/quantization.ts) */
  quantization: {
    detected: boolean;
    step: number | null;
    source: 'packing' | 'integer-dtype' | 'values' | null;
    levels?: number;
    note: string;
  };
  nonFinite: NonFiniteCounts;
  /**
   * a fill value the file does not declare, where one stands out (core/stats/undeclared-fill.ts): the smallest or
   * largest value, on many points, far from all the others (counted in min / max and in a relative bound's range)
   */
  undeclaredFill?: { value: number; count: number; valid: number; rest: [number, number] };
  /** stats of a central block only (a variable of more than DESCRIBE_MAX_VALUES): its slice and its number of values */
  sample?: { slice: [number, number][]; values: number };
}

export interface CoordinateDescription {
  file: number;
  name: string;
  dims: string[];
  size: number;
  units?: string;
  attributes: Record<string, unknown>;
  /** what the axis is, recognised as a grid's axes are (absent from descriptions stored before it was added) */
  kind?: AxisKind;
  first: number | null;
  last: number | null;
  /** All values when there are at most 4096. */
  values?: number[];
}

export interface DatasetDescription {
  name: string;
  files: FileDescription[];
  grids: GridDescription[];
  fields: FieldDescription[];
  coordinates: CoordinateDescription[];
  /** Variables not imported as fields, with the reason (char/string/int64 variables). */
  skipped: Array<{ file: number; name: string; reason: string }>;
  totalValues: number;
  elapsedMs: number;
}

