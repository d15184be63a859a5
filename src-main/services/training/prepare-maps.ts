/**
 * Training data for the VQ-VAE trainer: every field as 2D maps (its last two dims; leading dims are samples), each
 * field a set of its own, so fields of different grids train one model (meta.json version 2, kind "maps"; read by
 * resources/trainer/fieldpack_trainer/vqvae_train.py). Values are written as they are (float32); the trainer
 * standardises per map, as the codec does, the values or their log10(x + offset) (its `scaling` option).
 */
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { type Field, fieldSize } from '../../core/field.ts';
import { writeFileAtomic } from '../files/atomic.ts';
import { makeFolder } from '../files/folders.ts';

export interface MapsMeta {
  version: 2;
  kind: 'maps';
  sets: { name: string; file: string; shape: [number, number, number]; mask: string | null }[];
  source?: Record<string, unknown>;
}

/** The smallest map side the VQ-VAE trains on: its coarsest latent level is 1/16 of the map. */
const MIN_MAP = 16;

const safeName = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, '_');

export async function prepareTrainingMaps(runDir: string, fields: Field[], source?: Record<string, unknown>): Promise<{ dataDir: string; meta: MapsMeta; maps: number }> {
  if (!fields.length) throw new FieldpackError('INVALID_ARGUMENT', 'no fields to train on');
  const dataDir = join(runDir, 'data');
  makeFolder(dataDir);
  const meta: MapsMeta = { version: 2, kind: 'maps', sets: [], ...(source ? { source } : {}) };
  let maps = 0;
  for (const [i, f] of fields.entries()) {
    if (f.shape.length < 2) throw new FieldpackError('INVALID_ARGUMENT', `${f.name} [${f.shape.join(', ')}] has no 2D maps to train on`);
    const h = f.shape[f.shape.length - 2]!, w = f.shape[f.shape.length - 1]!;
    // the VQ-VAE's coarsest level is 1/16 of a map: a smaller map trains nothing of it (a 2 x 3 field made a model)
    if (h < MIN_MAP || w < MIN_MAP) throw new FieldpackError('INVALID_ARGUMENT', `${f.name}'s maps are ${h} x ${w}: the VQ-VAE trains on maps of at least ${MIN_MAP} x ${MIN_MAP} (its coarsest level is 1/16 of a map)`);
    const n = fieldSize(f.shape);
    const s = n / (h * w);
    const values = new Float32Array(n);
    const mask = new Uint8Array(n);
    let valid = 0;
    for (let k = 0; k < n; k++) {
      const v = f.values[k]!;
      const ok = (!f.mask || f.mask[k] === 1) && Number.isFinite(v);
      mask[k] = ok ? 1 : 0;
      values[k] = ok ? v : 0;
      valid += mask[k]!;
    }
    if (!valid) throw new FieldpackError('INVALID_ARGUMENT', `${f.name} has no valid point`);
    const base = `${i}-${safeName(f.name)}`;
    await writeFileAtomic(join(dataDir, `${base}.f32`), new Uint8Array(values.buffer));
    const hasMask = valid < n;
    if (hasMask) await writeFileAtomic(join(dataDir, `${base}.mask.u8`), mask);
    meta.sets.push({ name: f.name, file: `${base}.f32`, shape: [s, h, w], mask: hasMask ? `${base}.mask.u8` : null });
    maps += s;
  }
  await writeFileAtomic(join(dataDir, 'meta.json'), JSON.stringify(meta, null, 1));
  return { dataDir, meta, maps };
}
