/**
 * `fieldpack bench --train`: a VQ-VAE (their 2D maps, standardised per map) or an NGLR network (their residuals at the
 * benched bounds) trained on the benched fields themselves, so the bench can report a dataset's own model beside the
 * shipped one, with its training time. The run folder is temporary; the model is kept beside the bench's JSON output.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import { NglrHyperparameters, NglrModelSize, VqvaeHyperparameters, VqvaeModelSize } from '../../api/methods/training.ts';
import type { BoundSpec } from '../../core/codec/bound.ts';
import { encodeBase } from '../codecs/index.ts';
import { prepareNglrData } from '../training/prepare-nglr.ts';
import { prepareTrainingMaps } from '../training/prepare-maps.ts';
import { startTraining, type TrainingResult } from '../training/trainer.ts';
import { vqvaeEntry } from '../training/vqvae-entry.ts';
import { benchVariables, loadField } from './bench-input.ts';

export interface BenchTrainOptions {
  files: string[];
  vars?: string[];
  epochs: number;
  /** vqvae (default): the fields' maps; nglr: their residuals quantized at `bounds` on `base` */
  network?: 'vqvae' | 'nglr';
  bounds?: BoundSpec[];
  base?: string;
  /** where the model is kept */
  out: string;
  python?: string;
  onProgress?(fraction: number, message: string): void;
  /** stops the trainer (its folder removed): the call ends CANCELLED */
  signal?: AbortSignal;
}

/** A training run's result as the bench needs it: the model file, or why there is none (CANCELLED when stopped). */
function trainedModel(r: TrainingResult, what: string): string {
  if (r.status === 'stopped') throw new FieldpackError('CANCELLED', `${what} training cancelled`);
  if (r.status === 'failed' || !r.artifacts.model) throw new FieldpackError(r.error?.code ?? 'INTERNAL', `${what} training failed: ${r.error?.message ?? 'no model written'}`);
  return r.artifacts.model;
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
  if (!fields.length) throw new FieldpackError('INVALID_ARGUMENT', `no 2D or larger variable to train the ${o.network === 'nglr' ? 'NGLR network' : 'VQ-VAE'} on`);
  const dir = await mkdtemp(join(tmpdir(), 'fieldpack-bench-train-'));
  try {
    if (o.network === 'nglr') {
      const bases = [];
      for (const f of fields) bases.push((await encodeBase(f, o.base))?.field ?? null);
      const data = await prepareNglrData(dir, fields, o.bounds ?? [{ mode: 'nrmse', value: 1e-5 }], bases);
      const hp = NglrHyperparameters.parse({ epochs: o.epochs });
      const h = await startTraining({
        runDir: dir, python: o.python, signal: o.signal,
        entry: { module: 'fieldpack_trainer.nglr_train', config: { ...NglrModelSize.parse({}), ...hp, data: 'data', outputDir: 'out', stopFile: 'STOP', logEvery: 10 }, epochs: hp.epochs },
        onProgress: (p) => o.onProgress?.(p.fraction, `training NGLR on ${data.points} points: ${p.message}`),
      });
      const r = await h.result;
      await copyFile(trainedModel(r, 'NGLR'), o.out);
      return { path: o.out, seconds: r.elapsedS, maps: data.points };
    }
    const data = await prepareTrainingMaps(dir, fields);
    const h = await startTraining({
      runDir: dir, python: o.python, signal: o.signal, entry: vqvaeEntry(VqvaeModelSize.parse({}), VqvaeHyperparameters.parse({ epochs: o.epochs }), 10),
      onProgress: (p) => o.onProgress?.(p.fraction, `training the VQ-VAE on ${data.maps} maps: ${p.message}`),
    });
    const r = await h.result;
    await copyFile(trainedModel(r, 'VQ-VAE'), o.out);
    return { path: o.out, seconds: r.elapsedS, maps: data.maps };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
