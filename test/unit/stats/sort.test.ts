/**
 * sortFloat64 (planning's grid search sorts its sample with it), in WebAssembly and in its reference loops, orders
 * values exactly as TypedArray sort does.
 */
import { describe, expect, it } from 'vitest';
import { sortFloat64, sortFloat64Loop } from '../../../src-main/core/stats/sort.ts';
import { sortFloat64Kernel } from '../../../src-main/core/codec/wasm-kernels.ts';
import { rng32 } from '../../../src-main/services/codecs/fuzz-corpus.ts';

function same(values: number[] | Float64Array) {
  const b = Float64Array.from(values).sort();
  expect(sortFloat64Kernel()).not.toBeNull();
  for (const sort of [sortFloat64, sortFloat64Loop]) {
    const a = Float64Array.from(values);
    const got = sort(a);
    expect(got).toBe(a); // in place
    // bit for bit, so -0 and +0 are told apart
    expect(Array.from(new Uint32Array(got.buffer))).toEqual(Array.from(new Uint32Array(b.buffer)));
  }
}

describe('sortFloat64', () => {
  const r = rng32(7);
  it('random doubles of both signs and many magnitudes', () => same(Array.from({ length: 5000 }, () => (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20))));
  it('float32 values (low mantissa bytes all zero: skipped passes) with duplicates', () => same(Array.from({ length: 9216 }, () => Math.fround(280 + Math.round(r() * 400) / 8))));
  it('signed zeros, infinities, subnormals, extremes', () =>
    same([...Array.from({ length: 100 }, (_, i) => (i % 2 ? 0 : -0)), Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1, ...Array.from({ length: 100 }, () => r() - 0.5)]));
  it('all equal, already sorted, reversed, short', () => {
    same(new Array(1000).fill(3.25));
    same(Array.from({ length: 1000 }, (_, i) => i - 500));
    same(Array.from({ length: 1000 }, (_, i) => 500 - i));
    same([3, -1, 2]);
    same([]);
  });
});
