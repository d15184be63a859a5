/**
 * Training end to end with the real trainer (Debian's python3-torch at /usr/bin/python3; CI installs it):
 * a tiny CNN trains a few steps on a real field, exports ONNX, which onnxruntime-node loads and runs to
 * PyTorch's output within 1e-5; model files round-trip through .fpmodel; stop, crash and bad
 * configuration end as they should.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { runReference } from '../../../src-main/core/nn/reference.ts';
import { InferencePool, maxRelDiff, modelForRegistry, predictFields } from '../../../src-main/services/inference/index.ts';
import {
  checkModelFolderOutput, exportModelFile, importModelFile, loadModelDir, modelRow, prepareTrainingData, startTraining, startTrainingFromFields, type TrainerEvent, type TrainingProgress,
} from '../../../src-main/services/training/index.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { copyFolderAtomically } from '../../../src-main/services/files/atomic.ts';
import { linkedFields, systemTorch } from './real-fields.ts';

const torch = systemTorch();
const fields = await linkedFields(4);
const skip = 'skip' in torch ? torch.skip : !fields ? 'no real field file (COADS or WRF) on this machine' : null;
if (skip) console.warn(`[training tests] SKIPPED: ${skip}`);
const python = 'python' in torch ? torch.python : '/usr/bin/python3';

const tmp = tempDir('fieldpack-train-');
const pool = new InferencePool({ threads: 2 });
afterAll(async () => {
  await pool.close();
  tmp.cleanup();
});

let n = 0;
async function prepared(): Promise<string> {
  const runDir = join(tmp.dir, `run${n++}`);
  await prepareTrainingData({ runDir, fields: [fields!.anchor, fields!.target], source: { file: fields!.source } });
  return runDir;
}

describe.skipIf(!!skip)('training runs (PyTorch trainer; needs python3-torch and COADS or WRF)', () => {
  let runDir = '';
  let result: Awaited<ReturnType<typeof startTraining>>['result'] extends Promise<infer R> ? R : never;
  const events: TrainerEvent[] = [];
  const progress: TrainingProgress[] = [];

  beforeAll(async () => {
    runDir = join(tmp.dir, 'main-run');
    const h = await startTrainingFromFields({
      runDir, python, pythonFallback: false, fields: [fields!.anchor, fields!.target], source: { file: fields!.source },
      config: { network: 'tiny-cnn', inputs: [fields!.anchor.name], target: fields!.target.name, epochs: 2, maxStepsPerEpoch: 4, batchSize: 4, patchSize: 32, device: 'cpu' },
      onEvent: (e) => events.push(e),
      onProgress: (p) => progress.push(p),
    });
    result = await h.result;
  }, 120_000);

  it('finishes, reporting device, steps, validation, checkpoints and artifacts', () => {
    expect(result.status, JSON.stringify(result.error)).toBe('finished');
    const kinds = events.map((e) => e.event);
    expect(kinds[0]).toBe('started');
    expect(kinds).toContain('device');
    expect(kinds.filter((k) => k === 'step').length).toBe(8);
    expect(kinds.filter((k) => k === 'validation').length).toBe(2);
    expect(kinds.filter((k) => k === 'checkpoint').length).toBe(2);
    expect(kinds.at(-1)).toBe('finished');
    expect(result.device).toEqual({ device: 'cpu', name: expect.any(String) });
    expect(result.steps).toBe(8);
    expect(typeof result.metrics.valRmse).toBe('number');
    for (const k of ['onnx', 'weights', 'spec', 'manifest', 'checkpoint', 'probe']) expect(existsSync(result.artifacts[k]!), k).toBe(true);
    expect(progress.at(-1)!.fraction).toBe(1);
    expect(progress.at(-1)!.etaS).toBe(0);
    expect(progress[2]!.message).toMatch(/^epoch 1\/2 step 3\/4 loss /);
  });

  it('exports ONNX that onnxruntime-node runs to PyTorch\'s output within 1e-5 (and so does the reference)', async () => {
    const model = await loadModelDir(join(runDir, 'out'));
    expect(model.manifest.contentHash).toBe(result.contentHash);
    const p = model.probe!;
    const ort = await pool.predict(model, p.input.slice(), p.inputShape.slice(2), { backend: 'onnx' });
    expect(ort.provider).toBe('cpu');
    expect(maxRelDiff(ort.output, p.output)).toBeLessThan(1e-5);
    expect(maxRelDiff(runReference(model.spec, model.weights, p.input, p.inputShape.slice(2)), p.output)).toBeLessThan(1e-5);
    // Predicting the target of a whole month from its anchor field works through the same contract.
    const month = 90 * 180;
    const r = await predictFields(model, { [fields!.anchor.name]: { values: fields!.anchor.values.subarray(0, month), mask: fields!.anchor.mask?.subarray(0, month) } }, [90, 180], { pool });
    expect(r.output.length).toBe(month);
    expect(r.output.every(Number.isFinite)).toBe(true);
  });

  it('packs the model into one .fpmodel file and imports it back, with its registry row', async () => {
    const file = join(tmp.dir, 'm.fpmodel');
    const exp = await exportModelFile(join(runDir, 'out'), file);
    expect(exp.contentHash).toBe(result.contentHash);
    // an export replaces an exported model (again, the same name), never a file of the user's
    await exportModelFile(join(runDir, 'out'), file);
    const mine = join(tmp.dir, 'mine.fpmodel');
    writeFileSync(mine, 'my own data');
    await expect(exportModelFile(join(runDir, 'out'), mine)).rejects.toThrow(/mine\.fpmodel exists and is not an exported Fieldpack model/);
    expect(readFileSync(mine, 'utf8')).toBe('my own data');
    const imported = await importModelFile(file, join(tmp.dir, 'models'));
    expect(imported.manifest).toEqual((await loadModelDir(join(runDir, 'out'))).manifest);
    expect(existsSync(join(tmp.dir, 'models', exp.contentHash, 'model.onnx'))).toBe(true);
    const row = modelRow(imported.manifest, imported.dir);
    expect(row).toMatchObject({ content_hash: exp.contentHash, network_type: 'tiny-cnn', network_version: 1, ndim: 2 });
    expect(row.size_bytes).toBeGreaterThan(1000);
    expect(JSON.parse(row.inputs_json)).toEqual([{ var: fields!.anchor.name, transform: 'values', axis: null }]);
    const reg = await modelForRegistry(join(runDir, 'out'), { pool });
    expect(reg.verification!.ok).toBe(true);
    expect(reg.row.content_hash).toBe(exp.contentHash);
    expect(reg.row.path).toBe(join(runDir, 'out'));
    // A flipped byte is caught.
    const bytes = readFileSync(file);
    bytes[bytes.length - 10]! ^= 0xff;
    writeFileSync(file, bytes);
    await expect(importModelFile(file)).rejects.toThrow(/corrupt|mismatch/);
    // crafted headers: nothing in the models folder changes (one naming an imported model's hash replaced its folder
    // before its own content was checked; one without the ONNX file its manifest lists replaced a whole one)
    const models = join(tmp.dir, 'models');
    const folder = join(models, exp.contentHash);
    const before = readdirSync(folder).map((f) => [f, readFileSync(join(folder, f)).toString('base64')]);
    const good = readFileSync(file);
    good[good.length - 10]! ^= 0xff; // the flip above, undone
    const crafted = (edit: (h: { manifest: { contentHash: string }; entries: { name: string }[] }) => unknown) => {
      const hl = good.readUInt32LE(12);
      const header = JSON.parse(good.subarray(16, 16 + hl).toString('utf8'));
      const text = Buffer.from(JSON.stringify(edit(header) ?? header));
      const head = Buffer.alloc(16);
      good.copy(head, 0, 0, 12);
      head.writeUInt32LE(text.length, 12);
      const out = join(tmp.dir, `crafted-${Math.random().toString(36).slice(2)}.fpmodel`);
      writeFileSync(out, Buffer.concat([head, text, good.subarray(16 + hl)]));
      return out;
    };
    await expect(importModelFile(crafted((h) => void (h.entries = h.entries.filter((e) => e.name !== 'onnx'))), models)).rejects.toThrow(/the manifest lists onnx, which the file does not hold/);
    await expect(importModelFile(crafted((h) => void (h.manifest.contentHash = '0'.repeat(64))), models)).rejects.toThrow(/content hash mismatch/);
    await expect(importModelFile(crafted(() => ({ manifest: {}, entries: null })), models)).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringMatching(/unreadable header/) });
    await expect(importModelFile(crafted((h) => void (h.entries = [null as never])), models)).rejects.toMatchObject({ code: 'BAD_FILE' });
    expect(readdirSync(models)).toEqual([exp.contentHash]);
    expect(readdirSync(folder).map((f) => [f, readFileSync(join(folder, f)).toString('base64')])).toEqual(before);
    // the same model imported again changes nothing
    expect((await importModelFile(crafted(() => undefined), models)).dir).toBe(folder);
  });

  it('a model folder is copied whole or not at all: train --out\'s folder checked before training, an incomplete copy replaced', async () => {
    const src = join(runDir, 'out');
    // --out: a new or empty folder; a file or a folder of the user's files is refused (and kept)
    const userFile = join(tmp.dir, 'notes.txt');
    writeFileSync(userFile, 'mine');
    await expect(checkModelFolderOutput(userFile)).rejects.toThrow(/notes\.txt is a file: give a new or empty folder/);
    const busy = join(tmp.dir, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'manifest.json'), 'my own manifest');
    await expect(checkModelFolderOutput(busy)).rejects.toThrow(/busy already holds manifest\.json: give a new or empty folder/);
    await expect(copyFolderAtomically(src, busy)).rejects.toThrow(/holds files/);
    expect(readFileSync(join(busy, 'manifest.json'), 'utf8')).toBe('my own manifest');
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty);
    for (const dir of [empty, join(tmp.dir, 'fresh')]) {
      await checkModelFolderOutput(dir);
      await copyFolderAtomically(src, dir);
      expect((await loadModelDir(dir)).manifest.contentHash).toBe(result.contentHash);
    }
    // an unpacked model whose weights went missing is unpacked again whole (its manifest alone passed for it)
    const file = join(tmp.dir, 'whole.fpmodel');
    await exportModelFile(src, file);
    const models = join(tmp.dir, 'unpacked');
    const first = await importModelFile(file, models);
    rmSync(join(first.dir!, 'weights.bin'));
    await expect(loadModelDir(first.dir!)).rejects.toThrow(/weights/);
    await importModelFile(file, models);
    expect((await loadModelDir(first.dir!)).manifest.contentHash).toBe(result.contentHash);
    expect(readdirSync(models)).toEqual([result.contentHash]);
  });

  it('a stop in the middle ends as stopped, with the last checkpoint and a usable model', async () => {
    const dir = await prepared();
    let stopAsked = false;
    const ac = new AbortController();
    const h = await startTraining({
      runDir: dir, python, pythonFallback: false, signal: ac.signal,
      config: { network: 'cfnn', inputs: [fields!.anchor.name], target: fields!.target.name, epochs: 500, maxStepsPerEpoch: 3, batchSize: 2, patchSize: 16, device: 'cpu' },
      onEvent: (e) => {
        if (e.event === 'step' && e.globalStep === 5 && !stopAsked) {
          stopAsked = true;
          ac.abort();
        }
      },
    });
    const r = await h.result;
    expect(r.status).toBe('stopped');
    expect(r.steps).toBeGreaterThanOrEqual(5);
    expect(r.steps).toBeLessThan(30);
    expect(existsSync(r.artifacts.checkpoint!)).toBe(true);
    expect(h.events.some((e) => e.event === 'stopped' && e.reason === 'stop-file')).toBe(true);
    const m = await loadModelDir(join(dir, 'out'));
    expect(m.manifest.training.stopped).toBe(true);
  });

  it('validation with no valid point held out is not measured (null), not a perfect 0; nor an NRMSE over no range', async () => {
    // the held-out last step all fill
    const { anchor, target } = fields!;
    const step = target.values.length / target.shape[0]!;
    const mask = Uint8Array.from(target.mask ?? new Uint8Array(target.values.length).fill(1), (m, i) => (i >= target.values.length - step ? 0 : m));
    const h = await startTrainingFromFields({
      runDir: join(tmp.dir, 'no-validation'), python, pythonFallback: false, fields: [anchor, { ...target, mask }], source: { file: fields!.source },
      config: { network: 'tiny-cnn', inputs: [anchor.name], target: target.name, epochs: 1, maxStepsPerEpoch: 2, batchSize: 2, patchSize: 32, device: 'cpu', exportOnnx: false, probe: false },
    });
    const r = await h.result;
    expect(r.status, JSON.stringify(r.error)).toBe('finished');
    expect(r.metrics).toMatchObject({ valLoss: null, valRmse: null, valNrmse: null, valMaxAbsError: null });
    expect(typeof r.metrics.trainLoss).toBe('number');
  }, 60_000);

  it('a bad configuration is a clear INVALID_ARGUMENT before anything starts', async () => {
    const dir = await prepared();
    const err = await startTraining({ runDir: dir, python, config: { network: 'resnet-9000' as 'cfnn', inputs: [], target: 'SST', epochs: 0 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FieldpackError);
    expect((err as FieldpackError).code).toBe('INVALID_ARGUMENT');
    expect((err as FieldpackError).message).toMatch(/network/);
    expect((err as FieldpackError).message).toMatch(/inputs/);
    expect((err as FieldpackError).message).toMatch(/epochs/);
  });

  it('a configuration the trainer rejects ends as failed with the trainer\'s message', async () => {
    const dir = await prepared();
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ network: 'tiny-cnn', inputs: ['NOPE'], target: fields!.target.name, epochs: 1 }));
    const r = await (await startTraining({ runDir: dir, python })).result;
    expect(r.status).toBe('failed');
    expect(r.error!.code).toBe('INVALID_ARGUMENT');
    expect(r.error!.message).toMatch(/variable 'NOPE' is not in the training data/);
  });

  it('a crashing trainer ends as failed with its stderr', async () => {
    const dir = await prepared();
    const fake = join(tmp.dir, 'fake-trainer', 'fieldpack_trainer');
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, '__init__.py'), '');
    writeFileSync(join(fake, '__main__.py'), 'import json, sys\nprint(json.dumps({"event": "log", "t": 0, "level": "info", "message": "hi"}), flush=True)\nraise RuntimeError("segfault-ish boom in the trainer")\n');
    writeFileSync(join(dir, 'run.json'), '{}');
    const r = await (await startTraining({ runDir: dir, python, trainerDir: join(tmp.dir, 'fake-trainer') })).result;
    expect(r.status).toBe('failed');
    expect(r.error!.code).toBe('INTERNAL');
    expect(r.error!.message).toMatch(/exited with code 1: .*RuntimeError: segfault-ish boom in the trainer/s);
    expect(r.exitCode).toBe(1);
  });
});
