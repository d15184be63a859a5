/**
 * Rows that repeat far apart (core/codec/repeats.ts): a day of 8 time steps repeated over 6 days cost the classic
 * codec 6 days' bits at rel 1e-2 (interpolation sees only neighbours, and the range coders' bytes never repeat), 0.93 x
 * SZ3's ratio, whose Huffman bytes zstd finds again; a 64 x 64 tile repeated over a map 0.1 x. Such chunks are now
 * also coded as their distinct rows and copies, the smaller kept; chunks without such repeats are coded as before.
 */
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src-main/services/codecs/zstd-backend.ts';
import { farRepeatedRows, rowsRepeatFarApart } from '../../../src-main/core/codec/repeats.ts';
import { closePools, decodeStream, encodeField } from '../../../src-main/services/codecs/index.ts';
import { chunkBytes, chunkPayload, readHeader, writeStream } from '../../../src-main/core/codec/stream/format.ts';
import { crc32 } from '../../../src-main/core/codec/crc32.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { overBound } from './helpers.ts';

afterAll(() => closePools());

/** A smooth diurnal map sequence with noise, `steps` x ny x nx, seeded. */
function day(steps: number, ny: number, nx: number, seed: number): Float32Array {
  let s = seed;
  const noise = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5);
  const v = new Float32Array(steps * ny * nx);
  for (let t = 0, i = 0; t < steps; t++) {
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) v[i] = 280 + 8 * Math.sin((2 * Math.PI * t) / steps + x / 17) * Math.cos(y / 11) + 0.5 * noise();
  }
  return v;
}

/** `block` repeated `times` times along the first dimension. */
function repeated(block: Float32Array, times: number): Float32Array {
  const v = new Float32Array(block.length * times);
  for (let k = 0; k < times; k++) v.set(block, k * block.length);
  return v;
}

const fieldOf = (values: Float32Array, shape: number[]): Field => ({ name: 'T', dims: ['time', 'y', 'x'], shape, values, sourceDtype: 'float32', attributes: {} });

describe('rows repeating far apart', () => {
  it('counts rows equal to an earlier row other than the one before; not a static field, constant rows, or noise', () => {
    const oneDay = day(8, 20, 30, 1);
    expect(farRepeatedRows(repeated(oneDay, 6), null, [48, 20, 30])).toBe(40);
    expect(rowsRepeatFarApart(repeated(oneDay, 6), null, [48, 20, 30])).toBe(true);
    // one map over 10 steps: each equals the one before, which prediction already codes for almost nothing
    expect(farRepeatedRows(repeated(day(1, 20, 30, 2), 10), null, [10, 20, 30])).toBe(0);
    // zero rows between rain rows repeat, but a constant row codes for almost nothing too
    const rain = day(9, 20, 30, 3);
    for (const t of [1, 3, 5, 7]) rain.fill(0, t * 600, (t + 1) * 600);
    expect(farRepeatedRows(rain, null, [9, 20, 30])).toBe(0);
    expect(farRepeatedRows(day(48, 20, 30, 4), null, [48, 20, 30])).toBe(0);
    // the same values under another mask are another row
    const mask = new Uint8Array(48 * 600).fill(1);
    for (let t = 0; t < 48; t++) mask[t * 600 + t] = 0;
    expect(farRepeatedRows(repeated(oneDay, 6), mask, [48, 20, 30])).toBe(0);
    // float64 rows, and a 2-D field's lines (a tile 16 lines high repeated down a map)
    expect(farRepeatedRows(Float64Array.from(repeated(oneDay, 6)), null, [48, 20, 30])).toBe(40);
    expect(farRepeatedRows(repeated(day(1, 16, 64, 5), 8), null, [128, 64])).toBe(112);
  });

  it('a repeated daily cycle at rel 1e-2 and 1e-3: far fewer bytes than six days of its own, within the bound, the same bytes for 0, 1 and 2 workers', async () => {
    const oneDay = day(8, 96, 128, 6);
    for (const value of [1e-2, 1e-3]) {
      const bound = { mode: 'rel' as const, value };
      // the bound of the whole field, applied to the day alone (both have the same range)
      const single = await encodeField(fieldOf(oneDay, [8, 96, 128]), { codec: 'best', bound, workers: 0 });
      const runs = await Promise.all([0, 1, 2].map((workers) => encodeField(fieldOf(repeated(oneDay, 6), [48, 96, 128]), { codec: 'best', bound, workers })));
      for (const r of runs.slice(1)) expect(Buffer.from(r.bytes).equals(Buffer.from(runs[0]!.bytes))).toBe(true);
      // six days coded as six took about 6 x one day's bytes (112,063 against 18,960 at rel 1e-2); now one day's and
      // the row sources
      expect(runs[0]!.bytes.length, `rel ${value}`).toBeLessThan(single.bytes.length + 200);
      // the default (effort fast at 0.6 M values) plans on a block that spans two days, 3-D interpolation where one
      // day alone takes 2-D: 7-14 % above the day's bytes, still a sixth of six days'
      const byDefault = await encodeField(fieldOf(repeated(oneDay, 6), [48, 96, 128]), { codec: 'auto', bound, workers: 0 });
      expect(byDefault.details.choice).toMatch(/; 1 of 1 chunks as their distinct rows$/);
      expect(byDefault.bytes.length, `rel ${value}`).toBeLessThan(1.2 * single.bytes.length);
      expect(runs[0]!.details.choice).toMatch(/; 1 of 1 chunks as their distinct rows$/);
      expect(runs[0]!.verification!.pointsOverBound).toBe(0);
      const d = await decodeStream(runs[0]!.bytes, { workers: 2 });
      expect(overBound(repeated(oneDay, 6), d.field.values, null, runs[0]!.bound.abs)).toBe(0);
    }
  });

  it('a masked repeated field (land fixed over time, NaN in one step of each day) comes back with its mask and NaNs', async () => {
    const oneDay = day(6, 40, 50, 8);
    oneDay[3 * 2000 + 77] = NaN;
    const values = repeated(oneDay, 4);
    const mask = new Uint8Array(values.length).fill(1);
    for (let t = 0; t < 24; t++) for (let k = 0; k < 300; k++) mask[t * 2000 + k * 3] = 0;
    const f = { ...fieldOf(values, [24, 40, 50]), mask };
    const r = await encodeField(f, { codec: 'auto', bound: { mode: 'rel', value: 1e-3 }, workers: 1 });
    const d = await decodeStream(r.bytes, { workers: 2 });
    expect(Array.from(d.field.mask!)).toEqual(Array.from(mask));
    expect(d.field.values.filter((v, i) => mask[i] && Number.isNaN(v)).length).toBe(4);
    expect(overBound(values, d.field.values, mask, r.bound.abs)).toBe(0);
    expect(r.bytes.length).toBeLessThan((await encodeField({ ...fieldOf(oneDay, [6, 40, 50]), mask: mask.slice(0, oneDay.length) }, { codec: 'auto', bound: { mode: 'rel', value: 1e-3 }, workers: 0 })).bytes.length + 200);
  });

  it('a map static over time steps spread over many chunks: the chunks that repeat the step before are joined, the map coded once, in memory and streamed alike', async () => {
    const map = day(1, 60, 80, 9);
    const steps = 24;
    const values = repeated(map, steps);
    // the first 4 steps vary (a spin-up), then the map stays
    values.set(day(4, 60, 80, 10), 0);
    const params = { chunkValues: 2 * 4800 };
    const bound = { mode: 'rel' as const, value: 1e-3 };
    const r = await encodeField(fieldOf(values, [steps, 60, 80]), { codec: 'auto', params, bound, workers: 2 });
    const h = readHeader(r.bytes);
    // 12 chunks of 2 steps by the shape: the first 2 (steps 0-3 vary), then the static steps (4-23) joined in chunks
    // of twice the chunk size asked for
    expect(h.chunks.map((c) => c.rows)).toEqual([2, 2, 4, 4, 4, 4, 4]);
    expect(r.verification!.pointsOverBound).toBe(0);
    const apart = await encodeField(fieldOf(repeated(map, 2), [2, 60, 80]), { codec: 'auto', bound, workers: 0 });
    // the 20 static steps cost about 5 chunks of 2 (each coded again they cost 10)
    expect(h.chunks.slice(2).reduce((a, c) => a + c.storedBytes, 0)).toBeLessThan(6 * apart.bytes.length);
    const d = await decodeStream(r.bytes, { workers: 2 });
    expect(overBound(values, d.field.values, null, r.bound.abs)).toBe(0);
  });

  it('a damaged row map is refused naming what is wrong (distinct rows, a row\'s source), as is a cut-off payload', async () => {
    const r = await encodeField(fieldOf(repeated(day(4, 12, 16, 7), 5), [20, 12, 16]), { codec: 'auto', bound: { mode: 'rel', value: 1e-3 }, workers: 0 });
    const h = readHeader(r.bytes);
    expect(h.chunks).toHaveLength(1);
    const payload = chunkPayload(h, 0, chunkBytes(h, r.bytes, 0));
    // predictor byte 253, 4 distinct rows, then each row's source: 0 0 0 0 1 2 3 4 1 2 ...
    expect([...payload.subarray(0, 10)]).toEqual([253, 4, 0, 0, 0, 0, 1, 2, 3, 4]);
    const withPayload = (p: Uint8Array) => writeStream({ ...h, chunks: [{ rows: 20, storedBytes: p.length, rawBytes: p.length, crc: crc32(p), raw: true }] }, [p]);
    const edited = (at: number, value: number) => {
      const p = payload.slice();
      p[at] = value;
      return withPayload(p);
    };
    const refusal = async (bytes: Uint8Array) => {
      const e = await decodeStream(bytes, { workers: 0 }).then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(FieldpackError);
      expect((e as FieldpackError).code).toBe('BAD_STREAM');
      return (e as Error).message;
    };
    expect(await refusal(edited(1, 20))).toMatch(/chunk 0 says 20 of its 20 rows are distinct/);
    expect(await refusal(edited(1, 0))).toMatch(/chunk 0 says 0 of its 20 rows are distinct/);
    expect(await refusal(edited(2, 1))).toMatch(/row 0 of chunk 0 comes from a distinct row that is not there/);
    expect(await refusal(edited(7, 9))).toMatch(/row 5 of chunk 0 comes from a distinct row that is not there/);
    expect(await refusal(edited(1, 5))).toMatch(/chunk 0 gives 4 of its 5 distinct rows/);
    expect(await refusal(withPayload(payload.subarray(0, 40)))).toMatch(/chunk 0's distinct rows/);
    // the payload as written decodes
    expect((await decodeStream(withPayload(payload), { workers: 0 })).field.values.length).toBe(20 * 12 * 16);
  });
});
