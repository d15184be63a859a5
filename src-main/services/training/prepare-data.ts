/**
 * Training data for the trainer: Field objects -> files in the run folder's data/ directory
 * (raw little-endian float32 per variable, one uint8 mask, meta.json). See
 * resources/trainer/fieldpack_trainer/data.py for the reader.
 */
import { writeFileAtomic } from '../files/atomic.ts';
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { fieldSize, type Field } from '../../core/field.ts';
import { makeFolder } from '../files/folders.ts';

export interface PrepareDataOptions {
  runDir: string;
  /** Every variable the run uses (anchors and target), all of the same shape. */
  fields: Field[];
  /**
   * How many trailing dimensions are spatial (2 or 3); the leading ones are samples (time steps,
   * levels...). Default: 3 for 4D+ fields, else 2.
   */
  spatialDims?: 2 | 3;
  /** Where the data came from (file, dataset id), kept in the manifest. */
  source?: Record<string, unknown>;
  /** Folder name inside runDir (default 'data'). */
  dataDir?: string;
}

export interface DataMeta {
  version: 1;
  samples: number;
  spatialShape: number[];
  dims: string[];
  fields: Record<string, { file: string; units?: string; min: number | null; max: number | null; mean: number | null }>;
  mask: string | null;
  validFraction: number;
  source?: Record<string, unknown>;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export async function prepareTrainingData(opts: PrepareDataOptions): Promise<{ dataDir: string; meta: DataMeta }> {
  const { fields } = opts;
  if (fields.length === 0) throw new FieldpackError('INVALID_ARGUMENT', 'no fields to prepare');
  const shape = fields[0]!.shape;
  for (const f of fields) {
    if (f.shape.length !== shape.length || f.shape.some((n, i) => n !== shape[i])) {
      throw new FieldpackError('INVALID_ARGUMENT', `fields differ in shape: ${fields[0]!.name} [${shape.join(', ')}] vs ${f.name} [${f.shape.join(', ')}]`);
    }
  }
  const names = new Set<string>();
  for (const f of fields) {
    if (names.has(f.name)) throw new FieldpackError('INVALID_ARGUMENT', `field ${f.name} given twice`);
    names.add(f.name);
  }
  const sd = opts.spatialDims ?? (shape.length >= 4 ? 3 : 2);
  if (shape.length < sd) throw new FieldpackError('INVALID_ARGUMENT', `fields have ${shape.length} dimensions; ${sd}D training needs at least ${sd}`);
  const spatialShape = shape.slice(shape.length - sd);
  const samples = shape.slice(0, shape.length - sd).reduce((a, b) => a * b, 1);
  const n = fieldSize(shape);

  // One mask for all: a point is valid where every field is valid and finite.
  const mask = new Uint8Array(n).fill(1);
  for (const f of fields) {
    for (let i = 0; i < n; i++) if ((f.mask && !f.mask[i]) || !Number.isFinite(f.values[i]!)) mask[i] = 0;
  }
  let valid = 0;
  for (let i = 0; i < n; i++) valid += mask[i]!;
  if (valid === 0) throw new FieldpackError('INVALID_ARGUMENT', 'no point is valid in every field');

  const dataDir = join(opts.runDir, opts.dataDir ?? 'data');
  makeFolder(dataDir);
  const meta: DataMeta = {
    version: 1, samples, spatialShape, dims: fields[0]!.dims.slice(), fields: {}, mask: 'mask.u8', validFraction: valid / n,
    ...(opts.source ? { source: opts.source } : {}),
  };
  for (const [idx, f] of fields.entries()) {
    const buf = Buffer.alloc(n * 4);
    let min = Infinity, max = -Infinity, sum = 0;
    for (let i = 0; i < n; i++) {
      const v = mask[i] ? Math.fround(f.values[i]!) : 0; // invalid points carry 0, never a fill value
      buf.writeFloatLE(v, i * 4);
      if (mask[i]) {
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
      }
    }
    const file = `${idx}-${safeName(f.name)}.f32`;
    await writeFileAtomic(join(dataDir, file), buf);
    meta.fields[f.name] = { file, ...(f.units ? { units: f.units } : {}), min, max, mean: sum / valid };
  }
  await writeFileAtomic(join(dataDir, 'mask.u8'), mask);
  await writeFileAtomic(join(dataDir, 'meta.json'), JSON.stringify(meta, null, 1));
  return { dataDir, meta };
}
