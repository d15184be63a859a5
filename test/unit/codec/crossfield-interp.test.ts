/**
 * The cross-field interpolation hybrid (mode 'interp'): synthetic fields where the answer is known (a target that is
 * an anchor plus smooth noise-free structure, a useless noise anchor), the bound point by point, identical bytes on
 * decoding, the stream without a network, corrupt pass models, and binary16 weights.
 */
import { describe, expect, it } from 'vitest';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { LinearQuantizer, DEFAULT_RADIUS } from '../../../src-main/core/codec/quantizer.ts';
import { fromBfloat16Bits, fromHalfBits, roundHalf, toBfloat16Bits, toHalfBits } from '../../../src-main/core/codec/half.ts';
import { type PassStat, decodeInterpHybrid, encodeInterpHybrid } from '../../../src-main/core/compressors/crossfield/interp-hybrid.ts';
import { normalEquations } from '../../../src-main/core/compressors/crossfield/least-squares.ts';
import { hybridRunMemory } from '../../../src-main/core/compressors/crossfield/wasm-kernels.ts';
import { decodeCrossfield, encodeCrossfield, readCrossfieldStream } from '../../../src-main/core/compressors/crossfield/codec.ts';
import { compressClassic } from '../../../src-main/core/compressors/classic/codec.ts';
import { chunkBytes, chunkPayload, readHeader } from '../../../src-main/core/codec/stream/format.ts';
import { ENTROPY_MS_LINE_SIGNS } from '../../../src-main/core/codec/envelope.ts';
import { overBound } from './helpers.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** anchor: rough field; target: 0.8 x anchor + a smooth trend, so the anchor's fine detail predicts the target's */
function pair(shape: number[], seed = 7): { target: Float32Array; anchor: Float32Array; noise: Float32Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  const anchor = new Float32Array(n);
  const target = new Float32Array(n);
  const noise = new Float32Array(n);
  const w = shape[shape.length - 1]!;
  for (let i = 0; i < n; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    anchor[i] = Math.sin(x / 5) * Math.cos(y / 7) * 10 + r() * 2;
    target[i] = 0.8 * anchor[i]! + 0.05 * x - 0.03 * y;
    noise[i] = r() * 10;
  }
  return { target, anchor, noise };
}

function roundTrip(x: Float32Array, shape: number[], e: number, sources: Float32Array[], stats?: PassStat[]) {
  const q = new LinearQuantizer(e, true, x.length, DEFAULT_RADIUS);
  const models = new ByteWriter(64);
  const src = sources.map((v) => ({ values: v, valid: null }));
  encodeInterpHybrid(x, null, shape, q, 0, src, models, stats);
  const mb = models.finish();
  const d = new LinearQuantizer(e, true, 0, DEFAULT_RADIUS);
  d.load(q.codes, q.nCodes, q.escapes, q.nEscapes);
  const out = new Float32Array(x.length);
  decodeInterpHybrid(out, null, shape, d, 0, src, new ByteReader(mb, 'models'));
  const sizeOfCodes = zstdBackend.compress(new Uint8Array(q.codes.buffer, 0, q.nCodes * 4)).length + mb.length;
  return { out, bytes: sizeOfCodes, models: mb };
}

describe('cross-field interpolation hybrid', () => {
  it('a correlated anchor shrinks the codes; the bound holds point by point (2D and 3D)', () => {
    for (const shape of [[96, 128], [6, 40, 64]]) {
      const { target, anchor } = pair(shape);
      const e = 0.01;
      const stats: PassStat[] = [];
      const withAnchor = roundTrip(target, shape, e, [anchor], stats);
      const alone = roundTrip(target, shape, e, []);
      expect(overBound(target, withAnchor.out, null, e)).toBe(0);
      expect(overBound(target, alone.out, null, e)).toBe(0);
      expect(withAnchor.bytes).toBeLessThan(alone.bytes * 0.8);
      // the finest passes use the anchor
      expect(stats.filter((s) => s.level === 1).every((s) => (s.group & 2) !== 0)).toBe(true);
    }
  });

  it('a noise anchor is left out by the per-pass choice (costs at most a byte per pass)', () => {
    const shape = [96, 128];
    const { target, noise } = pair(shape);
    const e = 0.01;
    const stats: PassStat[] = [];
    const withNoise = roundTrip(target, shape, e, [noise], stats);
    const alone = roundTrip(target, shape, e, []);
    expect(overBound(target, withNoise.out, null, e)).toBe(0);
    expect(stats.every((s) => (s.group & 2) === 0)).toBe(true);
    expect(withNoise.bytes).toBeLessThanOrEqual(alone.bytes + stats.length);
  });

  it('the codec stream without a network: decodes to identical bytes twice, needs the anchors, beats the core codec', () => {
    const shape = [4, 48, 64];
    const { target, anchor } = pair(shape, 3);
    const bound = { mode: 'abs' as const, value: 0.005 };
    const enc = encodeCrossfield(
      { field: { values: target, shape }, bound, net: null, netHash: '', anchors: [{ var: 'A', hash: 'h' }], dq: [], anchorRecons: [{ values: anchor }], mode: 'auto' },
      zstdBackend,
    );
    expect(enc.mode).toBe('interp');
    const info = readCrossfieldStream(enc.bytes);
    expect(info.net).toBeNull();
    const a = decodeCrossfield(info, enc.bytes, [], [{ values: anchor }]);
    const b = decodeCrossfield(info, enc.bytes, [], [{ values: Float32Array.from(anchor) }]);
    expect(overBound(target, a.field.values, null, 0.005)).toBe(0);
    expect(Buffer.from(a.field.values.buffer).equals(Buffer.from(b.field.values.buffer))).toBe(true);
    expect(() => decodeCrossfield(info, enc.bytes, [], [])).toThrow(/needs the reconstructions of A/);
    // smaller than the core codec on this field
    const core = compressClassic({ values: target, shape }, { bound }, zstdBackend);
    expect(enc.bytes.length).toBeLessThan(core.bytes.length);
  });

  it('codes with the line context where nothing is masked, folds dims as asked (param maxDims), codes a mask with model 2; all within the bound', () => {
    const shape = [4, 6, 32, 40];
    const { target, anchor } = pair(shape, 5);
    const bound = { mode: 'abs' as const, value: 0.005 };
    const encode = (maxDims: number | undefined, mask?: Uint8Array) => encodeCrossfield(
      {
        field: { values: target, shape, ...(mask ? { mask } : {}) }, bound, net: null, netHash: '', anchors: [{ var: 'A', hash: 'h' }], dq: [],
        anchorRecons: [{ values: anchor }], mode: 'interp', ...(maxDims ? { maxDims } : {}),
      },
      zstdBackend,
    );
    /** the chunk's entropy coder id and its mask flags: flags, count, [mask], tuning, pass models, coder */
    const chunk0 = (bytes: Uint8Array) => {
      const h = readHeader(bytes);
      const r = new ByteReader(chunkPayload(h, 0, chunkBytes(h, bytes, 0)), 'chunk 0');
      const flags = r.u8('flags');
      return { flags, coder: flags === 0 ? (r.varint('n'), r.u8('tune'), r.block('models'), r.u8('coder')) : -1 };
    };
    for (const maxDims of [undefined, 3, 2]) {
      const enc = encode(maxDims);
      const info = readCrossfieldStream(enc.bytes);
      expect(info.maxDims).toBe(maxDims ?? 4);
      expect(readHeader(enc.bytes).params.maxDims).toBe(maxDims);
      expect(chunk0(enc.bytes).coder).toBe(ENTROPY_MS_LINE_SIGNS);
      const out = decodeCrossfield(info, enc.bytes, [], [{ values: anchor }]).field.values;
      expect(overBound(target, out, null, 0.005)).toBe(0);
    }
    // a land mask: no lines (points are skipped), the mask coded as the core codec codes it
    const mask = new Uint8Array(target.length).map((_, i) => (i % 40 < 7 && (i / 1280) % 3 < 2 ? 0 : 1));
    const masked = encode(undefined, mask);
    expect(chunk0(masked.bytes).flags & 17).toBe(17);
    const info = readCrossfieldStream(masked.bytes);
    const out = decodeCrossfield(info, masked.bytes, [], [{ values: anchor }]).field;
    expect(overBound(target, out.values, mask, 0.005)).toBe(0);
    expect(Array.from(out.mask!)).toEqual(Array.from(mask));
  });

  it('the WebAssembly kernels encode and decode to the reference loops\' bits (masks, invalid source points, 2D to 4D, a non-finite and a huge source value; float32 and float64, escapes, level-dependent bounds)', () => {
    const bytesOf = (v: Float64Array | Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    const cases: { shape: number[]; masked: boolean; nonFinite: boolean }[] = [
      { shape: [96, 128], masked: false, nonFinite: false },
      { shape: [6, 40, 64], masked: true, nonFinite: false },
      { shape: [3, 5, 24, 40], masked: true, nonFinite: true },
    ];
    for (const { shape, masked, nonFinite } of cases) {
      const { target, anchor, noise } = pair(shape, shape.length);
      const n = target.length;
      const r = rng(n);
      const skip = masked ? Uint8Array.from({ length: n }, () => (r() > 0.4 ? 1 : 0)) : null;
      const valid = Uint8Array.from({ length: n }, () => (r() > -0.45 ? 1 : 0));
      const integral = Float64Array.from(noise, (v, i) => v * 0.25 + i * 1e-3);
      if (nonFinite) integral[7] = Infinity;
      // a finite value whose features could overflow: no group's terms are left out where it is read
      else if (masked) integral[11] = 1e308;
      const sources = [{ values: anchor, valid: masked ? valid : null }, { values: noise, valid: null }, { values: integral, valid: null, axis: shape.length - 1 }];
      const encodeBothWays = (x: Float32Array | Float64Array, tune: number, radius: number) => {
        const runs = [true, false].map((kernels) => {
          const q = new LinearQuantizer(0.01, x instanceof Float32Array, n, radius);
          const models = new ByteWriter(64);
          const stats: PassStat[] = [];
          encodeInterpHybrid(x, skip, shape, q, tune, sources, models, stats, kernels);
          return { q, models: models.finish(), stats };
        });
        const [fast, ref] = runs as [(typeof runs)[0], (typeof runs)[0]];
        expect(Buffer.from(fast.models).equals(Buffer.from(ref.models))).toBe(true);
        expect(Buffer.from(fast.q.codes.buffer, 0, fast.q.nCodes * 4).equals(Buffer.from(ref.q.codes.buffer, 0, ref.q.nCodes * 4))).toBe(true);
        expect(fast.q.nCodes).toBe(ref.q.nCodes);
        expect(Array.from(fast.q.escapes.subarray(0, fast.q.nEscapes))).toEqual(Array.from(ref.q.escapes.subarray(0, ref.q.nEscapes)));
        return { fast, ref };
      };
      // float64 with spikes (escapes; float32's rounding not applied), level-dependent bounds and a small radius
      const spiky = Float64Array.from(target, (v, i) => (i % 97 === 5 ? v + 1e4 * (i % 3 - 1) : v + 1e-9 * i));
      const escaped = encodeBothWays(spiky, 3, 256);
      expect(escaped.fast.q.nEscapes).toBeGreaterThan(n / 200);
      const { fast, ref } = encodeBothWays(target, 0, DEFAULT_RADIUS);
      expect(fast.stats.some((x) => x.group === 1 || x.group === 2)).toBe(true);
      const decoded = [true, false].map((kernels) => {
        const d = new LinearQuantizer(0.01, true, 0, DEFAULT_RADIUS);
        d.load(ref.q.codes, ref.q.nCodes, ref.q.escapes, ref.q.nEscapes);
        const out = new Float32Array(n);
        decodeInterpHybrid(out, skip, shape, d, 0, sources, new ByteReader(ref.models, 'models'), kernels);
        return out;
      });
      expect(bytesOf(decoded[0]!).equals(bytesOf(decoded[1]!))).toBe(true);
      expect(overBound(target, decoded[0]!, skip ? skip.map((v) => 1 - v) : null, 0.01)).toBe(0);
    }
  });

  it('values or skip flags that do not cover the shape (direct calls): the kernels leave them to the reference, the same outcome (a review\'s cases)', () => {
    const shape = [40, 64];
    const { target, anchor } = pair(shape, 2);
    const n = target.length;
    const sources = [{ values: anchor, valid: null }];
    const outcome = (x: Float32Array, skip: Uint8Array | null, kernels: boolean) => {
      const q = new LinearQuantizer(0.01, true, n + 64, DEFAULT_RADIUS);
      const models = new ByteWriter(64);
      try {
        encodeInterpHybrid(x, skip, shape, q, 0, sources, models, undefined, kernels);
      } catch (e) {
        return `throws ${(e as Error).message}`;
      }
      return `${q.nCodes}:${q.nEscapes}:${Buffer.from(q.codes.buffer, 0, q.nCodes * 4).toString('base64')}:${Array.from(q.escapes.subarray(0, q.nEscapes)).join(',')}:${Buffer.from(models.finish()).toString('base64')}`;
    };
    // a run with every point skipped first leaves its flags in the kernels' memory
    outcome(target, new Uint8Array(n).fill(1), true);
    const cases: [string, Float32Array, Uint8Array | null][] = [
      ['empty skip', target, new Uint8Array(0)],
      ['longer skip', target, new Uint8Array(n + 100)],
      ['longer values', Float32Array.from({ length: n + 50 }, (_, i) => target[i % n]!), null],
      ['shorter values', target.subarray(0, n - 50), null],
    ];
    for (const [what, x, skip] of cases) expect(outcome(x, skip, true), what).toBe(outcome(x, skip, false));
  });

  it('the per-pass normal equations, candidate predictions and code histograms: the WebAssembly twins add up to the reference\'s bits (zero features skipped alike, rows in pairs or alone)', () => {
    for (const K of [1, 22, 23]) {
      const r = rng(K);
      // an odd count too: the kernel adds rows two at a time, then the last alone
      const ns = K === 22 ? 999 : 1000;
      const maxK = 4 + 4 * 3 + 5 * 2;
      const mem = hybridRunMemory([1, 1, 4, 4], [], 16, ns, maxK)!;
      expect(mem).not.toBeNull();
      const F = new Float64Array(ns * K).map(() => {
        const u = r();
        return u < -0.4 ? 0 : u > 0.45 ? -0 : u * 1e3 * Math.exp(10 * r());
      });
      const y = new Float64Array(ns).map(() => r() * 7);
      const ref = { A: new Float64Array(K * K), b: new Float64Array(K) };
      normalEquations(F, y, ns, K, ref.A, ref.b);
      mem.F.set(F);
      mem.y.set(y);
      mem.A.fill(0);
      mem.b.fill(0);
      mem.normalEquations(ns, K);
      expect(Buffer.from(mem.A.buffer, mem.A.byteOffset, K * K * 8).equals(Buffer.from(ref.A.buffer))).toBe(true);
      expect(Buffer.from(mem.b.buffer, mem.b.byteOffset, K * 8).equals(Buffer.from(ref.b.buffer))).toBe(true);
      expect(ref.A[0]).not.toBe(0);
      // the candidate predictions of the fit's histograms: w . row added in k order
      const w = new Float64Array(K).map(() => r());
      const pred = Float64Array.from({ length: ns }, () => r());
      mem.b0.set(pred);
      mem.codeHistogram(ns, K, w, 1, 64);
      for (let i = 0; i < ns; i++) for (let k = 0; k < K; k++) pred[i] += w[k]! * F[i * K + k]!;
      expect(Buffer.from(mem.pred.buffer, mem.pred.byteOffset, ns * 8).equals(Buffer.from(pred.buffer))).toBe(true);
      // the sizing's histogram of a candidate's codes: Math.round's bins, NaN and out-of-range codes counted apart
      const radius = 64;
      const b0 = Float64Array.from({ length: ns }, () => r() * 40);
      const xs = Float64Array.from({ length: ns }, (_, i) => (i === 3 ? NaN : i % 50 === 7 ? 1e9 : b0[i]! + r() * 30 + (i % 9 === 0 ? 0.5 : 0)));
      mem.b0.set(b0);
      mem.xs.set(xs);
      for (const weights of [null, w]) {
        const { over, first, last } = mem.codeHistogram(ns, K, weights, 1.7, radius);
        const h = new Int32Array(2 * radius + 1);
        let refOver = 0;
        for (let i = 0; i < ns; i++) {
          let p = b0[i]!;
          if (weights) for (let k = 0; k < K; k++) p += weights[k]! * F[i * K + k]!;
          const code = Math.round((xs[i]! - p) * 1.7);
          if (code > -radius && code < radius) h[code + radius]++;
          else refOver++;
        }
        expect(over).toBe(refOver);
        // the bins used, first to last: what the fit's entropy reads (first > last where none is: the weighted
        // predictions here are far off)
        const used = [h.findIndex((c) => c > 0), h.findLastIndex((c) => c > 0)];
        if (used[1]! < 0) expect(first).toBeGreaterThan(last);
        else expect([first, last]).toEqual(used);
        expect(Array.from(mem.histogram(radius))).toEqual(Array.from(h));
        expect(over).toBeGreaterThan(ns / 60);
      }
    }
  });

  it('binary16 weights round to nearest, saturate, and keep subnormals', () => {
    for (const v of [0, 1, -2, 0.5, 65504, -65504, 6.103515625e-5, 5.960464477539063e-8]) expect(fromHalfBits(toHalfBits(v))).toBeCloseTo(v, 12);
    expect(roundHalf(1 / 3)).toBe(0.333251953125);
    expect(roundHalf(1e6)).toBe(65504);
    expect(roundHalf(2049)).toBe(2048); // tie to even
    expect(roundHalf(2051)).toBe(2052);
    expect(roundHalf(NaN)).toBe(0);
  });

  it('bfloat16 (the VQ-VAE maps\' std) keeps float32\'s range with 8 significant bits, ties to even', () => {
    const bf = (v: number) => fromBfloat16Bits(toBfloat16Bits(v));
    for (const v of [1, 0.5, 3e38, 1e-30, 101325, 2.5e-7]) expect(Math.abs(bf(v) / v - 1)).toBeLessThan(2 ** -8);
    expect(bf(257)).toBe(256); // tie to even
    expect(bf(259)).toBe(260);
    expect(bf(1 / 3)).toBe(0.333984375);
    expect(bf(1e-44)).toBe(0); // below bfloat16's subnormals: the encoder then stores the std as float32
  });
});
