/**
 * `fieldpack bench --train`: a VQ-VAE trained on the benched fields themselves (their 2D maps, standardised per
 * map), so the bench can report a dataset's own model beside the shipped one, with its training time. The run folder
 * is temporary; the model is kept beside the bench's JSON output.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import { VqvaeHyperparameters, VqvaeModelSize } from '../../api/methods/training.ts';
import { prepareTrainingMaps } from '../training/prepare-maps.ts';
import { startTraining } from '../training/trainer.ts';
import { vqvaeEntry } from '../training/vqvae-entry.ts';
import { benchVariables, loadField } from './bench-input.ts';

export interface BenchTrainOptions {
  files: string[];
  vars?: string[];
  epochs: number;
  /** where the model is kept */
  out: string;
  python?: string;
  onProgress?(fraction: number, message: string): void;
}

export async function trainBenchModel(o: BenchTrainOptions): Promise<{ path: string; seconds: number; maps: number }> {
  const fields: Field[] = [];
  for (const file of o.files) {
    for (const v of o.vars ?? (await benchVariables(file))) {
      let f: Field;
      try {
        f = await loadField(file, v);
      } catch {
        continue; // a listed variable this file does not have
      }
      if (f.shape.length >= 2) fields.push({ ...f, name: `${fields.length}-${v}` });
    }
  }
  if (!fields.length) throw new FieldpackError('INVALID_ARGUMENT', 'no 2D or larger variable to train the VQ-VAE on');
  const dir = await mkdtemp(join(tmpdir(), 'fieldpack-bench-train-'));
  try {
    const data = await prepareTrainingMaps(dir, fields);
    const h = await startTraining({
      runDir: dir, python: o.python, entry: vqvaeEntry(VqvaeModelSize.parse({}), VqvaeHyperparameters.parse({ epochs: o.epochs }), 10),
      onProgress: (p) => o.onProgress?.(p.fraction, `training the VQ-VAE on ${data.maps} maps: ${p.message}`),
    });
    const r = await h.result;
    if (r.status === 'failed' || !r.artifacts.model) throw new FieldpackError(r.error?.code ?? 'INTERNAL', `VQ-VAE training failed: ${r.error?.message ?? 'no model written'}`);
    await copyFile(r.artifacts.model, o.out);
    return { path: o.out, seconds: r.elapsedS, maps: data.maps };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
