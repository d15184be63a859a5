/**
 * The VQ-VAE codec (issue 12): its layers compute what PyTorch's do, the model file is checked before use, the
 * indices round-trip through the range coder, and a stream meets the bound everywhere (mask, NaN, +-Inf kept), with
 * identical bytes and values for any worker count, decodable with its model by hash or embedded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../../src-main/services/codecs/zstd-backend.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { conv2d, convTranspose2d } from '../../../src-main/core/nn/vqvae/layers.ts';
import { type VqvaeConfig, parseVqvaeModel, vqvaeTensorShapes, writeVqvaeModel } from '../../../src-main/core/nn/vqvae/model.ts';
import { decodeMap, encodeMap } from '../../../src-main/core/nn/vqvae/network.ts';
import { nnKernels } from '../../../src-main/core/nn/wasm-kernels.ts';
import { readLatents, writeLatents } from '../../../src-main/core/nn/vqvae/latent-coder.ts';
import { chooseScaling } from '../../../src-main/core/compressors/vqvae/codec.ts';
import { chunkBytes, readHeader, writeStream } from '../../../src-main/core/codec/stream/format.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { closePools, decodeStream, encodeField, verifyBound } from '../../../src-main/services/codecs/index.ts';
import { makeField, rng32 } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { tempDir } from '../../helpers/tmp.ts';

const tmp = tempDir('fieldpack-vqvae-');
const CONFIG: VqvaeConfig = { channels: [4, 8, 8], latentDim: 8, codesY: 32, codesZ: 16, negativeSlope: 0.01 };
let modelPath: string;
let modelBytes: Uint8Array;

function randomModel(config: VqvaeConfig, seed: number, training: Record<string, unknown> = { seconds: 1.5 }): Uint8Array {
  const r = rng32(seed);
  const t: Record<string, Float32Array> = {};
  for (const [name, shape] of vqvaeTensorShapes(config)) {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < a.length; i++) a[i] = (r() - 0.5) * (name.startsWith('codebook') ? 2 : 0.4);
    t[name] = a;
  }
  return writeVqvaeModel(config, t, training);
}

beforeAll(() => {
  modelBytes = randomModel(CONFIG, 5);
  modelPath = join(tmp.dir, 'test.fpvq');
  writeFileSync(modelPath, modelBytes);
});
afterAll(async () => {
  await closePools();
  tmp.cleanup();
});

describe('VQ-VAE layers (PyTorch semantics, zero padding)', () => {
  const r = rng32(3);
  const rand = (n: number) => Float32Array.from({ length: n }, () => r() - 0.5);
  it('Conv2d k4 s2 p1 and ConvTranspose2d k4 s2 p1 match the textbook sums', () => {
    const cin = 2, cout = 3, H = 6, W = 10;
    const x = rand(cin * H * W), w = rand(cout * cin * 16), b = rand(cout);
    const y = conv2d({ data: x, c: cin, h: H, w: W }, w, b, cout, 4, 2);
    expect([y.c, y.h, y.w]).toEqual([cout, 3, 5]);
    for (let oc = 0; oc < cout; oc++) for (let oy = 0; oy < 3; oy++) for (let ox = 0; ox < 5; ox++) {
      let s = b[oc]!;
      for (let ic = 0; ic < cin; ic++) for (let ky = 0; ky < 4; ky++) for (let kx = 0; kx < 4; kx++) {
        const iy = 2 * oy - 1 + ky, ix = 2 * ox - 1 + kx;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += w[((oc * cin + ic) * 4 + ky) * 4 + kx]! * x[(ic * H + iy) * W + ix]!;
      }
      expect(y.data[(oc * 3 + oy) * 5 + ox]).toBeCloseTo(s, 5);
    }
    const wt = rand(cin * cout * 16);
    const t = convTranspose2d({ data: x, c: cin, h: H, w: W }, wt, b, cout);
    expect([t.c, t.h, t.w]).toEqual([cout, 2 * H, 2 * W]);
    for (let oc = 0; oc < cout; oc++) for (let Y = 0; Y < 2 * H; Y++) for (let X = 0; X < 2 * W; X++) {
      let s = b[oc]!;
      for (let ic = 0; ic < cin; ic++) for (let iy = 0; iy < H; iy++) for (let ix = 0; ix < W; ix++) {
        const ky = Y + 1 - 2 * iy, kx = X + 1 - 2 * ix;
        if (ky >= 0 && ky < 4 && kx >= 0 && kx < 4) s += wt[((ic * cout + oc) * 4 + ky) * 4 + kx]! * x[(ic * H + iy) * W + ix]!;
      }
      expect(t.data[(oc * 2 * H + Y) * 2 * W + X]).toBeCloseTo(s, 5);
    }
  });

  it('conv 3x3, 1x1, 4x4/2 and the transposed conv give the contract\'s bits: per point, f32 sums of f32 products, bias then ic, ky, kx ascending, taps outside skipped', () => {
    // the point-by-point definition; the layers' tiled, unrolled loops must give exactly these bits (also for -0)
    const specConv = (x: Float32Array, cin: number, H: number, W: number, w: Float32Array, b: Float32Array, cout: number, k: number, stride: number) => {
      const pad = stride === 1 ? (k - 1) >> 1 : 1;
      const Ho = stride === 1 ? H : (H + 2 * pad - k) / 2 + 1, Wo = stride === 1 ? W : (W + 2 * pad - k) / 2 + 1;
      const out = new Float32Array(cout * Ho * Wo);
      for (let oc = 0; oc < cout; oc++) for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) {
        let s = b[oc]!;
        for (let ic = 0; ic < cin; ic++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
          const iy = stride * oy - pad + ky, ix = stride * ox - pad + kx;
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) s = Math.fround(s + Math.fround(w[((oc * cin + ic) * k + ky) * k + kx]! * x[(ic * H + iy) * W + ix]!));
        }
        out[(oc * Ho + oy) * Wo + ox] = s;
      }
      return out;
    };
    const specConvT = (x: Float32Array, cin: number, H: number, W: number, w: Float32Array, b: Float32Array, cout: number) => {
      const out = new Float32Array(cout * 4 * H * W);
      for (let oc = 0; oc < cout; oc++) for (let Y = 0; Y < 2 * H; Y++) for (let X = 0; X < 2 * W; X++) {
        let s = b[oc]!;
        for (let ic = 0; ic < cin; ic++) for (let ky = 0; ky < 4; ky++) for (let kx = 0; kx < 4; kx++) {
          if ((Y + 1 - ky) % 2 || (X + 1 - kx) % 2) continue;
          const iy = (Y + 1 - ky) / 2, ix = (X + 1 - kx) / 2;
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) s = Math.fround(s + Math.fround(w[((ic * cout + oc) * 4 + ky) * 4 + kx]! * x[(ic * H + iy) * W + ix]!));
        }
        out[(oc * 2 * H + Y) * 2 * W + X] = s;
      }
      return out;
    };
    const special = [0, -0, 1e-30, -1e-30, 3e5, -7e4];
    const vals = (n: number) => Float32Array.from({ length: n }, () => (r() < 0.15 ? special[Math.floor(r() * special.length)]! : (r() - 0.5) * 4));
    const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    // the WebAssembly kernels (the fast path) must give the same bits: Node 22 has WebAssembly SIMD
    const fast = nnKernels();
    expect(fast).not.toBeNull();
    for (const [H, W] of [[1, 1], [1, 3], [2, 2], [3, 1], [3, 4], [4, 3], [5, 7], [6, 9], [8, 16], [2, 13], [5, 21], [3, 38], [4, 38], [6, 22]] as const) {
      const cin = 3, cout = 2;
      const x = vals(cin * H * W);
      for (const [k, stride] of [[3, 1], [1, 1], [4, 2]] as const) {
        if (stride === 2 && (H % 2 || W % 2)) continue;
        const w = vals(cout * cin * k * k), b = Float32Array.from([0, -0]);
        const want = specConv(x, cin, H, W, w, b, cout, k, stride);
        expect(same(conv2d({ data: x, c: cin, h: H, w: W }, w, b, cout, k, stride).data, want), `conv k${k} s${stride} on ${H} x ${W}`).toBe(true);
        expect(same(conv2d({ data: x, c: cin, h: H, w: W }, w, b, cout, k, stride, fast).data, want), `fast conv k${k} s${stride} on ${H} x ${W}`).toBe(true);
      }
      const wt = vals(cin * cout * 16), b = Float32Array.from([-0, 0.5]);
      const want = specConvT(x, cin, H, W, wt, b, cout);
      expect(same(convTranspose2d({ data: x, c: cin, h: H, w: W }, wt, b, cout).data, want), `convT on ${H} x ${W}`).toBe(true);
      expect(same(convTranspose2d({ data: x, c: cin, h: H, w: W }, wt, b, cout, fast).data, want), `fast convT on ${H} x ${W}`).toBe(true);
    }
  });

  it('the decoder gives the same bits on every run (the reference path)', () => {
    const m = parseVqvaeModel(modelBytes);
    const map = rand(32 * 48);
    const lat = encodeMap(m, map, 32, 48);
    expect(lat.z.length).toBe(2 * 3);
    expect(lat.y.length).toBe(4 * 6);
    const a = decodeMap(m, lat), b = decodeMap(parseVqvaeModel(modelBytes.slice()), lat);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});

describe('the shipped default model', () => {
  it('is a valid model whose TypeScript reference reproduces PyTorch on its probe (indices equal, x̂ within 1e-5)', () => {
    const dir = join(import.meta.dirname, '..', '..', '..', 'resources', 'models');
    const m = parseVqvaeModel(new Uint8Array(readFileSync(join(dir, 'vqvae-default.fpvq'))));
    const probe = JSON.parse(readFileSync(join(dir, 'vqvae-default.probe.json'), 'utf8')) as { shape: [number, number]; input: number[]; iz: number[]; iy: number[]; xhat: number[] };
    const [h, w] = probe.shape;
    const lat = encodeMap(m, Float32Array.from(probe.input), h, w);
    expect(Array.from(lat.z)).toEqual(probe.iz);
    expect(Array.from(lat.y)).toEqual(probe.iy);
    const x = decodeMap(m, lat);
    let worst = 0;
    x.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - probe.xhat[i]!))));
    expect(worst).toBeLessThan(1e-5);
    // the reference path's bits, pinned (docs/decoding-contract.md): any change to its arithmetic is a new version
    const sha = (v: Float32Array) => createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex');
    expect(sha(x)).toBe(GOLDEN_XHAT_SHA256);
    // and the fast path's (the WebAssembly kernels) are the same bits
    expect(sha(decodeMap(m, lat, nnKernels()))).toBe(GOLDEN_XHAT_SHA256);
  });
});

/** sha256 of the reference decoder's x̂ bytes for the shipped model on its probe (Node 20 and 22 alike) */
const GOLDEN_XHAT_SHA256 = '372a5ecc71c775c9bce8dd0b644be343b96ec76d6055099c5f8af2832e678117';

describe('VQ-VAE model files', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return `${(e as FieldpackError).code}: ${(e as Error).message}`;
    }
    return 'no error';
  };
  it('refuses a file that is not a model, truncated weights, a wrong tensor shape and a non-finite weight, naming each', () => {
    expect(code(() => parseVqvaeModel(new Uint8Array(40)))).toMatch(/BAD_FILE: .*no FPVQVAE1 magic/);
    expect(code(() => parseVqvaeModel(modelBytes.subarray(0, modelBytes.length - 4)))).toMatch(/BAD_FILE: .*weightCount/);
    const text = new TextDecoder().decode(modelBytes.subarray(12, 12 + new DataView(modelBytes.buffer).getUint32(8, true)));
    const json = JSON.parse(text) as { tensors: { name: string; shape: number[] }[] };
    json.tensors.find((t) => t.name === 'dec.up2.weight')!.shape = [8, 4, 3, 3];
    const j = new TextEncoder().encode(JSON.stringify(json));
    const edited = new Uint8Array(12 + j.length + (modelBytes.length - 12 - text.length));
    edited.set(modelBytes.subarray(0, 8));
    new DataView(edited.buffer).setUint32(8, j.length, true);
    edited.set(j, 12);
    edited.set(modelBytes.subarray(12 + text.length), 12 + j.length);
    expect(code(() => parseVqvaeModel(edited, 'BAD_STREAM'))).toMatch(/BAD_STREAM: .*tensor dec\.up2\.weight has shape/);
    const nan = modelBytes.slice();
    new DataView(nan.buffer).setFloat32(nan.length - 4, NaN, true);
    expect(code(() => parseVqvaeModel(nan))).toMatch(/BAD_FILE: .*not finite/);
  });

  it('indices round-trip through the range coder, z as y\'s context', () => {
    const r = rng32(9);
    const maps = [0, 1].map(() => ({ h: 32, w: 64, z: Uint16Array.from({ length: 8 }, () => Math.floor(r() * 16)), y: Uint16Array.from({ length: 32 }, () => Math.floor(r() * 32)) }));
    const w = new ByteWriter(64);
    writeLatents(w, maps, 16, 32);
    const back = readLatents(new ByteReader(w.finish(), 'test'), maps.map((m) => ({ h: m.h, w: m.w })), 16, 32);
    expect(back.map((m) => [Array.from(m.z), Array.from(m.y)])).toEqual(maps.map((m) => [Array.from(m.z), Array.from(m.y)]));
  });
});

describe('VQ-VAE codec', () => {
  const field = makeField('T', [3, 40, 56], { seed: 21, masked: 0.1, nonFinite: 0.01 });
  const opts = (extra: Record<string, unknown> = {}) => ({ codec: 'vqvae', params: { model: modelPath, fallback: false, chunkValues: 2000, ...extra } });

  it('meets absolute, relative and PSNR bounds with mask, NaN and +-Inf kept; the stream names its model by hash', async () => {
    for (const bound of [{ mode: 'abs', value: 0.05 }, { mode: 'rel', value: 1e-4 }, { mode: 'psnr', value: 50 }] as const) {
      const r = await encodeField(field, { ...opts(), bound, workers: 0 });
      expect(r.codec).toBe('vqvae');
      expect(r.verification!.pointsOverBound).toBe(0);
      if (bound.mode === 'psnr') expect(r.verification!.psnr).toBeGreaterThanOrEqual(50);
      expect(r.details.parts).toMatchObject({ latents: expect.any(Number), residual: expect.any(Number) });
      expect((r.details.parts as { latents: number }).latents).toBeGreaterThan(0);
      expect(r.details.trainingSeconds).toBe(1.5);
    }
  });

  it('identical bytes with 0, 1 and 2 workers; identical values decoding with 0, 1 and 2 workers, fast and reference paths', async () => {
    const bound = { mode: 'rel' as const, value: 1e-3 };
    const streams: Uint8Array[] = [];
    for (const workers of [0, 1, 2]) streams.push((await encodeField(field, { ...opts(), bound, workers, verify: false })).bytes);
    expect(Buffer.from(streams[1]!).equals(Buffer.from(streams[0]!))).toBe(true);
    expect(Buffer.from(streams[2]!).equals(Buffer.from(streams[0]!))).toBe(true);
    const d0 = await decodeStream(streams[0]!, { workers: 0, deps: { files: [modelPath] } });
    for (const [workers, decodePath] of [[1, 'fast'], [2, 'fast'], [0, 'reference'], [2, 'reference']] as const) {
      const d = await decodeStream(streams[0]!, { workers, decodePath, deps: { files: [modelPath] } });
      expect(Buffer.from(d.field.values.buffer).equals(Buffer.from(d0.field.values.buffer)), `${workers} workers, ${decodePath} path`).toBe(true);
    }
    expect(d0.header.chunks.length).toBeGreaterThan(1);
  });

  it('without its model a stream names what is missing; an embedded model decodes alone', async () => {
    const bound = { mode: 'rel' as const, value: 1e-3 };
    const named = await encodeField(field, { ...opts(), bound, workers: 0, verify: false });
    await expect(decodeStream(named.bytes, { workers: 0 })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/model VQ-VAE/) });
    const embedded = await encodeField(field, { ...opts({ embedModel: true }), bound, workers: 0 });
    expect(embedded.bytes.length).toBeGreaterThan(named.bytes.length);
    const d = await decodeStream(embedded.bytes, { workers: 0 });
    expect(d.header.params.embedded).toBe(true);
  });

  it('a decoder whose x̂ is not the encoder\'s (another model under the same hash) refuses to decode', async () => {
    const r = await encodeField(field, { ...opts(), bound: { mode: 'rel', value: 1e-3 }, workers: 0, verify: false });
    const other = randomModel(CONFIG, 6);
    const resolved = { anchors: {}, models: { [String(r.params.model)]: other }, bases: {} };
    // on the fast path too: its x̂ misses the CRC, the reference's misses it as well, and the chunk is refused
    for (const decodePath of ['fast', 'reference'] as const) {
      await expect(decodeStream(r.bytes, { workers: 0, resolved, decodePath })).rejects.toMatchObject({ code: 'BAD_STREAM', message: expect.stringMatching(/x̂ differs from the encoder's/) });
    }
  });

  it('codes maps whose spread bfloat16 rounds to Inf (values near float32\'s largest), within the bound', async () => {
    // their std stored as bfloat16 was Inf, which the decoder refused as a corrupted stream
    const values = Float32Array.from({ length: 30 * 40 }, (_, i) => (Math.sin(i / 7) > 0 ? 1 : -1) * 3.4028235e38 * (0.999 + 0.001 * Math.cos(i / 3)));
    const huge: Field = { name: 'A', shape: [30, 40], dims: ['y', 'x'], values, sourceDtype: 'float32', attributes: {} };
    const r = await encodeField(huge, { ...opts(), bound: { mode: 'rel', value: 1e-3 }, workers: 0 });
    expect(r.verification!.pointsOverBound).toBe(0);
    const d = await decodeStream(r.bytes, { workers: 0, deps: { files: [modelPath] } });
    expect(verifyBound(huge, d.field, r.bound.abs).pointsOverBound).toBe(0);
  });

  it('keeps the classic stream when it is smaller (fallback), and falls back (or, told not to, refuses) on 1D fields', async () => {
    const noisy = makeField('N', [32, 32], { seed: 2, noise: 50 });
    const r = await encodeField(noisy, { codec: 'vqvae', params: { model: modelPath }, bound: { mode: 'rel', value: 1e-3 }, workers: 0 });
    if (r.codec === 'classic') expect(r.details.fellBack).toBe(true); // the stream's own codec is reported
    else expect(r.bytes.length).toBeLessThanOrEqual((await encodeField(noisy, { codec: 'auto', bound: { mode: 'rel', value: 1e-3 }, workers: 0 })).bytes.length);
    await expect(encodeField(makeField('L', [500]), { ...opts(), bound: { mode: 'rel', value: 1e-3 }, workers: 0 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    // with its fallback on, a field without 2D maps gets the classic stream, said so
    const line = await encodeField(makeField('L', [500]), { codec: 'vqvae', params: { model: modelPath }, bound: { mode: 'rel', value: 1e-3 }, workers: 0 });
    expect(line.codec).toBe('classic');
    expect(line.details.choice).toBe('classic (no 2D maps)');
  });
});

describe('VQ-VAE log scaling', () => {
  /** a non-negative, right-skewed field (like rain or cloud water): exp of a smooth field, 0 below a threshold, with mask, NaN and +-Inf */
  function skewedField(): Field {
    const f = makeField('QRAIN', [3, 40, 56], { seed: 4, masked: 0.1, nonFinite: 0.01 });
    const v = f.values;
    for (let i = 0; i < v.length; i++) if ((!f.mask || f.mask[i]) && Number.isFinite(v[i]!)) v[i] = Math.max(0, Math.exp((v[i]! - 280) / 2) - 0.1);
    return f;
  }
  let logModelPath: string;
  beforeAll(() => {
    logModelPath = join(tmp.dir, 'log.fpvq');
    writeFileSync(logModelPath, randomModel(CONFIG, 5, { seconds: 1.5, logScaledSets: 1 }));
  });
  const opts = (scaling: string, model = modelPath) => ({ codec: 'vqvae', params: { model, fallback: false, chunkValues: 2000, scaling } });

  it('auto: log only for a non-negative, strongly right-skewed field and a model trained on log-scaled maps', () => {
    const sk = skewedField();
    const range = { min: 0, max: 60, count: 100 };
    expect(chooseScaling('auto', sk.values, sk.mask ?? null, range, 0.01, true)).toEqual({ offset: 0.01, lo: 0, hi: 60 });
    expect(chooseScaling('auto', sk.values, sk.mask ?? null, range, 0.01, false)).toBeNull();
    const sym = makeField('T', [3, 40, 56], { seed: 4 });
    expect(chooseScaling('auto', sym.values, null, { min: 272, max: 288, count: 100 }, 0.01, true)).toBeNull();
    // signed: linear under auto; forced log shifts it so that every valid x + offset >= the bound
    expect(chooseScaling('auto', sk.values, sk.mask ?? null, { min: -5, max: 60, count: 100 }, 0.01, true)).toBeNull();
    expect(chooseScaling('log', sym.values, null, { min: -5, max: 60, count: 100 }, 0.01, false)).toEqual({ offset: 5.01, lo: -5, hi: 60 });
    expect(chooseScaling('log', sym.values, null, { min: 3, max: 60, count: 100 }, 0.01, false)).toEqual({ offset: 0, lo: 3, hi: 60 });
    expect(chooseScaling('linear', sk.values, null, range, 0.01, true)).toBeNull();
  });

  it('meets abs, rel and PSNR bounds on a skewed field with zeros, mask, NaN and +-Inf; the header says log and its offset', async () => {
    const f = skewedField();
    for (const bound of [{ mode: 'abs', value: 0.01 }, { mode: 'rel', value: 1e-4 }, { mode: 'psnr', value: 50 }] as const) {
      const r = await encodeField(f, { ...opts('log'), bound, workers: 0 });
      expect(r.verification!.pointsOverBound).toBe(0);
      expect(r.details).toMatchObject({ scaling: 'log', choice: 'vqvae (log)' });
      const h = readHeader(r.bytes);
      expect(h.params.scaling).toBe('log');
      expect(h.params.offset).toBe(h.bound.abs); // the valid minimum is 0
      const d = await decodeStream(r.bytes, { workers: 0, deps: { files: [modelPath] } });
      for (let i = 0; i < f.values.length; i++) {
        const a = f.values[i]!, b = d.field.values[i]!;
        if (f.mask && !f.mask[i]) expect(d.field.mask![i]).toBe(0);
        else if (!Number.isFinite(a)) expect(Object.is(a, b)).toBe(true);
        else if (Math.abs(a - b) > h.bound.abs) throw new Error(`point ${i}: ${a} decoded as ${b}, bound ${h.bound.abs}`);
      }
    }
  });

  it('forced on values <= 0 (a signed field), it still meets the bound', async () => {
    const f = makeField('T', [3, 40, 56], { seed: 8, masked: 0.1 });
    for (let i = 0; i < f.values.length; i++) if (!f.mask || f.mask[i]) f.values[i] = f.values[i]! - 281;
    const r = await encodeField(f, { ...opts('log'), bound: { mode: 'abs', value: 0.02 }, workers: 0 });
    expect(r.verification!.pointsOverBound).toBe(0);
    const h = readHeader(r.bytes);
    expect(h.params.offset).toBeCloseTo(0.02 - h.validMin, 12);
    expect(h.validMin).toBeLessThan(0);
  });

  it('auto picks log with a log-trained model; identical bytes with 0 and 2 workers, identical values decoding with 0 and 2', async () => {
    const f = skewedField();
    const bound = { mode: 'rel' as const, value: 1e-3 };
    const s0 = await encodeField(f, { ...opts('auto', logModelPath), bound, workers: 0, verify: false });
    expect(s0.details.scaling).toBe('log');
    const s2 = await encodeField(f, { ...opts('auto', logModelPath), bound, workers: 2, verify: false });
    expect(Buffer.from(s2.bytes).equals(Buffer.from(s0.bytes))).toBe(true);
    const d0 = await decodeStream(s0.bytes, { workers: 0, deps: { files: [logModelPath] } });
    const d2 = await decodeStream(s0.bytes, { workers: 2, deps: { files: [logModelPath] } });
    expect(Buffer.from(d2.field.values.buffer).equals(Buffer.from(d0.field.values.buffer))).toBe(true);
    // the shipped kind of model (trained on linear maps): auto stays linear
    expect((await encodeField(f, { ...opts('auto'), bound, workers: 0, verify: false })).details.scaling).toBe('linear');
  });

  it('a stream without `scaling` (older writers) decodes as linear; a bad scaling in the header is refused, named', async () => {
    const f = skewedField();
    const r = await encodeField(f, { ...opts('linear'), bound: { mode: 'rel', value: 1e-3 }, workers: 0, verify: false });
    const h = readHeader(r.bytes);
    expect(h.params.scaling).toBe('linear');
    const rewrite = (params: Record<string, unknown>) =>
      writeStream({ ...h, params, chunks: h.chunks.map((c) => ({ rows: c.rows, storedBytes: c.storedBytes, rawBytes: c.rawBytes, crc: c.crc, ...(c.raw ? { raw: true } : {}) })) }, h.chunks.map((_, i) => chunkBytes(h, r.bytes, i)));
    const { scaling: _, ...older } = h.params;
    const deps = { files: [modelPath] };
    const a = await decodeStream(r.bytes, { workers: 0, deps });
    const b = await decodeStream(rewrite(older), { workers: 0, deps });
    expect(Buffer.from(b.field.values.buffer).equals(Buffer.from(a.field.values.buffer))).toBe(true);
    await expect(decodeStream(rewrite({ ...older, scaling: 'log' }), { workers: 0, deps })).rejects.toMatchObject({ code: 'BAD_STREAM', message: expect.stringMatching(/scaling "log" with offset undefined/) });
    await expect(decodeStream(rewrite({ ...older, scaling: 'cube', offset: 1 }), { workers: 0, deps })).rejects.toMatchObject({ code: 'BAD_STREAM', message: expect.stringMatching(/scaling "cube"/) });
  });

  it('an unknown scaling is refused, named', async () => {
    await expect(encodeField(skewedField(), { ...opts('exp'), bound: { mode: 'rel', value: 1e-3 }, workers: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/scaling: .*"auto"\|"linear"\|"log"/) });
  });
});
