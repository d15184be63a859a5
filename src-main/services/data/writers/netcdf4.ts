/**
 * A Field written as a NetCDF-4 (HDF5) file with h5wasm that netCDF-C / netCDF4-python read as a proper
 * NetCDF-4 variable: one HDF5 dimension scale per dimension (a coordinate variable when its values are
 * given, otherwise a pure "netCDF dimension" scale), attached to the variable, fixed-length ASCII
 * string attributes, numeric attributes in their stored types where the reader gave them (Field.attributeTypes), _FillValue in the variable's type at masked points (the source's, NaN included, unless it is a valid value);
 * valid NaN / +-Inf are written bit for bit and stay values (netCDF4-python does not mask them).
 * Values are written unpacked (float32 or float64 as in the Field), so scale_factor / add_offset are
 * dropped and missing_value / valid_range are converted to unpacked units. Provenance attributes
 * (fieldpack_codec, fieldpack_bound, fieldpack_version, ...) are added. Temp file + rename.
 */
import { FieldpackError } from '../../../core/errors.ts';
import { fitsDtype } from '../../../core/coordinates.ts';
import { type CoordinateData, type Field, type FieldCoordinates, type FieldDtype, declaredPacking } from '../../../core/field.ts';
import { NETCDF_DEFAULT_FILL } from '../readers/cf.ts';
import { h5guard, loadH5wasm, type H5Dataset, type H5File } from '../readers/h5.ts';
import { writeAtomically } from '../../files/atomic.ts';
import { provenanceAttributes } from './provenance.ts';

export type { CoordinateData };

/** h5wasm dtype and typed array of a coordinate written in its own dtype (float64 when none is given). */
const COORD_TYPES: Record<FieldDtype, [string, new (a: ArrayLike<number>) => ArrayLike<number>]> = {
  float32: ['<f', Float32Array], float64: ['<d', Float64Array], int8: ['<b', Int8Array], uint8: ['<B', Uint8Array],
  int16: ['<h', Int16Array], uint16: ['<H', Uint16Array], int32: ['<i', Int32Array], uint32: ['<I', Uint32Array],
};

function coordinateArray(c: CoordinateData): { data: ArrayLike<number>; dtype: string } {
  const dtype = c.dtype ?? 'float64';
  // values that do not fit the dtype (a NaN in an integer one) are written as float64: never change a value
  const [h5, Ctor] = COORD_TYPES[fitsDtype(c.values, dtype) ? dtype : 'float64'];
  return { data: new Ctor(c.values), dtype: h5 };
}

export interface NetcdfWriteOptions {
  /** Provenance: codec, bound, bound_mode, source_file, ... (prefixed fieldpack_ when not already). */
  provenance?: Record<string, string | number | undefined>;
  /**
   * Coordinate variable values per dimension name (e.g. from the source file), each written in its dtype;
   * others become pure dimensions. Default: the field's own coordinates.
   */
  coordinates?: FieldCoordinates;
  globalAttributes?: Record<string, unknown>;
  /** the stored type of numeric global attributes (DataFile.globalAttributeTypes) */
  globalAttributeTypes?: Record<string, string>;
  /** deflate level 1-9, or 0 for none. Default 4. */
  deflate?: number;
}

/** attributes HDF5 and netCDF-4 keep for themselves */
const HDF5_HIDDEN = new Set(['DIMENSION_LIST', 'REFERENCE_LIST', 'CLASS', 'NAME', '_Netcdf4Dimid', '_Netcdf4Coordinates', '_nc3_strict', '_NCProperties']);
const RESERVED = new Set([...HDF5_HIDDEN, '_Unsigned', 'scale_factor', 'add_offset', '_FillValue']);
const PURE_DIM = 'This is a netCDF dimension but not a netCDF variable.';
const RANGE_ATTRS = new Set(['valid_range', 'valid_min', 'valid_max', 'actual_range']);

function writeAttr(obj: { create_attribute: H5Dataset['create_attribute'] }, name: string, value: unknown, floatDtype?: '<f' | '<d'): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'string') {
    const bytes = Buffer.byteLength(value, 'utf8');
    const ascii = bytes === value.length;
    obj.create_attribute(name, value, null, `${ascii ? 'A' : 'S'}${Math.max(1, bytes)}`);
    return;
  }
  if (typeof value === 'boolean') {
    obj.create_attribute(name, Int8Array.of(value ? 1 : 0), [1], '<b');
    return;
  }
  // a list of strings (netCDF-4's NC_STRING attributes): variable-length strings, as netCDF writes them (they were
  // written as one string of JSON text)
  if (Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === 'string')) {
    obj.create_attribute(name, value as string[], [value.length]);
    return;
  }
  const arr = typeof value === 'number' ? [value] : Array.isArray(value) && value.every((x) => typeof x === 'number') ? (value as number[]) : undefined;
  if (!arr || arr.length === 0) {
    // anything else (objects, mixed lists) as JSON text
    writeAttr(obj, name, JSON.stringify(value));
    return;
  }
  if (floatDtype === '<f') obj.create_attribute(name, Float32Array.from(arr), [arr.length], '<f');
  else if (!floatDtype && arr.every((x) => Number.isInteger(x) && x >= -2147483648 && x <= 2147483647)) obj.create_attribute(name, Int32Array.from(arr), [arr.length], '<i');
  else obj.create_attribute(name, Float64Array.from(arr), [arr.length], '<d');
}

function numbersOf(v: unknown): number[] | undefined {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  return undefined;
}

/** Attributes of the written (unpacked) variable, from the source field's. */
export function unpackedAttributes(field: Field): { attrs: Record<string, unknown>; fill: number; needsFill: boolean } {
  const src = field.attributes ?? {};
  const packing = declaredPacking(src);
  const sf = packing?.scaleFactor;
  const ao = packing?.addOffset;
  const packed = packing !== undefined;
  const unpack = (x: number) => x * (sf ?? 1) + (ao ?? 0);
  const attrs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (RESERVED.has(k)) continue;
    if (packed && (k === 'valid_range' || k === 'valid_min' || k === 'valid_max')) {
      const n = numbersOf(v);
      if (n) attrs[k] = n.length === 1 ? unpack(n[0]!) : n.map(unpack);
      continue;
    }
    if (packed && k === 'missing_value') continue; // a packed code, meaningless once unpacked: masked points get _FillValue
    attrs[k] = v;
  }
  if (field.units !== undefined && attrs['units'] === undefined) attrs['units'] = field.units;
  widenValidRange(field, attrs);
  const f32 = field.values instanceof Float32Array;
  const srcFill = numbersOf(src['_FillValue'])?.[0];
  const cast = (x: number) => (f32 ? Math.fround(x) : x);
  dropMissingValuesHeld(field, attrs, cast);
  const dflt = cast(NETCDF_DEFAULT_FILL[f32 ? 'float32' : 'float64']!);
  // the source's own fill, NaN included (xarray writes NaN for float variables): masked points come back as they were
  let fill = !packed && srcFill !== undefined ? cast(srcFill) : dflt;
  // the fill must not be a valid value (netCDF readers would mask that point): the default fill, or its negative
  if (isValidValue(field, fill)) fill = fill !== dflt && !isValidValue(field, dflt) ? dflt : -dflt;
  if (packed) {
    const short = (x: number) => Number(x.toPrecision(7));
    attrs['fieldpack_unpacked_from'] = `${field.sourceDtype} with scale_factor ${short(sf ?? 1)} and add_offset ${short(ao ?? 0)}`;
    // the packing step is the data's quantization step: keep it as a number for later tools
    attrs['fieldpack_quantization_step'] = Math.abs(sf ?? 1);
  }
  // a _FillValue where there are masked points, where the source had one, or where a valid value is the default
  // fill (readers would mask it): not otherwise, so a variable that had none gets none
  return { attrs, fill, needsFill: !!field.mask || srcFill !== undefined || isValidValue(field, dflt) };
}

/**
 * missing_value entries that a valid value written equals, dropped (kept as fieldpack_source_missing_value): a
 * reconstruction within its bound of the source's values may land exactly on one (integers near -999 at an absolute
 * bound of 3), and CF readers would read that point as missing. Masked points are written as _FillValue either way.
 */
function dropMissingValuesHeld(field: Field, attrs: Record<string, unknown>, cast: (x: number) => number): void {
  const missing = numbersOf(attrs['missing_value']);
  if (!missing) return;
  const kept = missing.filter((x) => !isValidValue(field, cast(x)));
  if (kept.length === missing.length) return;
  attrs['fieldpack_source_missing_value'] = attrs['missing_value'];
  if (kept.length) attrs['missing_value'] = kept.length === 1 ? kept[0] : kept;
  else delete attrs['missing_value'];
}

/**
 * A valid_range (valid_min, valid_max) that would mask some of the values written, widened to hold them: a
 * reconstruction lies within its bound of the source's values, so it may step past the range they kept to, and CF
 * readers (netCDF4-python, xarray, this program) would read those points as missing. The source's range is kept as
 * fieldpack_source_valid_range (or _valid_min, _valid_max).
 */
function widenValidRange(field: Field, attrs: Record<string, unknown>): void {
  const range = numbersOf(attrs['valid_range']);
  const vmin = numbersOf(attrs['valid_min'])?.[0];
  const vmax = numbersOf(attrs['valid_max'])?.[0];
  if (!(range?.length === 2) && vmin === undefined && vmax === undefined) return;
  let lo = Infinity;
  let hi = -Infinity;
  const { values, mask } = field;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((mask && mask[i] === 0) || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return;
  if (range?.length === 2) {
    if (lo >= range[0]! && hi <= range[1]!) return;
    attrs['fieldpack_source_valid_range'] = range;
    attrs['valid_range'] = [Math.min(range[0]!, lo), Math.max(range[1]!, hi)];
    return;
  }
  if ((vmin === undefined || lo >= vmin) && (vmax === undefined || hi <= vmax)) return;
  if (vmin !== undefined) {
    attrs['fieldpack_source_valid_min'] = vmin;
    attrs['valid_min'] = Math.min(vmin, lo);
  }
  if (vmax !== undefined) {
    attrs['fieldpack_source_valid_max'] = vmax;
    attrs['valid_max'] = Math.max(vmax, hi);
  }
}

/** Whether x is one of the field's valid (unmasked) values; for NaN, whether any valid value is NaN (a NaN fill masks them all). */
function isValidValue(field: Field, x: number): boolean {
  const nan = Number.isNaN(x);
  for (let i = 0; i < field.values.length; i++) {
    const v = field.values[i]!;
    if ((nan ? v !== v : v === x) && (!field.mask || field.mask[i] === 1)) return true;
  }
  return false;
}

export async function writeFieldNetcdf4(field: Field, outPath: string, options: NetcdfWriteOptions = {}): Promise<{ path: string }> {
  return writeNetcdf4Dataset(outPath, {
    // a dimension the variable runs along twice (a covariance's n x n) is declared once
    dimensions: field.dims.flatMap((name, i) => (field.dims.indexOf(name) === i ? [{ name, size: field.shape[i]! }] : [])),
    coordinates: options.coordinates ?? field.coordinates,
    variables: [{ field, provenance: options.provenance }],
    globalAttributes: options.globalAttributes,
    ...(options.globalAttributeTypes ? { globalAttributeTypes: options.globalAttributeTypes } : {}),
    deflate: options.deflate,
  });
}

/** Several variables sharing dimensions and coordinate variables in one NetCDF-4 file (an archive's restore). */
export interface NetcdfDataset {
  /** every dimension, in the source's order (netCDF-C numbers them in creation order); unlimited: a record dimension */
  dimensions: { name: string; size: number; unlimited?: boolean }[];
  /** coordinate variables by dimension name; dimensions without one become pure dimensions */
  coordinates?: FieldCoordinates;
  variables: { field: Field; provenance?: Record<string, string | number | undefined> }[];
  /** variables written as they were stored (a grid_mapping scalar, a char variable), after the fields */
  stored?: StoredVariable[];
  globalAttributes?: Record<string, unknown>;
  /** the stored type of numeric global attributes */
  globalAttributeTypes?: Record<string, string>;
  /** groups written with their attributes (parents first), whether or not a variable lies in them */
  groups?: { path: string; attributes: Record<string, unknown>; attributeTypes?: Record<string, string> }[];
  deflate?: number;
}

/**
 * A variable as a source file stored it (DataFile.readVerbatim): its stored dtype, attributes unchanged (packing and
 * _FillValue included), and a char variable's bytes or a numeric one's numbers.
 */
export interface StoredVariable {
  name: string;
  dims: string[];
  shape: number[];
  dtype: string;
  attributes: Record<string, unknown>;
  /** the stored type of each numeric attribute (int8 ... float64); others are written as writeAttr infers */
  attributeTypes: Record<string, string>;
  data: Uint8Array | ArrayLike<number>;
}

/** h5wasm dtype and array of numbers in a numeric stored dtype (COORD_TYPES, and 64-bit integers as BigInt) */
function storedArray(dtype: string, values: ArrayLike<number>): { data: unknown; dtype: string } {
  if (dtype === 'int64') return { data: BigInt64Array.from(Array.from(values, (x) => BigInt(x))), dtype: '<q' };
  if (dtype === 'uint64') return { data: BigUint64Array.from(Array.from(values, (x) => BigInt(x))), dtype: '<Q' };
  const [h5, Ctor] = COORD_TYPES[dtype as FieldDtype];
  return { data: new Ctor(values), dtype: h5 };
}

/** Whether a stored dtype is one storedArray writes. */
const isStoredNumeric = (dtype: string) => dtype === 'int64' || dtype === 'uint64' || dtype in COORD_TYPES;

/** Whether numbers are values of a stored numeric dtype (a manifest edited to say otherwise is not believed). */
function fitsStored(dtype: string, values: ArrayLike<number>): boolean {
  if (dtype === 'int64' || dtype === 'uint64') return Array.from(values).every((v) => Number.isInteger(v) && (dtype === 'int64' || v >= 0));
  return isStoredNumeric(dtype) && fitsDtype(values, dtype as FieldDtype);
}

/** An attribute in its stored numeric type where one is given and its value is numbers; otherwise as writeAttr infers. */
function writeTypedAttr(obj: { create_attribute: H5Dataset['create_attribute'] }, name: string, value: unknown, type: string | undefined): void {
  const numbers = numbersOf(value);
  if (!type || !numbers?.length || !fitsStored(type, numbers)) return writeAttr(obj, name, value);
  const typed = storedArray(type, numbers);
  obj.create_attribute(name, typed.data as never, [numbers.length], typed.dtype);
}

/** Why a stored variable cannot be written, or null. */
function storedVariableProblem(v: StoredVariable, sizes: Map<string, number>): string | null {
  if (v.dtype !== 'char' && !isStoredNumeric(v.dtype)) return `dtype ${v.dtype} is not one Fieldpack writes`;
  if (v.dims.length !== v.shape.length || v.data.length !== v.shape.reduce((a, b) => a * b, 1)) return `${v.data.length} values for shape [${v.shape.join(', ')}]`;
  if (v.dtype !== 'char' && !fitsStored(v.dtype, v.data)) return `values that are not ${v.dtype} values`;
  if (v.dtype === 'char' && Array.from(v.data).some((b) => !Number.isInteger(b) || b < 0 || b > 0x7f)) return 'char bytes past ASCII';
  const bad = v.dims.findIndex((dim, i) => sizes.get(dim) !== v.shape[i]);
  if (bad >= 0) return `dimension ${v.dims[bad]} has size ${v.shape[bad]}, the file's is ${sizes.get(v.dims[bad]!) ?? 'not declared'}`;
  if (!isNetcdfVariableName(v.name)) return 'not a valid NetCDF variable name';
  return null;
}

/** Why HDF5 (and so NetCDF-4) cannot hold a dimension or attribute name, or null: empty, a "/" or a NUL in it. */
function badNameReason(name: string): string | null {
  if (name === '') return 'it is empty';
  if (name.includes('/')) return 'it contains "/"';
  if (name.includes('\0')) return 'it contains a NUL character';
  return null;
}

/** Why the NetCDF-4 writer would refuse a group of this path and attribute names (checkNames' rules), or null. */
export function unwritableGroupReason(g: { path: string; attributes: Record<string, unknown> }): string | null {
  if (!isNetcdfVariableName(g.path)) return 'a name the NetCDF-4 writer does not take';
  for (const k of Object.keys(g.attributes)) {
    const why = badNameReason(k);
    if (why) return `attribute ${JSON.stringify(k)} that cannot be written to NetCDF-4 (${why})`;
  }
  return null;
}

/**
 * Why the NetCDF-4 writer would refuse a variable of this name, dims and attribute names (checkVariable's and
 * checkNames' rules), or null: an archive leaves such a variable out at planning, where a restore would refuse it.
 */
export function unwritableVariableReason(v: { name: string; dims: string[]; attributes?: Record<string, unknown> }): string | null {
  if (!isNetcdfVariableName(v.name)) return 'a name the NetCDF-4 writer does not take';
  if (v.dims.includes(v.name)) return 'named like one of its dimensions, which the NetCDF-4 writer cannot write';
  for (const dim of v.dims) {
    const why = pathNameReason(dim);
    if (why) return `dimension name ${JSON.stringify(dim)} cannot be written to NetCDF-4 (${why})`;
  }
  for (const k of Object.keys(v.attributes ?? {})) {
    const why = badNameReason(k);
    if (why) return `attribute ${JSON.stringify(k)} cannot be written to NetCDF-4 (${why})`;
  }
  return null;
}

/**
 * Whether a dimension named by its path ("g1/q", as readers name a group's dimensions) has variables outside its
 * group along it: netCDF sees a group's dimensions only in that group and the groups below.
 */
function outsideItsGroup(dim: string, variables: readonly { name: string; dims: string[] }[]): boolean {
  const group = dim.slice(0, dim.lastIndexOf('/'));
  return dim.includes('/') && variables.some((v) => v.dims.includes(dim) && !v.name.startsWith(`${group}/`));
}

/**
 * The dataset with each dimension that has variables outside its group (an HDF5 dimension scale kept in a group such
 * as /coords, along root variables, as h5py files have them) named by its own name at the root, where no other
 * dimension is; checkNames refuses the others.
 */
function rootedDimensions(ds: NetcdfDataset): NetcdfDataset {
  const variables = [...ds.variables.map((v) => v.field), ...(ds.stored ?? [])];
  const taken = new Set(ds.dimensions.map((d) => d.name));
  const renamed = new Map<string, string>();
  for (const { name } of ds.dimensions) {
    const own = name.slice(name.lastIndexOf('/') + 1);
    if (!outsideItsGroup(name, variables) || taken.has(own)) continue;
    renamed.set(name, own);
    taken.add(own);
  }
  if (!renamed.size) return ds;
  const dimsOf = (dims: string[]) => dims.map((d) => renamed.get(d) ?? d);
  return {
    ...ds,
    dimensions: ds.dimensions.map((d) => ({ ...d, name: renamed.get(d.name) ?? d.name })),
    ...(ds.coordinates ? { coordinates: Object.fromEntries(Object.entries(ds.coordinates).map(([dim, c]) => [renamed.get(dim) ?? dim, c])) } : {}),
    variables: ds.variables.map((v) => ({ ...v, field: { ...v.field, dims: dimsOf(v.field.dims) } })),
    ...(ds.stored ? { stored: ds.stored.map((v) => ({ ...v, dims: dimsOf(v.dims) })) } : {}),
  };
}

/** Why a name with group parts ("g1/q") cannot be held: the first part's that cannot (badNameReason), or null. */
function pathNameReason(name: string): string | null {
  return name.split('/').map(badNameReason).find((r) => r !== null) ?? null;
}

/** Every dimension and attribute name the file will hold, checked before anything is written. */
function checkNames(ds: NetcdfDataset): void {
  const variables = [...ds.variables.map((v) => v.field), ...(ds.stored ?? [])];
  for (const d of ds.dimensions) {
    // a group's dimension by its path: each part a name, and only its group's variables (and those of the groups
    // below) along it
    const why = !d.name.includes('/') ? badNameReason(d.name) : outsideItsGroup(d.name, variables) ? 'it contains "/"' : pathNameReason(d.name);
    if (why) throw new FieldpackError('INVALID_ARGUMENT', `dimension name ${JSON.stringify(d.name)} cannot be written to NetCDF-4 (${why}); export to raw binary instead (--format raw)`);
  }
  for (const g of ds.groups ?? []) {
    if (!isNetcdfVariableName(g.path)) throw new FieldpackError('INVALID_ARGUMENT', `group name ${JSON.stringify(g.path)} cannot be written to NetCDF-4 (${pathNameReason(g.path) ?? 'not a netCDF name'})`);
  }
  const owners: [string, Record<string, unknown> | undefined][] = [
    ['the file', ds.globalAttributes],
    ...(ds.groups ?? []).map((g): [string, Record<string, unknown>] => [`group ${g.path}`, g.attributes]),
    ...ds.variables.map((v): [string, Record<string, unknown>] => [v.field.name, v.field.attributes]),
    ...Object.entries(ds.coordinates ?? {}).map(([dim, c]): [string, Record<string, unknown> | undefined] => [dim, c.attributes]),
  ];
  for (const [owner, attrs] of owners) {
    for (const k of Object.keys(attrs ?? {})) {
      const why = badNameReason(k);
      if (why) throw new FieldpackError('INVALID_ARGUMENT', `attribute ${JSON.stringify(k)} of ${owner} cannot be written to NetCDF-4 (${why}); export to raw binary instead (--format raw)`);
    }
  }
}

/**
 * Whether the writer takes this variable name, each part between groups ("/") as netCDF-C's NC_check_name takes a
 * name: a letter, digit, "_" or any character past ASCII first, then no control character, no white space last
 * ("2m_temp", "air temp" and "température" are netCDF names).
 */
export function isNetcdfVariableName(name: string): boolean {
  return name.split('/').every((part) => /^[A-Za-z0-9_\u0080-\u{10FFFF}][^\u0000-\u001f\u007f]*$/u.test(part) && !/[ \t\n\v\f\r]$/.test(part));
}

function checkVariable(field: Field, sizes: Map<string, number>): void {
  const n = field.shape.reduce((a, b) => a * b, 1);
  if (field.values.length !== n) throw new FieldpackError('INVALID_ARGUMENT', `${field.name}: ${field.values.length} values for shape [${field.shape.join(', ')}]`);
  if (field.dims.length !== field.shape.length) throw new FieldpackError('INVALID_ARGUMENT', `${field.name}: ${field.dims.length} dimension names for ${field.shape.length} dimensions`);
  // a variable of a group ("forecast/temp", as readers name them) is written in that group
  if (!isNetcdfVariableName(field.name)) {
    throw new FieldpackError('INVALID_ARGUMENT', `"${field.name}" is not a valid NetCDF variable name (a letter, digit or _ first, no control characters, no white space last, / between groups)`);
  }
  field.dims.forEach((dim, i) => {
    if (dim === field.name) throw new FieldpackError('UNSUPPORTED', `${field.name}: a variable named like one of its dimensions cannot be written`);
    if (sizes.get(dim) !== field.shape[i]) throw new FieldpackError('INVALID_ARGUMENT', `${field.name}: dimension ${dim} has size ${field.shape[i]}, the file's is ${sizes.get(dim) ?? 'not declared'}`);
  });
}

export async function writeNetcdf4Dataset(outPath: string, given: NetcdfDataset): Promise<{ path: string }> {
  const ds = rootedDimensions(given);
  const sizes = new Map(ds.dimensions.map((d) => [d.name, d.size]));
  const unlimitedDims = new Set(ds.dimensions.filter((d) => d.unlimited).map((d) => d.name));
  for (const v of ds.variables) checkVariable(v.field, sizes);
  for (const v of ds.stored ?? []) {
    const why = storedVariableProblem(v, sizes);
    if (why) throw new FieldpackError('INVALID_ARGUMENT', `${v.name}: ${why}`);
  }
  checkNames(ds);
  const h5 = await loadH5wasm();
  const prepared = ds.variables.map(({ field, provenance }) => {
    const { attrs, fill, needsFill } = unpackedAttributes(field);
    // a byte copy (same-type slice): valid NaN / +-Inf are written bit for bit, only masked points get the fill
    const data = field.values.slice();
    if (field.mask) for (let i = 0; i < data.length; i++) if (field.mask[i] !== 1) data[i] = fill;
    return { field, provenance, attrs, fill, needsFill, data };
  });
  await writeAtomically(outPath, (tmp) => h5guard(outPath, 'could not write the NetCDF-4 file', () => {
    const file = new h5.File(tmp, 'w', { track_order: true }) as H5File;
    try {
      const groups = new Set<string>();
      /** the groups above a group's variable or dimension ("forecast/temp", as readers name them), created once */
      const groupsOf = (name: string) => {
        const parts = name.split('/');
        for (let i = 1; i < parts.length; i++) {
          const group = parts.slice(0, i).join('/');
          if (!groups.has(group)) file.create_group(group, true); // track_order: its attributes and variables in the source's order
          groups.add(group);
        }
      };
      // the source's groups with their attributes, those that hold no variable too
      for (const g of ds.groups ?? []) {
        groupsOf(`${g.path}/`);
        const group = file.get(g.path) as unknown as { create_attribute: H5Dataset['create_attribute'] };
        for (const [k, v] of Object.entries(g.attributes)) if (!HDF5_HIDDEN.has(k)) writeTypedAttr(group, k, v, g.attributeTypes?.[k]);
      }
      // dimensions first (netCDF-C assigns dimension ids in creation order)
      ds.dimensions.forEach(({ name: dim, size, unlimited: unl }, i) => {
        groupsOf(dim);
        const coord = ds.coordinates?.[dim];
        // an unlimited dimension: its scale (and every variable along it) may grow, which HDF5 allows only chunked
        const grow = unl ? { maxshape: [null], chunks: [Math.max(1, Math.min(size, 1024))] } : {};
        if (coord && coord.values.length === size) {
          const { data: cdata, dtype: cdtype } = coordinateArray(coord);
          const d = file.create_dataset({ name: dim, data: cdata as never, shape: [size], dtype: cdtype, track_order: true, ...grow });
          d.make_scale(dim);
          // range attributes in the coordinate's float type, as CF wants (JSON attributes carry no type)
          const rangeType = cdtype === '<f' || cdtype === '<d' ? cdtype : undefined;
          for (const [k, v] of Object.entries(coord.attributes ?? {})) if (!RESERVED.has(k)) writeAttr(d, k, v, RANGE_ATTRS.has(k) ? rangeType : undefined);
          writeAttr(d, '_Netcdf4Dimid', i);
        } else {
          const d = file.create_dataset({ name: dim, data: new Float32Array(size), shape: [size], dtype: '<f', ...grow });
          d.make_scale(`${PURE_DIM}${String(size).padStart(10)}`);
          writeAttr(d, '_Netcdf4Dimid', i);
        }
      });
      const deflate = ds.deflate ?? 4;
      for (const { field, provenance, attrs, fill, needsFill, data } of prepared) {
        groupsOf(field.name);
        const f32 = field.values instanceof Float32Array;
        const chunks = field.shape.length > 0 ? field.shape.map((s, i) => Math.max(1, i === 0 && field.shape.length > 1 ? 1 : s)) : undefined;
        const useDeflate = deflate > 0 && !!chunks && data.length > 0;
        const growing = field.dims.map((dim) => unlimitedDims.has(dim));
        const d = file.create_dataset({
          name: field.name,
          data,
          shape: field.shape,
          dtype: f32 ? '<f' : '<d',
          track_order: true,
          ...(useDeflate ? { chunks, compression: 'gzip' as const, compression_opts: Math.min(9, Math.max(1, deflate)) } : {}),
          ...(growing.some(Boolean) ? { chunks, maxshape: field.shape.map((s, i) => (growing[i] ? null : s)) } : {}),
        });
        if (needsFill) writeAttr(d, '_FillValue', fill, f32 ? '<f' : '<d');
        // One map, so that provenance a field already carries (a decompressed .fpk has fieldpack_codec, ...)
        // is updated, not created twice (HDF5 refuses a second attribute of the same name).
        const all = { ...attrs, ...provenanceAttributes({ source_variable: field.name, source_dtype: field.sourceDtype, ...provenance }) };
        for (const [k, v] of Object.entries(all)) {
          const floaty = k === 'missing_value' || RANGE_ATTRS.has(k);
          // the others in their stored type where the source said it (12000.f stays a float)
          if (floaty) writeAttr(d, k, v, f32 ? '<f' : '<d');
          else writeTypedAttr(d, k, v, field.attributeTypes?.[k]);
        }
        field.dims.forEach((dim, i) => d.attach_scale(i, `/${dim}`));
      }
      for (const v of ds.stored ?? []) {
        groupsOf(v.name);
        const growing = v.dims.map((dim) => unlimitedDims.has(dim));
        const chunks = v.shape.map((n, i) => Math.max(1, growing[i] ? Math.min(n, 1024) : n));
        // a char variable: HDF5 one-byte strings, which netCDF reads as char (h5wasm takes one string per byte)
        const { data, dtype } = v.dtype === 'char' ? { data: Array.from(v.data as Uint8Array, (b) => String.fromCharCode(b)), dtype: 'S1' } : storedArray(v.dtype, v.data);
        const d = file.create_dataset({
          name: v.name, data: (v.shape.length || v.dtype !== 'char' ? data : (data as string[])[0]) as never, shape: v.shape, dtype, track_order: true,
          ...(growing.some(Boolean) ? { chunks, maxshape: v.shape.map((n, i) => (growing[i] ? null : n)) } : {}),
        });
        for (const [k, val] of Object.entries(v.attributes)) {
          // in its stored type (a _FillValue in the variable's own, as netCDF requires)
          if (!HDF5_HIDDEN.has(k)) writeTypedAttr(d, k, val, k === '_FillValue' && v.dtype !== 'char' ? v.dtype : v.attributeTypes[k]);
        }
        v.dims.forEach((dim, i) => d.attach_scale(i, `/${dim}`));
      }
      const globals: Record<string, unknown> = { ...ds.globalAttributes, fieldpack_version: provenanceAttributes()['fieldpack_version'] };
      // the file's own: only netCDF's hidden ones are left out (a global scale_factor or _FillValue means nothing to
      // netCDF and was dropped with the variables' reserved names)
      for (const [k, v] of Object.entries(globals)) if (!HDF5_HIDDEN.has(k)) writeTypedAttr(file, k, v, ds.globalAttributeTypes?.[k]);
    } finally {
      file.close();
    }
  }, 'INTERNAL'));
  return { path: outPath };
}
