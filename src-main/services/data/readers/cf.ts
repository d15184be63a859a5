/**
 * CF conventions applied to stored values: _FillValue / missing_value / valid_range -> mask,
 * scale_factor / add_offset -> unpacked values. Follows netCDF4-python's masking rules (so values and
 * masks equal what scientists see there): missing_value and _FillValue compared exactly in the
 * variable's dtype, the netCDF default fill masked when no _FillValue is set (not for bytes),
 * valid_range (or valid_min/valid_max) applied to stored values. NaN, +Inf and -Inf are values like any
 * other (netCDF4-python does not mask them either, and the codecs keep them bit for bit): they are masked
 * only when they are the fill / missing value (a NaN _FillValue or missing_value masks every NaN) or fall
 * outside valid_min / valid_max (an infinity beyond a finite bound). Pure: no Node imports.
 */
import { type Field, type FieldDtype, type FieldValues, FIELD_DTYPES, INT_DTYPE_RANGE, declaredPacking, isFieldDtype } from '../../../core/field.ts';
import type { FillInfo, VariableDtype, VariableInfo } from './types.ts';

export const NETCDF_DEFAULT_FILL: Partial<Record<VariableDtype, number>> = {
  int8: -127,
  uint8: 255,
  int16: -32767,
  uint16: 65535,
  int32: -2147483647,
  uint32: 4294967295,
  float32: Math.fround(9.969209968386869e36),
  float64: 9.969209968386869e36,
};

export { FIELD_DTYPES, isFieldDtype };


/** Value as stored in `dtype` (numpy astype semantics for the cases that matter), or undefined when it does not fit. */
export function castTo(dtype: FieldDtype, v: number): number | undefined {
  if (typeof v !== 'number') return undefined;
  if (dtype === 'float64') return v;
  if (dtype === 'float32') return Math.fround(v);
  if (Number.isNaN(v)) return undefined;
  const r = INT_DTYPE_RANGE[dtype]!;
  const t = Math.trunc(v);
  if (t < r[0] || t > r[1]) return undefined;
  return t;
}

/**
 * netCDF4-python's _check_safecast: the attribute is used only if the cast keeps it exactly (or both are NaN). A
 * float64 valid_range of [-0.3, 0.3] on a float32 variable is ignored there (-0.3 is no float32), and so here.
 */
function safeCast(dtype: FieldDtype, v: unknown): number | undefined {
  const n = firstNumber(v);
  if (n === undefined) return undefined;
  const c = castTo(dtype, n);
  if (c === undefined) return undefined;
  return c === n || (Number.isNaN(n) && Number.isNaN(c)) ? c : undefined;
}

/**
 * An _Unsigned variable's attribute: its value in the unsigned dtype where it is one there, else cast to the stored
 * signed dtype and its bits read as unsigned (-1 as int8 is 255), as netCDF4-python reads it.
 */
function unsignedView(unsigned: FieldDtype, signed: FieldDtype, v: unknown): number | undefined {
  const n = firstNumber(v);
  if (n === undefined) return undefined;
  if (n >= 0) return safeCast(unsigned, n);
  const c = safeCast(signed, n);
  return c === undefined ? undefined : c + 2 ** (8 * BYTES[signed]!);
}

const BYTES: Partial<Record<FieldDtype, number>> = { int8: 1, int16: 2, int32: 4 };

function numbers(v: unknown): number[] | undefined {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, Number);
  return undefined;
}

function firstNumber(v: unknown): number | undefined {
  const n = numbers(v);
  return n && n.length > 0 ? n[0] : undefined;
}

/** netCDF's default fills of the 64-bit integers (NC_FILL_INT64, NC_FILL_UINT64): near 2^63, past what a double holds exactly */
const NC_FILL_64 = { int64: -9223372036854775806n, uint64: 18446744073709551614n } as const;

/** A 64-bit integer dtype's default fill (NC_FILL_64) */
const defaultFill64 = (dtype: string): bigint => (dtype === 'uint64' ? NC_FILL_64.uint64 : NC_FILL_64.int64);

/**
 * The values that mark a 64-bit integer variable's missing points, exactly, for readers/util.ts exactDoubles: its
 * _FillValue (netCDF's default where it declares none) and missing_value. An attribute is read as a double: one past
 * 2^53 is taken as the default fill where it is that fill's double (what netCDF writes), else it can mark no point
 * exactly and is left out.
 */
export function int64Fills(v: Pick<VariableInfo, 'dtype' | 'attributes'>): bigint[] {
  const dflt = defaultFill64(v.dtype);
  const exact = (x: number | undefined): bigint[] => (x === undefined ? [] : Number.isSafeInteger(x) ? [BigInt(x)] : x === Number(dflt) ? [dflt] : []);
  const fill = v.attributes['_FillValue'];
  return [...(fill === undefined ? [dflt] : exact(firstNumber(fill))), ...(numbers(v.attributes['missing_value']) ?? []).flatMap(exact)];
}

/**
 * CF fill/packing info for a variable.
 * `attrIsDouble(name)` says whether an attribute is stored as float64 (decides the unpacked dtype, as numpy would).
 */
export function fillInfoFor(dtype: VariableDtype, attrs: Record<string, unknown>, attrIsDouble: (name: string) => boolean): FillInfo {
  const info: FillInfo = {};
  // 64-bit integers come as exact doubles (readers/util.ts exactDoubles), their fill points as the fill's double
  // (netCDF's default fill, near +-2^63, is past what a double holds exactly): their fills and ranges compare as such
  const int64 = dtype === 'int64' || dtype === 'uint64';
  if (!isFieldDtype(dtype) && !int64) return info;
  let d: FieldDtype = int64 ? 'float64' : (dtype as FieldDtype);
  const unsignedAttr = attrs['_Unsigned'];
  if ((unsignedAttr === 'true' || unsignedAttr === 'True') && (d === 'int8' || d === 'int16' || d === 'int32')) {
    info.unsigned = true;
    d = ('u' + d) as FieldDtype;
  }
  // an _Unsigned variable's attributes have its stored (signed) type, as NetCDF requires: netCDF4-python casts them
  // to it and views the bits as unsigned (_FillValue = -1b is 255)
  const cast = info.unsigned ? (x: unknown) => unsignedView(d, dtype as FieldDtype, x) : (x: unknown) => safeCast(d, x);
  const fv = '_FillValue' in attrs ? cast(attrs['_FillValue']) : undefined;
  if (fv !== undefined) info.fillValue = fv;
  else if (int64) info.defaultFill = Number(defaultFill64(dtype));
  else if (d !== 'int8' && d !== 'uint8') info.defaultFill = NETCDF_DEFAULT_FILL[d];
  const mv = numbers(attrs['missing_value']);
  if (mv) {
    const values = mv.map(cast);
    if (values.every((c) => c !== undefined)) info.missingValues = values as number[];
  }
  const vr = numbers(attrs['valid_range']);
  const range = vr && vr.length === 2 ? vr.map(cast) : undefined;
  if (range && range.every((x) => x !== undefined)) {
    info.validMin = range[0];
    info.validMax = range[1];
  } else {
    const vmin = cast(attrs['valid_min']);
    const vmax = cast(attrs['valid_max']);
    if (vmin !== undefined) info.validMin = vmin;
    if (vmax !== undefined) info.validMax = vmax;
  }
  const packing = declaredPacking(attrs);
  if (packing) {
    const { scaleFactor: sf, addOffset: ao } = packing;
    // numpy's result type: float64 for float64 or 32-bit integer data, or a float64 attribute; else float32
    const wide = dtype === 'float64' || int64 || d === 'int32' || d === 'uint32' || (sf !== undefined && attrIsDouble('scale_factor')) || (ao !== undefined && attrIsDouble('add_offset'));
    // netCDF4-python adds add_offset only where it is declared and the pair is not (1, 0): there a -0 product stays
    // -0 (scale_factor 0 on negative codes). Adding -0 leaves every value as it is, -0 included.
    const addsOffset = ao !== undefined && (ao !== 0 || (sf !== undefined && sf !== 1));
    info.packing = { scaleFactor: sf ?? 1, addOffset: addsOffset ? ao : -0, unpackedDtype: wide ? 'float64' : 'float32' };
  }
  return info;
}

/** dtype of the values a reader returns for a stored dtype (exact for every integer dtype). */
export function unpackedDtype(dtype: FieldDtype, info: FillInfo): 'float32' | 'float64' {
  if (info.packing) return info.packing.unpackedDtype;
  return dtype === 'float64' || dtype === 'int32' || dtype === 'uint32' ? 'float64' : 'float32';
}

type Numeric = ArrayLike<number>;

/** Reinterpret a signed integer array as unsigned (the _Unsigned convention). */
function asUnsigned(raw: Numeric): Numeric {
  if (raw instanceof Int8Array) return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  if (raw instanceof Int16Array) return new Uint16Array(raw.buffer, raw.byteOffset, raw.length);
  if (raw instanceof Int32Array) return new Uint32Array(raw.buffer, raw.byteOffset, raw.length);
  return raw;
}

/** Whether an array spans its whole buffer (a reader's own array, not a view into a shared or pooled one). */
function ownsWholeBuffer(a: Numeric): boolean {
  return ArrayBuffer.isView(a) && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
}

/**
 * Stored values -> unpacked values (NaN at masked points) + mask (undefined when every point is valid).
 * Valid points may hold NaN or +-Inf: the mask, not the value, says what is fill. `raw` is the reader's own
 * array: an unpacked float32/float64 one becomes the field's values (masked points overwritten with NaN).
 */
export function applyCF(raw: Numeric, dtype: FieldDtype, info: FillInfo): { values: FieldValues; mask?: Uint8Array; sourceDtype: FieldDtype } {
  const src = info.unsigned ? asUnsigned(raw) : raw;
  const sourceDtype: FieldDtype = info.unsigned ? (('u' + dtype) as FieldDtype) : dtype;
  const n = src.length;
  const outDtype = unpackedDtype(sourceDtype, info);
  const packed = !!info.packing;
  // an unpacked float variable's values are its bytes as read, so a valid NaN keeps its sign and payload exactly
  // (only masked points are overwritten below): the reader's own array itself where it spans its whole buffer
  // (not a view into someone else's), else a byte copy
  const same = !packed && ((src instanceof Float32Array && outDtype === 'float32') || (src instanceof Float64Array && outDtype === 'float64'));
  const adopt = same && ownsWholeBuffer(src);
  const values: FieldValues = adopt ? (src as FieldValues) : outDtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  if (same && !adopt) values.set(src);
  // made at the first masked point (the points before it valid): most fields have none, and a fresh array of
  // n bytes is not free (faulted in page by page)
  let mask: Uint8Array | null = null;
  const fill = info.fillValue;
  const dflt = info.fillValue === undefined ? info.defaultFill : undefined;
  const miss = info.missingValues ?? [];
  const m0 = miss.length > 0 ? miss[0] : undefined;
  const multiMiss = miss.length > 1;
  // a NaN fill / missing value marks every NaN point (NaN !== NaN, so the comparisons below cannot)
  const nanIsFill = [fill, dflt, ...miss].some((x) => x !== undefined && x !== x);
  // the loop compares with numbers only (NaN, equal to nothing, where there is none): a number compared with
  // undefined took V8's generic comparison, which boxed every value (16 bytes of garbage per point)
  const fillNum = fill ?? NaN;
  const dfltNum = dflt ?? NaN;
  const m0Num = m0 ?? NaN;
  const vmin = info.validMin ?? -Infinity;
  const vmax = info.validMax ?? Infinity;
  const scale = info.packing?.scaleFactor ?? 1;
  const offset = info.packing?.addOffset ?? 0;
  const narrow = outDtype === 'float32';
  for (let i = 0; i < n; i++) {
    const r = src[i]!;
    let ok: boolean;
    if (r !== r) ok = !nanIsFill; // a NaN value is kept (bit for bit below) unless NaN is the fill
    else if (r === fillNum || r === dfltNum || r === m0Num) ok = false;
    else if (multiMiss && miss.includes(r)) ok = false;
    else ok = !(r < vmin || r > vmax);
    if (ok) {
      // float32 unpacking rounds twice, after the product and after the sum, as numpy's float32 arithmetic does
      // (a float64 product and sum of float32 operands rounded to float32 is that, exactly); +-Inf stay infinite
      if (!same) values[i] = packed && r === r ? (narrow ? Math.fround(Math.fround(r * scale) + offset) : r * scale + offset) : r;
      if (mask !== null) mask[i] = 1;
    } else {
      if (mask === null) mask = new Uint8Array(n).fill(1, 0, i);
      values[i] = NaN;
    }
  }
  return mask !== null ? { values, mask, sourceDtype } : { values, sourceDtype };
}

/** The Field for a variable's raw values read over `shape`: CF masking and unpacking applied, metadata copied. */
export function fieldFromRaw(v: VariableInfo, shape: readonly number[], raw: Numeric, dtype: FieldDtype): Field {
  const { values, mask, sourceDtype } = applyCF(raw, dtype, v.fill);
  return {
    name: v.name,
    shape: [...shape],
    dims: [...v.dims],
    values,
    ...(mask ? { mask } : {}),
    sourceDtype,
    ...(v.units !== undefined ? { units: v.units } : {}),
    attributes: structuredClone(v.attributes),
    ...(v.attributeTypes && Object.keys(v.attributeTypes).length ? { attributeTypes: { ...v.attributeTypes } } : {}),
  };
}
