/**
 * One field of any file the readers open (NetCDF-3/4, HDF5, raw, a .fpk stream decompressed) written out: NetCDF-4
 * with its attributes, coordinates and provenance, or raw binary with its FILE.json sidecar (data.export, `fieldpack
 * export`). The output is checked before the field is read, and written atomically.
 */
import { basename, extname } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { ExportInput, ExportOut } from '../../api/methods/data.ts';
import { checkNotReplacing, checkOutputPath } from '../files/atomic.ts';
import { openDataFile } from './readers/index.ts';
import type { OpenOptions } from './readers/types.ts';
import { sidecarPath } from './readers/raw.ts';
import { writeFieldNetcdf4 } from './writers/netcdf4.ts';
import { writeFieldRaw } from './writers/raw.ts';

/** A raw output's dtype: the one asked for, else the one its name says (.f32, .f64), else the field's own. */
function rawDtype(input: ExportInput): 'float32' | 'float64' | undefined {
  const ext = extname(input.out).toLowerCase();
  const named = ext === '.f64' ? 'float64' : ext === '.f32' ? 'float32' : undefined;
  // a .f32 / .f64 name says the dtype to whoever reads it next (decompress refuses the same mismatch)
  if (input.dtype && named && input.dtype !== named) {
    throw new FieldpackError('INVALID_ARGUMENT', `dtype ${input.dtype} does not match the name ${basename(input.out)}: use .${input.dtype === 'float32' ? 'f32' : 'f64'} or another dtype`);
  }
  return input.dtype ?? named;
}

/**
 * `dependencies`: a .fpk input's anchors, bases and models given (the caller reads an external base's field, as
 * decompress does); any other input refuses them.
 */
export async function exportField(input: ExportInput, call: { onProgress?: (fraction: number, message?: string) => void; signal?: AbortSignal } = {}, dependencies?: OpenOptions['streamDependencies']): Promise<ExportOut> {
  const { path, out, format } = input;
  const dtype = format === 'raw' ? rawDtype(input) : undefined;
  await checkOutputPath(out, [path]);
  await checkNotReplacing(out, 'an export', { overwrite: input.overwrite });
  // a raw output's sidecar (OUT.json, its shape and type) is written beside it: the same rules
  if (format === 'raw') {
    await checkOutputPath(sidecarPath(out), [path]);
    await checkNotReplacing(sidecarPath(out), 'an export', { overwrite: input.overwrite });
  }
  const src = await openDataFile(path, { ...(input.raw ? { raw: input.raw } : {}), ...(dependencies ? { streamDependencies: dependencies } : {}) });
  try {
    if (dependencies && src.format !== 'fpk') throw new FieldpackError('INVALID_ARGUMENT', `${path} is ${src.format} data, not a Fieldpack stream: anchors and a base are what a stream (.fpk) is decoded with`, { path });
    let name = input.variable;
    if (!name) {
      const data = src.variables.filter((v) => v.readable && !v.isCoordinate);
      if (data.length !== 1) throw new FieldpackError('INVALID_ARGUMENT', `${path} has ${data.length} fields (${data.map((v) => v.name).join(', ')}): choose one`);
      name = data[0]!.name;
    }
    const slice = input.slice?.map((r) => r ?? undefined);
    const field = await src.readField(name, { ...(slice ? { slice } : {}), ...(call.onProgress ? { onProgress: call.onProgress } : {}), ...(call.signal ? { signal: call.signal } : {}) });
    const sliceText = input.slice?.map((r) => (r ? `${r[0]}:${r[1]}` : ':')).join(',');
    const provenance = { source_file: path, ...(sliceText ? { source_slice: sliceText } : {}) };
    let sidecar: string | null = null;
    if (format === 'nc') {
      // the readers give the field its coordinate variables, cut like the slice (a .fpk carries them in its header)
      await writeFieldNetcdf4(field, out, { provenance, coordinates: field.coordinates ?? {}, globalAttributes: src.globalAttributes, ...(src.globalAttributeTypes ? { globalAttributeTypes: src.globalAttributeTypes } : {}) });
    } else {
      const fillValue = input.fill === 'NaN' ? NaN : input.fill;
      sidecar = (await writeFieldRaw(field, out, { dtype, ...(input.endianness ? { endianness: input.endianness } : {}), ...(fillValue !== undefined ? { fillValue } : {}), provenance })).sidecar ?? null;
    }
    const maskedPoints = field.mask ? field.mask.reduce((s, m) => s + (m ? 0 : 1), 0) : 0;
    return { out, variable: field.name, shape: field.shape, format, sidecar, maskedPoints };
  } finally {
    src.close();
  }
}
