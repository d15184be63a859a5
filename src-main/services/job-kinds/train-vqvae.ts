/**
 * The `train-vqvae` job: the chosen fields as 2D maps (prepare-maps.ts), the PyTorch VQ-VAE trainer
 * (fieldpack_trainer.vqvae_train) in the run folder, and on the run: `loss` per step, `val_psnr` and the codebook
 * usage per epoch, `epoch_seconds`, the device, progress with time left. Finished (or stopped: the trainer writes
 * the model it has): the .fpvq file is copied into the store's model folder, where the codec service finds it by
 * content hash, and kept as an artifact.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { VqvaeTrainParams, type VqvaeTrainResult } from '../../api/methods/training.ts';
import type { Store } from '../store/store.ts';
import { modelsDir, runDir as runDirOf } from '../store/files.ts';
import { configuredPython } from '../system/python-probe.ts';
import { prepareTrainingMaps } from '../training/prepare-maps.ts';
import { startTraining } from '../training/trainer.ts';
import { vqvaeEntry } from '../training/vqvae-entry.ts';
import type { JobContext, JobHandler } from '../jobs/types.ts';
import { addFileArtifact, fmtS, readTrainingFields } from './train.ts';

/** Where trained VQ-VAE models of this store live (the codec service looks there by hash). */
export const vqvaeModelsDir = (store: Store) => join(modelsDir(store), 'vqvae');

export function trainVqvaeJob(deps: { store: Store }): JobHandler<Record<string, unknown>, VqvaeTrainResult> {
  const { store } = deps;
  return async (raw, ctx: JobContext) => {
    const parsed = VqvaeTrainParams.safeParse(raw);
    if (!parsed.success) {
      throw new FieldpackError('INVALID_ARGUMENT', `train-vqvae job: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`);
    }
    const params = parsed.data;
    if (ctx.runId === undefined) throw new FieldpackError('INTERNAL', 'the train-vqvae job needs a run (submit it through the job queue)');
    const runId = ctx.runId;
    const dir = runDirOf(store, runId);
    ctx.progress(0, 'reading fields');
    const { fields, nameOf } = await readTrainingFields(params.fields, ctx.signal);
    const source = { runId, fields: params.fields.map((r) => ({ file: resolve(r.file), variable: r.variable, name: nameOf(r) })) };
    ctx.progress(0, 'preparing training maps');
    const data = await prepareTrainingMaps(dir, fields, source);
    ctx.log(`data: ${data.maps} maps from ${data.meta.sets.map((s) => `${s.name} [${s.shape.join(' x ')}]`).join(', ')}`);
    if (ctx.signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled before the trainer started');
    const python = params.python ?? configuredPython(store) ?? undefined;
    const epochSeconds: number[] = [];
    let stepsDone = 0;
    const handle = await startTraining({
      runDir: dir,
      entry: vqvaeEntry(params.model, params.hyperparameters, 1),
      python,
      pythonFallback: params.python === undefined,
      signal: ctx.signal,
      stopGraceMs: 20_000,
      killGraceMs: 5_000,
      onProgress: (p) => ctx.progress(p.fraction, `${p.message} | ${fmtS(p.elapsedS)} elapsed${p.etaS !== null ? `, ~${fmtS(p.etaS)} left` : ''}`),
      onLog: (line, stream) => ctx.log(stream === 'stderr' ? `[trainer] ${line}` : line),
      onEvent: (e) => {
        switch (e.event) {
          case 'device': {
            const label = `${e.device}${e.name ? ` (${e.name})` : ''}`;
            store.setTag(runId, 'device', label);
            ctx.log(`device: ${label}`);
            break;
          }
          case 'data':
            store.setTag(runId, 'parameters', String(e.parameters));
            ctx.log(`network: ${e.parameters} parameters; ${e.trainMaps ?? '?'} training / ${e.validationMaps ?? '?'} validation maps`);
            break;
          case 'step':
            stepsDone = e.globalStep;
            ctx.metric?.('loss', e.loss ?? NaN, e.globalStep);
            break;
          case 'validation':
            for (const [k, v] of Object.entries(e.metrics)) if (typeof v === 'number') ctx.metric?.(`val_${k}`, v, stepsDone);
            break;
          case 'epoch':
            epochSeconds.push(e.seconds);
            ctx.metric?.('epoch_seconds', e.seconds, e.epoch);
            ctx.log(`epoch ${e.epoch}/${e.epochs}: loss ${e.loss?.toPrecision(4) ?? 'NaN'}, validation loss ${e.valLoss?.toPrecision(4) ?? 'NaN'}, ${e.seconds.toFixed(2)} s`);
            break;
          case 'error':
            ctx.log(`error (${e.kind}): ${e.message}`);
            break;
          default:
            break;
        }
      },
    });
    store.setTag(runId, 'network', 'vqvae');
    const r = await handle.result;
    if (r.status === 'failed') throw new FieldpackError(r.error!.code, r.error!.message, r.error!.details);
    let modelPath: string | null = null;
    const produced = r.artifacts.model;
    if (produced && existsSync(produced) && r.contentHash) {
      await mkdir(vqvaeModelsDir(store), { recursive: true });
      modelPath = join(vqvaeModelsDir(store), `vqvae-${r.contentHash.slice(0, 16)}.fpvq`);
      await copyFile(produced, modelPath);
      await addFileArtifact(store, runId, 'vqvae-model', modelPath);
      store.setTag(runId, 'model', r.contentHash);
      ctx.log(`model ${r.contentHash} (${statSync(modelPath).size} bytes): compress with --codec vqvae --model ${r.contentHash.slice(0, 12)}`);
    }
    return {
      contentHash: r.contentHash, modelPath, modelBytes: modelPath ? statSync(modelPath).size : null, device: r.device, epochs: r.epochs,
      secondsPerEpoch: epochSeconds.length ? epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length : null, elapsedS: r.elapsedS, metrics: r.metrics,
    };
  };
}
