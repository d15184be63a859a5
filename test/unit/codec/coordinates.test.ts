/**
 * Coordinates in the stream metadata (core/coordinates.ts): lossless bit for bit through JSON and the
 * header's compact encoding, progressions stored as {start, step, n} only when exact, NaN / Inf / -0 explicit.
 */
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { decodeCompact, encodeCompact } from '../../../src-main/core/codec/stream/compact.ts';
import {
  type FieldCoordinates,
  coordinateFromField,
  coordinatesOfRows,
  packCoordinates,
  sliceCoordinates,
  unpackCoordinates,
} from '../../../src-main/core/coordinates.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';

/** pack -> compact encoding -> decode -> unpack, as a stream header does. */
function throughHeader(c: FieldCoordinates): { back: FieldCoordinates; bytes: number; packed: Record<string, unknown[]> } {
  const packed = packCoordinates(c)!;
  const w = new ByteWriter();
  encodeCompact({ coordinates: packed }, w);
  const b = w.finish();
  const r = new ByteReader(b, 'test');
  const m = decodeCompact(r, 'test') as { coordinates: unknown };
  expect(r.remaining()).toBe(0);
  // JSON alone (the v1 header) round-trips it too
  expect(unpackCoordinates(JSON.parse(JSON.stringify(packed)))).toEqual(unpackCoordinates(packed));
  return { back: unpackCoordinates(m.coordinates)!, bytes: b.length, packed };
}

function bits(a: ArrayLike<number>, dtype: 'float32' | 'float64'): Uint8Array {
  const t = dtype === 'float32' ? (a instanceof Float32Array ? a : Float32Array.from(a)) : a instanceof Float64Array ? a : Float64Array.from(a);
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

function expectBitExact(orig: FieldCoordinates, back: FieldCoordinates): void {
  expect(Object.keys(back)).toEqual(Object.keys(orig));
  for (const [dim, c] of Object.entries(orig)) {
    const b = back[dim]!;
    const dtype = b.dtype === 'float32' ? 'float32' : 'float64';
    expect(b.values.length, dim).toBe(c.values.length);
    expect(b.values).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
    expect(Array.from(bits(b.values, dtype)), dim).toEqual(Array.from(bits(c.values, dtype)));
    expect(b.attributes, dim).toEqual(c.attributes ?? {});
  }
}

describe('coordinates in stream metadata', () => {
  it('stores exact progressions as [dtype, attributes, start, step, n] and regenerates them bit for bit', () => {
    const lon = Float64Array.from({ length: 360 }, (_, i) => 20.5 + i);
    const lat = Float64Array.from({ length: 90 }, (_, i) => -89 + 2 * i);
    const x32 = Float32Array.from({ length: 1000 }, (_, i) => Math.fround(-3 + i * 0.25));
    const idx = Float64Array.from({ length: 50 }, (_, i) => i);
    const c: FieldCoordinates = {
      lon: { values: lon, dtype: 'float64', attributes: { units: 'degrees_east', modulo: ' ' } },
      lat: { values: lat, dtype: 'float64', attributes: { units: 'degrees_north' } },
      x: { values: x32, dtype: 'float32', attributes: {} },
      k: { values: idx, dtype: 'int32', attributes: { axis: 'Z', positive: 'down' } },
    };
    const { back, bytes, packed } = throughHeader(c);
    for (const d of ['lon', 'lat', 'x', 'k']) expect(packed[d]!.length, d).toBe(5);
    expect(packed['lon']!.slice(2)).toEqual([20.5, 1, 360]);
    expectBitExact(c, back);
    expect(back['k']!.dtype).toBe('int32');
    expect(bytes).toBeLessThan(100); // 4 coordinates, 1,500 values
  });

  it('keeps irregular values (depth levels, times that are not an exact progression, float32 steps of 0.1)', () => {
    const depth = Float64Array.of(0, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 600, 800, 1000, 1200, 1500, 2000, 3000, 4000, 5000);
    const time = Float64Array.of(366, 1096.4850000000001, 1826.97, 2557.455, 3287.94, 4018.425, 4748.91, 5479.395, 6209.88, 6940.365, 7670.85, 8401.335);
    const f32 = Float32Array.from({ length: 200 }, (_, i) => 0.1 * i); // rounded independently: no exact float32 progression
    const rnd = new Float64Array(500);
    let s = 12345;
    for (let i = 0; i < rnd.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      rnd[i] = (s / 2 ** 32 - 0.5) * 10 ** ((i % 40) - 20);
    }
    rnd[7] = 5e-324; // subnormal
    rnd[8] = Number.MAX_VALUE;
    const c: FieldCoordinates = {
      depth: { values: depth, dtype: 'float64', attributes: { units: 'METERS', positive: 'down', point_spacing: 'uneven' } },
      time: { values: time, dtype: 'float64', attributes: { units: 'hour since 0000-01-01 00:00:00' } },
      y: { values: f32, dtype: 'float32' },
      r: { values: rnd },
    };
    const { back, packed } = throughHeader(c);
    expect(packed['depth']!.length).toBe(3);
    expect(packed['time']!.length).toBe(3);
    expectBitExact(c, back);
    expect(back['r']!.dtype).toBe('float64');
  });

  it('a progression off by one ulp at one point is stored as values', () => {
    const a = Float64Array.from({ length: 100 }, (_, i) => 1 + i * 0.5);
    a[63] = a[63]! + 2 ** -46;
    const { back, packed } = throughHeader({ a: { values: a, dtype: 'float64' } });
    expect(packed['a']!.length).toBe(3);
    expect(back['a']!.values[63]).toBe(a[63]);
    expectBitExact({ a: { values: a, dtype: 'float64' } }, back);
  });

  it('NaN, +-Infinity, -0 and NaN payloads survive (float32 and float64)', () => {
    const f32 = Float32Array.of(1.5, NaN, Infinity, -Infinity, -0, 0, Math.fround(1e-40), 3.4028234663852886e38);
    new Uint32Array(f32.buffer)[7] = 0x7fa00001; // a NaN with a payload (signalling)
    const f64 = Float64Array.of(-0, NaN, 2, Infinity, -Infinity, 0.1);
    const w = new Uint32Array(f64.buffer);
    w[11] = 0xfff00000; // last value: a negative NaN with a payload, low word 0x12345
    w[10] = 0x12345;
    const c: FieldCoordinates = { a: { values: f32, dtype: 'float32' }, b: { values: f64, dtype: 'float64' }, z: { values: Float64Array.of(-0, -0, -0, -0) } };
    const { back, packed } = throughHeader(c);
    expect(packed['a']![2]).toEqual([1.5, 'NaN', 'Infinity', '-Infinity', '-0', 0, Math.fround(1e-40), 'NaN:7fa00001']);
    expect((packed['b']![2] as unknown[])[5]).toMatch(/^NaN:fff0000000012345$/);
    expect(packed['z']!.length).toBe(3); // -0 has no JSON form: not a progression
    expectBitExact(c, back);
  });

  it('widens a dtype the values do not fit to float64, never changing a value', () => {
    const c: FieldCoordinates = {
      i: { values: Float64Array.of(1, 2, NaN, 4), dtype: 'int16' },
      j: { values: Float64Array.of(0.1, 0.2, 0.7), dtype: 'float32' },
      k: { values: Float64Array.of(-5, 3, 70000), dtype: 'int16' },
      u: { values: Float32Array.of(3, 2, 1, 9), dtype: 'uint8' },
    };
    const { back } = throughHeader(c);
    expect(back['i']!.dtype).toBe('float64');
    expect(back['j']!.dtype).toBe('float64');
    expect(back['k']!.dtype).toBe('float64');
    expect(back['u']!.dtype).toBe('uint8');
    expect(Array.from(back['i']!.values)).toEqual([1, 2, NaN, 4]);
    expect(Array.from(back['j']!.values)).toEqual([0.1, 0.2, 0.7]);
    expect(Array.from(back['k']!.values)).toEqual([-5, 3, 70000]);
    expect(Array.from(back['u']!.values)).toEqual([3, 2, 1, 9]);
  });

  it('nothing to store: undefined; an empty or short coordinate is fine', () => {
    expect(packCoordinates(undefined)).toBeUndefined();
    expect(packCoordinates({})).toBeUndefined();
    expect(unpackCoordinates(undefined)).toBeUndefined();
    const c: FieldCoordinates = { e: { values: new Float64Array(0), dtype: 'float64' }, one: { values: Float64Array.of(7), dtype: 'float64' }, two: { values: Float32Array.of(1, 3), dtype: 'float32' } };
    expectBitExact(c, throughHeader(c).back);
  });

  it('rejects malformed coordinates with BAD_STREAM', () => {
    const bad = [5, [], { x: 3 }, { x: ['float64', {}] }, { x: ['float16', {}, []] }, { x: ['float64', null, []] }, { x: ['float64', {}, ['nan']] }, { x: ['float64', {}, [null]] },
      { x: ['float64', {}, 0, 1, -1] }, { x: ['float64', {}, 0, 1, 2.5] }, { x: ['float64', {}, '0', 1, 2] }, { x: ['float32', {}, ['NaN:zz']] }, { x: ['float32', {}, ['NaN:3f800000']] }];
    for (const b of bad) {
      expect(() => unpackCoordinates(b), JSON.stringify(b)).toThrow(FieldpackError);
      try {
        unpackCoordinates(b);
      } catch (e) {
        expect((e as FieldpackError).code).toBe('BAD_STREAM');
      }
    }
  });

  it('slices like the field (decoded rows, hyperslabs) and drops coordinates of the wrong length', () => {
    const c: FieldCoordinates = {
      time: { values: Float64Array.of(0, 1, 2, 3, 4), dtype: 'float64', attributes: { units: 'days since 2000-01-01' } },
      lat: { values: Float32Array.of(-1, 0, 1), dtype: 'float32' },
      bad: { values: Float64Array.of(1, 2), dtype: 'float64' },
    };
    const dims = ['time', 'lat', 'bad'];
    const shape = [5, 3, 4];
    const s = sliceCoordinates(c, dims, shape, [1, 0, 0], [2, 3, 4])!;
    expect(Array.from(s['time']!.values)).toEqual([1, 2]);
    expect(s['time']!.attributes).toEqual({ units: 'days since 2000-01-01' });
    expect(s['lat']!.values).toBe(c['lat']!.values); // whole axis: shared
    expect(s['bad']).toBeUndefined();
    const rows = coordinatesOfRows(packCoordinates(c), dims, shape, 3, 5)!;
    expect(Array.from(rows['time']!.values)).toEqual([3, 4]);
    expect(rows['lat']!.values).toBeInstanceOf(Float32Array);
    expect(sliceCoordinates({ bad: c['bad']! }, dims, shape, [0, 0, 0], shape)).toBeUndefined();
  });

  it('coordinateFromField: source dtype, or the float type of packed or masked values', () => {
    expect(coordinateFromField({ values: Float32Array.of(1, 2), sourceDtype: 'int16', attributes: { units: 'm' } }).dtype).toBe('int16');
    expect(coordinateFromField({ values: Float32Array.of(1.5, 2), sourceDtype: 'int16', attributes: { scale_factor: 0.5 } }).dtype).toBe('float32');
    expect(coordinateFromField({ values: Float64Array.of(NaN, 2), sourceDtype: 'int32', attributes: {}, mask: Uint8Array.of(0, 1) }).dtype).toBe('float64');
    expect(coordinateFromField({ values: Float64Array.of(0.5), sourceDtype: 'float64', attributes: {} }).dtype).toBe('float64');
  });
});
