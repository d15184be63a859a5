/**
 * Streams with a VALID checksum whose header or payload was crafted (issue 11 items 1-2): every header field is
 * range-checked before anything is allocated from it, each failure is BAD_STREAM naming the field, quickly and
 * without memory beyond the declared output. The fuzz harness (fuzz.test.ts, npm run fuzz) covers the rest at random.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import '../../../src-main/services/codecs/zstd-backend.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { crc32 } from '../../../src-main/core/codec/crc32.ts';
import { type HeaderInput, type StreamHeader, MAX_VALUES, readHeader, writeStream } from '../../../src-main/core/codec/stream/format.ts';
import { huffmanDecode } from '../../../src-main/core/codec/huffman.ts';
import { rangeDecodeCodes } from '../../../src-main/core/codec/rangecoder.ts';
import { msDecodeCodesBare } from '../../../src-main/core/codec/mscoder.ts';
import { maskDecode2 } from '../../../src-main/core/codec/maskcoder.ts';
import { quantizeToGrid } from '../../../src-main/core/nn/quantize.ts';
import { decodeEmbeddedNetwork, encodeEmbeddedNetwork } from '../../../src-main/core/nn/embed.ts';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import type { ResolvedDependencies } from '../../../src-main/core/compressors/index.ts';
import { decodeStream, inspectStream } from '../../../src-main/services/codecs/index.ts';
import { buildSeedStreams, seedDependencies, type SeedStream } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { editHeaderField } from '../../../src-main/services/codecs/fuzz-mutate.ts';

let seeds: SeedStream[];
const seed = (name: string) => seeds.find((s) => s.name === name)!;
beforeAll(async () => {
  seeds = await buildSeedStreams();
});

const depsOf = (s: SeedStream): ResolvedDependencies => seedDependencies(s);

/** The stream with its header edited (written again, checksums of header and chunks valid). */
function edit(bytes: Uint8Array, fn: (h: HeaderInput & { chunks: StreamHeader['chunks'] }) => void, payload?: (region: Uint8Array) => Uint8Array): Uint8Array {
  const h = readHeader(bytes);
  const input = structuredClone({ ...h }) as unknown as HeaderInput & { chunks: StreamHeader['chunks'] };
  fn(input);
  let region = bytes.subarray(h.headerBytes);
  if (payload) region = payload(region);
  return writeStream(input, [region]);
}

/** Decodes (and inspects) expecting BAD_STREAM whose message matches `field`, within `ms`. */
async function expectBad(bytes: Uint8Array, field: RegExp, s?: SeedStream, ms = 1500): Promise<string> {
  const t0 = performance.now();
  let err: unknown = null;
  try {
    await decodeStream(bytes, { workers: 0, ...(s ? { resolved: depsOf(s) } : {}) });
  } catch (e) {
    err = e;
  }
  expect(performance.now() - t0).toBeLessThan(ms);
  expect(err, 'expected BAD_STREAM, the stream decoded').toBeInstanceOf(FieldpackError);
  expect((err as FieldpackError).code, (err as Error).message).toBe('BAD_STREAM');
  expect((err as Error).message).toMatch(field);
  // inspect reads the same header: the same refusal, or the header alone
  try {
    inspectStream(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(FieldpackError);
    expect((e as FieldpackError).code).toBe('BAD_STREAM');
  }
  return (err as Error).message;
}

describe('header fields are range-checked (classic)', () => {
  it('the absolute bound: NaN, negative, infinite; abs mode with another value', async () => {
    const b = seed('classic-lorenzo-2d').bytes;
    for (const abs of [NaN, -1, Infinity, -Infinity, 1e308]) await expectBad(edit(b, (h) => (h.bound.abs = abs)), /absolute bound/);
    const abs = seed('classic-dq-f64-3d').bytes;
    await expectBad(edit(abs, (h) => (h.bound.abs = 0.02)), /absolute bound .* does not follow from abs/);
    for (const v of [NaN, -1, Infinity]) await expectBad(edit(b, (h) => (h.bound.value = v)), /bound value/);
    await expectBad(edit(b, (h) => (h.bound.value = 0)), /does not follow from rel 0/);
    // an absolute bound left out (flag 32) where the header cannot give it (psnr), unknown bound-mode bits
    const mode = readHeader(b).bound.mode === 'rel' ? 1 : 0;
    await expectBad(editHeaderField(b, 'bound mode', 2 | 16 | 32), /absolute bound of a psnr bound cannot follow from it/);
    await expectBad(editHeaderField(b, 'bound mode', mode | 16 | 64), /unknown bound value encoding/);
  });

  it('a bound of 0 (lossless) on predicted chunks is refused; lossless chunks under a bound > 0 decode exactly (the encoder codes them so where that is smaller)', async () => {
    await expectBad(edit(seed('classic-lorenzo-2d').bytes, (h) => (h.bound.abs = 0)), /chunk 0 is predicted but the header's absolute bound is 0/);
    const exact = seed('classic-lossless-f64').bytes;
    const underBound = await decodeStream(edit(exact, (h) => { h.bound.abs = 0.5; h.bound.value = 0.5; }));
    expect(underBound.field.values).toEqual((await decodeStream(exact)).field.values);
  });

  it('radius (2^31 decoded for 30 s to wrong values), tune, maxDims, predictor', async () => {
    for (const b of [seed('classic-lorenzo-2d').bytes, seed('classic-huffman-small-bound').bytes]) {
      for (const radius of [2 ** 31, 2 ** 20 + 1, 0, -5, 1.5, 'x', null]) await expectBad(edit(b, (h) => (h.params.radius = radius)), /radius/);
    }
    const b = seed('classic-interp-cubic-tuned').bytes;
    await expectBad(edit(b, (h) => (h.params.tune = 99)), /classic tune 99/);
    await expectBad(edit(b, (h) => (h.params.maxDims = 7)), /classic maxDims 7/);
    await expectBad(edit(b, (h) => (h.params.predictor = 'bogus')), /unknown classic predictor "bogus"/);
    // grid indices: a header that drops or breaks the grid the chunks are coded on
    const g = seed('classic-grid-masked-nonfinite').bytes;
    expect(readHeader(g).params.grid).toBeDefined();
    await expectBad(edit(g, (h) => delete h.params.grid), /coded on a grid the header does not give/);
    for (const grid of [[0, -0.01, 0], [0, 0.01, 99], [0, 0.01], [NaN, 0.01, 0], 'x']) await expectBad(edit(g, (h) => (h.params.grid = grid)), /classic grid/);
  });

  it('a declared shape beyond 2^32 values, or beyond what the chunks hold, fails at once', async () => {
    const b = seed('classic-lorenzo-2d').bytes;
    await expectBad(editHeaderField(b, 'dim 1', 2 ** 31), /shape \[24, 2147483648\]/);
    await expectBad(editHeaderField(b, 'dim 1', 2 ** 53 - 1), /shape \[24, 9007199254740991\]/);
    expect(MAX_VALUES).toBe(2 ** 32);
    // 1.6e9 values declared by a 700-byte stream: refused before any of it is allocated
    const rss0 = process.memoryUsage().rss;
    for (const name of ['classic-lorenzo-2d', 'classic-masked-huffman', 'classic-chunks-ms', 'classic-constant', 'classic-constant-masked-nonfinite', 'classic-lossless-masked-nonfinite']) {
      const s = seed(name);
      await expectBad(edit(s.bytes, (h) => (h.shape = [h.shape[0]!, ...h.shape.slice(1, -1), 2 ** 26])), /chunk 0|codes|points|lossless values|symbols/, undefined, 1000);
    }
    expect(process.memoryUsage().rss - rss0).toBeLessThan(256 << 20);
  });

  it('chunk sizes: a raw size beyond 16 bytes per value (+1 MiB), rows of 0', async () => {
    const z = seeds.find((x) => readHeader(x.bytes).chunks.some((c) => !c.raw))!;
    const i = readHeader(z.bytes).chunks.findIndex((c) => !c.raw);
    await expectBad(editHeaderField(z.bytes, `chunk ${i} raw size`, 2 ** 40), new RegExp(`chunk ${i} raw size 1099511627776 bytes exceeds`), z);
    const b = seed('classic-chunks-range').bytes;
    await expectBad(edit(b, (h) => { h.chunks[1]!.rows = 0; h.chunks[2]!.rows += 4; }), /chunk 1 rows 0/);
  });

  it('valid range, backend, flags and metadata', async () => {
    const b = seed('classic-lorenzo-2d').bytes;
    await expectBad(edit(b, (h) => (h.validMin = NaN)), /valid range/);
    await expectBad(edit(b, (h) => { h.validMin = 5; h.validMax = 1; }), /valid range \[5, 1\]/);
    await expectBad(editHeaderField(b, 'backend', 7), /unknown lossless backend id 7/);
    await expectBad(editHeaderField(b, 'flags', 64), /unknown flags 64/);
    // an implicit fill (flag 8) marks the points of the fill value in the chunks' masks: it needs both
    await expectBad(editHeaderField(b, 'flags', 8), /an implicit fill without the mask and the fill value/);
    await expectBad(editHeaderField(b, 'metadata length', 2 ** 40), /metadata length 1099511627776 exceeds/);
    await expectBad(editHeaderField(b, 'dtype', 2), /dtype/);
    await expectBad(editHeaderField(b, 'chunk count', 2 ** 31), /2147483648 chunks for 24 rows/);
    await expectBad(edit(b, (h) => (h.codec = 'x y')), /codec id "x y" is not a codec name/);
  });

  it('metadata that would unpack 2^30 coordinates decodes at once (coordinates not of the dims\' length are dropped)', async () => {
    const b = seed('classic-lorenzo-2d').bytes;
    const t0 = performance.now();
    const d = await decodeStream(edit(b, (h) => (h.metadata.coordinates = { lat: ['float64', {}, 0, 1, 2 ** 30] })), { workers: 0 });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(d.field.coordinates).toBeUndefined();
    const ok = await decodeStream(edit(b, (h) => Object.assign(h.metadata, { dims: [1, 2], attributes: 5 })), { workers: 0 });
    expect(ok.field.dims).toEqual(['dim0', 'dim1']);
    expect(ok.field.attributes).toEqual({});
  });
});

describe('the entropy decoders check counts against the points before allocating', () => {
  const reader = (build: (w: ByteWriter) => void) => {
    const w = new ByteWriter(64);
    build(w);
    return new ByteReader(w.finish(), 'chunk 0');
  };
  const bad = (fn: () => unknown, re: RegExp) => {
    const t0 = performance.now();
    expect(fn).toThrow(re);
    try {
      fn();
    } catch (e) {
      expect((e as FieldpackError).code).toBe('BAD_STREAM');
    }
    expect(performance.now() - t0).toBeLessThan(200);
  };

  it('Huffman: a table of 2^20 symbols in 10 bytes, a count that is not the points, more symbols than bits', () => {
    bad(() => huffmanDecode(reader((w) => { w.varint(2 ** 20); w.bytes(new Uint8Array(8)); }), 2 ** 21), /huffman table has 1048576 symbols/);
    bad(() => huffmanDecode(reader((w) => { w.varint(1); w.varint(5); w.u8(1); w.varint(2 ** 40); }), 65536, 100), /1099511627776 huffman-coded symbols, expected 100/);
    bad(() => huffmanDecode(reader((w) => { w.varint(2); w.varint(0); w.u8(1); w.varint(1); w.u8(1); w.varint(1000); w.varint(2); w.bytes(new Uint8Array(2)); }), 65536, 1000), /holds 16 bits for 1000 symbols/);
    bad(() => huffmanDecode(reader((w) => { w.varint(2); w.varint(3); w.u8(1); w.varint(0); w.u8(1); }), 65536), /bad huffman table entry/);
  });

  it('range coders: a count of 2^29 (the 184-byte stream that took 2 GB), counts the data cannot hold', () => {
    bad(() => rangeDecodeCodes(reader((w) => { w.varint(2 ** 29); w.varint(4); w.bytes(new Uint8Array(4)); }), 32768, 4096), /536870912 range-coded symbols, expected 4096/);
    bad(() => rangeDecodeCodes(reader((w) => { w.varint(2 ** 29); w.varint(4); w.bytes(new Uint8Array(4)); }), 32768), /4 bytes of range-coded data in chunk 0 cannot hold 536870912 codes/);
    bad(() => msDecodeCodesBare(reader((w) => { w.varint(3); w.bytes(new Uint8Array(3)); }), 32768, 2 ** 30), /3 bytes of range-coded data in chunk 0 cannot hold 1073741824 codes/);
    bad(() => maskDecode2(reader((w) => { w.varint(3); w.bytes(new Uint8Array(3)); }), 2 ** 31, 1024, 2 ** 20), /3-byte mask in chunk 0 cannot hold 2147483648 points/);
  });

  it('past the end of its data a range decoder stops at once, not after the count', () => {
    // 64 bytes of noise and 2.5 million codes asked (as many as 64 bytes could hold): it runs out after a few dozen
    let x = 12345;
    const noise = Uint8Array.from({ length: 64 }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24));
    const r = reader((w) => { w.varint(64); w.bytes(noise); });
    let err: unknown = null;
    try {
      msDecodeCodesBare(r, 2 ** 20, 2_500_000);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/range-coded data in chunk 0 ends early/);
  });

  it('quantizeToGrid refuses a bound that is not positive as a FieldpackError', () => {
    expect(() => quantizeToGrid([1, 2], 0)).toThrow(FieldpackError);
    expect(() => quantizeToGrid([1, 2], NaN)).toThrow(/positive finite bound/);
  });
});

describe('NGLR header and chunk checks', () => {
  it('a layout this Fieldpack does not read (a q CRC that does not match: nglr.test.ts)', async () => {
    const s = seed('nglr-nrmse-embedded');
    expect(readHeader(s.bytes).params.layout).toBe(2);
    for (const layout of [3, 1, 'x', null]) await expectBad(edit(s.bytes, (h) => (h.params.layout = layout)), /NGLR layout/, s);
  });
});

describe('cross-field params and the embedded network are checked before use', () => {
  it('mode, ndim, anchors, weights, net, bound', async () => {
    const w = seed('crossfield-weighted-net');
    const cases: [(h: HeaderInput) => void, RegExp][] = [
      [(h) => (h.params.mode = 'bogus'), /unknown fusion mode "bogus"/],
      [(h) => (h.params.ndim = 4), /cross-field ndim 4/],
      [(h) => (h.params.anchors = []), /anchors list \(0 entries/],
      [(h) => (h.params.anchors = [{ var: 'A', hash: 'x' }, { var: 'A', hash: 'y' }]), /names a variable twice/],
      [(h) => (h.params.anchors = [{ var: 5 }]), /anchor 0 is not \{var, hash\}/],
      [(h) => (h.params.weights = [1, 0]), /cross-field weights \(3 finite numbers/],
      [(h) => (h.params.weights = [1e308 * 10, 0, 0]), /cross-field weights/],
      [(h) => ((h.params.net as Record<string, unknown>).inputFill = []), /inputFill/],
      [(h) => delete h.params.net, /holds a network the header does not describe/],
      [(h) => (h.bound = { ...h.bound, abs: 0, value: 0 }), /never lossless/],
      [(h) => { h.shape = [3 * 20 * 24]; h.chunks[0]!.rows = 3 * 20 * 24; }, /a 2D network on a field of shape \[1440\]/],
    ];
    for (const [fn, re] of cases) await expectBad(edit(w.bytes, fn), re, w);
    const b = seed('crossfield-blend-net-2anchors');
    await expectBad(edit(b.bytes, (h) => (h.params.ndim = 3)), /the embedded network \(2D, 4 inputs, 2 outputs\) does not fit 2 anchors in 3D/, b);
    const i = seed('crossfield-interp-anchors-only');
    for (const maxDims of [0, 5, 2.5, 'x', null]) await expectBad(edit(i.bytes, (h) => (h.params.maxDims = maxDims)), /cross-field maxDims/, i);
  });

  it('a header shape that does not fit the anchors handed over is BAD_STREAM, not a TypeError', async () => {
    for (const name of ['crossfield-weighted-net', 'crossfield-interp-anchors-only', 'crossfield-interp-net']) {
      const s = seed(name);
      await expectBad(edit(s.bytes, (h) => { h.shape = [h.shape[0]! * 2, ...h.shape.slice(1)]; h.chunks[h.chunks.length - 1]!.rows += h.shape[0]! / 2; }), /does not fit anchor A|chunk|codes|values/, s);
    }
  });

  it('network descriptions: limits, weight bytes, weights reused by several layers', () => {
    const net = { format: 'fieldpack-nn', version: 1, ndim: 2, dtype: 'float32', layout: 'NCHW', inChannels: 2, outChannels: 2, weightCount: 38, receptiveRadius: 1,
      layers: [{ op: 'conv', inChannels: 2, outChannels: 2, kernel: [3, 3], weight: 0, bias: 36 }] };
    const embed = (spec: object, weights: number) => {
      const json = new TextEncoder().encode(JSON.stringify(spec));
      const pad = (4 - ((12 + json.length) % 4)) % 4;
      const b = new Uint8Array(12 + json.length + pad + 4 * weights);
      b.set([0x46, 0x50, 0x4e, 0x4e, 1]);
      new DataView(b.buffer).setUint32(8, json.length, true);
      b.set(json, 12);
      return b;
    };
    expect(decodeEmbeddedNetwork(embed(net, 38)).weights.length).toBe(38);
    const err = (b: Uint8Array, re: RegExp) => {
      expect(() => decodeEmbeddedNetwork(b)).toThrow(re);
      try {
        decodeEmbeddedNetwork(b);
      } catch (e) {
        expect((e as FieldpackError).code).toBe('BAD_STREAM');
      }
    };
    err(embed(net, 37), /148 weight bytes, its description needs 152/);
    err(embed({ ...net, weightCount: 2 ** 24 + 1 }, 38), /16777217 weights/);
    err(embed({ ...net, receptiveRadius: 3, layers: [...net.layers, { ...net.layers[0] }, { ...net.layers[0] }] }, 38), /use 114 weights per point, it stores 38/);
    err(embed({ ...net, layers: [...net.layers, ...Array.from({ length: 300 }, () => ({ op: 'relu' }))] }, 38), /301 layers/);
    expect(() => encodeEmbeddedNetwork({ ...net, receptiveRadius: 2, layers: [...net.layers, { ...net.layers[0] }] } as never, new Float32Array(38))).toThrow(/weights per point/);
  });

  it('a network larger than 64 x its stored chunk is refused (inference work stays proportional to the stream)', async () => {
    const s = seed('crossfield-weighted-net');
    const h = readHeader(s.bytes);
    // chunk 0's payload with its network padded by 4 MiB of zero weights, stored through zstd (a few KB)
    const c = h.chunks[0]!;
    const stored = s.bytes.subarray(c.offset, c.offset + c.storedBytes);
    const payload = c.raw ? stored : zstdBackend.decompress(stored, c.rawBytes);
    const r = new ByteReader(payload, 'chunk 0', 1);
    const len = r.varint();
    const net = payload.subarray(r.pos, r.pos + len);
    const jl = new DataView(net.buffer, net.byteOffset).getUint32(8, true);
    const spec = JSON.parse(new TextDecoder().decode(net.subarray(12, 12 + jl)));
    const extra = 1 << 20;
    spec.weightCount += extra;
    const json = new TextEncoder().encode(JSON.stringify(spec));
    const pad = (4 - ((12 + json.length) % 4)) % 4;
    const nb = new Uint8Array(12 + json.length + pad + 4 * spec.weightCount);
    nb.set(net.subarray(0, 12));
    new DataView(nb.buffer).setUint32(8, json.length, true);
    nb.set(json, 12);
    nb.set(net.subarray(12 + jl + ((4 - ((12 + jl) % 4)) % 4)), 12 + json.length + pad);
    const w = new ByteWriter(nb.length + 64);
    w.u8(payload[0]!);
    w.block(nb);
    w.bytes(payload.subarray(r.pos + len));
    const np = w.finish();
    const z = zstdBackend.compress(np);
    const bytes = edit(s.bytes, (hh) => { hh.chunks[0]!.storedBytes = z.length; hh.chunks[0]!.rawBytes = np.length; hh.chunks[0]!.crc = crc32(z); hh.chunks[0]!.raw = false; },
      (region) => { const out = new Uint8Array(z.length + region.length - c.storedBytes); out.set(z); out.set(region.subarray(c.storedBytes), z.length); return out; });
    expect(bytes.length).toBeLessThan(64 << 10);
    await expectBad(bytes, /network in a chunk 0 of \d+ stored bytes \(at most 64:1\)/, s);
  });
});
