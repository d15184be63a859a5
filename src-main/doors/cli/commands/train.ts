/**
 * fieldpack train: a `train` job through the store (a run with its parameters, loss curve, logs,
 * artifacts and the registered model), with a progress line; Ctrl-C stops after the current step and
 * keeps the last checkpoint (the run ends cancelled). Prints the run id, device, time per epoch,
 * metrics and the model id and hash; --export packs the model into a .fpmodel file.
 */
import { resolve } from 'node:path';
import type { Model, Run, RunDetail } from '../../../api/contract.ts';
import { FieldpackError, type ErrorCode } from '../../../core/errors.ts';
import type { TrainJobResult, TrainParamsInput } from '../../../services/job-kinds/train.ts';
import type { NetworkType } from '../../../services/training/config.ts';
import type { VqvaeTrainResult } from '../../../api/methods/training.ts';
import { dispatch } from '../../../services/dispatch.ts';
import { jobExitCode } from '../api.ts';
import { followRun } from '../follow-run.ts';
import { CliUsageError, flag, parseBoundFlag, parseFlags, type CliCommand, type ParsedFlags } from '../command.ts';
import { checkModelFolderOutput, checkModelOutput } from '../../../services/models/models.ts';
import { copyFolderAtomically } from '../../../services/files/atomic.ts';

const num = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new CliUsageError(`--${name} must be a number`);
  return x;
};

/** Trainer lines worth reading on the terminal (the progress line has the rest). */
const TRAINER_LINE = /^(data|device|network|trainer|epoch \d+\/|error|stopped|\[trainer\] Traceback)/;

/** The flags every network takes. */
const COMMON_FLAGS = ['network', 'file', 'vars', 'epochs', 'batch-size', 'lr', 'seed', 'device', 'threads', 'project', 'python', 'json'];
const CNN_FLAGS = [...COMMON_FLAGS, 'target', 'patch', 'steps-per-epoch', 'spatial-dims', 'out', 'export'];

/**
 * The flags each network takes: one its training does not read is refused, naming the networks that take it (one
 * list for all let `--network vqvae --export vq.fpmodel` finish without writing the file).
 */
const NETWORK_FLAGS: Record<NetworkType | 'vqvae' | 'nglr', readonly string[]> = {
  'tiny-cnn': CNN_FLAGS,
  cfnn: CNN_FLAGS,
  vqvae: [...COMMON_FLAGS, 'patch', 'patches-per-epoch', 'channels', 'latent-dim', 'codes', 'scaling'],
  nglr: [...COMMON_FLAGS, 'steps-per-epoch', 'max-points', 'bound', 'bounds', 'base', 'causal', 'hidden', 'recon'],
};

/** Why a network does not take a flag, where that is worth saying. */
const NOT_TAKEN_BECAUSE: Record<string, string> = {
  scaling: 'the other networks standardise linearly',
  export: 'the VQ-VAE and NGLR models are one file each in the store\'s model folder: train prints its path',
  out: 'the VQ-VAE and NGLR models are one file each in the store\'s model folder: train prints its path',
};

/** A usage error for the first flag given that `network` does not take. */
function checkNetworkFlags(p: ParsedFlags, network: string): void {
  const takes = NETWORK_FLAGS[network as keyof typeof NETWORK_FLAGS];
  for (const name of p.flags.keys()) {
    if (takes.includes(name)) continue;
    const by = Object.entries(NETWORK_FLAGS).filter(([, flags]) => flags.includes(name)).map(([n]) => n);
    const why = NOT_TAKEN_BECAUSE[name];
    throw new CliUsageError(`--${name} is for --network ${by.join('|')}; --network ${network} does not take it${why ? ` (${why})` : ''}`);
  }
  if (p.flags.has('bound') && p.flags.has('bounds')) throw new CliUsageError('--bounds is another name for --bound: give one of them');
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'train a network (tiny-cnn, cfnn, vqvae, nglr) on a file\'s variables as a run in the store',
  usage: [
    'fieldpack train --network tiny-cnn|cfnn --file FILE --vars A,B --target T [--epochs N] [--batch-size N] [--lr X]',
    '                [--patch N] [--steps-per-epoch N] [--spatial-dims 2|3] [--out DIR] [--export MODEL.fpmodel]',
    '  --vars      input (anchor) variables; --target the variable to predict',
    '  --out       also copy the trained model folder to DIR, a new or empty folder (checked before training; the run keeps its files in the store)',
    '  --export    pack the registered model into one .fpmodel file (its path checked before training)',
    'fieldpack train --network vqvae --file FILE --vars A,B [--file FILE2 --vars C]... [--epochs N] [--batch-size N] [--lr X]',
    '                [--patch N] [--patches-per-epoch N] [--channels 8,16,32] [--latent-dim 32] [--codes Y,Z]',
    '                [--scaling auto|linear|log]   (log10(x + offset) per field; auto: non-negative fields with skewness >= 2)',
    '  the hierarchical VQ-VAE on the 2D maps of the variables (several files: one --vars per --file); the model goes',
    '  to the store\'s model folder, where `compress --codec vqvae --model HASH` finds it (docs/vqvae.md)',
    'fieldpack train --network nglr --file FILE --vars A,B [--bound nrmse:1e-5[,nrmse:1e-4]] [--base none|CODEC:MODE:VALUE]',
    '                [--epochs N] [--batch-size N] [--lr X] [--steps-per-epoch N] [--max-points N] [--causal 16] [--hidden 16] [--recon 0]',
    '  NGLR\'s causal bias network on the variables\' residuals quantized as `--codec nglr` would at those bounds, on',
    '  that base; the model goes to the store\'s model folder (`compress --codec nglr --model HASH`; docs/residual.md)',
    '  --bound (or --bounds): the bounds the codec will run at (default nrmse:1e-5); --max-points: at most N points',
    '    of residuals to train on (default 4000000)',
    'every network also takes [--seed N] [--device auto|cpu|cuda] [--threads N] [--project ID] [--json], and the global --python PATH:',
    '  --threads   CPU threads of PyTorch (default 0: its own choice)',
    '  --project   record the run (and the model) in this project',
    '  --json      print the run\'s events as JSON lines on stdout',
    '  A flag the chosen network does not take is refused (exit 2), naming the networks that take it.',
    '  Ctrl-C or SIGTERM (timeout, kill, Slurm) stops after the current step: the run ends cancelled, its last',
    '  checkpoint kept; a second Ctrl-C quits at once (the next start marks the run interrupted).',
  ].join('\n'),
  async run(argv, { io, app, globals }) {
    const p = parseFlags(argv, { values: [...new Set(Object.values(NETWORK_FLAGS).flat())].filter((f) => f !== 'json'), booleans: ['json'] });
    const network = flag(p, 'network') ?? 'tiny-cnn';
    if (!(network in NETWORK_FLAGS)) throw new CliUsageError(`--network must be one of ${Object.keys(NETWORK_FLAGS).join(', ')}`);
    checkNetworkFlags(p, network);
    if (network === 'vqvae' || network === 'nglr') return trainModelFile(p, network, { io, app, globals });
    const file = flag(p, 'file') ?? p.positionals[0];
    const vars = (flag(p, 'vars') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const target = flag(p, 'target');
    if (!file || vars.length === 0 || !target) throw new CliUsageError('--file, --vars and --target are required');
    const sd = num(flag(p, 'spatial-dims'), 'spatial-dims');
    if (sd !== undefined && sd !== 2 && sd !== 3) throw new CliUsageError('--spatial-dims must be 2 or 3');
    const device = flag(p, 'device');
    if (device !== undefined && !['auto', 'cpu', 'cuda'].includes(device)) throw new CliUsageError('--device must be auto, cpu or cuda');
    const projectId = num(flag(p, 'project'), 'project') ?? null;
    const python = flag(p, 'python') ?? globals.python;
    const abs = resolve(file);

    const hp: Record<string, number | string> = {};
    const setNum = (flagName: string, key: string) => {
      const v = num(flag(p, flagName), flagName);
      if (v !== undefined) hp[key] = v;
    };
    setNum('epochs', 'epochs');
    setNum('batch-size', 'batchSize');
    setNum('lr', 'learningRate');
    setNum('patch', 'patchSize');
    setNum('steps-per-epoch', 'maxStepsPerEpoch');
    setNum('seed', 'seed');
    setNum('threads', 'threads');
    if (device) hp.device = device;
    const params: TrainParamsInput = {
      network: network as TrainParamsInput['network'],
      inputs: vars.map((variable) => ({ file: abs, variable })),
      target: { file: abs, variable: target },
      hyperparameters: hp,
      ...(sd ? { spatialDims: sd as 2 | 3 } : {}),
      ...(python ? { python } : {}),
    };

    const ctx = await app();
    const json = p.flags.has('json');
    // where the model is to be exported: checked before hours of training, not after
    if (flag(p, 'export')) await checkModelOutput(resolve(flag(p, 'export')!));
    if (flag(p, 'out')) await checkModelFolderOutput(resolve(flag(p, 'out')!));
    const run = (await dispatch(ctx.services, 'jobs.submit', { kind: 'train', projectId, name: `train ${network} ${vars.join(',')} -> ${target}`, params })) as Run;
    io.err(`run ${run.id}: training ${network} on ${vars.join(', ')} -> ${target} (${abs})`);
    const ended = await followRun(ctx, run, io, { json, shows: TRAINER_LINE, stopping: 'stopping after the current step (the last checkpoint is kept; a second Ctrl-C quits at once)...' });
    const detail = (await dispatch(ctx.services, 'runs.get', { id: run.id })) as RunDetail;
    const print = json ? io.err : io.out;
    if (ended.status === 'failed') {
      const e = ended.error!;
      throw new FieldpackError(e.code as ErrorCode, `run ${run.id}: training failed: ${e.message}`, e.details);
    }
    const epochSeconds = detail.metrics.filter((m) => m.key === 'epoch_seconds').map((m) => Number(m.value));
    const steps = detail.metrics.filter((m) => m.key === 'loss').length;
    const mean = epochSeconds.length ? epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length : NaN;
    const r = ended.result as TrainJobResult | null;
    print(
      `run ${run.id} ${ended.status}: ${epochSeconds.length} epochs, ${steps} steps on ${detail.tags.device ?? '?'}` +
        `${Number.isFinite(mean) ? `; ${mean.toFixed(3)} s per epoch` : ''}`,
    );
    if (r) print(`metrics: ${Object.entries(r.metrics).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${(v as number).toPrecision(4)}`).join(', ')}`);
    const ckpt = detail.artifacts.find((a) => a.kind === 'checkpoint');
    if (ended.status === 'cancelled' && ckpt) print(`last checkpoint: ${ckpt.path}`);
    const modelId = r?.modelId ?? (detail.tags.model ? Number(detail.tags.model.split(' ')[0]) : null);
    if (modelId) {
      const model = (await dispatch(ctx.services, 'models.get', { id: modelId })) as Model;
      print(`model ${model.id} ${model.contentHash} (${model.network}, ${model.parameterCount ?? '?'} parameters, ${model.sizeBytes} bytes) ${model.path}`);
      const out = flag(p, 'out');
      if (out) {
        await copyFolderAtomically(model.path, resolve(out));
        print(`model folder copied to ${resolve(out)}`);
      }
      const exportTo = flag(p, 'export');
      if (exportTo) {
        const ex = (await dispatch(ctx.services, 'models.export', { id: model.id, path: resolve(exportTo) })) as { path: string; sizeBytes: number };
        print(`exported: ${ex.path} (${ex.sizeBytes} bytes)`);
      }
    }
    return jobExitCode(ended);
  },
};

/** The model and hyperparameter flags of `train --network vqvae|nglr`, as the job's params. */
function modelFileParams(p: ReturnType<typeof parseFlags>, network: 'vqvae' | 'nglr'): Record<string, unknown> {
  const ints = (v: string | undefined, name: string) => v?.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1) throw new CliUsageError(`--${name} needs positive integers`);
    return n;
  });
  const hp: Record<string, unknown> = {};
  const hpFlags = network === 'vqvae'
    ? [['epochs', 'epochs'], ['batch-size', 'batchSize'], ['lr', 'learningRate'], ['patch', 'patchSize'], ['patches-per-epoch', 'patchesPerEpoch'], ['seed', 'seed'], ['threads', 'threads']] as const
    : [['epochs', 'epochs'], ['batch-size', 'batchSize'], ['lr', 'learningRate'], ['steps-per-epoch', 'stepsPerEpoch'], ['max-points', 'maxPoints'], ['seed', 'seed'], ['threads', 'threads']] as const;
  for (const [f, k] of hpFlags) {
    const v = num(flag(p, f), f);
    if (v !== undefined) hp[k] = v;
  }
  if (flag(p, 'device')) hp.device = flag(p, 'device');
  const scaling = flag(p, 'scaling');
  if (scaling !== undefined) {
    if (!['auto', 'linear', 'log'].includes(scaling)) throw new CliUsageError(`--scaling must be auto, linear or log (got "${scaling}")`);
    hp.scaling = scaling;
  }
  if (network === 'nglr') {
    const model: Record<string, unknown> = {};
    for (const [f, k] of [['causal', 'causal'], ['hidden', 'hidden'], ['recon', 'recon']] as const) {
      const v = num(flag(p, f), f);
      if (v !== undefined) model[k] = v;
    }
    // each checked here (exit 2, before the job), passed as typed
    const boundsName = flag(p, 'bound') !== undefined ? 'bound' : 'bounds';
    const bounds = flag(p, boundsName)?.split(',').map((b) => b.trim()).filter(Boolean);
    for (const b of bounds ?? []) parseBoundFlag(b, boundsName);
    return { model, hyperparameters: hp, ...(bounds ? { bounds } : {}), ...(flag(p, 'base') ? { base: flag(p, 'base') } : {}) };
  }
  const channels = ints(flag(p, 'channels'), 'channels');
  if (channels && channels.length !== 3) throw new CliUsageError('--channels needs 3 integers (1/2, 1/4, 1/8 resolution)');
  const codes = ints(flag(p, 'codes'), 'codes');
  const model: Record<string, unknown> = {
    ...(channels ? { channels } : {}),
    ...(flag(p, 'latent-dim') ? { latentDim: num(flag(p, 'latent-dim'), 'latent-dim') } : {}),
    ...(codes ? { codesY: codes[0], codesZ: codes[1] ?? codes[0] } : {}),
  };
  return { model, hyperparameters: hp };
}

/** `train --network vqvae|nglr`: a train-vqvae or train-nglr job on the variables of one or more files. */
async function trainModelFile(p: ReturnType<typeof parseFlags>, network: 'vqvae' | 'nglr', { io, app, globals }: Parameters<CliCommand['run']>[1]): Promise<number> {
  const files = [...(p.flags.get('file') ?? []), ...p.positionals];
  const varLists = (p.flags.get('vars') ?? []).map((v) => v.split(',').map((s) => s.trim()).filter(Boolean));
  if (!files.length || !varLists.length) throw new CliUsageError('--file and --vars are required');
  if (varLists.length !== 1 && varLists.length !== files.length) throw new CliUsageError('give one --vars for all files, or one per --file');
  const fields = files.flatMap((f, i) => (varLists[varLists.length === 1 ? 0 : i] ?? []).map((variable) => ({ file: resolve(f), variable })));
  const python = flag(p, 'python') ?? globals.python;
  const projectId = num(flag(p, 'project'), 'project') ?? null;
  const params = { fields, ...modelFileParams(p, network), ...(python ? { python } : {}) };
  const ctx = await app();
  const kind = network === 'vqvae' ? 'train-vqvae' : 'train-nglr';
  const run = (await dispatch(ctx.services, 'jobs.submit', { kind, projectId, name: `train ${network} ${fields.map((f) => f.variable).join(',')}`, params })) as Run;
  io.err(`run ${run.id}: training the ${network === 'vqvae' ? 'VQ-VAE' : 'NGLR bias network'} on ${fields.map((f) => f.variable).join(', ')}`);
  const json = p.flags.has('json');
  const ended = await followRun(ctx, run, io, { json, shows: TRAINER_LINE, stopping: 'stopping after the current step (the last checkpoint is kept; a second Ctrl-C quits at once)...' });
  const print = json ? io.err : io.out;
  if (ended.status === 'failed') throw new FieldpackError(ended.error!.code as ErrorCode, `run ${run.id}: training failed: ${ended.error!.message}`, ended.error!.details);
  const r = ended.result as VqvaeTrainResult | null;
  if (r) {
    print(`run ${run.id} ${ended.status}: ${r.epochs} epochs on ${r.device?.device ?? '?'}${r.secondsPerEpoch !== null ? `, ${r.secondsPerEpoch.toFixed(2)} s per epoch` : ''}`);
    print(`metrics: ${Object.entries(r.metrics).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${(v as number).toPrecision(4)}`).join(', ')}`);
    if (r.modelPath) print(`model ${r.contentHash} (${r.modelBytes} bytes) ${r.modelPath}`);
  } else if (ended.status === 'cancelled') {
    // a stopped run keeps the model the trainer had (its tag and artifact; the queue drops a cancelled run's result)
    const detail = (await dispatch(ctx.services, 'runs.get', { id: run.id })) as RunDetail;
    const kept = detail.artifacts.find((a) => a.kind === `${network}-model`);
    print(`run ${run.id} cancelled${kept ? `: the model it had is kept, ${detail.tags.model ?? kept.sha256} (${kept.sizeBytes} bytes) ${kept.path}` : ': no model was written'}`);
  }
  return jobExitCode(ended);
}
