/**
 * The range coders' WebAssembly loops (wasm/codec-kernels.ts msEncode/msDecode, binEncode/binDecode, mask2Encode/
 * mask2Decode, mask3Encode/mask3Decode; issue 14: most of a chunk's decoding time, much of its encoding) against the TypeScript reference: the
 * same bytes and the same codes from every kind of code stream (the multi-symbol coder 2, coder 4 with its line
 * segments, the binary coder 1) and of validity mask (models 2 and 3),
 * and on damaged data the same outcome: the same codes, or the same error. A stream or a decoded field never depends
 * on which ran.
 */
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { type CodeLines, msDecodeCodesBare, msEncodeCodesBare } from '../../../src-main/core/codec/mscoder.ts';
import { binDecodeKernel, binEncodeKernel, countCodeKernel, mask2DecodeKernel, mask2EncodeKernel, mask3DecodeKernel, mask3EncodeKernel, msDecodeKernel, msEncodeKernel } from '../../../src-main/core/codec/wasm-kernels.ts';
import { readEscapes } from '../../../src-main/core/codec/envelope.ts';
import { rangeDecodeCodes, rangeEncodeCodes } from '../../../src-main/core/codec/rangecoder.ts';
import { maskDecode2, maskDecode3, maskEncode2, maskEncode3 } from '../../../src-main/core/codec/maskcoder.ts';
import { rng32 } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { FERRET, field, haveFerret, laplacianCodes } from './helpers.ts';

const RADIUS = 32768;

/** Laplacian residuals around RADIUS (helpers.ts laplacianCodes) */
const codesOf = (n: number, scale: number, seed: number, escapes = 0, run = 0) => laplacianCodes(n, scale, seed, RADIUS, escapes, run);

/** Segments as an interpolation's passes give them: lines of growing length, the first segment from code 0 */
function passLines(n: number): CodeLines {
  const starts = [0], lines = [1];
  for (let at = 0, line = 3; at + 4 * line < n; line = line * 2 + 1) {
    at += 4 * line;
    starts.push(at);
    lines.push(line);
  }
  return { starts: Int32Array.from(starts), lines: Int32Array.from(lines) };
}

/** An outcome as one comparable value (vitest compares long typed arrays element by element, slowly) */
function key(o: Uint32Array | string): string {
  return typeof o === 'string' ? o : `${o.length} codes ${Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('base64')}`;
}

/** lineSigns: coder 6 (the line-back code's sign in the sign bit's context; needs lines) */
function encoded(codes: Uint32Array, lines: CodeLines | null, path: 'fast' | 'reference' = 'fast', lineSigns = false): Uint8Array {
  const w = new ByteWriter(1024);
  msEncodeCodesBare(codes, codes.length, RADIUS, w, lines, path, lineSigns);
  return w.finish();
}

/** The decoded codes, or the error's message */
function outcome(bytes: Uint8Array, n: number, lines: CodeLines | null, path: 'fast' | 'reference', radius = RADIUS, lineSigns = false): Uint32Array | string {
  try {
    return msDecodeCodesBare(new ByteReader(bytes, 'chunk 0'), radius, n, lines, path, undefined, lineSigns);
  } catch (e) {
    return (e as Error).message;
  }
}

describe('the multi-symbol coder: WebAssembly and TypeScript', () => {
  const streams: [string, Uint32Array][] = [
    ['all zero residuals', new Uint32Array(50_000).fill(RADIUS)],
    ['loose bound: zero runs', codesOf(70_000, 0.3, 1, 0, 40)],
    ['small residuals', codesOf(30_000, 2, 2)],
    ['large residuals and escapes', codesOf(90_000, 3000, 3, 0.01)],
    ['residuals up to the radius', codesOf(20_000, 20_000, 7, 0.001)],
    ['a handful', codesOf(7, 5, 5)],
    ['none', new Uint32Array(0)],
  ];

  it('runs WebAssembly in Node (else the comparisons below would compare the reference with itself)', () => {
    expect(msDecodeKernel()).not.toBeNull();
    expect(msEncodeKernel()).not.toBeNull();
  });

  it.each(streams)('the same bytes, then the same codes, the encoded ones (coders 2, 4 and 6): %s', (_, codes) => {
    for (const [lines, lineSigns] of [[null, false], [passLines(codes.length), false], [passLines(codes.length), true]] as const) {
      const bytes = encoded(codes, lines, 'fast', lineSigns);
      expect(Buffer.from(bytes).equals(encoded(codes, lines, 'reference', lineSigns))).toBe(true);
      const fast = key(outcome(bytes, codes.length, lines, 'fast', RADIUS, lineSigns));
      expect(fast).toBe(key(codes));
      expect(key(outcome(bytes, codes.length, lines, 'reference', RADIUS, lineSigns))).toBe(fast);
    }
  });

  it('segments that start late, lines of 0 codes, one segment', () => {
    const codes = codesOf(20_000, 4, 8, 0.001, 5);
    for (const lines of [
      { starts: Int32Array.from([100, 5000, 5000, 12_000]), lines: Int32Array.from([7, 0, 33, 48]) },
      { starts: Int32Array.from([0]), lines: Int32Array.from([144]) },
    ]) {
      for (const lineSigns of [false, true]) {
        const bytes = encoded(codes, lines, 'fast', lineSigns);
        expect(Buffer.from(bytes).equals(encoded(codes, lines, 'reference', lineSigns))).toBe(true);
        expect(key(outcome(bytes, codes.length, lines, 'fast', RADIUS, lineSigns))).toBe(key(codes));
        expect(key(outcome(bytes, codes.length, lines, 'reference', RADIUS, lineSigns))).toBe(key(codes));
      }
    }
  });

  it('damaged data: truncated, bytes changed, a smaller radius, more codes asked for: the same outcome on both', () => {
    const r = rng32(99);
    const codes = codesOf(40_000, 30, 9, 0.002, 4);
    let errors = 0;
    for (const [lines, lineSigns] of [[null, false], [passLines(codes.length), false], [passLines(codes.length), true]] as const) {
      const bytes = encoded(codes, lines, 'fast', lineSigns);
      const cases: [Uint8Array, number, number][] = [];
      for (const cut of [1, 6, 50, Math.floor(bytes.length / 2)]) {
        // the block's length prefix kept consistent with what is left, as a chunk cut short after it would be
        const w = new ByteWriter(64);
        const body = new ByteReader(bytes, 'x');
        const len = body.varint('len');
        w.varint(len - cut);
        w.bytes(bytes.subarray(body.pos, bytes.length - cut));
        cases.push([w.finish(), codes.length, RADIUS]);
      }
      for (let k = 0; k < 12; k++) {
        const b = bytes.slice();
        const at = 4 + Math.floor(r() * (b.length - 4));
        b[at] = b[at]! ^ (1 + Math.floor(r() * 255));
        cases.push([b, codes.length, RADIUS]);
      }
      cases.push([bytes, codes.length, 1000], [bytes, codes.length + 500, RADIUS]);
      for (const [b, n, radius] of cases) {
        const fast = outcome(b, n, lines, 'fast', radius, lineSigns);
        if (typeof fast === 'string') errors++;
        expect(key(fast)).toBe(key(outcome(b, n, lines, 'reference', radius, lineSigns)));
      }
    }
    expect(errors).toBeGreaterThan(4); // the cases reach the failures, not only wrong codes
  });
});

describe('the binary range coder (coder 1): WebAssembly and TypeScript', () => {
  const coded = (codes: Uint32Array, path: 'fast' | 'reference') => {
    const w = new ByteWriter(1024);
    rangeEncodeCodes(codes, codes.length, RADIUS, w, path);
    return w.finish();
  };
  const outcomeOf = (bytes: Uint8Array, n: number, path: 'fast' | 'reference', radius = RADIUS) => {
    try {
      return key(rangeDecodeCodes(new ByteReader(bytes, 'chunk 0'), radius, n, path));
    } catch (e) {
      return (e as Error).message;
    }
  };

  it('runs WebAssembly in Node', () => {
    expect(binEncodeKernel()).not.toBeNull();
    expect(binDecodeKernel()).not.toBeNull();
  });

  it.each([
    ['all zero residuals', new Uint32Array(50_000).fill(RADIUS)],
    ['loose bound: zero runs', codesOf(70_000, 0.3, 1, 0, 40)],
    ['small residuals and escapes', codesOf(30_000, 2, 2, 0.01)],
    ['residuals up to the radius', codesOf(20_000, 20_000, 7, 0.001)],
    ['none', new Uint32Array(0)],
  ] as [string, Uint32Array][])('the same bytes, then the same codes: %s', (_, codes) => {
    const bytes = coded(codes, 'fast');
    expect(Buffer.from(bytes).equals(coded(codes, 'reference'))).toBe(true);
    expect(outcomeOf(bytes, codes.length, 'fast')).toBe(key(codes));
    expect(outcomeOf(bytes, codes.length, 'reference')).toBe(key(codes));
  });

  it('damaged data: the same outcome on both', () => {
    const r = rng32(7);
    const codes = codesOf(40_000, 1, 3, 0.002, 8);
    const bytes = coded(codes, 'fast');
    const cases: [Uint8Array, number][] = [[bytes.subarray(0, bytes.length - 40), RADIUS], [bytes, 3]];
    for (let k = 0; k < 12; k++) {
      const b = bytes.slice();
      const at = 8 + Math.floor(r() * (b.length - 8));
      b[at] = b[at]! ^ (1 + Math.floor(r() * 255));
      cases.push([b, RADIUS]);
    }
    let errors = 0;
    for (const [b, radius] of cases) {
      const fast = outcomeOf(b, codes.length, 'fast', radius);
      if (!fast.includes(' codes ')) errors++;
      expect(fast).toBe(outcomeOf(b, codes.length, 'reference', radius));
    }
    expect(errors).toBeGreaterThan(1);
  });
});

const MASK_MODELS = [
  { model: 2, encode: maskEncode2, decode: maskDecode2, encodeKernel: mask2EncodeKernel, decodeKernel: mask2DecodeKernel },
  { model: 3, encode: maskEncode3, decode: maskDecode3, encodeKernel: mask3EncodeKernel, decodeKernel: mask3DecodeKernel },
];

describe.each(MASK_MODELS)('the validity mask, model $model: WebAssembly and TypeScript', ({ encode, decode, encodeKernel, decodeKernel }) => {
  const coded = (mask: Uint8Array, w: number, plane: number, path: 'fast' | 'reference') => {
    const out = new ByteWriter(1024);
    encode(mask, w, plane, out, path);
    return out.finish();
  };
  const outcomeOf = (bytes: Uint8Array, n: number, w: number, plane: number, path: 'fast' | 'reference') => {
    try {
      const m = decode(new ByteReader(bytes, 'chunk 0'), n, w, plane, path);
      return `${m.length} points ${Buffer.from(m).toString('base64')}`;
    } catch (e) {
      return (e as Error).message;
    }
  };
  /** land-like blobs: cells of a coarse random grid, smoothed over slices */
  function blobs(w: number, h: number, slices: number, seed: number): Uint8Array {
    const r = rng32(seed);
    const coarse = Array.from({ length: 64 }, () => (r() < 0.6 ? 1 : 0));
    const m = new Uint8Array(w * h * slices);
    for (let z = 0; z < slices; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const c = coarse[(Math.floor((y * 8) / h) * 8 + Math.floor((x * 8) / w)) % 64]!;
      m[(z * h + y) * w + x] = r() < 0.02 ? 1 - c : z > slices / 2 && r() < 0.3 ? 0 : c;
    }
    return m;
  }

  it('runs WebAssembly in Node', () => {
    expect(encodeKernel()).not.toBeNull();
    expect(decodeKernel()).not.toBeNull();
  });

  it.each([
    ['land-like, 3 slices', blobs(90, 45, 3, 1), 90, 90 * 45],
    ['land-like, one slice', blobs(144, 73, 1, 2), 144, 144 * 73],
    ['all valid', new Uint8Array(20_000).fill(1), 100, 2000],
    ['none valid', new Uint8Array(20_000), 100, 2000],
    ['random points (the model at its worst)', Uint8Array.from({ length: 30_000 }, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1 > 0 ? 1 : 0), 150, 150 * 40],
    ['one column', blobs(1, 500, 4, 3), 1, 500],
    ['rows of whole 16-point segments', blobs(64, 30, 5, 4), 64, 64 * 30],
    ['rows shorter than a segment', blobs(7, 40, 3, 6), 7, 7 * 40],
  ] as [string, Uint8Array, number, number][])('the same bytes, then the same mask: %s', (_, mask, w, plane) => {
    const bytes = coded(mask, w, plane, 'fast');
    expect(Buffer.from(bytes).equals(coded(mask, w, plane, 'reference'))).toBe(true);
    const want = `${mask.length} points ${Buffer.from(mask).toString('base64')}`;
    expect(outcomeOf(bytes, mask.length, w, plane, 'fast')).toBe(want);
    expect(outcomeOf(bytes, mask.length, w, plane, 'reference')).toBe(want);
  });

  it('damaged data: the same outcome on both', () => {
    const r = rng32(11);
    const mask = blobs(90, 45, 4, 5);
    const bytes = coded(mask, 90, 90 * 45, 'fast');
    const cases: Uint8Array[] = [];
    for (const cut of [2, 10, Math.floor(bytes.length / 2)]) {
      const body = new ByteReader(bytes, 'x');
      const len = body.varint('len');
      const w = new ByteWriter(64);
      w.varint(len - cut);
      w.bytes(bytes.subarray(body.pos, bytes.length - cut));
      cases.push(w.finish());
    }
    for (let k = 0; k < 10; k++) {
      const b = bytes.slice();
      const at = 3 + Math.floor(r() * (b.length - 3));
      b[at] = b[at]! ^ (1 + Math.floor(r() * 255));
      cases.push(b);
    }
    let errors = 0;
    for (const b of cases) {
      const fast = outcomeOf(b, mask.length, 90, 90 * 45, 'fast');
      if (!fast.includes(' points ')) errors++;
      expect(fast).toBe(outcomeOf(b, mask.length, 90, 90 * 45, 'reference'));
    }
    expect(errors).toBeGreaterThan(0);
  });
});

describe('escape codes counted in the module (a decoder checks their count against the escaped values)', () => {
  it('counts as the loop does across blocks and lane tails, and a stream whose escape count differs is refused', () => {
    const count = countCodeKernel()!;
    for (const n of [0, 3, 4, 65535, 65536, 65537, 200003]) {
      const codes = codesOf(n, 3, n + 1, 0.01);
      let want = 0;
      for (const c of codes) if (c === 0) want++;
      expect(count(codes, 0), `n=${n}`).toBe(want);
      expect(count(codes, RADIUS), `zeros n=${n}`).toBe(codes.filter((c) => c === RADIUS).length);
    }
    const codes = codesOf(70000, 3, 9, 0.01);
    const escapes = codes.filter((c) => c === 0).length;
    expect(escapes).toBeGreaterThan(0);
    const stream = (declared: number) => {
      const w = new ByteWriter(64);
      w.varint(declared);
      for (let i = 0; i < declared; i++) w.f32(1.5);
      return new ByteReader(w.finish(), 'chunk 0');
    };
    expect(readEscapes(stream(escapes), codes, true, 'chunk 0')).toHaveLength(escapes);
    expect(() => readEscapes(stream(escapes - 1), codes, true, 'chunk 0')).toThrow(new RegExp(`chunk 0 has ${escapes} escape codes but ${escapes - 1} escaped values`));
  });
});

describe('the validity mask, model 3 against model 2', () => {
  it.runIf(haveFerret)('a land mask over depth levels (Levitus salinity): each mask back exactly, in at most 2 % more bytes than model 2; a mask that holds one value in under half model 2\'s bytes', async () => {
    const f = await field(`${FERRET}/levitus_climatology.cdf`, 'SALT');
    const [, ny, nx] = f.shape as [number, number, number];
    const sizes = MASK_MODELS.map(({ encode, decode }) => {
      const out = new ByteWriter(1024);
      encode(f.mask!, nx, nx * ny, out);
      const bytes = out.finish();
      expect(Buffer.from(decode(new ByteReader(bytes, 'x'), f.mask!.length, nx, nx * ny)).equals(Buffer.from(f.mask!))).toBe(true);
      return bytes.length;
    });
    expect(sizes[1]!, `${sizes}`).toBeLessThanOrEqual(1.02 * sizes[0]!);
    const [all2, all3] = [maskEncode2, maskEncode3].map((encode) => {
      const out = new ByteWriter(64);
      encode(new Uint8Array(360 * 180 * 20).fill(1), 360, 360 * 180, out);
      return out.finish().length;
    });
    // (model 2 codes each point, at least 7e-4 bit: 114 bytes or more)
    expect(all3, `${all3} against ${all2}`).toBeLessThan(all2! / 2);
  });
});
