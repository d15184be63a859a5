import { describe, expect, it } from 'vitest';
import { errorStats, psnr, ssim2d, errorAutocorrelation, errorHistogram, bitRate, compressionRatio, fullMetrics } from '../../../src-main/core/metrics/index.ts';
import { MAX_ABS_BOUND, clampToRange, parseBound, resolveBound, validRange } from '../../../src-main/core/codec/bound.ts';
import { rng32 as rng } from '../../../src-main/services/codecs/fuzz-corpus.ts';

describe('metrics', () => {
  const a = Float64Array.from({ length: 400 }, (_, i) => Math.sin(i / 10) * 10);
  it('PSNR is 20 log10(range / RMSE) over valid points; masked points are ignored', () => {
    const b = a.map((x, i) => x + (i % 2 ? 0.1 : -0.1));
    const mask = new Uint8Array(400).fill(1);
    mask[3] = 0;
    const bb = Float64Array.from(b);
    bb[3] = 1e9;
    const st = errorStats(a, bb, mask, 0.1 + 1e-12);
    let min = Infinity, max = -Infinity;
    a.forEach((x, i) => { if (mask[i]) { min = Math.min(min, x); max = Math.max(max, x); } });
    expect(st.rmse).toBeCloseTo(0.1, 12);
    expect(st.psnr).toBeCloseTo(20 * Math.log10((max - min) / 0.1), 9);
    expect(st.pointsOverBound).toBe(0);
    expect(st.maxErrorOverBound).toBeLessThanOrEqual(1);
    expect(psnr(1, 0)).toBe(Infinity);
    expect(errorStats(a, bb, null, 0.1 + 1e-12).pointsOverBound).toBe(1);
  });
  it('SSIM is 1 for identical slices and lower for noisy ones', () => {
    expect(ssim2d(a, a, 20, 20)).toBeCloseTo(1, 12);
    const noisy = a.map((x, i) => x + ((i * 7919) % 13) - 6);
    expect(ssim2d(a, noisy, 20, 20)).toBeLessThan(0.9);
  });
  it('lag-1 autocorrelation of the error, histogram, ratio, bit rate', () => {
    const smooth = a.map((x, i) => x + Math.sin(i / 50) * 0.1);
    expect(errorAutocorrelation(a, smooth, [20, 20])).toBeGreaterThan(0.8);
    const alt = a.map((x, i) => x + (i % 2 ? 0.1 : -0.1));
    expect(errorAutocorrelation(a, alt, [400])).toBeLessThan(-0.9);
    const h = errorHistogram(a, alt, null, 4, 0.2);
    expect(h.counts.reduce((s, c) => s + c, 0)).toBe(400);
    expect(h.edges.length).toBe(5);
    expect(compressionRatio(400, 100)).toBe(4);
    expect(bitRate(100, 400)).toBe(2);
    const m = fullMetrics(a, alt, [20, 20], null, 0.2, 1600, 100, { compressSeconds: 0.001 });
    expect(m.compressionRatio).toBe(16);
    expect(m.compressMBs).toBeCloseTo(1.6, 9);
  });
  it('RMSE, NRMSE and PSNR of float64 fields near the largest doubles or with only tiny errors: finite and right, the sum of squares of every other field unchanged to the bit', () => {
    // errors of 1e297 square past the doubles: summed apart, scaled
    const big = Float64Array.from([1e300, -1e300, 5e299, 0]);
    const bigRecon = Float64Array.from([1e300 + 3e297, -1e300 - 4e297, 5e299, 0]);
    const sb = errorStats(big, bigRecon, null, 1e298);
    expect(sb.rmse).toBeCloseTo(Math.sqrt((9 + 16) / 4) * 1e297, -285);
    expect(sb.nrmse).toBeCloseTo(Math.sqrt(25 / 4) / 2000, 12);
    expect(sb.psnr).toBeCloseTo(20 * Math.log10(2000 / 2.5), 9);
    // errors of 1e-170 square to 0: summed apart too, so the reconstruction is not taken for exact
    const tiny = Float64Array.from([1, 2, 3, 4]);
    const tinyRecon = Float64Array.from([1, 2, 3, 4 + 8.9e-16]);
    const st = errorStats(Float64Array.from([0, 1e-170, 2e-170, 1]), Float64Array.from([1e-170, 0, 2e-170, 1]), null, 1);
    expect(st.rmse).toBeCloseTo(Math.sqrt(2 / 4) * 1e-170, 180);
    expect(st.rmse).toBeGreaterThan(0);
    expect(Number.isFinite(st.psnr)).toBe(true);
    // everywhere else: the plain sum of squares, the same double
    const x = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 300);
    const y = x.map((v, i) => v + Math.cos(i * 7) * 1e-3);
    let sse = 0;
    for (let i = 0; i < x.length; i++) sse += (x[i]! - y[i]!) * (x[i]! - y[i]!);
    expect(errorStats(x, y, null, 1e-3).rmse).toBe(Math.sqrt(sse / x.length));
    expect(errorStats(tiny, tinyRecon, null, 1).rmse).toBe(Math.sqrt(((4 + 8.9e-16 - 4) ** 2) / 4));
  });

  it('a field without a valid point (all fill or NaN) has no NRMSE or PSNR to give (NaN, not a lossless one), and its bound says why it is lossless', () => {
    const st = errorStats(new Float32Array([-999, NaN, -999]), new Float32Array([-999, NaN, -999]), new Uint8Array([0, 1, 0]), 0.5);
    expect(st.validCount).toBe(0);
    expect(st.maxAbsError).toBe(0);
    expect(st.pointsOverBound).toBe(0);
    expect(st.nrmse).toBeNaN();
    expect(st.psnr).toBeNaN();
    expect(resolveBound({ mode: 'rel', value: 1e-3 }, 0, 0).label).toBe('rel 0.001 -> lossless (bound 0, no valid point: every value is fill or not finite)');
    expect(resolveBound({ mode: 'rel', value: 1e-3 }, 0, 12).label).toBe('rel 0.001 -> lossless (bound 0, constant field)');
    // a constant field keeps its lossless PSNR
    expect(errorStats([5, 5], [5, 5], null, 0).psnr).toBe(Infinity);
  });

  it('bound modes resolve to an absolute bound and say so', () => {
    expect(resolveBound(parseBound('rel:1e-3'), 50).abs).toBeCloseTo(0.05, 15);
    expect(resolveBound(parseBound('abs:0.5'), 50).abs).toBe(0.5);
    expect(resolveBound(parseBound('psnr:60'), 10).abs).toBeCloseTo(Math.sqrt(3) * 10 * 1e-3, 12);
    expect(resolveBound(parseBound('nrmse:1e-5'), 10).abs).toBeCloseTo(Math.sqrt(3) * 1e-4, 15);
    expect(resolveBound(parseBound('abs:0'), 10).label).toMatch(/lossless/);
    expect(() => parseBound('foo:1')).toThrow(/MODE:VALUE/);
    expect(() => parseBound('psnr:Infinity')).toThrow(/psnr:Infinity asks for an exact reconstruction: give abs:0 \(lossless\)/);
    // a value that is no decimal number is quoted back (it was "got NaN"; 0x10 was read as 16)
    for (const text of ['rel:1e-3x', 'rel:0x10', 'abs:1_0', 'rel:1e-3,abs:1']) expect(() => parseBound(text)).toThrow(new RegExp(`bad bound "${text}": ".*" is not a number`));
    expect(parseBound('REL:.001')).toEqual({ mode: 'rel', value: 0.001 });
    // an infinite bound is said as such (abs:inf said "got NaN"), a negative PSNR asks for dB > 0 (psnr:0 is refused too)
    expect(() => parseBound('abs:inf')).toThrow(/bound value for abs must be a finite number >= 0, got Infinity/);
    expect(() => parseBound('psnr:-1')).toThrow(/bound value for psnr must be a number of dB > 0, got -1/);
  });

  it('bounds at the ends of the doubles: an abs bound a stream cannot hold is refused, a relative one held to the largest it can, an infinite one lossless', () => {
    // a stream stores bounds whose double (the quantizer's bin width) is finite
    expect(() => parseBound('abs:1e308')).toThrow(/abs bound 1e\+308 is too large to store \(at most 4\.494e\+307\)/);
    expect(resolveBound(parseBound('abs:1e307'), 1).abs).toBe(1e307);
    // a bound below the smallest double would read as 0 (lossless): refused, 0 written as such still lossless
    for (const text of ['rel:1e-330', 'abs:0.0001e-400', 'nrmse:2e-324']) expect(() => parseBound(text)).toThrow(/is below the smallest positive double \(5e-324\) and would read as 0, i\.e\. lossless/);
    for (const text of ['abs:0', 'rel:0.0', 'abs:0e-400', 'rel:00']) expect(parseBound(text).value).toBe(0);
    expect(parseBound('abs:5e-324').value).toBe(5e-324);
    expect(resolveBound(parseBound('rel:1e300'), 1e8).abs).toBe(MAX_ABS_BOUND);
    expect(Number.isFinite(2 * MAX_ABS_BOUND)).toBe(true);
    // a product past the largest double is held there too (it became lossless, saying only "bound 0")
    expect(resolveBound(parseBound('rel:1e307'), 1000)).toMatchObject({ abs: MAX_ABS_BOUND, lossless: false, label: expect.stringMatching(/the largest a stream stores/) });
    // a range past the largest double (max - min overflows): no finite bound is known to hold, and the label says why
    expect(resolveBound(parseBound('rel:1e-3'), Infinity)).toMatchObject({ abs: 0, lossless: true, label: expect.stringMatching(/lossless \(bound 0, the field's range overflows a double\)/) });
  });
});

describe('validRange (the field range a relative bound scales)', () => {
  /** the definition: min and max over the finite values where the mask is 1, and their count */
  const reference = (v: ArrayLike<number>, mask?: Uint8Array) => {
    let min = Infinity, max = -Infinity, count = 0;
    for (let i = 0; i < v.length; i++) {
      if ((mask && !mask[i]) || !Number.isFinite(v[i]!)) continue;
      if (v[i]! < min) min = v[i]!;
      if (v[i]! > max) max = v[i]!;
      count++;
    }
    return count ? { min, max, count } : { min: 0, max: 0, count: 0 };
  };
  it('gives the definition\'s min, max and count with non-finite values anywhere, signed zeros, one value or none', () => {
    const cases: number[][] = [
      [], [NaN], [Infinity, -Infinity, NaN], [3], [-0, 0], [0, -0], [NaN, -Infinity, 2, 1, Infinity, 5, NaN],
      [Infinity, 1, 1, 1], [-Infinity, -2, 7, -Infinity, 7], [1, 2, 3, NaN], [5, 4, 3, 2, 1, -Infinity], [2, 2, 2],
    ];
    const r = rng(11);
    cases.push(Array.from({ length: 5000 }, () => { const u = r(); return u < 0.01 ? NaN : u < 0.02 ? Infinity : u < 0.03 ? -Infinity : (u - 0.5) * 1e6; }));
    // long fields (found in SIMD lanes, block by block): zeros of both signs at a range end, in either order, across
    // blocks and lanes; non-finite values only; an odd length whose tail holds the extremes
    const long = (n: number, at: (i: number) => number) => Array.from({ length: n }, (_, i) => at(i));
    cases.push(
      long(70001, (i) => (i === 69999 ? -0 : i === 70000 ? 0 : 1 + (i % 9))),
      long(70001, (i) => (i === 5 ? 0 : i === 66000 ? -0 : 1 + (i % 9))),
      long(140003, (i) => (i % 7 === 3 ? -0 : i % 11 === 0 ? 0 : -1 - (i % 5))),
      long(70001, (i) => (i === 1 ? -0 : i === 4 ? 0 : 1 + (i % 9))),
      long(70001, (i) => (i === 2 ? 0 : i === 4 ? -0 : -1 - (i % 5))),
      long(9000, (i) => (i % 2 ? NaN : i % 3 ? Infinity : -Infinity)),
      long(65539, (i) => (i === 65538 ? 1e30 : i === 65537 ? -1e30 : i % 4 === 1 ? NaN : Math.sin(i))),
    );
    for (const c of cases) {
      for (const v of [Float64Array.from(c), Float32Array.from(c)]) {
        const got = validRange(v);
        const want = reference(v);
        expect(got, JSON.stringify(c.slice(0, 8))).toEqual(want);
        expect(Object.is(got.min, want.min) && Object.is(got.max, want.max), `signed zeros of ${JSON.stringify(c.slice(0, 8))}`).toBe(true);
        // masked (one pass in the module from 4096 values): the same, signed zeros included
        const mask = Uint8Array.from(c, (_, i) => i % 3 === 1 ? 0 : 1);
        const masked = validRange(v, mask);
        const wantMasked = reference(v, mask);
        expect(masked).toEqual(wantMasked);
        expect(Object.is(masked.min, wantMasked.min) && Object.is(masked.max, wantMasked.max), `masked signed zeros of ${JSON.stringify(c.slice(0, 8))}`).toBe(true);
      }
    }
  });
});

describe('clampToRange (decompress --clamp: values kept inside the original valid range)', () => {
  it('moves only valid finite values past an end onto it, and no point\'s error grows', () => {
    const r = rng(5);
    const n = 4000;
    const orig = Float32Array.from({ length: n }, () => Math.fround(r() * 10)); // a non-negative field
    const { min, max } = validRange(orig);
    const bound = 0.5;
    const recon = orig.map((x) => Math.fround(x + (r() * 2 - 1) * bound));
    recon[1] = NaN;
    recon[2] = -Infinity;
    recon[3] = Infinity;
    const mask = Uint8Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : 1));
    recon[7] = -3; // masked: a fill, left as it is
    const clamped = recon.slice();
    const moved = clampToRange(clamped, mask, min, max);
    let expected = 0;
    for (let i = 0; i < n; i++) {
      const before = recon[i]!;
      const after = clamped[i]!;
      if (!mask[i] || !Number.isFinite(before)) {
        expect(Object.is(after, before), `point ${i}`).toBe(true);
        continue;
      }
      if (before < min || before > max) expected++;
      expect(after).toBeGreaterThanOrEqual(min);
      expect(after).toBeLessThanOrEqual(max);
      expect(Math.abs(after - orig[i]!)).toBeLessThanOrEqual(Math.abs(before - orig[i]!));
    }
    expect(moved).toBe(expected);
    expect(moved).toBeGreaterThan(50);
  });
});
