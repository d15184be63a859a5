/**
 * A Field as raw binary (C order, little endian by default) plus its sidecar `OUT.json`, which the raw
 * reader reads back: {shape, dtype, endianness, name, dims, units, fillValue, attributes}. Masked points
 * hold fillValue when given, NaN otherwise (and NaN-free integer dtypes are not written: floats only).
 */
import { writeFile } from 'node:fs/promises';
import { FieldpackError } from '../../../core/errors.ts';
import type { Field } from '../../../core/field.ts';
import { sidecarPath } from '../readers/raw.ts';
import { writeAtomically } from './atomic.ts';
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
  const fill = options.fillValue ?? NaN;
  const le = endianness === 'little';
  for (let i = 0; i < n; i++) {
    const v = field.mask && field.mask[i] !== 1 ? fill : field.values[i]!;
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
    ...(options.fillValue !== undefined ? { fillValue: options.fillValue } : {}),
    attributes,
  };
  await writeAtomically(outPath, (tmp) => writeFile(tmp, buf));
  if (options.sidecar === false) return { path: outPath };
  const side = sidecarPath(outPath);
  await writeAtomically(side, (tmp) => writeFile(tmp, JSON.stringify(meta, null, 2) + '\n'));
  return { path: outPath, sidecar: side };
}
