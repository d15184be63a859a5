/**
 * Training runs: the trainer as a child process started in a run folder, its JSON lines as typed
 * events, progress with elapsed time and ETA, a graceful stop (stop file, then SIGTERM, then SIGKILL),
 * and a result that is finished, stopped (with the last checkpoint) or failed (with the trainer's
 * message, or its stderr tail when it crashed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { writeFileAtomic } from '../files/atomic.ts';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FieldpackError, type SerializedError } from '../../core/errors.ts';
import type { JobContext } from '../jobs/types.ts';
import { parseTrainingConfig, type TrainingConfig, type TrainingConfigInput } from './config.ts';
import { parseTrainerLine, type TrainerEvent } from './events.ts';
import { detectPython, type PythonEnv } from '../system/python-env.ts';
import { appRoot } from '../system/version.ts';
import { prepareTrainingData } from './prepare-data.ts';
import type { Field } from '../../core/field.ts';
import { makeFolder } from '../files/folders.ts';

/** Where the fieldpack_trainer package lives: FIELDPACK_TRAINER_DIR, next to the sources, or in a packaged app. */
export function defaultTrainerDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    process.env.FIELDPACK_TRAINER_DIR,
    // the installation's root (package.json): from the sources, out/main and the CLI bundle (out/cli/KEY/chunks) alike
    join(appRoot(), 'resources', 'trainer'),
    resolve(here, '../../resources/trainer'), // out/main
    resolve(here, '../resources/trainer'),
    (process as { resourcesPath?: string }).resourcesPath ? join((process as { resourcesPath?: string }).resourcesPath!, 'trainer') : undefined,
  ].filter((p): p is string => !!p);
  for (const c of candidates) if (existsSync(join(c, 'fieldpack_trainer', '__init__.py'))) return c;
  throw new FieldpackError('NOT_FOUND', `the trainer package (fieldpack_trainer) was not found; looked in ${candidates.join(', ')}`);
}

export interface TrainingProgress {
  /** In [0, 1], by steps done over steps planned. */
  fraction: number;
  /** "epoch 2/5 step 10/40 loss 0.0123" */
  message: string;
  epoch: number;
  epochs: number;
  elapsedS: number;
  /** Seconds left, from the speed of the steps so far; null until one step is done. */
  etaS: number | null;
  loss: number | null;
}

export interface TrainingResult {
  status: 'finished' | 'stopped' | 'failed';
  runDir: string;
  /** Present when failed: INVALID_ARGUMENT for a bad configuration or data, INTERNAL for a crash. */
  error?: SerializedError;
  /** Absolute paths by kind: spec, weights, onnx, manifest, checkpoint, probe... (finished and stopped). */
  artifacts: Record<string, string>;
  contentHash: string | null;
  metrics: Record<string, unknown>;
  epochs: number;
  steps: number;
  device: { device: 'cuda' | 'cpu'; name: string | null } | null;
  elapsedS: number;
  exitCode: number | null;
  exitSignal: string | null;
  /** Last lines of the trainer's stderr. */
  stderrTail: string;
  python: PythonEnv;
}

export interface StartTrainingOptions {
  /** The run folder: gets run.json (from `config`), holds data/ (prepareTrainingData) and out/. */
  runDir: string;
  /** Written to runDir/run.json after validation. Leave out to use an existing run.json as is. */
  config?: TrainingConfigInput;
  /**
   * Another trainer entry point of the package (e.g. fieldpack_trainer.vqvae_train) with its own configuration,
   * validated by the caller and written as run.json; it speaks the same event protocol.
   */
  entry?: { module: string; config: Record<string, unknown>; epochs: number; stopFile?: string };
  /** Interpreter setting; detected with detectPython (configured first, then candidates). */
  python?: string;
  /** Go on with the candidates when `python` lacks torch (default true). */
  pythonFallback?: boolean;
  /** Already detected environment (skips detection). */
  env?: PythonEnv;
  trainerDir?: string;
  /** Aborting stops the run gracefully (result: stopped, with its last checkpoint). */
  signal?: AbortSignal;
  onEvent?(event: TrainerEvent): void;
  onProgress?(p: TrainingProgress): void;
  /** stderr lines and stdout lines that are not events. */
  onLog?(line: string, stream: 'stdout' | 'stderr'): void;
  /** After asking to stop: how long to wait before SIGTERM, then before SIGKILL (ms). */
  stopGraceMs?: number;
  killGraceMs?: number;
  /** Extra environment for the trainer process. */
  extraEnv?: Record<string, string>;
}

export interface TrainingHandle {
  pid: number | undefined;
  python: PythonEnv;
  config: TrainingConfig | null;
  /** Every event so far, in order. */
  events: TrainerEvent[];
  /** Asks the trainer to stop after its current step; escalates to SIGTERM / SIGKILL. Resolves with the result. */
  stop(): Promise<TrainingResult>;
  result: Promise<TrainingResult>;
}

/** Starts a training run. Throws PYTHON_MISSING / INVALID_ARGUMENT before starting; everything later ends in `result`. */
export async function startTraining(opts: StartTrainingOptions): Promise<TrainingHandle> {
  const runDir = resolve(opts.runDir);
  const python = opts.env ?? (await detectPython({ python: opts.python, fallback: opts.pythonFallback }));
  const trainerDir = opts.trainerDir ?? defaultTrainerDir();
  makeFolder(runDir);
  const configPath = join(runDir, 'run.json');
  let config: TrainingConfig | null = null;
  if (opts.entry) {
    await writeFileAtomic(configPath, JSON.stringify(opts.entry.config, null, 1));
  } else if (opts.config) {
    config = parseTrainingConfig(opts.config);
    if (!existsSync(join(runDir, config.data, 'meta.json'))) {
      throw new FieldpackError('INVALID_ARGUMENT', `no training data in ${join(runDir, config.data)} (prepareTrainingData writes it)`);
    }
    await writeFileAtomic(configPath, JSON.stringify(config, null, 1));
  } else if (!existsSync(configPath)) {
    throw new FieldpackError('INVALID_ARGUMENT', `no run.json in ${runDir}`);
  }
  const stopFile = join(runDir, opts.entry?.stopFile ?? config?.stopFile ?? 'STOP');
  await rm(stopFile, { force: true });

  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const child: ChildProcess = spawn(python.executable || python.interpreter, ['-u', '-m', opts.entry?.module ?? 'fieldpack_trainer', '--config', configPath], {
    cwd: runDir,
    env: {
      ...process.env,
      PYTHONPATH: [trainerDir, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      ...opts.extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });

  const events: TrainerEvent[] = [];
  const stderrLines: string[] = [];
  let device: TrainingResult['device'] = null;
  let firstStepAt: number | null = null;
  let firstStepGlobal = 0;
  let terminal: TrainerEvent | null = null;
  let errorEvent: Extract<TrainerEvent, { event: 'error' }> | null = null;
  let lastCheckpoint: string | null = null;
  let epochs = 0;
  let steps = 0;
  let metrics: Record<string, unknown> = {};
  const plannedEpochs = opts.entry?.epochs ?? config?.epochs ?? 0;

  const handle = (ev: TrainerEvent) => {
    events.push(ev);
    switch (ev.event) {
      case 'device':
        device = { device: ev.device, name: ev.name };
        break;
      case 'step': {
        steps = ev.globalStep;
        const total = ev.stepsPerEpoch * (plannedEpochs || ev.epoch);
        if (firstStepAt === null) {
          firstStepAt = elapsed();
          firstStepGlobal = ev.globalStep - 1;
        }
        const fraction = Math.min(1, ev.globalStep / total);
        const done = ev.globalStep - firstStepGlobal;
        const rate = done > 0 ? (elapsed() - firstStepAt) / done : 0;
        const eta = done > 1 || rate > 0 ? rate * (total - ev.globalStep) : null;
        opts.onProgress?.({
          fraction, epoch: ev.epoch, epochs: plannedEpochs, elapsedS: elapsed(), etaS: eta, loss: ev.loss,
          message: `epoch ${ev.epoch}/${plannedEpochs || '?'} step ${ev.step}/${ev.stepsPerEpoch} loss ${ev.loss === null ? 'NaN' : ev.loss.toPrecision(4)}`,
        });
        break;
      }
      case 'epoch':
        epochs = ev.epoch;
        break;
      case 'checkpoint':
        lastCheckpoint = ev.path;
        break;
      case 'validation':
        metrics = { ...metrics, ...Object.fromEntries(Object.entries(ev.metrics).map(([k, v]) => [`val_${k}`, v])) };
        break;
      case 'finished':
      case 'stopped':
        terminal = ev;
        epochs = ev.epochs;
        steps = ev.steps;
        metrics = ev.metrics;
        break;
      case 'error':
        errorEvent = ev;
        break;
    }
    opts.onEvent?.(ev);
  };

  createInterface({ input: child.stdout! }).on('line', (line) => {
    const ev = parseTrainerLine(line);
    if (ev) handle(ev);
    else if (line.trim()) opts.onLog?.(line, 'stdout');
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrLines.push(line);
    if (stderrLines.length > 200) stderrLines.shift();
    opts.onLog?.(line, 'stderr');
  });

  let stopRequested = false;
  const timers: NodeJS.Timeout[] = [];
  const result = new Promise<TrainingResult>((resolveResult) => {
    let spawnError: Error | null = null;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, sig) => {
      timers.forEach(clearTimeout);
      opts.signal?.removeEventListener('abort', onAbort);
      const stderrTail = stderrLines.slice(-30).join('\n');
      const base = {
        runDir, artifacts: {}, contentHash: null, metrics, epochs, steps, device, elapsedS: elapsed(),
        exitCode: code, exitSignal: sig, stderrTail, python,
      };
      const term = terminal as TrainerEvent | null;
      if (term && (term.event === 'finished' || term.event === 'stopped')) {
        resolveResult({ ...base, status: term.event, artifacts: term.artifacts, contentHash: term.contentHash, metrics: term.metrics });
        return;
      }
      if (stopRequested && !errorEvent && lastCheckpoint && existsSync(lastCheckpoint)) {
        // Killed after asking to stop (a step that outlived the grace time): the last checkpoint stands.
        resolveResult({ ...base, status: 'stopped', artifacts: { checkpoint: lastCheckpoint } });
        return;
      }
      const ee = errorEvent as Extract<TrainerEvent, { event: 'error' }> | null;
      let error: SerializedError;
      if (ee) {
        error = { code: ee.kind === 'config' ? 'INVALID_ARGUMENT' : 'INTERNAL', message: ee.message, details: { kind: ee.kind, traceback: ee.traceback, stderrTail } };
      } else if (spawnError) {
        error = { code: 'PYTHON_MISSING', message: `could not start ${python.interpreter}: ${(spawnError as Error).message}` };
      } else {
        const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
        const tail = stderrLines.filter((l) => l.trim()).slice(-8).join('\n');
        error = {
          code: 'INTERNAL',
          message: stopRequested && sig ? `the trainer ${how} before it could write a checkpoint` : `the trainer ${how}${tail ? `: ${tail}` : ' without a message'}`,
          details: { stderrTail },
        };
      }
      resolveResult({ ...base, status: 'failed', error });
    });
  });

  const stop = (): Promise<TrainingResult> => {
    if (!stopRequested && child.exitCode === null && child.signalCode === null) {
      stopRequested = true;
      void writeFile(stopFile, `stop requested at ${new Date().toISOString()}\n`).catch(() => undefined);
      timers.push(
        setTimeout(() => {
          child.kill('SIGTERM');
          timers.push(setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 5_000));
        }, opts.stopGraceMs ?? 60_000),
      );
    }
    return result;
  };
  const onAbort = () => void stop();
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  return { pid: child.pid, python, config, events, stop, result };
}

/** prepareTrainingData + startTraining: the one call behind "Train" in the workbench. */
export async function startTrainingFromFields(
  opts: StartTrainingOptions & { config: TrainingConfigInput; fields: Field[]; spatialDims?: 2 | 3; source?: Record<string, unknown> },
): Promise<TrainingHandle> {
  const cfg = parseTrainingConfig(opts.config);
  const names = new Set(opts.fields.map((f) => f.name));
  for (const v of [...cfg.inputs, cfg.target]) if (!names.has(v)) throw new FieldpackError('INVALID_ARGUMENT', `field ${v} is not among the fields given`);
  await prepareTrainingData({ runDir: opts.runDir, fields: opts.fields, spatialDims: opts.spatialDims, source: opts.source, dataDir: cfg.data });
  return startTraining(opts);
}

export interface TrainingJobInput extends Omit<StartTrainingOptions, 'signal' | 'onProgress'> {}

/**
 * The job-handler form (JobHandler<TrainingJobInput, TrainingResult>): progress and log go to the job,
 * cancelling stops the run gracefully and resolves with status 'stopped'. A failed run resolves too
 * (status 'failed', error set), so the caller can store its events and message with the run.
 */
export async function runTrainingJob(input: TrainingJobInput, ctx: JobContext): Promise<TrainingResult> {
  const h = await startTraining({
    ...input,
    signal: ctx.signal,
    onProgress: (p) => ctx.progress(p.fraction, `${p.message}${p.etaS !== null ? `, ${Math.round(p.etaS)} s left` : ''}`),
    onLog: (line, stream) => {
      ctx.log(stream === 'stderr' ? `[trainer] ${line}` : line);
      input.onLog?.(line, stream);
    },
    onEvent: (e) => {
      if (e.event === 'device') ctx.log(`device: ${e.device}${e.name ? ` (${e.name})` : ''}`);
      if (e.event === 'error') ctx.log(`error: ${e.message}`);
      input.onEvent?.(e);
    },
  });
  return h.result;
}
