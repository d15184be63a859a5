/**
 * A compression's verification (metrics ErrorAccumulator) compares typed arrays in the WebAssembly module
 * (wasm-kernels.ts errorSumsKernel) and anything else in its JavaScript loop: both give the same statistics, to the
 * bit (the squared errors summed in index order), whichever the dtypes, the mask, the non-finite values, the pieces.
 */
import { describe, expect, it } from 'vitest';
import { ErrorAccumulator, type ErrorStats, errorStats } from '../../../src-main/core/metrics/index.ts';
import { rng32 as rng } from '../../../src-main/services/codecs/fuzz-corpus.ts';

/** the statistics of the JavaScript loop: plain arrays never go to the module */
const reference = (orig: ArrayLike<number>, recon: ArrayLike<number>, mask: Uint8Array | null, bound: number) =>
  errorStats(Array.from(orig), Array.from(recon), mask, bound);

function expectSame(a: ErrorStats, b: ErrorStats): void {
  for (const k of Object.keys(b) as (keyof ErrorStats)[]) expect([k, a[k]]).toEqual([k, b[k]]);
}

describe('error statistics in the module and in JavaScript', () => {
  // 150 001 values: two whole blocks of the module's and a tail
  const n = 150_001;
  const r = rng(7);
  const smooth = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 300) * 40 + r() * 0.3);
  const noisy = (x: Float64Array, e: number) => Float64Array.from(x, (v) => v + (r() - 0.5) * 2 * e);
  const landMask = Uint8Array.from({ length: n }, (_, i) => (Math.floor(i / 91) % 4 === 1 ? 0 : 1));

  it.each([
    ['float32 against float32', Float32Array, Float32Array],
    ['float64 against float64', Float64Array, Float64Array],
    ['float64 against float32', Float64Array, Float32Array],
    ['float32 against float64', Float32Array, Float64Array],
  ] as const)('%s, with and without a mask, some points over the bound', (_, O, R) => {
    const orig = O.from(smooth);
    const recon = R.from(noisy(smooth, 0.0101));
    for (const mask of [null, landMask]) {
      const st = errorStats(orig, recon, mask, 0.01);
      expect(st.pointsOverBound).toBeGreaterThan(0);
      expectSame(st, reference(orig, recon, mask, 0.01));
    }
  });

  it('non-finite values: given back exactly or not, NaN errors, signed zeros at the range ends', () => {
    const orig = Float64Array.from(smooth);
    const recon = Float64Array.from(smooth);
    orig[10] = recon[10] = NaN;
    orig[70_000] = recon[70_000] = -Infinity;
    orig[5] = 0;
    orig[6] = -0;
    recon[200] = NaN; // a finite value given back as NaN: a NaN error, kept as the largest
    const exact = errorStats(orig, recon, null, 0.5);
    expect(exact.nonFiniteExact).toBe(true);
    expect(exact.maxAbsError).toBeNaN();
    expectSame(exact, reference(orig, recon, null, 0.5));
    recon[70_000] = Infinity;
    const flipped = errorStats(orig, recon, null, 0.5);
    expect(flipped.nonFiniteExact).toBe(false);
    expectSame(flipped, reference(orig, recon, null, 0.5));
    // a masked point is never looked at
    const mask = new Uint8Array(n).fill(1);
    mask[70_000] = mask[200] = 0;
    expectSame(errorStats(orig, recon, mask, 0.5), reference(orig, recon, mask, 0.5));
    expect(errorStats(orig, recon, mask, 0.5).nonFiniteExact).toBe(true);
  });

  it('errors too large or too small for plain sums of squares', () => {
    const huge = Float64Array.from(smooth, (v) => v * 1e300);
    const tiny = Float64Array.from(smooth, (v) => v * 1e-300);
    for (const [orig, e] of [[huge, 1e299], [tiny, 1e-301]] as const) {
      const recon = noisy(orig, e);
      const st = errorStats(orig, recon, null, e);
      expect(Number.isFinite(st.rmse) && st.rmse > 0).toBe(true);
      expectSame(st, reference(orig, recon, null, e));
    }
  });

  it('pieces in the module and in JavaScript add up to the whole field', () => {
    const orig = Float32Array.from(smooth);
    const recon = Float32Array.from(noisy(smooth, 0.02));
    const acc = new ErrorAccumulator(0.015);
    // slabs of 100 000 and 1 000 values (the second below the module's minimum) and the rest
    acc.add(orig.subarray(0, 100_000), recon.subarray(0, 100_000), landMask.subarray(0, 100_000));
    acc.add(orig.subarray(100_000, 101_000), recon.subarray(100_000, 101_000), landMask.subarray(100_000, 101_000));
    acc.add(orig.subarray(101_000), recon.subarray(101_000), landMask.subarray(101_000));
    expectSame(acc.stats(), reference(orig, recon, landMask, 0.015));
  });
});
