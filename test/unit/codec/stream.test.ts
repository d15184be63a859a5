import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import '../../../src-main/services/codecs/zstd-backend.ts';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { compressClassic, decompressClassic } from '../../../src-main/core/compressors/classic/codec.ts';
import { chunkBytes, chunkPayload, readHeader, selfDescriptionBytes, FORMAT_VERSION } from '../../../src-main/core/codec/stream/format.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { FIELDPACK_VERSION } from '../../../src-main/core/version.ts';
import { huffmanDecode, huffmanEncode } from '../../../src-main/core/codec/huffman.ts';
import { rangeDecodeCodes, rangeEncodeCodes } from '../../../src-main/core/codec/rangecoder.ts';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { crc32 } from '../../../src-main/core/codec/crc32.ts';
import { tokenize } from '../../../src-main/services/codecs/fuzz-mutate.ts';
import { decodeCrossfield, predictGridDiffs, readCrossfieldStream } from '../../../src-main/core/compressors/crossfield/codec.ts';

const GOLDEN = join(import.meta.dirname, '../../fixtures/golden');
const f32 = (p: string) => { const b = readFileSync(p); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); };

function expectBadStream(fn: () => unknown): FieldpackError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FieldpackError);
    expect((e as FieldpackError).code).toBe('BAD_STREAM');
    return e as FieldpackError;
  }
  throw new Error('expected BAD_STREAM, got success');
}

describe('golden stream, format v1', () => {
  for (const tag of ['', '-huffman']) {
    it(`classic-v1${tag}.fpk decodes to the committed values bit for bit`, () => {
      const bytes = new Uint8Array(readFileSync(join(GOLDEN, `classic-v1${tag}.fpk`)));
      const expected = f32(join(GOLDEN, `classic-v1${tag}.expected.f32`));
      const original = f32(join(GOLDEN, 'classic-v1.original.f32'));
      const mask = new Uint8Array(readFileSync(join(GOLDEN, 'classic-v1.mask')));
      const d = decompressClassic(bytes);
      expect(d.header.formatVersion).toBe(1);
      expect(d.header.codec).toBe('classic');
      expect(d.header.shape).toEqual([6, 10, 12]);
      expect(d.header.bound.mode).toBe('rel');
      expect(d.header.bound.value).toBe(1e-3);
      expect(d.header.chunks.length).toBe(3);
      expect(d.field.name).toBe('TG');
      expect(d.field.units).toBe('K');
      expect(d.field.dims).toEqual(['time', 'lat', 'lon']);
      expect(d.field.attributes.long_name).toBe('golden test field');
      expect(Buffer.from(d.field.values.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      expect(Array.from(d.field.mask!)).toEqual(Array.from(mask));
      for (let i = 0; i < original.length; i++) {
        if (!mask[i] || !Number.isFinite(original[i]!)) continue;
        expect(Math.abs(original[i]! - d.field.values[i]!)).toBeLessThanOrEqual(d.header.bound.abs);
      }
      // a slice decodes alone, from its chunk only
      const s = decompressClassic(bytes, { rows: [2, 4] });
      expect(Array.from(s.field.values)).toEqual(Array.from(expected.subarray(2 * 120, 4 * 120)));
    });
  }
});

describe('golden stream, format v2 (compact header, multi-symbol range coder)', () => {
  it('classic-v2.fpk decodes to the committed values bit for bit', () => {
    const bytes = new Uint8Array(readFileSync(join(GOLDEN, 'classic-v2.fpk')));
    const expected = f32(join(GOLDEN, 'classic-v2.expected.f32'));
    const original = f32(join(GOLDEN, 'classic-v1.original.f32'));
    const mask = new Uint8Array(readFileSync(join(GOLDEN, 'classic-v1.mask')));
    const d = decompressClassic(bytes);
    expect(d.header.formatVersion).toBe(2);
    expect(d.header.codec).toBe('classic');
    expect(d.header.shape).toEqual([6, 10, 12]);
    expect(d.header.bound.mode).toBe('rel');
    expect(d.header.bound.value).toBe(1e-3);
    expect(d.header.fillValue).toBe(Math.fround(-1e34));
    expect(d.header.chunks.length).toBe(4);
    expect(d.header.params).toEqual({ predictor: 'lorenzo', auto: 1, maxDims: 2 });
    expect(d.field.name).toBe('TG');
    expect(d.field.units).toBe('K');
    expect(d.field.dims).toEqual(['time', 'lat', 'lon']);
    expect(d.field.attributes).toEqual({ long_name: 'golden test field', _FillValue: -1e34 });
    expect(Buffer.from(d.field.values.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    expect(Array.from(d.field.mask!)).toEqual(Array.from(mask));
    for (let i = 0; i < original.length; i++) {
      if (!mask[i] || !Number.isFinite(original[i]!)) continue;
      expect(Math.abs(original[i]! - d.field.values[i]!)).toBeLessThanOrEqual(d.header.bound.abs);
    }
    const s = decompressClassic(bytes, { rows: [2, 4] });
    expect(Array.from(s.field.values)).toEqual(Array.from(expected.subarray(2 * 120, 4 * 120)));
  });
});

describe('stream header', () => {
  it('starts with magic and format version, records codec, version, dims, dtype, bound and metadata', () => {
    const v = new Float32Array(64).map((_, i) => Math.sin(i));
    const { bytes } = compressClassic({ values: v, shape: [8, 8] }, { bound: { mode: 'psnr', value: 70 }, metadata: { variable: 'x', units: 'm', attributes: { a: 1 } } }, zstdBackend);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x46, 0x50, 0x4b, 0x1a]);
    expect(bytes[4]! | (bytes[5]! << 8)).toBe(FORMAT_VERSION);
    const h = readHeader(bytes);
    expect(h.fieldpackVersion).toBe(FIELDPACK_VERSION);
    expect(h.dtype).toBe('float32');
    expect(h.shape).toEqual([8, 8]);
    expect(h.bound.mode).toBe('psnr');
    expect(h.bound.abs).toBeGreaterThan(0);
    expect(h.metadata).toMatchObject({ variable: 'x', units: 'm', attributes: { a: 1 } });
    expect(typeof h.params.predictor).toBe('string');
  });
  it('selfDescriptionBytes: what the name, units, dims and attributes add to the stream, 0 without them', () => {
    const v = new Float32Array(4 * 48 * 48);
    const opts = { bound: { mode: 'rel', value: 1e-2 } } as const;
    const bare = compressClassic({ values: v, shape: [4, 48, 48] }, opts, zstdBackend).bytes;
    const metadata = { variable: 'RAINSH', units: 'mm', dims: ['Time', 'south_north', 'west_east'], attributes: { description: 'ACCUMULATED SHALLOW CUMULUS PRECIPITATION' } };
    const described = compressClassic({ values: v, shape: [4, 48, 48] }, { ...opts, metadata }, zstdBackend).bytes;
    expect(selfDescriptionBytes(bare)).toBe(0);
    expect(selfDescriptionBytes(described)).toBe(described.length - bare.length);
    expect(selfDescriptionBytes(described)).toBeGreaterThan(10);
  });
  it('the checksum is zlib\'s CRC-32 over any range (eight bytes a step, then the tail)', () => {
    const b = Uint8Array.from({ length: 4099 }, (_, i) => (i * 2654435761) >>> 13);
    for (const [s, e] of [[0, b.length], [3, 1001], [5, 5], [7, 20], [0, 7], [1, 9]] as const) {
      expect(crc32(b, s, e)).toBe(zlibCrc32(b.subarray(s, e)) >>> 0);
    }
  });

  it('a field of more than 32 dimensions is refused when written, naming the limit (readers refuse such a header)', () => {
    const shape = [...Array<number>(38).fill(1), 4, 5];
    expect(() => compressClassic({ values: new Float32Array(20), shape }, { bound: { mode: 'rel', value: 1e-3 } }, zstdBackend)).toThrow(/a stream holds at most 32 dimensions, shape \[1, .*4, 5\] has 40/);
  });

  it('FIELDPACK_VERSION follows package.json', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8'));
    expect(FIELDPACK_VERSION).toBe(pkg.version);
  });
});

describe('corrupted and truncated streams', () => {
  const v = new Float32Array(30 * 40).map((_, i) => 100 + Math.sin(i * 0.1) * 5 + (i % 40) * 0.01);
  const mask = new Uint8Array(v.length).fill(1).map((_, i) => (i % 13 === 0 ? 0 : 1));
  const { bytes } = compressClassic({ values: v, shape: [30, 40], mask }, { bound: { mode: 'rel', value: 1e-3 }, chunkValues: 400, metadata: { variable: 'v' } }, zstdBackend);
  const good = decompressClassic(bytes).field.values;

  it('every truncation is BAD_STREAM naming what is missing', () => {
    for (let len = 0; len < bytes.length; len += Math.max(1, Math.floor(bytes.length / 97))) {
      const e = expectBadStream(() => decompressClassic(bytes.subarray(0, len)));
      expect(e.message).toMatch(/truncated|bad magic|shorter/);
    }
  });
  it('every single-byte corruption is BAD_STREAM (checksums), never wrong values or a crash', () => {
    for (let pos = 0; pos < bytes.length; pos++) {
      const b = bytes.slice();
      b[pos] ^= 0x5a;
      expectBadStream(() => decompressClassic(b));
    }
  });
  it('trailing garbage, wrong magic, future version are named', () => {
    const extra = new Uint8Array(bytes.length + 3);
    extra.set(bytes);
    expect(expectBadStream(() => decompressClassic(extra)).message).toMatch(/unexpected bytes/);
    const m = bytes.slice();
    m[0] = 0;
    expect(expectBadStream(() => decompressClassic(m)).message).toMatch(/magic/);
    const ver = bytes.slice();
    ver[4] = 9;
    expect(expectBadStream(() => decompressClassic(ver)).message).toMatch(/version 9/);
  });
  it('a corrupted chunk payload with a recomputed CRC never crashes: BAD_STREAM or a decode (CRCs are the integrity check)', () => {
    const h = readHeader(bytes);
    const c = h.chunks[1]!;
    let clean = 0;
    for (let k = 0; k < 40; k++) {
      const b = bytes.slice();
      const pos = c.offset + 1 + ((k * 7) % (c.storedBytes - 1));
      b[pos] ^= 1 << (k % 8);
      // recompute the chunk CRC in the header and the header CRC, so only the decoder can notice
      const hb = b.subarray(0, h.headerBytes);
      const crcPos = findCrc(hb, c.crc);
      if (crcPos < 0) continue;
      new DataView(b.buffer).setUint32(crcPos, crc32(b, c.offset, c.offset + c.storedBytes), true);
      new DataView(b.buffer).setUint32(h.headerBytes - 4, crc32(b, 0, h.headerBytes - 4), true);
      let d: ReturnType<typeof decompressClassic> | undefined;
      try {
        d = decompressClassic(b);
      } catch (e) {
        expect(e).toBeInstanceOf(FieldpackError);
        expect((e as FieldpackError).code).toBe('BAD_STREAM');
      }
      if (d) {
        expect(d.field.values.length).toBe(good.length);
        clean++;
      }
    }
    expect(clean).toBeLessThan(40);
  });
});

function findCrc(b: Uint8Array, crc: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i + 4 <= b.length; i++) if (dv.getUint32(i, true) === crc) return i;
  return -1;
}

describe('entropy stages', () => {
  it('canonical Huffman and the range coder round-trip skewed and flat code distributions', () => {
    for (const spread of [0, 1, 3, 50, 3000]) {
      const n = 20000;
      const codes = new Uint32Array(n);
      let s = 1;
      for (let i = 0; i < n; i++) {
        s = (s * 1103515245 + 12345) >>> 0;
        const g = Math.round(((s / 2 ** 32) - 0.5) * 2 * spread * ((s & 7) === 0 ? 1 : 0.1));
        codes[i] = (s & 255) === 7 ? 0 : 32768 + g;
      }
      const w = new ByteWriter();
      huffmanEncode(codes, n, 65536, w);
      rangeEncodeCodes(codes, n, 32768, w);
      const r = new ByteReader(w.finish(), 'test');
      expect(Array.from(huffmanDecode(r, 65536))).toEqual(Array.from(codes));
      expect(Array.from(rangeDecodeCodes(r, 32768))).toEqual(Array.from(codes));
    }
  });
});

describe('golden cross-field streams, format v2', () => {
  const target = f32(join(GOLDEN, 'crossfield.target.f32'));
  const anchor = f32(join(GOLDEN, 'crossfield.anchor.f32'));
  const mask = new Uint8Array(readFileSync(join(GOLDEN, 'crossfield.mask')));
  for (const [tag, mode, withNet] of [['interp', 'interp', false], ['weighted', 'weighted', true], ['interp-net', 'interp', true]] as const) {
    it(`crossfield-${tag}.fpk (mode ${mode}${withNet ? ', linear CFNN embedded' : ', no network'}) decodes to the committed values bit for bit`, () => {
      const bytes = new Uint8Array(readFileSync(join(GOLDEN, `crossfield-${tag}.fpk`)));
      const expected = f32(join(GOLDEN, `crossfield-${tag}.expected.f32`));
      const info = readCrossfieldStream(bytes);
      expect(info.header.codec).toBe('crossfield');
      expect(info.header.formatVersion).toBe(2);
      expect(info.mode).toBe(mode);
      expect(info.anchors).toEqual([{ var: 'A', hash: 'golden-anchor' }]);
      expect(info.net !== null).toBe(withNet);
      const recon = { values: anchor };
      const dq = info.net ? predictGridDiffs(info.net, { A: recon }, info.header.shape, info.header.bound.abs) : [];
      const d = decodeCrossfield(info, bytes, dq, [recon]);
      expect(d.field.name).toBe('TG');
      expect(Buffer.from(d.field.values.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      expect(Array.from(d.field.mask!)).toEqual(Array.from(mask));
      for (let i = 0; i < target.length; i++) if (mask[i]) expect(Math.abs(target[i]! - d.field.values[i]!)).toBeLessThanOrEqual(info.header.bound.abs);
    });
  }
});

describe('golden stream, format v2 with text-coded strings, the absolute bound left out and masks repeated over rows', () => {
  it('classic-v2-text.fpk decodes to classic-v2\'s values with its metadata, and the encoder writes it again', () => {
    const bytes = new Uint8Array(readFileSync(join(GOLDEN, 'classic-v2-text.fpk')));
    const v2 = new Uint8Array(readFileSync(join(GOLDEN, 'classic-v2.fpk')));
    const d = decompressClassic(bytes);
    const attributes = { long_name: 'golden test field', _FillValue: -1e34, description: 'LONGITUDE, WEST IS NEGATIVE', comment: 'Température is not ASCII: stored as UTF-8', history: 'made by make-golden-v2-text.ts for the text-coded header (2026-12-02)' };
    expect(d.field.attributes).toEqual(attributes);
    expect(d.header.bound).toEqual(decompressClassic(v2).header.bound);
    expect(Buffer.from(d.field.values.buffer).equals(Buffer.from(f32(join(GOLDEN, 'classic-v2.expected.f32')).buffer))).toBe(true);
    // the bound-mode byte says the absolute bound is value x range; each chunk's mask (the same in every row) is coded once
    expect(d.header.chunks.map((_, i) => chunkPayload(d.header, i, chunkBytes(d.header, bytes, i))[1]! & 64)).toEqual([64, 64, 0, 0]);
    expect(tokenize(bytes)!.toks.find((t) => t.name === 'bound mode')!.value & 32).toBe(32);
    expect(tokenize(bytes)!.toks.some((t) => t.name === 'absolute bound')).toBe(false);
    const again = compressClassic({ values: goldenV2Field().values, shape: [6, 10, 12], mask: goldenV2Field().mask }, {
      bound: { mode: 'rel', value: 1e-3 }, predictor: 'auto', chunkValues: 240, entropy: 'ms',
      metadata: { variable: 'TG', units: 'K', dims: ['time', 'lat', 'lon'], sourceDtype: 'float32', attributes },
    }, zstdBackend);
    // the text model and dictionary are part of the format: the same header again, up to its chunk table (its
    // writer's version aside; the chunks' masks have since been coded with model 3, chunk flag 128)
    const headerEnd = (b: Uint8Array) => tokenize(b)!.toks.find((t) => t.name === 'chunk count')!.off;
    if (d.header.fieldpackVersion === FIELDPACK_VERSION) expect(Buffer.from(again.bytes.subarray(0, headerEnd(again.bytes))).equals(Buffer.from(bytes.subarray(0, headerEnd(bytes))))).toBe(true);
    expect(decompressClassic(again.bytes).field.attributes).toEqual(attributes);
  });
});

/** The field of make-golden-v2.ts.txt. */
function goldenV2Field(): { values: Float32Array; mask: Uint8Array } {
  const [n0, n1, n2] = [6, 10, 12];
  const values = new Float32Array(n0 * n1 * n2);
  const mask = new Uint8Array(values.length).fill(1);
  for (let i = 0; i < n0; i++) for (let j = 0; j < n1; j++) for (let k = 0; k < n2; k++) {
    const idx = (i * n1 + j) * n2 + k;
    values[idx] = 280 + 10 * Math.sin(i * 0.5 + j * 0.3) + 0.5 * Math.cos(k * 0.7);
    if (j < 2 && k < 3) { mask[idx] = 0; values[idx] = -1e34; }
  }
  values[77] = NaN;
  values[78] = Infinity;
  return { values, mask };
}
