import { describe, expect, it } from 'vitest';
import { runReference, runReferenceTiled } from '../../../src-main/core/nn/reference.ts';
import { parseNnSpec, checkWeights } from '../../../src-main/core/nn/spec.ts';
import { planTiles } from '../../../src-main/core/nn/tiling.ts';
import { detTanh } from '../../../src-main/core/nn/det-math.ts';
import { backwardDifference, buildFeatures } from '../../../src-main/core/nn/features.ts';
import { quantizeToGrid } from '../../../src-main/core/nn/quantize.ts';
import { decodeEmbeddedNetwork, encodeEmbeddedNetwork } from '../../../src-main/core/nn/embed.ts';
import { nnKernels } from '../../../src-main/core/nn/wasm-kernels.ts';
import { randomInput, randomNet, sameBytes } from './helpers.ts';

/** Straightforward double-precision convolution net, to check the reference's semantics. */
function naive(spec: ReturnType<typeof randomNet>['spec'], w: Float32Array, x: Float32Array, sp: number[]): Float64Array {
  const [D, H, W] = sp.length === 2 ? [1, sp[0]!, sp[1]!] : (sp as [number, number, number]);
  const P = D * H * W;
  let a = Float64Array.from(x);
  let c = spec.inChannels;
  for (const l of spec.layers) {
    if (l.op === 'affine') a = a.map((v, i) => v * w[l.scale + Math.floor(i / P)]! + w[l.shift + Math.floor(i / P)]!);
    else if (l.op === 'relu') a = a.map((v) => Math.max(0, v));
    else if (l.op === 'leaky_relu') a = a.map((v) => (v >= 0 ? v : v * l.negativeSlope));
    else if (l.op === 'tanh') a = a.map(Math.tanh);
    else {
      const k = l.kernel.length === 2 ? [1, ...l.kernel] : l.kernel;
      const o = new Float64Array(l.outChannels * P);
      for (let oc = 0; oc < l.outChannels; oc++)
        for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) {
          let s = l.bias === null ? 0 : w[l.bias + oc]!;
          for (let ic = 0; ic < c; ic++)
            for (let dz = 0; dz < k[0]!; dz++) for (let dy = 0; dy < k[1]!; dy++) for (let dx = 0; dx < k[2]!; dx++) {
              const zz = z + dz - (k[0]! - 1) / 2, yy = y + dy - (k[1]! - 1) / 2, x2 = xx + dx - (k[2]! - 1) / 2;
              if (zz < 0 || zz >= D || yy < 0 || yy >= H || x2 < 0 || x2 >= W) continue;
              s += w[l.weight + (((oc * c + ic) * k[0]! + dz) * k[1]! + dy) * k[2]! + dx]! * a[ic * P + (zz * H + yy) * W + x2]!;
            }
          o[oc * P + (z * H + y) * W + xx] = s;
        }
      a = o;
      c = l.outChannels;
    }
  }
  return a;
}

describe('reference inference (core/nn)', () => {
  for (const [ndim, act, sp] of [[2, 'relu', [13, 17]], [2, 'tanh', [9, 11]], [3, 'leaky_relu', [5, 7, 6]]] as const) {
    it(`${ndim}D ${act}: matches a double-precision convolution within float32 rounding`, () => {
      const { spec, weights } = randomNet(ndim, 2, 2, 5, 3, act, 3);
      const P = sp.reduce((a, b) => a * b, 1);
      const x = randomInput(2 * P, 9);
      const ref = runReference(spec, weights, x, [...sp]);
      const exp = naive(spec, weights, x, [...sp]);
      let m = 0;
      for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i]! - exp[i]!) / Math.max(1, Math.abs(exp[i]!)));
      expect(m).toBeLessThan(1e-5);
    });
  }

  it('gives identical bytes on repeated runs and for every tiling (2D and 3D)', () => {
    for (const [ndim, sp, tiles] of [[2, [37, 53], [1, 4, 7, 16, [5, 50]]], [3, [9, 10, 11], [2, 3, 5, [9, 2, 11]]]] as const) {
      const { spec, weights } = randomNet(ndim, 3, 2, 6, 4, 'leaky_relu', 5);
      const P = sp.reduce((a, b) => a * b, 1);
      const x = randomInput(3 * P, 2);
      const whole = runReference(spec, weights, x, [...sp]);
      expect(sameBytes(whole, runReference(spec, weights, x.slice(), [...sp]))).toBe(true);
      for (const t of tiles) expect(sameBytes(whole, runReferenceTiled(spec, weights, x, [...sp], t as number))).toBe(true);
    }
  });

  it('the WebAssembly kernels give the same bytes (2D and 3D, 1 to 5 wide kernels, fields narrower than a kernel)', () => {
    const kernels = nnKernels();
    expect(kernels).not.toBeNull();
    for (const [ndim, sp, kernel] of [[2, [37, 53], 3], [2, [3, 2], 3], [2, [1, 9], 5], [3, [9, 10, 11], 3], [3, [2, 5, 3], 3], [2, [16, 24], 1]] as const) {
      const { spec, weights } = randomNet(ndim, 3, 2, 6, 4, 'leaky_relu', 5, kernel);
      const P = (sp as readonly number[]).reduce((a, b) => a * b, 1);
      const x = randomInput(3 * P, 2);
      x[5] = -0;
      x[7] = 1e-42;
      expect(sameBytes(runReference(spec, weights, x, [...sp], { kernels }), runReference(spec, weights, x, [...sp])), `${ndim}D [${sp.join(', ')}] k${kernel}`).toBe(true);
    }
  });

  it('plans tiles whose cores cover the field exactly once', () => {
    const tiles = planTiles([10, 7], [4, 3], 2);
    const cover = new Uint8Array(70);
    for (const t of tiles) for (let y = 0; y < t.coreSize[0]!; y++) for (let x = 0; x < t.coreSize[1]!; x++) cover[(t.coreStart[0]! + y) * 7 + t.coreStart[1]! + x]!++;
    expect([...cover].every((c) => c === 1)).toBe(true);
    expect(tiles.every((t) => t.inStart.every((s, i) => s >= 0 && s + t.inSize[i]! <= [10, 7][i]!))).toBe(true);
  });

  it('detTanh is float32-accurate and odd', () => {
    let m = 0;
    for (let x = -12; x <= 12; x += 0.0137) {
      const f = Math.fround(x);
      m = Math.max(m, Math.abs(detTanh(f) - Math.fround(Math.tanh(f))));
      expect(detTanh(-f)).toBe(-detTanh(f));
    }
    expect(m).toBeLessThanOrEqual(1.2e-7);
    expect(detTanh(1e-30)).toBe(Math.fround(1e-30));
  });

  it('validates descriptions and weights', () => {
    const { spec, weights } = randomNet(2, 1, 1, 2, 2, 'relu');
    expect(parseNnSpec(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    expect(() => parseNnSpec({ ...spec, weightCount: 3 })).toThrow(/out of range/);
    expect(() => parseNnSpec({ ...spec, version: 2 })).toThrow(/version 2/);
    expect(() => parseNnSpec({ ...spec, layers: [...spec.layers, { op: 'softmax' }] })).toThrow(/unknown op/);
    expect(() => checkWeights(spec, weights.subarray(1))).toThrow(/floats/);
  });

  it('embeds a network in bytes and reads it back', () => {
    const { spec, weights } = randomNet(3, 2, 3, 4, 3, 'tanh');
    const bytes = encodeEmbeddedNetwork(spec, weights);
    const back = decodeEmbeddedNetwork(bytes);
    expect(back.spec).toEqual(spec);
    expect(sameBytes(back.weights, weights)).toBe(true);
    bytes[0] = 0;
    expect(() => decodeEmbeddedNetwork(bytes)).toThrow(/magic/);
  });

  it('backward differences: float32, zero at the first index, invalid where a neighbour is masked', () => {
    const v = Float32Array.from([1, 2.5, 4, 10, 11, 13]); // shape [2, 3]
    const mask = Uint8Array.from([1, 1, 1, 1, 0, 1]);
    const ax1 = backwardDifference(v, [2, 3], 1, mask);
    expect([...ax1.diff]).toEqual([0, 1.5, 1.5, 0, -10, 13]);
    expect([...ax1.valid]).toEqual([0, 1, 1, 0, 0, 0]);
    const ax0 = backwardDifference(v, [2, 3], 0);
    expect([...ax0.diff]).toEqual([0, 0, 0, 9, 8.5, 9]);
    const feats = buildFeatures([{ var: 'a', transform: 'backward-diff', axis: 1 }, { var: 'a', transform: 'values', axis: null }], [0.25, 7], [2, 3], () => ({ values: v, mask }));
    expect([...feats]).toEqual([0.25, 1.5, 1.5, 0.25, 0.25, 0.25, 1, 2.5, 4, 10, 7, 13]);
  });

  it('quantizes onto the codec grid (step 2 x bound)', () => {
    expect([...quantizeToGrid(Float32Array.from([0, 0.1, -0.1, 0.3, 2.05, -2.05]), 0.1)]).toEqual([0, 1, -1, 2, 10, -10]);
  });
});
