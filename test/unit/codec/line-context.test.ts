/**
 * The multi-symbol coder's line context (entropy coder 4, issue 14): a code's symbol is coded in the context of the
 * code one line back (the same point of the previous line of an interpolation pass, the previous row for Lorenzo).
 * Exact round trips; where codes repeat from line to line it is much smaller than the previous-two-symbols context;
 * the classic codec uses it on real fields (WRF PH at rel 1e-2 about 30 % smaller than before) and never where
 * points are skipped; a stream that claims it without lines is refused, named. Coder 6 (what the encoders write
 * now) adds the sign of the code one line back to the sign bit's context: smaller where signs repeat from line to
 * line, coder 4's streams still read.
 */
import { describe, expect, it } from 'vitest';
import '../../../src-main/services/codecs/zstd-backend.ts';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { type CodeLines, msDecodeCodesBare, msEncodeCodesBare } from '../../../src-main/core/codec/mscoder.ts';
import { ENTROPY_MS_LINES, ENTROPY_MS_LINE_SIGNS, readCodes } from '../../../src-main/core/codec/envelope.ts';
import { predictorByName } from '../../../src-main/core/codec/predictors/index.ts';
import { compressClassic, decompressClassic } from '../../../src-main/core/compressors/classic/codec.ts';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { rng32 } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { FERRET, WRF, field, haveFerret, haveWrf, overBound, writtenWithLines } from './helpers.ts';

const RADIUS = 32768;

/** Lines of `line` codes where the same scattered columns are active (non-zero) from line to line (a front). */
function lineCodes(lines: number, line: number, seed: number): Uint32Array {
  const r = rng32(seed);
  const active = Array.from({ length: line }, () => r() < 0.3);
  const out = new Uint32Array(lines * line).fill(RADIUS);
  for (let l = 0; l < lines; l++) {
    for (let t = 0; t < line; t++) if (active[t] !== r() < 0.05) out[l * line + t] = RADIUS + (r() < 0.5 ? -1 : 1) * (1 + Math.floor(r() * 3));
  }
  return out;
}

function coded(codes: Uint32Array, lines: CodeLines | null): Uint8Array {
  const w = new ByteWriter(64);
  msEncodeCodesBare(codes, codes.length, RADIUS, w, lines);
  return w.finish();
}

describe('the line context (entropy coder 4)', () => {
  const codes = lineCodes(400, 57, 1);
  const lines: CodeLines = { starts: Int32Array.of(0, 1000, 9000), lines: Int32Array.of(57, 13, 57) };

  it('round-trips exactly, across blocks and segments', () => {
    const bytes = coded(codes, lines);
    const back = msDecodeCodesBare(new ByteReader(bytes, 'chunk 0'), RADIUS, codes.length, lines);
    expect(back).toEqual(codes);
  });

  it('is much smaller than the previous-two-symbols context where lines repeat', () => {
    const right: CodeLines = { starts: Int32Array.of(0), lines: Int32Array.of(57) };
    expect(coded(codes, right).length).toBeLessThan(0.85 * coded(codes, null).length);
  });

  it('the layouts of the interpolation passes count one code per point', () => {
    for (const shape of [[7], [48, 49], [4, 14, 48, 48], [12, 90, 180], [3, 5, 2, 9]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      for (const p of ['interp-linear', 'interp-cubic', 'lorenzo'] as const) {
        const l = predictorByName(p).codeLines(shape);
        expect(l.starts[0]).toBe(0);
        for (let k = 1; k < l.starts.length; k++) expect(l.starts[k]).toBeGreaterThan(l.starts[k - 1]!);
        expect(l.starts[l.starts.length - 1]).toBeLessThan(n);
      }
    }
  });

  it('a chunk that claims it where its codes have no lines is refused, named', () => {
    const bytes = coded(codes, lines);
    const w = new ByteWriter(64);
    w.u8(ENTROPY_MS_LINES);
    w.bytes(bytes);
    const read = (withLines: boolean) => readCodes(new ByteReader(w.finish(), 'chunk 3'), RADIUS, codes.length, 'chunk 3', { huffman: true, ms: true, bareCount: true, ...(withLines ? { lines: () => lines } : { lines: () => null }) });
    expect(read(true)).toEqual(codes);
    expect(() => read(false)).toThrow(FieldpackError);
    expect(() => read(false)).toThrow(/chunk 3 uses the line context \(entropy coder 4\) where its codes have no lines/);
  });

  it.runIf(haveWrf)('the classic codec uses it on WRF PH: within the bound, ~30 % smaller at rel 1e-2 than the 4172 bytes before', async () => {
    const f = await field(WRF, 'PH');
    const { bytes, plan } = compressClassic(f, { bound: { mode: 'rel', value: 1e-2 } }, zstdBackend);
    const d = decompressClassic(bytes);
    expect(overBound(f.values, d.field.values, null, plan.bound.abs)).toBe(0);
    expect(bytes.length).toBeLessThan(0.8 * 4172 + 150); // stream = chunk + header and metadata
  });

  it('a masked field whose mask leaves a chunk whole: that chunk has lines on both sides (it was refused, named, at decoding)', () => {
    const [levels, ny, nx] = [20, 40, 50];
    const values = new Float32Array(levels * ny * nx);
    const mask = new Uint8Array(values.length).fill(1);
    for (let i = 0; i < values.length; i++) {
      const [k, y, x] = [Math.floor(i / (ny * nx)), Math.floor(i / nx) % ny, i % nx];
      values[i] = 280 + 8 * Math.sin(x / 7 + k / 3) * Math.cos(y / 9);
      // land in the first levels only: the second chunk's mask is all ones
      if (k < 4 && (x - 20) ** 2 + (y - 15) ** 2 < 60) {
        mask[i] = 0;
        values[i] = -1e34;
      }
    }
    for (const rel of [1e-2, 1e-3]) {
      const { bytes, plan } = compressClassic({ values, mask, shape: [levels, ny, nx] }, { bound: { mode: 'rel', value: rel }, chunkValues: 10 * ny * nx }, zstdBackend);
      expect(plan.chunkRows.length).toBe(2);
      const d = decompressClassic(bytes);
      expect(overBound(values, d.field.values, mask, plan.bound.abs)).toBe(0);
      expect(Array.from(d.field.mask!)).toEqual(Array.from(mask));
    }
  });

  it.runIf(haveFerret)('a masked field (points skipped) round-trips without it', async () => {
    const f = await field(`${FERRET}/coads_climatology.cdf`, 'SST');
    for (const rel of [1e-2, 1e-4]) {
      const { bytes, plan } = compressClassic(f, { bound: { mode: 'rel', value: rel } }, zstdBackend);
      const d = decompressClassic(bytes);
      expect(overBound(f.values, d.field.values, f.mask, plan.bound.abs)).toBe(0);
    }
  });
});

describe('coder 6: the line-back code\'s sign in the sign bit\'s context', () => {
  /** lines whose residuals keep their column's sign (as an interpolation pass's errors along a front do) */
  function signedLines(lines: number, line: number, seed: number): Uint32Array {
    const r = rng32(seed);
    const sign = Array.from({ length: line }, () => (r() < 0.5 ? -1 : 1));
    const out = new Uint32Array(lines * line);
    for (let l = 0; l < lines; l++) {
      for (let t = 0; t < line; t++) out[l * line + t] = RADIUS + (r() < 0.9 ? sign[t]! : -sign[t]!) * (1 + Math.floor(r() * 6));
    }
    return out;
  }
  const codes = signedLines(300, 64, 3);
  const lines: CodeLines = { starts: Int32Array.of(0), lines: Int32Array.of(64) };
  const withSigns = (c: Uint32Array, lineSigns: boolean) => {
    const w = new ByteWriter(64);
    msEncodeCodesBare(c, c.length, RADIUS, w, lines, 'fast', lineSigns);
    return w.finish();
  };

  it('round-trips, and is smaller than coder 4 where signs repeat along the lines', () => {
    const bytes = withSigns(codes, true);
    expect(msDecodeCodesBare(new ByteReader(bytes, 'chunk 0'), RADIUS, codes.length, lines, 'fast', undefined, true)).toEqual(codes);
    // about one bit a code of sign information, most of it predictable from the line before
    expect(bytes.length).toBeLessThan(withSigns(codes, false).length - 0.3 * codes.length / 8);
  });

  it('writeCodes writes coder 6 where the codes have lines; readCodes reads it, and coder 4 still, and refuses it without lines', () => {
    const bytes = writtenWithLines(codes, lines, RADIUS);
    expect(bytes[0]).toBe(ENTROPY_MS_LINE_SIGNS);
    const read = (b: Uint8Array, l: CodeLines | null) => readCodes(new ByteReader(b, 'chunk 2'), RADIUS, codes.length, 'chunk 2', { huffman: true, ms: true, bareCount: true, lines: () => l });
    expect(read(bytes, lines)).toEqual(codes);
    expect(() => read(bytes, null)).toThrow(/chunk 2 uses the line context \(entropy coder 6\) where its codes have no lines/);
    const four = new ByteWriter(64);
    four.u8(ENTROPY_MS_LINES);
    four.bytes(withSigns(codes, false));
    expect(read(four.finish(), lines)).toEqual(codes);
  });
});
