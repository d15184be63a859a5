/**
 * A Field as raw binary (C order, little endian by default) plus its sidecar `OUT.json`, which the raw
 * reader reads back: {shape, dtype, endianness, name, dims, units, fillValue, attributes}. Masked points
 * hold fillValue when given, otherwise NaN (the sidecar then says "fillValue": "NaN"), or, when NaN is a
 * valid value of the field, the netCDF default fill. Valid NaN / +-Inf are written bit for bit
 * (integer dtypes are not written: floats only).
 */
import { writeFile } from 'node:fs/promises';
import { FieldpackError } from '../../../core/errors.ts';
import type { Field } from '../../../core/field.ts';
import { NETCDF_DEFAULT_FILL } from '../readers/cf.ts';
import { fillValueJson, sidecarPath } from '../readers/raw.ts';
import { writeAtomically } from '../../files/atomic.ts';
import { provenanceAttributes } from './provenance.ts';

export interface RawWriteOptions {
  dtype?: 'float32' | 'float64';
  endianness?: 'little' | 'big';
  /** Value written at masked points (default NaN). */
  fillValue?: number;
  provenance?: Record<string, string | number | undefined>;
  /** Write OUT.json next to OUT (default true). */
  sidecar?: boolean;
}

export async function writeFieldRaw(field: Field, outPath: string, options: RawWriteOptions = {}): Promise<{ path: string; sidecar?: string }> {
  const n = field.shape.reduce((a, b) => a * b, 1);
  if (field.values.length !== n) throw new FieldpackError('INVALID_ARGUMENT', `${field.name}: ${field.values.length} values for shape [${field.shape.join(', ')}]`);
  const dtype = options.dtype ?? (field.values instanceof Float64Array ? 'float64' : 'float32');
  const endianness = options.endianness ?? 'little';
  const es = dtype === 'float64' ? 8 : 4;
  const buf = Buffer.alloc(n * es);
  const mask = field.mask;
  const masked = mask ? mask.some((m) => m !== 1) : false;
  if (dtype === 'float32') checkFitsFloat32(field, options.fillValue);
  const fill = rawFill(field, dtype, options.fillValue, masked);
  const le = endianness === 'little';
  const native = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const same = (dtype === 'float32' && field.values instanceof Float32Array) || (dtype === 'float64' && field.values instanceof Float64Array);
  if (same) {
    // a byte copy: valid NaN keep their sign and payload (a JS number round trip need not)
    buf.set(new Uint8Array(field.values.buffer, field.values.byteOffset, field.values.byteLength));
    if (le !== native) es === 4 ? buf.swap32() : buf.swap64();
  }
  for (let i = 0; i < n; i++) {
    const isMasked = mask !== undefined && mask[i] !== 1;
    if (same && !isMasked) continue;
    const v = isMasked ? fill! : field.values[i]!;
    if (es === 4) le ? buf.writeFloatLE(v, i * 4) : buf.writeFloatBE(v, i * 4);
    else le ? buf.writeDoubleLE(v, i * 8) : buf.writeDoubleBE(v, i * 8);
  }
  const attributes: Record<string, unknown> = { ...field.attributes };
  delete attributes['scale_factor'];
  delete attributes['add_offset'];
  delete attributes['_FillValue'];
  delete attributes['missing_value'];
  Object.assign(attributes, provenanceAttributes({ source_variable: field.name, source_dtype: field.sourceDtype, ...options.provenance }));
  const meta = {
    shape: field.shape,
    dtype,
    endianness,
    name: field.name,
    dims: field.dims,
    ...(field.units !== undefined ? { units: field.units } : {}),
    ...(fill !== undefined ? { fillValue: fillValueJson(fill) } : {}),
    attributes,
  };
  await writeAtomically(outPath, (tmp) => writeFile(tmp, buf));
  if (options.sidecar === false) return { path: outPath };
  const side = sidecarPath(outPath);
  await writeAtomically(side, (tmp) => writeFile(tmp, JSON.stringify(meta, null, 2) + '\n'));
  return { path: outPath, sidecar: side };
}

/**
 * Refuses a float32 file of values float32 cannot hold: a finite value past its range would be written as Infinity
 * (a float64 field of 1e300, say), and so would such a fill value, which readers then do not take for missing.
 */
function checkFitsFloat32(field: Field, fill: number | undefined): void {
  const past = (x: number) => Number.isFinite(x) && !Number.isFinite(Math.fround(x));
  if (fill !== undefined && past(fill)) throw new FieldpackError('INVALID_ARGUMENT', `fill value ${fill} is past float32's range (|x| <= 3.4e38): choose another, or write float64 (--dtype float64)`, { fillValue: fill });
  if (field.values instanceof Float32Array) return;
  let count = 0;
  let first = NaN;
  for (let i = 0; i < field.values.length; i++) {
    if ((field.mask && field.mask[i] !== 1) || !past(field.values[i]!)) continue;
    if (count++ === 0) first = field.values[i]!;
  }
  if (count) throw new FieldpackError('INVALID_ARGUMENT', `${field.name}: ${count} value${count === 1 ? ' is' : 's are'} past float32's range (|x| <= 3.4e38; e.g. ${first}) and would be written as Infinity: write float64 (--dtype float64)`, { points: count });
}

/**
 * The fill the sidecar declares (undefined: none, when nothing is masked and none was asked for). It must not
 * equal a valid value, or the reader would mask that point: an asked-for one that does is refused, the
 * default NaN gives way to the netCDF default fill when NaN is a value of the field.
 */
function rawFill(field: Field, dtype: 'float32' | 'float64', asked: number | undefined, masked: boolean): number | undefined {
  const cast = (x: number) => (dtype === 'float32' ? Math.fround(x) : x);
  const validCount = (x: number): number => {
    let k = 0;
    const nan = x !== x;
    for (let i = 0; i < field.values.length; i++) {
      if (field.mask && field.mask[i] !== 1) continue;
      const v = cast(field.values[i]!);
      if (nan ? v !== v : v === x) k++;
    }
    return k;
  };
  if (asked !== undefined) {
    const k = validCount(cast(asked));
    if (k > 0) {
      throw new FieldpackError('INVALID_ARGUMENT', `${field.name}: fill value ${asked} is also a valid value of the field (${k} points), which would read back as missing; choose another fill value`, { fillValue: asked, points: k });
    }
    return asked;
  }
  if (!masked) return undefined;
  for (const c of [NaN, NETCDF_DEFAULT_FILL[dtype]!, -NETCDF_DEFAULT_FILL[dtype]!, -9999, -999]) if (validCount(cast(c)) === 0) return cast(c);
  throw new FieldpackError('INVALID_ARGUMENT', `${field.name}: no free fill value for the masked points (NaN and the usual fills are all valid values): give one`);
}
