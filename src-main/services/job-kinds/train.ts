/**
 * The `train` job: reads the chosen variables, prepares a run folder under the store
 * (runDir(store, runId)), starts the PyTorch trainer there and records everything on the run:
 * `loss` per global step, `val_loss` / `val_rmse` at the end of each epoch (step = the global step
 * then, so curves share one axis), `epoch_seconds` (step = epoch), the device and Python as tags,
 * every trainer line in the log, progress with elapsed time and time left. Finished: the model is
 * registered and its files become artifacts. Cancelled: the trainer stops after its current step,
 * the last checkpoint is kept as an artifact and the model it exported at the stop is registered.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import type { Store } from '../store/store.ts';
import { runDir as runDirOf } from '../store/files.ts';
import { configuredPython } from '../system/python-probe.ts';
import { detectPython, type PythonEnv } from '../system/python-env.ts';
import { parseTrainingConfig, type TrainingConfigInput } from '../training/config.ts';
import { prepareTrainingData } from '../training/prepare-data.ts';
import { readFields } from '../training/read-fields.ts';
import { registerModelDir } from '../training/registry.ts';
import { startTraining, type TrainingResult } from '../training/trainer.ts';
import type { JobContext, JobHandler } from '../jobs/types.ts';

export { TrainFieldRef, TrainHyperparameters, TrainParams, type TrainJobResult, type TrainParamsInput } from '../../api/methods/training.ts';
import { TrainParams, type TrainFieldRef, type TrainJobResult } from '../../api/methods/training.ts';


/** A trainer's epoch event as a log line ('no validation' where nothing was held out to measure it). */
export function epochLine(e: { epoch: number; epochs: number; loss?: number | null; valLoss?: number | null; seconds: number }): string {
  const val = e.valLoss == null || Number.isNaN(e.valLoss) ? 'no validation' : `validation loss ${e.valLoss.toPrecision(4)}`;
  return `epoch ${e.epoch}/${e.epochs}: loss ${e.loss?.toPrecision(4) ?? 'NaN'}, ${val}, ${e.seconds.toFixed(2)} s`;
}

export function fmtS(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function addFileArtifact(store: Store, runId: number, kind: string, path: string | undefined): Promise<void> {
  if (!path || !existsSync(path)) return;
  store.addArtifact(runId, { name: basename(path), path, kind, sizeBytes: statSync(path).size, sha256: await sha256File(path) });
}

/** Reads each {file, variable} once; the same variable name from two files gets a suffix. */
export async function readTrainingFields(refs: TrainFieldRef[], signal: AbortSignal): Promise<{ fields: Field[]; nameOf: (r: TrainFieldRef) => string }> {
  const key = (r: TrainFieldRef) => `${resolve(r.file)}\u0000${r.variable}`;
  const names = new Map<string, string>();
  const used = new Set<string>();
  const byFile = new Map<string, string[]>();
  for (const r of refs) {
    const k = key(r);
    if (names.has(k)) continue;
    let name = r.variable;
    for (let i = 2; used.has(name); i++) name = `${r.variable}_${i}`;
    used.add(name);
    names.set(k, name);
    const file = resolve(r.file);
    const list = byFile.get(file) ?? [];
    if (!list.includes(r.variable)) list.push(r.variable);
    byFile.set(file, list);
  }
  const fields: Field[] = [];
  for (const [file, vars] of byFile) {
    if (signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled while reading the fields');
    if (!existsSync(file)) throw new FieldpackError('NOT_FOUND', `training data file not found: ${file}`);
    const read = await readFields(file, vars);
    for (const f of read) fields.push({ ...f, name: names.get(`${file}\u0000${f.name}`)! });
  }
  return { fields, nameOf: (r) => names.get(key(r))! };
}

/**
 * The interpreter a training job runs: its own (used as given), else the setting's, else the usual candidates. Found
 * before any field is read, so that a missing Python or torch is said at once (PYTHON_MISSING), not after the data.
 */
export function trainerPython(store: Store, given: string | undefined): Promise<PythonEnv> {
  return detectPython({ python: given ?? configuredPython(store) ?? undefined, fallback: given === undefined });
}

export function trainJob(deps: { store: Store }): JobHandler<Record<string, unknown>, TrainJobResult> {
  const { store } = deps;
  return async (rawParams, ctx: JobContext) => {
    const parsed = TrainParams.safeParse(rawParams);
    if (!parsed.success) {
      throw new FieldpackError('INVALID_ARGUMENT', `train job: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`, { issues: parsed.error.issues });
    }
    const params = parsed.data;
    if (ctx.runId === undefined) throw new FieldpackError('INTERNAL', 'the train job needs a run (submit it through the job queue)');
    const runId = ctx.runId;
    const dir = runDirOf(store, runId);
    const projectId = store.getRun(runId).projectId;

    ctx.progress(0, 'finding Python');
    const python = await trainerPython(store, params.python);
    ctx.progress(0, 'reading fields');
    const refs = [...params.inputs, params.target];
    const { fields, nameOf } = await readTrainingFields(refs, ctx.signal);
    const inputs = params.inputs.map(nameOf);
    const target = nameOf(params.target);
    const config: TrainingConfigInput = {
      network: params.network,
      networkParams: params.networkParams,
      inputs: [...new Set(inputs)],
      target,
      ...Object.fromEntries(Object.entries(params.hyperparameters).filter(([, v]) => v !== undefined)),
    };
    parseTrainingConfig(config); // INVALID_ARGUMENT before anything is written
    const source = { datasetId: params.datasetId ?? null, runId, fields: refs.map((r) => ({ file: resolve(r.file), variable: r.variable, name: nameOf(r) })) };
    ctx.progress(0, 'preparing training data');
    const data = await prepareTrainingData({ runDir: dir, fields, spatialDims: params.spatialDims, source });
    ctx.log(`data: ${data.meta.samples} samples of [${data.meta.spatialShape.join(' x ')}], ${(data.meta.validFraction * 100).toFixed(1)} % valid points; inputs ${config.inputs.join(', ')} -> target ${target}`);
    if (ctx.signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled before the trainer started');

    ctx.progress(0, 'starting the trainer');
    const epochSeconds: number[] = [];
    let stepsDone = 0;
    let lastLossStep = 0;
    const handle = await startTraining({
      runDir: dir,
      config,
      env: python,
      signal: ctx.signal,
      stopGraceMs: 20_000,
      killGraceMs: 5_000,
      onProgress: (p) => {
        ctx.progress(p.fraction, `${p.message} | ${fmtS(p.elapsedS)} elapsed${p.etaS !== null ? `, ~${fmtS(p.etaS)} left` : ''}`);
      },
      onLog: (line, stream) => ctx.log(stream === 'stderr' ? `[trainer] ${line}` : line),
      onEvent: (e) => {
        switch (e.event) {
          case 'started':
            ctx.log(`trainer ${e.trainerVersion} (pid ${e.pid}): ${e.network}, ${e.epochs} epochs; Python ${e.python}, torch ${e.torch}`);
            break;
          case 'device': {
            const label = `${e.device}${e.name ? ` (${e.name})` : ''}`;
            store.setTag(runId, 'device', label);
            ctx.log(`device: ${label}`);
            ctx.log(`torch threads: ${e.threads}${e.device === 'cpu' && e.cudaAvailable ? ' (CUDA is available but not used)' : ''}`);
            break;
          }
          case 'data':
            store.setTag(runId, 'parameters', String(e.parameters));
            ctx.log(`network: ${e.parameters} parameters, ${e.inChannels} -> ${e.outChannels} channels; ${e.trainSamples} training / ${e.validationSamples} validation samples${e.validationIsTraining ? ' (validation on the training samples)' : ''}`);
            break;
          case 'step':
            stepsDone = e.globalStep;
            if (e.globalStep > lastLossStep) {
              lastLossStep = e.globalStep;
              ctx.metric?.('loss', e.loss ?? NaN, e.globalStep);
            }
            break;
          case 'validation': {
            const rmse = e.metrics.rmse;
            if (typeof rmse === 'number') ctx.metric?.('val_rmse', rmse, stepsDone);
            break;
          }
          case 'epoch':
            epochSeconds.push(e.seconds);
            ctx.metric?.('val_loss', e.valLoss ?? NaN, stepsDone);
            ctx.metric?.('epoch_seconds', e.seconds, e.epoch);
            ctx.log(epochLine(e));
            break;
          case 'checkpoint':
            ctx.log(`checkpoint: epoch ${e.epoch}, step ${e.step}`);
            break;
          case 'log':
            ctx.log(`[${e.level}] ${e.message}`);
            break;
          case 'error':
            ctx.log(`error (${e.kind}): ${e.message}`);
            break;
          case 'stopped':
            ctx.log(`stopped after ${e.epochs} epochs, ${e.steps} steps${e.reason ? ` (${e.reason})` : ''}`);
            break;
          case 'finished':
            ctx.log(`finished: ${e.epochs} epochs, ${e.steps} steps in ${e.seconds.toFixed(1)} s`);
            break;
        }
      },
    });
    store.setTag(runId, 'python', `${handle.python.executable} (Python ${handle.python.pythonVersion}, torch ${handle.python.torchVersion})`);
    store.setTag(runId, 'network', params.network);
    const r: TrainingResult = await handle.result;

    if (r.status === 'failed') {
      const e = r.error!;
      throw new FieldpackError(e.code, e.message, e.details);
    }
    await addFileArtifact(store, runId, 'checkpoint', r.artifacts.checkpoint);
    let modelId: number | null = null;
    if (r.artifacts.manifest && existsSync(r.artifacts.manifest)) {
      const model = await registerModelDir(store, dirname(r.artifacts.manifest), { projectId, runId });
      modelId = model.id;
      store.setTag(runId, 'model', `${model.id} ${model.contentHash}`);
      ctx.log(`model ${model.id} registered: ${model.contentHash} (${model.sizeBytes} bytes)`);
      await addFileArtifact(store, runId, 'onnx', r.artifacts.onnx);
      await addFileArtifact(store, runId, 'weights', r.artifacts.weights);
      await addFileArtifact(store, runId, 'model-spec', r.artifacts.spec);
      await addFileArtifact(store, runId, 'manifest', r.artifacts.manifest);
    }
    if (r.status === 'stopped') ctx.log(`the last checkpoint is kept: ${r.artifacts.checkpoint ?? '(none)'}`);
    const result: TrainJobResult = {
      modelId,
      contentHash: r.contentHash,
      device: r.device,
      epochs: r.epochs,
      steps: r.steps,
      secondsPerEpoch: epochSeconds.length ? epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length : null,
      elapsedS: r.elapsedS,
      metrics: r.metrics,
      runDir: dir,
      python: { executable: r.python.executable, pythonVersion: r.python.pythonVersion, torchVersion: r.python.torchVersion },
    };
    // A stop (cancel) ends the run as cancelled: the queue drops this result, the tags and artifacts stay.
    return result;
  };
}
