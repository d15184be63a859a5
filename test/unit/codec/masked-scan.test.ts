/**
 * The points a masked chunk keeps out of prediction (envelope.ts scanExceptions): found in one pass in the
 * WebAssembly module where masked points hold the fill and valid ones are finite, by its loop otherwise. Either way
 * the skip array and the value lists are the definition's, so the streams are the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { scanExceptions } from '../../../src-main/core/codec/envelope.ts';
import { validRange } from '../../../src-main/core/codec/bound.ts';

/** the definition: masked points and valid non-finite ones skipped; masked points not Object.is the fill listed */
function reference(values: ArrayLike<number>, mask: Uint8Array, fill: number | null) {
  const n = values.length;
  const skip = new Uint8Array(n);
  const nonfinite: number[] = [];
  const fillExc: number[] = [];
  let nSkip = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (mask[i] === 0) {
      skip[i] = 1;
      nSkip++;
      if (fill === null || !Object.is(v, fill)) fillExc.push(i);
    } else if (!Number.isFinite(v)) {
      skip[i] = 1;
      nSkip++;
      nonfinite.push(i);
    }
  }
  return { skip: nSkip ? skip : null, nSkip, nonfinite, fillExc };
}

describe('scanExceptions on masked chunks', () => {
  // 70 001 points: two blocks of the module's pass and a tail; a land mask in runs
  const n = 70_001;
  const mask = Uint8Array.from({ length: n }, (_, i) => (Math.floor(i / 37) % 5 === 2 || i % 1000 === 999 ? 0 : 1));
  const values = (fillAt: (i: number) => number, validAt: (i: number) => number = (i) => Math.sin(i / 50) * 30) =>
    Array.from({ length: n }, (_, i) => (mask[i] ? validAt(i) : fillAt(i)));
  const cases: [string, number[], number | null][] = [
    ['masked points hold the fill (the usual case)', values(() => -1e34), -1e34],
    ['a NaN fill, masked points NaN', values(() => NaN), NaN],
    ['a zero fill, one masked point -0', values((i) => (i === 74 ? -0 : 0)), 0],
    ['one masked point off the fill', values((i) => (i === 40_074 ? 5 : 9.96921e36)), 9.96921e36],
    ['no fill value: every masked point listed', values(() => 1), null],
    ['valid NaN and Infinity among the valid points', values(() => -999, (i) => (i === 3 ? NaN : i === 66_000 ? Infinity : i / 7)), -999],
  ];
  for (const [name, c, fill] of cases) {
    it(`${name}: the definition's skip array and lists, float32 and float64`, () => {
      for (const v of [Float64Array.from(c), Float32Array.from(c)]) {
        const f = fill === null ? null : v instanceof Float32Array ? Math.fround(fill) : fill;
        const got = scanExceptions(v, mask, f);
        const want = reference(v, mask, f);
        expect(got.nSkip).toBe(want.nSkip);
        expect(got.nonfinite).toEqual(want.nonfinite);
        expect(got.fillExc).toEqual(want.fillExc);
        expect(got.skip && Buffer.from(got.skip).equals(Buffer.from(want.skip!))).toBe(want.skip ? true : null);
      }
    });
  }
  it('a fill that is no float32 value, on float32 values: no masked point is it, every one listed', () => {
    const v = Float32Array.from(values(() => 0.1));
    const got = scanExceptions(v, mask, 0.1);
    expect(got.fillExc).toEqual(reference(v, mask, 0.1).fillExc);
    expect(got.fillExc.length).toBe(mask.filter((m) => m === 0).length);
  });

  it('validRange: the valid finite points\' range, a zero end signed as the first valid zero (the pass keeps the first of equal values)', () => {
    /** the definition: `v < min` and `v > max` in index order over the valid finite points */
    const rangeOf = (v: ArrayLike<number>, m: Uint8Array) => {
      let min = Infinity;
      let max = -Infinity;
      let count = 0;
      for (let i = 0; i < v.length; i++) {
        if (m[i] === 0 || !Number.isFinite(v[i]!)) continue;
        count++;
        if (v[i]! < min) min = v[i]!;
        if (v[i]! > max) max = v[i]!;
      }
      return { min, max, count };
    };
    // valid values >= 0 whose first valid zero is -0 (at 1; +0 at every third point after it, masked +0 at 74), and
    // their negation
    expect(mask[1]).toBe(1);
    const upward = values((i) => (i === 74 ? 0 : 5), (i) => (i === 1 ? -0 : i > 1 && i % 3 === 0 ? 0 : i === 50_001 ? NaN : 1 + (i % 7)));
    for (const c of [upward, upward.map((x) => -x)]) {
      for (const v of [Float64Array.from(c), Float32Array.from(c)]) {
        const got = validRange(v, mask);
        const want = rangeOf(v, mask);
        expect(got.count).toBe(want.count);
        expect(Object.is(got.min, want.min) && Object.is(got.max, want.max), `${got.min} ${got.max} against ${want.min} ${want.max}`).toBe(true);
      }
    }
  });

  it('a mask of ones skips nothing (no skip array), as without a mask', () => {
    const v = Float32Array.from({ length: n }, (_, i) => i);
    expect(scanExceptions(v, new Uint8Array(n).fill(1), 0)).toEqual({ skip: null, nSkip: 0, nonfinite: [], fillExc: [] });
  });
});
