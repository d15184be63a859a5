/**
 * The static-table rANS coder (rans.ts, entropy coders 3 and 5, issue 14): exact round trips on random and real-like
 * code distributions (all zeros, one symbol, escapes, runs, the largest classes), where writeCodes chooses it, the
 * WebAssembly encoder's and decoder's agreement with the reference, and hostile blocks (tables that overrun or leave
 * slots free, contexts without a table, states out of range, truncation, absurd lengths) refused as BAD_STREAM
 * naming the problem, quickly.
 */
import { describe, expect, it } from 'vitest';
import '../../../src-main/services/codecs/zstd-backend.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { ENTROPY_MS, ENTROPY_MS_LINE_SIGNS, ENTROPY_RANGE, ENTROPY_RANS, ENTROPY_RANS_LINES, readCodes, writeCodes } from '../../../src-main/core/codec/envelope.ts';
import { type CodeLines, msEncodeCodesBare } from '../../../src-main/core/codec/mscoder.ts';
import { rangeEncodeCodes } from '../../../src-main/core/codec/rangecoder.ts';
import { LinearQuantizer } from '../../../src-main/core/codec/quantizer.ts';
import { RANS_LINES_MIN_CODES, RANS_MIN_CODES, codeStatistics, ransDecodeCodesBare, ransEncodeCodesBare, ransLinesSuits, ransSuits } from '../../../src-main/core/codec/rans.ts';
import { ransEncodeKernel } from '../../../src-main/core/codec/wasm-kernels.ts';
import { compressClassic, decompressClassic } from '../../../src-main/core/compressors/classic/codec.ts';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { makeField, rng32 } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { writtenWithLines } from './helpers.ts';

const RADIUS = 32768;

/** codes around `radius`: Laplacian residuals of scale `scale`, a share of escapes (code 0) */
function laplacian(n: number, scale: number, seed: number, escapes = 0, radius = RADIUS): Uint32Array {
  const r = rng32(seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (r() < escapes) continue;
    const v = Math.min(radius - 1, Math.floor(-scale * Math.log(1 - r())));
    out[i] = r() < 0.5 ? radius - v : radius + v;
  }
  return out;
}

function encode(codes: Uint32Array, radius = RADIUS): Uint8Array {
  const w = new ByteWriter(64);
  ransEncodeCodesBare(codes, codes.length, radius, w);
  return w.finish();
}

function roundTrip(codes: Uint32Array, radius = RADIUS): Uint8Array {
  const bytes = encode(codes, radius);
  const back = ransDecodeCodesBare(new ByteReader(bytes, 'chunk 0'), radius, codes.length);
  expect(back).toEqual(codes);
  return bytes;
}

/** the three blocks of a rANS block */
function blocks(bytes: Uint8Array): { table: Uint8Array; low: Uint8Array; data: Uint8Array } {
  const r = new ByteReader(bytes, 'test');
  return { table: r.block().slice(), low: r.block().slice(), data: r.block().slice() };
}

function assemble(b: { table: Uint8Array; low: Uint8Array; data: Uint8Array }): Uint8Array {
  const w = new ByteWriter(64);
  w.block(b.table);
  w.block(b.low);
  w.block(b.data);
  return w.finish();
}

/** a table of `contexts` entries as bit-packed fields [value, bits] */
function packBits(fields: [number, number][]): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let nbits = 0;
  for (const [v, m] of fields) {
    acc |= v << nbits;
    nbits += m;
    while (nbits >= 8) {
      out.push(acc & 0xff);
      acc >>>= 8;
      nbits -= 8;
    }
  }
  if (nbits) out.push(acc & 0xff);
  return Uint8Array.from(out);
}

const SYMBOL_CONTEXTS = 8 * 12 + 6;
const SIGN_CONTEXTS = 18;

/** All contexts empty but context 0, which lists `freqs` (as [bits, mantissa bits] pairs already encoded). */
function tableWithContext0(entries: [number, number][]): Uint8Array {
  const fields: [number, number][] = [[entries.length ? 18 : 0, 5]];
  for (const e of entries) fields.push(e);
  for (let c = 1; c < SYMBOL_CONTEXTS + SIGN_CONTEXTS; c++) fields.push([0, 5]);
  return packBits(fields);
}

function expectBad(fn: () => unknown, re: RegExp): void {
  const t0 = performance.now();
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(err, 'expected BAD_STREAM, it decoded').toBeInstanceOf(FieldpackError);
  expect((err as FieldpackError).code, (err as Error).message).toBe('BAD_STREAM');
  expect((err as Error).message).toMatch(re);
}

describe('rANS coder: round trips', () => {
  it('random Laplacian codes at scales from mostly zeros to 14-bit residuals, with escapes', () => {
    for (const [scale, esc] of [[0.3, 0], [2, 0.001], [40, 0.01], [3000, 0.05]] as const) {
      roundTrip(laplacian(20_000, scale, 7 + scale, esc));
    }
  });

  it('all zeros (one symbol: no bytes beyond the states), one nonzero value repeated, all escapes', () => {
    const zeros = new Uint32Array(100_000).fill(RADIUS);
    // the tables (5 bits per context when unused) and the two states: nothing per value
    expect(blocks(roundTrip(zeros)).data.length).toBe(8);
    roundTrip(new Uint32Array(5000).fill(RADIUS + 5));
    roundTrip(new Uint32Array(5000).fill(RADIUS - 1));
    roundTrip(new Uint32Array(5000)); // every code an escape
  });

  it('runs of zeros of every length bucket between bursts, and n = 0 and 1', () => {
    const codes = new Uint32Array(60_000).fill(RADIUS);
    const r = rng32(3);
    for (let i = 0; i < codes.length; i += 1 + Math.floor(r() * r() * 600)) codes[i] = RADIUS + Math.floor(r() * 9) - 4;
    roundTrip(codes);
    roundTrip(new Uint32Array(0));
    roundTrip(Uint32Array.of(RADIUS + 77));
  });

  it('the largest classes: radius 2^16 with residuals up to 2^16 - 1, and a tiny radius', () => {
    const big = Uint32Array.from({ length: 3000 }, (_, i) => (i % 2 ? 65536 + ((i * 7919) % 65536) : 65536 - ((i * 104729) % 65536)));
    big[5] = 65536 + 65535;
    big[6] = 1;
    roundTrip(big, 65536);
    roundTrip(Uint32Array.from({ length: 999 }, (_, i) => [1, 2, 3, 0][i % 4]!), 2);
  });

  it('real-like codes: the classic codec\'s chunks forced to rANS decode to within the bound, the bytes deterministic', () => {
    const f = makeField('T', [6, 60, 80], { seed: 5, noise: 0.3, masked: 0.1, nonFinite: 0.01 });
    for (const rel of [1e-2, 1e-4]) {
      const opts = { bound: { mode: 'rel' as const, value: rel }, entropy: 'rans' as const, chunkValues: 9600 };
      const a = compressClassic(f, opts, zstdBackend);
      const b = compressClassic(f, opts, zstdBackend);
      expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
      const d = decompressClassic(a.bytes).field;
      let worst = 0;
      for (let i = 0; i < f.values.length; i++) {
        const x = f.values[i]!;
        if (f.mask && !f.mask[i]) continue;
        if (Number.isFinite(x)) worst = Math.max(worst, Math.abs(x - d.values[i]!));
        else expect(Object.is(d.values[i], x) || (Number.isNaN(x) && Number.isNaN(d.values[i]!))).toBe(true);
      }
      expect(worst).toBeLessThanOrEqual(a.plan.bound.abs);
    }
  });

  it('within a few tenths of a percent of the adaptive coder on stationary codes, far larger on tiny chunks', () => {
    const codes = laplacian(400_000, 6, 11, 0.001);
    const ms = new ByteWriter(64);
    msEncodeCodesBare(codes, codes.length, RADIUS, ms);
    const msBytes = ms.finish().length;
    const ransBytes = roundTrip(codes).length;
    expect(ransBytes / msBytes).toBeLessThan(1.003);
    // 500 codes: the tables cost more than the adaptive coder's learning
    const small = codes.subarray(0, 500);
    const msSmall = new ByteWriter(64);
    msEncodeCodesBare(small, small.length, RADIUS, msSmall);
    expect(encode(small).length).toBeGreaterThan(msSmall.finish().length);
  });
});

describe('rANS coder: where writeCodes uses it', () => {
  const quantizer = (codes: Uint32Array, radius = RADIUS) => {
    const q = new LinearQuantizer(0.01, true, codes.length, radius);
    q.codes = codes;
    q.nCodes = codes.length;
    return q;
  };
  const coderOf = (codes: Uint32Array, entropy: 'range' | 'ms' | 'rans', bareCount = true) => {
    const w = new ByteWriter(64);
    writeCodes(w, quantizer(codes), { entropy, bareCount, largeBinaryTry: true }, (cap) => new ByteWriter(cap));
    const bytes = w.finish();
    const back = readCodes(new ByteReader(bytes, 'chunk 0'), RADIUS, codes.length, 'chunk 0', { huffman: true, ms: true, bareCount });
    expect(back).toEqual(codes);
    return bytes[0];
  };

  it('a large stationary chunk goes to rANS; drifting statistics, mostly zeros and small chunks keep the adaptive coder', () => {
    const n = (1 << 18) + 1000;
    const stationary = laplacian(n, 8, 21, 0.0005);
    expect(ransSuits(codeStatistics(stationary, n, RADIUS))).toBe(true);
    expect(coderOf(stationary, 'range')).toBe(ENTROPY_RANS);
    // the residuals' scale grows along the chunk 100-fold
    const drifting = new Uint32Array(n);
    const r = rng32(5);
    for (let i = 0; i < n; i++) drifting[i] = RADIUS + Math.round((r() - 0.5) * 2 * (1 + (300 * i) / n));
    expect(ransSuits(codeStatistics(drifting, n, RADIUS))).toBe(false);
    expect(coderOf(drifting, 'range')).toBe(ENTROPY_MS);
    const mostlyZero = laplacian(n, 0.35, 23);
    expect(ransSuits(codeStatistics(mostlyZero, n, RADIUS))).toBe(false);
    expect(ransSuits(codeStatistics(stationary.subarray(0, RANS_MIN_CODES - 1), RANS_MIN_CODES - 1, RADIUS))).toBe(false);
    // 'ms' never, 'rans' always (with the count when the caller does not know it)
    expect(coderOf(stationary, 'ms')).toBe(ENTROPY_MS);
    expect(coderOf(laplacian(3000, 4, 2), 'rans', false)).toBe(ENTROPY_RANS);
  });

  it('a chunk of at most 2^18 codes takes the smallest of the three coders (rANS where it suits: 10 % and 21 % zeros here)', () => {
    for (const codes of [laplacian(200_000, 10, 31, 0.0005), Uint32Array.from(laplacian(200_000, 10, 31), (c, i) => (i % 5000 < 2500 ? c : RADIUS + ((c - RADIUS) >> 3)))]) {
      const w = new ByteWriter(64);
      writeCodes(w, quantizer(codes), { entropy: 'range', bareCount: true, largeBinaryTry: true }, (cap) => new ByteWriter(cap));
      const sizes = [ENTROPY_MS, ENTROPY_RANGE, ENTROPY_RANS].map((coder) => {
        const cw = new ByteWriter(64);
        writeCodes(cw, quantizer(codes), { entropy: coder === ENTROPY_MS ? 'ms' : 'rans', bareCount: true, largeBinaryTry: true }, (cap) => new ByteWriter(cap));
        if (coder === ENTROPY_RANGE) {
          const bw = new ByteWriter(64);
          rangeEncodeCodes(codes, codes.length, RADIUS, bw);
          return bw.finish().length + 1;
        }
        return cw.finish().length;
      });
      expect(w.finish().length).toBe(Math.min(...sizes));
    }
  });

  it('one coder (effort fast), at most 2^18 codes: rANS where the smallest-of-three would try it, else the multi-symbol coder', () => {
    const oneCoder = (codes: Uint32Array) => {
      const w = new ByteWriter(64);
      writeCodes(w, quantizer(codes), { entropy: 'range', bareCount: true, largeBinaryTry: true, oneCoder: true }, (cap) => new ByteWriter(cap));
      const bytes = w.finish();
      expect(readCodes(new ByteReader(bytes, 'chunk 0'), RADIUS, codes.length, 'chunk 0', { huffman: true, ms: true, bareCount: true })).toEqual(codes);
      return bytes;
    };
    const busy = laplacian(200_000, 10, 31, 0.0005);
    const rans = oneCoder(busy);
    expect(rans[0]).toBe(ENTROPY_RANS);
    const ms = new ByteWriter(64);
    msEncodeCodesBare(busy, busy.length, RADIUS, ms);
    expect(rans.length / (ms.finish().length + 1)).toBeLessThan(1.01);
    // mostly zeros, and too few codes for the tables: the adaptive coder
    expect(oneCoder(laplacian(200_000, 0.35, 23))[0]).not.toBe(ENTROPY_RANS);
    expect(oneCoder(busy.subarray(0, RANS_MIN_CODES - 1))[0]).not.toBe(ENTROPY_RANS);
  });

  it('the format v1 classic decoder (no multi-symbol coders) refuses coder 3', () => {
    const w = new ByteWriter(64);
    writeCodes(w, quantizer(laplacian(3000, 4, 2)), { entropy: 'rans', bareCount: true, largeBinaryTry: true }, (cap) => new ByteWriter(cap));
    expectBad(() => readCodes(new ByteReader(w.finish(), 'chunk 0'), RADIUS, 3000, 'chunk 0', { huffman: true, ms: false, bareCount: true }), /unknown entropy coder 3 in chunk 0/);
  });

  it('a count that is not the caller\'s is refused before decoding', () => {
    const w = new ByteWriter(64);
    writeCodes(w, quantizer(laplacian(3000, 4, 2)), { entropy: 'rans', bareCount: false, largeBinaryTry: true }, (cap) => new ByteWriter(cap));
    expectBad(() => readCodes(new ByteReader(w.finish(), 'chunk 0'), RADIUS, 2999, 'chunk 0', { huffman: false, ms: true, bareCount: false }), /3000 rANS-coded symbols, expected 2999/);
  });
});

describe('rANS coder: the WebAssembly encoder writes the reference\'s bytes', () => {
  const reference = (codes: Uint32Array, radius = RADIUS) => {
    const w = new ByteWriter(64);
    ransEncodeCodesBare(codes, codes.length, radius, w, null, 'reference');
    return w.finish();
  };
  const same = (codes: Uint32Array, radius = RADIUS) => {
    const fast = encode(codes, radius);
    expect(Buffer.from(fast).equals(Buffer.from(reference(codes, radius)))).toBe(true);
    expect(ransDecodeCodesBare(new ByteReader(fast, 'chunk 0'), radius, codes.length)).toEqual(codes);
  };

  it('on zeros, small and large residuals, escapes, long zero runs and residuals up to the radius', () => {
    expect(ransEncodeKernel()).not.toBeNull();
    same(new Uint32Array(70_000).fill(RADIUS));
    same(laplacian(100_000, 0.4, 51));
    same(laplacian(90_000, 3, 52, 0.002));
    same(laplacian(80_000, 2500, 53, 0.01));
    same(laplacian(40_000, 40_000, 54, 0.001));
    // runs of zeros of every length up to hundreds between busy stretches
    const runs = laplacian(120_000, 6, 55);
    for (let i = 0, len = 1; i + len < runs.length; i += 2 * len + 17, len = (len * 7) % 601 + 1) runs.fill(RADIUS, i, i + len);
    same(runs);
  });

  it('at the smallest and largest radius, and on one code', () => {
    same(laplacian(30_000, 1, 56, 0.01, 2), 2);
    same(laplacian(30_000, 20_000, 57, 0.001, 65536), 65536);
    same(Uint32Array.of(RADIUS + 3));
    same(new Uint32Array(0));
  });

  it('refuses a code of 2 x radius or more on both paths, and writes nothing past its room (a review\'s case: codes far beyond the radius add up to 30 low bits each)', () => {
    for (const bad of [2 * RADIUS, RADIUS + 2 ** 29, 0xffffffff]) {
      for (const lines of [null, { starts: Int32Array.of(0), lines: Int32Array.of(64) }]) {
        const codes = laplacian(20_000, 40, 58);
        codes.fill(bad, 5_000, 9_000);
        for (const path of ['fast', 'reference'] as const) {
          expect(() => ransEncodeCodesBare(codes, codes.length, RADIUS, new ByteWriter(64), lines, path), `${bad} ${path}`).toThrow(/a code of 2 x radius/);
        }
      }
    }
    // the encoder still works after a refused call (its memory intact)
    same(laplacian(30_000, 5, 59));
  });
});

describe('rANS coder: hostile blocks', () => {
  const codes = laplacian(20_000, 12, 41, 0.001);
  const good = encode(codes);
  const decode = (bytes: Uint8Array, n = codes.length, radius = RADIUS) => ransDecodeCodesBare(new ByteReader(bytes, 'chunk 0'), radius, n);

  it('tables: all frequencies 0, frequencies over the total, a frequency of absurd width, more symbols than the alphabet', () => {
    const b = blocks(good);
    // 18 symbols listed, every one frequency 0
    expectBad(() => decode(assemble({ ...b, table: tableWithContext0(Array.from({ length: 18 }, () => [0, 4] as [number, number])) })), /all have frequency 0/);
    // two symbols of 4096 each (b = 13, top bits 000): 8192 > 4096
    const over: [number, number][] = [[13, 4], [0, 3], [13, 4], [0, 3]];
    for (let s = 2; s < 18; s++) over.push([0, 4]);
    expectBad(() => decode(assemble({ ...b, table: tableWithContext0(over) })), /sum to 8192, over 4096/);
    expectBad(() => decode(assemble({ ...b, table: tableWithContext0([[15, 4]]) })), /frequency of 15 bits/);
    expectBad(() => decode(assemble({ ...b, table: packBits([[31, 5]]) })), /lists 31 symbols of 18/);
  });

  it('a context the tables leave without frequencies (as a symbol of frequency 0 would be) is not decoded', () => {
    const b = blocks(good);
    // every context unused: the first value's context has no table
    const empty = packBits(Array.from({ length: SYMBOL_CONTEXTS + SIGN_CONTEXTS }, () => [0, 5] as [number, number]));
    expectBad(() => decode(assemble({ ...b, table: empty })), /reaches a context without a table/);
    // the same for the sign-top tables: a zero-only table for the symbols (context 0: symbol 0 only), no sign tables,
    // then a nonzero residual decoded from it cannot happen; but a table giving symbol 1 all of context 0 needs a sign
    const oneSymbol: [number, number][] = [[2, 5], [0, 4], [13, 4], [0, 3]];
    for (let c = 1; c < SYMBOL_CONTEXTS + SIGN_CONTEXTS; c++) oneSymbol.push([0, 5]);
    expectBad(() => decode(assemble({ ...b, table: packBits(oneSymbol) })), /reaches a sign context without a table/);
  });

  it('truncated: a table, low bits or data cut short, lengths past the end, absurd lengths', () => {
    const b = blocks(good);
    expectBad(() => decode(good.subarray(0, good.length - 10)), /ends before rANS data/);
    expectBad(() => decode(assemble({ ...b, data: b.data.subarray(0, b.data.length - 40) })), /rANS data in chunk 0 ends early|does not end where/);
    expectBad(() => decode(assemble({ ...b, data: b.data.subarray(0, 5) })), /holds 5 bytes, less than its two states/);
    expectBad(() => decode(assemble({ ...b, low: b.low.subarray(0, b.low.length >> 1) })), /rANS low bits in chunk 0 ends early/);
    expectBad(() => decode(assemble({ ...b, table: b.table.subarray(0, 3) })), /rANS table in chunk 0 ends early/);
    const w = new ByteWriter(16);
    w.varint(2 ** 40);
    w.bytes(new Uint8Array(8));
    expectBad(() => decode(w.finish()), /ends before rANS table \(needs 1099511627776 bytes/);
  });

  it('states out of range, altered data, a residual beyond the radius', () => {
    const b = blocks(good);
    const low = b.data.slice();
    low.fill(0, 0, 4);
    expectBad(() => decode(assemble({ ...b, data: low })), /rANS state out of range/);
    const high = b.data.slice();
    high[4] = 0x80;
    expectBad(() => decode(assemble({ ...b, data: high })), /rANS state out of range/);
    // a flipped byte in the middle: caught at the latest by the final states
    const flipped = b.data.slice();
    flipped[Math.floor(flipped.length / 2)]! ^= 0x5a;
    expectBad(() => decode(assemble({ ...b, data: flipped })), /rANS/);
    // extra bytes after the data
    expectBad(() => decode(assemble({ ...b, data: Uint8Array.from([...b.data, 1, 2, 3]) })), /does not end where its codes do/);
    // decoded with a smaller radius than written: residuals of 2^k >= radius
    expectBad(() => decode(good, codes.length, 4), /residual out of range/);
  });

  it('random noise as a block, at every length, never hangs or decodes silently', () => {
    const r = rng32(99);
    for (let t = 0; t < 200; t++) {
      const b = blocks(good);
      const which = t % 3;
      const target = which === 0 ? b.table : which === 1 ? b.low : b.data;
      for (let k = 0; k < 1 + (t % 4); k++) target[Math.floor(r() * target.length)] = Math.floor(r() * 256);
      let err: unknown = null;
      let out: Uint32Array | null = null;
      try {
        out = decode(assemble(b));
      } catch (e) {
        err = e;
      }
      if (err) expect((err as FieldpackError).code).toBe('BAD_STREAM');
      // a byte changed in the low bits alone may decode (raw bits carry no check): then only those values differ
      else if (which !== 1) expect(out).toEqual(codes);
    }
  });
});

/**
 * Codes in lines whose residual scale is the column's (random per column, so the code one line back tells about this
 * one where its left neighbour does not), in two segments of different line lengths, as an interpolation pass's codes
 * are laid out; `height`: lines per segment.
 */
function lineCodes(seed: number, zeroShare = 0, height = 1000): { codes: Uint32Array; lines: CodeLines } {
  const r = rng32(seed);
  const widths = [300, 97];
  const codes = new Uint32Array((widths[0]! + widths[1]!) * height);
  let i = 0;
  for (const w of widths) {
    const scales = Array.from({ length: w }, () => (r() < 0.5 ? 0.7 : 60));
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < w; x++, i++) {
        if (r() < zeroShare) {
          codes[i] = RADIUS;
          continue;
        }
        const v = Math.min(RADIUS - 1, Math.floor(-scales[x]! * Math.log(1 - r())));
        codes[i] = r() < 0.001 ? 0 : r() < 0.5 ? RADIUS - v : RADIUS + v;
      }
    }
  }
  return { codes, lines: { starts: Int32Array.of(0, widths[0]! * height), lines: Int32Array.of(widths[0]!, widths[1]!) } };
}

describe('rANS coder 5: the line context', () => {
  const encode5 = (codes: Uint32Array, lines: CodeLines, path: 'fast' | 'reference' = 'fast', radius = RADIUS) => {
    const w = new ByteWriter(64);
    ransEncodeCodesBare(codes, codes.length, radius, w, lines, path);
    return w.finish();
  };
  const decode5 = (bytes: Uint8Array, n: number, lines: CodeLines, path: 'fast' | 'reference' = 'fast', radius = RADIUS) =>
    ransDecodeCodesBare(new ByteReader(bytes, 'chunk 0'), radius, n, undefined, lines, path);

  it('round trips; the WebAssembly encoder and decoder agree with the reference byte for byte', () => {
    for (const [seed, zeros] of [[61, 0], [62, 0.6], [63, 0.97]] as const) {
      const { codes, lines } = lineCodes(seed, zeros, 200);
      const fast = encode5(codes, lines);
      expect(Buffer.from(fast).equals(Buffer.from(encode5(codes, lines, 'reference')))).toBe(true);
      expect(decode5(fast, codes.length, lines)).toEqual(codes);
      expect(decode5(fast, codes.length, lines, 'reference')).toEqual(codes);
    }
    // the largest radius, residuals up to it
    const big = lineCodes(64, 0, 100);
    const wide = Uint32Array.from(big.codes, (c, i) => (i % 7 === 0 ? 65536 + ((i * 2654435761) % 65535) - 32767 : c - RADIUS + 65536));
    const bytes = encode5(wide, big.lines, 'fast', 65536);
    expect(Buffer.from(bytes).equals(Buffer.from(encode5(wide, big.lines, 'reference', 65536)))).toBe(true);
    expect(decode5(bytes, wide.length, big.lines, 'fast', 65536)).toEqual(wide);
  });

  it('segments that start late, repeat a start, have lines of 0 codes or lines longer than themselves: both passes and the decoder as the reference', () => {
    const { codes } = lineCodes(68, 0.3, 120);
    const n = codes.length;
    for (const lines of [
      { starts: Int32Array.of(100, 5000, 5000, 12_000, 30_000), lines: Int32Array.of(7, 0, 33, 48, 1) },
      { starts: Int32Array.of(0, 9, 20_000, 20_001), lines: Int32Array.of(4000, 3, 1, 397) },
      { starts: Int32Array.of(0), lines: Int32Array.of(n + 5) },
    ]) {
      const fast = encode5(codes, lines);
      expect(Buffer.from(fast).equals(Buffer.from(encode5(codes, lines, 'reference')))).toBe(true);
      expect(decode5(fast, n, lines)).toEqual(codes);
      expect(decode5(fast, n, lines, 'reference')).toEqual(codes);
    }
  });

  it('smaller than coder 3 where the line back tells, and about as small as the adaptive coder 4', () => {
    const { codes, lines } = lineCodes(65);
    const five = encode5(codes, lines).length;
    const three = encode(codes).length;
    const w = new ByteWriter(64);
    msEncodeCodesBare(codes, codes.length, RADIUS, w, lines);
    const four = w.finish().length;
    expect(five).toBeLessThan(three * 0.97);
    expect(Math.abs(five / four - 1)).toBeLessThan(0.02);
  });

  it('writeCodes takes it for a large chunk with lines that is not mostly zeros; readCodes needs the lines', () => {
    const { codes, lines } = lineCodes(66);
    expect(codes.length).toBeGreaterThan(RANS_LINES_MIN_CODES);
    expect(ransLinesSuits(codeStatistics(codes, codes.length, RADIUS))).toBe(true);
    const bytes = writtenWithLines(codes, lines, RADIUS);
    expect(bytes[0]).toBe(ENTROPY_RANS_LINES);
    expect(readCodes(new ByteReader(bytes, 'chunk 0'), RADIUS, codes.length, 'chunk 0', { huffman: true, ms: true, bareCount: true, lines: () => lines })).toEqual(codes);
    expectBad(() => readCodes(new ByteReader(bytes, 'chunk 0'), RADIUS, codes.length, 'chunk 0', { huffman: true, ms: true, bareCount: true }), /line context \(entropy coder 5\) where its codes have no lines/);
    expectBad(() => readCodes(new ByteReader(bytes, 'chunk 0'), RADIUS, codes.length, 'chunk 0', { huffman: true, ms: false, bareCount: true, lines: () => lines }), /line context \(entropy coder 5\)/);
    // mostly zeros (under 1.5 bits a code): the adaptive coder's zero runs
    const zeros = lineCodes(67, 0.9);
    expect(ransLinesSuits(codeStatistics(zeros.codes, zeros.codes.length, RADIUS))).toBe(false);
    // with lines, the classic codec's too (largeBinaryTry): the binary coder it once took alone there was never smaller
    for (const largeBinaryTry of [false, true]) expect(writtenWithLines(zeros.codes, zeros.lines, RADIUS, largeBinaryTry)[0]).toBe(ENTROPY_MS_LINE_SIGNS);
  });

  it('writeCodes keeps the line context where static tables suit a chunk with lines below coder 5\'s 1.5 bits a code (coder 3 is larger there)', () => {
    // zeros in most columns (as where a field is flat along them), residuals in the rest: about 1.4 bits a code,
    // stationary (etopo5's polar chunks at rel 1e-3 are so: coder 3 was 6-7 % larger)
    const { codes: busy, lines } = lineCodes(66);
    const r = rng32(69);
    const column = (i: number) => (i < 300 * 1000 ? i % 300 : (i - 300 * 1000) % 97);
    const codes = Uint32Array.from(busy, (c, i) => (column(i) % 5 !== 0 && r() < 0.8 ? RADIUS : c));
    const stats = codeStatistics(codes, codes.length, RADIUS);
    expect(ransSuits(stats)).toBe(true);
    expect(ransLinesSuits(stats)).toBe(false);
    const bytes = writtenWithLines(codes, lines, RADIUS);
    expect(bytes[0]).toBe(ENTROPY_RANS_LINES);
    expect(bytes.length - 1).toBeLessThan(encode(codes).length);
    expect(readCodes(new ByteReader(bytes, 'chunk 0'), RADIUS, codes.length, 'chunk 0', { huffman: true, ms: true, bareCount: true, lines: () => lines })).toEqual(codes);
  });

  it('hostile blocks: both decoders refuse them alike (or decode the same codes), never hang', () => {
    const { codes, lines } = lineCodes(68, 0.3, 40);
    const good = encode5(codes, lines);
    const r = rng32(7);
    for (let t = 0; t < 120; t++) {
      const b = blocks(good);
      const target = t % 3 === 0 ? b.table : t % 3 === 1 ? b.low : b.data;
      for (let k = 0; k < 1 + (t % 4); k++) target[Math.floor(r() * target.length)] = Math.floor(r() * 256);
      const bytes = assemble(b);
      const outcome = (path: 'fast' | 'reference') => {
        try {
          return decode5(bytes, codes.length, lines, path);
        } catch (e) {
          expect((e as FieldpackError).code).toBe('BAD_STREAM');
          return (e as Error).message;
        }
      };
      expect(outcome('fast')).toEqual(outcome('reference'));
    }
    // cut short, and other lines than the encoder's
    expectBad(() => decode5(good.subarray(0, good.length - 30), codes.length, lines), /ends before rANS data/);
    const b = blocks(good);
    expectBad(() => decode5(assemble({ ...b, low: b.low.subarray(0, b.low.length - 9) }), codes.length, lines), /rANS low bits in chunk 0 ends early/);
    let err: unknown = null;
    let out: Uint32Array | null = null;
    try {
      out = decode5(good, codes.length, { starts: Int32Array.of(0), lines: Int32Array.of(301) });
    } catch (e) {
      err = e;
    }
    if (err) expect((err as FieldpackError).code).toBe('BAD_STREAM');
    else expect(out).not.toEqual(codes);
  });
});
