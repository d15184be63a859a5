/**
 * NGLR end to end with the real trainer (/usr/bin/python3 with torch): `fieldpack train --network nglr` runs a
 * train-nglr job on COADS SST's residuals at NRMSE 1e-5 (loss and validation bits on the run, the model in the
 * store's model folder); the TypeScript reference computes the trainer's features from q and PyTorch's bias on its
 * probe; the model compresses and decompresses the field through the CLI within the target.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNglrModel } from '../../../src-main/core/nn/nglr/model.ts';
import { NglrNetwork, causalFeatures, lorenzo3 } from '../../../src-main/core/nn/nglr/network.ts';
import { Store } from '../../../src-main/services/store/store.ts';
import { fieldpack } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { prepareNglrData } from '../../../src-main/services/training/prepare-nglr.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { COADS, systemTorch } from './real-fields.ts';

const torch = systemTorch();
const skip = 'skip' in torch ? torch.skip : !existsSync(COADS) ? `${COADS} not installed (apt-get install ferret-datasets)` : null;
if (skip) console.warn(`[nglr training tests] SKIPPED: ${skip}`);
const python = 'python' in torch ? torch.python : '/usr/bin/python3';
const tmp = tempDir('fieldpack-nglr-train-');
afterAll(tmp.cleanup);

describe.skipIf(!!skip)('NGLR training (real PyTorch)', () => {
  it('fieldpack train --network nglr records the run and a model the codec uses; the reference matches PyTorch on the probe', async () => {
    const db = join(tmp.dir, 'fp.db');
    const t = await fieldpack('--db', db, '--python', python, 'train', '--network', 'nglr', '--file', COADS, '--vars', 'SST',
      '--bound', 'nrmse:1e-5', '--epochs', '2', '--steps-per-epoch', '20', '--batch-size', '1024', '--threads', '2', '--device', 'cpu');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/data: \d+ points in 1 chunks of SST \[12 x 90 x 180\] at nrmse:1e-5, base none/);
    const m = /model ([0-9a-f]{64}) \((\d+) bytes\) (\S+\.fpnl)/.exec(t.stdout);
    expect(m, t.stdout).not.toBeNull();
    const [, hash, , modelPath] = m!;
    expect(t.stdout).toMatch(/metrics: .*bitsNglr [\d.]+.*bitsLorenzo [\d.]+/);

    const store = Store.open(db);
    try {
      const run = store.listRuns({ kind: 'train-nglr' })[0]!;
      expect(run.status).toBe('finished');
      const detail = store.getRunDetail(run.id);
      expect(detail.metrics.filter((x) => x.key === 'loss').length).toBe(4);
      expect(detail.metrics.filter((x) => x.key === 'val_gain').length).toBe(2);
      expect(detail.tags.model).toBe(hash);
      expect(detail.artifacts.some((a) => a.kind === 'nglr-model' && a.sha256 === hash)).toBe(true);
    } finally {
      store.close();
    }

    // the reference's features from the trainer's q, and its bias from them, against the trainer's probe
    const runDir = join(tmp.dir, 'fp-files', 'runs', '1');
    const probe = JSON.parse(readFileSync(join(runDir, 'out', 'probe.json'), 'utf8')) as { chunk: string; indices: number[]; dScale: number; features: number[][]; bias: number[] };
    const meta = JSON.parse(readFileSync(join(runDir, 'data', 'meta.json'), 'utf8')) as { chunks: { name: string; shape: [number, number, number]; q: string; code: string }[] };
    const c = meta.chunks.find((x) => x.name === probe.chunk)!;
    const [D, H, W] = c.shape;
    const qi = new Int32Array(new Uint8Array(readFileSync(join(runDir, 'data', c.q))).buffer);
    const code = new Uint8Array(readFileSync(join(runDir, 'data', c.code)));
    const q = Float64Array.from(qi);
    const e = new Float64Array(q.length);
    for (let t0 = 0, i = 0; t0 < D; t0++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++, i++) if (code[i]) e[i] = q[i]! - lorenzo3(q, i, t0, h, w, H, W);
    const net = new NglrNetwork(parseNglrModel(new Uint8Array(readFileSync(modelPath!))));
    const f = new Float64Array(13);
    let worstFeature = 0, worstBias = 0;
    probe.indices.forEach((i, k) => {
      const t0 = Math.floor(i / (H * W)), h = Math.floor(i / W) % H, w = i % W;
      causalFeatures(q, e, i, t0, h, w, H, W, lorenzo3(q, i, t0, h, w, H, W), 1 / probe.dScale, f);
      for (let j = 0; j < 13; j++) worstFeature = Math.max(worstFeature, Math.abs(f[j]! - probe.features[k]![j]!));
      worstBias = Math.max(worstBias, Math.abs(net.bias(f, null, 0) - probe.bias[k]!));
    });
    expect(probe.indices.length).toBeGreaterThan(10);
    expect(worstFeature).toBeLessThan(1e-5);
    expect(worstBias).toBeLessThan(1e-4);

    // the trained model compresses and decompresses through the CLI; the target holds
    const out = join(tmp.dir, 'sst.fpk');
    const cz = await fieldpack('compress', COADS, '--var', 'SST', '--bound', 'nrmse:1e-5', '--codec', 'nglr', '--model', modelPath!, '--param', 'fallback=false', '-o', out);
    expect(cz.status, cz.stderr).toBe(0);
    const missing = await fieldpack('decompress', out, '-o', join(tmp.dir, 'x.f32'));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/model nglr \(sha256/);
    const d = await fieldpack('decompress', out, '--model', modelPath!, '-o', join(tmp.dir, 'sst.f32'));
    expect(d.status, d.stderr).toBe(0);
  });
});

describe('NGLR training data: fields with nothing to learn are said as such', () => {
  it('a field with no valid point, or constant under a relative bound, is refused naming that (not "the bound is lossless")', async () => {
    const field = (name: string, values: number[]): Field => ({ name, shape: [4, 4], dims: ['y', 'x'], values: Float32Array.from(values), attrs: {} }) as unknown as Field;
    const dir = join(tmp.dir, 'refused');
    await expect(prepareNglrData(dir, [field('ALLNAN', Array(16).fill(NaN))], [{ mode: 'nrmse', value: 1e-5 }])).rejects.toThrow(/ALLNAN has no valid point/);
    await expect(prepareNglrData(dir, [field('CONST', Array(16).fill(7))], [{ mode: 'rel', value: 1e-3 }])).rejects.toThrow(/CONST is constant \(7 at every valid point\): a rel bound is 0 there/);
  });
});
