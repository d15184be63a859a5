/**
 * The decoding contract (docs/decoding-contract.md): a network output that feeds a codec's prediction
 * is computed by the reference path only, and is the same bytes for any thread count, tiling, worker or
 * run; onnxruntime agrees with it (and with PyTorch) within 1e-5 but is never used for decoding.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFeatures } from '../../../src-main/core/nn/features.ts';
import { quantizeToGrid } from '../../../src-main/core/nn/quantize.ts';
import { runReference, runReferenceTiled } from '../../../src-main/core/nn/reference.ts';
import { decodeEmbeddedNetwork, encodeEmbeddedNetwork } from '../../../src-main/core/nn/embed.ts';
import { InferencePool, maxRelDiff, verifyModel } from '../../../src-main/services/inference/index.ts';
import { loadModelDir } from '../../../src-main/services/models/models.ts';
import { linkedFields } from '../../integration/training/real-fields.ts';
import { sameBytes } from './helpers.ts';

const FIXTURE = new URL('../../fixtures/models/cfnn-coads/', import.meta.url).pathname;
const golden = (await import('../../fixtures/models/cfnn-coads/golden.json', { with: { type: 'json' } })).default as { contentHash: string; referenceOutputSha256: string };
const model = await loadModelDir(FIXTURE);
const sha = (a: Float32Array) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

/** The network input for one COADS month (AIRT differences), or a smooth synthetic field if COADS is absent. */
async function input(): Promise<{ x: Float32Array; spatial: number[] }> {
  const spatial = [90, 180];
  const f = await linkedFields(1);
  const src = f
    ? { values: f.anchor.values, mask: f.anchor.mask }
    : { values: Float32Array.from({ length: 90 * 180 }, (_, i) => 20 * Math.sin(i / 180 / 9) + Math.cos((i % 180) / 13)) };
  return { x: buildFeatures(model.inputs, model.manifest.contract.inputFill, spatial, () => src), spatial };
}

const pools: InferencePool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});
const pool = (threads: number) => {
  const p = new InferencePool({ threads });
  pools.push(p);
  return p;
};

describe('decoding contract', () => {
  it('the fixture model is intact and its reference output still has the golden hash', () => {
    expect(model.manifest.contentHash).toBe(golden.contentHash);
    const out = runReference(model.spec, model.weights, model.probe!.input, model.probe!.inputShape.slice(2));
    expect(sha(out)).toBe(golden.referenceOutputSha256);
  });

  it('reference and onnxruntime both match PyTorch within 1e-5 on the probe', async () => {
    const v = await verifyModel(model, { pool: pool(1) });
    expect(v.referenceVsTorch).toBeLessThan(1e-5);
    expect(v.onnxVsTorch!).toBeLessThan(1e-5);
    expect(v.referenceVsOnnx!).toBeLessThan(1e-5);
    expect(v.provider).toBe('cpu');
    expect(v.ok).toBe(true);
  });

  it('identical bytes with 1 and 2 worker threads, any tiling, in-process, and a fresh pool', async () => {
    const { x, spatial } = await input();
    const inProcess = runReference(model.spec, model.weights, x, spatial);
    const one = await pool(1).predict(model, x.slice(), spatial, { backend: 'reference', tile: 64 });
    const two = await pool(2).predict(model, x.slice(), spatial, { backend: 'reference', tile: 32 });
    const twoOther = await pool(2).predict(model, x.slice(), spatial, { backend: 'reference', tile: [17, 180] });
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(two.tiles).toBeGreaterThan(2);
    expect(one.provider).toBe('reference');
    for (const r of [one.output, two.output, twoOther.output, runReferenceTiled(model.spec, model.weights, x, spatial, 45)]) {
      expect(sameBytes(r, inProcess)).toBe(true);
    }
    // The codec-facing form (integers on the grid of step 2 x bound) is therefore identical as well.
    const bound = 1e-3;
    const q = quantizeToGrid(inProcess, bound);
    expect(Buffer.compare(Buffer.from(quantizeToGrid(two.output, bound).buffer), Buffer.from(q.buffer))).toBe(0);
  });

  it('onnxruntime agrees with the reference within 1e-5 (tiled and untiled), but is not the decoding path', async () => {
    const { x, spatial } = await input();
    const ref = runReference(model.spec, model.weights, x, spatial);
    const ortWhole = await pool(1).predict(model, x.slice(), spatial, { backend: 'onnx', tile: 1000 });
    const ortTiled = await pool(2).predict(model, x.slice(), spatial, { backend: 'onnx', tile: 32 });
    expect(ortWhole.provider).toBe('cpu');
    expect(maxRelDiff(ortWhole.output, ref)).toBeLessThan(1e-5);
    expect(maxRelDiff(ortTiled.output, ref)).toBeLessThan(1e-5);
    expect(maxRelDiff(ortTiled.output, ortWhole.output)).toBeLessThan(1e-5); // no seams
  });

  it('a network read back from its stream embedding predicts the same bytes', () => {
    const { spec, weights } = decodeEmbeddedNetwork(encodeEmbeddedNetwork(model.spec, model.weights));
    const p = model.probe!;
    expect(sameBytes(runReference(spec, weights, p.input, p.inputShape.slice(2)), runReference(model.spec, model.weights, p.input, p.inputShape.slice(2)))).toBe(true);
  });
});
