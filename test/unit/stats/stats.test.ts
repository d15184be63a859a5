import { describe, expect, it } from 'vitest';
import { correlationMatrix, destagger, detectQuantization, fieldStats, histogram, matchGrid, snapNice, undeclaredFill } from '../../../src-main/core/stats/index.ts';

function f32(a: number[]) {
  return Float32Array.from(a);
}

describe('fieldStats', () => {
  it('counts only valid points (mask and NaN)', () => {
    const values = f32([1, 2, NaN, 4, 1000]);
    const mask = Uint8Array.from([1, 1, 1, 1, 0]);
    const s = fieldStats({ values, mask, sourceDtype: 'float32' });
    expect(s.count).toBe(5);
    expect(s.validCount).toBe(3);
    expect(s.fillFraction).toBeCloseTo(0.4);
    expect(s.min).toBe(1);
    expect(s.max).toBe(4);
    expect(s.mean).toBeCloseTo(7 / 3, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 3), 12);
    expect(s.distinct).toEqual({ count: 3, exact: true, cap: 131072, label: '3' });
  });

  it('float64 values near the largest doubles: a finite mean and std (their sums and squares would overflow)', () => {
    const values = Float64Array.from([1e308, -1e308, 1e308, -1e308, 0, 0]);
    const s = fieldStats({ values, sourceDtype: 'float64' });
    expect(s.mean).toBe(0);
    expect(s.std).toBeCloseTo(Math.sqrt(4 / 6) * 1e308, -296);
    const t = fieldStats({ values: Float64Array.from([1e308, 1e308, 1e308]), sourceDtype: 'float64' });
    expect(t.mean).toBeCloseTo(1e308, -296);
    expect(t.std).toBe(0);
  });

  it('caps the distinct count and says so', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => i * 0.37);
    const s = fieldStats({ values, sourceDtype: 'float64' }, { distinctCap: 100 });
    expect(s.distinct.exact).toBe(false);
    expect(s.distinct.label).toBe('> 100');
  });

  it('an all-masked field has null stats', () => {
    const s = fieldStats({ values: f32([1, 2]), mask: Uint8Array.from([0, 0]), sourceDtype: 'float32' });
    expect(s.validCount).toBe(0);
    expect(s.min).toBeNull();
    expect(s.mean).toBeNull();
    expect(s.fillFraction).toBe(1);
    expect(s.quantization.detected).toBe(false);
  });
});

describe('quantization step', () => {
  it('whole metres in float32', () => {
    const values = Float32Array.from({ length: 5000 }, (_, i) => Math.round(Math.sin(i) * 5000));
    const s = fieldStats({ values, sourceDtype: 'float32' });
    expect(s.quantization).toMatchObject({ detected: true, step: 1, source: 'values' });
  });

  it('0.01 steps stored in float32 (rounding noise tolerated)', () => {
    const values = Float32Array.from({ length: 20000 }, (_, i) => Math.round((1000 + 30 * Math.sin(i * 0.01)) * 100) / 100);
    const q = fieldStats({ values, sourceDtype: 'float32' }).quantization;
    expect(q.detected).toBe(true);
    expect(q.step).toBe(0.01);
  });

  it('packed int16: step is the scale_factor', () => {
    const values = Float32Array.from({ length: 100 }, (_, i) => i * 0.02 + 5);
    const q = fieldStats({ values, sourceDtype: 'int16', attributes: { scale_factor: 0.02, add_offset: 5 } }).quantization;
    expect(q).toMatchObject({ detected: true, step: 0.02, source: 'packing' });
    expect(q.note).toMatch(/scale_factor/);
  });

  it('gcd below the smallest difference ({0, 2, 5} -> 1)', () => {
    const vals = Float64Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? 2 * i : 2 * i + 3)).sort();
    expect(detectQuantization(vals, { float32: false })).toMatchObject({ detected: true, step: 1 });
  });

  it('continuous data: no step', () => {
    const values = Float32Array.from({ length: 20000 }, (_, i) => 1000 + 30 * Math.sin(i * 0.37) + Math.cos(i * 1.3));
    expect(fieldStats({ values, sourceDtype: 'float32' }).quantization.detected).toBe(false);
  });

  it('integer dtype without a finer grid: step 1', () => {
    const values = Float32Array.from([3, 5, 12, 4, 9]);
    expect(fieldStats({ values, sourceDtype: 'int16' }).quantization).toMatchObject({ detected: true, step: 1, source: 'integer-dtype' });
  });

  it('snaps to nice steps', () => {
    expect(snapNice(0.0099999998, 1e-6)).toBe(0.01);
    expect(snapNice(0.25000001, 1e-6)).toBe(0.25);
    expect(snapNice(0.3, 1e-6)).toBe(0.3);
  });
});

describe('histogram', () => {
  it('bins valid values', () => {
    const h = histogram(f32([0, 1, 2, 3, 4, NaN, 100]), Uint8Array.from([1, 1, 1, 1, 1, 1, 0]), { bins: 4 });
    expect(h.edges).toEqual([0, 1, 2, 3, 4]);
    expect(h.counts).toEqual([1, 1, 1, 2]);
    expect(h.validCount).toBe(5);
  });
  it('counts values outside a given range', () => {
    const h = histogram(f32([-1, 0.5, 2]), undefined, { bins: 2, range: [0, 1] });
    expect(h.counts).toEqual([0, 1]);
    expect(h.below).toBe(1);
    expect(h.above).toBe(1);
  });
});

describe('correlation', () => {
  const shape = [3, 4];
  const dims = ['y', 'x'];
  const a = { name: 'a', shape, dims, values: f32([1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 7]) };
  const b = { name: 'b', shape, dims, values: f32(Array.from(a.values, (v) => 2 * v + 1)) };
  const c = { name: 'c', shape, dims, values: f32(Array.from(a.values, (v) => -v)), mask: Uint8Array.from([1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1]) };

  it('values and differences along each axis, masks intersected', () => {
    const r = correlationMatrix([a, b, c]);
    expect(r.fields.map((f) => f.matchedBy)).toEqual(['same-grid', 'same-grid', 'same-grid']);
    expect(r.values.r[0]![1]).toBeCloseTo(1, 12);
    expect(r.values.r[0]![2]).toBeCloseTo(-1, 12);
    expect(r.values.n[0]![2]).toBe(11);
    expect(r.differences.map((d) => d.dim)).toEqual(['y', 'x']);
    // along x: differences of a are 1,1,1 / 1,1,1 / 1,1,2 -> only one row varies
    expect(r.differences[1]!.r[0]![1]).toBeCloseTo(1, 12);
    // c's masked point removes two differences along x (its own and the next) and two along y
    expect(r.differences[1]!.n[0]![2]).toBe(9 - 2);
    expect(r.differences[0]!.n[0]![2]).toBe(8 - 2);
  });

  it('destaggers a field with one more point along an axis', () => {
    const u = { name: 'u', shape: [3, 5], dims: ['y', 'x_stag'], values: f32([0, 2, 4, 6, 8, 1, 3, 5, 7, 9, 2, 4, 6, 8, 10]) };
    expect(matchGrid(u, { shape, dims }).matchedBy).toBe('destagger-average');
    const d = destagger(u, 1);
    expect(Array.from(d.values)).toEqual([1, 3, 5, 7, 2, 4, 6, 8, 3, 5, 7, 9]);
    const r = correlationMatrix([a, u, { name: 'z', shape: [2, 2], dims: ['p', 'q'], values: f32([1, 2, 3, 4]) }]);
    expect(r.grid.shape).toEqual(shape);
    expect(r.fields.map((f) => f.matchedBy)).toEqual(['same-grid', 'destagger-average', 'not-comparable']);
    expect(r.fields[1]!.destaggeredDim).toBe('x_stag');
    expect(r.values.r[0]![2]).toBeNull();
    expect(r.values.r[0]![1]).toBeGreaterThan(0.9);
  });
});

describe('undeclaredFill', () => {
  /** a smooth field of -2..30 with `fill` written on the points where `land` says */
  function sst(fill: number, landShare: number): Float32Array {
    const v = new Float32Array(10000);
    for (let i = 0; i < v.length; i++) v[i] = (i % 97) / 97 < landShare ? fill : 14 + 16 * Math.sin(i / 300);
    return v;
  }
  it('names land written as -9999 (or 1e20) in a temperature, with the others\' range', () => {
    const u = undeclaredFill(sst(-9999, 0.3));
    expect(u?.value).toBe(-9999);
    expect(u!.count).toBeGreaterThan(2500);
    expect(u!.rest[0]).toBeGreaterThanOrEqual(-2);
    expect(u!.rest[1]).toBeLessThanOrEqual(30);
    expect(undeclaredFill(sst(1e20, 0.05))?.value).toBe(Math.fround(1e20));
    // 0 K beside 271..305 K: the range 9 x the others'
    const kelvin = sst(0, 0.2).map((x) => (x === 0 ? 0 : x + 273.15));
    expect(undeclaredFill(kelvin)?.value).toBe(0);
    // land as -9999 and ice as 9999: each judged against the values between them
    const both = sst(-9999, 0.3).map((x, i) => (i % 97 === 50 ? 9999 : x));
    expect(undeclaredFill(both)).toMatchObject({ value: -9999 });
    expect(undeclaredFill(both)!.rest[1]).toBeLessThanOrEqual(30);
  });
  it('leaves values that belong to the field: land as 0 in a salinity, zeros of rain, a masked fill, a field of two values', () => {
    const salinity = sst(0, 0.3).map((x) => (x === 0 ? 0 : x + 20));
    expect(undeclaredFill(salinity)).toBeNull();
    const rain = Float32Array.from({ length: 5000 }, (_, i) => (i % 3 ? 0 : (i % 17) * 0.4));
    expect(undeclaredFill(rain)).toBeNull();
    const v = sst(-9999, 0.3);
    const mask = Uint8Array.from(v, (x) => (x === -9999 ? 0 : 1));
    expect(undeclaredFill(v, mask)).toBeNull();
    expect(undeclaredFill(Float32Array.from({ length: 100 }, (_, i) => (i % 2 ? 1 : -9999)))).toBeNull();
    // one point far out is an outlier, not a fill
    const spike = sst(5, 0);
    spike[77] = -9999;
    expect(undeclaredFill(spike)).toBeNull();
  });
});
