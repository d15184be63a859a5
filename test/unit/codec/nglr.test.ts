/**
 * The NGLR residual coder (issue 13): NRMSE targets and a strict point-wise bound met with the shipped default model,
 * with a network that has a reconstruction branch on a base, and without a network; the same bytes for 0, 1 and 2
 * workers and on both decoding paths (the bias is computed to the same bits by every decoder; a decoder that computes
 * other q refuses the chunk by its CRC); the model named by hash or embedded; a decoder
 * that is not given the model, or a damaged stream or model, says so. The context coder round-trips any integers.
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src-main/services/codecs/zstd-backend.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { closePools, decodeStream, encodeField, inspectStream, verifyBound } from '../../../src-main/services/codecs/index.ts';
import { codecById } from '../../../src-main/core/compressors/registry.ts';
import { resolveModelRef } from '../../../src-main/services/codecs/models.ts';
import { makeField } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { errorStats } from '../../../src-main/core/metrics/index.ts';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { ContextIntDecoder, ContextIntEncoder, magnitudeContext } from '../../../src-main/core/codec/ctxcoder.ts';
import { parseNglrModel, writeNglrModel, nglrTensorShapes, type NglrConfig } from '../../../src-main/core/nn/nglr/model.ts';
import { decodeChunk } from '../../../src-main/core/compressors/nglr/codec.ts';
import { chunkBytes, chunkPayload, readHeader } from '../../../src-main/core/codec/stream/format.ts';
import { fieldSize } from '../../../src-main/core/field.ts';
import { FERRET, field, haveFerret } from './helpers.ts';

afterAll(() => closePools());

const nrmseOf = (f: Field, d: Field) => errorStats(f.values, d.values, f.mask ?? null, Infinity).nrmse;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** A model with small pseudo-random weights (a fixed LCG: the same file on every machine). */
function randomModel(config: NglrConfig): Uint8Array {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.4;
  const tensors: Record<string, Float32Array> = {};
  for (const [name, shape] of nglrTensorShapes(config)) tensors[name] = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rnd);
  return writeNglrModel(config, tensors, { test: true });
}

const SHIPPED = new Uint8Array(readFileSync(join(import.meta.dirname, '../../../resources/models/nglr-default.fpnl')));

/** The shipped model (which helps on smooth fields) with an R-channel reconstruction branch of small LCG weights. */
function withReconBranch(shipped: Uint8Array, R: number): Uint8Array {
  const m = parseNglrModel(shipped);
  const { causal: C, hidden: Hd } = m.config;
  let s = 777;
  const small = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.02;
  const fusion = new Float32Array(Hd * (C + R));
  for (let k = 0; k < Hd; k++) for (let j = 0; j < C + R; j++) fusion[k * (C + R) + j] = j < C ? m.t['fusion.0.weight']![k * C + j]! : small();
  return writeNglrModel({ ...m.config, recon: R }, {
    ...m.t, 'recon.weight': Float32Array.from({ length: R * 7 * 27 }, small), 'recon.bias': Float32Array.from({ length: R }, small), 'fusion.0.weight': fusion,
  }, { test: 'shipped model plus a small reconstruction branch' });
}

describe('context integer coder', () => {
  it('round-trips zeros, small and large signed integers under any contexts', () => {
    const values = [0, 1, -1, 2, -3, 1000, -65536, 2 ** 30, -(2 ** 31 - 1), 7, 0, 0, 0, 123456789];
    for (let i = 0; i < 2000; i++) values.push(Math.round(Math.sin(i) * 50 * (i % 7)) || 0);
    const w = new ByteWriter(64);
    const enc = new ContextIntEncoder(24, 64);
    values.forEach((v, i) => enc.put(v, magnitudeContext(Math.abs(values[i - 1] ?? 0), 24)));
    enc.finish(w);
    const r = new ByteReader(w.finish(), 'test');
    const dec = new ContextIntDecoder(r, 24, 'test');
    const back = values.map((_, i, a) => dec.get(magnitudeContext(Math.abs(a[i - 1] ?? 0), 24)));
    dec.check();
    expect(back).toEqual(values);
  });
});

describe('NGLR residual coder', () => {
  const f = makeField('T', [6, 40, 56], { seed: 7, masked: 0.1, nonFinite: 0.005, noise: 0.05 });

  it('meets NRMSE targets 1e-4..1e-6 with the shipped model, NaN, +-Inf and fill kept exactly; never more bytes than with no network', async () => {
    for (const t of [1e-4, 1e-5, 1e-6]) {
      const r = await encodeField(f, { codec: 'nglr', params: { fallback: false }, bound: { mode: 'nrmse', value: t }, workers: 0 });
      expect(r.codec).toBe('nglr');
      expect(r.verification!.nrmse).toBeLessThanOrEqual(t);
      expect(r.verification!.nonFiniteExact).toBe(true);
      expect(r.bound.abs).toBeCloseTo(r.details.maxError as number, 12);
      const plain = await encodeField(f, { codec: 'nglr', params: { fallback: false, model: 'none' }, bound: { mode: 'nrmse', value: t }, workers: 0 });
      expect(plain.verification!.nrmse).toBeLessThanOrEqual(t);
      // each chunk keeps the bias only where it pays
      expect(r.bytes.length).toBeLessThanOrEqual(plain.bytes.length + 100); // the header names the model (sha256)
      expect((r.details.counts as { chunks: number }).chunks).toBeGreaterThan(0);
    }
  });

  it('holds a strict point-wise bound, with the same bytes and values for 0, 1 and 2 workers', async () => {
    const streams: Uint8Array[] = [];
    for (const workers of [0, 1, 2]) streams.push((await encodeField(f, { codec: 'nglr', params: { fallback: false, chunkValues: 4000 }, bound: { mode: 'abs', value: 0.01 }, workers })).bytes);
    expect(same(streams[1]!, streams[0]!)).toBe(true);
    expect(same(streams[2]!, streams[0]!)).toBe(true);
    const decoded = await Promise.all([0, 1, 2].map((workers) => decodeStream(streams[0]!, { workers })));
    for (const d of decoded) expect(verifyBound(f, d.field, 0.01).pointsOverBound).toBe(0);
    const bytesOf = (d: (typeof decoded)[number]) => new Uint8Array(d.field.values.buffer, d.field.values.byteOffset, d.field.values.byteLength);
    expect(same(bytesOf(decoded[1]!), bytesOf(decoded[0]!))).toBe(true);
    expect(same(bytesOf(decoded[2]!), bytesOf(decoded[0]!))).toBe(true);
    expect(inspectStream(streams[0]!).header.chunks.length).toBeGreaterThan(1);
  });

  it('uses a reconstruction branch on a base: decodes to the same bits, needs the base and the model by hash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldpack-nglr-'));
    const modelPath = join(dir, 'recon.fpnl');
    const model = withReconBranch(SHIPPED, 4);
    writeFileSync(modelPath, model);
    const base = await encodeField(f, { codec: 'auto', bound: { mode: 'rel', value: 1e-2 }, workers: 0, verify: false });
    const baseField = { ...(await decodeStream(base.bytes, { workers: 0 })).field, name: 'T' };
    const bound = { mode: 'nrmse' as const, value: 1e-5 };
    const r = await encodeField(f, { codec: 'nglr', params: { model: modelPath, chunkValues: 5000, predictor: 'lorenzo' }, base: baseField, bound, workers: 2, metadata: { variable: 'T' } });
    expect(r.verification!.nrmse).toBeLessThanOrEqual(1e-5);
    const hash = createHash('sha256').update(model).digest('hex');
    expect(inspectStream(r.bytes).header.params.model).toBe(hash);
    await expect(decodeStream(r.bytes, { workers: 0, deps: { fields: [baseField] } })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/model/) });
    expect((r.details.counts as { chunksWithBias: number }).chunksWithBias).toBeGreaterThan(0);
    // the wavefront path reproduces the reference's q on every chunk by itself (no fallback), with the branch
    const h = readHeader(r.bytes);
    const rowSize = fieldSize(h.shape) / h.shape[0]!;
    for (let i = 0; i < h.chunks.length; i++) {
      const b = baseField.values.subarray(h.chunks[i]!.row0 * rowSize, (h.chunks[i]!.row0 + h.chunks[i]!.rows) * rowSize);
      const ref = decodeChunk(h, i, chunkBytes(h, r.bytes, i), b, model, 'reference', false);
      const fast = decodeChunk(h, i, chunkBytes(h, r.bytes, i), b, model, 'wavefront', false);
      expect(same(new Uint8Array(fast.values.buffer), new Uint8Array(ref.values.buffer))).toBe(true);
    }
    const d0 = await decodeStream(r.bytes, { workers: 0, deps: { fields: [baseField], files: [modelPath] } });
    const d2 = await decodeStream(r.bytes, { workers: 2, deps: { fields: [baseField], files: [modelPath] } });
    expect(nrmseOf(f, d0.field)).toBeLessThanOrEqual(1e-5);
    expect(Buffer.from(d0.field.values.buffer).equals(Buffer.from(d2.field.values.buffer))).toBe(true);
  });

  it('codes a target the base already meets, or one looser than the field\'s own spread (every q 0), with both residual coders', async () => {
    // the step search found no largest step there and wrote one near 1e300, which the decoder refused as corrupted
    const base = await encodeField(f, { codec: 'auto', bound: { mode: 'rel', value: 1e-3 }, workers: 0, verify: false });
    const baseField = { ...(await decodeStream(base.bytes, { workers: 0 })).field, name: 'T' };
    const baseNrmse = nrmseOf(f, baseField);
    for (const codec of ['nglr', 'lbrc']) {
      const loose = { mode: 'nrmse' as const, value: 4 * baseNrmse };
      const r = await encodeField(f, { codec, params: codec === 'nglr' ? { fallback: false } : {}, base: baseField, bound: loose, workers: 0, metadata: { variable: 'T' } });
      const d = await decodeStream(r.bytes, { workers: 0, deps: { fields: [baseField] } });
      expect(nrmseOf(f, d.field), codec).toBeLessThanOrEqual(loose.value);
      const alone = await encodeField(f, { codec, params: codec === 'nglr' ? { fallback: false } : {}, bound: { mode: 'nrmse', value: 1 }, workers: 0 });
      expect(nrmseOf(f, (await decodeStream(alone.bytes, { workers: 0 })).field), codec).toBeLessThanOrEqual(1);
    }
  });

  it.runIf(haveFerret)('fits a linear predictor per chunk where it pays (Levitus TEMP, masked): fewer bytes than the paper\'s Lorenzo, the same values on both paths (needs ferret-datasets)', async () => {
    const lev = await field(`${FERRET}/levitus_climatology.cdf`, 'TEMP');
    const bound = { mode: 'nrmse' as const, value: 1e-4 };
    const auto = await encodeField(lev, { codec: 'nglr', params: { fallback: false, model: 'none' }, bound, workers: 2 });
    const lorenzo = await encodeField(lev, { codec: 'nglr', params: { fallback: false, model: 'none', predictor: 'lorenzo' }, bound, workers: 2, verify: false });
    expect((auto.details.counts as { chunksWithLinear: number }).chunksWithLinear).toBeGreaterThan(0);
    expect(auto.bytes.length).toBeLessThan(0.95 * lorenzo.bytes.length);
    expect(auto.verification!.nrmse).toBeLessThanOrEqual(1e-4);
    const h = readHeader(auto.bytes);
    for (let i = 0; i < h.chunks.length; i++) {
      const ref = decodeChunk(h, i, chunkBytes(h, auto.bytes, i), null, null, 'reference', false);
      const fast = decodeChunk(h, i, chunkBytes(h, auto.bytes, i), null, null, 'wavefront', false);
      expect(same(new Uint8Array(fast.values.buffer), new Uint8Array(ref.values.buffer))).toBe(true);
    }
  });

  it('keeps the core codec\'s stream where it is smaller (fallback, the default; never with a base), and says so', async () => {
    const bound = { mode: 'nrmse' as const, value: 1e-5 };
    const own = await encodeField(f, { codec: 'nglr', params: { fallback: false }, bound, workers: 0 });
    const core = await encodeField(f, { codec: 'auto', bound, workers: 0 });
    const kept = await encodeField(f, { codec: 'nglr', bound, workers: 0 });
    expect(kept.bytes.length).toBe(Math.min(own.bytes.length, core.bytes.length));
    expect(inspectStream(kept.bytes).codec.id).toBe(core.bytes.length < own.bytes.length ? 'classic' : 'nglr');
    if (core.bytes.length < own.bytes.length) expect(kept.details).toMatchObject({ fellBack: true, nglrBytes: own.bytes.length });
    expect(kept.verification!.nrmse).toBeLessThanOrEqual(1e-5);
  });

  it('embeds the model on request: decodable without the model file, and the ratio counts it', async () => {
    const bound = { mode: 'nrmse' as const, value: 1e-5 };
    // white noise under 3D Lorenzo: a field where the shipped bias pays, so the stream keeps it
    const noisy = makeField('T', [6, 40, 56], { seed: 3, noise: 5 });
    const named = await encodeField(noisy, { codec: 'nglr', params: { fallback: false, predictor: 'lorenzo' }, bound, workers: 0 });
    expect((named.details.counts as { chunksWithBias: number }).chunksWithBias).toBeGreaterThan(0);
    const embedded = await encodeField(noisy, { codec: 'nglr', params: { fallback: false, embedModel: true, predictor: 'lorenzo' }, bound, workers: 0 });
    expect(embedded.bytes.length).toBeGreaterThan(named.bytes.length + 1000);
    const h = inspectStream(embedded.bytes).header;
    expect(h.params.embedded).toBe(true);
    const d = await decodeStream(embedded.bytes, { workers: 0 });
    expect(nrmseOf(noisy, d.field)).toBeLessThanOrEqual(1e-5);
  });

  it('leaves out a model no chunk used: the stream decodes without the model file, and embedding it costs nothing', async () => {
    // on this field the fitted linear predictor wins in every chunk and the bias never pays
    const bound = { mode: 'nrmse' as const, value: 1e-5 };
    const params = { fallback: false, chunkValues: 4000 };
    const named = await encodeField(f, { codec: 'nglr', params, bound, workers: 2 });
    expect(named.details.counts).toMatchObject({ chunksWithBias: 0 });
    expect(inspectStream(named.bytes).header.chunks.length).toBeGreaterThan(1);
    expect(named.details.choice).toMatch(/the model left out \(no chunk used it\)/);
    expect(inspectStream(named.bytes).header.params.model).toBeUndefined();
    const embedded = await encodeField(f, { codec: 'nglr', params: { ...params, embedModel: true }, bound, workers: 0 });
    expect(same(embedded.bytes, named.bytes)).toBe(true);
    const d = await decodeStream(named.bytes, { workers: 0 });
    expect(nrmseOf(f, d.field)).toBeLessThanOrEqual(1e-5);
  });

  it('a missing model is said with where it was looked for; folders, dangling links and altered files named like models are passed over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldpack-nglr-'));
    // the shipped model with its last weight's lowest bit flipped: used as it is (on white noise, as below), and
    // found nowhere but here
    const model = SHIPPED.slice();
    model[model.length - 1] ^= 1;
    const modelPath = join(dir, 'mine.fpnl');
    writeFileSync(modelPath, model);
    const noisy = makeField('T', [6, 40, 56], { seed: 3, noise: 5 });
    const r = await encodeField(noisy, { codec: 'nglr', params: { model: modelPath, fallback: false, predictor: 'lorenzo' }, bound: { mode: 'nrmse', value: 1e-5 }, workers: 0, verify: false });
    expect(inspectStream(r.bytes).header.params.model).toBe(createHash('sha256').update(model).digest('hex'));
    const altered = model.slice();
    altered[altered.length - 1] ^= 1;
    writeFileSync(join(dir, 'altered.fpnl'), altered);
    mkdirSync(join(dir, 'folder.fpnl'));
    symlinkSync(join(dir, 'gone.fpnl'), join(dir, 'dangling.fpnl'));
    const given = [join(dir, 'altered.fpnl'), join(dir, 'folder.fpnl'), join(dir, 'nowhere.fpnl')];
    const refused = decodeStream(r.bytes, { workers: 0, deps: { files: given } });
    await expect(refused).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const message = await refused.catch((e: Error) => e.message);
    expect(message).toContain(`${join(dir, 'altered.fpnl')} (sha256 ${createHash('sha256').update(altered).digest('hex').slice(0, 16)}..., another model or an altered one)`);
    expect(message).toContain(`${join(dir, 'folder.fpnl')} (not a file)`);
    expect(message).toContain(`${join(dir, 'nowhere.fpnl')} (no such file)`);
    expect(message).toMatch(/the \.fpnl files in .*resources[/\\]models/);
    // the model among them, with a folder and a dangling link of its extension in a model folder searched
    const before = process.env.FIELDPACK_MODEL_PATH;
    process.env.FIELDPACK_MODEL_PATH = dir;
    try {
      const d = await decodeStream(r.bytes, { workers: 0, deps: { files: [...given, modelPath] } });
      expect(nrmseOf(noisy, d.field)).toBeLessThanOrEqual(1e-5);
      // and found by hash in that folder alone
      const again = await decodeStream(r.bytes, { workers: 0 });
      expect(Buffer.from(again.field.values.buffer).equals(Buffer.from(d.field.values.buffer))).toBe(true);
      // a copy of a model beside it is that model, by a prefix of its hash too (two paths read "ambiguous")
      writeFileSync(join(dir, 'copy.fpnl'), model);
      const hash = createHash('sha256').update(model).digest('hex');
      const mp = codecById('nglr').modelParam!;
      expect(createHash('sha256').update(resolveModelRef(mp, hash.slice(0, 12)).bytes).digest('hex')).toBe(hash);
      expect(() => resolveModelRef(mp, 'abc')).toThrow(/a sha256 prefix has at least 8 hex digits/);
    } finally {
      if (before === undefined) delete process.env.FIELDPACK_MODEL_PATH;
      else process.env.FIELDPACK_MODEL_PATH = before;
    }
  });

  it('an abs bound past ~8e298 (float64 values near their limit): the step is capped so its own decoder takes the stream; within the bound', async () => {
    const big: Field = { ...f, name: 'BIG', values: Float64Array.from(f.values, (v) => v * 1e305), sourceDtype: 'float64' } as Field;
    for (const bound of [{ mode: 'abs' as const, value: 1e300 }, { mode: 'abs' as const, value: 9e298 }]) {
      const r = await encodeField(big, { codec: 'nglr', params: { fallback: false }, bound, workers: 0 });
      expect(r.verification!.pointsOverBound).toBe(0);
      const d = await decodeStream(r.bytes, { workers: 0 });
      expect(verifyBound(big, d.field, bound.value).pointsOverBound).toBe(0);
    }
  });

  it('refuses a damaged stream or model with a clear error', async () => {
    const r = await encodeField(f, { codec: 'nglr', params: { fallback: false, embedModel: true }, bound: { mode: 'nrmse', value: 1e-5 }, workers: 0, verify: false });
    await expect(decodeStream(r.bytes.subarray(0, r.bytes.length - 40), { workers: 0 })).rejects.toMatchObject({ code: 'BAD_STREAM' });
    const model = randomModel({ causal: 4, recon: 0, hidden: 4, negativeSlope: 0.0625 });
    expect(() => parseNglrModel(model.subarray(0, model.length - 4))).toThrow(/NGLR model: .*weight bytes/);
    const bad = model.slice();
    bad.set(new TextEncoder().encode('FPXXXX01'), 0);
    expect(() => parseNglrModel(bad)).toThrow(/not a Fieldpack NGLR model/);
    const dir = mkdtempSync(join(tmpdir(), 'fieldpack-nglr-'));
    writeFileSync(join(dir, 'bad.fpnl'), bad);
    await expect(encodeField(f, { codec: 'nglr', params: { model: join(dir, 'bad.fpnl') }, bound: { mode: 'nrmse', value: 1e-5 }, workers: 0 })).rejects.toMatchObject({ code: 'BAD_FILE' });
  });

  it.runIf(haveFerret)('golden streams: decode to the pinned values on both paths and any worker count, and the encoder writes the chunks of the v2 streams again (needs ferret-datasets)', async () => {
    // test/fixtures/golden (make-golden-nglr.ts.txt): two months of COADS SST at NRMSE 1e-5 with the shipped model, two
    // chunks. v2: layout 2 (q CRC, six-neighbour context), predictor lorenzo, both chunks with the bias; v2-linear: the
    // same with the fitted linear predictor in both chunks; v1: layout 1. A decoder that computed another bias or
    // linear term bit would decode other q.
    const read = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/golden', name)));
    const goldens = {
      'nglr-sst-v1.fpk': 'e0724f3cb3f4775f378c12dc1fc85cfacbb52a8fd947c5da4629d0ae83674364',
      'nglr-sst-v2.fpk': '735fd750a4c89a0004df573207169f571b7c9dbbf5364c4ea3cb13d37648e745',
      'nglr-sst-v2-linear.fpk': '55f65a981807c152270eb819f0d313e3a4f94d4abaacdebf8da5a56a0a05925e',
    };
    for (const [name, sha] of Object.entries(goldens)) {
      const golden = read(name);
      expect(createHash('sha256').update(golden).digest('hex')).toBe(sha);
      for (const [workers, decodePath] of [[0, 'reference'], [0, 'fast'], [2, 'reference'], [2, 'fast']] as const) {
        const d = await decodeStream(golden, { workers, decodePath });
        expect(createHash('sha256').update(new Uint8Array(d.field.values.buffer, d.field.values.byteOffset, d.field.values.byteLength)).digest('hex')).toBe('709869de9438b188b8e7b00c0dd5ccb15edb5890d12f41c381c078781a20bf9f');
      }
    }
    const sst = await field(`${FERRET}/coads_climatology.cdf`, 'SST');
    const n = 2 * 90 * 180;
    const g = { ...sst, shape: [2, 90, 180], values: sst.values.slice(0, n), mask: sst.mask?.slice(0, n) };
    for (const [name, predictor, counts] of [['nglr-sst-v2.fpk', 'lorenzo', { chunksWithBias: 2, chunksWithLinear: 0 }], ['nglr-sst-v2-linear.fpk', 'auto', { chunksWithBias: 0, chunksWithLinear: 2 }]] as const) {
      const r = await encodeField(g, { codec: 'nglr', bound: { mode: 'nrmse', value: 1e-5 }, workers: 1, verify: false, params: { chunkValues: 16200, fallback: false, predictor }, metadata: { variable: 'SST' } });
      expect(r.details.counts).toMatchObject(counts);
      // the codec's bytes (the chunks) are the golden's; the header around them may be written more compactly since
      const [written, pinned] = [readHeader(r.bytes), readHeader(read(name))];
      expect(same(r.bytes.subarray(written.headerBytes), read(name).subarray(pinned.headerBytes))).toBe(true);
      const fields = (x: typeof written) => [x.params, x.metadata, x.bound, x.chunks.map((c) => c.crc)];
      // a header no longer names a model no chunk used (the linear golden, written before, does: both its chunks do without it)
      const { model: _unused, ...withoutModel } = pinned.params;
      expect(fields(written)).toEqual(fields({ ...pinned, params: counts.chunksWithBias ? pinned.params : withoutModel }));
    }
  });

  it('a decoder whose network computes other biases than the encoder\'s refuses the chunk (the q CRC), on both paths', () => {
    // the contract broken on purpose: the golden stream's chunks decoded with another network than the shipped one
    const golden = new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/golden/nglr-sst-v2.fpk')));
    const other = randomModel({ causal: 16, recon: 0, hidden: 16, negativeSlope: 0.0625 });
    const h = readHeader(golden);
    for (const path of ['reference', 'wavefront'] as const) {
      for (let i = 0; i < h.chunks.length; i++) {
        expect(() => decodeChunk(h, i, chunkBytes(h, golden, i), null, other, path)).toThrow(/chunk \d: the decoded quantized residuals do not match the encoder's \(CRC-32 of q\).*decoding contract is broken/);
        expect(decodeChunk(h, i, chunkBytes(h, golden, i), null, SHIPPED, path, false).values.length).toBe(fieldSize([h.chunks[i]!.rows, ...h.shape.slice(1)]));
      }
    }
  });

  it.runIf(haveFerret)('COADS SST at NRMSE 1e-4..1e-6: every target met, fewer bytes than LBRC (needs ferret-datasets)', async () => {
    const sst = await field(`${FERRET}/coads_climatology.cdf`, 'SST');
    for (const t of [1e-4, 1e-5, 1e-6]) {
      const bound = { mode: 'nrmse' as const, value: t };
      const r = await encodeField(sst, { codec: 'nglr', bound, workers: 2 });
      expect(r.verification!.nrmse).toBeLessThanOrEqual(t);
      const l = await encodeField(sst, { codec: 'lbrc', bound, workers: 2, verify: false });
      expect(r.bytes.length).toBeLessThan(l.bytes.length);
    }
  });
});

describe('NGLR at the edges of its integer range', () => {
  it('codes differences near 2^31 (huge jumps at a fine abs bound), with and without the network', async () => {
    const values = Float64Array.from([0, 8e8, 8e8, -8e8, 1e9, -1e9, 3, 7e8, -7e8]);
    const f: Field = { name: 'J', shape: [3, 3], dims: ['y', 'x'], values, sourceDtype: 'float64', attributes: {} };
    for (const model of ['default', 'none']) {
      const r = await encodeField(f, { codec: 'nglr', params: { fallback: false, model }, bound: { mode: 'abs', value: 0.5 }, workers: 0 });
      expect(r.verification!.pointsOverBound).toBe(0);
    }
  });
});

describe('NGLR on values stored on a grid', () => {
  it('codes the grid indices when the step would be finer than the grid: values back to the last bit, far fewer bytes', async () => {
    // a smooth field rounded to 0.001 (as products are), in float32: 1e-6 asks for a step far below the grid's
    const base = makeField('G', [4, 40, 60], { seed: 11, noise: 0.02 });
    const values = Float32Array.from(base.values, (v) => Math.round((v - 270) * 1000) / 1000);
    const f: Field = { ...base, values, mask: undefined };
    const bound = { mode: 'nrmse' as const, value: 1e-6 };
    const r = await encodeField(f, { codec: 'nglr', params: { fallback: false }, bound, workers: 0 });
    expect(r.verification!.nrmse).toBeLessThanOrEqual(1e-6);
    const ulp = 2 ** (Math.floor(Math.log2(Math.max(...values.map(Math.abs)))) - 23);
    expect(r.verification!.maxAbsError).toBeLessThanOrEqual(ulp);
    const off = await encodeField(f, { codec: 'lbrc', bound, workers: 0, verify: false });
    expect(r.bytes.length).toBeLessThan(0.8 * off.bytes.length);
  });
});
