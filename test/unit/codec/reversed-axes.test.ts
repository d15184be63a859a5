/**
 * The interpolation predictors' other dimension order (predictors/axes.ts, the chunk byte's REVERSED_AXES bit): the
 * transposition itself, the planner's choice on a field whose levels are stored last (a held-out geopotential laid
 * out lat x lon x level was 0.40 x SZ3's ratio at rel 1e-2, SZ3 trying its second direction), round trips with a
 * mask, non-finite values and a grid, and the decoder's refusals.
 */
import { describe, expect, it } from 'vitest';
import '../../../src-main/services/codecs/zstd-backend.ts';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { axesReversible, reverseAxes, reverseAxesLoop } from '../../../src-main/core/codec/predictors/axes.ts';
import { KERNEL_MAX_CODES, reverseAxesKernel } from '../../../src-main/core/codec/wasm-kernels.ts';
import { type ClassicPlan, assembleStream, chunkInputs, compressClassic, decodeChunkStored, decompressClassic, encodeChunk, planCompression } from '../../../src-main/core/compressors/classic/codec.ts';
import { chunkBytes, chunkPayload, readHeader } from '../../../src-main/core/codec/stream/format.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { overBound } from './helpers.ts';

/** naive: the element at multi-index (i0..ik-1) of `shape` goes to (ik-1..i0) of the reversed shape */
function naiveReverse(src: ArrayLike<number>, shape: number[]): number[] {
  const out = new Array<number>(src.length);
  const rshape = [...shape].reverse();
  for (let s = 0; s < src.length; s++) {
    const idx: number[] = [];
    let r = s;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = r % shape[d]!;
      r = Math.floor(r / shape[d]!);
    }
    const ridx = [...idx].reverse();
    let o = 0;
    for (let d = 0; d < rshape.length; d++) o = o * rshape[d]! + ridx[d]!;
    out[o] = src[s]!;
  }
  return out;
}

/** geopotential-like, levels last: a steep, irregular profile along the fastest axis, smooth and small across */
function levelsLast(ny: number, nx: number, nz: number): Field {
  const values = new Float32Array(ny * nx * nz);
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      for (let z = 0; z < nz; z++) {
        const p = 1000 * Math.exp(-0.19 * z * (1 + 0.04 * z));
        values[(y * nx + x) * nz + z] = 29.3 * 250 * Math.log(1000 / p) * (1 + 0.002 * Math.sin(y / 7) * Math.cos(x / 5)) + 40 * Math.sin((x + 2 * y) / 11);
      }
    }
  }
  return { name: 'ZT', shape: [ny, nx, nz], values, dims: ['lat', 'lon', 'level'] } as unknown as Field;
}

describe('reverseAxes', () => {
  it('matches the naive transposition in 2, 3 and 4 dimensions, and twice is the identity', () => {
    for (const shape of [[5, 7], [3, 4, 5], [2, 3, 4, 5], [1, 6, 1]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const src = Float64Array.from({ length: n }, (_, i) => i * 1.5 - 7);
      const once = reverseAxes(src, shape, new Float64Array(n));
      expect(Array.from(once)).toEqual(naiveReverse(src, shape));
      expect(Array.from(reverseAxes(once, [...shape].reverse(), new Float64Array(n)))).toEqual(Array.from(src));
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37) & 255);
      expect(Array.from(reverseAxes(bytes, shape, new Uint8Array(n)))).toEqual(naiveReverse(bytes, shape));
    }
    expect(() => reverseAxes(new Float64Array(32), [2, 2, 2, 2, 2], new Float64Array(32))).toThrow(/5 dimensions/);
    expect(axesReversible([40])).toBe(false);
    expect(axesReversible([1, 40, 1])).toBe(false);
    expect(axesReversible([2, 40])).toBe(true);
  });
});

describe('reverseAxes in WebAssembly', () => {
  // shapes across and along the kernel's 32-element tiles, and the three element sizes. The random bits hold NaNs
  // with payloads, signalling ones too: the kernel copies bits, where the loop's float32 copies may quiet a signalling
  // NaN (V8 converts through float64); the predictors skip non-finite points, restored from the chunk's exact lists
  it('gives the loop\'s permutation in 1 to 4 dimensions, every element size, bit for bit', () => {
    const kernel = reverseAxesKernel();
    expect(kernel).not.toBeNull();
    const shapes = [[70], [1, 1], [33, 65], [64, 31], [2, 97, 3], [5, 1, 40], [40, 3, 33], [3, 2, 70, 5], [33, 2, 3, 34]];
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const bits = new Uint32Array(2 * n).map((_, i) => (Math.imul(i + 1, 2654435761) ^ (i << 7)) >>> 0);
      const f64 = new Float64Array(bits.buffer);
      const f32 = new Float32Array(bits.buffer, 0, n).slice();
      const u8 = new Uint8Array(bits.buffer, 0, n).slice();
      const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      expect(bytes(kernel!(f64, shape, new Float64Array(n))!)).toEqual(bytes(reverseAxesLoop(f64, shape, new Float64Array(n))));
      expect(bytes(kernel!(u8, shape, new Uint8Array(n))!)).toEqual(bytes(reverseAxesLoop(u8, shape, new Uint8Array(n))));
      const fromKernel = kernel!(f32, shape, new Float32Array(n))!;
      expect(Array.from(new Uint32Array(fromKernel.buffer))).toEqual(naiveReverse(new Uint32Array(f32.buffer), shape));
      if (n > 100) expect(f32.some(Number.isNaN)).toBe(true);
    }
  });

  it('leaves arrays longer than the predictor kernels take to the loop (the module\'s memory does not grow for them)', () => {
    const n = KERNEL_MAX_CODES + 2;
    const src = new Uint8Array(n).map((_, i) => i % 251);
    expect(reverseAxesKernel()!(src, [2, n / 2], new Uint8Array(n))).toBeNull();
    const out = reverseAxes(src, [2, n / 2], new Uint8Array(n));
    for (const j of [0, 1, 12345, n / 2 - 1]) {
      expect(out[2 * j]).toBe(src[j]);
      expect(out[2 * j + 1]).toBe(src[n / 2 + j]);
    }
  });
});

/** The field's stream with the plan auto makes, its axes reversed (and the predictor made interpolation) where not already */
function reversedStream(f: Field, bound: { mode: 'rel' | 'abs'; value: number }): { bytes: Uint8Array; plan: ClassicPlan } {
  const planned = planCompression(f, { bound }, zstdBackend);
  const plan: ClassicPlan = { ...planned, predictor: planned.predictor.startsWith('interp') ? planned.predictor : 'interp-cubic', maxDims: 4, reversedAxes: true };
  return { bytes: assembleStream(plan, chunkInputs(plan, f).map((c) => encodeChunk(plan, c.values, c.mask, c.shape, zstdBackend))), plan };
}

describe('the classic codec with reversed axes', () => {
  const bound = { mode: 'rel' as const, value: 1e-3 };

  it('auto takes them where the levels are stored last, smaller than either first-order interpolation, within the bound', () => {
    const f = levelsLast(30, 40, 24);
    const auto = compressClassic(f, { bound }, zstdBackend);
    expect(auto.plan.reversedAxes).toBe(true);
    expect(auto.plan.predictor.startsWith('interp')).toBe(true);
    for (const predictor of ['interp-linear', 'interp-cubic'] as const) {
      expect(auto.bytes.length).toBeLessThan(compressClassic(f, { bound, predictor }, zstdBackend).bytes.length);
    }
    const d = decompressClassic(auto.bytes);
    expect(overBound(f.values, d.field.values, null, auto.plan.bound.abs)).toBe(0);
    // the same field with its levels first never reverses them
    const first = new Float32Array(f.values.length);
    reverseAxes(f.values as Float32Array, f.shape, first);
    expect(compressClassic({ ...f, shape: [...f.shape].reverse(), values: first }, { bound }, zstdBackend).plan.reversedAxes).toBeFalsy();
  });

  it('round trips with a mask, NaN and a grid: masked points, non-finite values and the bound as without', () => {
    const f = levelsLast(20, 30, 16);
    const n = f.values.length;
    const mask = Uint8Array.from({ length: n }, (_, i) => (Math.floor(i / 16) % 7 === 3 ? 0 : 1));
    const values = Float32Array.from(f.values, (v, i) => (i % 501 === 17 ? NaN : mask[i] ? v : -999));
    const masked = { ...f, values, mask, fillValue: -999 } as Field;
    const c = reversedStream(masked, bound);
    const d = decompressClassic(c.bytes);
    expect(Array.from(d.field.mask!)).toEqual(Array.from(mask));
    // masked points and NaN come back as they were (the fill, or the value a masked point held)
    for (let i = 0; i < n; i++) if (!mask[i] || Number.isNaN(values[i])) expect(d.field.values[i]).toBe(values[i]);
    expect(overBound(values, d.field.values, mask, c.plan.bound.abs)).toBe(0);
    // rounded to a whole unit: grid indices predicted on the reversed axes, reconstructed exactly below half a step
    const rounded = { ...f, values: Float32Array.from(f.values, (v) => Math.round(v)) } as Field;
    const g = reversedStream(rounded, { mode: 'abs', value: 0.4 });
    expect(g.plan.grid).toBeDefined();
    const gd = decompressClassic(g.bytes);
    expect(overBound(rounded.values, gd.field.values, null, 0.4)).toBe(0);
  });

  it('a reversed-axes byte on a chunk that cannot have it is refused as a bad stream', () => {
    const f = levelsLast(30, 40, 24);
    const c = compressClassic(f, { bound }, zstdBackend);
    expect(c.plan.reversedAxes).toBe(true);
    const h = readHeader(c.bytes);
    const payload = chunkPayload(h, 0, chunkBytes(h, c.bytes, 0)).slice();
    expect(payload[1]! & 8).toBe(8); // the interpolation byte follows the flags
    expect(payload[2]! & 128).toBe(128);
    const raw = { ...h, chunks: h.chunks.map((x, i) => (i === 0 ? { ...x, raw: true, rawBytes: payload.length, storedBytes: payload.length } : x)) };
    expect(() => decodeChunkStored(raw, 0, payload)).not.toThrow();
    // on a Lorenzo chunk (predictor id 0, same dims)
    const lorenzo = payload.slice();
    lorenzo[0] = lorenzo[0]! & 0xf0;
    lorenzo[2] = 128;
    expect(() => decodeChunkStored(raw, 0, lorenzo)).toThrow(/bad interpolation tuning 128/);
    // with an unknown tuning beside it
    const tuning = payload.slice();
    tuning[2] = 128 | 100;
    expect(() => decodeChunkStored(raw, 0, tuning)).toThrow(/bad interpolation tuning 228/);
  });
});
