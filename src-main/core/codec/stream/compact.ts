/**
 * Compact binary encoding of JSON values (format v2 header: codec params and source metadata).
 * A field of 9,216 values compresses to ~100 bytes at large bounds, so ~280 bytes of metadata JSON (which zstd
 * barely shrinks at that size) would be most of the stream. Encoding, one tag byte per item:
 *   0 null, 1 false, 2 true, 3 uint (varint), 4 negative int (varint of -v - 1), 5 f32, 6 f64,
 *   7 string (varint length + UTF-8), 8 array (varint n + items), 9 object (varint n + (key, value) pairs),
 *   10 back-reference to the i-th string of this blob (varint i),
 *   11 text-coded string (varint character count + the codes of stream/text.ts),
 *   16..47 short string of length tag - 16 (UTF-8 bytes follow),
 *   48..63 text-coded string of tag - 47 characters (the codes follow),
 *   64..255 string number tag - 64 of the fixed DICTIONARY below (common CF/WRF keys and values).
 * A string is text-coded where that is shorter (readers before tags 11 and 48..63 refuse them as bad metadata).
 * Keys are strings encoded the same way. Values go through JSON first (same semantics as the v1 JSON header), but for
 * non-finite numbers: JSON's null would lose a NaN _FillValue, tags 5 and 6 keep them (as readers before read them).
 * DICTIONARY is part of the format: append only, never reorder.
 */
import { FieldpackError } from '../../errors.ts';
import { type ByteReader, type ByteWriter, varintBytes } from '../bytes.ts';
import { readText, textCodedBits, writeText } from './text.ts';

export const DICTIONARY: readonly string[] = [
  // stream metadata keys and codec params
  'variable', 'units', 'dims', 'sourceDtype', 'source', 'attributes', 'predictor', 'auto', 'radius', 'maxDims',
  'float32', 'float64', 'int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32',
  'lorenzo', 'dq-lorenzo', 'interp-linear', 'interp-cubic', 'lossless', 'alpha', 'beta',
  'dim0', 'dim1', 'dim2', 'dim3', 'dim4', 'dim5', 'dim6', 'dim7', '',
  // CF attributes
  'long_name', 'standard_name', '_FillValue', 'missing_value', 'scale_factor', 'add_offset', 'valid_min', 'valid_max',
  'valid_range', 'axis', 'positive', 'calendar', 'comment', 'history', 'cell_methods', 'coordinates', 'grid_mapping',
  'description', 'title', 'institution', 'references', 'bounds', 'formula_terms', 'modulo', 'point_spacing',
  // WRF attributes and common values
  'FieldType', 'MemoryOrder', 'stagger', 'XY ', 'XYZ', 'Z  ', 'X', 'Y', 'Z', 'XLONG XLAT', 'XLONG XLAT XTIME',
  'XLONG_U XLAT_U XTIME', 'XLONG_V XLAT_V XTIME',
  // units and dimension names
  'degree_north', 'degree_east', 'degrees_north', 'degrees_east', 'K', 'Pa', 'hPa', 'm', 'm s-1', 'm/s', 'kg kg-1',
  'kg/kg', 'mm', 'm2 s-2', 'W m-2', 'deg C', 'degC', 'Celsius', 'PSU', 'PPT', '1', 'percent',
  'time', 'lat', 'lon', 'latitude', 'longitude', 'level', 'depth', 'lev', 'height', 'Time', 'south_north',
  'west_east', 'bottom_top', 'bottom_top_stag', 'south_north_stag', 'west_east_stag', 'TIME', 'COADSX', 'COADSY',
  'up', 'down', 'gregorian', 'standard', 'noleap', 'julian', 'T', 'x', 'y', 'z',
  'tune',
  // WRF: the geolocation and common output variables' names, descriptions and coordinates (the WRF Registry's fixed
  // strings, in every wrfout file)
  'XLAT', 'XLONG', 'XLAT_U', 'XLONG_U', 'XLAT_V', 'XLONG_V', 'XTIME', 'XLONG_U XLAT_U', 'XLONG_V XLAT_V',
  'LATITUDE, SOUTH IS NEGATIVE', 'LONGITUDE, WEST IS NEGATIVE', 'T2', 'Q2', 'PSFC', 'U10', 'V10', 'TSK', 'QVAPOR',
  'QCLOUD', 'QRAIN', 'QICE', 'QSNOW', 'QGRAUP', 'HGT', 'RAINC', 'RAINSH', 'RAINNC', 'MAPFAC_M', 'MAPFAC_U', 'MAPFAC_V',
  'PH', 'PHB', 'PB', 'x-wind component', 'y-wind component', 'z-wind component', 'perturbation geopotential',
  'base-state geopotential', 'perturbation potential temperature (theta-t0)', 'perturbation pressure',
  'BASE STATE PRESSURE', 'QV at 2 M', 'TEMP at 2 M', 'SFC PRESSURE', 'U at 10 M', 'V at 10 M', 'SURFACE SKIN TEMPERATURE',
  'Water vapor mixing ratio', 'Cloud water mixing ratio', 'Rain water mixing ratio', 'Ice mixing ratio',
  'Snow mixing ratio', 'Graupel mixing ratio', 'Map scale factor on mass grid', 'Map scale factor on u-grid',
  'Map scale factor on v-grid', 'Coriolis sine latitude term', 'Terrain Height',
  'ACCUMULATED TOTAL CUMULUS PRECIPITATION', 'ACCUMULATED SHALLOW CUMULUS PRECIPITATION',
  'ACCUMULATED TOTAL GRID SCALE PRECIPITATION',
];
const DICT_INDEX = new Map(DICTIONARY.map((s, i) => [s, i]));
if (DICTIONARY.length > 192) throw new Error('compact dictionary too long');

const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });

/** A key no metadata has: marks a non-finite number through plainValue's JSON round trip */
const NON_FINITE = '\u0000non-finite';

/**
 * `value` as JSON carries it (toJSON applied, undefined and functions dropped), except that non-finite numbers stay
 * numbers (JSON makes them null): a NaN or infinite _FillValue is the variable's fill, and comes back as written.
 */
function plainValue(value: unknown): unknown {
  const kept: number[] = [];
  const text = JSON.stringify(value ?? null, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { [NON_FINITE]: kept.push(v) - 1 } : v));
  return JSON.parse(text, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return NON_FINITE in o && Object.keys(o).length === 1 ? kept[o[NON_FINITE] as number] : v;
  }) as unknown;
}

export function encodeCompact(value: unknown, w: ByteWriter): void {
  const plain = plainValue(value);
  const seen = new Map<string, number>();
  let textChars = 0;
  const str = (s: string) => {
    const d = DICT_INDEX.get(s);
    if (d !== undefined) return w.u8(64 + d);
    const r = seen.get(s);
    if (r !== undefined) {
      w.u8(10);
      w.varint(r);
      return;
    }
    seen.set(s, seen.size);
    const b = te.encode(s);
    const bits = textCodedBits(s);
    if (bits >= 0 && textChars + s.length <= MAX_TEXT_CODED_CHARS && textTagBytes(s.length) + Math.ceil(bits / 8) < plainTagBytes(b.length) + b.length) {
      textChars += s.length;
      if (s.length <= 16) w.u8(47 + s.length);
      else {
        w.u8(11);
        w.varint(s.length);
      }
      writeText(s, w);
      return;
    }
    if (b.length < 32) w.u8(16 + b.length);
    else {
      w.u8(7);
      w.varint(b.length);
    }
    w.bytes(b);
  };
  const item = (v: unknown): void => {
    if (v === null) w.u8(0);
    else if (v === false) w.u8(1);
    else if (v === true) w.u8(2);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
        w.u8(v >= 0 ? 3 : 4);
        w.varint(v >= 0 ? v : -v - 1);
      } else if (Math.fround(v) === v || Number.isNaN(v)) {
        w.u8(5);
        w.f32(v);
      } else {
        w.u8(6);
        w.f64(v);
      }
    } else if (typeof v === 'string') str(v);
    else if (Array.isArray(v)) {
      w.u8(8);
      w.varint(v.length);
      for (const x of v) item(x);
    } else {
      const e = Object.entries(v as Record<string, unknown>);
      w.u8(9);
      w.varint(e.length);
      for (const [k, x] of e) {
        str(k);
        item(x);
      }
    }
  };
  item(plain);
}

/**
 * At most this many characters of a blob are text-coded (the rest as UTF-8): real metadata has a few hundred, and a
 * hostile blob of zeros would otherwise decode to ~4 characters a byte at ~50 ns each.
 */
const MAX_TEXT_CODED_CHARS = 1 << 20;
const plainTagBytes = (bytes: number) => (bytes < 32 ? 1 : 1 + varintBytes(bytes));
const textTagBytes = (chars: number) => (chars <= 16 ? 1 : 1 + varintBytes(chars));

export function decodeCompact(r: ByteReader, label: string): unknown {
  const strings: string[] = [];
  const bad = () => new FieldpackError('BAD_STREAM', `corrupted header: bad ${label}`);
  let depth = 0;
  const text = (n: number) => {
    try {
      const s = td.decode(r.bytes(n, label));
      strings.push(s);
      return s;
    } catch (e) {
      if (e instanceof FieldpackError) throw e;
      throw bad();
    }
  };
  let textChars = 0;
  const codedText = (n: number) => {
    textChars += n;
    if (textChars > MAX_TEXT_CODED_CHARS) throw bad();
    const s = readText(r, n, label);
    strings.push(s);
    return s;
  };
  const item = (): unknown => {
    const t = r.u8(label);
    if (t >= 64) {
      const s = DICTIONARY[t - 64];
      if (s === undefined) throw bad();
      return s;
    }
    if (t >= 16 && t < 48) return text(t - 16);
    if (t >= 48) return codedText(t - 47);
    switch (t) {
      case 0: return null;
      case 1: return false;
      case 2: return true;
      case 3: return r.varint(label);
      case 4: return -r.varint(label) - 1;
      case 5: return r.f32(label);
      case 6: return r.f64(label);
      case 7: return text(r.varint(label));
      case 11: return codedText(r.varint(label));
      case 10: {
        const i = r.varint(label);
        if (i >= strings.length) throw bad();
        return strings[i];
      }
      case 8:
      case 9: {
        if (++depth > 64) throw bad();
        const n = r.varint(label);
        if (n > r.remaining()) throw bad();
        let out: unknown;
        if (t === 8) {
          const a: unknown[] = [];
          for (let i = 0; i < n; i++) a.push(item());
          out = a;
        } else {
          const o: Record<string, unknown> = {};
          for (let i = 0; i < n; i++) {
            const k = item();
            if (typeof k !== 'string') throw bad();
            Object.defineProperty(o, k, { value: item(), enumerable: true, writable: true, configurable: true });
          }
          out = o;
        }
        depth--;
        return out;
      }
      default:
        throw bad();
    }
  };
  return item();
}
