/**
 * Compact binary encoding of JSON values (format v2 header: codec params and source metadata).
 * A field of 9,216 values compresses to ~100 bytes at large bounds, so ~280 bytes of metadata JSON (which zstd
 * barely shrinks at that size) would be most of the stream. Encoding, one tag byte per item:
 *   0 null, 1 false, 2 true, 3 uint (varint), 4 negative int (varint of -v - 1), 5 f32, 6 f64,
 *   7 string (varint length + UTF-8), 8 array (varint n + items), 9 object (varint n + (key, value) pairs),
 *   10 back-reference to the i-th string of this blob (varint i),
 *   16..47 short string of length tag - 16 (UTF-8 bytes follow),
 *   64..255 string number tag - 64 of the fixed DICTIONARY below (common CF/WRF keys and values).
 * Keys are strings encoded the same way. Values go through JSON first (same semantics as the v1 JSON header).
 * DICTIONARY is part of the format: append only, never reorder.
 */
import { FieldpackError } from '../../errors.ts';
import type { ByteReader, ByteWriter } from '../bytes.ts';

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
];
const DICT_INDEX = new Map(DICTIONARY.map((s, i) => [s, i]));
if (DICTIONARY.length > 192) throw new Error('compact dictionary too long');

const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });

export function encodeCompact(value: unknown, w: ByteWriter): void {
  const plain = JSON.parse(JSON.stringify(value ?? null)) as unknown;
  const seen = new Map<string, number>();
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
      } else if (Math.fround(v) === v) {
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
  const item = (): unknown => {
    const t = r.u8(label);
    if (t >= 64) {
      const s = DICTIONARY[t - 64];
      if (s === undefined) throw bad();
      return s;
    }
    if (t >= 16 && t < 48) return text(t - 16);
    switch (t) {
      case 0: return null;
      case 1: return false;
      case 2: return true;
      case 3: return r.varint(label);
      case 4: return -r.varint(label) - 1;
      case 5: return r.f32(label);
      case 6: return r.f64(label);
      case 7: return text(r.varint(label));
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
