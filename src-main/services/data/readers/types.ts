/**
 * One reader interface for every format Fieldpack reads (NetCDF-3, NetCDF-4/HDF5, raw binary).
 * Readers list variables cheaply on open and read values only when asked (readField), optionally a
 * hyperslab along the leading axes, so big variables need not be read at once.
 */
import type { Field, FieldDtype } from '../../../core/field.ts';

export type { DataFormat, FillInfo, VariableDtype } from '../../../api/methods/description.ts';
import type { DataFormat, FillInfo, VariableDtype } from '../../../api/methods/description.ts';

export interface VariableInfo {
  /** Name; in HDF5 groups the path without leading slash, e.g. "forecast/temp". */
  name: string;
  dims: string[];
  shape: number[];
  dtype: VariableDtype;
  /** Whether readField can return it (numeric dtype Fieldpack supports). */
  readable: boolean;
  /** Why it cannot, where that is not its dtype (an HDF5 filter without a decoder here). */
  unreadable?: string;
  attributes: Record<string, unknown>;
  /** the stored type of each numeric attribute (JSON numbers carry none: 2.0 would come back as an integer) */
  attributeTypes?: Record<string, VariableDtype>;
  units?: string;
  longName?: string;
  fill: FillInfo;
  /** CF coordinate variable: 1-D, named like its dimension. */
  isCoordinate: boolean;
}

export interface GroupInfo {
  /** as variables name their groups: the path without leading slash, e.g. "forecast" or "forecast/surface" */
  path: string;
  attributes: Record<string, unknown>;
  /** the stored type of each numeric attribute */
  attributeTypes?: Record<string, VariableDtype>;
}

/**
 * Hyperslab: [start, stop) per leading axis; missing trailing axes (or undefined entries) mean the
 * whole axis. `[[3, 4]]` reads time step 3 of a [time, lat, lon] variable.
 */
export type FieldSlice = Array<[number, number] | undefined>;

export interface ReadOptions {
  slice?: FieldSlice;
  /** Fraction in [0,1] while a large variable is read in pieces. */
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
  /** Bytes read per piece of a large variable (progress and abort granularity). Default 8 MiB. */
  chunkBytes?: number;
  /**
   * Fill Field.coordinates with the coordinate variables of the variable's dimensions, cut like the slice
   * (default true; openDataFile's files do it for every format).
   */
  coordinates?: boolean;
}

export interface DataFile {
  path: string;
  format: DataFormat;
  sizeBytes: number;
  variables: VariableInfo[];
  globalAttributes: Record<string, unknown>;
  /** the stored type of each numeric global attribute, where the format says it */
  globalAttributeTypes?: Record<string, VariableDtype>;
  /**
   * The groups below the root (NetCDF-4 / HDF5), parents before their children, each with its attributes: what an
   * archive restores beside the variables (a group holding only attributes too). Absent: a format without groups.
   */
  groups?: GroupInfo[];
  /** Dimension name -> size (for raw files: the given dims). */
  dimensions: Record<string, number>;
  /** Dimensions of unlimited size (NetCDF-3's record dimension, HDF5 scales with an unlimited maximum); absent: none known. */
  unlimited?: string[];
  variable(name: string): VariableInfo;
  readField(name: string, options?: ReadOptions): Promise<Field>;
  /**
   * A whole variable's values as the file stores them (no unpacking, masking or fill): a char variable's bytes, a
   * numeric one's numbers (64-bit integers as exact doubles). What an archive carries unchanged of the variables that
   * are not fields (a CF grid_mapping scalar, WRF's Times). Absent where the format has no such variables.
   */
  readVerbatim?(name: string): Promise<Uint8Array | ArrayLike<number>>;
  close(): void;
}

export interface RawOptions {
  shape: number[];
  dtype: FieldDtype;
  /** Default little. */
  endianness?: 'little' | 'big';
  /** Variable name; default the file name without extension. */
  name?: string;
  dims?: string[];
  units?: string;
  /**
   * Value marking missing points; NaN makes every NaN point missing. Without it NaN and +-Inf are values.
   * A sidecar gives a non-finite one as the string "NaN", "Infinity" or "-Infinity" (JSON has no NaN).
   */
  fillValue?: number;
  attributes?: Record<string, unknown>;
}

export interface OpenOptions {
  /** For raw binary files without a sidecar FILE.json. */
  raw?: RawOptions;
  /** a .fpk stream's dependencies given (decompress's --anchor FILE and --base file:PATH), besides those found beside it */
  streamDependencies?: { files?: string[]; fields?: Field[] };
}
