/** Deterministic seeds (same data + config -> the same model, byte for byte, on CPU) and a 3D CFNN. */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runReference } from '../../../src-main/core/nn/reference.ts';
import { maxRelDiff } from '../../../src-main/services/inference/index.ts';
import { loadModelDir, startTrainingFromFields } from '../../../src-main/services/training/index.ts';
import { readFields } from '../../../src-main/services/training/read-fields.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { WRF, linkedFields, systemTorch } from './real-fields.ts';

const torch = systemTorch();
const skip = 'skip' in torch ? torch.skip : null;
const linked = await linkedFields(2);
const tmp = tempDir('fieldpack-det-');
afterAll(() => tmp.cleanup());

describe.skipIf(!!skip)('trainer determinism and 3D (needs python3-torch at /usr/bin/python3)', () => {
  it.skipIf(!WRF)('trains a 3D CFNN on WRF (QVAPOR, P -> T); reference conv3d matches PyTorch within 1e-5 (needs the WRF Katrina file)', async () => {
    const fields = await readFields(WRF!, ['QVAPOR', 'P', 'T']);
    const h = await startTrainingFromFields({
      runDir: join(tmp.dir, 'wrf'), python: '/usr/bin/python3', pythonFallback: false, fields, spatialDims: 3,
      config: { network: 'cfnn', inputs: ['QVAPOR', 'P'], target: 'T', epochs: 1, maxStepsPerEpoch: 2, patchSize: 16, batchSize: 2, device: 'cpu', networkParams: { hidden: 8, layers: 3 } },
    });
    const r = await h.result;
    expect(r.status, JSON.stringify(r.error)).toBe('finished');
    const m = await loadModelDir(join(tmp.dir, 'wrf', 'out'));
    expect(m.spec.ndim).toBe(3);
    expect(m.inputs.map((f) => `${f.var}:${f.axis}`)).toEqual(['QVAPOR:0', 'QVAPOR:1', 'QVAPOR:2', 'P:0', 'P:1', 'P:2']);
    expect(m.outputs.map((f) => `${f.var}:${f.transform}:${f.axis}`)).toEqual(['T:backward-diff:0', 'T:backward-diff:1', 'T:backward-diff:2']);
    const p = m.probe!;
    expect(maxRelDiff(runReference(m.spec, m.weights, p.input, p.inputShape.slice(2)), p.output)).toBeLessThan(1e-5);
  });

  it.skipIf(!linked)('the same data and configuration give the same model bytes (content hash) twice (needs COADS or WRF)', async () => {
    const f = linked!;
    const hashes: string[] = [];
    for (const i of [0, 1]) {
      const h = await startTrainingFromFields({
        runDir: join(tmp.dir, `det${i}`), python: '/usr/bin/python3', pythonFallback: false, fields: [f.anchor, f.target],
        config: { network: 'tiny-cnn', inputs: [f.anchor.name], target: f.target.name, epochs: 1, maxStepsPerEpoch: 3, patchSize: 24, batchSize: 2, seed: 42, device: 'cpu', exportOnnx: false, probe: false },
      });
      const r = await h.result;
      expect(r.status).toBe('finished');
      hashes.push(r.contentHash!);
    }
    expect(hashes[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(hashes[1]).toBe(hashes[0]);
  });
});
