/**
 * The cross-field encoder's estimates: the network's predictions over the estimation sample alone are the bits the
 * whole field's give there (2D and 3D networks, two conv layers, masked anchors, fields with and without sample
 * dims), mode 'auto' keeps the smallest of the modes encoded in full, and the Lorenzo hybrids use the line context.
 */
import { describe, expect, it } from 'vitest';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { cropBlock } from '../../../src-main/core/compressors/classic/codec.ts';
import {
  type CrossfieldNetwork, ESTIMATE_VALUES, decodeCrossfield, estimationBlock, encodeCrossfield, estimateModes, predictGridDiffs, readCrossfieldStream, sampleGridDiffs,
} from '../../../src-main/core/compressors/crossfield/codec.ts';
import { parseNnSpec } from '../../../src-main/core/nn/spec.ts';
import { chunkBytes, chunkPayload, readHeader } from '../../../src-main/core/codec/stream/format.ts';
import { ByteReader } from '../../../src-main/core/codec/bytes.ts';
import { ENTROPY_MS_LINE_SIGNS } from '../../../src-main/core/codec/envelope.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** conv(2 anchors x ndim diffs -> 4) + leaky ReLU + conv(4 -> ndim), random weights: receptive radius 2 */
function twoLayerNet(ndim: 2 | 3, anchors: string[], seed = 3): CrossfieldNetwork {
  const r = rng(seed);
  const cin = anchors.length * ndim;
  const kvol = 3 ** ndim;
  const w1 = 4 * cin * kvol;
  const w2 = ndim * 4 * kvol;
  const weightCount = w1 + 4 + w2 + ndim;
  const spec = parseNnSpec({
    format: 'fieldpack-nn', version: 1, ndim, dtype: 'float32', layout: ndim === 2 ? 'NCHW' : 'NCDHW', inChannels: cin, outChannels: ndim, weightCount,
    layers: [
      { op: 'conv', inChannels: cin, outChannels: 4, kernel: new Array(ndim).fill(3), weight: 0, bias: w1 },
      { op: 'leaky_relu', negativeSlope: 0.0625 },
      { op: 'conv', inChannels: 4, outChannels: ndim, kernel: new Array(ndim).fill(3), weight: w1 + 4, bias: w1 + 4 + w2 },
    ],
  });
  return { spec, weights: Float32Array.from({ length: weightCount }, () => r() * 0.5), anchors, inputFill: new Array(cin).fill(0.25) };
}

function field(shape: number[], seed: number, masked: boolean) {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 37) * 10 + r());
  const mask = masked ? Uint8Array.from({ length: n }, (_, i) => (i % 211 < 30 ? 0 : 1)) : undefined;
  return { values, ...(mask ? { mask } : {}) };
}

describe('cross-field estimates', () => {
  it.each([
    { shape: [6, 90, 120], ndim: 2 as const, masked: true },
    { shape: [300, 200], ndim: 2 as const, masked: false },
    { shape: [2, 12, 40, 60], ndim: 3 as const, masked: true },
  ])('the network over the estimation sample equals the whole field\'s there, bit for bit ($shape, $ndim D)', ({ shape, ndim, masked }) => {
    expect(shape.reduce((a, b) => a * b, 1)).toBeGreaterThan(1.5 * ESTIMATE_VALUES); // a real crop
    const anchors = { A: field(shape, 1, masked), B: field(shape, 2, false) };
    const net = twoLayerNet(ndim, ['A', 'B']);
    const abs = 0.01;
    const whole = predictGridDiffs(net, anchors, shape, abs);
    const sample = sampleGridDiffs(net, anchors, shape, abs);
    const block = estimationBlock(shape);
    whole.forEach((d, k) => {
      const cropped = Int32Array.from(cropBlock(Float64Array.from(d), null, shape, block.start, block.size).values);
      expect(Buffer.from(sample[k]!.buffer).equals(Buffer.from(cropped.buffer))).toBe(true);
    });
  });

  it('mode auto encodes the modes estimated near the smallest and keeps the smallest of all', () => {
    const shape = [6, 90, 120];
    const r = rng(9);
    const anchor = field(shape, 4, false).values;
    const target = Float32Array.from(anchor, (a, i) => 280 + 0.8 * a + 0.01 * (i % 120) + r() * 0.05);
    const net = twoLayerNet(2, ['A']);
    const abs = 0.02;
    const dq = predictGridDiffs(net, { A: { values: anchor } }, shape, abs);
    const input = {
      field: { values: target, shape }, bound: { mode: 'abs' as const, value: abs }, net, netHash: 'n', anchors: [{ var: 'A', hash: 'a' }], dq,
      anchorRecons: [{ values: anchor }],
    };
    const est = estimateModes(input, ['weighted', 'blend', 'interp'], abs);
    // the same estimates from the sample's predictions alone
    expect(estimateModes(input, ['weighted', 'blend', 'interp'], abs, sampleGridDiffs(net, { A: { values: anchor } }, shape, abs))).toEqual(est);
    const auto = encodeCrossfield({ ...input, mode: 'auto' }, zstdBackend);
    expect(auto.estimates).toEqual(est);
    const full = (['weighted', 'blend', 'interp'] as const).map((mode) => encodeCrossfield({ ...input, mode }, zstdBackend).bytes.length);
    expect(auto.bytes.length).toBe(Math.min(...full));
    expect(Object.keys(auto.sizes).length).toBeLessThanOrEqual(3);
  });

  it('the Lorenzo hybrids code with the line context (rows) where nothing is masked; streams decode within the bound', () => {
    const shape = [6, 90, 120];
    const anchor = field(shape, 5, false).values;
    const r = rng(11);
    const target = Float32Array.from(anchor, (a, i) => 0.8 * a + 0.01 * (i % 120) + r() * 0.05);
    const net = twoLayerNet(2, ['A']);
    const abs = 0.02;
    const dq = predictGridDiffs(net, { A: { values: anchor } }, shape, abs);
    for (const mode of ['weighted', 'blend'] as const) {
      const enc = encodeCrossfield({
        field: { values: target, shape }, bound: { mode: 'abs', value: abs }, net, netHash: 'n', anchors: [{ var: 'A', hash: 'a' }], dq, anchorRecons: [{ values: anchor }], mode,
      }, zstdBackend);
      const h = readHeader(enc.bytes);
      const rd = new ByteReader(chunkPayload(h, 0, chunkBytes(h, enc.bytes, 0)), 'chunk 0');
      const flags = rd.u8('flags');
      expect(flags).toBe(8); // the network only: no mask, no value lists
      rd.bytes(rd.varint('network length'), 'network');
      rd.varint('n');
      expect(rd.u8('coder')).toBe(ENTROPY_MS_LINE_SIGNS);
      const out = decodeCrossfield(readCrossfieldStream(enc.bytes), enc.bytes, dq, [{ values: anchor }]).field.values;
      let over = 0;
      for (let i = 0; i < out.length; i++) if (Math.abs(out[i]! - target[i]!) > abs) over++;
      expect(over).toBe(0);
    }
  });
});
