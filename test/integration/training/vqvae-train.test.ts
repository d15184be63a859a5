/**
 * The VQ-VAE end to end with the real trainer (/usr/bin/python3 with torch): `fieldpack train --network vqvae` runs a
 * train-vqvae job on COADS maps (loss and validation PSNR on the run, the model in the store's model folder), the
 * TypeScript reference reproduces PyTorch on the trainer's probe, and the model compresses and decompresses a field
 * through the CLI with every point within the bound.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseVqvaeModel } from '../../../src-main/core/nn/vqvae/model.ts';
import { decodeMap } from '../../../src-main/core/nn/vqvae/network.ts';
import { Store } from '../../../src-main/services/store/store.ts';
import { fieldpack, readF32 } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { COADS, systemTorch } from './real-fields.ts';

const torch = systemTorch();
const skip = 'skip' in torch ? torch.skip : !existsSync(COADS) ? `${COADS} not installed (apt-get install ferret-datasets)` : null;
if (skip) console.warn(`[vqvae training tests] SKIPPED: ${skip}`);
const python = 'python' in torch ? torch.python : '/usr/bin/python3';
const tmp = tempDir('fieldpack-vqvae-train-');
afterAll(tmp.cleanup);

describe.skipIf(!!skip)('VQ-VAE training (real PyTorch)', () => {
  it('fieldpack train --network vqvae records the run and a model the codec uses, bit-exact with PyTorch on the probe', async () => {
    const db = join(tmp.dir, 'fp.db');
    const t = await fieldpack('--db', db, '--python', python, 'train', '--network', 'vqvae', '--file', COADS, '--vars', 'SST,AIRT',
      '--epochs', '2', '--patches-per-epoch', '64', '--batch-size', '16', '--patch', '32', '--threads', '2', '--device', 'cpu', '--scaling', 'auto');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/data: 24 maps from SST \[12 x 90 x 180\], AIRT/);
    const m = /model ([0-9a-f]{64}) \((\d+) bytes\) (\S+\.fpvq)/.exec(t.stdout);
    expect(m, t.stdout).not.toBeNull();
    const [, hash, , modelPath] = m!;
    expect(t.stdout).toMatch(/metrics: .*psnr [\d.]+.*codebookUsageY/);

    // the run: loss per step, validation PSNR per epoch, the model as an artifact and a tag
    const store = Store.open(db);
    try {
      const run = store.listRuns({ kind: 'train-vqvae' })[0]!;
      expect(run.status).toBe('finished');
      const detail = store.getRunDetail(run.id);
      expect(detail.metrics.filter((x) => x.key === 'loss').length).toBe(8);
      expect(detail.metrics.filter((x) => x.key === 'val_psnr').length).toBe(2);
      expect(detail.tags.model).toBe(hash);
      expect(detail.artifacts.some((a) => a.kind === 'vqvae-model' && a.sha256 === hash)).toBe(true);
    } finally {
      store.close();
    }

    // the TypeScript reference decodes the trainer's probe indices to PyTorch's x̂ (float32 rounding apart)
    const model = parseVqvaeModel(new Uint8Array(readFileSync(modelPath!)));
    // SST and AIRT are not skewed: auto kept both linear, and the model says so (the codec's scaling=auto reads it)
    expect(model.training).toMatchObject({ scaling: 'auto', logScaledSets: 0, logOffsets: {} });
    const probe = JSON.parse(readFileSync(join(tmp.dir, 'fp-files', 'runs', '1', 'out', 'probe.json'), 'utf8')) as { shape: [number, number]; iz: number[]; iy: number[]; xhat: number[] };
    const x = decodeMap(model, { z: Uint16Array.from(probe.iz), y: Uint16Array.from(probe.iy), h: probe.shape[0], w: probe.shape[1] });
    let worst = 0;
    x.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - probe.xhat[i]!))));
    expect(worst).toBeLessThan(1e-5);

    // the trained model compresses and decompresses through the CLI; the bound holds
    const out = join(tmp.dir, 'sst.fpk');
    const c = await fieldpack('compress', COADS, '--var', 'SST', '--bound', 'abs:0.05', '--codec', 'vqvae', '--model', modelPath!, '--param', 'fallback=false', '-o', out);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/codec vqvae/);
    // without the model at hand, inspect still shows the stream and what it needs
    const i = await fieldpack('inspect', out);
    expect(i.status, i.stderr).toBe(0);
    expect(i.stdout).toMatch(new RegExp(`needs: model VQ-VAE \\(sha256 ${hash!.slice(0, 16)}`));
    const missing = await fieldpack('decompress', out, '-o', join(tmp.dir, 'x.f32'));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/model VQ-VAE/);
    const d = await fieldpack('decompress', out, '--model', modelPath!, '-o', join(tmp.dir, 'sst.f32'));
    expect(d.status, d.stderr).toBe(0);
    expect(readF32(join(tmp.dir, 'sst.f32')).length).toBe(12 * 90 * 180);
    // the store's models are found by hash, as the help says, though compress and decompress do not open the store
    const byHash = join(tmp.dir, 'sst-by-hash.fpk');
    const ch = await fieldpack('--db', db, 'compress', COADS, '--var', 'SST', '--bound', 'abs:0.05', '--codec', 'vqvae', '--model', hash!, '--param', 'fallback=false', '-o', byHash);
    expect(ch.status, ch.stderr).toBe(0);
    expect(readFileSync(byHash).equals(readFileSync(out))).toBe(true);
    const dh = await fieldpack('--db', db, 'decompress', byHash, '-o', join(tmp.dir, 'sst-by-hash.f32'));
    expect(dh.status, dh.stderr).toBe(0);
    // a model file given by any name (compress takes it so, and so does decompress)
    const renamed = join(tmp.dir, 'my-model.bin');
    copyFileSync(modelPath!, renamed);
    const dr = await fieldpack('decompress', out, '--model', renamed, '-o', join(tmp.dir, 'sst-renamed.f32'));
    expect(dr.status, dr.stderr).toBe(0);
  }, 300_000);

  it('one map leaves none for validation: said, and its metrics are not measured (they read 0, a perfect model)', async () => {
    const nc = join(tmp.dir, 'one-map.nc');
    const made = spawnSync(python, ['-c', `
import sys, numpy as np, netCDF4
d = netCDF4.Dataset(sys.argv[1], 'w'); d.createDimension('y', 24); d.createDimension('x', 32)
v = d.createVariable('A', 'f4', ('y', 'x')); v[:] = np.add.outer(np.arange(24.0), np.sin(np.arange(32.0) / 5)); d.close()
`, nc], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const t = await fieldpack('--db', join(tmp.dir, 'one.db'), '--python', python, 'train', '--network', 'vqvae', '--file', nc, '--vars', 'A',
      '--epochs', '1', '--patches-per-epoch', '8', '--batch-size', '4', '--patch', '16', '--channels', '4,8,8', '--latent-dim', '8', '--codes', '16,8', '--threads', '1', '--device', 'cpu');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/1 training \/ 0 validation maps/);
    expect(t.stderr).toMatch(/data: too few to hold any out for validation: the validation metrics are not measured/);
    expect(t.stderr).toMatch(/epoch 1\/1: loss [\d.]+, no validation/);
    expect(t.stdout).not.toMatch(/\b(valLoss|mse|codebookUsageY) 0\.000/);
  }, 120_000);
});

describe.skipIf(!existsSync('/usr/bin/python3'))('VQ-VAE trainer scaling (numpy only)', () => {
  it('auto log-scales a non-negative, skewed set (codec rule: skewness >= 2), not a symmetric one; log forces it; linear never', async () => {
    const dir = join(tmp.dir, 'scaling', 'data');
    mkdirSync(dir, { recursive: true });
    const n = 2 * 32 * 32;
    const skewed = Float32Array.from({ length: n }, (_, i) => Math.max(0, Math.sin(i / 37) * Math.sin(i / 113) - 0.5) ** 2); // rain-like: mostly 0, skewness 4.2
    const symmetric = Float32Array.from({ length: n }, (_, i) => 280 + 8 * Math.sin(i / 37));
    writeFileSync(join(dir, 'q.f32'), new Uint8Array(skewed.buffer));
    writeFileSync(join(dir, 't.f32'), new Uint8Array(symmetric.buffer));
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ version: 2, kind: 'maps', sets: [{ name: 'Q', file: 'q.f32', shape: [2, 32, 32], mask: null }, { name: 'T', file: 't.f32', shape: [2, 32, 32], mask: null }] }));
    const script = [
      'import json, sys, numpy as np',
      'from fieldpack_trainer.vqvae_train import load_maps',
      'out = {}',
      'for mode in ("auto", "log", "linear"):',
      '    meta, names, tr, va, sk, total, logs = load_maps(sys.argv[1], 0.0, 32, mode)',
      '    out[mode] = {"logs": logs, "first": float(tr[0][0][0, 0]), "std": float(np.std(tr[0][0]))}',
      'print(json.dumps(out))',
    ].join('\n');
    const r = spawnSync('/usr/bin/python3', ['-c', script, dir], { env: { ...process.env, PYTHONPATH: join(import.meta.dirname, '..', '..', '..', 'resources', 'trainer') }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { logs: Record<string, number>; first: number; std: number }>;
    const span = Math.max(...skewed) - Math.min(...skewed);
    expect(Object.keys(out.auto!.logs)).toEqual(['Q']);
    expect(out.auto!.logs.Q).toBeCloseTo(1e-3 * span, 6); // the minimum is 0: offset = 1e-3 x range
    expect(Object.keys(out.log!.logs).sort()).toEqual(['Q', 'T']);
    expect(out.log!.logs.T).toBe(0); // positive, far above the floor: no offset
    expect(out.linear!.logs).toEqual({});
    // standardised either way (per map)
    for (const m of ['auto', 'linear']) expect(out[m]!.std).toBeCloseTo(1, 3);
    expect(out.auto!.first).not.toBeCloseTo(out.linear!.first, 2);
  });
});

describe('VQ-VAE training data', () => {
  it('maps smaller than 16 x 16 are refused before any training, naming the field (a 2 x 3 field made a model of nothing)', async () => {
    const { prepareTrainingMaps } = await import('../../../src-main/services/training/prepare-maps.ts');
    const dir = join(tmp.dir, 'tiny-maps');
    mkdirSync(dir, { recursive: true });
    const tiny = { name: 'T', shape: [4, 2, 3], dims: ['t', 'y', 'x'], values: new Float32Array(24).map((_, i) => i), sourceDtype: 'float32' as const, attributes: {} };
    await expect(prepareTrainingMaps(dir, [tiny])).rejects.toThrow(/T's maps are 2 x 3: the VQ-VAE trains on maps of at least 16 x 16/);
  });
});
