/**
 * The jobs that train a learned codec's model file: `train-vqvae` (the chosen fields as 2D maps, prepare-maps.ts;
 * fieldpack_trainer.vqvae_train) and `train-nglr` (their residuals quantized as the nglr codec would,
 * prepare-nglr.ts; fieldpack_trainer.nglr_train). On the run: `loss` per step, validation metrics per epoch
 * (val_psnr and codebook usage, or val_bitsNglr / val_bitsLorenzo / val_gain), `epoch_seconds`, the device, progress
 * with time left. Finished (or stopped: the trainer writes the model it has): the model file is copied into the
 * store's model folder, where the codec service finds it by content hash, and kept as an artifact.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { z } from 'zod';
import { NglrTrainParams, type NglrTrainResult, type TrainFieldRef, VqvaeTrainParams, type VqvaeTrainResult } from '../../api/methods/training.ts';
import { parseBound } from '../../core/codec/bound.ts';
import type { Field } from '../../core/field.ts';
import { encodeBase } from '../codecs/index.ts';
import { prepareNglrData } from '../training/prepare-nglr.ts';
import type { StartTrainingOptions } from '../training/trainer.ts';
import type { Store } from '../store/store.ts';
import { learnedModelsDirOf, runDir as runDirOf } from '../store/files.ts';
import { prepareTrainingMaps } from '../training/prepare-maps.ts';
import { startTraining } from '../training/trainer.ts';
import { vqvaeEntry } from '../training/vqvae-entry.ts';
import type { JobContext, JobHandler } from '../jobs/types.ts';
import { addFileArtifact, epochLine, fmtS, readTrainingFields, trainerPython } from './train.ts';
import { makeFolder } from '../files/folders.ts';
import { writeFileAtomic } from '../files/atomic.ts';
import { VQVAE_LIMITS, parseVqvaeModel, vqvaeTensorShapes } from '../../core/nn/vqvae/model.ts';
import { NGLR_LIMITS, nglrMacsPerPoint, parseNglrModel } from '../../core/nn/nglr/model.ts';

/** Where trained VQ-VAE models of this store live (the codec service looks there by hash). */
export const vqvaeModelsDir = (store: Store) => learnedModelsDirOf(store.path, 'vqvae');

/** Where trained NGLR models of this store live. */
export const nglrModelsDir = (store: Store) => learnedModelsDirOf(store.path, 'nglr');

/**
 * What differs between the jobs that train a model file for a learned codec (train-vqvae, train-nglr): the params,
 * how the data folder is prepared, the trainer entry, and where the model file goes.
 */
interface ModelFileJobSpec<P extends { fields: TrainFieldRef[]; python?: string | undefined }> {
  kind: string;
  network: string;
  codec: string;
  extension: string;
  params: z.ZodType<P>;
  modelsDir(store: Store): string;
  prepare(dir: string, fields: Field[], params: P, source: Record<string, unknown>, ctx: JobContext): Promise<{ points: number; summary: string }>;
  entry(params: P): NonNullable<StartTrainingOptions['entry']>;
  /** reads a model file of this kind, throwing where it is not one (the codec's own parser) */
  parse(bytes: Uint8Array): unknown;
  /** why the network asked for is larger than a model file of this kind holds (the codec's limits), or null */
  sizeProblem(params: P): string | null;
}

/**
 * The model file the trainer says it wrote, checked before the store takes it: inside the run's folder, a model of
 * the job's kind, with the content hash reported (a trainer that names another file, or one it did not finish, is
 * refused rather than copied into the model folder under that hash).
 */
function trainedModelFile(path: string, contentHash: string, runFolder: string, spec: { kind: string; parse(bytes: Uint8Array): unknown }): Uint8Array {
  const file = resolve(path);
  if (!file.startsWith(resolve(runFolder) + sep)) throw new FieldpackError('INTERNAL', `the trainer (${spec.kind}) named a model file outside its run folder: ${file}`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new FieldpackError('INTERNAL', `the trainer (${spec.kind}) named a model file it did not write: ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  if (hash !== contentHash) throw new FieldpackError('INTERNAL', `the trainer (${spec.kind}) reported the model ${contentHash.slice(0, 16)}..., but ${file} hashes to ${hash.slice(0, 16)}...`);
  spec.parse(bytes);
  return bytes;
}

export function trainVqvaeJob(deps: { store: Store }): JobHandler<Record<string, unknown>, VqvaeTrainResult> {
  return modelFileJob(deps, {
    kind: 'train-vqvae', network: 'vqvae', codec: 'vqvae', extension: '.fpvq', params: VqvaeTrainParams, modelsDir: vqvaeModelsDir,
    async prepare(dir, fields, _params, source) {
      const data = await prepareTrainingMaps(dir, fields, source);
      return { points: data.maps, summary: `${data.maps} maps from ${data.meta.sets.map((s) => `${s.name} [${s.shape.join(' x ')}]`).join(', ')}` };
    },
    entry: (params) => vqvaeEntry(params.model, params.hyperparameters, 1),
    parse: (bytes) => parseVqvaeModel(bytes),
    sizeProblem({ model }) {
      const weights = vqvaeTensorShapes({ ...model, negativeSlope: 0 }).reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
      return weights > VQVAE_LIMITS.weights ? `channels ${model.channels.join(', ')}, latent ${model.latentDim} and codebooks of ${model.codesY} and ${model.codesZ} make ${weights} weights, more than a VQ-VAE model file holds (${VQVAE_LIMITS.weights}): give smaller ones` : null;
    },
  });
}

/** The `train-nglr` job: the fields' residuals quantized as the nglr codec would (prepare-nglr.ts), on a base or none. */
export function trainNglrJob(deps: { store: Store }): JobHandler<Record<string, unknown>, NglrTrainResult> {
  return modelFileJob(deps, {
    kind: 'train-nglr', network: 'nglr', codec: 'nglr', extension: '.fpnl', params: NglrTrainParams, modelsDir: nglrModelsDir,
    async prepare(dir, fields, params, source, ctx) {
      const bases: (Field | null)[] = [];
      for (const f of fields) {
        if (ctx.signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled while compressing the bases');
        bases.push((await encodeBase(f, params.base, { signal: ctx.signal }))?.field ?? null);
      }
      const data = await prepareNglrData(dir, fields, params.bounds.map(parseBound), bases, { ...source, bounds: params.bounds, base: params.base });
      return { points: data.points, summary: `${data.points} points in ${data.meta.chunks.length} chunks of ${fields.map((f) => `${f.name} [${f.shape.join(' x ')}]`).join(', ')} at ${params.bounds.join(', ')}, base ${params.base}` };
    },
    entry: (params) => ({
      module: 'fieldpack_trainer.nglr_train',
      config: { ...params.model, ...params.hyperparameters, data: 'data', outputDir: 'out', stopFile: 'STOP', logEvery: 10 },
      epochs: params.hyperparameters.epochs,
    }),
    parse: (bytes) => parseNglrModel(bytes),
    sizeProblem({ model }) {
      if (model.recon > NGLR_LIMITS.recon) return `recon ${model.recon}: an NGLR model file's reconstruction branch has at most ${NGLR_LIMITS.recon} channels`;
      const macs = nglrMacsPerPoint({ ...model, negativeSlope: 0 });
      return macs > NGLR_LIMITS.macsPerPoint ? `causal ${model.causal}, hidden ${model.hidden} and recon ${model.recon} need ${macs} multiply-adds per point, more than an NGLR model file allows (${NGLR_LIMITS.macsPerPoint}): give smaller widths` : null;
    },
  });
}

function modelFileJob<P extends { fields: TrainFieldRef[]; python?: string | undefined }>(deps: { store: Store }, spec: ModelFileJobSpec<P>): JobHandler<Record<string, unknown>, VqvaeTrainResult & { points: number }> {
  const { store } = deps;
  return async (raw, ctx: JobContext) => {
    const parsed = spec.params.safeParse(raw);
    if (!parsed.success) {
      throw new FieldpackError('INVALID_ARGUMENT', `${spec.kind} job: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`);
    }
    const params = parsed.data;
    // a network the codec would refuse is said now, not after its training (hours on a GPU)
    const tooLarge = spec.sizeProblem(params);
    if (tooLarge) throw new FieldpackError('INVALID_ARGUMENT', `${spec.kind} job: ${tooLarge}`);
    if (ctx.runId === undefined) throw new FieldpackError('INTERNAL', `the ${spec.kind} job needs a run (submit it through the job queue)`);
    const runId = ctx.runId;
    const dir = runDirOf(store, runId);
    ctx.progress(0, 'finding Python');
    const python = await trainerPython(store, params.python);
    ctx.progress(0, 'reading fields');
    const { fields, nameOf } = await readTrainingFields(params.fields, ctx.signal);
    const source = { runId, fields: params.fields.map((r) => ({ file: resolve(r.file), variable: r.variable, name: nameOf(r) })) };
    ctx.progress(0, 'preparing the training data');
    const data = await spec.prepare(dir, fields, params, source, ctx);
    ctx.log(`data: ${data.summary}`);
    if (ctx.signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled before the trainer started');
    const epochSeconds: number[] = [];
    let stepsDone = 0;
    const handle = await startTraining({
      runDir: dir,
      entry: spec.entry(params),
      env: python,
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
            ctx.log(`network: ${e.parameters} parameters${e.trainMaps !== undefined ? `; ${e.trainMaps} training / ${e.validationMaps ?? '?'} validation maps` : ''}${e.trainPoints !== undefined ? `; ${e.trainPoints} training / ${e.validationPoints ?? '?'} validation points` : ''}`);
            if (e.validationMaps === 0) ctx.log('data: too few to hold any out for validation: the validation metrics are not measured (more maps or time steps give them)');
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
            ctx.log(epochLine(e));
            break;
          case 'error':
            ctx.log(`error (${e.kind}): ${e.message}`);
            break;
          default:
            break;
        }
      },
    });
    store.setTag(runId, 'network', spec.network);
    const r = await handle.result;
    if (r.status === 'failed') throw new FieldpackError(r.error!.code, r.error!.message, r.error!.details);
    let modelPath: string | null = null;
    const produced = r.artifacts.model;
    if (r.status === 'finished' && !(produced && r.contentHash)) throw new FieldpackError('INTERNAL', `the trainer (${spec.kind}) finished without naming the model file it wrote`);
    if (produced && r.contentHash) {
      const bytes = trainedModelFile(produced, r.contentHash, dir, spec);
      makeFolder(spec.modelsDir(store));
      modelPath = join(spec.modelsDir(store), `${spec.network}-${r.contentHash.slice(0, 16)}${spec.extension}`);
      await writeFileAtomic(modelPath, bytes);
      await addFileArtifact(store, runId, `${spec.network}-model`, modelPath);
      store.setTag(runId, 'model', r.contentHash);
      ctx.log(`model ${r.contentHash} (${statSync(modelPath).size} bytes): compress with --codec ${spec.codec} --model ${r.contentHash.slice(0, 12)}`);
    }
    return {
      contentHash: r.contentHash, modelPath, modelBytes: modelPath ? statSync(modelPath).size : null, device: r.device, epochs: r.epochs,
      secondsPerEpoch: epochSeconds.length ? epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length : null, elapsedS: r.elapsedS, metrics: r.metrics,
      points: data.points,
    };
  };
}
