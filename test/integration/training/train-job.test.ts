/**
 * The `train` job through the app (createApp + jobs.submit), on real COADS fields (AIRT -> SST) with
 * the real trainer (/usr/bin/python3 with torch): metrics, tags, artifacts and the registered model
 * in the store; export / import round trip; cancel keeps the checkpoint; bad configurations and a
 * Python without torch fail with their message; `fieldpack train` runs the same job from the CLI.
 */
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model, Run, RunDetail } from '../../../src-main/api/contract.ts';
import type { CliRunContext } from '../../../src-main/doors/cli/command.ts';
import { trainCommand } from '../../../src-main/doors/cli/commands/train.ts';
import { createApp, type AppContext } from '../../../src-main/services/app-context.ts';
import type { TrainJobResult, TrainParamsInput } from '../../../src-main/services/job-kinds/train.ts';
import { dispatch } from '../../../src-main/services/services.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { COADS, systemTorch } from './real-fields.ts';

const torch = systemTorch();
const skip = 'skip' in torch ? torch.skip : !existsSync(COADS) ? `${COADS} not installed (apt-get install ferret-datasets)` : null;
if (skip) console.warn(`[train job tests] SKIPPED: ${skip}`);
const python = 'python' in torch ? torch.python : '/usr/bin/python3';

const tmp = tempDir('fieldpack-train-job-');
let app: AppContext;
let projectId = 0;

const call = (method: string, input: unknown) => dispatch(app.services, method, input);

function params(over: Partial<TrainParamsInput> = {}, hp: Record<string, unknown> = {}): TrainParamsInput {
  return {
    network: 'tiny-cnn',
    inputs: [{ file: COADS, variable: 'AIRT' }],
    target: { file: COADS, variable: 'SST' },
    hyperparameters: { epochs: 2, maxStepsPerEpoch: 4, batchSize: 4, patchSize: 32, device: 'cpu', threads: 2, ...hp },
    python,
    ...over,
  };
}

async function train(p: TrainParamsInput): Promise<RunDetail> {
  const run = (await call('jobs.submit', { kind: 'train', projectId, params: p })) as Run;
  await app.jobs.waitFor(run.id);
  return (await call('runs.get', { id: run.id })) as RunDetail;
}

beforeAll(() => {
  app = createApp({ dbPath: join(tmp.dir, 'fieldpack.db'), door: 'cli' });
  projectId = app.store.createProject('COADS').id;
});
afterAll(async () => {
  await app?.close();
  tmp.cleanup();
});

describe.skipIf(!!skip)('train job (needs python3-torch and ferret-datasets)', () => {
  let finished: RunDetail;

  beforeAll(async () => {
    finished = await train(params());
  }, 120_000);

  it('finishes with loss per step, validation per epoch, device tag, artifacts and a registered model', async () => {
    expect(finished.status, JSON.stringify(finished.error)).toBe('finished');
    const loss = finished.metrics.filter((m) => m.key === 'loss');
    expect(loss.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(loss.every((m) => typeof m.value === 'number' && m.value > 0)).toBe(true);
    expect(finished.metrics.filter((m) => m.key === 'val_loss').map((m) => m.step)).toEqual([4, 8]);
    const epochSeconds = finished.metrics.filter((m) => m.key === 'epoch_seconds');
    expect(epochSeconds.map((m) => m.step)).toEqual([1, 2]);
    console.log(`[train job] CPU seconds per epoch (tiny-cnn, 4 steps of 4 x 32x32 patches): ${epochSeconds.map((m) => Number(m.value).toFixed(3)).join(', ')}`);
    expect(finished.tags.device).toMatch(/^cpu/);
    expect(finished.tags.python).toContain('torch');
    expect(finished.logs.some((l) => /^device: cpu/.test(l))).toBe(true);
    expect(finished.logs.some((l) => /^epoch 2\/2: loss/.test(l))).toBe(true);
    expect(finished.progress).toBe(1);

    const result = finished.result as TrainJobResult;
    expect(result.modelId).toEqual(expect.any(Number));
    expect(result.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(result.device?.device).toBe('cpu');
    expect(result.epochs).toBe(2);
    expect(result.secondsPerEpoch).toBeGreaterThan(0);
    expect(typeof result.metrics.valRmse).toBe('number');

    const kinds = finished.artifacts.map((a) => a.kind).sort();
    expect(kinds).toEqual(expect.arrayContaining(['checkpoint', 'onnx', 'weights']));
    for (const a of finished.artifacts) {
      expect(existsSync(a.path), a.path).toBe(true);
      expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    }

    const models = (await call('models.list', { projectId })) as Model[];
    const m = models.find((x) => x.id === result.modelId)!;
    expect(m).toBeDefined();
    expect(m.contentHash).toBe(result.contentHash);
    expect(m.runId).toBe(finished.id);
    expect(m.network).toBe('tiny-cnn');
    expect(m.parameterCount).toBeGreaterThan(0);
    expect(m.sizeBytes).toBeGreaterThan(0);
    // Registered only after onnxruntime and the reference path reproduced PyTorch on the probe input.
    expect(m.metrics.verification).toMatchObject({ ok: true, provider: 'cpu' });
    const again = (await call('models.verify', { id: m.id })) as { ok: boolean; onnxVsTorch: number; referenceVsTorch: number };
    expect(again.ok).toBe(true);
    expect(again.onnxVsTorch).toBeLessThan(1e-5);
    expect(again.referenceVsTorch).toBeLessThan(1e-5);
  });

  it('exports the model as one file that imports into another store with the same hash', async () => {
    const result = finished.result as TrainJobResult;
    const file = join(tmp.dir, 'airt-sst.fpmodel');
    const ex = (await call('models.export', { id: result.modelId, path: file })) as { path: string; contentHash: string; sizeBytes: number };
    expect(ex.contentHash).toBe(result.contentHash);
    expect(existsSync(file)).toBe(true);
    const other = createApp({ dbPath: join(tmp.dir, 'other.db'), door: 'cli' });
    try {
      const imported = (await dispatch(other.services, 'models.import', { path: file, projectId: null })) as Model;
      expect(imported.contentHash).toBe(result.contentHash);
      expect(imported.network).toBe('tiny-cnn');
      expect(((await dispatch(other.services, 'models.list', {})) as Model[]).map((x) => x.contentHash)).toEqual([result.contentHash]);
    } finally {
      await other.close();
    }
  });

  it('cancelling mid-run stops the trainer: cancelled, checkpoint kept as an artifact, the model at the stop registered', async () => {
    const run = (await call('jobs.submit', { kind: 'train', projectId, params: params({}, { epochs: 200, maxStepsPerEpoch: 3, seed: 7 }) })) as Run;
    const seenLoss = new Promise<void>((resolve) => {
      const off = app.events.on((e) => {
        if (e.type === 'run.metric' && e.runId === run.id && e.metric.key === 'loss' && e.metric.step >= 4) {
          off();
          resolve();
        }
      });
    });
    await seenLoss;
    await call('jobs.cancel', { runId: run.id });
    const ended = await app.jobs.waitFor(run.id);
    expect(ended.status).toBe('cancelled');
    const d = (await call('runs.get', { id: run.id })) as RunDetail;
    const ckpt = d.artifacts.find((a) => a.kind === 'checkpoint');
    expect(ckpt, JSON.stringify(d.artifacts)).toBeDefined();
    expect(existsSync(ckpt!.path)).toBe(true);
    expect(d.metrics.filter((m) => m.key === 'loss').length).toBeGreaterThanOrEqual(4);
    expect(d.metrics.filter((m) => m.key === 'loss').length).toBeLessThan(600);
    expect(d.tags.model).toMatch(/^\d+ [0-9a-f]{64}$/);
    expect(d.logs.some((l) => l.startsWith('stopped after'))).toBe(true);
    const modelId = Number(d.tags.model!.split(' ')[0]);
    expect(((await call('models.get', { id: modelId })) as Model).runId).toBe(run.id);
  }, 120_000);

  it('a bad configuration fails at once with the reason', async () => {
    // refused at submission by the train kind's params schema
    await expect(train(params({ networkParams: { kernel: 4 } }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/params\.networkParams\.kernel: train: kernel must be odd/) });
    const missing = await train(params({ target: { file: COADS, variable: 'NOPE' } }));
    expect(missing.status).toBe('failed');
    expect(missing.error?.message).toMatch(/NOPE/);
    const cfnnSame = await train(params({ network: 'cfnn', inputs: [{ file: COADS, variable: 'SST' }] }));
    expect(cfnnSame.status).toBe('failed');
    expect(cfnnSame.error?.message).toMatch(/cannot also be an anchor/);
  });

  it('a configuration the trainer refuses fails the run with the trainer\'s message', async () => {
    // CUDA asked for where PyTorch sees no GPU; the GPU is hidden so that this holds on GPU machines too.
    const d = await train(params({ python: pythonWithoutCuda() }, { device: 'cuda' }));
    expect(d.status).toBe('failed');
    expect(d.error?.code).toBe('INVALID_ARGUMENT');
    expect(d.error?.message).toMatch(/device 'cuda' was asked for but PyTorch sees no CUDA GPU/);
    expect(d.logs.some((l) => /device 'cuda' was asked for/.test(l))).toBe(true);
  }, 60_000);

  it('a Python without torch fails the run with PYTHON_MISSING and how to get one', async () => {
    const d = await train(params({ python: pythonWithoutTorch() }));
    expect(d.status).toBe('failed');
    expect(d.error?.code).toBe('PYTHON_MISSING');
    expect(d.error?.message).toMatch(/No Python with PyTorch found/);
    expect(d.error?.message).toMatch(/python3-torch/);
    // found before the fields are read: no training data was prepared for a trainer that cannot run
    expect(d.logs.some((l) => l.startsWith('data:'))).toBe(false);
  });

  it('a VQ-VAE or NGLR network larger than its model file holds fails at once, naming its sizes (it failed after the whole training)', async () => {
    const fields = [{ file: COADS, variable: 'SST' }];
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['train-nglr', { fields, bounds: ['nrmse:1e-5'], model: { recon: 40 }, python }, /recon 40: an NGLR model file's reconstruction branch has at most 32 channels/],
      ['train-nglr', { fields, bounds: ['nrmse:1e-5'], model: { causal: 256, hidden: 256 }, python }, /need \d+ multiply-adds per point, more than an NGLR model file allows \(65536\)/],
      ['train-vqvae', { fields, model: { channels: [512, 512, 512], latentDim: 512, codesY: 4096, codesZ: 4096 }, python }, /make \d+ weights, more than a VQ-VAE model file holds \(33554432\)/],
    ];
    for (const [kind, p, said] of cases) {
      const t0 = performance.now();
      const run = (await call('jobs.submit', { kind, projectId, params: p })) as Run;
      const ended = await app.jobs.waitFor(run.id);
      expect(ended.status, kind).toBe('failed');
      expect(((await call('runs.get', { id: run.id })) as RunDetail).error?.message).toMatch(said);
      expect(performance.now() - t0).toBeLessThan(5000);
    }
  });

  it('training.networks and training.python describe what the Train view offers', async () => {
    const nets = (await call('training.networks', {})) as { type: string; description: string; hyperparameters: Record<string, unknown>; networkParams: Record<string, unknown> }[];
    expect(nets.map((n) => n.type)).toEqual(['tiny-cnn', 'cfnn', 'vqvae', 'nglr']);
    expect(nets.map((n) => (n as unknown as { jobKind: string }).jobKind)).toEqual(['train', 'train', 'train-vqvae', 'train-nglr']);
    expect(nets[2]!.networkParams).toMatchObject({ channels: [8, 16, 32], latentDim: 32, codesY: 256, codesZ: 128 });
    expect(nets[3]!.networkParams).toMatchObject({ causal: 16, hidden: 16, recon: 0 });
    expect(nets[3]!.hyperparameters).toMatchObject({ epochs: 8, stepsPerEpoch: 150, batchSize: 4096 });
    expect(nets[0]!.hyperparameters).toMatchObject({ epochs: 5, batchSize: 8, learningRate: 1e-3, patchSize: 64 });
    expect(nets[1]!.networkParams).toMatchObject({ hidden: 16, layers: 4 });
    expect(nets.every((n) => n.description.length > 10)).toBe(true);
    const env = (await call('training.python', { python })) as { ok: boolean; torchVersion: string; device: string; problem: string | null };
    expect(env).toMatchObject({ ok: true, problem: null });
    expect(env.device).toMatch(/^(cpu|cuda)/);
    const none = (await call('training.python', { python: pythonWithoutTorch() })) as { ok: boolean; problem: string };
    expect(none.ok).toBe(false);
    expect(none.problem).toMatch(/No Python with PyTorch found/);
  });

  it('fieldpack train runs the same job through the store: run id, device, model id and hash, Ctrl-C-free finish', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const progress: string[] = [];
    const ctx: CliRunContext = {
      io: { out: (l) => out.push(l), err: (l) => err.push(l), progress: (_f, m) => progress.push(m), progressDone: () => undefined },
      app: async () => app,
      globals: { python },
    };
    const code = await trainCommand.run(
      ['--network', 'tiny-cnn', '--file', COADS, '--vars', 'AIRT', '--target', 'SST', '--epochs', '2', '--steps-per-epoch', '3', '--patch', '32', '--seed', '3', '--project', String(projectId), '--export', join(tmp.dir, 'cli.fpmodel')],
      ctx,
    );
    expect(code, err.join('\n')).toBe(0);
    expect(err.join('\n')).toMatch(/device: cpu/);
    expect(out.join('\n')).toMatch(/^run \d+ finished: 2 epochs, 6 steps/m);
    expect(out.join('\n')).toMatch(/^model \d+ [0-9a-f]{64}/m);
    expect(existsSync(join(tmp.dir, 'cli.fpmodel'))).toBe(true);
    expect(progress.some((m) => /epoch 2\/2 step 3\/3 .*elapsed/.test(m))).toBe(true);
    const runId = Number(/^run (\d+)/m.exec(out.join('\n'))![1]);
    const d = (await call('runs.get', { id: runId })) as RunDetail;
    expect(d.kind).toBe('train');
    expect(d.projectId).toBe(projectId);
    expect(d.metrics.filter((m) => m.key === 'loss').length).toBe(6);
  }, 120_000);
});

/** A real interpreter that cannot import torch, on any machine: the trainer's Python without site-packages (-S). */
function pythonWithoutTorch(): string {
  const p = join(tmp.dir, 'python-no-torch');
  writeFileSync(p, `#!/bin/sh\nexec ${python} -S "$@"\n`);
  chmodSync(p, 0o755);
  return p;
}

/** The trainer's Python with every CUDA device hidden. */
function pythonWithoutCuda(): string {
  const p = join(tmp.dir, 'python-no-cuda');
  writeFileSync(p, `#!/bin/sh\nCUDA_VISIBLE_DEVICES= exec ${python} "$@"\n`);
  chmodSync(p, 0o755);
  return p;
}
