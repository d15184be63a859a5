/**
 * Huffman codes through the lossless stage (issue 14): where codes repeat as strings (an unstructured grid's
 * coordinates element by element), zstd packs Huffman codes far below what the context coders reach, and the classic
 * codec keeps them there; elsewhere the context coders stay. What a user checks: smaller streams on such fields, the
 * bound, the same bytes with any worker count.
 */
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { ENTROPY_HUFFMAN, readCodes, writeCodes } from '../../../src-main/core/codec/envelope.ts';
import { LinearQuantizer } from '../../../src-main/core/codec/quantizer.ts';
import { decodeStream, encodeField } from '../../../src-main/services/codecs/index.ts';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { rng32 } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { overBound } from './helpers.ts';

const RADIUS = 32768;
const packedSize = (b: Uint8Array) => zstdBackend.compress(b).length;

/** The coder byte and block of codes as the classic codec writes them, with or without the lossless stage's sizes. */
function written(codes: Uint32Array, withPacked: boolean): Uint8Array {
  const q = new LinearQuantizer(1, true, 0, RADIUS);
  q.codes = codes;
  q.nCodes = codes.length;
  const w = new ByteWriter(64);
  writeCodes(w, q, { entropy: 'range', bareCount: true, largeBinaryTry: true, ...(withPacked ? { packedSize } : {}) }, (cap) => new ByteWriter(cap));
  return w.finish();
}

/** A CAM-SE-like column longitude: elements of 4 x 4 points whose 4 columns' longitudes repeat row by row. */
function elementLongitudes(elements: number): Field {
  const r = rng32(5);
  const values = new Float32Array(elements * 16);
  for (let e = 0; e < elements; e++) {
    const west = (e * 3 + Math.floor(r() * 4) * 90) % 360;
    for (let row = 0; row < 4; row++) for (let c = 0; c < 4; c++) values[e * 16 + row * 4 + c] = west + [0, 0.8291796, 2.1708204, 3][c]!;
  }
  return { name: 'lon', shape: [values.length], dims: ['ncol'], values, sourceDtype: 'float32', attributes: {} } as Field;
}

describe('Huffman codes through zstd', () => {
  it('codes repeating as strings: coder 0 kept, far smaller than the context coders, decoded exactly; random codes keep the context coder', () => {
    const r = rng32(11);
    const motifs = Array.from({ length: 24 }, () => Uint32Array.from({ length: 16 }, () => RADIUS + Math.floor(r() * 41) - 20));
    const codes = new Uint32Array(40000);
    for (let i = 0; i < codes.length; i += 16) codes.set(motifs[Math.floor(r() * motifs.length)]!.subarray(0, Math.min(16, codes.length - i)), i);
    const plain = written(codes, false);
    const packed = written(codes, true);
    expect(packed[0]).toBe(ENTROPY_HUFFMAN);
    expect(packedSize(packed)).toBeLessThan(0.5 * plain.length);
    const back = readCodes(new ByteReader(packed, 'test chunk'), RADIUS, codes.length, 'test chunk', { huffman: true, ms: true, bareCount: true });
    expect(Array.from(back)).toEqual(Array.from(codes));
    // no strings to find: the context coder's bytes, the same as without the try
    const noise = Uint32Array.from({ length: 40000 }, () => RADIUS + Math.round(6 * Math.tan((r() - 0.5) * 2.5)));
    expect(Buffer.from(written(noise, true)).equals(Buffer.from(written(noise, false)))).toBe(true);
  });

  it('element-by-element longitudes: smaller than the context coders alone, within the bound, the same bytes with 0 and 2 workers', async () => {
    const f = elementLongitudes(3000);
    for (const rel of [1e-2, 1e-3, 1e-4]) {
      const bound = { mode: 'rel', value: rel } as const;
      const auto = await encodeField(f, { codec: 'auto', bound, workers: 0, verify: false });
      const contextOnly = await encodeField(f, { codec: 'auto', bound, params: { entropy: 'ms' }, workers: 0, verify: false });
      expect(auto.bytes.length, `rel ${rel}`).toBeLessThan(0.8 * contextOnly.bytes.length);
      const d = await decodeStream(auto.bytes, { workers: 0 });
      expect(overBound(f.values, d.field.values, null, auto.bound.abs)).toBe(0);
      const two = await encodeField(f, { codec: 'auto', bound, workers: 2, verify: false });
      expect(Buffer.from(two.bytes).equals(Buffer.from(auto.bytes))).toBe(true);
    }
  }, 60_000);

  it('a one-dimensional field is coded with its best Lorenzo as well as an interpolation winner: the Lorenzo codes that repeat are kept', async () => {
    // cube-face columns: elements of 3 rows of 3 new GLL longitudes (4 at a face row's first), a face row every 30
    const out: number[] = [];
    let west = 0;
    for (let e = 0; e < 3000; e++) {
      if (e % 30 === 0) west = (Math.floor(e / 30) * 7.3) % 360;
      const cols = e % 30 === 0 ? [0, 0.8291796, 2.1708204, 3] : [0.8291796, 2.1708204, 3];
      for (let row = 0; row < 3; row++) for (const c of cols) out.push(west + c);
      west += 3;
    }
    const values = Float64Array.from(out);
    const f = { name: 'lon', shape: [values.length], dims: ['ncol'], values, sourceDtype: 'float64', attributes: {} } as Field;
    const bound = { mode: 'rel', value: 1e-2 } as const;
    const auto = await encodeField(f, { codec: 'auto', bound, workers: 0, verify: false });
    const interp = await encodeField(f, { codec: 'interp-linear', bound, workers: 0, verify: false });
    const lorenzo = await encodeField(f, { codec: 'lorenzo', bound, workers: 0, verify: false });
    // the model sizes the interpolation smaller; coded, Lorenzo's codes are less than half its bytes
    expect(lorenzo.bytes.length).toBeLessThan(0.5 * interp.bytes.length);
    expect(auto.bytes.length).toBeLessThanOrEqual(1.02 * lorenzo.bytes.length);
    const d = await decodeStream(auto.bytes, { workers: 0 });
    expect(overBound(f.values, d.field.values, null, auto.bound.abs)).toBe(0);
  }, 60_000);
});
