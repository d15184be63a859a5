/**
 * Chunks that hold one value (all-zero precipitation or ice species, a field of one fill), or under a lossy bound
 * values spanning less than twice it: the classic codec stores the value and its count instead of codes or byte planes. What a user checks: the values back (bit for bit at a
 * lossless bound), masks, NaN and fills kept, a stream of tens of bytes whatever the size, the choice named,
 * identical bytes for any worker count, and a stream edited to declare more values than its chunk holds refused.
 */
import { describe, expect, it } from 'vitest';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { compressClassic, decompressClassic } from '../../../src-main/core/compressors/classic/codec.ts';
import { decodeStream, encodeField } from '../../../src-main/services/codecs/index.ts';
import { readHeader } from '../../../src-main/core/codec/stream/format.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import type { BoundSpec } from '../../../src-main/core/codec/bound.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { editHeaderField } from '../../../src-main/services/codecs/fuzz-mutate.ts';

const sameBits = (a: Float32Array | Float64Array, b: Float32Array | Float64Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function roundTrip(f: Pick<Field, 'values' | 'shape' | 'mask'>, bound: BoundSpec, chunkValues = 1 << 16) {
  const { bytes, plan } = compressClassic(f, { bound, chunkValues }, zstdBackend);
  return { bytes, plan, d: decompressClassic(bytes) };
}

describe('constant chunks', () => {
  it('a field of one value is stored as that value, float32 and float64, at lossy and lossless bounds', () => {
    for (const [values, shape] of [
      [new Float32Array(100 ** 3), [100, 100, 100]],
      [new Float64Array(300 * 500).fill(273.15), [300, 500]],
      [new Float32Array(9216).fill(-7.5), [4, 48, 48]],
    ] as const) {
      for (const bound of [{ mode: 'rel', value: 1e-3 }, { mode: 'abs', value: 0.01 }, { mode: 'abs', value: 0 }] as BoundSpec[]) {
        const { bytes, d } = roundTrip({ values, shape: [...shape] }, bound, 1 << 21);
        expect(sameBits(d.field.values, values)).toBe(true);
        // the header (no metadata here) and a few bytes: coding 1 M zeros used to take 230
        expect(bytes.length).toBeLessThan(values instanceof Float32Array ? 80 : 90);
      }
    }
  });

  it('keeps the mask, NaN and a fill value that differs from the declared one; -0 among zeros bit for bit when lossless', () => {
    const n = 40 * 50;
    const values = new Float32Array(n);
    const mask = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i += 7) {
      mask[i] = 0;
      values[i] = i % 2 ? 1e20 : -999;
    }
    values[3] = NaN;
    values[5] = -Infinity;
    values[8] = -0;
    const f = { values, shape: [40, 50], mask, fillValue: 1e20 };
    const lossless = roundTrip(f, { mode: 'abs', value: 0 });
    expect(sameBits(lossless.d.field.values, values)).toBe(true);
    expect(Array.from(lossless.d.field.mask!)).toEqual(Array.from(mask));
    expect(lossless.bytes.length).toBeLessThan(400);
    // under a lossy bound -0 and 0 are one value: the chunk is still constant, every point exact in value
    const lossy = roundTrip(f, { mode: 'abs', value: 0.5 });
    expect(lossy.bytes.length).toBeLessThanOrEqual(lossless.bytes.length);
    for (let i = 0; i < n; i++) {
      if (mask[i] === 0) continue;
      const a = values[i]!;
      const b = lossy.d.field.values[i]!;
      expect(Number.isNaN(a) ? Number.isNaN(b) : a === b).toBe(true);
    }
  });

  it('zeros with many -0 at a lossless bound are byte planes, bit for bit', () => {
    const values = new Float32Array(4096);
    for (let i = 0; i < values.length; i += 3) values[i] = -0;
    const { d } = roundTrip({ values, shape: [64, 64] }, { mode: 'abs', value: 0 });
    expect(sameBits(d.field.values, values)).toBe(true);
  });

  it('a field with some constant chunks: those named in the choice, identical bytes for 0, 1 and 2 workers', async () => {
    const values = new Float32Array(64 * 4096);
    // the second half of the rows varies; the first half is dry (0)
    for (let i = values.length / 2; i < values.length; i++) values[i] = Math.sin(i / 300) * 3 + Math.cos(i / 17);
    const f: Field = { name: 'RAIN', values, shape: [64, 4096], dims: ['time', 'x'], sourceDtype: 'float32', units: 'mm', attributes: {} };
    const bytes: Buffer[] = [];
    for (const workers of [0, 1, 2]) {
      const r = await encodeField(f, { codec: 'auto', bound: { mode: 'rel', value: 1e-3 }, params: { chunkValues: 1 << 16 }, workers, verify: true });
      expect(r.verification!.pointsOverBound).toBe(0);
      // 4 chunks by the shape; the two dry ones are one (their rows repeat the row before: joinRepeatingChunks)
      expect(String(r.details.choice)).toMatch(/; 1 of 3 chunks constant$/);
      bytes.push(Buffer.from(r.bytes));
    }
    expect(bytes[1]!.equals(bytes[0]!) && bytes[2]!.equals(bytes[0]!)).toBe(true);
    const d = await decodeStream(bytes[0]!, { workers: 2 });
    expect(Array.from(d.field.values.subarray(0, values.length / 2)).every((v) => v === 0)).toBe(true);
    const all = await encodeField({ ...f, values: new Float32Array(values.length) }, { codec: 'auto', bound: { mode: 'rel', value: 1e-3 }, params: {}, workers: 1 });
    expect(all.details.choice).toBe('constant');
  });

  it('chunks whose values span less than twice the bound are one value within it (float32 and float64); a span of twice the bound is coded', async () => {
    for (const f64 of [false, true]) {
      // 280 K with variations of 0.0199 K, a NaN and a masked point: at abs 0.01 every chunk is one value
      const n = 64 * 4096;
      const values = f64 ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = 280 + 0.00995 * Math.sin(i / 37);
      values[777] = NaN;
      const mask = new Uint8Array(n).fill(1);
      mask[1234] = 0;
      values[1234] = -999;
      const r = await encodeField({ values, shape: [64, 4096], mask }, { codec: 'auto', bound: { mode: 'abs', value: 0.01 }, params: { chunkValues: 1 << 16 }, workers: 0 });
      expect(r.details.choice, f64 ? 'float64' : 'float32').toBe('constant');
      const d = await decodeStream(r.bytes, { workers: 0 });
      let worst = 0;
      for (let i = 0; i < n; i++) if (mask[i] && i !== 777) worst = Math.max(worst, Math.abs(values[i]! - d.field.values[i]!));
      expect(worst).toBeLessThanOrEqual(0.01);
      expect(d.field.values[777]).toBeNaN();
      expect(d.field.mask![1234]).toBe(0);
      // two values exactly twice the bound apart (0.25 is exact in binary): the bound holds however they are coded
      const pattern = Array.from({ length: 4096 }, (_, i) => (i % 3 ? 10 : 10.5));
      const two = f64 ? Float64Array.from(pattern) : Float32Array.from(pattern);
      const t = roundTrip({ values: two, shape: [64, 64] }, { mode: 'abs', value: 0.25 });
      expect(Math.max(...Array.from(two, (v, i) => Math.abs(v - t.d.field.values[i]!)))).toBeLessThanOrEqual(0.25);
    }
  });

  it('a header edited to declare more values than a constant chunk holds is refused before they are allocated', () => {
    const { bytes } = roundTrip({ values: new Float32Array(24 * 100), shape: [24, 100] }, { mode: 'rel', value: 1e-3 });
    const grown = editHeaderField(bytes, 'dim 1', 2 ** 26);
    expect(readHeader(grown).shape).toEqual([24, 2 ** 26]);
    const t0 = performance.now();
    let err: unknown;
    try {
      decompressClassic(grown);
    } catch (e) {
      err = e;
    }
    expect(performance.now() - t0).toBeLessThan(500);
    expect(err).toBeInstanceOf(FieldpackError);
    expect((err as FieldpackError).code).toBe('BAD_STREAM');
    expect((err as Error).message).toMatch(/chunk 0 holds 2400 values, its rows need 1610612736/);
  });
});

describe('coded masks reused within a thread', () => {
  it('a mask buffer refilled with another mask gets its own bytes (masks are matched by content, not by buffer)', () => {
    const shape = [6, 40, 50];
    const n = 6 * 40 * 50;
    const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 37) * 10 + (i % 11));
    const mask = new Uint8Array(n);
    for (const seed of [3, 7]) {
      for (let i = 0; i < n; i++) mask[i] = (i * seed) % 13 === 0 || (i % 200 < seed * 10) ? 0 : 1;
      const masked = mask.reduce((a, m) => a + (m ? 0 : 1), 0);
      // twice with the same content (the second a reuse), then with the next seed in the same buffer
      for (let k = 0; k < 2; k++) {
        const { bytes } = compressClassic({ values, shape, mask }, { bound: { mode: 'abs', value: 0.01 } }, zstdBackend);
        const d = decompressClassic(bytes);
        expect(Array.from(d.field.mask!)).toEqual(Array.from(mask));
        expect(d.field.mask!.reduce((a, m) => a + (m ? 0 : 1), 0)).toBe(masked);
      }
    }
  });
});
