/**
 * msCostBytes, the model cost planning sizes candidates with (issue 14): its WebAssembly loop (wasm/codec-kernels.ts)
 * returns the TypeScript reference's value to the bit on every kind of code stream planning sees (zero runs, small
 * and large residuals, escapes, a model that rescales, more codes than one copy into the module holds, real
 * predictor codes), so a plan and its stream never depend on which ran; and both stay within a few bytes of what
 * the multi-symbol coder writes.
 */
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { type CodeLines, msCostBytes, msCostIsFast, msEncodeCodesBare } from '../../../src-main/core/codec/mscoder.ts';
import { LinearQuantizer } from '../../../src-main/core/codec/quantizer.ts';
import { predictorByName } from '../../../src-main/core/codec/predictors/index.ts';
import { predictorShape } from '../../../src-main/core/compressors/classic/codec.ts';
import { WRF, field, haveWrf, laplacianCodes } from './helpers.ts';

const RADIUS = 32768;

/** Laplacian residuals around RADIUS (helpers.ts laplacianCodes) */
const codesOf = (n: number, scale: number, seed: number, escapes = 0, run = 0) => laplacianCodes(n, scale, seed, RADIUS, escapes, run);

function coded(codes: Uint32Array, lines: CodeLines | null = null): number {
  const w = new ByteWriter(1024);
  msEncodeCodesBare(codes, codes.length, RADIUS, w, lines, 'fast', lines !== null);
  return w.finish().length;
}

describe('msCostBytes', () => {
  const streams: [string, Uint32Array][] = [
    ['all zero residuals', new Uint32Array(50_000).fill(RADIUS)],
    ['loose bound: zero runs', codesOf(70_000, 0.3, 1, 0, 40)],
    ['small residuals', codesOf(30_000, 2, 2)],
    ['large residuals and escapes', codesOf(90_000, 3000, 3, 0.01)],
    ['more codes than one copy into the module (2^16)', codesOf(200_000, 20, 4, 0.001, 3)],
    ['a handful', codesOf(7, 5, 5)],
    ['none', new Uint32Array(0)],
  ];

  it('runs WebAssembly in Node (else the comparisons below would compare the reference with itself)', () => {
    expect(msCostIsFast()).toBe(true);
  });

  it.each(streams)('WebAssembly and TypeScript give the same bits: %s', (_, codes) => {
    const fast = msCostBytes(codes, codes.length, RADIUS, 'fast');
    expect(fast).toBe(msCostBytes(codes, codes.length, RADIUS, 'reference'));
    if (codes.length > 1000) expect(Math.abs(fast - coded(codes))).toBeLessThanOrEqual(8 + codes.length / 20_000);
  });

  it.each(streams)('with line segments (coder 6, as chunks with known lines are coded), the same bits both ways, within bytes of coding: %s', (_, codes) => {
    // three segments of lines of 7, 40 and 300 codes (an interpolation's passes), the first starting at code 0
    const n = codes.length;
    const lines: CodeLines = { starts: new Int32Array([0, Math.floor(n / 5), Math.floor(n / 2)]), lines: new Int32Array([7, 40, 300]) };
    const fast = msCostBytes(codes, n, RADIUS, 'fast', lines);
    expect(fast).toBe(msCostBytes(codes, n, RADIUS, 'reference', lines));
    if (n > 1000) expect(Math.abs(fast - coded(codes, lines))).toBeLessThanOrEqual(8 + n / 20_000);
  });

  it('with lines, codes whose magnitudes follow the line before cost what coder 6 codes them in, far under coder 2\'s model', () => {
    // residuals in a random half of the columns, zeros in the rest: the previous codes cannot tell which, the line before can
    const n = 60_000;
    const line = 120;
    const noisy = codesOf(n, 200, 8);
    const columns = codesOf(line, 1, 9);
    const codes = noisy.map((c, i) => (columns[i % line]! > RADIUS ? c : RADIUS));
    const lines: CodeLines = { starts: new Int32Array([0]), lines: new Int32Array([line]) };
    const withLines = msCostBytes(codes, n, RADIUS, 'fast', lines);
    expect(Math.abs(withLines - coded(codes, lines))).toBeLessThanOrEqual(12);
    expect(withLines).toBeLessThan(0.8 * msCostBytes(codes, n, RADIUS, 'fast'));
  });

  it('counts only the first n codes', () => {
    const codes = codesOf(10_000, 10, 6);
    expect(msCostBytes(codes, 4000, RADIUS, 'fast')).toBe(msCostBytes(codes.slice(0, 4000), 4000, RADIUS, 'reference'));
  });

  it.runIf(haveWrf)('on the codes of real predictors, at three bounds', async () => {
    const f = await field(WRF, 'T');
    let lo = Infinity, hi = -Infinity;
    for (const x of f.values) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    for (const rel of [1e-2, 1e-3, 1e-4]) {
      for (const p of ['lorenzo', 'interp-cubic'] as const) {
        const q = new LinearQuantizer(rel * (hi - lo), true, 0, RADIUS);
        q.codes = new Uint32Array(f.values.length);
        predictorByName(p).encode(f.values, null, predictorShape(f.shape), q, 0);
        expect(msCostBytes(q.codes, q.nCodes, RADIUS, 'fast')).toBe(msCostBytes(q.codes, q.nCodes, RADIUS, 'reference'));
      }
    }
  });
});
