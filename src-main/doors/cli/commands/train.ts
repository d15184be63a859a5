/**
 * fieldpack train: prepare a run folder from a file's variables, train with the PyTorch trainer, print
 * the device, time per epoch, metrics and the model (optionally packed into a .fpmodel).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FieldpackError } from '../../../core/errors.ts';
import {
  detectPython, exportModelFile, NETWORK_TYPES, prepareTrainingData, startTraining, type TrainerEvent, type TrainingConfigInput,
} from '../../../services/training/index.ts';
import { readFields } from '../../../services/training/read-fields.ts';
import { CliUsageError, flag, parseFlags, type CliCommand } from '../command.ts';

const num = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new CliUsageError(`--${name} must be a number`);
  return x;
};

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'train a predictor network (tiny-cnn, cfnn) on a file\'s variables with PyTorch',
  usage: [
    'fieldpack train --network tiny-cnn|cfnn --file FILE --vars A,B --target T [--epochs N]',
    '                [--batch-size N] [--lr X] [--patch N] [--steps-per-epoch N] [--seed N] [--device auto|cpu|cuda]',
    '                [--spatial-dims 2|3] [--python PATH] [--out DIR] [--export MODEL.fpmodel] [--json]',
    '  --vars      input (anchor) variables; --target the variable to predict',
    '  --out       run folder (default ./fieldpack-runs/NETWORK-TIME); the model lands in OUT/out/',
    '  --json      print the trainer\'s events as JSON lines on stdout',
    '  Ctrl-C stops after the current step and keeps the last checkpoint.',
  ].join('\n'),
  needsStore: false,
  async run(argv, { io, globals }) {
    const p = parseFlags(argv, {
      values: ['network', 'file', 'vars', 'target', 'epochs', 'batch-size', 'lr', 'patch', 'steps-per-epoch', 'seed', 'device', 'spatial-dims', 'python', 'out', 'export'],
      booleans: ['json'],
    });
    const network = flag(p, 'network') ?? 'tiny-cnn';
    if (!(NETWORK_TYPES as readonly string[]).includes(network)) throw new CliUsageError(`--network must be one of ${NETWORK_TYPES.join(', ')}`);
    const file = flag(p, 'file') ?? p.positionals[0];
    const vars = (flag(p, 'vars') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const target = flag(p, 'target');
    if (!file || vars.length === 0 || !target) throw new CliUsageError('--file, --vars and --target are required');
    const python = flag(p, 'python') ?? globals.python;
    const sd = num(flag(p, 'spatial-dims'), 'spatial-dims');
    if (sd !== undefined && sd !== 2 && sd !== 3) throw new CliUsageError('--spatial-dims must be 2 or 3');

    const env = await detectPython({ python, fallback: !python });
    io.err(`python: ${env.executable} (Python ${env.pythonVersion}, torch ${env.torchVersion}${env.cudaAvailable ? `, CUDA on ${env.gpuName}` : ', no CUDA'})`);
    const fields = await readFields(resolve(file), [...new Set([...vars, target])]);
    const runDir = resolve(flag(p, 'out') ?? join('fieldpack-runs', `${network}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    mkdirSync(runDir, { recursive: true });
    const data = await prepareTrainingData({ runDir, fields, spatialDims: sd as 2 | 3 | undefined, source: { file: resolve(file) } });
    io.err(`data: ${data.meta.samples} samples of [${data.meta.spatialShape.join(' x ')}], ${(data.meta.validFraction * 100).toFixed(1)} % valid points -> ${runDir}`);

    const config: TrainingConfigInput = {
      network: network as TrainingConfigInput['network'], inputs: vars, target,
      ...(flag(p, 'epochs') ? { epochs: num(flag(p, 'epochs'), 'epochs') } : {}),
      ...(flag(p, 'batch-size') ? { batchSize: num(flag(p, 'batch-size'), 'batch-size') } : {}),
      ...(flag(p, 'lr') ? { learningRate: num(flag(p, 'lr'), 'lr') } : {}),
      ...(flag(p, 'patch') ? { patchSize: num(flag(p, 'patch'), 'patch') } : {}),
      ...(flag(p, 'steps-per-epoch') ? { maxStepsPerEpoch: num(flag(p, 'steps-per-epoch'), 'steps-per-epoch') } : {}),
      ...(flag(p, 'seed') ? { seed: num(flag(p, 'seed'), 'seed') } : {}),
      ...(flag(p, 'device') ? { device: flag(p, 'device') as 'auto' } : {}),
    };
    const json = p.flags.has('json');
    const ac = new AbortController();
    const onSigint = () => {
      io.err('\nstopping after the current step (Ctrl-C again to kill)...');
      process.off('SIGINT', onSigint);
      ac.abort();
    };
    process.on('SIGINT', onSigint);
    const epochTimes: number[] = [];
    try {
      const h = await startTraining({
        runDir, env, config, signal: ac.signal,
        onProgress: (pr) => io.progress(pr.fraction, `${pr.message}${pr.etaS !== null ? ` | ${Math.round(pr.elapsedS)} s, ~${Math.round(pr.etaS)} s left` : ''}`),
        onEvent: (e: TrainerEvent) => {
          if (json) io.out(JSON.stringify(e));
          if (e.event === 'device') {
            io.progressDone();
            io.err(`device: ${e.device}${e.name ? ` (${e.name})` : ''}`);
          }
          if (e.event === 'epoch') epochTimes.push(e.seconds);
        },
      });
      const r = await h.result;
      io.progressDone();
      if (r.status === 'failed') throw new FieldpackError(r.error!.code, `training failed: ${r.error!.message}`, r.error!.details);
      const mean = epochTimes.length ? epochTimes.reduce((a, b) => a + b, 0) / epochTimes.length : NaN;
      const lines = [
        `${r.status}: ${r.epochs} epochs, ${r.steps} steps in ${r.elapsedS.toFixed(1)} s on ${r.device?.device ?? '?'}${r.device?.name ? ` (${r.device.name})` : ''}; ${Number.isFinite(mean) ? `${mean.toFixed(3)} s per epoch` : ''}`,
        `metrics: ${Object.entries(r.metrics).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${(v as number).toPrecision(4)}`).join(', ')}`,
        `model: ${r.artifacts.manifest ? resolve(r.artifacts.manifest, '..') : '-'} (content hash ${r.contentHash})`,
      ];
      if (r.status === 'stopped') lines.push(`last checkpoint: ${r.artifacts.checkpoint}`);
      const exportTo = flag(p, 'export');
      if (exportTo && r.artifacts.manifest) {
        const ex = await exportModelFile(resolve(r.artifacts.manifest, '..'), resolve(exportTo));
        lines.push(`exported: ${ex.path} (${ex.size} bytes)`);
      }
      for (const l of lines) (json ? io.err : io.out)(l);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
